//! `cluster`: two servers, A (127.0.0.2) and B (127.0.0.3), export the same directory
//! at once. A crashes and restarts; while A is in grace, B grants new NLM locks (GW007),
//! one of them over a lock held through A before the restart (GW005).

use super::*;
use crate::client::nlm::stat::{DENIED_GRACE_PERIOD, GRANTED};
use crate::client::session::NlmClient;
use crate::client::Proto;

pub fn run(r: &mut Rec<'_>) -> Result<()> {
    r.m.description = "Cluster without coherent grace: ganesha A (127.0.0.2) and B (127.0.0.3) export the same \
        directory at the same time (separate RecoveryRoots). nlmc1 locks f1 [0,100) through A, nlmc2 locks f2 \
        [0,100) through B; B refuses nlmc3 the range nlmc1 holds through A (the servers share the filesystem's \
        locks). A is killed and restarted; while A refuses non-reclaim locks (grace), B grants nlmc3 a new lock on \
        f2 and then f1 [0,100), the range nlmc1 held through A; nlmc1's reclaim on A then fails."
        .into();
    r.m.notes.push(
        "Both servers use FSAL VFS on one directory, so their locks meet in the kernel: before the restart B \
         refuses the range A granted. SIGKILL drops A's kernel locks, and B, which is not in grace, hands the \
         range to a newcomer while A's grace still runs: the cluster's grace is not coherent."
            .into(),
    );
    r.m.notes.push(
        "GW007 and GW005 certainty: A's grace is proven on the wire on both sides of B's grants (nlmc4's \
         non-reclaim LOCK on A is refused with DENIED_GRACE_PERIOD before and after them), so both verdicts are \
         certain. GW005 relates locks across the two server IPs: both servers hand out the same file handle for \
         f1 (the MNT/LOOKUP replies of A and B carry identical bytes, checked by the scenario), and the audit \
         declares them one cluster. No GW006 is expected: the capture ends while A is still in grace."
            .into(),
    );
    let a = GaneshaCfg::new("a", SERVER_A, GRACE, LEASE);
    let b = GaneshaCfg::new("b", SERVER_B, GRACE, LEASE);
    r.m.audit_args = vec!["--cluster".into(), format!("{},{}", a.ip, b.ip)];
    let lab = r.lab;
    lab.in_ns(|| body(r, &a, &b))?
}

fn body(r: &mut Rec<'_>, a: &GaneshaCfg, b: &GaneshaCfg) -> Result<()> {
    let (sa, sb) = (a.ip, b.ip);
    start_servers(r, &[a, b])?;
    let (ip1, ip2, ip3, ip6) = (client_ip(1), client_ip(2), client_ip(3), client_ip(6));
    r.client(format!("{ip1} NLM v4 caller_name nlmc1 (locks through A)"));
    r.client(format!("{ip2} NLM v4 caller_name nlmc2 (locks through B)"));
    r.client(format!("{ip3} NLM v4 caller_name nlmc3 (newcomer on B)"));
    r.client(format!("{ip6} NLM v4 caller_name nlmc4 (probes A's grace)"));
    let fa = make_files(r, sa, ip1, &["f1", "f2"])?;
    let fb = make_files(r, sb, ip2, &["f1", "f2"])?;
    let same = fa == fb;
    r.ev(
        "file_handles",
        None,
        if same { "A and B hand out identical file handles for f1 and f2" } else { "A and B hand out different file handles" },
    );
    if !same {
        r.fail("A and B hand out different file handles for the same files".into());
    }
    wait_grace(r, a, || {})?;
    wait_grace(r, b, || {})?;

    // --- before the restart
    let l1 = nlm_lock("nlmc1", &fa[0], 601, 0, 100, true);
    let l2 = nlm_lock("nlmc2", &fb[1], 602, 0, 100, true);
    let l3f2 = nlm_lock("nlmc3", &fb[1], 603, 200, 100, true);
    let l3f1 = nlm_lock("nlmc3", &fb[0], 603, 0, 100, true);
    let l4 = nlm_lock("nlmc4", &fa[0], 604, 500, 10, true);
    let mut c1 = NlmClient::connect(ip1, sa, Proto::Tcp, "nlmc1")?;
    let held1 = r.nlm("nlm_lock", sa, ip1, "LOCK f1 [0,100) excl through A", c1.lock(&l1, false)?, Some(GRANTED));
    let mut c2 = NlmClient::connect(ip2, sb, Proto::Tcp, "nlmc2")?;
    r.nlm("nlm_lock", sb, ip2, "LOCK f2 [0,100) excl through B", c2.lock(&l2, false)?, Some(GRANTED));
    let mut c3 = NlmClient::connect(ip3, sb, Proto::Tcp, "nlmc3")?;
    let o = c3.lock(&l3f1, false)?;
    let st = r.nlm("nlm_lock", sb, ip3, "LOCK f1 [0,100) excl through B (held by nlmc1 through A)", o, None).stat;
    if st == GRANTED {
        r.fail("B granted a range nlmc1 holds through A: the servers do not share locks".into());
    }

    // --- A crashes and restarts; B keeps running
    r.lab.stop_ganesha("a", libc::SIGKILL)?;
    r.ev("server_kill", Some(sa), "ganesha a killed with SIGKILL (b keeps running)");
    r.lab.start_ganesha(a)?;
    r.ev("server_start", Some(sa), "ganesha a restarted (same config and RecoveryRoot), grace begins on A only");

    let mut c4 = NlmClient::connect(ip6, sa, Proto::Tcp, "nlmc4")?;
    let before = r.nlm("nlm_lock", sa, ip6, "LOCK f1 [500,510) no reclaim on A, in grace", c4.lock(&l4, false)?, Some(DENIED_GRACE_PERIOD));
    let g_f2 = r.nlm("nlm_lock", sb, ip3, "LOCK f2 [200,300) excl through B while A is in grace", c3.lock(&l3f2, false)?, Some(GRANTED));
    let g_f1 = r.nlm("nlm_lock", sb, ip3, "LOCK f1 [0,100) excl through B while A is in grace", c3.lock(&l3f1, false)?, Some(GRANTED));
    let after = r.nlm("nlm_lock", sa, ip6, "LOCK f1 [500,510) no reclaim on A, still in grace", c4.lock(&l4, false)?, Some(DENIED_GRACE_PERIOD));
    c1.reconnect()?;
    c1.state += 2;
    let rc = r.nlm("nlm_lock_reclaim", sa, ip1, "LOCK f1 [0,100) reclaim on A (nlmc3 holds it through B)", c1.lock(&l1, true)?, None);
    if rc.stat == GRANTED {
        r.fail("A granted nlmc1's reclaim although B gave the range to nlmc3".into());
    }

    let ev = vec![before.xid, after.xid];
    r.verdict(
        "GW007",
        sb,
        ip3,
        "non-reclaim NLM LOCK f2 [200,300) granted on 127.0.0.3 while cluster member 127.0.0.2 was in grace \
         (A's grace refusals before and after it)",
        [vec![g_f2.xid], ev.clone()].concat(),
        "certain",
    );
    r.verdict(
        "GW007",
        sb,
        ip3,
        "non-reclaim NLM LOCK f1 [0,100) granted on 127.0.0.3 while cluster member 127.0.0.2 was in grace \
         (A's grace refusals before and after it)",
        [vec![g_f1.xid], ev.clone()].concat(),
        "certain",
    );
    r.verdict(
        "GW005",
        sb,
        ip3,
        "NLM LOCK f1 [0,100) granted to nlmc3 on 127.0.0.3 over nlmc1's pre-restart lock taken through 127.0.0.2 \
         (same file handle), still reclaimable: A was in grace; nlmc1's reclaim is then refused",
        [vec![g_f1.xid, held1.xid], ev, vec![rc.xid]].concat(),
        "certain",
    );

    r.nlm_lock(sb, ip2, &l2, false);
    r.nlm_lock(sb, ip3, &l3f2, false);
    r.nlm_lock(sb, ip3, &l3f1, false);
    Ok(())
}
