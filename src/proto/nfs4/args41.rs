//! Arguments of the NFSv4.1 and NFSv4.2 operations (40..=75): the decoding arms and
//! the structures only they use.

use super::args::OpArgs;
use super::ops::*;
use super::session::{
    bind_conn, cb_sec_parms, create_session_args, exchange_id_args, sequence_args,
};
use super::types::{
    bad, bitmap, deviceid, layout_body, list, netloc, nfstime, sessionid, stateid, verifier,
    xopaque, Stateid4,
};
use crate::xdr::{bool as xbool, string, u32, u64, Opaque, Res};
use serde::Serialize;

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

fn sid_off_len(i: &[u8]) -> Res<'_, (Stateid4<'_>, u64, u64)> {
    let (i, s) = stateid(i)?;
    let (i, off) = u64(i)?;
    let (i, len) = u64(i)?;
    Ok((i, (s, off, len)))
}

fn optional_u64(i: &[u8]) -> Res<'_, Option<u64>> {
    crate::xdr::optional(u64)(i)
}

/// Decode the arguments of a 4.1/4.2 operation (the caller has checked `op` is defined).
pub(super) fn args_body(op: u32, i: &[u8]) -> Res<'_, OpArgs<'_>> {
    use OpArgs as A;
    Ok(match op {
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
        OP_EXCHANGE_ID => exchange_id_args(i).map(|(i, x)| (i, A::ExchangeId(Box::new(x))))?,
        OP_CREATE_SESSION => create_session_args(i).map(|(i, c)| (i, A::CreateSession(Box::new(c))))?,
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
