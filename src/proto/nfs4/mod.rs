//! NFSv4.0/4.1/4.2 (program 100003 version 4): NULL and COMPOUND.
//!
//! A COMPOUND is decoded operation by operation. An operation number that is not
//! defined, or an operation whose arguments (or result) do not decode, ends the
//! decoding: the operations decoded before it are kept and `stopped` says where and
//! why. Operations are checked against the COMPOUND's minor version; a mismatch is
//! decoded anyway and noted on the operation.
//!
//! Files: `ops` (numbers and names), `status` (nfsstat4), `types` (stateid4, owners,
//! small structures), `attrs` (fattr4), `open` (OPEN and locking), `session` (client
//! ids and sessions), `args` / `args41` / `res` (every operation), `text` (one-line
//! summaries), `cb` (the callback program). Tests: `tests_real` (bytes from real
//! captures), `tests_enc` / `tests_res` / `tests_cb` (encoded vectors, hostile input),
//! Agreement with tshark over the capture pool and the lab captures: `tests/tshark_nfs4.rs`.

pub mod args;
pub mod args41;
pub mod attrs;
pub mod cb;
pub mod open;
pub mod ops;
pub mod res;
pub mod session;
pub mod status;
mod text;
pub mod types;

#[cfg(test)]
mod tests_cb;
#[cfg(test)]
mod tests_enc;
#[cfg(test)]
mod tests_real;
#[cfg(test)]
mod tests_res;

pub use args::OpArgs;
pub use open::{LockDenied, LockRes, OpenClaim, OpenDelegation};
pub use res::OpRes;
pub use status::{status_name, Nfsstat4};
pub use types::{Fh, StateOwner, Stateid4};

use crate::xdr::{string, u32, XStr, XdrError};
use serde::{Serialize, Serializer};

/// Most operations decoded from one COMPOUND (call or reply).
pub const MAX_OPS: usize = 1024;

pub const PROC_NULL: u32 = 0;
pub const PROC_COMPOUND: u32 = 1;

pub fn proc_name(_vers: u32, proc_: u32) -> Option<&'static str> {
    match proc_ {
        PROC_NULL => Some("NULL"),
        PROC_COMPOUND => Some("COMPOUND"),
        _ => None,
    }
}

/// Why decoding of a COMPOUND's operations stopped early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// The operation number is not a defined NFSv4 operation.
    UnknownOp { op: u32 },
    /// The operation's arguments (or result) did not decode. For a result, `status` is
    /// its status when that much was readable.
    DecodeError {
        op: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<Nfsstat4>,
        error: String,
    },
    /// The body ends before the announced number of operations.
    Truncated { count: u32 },
    /// A reply ends after its status, before the tag or the operation count.
    HeaderTruncated,
    /// More operations than [`MAX_OPS`]; the rest were not decoded.
    TooManyOps { count: u32, cap: usize },
}

/// Where decoding stopped: the index of the first operation not decoded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stop {
    pub index: usize,
    #[serde(flatten)]
    pub reason: StopReason,
}

/// One operation of a COMPOUND call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Op<'a> {
    pub op: u32,
    pub name: &'static str,
    /// Set when the operation does not belong to the COMPOUND's minor version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    #[serde(flatten)]
    pub args: OpArgs<'a>,
}

impl Op<'_> {
    pub fn num(&self) -> u32 {
        self.op
    }
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// The longest COMPOUND call body scanned by [`may_name_cb_program`].
pub const CB_SCAN_MAX: usize = 1024;

/// Whether the COMPOUND call in `body` could name a callback program: XDR keeps every
/// item on a 4-byte boundary, so an operation number is always one of the body's aligned
/// words, and a body without the word of SETCLIENTID, BACKCHANNEL_CTL or CREATE_SESSION
/// has none of them (an integrity-wrapped body included). `true` only means "decode to
/// find out": so it is for a body longer than [`CB_SCAN_MAX`] (a WRITE with its data),
/// which decoding walks faster than a scan of every word.
pub fn may_name_cb_program(body: &[u8]) -> bool {
    use ops::{OP_BACKCHANNEL_CTL, OP_CREATE_SESSION, OP_SETCLIENTID};
    if body.len() > CB_SCAN_MAX {
        return true;
    }
    // Words compared as they lie in memory, and without stopping at the first match,
    // so that the loop runs over several words at once.
    let (a, b, c) = (OP_SETCLIENTID.to_be(), OP_BACKCHANNEL_CTL.to_be(), OP_CREATE_SESSION.to_be());
    body.chunks_exact(4).fold(false, |hit, w| {
        let w = u32::from_ne_bytes([w[0], w[1], w[2], w[3]]);
        hit | (w == a) | (w == b) | (w == c)
    })
}

/// A COMPOUND call (or a NULL call, with no operations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compound<'a> {
    /// The procedure (0 NULL, 1 COMPOUND, anything else is undefined and empty).
    #[serde(skip)]
    pub proc_: u32,
    pub tag: XStr<'a>,
    pub minorversion: u32,
    pub ops: Vec<Op<'a>>,
    pub stopped: Option<Stop>,
}

impl<'a> Compound<'a> {
    pub fn minorversion(&self) -> u32 {
        self.minorversion
    }

    /// Callback program numbers this call announces (SETCLIENTID, CREATE_SESSION,
    /// BACKCHANNEL_CTL), so the pipeline can recognise callbacks.
    pub fn cb_programs(&self) -> Vec<u32> {
        self.ops
            .iter()
            .filter_map(|o| match &o.args {
                OpArgs::Setclientid(s) => Some(s.cb_program),
                OpArgs::CreateSession(c) => Some(c.cb_program),
                OpArgs::BackchannelCtl { cb_program, .. } => Some(*cb_program),
                _ => None,
            })
            .collect()
    }

    /// The operations' arguments in order.
    pub fn args(&self) -> impl Iterator<Item = &OpArgs<'a>> {
        self.ops.iter().map(|o| &o.args)
    }
}

/// A COMPOUND reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundRes<'a> {
    /// The procedure, as in [`Compound::proc_`].
    pub proc_: u32,
    pub status: Nfsstat4,
    pub tag: XStr<'a>,
    pub ops: Vec<OpRes<'a>>,
    pub stopped: Option<Stop>,
}

impl CompoundRes<'_> {
    /// The highest minor version among the operations in the reply (the reply itself
    /// does not carry the minor version; the call does).
    pub fn minorversion_hint(&self) -> Option<u32> {
        self.ops
            .iter()
            .filter_map(|o| ops::op_minor(o.num()))
            .filter(|&m| m > 0)
            .max()
            .or(if self.ops.is_empty() { None } else { Some(0) })
    }

    /// The result of the first operation numbered `op`.
    pub fn find(&self, op: u32) -> Option<&OpRes<'_>> {
        self.ops.iter().find(|o| o.num() == op)
    }
}

impl Serialize for CompoundRes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'r, 'a> {
            status: u32,
            status_name: Option<&'static str>,
            tag: &'r XStr<'a>,
            ops: &'r [OpRes<'a>],
            stopped: &'r Option<Stop>,
        }
        Json {
            status: self.status.0,
            status_name: self.status.name(),
            tag: &self.tag,
            ops: &self.ops,
            stopped: &self.stopped,
        }
        .serialize(s)
    }
}

/// Decode `count` items with `item`, keeping the decoded prefix; the closure returns
/// the rest of the input, or the reason to stop.
pub(crate) fn decode_items<'a, T>(
    mut i: &'a [u8],
    count: u32,
    mut item: impl FnMut(&'a [u8]) -> Result<(&'a [u8], T), StopReason>,
) -> (Vec<T>, Option<Stop>) {
    let mut out = Vec::with_capacity((count as usize).min(32));
    for index in 0..count as usize {
        if index >= MAX_OPS {
            return (
                out,
                Some(Stop {
                    index,
                    reason: StopReason::TooManyOps {
                        count,
                        cap: MAX_OPS,
                    },
                }),
            );
        }
        if i.is_empty() {
            return (
                out,
                Some(Stop {
                    index,
                    reason: StopReason::Truncated { count },
                }),
            );
        }
        match item(i) {
            Ok((rest, v)) => {
                out.push(v);
                i = rest;
            }
            Err(reason) => return (out, Some(Stop { index, reason })),
        }
    }
    (out, None)
}

fn decode_compound(body: &[u8]) -> Result<Compound<'_>, XdrError> {
    let (i, tag) = string(body)?;
    let (i, minorversion) = u32(i)?;
    let (i, count) = u32(i)?;
    let (ops, stopped) = decode_items(i, count, |i| {
        let (i, op) = u32(i).map_err(|_| StopReason::Truncated { count })?;
        let name = ops::op_name(op).ok_or(StopReason::UnknownOp { op })?;
        match args::decode_args(op, i) {
            Some(Ok((rest, args))) => Ok((
                rest,
                Op {
                    op,
                    name,
                    note: ops::minor_note(op, minorversion),
                    args,
                },
            )),
            Some(Err(e)) => Err(StopReason::DecodeError {
                op,
                status: None,
                error: XdrError::from(e).to_string(),
            }),
            None => Err(StopReason::UnknownOp { op }),
        }
    });
    Ok(Compound {
        proc_: PROC_COMPOUND,
        tag,
        minorversion,
        ops,
        stopped,
    })
}

fn decode_compound_res(body: &[u8]) -> Result<CompoundRes<'_>, XdrError> {
    let (i, status) = u32(body)?;
    let status = Nfsstat4(status);
    // The overall status is what matters most: keep it even when the rest is cut short.
    let header = string(i).and_then(|(i, tag)| u32(i).map(|(i, count)| (i, tag, count)));
    let Ok((i, tag, count)) = header else {
        let stopped = Some(Stop {
            index: 0,
            reason: StopReason::HeaderTruncated,
        });
        return Ok(CompoundRes {
            proc_: PROC_COMPOUND,
            status,
            tag: XStr(b""),
            ops: Vec::new(),
            stopped,
        });
    };
    let (ops, stopped) = decode_items(i, count, |i| {
        let (i, op) = u32(i).map_err(|_| StopReason::Truncated { count })?;
        match res::decode_res(op, i) {
            Some(Ok((rest, r))) => Ok((rest, r)),
            Some(Err(e)) => Err(StopReason::DecodeError {
                op,
                status: u32(i).ok().map(|(_, s)| Nfsstat4(s)),
                error: XdrError::from(e).to_string(),
            }),
            None => Err(StopReason::UnknownOp { op }),
        }
    });
    Ok(CompoundRes {
        proc_: PROC_COMPOUND,
        status,
        tag,
        ops,
        stopped,
    })
}

pub fn decode_call(_vers: u32, proc_: u32, body: &[u8]) -> Result<Compound<'_>, XdrError> {
    match proc_ {
        PROC_COMPOUND => decode_compound(body),
        _ => Ok(Compound {
            proc_,
            tag: XStr(b""),
            minorversion: 0,
            ops: Vec::new(),
            stopped: None,
        }),
    }
}

pub fn decode_reply(_vers: u32, proc_: u32, body: &[u8]) -> Result<CompoundRes<'_>, XdrError> {
    match proc_ {
        PROC_COMPOUND => decode_compound_res(body),
        _ => Ok(CompoundRes {
            proc_,
            status: Nfsstat4::OK,
            tag: XStr(b""),
            ops: Vec::new(),
            stopped: None,
        }),
    }
}
