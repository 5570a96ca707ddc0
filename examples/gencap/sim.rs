//! The simulated server and its clients.
//!
//! Half the clients are NFSv4.1 clients (session, long-held OPEN and LOCK on a shared
//! file, then cycles of OPEN, LOCK, LOCKT, LOCKU, CLOSE on a file of their own); the
//! other half are NFSv3 clients locking through NLM v4 over TCP (long-held LOCK on a
//! shared file, then cycles of TEST, LOCK, GETATTR (every fourth cycle WRITE and READ
//! of 4 KiB), UNLOCK). Halfway
//! through, the server dies: calls in flight are retransmitted into the void, then the
//! new instance resets the old connections, statd notifies the NLM clients, and every
//! client reclaims at once (BADSESSION, STALE_CLIENTID, new client ids, CLAIM_PREVIOUS
//! opens, reclaim locks, RECLAIM_COMPLETE). Until grace ends, new locks are refused
//! (NFS4ERR_GRACE, DENIED_GRACE_PERIOD) and retried; then the cycles go on. With
//! `v40` the NFSv4 clients speak NFSv4.0 instead ([`v40`]).

#[path = "v40.rs"]
mod v40;

use crate::wire::{Conn, Ep, Out, Ts, MS, SEC, US};
use gracewatch::client::nfs3::{self, Attr3};
use gracewatch::client::nfs4::{self, op, status, ChannelAttrs, Compound, LockArgs, Locker, Op, OpenArgs, OpenClaim, OpenHow, StateId};
use gracewatch::client::nfs4_res::{compound_res, Denied, ResOp};
use gracewatch::client::nlm::{self, stat, NlmLock};
use gracewatch::client::rpc::{self, AuthSys, Cred, ProcId};

pub const SERVER: [u8; 4] = [10, 0, 0, 1];
const NFS_PORT: u16 = 2049;
const RPCBIND: u16 = 111;
const CLIENT_STATD: u16 = 32765;
const SERVER_STATD: u16 = 950;
/// Client ports (connections, then the rpcbind query port).
const CLIENT_PORTS: (u16, u16) = (50_001, 54_000);
const CLIENT_RPCBIND_QUERY: u16 = 50_000;
/// lockd's port in each server instance.
const NLM_PORT: [u16; 2] = [4045, 32_803];
/// Boot epochs (the high half of client ids) of the two server instances.
const BOOT: [u32; 2] = [0x6550_0000, 0x6550_0151];
/// statd state numbers of the server host before and after the restart.
const SERVER_STATE: [i32; 2] = [3, 5];
/// Shared files the long-held locks are spread over.
const SHARED: u32 = 64;

#[derive(Debug, Clone)]
pub struct Params {
    pub clients: usize,
    /// Lock cycles per client (half before the restart, half after).
    pub cycles: u32,
    pub seed: u64,
    /// Time between a client's cycles.
    pub period: Ts,
    /// How long the server is down.
    pub down: Ts,
    /// The server's grace period (90 s rounded up to a 5 s tick, as ganesha does).
    pub grace: Ts,
    /// Capture start (epoch nanoseconds).
    pub start: Ts,
    /// The NFSv4 clients use minor version 0.
    pub v40: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params { clients: 2000, cycles: 90, seed: 1, period: SEC, down: 10 * SEC, grace: 95 * SEC, start: 1_700_000_000 * SEC, v40: false }
    }
}

/// splitmix64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    V41,
    V40,
    Nlm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Setup(u8),
    Cycle(u8),
    Recover(u8),
    Grace(u8),
    Done,
}

#[derive(Debug, Clone, Copy)]
enum Sel {
    Nfs,
    Nlm,
}

struct Client {
    i: usize,
    kind: Kind,
    ip: [u8; 4],
    cred: Cred,
    rng: Rng,
    xid: u32,
    port: u16,
    phase: Phase,
    cycles_done: u32,
    cycle_start: Ts,
    boot: usize,
    nfs: Option<Conn>,
    nlm: Option<Conn>,
    // NFSv4.1
    clientid: u64,
    eid_seq: u32,
    sessionid: [u8; 16],
    slot_seq: u32,
    long_open: Option<StateId>,
    long_lock: Option<StateId>,
    cyc_open: Option<StateId>,
    cyc_lock: Option<StateId>,
    /// The interrupted cycle is to be finished after the reclaims.
    reclaim_cycle: bool,
    // NLM
    cookie: u32,
    nlm_port: u16,
    long_held: bool,
    cyc_held: bool,
    file_size: u64,
}

struct Server {
    crash_at: Ts,
    up_at: Ts,
    grace_end: Ts,
    next_clientid: [u32; 2],
    next_stateid: u64,
    change: u64,
    /// Per client: its NFSv4 client id, and whether its long-held lock is held.
    clientid: Vec<u64>,
    long_held: Vec<bool>,
}

impl Server {
    fn boot(&self, t: Ts) -> usize {
        usize::from(t >= self.up_at)
    }
    fn down(&self, t: Ts) -> bool {
        t >= self.crash_at && t < self.up_at
    }
    fn in_grace(&self, t: Ts) -> bool {
        t >= self.up_at && t < self.grace_end
    }
    fn stateid(&mut self, t: Ts) -> StateId {
        self.next_stateid += 1;
        let mut other = [0u8; 12];
        other[..4].copy_from_slice(&BOOT[self.boot(t)].to_be_bytes());
        other[4..].copy_from_slice(&self.next_stateid.to_be_bytes());
        StateId { seqid: 1, other }
    }
    fn clientid(&mut self, t: Ts) -> u64 {
        let b = self.boot(t);
        self.next_clientid[b] += 1;
        (BOOT[b] as u64) << 32 | self.next_clientid[b] as u64
    }
}

/// NFSv4.1 servers answer CLOSE with the invalid special stateid (RFC 8881 §18.2.4).
fn closed(_: StateId) -> StateId {
    StateId { seqid: u32::MAX, other: [0; 12] }
}

fn bump(s: StateId) -> StateId {
    StateId { seqid: s.seqid.wrapping_add(1), ..s }
}

fn fh(kind: u8, n: u32) -> Vec<u8> {
    // knfsd-like: version, auth type, fsid type, fileid type, then the ids.
    let mut v = vec![1, 0, 7, kind, 0, 0x0f, 0x42, 0x17];
    v.extend_from_slice(&n.to_be_bytes());
    v.extend_from_slice(&(n ^ 0x5a5a_5a5a).to_be_bytes());
    v.extend_from_slice(&[0x9e, 0x37, 0x79, 0xb9]);
    v.extend_from_slice(&[0; 8]);
    v
}

fn v4_root() -> Vec<u8> {
    fh(0, 0)
}
fn v4_shared(k: u32) -> Vec<u8> {
    fh(1, k)
}
fn v4_cycle_file(i: usize) -> Vec<u8> {
    fh(2, i as u32)
}
fn v3_shared(k: u32) -> Vec<u8> {
    fh(0x81, k)
}
fn v3_file(i: usize) -> Vec<u8> {
    fh(0x82, i as u32)
}
fn open_owner(i: usize) -> Vec<u8> {
    format!("open id:{i:08x}").into_bytes()
}
fn lock_owner(i: usize) -> Vec<u8> {
    format!("lock id:{i:08x}").into_bytes()
}
fn hostname(i: usize) -> String {
    format!("client{i:05}")
}
const LONG_LEN: u64 = 4096;
fn long_offset(i: usize) -> u64 {
    i as u64 * LONG_LEN
}
const CYCLE_LEN: u64 = 1 << 20;

fn nlm_long(i: usize) -> NlmLock {
    let name = hostname(i);
    let svid = 1000 + (i as i32 % 30_000);
    NlmLock { oh: format!("{svid}@{name}").into_bytes(), caller_name: name, fh: v3_shared(i as u32 % SHARED), svid, offset: long_offset(i), len: LONG_LEN, exclusive: true }
}

fn nlm_cycle(i: usize) -> NlmLock {
    let name = hostname(i);
    let svid = 31_000 + (i as i32 % 30_000);
    NlmLock { oh: format!("{svid}@{name}").into_bytes(), caller_name: name, fh: v3_file(i), svid, offset: 0, len: CYCLE_LEN, exclusive: true }
}

pub struct Sim {
    p: Params,
    srv: Server,
    clients: Vec<Client>,
}

/// What one step did: when the client acts next (`None`: finished).
type Next = Option<Ts>;

impl Sim {
    pub fn new(p: Params) -> Sim {
        let crash_at = p.start + p.period * (1 + p.cycles as i64 / 2) + p.period / 3;
        let up_at = crash_at + p.down;
        let srv = Server {
            crash_at,
            up_at,
            grace_end: up_at + p.grace,
            next_clientid: [0, 0],
            next_stateid: 0,
            change: 1000,
            clientid: vec![0; p.clients],
            long_held: vec![false; p.clients],
        };
        let mut seed = Rng::new(p.seed);
        let clients = (0..p.clients)
            .map(|i| {
                let n = i as u32 + 1;
                let ip = [10, 1 + (n >> 16) as u8, (n >> 8) as u8, n as u8];
                let mut rng = Rng::new(seed.next());
                Client {
                    i,
                    kind: match (i % 2, p.v40) {
                        (0, false) => Kind::V41,
                        (0, true) => Kind::V40,
                        _ => Kind::Nlm,
                    },
                    ip,
                    cred: Cred::Sys(AuthSys { stamp: i as u32, machinename: hostname(i), uid: 0, gid: 0, gids: vec![0] }),
                    xid: rng.next() as u32,
                    port: CLIENT_PORTS.0 + rng.below((CLIENT_PORTS.1 - CLIENT_PORTS.0) as u64) as u16,
                    rng,
                    phase: Phase::Setup(0),
                    cycles_done: 0,
                    cycle_start: 0,
                    boot: 0,
                    nfs: None,
                    nlm: None,
                    clientid: 0,
                    eid_seq: 0,
                    sessionid: [0; 16],
                    slot_seq: 0,
                    long_open: None,
                    long_lock: None,
                    cyc_open: None,
                    cyc_lock: None,
                    reclaim_cycle: false,
                    cookie: 0,
                    nlm_port: 0,
                    long_held: false,
                    cyc_held: false,
                    file_size: 0,
                }
            })
            .collect();
        Sim { p, srv, clients }
    }

    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// When client `i` first acts.
    pub fn first_step(&mut self, i: usize) -> Ts {
        let p = self.p.period;
        self.p.start + self.clients[i].rng.below(p as u64) as Ts
    }

    /// Run client `i`'s next step at `t`.
    pub fn step(&mut self, i: usize, t: Ts, out: &mut Out) -> Next {
        let Sim { p, srv, clients } = self;
        let c = &mut clients[i];
        if c.phase == Phase::Done {
            return None;
        }
        if srv.down(t) {
            lost_call(srv, c, out, t);
            c.phase = Phase::Recover(0);
            return Some(srv.up_at + SEC + c.rng.below(4 * SEC as u64) as Ts);
        }
        if c.boot != srv.boot(t) && !matches!(c.phase, Phase::Recover(_) | Phase::Setup(_)) {
            c.phase = Phase::Recover(0);
        }
        match c.kind {
            Kind::V41 => v41_step(p, srv, c, t, out),
            Kind::V40 => v40::v40_step(p, srv, c, t, out),
            Kind::Nlm => nlm_step(p, srv, c, t, out),
        }
    }
}

impl Client {
    fn next_xid(&mut self) -> u32 {
        self.xid = self.xid.wrapping_add(1);
        self.xid
    }
    /// Client ports come from the ephemeral range (mounts with `noresvport`), from a
    /// stretch no dissector claims, so that tshark reads every stream as RPC.
    fn next_port(&mut self) -> u16 {
        self.port = if self.port >= CLIENT_PORTS.1 { CLIENT_PORTS.0 } else { self.port + 1 };
        self.port
    }
    fn ep(&self, port: u16) -> Ep {
        Ep { ip: self.ip, port }
    }
    fn sequence(&mut self) -> Op {
        self.slot_seq = self.slot_seq.wrapping_add(1);
        Op::Sequence { sessionid: self.sessionid, sequenceid: self.slot_seq, slotid: 0, highest_slotid: 0, cachethis: false }
    }
    fn seq_res(&self) -> ResOp {
        ResOp::Sequence { sessionid: self.sessionid, sequenceid: self.slot_seq, slotid: 0, highest_slotid: 0, status_flags: 0 }
    }
    /// What a COMPOUND starts with, and its results: SEQUENCE for NFSv4.1, nothing
    /// for NFSv4.0.
    fn v4_head(&mut self) -> (Vec<Op>, Vec<ResOp>) {
        if self.kind == Kind::V40 {
            return (Vec::new(), Vec::new());
        }
        let seq = self.sequence();
        (vec![seq], vec![self.seq_res()])
    }
    fn next_cookie(&mut self) -> Vec<u8> {
        self.cookie = self.cookie.wrapping_add(1);
        self.cookie.to_be_bytes().to_vec()
    }
    /// Pause after a step: a few hundred microseconds inside a cycle.
    fn quick(&mut self) -> Ts {
        200 * US + self.rng.below(800 * US as u64) as Ts
    }
    /// The next cycle starts about one period after this one began.
    fn next_cycle(&mut self, p: &Params, t: Ts) -> Ts {
        let jitter = self.rng.below(p.period as u64 / 5) as Ts;
        let at = self.cycle_start + p.period - p.period / 10 + jitter;
        at.max(t + 50 * MS)
    }
    /// The long-held lock is taken (`end`): on to the next reclaim step `recover`, or
    /// into the cycles.
    fn after_long_lock(&mut self, p: &Params, end: Ts, recover: Option<Phase>) -> Next {
        if let Some(next) = recover {
            self.phase = next;
            return Some(end + self.quick());
        }
        self.phase = Phase::Cycle(0);
        self.cycle_start = end;
        Some(self.next_cycle(p, end))
    }
    fn end_cycle(&mut self, p: &Params, t: Ts) -> Next {
        self.cycles_done += 1;
        if self.cycles_done >= p.cycles {
            self.phase = Phase::Done;
            return None;
        }
        self.phase = Phase::Cycle(0);
        Some(self.next_cycle(p, t))
    }
}

/// One call and its reply on a TCP connection to the server's `port`. A connection the
/// server no longer knows is reset first and a new one opened. `gap` is the time to
/// the client's next step: a long one lets the client's delayed ACK go out alone.
#[allow(clippy::too_many_arguments)]
fn call_tcp(srv: &Server, c: &mut Client, out: &mut Out, t: Ts, sel: Sel, port: u16, id: ProcId, args: &[u8], results: &[u8], gap: Ts) -> Ts {
    let boot = srv.boot(t);
    let xid = c.next_xid();
    let call = rpc::record_mark(&rpc::encode_call(xid, id, &c.cred, args));
    let mut t = t;
    let mut slot = match sel {
        Sel::Nfs => c.nfs.take(),
        Sel::Nlm => c.nlm.take(),
    };
    if let Some(conn) = slot.as_mut() {
        if conn.boot != boot as u32 {
            t = conn.reset_by_new_instance(out, t, &call) + 3 * MS;
            slot = None;
        } else if conn.server.port != port {
            slot = None;
        }
    }
    let mut conn = match slot {
        Some(conn) => conn,
        None => {
            let isn = c.rng.next() as u32;
            let cport = c.next_port();
            let ep = c.ep(cport);
            let (conn, t2) = Conn::open(out, t, ep, Ep { ip: SERVER, port }, isn, boot as u32);
            t = t2 + 40 * US;
            conn
        }
    };
    let sent = conn.client_send(out, t, &call, false);
    let service = 60 * US + (xid as Ts % 150) * US + (results.len() as Ts / 100) * US;
    let reply = rpc::record_mark(&rpc::encode_reply(xid, results));
    let end = conn.server_send(out, sent + service, &reply);
    if gap > 40 * MS {
        conn.client_ack(out, end + 40 * MS);
    }
    match sel {
        Sel::Nfs => c.nfs = Some(conn),
        Sel::Nlm => c.nlm = Some(conn),
    }
    end
}

/// One call and its reply over UDP between `from` and `to`.
fn call_udp(out: &mut Out, t: Ts, from: Ep, to: Ep, xid: u32, id: ProcId, cred: &Cred, args: &[u8], results: &[u8]) -> Ts {
    use crate::wire::udp_frame;
    let call = rpc::encode_call(xid, id, cred, args);
    out.push(t, udp_frame(from, to, (xid >> 3) as u16, &call, SERVER));
    let reply = rpc::encode_reply(xid, results);
    out.push(t + 90 * US, udp_frame(to, from, (xid >> 5) as u16, &reply, SERVER));
    t + 90 * US
}

/// The server is down: the client's call goes unanswered and is retransmitted.
fn lost_call(srv: &Server, c: &mut Client, out: &mut Out, t: Ts) {
    let xid = c.next_xid();
    let (args, id, sel) = match c.kind {
        Kind::V41 => {
            let seq = c.sequence();
            (Compound::new(1, "").op(seq).encode(), nfs4::nfs4(nfs4::NFS4_PROC_COMPOUND), Sel::Nfs)
        }
        Kind::V40 => (Compound::new(0, "").op(Op::Renew(c.clientid)).encode(), nfs4::nfs4(nfs4::NFS4_PROC_COMPOUND), Sel::Nfs),
        Kind::Nlm => {
            let ck = c.next_cookie();
            (nlm::test_args(&ck, &nlm_cycle(c.i)), nlm::nlm4(nlm::NLM4_TEST), Sel::Nlm)
        }
    };
    let call = rpc::record_mark(&rpc::encode_call(xid, id, &c.cred, &args));
    let conn = match sel {
        Sel::Nfs => c.nfs.as_mut(),
        Sel::Nlm => c.nlm.as_mut(),
    };
    if let Some(conn) = conn {
        conn.client_send_lost(out, t, &call, srv.up_at);
    }
}

fn compound(c: &Client, ops: Vec<Op>) -> Vec<u8> {
    let minor = if c.kind == Kind::V40 { 0 } else { 1 };
    Compound { minor, tag: String::new(), ops }.encode()
}

fn v4call(srv: &Server, c: &mut Client, out: &mut Out, t: Ts, ops: Vec<Op>, res: &[ResOp], gap: Ts) -> Ts {
    let args = compound(c, ops);
    let results = compound_res("", res);
    call_tcp(srv, c, out, t, Sel::Nfs, NFS_PORT, nfs4::nfs4(nfs4::NFS4_PROC_COMPOUND), &args, &results, gap)
}

fn open_args(c: &Client, claim: OpenClaim) -> OpenArgs {
    OpenArgs { seqid: 0, share_access: nfs4::SHARE_ACCESS_BOTH, share_deny: 0, clientid: c.clientid, owner: open_owner(c.i), how: OpenHow::NoCreate, claim }
}

fn lock_new(c: &Client, open: StateId, offset: u64, length: u64, reclaim: bool) -> Op {
    let locker = Locker::New { open_seqid: 0, open_stateid: open, lock_seqid: 0, clientid: c.clientid, owner: lock_owner(c.i) };
    Op::Lock(LockArgs { locktype: nfs4::WRITE_LT, reclaim, offset, length, locker })
}

fn ok(op: u32) -> ResOp {
    ResOp::Status { op, status: status::OK }
}

fn v4_open_res(srv: &mut Server, t: Ts) -> (StateId, ResOp) {
    let sid = srv.stateid(t);
    srv.change += 1;
    (sid, ResOp::Open { stateid: sid, change_before: srv.change - 1, change_after: srv.change, rflags: 4 })
}

/// LOCK of the cycle's file `fh` by `lock` (with a new lock owner); then the step `next`.
fn v4_cycle_lock(srv: &mut Server, c: &mut Client, out: &mut Out, t: Ts, fh: Vec<u8>, lock: Op, next: Phase) -> Next {
    let (mut ops, mut res) = c.v4_head();
    ops.extend([Op::PutFh(fh), lock]);
    let lsid = srv.stateid(t);
    res.extend([ok(op::PUTFH), ResOp::StateId { op: op::LOCK, stateid: lsid }]);
    let end = v4call(srv, c, out, t, ops, &res, 0);
    c.cyc_lock = Some(lsid);
    c.phase = next;
    Some(end + c.quick())
}

type Step = fn(&Params, &mut Server, &mut Client, Ts, &mut Out) -> Next;

/// OPEN of `fh` with CLAIM_PREVIOUS: the open the client held before the restart.
fn v4_reclaim_open(srv: &mut Server, c: &mut Client, out: &mut Out, t: Ts, fh: Vec<u8>) -> (StateId, Ts) {
    let (mut ops, mut res) = c.v4_head();
    ops.extend([Op::PutFh(fh), Op::Open(open_args(c, OpenClaim::Previous(0)))]);
    let (sid, open) = v4_open_res(srv, t);
    res.extend([ok(op::PUTFH), open]);
    (sid, v4call(srv, c, out, t, ops, &res, 0))
}

/// The long-held open on the shared file `fh`, reclaimed; then the step `next`.
fn v4_reclaim_long_open(srv: &mut Server, c: &mut Client, out: &mut Out, t: Ts, fh: Vec<u8>, next: Phase) -> Next {
    let (sid, end) = v4_reclaim_open(srv, c, out, t, fh);
    c.long_open = Some(sid);
    c.phase = next;
    Some(end + c.quick())
}

/// The interrupted cycle's open, reclaimed if there was one; then the step `next`.
fn v4_reclaim_cycle_open(p: &Params, srv: &mut Server, c: &mut Client, t: Ts, out: &mut Out, next: Phase, step: Step) -> Next {
    c.phase = next;
    if c.cyc_open.is_none() {
        return step(p, srv, c, t, out);
    }
    let (sid, end) = v4_reclaim_open(srv, c, out, t, v4_cycle_file(c.i));
    c.cyc_open = Some(sid);
    Some(end + c.quick())
}

/// Now and then, a LOCKT by `owner` of a neighbour's long-held lock (denied while it
/// holds it); otherwise straight on with `step`.
fn v4_lockt(p: &Params, srv: &mut Server, c: &mut Client, t: Ts, out: &mut Out, owner: Vec<u8>, step: Step) -> Next {
    let j = (c.i + 2) % srv.clientid.len();
    c.phase = Phase::Cycle(3);
    if c.cycles_done % 4 != 3 || j == c.i {
        return step(p, srv, c, t, out);
    }
    let (mut ops, mut res) = c.v4_head();
    ops.extend([
        Op::PutFh(v4_shared(j as u32 % SHARED)),
        Op::LockT { locktype: nfs4::WRITE_LT, offset: long_offset(j), length: LONG_LEN, clientid: c.clientid, owner },
    ]);
    let lockt = if srv.long_held[j] {
        let denied = Denied { offset: long_offset(j), length: LONG_LEN, locktype: nfs4::WRITE_LT, clientid: srv.clientid[j], owner: lock_owner(j) };
        ResOp::Denied { op: op::LOCKT, denied }
    } else {
        ok(op::LOCKT)
    };
    res.extend([ok(op::PUTFH), lockt]);
    let end = v4call(srv, c, out, t, ops, &res, 0);
    Some(end + c.quick())
}

fn v41_step(p: &Params, srv: &mut Server, c: &mut Client, t: Ts, out: &mut Out) -> Next {
    let i = c.i;
    let shared = v4_shared(i as u32 % SHARED);
    let cf = v4_cycle_file(i);
    match c.phase {
        Phase::Setup(0) | Phase::Recover(2) => {
            c.clientid = srv.clientid(t);
            srv.clientid[i] = c.clientid;
            c.eid_seq = 1;
            c.boot = srv.boot(t);
            let owner = format!("Linux NFSv4.1 {}", hostname(i)).into_bytes();
            let ops = vec![Op::ExchangeId { verifier: (c.ip[3] as u64 | (c.i as u64) << 8).to_be_bytes(), owner, flags: 0x0001_0001 }];
            let res = [ResOp::ExchangeId { clientid: c.clientid, sequenceid: 1, flags: 0x0001_0000, major_id: b"gracesrv".to_vec(), scope: b"gracesrv".to_vec() }];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.phase = if let Phase::Setup(_) = c.phase { Phase::Setup(1) } else { Phase::Recover(3) };
            Some(end + c.quick())
        }
        Phase::Setup(1) | Phase::Recover(3) => {
            let mut sid = [0u8; 16];
            sid[..8].copy_from_slice(&c.clientid.to_be_bytes());
            sid[8..12].copy_from_slice(&1u32.to_be_bytes());
            c.sessionid = sid;
            c.slot_seq = 0;
            let fore = ChannelAttrs::default();
            let back = ChannelAttrs { maxrequests: 1, ..ChannelAttrs::default() };
            let ops = vec![Op::CreateSession { clientid: c.clientid, sequence: c.eid_seq, flags: 0, fore, back, cb_program: 0x4000_0000 }];
            let res = [ResOp::CreateSession { sessionid: sid, sequenceid: c.eid_seq, flags: 0, fore, back }];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.phase = if let Phase::Setup(_) = c.phase { Phase::Setup(2) } else { Phase::Recover(4) };
            Some(end + c.quick())
        }
        Phase::Setup(2) => {
            let ops = vec![c.sequence(), Op::ReclaimComplete { one_fs: false }];
            let res = [c.seq_res(), ok(op::RECLAIM_COMPLETE)];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.phase = Phase::Setup(3);
            Some(end + c.quick())
        }
        Phase::Setup(3) => {
            let name = format!("shared-{}", i as u32 % SHARED);
            let ops = vec![c.sequence(), Op::PutFh(v4_root()), Op::Open(open_args(c, OpenClaim::Null(name))), Op::GetFh];
            let (sid, open) = v4_open_res(srv, t);
            let res = [c.seq_res(), ok(op::PUTFH), open, ResOp::GetFh(shared.clone())];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.long_open = Some(sid);
            c.phase = Phase::Setup(4);
            Some(end + c.quick())
        }
        Phase::Setup(4) => {
            let open = c.long_open.unwrap_or_default();
            let ops = vec![c.sequence(), Op::PutFh(shared), lock_new(c, open, long_offset(i), LONG_LEN, false)];
            let lsid = srv.stateid(t);
            let res = [c.seq_res(), ok(op::PUTFH), ResOp::StateId { op: op::LOCK, stateid: lsid }];
            let end = v4call(srv, c, out, t, ops, &res, p.period);
            c.long_lock = Some(lsid);
            srv.long_held[i] = true;
            c.phase = Phase::Cycle(0);
            c.cycle_start = end;
            Some(c.next_cycle(p, end))
        }
        Phase::Cycle(0) => {
            c.cycle_start = t;
            let ops = vec![c.sequence(), Op::PutFh(cf), Op::Open(open_args(c, OpenClaim::Fh))];
            let (sid, open) = v4_open_res(srv, t);
            let res = [c.seq_res(), ok(op::PUTFH), open];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.cyc_open = Some(sid);
            c.phase = Phase::Cycle(1);
            Some(end + c.quick())
        }
        Phase::Cycle(1) => {
            let lock = lock_new(c, c.cyc_open.unwrap_or_default(), 0, CYCLE_LEN, false);
            v4_cycle_lock(srv, c, out, t, cf, lock, Phase::Cycle(2))
        }
        Phase::Cycle(2) => v4_lockt(p, srv, c, t, out, lock_owner(i), v41_step),
        Phase::Cycle(3) => {
            let lsid = c.cyc_lock.take().unwrap_or_default();
            let ops = vec![c.sequence(), Op::PutFh(cf), Op::LockU { locktype: nfs4::WRITE_LT, seqid: 0, stateid: lsid, offset: 0, length: CYCLE_LEN }];
            let res = [c.seq_res(), ok(op::PUTFH), ResOp::StateId { op: op::LOCKU, stateid: bump(lsid) }];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.phase = Phase::Cycle(4);
            Some(end + c.quick())
        }
        Phase::Cycle(_) => {
            let osid = c.cyc_open.take().unwrap_or_default();
            let ops = vec![c.sequence(), Op::PutFh(cf), Op::Close { seqid: 0, stateid: osid }];
            let res = [c.seq_res(), ok(op::PUTFH), ResOp::StateId { op: op::CLOSE, stateid: closed(osid) }];
            let end = v4call(srv, c, out, t, ops, &res, p.period);
            c.end_cycle(p, end)
        }
        Phase::Recover(0) => {
            // The old session is gone; the old connection is reset on first use.
            let ops = vec![c.sequence()];
            let res = [ResOp::Status { op: op::SEQUENCE, status: status::BADSESSION }];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            srv.long_held[c.i] = false;
            c.reclaim_cycle = c.cyc_open.is_some();
            c.phase = Phase::Recover(1);
            Some(end + c.quick())
        }
        Phase::Recover(1) => {
            let ops = vec![Op::CreateSession { clientid: c.clientid, sequence: c.eid_seq + 1, flags: 0, fore: ChannelAttrs::default(), back: ChannelAttrs::default(), cb_program: 0x4000_0000 }];
            let res = [ResOp::Status { op: op::CREATE_SESSION, status: status::STALE_CLIENTID }];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.phase = Phase::Recover(2);
            Some(end + c.quick())
        }
        Phase::Recover(4) => v4_reclaim_long_open(srv, c, out, t, shared, Phase::Recover(5)),
        Phase::Recover(5) => {
            let open = c.long_open.unwrap_or_default();
            let ops = vec![c.sequence(), Op::PutFh(shared), lock_new(c, open, long_offset(i), LONG_LEN, true)];
            let lsid = srv.stateid(t);
            let res = [c.seq_res(), ok(op::PUTFH), ResOp::StateId { op: op::LOCK, stateid: lsid }];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.long_lock = Some(lsid);
            srv.long_held[i] = true;
            c.phase = Phase::Recover(6);
            Some(end + c.quick())
        }
        Phase::Recover(6) => v4_reclaim_cycle_open(p, srv, c, t, out, Phase::Recover(7), v41_step),
        Phase::Recover(7) => {
            c.phase = Phase::Recover(8);
            let (Some(open), Some(_)) = (c.cyc_open, c.cyc_lock) else { return v41_step(p, srv, c, t, out) };
            let lock = lock_new(c, open, 0, CYCLE_LEN, true);
            v4_cycle_lock(srv, c, out, t, cf, lock, Phase::Recover(8))
        }
        Phase::Recover(8) => {
            let ops = vec![c.sequence(), Op::ReclaimComplete { one_fs: false }];
            let res = [c.seq_res(), ok(op::RECLAIM_COMPLETE)];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.phase = Phase::Recover(9);
            Some(end + c.quick())
        }
        Phase::Recover(9) => {
            // Finish the interrupted cycle: unlocking and closing are allowed in grace.
            if let Some(lsid) = c.cyc_lock.take() {
                let ops = vec![c.sequence(), Op::PutFh(cf), Op::LockU { locktype: nfs4::WRITE_LT, seqid: 0, stateid: lsid, offset: 0, length: CYCLE_LEN }];
                let res = [c.seq_res(), ok(op::PUTFH), ResOp::StateId { op: op::LOCKU, stateid: bump(lsid) }];
                let end = v4call(srv, c, out, t, ops, &res, 0);
                return Some(end + c.quick());
            }
            if let Some(osid) = c.cyc_open.take() {
                let ops = vec![c.sequence(), Op::PutFh(cf), Op::Close { seqid: 0, stateid: osid }];
                let res = [c.seq_res(), ok(op::PUTFH), ResOp::StateId { op: op::CLOSE, stateid: closed(osid) }];
                let end = v4call(srv, c, out, t, ops, &res, 0);
                return Some(end + c.quick());
            }
            if c.reclaim_cycle {
                c.reclaim_cycle = false;
                c.cycles_done += 1;
            }
            c.phase = Phase::Grace(0);
            Some(t + c.rng.below(3 * SEC as u64) as Ts)
        }
        Phase::Grace(_) => {
            // A new OPEN: refused until the server's grace ends.
            c.cycle_start = t;
            let ops = vec![c.sequence(), Op::PutFh(cf), Op::Open(open_args(c, OpenClaim::Fh))];
            if srv.in_grace(t) {
                let res = [c.seq_res(), ok(op::PUTFH), ResOp::Status { op: op::OPEN, status: status::GRACE }];
                let end = v4call(srv, c, out, t, ops, &res, SEC);
                return Some(end + 5 * SEC + c.rng.below(2 * SEC as u64) as Ts);
            }
            let (sid, open) = v4_open_res(srv, t);
            let res = [c.seq_res(), ok(op::PUTFH), open];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.cyc_open = Some(sid);
            c.phase = Phase::Cycle(1);
            Some(end + c.quick())
        }
        Phase::Recover(_) | Phase::Setup(_) | Phase::Done => None,
    }
}

fn nlm_call(srv: &Server, c: &mut Client, out: &mut Out, t: Ts, proc_: u32, args: &[u8], results: &[u8], gap: Ts) -> Ts {
    let port = NLM_PORT[srv.boot(t)];
    call_tcp(srv, c, out, t, Sel::Nlm, port, nlm::nlm4(proc_), args, results, gap)
}

fn attr(c: &Client, t: Ts) -> Attr3 {
    Attr3 { mode: 0o100644, uid: 1000, gid: 1000, size: c.file_size, fileid: 0x1_0000 + c.i as u64, time: (t / SEC) as u32 }
}

/// The client asks the server's rpcbind where lockd listens.
fn getport(srv: &Server, c: &mut Client, out: &mut Out, t: Ts) -> Ts {
    let xid = c.next_xid();
    let port = NLM_PORT[srv.boot(t)];
    c.nlm_port = port;
    let from = c.ep(CLIENT_RPCBIND_QUERY);
    let args = nfs3::getport_args(nlm::NLM_PROG, nlm::NLM_VERS4, nfs3::IPPROTO_TCP);
    let id = ProcId { prog: nfs3::PMAP_PROG, vers: 2, proc_: nfs3::PMAPPROC_GETPORT };
    call_udp(out, t, from, Ep { ip: SERVER, port: RPCBIND }, xid, id, &c.cred, &args, &nfs3::getport_res(port as u32))
}

fn nlm_step(p: &Params, srv: &mut Server, c: &mut Client, t: Ts, out: &mut Out) -> Next {
    let i = c.i;
    let long = nlm_long(i);
    let cyc = nlm_cycle(i);
    let nsm_state = 1;
    match c.phase {
        Phase::Setup(0) | Phase::Recover(1) => {
            c.boot = srv.boot(t);
            let end = getport(srv, c, out, t);
            c.phase = if let Phase::Setup(_) = c.phase { Phase::Setup(1) } else { Phase::Recover(2) };
            Some(end + c.quick())
        }
        Phase::Setup(_) | Phase::Recover(2) => {
            let reclaim = matches!(c.phase, Phase::Recover(_));
            let ck = c.next_cookie();
            let end = nlm_call(srv, c, out, t, nlm::NLM4_LOCK, &nlm::lock_args(&ck, &long, false, reclaim, nsm_state), &nlm::res(&ck, stat::GRANTED), 0);
            c.long_held = true;
            srv.long_held[i] = true;
            c.after_long_lock(p, end, reclaim.then_some(Phase::Recover(3)))
        }
        Phase::Cycle(0) => {
            c.cycle_start = t;
            let ck = c.next_cookie();
            let j = (i + 2) % srv.long_held.len();
            let end = if c.cycles_done % 4 == 3 && j != i {
                let other = nlm_long(j);
                let probe = NlmLock { offset: other.offset, len: other.len, fh: other.fh.clone(), ..cyc.clone() };
                let holder = srv.long_held[j].then_some(&other);
                let st = if holder.is_some() { stat::DENIED } else { stat::GRANTED };
                nlm_call(srv, c, out, t, nlm::NLM4_TEST, &nlm::test_args(&ck, &probe), &nlm::test_res(&ck, st, holder), 0)
            } else {
                nlm_call(srv, c, out, t, nlm::NLM4_TEST, &nlm::test_args(&ck, &cyc), &nlm::test_res(&ck, stat::GRANTED, None), 0)
            };
            c.phase = Phase::Cycle(1);
            Some(end + c.quick())
        }
        Phase::Cycle(1) => {
            let ck = c.next_cookie();
            let end = nlm_call(srv, c, out, t, nlm::NLM4_LOCK, &nlm::lock_args(&ck, &cyc, false, false, nsm_state), &nlm::res(&ck, stat::GRANTED), 0);
            c.cyc_held = true;
            c.phase = Phase::Cycle(2);
            Some(end + c.quick())
        }
        Phase::Cycle(2) if c.cycles_done % 4 == 1 => {
            // Every fourth cycle writes and reads back a block under the lock.
            let before = attr(c, t);
            let off = (c.cycles_done as u64 * 4096) % CYCLE_LEN;
            c.file_size = c.file_size.max(off + 4096);
            let data = [(i % 251) as u8; 4096];
            let args = nfs3::write_args(&v3_file(i), off, 2, &data);
            let res = nfs3::write_res(&before, &attr(c, t), 4096, 2, [7; 8]);
            let end = call_tcp(srv, c, out, t, Sel::Nfs, NFS_PORT, nfs3::nfs3(nfs3::NFSPROC3_WRITE), &args, &res, 0);
            c.phase = Phase::Cycle(3);
            Some(end + c.quick())
        }
        Phase::Cycle(3) => {
            let off = (c.cycles_done as u64 * 4096) % CYCLE_LEN;
            let data = [(i % 251) as u8; 4096];
            let res = nfs3::read_res(&attr(c, t), false, &data);
            let end = call_tcp(srv, c, out, t, Sel::Nfs, NFS_PORT, nfs3::nfs3(nfs3::NFSPROC3_READ), &nfs3::read_args(&v3_file(i), off, 4096), &res, 0);
            c.phase = Phase::Cycle(4);
            Some(end + c.quick())
        }
        Phase::Cycle(2) | Phase::Grace(0) => {
            let res = nfs3::getattr_res(&attr(c, t));
            let end = call_tcp(srv, c, out, t, Sel::Nfs, NFS_PORT, nfs3::nfs3(nfs3::NFSPROC3_GETATTR), &nfs3::getattr_args(&v3_file(i)), &res, 0);
            c.phase = if c.phase == Phase::Cycle(2) { Phase::Cycle(5) } else { Phase::Grace(1) };
            Some(end + c.quick())
        }
        Phase::Cycle(4) => {
            let res = nfs3::getattr_res(&attr(c, t));
            let end = call_tcp(srv, c, out, t, Sel::Nfs, NFS_PORT, nfs3::nfs3(nfs3::NFSPROC3_GETATTR), &nfs3::getattr_args(&v3_file(i)), &res, 0);
            c.phase = Phase::Cycle(5);
            Some(end + c.quick())
        }
        Phase::Cycle(_) => {
            let ck = c.next_cookie();
            let end = nlm_call(srv, c, out, t, nlm::NLM4_UNLOCK, &nlm::unlock_args(&ck, &cyc), &nlm::res(&ck, stat::GRANTED), p.period);
            c.cyc_held = false;
            c.end_cycle(p, end)
        }
        Phase::Recover(0) => {
            // The server host's statd tells the client it rebooted.
            srv.long_held[i] = false;
            let srv_ep = Ep { ip: SERVER, port: SERVER_STATD };
            let xid = (c.rng.next() as u32) | 1;
            let id = ProcId { prog: nfs3::PMAP_PROG, vers: 2, proc_: nfs3::PMAPPROC_GETPORT };
            let args = nfs3::getport_args(nlm::NSM_PROG, 1, nfs3::IPPROTO_UDP);
            let end = call_udp(out, t, srv_ep, c.ep(RPCBIND), xid, id, &Cred::None, &args, &nfs3::getport_res(CLIENT_STATD as u32));
            let args = nlm::sm_notify_args(&std::net::Ipv4Addr::from(SERVER).to_string(), SERVER_STATE[1]);
            let end = call_udp(out, end + 300 * US, srv_ep, c.ep(CLIENT_STATD), xid.wrapping_add(1), nlm::nsm(nlm::SM_NOTIFY), &Cred::None, &args, &[]);
            c.phase = Phase::Recover(1);
            Some(end + 2 * MS + c.quick())
        }
        Phase::Recover(3) => {
            c.phase = Phase::Grace(0);
            if !c.cyc_held {
                return Some(t + c.rng.below(3 * SEC as u64) as Ts);
            }
            let ck = c.next_cookie();
            let end = nlm_call(srv, c, out, t, nlm::NLM4_LOCK, &nlm::lock_args(&ck, &cyc, false, true, nsm_state), &nlm::res(&ck, stat::GRANTED), SEC);
            Some(end + 50 * MS + c.rng.below(3 * SEC as u64) as Ts)
        }
        Phase::Grace(_) => {
            // A new lock (or, holding the cycle's lock, a test): refused until grace ends.
            c.cycle_start = t;
            let ck = c.next_cookie();
            let grace = srv.in_grace(t);
            let st = if grace { stat::DENIED_GRACE_PERIOD } else { stat::GRANTED };
            let end = if c.cyc_held {
                nlm_call(srv, c, out, t, nlm::NLM4_TEST, &nlm::test_args(&ck, &cyc), &nlm::test_res(&ck, st, None), SEC)
            } else {
                nlm_call(srv, c, out, t, nlm::NLM4_LOCK, &nlm::lock_args(&ck, &cyc, false, false, nsm_state), &nlm::res(&ck, st), SEC)
            };
            if grace {
                c.phase = Phase::Grace(0);
                return Some(end + 5 * SEC + c.rng.below(2 * SEC as u64) as Ts);
            }
            c.cyc_held = true;
            c.phase = Phase::Cycle(2);
            Some(end + c.quick())
        }
        Phase::Recover(_) | Phase::Done => None,
    }
}

/// What a generated capture holds.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub packets: u64,
    pub bytes: u64,
    pub first: Ts,
    pub last: Ts,
    pub crash_at: Ts,
    pub up_at: Ts,
    pub grace_end: Ts,
}

/// Write the whole capture to `w`.
pub fn generate<W: std::io::Write>(p: Params, w: W) -> std::io::Result<(Summary, W)> {
    use crate::wire::PcapWriter;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut sim = Sim::new(p.clone());
    let mut events: BinaryHeap<Reverse<(Ts, usize)>> = (0..sim.clients()).map(|i| Reverse((sim.first_step(i), i))).collect();
    let mut out = Out::default();
    let mut pw = PcapWriter::new(w)?;
    while let Some(Reverse((t, i))) = events.pop() {
        out.flush(t, &mut pw)?;
        if let Some(next) = sim.step(i, t, &mut out) {
            events.push(Reverse((next.max(t + 1), i)));
        }
    }
    out.flush(Ts::MAX, &mut pw)?;
    let s = Summary {
        packets: pw.packets,
        bytes: pw.bytes,
        first: pw.first,
        last: pw.last,
        crash_at: sim.srv.crash_at,
        up_at: sim.srv.up_at,
        grace_end: sim.srv.grace_end,
    };
    Ok((s, pw.into_inner()))
}
