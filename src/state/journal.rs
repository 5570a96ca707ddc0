//! A bounded history of lock state changes, in capture order.
//!
//! Every change the tracker makes to a lock table is written here with its frame, so
//! that a later stage can follow the changes as they happen ([`Journal::since`]).
//! NFSv4 changes (locks, opens, delegations, and their move to an old epoch after a
//! server restart) are journaled too, and the NFSv4 locks a server IP held just before
//! some moment can be asked for (replaying the history up to it): a restart found
//! late makes the locks of the instance that died reclaimable. NLM needs no replay:
//! its locks leave the live tables only when the restart is found.

use super::nfs4::{Nfs4LockInfo, Nfs4LockOwner};
use super::nlm::{LockInfo, NlmOwner, Via};
use super::ranges::{Held, LockTable, Range};
use crate::net::{FastMap, FrameRef, Ts};
use crate::proto::nlm::NlmStat;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Why a host's locks went away without an unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// NLM FREE_ALL from the client.
    FreeAll,
    /// statd told the lock manager (NLM procedure 16) that the host rebooted.
    StatdCallback,
    /// The host's statd sent SM_NOTIFY to this server IP: it rebooted.
    SmNotify,
    /// The server restarted (or its IP failed over): the lock is reclaimable, not held.
    Restart,
}

impl DropReason {
    pub fn name(self) -> &'static str {
        match self {
            DropReason::FreeAll => "FREE_ALL",
            DropReason::StatdCallback => "NLM_SM_NOTIFY",
            DropReason::SmNotify => "SM_NOTIFY",
            DropReason::Restart => "restart",
        }
    }
}

/// What happened to an NLM byte-range lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockEventKind {
    Granted(Via),
    /// The server answered BLOCKED: a waiter now exists.
    Blocked,
    /// A LOCK/NM_LOCK answered with something other than GRANTED or BLOCKED.
    Refused(NlmStat),
    /// A waiter went away (CANCEL granted, or the client turned down the callback).
    Cancelled,
    /// Released by UNLOCK (the range is the part that was held).
    Unlocked,
    Dropped(DropReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEvent {
    pub kind: LockEventKind,
    pub owner: NlmOwner,
    pub fh: Vec<u8>,
    pub range: Range,
    pub exclusive: bool,
    pub reclaim: bool,
    pub vers: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareEventKind {
    Granted,
    Refused(NlmStat),
    Unshared,
    Dropped(DropReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareEvent {
    pub kind: ShareEventKind,
    pub client: IpAddr,
    pub caller_name: String,
    pub oh: Vec<u8>,
    pub fh: Vec<u8>,
    pub mode: u32,
    pub access: u32,
    pub reclaim: bool,
}

/// Why NFSv4 state went away without its own release operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nfs4Drop {
    /// DESTROY_CLIENTID, or a new instance of the same client owner was confirmed.
    ClientGone,
    /// RELEASE_LOCKOWNER.
    ReleaseLockowner,
    /// FREE_STATEID.
    FreeStateid,
    /// Old-epoch state dropped on request (its grace window ended).
    OldEpochDropped,
}

impl Nfs4Drop {
    pub fn name(self) -> &'static str {
        match self {
            Nfs4Drop::ClientGone => "client gone",
            Nfs4Drop::ReleaseLockowner => "RELEASE_LOCKOWNER",
            Nfs4Drop::FreeStateid => "FREE_STATEID",
            Nfs4Drop::OldEpochDropped => "old epoch dropped",
        }
    }
}

/// What happened to an NFSv4 lock, open or delegation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nfs4EventKind {
    /// LOCK / OPEN succeeded (an OPEN of an open already held upgrades it), or a
    /// delegation came with an OPEN.
    Granted,
    /// The operation failed with this nfsstat4.
    Refused(u32),
    /// LOCKU (the range is the part that was held), CLOSE, DELEGRETURN.
    Released,
    /// OPEN_DOWNGRADE.
    Downgraded,
    /// The server restarted: the state belongs to the old epoch from now on.
    Stale,
    /// Old-epoch state taken over by a reclaim of the same client owner.
    Reclaimed,
    Dropped(Nfs4Drop),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4LockEvent {
    pub kind: Nfs4EventKind,
    pub owner: Nfs4LockOwner,
    pub fh: Vec<u8>,
    pub range: Range,
    pub exclusive: bool,
    pub reclaim: bool,
    /// The lock stateid's `other` field, when known.
    pub stateid: Option<[u8; 12]>,
    pub minor: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4OpenEvent {
    pub kind: Nfs4EventKind,
    pub clientid: u64,
    pub open_owner: std::sync::Arc<[u8]>,
    pub fh: Option<Vec<u8>>,
    pub stateid: Option<[u8; 12]>,
    pub share_access: u32,
    pub share_deny: u32,
    /// open_claim_type4.
    pub claim: u32,
    pub reclaim: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfs4DelegEvent {
    pub kind: Nfs4EventKind,
    pub clientid: u64,
    pub fh: Option<Vec<u8>>,
    pub stateid: [u8; 12],
    pub write: bool,
    pub reclaim: bool,
}

/// The protocol-specific part of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    NlmLock(LockEvent),
    NlmShare(ShareEvent),
    Nfs4Lock(Nfs4LockEvent),
    Nfs4Open(Nfs4OpenEvent),
    Nfs4Deleg(Nfs4DelegEvent),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Numbers every event ever journaled, from 0, with no gaps.
    pub seq: u64,
    /// The frame that made the change (a reply, a `*_RES` call, …).
    pub at: FrameRef,
    /// The request it answers, when known.
    pub call: Option<FrameRef>,
    /// The server IP whose state changed.
    pub server: IpAddr,
    pub what: What,
}

/// How many events ahead of the one being forgotten the owners are prefetched.
const FORGET_AHEAD: usize = 8;

impl What {
    /// Bring the shared owners this event holds into the cache.
    fn prefetch_owners(&self) {
        match self {
            What::NlmLock(l) => {
                prefetch(l.owner.caller_name.as_ptr());
                prefetch(l.owner.oh.as_ptr());
            }
            What::Nfs4Lock(l) => prefetch(l.owner.owner.as_ptr()),
            What::Nfs4Open(o) => prefetch(o.open_owner.as_ptr()),
            What::NlmShare(_) | What::Nfs4Deleg(_) => {}
        }
    }
}

#[inline]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing and cannot fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// NFSv4 locks replayed from the journal up to a moment (old-epoch ones included,
/// with their `stale_since`).
#[derive(Debug, Clone)]
pub struct Nfs4Replayed {
    pub locks: LockTable<Nfs4LockOwner, Nfs4LockInfo>,
    /// False when older events were already forgotten (the table may miss locks).
    pub complete: bool,
}

#[derive(Debug, Clone)]
pub struct Journal {
    events: VecDeque<Event>,
    cap: usize,
    next: u64,
    /// Events forgotten because of the cap (the oldest first).
    pub dropped: u64,
    /// The NFSv4 locks that the forgotten events leave held, per server IP: replays
    /// start from here, so forgetting events costs memory for live locks only.
    base_nfs4: FastMap<IpAddr, LockTable<Nfs4LockOwner, Nfs4LockInfo>>,
    /// Timestamp of the latest event forgotten.
    folded_until: Option<Ts>,
}

fn replay_nfs4(locks: &mut LockTable<Nfs4LockOwner, Nfs4LockInfo>, e: &Event, l: &Nfs4LockEvent) {
    let info = |stale_since| Nfs4LockInfo {
        stateid: l.stateid.unwrap_or_default(),
        call: e.call.unwrap_or(e.at),
        granted: e.at,
        reclaim: l.reclaim,
        locktype: if l.exclusive { 2 } else { 1 },
        minor: l.minor,
        stale_since,
    };
    match l.kind {
        Nfs4EventKind::Granted => {
            locks.lock(&l.fh, l.owner.clone(), l.exclusive, l.range, info(None));
        }
        Nfs4EventKind::Stale => {
            // Keep the grant's frames: take them from the piece being marked.
            let old = locks.file(&l.fh).and_then(|f| f.of(&l.owner).iter().find(|h| h.range.overlaps(&l.range)).map(|h| h.meta));
            locks.unlock(&l.fh, &l.owner, l.range);
            let meta = match old {
                Some(m) => Nfs4LockInfo { stale_since: Some(e.at), ..m },
                None => info(Some(e.at)),
            };
            locks.lock(&l.fh, l.owner.clone(), l.exclusive, l.range, meta);
        }
        Nfs4EventKind::Released | Nfs4EventKind::Reclaimed | Nfs4EventKind::Dropped(_) => {
            locks.unlock(&l.fh, &l.owner, l.range);
        }
        Nfs4EventKind::Refused(_) | Nfs4EventKind::Downgraded => {}
    }
}

impl Journal {
    pub fn new(cap: usize) -> Self {
        Journal { events: VecDeque::new(), cap: cap.max(1), next: 0, dropped: 0, base_nfs4: FastMap::default(), folded_until: None }
    }

    pub fn push(&mut self, at: FrameRef, call: Option<FrameRef>, server: IpAddr, what: What) {
        if self.events.len() >= self.cap {
            // An event about to be forgotten, and the owners it shares, were last
            // touched long ago: ask for the event first, then (once it is in) for its
            // owners, so that letting them go a few events later finds them.
            if let Some(later) = self.events.get(2 * FORGET_AHEAD) {
                let p: *const Event = later;
                for off in (0..std::mem::size_of::<Event>()).step_by(64) {
                    prefetch(p.cast::<u8>().wrapping_add(off));
                }
            }
            if let Some(soon) = self.events.get(FORGET_AHEAD) {
                soon.what.prefetch_owners();
            }
            if let Some(old) = self.events.pop_front() {
                self.fold(&old);
            }
            self.dropped += 1;
        }
        self.events.push_back(Event { seq: self.next, at, call, server, what });
        self.next += 1;
    }

    /// Keep what a forgotten event did to the locks.
    fn fold(&mut self, e: &Event) {
        self.folded_until = Some(self.folded_until.map_or(e.at.ts, |f| f.max(e.at.ts)));
        if let What::Nfs4Lock(l) = &e.what {
            let base = self.base_nfs4.entry(e.server).or_insert_with(|| LockTable::new(usize::MAX));
            replay_nfs4(base, e, l);
            if base.is_empty() {
                self.base_nfs4.remove(&e.server);
            }
        }
    }

    /// Whether a replay up to `t` sees every lock change before it: nothing forgotten
    /// happened at or after `t`.
    pub fn complete_before(&self, t: Ts) -> bool {
        self.folded_until.is_none_or(|f| f < t)
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The sequence number the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    /// The sequence number of the oldest event kept.
    pub fn first_seq(&self) -> u64 {
        // The kept events are the latest, numbered without gaps: no need to read one.
        self.next - self.events.len() as u64
    }

    /// Event number `seq`, if still kept.
    pub fn get(&self, seq: u64) -> Option<&Event> {
        let i = seq.checked_sub(self.first_seq())?;
        self.events.get(usize::try_from(i).ok()?)
    }

    /// Events numbered `seq` and later that are still kept.
    pub fn since(&self, seq: u64) -> impl Iterator<Item = &Event> {
        let skip = seq.saturating_sub(self.first_seq()).min(self.events.len() as u64) as usize;
        self.events.iter().skip(skip)
    }

    /// The NFSv4 locks held on `server` just before `t` (every earlier event replayed).
    pub fn nfs4_held_before(&self, server: IpAddr, t: Ts) -> Nfs4Replayed {
        let complete = self.complete_before(t);
        let mut locks = match (complete, self.base_nfs4.get(&server)) {
            (true, Some(b)) => b.clone(),
            _ => LockTable::new(usize::MAX),
        };
        for e in self.events.iter().take_while(|e| e.at.ts < t) {
            let What::Nfs4Lock(l) = &e.what else { continue };
            if e.server == server {
                replay_nfs4(&mut locks, e, l);
            }
        }
        Nfs4Replayed { locks, complete }
    }
}

/// Lock events for pieces that went away.
pub(super) fn released(kind: LockEventKind, fh: &[u8], gone: Vec<Held<NlmOwner, LockInfo>>) -> impl Iterator<Item = What> + '_ {
    gone.into_iter().map(move |h| {
        What::NlmLock(LockEvent {
            kind,
            owner: h.owner,
            fh: fh.to_vec(),
            range: h.range,
            exclusive: h.exclusive,
            reclaim: h.meta.reclaim,
            vers: h.meta.vers,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(c: u8) -> NlmOwner {
        NlmOwner { client: IpAddr::from([10, 0, 0, c]), caller_name: format!("c{c}").into(), oh: vec![c].into(), svid: 1 }
    }

    fn ev(kind: LockEventKind, c: u8, range: Range) -> What {
        What::NlmLock(LockEvent { kind, owner: owner(c), fh: b"F".to_vec(), range, exclusive: true, reclaim: false, vers: 4 })
    }

    fn v4(kind: Nfs4EventKind, c: u8, range: Range) -> What {
        let owner = Nfs4LockOwner { clientid: u64::from(c), owner: vec![b'o', c].into() };
        What::Nfs4Lock(Nfs4LockEvent { kind, owner, fh: b"F".to_vec(), range, exclusive: true, reclaim: false, stateid: Some([c; 12]), minor: 1 })
    }

    fn at(ts: i64) -> FrameRef {
        FrameRef { file: 0, frame: ts as u64, ts }
    }

    fn clients(r: &Nfs4Replayed) -> Vec<u64> {
        let mut v: Vec<u64> = r.locks.iter().map(|(_, h)| h.owner.clientid).collect();
        v.sort();
        v
    }

    #[test]
    fn replay_before_a_moment() {
        let s = IpAddr::from([10, 0, 0, 100]);
        let other = IpAddr::from([10, 0, 0, 200]);
        let mut j = Journal::new(100);
        j.push(at(1), Some(at(0)), s, v4(Nfs4EventKind::Granted, 1, Range::WHOLE));
        j.push(at(2), None, s, v4(Nfs4EventKind::Granted, 2, Range::from_offset_len(0, 10)));
        j.push(at(3), None, other, v4(Nfs4EventKind::Granted, 3, Range::WHOLE));
        j.push(at(4), None, s, v4(Nfs4EventKind::Released, 1, Range::from_offset_len(5, 5)));
        j.push(at(5), None, s, v4(Nfs4EventKind::Dropped(Nfs4Drop::ClientGone), 2, Range::from_offset_len(0, 10)));
        j.push(at(6), None, s, ev(LockEventKind::Granted(Via::Reply), 4, Range::WHOLE));

        let r = j.nfs4_held_before(s, 4);
        assert!(r.complete);
        assert_eq!(clients(&r), [1, 2], "before t=4 both locks on s are held");
        let r = j.nfs4_held_before(s, 5);
        let ranges: Vec<Range> = r.locks.iter().filter(|(_, h)| h.owner.clientid == 1).map(|(_, h)| h.range).collect();
        assert_eq!(ranges, vec![Range::from_offset_len(0, 5), Range { start: 10, end: None }]);
        let first = r.locks.iter().next().map(|(_, h)| (h.meta.call, h.meta.stateid, h.meta.locktype));
        assert_eq!(first, Some((at(0), [1; 12], 2)), "the granting call and the stateid are kept");
        assert_eq!(clients(&j.nfs4_held_before(s, 100)), [1, 1], "NLM events are not NFSv4 locks");
        assert_eq!(clients(&j.nfs4_held_before(other, 100)), [3]);
    }

    #[test]
    fn stale_locks_keep_their_grant_and_reclaims_take_them_over() {
        let s = IpAddr::from([10, 0, 0, 100]);
        let mut j = Journal::new(100);
        j.push(at(1), Some(at(0)), s, v4(Nfs4EventKind::Granted, 1, Range::WHOLE));
        j.push(at(2), Some(at(0)), s, v4(Nfs4EventKind::Granted, 2, Range::WHOLE));
        j.push(at(5), None, s, v4(Nfs4EventKind::Stale, 1, Range::WHOLE));
        j.push(at(5), None, s, v4(Nfs4EventKind::Stale, 2, Range::WHOLE));
        j.push(at(7), None, s, v4(Nfs4EventKind::Reclaimed, 2, Range::WHOLE));
        let r = j.nfs4_held_before(s, 6);
        let held: Vec<(u64, FrameRef, Option<FrameRef>)> = r.locks.iter().map(|(_, h)| (h.owner.clientid, h.meta.granted, h.meta.stale_since)).collect();
        assert_eq!(held, [(1, at(1), Some(at(5))), (2, at(2), Some(at(5)))]);
        assert_eq!(clients(&j.nfs4_held_before(s, 8)), [1]);
    }

    #[test]
    fn cap_forgets_oldest_and_since_follows_sequence_numbers() {
        let s = IpAddr::from([10, 0, 0, 100]);
        let mut j = Journal::new(2);
        for t in 0..5 {
            j.push(at(t), None, s, ev(LockEventKind::Blocked, 1, Range::WHOLE));
        }
        assert_eq!(j.len(), 2);
        assert_eq!(j.dropped, 3);
        assert_eq!(j.next_seq(), 5);
        assert_eq!(j.since(0).map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(j.since(4).map(|e| e.seq).collect::<Vec<_>>(), vec![4]);
        assert_eq!(j.since(9).count(), 0);
        assert!(!j.complete_before(2), "forgotten events at t=2 are after t=1");
        assert!(!j.nfs4_held_before(s, 2).complete);
        assert!(j.complete_before(10));
        assert!(j.nfs4_held_before(s, 10).complete);
    }

    #[test]
    fn a_full_journal_forgets_one_event_per_push_of_every_kind() {
        let s = IpAddr::from([10, 0, 0, 100]);
        let mut j = Journal::new(3 * FORGET_AHEAD);
        let open = |c: u8| {
            What::Nfs4Open(Nfs4OpenEvent { kind: Nfs4EventKind::Granted, clientid: 1, open_owner: vec![c].into(), fh: None, stateid: None, share_access: 1, share_deny: 0, claim: 0, reclaim: false })
        };
        for t in 0..200i64 {
            let c = (t % 7) as u8;
            let what = match t % 3 {
                0 => ev(LockEventKind::Blocked, c, Range::WHOLE),
                1 => v4(Nfs4EventKind::Refused(10013), c, Range::WHOLE),
                _ => open(c),
            };
            j.push(at(t), None, s, what);
        }
        assert_eq!((j.len(), j.dropped, j.first_seq()), (3 * FORGET_AHEAD, 200 - 3 * FORGET_AHEAD as u64, 200 - 3 * FORGET_AHEAD as u64));
        let kinds: Vec<i64> = j.iter().map(|e| e.at.ts % 3).collect();
        let want: Vec<i64> = (200 - 3 * FORGET_AHEAD as i64..200).map(|t| t % 3).collect();
        assert_eq!(kinds, want, "the newest events are kept, in order");
    }

    #[test]
    fn forgotten_events_still_count_in_replays() {
        let s = IpAddr::from([10, 0, 0, 100]);
        let mut j = Journal::new(2);
        j.push(at(1), None, s, v4(Nfs4EventKind::Granted, 1, Range::WHOLE));
        j.push(at(2), None, s, v4(Nfs4EventKind::Granted, 2, Range::from_offset_len(0, 10)));
        j.push(at(3), None, s, v4(Nfs4EventKind::Released, 2, Range::from_offset_len(0, 10)));
        j.push(at(4), None, s, v4(Nfs4EventKind::Granted, 3, Range::from_offset_len(0, 10)));
        // t=1 and t=2 are forgotten: client 1 still holds, client 2's lock is gone again
        assert_eq!(j.len(), 2);
        let r = j.nfs4_held_before(s, 5);
        assert!(r.complete);
        assert_eq!(clients(&r), [1, 3]);
        assert_eq!(r.locks.iter().find(|(_, h)| h.owner.clientid == 1).map(|(_, h)| h.meta.granted), Some(at(1)));
        assert!(!j.nfs4_held_before(s, 2).complete);
        assert!(j.nfs4_held_before(s, 2).locks.is_empty(), "an incomplete replay does not start from the forgotten locks");
        let mut j = Journal::new(1);
        j.push(at(1), None, s, v4(Nfs4EventKind::Granted, 1, Range::WHOLE));
        j.push(at(2), None, s, v4(Nfs4EventKind::Released, 1, Range::WHOLE));
        j.push(at(3), None, s, ev(LockEventKind::Blocked, 2, Range::WHOLE));
        assert!(j.base_nfs4.is_empty(), "tables of released locks are not kept");
    }
}
