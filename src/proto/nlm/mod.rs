//! NLM, the Network Lock Manager (program 100021).
//!
//! Versions 1 and 3 carry 32-bit byte ranges, version 4 carries 64-bit ranges (XNFS
//! chapters 10 and 14, RFC 1813 appendix II). Ranges are widened to `u64` here; a
//! 32-bit value widens without loss. Version 2 is dissected like version 1, as tshark does.
//! The `*_MSG` procedures carry the arguments of their synchronous twin and get a void
//! reply; the `*_RES` procedures carry the result structure as their arguments.

mod text;
#[cfg(test)]
mod tests;

use crate::xdr::{self, opaque, string, Opaque, Res, XStr, XdrError};
use serde::{Serialize, Serializer};

const PROCS: [Option<&str>; 24] = [
    Some("NULL"),
    Some("TEST"),
    Some("LOCK"),
    Some("CANCEL"),
    Some("UNLOCK"),
    Some("GRANTED"),
    Some("TEST_MSG"),
    Some("LOCK_MSG"),
    Some("CANCEL_MSG"),
    Some("UNLOCK_MSG"),
    Some("GRANTED_MSG"),
    Some("TEST_RES"),
    Some("LOCK_RES"),
    Some("CANCEL_RES"),
    Some("UNLOCK_RES"),
    Some("GRANTED_RES"),
    Some("SM_NOTIFY"),
    None,
    None,
    None,
    Some("SHARE"),
    Some("UNSHARE"),
    Some("NM_LOCK"),
    Some("FREE_ALL"),
];

/// Procedure 16 is private to the lock manager (statd's reboot callback).
pub const PROC_SM_NOTIFY: u32 = 16;

/// Whether version `vers` has the DOS-sharing procedures 20–23.
fn has_share(vers: u32) -> bool {
    vers >= 3
}

pub fn proc_name(vers: u32, proc_: u32) -> Option<&'static str> {
    let max = match vers {
        1 | 2 => 16,
        3 | 4 => 23,
        _ => return None,
    };
    if proc_ > max {
        return None;
    }
    PROCS.get(proc_ as usize).copied().flatten()
}

/// `nlm_stats` / `nlm4_stats`. Version 1 defines only 0–4, with the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NlmStat {
    Granted,
    Denied,
    DeniedNolocks,
    Blocked,
    DeniedGracePeriod,
    Deadlck,
    Rofs,
    StaleFh,
    Fbig,
    Failed,
    Unknown(u32),
}

impl NlmStat {
    pub fn from_u32(v: u32) -> Self {
        use NlmStat::*;
        match v {
            0 => Granted,
            1 => Denied,
            2 => DeniedNolocks,
            3 => Blocked,
            4 => DeniedGracePeriod,
            5 => Deadlck,
            6 => Rofs,
            7 => StaleFh,
            8 => Fbig,
            9 => Failed,
            n => Unknown(n),
        }
    }

    pub fn code(self) -> u32 {
        use NlmStat::*;
        match self {
            Granted => 0,
            Denied => 1,
            DeniedNolocks => 2,
            Blocked => 3,
            DeniedGracePeriod => 4,
            Deadlck => 5,
            Rofs => 6,
            StaleFh => 7,
            Fbig => 8,
            Failed => 9,
            Unknown(n) => n,
        }
    }

    /// The protocol name without the `NLM_`/`NLM4_` prefix; "UNKNOWN" for other values.
    pub fn name(self) -> &'static str {
        use NlmStat::*;
        match self {
            Granted => "GRANTED",
            Denied => "DENIED",
            DeniedNolocks => "DENIED_NOLOCKS",
            Blocked => "BLOCKED",
            DeniedGracePeriod => "DENIED_GRACE_PERIOD",
            Deadlck => "DEADLCK",
            Rofs => "ROFS",
            StaleFh => "STALE_FH",
            Fbig => "FBIG",
            Failed => "FAILED",
            Unknown(_) => "UNKNOWN",
        }
    }
}

/// JSON: `{"name": "DENIED", "code": 1}`.
impl Serialize for NlmStat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("NlmStat", 2)?;
        st.serialize_field("name", self.name())?;
        st.serialize_field("code", &self.code())?;
        st.end()
    }
}

/// `nlm_lock` / `nlm4_lock`: who locks which byte range of which file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lock<'a> {
    pub caller_name: XStr<'a>,
    pub fh: Opaque<'a>,
    /// Owner handle: identifies the lock owner together with `svid`.
    pub oh: Opaque<'a>,
    pub svid: i32,
    pub offset: u64,
    /// 0 means "to the end of the file".
    pub len: u64,
}

impl Lock<'_> {
    /// Exclusive end of the range; `None` for "to end of file".
    pub fn end(&self) -> Option<u64> {
        range_end(self.offset, self.len)
    }
}

/// Exclusive end of `[offset, offset+len)`; `None` when `len` is 0 (to end of file).
/// A range that would pass 2^64 ends at `u64::MAX`.
pub fn range_end(offset: u64, len: u64) -> Option<u64> {
    if len == 0 {
        None
    } else {
        Some(offset.saturating_add(len))
    }
}

/// `nlm_holder` / `nlm4_holder`: the conflicting lock a DENIED TEST reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder<'a> {
    pub exclusive: bool,
    pub svid: i32,
    pub oh: Opaque<'a>,
    pub offset: u64,
    pub len: u64,
}

impl Holder<'_> {
    pub fn end(&self) -> Option<u64> {
        range_end(self.offset, self.len)
    }
}

/// `nlm_testargs` (TEST, TEST_MSG, GRANTED, GRANTED_MSG).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestArgs<'a> {
    pub cookie: Opaque<'a>,
    pub exclusive: bool,
    #[serde(flatten)]
    pub lock: Lock<'a>,
}

/// `nlm_lockargs` (LOCK, LOCK_MSG, NM_LOCK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockArgs<'a> {
    pub cookie: Opaque<'a>,
    pub block: bool,
    pub exclusive: bool,
    #[serde(flatten)]
    pub lock: Lock<'a>,
    pub reclaim: bool,
    /// The client's NSM state number.
    pub state: i32,
}

/// `nlm_cancargs` (CANCEL, CANCEL_MSG).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancArgs<'a> {
    pub cookie: Opaque<'a>,
    pub block: bool,
    pub exclusive: bool,
    #[serde(flatten)]
    pub lock: Lock<'a>,
}

/// `nlm_unlockargs` (UNLOCK, UNLOCK_MSG).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnlockArgs<'a> {
    pub cookie: Opaque<'a>,
    #[serde(flatten)]
    pub lock: Lock<'a>,
}

/// `nlm_share`: a DOS-style share reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Share<'a> {
    pub caller_name: XStr<'a>,
    pub fh: Opaque<'a>,
    pub oh: Opaque<'a>,
    /// `fsh_mode`: 0 deny none, 1 deny read, 2 deny write, 3 deny read/write.
    pub mode: u32,
    /// `fsh_access`: 0 none, 1 read, 2 write, 3 read/write.
    pub access: u32,
}

/// `nlm_shareargs` (SHARE, UNSHARE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareArgs<'a> {
    pub cookie: Opaque<'a>,
    #[serde(flatten)]
    pub share: Share<'a>,
    pub reclaim: bool,
}

/// `nlm_notify` (FREE_ALL): forget every lock held by `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifyArgs<'a> {
    pub name: XStr<'a>,
    pub state: i32,
}

/// Arguments of the private procedure 16: statd reports that `mon_name` rebooted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmNotifyArgs<'a> {
    pub mon_name: XStr<'a>,
    pub state: i32,
    #[serde(rename = "priv")]
    pub priv_: Opaque<'a>,
}

/// `nlm_testres`: TEST result, and TEST_RES arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestRes<'a> {
    pub cookie: Opaque<'a>,
    pub stat: NlmStat,
    /// Present when `stat` is DENIED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<Holder<'a>>,
}

/// `nlm_res`: LOCK/CANCEL/UNLOCK/GRANTED/NM_LOCK result, and `*_RES` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NlmRes<'a> {
    pub cookie: Opaque<'a>,
    pub stat: NlmStat,
}

/// `nlm_shareres`: SHARE/UNSHARE result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareRes<'a> {
    pub cookie: Opaque<'a>,
    pub stat: NlmStat,
    pub sequence: i32,
}

/// A decoded NLM call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Call<'a> {
    Null,
    Test(TestArgs<'a>),
    Lock(LockArgs<'a>),
    Cancel(CancArgs<'a>),
    Unlock(UnlockArgs<'a>),
    Granted(TestArgs<'a>),
    TestMsg(TestArgs<'a>),
    LockMsg(LockArgs<'a>),
    CancelMsg(CancArgs<'a>),
    UnlockMsg(UnlockArgs<'a>),
    GrantedMsg(TestArgs<'a>),
    TestRes(TestRes<'a>),
    LockRes(NlmRes<'a>),
    CancelRes(NlmRes<'a>),
    UnlockRes(NlmRes<'a>),
    GrantedRes(NlmRes<'a>),
    SmNotify(SmNotifyArgs<'a>),
    Share(ShareArgs<'a>),
    Unshare(ShareArgs<'a>),
    NmLock(LockArgs<'a>),
    FreeAll(NotifyArgs<'a>),
    Unknown { proc_num: u32 },
}

/// A decoded NLM reply. The `*_MSG`, `*_RES`, SM_NOTIFY and FREE_ALL replies are void.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reply<'a> {
    Null,
    Test(TestRes<'a>),
    Lock(NlmRes<'a>),
    Cancel(NlmRes<'a>),
    Unlock(NlmRes<'a>),
    Granted(NlmRes<'a>),
    TestMsg,
    LockMsg,
    CancelMsg,
    UnlockMsg,
    GrantedMsg,
    TestRes,
    LockRes,
    CancelRes,
    UnlockRes,
    GrantedRes,
    SmNotify,
    Share(ShareRes<'a>),
    Unshare(ShareRes<'a>),
    NmLock(NlmRes<'a>),
    FreeAll,
    Unknown { proc_num: u32 },
}

impl<'a> Call<'a> {
    /// The lock the call is about (TEST, LOCK, CANCEL, UNLOCK, GRANTED, their `*_MSG`
    /// forms, NM_LOCK).
    pub fn lock(&self) -> Option<&Lock<'a>> {
        match self {
            Call::Test(a) | Call::TestMsg(a) | Call::Granted(a) | Call::GrantedMsg(a) => Some(&a.lock),
            Call::Lock(a) | Call::LockMsg(a) | Call::NmLock(a) => Some(&a.lock),
            Call::Cancel(a) | Call::CancelMsg(a) => Some(&a.lock),
            Call::Unlock(a) | Call::UnlockMsg(a) => Some(&a.lock),
            _ => None,
        }
    }

    /// The reclaim flag of LOCK, LOCK_MSG, NM_LOCK, SHARE and UNSHARE.
    pub fn reclaim(&self) -> Option<bool> {
        match self {
            Call::Lock(a) | Call::LockMsg(a) | Call::NmLock(a) => Some(a.reclaim),
            Call::Share(a) | Call::Unshare(a) => Some(a.reclaim),
            _ => None,
        }
    }

    /// The exclusive flag, where the arguments carry one.
    pub fn exclusive(&self) -> Option<bool> {
        match self {
            Call::Test(a) | Call::TestMsg(a) | Call::Granted(a) | Call::GrantedMsg(a) => Some(a.exclusive),
            Call::Lock(a) | Call::LockMsg(a) | Call::NmLock(a) => Some(a.exclusive),
            Call::Cancel(a) | Call::CancelMsg(a) => Some(a.exclusive),
            _ => None,
        }
    }

    /// The block flag of LOCK, LOCK_MSG, NM_LOCK, CANCEL and CANCEL_MSG.
    pub fn block(&self) -> Option<bool> {
        match self {
            Call::Lock(a) | Call::LockMsg(a) | Call::NmLock(a) => Some(a.block),
            Call::Cancel(a) | Call::CancelMsg(a) => Some(a.block),
            _ => None,
        }
    }

    /// The NSM state number carried by LOCK-style arguments, SM_NOTIFY and FREE_ALL.
    pub fn state(&self) -> Option<i32> {
        match self {
            Call::Lock(a) | Call::LockMsg(a) | Call::NmLock(a) => Some(a.state),
            Call::SmNotify(a) => Some(a.state),
            Call::FreeAll(a) => Some(a.state),
            _ => None,
        }
    }

    /// The cookie; `*_MSG` calls and the `*_RES` calls answering them share it.
    pub fn cookie(&self) -> Option<Opaque<'a>> {
        Some(match self {
            Call::Test(a) | Call::TestMsg(a) | Call::Granted(a) | Call::GrantedMsg(a) => a.cookie,
            Call::Lock(a) | Call::LockMsg(a) | Call::NmLock(a) => a.cookie,
            Call::Cancel(a) | Call::CancelMsg(a) => a.cookie,
            Call::Unlock(a) | Call::UnlockMsg(a) => a.cookie,
            Call::TestRes(r) => r.cookie,
            Call::LockRes(r) | Call::CancelRes(r) | Call::UnlockRes(r) | Call::GrantedRes(r) => r.cookie,
            Call::Share(a) | Call::Unshare(a) => a.cookie,
            _ => return None,
        })
    }

    /// The status a `*_RES` call reports.
    pub fn stat(&self) -> Option<NlmStat> {
        match self {
            Call::TestRes(r) => Some(r.stat),
            Call::LockRes(r) | Call::CancelRes(r) | Call::UnlockRes(r) | Call::GrantedRes(r) => Some(r.stat),
            _ => None,
        }
    }

    /// The conflicting holder a TEST_RES call reports.
    pub fn holder(&self) -> Option<&Holder<'a>> {
        match self {
            Call::TestRes(r) => r.holder.as_ref(),
            _ => None,
        }
    }

    /// The share reservation of SHARE and UNSHARE.
    pub fn share(&self) -> Option<&Share<'a>> {
        match self {
            Call::Share(a) | Call::Unshare(a) => Some(&a.share),
            _ => None,
        }
    }

    /// For `*_MSG` calls, the synchronous procedure whose arguments they carry; for
    /// `*_RES` calls, the synchronous procedure whose result they carry.
    pub fn sync_proc(&self) -> Option<u32> {
        Some(match self {
            Call::TestMsg(_) | Call::TestRes(_) => 1,
            Call::LockMsg(_) | Call::LockRes(_) => 2,
            Call::CancelMsg(_) | Call::CancelRes(_) => 3,
            Call::UnlockMsg(_) | Call::UnlockRes(_) => 4,
            Call::GrantedMsg(_) | Call::GrantedRes(_) => 5,
            _ => return None,
        })
    }
}

impl<'a> Reply<'a> {
    /// The status of a TEST/LOCK/CANCEL/UNLOCK/GRANTED/SHARE/UNSHARE/NM_LOCK reply.
    pub fn stat(&self) -> Option<NlmStat> {
        match self {
            Reply::Test(r) => Some(r.stat),
            Reply::Lock(r) | Reply::Cancel(r) | Reply::Unlock(r) | Reply::Granted(r) | Reply::NmLock(r) => {
                Some(r.stat)
            }
            Reply::Share(r) | Reply::Unshare(r) => Some(r.stat),
            _ => None,
        }
    }

    pub fn cookie(&self) -> Option<Opaque<'a>> {
        match self {
            Reply::Test(r) => Some(r.cookie),
            Reply::Lock(r) | Reply::Cancel(r) | Reply::Unlock(r) | Reply::Granted(r) | Reply::NmLock(r) => {
                Some(r.cookie)
            }
            Reply::Share(r) | Reply::Unshare(r) => Some(r.cookie),
            _ => None,
        }
    }

    /// The conflicting holder a DENIED TEST reply reports.
    pub fn holder(&self) -> Option<&Holder<'a>> {
        match self {
            Reply::Test(r) => r.holder.as_ref(),
            _ => None,
        }
    }
}

/// A byte offset or length: 32 bits before version 4, 64 bits from version 4.
fn range_word(v4: bool) -> impl Fn(&[u8]) -> Res<'_, u64> {
    move |i: &[u8]| {
        if v4 {
            xdr::u64(i)
        } else {
            xdr::u32(i).map(|(i, v)| (i, u64::from(v)))
        }
    }
}

fn netobj(i: &[u8]) -> Res<'_, Opaque<'_>> {
    opaque(i).map(|(i, b)| (i, Opaque(b)))
}

fn stat(i: &[u8]) -> Res<'_, NlmStat> {
    xdr::u32(i).map(|(i, v)| (i, NlmStat::from_u32(v)))
}

fn lock(v4: bool) -> impl Fn(&[u8]) -> Res<'_, Lock<'_>> {
    move |i: &[u8]| {
        let (i, caller_name) = string(i)?;
        let (i, fh) = netobj(i)?;
        let (i, oh) = netobj(i)?;
        let (i, svid) = xdr::i32(i)?;
        let (i, offset) = range_word(v4)(i)?;
        let (i, len) = range_word(v4)(i)?;
        Ok((i, Lock { caller_name, fh, oh, svid, offset, len }))
    }
}

fn holder(v4: bool) -> impl Fn(&[u8]) -> Res<'_, Holder<'_>> {
    move |i: &[u8]| {
        let (i, exclusive) = xdr::bool(i)?;
        let (i, svid) = xdr::i32(i)?;
        let (i, oh) = netobj(i)?;
        let (i, offset) = range_word(v4)(i)?;
        let (i, len) = range_word(v4)(i)?;
        Ok((i, Holder { exclusive, svid, oh, offset, len }))
    }
}

fn test_args(i: &[u8], v4: bool) -> Res<'_, TestArgs<'_>> {
    let (i, cookie) = netobj(i)?;
    let (i, exclusive) = xdr::bool(i)?;
    let (i, lock) = lock(v4)(i)?;
    Ok((i, TestArgs { cookie, exclusive, lock }))
}

fn lock_args(i: &[u8], v4: bool) -> Res<'_, LockArgs<'_>> {
    let (i, cookie) = netobj(i)?;
    let (i, block) = xdr::bool(i)?;
    let (i, exclusive) = xdr::bool(i)?;
    let (i, lock) = lock(v4)(i)?;
    let (i, reclaim) = xdr::bool(i)?;
    let (i, state) = xdr::i32(i)?;
    Ok((i, LockArgs { cookie, block, exclusive, lock, reclaim, state }))
}

fn canc_args(i: &[u8], v4: bool) -> Res<'_, CancArgs<'_>> {
    let (i, cookie) = netobj(i)?;
    let (i, block) = xdr::bool(i)?;
    let (i, exclusive) = xdr::bool(i)?;
    let (i, lock) = lock(v4)(i)?;
    Ok((i, CancArgs { cookie, block, exclusive, lock }))
}

fn unlock_args(i: &[u8], v4: bool) -> Res<'_, UnlockArgs<'_>> {
    let (i, cookie) = netobj(i)?;
    let (i, lock) = lock(v4)(i)?;
    Ok((i, UnlockArgs { cookie, lock }))
}

fn share_args(i: &[u8]) -> Res<'_, ShareArgs<'_>> {
    let (i, cookie) = netobj(i)?;
    let (i, caller_name) = string(i)?;
    let (i, fh) = netobj(i)?;
    let (i, oh) = netobj(i)?;
    let (i, mode) = xdr::u32(i)?;
    let (i, access) = xdr::u32(i)?;
    let (i, reclaim) = xdr::bool(i)?;
    Ok((i, ShareArgs { cookie, share: Share { caller_name, fh, oh, mode, access }, reclaim }))
}

fn notify_args(i: &[u8]) -> Res<'_, NotifyArgs<'_>> {
    let (i, name) = string(i)?;
    let (i, state) = xdr::i32(i)?;
    Ok((i, NotifyArgs { name, state }))
}

fn sm_notify_args(i: &[u8]) -> Res<'_, SmNotifyArgs<'_>> {
    let (i, mon_name) = string(i)?;
    let (i, state) = xdr::i32(i)?;
    let (i, priv_) = xdr::fixed(16)(i)?;
    Ok((i, SmNotifyArgs { mon_name, state, priv_: Opaque(priv_) }))
}

fn test_res(i: &[u8], v4: bool) -> Res<'_, TestRes<'_>> {
    let (i, cookie) = netobj(i)?;
    let (i, stat) = stat(i)?;
    let (i, holder) = match stat {
        NlmStat::Denied => holder(v4)(i).map(|(i, h)| (i, Some(h)))?,
        _ => (i, None),
    };
    Ok((i, TestRes { cookie, stat, holder }))
}

fn nlm_res(i: &[u8]) -> Res<'_, NlmRes<'_>> {
    let (i, cookie) = netobj(i)?;
    let (i, stat) = stat(i)?;
    Ok((i, NlmRes { cookie, stat }))
}

fn share_res(i: &[u8]) -> Res<'_, ShareRes<'_>> {
    let (i, cookie) = netobj(i)?;
    let (i, stat) = stat(i)?;
    let (i, sequence) = xdr::i32(i)?;
    Ok((i, ShareRes { cookie, stat, sequence }))
}

/// Wrap a parser result into a variant.
fn map<'a, T, U>(r: Res<'a, T>, f: impl FnOnce(T) -> U) -> Res<'a, U> {
    r.map(|(i, v)| (i, f(v)))
}

pub fn decode_call(vers: u32, proc_: u32, b: &[u8]) -> Result<Call<'_>, XdrError> {
    let v4 = vers >= 4;
    xdr::finish(match proc_ {
        0 => Ok((b, Call::Null)),
        1 => map(test_args(b, v4), Call::Test),
        2 => map(lock_args(b, v4), Call::Lock),
        3 => map(canc_args(b, v4), Call::Cancel),
        4 => map(unlock_args(b, v4), Call::Unlock),
        5 => map(test_args(b, v4), Call::Granted),
        6 => map(test_args(b, v4), Call::TestMsg),
        7 => map(lock_args(b, v4), Call::LockMsg),
        8 => map(canc_args(b, v4), Call::CancelMsg),
        9 => map(unlock_args(b, v4), Call::UnlockMsg),
        10 => map(test_args(b, v4), Call::GrantedMsg),
        11 => map(test_res(b, v4), Call::TestRes),
        12 => map(nlm_res(b), Call::LockRes),
        13 => map(nlm_res(b), Call::CancelRes),
        14 => map(nlm_res(b), Call::UnlockRes),
        15 => map(nlm_res(b), Call::GrantedRes),
        16 => map(sm_notify_args(b), Call::SmNotify),
        20 if has_share(vers) => map(share_args(b), Call::Share),
        21 if has_share(vers) => map(share_args(b), Call::Unshare),
        22 if has_share(vers) => map(lock_args(b, v4), Call::NmLock),
        23 if has_share(vers) => map(notify_args(b), Call::FreeAll),
        n => Ok((b, Call::Unknown { proc_num: n })),
    })
}

pub fn decode_reply(vers: u32, proc_: u32, b: &[u8]) -> Result<Reply<'_>, XdrError> {
    let v4 = vers >= 4;
    xdr::finish(match proc_ {
        0 => Ok((b, Reply::Null)),
        1 => map(test_res(b, v4), Reply::Test),
        2 => map(nlm_res(b), Reply::Lock),
        3 => map(nlm_res(b), Reply::Cancel),
        4 => map(nlm_res(b), Reply::Unlock),
        5 => map(nlm_res(b), Reply::Granted),
        6 => Ok((b, Reply::TestMsg)),
        7 => Ok((b, Reply::LockMsg)),
        8 => Ok((b, Reply::CancelMsg)),
        9 => Ok((b, Reply::UnlockMsg)),
        10 => Ok((b, Reply::GrantedMsg)),
        11 => Ok((b, Reply::TestRes)),
        12 => Ok((b, Reply::LockRes)),
        13 => Ok((b, Reply::CancelRes)),
        14 => Ok((b, Reply::UnlockRes)),
        15 => Ok((b, Reply::GrantedRes)),
        16 => Ok((b, Reply::SmNotify)),
        20 if has_share(vers) => map(share_res(b), Reply::Share),
        21 if has_share(vers) => map(share_res(b), Reply::Unshare),
        22 if has_share(vers) => map(nlm_res(b), Reply::NmLock),
        23 if has_share(vers) => Ok((b, Reply::FreeAll)),
        n => Ok((b, Reply::Unknown { proc_num: n })),
    })
}
