//! Link layers: strip the link header and hand the IP packet to etherparse.
//!
//! [`slice_common`] takes the frames a capture is mostly made of (an unfragmented IPv4
//! or IPv6 packet carrying TCP or UDP) apart with etherparse's per-layer slicers; every
//! other frame goes to [`slice`], which builds a whole [`SlicedPacket`].

use etherparse::{
    EtherPayloadSlice, EtherType, Ethernet2Slice, IpNumber, IpPayloadSlice, IpSlice, Ipv4Slice, Ipv6Slice, LaxSlicedPacket, LenSource,
    SingleVlanSlice, SlicedPacket, TcpSlice, UdpSlice,
};
use std::net::IpAddr;

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
        LinkType::RawIp => SlicedPacket::from_ip(data),
        LinkType::LinuxSll | LinkType::LinuxSll2 | LinkType::Null | LinkType::Loop => match inner(link, data)? {
            Inner::Ether(proto, rest) => ether_type(proto, rest)?,
            Inner::Ip(rest) => SlicedPacket::from_ip(rest),
        },
    };
    r.map_err(|e| LinkError::Malformed(e.to_string()))
}

/// What follows the link header of a cooked or loopback frame.
enum Inner<'a> {
    /// Linux cooked captures: the protocol (an ether type) and the packet.
    Ether(u16, &'a [u8]),
    /// Loopback: an IPv4 or IPv6 packet.
    Ip(&'a [u8]),
}

/// Strip the header of a Linux cooked (SLL, SLL2) or loopback (NULL, LOOP) frame; any
/// other link type is taken as loopback.
fn inner(link: LinkType, data: &[u8]) -> Result<Inner<'_>, LinkError> {
    let short = |what: &str| LinkError::Malformed(format!("{what} header truncated"));
    match link {
        LinkType::LinuxSll => {
            // packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2)
            let (head, rest) = data.split_at_checked(16).ok_or_else(|| short("SLL"))?;
            Ok(Inner::Ether(u16::from_be_bytes([head[14], head[15]]), rest))
        }
        LinkType::LinuxSll2 => {
            // protocol type (2), reserved (2), ifindex (4), hatype (2), pkttype (1),
            // halen (1), address (8)
            let (head, rest) = data.split_at_checked(20).ok_or_else(|| short("SLL2"))?;
            Ok(Inner::Ether(u16::from_be_bytes([head[0], head[1]]), rest))
        }
        _ => {
            // NULL and LOOP: the address family, then the packet
            let (head, rest) = data.split_at_checked(4).ok_or_else(|| short("loopback"))?;
            let raw = [head[0], head[1], head[2], head[3]];
            let (be, le) = (u32::from_be_bytes(raw), u32::from_le_bytes(raw));
            let af = if link == LinkType::Loop { be } else if be < 256 { be } else { le };
            if af == 2 || af_is_ipv6(af) {
                Ok(Inner::Ip(rest))
            } else {
                Err(LinkError::NotIp)
            }
        }
    }
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

/// A frame of the common kind: an unfragmented IPv4 or IPv6 packet carrying TCP or UDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: TcpUdp<'a>,
}

/// The transport header and payload of a [`Common`] frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpUdp<'a> {
    Tcp(TcpSlice<'a>),
    Udp(UdpSlice<'a>),
}

/// Take apart a frame of the common kind with the slicers [`slice`] uses, layer by
/// layer, without building a [`SlicedPacket`]. `Some` only when [`slice`] would succeed
/// with an unfragmented IPv4 or IPv6 packet and a TCP or UDP header, and then with the
/// same addresses and transport slice; `None` for every other frame, which [`slice`]
/// takes apart or reports.
pub fn slice_common(link: LinkType, data: &[u8]) -> Option<Common<'_>> {
    let (src, dst, payload) = match link {
        LinkType::Ethernet => ip_by_ether_type(Ethernet2Slice::from_slice_without_fcs(data).ok()?.payload())?,
        LinkType::RawIp => ip(data)?,
        LinkType::LinuxSll | LinkType::LinuxSll2 | LinkType::Null | LinkType::Loop => match inner(link, data).ok()? {
            Inner::Ether(proto, rest) => ip_by_ether_type(EtherPayloadSlice { ether_type: EtherType(proto), len_source: LenSource::Slice, payload: rest })?,
            Inner::Ip(rest) => ip(rest)?,
        },
    };
    if payload.fragmented {
        return None;
    }
    let transport = match payload.ip_number {
        IpNumber::TCP => TcpUdp::Tcp(TcpSlice::from_slice(payload.payload).ok()?),
        IpNumber::UDP => TcpUdp::Udp(UdpSlice::from_slice(payload.payload).ok()?),
        _ => return None,
    };
    Some(Common { src, dst, transport })
}

/// The addresses of an IP packet and what it carries.
type Ip<'a> = (IpAddr, IpAddr, IpPayloadSlice<'a>);

fn v4<'a>(s: &Ipv4Slice<'a>) -> Ip<'a> {
    let h = s.header();
    (IpAddr::V4(h.source_addr()), IpAddr::V4(h.destination_addr()), s.payload().clone())
}

fn v6<'a>(s: &Ipv6Slice<'a>) -> Ip<'a> {
    let h = s.header();
    (IpAddr::V6(h.source_addr()), IpAddr::V6(h.destination_addr()), s.payload().clone())
}

/// An IP packet of either version, as [`SlicedPacket::from_ip`] takes it.
fn ip(data: &[u8]) -> Option<Ip<'_>> {
    match IpSlice::from_slice(data).ok()? {
        IpSlice::Ipv4(s) => Some(v4(&s)),
        IpSlice::Ipv6(s) => Some(v6(&s)),
    }
}

/// The IP packet behind an ether type and up to as many VLAN tags as [`SlicedPacket`]
/// takes (it stops at one more, leaving the packet unsliced).
fn ip_by_ether_type(mut p: EtherPayloadSlice<'_>) -> Option<Ip<'_>> {
    for _ in 0..=SlicedPacket::LINK_EXTS_CAP {
        match p.ether_type {
            EtherType::IPV4 => return Ipv4Slice::from_slice(p.payload).ok().map(|s| v4(&s)),
            EtherType::IPV6 => return Ipv6Slice::from_slice(p.payload).ok().map(|s| v6(&s)),
            EtherType::VLAN_TAGGED_FRAME | EtherType::PROVIDER_BRIDGING | EtherType::VLAN_DOUBLE_TAGGED_FRAME => {
                p = SingleVlanSlice::from_slice(p.payload).ok()?.payload();
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests;
