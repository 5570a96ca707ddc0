//! COMPOUND4res encoders (RFC 7530 §16, RFC 8881 §18): the results a server sends for
//! the operations the client builds, for generated captures and tests.
//!
//! Each [`ResOp`] is one `nfs_resop4`: the op number, its status and, when the status
//! calls for it, the result body. A failing op ends the array, as on the wire.

use super::nfs4::{op, status, ChannelAttrs, StateId};
use crate::xdr::Enc;

/// What an OPEN or LOCK/LOCKT denial names: the conflicting lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub offset: u64,
    pub length: u64,
    pub locktype: u32,
    pub clientid: u64,
    pub owner: Vec<u8>,
}

/// One operation's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResOp {
    /// An op whose result is its status alone (PUTFH, PUTROOTFH, LOOKUP, RENEW,
    /// SETCLIENTID_CONFIRM, RECLAIM_COMPLETE, DESTROY_SESSION, DESTROY_CLIENTID), or
    /// any op that failed with a status that carries nothing.
    Status { op: u32, status: u32 },
    GetFh(Vec<u8>),
    Sequence { sessionid: [u8; 16], sequenceid: u32, slotid: u32, highest_slotid: u32, status_flags: u32 },
    ExchangeId { clientid: u64, sequenceid: u32, flags: u32, major_id: Vec<u8>, scope: Vec<u8> },
    CreateSession { sessionid: [u8; 16], sequenceid: u32, flags: u32, fore: ChannelAttrs, back: ChannelAttrs },
    SetClientId { clientid: u64, verifier: [u8; 8] },
    /// OPEN granted without a delegation.
    Open { stateid: StateId, change_before: u64, change_after: u64, rflags: u32 },
    /// OPEN_CONFIRM, LOCK, LOCKU, CLOSE granted: the new stateid.
    StateId { op: u32, stateid: StateId },
    /// LOCK or LOCKT refused with NFS4ERR_DENIED.
    Denied { op: u32, denied: Denied },
}

impl ResOp {
    pub fn opnum(&self) -> u32 {
        match self {
            ResOp::Status { op, .. } | ResOp::StateId { op, .. } | ResOp::Denied { op, .. } => *op,
            ResOp::GetFh(_) => op::GETFH,
            ResOp::Sequence { .. } => op::SEQUENCE,
            ResOp::ExchangeId { .. } => op::EXCHANGE_ID,
            ResOp::CreateSession { .. } => op::CREATE_SESSION,
            ResOp::SetClientId { .. } => op::SETCLIENTID,
            ResOp::Open { .. } => op::OPEN,
        }
    }

    pub fn status(&self) -> u32 {
        match self {
            ResOp::Status { status, .. } => *status,
            ResOp::Denied { .. } => status::DENIED,
            _ => status::OK,
        }
    }

    /// nfs_resop4: op number, status, result.
    pub fn encode(&self, e: &mut Enc) {
        e.u32(self.opnum()).u32(self.status());
        match self {
            ResOp::Status { .. } => {}
            ResOp::GetFh(fh) => {
                e.opaque(fh);
            }
            ResOp::Sequence { sessionid, sequenceid, slotid, highest_slotid, status_flags } => {
                // target_highest_slotid = highest_slotid
                e.fixed(sessionid).u32(*sequenceid).u32(*slotid).u32(*highest_slotid).u32(*highest_slotid).u32(*status_flags);
            }
            ResOp::ExchangeId { clientid, sequenceid, flags, major_id, scope } => {
                // SP4_NONE, server_owner4 {minor id, major id}, scope, no implementation id
                e.u64(*clientid).u32(*sequenceid).u32(*flags).u32(0);
                e.u64(0).opaque(major_id).opaque(scope).u32(0);
            }
            ResOp::CreateSession { sessionid, sequenceid, flags, fore, back } => {
                e.fixed(sessionid).u32(*sequenceid).u32(*flags);
                fore.encode(e);
                back.encode(e);
            }
            ResOp::SetClientId { clientid, verifier } => {
                e.u64(*clientid).fixed(verifier);
            }
            ResOp::Open { stateid, change_before, change_after, rflags } => {
                stateid.encode(e);
                // change_info4 (atomic), rflags, empty attrset, OPEN_DELEGATE_NONE
                e.bool(true).u64(*change_before).u64(*change_after).u32(*rflags).u32(0).u32(0);
            }
            ResOp::StateId { stateid, .. } => stateid.encode(e),
            ResOp::Denied { denied: d, .. } => {
                e.u64(d.offset).u64(d.length).u32(d.locktype).u64(d.clientid).opaque(&d.owner);
            }
        }
    }
}

/// COMPOUND4res bytes: the status is that of the last result (the first failure).
pub fn compound_res(tag: &str, results: &[ResOp]) -> Vec<u8> {
    let mut e = Enc::new();
    let st = results.last().map_or(status::OK, |r| r.status());
    e.u32(st).string(tag).u32(results.len() as u32);
    for r in results {
        r.encode(&mut e);
    }
    e.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::nfs4_reply::{parse_compound, OpRes};
    use crate::proto::{self, ReplyBody};

    fn sid(n: u8) -> StateId {
        StateId { seqid: n as u32, other: [n; 12] }
    }

    fn all() -> Vec<ResOp> {
        vec![
            ResOp::Sequence { sessionid: [1; 16], sequenceid: 7, slotid: 0, highest_slotid: 3, status_flags: 0 },
            ResOp::Status { op: op::PUTFH, status: 0 },
            ResOp::Open { stateid: sid(2), change_before: 1, change_after: 2, rflags: 4 },
            ResOp::GetFh(vec![9; 28]),
            ResOp::StateId { op: op::LOCK, stateid: sid(3) },
            ResOp::StateId { op: op::LOCKU, stateid: sid(4) },
            ResOp::StateId { op: op::CLOSE, stateid: sid(5) },
            ResOp::ExchangeId { clientid: 0x5f00_0000_0000_0001, sequenceid: 1, flags: 0x0001_0000, major_id: b"srv".to_vec(), scope: b"srv".to_vec() },
            ResOp::CreateSession { sessionid: [6; 16], sequenceid: 1, flags: 0, fore: ChannelAttrs::default(), back: ChannelAttrs::default() },
            ResOp::SetClientId { clientid: 3, verifier: [8; 8] },
            ResOp::Status { op: op::RECLAIM_COMPLETE, status: 0 },
            ResOp::Denied { op: op::LOCK, denied: Denied { offset: 0, length: 10, locktype: 2, clientid: 3, owner: b"o".to_vec() } },
        ]
    }

    #[test]
    fn client_reader_reads_every_result() {
        let r = parse_compound(&compound_res("t", &all())).unwrap();
        assert_eq!(r.status, status::DENIED);
        assert_eq!(r.tag, "t");
        assert_eq!(r.results.len(), 12);
        assert_eq!(r.stateid(op::OPEN), Some(sid(2)));
        assert_eq!(r.stateid(op::CLOSE), Some(sid(5)));
        assert_eq!(r.fh(), Some(vec![9; 28]));
        assert!(matches!(r.find(op::EXCHANGE_ID).map(|x| &x.res), Some(OpRes::ExchangeId { clientid: 0x5f00_0000_0000_0001, .. })));
        assert!(matches!(r.find(op::CREATE_SESSION).map(|x| &x.res), Some(OpRes::CreateSession { sessionid, .. }) if *sessionid == [6; 16]));
        assert!(matches!(r.results[11].res, OpRes::Denied { length: 10, .. }));
    }

    #[test]
    fn decoder_reads_every_result_to_the_end() {
        let b = compound_res("", &all());
        let ReplyBody::Nfs4(r) = proto::decode_reply(proto::NFS, 4, 1, false, &b) else { panic!("not decoded") };
        let text = r.to_string();
        for name in ["SEQUENCE", "OPEN", "GETFH", "LOCKU", "CLOSE", "EXCHANGE_ID", "CREATE_SESSION", "SETCLIENTID", "RECLAIM_COMPLETE", "NFS4ERR_DENIED"] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        let errors = [ResOp::Status { op: op::SEQUENCE, status: status::BADSESSION }];
        let b = compound_res("", &errors);
        let ReplyBody::Nfs4(r) = proto::decode_reply(proto::NFS, 4, 1, false, &b) else { panic!() };
        assert!(r.to_string().contains("NFS4ERR_BADSESSION"), "{r}");
    }
}
