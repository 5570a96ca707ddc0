//! A map with a cap that forgets its oldest entries first.

use crate::net::FastMap;
use std::collections::VecDeque;
use std::hash::Hash;

#[derive(Debug, Clone)]
pub struct Bounded<K, V> {
    map: FastMap<K, (u64, V)>,
    /// Insertion order; entries whose sequence number no longer matches are stale.
    order: VecDeque<(K, u64)>,
    seq: u64,
    cap: usize,
    /// Entries pushed out by the cap.
    pub evicted: u64,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    pub fn new(cap: usize) -> Self {
        Bounded { map: FastMap::default(), order: VecDeque::new(), seq: 0, cap: cap.max(1), evicted: 0 }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn contains(&self, k: &K) -> bool {
        self.map.contains_key(k)
    }

    /// Insert or replace (a replaced entry counts as new for the age order).
    pub fn insert(&mut self, k: K, v: V) {
        while self.map.len() >= self.cap && !self.map.contains_key(&k) {
            let Some((old, s)) = self.order.pop_front() else { break };
            if self.map.get(&old).is_some_and(|(cur, _)| *cur == s) {
                self.map.remove(&old);
                self.evicted += 1;
            }
        }
        self.seq += 1;
        self.order.push_back((k.clone(), self.seq));
        self.map.insert(k, (self.seq, v));
        // Removed and replaced entries leave stale order entries: compact once they
        // outnumber the live ones, so the order grows with the map, not with time.
        if self.order.len() > 2 * self.map.len() + 1024 {
            let map = &self.map;
            self.order.retain(|(k, s)| map.get(k).is_some_and(|(cur, _)| cur == s));
        }
    }

    /// Forget every entry (the count of evicted ones stays).
    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        self.map.remove(k).map(|(_, v)| v)
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(_, v)| v)
    }

    /// Entries from oldest to newest.
    pub fn values_in_order(&self) -> impl Iterator<Item = &V> {
        self.order.iter().filter_map(|(k, s)| self.map.get(k).filter(|(cur, _)| cur == s).map(|(_, v)| v))
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
    fn stale_order_entries_are_compacted() {
        let mut b = Bounded::new(4);
        for i in 0..1000 {
            b.insert(i % 3, i);
            b.remove(&((i + 1) % 3));
        }
        assert!(b.order.len() <= 2 * b.len() + 1024);
        assert_eq!(b.evicted, 0);
    }
}
