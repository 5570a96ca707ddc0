//! MOUNT v3, NFSv3, portmap v2 and rpcbind v3/v4 argument encoders and result reading.

use super::rpc::{ProcId, Rd};
use crate::xdr::{Enc, XdrError};

pub const MOUNT_PROG: u32 = 100005;
pub const MOUNTPROC3_MNT: u32 = 1;
pub const MOUNTPROC3_UMNT: u32 = 3;
pub const NFS_PROG: u32 = 100003;
pub const NFSPROC3_NULL: u32 = 0;
pub const NFSPROC3_GETATTR: u32 = 1;
pub const NFSPROC3_LOOKUP: u32 = 3;
pub const NFSPROC3_CREATE: u32 = 8;
pub const PMAP_PROG: u32 = 100000;
pub const PMAPPROC_GETPORT: u32 = 3;
pub const RPCBPROC_GETADDR: u32 = 3;
pub const IPPROTO_TCP: u32 = 6;
pub const IPPROTO_UDP: u32 = 17;

pub fn mount3(proc_: u32) -> ProcId {
    ProcId { prog: MOUNT_PROG, vers: 3, proc_ }
}
pub fn nfs3(proc_: u32) -> ProcId {
    ProcId { prog: NFS_PROG, vers: 3, proc_ }
}

/// dirpath (MNT, UMNT).
pub fn mnt_args(path: &str) -> Vec<u8> {
    let mut e = Enc::new();
    e.string(path);
    e.into_vec()
}

/// mountres3: status and, when 0, the root file handle.
pub fn parse_mnt_res(body: &[u8]) -> Result<(u32, Option<Vec<u8>>), XdrError> {
    let mut r = Rd(body);
    let st = r.u32()?;
    if st != 0 {
        return Ok((st, None));
    }
    Ok((0, Some(r.opaque()?.to_vec())))
}

/// nfs_fh3 (GETATTR).
pub fn getattr_args(fh: &[u8]) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(fh);
    e.into_vec()
}

/// diropargs3 (LOOKUP).
pub fn lookup_args(dir: &[u8], name: &str) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(dir).string(name);
    e.into_vec()
}

/// How CREATE makes the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateHow3 {
    /// Mode bits to set.
    Unchecked(u32),
    Guarded(u32),
}

/// CREATE3args with a sattr3 that sets only the mode.
pub fn create_args(dir: &[u8], name: &str, how: CreateHow3) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(dir).string(name);
    let (mode_kind, mode) = match how {
        CreateHow3::Unchecked(m) => (0, m),
        CreateHow3::Guarded(m) => (1, m),
    };
    e.u32(mode_kind);
    // sattr3: mode set, uid/gid/size unset, atime/mtime DONT_CHANGE
    e.bool(true).u32(mode).bool(false).bool(false).bool(false).u32(0).u32(0);
    e.into_vec()
}

/// The nfsstat3 of any NFSv3 result.
pub fn parse_status(body: &[u8]) -> Result<u32, XdrError> {
    Rd(body).u32()
}

/// LOOKUP3res: status and, when 0, the object's handle.
pub fn parse_lookup_res(body: &[u8]) -> Result<(u32, Option<Vec<u8>>), XdrError> {
    let mut r = Rd(body);
    let st = r.u32()?;
    if st != 0 {
        return Ok((st, None));
    }
    Ok((0, Some(r.opaque()?.to_vec())))
}

/// CREATE3res: status and, when 0 and present, the new file's handle.
pub fn parse_create_res(body: &[u8]) -> Result<(u32, Option<Vec<u8>>), XdrError> {
    let mut r = Rd(body);
    let st = r.u32()?;
    if st != 0 || !r.bool()? {
        return Ok((st, None));
    }
    Ok((0, Some(r.opaque()?.to_vec())))
}

/// portmap v2 mapping (GETPORT).
pub fn getport_args(prog: u32, vers: u32, prot: u32) -> Vec<u8> {
    let mut e = Enc::new();
    e.u32(prog).u32(vers).u32(prot).u32(0);
    e.into_vec()
}

pub fn parse_getport_res(body: &[u8]) -> Result<u32, XdrError> {
    Rd(body).u32()
}

/// rpcbind v3/v4 rpcb (GETADDR).
pub fn getaddr_args(prog: u32, vers: u32, netid: &str, addr: &str, owner: &str) -> Vec<u8> {
    let mut e = Enc::new();
    e.u32(prog).u32(vers).string(netid).string(addr).string(owner);
    e.into_vec()
}

/// The universal address GETADDR returns ("" when the program is not registered).
pub fn parse_getaddr_res(body: &[u8]) -> Result<String, XdrError> {
    Rd(body).string()
}

/// The port of a universal address ("h1.h2.h3.h4.p1.p2", or "::ffff:a.b.c.d.p1.p2").
pub fn uaddr_port(uaddr: &str) -> Option<u16> {
    let mut it = uaddr.rsplitn(3, '.');
    let lo: u16 = it.next()?.parse().ok()?;
    let hi: u16 = it.next()?.parse().ok()?;
    it.next()?;
    if hi > 255 || lo > 255 {
        return None;
    }
    Some(hi << 8 | lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnt_and_lookup_results() {
        let mut e = Enc::new();
        e.u32(0).opaque(&[7; 20]).u32(1).u32(1);
        assert_eq!(parse_mnt_res(&e.buf).unwrap(), (0, Some(vec![7; 20])));
        assert_eq!(parse_mnt_res(&[0, 0, 0, 13]).unwrap(), (13, None));
        let mut e = Enc::new();
        e.u32(0).opaque(&[1, 2]).u32(0);
        assert_eq!(parse_lookup_res(&e.buf).unwrap(), (0, Some(vec![1, 2])));
        let mut e = Enc::new();
        e.u32(0).bool(true).opaque(&[5; 8]);
        assert_eq!(parse_create_res(&e.buf).unwrap(), (0, Some(vec![5; 8])));
        assert_eq!(parse_create_res(&[0, 0, 0, 17]).unwrap(), (17, None));
    }

    #[test]
    fn create_args_layout() {
        let b = create_args(&[1, 2, 3, 4], "f", CreateHow3::Guarded(0o644));
        let mut r = Rd(&b);
        assert_eq!(r.opaque().unwrap(), &[1, 2, 3, 4]);
        assert_eq!(r.string().unwrap(), "f");
        assert_eq!(r.u32().unwrap(), 1);
        assert!(r.bool().unwrap());
        assert_eq!(r.u32().unwrap(), 0o644);
        assert_eq!(r.0, &[0u8; 20][..]);
        assert_eq!(create_args(&[], "f", CreateHow3::Unchecked(0)).get(12..16), Some(&[0u8, 0, 0, 0][..]));
    }

    #[test]
    fn portmap_and_rpcbind() {
        assert_eq!(getport_args(100021, 4, IPPROTO_TCP), vec![0, 1, 0x86, 0xb5, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 0]);
        let b = getaddr_args(100021, 4, "tcp", "", "");
        assert_eq!(b.len(), 8 + 8 + 4 + 4);
        assert_eq!(uaddr_port("0.0.0.0.128.35"), Some(32803));
        assert_eq!(uaddr_port("::ffff:127.0.0.3.8.1"), Some(2049));
        assert_eq!(uaddr_port(""), None);
        assert_eq!(uaddr_port("1.2.3.4.300.1"), None);
        let mut e = Enc::new();
        e.string("127.0.0.1.0.111");
        assert_eq!(parse_getaddr_res(&e.buf).unwrap(), "127.0.0.1.0.111");
        assert_eq!(parse_getport_res(&[0, 0, 8, 1]).unwrap(), 2049);
    }

    #[test]
    fn mount_ids() {
        assert_eq!(mount3(MOUNTPROC3_UMNT).proc_, 3);
        assert_eq!(nfs3(NFSPROC3_CREATE), ProcId { prog: 100003, vers: 3, proc_: 8 });
        assert_eq!(mnt_args("/vfs"), vec![0, 0, 0, 4, b'/', b'v', b'f', b's']);
        assert_eq!(getattr_args(&[1]).len(), 8);
        assert_eq!(lookup_args(&[1], "ab").len(), 16);
        assert_eq!(parse_status(&[0, 0, 0, 2]).unwrap(), 2);
    }
}
