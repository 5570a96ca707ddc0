//! Link layers: strip the link header and hand the IP packet to etherparse.

use etherparse::{EtherType, LaxSlicedPacket, SlicedPacket};

/// The link types gracewatch reads (libpcap DLT_/LINKTYPE_ numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// DLT_NULL: 4-byte address family in the capturing host's byte order.
    Null,
    /// DLT_EN10MB (with 802.1Q VLAN and QinQ tags).
    Ethernet,
    /// DLT_RAW / LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6.
    RawIp,
    /// DLT_LOOP (OpenBSD loopback): address family in network byte order.
    Loop,
    /// LINKTYPE_LINUX_SLL.
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2.
    LinuxSll2,
}

impl LinkType {
    /// Map a libpcap link-type number; `None` for the ones not supported.
    pub fn from_dlt(dlt: i32) -> Option<LinkType> {
        Some(match dlt {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 | 228 | 229 => LinkType::RawIp,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }
}

/// Why a frame could not be taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// Not IP (ARP, LLDP, …): not an error, just not ours.
    NotIp,
    /// A header was cut short or invalid.
    Malformed(String),
}

/// Address families seen in DLT_NULL / DLT_LOOP headers for IPv6 (BSDs differ).
fn af_is_ipv6(af: u32) -> bool {
    matches!(af, 10 | 24 | 28 | 30)
}

/// Slice a frame of the given link type down to IP and transport.
pub fn slice(link: LinkType, data: &[u8]) -> Result<SlicedPacket<'_>, LinkError> {
    let r = match link {
        LinkType::Ethernet => SlicedPacket::from_ethernet(data),
        LinkType::LinuxSll => {
            // packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2)
            if data.len() < 16 {
                return Err(LinkError::Malformed("SLL header truncated".into()));
            }
            let proto = u16::from_be_bytes([data[14], data[15]]);
            ether_type(proto, &data[16..])?
        }
        LinkType::RawIp => SlicedPacket::from_ip(data),
        LinkType::LinuxSll2 => {
            // protocol type (2), reserved (2), ifindex (4), hatype (2), pkttype (1),
            // halen (1), address (8)
            if data.len() < 20 {
                return Err(LinkError::Malformed("SLL2 header truncated".into()));
            }
            let proto = u16::from_be_bytes([data[0], data[1]]);
            ether_type(proto, &data[20..])?
        }
        LinkType::Null | LinkType::Loop => {
            if data.len() < 4 {
                return Err(LinkError::Malformed("loopback header truncated".into()));
            }
            let raw = [data[0], data[1], data[2], data[3]];
            let (be, le) = (u32::from_be_bytes(raw), u32::from_le_bytes(raw));
            let af = if link == LinkType::Loop { be } else if be < 256 { be } else { le };
            if af == 2 || af_is_ipv6(af) {
                SlicedPacket::from_ip(&data[4..])
            } else {
                return Err(LinkError::NotIp);
            }
        }
    };
    r.map_err(|e| LinkError::Malformed(e.to_string()))
}

/// Take apart a frame cut short by the snapshot length: the headers that are there,
/// and the transport header if it is whole.
pub fn slice_lax(link: LinkType, data: &[u8]) -> Option<LaxSlicedPacket<'_>> {
    let after = |n: usize| data.get(n..);
    fn by_type(proto: u16, rest: &[u8]) -> Option<LaxSlicedPacket<'_>> {
        matches!(proto, 0x0800 | 0x86dd | 0x8100 | 0x88a8 | 0x9100).then(|| LaxSlicedPacket::from_ether_type(EtherType(proto), rest))
    }
    match link {
        LinkType::Ethernet => LaxSlicedPacket::from_ethernet(data).ok(),
        LinkType::RawIp => LaxSlicedPacket::from_ip(data).ok(),
        LinkType::LinuxSll => by_type(u16::from_be_bytes([*data.get(14)?, *data.get(15)?]), after(16)?),
        LinkType::LinuxSll2 => by_type(u16::from_be_bytes([*data.first()?, *data.get(1)?]), after(20)?),
        LinkType::Null | LinkType::Loop => LaxSlicedPacket::from_ip(after(4)?).ok(),
    }
}

fn ether_type(proto: u16, data: &[u8]) -> Result<Result<SlicedPacket<'_>, etherparse::err::packet::SliceError>, LinkError> {
    match proto {
        0x0800 | 0x86dd | 0x8100 | 0x88a8 | 0x9100 => Ok(SlicedPacket::from_ether_type(EtherType(proto), data)),
        _ => Err(LinkError::NotIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, PacketBuilder, TransportSlice};

    fn udp_ipv4() -> Vec<u8> {
        let b = PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64).udp(800, 2049);
        let mut v = Vec::new();
        b.write(&mut v, &[1, 2, 3, 4]).unwrap();
        v
    }

    fn udp_port(p: &SlicedPacket) -> u16 {
        match &p.transport {
            Some(TransportSlice::Udp(u)) => u.destination_port(),
            _ => panic!("no udp"),
        }
    }

    #[test]
    fn ethernet_with_qinq() {
        let b = PacketBuilder::ethernet2([1; 6], [2; 6])
            .double_vlan(etherparse::VlanId::try_new(10).unwrap(), etherparse::VlanId::try_new(20).unwrap())
            .ipv6([1; 16], [2; 16], 64)
            .udp(700, 2049);
        let mut v = Vec::new();
        b.write(&mut v, &[9; 8]).unwrap();
        let p = slice(LinkType::Ethernet, &v).unwrap();
        assert!(matches!(p.net, Some(NetSlice::Ipv6(_))));
        assert_eq!(udp_port(&p), 2049);
    }

    #[test]
    fn sll2_null_loop_raw() {
        let ip = udp_ipv4();
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0];
        sll2.extend_from_slice(&ip);
        assert_eq!(udp_port(&slice(LinkType::LinuxSll2, &sll2).unwrap()), 2049);
        let mut null_le = vec![2, 0, 0, 0];
        null_le.extend_from_slice(&ip);
        assert_eq!(udp_port(&slice(LinkType::Null, &null_le).unwrap()), 2049);
        let mut loop_be = vec![0, 0, 0, 2];
        loop_be.extend_from_slice(&ip);
        assert_eq!(udp_port(&slice(LinkType::Loop, &loop_be).unwrap()), 2049);
        assert_eq!(udp_port(&slice(LinkType::RawIp, &ip).unwrap()), 2049);
        // Linux cooked v1 on a loopback device (ARPHRD 772), as tcpdump -i any writes it
        let mut sll = vec![0, 0, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&ip);
        assert_eq!(udp_port(&slice(LinkType::LinuxSll, &sll).unwrap()), 2049);
        // cut short by the snapshot length: only the lax slicer gets through
        let cut = &sll[..sll.len() - 2];
        assert!(slice(LinkType::LinuxSll, cut).is_err());
        let lax = slice_lax(LinkType::LinuxSll, cut).unwrap();
        assert!(matches!(lax.transport, Some(TransportSlice::Udp(_))));
        // an ARP-like SLL2 frame is not IP, and a short one is malformed
        let arp = [0x08, 0x06, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(slice(LinkType::LinuxSll2, &arp).unwrap_err(), LinkError::NotIp);
        assert!(matches!(slice(LinkType::LinuxSll2, &arp[..5]), Err(LinkError::Malformed(_))));
        assert!(matches!(slice(LinkType::RawIp, &ip[..10]), Err(LinkError::Malformed(_))));
    }

    #[test]
    fn link_type_numbers() {
        assert_eq!(LinkType::from_dlt(276), Some(LinkType::LinuxSll2));
        assert_eq!(LinkType::from_dlt(197), None); // ERF
        assert_eq!(LinkType::from_dlt(247), None); // InfiniBand
    }
}
