//! The audit report: a timeline per server IP, then the verdicts, as text or JSON.

use crate::audit::epoch::{Epoch, EvidenceKind};
use crate::audit::{Auditor, Severity, Verdict};
use crate::capture::RunReport;
use crate::net::{sorted, FrameRef, Ts};
use crate::output::time_of_day;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;

#[derive(Debug, Serialize)]
pub struct EpochReport {
    pub index: usize,
    pub restarted: bool,
    /// The restart happened after this (the previous instance's last sign of life)…
    pub start_after: Option<FrameRef>,
    /// …and before this (the first evidence of the new instance).
    pub start_before: FrameRef,
    pub failover_from: Option<IpAddr>,
    /// Evidence counts by kind.
    pub evidence: BTreeMap<EvidenceKind, u64>,
    pub first_evidence: Option<String>,
    /// The wire proves the server was in grace at least until here.
    pub in_grace_until: Option<FrameRef>,
    /// The wire proves grace was over from here.
    pub grace_over_from: Option<FrameRef>,
    /// Grace end: proven, or assumed from `--grace-period`.
    pub grace_end_ts: Option<f64>,
    pub grace_end_proven: bool,
    /// Reclaims by protocol and outcome.
    pub reclaims: BTreeMap<String, u64>,
    pub locks_reclaimable: usize,
    pub locks_reclaimed: usize,
    /// Pre-restart locks nobody reclaimed by the end of grace (or of the capture).
    pub locks_lost: usize,
}

#[derive(Debug, Serialize)]
pub struct ServerReport {
    pub server: IpAddr,
    pub epochs: Vec<EpochReport>,
    pub health: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub files: Vec<String>,
    pub grace_period_s: f64,
    pub lease_s: f64,
    pub servers: Vec<ServerReport>,
    pub verdicts: Vec<Verdict>,
    /// Capture-wide notes (drops, gaps, read errors).
    pub health: Vec<String>,
    pub fail_on: Severity,
    pub failed: bool,
}

fn epoch_report(a: &Auditor, ip: IpAddr, e: &Epoch) -> EpochReport {
    let sa = &a.servers()[&ip];
    let mut evidence = BTreeMap::new();
    for ev in &e.evidence {
        *evidence.entry(ev.kind).or_insert(0) += 1;
    }
    let grace = a.config().grace;
    let (end, proven) = e.grace_end(grace);
    let old: Vec<_> = sa.old.iter().filter(|o| o.epoch == e.index).collect();
    let reclaimed = old.iter().filter(|o| o.reclaimed.is_some()).count();
    let reclaims = sa
        .reclaims
        .iter()
        .filter(|((ep, _, _), _)| *ep == e.index)
        .map(|((_, fam, out), n)| (format!("{fam} {out}"), *n))
        .collect();
    EpochReport {
        index: e.index,
        restarted: e.restarted,
        start_after: e.start_lo,
        start_before: e.start_hi,
        failover_from: e.failover_from,
        evidence,
        first_evidence: e.evidence.first().map(|ev| ev.note.to_string()),
        in_grace_until: e.in_grace_until,
        grace_over_from: e.grace_over_from,
        grace_end_ts: e.restarted.then_some(end as f64 / 1e9),
        grace_end_proven: proven,
        reclaims,
        locks_reclaimable: old.len(),
        locks_reclaimed: reclaimed,
        locks_lost: if e.restarted && (proven || end <= a.last_seen()) { old.len() - reclaimed } else { 0 },
    }
}

pub fn report(a: &Auditor, run: &RunReport, fail_on: Severity) -> AuditReport {
    let health_by = a.health();
    let servers = sorted(a.servers())
        .into_iter()
        .map(|(ip, sa)| ServerReport {
            server: *ip,
            epochs: sa.epochs.iter().map(|e| epoch_report(a, *ip, e)).collect(),
            health: health_by.get(ip).cloned().unwrap_or_default(),
        })
        .filter(|s| !s.epochs.is_empty() || !s.health.is_empty())
        .collect();
    let mut health = Vec::new();
    if let Some(l) = run.live {
        if l.dropped + l.if_dropped > 0 {
            health.push(format!("libpcap dropped {} packets: verdicts may be missing", l.dropped + l.if_dropped));
        }
    }
    let c = &run.counters;
    if c.tcp_gaps > 0 {
        health.push(format!("{} TCP gaps ({} bytes not captured) in {} frames", c.tcp_gaps, c.tcp_gap_bytes, c.frames));
    }
    if c.unanswered_calls > 0 {
        health.push(format!("{} calls had no captured reply", c.unanswered_calls));
    }
    for e in &run.errors {
        health.push(format!("input ended early: {e}"));
    }
    AuditReport {
        files: run.files.clone(),
        grace_period_s: a.config().grace as f64 / 1e9,
        lease_s: a.config().lease as f64 / 1e9,
        servers,
        verdicts: a.verdicts().to_vec(),
        health,
        fail_on,
        failed: a.failed(fail_on),
    }
}

fn at(f: &FrameRef) -> String {
    format!("#{} {}", f.frame, time_of_day(f.ts))
}

fn secs(ts: f64) -> String {
    time_of_day((ts * 1e9) as Ts)
}

/// One verdict on one line, as printed live.
pub fn verdict_line(v: &Verdict) -> String {
    let range = v.range.map(|r| r.text()).unwrap_or_default();
    let file = v.path.clone().unwrap_or_else(|| abbreviate(&v.fh));
    let ev: Vec<String> = v.evidence.iter().filter(|m| m.at.frame > 0).map(|m| format!("#{}", m.at.frame)).collect();
    format!(
        "{} {} {} ({}) server {} client {} ({}) {} {} {} at #{}{}: {}",
        time_of_day(v.grant.at.ts),
        v.id,
        v.severity,
        v.certainty,
        v.server,
        v.client,
        v.client_name,
        v.protocol,
        file,
        range,
        v.grant.at.frame,
        if ev.is_empty() { String::new() } else { format!(" evidence {}", ev.join(",")) },
        v.summary
    )
}

fn abbreviate(h: &str) -> String {
    if h.len() > 16 {
        format!("{}…", &h[..16])
    } else {
        h.to_string()
    }
}

pub fn text(r: &AuditReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Grace audit of {} (grace period {} s, lease {} s)", r.files.join(", "), r.grace_period_s, r.lease_s);
    for sv in &r.servers {
        let _ = writeln!(s, "\nServer {}", sv.server);
        for e in &sv.epochs {
            if !e.restarted {
                let _ = writeln!(s, "  epoch {}: the server as the capture found it (from {})", e.index, at(&e.start_before));
                continue;
            }
            let how = match e.failover_from {
                Some(f) => format!("failover from {f}"),
                None => "restart".into(),
            };
            let after = e.start_after.map(|f| format!("after {} ", at(&f))).unwrap_or_else(|| "before the capture began, ".into());
            let _ = writeln!(s, "  epoch {}: {how} {after}and before {} ({})", e.index, at(&e.start_before), e.first_evidence.clone().unwrap_or_default());
            let ev: Vec<String> = e.evidence.iter().map(|(k, n)| format!("{k:?} {n}")).collect();
            let _ = writeln!(s, "    evidence: {}", ev.join(", "));
            let mut g = Vec::new();
            if let Some(f) = e.in_grace_until {
                g.push(format!("in grace at least until {}", at(&f)));
            }
            if let Some(f) = e.grace_over_from {
                g.push(format!("over from {}", at(&f)));
            } else if let Some(t) = e.grace_end_ts {
                g.push(format!("assumed over by {}", secs(t)));
            }
            let _ = writeln!(s, "    grace: {}", g.join("; "));
            if !e.reclaims.is_empty() {
                let rc: Vec<String> = e.reclaims.iter().map(|(k, n)| format!("{k} {n}")).collect();
                let _ = writeln!(s, "    reclaims: {}", rc.join(", "));
            }
            if e.locks_reclaimable > 0 {
                let _ = writeln!(s, "    pre-restart locks: {} reclaimable, {} reclaimed, {} lost", e.locks_reclaimable, e.locks_reclaimed, e.locks_lost);
            }
        }
        for h in &sv.health {
            let _ = writeln!(s, "  note: {h}");
        }
    }
    for h in &r.health {
        let _ = writeln!(s, "\nnote: {h}");
    }
    if r.verdicts.is_empty() {
        let _ = writeln!(s, "\nNo verdicts.");
    } else {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_width(200);
        t.set_header(["severity", "id", "certainty", "server", "client", "protocol", "file", "range", "grant", "evidence", "what"]);
        for v in &r.verdicts {
            let ev: Vec<String> = v.evidence.iter().filter(|m| m.at.frame > 0).map(|m| format!("#{}", m.at.frame)).collect();
            t.add_row(vec![
                Cell::new(v.severity),
                Cell::new(v.id),
                Cell::new(v.certainty),
                Cell::new(v.server),
                Cell::new(format!("{} ({})", v.client, v.client_name)),
                Cell::new(&v.protocol),
                Cell::new(v.path.clone().unwrap_or_else(|| abbreviate(&v.fh))),
                Cell::new(v.range.map(|r| r.text()).unwrap_or_default()),
                Cell::new(format!("#{}", v.grant.at.frame)),
                Cell::new(ev.join(" ")),
                Cell::new(&v.summary),
            ]);
        }
        let _ = writeln!(s, "\n{} verdicts:\n{t}", r.verdicts.len());
    }
    s
}
