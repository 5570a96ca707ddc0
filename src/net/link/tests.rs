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

// slice_common against slice: the two must agree on every frame.

use etherparse::{IpNumber, Ipv4Header, Ipv6Header, TcpHeader, UdpHeader};

/// What `slice` makes of a frame, in the terms of `slice_common`: the pipeline takes
/// frames `slice` finds to be unfragmented IP carrying TCP or UDP the same way.
fn common_via_sliced(link: LinkType, data: &[u8]) -> Option<Common<'_>> {
    let p = slice(link, data).ok()?;
    let (src, dst, fragmented) = match &p.net {
        Some(NetSlice::Ipv4(v4)) => (IpAddr::V4(v4.header().source_addr()), IpAddr::V4(v4.header().destination_addr()), v4.is_payload_fragmented()),
        Some(NetSlice::Ipv6(v6)) => (IpAddr::V6(v6.header().source_addr()), IpAddr::V6(v6.header().destination_addr()), v6.is_payload_fragmented()),
        _ => return None,
    };
    let transport = match p.transport? {
        TransportSlice::Tcp(t) if !fragmented => TcpUdp::Tcp(t),
        TransportSlice::Udp(u) if !fragmented => TcpUdp::Udp(u),
        _ => return None,
    };
    Some(Common { src, dst, transport })
}

/// Both ways of slicing agree on the frame; what the common one found.
fn agree(link: LinkType, data: &[u8]) -> Option<Common<'_>> {
    let fast = slice_common(link, data);
    assert_eq!(fast, common_via_sliced(link, data), "{link:?} {data:02x?}");
    fast
}

fn payload<'a>(c: &Common<'a>) -> &'a [u8] {
    match &c.transport {
        TcpUdp::Tcp(t) => t.payload(),
        TcpUdp::Udp(u) => u.payload(),
    }
}

fn tcp(payload: &[u8]) -> Vec<u8> {
    let mut v = TcpHeader::new(800, 2049, 7, 1000).to_bytes().to_vec(); // checksum left 0
    v.extend_from_slice(payload);
    v
}

fn udp(payload: &[u8]) -> Vec<u8> {
    let h = UdpHeader { source_port: 800, destination_port: 2049, length: 8 + payload.len() as u16, checksum: 0xbad };
    let mut v = h.to_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

/// An IPv4 packet (header checksum left 0) after `edit` has had its say on the header.
fn ipv4(proto: IpNumber, body: &[u8], edit: impl FnOnce(&mut Ipv4Header)) -> Vec<u8> {
    let mut h = Ipv4Header::new(0, 64, proto, [10, 0, 0, 1], [10, 0, 0, 2]).unwrap();
    edit(&mut h);
    h.set_payload_len(body.len()).unwrap();
    let mut v = h.to_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn ipv6(next: IpNumber, body: &[u8]) -> Vec<u8> {
    let h = Ipv6Header { payload_length: body.len() as u16, next_header: next, hop_limit: 9, source: [1; 16], destination: [2; 16], ..Default::default() };
    let mut v = h.to_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// An Ethernet II frame with these VLAN tag protocol ids, padded to the 60-byte minimum.
fn ether(ether_type: u16, tags: &[u16], ip: &[u8]) -> Vec<u8> {
    let mut v = [[2u8; 6], [4; 6]].concat();
    for (i, tpid) in tags.iter().enumerate() {
        v.extend_from_slice(&tpid.to_be_bytes());
        v.extend_from_slice(&(10 + i as u16).to_be_bytes());
    }
    v.extend_from_slice(&ether_type.to_be_bytes());
    v.extend_from_slice(ip);
    if v.len() < 60 {
        v.resize(60, 0xee);
    }
    v
}

#[test]
fn padding_of_short_ethernet_frames_is_not_payload() {
    let f = ether(0x0800, &[], &ipv4(IpNumber::TCP, &tcp(&[1, 2, 3]), |_| {}));
    assert_eq!(f.len(), 60);
    let c = agree(LinkType::Ethernet, &f).expect("common");
    assert_eq!(payload(&c), [1, 2, 3]);
    assert_eq!(c.src, IpAddr::from([10, 0, 0, 1]));
    let f = ether(0x86dd, &[], &ipv6(IpNumber::UDP, &udp(&[9])));
    let c = agree(LinkType::Ethernet, &f).expect("common");
    assert_eq!(payload(&c), [9]);
    assert_eq!(c.dst, IpAddr::from([2u8; 16]));
    // a UDP length short of the IP payload ends the datagram there
    let mut short = udp(&[5, 6, 7]);
    short[5] = 9;
    let f = ether(0x0800, &[], &ipv4(IpNumber::UDP, &short, |_| {}));
    assert_eq!(payload(&agree(LinkType::Ethernet, &f).expect("common")), [5]);
}

#[test]
fn vlan_tags_up_to_three() {
    let ip = ipv4(IpNumber::TCP, &tcp(&[1; 40]), |_| {});
    for tags in [&[][..], &[0x8100][..], &[0x88a8, 0x8100][..], &[0x9100, 0x88a8, 0x8100][..]] {
        let f = ether(0x0800, tags, &ip);
        assert_eq!(payload(&agree(LinkType::Ethernet, &f).expect("common")), [1; 40]);
    }
    // a fourth tag is one more than etherparse takes: not IP to the pipeline
    let f = ether(0x0800, &[0x8100; 4], &ip);
    assert_eq!(agree(LinkType::Ethernet, &f), None);
    assert!(slice(LinkType::Ethernet, &f).unwrap().net.is_none());
    // a tag cut short
    assert_eq!(agree(LinkType::Ethernet, &[&[0u8; 12][..], &[0x81, 0, 0, 1][..]].concat()), None);
}

#[test]
fn ipv4_options_bad_checksums_and_auth_header() {
    let opts = |h: &mut Ipv4Header| h.options = [1, 1, 1, 0, 7, 3, 0, 0][..].try_into().unwrap();
    let f = ether(0x0800, &[], &ipv4(IpNumber::TCP, &tcp(&[4; 30]), opts));
    assert_eq!(payload(&agree(LinkType::Ethernet, &f).expect("common")), [4; 30]);
    // an authentication header between IPv4 and UDP
    let mut ah = vec![17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
    ah.extend_from_slice(&udp(&[3; 12]));
    let f = ether(0x0800, &[], &ipv4(IpNumber::AUTHENTICATION_HEADER, &ah, |_| {}));
    assert_eq!(payload(&agree(LinkType::Ethernet, &f).expect("common")), [3; 12]);
}

#[test]
fn ipv6_extension_headers() {
    // hop-by-hop options (PadN) before UDP
    let mut hbh = vec![17, 0, 1, 4, 0, 0, 0, 0];
    hbh.extend_from_slice(&udp(&[8; 20]));
    let f = ether(0x86dd, &[0x8100], &ipv6(IpNumber::IPV6_HEADER_HOP_BY_HOP, &hbh));
    assert_eq!(payload(&agree(LinkType::Ethernet, &f).expect("common")), [8; 20]);
    // a fragment header: left to slice and reassembly
    let mut frag = vec![17, 0, 0, 1, 0, 0, 0, 5];
    frag.extend_from_slice(&udp(&[8; 20]));
    let f = ether(0x86dd, &[], &ipv6(IpNumber::IPV6_FRAGMENTATION_HEADER, &frag));
    assert_eq!(agree(LinkType::Ethernet, &f), None);
    assert!(slice(LinkType::Ethernet, &f).unwrap().is_ip_payload_fragmented());
}

#[test]
fn ipv4_fragments_are_left_to_reassembly() {
    let body = udp(&[6; 24]);
    let first = |h: &mut Ipv4Header| h.more_fragments = true;
    let last = |h: &mut Ipv4Header| h.fragment_offset = etherparse::IpFragOffset::try_new(2).unwrap();
    for f in [ipv4(IpNumber::UDP, &body, first), ipv4(IpNumber::UDP, &body[16..], last)] {
        let f = ether(0x0800, &[], &f);
        assert_eq!(agree(LinkType::Ethernet, &f), None);
        assert!(slice(LinkType::Ethernet, &f).unwrap().is_ip_payload_fragmented());
    }
}

#[test]
fn lengths_past_the_frame_and_cut_frames() {
    let ip = ipv4(IpNumber::TCP, &tcp(&[1; 100]), |_| {});
    // total length larger than the frame: malformed, as slice says
    let mut long = ip.clone();
    long[3] += 1;
    assert_eq!(agree(LinkType::RawIp, &long), None);
    assert!(matches!(slice(LinkType::RawIp, &long), Err(LinkError::Malformed(_))));
    // total length shorter than the header
    let mut tiny = ip.clone();
    tiny[2..4].copy_from_slice(&[0, 19]);
    assert_eq!(agree(LinkType::RawIp, &tiny), None);
    // every cut of an Ethernet frame: common only while the whole IP packet is there
    let f = ether(0x0800, &[0x8100], &ip);
    for n in 0..=f.len() {
        assert_eq!(agree(LinkType::Ethernet, &f[..n]).is_some(), n >= 18 + ip.len(), "cut at {n}");
    }
    // a TCP data offset past the IP payload, or below the minimum
    for off in [0xf0u8, 0x40] {
        let mut t = tcp(&[]);
        t[12] = off;
        assert_eq!(agree(LinkType::RawIp, &ipv4(IpNumber::TCP, &t, |_| {})), None);
    }
}

#[test]
fn not_ip_and_not_tcp_or_udp() {
    let ip = ipv4(IpNumber::TCP, &tcp(&[1; 8]), |_| {});
    // ARP, and an ether type that says IPv4 over an IPv6 header
    assert_eq!(agree(LinkType::Ethernet, &ether(0x0806, &[], &[0; 28])), None);
    let f = ether(0x0800, &[], &ipv6(IpNumber::UDP, &udp(&[1])));
    assert_eq!(agree(LinkType::Ethernet, &f), None);
    assert!(slice(LinkType::Ethernet, &f).is_err());
    // ICMP: IP, but nothing the pipeline decodes
    let icmp = ipv4(IpNumber::ICMP, &[8, 0, 0, 0, 0, 1, 0, 1], |_| {});
    assert_eq!(agree(LinkType::RawIp, &icmp), None);
    assert!(slice(LinkType::RawIp, &icmp).unwrap().net.is_some());
    // cooked and loopback frames that are not IP
    let mut sll = vec![0, 0, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x06];
    sll.extend_from_slice(&ip);
    assert_eq!(agree(LinkType::LinuxSll, &sll), None);
    assert_eq!(slice(LinkType::LinuxSll, &sll).unwrap_err(), LinkError::NotIp);
    let null7 = [&[7, 0, 0, 0][..], &ip[..]].concat();
    assert_eq!(agree(LinkType::Null, &null7), None);
    assert_eq!(slice(LinkType::Null, &null7).unwrap_err(), LinkError::NotIp);
}

/// A frame of each link type around the same IP packet.
fn every_link(ip: &[u8], ether_type: u16) -> Vec<(LinkType, Vec<u8>)> {
    let sll = [&[0, 0, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0][..], &ether_type.to_be_bytes()[..], ip].concat();
    let sll2 = [&ether_type.to_be_bytes()[..], &[0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0][..], ip].concat();
    let af = if ether_type == 0x0800 { 2u32 } else { 30 };
    vec![
        (LinkType::Ethernet, ether(ether_type, &[0x8100], ip)),
        (LinkType::LinuxSll, sll),
        (LinkType::LinuxSll2, sll2),
        (LinkType::Null, [&af.to_le_bytes()[..], ip].concat()),
        (LinkType::Null, [&af.to_be_bytes()[..], ip].concat()),
        (LinkType::Loop, [&af.to_be_bytes()[..], ip].concat()),
        (LinkType::RawIp, ip.to_vec()),
    ]
}

#[test]
fn every_link_type() {
    for (ip, et) in [(ipv4(IpNumber::TCP, &tcp(&[2; 9]), |_| {}), 0x0800), (ipv6(IpNumber::UDP, &udp(&[2; 9])), 0x86dd)] {
        for (link, f) in every_link(&ip, et) {
            assert_eq!(payload(&agree(link, &f).expect("common")), [2; 9], "{link:?}");
            // link headers cut short
            for n in 0..4 {
                assert_eq!(agree(link, &f[..n]), None);
            }
        }
    }
}

/// Every byte of frames of each kind changed, and every cut: the two ways agree.
#[test]
fn mutated_frames_agree() {
    let mut hbh = vec![6, 0, 1, 4, 0, 0, 0, 0];
    hbh.extend_from_slice(&tcp(&[1; 6]));
    let packets = [
        (ipv4(IpNumber::TCP, &tcp(&[1; 6]), |h| h.options = [1, 1, 1, 0][..].try_into().unwrap()), 0x0800),
        (ipv4(IpNumber::UDP, &udp(&[1; 6]), |_| {}), 0x0800),
        (ipv6(IpNumber::IPV6_HEADER_HOP_BY_HOP, &hbh), 0x86dd),
        (ipv6(IpNumber::UDP, &udp(&[1; 6])), 0x86dd),
    ];
    let (mut common, mut total) = (0u32, 0u32);
    for (ip, et) in &packets {
        for (link, f) in every_link(ip, *et) {
            for n in 0..=f.len() {
                total += 1;
                common += agree(link, &f[..n]).is_some() as u32;
            }
            for i in 0..f.len() {
                for x in [0, 1, 0x40, 0x80, 0xff, f[i] ^ 0x10, f[i].wrapping_add(1), f[i].wrapping_sub(1)] {
                    let mut g = f.clone();
                    g[i] = x;
                    total += 1;
                    common += agree(link, &g).is_some() as u32;
                }
            }
        }
    }
    // both outcomes were exercised
    assert!(common > total / 4 && common < total, "{common} of {total}");
}
