//! Lock and client state per server IP (NLM, NSM, NFSv4), rebuilt from decoded RPC
//! messages.
//!
//! [`Tracker`] is a [`Sink`]: feed it the pipeline's messages and it keeps, for every
//! server IP (the address clients sent their calls to), a [`ServerState`] with the NLM
//! locks, waiters and shares, the statd monitoring list, and the NFSv4 clients,
//! opens, locks and restart evidence ([`nfs4`]). It
//! also learns file handle → path names ([`names::FhNames`]), the state numbers hosts
//! announce, and a bounded [`journal::Journal`] of every lock change with its frame.
//!
//! State changes only on the server's answer (see [`nlm`] for the details). Calls still
//! waiting for their answer are "unconfirmed" ([`Tracker::unconfirmed`]). With
//! [`TrackerConfig::until`] only messages up to that moment are used: the state as it
//! was then.

pub mod journal;
pub mod names;
pub mod nfs4;
pub mod nlm;
pub mod nsm;
pub mod ranges;
mod tally;
pub mod time;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

use crate::net::{Endpoint, FastMap, FrameRef, Transport, Ts};
use crate::pipeline::{NetEvent, Sink};
use crate::proto::{self, mount, nfs2, nfs3, CallBody, ReplyBody};
use crate::rpc::matcher::CallKey;
use crate::rpc::{CallHeader, Kind, Message, ProcId};
use crate::xdr::XStr;
use crate::net::bounded::Bounded;
use crate::net::byip::ByIp;
use journal::Journal;
use names::FhNames;
use nfs4::{Nfs4Call, Nfs4Counters, Nfs4Limits, Nfs4State};
use nlm::{LockInfo, NlmOwner, NlmReq, NlmState, Via};
use nsm::{NsmReq, NsmState};
use ranges::{Held, Range};
use serde::Serialize;
use std::net::IpAddr;
pub use tally::Tally;
pub use time::{parse_at, AtTime};

/// Limits of the tracker's tables.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    /// Use only messages up to this moment.
    pub until: Option<AtTime>,
    /// NLM/NSM calls awaiting their reply.
    pub pending_cap: usize,
    /// MOUNT/NFS calls awaiting their reply (for names).
    pub pending_names_cap: usize,
    /// `*_MSG` calls awaiting their `*_RES`.
    pub async_cap: usize,
    pub names_cap: usize,
    /// Locks per server IP.
    pub locks_cap: usize,
    /// Blocked waiters per server IP.
    pub waiters_cap: usize,
    /// Share reservations per server IP.
    pub shares_cap: usize,
    /// Monitored hosts per statd address.
    pub monitors_cap: usize,
    /// Hosts whose state number is remembered.
    pub hosts_cap: usize,
    /// Lock changes kept in the journal; older ones are folded into its base tables.
    pub journal_cap: usize,
    pub servers_cap: usize,
    pub nfs4: Nfs4Limits,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            until: None,
            pending_cap: 65_536,
            pending_names_cap: 65_536,
            async_cap: 65_536,
            names_cap: 1_000_000,
            locks_cap: 1_000_000,
            waiters_cap: 65_536,
            shares_cap: 65_536,
            monitors_cap: 65_536,
            hosts_cap: 65_536,
            journal_cap: 32_768,
            servers_cap: 4096,
            nfs4: Nfs4Limits::default(),
        }
    }
}

/// What the tracker counted besides the state itself.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StateCounters {
    /// Messages used.
    pub messages: u64,
    /// Messages after `until`, not used.
    pub after_until: u64,
    /// NLM/NSM calls still waiting for their reply or `*_RES` (unconfirmed).
    pub unconfirmed: u64,
    /// NLM/NSM replies whose call was not captured or not remembered.
    pub replies_without_call: u64,
    /// `*_RES` calls with no `*_MSG` call of that cookie.
    pub res_unmatched: u64,
    /// NLM/NSM replies with an RPC-level error (no state change).
    pub rpc_errors: u64,
    /// NLM/NSM calls or replies whose body could not be decoded.
    pub undecoded: u64,
    /// Calls forgotten by the caps of the tables of waiting calls.
    pub pending_evicted: u64,
    pub async_evicted: u64,
    pub locks_refused: u64,
    pub waiters_refused: u64,
    pub shares_refused: u64,
    pub monitors_refused: u64,
    pub hosts_refused: u64,
    pub servers_refused: u64,
    pub names_refused: u64,
    pub journal_dropped: u64,
    pub nfs4: Nfs4Counters,
}

/// Everything known about one server IP.
#[derive(Debug, Clone)]
pub struct ServerState {
    pub nlm: NlmState,
    /// Monitoring by the statd at this address.
    pub nsm: NsmState,
    pub nfs4: Nfs4State,
}

/// Where a host's state number was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateSource {
    /// An SM_NOTIFY the host's statd sent.
    SmNotify,
    /// An SM_STAT reply (the answering statd's own number).
    SmStat,
    /// An SM_MON / SM_UNMON / SM_UNMON_ALL reply (the answering statd's own number).
    SmMonReply,
    /// The `state` field of the host's NLM LOCK arguments.
    NlmArgs,
    /// NLM FREE_ALL.
    FreeAll,
    /// NLM procedure 16 (statd's reboot callback).
    StatdCallback,
}

/// The last NSM state number seen for a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostState {
    pub state: i32,
    pub at: FrameRef,
    pub source: StateSource,
    /// Sender and receiver of the message it came in.
    pub from: IpAddr,
    pub to: IpAddr,
}

/// A call's parameters, owned, kept until its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pend {
    Nlm(NlmReq),
    Nsm(NsmReq),
    Mnt { path: Vec<u8> },
    DirOp { dir: Vec<u8>, name: Vec<u8> },
    Readdirplus { dir: Vec<u8> },
}

/// A call awaiting its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCall {
    pub at: FrameRef,
    pub caller: Endpoint,
    pub callee: Endpoint,
    pub transport: Transport,
    /// The server IP whose state the answer changes (for callbacks, the caller).
    pub lock_server: IpAddr,
    /// The procedure as called (`LOCK`, `LOCK_MSG`, `SM_MON`, …).
    pub proc_name: &'static str,
    pub what: Pend,
}

/// How a `*_RES` call finds its `*_MSG` call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AsyncKey {
    server: IpAddr,
    client: IpAddr,
    /// The synchronous procedure (1 TEST … 5 GRANTED).
    sync: u32,
    cookie: Vec<u8>,
}

/// Longest name, owner handle or file handle copied out of a message.
const MAX_OWNED: usize = 1024;

pub(crate) fn copy(b: &[u8]) -> Vec<u8> {
    owned_part(b).to_vec()
}

/// The part of `b` that [`copy`] keeps.
pub(crate) fn owned_part(b: &[u8]) -> &[u8] {
    &b[..b.len().min(MAX_OWNED)]
}

pub(crate) fn text(x: XStr<'_>) -> String {
    crate::xdr::lossy(owned_part(x.0)).into_owned()
}

/// [`text`], shared: copies of it cost no allocation.
pub(crate) fn shared_text(x: XStr<'_>) -> std::sync::Arc<str> {
    std::sync::Arc::from(&*crate::xdr::lossy(owned_part(x.0)))
}

/// [`copy`], shared.
pub(crate) fn shared_copy(b: &[u8]) -> std::sync::Arc<[u8]> {
    std::sync::Arc::from(owned_part(b))
}

/// Rebuilds state from RPC messages; see the module documentation.
pub struct Tracker {
    cfg: TrackerConfig,
    until: Option<Ts>,
    first_ts: Option<Ts>,
    /// Looked up for every lock call and reply; walked in address order through
    /// [`crate::net::sorted`].
    servers: ByIp<ServerState>,
    names: FhNames,
    /// Looked up by every lock call: hashed, and sorted where it is listed.
    hosts: FastMap<String, HostState>,
    journal: Journal,
    pending: Bounded<CallKey, PendingCall>,
    pending_names: Bounded<CallKey, PendingCall>,
    asyncs: Bounded<AsyncKey, PendingCall>,
    counters: StateCounters,
    nfs4_pending: Bounded<CallKey, Nfs4Call>,
    nfs4_counters: Nfs4Counters,
    /// NFSv4 replies that added evidence (see [`Tracker::nfs4_evidence_version`]).
    nfs4_evidence_version: u64,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker::new(TrackerConfig::default())
    }
}

impl Tracker {
    pub fn new(cfg: TrackerConfig) -> Self {
        let until = match cfg.until {
            Some(AtTime::Absolute(t)) => Some(t),
            _ => None,
        };
        Tracker {
            until,
            first_ts: None,
            servers: ByIp::default(),
            names: FhNames::new(cfg.names_cap),
            hosts: FastMap::default(),
            journal: Journal::new(cfg.journal_cap),
            pending: Bounded::new(cfg.pending_cap),
            pending_names: Bounded::new(cfg.pending_names_cap),
            asyncs: Bounded::new(cfg.async_cap),
            counters: StateCounters::default(),
            nfs4_pending: Bounded::new(cfg.nfs4.pending),
            nfs4_counters: Nfs4Counters::default(),
            nfs4_evidence_version: 0,
            cfg,
        }
    }

    /// The moment the state is taken at, once known (a relative time needs the first
    /// message).
    pub fn until(&self) -> Option<Ts> {
        self.until
    }

    /// Timestamp of the first message or network event seen.
    pub fn first_ts(&self) -> Option<Ts> {
        self.first_ts
    }

    pub fn servers(&self) -> &ByIp<ServerState> {
        &self.servers
    }

    pub fn server(&self, ip: IpAddr) -> Option<&ServerState> {
        self.servers.get(&ip)
    }

    pub fn names(&self) -> &FhNames {
        &self.names
    }

    /// The path of a file handle, when learnt.
    pub fn path(&self, fh: &[u8]) -> Option<String> {
        self.names.path(fh)
    }

    /// Last state number seen per host name (or statd address).
    pub fn hosts(&self) -> &FastMap<String, HostState> {
        &self.hosts
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// NLM and NSM calls still waiting for their answer, oldest first.
    pub fn unconfirmed(&self) -> Vec<&PendingCall> {
        let mut v: Vec<&PendingCall> = self.pending.values_in_order().chain(self.asyncs.values_in_order()).collect();
        v.sort_by_key(|p| (p.at.ts, p.at.file, p.at.frame));
        v
    }

    pub fn counters(&self) -> StateCounters {
        let mut c = self.counters;
        c.unconfirmed = (self.pending.len() + self.asyncs.len()) as u64;
        c.pending_evicted = self.pending.evicted + self.pending_names.evicted;
        c.async_evicted = self.asyncs.evicted;
        c.locks_refused = self.servers.values().map(|s| s.nlm.locks.refused).sum();
        c.names_refused = self.names.counters.refused;
        c.journal_dropped = self.journal.dropped;
        let mut n = self.nfs4_counters;
        n.unconfirmed = self.nfs4_pending.len() as u64;
        n.pending_evicted = self.nfs4_pending.evicted;
        for s in self.servers.values() {
            n.locks_refused += s.nfs4.locks.refused;
            n.clients_refused += s.nfs4.counters.clients_refused;
            n.sessions_refused += s.nfs4.counters.sessions_refused;
            n.stateids_refused += s.nfs4.counters.stateids_refused;
            n.evidence_dropped += s.nfs4.counters.evidence_dropped;
        }
        c.nfs4 = n;
        c
    }

    /// NFSv4 COMPOUND calls (that matter to the state) still waiting for their reply,
    /// oldest first.
    pub fn nfs4_unconfirmed(&self) -> Vec<&Nfs4Call> {
        let mut v: Vec<&Nfs4Call> = self.nfs4_pending.values_in_order().collect();
        v.sort_by_key(|p| (p.at.ts, p.at.file, p.at.frame));
        v
    }

    /// NLM locks on `server` held by owners other than `owner` that a lock of this type
    /// on `range` of `fh` would collide with.
    pub fn nlm_conflicts(&self, server: IpAddr, fh: &[u8], owner: &NlmOwner, exclusive: bool, range: Range) -> Vec<&Held<NlmOwner, LockInfo>> {
        match self.servers.get(&server) {
            Some(s) => s.nlm.locks.conflicts(fh, owner, exclusive, range),
            None => Vec::new(),
        }
    }

    /// NLM locks `client` holds on `server` now, with their file handles.
    pub fn nlm_held_by(&self, server: IpAddr, client: IpAddr) -> Vec<(&[u8], &Held<NlmOwner, LockInfo>)> {
        match self.servers.get(&server) {
            Some(s) => s.nlm.locks.iter().filter(|(_, h)| h.owner.client == client).collect(),
            None => Vec::new(),
        }
    }

    /// The state of `ip`, created on first use (`None` when the server table is full).
    fn server_mut(&mut self, ip: IpAddr) -> Option<&mut ServerState> {
        if self.servers.len() >= self.cfg.servers_cap && !self.servers.contains_key(&ip) {
            self.counters.servers_refused += 1;
            return None;
        }
        let cfg = &self.cfg;
        Some(self.servers.or_insert_with(ip, || ServerState { nlm: NlmState::new(cfg.locks_cap), nsm: NsmState::default(), nfs4: Nfs4State::new(cfg.nfs4.clone()) }))
    }

    fn see(&mut self, ts: Ts) {
        if self.first_ts.is_none() {
            self.first_ts = Some(ts);
            if let Some(AtTime::Relative(_)) = self.cfg.until {
                self.until = self.cfg.until.map(|a| a.resolve(ts));
            }
        }
    }

    pub(crate) fn note_host_state(&mut self, name: &str, state: i32, source: StateSource, m: &Message<'_>) {
        if name.is_empty() {
            return;
        }
        let now = HostState { state, at: m.at, source, from: m.src.ip, to: m.dst.ip };
        // A known host (every lock call names its host) is updated without allocating.
        if let Some(h) = self.hosts.get_mut(name) {
            *h = now;
            return;
        }
        if self.hosts.len() >= self.cfg.hosts_cap {
            self.counters.hosts_refused += 1;
            return;
        }
        self.hosts.insert(name.to_string(), now);
    }

    /// Keep a call until its reply.
    pub(crate) fn remember(&mut self, m: &Message<'_>, lock_server: IpAddr, proc_name: &'static str, what: Pend, retransmit: bool) {
        let key = CallKey { client: m.src, server: m.dst, transport: m.transport, xid: m.xid };
        let for_state = matches!(what, Pend::Nlm(_) | Pend::Nsm(_));
        if for_state && self.server_mut(lock_server).is_none() {
            return;
        }
        let table = if for_state { &mut self.pending } else { &mut self.pending_names };
        if retransmit && table.contains(&key) {
            return;
        }
        table.insert(key, PendingCall { at: m.at, caller: m.src, callee: m.dst, transport: m.transport, lock_server, proc_name, what });
    }

    fn call(&mut self, m: &Message<'_>, header: &CallHeader<'_>, id: ProcId, body: &CallBody<'_>, retransmit: bool) {
        let proc_name = id.name().unwrap_or("?");
        match body {
            CallBody::Nfs4(c) => self.nfs4_call(m, header, c, retransmit),
            CallBody::Malformed(_) | CallBody::Protected(_) if nfs4::apply::is_nfs4(&id) => self.nfs4_counters.undecoded += 1,
            CallBody::Nlm(c) => self.nlm_call(m, id.vers, proc_name, c, retransmit),
            CallBody::Nsm(c) => self.nsm_call(m, proc_name, c, retransmit),
            CallBody::Mount(mount::Call::Mnt { dirpath }) => {
                self.remember(m, m.dst.ip, proc_name, Pend::Mnt { path: copy(dirpath.0) }, retransmit)
            }
            CallBody::Nfs3(c) => {
                let what = match c {
                    nfs3::Call::Lookup { .. } | nfs3::Call::Create { .. } | nfs3::Call::Mkdir { .. } => c.dir_name(),
                    nfs3::Call::Symlink { .. } | nfs3::Call::Mknod { .. } => c.dir_name(),
                    nfs3::Call::Readdirplus { dir, .. } => {
                        return self.remember(m, m.dst.ip, proc_name, Pend::Readdirplus { dir: copy(dir.0) }, retransmit);
                    }
                    _ => None,
                };
                if let Some((dir, name)) = what {
                    self.remember(m, m.dst.ip, proc_name, Pend::DirOp { dir: copy(dir.0), name: copy(name.0) }, retransmit);
                }
            }
            CallBody::Nfs2(
                nfs2::Call::Lookup { dir, name } | nfs2::Call::Create { dir, name, .. } | nfs2::Call::Mkdir { dir, name, .. },
            ) => self.remember(m, m.dst.ip, proc_name, Pend::DirOp { dir: copy(dir.0), name: copy(name.0) }, retransmit),
            CallBody::Malformed(_) | CallBody::Protected(_) if is_state_prog(&id) => self.counters.undecoded += 1,
            _ => {}
        }
    }

    fn reply(&mut self, m: &Message<'_>, id: ProcId, ok: bool, body: &ReplyBody<'_>) {
        if nfs4::apply::is_nfs4(&id) {
            return self.nfs4_reply(m, ok, body);
        }
        let key = CallKey { client: m.dst, server: m.src, transport: m.transport, xid: m.xid };
        let p = match self.pending.remove(&key) {
            Some(p) => p,
            None => match self.pending_names.remove(&key) {
                Some(p) => p,
                None => {
                    if remembered(&id) {
                        self.counters.replies_without_call += 1;
                    }
                    return;
                }
            },
        };
        let for_state = matches!(p.what, Pend::Nlm(_) | Pend::Nsm(_));
        if !ok {
            if for_state {
                self.counters.rpc_errors += 1;
            }
            return;
        }
        let PendingCall { at: call, caller, callee, lock_server, what, .. } = p;
        match (what, body) {
            (Pend::Nlm(req), ReplyBody::Nlm(r)) => {
                let stat = r.stat();
                let void = matches!(req, NlmReq::FreeAll { .. } | NlmReq::SmNotify { .. });
                if stat.is_none() && !void {
                    self.counters.undecoded += 1;
                    return;
                }
                self.nlm_outcome(lock_server, req, stat, call, m.at, Via::Reply);
            }
            (Pend::Nsm(req), ReplyBody::Nsm(r)) => self.nsm_reply(m, caller, callee, call, req, r),
            (Pend::Nlm(_) | Pend::Nsm(_), _) => self.counters.undecoded += 1,
            (Pend::Mnt { path }, ReplyBody::Mount(mount::Reply::Mnt(r))) => {
                if let (true, Some(fh)) = (r.status.is_ok(), r.fhandle) {
                    self.names.root(fh.0, &path);
                }
            }
            (Pend::DirOp { dir, name }, ReplyBody::Nfs3(r)) => {
                if let (Some(true), Some(fh)) = (r.status().map(|s| s.is_ok()), r.new_fh()) {
                    self.names.child(&dir, &name, fh.0);
                }
            }
            (Pend::DirOp { dir, name }, ReplyBody::Nfs2(r)) => {
                if let (Some(true), Some(fh)) = (r.status().map(|s| s.is_ok()), r.new_fh()) {
                    self.names.child(&dir, &name, fh.0);
                }
            }
            (Pend::Readdirplus { dir }, ReplyBody::Nfs3(r)) => {
                let nfs3::Reply::Readdirplus { entries, .. } = &**r else { return };
                for e in entries {
                    if let Some(fh) = e.name_handle {
                        self.names.child(&dir, e.name.0, fh.0);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Calls whose replies the tracker waits for (the `*_MSG`/`*_RES` replies are void and
/// their answer travels separately).
fn remembered(id: &ProcId) -> bool {
    match (id.cb, id.prog) {
        (false, proto::NLM) => matches!(id.proc_, 1..=5 | 16 | 20..=23),
        (false, proto::NSM) => matches!(id.proc_, 1..=4 | 6),
        _ => false,
    }
}

fn is_state_prog(id: &ProcId) -> bool {
    !id.cb && (id.prog == proto::NLM || id.prog == proto::NSM)
}

impl Sink for Tracker {
    fn message(&mut self, m: &Message<'_>) {
        self.see(m.at.ts);
        if self.until.is_some_and(|u| m.at.ts > u) {
            self.counters.after_until += 1;
            return;
        }
        self.counters.messages += 1;
        match &m.kind {
            Kind::Call { header, id, body, retransmit } => self.call(m, header, *id, body, *retransmit),
            Kind::Reply { duplicate: true, .. } | Kind::Reply { id: None, .. } | Kind::Reply { call: None, .. } => {}
            Kind::Reply { id: Some(id), stat, body, .. } => self.reply(m, *id, stat.is_success(), body),
        }
    }

    fn net_event(&mut self, e: &NetEvent) {
        let at = match e {
            NetEvent::Gap { at, .. } | NetEvent::Reset { at, .. } | NetEvent::Open { at, .. } | NetEvent::Close { at, .. } => at,
        };
        self.see(at.ts);
    }
}
