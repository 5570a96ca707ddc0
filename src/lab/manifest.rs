//! The manifest written beside each recorded capture: what happened and when, which
//! locks were held at the end, and which verdicts a correct auditor must give.

use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// A server of the scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    pub name: String,
    pub ip: String,
    pub software: String,
    pub grace_period_s: u32,
    pub lease_lifetime_s: u32,
    pub graceless: bool,
}

/// Something that happened: a server start/stop, grace end, or one RPC call.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Seconds since the first frame of the capture.
    pub t: f64,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_xid")]
    pub xid: Option<u32>,
    /// The status the server answered (symbolic), for calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_frame: Option<u64>,
    /// Capture time of the reply (tshark frame.time_relative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_time: Option<f64>,
}

fn ser_xid<S: serde::Serializer>(x: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => s.serialize_str(&format!("0x{v:08x}")),
        None => s.serialize_none(),
    }
}

/// A lock held at the end of the capture.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "protocol", rename_all = "lowercase")]
pub enum LockRecord {
    Nlm {
        server: String,
        client_addr: String,
        caller_name: String,
        oh: String,
        svid: i32,
        fh: String,
        offset: u64,
        len: u64,
        exclusive: bool,
        via_reclaim: bool,
    },
    Nfs4 {
        server: String,
        client_addr: String,
        minor: u32,
        client_owner: String,
        clientid: String,
        open_owner: String,
        lock_owner: String,
        open_stateid: String,
        lock_stateid: String,
        fh: String,
        offset: u64,
        length: u64,
        write: bool,
        via_reclaim: bool,
    },
}

/// A verdict a correct auditor must give.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub id: String,
    pub server: String,
    pub client: String,
    pub what: String,
    /// xids of the calls involved (grant first, then the evidence).
    #[serde(serialize_with = "ser_xids")]
    pub xids: Vec<u32>,
    /// Frames of the replies to those calls, filled from the capture.
    pub frames: Vec<u64>,
    /// "certain" (the wire proves it) or "possible" (depends on the grace length).
    pub certainty: String,
}

fn ser_xids<S: serde::Serializer>(x: &[u32], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut q = s.serialize_seq(Some(x.len()))?;
    for v in x {
        q.serialize_element(&format!("0x{v:08x}"))?;
    }
    q.end()
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub name: String,
    pub description: String,
    pub recorded_with: String,
    pub servers: Vec<ServerInfo>,
    pub clients: Vec<String>,
    pub events: Vec<Event>,
    pub locks_at_end: Vec<LockRecord>,
    pub expected_verdicts: Vec<Verdict>,
    /// Options the audit of this capture needs besides the grace period and lease
    /// (which come from `servers`), e.g. `["--failover", "127.0.0.2=127.0.0.3"]`.
    pub audit_args: Vec<String>,
    pub notes: Vec<String>,
}

impl Manifest {
    /// Fill call/reply frames from the capture (xids are unique within a run).
    pub fn resolve_frames(&mut self, pcap: &Path) -> super::Result<()> {
        let m = super::tshark::xid_frames(pcap)?;
        self.apply_frames(&m);
        Ok(())
    }

    pub fn apply_frames(&mut self, m: &HashMap<u32, (u64, u64, f64)>) {
        for e in &mut self.events {
            if let Some((c, r, t)) = e.xid.and_then(|x| m.get(&x)) {
                e.call_frame = (*c != 0).then_some(*c);
                e.reply_frame = (*r != 0).then_some(*r);
                e.reply_time = (*r != 0).then_some((*t * 1e6).round() / 1e6);
            }
        }
        for v in &mut self.expected_verdicts {
            v.frames = v.xids.iter().filter_map(|x| m.get(x)).map(|f| f.1).filter(|f| *f != 0).collect();
        }
    }

    /// Events of `kind` whose call got `status`.
    pub fn calls_with(&self, kind: &str, status: &str) -> Vec<&Event> {
        self.events.iter().filter(|e| e.kind == kind && e.status.as_deref() == Some(status)).collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(xid: u32) -> Event {
        Event {
            t: 1.0,
            kind: "nlm_lock".into(),
            server: Some("127.0.0.2".into()),
            client: None,
            what: "x".into(),
            xid: Some(xid),
            status: Some("GRANTED".into()),
            status_code: Some(0),
            call_frame: None,
            reply_frame: None,
            reply_time: None,
        }
    }

    #[test]
    fn frames_are_filled_by_xid() {
        let mut m = Manifest {
            name: "n".into(),
            description: String::new(),
            recorded_with: String::new(),
            servers: vec![],
            clients: vec![],
            events: vec![ev(5), ev(6)],
            locks_at_end: vec![],
            expected_verdicts: vec![Verdict {
                id: "GW005".into(),
                server: "s".into(),
                client: "c".into(),
                what: String::new(),
                xids: vec![6, 5],
                frames: vec![],
                certainty: "certain".into(),
            }],
            audit_args: vec![],
            notes: vec![],
        };
        let mut f = HashMap::new();
        f.insert(5, (10, 12, 0.5));
        f.insert(6, (20, 0, 0.0));
        m.apply_frames(&f);
        assert_eq!((m.events[0].call_frame, m.events[0].reply_frame, m.events[0].reply_time), (Some(10), Some(12), Some(0.5)));
        assert_eq!(m.events[1].reply_frame, None);
        assert_eq!(m.expected_verdicts[0].frames, vec![12]);
        let j = m.to_json();
        assert!(j.contains("\"xid\": \"0x00000005\""));
        assert_eq!(m.calls_with("nlm_lock", "GRANTED").len(), 2);
    }
}
