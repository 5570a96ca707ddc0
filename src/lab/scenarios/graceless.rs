//! `graceless`: a server with `Graceless = true` restarts; another client is granted
//! conflicting locks right away (GW005), and the holders' reclaims then fail.

use super::*;
use crate::client::nfs4::{OpenClaim, OpenHow, SHARE_ACCESS_BOTH, WRITE_LT};
use crate::client::nlm::stat::GRANTED;
use crate::client::session::{NlmClient, Owner};
use crate::client::Proto;
use crate::lab::LabError;

pub fn run(r: &mut Rec<'_>) -> Result<()> {
    r.m.description = "Graceless server (Graceless = true): NLM client 1 and a v4.0 client hold locks; SIGKILL and \
        restart; at once NLM client 2 and a new v4.1 client lock the same ranges and are granted (no grace at all: \
        the corruption case); the holders' reclaims then fail."
        .into();
    r.m.notes.push(
        "Ganesha with Graceless = true has no grace period at all, so the wire shows no grace refusal. The restart \
         shows as reset connections, a new epoch in the high 32 bits of fresh clientids, NFS4ERR_STALE_CLIENTID for \
         the v4.0 client's old clientid and refused reclaims (NLM DENIED_GRACE_PERIOD, NFS4ERR_NO_GRACE). The \
         conflicting grants come milliseconds after the restart, inside any plausible grace window; as the verdicts \
         depend on the assumed grace length their certainty is possible."
            .into(),
    );
    let mut a = GaneshaCfg::new("a", SERVER_A, GRACE, LEASE);
    a.graceless = true;
    let lab = r.lab;
    lab.in_ns(|| body(r, &a))?
}

fn body(r: &mut Rec<'_>, a: &GaneshaCfg) -> Result<()> {
    let s = a.ip;
    start_servers(r, &[a])?;
    let (ip1, ip2, ip4, ip5) = (client_ip(1), client_ip(2), client_ip(4), client_ip(5));
    r.client(format!("{ip1} NLM v4 caller_name nlmc1 (holder)"));
    r.client(format!("{ip2} NLM v4 caller_name nlmc2 (newcomer)"));
    r.client(format!("{ip4} NFSv4.0 client owner lab-v40-g (holder)"));
    r.client(format!("{ip5} NFSv4.1 client owner lab-v41-g (newcomer)"));
    let fhs = make_files(r, s, ip1, &["f1"])?;
    let l1 = nlm_lock("nlmc1", &fhs[0], 301, 0, 100, true);
    let l2 = nlm_lock("nlmc2", &fhs[0], 302, 0, 100, true);
    let mut c1 = NlmClient::connect(ip1, s, Proto::Tcp, "nlmc1")?;
    let held1 = r.nlm("nlm_lock", s, ip1, "LOCK f1 [0,100) excl", c1.lock(&l1, false)?, Some(GRANTED));

    let mut v40 = Nfs4Client::connect(ip4, s, 0, "lab-v40-g")?;
    r.setclientid(&mut v40, s, ip4, "")?;
    let (_, root) = v40.lookup_path(&["vfs"])?;
    let root = root.ok_or_else(|| LabError::Msg("lookup /vfs failed".into()))?;
    let mut oo = Owner::new(b"v40g-open-owner");
    let (d, f3) = v40.open(&root, &mut oo, OpenHow::Unchecked { mode: 0o644 }, OpenClaim::Null("f3".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", s, ip4, "OPEN f3 CLAIM_NULL create", &d, v4op::OPEN, Some(0));
    let mut f3 = f3.ok_or_else(|| LabError::Msg("open f3 failed".into()))?;
    let (d, _) = v40.lock_new(&mut f3, b"v40g-lock-owner", WRITE_LT, 0, 100, false)?;
    let held40 = d.xid;
    r.v4("v4_lock", s, ip4, "LOCK f3 [0,100) write", &d, v4op::LOCK, Some(0));

    r.lab.stop_ganesha("a", libc::SIGKILL)?;
    r.ev("server_kill", Some(s), "ganesha a killed with SIGKILL");
    r.lab.start_ganesha(a)?;
    r.ev("server_start", Some(s), "ganesha a restarted with Graceless = true: no grace period");

    // the newcomers come first
    let mut c2 = NlmClient::connect(ip2, s, Proto::Tcp, "nlmc2")?;
    let g2 = r.nlm("nlm_lock", s, ip2, "LOCK f1 [0,100) excl, no reclaim, right after restart", c2.lock(&l2, false)?, Some(GRANTED));
    let mut v41 = Nfs4Client::connect(ip5, s, 1, "lab-v41-g")?;
    r.session(&mut v41, s, ip5, "")?;
    let d = v41.reclaim_complete()?;
    r.v4("v4_reclaim_complete", s, ip5, "RECLAIM_COMPLETE (fresh client)", &d, v4op::RECLAIM_COMPLETE, Some(0));
    let mut oo41 = Owner::new(b"v41g-open-owner");
    let (d, f3n) = v41.open(&root, &mut oo41, OpenHow::NoCreate, OpenClaim::Null("f3".into()), SHARE_ACCESS_BOTH)?;
    let open41 = d.xid;
    r.v4("v4_open", s, ip5, "OPEN f3 CLAIM_NULL right after restart", &d, v4op::OPEN, Some(0));
    let mut f3n = f3n.ok_or_else(|| LabError::Msg("newcomer open f3 failed".into()))?;
    let (d, lk41) = v41.lock_new(&mut f3n, b"v41g-lock-owner", WRITE_LT, 0, 100, false)?;
    let lock41 = d.xid;
    r.v4("v4_lock", s, ip5, "LOCK f3 [0,100) write right after restart", &d, v4op::LOCK, Some(0));

    // the holders try to reclaim
    c1.reconnect()?;
    c1.state += 2;
    let o = c1.lock(&l1, true)?;
    let rec1 = r.nlm("nlm_lock_reclaim", s, ip1, "LOCK f1 [0,100) reclaim", o, None);
    if rec1.stat == GRANTED {
        r.fail("nlmc1 reclaim granted although nlmc2 holds the range".into());
    }
    v40.reconnect()?;
    let d = v40.renew()?;
    r.v4("v4_renew", s, ip4, "RENEW old clientid", &d, v4op::RENEW, Some(status::STALE_CLIENTID));
    r.setclientid(&mut v40, s, ip4, " after restart")?;
    let mut oor = Owner::new(b"v40g-open-owner");
    let (d, _) = v40.open(&f3.fh, &mut oor, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    let st = r.v4("v4_open_reclaim", s, ip4, "OPEN f3 CLAIM_PREVIOUS", &d, v4op::OPEN, None);
    if st == 0 {
        r.fail("v4.0 reclaim accepted by a graceless server".into());
    }
    let rec40 = d.xid;

    r.verdict("GW005", s, ip2, "NLM LOCK f1 [0,100) granted to nlmc2 over nlmc1's pre-restart lock", vec![g2.xid, held1.xid], "possible");
    r.verdict("GW001", s, ip2, "non-reclaim NLM LOCK granted right after the restart (grace expected)", vec![g2.xid], "possible");
    r.verdict("GW002", s, ip5, "non-reclaim OPEN f3 succeeded right after the restart", vec![open41], "possible");
    r.verdict("GW002", s, ip5, "non-reclaim LOCK f3 [0,100) succeeded right after the restart", vec![lock41], "possible");
    r.verdict("GW005", s, ip5, "v4.1 LOCK f3 [0,100) granted over the v4.0 client's pre-restart lock", vec![lock41, held40], "possible");
    // The server refuses nlmc1's reclaim with DENIED_GRACE_PERIOD: grace is over, on the
    // wire, so the loss of both holders' locks (and a grace shorter than the lease) is
    // proven, not assumed.
    r.verdict("GW006", s, ip1, "nlmc1's lock f1 [0,100) never reclaimed although nlmc1 came back", vec![held1.xid, rec1.xid], "certain");
    r.verdict("GW006", s, ip4, "v4.0 lock f3 [0,100) never reclaimed although the client came back", vec![held40, rec40], "certain");
    r.verdict("GW009", s, ip1, "no grace at all, shorter than the lease, while nlmc1 and the v4.0 client had locks to reclaim", vec![held1.xid, rec1.xid], "certain");

    r.nlm_lock(s, ip2, &l2, false);
    if let Some(l) = &lk41 {
        r.v4_lock(s, &v41, &f3n, l, false);
    }
    Ok(())
}
