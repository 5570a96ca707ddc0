//! `replay` against real NFS-Ganesha in the lab's private network namespace: drills
//! built from the recorded `clean-restart` capture (establish the same locks, restart
//! or fail over, reclaim in grace) and a small storm. The replay's own traffic is
//! captured: tshark must find no malformed frame and gracewatch's audit no violation.
//!
//! Needs root and the lab packages (`lab::prereq`); skipped otherwise (failing under
//! CI=true). The tests of this file run one after the other (each has its own lab).

use gracewatch::audit::{AuditConfig, Auditor};
use gracewatch::capture::{self, Input};
use gracewatch::lab::scenarios::{SERVER_A, SERVER_B};
use gracewatch::lab::{prereq, tshark, GaneshaCfg, Lab};
use gracewatch::pipeline::Config;
use gracewatch::replay::drill::{self, DrillConfig, DrillResult};
use gracewatch::replay::outcome::{Kind, Result as Res};
use gracewatch::replay::plan::{self, Moment, Plan};
use gracewatch::replay::report::{self, Report};
use gracewatch::replay::responder::Responder;
use gracewatch::replay::scale::{scale, storm_base};
use gracewatch::replay::send::SendConfig;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const GRACE: u32 = 10;
const LEASE: u32 = 10;

fn ns(s: u32) -> i64 {
    i64::from(s) * 1_000_000_000
}

fn clean_restart_plan() -> Plan {
    let pcap = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/clean-restart.pcap").to_string_lossy().into_owned();
    let cfg = AuditConfig { grace: ns(GRACE), lease: ns(LEASE), ..AuditConfig::default() };
    let p = plan::from_capture(&[pcap], "127.0.0.2".parse().unwrap(), Moment::BeforeLastRestart, cfg, Config::default()).unwrap();
    assert_eq!((p.nlm_locks(), p.v4_opens(), p.v4_locks()), (3, 2, 2));
    p
}

/// The files of a plan, made in the lab's export (a failover target serving the same
/// filesystem has them).
fn make_files(lab: &Lab, p: &Plan) {
    let paths = p.nlm.iter().flat_map(|h| h.locks.iter().filter_map(|l| l.path.clone())).chain(p.v4.iter().flat_map(|c| c.opens.iter().filter_map(|o| o.path.clone())));
    for path in paths {
        let rel = path.strip_prefix("/vfs/").unwrap_or_else(|| panic!("path outside the export: {path}"));
        std::fs::write(lab.export.join(rel), b"gracewatch replay\n").unwrap();
    }
}

fn drill_cfg(target: Ipv4Addr, establish_on: Ipv4Addr) -> DrillConfig {
    let mut send = SendConfig::new(target);
    send.source_addrs = (1..=50).map(|i| Ipv4Addr::new(127, 0, 20, i)).collect();
    send.timeout = Duration::from_secs(5);
    send.retry_for = Duration::from_secs(60);
    send.concurrency = 64;
    DrillConfig { send, establish_on: Some(establish_on), remap: true, grace_length: f64::from(GRACE), wait_grace: Duration::from_secs(30), watch_grace: true }
}

/// Reclaims per (protocol, kind, result label).
fn table(r: &Report) -> Vec<(String, String, String, usize)> {
    r.outcomes.iter().map(|x| (x.protocol.clone(), x.request.clone(), x.result.clone(), x.count)).collect()
}

fn audit(pcap: &Path, failover: Option<(IpAddr, IpAddr)>) -> Auditor {
    let cfg = AuditConfig { grace: ns(GRACE), lease: ns(LEASE), failovers: failover.into_iter().collect(), ..AuditConfig::default() };
    let mut a = Auditor::new(cfg);
    let r = capture::run(&Input::Files(vec![pcap.to_string_lossy().into_owned()]), Config::default(), &mut a).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    a.finish();
    a
}

/// Run a drill in a fresh lab with tcpdump around it. `restart` gets the lab.
fn run_drill(name: &str, p: &Plan, target: Ipv4Addr, restart: impl Fn(&Lab) -> gracewatch::lab::Result<()> + Sync) -> Option<(DrillResult, PathBuf)> {
    if !prereq::ready(name) {
        return None;
    }
    let _g = serial();
    let lab = Lab::new().unwrap();
    let pcap = lab.dir.join(format!("{name}.pcap"));
    let td = lab.start_tcpdump(&pcap).unwrap();
    lab.start_rpcbind_statd().unwrap();
    let a = GaneshaCfg::new("a", SERVER_A, GRACE, LEASE);
    lab.start_ganesha(&a).unwrap();
    make_files(&lab, p);
    // a drill starts from a server in normal operation: its first grace is over
    lab.wait_grace_end("a", Duration::from_secs(u64::from(GRACE) + 20), || {}).unwrap();
    let cfg = drill_cfg(target, SERVER_A);
    let d = lab
        .in_ns(|| {
            let mut hook = || restart(&lab).map_err(|e| anyhow::anyhow!("{e}"));
            drill::run(p, &cfg, Some(&mut hook))
        })
        .unwrap()
        .unwrap_or_else(|e| panic!("{name}: {e}\n{}", lab.tail("a/ganesha.log", 20)));
    let dropped = lab.stop_tcpdump(&td).unwrap();
    assert_eq!(dropped, 0, "tcpdump dropped packets");
    let keep = std::env::temp_dir().join(format!("gw-replay-{}-{name}.pcap", std::process::id()));
    std::fs::copy(&pcap, &keep).unwrap();
    drop(lab);
    Some((d, keep))
}

fn check_wire(pcap: &Path, failover: Option<(IpAddr, IpAddr)>) {
    let bad = tshark::malformed(pcap).expect("tshark");
    assert!(bad.is_empty(), "malformed frames:\n{}", bad.join("\n"));
    let a = audit(pcap, failover);
    assert!(a.verdicts().is_empty(), "audit verdicts on a correct server: {:#?}", a.verdicts());
}

fn establish_all_granted(d: &DrillResult) {
    let (ep, er) = d.establish.as_ref().expect("establish phase");
    let e = report::build(ep, er, "establish", None);
    assert_eq!((e.granted, e.planned), (e.planned, 7), "establish: {:?}", e.problems);
}

#[test]
fn drill_clean_restart_all_granted() {
    let p = clean_restart_plan();
    let Some((d, pcap)) = run_drill("replay drill clean-restart", &p, SERVER_A, |lab| lab.restart_ganesha("a", libc::SIGKILL).map(|_| ())) else { return };
    establish_all_granted(&d);
    let r = report::build(&d.plan, &d.reclaim, "a", Some(&d.grace));
    assert_eq!((r.planned, r.granted), (7, 7), "{}", report::text(&r));
    assert!(r.everyone_made_it && r.locks_lost == 0);
    assert!(d.grace.seen_in_grace, "{:?}", d.notes);
    let g = r.grace.as_ref().unwrap();
    assert!(g.end_observed && g.margin_s.unwrap() > 0.0, "{g:?}");
    // the observed grace lasts about the configured length (5 s reaper tick)
    let len = g.end_s - g.start_s.unwrap();
    assert!(len > f64::from(GRACE) - 1.0 && len < f64::from(GRACE) + 7.0, "grace lasted {len} s");
    assert_eq!(d.remap, Some((4, 0)));
    // RECLAIM_COMPLETE of the v4.1 client accepted
    assert!(d.reclaim.outcomes.iter().any(|o| o.kind == Kind::ReclaimComplete && o.result.is_granted()));
    check_wire(&pcap, None);
    let _ = std::fs::remove_file(&pcap);
}

#[test]
fn drill_failover_with_recovery_records_all_granted() {
    let p = clean_restart_plan();
    let restart = |lab: &Lab| {
        lab.stop_ganesha("a", libc::SIGKILL)?;
        lab.copy_recovery("a", "b")?;
        lab.start_ganesha(&GaneshaCfg::new("b", SERVER_B, GRACE, LEASE)).map(|_| ())
    };
    let Some((d, pcap)) = run_drill("replay drill failover", &p, SERVER_B, restart) else { return };
    establish_all_granted(&d);
    let r = report::build(&d.plan, &d.reclaim, "b", Some(&d.grace));
    assert_eq!((r.planned, r.granted, r.locks_lost), (7, 7, 0), "{}", report::text(&r));
    assert!(r.everyone_made_it);
    check_wire(&pcap, Some((IpAddr::V4(SERVER_A), IpAddr::V4(SERVER_B))));
    let _ = std::fs::remove_file(&pcap);
}

#[test]
fn drill_failover_without_recovery_records_loses_v4() {
    let p = clean_restart_plan();
    let restart = |lab: &Lab| {
        lab.stop_ganesha("a", libc::SIGKILL)?;
        lab.start_ganesha(&GaneshaCfg::new("b", SERVER_B, GRACE, LEASE)).map(|_| ())
    };
    let Some((d, pcap)) = run_drill("replay drill failover without records", &p, SERVER_B, restart) else { return };
    establish_all_granted(&d);
    let r = report::build(&d.plan, &d.reclaim, "b", Some(&d.grace));
    let t = table(&r);
    let row = |proto: &str, req: &str, res: &str| t.iter().find(|x| x.0 == proto && x.1 == req && x.2 == res).map_or(0, |x| x.3);
    assert_eq!(row("NLM4", "LOCK reclaim", "granted"), 3, "{t:?}");
    for v in ["NFSv4.0", "NFSv4.1"] {
        assert_eq!(row(v, "OPEN CLAIM_PREVIOUS", "refused NFS4ERR_NO_GRACE"), 1, "{t:?}");
        assert_eq!(row(v, "LOCK reclaim", "refused NFS4ERR_NO_GRACE (not sent)"), 1, "{t:?}");
    }
    assert_eq!((r.granted, r.refused, r.failed, r.locks_lost), (3, 4, 0, 2));
    assert!(!r.everyone_made_it);
    assert!(d.reclaim.outcomes.iter().filter(|o| o.kind == Kind::Open).all(|o| matches!(&o.result, Res::Refused { code: 10033, sent: true, .. })));
    // a correct server: the v4 locks it lost are the audit's GW006 at most
    let bad = tshark::malformed(&pcap).expect("tshark");
    assert!(bad.is_empty(), "malformed frames:\n{}", bad.join("\n"));
    let a = audit(&pcap, Some((IpAddr::V4(SERVER_A), IpAddr::V4(SERVER_B))));
    assert!(a.verdicts().iter().all(|v| v.id == "GW006"), "{:#?}", a.verdicts());
    let _ = std::fs::remove_file(&pcap);
}

/// 200 NLM hosts and 20 NFSv4.1 clients (3 locks each) against ganesha, and the same
/// storm against the in-process responder.
#[test]
fn small_storm_against_ganesha_and_responder() {
    let p = scale(&storm_base("/vfs", 4, 1, 3), 50, 20).unwrap();
    assert_eq!((p.nlm.len(), p.v4.len(), p.reclaims()), (200, 20, 280));
    let Some((d, pcap)) = run_drill("replay small storm", &p, SERVER_A, |lab| lab.restart_ganesha("a", libc::SIGKILL).map(|_| ())) else { return };
    let r = report::build(&d.plan, &d.reclaim, "ganesha", Some(&d.grace));
    eprintln!("{}", report::text(&r));
    assert_eq!((r.planned, r.granted), (280, 280), "{:?}", r.problems);
    assert!(r.everyone_made_it);
    check_wire(&pcap, None);
    let _ = std::fs::remove_file(&pcap);
    // the responder: the same storm, with the responder's handles
    let resp = Responder::start(Ipv4Addr::LOCALHOST, 1).unwrap();
    let mut c = SendConfig::new(Ipv4Addr::LOCALHOST);
    c.nfs_port = resp.port();
    c.rpcbind_port = resp.port();
    let run = gracewatch::replay::send::run(std::sync::Arc::new(p.clone()), &c).unwrap();
    let rr = report::build(&p, &run, "responder", None);
    assert_eq!(rr.granted, 280);
    eprintln!("ganesha {:.0} granted/s, responder {:.0} granted/s", r.rate_mean, rr.rate_mean);
    resp.stop();
}

/// The command itself, inside the namespace: `gracewatch replay --establish
/// --restart-cmd …` restarts ganesha with a shell command, waits for grace, reclaims
/// and reports; `gracewatch audit` finds nothing wrong in the capture of it all.
#[test]
fn command_line_drill_with_restart_cmd() {
    if !prereq::ready("replay command-line drill") {
        return;
    }
    let _g = serial();
    let p = clean_restart_plan();
    let lab = Lab::new().unwrap();
    let pcap = lab.dir.join("cli.pcap");
    let td = lab.start_tcpdump(&pcap).unwrap();
    lab.start_rpcbind_statd().unwrap();
    let pid = lab.start_ganesha(&GaneshaCfg::new("a", SERVER_A, GRACE, LEASE)).unwrap();
    make_files(&lab, &p);
    lab.wait_grace_end("a", Duration::from_secs(u64::from(GRACE) + 20), || {}).unwrap();
    let d = lab.server_dir("a");
    let restart = format!(
        "kill -9 {pid}; sleep 1; setsid ganesha.nfsd -F -f {conf} -L {log} -p {pidf} -N NIV_EVENT >{out} 2>&1 &",
        conf = d.join("ganesha.conf").display(),
        log = lab.ganesha_log("a").display(),
        pidf = d.join("run/ganesha.pid").display(),
        out = d.join("restarted.out").display(),
    );
    let capture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/clean-restart.pcap");
    let gw = env!("CARGO_BIN_EXE_gracewatch");
    let cap = capture.to_string_lossy();
    let argv = [
        gw, "replay", "-r", &cap, "--server", "127.0.0.2", "--grace-period", "10", "--lease", "10", "--target", "127.0.0.2", "--establish", "--restart-cmd", &restart,
        "--remap-by-path", "--target-grace", "10", "--watch-grace", "--json", "--source-addrs", "127.0.20.1-127.0.20.20", "--timeout", "5",
    ];
    let out = lab.run("gracewatch-replay", &argv, Duration::from_secs(120)).unwrap();
    let so = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{so}\n{}", String::from_utf8_lossy(&out.stderr));
    let j: serde_json::Value = serde_json::from_str(&so).unwrap();
    assert_eq!(j["establish"]["granted"], 7, "{so}");
    assert_eq!((j["reclaim"]["planned"].as_u64(), j["reclaim"]["granted"].as_u64()), (Some(7), Some(7)), "{so}");
    assert_eq!(j["reclaim"]["everyone_made_it"], true);
    assert_eq!(j["reclaim"]["grace"]["end_observed"], true);
    assert_eq!(j["reclaim"]["grace"]["seen_in_grace"], true);
    lab.stop_tcpdump(&td).unwrap();
    let bad = tshark::malformed(&pcap).expect("tshark");
    assert!(bad.is_empty(), "malformed frames:\n{}", bad.join("\n"));
    let audit = std::process::Command::new(gw).arg("audit").arg("-r").arg(&pcap).args(["--grace-period", "10", "--lease", "10", "--fail-on", "warning", "--json"]).output().unwrap();
    let text = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.status.success(), "audit: {text}");
    let a: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(a["verdicts"].as_array().map(Vec::len), Some(0), "{text}");
    // the audit saw the restart the command made
    assert!(text.contains("\"restarted\": true"), "{text}");
}
