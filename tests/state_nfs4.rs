//! NFSv4 state over the lab's recorded captures of NFS-Ganesha, checked against each
//! capture's manifest: the locks, opens and clients held at the end, the restart and
//! grace evidence the calls met, and in `clean-restart` the state just before and
//! just after the restart. Expectations come from the manifests only.

use gracewatch::capture::{self, Input, Merged};
use gracewatch::net::Ts;
use gracewatch::pipeline::Config;
use gracewatch::state::nfs4::{EvidenceKind, Nfs4State};
use gracewatch::state::{AtTime, Tracker, TrackerConfig};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

fn path(name: &str, ext: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures").join(format!("{name}.{ext}")).to_string_lossy().into_owned()
}

fn manifest(name: &str) -> Value {
    let text = std::fs::read_to_string(path(name, "json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest json")
}

fn track(name: &str, until: Option<Ts>) -> Tracker {
    let mut t = Tracker::new(TrackerConfig { until: until.map(AtTime::Absolute), ..TrackerConfig::default() });
    let report = capture::run(&Input::Files(vec![path(name, "pcap")]), Config::default(), &mut t).expect("capture opens");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    t
}

/// The first frame's timestamp: manifest times count from it.
fn first_ts(name: &str) -> Ts {
    let mut m = Merged::open(&[path(name, "pcap")]).expect("open");
    let stop = AtomicBool::new(false);
    let mut first = None;
    m.run(&stop, &mut |f| {
        first.get_or_insert(f.at.ts);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    first.expect("a frame")
}

fn at(first: Ts, t: f64) -> Ts {
    first + (t * 1e9).round() as Ts
}

fn ip(v: &Value) -> IpAddr {
    v.as_str().and_then(|s| s.parse().ok()).expect("ip address")
}

fn s(v: &Value) -> String {
    v.as_str().expect("string").to_string()
}

/// One NFSv4 lock as the manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Lock {
    server: IpAddr,
    client_addr: IpAddr,
    minor: u32,
    client_owner: String,
    clientid: String,
    open_owner: String,
    lock_owner: String,
    open_stateid: String,
    lock_stateid: String,
    fh: String,
    offset: u64,
    end: Option<u64>,
    write: bool,
    reclaim: bool,
}

fn end_of(offset: u64, length: u64) -> Option<u64> {
    match length {
        0 | u64::MAX => None,
        n => offset.checked_add(n),
    }
}

fn manifest_locks(m: &Value) -> Vec<Lock> {
    let mut v: Vec<Lock> = m["locks_at_end"]
        .as_array()
        .expect("locks_at_end")
        .iter()
        .filter(|l| l["protocol"] == "nfs4")
        .map(|l| {
            let offset = l["offset"].as_u64().expect("offset");
            Lock {
                server: ip(&l["server"]),
                client_addr: ip(&l["client_addr"]),
                minor: l["minor"].as_u64().expect("minor") as u32,
                client_owner: s(&l["client_owner"]),
                clientid: s(&l["clientid"]),
                open_owner: s(&l["open_owner"]),
                lock_owner: s(&l["lock_owner"]),
                open_stateid: s(&l["open_stateid"]),
                lock_stateid: s(&l["lock_stateid"]),
                fh: s(&l["fh"]),
                offset,
                end: end_of(offset, l["length"].as_u64().expect("length")),
                write: l["write"].as_bool().expect("write"),
                reclaim: l["via_reclaim"].as_bool().expect("via_reclaim"),
            }
        })
        .collect();
    v.sort();
    v
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The tracker's NFSv4 locks of `server` in the manifest's terms (current epoch, or
/// old epoch).
fn tracked_locks(st: &Nfs4State, server: IpAddr, old: bool) -> Vec<Lock> {
    let mut v: Vec<Lock> = st
        .held()
        .filter(|l| l.is_stale() == old)
        .map(|l| {
            let h = l.held;
            let client = l.client.expect("a client for every lock");
            let open = l.open_stateid.and_then(|o| st.opens.get(&o.other));
            Lock {
                server,
                client_addr: client.addr,
                minor: h.meta.minor,
                client_owner: client.owner_text(),
                clientid: format!("{:016x}", h.owner.clientid),
                open_owner: open.map(|o| hex(&o.open_owner)).unwrap_or_default(),
                lock_owner: hex(&h.owner.owner),
                open_stateid: l.open_stateid.map(|x| x.hex()).unwrap_or_default(),
                lock_stateid: l.stateid.map(|x| x.hex()).unwrap_or_default(),
                fh: hex(l.fh),
                offset: h.range.start,
                end: h.range.end,
                write: h.exclusive,
                reclaim: h.meta.reclaim,
            }
        })
        .collect();
    v.sort();
    v
}

fn events<'a>(m: &'a Value, pred: impl Fn(&Value) -> bool + 'a) -> impl Iterator<Item = &'a Value> + 'a {
    m["events"].as_array().expect("events").iter().filter(move |e| pred(e))
}

/// NFSv4 clients the manifest names: (address, minor, owner).
fn manifest_clients(m: &Value) -> BTreeSet<(IpAddr, u32, String)> {
    let mut out = BTreeSet::new();
    for c in m["clients"].as_array().expect("clients") {
        let line = c.as_str().expect("client line");
        let Some((head, owner)) = line.split_once(" client owner ") else { continue };
        let mut w = head.split_whitespace();
        let addr: IpAddr = w.next().and_then(|a| a.parse().ok()).expect("address");
        let minor = if head.contains("NFSv4.1") { 1 } else { 0 };
        let owner = owner.split_whitespace().next().expect("owner").to_string();
        out.insert((addr, minor, owner));
    }
    out
}

/// The end state of every server IP the manifest lists locks for equals the manifest;
/// servers without any listed lock keep what their calls were granted.
fn check_end(name: &str) {
    let m = manifest(name);
    let t = track(name, None);
    let want = manifest_locks(&m);
    assert!(!want.is_empty(), "{name}: the manifest lists NFSv4 locks");
    let with_locks: BTreeSet<IpAddr> = want.iter().map(|l| l.server).collect();
    let destroyed: BTreeSet<IpAddr> = events(&m, |e| e["kind"] == "v4_destroy_clientid" && e["status"] == "NFS4_OK").map(|e| ip(&e["client"])).collect();
    let clients = manifest_clients(&m);
    for srv in m["servers"].as_array().expect("servers").iter().map(|s| ip(&s["ip"])) {
        let st = t.nfs4(srv).expect("NFSv4 state for every server");
        let got = tracked_locks(st, srv, false);
        if with_locks.contains(&srv) {
            let want: Vec<Lock> = want.iter().filter(|l| l.server == srv).cloned().collect();
            assert_eq!(got, want, "{name}: current NFSv4 locks of {srv}");
            // Opens: exactly those the locks were derived from.
            let opens: BTreeSet<String> = st.opens.values().filter(|o| o.stale_since.is_none()).map(|o| o.stateid.hex()).collect();
            let want_opens: BTreeSet<String> = want.iter().map(|l| l.open_stateid.clone()).collect();
            assert_eq!(opens, want_opens, "{name}: current opens of {srv}");
        } else {
            // Nothing on the wire ended the state at this address: what its calls
            // were granted is still held there.
            let granted = events(&m, |e| e["kind"].as_str().is_some_and(|k| k.starts_with("v4_lock")) && e["status"] == "NFS4_OK" && e["server"].as_str() == Some(&srv.to_string())).count();
            assert_eq!(got.len(), granted, "{name}: locks still held through {srv}");
            assert_eq!(st.old_locks().count(), 0, "{name}: no restart seen through {srv}");
        }
        // Clients: the manifest's NFSv4 clients, less those that destroyed their
        // client id, are current and confirmed with their owner, version and address.
        let current: BTreeSet<(IpAddr, u32, String)> = st
            .clients
            .values()
            .filter(|c| !c.is_stale() && c.confirmed.is_some() && clients.iter().any(|k| k.0 == c.addr))
            .map(|c| (c.addr, c.minor, c.owner_text()))
            .collect();
        let want_clients: BTreeSet<(IpAddr, u32, String)> = clients.iter().filter(|c| !destroyed.contains(&c.0)).cloned().collect();
        assert_eq!(current, want_clients, "{name}: current NFSv4 clients of {srv}");
    }
    check_evidence(name, &m, &t);
}

/// Every call the manifest lists with a restart- or grace-related answer left its
/// evidence, on the right server, at the reply's frame.
fn check_evidence(name: &str, m: &Value, t: &Tracker) {
    let mut checked = 0;
    for e in events(m, |e| e["kind"].as_str().is_some_and(|k| k.starts_with("v4_"))) {
        let (kind, status) = (e["kind"].as_str().unwrap_or(""), e["status"].as_str().unwrap_or(""));
        let want = match (kind, status) {
            (_, "NFS4ERR_STALE_CLIENTID") => EvidenceKind::StaleClientid,
            (_, "NFS4ERR_STALE_STATEID") => EvidenceKind::StaleStateid,
            (_, "NFS4ERR_BADSESSION") => EvidenceKind::BadSession,
            (_, "NFS4ERR_GRACE") => EvidenceKind::GraceRefused,
            (_, "NFS4ERR_NO_GRACE") => EvidenceKind::NoGrace,
            (_, "NFS4ERR_RECLAIM_BAD") => EvidenceKind::ReclaimBad,
            (_, "NFS4ERR_COMPLETE_ALREADY") => EvidenceKind::CompleteAlready,
            ("v4_reclaim_complete", "NFS4_OK") => EvidenceKind::ReclaimComplete,
            ("v4_open_reclaim" | "v4_lock_reclaim", "NFS4_OK") => EvidenceKind::ReclaimGranted,
            _ => continue,
        };
        let frame = e["reply_frame"].as_u64().expect("reply frame");
        let srv = ip(&e["server"]);
        let found = t.nfs4_evidence(srv).iter().any(|x| x.kind == want && x.at.frame == frame && x.client_addr == ip(&e["client"]));
        assert!(found, "{name}: no {want:?} evidence at frame {frame} on {srv} for {e}");
        checked += 1;
    }
    assert!(checked > 0, "{name}: the manifest lists evidence-bearing calls");
}

#[test]
fn clean_restart_end_state_matches_the_manifest() {
    check_end("clean-restart");
    let m = manifest("clean-restart");
    let t = track("clean-restart", None);
    let srv = ip(&m["servers"][0]["ip"]);
    let st = t.nfs4(srv).expect("state");
    // Every pre-restart lock was reclaimed: no old-epoch lock or open is left.
    assert_eq!(st.old_locks().count(), 0);
    assert!(st.opens.values().all(|o| o.stale_since.is_none()));
    // Reclaims found the old state they took over.
    let reclaims: Vec<bool> = st.evidence.iter().filter(|e| e.kind == EvidenceKind::ReclaimGranted).map(|e| e.known).collect();
    assert_eq!(reclaims.len(), events(&m, |e| e["kind"].as_str().is_some_and(|k| k.starts_with("v4_") && k.ends_with("_reclaim")) && e["status"] == "NFS4_OK").count());
    assert!(reclaims.iter().all(|k| *k), "{reclaims:?}");
}

#[test]
fn clean_restart_before_and_after_the_restart() {
    let name = "clean-restart";
    let m = manifest(name);
    let first = first_ts(name);
    let srv = ip(&m["servers"][0]["ip"]);
    let kill = events(&m, |e| e["kind"] == "server_kill").next().expect("server_kill")["t"].as_f64().expect("t");
    let pre = events(&m, |e| e["kind"] == "v4_lock" && e["status"] == "NFS4_OK" && e["t"].as_f64().is_some_and(|t| t < kill)).count();
    // The locks reclaimed after the restart, as they must have been held before it.
    let reclaimed: Vec<Lock> = manifest_locks(&m).into_iter().filter(|l| l.reclaim).collect();
    assert_eq!(reclaimed.len(), pre, "every pre-restart lock is reclaimed in this scenario");
    let same = |l: &Lock, r: &Lock| (&l.client_owner, &l.lock_owner, &l.fh, l.offset, l.end, l.write) == (&r.client_owner, &r.lock_owner, &r.fh, r.offset, r.end, r.write);

    let t = track(name, Some(at(first, kill)));
    let st = t.nfs4(srv).expect("state before the restart");
    let cur = tracked_locks(st, srv, false);
    assert_eq!(cur.len(), pre, "before the restart: {cur:#?}");
    assert_eq!(st.old_locks().count(), 0);
    for r in &reclaimed {
        let l = cur.iter().find(|l| same(l, r)).unwrap_or_else(|| panic!("pre-restart lock for {r:?}"));
        assert!(!l.reclaim && l.clientid != r.clientid, "granted to the old client id, not by reclaim: {l:?}");
    }

    // Just after the first restart evidence, before the first reclaim.
    let stale = events(&m, |e| e["status"] == "NFS4ERR_STALE_CLIENTID").next().expect("STALE_CLIENTID");
    let reclaim = events(&m, |e| e["kind"] == "v4_open_reclaim" && e["status"] == "NFS4_OK").next().expect("reclaim");
    let (t0, t1) = (stale["reply_time"].as_f64().expect("time"), reclaim["reply_time"].as_f64().expect("time"));
    assert!(t0 < t1);
    let t = track(name, Some(at(first, (t0 + t1) / 2.0)));
    let st = t.nfs4(srv).expect("state after the restart");
    assert_eq!(tracked_locks(st, srv, false), vec![], "no current-epoch lock yet");
    let old = tracked_locks(st, srv, true);
    assert_eq!(old.len(), pre, "the pre-restart locks are kept, as old epoch");
    let stale_frame = stale["reply_frame"].as_u64().expect("frame");
    for l in st.old_locks() {
        assert_eq!(l.held.meta.stale_since.map(|f| f.frame), Some(stale_frame));
        assert!(l.client.is_some_and(|c| c.is_stale()));
    }
    for r in &reclaimed {
        assert!(old.iter().any(|l| same(l, r)), "old-epoch lock for {r:?}");
    }
    let e = st.evidence.iter().find(|e| e.kind == EvidenceKind::StaleClientid).expect("evidence");
    assert!(e.known && e.marked_old >= 2, "{e:?}");
}

#[test]
fn failover_end_state_matches_the_manifest() {
    check_end("failover");
    let m = manifest("failover");
    let t = track("failover", None);
    // The reclaims through B's address met no old state there (it lived under A's).
    let b = ip(&m["servers"][1]["ip"]);
    let st = t.nfs4(b).expect("state");
    let reclaims: Vec<bool> = st.evidence.iter().filter(|e| e.kind == EvidenceKind::ReclaimGranted).map(|e| e.known).collect();
    assert!(!reclaims.is_empty() && reclaims.iter().all(|k| !k), "{reclaims:?}");
    let stale: Vec<bool> = st.evidence.iter().filter(|e| e.kind == EvidenceKind::StaleClientid).map(|e| e.known).collect();
    assert_eq!(stale, vec![false], "A's client id was never seen through B");
}

#[test]
fn graceless_end_state_and_the_unreclaimed_old_lock() {
    check_end("graceless");
    let m = manifest("graceless");
    let t = track("graceless", None);
    let srv = ip(&m["servers"][0]["ip"]);
    let st = t.nfs4(srv).expect("state");
    // The v4.0 holder's lock was never reclaimed: it stays, old epoch. The GW006
    // verdict about it names the granting call first.
    let clients = manifest_clients(&m);
    let v4_addrs: BTreeSet<String> = clients.iter().map(|c| c.0.to_string()).collect();
    let gw006 = m["expected_verdicts"].as_array().expect("verdicts").iter().find(|v| v["id"] == "GW006" && v4_addrs.contains(v["client"].as_str().unwrap_or(""))).expect("GW006 for a v4 client");
    let grant_xid = gw006["xids"][0].as_str().expect("xid");
    let grant = events(&m, |e| e["xid"].as_str() == Some(grant_xid)).next().expect("granting call");
    let old: Vec<_> = st.old_locks().collect();
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].held.meta.granted.frame, grant["reply_frame"].as_u64().expect("frame"));
    let holder = clients.iter().find(|c| c.0.to_string() == gw006["client"].as_str().unwrap_or("")).expect("holder");
    assert_eq!(old[0].client.map(|c| c.owner_text()), Some(holder.2.clone()));
    // The newcomer's grant collides with it: the GW005 case, visible to a query.
    let newcomer = st.current_locks().find(|l| l.fh == old[0].fh).expect("newcomer's lock on the same file");
    let c = t.lock_conflicts(srv, newcomer.fh, gracewatch::state::nfs4::Requester::Nfs4(&newcomer.held.owner), true, newcomer.held.range);
    assert!(c.iter().any(|x| x.lock.is_stale()), "conflict with the old-epoch lock");
    // Ganesha without grace shows the restart first as a new boot epoch in a fresh
    // client id, before the newcomer's grant.
    let first_evidence = st.evidence.first().expect("evidence");
    assert_eq!(first_evidence.kind, EvidenceKind::ClientidEpochChange);
    assert!(first_evidence.at.frame < newcomer.held.meta.granted.frame);
}

#[test]
fn busy_end_state_matches_the_manifest() {
    check_end("busy");
    let m = manifest("busy");
    let t = track("busy", None);
    let st = t.nfs4(ip(&m["servers"][0]["ip"])).expect("state");
    assert!(!st.has_old_epoch(), "no restart in this capture");
    assert!(st.evidence.iter().all(|e| e.kind == EvidenceKind::ReclaimComplete));
    assert_eq!(t.counters().nfs4.replies_without_call, 0);
}

#[test]
fn state_command_shows_nfsv4_next_to_nlm() {
    let bin = env!("CARGO_BIN_EXE_gracewatch");
    let m = manifest("graceless");
    let srv = m["servers"][0]["ip"].as_str().expect("ip");
    let grace = m["servers"][0]["grace_period_s"].to_string();
    // Just after the newcomer's v4.1 LOCK: the holders' locks are reclaimable (not held),
    // and both newcomers' grants collide with them.
    let lock41 = m["events"].as_array().unwrap().iter().find(|e| e["kind"] == "v4_lock" && e["what"].as_str().unwrap().contains("after restart")).expect("v4.1 lock");
    let at = format!("+{}", lock41["reply_time"].as_f64().unwrap() + 0.0002);
    let args = ["state", "-r", &path("graceless", "pcap"), "--grace-period", &grace, "--at", &at];
    let out = std::process::Command::new(bin).args(args).arg("--json").output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let s = v["servers"].as_array().expect("servers").iter().find(|s| s["server"] == srv).expect("server");
    assert_eq!(s["locks"].as_array().expect("nlm locks").len(), 1, "only the newcomer holds an NLM lock");
    let reclaimable = s["reclaimable"].as_array().expect("reclaimable");
    assert!(reclaimable.iter().any(|r| r["protocol"] == "NLM4" && r["client_name"] == "nlmc1"), "{reclaimable:?}");
    let l4 = s["nfs4"]["locks"].as_array().expect("nfs4 locks");
    assert_eq!(l4.iter().filter(|l| l["epoch"] == "current").count(), 1);
    assert_eq!(l4.iter().filter(|l| l["epoch"] == "old").count(), 1);
    let conflicts = s["conflicts"].as_array().expect("conflicts");
    assert!(conflicts.iter().any(|c| c["a"]["protocol"] == "nfs4" && c["b"]["protocol"] == "nfs4"));
    assert!(conflicts.iter().any(|c| c["a"]["protocol"] == "nlm" && c["b"]["protocol"] == "nlm" && c["a"]["epoch"] == "old"));
    let text = std::process::Command::new(bin).args(args).args(["--server", srv]).output().expect("runs");
    let text = String::from_utf8_lossy(&text.stdout);
    for want in ["NLM locks held: 1", "Pre-restart locks still reclaimable: 2", "NFSv4 clients:", "NFSv4 locks held: 2", "clientid_epoch_change", "Conflicting locks"] {
        assert!(text.contains(want), "{want:?} missing in\n{text}");
    }
    // At the end grace is over (the server said so): nothing old is left.
    let out = std::process::Command::new(bin).args(["state", "-r", &path("graceless", "pcap"), "--grace-period", &grace, "--json"]).output().expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let s = v["servers"].as_array().unwrap().iter().find(|s| s["server"] == srv).unwrap();
    assert!(s["reclaimable"].as_array().unwrap().is_empty());
    assert_eq!(s["nfs4"]["locks"].as_array().unwrap().iter().filter(|l| l["epoch"] == "old").count(), 0);
    assert_eq!(s["nfs4"]["locks"].as_array().unwrap().len(), manifest_locks(&m).len());
}
