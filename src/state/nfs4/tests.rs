//! NFSv4 state from COMPOUNDs built with the client's encoders and decoded by the real
//! decoders: clients, opens, locks, and a failing operation stopping the rest.

use super::testutil::*;
use super::*;
use crate::client::nfs4::{Op, OpenClaim, StateId};
use crate::state::journal::{Nfs4Drop, Nfs4EventKind, What};
use crate::state::testutil::{srv_ip, SRV};
use crate::state::TrackerConfig;

/// Client ids of boot epoch 0x11.
pub(super) const CA: u64 = 0x0000_0011_0000_0001;
pub(super) const CB: u64 = 0x0000_0011_0000_0002;
pub(super) const NOSESS: [u8; 16] = [0; 16];

pub(super) fn r(start: u64, end: Option<u64>) -> Range {
    Range { start, end }
}

/// (owner bytes, range, exclusive, stale) of every lock.
pub(super) fn locks(n: &N) -> Vec<(Vec<u8>, Range, bool, bool)> {
    n.st().locks.iter().map(|(_, h)| (h.owner.owner.to_vec(), h.range, h.exclusive, h.meta.stale_since.is_some())).collect()
}

pub(super) fn nfs4_events(n: &N) -> Vec<(&'static str, Nfs4EventKind)> {
    n.h.t
        .journal()
        .iter()
        .filter_map(|e| match &e.what {
            What::Nfs4Lock(l) => Some(("lock", l.kind)),
            What::Nfs4Open(o) => Some(("open", o.kind)),
            What::Nfs4Deleg(d) => Some(("deleg", d.kind)),
            _ => None,
        })
        .collect()
}

/// A v4.0 client `c` with owner `owner` and client id `cid` that opened F1 (open
/// stateid `0xa`/`c`, confirmed to seqid 2) and locked [0, 100) for writing with lock
/// owner "lo-1" (lock stateid `0xb`/`c`).
pub(super) fn v40_lock(n: &mut N, c: u8, owner: &str, cid: u64) -> (FrameRef, FrameRef) {
    n.setclientid(c, owner, cid);
    n.open(c, 0, NOSESS, cid, b"oo-1", OpenClaim::Null("f1".into()), F1, sid(1, 0xa, c));
    n.on_file(c, 0, NOSESS, F1, Op::OpenConfirm { stateid: sid(1, 0xa, c), seqid: 2 }, |r| r.stateid(20, sid(2, 0xa, c)));
    n.on_file(c, 0, NOSESS, F1, lock_new(2, false, 0, 100, sid(2, 0xa, c), cid, b"lo-1"), |r| r.stateid(12, sid(1, 0xb, c)))
}

#[test]
fn open_confirm_and_lock_with_a_new_lock_owner() {
    let mut n = N::new();
    n.setclientid(1, "client-one", CA);
    n.rpc(1, 0, vec![Op::PutRootFh, Op::Lookup("export".into()), Op::GetFh], Res::new().ok(24).ok(15).getfh(DIR));
    let (oc, og) = n.open(1, 0, NOSESS, CA, b"oo-1", OpenClaim::Null("f1".into()), F1, sid(1, 0xa, 1));
    let o = n.st().opens.values().next().expect("open").clone();
    assert_eq!((o.stateid.seqid, o.unconfirmed, o.fh.as_deref(), o.path.as_deref()), (1, true, Some(F1), Some("/export/f1")));
    assert_eq!((o.clientid, &o.open_owner[..], o.claim, o.reclaim, o.share_access, o.call, o.granted), (CA, &b"oo-1"[..], 0, false, 3, oc, og));
    n.on_file(1, 0, NOSESS, F1, Op::OpenConfirm { stateid: sid(1, 0xa, 1), seqid: 2 }, |r| r.stateid(20, sid(2, 0xa, 1)));
    let o = n.st().opens.values().next().expect("open");
    assert_eq!((o.stateid.seqid, o.unconfirmed), (2, false));

    let (lc, lg) = n.on_file(1, 0, NOSESS, F1, lock_new(2, false, 0, 100, sid(2, 0xa, 1), CA, b"lo-1"), |r| r.stateid(12, sid(1, 0xb, 1)));
    let (fh, h) = n.st().locks.iter().next().expect("lock");
    assert_eq!(fh, F1);
    assert_eq!(h.owner, Nfs4LockOwner { clientid: CA, owner: b"lo-1".to_vec().into() });
    assert_eq!((h.range, h.exclusive), (r(0, Some(100)), true));
    assert_eq!(h.meta, Nfs4LockInfo { stateid: sid(1, 0xb, 1).other, call: lc, granted: lg, reclaim: false, locktype: 2, minor: 0, stale_since: None });
    let v = n.st().held().next().expect("view");
    assert_eq!(v.stateid.map(|s| s.hex()), Some(sid(1, 0xb, 1).hex()));
    assert_eq!(v.open_stateid.map(|s| s.hex()), Some(sid(2, 0xa, 1).hex()), "the open stateid as confirmed");
    assert_eq!(v.client.map(Nfs4Client::owner_text).as_deref(), Some("client-one"));

    let c = n.st().client(CA).expect("client");
    assert!(c.confirmed.is_some() && !c.inferred && !c.is_stale());
    assert_eq!((c.minor, c.cb_program, c.addr), (0, Some(0x4000_0000), N::client(1).ip));
    assert_eq!(c.principal, Some(Principal { machine: "host1".into(), uid: 1000 }));
    assert_eq!(c.verifier, vec![1; 8]);
    assert_eq!(c.renewals, 4, "SETCLIENTID_CONFIRM, OPEN, OPEN_CONFIRM, LOCK");
    assert_eq!(c.last_renewal, lg);
    assert_eq!(n.h.t.path(F1).as_deref(), Some("/export/f1"), "GETFH after OPEN names the file");
    assert_eq!(n.h.t.path(DIR).as_deref(), Some("/export"));
    assert_eq!(nfs4_events(&n), vec![("open", Nfs4EventKind::Granted), ("lock", Nfs4EventKind::Granted)]);
    assert_eq!(n.st().answer_names().get("LOCK", "NFS4_OK"), 1);
    assert_eq!(n.st().answer_names().get("PUTFH", "NFS4_OK"), 0, "file handle operations are not counted");
    assert!(n.st().evidence.is_empty() && !n.st().has_old_epoch());
}

#[test]
fn lock_by_an_existing_owner_and_unlock_splitting_the_range() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "one", CA);
    n.on_file(1, 0, NOSESS, F1, lock_existing(1, 200, 50, sid(1, 0xb, 1)), |r| r.stateid(12, sid(2, 0xb, 1)));
    assert_eq!(locks(&n), vec![(b"lo-1".to_vec(), r(0, Some(100)), true, false), (b"lo-1".to_vec(), r(200, Some(250)), false, false)]);
    assert_eq!(n.st().lock_stateids.get(&sid(1, 0xb, 1).other).map(|l| l.stateid.seqid), Some(2));
    n.on_file(1, 0, NOSESS, F1, locku(20, 10, sid(2, 0xb, 1)), |r| r.stateid(14, sid(3, 0xb, 1)));
    let ranges: Vec<Range> = locks(&n).into_iter().map(|l| l.1).collect();
    assert_eq!(ranges, vec![r(0, Some(20)), r(30, Some(100)), r(200, Some(250))]);
    let last = n.h.t.journal().iter().last().map(|e| e.what.clone());
    assert!(matches!(&last, Some(What::Nfs4Lock(l)) if l.kind == Nfs4EventKind::Released && l.range == r(20, Some(30))), "{last:?}");
    // Length all ones unlocks to the end of the file.
    n.on_file(1, 0, NOSESS, F1, locku(25, u64::MAX, sid(3, 0xb, 1)), |r| r.stateid(14, sid(4, 0xb, 1)));
    assert_eq!(locks(&n).into_iter().map(|l| l.1).collect::<Vec<_>>(), vec![r(0, Some(20))]);
    assert_eq!(n.st().held().next().and_then(|h| h.stateid).map(|s| s.seqid), Some(4));
}

#[test]
fn close_releases_the_open_and_its_idle_lock_stateids() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "one", CA);
    n.on_file(1, 0, NOSESS, F1, locku(0, 100, sid(1, 0xb, 1)), |r| r.stateid(14, sid(2, 0xb, 1)));
    assert!(n.st().locks.is_empty());
    assert_eq!(n.st().lock_stateids.len(), 1, "the lock stateid outlives its last lock");
    n.on_file(1, 0, NOSESS, F1, Op::Close { seqid: 3, stateid: sid(2, 0xa, 1) }, |r| r.stateid(4, sid(3, 0xa, 1)));
    assert!(n.st().opens.is_empty() && n.st().lock_stateids.is_empty());
    assert_eq!(nfs4_events(&n).last(), Some(&("open", Nfs4EventKind::Released)));
    // Closing what is not known changes nothing and is counted.
    n.on_file(1, 0, NOSESS, F1, Op::Close { seqid: 4, stateid: sid(3, 0xa, 9) }, |r| r.stateid(4, sid(4, 0xa, 9)));
    assert_eq!(n.st().counters.unknown_stateids, 1);
}

#[test]
fn statuses_without_a_name_are_counted_together() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "one", CA);
    for status in 0..40 {
        n.on_file(1, 0, NOSESS, F1, locku(0, 100, sid(1, 0xb, 1)), |r| r.st(14, 900_000 + status));
    }
    assert_eq!(n.st().answer_names().get("LOCKU", "?"), 40);
    assert_eq!(n.st().answers.iter().filter(|((op, _), _)| *op == 14).count(), 1, "one entry, whatever the statuses");
}

#[test]
fn a_failing_operation_stops_the_state_changes_of_the_rest() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "one", CA);
    let before = locks(&n);
    // LOCK denied: nothing changes, the refusal is journaled.
    n.on_file(1, 0, NOSESS, F1, lock_existing(2, 50, 10, sid(1, 0xb, 1)), |r| r.lock_denied(0, 100, CB, b"other"));
    assert_eq!(locks(&n), before);
    assert_eq!(nfs4_events(&n).last(), Some(&("lock", Nfs4EventKind::Refused(10010))));
    assert_eq!(n.st().answer_names().get("LOCK", "NFS4ERR_DENIED"), 1);
    // LOCKU fails: the LOCK after it did not run, even if a result for it came back.
    let ops = vec![Op::PutFh(F1.to_vec()), locku(0, 100, sid(1, 0xb, 1)), lock_existing(1, 500, 10, sid(1, 0xb, 1))];
    let res = Res::new().ok(22).st(14, 10025).stateid(12, sid(5, 0xb, 1));
    n.rpc(1, 0, ops, res);
    assert_eq!(locks(&n), before, "neither the failed LOCKU nor the LOCK after it changed anything");
    assert_eq!(n.st().lock_stateids.get(&sid(1, 0xb, 1).other).map(|l| l.stateid.seqid), Some(1));
    // A result that does not match the call's operation stops the replay too.
    let ops = vec![Op::PutFh(F1.to_vec()), locku(0, 100, sid(1, 0xb, 1))];
    n.rpc(1, 0, ops, Res::new().ok(22).stateid(12, sid(6, 0xb, 1)));
    assert_eq!(locks(&n), before);
    assert_eq!(n.h.t.counters().nfs4.op_mismatch, 1);
}

#[test]
fn grace_and_reclaim_refusals_are_evidence() {
    let mut n = N::new();
    n.setclientid(1, "one", CA);
    let ops = vec![Op::PutFh(DIR.to_vec()), open_args(CA, b"oo", OpenClaim::Null("g".into()), true), Op::GetFh];
    let (c, g) = n.rpc(1, 0, ops, Res::new().ok(22).st(18, 10013));
    n.on_file(1, 0, NOSESS, F1, open_args(CA, b"oo", OpenClaim::Previous(0), false), |r| r.st(18, 10033));
    n.on_file(1, 0, NOSESS, F1, open_args(CA, b"oo", OpenClaim::Previous(0), false), |r| r.st(18, 10034));
    let ev = &n.st().evidence;
    assert_eq!(ev.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![EvidenceKind::GraceRefused, EvidenceKind::NoGrace, EvidenceKind::ReclaimBad]);
    assert_eq!((ev[0].at, ev[0].call, ev[0].op, ev[0].status, ev[0].reclaim, ev[0].claim), (g, c, "OPEN", 10013, false, Some(0)));
    assert_eq!((ev[0].clientid, ev[0].client_owner.as_deref(), ev[0].known), (Some(CA), Some(&b"one"[..]), true));
    assert_eq!((ev[1].reclaim, ev[1].claim, ev[1].fh.as_deref()), (true, Some(1), Some(F1)));
    assert!(n.st().opens.is_empty());
    let refused = nfs4_events(&n).iter().filter(|e| matches!(e.1, Nfs4EventKind::Refused(_))).count();
    assert_eq!(refused, 3);
}

#[test]
fn v41_open_lock_and_reclaim_complete_once() {
    let mut n = N::new();
    n.exchange_id(5, "v41", CB, sess(1));
    let c = n.st().client(CB).expect("client");
    assert_eq!((c.minor, c.cb_program, c.confirmed.is_some()), (1, Some(0x4000_0001), true));
    assert_eq!(n.st().sessions.get(&sess(1)).map(|s| s.clientid), Some(CB));
    let (_, rc) = n.rpc(5, 1, vec![seq(sess(1)), Op::ReclaimComplete { one_fs: false }], Res::new().sequence(sess(1), 0).ok(58));
    let (_, again) = n.rpc(5, 1, vec![seq(sess(1)), Op::ReclaimComplete { one_fs: false }], Res::new().sequence(sess(1), 0).st(58, 10054));
    let c = n.st().client(CB).expect("client");
    assert_eq!((c.reclaim_complete, c.complete_already, c.last_complete_already), (Some(rc), 1, Some(again)));
    let kinds: Vec<EvidenceKind> = n.st().evidence.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EvidenceKind::ReclaimComplete, EvidenceKind::CompleteAlready]);
    assert!(n.st().evidence.iter().all(|e| e.clientid == Some(CB)));
    // OPEN CLAIM_FH and LOCK in the session: the session's client owns them.
    n.open(5, 1, sess(1), 0, b"oo41", OpenClaim::Fh, F2, sid(1, 0xc, 5));
    n.on_file(5, 1, sess(1), F2, lock_new(1, false, 10, u64::MAX, sid(1, 0xc, 5), 0, b"lo41"), |r| r.stateid(12, sid(1, 0xd, 5)));
    let o = n.st().opens.values().next().expect("open");
    assert_eq!((o.clientid, o.fh.as_deref(), o.unconfirmed, o.minor), (CB, Some(F2), false, 1));
    let (_, h) = n.st().locks.iter().next().expect("lock");
    assert_eq!((h.owner.clientid, h.range, h.exclusive, h.meta.minor), (CB, r(10, None), false, 1));
    // DESTROY_SESSION keeps the record; DESTROY_CLIENTID forgets the client and its state.
    n.rpc(5, 1, vec![Op::DestroySession(sess(1))], Res::new().ok(44));
    assert!(n.st().sessions.get(&sess(1)).is_some_and(|s| s.destroyed.is_some()));
    n.rpc(5, 1, vec![Op::DestroyClientId(CB)], Res::new().ok(57));
    assert!(n.st().clients.is_empty() && n.st().opens.is_empty() && n.st().locks.is_empty() && n.st().sessions.is_empty());
    assert_eq!(nfs4_events(&n).last(), Some(&("lock", Nfs4EventKind::Dropped(Nfs4Drop::ClientGone))));
}

/// COMPOUND arguments: tag "", `minor`, then `n` operations written by `ops`.
fn raw(minor: u32, n: u32, ops: impl FnOnce(&mut crate::xdr::Enc)) -> Vec<u8> {
    let mut e = crate::xdr::Enc::new();
    e.string("").u32(minor).u32(n);
    ops(&mut e);
    e.into_vec()
}

#[test]
fn release_lockowner_free_stateid_and_delegations() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "one", CA);
    let release = |n: &mut N| n.rpc(1, 0, vec![Op::PutFh(F1.to_vec()), Op::ReleaseLockOwner { clientid: CA, owner: b"lo-1".to_vec() }], Res::new().ok(22).ok(39));
    release(&mut n);
    assert!(n.st().locks.is_empty() && n.st().lock_stateids.is_empty());
    assert_eq!(nfs4_events(&n).last(), Some(&("lock", Nfs4EventKind::Dropped(Nfs4Drop::ReleaseLockowner))));
    // The owner locks again (state the server now follows per owner) and is released again.
    n.on_file(1, 0, NOSESS, F1, lock_new(3, false, 200, 10, sid(2, 0xa, 1), CA, b"lo-1"), |r| r.stateid(12, sid(1, 0xc, 1)));
    assert_eq!((n.st().locks.len(), n.st().lock_stateids.len()), (1, 1));
    release(&mut n);
    assert!(n.st().locks.is_empty() && n.st().lock_stateids.is_empty());

    // A write delegation with an OPEN, returned with DELEGRETURN.
    let dl = sid(1, 0xe, 1);
    let ops = vec![Op::PutFh(DIR.to_vec()), open_args(CA, b"oo-2", OpenClaim::Null("f2".into()), false), Op::GetFh];
    n.rpc(1, 0, ops, Res::new().ok(22).open_deleg(sid(1, 0xa, 2), 0, Some((true, dl))).getfh(F2));
    let d = n.st().delegations.get(&dl.other).expect("delegation");
    assert_eq!((d.clientid, d.fh.as_deref(), d.write, d.reclaim), (CA, Some(F2), true, false));
    let args = raw(0, 2, |e| {
        e.u32(22).opaque(F2).u32(8);
        dl.encode(e);
    });
    n.rpc_bytes(1, &args, Res::new().ok(22).ok(8));
    assert!(n.st().delegations.is_empty());
    assert_eq!(nfs4_events(&n).last(), Some(&("deleg", Nfs4EventKind::Released)));

    // FREE_STATEID of an open stateid forgets it.
    assert_eq!(n.st().opens.len(), 2);
    let args = raw(1, 1, |e| {
        e.u32(45);
        sid(1, 0xa, 2).encode(e);
    });
    n.rpc_bytes(1, &args, Res::new().ok(45));
    assert_eq!(n.st().opens.len(), 1);
    assert_eq!(nfs4_events(&n).last(), Some(&("open", Nfs4EventKind::Dropped(Nfs4Drop::FreeStateid))));
}

#[test]
fn a_client_rebooting_replaces_its_earlier_client_id() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "one", CA);
    // Same owner, new verifier, new client id: confirming it releases the old state.
    let op = Op::SetClientId { verifier: [9; 8], id: b"one".to_vec(), cb_program: 1, netid: "tcp".into(), addr: "x".into(), ident: 1 };
    n.rpc(1, 0, vec![op], Res::new().setclientid(CA + 5));
    assert_eq!(n.st().clients.len(), 2, "unconfirmed, the new record does not replace anything yet");
    assert_eq!(n.st().locks.len(), 1);
    n.rpc(1, 0, vec![Op::SetClientIdConfirm { clientid: CA + 5, verifier: [7; 8] }], Res::new().ok(36));
    assert_eq!(n.st().clients.keys().copied().collect::<Vec<_>>(), vec![CA + 5]);
    assert!(n.st().locks.is_empty() && n.st().opens.is_empty());
    assert!(n.st().evidence.is_empty(), "a client reboot is no server restart");
}

#[test]
fn a_client_name_is_its_owner_as_text() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "one", CA);
    assert_eq!(&*n.st().client(CA).expect("client").name, "one");
    // SETCLIENTID again for the same client id, with another owner: the name follows.
    let op = Op::SetClientId { verifier: [9; 8], id: vec![0, 1, 0xfe], cb_program: 1, netid: "tcp".into(), addr: "x".into(), ident: 1 };
    n.rpc(1, 0, vec![op], Res::new().setclientid(CA));
    let c = n.st().client(CA).expect("client");
    assert_eq!((&c.owner[..], &*c.name), (&[0, 1, 0xfe][..], "0001fe"));
}

#[test]
fn state_used_by_an_unseen_client_id_creates_an_inferred_client() {
    let mut n = N::new();
    n.on_file(3, 0, NOSESS, F1, lock_new(2, false, 0, 1, sid(1, 0xa, 3), CB, b"lo"), |r| r.stateid(12, sid(1, 0xb, 3)));
    let c = n.st().client(CB).expect("inferred client");
    assert!(c.inferred && c.owner.is_empty() && c.confirmed.is_some() && c.name.is_empty());
    assert_eq!(locks(&n).len(), 1);
    // LOCK by an unknown lock stateid: kept under a placeholder owner, counted.
    n.on_file(3, 0, NOSESS, F2, lock_existing(2, 0, 1, sid(4, 0xb, 9)), |r| r.stateid(12, sid(5, 0xb, 9)));
    assert_eq!(n.st().counters.unknown_stateids, 1);
    assert_eq!(locks(&n).len(), 2);
    // Its stateid is known now, with its file: no PUTFH needed.
    n.rpc(3, 0, vec![lock_existing(2, 5, 1, sid(5, 0xb, 9))], Res::new().stateid(12, sid(6, 0xb, 9)));
    assert_eq!(locks(&n).len(), 3);
    // Without any file handle the lock cannot be placed.
    n.rpc(3, 0, vec![lock_existing(2, 0, 1, sid(1, 0xc, 8))], Res::new().stateid(12, sid(2, 0xc, 8)));
    assert_eq!((n.st().counters.no_fh, n.st().counters.unknown_stateids), (1, 2));
}

#[test]
fn caps_refuse_and_count() {
    let nfs4 = Nfs4Limits { clients: 1, sessions: 1, stateids: 2, locks: 1, evidence: 1, pending: 1 };
    let mut n = N::with(TrackerConfig { nfs4, ..TrackerConfig::default() });
    v40_lock(&mut n, 1, "one", CA);
    n.setclientid(2, "two", CB);
    assert_eq!(n.st().clients.len(), 1);
    assert_eq!(n.st().counters.clients_refused, 2, "SETCLIENTID and its confirm");
    // Two stateids (open + lock) fill the table.
    n.open(1, 0, NOSESS, CA, b"oo-2", OpenClaim::Null("f2".into()), F2, sid(1, 0xa, 7));
    assert_eq!(n.st().opens.len(), 1);
    n.on_file(1, 0, NOSESS, F1, lock_existing(2, 500, 1, sid(1, 0xb, 1)), |r| r.stateid(12, sid(2, 0xb, 1)));
    assert_eq!(n.st().locks.len(), 1, "the lock table is full");
    n.on_file(1, 0, NOSESS, F1, open_args(CA, b"x", OpenClaim::Previous(0), false), |r| r.st(18, 10033));
    n.on_file(1, 0, NOSESS, F1, open_args(CA, b"x", OpenClaim::Previous(0), false), |r| r.st(18, 10033));
    assert_eq!(n.st().evidence.len(), 1);
    // Pending calls: the older of two unanswered calls is forgotten.
    n.call(1, 0, vec![Op::Renew(CA)]);
    n.call(1, 0, vec![Op::Renew(CA)]);
    let c = n.h.t.counters().nfs4;
    assert_eq!((c.unconfirmed, c.pending_evicted, c.clients_refused, c.stateids_refused, c.locks_refused, c.evidence_dropped), (1, 1, 2, 1, 1, 1));
    assert_eq!(n.h.t.nfs4_unconfirmed().iter().map(|p| p.main_op()).collect::<Vec<_>>(), vec!["RENEW"]);
}

#[test]
fn rpc_errors_replies_without_calls_and_retransmissions() {
    use crate::rpc::{AcceptStat, Auth, Kind, Message, ProcId, ReplyStat};
    let mut n = N::new();
    n.setclientid(1, "one", CA);
    let (xid, call) = n.call(1, 0, vec![Op::Renew(CA)]);
    let at = n.h.next();
    let kind = Kind::Reply {
        stat: ReplyStat::Accepted { verf: Auth::None, stat: AcceptStat::SystemErr },
        id: Some(ProcId { prog: crate::proto::NFS, vers: 4, proc_: 1, cb: false }),
        body: crate::proto::ReplyBody::NotDecoded,
        call: Some(call),
        latency_ns: None,
        duplicate: false,
    };
    let m = Message { at, src: N::server(), dst: N::client(1), transport: crate::net::Transport::Tcp, xid, partial: false, kind };
    crate::pipeline::Sink::message(&mut n.h.t, &m);
    // A LOCK result whose call was never seen.
    n.reply(1, 999, call, Res::new().ok(22).stateid(12, sid(1, 1, 1)));
    let c = n.h.t.counters().nfs4;
    assert_eq!((c.rpc_errors, c.replies_without_call, c.unconfirmed), (1, 1, 0));
    assert!(n.h.t.server(srv_ip(SRV)).is_some());
}

#[test]
fn nfs4_range_conventions() {
    use super::req::range4;
    assert_eq!(range4(10, u64::MAX), Some(r(10, None)));
    assert_eq!(range4(0, u64::MAX), Some(r(0, None)), "all ones from 0 is the whole file");
    assert_eq!(range4(10, 0), None);
    assert_eq!(range4(u64::MAX - 1, 5), Some(r(u64::MAX - 1, None)));
    assert_eq!(range4(5, 10), Some(r(5, Some(15))));
    let s = Sid { seqid: 2, other: [1; 12] };
    assert_eq!(s.hex(), "00000002010101010101010101010101");
    assert!(Sid { seqid: 0, other: [0xff; 12] }.is_special() && !s.is_special());
    assert_eq!(owner_text(b"lab-v40"), "lab-v40");
    assert_eq!(owner_text(&[0, 1]), "0001");
    assert!(clientid_looks_epoch_based(CA) && !clientid_looks_epoch_based(0x1234_5678_9abc_def0));
    assert_eq!(clientid_epoch(CA), 0x11);
    let _ = StateId::default();
}

#[test]
fn file_names_follow_the_current_handle() {
    let mut n = N::new();
    // PUTROOTFH GETFH LOOKUP GETFH SAVEFH LOOKUP GETFH RESTOREFH LOOKUP GETFH
    let args = raw(0, 10, |e| {
        e.u32(24).u32(10).u32(15).string("export").u32(10).u32(32).u32(15).string("f1").u32(10).u32(31).u32(15).string("f2").u32(10);
    });
    let res = Res::new().ok(24).getfh(ROOT).ok(15).getfh(DIR).ok(32).ok(15).getfh(F1).ok(31).ok(15).getfh(F2);
    n.rpc_bytes(1, &args, res);
    let path = |fh: &[u8]| n.h.t.path(fh);
    assert_eq!((path(ROOT).as_deref(), path(DIR).as_deref()), (Some("/"), Some("/export")));
    assert_eq!((path(F1).as_deref(), path(F2).as_deref()), (Some("/export/f1"), Some("/export/f2")), "RESTOREFH went back to the directory");
    // A LOOKUP from a handle of unknown name teaches a relative name only.
    let args = raw(0, 3, |e| {
        e.u32(22).opaque(&[9, 9]).u32(15).string("g").u32(10);
    });
    n.rpc_bytes(1, &args, Res::new().ok(22).ok(15).getfh(&[9, 9, 1]));
    assert_eq!(n.h.t.path(&[9, 9, 1]).as_deref(), Some("…/g"));
}

#[test]
fn a_new_client_id_of_the_same_owner_replaces_the_old_among_many() {
    let mut n = N::new();
    // Many clients: the owner's earlier client id is found among them.
    for i in 0..1500u64 {
        n.setclientid(1, &format!("host-{i}"), CA + i);
    }
    let (_, _) = v40_lock(&mut n, 2, "host-7", CA + 7);
    assert_eq!(n.st().clients.len(), 1500);
    // host-7 comes back with a new client id: the old one and its lock are gone.
    n.setclientid(2, "host-7", CB + 0x1_0000);
    assert!(!n.st().clients.contains_key(&(CA + 7)));
    assert!(n.st().clients.contains_key(&(CB + 0x1_0000)));
    assert_eq!(n.st().clients.len(), 1500);
    assert!(n.st().locks.is_empty());
    assert_eq!(nfs4_events(&n).last(), Some(&("lock", Nfs4EventKind::Dropped(Nfs4Drop::ClientGone))));
    // Another owner's confirmation leaves host-7's new client alone.
    n.setclientid(3, "host-8", CB + 0x2_0000);
    assert!(n.st().clients.contains_key(&(CB + 0x1_0000)) && !n.st().clients.contains_key(&(CA + 8)));
    // Most clients go away; the owners seen later are still matched.
    for i in (9..1500u64).filter(|i| *i != 100) {
        n.rpc(1, 1, vec![Op::DestroyClientId(CA + i)], Res::new().ok(57));
    }
    assert_eq!(n.st().clients.len(), 10);
    for i in 0..1100u64 {
        n.setclientid(4, &format!("later-{i}"), CB + 0x10_0000 + i);
    }
    n.setclientid(5, "host-100", CB + 0x3_0000);
    assert!(!n.st().clients.contains_key(&(CA + 100)) && n.st().clients.contains_key(&(CB + 0x3_0000)));
    assert_eq!(n.st().clients.len(), 10 + 1100);
}
