//! Server restarts: moving state to the old epoch, reclaims taking it over, and the
//! evidence for both.
//!
//! Which clients belong to the old server instance when restart evidence names one
//! client `x`: every current client of `x`'s boot epoch (the high 32 bits of client
//! ids made of an epoch and a small counter, as ganesha and knfsd make them), and
//! every client established before `x` was last seen renewing its lease (the old
//! server instance was alive then). A fresh client id from a new boot epoch moves
//! every current client of another epoch.

use super::apply::{deleg_event, open_event, Apply};
use super::failed::Detail;
use super::{clientid_epoch, clientid_looks_epoch_based, DroppedOld, EpochMark, EvidenceKind, Nfs4Client, Nfs4LockOwner, Sid};
use crate::net::{sorted_keys, FrameRef};
use crate::state::journal::{Nfs4Drop, Nfs4EventKind, Nfs4LockEvent, What};
use crate::state::ranges::Range;
use crate::state::Tracker;
use std::collections::HashSet;
use std::net::IpAddr;

fn before_or_at(a: FrameRef, b: FrameRef) -> bool {
    (a.ts, a.file, a.frame) <= (b.ts, b.file, b.frame)
}

/// Client ids collected in ascending order (the clients are kept in a hash map).
struct Ascending(Vec<u64>);

impl FromIterator<u64> for Ascending {
    fn from_iter<I: IntoIterator<Item = u64>>(it: I) -> Self {
        let mut v: Vec<u64> = it.into_iter().collect();
        v.sort_unstable();
        Ascending(v)
    }
}

impl Apply<'_, '_> {
    /// The current clients that go to the old epoch with client `x`.
    fn epoch_of(&self, x: u64) -> Vec<u64> {
        let Some(xc) = self.st.clients.get(&x) else { return Vec::new() };
        let last = xc.last_renewal;
        let by_epoch = clientid_looks_epoch_based(x);
        self.st
            .clients
            .values()
            .filter(|c| !c.is_stale())
            .filter(|c| c.clientid == x || (by_epoch && clientid_looks_epoch_based(c.clientid) && clientid_epoch(c.clientid) == clientid_epoch(x)) || before_or_at(c.created, last))
            .map(|c| c.clientid)
            .collect::<Ascending>()
            .0
    }

    /// Move the clients `ids` and everything they hold to the old epoch.
    pub(super) fn mark_old(&mut self, ids: &[u64], kind: EvidenceKind) -> usize {
        if ids.is_empty() {
            return 0;
        }
        let ids: HashSet<u64> = ids.iter().copied().collect();
        let at = self.at;
        let mut n = 0;
        for id in &ids {
            if let Some(c) = self.st.clients.get_mut(id).filter(|c| !c.is_stale()) {
                c.stale_since = Some(at);
                n += 1;
            }
        }
        for s in self.st.sessions.values_mut().filter(|s| ids.contains(&s.clientid) && s.destroyed.is_none() && s.stale_since.is_none()) {
            s.stale_since = Some(at);
        }
        let mut events = Vec::new();
        for k in sorted_keys(&self.st.opens, |o| ids.contains(&o.clientid) && o.stale_since.is_none()) {
            let Some(o) = self.st.opens.get_mut(&k) else { continue };
            o.stale_since = Some(at);
            events.push(What::Nfs4Open(open_event(Nfs4EventKind::Stale, o)));
            if let Some(fh) = &o.fh {
                self.st.stale_opens_by_fh.entry(fh.clone()).or_default().push(k);
            }
        }
        for k in sorted_keys(&self.st.delegations, |d| ids.contains(&d.clientid) && d.stale_since.is_none()) {
            let Some(d) = self.st.delegations.get_mut(&k) else { continue };
            d.stale_since = Some(at);
            events.push(What::Nfs4Deleg(deleg_event(Nfs4EventKind::Stale, d)));
        }
        for l in self.st.lock_stateids.values_mut().filter(|l| ids.contains(&l.owner.clientid) && l.stale_since.is_none()) {
            l.stale_since = Some(at);
        }
        let pieces: Vec<(Vec<u8>, Nfs4LockOwner, Range)> = self
            .st
            .locks
            .iter()
            .filter(|(_, h)| ids.contains(&h.owner.clientid) && h.meta.stale_since.is_none())
            .map(|(fh, h)| (fh.to_vec(), h.owner.clone(), h.range))
            .collect();
        for (fh, owner, range) in pieces {
            for mut h in self.st.locks.unlock(&fh, &owner, range) {
                h.meta.stale_since = Some(at);
                events.push(What::Nfs4Lock(Nfs4LockEvent {
                    kind: Nfs4EventKind::Stale,
                    owner: h.owner.clone(),
                    fh: fh.clone(),
                    range: h.range,
                    exclusive: h.exclusive,
                    reclaim: h.meta.reclaim,
                    stateid: Some(h.meta.stateid),
                    minor: h.meta.minor,
                }));
                self.st.index_lock(&h.owner, &fh);
                self.st.locks.lock(&fh, h.owner, h.exclusive, h.range, h.meta);
            }
        }
        for e in events {
            self.push(e);
        }
        self.st.epochs.push(EpochMark { at, kind, clients: n });
        n
    }

    fn set_marked(&mut self, idx: Option<usize>, marked: usize) {
        if let Some(e) = idx.and_then(|i| self.st.evidence.get_mut(i)) {
            e.marked_old = marked;
        }
    }

    /// A fresh client id was handed out: a new boot epoch in its high bits moves the
    /// clients of other epochs to the old epoch.
    pub(super) fn check_epoch(&mut self, cid: u64, op: &'static str) {
        if !clientid_looks_epoch_based(cid) {
            return;
        }
        let hi = clientid_epoch(cid);
        let prev = self.st.epoch_hi.replace(hi);
        let Some(p) = prev.filter(|&p| p != hi) else { return };
        let ids: Vec<u64> = self
            .st
            .clients
            .values()
            .filter(|c| !c.is_stale() && clientid_looks_epoch_based(c.clientid) && clientid_epoch(c.clientid) != hi)
            .map(|c| c.clientid)
            .collect::<Ascending>()
            .0;
        let marked = self.mark_old(&ids, EvidenceKind::ClientidEpochChange);
        let idx = self.evidence(EvidenceKind::ClientidEpochChange, op, 0, Some(cid), true, Detail::default());
        self.set_marked(idx, marked);
        if let Some(e) = idx.and_then(|i| self.st.evidence.get_mut(i)) {
            e.epochs = Some((p, hi));
        }
    }

    /// NFS4ERR_STALE_CLIENTID for `cid`.
    pub(super) fn stale_clientid(&mut self, op: &'static str, status: u32, cid: Option<u64>) {
        let known = cid.is_some_and(|c| self.st.clients.contains_key(&c));
        let marked = match cid.filter(|c| self.st.clients.get(c).is_some_and(|c| !c.is_stale())) {
            Some(c) => {
                let ids = self.epoch_of(c);
                self.mark_old(&ids, EvidenceKind::StaleClientid)
            }
            None => 0,
        };
        let idx = self.evidence(EvidenceKind::StaleClientid, op, status, cid, known, Detail::default());
        self.set_marked(idx, marked);
    }

    /// NFS4ERR_STALE_STATEID for `sid`.
    pub(super) fn stale_stateid(&mut self, op: &'static str, status: u32, sid: Option<Sid>) {
        let cid = sid.and_then(|s| self.owner_of(&s));
        let fh = sid.and_then(|s| {
            self.st.opens.get(&s.other).and_then(|o| o.fh.clone()).or_else(|| self.st.lock_stateids.get(&s.other).map(|l| l.fh.clone()))
        });
        let marked = match cid.filter(|c| self.st.clients.get(c).is_some_and(|c| !c.is_stale())) {
            Some(c) => {
                let ids = self.epoch_of(c);
                self.mark_old(&ids, EvidenceKind::StaleStateid)
            }
            None => 0,
        };
        let idx = self.evidence(EvidenceKind::StaleStateid, op, status, cid, cid.is_some(), Detail { fh, ..Detail::default() });
        self.set_marked(idx, marked);
    }

    /// NFS4ERR_BADSESSION for `sid` (a destroyed session is no restart evidence).
    pub(super) fn bad_session(&mut self, op: &'static str, status: u32, sid: Option<[u8; 16]>) {
        let s = sid.and_then(|s| self.st.sessions.get(&s));
        let known = s.is_some();
        let cid = s.map(|s| s.clientid);
        let live = s.is_some_and(|s| s.destroyed.is_none());
        let marked = match cid.filter(|c| live && self.st.clients.get(c).is_some_and(|c| !c.is_stale())) {
            Some(c) => {
                let ids = self.epoch_of(c);
                self.mark_old(&ids, EvidenceKind::BadSession)
            }
            None => 0,
        };
        if let Some(s) = sid.and_then(|s| self.st.sessions.get_mut(&s)).filter(|s| s.destroyed.is_none()) {
            s.stale_since.get_or_insert(self.at);
        }
        let idx = self.evidence(EvidenceKind::BadSession, op, status, cid, known, Detail::default());
        self.set_marked(idx, marked);
    }

    /// SEQ4_STATUS_RESTART_RECLAIM_NEEDED for the session's client `cid` (a client
    /// of the new epoch): clients of an earlier epoch go to the old epoch. Noted once
    /// per client (the flag repeats until the client's RECLAIM_COMPLETE).
    pub(super) fn restart_reclaim_needed(&mut self, op: &'static str, cid: Option<u64>) {
        // The flag comes with every SEQUENCE of a reclaim storm: look the client up in the
        // index of the evidence taken, not in the evidence list.
        if self.st.reclaim_needed_noted.contains(&cid) {
            return;
        }
        let ids: Vec<u64> = match cid.and_then(|c| self.st.clients.get(&c)) {
            Some(x) => {
                let (xid, created) = (x.clientid, x.created);
                let by_epoch = clientid_looks_epoch_based(xid);
                self.st
                    .clients
                    .values()
                    .filter(|c| !c.is_stale() && c.clientid != xid)
                    .filter(|c| {
                        if by_epoch && clientid_looks_epoch_based(c.clientid) {
                            clientid_epoch(c.clientid) != clientid_epoch(xid)
                        } else {
                            !before_or_at(created, c.last_renewal)
                        }
                    })
                    .map(|c| c.clientid)
                    .collect::<Ascending>()
                    .0
            }
            None => Vec::new(),
        };
        let marked = self.mark_old(&ids, EvidenceKind::RestartReclaimNeeded);
        let known = cid.is_some();
        let idx = self.evidence(EvidenceKind::RestartReclaimNeeded, op, 0, cid, known, Detail::default());
        if idx.is_some() {
            self.st.reclaim_needed_noted.insert(cid);
        }
        self.set_marked(idx, marked);
    }

    /// Client ids of the old epoch whose owner is `cid`'s owner.
    fn old_ids_of_owner(&self, cid: u64) -> Vec<u64> {
        let Some(owner) = self.st.client_owner(cid) else { return Vec::new() };
        let mut ids = self.st.ids_of_owner(owner);
        ids.retain(|id| self.st.clients.get(id).is_some_and(Nfs4Client::is_stale));
        ids
    }

    /// A reclaim OPEN by `cid` of `fh` succeeded: the old-epoch open of the same
    /// client owner on that file (the same open owner preferred) is taken over.
    pub(super) fn reclaim_open(&mut self, cid: u64, open_owner: &[u8], fh: Option<&[u8]>) -> bool {
        let Some(fh) = fh else { return false };
        let old = self.old_ids_of_owner(cid);
        let opens = &self.st.opens;
        let cands: Vec<([u8; 12], bool)> = self
            .st
            .stale_opens_by_fh
            .get(fh)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|k| opens.get(k).map(|o| (k, o)))
            .filter(|(_, o)| o.stale_since.is_some() && old.contains(&o.clientid) && o.fh.as_deref() == Some(fh))
            .map(|(k, o)| (*k, *o.open_owner == *open_owner))
            .collect();
        let take: Vec<[u8; 12]> = if cands.iter().any(|c| c.1) {
            cands.iter().filter(|c| c.1).map(|c| c.0).collect()
        } else {
            cands.first().map(|c| c.0).into_iter().collect()
        };
        for k in &take {
            if let Some(o) = self.st.opens.remove(k) {
                self.push(What::Nfs4Open(open_event(Nfs4EventKind::Reclaimed, &o)));
            }
        }
        if let Some(v) = self.st.stale_opens_by_fh.get_mut(fh) {
            let opens = &self.st.opens;
            v.retain(|k| opens.contains_key(k));
            if v.is_empty() {
                self.st.stale_opens_by_fh.remove(fh);
            }
        }
        !take.is_empty()
    }

    /// A delegation reclaimed by `cid` on `fh`: the old-epoch one is taken over.
    pub(super) fn reclaim_deleg(&mut self, cid: u64, fh: Option<&[u8]>) -> bool {
        let Some(fh) = fh else { return false };
        let old = self.old_ids_of_owner(cid);
        let take = sorted_keys(&self.st.delegations, |d| d.stale_since.is_some() && old.contains(&d.clientid) && d.fh.as_deref() == Some(fh));
        for k in &take {
            if let Some(d) = self.st.delegations.remove(k) {
                self.push(What::Nfs4Deleg(deleg_event(Nfs4EventKind::Reclaimed, &d)));
            }
        }
        !take.is_empty()
    }

    /// A reclaim LOCK by `owner` of `range` on `fh` succeeded: that range of the
    /// old-epoch locks of the same client owner on the file is taken over.
    pub(super) fn reclaim_lock(&mut self, owner: &Nfs4LockOwner, fh: &[u8], range: Range) -> bool {
        let old = self.old_ids_of_owner(owner.clientid);
        let mut owners: Vec<Nfs4LockOwner> = match self.st.locks.file(fh) {
            Some(f) => f.iter().filter(|h| h.meta.stale_since.is_some() && old.contains(&h.owner.clientid) && h.range.overlaps(&range)).map(|h| h.owner.clone()).collect(),
            None => Vec::new(),
        };
        owners.sort();
        owners.dedup();
        let mut found = false;
        for o in owners {
            for h in self.st.locks.unlock(fh, &o, range) {
                found = true;
                self.lock_gone(Nfs4EventKind::Reclaimed, fh, h);
            }
        }
        found
    }
}

impl Tracker {
    /// Drop the old-epoch NFSv4 state of `server` (its grace window is over); the
    /// journal notes each lock, open and delegation dropped at `at`.
    pub fn nfs4_drop_old(&mut self, server: IpAddr, at: FrameRef) -> DroppedOld {
        let Some(s) = self.servers.get_mut(&server) else { return DroppedOld::default() };
        let d = s.nfs4.drop_old();
        let why = Nfs4EventKind::Dropped(Nfs4Drop::OldEpochDropped);
        for o in &d.opens {
            self.journal.push(at, None, server, What::Nfs4Open(open_event(why, o)));
        }
        for x in &d.delegations {
            self.journal.push(at, None, server, What::Nfs4Deleg(deleg_event(why, x)));
        }
        for (fh, h) in &d.locks {
            let e = Nfs4LockEvent {
                kind: why,
                owner: h.owner.clone(),
                fh: fh.clone(),
                range: h.range,
                exclusive: h.exclusive,
                reclaim: h.meta.reclaim,
                stateid: Some(h.meta.stateid),
                minor: h.meta.minor,
            };
            self.journal.push(at, None, server, What::Nfs4Lock(e));
        }
        d
    }
}
