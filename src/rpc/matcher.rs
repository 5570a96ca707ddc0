//! Matching replies to calls by (client, server, transport, xid), with a bounded table.
//!
//! Calls wait for their reply in a table up to its cap (the oldest go first). A call
//! leaves that table when it is answered, so that the table holds what is in flight;
//! the last [`ANSWERED_KEPT`] answered calls are kept, written in turn, to recognise
//! duplicate replies for a minute ([`ANSWERED_KEEP`]). They are found through a small
//! index where a call's key picks a slot: a later answer whose key picks the same slot
//! hides the earlier one. Answers are written one after the other and the index stays
//! in the cache, so that keeping them costs little per reply.

use super::{GssService, ProcId};
use crate::net::bounded::Bounded;
use crate::net::{Endpoint, FrameRef, Transport, Ts};

/// Answered calls kept.
pub const ANSWERED_KEPT: usize = 8192;
/// Slots of the index of answered calls.
const INDEX_SLOTS: usize = 1 << SLOT_BITS;
const SLOT_BITS: u32 = 14;
/// An index slot that points at nothing.
const NO_ANSWER: u16 = u16::MAX;
/// How long an answered call is kept (capture time).
pub const ANSWERED_KEEP: Ts = 60_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallKey {
    pub client: Endpoint,
    pub server: Endpoint,
    pub transport: Transport,
    pub xid: u32,
}

impl CallKey {
    #[inline]
    fn words(&self) -> (u64, u64) {
        (self.client.word() ^ u64::from(self.xid) << 32, self.server.word() ^ self.transport as u64)
    }

    /// The key's slot in the index of answered calls.
    #[inline]
    fn slot(&self) -> usize {
        let (a, b) = self.words();
        // The top bits of a multiplicative hash depend on every bit of the key.
        ((a ^ b.rotate_left(23)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SLOT_BITS)) as usize
    }
}

impl std::hash::Hash for CallKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let (a, b) = self.words();
        h.write_u64(a);
        h.write_u64(b);
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

/// An answered call, with the time of its reply.
#[derive(Debug, Clone, Copy)]
struct Answered {
    key: CallKey,
    p: Pending,
    at: Ts,
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
    /// Calls waiting for their reply, oldest first out when the cap is reached.
    map: Bounded<CallKey, Pending>,
    /// The latest answered calls, written in turn.
    answered: Vec<Answered>,
    /// Where in `answered` the next answered call goes.
    next: usize,
    /// For each slot ([`CallKey::slot`]), where in `answered` the latest answer whose
    /// key picks it was written.
    index: Vec<u16>,
    /// Counts, except what the cap pushed out ([`Matcher::counters`] adds it).
    counters: MatchCounters,
}

impl Matcher {
    pub fn new(cap: usize) -> Self {
        Matcher { map: Bounded::new(cap), answered: Vec::new(), next: 0, index: Vec::new(), counters: MatchCounters::default() }
    }

    /// Calls waiting for their reply.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    pub fn counters(&self) -> MatchCounters {
        let mut c = self.counters;
        c.unanswered_calls += self.map.evicted;
        c.evicted += self.map.evicted;
        c
    }

    pub fn call(&mut self, key: CallKey, p: Pending) -> CallOutcome {
        let (first, had) = self.map.get_or_insert(key, p);
        if had {
            if first.id == p.id {
                self.counters.retransmitted_calls += 1;
                return CallOutcome::Retransmit;
            }
            // The xid used again for another procedure: the first call went unanswered.
            self.counters.unanswered_calls += 1;
            self.map.insert(key, p);
        }
        self.counters.calls += 1;
        CallOutcome::New
    }

    /// A reply at time `now`.
    pub fn reply(&mut self, key: &CallKey, now: Ts) -> ReplyOutcome {
        if let Some(p) = self.map.remove(key) {
            self.counters.replies += 1;
            self.keep_answered(Answered { key: *key, p, at: now });
            return ReplyOutcome::Matched(p);
        }
        match self.index.get(key.slot()).and_then(|&i| self.answered.get(usize::from(i))) {
            Some(a) if a.key == *key && now - a.at <= ANSWERED_KEEP => {
                self.counters.duplicate_replies += 1;
                ReplyOutcome::Duplicate(a.p)
            }
            _ => {
                self.counters.orphan_replies += 1;
                ReplyOutcome::Orphan
            }
        }
    }

    /// Keep an answered call in the next place, in place of the oldest.
    fn keep_answered(&mut self, a: Answered) {
        let i = self.next;
        if self.index.is_empty() {
            self.index = vec![NO_ANSWER; INDEX_SLOTS];
        }
        self.index[a.key.slot()] = i as u16;
        if i < self.answered.len() {
            self.answered[i] = a;
        } else {
            self.answered.push(a);
        }
        self.next = (i + 1) % ANSWERED_KEPT;
    }

    /// Is a call with this key waiting for its reply?
    pub fn is_pending(&self, key: &CallKey) -> bool {
        self.map.contains(key)
    }

    /// End of input: count the calls never answered.
    pub fn finish(&mut self) {
        self.counters.unanswered_calls += self.map.len() as u64;
        self.map.clear();
        self.answered = Vec::new();
        self.index = Vec::new();
        self.next = 0;
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
        assert_eq!(m.counters(), MatchCounters { calls: 1, retransmitted_calls: 1, replies: 1, duplicate_replies: 1, orphan_replies: 1, unanswered_calls: 0, evicted: 0 });
    }

    #[test]
    fn cap_evicts_oldest_and_counts() {
        let mut m = Matcher::new(4);
        for x in 0..10 {
            m.call(key(x), pending(x as u64));
        }
        assert_eq!(m.len(), 4);
        assert_eq!(m.counters().evicted, 6);
        assert!(matches!(m.reply(&key(0), 0), ReplyOutcome::Orphan));
        assert!(matches!(m.reply(&key(9), 0), ReplyOutcome::Matched(_)));
        m.finish();
        assert_eq!(m.counters().unanswered_calls, 6 + 3);
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
        assert_eq!(m.len(), 0, "answered calls are not waiting");
        assert!(matches!(m.call(key(1), pending(7)), CallOutcome::New), "an answered xid may be used again");
        assert!(matches!(m.reply(&key(1), 63 * s), ReplyOutcome::Matched(p) if p.at.frame == 7));
        for x in 10..10 + ANSWERED_KEPT as u32 {
            m.call(key(x), pending(x as u64));
            m.reply(&key(x), 63 * s);
        }
        assert_eq!(m.len(), 0);
        assert!(matches!(m.reply(&key(1), 63 * s), ReplyOutcome::Orphan), "later answers took its place");
        let last = 9 + ANSWERED_KEPT as u32;
        assert!(matches!(m.reply(&key(last), 63 * s), ReplyOutcome::Duplicate(p) if p.at.frame == last as u64));
        let kept = (10..=last).filter(|&x| matches!(m.reply(&key(x), 63 * s), ReplyOutcome::Duplicate(_))).count();
        // A key whose slot a later key picks is hidden: about 1 in 4 with twice as many slots.
        assert!(kept > ANSWERED_KEPT * 2 / 3 && kept < ANSWERED_KEPT, "{kept} of the last {ANSWERED_KEPT} answers found");
        m.call(key(5), pending(5));
        assert!(m.is_pending(&key(5)), "an unanswered call stays");
    }

    #[test]
    fn a_finished_matcher_starts_afresh() {
        let mut m = Matcher::new(16);
        for x in 0..3 {
            m.call(key(x), pending(x as u64));
            m.reply(&key(x), 0);
        }
        m.finish();
        assert!(matches!(m.reply(&key(2), 0), ReplyOutcome::Orphan), "answers are forgotten");
        m.call(key(9), pending(9));
        assert!(matches!(m.reply(&key(9), 0), ReplyOutcome::Matched(_)));
        assert!(matches!(m.reply(&key(9), 0), ReplyOutcome::Duplicate(p) if p.at.frame == 9), "and new ones are found");
    }

    #[test]
    fn slots_spread_keys() {
        let mut used = vec![0u32; INDEX_SLOTS];
        for x in 0..INDEX_SLOTS as u32 {
            used[key(x).slot()] += 1;
        }
        let empty = used.iter().filter(|&&n| n == 0).count();
        // A uniform spread leaves about 1/e of the slots empty.
        assert!(empty < INDEX_SLOTS * 2 / 5, "{empty} of {INDEX_SLOTS} slots unused");
    }
}
