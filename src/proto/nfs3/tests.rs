//! Real bodies come from the suricata-verify captures nfs3-procedure and
//! nfs3-readdirplus (frame numbers given); values checked against tshark's dissection.

use super::*;
use crate::xdr::Enc;

fn unhex(s: &str) -> &'static [u8] {
    let v: Vec<u8> = (0..s.len()).step_by(2).map(|k| u8::from_str_radix(&s[k..k + 2], 16).unwrap()).collect();
    Box::leak(v.into_boxed_slice())
}

const ROOT: &str = "00101085000003e7000a00000000b25a00000029000a00000000b25a00000029";
const FILE_A: &str = "00101085000003e7000a00000000a3ec0000000e000a00000000b25a00000029";
/// The fattr3 of the export root (Directory 0755, uid 0, gid 1, size 96, fileid 45658).
const ROOT_ATTR: &str = "00000002000041ed0000000200000000000000010000000000000060000000000000000000000000000000000000000000101085000000000000b25a3847760c1443fd02384775ea30e03502384775ea30e03502";

const LOOKUP_OK: &str = "000000000000002000101085000003e7000a00000000a3ec0000000e000a00000000b25a000000290000000100000001000081a40000000100000000000000010000000000000000000000000000000000000000000000000000000000101085000000000000a3ec3847760b1efe9200384776251c03a180384776251c03a1800000000100000002000041ed0000000200000000000000010000000000000060000000000000000000000000000000000000000000101085000000000000b25a3847760c1443fd02384776251b6b0b00384776251b6b0b00";
const CREATE_OK: &str = "00000000000000010000002000101085000003e7000a00000000a3ec0000000e000a00000000b25a000000290000000100000001000081a40000000100000000000000010000000000000000000000000000000000000000000000000000000000101085000000000000a3ec384776251b6b0b01384776251b6b0b01384776251b6b0b01000000010000000000000060384775ea30e03502384775ea30e035020000000100000002000041ed0000000200000000000000010000000000000060000000000000000000000000000000000000000000101085000000000000b25a3847760c1443fd02384776251b6b0b00384776251b6b0b00";
const WRITE_CALL: &str = "0000002000101085000003e7000a00000000a6540000001b000a00000000b25a00000029000000000000000000000006000000010000000668616c6c6f0a0000";
const WRITE_OK: &str = "00000000000000010000000000000000384776252292190138477625229219010000000100000001000081a40000000100000000000000010000000000000006000000000000800000000000000000000000000000101085000000000000a654384776252292190138477625229219003847762522921900000000060000000138476a9c00000000";
const READDIR_OK: &str = "000000000000000100000002000041ed0000000200000000000000010000000000000060000000000000000000000000000000000000000000101085000000000000b25a38477625202fbf00384776251efe9200384776251efe9200384776251efe920000000001000000000000b25a000000012e000000000000000000000100000001000000000000b259000000022e2e0000000000000000000400000001000000000000b25d0000000162000000000000000000001c00000001000000000000a3ec00000002616d0000000000000000002800000001000000000000b25d00000003626c6e00000000000000003800000001000000000000a3ed00000004626c6e7300000000000000600000000000000001";
const READDIRPLUS_OK: &str = "000000000000000100000002000041c000000002000003e8000003e800000000000010000000000000001000000000000000000063c39d1a66f3855e000000000c66000359395a3a18139cb255e159d40ea0c04155e159d40ea0c041000000000000000000000001000000000c660001000000022e2e0000000000007c1bc6af0000000100000002000041c000000005000003e8000003e800000000000010000000000000001000000000000000000063c39d1a66f3855e000000000c6600015938a1a10429d9594ebff151092ca1da4ebff151092ca1da0000000100000024010007010100d409000000005e85f3661a9dc36300000000000000000100660c4aff6b9900000001000000000c660003000000012e000000000000007fffffff0000000100000002000041c000000002000003e8000003e800000000000010000000000000001000000000000000000063c39d1a66f3855e000000000c66000359395a3a18139cb255e159d40ea0c04155e159d40ea0c0410000000100000024010007010100d409000000005e85f3661a9dc36300000000000000000300660c4cff6b990000000000000001";

fn root_call() -> &'static [u8] {
    unhex(&format!("00000020{ROOT}"))
}

#[test]
fn names() {
    assert_eq!(proc_name(3, 17), Some("READDIRPLUS"));
    assert_eq!(proc_name(3, 21), Some("COMMIT"));
    assert_eq!(proc_name(3, 22), None);
    assert_eq!(proc_name(2, 1), None);
    assert_eq!(decode_call(3, 22, &[1]).unwrap(), Call::Unknown { proc_num: 22 });
    assert_eq!(decode_reply(3, 99, &[]).unwrap(), Reply::Unknown { proc_num: 99 });
    assert_eq!(decode_reply(3, 99, &[]).unwrap().to_string(), "proc 99");
}

#[test]
fn real_getattr() {
    // frames 11/12
    let c = decode_call(3, 1, root_call()).unwrap();
    assert_eq!(c.fh().unwrap().hex(), ROOT);
    assert_eq!(c.to_string(), "fh 00101085000003e7…");
    let r = decode_reply(3, 1, unhex(&format!("00000000{ROOT_ATTR}"))).unwrap();
    let Reply::Getattr { status, attributes: Some(a) } = r else { panic!("{r:?}") };
    assert!(status.is_ok());
    assert_eq!((a.ftype, a.mode, a.nlink, a.uid, a.gid, a.size, a.fileid), (2, 0o40755, 2, 0, 1, 96, 45658));
    assert_eq!(a.fsid, 1052805);
    assert_eq!(a.atime, NfsTime3 { seconds: 944207372, nseconds: 340000002 });
    assert_eq!(r.to_string(), "ok DIR mode 0755 uid 0 gid 1 size 96");
    // failure arm: status only
    let r = decode_reply(3, 1, &[0, 0, 0, 70]).unwrap();
    assert_eq!(r, Reply::Getattr { status: NfsStat3(70), attributes: None });
    assert_eq!(r.to_string(), "NFS3ERR_STALE");
}

#[test]
fn real_lookup_ok_and_noent() {
    // frames 33/34: LOOKUP "a" in the root
    let c = decode_call(3, 3, unhex(&format!("00000020{ROOT}0000000161000000"))).unwrap();
    let (dir, name) = c.dir_name().unwrap();
    assert_eq!((dir.hex().as_str(), name.0), (ROOT, &b"a"[..]));
    assert_eq!(c.to_string(), "fh 00101085000003e7… \"a\"");
    let b = unhex(LOOKUP_OK);
    let r = decode_reply(3, 3, b).unwrap();
    assert_eq!(r.new_fh().unwrap().hex(), FILE_A);
    let Reply::Lookup { obj_attributes: Some(o), dir_attributes: Some(d), .. } = &r else { panic!("{r:?}") };
    assert_eq!((o.ftype, o.fileid, d.fileid), (1, 41964, 45658));
    assert_eq!(r.to_string(), "ok fh 00101085000003e7…");
    // every prefix is an error, never a panic
    for n in 0..b.len() {
        assert!(decode_reply(3, 3, &b[..n]).is_err(), "prefix {n}");
    }
    // frame 20: NFS3ERR_NOENT with no directory attributes
    let r = decode_reply(3, 3, unhex("0000000200000000")).unwrap();
    assert_eq!(r, Reply::Lookup { status: NfsStat3(2), object: None, obj_attributes: None, dir_attributes: None });
    assert_eq!((r.to_string().as_str(), r.new_fh()), ("NFS3ERR_NOENT", None));
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!((j["proc"].as_str(), j["status"]["name"].as_str(), j["status"]["code"].as_u64()), (Some("LOOKUP"), Some("NFS3ERR_NOENT"), Some(2)));
}

#[test]
fn real_create_setattr_mkdir() {
    // frame 23: CREATE "a" UNCHECKED mode 0644 uid 0 gid 1 size 0
    let c = decode_call(3, 8, unhex(&format!("00000020{ROOT}00000001610000000000000000000001000001a4000000010000000000000001000000010000000100000000000000000000000000000000"))).unwrap();
    let Call::Create { how: CreateHow::Unchecked { attributes: a }, .. } = &c else { panic!("{c:?}") };
    assert_eq!((a.mode, a.uid, a.gid, a.size, a.atime), (Some(0o644), Some(0), Some(1), Some(0), SetTime::DontChange));
    assert_eq!(c.to_string(), "fh 00101085000003e7… \"a\" UNCHECKED mode 0644 uid 0 gid 1 size 0");
    // frame 24: the new handle, its attributes, the directory's wcc data
    let r = decode_reply(3, 8, unhex(CREATE_OK)).unwrap();
    assert_eq!(r.new_fh().unwrap().hex(), FILE_A);
    let Reply::Create(cr) = &r else { panic!("{r:?}") };
    assert_eq!(cr.dir_wcc.before.unwrap().size, 96);
    assert_eq!(cr.dir_wcc.after.unwrap().fileid, 45658);
    // frame 27: SETATTR atime to client time, mtime to server time, no guard
    let c = decode_call(3, 2, unhex(&format!("00000020{FILE_A}00000000000000000000000000000000000000023847760b1efe92000000000100000000"))).unwrap();
    let Call::Setattr { new_attributes: a, guard: None, .. } = &c else { panic!("{c:?}") };
    assert_eq!(a.atime, SetTime::ClientTime(NfsTime3 { seconds: 944207371, nseconds: 520000000 }));
    assert_eq!(a.mtime, SetTime::ServerTime);
    assert_eq!(c.to_string(), "fh 00101085000003e7… atime 944207371.520000000 mtime now");
    // frame 69: MKDIR "d" mode 0755 uid 0 gid 1
    let c = decode_call(3, 9, unhex(&format!("00000020{ROOT}000000016400000000000001000001ed00000001000000000000000100000001000000000000000000000000"))).unwrap();
    assert_eq!(c.to_string(), "fh 00101085000003e7… \"d\" mode 0755 uid 0 gid 1");
    assert_eq!(c.dir_name().unwrap().1 .0, b"d");
}

#[test]
fn real_rename_link_symlink_remove() {
    // frame 37: RENAME "a" -> "am"
    let c = decode_call(3, 14, unhex(&format!("00000020{ROOT}000000016100000000000020{ROOT}00000002616d0000"))).unwrap();
    let Call::Rename { from_name, to_name, to_dir, .. } = &c else { panic!("{c:?}") };
    assert_eq!((from_name.0, to_name.0, to_dir.hex().as_str()), (&b"a"[..], &b"am"[..], ROOT));
    assert_eq!(c.to_string(), "fh 00101085000003e7… \"a\" -> fh 00101085000003e7… \"am\"");
    // frame 45: LINK file -> root/"bln"
    let c = decode_call(3, 15, unhex(&format!("0000002000101085000003e7000a00000000b25d0000002a000a00000000b25a00000029{}00000003626c6e00", &format!("00000020{ROOT}")))).unwrap();
    assert_eq!(c.dir_name().unwrap().1 .0, b"bln");
    assert_eq!(c.fh().unwrap().0[..8], [0x00, 0x10, 0x10, 0x85, 0, 0, 0x03, 0xe7]);
    // frame 51: SYMLINK "blns" -> "b"
    let c = decode_call(3, 10, unhex(&format!("00000020{ROOT}00000004626c6e7300000001000001ff000000010000000000000001000000010000000000000000000000000000000162000000"))).unwrap();
    assert_eq!(c.to_string(), "fh 00101085000003e7… \"blns\" -> \"b\"");
    // frame 52: SYMLINK reply with the new handle
    let r = decode_reply(3, 10, unhex("00000000000000010000002000101085000003e7000a00000000a3ed0000000e000a00000000b25a0000002900000001000000050000a1ff0000000100000000000000010000000000000001000000000000000000000000000000000000000000101085000000000000a3ed384776251efe9201384776251efe9201384776251efe9201000000000000000100000002000041ed0000000200000000000000010000000000000060000000000000000000000000000000000000000000101085000000000000b25a3847760c1443fd02384776251efe9200384776251efe9200")).unwrap();
    let Reply::Symlink(s) = &r else { panic!("{r:?}") };
    assert_eq!((s.obj_attributes.unwrap().ftype, s.dir_wcc.before, s.dir_wcc.after.unwrap().fileid), (5, None, 45658));
    // frames 65/66: READLINK
    let r = decode_reply(3, 5, unhex("0000000000000001000000050000a1ff0000000100000000000000010000000000000001000000000000000000000000000000000000000000101085000000000000a3ed3847762520c85580384776251efe9201384776251efe92010000000162000000")).unwrap();
    assert_eq!(r.to_string(), "ok \"b\"");
    // frame 98: REMOVE reply, wcc data only
    let r = decode_reply(3, 12, unhex("00000000000000010000000000000060384776252292190038477625229219000000000100000002000041ed0000000200000000000000010000000000000060000000000000000000000000000000000000000000101085000000000000a3e73847762524f4730038477625258d098038477625258d0980")).unwrap();
    let Reply::Remove { status, dir_wcc } = &r else { panic!("{r:?}") };
    assert_eq!((status.is_ok(), dir_wcc.before.unwrap().size, dir_wcc.after.unwrap().nlink), (true, 96, 2));
    assert_eq!(r.to_string(), "ok");
}

#[test]
fn real_write_and_read() {
    // frame 77: WRITE 6 bytes @ 0 DATA_SYNC "hallo\n"
    let c = decode_call(3, 7, unhex(WRITE_CALL)).unwrap();
    let Call::Write { offset, count, stable, data_len, data, .. } = &c else { panic!("{c:?}") };
    assert_eq!((*offset, *count, *stable, *data_len, data.0), (0, 6, 1, 6, &b"hallo\n"[..]));
    assert_eq!(c.to_string(), "fh 00101085000003e7… 6 bytes @ 0 DATA_SYNC");
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!((j["data_len"].as_u64(), j.get("data")), (Some(6), None));
    // frame 78
    let r = decode_reply(3, 7, unhex(WRITE_OK)).unwrap();
    let Reply::Write { count, committed, verf, file_wcc, .. } = &r else { panic!("{r:?}") };
    assert_eq!((*count, *committed, verf.unwrap().hex(), file_wcc.after.unwrap().size), (Some(6), Some(1), "38476a9c00000000".into(), 6));
    assert_eq!(r.to_string(), "ok 6 bytes DATA_SYNC");
    // frames 87/88: READ 16384 @ 0, 11 bytes with EOF
    let c = decode_call(3, 6, unhex("0000002000101085000003e7000a00000000b25d0000002a000a00000000b25a00000029000000000000000000004000")).unwrap();
    assert_eq!(c.to_string(), "fh 00101085000003e7… 16384 bytes @ 0");
    let r = decode_reply(3, 6, unhex("000000000000000100000001000081a4000000020000000000000001000000000000000b000000000000800000000000000000000000000000101085000000000000b25d3847762523c34600384771c421f98280384776251e65fb810000000b000000010000000b74686520622066696c650a00")).unwrap();
    let Reply::Read { count, eof, data, data_len, .. } = &r else { panic!("{r:?}") };
    assert_eq!((*count, *eof, data.unwrap().0, *data_len), (Some(11), Some(true), &b"the b file\n"[..], Some(11)));
    assert_eq!(r.to_string(), "ok 11 bytes EOF");
}

#[test]
fn real_readdir_and_readdirplus() {
    // frame 60
    let r = decode_reply(3, 16, unhex(READDIR_OK)).unwrap();
    let Reply::Readdir { entries, eof, cookieverf, .. } = &r else { panic!("{r:?}") };
    let names: Vec<&[u8]> = entries.iter().map(|e| e.name.0).collect();
    assert_eq!(names, [&b"."[..], b"..", b"b", b"am", b"bln", b"blns"]);
    assert_eq!(entries.iter().map(|e| e.cookie).collect::<Vec<_>>(), [1, 4, 28, 40, 56, 96]);
    assert_eq!(entries[3].fileid, 41964);
    assert_eq!((*eof, cookieverf.unwrap().hex()), (Some(true), "384776251efe9200".to_string()));
    assert_eq!(r.to_string(), "ok 6 entries EOF");
    // nfs3-readdirplus frame 1
    let c = decode_call(3, 17, unhex("00000024010007010100d409000000005e85f3661a9dc36300000000000000000300660c4cff6b99000000000000000000000000000000000000020000001000")).unwrap();
    let Call::Readdirplus { dir, cookie, dircount, maxcount, .. } = &c else { panic!("{c:?}") };
    assert_eq!((dir.0.len(), *cookie, *dircount, *maxcount), (36, 0, 512, 4096));
    // frame 2: ".." and "." with attributes and handles
    let b = unhex(READDIRPLUS_OK);
    let r = decode_reply(3, 17, b).unwrap();
    let Reply::Readdirplus { entries, eof, .. } = &r else { panic!("{r:?}") };
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0].name.0, entries[0].fileid, entries[0].cookie), (&b".."[..], 208011265, 2082195119));
    assert_eq!((entries[1].name.0, entries[1].fileid, entries[1].cookie), (&b"."[..], 208011267, 2147483647));
    assert_eq!(entries[1].name_handle.unwrap().0, dir.0);
    assert_eq!(entries[0].name_attributes.unwrap().uid, 1000);
    assert_eq!(*eof, Some(true));
    assert_eq!(r.to_string(), "ok 2 entries EOF");
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["entries"][1]["name_handle"], dir.hex());
    for n in 0..b.len() {
        assert!(decode_reply(3, 17, &b[..n]).is_err(), "prefix {n}");
    }
}

#[test]
fn real_fsinfo_fsstat_pathconf_access() {
    let ok_attr = |tail: &str| unhex(&format!("0000000000000001{ROOT_ATTR}{tail}"));
    let r = decode_reply(3, 19, ok_attr("000080000000800000000001000080000000800000000001000004007fffffffffffffff00000000000000010000001b")).unwrap();
    let Reply::Fsinfo { res: Some(f), .. } = &r else { panic!("{r:?}") };
    assert_eq!((f.rtmax, f.rtpref, f.rtmult, f.wtmax, f.dtpref), (32768, 32768, 1, 32768, 1024));
    assert_eq!((f.maxfilesize, f.time_delta.nseconds, f.properties), (i64::MAX as u64, 1, 0x1b));
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!((j["proc"].as_str(), j["rtmax"].as_u64()), (Some("FSINFO"), Some(32768)));

    let r = decode_reply(3, 18, ok_attr("000000003e80000000000000197630000000000019498000000000000003c000000000000003a15d000000000003a15d00000000")).unwrap();
    let Reply::Fsstat { res: Some(s), .. } = &r else { panic!("{r:?}") };
    assert_eq!((s.tbytes, s.fbytes, s.invarsec), (0x3e800000, 0x19763000, 0));

    let r = decode_reply(3, 20, ok_attr("00007fff000000ff00000001000000000000000000000001")).unwrap();
    let Reply::Pathconf { res: Some(p), .. } = &r else { panic!("{r:?}") };
    assert_eq!((p.linkmax, p.name_max, p.no_trunc, p.chown_restricted, p.case_insensitive, p.case_preserving), (32767, 255, true, false, false, true));
    assert_eq!(r.to_string(), "ok linkmax 32767 name_max 255");

    let c = decode_call(3, 4, unhex(&format!("00000020{ROOT}00000001"))).unwrap();
    assert_eq!(c.to_string(), "fh 00101085000003e7… access 0x1");
    let r = decode_reply(3, 4, ok_attr("00000001")).unwrap();
    assert_eq!(r.to_string(), "ok access 0x1");
}

/// Encode a failure result: status, then `body` (the failure arm).
fn fail(status: u32, body: impl FnOnce(&mut Enc)) -> &'static [u8] {
    let mut e = Enc::new();
    e.u32(status);
    body(&mut e);
    Box::leak(e.into_vec().into_boxed_slice())
}

#[test]
fn failure_arms() {
    let no_wcc = |e: &mut Enc| {
        e.bool(false).bool(false);
    };
    let with_wcc = |e: &mut Enc| {
        e.bool(true).u64(100).u32(1).u32(2).u32(3).u32(4).bool(false);
    };
    // procedures whose failure arm is wcc_data
    for p in [2, 7, 8, 9, 10, 11, 12, 13, 21] {
        let r = decode_reply(3, p, fail(10008, with_wcc)).unwrap_or_else(|e| panic!("proc {p}: {e}"));
        assert_eq!(r.status(), Some(NfsStat3(10008)), "proc {p}");
        assert_eq!(r.to_string(), "NFS3ERR_JUKEBOX");
        assert_eq!(r.new_fh(), None);
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["proc"], proc_name(3, p).unwrap());
    }
    // procedures whose failure arm is post_op_attr
    for p in [4, 5, 6, 16, 17, 18, 19, 20] {
        let r = decode_reply(3, p, fail(13, |e| {
            e.bool(false);
        }))
        .unwrap_or_else(|e| panic!("proc {p}: {e}"));
        assert_eq!((r.status(), r.to_string()), (Some(NfsStat3(13)), "NFS3ERR_ACCES".into()), "proc {p}");
    }
    // RENAME: two wcc_data; LINK: post_op_attr + wcc_data
    let r = decode_reply(3, 14, fail(18, |e| {
        no_wcc(e);
        no_wcc(e);
    }))
    .unwrap();
    assert_eq!(r.to_string(), "NFS3ERR_XDEV");
    let r = decode_reply(3, 15, fail(31, |e| {
        e.bool(false);
        no_wcc(e);
    }))
    .unwrap();
    assert_eq!(r.to_string(), "NFS3ERR_MLINK");
    // a failure arm missing its attributes flag is truncated
    assert!(decode_reply(3, 6, &[0, 0, 0, 5]).is_err());
    // an unknown status keeps its number and takes the failure arm
    let r = decode_reply(3, 12, fail(12345, no_wcc)).unwrap();
    assert_eq!((r.status(), r.to_string()), (Some(NfsStat3(12345)), "UNKNOWN(12345)".into()));
    assert_eq!(serde_json::to_value(&r).unwrap()["status"]["name"], "UNKNOWN");
    // a WRITE failure has no count or verifier
    let r = decode_reply(3, 7, fail(28, no_wcc)).unwrap();
    assert!(matches!(r, Reply::Write { count: None, verf: None, .. }));
}

#[test]
fn encoded_calls() {
    let mut e = Enc::new();
    e.opaque(&[1; 8]).string("dev").u32(4).bool(true).u32(0o600).bool(false).bool(false).bool(false).u32(0).u32(0).u32(1).u32(3);
    let c = decode_call(3, 11, &e.buf.clone().leak()[..]).unwrap();
    assert_eq!(c.to_string(), "fh 0101010101010101 \"dev\" CHR 1,3");
    let mut e = Enc::new();
    e.opaque(&[1; 8]).string("x").u32(2).fixed(&[7; 8]);
    let c = decode_call(3, 8, e.buf.leak()).unwrap();
    assert_eq!(c.to_string(), "fh 0101010101010101 \"x\" EXCLUSIVE verf 0707070707070707");
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!((j["how"]["mode"].as_str(), j["how"]["verf"].as_str()), (Some("EXCLUSIVE"), Some("0707070707070707")));
    let mut e = Enc::new();
    e.opaque(&[1; 8]).u64(8192).u32(4096);
    assert_eq!(decode_call(3, 21, e.buf.leak()).unwrap().to_string(), "fh 0101010101010101 4096 bytes @ 8192");
    let mut e = Enc::new();
    e.opaque(&[1; 8]).string("p").u32(7).bool(false).bool(false).bool(false).bool(false).u32(0).u32(0);
    assert_eq!(decode_call(3, 11, e.buf.leak()).unwrap().to_string(), "fh 0101010101010101 \"p\" FIFO");
}

#[test]
fn hostile_input() {
    // a 65-byte handle is refused
    let mut e = Enc::new();
    e.opaque(&[0; 65]);
    assert!(matches!(decode_call(3, 1, &e.buf), Err(XdrError::BadLength { .. })));
    // write data length past the body
    let mut e = Enc::new();
    e.opaque(&[0; 8]).u64(0).u32(10).u32(0).u32(0x7fff_0000).u32(0);
    assert!(matches!(decode_call(3, 7, &e.buf), Err(XdrError::BadLength { .. })));
    // unknown createmode and time_how are errors (the arm length is unknowable)
    let mut e = Enc::new();
    e.opaque(&[0; 8]).string("a").u32(3);
    assert!(matches!(decode_call(3, 8, &e.buf), Err(XdrError::BadValue { what: "createmode3", value: 3 })));
    let mut e = Enc::new();
    e.opaque(&[0; 8]).bool(false).bool(false).bool(false).bool(false).u32(9);
    assert!(matches!(decode_call(3, 2, &e.buf), Err(XdrError::BadValue { what: "time_how", .. })));
    // a directory listing longer than the cap stops with an error
    let mut e = Enc::new();
    e.u32(0).bool(false).fixed(&[0; 8]);
    for k in 0..=MAX_ENTRIES as u64 {
        e.bool(true).u64(k).u32(0).u64(k);
    }
    e.bool(false).bool(true);
    assert!(matches!(decode_reply(3, 16, &e.buf), Err(XdrError::TooMany { .. })));
    // every prefix of a READDIR call fails cleanly
    let mut e = Enc::new();
    e.opaque(&[0; 32]).u64(0).fixed(&[0; 8]).u32(4096);
    for n in 0..e.buf.len() {
        assert!(decode_call(3, 16, &e.buf[..n]).is_err(), "prefix {n}");
    }
}

#[test]
fn mutated_real_bodies_never_panic() {
    let mut e = Enc::new();
    e.opaque(&[1; 8]).string("x").u32(0).bool(true).u32(0o644).bool(false).bool(false).bool(true).u64(0).u32(2).u32(1).u32(2).u32(1);
    let create_call = e.into_vec();
    let vectors: [(u32, bool, &[u8]); 7] = [
        (3, false, unhex(LOOKUP_OK)),
        (8, false, unhex(CREATE_OK)),
        (8, true, &create_call),
        (7, true, unhex(WRITE_CALL)),
        (7, false, unhex(WRITE_OK)),
        (16, false, unhex(READDIR_OK)),
        (17, false, unhex(READDIRPLUS_OK)),
    ];
    let mut decoded = 0;
    for (p, is_call, b) in vectors {
        for k in 0..b.len() {
            for v in [0x00, 0x01, 0x02, 0x7f, 0xff] {
                let mut m = b.to_vec();
                m[k] = v;
                let ok = if is_call { decode_call(3, p, &m).is_ok() } else { decode_reply(3, p, &m).is_ok() };
                decoded += usize::from(ok);
            }
        }
    }
    // most single-byte changes land in values, not in lengths or discriminants
    assert!(decoded > 3000, "{decoded}");
}
