//! NFSv4.0/4.1 COMPOUND builder (RFC 7530, RFC 8881): the operations the lab and the
//! replay send, each with its arguments as a structured value.

use super::rpc::ProcId;
use crate::xdr::Enc;

pub const NFS4_PROC_NULL: u32 = 0;
pub const NFS4_PROC_COMPOUND: u32 = 1;

pub fn nfs4(proc_: u32) -> ProcId {
    ProcId { prog: super::nfs3::NFS_PROG, vers: 4, proc_ }
}

/// Operation numbers.
pub mod op {
    pub const CLOSE: u32 = 4;
    pub const GETATTR: u32 = 9;
    pub const GETFH: u32 = 10;
    pub const LOCK: u32 = 12;
    pub const LOCKT: u32 = 13;
    pub const LOCKU: u32 = 14;
    pub const LOOKUP: u32 = 15;
    pub const OPEN: u32 = 18;
    pub const OPEN_CONFIRM: u32 = 20;
    pub const PUTFH: u32 = 22;
    pub const PUTROOTFH: u32 = 24;
    pub const RENEW: u32 = 30;
    pub const SETCLIENTID: u32 = 35;
    pub const SETCLIENTID_CONFIRM: u32 = 36;
    pub const RELEASE_LOCKOWNER: u32 = 39;
    pub const EXCHANGE_ID: u32 = 42;
    pub const CREATE_SESSION: u32 = 43;
    pub const DESTROY_SESSION: u32 = 44;
    pub const SEQUENCE: u32 = 53;
    pub const DESTROY_CLIENTID: u32 = 57;
    pub const RECLAIM_COMPLETE: u32 = 58;
}

/// nfsstat4 values the lab looks at.
pub mod status {
    pub const OK: u32 = 0;
    pub const DENIED: u32 = 10010;
    pub const EXPIRED: u32 = 10011;
    pub const GRACE: u32 = 10013;
    pub const STALE_CLIENTID: u32 = 10022;
    pub const STALE_STATEID: u32 = 10023;
    pub const BAD_STATEID: u32 = 10025;
    pub const BAD_SEQID: u32 = 10026;
    pub const NO_GRACE: u32 = 10033;
    pub const RECLAIM_BAD: u32 = 10034;
    pub const RECLAIM_CONFLICT: u32 = 10035;
    pub const BADSESSION: u32 = 10052;
    pub const COMPLETE_ALREADY: u32 = 10054;
    pub fn name(s: u32) -> String {
        let n = match s {
            0 => "NFS4_OK",
            2 => "NFS4ERR_NOENT",
            17 => "NFS4ERR_EXIST",
            10010 => "NFS4ERR_DENIED",
            10011 => "NFS4ERR_EXPIRED",
            10013 => "NFS4ERR_GRACE",
            10017 => "NFS4ERR_CLID_INUSE",
            10022 => "NFS4ERR_STALE_CLIENTID",
            10023 => "NFS4ERR_STALE_STATEID",
            10024 => "NFS4ERR_OLD_STATEID",
            10025 => "NFS4ERR_BAD_STATEID",
            10026 => "NFS4ERR_BAD_SEQID",
            10033 => "NFS4ERR_NO_GRACE",
            10034 => "NFS4ERR_RECLAIM_BAD",
            10035 => "NFS4ERR_RECLAIM_CONFLICT",
            10052 => "NFS4ERR_BADSESSION",
            10054 => "NFS4ERR_COMPLETE_ALREADY",
            10063 => "NFS4ERR_SEQ_MISORDERED",
            _ => return format!("nfsstat4({s})"),
        };
        n.to_string()
    }
}

/// stateid4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateId {
    pub seqid: u32,
    pub other: [u8; 12],
}

impl StateId {
    pub fn encode(&self, e: &mut Enc) {
        e.u32(self.seqid).fixed(&self.other);
    }
    pub fn hex(&self) -> String {
        format!("{:08x}{}", self.seqid, crate::xdr::hex(&self.other))
    }
}

/// Share access bits.
pub const SHARE_ACCESS_READ: u32 = 1;
pub const SHARE_ACCESS_WRITE: u32 = 2;
pub const SHARE_ACCESS_BOTH: u32 = 3;

/// nfs_lock_type4.
pub const READ_LT: u32 = 1;
pub const WRITE_LT: u32 = 2;

/// How OPEN creates (openflag4 with createhow4); the mode goes into the createattrs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenHow {
    NoCreate,
    Unchecked { mode: u32 },
    Guarded { mode: u32 },
}

/// open_claim4 variants the client uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenClaim {
    /// CLAIM_NULL: the current filehandle is the directory.
    Null(String),
    /// CLAIM_PREVIOUS with the delegation type reclaimed (0 = none); the current
    /// filehandle is the file.
    Previous(u32),
    /// CLAIM_FH (4.1): the current filehandle is the file.
    Fh,
}

/// OPEN4args.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenArgs {
    pub seqid: u32,
    pub share_access: u32,
    pub share_deny: u32,
    pub clientid: u64,
    pub owner: Vec<u8>,
    pub how: OpenHow,
    pub claim: OpenClaim,
}

/// locker4: a new lock owner (derived from an open) or an existing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locker {
    New { open_seqid: u32, open_stateid: StateId, lock_seqid: u32, clientid: u64, owner: Vec<u8> },
    Existing { lock_stateid: StateId, lock_seqid: u32 },
}

/// LOCK4args.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockArgs {
    pub locktype: u32,
    pub reclaim: bool,
    pub offset: u64,
    pub length: u64,
    pub locker: Locker,
}

/// channel_attrs4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelAttrs {
    pub headerpadsize: u32,
    pub maxrequestsize: u32,
    pub maxresponsesize: u32,
    pub maxresponsesize_cached: u32,
    pub maxoperations: u32,
    pub maxrequests: u32,
}

impl Default for ChannelAttrs {
    fn default() -> Self {
        ChannelAttrs {
            headerpadsize: 0,
            maxrequestsize: 1 << 20,
            maxresponsesize: 1 << 20,
            maxresponsesize_cached: 4096,
            maxoperations: 16,
            maxrequests: 8,
        }
    }
}

impl ChannelAttrs {
    pub fn encode(&self, e: &mut Enc) {
        e.u32(self.headerpadsize).u32(self.maxrequestsize).u32(self.maxresponsesize);
        e.u32(self.maxresponsesize_cached).u32(self.maxoperations).u32(self.maxrequests);
        e.u32(0); // ca_rdma_ird<1>: empty
    }
}

/// One operation of a COMPOUND request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    PutFh(Vec<u8>),
    PutRootFh,
    Lookup(String),
    GetFh,
    /// GETATTR with the request bitmap words.
    GetAttr(Vec<u32>),
    SetClientId { verifier: [u8; 8], id: Vec<u8>, cb_program: u32, netid: String, addr: String, ident: u32 },
    SetClientIdConfirm { clientid: u64, verifier: [u8; 8] },
    Open(OpenArgs),
    OpenConfirm { stateid: StateId, seqid: u32 },
    Lock(LockArgs),
    LockT { locktype: u32, offset: u64, length: u64, clientid: u64, owner: Vec<u8> },
    LockU { locktype: u32, seqid: u32, stateid: StateId, offset: u64, length: u64 },
    Close { seqid: u32, stateid: StateId },
    Renew(u64),
    /// NFSv4.0: the lock owner and its lock state are released.
    ReleaseLockOwner { clientid: u64, owner: Vec<u8> },
    ExchangeId { verifier: [u8; 8], owner: Vec<u8>, flags: u32 },
    CreateSession { clientid: u64, sequence: u32, flags: u32, fore: ChannelAttrs, back: ChannelAttrs, cb_program: u32 },
    Sequence { sessionid: [u8; 16], sequenceid: u32, slotid: u32, highest_slotid: u32, cachethis: bool },
    ReclaimComplete { one_fs: bool },
    DestroySession([u8; 16]),
    DestroyClientId(u64),
}

impl Op {
    pub fn opnum(&self) -> u32 {
        match self {
            Op::PutFh(_) => op::PUTFH,
            Op::PutRootFh => op::PUTROOTFH,
            Op::Lookup(_) => op::LOOKUP,
            Op::GetFh => op::GETFH,
            Op::GetAttr(_) => op::GETATTR,
            Op::SetClientId { .. } => op::SETCLIENTID,
            Op::SetClientIdConfirm { .. } => op::SETCLIENTID_CONFIRM,
            Op::Open(_) => op::OPEN,
            Op::OpenConfirm { .. } => op::OPEN_CONFIRM,
            Op::Lock(_) => op::LOCK,
            Op::LockT { .. } => op::LOCKT,
            Op::LockU { .. } => op::LOCKU,
            Op::Close { .. } => op::CLOSE,
            Op::Renew(_) => op::RENEW,
            Op::ReleaseLockOwner { .. } => op::RELEASE_LOCKOWNER,
            Op::ExchangeId { .. } => op::EXCHANGE_ID,
            Op::CreateSession { .. } => op::CREATE_SESSION,
            Op::Sequence { .. } => op::SEQUENCE,
            Op::ReclaimComplete { .. } => op::RECLAIM_COMPLETE,
            Op::DestroySession(_) => op::DESTROY_SESSION,
            Op::DestroyClientId(_) => op::DESTROY_CLIENTID,
        }
    }

    /// nfs_argop4: the op number followed by its arguments.
    pub fn encode(&self, e: &mut Enc) {
        e.u32(self.opnum());
        match self {
            Op::PutFh(fh) => {
                e.opaque(fh);
            }
            Op::PutRootFh | Op::GetFh => {}
            Op::Lookup(name) => {
                e.string(name);
            }
            Op::GetAttr(bm) => {
                bitmap(e, bm);
            }
            Op::SetClientId { verifier, id, cb_program, netid, addr, ident } => {
                e.fixed(verifier).opaque(id).u32(*cb_program).string(netid).string(addr).u32(*ident);
            }
            Op::SetClientIdConfirm { clientid, verifier } => {
                e.u64(*clientid).fixed(verifier);
            }
            Op::Open(a) => encode_open(e, a),
            Op::OpenConfirm { stateid, seqid } => {
                stateid.encode(e);
                e.u32(*seqid);
            }
            Op::Lock(a) => {
                e.u32(a.locktype).bool(a.reclaim).u64(a.offset).u64(a.length);
                match &a.locker {
                    Locker::New { open_seqid, open_stateid, lock_seqid, clientid, owner } => {
                        e.bool(true).u32(*open_seqid);
                        open_stateid.encode(e);
                        e.u32(*lock_seqid).u64(*clientid).opaque(owner);
                    }
                    Locker::Existing { lock_stateid, lock_seqid } => {
                        e.bool(false);
                        lock_stateid.encode(e);
                        e.u32(*lock_seqid);
                    }
                }
            }
            Op::LockT { locktype, offset, length, clientid, owner } => {
                e.u32(*locktype).u64(*offset).u64(*length).u64(*clientid).opaque(owner);
            }
            Op::LockU { locktype, seqid, stateid, offset, length } => {
                e.u32(*locktype).u32(*seqid);
                stateid.encode(e);
                e.u64(*offset).u64(*length);
            }
            Op::Close { seqid, stateid } => {
                e.u32(*seqid);
                stateid.encode(e);
            }
            Op::Renew(c) | Op::DestroyClientId(c) => {
                e.u64(*c);
            }
            Op::ReleaseLockOwner { clientid, owner } => {
                e.u64(*clientid).opaque(owner);
            }
            Op::ExchangeId { verifier, owner, flags } => {
                // client_owner4, flags, state_protect4_a SP4_NONE, no impl id
                e.fixed(verifier).opaque(owner).u32(*flags).u32(0).u32(0);
            }
            Op::CreateSession { clientid, sequence, flags, fore, back, cb_program } => {
                e.u64(*clientid).u32(*sequence).u32(*flags);
                fore.encode(e);
                back.encode(e);
                // one callback_sec_parms4: AUTH_NONE
                e.u32(*cb_program).u32(1).u32(0);
            }
            Op::Sequence { sessionid, sequenceid, slotid, highest_slotid, cachethis } => {
                e.fixed(sessionid).u32(*sequenceid).u32(*slotid).u32(*highest_slotid).bool(*cachethis);
            }
            Op::ReclaimComplete { one_fs } => {
                e.bool(*one_fs);
            }
            Op::DestroySession(s) => {
                e.fixed(s);
            }
        }
    }
}

fn bitmap(e: &mut Enc, words: &[u32]) {
    e.u32(words.len() as u32);
    for w in words {
        e.u32(*w);
    }
}

fn encode_open(e: &mut Enc, a: &OpenArgs) {
    e.u32(a.seqid).u32(a.share_access).u32(a.share_deny).u64(a.clientid).opaque(&a.owner);
    match a.how {
        OpenHow::NoCreate => {
            e.u32(0);
        }
        OpenHow::Unchecked { mode } | OpenHow::Guarded { mode } => {
            let createmode = if matches!(a.how, OpenHow::Unchecked { .. }) { 0 } else { 1 };
            e.u32(1).u32(createmode);
            // fattr4 with FATTR4_MODE (attribute 33: word 1, bit 1)
            bitmap(e, &[0, 1 << 1]);
            let mut v = Enc::new();
            v.u32(mode);
            e.opaque(&v.buf);
        }
    }
    match &a.claim {
        OpenClaim::Null(name) => {
            e.u32(0).string(name);
        }
        OpenClaim::Previous(deleg) => {
            e.u32(1).u32(*deleg);
        }
        OpenClaim::Fh => {
            e.u32(4);
        }
    }
}

/// A COMPOUND request: minor version, tag and operations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Compound {
    pub minor: u32,
    pub tag: String,
    pub ops: Vec<Op>,
}

impl Compound {
    pub fn new(minor: u32, tag: &str) -> Self {
        Compound { minor, tag: tag.to_string(), ops: Vec::new() }
    }
    pub fn op(mut self, o: Op) -> Self {
        self.ops.push(o);
        self
    }
    pub fn push(&mut self, o: Op) -> &mut Self {
        self.ops.push(o);
        self
    }
    /// COMPOUND4args bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::new();
        e.string(&self.tag).u32(self.minor).u32(self.ops.len() as u32);
        for o in &self.ops {
            o.encode(&mut e);
        }
        e.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::rpc::Rd;

    #[test]
    fn compound_header_and_simple_ops() {
        let c = Compound::new(1, "t")
            .op(Op::Sequence { sessionid: [3; 16], sequenceid: 5, slotid: 0, highest_slotid: 0, cachethis: false })
            .op(Op::PutRootFh)
            .op(Op::Lookup("vfs".into()))
            .op(Op::GetFh)
            .op(Op::ReclaimComplete { one_fs: false });
        let b = c.encode();
        let mut r = Rd(&b);
        assert_eq!(r.string().unwrap(), "t");
        assert_eq!(r.u32().unwrap(), 1);
        assert_eq!(r.u32().unwrap(), 5);
        assert_eq!(r.u32().unwrap(), op::SEQUENCE);
        assert_eq!(r.fixed(16).unwrap(), &[3; 16]);
        assert_eq!((r.u32().unwrap(), r.u32().unwrap(), r.u32().unwrap(), r.bool().unwrap()), (5, 0, 0, false));
        assert_eq!(r.u32().unwrap(), op::PUTROOTFH);
        assert_eq!(r.u32().unwrap(), op::LOOKUP);
        assert_eq!(r.string().unwrap(), "vfs");
        assert_eq!(r.u32().unwrap(), op::GETFH);
        assert_eq!((r.u32().unwrap(), r.bool().unwrap()), (op::RECLAIM_COMPLETE, false));
        assert!(r.0.is_empty());
    }

    #[test]
    fn open_create_unchecked_layout() {
        let a = OpenArgs {
            seqid: 2,
            share_access: SHARE_ACCESS_BOTH,
            share_deny: 0,
            clientid: 0x1122334455667788,
            owner: b"own".to_vec(),
            how: OpenHow::Unchecked { mode: 0o644 },
            claim: OpenClaim::Null("f1".into()),
        };
        let mut e = Enc::new();
        Op::Open(a).encode(&mut e);
        let mut r = Rd(&e.buf);
        assert_eq!(r.u32().unwrap(), op::OPEN);
        assert_eq!((r.u32().unwrap(), r.u32().unwrap(), r.u32().unwrap()), (2, 3, 0));
        assert_eq!(r.u64().unwrap(), 0x1122334455667788);
        assert_eq!(r.opaque().unwrap(), b"own");
        assert_eq!((r.u32().unwrap(), r.u32().unwrap()), (1, 0));
        assert_eq!(r.u32_array().unwrap(), vec![0, 2]);
        assert_eq!(r.opaque().unwrap(), &[0, 0, 1, 0xa4]);
        assert_eq!(r.u32().unwrap(), 0);
        assert_eq!(r.string().unwrap(), "f1");
        assert!(r.0.is_empty());
    }

    #[test]
    fn open_claims() {
        let mut a = OpenArgs {
            seqid: 0,
            share_access: 1,
            share_deny: 0,
            clientid: 1,
            owner: vec![],
            how: OpenHow::NoCreate,
            claim: OpenClaim::Previous(0),
        };
        let mut e = Enc::new();
        Op::Open(a.clone()).encode(&mut e);
        // op, seqid, access, deny, clientid(8), owner(4), opentype, claim, deleg
        assert_eq!(e.buf.len(), 4 * 4 + 8 + 4 + 4 + 8);
        assert_eq!(&e.buf[e.buf.len() - 12..], &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        a.claim = OpenClaim::Fh;
        let mut e = Enc::new();
        Op::Open(a).encode(&mut e);
        assert_eq!(&e.buf[e.buf.len() - 4..], &[0, 0, 0, 4]);
    }

    #[test]
    fn lock_new_and_existing_owner() {
        let sid = StateId { seqid: 1, other: [9; 12] };
        let mut e = Enc::new();
        Op::Lock(LockArgs {
            locktype: WRITE_LT,
            reclaim: true,
            offset: 10,
            length: 20,
            locker: Locker::New { open_seqid: 3, open_stateid: sid, lock_seqid: 0, clientid: 7, owner: b"lo".to_vec() },
        })
        .encode(&mut e);
        let mut r = Rd(&e.buf);
        assert_eq!((r.u32().unwrap(), r.u32().unwrap(), r.bool().unwrap()), (op::LOCK, WRITE_LT, true));
        assert_eq!((r.u64().unwrap(), r.u64().unwrap()), (10, 20));
        assert!(r.bool().unwrap());
        assert_eq!(r.u32().unwrap(), 3);
        assert_eq!((r.u32().unwrap(), r.fixed(12).unwrap()), (1, &[9u8; 12][..]));
        assert_eq!((r.u32().unwrap(), r.u64().unwrap(), r.opaque().unwrap()), (0, 7, &b"lo"[..]));
        assert!(r.0.is_empty());
        let mut e = Enc::new();
        Op::Lock(LockArgs {
            locktype: READ_LT,
            reclaim: false,
            offset: 0,
            length: u64::MAX,
            locker: Locker::Existing { lock_stateid: sid, lock_seqid: 4 },
        })
        .encode(&mut e);
        assert_eq!(e.buf.len(), 4 + 4 + 4 + 16 + 4 + 16 + 4);
        assert_eq!(&e.buf[e.buf.len() - 4..], &[0, 0, 0, 4]);
    }

    #[test]
    fn session_ops_lengths() {
        let mut e = Enc::new();
        Op::CreateSession { clientid: 1, sequence: 1, flags: 0, fore: ChannelAttrs::default(), back: ChannelAttrs::default(), cb_program: 0x40000000 }
            .encode(&mut e);
        assert_eq!(e.buf.len(), 4 + 8 + 4 + 4 + 28 + 28 + 4 + 4 + 4);
        let mut e = Enc::new();
        Op::ExchangeId { verifier: [1; 8], owner: b"abc".to_vec(), flags: 0 }.encode(&mut e);
        assert_eq!(e.buf.len(), 4 + 8 + 8 + 4 + 4 + 4);
        let mut e = Enc::new();
        Op::SetClientId { verifier: [0; 8], id: b"id".to_vec(), cb_program: 0x40000000, netid: "tcp".into(), addr: "127.0.0.1.0.0".into(), ident: 1 }
            .encode(&mut e);
        assert_eq!(e.buf.len(), 4 + 8 + 8 + 4 + 8 + 4 + 16 + 4);
        for (o, n) in [
            (Op::SetClientIdConfirm { clientid: 1, verifier: [0; 8] }, 20),
            (Op::Renew(5), 12),
            (Op::ReleaseLockOwner { clientid: 5, owner: vec![1, 2, 3] }, 4 + 8 + 4 + 4),
            (Op::DestroyClientId(5), 12),
            (Op::DestroySession([0; 16]), 20),
            (Op::Close { seqid: 1, stateid: StateId::default() }, 24),
            (Op::OpenConfirm { stateid: StateId::default(), seqid: 1 }, 24),
            (Op::LockU { locktype: 2, seqid: 1, stateid: StateId::default(), offset: 0, length: 1 }, 44),
            (Op::LockT { locktype: 2, offset: 0, length: 1, clientid: 1, owner: vec![1] }, 40),
            (Op::GetAttr(vec![1, 2]), 16),
            (Op::PutFh(vec![1; 5]), 16),
        ] {
            let mut e = Enc::new();
            o.encode(&mut e);
            assert_eq!(e.buf.len(), n, "{o:?}");
        }
        assert_eq!(StateId { seqid: 1, other: [0xab; 12] }.hex(), format!("00000001{}", "ab".repeat(12)));
    }
}
