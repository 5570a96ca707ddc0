//! File handle → path, learnt from MOUNT, NFSv3/NFSv2 LOOKUP/CREATE/MKDIR/SYMLINK/MKNOD
//! and READDIRPLUS.
//!
//! Each handle is stored with its parent handle and its name in that parent (an export
//! root with its export path). Paths are put together when asked for, so a name learnt
//! before its parent's still resolves once the parent is known. The last name seen for a
//! handle wins (a hard link or a rename shows the latest name).

use crate::net::FastMap;

/// Longest handle kept (NFSv4 allows 128 bytes; v2/v3 at most 64).
pub const MAX_FH: usize = 128;
/// Longest single name component kept.
const MAX_NAME: usize = 1024;
/// Deepest path put together (protects against loops).
const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone)]
struct Node {
    /// Parent's index; `None` for an export root (whose name is the export path).
    parent: Option<u32>,
    name: String,
    /// Learnt at all (a node may exist only as some child's parent).
    known: bool,
}

/// Counters of [`FhNames`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NamesCounters {
    pub roots: u64,
    pub names: u64,
    /// Handles not recorded because the table was full.
    pub refused: u64,
    /// Handles or names over the length limits, ignored.
    pub oversized: u64,
}

#[derive(Debug, Clone)]
pub struct FhNames {
    index: FastMap<Vec<u8>, u32>,
    nodes: Vec<Node>,
    cap: usize,
    pub counters: NamesCounters,
}

impl FhNames {
    /// At most `cap` handles (roots, names and parents waiting for their own name).
    pub fn new(cap: usize) -> Self {
        FhNames { index: FastMap::default(), nodes: Vec::new(), cap: cap.min(u32::MAX as usize), counters: NamesCounters::default() }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn id(&mut self, fh: &[u8]) -> Option<u32> {
        if let Some(&i) = self.index.get(fh) {
            return Some(i);
        }
        if self.nodes.len() >= self.cap {
            self.counters.refused += 1;
            return None;
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(Node { parent: None, name: String::new(), known: false });
        self.index.insert(fh.to_vec(), i);
        Some(i)
    }

    fn ok(&mut self, fh: &[u8], name: &[u8]) -> bool {
        let ok = !fh.is_empty() && fh.len() <= MAX_FH && name.len() <= MAX_NAME;
        if !ok {
            self.counters.oversized += 1;
        }
        ok
    }

    /// An export root: MOUNT MNT of `path` returned `fh`.
    pub fn root(&mut self, fh: &[u8], path: &[u8]) {
        if !self.ok(fh, path) {
            return;
        }
        let Some(i) = self.id(fh) else { return };
        self.counters.roots += 1;
        self.nodes[i as usize] = Node { parent: None, name: String::from_utf8_lossy(path).into_owned(), known: true };
    }

    /// `name` in directory `dir` is `fh`. `.` and `..` teach nothing and are skipped.
    pub fn child(&mut self, dir: &[u8], name: &[u8], fh: &[u8]) {
        if name.is_empty() || name == b"." || name == b".." || dir == fh || !self.ok(dir, name) || !self.ok(fh, b"") {
            return;
        }
        let Some(d) = self.id(dir) else { return };
        let Some(i) = self.id(fh) else { return };
        self.counters.names += 1;
        self.nodes[i as usize] = Node { parent: Some(d), name: String::from_utf8_lossy(name).into_owned(), known: true };
    }

    /// Whether anything is known about `fh`.
    pub fn knows(&self, fh: &[u8]) -> bool {
        self.index.get(fh).is_some_and(|&i| self.nodes[i as usize].known)
    }

    /// The path of `fh`: complete (`/export/dir/file`) when every ancestor up to an
    /// export root is known, else starting with `…/` at the first unknown ancestor.
    pub fn path(&self, fh: &[u8]) -> Option<String> {
        let &i = self.index.get(fh)?;
        if !self.nodes[i as usize].known {
            return None;
        }
        let mut parts: Vec<&str> = Vec::new();
        let mut cur = Some(i);
        let mut complete = false;
        while let Some(c) = cur {
            if parts.len() >= MAX_DEPTH {
                break;
            }
            let n = &self.nodes[c as usize];
            if !n.known {
                break;
            }
            parts.push(&n.name);
            if n.parent.is_none() {
                complete = true;
                break;
            }
            cur = n.parent;
        }
        parts.reverse();
        let mut s = String::new();
        if !complete {
            s.push('…');
        }
        for (k, p) in parts.iter().enumerate() {
            if k == 0 && complete {
                s.push_str(p);
            } else {
                if !s.ends_with('/') {
                    s.push('/');
                }
                s.push_str(p);
            }
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_then_children() {
        let mut n = FhNames::new(100);
        n.root(b"R", b"/export");
        n.child(b"R", b"dir", b"D");
        n.child(b"D", b"file", b"F");
        assert_eq!(n.path(b"R").as_deref(), Some("/export"));
        assert_eq!(n.path(b"F").as_deref(), Some("/export/dir/file"));
        assert_eq!(n.path(b"X"), None);
        assert!(n.knows(b"D"));
        assert_eq!(n.counters, NamesCounters { roots: 1, names: 2, refused: 0, oversized: 0 });
    }

    #[test]
    fn root_path_ending_in_slash_and_late_parent() {
        let mut n = FhNames::new(100);
        n.child(b"D", b"file", b"F");
        // The parent is not known yet: the path says so.
        assert_eq!(n.path(b"F").as_deref(), Some("…/file"));
        assert!(!n.knows(b"D"));
        assert_eq!(n.path(b"D"), None);
        n.root(b"R", b"/");
        n.child(b"R", b"dir", b"D");
        assert_eq!(n.path(b"F").as_deref(), Some("/dir/file"));
    }

    #[test]
    fn dot_names_and_self_loops_are_skipped() {
        let mut n = FhNames::new(100);
        n.root(b"R", b"/e");
        n.child(b"R", b".", b"R");
        n.child(b"R", b"..", b"P");
        n.child(b"R", b"x", b"R");
        assert_eq!(n.path(b"R").as_deref(), Some("/e"));
        assert_eq!(n.path(b"P"), None);
        assert_eq!(n.counters.names, 0);
    }

    #[test]
    fn latest_name_wins_and_loops_terminate() {
        let mut n = FhNames::new(100);
        n.root(b"R", b"/e");
        n.child(b"R", b"old", b"F");
        n.child(b"R", b"new", b"F");
        assert_eq!(n.path(b"F").as_deref(), Some("/e/new"));
        // A loop between two handles (only hostile traffic does this) still ends.
        n.child(b"A", b"b", b"B");
        n.child(b"B", b"a", b"A");
        let p = n.path(b"A").expect("known");
        assert!(p.starts_with('…') && p.len() < 4 * MAX_DEPTH + 8, "{p}");
    }

    #[test]
    fn cap_refuses_and_counts() {
        let mut n = FhNames::new(2);
        n.root(b"R", b"/e");
        n.child(b"R", b"a", b"A");
        n.child(b"R", b"b", b"B");
        assert_eq!(n.len(), 2);
        assert_eq!(n.counters.refused, 1);
        assert_eq!(n.path(b"B"), None);
        // Known handles still update when the table is full.
        n.child(b"R", b"a2", b"A");
        assert_eq!(n.path(b"A").as_deref(), Some("/e/a2"));
        let long = vec![1u8; MAX_FH + 1];
        n.root(&long, b"/x");
        assert_eq!(n.counters.oversized, 1);
    }
}
