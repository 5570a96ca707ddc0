//! Blocking ONC-RPC transports over TCP (record marking) and UDP, with a chosen
//! source address, optional reserved source port, xid allocation and timeouts.

use super::rpc::{self, Cred, ProcId, ReplyStatus};
use crate::xdr::XdrError;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Largest reply record the client accepts.
const MAX_RECORD: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    #[error("xdr: {0}")]
    Xdr(#[from] XdrError),
    #[error("rpc reply not successful: {0:?}")]
    Rpc(ReplyStatus),
    #[error("{0}")]
    Proto(String),
}

pub type Result<T> = std::result::Result<T, ClientError>;

static NEXT_XID: AtomicU32 = AtomicU32::new(0);

/// A fresh xid, unique within this process (seeded from the pid and clock once), so
/// that every call of a recorded scenario can be found in the capture by its xid.
pub fn next_xid() -> u32 {
    let cur = NEXT_XID.load(Ordering::Relaxed);
    if cur == 0 {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(1);
        let seed = (std::process::id().wrapping_mul(2_654_435_761) ^ t) & 0x7fff_0000 | 0x0100_0001;
        let _ = NEXT_XID.compare_exchange(0, seed, Ordering::Relaxed, Ordering::Relaxed);
    }
    NEXT_XID.fetch_add(1, Ordering::Relaxed)
}

/// Transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

/// Where and how to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub local: Ipv4Addr,
    pub server: Ipv4Addr,
    pub port: u16,
    pub proto: Proto,
    /// Bind a source port below 1024 (as kernel clients do for NLM/MOUNT).
    pub reserved: bool,
}

/// A successful or failed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub xid: u32,
    pub status: ReplyStatus,
    pub body: Vec<u8>,
}

impl Reply {
    /// The results, or an error when the call was not accepted with SUCCESS.
    pub fn ok(self) -> Result<Reply> {
        match self.status {
            ReplyStatus::Success => Ok(self),
            s => Err(ClientError::Rpc(s)),
        }
    }
}

enum Sock {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

/// One connection to one RPC server port.
pub struct RpcConn {
    sock: Sock,
    pub cred: Cred,
    pub timeout: Duration,
    /// UDP retransmissions before giving up.
    pub retries: u32,
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

fn sockaddr_in(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(*a.ip()).to_be() },
        sin_zero: [0; 8],
    }
}

/// Bind `fd` to `ip`, on a reserved port when asked (trying 1023 downwards).
fn bind_local(fd: i32, ip: Ipv4Addr, reserved: bool) -> io::Result<()> {
    let ports: Box<dyn Iterator<Item = u16>> = if reserved { Box::new((600..1024).rev()) } else { Box::new(std::iter::once(0)) };
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no reserved port free");
    for port in ports {
        let sa = sockaddr_in(SocketAddrV4::new(ip, port));
        // SAFETY: sa is a valid sockaddr_in that outlives the call.
        let rc = unsafe {
            libc::bind(fd, &sa as *const libc::sockaddr_in as *const libc::sockaddr, std::mem::size_of::<libc::sockaddr_in>() as u32)
        };
        if rc == 0 {
            return Ok(());
        }
        last = io::Error::last_os_error();
        if last.raw_os_error() != Some(libc::EADDRINUSE) {
            return Err(last);
        }
    }
    Err(last)
}

/// TCP connect from a chosen source address (bind before connect).
pub fn tcp_connect_from(local: Ipv4Addr, remote: SocketAddrV4, reserved: bool) -> io::Result<TcpStream> {
    // SAFETY: plain socket(2); the fd is owned by the TcpStream below or closed on error.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket we own; from here it is closed by the TcpStream.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    // SAFETY: valid fd and option pointer.
    unsafe {
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &one as *const _ as *const libc::c_void, 4);
    }
    bind_local(fd, local, reserved)?;
    let sa = sockaddr_in(remote);
    // SAFETY: valid fd and sockaddr.
    let rc = unsafe {
        libc::connect(fd, &sa as *const libc::sockaddr_in as *const libc::sockaddr, std::mem::size_of::<libc::sockaddr_in>() as u32)
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// UDP socket bound to a chosen source address and connected to `remote`.
pub fn udp_connect_from(local: Ipv4Addr, remote: SocketAddrV4, reserved: bool) -> io::Result<UdpSocket> {
    let s = if reserved {
        let mut found = None;
        for port in (600..1024).rev() {
            if let Ok(s) = UdpSocket::bind(SocketAddrV4::new(local, port)) {
                found = Some(s);
                break;
            }
        }
        found.ok_or_else(|| io::Error::new(io::ErrorKind::AddrInUse, "no reserved port free"))?
    } else {
        UdpSocket::bind(SocketAddrV4::new(local, 0))?
    };
    s.connect(remote)?;
    Ok(s)
}

impl RpcConn {
    pub fn connect(ep: Endpoint, cred: Cred) -> Result<RpcConn> {
        let remote = SocketAddrV4::new(ep.server, ep.port);
        let timeout = Duration::from_secs(10);
        let (sock, local) = match ep.proto {
            Proto::Tcp => {
                let s = tcp_connect_from(ep.local, remote, ep.reserved)?;
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))?;
                let l = s.local_addr()?;
                (Sock::Tcp(s), l)
            }
            Proto::Udp => {
                let s = udp_connect_from(ep.local, remote, ep.reserved)?;
                let l = s.local_addr()?;
                (Sock::Udp(s), l)
            }
        };
        Ok(RpcConn { sock, cred, timeout, retries: 3, local, peer: SocketAddr::V4(remote) })
    }

    pub fn proto(&self) -> Proto {
        match self.sock {
            Sock::Tcp(_) => Proto::Tcp,
            Sock::Udp(_) => Proto::Udp,
        }
    }

    pub fn set_timeout(&mut self, t: Duration) -> Result<()> {
        self.timeout = t;
        if let Sock::Tcp(s) = &self.sock {
            s.set_read_timeout(Some(t))?;
        }
        Ok(())
    }

    /// Send one call and wait for its reply (any accept status).
    pub fn call_any(&mut self, p: ProcId, args: &[u8]) -> Result<Reply> {
        let xid = next_xid();
        let msg = rpc::encode_call(xid, p, &self.cred, args);
        match &mut self.sock {
            Sock::Tcp(s) => {
                s.write_all(&rpc::record_mark(&msg))?;
                loop {
                    let rec = read_record(s)?;
                    let h = rpc::parse_reply(&rec)?;
                    if h.xid == xid {
                        let status = h.status.clone();
                        let body = h.body.to_vec();
                        return Ok(Reply { xid, status, body });
                    }
                }
            }
            Sock::Udp(s) => {
                let per_try = self.timeout / (self.retries + 1).max(1);
                s.set_read_timeout(Some(per_try.max(Duration::from_millis(100))))?;
                let mut buf = vec![0u8; 65536];
                for _ in 0..=self.retries {
                    s.send(&msg)?;
                    loop {
                        match s.recv(&mut buf) {
                            Ok(n) => {
                                let Ok(h) = rpc::parse_reply(&buf[..n]) else { continue };
                                if h.xid == xid {
                                    return Ok(Reply { xid, status: h.status.clone(), body: h.body.to_vec() });
                                }
                            }
                            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => break,
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                Err(ClientError::Io(io::Error::new(io::ErrorKind::TimedOut, format!("no reply to xid {xid:#x}"))))
            }
        }
    }

    /// Send one call; an error unless accepted with SUCCESS.
    pub fn call(&mut self, p: ProcId, args: &[u8]) -> Result<Reply> {
        self.call_any(p, args)?.ok()
    }
}

/// Read one complete record (all fragments) from a TCP stream.
pub fn read_record<R: Read>(s: &mut R) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let mut m = [0u8; 4];
        s.read_exact(&mut m)?;
        let (last, len) = rpc::parse_mark(m);
        if out.len() + len > MAX_RECORD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "record too large"));
        }
        let start = out.len();
        out.resize(start + len, 0);
        s.read_exact(&mut out[start..])?;
        if last {
            return Ok(out);
        }
    }
}

/// Ask the portmapper (v2 GETPORT over TCP) where `prog`/`vers` listens.
pub fn getport(local: Ipv4Addr, server: Ipv4Addr, prog: u32, vers: u32, proto: Proto) -> Result<u16> {
    use super::nfs3::*;
    let mut c = RpcConn::connect(Endpoint { local, server, port: 111, proto: Proto::Tcp, reserved: false }, Cred::None)?;
    let prot = if proto == Proto::Tcp { IPPROTO_TCP } else { IPPROTO_UDP };
    let r = c.call(ProcId { prog: PMAP_PROG, vers: 2, proc_: PMAPPROC_GETPORT }, &getport_args(prog, vers, prot))?;
    let port = parse_getport_res(&r.body)?;
    if port == 0 || port > 65535 {
        return Err(ClientError::Proto(format!("program {prog} v{vers} not registered")));
    }
    Ok(port as u16)
}

/// Ask rpcbind (v3 or v4 GETADDR over TCP) for the universal address of `prog`/`vers`.
pub fn getaddr(local: Ipv4Addr, server: Ipv4Addr, rpcb_vers: u32, prog: u32, vers: u32, netid: &str) -> Result<u16> {
    use super::nfs3::*;
    let mut c = RpcConn::connect(Endpoint { local, server, port: 111, proto: Proto::Tcp, reserved: false }, Cred::None)?;
    let r = c.call(ProcId { prog: PMAP_PROG, vers: rpcb_vers, proc_: RPCBPROC_GETADDR }, &getaddr_args(prog, vers, netid, "", ""))?;
    let ua = parse_getaddr_res(&r.body)?;
    uaddr_port(&ua).ok_or_else(|| ClientError::Proto(format!("program {prog} v{vers} not registered ({ua:?})")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn xids_are_unique_and_increasing() {
        let a = next_xid();
        let b = next_xid();
        assert_ne!(a, 0);
        // other tests allocate xids concurrently: only order and uniqueness are certain
        assert!(b.wrapping_sub(a) >= 1 && b.wrapping_sub(a) < 1000);
        assert!(a & 0x0100_0000 != 0, "seeded high half is never zero");
    }

    #[test]
    fn read_record_joins_fragments() {
        let mut data = Vec::new();
        data.extend_from_slice(&[0, 0, 0, 2, 1, 2]);
        data.extend_from_slice(&[0x80, 0, 0, 3, 3, 4, 5]);
        assert_eq!(read_record(&mut &data[..]).unwrap(), vec![1, 2, 3, 4, 5]);
        let bad = [0x8f, 0xff, 0xff, 0xff];
        assert!(read_record(&mut &bad[..]).is_err());
    }

    #[test]
    fn tcp_call_round_trip_on_loopback() {
        // A one-shot server on 127.0.0.1 answering with the same xid.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, peer) = l.accept().unwrap();
            let rec = read_record(&mut s).unwrap();
            let xid = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
            let mut e = crate::xdr::Enc::new();
            e.u32(xid).u32(1).u32(0).u32(0).u32(0).u32(0).u32(4);
            s.write_all(&rpc::record_mark(&e.buf)).unwrap();
            peer
        });
        let ep = Endpoint { local: Ipv4Addr::LOCALHOST, server: Ipv4Addr::LOCALHOST, port, proto: Proto::Tcp, reserved: false };
        let mut c = RpcConn::connect(ep, Cred::None).unwrap();
        let r = c.call(ProcId { prog: 1, vers: 1, proc_: 1 }, &[]).unwrap();
        assert_eq!(r.body, vec![0, 0, 0, 4]);
        assert_eq!(h.join().unwrap(), c.local);
    }

    #[test]
    fn udp_call_retransmits_and_matches_xid() {
        // A server that drops the first datagram and answers the retransmission,
        // preceded by a stray reply with another xid.
        let srv = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = srv.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            let (_, _) = srv.recv_from(&mut buf).unwrap();
            let (n, peer) = srv.recv_from(&mut buf).unwrap();
            let xid = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
            assert!(n >= 40);
            for x in [xid.wrapping_add(7), xid] {
                let mut e = crate::xdr::Enc::new();
                e.u32(x).u32(1).u32(0).u32(0).u32(0).u32(0).u32(x);
                srv.send_to(&e.buf, peer).unwrap();
            }
        });
        let ep = Endpoint { local: Ipv4Addr::LOCALHOST, server: Ipv4Addr::LOCALHOST, port, proto: Proto::Udp, reserved: false };
        let mut c = RpcConn::connect(ep, Cred::None).unwrap();
        c.timeout = Duration::from_secs(2);
        let r = c.call(ProcId { prog: 1, vers: 1, proc_: 0 }, &[]).unwrap();
        assert_eq!(r.body, r.xid.to_be_bytes().to_vec());
        h.join().unwrap();
    }
}
