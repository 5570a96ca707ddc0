//! Where each NFSv4 lock owner holds lock stateids and locks, for RELEASE_LOCKOWNER.
//!
//! NFSv4.0 clients release a lock owner when they close the file it locked: looking
//! for its state through every lock stateid and every file of the server would cost as
//! much as the server holds, for each release. The index is kept only for a server
//! that has been sent one (NFSv4.1 clients free lock state by stateid instead): built
//! from the tables at the first release, then added to wherever a lock stateid or a
//! lock is taken. Entries are not removed when state goes some other way (checked on
//! use); when they outnumber the state twice over, the index is built afresh.

use super::{Nfs4LockInfo, Nfs4LockOwner, Nfs4LockState, Nfs4State};
use crate::net::FastMap;
use crate::state::ranges::{Held, LockTable};

#[derive(Debug, Clone, Default)]
pub(super) struct LockOwnerIndex {
    /// Per owner: the `other` of its lock stateids and the handles of the files it
    /// locked (either may name state that is gone).
    owners: FastMap<Nfs4LockOwner, (Vec<[u8; 12]>, Vec<Vec<u8>>)>,
    entries: usize,
}

impl LockOwnerIndex {
    fn build(locks: &LockTable<Nfs4LockOwner, Nfs4LockInfo>, stateids: &FastMap<[u8; 12], Nfs4LockState>) -> Self {
        let mut ix = LockOwnerIndex::default();
        for (other, ls) in stateids {
            ix.stateid(&ls.owner, *other);
        }
        for (fh, h) in locks.iter() {
            ix.file(&h.owner, fh);
        }
        ix
    }

    /// The entry of `owner`; a known owner's (the common case) without a copy of it.
    fn of(&mut self, owner: &Nfs4LockOwner) -> &mut (Vec<[u8; 12]>, Vec<Vec<u8>>) {
        if !self.owners.contains_key(owner) {
            self.owners.insert(owner.clone(), Default::default());
        }
        self.owners.get_mut(owner).expect("just inserted")
    }

    fn stateid(&mut self, owner: &Nfs4LockOwner, other: [u8; 12]) {
        let e = self.of(owner);
        if e.0.last() != Some(&other) {
            e.0.push(other);
            self.entries += 1;
        }
    }

    fn file(&mut self, owner: &Nfs4LockOwner, fh: &[u8]) {
        // Owners usually lock one file again and again: that costs no new entry.
        let e = self.of(owner);
        if e.1.last().map(Vec::as_slice) != Some(fh) {
            e.1.push(fh.to_vec());
            self.entries += 1;
        }
    }

    /// Everything noted for `owner`, forgotten here: its stateids, and its files
    /// sorted, each once.
    fn take(&mut self, owner: &Nfs4LockOwner) -> (Vec<[u8; 12]>, Vec<Vec<u8>>) {
        let (sids, mut files) = self.owners.remove(owner).unwrap_or_default();
        self.entries = self.entries.saturating_sub(sids.len() + files.len());
        files.sort_unstable();
        files.dedup();
        (sids, files)
    }
}

impl Nfs4State {
    /// Note that `owner` took lock stateid `other` (once the index is kept).
    pub(super) fn index_lock_stateid(&mut self, owner: &Nfs4LockOwner, other: [u8; 12]) {
        if let Some(ix) = &mut self.lock_owner_index {
            ix.stateid(owner, other);
            self.compact_lock_owner_index();
        }
    }

    /// Note that `owner` took a lock on `fh` (once the index is kept).
    pub(super) fn index_lock(&mut self, owner: &Nfs4LockOwner, fh: &[u8]) {
        if let Some(ix) = &mut self.lock_owner_index {
            ix.file(owner, fh);
            self.compact_lock_owner_index();
        }
    }

    fn compact_lock_owner_index(&mut self) {
        let live = self.locks.len() + self.lock_stateids.len();
        if self.lock_owner_index.as_ref().is_some_and(|ix| ix.entries > 2 * live + 1024) {
            self.lock_owner_index = Some(LockOwnerIndex::build(&self.locks, &self.lock_stateids));
        }
    }

    /// RELEASE_LOCKOWNER: every lock stateid of `owner` goes, and every lock it holds,
    /// which are returned by file handle (as [`LockTable::remove_owners`] gives them).
    pub(super) fn release_lock_owner(&mut self, owner: &Nfs4LockOwner) -> Vec<(Vec<u8>, Held<Nfs4LockOwner, Nfs4LockInfo>)> {
        let (locks, stateids) = (&self.locks, &self.lock_stateids);
        let ix = self.lock_owner_index.get_or_insert_with(|| LockOwnerIndex::build(locks, stateids));
        let (sids, files) = ix.take(owner);
        for other in sids {
            if self.lock_stateids.get(&other).is_some_and(|l| l.owner == *owner) {
                self.lock_stateids.remove(&other);
            }
        }
        self.locks.remove_owner_on(&files, owner)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Nfs4LockInfo, Nfs4LockOwner, Nfs4LockState, Nfs4State, Sid};
    use crate::state::ranges::Range;

    fn owner(c: u64, o: &[u8]) -> Nfs4LockOwner {
        Nfs4LockOwner { clientid: c, owner: o.into() }
    }

    fn meta(n: u8) -> Nfs4LockInfo {
        let at = crate::net::FrameRef { file: 0, frame: u64::from(n), ts: i64::from(n) };
        Nfs4LockInfo { stateid: [n; 12], call: at, granted: at, reclaim: false, locktype: 2, minor: 0, stale_since: None }
    }

    /// A lock and its stateid, noted as the reply path notes them.
    fn take(st: &mut Nfs4State, o: &Nfs4LockOwner, fh: &[u8], start: u64, n: u8) {
        let ls = Nfs4LockState { stateid: Sid { seqid: 1, other: [n; 12] }, owner: o.clone(), fh: fh.to_vec(), open: None, stale_since: None };
        st.lock_stateids.insert([n; 12], ls);
        st.index_lock_stateid(o, [n; 12]);
        assert!(st.locks.lock(fh, o.clone(), true, Range::from_offset_len(start, 10), meta(n)));
        st.index_lock(o, fh);
    }

    fn held(st: &Nfs4State) -> Vec<(Vec<u8>, u64, u64)> {
        let mut v: Vec<_> = st.locks.iter().map(|(fh, h)| (fh.to_vec(), h.owner.clientid, h.range.start)).collect();
        v.sort();
        v
    }

    #[test]
    fn release_takes_exactly_the_owners_state_before_and_after_the_index_exists() {
        let (a, b) = (owner(1, b"a"), owner(1, b"b"));
        let mut st = Nfs4State::default();
        // Taken before any release: the index is built from the tables.
        take(&mut st, &a, b"F2", 0, 1);
        take(&mut st, &a, b"F1", 0, 2);
        take(&mut st, &b, b"F1", 20, 3);
        let gone = st.release_lock_owner(&a);
        let files: Vec<&[u8]> = gone.iter().map(|(fh, _)| fh.as_slice()).collect();
        assert_eq!(files, [&b"F1"[..], b"F2"], "by file handle, as a scan of every file gives them");
        assert!(gone.iter().all(|(_, h)| h.owner == a));
        assert_eq!(held(&st), [(b"F1".to_vec(), 1, 20)]);
        assert_eq!(st.lock_stateids.keys().copied().collect::<Vec<_>>(), [[3; 12]]);
        // Taken once the index exists: noted as they come.
        take(&mut st, &a, b"F3", 0, 4);
        take(&mut st, &a, b"F3", 40, 5);
        take(&mut st, &b, b"F3", 20, 6);
        // State that went another way leaves a stale entry, which is skipped.
        st.lock_stateids.remove(&[4; 12]);
        st.locks.unlock(b"F3", &a, Range::from_offset_len(0, 10));
        let gone = st.release_lock_owner(&a);
        assert_eq!(gone.iter().map(|(_, h)| h.range.start).collect::<Vec<_>>(), [40]);
        assert_eq!(held(&st), [(b"F1".to_vec(), 1, 20), (b"F3".to_vec(), 1, 20)]);
        let mut left: Vec<[u8; 12]> = st.lock_stateids.keys().copied().collect();
        left.sort();
        assert_eq!(left, [[3; 12], [6; 12]]);
        assert!(st.release_lock_owner(&a).is_empty(), "a second release finds nothing");
        assert_eq!(st.release_lock_owner(&b).len(), 2);
        assert!(st.locks.is_empty() && st.lock_stateids.is_empty());
    }

    #[test]
    fn the_index_is_built_afresh_when_stale_entries_pile_up() {
        let a = owner(1, b"a");
        let mut st = Nfs4State::default();
        st.release_lock_owner(&a);
        for i in 0..5000u32 {
            let fh = i.to_be_bytes();
            take(&mut st, &a, &fh, 0, 7);
            st.lock_stateids.clear();
            st.locks.unlock(&fh, &a, Range::WHOLE);
        }
        let entries = st.lock_owner_index.as_ref().map_or(0, |ix| ix.entries);
        assert!(entries <= 1024 + 2, "{entries} entries for no state");
    }
}
