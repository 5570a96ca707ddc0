//! Scenarios: each drives the lab, checks what the servers answered, and returns a
//! manifest of what happened. [`record`] runs one with tcpdump and writes
//! `<name>.pcap` and `<name>.json`.

mod bogus_reclaim;
mod busy;
mod clean_restart;
mod cluster;
mod failover;
mod failover_norecords;
mod graceless;
mod nsm;
mod takeover;

use super::manifest::{Event, LockRecord, Manifest, ServerInfo, Verdict};
use super::{GaneshaCfg, Lab, Result};
use crate::client::nfs4::{self, status};
use crate::client::nlm::{self, NlmLock};
use crate::client::session::{Done, HeldLock, Nfs4Client, OpenFile, Outcome};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Every scenario, in recording order.
pub const ALL: &[&str] = &["clean-restart", "failover", "graceless", "nsm", "busy", "bogus-reclaim", "failover-norecords", "cluster"];

pub const SERVER_A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
pub const SERVER_B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
/// Grace and lease of the lab servers: short to keep runs short, grace >= lease.
pub const GRACE: u32 = 10;
pub const LEASE: u32 = 10;

/// Source address of lab client `n` (the server sees distinct hosts).
pub fn client_ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 10, n)
}

/// The result of running one scenario.
#[derive(Debug)]
pub struct Run {
    pub manifest: Manifest,
    pub pcap: PathBuf,
    /// Answers that differed from what the scenario expected of the server.
    pub mismatches: Vec<String>,
    /// Every pid the lab started (all must be gone once the run returns).
    pub pids: Vec<u32>,
    pub netns: String,
    pub seconds: f64,
}

/// Collects the manifest while a scenario runs.
pub struct Rec<'a> {
    pub lab: &'a Lab,
    t_cap: f64,
    pub m: Manifest,
    pub mismatches: Vec<String>,
}

impl<'a> Rec<'a> {
    fn new(lab: &'a Lab, name: &str, description: &str, t_cap: f64) -> Self {
        Rec {
            lab,
            t_cap,
            m: Manifest {
                name: name.to_string(),
                description: description.to_string(),
                recorded_with: format!("cargo run --example lab_record -- {name}"),
                servers: vec![],
                clients: vec![],
                events: vec![],
                locks_at_end: vec![],
                expected_verdicts: vec![],
                audit_args: vec![],
                notes: vec![
                    "t: seconds since the first frame of the capture (as tshark's frame.time_relative); reply_time: the reply frame's time".into(),
                    "NSM calls seen on the wire (ganesha to statd, sm-notify to monitored hosts) are listed as nsm events with their frames".into(),
                ],
            },
            mismatches: vec![],
        }
    }

    /// Wall-clock time (seconds since the epoch); made relative to the capture's
    /// first frame once the capture is complete.
    fn t(&self) -> f64 {
        let _ = self.t_cap;
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
    }

    pub fn server(&mut self, c: &GaneshaCfg) {
        self.m.servers.push(ServerInfo {
            name: c.name.clone(),
            ip: c.ip.to_string(),
            software: "NFS-Ganesha 4.3 (FSAL VFS)".into(),
            grace_period_s: c.grace,
            lease_lifetime_s: c.lease,
            graceless: c.graceless,
        });
    }

    pub fn client(&mut self, desc: String) {
        self.m.clients.push(desc);
    }

    /// A server-level event (start, kill, grace end, tool run).
    pub fn ev(&mut self, kind: &str, server: Option<Ipv4Addr>, what: &str) {
        let t = self.t();
        self.m.events.push(Event {
            t,
            kind: kind.into(),
            server: server.map(|s| s.to_string()),
            client: None,
            what: what.into(),
            xid: None,
            status: None,
            status_code: None,
            call_frame: None,
            reply_frame: None,
            reply_time: None,
        });
    }

    /// Record any RPC call by xid.
    #[allow(clippy::too_many_arguments)]
    pub fn call(&mut self, kind: &str, server: Ipv4Addr, client: Ipv4Addr, what: String, xid: u32, st: u32, name: String) {
        let t = self.t();
        self.m.events.push(Event {
            t,
            kind: kind.into(),
            server: Some(server.to_string()),
            client: Some(client.to_string()),
            what,
            xid: Some(xid),
            status: Some(name),
            status_code: Some(st),
            call_frame: None,
            reply_frame: None,
            reply_time: None,
        });
    }

    /// Record an NLM call and check its status against `expect`.
    pub fn nlm(&mut self, kind: &str, server: Ipv4Addr, client: Ipv4Addr, what: &str, o: Outcome, expect: Option<u32>) -> Outcome {
        self.call(kind, server, client, what.to_string(), o.xid, o.stat, nlm::stat::name(o.stat).to_string());
        if let Some(e) = expect {
            if o.stat != e {
                self.mismatches.push(format!(
                    "{kind} {what} from {client} to {server}: got {} expected {}",
                    nlm::stat::name(o.stat),
                    nlm::stat::name(e)
                ));
            }
        }
        o
    }

    /// Record a COMPOUND and check the status of `opnum` against `expect`.
    #[allow(clippy::too_many_arguments)]
    /// SETCLIENTID and its CONFIRM, both expected to succeed; `when` ends the labels.
    pub fn setclientid(&mut self, c: &mut Nfs4Client, server: Ipv4Addr, client: Ipv4Addr, when: &str) -> Result<()> {
        let (d1, d2) = c.setclientid()?;
        self.v4("v4_setclientid", server, client, &format!("SETCLIENTID{when}"), &d1, v4op::SETCLIENTID, Some(0));
        if let Some(d2) = d2 {
            self.v4("v4_setclientid_confirm", server, client, &format!("SETCLIENTID_CONFIRM{when}"), &d2, v4op::SETCLIENTID_CONFIRM, Some(0));
        }
        Ok(())
    }

    /// EXCHANGE_ID and CREATE_SESSION, both expected to succeed; `when` ends the labels.
    pub fn session(&mut self, c: &mut Nfs4Client, server: Ipv4Addr, client: Ipv4Addr, when: &str) -> Result<()> {
        let (d1, d2) = c.exchange_id_and_session()?;
        self.v4("v4_exchange_id", server, client, &format!("EXCHANGE_ID{when}"), &d1, v4op::EXCHANGE_ID, Some(0));
        if let Some(d2) = d2 {
            self.v4("v4_create_session", server, client, &format!("CREATE_SESSION{when}"), &d2, v4op::CREATE_SESSION, Some(0));
        }
        Ok(())
    }

    pub fn v4(&mut self, kind: &str, server: Ipv4Addr, client: Ipv4Addr, what: &str, d: &Done, opnum: u32, expect: Option<u32>) -> u32 {
        let st = d.status(opnum);
        self.call(kind, server, client, what.to_string(), d.xid, st, status::name(st));
        if let Some(e) = expect {
            if st != e {
                self.mismatches.push(format!("{kind} {what} from {client} to {server}: got {} expected {}", status::name(st), status::name(e)));
            }
        }
        st
    }

    /// Record a failure of the scenario itself.
    pub fn fail(&mut self, what: String) {
        self.mismatches.push(what);
    }

    pub fn verdict(&mut self, id: &str, server: Ipv4Addr, client: Ipv4Addr, what: &str, xids: Vec<u32>, certainty: &str) {
        self.m.expected_verdicts.push(Verdict {
            id: id.into(),
            server: server.to_string(),
            client: client.to_string(),
            what: what.into(),
            xids,
            frames: vec![],
            certainty: certainty.into(),
        });
    }

    pub fn nlm_lock(&mut self, server: Ipv4Addr, client: Ipv4Addr, l: &NlmLock, via_reclaim: bool) {
        self.m.locks_at_end.push(LockRecord::Nlm {
            server: server.to_string(),
            client_addr: client.to_string(),
            caller_name: l.caller_name.clone(),
            oh: crate::xdr::hex(&l.oh),
            svid: l.svid,
            fh: crate::xdr::hex(&l.fh),
            offset: l.offset,
            len: l.len,
            exclusive: l.exclusive,
            via_reclaim,
        });
    }

    pub fn v4_lock(&mut self, server: Ipv4Addr, c: &Nfs4Client, f: &OpenFile, l: &HeldLock, via_reclaim: bool) {
        self.m.locks_at_end.push(LockRecord::Nfs4 {
            server: server.to_string(),
            client_addr: c.conn.local.ip().to_string(),
            minor: c.minor,
            client_owner: String::from_utf8_lossy(&c.id).into_owned(),
            clientid: format!("{:016x}", c.clientid),
            open_owner: crate::xdr::hex(&f.owner.owner),
            lock_owner: crate::xdr::hex(&l.owner.owner),
            open_stateid: f.stateid.hex(),
            lock_stateid: l.stateid.hex(),
            fh: crate::xdr::hex(&f.fh),
            offset: l.offset,
            length: l.length,
            write: l.locktype == nfs4::WRITE_LT,
            via_reclaim,
        });
    }
}

/// An NLM lock description.
pub fn nlm_lock(caller: &str, fh: &[u8], svid: i32, offset: u64, len: u64, exclusive: bool) -> NlmLock {
    NlmLock {
        caller_name: caller.to_string(),
        fh: fh.to_vec(),
        oh: format!("{svid}@{caller}").into_bytes(),
        svid,
        offset,
        len,
        exclusive,
    }
}

/// Start rpcbind, statd and the given servers (recorded as events).
pub fn start_servers(r: &mut Rec<'_>, cfgs: &[&GaneshaCfg]) -> Result<()> {
    r.lab.start_rpcbind_statd()?;
    r.ev("rpcbind_statd_started", None, "rpcbind and rpc.statd started");
    for c in cfgs {
        r.server(c);
        r.lab.start_ganesha(c)?;
        r.ev("server_start", Some(c.ip), &format!("ganesha {} started, grace begins", c.name));
    }
    Ok(())
}

/// Wait for the end of a server's grace period, calling `tick` about every second.
pub fn wait_grace(r: &mut Rec<'_>, cfg: &GaneshaCfg, tick: impl FnMut()) -> Result<()> {
    let limit = Duration::from_secs(u64::from(cfg.grace) + 20);
    r.lab.wait_grace_end(&cfg.name, limit, tick)?;
    r.ev("grace_end", Some(cfg.ip), &format!("ganesha {} log: NOT IN GRACE", cfg.name));
    Ok(())
}

/// v3: MNT /vfs and LOOKUP-or-CREATE each file; returns the handles.
pub fn make_files(r: &mut Rec<'_>, server: Ipv4Addr, client: Ipv4Addr, names: &[&str]) -> Result<Vec<Vec<u8>>> {
    use crate::client::session::{mount, Nfs3Client};
    let machine = format!("host-{client}");
    let (o, root) = mount(client, server, "/vfs", &machine)?;
    r.call("mnt", server, client, "MNT /vfs".into(), o.xid, o.stat, format!("MNT3 {}", o.stat));
    let mut c = Nfs3Client::connect(client, server, crate::client::Proto::Tcp, &machine)?;
    let mut v = Vec::new();
    for n in names {
        v.push(c.lookup_or_create(&root, n)?);
    }
    Ok(v)
}

/// Run `nfs-ls`/`nfs-cat`/`nfs-cp` of libnfs-utils against `server` (ordinary v3/v4 traffic).
pub fn libnfs_traffic(r: &mut Rec<'_>, server: Ipv4Addr) -> Result<()> {
    let t = Duration::from_secs(20);
    let src = r.lab.dir.join("copy-src.txt");
    std::fs::write(&src, b"gracewatch lab\n")?;
    let cmds: Vec<Vec<String>> = vec![
        vec!["nfs-ls".into(), format!("nfs://{server}/vfs?version=3")],
        vec!["nfs-ls".into(), format!("nfs://{server}/vfs?version=4")],
        vec!["nfs-cp".into(), src.display().to_string(), format!("nfs://{server}/vfs/copied.txt?version=3")],
        vec!["nfs-cat".into(), format!("nfs://{server}/vfs/copied.txt?version=4")],
    ];
    for c in cmds {
        // Run as nobody: as root libnfs binds reserved source ports, some of which
        // tshark attributes to other protocols (639 is MSDP).
        let mut argv: Vec<&str> = vec!["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
        argv.extend(c.iter().map(String::as_str));
        let out = r.lab.run(&c[0], &argv, t)?;
        let ok = out.status.success();
        r.ev("libnfs", Some(server), &format!("{} -> {}", c.join(" "), if ok { "ok" } else { "failed" }));
        if !ok {
            r.fail(format!("{}: {}", c.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
        }
    }
    Ok(())
}

/// Record a scenario: tcpdump around it, frames resolved, files written to `out_dir`
/// (when given). The lab is gone when this returns.
pub fn record(name: &str, out_dir: Option<&Path>) -> Result<Run> {
    let started = Instant::now();
    let lab = Lab::new()?;
    let pcap = lab.dir.join(format!("{name}.pcap"));
    let td = lab.start_tcpdump(&pcap)?;
    let mut rec = Rec::new(&lab, name, "", td.t_start);
    let res = match name {
        "clean-restart" => clean_restart::run(&mut rec),
        "failover" => failover::run(&mut rec),
        "graceless" => graceless::run(&mut rec),
        "nsm" => nsm::run(&mut rec),
        "busy" => busy::run(&mut rec),
        "bogus-reclaim" => bogus_reclaim::run(&mut rec),
        "failover-norecords" => failover_norecords::run(&mut rec),
        "cluster" => cluster::run(&mut rec),
        _ => super::err(format!("unknown scenario {name}; known: {ALL:?}")),
    };
    let dropped = lab.stop_tcpdump(&td)?;
    if let Err(e) = res {
        let logs: Vec<String> = ["a", "b"].iter().map(|s| lab.tail(&format!("{s}/ganesha.log"), 15)).collect();
        return super::err(format!("scenario {name} failed: {e}\n{}", logs.join("\n")));
    }
    let Rec { mut m, mut mismatches, .. } = rec;
    if dropped > 0 {
        mismatches.push(format!("tcpdump: {dropped} packets dropped by kernel"));
    }
    m.resolve_frames(&pcap)?;
    let first = super::tshark::first_frame_epoch(&pcap)?;
    for e in &mut m.events {
        e.t = ((e.t - first) * 1000.0).round() / 1000.0;
    }
    let known: std::collections::HashSet<u32> = m.events.iter().filter_map(|e| e.xid).collect();
    m.events.extend(super::tshark::nsm_events(&pcap)?.into_iter().filter(|e| !e.xid.is_some_and(|x| known.contains(&x))));
    m.events.sort_by(|a, b| a.t.partial_cmp(&b.t).unwrap_or(std::cmp::Ordering::Equal));
    let final_pcap = match out_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            let p = d.join(format!("{name}.pcap"));
            std::fs::copy(&pcap, &p)?;
            std::fs::write(d.join(format!("{name}.json")), m.to_json() + "\n")?;
            p
        }
        None => {
            let p = std::env::temp_dir().join(format!("gw-run-{}-{name}.pcap", std::process::id()));
            std::fs::copy(&pcap, &p)?;
            p
        }
    };
    let pids = lab.started_pids();
    let netns = lab.ns.clone();
    drop(lab);
    Ok(Run { manifest: m, pcap: final_pcap, mismatches, pids, netns, seconds: started.elapsed().as_secs_f64() })
}


pub(crate) use crate::client::nfs4::op as v4op;
