//! The parts of an NFSv4 COMPOUND call the tracker needs, copied out of the message
//! (the reply does not carry the arguments).

use super::{Principal, Sid};
use crate::net::{Endpoint, FrameRef, Transport};
use crate::proto::nfs4::open::Locker as WireLocker;
use crate::proto::nfs4::{Compound, OpArgs, OpenClaim};
use crate::rpc::{Auth, Message};
use crate::state::ranges::Range;
use crate::state::{copy, shared_copy, text};
use std::sync::Arc;

/// An NFSv4 byte range: length all ones means to the end of the file, length 0 is
/// invalid (`None`).
pub fn range4(offset: u64, length: u64) -> Option<Range> {
    match length {
        0 => None,
        u64::MAX => Some(Range { start: offset, end: None }),
        _ => Some(Range::from_offset_len(offset, length)),
    }
}

/// OPEN arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReq {
    pub access: u32,
    pub deny: u32,
    pub clientid: u64,
    pub owner: Arc<[u8]>,
    pub claim: u32,
    /// The name, for claims that open by name in the current directory.
    pub name: Option<Vec<u8>>,
    pub reclaim: bool,
}

impl OpenReq {
    /// The OPEN names a file in the current directory (the current handle changes).
    pub fn by_name(&self) -> bool {
        self.name.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockerReq {
    /// open_to_lock_owner4.
    New { open: Sid, clientid: u64, owner: Arc<[u8]> },
    /// exist_lock_owner4.
    Existing(Sid),
}

/// LOCK arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockReq {
    pub locktype: u32,
    pub reclaim: bool,
    pub range: Option<Range>,
    pub locker: LockerReq,
}

impl LockReq {
    pub fn exclusive(&self) -> bool {
        matches!(self.locktype, 2 | 4)
    }
}

/// One operation of the call, reduced to what state tracking uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum COp {
    PutFh(Vec<u8>),
    PutRootFh,
    GetFh,
    Lookup(Vec<u8>),
    SaveFh,
    RestoreFh,
    /// The current handle becomes an object the call does not name by handle
    /// (PUTPUBFH, LOOKUPP, OPENATTR, SECINFO); CREATE gives the name.
    Unknown { name: Option<Vec<u8>> },
    Open(OpenReq),
    OpenConfirm(Sid),
    OpenDowngrade { stateid: Sid, access: u32, deny: u32 },
    Close(Sid),
    Lock(LockReq),
    Lockt { clientid: u64 },
    Locku { stateid: Sid, range: Option<Range> },
    ReleaseLockowner { clientid: u64, owner: Arc<[u8]> },
    FreeStateid(Sid),
    Delegreturn(Sid),
    Renew(u64),
    Setclientid { verifier: Vec<u8>, id: Vec<u8>, cb_program: u32 },
    SetclientidConfirm(u64),
    ExchangeId { verifier: Vec<u8>, owner: Vec<u8> },
    CreateSession { clientid: u64, cb_program: u32 },
    DestroySession([u8; 16]),
    DestroyClientid(u64),
    Sequence([u8; 16]),
    BindConn([u8; 16]),
    ReclaimComplete,
    /// READ, WRITE, SETATTR, … with a stateid: renews the lease of its owner.
    Stateful(Sid),
    Other,
}

impl COp {
    /// Whether the tracker needs the reply to this operation.
    fn matters(&self) -> bool {
        !matches!(self, COp::Other | COp::PutFh(_) | COp::SaveFh | COp::RestoreFh | COp::Unknown { .. })
    }
}

fn sessionid(b: &[u8]) -> [u8; 16] {
    <[u8; 16]>::try_from(b).unwrap_or_default()
}

fn op(a: &OpArgs<'_>, num: u32) -> COp {
    use crate::proto::nfs4::ops::*;
    use OpArgs as A;
    match a {
        A::Putfh { fh } => COp::PutFh(copy(fh.0 .0)),
        A::Lookup { objname } => COp::Lookup(copy(objname.0)),
        A::Create { objname, .. } => COp::Unknown { name: Some(copy(objname.0)) },
        A::Open(o) => {
            let name = match &o.claim {
                OpenClaim::Null { file } | OpenClaim::DelegateCur { file, .. } | OpenClaim::DelegatePrev { file } => Some(copy(file.0)),
                _ => None,
            };
            COp::Open(OpenReq {
                access: o.share_access,
                deny: o.share_deny,
                clientid: o.owner.clientid,
                owner: shared_copy(o.owner.owner.0),
                claim: o.claim.claim_type(),
                name,
                reclaim: o.is_reclaim(),
            })
        }
        A::OpenConfirm { open_stateid, .. } => COp::OpenConfirm(Sid::from_wire(open_stateid)),
        A::OpenDowngrade { open_stateid, share_access, share_deny, .. } => {
            COp::OpenDowngrade { stateid: Sid::from_wire(open_stateid), access: *share_access, deny: *share_deny }
        }
        A::Close { open_stateid, .. } => COp::Close(Sid::from_wire(open_stateid)),
        A::Lock(l) => {
            let locker = match &l.locker {
                WireLocker::NewOwner { open_stateid, lock_owner, .. } => {
                    LockerReq::New { open: Sid::from_wire(open_stateid), clientid: lock_owner.clientid, owner: shared_copy(lock_owner.owner.0) }
                }
                WireLocker::Existing { lock_stateid, .. } => LockerReq::Existing(Sid::from_wire(lock_stateid)),
            };
            COp::Lock(LockReq { locktype: l.locktype, reclaim: l.reclaim, range: range4(l.offset, l.length), locker })
        }
        A::Lockt(l) => COp::Lockt { clientid: l.owner.clientid },
        A::Locku(l) => COp::Locku { stateid: Sid::from_wire(&l.lock_stateid), range: range4(l.offset, l.length) },
        A::ReleaseLockowner { lock_owner } => COp::ReleaseLockowner { clientid: lock_owner.clientid, owner: shared_copy(lock_owner.owner.0) },
        A::FreeStateid { stateid } => COp::FreeStateid(Sid::from_wire(stateid)),
        A::Delegreturn { stateid } => COp::Delegreturn(Sid::from_wire(stateid)),
        A::Renew { clientid } => COp::Renew(*clientid),
        A::Setclientid(s) => COp::Setclientid { verifier: copy(s.verifier.0), id: copy(s.id.0), cb_program: s.cb_program },
        A::SetclientidConfirm { clientid, .. } => COp::SetclientidConfirm(*clientid),
        A::ExchangeId(x) => COp::ExchangeId { verifier: copy(x.owner.verifier.0), owner: copy(x.owner.ownerid.0) },
        A::CreateSession(c) => COp::CreateSession { clientid: c.clientid, cb_program: c.cb_program },
        A::DestroySession { sessionid: s } => COp::DestroySession(sessionid(s.0)),
        A::DestroyClientid { clientid } => COp::DestroyClientid(*clientid),
        A::Sequence(s) => COp::Sequence(sessionid(s.sessionid.0)),
        A::BindConnToSession(b) => COp::BindConn(sessionid(b.sessionid.0)),
        A::ReclaimComplete { .. } => COp::ReclaimComplete,
        A::Read { stateid, .. }
        | A::Write { stateid, .. }
        | A::Setattr { stateid, .. }
        | A::ReadPlus { stateid, .. }
        | A::Seek { stateid, .. }
        | A::Allocate { stateid, .. }
        | A::Deallocate { stateid, .. }
        | A::WriteSame { stateid, .. }
        | A::Layoutget { stateid, .. }
        | A::IoAdvise { stateid, .. } => COp::Stateful(Sid::from_wire(stateid)),
        A::Void => match num {
            OP_PUTROOTFH => COp::PutRootFh,
            OP_GETFH => COp::GetFh,
            OP_SAVEFH => COp::SaveFh,
            OP_RESTOREFH => COp::RestoreFh,
            OP_PUTPUBFH | OP_LOOKUPP => COp::Unknown { name: None },
            _ => COp::Other,
        },
        A::Openattr { .. } | A::Secinfo { .. } | A::SecinfoNoName { .. } => COp::Unknown { name: None },
        _ => COp::Other,
    }
}

/// A COMPOUND call kept until its reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4Call {
    pub at: FrameRef,
    pub caller: Endpoint,
    pub callee: Endpoint,
    pub transport: Transport,
    pub minor: u32,
    pub principal: Option<Principal>,
    /// (operation number, what it asks).
    pub ops: Vec<(u32, COp)>,
}

impl Nfs4Call {
    /// The call's operations, or `None` when nothing in it can change state or teach
    /// a name (then it is not kept).
    pub fn new(m: &Message<'_>, c: &Compound<'_>, cred: &Auth<'_>) -> Option<Nfs4Call> {
        let ops: Vec<(u32, COp)> = c.ops.iter().map(|o| (o.op, op(&o.args, o.op))).collect();
        if !ops.iter().any(|(_, o)| o.matters()) {
            return None;
        }
        let principal = match cred {
            Auth::Sys { machine, uid, .. } => Some(Principal { machine: text(*machine), uid: *uid }),
            _ => None,
        };
        Some(Nfs4Call { at: m.at, caller: m.src, callee: m.dst, transport: m.transport, minor: c.minorversion, principal, ops })
    }

    /// Operation names, for a one-line summary.
    pub fn summary(&self) -> String {
        let names: Vec<&str> = self.ops.iter().map(|(n, _)| crate::proto::nfs4::ops::op_name(*n).unwrap_or("?")).collect();
        names.join(" ")
    }

    /// The main state operation of the call (OPEN, LOCK, …), for listings.
    pub fn main_op(&self) -> &'static str {
        self.ops
            .iter()
            .rev()
            .find(|(_, o)| !matches!(o, COp::Other | COp::PutFh(_) | COp::PutRootFh | COp::GetFh | COp::SaveFh | COp::RestoreFh | COp::Sequence(_) | COp::Unknown { .. } | COp::Lookup(_)))
            .or(self.ops.last())
            .and_then(|(n, _)| crate::proto::nfs4::ops::op_name(*n))
            .unwrap_or("COMPOUND")
    }
}
