//! The NFSv4 part of `gracewatch state`: clients, sessions, opens, locks,
//! delegations, restart evidence, and lock conflicts across NLM and NFSv4.

use super::{excl, hex_short, range_text, right, table, yes, AnswerRow, FrameJson};
use crate::net::{sorted, FrameRef};
use crate::proto::nfs4::open::CLAIM_NAMES;
use crate::proto::nfs4::status_name;
use crate::proto::nfs4::types::{locktype_name, table_name};
use crate::state::nfs4::{owner_text, EvidenceKind, Nfs4Client, Nfs4State, Principal};
use crate::state::ServerState;
use crate::state::Tracker;
use crate::xdr::hex;
use comfy_table::Cell;
use serde::Serialize;
use std::fmt::Write;
use std::net::IpAddr;

/// Most conflict rows listed per server IP.
pub const MAX_CONFLICTS: usize = 1000;

fn cid(c: u64) -> String {
    format!("{c:016x}")
}

fn epoch(stale: Option<FrameRef>) -> &'static str {
    if stale.is_some() {
        "old"
    } else {
        "current"
    }
}

fn claim_name(c: u32) -> &'static str {
    table_name(c, &CLAIM_NAMES).unwrap_or("CLAIM_?")
}

#[derive(Debug, Clone, Serialize)]
pub struct Nfs4ClientRow {
    pub clientid: String,
    /// The client owner (text when printable, else hex).
    pub owner: String,
    pub owner_hex: String,
    pub verifier: String,
    pub addr: IpAddr,
    pub principal: Option<Principal>,
    pub minor: u32,
    pub cb_program: Option<u32>,
    pub created: FrameJson,
    pub confirmed: Option<FrameJson>,
    /// Only seen in use (its SETCLIENTID / EXCHANGE_ID was not captured).
    pub inferred: bool,
    pub renewals: u64,
    pub last_renewal: FrameJson,
    pub reclaim_complete: Option<FrameJson>,
    pub complete_already: u32,
    /// `current` or `old` (from before a server restart).
    pub epoch: &'static str,
    pub stale_since: Option<FrameJson>,
    pub successor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nfs4SessionRow {
    pub sessionid: String,
    pub clientid: String,
    pub cb_program: u32,
    pub created: FrameJson,
    pub destroyed: Option<FrameJson>,
    pub stale_since: Option<FrameJson>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nfs4OpenRow {
    pub clientid: String,
    pub client_owner: Option<String>,
    pub client_addr: Option<IpAddr>,
    pub open_owner: String,
    pub stateid: String,
    pub fh: Option<String>,
    pub path: Option<String>,
    pub share_access: u32,
    pub share_deny: u32,
    pub claim: &'static str,
    pub reclaim: bool,
    /// OPEN_CONFIRM still outstanding.
    pub unconfirmed: bool,
    pub minor: u32,
    pub call: FrameJson,
    pub granted: FrameJson,
    pub epoch: &'static str,
    pub stale_since: Option<FrameJson>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nfs4LockRow {
    pub clientid: String,
    pub client_owner: Option<String>,
    pub client_addr: Option<IpAddr>,
    pub minor: u32,
    pub lock_owner: String,
    pub stateid: Option<String>,
    pub open_stateid: Option<String>,
    pub fh: String,
    pub path: Option<String>,
    pub offset: u64,
    /// Exclusive end; `null` for "to end of file".
    pub end: Option<u64>,
    pub locktype: &'static str,
    pub exclusive: bool,
    pub reclaim: bool,
    pub call: FrameJson,
    pub granted: FrameJson,
    pub epoch: &'static str,
    pub stale_since: Option<FrameJson>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nfs4DelegRow {
    pub clientid: String,
    pub client_owner: Option<String>,
    pub stateid: String,
    pub fh: Option<String>,
    pub path: Option<String>,
    pub write: bool,
    pub reclaim: bool,
    pub granted: FrameJson,
    pub epoch: &'static str,
    pub stale_since: Option<FrameJson>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nfs4EvidenceRow {
    pub kind: EvidenceKind,
    pub at: FrameJson,
    pub call: FrameJson,
    pub client_addr: IpAddr,
    pub clientid: Option<String>,
    pub client_owner: Option<String>,
    pub op: &'static str,
    pub status: u32,
    pub status_name: Option<&'static str>,
    pub known: bool,
    pub marked_old: usize,
    pub reclaim: bool,
    pub fh: Option<String>,
    pub path: Option<String>,
    pub offset: Option<u64>,
    pub end: Option<u64>,
    pub exclusive: Option<bool>,
    pub claim: Option<&'static str>,
    pub minor: u32,
    /// For a client id epoch change: the previous and the new epoch (hex).
    pub epochs: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nfs4EpochRow {
    pub at: FrameJson,
    pub kind: EvidenceKind,
    pub clients: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nfs4UnconfirmedRow {
    pub caller: String,
    pub callee: String,
    pub transport: String,
    pub call: FrameJson,
    pub operation: &'static str,
    pub ops: String,
}

/// Everything NFSv4 about one server IP.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Nfs4Report {
    pub clients: Vec<Nfs4ClientRow>,
    pub sessions: Vec<Nfs4SessionRow>,
    pub opens: Vec<Nfs4OpenRow>,
    pub locks: Vec<Nfs4LockRow>,
    pub delegations: Vec<Nfs4DelegRow>,
    pub evidence: Vec<Nfs4EvidenceRow>,
    pub epochs: Vec<Nfs4EpochRow>,
    pub answers: Vec<AnswerRow>,
    pub unconfirmed: Vec<Nfs4UnconfirmedRow>,
}

impl Nfs4Report {
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty() && self.sessions.is_empty() && self.opens.is_empty() && self.locks.is_empty() && self.evidence.is_empty() && self.answers.is_empty() && self.unconfirmed.is_empty()
    }
}

fn client_row(c: &Nfs4Client) -> Nfs4ClientRow {
    Nfs4ClientRow {
        clientid: cid(c.clientid),
        owner: c.owner_text(),
        owner_hex: hex(&c.owner),
        verifier: hex(&c.verifier),
        addr: c.addr,
        principal: c.principal.clone(),
        minor: c.minor,
        cb_program: c.cb_program,
        created: c.created.into(),
        confirmed: c.confirmed.map(Into::into),
        inferred: c.inferred,
        renewals: c.renewals,
        last_renewal: c.last_renewal.into(),
        reclaim_complete: c.reclaim_complete.map(Into::into),
        complete_already: c.complete_already,
        epoch: epoch(c.stale_since),
        stale_since: c.stale_since.map(Into::into),
        successor: c.successor.map(cid),
    }
}

/// The NFSv4 rows of server IP `ip`.
pub fn report(t: &Tracker, ip: IpAddr, s: &Nfs4State) -> Nfs4Report {
    let path = |fh: &[u8]| t.path(fh);
    let owner = |c: u64| s.client_owner(c).map(owner_text);
    let addr = |c: u64| s.client(c).map(|c| c.addr);
    let clients = s.client_ids().iter().filter_map(|id| s.clients.get(id)).map(client_row).collect();
    let sessions = sorted(&s.sessions)
        .into_iter()
        .map(|(_, x)| x)
        .map(|x| Nfs4SessionRow {
            sessionid: hex(&x.sessionid),
            clientid: cid(x.clientid),
            cb_program: x.cb_program,
            created: x.created.into(),
            destroyed: x.destroyed.map(Into::into),
            stale_since: x.stale_since.map(Into::into),
        })
        .collect();
    let opens = sorted(&s.opens)
        .into_iter()
        .map(|(_, x)| x)
        .map(|o| Nfs4OpenRow {
            clientid: cid(o.clientid),
            client_owner: owner(o.clientid),
            client_addr: addr(o.clientid),
            open_owner: hex(&o.open_owner),
            stateid: o.stateid.hex(),
            fh: o.fh.as_deref().map(hex),
            path: o.fh.as_deref().and_then(path).or_else(|| o.path.clone()),
            share_access: o.share_access,
            share_deny: o.share_deny,
            claim: claim_name(o.claim),
            reclaim: o.reclaim,
            unconfirmed: o.unconfirmed,
            minor: o.minor,
            call: o.call.into(),
            granted: o.granted.into(),
            epoch: epoch(o.stale_since),
            stale_since: o.stale_since.map(Into::into),
        })
        .collect();
    let locks = s
        .held()
        .map(|l| {
            let h = l.held;
            Nfs4LockRow {
                clientid: cid(h.owner.clientid),
                client_owner: owner(h.owner.clientid),
                client_addr: addr(h.owner.clientid),
                minor: h.meta.minor,
                lock_owner: hex(&h.owner.owner),
                stateid: l.stateid.map(|x| x.hex()),
                open_stateid: l.open_stateid.map(|x| x.hex()),
                fh: hex(l.fh),
                path: path(l.fh),
                offset: h.range.start,
                end: h.range.end,
                locktype: locktype_name(h.meta.locktype).unwrap_or("?"),
                exclusive: h.exclusive,
                reclaim: h.meta.reclaim,
                call: h.meta.call.into(),
                granted: h.meta.granted.into(),
                epoch: epoch(h.meta.stale_since),
                stale_since: h.meta.stale_since.map(Into::into),
            }
        })
        .collect();
    let delegations = sorted(&s.delegations)
        .into_iter()
        .map(|(_, x)| x)
        .map(|d| Nfs4DelegRow {
            clientid: cid(d.clientid),
            client_owner: owner(d.clientid),
            stateid: d.stateid.hex(),
            fh: d.fh.as_deref().map(hex),
            path: d.fh.as_deref().and_then(path),
            write: d.write,
            reclaim: d.reclaim,
            granted: d.granted.into(),
            epoch: epoch(d.stale_since),
            stale_since: d.stale_since.map(Into::into),
        })
        .collect();
    let evidence = s
        .evidence
        .iter()
        .map(|e| Nfs4EvidenceRow {
            kind: e.kind,
            at: e.at.into(),
            call: e.call.into(),
            client_addr: e.client_addr,
            clientid: e.clientid.map(cid),
            client_owner: e.client_owner.as_deref().map(owner_text),
            op: e.op,
            status: e.status,
            status_name: status_name(e.status),
            known: e.known,
            marked_old: e.marked_old,
            reclaim: e.reclaim,
            fh: e.fh.as_deref().map(hex),
            path: e.fh.as_deref().and_then(path),
            offset: e.range.map(|r| r.start),
            end: e.range.and_then(|r| r.end),
            exclusive: e.exclusive,
            claim: e.claim.map(claim_name),
            minor: e.minor,
            epochs: e.epochs.map(|(a, b)| (format!("{a:08x}"), format!("{b:08x}"))),
        })
        .collect();
    let epochs = s.epochs.iter().map(|m| Nfs4EpochRow { at: m.at.into(), kind: m.kind, clients: m.clients }).collect();
    let answers = crate::output::state::answer_rows(&s.answer_names());
    let unconfirmed = t
        .nfs4_unconfirmed()
        .into_iter()
        .filter(|c| c.callee.ip == ip)
        .map(|c| Nfs4UnconfirmedRow {
            caller: c.caller.to_string(),
            callee: c.callee.to_string(),
            transport: c.transport.to_string(),
            call: c.at.into(),
            operation: c.main_op(),
            ops: c.summary(),
        })
        .collect();
    Nfs4Report { clients, sessions, opens, locks, delegations, evidence, epochs, answers, unconfirmed }
}

/// One side of a conflict.
#[derive(Debug, Clone, Serialize)]
pub struct LockRef {
    /// `nlm` or `nfs4`.
    pub protocol: &'static str,
    /// Who holds it, in one line.
    pub holder: String,
    pub client: Option<IpAddr>,
    pub fh: String,
    pub offset: u64,
    pub end: Option<u64>,
    pub exclusive: bool,
    pub reclaim: bool,
    /// `current`, or `old` for an NFSv4 lock from before a server restart.
    pub epoch: &'static str,
    pub granted: FrameJson,
}

/// Two locks of different owners on the same file that overlap, one of them exclusive.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictRow {
    pub path: Option<String>,
    pub a: LockRef,
    pub b: LockRef,
    pub overlap_offset: u64,
    pub overlap_end: Option<u64>,
}

/// Conflicting pairs among the NLM and NFSv4 locks of one server IP (a file is one
/// handle, or several handles with the same complete path); at most
/// [`MAX_CONFLICTS`], and whether more were left out.
pub fn conflicts(t: &Tracker, s: &ServerState) -> (Vec<ConflictRow>, bool) {
    struct E {
        key: String,
        who: String,
        lock: LockRef,
        range: crate::state::ranges::Range,
    }
    let key = |fh: &[u8]| t.path(fh).filter(|p| !p.starts_with('…')).unwrap_or_else(|| format!("fh:{}", hex(fh)));
    let mut v: Vec<E> = Vec::new();
    for (fh, h) in s.nlm.locks.iter() {
        let o = &h.owner;
        v.push(E {
            key: key(fh),
            who: format!("nlm {} {} {} {}", o.client, o.caller_name, hex(&o.oh), o.svid),
            range: h.range,
            lock: LockRef {
                protocol: "nlm",
                holder: format!("{} ({}) oh {} svid {}", o.caller_name, o.client, hex_short(&hex(&o.oh)), o.svid),
                client: Some(o.client),
                fh: hex(fh),
                offset: h.range.start,
                end: h.range.end,
                exclusive: h.exclusive,
                reclaim: h.meta.reclaim,
                epoch: "current",
                granted: h.meta.granted.into(),
            },
        });
    }
    for l in s.nfs4.held() {
        let h = l.held;
        let co = s.nfs4.client_owner(h.owner.clientid).map(owner_text).unwrap_or_else(|| "?".into());
        v.push(E {
            key: key(l.fh),
            who: format!("nfs4 {:016x} {}", h.owner.clientid, hex(&h.owner.owner)),
            range: h.range,
            lock: LockRef {
                protocol: "nfs4",
                holder: format!("{co} ({}) lock owner {}", cid(h.owner.clientid), hex_short(&hex(&h.owner.owner))),
                client: l.client.map(|c| c.addr),
                fh: hex(l.fh),
                offset: h.range.start,
                end: h.range.end,
                exclusive: h.exclusive,
                reclaim: h.meta.reclaim,
                epoch: epoch(h.meta.stale_since),
                granted: h.meta.granted.into(),
            },
        });
    }
    v.sort_by(|a, b| a.key.cmp(&b.key).then(a.range.cmp(&b.range)));
    let mut out = Vec::new();
    for (i, a) in v.iter().enumerate() {
        // Sorted by file then start: the candidates start before `a` ends.
        for b in v[i + 1..].iter().take_while(|b| b.key == a.key && a.range.end.is_none_or(|e| b.range.start < e)) {
            if a.who == b.who || !(a.lock.exclusive || b.lock.exclusive) || !a.range.overlaps(&b.range) {
                continue;
            }
            if out.len() >= MAX_CONFLICTS {
                return (out, true);
            }
            let o = a.range.intersect(&b.range).unwrap_or(a.range);
            let path = (!a.key.starts_with("fh:")).then(|| a.key.clone());
            out.push(ConflictRow { path, a: a.lock.clone(), b: b.lock.clone(), overlap_offset: o.start, overlap_end: o.end });
        }
    }
    (out, false)
}

fn since(f: &Option<FrameJson>, fc: &dyn Fn(&FrameJson) -> String) -> String {
    match f {
        Some(f) => format!("old since {}", fc(f)),
        None => "current".into(),
    }
}

/// The NFSv4 tables of one server block.
pub fn text(s: &mut String, r: &Nfs4Report, fc: &dyn Fn(&FrameJson) -> String) {
    if r.is_empty() {
        return;
    }
    if !r.clients.is_empty() {
        let old = r.clients.iter().filter(|c| c.epoch == "old").count();
        let _ = writeln!(s, "NFSv4 clients: {} ({old} old epoch)", r.clients.len());
        let mut t = table(&["clientid", "client owner", "address", "principal", "minor", "confirmed", "renewals (last)", "RECLAIM_COMPLETE", "epoch"]);
        for c in &r.clients {
            let principal = c.principal.as_ref().map_or("-".into(), |p| format!("{} uid {}", p.machine, p.uid));
            let mut rc = c.reclaim_complete.as_ref().map_or("-".into(), fc);
            if c.complete_already > 0 {
                let _ = write!(rc, " (+{} COMPLETE_ALREADY)", c.complete_already);
            }
            t.add_row(vec![
                Cell::new(&c.clientid),
                Cell::new(if c.inferred { "(not seen)".into() } else { c.owner.clone() }),
                Cell::new(c.addr),
                Cell::new(principal),
                right(c.minor),
                Cell::new(c.confirmed.as_ref().map_or("no".into(), fc)),
                Cell::new(format!("{} ({})", c.renewals, fc(&c.last_renewal))),
                Cell::new(rc),
                Cell::new(since(&c.stale_since, fc)),
            ]);
        }
        let _ = writeln!(s, "{t}");
    }
    if !r.sessions.is_empty() {
        let _ = writeln!(s, "NFSv4.1 sessions: {}", r.sessions.len());
        let mut t = table(&["session", "clientid", "created", "destroyed", "epoch"]);
        for x in &r.sessions {
            t.add_row(vec![
                Cell::new(&x.sessionid),
                Cell::new(&x.clientid),
                Cell::new(fc(&x.created)),
                Cell::new(x.destroyed.as_ref().map_or("-".into(), fc)),
                Cell::new(since(&x.stale_since, fc)),
            ]);
        }
        let _ = writeln!(s, "{t}");
    }
    if !r.opens.is_empty() {
        let _ = writeln!(s, "NFSv4 opens: {}", r.opens.len());
        let mut t = table(&["client owner", "clientid", "open owner", "stateid", "fh", "path", "access/deny", "claim", "granted", "epoch"]);
        for o in &r.opens {
            t.add_row(vec![
                Cell::new(o.client_owner.as_deref().unwrap_or("?")),
                Cell::new(&o.clientid),
                Cell::new(hex_short(&o.open_owner)),
                Cell::new(&o.stateid),
                Cell::new(o.fh.as_deref().map_or("-".into(), hex_short)),
                Cell::new(o.path.as_deref().unwrap_or("-")),
                Cell::new(format!("{}/{}", o.share_access, o.share_deny)),
                Cell::new(o.claim),
                Cell::new(fc(&o.granted)),
                Cell::new(since(&o.stale_since, fc)),
            ]);
        }
        let _ = writeln!(s, "{t}");
    }
    let _ = writeln!(s, "NFSv4 locks held: {}", r.locks.len());
    if !r.locks.is_empty() {
        let mut t = table(&["client owner", "clientid", "lock owner", "stateid", "fh", "path", "range", "type", "reclaim", "granted", "epoch"]);
        for l in &r.locks {
            t.add_row(vec![
                Cell::new(l.client_owner.as_deref().unwrap_or("?")),
                Cell::new(&l.clientid),
                Cell::new(hex_short(&l.lock_owner)),
                Cell::new(l.stateid.as_deref().unwrap_or("?")),
                Cell::new(hex_short(&l.fh)),
                Cell::new(l.path.as_deref().unwrap_or("-")),
                Cell::new(range_text(l.offset, l.end)),
                Cell::new(format!("{} ({})", l.locktype, excl(l.exclusive))),
                Cell::new(yes(l.reclaim)),
                Cell::new(fc(&l.granted)),
                Cell::new(since(&l.stale_since, fc)),
            ]);
        }
        let _ = writeln!(s, "{t}");
    }
    if !r.delegations.is_empty() {
        let _ = writeln!(s, "NFSv4 delegations: {}", r.delegations.len());
        let mut t = table(&["client owner", "clientid", "stateid", "fh", "path", "type", "reclaim", "granted", "epoch"]);
        for d in &r.delegations {
            t.add_row(vec![
                Cell::new(d.client_owner.as_deref().unwrap_or("?")),
                Cell::new(&d.clientid),
                Cell::new(&d.stateid),
                Cell::new(d.fh.as_deref().map_or("-".into(), hex_short)),
                Cell::new(d.path.as_deref().unwrap_or("-")),
                Cell::new(if d.write { "write" } else { "read" }),
                Cell::new(yes(d.reclaim)),
                Cell::new(fc(&d.granted)),
                Cell::new(since(&d.stale_since, fc)),
            ]);
        }
        let _ = writeln!(s, "{t}");
    }
    if !r.evidence.is_empty() {
        let _ = writeln!(s, "NFSv4 restart and grace evidence: {}", r.evidence.len());
        let mut t = table(&["reply", "evidence", "client", "operation", "status", "detail"]);
        for e in &r.evidence {
            let client = match (&e.client_owner, &e.clientid) {
                (Some(o), Some(c)) => format!("{o} ({c})"),
                (None, Some(c)) => c.clone(),
                _ => e.client_addr.to_string(),
            };
            let mut d = String::new();
            if e.reclaim {
                d.push_str("reclaim ");
            }
            if let Some(c) = e.claim {
                let _ = write!(d, "{c} ");
            }
            if let Some(o) = e.offset {
                let _ = write!(d, "{} ", range_text(o, e.end));
            }
            if let Some(p) = e.path.as_deref().or(e.fh.as_deref()) {
                let _ = write!(d, "{} ", hex_short(p));
            }
            if e.marked_old > 0 {
                let _ = write!(d, "moved {} clients to the old epoch ", e.marked_old);
            }
            if let Some((a, b)) = &e.epochs {
                let _ = write!(d, "epoch {a} -> {b} ");
            }
            if !e.known {
                d.push_str(match e.kind {
                    EvidenceKind::ReclaimGranted => "(no old-epoch state seen for it)",
                    _ => "(not seen before)",
                });
            }
            t.add_row(vec![
                Cell::new(fc(&e.at)),
                Cell::new(e.kind.name()),
                Cell::new(client),
                Cell::new(e.op),
                Cell::new(e.status_name.unwrap_or("-")),
                Cell::new(d.trim_end()),
            ]);
        }
        let _ = writeln!(s, "{t}");
    }
    if !r.answers.is_empty() {
        s.push_str("NFSv4 results seen\n");
        let mut t = table(&["operation", "status", "count"]);
        for a in &r.answers {
            t.add_row(vec![Cell::new(a.procedure), Cell::new(a.status), right(a.count)]);
        }
        let _ = writeln!(s, "{t}");
    }
    if !r.unconfirmed.is_empty() {
        let _ = writeln!(s, "Unconfirmed NFSv4 calls (no reply captured): {}", r.unconfirmed.len());
        let mut t = table(&["call", "from", "to", "operations"]);
        for u in &r.unconfirmed {
            t.add_row(vec![Cell::new(fc(&u.call)), Cell::new(&u.caller), Cell::new(&u.callee), Cell::new(&u.ops)]);
        }
        let _ = writeln!(s, "{t}");
    }
}

/// The conflicts table.
pub fn conflicts_text(s: &mut String, rows: &[ConflictRow], capped: bool, fc: &dyn Fn(&FrameJson) -> String) {
    if rows.is_empty() {
        return;
    }
    let more = if capped { " (more left out)" } else { "" };
    let _ = writeln!(s, "Conflicting locks (same file, overlapping, one exclusive): {}{more}", rows.len());
    let mut t = table(&["file", "lock", "held by", "granted", "other lock", "held by", "granted"]);
    let side = |l: &LockRef| format!("{} {} {}{}", l.protocol, range_text(l.offset, l.end), excl(l.exclusive), if l.epoch == "old" { " old epoch" } else { "" });
    for c in rows {
        t.add_row(vec![
            Cell::new(c.path.clone().unwrap_or_else(|| hex_short(&c.a.fh))),
            Cell::new(side(&c.a)),
            Cell::new(&c.a.holder),
            Cell::new(fc(&c.a.granted)),
            Cell::new(side(&c.b)),
            Cell::new(&c.b.holder),
            Cell::new(fc(&c.b.granted)),
        ]);
    }
    let _ = writeln!(s, "{t}");
}

#[cfg(test)]
mod tests {
    use crate::client::nfs4::{Op, OpenClaim};
    use crate::output::state::{report as full_report, text as full_text};
    use crate::state::nfs4::testutil::*;
    use crate::state::testutil::{lk, lock_args, res, srv_ip, A, FH, SRV};

    const CA: u64 = 0x0000_0011_0000_0001;

    #[test]
    fn nfs4_rows_evidence_and_conflicts() {
        let mut n = N::new();
        n.h.nlm(2, A, SRV, &lock_args(1, false, true, lk(A, 0, 100), false), &res(1, 0));
        n.setclientid(3, "v4-client", CA);
        n.open(3, 0, [0; 16], CA, b"oo", OpenClaim::Previous(0), FH, sid(1, 0xa, 3));
        n.on_file(3, 0, [0; 16], FH, lock_new(2, false, 50, 100, sid(1, 0xa, 3), CA, b"lo"), |r| r.stateid(12, sid(1, 0xb, 3)));
        n.rpc(3, 0, vec![Op::Renew(CA)], Res::new().st(30, 10022));
        let r = full_report(&n.h.t, &["x.pcap".into()], Some(srv_ip(SRV)));
        let v = serde_json::to_value(&r).expect("json");
        let s = &v["servers"][0];
        let l = &s["nfs4"]["locks"][0];
        assert_eq!(l["clientid"], "0000001100000001");
        assert_eq!(l["client_owner"], "v4-client");
        assert_eq!(l["client_addr"], "10.0.0.3");
        assert_eq!(l["lock_owner"], "6c6f");
        assert_eq!(l["stateid"], sid(1, 0xb, 3).hex());
        assert_eq!(l["open_stateid"], sid(1, 0xa, 3).hex());
        assert_eq!((l["offset"].as_u64(), l["end"].as_u64(), l["locktype"].as_str()), (Some(50), Some(150), Some("WRITE_LT")));
        assert_eq!((l["epoch"].as_str(), l["stale_since"]["frame"].as_u64()), (Some("old"), Some(n.h.frame)));
        let c = &s["nfs4"]["clients"][0];
        assert_eq!((c["owner"].as_str(), c["epoch"].as_str(), c["principal"]["machine"].as_str()), (Some("v4-client"), Some("old"), Some("host3")));
        assert_eq!(s["nfs4"]["opens"][0]["claim"], "CLAIM_PREVIOUS");
        let e = &s["nfs4"]["evidence"];
        assert_eq!((e[0]["kind"].as_str(), e[0]["status_name"].as_str()), (Some("reclaim_granted"), Some("NFS4_OK")));
        assert_eq!((e[1]["kind"].as_str(), e[1]["marked_old"].as_u64()), (Some("stale_clientid"), Some(1)));
        let k = &s["conflicts"][0];
        assert_eq!((k["a"]["protocol"].as_str(), k["b"]["protocol"].as_str()), (Some("nlm"), Some("nfs4")));
        assert_eq!((k["b"]["epoch"].as_str(), k["overlap_offset"].as_u64(), k["overlap_end"].as_u64()), (Some("old"), Some(50), Some(100)));
        let t = full_text(&r);
        for want in ["NFSv4 clients: 1 (1 old epoch)", "NFSv4 locks held: 1", "v4-client", "[50, 150)", "WRITE_LT (excl)", "old since #", "stale_clientid", "moved 1 clients", "Conflicting locks", "nfs4 [50, 150) excl old epoch", "NFSv4 results seen"] {
            assert!(t.contains(want), "{want:?} missing in\n{t}");
        }
    }

    #[test]
    fn conflicts_need_overlap_an_exclusive_lock_and_two_owners() {
        let mut n = N::new();
        n.setclientid(3, "v4", CA);
        let lock = |n: &mut N, t: u32, off: u64, len: u64, owner: &[u8], s: u8| {
            n.on_file(3, 0, [0; 16], F1, lock_new(t, false, off, len, sid(1, 0xa, 3), CA, owner), |r| r.stateid(12, sid(1, 0xb, s)));
        };
        lock(&mut n, 1, 0, 10, b"o1", 1);
        lock(&mut n, 1, 5, 10, b"o2", 2);
        lock(&mut n, 2, 10, 10, b"o3", 3);
        lock(&mut n, 2, 30, u64::MAX, b"o1", 1);
        lock(&mut n, 2, 100, 1, b"o4", 4);
        let s = n.h.t.server(srv_ip(SRV)).expect("server");
        let (rows, capped) = super::conflicts(&n.h.t, s);
        let pairs: Vec<(u64, u64)> = rows.iter().map(|c| (c.a.offset, c.b.offset)).collect();
        // o2 [5,15) shared vs o3 [10,20) write; o1 [30,EOF) vs o4 [100,101).
        assert_eq!(pairs, vec![(5, 10), (30, 100)]);
        assert!(!capped);
        assert_eq!((rows[1].overlap_offset, rows[1].overlap_end), (100, Some(101)));
    }
}
