//! One-line text summaries of NLM calls and replies.

use super::*;
use std::fmt;

/// `fsh_mode` as text.
pub fn share_mode_name(mode: u32) -> &'static str {
    match mode {
        0 => "none",
        1 => "read",
        2 => "write",
        3 => "read/write",
        _ => "?",
    }
}

/// `fsh_access` as text.
pub fn share_access_name(access: u32) -> &'static str {
    match access {
        0 => "none",
        1 => "read",
        2 => "write",
        3 => "read/write",
        _ => "?",
    }
}

impl fmt::Display for NlmStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NlmStat::Unknown(n) => write!(f, "UNKNOWN({n})"),
            s => f.write_str(s.name()),
        }
    }
}

/// `[offset,end)`, or `[offset,EOF)` for a zero length.
struct Range(u64, u64);

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match range_end(self.0, self.1) {
            Some(end) => write!(f, "[{},{})", self.0, end),
            None => write!(f, "[{},EOF)", self.0),
        }
    }
}

impl fmt::Display for Lock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "svid {} fh {} {} caller {}", self.svid, self.fh, Range(self.offset, self.len), self.caller_name)
    }
}

impl fmt::Display for Holder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.exclusive { "excl" } else { "shared" };
        write!(f, "holder svid {} {kind} {}", self.svid, Range(self.offset, self.len))
    }
}

fn flags(f: &mut fmt::Formatter<'_>, block: bool, exclusive: bool) -> fmt::Result {
    if block {
        f.write_str("block ")?;
    }
    f.write_str(if exclusive { "excl " } else { "shared " })
}

fn cookie(f: &mut fmt::Formatter<'_>, c: Opaque<'_>) -> fmt::Result {
    write!(f, " cookie {c}")
}

impl fmt::Display for TestArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        flags(f, false, self.exclusive)?;
        self.lock.fmt(f)
    }
}

impl fmt::Display for LockArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        flags(f, self.block, self.exclusive)?;
        if self.reclaim {
            f.write_str("reclaim ")?;
        }
        self.lock.fmt(f)?;
        if self.state != 0 {
            write!(f, " state {}", self.state)?;
        }
        Ok(())
    }
}

impl fmt::Display for CancArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        flags(f, self.block, self.exclusive)?;
        self.lock.fmt(f)
    }
}

impl fmt::Display for ShareArgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.share;
        write!(f, "access {} deny {} ", share_access_name(s.access), share_mode_name(s.mode))?;
        if self.reclaim {
            f.write_str("reclaim ")?;
        }
        write!(f, "fh {} caller {}", s.fh, s.caller_name)
    }
}

impl fmt::Display for TestRes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.stat.fmt(f)?;
        if let Some(h) = &self.holder {
            write!(f, " {h}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ShareRes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sequence {}", self.stat, self.sequence)
    }
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Null => Ok(()),
            Call::Test(a) | Call::Granted(a) => a.fmt(f),
            Call::Lock(a) | Call::NmLock(a) => a.fmt(f),
            Call::Cancel(a) => a.fmt(f),
            Call::Unlock(a) => a.lock.fmt(f),
            // Asynchronous calls are matched by cookie, so show it.
            Call::TestMsg(a) | Call::GrantedMsg(a) => {
                a.fmt(f)?;
                cookie(f, a.cookie)
            }
            Call::LockMsg(a) => {
                a.fmt(f)?;
                cookie(f, a.cookie)
            }
            Call::CancelMsg(a) => {
                a.fmt(f)?;
                cookie(f, a.cookie)
            }
            Call::UnlockMsg(a) => {
                a.lock.fmt(f)?;
                cookie(f, a.cookie)
            }
            Call::TestRes(r) => {
                r.fmt(f)?;
                cookie(f, r.cookie)
            }
            Call::LockRes(r) | Call::CancelRes(r) | Call::UnlockRes(r) | Call::GrantedRes(r) => {
                r.stat.fmt(f)?;
                cookie(f, r.cookie)
            }
            Call::SmNotify(a) => write!(f, "mon_name {} state {}", a.mon_name, a.state),
            Call::Share(a) | Call::Unshare(a) => a.fmt(f),
            Call::FreeAll(a) => write!(f, "name {} state {}", a.name, a.state),
            Call::Unknown { proc_num } => write!(f, "proc {proc_num}"),
        }
    }
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Test(r) => r.fmt(f),
            Reply::Lock(r) | Reply::Cancel(r) | Reply::Unlock(r) | Reply::Granted(r) | Reply::NmLock(r) => {
                r.stat.fmt(f)
            }
            Reply::Share(r) | Reply::Unshare(r) => r.fmt(f),
            Reply::Unknown { proc_num } => write!(f, "proc {proc_num}"),
            _ => Ok(()),
        }
    }
}
