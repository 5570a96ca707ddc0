//! Portmap v2 (RFC 1833 §3) and rpcbind v3/v4 (RFC 1833 §2), program 100000.

use crate::xdr::{self, opaque, string, u32, Opaque, Res, XStr, XdrError};
use serde::Serialize;
use std::fmt;

/// Linked lists (DUMP, GETADDRLIST, stats) are capped at this many entries.
const MAX_LIST: usize = 4096;

const V2_PROCS: [&str; 6] = ["NULL", "SET", "UNSET", "GETPORT", "DUMP", "CALLIT"];
const V34_PROCS: [&str; 13] = [
    "NULL", "SET", "UNSET", "GETADDR", "DUMP", "CALLIT", "GETTIME", "UADDR2TADDR",
    "TADDR2UADDR", "GETVERSADDR", "INDIRECT", "GETADDRLIST", "GETSTAT",
];

pub fn proc_name(vers: u32, proc_: u32) -> Option<&'static str> {
    let p = proc_ as usize;
    match vers {
        2 => V2_PROCS.get(p).copied(),
        3 => V34_PROCS.get(p).filter(|_| p <= 8).copied(),
        4 if p == 5 => Some("BCAST"),
        4 => V34_PROCS.get(p).copied(),
        _ => None,
    }
}

/// Portmap v2 mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mapping {
    pub prog: u32,
    pub vers: u32,
    pub prot: u32,
    pub port: u32,
}

/// rpcbind v3/v4 `rpcb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rpcb<'a> {
    pub prog: u32,
    pub vers: u32,
    pub netid: XStr<'a>,
    pub addr: XStr<'a>,
    pub owner: XStr<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteCall<'a> {
    pub prog: u32,
    pub vers: u32,
    pub proc_: u32,
    pub args: Opaque<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpcbEntry<'a> {
    pub maddr: XStr<'a>,
    pub netid: XStr<'a>,
    pub semantics: u32,
    pub protofmly: XStr<'a>,
    pub proto: XStr<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddrStat<'a> {
    pub prog: u32,
    pub vers: u32,
    pub success: i32,
    pub failure: i32,
    pub netid: XStr<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RmtStat<'a> {
    pub prog: u32,
    pub vers: u32,
    pub proc_: u32,
    pub success: i32,
    pub failure: i32,
    pub indirect: i32,
    pub netid: XStr<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpcbStat<'a> {
    pub info: Vec<u32>,
    pub setinfo: i32,
    pub unsetinfo: i32,
    pub addrinfo: Vec<AddrStat<'a>>,
    pub rmtinfo: Vec<RmtStat<'a>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Call<'a> {
    Null,
    /// v2 SET / UNSET / GETPORT.
    Set(Mapping),
    Unset(Mapping),
    Getport(Mapping),
    /// v3/v4 SET / UNSET / GETADDR / GETVERSADDR / GETADDRLIST.
    RpcbSet(Rpcb<'a>),
    RpcbUnset(Rpcb<'a>),
    Getaddr(Rpcb<'a>),
    Getversaddr(Rpcb<'a>),
    Getaddrlist(Rpcb<'a>),
    Dump,
    /// CALLIT / BCAST / INDIRECT.
    Callit(RemoteCall<'a>),
    Gettime,
    Uaddr2taddr { uaddr: XStr<'a> },
    Taddr2uaddr { maxlen: u32, buf: Opaque<'a> },
    Getstat,
    Unknown { proc_num: u32 },
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reply<'a> {
    Null,
    /// SET / UNSET result.
    Bool { ok: bool },
    /// v2 GETPORT: 0 means not registered.
    Port { port: u32 },
    /// v3/v4 GETADDR / GETVERSADDR / TADDR2UADDR: the universal address ("" = none).
    Addr { uaddr: XStr<'a> },
    DumpV2 { maps: Vec<Mapping> },
    DumpRpcb { maps: Vec<Rpcb<'a>> },
    CallitV2 { port: u32, res: Opaque<'a> },
    Callit { addr: XStr<'a>, res: Opaque<'a> },
    Time { time: u32 },
    Taddr { maxlen: u32, buf: Opaque<'a> },
    Addrlist { entries: Vec<RpcbEntry<'a>> },
    Stat { by_vers: Vec<RpcbStat<'a>> },
    Unknown { proc_num: u32 },
}

fn mapping(i: &[u8]) -> Res<'_, Mapping> {
    let (i, prog) = u32(i)?;
    let (i, vers) = u32(i)?;
    let (i, prot) = u32(i)?;
    let (i, port) = u32(i)?;
    Ok((i, Mapping { prog, vers, prot, port }))
}

fn rpcb(i: &[u8]) -> Res<'_, Rpcb<'_>> {
    let (i, prog) = u32(i)?;
    let (i, vers) = u32(i)?;
    let (i, netid) = string(i)?;
    let (i, addr) = string(i)?;
    let (i, owner) = string(i)?;
    Ok((i, Rpcb { prog, vers, netid, addr, owner }))
}

fn remote_call(i: &[u8]) -> Res<'_, RemoteCall<'_>> {
    let (i, prog) = u32(i)?;
    let (i, vers) = u32(i)?;
    let (i, proc_) = u32(i)?;
    let (i, args) = opaque(i)?;
    Ok((i, RemoteCall { prog, vers, proc_, args: Opaque(args) }))
}

fn entry(i: &[u8]) -> Res<'_, RpcbEntry<'_>> {
    let (i, maddr) = string(i)?;
    let (i, netid) = string(i)?;
    let (i, semantics) = u32(i)?;
    let (i, protofmly) = string(i)?;
    let (i, proto) = string(i)?;
    Ok((i, RpcbEntry { maddr, netid, semantics, protofmly, proto }))
}

fn addr_stat(i: &[u8]) -> Res<'_, AddrStat<'_>> {
    let (i, prog) = u32(i)?;
    let (i, vers) = u32(i)?;
    let (i, success) = xdr::i32(i)?;
    let (i, failure) = xdr::i32(i)?;
    let (i, netid) = string(i)?;
    Ok((i, AddrStat { prog, vers, success, failure, netid }))
}

fn rmt_stat(i: &[u8]) -> Res<'_, RmtStat<'_>> {
    let (i, prog) = u32(i)?;
    let (i, vers) = u32(i)?;
    let (i, proc_) = u32(i)?;
    let (i, success) = xdr::i32(i)?;
    let (i, failure) = xdr::i32(i)?;
    let (i, indirect) = xdr::i32(i)?;
    let (i, netid) = string(i)?;
    Ok((i, RmtStat { prog, vers, proc_, success, failure, indirect, netid }))
}

/// An XDR linked list (`*entry` with a `next` pointer after each element).
fn list<'a, T>(mut i: &'a [u8], f: impl Fn(&'a [u8]) -> Res<'a, T>) -> Res<'a, Vec<T>> {
    let mut out = Vec::new();
    loop {
        let (r, more) = xdr::bool(i)?;
        i = r;
        if !more {
            return Ok((i, out));
        }
        if out.len() >= MAX_LIST {
            return Err(nom::Err::Error(XdrError::TooMany { count: out.len() as u32, cap: MAX_LIST as u32 }));
        }
        let (r, v) = f(i)?;
        out.push(v);
        i = r;
    }
}

const RPCBSTAT_HIGHPROC: usize = 13;

fn rpcb_stat(i: &[u8]) -> Res<'_, RpcbStat<'_>> {
    let mut info = Vec::with_capacity(RPCBSTAT_HIGHPROC);
    let mut i = i;
    for _ in 0..RPCBSTAT_HIGHPROC {
        let (r, v) = u32(i)?;
        info.push(v);
        i = r;
    }
    let (i, setinfo) = xdr::i32(i)?;
    let (i, unsetinfo) = xdr::i32(i)?;
    let (i, addrinfo) = list(i, addr_stat)?;
    let (i, rmtinfo) = list(i, rmt_stat)?;
    Ok((i, RpcbStat { info, setinfo, unsetinfo, addrinfo, rmtinfo }))
}

pub fn decode_call(vers: u32, proc_: u32, b: &[u8]) -> Result<Call<'_>, XdrError> {
    let v2 = vers == 2;
    xdr::finish(match proc_ {
        0 => Ok((b, Call::Null)),
        1 if v2 => mapping(b).map(|(i, m)| (i, Call::Set(m))),
        2 if v2 => mapping(b).map(|(i, m)| (i, Call::Unset(m))),
        3 if v2 => mapping(b).map(|(i, m)| (i, Call::Getport(m))),
        1 => rpcb(b).map(|(i, m)| (i, Call::RpcbSet(m))),
        2 => rpcb(b).map(|(i, m)| (i, Call::RpcbUnset(m))),
        3 => rpcb(b).map(|(i, m)| (i, Call::Getaddr(m))),
        4 => Ok((b, Call::Dump)),
        5 => remote_call(b).map(|(i, c)| (i, Call::Callit(c))),
        6 if !v2 => Ok((b, Call::Gettime)),
        7 if !v2 => string(b).map(|(i, uaddr)| (i, Call::Uaddr2taddr { uaddr })),
        8 if !v2 => {
            let (i, maxlen) = u32(b)?;
            opaque(i).map(|(i, buf)| (i, Call::Taddr2uaddr { maxlen, buf: Opaque(buf) }))
        }
        9 if vers == 4 => rpcb(b).map(|(i, m)| (i, Call::Getversaddr(m))),
        10 if vers == 4 => remote_call(b).map(|(i, c)| (i, Call::Callit(c))),
        11 if vers == 4 => rpcb(b).map(|(i, m)| (i, Call::Getaddrlist(m))),
        12 if vers == 4 => Ok((b, Call::Getstat)),
        n => Ok((b, Call::Unknown { proc_num: n })),
    })
}

pub fn decode_reply(vers: u32, proc_: u32, b: &[u8]) -> Result<Reply<'_>, XdrError> {
    let v2 = vers == 2;
    xdr::finish(match proc_ {
        0 => Ok((b, Reply::Null)),
        1 | 2 => xdr::bool(b).map(|(i, ok)| (i, Reply::Bool { ok })),
        3 if v2 => u32(b).map(|(i, port)| (i, Reply::Port { port })),
        3 | 8 | 9 => string(b).map(|(i, uaddr)| (i, Reply::Addr { uaddr })),
        4 if v2 => list(b, mapping).map(|(i, maps)| (i, Reply::DumpV2 { maps })),
        4 => list(b, rpcb).map(|(i, maps)| (i, Reply::DumpRpcb { maps })),
        5 if v2 => {
            let (i, port) = u32(b)?;
            opaque(i).map(|(i, res)| (i, Reply::CallitV2 { port, res: Opaque(res) }))
        }
        5 | 10 => {
            let (i, addr) = string(b)?;
            opaque(i).map(|(i, res)| (i, Reply::Callit { addr, res: Opaque(res) }))
        }
        6 => u32(b).map(|(i, time)| (i, Reply::Time { time })),
        7 => {
            let (i, maxlen) = u32(b)?;
            opaque(i).map(|(i, buf)| (i, Reply::Taddr { maxlen, buf: Opaque(buf) }))
        }
        11 => list(b, entry).map(|(i, entries)| (i, Reply::Addrlist { entries })),
        12 => {
            let mut by_vers = Vec::with_capacity(3);
            let mut i = b;
            for _ in 0..3 {
                let (r, s) = rpcb_stat(i)?;
                by_vers.push(s);
                i = r;
            }
            Ok((i, Reply::Stat { by_vers }))
        }
        n => Ok((b, Reply::Unknown { proc_num: n })),
    })
}

/// Parse an rpcbind universal address (`h1.h2.h3.h4.p1.p2`, or IPv6 `x:…:y.p1.p2`)
/// into its IP and port.
pub fn parse_uaddr(uaddr: &str) -> Option<(std::net::IpAddr, u16)> {
    let mut it = uaddr.rsplitn(3, '.');
    let lo: u16 = it.next()?.parse().ok()?;
    let hi: u16 = it.next()?.parse().ok()?;
    let host = it.next()?;
    if hi > 255 || lo > 255 {
        return None;
    }
    Some((host.parse().ok()?, hi << 8 | lo))
}

/// IPPROTO numbers used in portmap mappings.
pub fn prot_name(prot: u32) -> &'static str {
    match prot {
        6 => "tcp",
        17 => "udp",
        _ => "?",
    }
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Set(m) | Call::Unset(m) | Call::Getport(m) => {
                write!(f, "prog {} vers {} {}", m.prog, m.vers, prot_name(m.prot))?;
                if m.port != 0 {
                    write!(f, " port {}", m.port)?;
                }
                Ok(())
            }
            Call::RpcbSet(r) | Call::RpcbUnset(r) | Call::Getaddr(r) | Call::Getversaddr(r)
            | Call::Getaddrlist(r) => {
                write!(f, "prog {} vers {} netid {}", r.prog, r.vers, r.netid)?;
                if !r.addr.0.is_empty() {
                    write!(f, " addr {}", r.addr)?;
                }
                Ok(())
            }
            Call::Callit(c) => write!(f, "prog {} vers {} proc {}", c.prog, c.vers, c.proc_),
            Call::Uaddr2taddr { uaddr } => write!(f, "{uaddr}"),
            Call::Unknown { proc_num } => write!(f, "proc {proc_num}"),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Bool { ok } => write!(f, "{}", if *ok { "ok" } else { "fail" }),
            Reply::Port { port } => write!(f, "port {port}"),
            Reply::Addr { uaddr } => write!(f, "addr {uaddr}"),
            Reply::DumpV2 { maps } => write!(f, "{} mappings", maps.len()),
            Reply::DumpRpcb { maps } => write!(f, "{} mappings", maps.len()),
            Reply::Addrlist { entries } => write!(f, "{} entries", entries.len()),
            Reply::Time { time } => write!(f, "time {time}"),
            Reply::CallitV2 { port, .. } => write!(f, "port {port}"),
            Reply::Callit { addr, .. } => write!(f, "addr {addr}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::Enc;

    #[test]
    fn getport_v2() {
        let mut e = Enc::new();
        e.u32(100021).u32(4).u32(6).u32(0);
        match decode_call(2, 3, &e.buf).unwrap() {
            Call::Getport(m) => assert_eq!(m, Mapping { prog: 100021, vers: 4, prot: 6, port: 0 }),
            c => panic!("{c:?}"),
        }
        match decode_reply(2, 3, &[0, 0, 0x9c, 0x40]).unwrap() {
            Reply::Port { port } => assert_eq!(port, 40000),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn getaddr_v4_and_uaddr() {
        let mut e = Enc::new();
        e.u32(100024).u32(1).string("tcp").string("").string("");
        match decode_call(4, 3, &e.buf).unwrap() {
            Call::Getaddr(r) => assert_eq!((r.prog, r.vers, r.netid.0), (100024, 1, &b"tcp"[..])),
            c => panic!("{c:?}"),
        }
        let mut e = Enc::new();
        e.string("127.0.0.2.127.221");
        let Reply::Addr { uaddr } = decode_reply(4, 3, &e.buf).unwrap() else { panic!() };
        assert_eq!(parse_uaddr(&uaddr.as_str_lossy()), Some(("127.0.0.2".parse().unwrap(), 32733)));
        assert_eq!(parse_uaddr("::1.8.1"), Some(("::1".parse().unwrap(), 2049)));
        assert_eq!(parse_uaddr(""), None);
    }

    #[test]
    fn dump_lists() {
        let mut e = Enc::new();
        e.bool(true).u32(100000).u32(2).u32(6).u32(111);
        e.bool(true).u32(100003).u32(3).u32(17).u32(2049).bool(false);
        let Reply::DumpV2 { maps } = decode_reply(2, 4, &e.buf).unwrap() else { panic!() };
        assert_eq!(maps.len(), 2);
        assert_eq!(maps[1].port, 2049);
        let mut e = Enc::new();
        e.bool(true).u32(100021).u32(4).string("udp6").string("::.170.63").string("superuser").bool(false);
        let Reply::DumpRpcb { maps } = decode_reply(3, 4, &e.buf).unwrap() else { panic!() };
        assert_eq!(maps[0].owner.0, b"superuser");
        // a truncated list is an error, not a panic
        assert!(decode_reply(3, 4, &e.buf[..e.buf.len() - 6]).is_err());
    }

    #[test]
    fn callit_getstat_and_unknown() {
        let mut e = Enc::new();
        e.u32(100003).u32(3).u32(0).opaque(&[]);
        assert!(matches!(decode_call(2, 5, &e.buf).unwrap(), Call::Callit(RemoteCall { prog: 100003, .. })));
        let mut e = Enc::new();
        for _ in 0..3 {
            for k in 0..13 {
                e.u32(k);
            }
            e.i32(1).i32(0).bool(true).u32(100003).u32(3).i32(2).i32(0).string("tcp").bool(false).bool(false);
        }
        let Reply::Stat { by_vers } = decode_reply(4, 12, &e.buf).unwrap() else { panic!() };
        assert_eq!(by_vers.len(), 3);
        assert_eq!(by_vers[2].addrinfo[0].netid.0, b"tcp");
        assert!(matches!(decode_call(4, 99, &[]).unwrap(), Call::Unknown { proc_num: 99 }));
        assert_eq!(proc_name(4, 5), Some("BCAST"));
        assert_eq!(proc_name(3, 9), None);
        assert_eq!(proc_name(2, 3), Some("GETPORT"));
    }
}
