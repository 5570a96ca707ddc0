//! NFSv2 (program 100003 version 2, RFC 1094): every procedure, arguments and results.
//! File handles are 32 opaque bytes; sizes and offsets are 32-bit.

#[cfg(test)]
mod tests;

use crate::xdr::{self, string, Opaque, Res, XStr, XdrError};
use serde::{Serialize, Serializer};
use std::fmt;

const FHSIZE: usize = 32;
/// Largest number of READDIR entries accepted in one reply.
const MAX_ENTRIES: usize = 65536;

const PROCS: [&str; 18] = [
    "NULL", "GETATTR", "SETATTR", "ROOT", "LOOKUP", "READLINK", "READ", "WRITECACHE", "WRITE", "CREATE", "REMOVE",
    "RENAME", "LINK", "SYMLINK", "MKDIR", "RMDIR", "READDIR", "STATFS",
];

pub fn proc_name(vers: u32, proc_: u32) -> Option<&'static str> {
    if vers != 2 {
        return None;
    }
    PROCS.get(proc_ as usize).copied()
}

/// `stat` (RFC 1094 §2.3.1), named as tshark names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NfsStat2(pub u32);

impl NfsStat2 {
    pub const OK: NfsStat2 = NfsStat2(0);

    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NFS_OK",
            1 => "NFS2ERR_PERM",
            2 => "NFS2ERR_NOENT",
            5 => "NFS2ERR_IO",
            6 => "NFS2ERR_NXIO",
            13 => "NFS2ERR_ACCES",
            17 => "NFS2ERR_EXIST",
            19 => "NFS2ERR_NODEV",
            20 => "NFS2ERR_NOTDIR",
            21 => "NFS2ERR_ISDIR",
            22 => "NFS2ERR_INVAL",
            27 => "NFS2ERR_FBIG",
            28 => "NFS2ERR_NOSPC",
            30 => "NFS2ERR_ROFS",
            63 => "NFS2ERR_NAMETOOLONG",
            66 => "NFS2ERR_NOTEMPTY",
            69 => "NFS2ERR_DQUOT",
            70 => "NFS2ERR_STALE",
            99 => "NFS2ERR_WFLUSH",
            _ => return None,
        })
    }
}

impl fmt::Display for NfsStat2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "UNKNOWN({})", self.0),
        }
    }
}

/// JSON: `{"name": "NFS2ERR_NOENT", "code": 2}`.
impl Serialize for NfsStat2 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("NfsStat2", 2)?;
        st.serialize_field("name", self.name().unwrap_or("UNKNOWN"))?;
        st.serialize_field("code", &self.0)?;
        st.end()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timeval {
    pub seconds: u32,
    pub useconds: u32,
}

/// `fattr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fattr2 {
    #[serde(rename = "type")]
    pub ftype: u32,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u32,
    pub blocksize: u32,
    pub rdev: u32,
    pub blocks: u32,
    pub fsid: u32,
    pub fileid: u32,
    pub atime: Timeval,
    pub mtime: Timeval,
    pub ctime: Timeval,
}

/// `sattr`: on the wire -1 (all ones) means "leave unchanged"; here that is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sattr2 {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u32>,
    pub atime: Option<Timeval>,
    pub mtime: Option<Timeval>,
}

/// `entry`: one READDIR entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry2<'a> {
    pub fileid: u32,
    pub name: XStr<'a>,
    pub cookie: u32,
}

/// `attrstat`: GETATTR, SETATTR and WRITE results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttrRes {
    pub status: NfsStat2,
    pub attributes: Option<Fattr2>,
}

/// `diropres`: LOOKUP, CREATE and MKDIR results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirOpRes<'a> {
    pub status: NfsStat2,
    pub file: Option<Opaque<'a>>,
    pub attributes: Option<Fattr2>,
}

/// STATFS success fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatfsOk {
    pub tsize: u32,
    pub bsize: u32,
    pub blocks: u32,
    pub bfree: u32,
    pub bavail: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Call<'a> {
    Null,
    Getattr { file: Opaque<'a> },
    Setattr { file: Opaque<'a>, attributes: Sattr2 },
    Root,
    Lookup { dir: Opaque<'a>, name: XStr<'a> },
    Readlink { file: Opaque<'a> },
    Read { file: Opaque<'a>, offset: u32, count: u32, totalcount: u32 },
    Writecache,
    Write {
        file: Opaque<'a>,
        beginoffset: u32,
        offset: u32,
        totalcount: u32,
        data_len: usize,
        /// The payload, borrowed from the record (left out of JSON).
        #[serde(skip)]
        data: Opaque<'a>,
    },
    Create { dir: Opaque<'a>, name: XStr<'a>, attributes: Sattr2 },
    Remove { dir: Opaque<'a>, name: XStr<'a> },
    Rename { from_dir: Opaque<'a>, from_name: XStr<'a>, to_dir: Opaque<'a>, to_name: XStr<'a> },
    /// Make `dir`/`name` a new name for `from`.
    Link { from: Opaque<'a>, dir: Opaque<'a>, name: XStr<'a> },
    Symlink { dir: Opaque<'a>, name: XStr<'a>, target: XStr<'a>, attributes: Sattr2 },
    Mkdir { dir: Opaque<'a>, name: XStr<'a>, attributes: Sattr2 },
    Rmdir { dir: Opaque<'a>, name: XStr<'a> },
    Readdir { dir: Opaque<'a>, cookie: u32, count: u32 },
    Statfs { file: Opaque<'a> },
    Unknown { proc_num: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reply<'a> {
    Null,
    Getattr(AttrRes),
    Setattr(AttrRes),
    Root,
    Lookup(DirOpRes<'a>),
    Readlink { status: NfsStat2, data: Option<XStr<'a>> },
    Read {
        status: NfsStat2,
        attributes: Option<Fattr2>,
        data_len: Option<usize>,
        /// The payload, borrowed from the record (left out of JSON).
        #[serde(skip)]
        data: Option<Opaque<'a>>,
    },
    Writecache,
    Write(AttrRes),
    Create(DirOpRes<'a>),
    Remove { status: NfsStat2 },
    Rename { status: NfsStat2 },
    Link { status: NfsStat2 },
    Symlink { status: NfsStat2 },
    Mkdir(DirOpRes<'a>),
    Rmdir { status: NfsStat2 },
    Readdir { status: NfsStat2, entries: Vec<Entry2<'a>>, eof: Option<bool> },
    Statfs {
        status: NfsStat2,
        #[serde(flatten)]
        res: Option<StatfsOk>,
    },
    Unknown { proc_num: u32 },
}

impl<'a> Call<'a> {
    /// The handle the call operates on (the directory for directory operations, the
    /// source directory for RENAME, the existing file for LINK).
    pub fn fh(&self) -> Option<Opaque<'a>> {
        use Call::*;
        Some(match self {
            Getattr { file } | Setattr { file, .. } | Readlink { file } | Read { file, .. } => *file,
            Write { file, .. } | Statfs { file } => *file,
            Lookup { dir, .. } | Create { dir, .. } | Remove { dir, .. } | Symlink { dir, .. } => *dir,
            Mkdir { dir, .. } | Rmdir { dir, .. } | Readdir { dir, .. } => *dir,
            Rename { from_dir, .. } => *from_dir,
            Link { from, .. } => *from,
            Null | Root | Writecache | Unknown { .. } => return None,
        })
    }

    /// The directory and name a call looks up, creates, removes or links to.
    pub fn dir_name(&self) -> Option<(Opaque<'a>, XStr<'a>)> {
        use Call::*;
        match self {
            Lookup { dir, name } | Create { dir, name, .. } | Remove { dir, name } | Link { dir, name, .. } => {
                Some((*dir, *name))
            }
            Symlink { dir, name, .. } | Mkdir { dir, name, .. } | Rmdir { dir, name } => Some((*dir, *name)),
            _ => None,
        }
    }
}

impl<'a> Reply<'a> {
    pub fn status(&self) -> Option<NfsStat2> {
        use Reply::*;
        Some(match self {
            Getattr(r) | Setattr(r) | Write(r) => r.status,
            Lookup(r) | Create(r) | Mkdir(r) => r.status,
            Readlink { status, .. } | Read { status, .. } | Readdir { status, .. } | Statfs { status, .. } => *status,
            Remove { status } | Rename { status } | Link { status } | Symlink { status } | Rmdir { status } => *status,
            Null | Root | Writecache | Unknown { .. } => return None,
        })
    }

    /// The handle of the object a LOOKUP found or a CREATE/MKDIR made.
    pub fn new_fh(&self) -> Option<Opaque<'a>> {
        match self {
            Reply::Lookup(r) | Reply::Create(r) | Reply::Mkdir(r) => r.file,
            _ => None,
        }
    }
}

fn fh(i: &[u8]) -> Res<'_, Opaque<'_>> {
    xdr::fixed(FHSIZE)(i).map(|(i, b)| (i, Opaque(b)))
}

fn diropargs(i: &[u8]) -> Res<'_, (Opaque<'_>, XStr<'_>)> {
    let (i, dir) = fh(i)?;
    let (i, name) = string(i)?;
    Ok((i, (dir, name)))
}

fn timeval(i: &[u8]) -> Res<'_, Timeval> {
    let (i, seconds) = xdr::u32(i)?;
    let (i, useconds) = xdr::u32(i)?;
    Ok((i, Timeval { seconds, useconds }))
}

fn fattr(i: &[u8]) -> Res<'_, Fattr2> {
    let mut w = [0u32; 11];
    let mut i = i;
    for x in w.iter_mut() {
        let (r, v) = xdr::u32(i)?;
        *x = v;
        i = r;
    }
    let [ftype, mode, nlink, uid, gid, size, blocksize, rdev, blocks, fsid, fileid] = w;
    let (i, atime) = timeval(i)?;
    let (i, mtime) = timeval(i)?;
    let (i, ctime) = timeval(i)?;
    Ok((i, Fattr2 { ftype, mode, nlink, uid, gid, size, blocksize, rdev, blocks, fsid, fileid, atime, mtime, ctime }))
}

fn unset_u32(v: u32) -> Option<u32> {
    (v != u32::MAX).then_some(v)
}

fn sattr(i: &[u8]) -> Res<'_, Sattr2> {
    let (i, mode) = xdr::u32(i)?;
    let (i, uid) = xdr::u32(i)?;
    let (i, gid) = xdr::u32(i)?;
    let (i, size) = xdr::u32(i)?;
    let (i, atime) = timeval(i)?;
    let (i, mtime) = timeval(i)?;
    let t = |t: Timeval| (t.seconds != u32::MAX).then_some(t);
    Ok((
        i,
        Sattr2 {
            mode: unset_u32(mode),
            uid: unset_u32(uid),
            gid: unset_u32(gid),
            size: unset_u32(size),
            atime: t(atime),
            mtime: t(mtime),
        },
    ))
}

fn status(i: &[u8]) -> Res<'_, NfsStat2> {
    xdr::u32(i).map(|(i, v)| (i, NfsStat2(v)))
}

fn attr_res(i: &[u8]) -> Res<'_, AttrRes> {
    let (i, status) = status(i)?;
    if !status.is_ok() {
        return Ok((i, AttrRes { status, attributes: None }));
    }
    let (i, a) = fattr(i)?;
    Ok((i, AttrRes { status, attributes: Some(a) }))
}

fn dirop_res(i: &[u8]) -> Res<'_, DirOpRes<'_>> {
    let (i, status) = status(i)?;
    if !status.is_ok() {
        return Ok((i, DirOpRes { status, file: None, attributes: None }));
    }
    let (i, file) = fh(i)?;
    let (i, a) = fattr(i)?;
    Ok((i, DirOpRes { status, file: Some(file), attributes: Some(a) }))
}

fn entry(i: &[u8]) -> Res<'_, Entry2<'_>> {
    let (i, fileid) = xdr::u32(i)?;
    let (i, name) = string(i)?;
    let (i, cookie) = xdr::u32(i)?;
    Ok((i, Entry2 { fileid, name, cookie }))
}

fn readdir_ok(mut i: &[u8]) -> Res<'_, (Vec<Entry2<'_>>, bool)> {
    let mut out = Vec::new();
    loop {
        let (r, more) = xdr::bool(i)?;
        i = r;
        if !more {
            break;
        }
        if out.len() >= MAX_ENTRIES {
            return Err(nom::Err::Error(XdrError::TooMany { count: out.len() as u32, cap: MAX_ENTRIES as u32 }));
        }
        let (r, e) = entry(i)?;
        out.push(e);
        i = r;
    }
    let (i, eof) = xdr::bool(i)?;
    Ok((i, (out, eof)))
}

fn map<'a, T, U>(r: Res<'a, T>, f: impl FnOnce(T) -> U) -> Res<'a, U> {
    r.map(|(i, v)| (i, f(v)))
}

pub fn decode_call(_vers: u32, proc_: u32, b: &[u8]) -> Result<Call<'_>, XdrError> {
    xdr::finish(call(proc_, b))
}

fn call(proc_: u32, i: &[u8]) -> Res<'_, Call<'_>> {
    Ok(match proc_ {
        0 => (i, Call::Null),
        1 => return map(fh(i), |file| Call::Getattr { file }),
        2 => {
            let (i, file) = fh(i)?;
            let (i, attributes) = sattr(i)?;
            (i, Call::Setattr { file, attributes })
        }
        3 => (i, Call::Root),
        4 => return map(diropargs(i), |(dir, name)| Call::Lookup { dir, name }),
        5 => return map(fh(i), |file| Call::Readlink { file }),
        6 => {
            let (i, file) = fh(i)?;
            let (i, offset) = xdr::u32(i)?;
            let (i, count) = xdr::u32(i)?;
            let (i, totalcount) = xdr::u32(i)?;
            (i, Call::Read { file, offset, count, totalcount })
        }
        7 => (i, Call::Writecache),
        8 => {
            let (i, file) = fh(i)?;
            let (i, beginoffset) = xdr::u32(i)?;
            let (i, offset) = xdr::u32(i)?;
            let (i, totalcount) = xdr::u32(i)?;
            let (i, data) = xdr::opaque(i)?;
            (i, Call::Write { file, beginoffset, offset, totalcount, data_len: data.len(), data: Opaque(data) })
        }
        9 | 14 => {
            let (i, (dir, name)) = diropargs(i)?;
            let (i, attributes) = sattr(i)?;
            (i, if proc_ == 9 { Call::Create { dir, name, attributes } } else { Call::Mkdir { dir, name, attributes } })
        }
        10 => return map(diropargs(i), |(dir, name)| Call::Remove { dir, name }),
        11 => {
            let (i, (from_dir, from_name)) = diropargs(i)?;
            let (i, (to_dir, to_name)) = diropargs(i)?;
            (i, Call::Rename { from_dir, from_name, to_dir, to_name })
        }
        12 => {
            let (i, from) = fh(i)?;
            let (i, (dir, name)) = diropargs(i)?;
            (i, Call::Link { from, dir, name })
        }
        13 => {
            let (i, (dir, name)) = diropargs(i)?;
            let (i, target) = string(i)?;
            let (i, attributes) = sattr(i)?;
            (i, Call::Symlink { dir, name, target, attributes })
        }
        15 => return map(diropargs(i), |(dir, name)| Call::Rmdir { dir, name }),
        16 => {
            let (i, dir) = fh(i)?;
            let (i, cookie) = xdr::u32(i)?;
            let (i, count) = xdr::u32(i)?;
            (i, Call::Readdir { dir, cookie, count })
        }
        17 => return map(fh(i), |file| Call::Statfs { file }),
        n => (i, Call::Unknown { proc_num: n }),
    })
}

pub fn decode_reply(_vers: u32, proc_: u32, b: &[u8]) -> Result<Reply<'_>, XdrError> {
    xdr::finish(reply(proc_, b))
}

fn reply(proc_: u32, i: &[u8]) -> Res<'_, Reply<'_>> {
    match proc_ {
        0 => Ok((i, Reply::Null)),
        1 => map(attr_res(i), Reply::Getattr),
        2 => map(attr_res(i), Reply::Setattr),
        3 => Ok((i, Reply::Root)),
        4 => map(dirop_res(i), Reply::Lookup),
        5 => {
            let (i, status) = status(i)?;
            if !status.is_ok() {
                return Ok((i, Reply::Readlink { status, data: None }));
            }
            map(string(i), |d| Reply::Readlink { status, data: Some(d) })
        }
        6 => {
            let (i, status) = status(i)?;
            if !status.is_ok() {
                return Ok((i, Reply::Read { status, attributes: None, data_len: None, data: None }));
            }
            let (i, a) = fattr(i)?;
            let (i, data) = xdr::opaque(i)?;
            Ok((i, Reply::Read { status, attributes: Some(a), data_len: Some(data.len()), data: Some(Opaque(data)) }))
        }
        7 => Ok((i, Reply::Writecache)),
        8 => map(attr_res(i), Reply::Write),
        9 => map(dirop_res(i), Reply::Create),
        10 => map(status(i), |status| Reply::Remove { status }),
        11 => map(status(i), |status| Reply::Rename { status }),
        12 => map(status(i), |status| Reply::Link { status }),
        13 => map(status(i), |status| Reply::Symlink { status }),
        14 => map(dirop_res(i), Reply::Mkdir),
        15 => map(status(i), |status| Reply::Rmdir { status }),
        16 => {
            let (i, status) = status(i)?;
            if !status.is_ok() {
                return Ok((i, Reply::Readdir { status, entries: Vec::new(), eof: None }));
            }
            map(readdir_ok(i), |(entries, eof)| Reply::Readdir { status, entries, eof: Some(eof) })
        }
        17 => {
            let (i, status) = status(i)?;
            if !status.is_ok() {
                return Ok((i, Reply::Statfs { status, res: None }));
            }
            let mut w = [0u32; 5];
            let mut i = i;
            for x in w.iter_mut() {
                let (r, v) = xdr::u32(i)?;
                *x = v;
                i = r;
            }
            let [tsize, bsize, blocks, bfree, bavail] = w;
            Ok((i, Reply::Statfs { status, res: Some(StatfsOk { tsize, bsize, blocks, bfree, bavail }) }))
        }
        n => Ok((i, Reply::Unknown { proc_num: n })),
    }
}

impl fmt::Display for Sattr2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(m) = self.mode {
            parts.push(format!("mode {m:04o}"));
        }
        if let Some(u) = self.uid {
            parts.push(format!("uid {u}"));
        }
        if let Some(g) = self.gid {
            parts.push(format!("gid {g}"));
        }
        if let Some(s) = self.size {
            parts.push(format!("size {s}"));
        }
        if let Some(t) = self.atime {
            parts.push(format!("atime {}.{:06}", t.seconds, t.useconds));
        }
        if let Some(t) = self.mtime {
            parts.push(format!("mtime {}.{:06}", t.seconds, t.useconds));
        }
        f.write_str(&parts.join(" "))
    }
}

fn ftype_name(t: u32) -> &'static str {
    match t {
        0 => "NON",
        1 => "REG",
        2 => "DIR",
        3 => "BLK",
        4 => "CHR",
        5 => "LNK",
        _ => "?",
    }
}

impl fmt::Display for Fattr2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mode {:04o} uid {} gid {} size {}", ftype_name(self.ftype), self.mode & 0o7777, self.uid, self.gid, self.size)
    }
}

/// " {attrs}" when any attribute is set.
fn sattr_text(f: &mut fmt::Formatter<'_>, a: &Sattr2) -> fmt::Result {
    let s = a.to_string();
    if s.is_empty() {
        Ok(())
    } else {
        write!(f, " {s}")
    }
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Call::*;
        match self {
            Null | Root | Writecache => Ok(()),
            Getattr { file } | Readlink { file } | Statfs { file } => write!(f, "fh {file}"),
            Setattr { file, attributes } => {
                write!(f, "fh {file}")?;
                sattr_text(f, attributes)
            }
            Lookup { dir, name } | Remove { dir, name } | Rmdir { dir, name } => write!(f, "fh {dir} \"{name}\""),
            Create { dir, name, attributes } | Mkdir { dir, name, attributes } => {
                write!(f, "fh {dir} \"{name}\"")?;
                sattr_text(f, attributes)
            }
            Read { file, offset, count, .. } => write!(f, "fh {file} {count} bytes @ {offset}"),
            Write { file, offset, data_len, .. } => write!(f, "fh {file} {data_len} bytes @ {offset}"),
            Rename { from_dir, from_name, to_dir, to_name } => {
                write!(f, "fh {from_dir} \"{from_name}\" -> fh {to_dir} \"{to_name}\"")
            }
            Link { from, dir, name } => write!(f, "fh {from} -> fh {dir} \"{name}\""),
            Symlink { dir, name, target, .. } => write!(f, "fh {dir} \"{name}\" -> \"{target}\""),
            Readdir { dir, cookie, count } => write!(f, "fh {dir} cookie {cookie} count {count}"),
            Unknown { proc_num } => write!(f, "proc {proc_num}"),
        }
    }
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Reply::*;
        let Some(status) = self.status() else {
            return match self {
                Unknown { proc_num } => write!(f, "proc {proc_num}"),
                _ => Ok(()),
            };
        };
        if !status.is_ok() {
            return status.fmt(f);
        }
        f.write_str("ok")?;
        match self {
            Getattr(r) | Setattr(r) | Write(r) => match &r.attributes {
                Some(a) => write!(f, " {a}"),
                None => Ok(()),
            },
            Lookup(r) | Create(r) | Mkdir(r) => match r.file {
                Some(h) => write!(f, " fh {h}"),
                None => Ok(()),
            },
            Readlink { data: Some(d), .. } => write!(f, " \"{d}\""),
            Read { data_len: Some(n), .. } => write!(f, " {n} bytes"),
            Readdir { entries, eof, .. } => {
                write!(f, " {} entries", entries.len())?;
                if *eof == Some(true) {
                    f.write_str(" EOF")?;
                }
                Ok(())
            }
            Statfs { res: Some(s), .. } => {
                write!(f, " tsize {} bsize {} blocks {} bfree {} bavail {}", s.tsize, s.bsize, s.blocks, s.bfree, s.bavail)
            }
            _ => Ok(()),
        }
    }
}
