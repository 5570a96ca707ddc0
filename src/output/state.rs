//! `gracewatch state`: the lock state per server IP as tables or JSON.

pub mod nfs4;

use super::time_of_day;
use crate::net::{sorted, FrameRef, Ts};
use crate::state::nlm::{NlmReq, Via};
use crate::state::nsm::NsmReq;
use crate::state::ranges::Range;
use crate::state::time::civil_from_days;
use crate::state::{Pend, PendingCall, StateCounters, StateSource, Tracker};
use crate::xdr::{hex, Opaque};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::Serialize;
use std::fmt::Write;
use std::net::IpAddr;

/// A frame in JSON: input index, frame number, time in ns and as UTC text.
#[derive(Debug, Clone, Serialize)]
pub struct FrameJson {
    pub file: u16,
    pub frame: u64,
    pub ts_ns: i64,
    pub time: String,
}

impl From<FrameRef> for FrameJson {
    fn from(f: FrameRef) -> Self {
        FrameJson { file: f.file, frame: f.frame, ts_ns: f.ts, time: utc(f.ts) }
    }
}

/// A moment in JSON: nanoseconds since the epoch and UTC text.
#[derive(Debug, Clone, Serialize)]
pub struct TimeJson {
    pub ts_ns: i64,
    pub time: String,
}

/// `2023-11-14T22:13:20.123456789Z`.
pub fn utc(ts: Ts) -> String {
    let secs = ts.div_euclid(1_000_000_000);
    let ns = ts.rem_euclid(1_000_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let day = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ns:09}Z", day / 3600, day / 60 % 60, day % 60)
}

#[derive(Debug, Clone, Serialize)]
pub struct LockRow {
    pub client: IpAddr,
    pub caller_name: String,
    pub oh: String,
    pub svid: i32,
    pub fh: String,
    pub path: Option<String>,
    pub offset: u64,
    /// Exclusive end; `null` for "to end of file".
    pub end: Option<u64>,
    pub exclusive: bool,
    pub reclaim: bool,
    pub via: Via,
    pub vers: u32,
    pub call: FrameJson,
    pub granted: FrameJson,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaiterRow {
    pub client: IpAddr,
    pub caller_name: String,
    pub oh: String,
    pub svid: i32,
    pub fh: String,
    pub path: Option<String>,
    pub offset: u64,
    pub end: Option<u64>,
    pub exclusive: bool,
    pub reclaim: bool,
    pub call: FrameJson,
    pub blocked: FrameJson,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShareRow {
    pub client: IpAddr,
    pub caller_name: String,
    pub oh: String,
    pub fh: String,
    pub path: Option<String>,
    pub mode: u32,
    pub access: u32,
    pub reclaim: bool,
    pub call: FrameJson,
    pub granted: FrameJson,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonitorRow {
    pub mon_name: String,
    pub my_name: String,
    pub my_prog: u32,
    pub my_vers: u32,
    pub my_proc: u32,
    /// Who asked for the monitoring (`address.port`).
    pub caller: String,
    pub call: FrameJson,
    pub since: FrameJson,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnswerRow {
    pub procedure: &'static str,
    pub status: &'static str,
    pub count: u64,
}

/// Answer counts as rows, by procedure then status.
pub(crate) fn answer_rows(m: &crate::state::Tally) -> Vec<AnswerRow> {
    let mut v: Vec<AnswerRow> = m.iter().map(|(procedure, status, count)| AnswerRow { procedure, status, count }).collect();
    v.sort_unstable_by_key(|a| (a.procedure, a.status));
    v
}

#[derive(Debug, Clone, Serialize)]
pub struct UnconfirmedRow {
    pub server: IpAddr,
    pub caller: String,
    pub callee: String,
    pub transport: String,
    pub procedure: &'static str,
    pub call: FrameJson,
    /// The request in one line.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostRow {
    pub host: String,
    pub state: i32,
    pub source: StateSource,
    pub from: IpAddr,
    pub to: IpAddr,
    pub at: FrameJson,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerReport {
    pub server: IpAddr,
    pub locks: Vec<LockRow>,
    pub waiters: Vec<WaiterRow>,
    pub shares: Vec<ShareRow>,
    /// Hosts the statd at this address monitors.
    pub monitors: Vec<MonitorRow>,
    /// NLM answers seen, per procedure and status.
    pub answers: Vec<AnswerRow>,
    pub unconfirmed: Vec<UnconfirmedRow>,
    /// Locks of a previous server instance (before a restart or failover) that may
    /// still be reclaimed: not held, not yet lost.
    pub reclaimable: Vec<ReclaimableRow>,
    pub nfs4: nfs4::Nfs4Report,
    /// Locks of different owners (NLM or NFSv4, current or old epoch) that collide.
    pub conflicts: Vec<nfs4::ConflictRow>,
    /// More conflicts than listed.
    pub conflicts_capped: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReclaimableRow {
    pub protocol: String,
    pub client: IpAddr,
    pub client_name: String,
    pub owner: String,
    pub fh: String,
    pub path: Option<String>,
    pub offset: u64,
    pub end: Option<u64>,
    pub exclusive: bool,
    /// Where it was held (another address after a failover).
    pub held_on: IpAddr,
    pub granted: FrameJson,
    /// The server instance (epoch) that must accept its reclaim.
    pub epoch: usize,
    /// Grace end, proven by the wire or assumed.
    pub grace_end: TimeJson,
    pub grace_end_proven: bool,
}

/// Add the audit's restarts: pre-restart locks still reclaimable at the report's moment.
pub fn add_restarts(r: &mut StateReport, a: &crate::audit::Auditor) {
    let t = a.tracker();
    let now = t.until().unwrap_or(a.last_seen());
    for (ip, sa) in sorted(a.servers()) {
        if r.only.is_some_and(|o| o != *ip) {
            continue;
        }
        let rows: Vec<ReclaimableRow> = sa
            .old
            .iter()
            .filter(|o| o.reclaimed.is_none_or(|f| f.ts > now))
            .filter_map(|o| {
                let e = sa.epochs.get(o.epoch)?;
                let (end, proven) = e.grace_end(a.config().grace);
                (end > now).then(|| ReclaimableRow {
                    protocol: o.lock.protocol.to_string(),
                    client: o.lock.client,
                    client_name: o.lock.client_name.to_string(),
                    owner: o.lock.owner.to_string(),
                    fh: hex(&o.lock.fh),
                    path: t.path(&o.lock.fh),
                    offset: o.lock.range.start,
                    end: o.lock.range.end,
                    exclusive: o.lock.exclusive,
                    held_on: o.source,
                    granted: o.lock.granted.into(),
                    epoch: o.epoch,
                    grace_end: TimeJson { ts_ns: end, time: utc(end) },
                    grace_end_proven: proven,
                })
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let extra = reclaimable_conflicts(t, *ip, &rows, r.servers.iter().find(|s| s.server == *ip).map_or(&[][..], |s| &s.locks));
        match r.servers.iter_mut().find(|s| s.server == *ip) {
            Some(s) => {
                s.reclaimable = rows;
                s.conflicts.extend(extra);
            }
            None => r.servers.push(ServerReport {
                server: *ip,
                locks: Vec::new(),
                waiters: Vec::new(),
                shares: Vec::new(),
                monitors: Vec::new(),
                answers: Vec::new(),
                unconfirmed: Vec::new(),
                nfs4: nfs4::Nfs4Report::default(),
                conflicts: Vec::new(),
                conflicts_capped: false,
                reclaimable: rows,
            }),
        }
    }
}

/// Pre-restart NLM locks still reclaimable that current locks (NLM or NFSv4) of
/// other clients collide with. (Old NFSv4 locks are already among the tracker's own.)
fn reclaimable_conflicts(t: &Tracker, ip: IpAddr, rows: &[ReclaimableRow], held: &[LockRow]) -> Vec<nfs4::ConflictRow> {
    let mut out = Vec::new();
    let same_file = |a: &str, b: &str, pa: &Option<String>, pb: &Option<String>| a == b || (pa.is_some() && pa == pb);
    for r in rows.iter().filter(|r| r.protocol.starts_with("NLM")) {
        let range = Range { start: r.offset, end: r.end };
        let old = nfs4::LockRef {
            protocol: "nlm",
            holder: format!("{} ({}) {}", r.client_name, r.client, r.owner),
            client: Some(r.client),
            fh: r.fh.clone(),
            offset: r.offset,
            end: r.end,
            exclusive: r.exclusive,
            reclaim: false,
            epoch: "old",
            granted: r.granted.clone(),
        };
        let mut add = |b: nfs4::LockRef, brange: Range, path: Option<String>| {
            if let Some(o) = range.intersect(&brange) {
                out.push(nfs4::ConflictRow { path, a: old.clone(), b, overlap_offset: o.start, overlap_end: o.end });
            }
        };
        for l in held {
            let lr = Range { start: l.offset, end: l.end };
            if same_file(&l.fh, &r.fh, &l.path, &r.path) && (l.exclusive || r.exclusive) && l.caller_name != r.client_name && lr.overlaps(&range) {
                let b = nfs4::LockRef {
                    protocol: "nlm",
                    holder: format!("{} ({}) oh {} svid {}", l.caller_name, l.client, hex_short(&l.oh), l.svid),
                    client: Some(l.client),
                    fh: l.fh.clone(),
                    offset: l.offset,
                    end: l.end,
                    exclusive: l.exclusive,
                    reclaim: l.reclaim,
                    epoch: "current",
                    granted: l.granted.clone(),
                };
                add(b, lr, l.path.clone());
            }
        }
        if let Some(st) = t.nfs4(ip) {
            for h in st.held().filter(|h| !h.is_stale()) {
                let fh = hex(h.fh);
                let path = t.path(h.fh);
                if same_file(&fh, &r.fh, &path, &r.path) && (h.held.exclusive || r.exclusive) && h.held.range.overlaps(&range) {
                    let owner = h.client.map(|c| c.owner_text()).unwrap_or_default();
                    let b = nfs4::LockRef {
                        protocol: "nfs4",
                        holder: format!("{owner} lock owner {}", hex_short(&hex(&h.held.owner.owner))),
                        client: h.client.map(|c| c.addr),
                        fh,
                        offset: h.held.range.start,
                        end: h.held.range.end,
                        exclusive: h.held.exclusive,
                        reclaim: h.held.meta.reclaim,
                        epoch: "current",
                        granted: h.held.meta.granted.into(),
                    };
                    add(b, h.held.range, path);
                }
            }
        }
    }
    out
}

/// The reclaimable locks of one server, as text.
fn reclaimable_text(s: &ServerReport) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["protocol", "client", "name", "owner", "fh", "path", "range", "type", "held on", "granted", "grace ends"]);
    for r in &s.reclaimable {
        t.add_row(vec![
            Cell::new(&r.protocol),
            Cell::new(r.client),
            Cell::new(&r.client_name),
            Cell::new(&r.owner),
            Cell::new(hex_short(&r.fh)),
            Cell::new(r.path.clone().unwrap_or_default()),
            Cell::new(range_text(r.offset, r.end)),
            Cell::new(if r.exclusive { "excl" } else { "shared" }),
            Cell::new(r.held_on),
            Cell::new(format!("#{}", r.granted.frame)),
            Cell::new(format!("{}{}", r.grace_end.time, if r.grace_end_proven { "" } else { " (assumed)" })),
        ]);
    }
    format!("Pre-restart locks still reclaimable: {}\n{t}\n", s.reclaimable.len())
}

/// Everything `gracewatch state` shows.
#[derive(Debug, Clone, Serialize)]
pub struct StateReport {
    /// The moment the state is taken at (`null`: the end of the capture).
    pub at: Option<TimeJson>,
    /// The one server IP asked for, if any.
    pub only: Option<IpAddr>,
    pub files: Vec<String>,
    pub servers: Vec<ServerReport>,
    /// Last NSM state number seen per host.
    pub hosts: Vec<HostRow>,
    /// File handles with a known name.
    pub names_known: usize,
    pub counters: StateCounters,
}

/// Build the report, for one server IP only when `only` is given.
pub fn report(t: &Tracker, files: &[String], only: Option<IpAddr>) -> StateReport {
    let path = |fh: &[u8]| t.path(fh);
    let unconfirmed = t.unconfirmed();
    let mut servers = Vec::new();
    for (&ip, s) in sorted(t.servers()) {
        if only.is_some_and(|o| o != ip) {
            continue;
        }
        let locks = s
            .nlm
            .locks
            .iter()
            .map(|(fh, h)| {
                LockRow {
                    client: h.owner.client,
                    caller_name: h.owner.caller_name.to_string(),
                    oh: hex(&h.owner.oh),
                    svid: h.owner.svid,
                    fh: hex(fh),
                    path: path(fh),
                    offset: h.range.start,
                    end: h.range.end,
                    exclusive: h.exclusive,
                    reclaim: h.meta.reclaim,
                    via: h.meta.via,
                    vers: h.meta.vers,
                    call: h.meta.call.into(),
                    granted: h.meta.granted.into(),
                }
            })
            .collect();
        let waiters = s
            .nlm
            .waiters
            .iter()
            .map(|w| WaiterRow {
                client: w.owner.client,
                caller_name: w.owner.caller_name.to_string(),
                oh: hex(&w.owner.oh),
                svid: w.owner.svid,
                fh: hex(&w.fh),
                path: path(&w.fh),
                offset: w.range.start,
                end: w.range.end,
                exclusive: w.exclusive,
                reclaim: w.reclaim,
                call: w.call.into(),
                blocked: w.blocked.into(),
            })
            .collect();
        let shares = s
            .nlm
            .shares
            .iter()
            .map(|h| ShareRow {
                client: h.client,
                caller_name: h.caller_name.clone(),
                oh: hex(&h.oh),
                fh: hex(&h.fh),
                path: path(&h.fh),
                mode: h.mode,
                access: h.access,
                reclaim: h.reclaim,
                call: h.call.into(),
                granted: h.granted.into(),
            })
            .collect();
        let monitors = s
            .nsm
            .monitors
            .values()
            .map(|m| MonitorRow {
                mon_name: m.mon_name.clone(),
                my_name: m.my.my_name.clone(),
                my_prog: m.my.my_prog,
                my_vers: m.my.my_vers,
                my_proc: m.my.my_proc,
                caller: m.caller.to_string(),
                call: m.call.into(),
                since: m.since.into(),
            })
            .collect();
        let answers = answer_rows(&s.nlm.answers);
        let unconfirmed = unconfirmed.iter().filter(|p| p.lock_server == ip).map(|p| unconfirmed_row(t, p)).collect();
        let (conflicts, conflicts_capped) = nfs4::conflicts(t, s);
        let nfs4 = nfs4::report(t, ip, &s.nfs4);
        let r = ServerReport { server: ip, locks, waiters, shares, monitors, answers, unconfirmed, nfs4, conflicts, conflicts_capped, reclaimable: Vec::new() };
        // Addresses that only ever received an answered NSM call have nothing to show.
        let empty = r.locks.is_empty() && r.waiters.is_empty() && r.shares.is_empty() && r.monitors.is_empty() && r.nfs4.is_empty();
        if !(empty && r.answers.is_empty() && r.unconfirmed.is_empty()) {
            servers.push(r);
        }
    }
    let hosts = crate::net::sorted(t.hosts())
        .into_iter()
        .map(|(h, s)| HostRow { host: h.clone(), state: s.state, source: s.source, from: s.from, to: s.to, at: s.at.into() })
        .collect();
    StateReport {
        at: t.until().map(|ts| TimeJson { ts_ns: ts, time: utc(ts) }),
        only,
        files: files.to_vec(),
        servers,
        hosts,
        names_known: t.names().len(),
        counters: t.counters(),
    }
}

fn short(fh: &[u8]) -> String {
    Opaque(fh).to_string()
}

fn lock_summary(s: &mut String, caller: &str, oh: &[u8], svid: i32, fh: &[u8], range: Range, excl: Option<bool>) {
    let _ = write!(s, "{caller} oh {} svid {svid} fh {} {range}", short(oh), short(fh));
    match excl {
        Some(true) => s.push_str(" excl"),
        Some(false) => s.push_str(" shared"),
        None => {}
    }
}

fn unconfirmed_row(t: &Tracker, p: &PendingCall) -> UnconfirmedRow {
    let mut summary = String::new();
    let mut fh: Option<&[u8]> = None;
    match &p.what {
        Pend::Nlm(req) => match req {
            NlmReq::FreeAll { name, state } | NlmReq::SmNotify { mon_name: name, state } => {
                let _ = write!(summary, "{name} state {state}");
            }
            NlmReq::Share(s) | NlmReq::Unshare(s) => {
                fh = Some(&s.fh);
                let _ = write!(summary, "{} oh {} fh {} mode {} access {}", s.caller_name, short(&s.oh), short(&s.fh), s.mode, s.access);
                if s.reclaim {
                    summary.push_str(" reclaim");
                }
            }
            _ => {
                if let Some(l) = req.lock() {
                    fh = Some(&l.fh);
                    let excl = (!matches!(req, NlmReq::Unlock(_))).then_some(l.exclusive);
                    lock_summary(&mut summary, &l.owner.caller_name, &l.owner.oh, l.owner.svid, &l.fh, l.range, excl);
                    if l.block {
                        summary.push_str(" block");
                    }
                    if l.reclaim {
                        summary.push_str(" reclaim");
                    }
                }
            }
        },
        Pend::Nsm(req) => match req {
            NsmReq::Stat { mon_name } => summary.push_str(mon_name),
            NsmReq::Mon { mon_name, my } | NsmReq::Unmon { mon_name, my } => {
                let _ = write!(summary, "{mon_name} for {} prog {} vers {} proc {}", my.my_name, my.my_prog, my.my_vers, my.my_proc);
            }
            NsmReq::UnmonAll { my } => {
                let _ = write!(summary, "all for {} prog {} vers {} proc {}", my.my_name, my.my_prog, my.my_vers, my.my_proc);
            }
            NsmReq::Notify { mon_name, state } => {
                let _ = write!(summary, "{mon_name} state {state}");
            }
        },
        _ => {}
    }
    UnconfirmedRow {
        server: p.lock_server,
        caller: p.caller.to_string(),
        callee: p.callee.to_string(),
        transport: p.transport.to_string(),
        procedure: p.proc_name,
        call: p.at.into(),
        summary,
        fh: fh.map(hex),
        path: fh.and_then(|f| t.path(f)),
    }
}

// ---- text ----

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

fn frame_cell(f: &FrameJson, multi: bool) -> String {
    let tod = time_of_day(f.ts_ns);
    if multi {
        format!("{}#{} {tod}", f.file, f.frame)
    } else {
        format!("#{} {tod}", f.frame)
    }
}

fn range_text(offset: u64, end: Option<u64>) -> String {
    Range { start: offset, end }.to_string()
}

fn hex_short(h: &str) -> String {
    // 8 bytes shown, like the decoders' handles.
    if h.len() > 16 {
        format!("{}…", &h[..16])
    } else {
        h.to_string()
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn excl(b: bool) -> &'static str {
    if b {
        "excl"
    } else {
        "shared"
    }
}

fn right(v: impl ToString) -> Cell {
    Cell::new(v.to_string()).set_alignment(CellAlignment::Right)
}

/// The report as text: a block of tables per server IP, then the host state numbers
/// and the tracker's counters.
pub fn text(r: &StateReport) -> String {
    let multi = r.files.len() > 1;
    let fc = |f: &FrameJson| frame_cell(f, multi);
    let mut s = String::new();
    match &r.at {
        Some(at) => {
            let _ = writeln!(s, "State at {} (messages after it are not used)", at.time);
        }
        None => s.push_str("State at the end of the capture\n"),
    }
    match (r.servers.is_empty(), r.only) {
        (true, Some(ip)) => {
            let _ = writeln!(s, "\nNo NLM, NSM or NFSv4 state for {ip}.");
        }
        (true, None) => s.push_str("\nNo NLM, NSM or NFSv4 state traffic seen.\n"),
        _ => {}
    }
    for sv in &r.servers {
        let _ = writeln!(s, "\nServer {}", sv.server);
        let _ = writeln!(s, "NLM locks held: {}", sv.locks.len());
        if !sv.reclaimable.is_empty() {
            s.push_str(&reclaimable_text(sv));
        }
        if !sv.locks.is_empty() {
            let mut t = table(&["client", "caller_name", "owner (oh / svid)", "fh", "path", "range", "type", "granted", "via", "reclaim"]);
            for l in &sv.locks {
                t.add_row(vec![
                    Cell::new(l.client),
                    Cell::new(&l.caller_name),
                    Cell::new(format!("{} / {}", hex_short(&l.oh), l.svid)),
                    Cell::new(hex_short(&l.fh)),
                    Cell::new(l.path.as_deref().unwrap_or("-")),
                    Cell::new(range_text(l.offset, l.end)),
                    Cell::new(excl(l.exclusive)),
                    Cell::new(fc(&l.granted)),
                    Cell::new(l.via.name()),
                    Cell::new(yes(l.reclaim)),
                ]);
            }
            let _ = writeln!(s, "{t}");
        }
        if !sv.waiters.is_empty() {
            let _ = writeln!(s, "Blocked waiters: {}", sv.waiters.len());
            let mut t = table(&["client", "caller_name", "owner (oh / svid)", "fh", "path", "range", "type", "blocked", "reclaim"]);
            for w in &sv.waiters {
                t.add_row(vec![
                    Cell::new(w.client),
                    Cell::new(&w.caller_name),
                    Cell::new(format!("{} / {}", hex_short(&w.oh), w.svid)),
                    Cell::new(hex_short(&w.fh)),
                    Cell::new(w.path.as_deref().unwrap_or("-")),
                    Cell::new(range_text(w.offset, w.end)),
                    Cell::new(excl(w.exclusive)),
                    Cell::new(fc(&w.blocked)),
                    Cell::new(yes(w.reclaim)),
                ]);
            }
            let _ = writeln!(s, "{t}");
        }
        if !sv.shares.is_empty() {
            let _ = writeln!(s, "NLM shares: {}", sv.shares.len());
            let mut t = table(&["client", "caller_name", "oh", "fh", "path", "mode", "access", "granted", "reclaim"]);
            for h in &sv.shares {
                t.add_row(vec![
                    Cell::new(h.client),
                    Cell::new(&h.caller_name),
                    Cell::new(hex_short(&h.oh)),
                    Cell::new(hex_short(&h.fh)),
                    Cell::new(h.path.as_deref().unwrap_or("-")),
                    right(h.mode),
                    right(h.access),
                    Cell::new(fc(&h.granted)),
                    Cell::new(yes(h.reclaim)),
                ]);
            }
            let _ = writeln!(s, "{t}");
        }
        if !sv.monitors.is_empty() {
            let _ = writeln!(s, "Hosts the statd at {} monitors: {}", sv.server, sv.monitors.len());
            let mut t = table(&["host", "for (my_name)", "callback prog/vers/proc", "asked by", "since"]);
            for m in &sv.monitors {
                t.add_row(vec![
                    Cell::new(&m.mon_name),
                    Cell::new(&m.my_name),
                    Cell::new(format!("{}/{}/{}", m.my_prog, m.my_vers, m.my_proc)),
                    Cell::new(&m.caller),
                    Cell::new(fc(&m.since)),
                ]);
            }
            let _ = writeln!(s, "{t}");
        }
        if !sv.answers.is_empty() {
            s.push_str("NLM answers seen\n");
            let mut t = table(&["procedure", "answer", "count"]);
            for a in &sv.answers {
                t.add_row(vec![Cell::new(a.procedure), Cell::new(a.status), right(a.count)]);
            }
            let _ = writeln!(s, "{t}");
        }
        nfs4::text(&mut s, &sv.nfs4, &fc);
        nfs4::conflicts_text(&mut s, &sv.conflicts, sv.conflicts_capped, &fc);
        if !sv.unconfirmed.is_empty() {
            let _ = writeln!(s, "Unconfirmed calls (no answer captured): {}", sv.unconfirmed.len());
            let mut t = table(&["call", "from", "to", "procedure", "request", "path"]);
            for u in &sv.unconfirmed {
                t.add_row(vec![
                    Cell::new(fc(&u.call)),
                    Cell::new(&u.caller),
                    Cell::new(&u.callee),
                    Cell::new(u.procedure),
                    Cell::new(&u.summary),
                    Cell::new(u.path.as_deref().unwrap_or("-")),
                ]);
            }
            let _ = writeln!(s, "{t}");
        }
    }
    if !r.hosts.is_empty() {
        s.push_str("\nLast NSM state number per host\n");
        let mut t = table(&["host", "state", "seen in", "from", "to", "at"]);
        for h in &r.hosts {
            let src = serde_json::to_value(h.source).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            t.add_row(vec![Cell::new(&h.host), right(h.state), Cell::new(src), Cell::new(h.from), Cell::new(h.to), Cell::new(fc(&h.at))]);
        }
        let _ = writeln!(s, "{t}");
    }
    let c = &r.counters;
    let _ = writeln!(
        s,
        "\n{} file handles named; {} messages used, {} after the moment; {} unconfirmed calls; {} replies without their call; {} RPC errors; {} undecodable",
        r.names_known, c.messages, c.after_until, c.unconfirmed, c.replies_without_call, c.rpc_errors, c.undecoded
    );
    let n = &c.nfs4;
    if n.unconfirmed + n.replies_without_call + n.rpc_errors + n.undecoded + n.op_mismatch > 0 {
        let _ = writeln!(
            s,
            "NFSv4: {} unconfirmed calls; {} replies without their call; {} RPC errors; {} undecodable; {} results out of step with their call",
            n.unconfirmed, n.replies_without_call, n.rpc_errors, n.undecoded, n.op_mismatch
        );
    }
    let dropped4 = n.pending_evicted + n.locks_refused + n.clients_refused + n.sessions_refused + n.stateids_refused + n.evidence_dropped;
    let dropped = dropped4 + c.pending_evicted + c.async_evicted + c.locks_refused + c.waiters_refused + c.shares_refused + c.monitors_refused + c.hosts_refused + c.servers_refused + c.names_refused;
    if dropped > 0 {
        let _ = writeln!(s, "note: table caps dropped entries: {}", serde_json::to_string(c).unwrap_or_default());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::TrackerConfig;

    #[test]
    fn utc_formatting() {
        assert_eq!(utc(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123456789Z");
        assert_eq!(utc(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(utc(-1), "1969-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn report_rows_and_tables() {
        use crate::state::testutil::*;
        let mut h = H::new();
        h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 0), true), &res(1, 0));
        h.nlm(2, B, SRV, &lock_args(2, true, false, lk(B, 10, 5), false), &res(2, 3));
        h.nlm_call_only(4, ep(A.0, 800), ep(SRV, 4045), &unlock_args(3, lk(A, 0, 0)));
        h.nlm(2, B, SRV2, &lock_args(4, false, false, lk(B, 0, 1), false), &res(4, 0));
        let r = report(&h.t, &["a.pcap".into()], Some(srv_ip(SRV)));
        assert_eq!(r.servers.len(), 1, "--server keeps one server IP");
        let v = serde_json::to_value(&r).expect("json");
        let l = &v["servers"][0]["locks"][0];
        assert_eq!(l["caller_name"], "client-a");
        assert_eq!(l["client"], "10.0.0.1");
        assert_eq!(l["oh"], hex(b"oh@client-a"));
        assert_eq!(l["fh"], hex(FH));
        assert_eq!((l["offset"].as_u64(), l["end"].is_null()), (Some(0), true));
        assert_eq!((l["exclusive"].as_bool(), l["reclaim"].as_bool(), l["via"].as_str()), (Some(true), Some(true), Some("reply")));
        assert_eq!(l["granted"]["frame"], 2);
        assert_eq!(l["granted"]["time"], "2023-11-14T22:13:22.000000000Z");
        let w = &v["servers"][0]["waiters"][0];
        assert_eq!((w["caller_name"].as_str(), w["offset"].as_u64(), w["end"].as_u64()), (Some("client-b"), Some(10), Some(15)));
        let u = &v["servers"][0]["unconfirmed"][0];
        assert_eq!(u["procedure"], "UNLOCK");
        assert!(u["summary"].as_str().is_some_and(|s| s.starts_with("client-a oh") && s.contains("[0, EOF)")), "{u}");
        assert_eq!(v["servers"][0]["answers"].as_array().map(Vec::len), Some(2));
        let txt = text(&r);
        for want in ["Server 10.0.0.100", "NLM locks held: 1", "Blocked waiters: 1", "[0, EOF)", "excl", "#2 22:13:22.000000", "Unconfirmed calls", "UNLOCK", "client-a"] {
            assert!(txt.contains(want), "{want:?} missing in\n{txt}");
        }
        assert!(!txt.contains("Server 10.0.0.200"), "other server filtered out");
        // The server's statd notifies client A: nothing to show for A's address.
        h.rpc(crate::proto::NSM, 1, 6, ep(SRV, 900), ep(A.0, 662), &name_state("server", 5), &[]);
        assert!(h.t.server(ep(A.0, 0).ip).is_some());
        let all = report(&h.t, &[], None);
        assert_eq!(all.servers.iter().map(|s| s.server.to_string()).collect::<Vec<_>>(), vec!["10.0.0.100", "10.0.0.200"]);
        assert_eq!(all.hosts.iter().find(|h| h.host == "server").map(|h| h.state), Some(5));
    }

    #[test]
    fn empty_report() {
        let t = Tracker::new(TrackerConfig::default());
        let r = report(&t, &["x.pcap".into()], None);
        assert!(r.servers.is_empty() && r.at.is_none());
        let s = text(&report(&t, &[], Some(IpAddr::from([10, 9, 9, 9]))));
        assert!(s.contains("No NLM, NSM or NFSv4 state for 10.9.9.9"), "{s}");
        let s = text(&r);
        assert!(s.contains("end of the capture") && s.contains("No NLM, NSM or NFSv4 state traffic"), "{s}");
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(v["files"][0], "x.pcap");
        assert_eq!(v["counters"]["messages"], 0);
    }
}
