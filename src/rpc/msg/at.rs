//! A parsed RPC header without its bytes: what [`parse`](super::parse) found, with each
//! borrowed part (credential body, machine name, …) kept as its place in the message.
//! Over the same bytes, copied elsewhere, [`HeaderAt::header`] gives the header back
//! without parsing it again: the thread that decodes bodies gets it from the thread that
//! read the stream.

use super::{AcceptStat, Auth, CallHeader, Gids, GssService, Header, RejectStat, ReplyHeader, ReplyStat};
use crate::xdr::{Opaque, XStr};

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

/// The place of `part` in `msg`; `None` if it does not lie there.
fn span(msg: &[u8], part: &[u8]) -> Option<Span> {
    let off = (part.as_ptr() as usize).checked_sub(msg.as_ptr() as usize)?;
    if off.checked_add(part.len())? > msg.len() {
        return None;
    }
    Some(Span { off: u32::try_from(off).ok()?, len: u32::try_from(part.len()).ok()? })
}

fn part(msg: &[u8], s: Span) -> Option<&[u8]> {
    msg.get(s.off as usize..(s.off as usize).checked_add(s.len as usize)?)
}

impl AuthAt {
    fn of(msg: &[u8], a: &Auth<'_>) -> Option<AuthAt> {
        Some(match a {
            Auth::None => AuthAt::None,
            Auth::Sys { stamp, machine, uid, gid, gids } => {
                AuthAt::Sys { stamp: *stamp, machine: span(msg, machine.0)?, uid: *uid, gid: *gid, gids: span(msg, gids.0)? }
            }
            Auth::Short { body } => AuthAt::Short(span(msg, body.0)?),
            Auth::Gss { version, gss_proc, seq, service, handle } => {
                AuthAt::Gss { version: *version, gss_proc: *gss_proc, seq: *seq, service: *service, handle: span(msg, handle.0)? }
            }
            Auth::GssVerf { mic } => AuthAt::GssVerf(span(msg, mic.0)?),
            Auth::Tls { body } => AuthAt::Tls(span(msg, body.0)?),
            Auth::Other { number, body } => AuthAt::Other { number: *number, body: span(msg, body.0)? },
        })
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
    /// `h` and `body` as [`parse`](super::parse) returned them for `msg`; `None` if a
    /// part does not lie in `msg`.
    pub fn of(msg: &[u8], h: &Header<'_>, body: &[u8]) -> Option<HeaderAt> {
        let (xid, kind) = match h {
            Header::Call(c) => {
                let (cred, verf) = (AuthAt::of(msg, &c.cred)?, AuthAt::of(msg, &c.verf)?);
                (c.xid, KindAt::Call { rpcvers: c.rpcvers, prog: c.prog, vers: c.vers, proc_: c.proc_, cred, verf })
            }
            Header::Reply(r) => match &r.stat {
                ReplyStat::Accepted { verf, stat } => (r.xid, KindAt::Accepted { verf: AuthAt::of(msg, verf)?, stat: *stat }),
                ReplyStat::Denied(d) => (r.xid, KindAt::Denied(*d)),
            },
        };
        Some(HeaderAt { xid, body: span(msg, body)?.off, kind })
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
            let (h, body) = parse(m).expect("parses");
            let at = HeaderAt::of(m, &h, body).expect("parts lie in the message");
            let copy = m.clone();
            assert_eq!(at.header(&copy), Some(parse(&copy).unwrap()), "{m:?}");
            let (_, b) = at.header(&copy).unwrap();
            assert_eq!(b.as_ptr(), copy[m.len() - body.len()..].as_ptr(), "the body is borrowed from the copy");
        }
    }

    #[test]
    fn other_bytes_are_refused() {
        let m = call((1, &sys_cred()), (0, b""), b"args");
        let (h, body) = parse(&m).unwrap();
        let at = HeaderAt::of(&m, &h, body).unwrap();
        assert!(at.header(&m[..20]).is_none(), "too short for the machine name");
        let elsewhere = m.clone();
        assert!(HeaderAt::of(&elsewhere, &h, body).is_none(), "parts of another buffer");
    }
}
