//! Live capture through libpcap, inside a private network namespace with only `lo`:
//! a BPF filter, `-c`, the received/dropped counts at exit, and decoded messages.

mod common;

use common::{have, skip};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "delete", &self.0]).status();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn live_capture_on_loopback() {
    if !is_root() || !have("ip") {
        return skip("live capture needs root and iproute2");
    }
    let name = format!("gw-live-{}", std::process::id());
    let ok = Command::new("ip").args(["netns", "add", &name]).status().is_ok_and(|s| s.success());
    if !ok {
        return skip("cannot create a network namespace here");
    }
    let ns = Netns(name);
    assert!(Command::new("ip").args(["netns", "exec", &ns.0, "ip", "link", "set", "lo", "up"]).status().unwrap().success());
    let mut gw = Command::new("ip")
        .args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_gracewatch"), "decode", "--json", "-i", "lo", "-c", "4", "--duration", "20"])
        .args(["udp", "port", "2049"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // An NFSv3 NULL call (xid 0x0000beef) sent over UDP until the capture has seen it;
    // a datagram to another port must be filtered out.
    let call = r"\x00\x00\xbe\xef\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01\x86\xa3\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    let script = format!("printf '{call}' > /dev/udp/127.0.0.1/9999; printf '{call}' > /dev/udp/127.0.0.1/2049");
    let start = Instant::now();
    while gw.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(25) {
        let _ = Command::new("ip").args(["netns", "exec", &ns.0, "bash", "-c", &script]).status();
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = gw.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty(), "nothing decoded; stderr: {stderr}");
    for l in &lines {
        assert_eq!(l["xid"], 0xbeef);
        assert_eq!(l["dport"], 2049, "the filter let through {l}");
        assert_eq!(l["proc_name"], "NULL");
        assert_eq!(l["file"], "lo");
    }
    assert!(stderr.contains("packets received by filter") && stderr.contains("dropped by kernel"), "{stderr}");
}

#[test]
fn live_capture_without_permission_says_what_is_missing() {
    if !is_root() || !have("setpriv") {
        return skip("this check drops root with setpriv");
    }
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", env!("CARGO_BIN_EXE_gracewatch"), "decode", "-i", "lo", "-c", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("cannot capture on lo") && e.contains("CAP_NET_RAW"), "{e}");
}

#[test]
fn live_audit_gives_the_file_audits_verdicts() {
    if !is_root() || !have("ip") || !have("tcpreplay") {
        return skip("the live audit check needs root, iproute2 and tcpreplay");
    }
    let name = format!("gw-laud-{}", std::process::id());
    if !Command::new("ip").args(["netns", "add", &name]).status().is_ok_and(|s| s.success()) {
        return skip("cannot create a network namespace here");
    }
    let ns = Netns(name);
    let ip = |args: &[&str]| Command::new("ip").args(["netns", "exec", &ns.0]).args(args).status().unwrap().success();
    // A veth pair with no addresses: frames replayed on one end arrive at the other, where
    // they are captured and then dropped (not addressed to it), so the namespace's own
    // stack never answers the replayed traffic.
    assert!(ip(&["ip", "link", "add", "gwr0", "type", "veth", "peer", "name", "gwd0"]));
    assert!(ip(&["ip", "link", "set", "gwr0", "up"]) && ip(&["ip", "link", "set", "gwd0", "up"]));
    let pcap = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/graceless.pcap");
    let file = common::gracewatch(&["audit", "--json", "--grace-period", "10", "-r", pcap.to_str().unwrap()]);
    let want: serde_json::Value = serde_json::from_slice(&file.stdout).unwrap();
    let gw = Command::new("ip")
        .args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_gracewatch"), "audit", "--json", "--grace-period", "10", "-i", "gwd0", "--duration", "12"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(ip(&["tcpreplay", "-q", "-i", "gwr0", pcap.to_str().unwrap()]), "tcpreplay failed");
    let out = gw.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // live output: verdicts found during the capture (one JSON object per line), then the report
    let text = String::from_utf8_lossy(&out.stdout);
    let report_at = text.find("{\n").expect("report");
    let got: serde_json::Value = serde_json::from_str(&text[report_at..]).unwrap();
    let ids = |v: &serde_json::Value| {
        let mut x: Vec<(String, String)> = v["verdicts"].as_array().unwrap().iter().map(|v| (v["id"].as_str().unwrap().into(), v["certainty"].as_str().unwrap().into())).collect();
        x.sort();
        x
    };
    assert_eq!(ids(&got), ids(&want), "live audit verdicts");
    assert!(stderr.contains("packets received by filter"), "{stderr}");
}

/// libpcap can wait for ever on an interface that carries nothing: `--duration` and an
/// interrupt must still end the capture, with its counts, in either delivery mode.
#[test]
fn live_capture_on_an_idle_interface_ends_on_duration_and_on_interrupt() {
    if !is_root() || !have("ip") {
        return skip("live capture needs root and iproute2");
    }
    let name = format!("gw-idle-{}", std::process::id());
    if !Command::new("ip").args(["netns", "add", &name]).status().is_ok_and(|s| s.success()) {
        return skip("cannot create a network namespace here");
    }
    let ns = Netns(name);
    assert!(Command::new("ip").args(["netns", "exec", &ns.0, "ip", "link", "set", "lo", "up"]).status().unwrap().success());
    // `ip netns exec` execs the command: the child is gracewatch itself.
    let run = |extra: &[&str], interrupt: bool| {
        let mut gw = Command::new("ip")
            .args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_gracewatch"), "decode", "-i", "lo"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if interrupt {
            std::thread::sleep(Duration::from_millis(800));
            // SAFETY: kill has no memory preconditions; the pid is our child's.
            assert_eq!(unsafe { libc::kill(gw.id() as libc::pid_t, libc::SIGINT) }, 0);
        }
        let start = Instant::now();
        while gw.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let ended = gw.try_wait().unwrap().is_some();
        if !ended {
            let _ = gw.kill();
        }
        let out = gw.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(ended, "{extra:?} (interrupt: {interrupt}) still capturing after 30 s; stderr: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {stderr}");
        assert!(stderr.contains("0 packets received by filter"), "{extra:?}: {stderr}");
    };
    run(&["--duration", "1"], false);
    run(&["--duration", "1", "--immediate-mode"], false);
    run(&[], true);
    run(&["--immediate-mode", "-B", "1024"], true);
}
