//! Per-client protocol state on top of a connection: NLM cookies, MOUNT/NFSv3 lookups,
//! NFSv4.0 open/lock seqids and NFSv4.1 sessions (slot 0, incrementing sequenceid).

use super::nfs3::{self, CreateHow3};
use super::nfs4::{self, op, status, Compound, Locker, LockArgs, Op, OpenArgs, OpenClaim, OpenHow, StateId};
use super::nfs4_reply::{parse_compound, CompoundRes, OpRes};
use super::nlm::{self, NlmLock};
use super::rpc::{AuthSys, Cred};
use super::transport::{getport, ClientError, Endpoint, Proto, Result, RpcConn};
use std::net::Ipv4Addr;

fn ip4(a: std::net::SocketAddr) -> Ipv4Addr {
    match a.ip() {
        std::net::IpAddr::V4(v) => v,
        std::net::IpAddr::V6(v) => v.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
    }
}

/// What one call returned: its xid (to find it in a capture) and its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub xid: u32,
    pub stat: u32,
}

/// NLM v4 client of one host (one source address, one caller_name).
pub struct NlmClient {
    pub conn: RpcConn,
    /// NSM state number sent in LOCK.
    pub state: i32,
    cookie: u32,
}

impl NlmClient {
    /// Find NLM v4 through the server's portmapper and connect to it.
    pub fn connect(local: Ipv4Addr, server: Ipv4Addr, proto: Proto, machine: &str) -> Result<NlmClient> {
        let port = getport(local, server, nlm::NLM_PROG, nlm::NLM_VERS4, proto)?;
        let conn = RpcConn::connect(Endpoint { local, server, port, proto, reserved: false }, Cred::Sys(AuthSys::root(machine)))?;
        Ok(NlmClient { conn, state: 1, cookie: 0 })
    }

    /// A new connection to the same server (after a server restart broke the old one).
    pub fn reconnect(&mut self) -> Result<()> {
        let (local, server) = (ip4(self.conn.local), ip4(self.conn.peer));
        let machine = match &self.conn.cred {
            Cred::Sys(a) => a.machinename.clone(),
            Cred::None => String::new(),
        };
        let proto = self.conn.proto();
        *self = NlmClient { state: self.state, cookie: self.cookie, ..NlmClient::connect(local, server, proto, &machine)? };
        Ok(())
    }

    fn cookie(&mut self) -> [u8; 4] {
        self.cookie += 1;
        self.cookie.to_be_bytes()
    }

    pub fn null(&mut self) -> Result<u32> {
        Ok(self.conn.call(nlm::nlm4(nlm::NLM4_NULL), &[])?.xid)
    }

    pub fn lock(&mut self, l: &NlmLock, reclaim: bool) -> Result<Outcome> {
        let c = self.cookie();
        let r = self.conn.call(nlm::nlm4(nlm::NLM4_LOCK), &nlm::lock_args(&c, l, false, reclaim, self.state))?;
        Ok(Outcome { xid: r.xid, stat: nlm::parse_res(&r.body)? })
    }

    pub fn test(&mut self, l: &NlmLock) -> Result<Outcome> {
        let c = self.cookie();
        let r = self.conn.call(nlm::nlm4(nlm::NLM4_TEST), &nlm::test_args(&c, l))?;
        Ok(Outcome { xid: r.xid, stat: nlm::parse_res(&r.body)? })
    }

    pub fn unlock(&mut self, l: &NlmLock) -> Result<Outcome> {
        let c = self.cookie();
        let r = self.conn.call(nlm::nlm4(nlm::NLM4_UNLOCK), &nlm::unlock_args(&c, l))?;
        Ok(Outcome { xid: r.xid, stat: nlm::parse_res(&r.body)? })
    }

    pub fn cancel(&mut self, l: &NlmLock) -> Result<Outcome> {
        let c = self.cookie();
        let r = self.conn.call(nlm::nlm4(nlm::NLM4_CANCEL), &nlm::cancel_args(&c, l, false))?;
        Ok(Outcome { xid: r.xid, stat: nlm::parse_res(&r.body)? })
    }
}

/// MOUNT v3 MNT through the portmapper; returns the root handle.
pub fn mount(local: Ipv4Addr, server: Ipv4Addr, path: &str, machine: &str) -> Result<(Outcome, Vec<u8>)> {
    let port = getport(local, server, nfs3::MOUNT_PROG, 3, Proto::Tcp)?;
    let mut c = RpcConn::connect(Endpoint { local, server, port, proto: Proto::Tcp, reserved: false }, Cred::Sys(AuthSys::root(machine)))?;
    let r = c.call(nfs3::mount3(nfs3::MOUNTPROC3_MNT), &nfs3::mnt_args(path))?;
    let (st, fh) = nfs3::parse_mnt_res(&r.body)?;
    let fh = fh.ok_or_else(|| ClientError::Proto(format!("MNT {path}: status {st}")))?;
    Ok((Outcome { xid: r.xid, stat: st }, fh))
}

/// MOUNT v3 UMNT.
pub fn umount(local: Ipv4Addr, server: Ipv4Addr, path: &str, machine: &str) -> Result<u32> {
    let port = getport(local, server, nfs3::MOUNT_PROG, 3, Proto::Tcp)?;
    let mut c = RpcConn::connect(Endpoint { local, server, port, proto: Proto::Tcp, reserved: false }, Cred::Sys(AuthSys::root(machine)))?;
    Ok(c.call(nfs3::mount3(nfs3::MOUNTPROC3_UMNT), &nfs3::mnt_args(path))?.xid)
}

/// NFSv3 client on one connection.
pub struct Nfs3Client {
    pub conn: RpcConn,
}

impl Nfs3Client {
    pub fn connect(local: Ipv4Addr, server: Ipv4Addr, proto: Proto, machine: &str) -> Result<Nfs3Client> {
        let port = getport(local, server, nfs3::NFS_PROG, 3, proto)?;
        let conn = RpcConn::connect(Endpoint { local, server, port, proto, reserved: false }, Cred::Sys(AuthSys::root(machine)))?;
        Ok(Nfs3Client { conn })
    }
    pub fn null(&mut self) -> Result<u32> {
        Ok(self.conn.call(nfs3::nfs3(nfs3::NFSPROC3_NULL), &[])?.xid)
    }
    pub fn getattr(&mut self, fh: &[u8]) -> Result<Outcome> {
        let r = self.conn.call(nfs3::nfs3(nfs3::NFSPROC3_GETATTR), &nfs3::getattr_args(fh))?;
        Ok(Outcome { xid: r.xid, stat: nfs3::parse_status(&r.body)? })
    }
    pub fn lookup(&mut self, dir: &[u8], name: &str) -> Result<(Outcome, Option<Vec<u8>>)> {
        let r = self.conn.call(nfs3::nfs3(nfs3::NFSPROC3_LOOKUP), &nfs3::lookup_args(dir, name))?;
        let (st, fh) = nfs3::parse_lookup_res(&r.body)?;
        Ok((Outcome { xid: r.xid, stat: st }, fh))
    }
    pub fn create(&mut self, dir: &[u8], name: &str, how: CreateHow3) -> Result<(Outcome, Option<Vec<u8>>)> {
        let r = self.conn.call(nfs3::nfs3(nfs3::NFSPROC3_CREATE), &nfs3::create_args(dir, name, how))?;
        let (st, fh) = nfs3::parse_create_res(&r.body)?;
        Ok((Outcome { xid: r.xid, stat: st }, fh))
    }
    /// LOOKUP, or CREATE UNCHECKED when the file does not exist yet.
    pub fn lookup_or_create(&mut self, dir: &[u8], name: &str) -> Result<Vec<u8>> {
        if let (_, Some(fh)) = self.lookup(dir, name)? {
            return Ok(fh);
        }
        let (o, fh) = self.create(dir, name, CreateHow3::Unchecked(0o644))?;
        fh.ok_or_else(|| ClientError::Proto(format!("CREATE {name}: status {}", o.stat)))
    }
}

/// A COMPOUND reply with the xid of its call.
#[derive(Debug, Clone)]
pub struct Done {
    pub xid: u32,
    pub res: CompoundRes,
}

impl Done {
    /// Status of `opnum`, or of the COMPOUND when the server stopped before it.
    pub fn status(&self, opnum: u32) -> u32 {
        self.res.status_of(opnum).unwrap_or(self.res.status)
    }
}

/// NFSv4.0 open-owner / lock-owner with its seqid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub owner: Vec<u8>,
    pub seqid: u32,
}

impl Owner {
    pub fn new(owner: &[u8]) -> Owner {
        Owner { owner: owner.to_vec(), seqid: 0 }
    }
    /// RFC 7530 §9.1.7: the seqid advances on every reply except these errors.
    fn advance(&mut self, st: u32) {
        const KEEP: [u32; 8] = [10022, 10023, 10025, 10026, 10036, 10018, 10020, 10019];
        if !KEEP.contains(&st) {
            self.seqid = self.seqid.wrapping_add(1);
        }
    }
}

/// An open file: its handle, stateid and open-owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    pub fh: Vec<u8>,
    pub stateid: StateId,
    pub owner: Owner,
    pub confirmed: bool,
}

/// A held NFSv4 lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLock {
    pub stateid: StateId,
    pub owner: Owner,
    pub locktype: u32,
    pub offset: u64,
    pub length: u64,
}

/// An NFSv4.1 session: slot 0 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub sessionid: [u8; 16],
    pub seq: u32,
}

/// NFSv4.0 or 4.1 client of one host.
pub struct Nfs4Client {
    pub conn: RpcConn,
    pub minor: u32,
    /// nfs_client_id4.id (4.0) or co_ownerid (4.1): stable across restarts.
    pub id: Vec<u8>,
    /// Boot verifier of this client instance.
    pub verifier: [u8; 8],
    pub clientid: u64,
    pub session: Option<Session>,
    pub exchange_seq: u32,
    local: Ipv4Addr,
}

impl Nfs4Client {
    /// Connect to port 2049 (NFSv4 clients do not ask the portmapper).
    pub fn connect(local: Ipv4Addr, server: Ipv4Addr, minor: u32, id: &str) -> Result<Nfs4Client> {
        let machine = id.split('/').next().unwrap_or(id);
        let conn = RpcConn::connect(Endpoint { local, server, port: 2049, proto: Proto::Tcp, reserved: false }, Cred::Sys(AuthSys::root(machine)))?;
        Ok(Nfs4Client {
            conn,
            minor,
            id: id.as_bytes().to_vec(),
            verifier: *b"gwlab001",
            clientid: 0,
            session: None,
            exchange_seq: 0,
            local,
        })
    }

    /// A new connection to the same server, keeping the client's state.
    pub fn reconnect(&mut self) -> Result<()> {
        let ep = Endpoint { local: ip4(self.conn.local), server: ip4(self.conn.peer), port: self.conn.peer.port(), proto: Proto::Tcp, reserved: false };
        self.conn = RpcConn::connect(ep, self.conn.cred.clone())?;
        Ok(())
    }

    /// A new connection to another server (a failover), keeping the client's state.
    pub fn move_to(&mut self, server: Ipv4Addr) -> Result<()> {
        let ep = Endpoint { local: self.local, server, port: 2049, proto: Proto::Tcp, reserved: false };
        self.conn = RpcConn::connect(ep, self.conn.cred.clone())?;
        Ok(())
    }

    /// Send a COMPOUND; with a 4.1 session a SEQUENCE on slot 0 goes first.
    pub fn compound(&mut self, tag: &str, ops: Vec<Op>) -> Result<Done> {
        let mut c = Compound::new(self.minor, tag);
        let seq = self.session;
        if let (true, Some(s)) = (self.minor >= 1, seq) {
            c.push(Op::Sequence { sessionid: s.sessionid, sequenceid: s.seq, slotid: 0, highest_slotid: 0, cachethis: false });
        }
        c.ops.extend(ops);
        let r = self.conn.call(nfs4::nfs4(nfs4::NFS4_PROC_COMPOUND), &c.encode())?;
        let res = parse_compound(&r.body)?;
        if let (Some(s), Some(st)) = (self.session.as_mut(), res.status_of(op::SEQUENCE)) {
            if st == status::OK {
                s.seq = s.seq.wrapping_add(1);
            }
        }
        Ok(Done { xid: r.xid, res })
    }

    pub fn null(&mut self) -> Result<u32> {
        Ok(self.conn.call(nfs4::nfs4(nfs4::NFS4_PROC_NULL), &[])?.xid)
    }

    /// 4.0: SETCLIENTID then SETCLIENTID_CONFIRM. Returns both calls.
    pub fn setclientid(&mut self) -> Result<(Done, Option<Done>)> {
        let o = self.local.octets();
        let scid = self.compound(
            "setclientid",
            vec![Op::SetClientId {
                verifier: self.verifier,
                id: self.id.clone(),
                cb_program: 0x4000_0000,
                netid: "tcp".into(),
                addr: format!("{}.{}.{}.{}.3.233", o[0], o[1], o[2], o[3]),
                ident: 1,
            }],
        )?;
        let Some(OpRes::SetClientId { clientid, verifier }) = scid.res.find(op::SETCLIENTID).map(|r| r.res.clone()) else {
            return Ok((scid, None));
        };
        self.clientid = clientid;
        let conf = self.compound("setclientid_confirm", vec![Op::SetClientIdConfirm { clientid, verifier }])?;
        Ok((scid, Some(conf)))
    }

    /// 4.1: EXCHANGE_ID then CREATE_SESSION. Returns both calls.
    pub fn exchange_id_and_session(&mut self) -> Result<(Done, Option<Done>)> {
        self.session = None;
        let ex = self.compound("exchange_id", vec![Op::ExchangeId { verifier: self.verifier, owner: self.id.clone(), flags: 0 }])?;
        let Some(OpRes::ExchangeId { clientid, sequenceid, .. }) = ex.res.find(op::EXCHANGE_ID).map(|r| r.res.clone()) else {
            return Ok((ex, None));
        };
        self.clientid = clientid;
        self.exchange_seq = sequenceid;
        let cs = self.compound(
            "create_session",
            vec![Op::CreateSession {
                clientid,
                sequence: sequenceid,
                flags: 0,
                fore: Default::default(),
                back: Default::default(),
                cb_program: 0x4000_0000,
            }],
        )?;
        if let Some(OpRes::CreateSession { sessionid, .. }) = cs.res.find(op::CREATE_SESSION).map(|r| r.res.clone()) {
            self.session = Some(Session { sessionid, seq: 1 });
        }
        Ok((ex, Some(cs)))
    }

    pub fn reclaim_complete(&mut self) -> Result<Done> {
        self.compound("reclaim_complete", vec![Op::ReclaimComplete { one_fs: false }])
    }

    pub fn renew(&mut self) -> Result<Done> {
        if self.minor == 0 {
            self.compound("renew", vec![Op::Renew(self.clientid)])
        } else {
            self.compound("sequence", vec![])
        }
    }

    /// PUTROOTFH, LOOKUP each component, GETFH.
    pub fn lookup_path(&mut self, path: &[&str]) -> Result<(Done, Option<Vec<u8>>)> {
        let mut ops = vec![Op::PutRootFh];
        ops.extend(path.iter().map(|c| Op::Lookup(c.to_string())));
        ops.push(Op::GetFh);
        let d = self.compound("lookup", ops)?;
        let fh = d.res.fh();
        Ok((d, fh))
    }

    fn seqid_for(&self, o: &Owner) -> u32 {
        if self.minor == 0 {
            o.seqid
        } else {
            0
        }
    }

    /// PUTFH(fh), OPEN, GETFH. `fh` is the directory for CLAIM_NULL, the file otherwise.
    /// Sends OPEN_CONFIRM when a 4.0 server asks for it.
    pub fn open(&mut self, fh: &[u8], owner: &mut Owner, how: OpenHow, claim: OpenClaim, access: u32) -> Result<(Done, Option<OpenFile>)> {
        let args = OpenArgs {
            seqid: self.seqid_for(owner),
            share_access: access,
            share_deny: 0,
            clientid: self.clientid,
            owner: owner.owner.clone(),
            how,
            claim,
        };
        let d = self.compound("open", vec![Op::PutFh(fh.to_vec()), Op::Open(args), Op::GetFh])?;
        let st = d.status(op::OPEN);
        owner.advance(st);
        let (Some(OpRes::Open { stateid, rflags, .. }), Some(ffh)) = (d.res.find(op::OPEN).map(|r| r.res.clone()), d.res.fh()) else {
            return Ok((d, None));
        };
        let mut f = OpenFile { fh: ffh, stateid, owner: owner.clone(), confirmed: true };
        if self.minor == 0 && rflags & 2 != 0 {
            f.confirmed = false;
            let c = self.compound(
                "open_confirm",
                vec![Op::PutFh(f.fh.clone()), Op::OpenConfirm { stateid, seqid: owner.seqid }],
            )?;
            owner.advance(c.status(op::OPEN_CONFIRM));
            if let Some(s) = c.res.stateid(op::OPEN_CONFIRM) {
                f.stateid = s;
                f.confirmed = true;
            }
        }
        f.owner = owner.clone();
        Ok((d, Some(f)))
    }

    /// LOCK with a new lock-owner derived from the open.
    pub fn lock_new(&mut self, f: &mut OpenFile, lock_owner: &[u8], locktype: u32, offset: u64, length: u64, reclaim: bool) -> Result<(Done, Option<HeldLock>)> {
        let locker = Locker::New {
            open_seqid: self.seqid_for(&f.owner),
            open_stateid: f.stateid,
            lock_seqid: 0,
            clientid: self.clientid,
            owner: lock_owner.to_vec(),
        };
        let d = self.compound("lock", vec![Op::PutFh(f.fh.clone()), Op::Lock(LockArgs { locktype, reclaim, offset, length, locker })])?;
        let st = d.status(op::LOCK);
        f.owner.advance(st);
        let held = d.res.stateid(op::LOCK).map(|stateid| HeldLock {
            stateid,
            owner: Owner { owner: lock_owner.to_vec(), seqid: 1 },
            locktype,
            offset,
            length,
        });
        Ok((d, held))
    }

    /// LOCK with an existing lock-owner (another range).
    pub fn lock_existing(&mut self, fh: &[u8], l: &mut HeldLock, locktype: u32, offset: u64, length: u64, reclaim: bool) -> Result<Done> {
        let locker = Locker::Existing { lock_stateid: l.stateid, lock_seqid: self.seqid_for(&l.owner) };
        let d = self.compound("lock", vec![Op::PutFh(fh.to_vec()), Op::Lock(LockArgs { locktype, reclaim, offset, length, locker })])?;
        l.owner.advance(d.status(op::LOCK));
        if let Some(s) = d.res.stateid(op::LOCK) {
            l.stateid = s;
        }
        Ok(d)
    }

    pub fn lockt(&mut self, fh: &[u8], owner: &[u8], locktype: u32, offset: u64, length: u64) -> Result<Done> {
        let clientid = self.clientid;
        self.compound("lockt", vec![Op::PutFh(fh.to_vec()), Op::LockT { locktype, offset, length, clientid, owner: owner.to_vec() }])
    }

    pub fn locku(&mut self, fh: &[u8], l: &mut HeldLock) -> Result<Done> {
        let op_ = Op::LockU { locktype: l.locktype, seqid: self.seqid_for(&l.owner), stateid: l.stateid, offset: l.offset, length: l.length };
        let d = self.compound("locku", vec![Op::PutFh(fh.to_vec()), op_])?;
        l.owner.advance(d.status(op::LOCKU));
        if let Some(s) = d.res.stateid(op::LOCKU) {
            l.stateid = s;
        }
        Ok(d)
    }

    pub fn close(&mut self, f: &mut OpenFile) -> Result<Done> {
        let d = self.compound("close", vec![Op::PutFh(f.fh.clone()), Op::Close { seqid: self.seqid_for(&f.owner), stateid: f.stateid }])?;
        f.owner.advance(d.status(op::CLOSE));
        Ok(d)
    }

    pub fn destroy_session(&mut self) -> Result<Option<Done>> {
        let Some(s) = self.session.take() else { return Ok(None) };
        // DESTROY_SESSION may be the only op (sent outside the session).
        let d = self.compound("destroy_session", vec![Op::DestroySession(s.sessionid)])?;
        Ok(Some(d))
    }

    pub fn destroy_clientid(&mut self) -> Result<Done> {
        let c = self.clientid;
        self.compound("destroy_clientid", vec![Op::DestroyClientId(c)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqid_advances_except_on_listed_errors() {
        let mut o = Owner::new(b"x");
        o.advance(0);
        o.advance(status::DENIED);
        assert_eq!(o.seqid, 2);
        o.advance(status::STALE_CLIENTID);
        o.advance(status::BAD_SEQID);
        o.advance(status::STALE_STATEID);
        assert_eq!(o.seqid, 2);
        o.advance(status::GRACE);
        assert_eq!(o.seqid, 3);
    }

    #[test]
    fn done_status_falls_back_to_compound_status() {
        let d = Done { xid: 1, res: CompoundRes { status: 10052, tag: String::new(), results: vec![] } };
        assert_eq!(d.status(op::OPEN), 10052);
    }
}
