//! Plans built from the lab captures, checked against their manifests: the locks a
//! plan reclaims are the ones the scenario's clients reclaimed (`via_reclaim` in
//! `locks_at_end`), or every lock held at the end.

use super::*;
use crate::xdr::hex;
use serde_json::Value;
use std::path::PathBuf;

fn cap(name: &str) -> (Vec<String>, Value) {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures");
    let pcap = d.join(format!("{name}.pcap")).to_string_lossy().into_owned();
    let m: Value = serde_json::from_str(&std::fs::read_to_string(d.join(format!("{name}.json"))).unwrap()).unwrap();
    (vec![pcap], m)
}

fn audit_cfg(m: &Value) -> AuditConfig {
    let s = &m["servers"][0];
    let g = s["grace_period_s"].as_i64().unwrap() * 1_000_000_000;
    let l = s["lease_lifetime_s"].as_i64().unwrap() * 1_000_000_000;
    AuditConfig { grace: g, lease: l, ..AuditConfig::default() }
}

type NlmKey = (String, String, i32, String, u64, u64, bool);
type V4Key = (u32, String, String, String, u64, u64, bool);

fn plan_nlm(p: &Plan) -> Vec<NlmKey> {
    let mut v: Vec<NlmKey> = p
        .nlm
        .iter()
        .flat_map(|h| h.locks.iter().map(move |l| (h.caller_name.clone(), hex(&l.oh), l.svid, hex(&l.fh), l.offset, l.len, l.exclusive)))
        .collect();
    v.sort();
    v
}

fn plan_v4(p: &Plan) -> Vec<V4Key> {
    let mut v: Vec<V4Key> = p
        .v4
        .iter()
        .flat_map(|c| {
            c.opens.iter().flat_map(move |o| {
                o.locks.iter().map(move |l| (c.minor, c.owner_text.clone(), hex(&o.open_owner), hex(&l.lock_owner), l.offset, l.length, l.write))
            })
        })
        .collect();
    v.sort();
    v
}

fn manifest_nlm(m: &Value, pred: impl Fn(&Value) -> bool) -> Vec<NlmKey> {
    let mut v: Vec<NlmKey> = m["locks_at_end"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["protocol"] == "nlm" && pred(l))
        .map(|l| {
            (
                l["caller_name"].as_str().unwrap().to_string(),
                l["oh"].as_str().unwrap().to_string(),
                l["svid"].as_i64().unwrap() as i32,
                l["fh"].as_str().unwrap().to_string(),
                l["offset"].as_u64().unwrap(),
                l["len"].as_u64().unwrap(),
                l["exclusive"].as_bool().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn manifest_v4(m: &Value, pred: impl Fn(&Value) -> bool) -> Vec<V4Key> {
    let mut v: Vec<V4Key> = m["locks_at_end"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["protocol"] == "nfs4" && pred(l))
        .map(|l| {
            (
                l["minor"].as_u64().unwrap() as u32,
                l["client_owner"].as_str().unwrap().to_string(),
                l["open_owner"].as_str().unwrap().to_string(),
                l["lock_owner"].as_str().unwrap().to_string(),
                l["offset"].as_u64().unwrap(),
                l["length"].as_u64().unwrap(),
                l["write"].as_bool().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn reclaimed(l: &Value) -> bool {
    l["via_reclaim"].as_bool() == Some(true)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn clean_restart_plan_is_what_the_clients_reclaimed() {
    let (files, m) = cap("clean-restart");
    let p = from_capture(&files, ip("127.0.0.2"), Moment::BeforeLastRestart, audit_cfg(&m), Config::default()).unwrap();
    assert!(p.basis.contains("before its restart"), "{}", p.basis);
    assert!(p.taken_at.is_some());
    let want_nlm = manifest_nlm(&m, reclaimed);
    assert_eq!(want_nlm.len(), 3);
    assert_eq!(plan_nlm(&p), want_nlm);
    let want_v4 = manifest_v4(&m, reclaimed);
    assert_eq!(want_v4.len(), 2);
    assert_eq!(plan_v4(&p), want_v4);
    // the same server restarted: the reclaimed v4 locks carry the handles of before
    let fhs: BTreeSet<String> = m["locks_at_end"].as_array().unwrap().iter().filter(|l| l["protocol"] == "nfs4" && reclaimed(l)).map(|l| l["fh"].as_str().unwrap().to_string()).collect();
    let plan_fhs: BTreeSet<String> = p.v4.iter().flat_map(|c| c.opens.iter().map(|o| hex(&o.fh))).collect();
    assert_eq!(plan_fhs, fhs);
    // the capture showed every name, and each client's address
    let paths: BTreeSet<&str> = p.nlm.iter().flat_map(|h| h.locks.iter().filter_map(|l| l.path.as_deref())).collect();
    assert_eq!(paths, ["/vfs/f1", "/vfs/f2"].into_iter().collect());
    let v4paths: Vec<&str> = p.v4.iter().flat_map(|c| c.opens.iter().filter_map(|o| o.path.as_deref())).collect();
    assert_eq!(v4paths, ["/vfs/f3", "/vfs/f4"]);
    let clients: Vec<(String, String)> = m["locks_at_end"].as_array().unwrap().iter().filter(|l| reclaimed(l) && l["protocol"] == "nlm").map(|l| (l["caller_name"].as_str().unwrap().into(), l["client_addr"].as_str().unwrap().into())).collect();
    for (name, addr) in clients {
        assert_eq!(p.nlm.iter().find(|h| h.caller_name == name).unwrap().addr, ip(&addr));
    }
    // nothing made up, nothing unplannable
    assert!(p.v4.iter().all(|c| c.fail.is_none() && c.opens.iter().all(|o| !o.synthesized && o.fail.is_none())));
    assert!(p.v4.iter().all(|c| c.verifier.len() == 8 && c.machine == c.owner_text));
    let s = p.summary();
    assert_eq!(s.iter().map(|s| (s.protocol.as_str(), s.clients, s.locks, s.files)).collect::<Vec<_>>(), [("NLM4", 3, 3, 2), ("NFSv4.0", 1, 1, 1), ("NFSv4.1", 1, 1, 1)]);
    assert_eq!(p.reclaims(), 7);
}

#[test]
fn clean_restart_at_the_end_holds_every_lock_of_the_end() {
    let (files, m) = cap("clean-restart");
    let p = from_capture(&files, ip("127.0.0.2"), Moment::EndOfCapture, audit_cfg(&m), Config::default()).unwrap();
    assert_eq!(plan_nlm(&p), manifest_nlm(&m, |_| true));
    assert_eq!(plan_v4(&p), manifest_v4(&m, |_| true));
    assert!(p.taken_at.is_none());
}

#[test]
fn a_moment_before_any_lock_plans_nothing() {
    let (files, m) = cap("clean-restart");
    let p = from_capture(&files, ip("127.0.0.2"), Moment::At(AtTime::Relative(1_000_000_000)), audit_cfg(&m), Config::default()).unwrap();
    assert!(p.is_empty(), "{p:?}");
    let p = from_capture(&files, ip("127.0.0.9"), Moment::EndOfCapture, audit_cfg(&m), Config::default()).unwrap();
    assert!(p.is_empty() && p.notes.iter().any(|n| n.contains("no state")));
}

/// The failed-over address never restarts in the capture: its state at the end is
/// what the clients then reclaimed on the failover target.
#[test]
fn failover_source_plans_what_moved() {
    for name in ["failover", "failover-norecords"] {
        let (files, m) = cap(name);
        let p = from_capture(&files, ip("127.0.0.2"), Moment::BeforeLastRestart, audit_cfg(&m), Config::default()).unwrap();
        assert!(p.basis.contains("never restarted"), "{name}: {}", p.basis);
        let held_on_a = |l: &Value| l["server"] == "127.0.0.3" && reclaimed(l);
        let want_nlm = manifest_nlm(&m, held_on_a);
        assert!(!want_nlm.is_empty(), "{name}");
        assert_eq!(plan_nlm(&p), want_nlm, "{name}");
        if name == "failover" {
            assert_eq!(plan_v4(&p), manifest_v4(&m, held_on_a), "{name}");
        } else {
            // without recovery records the v4 clients took the same ranges afresh on B
            // (under new owners): same clients, ranges and types
            let key = |v: Vec<V4Key>| v.into_iter().map(|k| (k.0, k.1, k.4, k.5, k.6)).collect::<Vec<_>>();
            assert_eq!(key(plan_v4(&p)), key(manifest_v4(&m, |l| l["server"] == "127.0.0.3")), "{name}");
        }
        assert_eq!(p.v4.len(), 2, "{name}: a v4.0 and a v4.1 client");
    }
}
