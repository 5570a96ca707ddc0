//! Verdicts: what a correct server or cluster would not have done, with the frames that
//! show it.

use crate::net::{FrameRef, Ts};
use crate::state::ranges::Range;
use serde::{Serialize, Serializer};
use std::fmt;
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "warning" => Severity::Warning,
            "error" => Severity::Error,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        })
    }
}

/// Whether the wire alone proves the verdict, or it rests on the assumed grace length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    Possible,
    Certain,
}

impl fmt::Display for Certainty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Certainty::Certain => "certain",
            Certainty::Possible => "possible",
        })
    }
}

/// A frame and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub label: String,
    pub at: FrameRef,
}

impl Serialize for Mark {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("what", &self.label)?;
        m.serialize_entry("file", &self.at.file)?;
        m.serialize_entry("frame", &self.at.frame)?;
        m.serialize_entry("ts", &(self.at.ts as f64 / 1e9))?;
        m.end()
    }
}

/// A lock as the audit compares them across protocols. Names, owners and handles
/// are shared between the many grants of one client, owner or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRef {
    /// `NLM4`, `NFSv4.0`, `NFSv4.1`, …
    pub protocol: Cow<'static, str>,
    pub client: IpAddr,
    /// NLM caller_name, or the NFSv4 client owner.
    pub client_name: Arc<str>,
    /// NLM owner handle and svid, or the NFSv4 lock (or open) owner.
    pub owner: OwnerRef,
    pub fh: Arc<[u8]>,
    pub range: Range,
    pub exclusive: bool,
    pub granted: FrameRef,
    pub reclaim: bool,
}

/// The protocol label of a lock: `NLM4`, `NFSv4.1`, … (shared for the usual versions).
pub fn protocol_label(nfs4: bool, vers: u32) -> Cow<'static, str> {
    match (nfs4, vers) {
        (false, 1) => Cow::Borrowed("NLM1"),
        (false, 3) => Cow::Borrowed("NLM3"),
        (false, 4) => Cow::Borrowed("NLM4"),
        (true, 0) => Cow::Borrowed("NFSv4.0"),
        (true, 1) => Cow::Borrowed("NFSv4.1"),
        (true, 2) => Cow::Borrowed("NFSv4.2"),
        (false, v) => Cow::Owned(format!("NLM{v}")),
        (true, v) => Cow::Owned(format!("NFSv4.{v}")),
    }
}

/// A lock's owner as the audit shows it. It shares the bytes the lock tables hold; its
/// text is written only when shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerRef {
    /// An NLM owner: its owner handle and svid.
    Nlm { oh: Arc<[u8]>, svid: i32 },
    /// An NFSv4 lock owner.
    Lock(Arc<[u8]>),
    /// An NFSv4 open owner.
    Open(Arc<[u8]>),
}

impl fmt::Display for OwnerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, b) = match self {
            OwnerRef::Nlm { oh, .. } => ("oh ", oh),
            OwnerRef::Lock(b) => ("lock owner ", b),
            OwnerRef::Open(b) => ("open owner ", b),
        };
        f.write_str(prefix)?;
        for x in b.iter() {
            write!(f, "{x:02x}")?;
        }
        match self {
            OwnerRef::Nlm { svid, .. } => write!(f, " svid {svid}"),
            _ => Ok(()),
        }
    }
}

/// Shares the names, owners and handles of lock references, so that the many grants
/// of one client, owner or file waiting for their verdict hold one copy. Bounded: when
/// full it starts afresh (references already made keep their values).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    strs: crate::net::FastSet<Arc<str>>,
    bytes: crate::net::FastSet<Arc<[u8]>>,
}

const INTERN_CAP: usize = 65_536;

impl Interner {
    pub(crate) fn str(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strs.get(s) {
            return a.clone();
        }
        if self.strs.len() >= INTERN_CAP {
            self.strs.clear();
        }
        let a: Arc<str> = Arc::from(s);
        self.strs.insert(a.clone());
        a
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> Arc<[u8]> {
        if let Some(a) = self.bytes.get(b) {
            return a.clone();
        }
        if self.bytes.len() >= INTERN_CAP {
            self.bytes.clear();
        }
        let a: Arc<[u8]> = Arc::from(b);
        self.bytes.insert(a.clone());
        a
    }
}

impl LockRef {
    /// Same holder: the same client (by name, which survives reconnects and restarts)
    /// and the same owner.
    pub fn same_owner(&self, o: &LockRef) -> bool {
        self.protocol.get(..3) == o.protocol.get(..3) && self.client_name == o.client_name && self.owner == o.owner
    }

    pub fn same_client(&self, o: &LockRef) -> bool {
        self.client_name == o.client_name || self.client == o.client
    }

    pub fn conflicts(&self, o: &LockRef) -> bool {
        self.fh == o.fh && self.range.overlaps(&o.range) && (self.exclusive || o.exclusive) && !self.same_client(o)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub id: &'static str,
    pub severity: Severity,
    pub certainty: Certainty,
    pub server: IpAddr,
    pub protocol: String,
    pub client: IpAddr,
    pub client_name: String,
    pub owner: String,
    pub fh: String,
    pub path: Option<String>,
    pub range: Option<RangeJson>,
    pub exclusive: Option<bool>,
    pub summary: String,
    /// The grant (or the event) the verdict is about.
    pub grant: Mark,
    /// The frames that make it illegal.
    pub evidence: Vec<Mark>,
    /// The server IP's epoch (0: what the capture opened in).
    pub epoch: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RangeJson {
    pub offset: u64,
    /// Exclusive end; `null` means to end of file.
    pub end: Option<u64>,
}

impl From<Range> for RangeJson {
    fn from(r: Range) -> Self {
        RangeJson { offset: r.start, end: r.end }
    }
}

impl RangeJson {
    pub fn text(&self) -> String {
        match self.end {
            Some(e) => format!("[{},{})", self.offset, e),
            None => format!("[{},EOF)", self.offset),
        }
    }
}

/// The ids, their meaning and their default severity (grace-rules.md).
pub const IDS: [(&str, &str, Severity); 9] = [
    ("GW001", "non-reclaim NLM lock granted while the server IP is in grace", Severity::Error),
    ("GW002", "non-reclaim NFSv4 OPEN/LOCK granted in grace (4.1: before the client's RECLAIM_COMPLETE)", Severity::Warning),
    ("GW003", "reclaim granted outside grace", Severity::Error),
    ("GW004", "reclaim granted for state the client did not hold before the restart", Severity::Error),
    ("GW005", "grant conflicting with a reclaimable pre-restart lock of another client", Severity::Critical),
    ("GW006", "pre-restart lock never reclaimed by grace end, although its client came back", Severity::Warning),
    ("GW007", "cluster incoherence: a member grants new locks while another is in grace", Severity::Error),
    ("GW008", "second RECLAIM_COMPLETE accepted", Severity::Warning),
    ("GW009", "grace shorter than the lease while clients still had state to reclaim", Severity::Warning),
];

pub fn severity_of(id: &str) -> Severity {
    IDS.iter().find(|(i, _, _)| *i == id).map_or(Severity::Warning, |(_, _, s)| *s)
}

pub fn ts_secs(ts: Ts) -> f64 {
    ts as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_shown_with_their_kind_and_bytes_in_hex() {
        let b: Arc<[u8]> = Arc::from(&[0x0a, 0xff, 0x00][..]);
        assert_eq!(OwnerRef::Lock(b.clone()).to_string(), "lock owner 0aff00");
        assert_eq!(OwnerRef::Open(b.clone()).to_string(), "open owner 0aff00");
        assert_eq!(OwnerRef::Nlm { oh: b.clone(), svid: -2 }.to_string(), "oh 0aff00 svid -2");
        assert_ne!(OwnerRef::Lock(b.clone()), OwnerRef::Open(b.clone()), "a lock owner is not the open owner of the same bytes");
        assert_ne!(OwnerRef::Nlm { oh: b.clone(), svid: 1 }, OwnerRef::Nlm { oh: b, svid: 2 });
    }

    #[test]
    fn the_interner_hands_out_one_copy_per_value() {
        let mut i = Interner::default();
        let (a, b) = (i.bytes(b"fh-1"), i.bytes(b"fh-1"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &i.bytes(b"fh-2")));
        let (x, y) = (i.str("host"), i.str("host"));
        assert!(Arc::ptr_eq(&x, &y) && &*x == "host");
    }
}
