//! Counts by a pair of names.

/// Counts by a pair of names, for the few pairs a server's answers make; sorted when
/// reported. Every answer adds one, so a pair is found by a short scan that compares
/// where the names lie before what they say, not by hashing them.
#[derive(Debug, Clone, Default)]
pub struct Tally(Vec<(&'static str, &'static str, u64)>);

impl Tally {
    pub fn add(&mut self, a: &'static str, b: &'static str) {
        self.add_n(a, b, 1);
    }

    pub fn add_n(&mut self, a: &'static str, b: &'static str, n: u64) {
        let same = |x: &str, y: &str| std::ptr::eq(x, y) || x == y;
        match self.0.iter_mut().find(|(x, y, _)| same(x, a) && same(y, b)) {
            Some(e) => e.2 += n,
            None => self.0.push((a, b, n)),
        }
    }

    pub fn get(&self, a: &str, b: &str) -> u64 {
        self.0.iter().find(|(x, y, _)| *x == a && *y == b).map_or(0, |e| e.2)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static str, u64)> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pairs_by_what_the_names_say() {
        let mut t = Tally::default();
        t.add("LOCK", "GRANTED");
        t.add("LOCK", "DENIED");
        t.add("LOCK", "GRANTED");
        // The same text elsewhere in memory is the same name.
        let granted = String::from("GRANTED").leak();
        t.add("LOCK", granted);
        t.add("LOCK", granted);
        assert_eq!(t.get("LOCK", "GRANTED"), 4);
        assert_eq!(t.get("LOCK", "DENIED"), 1);
        assert_eq!(t.get("TEST", "GRANTED"), 0);
        assert_eq!(t.iter().count(), 2);
    }
}
