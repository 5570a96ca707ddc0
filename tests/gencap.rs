//! The benchmark capture generator (`examples/gencap`): a small generated capture
//! decodes in gracewatch with no malformed RPC, every message matched and decoded,
//! the restart and reclaims seen by the audit with no verdict, and in tshark without a
//! malformed frame and with the same RPC messages.

#[allow(dead_code)]
#[path = "../examples/gencap/sim.rs"]
mod sim;
#[allow(dead_code)]
#[path = "../examples/gencap/wire.rs"]
mod wire;

mod common;

use common::{have, skip};
use gracewatch::audit::{AuditConfig, Auditor};
use gracewatch::capture::{self, Input};
use gracewatch::pipeline::{Config, NetEvent, Sink};
use gracewatch::proto::{CallBody, ReplyBody};
use gracewatch::rpc::{Kind, Message};
use std::path::PathBuf;
use std::process::Command;

fn small() -> (PathBuf, sim::Summary) {
    let path = std::env::temp_dir().join(format!("gencap-test-{}.pcap", std::process::id()));
    let p = sim::Params { clients: 60, cycles: 8, ..sim::Params::default() };
    let f = std::io::BufWriter::new(std::fs::File::create(&path).expect("temp file"));
    let (s, w) = sim::generate(p, f).expect("generate");
    drop(w);
    (path, s)
}

#[derive(Default)]
struct Count {
    calls: u64,
    replies: u64,
    undecoded: u64,
    unmatched: u64,
    resets: u64,
}

impl Sink for Count {
    fn message(&mut self, m: &Message<'_>) {
        match &m.kind {
            Kind::Call { body, .. } => {
                self.calls += 1;
                if matches!(body, CallBody::Malformed(_) | CallBody::NotDecoded) {
                    self.undecoded += 1;
                }
            }
            Kind::Reply { body, id, .. } => {
                self.replies += 1;
                if id.is_none() {
                    self.unmatched += 1;
                }
                if matches!(body, ReplyBody::Malformed(_) | ReplyBody::NotDecoded) {
                    self.undecoded += 1;
                }
            }
        }
    }
    fn net_event(&mut self, e: &NetEvent) {
        if matches!(e, NetEvent::Reset { .. }) {
            self.resets += 1;
        }
    }
}

#[test]
fn generated_capture_decodes_cleanly_in_gracewatch_and_tshark() {
    let (path, s) = small();
    assert!(s.packets > 3000 && s.packets < 30_000, "a few thousand packets, got {}", s.packets);
    assert!(s.crash_at < s.up_at && s.up_at < s.grace_end && s.grace_end < s.last);

    let input = Input::Files(vec![path.to_string_lossy().into_owned()]);
    let mut c = Count::default();
    let r = capture::run(&input, Config::default(), &mut c).expect("run");
    let k = &r.counters;
    assert_eq!(k.frames, s.packets);
    assert_eq!((k.malformed_frames, k.malformed_rpc, k.partial_unreadable, k.partial_records), (0, 0, 0, 0), "{k:?}");
    assert_eq!((k.tcp_gaps, k.records_damaged, k.orphan_replies, k.hunted_bytes), (0, 0, 0, 0), "{k:?}");
    assert_eq!(c.undecoded, 0, "every call and reply body decodes");
    assert_eq!(c.unmatched, 0);
    // Unanswered: the call each client sent into the dead server, and the first call
    // each NLM client makes on its idle NFS connection afterwards (answered by a reset).
    assert_eq!(c.calls - c.replies, 60 + 30);
    assert!(k.tcp_retransmitted_bytes > 0, "the lost calls are retransmitted");
    assert!(c.resets >= 60, "the new instance resets the old connections");

    let mut a = Auditor::new(AuditConfig::default());
    capture::run(&input, Config::default(), &mut a).expect("audit run");
    a.finish();
    assert!(a.verdicts().is_empty(), "a correct server: no verdict, got {:?}", a.verdicts().first());
    let sa = a.servers().get(&std::net::IpAddr::from(sim::SERVER)).expect("server audited");
    assert_eq!(sa.epochs.len(), 2, "the restart opens a second epoch");
    assert!(sa.epochs[1].restarted);
    let ts = |t: i64| t / 1_000_000_000;
    assert!(ts(sa.epochs[1].earliest_start()) >= ts(s.crash_at) - 1 && sa.epochs[1].start_hi.ts <= s.up_at + 10_000_000_000);
    assert_eq!(sa.old.len(), 60 + sa.old.iter().filter(|o| o.lock.range.length() != Some(4096)).count(), "every long-held lock is reclaimable");
    assert!(sa.old.iter().all(|o| o.reclaimed.is_some()), "and reclaimed");

    if !have("tshark") {
        skip("tshark not installed");
        let _ = std::fs::remove_file(&path);
        return;
    }
    let out = Command::new("tshark").arg("-n").arg("-r").arg(&path).args(["-Y", "_ws.malformed || _ws.expert.severity == error"]).output().expect("tshark");
    let bad = String::from_utf8_lossy(&out.stdout);
    assert!(bad.trim().is_empty(), "tshark finds malformed frames:\n{}", bad.lines().take(5).collect::<Vec<_>>().join("\n"));
    let out = Command::new("tshark").arg("-n").arg("-r").arg(&path).args(["-Y", "rpc", "-T", "fields", "-e", "rpc.msgtyp"]).output().expect("tshark");
    let text = String::from_utf8_lossy(&out.stdout);
    let types: Vec<&str> = text.lines().flat_map(|l| l.split(',')).collect();
    assert_eq!(types.iter().filter(|t| **t == "0").count() as u64, c.calls, "tshark sees the same calls");
    assert_eq!(types.iter().filter(|t| **t == "1").count() as u64, c.replies, "and the same replies");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn doubling_cycles_doubles_the_traffic_not_the_clients() {
    let gen = |clients, cycles| {
        let p = sim::Params { clients, cycles, ..sim::Params::default() };
        sim::generate(p, std::io::sink()).expect("generate").0
    };
    let base = gen(20, 20);
    let longer = gen(20, 40);
    let wider = gen(40, 20);
    let ratio = |a: &sim::Summary, b: &sim::Summary| a.packets as f64 / b.packets as f64;
    assert!((1.4..2.2).contains(&ratio(&longer, &base)), "{} vs {}", longer.packets, base.packets);
    assert!((1.8..2.2).contains(&ratio(&wider, &base)), "{} vs {}", wider.packets, base.packets);
    assert!(longer.last - longer.first > base.last - base.first + 15_000_000_000, "more cycles take longer");
}
