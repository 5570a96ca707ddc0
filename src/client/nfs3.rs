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
pub const NFSPROC3_READ: u32 = 6;
pub const NFSPROC3_WRITE: u32 = 7;
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

/// READ3args.
pub fn read_args(fh: &[u8], offset: u64, count: u32) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(fh).u64(offset).u32(count);
    e.into_vec()
}

/// WRITE3args (`stable`: 0 UNSTABLE, 1 DATA_SYNC, 2 FILE_SYNC).
pub fn write_args(fh: &[u8], offset: u64, stable: u32, data: &[u8]) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(fh).u64(offset).u32(data.len() as u32).u32(stable).opaque(data);
    e.into_vec()
}

/// The attributes of a regular file that the result encoders put in fattr3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attr3 {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub fileid: u64,
    /// Seconds of atime, mtime and ctime.
    pub time: u32,
}

impl Attr3 {
    /// fattr3 of a regular file (type NF3REG).
    pub fn encode(&self, e: &mut Enc) {
        e.u32(1).u32(self.mode).u32(1).u32(self.uid).u32(self.gid);
        e.u64(self.size).u64(self.size.next_multiple_of(4096)).u32(0).u32(0);
        e.u64(1).u64(self.fileid);
        for _ in 0..3 {
            e.u32(self.time).u32(0);
        }
    }
}

/// GETATTR3res with status NFS3_OK.
pub fn getattr_res(a: &Attr3) -> Vec<u8> {
    let mut e = Enc::new();
    e.u32(0);
    a.encode(&mut e);
    e.into_vec()
}

/// READ3res with status NFS3_OK: post-op attributes, count, eof and the data.
pub fn read_res(a: &Attr3, eof: bool, data: &[u8]) -> Vec<u8> {
    let mut e = Enc::new();
    e.u32(0).bool(true);
    a.encode(&mut e);
    e.u32(data.len() as u32).bool(eof).opaque(data);
    e.into_vec()
}

/// WRITE3res with status NFS3_OK: wcc data (size and times before, attributes
/// after), count, how it was committed, and the write verifier.
pub fn write_res(before: &Attr3, after: &Attr3, count: u32, committed: u32, verf: [u8; 8]) -> Vec<u8> {
    let mut e = Enc::new();
    e.u32(0).bool(true).u64(before.size).u32(before.time).u32(0).u32(before.time).u32(0);
    e.bool(true);
    after.encode(&mut e);
    e.u32(count).u32(committed).fixed(&verf);
    e.into_vec()
}

/// portmap v2 GETPORT result: the port (0: not registered).
pub fn getport_res(port: u32) -> Vec<u8> {
    let mut e = Enc::new();
    e.u32(port);
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
    fn read_write_layouts() {
        let a = Attr3 { mode: 0o644, uid: 1, gid: 2, size: 5000, fileid: 9, time: 100 };
        let mut e = Enc::new();
        a.encode(&mut e);
        assert_eq!(e.len(), 84, "fattr3 is 84 bytes");
        assert_eq!(getattr_res(&a).len(), 88);
        assert_eq!(read_res(&a, false, &[1, 2, 3]).len(), 4 + 4 + 84 + 4 + 4 + 8);
        assert_eq!(write_res(&a, &a, 3, 2, [7; 8]).len(), 4 + 4 + 24 + 4 + 84 + 4 + 4 + 8);
        assert_eq!(read_args(&[1; 8], 4096, 512).len(), 12 + 8 + 4);
        let b = write_args(&[1; 8], 0, 2, &[9; 5]);
        let mut r = Rd(&b);
        assert_eq!(r.opaque().unwrap(), &[1; 8]);
        assert_eq!((r.u64().unwrap(), r.u32().unwrap(), r.u32().unwrap()), (0, 5, 2));
        assert_eq!(r.opaque().unwrap(), &[9; 5]);
        assert!(r.0.is_empty());
        assert_eq!(parse_getport_res(&getport_res(4045)).unwrap(), 4045);
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
