//! The requests a replay sends, as argument bytes (pure functions over the plan), and
//! their one-line text as gracewatch's own decoders read them back (`--dry-run`).

use super::plan::{NlmHost, NlmReclaim, Plan, V4Client, V4Lock, V4Open, READ_LT, WRITE_LT};
use crate::client::nfs4::{ChannelAttrs, Compound, Locker, LockArgs, Op, OpenArgs, OpenClaim, OpenHow, StateId};
use crate::client::nlm::{self, NlmLock};
use std::net::Ipv4Addr;

/// The callback program advertised (the one Linux uses).
pub const CB_PROGRAM: u32 = 0x4000_0000;

pub fn nlm_lock(h: &NlmHost, l: &NlmReclaim) -> NlmLock {
    NlmLock { caller_name: h.caller_name.clone(), fh: l.fh.clone(), oh: l.oh.clone(), svid: l.svid, offset: l.offset, len: l.len, exclusive: l.exclusive }
}

/// nlm4_lockargs of a LOCK (never blocking): a reclaim, or a normal lock when
/// establishing.
pub fn nlm_lock_args(h: &NlmHost, l: &NlmReclaim, cookie: &[u8], reclaim: bool) -> Vec<u8> {
    nlm::lock_args(cookie, &nlm_lock(h, l), false, reclaim, h.state)
}

/// nlm4_testargs (the grace probe).
pub fn nlm_test_args(h: &NlmHost, l: &NlmReclaim, cookie: &[u8]) -> Vec<u8> {
    nlm::test_args(cookie, &nlm_lock(h, l))
}

/// A client's view of its NFSv4.1 session: slot 0 and its next sequence id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slot {
    pub sessionid: [u8; 16],
    pub seq: u32,
}

/// A COMPOUND of `minor`, led by SEQUENCE when a session is given.
pub fn compound(minor: u32, tag: &str, slot: Option<Slot>, cachethis: bool, ops: Vec<Op>) -> Vec<u8> {
    let mut c = Compound::new(minor, tag);
    if let Some(s) = slot {
        c.push(Op::Sequence { sessionid: s.sessionid, sequenceid: s.seq, slotid: 0, highest_slotid: 0, cachethis });
    }
    c.ops.extend(ops);
    c.encode()
}

/// The universal address a v4.0 client gives for its callback (port 0: none).
pub fn uaddr(local: Ipv4Addr) -> String {
    let o = local.octets();
    format!("{}.{}.{}.{}.0.0", o[0], o[1], o[2], o[3])
}

pub fn setclientid(c: &V4Client, local: Ipv4Addr) -> Vec<u8> {
    let op = Op::SetClientId { verifier: c.verifier8(), id: c.owner.clone(), cb_program: CB_PROGRAM, netid: "tcp".into(), addr: uaddr(local), ident: 1 };
    compound(0, "setclientid", None, false, vec![op])
}

pub fn setclientid_confirm(clientid: u64, verifier: [u8; 8]) -> Vec<u8> {
    compound(0, "setclientid_confirm", None, false, vec![Op::SetClientIdConfirm { clientid, verifier }])
}

pub fn exchange_id(c: &V4Client) -> Vec<u8> {
    compound(c.minor, "exchange_id", None, false, vec![Op::ExchangeId { verifier: c.verifier8(), owner: c.owner.clone(), flags: 0 }])
}

pub fn create_session(minor: u32, clientid: u64, sequence: u32) -> Vec<u8> {
    let attrs = ChannelAttrs { maxrequests: 1, ..ChannelAttrs::default() };
    let op = Op::CreateSession { clientid, sequence, flags: 0, fore: attrs, back: attrs, cb_program: CB_PROGRAM };
    compound(minor, "create_session", None, false, vec![op])
}

pub fn reclaim_complete(minor: u32, slot: Slot) -> Vec<u8> {
    compound(minor, "reclaim_complete", Some(slot), false, vec![Op::ReclaimComplete { one_fs: false }])
}

fn open_args(o: &V4Open, seqid: u32, clientid: u64, claim: OpenClaim) -> OpenArgs {
    OpenArgs { seqid, share_access: o.share_access, share_deny: o.share_deny, clientid, owner: o.open_owner.clone(), how: OpenHow::NoCreate, claim }
}

/// PUTFH, OPEN CLAIM_PREVIOUS, GETFH.
pub fn open_reclaim(minor: u32, slot: Option<Slot>, o: &V4Open, seqid: u32, clientid: u64) -> Vec<u8> {
    let ops = vec![Op::PutFh(o.fh.clone()), Op::Open(open_args(o, seqid, clientid, OpenClaim::Previous(0))), Op::GetFh];
    compound(minor, "open_reclaim", slot, true, ops)
}

/// A normal OPEN when establishing: NFSv4.1+ by handle (CLAIM_FH); NFSv4.0 by name
/// (PUTROOTFH, LOOKUP of each directory, OPEN CLAIM_NULL), which needs the path.
pub fn open_establish(minor: u32, slot: Option<Slot>, o: &V4Open, seqid: u32, clientid: u64) -> Option<Vec<u8>> {
    let ops = if minor >= 1 {
        vec![Op::PutFh(o.fh.clone()), Op::Open(open_args(o, seqid, clientid, OpenClaim::Fh)), Op::GetFh]
    } else {
        let path = o.path.as_deref()?;
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (name, dirs) = parts.split_last()?;
        let mut ops = vec![Op::PutRootFh];
        ops.extend(dirs.iter().map(|d| Op::Lookup(d.to_string())));
        ops.push(Op::Open(open_args(o, seqid, clientid, OpenClaim::Null(name.to_string()))));
        ops.push(Op::GetFh);
        ops
    };
    Some(compound(minor, "open", slot, true, ops))
}

pub fn open_confirm(fh: &[u8], stateid: StateId, seqid: u32) -> Vec<u8> {
    compound(0, "open_confirm", None, false, vec![Op::PutFh(fh.to_vec()), Op::OpenConfirm { stateid, seqid }])
}

/// How a LOCK names its lock owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockerOf {
    /// The owner's first lock on the file: derived from the open.
    New { open_seqid: u32, open_stateid: StateId, lock_seqid: u32, clientid: u64 },
    Existing { lock_stateid: StateId, lock_seqid: u32 },
}

pub fn lock(minor: u32, slot: Option<Slot>, fh: &[u8], l: &V4Lock, who: LockerOf, reclaim: bool) -> Vec<u8> {
    let locker = match who {
        LockerOf::New { open_seqid, open_stateid, lock_seqid, clientid } => Locker::New { open_seqid, open_stateid, lock_seqid, clientid, owner: l.lock_owner.clone() },
        LockerOf::Existing { lock_stateid, lock_seqid } => Locker::Existing { lock_stateid, lock_seqid },
    };
    let locktype = if l.write { WRITE_LT } else { READ_LT };
    let args = LockArgs { locktype, reclaim, offset: l.offset, length: l.length, locker };
    compound(minor, "lock", slot, true, vec![Op::PutFh(fh.to_vec()), Op::Lock(args)])
}

/// The first requests of the plan as gracewatch decodes them, one line each:
/// `(protocol, text)`. Client ids, sessions and stateids are zero: the server hands
/// them out.
pub fn preview(p: &Plan, establish: bool, max: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let nlm_text = |args: &[u8]| match crate::proto::nlm::decode_call(4, nlm::NLM4_LOCK, args) {
        Ok(c) => format!("LOCK {c}"),
        Err(e) => format!("LOCK (does not decode: {e})"),
    };
    let v4_text = |args: &[u8]| match crate::proto::nfs4::decode_call(4, 1, args) {
        Ok(c) => c.to_string(),
        Err(e) => format!("COMPOUND (does not decode: {e})"),
    };
    for h in p.nlm.iter().take(2) {
        for l in h.locks.iter().take(2) {
            out.push(("NLM4".to_string(), nlm_text(&nlm_lock_args(h, l, b"\0\0\0\x01", !establish))));
        }
    }
    for c in p.v4.iter().take(2) {
        let proto = c.protocol().to_string();
        let slot = (c.minor >= 1).then_some(Slot { sessionid: [0; 16], seq: 1 });
        if c.minor == 0 {
            out.push((proto.clone(), v4_text(&setclientid(c, Ipv4Addr::UNSPECIFIED))));
            out.push((proto.clone(), v4_text(&setclientid_confirm(0, [0; 8]))));
        } else {
            out.push((proto.clone(), v4_text(&exchange_id(c))));
            out.push((proto.clone(), v4_text(&create_session(c.minor, 0, 1))));
            if establish {
                out.push((proto.clone(), v4_text(&reclaim_complete(c.minor, slot.unwrap_or_default()))));
            }
        }
        for o in c.opens.iter().take(2) {
            let open = if establish { open_establish(c.minor, slot, o, 0, 0) } else { Some(open_reclaim(c.minor, slot, o, 0, 0)) };
            if let Some(b) = open {
                out.push((proto.clone(), v4_text(&b)));
            }
            for l in o.locks.iter().take(2) {
                let who = LockerOf::New { open_seqid: 1, open_stateid: StateId::default(), lock_seqid: 0, clientid: 0 };
                out.push((proto.clone(), v4_text(&lock(c.minor, slot, &o.fh, l, who, !establish))));
            }
        }
        if c.minor >= 1 && !establish {
            out.push((proto.clone(), v4_text(&reclaim_complete(c.minor, slot.unwrap_or_default()))));
        }
    }
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::nfs4::OpArgs;

    fn host() -> (NlmHost, NlmReclaim) {
        let l = NlmReclaim { fh: vec![0xab; 8], path: None, oh: b"oh1".to_vec(), svid: 9, offset: 5, len: 10, exclusive: true, fail: None };
        (NlmHost { caller_name: "h1".into(), addr: [127, 0, 0, 1].into(), state: 7, locks: vec![l.clone()] }, l)
    }

    fn client(minor: u32) -> V4Client {
        V4Client {
            minor,
            owner: b"own".to_vec(),
            owner_text: "own".into(),
            verifier: vec![1, 2, 3, 4, 5, 6, 7, 8],
            addr: [127, 0, 0, 1].into(),
            machine: "m".into(),
            uid: 0,
            opens: vec![V4Open {
                open_owner: b"oo".to_vec(),
                fh: vec![0xcd; 12],
                path: Some("/vfs/f3".into()),
                share_access: 3,
                share_deny: 0,
                synthesized: false,
                locks: vec![V4Lock { lock_owner: b"lo".to_vec(), offset: 0, length: u64::MAX, write: true }],
                fail: None,
            }],
            fail: None,
        }
    }

    #[test]
    fn nlm_reclaim_decodes_with_every_field() {
        let (h, l) = host();
        let b = nlm_lock_args(&h, &l, b"ck", true);
        let c = crate::proto::nlm::decode_call(4, 2, &b).unwrap();
        assert_eq!(c.reclaim(), Some(true));
        let a = c.lock().unwrap();
        assert_eq!((a.caller_name.as_str_lossy().as_ref(), a.fh.0, a.oh.0, a.svid, a.offset, a.len), ("h1", &[0xab; 8][..], &b"oh1"[..], 9, 5, 10));
        let b = nlm_lock_args(&h, &l, b"ck", false);
        assert_eq!(crate::proto::nlm::decode_call(4, 2, &b).unwrap().reclaim(), Some(false));
    }

    #[test]
    fn v4_reclaims_decode_as_reclaims() {
        let c = client(1);
        let slot = Some(Slot { sessionid: [9; 16], seq: 4 });
        let b = open_reclaim(1, slot, &c.opens[0], 0, 77);
        let d = crate::proto::nfs4::decode_call(4, 1, &b).unwrap();
        assert_eq!(d.minorversion, 1);
        let names: Vec<&str> = d.ops.iter().map(|o| o.name).collect();
        assert_eq!(names, ["SEQUENCE", "PUTFH", "OPEN", "GETFH"]);
        assert!(matches!(&d.ops[2].args, OpArgs::Open(o) if o.is_reclaim() && o.create.is_none()));
        let who = LockerOf::New { open_seqid: 1, open_stateid: StateId { seqid: 1, other: [3; 12] }, lock_seqid: 0, clientid: 77 };
        let b = lock(1, slot, &c.opens[0].fh, &c.opens[0].locks[0], who, true);
        let d = crate::proto::nfs4::decode_call(4, 1, &b).unwrap();
        assert!(matches!(&d.ops[2].args, OpArgs::Lock(l) if l.reclaim && l.length == u64::MAX && l.locktype == 2));
        // 4.0 establish opens by name under the root
        let b = open_establish(0, None, &c.opens[0], 3, 77).unwrap();
        let d = crate::proto::nfs4::decode_call(4, 1, &b).unwrap();
        let names: Vec<&str> = d.ops.iter().map(|o| o.name).collect();
        assert_eq!(names, ["PUTROOTFH", "LOOKUP", "OPEN", "GETFH"]);
        let mut nopath = c.opens[0].clone();
        nopath.path = None;
        assert!(open_establish(0, None, &nopath, 0, 0).is_none());
        assert!(open_establish(1, None, &nopath, 0, 0).is_some());
    }

    #[test]
    fn preview_lists_the_first_requests() {
        let (h, _) = host();
        let p = Plan { nlm: vec![h], v4: vec![client(0), client(1)], ..Plan::default() };
        let v = preview(&p, false, 100);
        let text: Vec<String> = v.iter().map(|(p, t)| format!("{p} {t}")).collect();
        assert!(text[0].starts_with("NLM4 LOCK") && text[0].contains("reclaim"), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("NFSv4.0 SETCLIENTID")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("NFSv4.1 EXCHANGE_ID")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("CLAIM_PREVIOUS")), "{text:?}");
        assert!(text.last().unwrap().contains("RECLAIM_COMPLETE"), "{text:?}");
        assert!(!text.iter().any(|t| t.contains("does not decode")), "{text:?}");
        assert_eq!(preview(&p, false, 2).len(), 2);
    }
}
