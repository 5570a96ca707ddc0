//! Byte-range locks with POSIX semantics per owner, for any protocol.
//!
//! Each owner's locks on one file never overlap: a new lock by the same owner replaces
//! the part of that owner's locks it covers (an upgrade or downgrade), and locks of one
//! owner and one type that overlap or touch merge into one. An unlock removes the range
//! from the owner's locks and splits those that straddle it. Locks of different owners
//! are kept as they are; [`FileLocks::conflicts`] says which of them a proposed lock
//! would collide with.
//!
//! The owner type is generic (NLM uses host + owner handle + svid; NFSv4 uses its lock
//! owner); `M` is whatever the caller wants to keep with each lock (when and how it
//! was granted). When two ranges merge, the merged lock keeps the metadata of the newer
//! request.

use crate::net::{sorted, FastMap};
use std::collections::BTreeMap;
use std::fmt;

/// `[start, end)`; `end == None` means "to the end of the file" (and beyond 2^64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Range {
    pub start: u64,
    pub end: Option<u64>,
}

/// One past the last byte as a 129-bit-safe number: "to EOF" is 2^64.
fn hi(end: Option<u64>) -> u128 {
    end.map_or(1u128 << 64, u128::from)
}

fn end_of(hi: u128) -> Option<u64> {
    u64::try_from(hi).ok()
}

impl Range {
    /// From the whole file.
    pub const WHOLE: Range = Range { start: 0, end: None };

    /// `[start, end)`; `None` when the range is empty.
    pub fn new(start: u64, end: Option<u64>) -> Option<Range> {
        (u128::from(start) < hi(end)).then_some(Range { start, end })
    }

    /// The NLM/NFSv4/fcntl convention: length 0 means to the end of the file; a range
    /// that would pass 2^64 reaches the end of the file too.
    pub fn from_offset_len(offset: u64, len: u64) -> Range {
        if len == 0 {
            return Range { start: offset, end: None };
        }
        Range { start: offset, end: end_of(u128::from(offset) + u128::from(len)) }
    }

    /// The length; `None` for "to end of file".
    pub fn length(&self) -> Option<u64> {
        self.end.map(|e| e.saturating_sub(self.start))
    }

    pub fn is_eof(&self) -> bool {
        self.end.is_none()
    }

    fn hi(&self) -> u128 {
        hi(self.end)
    }

    /// Some byte lies in both.
    pub fn overlaps(&self, o: &Range) -> bool {
        u128::from(self.start) < o.hi() && u128::from(o.start) < self.hi()
    }

    /// Overlapping or adjacent (no byte between them).
    pub fn touches(&self, o: &Range) -> bool {
        u128::from(self.start) <= o.hi() && u128::from(o.start) <= self.hi()
    }

    /// Every byte of `o` is in `self`.
    pub fn contains(&self, o: &Range) -> bool {
        self.start <= o.start && o.hi() <= self.hi()
    }

    pub fn intersect(&self, o: &Range) -> Option<Range> {
        let start = self.start.max(o.start);
        let h = self.hi().min(o.hi());
        Range::new(start, end_of(h))
    }

    /// The smallest range covering both (meaningful when they touch).
    fn union(&self, o: &Range) -> Range {
        Range { start: self.start.min(o.start), end: end_of(self.hi().max(o.hi())) }
    }

    /// What is left of `self` left and right of `cut`.
    fn minus(&self, cut: &Range) -> (Option<Range>, Option<Range>) {
        let left = if self.start < cut.start {
            Range::new(self.start, Some(self.end.map_or(cut.start, |e| e.min(cut.start))))
        } else {
            None
        };
        let right = match cut.end {
            Some(ce) if u128::from(ce) < self.hi() => Range::new(ce.max(self.start), self.end),
            _ => None,
        };
        (left, right)
    }
}

/// `[0, 10)`, `[100, EOF)`.
impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.end {
            Some(e) => write!(f, "[{}, {})", self.start, e),
            None => write!(f, "[{}, EOF)", self.start),
        }
    }
}

/// One lock: who, what kind, which bytes, and the caller's notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held<O, M> {
    pub owner: O,
    pub exclusive: bool,
    pub range: Range,
    pub meta: M,
}

/// The locks on one file, grouped by owner (each owner's locks sorted by offset), so
/// that locking and unlocking cost only as much as the owner's own locks.
#[derive(Debug, Clone)]
pub struct FileLocks<O, M> {
    owners: BTreeMap<O, Vec<Held<O, M>>>,
    len: usize,
}

impl<O, M> Default for FileLocks<O, M> {
    fn default() -> Self {
        FileLocks { owners: BTreeMap::new(), len: 0 }
    }
}

impl<O: Clone + Ord, M: Clone> FileLocks<O, M> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The locks, by start offset (then owner).
    pub fn iter(&self) -> impl Iterator<Item = &Held<O, M>> {
        let mut v: Vec<&Held<O, M>> = self.owners.values().flatten().collect();
        v.sort_by(|a, b| a.range.cmp(&b.range).then_with(|| a.owner.cmp(&b.owner)));
        v.into_iter()
    }

    /// One owner's locks, by start offset.
    pub fn of(&self, owner: &O) -> &[Held<O, M>] {
        self.owners.get(owner).map_or(&[], Vec::as_slice)
    }

    /// Take the lock; returns how many entries the file gained (negative when merges
    /// removed more than were added).
    pub fn lock(&mut self, owner: O, exclusive: bool, range: Range, meta: M) -> isize {
        // An owner new to the file (the common case) gets its one lock; a known one has
        // its list rebuilt where it lies.
        let mine = match self.owners.get_mut(&owner) {
            Some(v) => v,
            None => {
                let held = Held { owner: owner.clone(), exclusive, range, meta };
                self.owners.insert(owner, vec![held]);
                self.len += 1;
                return 1;
            }
        };
        let before = mine.len() as isize;
        let mut merged = range;
        let mut keep = Vec::with_capacity(mine.len() + 2);
        for h in mine.drain(..) {
            if !h.range.touches(&range) {
                keep.push(h);
            } else if h.exclusive == exclusive {
                merged = merged.union(&h.range);
            } else if !h.range.overlaps(&range) {
                keep.push(h);
            } else {
                let (l, r) = h.range.minus(&range);
                if let Some(l) = l {
                    keep.push(Held { range: l, ..h.clone() });
                }
                if let Some(r) = r {
                    keep.push(Held { range: r, ..h });
                }
            }
        }
        keep.push(Held { owner, exclusive, range: merged, meta });
        keep.sort_by_key(|h| h.range);
        let d = keep.len() as isize - before;
        self.len = (self.len as isize + d).max(0) as usize;
        *mine = keep;
        d
    }

    /// Release `range` for `owner`; returns the pieces that were held and are now gone.
    pub fn unlock(&mut self, owner: &O, range: Range) -> Vec<Held<O, M>> {
        let Some(mine) = self.owners.get_mut(owner) else { return Vec::new() };
        let before = mine.len();
        // Usually the owner's one lock goes whole: it moves out, nothing is rebuilt.
        if before == 1 && range.contains(&mine[0].range) {
            self.len -= 1;
            return self.owners.remove(owner).unwrap_or_default();
        }
        let mut gone = Vec::new();
        let mut keep = Vec::new();
        for h in mine.drain(..) {
            if !h.range.overlaps(&range) {
                keep.push(h);
                continue;
            }
            let (l, r) = h.range.minus(&range);
            if let Some(l) = l {
                keep.push(Held { range: l, ..h.clone() });
            }
            if let Some(r) = r {
                keep.push(Held { range: r, ..h.clone() });
            }
            if let Some(i) = h.range.intersect(&range) {
                gone.push(Held { range: i, ..h });
            }
        }
        keep.sort_by_key(|h| h.range);
        self.len = (self.len + keep.len()).saturating_sub(before);
        if keep.is_empty() {
            self.owners.remove(owner);
        } else {
            *mine = keep;
        }
        gone
    }

    /// Locks of other owners that a lock of this type on `range` would collide with.
    pub fn conflicts(&self, owner: &O, exclusive: bool, range: Range) -> Vec<&Held<O, M>> {
        self.owners
            .iter()
            .filter(|(o, _)| *o != owner)
            .flat_map(|(_, v)| v.iter())
            .filter(|h| (exclusive || h.exclusive) && h.range.overlaps(&range))
            .collect()
    }

    /// Remove every lock whose owner matches; returns them.
    pub fn remove_owners(&mut self, pred: &dyn Fn(&O) -> bool) -> Vec<Held<O, M>> {
        self.remove_if(&|h: &Held<O, M>| pred(&h.owner))
    }

    /// Remove every lock the predicate picks; returns them.
    pub fn remove_if(&mut self, pred: &dyn Fn(&Held<O, M>) -> bool) -> Vec<Held<O, M>> {
        let mut gone = Vec::new();
        self.owners.retain(|_, v| {
            // Most owners lose nothing: only those that do are rebuilt.
            if v.iter().any(pred) {
                let (out, keep): (Vec<_>, Vec<_>) = v.drain(..).partition(|h| pred(h));
                gone.extend(out);
                *v = keep;
            }
            !v.is_empty()
        });
        self.len = self.len.saturating_sub(gone.len());
        gone
    }
}

/// Locks per file (keyed by file handle bytes, hashed: every lock and unlock looks its
/// file up), with a cap on the total. Whatever walks the table does so by file handle.
#[derive(Debug, Clone)]
pub struct LockTable<O, M> {
    files: FastMap<Vec<u8>, FileLocks<O, M>>,
    count: usize,
    cap: usize,
    /// Locks not taken because the table was full.
    pub refused: u64,
}

impl<O: Clone + Ord, M: Clone> LockTable<O, M> {
    /// `cap`: most locks kept (a single request may pass it by two, through a split).
    pub fn new(cap: usize) -> Self {
        LockTable { files: FastMap::default(), count: 0, cap, refused: 0 }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn file(&self, fh: &[u8]) -> Option<&FileLocks<O, M>> {
        self.files.get(fh)
    }

    /// Every lock with its file handle, by file handle then offset.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Held<O, M>)> {
        sorted(&self.files).into_iter().flat_map(|(fh, f)| f.iter().map(move |h| (fh.as_slice(), h)))
    }

    /// Whether any lock (in no particular order) satisfies `pred`.
    pub fn any(&self, pred: impl Fn(&Held<O, M>) -> bool) -> bool {
        self.files.values().any(|f| f.owners.values().flatten().any(&pred))
    }

    /// Take a lock; `false` when the table is full and the lock was not recorded.
    pub fn lock(&mut self, fh: &[u8], owner: O, exclusive: bool, range: Range, meta: M) -> bool {
        if self.count >= self.cap {
            self.refused += 1;
            return false;
        }
        // Most locks land on a file that has some already: no key copy for those.
        let d = match self.files.get_mut(fh) {
            Some(f) => f.lock(owner, exclusive, range, meta),
            None => self.files.entry(fh.to_vec()).or_default().lock(owner, exclusive, range, meta),
        };
        self.count = (self.count as isize + d).max(0) as usize;
        true
    }

    /// Release `range` of `fh` for `owner`; returns what was released.
    pub fn unlock(&mut self, fh: &[u8], owner: &O, range: Range) -> Vec<Held<O, M>> {
        let Some(f) = self.files.get_mut(fh) else { return Vec::new() };
        let before = f.len();
        let gone = f.unlock(owner, range);
        let after = f.len();
        self.count = (self.count + after).saturating_sub(before);
        if f.is_empty() {
            self.files.remove(fh);
        }
        gone
    }

    /// Locks of other owners on `fh` that a lock of this type on `range` would collide with.
    pub fn conflicts(&self, fh: &[u8], owner: &O, exclusive: bool, range: Range) -> Vec<&Held<O, M>> {
        match self.files.get(fh) {
            Some(f) => f.conflicts(owner, exclusive, range),
            None => Vec::new(),
        }
    }

    /// Remove every lock whose owner matches, on every file; returns them.
    pub fn remove_owners(&mut self, pred: &dyn Fn(&O) -> bool) -> Vec<(Vec<u8>, Held<O, M>)> {
        self.remove_if(&|h: &Held<O, M>| pred(&h.owner))
    }

    /// Remove the locks of `owner` on the files `fhs` (sorted, each once): what
    /// [`LockTable::remove_owners`] does for that owner when it holds locks nowhere
    /// else, without a pass over every file.
    pub fn remove_owner_on(&mut self, fhs: &[Vec<u8>], owner: &O) -> Vec<(Vec<u8>, Held<O, M>)> {
        let mut out = Vec::new();
        for fh in fhs {
            let Some(f) = self.files.get_mut(fh.as_slice()) else { continue };
            let gone = f.remove_if(&|h: &Held<O, M>| h.owner == *owner);
            if f.is_empty() {
                self.files.remove(fh.as_slice());
            }
            out.extend(gone.into_iter().map(|h| (fh.clone(), h)));
        }
        self.count = self.count.saturating_sub(out.len());
        out
    }

    /// Remove every lock the predicate picks, on every file; returns them by file
    /// handle (each file's in the order [`FileLocks::remove_if`] gives).
    pub fn remove_if(&mut self, pred: &dyn Fn(&Held<O, M>) -> bool) -> Vec<(Vec<u8>, Held<O, M>)> {
        let mut out: Vec<(Vec<u8>, Vec<Held<O, M>>)> = Vec::new();
        self.files.retain(|fh, f| {
            let gone = f.remove_if(pred);
            if !gone.is_empty() {
                out.push((fh.clone(), gone));
            }
            !f.is_empty()
        });
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let out: Vec<(Vec<u8>, Held<O, M>)> = out.into_iter().flat_map(|(fh, gone)| gone.into_iter().map(move |h| (fh.clone(), h))).collect();
        self.count = self.count.saturating_sub(out.len());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64) -> Range {
        Range::new(start, Some(end)).expect("non-empty")
    }

    fn eof(start: u64) -> Range {
        Range { start, end: None }
    }

    type T = FileLocks<&'static str, u32>;

    /// (owner, exclusive, range) of every lock, in order.
    fn dump(f: &T) -> Vec<(&'static str, bool, Range)> {
        f.iter().map(|h| (h.owner, h.exclusive, h.range)).collect()
    }

    #[test]
    fn offset_len_conventions() {
        assert_eq!(Range::from_offset_len(10, 0), eof(10));
        assert_eq!(Range::from_offset_len(10, 5), r(10, 15));
        // Passing 2^64 means to the end of the file.
        assert_eq!(Range::from_offset_len(u64::MAX - 1, 5), eof(u64::MAX - 1));
        assert_eq!(Range::from_offset_len(u64::MAX - 1, 1), r(u64::MAX - 1, u64::MAX));
        assert_eq!(Range::new(5, Some(5)), None);
        assert_eq!(r(3, 8).length(), Some(5));
        assert_eq!(eof(3).length(), None);
        assert_eq!(r(0, 10).to_string(), "[0, 10)");
        assert_eq!(eof(100).to_string(), "[100, EOF)");
    }

    #[test]
    fn overlap_touch_contain() {
        assert!(r(0, 10).overlaps(&r(9, 20)));
        assert!(!r(0, 10).overlaps(&r(10, 20)));
        assert!(r(0, 10).touches(&r(10, 20)));
        assert!(!r(0, 10).touches(&r(11, 20)));
        assert!(eof(5).overlaps(&r(u64::MAX - 1, u64::MAX)));
        assert!(eof(0).contains(&eof(7)));
        assert!(!r(0, 100).contains(&eof(7)));
        assert_eq!(r(0, 10).intersect(&eof(5)), Some(r(5, 10)));
        assert_eq!(r(0, 10).intersect(&r(10, 12)), None);
        assert_eq!(eof(3).minus(&r(5, 9)), (Some(r(3, 5)), Some(eof(9))));
        assert_eq!(r(3, 9).minus(&eof(0)), (None, None));
        assert_eq!(r(3, 9).minus(&r(0, 4)), (None, Some(r(4, 9))));
    }

    #[test]
    fn same_type_merges_overlapping_and_adjacent() {
        let mut f = T::new();
        f.lock("a", true, r(0, 10), 1);
        f.lock("a", true, r(20, 30), 2);
        assert_eq!(f.len(), 2);
        // Adjacent on the left, overlapping on the right: all three become one.
        assert_eq!(f.lock("a", true, r(10, 25), 3), -1);
        assert_eq!(dump(&f), vec![("a", true, r(0, 30))]);
        assert_eq!(f.iter().next().map(|h| h.meta), Some(3), "the merged lock keeps the newer request's notes");
    }

    #[test]
    fn upgrade_in_the_middle_splits_the_shared_lock() {
        let mut f = T::new();
        f.lock("a", false, r(0, 100), 1);
        f.lock("a", true, r(40, 60), 2);
        assert_eq!(dump(&f), vec![("a", false, r(0, 40)), ("a", true, r(40, 60)), ("a", false, r(60, 100))]);
        // Downgrade back: the three pieces merge again.
        f.lock("a", false, r(40, 60), 3);
        assert_eq!(dump(&f), vec![("a", false, r(0, 100))]);
    }

    #[test]
    fn adjacent_locks_of_different_type_stay_apart() {
        let mut f = T::new();
        f.lock("a", false, r(0, 10), 1);
        f.lock("a", true, r(10, 20), 2);
        assert_eq!(dump(&f), vec![("a", false, r(0, 10)), ("a", true, r(10, 20))]);
    }

    #[test]
    fn whole_file_lock_replaces_every_piece_of_the_owner() {
        let mut f = T::new();
        f.lock("a", false, r(0, 10), 1);
        f.lock("a", true, r(20, 30), 2);
        f.lock("b", false, r(0, 5), 3);
        f.lock("a", true, Range::WHOLE, 4);
        assert_eq!(dump(&f), vec![("a", true, eof(0)), ("b", false, r(0, 5))]);
    }

    #[test]
    fn unlock_splits_and_reports_what_was_released() {
        let mut f = T::new();
        f.lock("a", true, eof(0), 1);
        f.lock("b", true, r(200, 300), 2);
        let gone = f.unlock(&"a", r(100, 150));
        assert_eq!(gone.iter().map(|h| h.range).collect::<Vec<_>>(), vec![r(100, 150)]);
        assert_eq!(dump(&f), vec![("a", true, r(0, 100)), ("a", true, eof(150)), ("b", true, r(200, 300))]);
        // Unlocking someone else's range changes nothing.
        assert!(f.unlock(&"c", Range::WHOLE).is_empty());
        // Unlock to EOF across two pieces.
        let gone = f.unlock(&"a", eof(50));
        assert_eq!(gone.iter().map(|h| h.range).collect::<Vec<_>>(), vec![r(50, 100), eof(150)]);
        assert_eq!(dump(&f), vec![("a", true, r(0, 50)), ("b", true, r(200, 300))]);
        // Unlocking a hole releases nothing.
        assert!(f.unlock(&"a", r(60, 70)).is_empty());
    }

    #[test]
    fn conflicts_only_with_other_owners_and_not_between_shared_locks() {
        let mut f = T::new();
        f.lock("a", false, r(0, 10), 1);
        f.lock("b", true, r(20, 30), 2);
        f.lock("c", false, eof(100), 3);
        let owners = |o: &'static str, x: bool, rg: Range| f.conflicts(&o, x, rg).iter().map(|h| h.owner).collect::<Vec<_>>();
        assert_eq!(owners("d", false, r(5, 25)), vec!["b"], "shared vs shared never conflicts");
        assert_eq!(owners("d", true, r(5, 25)), vec!["a", "b"]);
        assert_eq!(owners("a", true, r(0, 10)), Vec::<&str>::new(), "own locks never conflict");
        assert_eq!(owners("d", true, r(10, 20)), Vec::<&str>::new(), "touching is not overlapping");
        assert_eq!(owners("d", true, r(u64::MAX - 1, u64::MAX)), vec!["c"]);
        assert_eq!(owners("d", true, eof(0)), vec!["a", "b", "c"]);
    }

    #[test]
    fn table_counts_caps_and_removes_owners() {
        let mut t: LockTable<&str, ()> = LockTable::new(3);
        assert!(t.lock(b"f1", "a", true, r(0, 10), ()));
        assert!(t.lock(b"f1", "a", false, r(20, 30), ()));
        assert!(t.lock(b"f2", "b", true, eof(0), ()));
        assert_eq!(t.len(), 3);
        assert!(!t.lock(b"f2", "c", true, r(0, 1), ()));
        assert_eq!(t.refused, 1);
        assert_eq!(t.conflicts(b"f2", &"c", false, r(5, 6)).len(), 1);
        assert!(t.conflicts(b"f3", &"c", true, eof(0)).is_empty());
        let gone = t.unlock(b"f1", &"a", r(5, 25));
        assert_eq!(gone.len(), 2);
        assert_eq!(t.len(), 3);
        let files: Vec<Vec<u8>> = t.iter().map(|(fh, _)| fh.to_vec()).collect();
        assert_eq!(files, vec![b"f1".to_vec(), b"f1".to_vec(), b"f2".to_vec()]);
        let gone = t.remove_owners(&|o| *o == "a");
        assert_eq!(gone.len(), 2);
        assert_eq!(t.len(), 1);
        assert!(t.file(b"f1").is_none(), "an emptied file is forgotten");
        assert_eq!(t.unlock(b"f2", &"b", Range::WHOLE).len(), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn table_walks_and_removals_go_by_file_handle() {
        let mut t: LockTable<u8, ()> = LockTable::new(usize::MAX);
        for i in (0..=255u8).rev() {
            let fh = [i.wrapping_mul(37), i];
            assert!(t.lock(&fh, i % 3, true, r(0, 10), ()));
            assert!(t.lock(&fh, 7, true, r(20, 30), ()));
        }
        let walk: Vec<(Vec<u8>, u8)> = t.iter().map(|(fh, h)| (fh.to_vec(), h.owner)).collect();
        assert_eq!(walk.len(), 512);
        assert!(walk.windows(2).all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < 3 && w[1].1 == 7)));
        assert!(t.any(|h| h.owner == 2) && !t.any(|h| h.owner == 9));
        let gone = t.remove_owners(&|o| *o == 1);
        assert_eq!(gone.len(), 85);
        assert!(gone.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(t.len(), 512 - 85);
    }
}
