//! NLM v4 (program 100021) and NSM (program 100024) argument encoders and result reading.

use super::rpc::{ProcId, Rd};
use crate::xdr::{Enc, XdrError};

pub const NLM_PROG: u32 = 100021;
pub const NLM_VERS4: u32 = 4;
pub const NLM4_NULL: u32 = 0;
pub const NLM4_TEST: u32 = 1;
pub const NLM4_LOCK: u32 = 2;
pub const NLM4_CANCEL: u32 = 3;
pub const NLM4_UNLOCK: u32 = 4;

pub const NSM_PROG: u32 = 100024;
pub const SM_STAT: u32 = 1;
pub const SM_MON: u32 = 2;
pub const SM_UNMON: u32 = 3;
pub const SM_NOTIFY: u32 = 6;

pub fn nlm4(proc_: u32) -> ProcId {
    ProcId { prog: NLM_PROG, vers: NLM_VERS4, proc_ }
}
pub fn nsm(proc_: u32) -> ProcId {
    ProcId { prog: NSM_PROG, vers: 1, proc_ }
}

/// nlm4_stats values.
pub mod stat {
    pub const GRANTED: u32 = 0;
    pub const DENIED: u32 = 1;
    pub const DENIED_NOLOCKS: u32 = 2;
    pub const BLOCKED: u32 = 3;
    pub const DENIED_GRACE_PERIOD: u32 = 4;
    pub const DEADLCK: u32 = 5;
    pub const FAILED: u32 = 9;
    pub fn name(s: u32) -> &'static str {
        match s {
            0 => "GRANTED",
            1 => "DENIED",
            2 => "DENIED_NOLOCKS",
            3 => "BLOCKED",
            4 => "DENIED_GRACE_PERIOD",
            5 => "DEADLCK",
            6 => "ROFS",
            7 => "STALE_FH",
            8 => "FBIG",
            9 => "FAILED",
            _ => "?",
        }
    }
}

/// One byte-range lock as NLM describes it (`nlm4_lock` plus the flags around it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NlmLock {
    pub caller_name: String,
    #[serde(serialize_with = "ser_hex")]
    pub fh: Vec<u8>,
    #[serde(serialize_with = "ser_hex")]
    pub oh: Vec<u8>,
    pub svid: i32,
    pub offset: u64,
    pub len: u64,
    pub exclusive: bool,
}

pub(crate) fn ser_hex<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::xdr::hex(v))
}

impl NlmLock {
    fn encode_alock(&self, e: &mut Enc) {
        e.string(&self.caller_name).opaque(&self.fh).opaque(&self.oh).i32(self.svid);
        e.u64(self.offset).u64(self.len);
    }
}

/// nlm4_lockargs: cookie, block, exclusive, alock, reclaim, state.
pub fn lock_args(cookie: &[u8], l: &NlmLock, block: bool, reclaim: bool, state: i32) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(cookie).bool(block).bool(l.exclusive);
    l.encode_alock(&mut e);
    e.bool(reclaim).i32(state);
    e.into_vec()
}

/// nlm4_testargs: cookie, exclusive, alock.
pub fn test_args(cookie: &[u8], l: &NlmLock) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(cookie).bool(l.exclusive);
    l.encode_alock(&mut e);
    e.into_vec()
}

/// nlm4_cancargs: cookie, block, exclusive, alock.
pub fn cancel_args(cookie: &[u8], l: &NlmLock, block: bool) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(cookie).bool(block).bool(l.exclusive);
    l.encode_alock(&mut e);
    e.into_vec()
}

/// nlm4_unlockargs: cookie, alock.
pub fn unlock_args(cookie: &[u8], l: &NlmLock) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(cookie);
    l.encode_alock(&mut e);
    e.into_vec()
}

/// The stat of an nlm4_res (LOCK, CANCEL, UNLOCK) or nlm4_testres (TEST; a DENIED
/// TEST result carries the holder, which is skipped here).
pub fn parse_res(body: &[u8]) -> Result<u32, XdrError> {
    let mut r = Rd(body);
    r.opaque()?;
    r.u32()
}

/// nlm4_res (LOCK, CANCEL, UNLOCK, and the *_RES procedures): cookie and stat.
pub fn res(cookie: &[u8], stat: u32) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(cookie).u32(stat);
    e.into_vec()
}

/// nlm4_testres: cookie and stat; a DENIED answer names the holder of the conflict.
pub fn test_res(cookie: &[u8], stat: u32, holder: Option<&NlmLock>) -> Vec<u8> {
    let mut e = Enc::new();
    e.opaque(cookie).u32(stat);
    if let (stat::DENIED, Some(h)) = (stat, holder) {
        e.bool(h.exclusive).i32(h.svid).opaque(&h.oh).u64(h.offset).u64(h.len);
    }
    e.into_vec()
}

/// NSM my_id: where statd calls back when a monitored host reboots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyId {
    pub my_name: String,
    pub my_prog: u32,
    pub my_vers: u32,
    pub my_proc: u32,
}

/// sm_name (SM_STAT).
pub fn sm_stat_args(mon_name: &str) -> Vec<u8> {
    let mut e = Enc::new();
    e.string(mon_name);
    e.into_vec()
}

fn mon_id(e: &mut Enc, mon_name: &str, id: &MyId) {
    e.string(mon_name).string(&id.my_name).u32(id.my_prog).u32(id.my_vers).u32(id.my_proc);
}

/// mon: mon_id and 16 private bytes (SM_MON).
pub fn sm_mon_args(mon_name: &str, id: &MyId, priv_: [u8; 16]) -> Vec<u8> {
    let mut e = Enc::new();
    mon_id(&mut e, mon_name, id);
    e.fixed(&priv_);
    e.into_vec()
}

/// mon_id (SM_UNMON).
pub fn sm_unmon_args(mon_name: &str, id: &MyId) -> Vec<u8> {
    let mut e = Enc::new();
    mon_id(&mut e, mon_name, id);
    e.into_vec()
}

/// stat_chge (SM_NOTIFY): the rebooted host and its new state number.
pub fn sm_notify_args(mon_name: &str, state: i32) -> Vec<u8> {
    let mut e = Enc::new();
    e.string(mon_name).i32(state);
    e.into_vec()
}

/// sm_stat_res (SM_STAT, SM_MON): (res_stat, state).
pub fn parse_sm_stat_res(body: &[u8]) -> Result<(u32, i32), XdrError> {
    let mut r = Rd(body);
    Ok((r.u32()?, r.i32()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock() -> NlmLock {
        NlmLock {
            caller_name: "host1".into(),
            fh: vec![1, 2, 3, 4, 5],
            oh: b"oh1".to_vec(),
            svid: 77,
            offset: 1 << 33,
            len: 100,
            exclusive: true,
        }
    }

    #[test]
    fn lock_args_layout() {
        let b = lock_args(b"ck", &lock(), false, true, 3);
        let mut r = Rd(&b);
        assert_eq!(r.opaque().unwrap(), b"ck");
        assert!(!r.bool().unwrap());
        assert!(r.bool().unwrap());
        assert_eq!(r.string().unwrap(), "host1");
        assert_eq!(r.opaque().unwrap(), &[1, 2, 3, 4, 5]);
        assert_eq!(r.opaque().unwrap(), b"oh1");
        assert_eq!(r.i32().unwrap(), 77);
        assert_eq!((r.u64().unwrap(), r.u64().unwrap()), (1 << 33, 100));
        assert!(r.bool().unwrap(), "reclaim");
        assert_eq!(r.i32().unwrap(), 3);
        assert!(r.0.is_empty());
    }

    #[test]
    fn other_args_lengths() {
        let l = lock();
        // alock = 4+8 (name) + 4+8 (fh) + 4+4 (oh) + 4 + 16 = 52
        assert_eq!(test_args(b"", &l).len(), 4 + 4 + 52);
        assert_eq!(cancel_args(b"", &l, true).len(), 4 + 8 + 52);
        assert_eq!(unlock_args(b"abcd", &l).len(), 8 + 52);
        assert_eq!(lock_args(b"", &l, true, false, 0).len(), 4 + 8 + 52 + 8);
    }

    #[test]
    fn res_stat() {
        let mut e = Enc::new();
        e.opaque(b"ck").u32(stat::DENIED_GRACE_PERIOD);
        assert_eq!(parse_res(&e.buf).unwrap(), 4);
        assert!(parse_res(&[0, 0, 0, 9]).is_err());
        assert_eq!(stat::name(4), "DENIED_GRACE_PERIOD");
    }

    #[test]
    fn result_encoders() {
        assert_eq!(parse_res(&res(b"ck", stat::DENIED_GRACE_PERIOD)).unwrap(), stat::DENIED_GRACE_PERIOD);
        let l = lock();
        let b = test_res(b"ck", stat::DENIED, Some(&l));
        let mut r = Rd(&b);
        assert_eq!((r.opaque().unwrap(), r.u32().unwrap()), (&b"ck"[..], stat::DENIED));
        assert!(r.bool().unwrap());
        assert_eq!((r.i32().unwrap(), r.opaque().unwrap()), (77, &b"oh1"[..]));
        assert_eq!((r.u64().unwrap(), r.u64().unwrap()), (1 << 33, 100));
        assert!(r.0.is_empty());
        assert_eq!(test_res(b"", stat::GRANTED, Some(&l)).len(), 8);
    }

    #[test]
    fn nsm_args() {
        let id = MyId { my_name: "srv".into(), my_prog: 100021, my_vers: 4, my_proc: 16 };
        let b = sm_mon_args("cl", &id, [9; 16]);
        let mut r = Rd(&b);
        assert_eq!(r.string().unwrap(), "cl");
        assert_eq!(r.string().unwrap(), "srv");
        assert_eq!((r.u32().unwrap(), r.u32().unwrap(), r.u32().unwrap()), (100021, 4, 16));
        assert_eq!(r.fixed(16).unwrap(), &[9; 16]);
        assert!(r.0.is_empty());
        assert_eq!(sm_unmon_args("cl", &id).len(), b.len() - 16);
        assert_eq!(sm_notify_args("abc", 5), vec![0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 5]);
        assert_eq!(sm_stat_args("x").len(), 8);
        let mut e = Enc::new();
        e.u32(0).i32(7);
        assert_eq!(parse_sm_stat_res(&e.buf).unwrap(), (0, 7));
    }
}
