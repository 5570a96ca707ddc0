//! One line per RPC message, tcpdump style.

use super::{program_label, proc_label, time_of_day};
use crate::proto::{CallBody, ReplyBody};
use crate::rpc::{Kind, Message, ReplyStat};
use std::fmt::Write;

/// Format one message; `file` is the input's name, shown when several are merged.
pub fn line(m: &Message<'_>, file: Option<&str>) -> String {
    let mut s = String::with_capacity(160);
    if let Some(f) = file {
        let _ = write!(s, "{f}:{} ", m.at.frame);
    }
    let _ = write!(s, "{} {} > {}: {} xid {:#010x} ", time_of_day(m.at.ts), m.src, m.dst, m.transport, m.xid);
    match &m.kind {
        Kind::Call { id, body, retransmit, .. } => {
            let label = program_label(id, m);
            if matches!(body, CallBody::Nfs4(_)) && id.proc_ == 1 {
                let _ = write!(s, "{label} call {body}");
            } else {
                let _ = write!(s, "{label} {} call", proc_label(id));
                let summary = body.to_string();
                if !summary.is_empty() {
                    let _ = write!(s, " {summary}");
                }
            }
            if *retransmit {
                s.push_str(" (retransmission)");
            }
        }
        Kind::Reply { stat, id, body, latency_ns, duplicate, .. } => {
            match id {
                Some(id) if matches!(body, ReplyBody::Nfs4(_)) && id.proc_ == 1 => {
                    let _ = write!(s, "{} reply", program_label(id, m));
                }
                Some(id) => {
                    let _ = write!(s, "{} {} reply", program_label(id, m), proc_label(id));
                }
                None => s.push_str("reply (call not captured)"),
            }
            match stat {
                ReplyStat::Accepted { stat, .. } if stat.number() == 0 => {
                    let summary = body.to_string();
                    if summary.is_empty() {
                        s.push_str(" ok");
                    } else {
                        let _ = write!(s, " {summary}");
                    }
                }
                ReplyStat::Accepted { stat, .. } => {
                    let _ = write!(s, " {}", stat.name());
                }
                ReplyStat::Denied(r) => {
                    let _ = write!(s, " denied {}", r.name());
                }
            }
            if let Some(ns) = latency_ns {
                let _ = write!(s, " ({:.3} ms)", *ns as f64 / 1e6);
            }
            if *duplicate {
                s.push_str(" (duplicate reply)");
            }
        }
    }
    s
}
