//! Reclaim storm measurement: N simulated NLM hosts (one lock each) and M NFSv4.1
//! clients (a few locks each) reclaim against NFS-Ganesha in the lab namespace
//! (drill: establish, SIGKILL, restart with the storm's grace period, reclaim, watch
//! grace end), and the same storm against the in-process responder (the replayer's
//! own ceiling).
//!
//! As root, release build:
//!   cargo run --release --example storm -- [--nlm 10000] [--v4 1000] [--v4-locks 3]
//!       [--nlm-files 16] [--grace 90] [--lease 60] [--concurrency 64] [--threads 2]
//!       [--addrs 254] [--timeout 30] [--udp] [--only ganesha|responder] [--out DIR] [--pcap FILE]
//! Writes DIR/{ganesha,responder}.json and .svg (DIR defaults to target/storm).

use gracewatch::lab::scenarios::SERVER_A;
use gracewatch::lab::{prereq, GaneshaCfg, Lab};
use gracewatch::replay::drill::{self, DrillConfig};
use gracewatch::replay::report::{self, Grace, Report};
use gracewatch::replay::responder::Responder;
use gracewatch::replay::scale::{scale, storm_base};
use gracewatch::replay::send::{self, SendConfig};
use gracewatch::replay::{plan::Plan, svg};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

struct Opts {
    nlm: usize,
    v4: usize,
    v4_locks: usize,
    nlm_files: usize,
    grace: u32,
    lease: u32,
    concurrency: usize,
    threads: usize,
    udp: bool,
    addrs: usize,
    timeout: u64,
    only: Option<String>,
    out: PathBuf,
    pcap: Option<PathBuf>,
}

fn opts() -> Opts {
    let mut o = Opts { nlm: 10_000, v4: 1000, v4_locks: 3, nlm_files: 16, grace: 90, lease: 60, concurrency: 64, threads: 2, udp: false, addrs: 254, timeout: 30, only: None, out: PathBuf::from("target/storm"), pcap: None };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        let n = || v.parse::<usize>().unwrap_or_else(|_| panic!("{} takes a number", args[i]));
        match args[i].as_str() {
            "--nlm" => o.nlm = n(),
            "--v4" => o.v4 = n(),
            "--v4-locks" => o.v4_locks = n(),
            "--nlm-files" => o.nlm_files = n(),
            "--grace" => o.grace = n() as u32,
            "--lease" => o.lease = n() as u32,
            "--concurrency" => o.concurrency = n(),
            "--threads" => o.threads = n(),
            "--addrs" => o.addrs = n(),
            "--timeout" => o.timeout = n() as u64,
            "--only" => o.only = Some(v.clone()),
            "--out" => o.out = PathBuf::from(&v),
            "--pcap" => o.pcap = Some(PathBuf::from(&v)),
            "--udp" => {
                o.udp = true;
                i += 1;
                continue;
            }
            a => panic!("unknown argument {a}"),
        }
        i += 2;
    }
    o
}

fn storm_plan(o: &Opts) -> Plan {
    let files = o.nlm_files.clamp(1, o.nlm.max(1));
    let nlm_scale = o.nlm.div_ceil(files).max(1);
    let mut p = scale(&storm_base("/vfs", files, 1, o.v4_locks), nlm_scale, o.v4.max(1)).expect("scale");
    p.nlm.truncate(o.nlm);
    if o.v4 == 0 {
        p.v4.clear();
    }
    p
}

fn send_cfg(o: &Opts, target: Ipv4Addr) -> SendConfig {
    let mut c = SendConfig::new(target);
    // from 127.0.20.1 on: the server (and its statd) sees this many hosts
    c.source_addrs = (20..=255u8).flat_map(|b| (1..=254u8).map(move |d| Ipv4Addr::new(127, 0, b, d))).take(o.addrs.max(1)).collect();
    c.concurrency = o.concurrency;
    c.threads = o.threads;
    c.nlm_udp = o.udp;
    c.timeout = Duration::from_secs(o.timeout);
    c.retry_for = Duration::from_secs(u64::from(o.grace) + 120);
    c.progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    c
}

fn save(o: &Opts, name: &str, r: &Report, outcomes: &[gracewatch::replay::Outcome], grace: Option<&Grace>) {
    std::fs::create_dir_all(&o.out).expect("out dir");
    std::fs::write(o.out.join(format!("{name}.json")), serde_json::to_string_pretty(r).expect("json")).expect("write json");
    let title = format!("{name}: {} NLM + {} NFSv4.1 clients, {} reclaims, {} granted", o.nlm, o.v4, r.planned, r.granted);
    std::fs::write(o.out.join(format!("{name}.svg")), svg::plot(outcomes, grace, &title)).expect("write svg");
}

fn ganesha(o: &Opts, p: &Plan) -> Option<Report> {
    if !prereq::ready("storm") {
        return None;
    }
    let lab = Lab::new().expect("lab");
    let td = o.pcap.as_ref().map(|f| lab.start_tcpdump(&lab.dir.join("storm.pcap")).map(|t| (t, f.clone())).expect("tcpdump"));
    lab.start_rpcbind_statd().expect("rpcbind, statd");
    // first start with a short grace (the drill establishes after it), then the
    // restart with the storm's grace period
    let short = GaneshaCfg::new("a", SERVER_A, 5, o.lease);
    let long = GaneshaCfg::new("a", SERVER_A, o.grace, o.lease);
    lab.start_ganesha(&short).expect("ganesha");
    for path in p.nlm.iter().flat_map(|h| &h.locks).filter_map(|l| l.path.clone()).chain(p.v4.iter().flat_map(|c| &c.opens).filter_map(|x| x.path.clone())) {
        let f = lab.export.join(path.trim_start_matches("/vfs/"));
        if !f.exists() {
            std::fs::write(f, b"storm\n").expect("file");
        }
    }
    lab.wait_grace_end("a", Duration::from_secs(30), || {}).expect("first grace");
    let cfg = DrillConfig { send: send_cfg(o, SERVER_A), establish_on: Some(SERVER_A), remap: true, grace_length: f64::from(o.grace), wait_grace: Duration::from_secs(60), watch_grace: true };
    eprintln!("ganesha: establishing {} clients, then SIGKILL and restart with a {} s grace", p.nlm.len() + p.v4.len(), o.grace);
    let d = lab
        .in_ns(|| {
            let mut hook = || {
                lab.stop_ganesha("a", libc::SIGKILL).map_err(|e| anyhow::anyhow!("{e}"))?;
                lab.start_ganesha(&long).map(|_| ()).map_err(|e| anyhow::anyhow!("{e}"))
            };
            drill::run(p, &cfg, Some(&mut hook))
        })
        .expect("namespace")
        .expect("drill");
    if let Some((ep, er)) = &d.establish {
        let e = report::build(ep, er, "ganesha (establish)", None);
        eprintln!("establish: {} of {} granted in {:.1} s ({:.0}/s); problems: {:?}", e.granted, e.planned, er.elapsed, e.rate_mean, e.problems);
    }
    for n in &d.notes {
        eprintln!("note: {n}");
    }
    let r = report::build(&d.plan, &d.reclaim, "ganesha 127.0.0.2", Some(&d.grace));
    print!("=== ganesha ===\n{}", report::text(&r));
    save(o, "ganesha", &r, &d.reclaim.outcomes, Some(&d.grace));
    if let Some((t, f)) = td {
        lab.stop_tcpdump(&t).expect("tcpdump");
        std::fs::copy(lab.dir.join("storm.pcap"), &f).expect("copy pcap");
        eprintln!("capture: {}", f.display());
    }
    Some(r)
}

fn responder(o: &Opts, p: &Plan) -> Report {
    let resp = Responder::start(Ipv4Addr::LOCALHOST, 1).expect("responder");
    let mut c = send_cfg(o, Ipv4Addr::LOCALHOST);
    c.nfs_port = resp.port();
    c.rpcbind_port = resp.port();
    // the same source addresses (all of 127.0.0.0/8 is local on lo): one address
    // alone runs out of ports to TIME_WAIT after ~28,000 connections
    let run = send::run(Arc::new(p.clone()), &c).expect("run");
    let r = report::build(p, &run, "in-process responder", None);
    print!("=== responder ===\n{}", report::text(&r));
    save(o, "responder", &r, &run.outcomes, None);
    let resp_cpu = resp.stop();
    println!("responder CPU: {resp_cpu:.2} s; sender CPU: {:.2} s over {:.2} s of wall clock", run.cpu, run.elapsed);
    r
}

fn main() {
    let o = opts();
    let p = storm_plan(&o);
    eprintln!("storm: {} NLM hosts ({} locks), {} NFSv4.1 clients ({} opens, {} locks)", p.nlm.len(), p.nlm_locks(), p.v4.len(), p.v4_opens(), p.v4_locks());
    let g = if o.only.as_deref() != Some("responder") { ganesha(&o, &p) } else { None };
    let r = if o.only.as_deref() != Some("ganesha") { Some(responder(&o, &p)) } else { None };
    println!("=== summary ===");
    if let Some(g) = &g {
        let margin = g.grace.as_ref().and_then(|x| x.margin_s).map_or("-".into(), |m| format!("{m:.1} s"));
        println!("ganesha:   {}/{} granted, {:.0} granted/s mean, peak {}/s, last grant {:.1} s, grace margin {margin}, everyone made it: {}", g.granted, g.planned, g.rate_mean, g.rate_peak_1s, g.last_granted_s.unwrap_or(0.0), g.everyone_made_it);
    }
    if let Some(r) = &r {
        println!("responder: {}/{} granted, {:.0} granted/s mean, peak {}/s, last grant {:.1} s", r.granted, r.planned, r.rate_mean, r.rate_peak_1s, r.last_granted_s.unwrap_or(0.0));
    }
    if let Some(r) = &r {
        if let Some(us) = r.sender_cpu_us_per_reclaim {
            println!("replayer alone: {us:.1} CPU-µs per reclaim, {:.0} reclaims/s per core, {:.0}/s on {} threads", 1e6 / us, o.threads as f64 * 1e6 / us, o.threads);
        }
    }
    if let (Some(g), Some(r)) = (&g, &r) {
        println!("against the responder / against ganesha: {:.1}x (wall clock, sharing the cores with the responder)", r.rate_mean / g.rate_mean.max(1e-9));
        if let Some(us) = r.sender_cpu_us_per_reclaim {
            println!("replayer CPU ceiling / ganesha: {:.1}x", o.threads as f64 * 1e6 / us / g.rate_mean.max(1e-9));
        }
    }
}
