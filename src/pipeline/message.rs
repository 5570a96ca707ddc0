//! The record and message layers: RPC headers, call/reply matching, the ports and
//! callback programs learnt on the way, and body decoding.

use super::{Config, Counters, NetEvent, Role, Sink};
use crate::net::tcp::Chunk;
use crate::net::{FastMap, FastSet, FlowKey, FrameRef, Transport};
use crate::proto::{self, CallBody, ReplyBody};
use crate::rpc::matcher::{CallKey, CallOutcome, Matcher, Pending, ReplyOutcome};
use crate::rpc::msg::{self, Header, HeaderAt};
use crate::rpc::record::{RecBytes, RecordInfo, RecordParser, HUNT_GIVE_UP};
use crate::rpc::{GssService, Kind, Message, ProcId, ReplyStat};
use std::net::IpAddr;

/// What the record and message layers share (split from the flow table so both can
/// be borrowed at once).
pub(super) struct Core {
    pub(super) cfg: Config,
    pub(super) matcher: Matcher,
    /// Ports learnt from portmap/rpcbind replies: (server IP, port, transport) → program.
    pub(super) learnt: FastMap<(IpAddr, u16, Transport), u32>,
    pub(super) cb_progs: FastSet<u32>,
    pub(super) counters: Counters,
}

const LEARNT_CAP: usize = 65_536;
const CB_PROGS_CAP: usize = 4096;

/// Programs accepted when hunting for a record start in a stream: the ones decoded
/// here, and the transient range that callback programs are taken from.
pub(super) fn hunt_prog(p: u32) -> bool {
    decoded_prog(p) || (0x4000_0000..=0x5fff_ffff).contains(&p)
}

fn decoded_prog(p: u32) -> bool {
    matches!(p, proto::PORTMAP | proto::NFS | proto::MOUNT | proto::NLM | proto::NSM | proto::NFS_ACL | 100011)
}

pub(super) fn known_prog(p: u32, cb: &FastSet<u32>) -> bool {
    decoded_prog(p) || cb.contains(&p)
}

impl Core {
    pub(super) fn is_rpc_port(&self, k: &FlowKey) -> bool {
        const WELL_KNOWN: [u16; 2] = [111, 2049];
        WELL_KNOWN.contains(&k.dst.port)
            || WELL_KNOWN.contains(&k.src.port)
            || self.learnt.contains_key(&(k.dst.ip, k.dst.port, k.transport))
            || self.learnt.contains_key(&(k.src.ip, k.src.port, k.transport))
    }

    pub(super) fn reply_pending(&self, k: &FlowKey, payload: &[u8]) -> bool {
        let xid = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
        self.matcher.is_pending(&CallKey { client: k.dst, server: k.src, transport: k.transport, xid })
    }

    /// Stream data or a gap for one TCP direction.
    pub(super) fn chunk(&mut self, key: &FlowKey, rec: &mut RecordParser, role: &mut Role, at: FrameRef, c: Chunk<'_>, sink: &mut dyn Sink) {
        if *role == Role::NotRpc {
            return;
        }
        match c {
            Chunk::Gap(bytes) => {
                rec.gap(bytes, &mut |r, info| self.record(key, info.at, r, info.partial, sink));
                sink.net_event(&NetEvent::Gap { flow: *key, at, bytes });
            }
            Chunk::Data(d) => {
                let strict = *role == Role::Unknown;
                let start = |b: &[u8]| msg::plausible_call(b, &hunt_prog) || (!strict && msg::plausible_reply(b));
                let mut found = false;
                rec.feed(d, at, &start, &mut |r: RecBytes<'_>, info: RecordInfo| {
                    found = true;
                    self.record(key, info.at, r, info.partial, sink);
                });
                if found && *role == Role::Unknown {
                    *role = Role::Rpc;
                }
                if *role == Role::Unknown && rec.hunted_run() > HUNT_GIVE_UP {
                    *role = Role::NotRpc;
                }
            }
        }
    }

    /// One complete RPC message (a TCP record or a UDP datagram).
    pub(super) fn record(&mut self, key: &FlowKey, at: FrameRef, mut rec: RecBytes<'_>, partial: bool, sink: &mut dyn Sink) {
        let h = match HeaderAt::parse(&rec) {
            Ok(h) => h,
            Err(_) => {
                if partial {
                    self.counters.partial_unreadable += 1;
                } else {
                    self.counters.malformed_rpc += 1;
                }
                return;
            }
        };
        let facts = match h.call() {
            Some((rpcvers, prog, vers, proc_)) => {
                if rpcvers != 2 {
                    self.counters.malformed_rpc += 1;
                    return;
                }
                let id = ProcId { prog, vers, proc_, cb: self.cb_progs.contains(&prog) };
                Facts::Call { id, gss: h.gss(), retransmit: false }
            }
            None => {
                let ck = CallKey { client: key.dst, server: key.src, transport: key.transport, xid: h.xid() };
                match self.matcher.reply(&ck, at.ts) {
                    ReplyOutcome::Matched(p) => Facts::Reply { pending: Some(p), duplicate: false },
                    ReplyOutcome::Duplicate(p) => Facts::Reply { pending: Some(p), duplicate: true },
                    ReplyOutcome::Orphan => Facts::Reply { pending: None, duplicate: false },
                }
            }
        };
        // The header goes along, so that it need not be parsed again.
        let mut env = Envelope { at, key: *key, partial, facts, header: Some(h) };
        // A sink that reads bodies has every body decoded, and the pipeline learns from it
        // then: the check is for sinks that do not.
        let teaches = !sink.bodies() && env.teaches(rec.get(h.body_offset()..).unwrap_or_default());
        if sink.envelopes_only() && !teaches {
            // Nothing here needs the message: only calls are matched.
            if let Facts::Call { id, gss, retransmit } = &mut env.facts {
                let ck = CallKey { client: key.src, server: key.dst, transport: key.transport, xid: h.xid() };
                *retransmit = matches!(self.matcher.call(ck, Pending { id: *id, at, gss: *gss, lookup: None }), CallOutcome::Retransmit);
            }
            match &mut rec {
                RecBytes::Lent(b) => sink.envelope(&env, b),
                RecBytes::Gathered(v) => sink.envelope_gathered(&env, v),
            }
            return;
        }
        let Some((header, body)) = h.header(&rec) else {
            // Cannot happen: the places were taken from these bytes.
            self.counters.malformed_rpc += 1;
            return;
        };
        // A relay decodes bodies on its own thread: here only what the pipeline learns from.
        let bodies = self.cfg.decode_bodies && (sink.bodies() || teaches);
        let mut m = env.message(header, body, bodies);
        let Some(m) = m.as_mut() else { return };
        match &mut m.kind {
            Kind::Call { header: h, id, body, retransmit } => {
                let lookup = portmap_lookup(body);
                if let CallBody::Nfs4(c) = &body {
                    for p in c.cb_programs() {
                        if self.cb_progs.len() < CB_PROGS_CAP {
                            self.cb_progs.insert(p);
                        }
                    }
                }
                let ck = CallKey { client: key.src, server: key.dst, transport: key.transport, xid: h.xid };
                let gss = env.gss();
                *retransmit = matches!(self.matcher.call(ck, Pending { id: *id, at, gss, lookup }), CallOutcome::Retransmit);
                env.facts = Facts::Call { id: *id, gss, retransmit: *retransmit };
            }
            Kind::Reply { body, duplicate: false, .. } => {
                if let Facts::Reply { pending: Some(p), .. } = &env.facts {
                    self.learn(key, p, body);
                }
            }
            Kind::Reply { .. } => {}
        }
        sink.record(&env, &rec, m);
    }

    /// Remember a port from a portmap GETPORT or rpcbind GETADDR answer.
    fn learn(&mut self, key: &FlowKey, p: &Pending, body: &ReplyBody<'_>) {
        let Some((prog, _vers, prot)) = p.lookup else { return };
        let transport = match prot {
            6 => Transport::Tcp,
            17 => Transport::Udp,
            _ => return,
        };
        let at = match body {
            ReplyBody::Portmap(proto::portmap::Reply::Port { port }) if *port != 0 && *port <= 65535 => {
                Some((key.src.ip, *port as u16))
            }
            ReplyBody::Portmap(proto::portmap::Reply::Addr { uaddr }) => {
                proto::portmap::parse_uaddr(&uaddr.as_str_lossy()).map(|(ip, port)| {
                    // An unspecified address means "the address you asked".
                    (if ip.is_unspecified() { key.src.ip } else { ip }, port)
                })
            }
            _ => None,
        };
        if let Some((ip, port)) = at {
            if self.learnt.len() < LEARNT_CAP && port != 0 {
                self.learnt.insert((ip, port, transport), prog);
            }
        }
    }
}

/// What the pipeline settles about an RPC message before its body is decoded: where
/// it was, its flow, and what call/reply matching found. With the message's bytes it
/// gives back the whole [`Message`] ([`Envelope::open`]), on whichever thread.
#[derive(Debug, Clone, Copy)]
pub struct Envelope {
    pub at: FrameRef,
    pub key: FlowKey,
    pub partial: bool,
    pub facts: Facts,
    /// The parsed header, for [`Envelope::open`] (set when the message travels as its
    /// bytes and this envelope).
    pub header: Option<HeaderAt>,
}

#[derive(Debug, Clone, Copy)]
pub enum Facts {
    Call { id: ProcId, gss: Option<GssService>, retransmit: bool },
    /// `pending`: the matched call, `None` for an orphan reply.
    Reply { pending: Option<Pending>, duplicate: bool },
}

impl Envelope {
    /// The message from its bytes (the same bytes the pipeline read), with bodies
    /// decoded when `bodies` is set. `None` if the header does not parse.
    pub fn open<'a>(&self, bytes: &'a [u8], bodies: bool) -> Option<Message<'a>> {
        let (header, body) = match self.header.and_then(|h| h.header(bytes)) {
            Some(x) => x,
            None => msg::parse(bytes).ok()?,
        };
        self.message(header, body, bodies)
    }

    fn gss(&self) -> Option<GssService> {
        match self.facts {
            Facts::Call { gss, .. } => gss,
            Facts::Reply { pending, .. } => pending.and_then(|p| p.gss),
        }
    }

    /// Whether the pipeline itself needs the decoded body (`body`: the bytes after the
    /// RPC header): portmap answers teach ports, NFSv4 calls may name callback programs.
    fn teaches(&self, body: &[u8]) -> bool {
        let id = match self.facts {
            Facts::Call { id, .. } => id,
            Facts::Reply { pending, .. } => match pending {
                Some(p) => p.id,
                None => return false,
            },
        };
        id.prog == proto::PORTMAP
            || (id.prog == proto::NFS && id.vers == 4 && !id.cb && self.is_call() && proto::nfs4::may_name_cb_program(body))
    }

    fn is_call(&self) -> bool {
        matches!(self.facts, Facts::Call { .. })
    }

    /// `None` when the header is not the kind the facts were taken from.
    fn message<'a>(&self, header: Header<'a>, body: &'a [u8], bodies: bool) -> Option<Message<'a>> {
        let key = &self.key;
        let xid = match &header {
            Header::Call(h) => h.xid,
            Header::Reply(h) => h.xid,
        };
        let kind = match (header, self.facts) {
            (Header::Call(h), Facts::Call { id, gss, retransmit }) => {
                let body = if bodies { decode_call(id, gss, body) } else { CallBody::NotDecoded };
                Kind::Call { header: h, id, body, retransmit }
            }
            (Header::Reply(h), Facts::Reply { pending, duplicate }) => {
                let body = match (&pending, bodies && h.stat.is_success()) {
                    (Some(p), true) => decode_reply(p, body),
                    _ => ReplyBody::NotDecoded,
                };
                Kind::Reply {
                    stat: h.stat,
                    id: pending.map(|p| p.id),
                    body,
                    call: pending.map(|p| p.at),
                    latency_ns: pending.map(|p| self.at.ts - p.at.ts),
                    duplicate,
                }
            }
            _ => return None,
        };
        Some(Message { at: self.at, src: key.src, dst: key.dst, transport: key.transport, xid, partial: self.partial, kind })
    }
}

fn decode_call(id: ProcId, gss: Option<GssService>, body: &[u8]) -> CallBody<'_> {
    match gss {
        Some(GssService::Privacy) => CallBody::Protected("privacy"),
        Some(GssService::Integrity) => match msg::gss_integrity_body(body) {
            Ok((_, inner)) => proto::decode_call(id.prog, id.vers, id.proc_, id.cb, inner),
            Err(e) => CallBody::Malformed(e.to_string()),
        },
        Some(GssService::Unknown(_)) => CallBody::Protected("gss_control"),
        _ => proto::decode_call(id.prog, id.vers, id.proc_, id.cb, body),
    }
}

fn decode_reply<'a>(p: &Pending, body: &'a [u8]) -> ReplyBody<'a> {
    let id = p.id;
    match p.gss {
        Some(GssService::Privacy) => ReplyBody::Protected("privacy"),
        Some(GssService::Integrity) => match msg::gss_integrity_body(body) {
            Ok((_, inner)) => proto::decode_reply(id.prog, id.vers, id.proc_, id.cb, inner),
            Err(e) => ReplyBody::Malformed(e.to_string()),
        },
        Some(GssService::Unknown(_)) => ReplyBody::Protected("gss_control"),
        _ => proto::decode_reply(id.prog, id.vers, id.proc_, id.cb, body),
    }
}

/// The (prog, vers, IP protocol) a portmap/rpcbind lookup asks about.
fn portmap_lookup(body: &CallBody<'_>) -> Option<(u32, u32, u32)> {
    use proto::portmap::Call;
    match body {
        CallBody::Portmap(Call::Getport(m)) => Some((m.prog, m.vers, m.prot)),
        CallBody::Portmap(Call::Getaddr(r)) | CallBody::Portmap(Call::Getversaddr(r)) => {
            let netid = r.netid.as_str_lossy();
            let prot = if netid.starts_with("tcp") {
                6
            } else if netid.starts_with("udp") {
                17
            } else {
                return None;
            };
            Some((r.prog, r.vers, prot))
        }
        _ => None,
    }
}

impl ReplyStat<'_> {
    /// The accept_stat number (0 for SUCCESS) or `None` for a denied reply.
    pub fn accept_number(&self) -> Option<u32> {
        match self {
            ReplyStat::Accepted { stat, .. } => Some(stat.number()),
            ReplyStat::Denied(_) => None,
        }
    }
}
