//! COMPOUND calls and replies → NFSv4 state changes.

use super::req::{COp, LockerReq, LockReq, Nfs4Call, OpenReq};
use super::failed::Detail;
use super::{EvidenceKind, Nfs4Deleg, Nfs4LockInfo, Nfs4LockOwner, Nfs4LockState, Nfs4Open, Nfs4State, Principal, Sid};
use crate::net::FrameRef;
use crate::proto::nfs4::open::OpenDelegation;
use crate::proto::nfs4::res::{FhRes, StateidRes};
use crate::proto::nfs4::session::{SetclientidRes, SEQ4_STATUS_RESTART_RECLAIM_NEEDED};
use crate::proto::nfs4::status::*;
use crate::proto::nfs4::{Compound, LockRes, OpRes, PROC_COMPOUND};
use crate::proto::ReplyBody;
use crate::rpc::matcher::CallKey;
use crate::rpc::{CallHeader, Message, ProcId};
use crate::state::journal::{Journal, Nfs4DelegEvent, Nfs4Drop, Nfs4EventKind, Nfs4LockEvent, Nfs4OpenEvent, What};
use crate::state::names::FhNames;
use crate::state::ranges::{Held, Range};
use crate::state::{copy, owned_part, Tracker};
use std::net::IpAddr;

/// OPEN4_RESULT_CONFIRM: the open owner must send OPEN_CONFIRM.
const OPEN4_RESULT_CONFIRM: u32 = 0x2;
/// EXCHGID4_FLAG_CONFIRMED_R: the client record was confirmed already.
const EXCHGID4_FLAG_CONFIRMED_R: u32 = 0x8000_0000;

/// Whether `id` is the NFSv4 program (not a callback).
pub fn is_nfs4(id: &ProcId) -> bool {
    !id.cb && id.prog == crate::proto::NFS && id.vers == 4
}

/// Results that only a kept call can explain: a reply carrying one whose call is not
/// remembered counts as a reply without its call.
fn needs_call(r: &OpRes<'_>) -> bool {
    use crate::proto::nfs4::ops::*;
    matches!(
        r.num(),
        OP_OPEN | OP_OPEN_CONFIRM | OP_OPEN_DOWNGRADE | OP_CLOSE | OP_LOCK | OP_LOCKU | OP_SETCLIENTID | OP_SETCLIENTID_CONFIRM | OP_EXCHANGE_ID | OP_CREATE_SESSION | OP_RECLAIM_COMPLETE
    )
}

fn join(dir: &str, name: &[u8]) -> String {
    let name = crate::xdr::lossy(name);
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The current (or saved) file handle while a COMPOUND is replayed.
/// Handles and names are borrowed from the call and the reply being applied.
#[derive(Debug, Clone, Default)]
pub(super) struct Cur<'c> {
    pub(super) fh: Option<&'c [u8]>,
    pub(super) path: Option<String>,
    /// The path was built from PUTROOTFH (so it is complete).
    rooted: bool,
    /// `path` is still to be looked up from `fh` (most COMPOUNDs never need it).
    lazy: bool,
    /// The directory handle and name that lead to the current object.
    parent: Option<(&'c [u8], &'c [u8])>,
}

impl<'c> Cur<'c> {
    fn child(&self, name: Option<&'c [u8]>) -> Cur<'c> {
        Cur {
            fh: None,
            path: name.and_then(|n| self.path.as_deref().map(|p| join(p, n))),
            rooted: self.rooted && name.is_some(),
            lazy: false,
            parent: name.and_then(|n| self.fh.map(|d| (d, n))),
        }
    }
}

/// One reply being applied to one server IP's state.
pub(super) struct Apply<'a, 'c> {
    pub(super) st: &'a mut Nfs4State,
    names: &'a mut FhNames,
    journal: &'a mut Journal,
    pub(super) server: IpAddr,
    pub(super) client_addr: IpAddr,
    pub(super) call: FrameRef,
    pub(super) at: FrameRef,
    pub(super) minor: u32,
    pub(super) principal: Option<Principal>,
    /// The client of the COMPOUND's session (SEQUENCE).
    pub(super) session_client: Option<u64>,
    pub(super) cur: Cur<'c>,
    saved: Cur<'c>,
    /// Clients whose lease the COMPOUND renewed.
    pub(super) renewed: Vec<u64>,
    pub(super) mismatch: bool,
}

impl Tracker {
    /// An NFSv4 call: keep what its reply will need.
    pub(crate) fn nfs4_call(&mut self, m: &Message<'_>, header: &CallHeader<'_>, c: &Compound<'_>, retransmit: bool) {
        if c.proc_ != PROC_COMPOUND {
            return;
        }
        let key = CallKey { client: m.src, server: m.dst, transport: m.transport, xid: m.xid };
        if retransmit && self.nfs4_pending.contains(&key) {
            return;
        }
        let Some(call) = Nfs4Call::new(m, c, &header.cred) else { return };
        if self.server_mut(m.dst.ip).is_none() {
            return;
        }
        self.nfs4_pending.insert(key, call);
    }

    /// An NFSv4 reply: apply it to the state of the server IP that sent it.
    pub(crate) fn nfs4_reply(&mut self, m: &Message<'_>, ok: bool, body: &ReplyBody<'_>) {
        let key = CallKey { client: m.dst, server: m.src, transport: m.transport, xid: m.xid };
        let Some(call) = self.nfs4_pending.remove(&key) else {
            if let ReplyBody::Nfs4(r) = body {
                if r.ops.iter().any(needs_call) {
                    self.nfs4_counters.replies_without_call += 1;
                }
            }
            return;
        };
        if !ok {
            self.nfs4_counters.rpc_errors += 1;
            return;
        }
        let ReplyBody::Nfs4(r) = body else {
            self.nfs4_counters.undecoded += 1;
            return;
        };
        let Tracker { servers, names, journal, .. } = self;
        let Some(sv) = servers.get_mut(&m.src.ip) else { return };
        let evidence_before = sv.nfs4.evidence.len();
        let renewed = std::mem::take(&mut sv.nfs4.renew_buf);
        let mut a = Apply {
            st: &mut sv.nfs4,
            names,
            journal,
            server: m.src.ip,
            client_addr: m.dst.ip,
            call: call.at,
            at: m.at,
            minor: call.minor,
            principal: call.principal,
            session_client: None,
            cur: Cur::default(),
            saved: Cur::default(),
            renewed,
            mismatch: false,
        };
        a.run(&call.ops, &r.ops);
        let (mismatch, new_evidence) = (a.mismatch, a.st.evidence.len() != evidence_before);
        if mismatch {
            self.nfs4_counters.op_mismatch += 1;
        }
        if new_evidence {
            self.nfs4_evidence_version += 1;
        }
    }
}

impl<'c> Apply<'_, 'c> {
    fn run(&mut self, ops: &'c [(u32, COp)], results: &'c [OpRes<'c>]) {
        for (i, res) in results.iter().enumerate() {
            let Some((num, op)) = ops.get(i) else { break };
            if res.num() != *num {
                self.mismatch = true;
                break;
            }
            let status = res.status();
            if !matches!(op, COp::Other | COp::PutFh(_) | COp::PutRootFh | COp::GetFh | COp::SaveFh | COp::RestoreFh | COp::Unknown { .. } | COp::Lookup(_) | COp::Stateful(_))
                || !status.is_ok()
            {
                // Statuses without a name are counted together, as the report names
                // them: a reply cannot make this table grow past the names.
                let named = if status.name().is_some() { status.0 } else { super::UNNAMED_STATUS };
                *self.st.answers.entry((*num, named)).or_insert(0) += 1;
            }
            if !status.is_ok() {
                self.failed(op, res, status.0);
                break;
            }
            self.ok(i, op, res, ops, results);
        }
        let mut renewed = std::mem::take(&mut self.renewed);
        renewed.sort_unstable();
        renewed.dedup();
        for cid in &renewed {
            if let Some(c) = self.st.clients.get_mut(cid) {
                c.renewals += 1;
                c.last_renewal = self.at;
            }
        }
        // The list's memory serves the next reply.
        renewed.clear();
        self.st.renew_buf = renewed;
    }

    /// Look up the current handle's path if it is still owed.
    fn cur_path(&mut self) {
        if std::mem::take(&mut self.cur.lazy) {
            self.cur.path = self.cur.fh.as_deref().and_then(|fh| self.names.path(fh));
        }
    }

    pub(super) fn push(&mut self, what: What) {
        self.journal.push(self.at, Some(self.call), self.server, what);
    }

    /// The handle a by-name OPEN at index `i` resolved to: the next GETFH's result
    /// before anything else changes the current handle.
    fn handle_after(i: usize, ops: &[(u32, COp)], results: &[OpRes<'_>]) -> Option<Vec<u8>> {
        for j in i + 1..results.len().min(ops.len()) {
            match (&ops[j].1, &results[j]) {
                (COp::GetFh, OpRes::Getfh(FhRes { fh })) => return Some(copy(fh.0 .0)),
                (COp::PutFh(_) | COp::PutRootFh | COp::Lookup(_) | COp::RestoreFh | COp::Open(_) | COp::Unknown { .. }, _) => return None,
                _ => {}
            }
        }
        None
    }

    /// The current handle, owned.
    pub(super) fn cur_fh(&self) -> Option<Vec<u8>> {
        self.cur.fh.map(<[u8]>::to_vec)
    }

    fn ok(&mut self, i: usize, op: &'c COp, res: &'c OpRes<'c>, ops: &'c [(u32, COp)], results: &'c [OpRes<'c>]) {
        match op {
            COp::PutFh(fh) => self.cur = Cur { fh: Some(fh), path: None, rooted: false, lazy: true, parent: None },
            COp::PutRootFh => self.cur = Cur { fh: None, path: Some("/".into()), rooted: true, lazy: false, parent: None },
            COp::GetFh => {
                if let OpRes::Getfh(FhRes { fh }) = res {
                    let fh = owned_part(fh.0 .0);
                    match (&self.cur.parent, &self.cur.path) {
                        (Some((dir, name)), _) => self.names.child(dir, name, fh),
                        (None, Some(p)) if self.cur.rooted && self.cur.fh.is_none() => self.names.root(fh, p.as_bytes()),
                        _ => {}
                    }
                    self.cur.fh = Some(fh);
                    self.cur.parent = None;
                }
            }
            COp::Lookup(name) => {
                self.cur_path();
                self.cur = self.cur.child(Some(name));
            }
            COp::SaveFh => self.saved = self.cur.clone(),
            COp::RestoreFh => self.cur = self.saved.clone(),
            COp::Unknown { name } => {
                self.cur_path();
                self.cur = self.cur.child(name.as_deref());
            }
            COp::Open(o) => {
                if let OpRes::Open(r) = res {
                    let fh = if o.by_name() { Self::handle_after(i, ops, results) } else { self.cur_fh() };
                    let sid = Sid::from_wire(&r.stateid);
                    let deleg = match &r.delegation {
                        OpenDelegation::Read { stateid, .. } => Some((Sid::from_wire(stateid), false)),
                        OpenDelegation::Write { stateid, .. } => Some((Sid::from_wire(stateid), true)),
                        _ => None,
                    };
                    self.opened(o, sid, fh, r.rflags & OPEN4_RESULT_CONFIRM != 0, deleg);
                }
            }
            COp::OpenConfirm(s) => {
                if let OpRes::OpenConfirm(StateidRes { stateid }) = res {
                    let cur = self.cur_fh();
                    match self.st.opens.get_mut(&s.other) {
                        Some(o) => {
                            o.stateid = Sid::from_wire(stateid);
                            o.unconfirmed = false;
                            if o.fh.is_none() {
                                o.fh = cur;
                            }
                            let cid = o.clientid;
                            self.renew(cid);
                        }
                        None => self.st.counters.unknown_stateids += 1,
                    }
                }
            }
            COp::OpenDowngrade { stateid, access, deny } => {
                if let OpRes::OpenDowngrade(StateidRes { stateid: new }) = res {
                    let Some(o) = self.st.opens.get_mut(&stateid.other) else {
                        self.st.counters.unknown_stateids += 1;
                        return;
                    };
                    o.stateid = Sid::from_wire(new);
                    o.share_access = *access;
                    o.share_deny = *deny;
                    let e = open_event(Nfs4EventKind::Downgraded, o);
                    let cid = o.clientid;
                    self.push(What::Nfs4Open(e));
                    self.renew(cid);
                }
            }
            COp::Close(s) => self.close(s),
            COp::Lock(l) => {
                if let OpRes::Lock(LockRes::Ok(ok)) = res {
                    self.locked(l, Sid::from_wire(&ok.lock_stateid));
                }
            }
            COp::Lockt { clientid } => {
                let cid = self.session_client.unwrap_or(*clientid);
                self.renew(cid);
            }
            COp::Locku { stateid, range } => {
                if let OpRes::Locku(StateidRes { stateid: new }) = res {
                    self.unlocked(stateid, Sid::from_wire(new), *range);
                }
            }
            COp::ReleaseLockowner { clientid, owner } => {
                let o = Nfs4LockOwner { clientid: *clientid, owner: owner.clone() };
                for (fh, h) in self.st.release_lock_owner(&o) {
                    self.lock_gone(Nfs4EventKind::Dropped(Nfs4Drop::ReleaseLockowner), &fh, h);
                }
                self.renew(*clientid);
            }
            COp::FreeStateid(s) => self.free_stateid(s),
            COp::Delegreturn(s) => {
                if let Some(d) = self.st.delegations.remove(&s.other) {
                    self.push(What::Nfs4Deleg(deleg_event(Nfs4EventKind::Released, &d)));
                    self.renew(d.clientid);
                }
            }
            COp::Renew(cid) => self.renew(*cid),
            COp::Setclientid { verifier, id, cb_program } => {
                if let OpRes::Setclientid(SetclientidRes::Ok { clientid, .. }) = res {
                    self.fresh_clientid(*clientid, id, verifier, Some(*cb_program), false);
                }
            }
            COp::SetclientidConfirm(cid) => self.confirm(*cid),
            COp::ExchangeId { verifier, owner } => {
                if let OpRes::ExchangeId(r) = res {
                    self.fresh_clientid(r.clientid, owner, verifier, None, r.flags & EXCHGID4_FLAG_CONFIRMED_R != 0);
                }
            }
            COp::CreateSession { clientid, cb_program } => {
                if let OpRes::CreateSession(r) = res {
                    let sessionid = <[u8; 16]>::try_from(r.sessionid.0).unwrap_or_default();
                    self.new_session(sessionid, *clientid, *cb_program);
                    if let Some(c) = self.st.clients.get_mut(clientid) {
                        c.cb_program = Some(*cb_program);
                    }
                    self.confirm(*clientid);
                }
            }
            COp::DestroySession(sid) => {
                if let Some(s) = self.st.sessions.get_mut(sid) {
                    s.destroyed = Some(self.at);
                }
            }
            COp::DestroyClientid(cid) => self.remove_client(*cid),
            COp::Sequence(sid) => {
                match self.st.sessions.get(sid) {
                    Some(s) => {
                        let cid = s.clientid;
                        self.session_client = Some(cid);
                        self.renew(cid);
                    }
                    None => self.st.counters.unknown_sessions += 1,
                }
                if let OpRes::Sequence(r) = res {
                    if r.status_flags & SEQ4_STATUS_RESTART_RECLAIM_NEEDED != 0 {
                        let cid = self.session_client;
                        self.restart_reclaim_needed(res.name(), cid);
                    }
                }
            }
            COp::BindConn(_) => {}
            COp::ReclaimComplete => {
                let cid = self.session_client;
                if let Some(c) = cid.and_then(|c| self.st.clients.get_mut(&c)) {
                    c.reclaim_complete.get_or_insert(self.at);
                }
                self.evidence(EvidenceKind::ReclaimComplete, res.name(), NFS4_OK, cid, true, Detail::default());
            }
            COp::Stateful(s) => {
                if let Some(cid) = self.owner_of(s) {
                    self.renew(cid);
                }
            }
            COp::Other => {}
        }
    }


    fn room_for_stateid(&mut self) -> bool {
        if self.st.stateid_count() >= self.st.limits().stateids {
            self.st.counters.stateids_refused += 1;
            return false;
        }
        true
    }

    fn opened(&mut self, o: &'c OpenReq, sid: Sid, fh: Option<Vec<u8>>, needs_confirm: bool, deleg: Option<(Sid, bool)>) {
        let cid = self.session_client.unwrap_or(o.clientid);
        self.renew(cid);
        self.cur_path();
        let path = match &o.name {
            Some(n) => self.cur.path.as_deref().map(|p| join(p, n)),
            None => self.cur.path.clone(),
        };
        if o.by_name() {
            // The current handle is now the opened file (a GETFH may tell which).
            self.cur = self.cur.child(o.name.as_deref());
        }
        if let Some(open) = self.st.opens.get_mut(&sid.other) {
            // The same open owner opened the file again: an upgrade.
            open.stateid = sid;
            open.share_access |= o.access;
            open.share_deny |= o.deny;
            open.unconfirmed |= needs_confirm;
            if open.fh.is_none() {
                open.fh = fh.clone();
            }
            let e = open_event(Nfs4EventKind::Granted, open);
            self.push(What::Nfs4Open(e));
        } else if self.room_for_stateid() {
            let open = Nfs4Open {
                stateid: sid,
                clientid: cid,
                open_owner: o.owner.clone(),
                fh: fh.clone(),
                path,
                share_access: o.access,
                share_deny: o.deny,
                claim: o.claim,
                reclaim: o.reclaim,
                unconfirmed: needs_confirm,
                minor: self.minor,
                call: self.call,
                granted: self.at,
                stale_since: None,
            };
            self.push(What::Nfs4Open(open_event(Nfs4EventKind::Granted, &open)));
            self.st.opens.insert(sid.other, open);
        }
        let mut deleg_found = false;
        if let Some((d, write)) = deleg {
            if self.room_for_stateid() {
                let d = Nfs4Deleg { stateid: d, clientid: cid, fh: fh.clone(), write, reclaim: o.reclaim, call: self.call, granted: self.at, stale_since: None };
                self.push(What::Nfs4Deleg(deleg_event(Nfs4EventKind::Granted, &d)));
                self.st.delegations.insert(d.stateid.other, d);
            }
        }
        if o.reclaim {
            let found = self.reclaim_open(cid, &o.owner, fh.as_deref());
            if deleg.is_some() {
                deleg_found = self.reclaim_deleg(cid, fh.as_deref());
            }
            let detail = Detail { reclaim: true, fh, claim: Some(o.claim), ..Detail::default() };
            self.evidence(EvidenceKind::ReclaimGranted, "OPEN", NFS4_OK, Some(cid), found || deleg_found, detail);
        }
    }

    fn close(&mut self, s: &Sid) {
        let Some(o) = self.st.opens.remove(&s.other) else {
            self.st.counters.unknown_stateids += 1;
            return;
        };
        self.push(What::Nfs4Open(open_event(Nfs4EventKind::Released, &o)));
        self.renew(o.clientid);
        // Lock stateids of this open that hold nothing go with it.
        let Some(derived) = self.st.locks_by_open.remove(&s.other) else { return };
        for other in derived {
            let Some(l) = self.st.lock_stateids.get(&other) else { continue };
            let holds = self.st.locks.file(&l.fh).is_some_and(|f| f.of(&l.owner).iter().any(|h| h.meta.stateid == other));
            if l.open == Some(s.other) && !holds {
                self.st.lock_stateids.remove(&other);
            }
        }
    }

    fn locked(&mut self, l: &LockReq, new: Sid) {
        let (owner, fh, open) = match &l.locker {
            LockerReq::New { open, clientid, owner } => {
                let o = Nfs4LockOwner { clientid: self.session_client.unwrap_or(*clientid), owner: owner.clone() };
                let fh = self.cur_fh().or_else(|| self.st.opens.get(&open.other).and_then(|x| x.fh.clone()));
                (o, fh, Some(open.other))
            }
            LockerReq::Existing(s) => match self.st.lock_stateids.get(&s.other) {
                Some(ls) => (ls.owner.clone(), self.cur_fh().or_else(|| Some(ls.fh.clone())), ls.open),
                None => {
                    self.st.counters.unknown_stateids += 1;
                    let o = Nfs4LockOwner { clientid: self.session_client.unwrap_or(0), owner: s.other.as_slice().into() };
                    (o, self.cur_fh(), None)
                }
            },
        };
        self.renew(owner.clientid);
        let (Some(fh), Some(range)) = (fh, l.range) else {
            self.st.counters.no_fh += 1;
            return;
        };
        match self.st.lock_stateids.get_mut(&new.other) {
            Some(ls) => ls.stateid = new,
            None => {
                if self.room_for_stateid() {
                    let ls = Nfs4LockState { stateid: new, owner: owner.clone(), fh: fh.clone(), open, stale_since: None };
                    self.st.lock_stateids.insert(new.other, ls);
                    self.st.index_lock_stateid(&owner, new.other);
                    if let Some(o) = open {
                        let opens = &self.st.opens;
                        if self.st.locks_by_open.len() > 2 * opens.len() + 1024 {
                            self.st.locks_by_open.retain(|o, _| opens.contains_key(o));
                        }
                        self.st.locks_by_open.entry(o).or_default().push(new.other);
                    }
                }
            }
        }
        let meta = Nfs4LockInfo { stateid: new.other, call: self.call, granted: self.at, reclaim: l.reclaim, locktype: l.locktype, minor: self.minor, stale_since: None };
        let exclusive = l.exclusive();
        if !self.st.locks.lock(&fh, owner.clone(), exclusive, range, meta) {
            return;
        }
        self.st.index_lock(&owner, &fh);
        let e = Nfs4LockEvent { kind: Nfs4EventKind::Granted, owner: owner.clone(), fh: fh.clone(), range, exclusive, reclaim: l.reclaim, stateid: Some(new.other), minor: self.minor };
        self.push(What::Nfs4Lock(e));
        if l.reclaim {
            let found = self.reclaim_lock(&owner, &fh, range);
            let detail = Detail { reclaim: true, fh: Some(fh), range: Some(range), exclusive: Some(exclusive), claim: None };
            self.evidence(EvidenceKind::ReclaimGranted, "LOCK", NFS4_OK, Some(owner.clientid), found, detail);
        }
    }

    fn unlocked(&mut self, s: &Sid, new: Sid, range: Option<Range>) {
        let Some(ls) = self.st.lock_stateids.get_mut(&s.other) else {
            self.st.counters.unknown_stateids += 1;
            return;
        };
        ls.stateid = new;
        let (owner, fh) = (ls.owner.clone(), ls.fh.clone());
        self.renew(owner.clientid);
        let Some(range) = range else { return };
        for h in self.st.locks.unlock(&fh, &owner, range) {
            self.lock_gone(Nfs4EventKind::Released, &fh, h);
        }
    }

    fn free_stateid(&mut self, s: &Sid) {
        let why = Nfs4EventKind::Dropped(Nfs4Drop::FreeStateid);
        if let Some(ls) = self.st.lock_stateids.remove(&s.other) {
            let pieces: Vec<Range> = self.st.locks.file(&ls.fh).map_or(Vec::new(), |f| f.of(&ls.owner).iter().filter(|h| h.meta.stateid == s.other).map(|h| h.range).collect());
            for r in pieces {
                for h in self.st.locks.unlock(&ls.fh, &ls.owner, r) {
                    self.lock_gone(why, &ls.fh, h);
                }
            }
        } else if let Some(o) = self.st.opens.remove(&s.other) {
            self.push(What::Nfs4Open(open_event(why, &o)));
        } else if let Some(d) = self.st.delegations.remove(&s.other) {
            self.push(What::Nfs4Deleg(deleg_event(why, &d)));
        }
    }

    pub(super) fn lock_gone(&mut self, kind: Nfs4EventKind, fh: &[u8], h: Held<Nfs4LockOwner, Nfs4LockInfo>) {
        let e = Nfs4LockEvent {
            kind,
            owner: h.owner,
            fh: fh.to_vec(),
            range: h.range,
            exclusive: h.exclusive,
            reclaim: h.meta.reclaim,
            stateid: Some(h.meta.stateid),
            minor: h.meta.minor,
        };
        self.push(What::Nfs4Lock(e));
    }

}


pub(super) fn open_event(kind: Nfs4EventKind, o: &Nfs4Open) -> Nfs4OpenEvent {
    Nfs4OpenEvent {
        kind,
        clientid: o.clientid,
        open_owner: o.open_owner.clone(),
        fh: o.fh.clone(),
        stateid: Some(o.stateid.other),
        share_access: o.share_access,
        share_deny: o.share_deny,
        claim: o.claim,
        reclaim: o.reclaim,
    }
}

pub(super) fn deleg_event(kind: Nfs4EventKind, d: &Nfs4Deleg) -> Nfs4DelegEvent {
    Nfs4DelegEvent { kind, clientid: d.clientid, fh: d.fh.clone(), stateid: d.stateid.other, write: d.write, reclaim: d.reclaim }
}
