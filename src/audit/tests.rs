//! Hand-made cases, for situations no server in the lab produces: NLM-only restarts
//! proven by grace refusals, grants between refusals (certain verdicts), reclaims
//! granted after grace or with no restart at all, clusters, failovers. The lab
//! captures (`tests/audit_lab.rs`) cover what real servers do.

use super::*;
use crate::state::testutil::*;

fn auditor(grace_s: i64) -> H<Auditor> {
    H::over(Auditor::new(AuditConfig { grace: grace_s * SEC, lease: 90 * SEC, ..AuditConfig::default() }))
}

fn cluster(grace_s: i64) -> H<Auditor> {
    let cfg = AuditConfig { grace: grace_s * SEC, clusters: vec![vec![srv_ip(SRV), srv_ip(SRV2)]], ..AuditConfig::default() };
    H::over(Auditor::new(cfg))
}

const C: (u8, &str) = (3, "client-c");

fn lock(h: &mut H<Auditor>, who: (u8, &'static str), srv: u8, off: u64, len: u64, reclaim: bool, stat: u32) {
    h.nlm(2, who, srv, &lock_args(1, false, true, lk(who, off, len), reclaim), &res(1, stat));
}

fn ids(h: &mut H<Auditor>) -> Vec<(&'static str, Certainty)> {
    h.t.finish();
    let mut v: Vec<_> = h.t.verdicts().iter().map(|v| (v.id, v.certainty)).collect();
    v.sort();
    v
}

#[test]
fn correct_restart_gives_nothing() {
    let mut h = auditor(10);
    lock(&mut h, A, SRV, 0, 100, false, GRANTED);
    lock(&mut h, B, SRV, 200, 10, false, GRANTED);
    // restart: a new lock is refused for grace, the holders reclaim
    lock(&mut h, C, SRV, 0, 10, false, DENIED_GRACE);
    lock(&mut h, A, SRV, 0, 100, true, GRANTED);
    lock(&mut h, B, SRV, 200, 10, true, GRANTED);
    // after grace (frames are a second apart): a new lock, a late reclaim refused
    h.frame += 20;
    lock(&mut h, C, SRV, 500, 10, false, GRANTED);
    lock(&mut h, A, SRV, 0, 100, true, DENIED_GRACE);
    assert_eq!(ids(&mut h), vec![]);
    let sa = &h.t.servers()[&srv_ip(SRV)];
    assert_eq!(sa.epochs.len(), 2);
    assert!(sa.old.iter().all(|o| o.reclaimed.is_some()));
}

#[test]
fn grant_between_grace_refusals_is_certain() {
    let mut h = auditor(90);
    lock(&mut h, A, SRV, 0, 100, false, GRANTED);
    lock(&mut h, B, SRV, 500, 10, false, DENIED_GRACE);
    // C is granted a lock over A's pre-restart lock, and the server refuses B again after
    lock(&mut h, C, SRV, 50, 10, false, GRANTED);
    lock(&mut h, B, SRV, 500, 10, false, DENIED_GRACE);
    assert_eq!(ids(&mut h), vec![("GW001", Certainty::Certain), ("GW005", Certainty::Certain)]);
    let v = &h.t.verdicts()[0];
    assert_eq!((v.id, v.severity, v.client_name.as_str()), ("GW005", Severity::Critical, "client-c"));
    assert_eq!(v.grant.at.frame, 6);
    // the evidence names A's old lock and the refusals around the grant
    let frames: Vec<u64> = v.evidence.iter().map(|m| m.at.frame).collect();
    assert!(frames.contains(&2) && frames.contains(&4) && frames.contains(&8), "{frames:?}");
}

#[test]
fn grant_after_the_assumed_grace_is_not_flagged() {
    let mut h = auditor(5);
    lock(&mut h, A, SRV, 0, 100, false, GRANTED);
    lock(&mut h, B, SRV, 500, 10, false, DENIED_GRACE);
    h.frame += 10;
    lock(&mut h, C, SRV, 50, 10, false, GRANTED);
    // A never reclaimed, but A never came back either: no GW006
    assert_eq!(ids(&mut h), vec![]);
}

#[test]
fn reclaim_after_proven_grace_end() {
    let mut h = auditor(90);
    lock(&mut h, A, SRV, 0, 100, false, GRANTED);
    lock(&mut h, B, SRV, 0, 100, false, GRANTED);
    lock(&mut h, C, SRV, 500, 10, false, DENIED_GRACE);
    lock(&mut h, A, SRV, 0, 100, true, GRANTED);
    // the server says grace is over to B's reclaim, then grants C's late reclaim
    lock(&mut h, B, SRV, 0, 100, true, DENIED_GRACE);
    lock(&mut h, C, SRV, 700, 10, true, GRANTED);
    let got = ids(&mut h);
    assert!(got.contains(&("GW003", Certainty::Certain)), "{got:?}");
    // B came back (its reclaim) and lost its lock, which the wire proves
    assert!(got.contains(&("GW006", Certainty::Certain)), "{got:?}");
    // C never held [700,710) before the restart
    assert!(got.contains(&("GW004", Certainty::Possible)), "{got:?}");
    // grace ended within seconds: shorter than the 90 s lease
    assert!(got.contains(&("GW009", Certainty::Certain)), "{got:?}");
}

#[test]
fn reclaim_with_no_restart() {
    let mut h = auditor(90);
    lock(&mut h, A, SRV, 0, 100, false, GRANTED);
    lock(&mut h, B, SRV, 0, 100, true, GRANTED);
    assert_eq!(ids(&mut h), vec![("GW003", Certainty::Possible)]);
}

#[test]
fn cluster_member_grants_while_another_is_in_grace() {
    let mut h = cluster(90);
    lock(&mut h, A, SRV, 0, 100, false, GRANTED);
    lock(&mut h, A, SRV2, 0, 100, false, GRANTED);
    // SRV restarts and refuses; SRV2 grants a new lock meanwhile
    lock(&mut h, B, SRV, 500, 10, false, DENIED_GRACE);
    lock(&mut h, C, SRV2, 300, 10, false, GRANTED);
    lock(&mut h, B, SRV, 500, 10, false, DENIED_GRACE);
    let got = ids(&mut h);
    assert_eq!(got, vec![("GW007", Certainty::Certain)]);
    assert_eq!(h.t.verdicts()[0].server, srv_ip(SRV2));
}

#[test]
fn failover_moves_reclaimable_locks() {
    let cfg = AuditConfig { grace: 90 * SEC, failovers: vec![(srv_ip(SRV), srv_ip(SRV2))], ..AuditConfig::default() };
    let mut h = H::over(Auditor::new(cfg));
    lock(&mut h, A, SRV, 0, 100, false, GRANTED);
    lock(&mut h, B, SRV, 200, 100, false, GRANTED);
    // the address moved: SRV2 refuses a new lock, A reclaims there, C takes B's range
    lock(&mut h, C, SRV2, 600, 10, false, DENIED_GRACE);
    lock(&mut h, A, SRV2, 0, 100, true, GRANTED);
    lock(&mut h, C, SRV2, 250, 10, false, GRANTED);
    let got = ids(&mut h);
    assert_eq!(got, vec![("GW001", Certainty::Possible), ("GW005", Certainty::Possible)], "{:#?}", h.t.verdicts());
    // the old address no longer holds anything
    assert!(h.t.tracker().server(srv_ip(SRV)).is_none_or(|s| s.nlm.locks.is_empty()));
    let sa = &h.t.servers()[&srv_ip(SRV2)];
    assert_eq!(sa.epochs[0].failover_from, Some(srv_ip(SRV)));
    assert_eq!(sa.old.iter().filter(|o| o.reclaimed.is_some()).count(), 1);
}

#[test]
fn operator_restart_opens_an_epoch() {
    let cfg = AuditConfig { grace: 90 * SEC, restarts: vec![(srv_ip(SRV), AtTime::Absolute(T0 + 2 * SEC + SEC / 2))], ..AuditConfig::default() };
    let mut h = H::over(Auditor::new(cfg));
    lock(&mut h, A, SRV, 0, 100, false, GRANTED);
    lock(&mut h, B, SRV, 50, 10, false, GRANTED);
    let got = ids(&mut h);
    // B's grant came after the restart the operator names: in grace, over A's lock
    assert_eq!(got, vec![("GW001", Certainty::Possible), ("GW005", Certainty::Possible)]);
}

/// The server's side of a TCP connection to client `who` ends (FIN or RST).
fn server_ends(h: &mut H<Auditor>, who: (u8, &'static str), fin: bool) -> FrameRef {
    let at = h.next();
    let flow = crate::net::FlowKey { src: ep(SRV, 4045), dst: ep(who.0, 40000), transport: crate::net::Transport::Tcp };
    h.t.net_event(&if fin { NetEvent::Close { flow, at } } else { NetEvent::Reset { flow, at } });
    at
}

#[test]
fn a_reset_from_the_new_instance_is_not_the_old_ones_sign_of_life() {
    let mut h = auditor(10);
    lock(&mut h, A, SRV, 0, 100, false, GRANTED);
    // the old instance dies (its FIN), stays down, and the new one resets A's old
    // connection before anyone sees it refuse for grace
    let fin = server_ends(&mut h, A, true);
    h.frame += 5;
    server_ends(&mut h, A, false);
    lock(&mut h, C, SRV, 500, 10, false, DENIED_GRACE);
    lock(&mut h, A, SRV, 0, 100, true, GRANTED);
    // FIN + 10 s has passed: grace (at least 10 s after the restart) may be over
    h.frame += 1;
    lock(&mut h, C, SRV, 500, 10, false, GRANTED);
    assert_eq!(ids(&mut h), vec![]);
    let e = &h.t.servers()[&srv_ip(SRV)].epochs[1];
    assert_eq!(e.start_lo, Some(fin));
}

#[test]
fn client_names_that_spell_an_address_meet_the_address() {
    assert_eq!(as_address("10.0.0.7"), Some("10.0.0.7".parse().unwrap()));
    assert_eq!(as_address("fd00::7"), Some("fd00::7".parse().unwrap()));
    assert_eq!(as_address("::ffff:10.0.0.7"), Some("::ffff:10.0.0.7".parse().unwrap()));
    // Not exactly the address's own text, or not an address at all.
    assert_eq!(as_address("010.0.0.7"), None);
    assert_eq!(as_address("FD00::7"), None);
    assert_eq!(as_address("client-c"), None);
    assert_eq!(as_address("cafe"), None);
    assert_eq!(as_address(""), None);
}
