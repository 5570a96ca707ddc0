//! `--remap-by-path`: the target serves the same files under other handles (another
//! server, a fresh export). Each file whose path the capture showed is looked up on
//! the target: NLM handles are NFSv3 handles (MOUNT of the longest directory prefix
//! the target exports, then LOOKUP of the rest), NFSv4 handles come from PUTROOTFH
//! and a LOOKUP per component. A file that cannot be resolved keeps its requests in
//! the plan, failed with the reason.

use super::plan::Plan;
use super::send::SendConfig;
use crate::client::nfs3::{self, getport_args, lookup_args, mnt_args, parse_getport_res, parse_lookup_res, parse_mnt_res, IPPROTO_TCP, PMAPPROC_GETPORT, PMAP_PROG};
use crate::client::nfs4::{nfs4, status, Compound, Op, NFS4_PROC_COMPOUND};
use crate::client::nfs4_reply::parse_compound;
use crate::client::rpc::{AuthSys, Cred, ProcId};
use crate::client::transport::{Endpoint, Proto, RpcConn};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::time::Duration;

/// Old handle → the handle on the target, or why there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remap {
    pub nlm: HashMap<Vec<u8>, Result<Vec<u8>, String>>,
    pub v4: HashMap<Vec<u8>, Result<Vec<u8>, String>>,
}

impl Remap {
    pub fn resolved(&self) -> usize {
        self.nlm.values().chain(self.v4.values()).filter(|r| r.is_ok()).count()
    }
    pub fn unresolved(&self) -> usize {
        self.nlm.values().chain(self.v4.values()).filter(|r| r.is_err()).count()
    }
}

const NO_PATH: &str = "--remap-by-path: the capture never showed this file's name";

fn pick(m: &HashMap<Vec<u8>, Result<Vec<u8>, String>>, fh: &[u8]) -> Result<Vec<u8>, String> {
    m.get(fh).cloned().unwrap_or_else(|| Err(NO_PATH.to_string()))
}

/// Replace the plan's handles by the target's; unresolved files fail their requests.
pub fn apply(plan: &mut Plan, r: &Remap) {
    for h in &mut plan.nlm {
        for l in h.locks.iter_mut().filter(|l| l.fail.is_none()) {
            match pick(&r.nlm, &l.fh) {
                Ok(fh) => l.fh = fh,
                Err(e) => l.fail = Some(e),
            }
        }
    }
    for c in &mut plan.v4 {
        for o in c.opens.iter_mut().filter(|o| o.fail.is_none()) {
            match pick(&r.v4, &o.fh) {
                Ok(fh) => o.fh = fh,
                Err(e) => o.fail = Some(e),
            }
        }
    }
}

/// Distinct (old handle, path) pairs of each protocol family.
pub fn paths(plan: &Plan) -> (BTreeMap<Vec<u8>, Option<String>>, BTreeMap<Vec<u8>, Option<String>>) {
    let mut nlm = BTreeMap::new();
    for l in plan.nlm.iter().flat_map(|h| &h.locks) {
        nlm.entry(l.fh.clone()).or_insert_with(|| l.path.clone());
    }
    let mut v4 = BTreeMap::new();
    for o in plan.v4.iter().flat_map(|c| &c.opens) {
        v4.entry(o.fh.clone()).or_insert_with(|| o.path.clone());
    }
    (nlm, v4)
}

fn parts(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty() && *s != ".").collect()
}

struct V3 {
    cfg: SendConfig,
    local: Ipv4Addr,
    mounts: HashMap<String, Option<Vec<u8>>>,
    mount_port: Option<u16>,
    nfs: Option<RpcConn>,
}

impl V3 {
    fn conn(&self, port: u16) -> Result<RpcConn, String> {
        let ep = Endpoint { local: self.local, server: self.cfg.target, port, proto: Proto::Tcp, reserved: false };
        let mut c = RpcConn::connect(ep, Cred::Sys(AuthSys::root("gracewatch"))).map_err(|e| format!("connect to port {port}: {e}"))?;
        c.set_timeout(self.cfg.timeout.max(Duration::from_secs(1))).map_err(|e| e.to_string())?;
        Ok(c)
    }

    fn getport(&self, prog: u32, vers: u32) -> Result<u16, String> {
        let mut c = self.conn(self.cfg.rpcbind_port)?;
        c.cred = Cred::None;
        let r = c.call(ProcId { prog: PMAP_PROG, vers: 2, proc_: PMAPPROC_GETPORT }, &getport_args(prog, vers, IPPROTO_TCP)).map_err(|e| format!("rpcbind: {e}"))?;
        match parse_getport_res(&r.body) {
            Ok(p) if p > 0 && p <= 65535 => Ok(p as u16),
            _ => Err(format!("program {prog} v{vers} not registered at the target's rpcbind")),
        }
    }

    fn mount(&mut self, dir: &str) -> Result<Option<Vec<u8>>, String> {
        if let Some(m) = self.mounts.get(dir) {
            return Ok(m.clone());
        }
        let port = match self.mount_port {
            Some(p) => p,
            None => {
                let p = self.getport(nfs3::MOUNT_PROG, 3)?;
                self.mount_port = Some(p);
                p
            }
        };
        let mut c = self.conn(port)?;
        let r = c.call(nfs3::mount3(nfs3::MOUNTPROC3_MNT), &mnt_args(dir)).map_err(|e| format!("MNT {dir}: {e}"))?;
        let fh = parse_mnt_res(&r.body).map_err(|e| e.to_string())?.1;
        self.mounts.insert(dir.to_string(), fh.clone());
        Ok(fh)
    }

    fn lookup(&mut self, dir: &[u8], name: &str) -> Result<Vec<u8>, String> {
        if self.nfs.is_none() {
            self.nfs = Some(self.conn(self.cfg.nfs_port)?);
        }
        let c = self.nfs.as_mut().ok_or("no connection")?;
        let r = c.call(nfs3::nfs3(nfs3::NFSPROC3_LOOKUP), &lookup_args(dir, name)).map_err(|e| format!("LOOKUP {name}: {e}"))?;
        match parse_lookup_res(&r.body).map_err(|e| e.to_string())? {
            (0, Some(fh)) => Ok(fh),
            (st, _) => Err(format!("LOOKUP {name}: NFS3 status {st}")),
        }
    }

    /// MOUNT the longest exported prefix, LOOKUP the rest.
    fn resolve(&mut self, path: &str) -> Result<Vec<u8>, String> {
        let p = parts(path);
        let mut last = format!("{path}: nothing along the path is exported");
        for k in (0..p.len()).rev() {
            let dir = format!("/{}", p[..k].join("/"));
            match self.mount(&dir) {
                Ok(Some(mut fh)) => {
                    for name in &p[k..] {
                        fh = self.lookup(&fh, name).map_err(|e| format!("{path}: {e}"))?;
                    }
                    return Ok(fh);
                }
                Ok(None) => {}
                Err(e) => last = format!("{path}: {e}"),
            }
        }
        Err(last)
    }
}

fn v4_resolve(conn: &mut RpcConn, path: &str) -> Result<Vec<u8>, String> {
    let mut c = Compound::new(0, "remap");
    c.push(Op::PutRootFh);
    for p in parts(path) {
        c.push(Op::Lookup(p.to_string()));
    }
    c.push(Op::GetFh);
    let r = conn.call(nfs4(NFS4_PROC_COMPOUND), &c.encode()).map_err(|e| format!("{path}: {e}"))?;
    let res = parse_compound(&r.body).map_err(|e| format!("{path}: {e}"))?;
    match (res.status, res.fh()) {
        (0, Some(fh)) => Ok(fh),
        (st, _) => Err(format!("{path}: LOOKUP {}", status::name(st))),
    }
}

/// Look every path of the plan up on the target (blocking; run where the target is
/// reachable).
pub fn resolve(plan: &Plan, cfg: &SendConfig) -> Remap {
    let (nlm, v4) = paths(plan);
    let local = cfg.source_addrs.first().copied().unwrap_or(Ipv4Addr::UNSPECIFIED);
    let mut out = Remap::default();
    let mut v3 = V3 { cfg: cfg.clone(), local, mounts: HashMap::new(), mount_port: None, nfs: None };
    let mut done: HashMap<String, Result<Vec<u8>, String>> = HashMap::new();
    for (fh, path) in nlm {
        let r = match path {
            None => Err(NO_PATH.to_string()),
            Some(p) => done.entry(p.clone()).or_insert_with(|| v3.resolve(&p)).clone(),
        };
        out.nlm.insert(fh, r);
    }
    let wanted: BTreeSet<String> = v4.values().flatten().cloned().collect();
    let mut by_path: HashMap<String, Result<Vec<u8>, String>> = HashMap::new();
    if !wanted.is_empty() {
        let ep = Endpoint { local, server: cfg.target, port: cfg.nfs_port, proto: Proto::Tcp, reserved: false };
        match RpcConn::connect(ep, Cred::Sys(AuthSys::root("gracewatch"))) {
            Ok(mut conn) => {
                for p in wanted {
                    let r = v4_resolve(&mut conn, &p);
                    by_path.insert(p, r);
                }
            }
            Err(e) => {
                for p in wanted {
                    by_path.insert(p, Err(format!("connect to the target's NFS port: {e}")));
                }
            }
        }
    }
    for (fh, path) in v4 {
        let r = match path {
            None => Err(NO_PATH.to_string()),
            Some(p) => by_path.get(&p).cloned().unwrap_or_else(|| Err(NO_PATH.to_string())),
        };
        out.v4.insert(fh, r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::plan::{NlmHost, NlmReclaim, V4Client, V4Open};

    fn plan() -> Plan {
        let nl = |fh: u8, path: Option<&str>| NlmReclaim { fh: vec![fh], path: path.map(String::from), oh: vec![], svid: 1, offset: 0, len: 1, exclusive: true, fail: None };
        let op = |fh: u8, path: Option<&str>| V4Open { open_owner: vec![fh], fh: vec![fh], path: path.map(String::from), share_access: 3, share_deny: 0, synthesized: false, locks: vec![], fail: None };
        Plan {
            nlm: vec![NlmHost { caller_name: "h".into(), addr: [127, 0, 0, 1].into(), state: 1, locks: vec![nl(1, Some("/vfs/f1")), nl(2, None), nl(1, Some("/vfs/f1"))] }],
            v4: vec![V4Client {
                minor: 1,
                owner: b"c".to_vec(),
                owner_text: "c".into(),
                verifier: vec![0; 8],
                addr: [127, 0, 0, 1].into(),
                machine: "c".into(),
                uid: 0,
                opens: vec![op(3, Some("/vfs/f3")), op(4, Some("/vfs/gone"))],
                fail: None,
            }],
            ..Plan::default()
        }
    }

    #[test]
    fn paths_are_collected_once_per_handle() {
        let (nlm, v4) = paths(&plan());
        assert_eq!(nlm.len(), 2);
        assert_eq!(nlm[&vec![1u8]], Some("/vfs/f1".to_string()));
        assert_eq!(nlm[&vec![2u8]], None);
        assert_eq!(v4.len(), 2);
        assert_eq!(parts("/vfs//a/./b"), ["vfs", "a", "b"]);
    }

    #[test]
    fn apply_replaces_handles_and_fails_the_rest() {
        let mut p = plan();
        let mut r = Remap::default();
        r.nlm.insert(vec![1], Ok(vec![0xa1]));
        r.v4.insert(vec![3], Ok(vec![0xa3]));
        r.v4.insert(vec![4], Err("/vfs/gone: LOOKUP NFS4ERR_NOENT".into()));
        assert_eq!((r.resolved(), r.unresolved()), (2, 1));
        apply(&mut p, &r);
        let l = &p.nlm[0].locks;
        assert_eq!((l[0].fh.as_slice(), l[0].fail.as_deref()), (&[0xa1u8][..], None));
        assert_eq!(l[1].fail.as_deref(), Some(NO_PATH));
        assert_eq!(l[2].fh, vec![0xa1]);
        let o = &p.v4[0].opens;
        assert_eq!(o[0].fh, vec![0xa3]);
        assert!(o[1].fail.as_deref().unwrap().contains("NOENT"));
        assert_eq!(o[1].fh, vec![4], "an unresolved open keeps its old handle");
    }
}
