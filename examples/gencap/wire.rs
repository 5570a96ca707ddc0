//! Frames on the wire: a classic pcap writer (nanosecond timestamps, Ethernet), IPv4
//! TCP/UDP frames with correct checksums, and one TCP connection's sequence numbers.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

pub type Ts = i64;
pub const US: Ts = 1_000;
pub const MS: Ts = 1_000_000;
pub const SEC: Ts = 1_000_000_000;

/// Payload bytes per full TCP segment (Ethernet MTU, no TCP options).
pub const MSS: usize = 1460;

const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const ROUTER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];

pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// Writes a classic pcap file with nanosecond timestamps.
pub struct PcapWriter<W: Write> {
    w: W,
    pub packets: u64,
    pub bytes: u64,
    pub first: Ts,
    pub last: Ts,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut w: W) -> io::Result<Self> {
        w.write_all(&0xa1b2_3c4du32.to_le_bytes())?;
        w.write_all(&2u16.to_le_bytes())?;
        w.write_all(&4u16.to_le_bytes())?;
        w.write_all(&0u32.to_le_bytes())?; // thiszone
        w.write_all(&0u32.to_le_bytes())?; // sigfigs
        w.write_all(&262_144u32.to_le_bytes())?; // snaplen
        w.write_all(&1u32.to_le_bytes())?; // LINKTYPE_ETHERNET
        Ok(PcapWriter { w, packets: 0, bytes: 0, first: 0, last: 0 })
    }

    pub fn packet(&mut self, ts: Ts, data: &[u8]) -> io::Result<()> {
        let (s, ns) = (ts.div_euclid(SEC), ts.rem_euclid(SEC));
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(s as u32).to_le_bytes());
        h[4..8].copy_from_slice(&(ns as u32).to_le_bytes());
        h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&(data.len() as u32).to_le_bytes());
        self.w.write_all(&h)?;
        self.w.write_all(data)?;
        if self.packets == 0 {
            self.first = ts;
        }
        self.last = ts;
        self.packets += 1;
        self.bytes += data.len() as u64;
        Ok(())
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

struct Item {
    ts: Ts,
    seq: u64,
    frame: Vec<u8>,
}

impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        (self.ts, self.seq) == (o.ts, o.seq)
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.ts, self.seq).cmp(&(o.ts, o.seq))
    }
}

/// Frames waiting to be written, in timestamp order (ties in the order made).
#[derive(Default)]
pub struct Out {
    heap: BinaryHeap<Reverse<Item>>,
    seq: u64,
}

impl Out {
    pub fn push(&mut self, ts: Ts, frame: Vec<u8>) {
        self.seq += 1;
        self.heap.push(Reverse(Item { ts, seq: self.seq, frame }));
    }

    /// Write every frame stamped at or before `until`.
    pub fn flush<W: Write>(&mut self, until: Ts, w: &mut PcapWriter<W>) -> io::Result<()> {
        while self.heap.peek().is_some_and(|i| i.0.ts <= until) {
            let Some(Reverse(i)) = self.heap.pop() else { break };
            w.packet(i.ts, &i.frame)?;
        }
        Ok(())
    }
}

fn sum16(mut acc: u32, b: &[u8]) -> u32 {
    let mut chunks = b.chunks_exact(2);
    for c in &mut chunks {
        acc += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [x] = chunks.remainder() {
        acc += (*x as u32) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// An IPv4 endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ep {
    pub ip: [u8; 4],
    pub port: u16,
}

/// Ethernet + IPv4 header for `l4_len` bytes of transport data; the server's side has
/// its own MAC, clients sit behind a router.
fn eth_ip(src: Ep, dst: Ep, proto: u8, ip_id: u16, l4_len: usize, server: [u8; 4]) -> Vec<u8> {
    let mut f = Vec::with_capacity(34 + l4_len);
    let (smac, dmac) = if src.ip == server { (SERVER_MAC, ROUTER_MAC) } else { (ROUTER_MAC, SERVER_MAC) };
    f.extend_from_slice(&dmac);
    f.extend_from_slice(&smac);
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + l4_len) as u16;
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&src.ip);
    ip[16..20].copy_from_slice(&dst.ip);
    let c = fold(sum16(0, &ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f
}

fn pseudo(src: Ep, dst: Ep, proto: u8, len: usize) -> u32 {
    let mut acc = sum16(0, &src.ip);
    acc = sum16(acc, &dst.ip);
    acc + proto as u32 + len as u32
}

pub fn tcp_frame(src: Ep, dst: Ep, seq: u32, ack: u32, flags: u8, ip_id: u16, payload: &[u8], server: [u8; 4]) -> Vec<u8> {
    // SYNs carry the MSS option.
    let opts: &[u8] = if flags & SYN != 0 { &[2, 4, (MSS >> 8) as u8, MSS as u8] } else { &[] };
    let hlen = 20 + opts.len();
    let mut f = eth_ip(src, dst, 6, ip_id, hlen + payload.len(), server);
    let mut t = vec![0u8; hlen];
    t[0..2].copy_from_slice(&src.port.to_be_bytes());
    t[2..4].copy_from_slice(&dst.port.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    if flags & ACK != 0 {
        t[8..12].copy_from_slice(&ack.to_be_bytes());
    }
    t[12] = ((hlen / 4) as u8) << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&0xfff0u16.to_be_bytes());
    t[20..].copy_from_slice(opts);
    let acc = sum16(sum16(pseudo(src, dst, 6, hlen + payload.len()), &t), payload);
    let c = fold(acc);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&t);
    f.extend_from_slice(payload);
    f
}

pub fn udp_frame(src: Ep, dst: Ep, ip_id: u16, payload: &[u8], server: [u8; 4]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut f = eth_ip(src, dst, 17, ip_id, len, server);
    let mut u = [0u8; 8];
    u[0..2].copy_from_slice(&src.port.to_be_bytes());
    u[2..4].copy_from_slice(&dst.port.to_be_bytes());
    u[4..6].copy_from_slice(&(len as u16).to_be_bytes());
    let c = fold(sum16(sum16(pseudo(src, dst, 17, len), &u), payload));
    u[6..8].copy_from_slice(&(if c == 0 { 0xffff } else { c }).to_be_bytes());
    f.extend_from_slice(&u);
    f.extend_from_slice(payload);
    f
}

/// One TCP connection from a client to the server.
#[derive(Debug, Clone)]
pub struct Conn {
    pub client: Ep,
    pub server: Ep,
    /// Next sequence number each side sends.
    pub cseq: u32,
    pub sseq: u32,
    pub ip_id: u16,
    /// The server instance (boot) the connection was opened with.
    pub boot: u32,
    /// Data the client sent that the server never acknowledged (its instance died).
    pub lost: Option<(u32, Vec<u8>)>,
}

impl Conn {
    /// SYN, SYN-ACK, ACK starting at `t`; returns the connection and the time of the
    /// last frame.
    pub fn open(out: &mut Out, t: Ts, client: Ep, server: Ep, isn: u32, boot: u32) -> (Conn, Ts) {
        let sisn = isn.rotate_left(13) ^ 0x5bd1_e995;
        let mut c = Conn { client, server, cseq: isn, sseq: sisn, ip_id: (isn >> 16) as u16, boot, lost: None };
        let s = server.ip;
        out.push(t, tcp_frame(client, server, isn, 0, SYN, c.next_id(), &[], s));
        out.push(t + 60 * US, tcp_frame(server, client, sisn, isn.wrapping_add(1), SYN | ACK, 0, &[], s));
        out.push(t + 120 * US, tcp_frame(client, server, isn.wrapping_add(1), sisn.wrapping_add(1), ACK, c.next_id(), &[], s));
        c.cseq = isn.wrapping_add(1);
        c.sseq = sisn.wrapping_add(1);
        (c, t + 120 * US)
    }

    fn next_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    /// The client sends `data` (split into segments, PSH on the last) from `t`; the
    /// server acknowledges every second full segment unless `quiet`. Returns the time
    /// of the last frame.
    pub fn client_send(&mut self, out: &mut Out, mut t: Ts, data: &[u8], quiet: bool) -> Ts {
        let s = self.server.ip;
        let n = data.len().div_ceil(MSS);
        for (k, seg) in data.chunks(MSS).enumerate() {
            let last = k + 1 == n;
            let flags = ACK | if last { PSH } else { 0 };
            let id = self.next_id();
            out.push(t, tcp_frame(self.client, self.server, self.cseq, self.sseq, flags, id, seg, s));
            self.cseq = self.cseq.wrapping_add(seg.len() as u32);
            if !last && k % 2 == 1 && !quiet {
                t += 30 * US;
                out.push(t, tcp_frame(self.server, self.client, self.sseq, self.cseq, ACK, 0, &[], s));
            }
            t += 12 * US;
        }
        t
    }

    /// The server sends `data`; the client acknowledges every second full segment.
    pub fn server_send(&mut self, out: &mut Out, mut t: Ts, data: &[u8]) -> Ts {
        let s = self.server.ip;
        let n = data.len().div_ceil(MSS);
        for (k, seg) in data.chunks(MSS).enumerate() {
            let last = k + 1 == n;
            let flags = ACK | if last { PSH } else { 0 };
            out.push(t, tcp_frame(self.server, self.client, self.sseq, self.cseq, flags, 0, seg, s));
            self.sseq = self.sseq.wrapping_add(seg.len() as u32);
            if k % 2 == 1 {
                t += 25 * US;
                let id = self.next_id();
                out.push(t, tcp_frame(self.client, self.server, self.cseq, self.sseq, ACK, id, &[], s));
            }
            t += 12 * US;
        }
        t
    }

    /// A pure ACK from the client (a delayed ACK of the last reply).
    pub fn client_ack(&mut self, out: &mut Out, t: Ts) {
        let id = self.next_id();
        out.push(t, tcp_frame(self.client, self.server, self.cseq, self.sseq, ACK, id, &[], self.server.ip));
    }

    /// The client sends `data` into a dead server: the first try and retransmissions
    /// with exponential backoff until `until`. The data stays unacknowledged.
    pub fn client_send_lost(&mut self, out: &mut Out, t: Ts, data: &[u8], until: Ts) {
        let seq = self.cseq;
        let mut at = t;
        let mut rto = 200 * MS;
        while at < until {
            let mut c = self.clone();
            c.cseq = seq;
            c.client_send(out, at, data, true);
            self.ip_id = c.ip_id;
            at += rto;
            rto *= 2;
        }
        self.cseq = seq.wrapping_add(data.len() as u32);
        self.lost = Some((seq, data.to_vec()));
    }

    /// A restarted server answers a segment of a connection it no longer knows with a
    /// reset: the client retransmits what was lost (or sends `data`), the server
    /// resets. Returns the time of the reset.
    pub fn reset_by_new_instance(&mut self, out: &mut Out, t: Ts, data: &[u8]) -> Ts {
        let s = self.server.ip;
        let (seq, payload) = match self.lost.take() {
            Some((seq, d)) => (seq, d),
            None => (self.cseq, data.to_vec()),
        };
        let seg = &payload[..payload.len().min(MSS)];
        let id = self.next_id();
        out.push(t, tcp_frame(self.client, self.server, seq, self.sseq, ACK | PSH, id, seg, s));
        out.push(t + 70 * US, tcp_frame(self.server, self.client, self.sseq, 0, RST, 0, &[], s));
        t + 70 * US
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_verify() {
        let a = Ep { ip: [10, 1, 0, 5], port: 800 };
        let b = Ep { ip: [10, 0, 0, 1], port: 2049 };
        let f = tcp_frame(a, b, 1000, 2000, ACK | PSH, 7, b"hello", b.ip);
        // IP header sums to all ones, TCP segment with its pseudo header too
        assert_eq!(fold(sum16(0, &f[14..34])), 0);
        assert_eq!(fold(sum16(pseudo(a, b, 6, f.len() - 34), &f[34..])), 0);
        let u = udp_frame(b, a, 1, b"odd", b.ip);
        assert_eq!(fold(sum16(pseudo(b, a, 17, u.len() - 34), &u[34..])), 0);
        assert_eq!(u.len(), 14 + 20 + 8 + 3);
    }

    #[test]
    fn segments_and_acks_keep_sequence_numbers() {
        let mut out = Out::default();
        let a = Ep { ip: [10, 1, 0, 5], port: 800 };
        let b = Ep { ip: [10, 0, 0, 1], port: 2049 };
        let (mut c, t) = Conn::open(&mut out, 0, a, b, 100, 1);
        assert_eq!((c.cseq, c.sseq), (101, (100u32.rotate_left(13) ^ 0x5bd1_e995).wrapping_add(1)));
        let s0 = c.sseq;
        c.client_send(&mut out, t, &[0; 3000], false);
        c.server_send(&mut out, t, &[0; 100]);
        assert_eq!(c.cseq, 3101);
        assert_eq!(c.sseq, s0 + 100);
        // 3 handshake + 3 segments + 1 server ack + 1 reply
        assert_eq!(out.heap.len(), 8);
    }
}
