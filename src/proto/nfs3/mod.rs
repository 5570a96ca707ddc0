//! NFSv3 (program 100003 version 3, RFC 1813): every procedure, arguments and results,
//! including the failure arms. READ and WRITE data are kept as borrowed slices.

mod text;
mod types;
#[cfg(test)]
mod tests;

pub use types::*;

use crate::xdr::{self, Opaque, Res, XStr, XdrError};
use serde::Serialize;

const PROCS: [&str; 22] = [
    "NULL", "GETATTR", "SETATTR", "LOOKUP", "ACCESS", "READLINK", "READ", "WRITE", "CREATE", "MKDIR",
    "SYMLINK", "MKNOD", "REMOVE", "RMDIR", "RENAME", "LINK", "READDIR", "READDIRPLUS", "FSSTAT", "FSINFO",
    "PATHCONF", "COMMIT",
];

pub fn proc_name(vers: u32, proc_: u32) -> Option<&'static str> {
    if vers != 3 {
        return None;
    }
    PROCS.get(proc_ as usize).copied()
}

/// A file handle (`nfs_fh3`).
pub type Fh<'a> = Opaque<'a>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Call<'a> {
    Null,
    Getattr { object: Fh<'a> },
    Setattr { object: Fh<'a>, new_attributes: Sattr3, guard: Option<NfsTime3> },
    Lookup { dir: Fh<'a>, name: XStr<'a> },
    Access { object: Fh<'a>, access: u32 },
    Readlink { symlink: Fh<'a> },
    Read { file: Fh<'a>, offset: u64, count: u32 },
    Write {
        file: Fh<'a>,
        offset: u64,
        count: u32,
        stable: u32,
        data_len: usize,
        /// The payload, borrowed from the record (left out of JSON).
        #[serde(skip)]
        data: Opaque<'a>,
    },
    Create { dir: Fh<'a>, name: XStr<'a>, how: CreateHow<'a> },
    Mkdir { dir: Fh<'a>, name: XStr<'a>, attributes: Sattr3 },
    Symlink { dir: Fh<'a>, name: XStr<'a>, attributes: Sattr3, target: XStr<'a> },
    Mknod { dir: Fh<'a>, name: XStr<'a>, what: MknodData },
    Remove { dir: Fh<'a>, name: XStr<'a> },
    Rmdir { dir: Fh<'a>, name: XStr<'a> },
    Rename { from_dir: Fh<'a>, from_name: XStr<'a>, to_dir: Fh<'a>, to_name: XStr<'a> },
    /// Make `dir`/`name` a new name for `file`.
    Link { file: Fh<'a>, dir: Fh<'a>, name: XStr<'a> },
    Readdir { dir: Fh<'a>, cookie: u64, cookieverf: Opaque<'a>, count: u32 },
    Readdirplus { dir: Fh<'a>, cookie: u64, cookieverf: Opaque<'a>, dircount: u32, maxcount: u32 },
    Fsstat { fsroot: Fh<'a> },
    Fsinfo { fsroot: Fh<'a> },
    Pathconf { object: Fh<'a> },
    Commit { file: Fh<'a>, offset: u64, count: u32 },
    Unknown { proc_num: u32 },
}

/// Result of CREATE, MKDIR, SYMLINK and MKNOD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateRes<'a> {
    pub status: NfsStat3,
    /// The new object's handle (success only, and optional even then).
    pub obj: Option<Fh<'a>>,
    pub obj_attributes: Option<Fattr3>,
    pub dir_wcc: WccData,
}

/// Each result carries its `status`; fields only present on success are `Option`s
/// (or empty) on failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reply<'a> {
    Null,
    Getattr { status: NfsStat3, attributes: Option<Fattr3> },
    Setattr { status: NfsStat3, obj_wcc: WccData },
    Lookup { status: NfsStat3, object: Option<Fh<'a>>, obj_attributes: Option<Fattr3>, dir_attributes: Option<Fattr3> },
    Access { status: NfsStat3, obj_attributes: Option<Fattr3>, access: Option<u32> },
    Readlink { status: NfsStat3, symlink_attributes: Option<Fattr3>, data: Option<XStr<'a>> },
    Read {
        status: NfsStat3,
        file_attributes: Option<Fattr3>,
        count: Option<u32>,
        eof: Option<bool>,
        data_len: Option<usize>,
        /// The payload, borrowed from the record (left out of JSON).
        #[serde(skip)]
        data: Option<Opaque<'a>>,
    },
    Write { status: NfsStat3, file_wcc: WccData, count: Option<u32>, committed: Option<u32>, verf: Option<Opaque<'a>> },
    Create(CreateRes<'a>),
    Mkdir(CreateRes<'a>),
    Symlink(CreateRes<'a>),
    Mknod(CreateRes<'a>),
    Remove { status: NfsStat3, dir_wcc: WccData },
    Rmdir { status: NfsStat3, dir_wcc: WccData },
    Rename { status: NfsStat3, fromdir_wcc: WccData, todir_wcc: WccData },
    Link { status: NfsStat3, file_attributes: Option<Fattr3>, linkdir_wcc: WccData },
    Readdir {
        status: NfsStat3,
        dir_attributes: Option<Fattr3>,
        cookieverf: Option<Opaque<'a>>,
        entries: Vec<Entry3<'a>>,
        eof: Option<bool>,
    },
    Readdirplus {
        status: NfsStat3,
        dir_attributes: Option<Fattr3>,
        cookieverf: Option<Opaque<'a>>,
        entries: Vec<EntryPlus3<'a>>,
        eof: Option<bool>,
    },
    Fsstat {
        status: NfsStat3,
        obj_attributes: Option<Fattr3>,
        #[serde(flatten)]
        res: Option<FsstatOk>,
    },
    Fsinfo {
        status: NfsStat3,
        obj_attributes: Option<Fattr3>,
        #[serde(flatten)]
        res: Option<FsinfoOk>,
    },
    Pathconf {
        status: NfsStat3,
        obj_attributes: Option<Fattr3>,
        #[serde(flatten)]
        res: Option<PathconfOk>,
    },
    Commit { status: NfsStat3, file_wcc: WccData, verf: Option<Opaque<'a>> },
    Unknown { proc_num: u32 },
}

impl<'a> Call<'a> {
    /// The handle the call operates on (for directory operations, the directory; for
    /// RENAME, the source directory; for LINK, the existing file).
    pub fn fh(&self) -> Option<Fh<'a>> {
        use Call::*;
        Some(match self {
            Getattr { object } | Setattr { object, .. } | Access { object, .. } | Pathconf { object } => *object,
            Readlink { symlink } => *symlink,
            Read { file, .. } | Write { file, .. } | Commit { file, .. } | Link { file, .. } => *file,
            Lookup { dir, .. } | Create { dir, .. } | Mkdir { dir, .. } | Symlink { dir, .. } | Mknod { dir, .. } => *dir,
            Remove { dir, .. } | Rmdir { dir, .. } | Readdir { dir, .. } | Readdirplus { dir, .. } => *dir,
            Rename { from_dir, .. } => *from_dir,
            Fsstat { fsroot } | Fsinfo { fsroot } => *fsroot,
            Null | Unknown { .. } => return None,
        })
    }

    /// The directory and name a call looks up, creates, removes or links to
    /// (LOOKUP, CREATE, MKDIR, SYMLINK, MKNOD, REMOVE, RMDIR, LINK).
    pub fn dir_name(&self) -> Option<(Fh<'a>, XStr<'a>)> {
        use Call::*;
        match self {
            Lookup { dir, name } | Create { dir, name, .. } | Mkdir { dir, name, .. } | Symlink { dir, name, .. } => {
                Some((*dir, *name))
            }
            Mknod { dir, name, .. } | Remove { dir, name } | Rmdir { dir, name } | Link { dir, name, .. } => {
                Some((*dir, *name))
            }
            _ => None,
        }
    }
}

impl<'a> Reply<'a> {
    pub fn status(&self) -> Option<NfsStat3> {
        use Reply::*;
        Some(match self {
            Getattr { status, .. } | Setattr { status, .. } | Lookup { status, .. } | Access { status, .. } => *status,
            Readlink { status, .. } | Read { status, .. } | Write { status, .. } => *status,
            Create(r) | Mkdir(r) | Symlink(r) | Mknod(r) => r.status,
            Remove { status, .. } | Rmdir { status, .. } | Rename { status, .. } | Link { status, .. } => *status,
            Readdir { status, .. } | Readdirplus { status, .. } | Fsstat { status, .. } => *status,
            Fsinfo { status, .. } | Pathconf { status, .. } | Commit { status, .. } => *status,
            Null | Unknown { .. } => return None,
        })
    }

    /// The handle of the object a LOOKUP found or a CREATE/MKDIR/SYMLINK/MKNOD made.
    pub fn new_fh(&self) -> Option<Fh<'a>> {
        match self {
            Reply::Lookup { object, .. } => *object,
            Reply::Create(r) | Reply::Mkdir(r) | Reply::Symlink(r) | Reply::Mknod(r) => r.obj,
            _ => None,
        }
    }
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
        1 => return map(fh(i), |object| Call::Getattr { object }),
        2 => {
            let (i, object) = fh(i)?;
            let (i, new_attributes) = sattr(i)?;
            let (i, guard) = xdr::optional(nfstime)(i)?;
            (i, Call::Setattr { object, new_attributes, guard })
        }
        3 => return map(diropargs(i), |(dir, name)| Call::Lookup { dir, name }),
        4 => {
            let (i, object) = fh(i)?;
            let (i, access) = xdr::u32(i)?;
            (i, Call::Access { object, access })
        }
        5 => return map(fh(i), |symlink| Call::Readlink { symlink }),
        6 | 21 => {
            let (i, file) = fh(i)?;
            let (i, offset) = xdr::u64(i)?;
            let (i, count) = xdr::u32(i)?;
            (i, if proc_ == 6 { Call::Read { file, offset, count } } else { Call::Commit { file, offset, count } })
        }
        7 => {
            let (i, file) = fh(i)?;
            let (i, offset) = xdr::u64(i)?;
            let (i, count) = xdr::u32(i)?;
            let (i, stable) = xdr::u32(i)?;
            let (i, data) = xdr::opaque(i)?;
            (i, Call::Write { file, offset, count, stable, data_len: data.len(), data: Opaque(data) })
        }
        8 => {
            let (i, (dir, name)) = diropargs(i)?;
            let (i, how) = createhow(i)?;
            (i, Call::Create { dir, name, how })
        }
        9 => {
            let (i, (dir, name)) = diropargs(i)?;
            let (i, attributes) = sattr(i)?;
            (i, Call::Mkdir { dir, name, attributes })
        }
        10 => {
            let (i, (dir, name)) = diropargs(i)?;
            let (i, attributes) = sattr(i)?;
            let (i, target) = xdr::string(i)?;
            (i, Call::Symlink { dir, name, attributes, target })
        }
        11 => {
            let (i, (dir, name)) = diropargs(i)?;
            let (i, what) = mknoddata(i)?;
            (i, Call::Mknod { dir, name, what })
        }
        12 => return map(diropargs(i), |(dir, name)| Call::Remove { dir, name }),
        13 => return map(diropargs(i), |(dir, name)| Call::Rmdir { dir, name }),
        14 => {
            let (i, (from_dir, from_name)) = diropargs(i)?;
            let (i, (to_dir, to_name)) = diropargs(i)?;
            (i, Call::Rename { from_dir, from_name, to_dir, to_name })
        }
        15 => {
            let (i, file) = fh(i)?;
            let (i, (dir, name)) = diropargs(i)?;
            (i, Call::Link { file, dir, name })
        }
        16 | 17 => {
            let (i, dir) = fh(i)?;
            let (i, cookie) = xdr::u64(i)?;
            let (i, verf) = xdr::fixed(8)(i)?;
            let cookieverf = Opaque(verf);
            let (i, count) = xdr::u32(i)?;
            if proc_ == 16 {
                (i, Call::Readdir { dir, cookie, cookieverf, count })
            } else {
                let (i, maxcount) = xdr::u32(i)?;
                (i, Call::Readdirplus { dir, cookie, cookieverf, dircount: count, maxcount })
            }
        }
        18 => return map(fh(i), |fsroot| Call::Fsstat { fsroot }),
        19 => return map(fh(i), |fsroot| Call::Fsinfo { fsroot }),
        20 => return map(fh(i), |object| Call::Pathconf { object }),
        n => (i, Call::Unknown { proc_num: n }),
    })
}

pub fn decode_reply(_vers: u32, proc_: u32, b: &[u8]) -> Result<Reply<'_>, XdrError> {
    xdr::finish(reply(proc_, b))
}

fn verf(i: &[u8]) -> Res<'_, Opaque<'_>> {
    xdr::fixed(8)(i).map(|(i, v)| (i, Opaque(v)))
}

fn create_res(status: NfsStat3, i: &[u8]) -> Res<'_, CreateRes<'_>> {
    let (i, obj) = if_ok(status, i, post_op_fh)?;
    let (i, obj_attributes) = if_ok(status, i, post_op_attr)?;
    let (i, dir_wcc) = wcc_data(i)?;
    Ok((i, CreateRes { status, obj: obj.flatten(), obj_attributes: obj_attributes.flatten(), dir_wcc }))
}

fn status(i: &[u8]) -> Res<'_, NfsStat3> {
    xdr::u32(i).map(|(i, v)| (i, NfsStat3(v)))
}

/// Parse `f` only when the status is NFS3_OK.
fn if_ok<'a, T>(status: NfsStat3, i: &'a [u8], f: impl Fn(&'a [u8]) -> Res<'a, T>) -> Res<'a, Option<T>> {
    if status.is_ok() {
        f(i).map(|(i, v)| (i, Some(v)))
    } else {
        Ok((i, None))
    }
}

fn reply(proc_: u32, i: &[u8]) -> Res<'_, Reply<'_>> {
    if proc_ == 0 {
        return Ok((i, Reply::Null));
    }
    if proc_ as usize >= PROCS.len() {
        return Ok((i, Reply::Unknown { proc_num: proc_ }));
    }
    let (i, status) = status(i)?;
    Ok(match proc_ {
        1 => {
            let (i, attributes) = if_ok(status, i, fattr)?;
            (i, Reply::Getattr { status, attributes })
        }
        2 => map(wcc_data(i), |obj_wcc| Reply::Setattr { status, obj_wcc })?,
        3 => {
            let (i, object) = if_ok(status, i, fh)?;
            let (i, obj_attributes) = if_ok(status, i, post_op_attr)?;
            let (i, dir_attributes) = post_op_attr(i)?;
            (i, Reply::Lookup { status, object, obj_attributes: obj_attributes.flatten(), dir_attributes })
        }
        4 => {
            let (i, obj_attributes) = post_op_attr(i)?;
            let (i, access) = if_ok(status, i, xdr::u32)?;
            (i, Reply::Access { status, obj_attributes, access })
        }
        5 => {
            let (i, symlink_attributes) = post_op_attr(i)?;
            let (i, data) = if_ok(status, i, xdr::string)?;
            (i, Reply::Readlink { status, symlink_attributes, data })
        }
        6 => {
            let (i, file_attributes) = post_op_attr(i)?;
            let (i, rest) = if_ok(status, i, |i| {
                let (i, count) = xdr::u32(i)?;
                let (i, eof) = xdr::bool(i)?;
                let (i, data) = xdr::opaque(i)?;
                Ok((i, (count, eof, data)))
            })?;
            let (count, eof, data) = match rest {
                Some((c, e, d)) => (Some(c), Some(e), Some(d)),
                None => (None, None, None),
            };
            let data_len = data.map(<[u8]>::len);
            (i, Reply::Read { status, file_attributes, count, eof, data_len, data: data.map(Opaque) })
        }
        7 => {
            let (i, file_wcc) = wcc_data(i)?;
            let (i, rest) = if_ok(status, i, |i| {
                let (i, count) = xdr::u32(i)?;
                let (i, committed) = xdr::u32(i)?;
                let (i, v) = verf(i)?;
                Ok((i, (count, committed, v)))
            })?;
            let (count, committed, verf) = match rest {
                Some((c, s, v)) => (Some(c), Some(s), Some(v)),
                None => (None, None, None),
            };
            (i, Reply::Write { status, file_wcc, count, committed, verf })
        }
        8 => map(create_res(status, i), Reply::Create)?,
        9 => map(create_res(status, i), Reply::Mkdir)?,
        10 => map(create_res(status, i), Reply::Symlink)?,
        11 => map(create_res(status, i), Reply::Mknod)?,
        12 => map(wcc_data(i), |dir_wcc| Reply::Remove { status, dir_wcc })?,
        13 => map(wcc_data(i), |dir_wcc| Reply::Rmdir { status, dir_wcc })?,
        14 => {
            let (i, fromdir_wcc) = wcc_data(i)?;
            let (i, todir_wcc) = wcc_data(i)?;
            (i, Reply::Rename { status, fromdir_wcc, todir_wcc })
        }
        15 => {
            let (i, file_attributes) = post_op_attr(i)?;
            let (i, linkdir_wcc) = wcc_data(i)?;
            (i, Reply::Link { status, file_attributes, linkdir_wcc })
        }
        16 => {
            let (i, dir_attributes) = post_op_attr(i)?;
            let (i, cookieverf) = if_ok(status, i, verf)?;
            let (i, list) = if_ok(status, i, |i| dirlist(i, entry))?;
            let (entries, eof) = split_list(list);
            (i, Reply::Readdir { status, dir_attributes, cookieverf, entries, eof })
        }
        17 => {
            let (i, dir_attributes) = post_op_attr(i)?;
            let (i, cookieverf) = if_ok(status, i, verf)?;
            let (i, list) = if_ok(status, i, |i| dirlist(i, entryplus))?;
            let (entries, eof) = split_list(list);
            (i, Reply::Readdirplus { status, dir_attributes, cookieverf, entries, eof })
        }
        18 => {
            let (i, obj_attributes) = post_op_attr(i)?;
            let (i, res) = if_ok(status, i, fsstat_ok)?;
            (i, Reply::Fsstat { status, obj_attributes, res })
        }
        19 => {
            let (i, obj_attributes) = post_op_attr(i)?;
            let (i, res) = if_ok(status, i, fsinfo_ok)?;
            (i, Reply::Fsinfo { status, obj_attributes, res })
        }
        20 => {
            let (i, obj_attributes) = post_op_attr(i)?;
            let (i, res) = if_ok(status, i, pathconf_ok)?;
            (i, Reply::Pathconf { status, obj_attributes, res })
        }
        _ => {
            let (i, file_wcc) = wcc_data(i)?;
            let (i, verf) = if_ok(status, i, verf)?;
            (i, Reply::Commit { status, file_wcc, verf })
        }
    })
}

fn split_list<T>(list: Option<(Vec<T>, bool)>) -> (Vec<T>, Option<bool>) {
    match list {
        Some((v, eof)) => (v, Some(eof)),
        None => (Vec::new(), None),
    }
}
