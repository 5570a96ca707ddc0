//! Command-line flags, turned once into the library's configuration.

mod audit;
mod decode;
mod replay;
mod state;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use gracewatch::capture::{Input, LiveOptions, RunReport};
use gracewatch::pipeline::Config;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "gracewatch", version, about = "Watch NFS lock traffic and flag locks granted against the grace-period rules")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Print every RPC message, one line each (or JSON Lines with --json).
    Decode(decode::DecodeArgs),
    /// Calls and response times per program, version and procedure, and the pipeline's counters.
    Stats(decode::StatsArgs),
    /// Lock state per server IP: NLM locks, waiters, shares, statd monitoring, unconfirmed calls.
    State(state::StateArgs),
    /// Restarts, failovers, grace windows and grants a correct server would not have given.
    Audit(audit::AuditArgs),
    /// Reclaim the locks clients held on a server IP against a target in grace (failover drills, storms).
    Replay(replay::ReplayArgs),
}

/// Where frames come from, tcpdump-style.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Read a pcap or pcapng file ("-" for standard input); repeat to merge several by time.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Vec<String>,
    /// Capture live on an interface.
    #[arg(short = 'i', long = "interface", value_name = "IFACE", conflicts_with = "read")]
    pub iface: Option<String>,
    /// Snapshot length for live capture (default: whole frames).
    #[arg(short = 's', long = "snaplen", value_name = "SNAPLEN", default_value_t = 0)]
    pub snaplen: i32,
    /// Stop after this many frames (live capture).
    #[arg(short = 'c', long = "count", value_name = "COUNT")]
    pub count: Option<u64>,
    /// Stop after this many seconds (live capture).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Kernel capture buffer for live capture, in KiB (as tcpdump's -B).
    #[arg(short = 'B', long = "buffer-size", value_name = "KiB", default_value_t = 65_536)]
    pub buffer_kib: u32,
    /// Live capture: hand each packet over as it arrives instead of in kernel blocks
    /// delivered at least every 100 ms (fewer packets fit the kernel buffer).
    #[arg(long)]
    pub immediate_mode: bool,
    /// Largest RPC record buffered; larger ones are skipped and counted.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub record_cap: u32,
    /// BPF filter expression for live capture, as for tcpdump.
    #[arg(trailing_var_arg = true, value_name = "FILTER")]
    pub filter: Vec<String>,
}

impl InputArgs {
    pub fn input(&self) -> Result<Input> {
        if let Some(iface) = &self.iface {
            let filter = (!self.filter.is_empty()).then(|| self.filter.join(" "));
            let duration = match self.duration {
                Some(d) if !(d > 0.0 && d.is_finite()) => anyhow::bail!("--duration must be a positive number of seconds"),
                Some(d) => Some(Duration::from_secs_f64(d)),
                None => None,
            };
            // libpcap takes the size in bytes as a C int.
            let buffer_bytes = i32::try_from(u64::from(self.buffer_kib) * 1024).ok().filter(|b| *b > 0);
            let Some(buffer_bytes) = buffer_bytes else {
                anyhow::bail!("--buffer-size must be between 1 and {} KiB", i32::MAX / 1024);
            };
            return Ok(Input::Live(LiveOptions {
                iface: iface.clone(),
                filter,
                snaplen: self.snaplen,
                count: self.count,
                duration,
                buffer_bytes,
                immediate: self.immediate_mode,
            }));
        }
        if !self.filter.is_empty() {
            anyhow::bail!("a filter expression applies to live capture (-i) only; got {:?}", self.filter.join(" "));
        }
        if self.read.is_empty() {
            anyhow::bail!("no input: give -r FILE or -i IFACE");
        }
        Ok(Input::Files(self.read.clone()))
    }

    pub fn config(&self) -> Config {
        Config { record_cap: self.record_cap, ..Config::default() }
    }
}

/// Notes on stderr after a run: libpcap drops, evidence lost to gaps, read errors.
/// Returns the error that decides the exit status, if any.
pub fn report_health(r: &RunReport) -> Option<String> {
    if let Some(l) = &r.live {
        eprintln!("{} packets received by filter, {} packets dropped by kernel, {} dropped by interface", l.received, l.dropped, l.if_dropped);
        if l.dropped + l.if_dropped > 0 {
            eprintln!("gracewatch: warning: libpcap dropped {} packets; decoding and verdicts are incomplete", l.dropped + l.if_dropped);
        }
    }
    let c = &r.counters;
    if c.tcp_gaps > 0 || c.records_oversized > 0 || c.records_damaged > 0 || c.ip_fragments_dropped > 0 {
        eprintln!(
            "gracewatch: note: {} TCP gaps ({} bytes not captured), {} records damaged, {} records over the size cap, {} IP fragments given up",
            c.tcp_gaps, c.tcp_gap_bytes, c.records_damaged, c.records_oversized, c.ip_fragments_dropped
        );
    }
    r.first_error().map(|e| e.to_string())
}

/// Print a report as pretty JSON or as its text form.
pub fn print_report<T: serde::Serialize>(json: bool, report: &T, text: impl FnOnce(&T) -> String) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, report)?;
        writeln!(stdout)?;
    } else {
        write!(stdout, "{}", text(report))?;
    }
    stdout.flush()?;
    Ok(())
}

/// Exit status 2 with the read error after a run whose input ended early.
pub fn read_error_exit(r: &RunReport) -> Option<ExitCode> {
    report_health(r).map(|e| {
        eprintln!("gracewatch: {e}");
        ExitCode::from(2)
    })
}

pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Decode(a) => decode::decode(a),
        Cmd::Stats(a) => decode::stats(a),
        Cmd::State(a) => state::state(a),
        Cmd::Audit(a) => audit::audit(a),
        Cmd::Replay(a) => replay::replay(a),
    }
}
