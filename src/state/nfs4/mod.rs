//! NFSv4 state of one server IP: clients, sessions, opens, delegations, lock owners
//! and byte-range locks, and the evidence of server restarts.
//!
//! State changes only on a successful answer: each operation of a COMPOUND changes
//! state when its own result says NFS4_OK (the operations after a failing one did not
//! run). The tracker keeps each COMPOUND call (the parts it needs, owned) until its
//! reply ([`apply`]). The current file handle is followed through the COMPOUND
//! (PUTFH, PUTROOTFH, LOOKUP, SAVEFH/RESTOREFH, OPEN, and the GETFH results), which
//! also teaches file names.
//!
//! Restarts ([`epoch`]): answers that only a restarted server gives (STALE_CLIENTID,
//! STALE_STATEID, BADSESSION for state the capture saw accepted, the
//! RESTART_RECLAIM_NEEDED flag) or fresh client ids with a new boot epoch in their high
//! 32 bits move the state of the old server instance to the "old epoch": it stays
//! visible, with `stale_since`, until a reclaim of the same client owner takes it over
//! or the caller drops it ([`Tracker::nfs4_drop_old`]). Every such answer, and every
//! grace-related answer, is kept as [`Nfs4Evidence`].
//!
//! Files: `req` (the call, owned), `apply` (replies, file handles, opens, locks),
//! `clients` (client ids, sessions, leases), `failed` (failed operations), `epoch`
//! (restarts and reclaims), `lockowners` (what RELEASE_LOCKOWNER releases).

pub mod apply;
mod clients;
pub mod epoch;
mod failed;
mod lockowners;
mod req;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_epoch;
#[cfg(test)]
pub(crate) mod testutil;

use super::nlm::{LockInfo, NlmOwner};
use super::ranges::{Held, LockTable, Range};
use super::Tracker;
use crate::net::{sorted_keys, FastMap, FrameRef};
use crate::xdr::hex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

pub use req::Nfs4Call;

/// Limits of the NFSv4 tables (per server IP, except `pending`).
#[derive(Debug, Clone)]
pub struct Nfs4Limits {
    pub clients: usize,
    pub sessions: usize,
    /// Opens, lock stateids and delegations together.
    pub stateids: usize,
    pub locks: usize,
    pub evidence: usize,
    /// COMPOUND calls awaiting their reply (all servers together).
    pub pending: usize,
}

impl Default for Nfs4Limits {
    fn default() -> Self {
        Nfs4Limits { clients: 65_536, sessions: 65_536, stateids: 1_000_000, locks: 1_000_000, evidence: 65_536, pending: 65_536 }
    }
}

/// What the tables refused or could not place (per server IP).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Nfs4TableCounters {
    pub clients_refused: u64,
    pub sessions_refused: u64,
    pub stateids_refused: u64,
    pub evidence_dropped: u64,
    /// Operations naming a stateid or session the capture never showed.
    pub unknown_stateids: u64,
    pub unknown_sessions: u64,
    /// Locks granted on a file whose handle was never seen (not recorded).
    pub no_fh: u64,
    /// A client id handed out again while an old-epoch client had it.
    pub clientid_reused: u64,
}

/// Tracker-wide NFSv4 counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Nfs4Counters {
    /// COMPOUND calls kept until their reply, still waiting.
    pub unconfirmed: u64,
    pub replies_without_call: u64,
    /// Replies with an RPC-level error (no state change).
    pub rpc_errors: u64,
    /// Calls or replies whose body could not be decoded.
    pub undecoded: u64,
    /// A result that does not belong to the operation at its place in the call.
    pub op_mismatch: u64,
    pub pending_evicted: u64,
    pub locks_refused: u64,
    pub clients_refused: u64,
    pub sessions_refused: u64,
    pub stateids_refused: u64,
    pub evidence_dropped: u64,
}

/// A stateid, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sid {
    pub seqid: u32,
    pub other: [u8; 12],
}

impl Sid {
    pub fn from_wire(s: &crate::proto::nfs4::Stateid4<'_>) -> Sid {
        Sid { seqid: s.seqid, other: <[u8; 12]>::try_from(s.other.0).unwrap_or_default() }
    }

    /// The 16 bytes as hex (seqid then other), as the lab manifests write them.
    pub fn hex(&self) -> String {
        format!("{:08x}{}", self.seqid, hex(&self.other))
    }

    /// The all-zero and all-ones special stateids.
    pub fn is_special(&self) -> bool {
        self.other.iter().all(|&b| b == 0) || self.other.iter().all(|&b| b == 0xff)
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seqid, hex(&self.other))
    }
}

/// The AUTH_SYS identity a client established its client id with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub machine: String,
    pub uid: u32,
}

/// Where [`Nfs4State::answers`] counts the statuses that have no name.
pub const UNNAMED_STATUS: u32 = u32::MAX;

/// The boot epoch ganesha and knfsd put in the high 32 bits of client ids.
pub fn clientid_epoch(clientid: u64) -> u32 {
    (clientid >> 32) as u32
}

/// Client ids made of an epoch and a small counter (low 32 bits below 2^24).
pub fn clientid_looks_epoch_based(clientid: u64) -> bool {
    (clientid as u32) < 1 << 24
}

/// The client owner as text when it is printable, else as hex.
pub fn owner_text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if !s.is_empty() && s.chars().all(|c| !c.is_control()) => s.to_string(),
        _ => hex(b),
    }
}

/// One client id of this server IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4Client {
    pub clientid: u64,
    /// SETCLIENTID `id` / EXCHANGE_ID `co_ownerid` (empty when the client id was only
    /// seen in use).
    pub owner: Vec<u8>,
    /// The owner as text ([`owner_text`]), made once for the many locks it is shown on.
    pub name: std::sync::Arc<str>,
    pub verifier: Vec<u8>,
    /// The address its SETCLIENTID / EXCHANGE_ID (or first use) came from.
    pub addr: IpAddr,
    pub principal: Option<Principal>,
    pub minor: u32,
    pub cb_program: Option<u32>,
    /// The reply that handed out the client id (or its first use).
    pub created: FrameRef,
    /// SETCLIENTID_CONFIRM or CREATE_SESSION (or first use, or EXCHANGE_ID saying
    /// the record was confirmed already).
    pub confirmed: Option<FrameRef>,
    /// Only seen in use: the capture missed its SETCLIENTID / EXCHANGE_ID.
    pub inferred: bool,
    /// Successful RENEW, SEQUENCE or state-bearing operations.
    pub renewals: u64,
    pub last_renewal: FrameRef,
    /// First successful RECLAIM_COMPLETE.
    pub reclaim_complete: Option<FrameRef>,
    /// RECLAIM_COMPLETEs answered COMPLETE_ALREADY, and the last one.
    pub complete_already: u32,
    pub last_complete_already: Option<FrameRef>,
    /// Old epoch since this evidence frame.
    pub stale_since: Option<FrameRef>,
    /// For an old-epoch client: the client id its owner has in the new epoch.
    pub successor: Option<u64>,
}

impl Nfs4Client {
    pub fn owner_text(&self) -> String {
        owner_text(&self.owner)
    }
    pub fn is_stale(&self) -> bool {
        self.stale_since.is_some()
    }
}

/// An NFSv4.1 session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4Session {
    pub sessionid: [u8; 16],
    pub clientid: u64,
    pub cb_program: u32,
    pub created: FrameRef,
    pub destroyed: Option<FrameRef>,
    pub stale_since: Option<FrameRef>,
}

/// An open stateid: one open owner's open of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4Open {
    pub stateid: Sid,
    pub clientid: u64,
    pub open_owner: std::sync::Arc<[u8]>,
    /// `None` when the capture did not show which file the OPEN resolved to.
    pub fh: Option<Vec<u8>>,
    /// The name the OPEN used, joined to the directory's path when known.
    pub path: Option<String>,
    pub share_access: u32,
    pub share_deny: u32,
    /// open_claim_type4 of the OPEN that created it.
    pub claim: u32,
    pub reclaim: bool,
    /// The server asked for OPEN_CONFIRM and it has not been seen yet.
    pub unconfirmed: bool,
    pub minor: u32,
    pub call: FrameRef,
    pub granted: FrameRef,
    pub stale_since: Option<FrameRef>,
}

/// A delegation handed out with an OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4Deleg {
    pub stateid: Sid,
    pub clientid: u64,
    pub fh: Option<Vec<u8>>,
    pub write: bool,
    pub reclaim: bool,
    pub call: FrameRef,
    pub granted: FrameRef,
    pub stale_since: Option<FrameRef>,
}

/// Who owns an NFSv4 byte-range lock: the client id and the lock owner bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nfs4LockOwner {
    pub clientid: u64,
    pub owner: std::sync::Arc<[u8]>,
}

/// A lock stateid: one lock owner on one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4LockState {
    pub stateid: Sid,
    pub owner: Nfs4LockOwner,
    pub fh: Vec<u8>,
    /// The open stateid (`other`) it was derived from.
    pub open: Option<[u8; 12]>,
    pub stale_since: Option<FrameRef>,
}

/// What is kept with each held NFSv4 lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nfs4LockInfo {
    /// The lock stateid's `other` (all zero when unknown).
    pub stateid: [u8; 12],
    pub call: FrameRef,
    pub granted: FrameRef,
    pub reclaim: bool,
    /// nfs_lock_type4 as requested (READW/WRITEW included).
    pub locktype: u32,
    pub minor: u32,
    pub stale_since: Option<FrameRef>,
}

/// Kinds of restart and grace evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    StaleClientid,
    StaleStateid,
    BadSession,
    /// SEQ4_STATUS_RESTART_RECLAIM_NEEDED in a SEQUENCE reply.
    RestartReclaimNeeded,
    /// NFS4ERR_GRACE.
    GraceRefused,
    /// NFS4ERR_NO_GRACE.
    NoGrace,
    ReclaimBad,
    ReclaimConflict,
    /// A fresh client id whose high 32 bits (boot epoch) differ from the previous ones.
    ClientidEpochChange,
    /// A reclaim OPEN or LOCK succeeded.
    ReclaimGranted,
    /// RECLAIM_COMPLETE succeeded.
    ReclaimComplete,
    /// RECLAIM_COMPLETE answered NFS4ERR_COMPLETE_ALREADY.
    CompleteAlready,
}

impl EvidenceKind {
    pub fn name(self) -> &'static str {
        match self {
            EvidenceKind::StaleClientid => "stale_clientid",
            EvidenceKind::StaleStateid => "stale_stateid",
            EvidenceKind::BadSession => "bad_session",
            EvidenceKind::RestartReclaimNeeded => "restart_reclaim_needed",
            EvidenceKind::GraceRefused => "grace_refused",
            EvidenceKind::NoGrace => "no_grace",
            EvidenceKind::ReclaimBad => "reclaim_bad",
            EvidenceKind::ReclaimConflict => "reclaim_conflict",
            EvidenceKind::ClientidEpochChange => "clientid_epoch_change",
            EvidenceKind::ReclaimGranted => "reclaim_granted",
            EvidenceKind::ReclaimComplete => "reclaim_complete",
            EvidenceKind::CompleteAlready => "complete_already",
        }
    }
}

/// One answer that tells something about restarts, grace or reclaims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4Evidence {
    pub kind: EvidenceKind,
    /// The reply.
    pub at: FrameRef,
    pub call: FrameRef,
    /// Where the call came from.
    pub client_addr: IpAddr,
    /// The client id concerned (for STALE_*/BADSESSION: the one the stale state
    /// belonged to, when known).
    pub clientid: Option<u64>,
    pub client_owner: Option<Vec<u8>>,
    /// The operation and its status.
    pub op: &'static str,
    pub status: u32,
    /// For STALE_* / BADSESSION: the client id, stateid or session was seen before in
    /// the capture. For RECLAIM_GRANTED: old-epoch state of the same client owner was
    /// found for it (and taken over).
    pub known: bool,
    /// How many clients this evidence moved to the old epoch.
    pub marked_old: usize,
    /// The request was a reclaim (OPEN CLAIM_PREVIOUS/…, LOCK reclaim).
    pub reclaim: bool,
    pub fh: Option<Vec<u8>>,
    pub range: Option<Range>,
    pub exclusive: Option<bool>,
    /// open_claim_type4 of an OPEN.
    pub claim: Option<u32>,
    pub minor: u32,
    /// For CLIENTID_EPOCH_CHANGE: the previous and the new epoch.
    pub epochs: Option<(u32, u32)>,
}

/// A moment the tracker moved state to the old epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochMark {
    pub at: FrameRef,
    pub kind: EvidenceKind,
    /// Clients moved.
    pub clients: usize,
}

/// NFSv4 state of one server IP.
#[derive(Debug, Clone)]
pub struct Nfs4State {
    /// Looked up by most operations: hashed; iterated in client id order where the
    /// order shows ([`Nfs4State::client_ids`]).
    pub clients: FastMap<u64, Nfs4Client>,
    /// Sessions, open, delegation and lock stateids are hashed (looked up for almost
    /// every operation); iterate them through [`crate::net::sorted`] wherever the order shows.
    pub sessions: FastMap<[u8; 16], Nfs4Session>,
    /// Open stateids by `other`.
    pub opens: FastMap<[u8; 12], Nfs4Open>,
    pub delegations: FastMap<[u8; 12], Nfs4Deleg>,
    pub lock_stateids: FastMap<[u8; 12], Nfs4LockState>,
    /// Current and old-epoch locks (old ones have `meta.stale_since`).
    pub locks: LockTable<Nfs4LockOwner, Nfs4LockInfo>,
    /// In capture order; capped (later ones are counted and dropped).
    pub evidence: Vec<Nfs4Evidence>,
    /// Every moment state moved to the old epoch.
    pub epochs: Vec<EpochMark>,
    /// High 32 bits of the most recent fresh client id.
    pub epoch_hi: Option<u32>,
    /// Results seen, by (operation number, status number): see [`answer_names`](Self::answer_names).
    /// Statuses without a name are all counted under [`UNNAMED_STATUS`].
    pub answers: FastMap<(u32, u32), u64>,
    pub counters: Nfs4TableCounters,
    limits: Nfs4Limits,
    /// Old-epoch opens by file handle, for reclaims (entries may outlive their open).
    stale_opens_by_fh: BTreeMap<Vec<u8>, Vec<[u8; 12]>>,
    /// Lock stateids by the open they were derived from (entries may outlive their
    /// lock stateid; checked on use), so that a CLOSE finds its locks directly.
    pub(super) locks_by_open: FastMap<[u8; 12], Vec<[u8; 12]>>,
    /// Scratch list of the clients a reply renewed (kept to spare an allocation per reply).
    pub(super) renew_buf: Vec<u64>,
    /// The clients (by id, `None` for an unknown session) that `evidence` holds a
    /// RestartReclaimNeeded entry for; as bounded as the evidence.
    pub(super) reclaim_needed_noted: crate::net::FastSet<Option<u64>>,
    /// Client ids per client owner (entries may be stale: check the client).
    pub(super) by_owner: FastMap<Vec<u8>, Vec<u64>>,
    /// Lock stateids and locked files per lock owner, kept once a RELEASE_LOCKOWNER
    /// was seen ([`lockowners`]).
    lock_owner_index: Option<lockowners::LockOwnerIndex>,
}

impl Default for Nfs4State {
    fn default() -> Self {
        Nfs4State::new(Nfs4Limits::default())
    }
}

/// A held NFSv4 lock with what is known around it.
#[derive(Debug, Clone, Copy)]
pub struct Nfs4HeldLock<'a> {
    pub fh: &'a [u8],
    pub held: &'a Held<Nfs4LockOwner, Nfs4LockInfo>,
    pub client: Option<&'a Nfs4Client>,
    /// The lock stateid as last seen.
    pub stateid: Option<Sid>,
    /// The open stateid it was derived from, as last seen.
    pub open_stateid: Option<Sid>,
}

impl Nfs4HeldLock<'_> {
    pub fn is_stale(&self) -> bool {
        self.held.meta.stale_since.is_some()
    }
}

/// Old-epoch state removed by [`Nfs4State::drop_old`].
#[derive(Debug, Clone, Default)]
pub struct DroppedOld {
    pub clients: Vec<Nfs4Client>,
    pub sessions: usize,
    pub opens: Vec<Nfs4Open>,
    pub delegations: Vec<Nfs4Deleg>,
    pub locks: Vec<(Vec<u8>, Held<Nfs4LockOwner, Nfs4LockInfo>)>,
}

impl Nfs4State {
    pub fn new(limits: Nfs4Limits) -> Self {
        Nfs4State {
            clients: FastMap::default(),
            sessions: FastMap::default(),
            opens: FastMap::default(),
            delegations: FastMap::default(),
            lock_stateids: FastMap::default(),
            locks: LockTable::new(limits.locks),
            evidence: Vec::new(),
            epochs: Vec::new(),
            epoch_hi: None,
            answers: FastMap::default(),
            counters: Nfs4TableCounters::default(),
            limits,
            stale_opens_by_fh: BTreeMap::new(),
            locks_by_open: FastMap::default(),
            renew_buf: Vec::new(),
            reclaim_needed_noted: Default::default(),
            by_owner: FastMap::default(),
            lock_owner_index: None,
        }
    }

    /// Nothing at all was learnt.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty() && self.sessions.is_empty() && self.opens.is_empty() && self.locks.is_empty() && self.evidence.is_empty() && self.answers.is_empty()
    }

    /// Results seen, by (operation name, status name).
    pub fn answer_names(&self) -> crate::state::Tally {
        let mut names = crate::state::Tally::default();
        for (&(op, status), &n) in &self.answers {
            let name = crate::proto::nfs4::ops::op_name(op).unwrap_or("?");
            names.add_n(name, crate::proto::nfs4::status::Nfsstat4(status).name().unwrap_or("?"), n);
        }
        names
    }

    pub fn client(&self, clientid: u64) -> Option<&Nfs4Client> {
        self.clients.get(&clientid)
    }

    /// The client owner of a client id, when known.
    pub fn client_owner(&self, clientid: u64) -> Option<&[u8]> {
        self.clients.get(&clientid).map(|c| c.owner.as_slice()).filter(|o| !o.is_empty())
    }

    /// Clients with this owner (current and old epoch), oldest first.
    pub fn clients_of_owner<'s>(&'s self, owner: &'s [u8]) -> impl Iterator<Item = &'s Nfs4Client> + 's {
        let mut v: Vec<&Nfs4Client> = self.clients.values().filter(|c| !owner.is_empty() && c.owner == owner).collect();
        v.sort_by_key(|c| (c.created.ts, c.created.frame, c.clientid));
        v.into_iter()
    }

    /// Remember that `cid` belongs to `owner`.
    pub(super) fn index_owner(&mut self, owner: &[u8], cid: u64) {
        if owner.is_empty() {
            return;
        }
        if self.by_owner.len() > 2 * self.clients.len() + 1024 {
            // Forget the entries of clients that are gone.
            self.by_owner.clear();
            for c in self.clients.values().filter(|c| !c.owner.is_empty()) {
                self.by_owner.entry(c.owner.clone()).or_default().push(c.clientid);
            }
        }
        let ids = self.by_owner.entry(owner.to_vec()).or_default();
        if !ids.contains(&cid) {
            ids.push(cid);
        }
    }

    /// The client ids of `owner`, ascending.
    pub(super) fn ids_of_owner(&self, owner: &[u8]) -> Vec<u64> {
        let mut ids: Vec<u64> = self.by_owner.get(owner).into_iter().flatten().copied().filter(|id| self.clients.get(id).is_some_and(|c| c.owner == owner)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The client ids, ascending.
    pub fn client_ids(&self) -> Vec<u64> {
        sorted_keys(&self.clients, |_| true)
    }

    /// Whether any old-epoch state is kept.
    pub fn has_old_epoch(&self) -> bool {
        self.clients.values().any(Nfs4Client::is_stale) || self.locks.any(|h| h.meta.stale_since.is_some()) || self.opens.values().any(|o| o.stale_since.is_some())
    }

    /// Every lock (current and old epoch) with its client and stateids.
    pub fn held(&self) -> impl Iterator<Item = Nfs4HeldLock<'_>> {
        self.locks.iter().map(move |(fh, held)| {
            let ls = self.lock_stateids.get(&held.meta.stateid);
            Nfs4HeldLock {
                fh,
                held,
                client: self.clients.get(&held.owner.clientid),
                stateid: ls.map(|l| l.stateid),
                open_stateid: ls.and_then(|l| l.open).and_then(|o| self.opens.get(&o)).map(|o| o.stateid),
            }
        })
    }

    /// Current-epoch locks.
    pub fn current_locks(&self) -> impl Iterator<Item = Nfs4HeldLock<'_>> {
        self.held().filter(|h| !h.is_stale())
    }

    /// Old-epoch locks (not reclaimed, not dropped).
    pub fn old_locks(&self) -> impl Iterator<Item = Nfs4HeldLock<'_>> {
        self.held().filter(|h| h.is_stale())
    }

    /// Locks on `fh` (current and old epoch) of owners other than `except` that a lock
    /// of this type on `range` would collide with.
    pub fn conflicts(&self, fh: &[u8], except: Option<&Nfs4LockOwner>, exclusive: bool, range: Range) -> Vec<&Held<Nfs4LockOwner, Nfs4LockInfo>> {
        match self.locks.file(fh) {
            Some(f) => f.iter().filter(|h| Some(&h.owner) != except && (exclusive || h.exclusive) && h.range.overlaps(&range)).collect(),
            None => Vec::new(),
        }
    }

    /// Remove every piece of old-epoch state; returns what went (in key order).
    pub fn drop_old(&mut self) -> DroppedOld {
        let mut d = DroppedOld::default();
        let (old, keep): (FastMap<u64, Nfs4Client>, FastMap<u64, Nfs4Client>) = std::mem::take(&mut self.clients).into_iter().partition(|(_, c)| c.is_stale());
        self.clients = keep;
        d.clients = old.into_values().collect();
        d.clients.sort_unstable_by_key(|c| c.clientid);
        let n = self.sessions.len();
        self.sessions.retain(|_, s| s.stale_since.is_none());
        d.sessions = n - self.sessions.len();
        d.opens = take_sorted(&mut self.opens, |o| o.stale_since.is_some());
        self.stale_opens_by_fh.clear();
        d.delegations = take_sorted(&mut self.delegations, |o| o.stale_since.is_some());
        self.lock_stateids.retain(|_, l| l.stale_since.is_none());
        let stale: Vec<(Vec<u8>, Nfs4LockOwner, Range)> =
            self.locks.iter().filter(|(_, h)| h.meta.stale_since.is_some()).map(|(fh, h)| (fh.to_vec(), h.owner.clone(), h.range)).collect();
        for (fh, owner, range) in stale {
            for h in self.locks.unlock(&fh, &owner, range) {
                d.locks.push((fh.clone(), h));
            }
        }
        d
    }

    pub(crate) fn limits(&self) -> &Nfs4Limits {
        &self.limits
    }

    fn stateid_count(&self) -> usize {
        self.opens.len() + self.lock_stateids.len() + self.delegations.len()
    }
}

/// Whose request a conflict query is for (its own locks never conflict).
#[derive(Debug, Clone, Copy)]
pub enum Requester<'a> {
    Nlm(&'a NlmOwner),
    Nfs4(&'a Nfs4LockOwner),
    /// Nobody's: every overlapping incompatible lock counts.
    Anyone,
}

/// A lock of either protocol.
#[derive(Debug, Clone, Copy)]
pub enum AnyLock<'a> {
    Nlm(&'a Held<NlmOwner, LockInfo>),
    Nfs4(&'a Held<Nfs4LockOwner, Nfs4LockInfo>),
}

impl AnyLock<'_> {
    pub fn range(&self) -> Range {
        match self {
            AnyLock::Nlm(h) => h.range,
            AnyLock::Nfs4(h) => h.range,
        }
    }
    pub fn exclusive(&self) -> bool {
        match self {
            AnyLock::Nlm(h) => h.exclusive,
            AnyLock::Nfs4(h) => h.exclusive,
        }
    }
    /// An NFSv4 lock of the old epoch.
    pub fn is_stale(&self) -> bool {
        matches!(self, AnyLock::Nfs4(h) if h.meta.stale_since.is_some())
    }
}

/// A lock a request would collide with, and the handle it is held under.
#[derive(Debug, Clone)]
pub struct Conflict<'a> {
    pub fh: Vec<u8>,
    pub lock: AnyLock<'a>,
}

/// The path of `fh` when it is complete (no unknown ancestor).
fn full_path(t: &Tracker, fh: &[u8]) -> Option<String> {
    t.path(fh).filter(|p| !p.starts_with('…'))
}

impl Tracker {
    /// The NFSv4 state of `server`.
    pub fn nfs4(&self, server: IpAddr) -> Option<&Nfs4State> {
        self.servers.get(&server).map(|s| &s.nfs4)
    }

    /// NFSv4 restart and grace evidence of `server`, in capture order.
    pub fn nfs4_evidence(&self, server: IpAddr) -> &[Nfs4Evidence] {
        self.servers.get(&server).map_or(&[], |s| s.nfs4.evidence.as_slice())
    }

    /// Changes whenever some server's NFSv4 evidence grows: a reader of the evidence
    /// need look again only then.
    pub fn nfs4_evidence_version(&self) -> u64 {
        self.nfs4_evidence_version
    }

    /// The handles of the file `fh` on `server`: `fh` itself, and the handles in the
    /// lock tables with the same complete path (NLM uses NFSv3 handles, which may
    /// differ from the NFSv4 ones of the same file). Looking for other handles costs
    /// a pass over the locks, done only when both protocols hold locks there.
    pub fn same_file(&self, server: IpAddr, fh: &[u8]) -> Vec<Vec<u8>> {
        let mut out = vec![fh.to_vec()];
        let Some(s) = self.servers.get(&server) else { return out };
        if s.nlm.locks.is_empty() || s.nfs4.locks.is_empty() {
            return out;
        }
        let Some(p) = full_path(self, fh) else { return out };
        let mut last: Option<&[u8]> = None;
        for f in s.nlm.locks.iter().map(|(f, _)| f).chain(s.nfs4.locks.iter().map(|(f, _)| f)) {
            if last == Some(f) {
                continue;
            }
            last = Some(f);
            if f != fh && !out.iter().any(|o| o == f) && full_path(self, f).as_deref() == Some(p.as_str()) {
                out.push(f.to_vec());
            }
        }
        out
    }

    /// Locks of both protocols on `server` that a lock of this type on `range` of the
    /// file `fh` would collide with (old-epoch NFSv4 locks included: check
    /// `stale_since`), except the requester's own. The same file under another handle
    /// with the same path counts ([`Tracker::same_file`]).
    pub fn lock_conflicts(&self, server: IpAddr, fh: &[u8], who: Requester<'_>, exclusive: bool, range: Range) -> Vec<Conflict<'_>> {
        let Some(s) = self.servers.get(&server) else { return Vec::new() };
        let except = match who {
            Requester::Nfs4(o) => Some(o),
            _ => None,
        };
        let mut out = Vec::new();
        for f in self.same_file(server, fh) {
            if let Some(fl) = s.nlm.locks.file(&f) {
                for h in fl.iter() {
                    let mine = matches!(who, Requester::Nlm(o) if *o == h.owner);
                    if !mine && (exclusive || h.exclusive) && h.range.overlaps(&range) {
                        out.push(Conflict { fh: f.clone(), lock: AnyLock::Nlm(h) });
                    }
                }
            }
            for h in s.nfs4.conflicts(&f, except, exclusive, range) {
                out.push(Conflict { fh: f.clone(), lock: AnyLock::Nfs4(h) });
            }
        }
        out
    }
}

/// Take the entries that `gone` accepts out of `m`, in key order.
fn take_sorted<V>(m: &mut FastMap<[u8; 12], V>, gone: impl Fn(&V) -> bool) -> Vec<V> {
    sorted_keys(m, gone).iter().filter_map(|k| m.remove(k)).collect()
}
