//! One simulated NFSv4 client on its own TCP connection to the target's NFS port.
//!
//! NFSv4.0: SETCLIENTID + SETCLIENTID_CONFIRM with the captured client owner and
//! verifier, then per open PUTFH + OPEN CLAIM_PREVIOUS (+ OPEN_CONFIRM when asked),
//! per lock LOCK reclaim (a new lock owner derived from the open, later ranges of the
//! same owner through its lock stateid), open-owner and lock-owner seqids kept as
//! RFC 7530 §9.1.7 says. NFSv4.1/4.2: EXCHANGE_ID, CREATE_SESSION, the same OPEN and
//! LOCK reclaims led by SEQUENCE on slot 0, then RECLAIM_COMPLETE.
//!
//! Establishing (drill mode) takes the same state normally: 4.1 sends
//! RECLAIM_COMPLETE first (a fresh client) and opens with CLAIM_FH; 4.0 opens by path
//! with CLAIM_NULL; locks are sent with reclaim = false.

use super::outcome::{Kind, Outcome, Result as Res};
use super::plan::{V4Client, V4Lock, V4Open};
use super::requests::{self as rq, LockerOf, Slot};
use super::rpc::RpcClient;
use super::send::Shared;
use crate::client::nfs4::{nfs4, op, status, StateId, NFS4_PROC_COMPOUND};
use crate::client::nfs4_reply::{parse_compound, CompoundRes, OpRes};
use crate::client::rpc::{AuthSys, Cred, ReplyStatus};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::sync::atomic::Ordering;
use std::time::Instant;

const DELAY: u32 = 10008;
/// OPEN4_RESULT_CONFIRM.
const RESULT_CONFIRM: u32 = 2;

/// RFC 7530 §9.1.7: a seqid advances with every answer except these errors.
fn advances(st: u32) -> bool {
    !matches!(st, 10022 | 10023 | 10025 | 10026 | 10036 | 10018 | 10020 | 10019)
}

/// Client-side state between COMPOUNDs.
#[derive(Default)]
struct Ctx {
    minor: u32,
    clientid: u64,
    slot: Option<Slot>,
    /// NFSv4.0 open-owner and lock-owner seqids.
    open_seqid: HashMap<Vec<u8>, u32>,
    lock_seqid: HashMap<Vec<u8>, u32>,
    /// (lock owner, file handle) → lock stateid.
    lock_sid: HashMap<(Vec<u8>, Vec<u8>), StateId>,
}

impl Ctx {
    fn open_seq(&self, owner: &[u8]) -> u32 {
        if self.minor == 0 {
            self.open_seqid.get(owner).copied().unwrap_or(0)
        } else {
            0
        }
    }
    fn lock_seq(&self, owner: &[u8]) -> u32 {
        if self.minor == 0 {
            self.lock_seqid.get(owner).copied().unwrap_or(0)
        } else {
            0
        }
    }
    fn advance(map: &mut HashMap<Vec<u8>, u32>, owner: &[u8], st: u32) {
        if advances(st) {
            let s = map.entry(owner.to_vec()).or_insert(0);
            *s = s.wrapping_add(1);
        }
    }
}

/// One COMPOUND exchange (with its retries) and how it ended.
struct Step {
    result: Res,
    res: Option<CompoundRes>,
    start: f64,
    attempts: u32,
    xid: u32,
}

struct V4<'a> {
    sh: &'a Shared,
    c: &'a V4Client,
    /// Index in `plan.v4`, and the client index of outcomes.
    i: usize,
    idx: usize,
    proto: &'static str,
    conn: RpcClient,
    ctx: Ctx,
    out: Vec<Outcome>,
}

pub(crate) async fn client(sh: &Shared, i: usize) -> Vec<Outcome> {
    let c = &sh.plan.v4[i];
    let cred = Cred::Sys(AuthSys { stamp: 0, machinename: c.machine.clone(), uid: c.uid, gid: 0, gids: vec![] });
    let remote = SocketAddrV4::new(sh.cfg.target, sh.cfg.nfs_port);
    let conn = RpcClient::new(sh.source(sh.plan.nlm.len() + i), remote, false, cred, sh.cfg.opts());
    let mut v = V4 { sh, c, i, idx: sh.plan.nlm.len() + i, proto: c.protocol(), conn, ctx: Ctx { minor: c.minor, ..Ctx::default() }, out: Vec::new() };
    v.run().await;
    v.conn.close();
    sh.retransmits.fetch_add(v.conn.stats.retransmits, Ordering::Relaxed);
    sh.reconnects.fetch_add(v.conn.stats.reconnects, Ordering::Relaxed);
    v.out
}

impl V4<'_> {
    fn push(&mut self, kind: Kind, step: &Step) {
        self.push_result(kind, step.result.clone(), step.start, step.attempts, step.xid);
    }

    fn push_result(&mut self, kind: Kind, result: Res, start: f64, attempts: u32, xid: u32) {
        let o = Outcome { protocol: self.proto, kind, client: self.idx, client_name: self.c.owner_text.clone(), result, start, end: self.sh.now(), attempts, xid };
        self.sh.count(&o);
        self.out.push(o);
    }

    /// Every open and lock from `from` on ends with `result`, unsent.
    fn fail_rest(&mut self, from: usize, result: &Res) {
        for o in &self.c.opens[from..] {
            self.push_result(Kind::Open, unsent(result), self.sh.now(), 0, 0);
            for _ in &o.locks {
                self.push_result(Kind::Lock, unsent(result), self.sh.now(), 0, 0);
            }
        }
    }

    async fn run(&mut self) {
        if let Some(f) = &self.c.fail {
            self.fail_rest(0, &Res::Failed { reason: f.clone() });
            return;
        }
        let setup = if self.c.minor == 0 { self.setup40().await } else { self.setup41().await };
        if !setup.result.is_granted() {
            let why = match &setup.result {
                Res::Failed { reason } => Res::Failed { reason: format!("client setup: {reason}") },
                r => r.clone(),
            };
            self.push(Kind::Setup, &setup);
            self.fail_rest(0, &why);
            return;
        }
        self.push(Kind::Setup, &setup);
        let establish = self.sh.cfg.establish;
        if establish && self.c.minor >= 1 {
            self.reclaim_complete().await;
        }
        for oi in 0..self.c.opens.len() {
            self.open(oi).await;
        }
        if !establish && self.c.minor >= 1 {
            self.reclaim_complete().await;
        }
    }

    /// Send a COMPOUND built by `build` until its answer is final: `op`'s status
    /// decides; DELAY (and GRACE when `grace_retry`) is tried again after a pause.
    /// `after` sees every status (for seqids).
    async fn step(&mut self, op: u32, grace_retry: bool, build: impl Fn(&Ctx) -> Vec<u8>, after: impl Fn(&mut Ctx, u32)) -> Step {
        let start = self.sh.now();
        let began = Instant::now();
        let (mut attempts, mut tries) = (0, 0);
        loop {
            self.sh.pace().await;
            let bytes = build(&self.ctx);
            let a = match self.conn.call(nfs4(NFS4_PROC_COMPOUND), &bytes).await {
                Err(e) => return Step { result: Res::Failed { reason: e.to_string() }, res: None, start, attempts, xid: 0 },
                Ok(a) => a,
            };
            attempts += a.sent;
            if a.status != ReplyStatus::Success {
                return Step { result: Res::Failed { reason: format!("rpc: {:?}", a.status) }, res: None, start, attempts, xid: a.xid };
            }
            let res = match parse_compound(&a.body) {
                Ok(r) => r,
                Err(e) => return Step { result: Res::Failed { reason: format!("reply: {e}") }, res: None, start, attempts, xid: a.xid },
            };
            if let (Some(s), Some(0)) = (self.ctx.slot.as_mut(), res.status_of(op::SEQUENCE)) {
                s.seq = s.seq.wrapping_add(1);
            }
            let st = res.status_of(op).unwrap_or(res.status);
            after(&mut self.ctx, st);
            let later = st == DELAY || (grace_retry && st == status::GRACE);
            if later && began.elapsed() < self.sh.cfg.retry_for {
                self.sh.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Shared::backoff(tries)).await;
                tries += 1;
                continue;
            }
            let result = if st == status::OK { Res::Granted } else { Res::Refused { status: status::name(st), code: st, sent: true } };
            return Step { result, res: Some(res), start, attempts, xid: a.xid };
        }
    }

    fn local(&self) -> Ipv4Addr {
        match self.conn.local_addr().map(|a| a.ip()) {
            Some(IpAddr::V4(v)) => v,
            _ => self.conn.local,
        }
    }

    async fn setup40(&mut self) -> Step {
        let c = self.c;
        let local = self.local();
        let s = self.step(op::SETCLIENTID, false, |_| rq::setclientid(c, local), |_, _| {}).await;
        let Some(OpRes::SetClientId { clientid, verifier }) = s.res.as_ref().and_then(|r| r.find(op::SETCLIENTID)).map(|r| r.res.clone()) else { return s };
        self.ctx.clientid = clientid;
        let mut s2 = self.step(op::SETCLIENTID_CONFIRM, false, |_| rq::setclientid_confirm(clientid, verifier), |_, _| {}).await;
        s2.start = s.start;
        s2.attempts += s.attempts;
        s2
    }

    async fn setup41(&mut self) -> Step {
        let c = self.c;
        let s = self.step(op::EXCHANGE_ID, false, |_| rq::exchange_id(c), |_, _| {}).await;
        let Some(OpRes::ExchangeId { clientid, sequenceid, .. }) = s.res.as_ref().and_then(|r| r.find(op::EXCHANGE_ID)).map(|r| r.res.clone()) else { return s };
        self.ctx.clientid = clientid;
        let minor = c.minor;
        let mut s2 = self.step(op::CREATE_SESSION, false, |_| rq::create_session(minor, clientid, sequenceid), |_, _| {}).await;
        if let Some(OpRes::CreateSession { sessionid, .. }) = s2.res.as_ref().and_then(|r| r.find(op::CREATE_SESSION)).map(|r| r.res.clone()) {
            self.ctx.slot = Some(Slot { sessionid, seq: 1 });
        }
        s2.start = s.start;
        s2.attempts += s.attempts;
        s2
    }

    async fn reclaim_complete(&mut self) {
        let minor = self.c.minor;
        let s = self.step(op::RECLAIM_COMPLETE, false, |x| rq::reclaim_complete(minor, x.slot.unwrap_or_default()), |_, _| {}).await;
        self.push(Kind::ReclaimComplete, &s);
    }

    async fn open(&mut self, oi: usize) {
        let c = self.c;
        let o: &V4Open = &c.opens[oi];
        if let Some(f) = &o.fail {
            self.fail_rest_one(o, &Res::Failed { reason: f.clone() });
            return;
        }
        let establish = self.sh.cfg.establish;
        let minor = self.c.minor;
        if establish && rq::open_establish(minor, None, o, 0, 0).is_none() {
            let why = "establishing an NFSv4.0 open needs the file's path (CLAIM_NULL), which the capture did not show".to_string();
            self.fail_rest_one(o, &Res::Failed { reason: why });
            return;
        }
        let owner = o.open_owner.clone();
        let build = |x: &Ctx| {
            let seq = x.open_seq(&o.open_owner);
            if establish {
                rq::open_establish(minor, x.slot, o, seq, x.clientid).unwrap_or_default()
            } else {
                rq::open_reclaim(minor, x.slot, o, seq, x.clientid)
            }
        };
        let after = |x: &mut Ctx, st: u32| {
            if x.minor == 0 {
                Ctx::advance(&mut x.open_seqid, &owner, st);
            }
        };
        let mut s = self.step(op::OPEN, establish, build, after).await;
        let opened = s.res.as_ref().and_then(|r| r.find(op::OPEN)).map(|r| r.res.clone());
        let (Res::Granted, Some(OpRes::Open { stateid, rflags, .. })) = (&s.result, opened) else {
            if s.result.is_granted() {
                s.result = Res::Failed { reason: "OPEN result unreadable".into() };
            }
            self.push(Kind::Open, &s);
            let dep = unsent(&s.result);
            for _ in &o.locks {
                self.push_result(Kind::Lock, dep.clone(), self.sh.now(), 0, 0);
            }
            return;
        };
        let fh = s.res.as_ref().and_then(|r| r.fh()).unwrap_or_else(|| o.fh.clone());
        if establish && fh != o.fh {
            self.sh.fh_updates.lock().unwrap_or_else(|e| e.into_inner()).push((self.i, oi, fh.clone()));
        }
        let mut open_sid = stateid;
        if minor == 0 && rflags & RESULT_CONFIRM != 0 {
            let fh2 = fh.clone();
            let c = self.step(op::OPEN_CONFIRM, false, |x| rq::open_confirm(&fh2, stateid, x.open_seq(&o.open_owner)), after).await;
            match c.res.as_ref().and_then(|r| r.stateid(op::OPEN_CONFIRM)) {
                Some(sid) if c.result.is_granted() => open_sid = sid,
                _ => {
                    s.result = match c.result {
                        Res::Granted => Res::Failed { reason: "OPEN_CONFIRM result unreadable".into() },
                        r => r,
                    };
                }
            }
            s.attempts += c.attempts;
            s.xid = c.xid;
        }
        self.push(Kind::Open, &s);
        if !s.result.is_granted() {
            let dep = unsent(&s.result);
            for _ in &o.locks {
                self.push_result(Kind::Lock, dep.clone(), self.sh.now(), 0, 0);
            }
            return;
        }
        for l in &o.locks {
            self.lock(&fh, &o.open_owner, open_sid, l).await;
        }
    }

    fn fail_rest_one(&mut self, o: &V4Open, r: &Res) {
        self.push_result(Kind::Open, r.clone(), self.sh.now(), 0, 0);
        for _ in &o.locks {
            self.push_result(Kind::Lock, unsent(r), self.sh.now(), 0, 0);
        }
    }

    async fn lock(&mut self, fh: &[u8], open_owner: &[u8], open_sid: StateId, l: &V4Lock) {
        let establish = self.sh.cfg.establish;
        let minor = self.c.minor;
        let key = (l.lock_owner.clone(), fh.to_vec());
        let existed = self.ctx.lock_sid.contains_key(&key);
        let build = |x: &Ctx| {
            let who = match x.lock_sid.get(&key) {
                Some(sid) => LockerOf::Existing { lock_stateid: *sid, lock_seqid: x.lock_seq(&l.lock_owner) },
                // a lock owner new on this file: its own seqid is 0 unless it holds
                // locks on other files already
                None => LockerOf::New { open_seqid: x.open_seq(open_owner), open_stateid: open_sid, lock_seqid: x.lock_seq(&l.lock_owner), clientid: x.clientid },
            };
            rq::lock(minor, x.slot, fh, l, who, !establish)
        };
        let owner = l.lock_owner.clone();
        let oo = open_owner.to_vec();
        let after = move |x: &mut Ctx, st: u32| {
            if x.minor != 0 {
                return;
            }
            if existed {
                Ctx::advance(&mut x.lock_seqid, &owner, st);
            } else {
                Ctx::advance(&mut x.open_seqid, &oo, st);
                if st == status::OK {
                    Ctx::advance(&mut x.lock_seqid, &owner, st);
                }
            }
        };
        let s = self.step(op::LOCK, establish, build, after).await;
        if let Some(sid) = s.res.as_ref().and_then(|r| r.stateid(op::LOCK)).filter(|_| s.result.is_granted()) {
            self.ctx.lock_sid.insert(key, sid);
        }
        self.push(Kind::Lock, &s);
    }
}

/// The outcome of a request not sent because one it depends on ended with `r`.
fn unsent(r: &Res) -> Res {
    match r {
        Res::Refused { status, code, .. } => Res::Refused { status: status.clone(), code: *code, sent: false },
        Res::Failed { reason } => Res::Failed { reason: format!("not sent: {reason}") },
        Res::Granted => Res::Failed { reason: "not sent".into() },
    }
}
