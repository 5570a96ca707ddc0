//! Real bodies from the suricata-verify capture nfs-bug-5140 (frame numbers given);
//! values checked against tshark's dissection.
use super::*;
use crate::xdr::Enc;

/// Decoded values borrow from the vector, so keep it for the whole test.
fn unhex(s: &str) -> &'static [u8] {
    let v: Vec<u8> = (0..s.len()).step_by(2).map(|k| u8::from_str_radix(&s[k..k + 2], 16).unwrap()).collect();
    Box::leak(v.into_boxed_slice())
}

const ROOT: &str = "00101085000003e7000a00000000b25a00000029000a00000000b25a00000029";

#[test]
fn names() {
    assert_eq!(proc_name(2, 3), Some("ROOT"));
    assert_eq!(proc_name(2, 17), Some("STATFS"));
    assert_eq!(proc_name(2, 18), None);
    assert_eq!(proc_name(3, 1), None);
    assert_eq!(decode_call(2, 18, &[]).unwrap(), Call::Unknown { proc_num: 18 });
    assert_eq!(decode_reply(2, 18, &[]).unwrap(), Reply::Unknown { proc_num: 18 });
}

#[test]
fn real_getattr_statfs() {
    let b = unhex(ROOT);
    let c = decode_call(2, 1, b).unwrap();
    assert_eq!(c.fh().unwrap().hex(), ROOT);
    assert_eq!(c.to_string(), "fh 00101085000003e7…");
    let b = unhex("0000000000000002000041ed00000002000000000000000100000060000040000000000000000000001010850000b25a38477542000530203847754200077a103847754200077a10");
    let r = decode_reply(2, 1, b).unwrap();
    let Reply::Getattr(AttrRes { attributes: Some(a), .. }) = &r else { panic!("{r:?}") };
    assert_eq!((a.ftype, a.mode, a.nlink, a.size, a.blocksize, a.fsid, a.fileid), (2, 0o40755, 2, 96, 16384, 0x101085, 45658));
    assert_eq!(a.atime, Timeval { seconds: 944207170, useconds: 340000 });
    assert_eq!(r.to_string(), "ok DIR mode 0755 uid 0 gid 1 size 96");
    for n in 0..b.len() {
        assert!(decode_reply(2, 1, &b[..n]).is_err(), "prefix {n}");
    }
    let r = decode_reply(2, 17, unhex("000000000000200000000400000fa00000065da600065280")).unwrap();
    assert_eq!(r.to_string(), "ok tsize 8192 bsize 1024 blocks 1024000 bfree 417190 bavail 414336");
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!((j["proc"].as_str(), j["bfree"].as_u64()), (Some("STATFS"), Some(417190)));
}

#[test]
fn real_lookup_create_setattr() {
    let c = decode_call(2, 4, unhex("00101085000003e7000a00000000b25a00000029000a00000000b25a000000290000000161000000")).unwrap();
    assert_eq!(c.dir_name().unwrap().1 .0, b"a");
    assert_eq!(c.to_string(), "fh 00101085000003e7… \"a\"");
    let r = decode_reply(2, 4, unhex("00000002")).unwrap();
    assert_eq!(r, Reply::Lookup(DirOpRes { status: NfsStat2(2), file: None, attributes: None }));
    assert_eq!(r.to_string(), "NFS2ERR_NOENT");
    // CREATE "a" mode 0644 uid 0 gid 1 size 0, times unset
    let c = decode_call(2, 9, unhex("00101085000003e7000a00000000b25a00000029000a00000000b25a000000290000000161000000000001a4000000000000000100000000ffffffffffffffffffffffffffffffff")).unwrap();
    let Call::Create { attributes: a, .. } = &c else { panic!("{c:?}") };
    assert_eq!((a.mode, a.uid, a.gid, a.size, a.atime, a.mtime), (Some(0o644), Some(0), Some(1), Some(0), None, None));
    assert_eq!(c.to_string(), "fh 00101085000003e7… \"a\" mode 0644 uid 0 gid 1 size 0");
    let r = decode_reply(2, 9, unhex("0000000000101085000003e7000a00000000a3e70000000f000a00000000b25a0000002900000001000081a400000001000000000000000100000000000040000000000000000000001010850000a3e7384775ea00081650384775ea00081650384775ea00081650")).unwrap();
    assert_eq!(r.new_fh().unwrap().hex(), "00101085000003e7000a00000000a3e70000000f000a00000000b25a00000029");
    assert_eq!(r.to_string(), "ok fh 00101085000003e7…");
    // SETATTR times only
    let c = decode_call(2, 2, unhex("00101085000003e7000a00000000a3e70000000f000a00000000b25a00000029ffffffffffffffffffffffffffffffff384775d0000975e0384775d0000f4240")).unwrap();
    let Call::Setattr { attributes: a, .. } = &c else { panic!("{c:?}") };
    assert_eq!((a.mode, a.atime.unwrap().seconds, a.mtime.unwrap().useconds), (None, 944207312, 1_000_000));
}

#[test]
fn real_rename_link_symlink_readdir() {
    let c = decode_call(2, 11, unhex("00101085000003e7000a00000000b25a00000029000a00000000b25a00000029000000016100000000101085000003e7000a00000000b25a00000029000a00000000b25a0000002900000002616d0000")).unwrap();
    assert_eq!(c.to_string(), "fh 00101085000003e7… \"a\" -> fh 00101085000003e7… \"am\"");
    assert_eq!(decode_reply(2, 11, unhex("00000000")).unwrap(), Reply::Rename { status: NfsStat2::OK });
    let c = decode_call(2, 12, unhex("00101085000003e7000a00000000b25d0000002a000a00000000b25a0000002900101085000003e7000a00000000b25a00000029000a00000000b25a0000002900000003626c6e00")).unwrap();
    assert_eq!(c.dir_name().unwrap().1 .0, b"bln");
    assert_eq!(c.fh().unwrap().hex(), "00101085000003e7000a00000000b25d0000002a000a00000000b25a00000029");
    let c = decode_call(2, 13, unhex("00101085000003e7000a00000000b25a00000029000a00000000b25a0000002900000004626c6e730000000162000000000001ff0000000000000001ffffffffffffffffffffffffffffffffffffffff")).unwrap();
    let Call::Symlink { target, attributes, .. } = &c else { panic!("{c:?}") };
    assert_eq!((target.0, attributes.mode, attributes.size), (&b"b"[..], Some(0o777), None));
    let c = decode_call(2, 16, unhex("00101085000003e7000a00000000b25a00000029000a00000000b25a000000290000000000000400")).unwrap();
    assert_eq!(c.to_string(), "fh 00101085000003e7… cookie 0 count 1024");
    let b = unhex("00000000000000010000b25a000000012e00000000000001000000010000b259000000022e2e000000000004000000010000b25d00000001620000000000001c000000010000a3e700000002616d000000000028000000010000b25d00000003626c6e0000000038000000010000a3ec00000004626c6e73000000600000000000000001");
    let r = decode_reply(2, 16, b).unwrap();
    let Reply::Readdir { entries, eof, .. } = &r else { panic!("{r:?}") };
    let got: Vec<(u32, &[u8], u32)> = entries.iter().map(|e| (e.fileid, e.name.0, e.cookie)).collect();
    assert_eq!(got, [(45658, &b"."[..], 1), (45657, b"..", 4), (45661, b"b", 28), (41959, b"am", 40), (45661, b"bln", 56), (41964, b"blns", 96)]);
    assert_eq!(*eof, Some(true));
    for n in 0..b.len() {
        assert!(decode_reply(2, 16, &b[..n]).is_err(), "prefix {n}");
    }
    assert_eq!(decode_reply(2, 5, unhex("000000000000000162000000")).unwrap().to_string(), "ok \"b\"");
}

#[test]
fn real_write_read() {
    let c = decode_call(2, 8, unhex("00101085000003e7000a00000000a6510000001c000a00000000b25a000000290000000000000000000000060000000668616c6c6f0a0000")).unwrap();
    let Call::Write { data, totalcount, .. } = &c else { panic!("{c:?}") };
    assert_eq!((data.0, *totalcount), (&b"hallo\n"[..], 6));
    assert_eq!(c.to_string(), "fh 00101085000003e7… 6 bytes @ 0");
    assert_eq!(serde_json::to_value(&c).unwrap()["data_len"], 6);
    assert_eq!(decode_reply(2, 8, unhex("0000000000000001000081a400000001000000000000000100000006000040000000000000000002001010850000a651384775ea000afc80384775ea000b2390384775ea000b2390")).unwrap().to_string(), "ok REG mode 0644 uid 0 gid 1 size 6");
    let c = decode_call(2, 6, unhex("00101085000003e7000a00000000b25d0000002a000a00000000b25a00000029000000000000200000002000")).unwrap();
    assert_eq!(c.to_string(), "fh 00101085000003e7… 8192 bytes @ 0");
    let r = decode_reply(2, 6, unhex("0000000000000001000081a40000000200000000000000010000000b000040000000000000000002001010850000b25d384775ea000b71b0384771c40008b290384775ea000900b00000000b74686520622066696c650a00")).unwrap();
    let Reply::Read { data: Some(d), attributes: Some(a), .. } = &r else { panic!("{r:?}") };
    assert_eq!((d.0, a.blocks, a.fileid), (&b"the b file\n"[..], 2, 45661));
    assert_eq!(r.to_string(), "ok 11 bytes");
}

#[test]
fn failures_void_and_hostile() {
    for p in [1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17] {
        let r = decode_reply(2, p, &[0, 0, 0, 70]).unwrap_or_else(|e| panic!("proc {p}: {e}"));
        assert_eq!((r.status(), r.to_string()), (Some(NfsStat2(70)), "NFS2ERR_STALE".to_string()), "proc {p}");
    }
    assert_eq!(decode_reply(2, 10, &[0, 0, 0, 200]).unwrap().to_string(), "UNKNOWN(200)");
    for p in [0, 3, 7] {
        assert_eq!(decode_reply(2, p, &[]).unwrap().status(), None);
        assert_eq!(decode_call(2, p, &[]).unwrap().fh(), None);
    }
    // a handle shorter than 32 bytes is truncated
    assert!(matches!(decode_call(2, 1, &[0; 31]), Err(XdrError::Truncated { .. })));
    // hostile data length in WRITE
    let mut e = Enc::new();
    e.fixed(&[0; 32]).u32(0).u32(0).u32(0).u32(0xffff_fff0);
    assert!(matches!(decode_call(2, 8, &e.buf), Err(XdrError::BadLength { .. })));
    // an ok READ without attributes is truncated
    assert!(decode_reply(2, 6, &[0, 0, 0, 0, 0, 0, 0, 1]).is_err());
}
