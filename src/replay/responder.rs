//! A minimal in-process RPC server that grants everything at once: the yardstick for
//! the replayer's own ceiling (replaying against it measures the tool, not a server).
//!
//! One port, TCP and UDP, every program: portmap GETPORT/GETADDR answer its own port;
//! NLM v4 TEST/LOCK/CANCEL/UNLOCK answer GRANTED with the call's cookie; NFSv4
//! COMPOUNDs get NFS4_OK for every operation with made-up client ids, sessions and
//! stateids (the operations a replay sends; anything else is NFS4ERR_NOTSUPP). It
//! runs on its own threads (one single-threaded runtime each, sharing the TCP port
//! through SO_REUSEPORT) until stopped.

use crate::proto::nfs4::{self, OpArgs};
use crate::rpc::msg::{parse, Header};
use crate::xdr::{self, Enc};
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;

/// What the responder answered, and refusals to make (for tests of the replayer's
/// retries): the next `nlm_grace` NLM LOCKs are answered DENIED_GRACE_PERIOD, the next
/// `open_delay` / `open_grace` OPENs NFS4ERR_DELAY / NFS4ERR_GRACE, and the next
/// `drop_calls` calls over TCP get their connection closed instead of an answer.
#[derive(Debug, Default)]
pub struct Counters {
    pub nlm_grace: AtomicU64,
    pub open_delay: AtomicU64,
    pub open_grace: AtomicU64,
    pub drop_calls: AtomicU64,
    pub connections: AtomicU64,
    pub calls: AtomicU64,
    pub nlm_locks: AtomicU64,
    pub compounds: AtomicU64,
    ids: AtomicU64,
    /// CPU microseconds its threads used (added as each thread stops).
    pub cpu_us: AtomicU64,
}

pub struct Responder {
    pub addr: SocketAddrV4,
    pub counters: Arc<Counters>,
    stop: watch::Sender<bool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Responder {
    /// Listen on `ip` (port chosen by the kernel) with `threads` threads.
    pub fn start(ip: Ipv4Addr, threads: usize) -> io::Result<Responder> {
        let (stop, rx) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let first = std::net::TcpListener::bind(SocketAddrV4::new(ip, 0))?;
        let port = first.local_addr()?.port();
        drop(first);
        let socks = (0..threads.max(1)).map(|_| reuseport_listener(ip, port)).collect::<io::Result<Vec<_>>>()?;
        let udp = std::net::UdpSocket::bind(SocketAddrV4::new(ip, port))?;
        udp.set_nonblocking(true)?;
        let addr = SocketAddrV4::new(ip, port);
        let mut handles = Vec::new();
        for (i, l) in socks.into_iter().enumerate() {
            l.set_nonblocking(true)?;
            let (c, mut rx) = (counters.clone(), rx.clone());
            let cu = counters.clone();
            let u = if i == 0 { Some(udp.try_clone()?) } else { None };
            let h = std::thread::Builder::new().name(format!("responder-{i}")).spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                rt.block_on(async move {
                    let Ok(l) = TcpListener::from_std(l) else { return };
                    let udp_task = u.and_then(|u| UdpSocket::from_std(u).ok()).map(|u| tokio::spawn(serve_udp(u, addr, c.clone())));
                    tokio::select! {
                        _ = accept_loop(l, addr, c) => {}
                        _ = rx.changed() => {}
                    }
                    if let Some(t) = udp_task {
                        t.abort();
                    }
                });
                drop(rt);
                cu.cpu_us.fetch_add((crate::replay::send::thread_cpu() * 1e6) as u64, Ordering::Relaxed);
            })?;
            handles.push(h);
        }
        Ok(Responder { addr, counters, stop, threads: handles })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Stop answering and join the threads; returns the CPU seconds they used.
    pub fn stop(mut self) -> f64 {
        let _ = self.stop.send(true);
        for h in self.threads.drain(..) {
            let _ = h.join();
        }
        self.counters.cpu_us.load(Ordering::Relaxed) as f64 / 1e6
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A listening socket with SO_REUSEPORT, so that every thread accepts on the port.
fn reuseport_listener(ip: Ipv4Addr, port: u16) -> io::Result<std::net::TcpListener> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket(2); the fd is owned by the listener below or closed on error.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket we own; from here the listener closes it.
    let l = unsafe { std::net::TcpListener::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    let sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(ip).to_be() },
        sin_zero: [0; 8],
    };
    // SAFETY: valid fd, option pointers and sockaddr that outlive the calls.
    let ok = unsafe {
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &one as *const _ as *const libc::c_void, 4) == 0
            && libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, &one as *const _ as *const libc::c_void, 4) == 0
            && libc::bind(fd, &sa as *const libc::sockaddr_in as *const libc::sockaddr, std::mem::size_of::<libc::sockaddr_in>() as u32) == 0
            && libc::listen(fd, 4096) == 0
    };
    if !ok {
        return Err(io::Error::last_os_error());
    }
    Ok(l)
}

async fn accept_loop(l: TcpListener, me: SocketAddrV4, c: Arc<Counters>) {
    loop {
        let Ok((s, _)) = l.accept().await else {
            // out of descriptors, most likely: let connections finish
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        c.connections.fetch_add(1, Ordering::Relaxed);
        let _ = s.set_nodelay(true);
        tokio::spawn(serve_tcp(s, me, c.clone()));
    }
}

async fn serve_tcp(mut s: TcpStream, me: SocketAddrV4, c: Arc<Counters>) {
    let mut rec = Vec::new();
    loop {
        rec.clear();
        loop {
            let mut m = [0u8; 4];
            if s.read_exact(&mut m).await.is_err() {
                return;
            }
            let v = u32::from_be_bytes(m);
            let len = (v & 0x7fff_ffff) as usize;
            if rec.len() + len > 1 << 20 {
                return;
            }
            let start = rec.len();
            rec.resize(start + len, 0);
            if s.read_exact(&mut rec[start..]).await.is_err() {
                return;
            }
            if v & 0x8000_0000 != 0 {
                break;
            }
        }
        if take(&c.drop_calls) {
            return;
        }
        if let Some(reply) = answer(&rec, me, &c) {
            let mut out = Vec::with_capacity(reply.len() + 4);
            out.extend_from_slice(&(0x8000_0000u32 | reply.len() as u32).to_be_bytes());
            out.extend_from_slice(&reply);
            if s.write_all(&out).await.is_err() {
                return;
            }
        }
    }
}

async fn serve_udp(u: UdpSocket, me: SocketAddrV4, c: Arc<Counters>) {
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, peer)) = u.recv_from(&mut buf).await else { continue };
        if let Some(reply) = answer(&buf[..n], me, &c) {
            let _ = u.send_to(&reply, peer).await;
        }
    }
}

const NFS4ERR_NOTSUPP: u32 = 10004;

/// Use up one of a refusal budget.
fn take(n: &AtomicU64) -> bool {
    n.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1)).is_ok()
}

/// The reply to one call message (`None` for a reply or garbage).
pub fn answer(msg: &[u8], me: SocketAddrV4, c: &Counters) -> Option<Vec<u8>> {
    let (Header::Call(h), body) = parse(msg).ok()? else { return None };
    c.calls.fetch_add(1, Ordering::Relaxed);
    let mut e = Enc::new();
    e.u32(h.xid).u32(1).u32(0).u32(0).u32(0); // REPLY, MSG_ACCEPTED, AUTH_NONE verifier
    match (h.prog, h.vers, h.proc_) {
        (_, _, 0) => {
            e.u32(0);
        }
        (100000, 2, 3) => {
            e.u32(0).u32(u32::from(me.port()));
        }
        (100000, 3 | 4, 3) => {
            let p = me.port();
            let o = me.ip().octets();
            e.u32(0).string(&format!("{}.{}.{}.{}.{}.{}", o[0], o[1], o[2], o[3], p >> 8, p & 0xff));
        }
        (100021, 4, 1..=4) => {
            let (_, cookie) = xdr::opaque(body).ok()?;
            let mut stat = 0;
            if h.proc_ == 2 {
                c.nlm_locks.fetch_add(1, Ordering::Relaxed);
                if take(&c.nlm_grace) {
                    stat = 4;
                }
            }
            e.u32(0).opaque(cookie).u32(stat);
        }
        (100003, 4, 1) => {
            c.compounds.fetch_add(1, Ordering::Relaxed);
            e.u32(0);
            compound(&mut e, body, c);
        }
        (100000 | 100021 | 100003, _, _) => {
            e.u32(3); // PROC_UNAVAIL
        }
        _ => {
            e.u32(1); // PROG_UNAVAIL
        }
    }
    Some(e.into_vec())
}

fn stateid(e: &mut Enc, c: &Counters) {
    let id = c.ids.fetch_add(1, Ordering::Relaxed);
    e.u32(1).fixed(&id.to_be_bytes()).u32(0x6777);
}

fn compound(e: &mut Enc, body: &[u8], c: &Counters) {
    let Ok(call) = nfs4::decode_call(4, 1, body) else {
        e.u32(10036).string("").u32(0); // NFS4ERR_BADXDR
        return;
    };
    let mut res = Enc::new();
    let mut n = 0u32;
    let mut status = 0u32;
    let mut cur_fh: Vec<u8> = vec![0x67; 8];
    for o in &call.ops {
        n += 1;
        res.u32(o.op);
        let refusal = match o.op {
            18 if take(&c.open_delay) => Some(10008),
            18 if take(&c.open_grace) => Some(10013),
            _ => None,
        };
        match (&o.args, o.op) {
            (OpArgs::Putfh { fh }, _) => {
                cur_fh = fh.0 .0.to_vec();
                res.u32(0);
            }
            (_, 24) => {
                cur_fh = vec![0x67; 8];
                res.u32(0);
            }
            (OpArgs::Lookup { objname }, _) => {
                let mut h = cur_fh.clone();
                h.extend_from_slice(&objname.0[..objname.0.len().min(16)]);
                h.truncate(64);
                cur_fh = h;
                res.u32(0);
            }
            (_, 10) => {
                res.u32(0).opaque(&cur_fh);
            }
            (OpArgs::Sequence(s), _) => {
                res.u32(0).fixed(s.sessionid.0).u32(s.sequenceid).u32(s.slotid).u32(s.highest_slotid).u32(s.highest_slotid).u32(0);
            }
            (OpArgs::CreateSession(a), _) => {
                let id = c.ids.fetch_add(1, Ordering::Relaxed);
                let mut sid = [0u8; 16];
                sid[..8].copy_from_slice(&id.to_be_bytes());
                sid[8..].copy_from_slice(&a.clientid.to_be_bytes());
                res.u32(0).fixed(&sid).u32(a.sequence).u32(0);
                for _ in 0..2 {
                    res.u32(0).u32(1 << 20).u32(1 << 20).u32(4096).u32(16).u32(8).u32(0);
                }
            }
            (_, 35) => {
                let id = c.ids.fetch_add(1, Ordering::Relaxed);
                res.u32(0).u64(0x6777_0000_0000_0000 | id).fixed(&id.to_be_bytes());
            }
            (_, 42) => {
                let id = c.ids.fetch_add(1, Ordering::Relaxed);
                res.u32(0).u64(0x6777_0000_0000_0000 | id).u32(1).u32(0x0001_0000).u32(0);
                res.u64(0).opaque(b"responder").opaque(b"responder").u32(0);
            }
            (_, 18) if refusal.is_some() => {
                let st = refusal.unwrap_or(0);
                res.u32(st);
                status = st;
                break;
            }
            (_, 18) => {
                res.u32(0);
                stateid(&mut res, c);
                res.bool(true).u64(0).u64(1).u32(4).u32(0).u32(0); // cinfo, rflags LOCKTYPE_POSIX, attrset, OPEN_DELEGATE_NONE
            }
            (_, 12 | 14 | 20 | 4) => {
                res.u32(0);
                stateid(&mut res, c);
            }
            (_, 9) => {
                res.u32(0).u32(0).opaque(&[]);
            }
            (_, 3 | 13 | 30 | 31 | 32 | 36 | 44 | 57 | 58) => {
                if o.op == 3 {
                    res.u32(0).u32(0).u32(0);
                } else {
                    res.u32(0);
                }
            }
            _ => {
                res.u32(NFS4ERR_NOTSUPP);
                status = NFS4ERR_NOTSUPP;
                break;
            }
        }
    }
    if call.stopped.is_some() && status == 0 {
        status = 10036;
    }
    e.u32(status).opaque(call.tag.0).u32(n);
    e.buf.extend_from_slice(&res.buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::nfs4_reply::{parse_compound, OpRes};
    use crate::client::rpc::{encode_call, parse_reply, Cred, ProcId, ReplyStatus};
    use crate::replay::plan::{V4Client, V4Lock, V4Open};
    use crate::replay::requests as rq;

    fn me() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4242)
    }

    fn call(prog: u32, vers: u32, proc_: u32, args: &[u8]) -> (ReplyStatus, Vec<u8>) {
        let c = Counters::default();
        let m = encode_call(9, ProcId { prog, vers, proc_ }, &Cred::None, args);
        let r = answer(&m, me(), &c).unwrap();
        let h = parse_reply(&r).unwrap();
        assert_eq!(h.xid, 9);
        (h.status.clone(), h.body.to_vec())
    }

    #[test]
    fn portmap_and_nlm() {
        let (_, b) = call(100000, 2, 3, &crate::client::nfs3::getport_args(100021, 4, 6));
        assert_eq!(b, 4242u32.to_be_bytes());
        let (_, b) = call(100000, 4, 3, &crate::client::nfs3::getaddr_args(100021, 4, "tcp", "", ""));
        assert_eq!(crate::client::nfs3::uaddr_port(&crate::client::nfs3::parse_getaddr_res(&b).unwrap()), Some(4242));
        let l = crate::client::nlm::NlmLock { caller_name: "h".into(), fh: vec![1], oh: vec![2], svid: 3, offset: 0, len: 1, exclusive: true };
        let (st, b) = call(100021, 4, 2, &crate::client::nlm::lock_args(b"ck", &l, false, true, 1));
        assert_eq!(st, ReplyStatus::Success);
        assert_eq!(crate::client::nlm::parse_res(&b).unwrap(), 0);
        assert_eq!(&b[..8], &[0, 0, 0, 2, b'c', b'k', 0, 0]);
        assert_eq!(call(100021, 4, 99, &[]).0, ReplyStatus::Accepted(3));
        assert_eq!(call(100099, 1, 1, &[]).0, ReplyStatus::Accepted(1));
        assert!(answer(&[0, 0, 0, 1, 0, 0, 0, 1], me(), &Counters::default()).is_none(), "a reply is not answered");
    }

    #[test]
    fn compounds_the_replay_sends_are_granted() {
        let cl = V4Client {
            minor: 1,
            owner: b"o".to_vec(),
            owner_text: "o".into(),
            verifier: vec![0; 8],
            addr: [127, 0, 0, 1].into(),
            machine: "m".into(),
            uid: 0,
            opens: vec![V4Open { open_owner: b"oo".to_vec(), fh: vec![5; 10], path: Some("/vfs/f".into()), share_access: 3, share_deny: 0, synthesized: false, locks: vec![], fail: None }],
            fail: None,
        };
        let l = V4Lock { lock_owner: b"lo".to_vec(), offset: 0, length: 10, write: true };
        let slot = Some(rq::Slot { sessionid: [4; 16], seq: 3 });
        for (b, opn) in [
            (rq::exchange_id(&cl), 42),
            (rq::create_session(1, 7, 1), 43),
            (rq::setclientid(&cl, Ipv4Addr::LOCALHOST), 35),
            (rq::setclientid_confirm(1, [0; 8]), 36),
            (rq::open_reclaim(1, slot, &cl.opens[0], 0, 7), 18),
            (rq::open_establish(0, None, &cl.opens[0], 0, 7).unwrap(), 18),
            (rq::open_confirm(&[1], Default::default(), 1), 20),
            (rq::lock(1, slot, &[5; 10], &l, rq::LockerOf::Existing { lock_stateid: Default::default(), lock_seqid: 0 }, true), 12),
            (rq::reclaim_complete(1, slot.unwrap()), 58),
        ] {
            let (st, body) = call(100003, 4, 1, &b);
            assert_eq!(st, ReplyStatus::Success);
            let r = parse_compound(&body).unwrap();
            assert_eq!(r.status, 0, "op {opn}: {r:?}");
            assert_eq!(r.status_of(opn), Some(0), "op {opn}: {r:?}");
            assert!(r.results.iter().all(|x| x.status == 0));
            // our own decoder reads the reply too
            let d = crate::proto::nfs4::decode_reply(4, 1, &body).unwrap();
            assert!(d.stopped.is_none(), "op {opn}: {:?}", d.stopped);
            if opn == 18 {
                assert!(matches!(r.find(18).unwrap().res, OpRes::Open { .. }));
                assert!(r.fh().is_some());
            }
            if opn == 43 {
                assert!(matches!(r.find(43).unwrap().res, OpRes::CreateSession { sequence: 1, .. }));
            }
        }
        // PUTFH then GETFH gives the handle back
        let b = rq::open_reclaim(0, None, &cl.opens[0], 0, 7);
        let (_, body) = call(100003, 4, 1, &b);
        assert_eq!(parse_compound(&body).unwrap().fh(), Some(vec![5; 10]));
    }

    #[test]
    fn serves_tcp_and_udp_until_stopped() {
        let r = Responder::start(Ipv4Addr::LOCALHOST, 2).unwrap();
        let port = r.port();
        let ep = |proto| crate::client::transport::Endpoint { local: Ipv4Addr::LOCALHOST, server: Ipv4Addr::LOCALHOST, port, proto, reserved: false };
        for proto in [crate::client::Proto::Tcp, crate::client::Proto::Udp] {
            let mut c = crate::client::RpcConn::connect(ep(proto), Cred::None).unwrap();
            let a = c.call(ProcId { prog: 100021, vers: 4, proc_: 0 }, &[]).unwrap();
            assert!(a.body.is_empty());
        }
        assert!(r.counters.calls.load(Ordering::Relaxed) >= 2);
        r.stop();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "still listening after stop");
    }
}
