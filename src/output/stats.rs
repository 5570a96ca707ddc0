//! `gracewatch stats`: calls and response times per program, version and procedure,
//! and the pipeline's own counters.

use super::proc_label;
use crate::pipeline::{Counters, Sink};
use crate::rpc::{Kind, Message, ProcId};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

struct ProcStats {
    calls: u64,
    replies: u64,
    errors: u64,
    /// Response times in microseconds.
    hist: Histogram<u64>,
}

/// Collects per-procedure counts and response times.
#[derive(Default)]
pub struct StatsSink {
    procs: BTreeMap<(u32, u32, u32, bool), ProcStats>,
}

#[derive(Debug, Serialize)]
pub struct ProcRow {
    pub prog: u32,
    pub program: String,
    pub vers: u32,
    pub proc_: u32,
    pub proc_name: String,
    pub calls: u64,
    pub replies: u64,
    pub rpc_errors: u64,
    pub min_ms: Option<f64>,
    pub avg_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl StatsSink {
    fn entry(&mut self, id: &ProcId) -> &mut ProcStats {
        self.procs.entry((id.prog, id.vers, id.proc_, id.cb)).or_insert_with(|| ProcStats {
            calls: 0,
            replies: 0,
            errors: 0,
            hist: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("histogram bounds"),
        })
    }

    pub fn rows(&self) -> Vec<ProcRow> {
        self.procs
            .iter()
            .map(|(&(prog, vers, proc_, cb), s)| {
                let id = ProcId { prog, vers, proc_, cb };
                let h = &s.hist;
                let ms = |us: u64| us as f64 / 1000.0;
                let some = h.len() > 0;
                ProcRow {
                    prog,
                    program: program_name(&id),
                    vers,
                    proc_,
                    proc_name: proc_label(&id),
                    calls: s.calls,
                    replies: s.replies,
                    rpc_errors: s.errors,
                    min_ms: some.then(|| ms(h.min())),
                    avg_ms: some.then(|| h.mean() / 1000.0),
                    max_ms: some.then(|| ms(h.max())),
                    p99_ms: some.then(|| ms(h.value_at_quantile(0.99))),
                }
            })
            .collect()
    }
}

fn program_name(id: &ProcId) -> String {
    if id.cb {
        return "NFSv4 CB".into();
    }
    crate::proto::prog_name(id.prog).map(str::to_string).unwrap_or_else(|| id.prog.to_string())
}

impl Sink for StatsSink {
    fn message(&mut self, m: &Message<'_>) {
        match &m.kind {
            Kind::Call { id, retransmit: false, .. } => self.entry(id).calls += 1,
            Kind::Call { .. } => {}
            Kind::Reply { id: Some(id), latency_ns, duplicate: false, stat, .. } => {
                let e = self.entry(id);
                e.replies += 1;
                if !stat.is_success() {
                    e.errors += 1;
                }
                if let Some(ns) = latency_ns {
                    let _ = e.hist.record(((*ns).max(0) as u64 / 1000).max(1));
                }
            }
            Kind::Reply { .. } => {}
        }
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into())
}

/// The per-procedure table.
pub fn procs_table(rows: &[ProcRow]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["program", "vers", "procedure", "calls", "replies", "rpc errors", "min ms", "avg ms", "max ms", "p99 ms"]);
    for r in rows {
        t.add_row(vec![
            Cell::new(&r.program),
            Cell::new(r.vers).set_alignment(CellAlignment::Right),
            Cell::new(&r.proc_name),
            Cell::new(r.calls).set_alignment(CellAlignment::Right),
            Cell::new(r.replies).set_alignment(CellAlignment::Right),
            Cell::new(r.rpc_errors).set_alignment(CellAlignment::Right),
            Cell::new(opt(r.min_ms)).set_alignment(CellAlignment::Right),
            Cell::new(opt(r.avg_ms)).set_alignment(CellAlignment::Right),
            Cell::new(opt(r.max_ms)).set_alignment(CellAlignment::Right),
            Cell::new(opt(r.p99_ms)).set_alignment(CellAlignment::Right),
        ]);
    }
    t
}

/// The pipeline counters as a two-column table.
pub fn counters_table(c: &Counters) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["pipeline counter", "value"]);
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(c) {
        for (k, v) in map {
            t.add_row(vec![Cell::new(k.replace('_', " ")), Cell::new(v).set_alignment(CellAlignment::Right)]);
        }
    }
    t
}
