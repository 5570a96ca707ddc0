//! `clean-restart`: a correct server crashes (SIGKILL) and restarts; every client
//! reclaims during grace, newcomers are refused until grace ends.

use super::*;
use crate::client::nfs4::{OpenClaim, OpenHow, SHARE_ACCESS_BOTH, WRITE_LT};
use crate::client::nlm::stat::{DENIED, DENIED_GRACE_PERIOD, GRANTED};
use crate::client::session::{NlmClient, Owner};
use crate::client::Proto;

pub fn run(r: &mut Rec<'_>) -> Result<()> {
    r.m.description = "Correct server: 3 NLM clients, a v4.0 and a v4.1 client hold locks; SIGKILL and restart; \
        during grace non-reclaim NLM LOCK -> DENIED_GRACE_PERIOD, v4 OPEN CLAIM_NULL -> NFS4ERR_GRACE, old clientid -> \
        STALE_CLIENTID, old session -> BADSESSION, all reclaims granted; after grace reclaims refused (NLM \
        DENIED_GRACE_PERIOD, v4 NO_GRACE) and new locks granted."
        .into();
    let a = GaneshaCfg::new("a", SERVER_A, GRACE, LEASE);
    let lab = r.lab;
    lab.in_ns(|| body(r, &a))?
}

fn body(r: &mut Rec<'_>, a: &GaneshaCfg) -> Result<()> {
    let s = a.ip;
    start_servers(r, &[a])?;
    let (ip1, ip2, ip3, ip4, ip5, ip6) = (client_ip(1), client_ip(2), client_ip(3), client_ip(4), client_ip(5), client_ip(6));
    // files made over v3 while the first grace runs (namespace operations are allowed)
    let fhs = make_files(r, s, ip1, &["f1", "f2"])?;
    let (f1, f2) = (fhs[0].clone(), fhs[1].clone());
    wait_grace(r, a, || {})?;

    // --- epoch 1: locks
    let l1 = nlm_lock("nlmc1", &f1, 101, 0, 100, true);
    let l2 = nlm_lock("nlmc2", &f1, 102, 100, 100, true);
    let l3 = nlm_lock("nlmc3", &f2, 103, 0, 50, false);
    let l4 = nlm_lock("nlmc4", &f1, 104, 500, 100, true);
    for (ip, name) in [(ip1, "nlmc1"), (ip2, "nlmc2"), (ip3, "nlmc3"), (ip6, "nlmc4")] {
        r.client(format!("{ip} NLM v4 caller_name {name}"));
    }
    r.client(format!("{ip4} NFSv4.0 client owner lab-v40-a"));
    r.client(format!("{ip5} NFSv4.1 client owner lab-v41-a"));
    let mut c1 = NlmClient::connect(ip1, s, Proto::Tcp, "nlmc1")?;
    let mut c2 = NlmClient::connect(ip2, s, Proto::Tcp, "nlmc2")?;
    let mut c3 = NlmClient::connect(ip3, s, Proto::Tcp, "nlmc3")?;
    let o = c1.lock(&l1, false)?;
    r.nlm("nlm_lock", s, ip1, "LOCK f1 [0,100) excl", o, Some(GRANTED));
    let o = c2.lock(&l2, false)?;
    r.nlm("nlm_lock", s, ip2, "LOCK f1 [100,200) excl", o, Some(GRANTED));
    let o = c3.lock(&l3, false)?;
    r.nlm("nlm_lock", s, ip3, "LOCK f2 [0,50) shared", o, Some(GRANTED));
    let probe = nlm_lock("nlmc3", &f1, 103, 0, 10, true);
    let o = c3.test(&probe)?;
    r.nlm("nlm_test", s, ip3, "TEST f1 [0,10) excl (held by nlmc1)", o, Some(DENIED));

    // v4.0 client
    let mut v40 = Nfs4Client::connect(ip4, s, 0, "lab-v40-a")?;
    r.setclientid(&mut v40, s, ip4, "")?;
    let (d, root) = v40.lookup_path(&["vfs"])?;
    let root = root.ok_or_else(|| crate::lab::LabError::Msg(format!("v4.0 lookup /vfs: {}", status::name(d.res.status))))?;
    let mut oo40 = Owner::new(b"v40-open-owner-1");
    let (d, f3) = v40.open(&root, &mut oo40, OpenHow::Unchecked { mode: 0o644 }, OpenClaim::Null("f3".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", s, ip4, "OPEN f3 CLAIM_NULL create", &d, v4op::OPEN, Some(0));
    let mut f3 = f3.ok_or_else(|| crate::lab::LabError::Msg("v4.0 open f3 failed".into()))?;
    let (d, lk40) = v40.lock_new(&mut f3, b"v40-lock-owner-1", WRITE_LT, 0, 1000, false)?;
    r.v4("v4_lock", s, ip4, "LOCK f3 [0,1000) write", &d, v4op::LOCK, Some(0));
    let f3fh = f3.fh.clone();

    // v4.1 client
    let mut v41 = Nfs4Client::connect(ip5, s, 1, "lab-v41-a")?;
    r.session(&mut v41, s, ip5, "")?;
    let d = v41.reclaim_complete()?;
    r.v4("v4_reclaim_complete", s, ip5, "RECLAIM_COMPLETE (fresh client)", &d, v4op::RECLAIM_COMPLETE, Some(0));
    let mut oo41 = Owner::new(b"v41-open-owner-1");
    let (d, f4) = v41.open(&root, &mut oo41, OpenHow::Unchecked { mode: 0o644 }, OpenClaim::Null("f4".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", s, ip5, "OPEN f4 CLAIM_NULL create", &d, v4op::OPEN, Some(0));
    let mut f4 = f4.ok_or_else(|| crate::lab::LabError::Msg("v4.1 open f4 failed".into()))?;
    let (d, lk41) = v41.lock_new(&mut f4, b"v41-lock-owner-1", WRITE_LT, 0, 500, false)?;
    r.v4("v4_lock", s, ip5, "LOCK f4 [0,500) write", &d, v4op::LOCK, Some(0));
    let f4fh = f4.fh.clone();

    libnfs_traffic(r, s)?;

    // --- crash and restart
    r.lab.stop_ganesha("a", libc::SIGKILL)?;
    r.ev("server_kill", Some(s), "ganesha a killed with SIGKILL");
    r.lab.start_ganesha(a)?;
    r.ev("server_start", Some(s), "ganesha a restarted (same config and RecoveryRoot), grace begins");

    // newcomer refused during grace
    let mut c4 = NlmClient::connect(ip6, s, Proto::Tcp, "nlmc4")?;
    let o = c4.lock(&l4, false)?;
    r.nlm("nlm_lock", s, ip6, "LOCK f1 [500,600) excl, no reclaim, in grace", o, Some(DENIED_GRACE_PERIOD));

    // v4.0: stale clientid, refused CLAIM_NULL, reclaims
    v40.reconnect()?;
    let d = v40.renew()?;
    r.v4("v4_renew", s, ip4, "RENEW old clientid", &d, v4op::RENEW, Some(status::STALE_CLIENTID));
    r.setclientid(&mut v40, s, ip4, " after restart")?;
    let mut oo40b = Owner::new(b"v40-open-owner-2");
    let (d, _) = v40.open(&root, &mut oo40b, OpenHow::Unchecked { mode: 0o644 }, OpenClaim::Null("f5".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", s, ip4, "OPEN f5 CLAIM_NULL in grace", &d, v4op::OPEN, Some(status::GRACE));
    let mut oo40r = Owner::new(b"v40-open-owner-1");
    let (d, f3r) = v40.open(&f3fh, &mut oo40r, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open_reclaim", s, ip4, "OPEN f3 CLAIM_PREVIOUS", &d, v4op::OPEN, Some(0));
    let mut f3r = f3r.ok_or_else(|| crate::lab::LabError::Msg("v4.0 reclaim open f3 failed".into()))?;
    let (d, lk40r) = v40.lock_new(&mut f3r, b"v40-lock-owner-1", WRITE_LT, lk40.as_ref().map_or(0, |l| l.offset), 1000, true)?;
    r.v4("v4_lock_reclaim", s, ip4, "LOCK f3 [0,1000) reclaim", &d, v4op::LOCK, Some(0));

    // v4.1: bad session, new session, reclaims, RECLAIM_COMPLETE
    v41.reconnect()?;
    let d = v41.renew()?;
    r.v4("v4_sequence", s, ip5, "SEQUENCE old session", &d, v4op::SEQUENCE, Some(status::BADSESSION));
    r.session(&mut v41, s, ip5, " after restart")?;
    let mut oo41r = Owner::new(b"v41-open-owner-1");
    let (d, f4r) = v41.open(&f4fh, &mut oo41r, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open_reclaim", s, ip5, "OPEN f4 CLAIM_PREVIOUS", &d, v4op::OPEN, Some(0));
    let mut f4r = f4r.ok_or_else(|| crate::lab::LabError::Msg("v4.1 reclaim open f4 failed".into()))?;
    let (d, lk41r) = v41.lock_new(&mut f4r, b"v41-lock-owner-1", WRITE_LT, 0, 500, true)?;
    r.v4("v4_lock_reclaim", s, ip5, "LOCK f4 [0,500) reclaim", &d, v4op::LOCK, Some(0));
    let d = v41.reclaim_complete()?;
    r.v4("v4_reclaim_complete", s, ip5, "RECLAIM_COMPLETE", &d, v4op::RECLAIM_COMPLETE, Some(0));
    let d = v41.reclaim_complete()?;
    r.v4("v4_reclaim_complete", s, ip5, "second RECLAIM_COMPLETE", &d, v4op::RECLAIM_COMPLETE, Some(status::COMPLETE_ALREADY));

    // NLM reclaims
    for (c, l, ip, what) in [(&mut c1, &l1, ip1, "f1 [0,100)"), (&mut c2, &l2, ip2, "f1 [100,200)"), (&mut c3, &l3, ip3, "f2 [0,50)")] {
        c.reconnect()?;
        c.state += 2;
        let o = c.lock(l, true)?;
        r.nlm("nlm_lock_reclaim", s, ip, &format!("LOCK {what} reclaim"), o, Some(GRANTED));
    }

    // keep v4 leases while grace runs out
    wait_grace(r, a, || {
        let _ = v40.renew();
        let _ = v41.renew();
    })?;

    // --- after grace
    let o = c1.lock(&l1, true)?;
    r.nlm("nlm_lock_reclaim", s, ip1, "LOCK f1 [0,100) reclaim after grace", o, Some(DENIED_GRACE_PERIOD));
    let mut oo40x = Owner::new(b"v40-open-owner-3");
    let (d, _) = v40.open(&f3fh, &mut oo40x, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open_reclaim", s, ip4, "OPEN f3 CLAIM_PREVIOUS after grace", &d, v4op::OPEN, Some(status::NO_GRACE));
    let mut oo41x = Owner::new(b"v41-open-owner-3");
    let (d, _) = v41.open(&f4fh, &mut oo41x, OpenHow::NoCreate, OpenClaim::Previous(0), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open_reclaim", s, ip5, "OPEN f4 CLAIM_PREVIOUS after RECLAIM_COMPLETE and grace", &d, v4op::OPEN, Some(status::NO_GRACE));
    let o = c4.lock(&l4, false)?;
    r.nlm("nlm_lock", s, ip6, "LOCK f1 [500,600) excl after grace", o, Some(GRANTED));
    let (d, f5) = v40.open(&root, &mut oo40b, OpenHow::Unchecked { mode: 0o644 }, OpenClaim::Null("f5".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", s, ip4, "OPEN f5 CLAIM_NULL after grace", &d, v4op::OPEN, Some(0));
    let mut lk40n = None;
    let mut f5 = f5;
    if let Some(f5) = f5.as_mut() {
        let (d, l) = v40.lock_new(f5, b"v40-lock-owner-2", WRITE_LT, 0, 100, false)?;
        r.v4("v4_lock", s, ip4, "LOCK f5 [0,100) write after grace", &d, v4op::LOCK, Some(0));
        lk40n = l;
    }

    // --- locks held at the end
    r.nlm_lock(s, ip1, &l1, true);
    r.nlm_lock(s, ip2, &l2, true);
    r.nlm_lock(s, ip3, &l3, true);
    r.nlm_lock(s, ip6, &l4, false);
    if let Some(l) = &lk40r {
        r.v4_lock(s, &v40, &f3r, l, true);
    }
    if let (Some(f), Some(l)) = (&f5, &lk40n) {
        r.v4_lock(s, &v40, f, l, false);
    }
    if let Some(l) = &lk41r {
        r.v4_lock(s, &v41, &f4r, l, true);
    }
    if lk41.is_none() || lk40r.is_none() || lk41r.is_none() {
        r.fail("a v4 lock was not granted".into());
    }
    Ok(())
}
