//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod damage;

use gracewatch::capture::{self, Input, RunReport};
use gracewatch::pipeline::{Config, Sink};
use gracewatch::rpc::{Kind, Message};
use std::path::{Path, PathBuf};
use std::process::Command;

/// True when running under CI, where a missing prerequisite is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skip a test (print why), or fail it under CI.
pub fn skip(why: &str) {
    if under_ci() {
        panic!("prerequisite missing under CI: {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// `../shared/captures-pool`, when present.
pub fn pool() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures-pool");
    p.is_dir().then_some(p)
}

pub fn have(cmd: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {cmd}")).output().is_ok_and(|o| o.status.success())
}

/// Every capture file below `dir`, sorted.
pub fn captures_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "pcapng")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The pool's bz2-compressed originals, decompressed once into the target dir.
pub fn pool_originals(pool: &Path) -> Vec<PathBuf> {
    let src = pool.join("nfstrace/originals-bz2");
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pool-originals");
    let _ = std::fs::create_dir_all(&cache);
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(&src) else { return out };
    let mut names: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "bz2")).collect();
    names.sort();
    for p in names {
        let stem = p.file_stem().expect("name").to_owned();
        let dst = cache.join(&stem);
        if !dst.exists() {
            let tmp = cache.join(format!("{}.tmp", stem.to_string_lossy()));
            let f = std::fs::File::create(&tmp).expect("create");
            let ok = Command::new("bzip2").arg("-dc").arg(&p).stdout(f).status().is_ok_and(|s| s.success());
            assert!(ok, "bzip2 -dc {} failed", p.display());
            std::fs::rename(&tmp, &dst).expect("rename");
        }
        out.push(dst);
    }
    out
}

/// One RPC message as both decoders can describe it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seen {
    pub frame: u64,
    pub reply: bool,
    pub xid: u32,
    pub prog: Option<u32>,
    pub proc_: Option<u32>,
}

#[derive(Default)]
pub struct Collect {
    pub seen: Vec<Seen>,
}

impl Sink for Collect {
    fn message(&mut self, m: &Message<'_>) {
        let id = m.proc_id();
        self.seen.push(Seen {
            frame: m.at.frame,
            reply: matches!(m.kind, Kind::Reply { .. }),
            xid: m.xid,
            prog: id.map(|i| i.prog),
            proc_: id.map(|i| i.proc_),
        });
    }
}

/// Decode a file in-process.
pub fn decode(path: &Path) -> (Vec<Seen>, gracewatch::Result<RunReport>) {
    let mut c = Collect::default();
    let r = capture::run(&Input::Files(vec![path.to_string_lossy().into_owned()]), Config::default(), &mut c);
    (c.seen, r)
}

/// Run the gracewatch binary built for the tests.
pub fn gracewatch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gracewatch")).args(args).output().expect("run gracewatch")
}
