//! Tests on RPC messages taken from real captures of the shared pool (bytes copied as
//! literals; the capture files themselves stay outside the repository).

use super::*;
use crate::xdr::{opaque, u32 as xu32};
use std::collections::HashMap;

/// An RPC message split into header facts and the procedure body.
pub(super) enum RpcMsg<'a> {
    Call {
        xid: u32,
        prog: u32,
        vers: u32,
        proc_: u32,
        service: u32,
        body: &'a [u8],
    },
    /// `body` is `None` unless the reply is MSG_ACCEPTED / SUCCESS.
    Reply {
        xid: u32,
        prog: u32,
        vers: u32,
        proc_: u32,
        service: u32,
        body: Option<&'a [u8]>,
    },
}

/// Split one RPC record (no record mark). Replies are matched with `calls`
/// (xid -> program, version, procedure, RPCSEC_GSS service). RPCSEC_GSS integrity
/// bodies are unwrapped; `service` is 3 for privacy and for GSS control messages,
/// whose bodies are not NFS arguments.
pub(super) fn rpc_split<'a>(
    m: &'a [u8],
    calls: &HashMap<u32, (u32, u32, u32, u32)>,
) -> Option<RpcMsg<'a>> {
    let (i, xid) = xu32(m).ok()?;
    let (i, mtype) = xu32(i).ok()?;
    if mtype == 0 {
        let (i, _rpcvers) = xu32(i).ok()?;
        let (i, prog) = xu32(i).ok()?;
        let (i, vers) = xu32(i).ok()?;
        let (i, proc_) = xu32(i).ok()?;
        let (i, flavor) = xu32(i).ok()?;
        let (i, cred) = opaque(i).ok()?;
        let (i, _vflavor) = xu32(i).ok()?;
        let (mut body, _verf) = opaque(i).ok()?;
        let mut service = 1;
        if flavor == 6 {
            let (c, _gssvers) = xu32(cred).ok()?;
            let (c, gss_proc) = xu32(c).ok()?;
            let (c, _seq) = xu32(c).ok()?;
            let (_, svc) = xu32(c).ok()?;
            service = if gss_proc != 0 { 3 } else { svc };
            if service == 2 {
                let (_, integ) = opaque(body).ok()?;
                body = integ.get(4..)?;
            }
        }
        return Some(RpcMsg::Call {
            xid,
            prog,
            vers,
            proc_,
            service,
            body,
        });
    }
    let &(prog, vers, proc_, service) = calls.get(&xid)?;
    let (i, reply_stat) = xu32(i).ok()?;
    if reply_stat != 0 {
        return Some(RpcMsg::Reply {
            xid,
            prog,
            vers,
            proc_,
            service,
            body: None,
        });
    }
    let (i, _vflavor) = xu32(i).ok()?;
    let (i, _verf) = opaque(i).ok()?;
    let (mut body, accept) = xu32(i).ok()?;
    if accept != 0 {
        return Some(RpcMsg::Reply {
            xid,
            prog,
            vers,
            proc_,
            service,
            body: None,
        });
    }
    if service == 2 {
        let (_, integ) = opaque(body).ok()?;
        body = integ.get(4..)?;
    }
    Some(RpcMsg::Reply {
        xid,
        prog,
        vers,
        proc_,
        service,
        body: Some(body),
    })
}
