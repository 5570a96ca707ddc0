//! A queue kept in fixed-size chunks, for queues that grow large (hundreds of
//! thousands of entries).
//!
//! A `VecDeque` grows by moving everything into a larger buffer: the old and the new
//! buffer are both live while it does, and every page of the new one is touched
//! afresh. Here growing adds one chunk, nothing moves, and an emptied chunk is kept
//! for the next one needed, so that a queue going round at its size asks the system
//! for no memory.

use std::collections::VecDeque;

/// Entries per chunk.
const CHUNK: usize = 4096;

#[derive(Debug)]
pub struct ChunkQueue<T> {
    /// Oldest first; every chunk but the last is full, except for what was taken from
    /// the front of the first.
    chunks: VecDeque<VecDeque<T>>,
    len: usize,
    /// An emptied chunk, kept for the next one needed.
    spare: Option<VecDeque<T>>,
}

impl<T> Default for ChunkQueue<T> {
    fn default() -> Self {
        ChunkQueue { chunks: VecDeque::new(), len: 0, spare: None }
    }
}

impl<T> ChunkQueue<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push_back(&mut self, v: T) {
        if self.chunks.back().is_none_or(|c| c.len() >= CHUNK) {
            let c = self.spare.take().unwrap_or_else(|| VecDeque::with_capacity(CHUNK));
            self.chunks.push_back(c);
        }
        self.chunks.back_mut().expect("a chunk").push_back(v);
        self.len += 1;
    }

    pub fn front(&self) -> Option<&T> {
        self.chunks.front().and_then(VecDeque::front)
    }

    pub fn pop_front(&mut self) -> Option<T> {
        let first = self.chunks.front_mut()?;
        let v = first.pop_front()?;
        self.len -= 1;
        if first.is_empty() {
            self.spare = self.chunks.pop_front();
        }
        Some(v)
    }

    /// Take the entries at the back for which `f` holds, up to the last for which it
    /// does not, in queue order.
    pub fn split_off_back_while(&mut self, mut f: impl FnMut(&T) -> bool) -> Vec<T> {
        let mut out = Vec::new();
        while let Some(last) = self.chunks.back_mut() {
            match last.back() {
                Some(v) if f(v) => {
                    out.push(last.pop_back().expect("back"));
                    self.len -= 1;
                }
                Some(_) => break,
                None => {
                    self.spare = self.chunks.pop_back();
                }
            }
        }
        out.reverse();
        out
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T> Extend<T> for ChunkQueue<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, it: I) {
        for v in it {
            self.push_back(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_over_many_chunks_keeps_its_order() {
        let mut q = ChunkQueue::default();
        let n = 3 * CHUNK + 17;
        q.extend(0..n);
        assert_eq!(q.len(), n);
        assert_eq!(q.chunks.len(), 4);
        assert!(q.iter().copied().eq(0..n));
        for i in 0..CHUNK + 5 {
            assert_eq!(q.pop_front(), Some(i));
        }
        assert_eq!(q.front(), Some(&(CHUNK + 5)));
        assert_eq!(q.chunks.len(), 3, "the emptied chunk left the queue");
        assert!(q.spare.is_some(), "and is kept for the next one");
        q.extend(n..n + CHUNK);
        assert!(q.spare.is_none(), "the kept chunk was used again");
        assert!(q.iter().copied().eq(CHUNK + 5..n + CHUNK));
        while q.pop_front().is_some() {}
        assert!(q.is_empty());
        assert_eq!(q.front(), None);
    }

    #[test]
    fn the_back_is_split_off_in_order() {
        let mut q = ChunkQueue::default();
        q.extend(0..CHUNK + 10);
        // Across a chunk boundary: everything from CHUNK - 3 on.
        let tail = q.split_off_back_while(|&v| v >= CHUNK - 3);
        assert_eq!(tail, (CHUNK - 3..CHUNK + 10).collect::<Vec<_>>());
        assert_eq!(q.len(), CHUNK - 3);
        assert_eq!(q.chunks.len(), 1, "the emptied last chunk left the queue");
        assert!(q.split_off_back_while(|&v| v > usize::MAX - 1).is_empty());
        let all = q.split_off_back_while(|_| true);
        assert_eq!(all.len(), CHUNK - 3);
        assert!(q.is_empty() && q.chunks.is_empty());
        q.push_back(7);
        assert_eq!(q.pop_front(), Some(7));
    }
}
