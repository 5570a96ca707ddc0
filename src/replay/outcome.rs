//! What became of each planned request.

use serde::Serialize;

/// The kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// NLM LOCK (reclaim, or a normal lock when establishing).
    NlmLock,
    /// NFSv4 OPEN (CLAIM_PREVIOUS, or CLAIM_NULL / CLAIM_FH when establishing).
    Open,
    /// NFSv4 LOCK.
    Lock,
    /// Client setup: SETCLIENTID(+_CONFIRM), EXCHANGE_ID, CREATE_SESSION.
    Setup,
    /// NFSv4.1 RECLAIM_COMPLETE.
    ReclaimComplete,
}

impl Kind {
    pub fn name(self, establish: bool) -> &'static str {
        match (self, establish) {
            (Kind::NlmLock, false) => "LOCK reclaim",
            (Kind::NlmLock, true) => "LOCK",
            (Kind::Open, false) => "OPEN CLAIM_PREVIOUS",
            (Kind::Open, true) => "OPEN",
            (Kind::Lock, false) => "LOCK reclaim",
            (Kind::Lock, true) => "LOCK",
            (Kind::Setup, _) => "client setup",
            (Kind::ReclaimComplete, _) => "RECLAIM_COMPLETE",
        }
    }

    /// A reclaim the plan is about (setup steps and RECLAIM_COMPLETE are not).
    pub fn is_reclaim(self) -> bool {
        matches!(self, Kind::NlmLock | Kind::Open | Kind::Lock)
    }

    /// A byte-range lock (what "locks lost" counts).
    pub fn is_lock(self) -> bool {
        matches!(self, Kind::NlmLock | Kind::Lock)
    }
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Result {
    Granted,
    /// The server answered with this status. `sent` is false when the request was not
    /// sent because a request it depends on (its OPEN, the client's setup) was refused
    /// with this status.
    Refused { status: String, code: u32, sent: bool },
    /// No usable answer: the reason.
    Failed { reason: String },
}

impl Result {
    pub fn is_granted(&self) -> bool {
        matches!(self, Result::Granted)
    }
    /// The status column of the report.
    pub fn label(&self) -> String {
        match self {
            Result::Granted => "granted".into(),
            Result::Refused { status, sent: true, .. } => format!("refused {status}"),
            Result::Refused { status, sent: false, .. } => format!("refused {status} (not sent)"),
            Result::Failed { reason } => format!("failed: {}", reason.split(':').next().unwrap_or(reason)),
        }
    }
}

/// One planned request and its end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// `NLM4`, `NFSv4.0`, `NFSv4.1`, `NFSv4.2`.
    pub protocol: &'static str,
    pub kind: Kind,
    /// Index of the simulated client (NLM hosts first, then NFSv4 clients).
    pub client: usize,
    pub client_name: String,
    #[serde(flatten)]
    pub result: Result,
    /// Seconds since the run began: first transmission and final answer (`end` is
    /// when the outcome was decided for requests never sent).
    pub start: f64,
    pub end: f64,
    /// Times the request was sent (1 + retransmissions + protocol retries).
    pub attempts: u32,
    /// xid of the last transmission, to find it in a capture.
    pub xid: u32,
}

impl Outcome {
    pub fn latency(&self) -> f64 {
        (self.end - self.start).max(0.0)
    }
    pub fn answered(&self) -> bool {
        matches!(self.result, Result::Granted | Result::Refused { sent: true, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_kinds() {
        assert_eq!(Result::Granted.label(), "granted");
        let r = Result::Refused { status: "NFS4ERR_NO_GRACE".into(), code: 10033, sent: true };
        assert_eq!(r.label(), "refused NFS4ERR_NO_GRACE");
        let r = Result::Refused { status: "NFS4ERR_NO_GRACE".into(), code: 10033, sent: false };
        assert_eq!(r.label(), "refused NFS4ERR_NO_GRACE (not sent)");
        assert_eq!(Result::Failed { reason: "timeout: 5 tries".into() }.label(), "failed: timeout");
        assert!(Kind::Open.is_reclaim() && !Kind::Setup.is_reclaim() && !Kind::Open.is_lock() && Kind::NlmLock.is_lock());
        assert_eq!(Kind::Open.name(false), "OPEN CLAIM_PREVIOUS");
        let o = Outcome { protocol: "NLM4", kind: Kind::NlmLock, client: 0, client_name: "h".into(), result: Result::Granted, start: 1.0, end: 1.25, attempts: 1, xid: 7 };
        assert_eq!(o.latency(), 0.25);
        assert!(o.answered());
        let j = serde_json::to_value(&o).unwrap();
        assert_eq!(j["result"], "granted");
        assert_eq!(j["kind"], "nlm_lock");
    }
}
