//! Failed operations: restart and grace evidence, and refusals in the journal.

use super::apply::Apply;
use super::req::{COp, LockReq, LockerReq};
use super::{EvidenceKind, Nfs4Evidence, Nfs4LockOwner, Sid};
use crate::proto::nfs4::status::*;
use crate::proto::nfs4::OpRes;
use crate::state::journal::{Nfs4EventKind, Nfs4LockEvent, Nfs4OpenEvent, What};
use crate::state::ranges::Range;

impl Apply<'_, '_> {
    /// The details an operation gives to evidence about it.
    fn detail(&self, op: &COp) -> Detail {
        match op {
            COp::Open(o) => Detail { reclaim: o.reclaim, fh: if o.by_name() { None } else { self.cur_fh() }, claim: Some(o.claim), ..Detail::default() },
            COp::Lock(l) => {
                let fh = self.cur_fh().or_else(|| match &l.locker {
                    LockerReq::Existing(s) => self.st.lock_stateids.get(&s.other).map(|x| x.fh.clone()),
                    LockerReq::New { open, .. } => self.st.opens.get(&open.other).and_then(|x| x.fh.clone()),
                });
                Detail { reclaim: l.reclaim, fh, range: l.range, exclusive: Some(l.exclusive()), claim: None }
            }
            _ => Detail::default(),
        }
    }

    /// The client id an operation acts for.
    fn op_clientid(&self, op: &COp) -> Option<u64> {
        let from_op = match op {
            COp::Renew(c) | COp::SetclientidConfirm(c) | COp::DestroyClientid(c) | COp::Lockt { clientid: c } => Some(*c),
            COp::CreateSession { clientid, .. } | COp::ReleaseLockowner { clientid, .. } => Some(*clientid),
            COp::Open(o) => Some(o.clientid),
            COp::Lock(LockReq { locker: LockerReq::New { clientid, .. }, .. }) => Some(*clientid),
            _ => self.op_stateid(op).and_then(|s| self.owner_of(&s)),
        };
        if self.minor >= 1 {
            self.session_client.or(from_op)
        } else {
            from_op
        }
    }

    fn op_stateid(&self, op: &COp) -> Option<Sid> {
        match op {
            COp::OpenConfirm(s) | COp::Close(s) | COp::FreeStateid(s) | COp::Delegreturn(s) | COp::Stateful(s) => Some(*s),
            COp::OpenDowngrade { stateid, .. } | COp::Locku { stateid, .. } => Some(*stateid),
            COp::Lock(LockReq { locker: LockerReq::Existing(s), .. }) => Some(*s),
            COp::Lock(LockReq { locker: LockerReq::New { open, .. }, .. }) => Some(*open),
            _ => None,
        }
    }

    /// An operation failed with `status`: no state change, but evidence and refusals.
    pub(super) fn failed(&mut self, op: &COp, res: &OpRes<'_>, status: u32) {
        let name = res.name();
        match status {
            NFS4ERR_STALE_CLIENTID => {
                let cid = self.op_clientid(op);
                self.stale_clientid(name, status, cid);
            }
            NFS4ERR_STALE_STATEID => {
                let sid = self.op_stateid(op);
                self.stale_stateid(name, status, sid);
            }
            NFS4ERR_BADSESSION => {
                let sid = match op {
                    COp::Sequence(s) | COp::DestroySession(s) | COp::BindConn(s) => Some(*s),
                    _ => None,
                };
                self.bad_session(name, status, sid);
            }
            NFS4ERR_GRACE | NFS4ERR_NO_GRACE | NFS4ERR_RECLAIM_BAD | NFS4ERR_RECLAIM_CONFLICT => {
                let kind = match status {
                    NFS4ERR_GRACE => EvidenceKind::GraceRefused,
                    NFS4ERR_NO_GRACE => EvidenceKind::NoGrace,
                    NFS4ERR_RECLAIM_BAD => EvidenceKind::ReclaimBad,
                    _ => EvidenceKind::ReclaimConflict,
                };
                let cid = self.op_clientid(op).or(self.session_client);
                let known = cid.is_some_and(|c| self.st.clients.contains_key(&c));
                let d = self.detail(op);
                self.evidence(kind, name, status, cid, known, d);
            }
            NFS4ERR_COMPLETE_ALREADY => {
                let cid = self.session_client;
                let at = self.at;
                if let Some(c) = cid.and_then(|c| self.st.clients.get_mut(&c)) {
                    c.complete_already += 1;
                    c.last_complete_already = Some(at);
                }
                self.evidence(EvidenceKind::CompleteAlready, name, status, cid, true, Detail::default());
            }
            _ => {}
        }
        // Refused opens and locks are journaled (the audit looks at grants and refusals).
        match op {
            COp::Open(o) => {
                let e = Nfs4OpenEvent {
                    kind: Nfs4EventKind::Refused(status),
                    clientid: self.session_client.unwrap_or(o.clientid),
                    open_owner: o.owner.clone(),
                    fh: if o.by_name() { None } else { self.cur_fh() },
                    stateid: None,
                    share_access: o.access,
                    share_deny: o.deny,
                    claim: o.claim,
                    reclaim: o.reclaim,
                };
                self.push(What::Nfs4Open(e));
            }
            COp::Lock(l) => {
                let d = self.detail(op);
                let owner = match &l.locker {
                    LockerReq::New { clientid, owner, .. } => Some(Nfs4LockOwner { clientid: self.session_client.unwrap_or(*clientid), owner: owner.clone() }),
                    LockerReq::Existing(s) => self.st.lock_stateids.get(&s.other).map(|x| x.owner.clone()),
                };
                if let (Some(owner), Some(fh), Some(range)) = (owner, d.fh, l.range) {
                    let e = Nfs4LockEvent { kind: Nfs4EventKind::Refused(status), owner, fh, range, exclusive: l.exclusive(), reclaim: l.reclaim, stateid: None, minor: self.minor };
                    self.push(What::Nfs4Lock(e));
                }
            }
            _ => {}
        }
    }

    /// Record one piece of evidence (capped).
    pub(super) fn evidence(&mut self, kind: EvidenceKind, op: &'static str, status: u32, clientid: Option<u64>, known: bool, d: Detail) -> Option<usize> {
        if self.st.evidence.len() >= self.st.limits().evidence {
            self.st.counters.evidence_dropped += 1;
            return None;
        }
        let client_owner = clientid.and_then(|c| self.st.client_owner(c)).map(<[u8]>::to_vec);
        self.st.evidence.push(Nfs4Evidence {
            kind,
            at: self.at,
            call: self.call,
            client_addr: self.client_addr,
            clientid,
            client_owner,
            op,
            status,
            known,
            marked_old: 0,
            reclaim: d.reclaim,
            fh: d.fh,
            range: d.range,
            exclusive: d.exclusive,
            claim: d.claim,
            minor: self.minor,
            epochs: None,
        });
        Some(self.st.evidence.len() - 1)
    }
}

/// What an operation tells about the file and range it concerns.
#[derive(Debug, Clone, Default)]
pub(super) struct Detail {
    pub(super) reclaim: bool,
    pub(super) fh: Option<Vec<u8>>,
    pub(super) range: Option<Range>,
    pub(super) exclusive: Option<bool>,
    pub(super) claim: Option<u32>,
}
