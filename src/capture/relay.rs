//! Two threads over one input: the reader thread runs the pipeline up to call/reply
//! matching and hands each message across as its bytes and [`Envelope`]; the caller's
//! thread decodes the bodies and runs the sink. Messages reach the sink in the same
//! order, with the same content, as on one thread.
//!
//! Batches go through a bounded queue and come back empty to be refilled, so the
//! memory in flight is a few batches. When the queue is full the reader sleeps until
//! the sink has taken half of it, not just one batch: waking a thread costs more than
//! a batch takes to fill, and the reader then sleeps once per few batches.

use crate::pipeline::{Envelope, NetEvent, Sink};
use crate::rpc::record;
use crate::rpc::Message;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Messages per batch.
///
/// Batches are kept small so that all of them in flight, with their messages, fit in a
/// core's L2 cache: the sink then reads what the reader just wrote from cache. Four
/// times larger batches (3 MB in flight) cost both threads about a tenth more time.
const BATCH_ITEMS: usize = 256;
/// Message bytes per batch (one larger message still makes a batch of its own).
const BATCH_BYTES: usize = 64 << 10;
/// Batches in flight between the threads.
const IN_FLIGHT: usize = 6;
/// A reader waiting for room is woken when the queue is down to this many.
const WAKE_AT: usize = IN_FLIGHT / 2;
/// A batch whose byte buffer grew past this (a large record) gives the memory back.
const KEEP_BYTES: usize = 4 << 20;

enum Item {
    Msg { env: Envelope, start: usize, end: usize },
    /// A message gathered from several segments, in its own buffer (`owned[i]`).
    Owned { env: Envelope, i: usize },
    Net(NetEvent),
}

#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    items: Vec<Item>,
    /// Record buffers taken from the reader's record parsers: they come back with the
    /// emptied batch, to gather later records in.
    owned: Vec<Vec<u8>>,
    owned_bytes: usize,
}

/// The queue between the threads and the emptied batches coming back.
#[derive(Default)]
struct Queue {
    full: VecDeque<Batch>,
    empties: Vec<Batch>,
    /// The reader side is gone: nothing more will come.
    done: bool,
    /// The sink side is gone: what is sent is dropped.
    closed: bool,
}

#[derive(Default)]
struct Shared {
    q: Mutex<Queue>,
    /// Signalled when the queue gets its first batch, or the reader is done.
    filled: Condvar,
    /// Signalled when the queue is down to [`WAKE_AT`], or the sink is gone.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic on the other thread is reported by its join; the queue stays usable.
        self.q.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The reader side: a sink that batches what the pipeline hands it.
pub struct Relay {
    batch: Batch,
    shared: Arc<Shared>,
}

/// The sink side: opens the batches and feeds the real sink.
pub struct Unrelay {
    shared: Arc<Shared>,
    bodies: bool,
}

/// A connected pair. `bodies`: whether message bodies are decoded on the sink side.
pub fn pair(bodies: bool) -> (Relay, Unrelay) {
    let shared = Arc::new(Shared::default());
    (Relay { batch: Batch::default(), shared: shared.clone() }, Unrelay { shared, bodies })
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.lock().done = true;
        self.shared.filled.notify_one();
    }
}

impl Drop for Unrelay {
    fn drop(&mut self) {
        let mut q = self.shared.lock();
        q.closed = true;
        q.full.clear();
        drop(q);
        self.shared.room.notify_one();
    }
}

impl Relay {
    fn push(&mut self, item: Item) {
        self.batch.items.push(item);
        if self.batch.items.len() >= BATCH_ITEMS || self.batch.bytes.len() + self.batch.owned_bytes >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Send what is batched. A closed sink side (it stopped early) drops it.
    pub fn flush(&mut self) {
        if self.batch.items.is_empty() {
            return;
        }
        let sh = &*self.shared;
        let mut q = sh.lock();
        while q.full.len() >= IN_FLIGHT && !q.closed {
            q = sh.room.wait(q).unwrap_or_else(|e| e.into_inner());
        }
        let mut next = q.empties.pop().unwrap_or_default();
        let full = std::mem::take(&mut self.batch);
        let first = q.full.is_empty();
        if !q.closed {
            q.full.push_back(full);
        }
        drop(q);
        if first {
            sh.filled.notify_one();
        }
        for v in next.owned.drain(..) {
            record::give_back(v);
        }
        self.batch = next;
    }
}

impl Sink for Relay {
    fn message(&mut self, _m: &Message<'_>) {}

    fn net_event(&mut self, e: &NetEvent) {
        self.push(Item::Net(*e));
    }

    fn bodies(&self) -> bool {
        false
    }

    fn record(&mut self, env: &Envelope, bytes: &[u8], _m: &Message<'_>) {
        self.envelope(env, bytes);
    }

    fn envelopes_only(&self) -> bool {
        true
    }

    fn envelope(&mut self, env: &Envelope, bytes: &[u8]) {
        let start = self.batch.bytes.len();
        self.batch.bytes.extend_from_slice(bytes);
        self.push(Item::Msg { env: *env, start, end: start + bytes.len() });
    }

    fn envelope_gathered(&mut self, env: &Envelope, buf: &mut Vec<u8>) {
        let b = &mut self.batch;
        b.owned_bytes += buf.len();
        b.owned.push(std::mem::take(buf));
        let i = b.owned.len() - 1;
        self.push(Item::Owned { env: *env, i });
    }
}

impl Unrelay {
    /// Feed everything relayed into `sink`, until the reader side is dropped.
    pub fn drain(&self, sink: &mut dyn Sink) {
        let sh = &*self.shared;
        while let Some(mut b) = self.take() {
            for item in &b.items {
                match item {
                    Item::Net(e) => sink.net_event(e),
                    Item::Msg { env, start, end } => open(sink, env, &b.bytes[*start..*end], self.bodies),
                    Item::Owned { env, i } => open(sink, env, &b.owned[*i], self.bodies),
                }
            }
            b.items.clear();
            b.owned_bytes = 0;
            b.bytes.clear();
            if b.bytes.capacity() > KEEP_BYTES {
                b.bytes = Vec::new();
            }
            let mut q = sh.lock();
            if q.empties.len() < IN_FLIGHT + 2 {
                q.empties.push(b);
            }
        }
    }

    /// The next batch, waiting for one; `None` once the reader is done and all is taken.
    fn take(&self) -> Option<Batch> {
        let sh = &*self.shared;
        let mut q = sh.lock();
        loop {
            if let Some(b) = q.full.pop_front() {
                let wake = q.full.len() == WAKE_AT;
                drop(q);
                if wake {
                    sh.room.notify_one();
                }
                return Some(b);
            }
            if q.done {
                return None;
            }
            q = sh.filled.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }
}

fn open(sink: &mut dyn Sink, env: &Envelope, bytes: &[u8], bodies: bool) {
    // Borrowed where it lies: a `Message` is large, and moving it out costs a copy.
    if let Some(m) = &env.open(bytes, bodies) {
        sink.record(env, bytes, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Endpoint, FlowKey, FrameRef, Transport};

    fn gap(n: u64) -> NetEvent {
        let ep = |port| Endpoint { ip: "10.0.0.1".parse().unwrap(), port };
        NetEvent::Gap { flow: FlowKey { src: ep(800), dst: ep(2049), transport: Transport::Tcp }, at: FrameRef { file: 0, frame: n, ts: 0 }, bytes: n }
    }

    /// Records the gaps it is given, slowly, so that the reader side fills the queue.
    #[derive(Default)]
    struct Slow(Vec<u64>);

    impl Sink for Slow {
        fn message(&mut self, _m: &Message<'_>) {}
        fn net_event(&mut self, e: &NetEvent) {
            if let NetEvent::Gap { bytes, .. } = e {
                self.0.push(*bytes);
                if self.0.len() % 512 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
    }

    #[test]
    fn everything_arrives_in_order_through_a_full_queue() {
        let (mut relay, unrelay) = pair(false);
        let n = (IN_FLIGHT as u64 * 4 + 3) * BATCH_ITEMS as u64 + 17;
        let mut sink = Slow::default();
        std::thread::scope(|s| {
            s.spawn(move || {
                for i in 0..n {
                    relay.net_event(&gap(i));
                }
                relay.flush();
            });
            unrelay.drain(&mut sink);
        });
        assert_eq!(sink.0.len() as u64, n);
        assert!(sink.0.iter().enumerate().all(|(i, &b)| b == i as u64), "in order");
    }

    #[test]
    fn a_reader_waiting_for_room_is_let_go_when_the_sink_side_goes() {
        let (mut relay, unrelay) = pair(false);
        std::thread::scope(|s| {
            let reader = s.spawn(move || {
                // More than the queue holds: with nobody draining, this waits for room.
                for i in 0..(IN_FLIGHT as u64 + 2) * BATCH_ITEMS as u64 {
                    relay.net_event(&gap(i));
                }
                relay.flush();
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(unrelay);
            reader.join().expect("the reader finishes");
        });
    }
}
