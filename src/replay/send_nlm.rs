//! One simulated NLM host: its own connection (TCP or UDP) to the target's NLM port,
//! one LOCK per planned lock (reclaim = true, or a normal lock when establishing),
//! carrying the captured caller name, owner handle, svid, file handle, range and
//! exclusivity.

use super::outcome::{Kind, Outcome, Result as Res};
use super::requests::nlm_lock_args;
use super::rpc::RpcClient;
use super::send::Shared;
use crate::client::nlm::{nlm4, parse_res, stat, NLM4_LOCK};
use crate::client::rpc::{AuthSys, Cred, ReplyStatus};
use std::net::SocketAddrV4;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub(crate) const PROTOCOL: &str = "NLM4";

pub(crate) async fn host(sh: &Shared, i: usize) -> Vec<Outcome> {
    let h = &sh.plan.nlm[i];
    let establish = sh.cfg.establish;
    let remote = SocketAddrV4::new(sh.cfg.target, sh.nlm_port);
    let mut conn = RpcClient::new(sh.source(i), remote, sh.cfg.nlm_udp, Cred::Sys(AuthSys::root(&h.caller_name)), sh.cfg.opts());
    let mut out = Vec::with_capacity(h.locks.len());
    let mut cookie = 0u32;
    for l in &h.locks {
        if let Some(f) = &l.fail {
            let o = super::send::not_sent(sh, PROTOCOL, Kind::NlmLock, i, &h.caller_name, Res::Failed { reason: f.clone() });
            sh.count(&o);
            out.push(o);
            continue;
        }
        let start = sh.now();
        let began = Instant::now();
        let mut attempts = 0;
        let mut tries = 0;
        let (result, xid) = loop {
            sh.pace().await;
            cookie = cookie.wrapping_add(1);
            let args = nlm_lock_args(h, l, &cookie.to_be_bytes(), !establish);
            match conn.call(nlm4(NLM4_LOCK), &args).await {
                Err(e) => break (Res::Failed { reason: e.to_string() }, 0),
                Ok(a) => {
                    attempts += a.sent;
                    if a.status != ReplyStatus::Success {
                        break (Res::Failed { reason: format!("rpc: {:?}", a.status) }, a.xid);
                    }
                    match parse_res(&a.body) {
                        Err(e) => break (Res::Failed { reason: format!("reply: {e}") }, a.xid),
                        Ok(stat::GRANTED) => break (Res::Granted, a.xid),
                        // a normal lock in grace: try again once grace is over
                        Ok(stat::DENIED_GRACE_PERIOD) if establish && began.elapsed() < sh.cfg.retry_for => {
                            sh.retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Shared::backoff(tries)).await;
                            tries += 1;
                        }
                        Ok(s) => break (Res::Refused { status: nlm_stat_name(s), code: s, sent: true }, a.xid),
                    }
                }
            }
        };
        let o = Outcome { protocol: PROTOCOL, kind: Kind::NlmLock, client: i, client_name: h.caller_name.clone(), result, start, end: sh.now(), attempts, xid };
        sh.count(&o);
        out.push(o);
    }
    conn.close();
    sh.retransmits.fetch_add(conn.stats.retransmits, Ordering::Relaxed);
    sh.reconnects.fetch_add(conn.stats.reconnects, Ordering::Relaxed);
    out
}

pub(crate) fn nlm_stat_name(s: u32) -> String {
    match stat::name(s) {
        "?" => format!("nlm4_stats({s})"),
        n => n.to_string(),
    }
}
