//! `replay`: the locks clients held on a server IP, reclaimed against a target server
//! during its grace period (optionally as a storm of cloned clients, optionally as a
//! drill that first takes the locks and restarts the target).

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use gracewatch::pipeline::Config;
use gracewatch::replay::drill::{self, DrillConfig};
use gracewatch::replay::plan::{self, Moment, Plan};
use gracewatch::replay::report::{self, Report};
use gracewatch::replay::{requests, scale, send::SendConfig, svg};
use gracewatch::state::{parse_at, TrackerConfig};
use serde::Serialize;
use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Capture files (pcap or pcapng); several are merged by time.
    #[arg(short = 'r', long = "read", value_name = "FILE", required = true)]
    read: Vec<String>,
    /// The server IP whose clients' locks are replayed.
    #[arg(long, value_name = "IP")]
    server: IpAddr,
    /// Where to send the reclaims (IPv4 address or name). Without it nothing is sent.
    #[arg(long, value_name = "HOST")]
    target: Option<String>,
    /// Take the state at this moment: "end" (of the capture), epoch seconds, +SECS
    /// after the first frame, or YYYY-MM-DDTHH:MM:SS[.frac][Z]. Default: just before
    /// the server's last restart, or the end of the capture when it never restarted.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Print the plan and its first requests; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Look each file up by the path the capture showed and use the target's handles.
    #[arg(long)]
    remap_by_path: bool,
    /// Drill: first take the same locks normally (then --restart-cmd, then reclaim).
    #[arg(long, requires = "restart_cmd")]
    establish: bool,
    /// With --establish: take the locks on this host instead of the target (a failover
    /// from HOST to the target).
    #[arg(long, value_name = "HOST", requires = "establish")]
    establish_on: Option<String>,
    /// Command (run with sh -c) that restarts or fails over the target; gracewatch
    /// then waits until the target answers in grace and sends the reclaims.
    #[arg(long, value_name = "CMD")]
    restart_cmd: Option<String>,
    /// Clone every client N times (distinct names, owners, non-overlapping ranges).
    #[arg(long, value_name = "N", default_value_t = 1)]
    scale: usize,
    /// Clone NLM hosts this many times instead (overrides --scale for NLM).
    #[arg(long, value_name = "N")]
    scale_nlm: Option<usize>,
    /// Clone NFSv4 clients this many times instead (overrides --scale for NFSv4).
    #[arg(long, value_name = "N")]
    scale_v4: Option<usize>,
    /// Simulated clients running at once (each on its own connection). NFS-Ganesha 4.3
    /// stalls when a few hundred NLM requests from hosts it does not monitor yet arrive
    /// at once (its workers all wait for statd): keep this below its worker count.
    #[arg(long, value_name = "N", default_value_t = 64)]
    concurrency: usize,
    /// Calls per second over all clients (default: as fast as the target answers).
    #[arg(long, value_name = "PER_SEC")]
    rate: Option<f64>,
    /// Local addresses to send from, dealt out to the clients: A, A-B, A/NN, comma
    /// separated (default: the kernel's choice).
    #[arg(long, value_name = "ADDRS")]
    source_addrs: Option<String>,
    /// NLM over UDP instead of TCP.
    #[arg(long)]
    udp: bool,
    #[arg(long, value_name = "PORT", default_value_t = 2049)]
    nfs_port: u16,
    #[arg(long, value_name = "PORT", default_value_t = 111)]
    rpcbind_port: u16,
    /// NLM port (default: asked of the target's rpcbind).
    #[arg(long, value_name = "PORT")]
    nlm_port: Option<u16>,
    /// Seconds to wait for a reply before retransmitting (same xid).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    timeout: f64,
    /// Retransmissions of a call before it fails.
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,
    /// The target's grace period (seconds), to compare the last reclaim with.
    #[arg(long, value_name = "SECS", default_value_t = 90.0)]
    target_grace: f64,
    /// After --restart-cmd: how long to wait for the target to answer in grace.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    wait_grace: f64,
    /// After the reclaims, probe the target until its grace is over (NLM TEST).
    #[arg(long)]
    watch_grace: bool,
    /// Sender threads (each runs its share of the clients).
    #[arg(long, value_name = "N", default_value_t = 2)]
    threads: usize,
    /// Draw reclaims per second against the grace window into FILE.svg.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    epochs: super::audit::EpochArgs,
}

/// IPv4 addresses from "A", "A-B", "A/NN", comma separated (at most 65536).
pub fn parse_addrs(s: &str) -> Result<Vec<Ipv4Addr>> {
    let ip = |x: &str| x.trim().parse::<Ipv4Addr>().map_err(|_| anyhow!("not an IPv4 address: {x:?}"));
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = if let Some((a, b)) = part.split_once('-') {
            (u32::from(ip(a)?), u32::from(ip(b)?))
        } else if let Some((a, n)) = part.split_once('/') {
            let n: u32 = n.parse().map_err(|_| anyhow!("bad prefix length in {part:?}"))?;
            if !(8..=32).contains(&n) {
                bail!("prefix length must be 8..32 in {part:?}");
            }
            let mask = if n == 32 { u32::MAX } else { !(u32::MAX >> n) };
            let net = u32::from(ip(a)?) & mask;
            let last = net | !mask;
            if n >= 31 {
                (net, last)
            } else {
                (net + 1, last - 1)
            }
        } else {
            let a = u32::from(ip(part)?);
            (a, a)
        };
        if hi < lo {
            bail!("empty address range {part:?}");
        }
        if (hi - lo) as usize + out.len() >= 65536 {
            bail!("more than 65536 source addresses");
        }
        out.extend((lo..=hi).map(Ipv4Addr::from));
    }
    if out.is_empty() {
        bail!("--source-addrs lists no address");
    }
    Ok(out)
}

fn resolve_v4(host: &str) -> Result<Ipv4Addr> {
    if let Ok(a) = host.parse::<Ipv4Addr>() {
        return Ok(a);
    }
    (host, 0)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {host:?}"))?
        .find_map(|a| match a.ip() {
            IpAddr::V4(v) => Some(v),
            IpAddr::V6(_) => None,
        })
        .ok_or_else(|| anyhow!("{host:?} has no IPv4 address"))
}

fn secs(what: &str, s: f64) -> Result<Duration> {
    if !(s > 0.0 && s.is_finite() && s < 1e6) {
        bail!("{what} must be a positive number of seconds, got {s}");
    }
    Ok(Duration::from_secs_f64(s))
}

#[derive(Serialize)]
struct PlanOut<'a> {
    server: Option<IpAddr>,
    basis: &'a str,
    taken_at: Option<f64>,
    summary: Vec<plan::Summary>,
    notes: &'a [String],
    first_requests: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a Plan>,
}

#[derive(Serialize)]
struct Out<'a> {
    plan: PlanOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    establish: Option<Report>,
    reclaim: Report,
    notes: &'a [String],
}

fn plan_text(p: &Plan, first: &[String]) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL);
    t.set_header(vec!["protocol", "clients", "owners", "opens", "locks", "files"]);
    for s in p.summary() {
        t.add_row(vec![s.protocol, s.clients.to_string(), s.owners.to_string(), s.opens.to_string(), s.locks.to_string(), s.files.to_string()]);
    }
    let mut o = format!("Plan for {}: state at {}\n{t}\n", p.server.map_or("-".into(), |s| s.to_string()), p.basis);
    for n in &p.notes {
        o.push_str(&format!("note: {n}\n"));
    }
    if !first.is_empty() {
        o.push_str("First requests:\n");
        for f in first {
            o.push_str(&format!("  {f}\n"));
        }
    }
    o
}

pub fn replay(a: ReplayArgs) -> Result<ExitCode> {
    let moment = match a.at.as_deref() {
        None => Moment::BeforeLastRestart,
        Some("end") => Moment::EndOfCapture,
        Some(t) => Moment::At(parse_at(t)?),
    };
    let audit = a.epochs.config(TrackerConfig::default())?;
    let base = plan::from_capture(&a.read, a.server, moment, audit, Config::default())?;
    let (sn, sv) = (a.scale_nlm.unwrap_or(a.scale), a.scale_v4.unwrap_or(a.scale));
    let p = scale::scale(&base, sn, sv).map_err(anyhow::Error::msg)?;
    let first: Vec<String> = requests::preview(&p, a.establish, 12).into_iter().map(|(proto, t)| format!("{proto} {t}")).collect();
    let target = match (&a.target, a.dry_run) {
        (_, true) | (None, _) => {
            if !a.dry_run {
                eprintln!("gracewatch: no --target given: nothing is sent (the plan follows)");
            }
            let out = PlanOut { server: p.server, basis: &p.basis, taken_at: p.taken_at, summary: p.summary(), notes: &p.notes, first_requests: first.clone(), plan: a.json.then_some(&p) };
            let mut so = io::stdout().lock();
            if a.json {
                serde_json::to_writer_pretty(&mut so, &out)?;
                writeln!(so)?;
            } else {
                write!(so, "{}", plan_text(&p, &first))?;
            }
            return Ok(if a.dry_run { ExitCode::SUCCESS } else { ExitCode::from(2) });
        }
        (Some(t), false) => resolve_v4(t)?,
    };
    if p.is_empty() {
        bail!("nothing to reclaim: the capture shows no lock held on {} ({})", a.server, p.basis);
    }
    let mut send = SendConfig::new(target);
    send.nfs_port = a.nfs_port;
    send.rpcbind_port = a.rpcbind_port;
    send.nlm_port = a.nlm_port;
    send.nlm_udp = a.udp;
    send.source_addrs = a.source_addrs.as_deref().map(parse_addrs).transpose()?.unwrap_or_default();
    send.concurrency = a.concurrency.max(1);
    send.rate = a.rate;
    send.timeout = secs("--timeout", a.timeout)?;
    send.retries = a.retries;
    send.threads = a.threads.max(1);
    send.retry_for = secs("--target-grace", a.target_grace)? + Duration::from_secs(60);
    send.progress = io::stderr().is_terminal();
    let establish_on = if a.establish { Some(a.establish_on.as_deref().map(resolve_v4).transpose()?.unwrap_or(target)) } else { None };
    let cfg = DrillConfig { send, establish_on, remap: a.remap_by_path, grace_length: a.target_grace, wait_grace: secs("--wait-grace", a.wait_grace)?, watch_grace: a.watch_grace };
    let mut restart = a.restart_cmd.clone().map(|cmd| {
        move || -> Result<()> {
            let st = std::process::Command::new("sh").arg("-c").arg(&cmd).status().with_context(|| format!("cannot run --restart-cmd {cmd:?}"))?;
            if !st.success() {
                bail!("--restart-cmd {cmd:?} failed: {st}");
            }
            Ok(())
        }
    });
    let hook = restart.as_mut().map(|f| f as &mut dyn FnMut() -> Result<()>);
    let d = drill::run(&p, &cfg, hook)?;
    let grace = (a.restart_cmd.is_some() || a.watch_grace).then_some(&d.grace);
    let target_s = target.to_string();
    let rec = report::build(&d.plan, &d.reclaim, &target_s, grace);
    let est = d.establish.as_ref().map(|(ep, r)| report::build(ep, r, &establish_on.map_or(target_s.clone(), |h| h.to_string()), None));
    if let Some(path) = &a.plot {
        let title = format!("gracewatch replay against {target}: {} reclaims, {} granted", rec.planned, rec.granted);
        std::fs::write(path, svg::plot(&d.reclaim.outcomes, grace, &title)).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut so = io::stdout().lock();
    if a.json {
        let out = Out {
            plan: PlanOut { server: p.server, basis: &p.basis, taken_at: p.taken_at, summary: p.summary(), notes: &p.notes, first_requests: first, plan: None },
            establish: est,
            reclaim: rec.clone(),
            notes: &d.notes,
        };
        serde_json::to_writer_pretty(&mut so, &out)?;
        writeln!(so)?;
    } else {
        write!(so, "{}", plan_text(&p, &[]))?;
        if let Some(e) = &est {
            writeln!(so, "Establish on {}: {} of {} granted, {} refused, {} failed", e.target, e.granted, e.planned, e.refused, e.failed)?;
            for (pr, n) in &e.problems {
                writeln!(so, "  {n:>7}  {pr}")?;
            }
        }
        if let Some((ok, bad)) = d.remap {
            writeln!(so, "Remapped by path: {ok} files found on the target, {bad} not")?;
        }
        for n in &d.notes {
            writeln!(so, "note: {n}")?;
        }
        write!(so, "{}", report::text(&rec))?;
    }
    so.flush()?;
    Ok(if rec.everyone_made_it { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_address_lists() {
        assert_eq!(parse_addrs("127.0.10.1").unwrap(), [Ipv4Addr::new(127, 0, 10, 1)]);
        let v = parse_addrs("127.0.10.1-127.0.10.3, 127.0.11.9").unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v[3], Ipv4Addr::new(127, 0, 11, 9));
        let v = parse_addrs("127.0.12.0/24").unwrap();
        assert_eq!((v.len(), v[0], v[253]), (254, Ipv4Addr::new(127, 0, 12, 1), Ipv4Addr::new(127, 0, 12, 254)));
        assert_eq!(parse_addrs("10.0.0.5/32").unwrap().len(), 1);
        assert!(parse_addrs("127.0.0.3-127.0.0.1").is_err());
        assert!(parse_addrs("127.0.0.0/4").is_err());
        assert!(parse_addrs("10.0.0.0/8").is_err(), "too many");
        assert!(parse_addrs("x").is_err() && parse_addrs(" , ").is_err());
    }
}
