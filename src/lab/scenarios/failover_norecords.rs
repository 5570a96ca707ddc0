//! `failover-norecords`: server A (127.0.0.2) dies and server B (127.0.0.3) takes over
//! without A's recovery records: NLM reclaims are granted there, NFSv4 reclaims are
//! refused, and the v4 clients' locks are lost although the clients came back (GW006).

use super::*;
use super::takeover::{failover, take_locks, Holders};
use crate::client::nfs4::{OpenClaim, OpenHow, SHARE_ACCESS_BOTH, WRITE_LT};
use crate::client::nlm::stat::{DENIED_GRACE_PERIOD, GRANTED};
use crate::client::session::{NlmClient, Owner};
use crate::client::Proto;
use crate::lab::LabError;

pub fn run(r: &mut Rec<'_>) -> Result<()> {
    r.m.description = "Failover without recovery records: NLM, v4.0 and v4.1 clients lock on server A (127.0.0.2); \
        A is killed; server B (127.0.0.3, same export, empty RecoveryRoot) starts; on B the NLM reclaims are \
        granted but the v4 reclaims (OPEN CLAIM_PREVIOUS) are refused, so the v4 clients wait for B's grace to end \
        and open and lock afresh: their pre-failover locks were lost although they came back."
        .into();
    r.m.notes.push(
        "Ganesha answers NFS4ERR_NO_GRACE to the reclaims of a client missing from its recovery records while it \
         is still in grace: the NLM newcomer is refused with DENIED_GRACE_PERIOD after those NO_GRACE answers. \
         A NO_GRACE answer therefore proves only that this client can no longer reclaim, not that the server \
         left grace; the NLM reclaims granted after it are inside B's grace (no GW003)."
            .into(),
    );
    r.m.notes.push(
        "GW006 certainty: B's grace end is on the wire (nlmc1's repeated reclaim is refused with \
         DENIED_GRACE_PERIOD, and the newcomer refused in grace is then granted), and the v4 locks were never \
         reclaimed in the whole capture, so the loss does not depend on the assumed grace length. The fresh locks \
         the v4 clients take after grace are new locks, not reclaims."
            .into(),
    );
    failover(r, body)
}

fn body(r: &mut Rec<'_>, a: &GaneshaCfg, b: &GaneshaCfg) -> Result<()> {
    let (sa, sb) = (a.ip, b.ip);
    let h = take_locks(r, a, "n", 501, "nlmc3 (newcomer on B)")?;
    let Holders { ips: [ip1, ip2, ip3, ip4, ip5], mut c1, mut c2, l1, l2, l3, mut v40, mut v41, root, f3, f4, held40, held41 } = h;

    // --- A dies, B takes over without A's recovery records
    r.lab.stop_ganesha("a", libc::SIGKILL)?;
    r.ev("server_kill", Some(sa), "ganesha a killed with SIGKILL");
    r.server(b);
    r.lab.start_ganesha(b)?;
    r.ev("server_start", Some(sb), "failover ganesha b started with an empty RecoveryRoot, grace begins");

    // v4.0: new clientid on B, reclaim refused
    v40.move_to(sb)?;
    let d = v40.renew()?;
    r.v4("v4_renew", sb, ip4, "RENEW clientid from A", &d, v4op::RENEW, Some(status::STALE_CLIENTID));
    r.setclientid(&mut v40, sb, ip4, " on B")?;
    let mut oor = Owner::new(b"v40n-open-owner");
    let (d, _) = v40.open(&f3.fh, &mut oor, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    let rec40 = d.xid;
    let st = r.v4("v4_open_reclaim", sb, ip4, "OPEN f3 CLAIM_PREVIOUS on B (no records)", &d, v4op::OPEN, None);
    if st == 0 || !(st == status::NO_GRACE || st == status::RECLAIM_BAD) {
        r.fail(format!("v4.0 reclaim on B without records: {}", status::name(st)));
    }

    // v4.1: new session on B, reclaim refused, RECLAIM_COMPLETE
    v41.move_to(sb)?;
    let d = v41.renew()?;
    r.v4("v4_sequence", sb, ip5, "SEQUENCE session from A", &d, v4op::SEQUENCE, Some(status::BADSESSION));
    r.session(&mut v41, sb, ip5, " on B")?;
    let mut oo41r = Owner::new(b"v41n-open-owner");
    let (d, _) = v41.open(&f4.fh, &mut oo41r, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    let rec41 = d.xid;
    let st = r.v4("v4_open_reclaim", sb, ip5, "OPEN f4 CLAIM_PREVIOUS on B (no records)", &d, v4op::OPEN, None);
    if st == 0 || !(st == status::NO_GRACE || st == status::RECLAIM_BAD) {
        r.fail(format!("v4.1 reclaim on B without records: {}", status::name(st)));
    }
    let d = v41.reclaim_complete()?;
    r.v4("v4_reclaim_complete", sb, ip5, "RECLAIM_COMPLETE on B", &d, v4op::RECLAIM_COMPLETE, Some(0));

    // NLM reclaims on B are granted regardless of records
    for (c, l, ip, what) in [(&mut c1, &l1, ip1, "f1 [0,100)"), (&mut c2, &l2, ip2, "f2 [0,EOF)")] {
        *c = NlmClient::connect(ip, sb, Proto::Tcp, &l.caller_name)?;
        c.state = 3;
        let o = c.lock(l, true)?;
        r.nlm("nlm_lock_reclaim", sb, ip, &format!("LOCK {what} reclaim on B"), o, Some(GRANTED));
    }
    // B is still in grace after the NO_GRACE answers
    let mut c3 = NlmClient::connect(ip3, sb, Proto::Tcp, "nlmc3")?;
    r.nlm("nlm_lock", sb, ip3, "LOCK f1 [1000,1010) no reclaim, in B's grace", c3.lock(&l3, false)?, Some(DENIED_GRACE_PERIOD));
    let mut oo40n = Owner::new(b"v40n-open-owner-2");
    let (d, _) = v40.open(&root, &mut oo40n, OpenHow::NoCreate, OpenClaim::Null("f3".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", sb, ip4, "OPEN f3 CLAIM_NULL in B's grace", &d, v4op::OPEN, Some(status::GRACE));

    wait_grace(r, b, || {
        let _ = v40.renew();
        let _ = v41.renew();
    })?;

    // --- after B's grace: grace end on the wire, the v4 clients start afresh
    let over = r.nlm("nlm_lock_reclaim", sb, ip1, "LOCK f1 [0,100) reclaim again after B's grace", c1.lock(&l1, true)?, Some(DENIED_GRACE_PERIOD));
    r.nlm("nlm_lock", sb, ip3, "LOCK f1 [1000,1010) after B's grace", c3.lock(&l3, false)?, Some(GRANTED));
    let (d, f3n) = v40.open(&root, &mut oo40n, OpenHow::NoCreate, OpenClaim::Null("f3".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", sb, ip4, "OPEN f3 CLAIM_NULL after B's grace", &d, v4op::OPEN, Some(0));
    let mut f3n = f3n.ok_or_else(|| LabError::Msg("fresh open f3 on B failed".into()))?;
    let (d, lk40) = v40.lock_new(&mut f3n, b"v40n-lock-owner-2", WRITE_LT, 0, 1000, false)?;
    r.v4("v4_lock", sb, ip4, "LOCK f3 [0,1000) write afresh (no reclaim)", &d, v4op::LOCK, Some(0));
    let mut oo41n = Owner::new(b"v41n-open-owner-2");
    let (d, f4n) = v41.open(&root, &mut oo41n, OpenHow::NoCreate, OpenClaim::Null("f4".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", sb, ip5, "OPEN f4 CLAIM_NULL after B's grace", &d, v4op::OPEN, Some(0));
    let mut f4n = f4n.ok_or_else(|| LabError::Msg("fresh open f4 on B failed".into()))?;
    let (d, lk41) = v41.lock_new(&mut f4n, b"v41n-lock-owner-2", WRITE_LT, 100, 100, false)?;
    r.v4("v4_lock", sb, ip5, "LOCK f4 [100,200) write afresh (no reclaim)", &d, v4op::LOCK, Some(0));

    r.verdict(
        "GW006",
        sb,
        ip4,
        "v4.0 lock f3 [0,1000) held through 127.0.0.2 never reclaimed on 127.0.0.3 (OPEN CLAIM_PREVIOUS refused: B has \
         no recovery records) although the client came back; B's grace end is on the wire (nlmc1's reclaim refused)",
        vec![held40, rec40, over.xid],
        "certain",
    );
    r.verdict(
        "GW006",
        sb,
        ip5,
        "v4.1 lock f4 [100,200) held through 127.0.0.2 never reclaimed on 127.0.0.3 (OPEN CLAIM_PREVIOUS refused: B has \
         no recovery records) although the client came back; B's grace end is on the wire (nlmc1's reclaim refused)",
        vec![held41, rec41, over.xid],
        "certain",
    );

    r.nlm_lock(sb, ip1, &l1, true);
    r.nlm_lock(sb, ip2, &l2, true);
    r.nlm_lock(sb, ip3, &l3, false);
    match (&lk40, &lk41) {
        (Some(l40), Some(l41)) => {
            r.v4_lock(sb, &v40, &f3n, l40, false);
            r.v4_lock(sb, &v41, &f4n, l41, false);
        }
        _ => r.fail("a fresh v4 lock on B was not granted".into()),
    }
    Ok(())
}
