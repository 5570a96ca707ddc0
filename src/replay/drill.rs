//! The drill: optionally establish the plan's state on a server (`--establish`),
//! restart or fail it over (a hook: `--restart-cmd` in the CLI, a closure in tests),
//! wait until the target answers again (NFS NULL), resolve paths when asked, wait
//! until it answers in grace, send the reclaims, and optionally watch for the end of grace.
//!
//! The grace probe is an NLM TEST (no state is taken) of the plan's first NLM lock
//! by a made-up host: DENIED_GRACE_PERIOD means the target is in grace. A plan with
//! no NLM lock can only wait for the NFS port to answer NULL.

use super::plan::Plan;
use super::remap;
use super::report::Grace;
use super::send::{self, RunResult, SendConfig};
use crate::client::nlm::{self, NlmLock};
use crate::client::rpc::{AuthSys, Cred, ReplyStatus};
use crate::client::transport::{Endpoint, Proto, RpcConn};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct DrillConfig {
    /// How to send the reclaims (and where: `send.target`).
    pub send: SendConfig,
    /// Take the plan's state first (normal locks) on this host.
    pub establish_on: Option<Ipv4Addr>,
    /// Resolve handles by path on each host before sending to it.
    pub remap: bool,
    /// The target's configured grace period (seconds).
    pub grace_length: f64,
    /// After the restart: how long to wait for the target to answer in grace.
    pub wait_grace: Duration,
    /// After the reclaims: probe until the target's grace is over.
    pub watch_grace: bool,
}

/// What the drill did.
#[derive(Debug)]
pub struct DrillResult {
    /// The plan as sent (handles remapped, opens' handles as established).
    pub plan: Plan,
    pub establish: Option<(Plan, RunResult)>,
    pub reclaim: RunResult,
    pub grace: Grace,
    /// Handles resolved and unresolved by `--remap-by-path` for the reclaims.
    pub remap: Option<(usize, usize)>,
    pub notes: Vec<String>,
}

fn remapped(plan: &Plan, cfg: &SendConfig, notes: &mut Vec<String>) -> (Plan, (usize, usize)) {
    let r = remap::resolve(plan, cfg);
    let mut p = plan.clone();
    remap::apply(&mut p, &r);
    let counts = (r.resolved(), r.unresolved());
    if counts.1 > 0 {
        notes.push(format!("{}: {} of {} files not found by path", cfg.target, counts.1, counts.0 + counts.1));
    }
    (p, counts)
}

/// An NLM TEST by a host that holds nothing: the NLM status, or why there is none.
pub fn probe_nlm(cfg: &SendConfig, port: u16, plan: &Plan) -> Result<u32, String> {
    let l = plan.nlm.iter().flat_map(|h| &h.locks).find(|l| l.fail.is_none()).ok_or("no NLM lock to probe with")?;
    let lock = NlmLock { caller_name: "gracewatch-probe".into(), fh: l.fh.clone(), oh: b"gracewatch-probe".to_vec(), svid: 1, offset: l.offset, len: l.len, exclusive: l.exclusive };
    let local = cfg.source_addrs.first().copied().unwrap_or(Ipv4Addr::UNSPECIFIED);
    let proto = if cfg.nlm_udp { Proto::Udp } else { Proto::Tcp };
    let mut c = RpcConn::connect(Endpoint { local, server: cfg.target, port, proto, reserved: false }, Cred::Sys(AuthSys::root("gracewatch-probe"))).map_err(|e| e.to_string())?;
    c.set_timeout(Duration::from_secs(2)).map_err(|e| e.to_string())?;
    let r = c.call_any(nlm::nlm4(nlm::NLM4_TEST), &nlm::test_args(b"probe", &lock)).map_err(|e| e.to_string())?;
    if r.status != ReplyStatus::Success {
        return Err(format!("{:?}", r.status));
    }
    nlm::parse_res(&r.body).map_err(|e| e.to_string())
}

fn nfs_null(cfg: &SendConfig) -> Result<(), String> {
    let local = cfg.source_addrs.first().copied().unwrap_or(Ipv4Addr::UNSPECIFIED);
    let mut c = RpcConn::connect(Endpoint { local, server: cfg.target, port: cfg.nfs_port, proto: Proto::Tcp, reserved: false }, Cred::None).map_err(|e| e.to_string())?;
    c.set_timeout(Duration::from_secs(2)).map_err(|e| e.to_string())?;
    c.call(crate::client::nfs4::nfs4(0), &[]).map(|_| ()).map_err(|e| e.to_string())
}

/// After a restart: wait until the target's NFS port answers NULL again, so that
/// what follows (lookups by path, the grace probe) talks to the new server.
fn wait_up(cfg: &SendConfig, limit: Duration, notes: &mut Vec<String>) {
    let deadline = Instant::now() + limit;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        match nfs_null(cfg) {
            Ok(()) => return,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    notes.push(format!("the target's NFS port did not answer within {limit:?} ({last})"));
}

/// Wait until the target answers; true when it answered "in grace".
fn wait_in_grace(cfg: &SendConfig, plan: &Plan, limit: Duration, notes: &mut Vec<String>) -> bool {
    let deadline = Instant::now() + limit;
    let mut last = String::from("no answer");
    let has_nlm = plan.nlm.iter().flat_map(|h| &h.locks).any(|l| l.fail.is_none());
    while Instant::now() < deadline {
        if has_nlm {
            match send::nlm_port(cfg).map_err(|e| e.to_string()).and_then(|p| probe_nlm(cfg, p, plan)) {
                Ok(nlm::stat::DENIED_GRACE_PERIOD) => return true,
                Ok(s) => last = format!("NLM TEST answered {}", nlm::stat::name(s)),
                Err(e) => last = e,
            }
        } else if nfs_null(cfg).is_ok() {
            notes.push("no NLM lock in the plan: the target answered NFS NULL, its grace was not checked".into());
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    notes.push(format!("the target did not answer in grace within {limit:?} ({last}); reclaims sent anyway"));
    false
}

/// Probe until the target's grace is over; the moment it was first seen over.
fn watch_grace_end(cfg: &SendConfig, plan: &Plan, until: Instant) -> Option<Instant> {
    let port = send::nlm_port(cfg).ok()?;
    while Instant::now() < until {
        match probe_nlm(cfg, port, plan) {
            Ok(s) if s != nlm::stat::DENIED_GRACE_PERIOD => return Some(Instant::now()),
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    }
    None
}

fn secs_between(a: Instant, t0: Instant) -> f64 {
    if a >= t0 {
        (a - t0).as_secs_f64()
    } else {
        -(t0 - a).as_secs_f64()
    }
}

/// Run the drill. `restart` (when given) restarts or fails over the target after the
/// establish phase; it returns once the new server was started.
pub fn run(plan: &Plan, cfg: &DrillConfig, restart: Option<&mut dyn FnMut() -> anyhow::Result<()>>) -> anyhow::Result<DrillResult> {
    let mut notes = Vec::new();
    let mut plan = plan.clone();
    let mut establish = None;
    if let Some(host) = cfg.establish_on {
        let mut ecfg = cfg.send.clone();
        ecfg.target = host;
        ecfg.establish = true;
        let eplan = if cfg.remap { remapped(&plan, &ecfg, &mut notes).0 } else { plan.clone() };
        let r = send::run(Arc::new(eplan.clone()), &ecfg)?;
        // what the server answered when the opens were made is what is reclaimed
        for (ci, oi, fh) in &r.fh_updates {
            if let Some(o) = plan.v4.get_mut(*ci).and_then(|c| c.opens.get_mut(*oi)) {
                o.fh = fh.clone();
            }
        }
        establish = Some((eplan, r));
    }
    let mut grace = Grace { length: cfg.grace_length, ..Grace::default() };
    let mut restarted_at = None;
    if let Some(f) = restart {
        f()?;
        restarted_at = Some(Instant::now());
    }
    let mut rcfg = cfg.send.clone();
    rcfg.establish = false;
    let mut counts = None;
    if restarted_at.is_some() {
        wait_up(&rcfg, cfg.wait_grace, &mut notes);
    }
    if cfg.remap {
        let (p, c) = remapped(&plan, &rcfg, &mut notes);
        plan = p;
        counts = Some(c);
    }
    if restarted_at.is_some() {
        grace.seen_in_grace = wait_in_grace(&rcfg, &plan, cfg.wait_grace, &mut notes);
    }
    let reclaim = send::run(Arc::new(plan.clone()), &rcfg)?;
    grace.start = restarted_at.map(|r| secs_between(r, reclaim.t0));
    if cfg.watch_grace {
        let base = restarted_at.unwrap_or(reclaim.t0);
        let until = base + Duration::from_secs_f64(cfg.grace_length.max(0.0) + 30.0);
        match watch_grace_end(&rcfg, &plan, until) {
            Some(t) => grace.observed_end = Some(secs_between(t, reclaim.t0)),
            None => notes.push("the end of grace was not seen (no NLM lock to probe with, or it lasted longer than expected)".into()),
        }
    }
    Ok(DrillResult { plan, establish, reclaim, grace, remap: counts, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_seconds() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_millis(1500);
        assert!((secs_between(later, t0) - 1.5).abs() < 1e-9);
        assert!((secs_between(t0, later) + 1.5).abs() < 1e-9);
    }
}
