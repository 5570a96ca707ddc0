//! The state tracker over real captures: names learnt from MOUNT and NFSv3, `--at`, and
//! the `state` command.

use gracewatch::capture::{self, Input};
use gracewatch::pipeline::Config;
use gracewatch::state::{AtTime, Tracker, TrackerConfig};
use std::path::PathBuf;
use std::process::Command;

fn pool(rel: &str) -> Option<String> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures-pool").join(rel);
    if p.exists() {
        Some(p.to_string_lossy().into_owned())
    } else {
        eprintln!("skipping: {} is not available", p.display());
        None
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn track(file: &str, until: Option<AtTime>) -> Tracker {
    let mut t = Tracker::new(TrackerConfig { until, ..TrackerConfig::default() });
    let report = capture::run(&Input::Files(vec![file.to_string()]), Config::default(), &mut t).expect("capture opens");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    t
}

/// Handles as tshark 4.0 shows them (`nfs.fhandle`) in nfs3-procedure__input.pcap:
/// the MNT reply (frame 6), LOOKUP a (34; later looked up as "am"), LOOKUP b (40),
/// MKDIR d (70), CREATE d/h (74), LOOKUP blns (114).
const ROOT: &str = "00101085000003e7000a00000000b25a00000029000a00000000b25a00000029";
const AM: &str = "00101085000003e7000a00000000a3ec0000000e000a00000000b25a00000029";
const B: &str = "00101085000003e7000a00000000b25d0000002a000a00000000b25a00000029";
const D: &str = "00101085000003e7000a00000000a3e700000010000a00000000b25a00000029";
const DH: &str = "00101085000003e7000a00000000a6540000001b000a00000000b25a00000029";
const BLNS: &str = "00101085000003e7000a00000000a3ed0000000e000a00000000b25a00000029";

#[test]
fn names_from_mount_and_nfs3_lookups() {
    let Some(f) = pool("suricata-verify/nfs3-procedure__input.pcap") else { return };
    let t = track(&f, None);
    let path = |h: &str| t.path(&hex(h));
    assert_eq!(path(ROOT).as_deref(), Some("/home/girlich/export"));
    // "a" was renamed "am": the last name looked up wins.
    assert_eq!(path(AM).as_deref(), Some("/home/girlich/export/am"));
    assert_eq!(path(B).as_deref(), Some("/home/girlich/export/b"));
    assert_eq!(path(D).as_deref(), Some("/home/girlich/export/d"));
    assert_eq!(path(DH).as_deref(), Some("/home/girlich/export/d/h"));
    assert_eq!(path(BLNS).as_deref(), Some("/home/girlich/export/blns"));
    // The MNT root, and the NFSv4.1 client's pseudo root (PUTROOTFH GETFH).
    assert_eq!(t.names().counters.roots, 2);
    // No lock traffic in this capture: no locks (the only server state is that of an
    // NFSv4.1 client that came and went), nothing unconfirmed.
    assert!(t.servers().values().all(|s| s.nlm.locks.is_empty() && s.nfs4.clients.is_empty() && s.nfs4.locks.is_empty()));
    assert!(t.unconfirmed().is_empty());
    assert!(t.counters().messages > 100);
}

#[test]
fn names_at_a_moment() {
    let Some(f) = pool("suricata-verify/nfs3-procedure__input.pcap") else { return };
    // Frame 6 (the MNT reply) is 0.03 s after the first frame, MKDIR's reply 0.29 s.
    let t = track(&f, Some(AtTime::Relative(250_000_000)));
    assert_eq!(t.path(&hex(ROOT)).as_deref(), Some("/home/girlich/export"));
    assert_eq!(t.path(&hex(D)), None);
    assert!(t.counters().after_until > 0);
}

#[test]
fn state_command_json_and_exit_codes() {
    let Some(f) = pool("suricata-verify/nfs3-procedure__input.pcap") else { return };
    let bin = env!("CARGO_BIN_EXE_gracewatch");
    let out = Command::new(bin).args(["state", "-r", &f, "--json"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // Six names from MOUNT and NFSv3, three from NFSv4.1 (/, /vol1, /vol1/file).
    assert_eq!(v["names_known"], 9);
    assert_eq!(v["servers"][0]["nfs4"]["clients"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["servers"][0]["nfs4"]["answers"].as_array().map(Vec::len), Some(9));
    assert!(v["at"].is_null());

    let out = Command::new(bin).args(["state", "-r", &f, "--at", "+0.25"]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // The first frame is at 944207397.28 (tshark frame.time_epoch).
    assert!(text.starts_with("State at 1999-12-03T07:49:57.530000000Z"), "{text}");
    assert!(text.contains("after the moment"), "{text}");

    let out = Command::new(bin).args(["state", "-r", &f, "--at", "yesterday"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad time"));
}

// ---- a small NLM capture written here, through the whole pipeline ----

const NLM: u32 = 100021;

struct Pcap {
    bytes: Vec<u8>,
    t_us: u64,
}

impl Pcap {
    fn new() -> Pcap {
        let mut bytes = Vec::new();
        for w in [0xa1b2c3d4u32.to_le_bytes(), [2, 0, 4, 0], 0u32.to_le_bytes(), 0u32.to_le_bytes(), 65535u32.to_le_bytes(), 1u32.to_le_bytes()] {
            bytes.extend_from_slice(&w);
        }
        Pcap { bytes, t_us: 1_700_000_000_000_000 }
    }

    /// One UDP datagram between 10.0.0.x hosts, 100 ms after the previous one.
    fn udp(&mut self, src: (u8, u16), dst: (u8, u16), payload: &[u8]) {
        let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, src.0], [2, 0, 0, 0, 0, dst.0])
            .ipv4([10, 0, 0, src.0], [10, 0, 0, dst.0], 64)
            .udp(src.1, dst.1);
        let mut frame = Vec::new();
        b.write(&mut frame, payload).expect("frame");
        self.t_us += 100_000;
        let (s, us) = ((self.t_us / 1_000_000) as u32, (self.t_us % 1_000_000) as u32);
        for w in [s, us, frame.len() as u32, frame.len() as u32] {
            self.bytes.extend_from_slice(&w.to_le_bytes());
        }
        self.bytes.extend_from_slice(&frame);
    }
}

fn be(v: &mut Vec<u8>, words: &[u32]) {
    for w in words {
        v.extend_from_slice(&w.to_be_bytes());
    }
}

fn opaque(v: &mut Vec<u8>, b: &[u8]) {
    be(v, &[b.len() as u32]);
    v.extend_from_slice(b);
    v.resize(v.len() + (4 - b.len() % 4) % 4, 0);
}

fn call(xid: u32, proc_: u32, args: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    be(&mut v, &[xid, 0, 2, NLM, 4, proc_, 0, 0, 0, 0]);
    v.extend_from_slice(args);
    v
}

fn reply(xid: u32, result: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    be(&mut v, &[xid, 1, 0, 0, 0, 0]);
    v.extend_from_slice(result);
    v
}

/// `nlm4_lockargs`-style body: cookie, [block], exclusive, lock, [reclaim, state].
fn lock_body(cookie: u32, block: Option<bool>, excl: Option<bool>, who: &str, off: u64, len: u64, tail: bool) -> Vec<u8> {
    let mut v = Vec::new();
    opaque(&mut v, &cookie.to_be_bytes());
    if let Some(b) = block {
        be(&mut v, &[b as u32]);
    }
    if let Some(x) = excl {
        be(&mut v, &[x as u32]);
    }
    opaque(&mut v, who.as_bytes());
    opaque(&mut v, b"FILEHANDLE-1");
    opaque(&mut v, format!("oh-{who}").as_bytes());
    be(&mut v, &[7, (off >> 32) as u32, off as u32, (len >> 32) as u32, len as u32]);
    if tail {
        be(&mut v, &[0, 3]);
    }
    v
}

fn res(cookie: u32, stat: u32) -> Vec<u8> {
    let mut v = Vec::new();
    opaque(&mut v, &cookie.to_be_bytes());
    be(&mut v, &[stat]);
    v
}

#[test]
fn nlm_lock_state_through_the_pipeline() {
    let (a, b, srv) = ((1u8, 800u16), (2u8, 801u16), (100u8, 4045u16));
    let mut p = Pcap::new();
    // A locks [0, 100) exclusively.
    p.udp(a, srv, &call(1, 2, &lock_body(1, Some(false), Some(true), "client-a", 0, 100, true)));
    p.udp(srv, a, &reply(1, &res(1, 0)));
    // B asks for [50, 60) and blocks.
    p.udp(b, srv, &call(2, 2, &lock_body(2, Some(true), Some(true), "client-b", 50, 10, true)));
    p.udp(srv, b, &reply(2, &res(2, 3)));
    // A unlocks [0, 100); the server calls B back and B accepts.
    p.udp(a, srv, &call(3, 4, &lock_body(3, None, None, "client-a", 0, 100, false)));
    p.udp(srv, a, &reply(3, &res(3, 0)));
    p.udp((srv.0, 4046), (b.0, 4045), &call(4, 5, &lock_body(4, None, Some(true), "client-b", 50, 10, false)));
    p.udp((b.0, 4045), (srv.0, 4046), &reply(4, &res(4, 0)));
    // A's next LOCK gets no reply in the capture.
    p.udp(a, srv, &call(5, 2, &lock_body(5, Some(false), Some(false), "client-a", 200, 0, true)));

    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("state-nlm-lock.pcap");
    std::fs::write(&path, &p.bytes).expect("write pcap");
    let file = path.to_string_lossy().into_owned();
    let t = track(&file, None);
    let s = t.server("10.0.0.100".parse().expect("ip")).expect("server state");
    let locks: Vec<_> = s.nlm.locks.iter().map(|(fh, h)| (fh.to_vec(), h.owner.caller_name.to_string(), h.range.start, h.range.end, h.exclusive)).collect();
    assert_eq!(locks, vec![(b"FILEHANDLE-1".to_vec(), "client-b".to_string(), 50, Some(60), true)]);
    assert!(s.nlm.waiters.is_empty());
    let u = t.unconfirmed();
    assert_eq!(u.iter().map(|p| (p.proc_name, p.at.frame)).collect::<Vec<_>>(), vec![("LOCK", 9)]);
    // Just before the unlock's reply, A still held its lock and B waited.
    let t = track(&file, Some(AtTime::Relative(450_000_000)));
    let s = t.server("10.0.0.100".parse().expect("ip")).expect("server state");
    assert_eq!(s.nlm.locks.iter().map(|(_, h)| h.owner.caller_name.to_string()).collect::<Vec<_>>(), vec!["client-a".to_string()]);
    assert_eq!(s.nlm.waiters.len(), 1);

    let out = Command::new(env!("CARGO_BIN_EXE_gracewatch")).args(["state", "-r", &file]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for want in ["Server 10.0.0.100", "NLM locks held: 1", "client-b", "[50, 60)", "callback", "Unconfirmed calls (no answer captured): 1"] {
        assert!(text.contains(want), "{want:?} missing in\n{text}");
    }
}
