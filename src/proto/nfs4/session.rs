//! Client ids and sessions: SETCLIENTID (4.0), EXCHANGE_ID, CREATE_SESSION, SEQUENCE,
//! BIND_CONN_TO_SESSION and BACKCHANNEL_CTL (RFC 7530 §16.33, RFC 8881 §18.33-18.46).

use super::types::{
    at_most_one, bad, bitmap, list, netaddr, nfstime, sessionid, verifier, xopaque, Bitmap4,
    NetAddr, NfsTime, NFS4_OPAQUE_LIMIT,
};
use crate::xdr::{self, bool as xbool, opaque_max, string, u32, u64, Opaque, Res, XStr};
use serde::Serialize;

pub const SEQ4_STATUS_FLAGS: [(u32, &str); 13] = [
    (0x1, "CB_PATH_DOWN"),
    (0x2, "CB_GSS_CONTEXTS_EXPIRING"),
    (0x4, "CB_GSS_CONTEXTS_EXPIRED"),
    (0x8, "EXPIRED_ALL_STATE_REVOKED"),
    (0x10, "EXPIRED_SOME_STATE_REVOKED"),
    (0x20, "ADMIN_STATE_REVOKED"),
    (0x40, "RECALLABLE_STATE_REVOKED"),
    (0x80, "LEASE_MOVED"),
    (0x100, "RESTART_RECLAIM_NEEDED"),
    (0x200, "CB_PATH_DOWN_SESSION"),
    (0x400, "BACKCHANNEL_FAULT"),
    (0x800, "DEVID_CHANGED"),
    (0x1000, "DEVID_DELETED"),
];

pub const SEQ4_STATUS_RESTART_RECLAIM_NEEDED: u32 = 0x100;

pub const EXCHGID4_FLAGS: [(u32, &str); 9] = [
    (0x1, "SUPP_MOVED_REFER"),
    (0x2, "SUPP_MOVED_MIGR"),
    (0x4, "SUPP_FENCE_OPS"),
    (0x100, "BIND_PRINC_STATEID"),
    (0x1_0000, "USE_NON_PNFS"),
    (0x2_0000, "USE_PNFS_MDS"),
    (0x4_0000, "USE_PNFS_DS"),
    (0x4000_0000, "UPD_CONFIRMED_REC_A"),
    (0x8000_0000, "CONFIRMED_R"),
];

pub const CREATE_SESSION4_FLAGS: [(u32, &str); 3] = [
    (0x1, "PERSIST"),
    (0x2, "CONN_BACK_CHAN"),
    (0x4, "CONN_RDMA"),
];

/// `SETCLIENTID4args`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SetclientidArgs<'a> {
    pub verifier: Opaque<'a>,
    pub id: Opaque<'a>,
    pub cb_program: u32,
    pub cb_location: NetAddr<'a>,
    pub callback_ident: u32,
}

pub fn setclientid_args(i: &[u8]) -> Res<'_, SetclientidArgs<'_>> {
    let (i, verifier) = verifier(i)?;
    let (i, id) = opaque_max(NFS4_OPAQUE_LIMIT)(i)?;
    let (i, cb_program) = u32(i)?;
    let (i, cb_location) = netaddr(i)?;
    let (i, callback_ident) = u32(i)?;
    Ok((
        i,
        SetclientidArgs {
            verifier,
            id: Opaque(id),
            cb_program,
            cb_location,
            callback_ident,
        },
    ))
}

/// `SETCLIENTID4res` beyond a bare status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SetclientidRes<'a> {
    Ok {
        clientid: u64,
        setclientid_confirm: Opaque<'a>,
    },
    /// NFS4ERR_CLID_INUSE: the address of the client that holds the id.
    ClidInuse { client_using: NetAddr<'a> },
}

/// `client_owner4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClientOwner<'a> {
    pub verifier: Opaque<'a>,
    pub ownerid: Opaque<'a>,
}

/// `nfs_impl_id4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImplId<'a> {
    pub domain: XStr<'a>,
    pub name: XStr<'a>,
    pub date: NfsTime,
}

fn impl_id(i: &[u8]) -> Res<'_, ImplId<'_>> {
    let (i, domain) = string(i)?;
    let (i, name) = string(i)?;
    let (i, date) = nfstime(i)?;
    Ok((i, ImplId { domain, name, date }))
}

/// `state_protect_ops4`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateProtectOps {
    pub must_enforce: Bitmap4,
    pub must_allow: Bitmap4,
}

fn sp_ops(i: &[u8]) -> Res<'_, StateProtectOps> {
    let (i, must_enforce) = bitmap(i)?;
    let (i, must_allow) = bitmap(i)?;
    Ok((
        i,
        StateProtectOps {
            must_enforce,
            must_allow,
        },
    ))
}

/// `state_protect4_a`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "how")]
pub enum StateProtectA<'a> {
    #[serde(rename = "SP4_NONE")]
    None,
    #[serde(rename = "SP4_MACH_CRED")]
    MachCred { ops: StateProtectOps },
    #[serde(rename = "SP4_SSV")]
    Ssv {
        ops: StateProtectOps,
        hash_algs: Vec<Opaque<'a>>,
        encr_algs: Vec<Opaque<'a>>,
        window: u32,
        num_gss_handles: u32,
    },
}

fn state_protect_a(i: &[u8]) -> Res<'_, StateProtectA<'_>> {
    let (i, how) = u32(i)?;
    match how {
        0 => Ok((i, StateProtectA::None)),
        1 => sp_ops(i).map(|(i, ops)| (i, StateProtectA::MachCred { ops })),
        2 => {
            let (i, ops) = sp_ops(i)?;
            let (i, hash_algs) = list(xopaque)(i)?;
            let (i, encr_algs) = list(xopaque)(i)?;
            let (i, window) = u32(i)?;
            let (i, num_gss_handles) = u32(i)?;
            Ok((
                i,
                StateProtectA::Ssv {
                    ops,
                    hash_algs,
                    encr_algs,
                    window,
                    num_gss_handles,
                },
            ))
        }
        _ => Err(bad("state_protect_how4", how)),
    }
}

/// `state_protect4_r`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "how")]
pub enum StateProtectR<'a> {
    #[serde(rename = "SP4_NONE")]
    None,
    #[serde(rename = "SP4_MACH_CRED")]
    MachCred { ops: StateProtectOps },
    #[serde(rename = "SP4_SSV")]
    Ssv {
        ops: StateProtectOps,
        hash_alg: u32,
        encr_alg: u32,
        ssv_len: u32,
        window: u32,
        handles: Vec<Opaque<'a>>,
    },
}

fn state_protect_r(i: &[u8]) -> Res<'_, StateProtectR<'_>> {
    let (i, how) = u32(i)?;
    match how {
        0 => Ok((i, StateProtectR::None)),
        1 => sp_ops(i).map(|(i, ops)| (i, StateProtectR::MachCred { ops })),
        2 => {
            let (i, ops) = sp_ops(i)?;
            let (i, hash_alg) = u32(i)?;
            let (i, encr_alg) = u32(i)?;
            let (i, ssv_len) = u32(i)?;
            let (i, window) = u32(i)?;
            let (i, handles) = list(xopaque)(i)?;
            Ok((
                i,
                StateProtectR::Ssv {
                    ops,
                    hash_alg,
                    encr_alg,
                    ssv_len,
                    window,
                    handles,
                },
            ))
        }
        _ => Err(bad("state_protect_how4", how)),
    }
}

/// `EXCHANGE_ID4args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeIdArgs<'a> {
    pub owner: ClientOwner<'a>,
    pub flags: u32,
    pub state_protect: StateProtectA<'a>,
    pub client_impl_id: Option<ImplId<'a>>,
}

pub fn exchange_id_args(i: &[u8]) -> Res<'_, ExchangeIdArgs<'_>> {
    let (i, v) = verifier(i)?;
    let (i, ownerid) = opaque_max(NFS4_OPAQUE_LIMIT)(i)?;
    let (i, flags) = u32(i)?;
    let (i, state_protect) = state_protect_a(i)?;
    let (i, client_impl_id) = at_most_one(impl_id)(i)?;
    let owner = ClientOwner {
        verifier: v,
        ownerid: Opaque(ownerid),
    };
    Ok((
        i,
        ExchangeIdArgs {
            owner,
            flags,
            state_protect,
            client_impl_id,
        },
    ))
}

/// `server_owner4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServerOwner<'a> {
    pub minor_id: u64,
    pub major_id: Opaque<'a>,
}

/// `EXCHANGE_ID4resok`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeIdRes<'a> {
    pub clientid: u64,
    pub sequenceid: u32,
    pub flags: u32,
    pub state_protect: StateProtectR<'a>,
    pub server_owner: ServerOwner<'a>,
    pub server_scope: Opaque<'a>,
    pub server_impl_id: Option<ImplId<'a>>,
}

pub fn exchange_id_res(i: &[u8]) -> Res<'_, ExchangeIdRes<'_>> {
    let (i, clientid) = u64(i)?;
    let (i, sequenceid) = u32(i)?;
    let (i, flags) = u32(i)?;
    let (i, state_protect) = state_protect_r(i)?;
    let (i, minor_id) = u64(i)?;
    let (i, major_id) = opaque_max(NFS4_OPAQUE_LIMIT)(i)?;
    let (i, server_scope) = opaque_max(NFS4_OPAQUE_LIMIT)(i)?;
    let (i, server_impl_id) = at_most_one(impl_id)(i)?;
    let server_owner = ServerOwner {
        minor_id,
        major_id: Opaque(major_id),
    };
    let server_scope = Opaque(server_scope);
    Ok((
        i,
        ExchangeIdRes {
            clientid,
            sequenceid,
            flags,
            state_protect,
            server_owner,
            server_scope,
            server_impl_id,
        },
    ))
}

/// `channel_attrs4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChannelAttrs {
    pub headerpadsize: u32,
    pub maxrequestsize: u32,
    pub maxresponsesize: u32,
    pub maxresponsesize_cached: u32,
    pub maxoperations: u32,
    pub maxrequests: u32,
    pub rdma_ird: Option<u32>,
}

fn channel_attrs(i: &[u8]) -> Res<'_, ChannelAttrs> {
    let (i, headerpadsize) = u32(i)?;
    let (i, maxrequestsize) = u32(i)?;
    let (i, maxresponsesize) = u32(i)?;
    let (i, maxresponsesize_cached) = u32(i)?;
    let (i, maxoperations) = u32(i)?;
    let (i, maxrequests) = u32(i)?;
    let (i, rdma_ird) = at_most_one(u32)(i)?;
    Ok((
        i,
        ChannelAttrs {
            headerpadsize,
            maxrequestsize,
            maxresponsesize,
            maxresponsesize_cached,
            maxoperations,
            maxrequests,
            rdma_ird,
        },
    ))
}

/// `callback_sec_parms4`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "flavor")]
pub enum CbSecParms<'a> {
    #[serde(rename = "AUTH_NONE")]
    AuthNone,
    #[serde(rename = "AUTH_SYS")]
    AuthSys {
        stamp: u32,
        machinename: XStr<'a>,
        uid: u32,
        gid: u32,
        gids: Vec<u32>,
    },
    #[serde(rename = "RPCSEC_GSS")]
    RpcsecGss {
        service: u32,
        handle_from_server: Opaque<'a>,
        handle_from_client: Opaque<'a>,
    },
}

pub fn cb_sec_parms(i: &[u8]) -> Res<'_, CbSecParms<'_>> {
    let (i, flavor) = u32(i)?;
    match flavor {
        0 => Ok((i, CbSecParms::AuthNone)),
        1 => {
            let (i, stamp) = u32(i)?;
            let (i, name) = opaque_max(255)(i)?;
            let (i, uid) = u32(i)?;
            let (i, gid) = u32(i)?;
            let (i, gids) = xdr::array(16, u32)(i)?;
            Ok((
                i,
                CbSecParms::AuthSys {
                    stamp,
                    machinename: XStr(name),
                    uid,
                    gid,
                    gids,
                },
            ))
        }
        6 => {
            let (i, service) = u32(i)?;
            let (i, handle_from_server) = xopaque(i)?;
            let (i, handle_from_client) = xopaque(i)?;
            Ok((
                i,
                CbSecParms::RpcsecGss {
                    service,
                    handle_from_server,
                    handle_from_client,
                },
            ))
        }
        _ => Err(bad("callback_sec_parms4 flavor", flavor)),
    }
}

/// `CREATE_SESSION4args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateSessionArgs<'a> {
    pub clientid: u64,
    pub sequence: u32,
    pub flags: u32,
    pub fore_chan_attrs: ChannelAttrs,
    pub back_chan_attrs: ChannelAttrs,
    pub cb_program: u32,
    pub sec_parms: Vec<CbSecParms<'a>>,
}

pub fn create_session_args(i: &[u8]) -> Res<'_, CreateSessionArgs<'_>> {
    let (i, clientid) = u64(i)?;
    let (i, sequence) = u32(i)?;
    let (i, flags) = u32(i)?;
    let (i, fore_chan_attrs) = channel_attrs(i)?;
    let (i, back_chan_attrs) = channel_attrs(i)?;
    let (i, cb_program) = u32(i)?;
    let (i, sec_parms) = list(cb_sec_parms)(i)?;
    Ok((
        i,
        CreateSessionArgs {
            clientid,
            sequence,
            flags,
            fore_chan_attrs,
            back_chan_attrs,
            cb_program,
            sec_parms,
        },
    ))
}

/// `CREATE_SESSION4resok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CreateSessionRes<'a> {
    pub sessionid: Opaque<'a>,
    pub sequence: u32,
    pub flags: u32,
    pub fore_chan_attrs: ChannelAttrs,
    pub back_chan_attrs: ChannelAttrs,
}

pub fn create_session_res(i: &[u8]) -> Res<'_, CreateSessionRes<'_>> {
    let (i, sessionid) = sessionid(i)?;
    let (i, sequence) = u32(i)?;
    let (i, flags) = u32(i)?;
    let (i, fore_chan_attrs) = channel_attrs(i)?;
    let (i, back_chan_attrs) = channel_attrs(i)?;
    Ok((
        i,
        CreateSessionRes {
            sessionid,
            sequence,
            flags,
            fore_chan_attrs,
            back_chan_attrs,
        },
    ))
}

/// `SEQUENCE4args`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SequenceArgs<'a> {
    pub sessionid: Opaque<'a>,
    pub sequenceid: u32,
    pub slotid: u32,
    pub highest_slotid: u32,
    pub cachethis: bool,
}

pub fn sequence_args(i: &[u8]) -> Res<'_, SequenceArgs<'_>> {
    let (i, sessionid) = sessionid(i)?;
    let (i, sequenceid) = u32(i)?;
    let (i, slotid) = u32(i)?;
    let (i, highest_slotid) = u32(i)?;
    let (i, cachethis) = xbool(i)?;
    Ok((
        i,
        SequenceArgs {
            sessionid,
            sequenceid,
            slotid,
            highest_slotid,
            cachethis,
        },
    ))
}

/// `SEQUENCE4resok`. The JSON adds `status_flag_names`, the names of the set
/// `SEQ4_STATUS_*` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceRes<'a> {
    pub sessionid: Opaque<'a>,
    pub sequenceid: u32,
    pub slotid: u32,
    pub highest_slotid: u32,
    pub target_highest_slotid: u32,
    pub status_flags: u32,
}

impl SequenceRes<'_> {
    /// The names of the set `SEQ4_STATUS_*` flags.
    pub fn status_flag_names(&self) -> Vec<&'static str> {
        SEQ4_STATUS_FLAGS
            .iter()
            .filter(|(b, _)| self.status_flags & b != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

impl Serialize for SequenceRes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SequenceRes", 7)?;
        st.serialize_field("sessionid", &self.sessionid)?;
        st.serialize_field("sequenceid", &self.sequenceid)?;
        st.serialize_field("slotid", &self.slotid)?;
        st.serialize_field("highest_slotid", &self.highest_slotid)?;
        st.serialize_field("target_highest_slotid", &self.target_highest_slotid)?;
        st.serialize_field("status_flags", &self.status_flags)?;
        st.serialize_field("status_flag_names", &self.status_flag_names())?;
        st.end()
    }
}

pub fn sequence_res(i: &[u8]) -> Res<'_, SequenceRes<'_>> {
    let (i, sessionid) = sessionid(i)?;
    let (i, sequenceid) = u32(i)?;
    let (i, slotid) = u32(i)?;
    let (i, highest_slotid) = u32(i)?;
    let (i, target_highest_slotid) = u32(i)?;
    let (i, status_flags) = u32(i)?;
    Ok((
        i,
        SequenceRes {
            sessionid,
            sequenceid,
            slotid,
            highest_slotid,
            target_highest_slotid,
            status_flags,
        },
    ))
}

/// BIND_CONN_TO_SESSION arguments and result (same shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BindConn<'a> {
    pub sessionid: Opaque<'a>,
    pub dir: u32,
    pub use_conn_in_rdma_mode: bool,
}

pub fn bind_conn(i: &[u8]) -> Res<'_, BindConn<'_>> {
    let (i, sessionid) = sessionid(i)?;
    let (i, dir) = u32(i)?;
    let (i, use_conn_in_rdma_mode) = xbool(i)?;
    Ok((
        i,
        BindConn {
            sessionid,
            dir,
            use_conn_in_rdma_mode,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::{finish, Enc};

    fn chan(e: &mut Enc, ird: bool) {
        e.u32(0).u32(1 << 20).u32(1 << 20).u32(8192).u32(8).u32(64);
        if ird {
            e.u32(1).u32(3);
        } else {
            e.u32(0);
        }
    }

    #[test]
    fn create_session_with_all_sec_parms() {
        let mut e = Enc::new();
        e.u64(0x1122).u32(1).u32(3);
        chan(&mut e, false);
        chan(&mut e, true);
        e.u32(0x4000_0000).u32(3);
        e.u32(0);
        e.u32(1)
            .u32(77)
            .string("host")
            .u32(0)
            .u32(0)
            .u32(2)
            .u32(10)
            .u32(11);
        e.u32(6).u32(2).opaque(b"srv").opaque(b"cli");
        let c = finish(create_session_args(&e.buf)).unwrap();
        assert_eq!(c.cb_program, 0x4000_0000);
        assert_eq!(c.back_chan_attrs.rdma_ird, Some(3));
        assert_eq!(c.sec_parms.len(), 3);
        assert!(
            matches!(&c.sec_parms[1], CbSecParms::AuthSys { gids, .. } if gids == &vec![10, 11])
        );
        assert!(matches!(
            &c.sec_parms[2],
            CbSecParms::RpcsecGss { service: 2, .. }
        ));
        let mut e = Enc::new();
        e.u32(5);
        assert!(finish(cb_sec_parms(&e.buf)).is_err());
    }

    #[test]
    fn exchange_id_state_protect_arms() {
        for how in 0..3u32 {
            let mut e = Enc::new();
            e.fixed(&[1; 8])
                .opaque(b"Linux NFSv4.1 client")
                .u32(0x101)
                .u32(how);
            if how >= 1 {
                e.u32(1).u32(1 << 12).u32(1).u32(0);
            }
            if how == 2 {
                e.u32(1).opaque(&[6, 1]).u32(0).u32(16).u32(2);
            }
            e.u32(1).string("kernel.org").string("Linux").u64(0).u32(0);
            let x = finish(exchange_id_args(&e.buf)).unwrap();
            assert_eq!(x.owner.ownerid.0, b"Linux NFSv4.1 client");
            assert_eq!(x.client_impl_id.unwrap().name.0, b"Linux");
            match (how, &x.state_protect) {
                (0, StateProtectA::None) => {}
                (1, StateProtectA::MachCred { ops }) => assert!(ops.must_enforce.contains(12)),
                (
                    2,
                    StateProtectA::Ssv {
                        window: 16,
                        hash_algs,
                        ..
                    },
                ) => assert_eq!(hash_algs.len(), 1),
                (h, s) => panic!("{h}: {s:?}"),
            }
        }
    }

    #[test]
    fn exchange_id_result_ssv() {
        let mut e = Enc::new();
        e.u64(7)
            .u32(1)
            .u32(0x8001_0000)
            .u32(2)
            .u32(0)
            .u32(0)
            .u32(1)
            .u32(2)
            .u32(32)
            .u32(4);
        e.u32(2)
            .opaque(b"h1")
            .opaque(b"h2")
            .u64(9)
            .opaque(b"major")
            .opaque(b"scope")
            .u32(0);
        let r = finish(exchange_id_res(&e.buf)).unwrap();
        assert!(
            matches!(&r.state_protect, StateProtectR::Ssv { handles, ssv_len: 32, .. } if handles.len() == 2)
        );
        assert_eq!(r.server_owner.major_id.0, b"major");
        assert!(r.server_impl_id.is_none());
    }

    #[test]
    fn sequence_flags_named() {
        let mut e = Enc::new();
        e.fixed(&[2; 16]).u32(5).u32(0).u32(9).u32(9).u32(0x101);
        let s = finish(sequence_res(&e.buf)).unwrap();
        assert_eq!(
            s.status_flag_names(),
            vec!["CB_PATH_DOWN", "RESTART_RECLAIM_NEEDED"]
        );
        assert_eq!(s.status_flags & SEQ4_STATUS_RESTART_RECLAIM_NEEDED, 0x100);
        let j = serde_json::to_value(s).unwrap();
        assert_eq!(j["status_flags"], 0x101);
        assert_eq!(j["status_flag_names"][1], "RESTART_RECLAIM_NEEDED");
        assert_eq!(j["sessionid"], "02".repeat(16));
    }

    #[test]
    fn setclientid_args_fields() {
        let mut e = Enc::new();
        e.fixed(&[3; 8])
            .opaque(b"Linux NFSv4.0 host")
            .u32(0x4000_0000)
            .string("tcp");
        e.string("192.168.1.2.200.10").u32(1);
        let s = finish(setclientid_args(&e.buf)).unwrap();
        assert_eq!(s.cb_program, 0x4000_0000);
        assert_eq!(s.cb_location.to_string(), "tcp:192.168.1.2.200.10");
        assert_eq!(s.callback_ident, 1);
    }
}
