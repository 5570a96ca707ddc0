//! Tests on encoded vectors for the callback program: every callback operation's
//! arguments, the results, minor-version notes and unknown operations.

use super::cb::{self, CbArgs, CbRes};
use super::tests_enc::{ace, fattr, owner, sid, wresp, Put};
use super::*;
use crate::xdr::Enc;

type CbCase = (u32, Put, fn(&CbArgs<'_>) -> bool);

/// Every callback operation's arguments, each with a check.
#[rustfmt::skip]
fn all_cb_args() -> Vec<CbCase> {
    use CbArgs as A;
    vec![
        (3, |e| { e.opaque(&[1; 16]).u32(1).u32(0x18); }, |a| matches!(a, A::Getattr { attr_request, .. } if attr_request.contains(3))),
        (4, |e| { sid(e, 4); e.bool(true).opaque(&[2; 16]); }, |a| matches!(a, A::Recall { truncate: true, stateid, .. } if stateid.seqid == 4)),
        (5, |e| { e.u32(1).u32(3).bool(true).u32(2).u64(7).u64(8); }, |a| {
            matches!(a, A::Layoutrecall { changed: true, recall: cb::LayoutRecall::Fsid { fsid }, .. } if fsid.minor == 8)
        }),
        (5, |e| { e.u32(1).u32(3).bool(false).u32(3); }, |a| matches!(a, A::Layoutrecall { recall: cb::LayoutRecall::All, .. })),
        (6, |e| { sid(e, 6); e.opaque(&[3; 8]).u32(1).u32(1).u32(2).opaque(b"vals"); }, |a| {
            matches!(a, A::Notify { changes, .. } if changes[0].vals.0 == b"vals" && changes[0].mask.contains(1))
        }),
        (7, |e| { e.opaque(&[4; 8]).u32(1); sid(e, 7); e.bool(false); ace(e); }, |a| {
            matches!(a, A::PushDeleg { delegation: OpenDelegation::Read { stateid, .. }, .. } if stateid.seqid == 7)
        }),
        (8, |e| { e.u32(10).u32(1).u32(3); }, |a| matches!(a, A::RecallAny { objects_to_keep: 10, .. })),
        (9, |e| { e.u32(11).u32(1).u32(1); }, |a| matches!(a, A::RecallableObjAvail { objects_to_keep: 11, .. })),
        (10, |e| { e.u32(4); }, |a| matches!(a, A::RecallSlot { target_highest_slotid: 4 })),
        (11, |e| { e.fixed(&[6; 16]).u32(2).u32(0).u32(0).bool(true).u32(1).fixed(&[7; 16]).u32(1).u32(5).u32(3); }, |a| {
            matches!(a, A::Sequence(s) if s.cachethis && s.referring_call_lists[0].calls[0] == cb::ReferringCall { sequenceid: 5, slotid: 3 })
        }),
        (12, |e| { e.bool(true).bool(false); }, |a| {
            matches!(a, A::WantsCancelled { contended_wants_cancelled: true, resourced_wants_cancelled: false })
        }),
        (13, |e| { e.opaque(&[8; 8]); owner(e); }, |a| matches!(a, A::NotifyLock { lock_owner, .. } if lock_owner.owner.0 == b"owner")),
        (14, |e| { e.u32(1).u32(1).u32(4).opaque(b"dev"); }, |a| matches!(a, A::NotifyDeviceid { changes } if changes.len() == 1)),
        (15, |e| { e.opaque(&[9; 8]); sid(e, 15); e.u32(0); wresp(e); }, |a| {
            matches!(a, A::Offload { info, .. } if info.response.unwrap().count == 100 && info.bytes_copied.is_none())
        }),
        (15, |e| { e.opaque(&[9; 8]); sid(e, 15); e.u32(10008).u64(4096); }, |a| {
            matches!(a, A::Offload { info, .. } if info.bytes_copied == Some(4096) && info.status.0 == 10008)
        }),
        (10044, |_| {}, |a| matches!(a, A::Void)),
    ]
}

#[test]
fn every_callback_operation() {
    let table = all_cb_args();
    let mut e = Enc::new();
    e.string("cb").u32(2).u32(7).u32(table.len() as u32);
    for (op, put, _) in &table {
        e.u32(*op);
        put(&mut e);
    }
    let c = cb::decode_call(1, 1, &e.buf).unwrap();
    assert_eq!(
        (c.minorversion(), c.callback_ident, c.stopped.clone()),
        (2, 7, None)
    );
    assert_eq!(c.ops.len(), table.len());
    for ((op, _, check), got) in table.iter().zip(&c.ops) {
        assert_eq!(got.op, *op);
        assert!(check(&got.args), "cb op {op} decoded as {:?}", got.args);
        assert!(got.note.is_none());
    }
    for op in (3..=15).chain([10044]) {
        assert!(
            table.iter().any(|(o, _, _)| *o == op),
            "cb op {op} not covered"
        );
    }
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["callback_ident"], 7);
    assert_eq!(j["ops"][1]["name"], "CB_RECALL");
    assert_eq!(j["ops"][1]["truncate"], true);
    // Prefixes never panic and keep what they decoded.
    for n in 0..e.buf.len() {
        if let Ok(p) = cb::decode_call(1, 1, &e.buf[..n]) {
            assert_eq!(p.ops[..], c.ops[..p.ops.len()]);
        }
    }
    // 4.1 callbacks in a 4.0 CB_COMPOUND are noted; unknown ones stop the decoding.
    let mut e = Enc::new();
    e.string("")
        .u32(0)
        .u32(1)
        .u32(3)
        .u32(10)
        .u32(4)
        .u32(10)
        .u32(5)
        .u32(33)
        .u32(0);
    let c = cb::decode_call(1, 1, &e.buf).unwrap();
    assert_eq!(c.ops[0].note, Some("operation not defined before NFSv4.1"));
    assert_eq!(
        c.stopped,
        Some(Stop {
            index: 2,
            reason: StopReason::UnknownOp { op: 33 }
        })
    );
    assert!(c
        .to_string()
        .contains("[stopped at op #2: unknown operation 33]"));
}

#[test]
fn callback_results() {
    let mut e = Enc::new();
    e.u32(10008).string("t").u32(4);
    e.u32(11).u32(0).fixed(&[6; 16]).u32(2).u32(0).u32(3).u32(3);
    e.u32(3).u32(0);
    fattr(&mut e);
    e.u32(4).u32(0);
    e.u32(5).u32(10008);
    let r = cb::decode_reply(1, 1, &e.buf).unwrap();
    assert!(matches!(&r.ops[0], CbRes::Sequence(s) if s.target_highest_slotid == 3));
    assert!(matches!(&r.ops[1], CbRes::Getattr(g) if g.obj_attributes.u64(4) == Some(4096)));
    assert_eq!(
        r.ops[2],
        CbRes::Status {
            op: 4,
            status: Nfsstat4::OK
        }
    );
    assert_eq!(r.ops[3].status().0, 10008);
    assert_eq!(
        r.to_string(),
        "NFS4ERR_DELAY CB_SEQUENCE ok CB_GETATTR ok CB_RECALL ok CB_LAYOUTRECALL NFS4ERR_DELAY"
    );
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["status_name"], "NFS4ERR_DELAY");
    assert_eq!(j["ops"][1]["obj_attributes"]["attrs"]["size"], 4096);
    assert_eq!(j["ops"][3]["status_name"], "NFS4ERR_DELAY");
    // The illegal callback result and an unknown one.
    let mut e = Enc::new();
    e.u32(10044)
        .string("")
        .u32(2)
        .u32(10044)
        .u32(10044)
        .u32(99)
        .u32(0);
    let r = cb::decode_reply(1, 1, &e.buf).unwrap();
    assert_eq!(r.ops[0].name(), "CB_ILLEGAL");
    assert_eq!(
        r.stopped,
        Some(Stop {
            index: 1,
            reason: StopReason::UnknownOp { op: 99 }
        })
    );
    assert!(cb::decode_call(1, 0, &[]).unwrap().ops.is_empty());
}
