//! `audit`: restarts, failovers, grace windows and illegal grants.

use super::InputArgs;
use anyhow::{anyhow, bail, Result};
use clap::Args;
use gracewatch::audit::{AuditConfig, Auditor, Severity};
use gracewatch::capture::{self, Input};
use gracewatch::output::audit as out;
use gracewatch::pipeline::{NetEvent, Sink};
use gracewatch::rpc::Message;
use gracewatch::state::{parse_at, TrackerConfig};
use std::io::{self, Write};
use std::net::IpAddr;
use std::process::ExitCode;

/// What the operator knows about restarts, failovers and clusters, and the grace
/// period to assume where the wire does not show it.
#[derive(Args, Debug, Clone)]
pub struct EpochArgs {
    /// Grace period to assume where the wire does not prove its end (seconds).
    #[arg(long, value_name = "SECS", default_value_t = 90.0)]
    grace_period: f64,
    /// Lease time of the servers (seconds): a shorter grace is flagged (GW009).
    #[arg(long, value_name = "SECS", default_value_t = 90.0)]
    lease: f64,
    /// The service on OLD moved to NEW: state held on OLD must be reclaimed on NEW.
    #[arg(long, value_name = "OLD=NEW")]
    failover: Vec<String>,
    /// Server IPs sharing a filesystem, whose grace periods must agree.
    #[arg(long, value_name = "IP,IP,...")]
    cluster: Vec<String>,
    /// A restart of IP at TIME (epoch seconds, +SECS after the first frame, or
    /// YYYY-MM-DDTHH:MM:SS[.frac][Z]).
    #[arg(long, value_name = "IP@TIME")]
    restart: Vec<String>,
}

fn secs(what: &str, s: f64) -> Result<i64> {
    if !(s >= 0.0 && s.is_finite() && s < 1e6) {
        bail!("{what} must be a number of seconds, got {s}");
    }
    Ok((s * 1e9) as i64)
}

impl EpochArgs {
    pub fn config(&self, tracker: TrackerConfig) -> Result<AuditConfig> {
        let ip = |s: &str| s.trim().parse::<IpAddr>().map_err(|_| anyhow!("not an IP address: {s:?}"));
        let failovers = self
            .failover
            .iter()
            .map(|f| {
                let (a, b) = f.split_once('=').ok_or_else(|| anyhow!("--failover takes OLD=NEW, got {f:?}"))?;
                Ok((ip(a)?, ip(b)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let clusters = self
            .cluster
            .iter()
            .map(|c| {
                let v = c.split(',').map(ip).collect::<Result<Vec<_>>>()?;
                if v.len() < 2 {
                    bail!("--cluster takes two or more IPs separated by commas, got {c:?}");
                }
                Ok(v)
            })
            .collect::<Result<Vec<_>>>()?;
        let restarts = self
            .restart
            .iter()
            .map(|r| {
                let (a, t) = r.split_once('@').ok_or_else(|| anyhow!("--restart takes IP@TIME, got {r:?}"))?;
                Ok((ip(a)?, parse_at(t)?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(AuditConfig { grace: secs("--grace-period", self.grace_period)?, lease: secs("--lease", self.lease)?, failovers, clusters, restarts, tracker })
    }
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    epochs: EpochArgs,
    /// Exit with 1 when a verdict at or above this severity is found (warning, error, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "error")]
    fail_on: String,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Live: print each verdict the moment it is found.
struct Live {
    a: Auditor,
    printed: usize,
    json: bool,
}

impl Live {
    fn flush_new(&mut self) {
        let mut out = io::stdout().lock();
        for v in self.a.since(self.printed) {
            let _ = if self.json {
                serde_json::to_writer(&mut out, v).map_err(io::Error::other).and_then(|_| writeln!(out))
            } else {
                writeln!(out, "{}", out::verdict_line(v))
            };
        }
        let _ = out.flush();
        self.printed = self.a.verdicts().len();
    }
}

impl Sink for Live {
    fn message(&mut self, m: &Message<'_>) {
        self.a.message(m);
        if self.a.verdicts().len() > self.printed {
            self.flush_new();
        }
    }
    fn net_event(&mut self, e: &NetEvent) {
        self.a.net_event(e);
    }
}

pub fn audit(a: AuditArgs) -> Result<ExitCode> {
    let input = a.input.input()?;
    let fail_on = Severity::parse(&a.fail_on).ok_or_else(|| anyhow!("--fail-on takes warning, error or critical, got {:?}", a.fail_on))?;
    let cfg = a.epochs.config(TrackerConfig::default())?;
    let live = matches!(input, Input::Live(_));
    let mut sink = Live { a: Auditor::new(cfg), printed: 0, json: a.json };
    let run = capture::run(&input, a.input.config(), &mut sink)?;
    if live {
        sink.flush_new();
    }
    sink.a.finish();
    let report = out::report(&sink.a, &run, fail_on);
    // The state tables can hold millions of small allocations: the process exit frees
    // them at once, so they are not taken apart one by one.
    std::mem::forget(sink);
    super::print_report(a.json, &report, out::text)?;
    if let Some(code) = super::read_error_exit(&run) {
        return Ok(code);
    }
    Ok(if report.failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
