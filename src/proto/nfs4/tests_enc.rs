//! Tests on encoded vectors: every operation's arguments and result (the captures do
//! not cover them all), every callback, the error arms with data, and hostile input.

use super::cb;
use super::open::{Locker, OpenClaim};
use super::res::*;
use super::session::CbSecParms;
use super::*;
use crate::xdr::Enc;

pub(super) type Put = fn(&mut Enc);
type ArgCase = (u32, Put, fn(&OpArgs<'_>) -> bool);

pub(super) fn sid(e: &mut Enc, seq: u32) {
    e.u32(seq).fixed(&[seq as u8; 12]);
}

/// fattr4 with size = 4096.
pub(super) fn fattr(e: &mut Enc) {
    e.u32(1).u32(1 << 4).opaque(&4096u64.to_be_bytes());
}

pub(super) fn cinfo(e: &mut Enc) {
    e.bool(true).u64(1).u64(2);
}

pub(super) fn ace(e: &mut Enc) {
    e.u32(0).u32(0).u32(0x1f).string("OWNER@");
}

pub(super) fn owner(e: &mut Enc) {
    e.u64(0x1122_3344_5566_7788).opaque(b"owner");
}

pub(super) fn chan(e: &mut Enc) {
    e.u32(0)
        .u32(1 << 20)
        .u32(1 << 20)
        .u32(4096)
        .u32(8)
        .u32(16)
        .u32(0);
}

pub(super) fn wresp(e: &mut Enc) {
    e.u32(0).u64(100).u32(2).fixed(&[4; 8]);
}

fn call_with(minor: u32, ops: &[(u32, Put)]) -> Vec<u8> {
    let mut e = Enc::new();
    e.string("tag").u32(minor).u32(ops.len() as u32);
    for (op, put) in ops {
        e.u32(*op);
        put(&mut e);
    }
    e.buf
}

pub(super) fn reply_with(status: u32, ops: &[(u32, u32, Put)]) -> Vec<u8> {
    let mut e = Enc::new();
    e.u32(status).string("tag").u32(ops.len() as u32);
    for (op, st, put) in ops {
        e.u32(*op).u32(*st);
        put(&mut e);
    }
    e.buf
}

/// Arguments of every operation, each with a check on what decodes.
#[rustfmt::skip]
fn all_args() -> Vec<ArgCase> {
    use OpArgs as A;
    vec![
        (3, |e| { e.u32(0x3f); }, |a| matches!(a, A::Access { access: 0x3f })),
        (4, |e| { e.u32(5); sid(e, 2); }, |a| matches!(a, A::Close { seqid: 5, open_stateid } if open_stateid.seqid == 2)),
        (5, |e| { e.u64(10).u32(20); }, |a| matches!(a, A::Commit { offset: 10, count: 20 })),
        (6, |e| { e.u32(5).string("target").string("link"); fattr(e); }, |a| {
            matches!(a, A::Create { objtype, objname, createattrs }
                if objtype.linkdata.unwrap().0 == b"target" && objname.0 == b"link" && createattrs.u64(4) == Some(4096))
        }),
        (6, |e| { e.u32(3).u32(8).u32(1).string("dev"); fattr(e); }, |a| {
            matches!(a, A::Create { objtype, .. } if objtype.devdata.unwrap().specdata1 == 8)
        }),
        (7, |e| { e.u64(7); }, |a| matches!(a, A::Delegpurge { clientid: 7 })),
        (8, |e| sid(e, 3), |a| matches!(a, A::Delegreturn { stateid } if stateid.seqid == 3)),
        (9, |e| { e.u32(2).u32(0x0010_011a).u32(0x00b0_a23a); }, |a| {
            matches!(a, A::Getattr { attr_request } if attr_request.contains(55) && attr_request.contains(1))
        }),
        (10, |_| {}, |a| matches!(a, A::Void)),
        (11, |e| { e.string("nl"); }, |a| matches!(a, A::Link { newname } if newname.0 == b"nl")),
        (12, |e| { e.u32(2).bool(true).u64(0).u64(u64::MAX).bool(false); sid(e, 4); e.u32(9); }, |a| {
            matches!(a, A::Lock(l) if l.reclaim && matches!(l.locker, Locker::Existing { lock_seqid: 9, .. }))
        }),
        (13, |e| { e.u32(2).u64(0).u64(10); owner(e); }, |a| {
            matches!(a, A::Lockt(l) if l.length == 10 && l.owner.owner.0 == b"owner")
        }),
        (14, |e| { e.u32(2).u32(3); sid(e, 5); e.u64(1).u64(2); }, |a| {
            matches!(a, A::Locku(l) if l.seqid == 3 && l.lock_stateid.seqid == 5 && l.length == 2)
        }),
        (15, |e| { e.string("dir"); }, |a| matches!(a, A::Lookup { objname } if objname.0 == b"dir")),
        (16, |_| {}, |a| matches!(a, A::Void)),
        (17, fattr, |a| matches!(a, A::Nverify { obj_attributes } if obj_attributes.u64(4) == Some(4096))),
        (18, |e| {
            e.u32(1).u32(2).u32(1);
            owner(e);
            e.u32(1).u32(2).fixed(&[7; 8]).u32(2);
            sid(e, 6);
            e.string("f");
        }, |a| {
            matches!(a, A::Open(o) if o.share_deny == 1
                && matches!(o.create, Some(open::CreateHow::Exclusive { .. }))
                && matches!(o.claim, OpenClaim::DelegateCur { delegate_stateid, file } if delegate_stateid.seqid == 6 && file.0 == b"f"))
        }),
        (19, |e| { e.bool(true); }, |a| matches!(a, A::Openattr { createdir: true })),
        (20, |e| { sid(e, 1); e.u32(2); }, |a| matches!(a, A::OpenConfirm { seqid: 2, .. })),
        (21, |e| { sid(e, 1); e.u32(3).u32(1).u32(0); }, |a| {
            matches!(a, A::OpenDowngrade { seqid: 3, share_access: 1, share_deny: 0, .. })
        }),
        (22, |e| { e.opaque(&[0xab; 40]); }, |a| matches!(a, A::Putfh { fh } if fh.0 .0.len() == 40)),
        (23, |_| {}, |a| matches!(a, A::Void)),
        (24, |_| {}, |a| matches!(a, A::Void)),
        (25, |e| { sid(e, 1); e.u64(4096).u32(512); }, |a| matches!(a, A::Read { offset: 4096, count: 512, .. })),
        (26, |e| { e.u64(3).fixed(&[1; 8]).u32(100).u32(200).u32(1).u32(3); }, |a| {
            matches!(a, A::Readdir { cookie: 3, dircount: 100, maxcount: 200, attr_request, .. } if attr_request.contains(1))
        }),
        (27, |_| {}, |a| matches!(a, A::Void)),
        (28, |e| { e.string("gone"); }, |a| matches!(a, A::Remove { target } if target.0 == b"gone")),
        (29, |e| { e.string("a").string("b"); }, |a| matches!(a, A::Rename { oldname, newname } if oldname.0 == b"a" && newname.0 == b"b")),
        (30, |e| { e.u64(30); }, |a| matches!(a, A::Renew { clientid: 30 })),
        (31, |_| {}, |a| matches!(a, A::Void)),
        (32, |_| {}, |a| matches!(a, A::Void)),
        (33, |e| { e.string("s"); }, |a| matches!(a, A::Secinfo { name } if name.0 == b"s")),
        (34, |e| { sid(e, 0); fattr(e); }, |a| matches!(a, A::Setattr { obj_attributes, .. } if obj_attributes.u64(4) == Some(4096))),
        (35, |e| { e.fixed(&[1; 8]).opaque(b"id").u32(0x4000_0001).string("tcp").string("1.2.3.4.5.6").u32(3); }, |a| {
            matches!(a, A::Setclientid(s) if s.cb_program == 0x4000_0001 && s.callback_ident == 3)
        }),
        (36, |e| { e.u64(35).fixed(&[2; 8]); }, |a| matches!(a, A::SetclientidConfirm { clientid: 35, .. })),
        (37, fattr, |a| matches!(a, A::Verify { .. })),
        (38, |e| { sid(e, 1); e.u64(8192).u32(2).opaque(&[0x55; 1000]); }, |a| {
            matches!(a, A::Write { offset: 8192, stable: 2, data, .. } if data.0.len() == 1000)
        }),
        (39, owner, |a| matches!(a, A::ReleaseLockowner { lock_owner } if lock_owner.clientid == 0x1122_3344_5566_7788)),
        (40, |e| { e.u32(0x4000_0002).u32(2).u32(0).u32(6).u32(1).opaque(b"s").opaque(b"c"); }, |a| {
            matches!(a, A::BackchannelCtl { cb_program: 0x4000_0002, sec_parms }
                if sec_parms.len() == 2 && matches!(sec_parms[1], CbSecParms::RpcsecGss { service: 1, .. }))
        }),
        (41, |e| { e.fixed(&[9; 16]).u32(3).bool(false); }, |a| matches!(a, A::BindConnToSession(b) if b.dir == 3)),
        (42, |e| { e.fixed(&[1; 8]).opaque(b"client").u32(1).u32(0).u32(0); }, |a| {
            matches!(a, A::ExchangeId(x) if x.owner.ownerid.0 == b"client" && x.client_impl_id.is_none())
        }),
        (43, |e| { e.u64(43).u32(1).u32(2); chan(e); chan(e); e.u32(0x4000_0003).u32(1).u32(0); }, |a| {
            matches!(a, A::CreateSession(c) if c.cb_program == 0x4000_0003 && c.sec_parms == vec![CbSecParms::AuthNone])
        }),
        (44, |e| { e.fixed(&[4; 16]); }, |a| matches!(a, A::DestroySession { sessionid } if sessionid.0 == [4; 16])),
        (45, |e| sid(e, 45), |a| matches!(a, A::FreeStateid { stateid } if stateid.seqid == 45)),
        (46, |e| { e.bool(true).u32(1).u32(6).u64(1).u32(0).u64(2).u32(0).u32(0).u32(1).u32(2); }, |a| {
            matches!(a, A::GetDirDelegation { signal_deleg_avail: true, notification_types, dir_attr_delay, dir_attributes, .. }
                if notification_types.contains(1) && dir_attr_delay.seconds == 2 && dir_attributes.contains(1))
        }),
        (47, |e| { e.fixed(&[7; 16]).u32(1).u32(4096).u32(1).u32(6); }, |a| {
            matches!(a, A::Getdeviceinfo { layout_type: 1, maxcount: 4096, notify_types, .. } if notify_types.contains(2))
        }),
        (48, |e| { e.u32(1).u32(16).u64(0).fixed(&[0; 8]); }, |a| matches!(a, A::Getdevicelist { maxdevices: 16, .. })),
        (49, |e| { e.u64(0).u64(100).bool(false); sid(e, 2); e.bool(true).u64(99).bool(true).u64(5).u32(0).u32(1).opaque(b"lu"); }, |a| {
            matches!(a, A::Layoutcommit { last_write_offset: Some(99), time_modify: Some(t), layoutupdate, .. }
                if t.seconds == 5 && layoutupdate.body.0 == b"lu")
        }),
        (50, |e| { e.bool(false).u32(1).u32(2).u64(0).u64(u64::MAX).u64(4096); sid(e, 1); e.u32(4096); }, |a| {
            matches!(a, A::Layoutget { iomode: 2, length: u64::MAX, minlength: 4096, .. })
        }),
        (51, |e| { e.bool(false).u32(1).u32(3).u32(1).u64(0).u64(10); sid(e, 3); e.opaque(b"body"); }, |a| {
            matches!(a, A::Layoutreturn { layoutreturn, .. } if layoutreturn.file.unwrap().body.0 == b"body")
        }),
        (51, |e| { e.bool(true).u32(1).u32(3).u32(3); }, |a| {
            matches!(a, A::Layoutreturn { reclaim: true, layoutreturn, .. } if layoutreturn.return_type == 3 && layoutreturn.file.is_none())
        }),
        (52, |e| { e.u32(1); }, |a| matches!(a, A::SecinfoNoName { style: 1 })),
        (53, |e| { e.fixed(&[5; 16]).u32(9).u32(2).u32(7).bool(true); }, |a| {
            matches!(a, A::Sequence(s) if s.sequenceid == 9 && s.slotid == 2 && s.highest_slotid == 7 && s.cachethis)
        }),
        (54, |e| { e.opaque(b"ssv").opaque(b"dig"); }, |a| matches!(a, A::SetSsv { ssv, .. } if ssv.0 == b"ssv")),
        (55, |e| { e.u32(2); sid(e, 1); sid(e, 2); }, |a| matches!(a, A::TestStateid { stateids } if stateids.len() == 2)),
        (56, |e| { e.u32(0x100).u32(1).u32(1); }, |a| {
            matches!(a, A::WantDelegation { want: 0x100, claim } if claim.delegate_type == Some(1))
        }),
        (57, |e| { e.u64(57); }, |a| matches!(a, A::DestroyClientid { clientid: 57 })),
        (58, |e| { e.bool(true); }, |a| matches!(a, A::ReclaimComplete { one_fs: true })),
        (59, |e| { sid(e, 1); e.u64(1).u64(2); }, |a| matches!(a, A::Allocate { offset: 1, length: 2, .. })),
        (60, |e| {
            sid(e, 1);
            sid(e, 2);
            e.u64(1).u64(2).u64(3).bool(false).bool(true).u32(2).u32(1).string("src").u32(2).string("nfs://x");
        }, |a| matches!(a, A::Copy { count: 3, synchronous: true, source_servers, .. } if source_servers.len() == 2)),
        (61, |e| { sid(e, 1); e.u32(3).string("tcp").string("10.0.0.2.8.1"); }, |a| {
            matches!(a, A::CopyNotify { destination_server: types::Netloc::Netaddr { .. }, .. })
        }),
        (62, |e| { sid(e, 1); e.u64(3).u64(4); }, |a| matches!(a, A::Deallocate { offset: 3, length: 4, .. })),
        (63, |e| { sid(e, 1); e.u64(0).u64(10).u32(1).u32(0x20); }, |a| matches!(a, A::IoAdvise { hints, .. } if hints.contains(5))),
        (64, |e| { e.u64(0).u64(10); sid(e, 1); e.u32(1).fixed(&[3; 16]).u32(5).u32(25); }, |a| {
            matches!(a, A::Layouterror { errors, .. } if errors[0].status.0 == 5 && errors[0].opnum == 25)
        }),
        (65, |e| { e.u64(0).u64(10); sid(e, 1); e.u64(1).u64(2).u64(3).u64(4).fixed(&[3; 16]).u32(4).opaque(b"x"); }, |a| {
            matches!(a, A::Layoutstats { read, write, layoutupdate, .. } if read.bytes == 2 && write.count == 3 && layoutupdate.layout_type == 4)
        }),
        (66, |e| sid(e, 66), |a| matches!(a, A::OffloadCancel { stateid } if stateid.seqid == 66)),
        (67, |e| sid(e, 67), |a| matches!(a, A::OffloadStatus { stateid } if stateid.seqid == 67)),
        (68, |e| { sid(e, 1); e.u64(0).u32(100); }, |a| matches!(a, A::ReadPlus { count: 100, .. })),
        (69, |e| { sid(e, 1); e.u64(50).u32(1); }, |a| matches!(a, A::Seek { offset: 50, what: 1, .. })),
        (70, |e| { sid(e, 1); e.u32(1).u64(0).u64(512).u64(4).u64(0).u32(0).u64(0).opaque(b"pat"); }, |a| {
            matches!(a, A::WriteSame { stable: 1, adb, .. } if adb.block_count == 4 && adb.pattern.0 == b"pat")
        }),
        (71, |e| { sid(e, 1); sid(e, 2); e.u64(0).u64(0).u64(0); }, |a| matches!(a, A::Clone { dst_stateid, .. } if dst_stateid.seqid == 2)),
        (72, |e| { e.string("user.a"); }, |a| matches!(a, A::Getxattr { name } if name.0 == b"user.a")),
        (73, |e| { e.u32(1).string("user.b").opaque(b"v"); }, |a| matches!(a, A::Setxattr { option: 1, value, .. } if value.0 == b"v")),
        (74, |e| { e.u64(0).u32(4096); }, |a| matches!(a, A::Listxattrs { maxcount: 4096, .. })),
        (75, |e| { e.string("user.c"); }, |a| matches!(a, A::Removexattr { .. })),
        (10044, |_| {}, |a| matches!(a, A::Void)),
    ]
}

#[test]
fn every_operation_args_in_one_compound() {
    let table = all_args();
    let ops: Vec<(u32, Put)> = table.iter().map(|(op, put, _)| (*op, *put)).collect();
    let body = call_with(2, &ops);
    let c = decode_call(4, 1, &body).unwrap();
    assert_eq!(c.stopped, None);
    assert_eq!(c.ops.len(), table.len());
    for ((op, _, check), got) in table.iter().zip(&c.ops) {
        assert_eq!(got.op, *op);
        assert!(check(&got.args), "op {op} decoded as {:?}", got.args);
    }
    // Every defined operation number is covered.
    for op in (3..=75).chain([10044]) {
        assert!(
            table.iter().any(|(o, _, _)| *o == op),
            "op {op} not covered"
        );
    }
    // 4.0-only operations are noted in a 4.2 COMPOUND, others not.
    let noted: Vec<u32> = c
        .ops
        .iter()
        .filter(|o| o.note.is_some())
        .map(|o| o.op)
        .collect();
    assert_eq!(noted, vec![20, 30, 35, 36, 39]);
    assert_eq!(c.cb_programs(), vec![0x4000_0001, 0x4000_0002, 0x4000_0003]);
    // Each op alone decodes to the same thing and consumes exactly its bytes.
    for (op, put, check) in &table {
        let body = call_with(2, &[(*op, *put), (10, |_| {})]);
        let c = decode_call(4, 1, &body).unwrap();
        assert_eq!(c.ops.len(), 2, "op {op}");
        assert!(check(&c.ops[0].args));
    }
}

#[test]
fn callback_program_filter_never_misses_one() {
    let table = all_args();
    for (op, put, _) in &table {
        for body in [call_with(1, &[(*op, *put)]), call_with(1, &[(53, table_put(&table, 53)), (*op, *put), (10, |_| {})])] {
            let c = decode_call(4, 1, &body).unwrap();
            if !c.cb_programs().is_empty() {
                assert!(super::may_name_cb_program(&body), "op {op} names a callback program");
            }
        }
    }
    // The common lock traffic is let through undecoded (a 32-byte handle: a length of
    // 40 would be the word of BACKCHANNEL_CTL, and only cost a decode).
    let body = call_with(1, &[(53, table_put(&table, 53)), (22, |e| { e.opaque(&[0xab; 32]); }), (12, table_put(&table, 12))]);
    let c = decode_call(4, 1, &body).unwrap();
    assert_eq!(c.ops.len(), 3);
    assert!(!super::may_name_cb_program(&body));
    let body = call_with(1, &[(35, table_put(&table, 35))]);
    assert!(super::may_name_cb_program(&body));
    // A long body (a WRITE and its data) is left to the decoder, not scanned.
    let body = call_with(1, &[(53, table_put(&table, 53)), (22, |e| { e.opaque(&[0xab; 32]); }), (38, |e| { sid(e, 1); e.u64(0).u32(2).opaque(&[0; 2048]); })]);
    assert!(body.len() > super::CB_SCAN_MAX);
    assert!(decode_call(4, 1, &body).unwrap().cb_programs().is_empty());
    assert!(super::may_name_cb_program(&body));
}

fn table_put(table: &[ArgCase], op: u32) -> Put {
    table.iter().find(|(o, _, _)| *o == op).map(|(_, p, _)| *p).expect("op in the table")
}

#[test]
fn every_prefix_of_the_big_compound() {
    let table = all_args();
    let ops: Vec<(u32, Put)> = table.iter().map(|(op, put, _)| (*op, *put)).collect();
    let body = call_with(2, &ops);
    let full = decode_call(4, 1, &body).unwrap();
    for n in 0..body.len() {
        if let Ok(c) = decode_call(4, 1, &body[..n]) {
            assert!(c.stopped.is_some());
            assert_eq!(c.ops[..], full.ops[..c.ops.len()]);
        }
    }
}

#[test]
fn unknown_op_keeps_the_prefix() {
    let body = call_with(
        1,
        &[
            (53, |e| {
                e.fixed(&[5; 16]).u32(1).u32(0).u32(0).bool(false);
            }),
            (22, |e| {
                e.opaque(&[1; 8]);
            }),
            (99, |e| {
                e.u32(0);
            }),
            (10, |_| {}),
        ],
    );
    let c = decode_call(4, 1, &body).unwrap();
    assert_eq!(c.ops.len(), 2);
    assert_eq!(
        c.stopped,
        Some(Stop {
            index: 2,
            reason: StopReason::UnknownOp { op: 99 }
        })
    );
    assert!(
        c.to_string()
            .ends_with("[stopped at op #2: unknown operation 99]"),
        "{c}"
    );
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["stopped"]["index"], 2);
    assert_eq!(j["stopped"]["reason"], "unknown_op");
    assert_eq!(j["stopped"]["op"], 99);
    assert_eq!(j["ops"][0]["op"], 53);
    assert_eq!(j["ops"][0]["name"], "SEQUENCE");
    assert_eq!(j["ops"][0]["sequenceid"], 1);
    assert_eq!(j["ops"][1]["fh"], "0101010101010101");
    assert_eq!(j["minorversion"], 1);
    assert_eq!(j["tag"], "tag");

    let body = reply_with(0, &[(22, 0, |_| {}), (77, 0, |_| {})]);
    let r = decode_reply(4, 1, &body).unwrap();
    assert_eq!(r.ops.len(), 1);
    assert_eq!(
        r.stopped,
        Some(Stop {
            index: 1,
            reason: StopReason::UnknownOp { op: 77 }
        })
    );
}

#[test]
fn op_that_fails_to_decode_keeps_the_prefix() {
    // OPEN with claim type 9.
    let body = call_with(
        0,
        &[
            (22, |e| {
                e.opaque(&[1; 8]);
            }),
            (18, |e| {
                e.u32(0).u32(1).u32(0);
                owner(e);
                e.u32(0).u32(9);
            }),
        ],
    );
    let c = decode_call(4, 1, &body).unwrap();
    assert_eq!(c.ops.len(), 1);
    let Some(Stop {
        index: 1,
        reason:
            StopReason::DecodeError {
                op: 18,
                status: None,
                error,
            },
    }) = &c.stopped
    else {
        panic!("{:?}", c.stopped)
    };
    assert!(error.contains("open_claim_type4"), "{error}");
    // A result cut inside its data keeps the status it had.
    let mut body = reply_with(0, &[(22, 0, |_| {}), (12, 0, |e| sid(e, 1))]);
    body.truncate(body.len() - 6);
    let r = decode_reply(4, 1, &body).unwrap();
    assert_eq!(r.ops.len(), 1);
    assert!(
        matches!(r.stopped, Some(Stop { index: 1, reason: StopReason::DecodeError { op: 12, status: Some(s), .. } }) if s.is_ok())
    );
}

#[test]
fn minor_version_mismatch_is_noted() {
    let body = call_with(
        0,
        &[
            (53, |e| {
                e.fixed(&[5; 16]).u32(1).u32(0).u32(0).bool(false);
            }),
            (60, |e| {
                sid(e, 1);
                sid(e, 2);
                e.u64(0).u64(0).u64(0).bool(false).bool(false).u32(0);
            }),
        ],
    );
    let c = decode_call(4, 1, &body).unwrap();
    assert_eq!(c.ops[0].note, Some("operation not defined before NFSv4.1"));
    assert_eq!(c.ops[1].note, Some("operation not defined before NFSv4.2"));
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["ops"][0]["note"], "operation not defined before NFSv4.1");
    let body = call_with(
        1,
        &[(35, |e| {
            e.fixed(&[1; 8])
                .opaque(b"id")
                .u32(1)
                .string("tcp")
                .string("a")
                .u32(3);
        })],
    );
    let c = decode_call(4, 1, &body).unwrap();
    assert_eq!(
        c.ops[0].note,
        Some("operation not allowed in NFSv4.1 and later")
    );
    let j = serde_json::to_value(&c).unwrap();
    assert!(j["ops"][0].get("note").is_some());
    let body = call_with(1, &[(10, |_| {})]);
    let j = serde_json::to_value(decode_call(4, 1, &body).unwrap()).unwrap();
    assert!(j["ops"][0].get("note").is_none());
}

#[test]
fn op_count_is_capped() {
    let mut e = Enc::new();
    e.string("").u32(0).u32(5000);
    for _ in 0..5000 {
        e.u32(10);
    }
    let c = decode_call(4, 1, &e.buf).unwrap();
    assert_eq!(c.ops.len(), MAX_OPS);
    assert_eq!(
        c.stopped,
        Some(Stop {
            index: MAX_OPS,
            reason: StopReason::TooManyOps {
                count: 5000,
                cap: MAX_OPS
            }
        })
    );
    assert!(c
        .to_string()
        .ends_with("[stopped at op #1024: 5000 operations, only 1024 decoded]"));
}

#[test]
fn hostile_counts_do_not_allocate_or_panic() {
    // An operation count far beyond the body.
    let mut e = Enc::new();
    e.string("").u32(1).u32(u32::MAX).u32(10);
    let c = decode_call(4, 1, &e.buf).unwrap();
    assert_eq!(c.ops.len(), 1);
    assert_eq!(
        c.stopped,
        Some(Stop {
            index: 1,
            reason: StopReason::Truncated { count: u32::MAX }
        })
    );
    // Hostile array counts and lengths inside operations.
    let hostile: [(u32, Put); 6] = [
        (55, |e| {
            e.u32(0x7fff_ffff);
        }),
        (9, |e| {
            e.u32(0x1000_0000);
        }),
        (22, |e| {
            e.u32(0xffff_fff0);
        }),
        (43, |e| {
            e.u64(1).u32(1).u32(0);
            chan(e);
            chan(e);
            e.u32(1).u32(0xffff_ffff);
        }),
        (42, |e| {
            e.fixed(&[0; 8]).opaque(b"x").u32(0).u32(0).u32(2);
        }),
        (22, |e| {
            e.u32(200).fixed(&[0; 200]);
        }),
    ];
    for (op, put) in hostile {
        let body = call_with(1, &[(op, put)]);
        let c = decode_call(4, 1, &body).unwrap();
        assert!(c.ops.is_empty(), "op {op}");
        assert!(
            matches!(
                c.stopped,
                Some(Stop {
                    index: 0,
                    reason: StopReason::DecodeError { .. }
                })
            ),
            "op {op}"
        );
    }
    // A tag length beyond the body is an error for the whole call; the reply keeps its status.
    let mut e = Enc::new();
    e.u32(0xffff_fff0);
    assert!(decode_call(4, 1, &e.buf).is_err());
    let mut e = Enc::new();
    e.u32(10013).u32(0xffff_fff0);
    let r = decode_reply(4, 1, &e.buf).unwrap();
    assert_eq!(r.status.0, status::NFS4ERR_GRACE);
    assert_eq!(
        r.stopped,
        Some(Stop {
            index: 0,
            reason: StopReason::HeaderTruncated
        })
    );
    assert_eq!(
        r.to_string(),
        "NFS4ERR_GRACE [stopped at op #0: body ends before the operation list]"
    );
    assert!(decode_reply(4, 1, &[0, 0]).is_err());
}

#[test]
fn readdir_entries_are_capped() {
    let mut e = Enc::new();
    e.u32(0).string("").u32(1).u32(26).u32(0).fixed(&[0; 8]);
    for k in 0..(res::MAX_DIR_ENTRIES as u64 + 10) {
        e.bool(true).u64(k).string("n").u32(0).opaque(&[]);
    }
    e.bool(false).bool(true);
    let r = decode_reply(4, 1, &e.buf).unwrap();
    let OpRes::Readdir(d) = &r.ops[0] else {
        panic!()
    };
    assert_eq!(d.entries.len(), res::MAX_DIR_ENTRIES);
    assert!(d.entries_capped && d.eof);
}

#[test]
fn null_and_undefined_procedures() {
    let c = decode_call(4, 0, &[]).unwrap();
    assert!(c.ops.is_empty() && c.to_string().is_empty());
    let r = decode_reply(4, 0, &[]).unwrap();
    assert!(r.ops.is_empty() && r.to_string().is_empty());
    let c = decode_call(4, 7, &[1, 2, 3]).unwrap();
    assert_eq!(c.proc_, 7);
    assert_eq!(proc_name(4, 0), Some("NULL"));
    assert_eq!(proc_name(4, 1), Some("COMPOUND"));
    assert_eq!(proc_name(4, 2), None);
    assert_eq!(cb::proc_name(1, 0), Some("CB_NULL"));
    assert_eq!(cb::proc_name(1, 1), Some("CB_COMPOUND"));
}

#[test]
fn text_for_state_ops() {
    let body = call_with(
        1,
        &[
            (53, |e| {
                e.fixed(&[5; 16]).u32(1).u32(0).u32(0).bool(false);
            }),
            (12, |e| {
                e.u32(2).bool(true).u64(0).u64(u64::MAX).bool(false);
                sid(e, 1);
                e.u32(2);
            }),
            (13, |e| {
                e.u32(1).u64(100).u64(50);
                owner(e);
            }),
            (18, |e| {
                e.u32(0).u32(2).u32(0);
                owner(e);
                e.u32(0).u32(1).u32(2);
            }),
            (58, |e| {
                e.bool(true);
            }),
            (8, |e| sid(e, 3)),
        ],
    );
    let c = decode_call(4, 1, &body).unwrap();
    assert_eq!(
        c.to_string(),
        "SEQUENCE LOCK(WRITE_LT, reclaim, 0-eof, 1:01010101…01010101) LOCKT(READ_LT, 100+50) \
         OPEN(CLAIM_PREVIOUS deleg=2, write) RECLAIM_COMPLETE(one_fs) DELEGRETURN(3:03030303…03030303)"
    );
    let body = reply_with(
        0,
        &[(53, 0, |e| {
            e.fixed(&[5; 16]).u32(9).u32(1).u32(15).u32(15).u32(0x100);
        })],
    );
    let r = decode_reply(4, 1, &body).unwrap();
    assert_eq!(
        r.to_string(),
        "NFS4_OK SEQUENCE ok flags=RESTART_RECLAIM_NEEDED"
    );
    let OpRes::Sequence(s) = &r.ops[0] else {
        panic!()
    };
    assert_eq!(
        s.status_flags & session::SEQ4_STATUS_RESTART_RECLAIM_NEEDED,
        0x100
    );
}

/// Deterministic random bodies (plausible headers, defined op numbers, random bytes)
/// and byte flips of a valid COMPOUND: decoding never panics, and the text and JSON of
/// whatever decodes can be produced.
#[test]
fn random_bodies_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let ops: Vec<u32> = (3..=75).chain([10044, 99]).collect();
    for round in 0..8_000 {
        let mut e = Enc::new();
        let reply = round % 2 == 1;
        if reply {
            e.u32((next() % 3) as u32 * 10013);
        }
        e.string("t")
            .u32((next() % 3) as u32)
            .u32((next() % 6) as u32);
        for _ in 0..(next() % 6) {
            e.u32(ops[(next() % ops.len() as u64) as usize]);
            if reply {
                e.u32(if next() % 4 == 0 { 10010 } else { 0 });
            }
            for _ in 0..(next() % 12) {
                let w = next();
                // Mostly small values so that lengths and counts stay plausible.
                e.u32(if w % 3 == 0 {
                    (w >> 32) as u32
                } else {
                    (w % 40) as u32
                });
            }
        }
        let b = e.buf;
        if reply {
            if let Ok(r) = decode_reply(4, 1, &b) {
                let _ = r.to_string();
                serde_json::to_string(&r).unwrap();
            }
            if let Ok(r) = cb::decode_reply(1, 1, &b) {
                let _ = r.to_string();
                serde_json::to_string(&r).unwrap();
            }
        } else {
            if let Ok(c) = decode_call(4, 1, &b) {
                let _ = c.to_string();
                serde_json::to_string(&c).unwrap();
            }
            // The same operations as a CB_COMPOUND (callback_ident after minorversion).
            let mut cbb = b.clone();
            cbb.splice(12..12, [0, 0, 0, 1]);
            if let Ok(c) = cb::decode_call(1, 1, &cbb) {
                let _ = c.to_string();
                serde_json::to_string(&c).unwrap();
            }
        }
    }
    // Byte flips of the big compound of every operation.
    let table = all_args();
    let ops: Vec<(u32, Put)> = table.iter().map(|(op, put, _)| (*op, *put)).collect();
    let body = call_with(2, &ops);
    for k in 0..body.len() {
        let mut m = body.clone();
        m[k] ^= (next() as u8) | 0x80;
        if let Ok(c) = decode_call(4, 1, &m) {
            let _ = c.to_string();
            serde_json::to_string(&c).unwrap();
        }
    }
}
