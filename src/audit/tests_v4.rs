//! Hand-made NFSv4.1 cases no server in the lab produces (NFS-Ganesha refuses them):
//! a second RECLAIM_COMPLETE accepted (GW008), a reclaim accepted after the client's
//! RECLAIM_COMPLETE (GW003), a non-reclaim OPEN accepted before it (GW002).

use super::*;
use crate::client::nfs4::{OpenClaim, Op};
use crate::state::nfs4::testutil::*;
use crate::state::testutil::{H, SEC};

const RC: u32 = 58;
const SEQ: u32 = 53;
const LOCK: u32 = 12;
const BADSESSION: u32 = 10052;

fn n(grace_s: i64) -> N<Auditor> {
    N { h: H::over(Auditor::new(AuditConfig { grace: grace_s * SEC, ..AuditConfig::default() })) }
}

fn rc(n: &mut N<Auditor>, c: u8, s: [u8; 16]) {
    n.rpc(c, 1, vec![seq(s), Op::ReclaimComplete { one_fs: false }], Res::new().sequence(s, 0).ok(RC));
}

/// A 4.1 client with an open and a lock on F1, then a restart the client sees as
/// BADSESSION, and its new session.
fn restarted(grace_s: i64) -> N<Auditor> {
    let mut n = n(grace_s);
    n.exchange_id(1, "client-one", 0x6000_0001_0000_0001, sess(1));
    rc(&mut n, 1, sess(1));
    n.open(1, 1, sess(1), 0x6000_0001_0000_0001, b"oo1", OpenClaim::Null("f1".into()), F1, sid(1, 1, 1));
    let lock = lock_new(2, false, 0, 100, sid(1, 1, 1), 0x6000_0001_0000_0001, b"lo1");
    n.on_file(1, 1, sess(1), F1, lock, |r| r.stateid(LOCK, sid(1, 2, 1)));
    n.rpc(1, 1, vec![seq(sess(1))], Res::new().st(SEQ, BADSESSION));
    n.exchange_id(1, "client-one", 0x6000_0002_0000_0001, sess(2));
    n
}

fn ids(n: &mut N<Auditor>) -> Vec<(&'static str, Certainty)> {
    n.h.t.finish();
    let mut v: Vec<_> = n.h.t.verdicts().iter().map(|v| (v.id, v.certainty)).collect();
    v.sort();
    v
}

#[test]
fn correct_reclaim_then_complete() {
    let mut n = restarted(90);
    n.open(1, 1, sess(2), 0x6000_0002_0000_0001, b"oo1", OpenClaim::Previous(0), F1, sid(1, 3, 1));
    let lock = lock_new(2, true, 0, 100, sid(1, 3, 1), 0x6000_0002_0000_0001, b"lo1");
    n.on_file(1, 1, sess(2), F1, lock, |r| r.stateid(LOCK, sid(1, 4, 1)));
    rc(&mut n, 1, sess(2));
    assert_eq!(ids(&mut n), vec![]);
    let sa = &n.h.t.servers()[&crate::state::testutil::srv_ip(crate::state::testutil::SRV)];
    assert_eq!(sa.epochs.len(), 2, "BADSESSION for a session seen in use opens an epoch");
    assert!(sa.old.iter().all(|o| o.reclaimed.is_some()));
}

#[test]
fn second_reclaim_complete_accepted() {
    let mut n = restarted(90);
    rc(&mut n, 1, sess(2));
    rc(&mut n, 1, sess(2));
    let got = ids(&mut n);
    assert!(got.contains(&("GW008", Certainty::Certain)), "{got:?}");
}

#[test]
fn reclaim_after_the_clients_reclaim_complete() {
    let mut n = restarted(90);
    rc(&mut n, 1, sess(2));
    n.open(1, 1, sess(2), 0x6000_0002_0000_0001, b"oo1", OpenClaim::Previous(0), F1, sid(1, 3, 1));
    let got = ids(&mut n);
    assert!(got.contains(&("GW003", Certainty::Certain)), "{got:?}");
}

#[test]
fn new_open_before_the_clients_reclaim_complete() {
    // Long after grace (assumed 5 s): the OPEN is not in grace, but this 4.1 client
    // never sent RECLAIM_COMPLETE in this server instance.
    let mut n = restarted(5);
    n.h.frame += 100;
    n.open(1, 1, sess(2), 0x6000_0002_0000_0001, b"oo9", OpenClaim::Null("f2".into()), F2, sid(1, 5, 1));
    let got = ids(&mut n);
    assert!(got.contains(&("GW002", Certainty::Certain)), "{got:?}");
}
