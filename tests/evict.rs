//! A full flow table makes room the same way on every run, even when many flows were
//! last seen at the same moment: a real capture with its timestamps in whole seconds,
//! whose connections never close and hold data (see
//! [`common::damage::one_side_with_holes`]), read with a small flow table.
//!
//! Hash maps are seeded once per process, so each run is a child process: this test
//! binary again, running only [`child_decodes_with_a_small_flow_table`].

mod common;

use gracewatch::capture::{run, Input};
use gracewatch::pipeline::{Config, NetEvent, Sink};
use gracewatch::rpc::Message;
use std::path::PathBuf;
use std::process::Command;

const CHILD: &str = "GRACEWATCH_TEST_EVICT_FILE";

struct Print;

impl Sink for Print {
    fn message(&mut self, m: &Message<'_>) {
        println!("SEEN {m:?}");
    }
    fn net_event(&mut self, e: &NetEvent) {
        println!("SEEN {e:?}");
    }
}

/// Only does something when run by the test below, in a process of its own.
#[test]
fn child_decodes_with_a_small_flow_table() {
    let Ok(file) = std::env::var(CHILD) else { return };
    let r = run(&Input::Files(vec![file]), Config { flow_cap: 12, ..Config::default() }, &mut Print).unwrap();
    assert!(r.counters.flows_evicted > 10, "{:?}", r.counters);
    println!("SEEN {:?}", r.counters);
}

#[test]
fn flows_are_evicted_in_the_same_order_every_run() {
    let cap = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/busy.pcap");
    let (bytes, _) = common::damage::one_side_with_holes(&std::fs::read(cap).unwrap());
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("busy-evict.pcap");
    std::fs::write(&p, common::damage::whole_seconds(&bytes)).unwrap();
    let decode = || {
        let o = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_decodes_with_a_small_flow_table", "--nocapture", "--test-threads=1"])
            .env(CHILD, &p)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        let seen: Vec<String> = String::from_utf8_lossy(&o.stdout).lines().filter_map(|l| l.strip_prefix("SEEN ")).map(String::from).collect();
        assert!(seen.len() > 100, "{} items", seen.len());
        seen
    };
    let first = decode();
    for i in 1..6 {
        let again = decode();
        if let Some((n, (a, b))) = first.iter().zip(&again).enumerate().find(|(_, (a, b))| a != b) {
            panic!("run {i} differs from run 0 at item {n}:\n{a}\n{b}");
        }
        assert_eq!(first.len(), again.len(), "run {i}");
    }
}
