//! Link and network layers, IP defragmentation and TCP reassembly.

pub mod bounded;
pub mod byip;
pub mod chunked;
pub mod defrag;
pub mod link;
pub mod roce;
pub mod tcp;

use serde::Serialize;

/// Hash maps and sets keyed by what the wire carries (addresses, ports, xids, handles,
/// owners): a fast hasher, seeded per process so that crafted traffic cannot aim at
/// collisions. Create them with `Default::default()`.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// The entries of a map (a hash map, or [`byip::ByIp`]) in key order, for wherever the
/// order shows (reports, journal events).
pub fn sorted<'a, K: Ord + 'a, V: 'a>(m: impl IntoIterator<Item = (&'a K, &'a V)>) -> Vec<(&'a K, &'a V)> {
    let mut v: Vec<(&K, &V)> = m.into_iter().collect();
    v.sort_unstable_by(|a, b| a.0.cmp(b.0));
    v
}

/// The keys of the entries that `keep` accepts, in key order.
pub fn sorted_keys<K: Ord + Copy, V>(m: &FastMap<K, V>, keep: impl Fn(&V) -> bool) -> Vec<K> {
    let mut v: Vec<K> = m.iter().filter(|(_, x)| keep(x)).map(|(k, _)| *k).collect();
    v.sort_unstable();
    v
}
use std::fmt;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
    /// RPC over RDMA (RoCEv2).
    Rdma,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Rdma => "rdma",
        })
    }
}

/// One end of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

impl Endpoint {
    /// The address and port folded into one word for hashing (equal endpoints give
    /// equal words; IPv4 and IPv6 spaces may meet, which equality sorts out).
    #[inline]
    pub fn word(&self) -> u64 {
        let ip = match self.ip {
            IpAddr::V4(a) => u64::from(a.to_bits()),
            IpAddr::V6(a) => {
                let v = a.to_bits();
                (v as u64) ^ ((v >> 64) as u64).rotate_left(29)
            }
        };
        ip << 16 ^ ip >> 48 ^ u64::from(self.port)
    }
}

/// One write per endpoint instead of one per field: these keys are hashed for every
/// packet and every RPC message.
impl std::hash::Hash for Endpoint {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.word());
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // tcpdump style: address.port
        write!(f, "{}.{}", self.ip, self.port)
    }
}

/// A directional flow: who sent a segment or datagram to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    pub src: Endpoint,
    pub dst: Endpoint,
    pub transport: Transport,
}

impl std::hash::Hash for FlowKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.src.word());
        h.write_u64(self.dst.word() ^ self.transport as u64);
    }
}

impl FlowKey {
    pub fn reversed(&self) -> FlowKey {
        FlowKey { src: self.dst, dst: self.src, transport: self.transport }
    }
}

/// Nanoseconds since the Unix epoch.
pub type Ts = i64;

/// Where a frame came from: the input file (index into the list of inputs) and its
/// 1-based frame number within that file, with its timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameRef {
    pub file: u16,
    pub frame: u64,
    pub ts: Ts,
}

impl Serialize for FrameRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("file", &self.file)?;
        m.serialize_entry("frame", &self.frame)?;
        m.serialize_entry("ts", &(self.ts as f64 / 1e9))?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_maps_iterate_in_key_order_where_asked() {
        let mut m: FastMap<[u8; 12], u32> = FastMap::default();
        for i in 0..200u32 {
            let mut k = [0u8; 12];
            k[..4].copy_from_slice(&(i.wrapping_mul(2_654_435_761)).to_be_bytes());
            m.insert(k, i);
        }
        let keys: Vec<[u8; 12]> = sorted(&m).into_iter().map(|(k, _)| *k).collect();
        assert_eq!(keys.len(), 200);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let odd = sorted_keys(&m, |v| v % 2 == 1);
        assert_eq!(odd.len(), 100);
        assert!(odd.windows(2).all(|w| w[0] < w[1]) && odd.iter().all(|k| m[k] % 2 == 1));
    }
}
