//! Test helpers: NFSv4 COMPOUND calls built with the client's builders, replies
//! encoded with `Enc`, both decoded by the real decoders and fed to a tracker.

use crate::client::nfs4::{Compound, Locker, LockArgs, Op, OpenArgs, OpenClaim, OpenHow, StateId};
use crate::net::{Endpoint, FrameRef, Transport};
use crate::proto::{self, CallBody, ReplyBody, NFS};
use crate::rpc::msg::{self, Header};
use crate::rpc::{AcceptStat, Auth, Kind, Message, ProcId, ReplyStat};
use crate::state::testutil::{ep, H, SRV};
use crate::xdr::Enc;

pub(crate) const ROOT: &[u8] = &[0x43, 0, 0, 1, 0xaa];
pub(crate) const DIR: &[u8] = &[0x43, 0, 0, 1, 0xbb];
pub(crate) const F1: &[u8] = &[0x43, 0, 0, 1, 0x01, 0x99];
pub(crate) const F2: &[u8] = &[0x43, 0, 0, 1, 0x02, 0x99];

/// A stateid whose `other` starts with `tag` and ends with `n`.
pub(crate) fn sid(seqid: u32, tag: u8, n: u8) -> StateId {
    let mut other = [0u8; 12];
    other[0] = tag;
    other[11] = n;
    StateId { seqid, other }
}

pub(crate) fn sess(n: u8) -> [u8; 16] {
    let mut s = [0u8; 16];
    s[0] = n;
    s
}

/// COMPOUND4res built operation by operation.
#[derive(Default)]
pub(crate) struct Res {
    e: Enc,
    n: u32,
    status: u32,
}

impl Res {
    pub(crate) fn new() -> Res {
        Res::default()
    }

    fn head(mut self, op: u32, status: u32) -> Res {
        self.e.u32(op).u32(status);
        self.n += 1;
        if status != 0 {
            self.status = status;
        }
        self
    }

    /// A result that is only a status (PUTFH, RENEW, SETCLIENTID_CONFIRM, …, or any
    /// error).
    pub(crate) fn st(self, op: u32, status: u32) -> Res {
        self.head(op, status)
    }

    pub(crate) fn ok(self, op: u32) -> Res {
        self.head(op, 0)
    }

    pub(crate) fn getfh(self, fh: &[u8]) -> Res {
        let mut r = self.head(10, 0);
        r.e.opaque(fh);
        r
    }

    /// OPEN_CONFIRM, OPEN_DOWNGRADE, CLOSE, LOCK, LOCKU: a stateid.
    pub(crate) fn stateid(self, op: u32, s: StateId) -> Res {
        let mut r = self.head(op, 0);
        s.encode(&mut r.e);
        r
    }

    pub(crate) fn open(self, s: StateId, rflags: u32) -> Res {
        self.open_deleg(s, rflags, None)
    }

    /// OPEN with a delegation (`Some((write, stateid))`) or none.
    pub(crate) fn open_deleg(self, s: StateId, rflags: u32, deleg: Option<(bool, StateId)>) -> Res {
        let mut r = self.head(18, 0);
        s.encode(&mut r.e);
        r.e.bool(true).u64(1).u64(2).u32(rflags).u32(0);
        match deleg {
            None => {
                r.e.u32(0);
            }
            Some((write, d)) => {
                r.e.u32(if write { 2 } else { 1 });
                d.encode(&mut r.e);
                r.e.bool(false);
                if write {
                    r.e.u32(1).u64(1 << 20);
                }
                r.e.u32(0).u32(0).u32(0).string("EVERYONE@");
            }
        }
        r
    }

    pub(crate) fn lock_denied(self, off: u64, len: u64, clientid: u64, owner: &[u8]) -> Res {
        let mut r = self.head(12, 10010);
        r.e.u64(off).u64(len).u32(2).u64(clientid).opaque(owner);
        r
    }

    pub(crate) fn setclientid(self, clientid: u64) -> Res {
        let mut r = self.head(35, 0);
        r.e.u64(clientid).fixed(&[7; 8]);
        r
    }

    pub(crate) fn exchange_id(self, clientid: u64, flags: u32) -> Res {
        let mut r = self.head(42, 0);
        r.e.u64(clientid).u32(1).u32(flags).u32(0).u64(0).opaque(b"srv").opaque(b"scope").u32(0);
        r
    }

    pub(crate) fn create_session(self, s: [u8; 16]) -> Res {
        let mut r = self.head(43, 0);
        r.e.fixed(&s).u32(1).u32(0);
        for _ in 0..2 {
            r.e.u32(0).u32(1 << 20).u32(1 << 20).u32(4096).u32(16).u32(8).u32(0);
        }
        r
    }

    pub(crate) fn sequence(self, s: [u8; 16], flags: u32) -> Res {
        let mut r = self.head(53, 0);
        r.e.fixed(&s).u32(1).u32(0).u32(7).u32(7).u32(flags);
        r
    }

    pub(crate) fn bytes(self) -> Vec<u8> {
        let mut e = Enc::new();
        e.u32(self.status).string("").u32(self.n);
        let mut v = e.into_vec();
        v.extend_from_slice(&self.e.into_vec());
        v
    }
}

pub(crate) fn open_args(clientid: u64, owner: &[u8], claim: OpenClaim, create: bool) -> Op {
    Op::Open(OpenArgs {
        seqid: 1,
        share_access: 3,
        share_deny: 0,
        clientid,
        owner: owner.to_vec(),
        how: if create { OpenHow::Unchecked { mode: 0o644 } } else { OpenHow::NoCreate },
        claim,
    })
}

pub(crate) fn lock_new(locktype: u32, reclaim: bool, off: u64, len: u64, open: StateId, clientid: u64, owner: &[u8]) -> Op {
    Op::Lock(LockArgs {
        locktype,
        reclaim,
        offset: off,
        length: len,
        locker: Locker::New { open_seqid: 1, open_stateid: open, lock_seqid: 0, clientid, owner: owner.to_vec() },
    })
}

pub(crate) fn lock_existing(locktype: u32, off: u64, len: u64, lock: StateId) -> Op {
    Op::Lock(LockArgs { locktype, reclaim: false, offset: off, length: len, locker: Locker::Existing { lock_stateid: lock, lock_seqid: 1 } })
}

pub(crate) fn locku(off: u64, len: u64, lock: StateId) -> Op {
    Op::LockU { locktype: 2, seqid: 1, stateid: lock, offset: off, length: len }
}

pub(crate) fn seq(s: [u8; 16]) -> Op {
    Op::Sequence { sessionid: s, sequenceid: 1, slotid: 0, highest_slotid: 0, cachethis: false }
}

/// An AUTH_SYS credential for machine `name`, uid 1000 (parsed from a call header).
fn with_sys_cred<'a>(buf: &'a mut Vec<u8>, xid: u32, name: &str) -> msg::CallHeader<'a> {
    let mut cred = Enc::new();
    cred.u32(1).string(name).u32(1000).u32(100).u32(0);
    let cred = cred.into_vec();
    let mut e = Enc::new();
    e.u32(xid).u32(0).u32(2).u32(NFS).u32(4).u32(1).u32(1).opaque(&cred).u32(0).u32(0);
    *buf = e.into_vec();
    match msg::parse(buf) {
        Ok((Header::Call(h), _)) => h,
        other => panic!("call header must parse: {other:?}"),
    }
}

/// Drives a tracker (or what is built on it) with NFSv4 traffic from clients 10.0.0.x
/// to server 10.0.0.100.
pub(crate) struct N<S: crate::pipeline::Sink = crate::state::Tracker> {
    pub(crate) h: H<S>,
}

impl N {
    pub(crate) fn new() -> N {
        N { h: H::new() }
    }

    pub(crate) fn with(cfg: crate::state::TrackerConfig) -> N {
        N { h: H::with(cfg) }
    }

    pub(crate) fn st(&self) -> &crate::state::nfs4::Nfs4State {
        self.h.t.nfs4(crate::state::testutil::srv_ip(SRV)).expect("server state")
    }
}

pub(crate) fn n_client(c: u8) -> Endpoint {
    ep(c, 700 + u16::from(c))
}

pub(crate) fn n_server() -> Endpoint {
    ep(SRV, 2049)
}

impl N {
    pub(crate) fn client(c: u8) -> Endpoint {
        n_client(c)
    }

    pub(crate) fn server() -> Endpoint {
        n_server()
    }
}

impl<S: crate::pipeline::Sink> N<S> {

    /// A COMPOUND call from client `c`; returns (xid, call frame).
    pub(crate) fn call(&mut self, c: u8, minor: u32, ops: Vec<Op>) -> (u32, FrameRef) {
        self.call_bytes(c, &Compound { minor, tag: String::new(), ops }.encode())
    }

    /// A COMPOUND call from client `c` with already encoded arguments.
    pub(crate) fn call_bytes(&mut self, c: u8, args: &[u8]) -> (u32, FrameRef) {
        self.h.xid += 1;
        let xid = self.h.xid;
        let at = self.h.next();
        let body = proto::decode_call(NFS, 4, 1, false, args);
        assert!(matches!(&body, CallBody::Nfs4(c) if c.stopped.is_none()), "test call must decode: {body:?}");
        let mut buf = Vec::new();
        let header = with_sys_cred(&mut buf, xid, &format!("host{c}"));
        let id = ProcId { prog: NFS, vers: 4, proc_: 1, cb: false };
        let m = Message { at, src: n_client(c), dst: n_server(), transport: Transport::Tcp, xid, partial: false, kind: Kind::Call { header, id, body, retransmit: false } };
        crate::pipeline::Sink::message(&mut self.h.t, &m);
        (xid, at)
    }

    /// The reply to call `xid` of client `c`.
    pub(crate) fn reply(&mut self, c: u8, xid: u32, call: FrameRef, res: Res) -> FrameRef {
        let at = self.h.next();
        let bytes = res.bytes();
        let body = proto::decode_reply(NFS, 4, 1, false, &bytes);
        assert!(matches!(&body, ReplyBody::Nfs4(r) if r.stopped.is_none()), "test reply must decode: {body:?}");
        let kind = Kind::Reply {
            stat: ReplyStat::Accepted { verf: Auth::None, stat: AcceptStat::Success },
            id: Some(ProcId { prog: NFS, vers: 4, proc_: 1, cb: false }),
            body,
            call: Some(call),
            latency_ns: Some(at.ts - call.ts),
            duplicate: false,
        };
        let m = Message { at, src: n_server(), dst: n_client(c), transport: Transport::Tcp, xid, partial: false, kind };
        crate::pipeline::Sink::message(&mut self.h.t, &m);
        at
    }

    /// Encoded arguments and the reply; returns (call frame, reply frame).
    pub(crate) fn rpc_bytes(&mut self, c: u8, args: &[u8], res: Res) -> (FrameRef, FrameRef) {
        let (xid, call) = self.call_bytes(c, args);
        let r = self.reply(c, xid, call, res);
        (call, r)
    }

    /// A call and its reply; returns (call frame, reply frame).
    pub(crate) fn rpc(&mut self, c: u8, minor: u32, ops: Vec<Op>, res: Res) -> (FrameRef, FrameRef) {
        let (xid, call) = self.call(c, minor, ops);
        let r = self.reply(c, xid, call, res);
        (call, r)
    }

    /// SETCLIENTID + SETCLIENTID_CONFIRM for `owner` from client `c`.
    pub(crate) fn setclientid(&mut self, c: u8, owner: &str, clientid: u64) {
        let op = Op::SetClientId { verifier: [c; 8], id: owner.as_bytes().to_vec(), cb_program: 0x4000_0000, netid: "tcp".into(), addr: "10.0.0.1.3.0".into(), ident: 1 };
        self.rpc(c, 0, vec![op], Res::new().setclientid(clientid));
        self.rpc(c, 0, vec![Op::SetClientIdConfirm { clientid, verifier: [7; 8] }], Res::new().ok(36));
    }

    /// EXCHANGE_ID + CREATE_SESSION for `owner` from client `c`.
    pub(crate) fn exchange_id(&mut self, c: u8, owner: &str, clientid: u64, session: [u8; 16]) {
        self.rpc(c, 1, vec![Op::ExchangeId { verifier: [c; 8], owner: owner.as_bytes().to_vec(), flags: 0 }], Res::new().exchange_id(clientid, 0x1_0000));
        let cs = Op::CreateSession { clientid, sequence: 1, flags: 0, fore: Default::default(), back: Default::default(), cb_program: 0x4000_0001 };
        self.rpc(c, 1, vec![cs], Res::new().create_session(session));
    }

    /// PUTFH `fh` + OPEN CLAIM_PREVIOUS / CLAIM_FH, or PUTFH `DIR` + OPEN CLAIM_NULL `name`
    /// + GETFH (→ `fh`), in `minor` (4.1 prefixes SEQUENCE of `session`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn open(&mut self, c: u8, minor: u32, session: [u8; 16], clientid: u64, owner: &[u8], claim: OpenClaim, fh: &[u8], s: StateId) -> (FrameRef, FrameRef) {
        let by_name = matches!(claim, OpenClaim::Null(_));
        let mut ops = Vec::new();
        let mut res = Res::new();
        if minor > 0 {
            ops.push(seq(session));
            res = res.sequence(session, 0);
        }
        ops.push(Op::PutFh(if by_name { DIR.to_vec() } else { fh.to_vec() }));
        ops.push(open_args(clientid, owner, claim, by_name));
        ops.push(Op::GetFh);
        let res = res.ok(22).open(s, if minor == 0 && by_name { 2 } else { 0 }).getfh(fh);
        self.rpc(c, minor, ops, res)
    }

    /// PUTFH `fh` + `op` answered by `res` (4.1 prefixes SEQUENCE).
    pub(crate) fn on_file(&mut self, c: u8, minor: u32, session: [u8; 16], fh: &[u8], op: Op, res: impl FnOnce(Res) -> Res) -> (FrameRef, FrameRef) {
        let mut ops = Vec::new();
        let mut r = Res::new();
        if minor > 0 {
            ops.push(seq(session));
            r = r.sequence(session, 0);
        }
        ops.push(Op::PutFh(fh.to_vec()));
        ops.push(op);
        self.rpc(c, minor, ops, res(r.ok(22)))
    }
}
