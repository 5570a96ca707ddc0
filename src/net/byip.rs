//! A map keyed by IP address for the few addresses that nearly every message looks
//! up: the servers whose state and audit are kept. A capture usually shows a handful
//! of servers and long runs of messages to the same one, so the entry found last is
//! tried before the hash index.

use super::FastMap;
use std::cell::Cell;
use std::net::IpAddr;
use std::ops::Index;

#[derive(Debug, Clone)]
pub struct ByIp<V> {
    keys: Vec<IpAddr>,
    vals: Vec<V>,
    /// Slot of each key in `keys` and `vals` (entries are never removed).
    index: FastMap<IpAddr, usize>,
    /// The slot found last.
    last: Cell<usize>,
}

impl<V> Default for ByIp<V> {
    fn default() -> Self {
        ByIp { keys: Vec::new(), vals: Vec::new(), index: FastMap::default(), last: Cell::new(0) }
    }
}

impl<V> ByIp<V> {
    fn find(&self, ip: &IpAddr) -> Option<usize> {
        let l = self.last.get();
        if self.keys.get(l) == Some(ip) {
            return Some(l);
        }
        let i = *self.index.get(ip)?;
        self.last.set(i);
        Some(i)
    }

    pub fn get(&self, ip: &IpAddr) -> Option<&V> {
        self.find(ip).map(|i| &self.vals[i])
    }

    pub fn get_mut(&mut self, ip: &IpAddr) -> Option<&mut V> {
        self.find(ip).map(|i| &mut self.vals[i])
    }

    pub fn contains_key(&self, ip: &IpAddr) -> bool {
        self.find(ip).is_some()
    }

    /// The value for `ip`, made by `make` if there is none yet.
    pub fn or_insert_with(&mut self, ip: IpAddr, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&ip) {
            Some(i) => i,
            None => {
                let i = self.keys.len();
                self.keys.push(ip);
                self.vals.push(make());
                self.index.insert(ip, i);
                self.last.set(i);
                i
            }
        };
        &mut self.vals[i]
    }

    pub fn or_default(&mut self, ip: IpAddr) -> &mut V
    where
        V: Default,
    {
        self.or_insert_with(ip, V::default)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Entries in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&IpAddr, &V)> {
        self.into_iter()
    }

    pub fn keys(&self) -> impl Iterator<Item = &IpAddr> {
        self.keys.iter()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.vals.iter()
    }
}

impl<V> Index<&IpAddr> for ByIp<V> {
    type Output = V;

    fn index(&self, ip: &IpAddr) -> &V {
        self.get(ip).expect("no entry for this address")
    }
}

impl<'a, V> IntoIterator for &'a ByIp<V> {
    type Item = (&'a IpAddr, &'a V);
    type IntoIter = std::iter::Zip<std::slice::Iter<'a, IpAddr>, std::slice::Iter<'a, V>>;

    fn into_iter(self) -> Self::IntoIter {
        self.keys.iter().zip(&self.vals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn finds_each_entry_whichever_was_found_last() {
        let mut m: ByIp<u32> = ByIp::default();
        assert!(m.is_empty() && m.get(&ip(1)).is_none());
        *m.or_default(ip(1)) += 1;
        *m.or_default(ip(2)) += 10;
        *m.or_default(ip(1)) += 1;
        *m.or_insert_with(ip(3), || 100) += 1;
        assert_eq!((m.len(), m[&ip(1)], m[&ip(2)], m[&ip(3)]), (3, 2, 10, 101));
        // Look-ups in every order: the cache of the last slot never answers for another key.
        for order in [[1, 2, 3], [3, 3, 1], [2, 1, 2]] {
            for n in order {
                let want = [0, 2, 10, 101][n as usize];
                assert_eq!(m.get(&ip(n)), Some(&want));
                assert!(m.contains_key(&ip(n)));
                assert!(!m.contains_key(&ip(9)));
            }
        }
        *m.get_mut(&ip(2)).expect("2") += 5;
        let all: Vec<(IpAddr, u32)> = m.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(all, [(ip(1), 2), (ip(2), 15), (ip(3), 101)], "in the order added");
        assert_eq!(m.keys().count(), 3);
        assert_eq!(m.values().sum::<u32>(), 118);
        assert_eq!((&m).into_iter().count(), 3);
    }
}
