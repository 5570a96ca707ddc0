//! `failover`: server A (127.0.0.2) holds locks and dies; server B (127.0.0.3) starts
//! with A's recovery records and every client reclaims there.

use super::*;
use super::takeover::{failover, take_locks, Holders};
use crate::client::nfs4::{OpenClaim, OpenHow, SHARE_ACCESS_BOTH, WRITE_LT};
use crate::client::nlm::stat::{DENIED_GRACE_PERIOD, GRANTED};
use crate::client::session::{NlmClient, Owner};
use crate::client::Proto;
use crate::lab::LabError;

pub fn run(r: &mut Rec<'_>) -> Result<()> {
    r.m.description = "Failover: NLM, v4.0 and v4.1 clients lock on server A (127.0.0.2); A is killed; server B \
        (127.0.0.3, same export, A's recovery records copied into its RecoveryRoot) starts; the clients move to B and \
        every reclaim is granted; a newcomer is refused during B's grace and granted after it."
        .into();
    r.m.notes.push(
        "The clients reclaim through B's own address, so the locks held through 127.0.0.2 reappear under 127.0.0.3; \
         127.0.0.2 never comes back (no new epoch there, so no GW006 for its locks)."
            .into(),
    );
    failover(r, body)
}

fn body(r: &mut Rec<'_>, a: &GaneshaCfg, b: &GaneshaCfg) -> Result<()> {
    let (sa, sb) = (a.ip, b.ip);
    let h = take_locks(r, a, "f", 201, "nlmc3")?;
    let Holders { ips: [ip1, ip2, ip3, ip4, ip5], mut c1, mut c2, l1, l2, l3, mut v40, mut v41, f3, f4, .. } = h;

    // --- A dies, B takes over with A's recovery records
    r.lab.stop_ganesha("a", libc::SIGKILL)?;
    r.ev("server_kill", Some(sa), "ganesha a killed with SIGKILL");
    r.lab.copy_recovery("a", "b")?;
    r.ev("recovery_copied", Some(sb), "RecoveryRoot of a copied into b's");
    r.server(b);
    r.lab.start_ganesha(b)?;
    r.ev("server_start", Some(sb), "failover ganesha b started, grace begins");

    let mut c3 = NlmClient::connect(ip3, sb, Proto::Tcp, "nlmc3")?;
    let o = c3.lock(&l3, false)?;
    r.nlm("nlm_lock", sb, ip3, "LOCK f1 [1000,1010) no reclaim, in grace", o, Some(DENIED_GRACE_PERIOD));
    for (c, l, ip, what, srv) in [(&mut c1, &l1, ip1, "f1 [0,100)", sb), (&mut c2, &l2, ip2, "f2 [0,EOF)", sb)] {
        *c = NlmClient::connect(ip, srv, Proto::Tcp, &l.caller_name)?;
        c.state = 3;
        let o = c.lock(l, true)?;
        r.nlm("nlm_lock_reclaim", sb, ip, &format!("LOCK {what} reclaim on B"), o, Some(GRANTED));
    }

    v40.move_to(sb)?;
    let d = v40.renew()?;
    r.v4("v4_renew", sb, ip4, "RENEW clientid from A", &d, v4op::RENEW, Some(status::STALE_CLIENTID));
    r.setclientid(&mut v40, sb, ip4, " on B")?;
    let mut oor = Owner::new(b"v40f-open-owner");
    let (d, f3r) = v40.open(&f3.fh, &mut oor, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open_reclaim", sb, ip4, "OPEN f3 CLAIM_PREVIOUS on B", &d, v4op::OPEN, Some(0));
    let mut f3r = f3r.ok_or_else(|| LabError::Msg("reclaim open f3 on B failed".into()))?;
    let (d, lk40) = v40.lock_new(&mut f3r, b"v40f-lock-owner", WRITE_LT, 0, 1000, true)?;
    r.v4("v4_lock_reclaim", sb, ip4, "LOCK f3 [0,1000) reclaim on B", &d, v4op::LOCK, Some(0));

    v41.move_to(sb)?;
    let d = v41.renew()?;
    r.v4("v4_sequence", sb, ip5, "SEQUENCE session from A", &d, v4op::SEQUENCE, Some(status::BADSESSION));
    r.session(&mut v41, sb, ip5, " on B")?;
    let mut oo41r = Owner::new(b"v41f-open-owner");
    let (d, f4r) = v41.open(&f4.fh, &mut oo41r, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open_reclaim", sb, ip5, "OPEN f4 CLAIM_PREVIOUS on B", &d, v4op::OPEN, Some(0));
    let mut f4r = f4r.ok_or_else(|| LabError::Msg("reclaim open f4 on B failed".into()))?;
    let (d, lk41) = v41.lock_new(&mut f4r, b"v41f-lock-owner", WRITE_LT, 100, 100, true)?;
    r.v4("v4_lock_reclaim", sb, ip5, "LOCK f4 [100,200) reclaim on B", &d, v4op::LOCK, Some(0));
    let d = v41.reclaim_complete()?;
    r.v4("v4_reclaim_complete", sb, ip5, "RECLAIM_COMPLETE on B", &d, v4op::RECLAIM_COMPLETE, Some(0));

    wait_grace(r, b, || {
        let _ = v40.renew();
        let _ = v41.renew();
    })?;
    let o = c3.lock(&l3, false)?;
    r.nlm("nlm_lock", sb, ip3, "LOCK f1 [1000,1010) after B's grace", o, Some(GRANTED));

    r.nlm_lock(sb, ip1, &l1, true);
    r.nlm_lock(sb, ip2, &l2, true);
    r.nlm_lock(sb, ip3, &l3, false);
    match (&lk40, &lk41) {
        (Some(l40), Some(l41)) => {
            r.v4_lock(sb, &v40, &f3r, l40, true);
            r.v4_lock(sb, &v41, &f4r, l41, true);
        }
        _ => r.fail("a v4 reclaim on B was not granted".into()),
    }
    Ok(())
}
