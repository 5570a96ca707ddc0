//! Restarts and failovers of one server IP, and the grace window after each, inferred
//! from the wire (grace-rules.md, "Inferring the grace window from the wire").
//!
//! An epoch begins at the first evidence of a new server instance; it began after the
//! last reply of the previous one. Its grace window ends at the configured length, or
//! where the wire proves it: a later refusal with a grace error proves grace was still
//! running then; a NO_GRACE answer (or an NLM reclaim refused for grace) proves it was
//! over.

use crate::net::{FrameRef, Ts};
use serde::Serialize;
use std::net::IpAddr;

/// Evidence kept per epoch (the first ones, and counts of the rest).
const MAX_EVIDENCE: usize = 64;
/// Ganesha ends grace on its 5 s reaper tick; a window read from the configured length
/// gets this much slack before a late reclaim counts as outside it.
pub const GRACE_TICK_NS: Ts = 5_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// NLM DENIED_GRACE_PERIOD to a non-reclaim request, NFS4ERR_GRACE.
    GraceRefusal,
    /// An NLM reclaim refused with DENIED_GRACE_PERIOD: grace is over.
    NoGrace,
    /// NFS4ERR_NO_GRACE to a reclaim: this client may no longer reclaim (grace is over,
    /// or the server has no record of the client, or it sent RECLAIM_COMPLETE).
    ClientNoGrace,
    StaleClientid,
    StaleStateid,
    BadSession,
    /// SEQ4_STATUS_RESTART_RECLAIM_NEEDED in a SEQUENCE reply.
    RestartReclaimNeeded,
    /// SM_NOTIFY from the server host's statd.
    ServerNotify,
    /// Fresh clientids carry a new boot epoch in their high 32 bits.
    ClientidEpoch,
    /// A client reclaiming (granted or not).
    Reclaim,
    /// RECLAIM_COMPLETE accepted.
    ReclaimComplete,
    /// The server's TCP connections were reset.
    ConnectionsReset,
    /// `--restart IP@TIME`.
    Operator,
}

impl EvidenceKind {
    /// Evidence that a new server instance is answering (grace-rules.md 1–3, 5, 6).
    pub fn opens_epoch(self) -> bool {
        !matches!(self, EvidenceKind::NoGrace | EvidenceKind::ClientNoGrace | EvidenceKind::ReclaimComplete | EvidenceKind::ConnectionsReset)
    }

    /// Whether this evidence alone proves a restart (reclaims and resets only suggest one).
    pub fn strong(self) -> bool {
        self.opens_epoch() && self != EvidenceKind::Reclaim
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub at: FrameRef,
    pub client: Option<IpAddr>,
    /// What the evidence is, for people (mostly fixed texts: no copy for those).
    pub note: std::borrow::Cow<'static, str>,
}

/// Three-valued answers: proven by the wire, depending on the assumed grace length, no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Certain,
    Possible,
    No,
}

#[derive(Debug, Clone, Serialize)]
pub struct Epoch {
    pub index: usize,
    /// Whether a restart or failover began it (false for the epoch the capture opened
    /// in with no evidence of a restart).
    pub restarted: bool,
    /// The last reply of the previous instance: the restart came after it.
    pub start_lo: Option<FrameRef>,
    /// The first evidence of this instance: the restart came before it.
    pub start_hi: FrameRef,
    pub evidence: Vec<Evidence>,
    pub evidence_count: u64,
    /// The latest moment the wire proves the server was in grace.
    pub in_grace_until: Option<FrameRef>,
    /// The earliest moment the wire proves grace was over.
    pub grace_over_from: Option<FrameRef>,
    /// The server IP whose state moved here (`--failover OLD=NEW`).
    pub failover_from: Option<IpAddr>,
}

impl Epoch {
    pub fn new(index: usize, restarted: bool, start_lo: Option<FrameRef>, start_hi: FrameRef) -> Self {
        Epoch {
            index,
            restarted,
            start_lo,
            start_hi,
            evidence: Vec::new(),
            evidence_count: 0,
            in_grace_until: None,
            grace_over_from: None,
            failover_from: None,
        }
    }

    pub fn add(&mut self, e: Evidence) {
        self.evidence_count += 1;
        match e.kind {
            EvidenceKind::GraceRefusal if self.in_grace_until.is_none_or(|f| f.ts < e.at.ts) => self.in_grace_until = Some(e.at),
            EvidenceKind::NoGrace if self.grace_over_from.is_none_or(|f| f.ts > e.at.ts) => self.grace_over_from = Some(e.at),
            _ => {}
        }
        if self.evidence.len() < MAX_EVIDENCE {
            self.evidence.push(e);
        }
    }

    /// Earliest moment the restart can have happened.
    pub fn earliest_start(&self) -> Ts {
        self.start_lo.map_or(self.start_hi.ts, |f| f.ts)
    }

    /// Grace ends at the latest at this moment if it lasts `grace` (assumed).
    pub fn assumed_end_latest(&self, grace: Ts) -> Ts {
        self.start_hi.ts + grace + GRACE_TICK_NS
    }

    /// Was the server in grace at `t`?
    pub fn in_grace(&self, t: Ts, grace: Ts) -> Tri {
        if !self.restarted || t < self.earliest_start() {
            return Tri::No;
        }
        if self.grace_over_from.is_some_and(|f| f.ts <= t) {
            return Tri::No;
        }
        if self.in_grace_until.is_some_and(|f| f.ts >= t) && t >= self.start_hi.ts {
            return Tri::Certain;
        }
        // Assumed only when the restart is bounded on both sides: grace began after the
        // previous instance's last sign of life, so it runs at least until then + grace.
        match self.start_lo {
            Some(lo) if t < lo.ts + grace => Tri::Possible,
            _ => Tri::No,
        }
    }

    /// Was grace over at `t` (given that this epoch began with a restart)?
    pub fn grace_over(&self, t: Ts, grace: Ts) -> Tri {
        if self.grace_over_from.is_some_and(|f| f.ts <= t) {
            return Tri::Certain;
        }
        if self.in_grace_until.is_some_and(|f| f.ts >= t) {
            return Tri::No;
        }
        if t > self.assumed_end_latest(grace) {
            return Tri::Possible;
        }
        Tri::No
    }

    /// When grace ended: proven, or assumed from the configured length.
    pub fn grace_end(&self, grace: Ts) -> (Ts, bool) {
        match self.grace_over_from {
            Some(f) => (f.ts, true),
            None => (self.assumed_end_latest(grace).max(self.in_grace_until.map_or(0, |f| f.ts)), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> FrameRef {
        FrameRef { file: 0, frame: s as u64, ts: s * 1_000_000_000 }
    }

    fn ev(kind: EvidenceKind, s: i64) -> Evidence {
        Evidence { kind, at: at(s), client: None, note: "".into() }
    }

    const G: Ts = 90_000_000_000;

    #[test]
    fn proven_and_assumed_grace() {
        let mut e = Epoch::new(1, true, Some(at(100)), at(110));
        e.add(ev(EvidenceKind::GraceRefusal, 110));
        e.add(ev(EvidenceKind::GraceRefusal, 150));
        let s = |x: i64| x * 1_000_000_000;
        assert_eq!(e.in_grace(s(99), G), Tri::No);
        assert_eq!(e.in_grace(s(120), G), Tri::Certain);
        assert_eq!(e.in_grace(s(160), G), Tri::Possible);
        assert_eq!(e.in_grace(s(195), G), Tri::No);
        assert_eq!(e.grace_over(s(150), G), Tri::No);
        assert_eq!(e.grace_over(s(199), G), Tri::No);
        assert_eq!(e.grace_over(s(206), G), Tri::Possible);
        e.add(ev(EvidenceKind::NoGrace, 180));
        assert_eq!(e.grace_over(s(181), G), Tri::Certain);
        assert_eq!(e.in_grace(s(185), G), Tri::No);
        assert_eq!(e.grace_end(G), (s(180), true));
    }

    #[test]
    fn first_epoch_is_not_in_grace() {
        let e = Epoch::new(0, false, None, at(0));
        assert_eq!(e.in_grace(5, G), Tri::No);
        // a server first seen in grace: only refusals prove grace, nothing is assumed
        let mut fresh = Epoch::new(0, true, None, at(10));
        fresh.add(ev(EvidenceKind::GraceRefusal, 12));
        assert_eq!(fresh.in_grace(11 * 1_000_000_000, G), Tri::Certain);
        assert_eq!(fresh.in_grace(13 * 1_000_000_000, G), Tri::No);
        assert_eq!(fresh.grace_over(106 * 1_000_000_000, G), Tri::Possible);
        assert!(EvidenceKind::StaleClientid.strong() && !EvidenceKind::Reclaim.strong() && EvidenceKind::Reclaim.opens_epoch());
    }
}
