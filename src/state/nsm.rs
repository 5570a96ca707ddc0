//! NSM (statd) state: which hosts a statd monitors and for whom, and the reboots hosts
//! announce.
//!
//! Monitoring is kept under the address of the statd that was asked (the server IP of
//! the SM_MON call); a server's lock manager often talks to its statd over loopback, so
//! that address may be 127.0.0.1. An SM_NOTIFY sent to an address tells the statd there
//! that `mon_name` rebooted: every lock that host held through that address is gone,
//! and is dropped here once the notification is answered.

use super::journal::DropReason;
use super::{text, Pend, StateSource, Tracker};
use crate::net::{Endpoint, FrameRef};
use crate::proto::nsm::{self, ResStat};
use crate::rpc::Message;
use std::collections::BTreeMap;

/// An NSM request awaiting its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NsmReq {
    Stat { mon_name: String },
    Mon { mon_name: String, my: MyId },
    Unmon { mon_name: String, my: MyId },
    UnmonAll { my: MyId },
    Notify { mon_name: String, state: i32 },
}

impl NsmReq {
    pub fn proc_name(&self) -> &'static str {
        match self {
            NsmReq::Stat { .. } => "SM_STAT",
            NsmReq::Mon { .. } => "SM_MON",
            NsmReq::Unmon { .. } => "SM_UNMON",
            NsmReq::UnmonAll { .. } => "SM_UNMON_ALL",
            NsmReq::Notify { .. } => "SM_NOTIFY",
        }
    }
}

/// Whom statd calls back when a monitored host reboots.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MyId {
    pub my_name: String,
    pub my_prog: u32,
    pub my_vers: u32,
    pub my_proc: u32,
}

impl MyId {
    fn new(m: &nsm::MyId<'_>) -> MyId {
        MyId { my_name: text(m.my_name), my_prog: m.my_prog, my_vers: m.my_vers, my_proc: m.my_proc }
    }
}

/// One host a statd watches on someone's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitor {
    pub mon_name: String,
    pub my: MyId,
    /// Who asked (the lock manager's address and port).
    pub caller: Endpoint,
    /// The SM_MON call and its successful reply.
    pub call: FrameRef,
    pub since: FrameRef,
}

/// NSM state of one statd address.
#[derive(Debug, Clone, Default)]
pub struct NsmState {
    /// Keyed by (mon_name, my_id).
    pub monitors: BTreeMap<(String, MyId), Monitor>,
}

impl Tracker {
    pub(super) fn nsm_call(&mut self, m: &Message<'_>, proc_name: &'static str, c: &nsm::Call<'_>, retransmit: bool) {
        let req = match c {
            nsm::Call::SmStat { mon_name } => NsmReq::Stat { mon_name: text(*mon_name) },
            nsm::Call::SmMon(a) => NsmReq::Mon { mon_name: text(a.mon_id.mon_name), my: MyId::new(&a.mon_id.my_id) },
            nsm::Call::SmUnmon(a) => NsmReq::Unmon { mon_name: text(a.mon_name), my: MyId::new(&a.my_id) },
            nsm::Call::SmUnmonAll(a) => NsmReq::UnmonAll { my: MyId::new(a) },
            nsm::Call::SmNotify { mon_name, state } => {
                let name = text(*mon_name);
                self.note_host_state(&name, *state, StateSource::SmNotify, m);
                NsmReq::Notify { mon_name: name, state: *state }
            }
            nsm::Call::SmNull | nsm::Call::SmSimuCrash | nsm::Call::Unknown { .. } => return,
        };
        self.remember(m, m.dst.ip, proc_name, Pend::Nsm(req), retransmit);
    }

    pub(super) fn nsm_reply(&mut self, m: &Message<'_>, caller: Endpoint, callee: Endpoint, call: FrameRef, req: NsmReq, r: &nsm::Reply<'_>) {
        let statd = callee.ip;
        if let Some(state) = r.state() {
            let via = if matches!(req, NsmReq::Stat { .. }) { StateSource::SmStat } else { StateSource::SmMonReply };
            self.note_host_state(&statd.to_string(), state, via, m);
        }
        match req {
            NsmReq::Mon { mon_name, my } => {
                if !matches!(r, nsm::Reply::SmMon { res_stat: ResStat::Succ, .. }) {
                    return;
                }
                let cap = self.cfg.monitors_cap;
                let Some(st) = self.server_mut(statd) else { return };
                let key = (mon_name.clone(), my.clone());
                if !st.nsm.monitors.contains_key(&key) && st.nsm.monitors.len() >= cap {
                    self.counters.monitors_refused += 1;
                    return;
                }
                st.nsm.monitors.insert(key, Monitor { mon_name, my, caller, call, since: m.at });
            }
            NsmReq::Unmon { mon_name, my } => {
                if let Some(st) = self.servers.get_mut(&statd) {
                    st.nsm.monitors.remove(&(mon_name, my));
                }
            }
            NsmReq::UnmonAll { my } => {
                if let Some(st) = self.servers.get_mut(&statd) {
                    st.nsm.monitors.retain(|(_, id), _| *id != my);
                }
            }
            NsmReq::Notify { mon_name, .. } => {
                // The notifier's own address counts too: it is the rebooted host.
                self.drop_host(&[statd], &mon_name, Some(caller.ip), DropReason::SmNotify, call, m.at);
            }
            NsmReq::Stat { .. } => {}
        }
    }
}
