//! Arguments of every NFSv4.0/4.1/4.2 operation (`nfs_argop4`); the NFSv4.0 decoding
//! arms are here, those of 4.1/4.2 in `args41`.

use super::args41::{AppDataBlock, DelegClaim, DeviceError, IoInfo, LayoutReturn};
use super::attrs::{fattr4, Fattr4};
use super::open::{
    lock_args, lockt_args, locku_args, open_args, LockArgs, LocktArgs, LockuArgs, OpenArgs,
};
use super::ops::*;
use super::session::{
    setclientid_args, BindConn, CbSecParms, CreateSessionArgs, ExchangeIdArgs, SequenceArgs,
    SetclientidArgs,
};
use super::types::{
    bitmap, fh, specdata, state_owner, stateid, verifier, Bitmap4, Fh, LayoutBody, Netloc, NfsTime,
    SpecData, StateOwner, Stateid4,
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
    Open(Box<OpenArgs<'a>>),
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
    ExchangeId(Box<ExchangeIdArgs<'a>>),
    CreateSession(Box<CreateSessionArgs<'a>>),
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
        OP_OPEN => open_args(i).map(|(i, o)| (i, A::Open(Box::new(o))))?,
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
        _ => return super::args41::args_body(op, i),
    })
}
