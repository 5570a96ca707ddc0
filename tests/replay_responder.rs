//! The replay against the in-process responder (no lab needed): every planned
//! request of a small storm ends granted, over TCP and UDP, through the library and
//! through the `gracewatch replay` command; a responder that stops answering makes
//! requests fail with a reason, never vanish.

use gracewatch::audit::AuditConfig;
use gracewatch::pipeline::Config;
use gracewatch::replay::outcome::{Kind, Result as Res};
use gracewatch::replay::plan::{self, Moment, Plan};
use gracewatch::replay::report;
use gracewatch::replay::responder::Responder;
use gracewatch::replay::scale::scale;
use gracewatch::replay::send::{self, SendConfig};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

fn capture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures").join(format!("{name}.pcap")).to_string_lossy().into_owned()
}

fn clean_restart_plan() -> Plan {
    let p = plan::from_capture(&[capture("clean-restart")], "127.0.0.2".parse().unwrap(), Moment::BeforeLastRestart, AuditConfig::default(), Config::default()).unwrap();
    assert_eq!(p.reclaims(), 7);
    p
}

fn cfg(r: &Responder) -> SendConfig {
    let mut c = SendConfig::new(Ipv4Addr::LOCALHOST);
    c.nfs_port = r.port();
    c.rpcbind_port = r.port();
    c.timeout = Duration::from_secs(5);
    c.concurrency = 64;
    c
}

#[test]
fn small_storm_is_all_granted() {
    let r = Responder::start(Ipv4Addr::LOCALHOST, 1).unwrap();
    // 3 NLM hosts ×70 = 210, one v4.0 and one v4.1 client ×20 = 40 clients
    let p = Arc::new(scale(&clean_restart_plan(), 70, 20).unwrap());
    assert_eq!((p.nlm.len(), p.v4.len()), (210, 40));
    for udp in [false, true] {
        let mut c = cfg(&r);
        c.nlm_udp = udp;
        let run = send::run(p.clone(), &c).unwrap();
        let rec: Vec<_> = run.outcomes.iter().filter(|o| o.kind.is_reclaim()).collect();
        assert_eq!(rec.len(), p.reclaims(), "one outcome per planned reclaim (udp {udp})");
        assert!(rec.iter().all(|o| o.result.is_granted()), "{:?}", rec.iter().find(|o| !o.result.is_granted()));
        // setup per v4 client, RECLAIM_COMPLETE per v4.1 client
        assert_eq!(run.outcomes.iter().filter(|o| o.kind == Kind::Setup).count(), 40);
        assert_eq!(run.outcomes.iter().filter(|o| o.kind == Kind::ReclaimComplete).count(), 20);
        let rep = report::build(&p, &run, "responder", None);
        assert!(rep.everyone_made_it);
        assert_eq!((rep.locks_planned, rep.locks_lost, rep.clients, rep.clients_complete), (250, 0, 250, 250));
        assert!(rep.latency.is_some() && rep.rate_mean > 0.0);
    }
    // every NLM reclaim and every v4 compound reached the responder
    assert_eq!(r.counters.nlm_locks.load(Ordering::Relaxed), 2 * 210);
    r.stop();
}

#[test]
fn establish_mode_sends_normal_requests() {
    let r = Responder::start(Ipv4Addr::LOCALHOST, 1).unwrap();
    let p = Arc::new(clean_restart_plan());
    let mut c = cfg(&r);
    c.establish = true;
    let run = send::run(p.clone(), &c).unwrap();
    assert!(run.outcomes.iter().filter(|o| o.kind.is_reclaim()).all(|o| o.result.is_granted()));
    // the v4.1 client declares RECLAIM_COMPLETE before its first OPEN
    let v41: Vec<Kind> = run.outcomes.iter().filter(|o| o.protocol == "NFSv4.1").map(|o| o.kind).collect();
    assert_eq!(v41, [Kind::Setup, Kind::ReclaimComplete, Kind::Open, Kind::Lock]);
    r.stop();
}

/// Nothing answers: every planned request ends failed with a reason.
#[test]
fn dead_target_fails_everything_with_reasons() {
    let r = Responder::start(Ipv4Addr::LOCALHOST, 1).unwrap();
    let port = r.port();
    r.stop();
    let p = Arc::new(clean_restart_plan());
    let mut c = SendConfig::new(Ipv4Addr::LOCALHOST);
    c.nfs_port = port;
    c.nlm_port = Some(port);
    c.timeout = Duration::from_millis(200);
    c.retries = 1;
    c.reconnects = 2;
    let run = send::run(p.clone(), &c).unwrap();
    let rec: Vec<_> = run.outcomes.iter().filter(|o| o.kind.is_reclaim()).collect();
    assert_eq!(rec.len(), 7);
    for o in &rec {
        match &o.result {
            Res::Failed { reason } => assert!(reason.contains("connection") || reason.contains("not sent"), "{reason}"),
            r => panic!("{r:?}"),
        }
    }
    let rep = report::build(&p, &run, "dead", None);
    assert_eq!((rep.failed, rep.locks_lost), (7, 5));
    assert!(!rep.everyone_made_it);
}

#[test]
fn command_line_replay_against_the_responder() {
    let r = Responder::start(Ipv4Addr::LOCALHOST, 1).unwrap();
    let port = r.port().to_string();
    let svg = std::env::temp_dir().join(format!("gw-replay-{}.svg", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gracewatch"))
        .args(["replay", "-r", &capture("clean-restart"), "--server", "127.0.0.2", "--target", "127.0.0.1"])
        .args(["--rpcbind-port", &port, "--nfs-port", &port, "--scale", "5", "--json", "--source-addrs", "127.0.0.1"])
        .arg("--plot")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["reclaim"]["planned"], 35);
    assert_eq!(j["reclaim"]["granted"], 35);
    assert_eq!(j["reclaim"]["everyone_made_it"], true);
    assert_eq!(j["plan"]["summary"][0]["clients"], 15);
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.starts_with("<svg") && plot.contains("35 granted"));
    let _ = std::fs::remove_file(&svg);
    // text output, and a plan without a target sends nothing
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gracewatch"))
        .args(["replay", "-r", &capture("clean-restart"), "--server", "127.0.0.2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing is sent"));
    let calls = r.counters.calls.load(Ordering::Relaxed);
    r.stop();
    assert!(calls >= 35, "{calls}");
}

fn reclaim_results(run: &send::RunResult, kind: Kind) -> Vec<String> {
    run.outcomes.iter().filter(|o| o.kind == kind).map(|o| o.result.label()).collect()
}

/// NLM reclaims refused for grace are final (grace is over); normal locks refused for
/// grace while establishing are tried again until granted; OPENs answered
/// NFS4ERR_DELAY are tried again; NFS4ERR_GRACE is retried only when establishing.
#[test]
fn grace_and_delay_answers() {
    let r = Responder::start(Ipv4Addr::LOCALHOST, 1).unwrap();
    let p = Arc::new(clean_restart_plan());
    let mut c = cfg(&r);
    c.concurrency = 1;
    r.counters.nlm_grace.store(2, Ordering::Relaxed);
    r.counters.open_delay.store(3, Ordering::Relaxed);
    let run = send::run(p.clone(), &c).unwrap();
    let nlm = reclaim_results(&run, Kind::NlmLock);
    assert_eq!(nlm.iter().filter(|l| *l == "refused DENIED_GRACE_PERIOD").count(), 2, "{nlm:?}");
    assert_eq!(nlm.iter().filter(|l| *l == "granted").count(), 1);
    assert!(reclaim_results(&run, Kind::Open).iter().all(|l| l == "granted"));
    assert!(reclaim_results(&run, Kind::Lock).iter().all(|l| l == "granted"));
    assert_eq!(run.retries, 3, "three DELAY answers retried");
    let opens: u32 = run.outcomes.iter().filter(|o| o.kind == Kind::Open).map(|o| o.attempts).sum();
    assert_eq!(opens, 5, "2 OPENs sent 5 times in all");
    // a reclaim OPEN answered GRACE is not retried
    r.counters.open_grace.store(1, Ordering::Relaxed);
    let run = send::run(p.clone(), &c).unwrap();
    let opens = reclaim_results(&run, Kind::Open);
    assert_eq!(opens.iter().filter(|l| *l == "refused NFS4ERR_GRACE").count(), 1, "{opens:?}");
    assert!(reclaim_results(&run, Kind::Lock).iter().any(|l| l == "refused NFS4ERR_GRACE (not sent)"));
    // establishing: grace refusals of both protocols are waited out
    c.establish = true;
    r.counters.nlm_grace.store(2, Ordering::Relaxed);
    r.counters.open_grace.store(2, Ordering::Relaxed);
    let run = send::run(p, &c).unwrap();
    assert!(run.outcomes.iter().all(|o| o.result.is_granted()), "{:?}", run.outcomes.iter().find(|o| !o.result.is_granted()));
    assert_eq!(run.retries, 4);
    r.stop();
}

/// The responder closes the connection instead of answering: the call is sent again,
/// with the same xid, on a new connection.
#[test]
fn dropped_connections_are_reconnected() {
    let r = Responder::start(Ipv4Addr::LOCALHOST, 1).unwrap();
    let p = Arc::new(clean_restart_plan());
    let mut c = cfg(&r);
    c.concurrency = 1;
    c.nlm_port = Some(r.port());
    r.counters.drop_calls.store(4, Ordering::Relaxed);
    let run = send::run(p.clone(), &c).unwrap();
    assert!(run.outcomes.iter().all(|o| o.result.is_granted()), "{:#?}", run.outcomes.iter().filter(|o| !o.result.is_granted()).collect::<Vec<_>>());
    assert_eq!(run.reconnects, 4);
    let resent: u32 = run.outcomes.iter().map(|o| o.attempts.saturating_sub(1)).sum();
    assert!(resent >= 1, "the dropped calls were sent again");
    r.stop();
}
