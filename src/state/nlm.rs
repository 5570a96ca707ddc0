//! NLM state: byte-range locks, blocked waiters and DOS share reservations per server IP.
//!
//! State changes only when the server's answer is seen:
//! - synchronous procedures: the RPC reply (matched by xid);
//! - `*_MSG` procedures: the `*_RES` call that answers them (matched by cookie and the
//!   two addresses); the `*_RES` call is taken as the answer without waiting for its own
//!   void reply;
//! - blocked locks: the server's GRANTED callback (or GRANTED_MSG) makes the lock held
//!   once the client accepts it (GRANTED reply or GRANTED_RES with status GRANTED). The
//!   lock's call frame is then the callback and its granted frame the acceptance. A
//!   client that turns the callback down (any status but GRANTED or
//!   DENIED_GRACE_PERIOD, after which the server tries again) no longer waits.
//! - FREE_ALL and the statd callback (procedure 16): their void reply.

use super::journal::{released, DropReason, LockEvent, LockEventKind, ShareEvent, ShareEventKind, What};
use super::ranges::{Held, LockTable, Range};
use super::{copy, shared_copy, shared_text, text, AsyncKey, Pend, PendingCall, Tracker};
use crate::net::{sorted, FrameRef, Ts};
use crate::proto::nlm::{self, NlmStat};
use crate::rpc::Message;
use std::net::IpAddr;

/// Who owns an NLM lock: the client's address and name, and its owner handle and svid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NlmOwner {
    /// The address the client sent its requests from.
    pub client: IpAddr,
    pub caller_name: std::sync::Arc<str>,
    pub oh: std::sync::Arc<[u8]>,
    pub svid: i32,
}

impl NlmOwner {
    /// Whether this owner belongs to the host `name` (a caller name, or an address),
    /// or to the address `ip`.
    pub fn is_host(&self, name: &str, ip: Option<IpAddr>) -> bool {
        host_matches(self.client, &self.caller_name, name, ip)
    }
}

fn host_matches(client: IpAddr, caller_name: &str, name: &str, ip: Option<IpAddr>) -> bool {
    (!name.is_empty() && caller_name.eq_ignore_ascii_case(name))
        || name.parse::<IpAddr>().ok() == Some(client)
        || ip == Some(client)
}

/// How a lock came to be held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The synchronous reply to LOCK / NM_LOCK.
    Reply,
    /// A GRANTED or GRANTED_MSG callback for a blocked lock, accepted by the client.
    Callback,
    /// LOCK_RES answering LOCK_MSG.
    AsyncRes,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Reply => "reply",
            Via::Callback => "callback",
            Via::AsyncRes => "lock_res",
        }
    }
}

/// What is kept with each held lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockInfo {
    /// The request (LOCK, LOCK_MSG, or the server's GRANTED callback).
    pub call: FrameRef,
    /// The answer that made it held.
    pub granted: FrameRef,
    pub reclaim: bool,
    pub via: Via,
    /// NLM version.
    pub vers: u32,
}

/// The arguments of a lock-style request, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockReq {
    pub owner: NlmOwner,
    pub fh: Vec<u8>,
    pub range: Range,
    pub exclusive: bool,
    pub reclaim: bool,
    pub block: bool,
    /// The client's NSM state number (LOCK-style arguments).
    pub state: Option<i32>,
    pub vers: u32,
}

impl LockReq {
    fn new(l: &nlm::Lock<'_>, client: IpAddr, exclusive: bool, vers: u32) -> LockReq {
        LockReq {
            owner: NlmOwner { client, caller_name: shared_text(l.caller_name), oh: shared_copy(l.oh.0), svid: l.svid },
            fh: copy(l.fh.0),
            range: Range::from_offset_len(l.offset, l.len),
            exclusive,
            reclaim: false,
            block: false,
            state: None,
            vers,
        }
    }

    fn lock_args(a: &nlm::LockArgs<'_>, client: IpAddr, vers: u32) -> LockReq {
        LockReq { reclaim: a.reclaim, block: a.block, state: Some(a.state), ..LockReq::new(&a.lock, client, a.exclusive, vers) }
    }

    fn same_lock(&self, w: &Waiter) -> bool {
        w.owner == self.owner && w.fh == self.fh && w.range == self.range
    }
}

/// SHARE / UNSHARE arguments, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareReq {
    pub client: IpAddr,
    pub caller_name: String,
    pub oh: Vec<u8>,
    pub fh: Vec<u8>,
    pub mode: u32,
    pub access: u32,
    pub reclaim: bool,
}

impl ShareReq {
    fn new(a: &nlm::ShareArgs<'_>, client: IpAddr) -> ShareReq {
        let s = &a.share;
        ShareReq {
            client,
            caller_name: text(s.caller_name),
            oh: copy(s.oh.0),
            fh: copy(s.fh.0),
            mode: s.mode,
            access: s.access,
            reclaim: a.reclaim,
        }
    }
}

/// An NLM request awaiting its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NlmReq {
    Test(LockReq),
    Lock(LockReq),
    NmLock(LockReq),
    Cancel(LockReq),
    Unlock(LockReq),
    /// The server's callback for a blocked lock (GRANTED or GRANTED_MSG).
    Granted(LockReq),
    Share(ShareReq),
    Unshare(ShareReq),
    FreeAll { name: String, state: i32 },
    /// Procedure 16: statd reports that `mon_name` rebooted.
    SmNotify { mon_name: String, state: i32 },
}

impl NlmReq {
    /// The synchronous procedure's name.
    pub fn proc_name(&self) -> &'static str {
        match self {
            NlmReq::Test(_) => "TEST",
            NlmReq::Lock(_) => "LOCK",
            NlmReq::NmLock(_) => "NM_LOCK",
            NlmReq::Cancel(_) => "CANCEL",
            NlmReq::Unlock(_) => "UNLOCK",
            NlmReq::Granted(_) => "GRANTED",
            NlmReq::Share(_) => "SHARE",
            NlmReq::Unshare(_) => "UNSHARE",
            NlmReq::FreeAll { .. } => "FREE_ALL",
            NlmReq::SmNotify { .. } => "SM_NOTIFY",
        }
    }

    pub fn lock(&self) -> Option<&LockReq> {
        match self {
            NlmReq::Test(r) | NlmReq::Lock(r) | NlmReq::NmLock(r) | NlmReq::Cancel(r) | NlmReq::Unlock(r) | NlmReq::Granted(r) => Some(r),
            _ => None,
        }
    }

    pub fn share(&self) -> Option<&ShareReq> {
        match self {
            NlmReq::Share(s) | NlmReq::Unshare(s) => Some(s),
            _ => None,
        }
    }
}

/// A lock request the server answered BLOCKED, waiting for the GRANTED callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiter {
    pub owner: NlmOwner,
    pub fh: Vec<u8>,
    pub range: Range,
    pub exclusive: bool,
    pub reclaim: bool,
    pub call: FrameRef,
    pub blocked: FrameRef,
}

/// A granted DOS share reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareHeld {
    pub client: IpAddr,
    pub caller_name: String,
    pub oh: Vec<u8>,
    pub fh: Vec<u8>,
    pub mode: u32,
    pub access: u32,
    pub reclaim: bool,
    pub call: FrameRef,
    pub granted: FrameRef,
}

/// NLM state of one server IP.
#[derive(Debug, Clone)]
pub struct NlmState {
    pub locks: LockTable<NlmOwner, LockInfo>,
    pub waiters: Vec<Waiter>,
    pub shares: Vec<ShareHeld>,
    /// Answers seen, by (procedure, status): `("LOCK", "DENIED_GRACE_PERIOD") → 3`.
    /// FREE_ALL and procedure 16 have a void answer, counted as status "void".
    pub answers: super::Tally,
}

impl NlmState {
    pub fn new(lock_cap: usize) -> Self {
        NlmState { locks: LockTable::new(lock_cap), waiters: Vec::new(), shares: Vec::new(), answers: super::Tally::default() }
    }
}

impl Tracker {
    /// An NLM call: remember it until its answer, or apply a `*_RES` answer.
    pub(super) fn nlm_call(&mut self, m: &Message<'_>, vers: u32, proc_name: &'static str, c: &nlm::Call<'_>, retransmit: bool) {
        use nlm::Call as C;
        let (src, dst) = (m.src.ip, m.dst.ip);
        let req = match c {
            C::Test(a) => NlmReq::Test(LockReq::new(&a.lock, src, a.exclusive, vers)),
            C::Lock(a) => NlmReq::Lock(LockReq::lock_args(a, src, vers)),
            C::NmLock(a) => NlmReq::NmLock(LockReq::lock_args(a, src, vers)),
            C::Cancel(a) => NlmReq::Cancel(LockReq { block: a.block, ..LockReq::new(&a.lock, src, a.exclusive, vers) }),
            C::Unlock(a) => NlmReq::Unlock(LockReq::new(&a.lock, src, false, vers)),
            // Callback: the server calls the client.
            C::Granted(a) => NlmReq::Granted(LockReq::new(&a.lock, dst, a.exclusive, vers)),
            C::Share(a) => NlmReq::Share(ShareReq::new(a, src)),
            C::Unshare(a) => NlmReq::Unshare(ShareReq::new(a, src)),
            C::FreeAll(a) => NlmReq::FreeAll { name: text(a.name), state: a.state },
            C::SmNotify(a) => NlmReq::SmNotify { mon_name: text(a.mon_name), state: a.state },
            C::TestMsg(a) | C::GrantedMsg(a) => {
                let granted = matches!(c, C::GrantedMsg(_));
                let (server, client) = if granted { (src, dst) } else { (dst, src) };
                let l = LockReq::new(&a.lock, client, a.exclusive, vers);
                let req = if granted { NlmReq::Granted(l) } else { NlmReq::Test(l) };
                let sync = if granted { 5 } else { 1 };
                self.remember_async(m, AsyncKey { server, client, sync, cookie: copy(a.cookie.0) }, proc_name, req, retransmit);
                return;
            }
            C::LockMsg(a) => {
                let key = AsyncKey { server: dst, client: src, sync: 2, cookie: copy(a.cookie.0) };
                self.note_host_state(&text(a.lock.caller_name), a.state, super::StateSource::NlmArgs, m);
                self.remember_async(m, key, proc_name, NlmReq::Lock(LockReq::lock_args(a, src, vers)), retransmit);
                return;
            }
            C::CancelMsg(a) => {
                let key = AsyncKey { server: dst, client: src, sync: 3, cookie: copy(a.cookie.0) };
                let req = NlmReq::Cancel(LockReq { block: a.block, ..LockReq::new(&a.lock, src, a.exclusive, vers) });
                self.remember_async(m, key, proc_name, req, retransmit);
                return;
            }
            C::UnlockMsg(a) => {
                let key = AsyncKey { server: dst, client: src, sync: 4, cookie: copy(a.cookie.0) };
                self.remember_async(m, key, proc_name, NlmReq::Unlock(LockReq::new(&a.lock, src, false, vers)), retransmit);
                return;
            }
            C::TestRes(_) | C::LockRes(_) | C::CancelRes(_) | C::UnlockRes(_) | C::GrantedRes(_) => {
                self.nlm_res(m, c, retransmit);
                return;
            }
            C::Null | C::Unknown { .. } => return,
        };
        match &req {
            NlmReq::Lock(r) | NlmReq::NmLock(r) => {
                if let Some(s) = r.state {
                    self.note_host_state(&r.owner.caller_name, s, super::StateSource::NlmArgs, m);
                }
            }
            NlmReq::FreeAll { name, state } => self.note_host_state(name, *state, super::StateSource::FreeAll, m),
            NlmReq::SmNotify { mon_name, state } => {
                self.note_host_state(mon_name, *state, super::StateSource::StatdCallback, m)
            }
            _ => {}
        }
        let server = if matches!(req, NlmReq::Granted(_)) { src } else { dst };
        self.remember(m, server, proc_name, Pend::Nlm(req), retransmit);
    }

    fn remember_async(&mut self, m: &Message<'_>, key: AsyncKey, proc_name: &'static str, req: NlmReq, retransmit: bool) {
        if retransmit && self.asyncs.contains(&key) {
            return;
        }
        let server = key.server;
        if self.server_mut(server).is_none() {
            return;
        }
        let p = PendingCall { at: m.at, caller: m.src, callee: m.dst, transport: m.transport, lock_server: server, proc_name, what: Pend::Nlm(req) };
        self.asyncs.insert(key, p);
    }

    /// A `*_RES` call: the answer to an earlier `*_MSG` call with the same cookie.
    fn nlm_res(&mut self, m: &Message<'_>, c: &nlm::Call<'_>, retransmit: bool) {
        let (Some(sync), Some(cookie), Some(stat)) = (c.sync_proc(), c.cookie(), c.stat()) else { return };
        // GRANTED_RES goes from client to server; the others from server to client.
        let (server, client) = if sync == 5 { (m.dst.ip, m.src.ip) } else { (m.src.ip, m.dst.ip) };
        let key = AsyncKey { server, client, sync, cookie: copy(cookie.0) };
        let Some(p) = self.asyncs.remove(&key) else {
            if !retransmit {
                self.counters.res_unmatched += 1;
            }
            return;
        };
        if let Pend::Nlm(req) = p.what {
            self.nlm_outcome(server, req, Some(stat), p.at, m.at, Via::AsyncRes);
        }
    }

    /// Apply the server's answer `stat` (`None` for a void answer) to request `req`.
    pub(super) fn nlm_outcome(&mut self, server: IpAddr, req: NlmReq, stat: Option<NlmStat>, call: FrameRef, at: FrameRef, via: Via) {
        let Some(st) = self.server_mut(server) else { return };
        st.nlm.answers.add(req.proc_name(), stat.map_or("void", NlmStat::name));
        let granted = stat == Some(NlmStat::Granted);
        match req {
            NlmReq::Test(_) => {}
            NlmReq::Lock(r) | NlmReq::NmLock(r) => match stat {
                Some(NlmStat::Granted) => self.grant(server, r, call, at, via),
                Some(NlmStat::Blocked) if r.block => self.block(server, r, call, at),
                Some(s) => self.lock_event(at, call, server, r, LockEventKind::Refused(s)),
                None => {}
            },
            NlmReq::Granted(r) => match stat {
                Some(NlmStat::Granted) => {
                    let server = self.waiting_at(server, &r);
                    self.grant(server, r, call, at, Via::Callback)
                }
                // The client is in its own grace period: the server will try again.
                Some(NlmStat::DeniedGracePeriod) | None => {}
                Some(_) => self.unwait(server, &r, call, at),
            },
            NlmReq::Cancel(r) if granted => self.unwait(server, &r, call, at),
            NlmReq::Unlock(r) if granted => self.unlock(server, r, call, at),
            NlmReq::Share(s) => self.share(server, s, stat, call, at),
            NlmReq::Unshare(s) if granted => self.unshare(server, s, call, at),
            NlmReq::FreeAll { name, .. } => self.drop_host(&[server], &name, None, DropReason::FreeAll, call, at),
            NlmReq::SmNotify { mon_name, .. } => {
                // statd talks to the lock manager over loopback, which says nothing about
                // which server address lost the host's locks: then all of them did.
                let servers: Vec<IpAddr> = if server.is_loopback() { sorted(&self.servers).into_iter().map(|(ip, _)| *ip).collect() } else { vec![server] };
                self.drop_host(&servers, &mon_name, None, DropReason::StatdCallback, call, at);
            }
            NlmReq::Cancel(_) | NlmReq::Unlock(_) | NlmReq::Unshare(_) => {}
        }
    }

    /// The server IP a callback's lock belongs to: the one where the client waits for
    /// it (a server may call back from another of its addresses), else the caller's.
    fn waiting_at(&self, caller: IpAddr, r: &LockReq) -> IpAddr {
        let waits = |ip: &IpAddr| self.servers.get(ip).is_some_and(|s| s.nlm.waiters.iter().any(|w| r.same_lock(w)));
        if waits(&caller) {
            return caller;
        }
        self.servers.keys().copied().filter(waits).min().unwrap_or(caller)
    }

    fn lock_event(&mut self, at: FrameRef, call: FrameRef, server: IpAddr, r: LockReq, kind: LockEventKind) {
        let e = LockEvent {
            kind,
            owner: r.owner,
            fh: r.fh,
            range: r.range,
            exclusive: r.exclusive,
            reclaim: r.reclaim,
            vers: r.vers,
        };
        self.journal.push(at, Some(call), server, What::NlmLock(e));
    }

    fn grant(&mut self, server: IpAddr, r: LockReq, call: FrameRef, at: FrameRef, via: Via) {
        let Some(st) = self.servers.get_mut(&server) else { return };
        let info = LockInfo { call, granted: at, reclaim: r.reclaim, via, vers: r.vers };
        st.nlm.locks.lock(&r.fh, r.owner.clone(), r.exclusive, r.range, info);
        st.nlm.waiters.retain(|w| !r.same_lock(w));
        self.lock_event(at, call, server, r, LockEventKind::Granted(via));
    }

    fn block(&mut self, server: IpAddr, r: LockReq, call: FrameRef, at: FrameRef) {
        let cap = self.cfg.waiters_cap;
        let Some(st) = self.servers.get_mut(&server) else { return };
        st.nlm.waiters.retain(|w| !r.same_lock(w));
        if st.nlm.waiters.len() >= cap {
            self.counters.waiters_refused += 1;
            return;
        }
        st.nlm.waiters.push(Waiter {
            owner: r.owner.clone(),
            fh: r.fh.clone(),
            range: r.range,
            exclusive: r.exclusive,
            reclaim: r.reclaim,
            call,
            blocked: at,
        });
        self.lock_event(at, call, server, r, LockEventKind::Blocked);
    }

    /// The waiter for this lock goes away.
    fn unwait(&mut self, server: IpAddr, r: &LockReq, call: FrameRef, at: FrameRef) {
        let Some(st) = self.servers.get_mut(&server) else { return };
        let before = st.nlm.waiters.len();
        st.nlm.waiters.retain(|w| !r.same_lock(w));
        if st.nlm.waiters.len() < before {
            self.lock_event(at, call, server, r.clone(), LockEventKind::Cancelled);
        }
    }

    fn unlock(&mut self, server: IpAddr, r: LockReq, call: FrameRef, at: FrameRef) {
        let Some(st) = self.servers.get_mut(&server) else { return };
        let gone = st.nlm.locks.unlock(&r.fh, &r.owner, r.range);
        // An unlock also cancels the owner's blocked requests on that range.
        st.nlm.waiters.retain(|w| !(w.owner == r.owner && w.fh == r.fh && w.range.overlaps(&r.range)));
        for w in released(LockEventKind::Unlocked, &r.fh, gone) {
            self.journal.push(at, Some(call), server, w);
        }
    }

    fn share_event(&mut self, at: FrameRef, call: FrameRef, server: IpAddr, s: &ShareReq, kind: ShareEventKind) {
        let e = ShareEvent {
            kind,
            client: s.client,
            caller_name: s.caller_name.clone(),
            oh: s.oh.clone(),
            fh: s.fh.clone(),
            mode: s.mode,
            access: s.access,
            reclaim: s.reclaim,
        };
        self.journal.push(at, Some(call), server, What::NlmShare(e));
    }

    fn share(&mut self, server: IpAddr, s: ShareReq, stat: Option<NlmStat>, call: FrameRef, at: FrameRef) {
        let cap = self.cfg.shares_cap;
        let Some(st) = self.servers.get_mut(&server) else { return };
        match stat {
            Some(NlmStat::Granted) => {}
            Some(x) => return self.share_event(at, call, server, &s, ShareEventKind::Refused(x)),
            None => return,
        }
        let sh = &mut st.nlm.shares;
        sh.retain(|h| !(h.client == s.client && h.caller_name == s.caller_name && h.oh == s.oh && h.fh == s.fh));
        if sh.len() >= cap {
            self.counters.shares_refused += 1;
            return;
        }
        sh.push(ShareHeld {
            client: s.client,
            caller_name: s.caller_name.clone(),
            oh: s.oh.clone(),
            fh: s.fh.clone(),
            mode: s.mode,
            access: s.access,
            reclaim: s.reclaim,
            call,
            granted: at,
        });
        self.share_event(at, call, server, &s, ShareEventKind::Granted);
    }

    fn unshare(&mut self, server: IpAddr, s: ShareReq, call: FrameRef, at: FrameRef) {
        let Some(st) = self.servers.get_mut(&server) else { return };
        let before = st.nlm.shares.len();
        st.nlm.shares.retain(|h| !(h.client == s.client && h.caller_name == s.caller_name && h.oh == s.oh && h.fh == s.fh));
        if st.nlm.shares.len() < before {
            self.share_event(at, call, server, &s, ShareEventKind::Unshared);
        }
    }

    /// Forget every lock, waiter and share of host `name` (or of address `ip`) on `servers`.
    pub(super) fn drop_host(&mut self, servers: &[IpAddr], name: &str, ip: Option<IpAddr>, why: DropReason, call: FrameRef, at: FrameRef) {
        for &server in servers {
            let Some(st) = self.servers.get_mut(&server) else { continue };
            let gone = st.nlm.locks.remove_owners(&|o: &NlmOwner| o.is_host(name, ip));
            st.nlm.waiters.retain(|w| !w.owner.is_host(name, ip));
            let (shares_gone, keep): (Vec<_>, Vec<_>) =
                st.nlm.shares.drain(..).partition(|s| host_matches(s.client, &s.caller_name, name, ip));
            st.nlm.shares = keep;
            for (fh, h) in gone {
                for w in released(LockEventKind::Dropped(why), &fh, vec![h]) {
                    self.journal.push(at, Some(call), server, w);
                }
            }
            for s in shares_gone {
                let e = ShareEvent {
                    kind: ShareEventKind::Dropped(why),
                    client: s.client,
                    caller_name: s.caller_name,
                    oh: s.oh,
                    fh: s.fh,
                    mode: s.mode,
                    access: s.access,
                    reclaim: s.reclaim,
                };
                self.journal.push(at, Some(call), server, What::NlmShare(e));
            }
        }
    }

    /// The server at `server` restarted (or its address failed over) at `boundary`:
    /// the NLM locks, waiters and shares granted before it are no longer held. They are
    /// journaled as dropped for [`DropReason::Restart`] and returned, so that the audit
    /// can follow their reclaims.
    pub fn nlm_restart(&mut self, server: IpAddr, boundary: Ts, at: FrameRef) -> Vec<(Vec<u8>, Held<NlmOwner, LockInfo>)> {
        let Some(st) = self.servers.get_mut(&server) else { return Vec::new() };
        let gone = st.nlm.locks.remove_if(&|h: &Held<NlmOwner, LockInfo>| h.meta.granted.ts < boundary);
        st.nlm.waiters.retain(|w| w.blocked.ts >= boundary);
        st.nlm.shares.retain(|s| s.granted.ts >= boundary);
        for (fh, h) in &gone {
            for w in released(LockEventKind::Dropped(DropReason::Restart), fh, vec![h.clone()]) {
                self.journal.push(at, None, server, w);
            }
        }
        gone
    }
}
