//! One-line text summaries: a call lists its operations with the arguments that matter
//! for state (`SEQUENCE PUTFH(0x713edbb3) OPEN(CLAIM_PREVIOUS, write) GETFH`), a reply
//! its overall status and each operation's status with key results
//! (`NFS4_OK SEQUENCE ok PUTFH ok OPEN ok stateid 1:5f3a9c12…01000000`).

use super::open::{
    share_access_text, CreateHow, LockRes, Locker, OpenDelegation, OPEN_RESULT_FLAGS,
};
use super::res::{CopyRes, LayoutgetRes};
use super::session::{SetclientidRes, SEQ4_STATUS_FLAGS};
use super::types::{flag_names, locktype_name, table_name, Range, IOMODES};
use super::{Compound, CompoundRes, Op, OpArgs, OpRes, Stop, StopReason};
use crate::xdr::Opaque;
use std::fmt;

/// An opaque identifier shown as text when it is printable ASCII, else as hex.
pub(crate) struct Ident<'a>(pub &'a [u8]);

impl fmt::Display for Ident<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 64;
        let b = self.0;
        if !b.is_empty() && b.iter().all(|c| (0x20..0x7f).contains(c)) {
            let shown = &b[..b.len().min(MAX)];
            let s = std::str::from_utf8(shown).unwrap_or("");
            write!(f, "\"{s}{}\"", if b.len() > MAX { "…" } else { "" })
        } else {
            write!(f, "{}", Opaque(b))
        }
    }
}

struct LockType(u32);

impl fmt::Display for LockType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match locktype_name(self.0) {
            Some(n) => f.write_str(n),
            None => write!(f, "locktype({})", self.0),
        }
    }
}

fn share_deny_text(v: u32) -> &'static str {
    match v {
        1 => "deny=read",
        2 => "deny=write",
        3 => "deny=both",
        _ => "deny=?",
    }
}

fn op_args(f: &mut fmt::Formatter<'_>, op: &Op<'_>) -> fmt::Result {
    use OpArgs as A;
    match &op.args {
        A::Open(o) => {
            write!(f, "({}", o.claim.name())?;
            match &o.claim {
                super::OpenClaim::Null { file } | super::OpenClaim::DelegatePrev { file } => {
                    write!(f, " {file}")?
                }
                super::OpenClaim::DelegateCur {
                    delegate_stateid,
                    file,
                } => write!(f, " {file} {delegate_stateid}")?,
                super::OpenClaim::DelegCurFh { delegate_stateid } => {
                    write!(f, " {delegate_stateid}")?
                }
                super::OpenClaim::Previous { delegate_type } if *delegate_type != 0 => {
                    write!(f, " deleg={delegate_type}")?
                }
                _ => {}
            }
            write!(f, ", {}", share_access_text(o.share_access))?;
            if o.share_deny != 0 {
                write!(f, ", {}", share_deny_text(o.share_deny))?;
            }
            match &o.create {
                None => {}
                Some(CreateHow::Unchecked { .. }) => f.write_str(", create")?,
                Some(CreateHow::Guarded { .. }) => f.write_str(", create guarded")?,
                Some(CreateHow::Exclusive { .. } | CreateHow::Exclusive41 { .. }) => {
                    f.write_str(", create exclusive")?
                }
            }
            f.write_str(")")
        }
        A::Lock(l) => {
            write!(f, "({}", LockType(l.locktype))?;
            if l.reclaim {
                f.write_str(", reclaim")?;
            }
            write!(f, ", {}", Range(l.offset, l.length))?;
            match &l.locker {
                Locker::NewOwner { open_stateid, .. } => {
                    write!(f, ", new owner, open {open_stateid})")
                }
                Locker::Existing { lock_stateid, .. } => write!(f, ", {lock_stateid})"),
            }
        }
        A::Lockt(l) => write!(
            f,
            "({}, {})",
            LockType(l.locktype),
            Range(l.offset, l.length)
        ),
        A::Locku(l) => write!(f, "({}, {})", Range(l.offset, l.length), l.lock_stateid),
        A::Putfh { fh } => write!(f, "({fh})"),
        A::Lookup { objname } => write!(f, "({objname})"),
        A::Remove { target } => write!(f, "({target})"),
        A::Rename { oldname, newname } => write!(f, "({oldname} -> {newname})"),
        A::Link { newname } => write!(f, "({newname})"),
        A::Create { objname, .. } => write!(f, "({objname})"),
        A::Secinfo { name } => write!(f, "({name})"),
        A::Setclientid(s) => write!(f, "({})", Ident(s.id.0)),
        A::SetclientidConfirm { clientid, .. }
        | A::Renew { clientid }
        | A::Delegpurge { clientid } => {
            write!(f, "({clientid:016x})")
        }
        A::DestroyClientid { clientid } => write!(f, "({clientid:016x})"),
        A::ExchangeId(x) => write!(f, "({})", Ident(x.owner.ownerid.0)),
        A::CreateSession(c) => write!(f, "({:016x})", c.clientid),
        A::Close { open_stateid, .. } | A::OpenConfirm { open_stateid, .. } => {
            write!(f, "({open_stateid})")
        }
        A::OpenDowngrade {
            open_stateid,
            share_access,
            ..
        } => {
            write!(f, "({open_stateid}, {})", share_access_text(*share_access))
        }
        A::Delegreturn { stateid } | A::FreeStateid { stateid } => write!(f, "({stateid})"),
        A::Read {
            stateid,
            offset,
            count,
        } => write!(f, "({stateid}, {offset}+{count})"),
        A::Write {
            stateid,
            offset,
            data,
            ..
        } => write!(f, "({stateid}, {offset}+{})", data.0.len()),
        A::ReclaimComplete { one_fs: true } => f.write_str("(one_fs)"),
        A::TestStateid { stateids } => write!(f, "({} stateids)", stateids.len()),
        A::Layoutget {
            iomode,
            offset,
            length,
            ..
        } => {
            write!(
                f,
                "({}, {})",
                table_name(*iomode, &IOMODES).unwrap_or("iomode?"),
                Range(*offset, *length)
            )
        }
        _ => Ok(()),
    }
}

impl fmt::Display for Op<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        op_args(f, self)
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[stopped at op #{}: ", self.index)?;
        match &self.reason {
            StopReason::UnknownOp { op } => write!(f, "unknown operation {op}]"),
            StopReason::DecodeError { op, error, .. } => {
                write!(
                    f,
                    "{} did not decode: {error}]",
                    super::ops::op_name(*op).unwrap_or("?")
                )
            }
            StopReason::Truncated { count } => write!(f, "body ends before {count} operations]"),
            StopReason::HeaderTruncated => f.write_str("body ends before the operation list]"),
            StopReason::TooManyOps { count, cap } => {
                write!(f, "{count} operations, only {cap} decoded]")
            }
        }
    }
}

impl fmt::Display for Compound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for op in &self.ops {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{op}")?;
        }
        if let Some(s) = &self.stopped {
            if !first {
                f.write_str(" ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

fn deleg_text(f: &mut fmt::Formatter<'_>, d: &OpenDelegation<'_>) -> fmt::Result {
    match d {
        OpenDelegation::Read { stateid, .. } => write!(f, " deleg read {stateid}"),
        OpenDelegation::Write { stateid, .. } => write!(f, " deleg write {stateid}"),
        OpenDelegation::None | OpenDelegation::NoneExt { .. } => Ok(()),
    }
}

fn res_details(f: &mut fmt::Formatter<'_>, r: &OpRes<'_>) -> fmt::Result {
    match r {
        OpRes::Open(o) => {
            write!(f, " stateid {}", o.stateid)?;
            deleg_text(f, &o.delegation)?;
            if o.rflags & 0x2 != 0 {
                write!(f, " rflags={}", flag_names(o.rflags, &OPEN_RESULT_FLAGS))?;
            }
            Ok(())
        }
        OpRes::Lock(LockRes::Ok(l)) => write!(f, " stateid {}", l.lock_stateid),
        OpRes::Lock(LockRes::Denied(d)) | OpRes::LocktDenied(d) => {
            write!(
                f,
                " held {} {} by {}",
                LockType(d.locktype),
                Range(d.offset, d.length),
                d.owner
            )
        }
        OpRes::Locku(s) | OpRes::Close(s) | OpRes::OpenConfirm(s) | OpRes::OpenDowngrade(s) => {
            write!(f, " stateid {}", s.stateid)
        }
        OpRes::Setclientid(SetclientidRes::Ok { clientid, .. }) => {
            write!(f, " clientid {clientid:016x}")
        }
        OpRes::Setclientid(SetclientidRes::ClidInuse { client_using }) => {
            write!(f, " in use by {client_using}")
        }
        OpRes::ExchangeId(x) => write!(f, " clientid {:016x} seq {}", x.clientid, x.sequenceid),
        OpRes::CreateSession(c) => write!(f, " session {}", c.sessionid.hex()),
        OpRes::Sequence(s) if s.status_flags != 0 => {
            write!(
                f,
                " flags={}",
                flag_names(s.status_flags, &SEQ4_STATUS_FLAGS)
            )
        }
        OpRes::Getfh(g) => write!(f, " fh {}", g.fh),
        OpRes::Layoutget(LayoutgetRes::Ok { stateid, .. }) => write!(f, " stateid {stateid}"),
        OpRes::Layoutreturn(l) => match &l.stateid {
            Some(s) => write!(f, " stateid {s}"),
            None => Ok(()),
        },
        OpRes::WantDelegation(d) => deleg_text(f, &d.delegation),
        OpRes::TestStateid(t) => {
            for s in &t.status_codes {
                write!(f, " {s}")?;
            }
            Ok(())
        }
        OpRes::Copy(CopyRes::Ok { response, .. }) => write!(f, " {} bytes", response.count),
        _ => Ok(()),
    }
}

impl fmt::Display for OpRes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.status();
        if st.is_ok() {
            write!(f, "{} ok", self.name())?;
        } else {
            write!(f, "{} {st}", self.name())?;
        }
        res_details(f, self)
    }
}

impl fmt::Display for CompoundRes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.proc_ != super::PROC_COMPOUND {
            return Ok(());
        }
        write!(f, "{}", self.status)?;
        for op in &self.ops {
            write!(f, " {op}")?;
        }
        if let Some(s) = &self.stopped {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}
