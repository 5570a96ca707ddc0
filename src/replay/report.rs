//! The replay's report: outcomes per protocol and status, reclaims per second over
//! time, latency percentiles, the last reclaim against the target's grace end, locks
//! lost; as text tables or JSON.

use super::outcome::{Kind, Outcome, Result as Res};
use super::plan::{Plan, Summary};
use super::send::RunResult;
use comfy_table::{presets::UTF8_FULL, Table};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What is known of the target's grace period, in seconds since the run began.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Grace {
    /// When it began (a restart the drill made and saw answered), if known.
    pub start: Option<f64>,
    /// Its configured length (`--target-grace`).
    pub length: f64,
    /// When a probe saw it over (`--watch-grace`).
    pub observed_end: Option<f64>,
    /// A probe saw the target refuse a normal lock for grace before sending.
    pub seen_in_grace: bool,
}

impl Grace {
    /// Its end: observed, else start + length.
    pub fn end(&self) -> Option<(f64, bool)> {
        match (self.observed_end, self.start) {
            (Some(e), _) => Some((e, true)),
            (None, Some(s)) => Some((s + self.length, false)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub protocol: String,
    pub request: String,
    pub result: String,
    pub count: usize,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Latency {
    pub n: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Answers per time bin.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Bin {
    /// Start of the bin (seconds since the run began).
    pub t: f64,
    pub granted: usize,
    pub answered: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraceReport {
    pub start_s: Option<f64>,
    pub end_s: f64,
    pub end_observed: bool,
    pub length_s: f64,
    /// Grace end minus the last granted reclaim (negative: after the end).
    pub margin_s: Option<f64>,
    pub seen_in_grace: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub target: String,
    /// "reclaim" or "establish".
    pub phase: String,
    pub started: f64,
    pub plan: Vec<Summary>,
    /// Reclaim requests planned (NLM LOCKs, OPENs, LOCKs) and how they ended.
    pub planned: usize,
    pub granted: usize,
    pub refused: usize,
    pub failed: usize,
    pub locks_planned: usize,
    pub locks_granted: usize,
    pub locks_lost: usize,
    pub opens_planned: usize,
    pub opens_granted: usize,
    pub clients: usize,
    /// Clients whose every request was granted.
    pub clients_complete: usize,
    pub outcomes: Vec<Row>,
    /// Client setup and RECLAIM_COMPLETE.
    pub sessions: Vec<Row>,
    pub first_sent_s: Option<f64>,
    pub last_answer_s: Option<f64>,
    pub last_granted_s: Option<f64>,
    /// Granted reclaims per second between the first send and the last answer.
    pub rate_mean: f64,
    pub rate_peak_1s: usize,
    pub per_second: Vec<Bin>,
    pub latency: Option<Latency>,
    pub grace: Option<GraceReport>,
    pub retransmits: u64,
    pub reconnects: u64,
    pub retries: u64,
    /// CPU seconds the replay's sender threads used, and per answered reclaim (µs).
    pub sender_cpu_s: f64,
    pub sender_cpu_us_per_reclaim: Option<f64>,
    /// Distinct failure and refusal reasons with their counts (at most 20).
    pub problems: Vec<(String, usize)>,
    /// Every planned reclaim granted (within grace, when its end is known).
    pub everyone_made_it: bool,
}

/// Counts of answers per bin of `width` seconds from 0 to the last answer.
pub fn bins(outcomes: &[Outcome], width: f64) -> Vec<Bin> {
    let answered: Vec<&Outcome> = outcomes.iter().filter(|o| o.kind.is_reclaim() && o.answered()).collect();
    let Some(last) = answered.iter().map(|o| o.end).reduce(f64::max) else { return Vec::new() };
    let n = ((last / width).floor() as usize + 1).min(1_000_000);
    let mut v: Vec<Bin> = (0..n).map(|i| Bin { t: i as f64 * width, granted: 0, answered: 0 }).collect();
    for o in answered {
        let i = ((o.end.max(0.0) / width).floor() as usize).min(n - 1);
        v[i].answered += 1;
        if o.result.is_granted() {
            v[i].granted += 1;
        }
    }
    v
}

fn latency(outcomes: &[Outcome]) -> Option<Latency> {
    let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).ok()?;
    for o in outcomes.iter().filter(|o| o.kind.is_reclaim() && o.answered()) {
        let us = (o.latency() * 1e6).round().max(1.0) as u64;
        let _ = h.record(us.min(3_600_000_000));
    }
    if h.is_empty() {
        return None;
    }
    let ms = |v: u64| v as f64 / 1000.0;
    Some(Latency { n: h.len(), p50_ms: ms(h.value_at_quantile(0.5)), p90_ms: ms(h.value_at_quantile(0.9)), p99_ms: ms(h.value_at_quantile(0.99)), max_ms: ms(h.max()) })
}

fn request_name(o: &Outcome, establish: bool) -> String {
    o.kind.name(establish).to_string()
}

/// Build the report of one run.
pub fn build(plan: &Plan, run: &RunResult, target: &str, grace: Option<&Grace>) -> Report {
    let est = run.establish;
    let rec: Vec<&Outcome> = run.outcomes.iter().filter(|o| o.kind.is_reclaim()).collect();
    let count = |f: &dyn Fn(&Outcome) -> bool| rec.iter().filter(|o| f(o)).count();
    let mut rows: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut sess: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut problems: BTreeMap<String, usize> = BTreeMap::new();
    let mut client_ok: BTreeMap<usize, bool> = BTreeMap::new();
    for o in &run.outcomes {
        let key = (o.protocol.to_string(), request_name(o, est), o.result.label());
        *(if o.kind.is_reclaim() { &mut rows } else { &mut sess }).entry(key).or_insert(0) += 1;
        let ok = client_ok.entry(o.client).or_insert(true);
        *ok &= o.result.is_granted();
        match &o.result {
            Res::Granted => {}
            Res::Refused { status, sent, .. } => *problems.entry(format!("{} {} refused {status}{}", o.protocol, request_name(o, est), if *sent { "" } else { " (not sent)" })).or_insert(0) += 1,
            Res::Failed { reason } => *problems.entry(format!("{} {} failed: {reason}", o.protocol, request_name(o, est))).or_insert(0) += 1,
        }
    }
    let mut problems: Vec<(String, usize)> = problems.into_iter().collect();
    problems.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    problems.truncate(20);
    let to_rows = |m: BTreeMap<(String, String, String), usize>| m.into_iter().map(|((protocol, request, result), count)| Row { protocol, request, result, count }).collect::<Vec<_>>();
    let sent: Vec<&&Outcome> = rec.iter().filter(|o| o.attempts > 0).collect();
    let first_sent = sent.iter().map(|o| o.start).reduce(f64::min);
    let last_answer = rec.iter().filter(|o| o.answered()).map(|o| o.end).reduce(f64::max);
    let last_granted = rec.iter().filter(|o| o.result.is_granted()).map(|o| o.end).reduce(f64::max);
    let granted = count(&|o| o.result.is_granted());
    let answered = count(&|o| o.answered());
    let span = match (first_sent, last_answer) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => 0.0,
    };
    let per_second = bins(&run.outcomes, 1.0);
    let grace_r = grace.and_then(|g| {
        g.end().map(|(end, observed)| GraceReport {
            start_s: g.start,
            end_s: end,
            end_observed: observed,
            length_s: g.length,
            margin_s: last_granted.map(|l| end - l),
            seen_in_grace: g.seen_in_grace,
        })
    });
    let locks_planned = plan.nlm_locks() + plan.v4_locks();
    let locks_granted = count(&|o| o.kind.is_lock() && o.result.is_granted());
    let planned = plan.reclaims();
    let within = grace_r.as_ref().is_none_or(|g| g.margin_s.is_none_or(|m| m >= 0.0));
    Report {
        target: target.to_string(),
        phase: if est { "establish" } else { "reclaim" }.into(),
        started: run.started,
        plan: plan.summary(),
        planned,
        granted,
        refused: count(&|o| matches!(o.result, Res::Refused { .. })),
        failed: count(&|o| matches!(o.result, Res::Failed { .. })),
        locks_planned,
        locks_granted,
        locks_lost: locks_planned.saturating_sub(locks_granted),
        opens_planned: plan.v4_opens(),
        opens_granted: count(&|o| o.kind == Kind::Open && o.result.is_granted()),
        clients: client_ok.len(),
        clients_complete: client_ok.values().filter(|v| **v).count(),
        outcomes: to_rows(rows),
        sessions: to_rows(sess),
        first_sent_s: first_sent,
        last_answer_s: last_answer,
        last_granted_s: last_granted,
        rate_mean: if span > 0.0 { granted as f64 / span } else { 0.0 },
        rate_peak_1s: per_second.iter().map(|b| b.granted).max().unwrap_or(0),
        per_second,
        latency: latency(&run.outcomes),
        grace: grace_r,
        retransmits: run.retransmits,
        reconnects: run.reconnects,
        retries: run.retries,
        sender_cpu_s: run.cpu,
        sender_cpu_us_per_reclaim: (answered > 0).then(|| run.cpu * 1e6 / answered as f64),
        problems,
        everyone_made_it: planned > 0 && granted == planned && rec.len() == planned && within,
    }
}

fn rows_table(rows: &[Row]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL);
    t.set_header(vec!["protocol", "request", "result", "count"]);
    for r in rows {
        t.add_row(vec![r.protocol.clone(), r.request.clone(), r.result.clone(), r.count.to_string()]);
    }
    t.to_string()
}

fn s(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:+.3} s"))
}

/// The report as text.
pub fn text(r: &Report) -> String {
    let mut o = String::new();
    let plan: Vec<String> = r.plan.iter().map(|p| format!("{} {} clients {} locks", p.protocol, p.clients, p.locks)).collect();
    let _ = writeln!(o, "Replay ({} phase) against {}: {} requests planned ({})", r.phase, r.target, r.planned, plan.join(", "));
    if !r.outcomes.is_empty() {
        let _ = writeln!(o, "{}", rows_table(&r.outcomes));
    }
    if !r.sessions.is_empty() {
        let _ = writeln!(o, "Client setup and RECLAIM_COMPLETE\n{}", rows_table(&r.sessions));
    }
    let _ = writeln!(o, "Requests: {} granted, {} refused, {} failed of {} planned", r.granted, r.refused, r.failed, r.planned);
    let _ = writeln!(o, "Locks: {} planned, {} granted, {} lost; opens: {} planned, {} granted", r.locks_planned, r.locks_granted, r.locks_lost, r.opens_planned, r.opens_granted);
    let _ = writeln!(o, "Clients: {} ({} with every request granted)", r.clients, r.clients_complete);
    let _ = writeln!(
        o,
        "Time: first sent {}, last answer {}, last grant {}; {:.0} granted/s on average, peak {}/s",
        s(r.first_sent_s),
        s(r.last_answer_s),
        s(r.last_granted_s),
        r.rate_mean,
        r.rate_peak_1s
    );
    if let Some(l) = &r.latency {
        let _ = writeln!(o, "Latency ({} answers): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms", l.n, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms);
    }
    match &r.grace {
        Some(g) => {
            let how = if g.end_observed { "observed" } else { "start + configured length" };
            let _ = write!(o, "Grace: began {}, ends {} ({how}, {:.0} s configured)", s(g.start_s), s(Some(g.end_s)), g.length_s);
            match g.margin_s {
                Some(m) if m >= 0.0 => {
                    let _ = writeln!(o, "; last grant {m:.3} s before its end");
                }
                Some(m) => {
                    let _ = writeln!(o, "; last grant {:.3} s AFTER its end", -m);
                }
                None => {
                    let _ = writeln!(o);
                }
            }
        }
        None => {
            let _ = writeln!(o, "Grace: start unknown (no --restart-cmd), not compared");
        }
    }
    let shown = r.per_second.len().min(30);
    if shown > 0 {
        let _ = writeln!(o, "Answers per second{}:", if shown < r.per_second.len() { " (first 30 s)" } else { "" });
        for b in &r.per_second[..shown] {
            let _ = writeln!(o, "  {:>6.0} s  {:>7} granted  {:>7} answered", b.t, b.granted, b.answered);
        }
    }
    let _ = writeln!(o, "Retransmissions {}, reconnections {}, retried after DELAY/GRACE {}", r.retransmits, r.reconnects, r.retries);
    if let Some(us) = r.sender_cpu_us_per_reclaim {
        let _ = writeln!(o, "Sender CPU: {:.2} s, {us:.1} µs per answered reclaim (about {:.0} reclaims/s per core)", r.sender_cpu_s, 1e6 / us.max(1e-3));
    }
    if !r.problems.is_empty() {
        let _ = writeln!(o, "Not granted:");
        for (p, n) in &r.problems {
            let _ = writeln!(o, "  {n:>7}  {p}");
        }
    }
    let _ = writeln!(o, "Everyone made it: {}", if r.everyone_made_it { "yes" } else { "NO" });
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::plan::{NlmHost, NlmReclaim};

    fn oc(kind: Kind, client: usize, result: Res, start: f64, end: f64) -> Outcome {
        Outcome { protocol: if kind == Kind::NlmLock { "NLM4" } else { "NFSv4.1" }, kind, client, client_name: format!("c{client}"), result, start, end, attempts: 1, xid: 1 }
    }

    fn plan(n: usize) -> Plan {
        let l = NlmReclaim { fh: vec![1], path: None, oh: vec![], svid: 1, offset: 0, len: 1, exclusive: true, fail: None };
        Plan { nlm: (0..n).map(|i| NlmHost { caller_name: format!("h{i}"), addr: [127, 0, 0, 1].into(), state: 1, locks: vec![l.clone()] }).collect(), ..Plan::default() }
    }

    fn run(outcomes: Vec<Outcome>) -> RunResult {
        RunResult { establish: false, outcomes, started: 0.0, elapsed: 3.0, nlm_port: Some(1), retransmits: 2, reconnects: 1, retries: 0, cpu: 0.5, fh_updates: vec![], t0: std::time::Instant::now() }
    }

    #[test]
    fn counts_rates_latency_and_grace() {
        let refused = Res::Refused { status: "DENIED_GRACE_PERIOD".into(), code: 4, sent: true };
        let out = vec![
            oc(Kind::NlmLock, 0, Res::Granted, 0.0, 0.1),
            oc(Kind::NlmLock, 1, Res::Granted, 0.5, 0.7),
            oc(Kind::NlmLock, 2, Res::Granted, 1.0, 1.5),
            oc(Kind::NlmLock, 3, refused, 2.0, 2.2),
            oc(Kind::NlmLock, 4, Res::Failed { reason: "timeout: no reply after 4 transmissions".into() }, 2.0, 3.0),
        ];
        let g = Grace { start: Some(-1.0), length: 2.5, observed_end: None, seen_in_grace: true };
        let r = build(&plan(5), &run(out), "127.0.0.3", Some(&g));
        assert_eq!((r.planned, r.granted, r.refused, r.failed), (5, 3, 1, 1));
        assert_eq!((r.locks_planned, r.locks_granted, r.locks_lost), (5, 3, 2));
        assert_eq!((r.clients, r.clients_complete), (5, 3));
        assert_eq!(r.per_second.iter().map(|b| (b.granted, b.answered)).collect::<Vec<_>>(), [(2, 2), (1, 1), (0, 1)]);
        assert_eq!(r.rate_peak_1s, 2);
        assert!((r.rate_mean - 3.0 / 2.2).abs() < 1e-9);
        let l = r.latency.unwrap();
        assert_eq!(l.n, 4, "the failed one has no answer");
        assert!((l.max_ms - 500.0).abs() < 1.0 && (l.p50_ms - 200.0).abs() < 1.0, "{l:?}");
        let gr = r.grace.as_ref().unwrap();
        assert_eq!((gr.end_s, gr.end_observed), (1.5, false));
        assert!(gr.margin_s.unwrap().abs() < 1e-9);
        assert!(!r.everyone_made_it);
        assert_eq!(r.outcomes.iter().map(|x| x.count).sum::<usize>(), 5);
        assert!(r.problems.iter().any(|(p, n)| p.contains("timeout") && *n == 1));
        let t = text(&r);
        assert!(t.contains("3 granted, 1 refused, 1 failed of 5 planned") && t.contains("Everyone made it: NO"), "{t}");
        assert!(t.contains("refused DENIED_GRACE_PERIOD"));
    }

    #[test]
    fn everyone_made_it_needs_every_grant_inside_grace() {
        let out = vec![oc(Kind::NlmLock, 0, Res::Granted, 0.0, 0.1), oc(Kind::NlmLock, 1, Res::Granted, 0.2, 0.4)];
        let mut g = Grace { start: Some(0.0), length: 1.0, observed_end: None, seen_in_grace: false };
        assert!(build(&plan(2), &run(out.clone()), "t", Some(&g)).everyone_made_it);
        assert!(build(&plan(2), &run(out.clone()), "t", None).everyone_made_it);
        g.observed_end = Some(0.3);
        let r = build(&plan(2), &run(out.clone()), "t", Some(&g));
        assert!(!r.everyone_made_it && r.grace.unwrap().end_observed);
        // a planned reclaim without an outcome is never "made it"
        assert!(!build(&plan(3), &run(out), "t", None).everyone_made_it);
        let j = serde_json::to_value(build(&plan(1), &run(vec![]), "t", None)).unwrap();
        assert_eq!(j["planned"], 1);
        assert!(j["latency"].is_null());
    }

    #[test]
    fn setup_rows_are_apart() {
        let out = vec![oc(Kind::Setup, 0, Res::Granted, 0.0, 0.1), oc(Kind::Open, 0, Res::Granted, 0.1, 0.2), oc(Kind::ReclaimComplete, 0, Res::Granted, 0.2, 0.3)];
        let p = Plan { v4: vec![], ..Plan::default() };
        let r = build(&p, &run(out), "t", None);
        assert_eq!(r.outcomes.len(), 1);
        assert_eq!(r.sessions.iter().map(|x| x.request.as_str()).collect::<Vec<_>>(), ["RECLAIM_COMPLETE", "client setup"]);
        assert_eq!(r.opens_granted, 1);
    }
}
