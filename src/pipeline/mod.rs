//! From frames to decoded RPC messages: link → IP (defragmented) → TCP reassembly or
//! UDP → record marking → RPC header → call/reply matching → protocol decoders.
//!
//! Pure: frames come in as bytes, messages go out to a [`Sink`]. Every table has a
//! cap, and what a cap drops is counted in [`Counters`].

mod message;

pub use message::{Envelope, Facts};
use message::{known_prog, Core};

use crate::net::defrag::{Defrag, DefragResult};
use crate::net::link::{self, LinkError, LinkType, TcpUdp};
use crate::net::roce::{Roce, Roce2, ROCE_V2_PORT};
use crate::net::tcp::{Chunk, TcpCounters, TcpStream};
use crate::net::{Endpoint, FastMap, FastSet, FlowKey, FrameRef, Transport, Ts};
use crate::proto;
use crate::rpc::matcher::{MatchCounters, Matcher};
use crate::rpc::msg;
use crate::rpc::record::{RecBytes, RecordCounters, RecordParser};
use crate::rpc::Message;
use etherparse::{NetSlice, SlicedPacket, TcpSlice, TransportSlice, UdpSlice};
use serde::Serialize;
use std::net::IpAddr;

/// Limits; the defaults suit a capture of a busy NFS server on a small machine.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest RPC record buffered (bytes); larger ones are skipped and counted.
    pub record_cap: u32,
    /// Most TCP/UDP flows tracked at once.
    pub flow_cap: usize,
    /// Most calls awaiting or recently matched to replies.
    pub xid_cap: usize,
    /// Out-of-order bytes held per TCP direction.
    pub ooo_cap: usize,
    /// Out-of-order bytes held over all flows.
    pub ooo_total_cap: usize,
    /// IP packets under reassembly.
    pub frag_cap: usize,
    /// Decode procedure arguments and results (off: headers only).
    pub decode_bodies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            record_cap: 16 << 20,
            flow_cap: 65_536,
            xid_cap: 262_144,
            ooo_cap: 4 << 20,
            ooo_total_cap: 64 << 20,
            frag_cap: 4096,
            decode_bodies: true,
        }
    }
}

/// Network events besides RPC messages, for the evidence-health checks.
#[derive(Debug, Clone, Copy)]
pub enum NetEvent {
    /// Bytes of a TCP direction that were never captured.
    Gap { flow: FlowKey, at: FrameRef, bytes: u64 },
    /// A TCP reset.
    Reset { flow: FlowKey, at: FrameRef },
    /// A TCP connection opened (SYN without ACK).
    Open { flow: FlowKey, at: FrameRef },
    /// A TCP FIN: the sender closed its side.
    Close { flow: FlowKey, at: FrameRef },
}

/// Where decoded messages go.
pub trait Sink {
    fn message(&mut self, m: &Message<'_>);
    fn net_event(&mut self, _e: &NetEvent) {}
    /// Whether this sink reads message bodies. A relay that carries messages to another
    /// thread says no: their bodies are decoded there, from the bytes.
    fn bodies(&self) -> bool {
        true
    }
    /// A message with its envelope and the bytes it was read from.
    fn record(&mut self, _env: &Envelope, _bytes: &[u8], m: &Message<'_>) {
        self.message(m)
    }
    /// Whether this sink takes messages as their envelope and bytes only ([`Sink::envelope`]),
    /// as a relay does: then the pipeline builds no message for it unless it learns
    /// from the message itself.
    fn envelopes_only(&self) -> bool {
        false
    }
    /// A message as its envelope and bytes (for sinks with [`Sink::envelopes_only`]).
    fn envelope(&mut self, _env: &Envelope, _bytes: &[u8]) {}
    /// The same for a message gathered from several segments: the sink may take the
    /// buffer (leaving it empty) instead of copying the bytes.
    fn envelope_gathered(&mut self, env: &Envelope, buf: &mut Vec<u8>) {
        self.envelope(env, buf)
    }
}

/// The pipeline's own counters, reported by `stats` and with every verdict.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Counters {
    pub frames: u64,
    pub bytes: u64,
    /// Frames that are not IP (ARP, …) or not TCP/UDP.
    pub not_ip: u64,
    /// Frames whose headers could not be taken apart.
    pub malformed_frames: u64,
    /// Frames cut short by the snap length.
    pub truncated_frames: u64,
    pub ip_fragments: u64,
    pub ip_reassembled: u64,
    pub ip_fragments_dropped: u64,
    pub tcp_segments: u64,
    pub udp_datagrams: u64,
    pub tcp_gaps: u64,
    pub tcp_gap_bytes: u64,
    pub tcp_retransmitted_bytes: u64,
    pub tcp_out_of_order: u64,
    pub records: u64,
    pub records_oversized: u64,
    pub records_damaged: u64,
    pub resyncs: u64,
    pub hunted_bytes: u64,
    pub rpc_calls: u64,
    pub rpc_replies: u64,
    pub retransmitted_calls: u64,
    pub duplicate_replies: u64,
    pub orphan_replies: u64,
    pub unanswered_calls: u64,
    pub xid_table_evicted: u64,
    pub malformed_rpc: u64,
    /// Partial records (cut by a gap or the size cap) whose header could not be read.
    pub partial_unreadable: u64,
    /// Incomplete records handed on for their RPC headers.
    pub partial_records: u64,
    /// RoCEv2 packets (RPC over RDMA is decoded from their SENDs).
    pub rdma_frames: u64,
    pub flows: u64,
    pub flows_evicted: u64,
    pub not_rpc_flows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Not decided yet: hunting for an RPC call.
    Unknown,
    Rpc,
    NotRpc,
}

struct Flow {
    tcp: TcpStream,
    rec: RecordParser,
    role: Role,
    last_seen: Ts,
}

/// Both directions of a TCP conversation, found with one lookup. The key is the flow
/// key of direction 0, whose source sorts before its destination.
#[derive(Default)]
struct Conv {
    dirs: [Option<Flow>; 2],
}

/// The conversation key of a flow and the flow's direction in it.
fn conv_key(k: &FlowKey) -> (FlowKey, usize) {
    if k.src <= k.dst {
        (*k, 0)
    } else {
        (k.reversed(), 1)
    }
}


pub struct Pipeline {
    core: Core,
    flows: FastMap<FlowKey, Conv>,
    /// Directions tracked (each conversation holds one or two).
    n_flows: usize,
    defrag: Defrag,
    roce: Roce2,
    ooo_held: usize,
    tcp_done: TcpCounters,
    rec_done: RecordCounters,
    now: Ts,
}

impl Pipeline {
    pub fn new(cfg: Config) -> Self {
        let mut cb_progs = FastSet::default();
        cb_progs.insert(proto::NFS4_CB_DEFAULT);
        Pipeline {
            defrag: Defrag::new(cfg.frag_cap),
            core: Core { matcher: Matcher::new(cfg.xid_cap), learnt: FastMap::default(), cb_progs, counters: Counters::default(), cfg },
            flows: FastMap::default(),
            n_flows: 0,
            roce: Roce2::default(),
            ooo_held: 0,
            tcp_done: TcpCounters::default(),
            rec_done: RecordCounters::default(),
            now: 0,
        }
    }

    /// Feed one captured frame. `orig_len` is the length on the wire.
    pub fn frame(&mut self, link: LinkType, at: FrameRef, data: &[u8], orig_len: u32, sink: &mut dyn Sink) {
        let c = &mut self.core.counters;
        c.frames += 1;
        c.bytes += orig_len as u64;
        if (data.len() as u64) < orig_len as u64 {
            c.truncated_frames += 1;
        }
        self.now = at.ts;
        // Most frames: unfragmented IP carrying TCP or UDP, which `slice` would take apart
        // the same way. Everything else (fragments, other protocols, errors) goes below.
        if let Some(f) = link::slice_common(link, data) {
            match &f.transport {
                TcpUdp::Tcp(t) => self.tcp(f.src, f.dst, t, 0, at, sink),
                TcpUdp::Udp(u) => self.udp(f.src, f.dst, u.source_port(), u.destination_port(), u.payload(), false, at, sink),
            }
            return;
        }
        let sliced = match link::slice(link, data) {
            Ok(s) => s,
            Err(LinkError::NotIp) => {
                c.not_ip += 1;
                return;
            }
            Err(LinkError::Malformed(_)) => {
                if (data.len() as u64) < orig_len as u64 && self.cut_frame(link, at, data, orig_len, sink) {
                    return;
                }
                self.core.counters.malformed_frames += 1;
                return;
            }
        };
        let Some((src, dst)) = ip_addrs(&sliced) else {
            c.not_ip += 1;
            return;
        };
        match self.defrag.process(&sliced, at.ts) {
            DefragResult::Whole => match &sliced.transport {
                Some(TransportSlice::Tcp(t)) => self.tcp(src, dst, t, 0, at, sink),
                Some(TransportSlice::Udp(u)) => self.udp(src, dst, u.source_port(), u.destination_port(), u.payload(), false, at, sink),
                _ => self.core.counters.not_ip += 1,
            },
            DefragResult::Held => self.core.counters.ip_fragments += 1,
            DefragResult::Done(v) => {
                self.core.counters.ip_fragments += 1;
                match v.ip_number {
                    etherparse::IpNumber::UDP => match UdpSlice::from_slice(&v.payload) {
                        Ok(u) => self.udp(src, dst, u.source_port(), u.destination_port(), u.payload(), false, at, sink),
                        Err(_) => self.core.counters.malformed_frames += 1,
                    },
                    etherparse::IpNumber::TCP => match TcpSlice::from_slice(&v.payload) {
                        Ok(t) => self.tcp(src, dst, &t, 0, at, sink),
                        Err(_) => self.core.counters.malformed_frames += 1,
                    },
                    _ => self.core.counters.not_ip += 1,
                }
                self.defrag.recycle(v);
            }
        }
    }

    /// A frame cut short by the snapshot length: decode what was captured, and let
    /// TCP reassembly know how many bytes are missing.
    fn cut_frame(&mut self, link: LinkType, at: FrameRef, data: &[u8], orig_len: u32, sink: &mut dyn Sink) -> bool {
        use etherparse::LaxNetSlice;
        let Some(p) = link::slice_lax(link, data) else { return false };
        let (src, dst) = match &p.net {
            Some(LaxNetSlice::Ipv4(v4)) => (IpAddr::V4(v4.header().source_addr()), IpAddr::V4(v4.header().destination_addr())),
            Some(LaxNetSlice::Ipv6(v6)) => (IpAddr::V6(v6.header().source_addr()), IpAddr::V6(v6.header().destination_addr())),
            _ => return false,
        };
        let missing = orig_len - data.len() as u32;
        match &p.transport {
            Some(TransportSlice::Tcp(t)) => self.tcp(src, dst, t, missing, at, sink),
            Some(TransportSlice::Udp(u)) => self.udp(src, dst, u.source_port(), u.destination_port(), u.payload(), true, at, sink),
            _ => return false,
        }
        true
    }

    fn udp(&mut self, src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8], partial: bool, at: FrameRef, sink: &mut dyn Sink) {
        self.core.counters.udp_datagrams += 1;
        if dport == ROCE_V2_PORT {
            self.core.counters.rdma_frames += 1;
            // RPC over RDMA has no ports of its own: both ends are the RoCE port.
            let ep = |ip| Endpoint { ip, port: ROCE_V2_PORT };
            let key = FlowKey { src: ep(src), dst: ep(dst), transport: Transport::Rdma };
            match self.roce.packet(src, dst, payload) {
                Roce::Rpc { msg, partial: p } => self.core.record(&key, at, RecBytes::Lent(msg), p || partial, sink),
                Roce::RpcOwned { mut msg, partial: p } => self.core.record(&key, at, RecBytes::Gathered(&mut msg), p || partial, sink),
                Roce::Other => {}
                Roce::Malformed => self.core.counters.malformed_rpc += 1,
            }
            return;
        }
        let key = FlowKey { src: Endpoint { ip: src, port: sport }, dst: Endpoint { ip: dst, port: dport }, transport: Transport::Udp };
        let core = &mut self.core;
        if payload.len() < 8 {
            return;
        }
        let rpc = core.is_rpc_port(&key)
            || msg::plausible_call(payload, &|p| known_prog(p, &core.cb_progs))
            || (msg::plausible_reply(payload) && core.reply_pending(&key, payload));
        if rpc {
            core.record(&key, at, RecBytes::Lent(payload), partial, sink);
        }
    }

    /// `missing`: payload bytes the snapshot length cut off this segment.
    fn tcp(&mut self, src: IpAddr, dst: IpAddr, t: &TcpSlice<'_>, missing: u32, at: FrameRef, sink: &mut dyn Sink) {
        self.core.counters.tcp_segments += 1;
        let key = FlowKey {
            src: Endpoint { ip: src, port: t.source_port() },
            dst: Endpoint { ip: dst, port: t.destination_port() },
            transport: Transport::Tcp,
        };
        let (ck, d) = conv_key(&key);
        if !t.syn() && !t.rst() {
            // The common case: a segment of a known conversation, with one lookup.
            if let Some(conv) = self.flows.get_mut(&ck) {
                if conv.dirs[d].is_some() || t.payload().is_empty() {
                    let fed = feed(&mut self.core, &mut self.ooo_held, conv, d, &key, t, missing, at, sink);
                    if fed && t.fin() {
                        sink.net_event(&NetEvent::Close { flow: key, at });
                        self.close(&key, sink);
                    }
                    return;
                }
            }
        }
        if t.syn() && !t.ack() {
            sink.net_event(&NetEvent::Open { flow: key, at });
        }
        if t.ack() {
            if let Some(conv) = self.flows.get_mut(&ck) {
                ack(&mut self.core, &mut self.ooo_held, conv, d, &key, t, sink);
            }
        }
        if t.rst() {
            sink.net_event(&NetEvent::Reset { flow: key, at });
            self.close(&key, sink);
            self.close(&key.reversed(), sink);
            return;
        }
        if t.syn() {
            // A new connection on this 4-tuple replaces any old stream.
            self.close(&key, sink);
        }
        if !self.flows.get(&ck).is_some_and(|c| c.dirs[d].is_some()) {
            if t.payload().is_empty() && !t.syn() {
                return;
            }
            self.new_flow(key, t.syn());
        }
        let Some(conv) = self.flows.get_mut(&ck) else { return };
        let fed = data(&mut self.core, &mut self.ooo_held, conv, d, &key, t, missing, at, sink);
        if fed && t.fin() {
            sink.net_event(&NetEvent::Close { flow: key, at });
            self.close(&key, sink);
        }
    }

    fn new_flow(&mut self, key: FlowKey, syn: bool) {
        if self.n_flows >= self.core.cfg.flow_cap {
            self.evict();
        }
        self.core.counters.flows += 1;
        let known = self.core.is_rpc_port(&key);
        let (ck, d) = conv_key(&key);
        let conv = self.flows.entry(ck).or_default();
        let rev_rpc = conv.dirs[1 - d].as_ref().is_some_and(|f| f.role == Role::Rpc);
        let role = if known || rev_rpc { Role::Rpc } else { Role::Unknown };
        let hunting = !syn;
        let cap = if role == Role::NotRpc { 0 } else { self.core.cfg.record_cap };
        if conv.dirs[d].is_none() {
            self.n_flows += 1;
        }
        conv.dirs[d] = Some(Flow { tcp: TcpStream::new(), rec: RecordParser::new(cap, hunting || role == Role::Unknown), role, last_seen: self.now });
    }

    /// Flush and forget a TCP direction.
    fn close(&mut self, key: &FlowKey, sink: &mut dyn Sink) {
        let (ck, d) = conv_key(key);
        let Some(conv) = self.flows.get_mut(&ck) else { return };
        let Some(mut f) = conv.dirs[d].take() else { return };
        if conv.dirs[1 - d].is_none() {
            self.flows.remove(&ck);
        }
        self.n_flows -= 1;
        let core = &mut self.core;
        let held = f.tcp.held_bytes();
        let (rec, role) = (&mut f.rec, &mut f.role);
        let mut out = |c: Chunk<'_>, at: FrameRef| core.chunk(key, rec, role, at, c, sink);
        f.tcp.finish(&mut out);
        self.ooo_held = self.ooo_held.saturating_sub(held);
        self.retire(&f);
    }

    /// Every direction tracked, with its flow key.
    fn flows_iter(&self) -> impl Iterator<Item = (FlowKey, &Flow)> {
        self.flows.iter().flat_map(|(k, c)| {
            let k = *k;
            c.dirs.iter().enumerate().filter_map(move |(d, f)| f.as_ref().map(|f| (if d == 0 { k } else { k.reversed() }, f)))
        })
    }

    fn retire(&mut self, f: &Flow) {
        add_tcp(&mut self.tcp_done, &f.tcp.counters);
        add_rec(&mut self.rec_done, &f.rec.counters);
    }

    /// Make room in the flow table: drop flows idle for 5 minutes, else the oldest
    /// tenth. Their held data is flushed as gaps first. Flows last seen at the same
    /// moment go by endpoints, so that the same ones go on every run.
    fn evict(&mut self) {
        let horizon = self.now - 300_000_000_000;
        let mut idle: Vec<(Ts, FlowKey)> = self.flows_iter().map(|(k, f)| (f.last_seen, k)).collect();
        idle.sort_unstable_by_key(|(t, k)| (*t, k.src, k.dst, k.transport));
        let n_old = idle.iter().take_while(|(t, _)| *t < horizon).count();
        let n = n_old.max(self.n_flows / 10).max(1);
        let mut sink = NullSink;
        for (_, k) in idle.into_iter().take(n) {
            self.core.counters.flows_evicted += 1;
            self.close(&k, &mut sink);
        }
    }

    /// End of input: flush every flow and count what never completed.
    pub fn finish(&mut self, sink: &mut dyn Sink) {
        // Flows close in a fixed order (by endpoints), so that what they still hold
        // comes out the same way on every run.
        let mut keys: Vec<FlowKey> = self.flows_iter().map(|(k, _)| k).collect();
        keys.sort_unstable_by_key(|k| (k.src, k.dst, k.transport));
        for k in keys {
            self.close(&k, sink);
        }
        self.defrag.finish();
        self.core.matcher.finish();
    }

    /// The counters so far (complete after [`finish`](Self::finish)).
    pub fn counters(&self) -> Counters {
        let mut c = self.core.counters;
        let mut tcp = self.tcp_done;
        let mut rec = self.rec_done;
        for (_, f) in self.flows_iter() {
            add_tcp(&mut tcp, &f.tcp.counters);
            add_rec(&mut rec, &f.rec.counters);
        }
        c.tcp_gaps = tcp.gaps;
        c.tcp_gap_bytes = tcp.gap_bytes;
        c.tcp_retransmitted_bytes = tcp.retransmitted_bytes;
        c.tcp_out_of_order = tcp.out_of_order_segments;
        c.records = rec.records;
        c.records_oversized = rec.oversized;
        c.records_damaged = rec.damaged;
        c.resyncs = rec.resyncs;
        c.hunted_bytes = rec.hunted_bytes;
        c.partial_records = rec.partial;
        c.ip_reassembled = self.defrag.reassembled;
        c.ip_fragments_dropped = self.defrag.dropped;
        let m: MatchCounters = self.core.matcher.counters();
        c.rpc_calls = m.calls;
        c.rpc_replies = m.replies;
        c.retransmitted_calls = m.retransmitted_calls;
        c.duplicate_replies = m.duplicate_replies;
        c.orphan_replies = m.orphan_replies;
        c.unanswered_calls = m.unanswered_calls;
        c.xid_table_evicted = m.evicted;
        c
    }
}

/// The peer's acknowledgment: held data of the reverse direction that the peer
/// acknowledged past a hole is delivered.
fn ack(core: &mut Core, ooo_held: &mut usize, conv: &mut Conv, d: usize, key: &FlowKey, t: &TcpSlice<'_>, sink: &mut dyn Sink) {
    let Some(rev) = conv.dirs[1 - d].as_mut() else { return };
    let rkey = key.reversed();
    let before = rev.tcp.held_bytes();
    let (rec, role) = (&mut rev.rec, &mut rev.role);
    rev.tcp.peer_ack(t.acknowledgment_number(), &mut |c, at| core.chunk(&rkey, rec, role, at, c, sink));
    *ooo_held = ooo_held.saturating_sub(before - rev.tcp.held_bytes());
}

/// A segment of a known conversation (no SYN or RST): its ACK, then its data.
/// Returns whether the segment reached a live direction (and so whether a FIN closes it).
#[allow(clippy::too_many_arguments)]
fn feed(core: &mut Core, ooo_held: &mut usize, conv: &mut Conv, d: usize, key: &FlowKey, t: &TcpSlice<'_>, missing: u32, at: FrameRef, sink: &mut dyn Sink) -> bool {
    if t.ack() {
        ack(core, ooo_held, conv, d, key, t, sink);
    }
    data(core, ooo_held, conv, d, key, t, missing, at, sink)
}

/// The data of a segment of direction `d`.
#[allow(clippy::too_many_arguments)]
fn data(core: &mut Core, ooo_held: &mut usize, conv: &mut Conv, d: usize, key: &FlowKey, t: &TcpSlice<'_>, missing: u32, at: FrameRef, sink: &mut dyn Sink) -> bool {
    let budget = core.cfg.ooo_total_cap.saturating_sub(*ooo_held);
    let cap = core.cfg.ooo_cap.min(budget);
    // The other direction proved to be RPC: this one carries its replies.
    let rev_rpc = conv.dirs[1 - d].as_ref().is_some_and(|f| f.role == Role::Rpc);
    let Some(flow) = conv.dirs[d].as_mut() else { return false };
    flow.last_seen = at.ts;
    if flow.role == Role::NotRpc {
        return false;
    }
    if flow.role == Role::Unknown && rev_rpc {
        flow.role = Role::Rpc;
    }
    let before = flow.tcp.held_bytes();
    let (rec, role) = (&mut flow.rec, &mut flow.role);
    let mut out = |c: Chunk<'_>, at: FrameRef| core.chunk(key, rec, role, at, c, sink);
    flow.tcp.segment(t.sequence_number(), t.syn(), t.fin(), t.payload(), at, cap, &mut out);
    if missing > 0 && !t.syn() {
        flow.tcp.cut_short(t.sequence_number(), t.payload().len(), missing, at, &mut out);
    }
    let after = flow.tcp.held_bytes();
    *ooo_held = (*ooo_held + after).saturating_sub(before);
    if flow.role == Role::NotRpc {
        core.counters.not_rpc_flows += 1;
        let kept = flow.rec.counters;
        flow.rec = RecordParser::new(0, true);
        flow.rec.counters = kept;
    }
    true
}

struct NullSink;
impl Sink for NullSink {
    fn message(&mut self, _m: &Message<'_>) {}
}

fn add_tcp(a: &mut TcpCounters, b: &TcpCounters) {
    a.gaps += b.gaps;
    a.gap_bytes += b.gap_bytes;
    a.retransmitted_bytes += b.retransmitted_bytes;
    a.out_of_order_segments += b.out_of_order_segments;
}

fn add_rec(a: &mut RecordCounters, b: &RecordCounters) {
    a.records += b.records;
    a.fragments += b.fragments;
    a.oversized += b.oversized;
    a.damaged += b.damaged;
    a.hunted_bytes += b.hunted_bytes;
    a.resyncs += b.resyncs;
    a.partial += b.partial;
}

fn ip_addrs(p: &SlicedPacket<'_>) -> Option<(IpAddr, IpAddr)> {
    match &p.net {
        Some(NetSlice::Ipv4(v4)) => {
            let h = v4.header();
            Some((IpAddr::V4(h.source_addr()), IpAddr::V4(h.destination_addr())))
        }
        Some(NetSlice::Ipv6(v6)) => {
            let h = v6.header();
            Some((IpAddr::V6(h.source_addr()), IpAddr::V6(h.destination_addr())))
        }
        _ => None,
    }
}

