//! `decode` and `stats`.

use super::InputArgs;
use anyhow::Result;
use clap::Args;
use gracewatch::capture::{self, STOP};
use gracewatch::output::{json, stats, text};
use gracewatch::pipeline::Sink;
use gracewatch::rpc::Message;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

#[derive(Args, Debug)]
pub struct DecodeArgs {
    #[command(flatten)]
    input: InputArgs,
    /// JSON Lines instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    input: InputArgs,
    /// JSON instead of tables.
    #[arg(long)]
    json: bool,
}

struct Printer<W: Write> {
    out: W,
    json: bool,
    files: Vec<String>,
    error: Option<io::Error>,
}

impl<W: Write> Sink for Printer<W> {
    fn message(&mut self, m: &Message<'_>) {
        if self.error.is_some() {
            return;
        }
        let file = self.files.get(m.at.file as usize).map(String::as_str).unwrap_or("");
        let r = if self.json {
            json::write(&mut self.out, m, file)
        } else {
            let show_file = (self.files.len() > 1).then_some(file);
            writeln!(self.out, "{}", text::line(m, show_file))
        };
        if let Err(e) = r {
            // Stop reading: nobody is listening any more.
            STOP.store(true, Ordering::Relaxed);
            self.error = Some(e);
        }
    }
}


pub fn decode(a: DecodeArgs) -> Result<ExitCode> {
    let input = a.input.input()?;
    let files = match &input {
        capture::Input::Files(f) => f.clone(),
        capture::Input::Live(o) => vec![o.iface.clone()],
    };
    let stdout = io::stdout();
    let mut p = Printer { out: BufWriter::with_capacity(1 << 16, stdout.lock()), json: a.json, files, error: None };
    let report = capture::run(&input, a.input.config(), &mut p)?;
    if let Some(e) = p.error.take() {
        return Err(e.into());
    }
    p.out.flush()?;
    Ok(super::read_error_exit(&report).unwrap_or(ExitCode::SUCCESS))
}

pub fn stats(a: StatsArgs) -> Result<ExitCode> {
    let input = a.input.input()?;
    let mut s = stats::StatsSink::default();
    let report = capture::run(&input, a.input.config(), &mut s)?;
    let rows = s.rows();
    let mut out = io::stdout().lock();
    if a.json {
        let v = serde_json::json!({ "procedures": rows, "counters": report.counters, "live": report.live });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", stats::procs_table(&rows))?;
        writeln!(out, "{}", stats::counters_table(&report.counters))?;
    }
    out.flush()?;
    Ok(super::read_error_exit(&report).unwrap_or(ExitCode::SUCCESS))
}
