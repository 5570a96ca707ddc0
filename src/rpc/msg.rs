//! ONC-RPC messages (RFC 5531 §9): call and reply headers, credentials and verifiers.

use crate::xdr::{opaque, u32, Opaque, XStr, XdrError};
use serde::{Serialize, Serializer};
use std::fmt;

mod at;
pub use at::HeaderAt;

pub const AUTH_NONE: u32 = 0;
pub const AUTH_SYS: u32 = 1;
pub const AUTH_SHORT: u32 = 2;
pub const AUTH_DH: u32 = 3;
pub const RPCSEC_GSS: u32 = 6;
pub const AUTH_TLS: u32 = 7;

/// RFC 5531 limits an opaque_auth body to 400 bytes.
pub const MAX_AUTH: u32 = 400;

/// RPCSEC_GSS service levels (RFC 2203 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GssService {
    None,
    Integrity,
    Privacy,
    Unknown(u32),
}

/// A credential or verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "flavor", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Auth<'a> {
    #[serde(rename = "AUTH_NONE")]
    None,
    #[serde(rename = "AUTH_SYS")]
    Sys { stamp: u32, machine: XStr<'a>, uid: u32, gid: u32, gids: Gids<'a> },
    #[serde(rename = "AUTH_SHORT")]
    Short { body: Opaque<'a> },
    #[serde(rename = "RPCSEC_GSS")]
    Gss { version: u32, gss_proc: u32, seq: u32, service: GssService, handle: Opaque<'a> },
    /// A RPCSEC_GSS verifier: the MIC only.
    #[serde(rename = "RPCSEC_GSS_VERF")]
    GssVerf { mic: Opaque<'a> },
    #[serde(rename = "AUTH_TLS")]
    Tls { body: Opaque<'a> },
    #[serde(rename = "OTHER")]
    Other { number: u32, body: Opaque<'a> },
}

/// Supplementary gids as they lie on the wire (at most 16), read without copying.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Gids<'a>(&'a [u8]);

impl Gids<'_> {
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

impl fmt::Debug for Gids<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Gids<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl Auth<'_> {
    pub fn flavor_name(&self) -> &'static str {
        match self {
            Auth::None => "AUTH_NONE",
            Auth::Sys { .. } => "AUTH_SYS",
            Auth::Short { .. } => "AUTH_SHORT",
            Auth::Gss { .. } | Auth::GssVerf { .. } => "RPCSEC_GSS",
            Auth::Tls { .. } => "AUTH_TLS",
            Auth::Other { .. } => "OTHER",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallHeader<'a> {
    pub xid: u32,
    pub rpcvers: u32,
    pub prog: u32,
    pub vers: u32,
    pub proc_: u32,
    pub cred: Auth<'a>,
    pub verf: Auth<'a>,
}

/// accept_stat (RFC 5531).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptStat {
    Success,
    ProgUnavail,
    ProgMismatch { low: u32, high: u32 },
    ProcUnavail,
    GarbageArgs,
    SystemErr,
    Unknown(u32),
}

impl AcceptStat {
    pub fn number(&self) -> u32 {
        match self {
            AcceptStat::Success => 0,
            AcceptStat::ProgUnavail => 1,
            AcceptStat::ProgMismatch { .. } => 2,
            AcceptStat::ProcUnavail => 3,
            AcceptStat::GarbageArgs => 4,
            AcceptStat::SystemErr => 5,
            AcceptStat::Unknown(n) => *n,
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            AcceptStat::Success => "SUCCESS",
            AcceptStat::ProgUnavail => "PROG_UNAVAIL",
            AcceptStat::ProgMismatch { .. } => "PROG_MISMATCH",
            AcceptStat::ProcUnavail => "PROC_UNAVAIL",
            AcceptStat::GarbageArgs => "GARBAGE_ARGS",
            AcceptStat::SystemErr => "SYSTEM_ERR",
            AcceptStat::Unknown(_) => "UNKNOWN",
        }
    }
}

/// reject_stat with its details (RFC 5531).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectStat {
    RpcMismatch { low: u32, high: u32 },
    AuthError(u32),
    Unknown(u32),
}

pub fn auth_stat_name(n: u32) -> &'static str {
    const NAMES: [&str; 15] = [
        "AUTH_OK", "AUTH_BADCRED", "AUTH_REJECTEDCRED", "AUTH_BADVERF", "AUTH_REJECTEDVERF",
        "AUTH_TOOWEAK", "AUTH_INVALIDRESP", "AUTH_FAILED", "AUTH_KERB_GENERIC", "AUTH_TIMEEXPIRE",
        "AUTH_TKT_FILE", "AUTH_DECODE", "AUTH_NET_ADDR", "RPCSEC_GSS_CREDPROBLEM",
        "RPCSEC_GSS_CTXPROBLEM",
    ];
    NAMES.get(n as usize).copied().unwrap_or("AUTH_UNKNOWN")
}

impl RejectStat {
    pub fn number(&self) -> u32 {
        match self {
            RejectStat::RpcMismatch { .. } => 0,
            RejectStat::AuthError(_) => 1,
            RejectStat::Unknown(n) => *n,
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            RejectStat::RpcMismatch { .. } => "RPC_MISMATCH",
            RejectStat::AuthError(n) => auth_stat_name(*n),
            RejectStat::Unknown(_) => "UNKNOWN",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyStat<'a> {
    Accepted { verf: Auth<'a>, stat: AcceptStat },
    Denied(RejectStat),
}

impl ReplyStat<'_> {
    pub fn is_success(&self) -> bool {
        matches!(self, ReplyStat::Accepted { stat: AcceptStat::Success, .. })
    }
    /// `0` MSG_ACCEPTED, `1` MSG_DENIED.
    pub fn number(&self) -> u32 {
        match self {
            ReplyStat::Accepted { .. } => 0,
            ReplyStat::Denied(_) => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyHeader<'a> {
    pub xid: u32,
    pub stat: ReplyStat<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header<'a> {
    Call(CallHeader<'a>),
    Reply(ReplyHeader<'a>),
}

/// Parse an RPC message header; returns the header and the body after it.
pub fn parse(msg: &[u8]) -> Result<(Header<'_>, &[u8]), XdrError> {
    // The places the parser took come from `msg`: the header is always there.
    HeaderAt::parse(msg)?.header(msg).ok_or(XdrError::Truncated { needed: 0 })
}

/// Unwrap an RPCSEC_GSS integrity body (`rpc_gss_integ_data`): the sequence number
/// and the procedure's arguments or results inside it.
pub fn gss_integrity_body(body: &[u8]) -> Result<(u32, &[u8]), XdrError> {
    let (_, data) = opaque(body)?;
    let (args, seq) = u32(data)?;
    Ok((seq, args))
}

fn is_known_flavor(f: u32) -> bool {
    matches!(f, AUTH_NONE | AUTH_SYS | AUTH_SHORT | AUTH_DH | RPCSEC_GSS | AUTH_TLS | 390003..=390009)
}

#[inline]
fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Bytes needed by the plausibility checks below.
pub const PLAUSIBLE_CALL_LEN: usize = 40;
pub const PLAUSIBLE_REPLY_LEN: usize = 24;

/// Does `b` start like an RPC call to a program `known` accepts? Used to recognise
/// RPC on ports nobody told us about, and to resynchronise a TCP stream after a gap.
pub fn plausible_call(b: &[u8], known: &dyn Fn(u32) -> bool) -> bool {
    let (Some(mt), Some(rv), Some(prog), Some(vers), Some(pr), Some(fl), Some(cl)) =
        (be32(b, 4), be32(b, 8), be32(b, 12), be32(b, 16), be32(b, 20), be32(b, 24), be32(b, 28))
    else {
        return false;
    };
    mt == 0 && rv == 2 && known(prog) && vers <= 10 && pr <= 255 && is_known_flavor(fl) && cl <= MAX_AUTH
}

/// Does `b` start like an RPC reply? Callers should also check the xid.
pub fn plausible_reply(b: &[u8]) -> bool {
    let (Some(mt), Some(rs), Some(a), Some(b2)) = (be32(b, 4), be32(b, 8), be32(b, 12), be32(b, 16)) else {
        return false;
    };
    if mt != 1 {
        return false;
    }
    match rs {
        0 => {
            if !is_known_flavor(a) || b2 > MAX_AUTH {
                return false;
            }
            let at = 20 + b2 as usize + ((4 - (b2 as usize & 3)) & 3);
            matches!(be32(b, at), Some(0..=5) | None)
        }
        1 => a <= 1,
        _ => false,
    }
}

impl fmt::Display for Auth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Sys { machine, uid, gid, .. } => write!(f, "sys {machine} uid {uid} gid {gid}"),
            Auth::Gss { gss_proc, service, seq, .. } => write!(f, "gss proc {gss_proc} {service:?} seq {seq}"),
            other => f.write_str(other.flavor_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::Enc;

    fn call(cred: impl Fn(&mut Enc), verf: impl Fn(&mut Enc)) -> Vec<u8> {
        let mut e = Enc::new();
        e.u32(0x1234).u32(0).u32(2).u32(100021).u32(4).u32(2);
        cred(&mut e);
        verf(&mut e);
        e.u32(0xdead);
        e.into_vec()
    }

    fn none(e: &mut Enc) {
        e.u32(0).u32(0);
    }

    #[test]
    fn call_auth_none() {
        let b = call(none, none);
        let (h, body) = parse(&b).unwrap();
        let Header::Call(c) = h else { panic!() };
        assert_eq!((c.xid, c.prog, c.vers, c.proc_), (0x1234, 100021, 4, 2));
        assert_eq!(c.cred, Auth::None);
        assert_eq!(body, &[0, 0, 0xde, 0xad]);
        assert!(plausible_call(&b, &|p| p == 100021));
        assert!(!plausible_call(&b, &|p| p == 100003));
    }

    #[test]
    fn call_auth_sys_with_gids() {
        let sys = |e: &mut Enc| {
            let mut c = Enc::new();
            c.u32(77).string("client-a").u32(0).u32(100).u32(2).u32(10).u32(20);
            e.u32(AUTH_SYS).opaque(&c.buf);
        };
        let b = call(sys, none);
        let Header::Call(c) = parse(&b).unwrap().0 else { panic!() };
        let Auth::Sys { stamp, machine, uid, gid, gids } = c.cred else { panic!() };
        assert_eq!((stamp, machine.0, uid, gid), (77, &b"client-a"[..], 0, 100));
        assert_eq!(gids.iter().collect::<Vec<_>>(), vec![10, 20]);
        // 17 gids is more than AUTH_SYS allows
        let bad = |e: &mut Enc| {
            let mut c = Enc::new();
            c.u32(1).string("x").u32(0).u32(0).u32(17);
            for g in 0..17 {
                c.u32(g);
            }
            e.u32(AUTH_SYS).opaque(&c.buf);
        };
        assert!(parse(&call(bad, none)).is_err());
    }

    #[test]
    fn header_errors_say_what_is_missing() {
        let sys = |e: &mut Enc| {
            let mut c = Enc::new();
            c.u32(77).string("client-a").u32(0).u32(100).u32(0);
            e.u32(AUTH_SYS).opaque(&c.buf);
        };
        let b = call(sys, none);
        // xid, then the message type cut after one byte
        assert_eq!(parse(&b[..5]).unwrap_err(), XdrError::Truncated { needed: 3 });
        // the credential's length announces 28 bytes; 6 are there
        assert_eq!(parse(&b[..38]).unwrap_err(), XdrError::BadLength { len: 28, left: 6 });
        // the verifier's flavor is there, its length is not
        assert_eq!(parse(&b[..64]).unwrap_err(), XdrError::Truncated { needed: 4 });
        // a credential longer than RFC 5531 allows
        let long = |e: &mut Enc| {
            e.u32(AUTH_SHORT).opaque(&[0; 404]);
        };
        assert_eq!(parse(&call(long, none)).unwrap_err(), XdrError::BadLength { len: 404, left: MAX_AUTH as usize });
        // an AUTH_SYS body whose gid count runs past it
        let short_gids = |e: &mut Enc| {
            let mut c = Enc::new();
            c.u32(1).string("x").u32(0).u32(0).u32(3).u32(5);
            e.u32(AUTH_SYS).opaque(&c.buf);
        };
        assert_eq!(parse(&call(short_gids, none)).unwrap_err(), XdrError::TooMany { count: 3, cap: 16 });
        // a machine name whose final padding is missing is still read, as opaques are
        let mut c = Enc::new();
        c.u32(0x1234).u32(0).u32(2).u32(100021).u32(4).u32(2).u32(AUTH_NONE).u32(0).u32(AUTH_NONE).u32(3);
        let mut v = c.into_vec();
        v.extend_from_slice(b"abc");
        let Header::Call(h) = parse(&v).unwrap().0 else { panic!() };
        assert_eq!(h.verf, Auth::None);
        assert_eq!(parse(&[0, 0, 0, 1, 0, 0, 0, 7]).unwrap_err(), XdrError::BadValue { what: "msg_type", value: 7 });
    }

    #[test]
    fn call_auth_short_gss_tls_other() {
        let short = |e: &mut Enc| {
            e.u32(AUTH_SHORT).opaque(&[1, 2, 3, 4]);
        };
        let b = call(short, none);
        let Header::Call(c) = parse(&b).unwrap().0 else { panic!() };
        assert!(matches!(c.cred, Auth::Short { .. }));
        let gss = |e: &mut Enc| {
            let mut c = Enc::new();
            c.u32(1).u32(0).u32(9).u32(2).opaque(&[0xaa; 8]);
            e.u32(RPCSEC_GSS).opaque(&c.buf);
        };
        let gssv = |e: &mut Enc| {
            e.u32(RPCSEC_GSS).opaque(&[0x55; 28]);
        };
        let b = call(gss, gssv);
        let Header::Call(c) = parse(&b).unwrap().0 else { panic!() };
        assert_eq!(c.cred, Auth::Gss { version: 1, gss_proc: 0, seq: 9, service: GssService::Integrity, handle: Opaque(&[0xaa; 8]) });
        assert!(matches!(c.verf, Auth::GssVerf { .. }));
        let tls = |e: &mut Enc| {
            e.u32(AUTH_TLS).opaque(b"STARTTLS");
        };
        let b = call(none, tls);
        let Header::Call(c) = parse(&b).unwrap().0 else { panic!() };
        assert!(matches!(c.verf, Auth::Tls { .. }));
        let other = |e: &mut Enc| {
            e.u32(99).opaque(&[1]);
        };
        let b = call(other, none);
        let Header::Call(c) = parse(&b).unwrap().0 else { panic!() };
        assert!(matches!(c.cred, Auth::Other { number: 99, .. }));
        // hostile auth length
        let huge = |e: &mut Enc| {
            e.u32(AUTH_SYS).u32(100_000);
        };
        assert!(parse(&call(huge, none)).is_err());
    }

    fn reply(tail: impl Fn(&mut Enc)) -> Vec<u8> {
        let mut e = Enc::new();
        e.u32(0x1234).u32(1);
        tail(&mut e);
        e.into_vec()
    }

    #[test]
    fn every_reply_kind() {
        let cases: Vec<(Vec<u8>, ReplyStat)> = vec![
            (reply(|e| { e.u32(0).u32(0).u32(0).u32(0); }), ReplyStat::Accepted { verf: Auth::None, stat: AcceptStat::Success }),
            (reply(|e| { e.u32(0).u32(0).u32(0).u32(1); }), ReplyStat::Accepted { verf: Auth::None, stat: AcceptStat::ProgUnavail }),
            (reply(|e| { e.u32(0).u32(0).u32(0).u32(2).u32(2).u32(3); }), ReplyStat::Accepted { verf: Auth::None, stat: AcceptStat::ProgMismatch { low: 2, high: 3 } }),
            (reply(|e| { e.u32(0).u32(0).u32(0).u32(3); }), ReplyStat::Accepted { verf: Auth::None, stat: AcceptStat::ProcUnavail }),
            (reply(|e| { e.u32(0).u32(0).u32(0).u32(4); }), ReplyStat::Accepted { verf: Auth::None, stat: AcceptStat::GarbageArgs }),
            (reply(|e| { e.u32(0).u32(0).u32(0).u32(5); }), ReplyStat::Accepted { verf: Auth::None, stat: AcceptStat::SystemErr }),
            (reply(|e| { e.u32(0).u32(0).u32(0).u32(9); }), ReplyStat::Accepted { verf: Auth::None, stat: AcceptStat::Unknown(9) }),
            (reply(|e| { e.u32(1).u32(0).u32(2).u32(2); }), ReplyStat::Denied(RejectStat::RpcMismatch { low: 2, high: 2 })),
            (reply(|e| { e.u32(1).u32(1).u32(5); }), ReplyStat::Denied(RejectStat::AuthError(5))),
        ];
        for (b, want) in cases {
            let (Header::Reply(r), _) = parse(&b).unwrap() else { panic!() };
            assert_eq!(r.stat, want);
            assert!(plausible_reply(&b) || b.len() < PLAUSIBLE_REPLY_LEN || matches!(want, ReplyStat::Accepted { stat: AcceptStat::Unknown(_), .. }));
        }
        assert_eq!(RejectStat::AuthError(5).name(), "AUTH_TOOWEAK");
        assert!(parse(&reply(|e| { e.u32(7); })).is_err());
    }

    #[test]
    fn truncated_headers_never_panic() {
        let b = call(none, none);
        for n in 0..b.len() - 4 {
            let _ = parse(&b[..n]);
            let _ = plausible_call(&b[..n], &|_| true);
            let _ = plausible_reply(&b[..n]);
        }
    }

    #[test]
    fn gss_integrity_unwraps() {
        let mut inner = Enc::new();
        inner.u32(42).u32(0xabcd);
        let mut e = Enc::new();
        e.opaque(&inner.buf).opaque(&[9; 16]);
        let (seq, args) = gss_integrity_body(&e.buf).unwrap();
        assert_eq!((seq, args), (42, &[0, 0, 0xab, 0xcd][..]));
    }
}
