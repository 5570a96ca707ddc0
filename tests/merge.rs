//! Several `-r` files are read as one stream, merged by timestamp, each keeping its own
//! frame numbers (as captures from several cluster nodes would be).

mod common;

use common::gracewatch;
use std::path::Path;

#[test]
fn files_merge_by_time() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let (a, b) = (dir.join("nsm.pcap"), dir.join("graceless.pcap"));
    let o = gracewatch(&["decode", "--json", "-r", a.to_str().unwrap(), "-r", b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let recs: Vec<serde_json::Value> = o.stdout.split(|&c| c == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    let one = |p: &Path| {
        let o = gracewatch(&["decode", "--json", "-r", p.to_str().unwrap()]);
        o.stdout.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count()
    };
    assert_eq!(recs.len(), one(&a) + one(&b), "every message of both files");
    let ts: Vec<f64> = recs.iter().map(|r| r["ts"].as_f64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "merged by time");
    for f in [&a, &b] {
        let frames: Vec<u64> = recs.iter().filter(|r| r["file"] == f.to_str().unwrap()).map(|r| r["frame"].as_u64().unwrap()).collect();
        assert!(!frames.is_empty());
        assert!(frames.windows(2).all(|w| w[0] <= w[1]), "each file keeps its own frame numbers");
    }
    // text output names the file of each line when several are merged
    let t = gracewatch(&["decode", "-r", a.to_str().unwrap(), "-r", b.to_str().unwrap()]);
    let first = String::from_utf8_lossy(&t.stdout).lines().next().unwrap().to_string();
    assert!(first.starts_with(a.to_str().unwrap()) || first.starts_with(b.to_str().unwrap()), "{first}");
}
