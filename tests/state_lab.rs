//! NLM lock state rebuilt from the project's lab captures equals what the lab's
//! manifests say the real server granted: at the end of each capture, and just before
//! each server restart (from the manifest's own record of granted locks).

mod common;

use common::gracewatch;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn manifest(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("captures/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// What the operator would tell gracewatch about the scenario: the servers' grace
/// period and lease, and the manifest's failovers and clusters.
pub fn scenario_args(m: &Value) -> Vec<String> {
    let servers = m["servers"].as_array().unwrap();
    let mut v = vec!["--grace-period".to_string(), servers[0]["grace_period_s"].to_string(), "--lease".into(), servers[0]["lease_lifetime_s"].to_string()];
    if let Some(a) = m["audit_args"].as_array() {
        v.extend(a.iter().map(|x| x.as_str().unwrap().to_string()));
    }
    v
}

fn state(name: &str, at: Option<f64>) -> Value {
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("captures/{name}.pcap"));
    let mut args = vec!["state".to_string(), "--json".into(), "-r".into(), pcap.to_string_lossy().into_owned()];
    args.extend(scenario_args(&manifest(name)));
    if let Some(t) = at {
        args.push("--at".into());
        args.push(format!("+{t}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = gracewatch(&a);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// (server, client, caller_name, oh, svid, fh, offset, end, exclusive, reclaim) of every NLM lock.
type Row = (String, String, String, String, i64, String, u64, Option<u64>, bool, bool);

fn held(state: &Value) -> BTreeSet<Row> {
    let mut out = BTreeSet::new();
    for s in state["servers"].as_array().unwrap() {
        for l in s["locks"].as_array().unwrap() {
            out.insert((
                s["server"].as_str().unwrap().to_string(),
                l["client"].as_str().unwrap().to_string(),
                l["caller_name"].as_str().unwrap().to_string(),
                l["oh"].as_str().unwrap().to_string(),
                l["svid"].as_i64().unwrap(),
                l["fh"].as_str().unwrap().to_string(),
                l["offset"].as_u64().unwrap(),
                l["end"].as_u64(),
                l["exclusive"].as_bool().unwrap(),
                l["reclaim"].as_bool().unwrap(),
            ));
        }
    }
    out
}

fn expected_at_end(m: &Value) -> BTreeSet<Row> {
    m["locks_at_end"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["protocol"] == "nlm")
        .map(|l| {
            let (off, len) = (l["offset"].as_u64().unwrap(), l["len"].as_u64().unwrap());
            (
                l["server"].as_str().unwrap().to_string(),
                l["client_addr"].as_str().unwrap().to_string(),
                l["caller_name"].as_str().unwrap().to_string(),
                l["oh"].as_str().unwrap().to_string(),
                l["svid"].as_i64().unwrap(),
                l["fh"].as_str().unwrap().to_string(),
                off,
                (len != 0).then_some(off + len),
                l["exclusive"].as_bool().unwrap(),
                l["via_reclaim"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// (server, client, file name, offset, end, exclusive) of the NLM locks the manifest
/// records as granted before `t` (seconds from the first frame), less those unlocked.
fn granted_before(m: &Value, t: f64) -> BTreeSet<(String, String, String, u64, Option<u64>, bool)> {
    let mut out = BTreeSet::new();
    for e in m["events"].as_array().unwrap() {
        let kind = e["kind"].as_str().unwrap_or("");
        if !kind.starts_with("nlm_lock") && kind != "nlm_unlock" {
            continue;
        }
        if e["status_code"].as_u64() != Some(0) || e["reply_time"].as_f64().is_none_or(|rt| rt >= t) {
            continue;
        }
        // "LOCK f1 [0,100) excl…" / "UNLOCK f1 [0,100)"
        let what = e["what"].as_str().unwrap();
        let w: Vec<&str> = what.split_whitespace().collect();
        let file = w[1].to_string();
        let range = w[2].trim_start_matches('[').trim_end_matches(')');
        let (a, b) = range.split_once(',').unwrap();
        let (a, b): (u64, Option<u64>) = (a.parse().unwrap(), if b == "EOF" { None } else { Some(b.parse().unwrap()) });
        let key = (e["server"].as_str().unwrap().to_string(), e["client"].as_str().unwrap().to_string(), file, a, b);
        if kind == "nlm_unlock" {
            out.retain(|x: &(String, String, String, u64, Option<u64>, bool)| (&x.0, &x.1, &x.2, x.3, x.4) != (&key.0, &key.1, &key.2, key.3, key.4));
        } else {
            out.insert((key.0, key.1, key.2, a, b, w.get(3) != Some(&"shared")));
        }
    }
    out
}

fn held_by_name(state: &Value) -> BTreeSet<(String, String, String, u64, Option<u64>, bool)> {
    let mut out = BTreeSet::new();
    for s in state["servers"].as_array().unwrap() {
        for l in s["locks"].as_array().unwrap() {
            let path = l["path"].as_str().expect("the capture shows every locked file's name");
            out.insert((
                s["server"].as_str().unwrap().to_string(),
                l["client"].as_str().unwrap().to_string(),
                path.rsplit('/').next().unwrap().to_string(),
                l["offset"].as_u64().unwrap(),
                l["end"].as_u64(),
                l["exclusive"].as_bool().unwrap(),
            ));
        }
    }
    out
}

fn check(name: &str) {
    let m = manifest(name);
    let end = state(name, None);
    assert_eq!(held(&end), expected_at_end(&m), "{name}: NLM locks at the end");
    let kills: Vec<f64> = m["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "server_kill").map(|e| e["t"].as_f64().unwrap()).collect();
    for t in kills {
        let before = state(name, Some(t));
        let want = granted_before(&m, t);
        assert!(!want.is_empty() || name == "busy", "{name}: no locks before the restart at {t}");
        assert_eq!(held_by_name(&before), want, "{name}: NLM locks just before the restart at +{t}s");
    }
}

#[test]
fn clean_restart_locks() {
    check("clean-restart");
}

#[test]
fn failover_locks() {
    check("failover");
}

#[test]
fn graceless_locks() {
    check("graceless");
}

#[test]
fn nsm_locks() {
    check("nsm");
}

#[test]
fn bogus_reclaim_locks() {
    check("bogus-reclaim");
}

#[test]
fn failover_norecords_locks() {
    check("failover-norecords");
}

#[test]
fn cluster_locks() {
    check("cluster");
}

#[test]
fn busy_locks() {
    let m = manifest("busy");
    let end = state("busy", None);
    let want = expected_at_end(&m);
    assert!(want.len() > 250, "{}", want.len());
    assert_eq!(held(&end), want, "busy: NLM locks at the end");
}
