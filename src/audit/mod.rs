//! The grace audit: restarts and failovers of every server IP, their grace windows,
//! and each grant a correct server or cluster would not have given (GW001–GW009,
//! grace-rules.md).
//!
//! [`Auditor`] is a [`Sink`] around the state [`Tracker`]. After every message it reads
//! what changed (the tracker's journal, evidence of restarts), opens epochs, marks the
//! locks of the previous instance as reclaimable (no longer held), follows their
//! reclaims, and keeps every grant as a candidate. Candidates are judged once the grace
//! window around them is known: at once when the wire already proves the verdict, or at
//! the end of the input, when verdicts resting on the assumed grace length are
//! "possible".

pub mod epoch;
mod rules;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_v4;
pub mod verdict;

use crate::net::byip::ByIp;
use crate::net::chunked::ChunkQueue;
use crate::net::{Endpoint, FastMap, FastSet, FrameRef, Ts};
use crate::pipeline::{NetEvent, Sink};
use crate::proto::{self, nlm::NlmStat, nsm, CallBody, ReplyBody};
use crate::rpc::{Kind, Message};
use crate::state::journal::{LockEventKind, What};
use crate::state::nlm::{LockInfo, NlmOwner};
use crate::state::ranges::Held;
use crate::state::{AtTime, Tracker, TrackerConfig};
use epoch::{Epoch, Evidence, EvidenceKind};
use verdict::{Interner, OwnerRef};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
pub use verdict::{Certainty, LockRef, Severity, Verdict};

const NS: Ts = 1_000_000_000;
/// Grant candidates kept for judgement; the oldest are judged early past this.
const MAX_CANDIDATES: usize = 200_000;
/// Old-epoch locks kept per server IP.
const MAX_OLD: usize = 1_000_000;
/// Client contacts remembered per server IP.
const MAX_CONTACTS: usize = 100_000;

#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Assumed grace length.
    pub grace: Ts,
    pub lease: Ts,
    /// `(OLD, NEW)`: the service on OLD moved to NEW.
    pub failovers: Vec<(IpAddr, IpAddr)>,
    /// Server IPs sharing a filesystem, whose grace periods must agree.
    pub clusters: Vec<Vec<IpAddr>>,
    /// Restarts the operator knows of.
    pub restarts: Vec<(IpAddr, AtTime)>,
    pub tracker: TrackerConfig,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            grace: 90 * NS,
            lease: 90 * NS,
            failovers: Vec::new(),
            clusters: Vec::new(),
            restarts: Vec::new(),
            tracker: TrackerConfig::default(),
        }
    }
}

/// What kind of grant a candidate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    NlmLock,
    NlmShare,
    V4Open,
    V4Lock,
}

/// A grant awaiting judgement.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub server: IpAddr,
    pub lock: LockRef,
    pub kind: GrantKind,
    pub reclaim: bool,
    /// NFSv4 minor version.
    pub minor: Option<u32>,
    /// For NFSv4.1+: the client's RECLAIM_COMPLETE in this server instance, if any,
    /// and whether the capture saw the client's session begin.
    pub reclaim_complete: Option<FrameRef>,
    pub session_seen: bool,
}

/// A lock of a previous server instance, reclaimable during the next grace period.
#[derive(Debug, Clone, Serialize)]
pub struct OldLock {
    pub epoch: usize,
    #[serde(skip)]
    pub lock: LockRef,
    /// The server IP it was held on (differs after a failover).
    pub source: IpAddr,
    pub reclaimed: Option<FrameRef>,
}

/// Per server IP.
#[derive(Debug, Default, Clone)]
pub struct ServerAudit {
    pub epochs: Vec<Epoch>,
    pub first_seen: Option<FrameRef>,
    pub last_reply: Option<FrameRef>,
    /// The latest connection the server side closed (its FIN): the instance was alive
    /// then.
    pub last_close: Option<FrameRef>,
    /// The latest connection the server side reset. Not a sign of life: a kernel
    /// resets what a dead instance left behind, and a new instance resets the
    /// connections it never had.
    pub last_reset: Option<FrameRef>,
    pub old: Vec<OldLock>,
    /// Positions in `old` per file handle.
    old_by_fh: FastMap<Arc<[u8]>, Vec<usize>>,
    pub old_dropped: u64,
    /// Reclaims per (epoch, protocol family, outcome).
    pub reclaims: BTreeMap<(usize, &'static str, String), u64>,
    /// First and last time each client address sent this server anything.
    contact_ips: FastMap<IpAddr, (Ts, Ts)>,
    /// The same per client name (a name that is an address's text counts as the address).
    contact_names: FastMap<String, (Ts, Ts)>,
    pub gaps: u64,
    pub gap_bytes: u64,
    /// The server refused connections before it first answered: the capture saw its
    /// first instance start.
    pub seen_starting: bool,
    /// Reclaims the server refused: (epoch, client address, client name, reply).
    pub refused_reclaims: Vec<(usize, IpAddr, String, FrameRef)>,
}

impl ServerAudit {
    fn keep_old(&mut self, o: OldLock) {
        if self.old.len() >= MAX_OLD {
            self.old_dropped += 1;
            return;
        }
        self.old_by_fh.entry(o.lock.fh.clone()).or_default().push(self.old.len());
        self.old.push(o);
    }

    /// The pre-restart locks on a file.
    pub fn old_on<'s>(&'s self, fh: &[u8]) -> impl Iterator<Item = &'s OldLock> + 's {
        let at = self.old_by_fh.get(fh).map_or(&[][..], |v| &v[..]);
        at.iter().filter_map(|&i| self.old.get(i))
    }

    /// The epoch `t` falls in: the last one whose start (the old instance's last sign of
    /// life) is before `t`.
    pub fn epoch_at(&self, t: Ts) -> Option<&Epoch> {
        self.epochs.iter().rev().find(|e| e.earliest_start() < t || e.index == 0)
    }

    fn contact_ip(&mut self, ip: IpAddr, t: Ts) {
        let full = self.contact_ips.len() + self.contact_names.len() >= MAX_CONTACTS;
        match self.contact_ips.get_mut(&ip) {
            Some(c) => c.1 = t,
            None if !full => {
                self.contact_ips.insert(ip, (t, t));
            }
            None => {}
        }
    }

    fn contact_name(&mut self, name: &str, t: Ts) {
        if let Some(ip) = as_address(name) {
            return self.contact_ip(ip, t);
        }
        // Known clients (the common case) are updated without allocating.
        if let Some(c) = self.contact_names.get_mut(name) {
            c.1 = t;
        } else if self.contact_ips.len() + self.contact_names.len() < MAX_CONTACTS {
            self.contact_names.insert(name.to_string(), (t, t));
        }
    }

    /// First and last contact of the client of `l`, by address and by name.
    fn contacts_of(&self, l: &LockRef) -> [Option<(Ts, Ts)>; 2] {
        let by_name = match as_address(&l.client_name) {
            Some(ip) => self.contact_ips.get(&ip),
            None => self.contact_names.get(&*l.client_name),
        };
        [self.contact_ips.get(&l.client).copied(), by_name.copied()]
    }

    /// Whether the client (by address or name) was heard from after `t`.
    pub fn came_back(&self, l: &LockRef, t: Ts) -> bool {
        self.contacts_of(l).iter().flatten().any(|c| c.1 > t)
    }

    /// The reclaims of `l`'s client the server refused in `epoch`.
    pub fn refusals_of(&self, epoch: usize, l: &LockRef) -> impl Iterator<Item = FrameRef> + '_ {
        let (ip, name) = (l.client, l.client_name.clone());
        self.refused_reclaims.iter().filter(move |(e, c, n, _)| *e == epoch && (n.as_str() == &*name || *c == ip)).map(|r| r.3)
    }

    fn refused(&mut self, t: Ts, client: IpAddr, name: String, at: FrameRef) {
        let e = self.epoch_at(t).map_or(0, |e| e.index);
        if self.refused_reclaims.len() < MAX_CONTACTS {
            self.refused_reclaims.push((e, client, name, at));
        }
    }

    pub fn first_contact(&self, l: &LockRef) -> Option<Ts> {
        self.contacts_of(l).iter().flatten().map(|c| c.0).min()
    }
}

/// Where the capture cannot support a verdict.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Health {
    pub notes: Vec<String>,
}

pub struct Auditor {
    cfg: AuditConfig,
    tracker: Tracker,
    seq: u64,
    /// Per server IP (and per client answering callbacks): looked up for every
    /// message, walked in address order through [`crate::net::sorted`].
    servers: ByIp<ServerAudit>,
    candidates: ChunkQueue<Candidate>,
    verdicts: Vec<Verdict>,
    /// Names a server's lock manager gives itself in SM_MON → the server IPs.
    statd_names: FastMap<String, BTreeSet<IpAddr>>,
    /// Client → (server, time) of its last NLM lock request.
    last_lock: FastMap<IpAddr, (IpAddr, Ts)>,
    restarts: Vec<(IpAddr, Ts)>,
    /// Connections the client side closed first (client, server).
    client_closed: FastSet<(Endpoint, Endpoint)>,
    /// NFSv4 evidence already read, per server IP.
    v4_seen: FastMap<IpAddr, usize>,
    /// The tracker's evidence version when `v4_seen` was last brought up to date.
    v4_version: u64,
    /// RECLAIM_COMPLETE accepted per (server, epoch), per client owner.
    reclaim_completes: ReclaimCompletes,
    /// NFSv4 reclaims granted with no old state of the client owner behind them:
    /// (server, reply frame).
    v4_unknown_reclaims: FastSet<(IpAddr, u16, u64)>,
    /// The boot epoch in the clientids of each server instance: (server, epoch) → boot.
    boots: FastMap<(IpAddr, usize), u32>,
    /// Epochs (server, index) begun by a restart whose grace has not ended yet: when it
    /// ends, the tracker no longer keeps their old NFSv4 state.
    grace_running: Vec<(IpAddr, usize)>,
    /// The earliest end of the grace periods in `grace_running` as last worked out;
    /// `None` once evidence may have moved one (epochs change only with evidence).
    grace_next_end: Option<Ts>,
    /// New proof about a grace window arrived: waiting grants from this moment on may
    /// now be decided.
    recheck: Option<Ts>,
    first_ts: Option<Ts>,
    last_ts: Ts,
    finished: bool,
    intern: Interner,
}

impl Auditor {
    pub fn new(cfg: AuditConfig) -> Self {
        Auditor {
            tracker: Tracker::new(cfg.tracker.clone()),
            cfg,
            seq: 0,
            servers: ByIp::default(),
            candidates: ChunkQueue::default(),
            verdicts: Vec::new(),
            statd_names: FastMap::default(),
            last_lock: FastMap::default(),
            restarts: Vec::new(),
            client_closed: FastSet::default(),
            v4_seen: FastMap::default(),
            v4_version: 0,
            reclaim_completes: ReclaimCompletes::default(),
            v4_unknown_reclaims: FastSet::default(),
            boots: FastMap::default(),
            grace_running: Vec::new(),
            grace_next_end: None,
            recheck: None,
            first_ts: None,
            last_ts: 0,
            finished: false,
            intern: Interner::default(),
        }
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    pub fn servers(&self) -> &ByIp<ServerAudit> {
        &self.servers
    }

    /// Timestamp of the last message seen.
    pub fn last_seen(&self) -> Ts {
        self.last_ts
    }

    pub(crate) fn v4_reclaim_unknown(&self, server: IpAddr, at: FrameRef) -> bool {
        self.v4_unknown_reclaims.contains(&(server, at.file, at.frame))
    }

    pub fn config(&self) -> &AuditConfig {
        &self.cfg
    }

    /// Verdicts so far (all of them after [`finish`](Self::finish)), most severe first.
    pub fn verdicts(&self) -> &[Verdict] {
        &self.verdicts
    }

    /// Verdicts found after the first `from` (for live output), in the order found.
    pub fn since(&self, from: usize) -> &[Verdict] {
        &self.verdicts[from.min(self.verdicts.len())..]
    }

    fn server(&mut self, ip: IpAddr) -> &mut ServerAudit {
        self.servers.or_default(ip)
    }

    fn see(&mut self, ts: Ts) {
        if self.first_ts.is_none() {
            self.first_ts = Some(ts);
            self.restarts = self.cfg.restarts.iter().map(|(ip, at)| (*ip, at.resolve(ts))).collect();
            self.restarts.sort_by_key(|r| r.1);
        }
        self.last_ts = self.last_ts.max(ts);
        self.expire(ts);
        while let Some(&(ip, t)) = self.restarts.first() {
            if t > ts {
                break;
            }
            self.restarts.remove(0);
            let at = FrameRef { file: 0, frame: 0, ts: t };
            self.evidence(ip, Evidence { kind: EvidenceKind::Operator, at, client: None, note: "--restart".into() }, true);
        }
    }

    /// Once a grace period is over, the previous instance's NFSv4 state can no longer be
    /// reclaimed: the tracker drops it (the audit keeps its own record of it).
    fn expire(&mut self, now: Ts) {
        if self.grace_next_end.is_some_and(|t| now <= t) {
            return;
        }
        let grace = self.cfg.grace;
        let mut next_end = Ts::MAX;
        let mut i = 0;
        while i < self.grace_running.len() {
            let (ip, index) = self.grace_running[i];
            // Only a server's latest epoch counts: a newer restart took over its state.
            let end = match self.servers.get(&ip).and_then(|sa| sa.epochs.last()) {
                Some(e) if e.index == index => e.grace_end(grace).0,
                _ => {
                    self.grace_running.swap_remove(i);
                    continue;
                }
            };
            if end >= now {
                next_end = next_end.min(end);
                i += 1;
                continue;
            }
            self.grace_running.swap_remove(i);
            let at = FrameRef { file: 0, frame: 0, ts: end };
            if self.tracker.nfs4(ip).is_some_and(|s| s.has_old_epoch()) {
                self.tracker.nfs4_drop_old(ip, at);
            }
        }
        self.grace_next_end = Some(next_end);
    }

    /// Take a piece of evidence for `server`; open an epoch when it shows a new instance.
    pub(crate) fn evidence(&mut self, server: IpAddr, ev: Evidence, force_new: bool) {
        self.grace_next_end = None;
        let grace = self.cfg.grace;
        let target = self.is_failover_target(server);
        let sa = self.server(server);
        let open = ev.kind.opens_epoch() && (ev.kind != EvidenceKind::Reclaim || sa.last_close.is_some() || sa.last_reset.is_some() || target);
        let new_epoch = match sa.epochs.last() {
            _ if !open => false,
            None => true,
            Some(cur) if !cur.restarted => true,
            Some(cur) => force_new && ev.at.ts > cur.start_hi.ts || ev.at.ts - cur.start_hi.ts > grace + epoch::GRACE_TICK_NS,
        };
        // Only grants after the previous proof can be decided by this one: a refusal
        // proves grace ran from the last proof until now, a NO_GRACE that it was over
        // from now on.
        let proof_from = match ev.kind {
            EvidenceKind::GraceRefusal => Some(sa.epochs.last().map_or(ev.at.ts, |e| e.in_grace_until.map_or(e.start_hi.ts, |f| f.ts).min(ev.at.ts))),
            EvidenceKind::NoGrace => Some(ev.at.ts),
            _ => None,
        };
        if let Some(f) = proof_from {
            self.recheck = Some(self.recheck.map_or(f, |r| r.min(f)));
        }
        let sa = self.server(server);
        if !new_epoch {
            match sa.epochs.last_mut() {
                Some(cur) if cur.restarted || !open => cur.add(ev),
                _ => {}
            }
            return;
        }
        // The old instance's last sign of life: a connection it closed, else its last reply.
        let prev_start = sa.epochs.last().map_or(i64::MIN, |e| e.start_hi.ts);
        let start_lo = match (sa.last_close, sa.last_reply) {
            (Some(c), _) if c.ts > prev_start && c.ts <= ev.at.ts => Some(c),
            (_, Some(r)) if r.ts < ev.at.ts => Some(r),
            _ => None,
        };
        let start_lo = start_lo.or_else(|| self.failover_source_last_sign(server, ev.at.ts));
        let sa = self.servers.get_mut(&server).expect("server");
        if sa.epochs.is_empty() {
            match sa.first_seen {
                // The capture saw the previous instance (a failover target has none).
                Some(f) if !target && start_lo.is_some() && f.ts < ev.at.ts => sa.epochs.push(Epoch::new(0, false, None, f)),
                // A server first heard from during its grace period.
                _ => {
                    let mut e = Epoch::new(0, true, start_lo.filter(|_| target), ev.at);
                    e.add(ev);
                    sa.epochs.push(e);
                    self.grace_running.push((server, 0));
                    self.import_failover(server, 0, ev_at(&self.servers[&server]));
                    return;
                }
            }
        }
        let index = sa.epochs.len();
        let mut e = Epoch::new(index, true, start_lo, ev.at);
        let boundary = e.earliest_start() + 1;
        let at = ev.at;
        e.add(ev);
        sa.epochs.push(e);
        self.grace_running.push((server, index));
        let gone = self.tracker.nlm_restart(server, boundary, at);
        self.keep_old(server, server, index, gone);
        self.keep_old_v4(server, server, index, boundary);
        self.import_failover(server, index, at);
    }

    /// The NFSv4 locks the previous instance had granted before `before` become
    /// reclaimable in epoch `epoch` of `server`.
    fn keep_old_v4(&mut self, server: IpAddr, source: IpAddr, epoch: usize, before: Ts) {
        let held = self.tracker.journal().nfs4_held_before(source, before);
        let st = self.tracker.nfs4(source);
        let locks: Vec<LockRef> = held
            .locks
            .iter()
            .map(|(fh, h)| {
                let client = st.and_then(|s| s.client(h.owner.clientid));
                let intern = &mut self.intern;
                LockRef {
                    protocol: verdict::protocol_label(true, h.meta.minor),
                    client: client.map_or(source, |c| c.addr),
                    client_name: v4_client_name(intern, client, h.owner.clientid),
                    owner: OwnerRef::Lock(intern.bytes(&h.owner.owner)),
                    fh: intern.bytes(fh),
                    range: h.range,
                    exclusive: h.exclusive,
                    granted: h.meta.granted,
                    reclaim: h.meta.reclaim,
                }
            })
            .collect();
        let sa = self.servers.or_default(server);
        for lock in locks {
            sa.keep_old(OldLock { epoch, lock, source, reclaimed: None });
        }
    }

    fn is_failover_target(&self, server: IpAddr) -> bool {
        self.cfg.failovers.iter().any(|(_, new)| *new == server)
    }

    /// For a failover target: the last sign of life of the address it took over.
    fn failover_source_last_sign(&self, server: IpAddr, before: Ts) -> Option<FrameRef> {
        self.cfg
            .failovers
            .iter()
            .filter(|(_, new)| *new == server)
            .filter_map(|(old, _)| self.servers.get(old))
            .filter_map(|sa| match (sa.last_close, sa.last_reply) {
                (Some(c), Some(r)) => Some(if c.ts > r.ts { c } else { r }),
                (c, r) => c.or(r),
            })
            .filter(|f| f.ts < before)
            .max_by_key(|f| f.ts)
    }

    /// `--failover OLD=NEW`: when NEW begins an epoch, what OLD held becomes reclaimable
    /// on NEW.
    fn import_failover(&mut self, server: IpAddr, index: usize, at: FrameRef) {
        let olds: Vec<IpAddr> = self.cfg.failovers.iter().filter(|(_, new)| *new == server).map(|(old, _)| *old).collect();
        for old in olds {
            let gone = self.tracker.nlm_restart(old, i64::MAX, at);
            if let Some(e) = self.server(server).epochs.last_mut() {
                e.failover_from = Some(old);
            }
            self.keep_old(server, old, index, gone);
            self.keep_old_v4(server, old, index, i64::MAX);
        }
    }

    fn keep_old(&mut self, server: IpAddr, source: IpAddr, epoch: usize, gone: Vec<(Vec<u8>, Held<NlmOwner, LockInfo>)>) {
        for (fh, h) in gone {
            let lock = nlm_lock_ref(&mut self.intern, &fh, &h.owner, h.exclusive, h.range, h.meta.granted, h.meta.reclaim, h.meta.vers);
            self.servers.or_default(server).keep_old(OldLock { epoch, lock, source, reclaimed: None });
        }
    }

    /// Whether the wire already proves where `c` stands in its grace window: then it is
    /// judged at once (and a live audit prints its verdicts now).
    fn decided(&self, c: &Candidate) -> bool {
        let t = c.lock.granted.ts;
        let Some(e) = self.servers.get(&c.server).and_then(|sa| sa.epoch_at(t)).filter(|e| e.restarted) else { return false };
        if c.reclaim {
            e.grace_over(t, self.cfg.grace) == epoch::Tri::Certain
        } else {
            e.in_grace(t, self.cfg.grace) == epoch::Tri::Certain && self.cfg.clusters.is_empty()
        }
    }

    /// Judge the waiting grants granted from `from` on that the latest proof decided.
    /// Grants wait in the order they were seen, so those are at the back of the queue
    /// (one seen out of order waits until its window is settled).
    fn settle_certain(&mut self, from: Ts) {
        let tail = self.candidates.split_off_back_while(|c| c.lock.granted.ts >= from);
        let (now, later): (Vec<Candidate>, Vec<Candidate>) = tail.into_iter().partition(|c| self.decided(c));
        self.candidates.extend(later);
        for c in now {
            rules::judge(self, &c, false);
        }
    }

    fn candidate(&mut self, c: Candidate) {
        if self.decided(&c) {
            rules::judge(self, &c, false);
            return;
        }
        if self.candidates.len() >= MAX_CANDIDATES {
            if let Some(old) = self.candidates.pop_front() {
                rules::judge(self, &old, false);
            }
        }
        self.candidates.push_back(c);
    }

    /// A reclaim was granted: the matching old lock is reclaimed.
    fn reclaimed(&mut self, server: IpAddr, l: &LockRef) {
        let sa = self.server(server);
        let Some(e) = sa.epoch_at(l.granted.ts).map(|e| e.index) else { return };
        let at = sa.old_by_fh.get(&l.fh).map_or(&[][..], |v| &v[..]);
        for &i in at {
            let Some(o) = sa.old.get_mut(i) else { continue };
            if o.epoch == e && o.reclaimed.is_none() && o.lock.same_owner(l) && o.lock.range.overlaps(&l.range) {
                o.reclaimed = Some(l.granted);
            }
        }
    }

    /// Read the tracker's new journal entries. Only grants and refusals matter here;
    /// what they need is taken out of the journal without copying the rest.
    fn journal(&mut self) {
        let next = self.tracker.journal().next_seq();
        let mut seq = self.seq.max(self.tracker.journal().first_seq());
        while seq < next {
            let Some(e) = self.tracker.journal().get(seq) else { break };
            seq += 1;
            let item = match &e.what {
                What::Nfs4Lock(_) | What::Nfs4Open(_) => v4_prepare(&self.tracker, &self.servers, &self.reclaim_completes, &mut self.intern, e).map(JournalItem::V4),
                What::NlmLock(l) if matches!(l.kind, LockEventKind::Granted(_) | LockEventKind::Refused(_)) => Some(JournalItem::Nlm {
                    server: e.server,
                    at: e.at,
                    kind: l.kind,
                    reclaim: l.reclaim,
                    client: l.owner.client,
                    caller: l.owner.caller_name.clone(),
                    lock: matches!(l.kind, LockEventKind::Granted(_)).then(|| nlm_lock_ref(&mut self.intern, &l.fh, &l.owner, l.exclusive, l.range, e.at, l.reclaim, l.vers)),
                }),
                _ => None,
            };
            match item {
                Some(JournalItem::V4(g)) => self.v4_grant(g),
                Some(JournalItem::Nlm { server, at, kind, reclaim, client, caller, lock }) => self.nlm_event(server, at, kind, reclaim, client, caller, lock),
                None => {}
            }
        }
        self.seq = seq;
    }

    #[allow(clippy::too_many_arguments)]
    fn nlm_event(&mut self, server: IpAddr, at: FrameRef, kind: LockEventKind, reclaim: bool, client: IpAddr, caller: Arc<str>, lock: Option<LockRef>) {
        let outcome = |s: &str| (0usize, "NLM", s.to_string());
        match kind {
            LockEventKind::Granted(_) => {
                let Some(lock) = lock else { return };
                if reclaim {
                    self.evidence(server, Evidence { kind: EvidenceKind::Reclaim, at, client: Some(client), note: "NLM reclaim granted".into() }, false);
                    self.reclaimed(server, &lock);
                    self.count_reclaim(server, at.ts, outcome("GRANTED"));
                }
                let c = Candidate { server, lock, kind: GrantKind::NlmLock, reclaim, minor: None, reclaim_complete: None, session_seen: false };
                self.candidate(c);
            }
            LockEventKind::Refused(NlmStat::DeniedGracePeriod) => {
                if reclaim {
                    // The client reclaims, so it believes the server restarted.
                    self.evidence(server, Evidence { kind: EvidenceKind::Reclaim, at, client: Some(client), note: "NLM reclaim refused DENIED_GRACE_PERIOD".into() }, false);
                }
                let kind = if reclaim { EvidenceKind::NoGrace } else { EvidenceKind::GraceRefusal };
                let note = if reclaim { "NLM reclaim refused DENIED_GRACE_PERIOD" } else { "NLM LOCK refused DENIED_GRACE_PERIOD" };
                self.evidence(server, Evidence { kind, at, client: Some(client), note: note.into() }, false);
                if reclaim {
                    self.count_reclaim(server, at.ts, outcome("DENIED_GRACE_PERIOD"));
                    self.server(server).refused(at.ts, client, caller.to_string(), at);
                }
            }
            LockEventKind::Refused(s) if reclaim => {
                self.evidence(server, Evidence { kind: EvidenceKind::Reclaim, at, client: Some(client), note: format!("NLM reclaim refused {}", s.name()).into() }, false);
                self.count_reclaim(server, at.ts, outcome(s.name()));
                self.server(server).refused(at.ts, client, caller.to_string(), at);
            }
            _ => {}
        }
    }

    /// A granted NFSv4 LOCK or OPEN becomes a candidate; a reclaim marks its old lock.
    fn v4_grant(&mut self, g: V4Grant) {
        let V4Grant { server, at, kind, lock, reclaim, minor, reclaim_complete, session_seen } = g;
        if reclaim {
            self.reclaimed(server, &lock);
            let outcome = if kind == GrantKind::V4Lock { "LOCK reclaim granted" } else { "OPEN reclaim granted" };
            self.count_reclaim(server, at.ts, (0, "NFSv4", outcome.into()));
        }
        self.candidate(Candidate { server, lock, kind, reclaim, minor: Some(minor), reclaim_complete, session_seen });
    }

    /// Restart evidence the NFSv4 state found in the last message.
    fn v4_evidence(&mut self, server: IpAddr) {
        use crate::state::nfs4::EvidenceKind as V4;
        let list = self.tracker.nfs4_evidence(server);
        let from = self.v4_seen.get(&server).copied().unwrap_or(0);
        if list.len() <= from {
            return;
        }
        let new: Vec<_> = list[from..].to_vec();
        self.v4_seen.insert(server, list.len());
        for v in new {
            let client = Some(v.client_addr);
            let mut note = String::with_capacity(48);
            note.push_str(&verdict::protocol_label(true, v.minor));
            note.push(' ');
            note.push_str(v.op);
            note.push(' ');
            note.push_str(crate::proto::nfs4::status_name(v.status).unwrap_or("NFS4_OK"));
            let ev = move |kind| Evidence { kind, at: v.at, client, note: note.into() };
            let owner = v.client_owner.clone().unwrap_or_default();
            let epoch_now = |a: &Self| a.servers.get(&server).and_then(|sa| sa.epochs.last()).map_or(0, |e| e.index);
            match v.kind {
                V4::StaleClientid if v.known => self.evidence(server, ev(EvidenceKind::StaleClientid), false),
                V4::StaleStateid if v.known => self.evidence(server, ev(EvidenceKind::StaleStateid), false),
                V4::BadSession if v.known => self.evidence(server, ev(EvidenceKind::BadSession), false),
                V4::RestartReclaimNeeded => self.evidence(server, ev(EvidenceKind::RestartReclaimNeeded), false),
                V4::ClientidEpochChange => {
                    // A new boot epoch: a new instance, unless this one already has it.
                    let boot = v.epochs.map(|(_, new)| new);
                    let e = epoch_now(self);
                    let known_boot = self.boots.get(&(server, e)).copied();
                    let force = known_boot.is_some() && known_boot != boot;
                    self.evidence(server, ev(EvidenceKind::ClientidEpoch), force);
                    if let Some(b) = boot {
                        let e = epoch_now(self);
                        if self.boots.len() < MAX_CONTACTS {
                            self.boots.insert((server, e), b);
                        }
                    }
                }
                V4::ReclaimBad | V4::ReclaimConflict => {
                    self.evidence(server, ev(EvidenceKind::Reclaim), false);
                    self.server(server).refused(v.at.ts, v.client_addr, crate::state::nfs4::owner_text(&owner), v.at);
                }
                V4::ReclaimGranted => {
                    self.evidence(server, ev(EvidenceKind::Reclaim), false);
                    if !v.known && self.v4_unknown_reclaims.len() < MAX_CONTACTS {
                        self.v4_unknown_reclaims.insert((server, v.at.file, v.at.frame));
                    }
                }
                // An NFSv4.1 client gets NFS4ERR_GRACE before its own RECLAIM_COMPLETE
                // even outside grace: only then is it no proof of the server's grace.
                V4::GraceRefused => {
                    let e = epoch_now(self);
                    if v.minor == 0 || self.reclaim_completes.get(server, e, &owner).is_some() {
                        self.evidence(server, ev(EvidenceKind::GraceRefusal), false);
                    }
                }
                // NO_GRACE says this client may no longer reclaim (grace over, or not in
                // the server's recovery records): evidence, but no proof of grace's end.
                V4::NoGrace => {
                    self.evidence(server, ev(EvidenceKind::ClientNoGrace), false);
                    if v.reclaim {
                        self.server(server).refused(v.at.ts, v.client_addr, crate::state::nfs4::owner_text(&owner), v.at);
                    }
                }
                V4::ReclaimComplete => {
                    let e = epoch_now(self);
                    self.evidence(server, ev(EvidenceKind::ReclaimComplete), false);
                    match self.reclaim_completes.get(server, e, &owner) {
                        Some(first) => rules::second_reclaim_complete(self, server, e, &v, first),
                        None => self.reclaim_completes.insert(server, e, owner, v.at),
                    }
                }
                _ => {}
            }
        }
    }

    fn count_reclaim(&mut self, server: IpAddr, t: Ts, (_, family, outcome): (usize, &'static str, String)) {
        let sa = self.server(server);
        let e = sa.epoch_at(t).map_or(0, |e| e.index);
        *sa.reclaims.entry((e, family, outcome)).or_insert(0) += 1;
    }

    /// Evidence read straight off a message: grace refusals of TEST/CANCEL, statd's
    /// reboot notifications, and which lock manager statd works for.
    fn message_evidence(&mut self, m: &Message<'_>) {
        match &m.kind {
            Kind::Call { body: CallBody::Nlm(c), .. } => {
                if let proto::nlm::Call::Lock(_) | proto::nlm::Call::NmLock(_) | proto::nlm::Call::LockMsg(_) = c {
                    self.last_lock.insert(m.src.ip, (m.dst.ip, m.at.ts));
                }
                // *_RES calls carry the server's answer to TEST_MSG / CANCEL_MSG.
                if let (Some(NlmStat::DeniedGracePeriod), Some(1 | 3)) = (c.stat(), c.sync_proc()) {
                    let ev = Evidence { kind: EvidenceKind::GraceRefusal, at: m.at, client: Some(m.dst.ip), note: "NLM TEST/CANCEL refused DENIED_GRACE_PERIOD".into() };
                    self.evidence(m.src.ip, ev, false);
                }
            }
            Kind::Reply { id: Some(id), body: ReplyBody::Nlm(r), .. } if id.prog == proto::NLM && matches!(id.proc_, 1 | 3) => {
                if r.stat() == Some(NlmStat::DeniedGracePeriod) {
                    let ev = Evidence { kind: EvidenceKind::GraceRefusal, at: m.at, client: Some(m.dst.ip), note: "NLM TEST/CANCEL refused DENIED_GRACE_PERIOD".into() };
                    self.evidence(m.src.ip, ev, false);
                }
            }
            Kind::Call { body: CallBody::Nsm(nsm::Call::SmMon(mon)), .. } => {
                // The lock manager asks its statd to watch a client that just locked:
                // the name it gives itself belongs to the server the client locked at.
                let client = mon.mon_id.mon_name.as_str_lossy();
                if let Ok(ip) = client.parse::<IpAddr>() {
                    if let Some(&(server, t)) = self.last_lock.get(&ip) {
                        if m.at.ts - t < 5 * NS {
                            let me = mon.mon_id.my_id.my_name.as_str_lossy().into_owned();
                            let set = self.statd_names.entry(me).or_default();
                            if set.len() < 64 {
                                set.insert(server);
                            }
                        }
                    }
                }
            }
            Kind::Call { body: CallBody::Nsm(nsm::Call::SmNotify { mon_name, state }), retransmit: false, .. } => {
                let name = mon_name.as_str_lossy().into_owned();
                let mut servers: BTreeSet<IpAddr> = self.statd_names.get(&name).cloned().unwrap_or_default();
                if let Ok(ip) = name.parse::<IpAddr>() {
                    if self.servers.contains_key(&ip) {
                        servers.insert(ip);
                    }
                }
                for s in servers {
                    let ev = Evidence { kind: EvidenceKind::ServerNotify, at: m.at, client: Some(m.dst.ip), note: format!("SM_NOTIFY {name} state {state}").into() };
                    self.evidence(s, ev, false);
                }
            }
            _ => {}
        }
    }

    /// End of input: judge every candidate left, and the locks never reclaimed.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let pending: Vec<(IpAddr, Ts)> = std::mem::take(&mut self.restarts);
        for (ip, t) in pending {
            let at = FrameRef { file: 0, frame: 0, ts: t };
            self.evidence(ip, Evidence { kind: EvidenceKind::Operator, at, client: None, note: "--restart".into() }, true);
        }
        self.journal();
        while let Some(c) = self.candidates.pop_front() {
            rules::judge(self, &c, true);
        }
        self.expire(self.last_ts + 1);
        rules::at_end(self);
        self.verdicts.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.grant.at.ts.cmp(&b.grant.at.ts)).then(a.id.cmp(b.id)));
    }

    /// Whether anything at or above `level` was found.
    pub fn failed(&self, level: Severity) -> bool {
        self.verdicts.iter().any(|v| v.severity >= level)
    }

    /// Notes on what the capture cannot support, per server IP.
    pub fn health(&self) -> BTreeMap<IpAddr, Vec<String>> {
        let mut out = BTreeMap::new();
        let mut unconfirmed_at: HashMap<IpAddr, usize> = HashMap::new();
        for p in self.tracker.unconfirmed() {
            *unconfirmed_at.entry(p.lock_server).or_default() += 1;
        }
        for (ip, sa) in &self.servers {
            let mut notes = Vec::new();
            if let Some(e) = sa.epochs.first() {
                if e.restarted && e.failover_from.is_none() {
                    notes.push(format!(
                        "the capture begins during this server's grace period (first evidence at frame {}): locks held before the restart were not seen, so reclaims cannot be checked against them (GW004) and their loss cannot be seen (GW006)",
                        e.start_hi.frame
                    ));
                }
            }
            if sa.gaps > 0 {
                notes.push(format!("{} gaps ({} bytes) in this server's TCP streams: messages in them were not seen", sa.gaps, sa.gap_bytes));
            }
            if sa.old_dropped > 0 {
                notes.push(format!("{} pre-restart locks not kept (table full)", sa.old_dropped));
            }
            let unconfirmed = unconfirmed_at.get(ip).copied().unwrap_or(0);
            if unconfirmed > 0 {
                notes.push(format!("{unconfirmed} NLM/NSM calls without a captured reply: their outcome is unknown"));
            }
            if !notes.is_empty() {
                out.insert(*ip, notes);
            }
        }
        out
    }
}

/// A granted NFSv4 LOCK or OPEN, as a candidate, read from its journal event.
fn v4_prepare(tracker: &Tracker, servers: &ByIp<ServerAudit>, rc: &ReclaimCompletes, intern: &mut Interner, e: &crate::state::journal::Event) -> Option<V4Grant> {
    use crate::state::journal::Nfs4EventKind;
    let server = e.server;
    let st = tracker.nfs4(server);
    let (kind, clientid, owner, fh, range, exclusive, reclaim, minor) = match &e.what {
        What::Nfs4Lock(l) if l.kind == Nfs4EventKind::Granted => {
            (GrantKind::V4Lock, l.owner.clientid, OwnerRef::Lock(intern.bytes(&l.owner.owner)), intern.bytes(&l.fh), l.range, l.exclusive, l.reclaim, l.minor)
        }
        What::Nfs4Open(o) if o.kind == Nfs4EventKind::Granted => {
            let fh = intern.bytes(o.fh.as_deref()?);
            let minor = st.and_then(|s| s.client(o.clientid)).map_or(0, |c| c.minor);
            (GrantKind::V4Open, o.clientid, OwnerRef::Open(intern.bytes(&o.open_owner)), fh, crate::state::ranges::Range::from_offset_len(0, 0), false, o.reclaim, minor)
        }
        _ => return None,
    };
    let client = st.and_then(|s| s.client(clientid));
    let epoch = servers.get(&server).and_then(|sa| sa.epoch_at(e.at.ts)).map_or(0, |ep| ep.index);
    let reclaim_complete = rc.get(server, epoch, client.map_or(&[][..], |c| &c.owner));
    let lock = LockRef {
        protocol: verdict::protocol_label(true, minor),
        client: client.map_or(server, |c| c.addr),
        client_name: v4_client_name(intern, client, clientid),
        owner,
        fh,
        range,
        exclusive,
        granted: e.at,
        reclaim,
    };
    let session_seen = client.is_some_and(|c| !c.inferred);
    Some(V4Grant { server, at: e.at, kind, lock, reclaim, minor, reclaim_complete, session_seen })
}

/// What the audit takes from one journal event.
enum JournalItem {
    Nlm { server: IpAddr, at: FrameRef, kind: LockEventKind, reclaim: bool, client: IpAddr, caller: Arc<str>, lock: Option<LockRef> },
    V4(V4Grant),
}

struct V4Grant {
    server: IpAddr,
    at: FrameRef,
    kind: GrantKind,
    lock: LockRef,
    reclaim: bool,
    minor: u32,
    /// The client's RECLAIM_COMPLETE in the grant's epoch.
    reclaim_complete: Option<FrameRef>,
    session_seen: bool,
}

/// The RECLAIM_COMPLETEs accepted, per (server, epoch) and client owner: looked up for
/// every NFSv4 grant by the owner's bytes, where they lie. Bounded by [`MAX_CONTACTS`].
#[derive(Default)]
struct ReclaimCompletes {
    by_epoch: FastMap<(IpAddr, usize), FastMap<Vec<u8>, FrameRef>>,
    len: usize,
}

impl ReclaimCompletes {
    fn get(&self, server: IpAddr, epoch: usize, owner: &[u8]) -> Option<FrameRef> {
        self.by_epoch.get(&(server, epoch))?.get(owner).copied()
    }

    /// Keep the first RECLAIM_COMPLETE of an owner (one `get` does not find yet).
    fn insert(&mut self, server: IpAddr, epoch: usize, owner: Vec<u8>, at: FrameRef) {
        if self.len < MAX_CONTACTS {
            self.by_epoch.entry((server, epoch)).or_default().insert(owner, at);
            self.len += 1;
        }
    }
}

/// The name the audit gives an NFSv4 client: its owner as text, or its client id.
fn v4_client_name(intern: &mut Interner, client: Option<&crate::state::nfs4::Nfs4Client>, clientid: u64) -> Arc<str> {
    match client {
        Some(c) => c.name.clone(),
        None => intern.str(&format!("clientid {clientid:016x}")),
    }
}

/// The address a client name spells, when it is exactly an address's text (so that a
/// name and an address of the same client meet).
fn as_address(name: &str) -> Option<IpAddr> {
    // Host names (the common case) have a letter beyond a–f or a dash: no parse.
    if !name.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':') {
        return None;
    }
    name.parse::<IpAddr>().ok().filter(|ip| ip.to_string() == name)
}

fn ev_at(sa: &ServerAudit) -> FrameRef {
    sa.epochs.last().map_or(FrameRef::default(), |e| e.start_hi)
}

/// An NLM lock as the audit compares locks.
#[allow(clippy::too_many_arguments)]
pub(crate) fn nlm_lock_ref(intern: &mut Interner, fh: &[u8], o: &NlmOwner, exclusive: bool, range: crate::state::ranges::Range, granted: FrameRef, reclaim: bool, vers: u32) -> LockRef {
    LockRef {
        protocol: verdict::protocol_label(false, vers),
        client: o.client,
        client_name: intern.str(&o.caller_name),
        owner: OwnerRef::Nlm { oh: intern.bytes(&o.oh), svid: o.svid },
        fh: intern.bytes(fh),
        range,
        exclusive,
        granted,
        reclaim,
    }
}

impl Sink for Auditor {
    fn message(&mut self, m: &Message<'_>) {
        self.tracker.message(m);
        if self.tracker.until().is_some_and(|u| m.at.ts > u) {
            return;
        }
        self.see(m.at.ts);
        let server = m.server().ip;
        // rpcbind and statd run beside the NFS server and do not restart with it.
        let nfs_server = m.proc_id().is_some_and(|id| id.prog != proto::PORTMAP && id.prog != proto::NSM);
        let sa = self.server(server);
        if !nfs_server {
            self.message_evidence(m);
            self.journal();
            return;
        }
        if sa.first_seen.is_none() {
            sa.first_seen = Some(m.at);
        }
        match &m.kind {
            Kind::Reply { .. } => {}
            Kind::Call { header, body, .. } => {
                sa.contact_ip(m.src.ip, m.at.ts);
                if let CallBody::Nlm(c) = body {
                    if let Some(l) = c.lock() {
                        sa.contact_name(&l.caller_name.as_str_lossy(), m.at.ts);
                    }
                }
                let _ = header;
            }
        }
        self.message_evidence(m);
        if self.tracker.nfs4_evidence_version() != self.v4_version {
            self.v4_version = self.tracker.nfs4_evidence_version();
            self.v4_evidence(server);
        }
        self.journal();
        if let Some(from) = self.recheck.take() {
            self.settle_certain(from);
        }
        // A reply is a sign of life of the instance it belongs to (once its evidence is in).
        if !m.is_call() {
            if let Some(sa) = self.servers.get_mut(&server) {
                sa.last_reply = Some(m.at);
            }
        }
        // Judge grants whose grace window is settled: no later evidence can change it.
        let settled = m.at.ts - self.cfg.grace - 2 * epoch::GRACE_TICK_NS;
        while self.candidates.front().is_some_and(|c| c.lock.granted.ts < settled) {
            let c = self.candidates.pop_front().expect("front");
            rules::judge(self, &c, false);
        }
    }

    fn net_event(&mut self, e: &NetEvent) {
        self.tracker.net_event(e);
        match *e {
            NetEvent::Gap { flow, bytes, .. } => {
                for ip in [flow.src.ip, flow.dst.ip] {
                    if let Some(sa) = self.servers.get_mut(&ip) {
                        sa.gaps += 1;
                        sa.gap_bytes += bytes;
                    }
                }
            }
            // A server that closes connections may have died: its last FIN bounds when a
            // restart found later happened. Resets only say that connections are gone.
            NetEvent::Close { flow, at } | NetEvent::Reset { flow, at } => {
                if matches!(e, NetEvent::Reset { .. }) && flow.src.port < flow.dst.port && flow.src.port != 111 {
                    // Refused before it ever answered: the capture sees it start.
                    let sa = self.servers.or_default(flow.src.ip);
                    if sa.last_reply.is_none() {
                        sa.seen_starting = true;
                    }
                }
                let from_server = self.servers.contains_key(&flow.src.ip) && flow.src.port != 111 && flow.src.port < flow.dst.port;
                if !from_server {
                    // The client closed first: the server's FIN that follows is an answer.
                    if self.client_closed.len() >= MAX_CONTACTS {
                        self.client_closed.clear();
                    }
                    self.client_closed.insert((flow.src, flow.dst));
                    return;
                }
                if matches!(e, NetEvent::Close { .. }) && self.client_closed.remove(&(flow.dst, flow.src)) {
                    return;
                }
                if let Some(sa) = self.servers.get_mut(&flow.src.ip) {
                    match e {
                        NetEvent::Close { .. } => sa.last_close = Some(at),
                        _ => sa.last_reset = Some(at),
                    }
                }
            }
            NetEvent::Open { .. } => {}
        }
    }
}
