//! Matching replies to calls by (client, server, transport, xid), with a bounded table.
//!
//! Calls wait for their reply up to the cap (the oldest go first); answered calls are
//! kept a little while (a minute, at most [`ANSWERED_CAP`] of them) to recognise
//! duplicate replies, so that the table holds what is in flight, not the whole past.

use super::{GssService, ProcId};
use crate::net::{Endpoint, FastMap, FrameRef, Transport, Ts};
use std::collections::hash_map::Entry as Slot;
use std::collections::VecDeque;

/// Answered calls kept to recognise duplicate replies.
pub const ANSWERED_CAP: usize = 8192;
/// How long an answered call is kept (capture time).
pub const ANSWERED_KEEP: Ts = 60_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallKey {
    pub client: Endpoint,
    pub server: Endpoint,
    pub transport: Transport,
    pub xid: u32,
}

impl std::hash::Hash for CallKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.client.word() ^ u64::from(self.xid) << 32);
        h.write_u64(self.server.word() ^ self.transport as u64);
    }
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
    map: FastMap<CallKey, Entry>,
    /// Calls in arrival order; entries whose sequence number no longer matches are stale.
    order: VecDeque<(CallKey, u64)>,
    /// Answered calls in the order answered, with the time of the reply.
    answered: VecDeque<(CallKey, u64, Ts)>,
    seq: u64,
    cap: usize,
    pub counters: MatchCounters,
}

impl Matcher {
    pub fn new(cap: usize) -> Self {
        Matcher {
            map: FastMap::default(),
            order: VecDeque::new(),
            answered: VecDeque::new(),
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
        let seq = self.seq + 1;
        let fresh = Entry { p, answered: false, seq };
        match self.map.entry(key) {
            Slot::Occupied(mut o) => {
                let e = o.get_mut();
                if !e.answered && e.p.id == p.id {
                    self.counters.retransmitted_calls += 1;
                    return CallOutcome::Retransmit;
                }
                if !e.answered {
                    self.counters.unanswered_calls += 1;
                }
                *e = fresh;
            }
            Slot::Vacant(v) => {
                v.insert(fresh);
            }
        }
        self.counters.calls += 1;
        self.seq = seq;
        self.order.push_back((key, self.seq));
        while self.map.len() > self.cap {
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
        if self.order.len() > 2 * self.map.len() + 1024 {
            let map = &self.map;
            self.order.retain(|(k, s)| map.get(k).is_some_and(|e| e.seq == *s));
        }
        CallOutcome::New
    }

    /// A reply at time `now`.
    pub fn reply(&mut self, key: &CallKey, now: Ts) -> ReplyOutcome {
        let out = match self.map.get_mut(key) {
            Some(e) if e.answered => {
                self.counters.duplicate_replies += 1;
                ReplyOutcome::Duplicate(e.p)
            }
            Some(e) => {
                e.answered = true;
                self.counters.replies += 1;
                self.answered.push_back((*key, e.seq, now));
                ReplyOutcome::Matched(e.p)
            }
            None => {
                self.counters.orphan_replies += 1;
                ReplyOutcome::Orphan
            }
        };
        self.expire(now);
        out
    }

    /// Forget answered calls past the window.
    fn expire(&mut self, now: Ts) {
        while let Some(&(k, s, at)) = self.answered.front() {
            if self.answered.len() <= ANSWERED_CAP && now - at <= ANSWERED_KEEP {
                break;
            }
            self.answered.pop_front();
            if let Slot::Occupied(o) = self.map.entry(k) {
                if o.get().seq == s && o.get().answered {
                    o.remove();
                }
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
        self.answered.clear();
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
        match m.reply(&key(1), 0) {
            ReplyOutcome::Matched(p) => assert_eq!(p.at.frame, 1),
            _ => panic!(),
        }
        assert!(matches!(m.reply(&key(1), 0), ReplyOutcome::Duplicate(_)));
        assert!(matches!(m.reply(&key(2), 0), ReplyOutcome::Orphan));
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
        assert!(matches!(m.reply(&key(0), 0), ReplyOutcome::Orphan));
        assert!(matches!(m.reply(&key(9), 0), ReplyOutcome::Matched(_)));
        m.finish();
        assert_eq!(m.counters.unanswered_calls, 6 + 3);
    }

    #[test]
    fn answered_calls_are_kept_a_while_only() {
        let mut m = Matcher::new(1 << 20);
        let s = 1_000_000_000;
        m.call(key(1), pending(1));
        assert!(matches!(m.reply(&key(1), s), ReplyOutcome::Matched(_)));
        assert!(matches!(m.reply(&key(1), 30 * s), ReplyOutcome::Duplicate(_)), "a duplicate within the window");
        m.call(key(2), pending(2));
        assert!(matches!(m.reply(&key(2), 62 * s), ReplyOutcome::Matched(_)));
        assert!(matches!(m.reply(&key(1), 62 * s), ReplyOutcome::Orphan), "forgotten after a minute");
        assert!(!m.is_pending(&key(3)));
        assert_eq!(m.len(), 1);
        for x in 10..10 + ANSWERED_CAP as u32 + 100 {
            m.call(key(x), pending(x as u64));
            m.reply(&key(x), 63 * s);
        }
        assert_eq!(m.len(), ANSWERED_CAP, "at most ANSWERED_CAP answered calls");
        assert!(m.order.len() <= 2 * m.len() + 1024);
        m.call(key(5), pending(5));
        assert!(m.is_pending(&key(5)), "an unanswered call stays");
    }
}
