use super::*;
use crate::xdr::Enc;

const FH: &[u8] = &[0x43, 0, 0, 2, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44];
const OH: &[u8] = b"101@client-a";
const COOKIE: &[u8] = &[0, 0, 0, 7];

/// Test-only description of an `nlm_lock`.
#[derive(Clone, Copy)]
struct L {
    caller: &'static str,
    svid: i32,
    off: u64,
    len: u64,
}

const LK: L = L { caller: "client-a", svid: 101, off: 0, len: 10 };

/// Keep a test vector alive for the whole test (decoded values borrow from it).
fn leak(e: Enc) -> &'static [u8] {
    Box::leak(e.into_vec().into_boxed_slice())
}

fn range(e: &mut Enc, vers: u32, v: u64) {
    if vers >= 4 {
        e.u64(v);
    } else {
        e.u32(v as u32);
    }
}

fn put_lock(e: &mut Enc, vers: u32, l: L) {
    e.string(l.caller).opaque(FH).opaque(OH).i32(l.svid);
    range(e, vers, l.off);
    range(e, vers, l.len);
}

fn lock_args(vers: u32, block: bool, excl: bool, l: L, reclaim: bool, state: i32) -> &'static [u8] {
    let mut e = Enc::new();
    e.opaque(COOKIE).bool(block).bool(excl);
    put_lock(&mut e, vers, l);
    e.bool(reclaim).i32(state);
    leak(e)
}

fn test_args(vers: u32, excl: bool, l: L) -> &'static [u8] {
    let mut e = Enc::new();
    e.opaque(COOKIE).bool(excl);
    put_lock(&mut e, vers, l);
    leak(e)
}

fn canc_args(vers: u32, block: bool, excl: bool, l: L) -> &'static [u8] {
    let mut e = Enc::new();
    e.opaque(COOKIE).bool(block).bool(excl);
    put_lock(&mut e, vers, l);
    leak(e)
}

fn unlock_args(vers: u32, l: L) -> &'static [u8] {
    let mut e = Enc::new();
    e.opaque(COOKIE);
    put_lock(&mut e, vers, l);
    leak(e)
}

fn share_args(mode: u32, access: u32, reclaim: bool) -> &'static [u8] {
    let mut e = Enc::new();
    e.opaque(COOKIE).string("client-a").opaque(FH).opaque(OH).u32(mode).u32(access).bool(reclaim);
    leak(e)
}

/// `nlm_testres`; the holder is encoded when `stat` is 1 (DENIED).
fn test_res(vers: u32, stat: u32, excl: bool, svid: i32, off: u64, len: u64) -> &'static [u8] {
    let mut e = Enc::new();
    e.opaque(COOKIE).u32(stat);
    if stat == 1 {
        e.bool(excl).i32(svid).opaque(b"7@client-b");
        range(&mut e, vers, off);
        range(&mut e, vers, len);
    }
    leak(e)
}

fn nlm_res(stat: u32) -> &'static [u8] {
    let mut e = Enc::new();
    e.opaque(COOKIE).u32(stat);
    leak(e)
}

fn sm_notify_args() -> &'static [u8] {
    let mut e = Enc::new();
    e.string("client-a").i32(3).fixed(&[9; 16]);
    leak(e)
}

/// Representative arguments for every NLM procedure.
fn call_bytes(vers: u32, p: u32) -> &'static [u8] {
    match p {
        0 => &[],
        1 | 6 => test_args(vers, true, LK),
        2 | 7 | 22 => lock_args(vers, true, true, LK, true, 5),
        3 | 8 => canc_args(vers, true, false, LK),
        4 | 9 => unlock_args(vers, LK),
        5 | 10 => test_args(vers, false, LK),
        11 => test_res(vers, 1, true, 7, 0, 10),
        12..=15 => nlm_res(4),
        16 => sm_notify_args(),
        20 | 21 => share_args(1, 3, true),
        23 => {
            let mut e = Enc::new();
            e.string("client-a").i32(0);
            leak(e)
        }
        _ => &[],
    }
}

fn check_lock(l: &Lock<'_>) {
    assert_eq!(l.caller_name.0, b"client-a");
    assert_eq!(l.fh.0, FH);
    assert_eq!(l.oh.0, OH);
    assert_eq!((l.svid, l.offset, l.len), (101, 0, 10));
    assert_eq!(l.end(), Some(10));
}

fn json_proc(v: &impl Serialize) -> String {
    serde_json::to_value(v).unwrap()["proc"].as_str().unwrap().to_string()
}

#[test]
fn proc_names_per_version() {
    assert_eq!(proc_name(1, 2), Some("LOCK"));
    assert_eq!(proc_name(1, 15), Some("GRANTED_RES"));
    assert_eq!(proc_name(1, 16), Some("SM_NOTIFY"));
    assert_eq!(proc_name(1, 20), None);
    assert_eq!(proc_name(2, 1), Some("TEST"));
    assert_eq!(proc_name(3, 17), None);
    assert_eq!(proc_name(3, 20), Some("SHARE"));
    assert_eq!(proc_name(4, 23), Some("FREE_ALL"));
    assert_eq!(proc_name(4, 24), None);
    assert_eq!(proc_name(5, 0), None);
}

#[test]
fn every_call_in_every_version() {
    for vers in [1, 3, 4] {
        for p in (0..=16).chain(20..=23) {
            let b = call_bytes(vers, p);
            let c = decode_call(vers, p, b).unwrap_or_else(|e| panic!("v{vers} proc {p}: {e}"));
            let name = json_proc(&c);
            match proc_name(vers, p) {
                Some(n) => assert_eq!(name, n, "v{vers} proc {p}"),
                None => {
                    assert_eq!(c, Call::Unknown { proc_num: p });
                    assert!(vers == 1 && p >= 20);
                    continue;
                }
            }
            // accessors agree with what was encoded
            match p {
                0 => assert_eq!(c, Call::Null),
                1..=10 | 22 => {
                    check_lock(c.lock().unwrap());
                    assert_eq!(c.cookie().unwrap().0, COOKIE);
                    assert_eq!(c.sync_proc().is_some(), (6..=10).contains(&p));
                }
                _ => assert!(c.lock().is_none()),
            }
            match p {
                1 | 6 => assert_eq!((c.exclusive(), c.block(), c.reclaim()), (Some(true), None, None)),
                2 | 7 | 22 => {
                    assert_eq!((c.exclusive(), c.block(), c.reclaim()), (Some(true), Some(true), Some(true)));
                    assert_eq!(c.state(), Some(5));
                }
                3 | 8 => assert_eq!((c.exclusive(), c.block(), c.reclaim()), (Some(false), Some(true), None)),
                4 | 9 => assert_eq!((c.exclusive(), c.block()), (None, None)),
                5 | 10 => assert_eq!(c.exclusive(), Some(false)),
                11 => {
                    assert_eq!(c.stat(), Some(NlmStat::Denied));
                    let h = c.holder().unwrap();
                    assert_eq!((h.exclusive, h.svid, h.offset, h.len), (true, 7, 0, 10));
                    assert_eq!(c.sync_proc(), Some(1));
                }
                12..=15 => {
                    assert_eq!(c.stat(), Some(NlmStat::DeniedGracePeriod));
                    assert_eq!(c.cookie().unwrap().0, COOKIE);
                    assert_eq!(c.sync_proc(), Some(p - 10));
                }
                16 => {
                    let Call::SmNotify(a) = &c else { panic!("{c:?}") };
                    assert_eq!((a.mon_name.0, a.state, a.priv_.0), (&b"client-a"[..], 3, &[9u8; 16][..]));
                }
                20 | 21 => {
                    let s = c.share().unwrap();
                    assert_eq!((s.mode, s.access, s.fh.0, s.oh.0), (1, 3, FH, OH));
                    assert_eq!(c.reclaim(), Some(true));
                }
                23 => {
                    let Call::FreeAll(a) = &c else { panic!("{c:?}") };
                    assert_eq!((a.name.0, a.state), (&b"client-a"[..], 0));
                }
                _ => {}
            }
        }
    }
}

#[test]
fn every_reply_in_every_version() {
    for vers in [1, 3, 4] {
        for p in (0..=16).chain(20..=23) {
            let b: &[u8] = match p {
                1 => test_res(vers, 0, false, 0, 0, 0),
                2..=5 | 22 => nlm_res(0),
                20 | 21 => {
                    let mut e = Enc::new();
                    e.opaque(COOKIE).u32(0).i32(12);
                    leak(e)
                }
                _ => &[],
            };
            let r = decode_reply(vers, p, b).unwrap_or_else(|e| panic!("v{vers} proc {p}: {e}"));
            if vers == 1 && p >= 20 {
                assert_eq!(r, Reply::Unknown { proc_num: p });
                continue;
            }
            assert_eq!(json_proc(&r), proc_name(vers, p).unwrap(), "v{vers} proc {p}");
            match p {
                1..=5 | 20..=22 => {
                    assert_eq!(r.stat(), Some(NlmStat::Granted), "v{vers} proc {p}");
                    assert_eq!(r.cookie().unwrap().0, COOKIE);
                    assert_eq!(r.to_string().split(' ').next(), Some("GRANTED"));
                }
                _ => {
                    assert_eq!(r.stat(), None);
                    assert_eq!(r.to_string(), "");
                }
            }
            if let Reply::Share(s) | Reply::Unshare(s) = &r {
                assert_eq!(s.sequence, 12);
                assert_eq!(r.to_string(), "GRANTED sequence 12");
            }
        }
    }
}

#[test]
fn denied_with_holder_32_and_64_bit() {
    let b = test_res(1, 1, false, 7, 0xffff_fff0, 0);
    let r = decode_reply(1, 1, b).unwrap();
    assert_eq!(r.stat(), Some(NlmStat::Denied));
    let h = r.holder().unwrap();
    assert_eq!((h.exclusive, h.svid, h.oh.0, h.offset, h.len), (false, 7, &b"7@client-b"[..], 0xffff_fff0, 0));
    assert_eq!(h.end(), None);
    assert_eq!(r.to_string(), "DENIED holder svid 7 shared [4294967280,EOF)");

    let b = test_res(4, 1, true, 7, 1 << 40, 10);
    let r = decode_reply(4, 1, b).unwrap();
    assert_eq!(r.holder().unwrap().offset, 1 << 40);
    assert_eq!(r.to_string(), format!("DENIED holder svid 7 excl [{},{})", 1u64 << 40, (1u64 << 40) + 10));
    // the same bytes read as v3 are 32-bit and leave bytes over: still decodes, differently
    let r3 = decode_reply(3, 1, b).unwrap();
    assert_ne!(r3.holder().unwrap().offset, 1 << 40);
    // a TEST reply other than DENIED carries no holder
    let r = decode_reply(4, 1, test_res(4, 4, false, 0, 0, 0)).unwrap();
    assert_eq!((r.stat(), r.holder()), (Some(NlmStat::DeniedGracePeriod), None));
    assert_eq!(r.to_string(), "DENIED_GRACE_PERIOD");
}

#[test]
fn statuses_and_unknown_status() {
    let names = [
        "GRANTED", "DENIED", "DENIED_NOLOCKS", "BLOCKED", "DENIED_GRACE_PERIOD", "DEADLCK", "ROFS",
        "STALE_FH", "FBIG", "FAILED",
    ];
    for (n, name) in names.iter().enumerate() {
        let s = NlmStat::from_u32(n as u32);
        assert_eq!((s.name(), s.code()), (*name, n as u32));
    }
    let r = decode_reply(4, 2, nlm_res(42)).unwrap();
    assert_eq!(r.stat(), Some(NlmStat::Unknown(42)));
    assert_eq!(r.to_string(), "UNKNOWN(42)");
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["stat"]["code"], 42);
    assert_eq!(j["stat"]["name"], "UNKNOWN");
    // an unknown status in TEST_RES carries no holder and is not an error
    let c = decode_call(4, 11, test_res(4, 77, false, 0, 0, 0)).unwrap();
    assert_eq!((c.stat(), c.holder()), (Some(NlmStat::Unknown(77)), None));
}

#[test]
fn unknown_procedures() {
    for p in [17, 18, 19, 24, 99, u32::MAX] {
        assert_eq!(decode_call(4, p, &[1, 2, 3]).unwrap(), Call::Unknown { proc_num: p });
        assert_eq!(decode_reply(4, p, &[]).unwrap(), Reply::Unknown { proc_num: p });
    }
    assert_eq!(decode_call(1, 22, lock_args(1, false, true, LK, false, 0)).unwrap().to_string(), "proc 22");
}

#[test]
fn every_prefix_of_a_lock_body_is_an_error() {
    for vers in [1, 3, 4] {
        let b = lock_args(vers, true, true, LK, true, 3);
        assert!(decode_call(vers, 2, b).is_ok());
        for n in 0..b.len() {
            assert!(decode_call(vers, 2, &b[..n]).is_err(), "v{vers} prefix {n}");
        }
        let b = test_res(vers, 1, true, 7, 0, 10);
        for n in 0..b.len() {
            assert!(decode_call(vers, 11, &b[..n]).is_err(), "v{vers} TEST_RES prefix {n}");
            assert!(decode_reply(vers, 1, &b[..n]).is_err(), "v{vers} TEST reply prefix {n}");
        }
        let b = share_args(0, 1, false);
        for n in 0..b.len() {
            assert!(decode_call(vers.max(3), 20, &b[..n]).is_err(), "SHARE prefix {n}");
        }
    }
}

#[test]
fn hostile_lengths() {
    // cookie length far beyond the body
    let mut e = Enc::new();
    e.u32(0xffff_fff0).bool(true).bool(true);
    assert!(matches!(decode_call(4, 2, &e.buf), Err(XdrError::BadLength { .. })));
    // caller_name length beyond the body
    let mut e = Enc::new();
    e.opaque(COOKIE).bool(false).bool(true).u32(0x7fff_ffff).u32(0);
    assert!(matches!(decode_call(4, 2, &e.buf), Err(XdrError::BadLength { .. })));
    // owner handle of the holder beyond the body
    let mut e = Enc::new();
    e.opaque(COOKIE).u32(1).bool(true).i32(1).u32(1000).u64(0);
    assert!(decode_reply(4, 1, &e.buf).is_err());
    // SM_NOTIFY with a short priv field
    let mut e = Enc::new();
    e.string("x").i32(1).fixed(&[0; 12]);
    assert!(matches!(decode_call(4, 16, &e.buf), Err(XdrError::Truncated { .. })));
}

#[test]
fn ranges_keep_every_bit() {
    let l = L { off: 0xffff_ffff, len: 0xffff_ffff, ..LK };
    let c = decode_call(1, 2, lock_args(1, false, false, l, false, 0)).unwrap();
    assert_eq!((c.lock().unwrap().offset, c.lock().unwrap().len), (0xffff_ffff, 0xffff_ffff));
    assert_eq!(c.lock().unwrap().end(), Some(0x1_ffff_fffe));
    let l = L { off: u64::MAX - 1, len: 5, ..LK };
    let c = decode_call(4, 2, lock_args(4, false, false, l, false, 0)).unwrap();
    assert_eq!(c.lock().unwrap().offset, u64::MAX - 1);
    assert_eq!(c.lock().unwrap().end(), Some(u64::MAX));
}

#[test]
fn text_summaries() {
    let c = decode_call(4, 2, lock_args(4, false, true, LK, true, 0)).unwrap();
    assert_eq!(c.to_string(), "excl reclaim svid 101 fh 4300000200000000… [0,10) caller client-a");
    let l = L { len: 0, off: 100, ..LK };
    let c = decode_call(3, 2, lock_args(3, true, false, l, false, 3)).unwrap();
    assert_eq!(c.to_string(), "block shared svid 101 fh 4300000200000000… [100,EOF) caller client-a state 3");
    let c = decode_call(4, 7, lock_args(4, false, true, LK, false, 0)).unwrap();
    assert_eq!(c.to_string(), "excl svid 101 fh 4300000200000000… [0,10) caller client-a cookie 00000007");
    let c = decode_call(4, 4, unlock_args(4, LK)).unwrap();
    assert_eq!(c.to_string(), "svid 101 fh 4300000200000000… [0,10) caller client-a");
    let c = decode_call(4, 12, nlm_res(0)).unwrap();
    assert_eq!(c.to_string(), "GRANTED cookie 00000007");
    let c = decode_call(4, 11, test_res(4, 1, true, 7, 0, 10)).unwrap();
    assert_eq!(c.to_string(), "DENIED holder svid 7 excl [0,10) cookie 00000007");
    let c = decode_call(4, 20, share_args(0, 3, true)).unwrap();
    assert_eq!(c.to_string(), "access read/write deny none reclaim fh 4300000200000000… caller client-a");
    let c = decode_call(4, 16, sm_notify_args()).unwrap();
    assert_eq!(c.to_string(), "mon_name client-a state 3");
    assert_eq!(decode_call(4, 0, &[]).unwrap().to_string(), "");
}

#[test]
fn json_carries_every_field() {
    let c = decode_call(4, 2, lock_args(4, true, true, LK, true, 5)).unwrap();
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["proc"], "LOCK");
    assert_eq!(j["cookie"], "00000007");
    assert_eq!((j["block"].as_bool(), j["exclusive"].as_bool(), j["reclaim"].as_bool()), (Some(true), Some(true), Some(true)));
    assert_eq!(j["caller_name"], "client-a");
    assert_eq!(j["fh"], "430000020000000011223344");
    assert_eq!(j["oh"], crate::xdr::hex(OH));
    assert_eq!((j["svid"].as_i64(), j["offset"].as_u64(), j["len"].as_u64(), j["state"].as_i64()), (Some(101), Some(0), Some(10), Some(5)));

    let r = decode_reply(4, 1, test_res(4, 1, true, 7, 3, 4)).unwrap();
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["proc"], "TEST");
    assert_eq!(j["stat"]["name"], "DENIED");
    assert_eq!(j["stat"]["code"], 1);
    assert_eq!(j["holder"]["svid"], 7);
    assert_eq!(j["holder"]["offset"], 3);
    assert_eq!(j["holder"]["exclusive"], true);

    let c = decode_call(3, 21, share_args(2, 1, false)).unwrap();
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!((j["proc"].as_str(), j["mode"].as_u64(), j["access"].as_u64()), (Some("UNSHARE"), Some(2), Some(1)));
    let c = decode_call(4, 16, sm_notify_args()).unwrap();
    assert_eq!(serde_json::to_value(&c).unwrap()["priv"], "09".repeat(16));
}

#[test]
fn mutated_bodies_never_panic() {
    let mut decoded = 0usize;
    for vers in [1, 2, 3, 4] {
        for p in (0..=16).chain(20..=23) {
            let mut bodies = vec![call_bytes(vers, p)];
            bodies.push(test_res(vers, 1, true, 7, 1, 2));
            bodies.push(share_args(1, 1, true));
            for b in bodies {
                for k in 0..b.len() {
                    for v in [0x00, 0x01, 0x7f, 0xff] {
                        let mut m = b.to_vec();
                        m[k] = v;
                        decoded += usize::from(decode_call(vers, p, &m).is_ok());
                        decoded += usize::from(decode_reply(vers, p, &m).is_ok());
                    }
                }
            }
        }
    }
    assert!(decoded > 10_000, "{decoded}");
}
