//! ONC-RPC: record marking, message headers, call/reply matching, and the decoded
//! message that the rest of gracewatch consumes.

pub mod matcher;
pub mod msg;
pub mod record;

use crate::net::{Endpoint, FrameRef, Transport};
use crate::proto::{CallBody, ReplyBody};
pub use msg::{AcceptStat, Auth, CallHeader, GssService, RejectStat, ReplyStat};

/// One decoded RPC message, borrowed from the capture buffers.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    /// The frame that completed the message.
    pub at: FrameRef,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub transport: Transport,
    pub xid: u32,
    /// Only the start of the message was captured (a gap, or over the size cap):
    /// the header is right, the body may be cut short.
    pub partial: bool,
    pub kind: Kind<'a>,
}

/// Program, version and procedure of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcId {
    pub prog: u32,
    pub vers: u32,
    pub proc_: u32,
    /// The program is an NFSv4 callback program.
    pub cb: bool,
}

impl ProcId {
    pub fn name(&self) -> Option<&'static str> {
        crate::proto::proc_name(self.prog, self.vers, self.proc_, self.cb)
    }
}

#[derive(Debug, Clone)]
pub enum Kind<'a> {
    Call {
        header: CallHeader<'a>,
        id: ProcId,
        body: CallBody<'a>,
        /// Same xid, addresses and ports as an earlier call still awaiting its reply.
        retransmit: bool,
    },
    Reply {
        stat: ReplyStat<'a>,
        /// From the matched call; `None` when the call was not captured.
        id: Option<ProcId>,
        body: ReplyBody<'a>,
        call: Option<FrameRef>,
        latency_ns: Option<i64>,
        /// A second reply to a call that was already answered.
        duplicate: bool,
    },
}

impl Message<'_> {
    pub fn is_call(&self) -> bool {
        matches!(self.kind, Kind::Call { .. })
    }
    /// The procedure, for calls and for matched replies.
    pub fn proc_id(&self) -> Option<ProcId> {
        match &self.kind {
            Kind::Call { id, .. } => Some(*id),
            Kind::Reply { id, .. } => *id,
        }
    }
    /// The server side of the exchange (the callee).
    pub fn server(&self) -> Endpoint {
        if self.is_call() { self.dst } else { self.src }
    }
    /// The client side of the exchange (the caller).
    pub fn client(&self) -> Endpoint {
        if self.is_call() { self.src } else { self.dst }
    }
}
