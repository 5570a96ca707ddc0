//! Asynchronous ONC-RPC client connection of one simulated client: TCP (record
//! marking) or UDP from a chosen source address, one call at a time.
//!
//! A call is retransmitted with the same xid when no reply comes within the timeout
//! (on UDP with a doubling timeout), and re-sent with the same xid on a new connection
//! when the server closes or resets the old one (with a growing pause between
//! connection attempts), as real clients do. Stray replies with other xids are skipped.

use crate::client::rpc::{self, parse_reply, Cred, ProcId, ReplyStatus};
use crate::client::transport::next_xid;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::time::{sleep, timeout, Instant};

/// Largest reply record accepted.
const MAX_RECORD: usize = 1 << 20;
/// Pause before the first reconnection; doubles up to `MAX_PAUSE`.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const MAX_PAUSE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy)]
pub struct CallOpts {
    /// Wait for a reply this long before retransmitting.
    pub timeout: Duration,
    /// Retransmissions after the first transmission.
    pub retries: u32,
    /// New connections after a dropped one (per call).
    pub reconnects: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("timeout: no reply after {0} transmissions")]
    Timeout(u32),
    #[error("connection: {0}")]
    Io(String),
    #[error("reply: {0}")]
    Garbage(String),
}

/// A reply and how it was obtained.
#[derive(Debug, Clone)]
pub struct Answer {
    pub xid: u32,
    pub status: ReplyStatus,
    pub body: Vec<u8>,
    /// Transmissions of this xid.
    pub sent: u32,
}

/// What a connection counted over its life.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConnStats {
    pub connects: u64,
    pub reconnects: u64,
    pub retransmits: u64,
}

pub struct RpcClient {
    pub local: Ipv4Addr,
    pub remote: SocketAddrV4,
    pub udp: bool,
    pub cred: Cred,
    pub opts: CallOpts,
    tcp: Option<TcpStream>,
    dgram: Option<UdpSocket>,
    pub stats: ConnStats,
    buf: Vec<u8>,
}

fn io_err(e: io::Error) -> CallError {
    CallError::Io(e.to_string())
}

impl RpcClient {
    pub fn new(local: Ipv4Addr, remote: SocketAddrV4, udp: bool, cred: Cred, opts: CallOpts) -> RpcClient {
        RpcClient { local, remote, udp, cred, opts, tcp: None, dgram: None, stats: ConnStats::default(), buf: Vec::new() }
    }

    /// The local address of the open connection.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match (&self.tcp, &self.dgram) {
            (Some(t), _) => t.local_addr().ok(),
            (_, Some(u)) => u.local_addr().ok(),
            _ => None,
        }
    }

    async fn connect(&mut self) -> io::Result<()> {
        self.stats.connects += 1;
        let local = SocketAddr::V4(SocketAddrV4::new(self.local, 0));
        if self.udp {
            let s = UdpSocket::bind(local).await?;
            s.connect(self.remote).await?;
            self.dgram = Some(s);
            return Ok(());
        }
        let s = TcpSocket::new_v4()?;
        if !self.local.is_unspecified() {
            s.bind(local)?;
        }
        let st = match timeout(self.opts.timeout, s.connect(SocketAddr::V4(self.remote))).await {
            Ok(r) => r?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
        };
        st.set_nodelay(true)?;
        self.tcp = Some(st);
        Ok(())
    }

    /// Close the connection (a later call opens a new one).
    pub fn close(&mut self) {
        self.tcp = None;
        self.dgram = None;
    }

    /// Send one call and wait for its reply, whatever its accept status.
    pub async fn call(&mut self, p: ProcId, args: &[u8]) -> Result<Answer, CallError> {
        let xid = next_xid();
        let msg = rpc::encode_call(xid, p, &self.cred, args);
        if self.udp {
            self.call_udp(xid, &msg).await
        } else {
            self.call_tcp(xid, &rpc::record_mark(&msg)).await
        }
    }

    async fn reconnect_pause(&mut self, n: u32, why: &str) -> Result<(), CallError> {
        if n > self.opts.reconnects {
            return Err(CallError::Io(format!("{why} (gave up after {} reconnections)", self.opts.reconnects)));
        }
        if n > 0 {
            self.stats.reconnects += 1;
            let pause = FIRST_PAUSE.saturating_mul(1 << (n - 1).min(10)).min(MAX_PAUSE);
            sleep(pause).await;
        }
        Ok(())
    }

    async fn call_tcp(&mut self, xid: u32, rec: &[u8]) -> Result<Answer, CallError> {
        // transmissions; timeouts count against `retries`, lost connections against
        // `reconnects`
        let (mut sent, mut timeouts, mut drops) = (0u32, 0u32, 0u32);
        let mut last_err = String::new();
        loop {
            if self.tcp.is_none() {
                self.reconnect_pause(drops, &last_err).await?;
                if let Err(e) = self.connect().await {
                    drops += 1;
                    last_err = e.to_string();
                    continue;
                }
            }
            let Some(s) = self.tcp.as_mut() else { continue };
            if timeouts > self.opts.retries {
                return Err(CallError::Timeout(sent));
            }
            if sent > 0 {
                self.stats.retransmits += 1;
            }
            sent += 1;
            if let Err(e) = s.write_all(rec).await {
                self.tcp = None;
                drops += 1;
                last_err = e.to_string();
                continue;
            }
            let deadline = Instant::now() + self.opts.timeout;
            loop {
                let Some(s) = self.tcp.as_mut() else { break };
                match tokio::time::timeout_at(deadline, read_record(s, &mut self.buf)).await {
                    Err(_) => {
                        // retransmit on the same connection
                        timeouts += 1;
                        break;
                    }
                    Ok(Err(e)) => {
                        self.tcp = None;
                        drops += 1;
                        last_err = if e.kind() == io::ErrorKind::UnexpectedEof { "closed by the server".into() } else { e.to_string() };
                        break;
                    }
                    Ok(Ok(())) => {
                        let h = parse_reply(&self.buf).map_err(|e| CallError::Garbage(e.to_string()))?;
                        if h.xid == xid {
                            return Ok(Answer { xid, status: h.status.clone(), body: h.body.to_vec(), sent });
                        }
                    }
                }
            }
        }
    }

    async fn call_udp(&mut self, xid: u32, msg: &[u8]) -> Result<Answer, CallError> {
        let mut sent = 0u32;
        let mut drops = 0u32;
        let mut wait = self.opts.timeout;
        let mut buf = vec![0u8; 65536];
        loop {
            if self.dgram.is_none() {
                self.reconnect_pause(drops, "socket").await?;
                self.connect().await.map_err(io_err)?;
            }
            if sent > self.opts.retries {
                return Err(CallError::Timeout(sent));
            }
            if sent > 0 {
                self.stats.retransmits += 1;
            }
            sent += 1;
            let Some(s) = self.dgram.as_ref() else { continue };
            if let Err(e) = s.send(msg).await {
                // ICMP port unreachable from an earlier datagram: the server is not there yet
                drops += 1;
                self.dgram = None;
                if drops > self.opts.reconnects {
                    return Err(io_err(e));
                }
                continue;
            }
            let deadline = Instant::now() + wait;
            loop {
                let Some(s) = self.dgram.as_ref() else { break };
                match tokio::time::timeout_at(deadline, s.recv(&mut buf)).await {
                    Err(_) => break,
                    Ok(Err(_)) => {
                        // refused: wait out the timeout, then send again
                        tokio::time::sleep_until(deadline).await;
                        break;
                    }
                    Ok(Ok(n)) => {
                        let Ok(h) = parse_reply(&buf[..n]) else { continue };
                        if h.xid == xid {
                            return Ok(Answer { xid, status: h.status.clone(), body: h.body.to_vec(), sent });
                        }
                    }
                }
            }
            wait = (wait * 2).min(Duration::from_secs(60));
        }
    }
}

/// Read one whole record (all fragments) into `out`.
async fn read_record(s: &mut TcpStream, out: &mut Vec<u8>) -> io::Result<()> {
    out.clear();
    loop {
        let mut m = [0u8; 4];
        s.read_exact(&mut m).await?;
        let (last, len) = rpc::parse_mark(m);
        if out.len() + len > MAX_RECORD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "record too large"));
        }
        let start = out.len();
        out.resize(start + len, 0);
        s.read_exact(&mut out[start..]).await?;
        if last {
            return Ok(());
        }
    }
}

/// PMAPPROC_GETPORT (portmap v2) over TCP: where `prog`/`vers` listens.
pub async fn getport(local: Ipv4Addr, rpcbind: SocketAddrV4, prog: u32, vers: u32, udp: bool, opts: CallOpts) -> Result<u16, String> {
    use crate::client::nfs3::{getport_args, parse_getport_res, IPPROTO_TCP, IPPROTO_UDP, PMAPPROC_GETPORT, PMAP_PROG};
    let mut c = RpcClient::new(local, rpcbind, false, Cred::None, opts);
    let prot = if udp { IPPROTO_UDP } else { IPPROTO_TCP };
    let a = c.call(ProcId { prog: PMAP_PROG, vers: 2, proc_: PMAPPROC_GETPORT }, &getport_args(prog, vers, prot)).await.map_err(|e| format!("rpcbind at {rpcbind}: {e}"))?;
    if a.status != ReplyStatus::Success {
        return Err(format!("rpcbind at {rpcbind}: {:?}", a.status));
    }
    match parse_getport_res(&a.body) {
        Ok(p) if p > 0 && p <= 65535 => Ok(p as u16),
        Ok(_) => Err(format!("program {prog} v{vers} ({}) not registered at {rpcbind}", if udp { "udp" } else { "tcp" })),
        Err(e) => Err(format!("rpcbind at {rpcbind}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::Enc;
    use std::net::TcpListener;

    fn opts(ms: u64) -> CallOpts {
        CallOpts { timeout: Duration::from_millis(ms), retries: 3, reconnects: 3 }
    }

    fn reply(xid: u32, v: u32) -> Vec<u8> {
        let mut e = Enc::new();
        e.u32(xid).u32(1).u32(0).u32(0).u32(0).u32(0).u32(v);
        e.into_vec()
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    /// The server reads the call, drops the connection, then answers the same xid
    /// sent again on a new connection (after a stray reply of another xid).
    #[test]
    fn tcp_resends_same_xid_after_a_dropped_connection() {
        use std::io::{Read, Write};
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let rec = crate::client::transport::read_record(&mut s).unwrap();
            let xid1 = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
            drop(s);
            let (mut s, _) = l.accept().unwrap();
            let rec = crate::client::transport::read_record(&mut s).unwrap();
            let xid2 = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
            s.write_all(&rpc::record_mark(&reply(xid2 ^ 1, 0))).unwrap();
            s.write_all(&rpc::record_mark(&reply(xid2, 42))).unwrap();
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
            (xid1, xid2)
        });
        let mut c = RpcClient::new(Ipv4Addr::LOCALHOST, SocketAddrV4::new(Ipv4Addr::LOCALHOST, port), false, Cred::None, opts(2000));
        let a = rt().block_on(c.call(ProcId { prog: 1, vers: 1, proc_: 1 }, &[])).unwrap();
        assert_eq!(a.body, vec![0, 0, 0, 42]);
        assert_eq!(a.sent, 2);
        assert_eq!((c.stats.connects, c.stats.reconnects), (2, 1));
        c.close();
        let (x1, x2) = h.join().unwrap();
        assert_eq!(x1, x2, "same xid on the new connection");
        assert_eq!(a.xid, x1);
    }

    /// UDP: the first datagram is not answered; the retransmission (same xid) is.
    #[test]
    fn udp_retransmits_same_xid() {
        let srv = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = srv.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            let (_, _) = srv.recv_from(&mut buf).unwrap();
            let x1 = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
            let (_, peer) = srv.recv_from(&mut buf).unwrap();
            let x2 = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
            srv.send_to(&reply(x2, 5), peer).unwrap();
            (x1, x2)
        });
        let mut c = RpcClient::new(Ipv4Addr::LOCALHOST, SocketAddrV4::new(Ipv4Addr::LOCALHOST, port), true, Cred::None, opts(200));
        let a = rt().block_on(c.call(ProcId { prog: 1, vers: 1, proc_: 0 }, &[])).unwrap();
        let (x1, x2) = h.join().unwrap();
        assert_eq!((x1, x2, a.sent, a.body.as_slice()), (a.xid, a.xid, 2, &[0u8, 0, 0, 5][..]));
        assert_eq!(c.stats.retransmits, 1);
    }

    #[test]
    fn silence_ends_in_a_timeout_and_refusal_in_an_error() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mut c = RpcClient::new(Ipv4Addr::LOCALHOST, SocketAddrV4::new(Ipv4Addr::LOCALHOST, port), false, Cred::None, CallOpts { timeout: Duration::from_millis(50), retries: 2, reconnects: 1 });
        let r = rt().block_on(c.call(ProcId { prog: 1, vers: 1, proc_: 0 }, &[]));
        assert!(matches!(r, Err(CallError::Timeout(3))), "{r:?}");
        drop(l);
        let mut c = RpcClient::new(Ipv4Addr::LOCALHOST, SocketAddrV4::new(Ipv4Addr::LOCALHOST, port), false, Cred::None, CallOpts { timeout: Duration::from_millis(50), retries: 2, reconnects: 2 });
        let r = rt().block_on(c.call(ProcId { prog: 1, vers: 1, proc_: 0 }, &[]));
        assert!(matches!(&r, Err(CallError::Io(m)) if m.contains("gave up after 2")), "{r:?}");
    }
}
