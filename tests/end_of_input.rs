//! What the flows still hold at end of input comes out the same way on every run.
//!
//! The input is a real capture seen from one side only, with a segment and the close
//! of every connection lost (see [`common::damage::one_side_with_holes`]): everything
//! each connection sent after its hole is held until the end of input and flushed then.

mod common;

use common::gracewatch;
use std::path::PathBuf;

fn run(args: &[&str]) -> Vec<u8> {
    let o = gracewatch(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    [o.stdout, o.stderr].concat()
}

#[test]
fn held_data_is_flushed_in_the_same_order_every_run() {
    let cap = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/busy.pcap");
    let (bytes, held) = common::damage::one_side_with_holes(&std::fs::read(cap).unwrap());
    assert!(held >= 20, "only {held} connections hold data at the end");
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("busy-one-side-holes.pcap");
    std::fs::write(&p, bytes).unwrap();
    let file = p.to_str().unwrap();

    // The input does what it is for: many connections' messages come out late, at the end.
    let json = run(&["decode", "--json", "-r", file]);
    let mut newest = 0;
    let mut late = std::collections::BTreeSet::new();
    for v in String::from_utf8_lossy(&json).lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()) {
        let frame = v["frame"].as_u64().unwrap();
        if frame < newest {
            late.insert((v["src"].to_string(), v["sport"].as_u64()));
        }
        newest = newest.max(frame);
    }
    assert!(late.len() >= 20, "messages of only {} connections come out at the end", late.len());

    // Each process seeds its hash maps afresh: every run must still print the same.
    for args in [&["decode", "-r", file][..], &["decode", "--json", "-r", file], &["stats", "--json", "-r", file]] {
        let first = run(args);
        for i in 1..6 {
            let again = run(args);
            if again != first {
                let (a, b) = (String::from_utf8_lossy(&first), String::from_utf8_lossy(&again));
                let (n, (x, y)) = a.lines().zip(b.lines()).enumerate().find(|(_, (x, y))| x != y).unwrap_or((0, ("", "")));
                panic!("{args:?}: run {i} differs from run 0 at line {n}:\n{x}\n{y}");
            }
        }
    }
}
