//! Lab tests: real NFS-Ganesha, rpcbind and rpc.statd in a private network namespace,
//! driven by gracewatch's own client; what the servers answered is checked on the
//! wire as gracewatch decodes it, and tshark checks that the capture is well formed. They need root and the packages listed in `lab::prereq`; without
//! them they print why they are skipped (and fail when CI=true).
//!
//! The lab tests share one lock: they run one after the other.

use gracewatch::capture::{self, Input};
use gracewatch::lab::{self, prereq, scenarios, tshark};
use gracewatch::pipeline::{Config, Sink};
use gracewatch::proto::nfs4::OpArgs;
use gracewatch::proto::{CallBody, ReplyBody};
use gracewatch::rpc::{Kind, Message};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

static LAB_LOCK: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    LAB_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// One RPC message as gracewatch decoded it.
#[derive(Debug, Clone, Default)]
struct Msg {
    frame: u64,
    xid: String,
    reply: bool,
    nlm_stat: Option<u32>,
    /// The COMPOUND status followed by each operation's status.
    nfsstat4: Vec<u32>,
    claim_previous: bool,
    lock_reclaim: bool,
    nlm_reclaim: bool,
    nsm_proc: Option<u32>,
    /// Source and destination IP addresses.
    src: String,
    dst: String,
    /// NLM calls: the procedure, and the lock's file handle (hex), offset and length.
    nlm_proc: Option<u32>,
    nlm_lock: Option<(String, u64, u64)>,
    /// NFSv4 LOCK in a call: offset and length.
    v4_lock: Option<(u64, u64)>,
}

#[derive(Default)]
struct Wire(Vec<Msg>);

impl Sink for Wire {
    fn message(&mut self, m: &Message<'_>) {
        let mut w = Msg {
            frame: m.at.frame,
            xid: format!("{:#010x}", m.xid),
            reply: !m.is_call(),
            src: m.src.ip.to_string(),
            dst: m.dst.ip.to_string(),
            ..Msg::default()
        };
        let id = m.proc_id();
        if id.is_some_and(|i| i.prog == gracewatch::proto::NSM) && m.is_call() {
            w.nsm_proc = id.map(|i| i.proc_);
        }
        match &m.kind {
            Kind::Call { body: CallBody::Nlm(c), .. } => {
                w.nlm_proc = id.map(|i| i.proc_);
                w.nlm_lock = c.lock().map(|l| (l.fh.hex(), l.offset, l.len));
                w.nlm_reclaim = c.reclaim() == Some(true);
                // *_RES calls carry the server's answer
                w.nlm_stat = c.stat().map(|s| s.code());
            }
            Kind::Call { body: CallBody::Nfs4(c), .. } => {
                for a in c.args() {
                    match a {
                        OpArgs::Open(o) => w.claim_previous |= o.claim.claim_type() == 1,
                        OpArgs::Lock(l) => {
                            w.lock_reclaim |= l.reclaim;
                            w.v4_lock = Some((l.offset, l.length));
                        }
                        _ => {}
                    }
                }
            }
            Kind::Reply { body: ReplyBody::Nlm(r), .. } => w.nlm_stat = r.stat().map(|s| s.code()),
            Kind::Reply { body: ReplyBody::Nfs4(r), .. } => {
                w.nfsstat4.push(r.status.code());
                w.nfsstat4.extend(r.ops.iter().map(|o| o.status().code()));
            }
            _ => {}
        }
        self.0.push(w);
    }
}

fn messages(pcap: &Path) -> Vec<Msg> {
    let mut w = Wire::default();
    let r = capture::run(&Input::Files(vec![pcap.to_string_lossy().into_owned()]), Config::default(), &mut w).expect("decode");
    assert!(r.errors.is_empty(), "{}: {:?}", pcap.display(), r.errors);
    assert_eq!(r.counters.tcp_gaps, 0, "{}: the lab capture lost bytes", pcap.display());
    w.0
}

/// The reply to each call (matched by xid, first reply after the call).
fn reply_of<'a>(msgs: &'a [Msg], call: &Msg) -> Option<&'a Msg> {
    msgs.iter().find(|m| m.reply && m.xid == call.xid && m.frame > call.frame)
}

/// Every NLM/NFSv4 call the scenario recorded got, on the wire, the status the
/// client read.
fn check_recorded_statuses(run: &scenarios::Run, msgs: &[Msg]) {
    let by_frame: HashMap<u64, &Msg> = msgs.iter().map(|m| (m.frame, m)).collect();
    let mut checked = 0;
    for e in &run.manifest.events {
        let (Some(code), Some(rf)) = (e.status_code, e.reply_frame) else { continue };
        let m = by_frame.get(&rf).unwrap_or_else(|| panic!("{}: reply frame {rf} of {} not decoded as RPC", run.manifest.name, e.what));
        if e.kind.starts_with("nlm_") {
            assert_eq!(m.nlm_stat, Some(code), "{}: {} (frame {rf})", run.manifest.name, e.what);
            checked += 1;
        } else if e.kind.starts_with("v4_") {
            assert!(m.nfsstat4.contains(&code), "{}: {} (frame {rf}): the wire says {:?}, client read {code}", run.manifest.name, e.what, m.nfsstat4);
            checked += 1;
        }
    }
    assert!(checked >= 3, "{}: only {checked} statuses checked", run.manifest.name);
}

fn count_replies(msgs: &[Msg], pred: impl Fn(&Msg) -> bool, reply_pred: impl Fn(&Msg) -> bool) -> usize {
    msgs.iter().filter(|m| !m.reply && pred(m)).filter(|c| reply_of(msgs, c).is_some_and(&reply_pred)).count()
}

fn nfs4_status(code: u32) -> impl Fn(&Msg) -> bool {
    move |m: &Msg| m.nfsstat4.contains(&code)
}

fn nlm_status(code: u32) -> impl Fn(&Msg) -> bool {
    move |m: &Msg| m.nlm_stat == Some(code)
}

struct Recorded {
    run: scenarios::Run,
    msgs: Vec<Msg>,
}

impl Drop for Recorded {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.run.pcap);
    }
}

/// Record a scenario and run the checks common to all of them.
fn record(name: &str) -> Option<Recorded> {
    if !prereq::ready(name) {
        return None;
    }
    let _g = serial();
    let run = scenarios::record(name, None).unwrap_or_else(|e| panic!("scenario {name}: {e}"));
    eprintln!("{name}: {:.1}s, {} events", run.seconds, run.manifest.events.len());
    let rec = Recorded { msgs: messages(&run.pcap), run };
    let run = &rec.run;
    assert!(run.mismatches.is_empty(), "{name}: servers answered unexpectedly: {:#?}", run.mismatches);
    assert!(lab::still_alive(&run.pids).is_empty(), "{name}: processes outlived the lab: {:?}", lab::still_alive(&run.pids));
    assert!(!lab::netns_exists(&run.netns), "{name}: namespace {} left behind", run.netns);
    let bad = tshark::malformed(&run.pcap).expect("tshark");
    assert!(bad.is_empty(), "{name}: malformed frames:\n{}", bad.join("\n"));
    check_recorded_statuses(run, &rec.msgs);
    Some(rec)
}

#[test]
fn lab_clean_restart() {
    let Some(r) = record("clean-restart") else { return };
    let m = &r.msgs;
    use gracewatch::client::nfs4::status::*;
    // grace refusals
    assert!(count_replies(m, |c| !c.nlm_reclaim && c.nlm_stat.is_none(), nlm_status(4)) >= 1, "NLM LOCK in grace not refused");
    assert!(count_replies(m, |_| true, nfs4_status(GRACE)) >= 1, "no NFS4ERR_GRACE");
    // restart evidence
    assert!(count_replies(m, |_| true, nfs4_status(STALE_CLIENTID)) >= 1, "no NFS4ERR_STALE_CLIENTID");
    assert!(count_replies(m, |_| true, nfs4_status(BADSESSION)) >= 1, "no NFS4ERR_BADSESSION");
    // reclaims accepted in grace
    assert!(count_replies(m, |c| c.nlm_reclaim, nlm_status(0)) >= 3, "NLM reclaims not granted");
    assert!(count_replies(m, |c| c.claim_previous, |r| r.nfsstat4.iter().all(|s| *s == 0)) >= 2, "OPEN CLAIM_PREVIOUS not accepted");
    assert!(count_replies(m, |c| c.lock_reclaim, |r| r.nfsstat4.iter().all(|s| *s == 0)) >= 2, "LOCK reclaim not accepted");
    assert!(count_replies(m, |_| true, nfs4_status(COMPLETE_ALREADY)) >= 1, "second RECLAIM_COMPLETE not refused");
    // after grace
    assert!(count_replies(m, |c| c.nlm_reclaim, nlm_status(4)) >= 1, "NLM reclaim after grace not refused");
    assert!(count_replies(m, |c| c.claim_previous, nfs4_status(NO_GRACE)) >= 2, "reclaim after grace not NO_GRACE");
    let late = r.run.manifest.events.iter().filter(|e| e.what.contains("after grace") && e.status.as_deref() == Some("GRANTED")).count();
    assert_eq!(late, 1, "new NLM lock after grace");
    assert!(r.run.manifest.expected_verdicts.is_empty());
    assert_eq!(r.run.manifest.locks_at_end.len(), 7);
}

#[test]
fn lab_failover() {
    let Some(r) = record("failover") else { return };
    let m = &r.msgs;
    let man = &r.run.manifest;
    assert_eq!(man.servers.iter().map(|s| s.ip.as_str()).collect::<Vec<_>>(), ["127.0.0.2", "127.0.0.3"]);
    // every reclaim on B granted
    let on_b: Vec<_> = man.events.iter().filter(|e| e.server.as_deref() == Some("127.0.0.3") && e.kind.contains("reclaim")).collect();
    assert_eq!(on_b.len(), 7, "{on_b:#?}");
    assert!(on_b.iter().all(|e| e.status_code == Some(0)), "{on_b:#?}");
    assert!(count_replies(m, |c| c.nlm_reclaim, nlm_status(0)) >= 2);
    assert!(count_replies(m, |c| c.lock_reclaim, |r| r.nfsstat4.iter().all(|s| *s == 0)) >= 2);
    assert!(count_replies(m, |c| !c.nlm_reclaim && c.nlm_stat.is_none(), nlm_status(4)) >= 1, "no grace on B");
    assert!(man.locks_at_end.len() == 5 && man.expected_verdicts.is_empty());
    assert_eq!(man.audit_args, ["--failover", "127.0.0.2=127.0.0.3"]);
}

#[test]
fn lab_graceless() {
    let Some(r) = record("graceless") else { return };
    let man = &r.run.manifest;
    // the newcomer's non-reclaim lock right after the restart is granted
    let g = man.events.iter().find(|e| e.what.contains("right after restart") && e.kind == "nlm_lock").expect("newcomer lock");
    assert_eq!(g.status.as_deref(), Some("GRANTED"));
    assert!(man.events.iter().any(|e| e.kind == "v4_lock" && e.what.contains("right after restart") && e.status_code == Some(0)));
    // and the holder's reclaim fails
    let rc = man.events.iter().find(|e| e.kind == "nlm_lock_reclaim").expect("reclaim");
    assert_ne!(rc.status_code, Some(0));
    let ids: Vec<&str> = man.expected_verdicts.iter().map(|v| v.id.as_str()).collect();
    assert!(ids.iter().filter(|i| **i == "GW005").count() == 2, "{ids:?}");
    for v in &man.expected_verdicts {
        assert_eq!(v.frames.len(), v.xids.len(), "verdict {} frames not resolved", v.id);
    }
    // GW005's grant frame carries GRANTED on the wire
    let f = man.expected_verdicts[0].frames[0];
    assert_eq!(r.msgs.iter().find(|m| m.frame == f).and_then(|m| m.nlm_stat), Some(0));
}

#[test]
fn lab_nsm() {
    let Some(r) = record("nsm") else { return };
    let calls = |p: u32| r.msgs.iter().filter(|m| !m.reply && m.nsm_proc == Some(p)).count();
    assert!(calls(2) >= 3, "SM_MON: {}", calls(2));
    assert!(calls(3) >= 2, "SM_UNMON: {}", calls(3));
    assert!(calls(4) >= 2, "SM_UNMON_ALL: {}", calls(4));
    assert_eq!(calls(6), 1, "SM_NOTIFY");
    let notify = r.run.manifest.events.iter().find(|e| e.kind == "nsm" && e.what.starts_with("SM_NOTIFY")).expect("notify event");
    assert_eq!(notify.server.as_deref(), Some("127.0.10.1"));
    assert!(notify.reply_frame.is_some());
}

#[test]
#[ignore = "busy is recorded only (cargo run --example lab_record -- busy); run with --ignored"]
fn lab_busy() {
    let Some(r) = record("busy") else { return };
    assert!(r.run.manifest.locks_at_end.len() > 300);
}

/// Calls matching `pred`, each with its reply, in wire order.
fn answered(msgs: &[Msg], pred: impl Fn(&Msg) -> bool) -> Vec<(&Msg, &Msg)> {
    msgs.iter().filter(|m| !m.reply && pred(m)).filter_map(|c| reply_of(msgs, c).map(|r| (c, r))).collect()
}

fn all_ok(r: &Msg) -> bool {
    !r.nfsstat4.is_empty() && r.nfsstat4.iter().all(|s| *s == 0)
}

const NLM_TEST: u32 = 1;
const NLM_LOCK: u32 = 2;

/// Every expected verdict has its frames resolved, the first of them is a reply
/// on the wire to the verdict's first xid, and the certainty is one of the two words.
fn check_verdict_frames(r: &Recorded) {
    for v in &r.run.manifest.expected_verdicts {
        assert_eq!(v.frames.len(), v.xids.len(), "verdict {} frames not resolved", v.id);
        let f = v.frames[0];
        let m = r.msgs.iter().find(|m| m.frame == f && m.reply).unwrap_or_else(|| panic!("verdict {}: frame {f} is not a reply", v.id));
        assert_eq!(m.xid, format!("{:#010x}", v.xids[0]), "verdict {}", v.id);
        assert!(v.certainty == "certain" || v.certainty == "possible", "{}", v.certainty);
    }
}

fn verdict_ids(man: &gracewatch::lab::manifest::Manifest) -> Vec<(&str, &str, &str)> {
    let mut v: Vec<_> = man.expected_verdicts.iter().map(|v| (v.id.as_str(), v.client.as_str(), v.certainty.as_str())).collect();
    v.sort();
    v
}

#[test]
fn lab_bogus_reclaim() {
    let Some(r) = record("bogus-reclaim") else { return };
    let (m, man) = (&r.msgs, &r.run.manifest);
    check_verdict_frames(&r);
    let (c3, v40) = ("127.0.10.3", "127.0.10.4");
    // The old epoch: the grants before the first grace refusal (the restart lies after them).
    let first_refusal = m.iter().filter(|x| x.reply && x.nlm_stat == Some(4)).map(|x| x.frame).min().expect("grace refusal");
    let old_grants: Vec<_> = answered(m, |c| !c.nlm_reclaim && !c.lock_reclaim && (c.nlm_proc == Some(NLM_LOCK) || c.v4_lock.is_some()))
        .into_iter()
        .filter(|(_, r)| r.frame < first_refusal && (r.nlm_stat == Some(0) || all_ok(r)))
        .collect();
    assert_eq!(old_grants.len(), 2, "old epoch: one NLM and one v4 lock");
    let last_old = old_grants.iter().map(|(_, r)| r.frame).max().unwrap();
    // nlmc3 never talked to the server before the restart ...
    assert!(m.iter().filter(|x| x.src == c3 || x.dst == c3).all(|x| x.frame > last_old), "nlmc3 seen in the old epoch");
    // ... is refused a normal lock, granted the same lock as a reclaim, refused again
    let c3_locks: Vec<(bool, Option<u32>)> = answered(m, |c| c.src == c3 && c.nlm_proc == Some(NLM_LOCK)).iter().map(|(c, r)| (c.nlm_reclaim, r.nlm_stat)).collect();
    assert_eq!(c3_locks, [(false, Some(4)), (true, Some(0)), (false, Some(4))]);
    // the v4.0 client held only [0,100) and reclaims [0,100) and [1000,1100): both granted
    let held: Vec<_> = old_grants.iter().filter(|(c, _)| c.src == v40).map(|(c, _)| c.v4_lock).collect();
    assert_eq!(held, [Some((0, 100))]);
    let rec: Vec<_> = answered(m, |c| c.src == v40 && c.lock_reclaim).iter().map(|(c, r)| (c.v4_lock, all_ok(r))).collect();
    assert_eq!(rec, [(Some((0, 100)), true), (Some((1000, 100)), true)]);
    assert!(count_replies(m, |c| c.claim_previous, all_ok) == 1);
    // after grace the bogus NLM lock is really held: TEST by nlmc1 DENIED
    assert!(answered(m, |c| c.nlm_proc == Some(NLM_TEST)).iter().any(|(_, r)| r.nlm_stat == Some(1)), "TEST not DENIED");
    assert_eq!(verdict_ids(man), [("GW004", "127.0.10.3", "certain"), ("GW004", "127.0.10.4", "certain")]);
    assert_eq!(man.locks_at_end.len(), 4);
}

#[test]
fn lab_failover_norecords() {
    let Some(r) = record("failover-norecords") else { return };
    let (m, man) = (&r.msgs, &r.run.manifest);
    use gracewatch::client::nfs4::status::*;
    check_verdict_frames(&r);
    assert_eq!(man.audit_args, ["--failover", "127.0.0.2=127.0.0.3"]);
    let b = "127.0.0.3";
    // every v4 reclaim on B is refused with NO_GRACE (B has no recovery records)
    let rec: Vec<_> = answered(m, |c| c.dst == b && (c.claim_previous || c.lock_reclaim)).into_iter().map(|(_, r)| r).collect();
    assert_eq!(rec.len(), 2);
    assert!(rec.iter().all(|r| r.nfsstat4.contains(&NO_GRACE)), "{rec:?}");
    assert_eq!(count_replies(m, |c| c.lock_reclaim, all_ok), 0, "a v4 lock was reclaimed");
    let last_no_grace = rec.iter().map(|r| r.frame).max().unwrap();
    // NLM reclaims on B are granted, and B is still in grace after the NO_GRACE answers
    let nlm: Vec<_> = answered(m, |c| c.dst == b && c.nlm_proc == Some(NLM_LOCK));
    let granted_reclaims = nlm.iter().filter(|(c, r)| c.nlm_reclaim && r.nlm_stat == Some(0)).count();
    assert_eq!(granted_reclaims, 2);
    assert!(nlm.iter().any(|(c, r)| !c.nlm_reclaim && r.nlm_stat == Some(4) && r.frame > last_no_grace), "B not in grace after NO_GRACE");
    assert!(answered(m, |c| c.dst == b).iter().any(|(_, r)| r.nfsstat4.contains(&GRACE) && r.frame > last_no_grace), "no NFS4ERR_GRACE on B");
    // grace over on the wire: a reclaim refused, then the newcomer granted
    let over = nlm.iter().find(|(c, r)| c.nlm_reclaim && r.nlm_stat == Some(4)).expect("reclaim after grace refused").1.frame;
    assert!(nlm.iter().any(|(c, r)| !c.nlm_reclaim && r.nlm_stat == Some(0) && r.frame > over));
    // the v4 clients lock the same ranges afresh on B, after grace
    for (client, range) in [("127.0.10.4", (0, 1000)), ("127.0.10.5", (100, 100))] {
        let on_a = answered(m, |c| c.src == client && c.dst == "127.0.0.2" && c.v4_lock.is_some());
        assert!(on_a.iter().any(|(c, r)| c.v4_lock == Some(range) && all_ok(r)), "{client}: no lock on A");
        let fresh = answered(m, |c| c.src == client && c.dst == b && c.v4_lock.is_some() && !c.lock_reclaim);
        assert!(fresh.iter().any(|(c, r)| c.v4_lock == Some(range) && all_ok(r) && r.frame > over), "{client}: no fresh lock on B");
    }
    assert_eq!(verdict_ids(man), [("GW006", "127.0.10.4", "certain"), ("GW006", "127.0.10.5", "certain")]);
    assert!(man.expected_verdicts.iter().all(|v| v.server == b));
}

#[test]
fn lab_cluster() {
    let Some(r) = record("cluster") else { return };
    let (m, man) = (&r.msgs, &r.run.manifest);
    check_verdict_frames(&r);
    assert_eq!(man.audit_args, ["--cluster", "127.0.0.2,127.0.0.3"]);
    let (a, b) = ("127.0.0.2", "127.0.0.3");
    let locks = answered(m, |c| c.nlm_proc == Some(NLM_LOCK));
    // nlmc1's lock through A, and nlmc3's requests through B for the same handle and range
    let (c1, r1) = locks.iter().find(|(c, _)| c.src == "127.0.10.1" && c.dst == a && !c.nlm_reclaim).expect("nlmc1 lock");
    assert_eq!(r1.nlm_stat, Some(0));
    let same: Vec<_> = locks.iter().filter(|(c, _)| c.src == "127.0.10.3" && c.dst == b && c.nlm_lock == c1.nlm_lock).collect();
    assert_eq!(same.iter().map(|(_, r)| r.nlm_stat).collect::<Vec<_>>(), [Some(1), Some(0)], "B: refused before A's restart, granted after");
    // B's grants to nlmc3 lie between two grace refusals of A
    let refusals: Vec<u64> = locks.iter().filter(|(c, r)| c.dst == a && !c.nlm_reclaim && r.nlm_stat == Some(4)).map(|(_, r)| r.frame).collect();
    let grants: Vec<u64> = locks.iter().filter(|(c, r)| c.src == "127.0.10.3" && c.dst == b && r.nlm_stat == Some(0)).map(|(_, r)| r.frame).collect();
    assert_eq!(grants.len(), 2);
    assert!(refusals.len() == 2 && refusals[0] < grants[0] && grants[1] < refusals[1], "{refusals:?} {grants:?}");
    // nlmc1's reclaim through A is then refused: the range is gone
    let rc: Vec<_> = locks.iter().filter(|(c, _)| c.src == "127.0.10.1" && c.nlm_reclaim).map(|(_, r)| r.nlm_stat).collect();
    assert_eq!(rc, [Some(1)]);
    assert_eq!(verdict_ids(man), [("GW005", "127.0.10.3", "certain"), ("GW007", "127.0.10.3", "certain"), ("GW007", "127.0.10.3", "certain")]);
}

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

/// Every committed capture decodes without malformed frames and has a manifest.
#[test]
fn recorded_captures_decode_cleanly() {
    let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
    if std::process::Command::new("tshark").arg("-v").output().is_err() {
        assert!(!ci, "tshark missing under CI=true");
        eprintln!("SKIPPED recorded_captures_decode_cleanly: tshark not installed");
        return;
    }
    let mut n = 0;
    for name in scenarios::ALL {
        let pcap = captures_dir().join(format!("{name}.pcap"));
        let json = captures_dir().join(format!("{name}.json"));
        assert!(pcap.exists() && json.exists(), "{name}: capture or manifest missing");
        let bad = tshark::malformed(&pcap).expect("tshark");
        assert!(bad.is_empty(), "{name}: malformed frames:\n{}", bad.join("\n"));
        let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).expect("manifest JSON");
        for key in ["servers", "events", "locks_at_end", "expected_verdicts"] {
            assert!(m.get(key).is_some(), "{name}: manifest lacks {key}");
        }
        // every recorded call's reply frame exists in the capture
        let frames: std::collections::HashSet<u64> =
            messages(&pcap).into_iter().filter(|m| m.reply).map(|m| m.frame).collect();
        for e in m["events"].as_array().unwrap() {
            if let Some(f) = e.get("reply_frame").and_then(|f| f.as_u64()) {
                assert!(frames.contains(&f), "{name}: reply frame {f} ({}) is not an RPC reply", e["what"]);
            }
        }
        n += 1;
    }
    assert_eq!(n, scenarios::ALL.len());
}
