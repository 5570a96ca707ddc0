//! `bogus-reclaim`: after a restart the server accepts reclaims of locks nobody held
//! before it (GW004): an NLM host that never talked to it, and an NFSv4.0 client (known
//! from its recovery records) reclaiming a range it never locked.

use super::*;
use crate::client::nfs4::{OpenClaim, OpenHow, SHARE_ACCESS_BOTH, WRITE_LT};
use crate::client::nlm::stat::{DENIED, DENIED_GRACE_PERIOD, GRANTED};
use crate::client::session::{NlmClient, Owner};
use crate::client::Proto;
use crate::lab::LabError;

pub fn run(r: &mut Rec<'_>) -> Result<()> {
    r.m.description = "Reclaims of state nobody held: NLM client nlmc1 and a v4.0 client hold locks; SIGKILL and \
        restart (same RecoveryRoot); in grace nlmc1 reclaims its lock, nlmc3 (which never talked to the server \
        before) is refused a normal LOCK and then sends the same LOCK with reclaim=true and is granted; the v4.0 \
        client reclaims its open and lock, then LOCK reclaim of a range it never held, and is granted. After grace \
        nlmc1's TEST of nlmc3's range is DENIED (the bogus lock is really held)."
        .into();
    r.m.notes.push(
        "GW004 certainty: the capture starts before the server's first start (the lab's connection attempts to \
         127.0.0.2:2049 are answered with RST until ganesha listens), so the whole previous epoch is on the wire. \
         In it nlmc3 sent nothing at all, and the v4.0 client held only f3 [0,100): the wire alone proves neither \
         held the reclaimed range before the restart. The verdicts do not depend on the grace length (both \
         reclaims came inside grace, proven by refusals around them), so both are certain."
            .into(),
    );
    r.m.notes.push(
        "Ganesha records only v4 clients in its recovery records, not their opens or locks, so any reclaim of a \
         known v4 client passes; NLM reclaims are not checked at all."
            .into(),
    );
    let a = GaneshaCfg::new("a", SERVER_A, GRACE, LEASE);
    let lab = r.lab;
    lab.in_ns(|| body(r, &a))?
}

fn body(r: &mut Rec<'_>, a: &GaneshaCfg) -> Result<()> {
    let s = a.ip;
    start_servers(r, &[a])?;
    let (ip1, ip3, ip4) = (client_ip(1), client_ip(3), client_ip(4));
    r.client(format!("{ip1} NLM v4 caller_name nlmc1 (holder)"));
    r.client(format!("{ip3} NLM v4 caller_name nlmc3 (never held anything, reclaims anyway)"));
    r.client(format!("{ip4} NFSv4.0 client owner lab-v40-b (reclaims a range it never held)"));
    let fhs = make_files(r, s, ip1, &["f1"])?;
    wait_grace(r, a, || {})?;

    // --- epoch 1
    let l1 = nlm_lock("nlmc1", &fhs[0], 401, 0, 100, true);
    let l3 = nlm_lock("nlmc3", &fhs[0], 403, 500, 100, true);
    let mut c1 = NlmClient::connect(ip1, s, Proto::Tcp, "nlmc1")?;
    r.nlm("nlm_lock", s, ip1, "LOCK f1 [0,100) excl", c1.lock(&l1, false)?, Some(GRANTED));

    let mut v40 = Nfs4Client::connect(ip4, s, 0, "lab-v40-b")?;
    r.setclientid(&mut v40, s, ip4, "")?;
    let (_, root) = v40.lookup_path(&["vfs"])?;
    let root = root.ok_or_else(|| LabError::Msg("lookup /vfs failed".into()))?;
    let mut oo = Owner::new(b"v40b-open-owner");
    let (d, f3) = v40.open(&root, &mut oo, OpenHow::Unchecked { mode: 0o644 }, OpenClaim::Null("f3".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", s, ip4, "OPEN f3 CLAIM_NULL create", &d, v4op::OPEN, Some(0));
    let mut f3 = f3.ok_or_else(|| LabError::Msg("open f3 failed".into()))?;
    let (d, _) = v40.lock_new(&mut f3, b"v40b-lock-owner", WRITE_LT, 0, 100, false)?;
    let held40 = d.xid;
    r.v4("v4_lock", s, ip4, "LOCK f3 [0,100) write", &d, v4op::LOCK, Some(0));

    // --- crash and restart
    r.lab.stop_ganesha("a", libc::SIGKILL)?;
    r.ev("server_kill", Some(s), "ganesha a killed with SIGKILL");
    r.lab.start_ganesha(a)?;
    r.ev("server_start", Some(s), "ganesha a restarted (same config and RecoveryRoot), grace begins");

    // nlmc3 is refused a normal lock, then "reclaims" it
    let mut c3 = NlmClient::connect(ip3, s, Proto::Tcp, "nlmc3")?;
    r.nlm("nlm_lock", s, ip3, "LOCK f1 [500,600) excl, no reclaim, in grace", c3.lock(&l3, false)?, Some(DENIED_GRACE_PERIOD));
    let bogus = r.nlm("nlm_lock_reclaim", s, ip3, "LOCK f1 [500,600) reclaim, never held", c3.lock(&l3, true)?, Some(GRANTED));
    c1.reconnect()?;
    c1.state += 2;
    r.nlm("nlm_lock_reclaim", s, ip1, "LOCK f1 [0,100) reclaim", c1.lock(&l1, true)?, Some(GRANTED));

    // v4.0: reclaim what it held, then a range it never held
    v40.reconnect()?;
    let d = v40.renew()?;
    r.v4("v4_renew", s, ip4, "RENEW old clientid", &d, v4op::RENEW, Some(status::STALE_CLIENTID));
    r.setclientid(&mut v40, s, ip4, " after restart")?;
    let mut oor = Owner::new(b"v40b-open-owner");
    let (d, f3r) = v40.open(&f3.fh, &mut oor, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open_reclaim", s, ip4, "OPEN f3 CLAIM_PREVIOUS", &d, v4op::OPEN, Some(0));
    let mut f3r = f3r.ok_or_else(|| LabError::Msg("reclaim open f3 failed".into()))?;
    let (d, lk) = v40.lock_new(&mut f3r, b"v40b-lock-owner", WRITE_LT, 0, 100, true)?;
    r.v4("v4_lock_reclaim", s, ip4, "LOCK f3 [0,100) reclaim", &d, v4op::LOCK, Some(0));
    let mut lk = lk.ok_or_else(|| LabError::Msg("v4.0 lock reclaim refused".into()))?;
    let d = v40.lock_existing(&f3r.fh, &mut lk, WRITE_LT, 1000, 100, true)?;
    let bogus40 = d.xid;
    let st40 = r.v4("v4_lock_reclaim", s, ip4, "LOCK f3 [1000,1100) reclaim, never held", &d, v4op::LOCK, Some(0));
    // a newcomer is still refused after the bogus reclaims: the server was in grace
    r.nlm("nlm_lock", s, ip3, "LOCK f1 [500,600) excl, no reclaim, still in grace", c3.lock(&l3, false)?, Some(DENIED_GRACE_PERIOD));

    wait_grace(r, a, || {
        let _ = v40.renew();
    })?;
    let probe = nlm_lock("nlmc1", &fhs[0], 401, 550, 10, true);
    r.nlm("nlm_test", s, ip1, "TEST f1 [550,560) excl after grace (held by nlmc3)", c1.test(&probe)?, Some(DENIED));
    let d = v40.lockt(&f3r.fh, b"v40b-probe-owner", WRITE_LT, 1050, 10)?;
    r.v4("v4_lockt", s, ip4, "LOCKT f3 [1050,1060) other owner after grace", &d, v4op::LOCKT, Some(status::DENIED));

    r.verdict(
        "GW004",
        s,
        ip3,
        "NLM LOCK f1 [500,600) reclaim granted to nlmc3, which never talked to the server before the restart \
         (the capture holds the whole previous epoch)",
        vec![bogus.xid],
        "certain",
    );
    if st40 == 0 {
        r.verdict(
            "GW004",
            s,
            ip4,
            "v4.0 LOCK f3 [1000,1100) reclaim granted; before the restart the client held only f3 [0,100)",
            vec![bogus40, held40],
            "certain",
        );
    }

    r.nlm_lock(s, ip1, &l1, true);
    r.nlm_lock(s, ip3, &l3, true);
    r.v4_lock(s, &v40, &f3r, &HeldLock { offset: 0, length: 100, ..lk.clone() }, true);
    if st40 == 0 {
        r.v4_lock(s, &v40, &f3r, &HeldLock { offset: 1000, length: 100, ..lk }, true);
    }
    Ok(())
}
