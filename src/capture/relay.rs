//! Two threads over one input: the reader thread runs the pipeline up to call/reply
//! matching and hands each message across as its bytes and [`Envelope`]; the caller's
//! thread decodes the bodies and runs the sink. Messages reach the sink in the same
//! order, with the same content, as on one thread.
//!
//! Batches go through a bounded channel and come back empty to be refilled, so the
//! memory in flight is a few batches.

use crate::pipeline::{Envelope, NetEvent, Sink};
use crate::rpc::record;
use crate::rpc::Message;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Messages per batch.
const BATCH_ITEMS: usize = 1024;
/// Message bytes per batch (one larger message still makes a batch of its own).
const BATCH_BYTES: usize = 256 << 10;
/// Batches in flight between the threads.
const IN_FLIGHT: usize = 4;
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

/// The reader side: a sink that batches what the pipeline hands it.
pub struct Relay {
    batch: Batch,
    tx: SyncSender<Batch>,
    empties: Receiver<Batch>,
}

/// The sink side: opens the batches and feeds the real sink.
pub struct Unrelay {
    rx: Receiver<Batch>,
    empties: SyncSender<Batch>,
    bodies: bool,
}

/// A connected pair. `bodies`: whether message bodies are decoded on the sink side.
pub fn pair(bodies: bool) -> (Relay, Unrelay) {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    let (etx, erx) = sync_channel(IN_FLIGHT + 2);
    (Relay { batch: Batch::default(), tx, empties: erx }, Unrelay { rx, empties: etx, bodies })
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
        let mut next = self.empties.try_recv().unwrap_or_default();
        for v in next.owned.drain(..) {
            record::give_back(v);
        }
        let full = std::mem::replace(&mut self.batch, next);
        let _ = self.tx.send(full);
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
        for mut b in self.rx.iter() {
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
            let _ = self.empties.try_send(b);
        }
    }
}

fn open(sink: &mut dyn Sink, env: &Envelope, bytes: &[u8], bodies: bool) {
    // Borrowed where it lies: a `Message` is large, and moving it out costs a copy.
    if let Some(m) = &env.open(bytes, bodies) {
        sink.record(env, bytes, m);
    }
}
