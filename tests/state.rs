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
    assert_eq!(t.names().counters.roots, 1);
    // No lock traffic in this capture: no lock servers, nothing unconfirmed.
    assert!(t.servers().is_empty());
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
    assert_eq!(v["names_known"], 6);
    assert_eq!(v["servers"].as_array().map(Vec::len), Some(0));
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
