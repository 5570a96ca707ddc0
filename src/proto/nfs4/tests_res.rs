//! Tests on encoded vectors for results: every operation's NFS4_OK result and the
//! error arms that carry data.

use super::open::LockRes;
use super::res::*;
use super::session::SetclientidRes;
use super::tests_enc::{ace, chan, cinfo, fattr, owner, reply_with, sid, wresp, Put};
use super::*;

type ResCase = (u32, Put, fn(&OpRes<'_>) -> bool);

/// Results of every operation (NFS4_OK arms), each with a check.
#[rustfmt::skip]
fn all_results() -> Vec<ResCase> {
    use OpRes as R;
    fn st(r: &OpRes<'_>) -> bool {
        matches!(r, R::Status { status, .. } if status.is_ok())
    }
    vec![
        (3, |e| { e.u32(0x3f).u32(0x0d); }, |r| matches!(r, R::Access(AccessRes { supported: 0x3f, access: 0x0d }))),
        (4, |e| sid(e, 4), |r| matches!(r, R::Close(s) if s.stateid.seqid == 4)),
        (5, |e| { e.fixed(&[5; 8]); }, |r| matches!(r, R::Commit(v) if v.writeverf.0 == [5; 8])),
        (6, |e| { cinfo(e); e.u32(1).u32(2); }, |r| matches!(r, R::Create(c) if c.cinfo.after == 2 && c.attrset.contains(1))),
        (7, |_| {}, st),
        (8, |_| {}, st),
        (9, fattr, |r| matches!(r, R::Getattr(g) if g.obj_attributes.u64(4) == Some(4096))),
        (10, |e| { e.opaque(&[1; 28]); }, |r| matches!(r, R::Getfh(g) if g.fh.0 .0.len() == 28)),
        (11, cinfo, |r| matches!(r, R::Link(_))),
        (12, |e| sid(e, 12), |r| matches!(r, R::Lock(LockRes::Ok(l)) if l.lock_stateid.seqid == 12)),
        (13, |_| {}, st),
        (14, |e| sid(e, 14), |r| matches!(r, R::Locku(s) if s.stateid.seqid == 14)),
        (15, |_| {}, st),
        (16, |_| {}, st),
        (17, |_| {}, st),
        (18, |e| {
            sid(e, 18);
            cinfo(e);
            e.u32(0x24).u32(0).u32(2);
            sid(e, 19);
            e.bool(true).u32(1).u64(1 << 30);
            ace(e);
        }, |r| {
            matches!(r, R::Open(o) if o.rflags == 0x24
                && matches!(o.delegation, OpenDelegation::Write { recall: true, stateid, space_limit: open::SpaceLimit::Size { filesize }, .. }
                    if stateid.seqid == 19 && filesize == 1 << 30))
        }),
        (19, |_| {}, st),
        (20, |e| sid(e, 20), |r| matches!(r, R::OpenConfirm(s) if s.stateid.seqid == 20)),
        (21, |e| sid(e, 21), |r| matches!(r, R::OpenDowngrade(s) if s.stateid.seqid == 21)),
        (22, |_| {}, st),
        (23, |_| {}, st),
        (24, |_| {}, st),
        (25, |e| { e.bool(true).opaque(&[0; 3000]); }, |r| matches!(r, R::Read(d) if d.eof && d.data.0.len() == 3000)),
        (26, |e| {
            e.fixed(&[6; 8]);
            e.bool(true).u64(1).string("a");
            fattr(e);
            e.bool(true).u64(2).string("b");
            fattr(e);
            e.bool(false).bool(true);
        }, |r| {
            matches!(r, R::Readdir(d) if d.eof && !d.entries_capped && d.entries.len() == 2
                && d.entries[1].name.0 == b"b" && d.entries[1].attrs.u64(4) == Some(4096))
        }),
        (27, |e| { e.string("/target"); }, |r| matches!(r, R::Readlink(l) if l.link.0 == b"/target")),
        (28, cinfo, |r| matches!(r, R::Remove(_))),
        (29, |e| { cinfo(e); cinfo(e); }, |r| matches!(r, R::Rename(_))),
        (30, |_| {}, st),
        (31, |_| {}, st),
        (32, |_| {}, st),
        (33, |e| { e.u32(2).u32(6).opaque(&[0x2a; 9]).u32(0).u32(1).u32(1); }, |r| {
            matches!(r, R::Secinfo(s) if s.flavors.len() == 2 && s.flavors[1].flavor == 1 && s.flavors[0].gss.is_some())
        }),
        (34, |e| { e.u32(1).u32(1 << 4); }, |r| matches!(r, R::Setattr(s) if s.attrsset.contains(4) && s.status.is_ok())),
        (35, |e| { e.u64(35).fixed(&[3; 8]); }, |r| matches!(r, R::Setclientid(SetclientidRes::Ok { clientid: 35, .. }))),
        (36, |_| {}, st),
        (37, |_| {}, st),
        (38, |e| { e.u32(1000).u32(2).fixed(&[8; 8]); }, |r| matches!(r, R::Write(w) if w.count == 1000 && w.committed == 2)),
        (39, |_| {}, st),
        (40, |_| {}, st),
        (41, |e| { e.fixed(&[1; 16]).u32(3).bool(false); }, |r| matches!(r, R::BindConnToSession(b) if b.dir == 3)),
        (42, |e| {
            e.u64(42).u32(1).u32(0x1_0003).u32(1).u32(1).u32(1 << 12).u32(0);
            e.u64(0).opaque(b"major").opaque(b"scope").u32(1).string("d").string("n").u64(0).u32(0);
        }, |r| {
            matches!(r, R::ExchangeId(x) if x.clientid == 42 && x.server_impl_id.is_some()
                && matches!(&x.state_protect, session::StateProtectR::MachCred { ops } if ops.must_enforce.contains(12)))
        }),
        (43, |e| { e.fixed(&[2; 16]).u32(1).u32(2); chan(e); chan(e); }, |r| {
            matches!(r, R::CreateSession(c) if c.sessionid.0 == [2; 16] && c.back_chan_attrs.maxrequests == 16)
        }),
        (44, |_| {}, st),
        (45, |_| {}, st),
        (46, |e| { e.u32(0).fixed(&[1; 8]); sid(e, 46); e.u32(1).u32(2).u32(0).u32(0); }, |r| {
            matches!(r, R::GetDirDelegation(g) if matches!(&**g, GetDirDelegationRes::Ok { stateid, notification, .. }
                if stateid.seqid == 46 && notification.contains(1)))
        }),
        (47, |e| { e.u32(1).opaque(b"addr").u32(0); }, |r| {
            matches!(r, R::Getdeviceinfo(GetdeviceinfoRes::Ok { device_addr, .. }) if device_addr.body.0 == b"addr")
        }),
        (48, |e| { e.u64(9).fixed(&[0; 8]).u32(2).fixed(&[1; 16]).fixed(&[2; 16]).bool(true); }, |r| {
            matches!(r, R::Getdevicelist(l) if l.deviceids.len() == 2 && l.eof && l.cookie == 9)
        }),
        (49, |e| { e.bool(true).u64(12345); }, |r| matches!(r, R::Layoutcommit(LayoutcommitRes { new_size: Some(12345) }))),
        (50, |e| { e.bool(true); sid(e, 50); e.u32(1).u64(0).u64(u64::MAX).u32(2).u32(1).opaque(b"lay"); }, |r| {
            matches!(r, R::Layoutget(LayoutgetRes::Ok { return_on_close: true, stateid, layouts })
                if stateid.seqid == 50 && layouts[0].content.body.0 == b"lay" && layouts[0].iomode == 2)
        }),
        (51, |e| { e.bool(true); sid(e, 51); }, |r| matches!(r, R::Layoutreturn(l) if l.stateid.unwrap().seqid == 51)),
        (52, |e| { e.u32(1).u32(1); }, |r| matches!(r, R::SecinfoNoName(s) if s.flavors.len() == 1)),
        (53, |e| { e.fixed(&[5; 16]).u32(9).u32(1).u32(15).u32(15).u32(0x140); }, |r| {
            matches!(r, R::Sequence(s) if s.sequenceid == 9 && s.status_flags == 0x140)
        }),
        (54, |e| { e.opaque(b"d"); }, |r| matches!(r, R::SetSsv(s) if s.digest.0 == b"d")),
        (55, |e| { e.u32(2).u32(0).u32(10025); }, |r| {
            matches!(r, R::TestStateid(t) if t.status_codes == vec![Nfsstat4(0), Nfsstat4(10025)])
        }),
        (56, |e| { e.u32(3).u32(7); }, |r| {
            matches!(r, R::WantDelegation(d) if d.delegation == OpenDelegation::NoneExt { why: 7, server_flag: None })
        }),
        (57, |_| {}, st),
        (58, |_| {}, st),
        (59, |_| {}, st),
        (60, |e| { wresp(e); e.bool(true).bool(false); }, |r| {
            matches!(r, R::Copy(CopyRes::Ok { response, requirements })
                if response.count == 100 && requirements.consecutive && !requirements.synchronous)
        }),
        (61, |e| { e.u64(90).u32(0); sid(e, 61); e.u32(1).u32(1).string("src"); }, |r| {
            matches!(r, R::CopyNotify(c) if c.lease_time.seconds == 90 && c.stateid.seqid == 61 && c.source_servers.len() == 1)
        }),
        (62, |_| {}, st),
        (63, |e| { e.u32(1).u32(2); }, |r| matches!(r, R::IoAdvise(h) if h.hints.contains(1))),
        (64, |_| {}, st),
        (65, |_| {}, st),
        (66, |_| {}, st),
        (67, |e| { e.u64(77).u32(1).u32(0); }, |r| {
            matches!(r, R::OffloadStatus(OffloadStatusRes { count: 77, complete: Some(s) }) if s.is_ok())
        }),
        (68, |e| { e.bool(false).u32(2).u32(0).u64(0).opaque(&[1; 10]).u32(1).u64(10).u64(90); }, |r| {
            matches!(r, R::ReadPlus(p) if p.contents == vec![
                ReadPlusContent::Data { offset: 0, data: args::Payload(&[1; 10]) },
                ReadPlusContent::Hole { offset: 10, length: 90 }])
        }),
        (69, |e| { e.bool(true).u64(4096); }, |r| matches!(r, R::Seek(SeekRes { eof: true, offset: 4096 }))),
        (70, wresp, |r| matches!(r, R::WriteSame(w) if w.response.committed == 2)),
        (71, |_| {}, st),
        (72, |e| { e.opaque(b"val"); }, |r| matches!(r, R::Getxattr(x) if x.value.0 == b"val")),
        (73, cinfo, |r| matches!(r, R::Setxattr(_))),
        (74, |e| { e.u64(3).u32(2).string("user.a").string("user.b").bool(true); }, |r| {
            matches!(r, R::Listxattrs(l) if l.names.len() == 2 && l.eof && l.cookie == 3)
        }),
        (75, cinfo, |r| matches!(r, R::Removexattr(_))),
    ]
}

#[test]
fn every_operation_result_in_one_reply() {
    let table = all_results();
    let ops: Vec<(u32, u32, Put)> = table.iter().map(|(op, put, _)| (*op, 0, *put)).collect();
    let body = reply_with(0, &ops);
    let r = decode_reply(4, 1, &body).unwrap();
    assert_eq!(r.stopped, None);
    assert_eq!(r.ops.len(), table.len());
    for ((op, _, check), got) in table.iter().zip(&r.ops) {
        assert_eq!(got.num(), *op);
        assert!(got.is_ok());
        assert!(check(got), "op {op} decoded as {got:?}");
    }
    for op in 3..=75 {
        assert!(
            table.iter().any(|(o, _, _)| *o == op),
            "op {op} not covered"
        );
    }
    // JSON: every result names itself and its status.
    let j = serde_json::to_value(&r).unwrap();
    for (k, (op, _, _)) in table.iter().enumerate() {
        assert_eq!(j["ops"][k]["op"], *op);
        assert_eq!(j["ops"][k]["name"], ops::op_name(*op).unwrap());
        assert_eq!(j["ops"][k]["status_name"], "NFS4_OK");
    }
    assert_eq!(j["ops"][0]["supported"], 0x3f);
    let read = table.iter().position(|(op, _, _)| *op == 25).unwrap();
    assert_eq!(j["ops"][read]["data"], 3000);
    assert_eq!(j["ops"][read]["eof"], true);
}

#[test]
fn error_arms_that_carry_data() {
    let body = reply_with(
        status::NFS4ERR_DENIED,
        &[
            (12, status::NFS4ERR_DENIED, |e| {
                e.u64(0).u64(10).u32(2);
                owner(e);
            }),
            (13, status::NFS4ERR_DENIED, |e| {
                e.u64(5).u64(u64::MAX).u32(1);
                owner(e);
            }),
            (35, status::NFS4ERR_CLID_INUSE, |e| {
                e.string("tcp").string("192.168.0.9.3.1");
            }),
            (47, status::NFS4ERR_TOOSMALL, |e| {
                e.u32(8192);
            }),
            (50, status::NFS4ERR_LAYOUTTRYLATER, |e| {
                e.bool(true);
            }),
            (60, status::NFS4ERR_OFFLOAD_NO_REQS, |e| {
                e.bool(true).bool(true);
            }),
            (46, 0, |e| {
                e.u32(1).bool(true);
            }),
            (34, status::NFS4ERR_GRACE, |e| {
                e.u32(0);
            }),
            (18, status::NFS4ERR_GRACE, |_| {}),
            (10044, status::NFS4ERR_OP_ILLEGAL, |_| {}),
        ],
    );
    let r = decode_reply(4, 1, &body).unwrap();
    assert_eq!(r.stopped, None);
    let OpRes::Lock(LockRes::Denied(d)) = &r.ops[0] else {
        panic!("{:?}", r.ops[0])
    };
    assert_eq!(
        (d.offset, d.length, d.locktype, d.owner.owner.0),
        (0, 10, 2, &b"owner"[..])
    );
    assert!(matches!(&r.ops[1], OpRes::LocktDenied(d) if d.offset == 5));
    assert!(
        matches!(&r.ops[2], OpRes::Setclientid(SetclientidRes::ClidInuse { client_using })
        if client_using.uaddr.0 == b"192.168.0.9.3.1")
    );
    assert!(matches!(
        &r.ops[3],
        OpRes::Getdeviceinfo(GetdeviceinfoRes::TooSmall { mincount: 8192 })
    ));
    assert!(matches!(
        &r.ops[4],
        OpRes::Layoutget(LayoutgetRes::TryLater {
            will_signal_layout_avail: true
        })
    ));
    assert!(matches!(&r.ops[5], OpRes::Copy(CopyRes::NoReqs { .. })));
    assert!(matches!(
        &r.ops[6],
        OpRes::GetDirDelegation(g) if matches!(&**g, GetDirDelegationRes::Unavail {
            will_signal_deleg_avail: true
        })
    ));
    assert!(
        matches!(&r.ops[7], OpRes::Setattr(s) if s.status.0 == status::NFS4ERR_GRACE && s.attrsset.is_empty())
    );
    assert_eq!(
        r.ops[8],
        OpRes::Status {
            op: 18,
            status: Nfsstat4(status::NFS4ERR_GRACE)
        }
    );
    assert_eq!(r.ops[9].name(), "ILLEGAL");
    let statuses: Vec<u32> = r.ops.iter().map(|o| o.status().0).collect();
    assert_eq!(
        statuses,
        vec![10010, 10010, 10017, 10005, 10058, 10094, 0, 10013, 10013, 10044]
    );
    let text = r.to_string();
    assert!(
        text.starts_with(
            "NFS4ERR_DENIED LOCK NFS4ERR_DENIED held WRITE_LT 0+10 by 1122334455667788/6f776e6572 "
        ),
        "{text}"
    );
    assert!(text.contains("LOCKT NFS4ERR_DENIED held READ_LT 5-eof"));
    assert!(text.contains("SETCLIENTID NFS4ERR_CLID_INUSE in use by tcp:192.168.0.9.3.1"));
    assert!(text.ends_with("OPEN NFS4ERR_GRACE ILLEGAL NFS4ERR_OP_ILLEGAL"));
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["ops"][0]["status_name"], "NFS4ERR_DENIED");
    assert_eq!(j["ops"][0]["owner"]["owner"], "6f776e6572");
    assert_eq!(j["ops"][2]["client_using"]["uaddr"], "192.168.0.9.3.1");
    assert_eq!(j["ops"][8].as_object().unwrap().len(), 4);
}
