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
        let mut c = NlmClient::connect(ip, s, Proto::Tcp, &caller)?;
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

    for k in 0..V4_HOSTS {
        let ip = client_ip(60 + k);
        let minor = u32::from(k % 2);
        let id = format!("lab-busy-v4{minor}-{k}");
        r.client(format!("{ip} NFSv4.{minor} client owner {id}"));
        let mut c = Nfs4Client::connect(ip, s, minor, &id)?;
        if minor == 0 {
            let (d1, d2) = c.setclientid()?;
            r.v4("v4_setclientid", s, ip, "SETCLIENTID", &d1, v4op::SETCLIENTID, Some(0));
            if let Some(d2) = d2 {
                r.v4("v4_setclientid_confirm", s, ip, "SETCLIENTID_CONFIRM", &d2, v4op::SETCLIENTID_CONFIRM, Some(0));
            }
        } else {
            let (d1, d2) = c.exchange_id_and_session()?;
            r.v4("v4_exchange_id", s, ip, "EXCHANGE_ID", &d1, v4op::EXCHANGE_ID, Some(0));
            if let Some(d2) = d2 {
                r.v4("v4_create_session", s, ip, "CREATE_SESSION", &d2, v4op::CREATE_SESSION, Some(0));
            }
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
        for (ty, off, len) in ranges.into_iter().filter(|x| x.1 != 100) {
            let one = crate::client::session::HeldLock { locktype: ty, offset: off, length: len, ..l.clone() };
            r.v4_lock(s, &c, &f, &one, false);
        }
    }
    Ok(())
}
