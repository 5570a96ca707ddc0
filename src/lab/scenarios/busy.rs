//! `busy`: dozens of hosts, hundreds of NLM locks and some NFSv4 locks, some of them
//! released: material for rebuilding lock state from the wire.

use super::*;
use crate::client::nfs4::{OpenClaim, OpenHow, READ_LT, SHARE_ACCESS_BOTH, WRITE_LT};
use crate::client::nlm::stat::GRANTED;
use crate::client::session::{NlmClient, Owner};
use crate::client::Proto;
use crate::lab::LabError;

pub const NLM_HOSTS: u8 = 40;
pub const LOCKS_PER_HOST: u64 = 10;
pub const FILES: usize = 5;
pub const V4_HOSTS: u8 = 4;
pub const V4_LOCKS: u64 = 5;

pub fn run(r: &mut Rec<'_>) -> Result<()> {
    r.m.description = format!(
        "Busy server, no restart: {NLM_HOSTS} NLM hosts (127.0.10.10-{}) take {LOCKS_PER_HOST} locks each on {FILES} files, \
         every 4th is unlocked; {V4_HOSTS} NFSv4 clients (two 4.0, two 4.1) take {V4_LOCKS} locks each with one lock owner \
         and release one.",
        9 + NLM_HOSTS
    );
    let a = GaneshaCfg::new("a", SERVER_A, GRACE, LEASE);
    let lab = r.lab;
    lab.in_ns(|| body(r, &a))?
}

fn body(r: &mut Rec<'_>, a: &GaneshaCfg) -> Result<()> {
    let s = a.ip;
    start_servers(r, &[a])?;
    let names: Vec<String> = (0..FILES).map(|i| format!("busy{i}")).collect();
    let nref: Vec<&str> = names.iter().map(String::as_str).collect();
    let fhs = make_files(r, s, client_ip(10), &nref)?;
    wait_grace(r, a, || {})?;

    let mut held = Vec::new();
    for h in 0..NLM_HOSTS {
        let ip = client_ip(10 + h);
        let caller = format!("busy{:02}", h);
        r.client(format!("{ip} NLM v4 caller_name {caller}"));
        let proto = if h % 8 == 7 { Proto::Udp } else { Proto::Tcp };
        let mut c = NlmClient::connect(ip, s, proto, &caller)?;
        if h % 10 == 0 {
            c.null()?;
        }
        for i in 0..LOCKS_PER_HOST {
            let fh = &fhs[(i as usize + h as usize) % FILES];
            let l = nlm_lock(&caller, fh, 1000 + h as i32, u64::from(h) * 1000 + i * 10, 10, i % 3 != 0);
            let o = c.lock(&l, false)?;
            r.nlm("nlm_lock", s, ip, &format!("LOCK busy{} [{},+10)", (i as usize + h as usize) % FILES, l.offset), o, Some(GRANTED));
            if i % 4 == 3 {
                let o = c.unlock(&l)?;
                r.nlm("nlm_unlock", s, ip, &format!("UNLOCK [{},+10)", l.offset), o, Some(GRANTED));
            } else {
                held.push((ip, l));
            }
        }
    }
    for (ip, l) in &held {
        r.nlm_lock(s, *ip, l, false);
    }
    // a CANCEL of a lock that is not blocked, and plain NFSv3 traffic
    {
        let ip = client_ip(10);
        let mut c = NlmClient::connect(ip, s, Proto::Tcp, "busy00")?;
        let l = nlm_lock("busy00", &fhs[0], 1000, 999_000, 10, true);
        let o = c.cancel(&l)?;
        r.nlm("nlm_cancel", s, ip, "CANCEL [999000,+10) (nothing blocked)", o, None);
        let mut n3 = crate::client::session::Nfs3Client::connect(ip, s, Proto::Udp, "busy00")?;
        n3.null()?;
        let o = n3.getattr(&fhs[0])?;
        r.call("nfs3_getattr", s, ip, "GETATTR busy0 over UDP".into(), o.xid, o.stat, format!("NFS3 {}", o.stat));
    }

    for k in 0..V4_HOSTS {
        let ip = client_ip(60 + k);
        let minor = u32::from(k % 2);
        let id = format!("lab-busy-v4{minor}-{k}");
        r.client(format!("{ip} NFSv4.{minor} client owner {id}"));
        let mut c = Nfs4Client::connect(ip, s, minor, &id)?;
        if minor == 0 {
            r.setclientid(&mut c, s, ip, "")?;
        } else {
            r.session(&mut c, s, ip, "")?;
            let d = c.reclaim_complete()?;
            r.v4("v4_reclaim_complete", s, ip, "RECLAIM_COMPLETE", &d, v4op::RECLAIM_COMPLETE, Some(0));
        }
        let (_, root) = c.lookup_path(&["vfs"])?;
        let root = root.ok_or_else(|| LabError::Msg("lookup /vfs failed".into()))?;
        let mut oo = Owner::new(format!("busy-open-{k}").as_bytes());
        let fname = format!("v4busy{k}");
        let (d, f) = c.open(&root, &mut oo, OpenHow::Unchecked { mode: 0o644 }, OpenClaim::Null(fname.clone()), SHARE_ACCESS_BOTH)?;
        r.v4("v4_open", s, ip, &format!("OPEN {fname} create"), &d, v4op::OPEN, Some(0));
        let mut f = f.ok_or_else(|| LabError::Msg(format!("open {fname} failed")))?;
        let lo = format!("busy-lock-{k}").into_bytes();
        let (d, first) = c.lock_new(&mut f, &lo, WRITE_LT, 0, 10, false)?;
        r.v4("v4_lock", s, ip, &format!("LOCK {fname} [0,10) write"), &d, v4op::LOCK, Some(0));
        let mut l = first.ok_or_else(|| LabError::Msg("first v4 lock failed".into()))?;
        let mut ranges = vec![(WRITE_LT, 0u64, 10u64)];
        for i in 1..V4_LOCKS {
            let (ty, off) = (if i % 2 == 0 { WRITE_LT } else { READ_LT }, i * 100);
            let fh = f.fh.clone();
            let d = c.lock_existing(&fh, &mut l, ty, off, 10, false)?;
            r.v4("v4_lock", s, ip, &format!("LOCK {fname} [{off},+10) existing owner"), &d, v4op::LOCK, Some(0));
            ranges.push((ty, off, 10));
        }
        // release the [100,110) read lock
        let mut rel = l.clone();
        rel.locktype = READ_LT;
        rel.offset = 100;
        rel.length = 10;
        let fh = f.fh.clone();
        let d = c.locku(&fh, &mut rel)?;
        r.v4("v4_locku", s, ip, &format!("LOCKU {fname} [100,110)"), &d, v4op::LOCKU, Some(0));
        l.stateid = rel.stateid;
        l.owner = rel.owner;
        // LOCKT by another owner on a held range, a second open by handle (4.1:
        // CLAIM_FH) that is closed again
        let fh = f.fh.clone();
        let d = c.lockt(&fh, b"busy-probe", WRITE_LT, 0, 10)?;
        r.v4("v4_lockt", s, ip, &format!("LOCKT {fname} [0,10) other owner"), &d, v4op::LOCKT, Some(status::DENIED));
        let mut oo2 = Owner::new(format!("busy-open2-{k}").as_bytes());
        let claim = if minor == 0 { OpenClaim::Null(fname.clone()) } else { OpenClaim::Fh };
        let dir_or_file = if minor == 0 { root.clone() } else { fh.clone() };
        let (d, f2) = c.open(&dir_or_file, &mut oo2, OpenHow::NoCreate, claim, crate::client::nfs4::SHARE_ACCESS_READ)?;
        r.v4("v4_open", s, ip, &format!("OPEN {fname} second owner"), &d, v4op::OPEN, Some(0));
        if let Some(mut f2) = f2 {
            let d = c.close(&mut f2)?;
            r.v4("v4_close", s, ip, &format!("CLOSE {fname} second owner"), &d, v4op::CLOSE, Some(0));
        }
        let d = c.compound("getattr", vec![crate::client::nfs4::Op::PutFh(fh.clone()), crate::client::nfs4::Op::GetAttr(vec![0x0000_0018, 0x0000_0002])])?;
        r.v4("v4_getattr", s, ip, &format!("GETATTR {fname} (change, size, mode)"), &d, v4op::GETATTR, Some(0));
        for (ty, off, len) in ranges.into_iter().filter(|x| x.1 != 100) {
            let one = crate::client::session::HeldLock { locktype: ty, offset: off, length: len, ..l.clone() };
            r.v4_lock(s, &c, &f, &one, false);
        }
    }
    // a 4.1 client that comes and goes without state
    let ip = client_ip(70);
    r.client(format!("{ip} NFSv4.1 client owner lab-busy-transient"));
    let mut c = Nfs4Client::connect(ip, s, 1, "lab-busy-transient")?;
    let (d1, _) = c.exchange_id_and_session()?;
    r.v4("v4_exchange_id", s, ip, "EXCHANGE_ID", &d1, v4op::EXCHANGE_ID, Some(0));
    let d = c.reclaim_complete()?;
    r.v4("v4_reclaim_complete", s, ip, "RECLAIM_COMPLETE", &d, v4op::RECLAIM_COMPLETE, Some(0));
    if let Some(d) = c.destroy_session()? {
        r.v4("v4_destroy_session", s, ip, "DESTROY_SESSION", &d, v4op::DESTROY_SESSION, Some(0));
    }
    let d = c.destroy_clientid()?;
    r.v4("v4_destroy_clientid", s, ip, "DESTROY_CLIENTID", &d, v4op::DESTROY_CLIENTID, Some(0));
    Ok(())
}
