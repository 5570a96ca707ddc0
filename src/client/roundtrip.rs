//! Round trips: every request the client encodes, taken apart again by the project's
//! decoders (`crate::proto`, `crate::rpc::msg`), field by field.

use super::nfs3::{self, CreateHow3};
use super::nfs4::{ChannelAttrs, Compound, Locker, LockArgs, Op, OpenArgs, OpenClaim, OpenHow, StateId};
use super::nlm::{self, MyId, NlmLock};
use super::rpc::{encode_call, parse_mark, record_mark, AuthSys, Cred, ProcId};
use crate::proto::{self, nfs4::OpArgs, CallBody};
use crate::rpc::msg::{self, Header};
use crate::rpc::Auth;

fn lock() -> NlmLock {
    NlmLock { caller_name: "client-a".into(), fh: vec![0x43, 0, 0, 2, 9], oh: b"101@client-a".to_vec(), svid: 101, offset: 10, len: 0, exclusive: true }
}

fn call(prog: u32, vers: u32, proc_: u32, args: &[u8]) -> CallBody<'_> {
    let b = proto::decode_call(prog, vers, proc_, false, args);
    assert!(!matches!(b, CallBody::Malformed(_) | CallBody::NotDecoded), "{b:?}");
    b
}

#[test]
fn call_header_and_record_mark() {
    let cred = Cred::Sys(AuthSys { stamp: 7, machinename: "host-a".into(), uid: 0, gid: 0, gids: vec![1, 2] });
    let m = encode_call(0x1234, ProcId { prog: proto::NLM, vers: 4, proc_: 2 }, &cred, &[0xab; 8]);
    let rec = record_mark(&m);
    assert_eq!(parse_mark([rec[0], rec[1], rec[2], rec[3]]), (true, m.len()));
    let (Header::Call(h), body) = msg::parse(&rec[4..]).unwrap() else { panic!("not a call") };
    assert_eq!((h.xid, h.prog, h.vers, h.proc_), (0x1234, proto::NLM, 4, 2));
    let Auth::Sys { stamp, machine, uid, gids, .. } = h.cred else { panic!("{:?}", h.cred) };
    assert_eq!((stamp, machine.0, uid, gids.iter().collect::<Vec<_>>()), (7, &b"host-a"[..], 0, vec![1, 2]));
    assert_eq!(body, &[0xab; 8]);
    let m = encode_call(1, ProcId { prog: proto::NFS, vers: 3, proc_: 0 }, &Cred::None, &[]);
    assert!(matches!(msg::parse(&m).unwrap().0, Header::Call(c) if c.cred == Auth::None));
}

#[test]
fn nlm_requests() {
    let l = lock();
    for reclaim in [false, true] {
        let a = nlm::lock_args(b"ck", &l, true, reclaim, 3);
        let CallBody::Nlm(c) = call(proto::NLM, 4, 2, &a) else { panic!() };
        assert_eq!(c.reclaim(), Some(reclaim));
        let got = c.lock().unwrap();
        assert_eq!((got.caller_name.0, got.fh.0, got.oh.0, got.svid, got.offset, got.len), (&b"client-a"[..], &l.fh[..], &l.oh[..], 101, 10, 0));
        assert_eq!(c.cookie().unwrap().0, b"ck");
    }
    for (proc_, a) in [(1, nlm::test_args(b"t", &l)), (3, nlm::cancel_args(b"c", &l, true)), (4, nlm::unlock_args(b"u", &l))] {
        let CallBody::Nlm(c) = call(proto::NLM, 4, proc_, &a) else { panic!() };
        assert_eq!(c.lock().unwrap().svid, 101, "proc {proc_}");
    }
}

#[test]
fn nsm_requests() {
    use proto::nsm::Call;
    let id = MyId { my_name: "server".into(), my_prog: 100021, my_vers: 4, my_proc: 16 };
    let b = nlm::sm_stat_args("h1");
    let CallBody::Nsm(Call::SmStat { mon_name }) = call(proto::NSM, 1, 1, &b) else { panic!() };
    assert_eq!(mon_name.0, b"h1");
    let b = nlm::sm_mon_args("h2", &id, [5; 16]);
    let CallBody::Nsm(Call::SmMon(m)) = call(proto::NSM, 1, 2, &b) else { panic!() };
    assert_eq!((m.mon_id.mon_name.0, m.mon_id.my_id.my_name.0, m.mon_id.my_id.my_proc), (&b"h2"[..], &b"server"[..], 16));
    let b = nlm::sm_unmon_args("h3", &id);
    let CallBody::Nsm(Call::SmUnmon(u)) = call(proto::NSM, 1, 3, &b) else { panic!() };
    assert_eq!(u.mon_name.0, b"h3");
    let b = nlm::sm_notify_args("h4", 5);
    let CallBody::Nsm(Call::SmNotify { mon_name, state }) = call(proto::NSM, 1, 6, &b) else { panic!() };
    assert_eq!((mon_name.0, state), (&b"h4"[..], 5));
}

#[test]
fn mount_nfs3_and_portmap_requests() {
    use proto::{mount, nfs3 as p3, portmap};
    let b = nfs3::mnt_args("/vfs");
    let CallBody::Mount(mount::Call::Mnt { dirpath }) = call(proto::MOUNT, 3, 1, &b) else { panic!() };
    assert_eq!(dirpath.0, b"/vfs");
    let b = nfs3::getattr_args(&[1, 2, 3]);
    let CallBody::Nfs3(c) = call(proto::NFS, 3, 1, &b) else { panic!() };
    assert_eq!(c.fh().unwrap().0, &[1, 2, 3]);
    let b = nfs3::lookup_args(&[4], "f1");
    let CallBody::Nfs3(c) = call(proto::NFS, 3, 3, &b) else { panic!() };
    assert_eq!(c.dir_name().map(|(d, n)| (d.0, n.0)), Some((&[4u8][..], &b"f1"[..])));
    for how in [CreateHow3::Unchecked(0o644), CreateHow3::Guarded(0o600)] {
        let b = nfs3::create_args(&[5], "f2", how);
    let CallBody::Nfs3(c) = call(proto::NFS, 3, 8, &b) else { panic!() };
        assert!(matches!(c, p3::Call::Create { .. }));
        assert_eq!(c.dir_name().unwrap().1 .0, b"f2");
    }
    let b = nfs3::getport_args(100021, 4, 6);
    let CallBody::Portmap(portmap::Call::Getport(m)) = call(proto::PORTMAP, 2, 3, &b) else { panic!() };
    assert_eq!((m.prog, m.vers, m.prot), (100021, 4, 6));
    let a = nfs3::getaddr_args(100024, 1, "tcp", "", "gracewatch");
    let CallBody::Portmap(portmap::Call::Getaddr(r)) = call(proto::PORTMAP, 4, 3, &a) else { panic!() };
    assert_eq!((r.prog, r.netid.0, r.owner.0), (100024, &b"tcp"[..], &b"gracewatch"[..]));
}

#[test]
fn nfs4_compounds() {
    let sid = StateId { seqid: 1, other: [7; 12] };
    let ch = ChannelAttrs::default();
    let open = |claim, how| OpenArgs { seqid: 1, share_access: 3, share_deny: 0, clientid: 9, owner: b"oo".to_vec(), how, claim };
    let ops = vec![
        Op::Sequence { sessionid: [1; 16], sequenceid: 2, slotid: 0, highest_slotid: 0, cachethis: false },
        Op::PutRootFh,
        Op::Lookup("vfs".into()),
        Op::GetFh,
        Op::PutFh(vec![0x43, 1]),
        Op::GetAttr(vec![0x10, 0x2]),
        Op::Open(open(OpenClaim::Null("f1".into()), OpenHow::Unchecked { mode: 0o644 })),
        Op::Open(open(OpenClaim::Previous(0), OpenHow::NoCreate)),
        Op::Open(open(OpenClaim::Fh, OpenHow::Guarded { mode: 0o600 })),
        Op::OpenConfirm { stateid: sid, seqid: 2 },
        Op::Lock(LockArgs { locktype: 2, reclaim: true, offset: 0, length: 100, locker: Locker::New { open_seqid: 2, open_stateid: sid, lock_seqid: 0, clientid: 9, owner: b"lo".to_vec() } }),
        Op::Lock(LockArgs { locktype: 1, reclaim: false, offset: 5, length: 0, locker: Locker::Existing { lock_stateid: sid, lock_seqid: 1 } }),
        Op::LockT { locktype: 2, offset: 0, length: 10, clientid: 9, owner: b"lo".to_vec() },
        Op::LockU { locktype: 2, seqid: 2, stateid: sid, offset: 0, length: 100 },
        Op::Close { seqid: 3, stateid: sid },
        Op::Renew(9),
        Op::SetClientId { verifier: [2; 8], id: b"client-x".to_vec(), cb_program: 0x4000_0000, netid: "tcp".into(), addr: "127.0.10.1.3.0".into(), ident: 1 },
        Op::SetClientIdConfirm { clientid: 9, verifier: [3; 8] },
        Op::ExchangeId { verifier: [4; 8], owner: b"client-y".to_vec(), flags: 0 },
        Op::CreateSession { clientid: 9, sequence: 1, flags: 0, fore: ch, back: ch, cb_program: 0x4000_0001 },
        Op::ReclaimComplete { one_fs: false },
        Op::DestroySession([1; 16]),
        Op::DestroyClientId(9),
    ];
    let want: Vec<u32> = ops.iter().map(Op::opnum).collect();
    let bytes = Compound { minor: 1, tag: "t".into(), ops }.encode();
    let CallBody::Nfs4(c) = call(proto::NFS, 4, 1, &bytes) else { panic!() };
    assert!(c.stopped.is_none(), "{:?}", c.stopped);
    assert_eq!(c.minorversion, 1);
    assert_eq!(c.ops.iter().map(|o| o.op).collect::<Vec<_>>(), want);
    let args: Vec<&OpArgs> = c.args().collect();
    let OpArgs::Open(o) = args[7] else { panic!("{:?}", args[7]) };
    assert!(o.is_reclaim());
    let OpArgs::Lock(l) = args[10] else { panic!() };
    assert!((l.reclaim, l.locktype, l.offset, l.length) == (true, 2, 0, 100));
    assert_eq!(c.cb_programs(), vec![0x4000_0000, 0x4000_0001]);
}
