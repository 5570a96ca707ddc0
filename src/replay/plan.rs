//! The reclaim plan: what every client held on one server IP, in the form a client
//! sends it again after the server restarted.
//!
//! [`from_tracker`] reads the state the [`Tracker`] rebuilt (NLM locks, NFSv4 clients,
//! opens and locks, not the old epoch); [`from_capture`] first finds the moment: just
//! before the server's last restart as the [`Auditor`] sees it (the previous
//! instance's last sign of life), the end of the capture when it never restarted, or
//! a given time, and rebuilds the state up to then.
//!
//! Nothing the tracker holds is left out silently: what cannot be reclaimed (an open
//! whose file is unknown, a lock whose client owner the capture never showed) is
//! either kept with a `fail` reason (reported as failed, never sent) or named in
//! `notes`.

use crate::audit::{AuditConfig, Auditor};
use crate::capture::{self, Input};
use crate::net::{sorted, Ts};
use crate::pipeline::Config;
use crate::state::nfs4::Nfs4State;
use crate::state::ranges::Range;
use crate::state::{AtTime, Tracker, TrackerConfig};
use crate::xdr::hex;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

pub(crate) fn ser_hex<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex(v))
}

/// nfs_lock_type4 READ_LT / WRITE_LT.
pub const READ_LT: u32 = 1;
pub const WRITE_LT: u32 = 2;

/// One NLM byte-range lock to reclaim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NlmReclaim {
    #[serde(serialize_with = "ser_hex")]
    pub fh: Vec<u8>,
    /// The file's path, when the capture showed it.
    pub path: Option<String>,
    #[serde(serialize_with = "ser_hex")]
    pub oh: Vec<u8>,
    pub svid: i32,
    pub offset: u64,
    /// 0: to the end of the file.
    pub len: u64,
    pub exclusive: bool,
    /// Set when this lock cannot be sent (reported as failed with this reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail: Option<String>,
}

/// An NLM host (one caller_name) and its locks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NlmHost {
    pub caller_name: String,
    /// The address it sent its requests from in the capture.
    pub addr: IpAddr,
    /// NSM state number sent in LOCK.
    pub state: i32,
    pub locks: Vec<NlmReclaim>,
}

/// One NFSv4 byte-range lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V4Lock {
    #[serde(serialize_with = "ser_hex")]
    pub lock_owner: Vec<u8>,
    pub offset: u64,
    /// u64::MAX: to the end of the file.
    pub length: u64,
    pub write: bool,
}

/// One open (open owner × file) and the locks taken under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V4Open {
    #[serde(serialize_with = "ser_hex")]
    pub open_owner: Vec<u8>,
    #[serde(serialize_with = "ser_hex")]
    pub fh: Vec<u8>,
    pub path: Option<String>,
    pub share_access: u32,
    pub share_deny: u32,
    /// The capture did not show the open these locks were derived from: an open owner
    /// was made up (named after the lock owner) so the locks can be reclaimed.
    pub synthesized: bool,
    pub locks: Vec<V4Lock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail: Option<String>,
}

/// An NFSv4 client (client owner) and its opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V4Client {
    pub minor: u32,
    /// SETCLIENTID id / EXCHANGE_ID co_ownerid: what the server's recovery records know.
    #[serde(serialize_with = "ser_hex")]
    pub owner: Vec<u8>,
    pub owner_text: String,
    #[serde(serialize_with = "ser_hex")]
    pub verifier: Vec<u8>,
    pub addr: IpAddr,
    /// AUTH_SYS machine name and uid it used.
    pub machine: String,
    pub uid: u32,
    pub opens: Vec<V4Open>,
    /// Set when the client cannot be replayed at all (every open and lock fails).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail: Option<String>,
}

impl V4Client {
    pub fn protocol(&self) -> &'static str {
        protocol_name(self.minor)
    }
    pub fn verifier8(&self) -> [u8; 8] {
        let mut v = [0u8; 8];
        for (d, s) in v.iter_mut().zip(self.verifier.iter()) {
            *d = *s;
        }
        v
    }
}

pub fn protocol_name(minor: u32) -> &'static str {
    match minor {
        0 => "NFSv4.0",
        1 => "NFSv4.1",
        2 => "NFSv4.2",
        _ => "NFSv4.x",
    }
}

/// What to reclaim on one server IP.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Plan {
    pub server: Option<IpAddr>,
    /// How the moment was chosen (for people).
    pub basis: String,
    /// The moment the state was taken at (seconds since the epoch), when bounded.
    pub taken_at: Option<f64>,
    pub nlm: Vec<NlmHost>,
    pub v4: Vec<V4Client>,
    pub notes: Vec<String>,
}

/// Counts per protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub protocol: String,
    pub clients: usize,
    pub owners: usize,
    pub opens: usize,
    pub locks: usize,
    pub files: usize,
}

impl Plan {
    pub fn nlm_locks(&self) -> usize {
        self.nlm.iter().map(|h| h.locks.len()).sum()
    }
    pub fn v4_opens(&self) -> usize {
        self.v4.iter().map(|c| c.opens.len()).sum()
    }
    pub fn v4_locks(&self) -> usize {
        self.v4.iter().flat_map(|c| &c.opens).map(|o| o.locks.len()).sum()
    }
    /// Reclaim requests the plan makes (NLM LOCKs, OPENs, LOCKs).
    pub fn reclaims(&self) -> usize {
        self.nlm_locks() + self.v4_opens() + self.v4_locks()
    }
    pub fn is_empty(&self) -> bool {
        self.nlm.is_empty() && self.v4.is_empty()
    }

    /// Per protocol: clients, owners, opens, locks and distinct files.
    pub fn summary(&self) -> Vec<Summary> {
        let mut out = Vec::new();
        if !self.nlm.is_empty() {
            let owners: BTreeSet<(&str, &[u8], i32)> =
                self.nlm.iter().flat_map(|h| h.locks.iter().map(move |l| (h.caller_name.as_str(), l.oh.as_slice(), l.svid))).collect();
            let files: BTreeSet<&[u8]> = self.nlm.iter().flat_map(|h| h.locks.iter().map(|l| l.fh.as_slice())).collect();
            out.push(Summary { protocol: "NLM4".into(), clients: self.nlm.len(), owners: owners.len(), opens: 0, locks: self.nlm_locks(), files: files.len() });
        }
        let mut by: BTreeMap<u32, Summary> = BTreeMap::new();
        let mut owners: BTreeMap<u32, BTreeSet<(&[u8], &[u8])>> = BTreeMap::new();
        let mut files: BTreeMap<u32, BTreeSet<&[u8]>> = BTreeMap::new();
        for c in &self.v4 {
            let s = by.entry(c.minor).or_insert_with(|| Summary { protocol: c.protocol().into(), ..Summary::default() });
            s.clients += 1;
            s.opens += c.opens.len();
            for o in &c.opens {
                s.locks += o.locks.len();
                files.entry(c.minor).or_default().insert(&o.fh);
                let set = owners.entry(c.minor).or_default();
                set.insert((&c.owner, &o.open_owner));
                for l in &o.locks {
                    set.insert((&c.owner, &l.lock_owner));
                }
            }
        }
        for (m, mut s) in by {
            s.owners = owners.get(&m).map_or(0, |o| o.len());
            s.files = files.get(&m).map_or(0, |f| f.len());
            out.push(s);
        }
        out
    }
}

/// NLM offset/len of a range (len 0: to the end of the file).
pub fn nlm_offset_len(r: Range) -> (u64, u64) {
    (r.start, r.length().unwrap_or(0))
}

/// NFSv4 offset/length of a range (all ones: to the end of the file).
pub fn v4_offset_length(r: Range) -> (u64, u64) {
    (r.start, r.length().unwrap_or(u64::MAX))
}

/// The plan for `server` from the tracker's current state (old-epoch NFSv4 state
/// is not current and is left out).
pub fn from_tracker(t: &Tracker, server: IpAddr, basis: &str) -> Plan {
    let mut plan = Plan { server: Some(server), basis: basis.to_string(), ..Plan::default() };
    let Some(s) = t.server(server) else {
        plan.notes.push(format!("the capture shows no state for {server}"));
        return plan;
    };
    // NLM: group by caller name; locks in table order (file handle, then range).
    let mut hosts: BTreeMap<String, NlmHost> = BTreeMap::new();
    let mut versions = BTreeSet::new();
    for (fh, h) in s.nlm.locks.iter() {
        let (offset, len) = nlm_offset_len(h.range);
        versions.insert(h.meta.vers);
        let host = hosts.entry(h.owner.caller_name.to_string()).or_insert_with(|| NlmHost {
            caller_name: h.owner.caller_name.to_string(),
            addr: h.owner.client,
            state: t.hosts().get(&*h.owner.caller_name).map_or(1, |s| s.state),
            locks: Vec::new(),
        });
        host.locks.push(NlmReclaim {
            fh: fh.to_vec(),
            path: t.path(fh).filter(|p| !p.starts_with('…')),
            oh: h.owner.oh.to_vec(),
            svid: h.owner.svid,
            offset,
            len,
            exclusive: h.exclusive,
            fail: None,
        });
    }
    if versions.iter().any(|v| *v != 4) {
        plan.notes.push(format!("NLM versions {versions:?} in the capture are reclaimed with NLM v4"));
    }
    plan.nlm = hosts.into_values().collect();
    if !s.nlm.shares.is_empty() {
        plan.notes.push(format!("{} NLM share reservations are not reclaimed (only byte-range locks)", s.nlm.shares.len()));
    }
    plan.v4 = v4_clients(t, &s.nfs4, &mut plan.notes);
    plan
}

fn v4_clients(t: &Tracker, st: &Nfs4State, notes: &mut Vec<String>) -> Vec<V4Client> {
    let mut clients: BTreeMap<u64, V4Client> = BTreeMap::new();
    // open stateid `other` → (clientid, index of the open in its client)
    let mut open_index: BTreeMap<[u8; 12], (u64, usize)> = BTreeMap::new();
    let new_client = |cid: u64| -> V4Client {
        match st.client(cid) {
            Some(c) => V4Client {
                minor: c.minor,
                owner: c.owner.clone(),
                owner_text: if c.owner.is_empty() { format!("clientid {cid:016x}") } else { c.owner_text() },
                verifier: c.verifier.clone(),
                addr: c.addr,
                machine: c.principal.as_ref().map_or_else(|| c.owner_text(), |p| p.machine.clone()),
                uid: c.principal.as_ref().map_or(0, |p| p.uid),
                opens: Vec::new(),
                fail: c.owner.is_empty().then(|| format!("the capture never showed how client id {cid:016x} was established (no client owner to reclaim with)")),
            },
            None => V4Client {
                minor: 0,
                owner: Vec::new(),
                owner_text: format!("clientid {cid:016x}"),
                verifier: Vec::new(),
                addr: IpAddr::from([0, 0, 0, 0]),
                machine: String::new(),
                uid: 0,
                opens: Vec::new(),
                fail: Some(format!("client id {cid:016x} unknown (no client owner to reclaim with)")),
            },
        }
    };
    let mut skipped_opens = 0;
    for (other, o) in sorted(&st.opens) {
        if o.stale_since.is_some() {
            continue;
        }
        if st.client(o.clientid).is_some_and(|c| c.is_stale()) {
            continue;
        }
        if o.unconfirmed {
            skipped_opens += 1;
            continue;
        }
        let c = clients.entry(o.clientid).or_insert_with(|| new_client(o.clientid));
        let fail = if o.fh.is_none() { Some("the capture did not show which file this OPEN resolved to".to_string()) } else { None };
        c.opens.push(V4Open {
            open_owner: o.open_owner.to_vec(),
            fh: o.fh.clone().unwrap_or_default(),
            path: o.path.clone().or_else(|| o.fh.as_deref().and_then(|f| t.path(f))).filter(|p| !p.starts_with('…')),
            share_access: o.share_access,
            share_deny: o.share_deny,
            synthesized: false,
            locks: Vec::new(),
            fail,
        });
        open_index.insert(*other, (o.clientid, c.opens.len() - 1));
    }
    if skipped_opens > 0 {
        notes.push(format!("{skipped_opens} NFSv4.0 opens never confirmed (OPEN_CONFIRM not seen) are not reclaimed"));
    }
    let mut synthesized = 0;
    for h in st.current_locks() {
        let cid = h.held.owner.clientid;
        if st.client(cid).is_some_and(|c| c.is_stale()) {
            continue;
        }
        let (offset, length) = v4_offset_length(h.held.range);
        let lock = V4Lock { lock_owner: h.held.owner.owner.to_vec(), offset, length, write: h.held.exclusive };
        let via_open = st.lock_stateids.get(&h.held.meta.stateid).and_then(|ls| ls.open).and_then(|o| open_index.get(&o).copied());
        let c = clients.entry(cid).or_insert_with(|| new_client(cid));
        let idx = match via_open {
            Some((ocid, i)) if ocid == cid && c.opens.get(i).is_some_and(|o| o.fh == h.fh) => Some(i),
            _ => c.opens.iter().position(|o| o.fh == h.fh),
        };
        match idx {
            Some(i) => c.opens[i].locks.push(lock),
            None => {
                synthesized += 1;
                let mut owner = b"open-of-".to_vec();
                owner.extend_from_slice(&h.held.owner.owner);
                c.opens.push(V4Open {
                    open_owner: owner,
                    fh: h.fh.to_vec(),
                    path: t.path(h.fh).filter(|p| !p.starts_with('…')),
                    share_access: if h.held.exclusive { 3 } else { 1 },
                    share_deny: 0,
                    synthesized: true,
                    locks: vec![lock],
                    fail: None,
                });
            }
        }
    }
    if synthesized > 0 {
        notes.push(format!("{synthesized} NFSv4 locks whose OPEN the capture did not show are reclaimed under a made-up open owner"));
    }
    let delegs = st.delegations.values().filter(|d| d.stale_since.is_none()).count();
    if delegs > 0 {
        notes.push(format!("{delegs} NFSv4 delegations are not reclaimed (CLAIM_DELEGATE_PREV is not sent)"));
    }
    // Clients with nothing to reclaim are left out: they held no state.
    let mut v: Vec<V4Client> = clients.into_values().filter(|c| !c.opens.is_empty()).collect();
    for c in &mut v {
        for o in &mut c.opens {
            o.locks.sort_by(|a, b| (&a.lock_owner, a.offset).cmp(&(&b.lock_owner, b.offset)));
        }
    }
    v.sort_by(|a, b| (a.minor, &a.owner).cmp(&(b.minor, &b.owner)));
    v
}

/// Which moment of the capture to take the state at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// Just before the server's last restart; the end of the capture when none.
    BeforeLastRestart,
    EndOfCapture,
    At(AtTime),
}

fn secs(t: Ts) -> f64 {
    t as f64 / 1e9
}

/// Read the capture (twice when needed) and build the plan for `server`.
pub fn from_capture(files: &[String], server: IpAddr, moment: Moment, audit: AuditConfig, cfg: Config) -> anyhow::Result<Plan> {
    let input = Input::Files(files.to_vec());
    let (until, basis) = match moment {
        Moment::At(at) => (Some(at), "the given time".to_string()),
        Moment::EndOfCapture => (None, "the end of the capture".to_string()),
        Moment::BeforeLastRestart => {
            let mut a = Auditor::new(AuditConfig { failovers: Vec::new(), ..audit });
            capture::run(&input, cfg.clone(), &mut a)?;
            a.finish();
            let restart = a.servers().get(&server).and_then(|sa| sa.epochs.iter().rev().find(|e| e.restarted && e.index > 0).cloned());
            match restart {
                Some(e) => {
                    let b = e.earliest_start();
                    let what = match e.start_lo {
                        Some(f) => format!("the last sign of life of {server} before its restart (frame {})", f.frame),
                        None => format!("the first evidence of {server}'s restart (frame {})", e.start_hi.frame),
                    };
                    (Some(AtTime::Absolute(b)), what)
                }
                None => (None, format!("the end of the capture ({server} never restarted in it)")),
            }
        }
    };
    let mut t = Tracker::new(TrackerConfig { until, ..TrackerConfig::default() });
    capture::run(&input, cfg, &mut t)?;
    let mut plan = from_tracker(&t, server, &basis);
    plan.taken_at = t.until().map(secs);
    Ok(plan)
}

#[cfg(test)]
mod tests;
