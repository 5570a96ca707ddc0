//! RPC record marking over TCP (RFC 5531 §11): records made of fragments, each with a
//! 4-byte mark (last-fragment bit + 31-bit length).
//!
//! A record that lies whole inside one chunk of stream data is handed on without a
//! copy; otherwise it is gathered in a buffer. Records larger than the cap are skipped
//! (and counted) rather than buffered. After a gap, or on a stream picked up in the
//! middle, the parser hunts for the next plausible record start.
//!
//! A record that cannot be completed (over the cap, or cut by a gap) is still handed
//! on as a partial record made of its first bytes, so that its RPC header is seen.

use crate::net::FrameRef;

/// Smallest record that can hold an RPC reply header.
const MIN_RECORD: u32 = 24;
/// Bytes kept of a record that is dropped, to show its header.
const HEAD_KEEP: usize = 512;
/// A partial record shorter than this shows nothing useful.
const MIN_PARTIAL: usize = 8;
/// Bytes kept while hunting: a mark and a call header must fit.
const HUNT_WINDOW: usize = 4 + super::msg::PLAUSIBLE_CALL_LEN;
/// Fewest bytes that can show a record start (a mark and a short reply header).
const MIN_CHECK: usize = 4 + super::msg::PLAUSIBLE_REPLY_LEN;
/// Hunting gives up on a stream (as not RPC) after this many bytes without a match,
/// when the stream was never confirmed as RPC.
pub const HUNT_GIVE_UP: u64 = 256 * 1024;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecordCounters {
    pub records: u64,
    pub fragments: u64,
    /// Records over the size cap, skipped.
    pub oversized: u64,
    /// Records cut by a capture gap, dropped.
    pub damaged: u64,
    /// Bytes passed over while hunting for a record start.
    pub hunted_bytes: u64,
    pub resyncs: u64,
    /// Incomplete records handed on for their headers.
    pub partial: u64,
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordInfo {
    /// The frame that completed the record, or for a partial record the frame where
    /// it began.
    pub at: FrameRef,
    /// Only the first bytes of the record: it was too large or cut by a gap.
    pub partial: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a fragment mark (`have` bytes of it so far).
    Mark { have: u8 },
    /// Inside a fragment's data.
    Body { remaining: u32, last: bool },
    /// Looking for a plausible record start.
    Hunt,
}

/// A record's bytes as handed on: lent from the stream data, or gathered in the
/// parser's buffer, which the receiver may take (leaving it empty) rather than copy.
pub enum RecBytes<'a> {
    Lent(&'a [u8]),
    Gathered(&'a mut Vec<u8>),
}

impl std::ops::Deref for RecBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            RecBytes::Lent(b) => b,
            RecBytes::Gathered(v) => v,
        }
    }
}

/// What receives each record.
pub type OnRecord<'f> = dyn FnMut(RecBytes<'_>, RecordInfo) + 'f;

/// What the hunter accepts as the start of a record.
pub trait RecordStart {
    fn plausible(&self, at: &[u8]) -> bool;
}

impl<F: Fn(&[u8]) -> bool> RecordStart for F {
    fn plausible(&self, at: &[u8]) -> bool {
        self(at)
    }
}

/// The most reserved at once for a record gathered from several segments.
const RESERVE_MAX: usize = 256 << 10;
/// The largest emptied record buffer kept for the next record.
const SPARE_MAX: usize = 4 << 20;
/// The most memory held in emptied record buffers per thread.
const SPARE_TOTAL: usize = 8 << 20;

thread_local! {
    /// Emptied record buffers, handed to the next records that span segments: large
    /// records (NFS READ and WRITE) then reuse memory instead of asking the allocator,
    /// and the system, for it each time. Buffers come back from the parser itself or,
    /// when a receiver took a record's buffer, from that receiver once it is done.
    static SPARE: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The largest kept buffer (empty), or a new one.
fn spare() -> Vec<u8> {
    SPARE.with(|s| {
        let mut s = s.borrow_mut();
        let best = (0..s.len()).max_by_key(|&i| s[i].capacity());
        best.map(|i| s.swap_remove(i)).unwrap_or_default()
    })
}

/// Keep an emptied record buffer for a later record, within the per-thread bound
/// (preferring larger buffers).
pub fn give_back(mut v: Vec<u8>) {
    if v.capacity() == 0 || v.capacity() > SPARE_MAX {
        return;
    }
    v.clear();
    SPARE.with(|s| {
        let mut s = s.borrow_mut();
        let mut held: usize = s.iter().map(Vec::capacity).sum();
        while held + v.capacity() > SPARE_TOTAL {
            let Some(i) = (0..s.len()).min_by_key(|&i| s[i].capacity()) else { return };
            if s[i].capacity() >= v.capacity() {
                return;
            }
            held -= s.swap_remove(i).capacity();
        }
        s.push(v);
    });
}

#[derive(Debug)]
pub struct RecordParser {
    state: State,
    mark: [u8; 4],
    buf: Vec<u8>,
    /// The current record is being dropped (too large, or damaged by a gap); `buf`
    /// keeps only its first bytes.
    dropping: bool,
    /// The frame where the current record began.
    start_at: FrameRef,
    cap: u32,
    /// Bytes passed over since hunting began without finding anything.
    hunted_run: u64,
    pub counters: RecordCounters,
}

impl RecordParser {
    /// `cap`: largest record buffered; `hunting`: start by looking for a record start
    /// (a stream picked up in the middle).
    pub fn new(cap: u32, hunting: bool) -> Self {
        RecordParser {
            state: if hunting { State::Hunt } else { State::Mark { have: 0 } },
            mark: [0; 4],
            buf: Vec::new(),
            dropping: false,
            start_at: FrameRef::default(),
            cap,
            hunted_run: 0,
            counters: RecordCounters::default(),
        }
    }

    pub fn is_hunting(&self) -> bool {
        self.state == State::Hunt
    }

    /// Bytes hunted over without a match since the stream was last in step (to give
    /// up on streams that are not RPC).
    pub fn hunted_run(&self) -> u64 {
        self.hunted_run
    }

    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Feed stream data; `on_record` gets each complete record (without marks).
    pub fn feed(&mut self, mut data: &[u8], at: FrameRef, start: &dyn RecordStart, on_record: &mut OnRecord<'_>) {
        while !data.is_empty() {
            match self.state {
                State::Hunt => {
                    let (prefix, rest) = self.hunt(data, start);
                    if !prefix.is_empty() {
                        self.feed(&prefix, at, start, on_record);
                    }
                    data = rest;
                }
                State::Mark { have } => {
                    if have == 0 && data.len() >= 4 {
                        self.mark.copy_from_slice(&data[..4]);
                        data = &data[4..];
                    } else {
                        let n = (4 - have as usize).min(data.len());
                        self.mark[have as usize..have as usize + n].copy_from_slice(&data[..n]);
                        data = &data[n..];
                        if (have as usize + n) < 4 {
                            self.state = State::Mark { have: have + n as u8 };
                            continue;
                        }
                    }
                    let m = u32::from_be_bytes(self.mark);
                    let (last, len) = (m & 0x8000_0000 != 0, m & 0x7fff_ffff);
                    self.counters.fragments += 1;
                    if self.buf.is_empty() && !self.dropping {
                        self.start_at = at;
                    }
                    if !self.dropping && self.buf.len() as u64 + len as u64 > self.cap as u64 {
                        self.dropping = true;
                        self.counters.oversized += 1;
                        self.buf.truncate(HEAD_KEEP);
                        self.buf.shrink_to(HEAD_KEEP);
                    }
                    // Fast path: a whole single-fragment record in this chunk.
                    if last && !self.dropping && self.buf.is_empty() && data.len() >= len as usize {
                        self.counters.records += 1;
                        on_record(RecBytes::Lent(&data[..len as usize]), RecordInfo { at, partial: false });
                        data = &data[len as usize..];
                        self.state = State::Mark { have: 0 };
                        continue;
                    }
                    self.state = State::Body { remaining: len, last };
                    if len == 0 {
                        self.end_fragment(last, at, on_record);
                    }
                }
                State::Body { remaining, last } => {
                    let n = (remaining as usize).min(data.len());
                    if !self.dropping {
                        if self.buf.capacity() == 0 {
                            // Room for the fragment at once (it is within the cap), up to a bound.
                            self.buf = spare();
                            self.buf.reserve_exact((remaining as usize).min(RESERVE_MAX));
                        }
                        self.buf.extend_from_slice(&data[..n]);
                    } else if self.buf.len() < HEAD_KEEP {
                        let k = n.min(HEAD_KEEP - self.buf.len());
                        self.buf.extend_from_slice(&data[..k]);
                    }
                    data = &data[n..];
                    let remaining = remaining - n as u32;
                    self.state = State::Body { remaining, last };
                    if remaining == 0 {
                        self.end_fragment(last, at, on_record);
                    }
                }
            }
        }
    }

    fn end_fragment(&mut self, last: bool, at: FrameRef, on_record: &mut OnRecord<'_>) {
        self.state = State::Mark { have: 0 };
        if !last {
            return;
        }
        if !self.dropping {
            self.counters.records += 1;
            on_record(RecBytes::Gathered(&mut self.buf), RecordInfo { at, partial: false });
        } else {
            self.emit_partial(on_record);
        }
        self.dropping = false;
        // Most records never need the buffer: it is not kept between them, so that
        // thousands of idle connections hold no memory (the thread keeps a few spares).
        give_back(std::mem::take(&mut self.buf));
    }

    fn emit_partial(&mut self, on_record: &mut OnRecord<'_>) {
        if self.buf.len() >= MIN_PARTIAL {
            self.counters.partial += 1;
            on_record(RecBytes::Lent(&self.buf), RecordInfo { at: self.start_at, partial: true });
        }
    }

    /// `bytes` of the stream were lost.
    pub fn gap(&mut self, bytes: u64, on_record: &mut OnRecord<'_>) {
        match self.state {
            State::Body { remaining, last } if (remaining as u64) > bytes => {
                // The hole lies inside this fragment: the record is damaged but the
                // stream stays in step. Its first bytes are kept for its header.
                if !self.dropping {
                    self.counters.damaged += 1;
                }
                self.dropping = true;
                self.buf.truncate(HEAD_KEEP);
                self.state = State::Body { remaining: remaining - bytes as u32, last };
            }
            State::Hunt => {}
            _ => {
                if !self.buf.is_empty() || matches!(self.state, State::Body { .. } | State::Mark { have: 1.. }) {
                    if !self.dropping {
                        self.counters.damaged += 1;
                    }
                    self.emit_partial(on_record);
                }
                self.buf.clear();
                self.dropping = false;
                self.state = State::Hunt;
                self.hunted_run = 0;
            }
        }
    }

    /// Scan for a plausible record start. Returns the bytes to parse from there: a
    /// copied prefix (when the start lay in bytes kept from earlier data) and the rest
    /// of `data`. Both empty when nothing was found yet.
    fn hunt<'d>(&mut self, data: &'d [u8], start: &dyn RecordStart) -> (Vec<u8>, &'d [u8]) {
        let w = HUNT_WINDOW;
        if !self.buf.is_empty() {
            // Bytes kept from earlier data: join them with the start of `data`.
            let tail_len = self.buf.len();
            let n = data.len().min(w - 1);
            self.buf.extend_from_slice(&data[..n]);
            let checkable = (self.buf.len() + 1).saturating_sub(w).min(tail_len);
            for p in 0..checkable {
                if self.candidate(&self.buf[p..], start) {
                    self.passed(p);
                    let prefix = self.buf[p..].to_vec();
                    self.buf.clear();
                    self.resync();
                    return (prefix, &data[n..]);
                }
            }
            if checkable < tail_len {
                // Not enough new bytes to check every kept position: keep waiting.
                self.passed(checkable);
                self.buf.drain(..checkable);
                return (Vec::new(), &[]);
            }
            self.passed(tail_len);
            self.buf.clear();
        }
        let mut k = 0;
        while k + MIN_CHECK <= data.len() {
            if self.candidate(&data[k..], start) {
                self.passed(k);
                self.resync();
                return (Vec::new(), &data[k..]);
            }
            if k + w > data.len() {
                // Too few bytes to rule this position out: keep it for later data.
                break;
            }
            k += 1;
        }
        self.passed(k);
        self.buf.extend_from_slice(&data[k..]);
        (Vec::new(), &[])
    }

    fn passed(&mut self, n: usize) {
        self.counters.hunted_bytes += n as u64;
        self.hunted_run += n as u64;
    }

    fn candidate(&self, at: &[u8], start: &dyn RecordStart) -> bool {
        if at.len() < MIN_CHECK {
            return false;
        }
        let m = u32::from_be_bytes([at[0], at[1], at[2], at[3]]);
        let len = m & 0x7fff_ffff;
        len >= MIN_RECORD && start.plausible(&at[4..])
    }

    fn resync(&mut self) {
        self.counters.resyncs += 1;
        self.state = State::Mark { have: 0 };
        self.dropping = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emptied_record_buffers_are_kept_for_the_next_record() {
        let _ = spare();
        let mut big = Vec::with_capacity(SPARE_MAX + 1);
        big.push(1u8);
        give_back(big);
        assert_eq!(spare().capacity(), 0, "a buffer over the bound is let go");
        let mut v = Vec::with_capacity(100_000);
        v.extend_from_slice(&[7; 10]);
        give_back(v);
        give_back(Vec::with_capacity(10));
        let s = spare();
        assert!(s.capacity() >= 100_000 && s.is_empty(), "the larger one first, emptied");
        assert_eq!(spare().capacity(), 10, "then the smaller");
        assert_eq!(spare().capacity(), 0, "each handed out once");
        // The buffers kept are bounded in total: of three 3 MiB buffers, two stay.
        for _ in 0..3 {
            give_back(Vec::with_capacity(3 << 20));
        }
        let kept = std::iter::from_fn(|| Some(spare().capacity())).take_while(|&c| c > 0).count();
        assert_eq!(kept, 2);
        // Records spanning segments come out whole, one after another, through the spare.
        let rec = |n: u8| {
            let mut r = (0x8000_0000u32 | 300).to_be_bytes().to_vec();
            r.extend(std::iter::repeat_n(n, 300));
            r
        };
        let mut p = RecordParser::new(1 << 20, false);
        let mut got = Vec::new();
        for n in 1..=3u8 {
            let r = rec(n);
            for part in r.chunks(100) {
                p.feed(part, FrameRef::default(), &plausible, &mut |b, _| got.push(b.to_vec()));
            }
        }
        assert_eq!(got.len(), 3);
        assert!(got.iter().enumerate().all(|(i, b)| b.len() == 300 && b.iter().all(|&x| x == i as u8 + 1)));
        // A receiver may take a gathered record's buffer instead of copying it, and give
        // it back when done: the parser then gathers the next record in it.
        let mut taken: Vec<Vec<u8>> = Vec::new();
        let mut lent = 0;
        for n in 4..=5u8 {
            let r = rec(n);
            for part in r.chunks(100) {
                p.feed(part, FrameRef::default(), &plausible, &mut |b, _| match b {
                    RecBytes::Gathered(v) => taken.push(std::mem::take(v)),
                    RecBytes::Lent(_) => lent += 1,
                });
            }
            let v = taken.last().expect("a gathered record");
            assert!(v.len() == 300 && v.iter().all(|&x| x == n));
            let ptr = v.as_ptr();
            give_back(taken.pop().unwrap());
            let next = spare();
            assert_eq!(next.as_ptr(), ptr, "the buffer given back is the next spare");
        }
        assert_eq!(lent, 0);
        // A record whole in one chunk is lent, never gathered.
        p.feed(&rec(6), FrameRef::default(), &plausible, &mut |b, _| assert!(matches!(b, RecBytes::Lent(r) if r.len() == 300)));
    }

    fn rec(last: bool, body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() as u32) | if last { 0x8000_0000 } else { 0 }).to_be_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    /// A minimal RPC call body (xid, CALL, rpcvers 2, prog 100003 …) padded to `n`.
    fn call_body(xid: u8, n: usize) -> Vec<u8> {
        let mut v = vec![0, 0, 0, xid, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0x86, 0xa3, 0, 0, 0, 3, 0, 0, 0, 1];
        v.extend_from_slice(&[0; 16]);
        v.resize(n.max(v.len()), 0xee);
        v
    }

    fn plausible(b: &[u8]) -> bool {
        crate::rpc::msg::plausible_call(b, &|p| p == 100003)
    }

    fn collect(p: &mut RecordParser, chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, FrameRef::default(), &plausible, &mut |r, i| {
                if !i.partial {
                    out.push(r.to_vec())
                }
            });
        }
        out
    }

    #[test]
    fn single_fragment_records_zero_copy() {
        let mut s = rec(true, &call_body(1, 40));
        s.extend(rec(true, &call_body(2, 60)));
        let mut p = RecordParser::new(1 << 20, false);
        let out = collect(&mut p, &[&s]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].len(), 60);
        assert_eq!(p.buffered(), 0);
    }

    #[test]
    fn several_fragments_and_split_marks() {
        let body = call_body(3, 100);
        let mut s = rec(false, &body[..30]);
        s.extend(rec(false, &body[30..70]));
        s.extend(rec(true, &body[70..]));
        // feed one byte at a time: marks split across chunks
        let mut p = RecordParser::new(1 << 20, false);
        let chunks: Vec<&[u8]> = s.chunks(1).collect();
        let out = collect(&mut p, &chunks);
        assert_eq!(out, vec![body]);
        assert_eq!(p.counters.fragments, 3);
    }

    #[test]
    fn a_record_split_over_segments_leaves_no_buffer_behind() {
        let body = call_body(6, 300);
        let s = rec(true, &body);
        let mut p = RecordParser::new(1 << 20, false);
        let mut out = Vec::new();
        p.feed(&s[..100], FrameRef::default(), &plausible, &mut |r, _| out.push(r.to_vec()));
        assert!(out.is_empty());
        // The fragment's room was taken at once, not grown piece by piece.
        assert_eq!(p.buf.capacity(), 300);
        p.feed(&s[100..], FrameRef::default(), &plausible, &mut |r, _| out.push(r.to_vec()));
        assert_eq!(out, vec![body]);
        assert_eq!(p.buf.capacity(), 0, "an idle connection holds no buffer");
    }

    #[test]
    fn oversized_record_skipped_not_buffered() {
        let mut s = rec(true, &call_body(4, 5000));
        s.extend(rec(true, &call_body(5, 50)));
        let mut p = RecordParser::new(1000, false);
        let out = collect(&mut p, &[&s[..2000], &s[2000..]]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0][3], 5);
        assert_eq!(p.counters.oversized, 1);
        assert!(p.buf.capacity() < 5000);
        // the oversized record's head is still handed on, marked partial
        let mut q = RecordParser::new(1000, false);
        let mut heads = Vec::new();
        q.feed(&s, FrameRef { file: 0, frame: 7, ts: 0 }, &plausible, &mut |r, i| heads.push((r.len(), i.partial, i.at.frame)));
        assert_eq!(heads, vec![(HEAD_KEEP, true, 7), (50, false, 7)]);
    }

    #[test]
    fn gap_inside_fragment_keeps_step() {
        let a = rec(true, &call_body(6, 200));
        let b = rec(true, &call_body(7, 40));
        let mut p = RecordParser::new(1 << 20, false);
        let mut out = collect(&mut p, &[&a[..50]]);
        p.gap(100, &mut |_, _| panic!("stays in step"));
        out.extend(collect(&mut p, &[&a[150..], &b]));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0][3], 7);
        assert_eq!(p.counters.damaged, 1);
        assert_eq!(p.counters.resyncs, 0);
    }

    #[test]
    fn gap_across_records_resyncs_by_hunting() {
        let a = rec(true, &call_body(8, 200));
        let b = rec(true, &call_body(9, 40));
        let c = rec(true, &call_body(10, 44));
        let mut p = RecordParser::new(1 << 20, false);
        let mut out = collect(&mut p, &[&a[..20]]);
        let mut partial = Vec::new();
        p.gap(500, &mut |r, i| partial.push((r.to_vec(), i.partial)));
        assert_eq!(partial, vec![(a[4..20].to_vec(), true)]);
        // resume in the middle of junk, then b and c (b's mark split across chunks)
        let mut tail = vec![0x11u8; 37];
        tail.extend_from_slice(&b[..2]);
        out.extend(collect(&mut p, &[&tail, &b[2..], &c]));
        assert_eq!(out.iter().map(|r| r[3]).collect::<Vec<_>>(), vec![9, 10]);
        assert_eq!(p.counters.resyncs, 1);
        assert_eq!(p.counters.hunted_bytes, 37);
    }

    #[test]
    fn midstream_start_hunts() {
        let a = rec(true, &call_body(11, 100));
        let b = rec(true, &call_body(12, 48));
        let mut s = a[30..].to_vec();
        s.extend_from_slice(&b);
        let mut p = RecordParser::new(1 << 20, true);
        let out = collect(&mut p, &[&s]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0][3], 12);
        // not RPC at all: hunting consumes and counts everything
        let mut q = RecordParser::new(1 << 20, true);
        assert!(collect(&mut q, &[&[0x42; 5000]]).is_empty());
        assert!(q.hunted_run() >= 5000 - HUNT_WINDOW as u64);
    }
}
