//! JSON Lines: one object per RPC message. The schema is documented in the README.

use super::epoch;
use crate::rpc::{Kind, Message, RejectStat, ReplyStat};
use serde::Serialize;
use std::io::{self, Write};

fn kv<W: Write>(w: &mut W, k: &str, v: &impl Serialize) -> io::Result<()> {
    write!(w, ",\"{k}\":")?;
    serde_json::to_writer(&mut *w, v).map_err(io::Error::other)
}

/// Write one message as a JSON object followed by a newline.
pub fn write<W: Write>(w: &mut W, m: &Message<'_>, file: &str) -> io::Result<()> {
    w.write_all(b"{\"file\":")?;
    serde_json::to_writer(&mut *w, file).map_err(io::Error::other)?;
    write!(w, ",\"frame\":{},\"ts\":{}", m.at.frame, epoch(m.at.ts))?;
    write!(
        w,
        ",\"src\":\"{}\",\"dst\":\"{}\",\"sport\":{},\"dport\":{},\"transport\":\"{}\",\"xid\":{}",
        m.src.ip, m.dst.ip, m.src.port, m.dst.port, m.transport, m.xid
    )?;
    let id = m.proc_id();
    write!(w, ",\"msg\":\"{}\"", if m.is_call() { "call" } else { "reply" })?;
    match id {
        Some(id) => {
            write!(w, ",\"prog\":{},\"vers\":{},\"proc\":{}", id.prog, id.vers, id.proc_)?;
            kv(w, "proc_name", &id.name())?;
        }
        None => w.write_all(b",\"prog\":null,\"vers\":null,\"proc\":null,\"proc_name\":null")?,
    }
    match &m.kind {
        Kind::Call { header, body, retransmit, .. } => {
            kv(w, "cred", &header.cred)?;
            if *retransmit {
                w.write_all(b",\"retransmit\":true")?;
            }
            body_fields(w, body)?;
        }
        Kind::Reply { stat, body, call, latency_ns, duplicate, .. } => {
            match stat {
                ReplyStat::Accepted { stat, .. } => {
                    write!(w, ",\"reply_stat\":\"MSG_ACCEPTED\",\"accept_stat\":\"{}\"", stat.name())?;
                    if let crate::rpc::AcceptStat::ProgMismatch { low, high } = stat {
                        write!(w, ",\"mismatch\":{{\"low\":{low},\"high\":{high}}}")?;
                    }
                }
                ReplyStat::Denied(r) => {
                    write!(w, ",\"reply_stat\":\"MSG_DENIED\",\"accept_stat\":null,\"reject_stat\":\"{}\"", match r {
                        RejectStat::RpcMismatch { .. } => "RPC_MISMATCH",
                        RejectStat::AuthError(_) => "AUTH_ERROR",
                        RejectStat::Unknown(_) => "UNKNOWN",
                    })?;
                    match r {
                        RejectStat::RpcMismatch { low, high } => write!(w, ",\"mismatch\":{{\"low\":{low},\"high\":{high}}}")?,
                        RejectStat::AuthError(_) => write!(w, ",\"auth_stat\":\"{}\"", r.name())?,
                        RejectStat::Unknown(n) => write!(w, ",\"reject_number\":{n}")?,
                    }
                }
            }
            match call {
                Some(c) => write!(w, ",\"call_frame\":{}", c.frame)?,
                None => w.write_all(b",\"call_frame\":null")?,
            }
            match latency_ns {
                Some(ns) => write!(w, ",\"latency_us\":{}", ns / 1000)?,
                None => w.write_all(b",\"latency_us\":null")?,
            }
            if *duplicate {
                w.write_all(b",\"duplicate\":true")?;
            }
            body_fields(w, body)?;
        }
    }
    w.write_all(b"}\n")
}

/// The decoded body as `"<protocol>": {...}`, merged into the record. A body that
/// was not decoded (unknown program) serializes to nothing.
fn body_fields<W: Write, B: Serialize>(w: &mut W, body: &B) -> io::Result<()> {
    let Ok(v) = serde_json::to_vec(body) else { return Ok(()) };
    // An externally tagged variant: `{"nlm":{...}}` → `,"nlm":{...}`
    if v.len() > 2 && v[0] == b'{' {
        w.write_all(b",")?;
        w.write_all(&v[1..v.len() - 1])?;
    }
    Ok(())
}
