//! Results of every NFSv4.0/4.1/4.2 operation (`nfs_resop4`), including the error arms
//! that carry data (LOCK/LOCKT denied, SETCLIENTID in use, LAYOUTGET try later, ...).

use super::args::Payload;
use super::attrs::{fattr4, Fattr4};
use super::open::{
    lock_denied, open_delegation, open_res, LockDenied, LockOk, LockRes, OpenDelegation, OpenRes,
};
use super::ops::*;
use super::session::{
    bind_conn, create_session_res, exchange_id_res, sequence_res, BindConn, CreateSessionRes,
    ExchangeIdRes, SequenceRes, SetclientidRes,
};
use super::status::*;
use super::types::{
    at_most_one, bad, bitmap, change_info, fh, layout, layout_body, list, netaddr, netloc, nfstime,
    secinfo, stateid, verifier, write_response, xopaque, Bitmap4, ChangeInfo, Fh, Layout,
    LayoutBody, Netloc, NfsTime, SecInfo, Stateid4, WriteResponse,
};
use crate::xdr::{bool as xbool, opaque, string, u32, u64, Opaque, Res, XStr};
use serde::{Serialize, Serializer};

/// READDIR entries kept per reply; later entries are parsed but not stored.
pub const MAX_DIR_ENTRIES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StateidRes<'a> {
    pub stateid: Stateid4<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CinfoRes {
    pub cinfo: ChangeInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AccessRes {
    pub supported: u32,
    pub access: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerfRes<'a> {
    pub writeverf: Opaque<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateRes {
    pub cinfo: ChangeInfo,
    pub attrset: Bitmap4,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttrsRes<'a> {
    pub obj_attributes: Fattr4<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FhRes<'a> {
    pub fh: Fh<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReadRes<'a> {
    pub eof: bool,
    pub data: Payload<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirEntry<'a> {
    pub cookie: u64,
    pub name: XStr<'a>,
    pub attrs: Fattr4<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaddirRes<'a> {
    pub cookieverf: Opaque<'a>,
    pub entries: Vec<DirEntry<'a>>,
    /// More entries were on the wire than were kept.
    pub entries_capped: bool,
    pub eof: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReadlinkRes<'a> {
    pub link: XStr<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RenameRes {
    pub source_cinfo: ChangeInfo,
    pub target_cinfo: ChangeInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecinfoRes<'a> {
    pub flavors: Vec<SecInfo<'a>>,
}

/// SETATTR always returns the set attributes, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetattrRes {
    #[serde(skip)]
    pub status: Nfsstat4,
    pub attrsset: Bitmap4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WriteRes<'a> {
    pub count: u32,
    pub committed: u32,
    pub writeverf: Opaque<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum GetDirDelegationRes<'a> {
    Ok {
        cookieverf: Opaque<'a>,
        stateid: Stateid4<'a>,
        notification: Bitmap4,
        child_attributes: Bitmap4,
        dir_attributes: Bitmap4,
    },
    /// GDD4_UNAVAIL.
    Unavail { will_signal_deleg_avail: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum GetdeviceinfoRes<'a> {
    Ok {
        device_addr: LayoutBody<'a>,
        notification: Bitmap4,
    },
    /// NFS4ERR_TOOSMALL.
    TooSmall { mincount: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GetdevicelistRes<'a> {
    pub cookie: u64,
    pub cookieverf: Opaque<'a>,
    pub deviceids: Vec<Opaque<'a>>,
    pub eof: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayoutcommitRes {
    pub new_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LayoutgetRes<'a> {
    Ok {
        return_on_close: bool,
        stateid: Stateid4<'a>,
        layouts: Vec<Layout<'a>>,
    },
    /// NFS4ERR_LAYOUTTRYLATER.
    TryLater { will_signal_layout_avail: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayoutreturnRes<'a> {
    pub stateid: Option<Stateid4<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SetSsvRes<'a> {
    pub digest: Opaque<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestStateidRes {
    pub status_codes: Vec<Nfsstat4>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegationRes<'a> {
    pub delegation: OpenDelegation<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CopyRequirements {
    pub consecutive: bool,
    pub synchronous: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CopyRes<'a> {
    Ok {
        response: WriteResponse<'a>,
        requirements: CopyRequirements,
    },
    /// NFS4ERR_OFFLOAD_NO_REQS.
    NoReqs { requirements: CopyRequirements },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyNotifyRes<'a> {
    pub lease_time: NfsTime,
    pub stateid: Stateid4<'a>,
    pub source_servers: Vec<Netloc<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HintsRes {
    pub hints: Bitmap4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OffloadStatusRes {
    pub count: u64,
    pub complete: Option<Nfsstat4>,
}

/// One `read_plus_content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "content", rename_all = "snake_case")]
pub enum ReadPlusContent<'a> {
    Data { offset: u64, data: Payload<'a> },
    Hole { offset: u64, length: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadPlusRes<'a> {
    pub eof: bool,
    pub contents: Vec<ReadPlusContent<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeekRes {
    pub eof: bool,
    pub offset: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WriteSameRes<'a> {
    pub response: WriteResponse<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct XattrValueRes<'a> {
    pub value: Opaque<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListxattrsRes<'a> {
    pub cookie: u64,
    pub names: Vec<XStr<'a>>,
    pub eof: bool,
}

macro_rules! op_res {
    ($( $(#[$m:meta])* $var:ident($ty:ty) = $op:expr, )*) => {
        /// The result of one operation. `Status` is a result that is only a status (a
        /// void success or an error without data); the other variants are the data a
        /// result carries (mostly success, some error arms). `status()` gives the status.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum OpRes<'a> {
            Status { op: u32, status: Nfsstat4 },
            $( $(#[$m])* $var($ty), )*
        }

        impl OpRes<'_> {
            /// The operation number.
            pub fn num(&self) -> u32 {
                match self {
                    OpRes::Status { op, .. } => *op,
                    $( OpRes::$var(_) => $op, )*
                }
            }

            fn serialize_fields<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    OpRes::Status { .. } => s.serialize_unit(),
                    $( OpRes::$var(v) => v.serialize(s), )*
                }
            }
        }
    };
}

op_res! {
    Access(AccessRes) = OP_ACCESS,
    Close(StateidRes<'a>) = OP_CLOSE,
    Commit(VerfRes<'a>) = OP_COMMIT,
    Create(CreateRes) = OP_CREATE,
    Getattr(AttrsRes<'a>) = OP_GETATTR,
    Getfh(FhRes<'a>) = OP_GETFH,
    Link(CinfoRes) = OP_LINK,
    /// Granted (NFS4_OK) or denied (NFS4ERR_DENIED).
    Lock(LockRes<'a>) = OP_LOCK,
    /// LOCKT's NFS4ERR_DENIED arm (its success is a bare status).
    LocktDenied(LockDenied<'a>) = OP_LOCKT,
    Locku(StateidRes<'a>) = OP_LOCKU,
    Open(Box<OpenRes<'a>>) = OP_OPEN,
    OpenConfirm(StateidRes<'a>) = OP_OPEN_CONFIRM,
    OpenDowngrade(StateidRes<'a>) = OP_OPEN_DOWNGRADE,
    Read(ReadRes<'a>) = OP_READ,
    Readdir(ReaddirRes<'a>) = OP_READDIR,
    Readlink(ReadlinkRes<'a>) = OP_READLINK,
    Remove(CinfoRes) = OP_REMOVE,
    Rename(RenameRes) = OP_RENAME,
    Secinfo(SecinfoRes<'a>) = OP_SECINFO,
    /// Any status: SETATTR always carries the bitmap of attributes set.
    Setattr(SetattrRes) = OP_SETATTR,
    /// NFS4_OK or NFS4ERR_CLID_INUSE.
    Setclientid(SetclientidRes<'a>) = OP_SETCLIENTID,
    Write(WriteRes<'a>) = OP_WRITE,
    BindConnToSession(BindConn<'a>) = OP_BIND_CONN_TO_SESSION,
    ExchangeId(Box<ExchangeIdRes<'a>>) = OP_EXCHANGE_ID,
    CreateSession(Box<CreateSessionRes<'a>>) = OP_CREATE_SESSION,
    GetDirDelegation(Box<GetDirDelegationRes<'a>>) = OP_GET_DIR_DELEGATION,
    /// NFS4_OK or NFS4ERR_TOOSMALL.
    Getdeviceinfo(GetdeviceinfoRes<'a>) = OP_GETDEVICEINFO,
    Getdevicelist(GetdevicelistRes<'a>) = OP_GETDEVICELIST,
    Layoutcommit(LayoutcommitRes) = OP_LAYOUTCOMMIT,
    /// NFS4_OK or NFS4ERR_LAYOUTTRYLATER.
    Layoutget(LayoutgetRes<'a>) = OP_LAYOUTGET,
    Layoutreturn(LayoutreturnRes<'a>) = OP_LAYOUTRETURN,
    SecinfoNoName(SecinfoRes<'a>) = OP_SECINFO_NO_NAME,
    Sequence(SequenceRes<'a>) = OP_SEQUENCE,
    SetSsv(SetSsvRes<'a>) = OP_SET_SSV,
    TestStateid(TestStateidRes) = OP_TEST_STATEID,
    WantDelegation(Box<DelegationRes<'a>>) = OP_WANT_DELEGATION,
    /// NFS4_OK or NFS4ERR_OFFLOAD_NO_REQS.
    Copy(CopyRes<'a>) = OP_COPY,
    CopyNotify(CopyNotifyRes<'a>) = OP_COPY_NOTIFY,
    IoAdvise(HintsRes) = OP_IO_ADVISE,
    OffloadStatus(OffloadStatusRes) = OP_OFFLOAD_STATUS,
    ReadPlus(ReadPlusRes<'a>) = OP_READ_PLUS,
    Seek(SeekRes) = OP_SEEK,
    WriteSame(WriteSameRes<'a>) = OP_WRITE_SAME,
    Getxattr(XattrValueRes<'a>) = OP_GETXATTR,
    Setxattr(CinfoRes) = OP_SETXATTR,
    Listxattrs(ListxattrsRes<'a>) = OP_LISTXATTRS,
    Removexattr(CinfoRes) = OP_REMOVEXATTR,
}

impl OpRes<'_> {
    /// The operation's status.
    pub fn status(&self) -> Nfsstat4 {
        match self {
            OpRes::Status { status, .. } => *status,
            OpRes::Setattr(r) => r.status,
            OpRes::Lock(LockRes::Denied(_)) | OpRes::LocktDenied(_) => Nfsstat4(NFS4ERR_DENIED),
            OpRes::Setclientid(SetclientidRes::ClidInuse { .. }) => Nfsstat4(NFS4ERR_CLID_INUSE),
            OpRes::Getdeviceinfo(GetdeviceinfoRes::TooSmall { .. }) => Nfsstat4(NFS4ERR_TOOSMALL),
            OpRes::Layoutget(LayoutgetRes::TryLater { .. }) => Nfsstat4(NFS4ERR_LAYOUTTRYLATER),
            OpRes::Copy(CopyRes::NoReqs { .. }) => Nfsstat4(NFS4ERR_OFFLOAD_NO_REQS),
            _ => Nfsstat4::OK,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.status().is_ok()
    }

    /// The operation name ("ILLEGAL" for the ILLEGAL result).
    pub fn name(&self) -> &'static str {
        op_name(self.num()).unwrap_or("?")
    }
}

struct Fields<'r, 'a>(&'r OpRes<'a>);

impl Serialize for Fields<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_fields(s)
    }
}

/// `{"op": n, "name": .., "status": n, "status_name": .., ...result fields}`.
impl Serialize for OpRes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'r, 'a> {
            op: u32,
            name: &'static str,
            status: u32,
            status_name: Option<&'static str>,
            #[serde(flatten)]
            fields: Fields<'r, 'a>,
        }
        let st = self.status();
        Json {
            op: self.num(),
            name: self.name(),
            status: st.0,
            status_name: st.name(),
            fields: Fields(self),
        }
        .serialize(s)
    }
}

fn stateid_res(i: &[u8]) -> Res<'_, StateidRes<'_>> {
    stateid(i).map(|(i, stateid)| (i, StateidRes { stateid }))
}

fn cinfo_res(i: &[u8]) -> Res<'_, CinfoRes> {
    change_info(i).map(|(i, cinfo)| (i, CinfoRes { cinfo }))
}

fn secinfo_res(i: &[u8]) -> Res<'_, SecinfoRes<'_>> {
    list(secinfo)(i).map(|(i, flavors)| (i, SecinfoRes { flavors }))
}

fn readdir_res(i: &[u8]) -> Res<'_, ReaddirRes<'_>> {
    let (mut i, cookieverf) = verifier(i)?;
    let mut entries = Vec::new();
    let mut entries_capped = false;
    loop {
        let (r, more) = xbool(i)?;
        i = r;
        if !more {
            break;
        }
        let (r, cookie) = u64(i)?;
        let (r, name) = string(r)?;
        let (r, attrs) = fattr4(r)?;
        i = r;
        if entries.len() < MAX_DIR_ENTRIES {
            entries.push(DirEntry {
                cookie,
                name,
                attrs,
            });
        } else {
            entries_capped = true;
        }
    }
    let (i, eof) = xbool(i)?;
    Ok((
        i,
        ReaddirRes {
            cookieverf,
            entries,
            entries_capped,
            eof,
        },
    ))
}

fn copy_requirements(i: &[u8]) -> Res<'_, CopyRequirements> {
    let (i, consecutive) = xbool(i)?;
    let (i, synchronous) = xbool(i)?;
    Ok((
        i,
        CopyRequirements {
            consecutive,
            synchronous,
        },
    ))
}

fn read_plus_content(i: &[u8]) -> Res<'_, ReadPlusContent<'_>> {
    let (i, what) = u32(i)?;
    let (i, offset) = u64(i)?;
    match what {
        0 => opaque(i).map(|(i, d)| {
            (
                i,
                ReadPlusContent::Data {
                    offset,
                    data: Payload(d),
                },
            )
        }),
        1 => u64(i).map(|(i, length)| (i, ReadPlusContent::Hole { offset, length })),
        _ => Err(bad("data_content4", what)),
    }
}

/// Decode the result of operation `op` (after its op number); `None` if `op` is not
/// a defined operation.
pub fn decode_res(op: u32, i: &[u8]) -> Option<Res<'_, OpRes<'_>>> {
    op_name(op)?;
    Some(res_body(op, i))
}

fn res_body(op: u32, i: &[u8]) -> Res<'_, OpRes<'_>> {
    use OpRes as R;
    let (i, st) = u32(i)?;
    let status = Nfsstat4(st);
    if op == OP_SETATTR {
        let (i, attrsset) = bitmap(i)?;
        return Ok((i, R::Setattr(SetattrRes { status, attrsset })));
    }
    if st != NFS4_OK {
        return Ok(match (op, st) {
            (OP_LOCK, NFS4ERR_DENIED) => {
                lock_denied(i).map(|(i, d)| (i, R::Lock(LockRes::Denied(d))))?
            }
            (OP_LOCKT, NFS4ERR_DENIED) => lock_denied(i).map(|(i, d)| (i, R::LocktDenied(d)))?,
            (OP_SETCLIENTID, NFS4ERR_CLID_INUSE) => netaddr(i).map(|(i, client_using)| {
                (
                    i,
                    R::Setclientid(SetclientidRes::ClidInuse { client_using }),
                )
            })?,
            (OP_GETDEVICEINFO, NFS4ERR_TOOSMALL) => u32(i).map(|(i, mincount)| {
                (i, R::Getdeviceinfo(GetdeviceinfoRes::TooSmall { mincount }))
            })?,
            (OP_LAYOUTGET, NFS4ERR_LAYOUTTRYLATER) => xbool(i).map(|(i, w)| {
                (
                    i,
                    R::Layoutget(LayoutgetRes::TryLater {
                        will_signal_layout_avail: w,
                    }),
                )
            })?,
            (OP_COPY, NFS4ERR_OFFLOAD_NO_REQS) => copy_requirements(i)
                .map(|(i, requirements)| (i, R::Copy(CopyRes::NoReqs { requirements })))?,
            _ => (i, R::Status { op, status }),
        });
    }
    Ok(match op {
        OP_ACCESS => {
            let (i, supported) = u32(i)?;
            let (i, access) = u32(i)?;
            (i, R::Access(AccessRes { supported, access }))
        }
        OP_CLOSE => stateid_res(i).map(|(i, r)| (i, R::Close(r)))?,
        OP_COMMIT => verifier(i).map(|(i, writeverf)| (i, R::Commit(VerfRes { writeverf })))?,
        OP_CREATE => {
            let (i, cinfo) = change_info(i)?;
            let (i, attrset) = bitmap(i)?;
            (i, R::Create(CreateRes { cinfo, attrset }))
        }
        OP_GETATTR => {
            fattr4(i).map(|(i, obj_attributes)| (i, R::Getattr(AttrsRes { obj_attributes })))?
        }
        OP_GETFH => fh(i).map(|(i, fh)| (i, R::Getfh(FhRes { fh })))?,
        OP_LINK => cinfo_res(i).map(|(i, r)| (i, R::Link(r)))?,
        OP_LOCK => stateid(i)
            .map(|(i, lock_stateid)| (i, R::Lock(LockRes::Ok(LockOk { lock_stateid }))))?,
        OP_LOCKU => stateid_res(i).map(|(i, r)| (i, R::Locku(r)))?,
        OP_OPEN => open_res(i).map(|(i, r)| (i, R::Open(Box::new(r))))?,
        OP_OPEN_CONFIRM => stateid_res(i).map(|(i, r)| (i, R::OpenConfirm(r)))?,
        OP_OPEN_DOWNGRADE => stateid_res(i).map(|(i, r)| (i, R::OpenDowngrade(r)))?,
        OP_READ => {
            let (i, eof) = xbool(i)?;
            let (i, data) = opaque(i)?;
            (
                i,
                R::Read(ReadRes {
                    eof,
                    data: Payload(data),
                }),
            )
        }
        OP_READDIR => readdir_res(i).map(|(i, r)| (i, R::Readdir(r)))?,
        OP_READLINK => string(i).map(|(i, link)| (i, R::Readlink(ReadlinkRes { link })))?,
        OP_REMOVE => cinfo_res(i).map(|(i, r)| (i, R::Remove(r)))?,
        OP_RENAME => {
            let (i, source_cinfo) = change_info(i)?;
            let (i, target_cinfo) = change_info(i)?;
            (
                i,
                R::Rename(RenameRes {
                    source_cinfo,
                    target_cinfo,
                }),
            )
        }
        OP_SECINFO => secinfo_res(i).map(|(i, r)| (i, R::Secinfo(r)))?,
        OP_SETCLIENTID => {
            let (i, clientid) = u64(i)?;
            let (i, setclientid_confirm) = verifier(i)?;
            (
                i,
                R::Setclientid(SetclientidRes::Ok {
                    clientid,
                    setclientid_confirm,
                }),
            )
        }
        OP_WRITE => {
            let (i, count) = u32(i)?;
            let (i, committed) = u32(i)?;
            let (i, writeverf) = verifier(i)?;
            (
                i,
                R::Write(WriteRes {
                    count,
                    committed,
                    writeverf,
                }),
            )
        }
        OP_BIND_CONN_TO_SESSION => bind_conn(i).map(|(i, r)| (i, R::BindConnToSession(r)))?,
        OP_EXCHANGE_ID => exchange_id_res(i).map(|(i, r)| (i, R::ExchangeId(Box::new(r))))?,
        OP_CREATE_SESSION => create_session_res(i).map(|(i, r)| (i, R::CreateSession(Box::new(r))))?,
        OP_GET_DIR_DELEGATION => {
            let (i, nf) = u32(i)?;
            match nf {
                0 => {
                    let (i, cookieverf) = verifier(i)?;
                    let (i, stateid) = stateid(i)?;
                    let (i, notification) = bitmap(i)?;
                    let (i, child_attributes) = bitmap(i)?;
                    let (i, dir_attributes) = bitmap(i)?;
                    let g = GetDirDelegationRes::Ok {
                        cookieverf,
                        stateid,
                        notification,
                        child_attributes,
                        dir_attributes,
                    };
                    (i, R::GetDirDelegation(Box::new(g)))
                }
                1 => xbool(i).map(|(i, w)| {
                    (
                        i,
                        R::GetDirDelegation(Box::new(GetDirDelegationRes::Unavail {
                            will_signal_deleg_avail: w,
                        })),
                    )
                })?,
                _ => return Err(bad("gddrnf4_status", nf)),
            }
        }
        OP_GETDEVICEINFO => {
            let (i, device_addr) = layout_body(i)?;
            let (i, notification) = bitmap(i)?;
            (
                i,
                R::Getdeviceinfo(GetdeviceinfoRes::Ok {
                    device_addr,
                    notification,
                }),
            )
        }
        OP_GETDEVICELIST => {
            let (i, cookie) = u64(i)?;
            let (i, cookieverf) = verifier(i)?;
            let (i, deviceids) = list(super::types::deviceid)(i)?;
            let (i, eof) = xbool(i)?;
            (
                i,
                R::Getdevicelist(GetdevicelistRes {
                    cookie,
                    cookieverf,
                    deviceids,
                    eof,
                }),
            )
        }
        OP_LAYOUTCOMMIT => crate::xdr::optional(u64)(i)
            .map(|(i, new_size)| (i, R::Layoutcommit(LayoutcommitRes { new_size })))?,
        OP_LAYOUTGET => {
            let (i, return_on_close) = xbool(i)?;
            let (i, stateid) = stateid(i)?;
            let (i, layouts) = list(layout)(i)?;
            (
                i,
                R::Layoutget(LayoutgetRes::Ok {
                    return_on_close,
                    stateid,
                    layouts,
                }),
            )
        }
        OP_LAYOUTRETURN => crate::xdr::optional(stateid)(i)
            .map(|(i, stateid)| (i, R::Layoutreturn(LayoutreturnRes { stateid })))?,
        OP_SECINFO_NO_NAME => secinfo_res(i).map(|(i, r)| (i, R::SecinfoNoName(r)))?,
        OP_SEQUENCE => sequence_res(i).map(|(i, r)| (i, R::Sequence(r)))?,
        OP_SET_SSV => xopaque(i).map(|(i, digest)| (i, R::SetSsv(SetSsvRes { digest })))?,
        OP_TEST_STATEID => list(u32)(i).map(|(i, v)| {
            (
                i,
                R::TestStateid(TestStateidRes {
                    status_codes: v.into_iter().map(Nfsstat4).collect(),
                }),
            )
        })?,
        OP_WANT_DELEGATION => open_delegation(i)
            .map(|(i, delegation)| (i, R::WantDelegation(Box::new(DelegationRes { delegation }))))?,
        OP_COPY => {
            let (i, response) = write_response(i)?;
            let (i, requirements) = copy_requirements(i)?;
            (
                i,
                R::Copy(CopyRes::Ok {
                    response,
                    requirements,
                }),
            )
        }
        OP_COPY_NOTIFY => {
            let (i, lease_time) = nfstime(i)?;
            let (i, stateid) = stateid(i)?;
            let (i, source_servers) = list(netloc)(i)?;
            (
                i,
                R::CopyNotify(CopyNotifyRes {
                    lease_time,
                    stateid,
                    source_servers,
                }),
            )
        }
        OP_IO_ADVISE => bitmap(i).map(|(i, hints)| (i, R::IoAdvise(HintsRes { hints })))?,
        OP_OFFLOAD_STATUS => {
            let (i, count) = u64(i)?;
            let (i, complete) = at_most_one(u32)(i)?;
            (
                i,
                R::OffloadStatus(OffloadStatusRes {
                    count,
                    complete: complete.map(Nfsstat4),
                }),
            )
        }
        OP_READ_PLUS => {
            let (i, eof) = xbool(i)?;
            let (i, contents) = list(read_plus_content)(i)?;
            (i, R::ReadPlus(ReadPlusRes { eof, contents }))
        }
        OP_SEEK => {
            let (i, eof) = xbool(i)?;
            let (i, offset) = u64(i)?;
            (i, R::Seek(SeekRes { eof, offset }))
        }
        OP_WRITE_SAME => {
            write_response(i).map(|(i, response)| (i, R::WriteSame(WriteSameRes { response })))?
        }
        OP_GETXATTR => xopaque(i).map(|(i, value)| (i, R::Getxattr(XattrValueRes { value })))?,
        OP_SETXATTR => cinfo_res(i).map(|(i, r)| (i, R::Setxattr(r)))?,
        OP_LISTXATTRS => {
            let (i, cookie) = u64(i)?;
            let (i, names) = list(string)(i)?;
            let (i, eof) = xbool(i)?;
            (i, R::Listxattrs(ListxattrsRes { cookie, names, eof }))
        }
        OP_REMOVEXATTR => cinfo_res(i).map(|(i, r)| (i, R::Removexattr(r)))?,
        // Every other operation's success is a bare status.
        _ => (i, R::Status { op, status }),
    })
}
