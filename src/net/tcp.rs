//! TCP reassembly for one direction of a connection: in-order data is passed through
//! without copying; out-of-order segments are held (copied, capped) until the hole is
//! filled; retransmissions and overlaps are trimmed; a hole that the peer has already
//! acknowledged, or that the cap forces us to give up on, becomes a counted gap.
//! Every chunk comes with the frame that carried it.

use super::FrameRef;

/// What reassembly hands to the record layer, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// This many bytes of the stream were never captured.
    Gap(u64),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TcpCounters {
    pub gaps: u64,
    pub gap_bytes: u64,
    pub retransmitted_bytes: u64,
    pub out_of_order_segments: u64,
}

#[derive(Debug, Default)]
pub struct TcpStream {
    /// Next expected sequence number; `None` until the first segment.
    next: Option<u32>,
    /// Segments beyond a hole: (sequence number, data).
    ooo: Vec<(u32, Vec<u8>, FrameRef)>,
    ooo_bytes: usize,
    /// Highest sequence number the peer acknowledged (from the reverse direction).
    peer_acked: Option<u32>,
    /// The stream was first seen without its SYN.
    pub midstream: bool,
    pub fin: bool,
    pub counters: TcpCounters,
}

/// `a - b` as a signed distance in sequence space.
#[inline]
fn rel(a: u32, b: u32) -> i64 {
    a.wrapping_sub(b) as i32 as i64
}

impl TcpStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes currently held out of order (for the global memory accounting).
    pub fn held_bytes(&self) -> usize {
        self.ooo_bytes
    }

    /// The reverse direction acknowledged `ack`. Held data beyond a hole that the
    /// peer has now acknowledged is delivered at once: the hole was never captured.
    pub fn peer_ack(&mut self, ack: u32, out: &mut dyn FnMut(Chunk<'_>, FrameRef)) {
        match self.peer_acked {
            Some(a) if rel(ack, a) <= 0 => return,
            _ => self.peer_acked = Some(ack),
        }
        while let (Some(next), Some(first)) = (self.next, self.earliest()) {
            if rel(ack, first) > 0 && rel(first, next) > 0 {
                self.skip_to_earliest(out);
            } else {
                break;
            }
        }
    }

    fn earliest(&self) -> Option<u32> {
        let next = self.next?;
        self.ooo.iter().map(|(s, _, _)| *s).min_by_key(|s| rel(*s, next))
    }

    /// Feed one segment. `cap` bounds the bytes held out of order.
    pub fn segment(&mut self, seq: u32, syn: bool, fin: bool, mut payload: &[u8], at: FrameRef, cap: usize, out: &mut dyn FnMut(Chunk<'_>, FrameRef)) {
        if syn {
            // The SYN takes one sequence number; data on a SYN (TFO) is ignored.
            self.next = Some(seq.wrapping_add(1));
            return;
        }
        let next = match self.next {
            Some(n) => n,
            None => {
                self.midstream = true;
                self.next = Some(seq);
                seq
            }
        };
        if fin {
            self.fin = true;
        }
        if payload.is_empty() {
            return;
        }
        let d = rel(seq, next);
        if d < 0 {
            let skip = (-d) as usize;
            if skip >= payload.len() {
                self.counters.retransmitted_bytes += payload.len() as u64;
                return;
            }
            self.counters.retransmitted_bytes += skip as u64;
            payload = &payload[skip..];
        } else if d > 0 {
            // A hole before this segment. If the peer already acknowledged past it,
            // the bytes went by uncaptured: skip them now.
            let proven_lost = self.peer_acked.is_some_and(|a| rel(a, seq) >= 0);
            if proven_lost {
                self.gap(d as u64, at, out);
            } else {
                self.hold(seq, payload, at, cap, out);
                return;
            }
        }
        self.deliver(payload, at, out);
        self.drain(out);
    }

    /// The segment that began at `seq` with `captured` bytes lost `missing` more to the
    /// snapshot length. If it was delivered in order, skip the lost tail now.
    pub fn cut_short(&mut self, seq: u32, captured: usize, missing: u32, at: FrameRef, out: &mut dyn FnMut(Chunk<'_>, FrameRef)) {
        if missing > 0 && self.next == Some(seq.wrapping_add(captured as u32)) {
            self.gap(missing as u64, at, out);
            self.drain(out);
        }
    }

    fn deliver(&mut self, payload: &[u8], at: FrameRef, out: &mut dyn FnMut(Chunk<'_>, FrameRef)) {
        if let Some(n) = self.next.as_mut() {
            *n = n.wrapping_add(payload.len() as u32);
        }
        out(Chunk::Data(payload), at);
    }

    fn gap(&mut self, bytes: u64, at: FrameRef, out: &mut dyn FnMut(Chunk<'_>, FrameRef)) {
        self.counters.gaps += 1;
        self.counters.gap_bytes += bytes;
        if let Some(n) = self.next.as_mut() {
            *n = n.wrapping_add(bytes as u32);
        }
        out(Chunk::Gap(bytes), at);
    }

    fn hold(&mut self, seq: u32, payload: &[u8], at: FrameRef, cap: usize, out: &mut dyn FnMut(Chunk<'_>, FrameRef)) {
        self.counters.out_of_order_segments += 1;
        if self.ooo.iter().any(|(s, d, _)| *s == seq && d.len() >= payload.len()) {
            self.counters.retransmitted_bytes += payload.len() as u64;
            return;
        }
        self.ooo.push((seq, payload.to_vec(), at));
        self.ooo_bytes += payload.len();
        // Over the cap: give up on the hole and continue from the earliest held data.
        while self.ooo_bytes > cap && !self.ooo.is_empty() {
            self.skip_to_earliest(out);
        }
    }

    fn skip_to_earliest(&mut self, out: &mut dyn FnMut(Chunk<'_>, FrameRef)) {
        let Some(next) = self.next else { return };
        let Some((first, at)) = self.ooo.iter().map(|(s, _, at)| (rel(*s, next), *at)).min_by_key(|x| x.0) else { return };
        if first > 0 {
            self.gap(first as u64, at, out);
        }
        self.drain(out);
    }

    /// Deliver every held segment that now lines up with the stream.
    fn drain(&mut self, out: &mut dyn FnMut(Chunk<'_>, FrameRef)) {
        loop {
            let Some(next) = self.next else { return };
            let Some(idx) = self.ooo.iter().position(|(s, _, _)| rel(*s, next) <= 0) else { return };
            let (s, data, at) = self.ooo.swap_remove(idx);
            self.ooo_bytes -= data.len();
            let skip = (-rel(s, next)) as usize;
            if skip >= data.len() {
                self.counters.retransmitted_bytes += data.len() as u64;
                continue;
            }
            self.counters.retransmitted_bytes += skip as u64;
            self.deliver(&data[skip..], at, out);
        }
    }

    /// End of input (or of the connection): whatever is held is delivered after gaps.
    pub fn finish(&mut self, out: &mut dyn FnMut(Chunk<'_>, FrameRef)) {
        while !self.ooo.is_empty() {
            self.skip_to_earliest(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &mut TcpStream, seq: u32, data: &[u8], cap: usize) -> Vec<String> {
        let mut v = Vec::new();
        s.segment(seq, false, false, data, FrameRef::default(), cap, &mut |c, _| v.push(fmt(c)));
        v
    }

    fn fmt(c: Chunk<'_>) -> String {
        match c {
            Chunk::Data(d) => String::from_utf8_lossy(d).into_owned(),
            Chunk::Gap(n) => format!("<gap {n}>"),
        }
    }

    #[test]
    fn in_order_after_syn() {
        let mut s = TcpStream::new();
        s.segment(999, true, false, &[], FrameRef::default(), 1 << 20, &mut |_, _| panic!());
        assert_eq!(run(&mut s, 1000, b"abc", 100), ["abc"]);
        assert_eq!(run(&mut s, 1003, b"def", 100), ["def"]);
        assert!(!s.midstream);
    }

    #[test]
    fn reordering_is_repaired() {
        let mut s = TcpStream::new();
        s.segment(0, true, false, &[], FrameRef::default(), 100, &mut |_, _| {});
        assert!(run(&mut s, 4, b"def", 100).is_empty());
        assert!(run(&mut s, 7, b"ghi", 100).is_empty());
        assert_eq!(run(&mut s, 1, b"abc", 100), ["abc", "def", "ghi"]);
        assert_eq!(s.counters.out_of_order_segments, 2);
        assert_eq!(s.counters.gaps, 0);
    }

    #[test]
    fn retransmission_and_overlap_trimmed() {
        let mut s = TcpStream::new();
        assert_eq!(run(&mut s, 100, b"abcd", 100), ["abcd"]);
        assert!(s.midstream);
        assert!(run(&mut s, 100, b"abcd", 100).is_empty());
        assert_eq!(run(&mut s, 102, b"cdef", 100), ["ef"]);
        assert_eq!(s.counters.retransmitted_bytes, 6);
        // overlapping held segments
        assert!(run(&mut s, 110, b"klm", 100).is_empty());
        assert_eq!(run(&mut s, 106, b"ghijk", 100), ["ghijk", "lm"]);
    }

    #[test]
    fn gap_proven_by_ack() {
        let mut s = TcpStream::new();
        assert_eq!(run(&mut s, 0, b"ab", 100), ["ab"]);
        s.peer_ack(20, &mut |_, _| panic!("nothing held"));
        // bytes 2..10 were acknowledged but never captured
        assert_eq!(run(&mut s, 10, b"xyz", 100), ["<gap 8>", "xyz"]);
        assert_eq!(s.counters.gaps, 1);
        assert_eq!(s.counters.gap_bytes, 8);
    }

    #[test]
    fn gap_forced_by_cap_and_finish() {
        let mut s = TcpStream::new();
        assert_eq!(run(&mut s, 0, b"a", 4), ["a"]);
        assert!(run(&mut s, 5, b"fg", 4).is_empty());
        // holding 5 bytes exceeds the cap of 4: skip the hole
        assert_eq!(run(&mut s, 10, b"klm", 4), ["<gap 4>", "fg"]);
        assert!(run(&mut s, 20, b"u", 4).is_empty());
        let mut v = Vec::new();
        s.finish(&mut |c, _| v.push(fmt(c)));
        assert_eq!(v, ["<gap 3>", "klm", "<gap 7>", "u"]);
        assert_eq!(s.held_bytes(), 0);
    }

    #[test]
    fn ack_of_unseen_bytes_releases_held_data_with_its_frame() {
        let mut s = TcpStream::new();
        assert_eq!(run(&mut s, 0, b"ab", 100), ["ab"]);
        let at = FrameRef { file: 0, frame: 5, ts: 0 };
        s.segment(10, false, false, b"xyz", at, 100, &mut |_, _| panic!("held"));
        let mut v = Vec::new();
        s.peer_ack(13, &mut |c, f| v.push((fmt(c), f.frame)));
        assert_eq!(v, [("<gap 8>".to_string(), 5), ("xyz".to_string(), 5)]);
    }

    #[test]
    fn snaplen_cut_segment_becomes_gap() {
        let mut s = TcpStream::new();
        assert_eq!(run(&mut s, 0, b"abc", 100), ["abc"]);
        let mut v = Vec::new();
        s.cut_short(0, 3, 5, FrameRef::default(), &mut |c, _| v.push(fmt(c)));
        assert_eq!(v, ["<gap 5>"]);
        assert_eq!(run(&mut s, 8, b"ij", 100), ["ij"]);
    }

    #[test]
    fn sequence_wraparound() {
        let mut s = TcpStream::new();
        s.segment(u32::MAX - 2, true, false, &[], FrameRef::default(), 100, &mut |_, _| {});
        assert_eq!(run(&mut s, u32::MAX - 1, b"ab", 100), ["ab"]);
        assert!(run(&mut s, 2, b"ef", 100).is_empty());
        assert_eq!(run(&mut s, 0, b"cd", 100), ["cd", "ef"]);
    }
}
