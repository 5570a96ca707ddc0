//! ONC-RPC v2 (RFC 5531) call headers, AUTH_SYS/AUTH_NONE credentials, TCP record
//! marking, and the minimal reply-header reading a client needs.

use crate::xdr::{self, Enc, XdrError};

pub const CALL: u32 = 0;
pub const REPLY: u32 = 1;
pub const AUTH_NONE: u32 = 0;
pub const AUTH_SYS: u32 = 1;
/// Last-fragment bit of a TCP record mark.
pub const LAST_FRAG: u32 = 0x8000_0000;

/// The credential a call carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cred {
    None,
    Sys(AuthSys),
}

/// AUTH_SYS parameters (RFC 5531 appendix A).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSys {
    pub stamp: u32,
    pub machinename: String,
    pub uid: u32,
    pub gid: u32,
    pub gids: Vec<u32>,
}

impl AuthSys {
    /// Root on `machine`, the credential the lab clients use.
    pub fn root(machine: &str) -> Self {
        AuthSys { stamp: 0, machinename: machine.to_string(), uid: 0, gid: 0, gids: vec![0] }
    }
}

impl Cred {
    pub fn encode(&self, e: &mut Enc) {
        match self {
            Cred::None => {
                e.u32(AUTH_NONE).u32(0);
            }
            Cred::Sys(a) => {
                let mut b = Enc::new();
                b.u32(a.stamp).string(&a.machinename).u32(a.uid).u32(a.gid);
                b.u32(a.gids.len().min(16) as u32);
                for g in a.gids.iter().take(16) {
                    b.u32(*g);
                }
                e.u32(AUTH_SYS).opaque(&b.buf);
            }
        }
    }
}

/// Identifies the procedure a call invokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcId {
    pub prog: u32,
    pub vers: u32,
    pub proc_: u32,
}

/// Encode a complete call message (header, credential, AUTH_NONE verifier, arguments).
pub fn encode_call(xid: u32, p: ProcId, cred: &Cred, args: &[u8]) -> Vec<u8> {
    let mut e = Enc::new();
    e.u32(xid).u32(CALL).u32(2).u32(p.prog).u32(p.vers).u32(p.proc_);
    cred.encode(&mut e);
    e.u32(AUTH_NONE).u32(0);
    e.buf.extend_from_slice(args);
    e.into_vec()
}

/// Encode a reply accepted with SUCCESS (AUTH_NONE verifier) carrying `results`.
pub fn encode_reply(xid: u32, results: &[u8]) -> Vec<u8> {
    let mut e = Enc::new();
    e.u32(xid).u32(REPLY).u32(0).u32(AUTH_NONE).u32(0).u32(0);
    e.buf.extend_from_slice(results);
    e.into_vec()
}

/// Wrap one message in a single last fragment.
pub fn record_mark(msg: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(msg.len() + 4);
    v.extend_from_slice(&(LAST_FRAG | msg.len() as u32).to_be_bytes());
    v.extend_from_slice(msg);
    v
}

/// Split a record mark into (last fragment, length).
pub fn parse_mark(m: [u8; 4]) -> (bool, usize) {
    let v = u32::from_be_bytes(m);
    (v & LAST_FRAG != 0, (v & !LAST_FRAG) as usize)
}

/// Why a reply did not carry results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyStatus {
    Success,
    /// accept_stat other than SUCCESS (1 PROG_UNAVAIL, 2 PROG_MISMATCH, 3 PROC_UNAVAIL,
    /// 4 GARBAGE_ARGS, 5 SYSTEM_ERR).
    Accepted(u32),
    /// MSG_DENIED: reject_stat (0 RPC_MISMATCH, 1 AUTH_ERROR) and its detail.
    Denied { reject: u32, detail: u32 },
}

/// A reply header and the results that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyHdr<'a> {
    pub xid: u32,
    pub status: ReplyStatus,
    pub body: &'a [u8],
}

/// Read the header of a reply message; `body` is the procedure's results.
pub fn parse_reply(msg: &[u8]) -> Result<ReplyHdr<'_>, XdrError> {
    let mut r = Rd(msg);
    let xid = r.u32()?;
    let mtype = r.u32()?;
    if mtype != REPLY {
        return Err(XdrError::BadValue { what: "msg_type", value: mtype });
    }
    let stat = r.u32()?;
    let status = if stat == 0 {
        let _flavor = r.u32()?;
        let _verf = r.opaque()?;
        match r.u32()? {
            0 => ReplyStatus::Success,
            n => ReplyStatus::Accepted(n),
        }
    } else {
        let reject = r.u32()?;
        let detail = r.u32().unwrap_or(0);
        ReplyStatus::Denied { reject, detail }
    };
    Ok(ReplyHdr { xid, status, body: r.0 })
}

/// A small cursor over XDR results, built on the crate's XDR primitives.
#[derive(Debug, Clone, Copy)]
pub struct Rd<'a>(pub &'a [u8]);

impl<'a> Rd<'a> {
    pub fn u32(&mut self) -> Result<u32, XdrError> {
        let (i, v) = xdr::u32(self.0)?;
        self.0 = i;
        Ok(v)
    }
    pub fn i32(&mut self) -> Result<i32, XdrError> {
        Ok(self.u32()? as i32)
    }
    pub fn u64(&mut self) -> Result<u64, XdrError> {
        let (i, v) = xdr::u64(self.0)?;
        self.0 = i;
        Ok(v)
    }
    pub fn bool(&mut self) -> Result<bool, XdrError> {
        Ok(self.u32()? != 0)
    }
    pub fn opaque(&mut self) -> Result<&'a [u8], XdrError> {
        let (i, v) = xdr::opaque(self.0)?;
        self.0 = i;
        Ok(v)
    }
    pub fn fixed(&mut self, n: usize) -> Result<&'a [u8], XdrError> {
        let (i, v) = xdr::fixed(n)(self.0)?;
        self.0 = i;
        Ok(v)
    }
    pub fn string(&mut self) -> Result<String, XdrError> {
        Ok(String::from_utf8_lossy(self.opaque()?).into_owned())
    }
    /// Skip a counted array of u32 (a bitmap4, for instance).
    pub fn u32_array(&mut self) -> Result<Vec<u32>, XdrError> {
        let n = self.u32()?;
        if (n as usize).saturating_mul(4) > self.0.len() {
            return Err(XdrError::BadLength { len: n, left: self.0.len() });
        }
        (0..n).map(|_| self.u32()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_header_layout() {
        let cred = Cred::Sys(AuthSys { stamp: 7, machinename: "c1".into(), uid: 1, gid: 2, gids: vec![3] });
        let m = encode_call(0x1234, ProcId { prog: 100021, vers: 4, proc_: 2 }, &cred, &[0xaa, 0xbb, 0xcc, 0xdd]);
        let mut r = Rd(&m);
        assert_eq!(r.u32().unwrap(), 0x1234);
        assert_eq!(r.u32().unwrap(), CALL);
        assert_eq!(r.u32().unwrap(), 2);
        assert_eq!((r.u32().unwrap(), r.u32().unwrap(), r.u32().unwrap()), (100021, 4, 2));
        assert_eq!(r.u32().unwrap(), AUTH_SYS);
        let body = r.opaque().unwrap();
        let mut b = Rd(body);
        assert_eq!(b.u32().unwrap(), 7);
        assert_eq!(b.string().unwrap(), "c1");
        assert_eq!((b.u32().unwrap(), b.u32().unwrap()), (1, 2));
        assert_eq!(b.u32_array().unwrap(), vec![3]);
        assert!(b.0.is_empty());
        assert_eq!((r.u32().unwrap(), r.u32().unwrap()), (AUTH_NONE, 0));
        assert_eq!(r.0, &[0xaa, 0xbb, 0xcc, 0xdd]);
    }

    #[test]
    fn auth_none_is_two_zero_words() {
        let m = encode_call(1, ProcId { prog: 1, vers: 1, proc_: 0 }, &Cred::None, &[]);
        assert_eq!(m.len(), 40);
        assert_eq!(&m[24..40], &[0u8; 16]);
    }

    #[test]
    fn reply_encoder_round_trips() {
        let m = encode_reply(0xfeed, &[0, 0, 0, 7]);
        let r = parse_reply(&m).unwrap();
        assert_eq!((r.xid, r.status, r.body), (0xfeed, ReplyStatus::Success, &[0u8, 0, 0, 7][..]));
        assert_eq!(m.len(), 28);
    }

    #[test]
    fn record_mark_sets_last_fragment() {
        let v = record_mark(&[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&v[..4], &[0x80, 0, 0, 8]);
        assert_eq!(parse_mark([0x80, 0, 0, 8]), (true, 8));
        assert_eq!(parse_mark([0, 0, 1, 0]), (false, 256));
    }

    #[test]
    fn reply_header_success_and_errors() {
        let mut e = Enc::new();
        e.u32(9).u32(REPLY).u32(0).u32(0).u32(0).u32(0).u32(42);
        let r = parse_reply(&e.buf).unwrap();
        assert_eq!((r.xid, &r.status, r.body), (9, &ReplyStatus::Success, &[0u8, 0, 0, 42][..]));
        let mut e = Enc::new();
        e.u32(9).u32(REPLY).u32(0).u32(0).u32(0).u32(3);
        assert_eq!(parse_reply(&e.buf).unwrap().status, ReplyStatus::Accepted(3));
        let mut e = Enc::new();
        e.u32(9).u32(REPLY).u32(1).u32(1).u32(2);
        assert_eq!(parse_reply(&e.buf).unwrap().status, ReplyStatus::Denied { reject: 1, detail: 2 });
        let mut e = Enc::new();
        e.u32(9).u32(CALL);
        assert!(parse_reply(&e.buf).is_err());
        assert!(parse_reply(&[0, 0]).is_err());
    }
}
