//! Reading COMPOUND replies: per-op status and the few results a client must keep
//! (client ids, verifiers, session ids, stateids, file handles).

use super::nfs4::{op, StateId};
use super::rpc::Rd;
use crate::xdr::XdrError;

/// What the client keeps from one operation's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpRes {
    /// Ops whose success carries nothing the client needs.
    Plain,
    GetFh(Vec<u8>),
    SetClientId { clientid: u64, verifier: [u8; 8] },
    Open { stateid: StateId, rflags: u32, delegation: u32 },
    /// OPEN_CONFIRM, LOCK, LOCKU, CLOSE.
    StateId(StateId),
    /// LOCK/LOCKT denied: the conflicting range and owner.
    Denied { offset: u64, length: u64, locktype: u32, clientid: u64, owner: Vec<u8> },
    ExchangeId { clientid: u64, sequenceid: u32, flags: u32 },
    CreateSession { sessionid: [u8; 16], sequence: u32 },
    Sequence { sessionid: [u8; 16], sequenceid: u32, status_flags: u32 },
}

/// One entry of the result array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpResult {
    pub op: u32,
    pub status: u32,
    pub res: OpRes,
}

/// COMPOUND4res as far as the client could read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundRes {
    pub status: u32,
    pub tag: String,
    pub results: Vec<OpResult>,
}

impl CompoundRes {
    /// The first result of operation `opnum`.
    pub fn find(&self, opnum: u32) -> Option<&OpResult> {
        self.results.iter().find(|r| r.op == opnum)
    }
    /// Status of operation `opnum`, if the server got to it.
    pub fn status_of(&self, opnum: u32) -> Option<u32> {
        self.find(opnum).map(|r| r.status)
    }
    pub fn fh(&self) -> Option<Vec<u8>> {
        self.results.iter().rev().find_map(|r| match &r.res {
            OpRes::GetFh(fh) => Some(fh.clone()),
            _ => None,
        })
    }
    pub fn stateid(&self, opnum: u32) -> Option<StateId> {
        match self.find(opnum).map(|r| &r.res) {
            Some(OpRes::StateId(s)) => Some(*s),
            Some(OpRes::Open { stateid, .. }) => Some(*stateid),
            _ => None,
        }
    }
}

fn stateid(r: &mut Rd<'_>) -> Result<StateId, XdrError> {
    let seqid = r.u32()?;
    let mut other = [0u8; 12];
    other.copy_from_slice(r.fixed(12)?);
    Ok(StateId { seqid, other })
}

fn sessionid(r: &mut Rd<'_>) -> Result<[u8; 16], XdrError> {
    let mut s = [0u8; 16];
    s.copy_from_slice(r.fixed(16)?);
    Ok(s)
}

fn skip_channel_attrs(r: &mut Rd<'_>) -> Result<(), XdrError> {
    for _ in 0..6 {
        r.u32()?;
    }
    r.u32_array()?;
    Ok(())
}

fn skip_ace(r: &mut Rd<'_>) -> Result<(), XdrError> {
    r.u32()?;
    r.u32()?;
    r.u32()?;
    r.opaque()?;
    Ok(())
}

fn denied(r: &mut Rd<'_>) -> Result<OpRes, XdrError> {
    Ok(OpRes::Denied {
        offset: r.u64()?,
        length: r.u64()?,
        locktype: r.u32()?,
        clientid: r.u64()?,
        owner: r.opaque()?.to_vec(),
    })
}

fn open_ok(r: &mut Rd<'_>) -> Result<OpRes, XdrError> {
    let sid = stateid(r)?;
    r.bool()?; // cinfo.atomic
    r.u64()?;
    r.u64()?;
    let rflags = r.u32()?;
    r.u32_array()?; // attrset
    let delegation = r.u32()?;
    match delegation {
        0 => {}
        1 => {
            stateid(r)?;
            r.bool()?;
            skip_ace(r)?;
        }
        2 => {
            stateid(r)?;
            r.bool()?;
            match r.u32()? {
                1 => {
                    r.u64()?;
                }
                _ => {
                    r.u32()?;
                    r.u32()?;
                }
            }
            skip_ace(r)?;
        }
        3 => {
            // open_none_delegation4: the reason, and a bool for CONTENTION/RESOURCE
            let why = r.u32()?;
            if why == 2 || why == 3 {
                r.bool()?;
            }
        }
        n => return Err(XdrError::BadValue { what: "open_delegation_type4", value: n }),
    }
    Ok(OpRes::Open { stateid: sid, rflags, delegation })
}

fn one(r: &mut Rd<'_>, opnum: u32, status: u32) -> Result<OpRes, XdrError> {
    use op::*;
    if status != 0 {
        return match (opnum, status) {
            (LOCK | LOCKT, super::nfs4::status::DENIED) => denied(r),
            (SETCLIENTID, 10017) => {
                r.string()?;
                r.string()?;
                Ok(OpRes::Plain)
            }
            _ => Ok(OpRes::Plain),
        };
    }
    Ok(match opnum {
        GETFH => OpRes::GetFh(r.opaque()?.to_vec()),
        GETATTR => {
            r.u32_array()?;
            r.opaque()?;
            OpRes::Plain
        }
        SETCLIENTID => {
            let clientid = r.u64()?;
            let mut verifier = [0u8; 8];
            verifier.copy_from_slice(r.fixed(8)?);
            OpRes::SetClientId { clientid, verifier }
        }
        OPEN => open_ok(r)?,
        OPEN_CONFIRM | LOCK | LOCKU | CLOSE => OpRes::StateId(stateid(r)?),
        EXCHANGE_ID => {
            let clientid = r.u64()?;
            let sequenceid = r.u32()?;
            let flags = r.u32()?;
            let how = r.u32()?;
            if how != 0 {
                // state protection other than SP4_NONE: nothing follows that the lab needs
                return Ok(OpRes::ExchangeId { clientid, sequenceid, flags });
            }
            r.u64()?;
            r.opaque()?;
            r.opaque()?;
            let n = r.u32()?;
            for _ in 0..n.min(1) {
                r.opaque()?;
                r.opaque()?;
                r.u64()?;
                r.u32()?;
            }
            OpRes::ExchangeId { clientid, sequenceid, flags }
        }
        CREATE_SESSION => {
            let sessionid = sessionid(r)?;
            let sequence = r.u32()?;
            r.u32()?;
            skip_channel_attrs(r)?;
            skip_channel_attrs(r)?;
            OpRes::CreateSession { sessionid, sequence }
        }
        SEQUENCE => {
            let sessionid = sessionid(r)?;
            let sequenceid = r.u32()?;
            r.u32()?;
            r.u32()?;
            r.u32()?;
            let status_flags = r.u32()?;
            OpRes::Sequence { sessionid, sequenceid, status_flags }
        }
        LOCKT | PUTFH | PUTROOTFH | LOOKUP | RENEW | SETCLIENTID_CONFIRM | RECLAIM_COMPLETE | DESTROY_SESSION
        | DESTROY_CLIENTID => OpRes::Plain,
        n => return Err(XdrError::BadValue { what: "unexpected op in reply", value: n }),
    })
}

/// Read a COMPOUND4res. Reading stops, keeping what was read, at a result the client
/// cannot interpret.
pub fn parse_compound(body: &[u8]) -> Result<CompoundRes, XdrError> {
    let mut r = Rd(body);
    let status = r.u32()?;
    let tag = r.string()?;
    let n = r.u32()?;
    let mut results = Vec::new();
    for _ in 0..n.min(64) {
        let Ok(opnum) = r.u32() else { break };
        let Ok(st) = r.u32() else { break };
        match one(&mut r, opnum, st) {
            Ok(res) => results.push(OpResult { op: opnum, status: st, res }),
            Err(_) => {
                results.push(OpResult { op: opnum, status: st, res: OpRes::Plain });
                break;
            }
        }
    }
    Ok(CompoundRes { status, tag, results })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::Enc;

    fn head(e: &mut Enc, status: u32, n: u32) {
        e.u32(status).string("tg").u32(n);
    }

    #[test]
    fn setclientid_and_error_stop() {
        let mut e = Enc::new();
        head(&mut e, 0, 1);
        e.u32(op::SETCLIENTID).u32(0).u64(0x6b01fe6a00000001).fixed(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let c = parse_compound(&e.buf).unwrap();
        assert_eq!(c.tag, "tg");
        assert_eq!(
            c.results[0].res,
            OpRes::SetClientId { clientid: 0x6b01fe6a00000001, verifier: [1, 2, 3, 4, 5, 6, 7, 8] }
        );
        let mut e = Enc::new();
        head(&mut e, 10013, 2);
        e.u32(op::PUTFH).u32(0).u32(op::OPEN).u32(10013);
        let c = parse_compound(&e.buf).unwrap();
        assert_eq!(c.status, 10013);
        assert_eq!(c.status_of(op::OPEN), Some(10013));
        assert_eq!(c.status_of(op::PUTFH), Some(0));
        assert_eq!(c.status_of(op::LOCK), None);
    }

    #[test]
    fn open_getfh_lock() {
        let mut e = Enc::new();
        head(&mut e, 0, 4);
        e.u32(op::OPEN).u32(0).u32(1).fixed(&[4; 12]).bool(false).u64(1).u64(2).u32(6).u32(0).u32(0);
        e.u32(op::GETFH).u32(0).opaque(&[8; 10]);
        e.u32(op::LOCK).u32(0).u32(1).fixed(&[5; 12]);
        e.u32(op::SEQUENCE).u32(0); // truncated: kept as Plain
        let c = parse_compound(&e.buf).unwrap();
        assert_eq!(c.results.len(), 4);
        assert_eq!(c.results[0].res, OpRes::Open { stateid: StateId { seqid: 1, other: [4; 12] }, rflags: 6, delegation: 0 });
        assert_eq!(c.fh(), Some(vec![8; 10]));
        assert_eq!(c.stateid(op::LOCK), Some(StateId { seqid: 1, other: [5; 12] }));
        assert_eq!(c.stateid(op::OPEN).unwrap().other, [4; 12]);
        assert_eq!(c.results[3].res, OpRes::Plain);
    }

    #[test]
    fn lock_denied_and_sessions() {
        let mut e = Enc::new();
        head(&mut e, 10010, 1);
        e.u32(op::LOCK).u32(10010).u64(0).u64(10).u32(2).u64(9).opaque(b"x");
        let c = parse_compound(&e.buf).unwrap();
        assert_eq!(c.results[0].res, OpRes::Denied { offset: 0, length: 10, locktype: 2, clientid: 9, owner: b"x".to_vec() });
        let mut e = Enc::new();
        head(&mut e, 0, 3);
        e.u32(op::EXCHANGE_ID).u32(0).u64(77).u32(1).u32(0x10000).u32(0);
        e.u64(0).opaque(b"maj").opaque(b"scope").u32(1).string("dom").string("name").u64(0).u32(0);
        e.u32(op::CREATE_SESSION).u32(0).fixed(&[6; 16]).u32(1).u32(0);
        for _ in 0..2 {
            e.u32(0).u32(1).u32(1).u32(1).u32(1).u32(1).u32(0);
        }
        e.u32(op::SEQUENCE).u32(0).fixed(&[6; 16]).u32(2).u32(0).u32(0).u32(0).u32(0x100);
        let c = parse_compound(&e.buf).unwrap();
        assert_eq!(c.results[0].res, OpRes::ExchangeId { clientid: 77, sequenceid: 1, flags: 0x10000 });
        assert_eq!(c.results[1].res, OpRes::CreateSession { sessionid: [6; 16], sequence: 1 });
        assert_eq!(c.results[2].res, OpRes::Sequence { sessionid: [6; 16], sequenceid: 2, status_flags: 0x100 });
    }

    #[test]
    fn hostile_counts_do_not_panic() {
        let mut e = Enc::new();
        head(&mut e, 0, 0xffff_ffff);
        e.u32(op::GETFH).u32(0).u32(0xffff_fff0);
        let c = parse_compound(&e.buf).unwrap();
        assert_eq!(c.results.len(), 1);
        assert!(parse_compound(&[0, 0]).is_err());
    }
}
