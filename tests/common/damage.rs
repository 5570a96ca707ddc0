//! Real captures damaged the way a poor vantage point damages them.

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use std::collections::HashMap;
use std::net::IpAddr;

type Conn = (IpAddr, u16, IpAddr, u16);

/// The records of a classic little-endian pcap (the lab's), each with its 16-byte header.
pub fn records(src: &[u8]) -> Vec<&[u8]> {
    assert_eq!(src[..4], [0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= src.len() {
        let incl = u32::from_le_bytes(src[off + 8..off + 12].try_into().unwrap()) as usize;
        out.push(&src[off..off + 16 + incl]);
        off += 16 + incl;
    }
    out
}

fn addrs(net: &NetSlice<'_>) -> Option<(IpAddr, IpAddr)> {
    match net {
        NetSlice::Ipv4(v) => Some((v.header().source_addr().into(), v.header().destination_addr().into())),
        NetSlice::Ipv6(v) => Some((v.header().source_addr().into(), v.header().destination_addr().into())),
        NetSlice::Arp(_) => None,
    }
}

/// Only the client-to-server half of each TCP connection (the service port is the
/// lower one), each missing its second data segment and its FIN or RST: no
/// acknowledgment covers the hole and nothing closes the stream, so all that a
/// connection sent after its hole stays held until the end of input. Returns the
/// capture and how many connections hold data.
pub fn one_side_with_holes(src: &[u8]) -> (Vec<u8>, usize) {
    let mut out = src[..24].to_vec();
    let mut data_segments: HashMap<Conn, usize> = HashMap::new();
    for rec in records(src) {
        let keep = match SlicedPacket::from_ethernet(&rec[16..]) {
            Ok(SlicedPacket { net: Some(net), transport: Some(TransportSlice::Tcp(t)), .. }) => {
                let (s, d) = addrs(&net).expect("IP");
                let (sp, dp) = (t.source_port(), t.destination_port());
                if dp > sp || t.fin() || t.rst() {
                    false
                } else if t.payload().is_empty() {
                    true
                } else {
                    let n = data_segments.entry((s, sp, d, dp)).or_default();
                    *n += 1;
                    *n != 2
                }
            }
            _ => true,
        };
        if keep {
            out.extend_from_slice(rec);
        }
    }
    (out, data_segments.values().filter(|&&n| n > 2).count())
}

/// The same capture with the fractions of its timestamps dropped (whole seconds).
pub fn whole_seconds(src: &[u8]) -> Vec<u8> {
    let mut out = src[..24].to_vec();
    for rec in records(src) {
        out.extend_from_slice(&rec[..4]);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&rec[8..]);
    }
    out
}
