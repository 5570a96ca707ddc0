//! NFSv4 callback program (RFC 7530 §17, RFC 8881 §20, RFC 7862 §16): CB_NULL and
//! CB_COMPOUND, sent by the server to the program number the client announced. The
//! same prefix-keeping rule as COMPOUND applies.

use super::attrs::{fattr4, Fattr4};
use super::open::{open_delegation, OpenDelegation};
use super::res::AttrsRes;
use super::status::Nfsstat4;
use super::types::{
    bad, bitmap, fh, fsid, list, sessionid, state_owner, stateid, write_response, xopaque, Bitmap4,
    Fh, Fsid, Range, StateOwner, Stateid4, WriteResponse,
};
use super::{decode_items, Stop, StopReason, PROC_COMPOUND, PROC_NULL};
use crate::xdr::{bool as xbool, string, u32, u64, Opaque, Res, XStr, XdrError};
use serde::{Serialize, Serializer};
use std::fmt;

pub const OP_CB_GETATTR: u32 = 3;
pub const OP_CB_RECALL: u32 = 4;
pub const OP_CB_LAYOUTRECALL: u32 = 5;
pub const OP_CB_NOTIFY: u32 = 6;
pub const OP_CB_PUSH_DELEG: u32 = 7;
pub const OP_CB_RECALL_ANY: u32 = 8;
pub const OP_CB_RECALLABLE_OBJ_AVAIL: u32 = 9;
pub const OP_CB_RECALL_SLOT: u32 = 10;
pub const OP_CB_SEQUENCE: u32 = 11;
pub const OP_CB_WANTS_CANCELLED: u32 = 12;
pub const OP_CB_NOTIFY_LOCK: u32 = 13;
pub const OP_CB_NOTIFY_DEVICEID: u32 = 14;
pub const OP_CB_OFFLOAD: u32 = 15;
pub const OP_CB_ILLEGAL: u32 = 10044;

const NAMES: [&str; 13] = [
    "CB_GETATTR",
    "CB_RECALL",
    "CB_LAYOUTRECALL",
    "CB_NOTIFY",
    "CB_PUSH_DELEG",
    "CB_RECALL_ANY",
    "CB_RECALLABLE_OBJ_AVAIL",
    "CB_RECALL_SLOT",
    "CB_SEQUENCE",
    "CB_WANTS_CANCELLED",
    "CB_NOTIFY_LOCK",
    "CB_NOTIFY_DEVICEID",
    "CB_OFFLOAD",
];

/// The name of callback operation `op`, if defined.
pub fn cb_op_name(op: u32) -> Option<&'static str> {
    if op == OP_CB_ILLEGAL {
        return Some("CB_ILLEGAL");
    }
    NAMES.get(op.checked_sub(3)? as usize).copied()
}

fn cb_minor_note(op: u32, minor: u32) -> Option<&'static str> {
    let introduced = match op {
        3 | 4 | OP_CB_ILLEGAL => 0,
        5..=14 => 1,
        15 => 2,
        _ => return None,
    };
    match introduced {
        1 if minor < 1 => Some("operation not defined before NFSv4.1"),
        2 if minor < 2 => Some("operation not defined before NFSv4.2"),
        _ => None,
    }
}

pub fn proc_name(_vers: u32, proc_: u32) -> Option<&'static str> {
    match proc_ {
        PROC_NULL => Some("CB_NULL"),
        PROC_COMPOUND => Some("CB_COMPOUND"),
        _ => None,
    }
}

/// `layoutrecall4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "recall_type")]
pub enum LayoutRecall<'a> {
    #[serde(rename = "LAYOUTRECALL4_FILE")]
    File {
        fh: Fh<'a>,
        offset: u64,
        length: u64,
        stateid: Stateid4<'a>,
    },
    #[serde(rename = "LAYOUTRECALL4_FSID")]
    Fsid { fsid: Fsid },
    #[serde(rename = "LAYOUTRECALL4_ALL")]
    All,
}

fn layoutrecall(i: &[u8]) -> Res<'_, LayoutRecall<'_>> {
    let (i, t) = u32(i)?;
    match t {
        1 => {
            let (i, fh) = fh(i)?;
            let (i, offset) = u64(i)?;
            let (i, length) = u64(i)?;
            let (i, stateid) = stateid(i)?;
            Ok((
                i,
                LayoutRecall::File {
                    fh,
                    offset,
                    length,
                    stateid,
                },
            ))
        }
        2 => fsid(i).map(|(i, fsid)| (i, LayoutRecall::Fsid { fsid })),
        3 => Ok((i, LayoutRecall::All)),
        _ => Err(bad("layoutrecall_type4", t)),
    }
}

/// `notify4`: a mask and its values, left opaque.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notify<'a> {
    pub mask: Bitmap4,
    pub vals: Opaque<'a>,
}

fn notify(i: &[u8]) -> Res<'_, Notify<'_>> {
    let (i, mask) = bitmap(i)?;
    let (i, vals) = xopaque(i)?;
    Ok((i, Notify { mask, vals }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReferringCall {
    pub sequenceid: u32,
    pub slotid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferringCallList<'a> {
    pub sessionid: Opaque<'a>,
    pub calls: Vec<ReferringCall>,
}

fn referring_call_list(i: &[u8]) -> Res<'_, ReferringCallList<'_>> {
    let (i, sessionid) = sessionid(i)?;
    let (i, calls) = list(|i| {
        let (i, sequenceid) = u32(i)?;
        let (i, slotid) = u32(i)?;
        Ok((i, ReferringCall { sequenceid, slotid }))
    })(i)?;
    Ok((i, ReferringCallList { sessionid, calls }))
}

/// `CB_SEQUENCE4args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CbSequenceArgs<'a> {
    pub sessionid: Opaque<'a>,
    pub sequenceid: u32,
    pub slotid: u32,
    pub highest_slotid: u32,
    pub cachethis: bool,
    pub referring_call_lists: Vec<ReferringCallList<'a>>,
}

/// `offload_info4` (CB_OFFLOAD): the copy's result, or on failure the bytes copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OffloadInfo<'a> {
    pub status: Nfsstat4,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<WriteResponse<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_copied: Option<u64>,
}

fn offload_info(i: &[u8]) -> Res<'_, OffloadInfo<'_>> {
    let (i, st) = u32(i)?;
    let status = Nfsstat4(st);
    if st == 0 {
        let (i, r) = write_response(i)?;
        Ok((
            i,
            OffloadInfo {
                status,
                response: Some(r),
                bytes_copied: None,
            },
        ))
    } else {
        let (i, n) = u64(i)?;
        Ok((
            i,
            OffloadInfo {
                status,
                response: None,
                bytes_copied: Some(n),
            },
        ))
    }
}

/// The arguments of one callback operation (fields merged into the JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CbArgs<'a> {
    /// CB_ILLEGAL.
    Void,
    Getattr {
        fh: Fh<'a>,
        attr_request: Bitmap4,
    },
    Recall {
        stateid: Stateid4<'a>,
        truncate: bool,
        fh: Fh<'a>,
    },
    Layoutrecall {
        layout_type: u32,
        iomode: u32,
        changed: bool,
        recall: LayoutRecall<'a>,
    },
    Notify {
        stateid: Stateid4<'a>,
        fh: Fh<'a>,
        changes: Vec<Notify<'a>>,
    },
    PushDeleg {
        fh: Fh<'a>,
        delegation: OpenDelegation<'a>,
    },
    RecallAny {
        objects_to_keep: u32,
        type_mask: Bitmap4,
    },
    RecallableObjAvail {
        objects_to_keep: u32,
        type_mask: Bitmap4,
    },
    RecallSlot {
        target_highest_slotid: u32,
    },
    Sequence(CbSequenceArgs<'a>),
    WantsCancelled {
        contended_wants_cancelled: bool,
        resourced_wants_cancelled: bool,
    },
    NotifyLock {
        fh: Fh<'a>,
        lock_owner: StateOwner<'a>,
    },
    NotifyDeviceid {
        changes: Vec<Notify<'a>>,
    },
    Offload {
        fh: Fh<'a>,
        stateid: Stateid4<'a>,
        info: OffloadInfo<'a>,
    },
}

fn recall_any(i: &[u8]) -> Res<'_, (u32, Bitmap4)> {
    let (i, keep) = u32(i)?;
    let (i, mask) = bitmap(i)?;
    Ok((i, (keep, mask)))
}

fn cb_args(op: u32, i: &[u8]) -> Res<'_, CbArgs<'_>> {
    use CbArgs as A;
    Ok(match op {
        OP_CB_ILLEGAL => (i, A::Void),
        OP_CB_GETATTR => {
            let (i, fh) = fh(i)?;
            let (i, attr_request) = bitmap(i)?;
            (i, A::Getattr { fh, attr_request })
        }
        OP_CB_RECALL => {
            let (i, stateid) = stateid(i)?;
            let (i, truncate) = xbool(i)?;
            let (i, fh) = fh(i)?;
            (
                i,
                A::Recall {
                    stateid,
                    truncate,
                    fh,
                },
            )
        }
        OP_CB_LAYOUTRECALL => {
            let (i, layout_type) = u32(i)?;
            let (i, iomode) = u32(i)?;
            let (i, changed) = xbool(i)?;
            let (i, recall) = layoutrecall(i)?;
            (
                i,
                A::Layoutrecall {
                    layout_type,
                    iomode,
                    changed,
                    recall,
                },
            )
        }
        OP_CB_NOTIFY => {
            let (i, stateid) = stateid(i)?;
            let (i, fh) = fh(i)?;
            let (i, changes) = list(notify)(i)?;
            (
                i,
                A::Notify {
                    stateid,
                    fh,
                    changes,
                },
            )
        }
        OP_CB_PUSH_DELEG => {
            let (i, fh) = fh(i)?;
            let (i, delegation) = open_delegation(i)?;
            (i, A::PushDeleg { fh, delegation })
        }
        OP_CB_RECALL_ANY => recall_any(i).map(|(i, (k, m))| {
            (
                i,
                A::RecallAny {
                    objects_to_keep: k,
                    type_mask: m,
                },
            )
        })?,
        OP_CB_RECALLABLE_OBJ_AVAIL => recall_any(i).map(|(i, (k, m))| {
            (
                i,
                A::RecallableObjAvail {
                    objects_to_keep: k,
                    type_mask: m,
                },
            )
        })?,
        OP_CB_RECALL_SLOT => u32(i).map(|(i, t)| {
            (
                i,
                A::RecallSlot {
                    target_highest_slotid: t,
                },
            )
        })?,
        OP_CB_SEQUENCE => {
            let (i, sessionid) = sessionid(i)?;
            let (i, sequenceid) = u32(i)?;
            let (i, slotid) = u32(i)?;
            let (i, highest_slotid) = u32(i)?;
            let (i, cachethis) = xbool(i)?;
            let (i, referring_call_lists) = list(referring_call_list)(i)?;
            let s = CbSequenceArgs {
                sessionid,
                sequenceid,
                slotid,
                highest_slotid,
                cachethis,
                referring_call_lists,
            };
            (i, A::Sequence(s))
        }
        OP_CB_WANTS_CANCELLED => {
            let (i, contended_wants_cancelled) = xbool(i)?;
            let (i, resourced_wants_cancelled) = xbool(i)?;
            (
                i,
                A::WantsCancelled {
                    contended_wants_cancelled,
                    resourced_wants_cancelled,
                },
            )
        }
        OP_CB_NOTIFY_LOCK => {
            let (i, fh) = fh(i)?;
            let (i, lock_owner) = state_owner(i)?;
            (i, A::NotifyLock { fh, lock_owner })
        }
        OP_CB_NOTIFY_DEVICEID => {
            list(notify)(i).map(|(i, changes)| (i, A::NotifyDeviceid { changes }))?
        }
        OP_CB_OFFLOAD => {
            let (i, fh) = fh(i)?;
            let (i, stateid) = stateid(i)?;
            let (i, info) = offload_info(i)?;
            (i, A::Offload { fh, stateid, info })
        }
        _ => return Err(bad("nfs_cb_opnum4", op)),
    })
}

/// One operation of a CB_COMPOUND call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CbOp<'a> {
    pub op: u32,
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    #[serde(flatten)]
    pub args: CbArgs<'a>,
}

impl CbOp<'_> {
    pub fn num(&self) -> u32 {
        self.op
    }
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// `CB_SEQUENCE4resok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CbSequenceRes<'a> {
    pub sessionid: Opaque<'a>,
    pub sequenceid: u32,
    pub slotid: u32,
    pub highest_slotid: u32,
    pub target_highest_slotid: u32,
}

/// The result of one callback operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CbRes<'a> {
    /// A bare status (every callback result except successful CB_GETATTR/CB_SEQUENCE).
    Status {
        op: u32,
        status: Nfsstat4,
    },
    Getattr(AttrsRes<'a>),
    Sequence(CbSequenceRes<'a>),
}

impl CbRes<'_> {
    pub fn num(&self) -> u32 {
        match self {
            CbRes::Status { op, .. } => *op,
            CbRes::Getattr(_) => OP_CB_GETATTR,
            CbRes::Sequence(_) => OP_CB_SEQUENCE,
        }
    }
    pub fn name(&self) -> &'static str {
        cb_op_name(self.num()).unwrap_or("?")
    }
    pub fn status(&self) -> Nfsstat4 {
        match self {
            CbRes::Status { status, .. } => *status,
            _ => Nfsstat4::OK,
        }
    }
}

struct CbFields<'r, 'a>(&'r CbRes<'a>);

impl Serialize for CbFields<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            CbRes::Status { .. } => s.serialize_unit(),
            CbRes::Getattr(g) => g.serialize(s),
            CbRes::Sequence(q) => q.serialize(s),
        }
    }
}

impl Serialize for CbRes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'r, 'a> {
            op: u32,
            name: &'static str,
            status: u32,
            status_name: Option<&'static str>,
            #[serde(flatten)]
            fields: CbFields<'r, 'a>,
        }
        let st = self.status();
        Json {
            op: self.num(),
            name: self.name(),
            status: st.0,
            status_name: st.name(),
            fields: CbFields(self),
        }
        .serialize(s)
    }
}

fn cb_res(op: u32, i: &[u8]) -> Res<'_, CbRes<'_>> {
    let (i, st) = u32(i)?;
    let status = Nfsstat4(st);
    if st != 0 {
        return Ok((i, CbRes::Status { op, status }));
    }
    Ok(match op {
        OP_CB_GETATTR => fattr4(i)
            .map(|(i, a): (_, Fattr4<'_>)| (i, CbRes::Getattr(AttrsRes { obj_attributes: a })))?,
        OP_CB_SEQUENCE => {
            let (i, sessionid) = sessionid(i)?;
            let (i, sequenceid) = u32(i)?;
            let (i, slotid) = u32(i)?;
            let (i, highest_slotid) = u32(i)?;
            let (i, target_highest_slotid) = u32(i)?;
            let r = CbSequenceRes {
                sessionid,
                sequenceid,
                slotid,
                highest_slotid,
                target_highest_slotid,
            };
            (i, CbRes::Sequence(r))
        }
        _ => (i, CbRes::Status { op, status }),
    })
}

/// A CB_COMPOUND call (or CB_NULL, with no operations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CbCompound<'a> {
    #[serde(skip)]
    pub proc_: u32,
    pub tag: XStr<'a>,
    pub minorversion: u32,
    pub callback_ident: u32,
    pub ops: Vec<CbOp<'a>>,
    pub stopped: Option<Stop>,
}

impl CbCompound<'_> {
    pub fn minorversion(&self) -> u32 {
        self.minorversion
    }
}

/// A CB_COMPOUND reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CbCompoundRes<'a> {
    pub proc_: u32,
    pub status: Nfsstat4,
    pub tag: XStr<'a>,
    pub ops: Vec<CbRes<'a>>,
    pub stopped: Option<Stop>,
}

impl Serialize for CbCompoundRes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'r, 'a> {
            status: u32,
            status_name: Option<&'static str>,
            tag: &'r XStr<'a>,
            ops: &'r [CbRes<'a>],
            stopped: &'r Option<Stop>,
        }
        let j = Json {
            status: self.status.0,
            status_name: self.status.name(),
            tag: &self.tag,
            ops: &self.ops,
            stopped: &self.stopped,
        };
        j.serialize(s)
    }
}

fn decode_cb_compound(body: &[u8]) -> Result<CbCompound<'_>, XdrError> {
    let (i, tag) = string(body)?;
    let (i, minorversion) = u32(i)?;
    let (i, callback_ident) = u32(i)?;
    let (i, count) = u32(i)?;
    let (ops, stopped) = decode_items(i, count, |i| {
        let (i, op) = u32(i).map_err(|_| StopReason::Truncated { count })?;
        let name = cb_op_name(op).ok_or(StopReason::UnknownOp { op })?;
        match cb_args(op, i) {
            Ok((rest, args)) => Ok((
                rest,
                CbOp {
                    op,
                    name,
                    note: cb_minor_note(op, minorversion),
                    args,
                },
            )),
            Err(e) => Err(StopReason::DecodeError {
                op,
                status: None,
                error: XdrError::from(e).to_string(),
            }),
        }
    });
    Ok(CbCompound {
        proc_: PROC_COMPOUND,
        tag,
        minorversion,
        callback_ident,
        ops,
        stopped,
    })
}

fn decode_cb_compound_res(body: &[u8]) -> Result<CbCompoundRes<'_>, XdrError> {
    let (i, status) = u32(body)?;
    let status = Nfsstat4(status);
    let header = string(i).and_then(|(i, tag)| u32(i).map(|(i, count)| (i, tag, count)));
    let Ok((i, tag, count)) = header else {
        let stopped = Some(Stop {
            index: 0,
            reason: StopReason::HeaderTruncated,
        });
        return Ok(CbCompoundRes {
            proc_: PROC_COMPOUND,
            status,
            tag: XStr(b""),
            ops: Vec::new(),
            stopped,
        });
    };
    let (ops, stopped) = decode_items(i, count, |i| {
        let (i, op) = u32(i).map_err(|_| StopReason::Truncated { count })?;
        cb_op_name(op).ok_or(StopReason::UnknownOp { op })?;
        cb_res(op, i).map_err(|e| StopReason::DecodeError {
            op,
            status: u32(i).ok().map(|(_, s)| Nfsstat4(s)),
            error: XdrError::from(e).to_string(),
        })
    });
    Ok(CbCompoundRes {
        proc_: PROC_COMPOUND,
        status,
        tag,
        ops,
        stopped,
    })
}

pub fn decode_call(_vers: u32, proc_: u32, body: &[u8]) -> Result<CbCompound<'_>, XdrError> {
    match proc_ {
        PROC_COMPOUND => decode_cb_compound(body),
        _ => Ok(CbCompound {
            proc_,
            tag: XStr(b""),
            minorversion: 0,
            callback_ident: 0,
            ops: Vec::new(),
            stopped: None,
        }),
    }
}

pub fn decode_reply(_vers: u32, proc_: u32, body: &[u8]) -> Result<CbCompoundRes<'_>, XdrError> {
    match proc_ {
        PROC_COMPOUND => decode_cb_compound_res(body),
        _ => Ok(CbCompoundRes {
            proc_,
            status: Nfsstat4::OK,
            tag: XStr(b""),
            ops: Vec::new(),
            stopped: None,
        }),
    }
}

impl fmt::Display for CbOp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        match &self.args {
            CbArgs::Recall {
                stateid,
                truncate,
                fh,
            } => {
                write!(
                    f,
                    "({stateid}, {fh}{})",
                    if *truncate { ", truncate" } else { "" }
                )
            }
            CbArgs::Getattr { fh, .. } => write!(f, "({fh})"),
            CbArgs::Layoutrecall {
                recall:
                    LayoutRecall::File {
                        fh,
                        offset,
                        length,
                        stateid,
                    },
                ..
            } => {
                write!(f, "(file {fh} {} {stateid})", Range(*offset, *length))
            }
            CbArgs::Layoutrecall {
                recall: LayoutRecall::Fsid { fsid },
                ..
            } => {
                write!(f, "(fsid {}.{})", fsid.major, fsid.minor)
            }
            CbArgs::Layoutrecall {
                recall: LayoutRecall::All,
                ..
            } => f.write_str("(all)"),
            CbArgs::NotifyLock { fh, lock_owner } => write!(f, "({fh}, {lock_owner})"),
            CbArgs::RecallAny {
                objects_to_keep, ..
            } => write!(f, "(keep {objects_to_keep})"),
            CbArgs::Offload { stateid, info, .. } => write!(f, "({stateid}, {})", info.status),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for CbCompound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.proc_ != PROC_COMPOUND {
            return Ok(());
        }
        write!(f, "cb_ident {}", self.callback_ident)?;
        for op in &self.ops {
            write!(f, " {op}")?;
        }
        if let Some(s) = &self.stopped {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CbCompoundRes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.proc_ != PROC_COMPOUND {
            return Ok(());
        }
        write!(f, "{}", self.status)?;
        for op in &self.ops {
            let st = op.status();
            if st.is_ok() {
                write!(f, " {} ok", op.name())?;
            } else {
                write!(f, " {} {st}", op.name())?;
            }
        }
        if let Some(s) = &self.stopped {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}
