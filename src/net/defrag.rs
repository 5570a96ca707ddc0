//! IPv4 and IPv6 fragment reassembly, on etherparse's defragmentation pool, with an
//! age limit and a cap on packets under reassembly.

use super::Ts;
use etherparse::defrag::{IpDefragPayloadVec, IpDefragPool};
use etherparse::SlicedPacket;
use std::cell::Cell;

/// Fragments of a packet not completed within this time are dropped.
const MAX_AGE_NS: Ts = 30_000_000_000;

pub struct Defrag {
    pool: IpDefragPool<Ts, ()>,
    since_sweep: u32,
    /// Packets under reassembly, as of the last sweep.
    pending: usize,
    pub cap: usize,
    /// Packets given up: expired, over the cap, or inconsistent fragments.
    pub dropped: u64,
    pub reassembled: u64,
}

pub enum DefragResult {
    /// Not a fragment: use the packet as it is.
    Whole,
    /// A fragment, held until its packet is complete.
    Held,
    /// The last missing fragment: here is the whole transport payload.
    Done(IpDefragPayloadVec),
}

impl Defrag {
    pub fn new(cap: usize) -> Self {
        Defrag { pool: IpDefragPool::new(), since_sweep: 0, pending: 0, cap, dropped: 0, reassembled: 0 }
    }

    pub fn process(&mut self, p: &SlicedPacket<'_>, ts: Ts) -> DefragResult {
        if !is_fragment(p) {
            return DefragResult::Whole;
        }
        self.since_sweep += 1;
        if self.since_sweep >= 64 || self.pending >= self.cap {
            self.sweep(ts);
        }
        match self.pool.process_sliced_packet(p, ts, ()) {
            Ok(Some(v)) => {
                self.reassembled += 1;
                self.pending = self.pending.saturating_sub(1);
                DefragResult::Done(v)
            }
            Ok(None) => {
                self.pending += 1;
                DefragResult::Held
            }
            Err(_) => {
                self.dropped += 1;
                DefragResult::Held
            }
        }
    }

    /// Give back a finished buffer so the pool can reuse its allocation.
    pub fn recycle(&mut self, v: IpDefragPayloadVec) {
        self.pool.return_buf(v);
    }

    fn count(&mut self) -> usize {
        let n = Cell::new(0usize);
        self.pool.retain(|_| {
            n.set(n.get() + 1);
            true
        });
        n.get()
    }

    fn sweep(&mut self, now: Ts) {
        self.since_sweep = 0;
        let before = self.count();
        let mut max_age = MAX_AGE_NS;
        loop {
            self.pool.retain(|t| now.saturating_sub(*t) <= max_age);
            self.pending = self.count();
            if self.pending < self.cap || max_age < 0 {
                break;
            }
            // Over the cap: tighten the age limit until it fits.
            max_age = if max_age > 4_000_000 { max_age / 4 } else { -1 };
        }
        self.dropped += (before - self.pending) as u64;
    }

    /// Packets still incomplete (counted as dropped at the end of the input).
    pub fn finish(&mut self) {
        self.sweep(i64::MAX);
    }
}

fn is_fragment(p: &SlicedPacket<'_>) -> bool {
    use etherparse::NetSlice;
    match &p.net {
        Some(NetSlice::Ipv4(v4)) => v4.header().is_fragmenting_payload(),
        Some(NetSlice::Ipv6(v6)) => v6.is_payload_fragmented(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{IpFragOffset, IpHeaders, IpNumber, Ipv4Header, PacketBuilder};

    fn v4_fragment(id: u16, offset8: u16, more: bool, payload: &[u8]) -> Vec<u8> {
        let mut h = Ipv4Header::new(payload.len() as u16, 64, IpNumber::UDP, [10, 0, 0, 1], [10, 0, 0, 2]).unwrap();
        h.identification = id;
        h.more_fragments = more;
        h.fragment_offset = IpFragOffset::try_new(offset8).unwrap();
        let mut v = Vec::new();
        h.write(&mut v).unwrap();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn ipv4_fragments_out_of_order() {
        // UDP header (8) + 16 bytes payload, split in 2 fragments of 16 and 8 bytes
        let mut udp = vec![0x03, 0x20, 0x08, 0x01, 0, 24, 0, 0];
        udp.extend_from_slice(&[7u8; 16]);
        let f1 = v4_fragment(77, 0, true, &udp[..16]);
        let f2 = v4_fragment(77, 2, false, &udp[16..]);
        let mut d = Defrag::new(16);
        let p2 = SlicedPacket::from_ip(&f2).unwrap();
        assert!(matches!(d.process(&p2, 1), DefragResult::Held));
        let p1 = SlicedPacket::from_ip(&f1).unwrap();
        match d.process(&p1, 2) {
            DefragResult::Done(v) => {
                assert_eq!(v.payload, udp);
                d.recycle(v);
            }
            _ => panic!("not reassembled"),
        }
        let whole = {
            let mut v = Vec::new();
            PacketBuilder::ipv4([1; 4], [2; 4], 9).udp(1, 2).write(&mut v, &[1]).unwrap();
            v
        };
        assert!(matches!(d.process(&SlicedPacket::from_ip(&whole).unwrap(), 3), DefragResult::Whole));
    }

    #[test]
    fn ipv6_fragments() {
        let mut udp = vec![0x03, 0x20, 0x08, 0x01, 0, 24, 0, 0];
        udp.extend_from_slice(&[5u8; 16]);
        let frag = |off8: u16, more: bool, data: &[u8]| {
            let ext = etherparse::Ipv6FragmentHeader::new(IpNumber::UDP, IpFragOffset::try_new(off8).unwrap(), more, 99);
            let mut exts = etherparse::Ipv6Extensions::default();
            exts.fragment = Some(ext);
            let hdr = IpHeaders::Ipv6(
                etherparse::Ipv6Header {
                    source: [1; 16],
                    destination: [2; 16],
                    hop_limit: 9,
                    next_header: IpNumber::IPV6_FRAGMENTATION_HEADER,
                    payload_length: (8 + data.len()) as u16,
                    ..Default::default()
                },
                exts,
            );
            let mut v = Vec::new();
            hdr.write(&mut v).unwrap();
            v.extend_from_slice(data);
            v
        };
        let a = frag(0, true, &udp[..16]);
        let b = frag(2, false, &udp[16..]);
        let mut d = Defrag::new(16);
        assert!(matches!(d.process(&SlicedPacket::from_ip(&a).unwrap(), 1), DefragResult::Held));
        let r = d.process(&SlicedPacket::from_ip(&b).unwrap(), 2);
        let DefragResult::Done(v) = r else { panic!("not reassembled") };
        assert_eq!(v.payload, udp);
    }

    #[test]
    fn expiry_and_cap_count_drops() {
        let mut d = Defrag::new(4);
        for id in 0..10u16 {
            let f = v4_fragment(id, 0, true, &[0u8; 16]);
            d.process(&SlicedPacket::from_ip(&f).unwrap(), id as i64);
        }
        assert!(d.pending <= 5, "pending {}", d.pending);
        d.finish();
        assert_eq!(d.dropped, 10);
    }
}
