//! Restarts: state moving to the old epoch, reclaims taking it over, evidence, the
//! drop API, journal replay, and conflict queries across NLM and NFSv4.

use super::tests::{locks, nfs4_events, r, v40_lock, CA, CB, NOSESS};
use super::testutil::*;
use super::*;
use crate::client::nfs4::{Op, OpenClaim};
use crate::state::journal::{Nfs4Drop, Nfs4EventKind};
use crate::state::testutil::{srv_ip, SRV};

/// Client ids of boot epoch 0x12 (after the restart).
const NA: u64 = 0x0000_0012_0000_0001;
const NB: u64 = 0x0000_0012_0000_0002;

fn kinds(n: &N) -> Vec<EvidenceKind> {
    n.st().evidence.iter().map(|e| e.kind).collect()
}

#[test]
fn stale_clientid_moves_the_old_epoch_and_reclaims_take_it_over() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "one", CA);
    n.setclientid(2, "two", CB);
    let (_, stale) = n.rpc(1, 0, vec![Op::Renew(CA)], Res::new().st(30, 10022));
    let e = &n.st().evidence[0];
    assert_eq!((e.kind, e.at, e.clientid, e.known, e.marked_old, e.op), (EvidenceKind::StaleClientid, stale, Some(CA), true, 2, "RENEW"));
    assert!(n.st().clients.values().all(|c| c.stale_since == Some(stale)), "both clients of epoch 0x11 are old");
    assert_eq!(locks(&n), vec![(b"lo-1".to_vec(), r(0, Some(100)), true, true)]);
    assert!(n.st().opens.values().all(|o| o.stale_since == Some(stale)));
    assert_eq!(nfs4_events(&n)[2..], [("open", Nfs4EventKind::Stale), ("lock", Nfs4EventKind::Stale)]);
    assert_eq!(n.st().epochs, vec![EpochMark { at: stale, kind: EvidenceKind::StaleClientid, clients: 2 }]);
    // The old lock is still there for conflict queries, marked old.
    let c = n.h.t.lock_conflicts(srv_ip(SRV), F1, Requester::Anyone, true, r(50, Some(60)));
    assert_eq!(c.len(), 1);
    assert!(c[0].lock.is_stale() && c[0].fh == F1);

    // The client comes back with a client id of the new epoch and reclaims.
    n.setclientid(1, "one", NA);
    let e = n.st().evidence.last().expect("epoch change");
    assert_eq!((e.kind, e.epochs, e.marked_old, e.clientid), (EvidenceKind::ClientidEpochChange, Some((0x11, 0x12)), 0, Some(NA)));
    assert_eq!(n.st().client(CA).and_then(|c| c.successor), Some(NA));
    n.open(1, 0, NOSESS, NA, b"oo-1", OpenClaim::Previous(0), F1, sid(1, 0xa, 0x21));
    let o: Vec<&Nfs4Open> = n.st().opens.values().collect();
    assert_eq!(o.len(), 1, "the old open was taken over");
    assert_eq!((o[0].clientid, o[0].reclaim, o[0].claim, o[0].stale_since, o[0].unconfirmed), (NA, true, 1, None, false));
    let (_, lg) = n.on_file(1, 0, NOSESS, F1, lock_new(2, true, 0, 100, sid(1, 0xa, 0x21), NA, b"lo-1"), |r| r.stateid(12, sid(1, 0xb, 0x21)));
    assert_eq!(locks(&n), vec![(b"lo-1".to_vec(), r(0, Some(100)), true, false)]);
    let (_, h) = n.st().locks.iter().next().expect("lock");
    assert_eq!((h.owner.clientid, h.meta.reclaim, h.meta.granted), (NA, true, lg));
    let ev = &n.st().evidence;
    let grants: Vec<(&str, bool, bool)> = ev.iter().filter(|e| e.kind == EvidenceKind::ReclaimGranted).map(|e| (e.op, e.known, e.reclaim)).collect();
    assert_eq!(grants, vec![("OPEN", true, true), ("LOCK", true, true)]);
    assert_eq!(ev.last().map(|e| (e.range, e.exclusive, e.fh.as_deref())), Some((Some(r(0, Some(100))), Some(true), Some(F1))));
    let tail: Vec<(&str, Nfs4EventKind)> = nfs4_events(&n).into_iter().rev().take(4).collect();
    assert_eq!(tail, vec![("lock", Nfs4EventKind::Reclaimed), ("lock", Nfs4EventKind::Granted), ("open", Nfs4EventKind::Reclaimed), ("open", Nfs4EventKind::Granted)]);
    assert!(n.st().old_locks().next().is_none() && n.st().current_locks().count() == 1);
    assert!(n.st().has_old_epoch(), "the old client records stay until dropped");
    // A reclaim of a range the client never held is granted without old state.
    n.on_file(1, 0, NOSESS, F1, lock_existing(2, 500, 10, sid(1, 0xb, 0x21)), |r| r.stateid(12, sid(2, 0xb, 0x21)));
    let args = lock_new(1, true, 700, 10, sid(1, 0xa, 0x21), NA, b"lo-9");
    n.on_file(1, 0, NOSESS, F1, args, |r| r.stateid(12, sid(1, 0xb, 0x22)));
    assert_eq!(n.st().evidence.last().map(|e| (e.kind, e.known)), Some((EvidenceKind::ReclaimGranted, false)));
}

#[test]
fn bad_session_marks_v41_state_old_unless_the_session_was_destroyed() {
    let mut n = N::new();
    n.exchange_id(5, "v41", CB, sess(1));
    n.open(5, 1, sess(1), 0, b"oo41", OpenClaim::Fh, F2, sid(1, 0xc, 5));
    n.on_file(5, 1, sess(1), F2, lock_new(2, false, 0, 10, sid(1, 0xc, 5), 0, b"lo41"), |r| r.stateid(12, sid(1, 0xd, 5)));
    // A second session, destroyed by the client: BADSESSION for it proves nothing.
    let cs = Op::CreateSession { clientid: CB, sequence: 2, flags: 0, fore: Default::default(), back: Default::default(), cb_program: 1 };
    n.rpc(5, 1, vec![cs], Res::new().create_session(sess(2)));
    n.rpc(5, 1, vec![Op::DestroySession(sess(2))], Res::new().ok(44));
    n.rpc(5, 1, vec![seq(sess(2))], Res::new().st(53, 10052));
    assert_eq!(n.st().evidence.last().map(|e| (e.kind, e.known, e.marked_old)), Some((EvidenceKind::BadSession, true, 0)));
    assert!(!n.st().has_old_epoch());
    // BADSESSION for the live session: the server lost it.
    let (_, bad) = n.rpc(5, 1, vec![seq(sess(1)), Op::PutFh(F2.to_vec())], Res::new().st(53, 10052));
    let e = n.st().evidence.last().expect("evidence");
    assert_eq!((e.kind, e.at, e.clientid, e.known, e.marked_old), (EvidenceKind::BadSession, bad, Some(CB), true, 1));
    assert_eq!(n.st().sessions.get(&sess(1)).and_then(|s| s.stale_since), Some(bad));
    assert_eq!(locks(&n), vec![(b"lo41".to_vec(), r(0, Some(10)), true, true)]);
    // An unknown session: evidence, not known.
    n.rpc(5, 1, vec![seq(sess(9))], Res::new().st(53, 10052));
    assert_eq!(n.st().evidence.last().map(|e| (e.known, e.clientid)), Some((false, None)));
}

#[test]
fn a_fresh_client_id_of_a_new_epoch_moves_old_state_and_conflicts_show() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "holder", CA);
    // A newcomer's EXCHANGE_ID gets a client id of a new boot epoch.
    n.exchange_id(5, "newcomer", NB, sess(3));
    let e = n.st().evidence.first().expect("evidence");
    assert_eq!((e.kind, e.marked_old, e.epochs, e.op), (EvidenceKind::ClientidEpochChange, 1, Some((0x11, 0x12)), "EXCHANGE_ID"));
    assert!(n.st().client(CA).is_some_and(Nfs4Client::is_stale) && !n.st().client(NB).is_some_and(Nfs4Client::is_stale));
    n.open(5, 1, sess(3), 0, b"oo", OpenClaim::Fh, F1, sid(1, 0xc, 5));
    n.on_file(5, 1, sess(3), F1, lock_new(2, false, 0, 100, sid(1, 0xc, 5), 0, b"lo-new"), |r| r.stateid(12, sid(1, 0xd, 5)));
    let me = Nfs4LockOwner { clientid: NB, owner: b"lo-new".to_vec().into() };
    let c = n.h.t.lock_conflicts(srv_ip(SRV), F1, Requester::Nfs4(&me), true, r(0, Some(100)));
    assert_eq!(c.len(), 1, "the newcomer's lock collides with the holder's old-epoch lock");
    assert!(matches!(c[0].lock, AnyLock::Nfs4(h) if h.owner.clientid == CA && h.meta.stale_since.is_some()));
    assert_eq!(n.st().conflicts(F1, None, false, r(0, Some(1))).len(), 2, "a shared lock collides with both write locks");
    // The holder's late STALE_CLIENTID is evidence, but moves nothing more.
    n.rpc(1, 0, vec![Op::Renew(CA)], Res::new().st(30, 10022));
    assert_eq!(n.st().evidence.last().map(|e| (e.kind, e.known, e.marked_old)), Some((EvidenceKind::StaleClientid, true, 0)));
    assert_eq!(n.st().current_locks().count(), 1);
    assert_eq!(n.st().epochs.len(), 1);
}

#[test]
fn client_ids_without_an_epoch_do_not_look_like_restarts() {
    let mut n = N::new();
    n.setclientid(1, "one", 0x1234_5678_9abc_def0);
    n.setclientid(2, "two", 0x0fed_cba9_8765_4321);
    assert!(n.st().evidence.is_empty() && !n.st().has_old_epoch());
}

#[test]
fn restart_reclaim_needed_moves_clients_older_than_the_new_one() {
    let (old, new) = (0xaaaa_0000_1000_0001u64, 0xbbbb_0000_2000_0001u64);
    let mut n = N::new();
    n.exchange_id(4, "old", old, sess(1));
    n.open(4, 1, sess(1), 0, b"oo", OpenClaim::Fh, F1, sid(1, 0xc, 4));
    n.exchange_id(5, "new", new, sess(2));
    assert!(n.st().evidence.is_empty(), "client ids without an epoch: no epoch change");
    let (_, at) = n.rpc(5, 1, vec![seq(sess(2))], Res::new().sequence(sess(2), 0x100));
    n.rpc(5, 1, vec![seq(sess(2))], Res::new().sequence(sess(2), 0x100));
    assert_eq!(kinds(&n), vec![EvidenceKind::RestartReclaimNeeded], "noted once per client");
    let e = &n.st().evidence[0];
    assert_eq!((e.at, e.clientid, e.marked_old), (at, Some(new), 1));
    assert!(n.st().client(old).is_some_and(Nfs4Client::is_stale) && n.st().opens.values().all(|o| o.stale_since == Some(at)));
    // another client of the new instance is noted too, once
    n.exchange_id(6, "newer", new + 1, sess(3));
    for _ in 0..2 {
        n.rpc(6, 1, vec![seq(sess(3))], Res::new().sequence(sess(3), 0x100));
    }
    assert_eq!(kinds(&n), vec![EvidenceKind::RestartReclaimNeeded; 2]);
    assert_eq!(n.st().evidence[1].clientid, Some(new + 1));
}

#[test]
fn stale_stateid_names_the_owner_and_its_file() {
    let mut n = N::new();
    v40_lock(&mut n, 1, "one", CA);
    let (_, at) = n.on_file(1, 0, NOSESS, F1, locku(0, 10, sid(1, 0xb, 1)), |r| r.st(14, 10023));
    let e = n.st().evidence.last().expect("evidence");
    assert_eq!((e.kind, e.at, e.clientid, e.known, e.marked_old, e.fh.as_deref()), (EvidenceKind::StaleStateid, at, Some(CA), true, 1, Some(F1)));
    assert_eq!(n.st().client_owner(CA), Some(&b"one"[..]));
    assert_eq!(e.client_owner.as_deref(), Some(&b"one"[..]));
}

#[test]
fn dropping_the_old_epoch_and_replaying_the_journal() {
    let mut n = N::new();
    let (_, granted) = v40_lock(&mut n, 1, "one", CA);
    let (_, stale) = n.rpc(1, 0, vec![Op::Renew(CA)], Res::new().st(30, 10022));
    let server = srv_ip(SRV);
    let before = n.h.t.journal().nfs4_held_before(server, stale.ts);
    let h: Vec<_> = before.locks.iter().map(|(_, h)| (h.range, h.meta.granted, h.meta.stale_since)).collect();
    assert_eq!(h, vec![(r(0, Some(100)), granted, None)]);
    let after = n.h.t.journal().nfs4_held_before(server, stale.ts + 1);
    let h: Vec<_> = after.locks.iter().map(|(_, h)| (h.meta.granted, h.meta.stale_since)).collect();
    assert_eq!(h, vec![(granted, Some(stale))], "replayed as old epoch, with its grant kept");
    assert!(after.complete);

    let at = n.h.next();
    let d = n.h.t.nfs4_drop_old(server, at);
    assert_eq!((d.clients.len(), d.opens.len(), d.locks.len(), d.sessions), (1, 1, 1, 0));
    assert!(n.st().clients.is_empty() && n.st().locks.is_empty() && !n.st().has_old_epoch());
    assert_eq!(nfs4_events(&n).last(), Some(&("lock", Nfs4EventKind::Dropped(Nfs4Drop::OldEpochDropped))));
    assert!(n.h.t.journal().nfs4_held_before(server, at.ts + 1).locks.is_empty());
    assert!(n.h.t.nfs4_drop_old(srv_ip(99), at).locks.is_empty(), "unknown server: nothing");
}

#[test]
fn conflicts_across_nlm_and_nfsv4_on_the_same_file() {
    use crate::state::testutil::{lk, lock_args, res, A, FH};
    let mut n = N::new();
    n.h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 100), false), &res(1, 0));
    n.setclientid(3, "v4", CA);
    // The same handle through NFSv4: a shared lock over the NLM write lock's range.
    n.on_file(3, 0, NOSESS, FH, lock_new(1, false, 50, 100, sid(1, 0xa, 3), CA, b"lo"), |r| r.stateid(12, sid(1, 0xb, 3)));
    let server = srv_ip(SRV);
    let c = n.h.t.lock_conflicts(server, FH, Requester::Anyone, false, r(60, Some(70)));
    assert_eq!(c.len(), 1, "a shared request collides only with the NLM write lock");
    assert!(matches!(c[0].lock, AnyLock::Nlm(h) if &*h.owner.caller_name == "client-a"));
    let c = n.h.t.lock_conflicts(server, FH, Requester::Anyone, true, r(60, Some(70)));
    assert_eq!(c.len(), 2);
    let nlm_owner = n.h.t.server(server).and_then(|s| s.nlm.locks.iter().next().map(|(_, h)| h.owner.clone())).expect("nlm lock");
    let c = n.h.t.lock_conflicts(server, FH, Requester::Nlm(&nlm_owner), true, r(60, Some(70)));
    assert!(matches!(c.as_slice(), [x] if matches!(x.lock, AnyLock::Nfs4(_))), "the requester's own lock is left out");
    // Another handle for the same path counts as the same file.
    n.h.t.names.root(FH, b"/export/shared");
    n.h.t.names.root(F2, b"/export/shared");
    n.on_file(3, 0, NOSESS, F2, lock_new(2, false, 0, 10, sid(1, 0xa, 3), CA, b"lo2"), |r| r.stateid(12, sid(1, 0xb, 4)));
    assert_eq!(n.h.t.same_file(server, FH), vec![FH.to_vec(), F2.to_vec()]);
    let c = n.h.t.lock_conflicts(server, FH, Requester::Anyone, false, r(0, Some(5)));
    assert_eq!(c.iter().map(|x| x.fh.clone()).collect::<Vec<_>>(), vec![FH.to_vec(), F2.to_vec()]);
}
