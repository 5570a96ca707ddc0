//! Tests on RPC messages taken from real captures of the shared pool (bytes copied as
//! literals; the capture files themselves stay outside the repository).

use super::*;
use crate::xdr::{opaque, u32 as xu32};
use std::collections::HashMap;

/// An RPC message split into header facts and the procedure body.
pub(super) enum RpcMsg<'a> {
    Call {
        prog: u32,
        vers: u32,
        proc_: u32,
        body: &'a [u8],
    },
    /// `body` is `None` unless the reply is MSG_ACCEPTED / SUCCESS.
    Reply {
        body: Option<&'a [u8]>,
    },
}

/// Split one RPC record (no record mark). Replies are matched with `calls`
/// (xid -> program, version, procedure, RPCSEC_GSS service). RPCSEC_GSS integrity
/// bodies are unwrapped; `service` is 3 for privacy and for GSS control messages,
/// whose bodies are not NFS arguments.
pub(super) fn rpc_split<'a>(
    m: &'a [u8],
    calls: &HashMap<u32, (u32, u32, u32, u32)>,
) -> Option<RpcMsg<'a>> {
    let (i, xid) = xu32(m).ok()?;
    let (i, mtype) = xu32(i).ok()?;
    if mtype == 0 {
        let (i, _rpcvers) = xu32(i).ok()?;
        let (i, prog) = xu32(i).ok()?;
        let (i, vers) = xu32(i).ok()?;
        let (i, proc_) = xu32(i).ok()?;
        let (i, flavor) = xu32(i).ok()?;
        let (i, cred) = opaque(i).ok()?;
        let (i, _vflavor) = xu32(i).ok()?;
        let (mut body, _verf) = opaque(i).ok()?;
        if flavor == 6 {
            let (c, _gssvers) = xu32(cred).ok()?;
            let (c, gss_proc) = xu32(c).ok()?;
            let (c, _seq) = xu32(c).ok()?;
            let (_, svc) = xu32(c).ok()?;
            // Integrity-protected data (service 2) is unwrapped; control messages are not.
            if gss_proc == 0 && svc == 2 {
                let (_, integ) = opaque(body).ok()?;
                body = integ.get(4..)?;
            }
        }
        return Some(RpcMsg::Call {
            prog,
            vers,
            proc_,
            body,
        });
    }
    let &(_prog, _vers, _proc, service) = calls.get(&xid)?;
    let (i, reply_stat) = xu32(i).ok()?;
    if reply_stat != 0 {
        return Some(RpcMsg::Reply { body: None });
    }
    let (i, _vflavor) = xu32(i).ok()?;
    let (i, _verf) = opaque(i).ok()?;
    let (mut body, accept) = xu32(i).ok()?;
    if accept != 0 {
        return Some(RpcMsg::Reply { body: None });
    }
    if service == 2 {
        let (_, integ) = opaque(body).ok()?;
        body = integ.get(4..)?;
    }
    Some(RpcMsg::Reply { body: Some(body) })
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|k| u8::from_str_radix(&s[k..k + 2], 16).unwrap())
        .collect()
}

/// The record of a TCP payload holding one whole RPC message (record mark removed).
fn record(hex: &str) -> Vec<u8> {
    let b = unhex(hex);
    let mark = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    assert_eq!(
        mark & 0x7fff_ffff,
        b.len() as u32 - 4,
        "payload is not one whole record"
    );
    b[4..].to_vec()
}

fn call_body(rec: &[u8]) -> (u32, u32, u32, &[u8]) {
    match rpc_split(rec, &HashMap::new()) {
        Some(RpcMsg::Call {
            prog,
            vers,
            proc_,
            body,
            ..
        }) => (prog, vers, proc_, body),
        _ => panic!("not a call"),
    }
}

fn reply_body(rec: &[u8]) -> &[u8] {
    let xid = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
    let calls = HashMap::from([(xid, (100003, 4, 1, 1))]);
    match rpc_split(rec, &calls) {
        Some(RpcMsg::Reply { body: Some(b), .. }) => b,
        _ => panic!("not an accepted reply"),
    }
}

fn compound(rec: &[u8]) -> Compound<'_> {
    let (prog, vers, proc_, body) = call_body(rec);
    assert_eq!((prog, vers, proc_), (100003, 4, 1));
    decode_call(vers, proc_, body).unwrap()
}

fn compound_res(rec: &[u8]) -> CompoundRes<'_> {
    decode_reply(4, 1, reply_body(rec)).unwrap()
}

fn nums(c: &Compound<'_>) -> Vec<u32> {
    c.ops.iter().map(|o| o.num()).collect()
}

fn res_nums(r: &CompoundRes<'_>) -> Vec<(u32, u32)> {
    r.ops.iter().map(|o| (o.num(), o.status().0)).collect()
}

// linux-nfs-ml/2019-07-12__LOCK.pcap (pynfs on NFSv4.0), frames 123-149.
const V40_SETCLIENTID: &str = "800000b0000000060000000000000002000186a30000000400000001000000010000001c0000000000000007636c69656e74310000000000000000000000000000000000000000000000001e73745f6c6f636b2e70793a746573744f70656e557067726164654c6f636b000000000000000000010000002341d7456eb23df65e0000000f636c69656e74315f70696439303930004000303900000003746370000000000b302e302e302e302e302e300000000000";
const V40_SETCLIENTID_R: &str = "8000005c000000060000000100000000000000000000000000000000000000000000001e73745f6c6f636b2e70793a746573744f70656e557067726164654c6f636b000000000001000000230000000056f6115d37df6edbc8ba155d258b1266";
const V40_OPEN: &str = "800000d4000000080000000000000002000186a30000000400000001000000010000001c0000000000000007636c69656e74310000000000000000000000000000000000000000000000000f73745f6c6f636b2e70793a6f70656e000000000000000005000000180000000f000000076e6673726f6f74000000000f00000003746d70000000001200000000000000010000000056f6115d37df6edb000000064c4f434b32340000000000010000000000000002000000000000000200000004000001a400000000000000064c4f434b323400000000000a";
const V40_OPEN_R: &str = "800000ac000000080000000100000000000000000000000000000000000000000000000f73745f6c6f636b2e70793a6f70656e4f0000000500000018000000000000000f000000000000000f0000000000000012000000000000000156f6115d37df6edb00000000000000015d15baba0bfe31bb5d15bac80df5bbfb00000006000000020000000000000002000000000000000a0000000000000014010001810100000005e11b06000000006e7bda86";
const V40_OPEN_CONFIRM: &str = "80000094000000090000000000000002000186a30000000400000001000000010000001c0000000000000007636c69656e74310000000000000000000000000000000000000000000000000f73745f6c6f636b2e70793a6f70656e0000000000000000020000001600000014010001810100000005e11b06000000006e7bda86000000140000000156f6115d37df6edb0000000000000001";
const V40_OPEN_CONFIRM_R: &str = "80000054000000090000000100000000000000000000000000000000000000000000000f73745f6c6f636b2e70793a6f70656e4f00000002000000160000000000000014000000000000000256f6115d37df6edb00000000";
const V40_LOCK: &str = "800000d00000000a0000000000000002000186a30000000400000001000000010000001c0000000000000007636c69656e74310000000000000000000000000000000000000000000000000f73745f6c6f636b2e70793a6c6f636b0000000000000000020000001600000014010001810100000005e11b06000000006e7bda860000000c00000001000000000000000000000000ffffffffffffffff00000001000000020000000256f6115d37df6edb000000000000000056f6115d37df6edb000000106c6f636b6f776e65725f4c4f434b3234";
const V40_LOCK_R: &str = "800000540000000a0000000100000000000000000000000000000000000000000000000f73745f6c6f636b2e70793a6c6f636b440000000200000016000000000000000c000000000000000156f6115d37df6edb01000000";
const V40_LOCKU: &str = "800000ac0000000c0000000000000002000186a30000000400000001000000010000001c0000000000000007636c69656e74310000000000000000000000000000000000000000000000001173745f6c6f636b2e70793a756e6c6f636b00000000000000000000020000001600000014010001810100000005e11b06000000006e7bda860000000e00000001000000010000000156f6115d37df6edb010000000000000000000000ffffffffffffffff";
const V40_LOCKU_R: &str = "800000580000000c0000000100000000000000000000000000000000000000000000001173745f6c6f636b2e70793a756e6c6f636b0000020000000200000016000000000000000e000000000000000256f6115d37df6edb01000000";
const V40_LOCK_BAD_SEQID_R: &str = "800000440000000e00000001000000000000000000000000000000000000272a0000000f73745f6c6f636b2e70793a6c6f636b630000000200000016000000000000000c0000272a";

// linux-nfs-ml/2022-03-29__netpart-reconnect.pcapng (NFSv4.1), frames 77-78 and 445-462.
const V41_LOCK: &str = "80000100981e23db0000000000000002000186a30000000400000001000000010000002000000000000000086e6673766d65323400000000000000000000000100000000000000000000000000000000000000010000000300000035ed3f566163393032040000000000000000000018000000000000000000000001000000160000002801000781800000020000000049911076219b48e0ba87135e69cff2f98400000200000000467cfa140000000c000000020000000000000000000000000000000000000001000000010000000000000001ed3f5661633930320100000000000000ed3f566163393032000000146c6f636b2069643a000000250000000000000000";
const V41_LOCK_R: &str = "80000070981e23db00000001000000000000000000000000000000000000000000000000000000030000003500000000ed3f566163393032040000000000000000000018000000000000001d0000001d0000000000000016000000000000000c0000000000000001ed3f56616339303202000000";
const V41_BADSESSION_R: &str = "8000002c991e23db00000001000000000000000000000000000000000000274400000000000000010000003500002744";
const V41_STALE_CLIENTID_R: &str = "8000002c9b1e23db00000001000000000000000000000000000000000000272600000000000000010000002b00002726";
const V41_EXCHANGE_ID: &str = "800000f09c1e23db0000000000000002000186a30000000400000001000000010000001c00000000000000086e6673766d65323400000000000000000000000000000000000000000000000000000001000000010000002a16a9ba935b7b897e000000164c696e7578204e465376342e31206e6673766d65323400000000010300000000000000010000000a6b65726e656c2e6f72670000000000494c696e757820352e31352e302d7263315f637376352b20233120534d5020505245454d505420547565205365702032382032333a31373a313620474d542032303231207838365f3634000000000000000000000000000000";
const V41_EXCHANGE_ID_R: &str = "800000849c1e23db00000001000000000000000000000000000000000000000000000000000000010000002a00000000ed3f5661643930320000000100020001000000000000000000000000000000166e6673766d6430382e75732e6f7261636c652e636f6d0000000000166e6673766d6430382e75732e6f7261636c652e636f6d000000000000";
const V41_CREATE_SESSION: &str = "800000c49d1e23db0000000000000002000186a30000000400000001000000010000001c00000000000000086e6673766d65323400000000000000000000000000000000000000000000000000000001000000010000002bed3f566164393032000000010000000300000000001004140010038800001da0000000080000004000000000000000000000100000001000000000000000000200000010000000004000000000000001000000015b7b897e000000086e6673766d653234000000000000000000000000";
const V41_CREATE_SESSION_R: &str = "8000007c9d1e23db00000001000000000000000000000000000000000000000000000000000000010000002b00000000ed3f5661643930320500000000000000000000010000000200000000001004140010038800000850000000080000001e0000000000000000000010000000100000000000000000020000001000000000";
const V41_OPEN_CLAIM_PREVIOUS: &str = "800000f49f1e23db0000000000000002000186a30000000400000001000000010000002000000000000000086e6673766d65323400000000000000000000000100000000000000000000000000000000000000010000000400000035ed3f566164393032050000000000000000000002000000000000000000000001000000160000002801000781800000020000000049911076219b48e0ba87135e69cff2f98400000200000000467cfa1400000012000000000000000300000000ed3f566164393032000000186f70656e2069643a000000250000000000009c0072468d96000000000000000100000000000000090000000100100002";
const V41_OPEN_NO_GRACE_R: &str = "800000609f1e23db00000001000000000000000000000000000000000000273100000000000000030000003500000000ed3f566164393032050000000000000000000002000000000000001d0000001d0000000000000016000000000000001200002731";

// linux-nfs-ml/2021-07-15__nfs_lock_smb_lock.pcapng (NFSv4.1), frames 7-9, 23, 25.
const V41_OPEN_READ_DELEG_R: &str = "8000016027a6bc2c000000010000000000000000000000000000000000000000000000000000000500000035000000000ba8df60e77ded3b070000000000000000000567000000000000001d0000001d0000000000000016000000000000001200000000000000010ba8df60e77ded3b24000000000000000000000000000000000000000000000000000024000000010000000000000001000000010ba8df60e77ded3b25000000000000000000000000000000000000000000000000000003000000000000002d0000000d0000000900000000000000020010011a00b0a23a000000800000000160ef6bda0c3f5482000000000004bdf00753979c3c8a4e5cb1a62a7f36e10a8f000000000c37a7f70000018000000001000000013000000000000001300000000000000000000000000000000004c0000000000060ef63e10952e39c0000000060ef6bda0c3f54820000000060ef6bda0c80cf16000000000c37a7f7";
const V41_LOCK_WRITEW: &str = "8000011028a6bc2c0000000000000002000186a30000000400000001000000010000003000000000000000166e6673766d6430372e75732e6f7261636c652e636f6d0000000000000000000000000001000000000000000000000000000000000000000100000003000000350ba8df60e77ded3b070000000000000000000568000000000000000000000001000000160000002801000781cea7370c000000000753979c3c8a4e5cb1a62a7f36e10a8ff7a7370c00000000ead6d09a0000000c000000040000000000000000000000000000000005f5e1000000000100000000000000010ba8df60e77ded3b24000000000000000ba8df60e77ded3b000000146c6f636b2069643a000000280000000000000000";
const CB_RECALL: &str = "800000d03223a8200000000000000002400000000000000100000001000000010000002c00000000000000166e6673766d6632342e75732e6f7261636c652e636f6d00000000000000000000000000000000000000000000000000000000000100000000000000020000000b0ba8df60e77ded3b0700000000000000000000080000000000000000000000000000000000000004000000010ba8df60e77ded3b25000000000000000000002801000781cea7370c000000000753979c3c8a4e5cb1a62a7f36e10a8ff7a7370c00000000ead6d09a";
const CB_RECALL_R: &str = "800000543223a82000000001000000000000000000000000000000000000000000000000000000020000000b000000000ba8df60e77ded3b070000000000000000000008000000000000000f0000000f0000000400000000";

// linux-nfs-ml/2019-10-16__yyy.pcap (NFSv4.2 COPY), frames 1-2.
const V42_COPY: &str = "8000012c50aff6100000000000000002000186a3000000040000000100000001000000345da63a39000000166e667376342d6c6170746f702e686f6d652e7269636b00000000000000000000000000020000000000000005000000000000000000000004436f7079000000020000000700000035d872a65d5f1b88f301000000000000000007b2d7000000000000000000000001000000160000001001000101000000000c000000eafa22800000002000000009000000024010011b0030a23a000000160000001001000101000000000d0000004d62b6a40000003c00000001d872a65d5f1b88f3f804000000000001d872a65d5f1b88f3f904000000000000000c000a00000000000c000a000000000000000200000001000000010000000000000009000000024010011b0030a20a";

// linux-nfs-ml/2026-05-13__pnfs_failing_recall.pcapng, frames 1141, 1147, 1149.
const V41_GETDEVICEINFO_R: &str = "800000904a0e8907000000010000000000000000000000000000000000000000000000000000000200000035000000000200000000a000000200000000a000000000000f000000000000003f0000003f000000000000002f00000000000000010000002c0000000100000000000000010000000100000003746370000000000d3132372e302e302e312e382e3100000000000000";
const CB_LAYOUTRECALL: &str = "800000dcc4de1ac3000000000000000240000000000000010000000100000001000000240000edb300000010566173742d646174612d7365727665720000000000000000000000000000000000000000000000000000000100000000000000020000000b0200000000a000000200000000a0000000000001000000000000000f00000000000000000000000500000001000000020000000000000001000000200000ce98a3b50df7b7740000000000000200000000a00000010000000aa000000000000000000000ffffffffffffffff00000002010000000aa0000000000000";
const CB_LAYOUTRECALL_R: &str = "80000054c4de1ac300000001000000000000000000000000000000000000274c00000000000000020000000b000000000200000000a000000200000000a0000000000001000000000000000f0000000f000000050000274c";

#[test]
fn v40_setclientid_call_and_reply() {
    let rec = record(V40_SETCLIENTID);
    let c = compound(&rec);
    assert_eq!(c.tag.0, b"st_lock.py:testOpenUpgradeLock");
    assert_eq!((c.minorversion(), nums(&c)), (0, vec![35]));
    let OpArgs::Setclientid(s) = &c.ops[0].args else {
        panic!()
    };
    assert_eq!(s.id.0, b"client1_pid9090");
    assert_eq!(
        s.verifier.0,
        &[0x41, 0xd7, 0x45, 0x6e, 0xb2, 0x3d, 0xf6, 0x5e]
    );
    assert_eq!(s.cb_location.to_string(), "tcp:0.0.0.0.0.0");
    assert_eq!(c.cb_programs(), vec![0x4000_3039]);
    assert_eq!(c.to_string(), "SETCLIENTID(\"client1_pid9090\")");
    let rec = record(V40_SETCLIENTID_R);
    let r = compound_res(&rec);
    let OpRes::Setclientid(session::SetclientidRes::Ok {
        clientid,
        setclientid_confirm,
    }) = &r.ops[0]
    else {
        panic!("{r:?}")
    };
    assert_eq!(*clientid, 0x56f6_115d_37df_6edb);
    assert_eq!(setclientid_confirm.hex(), "c8ba155d258b1266");
    assert_eq!(
        r.to_string(),
        "NFS4_OK SETCLIENTID ok clientid 56f6115d37df6edb"
    );
}

#[test]
fn v40_open_create_and_confirm() {
    let rec = record(V40_OPEN);
    let c = compound(&rec);
    assert_eq!(nums(&c), vec![24, 15, 15, 18, 10]);
    let OpArgs::Open(o) = &c.ops[3].args else {
        panic!()
    };
    assert_eq!((o.seqid, o.share_access, o.share_deny), (0, 1, 0));
    assert_eq!(o.owner.clientid, 0x56f6_115d_37df_6edb);
    assert_eq!(o.owner.owner.0, b"LOCK24");
    assert!(!o.is_reclaim());
    let Some(open::CreateHow::Unchecked { createattrs }) = &o.create else {
        panic!("{:?}", o.create)
    };
    assert_eq!(createattrs.u32(attrs::FATTR4_MODE), Some(0o644));
    assert!(matches!(o.claim, OpenClaim::Null { file } if file.0 == b"LOCK24"));
    assert_eq!(
        c.to_string(),
        "PUTROOTFH LOOKUP(nfsroot) LOOKUP(tmp) OPEN(CLAIM_NULL LOCK24, read, create) GETFH"
    );

    let rec = record(V40_OPEN_R);
    let r = compound_res(&rec);
    assert_eq!(
        res_nums(&r),
        vec![(24, 0), (15, 0), (15, 0), (18, 0), (10, 0)]
    );
    let OpRes::Open(o) = &r.ops[3] else { panic!() };
    assert_eq!(o.stateid.seqid, 1);
    assert_eq!(o.stateid.other.hex(), "56f6115d37df6edb00000000");
    assert_eq!(o.rflags, 6);
    assert!(o.attrset.contains(33));
    assert_eq!(o.delegation, OpenDelegation::None);
    let OpRes::Getfh(g) = &r.ops[4] else { panic!() };
    // tshark: [hash (CRC-32): 0x38bf83f3]
    assert_eq!(g.fh.hash(), 0x38bf_83f3);
    assert_eq!(
        r.to_string(),
        "NFS4_OK PUTROOTFH ok LOOKUP ok LOOKUP ok OPEN ok stateid 1:56f6115d…00000000 rflags=CONFIRM|LOCKTYPE_POSIX GETFH ok fh 0x38bf83f3"
    );

    let rec = record(V40_OPEN_CONFIRM);
    let c = compound(&rec);
    let OpArgs::OpenConfirm {
        open_stateid,
        seqid,
    } = &c.ops[1].args
    else {
        panic!()
    };
    assert_eq!((open_stateid.seqid, *seqid), (1, 1));
    assert_eq!(
        c.to_string(),
        "PUTFH(0x38bf83f3) OPEN_CONFIRM(1:56f6115d…00000000)"
    );
    let rec = record(V40_OPEN_CONFIRM_R);
    let r = compound_res(&rec);
    assert!(matches!(&r.ops[1], OpRes::OpenConfirm(s) if s.stateid.seqid == 2));
}

#[test]
fn v40_lock_new_owner_then_locku() {
    let rec = record(V40_LOCK);
    let c = compound(&rec);
    let OpArgs::Lock(l) = &c.ops[1].args else {
        panic!()
    };
    assert_eq!(
        (l.locktype, l.reclaim, l.offset, l.length),
        (1, false, 0, u64::MAX)
    );
    let open::Locker::NewOwner {
        open_seqid,
        open_stateid,
        lock_seqid,
        lock_owner,
    } = l.locker
    else {
        panic!()
    };
    assert_eq!((open_seqid, open_stateid.seqid, lock_seqid), (2, 2, 0));
    assert_eq!(lock_owner.owner.0, b"lockowner_LOCK24");
    assert_eq!(
        c.to_string(),
        "PUTFH(0x38bf83f3) LOCK(READ_LT, 0-eof, new owner, open 2:56f6115d…00000000)"
    );
    let rec = record(V40_LOCK_R);
    let r = compound_res(&rec);
    let OpRes::Lock(LockRes::Ok(ok)) = &r.ops[1] else {
        panic!()
    };
    assert_eq!(ok.lock_stateid.other.hex(), "56f6115d37df6edb01000000");

    let rec = record(V40_LOCKU);
    let c = compound(&rec);
    let OpArgs::Locku(u) = &c.ops[1].args else {
        panic!()
    };
    assert_eq!(
        (
            u.locktype,
            u.seqid,
            u.lock_stateid.seqid,
            u.offset,
            u.length
        ),
        (1, 1, 1, 0, u64::MAX)
    );
    assert_eq!(c.ops[1].to_string(), "LOCKU(0-eof, 1:56f6115d…01000000)");
    let rec = record(V40_LOCKU_R);
    let r = compound_res(&rec);
    assert!(matches!(&r.ops[1], OpRes::Locku(s) if s.stateid.seqid == 2));
}

#[test]
fn v40_lock_bad_seqid_reply() {
    let rec = record(V40_LOCK_BAD_SEQID_R);
    let r = compound_res(&rec);
    assert_eq!(r.status.name(), Some("NFS4ERR_BAD_SEQID"));
    assert_eq!(res_nums(&r), vec![(22, 0), (12, 10026)]);
    assert!(matches!(r.ops[1], OpRes::Status { op: 12, .. }));
    assert_eq!(
        r.to_string(),
        "NFS4ERR_BAD_SEQID PUTFH ok LOCK NFS4ERR_BAD_SEQID"
    );
}

#[test]
fn v41_reclaim_open_gets_no_grace() {
    let rec = record(V41_OPEN_CLAIM_PREVIOUS);
    let c = compound(&rec);
    assert_eq!((c.minorversion(), nums(&c)), (1, vec![53, 22, 18, 9]));
    let OpArgs::Open(o) = &c.ops[2].args else {
        panic!()
    };
    assert_eq!(o.claim, OpenClaim::Previous { delegate_type: 0 });
    assert!(o.is_reclaim() && o.create.is_none());
    assert_eq!(o.share_access, 3);
    assert_eq!(o.owner.owner.0.len(), 24);
    assert!(c.ops.iter().all(|op| op.note.is_none()));
    assert_eq!(
        c.to_string(),
        "SEQUENCE PUTFH(0xa3b8ae62) OPEN(CLAIM_PREVIOUS, both) GETATTR"
    );
    let rec = record(V41_OPEN_NO_GRACE_R);
    let r = compound_res(&rec);
    assert_eq!(r.status.0, status::NFS4ERR_NO_GRACE);
    assert_eq!(res_nums(&r), vec![(53, 0), (22, 0), (18, 10033)]);
    assert_eq!(r.minorversion_hint(), Some(1));
    assert_eq!(
        r.to_string(),
        "NFS4ERR_NO_GRACE SEQUENCE ok PUTFH ok OPEN NFS4ERR_NO_GRACE"
    );
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["status"], 10033);
    assert_eq!(j["status_name"], "NFS4ERR_NO_GRACE");
    assert_eq!(j["ops"][0]["name"], "SEQUENCE");
    assert_eq!(j["ops"][0]["slotid"], 0);
    assert_eq!(j["ops"][2]["op"], 18);
    assert_eq!(j["ops"][2]["status_name"], "NFS4ERR_NO_GRACE");
}

#[test]
fn v41_session_loss_replies() {
    let rec = record(V41_BADSESSION_R);
    let r = compound_res(&rec);
    assert_eq!(
        r.ops,
        vec![OpRes::Status {
            op: 53,
            status: Nfsstat4(status::NFS4ERR_BADSESSION)
        }]
    );
    assert_eq!(
        r.to_string(),
        "NFS4ERR_BADSESSION SEQUENCE NFS4ERR_BADSESSION"
    );
    let rec = record(V41_STALE_CLIENTID_R);
    let r = compound_res(&rec);
    assert_eq!(res_nums(&r), vec![(43, status::NFS4ERR_STALE_CLIENTID)]);
}

#[test]
fn v41_exchange_id_and_create_session() {
    let rec = record(V41_EXCHANGE_ID);
    let c = compound(&rec);
    let OpArgs::ExchangeId(x) = &c.ops[0].args else {
        panic!()
    };
    assert_eq!(x.owner.verifier.hex(), "16a9ba935b7b897e");
    assert_eq!(x.owner.ownerid.0, b"Linux NFSv4.1 nfsvme24");
    assert_eq!(x.flags, 0x103);
    assert_eq!(x.state_protect, session::StateProtectA::None);
    let id = x.client_impl_id.unwrap();
    assert_eq!(id.domain.0, b"kernel.org");
    assert!(id.name.0.starts_with(b"Linux 5.15.0-rc1_csv5+"));
    assert_eq!(c.to_string(), "EXCHANGE_ID(\"Linux NFSv4.1 nfsvme24\")");
    let rec = record(V41_EXCHANGE_ID_R);
    let r = compound_res(&rec);
    let OpRes::ExchangeId(x) = &r.ops[0] else {
        panic!()
    };
    assert_eq!(
        (x.clientid, x.sequenceid, x.flags),
        (0xed3f_5661_6439_3032, 1, 0x0002_0001)
    );
    assert_eq!(x.server_owner.major_id.0, b"nfsvmd08.us.oracle.com");
    assert_eq!(x.server_scope.0, b"nfsvmd08.us.oracle.com");
    assert!(x.server_impl_id.is_none());

    let rec = record(V41_CREATE_SESSION);
    let c = compound(&rec);
    let OpArgs::CreateSession(s) = &c.ops[0].args else {
        panic!()
    };
    assert_eq!(
        (s.clientid, s.sequence, s.flags),
        (0xed3f_5661_6439_3032, 1, 3)
    );
    assert_eq!(s.fore_chan_attrs.maxrequestsize, 1_049_620);
    assert_eq!(s.back_chan_attrs.maxrequests, 16);
    assert_eq!(c.cb_programs(), vec![0x4000_0000]);
    let session::CbSecParms::AuthSys {
        stamp, machinename, ..
    } = &s.sec_parms[0]
    else {
        panic!()
    };
    assert_eq!((*stamp, machinename.0), (1_534_822_782, &b"nfsvme24"[..]));
    let rec = record(V41_CREATE_SESSION_R);
    let r = compound_res(&rec);
    let OpRes::CreateSession(s) = &r.ops[0] else {
        panic!()
    };
    assert_eq!(s.sessionid.hex(), "ed3f5661643930320500000000000000");
    assert_eq!(
        (
            s.flags,
            s.fore_chan_attrs.maxresponsesize_cached,
            s.fore_chan_attrs.maxrequests
        ),
        (2, 2128, 30)
    );
}

#[test]
fn v41_lock_write_and_writew() {
    let rec = record(V41_LOCK);
    let c = compound(&rec);
    let OpArgs::Lock(l) = &c.ops[2].args else {
        panic!()
    };
    assert_eq!((l.locktype, l.offset, l.length), (2, 0, 1));
    assert!(
        matches!(l.locker, open::Locker::NewOwner { lock_owner, .. } if lock_owner.owner.0.len() == 20)
    );
    let rec = record(V41_LOCK_R);
    let r = compound_res(&rec);
    let OpRes::Lock(LockRes::Ok(ok)) = &r.ops[2] else {
        panic!()
    };
    assert_eq!(ok.lock_stateid.to_string(), "1:ed3f5661…02000000");

    let rec = record(V41_LOCK_WRITEW);
    let c = compound(&rec);
    let OpArgs::Lock(l) = &c.ops[2].args else {
        panic!()
    };
    assert_eq!((l.locktype, l.length), (4, 100_000_000));
    assert!(c
        .to_string()
        .ends_with("LOCK(WRITEW_LT, 0+100000000, new owner, open 1:0ba8df60…24000000)"));
}

#[test]
fn v41_open_with_read_delegation_and_attrs() {
    let rec = record(V41_OPEN_READ_DELEG_R);
    let r = compound_res(&rec);
    assert_eq!(
        res_nums(&r),
        vec![(53, 0), (22, 0), (18, 0), (3, 0), (9, 0)]
    );
    let OpRes::Open(o) = &r.ops[2] else { panic!() };
    let OpenDelegation::Read {
        stateid, recall, ..
    } = &o.delegation
    else {
        panic!()
    };
    assert_eq!(
        (stateid.other.hex().as_str(), *recall),
        ("0ba8df60e77ded3b25000000", false)
    );
    let OpRes::Getattr(g) = &r.ops[4] else {
        panic!()
    };
    let a = &g.obj_attributes;
    assert!(a.undecoded.is_empty());
    assert_eq!(a.u64(attrs::FATTR4_SIZE), Some(310_768));
    assert_eq!(a.u64(attrs::FATTR4_FILEID), Some(204_974_071));
    assert_eq!(a.u32(attrs::FATTR4_MODE), Some(0o600));
    assert_eq!(a.u64(attrs::FATTR4_CHANGE), Some(6_984_920_131_327_448_194));
    assert_eq!(a.u64(55), Some(0x0c37_a7f7));
    assert!(r
        .to_string()
        .contains("OPEN ok stateid 1:0ba8df60…24000000 deleg read 1:0ba8df60…25000000 ACCESS ok"));
}

#[test]
fn callback_recall_and_reply() {
    let rec = record(CB_RECALL);
    let (prog, vers, proc_, body) = call_body(&rec);
    assert_eq!((prog, vers, proc_), (0x4000_0000, 1, 1));
    let c = cb::decode_call(vers, proc_, body).unwrap();
    assert_eq!((c.minorversion(), c.callback_ident), (1, 0));
    assert_eq!(
        c.ops.iter().map(|o| o.num()).collect::<Vec<_>>(),
        vec![11, 4]
    );
    let cb::CbArgs::Recall {
        stateid,
        truncate,
        fh,
    } = &c.ops[1].args
    else {
        panic!()
    };
    assert_eq!((stateid.seqid, *truncate, fh.0 .0.len()), (1, false, 40));
    assert_eq!(
        c.to_string(),
        format!("cb_ident 0 CB_SEQUENCE CB_RECALL(1:0ba8df60…25000000, {fh})")
    );
    let xid = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
    let rrec = record(CB_RECALL_R);
    let calls = HashMap::from([(xid, (0x4000_0000, 1, 1, 1))]);
    let Some(RpcMsg::Reply { body: Some(b), .. }) = rpc_split(&rrec, &calls) else {
        panic!()
    };
    let r = cb::decode_reply(1, 1, b).unwrap();
    assert_eq!(r.to_string(), "NFS4_OK CB_SEQUENCE ok CB_RECALL ok");
    let cb::CbRes::Sequence(s) = &r.ops[0] else {
        panic!()
    };
    assert_eq!(
        (s.sequenceid, s.highest_slotid, s.target_highest_slotid),
        (8, 15, 15)
    );
}

#[test]
fn v42_copy_call() {
    let rec = record(V42_COPY);
    let c = compound(&rec);
    assert_eq!(c.tag.0, b"Copy");
    assert_eq!(
        (c.minorversion(), nums(&c)),
        (2, vec![53, 22, 32, 9, 22, 60, 9])
    );
    let OpArgs::Copy {
        src_stateid,
        dst_stateid,
        src_offset,
        dst_offset,
        count,
        consecutive,
        synchronous,
        source_servers,
    } = &c.ops[5].args
    else {
        panic!()
    };
    assert_eq!(src_stateid.other.hex(), "d872a65d5f1b88f3f8040000");
    assert_eq!(dst_stateid.other.hex(), "d872a65d5f1b88f3f9040000");
    assert_eq!((*src_offset, *dst_offset, *count), (786_442, 786_442, 2));
    assert!(*consecutive && *synchronous && source_servers.is_empty());
}

#[test]
fn pnfs_getdeviceinfo_and_layoutrecall() {
    let rec = record(V41_GETDEVICEINFO_R);
    let r = compound_res(&rec);
    let OpRes::Getdeviceinfo(res::GetdeviceinfoRes::Ok {
        device_addr,
        notification,
    }) = &r.ops[1]
    else {
        panic!()
    };
    assert_eq!((device_addr.layout_type, device_addr.body.0.len()), (1, 44));
    assert!(notification.is_empty());

    let rec = record(CB_LAYOUTRECALL);
    let (_, vers, proc_, body) = call_body(&rec);
    let c = cb::decode_call(vers, proc_, body).unwrap();
    let cb::CbArgs::Layoutrecall {
        layout_type,
        iomode,
        changed,
        recall,
    } = &c.ops[1].args
    else {
        panic!()
    };
    assert_eq!((*layout_type, *iomode, *changed), (1, 2, false));
    let cb::LayoutRecall::File {
        fh,
        offset,
        length,
        stateid,
    } = recall
    else {
        panic!()
    };
    assert_eq!(
        (fh.0 .0.len(), *offset, *length, stateid.seqid),
        (32, 0, u64::MAX, 2)
    );
    assert_eq!(stateid.other.hex(), "010000000aa0000000000000");
    let xid = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
    let rrec = record(CB_LAYOUTRECALL_R);
    let calls = HashMap::from([(xid, (0x4000_0000, 1, 1, 1))]);
    let Some(RpcMsg::Reply { body: Some(b), .. }) = rpc_split(&rrec, &calls) else {
        panic!()
    };
    let r = cb::decode_reply(1, 1, b).unwrap();
    assert_eq!(
        r.to_string(),
        "NFS4ERR_NOMATCHING_LAYOUT CB_SEQUENCE ok CB_LAYOUTRECALL NFS4ERR_NOMATCHING_LAYOUT"
    );
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["ops"][1]["status"], 10060);
    assert_eq!(j["ops"][0]["sequenceid"], 1);
}

/// Every prefix of every real body decodes without panicking, and whatever it yields
/// is a prefix of the full decoding.
#[test]
fn all_prefixes_of_real_bodies() {
    let calls = [
        V40_SETCLIENTID,
        V40_OPEN,
        V40_LOCK,
        V41_LOCK,
        V41_EXCHANGE_ID,
        V41_CREATE_SESSION,
        V41_OPEN_CLAIM_PREVIOUS,
        V42_COPY,
    ];
    for hex in calls {
        let rec = record(hex);
        let (_, _, _, body) = call_body(&rec);
        let full = decode_call(4, 1, body).unwrap();
        assert!(full.stopped.is_none());
        for n in 0..body.len() {
            if let Ok(c) = decode_call(4, 1, &body[..n]) {
                assert!(c.ops.len() < full.ops.len() || c.stopped.is_none());
                assert_eq!(c.ops[..], full.ops[..c.ops.len()]);
                assert!(c.stopped.is_some() || c.ops.len() == full.ops.len());
            }
        }
    }
    let replies = [
        V40_SETCLIENTID_R,
        V40_OPEN_R,
        V40_LOCK_R,
        V41_OPEN_READ_DELEG_R,
        V41_EXCHANGE_ID_R,
        V41_CREATE_SESSION_R,
        V41_OPEN_NO_GRACE_R,
        V41_GETDEVICEINFO_R,
    ];
    for hex in replies {
        let rec = record(hex);
        let body = reply_body(&rec);
        let full = decode_reply(4, 1, body).unwrap();
        assert!(full.stopped.is_none());
        for n in 0..body.len() {
            match decode_reply(4, 1, &body[..n]) {
                Ok(r) => {
                    assert_eq!(r.ops[..], full.ops[..r.ops.len()]);
                    assert!(
                        r.stopped.is_some(),
                        "prefix {n} of {} decoded as complete",
                        body.len()
                    );
                    assert_eq!(r.status, full.status);
                }
                Err(_) => assert!(n < 4),
            }
        }
    }
    for hex in [CB_RECALL, CB_LAYOUTRECALL] {
        let rec = record(hex);
        let (_, _, _, body) = call_body(&rec);
        let full = cb::decode_call(1, 1, body).unwrap();
        for n in 0..body.len() {
            if let Ok(c) = cb::decode_call(1, 1, &body[..n]) {
                assert_eq!(c.ops[..], full.ops[..c.ops.len()]);
                assert!(c.stopped.is_some());
            }
        }
    }
}
