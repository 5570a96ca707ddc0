//! A map with a cap that forgets its oldest entries first.
//!
//! Each entry carries its insertion number. The age order is only needed when the map
//! is full, and then the oldest sixteenth goes at once: one pass over the map per
//! `cap / 16` insertions, instead of an order queue kept up on every insertion.

use crate::net::FastMap;
use std::hash::Hash;

#[derive(Debug, Clone)]
pub struct Bounded<K, V> {
    map: FastMap<K, (u64, V)>,
    seq: u64,
    cap: usize,
    /// Entries pushed out by the cap.
    pub evicted: u64,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    pub fn new(cap: usize) -> Self {
        Bounded { map: FastMap::default(), seq: 0, cap: cap.max(1), evicted: 0 }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn contains(&self, k: &K) -> bool {
        self.map.contains_key(k)
    }

    /// Insert or replace (a replaced entry counts as new for the age order).
    pub fn insert(&mut self, k: K, v: V) {
        self.make_room(&k);
        self.seq += 1;
        self.map.insert(k, (self.seq, v));
    }

    /// The value under `k`, or `v` inserted there; `true` if it was already there.
    pub fn get_or_insert(&mut self, k: K, v: V) -> (&mut V, bool) {
        self.make_room(&k);
        self.seq += 1;
        let seq = self.seq;
        match self.map.entry(k) {
            std::collections::hash_map::Entry::Occupied(e) => (&mut e.into_mut().1, true),
            std::collections::hash_map::Entry::Vacant(e) => (&mut e.insert((seq, v)).1, false),
        }
    }

    /// Room for `k`: when it is new and the map full, the oldest sixteenth of the cap
    /// (at least one entry) goes.
    fn make_room(&mut self, k: &K) {
        if self.map.len() < self.cap || self.map.contains_key(k) {
            return;
        }
        // The map holds at least `cap` (≥ 1) entries here.
        let n = (self.cap / 16).max(1).min(self.map.len());
        let mut ages: Vec<u64> = self.map.values().map(|(s, _)| *s).collect();
        let (_, &mut newest_gone, _) = ages.select_nth_unstable(n - 1);
        let before = self.map.len();
        self.map.retain(|_, (s, _)| *s > newest_gone);
        self.evicted += (before - self.map.len()) as u64;
    }

    /// Forget every entry (the count of evicted ones stays).
    pub fn clear(&mut self) {
        self.map.clear();
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        self.map.remove(k).map(|(_, v)| v)
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(_, v)| v)
    }

    /// Entries from oldest to newest.
    pub fn values_in_order(&self) -> impl Iterator<Item = &V> {
        let mut v: Vec<&(u64, V)> = self.map.values().collect();
        v.sort_unstable_by_key(|(s, _)| *s);
        v.into_iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_and_counts() {
        let mut b = Bounded::new(2);
        b.insert(1, "a");
        b.insert(2, "b");
        b.insert(1, "a2");
        b.insert(3, "c");
        assert_eq!(b.evicted, 1);
        assert_eq!(b.get(&2), None, "2 was the oldest once 1 was refreshed");
        assert_eq!(b.values_in_order().copied().collect::<Vec<_>>(), vec!["a2", "c"]);
        assert_eq!(b.remove(&1), Some("a2"));
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn removed_entries_leave_room_and_are_not_counted() {
        let mut b = Bounded::new(4);
        for i in 0..1000 {
            b.insert(i % 3, i);
            b.remove(&((i + 1) % 3));
        }
        assert!(b.len() <= 3);
        assert_eq!(b.evicted, 0);
    }

    #[test]
    fn a_full_map_drops_its_oldest_sixteenth() {
        let mut b = Bounded::new(64);
        for i in 0..64 {
            b.insert(i, i);
        }
        b.insert(7, 7); // refreshed: now the newest
        b.insert(100, 100);
        assert_eq!(b.evicted, 4);
        assert_eq!(b.len(), 61);
        for gone in [0, 1, 2, 3] {
            assert_eq!(b.get(&gone), None);
        }
        assert_eq!(b.get(&4), Some(&4));
        assert_eq!(b.get(&7), Some(&7));
        let order: Vec<i32> = b.values_in_order().copied().collect();
        assert_eq!(&order[..3], &[4, 5, 6]);
        assert_eq!(&order[order.len() - 2..], &[7, 100]);
    }

    #[test]
    fn get_or_insert_keeps_the_first_value() {
        let mut b = Bounded::new(8);
        assert_eq!(b.get_or_insert(1, "a"), (&mut "a", false));
        assert_eq!(b.get_or_insert(1, "b"), (&mut "a", true));
        assert_eq!(b.len(), 1);
    }
}
