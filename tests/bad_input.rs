//! Bad input gets one clear line on stderr and exit code 2, never a panic, and what
//! was decoded before the problem is still printed.

mod common;

use common::gracewatch;
use etherparse::PacketBuilder;
use std::io::Write;
use std::path::PathBuf;

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

fn pcap_header(linktype: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&4u16.to_le_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&65535u32.to_le_bytes());
    v.extend_from_slice(&linktype.to_le_bytes());
    v
}

fn record(v: &mut Vec<u8>, sec: u32, frame: &[u8], orig: usize) {
    v.extend_from_slice(&sec.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    v.extend_from_slice(&(orig as u32).to_le_bytes());
    v.extend_from_slice(frame);
}

/// An Ethernet frame with an NFSv3 NULL call over UDP.
fn nfs_null_call(xid: u32) -> Vec<u8> {
    let mut rpc = Vec::new();
    for w in [xid, 0, 2, 100003, 3, 0, 0, 0, 0, 0] {
        rpc.extend_from_slice(&w.to_be_bytes());
    }
    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6]).ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64).udp(800, 2049).write(&mut f, &rpc).unwrap();
    f
}

fn stderr_line(o: &std::process::Output) -> String {
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!e.contains("panicked") && !e.contains("RUST_BACKTRACE"), "panic: {e}");
    e
}

#[test]
fn missing_file() {
    let o = gracewatch(&["decode", "-r", "/nonexistent/x.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr_line(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("/nonexistent/x.pcap") && e.contains("no such file"), "{e}");
}

#[test]
fn not_a_capture() {
    let p = tmp("not-a-capture.pcap", b"this is plainly some text and no capture file at all\n");
    let o = gracewatch(&["decode", "-r", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr_line(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("not a pcap or pcapng capture file"), "{e}");
    let empty = tmp("empty.pcap", b"");
    let o = gracewatch(&["stats", "-r", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr_line(&o).lines().count(), 1);
}

#[test]
fn unsupported_link_type_is_named() {
    let mut v = pcap_header(197);
    record(&mut v, 1, &[0; 40], 40);
    let p = tmp("erf.pcap", &v);
    let o = gracewatch(&["decode", "-r", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr_line(&o);
    assert!(e.contains("unsupported link type ERF (197)"), "{e}");
}

#[test]
fn truncated_capture_keeps_what_was_decoded() {
    let mut v = pcap_header(1);
    record(&mut v, 1, &nfs_null_call(0x1111), nfs_null_call(0x1111).len());
    record(&mut v, 2, &nfs_null_call(0x2222), nfs_null_call(0x2222).len());
    v.truncate(v.len() - 10);
    let p = tmp("truncated.pcap", &v);
    let o = gracewatch(&["decode", "-r", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("xid 0x00001111 NFSv3 NULL call"), "{out}");
    let e = stderr_line(&o);
    assert!(e.contains("truncated capture after frame 1"), "{e}");
}

#[test]
fn corrupt_frames_are_skipped_and_counted() {
    let mut v = pcap_header(1);
    record(&mut v, 1, &nfs_null_call(0xa), nfs_null_call(0xa).len());
    // an IPv4 header whose total length lies, then garbage
    let mut bad = nfs_null_call(0xb);
    bad[16] = 0xff;
    bad[17] = 0xff;
    record(&mut v, 2, &bad, bad.len());
    record(&mut v, 3, &[0xff; 7], 7);
    // hostile RPC: a record mark claiming 2 GiB on TCP port 2049
    let mut tcp = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(700, 2049, 1, 1000)
        .write(&mut tcp, &[0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])
        .unwrap();
    record(&mut v, 4, &tcp, tcp.len());
    record(&mut v, 5, &nfs_null_call(0xc), nfs_null_call(0xc).len());
    let p = tmp("corrupt.pcap", &v);
    let o = gracewatch(&["decode", "-r", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr_line(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("xid 0x0000000a") && out.contains("xid 0x0000000c"), "{out}");
    let o = gracewatch(&["stats", "--json", "-r", p.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["counters"]["malformed_frames"], 2, "{v}");
    assert_eq!(v["counters"]["frames"], 5);
    assert_eq!(v["counters"]["rpc_calls"], 2);
}

#[test]
fn stdin_and_usage_errors() {
    let mut v = pcap_header(1);
    record(&mut v, 1, &nfs_null_call(0x77), nfs_null_call(0x77).len());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gracewatch"))
        .args(["decode", "--json", "-r", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&v).unwrap();
    let o = child.wait_with_output().unwrap();
    let line: serde_json::Value = serde_json::from_slice(o.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["xid"], 0x77);
    assert_eq!(line["proc_name"], "NULL");
    assert_eq!(line["file"], "-");
    // no input at all, and a filter without -i
    let o = gracewatch(&["decode"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_line(&o).contains("no input"));
    let o = gracewatch(&["decode", "-r", "x.pcap", "port", "2049"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn live_capture_buffer_size_out_of_range() {
    for b in ["0", "2097152", "4194304"] {
        let o = gracewatch(&["decode", "-i", "lo", "-B", b, "-c", "1"]);
        assert_eq!(o.status.code(), Some(2));
        let e = stderr_line(&o);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains("--buffer-size must be between 1 and 2097151 KiB"), "{e}");
    }
}

#[test]
fn live_capture_on_missing_interface() {
    let o = gracewatch(&["decode", "-i", "gw-no-such-if0", "-c", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr_line(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("cannot capture on gw-no-such-if0"), "{e}");
}
