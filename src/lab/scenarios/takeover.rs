//! What the failover scenarios share: servers A and B with the audit told of the
//! failover, and the first act, where NLM hosts nlmc1 and nlmc2, a v4.0 and a v4.1
//! client take locks on A before it dies (nlmc3 only prepares its lock).

use super::*;
use crate::client::nfs4::{OpenClaim, OpenHow, SHARE_ACCESS_BOTH, WRITE_LT};
use crate::client::nlm::stat::GRANTED;
use crate::client::session::{NlmClient, Owner};
use crate::client::Proto;
use crate::lab::LabError;

/// What the clients hold on A.
pub struct Holders {
    pub ips: [Ipv4Addr; 5],
    pub c1: NlmClient,
    pub c2: NlmClient,
    pub l1: NlmLock,
    pub l2: NlmLock,
    pub l3: NlmLock,
    pub v40: Nfs4Client,
    pub v41: Nfs4Client,
    /// The export's root handle.
    pub root: Vec<u8>,
    pub f3: OpenFile,
    pub f4: OpenFile,
    /// The xids of the v4.0 and v4.1 LOCKs.
    pub held40: u32,
    pub held41: u32,
}

/// A failover from A (127.0.0.2) to B (127.0.0.3), `--failover` for the audit; `body`
/// runs in the lab's namespace.
pub fn failover(r: &mut Rec<'_>, body: fn(&mut Rec<'_>, &GaneshaCfg, &GaneshaCfg) -> Result<()>) -> Result<()> {
    let a = GaneshaCfg::new("a", SERVER_A, GRACE, LEASE);
    let b = GaneshaCfg::new("b", SERVER_B, GRACE, LEASE);
    r.m.audit_args = vec!["--failover".into(), format!("{}={}", a.ip, b.ip)];
    let lab = r.lab;
    lab.in_ns(|| body(r, &a, &b))?
}

/// Start A, make files f1 and f2, wait out its grace and take the locks. `tag` keeps
/// each scenario's client owners apart; NLM svids are `svid`, +1, +2; `nlmc3` is how
/// the manifest lists the third host.
pub fn take_locks(r: &mut Rec<'_>, a: &GaneshaCfg, tag: &str, svid: i32, nlmc3: &str) -> Result<Holders> {
    let sa = a.ip;
    start_servers(r, &[a])?;
    let fhs = make_files(r, sa, client_ip(1), &["f1", "f2"])?;
    wait_grace(r, a, || {})?;
    let ips = [client_ip(1), client_ip(2), client_ip(3), client_ip(4), client_ip(5)];
    let [ip1, ip2, ip3, ip4, ip5] = ips;
    for (ip, n) in [(ip1, "nlmc1"), (ip2, "nlmc2"), (ip3, nlmc3)] {
        r.client(format!("{ip} NLM v4 caller_name {n}"));
    }
    let (o40, o41) = (format!("lab-v40-{tag}"), format!("lab-v41-{tag}"));
    r.client(format!("{ip4} NFSv4.0 client owner {o40}"));
    r.client(format!("{ip5} NFSv4.1 client owner {o41}"));

    let l1 = nlm_lock("nlmc1", &fhs[0], svid, 0, 100, true);
    let l2 = nlm_lock("nlmc2", &fhs[1], svid + 1, 0, 0, true);
    let l3 = nlm_lock("nlmc3", &fhs[0], svid + 2, 1000, 10, true);
    let mut c1 = NlmClient::connect(ip1, sa, Proto::Tcp, "nlmc1")?;
    let mut c2 = NlmClient::connect(ip2, sa, Proto::Tcp, "nlmc2")?;
    r.nlm("nlm_lock", sa, ip1, "LOCK f1 [0,100) excl", c1.lock(&l1, false)?, Some(GRANTED));
    r.nlm("nlm_lock", sa, ip2, "LOCK f2 [0,EOF) excl", c2.lock(&l2, false)?, Some(GRANTED));

    let mut v40 = Nfs4Client::connect(ip4, sa, 0, &o40)?;
    r.setclientid(&mut v40, sa, ip4, "")?;
    let (_, root) = v40.lookup_path(&["vfs"])?;
    let root = root.ok_or_else(|| LabError::Msg("lookup /vfs failed".into()))?;
    let mut oo = Owner::new(format!("v40{tag}-open-owner").as_bytes());
    let (d, f3) = v40.open(&root, &mut oo, OpenHow::Unchecked { mode: 0o644 }, OpenClaim::Null("f3".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", sa, ip4, "OPEN f3 CLAIM_NULL create", &d, v4op::OPEN, Some(0));
    let mut f3 = f3.ok_or_else(|| LabError::Msg("open f3 failed".into()))?;
    let (d, _) = v40.lock_new(&mut f3, format!("v40{tag}-lock-owner").as_bytes(), WRITE_LT, 0, 1000, false)?;
    let held40 = d.xid;
    r.v4("v4_lock", sa, ip4, "LOCK f3 [0,1000) write", &d, v4op::LOCK, Some(0));

    let mut v41 = Nfs4Client::connect(ip5, sa, 1, &o41)?;
    r.session(&mut v41, sa, ip5, "")?;
    let d = v41.reclaim_complete()?;
    r.v4("v4_reclaim_complete", sa, ip5, "RECLAIM_COMPLETE (fresh client)", &d, v4op::RECLAIM_COMPLETE, Some(0));
    let mut oo41 = Owner::new(format!("v41{tag}-open-owner").as_bytes());
    let (d, f4) = v41.open(&root, &mut oo41, OpenHow::Unchecked { mode: 0o644 }, OpenClaim::Null("f4".into()), SHARE_ACCESS_BOTH)?;
    r.v4("v4_open", sa, ip5, "OPEN f4 CLAIM_NULL create", &d, v4op::OPEN, Some(0));
    let mut f4 = f4.ok_or_else(|| LabError::Msg("open f4 failed".into()))?;
    let (d, _) = v41.lock_new(&mut f4, format!("v41{tag}-lock-owner").as_bytes(), WRITE_LT, 100, 100, false)?;
    let held41 = d.xid;
    r.v4("v4_lock", sa, ip5, "LOCK f4 [100,200) write", &d, v4op::LOCK, Some(0));
    Ok(Holders { ips, c1, c2, l1, l2, l3, v40, v41, root, f3, f4, held40, held41 })
}
