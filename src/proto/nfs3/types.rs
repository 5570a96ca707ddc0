//! NFSv3 data types (RFC 1813 §2.5–2.6) and their parsers.

use crate::xdr::{self, string, Opaque, Res, XStr, XdrError};
use serde::{Serialize, Serializer};
use std::fmt;

/// `nfs_fh3`: at most 64 bytes.
pub const FHSIZE3: u32 = 64;

/// `nfsstat3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NfsStat3(pub u32);

impl NfsStat3 {
    pub const OK: NfsStat3 = NfsStat3(0);

    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NFS3_OK",
            1 => "NFS3ERR_PERM",
            2 => "NFS3ERR_NOENT",
            5 => "NFS3ERR_IO",
            6 => "NFS3ERR_NXIO",
            13 => "NFS3ERR_ACCES",
            17 => "NFS3ERR_EXIST",
            18 => "NFS3ERR_XDEV",
            19 => "NFS3ERR_NODEV",
            20 => "NFS3ERR_NOTDIR",
            21 => "NFS3ERR_ISDIR",
            22 => "NFS3ERR_INVAL",
            27 => "NFS3ERR_FBIG",
            28 => "NFS3ERR_NOSPC",
            30 => "NFS3ERR_ROFS",
            31 => "NFS3ERR_MLINK",
            63 => "NFS3ERR_NAMETOOLONG",
            66 => "NFS3ERR_NOTEMPTY",
            69 => "NFS3ERR_DQUOT",
            70 => "NFS3ERR_STALE",
            71 => "NFS3ERR_REMOTE",
            10001 => "NFS3ERR_BADHANDLE",
            10002 => "NFS3ERR_NOT_SYNC",
            10003 => "NFS3ERR_BAD_COOKIE",
            10004 => "NFS3ERR_NOTSUPP",
            10005 => "NFS3ERR_TOOSMALL",
            10006 => "NFS3ERR_SERVERFAULT",
            10007 => "NFS3ERR_BADTYPE",
            10008 => "NFS3ERR_JUKEBOX",
            _ => return None,
        })
    }
}

impl fmt::Display for NfsStat3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "UNKNOWN({})", self.0),
        }
    }
}

/// JSON: `{"name": "NFS3ERR_NOENT", "code": 2}`.
impl Serialize for NfsStat3 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("NfsStat3", 2)?;
        st.serialize_field("name", self.name().unwrap_or("UNKNOWN"))?;
        st.serialize_field("code", &self.0)?;
        st.end()
    }
}

/// `ftype3` as a short name.
pub fn ftype_name(t: u32) -> &'static str {
    match t {
        1 => "REG",
        2 => "DIR",
        3 => "BLK",
        4 => "CHR",
        5 => "LNK",
        6 => "SOCK",
        7 => "FIFO",
        _ => "?",
    }
}

/// `stable_how` (WRITE) and the `committed` field of its result.
pub fn stable_name(s: u32) -> &'static str {
    match s {
        0 => "UNSTABLE",
        1 => "DATA_SYNC",
        2 => "FILE_SYNC",
        _ => "?",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NfsTime3 {
    pub seconds: u32,
    pub nseconds: u32,
}

/// `fattr3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fattr3 {
    #[serde(rename = "type")]
    pub ftype: u32,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub used: u64,
    /// `specdata3` (major, minor).
    pub rdev: [u32; 2],
    pub fsid: u64,
    pub fileid: u64,
    pub atime: NfsTime3,
    pub mtime: NfsTime3,
    pub ctime: NfsTime3,
}

/// `wcc_attr`: the attributes before an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WccAttr {
    pub size: u64,
    pub mtime: NfsTime3,
    pub ctime: NfsTime3,
}

/// `wcc_data`: weak cache consistency, before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WccData {
    pub before: Option<WccAttr>,
    pub after: Option<Fattr3>,
}

/// `set_atime` / `set_mtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetTime {
    DontChange,
    ServerTime,
    ClientTime(NfsTime3),
}

/// `sattr3`: attributes to set; `None` leaves one unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sattr3 {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: SetTime,
    pub mtime: SetTime,
}

/// `createhow3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CreateHow<'a> {
    Unchecked { attributes: Sattr3 },
    Guarded { attributes: Sattr3 },
    Exclusive { verf: Opaque<'a> },
}

/// `mknoddata3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MknodData {
    Chr { attributes: Sattr3, spec: [u32; 2] },
    Blk { attributes: Sattr3, spec: [u32; 2] },
    Sock { attributes: Sattr3 },
    Fifo { attributes: Sattr3 },
    /// Any other type carries nothing.
    Other { ftype: u32 },
}

/// `entry3`: one READDIR entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry3<'a> {
    pub fileid: u64,
    pub name: XStr<'a>,
    pub cookie: u64,
}

/// `entryplus3`: one READDIRPLUS entry, with its handle when the server sent one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryPlus3<'a> {
    pub fileid: u64,
    pub name: XStr<'a>,
    pub cookie: u64,
    pub name_attributes: Option<Fattr3>,
    pub name_handle: Option<Opaque<'a>>,
}

/// FSSTAT success fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FsstatOk {
    pub tbytes: u64,
    pub fbytes: u64,
    pub abytes: u64,
    pub tfiles: u64,
    pub ffiles: u64,
    pub afiles: u64,
    pub invarsec: u32,
}

/// FSINFO success fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FsinfoOk {
    pub rtmax: u32,
    pub rtpref: u32,
    pub rtmult: u32,
    pub wtmax: u32,
    pub wtpref: u32,
    pub wtmult: u32,
    pub dtpref: u32,
    pub maxfilesize: u64,
    pub time_delta: NfsTime3,
    pub properties: u32,
}

/// PATHCONF success fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PathconfOk {
    pub linkmax: u32,
    pub name_max: u32,
    pub no_trunc: bool,
    pub chown_restricted: bool,
    pub case_insensitive: bool,
    pub case_preserving: bool,
}

// ---- parsers ----

pub(super) fn fh(i: &[u8]) -> Res<'_, Opaque<'_>> {
    xdr::opaque_max(FHSIZE3)(i).map(|(i, b)| (i, Opaque(b)))
}

pub(super) fn diropargs(i: &[u8]) -> Res<'_, (Opaque<'_>, XStr<'_>)> {
    let (i, dir) = fh(i)?;
    let (i, name) = string(i)?;
    Ok((i, (dir, name)))
}

pub(super) fn nfstime(i: &[u8]) -> Res<'_, NfsTime3> {
    let (i, seconds) = xdr::u32(i)?;
    let (i, nseconds) = xdr::u32(i)?;
    Ok((i, NfsTime3 { seconds, nseconds }))
}

pub(super) fn fattr(i: &[u8]) -> Res<'_, Fattr3> {
    let (i, ftype) = xdr::u32(i)?;
    let (i, mode) = xdr::u32(i)?;
    let (i, nlink) = xdr::u32(i)?;
    let (i, uid) = xdr::u32(i)?;
    let (i, gid) = xdr::u32(i)?;
    let (i, size) = xdr::u64(i)?;
    let (i, used) = xdr::u64(i)?;
    let (i, r0) = xdr::u32(i)?;
    let (i, r1) = xdr::u32(i)?;
    let (i, fsid) = xdr::u64(i)?;
    let (i, fileid) = xdr::u64(i)?;
    let (i, atime) = nfstime(i)?;
    let (i, mtime) = nfstime(i)?;
    let (i, ctime) = nfstime(i)?;
    Ok((i, Fattr3 { ftype, mode, nlink, uid, gid, size, used, rdev: [r0, r1], fsid, fileid, atime, mtime, ctime }))
}

pub(super) fn post_op_attr(i: &[u8]) -> Res<'_, Option<Fattr3>> {
    xdr::optional(fattr)(i)
}

pub(super) fn post_op_fh(i: &[u8]) -> Res<'_, Option<Opaque<'_>>> {
    xdr::optional(fh)(i)
}

fn wcc_attr(i: &[u8]) -> Res<'_, WccAttr> {
    let (i, size) = xdr::u64(i)?;
    let (i, mtime) = nfstime(i)?;
    let (i, ctime) = nfstime(i)?;
    Ok((i, WccAttr { size, mtime, ctime }))
}

pub(super) fn wcc_data(i: &[u8]) -> Res<'_, WccData> {
    let (i, before) = xdr::optional(wcc_attr)(i)?;
    let (i, after) = post_op_attr(i)?;
    Ok((i, WccData { before, after }))
}

fn bad(what: &'static str, value: u32) -> nom::Err<XdrError> {
    nom::Err::Error(XdrError::BadValue { what, value })
}

fn set_time(i: &[u8]) -> Res<'_, SetTime> {
    let (i, how) = xdr::u32(i)?;
    match how {
        0 => Ok((i, SetTime::DontChange)),
        1 => Ok((i, SetTime::ServerTime)),
        2 => nfstime(i).map(|(i, t)| (i, SetTime::ClientTime(t))),
        n => Err(bad("time_how", n)),
    }
}

pub(super) fn sattr(i: &[u8]) -> Res<'_, Sattr3> {
    let (i, mode) = xdr::optional(xdr::u32)(i)?;
    let (i, uid) = xdr::optional(xdr::u32)(i)?;
    let (i, gid) = xdr::optional(xdr::u32)(i)?;
    let (i, size) = xdr::optional(xdr::u64)(i)?;
    let (i, atime) = set_time(i)?;
    let (i, mtime) = set_time(i)?;
    Ok((i, Sattr3 { mode, uid, gid, size, atime, mtime }))
}

pub(super) fn createhow(i: &[u8]) -> Res<'_, CreateHow<'_>> {
    let (i, mode) = xdr::u32(i)?;
    match mode {
        0 => sattr(i).map(|(i, attributes)| (i, CreateHow::Unchecked { attributes })),
        1 => sattr(i).map(|(i, attributes)| (i, CreateHow::Guarded { attributes })),
        2 => xdr::fixed(8)(i).map(|(i, v)| (i, CreateHow::Exclusive { verf: Opaque(v) })),
        n => Err(bad("createmode3", n)),
    }
}

fn specdata(i: &[u8]) -> Res<'_, [u32; 2]> {
    let (i, a) = xdr::u32(i)?;
    let (i, b) = xdr::u32(i)?;
    Ok((i, [a, b]))
}

pub(super) fn mknoddata(i: &[u8]) -> Res<'_, MknodData> {
    let (i, t) = xdr::u32(i)?;
    match t {
        3 | 4 => {
            let (i, attributes) = sattr(i)?;
            let (i, spec) = specdata(i)?;
            Ok((i, if t == 4 { MknodData::Chr { attributes, spec } } else { MknodData::Blk { attributes, spec } }))
        }
        6 => sattr(i).map(|(i, attributes)| (i, MknodData::Sock { attributes })),
        7 => sattr(i).map(|(i, attributes)| (i, MknodData::Fifo { attributes })),
        ftype => Ok((i, MknodData::Other { ftype })),
    }
}

/// Largest number of directory entries a READDIR/READDIRPLUS reply may carry.
pub const MAX_ENTRIES: usize = 65536;

/// A directory listing: an XDR linked list, then the eof flag.
pub(super) fn dirlist<'a, T>(mut i: &'a [u8], f: impl Fn(&'a [u8]) -> Res<'a, T>) -> Res<'a, (Vec<T>, bool)> {
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
        let (r, v) = f(i)?;
        out.push(v);
        i = r;
    }
    let (i, eof) = xdr::bool(i)?;
    Ok((i, (out, eof)))
}

pub(super) fn entry(i: &[u8]) -> Res<'_, Entry3<'_>> {
    let (i, fileid) = xdr::u64(i)?;
    let (i, name) = string(i)?;
    let (i, cookie) = xdr::u64(i)?;
    Ok((i, Entry3 { fileid, name, cookie }))
}

pub(super) fn entryplus(i: &[u8]) -> Res<'_, EntryPlus3<'_>> {
    let (i, fileid) = xdr::u64(i)?;
    let (i, name) = string(i)?;
    let (i, cookie) = xdr::u64(i)?;
    let (i, name_attributes) = post_op_attr(i)?;
    let (i, name_handle) = post_op_fh(i)?;
    Ok((i, EntryPlus3 { fileid, name, cookie, name_attributes, name_handle }))
}

pub(super) fn fsstat_ok(i: &[u8]) -> Res<'_, FsstatOk> {
    let (i, tbytes) = xdr::u64(i)?;
    let (i, fbytes) = xdr::u64(i)?;
    let (i, abytes) = xdr::u64(i)?;
    let (i, tfiles) = xdr::u64(i)?;
    let (i, ffiles) = xdr::u64(i)?;
    let (i, afiles) = xdr::u64(i)?;
    let (i, invarsec) = xdr::u32(i)?;
    Ok((i, FsstatOk { tbytes, fbytes, abytes, tfiles, ffiles, afiles, invarsec }))
}

pub(super) fn fsinfo_ok(i: &[u8]) -> Res<'_, FsinfoOk> {
    let (i, rtmax) = xdr::u32(i)?;
    let (i, rtpref) = xdr::u32(i)?;
    let (i, rtmult) = xdr::u32(i)?;
    let (i, wtmax) = xdr::u32(i)?;
    let (i, wtpref) = xdr::u32(i)?;
    let (i, wtmult) = xdr::u32(i)?;
    let (i, dtpref) = xdr::u32(i)?;
    let (i, maxfilesize) = xdr::u64(i)?;
    let (i, time_delta) = nfstime(i)?;
    let (i, properties) = xdr::u32(i)?;
    Ok((i, FsinfoOk { rtmax, rtpref, rtmult, wtmax, wtpref, wtmult, dtpref, maxfilesize, time_delta, properties }))
}

pub(super) fn pathconf_ok(i: &[u8]) -> Res<'_, PathconfOk> {
    let (i, linkmax) = xdr::u32(i)?;
    let (i, name_max) = xdr::u32(i)?;
    let (i, no_trunc) = xdr::bool(i)?;
    let (i, chown_restricted) = xdr::bool(i)?;
    let (i, case_insensitive) = xdr::bool(i)?;
    let (i, case_preserving) = xdr::bool(i)?;
    Ok((i, PathconfOk { linkmax, name_max, no_trunc, chown_restricted, case_insensitive, case_preserving }))
}
