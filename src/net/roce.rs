//! RPC over RDMA (RFC 8166, version 1) carried by RoCEv2 (InfiniBand transport over
//! UDP port 4791): the RPC message that an RDMA SEND carries inline.
//!
//! Bulk data moved by RDMA READ/WRITE (read and write chunks) never appears in a SEND,
//! so a message whose arguments lie partly in a chunk is handed on as partial. Messages
//! sent in several SEND packets are reassembled per queue pair, with a cap.

use crate::xdr::{self, u32 as xu32, Res};
use std::collections::HashMap;
use std::net::IpAddr;

pub const ROCE_V2_PORT: u16 = 4791;

/// InfiniBand base transport header.
const BTH_LEN: usize = 12;
/// Invariant CRC at the end of every RoCE packet.
const ICRC_LEN: usize = 4;
/// Largest message reassembled from several SENDs.
const MAX_MESSAGE: usize = 1 << 20;
/// Queue pairs with a message under reassembly.
const MAX_PENDING: usize = 1024;

/// What one RoCE packet gives.
#[derive(Debug, PartialEq, Eq)]
pub enum Roce<'a> {
    /// An RPC message (`partial`: some of it lies in RDMA chunks not on this path).
    Rpc { msg: &'a [u8], partial: bool },
    /// A whole RPC message reassembled from several SENDs.
    RpcOwned { msg: Vec<u8>, partial: bool },
    /// Not a SEND carrying RPC (acknowledgements, RDMA READ/WRITE, connection management).
    Other,
    /// A SEND that is not RPC-over-RDMA, or a malformed packet.
    Malformed,
}

/// RDMA WRITE data kept for RDMA_NOMSG messages (replies placed in a reply chunk).
const MAX_WRITES: usize = 256;

/// SEND reassembly for messages that take several packets, and the RDMA WRITEs that
/// carry long replies.
#[derive(Default)]
pub struct Roce2 {
    pending: HashMap<(IpAddr, IpAddr, u32), Vec<u8>>,
    /// Data written by (writer, remote key), the first `MAX_MESSAGE` bytes.
    writes: HashMap<(IpAddr, u32), Vec<u8>>,
    /// The remote key of the WRITE in progress on (writer, reader, queue pair).
    writing: HashMap<(IpAddr, IpAddr, u32), u32>,
    pub dropped: u64,
}

impl Roce2 {
    pub fn packet<'a>(&mut self, src: IpAddr, dst: IpAddr, udp_payload: &'a [u8]) -> Roce<'a> {
        if udp_payload.len() < BTH_LEN + ICRC_LEN {
            return Roce::Malformed;
        }
        let opcode = udp_payload[0];
        let pad = ((udp_payload[1] >> 4) & 3) as usize;
        let qp = u32::from_be_bytes([0, udp_payload[5], udp_payload[6], udp_payload[7]]);
        // Reliable and unreliable connected SENDs only (UD is connection management).
        if opcode >> 5 > 1 {
            return Roce::Other;
        }
        if let Some(w) = write_part(opcode & 0x1f) {
            self.write(src, dst, qp, w, pad, udp_payload);
            return Roce::Other;
        }
        let (kind, extra) = match opcode & 0x1f {
            0x00 => (Part::First, 0),
            0x01 => (Part::Middle, 0),
            0x02 => (Part::Last, 0),
            0x03 => (Part::Last, 4),
            0x04 => (Part::Only, 0),
            0x05 => (Part::Only, 4),
            0x16 => (Part::Last, 4),
            0x17 => (Part::Only, 4),
            _ => return Roce::Other,
        };
        let start = BTH_LEN + extra;
        let Some(end) = udp_payload.len().checked_sub(ICRC_LEN + pad) else { return Roce::Malformed };
        if start > end {
            return Roce::Malformed;
        }
        let data = &udp_payload[start..end];
        let key = (src, dst, qp);
        match kind {
            Part::Only => match rpc_of(data) {
                Some(Inline::Msg(msg, partial)) => Roce::Rpc { msg, partial },
                Some(Inline::InChunk(segs)) => self.from_writes(src, &segs),
                None => Roce::Malformed,
            },
            Part::First => {
                if self.pending.len() >= MAX_PENDING {
                    self.dropped += self.pending.len() as u64;
                    self.pending.clear();
                }
                self.pending.insert(key, data.to_vec());
                Roce::Other
            }
            Part::Middle | Part::Last => {
                let Some(buf) = self.pending.get_mut(&key) else { return Roce::Other };
                if buf.len() + data.len() > MAX_MESSAGE {
                    self.pending.remove(&key);
                    self.dropped += 1;
                    return Roce::Other;
                }
                buf.extend_from_slice(data);
                if kind == Part::Middle {
                    return Roce::Other;
                }
                let whole = self.pending.remove(&key).unwrap_or_default();
                match rpc_of(&whole) {
                    Some(Inline::Msg(msg, partial)) => Roce::RpcOwned { msg: msg.to_vec(), partial },
                    Some(Inline::InChunk(segs)) => self.from_writes(src, &segs),
                    None => Roce::Malformed,
                }
            }
        }
    }
}

impl Roce2 {
    fn write(&mut self, src: IpAddr, dst: IpAddr, qp: u32, w: WritePart, pad: usize, p: &[u8]) {
        let qkey = (src, dst, qp);
        let (rkey, start) = if w.reth {
            // RETH: virtual address (8), remote key (4), DMA length (4)
            let Some(k) = p.get(BTH_LEN + 8..BTH_LEN + 12) else { return };
            let rkey = u32::from_be_bytes([k[0], k[1], k[2], k[3]]);
            if !w.last {
                self.writing.insert(qkey, rkey);
            }
            if self.writes.len() >= MAX_WRITES {
                self.dropped += self.writes.len() as u64;
                self.writes.clear();
                self.writing.clear();
            }
            self.writes.insert((src, rkey), Vec::new());
            (rkey, BTH_LEN + 16)
        } else {
            let Some(&rkey) = self.writing.get(&qkey) else { return };
            if w.last {
                self.writing.remove(&qkey);
            }
            (rkey, BTH_LEN)
        };
        let start = start + if w.imm { 4 } else { 0 };
        let Some(end) = p.len().checked_sub(ICRC_LEN + pad) else { return };
        if start > end {
            return;
        }
        if let Some(buf) = self.writes.get_mut(&(src, rkey)) {
            let room = MAX_MESSAGE.saturating_sub(buf.len());
            buf.extend_from_slice(&p[start..end.min(start + room)]);
        }
    }

    /// An RDMA_NOMSG: the message was written into the reply chunk beforehand.
    fn from_writes(&mut self, writer: IpAddr, segs: &[(u32, u32)]) -> Roce<'static> {
        let mut msg = Vec::new();
        let mut partial = false;
        for &(handle, len) in segs.iter().filter(|(_, len)| *len > 0) {
            let Some(data) = self.writes.remove(&(writer, handle)) else {
                partial = true;
                break;
            };
            partial |= data.len() < len as usize;
            msg.extend_from_slice(&data[..data.len().min(len as usize)]);
        }
        if msg.len() < 12 {
            return Roce::Other;
        }
        Roce::RpcOwned { msg, partial }
    }
}

#[derive(Debug, Clone, Copy)]
struct WritePart {
    reth: bool,
    last: bool,
    imm: bool,
}

fn write_part(op: u8) -> Option<WritePart> {
    Some(match op {
        0x06 => WritePart { reth: true, last: false, imm: false },
        0x07 => WritePart { reth: false, last: false, imm: false },
        0x08 => WritePart { reth: false, last: true, imm: false },
        0x09 => WritePart { reth: false, last: true, imm: true },
        0x0a => WritePart { reth: true, last: true, imm: false },
        0x0b => WritePart { reth: true, last: true, imm: true },
        _ => return None,
    })
}

/// Where an RPC-over-RDMA message is.
enum Inline<'a> {
    /// RDMA_MSG: inline after the header (`true`: some arguments are in read chunks).
    Msg(&'a [u8], bool),
    /// RDMA_NOMSG: in the reply chunk's segments (handle, length).
    InChunk(Vec<(u32, u32)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    First,
    Middle,
    Last,
    Only,
}

fn segment(i: &[u8]) -> Res<'_, ()> {
    let (i, _handle) = xu32(i)?;
    let (i, _len) = xu32(i)?;
    let (i, _off) = xdr::u64(i)?;
    Ok((i, ()))
}

fn segments(i: &[u8]) -> Res<'_, Vec<(u32, u32)>> {
    let (mut i, n) = xu32(i)?;
    if n as usize > i.len() / 16 {
        return Err(nom::Err::Error(xdr::XdrError::TooMany { count: n, cap: (i.len() / 16) as u32 }));
    }
    let mut v = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (r, handle) = xu32(i)?;
        let (r, len) = xu32(r)?;
        i = xdr::u64(r)?.0;
        v.push((handle, len));
    }
    Ok((i, v))
}

/// The RPC-over-RDMA header, then where its RPC message is.
fn rpc_of(b: &[u8]) -> Option<Inline<'_>> {
    let (i, _xid) = xu32(b).ok()?;
    let (i, vers) = xu32(i).ok()?;
    let (i, _credits) = xu32(i).ok()?;
    let (mut i, proc_) = xu32(i).ok()?;
    if vers != 1 || !matches!(proc_, 0..=2) {
        return None;
    }
    if proc_ == 2 {
        // RDMA_MSGP: alignment and threshold before the lists.
        i = xu32(xu32(i).ok()?.0).ok()?.0;
    }
    let mut chunks = false;
    // read list: (position, segment)*
    loop {
        let (r, more) = xdr::bool(i).ok()?;
        i = r;
        if !more {
            break;
        }
        chunks = true;
        i = xu32(i).ok()?.0;
        i = segment(i).ok()?.0;
    }
    // write list: segment arrays
    loop {
        let (r, more) = xdr::bool(i).ok()?;
        i = r;
        if !more {
            break;
        }
        i = segments(i).ok()?.0;
    }
    // reply chunk
    let (r, present) = xdr::bool(i).ok()?;
    i = r;
    let mut reply = Vec::new();
    if present {
        let (r, segs) = segments(i).ok()?;
        i = r;
        reply = segs;
    }
    if proc_ == 1 {
        return (!reply.is_empty()).then_some(Inline::InChunk(reply));
    }
    (i.len() >= 12).then_some(Inline::Msg(i, chunks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::Enc;

    fn packet(opcode: u8, qp: u32, data: &[u8]) -> Vec<u8> {
        let mut v = vec![opcode, 0, 0xff, 0xff, 0, (qp >> 16) as u8, (qp >> 8) as u8, qp as u8, 0x80, 0, 0, 1];
        v.extend_from_slice(data);
        v.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        v
    }

    fn rdma_msg(rpc: &[u8], reply_chunk: bool, read_chunk: bool) -> Vec<u8> {
        let mut e = Enc::new();
        e.u32(0x6fda755c).u32(1).u32(128).u32(0);
        if read_chunk {
            e.bool(true).u32(0).u32(1).u32(4096).u64(0xffff_0000).bool(false);
        } else {
            e.bool(false);
        }
        e.bool(false);
        if reply_chunk {
            e.bool(true).u32(1).u32(0x23c1).u32(0x10c0).u64(0xffff_9488_f212_c100);
        } else {
            e.bool(false);
        }
        let mut v = e.into_vec();
        v.extend_from_slice(rpc);
        v
    }

    const NULL_CALL: [u8; 40] = [
        0x6f, 0xda, 0x75, 0x5c, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0x86, 0xa3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn send_only_rdma_msg() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mut r = Roce2::default();
        let p = packet(0x04, 0x11, &rdma_msg(&NULL_CALL, false, false));
        assert_eq!(r.packet(ip, ip, &p), Roce::Rpc { msg: &NULL_CALL[..], partial: false });
        let p = packet(0x04, 0x11, &rdma_msg(&NULL_CALL, true, true));
        assert_eq!(r.packet(ip, ip, &p), Roce::Rpc { msg: &NULL_CALL[..], partial: true });
        // acknowledgements and UD management datagrams are not RPC
        assert_eq!(r.packet(ip, ip, &packet(0x11, 0x11, &[0; 4])), Roce::Other);
        assert_eq!(r.packet(ip, ip, &packet(0x64, 1, &[0; 40])), Roce::Other);
        assert_eq!(r.packet(ip, ip, &[4, 0, 0]), Roce::Malformed);
        assert_eq!(r.packet(ip, ip, &packet(0x04, 0x11, &[0; 20])), Roce::Malformed);
    }

    #[test]
    fn multi_packet_send_is_reassembled() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mut r = Roce2::default();
        let m = rdma_msg(&NULL_CALL, false, false);
        assert_eq!(r.packet(ip, ip, &packet(0x00, 7, &m[..20])), Roce::Other);
        assert_eq!(r.packet(ip, ip, &packet(0x01, 7, &m[20..40])), Roce::Other);
        assert_eq!(r.packet(ip, ip, &packet(0x02, 7, &m[40..])), Roce::RpcOwned { msg: NULL_CALL.to_vec(), partial: false });
        // a LAST without its FIRST is ignored
        assert_eq!(r.packet(ip, ip, &packet(0x02, 8, &m[40..])), Roce::Other);
    }

    #[test]
    fn nomsg_reply_from_rdma_write() {
        let (server, client): (IpAddr, IpAddr) = ("10.0.0.2".parse().unwrap(), "10.0.0.1".parse().unwrap());
        let mut r = Roce2::default();
        let mut reply = NULL_CALL.to_vec();
        reply[7] = 1; // a reply
        // RDMA WRITE Only: RETH with remote key 0x23c1, then the reply
        let mut w = vec![0u8; 8];
        w.extend_from_slice(&0x23c1u32.to_be_bytes());
        w.extend_from_slice(&(reply.len() as u32).to_be_bytes());
        w.extend_from_slice(&reply);
        assert_eq!(r.packet(server, client, &packet(0x0a, 0x11, &w)), Roce::Other);
        // SEND Only with Invalidate: RDMA_NOMSG naming that reply chunk
        let mut e = Enc::new();
        e.u32(0x6fda755c).u32(1).u32(128).u32(1).bool(false).bool(false).bool(true).u32(1).u32(0x23c1).u32(reply.len() as u32).u64(0);
        let mut s = vec![0, 0, 0x23, 0xc1];
        s.extend_from_slice(&e.buf);
        assert_eq!(r.packet(server, client, &packet(0x17, 0x11, &s)), Roce::RpcOwned { msg: reply, partial: false });
    }
}
