//! Arguments of every NFSv4.0/4.1/4.2 operation (`nfs_argop4`).

use super::attrs::{fattr4, Fattr4};
use super::open::{
    lock_args, lockt_args, locku_args, open_args, LockArgs, LocktArgs, LockuArgs, OpenArgs,
};
use super::ops::*;
use super::session::{
    bind_conn, cb_sec_parms, create_session_args, exchange_id_args, sequence_args,
    setclientid_args, BindConn, CbSecParms, CreateSessionArgs, ExchangeIdArgs, SequenceArgs,
    SetclientidArgs,
};
use super::types::{
    bad, bitmap, deviceid, fh, layout_body, list, netloc, nfstime, sessionid, specdata,
    state_owner, stateid, verifier, xopaque, Bitmap4, Fh, LayoutBody, Netloc, NfsTime, SpecData,
    StateOwner, Stateid4,
};
use crate::xdr::{bool as xbool, opaque, string, u32, u64, Opaque, Res, XStr};
use serde::{Serialize, Serializer};

/// Bulk data (READ/WRITE payloads): kept as a slice of the record, never copied; the
/// JSON gives only its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Payload<'a>(pub &'a [u8]);

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0.len() as u64)
    }
}

/// `createtype4` (CREATE): the object type with its link text or device numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CreateType<'a> {
    #[serde(rename = "type")]
    pub objtype: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linkdata: Option<XStr<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devdata: Option<SpecData>,
}

fn createtype(i: &[u8]) -> Res<'_, CreateType<'_>> {
    let (i, objtype) = u32(i)?;
    let mut ct = CreateType {
        objtype,
        linkdata: None,
        devdata: None,
    };
    let i = match objtype {
        5 => string(i).map(|(i, l)| {
            ct.linkdata = Some(l);
            i
        })?,
        3 | 4 => specdata(i).map(|(i, d)| {
            ct.devdata = Some(d);
            i
        })?,
        _ => i,
    };
    Ok((i, ct))
}

/// `layoutreturn4`: FILE carries a range, a stateid and a type-specific body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayoutReturn<'a> {
    pub return_type: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<LayoutReturnFile<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayoutReturnFile<'a> {
    pub offset: u64,
    pub length: u64,
    pub stateid: Stateid4<'a>,
    pub body: Opaque<'a>,
}

fn layoutreturn(i: &[u8]) -> Res<'_, LayoutReturn<'_>> {
    let (i, return_type) = u32(i)?;
    if return_type != 1 {
        return Ok((
            i,
            LayoutReturn {
                return_type,
                file: None,
            },
        ));
    }
    let (i, offset) = u64(i)?;
    let (i, length) = u64(i)?;
    let (i, stateid) = stateid(i)?;
    let (i, body) = xopaque(i)?;
    Ok((
        i,
        LayoutReturn {
            return_type,
            file: Some(LayoutReturnFile {
                offset,
                length,
                stateid,
                body,
            }),
        },
    ))
}

/// `deleg_claim4` (WANT_DELEGATION).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DelegClaim {
    pub claim: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegate_type: Option<u32>,
}

fn deleg_claim(i: &[u8]) -> Res<'_, DelegClaim> {
    let (i, claim) = u32(i)?;
    match claim {
        4 | 6 => Ok((
            i,
            DelegClaim {
                claim,
                delegate_type: None,
            },
        )),
        1 => u32(i).map(|(i, t)| {
            (
                i,
                DelegClaim {
                    claim,
                    delegate_type: Some(t),
                },
            )
        }),
        _ => Err(bad("deleg_claim4", claim)),
    }
}

/// `device_error4` (LAYOUTERROR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceError<'a> {
    pub deviceid: Opaque<'a>,
    pub status: super::status::Nfsstat4,
    pub opnum: u32,
}

fn device_error(i: &[u8]) -> Res<'_, DeviceError<'_>> {
    let (i, deviceid) = deviceid(i)?;
    let (i, status) = u32(i)?;
    let (i, opnum) = u32(i)?;
    Ok((
        i,
        DeviceError {
            deviceid,
            status: super::status::Nfsstat4(status),
            opnum,
        },
    ))
}

/// `io_info4` (LAYOUTSTATS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IoInfo {
    pub count: u64,
    pub bytes: u64,
}

fn io_info(i: &[u8]) -> Res<'_, IoInfo> {
    let (i, count) = u64(i)?;
    let (i, bytes) = u64(i)?;
    Ok((i, IoInfo { count, bytes }))
}

/// `app_data_block4` (WRITE_SAME).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AppDataBlock<'a> {
    pub offset: u64,
    pub block_size: u64,
    pub block_count: u64,
    pub reloff_blocknum: u64,
    pub block_num: u32,
    pub reloff_pattern: u64,
    pub pattern: Opaque<'a>,
}

fn app_data_block(i: &[u8]) -> Res<'_, AppDataBlock<'_>> {
    let (i, offset) = u64(i)?;
    let (i, block_size) = u64(i)?;
    let (i, block_count) = u64(i)?;
    let (i, reloff_blocknum) = u64(i)?;
    let (i, block_num) = u32(i)?;
    let (i, reloff_pattern) = u64(i)?;
    let (i, pattern) = xopaque(i)?;
    Ok((
        i,
        AppDataBlock {
            offset,
            block_size,
            block_count,
            reloff_blocknum,
            block_num,
            reloff_pattern,
            pattern,
        },
    ))
}

/// The arguments of one operation. Serialised without a tag: the fields are merged
/// into the operation's JSON object next to `op` and `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OpArgs<'a> {
    /// GETFH, LOOKUPP, PUTPUBFH, PUTROOTFH, READLINK, RESTOREFH, SAVEFH, ILLEGAL.
    Void,
    Access {
        access: u32,
    },
    Close {
        seqid: u32,
        open_stateid: Stateid4<'a>,
    },
    Commit {
        offset: u64,
        count: u32,
    },
    Create {
        objtype: CreateType<'a>,
        objname: XStr<'a>,
        createattrs: Fattr4<'a>,
    },
    Delegpurge {
        clientid: u64,
    },
    Delegreturn {
        stateid: Stateid4<'a>,
    },
    Getattr {
        attr_request: Bitmap4,
    },
    Link {
        newname: XStr<'a>,
    },
    Lock(LockArgs<'a>),
    Lockt(LocktArgs<'a>),
    Locku(LockuArgs<'a>),
    Lookup {
        objname: XStr<'a>,
    },
    Nverify {
        obj_attributes: Fattr4<'a>,
    },
    Open(OpenArgs<'a>),
    Openattr {
        createdir: bool,
    },
    OpenConfirm {
        open_stateid: Stateid4<'a>,
        seqid: u32,
    },
    OpenDowngrade {
        open_stateid: Stateid4<'a>,
        seqid: u32,
        share_access: u32,
        share_deny: u32,
    },
    Putfh {
        fh: Fh<'a>,
    },
    Read {
        stateid: Stateid4<'a>,
        offset: u64,
        count: u32,
    },
    Readdir {
        cookie: u64,
        cookieverf: Opaque<'a>,
        dircount: u32,
        maxcount: u32,
        attr_request: Bitmap4,
    },
    Remove {
        target: XStr<'a>,
    },
    Rename {
        oldname: XStr<'a>,
        newname: XStr<'a>,
    },
    Renew {
        clientid: u64,
    },
    Secinfo {
        name: XStr<'a>,
    },
    Setattr {
        stateid: Stateid4<'a>,
        obj_attributes: Fattr4<'a>,
    },
    Setclientid(SetclientidArgs<'a>),
    SetclientidConfirm {
        clientid: u64,
        setclientid_confirm: Opaque<'a>,
    },
    Verify {
        obj_attributes: Fattr4<'a>,
    },
    Write {
        stateid: Stateid4<'a>,
        offset: u64,
        stable: u32,
        data: Payload<'a>,
    },
    ReleaseLockowner {
        lock_owner: StateOwner<'a>,
    },
    BackchannelCtl {
        cb_program: u32,
        sec_parms: Vec<CbSecParms<'a>>,
    },
    BindConnToSession(BindConn<'a>),
    ExchangeId(ExchangeIdArgs<'a>),
    CreateSession(CreateSessionArgs<'a>),
    DestroySession {
        sessionid: Opaque<'a>,
    },
    FreeStateid {
        stateid: Stateid4<'a>,
    },
    GetDirDelegation {
        signal_deleg_avail: bool,
        notification_types: Bitmap4,
        child_attr_delay: NfsTime,
        dir_attr_delay: NfsTime,
        child_attributes: Bitmap4,
        dir_attributes: Bitmap4,
    },
    Getdeviceinfo {
        deviceid: Opaque<'a>,
        layout_type: u32,
        maxcount: u32,
        notify_types: Bitmap4,
    },
    Getdevicelist {
        layout_type: u32,
        maxdevices: u32,
        cookie: u64,
        cookieverf: Opaque<'a>,
    },
    Layoutcommit {
        offset: u64,
        length: u64,
        reclaim: bool,
        stateid: Stateid4<'a>,
        last_write_offset: Option<u64>,
        time_modify: Option<NfsTime>,
        layoutupdate: LayoutBody<'a>,
    },
    Layoutget {
        signal_layout_avail: bool,
        layout_type: u32,
        iomode: u32,
        offset: u64,
        length: u64,
        minlength: u64,
        stateid: Stateid4<'a>,
        maxcount: u32,
    },
    Layoutreturn {
        reclaim: bool,
        layout_type: u32,
        iomode: u32,
        layoutreturn: LayoutReturn<'a>,
    },
    SecinfoNoName {
        style: u32,
    },
    Sequence(SequenceArgs<'a>),
    SetSsv {
        ssv: Opaque<'a>,
        digest: Opaque<'a>,
    },
    TestStateid {
        stateids: Vec<Stateid4<'a>>,
    },
    WantDelegation {
        want: u32,
        claim: DelegClaim,
    },
    DestroyClientid {
        clientid: u64,
    },
    ReclaimComplete {
        one_fs: bool,
    },
    Allocate {
        stateid: Stateid4<'a>,
        offset: u64,
        length: u64,
    },
    Copy {
        src_stateid: Stateid4<'a>,
        dst_stateid: Stateid4<'a>,
        src_offset: u64,
        dst_offset: u64,
        count: u64,
        consecutive: bool,
        synchronous: bool,
        source_servers: Vec<Netloc<'a>>,
    },
    CopyNotify {
        src_stateid: Stateid4<'a>,
        destination_server: Netloc<'a>,
    },
    Deallocate {
        stateid: Stateid4<'a>,
        offset: u64,
        length: u64,
    },
    IoAdvise {
        stateid: Stateid4<'a>,
        offset: u64,
        count: u64,
        hints: Bitmap4,
    },
    Layouterror {
        offset: u64,
        length: u64,
        stateid: Stateid4<'a>,
        errors: Vec<DeviceError<'a>>,
    },
    Layoutstats {
        offset: u64,
        length: u64,
        stateid: Stateid4<'a>,
        read: IoInfo,
        write: IoInfo,
        deviceid: Opaque<'a>,
        layoutupdate: LayoutBody<'a>,
    },
    OffloadCancel {
        stateid: Stateid4<'a>,
    },
    OffloadStatus {
        stateid: Stateid4<'a>,
    },
    ReadPlus {
        stateid: Stateid4<'a>,
        offset: u64,
        count: u32,
    },
    Seek {
        stateid: Stateid4<'a>,
        offset: u64,
        what: u32,
    },
    WriteSame {
        stateid: Stateid4<'a>,
        stable: u32,
        adb: AppDataBlock<'a>,
    },
    Clone {
        src_stateid: Stateid4<'a>,
        dst_stateid: Stateid4<'a>,
        src_offset: u64,
        dst_offset: u64,
        count: u64,
    },
    Getxattr {
        name: XStr<'a>,
    },
    Setxattr {
        option: u32,
        key: XStr<'a>,
        value: Opaque<'a>,
    },
    Listxattrs {
        cookie: u64,
        maxcount: u32,
    },
    Removexattr {
        name: XStr<'a>,
    },
}

fn sid_off_len(i: &[u8]) -> Res<'_, (Stateid4<'_>, u64, u64)> {
    let (i, s) = stateid(i)?;
    let (i, off) = u64(i)?;
    let (i, len) = u64(i)?;
    Ok((i, (s, off, len)))
}

fn optional_u64(i: &[u8]) -> Res<'_, Option<u64>> {
    crate::xdr::optional(u64)(i)
}

/// Decode the arguments of operation `op`; `None` if `op` is not a defined operation.
pub fn decode_args(op: u32, i: &[u8]) -> Option<Res<'_, OpArgs<'_>>> {
    op_name(op)?;
    Some(args_body(op, i))
}

fn args_body(op: u32, i: &[u8]) -> Res<'_, OpArgs<'_>> {
    use OpArgs as A;
    Ok(match op {
        OP_GETFH | OP_LOOKUPP | OP_PUTPUBFH | OP_PUTROOTFH | OP_READLINK | OP_RESTOREFH
        | OP_SAVEFH | OP_ILLEGAL => (i, A::Void),
        OP_ACCESS => u32(i).map(|(i, access)| (i, A::Access { access }))?,
        OP_CLOSE => {
            let (i, seqid) = u32(i)?;
            let (i, open_stateid) = stateid(i)?;
            (
                i,
                A::Close {
                    seqid,
                    open_stateid,
                },
            )
        }
        OP_COMMIT => {
            let (i, offset) = u64(i)?;
            let (i, count) = u32(i)?;
            (i, A::Commit { offset, count })
        }
        OP_CREATE => {
            let (i, objtype) = createtype(i)?;
            let (i, objname) = string(i)?;
            let (i, createattrs) = fattr4(i)?;
            (
                i,
                A::Create {
                    objtype,
                    objname,
                    createattrs,
                },
            )
        }
        OP_DELEGPURGE => u64(i).map(|(i, clientid)| (i, A::Delegpurge { clientid }))?,
        OP_DELEGRETURN => stateid(i).map(|(i, stateid)| (i, A::Delegreturn { stateid }))?,
        OP_GETATTR => bitmap(i).map(|(i, attr_request)| (i, A::Getattr { attr_request }))?,
        OP_LINK => string(i).map(|(i, newname)| (i, A::Link { newname }))?,
        OP_LOCK => lock_args(i).map(|(i, l)| (i, A::Lock(l)))?,
        OP_LOCKT => lockt_args(i).map(|(i, l)| (i, A::Lockt(l)))?,
        OP_LOCKU => locku_args(i).map(|(i, l)| (i, A::Locku(l)))?,
        OP_LOOKUP => string(i).map(|(i, objname)| (i, A::Lookup { objname }))?,
        OP_NVERIFY => fattr4(i).map(|(i, obj_attributes)| (i, A::Nverify { obj_attributes }))?,
        OP_OPEN => open_args(i).map(|(i, o)| (i, A::Open(o)))?,
        OP_OPENATTR => xbool(i).map(|(i, createdir)| (i, A::Openattr { createdir }))?,
        OP_OPEN_CONFIRM => {
            let (i, open_stateid) = stateid(i)?;
            let (i, seqid) = u32(i)?;
            (
                i,
                A::OpenConfirm {
                    open_stateid,
                    seqid,
                },
            )
        }
        OP_OPEN_DOWNGRADE => {
            let (i, open_stateid) = stateid(i)?;
            let (i, seqid) = u32(i)?;
            let (i, share_access) = u32(i)?;
            let (i, share_deny) = u32(i)?;
            (
                i,
                A::OpenDowngrade {
                    open_stateid,
                    seqid,
                    share_access,
                    share_deny,
                },
            )
        }
        OP_PUTFH => fh(i).map(|(i, fh)| (i, A::Putfh { fh }))?,
        OP_READ => {
            let (i, stateid) = stateid(i)?;
            let (i, offset) = u64(i)?;
            let (i, count) = u32(i)?;
            (
                i,
                A::Read {
                    stateid,
                    offset,
                    count,
                },
            )
        }
        OP_READDIR => {
            let (i, cookie) = u64(i)?;
            let (i, cookieverf) = verifier(i)?;
            let (i, dircount) = u32(i)?;
            let (i, maxcount) = u32(i)?;
            let (i, attr_request) = bitmap(i)?;
            (
                i,
                A::Readdir {
                    cookie,
                    cookieverf,
                    dircount,
                    maxcount,
                    attr_request,
                },
            )
        }
        OP_REMOVE => string(i).map(|(i, target)| (i, A::Remove { target }))?,
        OP_RENAME => {
            let (i, oldname) = string(i)?;
            let (i, newname) = string(i)?;
            (i, A::Rename { oldname, newname })
        }
        OP_RENEW => u64(i).map(|(i, clientid)| (i, A::Renew { clientid }))?,
        OP_SECINFO => string(i).map(|(i, name)| (i, A::Secinfo { name }))?,
        OP_SETATTR => {
            let (i, stateid) = stateid(i)?;
            let (i, obj_attributes) = fattr4(i)?;
            (
                i,
                A::Setattr {
                    stateid,
                    obj_attributes,
                },
            )
        }
        OP_SETCLIENTID => setclientid_args(i).map(|(i, s)| (i, A::Setclientid(s)))?,
        OP_SETCLIENTID_CONFIRM => {
            let (i, clientid) = u64(i)?;
            let (i, setclientid_confirm) = verifier(i)?;
            (
                i,
                A::SetclientidConfirm {
                    clientid,
                    setclientid_confirm,
                },
            )
        }
        OP_VERIFY => fattr4(i).map(|(i, obj_attributes)| (i, A::Verify { obj_attributes }))?,
        OP_WRITE => {
            let (i, stateid) = stateid(i)?;
            let (i, offset) = u64(i)?;
            let (i, stable) = u32(i)?;
            let (i, data) = opaque(i)?;
            (
                i,
                A::Write {
                    stateid,
                    offset,
                    stable,
                    data: Payload(data),
                },
            )
        }
        OP_RELEASE_LOCKOWNER => {
            state_owner(i).map(|(i, lock_owner)| (i, A::ReleaseLockowner { lock_owner }))?
        }
        OP_BACKCHANNEL_CTL => {
            let (i, cb_program) = u32(i)?;
            let (i, sec_parms) = list(cb_sec_parms)(i)?;
            (
                i,
                A::BackchannelCtl {
                    cb_program,
                    sec_parms,
                },
            )
        }
        OP_BIND_CONN_TO_SESSION => bind_conn(i).map(|(i, b)| (i, A::BindConnToSession(b)))?,
        OP_EXCHANGE_ID => exchange_id_args(i).map(|(i, x)| (i, A::ExchangeId(x)))?,
        OP_CREATE_SESSION => create_session_args(i).map(|(i, c)| (i, A::CreateSession(c)))?,
        OP_DESTROY_SESSION => {
            sessionid(i).map(|(i, sessionid)| (i, A::DestroySession { sessionid }))?
        }
        OP_FREE_STATEID => stateid(i).map(|(i, stateid)| (i, A::FreeStateid { stateid }))?,
        OP_GET_DIR_DELEGATION => {
            let (i, signal_deleg_avail) = xbool(i)?;
            let (i, notification_types) = bitmap(i)?;
            let (i, child_attr_delay) = nfstime(i)?;
            let (i, dir_attr_delay) = nfstime(i)?;
            let (i, child_attributes) = bitmap(i)?;
            let (i, dir_attributes) = bitmap(i)?;
            let g = A::GetDirDelegation {
                signal_deleg_avail,
                notification_types,
                child_attr_delay,
                dir_attr_delay,
                child_attributes,
                dir_attributes,
            };
            (i, g)
        }
        OP_GETDEVICEINFO => {
            let (i, deviceid) = deviceid(i)?;
            let (i, layout_type) = u32(i)?;
            let (i, maxcount) = u32(i)?;
            let (i, notify_types) = bitmap(i)?;
            (
                i,
                A::Getdeviceinfo {
                    deviceid,
                    layout_type,
                    maxcount,
                    notify_types,
                },
            )
        }
        OP_GETDEVICELIST => {
            let (i, layout_type) = u32(i)?;
            let (i, maxdevices) = u32(i)?;
            let (i, cookie) = u64(i)?;
            let (i, cookieverf) = verifier(i)?;
            (
                i,
                A::Getdevicelist {
                    layout_type,
                    maxdevices,
                    cookie,
                    cookieverf,
                },
            )
        }
        OP_LAYOUTCOMMIT => {
            let (i, offset) = u64(i)?;
            let (i, length) = u64(i)?;
            let (i, reclaim) = xbool(i)?;
            let (i, stateid) = stateid(i)?;
            let (i, last_write_offset) = optional_u64(i)?;
            let (i, time_modify) = crate::xdr::optional(nfstime)(i)?;
            let (i, layoutupdate) = layout_body(i)?;
            let l = A::Layoutcommit {
                offset,
                length,
                reclaim,
                stateid,
                last_write_offset,
                time_modify,
                layoutupdate,
            };
            (i, l)
        }
        OP_LAYOUTGET => {
            let (i, signal_layout_avail) = xbool(i)?;
            let (i, layout_type) = u32(i)?;
            let (i, iomode) = u32(i)?;
            let (i, offset) = u64(i)?;
            let (i, length) = u64(i)?;
            let (i, minlength) = u64(i)?;
            let (i, stateid) = stateid(i)?;
            let (i, maxcount) = u32(i)?;
            let l = A::Layoutget {
                signal_layout_avail,
                layout_type,
                iomode,
                offset,
                length,
                minlength,
                stateid,
                maxcount,
            };
            (i, l)
        }
        OP_LAYOUTRETURN => {
            let (i, reclaim) = xbool(i)?;
            let (i, layout_type) = u32(i)?;
            let (i, iomode) = u32(i)?;
            let (i, layoutreturn) = layoutreturn(i)?;
            (
                i,
                A::Layoutreturn {
                    reclaim,
                    layout_type,
                    iomode,
                    layoutreturn,
                },
            )
        }
        OP_SECINFO_NO_NAME => u32(i).map(|(i, style)| (i, A::SecinfoNoName { style }))?,
        OP_SEQUENCE => sequence_args(i).map(|(i, s)| (i, A::Sequence(s)))?,
        OP_SET_SSV => {
            let (i, ssv) = xopaque(i)?;
            let (i, digest) = xopaque(i)?;
            (i, A::SetSsv { ssv, digest })
        }
        OP_TEST_STATEID => {
            list(stateid)(i).map(|(i, stateids)| (i, A::TestStateid { stateids }))?
        }
        OP_WANT_DELEGATION => {
            let (i, want) = u32(i)?;
            let (i, claim) = deleg_claim(i)?;
            (i, A::WantDelegation { want, claim })
        }
        OP_DESTROY_CLIENTID => u64(i).map(|(i, clientid)| (i, A::DestroyClientid { clientid }))?,
        OP_RECLAIM_COMPLETE => xbool(i).map(|(i, one_fs)| (i, A::ReclaimComplete { one_fs }))?,
        OP_ALLOCATE => sid_off_len(i).map(|(i, (stateid, offset, length))| {
            (
                i,
                A::Allocate {
                    stateid,
                    offset,
                    length,
                },
            )
        })?,
        OP_COPY => {
            let (i, src_stateid) = stateid(i)?;
            let (i, dst_stateid) = stateid(i)?;
            let (i, src_offset) = u64(i)?;
            let (i, dst_offset) = u64(i)?;
            let (i, count) = u64(i)?;
            let (i, consecutive) = xbool(i)?;
            let (i, synchronous) = xbool(i)?;
            let (i, source_servers) = list(netloc)(i)?;
            let c = A::Copy {
                src_stateid,
                dst_stateid,
                src_offset,
                dst_offset,
                count,
                consecutive,
                synchronous,
                source_servers,
            };
            (i, c)
        }
        OP_COPY_NOTIFY => {
            let (i, src_stateid) = stateid(i)?;
            let (i, destination_server) = netloc(i)?;
            (
                i,
                A::CopyNotify {
                    src_stateid,
                    destination_server,
                },
            )
        }
        OP_DEALLOCATE => sid_off_len(i).map(|(i, (stateid, offset, length))| {
            (
                i,
                A::Deallocate {
                    stateid,
                    offset,
                    length,
                },
            )
        })?,
        OP_IO_ADVISE => {
            let (i, (stateid, offset, count)) = sid_off_len(i)?;
            let (i, hints) = bitmap(i)?;
            (
                i,
                A::IoAdvise {
                    stateid,
                    offset,
                    count,
                    hints,
                },
            )
        }
        OP_LAYOUTERROR => {
            let (i, offset) = u64(i)?;
            let (i, length) = u64(i)?;
            let (i, stateid) = stateid(i)?;
            let (i, errors) = list(device_error)(i)?;
            (
                i,
                A::Layouterror {
                    offset,
                    length,
                    stateid,
                    errors,
                },
            )
        }
        OP_LAYOUTSTATS => {
            let (i, offset) = u64(i)?;
            let (i, length) = u64(i)?;
            let (i, stateid) = stateid(i)?;
            let (i, read) = io_info(i)?;
            let (i, write) = io_info(i)?;
            let (i, deviceid) = deviceid(i)?;
            let (i, layoutupdate) = layout_body(i)?;
            (
                i,
                A::Layoutstats {
                    offset,
                    length,
                    stateid,
                    read,
                    write,
                    deviceid,
                    layoutupdate,
                },
            )
        }
        OP_OFFLOAD_CANCEL => stateid(i).map(|(i, stateid)| (i, A::OffloadCancel { stateid }))?,
        OP_OFFLOAD_STATUS => stateid(i).map(|(i, stateid)| (i, A::OffloadStatus { stateid }))?,
        OP_READ_PLUS => {
            let (i, stateid) = stateid(i)?;
            let (i, offset) = u64(i)?;
            let (i, count) = u32(i)?;
            (
                i,
                A::ReadPlus {
                    stateid,
                    offset,
                    count,
                },
            )
        }
        OP_SEEK => {
            let (i, stateid) = stateid(i)?;
            let (i, offset) = u64(i)?;
            let (i, what) = u32(i)?;
            (
                i,
                A::Seek {
                    stateid,
                    offset,
                    what,
                },
            )
        }
        OP_WRITE_SAME => {
            let (i, stateid) = stateid(i)?;
            let (i, stable) = u32(i)?;
            let (i, adb) = app_data_block(i)?;
            (
                i,
                A::WriteSame {
                    stateid,
                    stable,
                    adb,
                },
            )
        }
        OP_CLONE => {
            let (i, src_stateid) = stateid(i)?;
            let (i, dst_stateid) = stateid(i)?;
            let (i, src_offset) = u64(i)?;
            let (i, dst_offset) = u64(i)?;
            let (i, count) = u64(i)?;
            (
                i,
                A::Clone {
                    src_stateid,
                    dst_stateid,
                    src_offset,
                    dst_offset,
                    count,
                },
            )
        }
        OP_GETXATTR => string(i).map(|(i, name)| (i, A::Getxattr { name }))?,
        OP_SETXATTR => {
            let (i, option) = u32(i)?;
            let (i, key) = string(i)?;
            let (i, value) = xopaque(i)?;
            (i, A::Setxattr { option, key, value })
        }
        OP_LISTXATTRS => {
            let (i, cookie) = u64(i)?;
            let (i, maxcount) = u32(i)?;
            (i, A::Listxattrs { cookie, maxcount })
        }
        OP_REMOVEXATTR => string(i).map(|(i, name)| (i, A::Removexattr { name }))?,
        _ => return Err(bad("nfs_opnum4", op)),
    })
}
