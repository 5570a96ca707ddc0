//! Reading a file on two threads (the pipeline beside the sink) hands the sink exactly
//! what one thread does: the same messages, bodies, network events and counters, in the
//! same order, on the project's captures and on the pool's when they are there.

use gracewatch::capture::{run_threads, Input};
use gracewatch::pipeline::{Config, NetEvent, Sink};
use gracewatch::rpc::Message;
use std::path::{Path, PathBuf};

#[derive(Default)]
struct Collect {
    seen: Vec<String>,
    bodies: usize,
}

impl Sink for Collect {
    fn message(&mut self, m: &Message<'_>) {
        let s = format!("{m:?}");
        if !s.contains("NotDecoded") {
            self.bodies += 1;
        }
        self.seen.push(s);
    }
    fn net_event(&mut self, e: &NetEvent) {
        self.seen.push(format!("{e:?}"));
    }
}

fn both(files: &[PathBuf], cfg: Config) -> (usize, usize) {
    let input = Input::Files(files.iter().map(|p| p.to_string_lossy().into_owned()).collect());
    let (mut one, mut two) = (Collect::default(), Collect::default());
    let r1 = run_threads(&input, cfg.clone(), 1, &mut one).unwrap();
    let r2 = run_threads(&input, cfg, 2, &mut two).unwrap();
    assert_eq!(one.seen.len(), two.seen.len(), "{files:?}");
    for (i, (a, b)) in one.seen.iter().zip(&two.seen).enumerate() {
        assert_eq!(a, b, "{files:?}: item {i} differs");
    }
    assert_eq!(format!("{:?}", r1.counters), format!("{:?}", r2.counters));
    assert_eq!(r1.errors.len(), r2.errors.len());
    (one.seen.len(), one.bodies)
}

fn captures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "pcap")).collect();
    v.sort();
    v
}

#[test]
fn two_threads_give_the_sink_what_one_does() {
    let caps = captures();
    assert!(caps.len() >= 8);
    for c in &caps {
        let (items, bodies) = both(std::slice::from_ref(c), Config::default());
        assert!(items > 10 && bodies > 0, "{c:?}: {items} items, {bodies} with bodies");
    }
    // Several files merged by time.
    both(&caps[..3], Config::default());
    // Headers only: no bodies on either side.
    let (_, bodies) = both(&caps[..1], Config { decode_bodies: false, ..Config::default() });
    assert_eq!(bodies, 0);
}

#[test]
fn two_threads_keep_what_a_truncated_file_had() {
    let src = std::fs::read(&captures()[0]).unwrap();
    let cut = std::env::temp_dir().join(format!("gw-threads-cut-{}.pcap", std::process::id()));
    std::fs::write(&cut, &src[..src.len() * 2 / 3]).unwrap();
    let input = Input::Files(vec![cut.to_string_lossy().into_owned()]);
    let (mut one, mut two) = (Collect::default(), Collect::default());
    let r1 = run_threads(&input, Config::default(), 1, &mut one).unwrap();
    let r2 = run_threads(&input, Config::default(), 2, &mut two).unwrap();
    std::fs::remove_file(&cut).unwrap();
    assert!(!one.seen.is_empty());
    assert_eq!(one.seen, two.seen);
    assert_eq!(r1.errors.len(), 1, "the cut is reported");
    assert_eq!(r2.errors.len(), 1);
}

#[test]
fn two_threads_on_the_pool_captures() {
    let pool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures-pool");
    let Ok(walk) = std::fs::read_dir(&pool) else { return };
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = walk.filter_map(|e| e.ok().map(|e| e.path())).collect();
    while let Some(d) = dirs.pop() {
        if d.is_dir() {
            dirs.extend(std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok().map(|e| e.path())));
        } else if d.extension().is_some_and(|x| x == "pcap" || x == "pcapng") && d.metadata().is_ok_and(|m| m.len() < 20 << 20) {
            files.push(d);
        }
    }
    files.sort();
    let mut total = 0;
    for f in &files {
        let input = Input::Files(vec![f.to_string_lossy().into_owned()]);
        if run_threads(&input, Config::default(), 1, &mut Collect::default()).is_err() {
            continue; // not a capture gracewatch reads (its own error is tested elsewhere)
        }
        total += both(std::slice::from_ref(f), Config::default()).0;
    }
    assert!(files.is_empty() || total > 0);
}
