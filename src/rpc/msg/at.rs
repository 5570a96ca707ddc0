//! The RPC header parser. It reads a header into a [`HeaderAt`]: the numbers, with
//! each borrowed part (credential body, machine name, …) kept as its place in the
//! message. Over the same bytes, or a copy of them, [`HeaderAt::header`] gives the
//! borrowed [`Header`] without parsing again: the thread that reads the stream parses,
//! and the thread that decodes bodies gets the header from it.

use super::{AcceptStat, Auth, CallHeader, Gids, GssService, Header, RejectStat, ReplyHeader, ReplyStat};
use super::{AUTH_NONE, AUTH_SHORT, AUTH_SYS, AUTH_TLS, MAX_AUTH, RPCSEC_GSS};
use crate::xdr::{fail, finish, opaque, u32, Opaque, Res, XStr, XdrError};

/// Where a borrowed part lies: offset and length in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    off: u32,
    len: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthAt {
    None,
    Sys { stamp: u32, machine: Span, uid: u32, gid: u32, gids: Span },
    Short(Span),
    Gss { version: u32, gss_proc: u32, seq: u32, service: GssService, handle: Span },
    GssVerf(Span),
    Tls(Span),
    Other { number: u32, body: Span },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KindAt {
    Call { rpcvers: u32, prog: u32, vers: u32, proc_: u32, cred: AuthAt, verf: AuthAt },
    Accepted { verf: AuthAt, stat: AcceptStat },
    Denied(RejectStat),
}

/// A header as places in its message; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderAt {
    xid: u32,
    /// Where the body begins.
    body: u32,
    kind: KindAt,
}

fn part(msg: &[u8], s: Span) -> Option<&[u8]> {
    msg.get(s.off as usize..(s.off as usize).checked_add(s.len as usize)?)
}

/// The place of `part`, a slice the parser took from `msg` (no longer than 4 GiB).
fn at(msg: &[u8], part: &[u8]) -> Span {
    Span { off: (part.as_ptr() as usize - msg.as_ptr() as usize) as u32, len: part.len() as u32 }
}

impl AuthAt {
    /// A credential (or, with `verifier`, a verifier) at the start of `i`, a part of `msg`.
    fn parse<'a>(msg: &[u8], i: &'a [u8], verifier: bool) -> Res<'a, AuthAt> {
        let (i, flavor) = u32(i)?;
        let (_, len) = u32(i)?;
        if len > MAX_AUTH {
            return fail(XdrError::BadLength { len, left: MAX_AUTH as usize });
        }
        let (rest, body) = opaque(i)?;
        let a = match flavor {
            AUTH_NONE => AuthAt::None,
            AUTH_SYS if !verifier => {
                let (b, stamp) = u32(body)?;
                let (b, machine) = opaque(b)?;
                let (b, uid) = u32(b)?;
                let (b, gid) = u32(b)?;
                let (b, n) = u32(b)?;
                if n > 16 || (n as usize) * 4 > b.len() {
                    return fail(XdrError::TooMany { count: n, cap: 16 });
                }
                AuthAt::Sys { stamp, machine: at(msg, machine), uid, gid, gids: at(msg, &b[..n as usize * 4]) }
            }
            AUTH_SHORT | AUTH_SYS => AuthAt::Short(at(msg, body)),
            RPCSEC_GSS if verifier => AuthAt::GssVerf(at(msg, body)),
            RPCSEC_GSS => {
                let (b, version) = u32(body)?;
                let (b, gss_proc) = u32(b)?;
                let (b, seq) = u32(b)?;
                let (b, svc) = u32(b)?;
                let (_, handle) = opaque(b)?;
                let service = match svc {
                    1 => GssService::None,
                    2 => GssService::Integrity,
                    3 => GssService::Privacy,
                    n => GssService::Unknown(n),
                };
                AuthAt::Gss { version, gss_proc, seq, service, handle: at(msg, handle) }
            }
            AUTH_TLS => AuthAt::Tls(at(msg, body)),
            number => AuthAt::Other { number, body: at(msg, body) },
        };
        Ok((rest, a))
    }

    fn auth<'a>(&self, msg: &'a [u8]) -> Option<Auth<'a>> {
        Some(match *self {
            AuthAt::None => Auth::None,
            AuthAt::Sys { stamp, machine, uid, gid, gids } => {
                Auth::Sys { stamp, machine: XStr(part(msg, machine)?), uid, gid, gids: Gids(part(msg, gids)?) }
            }
            AuthAt::Short(s) => Auth::Short { body: Opaque(part(msg, s)?) },
            AuthAt::Gss { version, gss_proc, seq, service, handle } => {
                Auth::Gss { version, gss_proc, seq, service, handle: Opaque(part(msg, handle)?) }
            }
            AuthAt::GssVerf(s) => Auth::GssVerf { mic: Opaque(part(msg, s)?) },
            AuthAt::Tls(s) => Auth::Tls { body: Opaque(part(msg, s)?) },
            AuthAt::Other { number, body } => Auth::Other { number, body: Opaque(part(msg, body)?) },
        })
    }
}

impl HeaderAt {
    /// Parse the header at the start of `msg`.
    pub fn parse(msg: &[u8]) -> Result<HeaderAt, XdrError> {
        if u32::try_from(msg.len()).is_err() {
            return Err(XdrError::BadLength { len: u32::MAX, left: msg.len() });
        }
        finish(Self::parse_in(msg))
    }

    fn parse_in(msg: &[u8]) -> Res<'_, HeaderAt> {
        let (i, xid) = u32(msg)?;
        let (i, mtype) = u32(i)?;
        let (i, kind) = match mtype {
            0 => {
                let (i, rpcvers) = u32(i)?;
                let (i, prog) = u32(i)?;
                let (i, vers) = u32(i)?;
                let (i, proc_) = u32(i)?;
                let (i, cred) = AuthAt::parse(msg, i, false)?;
                let (i, verf) = AuthAt::parse(msg, i, true)?;
                (i, KindAt::Call { rpcvers, prog, vers, proc_, cred, verf })
            }
            1 => {
                let (i, rs) = u32(i)?;
                match rs {
                    0 => {
                        let (i, verf) = AuthAt::parse(msg, i, true)?;
                        let (i, st) = u32(i)?;
                        let (i, stat) = match st {
                            0 => (i, AcceptStat::Success),
                            1 => (i, AcceptStat::ProgUnavail),
                            2 => {
                                let (i, low) = u32(i)?;
                                let (i, high) = u32(i)?;
                                (i, AcceptStat::ProgMismatch { low, high })
                            }
                            3 => (i, AcceptStat::ProcUnavail),
                            4 => (i, AcceptStat::GarbageArgs),
                            5 => (i, AcceptStat::SystemErr),
                            n => (i, AcceptStat::Unknown(n)),
                        };
                        (i, KindAt::Accepted { verf, stat })
                    }
                    1 => {
                        let (i, rj) = u32(i)?;
                        let (i, r) = match rj {
                            0 => {
                                let (i, low) = u32(i)?;
                                let (i, high) = u32(i)?;
                                (i, RejectStat::RpcMismatch { low, high })
                            }
                            1 => {
                                let (i, a) = u32(i)?;
                                (i, RejectStat::AuthError(a))
                            }
                            n => (i, RejectStat::Unknown(n)),
                        };
                        (i, KindAt::Denied(r))
                    }
                    n => return fail(XdrError::BadValue { what: "reply_stat", value: n }),
                }
            }
            n => return fail(XdrError::BadValue { what: "msg_type", value: n }),
        };
        let body = (msg.len() - i.len()) as u32;
        Ok((i, HeaderAt { xid, body, kind }))
    }

    pub fn xid(&self) -> u32 {
        self.xid
    }

    /// Where the body begins.
    pub fn body_offset(&self) -> usize {
        self.body as usize
    }

    /// (rpcvers, prog, vers, proc) of a call; `None` for a reply.
    pub fn call(&self) -> Option<(u32, u32, u32, u32)> {
        match self.kind {
            KindAt::Call { rpcvers, prog, vers, proc_, .. } => Some((rpcvers, prog, vers, proc_)),
            _ => None,
        }
    }

    /// The RPCSEC_GSS service a call's body is under: `Unknown(u32::MAX)` for the
    /// context calls (gss_proc other than DATA); `None` for other flavors and replies.
    pub fn gss(&self) -> Option<GssService> {
        match self.kind {
            KindAt::Call { cred: AuthAt::Gss { gss_proc: 0, service, .. }, .. } => Some(service),
            KindAt::Call { cred: AuthAt::Gss { .. }, .. } => Some(GssService::Unknown(u32::MAX)),
            _ => None,
        }
    }

    /// The header and body over `msg`, the same bytes it was taken from (or a copy);
    /// `None` if they do not reach as far.
    pub fn header<'a>(&self, msg: &'a [u8]) -> Option<(Header<'a>, &'a [u8])> {
        let xid = self.xid;
        let h = match &self.kind {
            KindAt::Call { rpcvers, prog, vers, proc_, cred, verf } => Header::Call(CallHeader {
                xid,
                rpcvers: *rpcvers,
                prog: *prog,
                vers: *vers,
                proc_: *proc_,
                cred: cred.auth(msg)?,
                verf: verf.auth(msg)?,
            }),
            KindAt::Accepted { verf, stat } => Header::Reply(ReplyHeader { xid, stat: ReplyStat::Accepted { verf: verf.auth(msg)?, stat: *stat } }),
            KindAt::Denied(d) => Header::Reply(ReplyHeader { xid, stat: ReplyStat::Denied(*d) }),
        };
        Some((h, msg.get(self.body as usize..)?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use crate::xdr::Enc;

    fn call(cred: (u32, &[u8]), verf: (u32, &[u8]), body: &[u8]) -> Vec<u8> {
        let mut e = Enc::default();
        e.u32(0x1234).u32(0).u32(2).u32(100003).u32(4).u32(1);
        e.u32(cred.0).opaque(cred.1).u32(verf.0).opaque(verf.1);
        let mut v = e.into_vec();
        v.extend_from_slice(body);
        v
    }

    fn sys_cred() -> Vec<u8> {
        let mut e = Enc::default();
        e.u32(7).string("client-a.example").u32(1000).u32(100).u32(2).u32(100).u32(10);
        e.into_vec()
    }

    fn gss_cred() -> Vec<u8> {
        let mut e = Enc::default();
        e.u32(1).u32(0).u32(41).u32(2).opaque(b"ctx-handle");
        e.into_vec()
    }

    fn reply(words: &[u32], body: &[u8]) -> Vec<u8> {
        let mut e = Enc::default();
        for w in words {
            e.u32(*w);
        }
        let mut v = e.into_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn every_header_comes_back_over_a_copy_of_its_bytes() {
        let msgs = [
            call((1, &sys_cred()), (0, b""), b"args"),
            call((6, &gss_cred()), (6, b"mic-bytes"), b"integ"),
            call((0, b""), (0, b""), b""),
            call((2, b"short"), (0, b""), b"x"),
            call((7, b"tls"), (0, b""), b"y"),
            call((390004, b"other"), (0, b""), b"z"),
            reply(&[9, 1, 0, 6, 3, 0x6d69_6321, 0], b"results"),
            reply(&[9, 1, 0, 0, 0, 2, 2, 4], b""),
            reply(&[9, 1, 0, 0, 0, 77], b""),
            reply(&[9, 1, 1, 0, 2, 2], b""),
            reply(&[9, 1, 1, 1, 5], b""),
        ];
        for m in &msgs {
            let (_, body) = parse(m).expect("parses");
            let at = HeaderAt::parse(m).expect("parses");
            assert_eq!(at.body_offset(), m.len() - body.len());
            let copy = m.clone();
            assert_eq!(at.header(&copy), Some(parse(&copy).unwrap()), "{m:?}");
            let (_, b) = at.header(&copy).unwrap();
            assert_eq!(b.as_ptr(), copy[m.len() - body.len()..].as_ptr(), "the body is borrowed from the copy");
        }
    }

    #[test]
    fn too_short_bytes_are_refused() {
        let m = call((1, &sys_cred()), (0, b""), b"args");
        let at = HeaderAt::parse(&m).unwrap();
        assert!(at.header(&m[..20]).is_none(), "too short for the machine name");
        assert_eq!(HeaderAt::parse(&m[..20]), Err(XdrError::Truncated { needed: 4 }), "no procedure number");
        assert_eq!(HeaderAt::parse(&m[..40]), Err(XdrError::BadLength { len: 44, left: 8 }), "the credential is cut");
    }

    #[test]
    fn what_the_reader_needs_without_the_borrowed_header() {
        let sys = HeaderAt::parse(&call((1, &sys_cred()), (0, b""), b"args")).unwrap();
        assert_eq!((sys.xid(), sys.call(), sys.gss()), (0x1234, Some((2, 100003, 4, 1)), None));
        let gss = HeaderAt::parse(&call((6, &gss_cred()), (6, b"mic-bytes"), b"integ")).unwrap();
        assert_eq!(gss.gss(), Some(GssService::Integrity));
        let mut ctl = Enc::default();
        ctl.u32(1).u32(1).u32(1).u32(2).opaque(b"");
        let init = HeaderAt::parse(&call((6, &ctl.into_vec()), (0, b""), b"")).unwrap();
        assert_eq!(init.gss(), Some(GssService::Unknown(u32::MAX)), "a context call, not data");
        let r = HeaderAt::parse(&reply(&[9, 1, 0, 0, 0, 0], b"res")).unwrap();
        assert_eq!((r.xid(), r.call(), r.gss(), r.body_offset()), (9, None, None, 24));
    }
}
