//! `state`: the lock state per server IP, at the end of the capture or at a moment.

use super::InputArgs;
use anyhow::Result;
use clap::Args;
use gracewatch::capture::{self, Input, Merged};
use gracewatch::net::Ts;
use gracewatch::output::state as out;
use gracewatch::audit::Auditor;
use gracewatch::state::{parse_at, AtTime, TrackerConfig};
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Args, Debug)]
pub struct StateArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The state as of this moment: epoch seconds (1700000000.5), +SECS after the first
    /// frame, or YYYY-MM-DDTHH:MM:SS[.frac][Z] in UTC.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Show this server IP only.
    #[arg(long, value_name = "IP")]
    server: Option<IpAddr>,
    /// JSON instead of tables.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    epochs: super::audit::EpochArgs,
}

/// The first frame's timestamp over all files (standard input cannot be read twice:
/// then the tracker counts from the first message instead).
fn first_frame_ts(paths: &[String]) -> Result<Option<Ts>> {
    if paths.iter().any(|p| p == "-") {
        return Ok(None);
    }
    let mut m = Merged::open(paths)?;
    let stop = AtomicBool::new(false);
    let mut first = None;
    m.run(&stop, &mut |f| {
        first.get_or_insert(f.at.ts);
        stop.store(true, Ordering::Relaxed);
    });
    Ok(first)
}

pub fn state(a: StateArgs) -> Result<ExitCode> {
    let input = a.input.input()?;
    let at = a.at.as_deref().map(parse_at).transpose()?;
    let until = match (at, &input) {
        (Some(AtTime::Relative(d)), Input::Files(paths)) => match first_frame_ts(paths)? {
            Some(first) => Some(AtTime::Absolute(first.saturating_add(d))),
            None => at,
        },
        _ => at,
    };
    // The audit's view of restarts decides which locks are still held.
    let mut auditor = Auditor::new(a.epochs.config(TrackerConfig { until, ..TrackerConfig::default() })?);
    let run = capture::run(&input, a.input.config(), &mut auditor)?;
    let tracker = auditor.tracker();
    let mut report = out::report(tracker, &run.files, a.server);
    out::add_restarts(&mut report, &auditor);
    super::print_report(a.json, &report, out::text)?;
    Ok(super::read_error_exit(&run).unwrap_or(ExitCode::SUCCESS))
}
