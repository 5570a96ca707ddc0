//! Test helpers: messages whose bodies are encoded with `Enc` and decoded by the real
//! decoders, fed to a tracker.

use super::journal::{LockEventKind, What};
use super::*;
use crate::proto::NLM;
use crate::rpc::{AcceptStat, Auth, CallHeader, ReplyStat};
use crate::xdr::Enc;

pub(crate) const T0: i64 = 1_700_000_000_000_000_000;
pub(crate) const SEC: i64 = 1_000_000_000;
pub(crate) const FH: &[u8] = &[0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 9];
pub(crate) const FH2: &[u8] = &[0xfe, 9, 9, 9];

pub(crate) fn ep(last: u8, port: u16) -> Endpoint {
    Endpoint { ip: IpAddr::from([10, 0, 0, last]), port }
}

pub(crate) fn lo(port: u16) -> Endpoint {
    Endpoint { ip: IpAddr::from([127, 0, 0, 1]), port }
}

/// Client A calls from port 800; its lock manager listens on 4045.
pub(crate) const A: (u8, &str) = (1, "client-a");
pub(crate) const B: (u8, &str) = (2, "client-b");
pub(crate) const SRV: u8 = 100;
pub(crate) const SRV2: u8 = 200;

pub(crate) fn srv_ip(s: u8) -> IpAddr {
    ep(s, 0).ip
}

/// Test-only description of an `nlm4_lock`.
#[derive(Clone, Copy)]
pub(crate) struct L {
    pub(crate) who: (u8, &'static str),
    pub(crate) svid: i32,
    pub(crate) fh: &'static [u8],
    pub(crate) off: u64,
    pub(crate) len: u64,
}

pub(crate) fn lk(who: (u8, &'static str), off: u64, len: u64) -> L {
    L { who, svid: 42, fh: FH, off, len }
}

pub(crate) fn put_lock(e: &mut Enc, l: L) {
    e.string(l.who.1).opaque(l.fh).opaque(format!("oh@{}", l.who.1).as_bytes()).i32(l.svid).u64(l.off).u64(l.len);
}

pub(crate) fn lock_args(cookie: u32, block: bool, excl: bool, l: L, reclaim: bool) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(&cookie.to_be_bytes()).bool(block).bool(excl);
    put_lock(&mut e, l);
    e.bool(reclaim).i32(3);
    e.into_vec()
}

pub(crate) fn test_args(cookie: u32, excl: bool, l: L) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(&cookie.to_be_bytes()).bool(excl);
    put_lock(&mut e, l);
    e.into_vec()
}

pub(crate) fn canc_args(cookie: u32, excl: bool, l: L) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(&cookie.to_be_bytes()).bool(true).bool(excl);
    put_lock(&mut e, l);
    e.into_vec()
}

pub(crate) fn unlock_args(cookie: u32, l: L) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(&cookie.to_be_bytes());
    put_lock(&mut e, l);
    e.into_vec()
}

pub(crate) fn res(cookie: u32, stat: u32) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(&cookie.to_be_bytes()).u32(stat);
    e.into_vec()
}

pub(crate) fn share_args(who: (u8, &str), mode: u32, access: u32, reclaim: bool) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(&[9]).string(who.1).opaque(FH2).opaque(b"share-oh").u32(mode).u32(access).bool(reclaim);
    e.into_vec()
}

pub(crate) fn share_res(stat: u32) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(&[9]).u32(stat).i32(1);
    e.into_vec()
}

pub(crate) fn name_state(name: &str, state: i32) -> Vec<u8> {
    let mut e = Enc::new();
    e.string(name).i32(state);
    e.into_vec()
}

pub(crate) fn sm_notify16(name: &str, state: i32) -> Vec<u8> {
    let mut e = Enc::new();
    e.string(name).i32(state).fixed(&[0; 16]);
    e.into_vec()
}

pub(crate) const GRANTED: u32 = 0;
pub(crate) const DENIED: u32 = 1;
pub(crate) const BLOCKED: u32 = 3;
pub(crate) const DENIED_GRACE: u32 = 4;

/// Drives a sink (the tracker, or anything built on it) with decoded messages.
pub(crate) struct H<S: Sink = Tracker> {
    pub(crate) t: S,
    pub(crate) frame: u64,
    pub(crate) xid: u32,
}

impl H<Tracker> {
    pub(crate) fn new() -> H {
        H::with(TrackerConfig::default())
    }

    pub(crate) fn with(cfg: TrackerConfig) -> H {
        H { t: Tracker::new(cfg), frame: 0, xid: 0 }
    }
}

impl<S: Sink> H<S> {
    pub(crate) fn over(t: S) -> H<S> {
        H { t, frame: 0, xid: 0 }
    }

    pub(crate) fn next(&mut self) -> FrameRef {
        self.frame += 1;
        FrameRef { file: 0, frame: self.frame, ts: T0 + self.frame as i64 * SEC }
    }

    pub(crate) fn call(&mut self, prog: u32, vers: u32, proc_: u32, from: Endpoint, to: Endpoint, args: &[u8]) -> (u32, FrameRef) {
        self.xid += 1;
        let xid = self.xid;
        (xid, self.call_xid(xid, false, prog, vers, proc_, from, to, args))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn call_xid(&mut self, xid: u32, retransmit: bool, prog: u32, vers: u32, proc_: u32, from: Endpoint, to: Endpoint, args: &[u8]) -> FrameRef {
        let at = self.next();
        let header = CallHeader { xid, rpcvers: 2, prog, vers, proc_, cred: Auth::None, verf: Auth::None };
        let body = proto::decode_call(prog, vers, proc_, false, args);
        assert!(!matches!(body, CallBody::Malformed(_)), "test vector must decode: {body:?}");
        let id = ProcId { prog, vers, proc_, cb: false };
        let m = Message { at, src: from, dst: to, transport: Transport::Udp, xid, partial: false, kind: Kind::Call { header, id, body, retransmit } };
        self.t.message(&m);
        at
    }

    /// The reply to call `xid` (sent `from` the callee `to` the caller).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reply(&mut self, xid: u32, call: FrameRef, prog: u32, vers: u32, proc_: u32, from: Endpoint, to: Endpoint, result: &[u8], stat: AcceptStat) -> FrameRef {
        let at = self.next();
        let ok = stat == AcceptStat::Success;
        let body = if ok { proto::decode_reply(prog, vers, proc_, false, result) } else { ReplyBody::NotDecoded };
        assert!(!matches!(body, ReplyBody::Malformed(_)), "test vector must decode: {body:?}");
        let kind = Kind::Reply {
            stat: ReplyStat::Accepted { verf: Auth::None, stat },
            id: Some(ProcId { prog, vers, proc_, cb: false }),
            body,
            call: Some(call),
            latency_ns: Some(at.ts - call.ts),
            duplicate: false,
        };
        self.t.message(&Message { at, src: from, dst: to, transport: Transport::Udp, xid, partial: false, kind });
        at
    }

    /// A call and its successful reply; returns (call frame, reply frame).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn rpc(&mut self, prog: u32, vers: u32, proc_: u32, from: Endpoint, to: Endpoint, args: &[u8], result: &[u8]) -> (FrameRef, FrameRef) {
        let (xid, c) = self.call(prog, vers, proc_, from, to, args);
        let r = self.reply(xid, c, prog, vers, proc_, to, from, result, AcceptStat::Success);
        (c, r)
    }

    /// NLM v4 call from a client (port 800) to a server's lock manager.
    pub(crate) fn nlm(&mut self, proc_: u32, who: (u8, &str), srv: u8, args: &[u8], result: &[u8]) -> (FrameRef, FrameRef) {
        self.rpc(NLM, 4, proc_, ep(who.0, 800), ep(srv, 4045), args, result)
    }

    pub(crate) fn nlm_call_only(&mut self, proc_: u32, from: Endpoint, to: Endpoint, args: &[u8]) -> FrameRef {
        self.call(NLM, 4, proc_, from, to, args).1
    }
}

impl H<Tracker> {
    /// (caller_name, client, svid, range, exclusive) of every lock on `srv`.
    pub(crate) fn locks(&self, srv: u8) -> Vec<(String, IpAddr, i32, Range, bool)> {
        match self.t.server(srv_ip(srv)) {
            Some(s) => s.nlm.locks.iter().map(|(_, h)| (h.owner.caller_name.to_string(), h.owner.client, h.owner.svid, h.range, h.exclusive)).collect(),
            None => Vec::new(),
        }
    }

    pub(crate) fn ranges(&self, srv: u8) -> Vec<Range> {
        self.locks(srv).into_iter().map(|l| l.3).collect()
    }

    pub(crate) fn waiters(&self, srv: u8) -> usize {
        self.t.server(srv_ip(srv)).map_or(0, |s| s.nlm.waiters.len())
    }

    pub(crate) fn answers(&self, srv: u8, proc_: &'static str, stat: &'static str) -> u64 {
        self.t.server(srv_ip(srv)).map_or(0, |s| s.nlm.answers.get(proc_, stat))
    }

    pub(crate) fn events(&self) -> Vec<LockEventKind> {
        self.t.journal().iter().filter_map(|e| if let What::NlmLock(l) = &e.what { Some(l.kind) } else { None }).collect()
    }
}

pub(crate) fn nlm_stat(n: u32) -> crate::proto::nlm::NlmStat {
    crate::proto::nlm::NlmStat::from_u32(n)
}

pub(crate) fn r(off: u64, len: u64) -> Range {
    Range::from_offset_len(off, len)
}
