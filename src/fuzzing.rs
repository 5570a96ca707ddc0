//! Entry points shared by the fuzz targets (`fuzz/`) and the mutation tests: each
//! takes arbitrary bytes and must never panic.

use crate::net::link::LinkType;
use crate::net::FrameRef;
use crate::pipeline::{Config, Pipeline, Sink};
use crate::proto;
use crate::rpc::msg::{self, Header};
use crate::rpc::record::RecordParser;
use crate::rpc::Message;

struct Render;

impl Sink for Render {
    fn message(&mut self, m: &Message<'_>) {
        // Formatting walks every decoded field, as the printers do.
        let _ = crate::output::text::line(m, None);
        let _ = crate::output::json::write(&mut std::io::sink(), m, "fuzz");
    }
}

const LINKS: [LinkType; 6] = [LinkType::Ethernet, LinkType::RawIp, LinkType::LinuxSll, LinkType::LinuxSll2, LinkType::Null, LinkType::Loop];

/// `data` = link selector byte, then frames as (big-endian u16 length, bytes).
pub fn frames(data: &[u8]) {
    let Some((&sel, mut rest)) = data.split_first() else { return };
    let link = LINKS[sel as usize % LINKS.len()];
    let cfg = Config { record_cap: 1 << 16, flow_cap: 64, xid_cap: 256, ooo_cap: 1 << 14, ooo_total_cap: 1 << 16, frag_cap: 16, decode_bodies: true };
    let mut p = Pipeline::new(cfg);
    let mut frame = 0;
    while rest.len() >= 2 {
        let n = (u16::from_be_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
        let f = &rest[2..2 + n];
        rest = &rest[2 + n..];
        frame += 1;
        // The last byte of a frame doubles as the amount cut by the snapshot length.
        let cut = f.last().copied().unwrap_or(0) as u32 % 4;
        p.frame(link, FrameRef { file: 0, frame, ts: frame as i64 * 1000 }, f, f.len() as u32 + cut, &mut Render);
    }
    p.finish(&mut Render);
    let _ = p.counters();
}

/// `data` is a TCP stream; every 97th byte position becomes a chunk boundary, and a
/// zero byte there means a gap of the next byte's value.
pub fn records(data: &[u8]) {
    let mut r = RecordParser::new(4096, data.first().is_some_and(|b| b & 1 == 1));
    let start = |b: &[u8]| msg::plausible_call(b, &|_| true) || msg::plausible_reply(b);
    let mut sink = |rec: crate::rpc::record::RecBytes<'_>, _info: crate::rpc::record::RecordInfo| message(&rec);
    for (i, c) in data.chunks(97).enumerate() {
        if c[0] == 0 && c.len() > 1 {
            r.gap(c[1] as u64, &mut sink);
            continue;
        }
        r.feed(c, FrameRef { file: 0, frame: i as u64, ts: 0 }, &start, &mut sink);
    }
}

/// One RPC message: header, then the body decoded as every program would.
pub fn message(data: &[u8]) {
    let Ok((h, body)) = msg::parse(data) else { return };
    let progs = [proto::PORTMAP, proto::NFS, proto::MOUNT, proto::NLM, proto::NSM, proto::NFS4_CB_DEFAULT];
    let (vers, proc_) = match &h {
        Header::Call(c) => (c.vers, c.proc_),
        Header::Reply(_) => (data.len() as u32 % 5, data.len() as u32 % 24),
    };
    for prog in progs {
        let cb = prog == proto::NFS4_CB_DEFAULT;
        for v in [vers, 1, 2, 3, 4] {
            let c = proto::decode_call(prog, v, proc_, cb, body);
            let _ = (c.to_string(), serde_json::to_vec(&c));
            let r = proto::decode_reply(prog, v, proc_, cb, body);
            let _ = (r.to_string(), serde_json::to_vec(&r));
        }
    }
}
