//! The tracker driven by messages whose bodies go through the real decoders.

use super::journal::{DropReason, LockEventKind, What};
use super::testutil::*;
use super::*;
use crate::proto::{MOUNT, NFS, NLM, NSM};
use crate::rpc::AcceptStat;
use crate::xdr::Enc;

#[test]
fn lock_granted_is_held_with_its_details() {
    let mut h = H::new();
    let (c, g) = h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 100), false), &res(1, GRANTED));
    assert_eq!(h.locks(SRV), vec![("client-a".into(), ep(1, 0).ip, 42, r(0, 100), true)]);
    let s = h.t.server(srv_ip(SRV)).expect("server");
    let (fh, l) = s.nlm.locks.iter().next().expect("lock");
    assert_eq!(fh, FH);
    assert_eq!(&*l.owner.oh, b"oh@client-a");
    assert_eq!(l.meta, LockInfo { call: c, granted: g, reclaim: false, via: Via::Reply, vers: 4 });
    assert_eq!(h.answers(SRV, "LOCK", "GRANTED"), 1);
    assert_eq!(h.t.hosts().get("client-a").map(|s| (s.state, s.source)), Some((3, StateSource::NlmArgs)));
    assert!(h.t.unconfirmed().is_empty());
    assert_eq!(h.events(), vec![LockEventKind::Granted(Via::Reply)]);
}

#[test]
fn denied_and_grace_denied_locks_change_nothing_but_are_counted() {
    let mut h = H::new();
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 100), false), &res(1, GRANTED));
    h.nlm(2, B, SRV, &lock_args(2, false, true, lk(B, 50, 10), false), &res(2, DENIED));
    h.nlm(2, B, SRV, &lock_args(3, false, true, lk(B, 500, 10), true), &res(3, DENIED_GRACE));
    assert_eq!(h.ranges(SRV), vec![r(0, 100)]);
    assert_eq!(h.answers(SRV, "LOCK", "DENIED"), 1);
    assert_eq!(h.answers(SRV, "LOCK", "DENIED_GRACE_PERIOD"), 1);
    assert_eq!(h.events()[1..], [LockEventKind::Refused(nlm_stat(1)), LockEventKind::Refused(nlm_stat(4))]);
    // TEST is read-only whatever it answers.
    h.nlm(1, B, SRV, &test_args(4, true, lk(B, 0, 0)), &res(4, GRANTED));
    assert_eq!(h.ranges(SRV), vec![r(0, 100)]);
    assert_eq!(h.answers(SRV, "TEST", "GRANTED"), 1);
}

#[test]
fn unlock_of_the_middle_splits_the_lock() {
    let mut h = H::new();
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 0), false), &res(1, GRANTED));
    h.nlm(4, A, SRV, &unlock_args(2, lk(A, 10, 5)), &res(2, GRANTED));
    assert_eq!(h.ranges(SRV), vec![r(0, 10), r(15, 0)]);
    // Another owner's unlock (different svid) releases nothing.
    h.nlm(4, A, SRV, &unlock_args(3, L { svid: 7, ..lk(A, 0, 0) }), &res(3, GRANTED));
    assert_eq!(h.ranges(SRV), vec![r(0, 10), r(15, 0)]);
    // An unlock the server refuses changes nothing either.
    h.nlm(4, A, SRV, &unlock_args(4, lk(A, 0, 0)), &res(4, DENIED));
    assert_eq!(h.ranges(SRV).len(), 2);
    h.nlm(4, A, SRV, &unlock_args(5, lk(A, 0, 0)), &res(5, GRANTED));
    assert!(h.ranges(SRV).is_empty());
    let unlocked = h.events().iter().filter(|k| **k == LockEventKind::Unlocked).count();
    assert_eq!(unlocked, 3, "one piece, then the two pieces left");
}

#[test]
fn blocked_lock_becomes_held_when_the_client_accepts_the_granted_callback() {
    let mut h = H::new();
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 10), false), &res(1, GRANTED));
    h.nlm(2, B, SRV, &lock_args(2, true, true, lk(B, 0, 10), false), &res(2, BLOCKED));
    assert_eq!(h.waiters(SRV), 1);
    assert_eq!(h.locks(SRV).len(), 1);
    h.nlm(4, A, SRV, &unlock_args(3, lk(A, 0, 10)), &res(3, GRANTED));
    // The server calls client B back: GRANTED goes from the server to the client.
    let (cb, ok) = h.rpc(NLM, 4, 5, ep(SRV, 4045), ep(B.0, 4045), &test_args(7, true, lk(B, 0, 10)), &res(7, GRANTED));
    assert_eq!(h.waiters(SRV), 0);
    assert_eq!(h.locks(SRV), vec![("client-b".into(), ep(2, 0).ip, 42, r(0, 10), true)]);
    let meta = h.t.server(srv_ip(SRV)).and_then(|s| s.nlm.locks.iter().next().map(|(_, l)| l.meta)).expect("lock");
    assert_eq!((meta.call, meta.granted, meta.via), (cb, ok, Via::Callback));
    assert!(h.t.server(ep(B.0, 0).ip).is_none(), "the callback's callee is not a lock server");
}

#[test]
fn granted_callback_turned_down_or_in_client_grace() {
    let mut h = H::new();
    h.nlm(2, B, SRV, &lock_args(2, true, true, lk(B, 0, 10), false), &res(2, BLOCKED));
    // The client is in grace: the server will retry, the waiter stays.
    h.rpc(NLM, 4, 5, ep(SRV, 4045), ep(B.0, 4045), &test_args(7, true, lk(B, 0, 10)), &res(7, DENIED_GRACE));
    assert_eq!((h.waiters(SRV), h.locks(SRV).len()), (1, 0));
    // The client no longer wants it.
    h.rpc(NLM, 4, 5, ep(SRV, 4045), ep(B.0, 4045), &test_args(8, true, lk(B, 0, 10)), &res(8, DENIED));
    assert_eq!((h.waiters(SRV), h.locks(SRV).len()), (0, 0));
    assert_eq!(h.events(), vec![LockEventKind::Blocked, LockEventKind::Cancelled]);
}

#[test]
fn cancel_removes_the_waiter() {
    let mut h = H::new();
    h.nlm(2, B, SRV, &lock_args(2, true, false, lk(B, 0, 10), false), &res(2, BLOCKED));
    h.nlm(2, B, SRV, &lock_args(3, true, true, lk(B, 100, 10), false), &res(3, BLOCKED));
    // A retried blocking request replaces its waiter instead of adding one.
    h.nlm(2, B, SRV, &lock_args(4, true, false, lk(B, 0, 10), false), &res(4, BLOCKED));
    assert_eq!(h.waiters(SRV), 2);
    h.nlm(3, B, SRV, &canc_args(5, false, lk(B, 0, 10)), &res(5, GRANTED));
    assert_eq!(h.waiters(SRV), 1);
    let w = &h.t.server(srv_ip(SRV)).expect("server").nlm.waiters[0];
    assert_eq!(w.range, r(100, 10));
    // A refused cancel leaves it.
    h.nlm(3, B, SRV, &canc_args(6, true, lk(B, 100, 10)), &res(6, DENIED));
    assert_eq!(h.waiters(SRV), 1);
    // A non-blocking LOCK answered BLOCKED makes no waiter (nobody waits).
    h.nlm(2, A, SRV, &lock_args(7, false, true, lk(A, 0, 10), false), &res(7, BLOCKED));
    assert_eq!(h.waiters(SRV), 1);
    // UNLOCK of the range also cancels the owner's blocked request there.
    h.nlm(4, B, SRV, &unlock_args(8, lk(B, 0, 0)), &res(8, GRANTED));
    assert_eq!(h.waiters(SRV), 0);
}

#[test]
fn async_msg_and_res_calls() {
    let mut h = H::new();
    let (a_cli, a_cb, srv) = (ep(A.0, 800), ep(A.0, 4045), ep(SRV, 4045));
    // LOCK_MSG: no state until LOCK_RES.
    let (xid, msg) = h.call(NLM, 4, 7, a_cli, srv, &lock_args(11, false, true, lk(A, 0, 10), false));
    // Its RPC reply is void and changes nothing.
    h.reply(xid, msg, NLM, 4, 7, srv, a_cli, &[], AcceptStat::Success);
    assert!(h.locks(SRV).is_empty());
    assert_eq!(h.t.counters().replies_without_call, 0);
    assert_eq!(h.t.unconfirmed().iter().map(|p| p.proc_name).collect::<Vec<_>>(), vec!["LOCK_MSG"]);
    // A LOCK_RES with another cookie matches nothing.
    h.nlm_call_only(12, srv, a_cb, &res(99, GRANTED));
    assert_eq!(h.t.counters().res_unmatched, 1);
    let res_at = h.nlm_call_only(12, srv, a_cb, &res(11, GRANTED));
    assert_eq!(h.ranges(SRV), vec![r(0, 10)]);
    let meta = h.t.server(srv_ip(SRV)).and_then(|s| s.nlm.locks.iter().next().map(|(_, l)| l.meta)).expect("lock");
    assert_eq!((meta.call, meta.granted, meta.via), (msg, res_at, Via::AsyncRes));
    assert!(h.t.unconfirmed().is_empty());
    // TEST_MSG/TEST_RES: read-only.
    h.nlm_call_only(6, a_cli, srv, &test_args(12, true, lk(A, 0, 0)));
    h.nlm_call_only(11, srv, a_cb, &res(12, GRANTED));
    assert_eq!(h.answers(SRV, "TEST", "GRANTED"), 1);
    // UNLOCK_MSG/UNLOCK_RES.
    h.nlm_call_only(9, a_cli, srv, &unlock_args(13, lk(A, 0, 5)));
    h.nlm_call_only(14, srv, a_cb, &res(13, GRANTED));
    assert_eq!(h.ranges(SRV), vec![r(5, 5)]);
    // LOCK_MSG answered BLOCKED, then GRANTED_MSG from the server and GRANTED_RES.
    h.nlm_call_only(7, a_cli, srv, &lock_args(14, true, false, lk(A, 100, 10), false));
    h.nlm_call_only(12, srv, a_cb, &res(14, BLOCKED));
    assert_eq!(h.waiters(SRV), 1);
    h.nlm_call_only(10, srv, a_cb, &test_args(15, false, lk(A, 100, 10)));
    assert_eq!(h.waiters(SRV), 1, "held only once the client accepts");
    h.nlm_call_only(15, a_cli, srv, &res(15, GRANTED));
    assert_eq!(h.waiters(SRV), 0);
    assert_eq!(h.ranges(SRV), vec![r(5, 5), r(100, 10)]);
    // CANCEL_MSG/CANCEL_RES for a new waiter.
    h.nlm_call_only(7, a_cli, srv, &lock_args(16, true, true, lk(A, 200, 10), false));
    h.nlm_call_only(12, srv, a_cb, &res(16, BLOCKED));
    h.nlm_call_only(8, a_cli, srv, &canc_args(17, true, lk(A, 200, 10)));
    h.nlm_call_only(13, srv, a_cb, &res(17, GRANTED));
    assert_eq!(h.waiters(SRV), 0);
    assert_eq!(h.locks(SRV).len(), 2);
}

#[test]
fn shares_granted_and_unshared() {
    let mut h = H::new();
    h.nlm(20, A, SRV, &share_args(A, 3, 3, false), &share_res(GRANTED));
    h.nlm(20, B, SRV, &share_args(B, 0, 1, true), &share_res(DENIED));
    let shares = &h.t.server(srv_ip(SRV)).expect("server").nlm.shares;
    assert_eq!(shares.len(), 1);
    assert_eq!((shares[0].caller_name.as_str(), shares[0].mode, shares[0].access, shares[0].fh.as_slice()), ("client-a", 3, 3, FH2));
    h.nlm(21, A, SRV, &share_args(A, 3, 3, false), &share_res(GRANTED));
    assert!(h.t.server(srv_ip(SRV)).expect("server").nlm.shares.is_empty());
    assert_eq!(h.answers(SRV, "SHARE", "DENIED"), 1);
}

#[test]
fn free_all_drops_everything_of_that_host_only() {
    let mut h = H::new();
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 10), false), &res(1, GRANTED));
    h.nlm(2, A, SRV, &lock_args(2, false, true, L { fh: FH2, ..lk(A, 0, 10) }, false), &res(2, GRANTED));
    h.nlm(2, B, SRV, &lock_args(3, false, true, lk(B, 50, 10), false), &res(3, GRANTED));
    h.nlm(2, A, SRV, &lock_args(4, true, true, lk(A, 50, 10), false), &res(4, BLOCKED));
    h.nlm(20, A, SRV, &share_args(A, 1, 1, false), &share_res(GRANTED));
    h.nlm(2, A, SRV2, &lock_args(5, false, true, lk(A, 0, 10), false), &res(5, GRANTED));
    h.nlm(23, A, SRV, &name_state("CLIENT-A", 5), &[]);
    assert_eq!(h.locks(SRV).into_iter().map(|l| l.0).collect::<Vec<_>>(), vec!["client-b".to_string()]);
    assert_eq!(h.waiters(SRV), 0);
    assert!(h.t.server(srv_ip(SRV)).expect("server").nlm.shares.is_empty());
    assert_eq!(h.locks(SRV2).len(), 1, "FREE_ALL sent to one server IP leaves the others");
    let dropped = h.events().iter().filter(|k| **k == LockEventKind::Dropped(DropReason::FreeAll)).count();
    assert_eq!(dropped, 2);
    assert_eq!(h.answers(SRV, "FREE_ALL", "void"), 1);
}

#[test]
fn statd_callback_over_loopback_drops_the_host_on_every_server_ip() {
    let mut h = H::new();
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 10), false), &res(1, GRANTED));
    h.nlm(2, A, SRV2, &lock_args(2, false, true, lk(A, 0, 10), false), &res(2, GRANTED));
    h.nlm(2, B, SRV2, &lock_args(3, false, true, lk(B, 50, 10), false), &res(3, GRANTED));
    h.rpc(NLM, 4, 16, lo(662), lo(4045), &sm_notify16("client-a", 7), &[]);
    assert!(h.locks(SRV).is_empty());
    assert_eq!(h.locks(SRV2).len(), 1);
    assert_eq!(h.t.hosts().get("client-a").map(|s| (s.state, s.source)), Some((7, StateSource::StatdCallback)));
    // A callback naming the host by address matches the client address.
    h.rpc(NLM, 4, 16, lo(662), lo(4045), &sm_notify16("10.0.0.2", 9), &[]);
    assert!(h.locks(SRV2).is_empty());
}

#[test]
fn statd_callback_on_a_real_address_drops_only_there() {
    let mut h = H::new();
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 10), false), &res(1, GRANTED));
    h.nlm(2, A, SRV2, &lock_args(2, false, true, lk(A, 0, 10), false), &res(2, GRANTED));
    h.rpc(NLM, 4, 16, ep(SRV, 662), ep(SRV, 4045), &sm_notify16("client-a", 7), &[]);
    assert!(h.locks(SRV).is_empty());
    assert_eq!(h.locks(SRV2).len(), 1);
}

#[test]
fn sm_notify_from_a_client_drops_its_locks_on_the_notified_server() {
    let mut h = H::new();
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 10), false), &res(1, GRANTED));
    h.nlm(2, B, SRV, &lock_args(2, false, true, lk(B, 50, 10), false), &res(2, GRANTED));
    h.nlm(2, A, SRV2, &lock_args(3, false, true, lk(A, 0, 10), false), &res(3, GRANTED));
    // Client A rebooted; its statd tells the statd at the first server IP.
    let (xid, c) = h.call(NSM, 1, 6, ep(A.0, 900), ep(SRV, 662), &name_state("client-a", 5));
    assert_eq!(h.t.hosts().get("client-a").map(|s| (s.state, s.source)), Some((5, StateSource::SmNotify)));
    assert_eq!(h.locks(SRV).len(), 2, "nothing changes before the reply");
    h.reply(xid, c, NSM, 1, 6, ep(SRV, 662), ep(A.0, 900), &[], AcceptStat::Success);
    assert_eq!(h.locks(SRV).into_iter().map(|l| l.0).collect::<Vec<_>>(), vec!["client-b".to_string()]);
    assert_eq!(h.locks(SRV2).len(), 1);
    // The notifier's address counts even when mon_name is a name the locks do not use.
    h.rpc(NSM, 1, 6, ep(A.0, 900), ep(SRV2, 662), &name_state("a.example", 5), &[]);
    assert!(h.locks(SRV2).is_empty());
}

#[test]
fn unconfirmed_calls_change_nothing_and_are_listed() {
    let mut h = H::new();
    let c = h.nlm_call_only(2, ep(A.0, 800), ep(SRV, 4045), &lock_args(1, false, true, lk(A, 0, 10), false));
    h.call(NSM, 1, 6, ep(A.0, 900), ep(SRV, 662), &name_state("client-a", 5));
    assert!(h.locks(SRV).is_empty());
    let u = h.t.unconfirmed();
    assert_eq!(u.iter().map(|p| (p.proc_name, p.lock_server)).collect::<Vec<_>>(), vec![("LOCK", srv_ip(SRV)), ("SM_NOTIFY", srv_ip(SRV))]);
    assert_eq!(u[0].at, c);
    assert!(matches!(&u[0].what, Pend::Nlm(NlmReq::Lock(l)) if l.range == r(0, 10) && l.exclusive));
    assert_eq!(h.t.counters().unconfirmed, 2);
    // A retransmission keeps the first frame.
    h.call_xid(1, true, NLM, 4, 2, ep(A.0, 800), ep(SRV, 4045), &lock_args(1, false, true, lk(A, 0, 10), false));
    assert_eq!(h.t.unconfirmed()[0].at, c);
}

#[test]
fn rpc_errors_and_unknown_replies_change_nothing() {
    let mut h = H::new();
    let (xid, c) = h.call(NLM, 4, 2, ep(A.0, 800), ep(SRV, 4045), &lock_args(1, false, true, lk(A, 0, 10), false));
    h.reply(xid, c, NLM, 4, 2, ep(SRV, 4045), ep(A.0, 800), &[], AcceptStat::SystemErr);
    assert!(h.locks(SRV).is_empty());
    assert!(h.t.unconfirmed().is_empty());
    // A reply for a call never seen.
    h.reply(77, c, NLM, 4, 2, ep(SRV, 4045), ep(A.0, 800), &res(1, GRANTED), AcceptStat::Success);
    assert!(h.locks(SRV).is_empty());
    let k = h.t.counters();
    assert_eq!((k.rpc_errors, k.replies_without_call), (1, 1));
}

#[test]
fn statd_monitoring_list() {
    let mut h = H::new();
    let mon = |name: &str| {
        let mut e = Enc::new();
        e.string(name).string("server-host").u32(NLM).u32(4).u32(16).fixed(&[1; 16]);
        e.into_vec()
    };
    let stat_res = |res: u32, state: i32| {
        let mut e = Enc::new();
        e.u32(res).i32(state);
        e.into_vec()
    };
    let (lockd, statd) = (lo(700), lo(662));
    h.rpc(NSM, 1, 2, lockd, statd, &mon("client-a"), &stat_res(0, 11));
    h.rpc(NSM, 1, 2, lockd, statd, &mon("client-b"), &stat_res(0, 11));
    h.rpc(NSM, 1, 2, lockd, statd, &mon("client-c"), &stat_res(1, 11));
    let monitors = |h: &H| -> Vec<String> {
        h.t.server(lo(0).ip).map(|s| s.nsm.monitors.values().map(|m| m.mon_name.clone()).collect()).unwrap_or_default()
    };
    assert_eq!(monitors(&h), vec!["client-a", "client-b"], "STAT_FAIL monitors nothing");
    let m = h.t.server(lo(0).ip).and_then(|s| s.nsm.monitors.values().next().cloned()).expect("monitor");
    assert_eq!((m.caller, m.my.my_name.as_str(), m.my.my_prog, m.my.my_proc), (lockd, "server-host", NLM, 16));
    assert_eq!(h.t.hosts().get("127.0.0.1").map(|s| (s.state, s.source)), Some((11, StateSource::SmMonReply)));
    // SM_UNMON of one host.
    let mut e = Enc::new();
    e.string("client-a").string("server-host").u32(NLM).u32(4).u32(16);
    h.rpc(NSM, 1, 3, lockd, statd, &e.into_vec(), &13i32.to_be_bytes());
    assert_eq!(monitors(&h), vec!["client-b"]);
    // SM_UNMON_ALL for another caller id leaves it; for the right one clears it.
    let mut e = Enc::new();
    e.string("other").u32(NLM).u32(4).u32(16);
    h.rpc(NSM, 1, 4, lockd, statd, &e.into_vec(), &13i32.to_be_bytes());
    assert_eq!(monitors(&h), vec!["client-b"]);
    let mut e = Enc::new();
    e.string("server-host").u32(NLM).u32(4).u32(16);
    h.rpc(NSM, 1, 4, lockd, statd, &e.into_vec(), &13i32.to_be_bytes());
    assert!(monitors(&h).is_empty());
    // SM_STAT gives the statd's state number.
    let mut e = Enc::new();
    e.string("client-a");
    h.rpc(NSM, 1, 1, lockd, statd, &e.into_vec(), &stat_res(0, 15));
    assert_eq!(h.t.hosts().get("127.0.0.1").map(|s| (s.state, s.source)), Some((15, StateSource::SmStat)));
}

#[test]
fn until_takes_the_state_at_that_moment() {
    // Frames 1-2 lock, frames 3-4 unlock; frame n is at T0 + n s, and relative times
    // count from the first message.
    let cases = [
        (AtTime::Relative(SEC), 1, 2),
        (AtTime::Absolute(T0 + 2 * SEC), 1, 2),
        (AtTime::Relative(2 * SEC), 1, 1),
        (AtTime::Relative(3 * SEC), 0, 0),
    ];
    for (until, held, after) in cases {
        let mut h = H::with(TrackerConfig { until: Some(until), ..TrackerConfig::default() });
        h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 10), false), &res(1, GRANTED));
        h.nlm(4, A, SRV, &unlock_args(2, lk(A, 0, 10)), &res(2, GRANTED));
        assert_eq!(h.locks(SRV).len(), held, "{until:?}");
        assert_eq!(h.t.counters().after_until, after, "{until:?}");
    }
    // The unlock call before the moment, its reply after: it is unconfirmed then.
    let mut h = H::with(TrackerConfig { until: Some(AtTime::Relative(2 * SEC)), ..TrackerConfig::default() });
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 10), false), &res(1, GRANTED));
    h.nlm(4, A, SRV, &unlock_args(2, lk(A, 0, 10)), &res(2, GRANTED));
    assert_eq!(h.t.unconfirmed().iter().map(|p| p.proc_name).collect::<Vec<_>>(), vec!["UNLOCK"]);
    // Relative times count from the first message: T0 + 1 s here.
    let mut h = H::with(TrackerConfig { until: Some(AtTime::Relative(SEC)), ..TrackerConfig::default() });
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 10), false), &res(1, GRANTED));
    assert_eq!(h.t.until(), Some(T0 + 2 * SEC));
    assert_eq!(h.locks(SRV).len(), 1);
}

#[test]
fn conflicts_and_history_queries() {
    let mut h = H::new();
    h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 10), false), &res(1, GRANTED));
    h.nlm(2, B, SRV, &lock_args(2, false, false, lk(B, 20, 10), false), &res(2, GRANTED));
    let b_owner = NlmOwner { client: ep(B.0, 0).ip, caller_name: "client-b".into(), oh: b"oh@client-b".to_vec().into(), svid: 42 };
    let c = h.t.nlm_conflicts(srv_ip(SRV), FH, &b_owner, true, Range::WHOLE);
    assert_eq!(c.iter().map(|l| &*l.owner.caller_name).collect::<Vec<_>>(), vec!["client-a"]);
    assert!(h.t.nlm_conflicts(srv_ip(SRV), FH, &b_owner, false, r(10, 100)).is_empty());
    assert_eq!(h.t.nlm_held_by(srv_ip(SRV), ep(A.0, 0).ip).len(), 1);
    h.rpc(NSM, 1, 6, ep(A.0, 900), ep(SRV, 662), &name_state("client-a", 5), &[]);
    assert!(h.t.nlm_held_by(srv_ip(SRV), ep(A.0, 0).ip).is_empty());
    // The history keeps what went, and why.
    let dropped: Vec<(String, Range, LockEventKind)> = h
        .t
        .journal()
        .iter()
        .filter_map(|e| match &e.what {
            What::NlmLock(l) if matches!(l.kind, LockEventKind::Dropped(_)) => Some((l.owner.caller_name.to_string(), l.range, l.kind)),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, [("client-a".to_string(), r(0, 10), LockEventKind::Dropped(DropReason::SmNotify))]);
}

#[test]
fn names_from_mount_lookup_create_and_readdirplus() {
    let mut h = H::new();
    let (cli, nfs, mountd) = (ep(A.0, 700), ep(SRV, 2049), ep(SRV, 635));
    let mut e = Enc::new();
    e.string("/export");
    let mut m = Enc::new();
    m.u32(0).opaque(b"ROOT").u32(1).u32(1);
    h.rpc(MOUNT, 3, 1, cli, mountd, &e.into_vec(), &m.into_vec());
    let diropargs = |dir: &[u8], name: &str| {
        let mut e = Enc::new();
        e.opaque(dir).string(name);
        e.into_vec()
    };
    let lookup_ok = |fh: &[u8]| {
        let mut e = Enc::new();
        e.u32(0).opaque(fh).bool(false).bool(false);
        e.into_vec()
    };
    h.rpc(NFS, 3, 3, cli, nfs, &diropargs(b"ROOT", "dir"), &lookup_ok(b"DIR"));
    // A failed LOOKUP teaches nothing.
    let mut e = Enc::new();
    e.u32(2).bool(false);
    h.rpc(NFS, 3, 3, cli, nfs, &diropargs(b"ROOT", "nothing"), &e.into_vec());
    // MKDIR: diropargs, sattr3 (six "don't set" arms), then a CREATE-style result.
    let mut a = Enc::new();
    a.opaque(b"DIR").string("sub").u32(0).u32(0).u32(0).u32(0).u32(0).u32(0);
    let mut res = Enc::new();
    res.u32(0).bool(true).opaque(b"SUB").bool(false).bool(false).bool(false);
    h.rpc(NFS, 3, 9, cli, nfs, &a.into_vec(), &res.into_vec());
    // READDIRPLUS of SUB: one entry with a handle, "." and one without a handle.
    let mut a = Enc::new();
    a.opaque(b"SUB").u64(0).fixed(&[0; 8]).u32(4096).u32(8192);
    let mut res = Enc::new();
    res.u32(0).bool(false).fixed(&[0; 8]);
    res.bool(true).u64(1).string("file").u64(1).bool(false).bool(true).opaque(b"FILE");
    res.bool(true).u64(2).string(".").u64(2).bool(false).bool(true).opaque(b"SUB");
    res.bool(true).u64(3).string("nofh").u64(3).bool(false).bool(false);
    res.bool(false).bool(true);
    h.rpc(NFS, 3, 17, cli, nfs, &a.into_vec(), &res.into_vec());
    let n = h.t.names();
    assert_eq!(n.path(b"ROOT").as_deref(), Some("/export"));
    assert_eq!(n.path(b"DIR").as_deref(), Some("/export/dir"));
    assert_eq!(n.path(b"SUB").as_deref(), Some("/export/dir/sub"));
    assert_eq!(h.t.path(b"FILE").as_deref(), Some("/export/dir/sub/file"));
    assert_eq!(n.counters.names, 3);
    assert!(h.t.servers().is_empty(), "NFS and MOUNT traffic makes no lock server entries");
    assert!(h.t.unconfirmed().is_empty(), "name lookups are not listed as unconfirmed");
}

#[test]
fn granted_callback_from_another_server_address_lands_where_the_client_waits() {
    let mut h = H::new();
    h.nlm(2, B, SRV, &lock_args(2, true, true, lk(B, 0, 10), false), &res(2, BLOCKED));
    // The callback leaves from the server's other address.
    h.rpc(NLM, 4, 5, ep(SRV2, 4045), ep(B.0, 4045), &test_args(7, true, lk(B, 0, 10)), &res(7, GRANTED));
    assert_eq!((h.locks(SRV).len(), h.waiters(SRV)), (1, 0));
    assert!(h.locks(SRV2).is_empty());
    // Without a waiter anywhere, the caller's address is used.
    h.rpc(NLM, 4, 5, ep(SRV2, 4045), ep(B.0, 4045), &test_args(8, false, lk(B, 100, 10)), &res(8, GRANTED));
    assert_eq!(h.ranges(SRV2), vec![r(100, 10)]);
}

#[test]
fn nm_lock_and_32_bit_versions() {
    let mut h = H::new();
    h.nlm(22, B, SRV, &lock_args(5, false, false, lk(B, 200, 10), true), &res(5, GRANTED));
    assert_eq!(h.locks(SRV), vec![("client-b".into(), ep(2, 0).ip, 42, r(200, 10), false)]);
    assert_eq!(h.answers(SRV, "NM_LOCK", "GRANTED"), 1);
    // NLM v3: 32-bit offset and length.
    let mut e = Enc::new();
    e.opaque(&[1]).bool(false).bool(true).string("client-a").opaque(FH).opaque(b"oh").i32(9).u32(4096).u32(0).bool(false).i32(1);
    h.rpc(NLM, 3, 2, ep(A.0, 800), ep(SRV, 4045), &e.into_vec(), &res(1, GRANTED));
    let s = h.t.server(srv_ip(SRV)).expect("server");
    let v3 = s.nlm.locks.iter().find(|(_, l)| l.owner.svid == 9).map(|(_, l)| (l.range, l.meta.vers));
    assert_eq!(v3, Some((Range { start: 4096, end: None }, 3)));
}
