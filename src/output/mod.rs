//! Printers: tcpdump-style text, JSON Lines and tables. The core never formats.

pub mod audit;
pub mod json;
pub mod state;
pub mod stats;
pub mod text;

use crate::net::Ts;
use crate::proto;
use crate::rpc::{Kind, Message, ProcId};

/// `HH:MM:SS.micro` in UTC, as tcpdump prints a time of day.
pub fn time_of_day(ts: Ts) -> String {
    let secs = ts.div_euclid(1_000_000_000);
    let nanos = ts.rem_euclid(1_000_000_000);
    let day = secs.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}.{:06}", day / 3600, day / 60 % 60, day % 60, nanos / 1000)
}

/// Seconds since the epoch with nanoseconds, as a JSON number.
pub fn epoch(ts: Ts) -> String {
    format!("{}.{:09}", ts.div_euclid(1_000_000_000), ts.rem_euclid(1_000_000_000))
}

/// `NLM4`, `NFSv3`, `NFSv4.1`, `MOUNTv3`, `NSM`, `portmap v2`, `NFSv4 CB`, `prog 99 v1`.
pub fn program_label(id: &ProcId, m: &Message<'_>) -> String {
    match id.prog {
        proto::NLM => format!("NLM{}", id.vers),
        proto::NFS if id.vers == 4 => match &m.kind {
            Kind::Call { body: proto::CallBody::Nfs4(c), .. } => format!("NFSv4.{}", c.minorversion()),
            _ => "NFSv4".into(),
        },
        proto::NFS => format!("NFSv{}", id.vers),
        proto::MOUNT => format!("MOUNTv{}", id.vers),
        proto::NSM => "NSM".into(),
        proto::PORTMAP if id.vers == 2 => "portmap v2".into(),
        proto::PORTMAP => format!("rpcbind v{}", id.vers),
        proto::NFS_ACL => format!("NFSACL v{}", id.vers),
        _ if id.cb => "NFSv4 CB".into(),
        p => match proto::prog_name(p) {
            Some(n) => format!("{n} v{}", id.vers),
            None => format!("prog {p} v{}", id.vers),
        },
    }
}

/// The procedure name, or its number.
pub fn proc_label(id: &ProcId) -> String {
    id.name().map(str::to_string).unwrap_or_else(|| format!("proc {}", id.proc_))
}
