//! Matching replies to calls by (client, server, transport, xid), with a bounded table.

use super::{GssService, ProcId};
use crate::net::{Endpoint, FrameRef, Transport};
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallKey {
    pub client: Endpoint,
    pub server: Endpoint,
    pub transport: Transport,
    pub xid: u32,
}

/// What a reply needs to know of its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub id: ProcId,
    pub at: FrameRef,
    pub gss: Option<GssService>,
    /// For portmap GETPORT/GETADDR: the (prog, vers, IP protocol) asked about.
    pub lookup: Option<(u32, u32, u32)>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    p: Pending,
    answered: bool,
    seq: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MatchCounters {
    pub calls: u64,
    pub retransmitted_calls: u64,
    pub replies: u64,
    pub duplicate_replies: u64,
    pub orphan_replies: u64,
    /// Calls that never got a captured reply (evicted or left at the end).
    pub unanswered_calls: u64,
    /// Entries pushed out of the table by its cap.
    pub evicted: u64,
}

pub enum CallOutcome {
    New,
    Retransmit,
}

pub enum ReplyOutcome {
    Matched(Pending),
    Duplicate(Pending),
    Orphan,
}

pub struct Matcher {
    map: HashMap<CallKey, Entry>,
    order: VecDeque<(CallKey, u64)>,
    seq: u64,
    cap: usize,
    pub counters: MatchCounters,
}

impl Matcher {
    pub fn new(cap: usize) -> Self {
        Matcher {
            map: HashMap::with_capacity(cap.min(1 << 16)),
            order: VecDeque::new(),
            seq: 0,
            cap: cap.max(1),
            counters: MatchCounters::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn call(&mut self, key: CallKey, p: Pending) -> CallOutcome {
        if let Some(e) = self.map.get_mut(&key) {
            if !e.answered && e.p.id == p.id {
                self.counters.retransmitted_calls += 1;
                return CallOutcome::Retransmit;
            }
            if !e.answered {
                self.counters.unanswered_calls += 1;
            }
        }
        self.counters.calls += 1;
        self.seq += 1;
        self.map.insert(key, Entry { p, answered: false, seq: self.seq });
        self.order.push_back((key, self.seq));
        while self.map.len() > self.cap || self.order.len() > self.cap * 2 {
            let Some((k, s)) = self.order.pop_front() else { break };
            if let Some(e) = self.map.get(&k) {
                if e.seq == s {
                    if !e.answered {
                        self.counters.unanswered_calls += 1;
                        self.counters.evicted += 1;
                    }
                    self.map.remove(&k);
                }
            }
        }
        CallOutcome::New
    }

    pub fn reply(&mut self, key: &CallKey) -> ReplyOutcome {
        match self.map.get_mut(key) {
            Some(e) if e.answered => {
                self.counters.duplicate_replies += 1;
                ReplyOutcome::Duplicate(e.p)
            }
            Some(e) => {
                e.answered = true;
                self.counters.replies += 1;
                ReplyOutcome::Matched(e.p)
            }
            None => {
                self.counters.orphan_replies += 1;
                ReplyOutcome::Orphan
            }
        }
    }

    /// Is a call with this key waiting for its reply?
    pub fn is_pending(&self, key: &CallKey) -> bool {
        self.map.get(key).is_some_and(|e| !e.answered)
    }

    /// End of input: count the calls never answered.
    pub fn finish(&mut self) {
        self.counters.unanswered_calls += self.map.values().filter(|e| !e.answered).count() as u64;
        self.map.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(xid: u32) -> CallKey {
        let ep = |p| Endpoint { ip: "10.0.0.1".parse().unwrap(), port: p };
        CallKey { client: ep(800), server: ep(2049), transport: Transport::Udp, xid }
    }

    fn pending(frame: u64) -> Pending {
        Pending { id: ProcId { prog: 100003, vers: 3, proc_: 1, cb: false }, at: FrameRef { file: 0, frame, ts: 0 }, gss: None, lookup: None }
    }

    #[test]
    fn match_retransmit_duplicate_orphan() {
        let mut m = Matcher::new(16);
        assert!(matches!(m.call(key(1), pending(1)), CallOutcome::New));
        assert!(matches!(m.call(key(1), pending(2)), CallOutcome::Retransmit));
        match m.reply(&key(1)) {
            ReplyOutcome::Matched(p) => assert_eq!(p.at.frame, 1),
            _ => panic!(),
        }
        assert!(matches!(m.reply(&key(1)), ReplyOutcome::Duplicate(_)));
        assert!(matches!(m.reply(&key(2)), ReplyOutcome::Orphan));
        assert_eq!(m.counters, MatchCounters { calls: 1, retransmitted_calls: 1, replies: 1, duplicate_replies: 1, orphan_replies: 1, unanswered_calls: 0, evicted: 0 });
    }

    #[test]
    fn cap_evicts_oldest_and_counts() {
        let mut m = Matcher::new(4);
        for x in 0..10 {
            m.call(key(x), pending(x as u64));
        }
        assert_eq!(m.len(), 4);
        assert_eq!(m.counters.evicted, 6);
        assert!(matches!(m.reply(&key(0)), ReplyOutcome::Orphan));
        assert!(matches!(m.reply(&key(9)), ReplyOutcome::Matched(_)));
        m.finish();
        assert_eq!(m.counters.unanswered_calls, 6 + 3);
    }
}
