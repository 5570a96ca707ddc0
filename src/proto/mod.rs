//! Protocol decoders, one module per ONC-RPC program, each with a table of procedures.
//!
//! Every module exposes the same three functions:
//! `proc_name(vers, proc) -> Option<&'static str>`,
//! `decode_call(vers, proc, body) -> Result<Call, XdrError>` and
//! `decode_reply(vers, proc, body) -> Result<Reply, XdrError>`, where `body` is what
//! follows the RPC call header (after the verifier) or the accepted reply header.
//! `Call` and `Reply` borrow from the record, implement `Display` (the one-line text
//! summary) and `Serialize` (the JSON object).

use crate::xdr::XdrError;
use serde::Serialize;
use std::fmt;

pub mod mount;
pub mod nfs2;
pub mod nfs3;
pub mod nfs4;
pub mod nlm;
pub mod nsm;
pub mod portmap;

pub const PORTMAP: u32 = 100000;
pub const NFS: u32 = 100003;
pub const MOUNT: u32 = 100005;
pub const NLM: u32 = 100021;
pub const NSM: u32 = 100024;
pub const NFS_ACL: u32 = 100227;
/// The callback program number Linux and most clients use; others are learnt from
/// SETCLIENTID / CREATE_SESSION.
pub const NFS4_CB_DEFAULT: u32 = 0x4000_0000;

/// Short program name, as tcpdump and tshark print them.
pub fn prog_name(prog: u32) -> Option<&'static str> {
    Some(match prog {
        PORTMAP => "portmap",
        NFS => "NFS",
        MOUNT => "MOUNT",
        NLM => "NLM",
        NSM => "NSM",
        NFS_ACL => "NFSACL",
        100001 => "rstat",
        100011 => "rquota",
        _ => return None,
    })
}

/// How a decoder context knows the callback program numbers in use.
pub trait CbPrograms {
    fn is_callback(&self, prog: u32) -> bool;
}

/// The procedure name of any program the project decodes.
pub fn proc_name(prog: u32, vers: u32, proc_: u32, cb: bool) -> Option<&'static str> {
    match prog {
        PORTMAP => portmap::proc_name(vers, proc_),
        NFS if vers == 2 => nfs2::proc_name(vers, proc_),
        NFS if vers == 3 => nfs3::proc_name(vers, proc_),
        NFS if vers == 4 => nfs4::proc_name(vers, proc_),
        MOUNT => mount::proc_name(vers, proc_),
        NLM => nlm::proc_name(vers, proc_),
        NSM => nsm::proc_name(vers, proc_),
        NFS_ACL => nfsacl_proc_name(vers, proc_),
        _ if cb => nfs4::cb::proc_name(vers, proc_),
        _ => None,
    }
}

/// NFSACL (100227), the side protocol Linux and Solaris use for POSIX ACLs over NFSv2/v3.
fn nfsacl_proc_name(vers: u32, proc_: u32) -> Option<&'static str> {
    match (vers, proc_) {
        (_, 0) => Some("NULL"),
        (_, 1) => Some("GETACL"),
        (_, 2) => Some("SETACL"),
        (2, 3) => Some("GETATTR"),
        (2, 4) => Some("ACCESS"),
        (2, 5) => Some("GETXATTRDIR"),
        (3, 3) => Some("GETXATTRDIR"),
        _ => None,
    }
}

/// A decoded call body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallBody<'a> {
    Portmap(portmap::Call<'a>),
    Nfs2(nfs2::Call<'a>),
    Nfs3(nfs3::Call<'a>),
    Nfs4(nfs4::Compound<'a>),
    #[serde(rename = "nfs4_cb")]
    Cb(nfs4::cb::CbCompound<'a>),
    Mount(mount::Call<'a>),
    Nlm(nlm::Call<'a>),
    Nsm(nsm::Call<'a>),
    /// A program or version the project does not decode.
    #[serde(skip)]
    NotDecoded,
    /// The body is encrypted or integrity-wrapped (RPCSEC_GSS integrity/privacy).
    #[serde(rename = "gss_protected")]
    Protected(&'static str),
    /// The decoder failed; what it says and nothing else.
    #[serde(rename = "decode_error")]
    Malformed(String),
}

/// A decoded reply body (only for MSG_ACCEPTED / SUCCESS replies).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyBody<'a> {
    Portmap(portmap::Reply<'a>),
    /// Boxed, as NFSv3's: their file attributes would double the size of every reply.
    Nfs2(Box<nfs2::Reply<'a>>),
    Nfs3(Box<nfs3::Reply<'a>>),
    Nfs4(nfs4::CompoundRes<'a>),
    #[serde(rename = "nfs4_cb")]
    Cb(nfs4::cb::CbCompoundRes<'a>),
    Mount(mount::Reply<'a>),
    Nlm(nlm::Reply<'a>),
    Nsm(nsm::Reply<'a>),
    #[serde(skip)]
    NotDecoded,
    #[serde(rename = "gss_protected")]
    Protected(&'static str),
    #[serde(rename = "decode_error")]
    Malformed(String),
}

fn wrap<'a, T>(r: Result<T, XdrError>, f: impl FnOnce(T) -> CallBody<'a>) -> CallBody<'a> {
    match r {
        Ok(v) => f(v),
        Err(e) => CallBody::Malformed(e.to_string()),
    }
}

fn wrap_r<'a, T>(r: Result<T, XdrError>, f: impl FnOnce(T) -> ReplyBody<'a>) -> ReplyBody<'a> {
    match r {
        Ok(v) => f(v),
        Err(e) => ReplyBody::Malformed(e.to_string()),
    }
}

/// Decode the body of a call to `prog`/`vers`/`proc_`.
pub fn decode_call<'a>(prog: u32, vers: u32, proc_: u32, cb: bool, body: &'a [u8]) -> CallBody<'a> {
    match (prog, vers) {
        (PORTMAP, _) => wrap(portmap::decode_call(vers, proc_, body), CallBody::Portmap),
        (NFS, 2) => wrap(nfs2::decode_call(vers, proc_, body), CallBody::Nfs2),
        (NFS, 3) => wrap(nfs3::decode_call(vers, proc_, body), CallBody::Nfs3),
        (NFS, 4) => wrap(nfs4::decode_call(vers, proc_, body), CallBody::Nfs4),
        (MOUNT, 1..=3) => wrap(mount::decode_call(vers, proc_, body), CallBody::Mount),
        (NLM, 1..=4) => wrap(nlm::decode_call(vers, proc_, body), CallBody::Nlm),
        (NSM, 1) => wrap(nsm::decode_call(vers, proc_, body), CallBody::Nsm),
        _ if cb => wrap(nfs4::cb::decode_call(vers, proc_, body), CallBody::Cb),
        _ => CallBody::NotDecoded,
    }
}

/// Decode the result of a successful call to `prog`/`vers`/`proc_`.
pub fn decode_reply<'a>(prog: u32, vers: u32, proc_: u32, cb: bool, body: &'a [u8]) -> ReplyBody<'a> {
    match (prog, vers) {
        (PORTMAP, _) => wrap_r(portmap::decode_reply(vers, proc_, body), ReplyBody::Portmap),
        (NFS, 2) => wrap_r(nfs2::decode_reply(vers, proc_, body), |r| ReplyBody::Nfs2(Box::new(r))),
        (NFS, 3) => wrap_r(nfs3::decode_reply(vers, proc_, body), |r| ReplyBody::Nfs3(Box::new(r))),
        (NFS, 4) => wrap_r(nfs4::decode_reply(vers, proc_, body), ReplyBody::Nfs4),
        (MOUNT, 1..=3) => wrap_r(mount::decode_reply(vers, proc_, body), ReplyBody::Mount),
        (NLM, 1..=4) => wrap_r(nlm::decode_reply(vers, proc_, body), ReplyBody::Nlm),
        (NSM, 1) => wrap_r(nsm::decode_reply(vers, proc_, body), ReplyBody::Nsm),
        _ if cb => wrap_r(nfs4::cb::decode_reply(vers, proc_, body), ReplyBody::Cb),
        _ => ReplyBody::NotDecoded,
    }
}

impl fmt::Display for CallBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallBody::Portmap(c) => c.fmt(f),
            CallBody::Nfs2(c) => c.fmt(f),
            CallBody::Nfs3(c) => c.fmt(f),
            CallBody::Nfs4(c) => c.fmt(f),
            CallBody::Cb(c) => c.fmt(f),
            CallBody::Mount(c) => c.fmt(f),
            CallBody::Nlm(c) => c.fmt(f),
            CallBody::Nsm(c) => c.fmt(f),
            CallBody::NotDecoded => Ok(()),
            CallBody::Protected(what) => write!(f, "[{what}]"),
            CallBody::Malformed(e) => write!(f, "[malformed: {e}]"),
        }
    }
}

impl fmt::Display for ReplyBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyBody::Portmap(c) => c.fmt(f),
            ReplyBody::Nfs2(c) => c.fmt(f),
            ReplyBody::Nfs3(c) => c.fmt(f),
            ReplyBody::Nfs4(c) => c.fmt(f),
            ReplyBody::Cb(c) => c.fmt(f),
            ReplyBody::Mount(c) => c.fmt(f),
            ReplyBody::Nlm(c) => c.fmt(f),
            ReplyBody::Nsm(c) => c.fmt(f),
            ReplyBody::NotDecoded => Ok(()),
            ReplyBody::Protected(what) => write!(f, "[{what}]"),
            ReplyBody::Malformed(e) => write!(f, "[malformed: {e}]"),
        }
    }
}
