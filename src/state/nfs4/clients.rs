//! Client ids and sessions: SETCLIENTID / EXCHANGE_ID, their confirmation, lease
//! renewals, and forgetting a client with everything it held.

use super::apply::{deleg_event, open_event, Apply};
use super::{Nfs4Client, Nfs4LockOwner, Nfs4Session, Sid};
use crate::net::sorted_keys;
use crate::state::journal::{Nfs4Drop, Nfs4EventKind, What};

impl Apply<'_, '_> {
    /// The client id a stateid belongs to, when the stateid is known.
    pub(super) fn owner_of(&self, s: &Sid) -> Option<u64> {
        self.st
            .opens
            .get(&s.other)
            .map(|o| o.clientid)
            .or_else(|| self.st.lock_stateids.get(&s.other).map(|l| l.owner.clientid))
            .or_else(|| self.st.delegations.get(&s.other).map(|d| d.clientid))
    }

    /// A successful operation of client `cid` renews its lease.
    pub(super) fn renew(&mut self, cid: u64) {
        if self.ensure_client(cid) {
            self.renewed.push(cid);
        }
    }

    /// The client record of `cid`, created from its use when the capture missed how
    /// it was established; false when the table is full.
    pub(super) fn ensure_client(&mut self, cid: u64) -> bool {
        if self.st.clients.contains_key(&cid) {
            return true;
        }
        if self.st.clients.len() >= self.st.limits().clients {
            self.st.counters.clients_refused += 1;
            return false;
        }
        let c = Nfs4Client {
            clientid: cid,
            owner: Vec::new(),
            name: std::sync::Arc::from(""),
            verifier: Vec::new(),
            addr: self.client_addr,
            principal: self.principal.clone(),
            minor: self.minor,
            cb_program: None,
            created: self.at,
            confirmed: Some(self.at),
            inferred: true,
            renewals: 0,
            last_renewal: self.at,
            reclaim_complete: None,
            complete_already: 0,
            last_complete_already: None,
            stale_since: None,
            successor: None,
        };
        self.st.clients.insert(cid, c);
        true
    }

    /// SETCLIENTID / EXCHANGE_ID handed out `cid` for `owner`.
    pub(super) fn fresh_clientid(&mut self, cid: u64, owner: &[u8], verifier: &[u8], cb: Option<u32>, confirmed: bool) {
        let (at, addr, minor, principal) = (self.at, self.client_addr, self.minor, self.principal.clone());
        let full = self.st.clients.len() >= self.st.limits().clients;
        match self.st.clients.get_mut(&cid) {
            Some(c) if !c.is_stale() => {
                if c.owner != owner {
                    c.owner = owner.to_vec();
                    c.name = super::owner_text(owner).into();
                }
                c.verifier = verifier.to_vec();
                c.cb_program = cb.or(c.cb_program);
                c.principal = principal.or(c.principal.take());
                c.inferred = false;
                if confirmed {
                    c.confirmed.get_or_insert(at);
                }
                self.st.index_owner(owner, cid);
                return;
            }
            Some(_) => self.st.counters.clientid_reused += 1,
            None if full => {
                self.st.counters.clients_refused += 1;
                return;
            }
            None => {}
        }
        let c = Nfs4Client {
            clientid: cid,
            owner: owner.to_vec(),
            name: super::owner_text(owner).into(),
            verifier: verifier.to_vec(),
            addr,
            principal,
            minor,
            cb_program: cb,
            created: at,
            confirmed: confirmed.then_some(at),
            inferred: false,
            renewals: 0,
            last_renewal: at,
            reclaim_complete: None,
            complete_already: 0,
            last_complete_already: None,
            stale_since: None,
            successor: None,
        };
        self.st.clients.insert(cid, c);
        self.st.index_owner(owner, cid);
        self.check_epoch(cid, if cb.is_some() { "SETCLIENTID" } else { "EXCHANGE_ID" });
    }

    /// SETCLIENTID_CONFIRM / CREATE_SESSION confirmed `cid`: an earlier current client
    /// id of the same owner is replaced (its state released); old-epoch ones learn
    /// their successor.
    pub(super) fn confirm(&mut self, cid: u64) {
        if !self.ensure_client(cid) {
            return;
        }
        let at = self.at;
        let owner = match self.st.clients.get_mut(&cid) {
            Some(c) => {
                c.confirmed.get_or_insert(at);
                c.owner.clone()
            }
            None => return,
        };
        self.renew(cid);
        if owner.is_empty() {
            return;
        }
        let mut replaced = Vec::new();
        for id in self.st.ids_of_owner(&owner) {
            let Some(c) = self.st.clients.get_mut(&id).filter(|c| c.clientid != cid) else { continue };
            if c.is_stale() {
                c.successor = Some(cid);
            } else if c.confirmed.is_some() {
                replaced.push(c.clientid);
            }
        }
        for old in replaced {
            self.remove_client(old);
        }
    }

    pub(super) fn new_session(&mut self, sessionid: [u8; 16], clientid: u64, cb_program: u32) {
        if !self.st.sessions.contains_key(&sessionid) && self.st.sessions.len() >= self.st.limits().sessions {
            // Destroyed sessions make room first.
            let gone: Vec<[u8; 16]> = self.st.sessions.iter().filter(|(_, s)| s.destroyed.is_some()).map(|(k, _)| *k).collect();
            for k in gone {
                self.st.sessions.remove(&k);
            }
            if self.st.sessions.len() >= self.st.limits().sessions {
                self.st.counters.sessions_refused += 1;
                return;
            }
        }
        let s = Nfs4Session { sessionid, clientid, cb_program, created: self.at, destroyed: None, stale_since: None };
        self.st.sessions.insert(sessionid, s);
    }

    /// Forget client `cid` and everything it held.
    pub(super) fn remove_client(&mut self, cid: u64) {
        if self.st.clients.remove(&cid).is_none() {
            return;
        }
        let why = Nfs4EventKind::Dropped(Nfs4Drop::ClientGone);
        self.st.sessions.retain(|_, s| s.clientid != cid);
        for k in sorted_keys(&self.st.opens, |o| o.clientid == cid) {
            if let Some(o) = self.st.opens.remove(&k) {
                self.push(What::Nfs4Open(open_event(why, &o)));
            }
        }
        for k in sorted_keys(&self.st.delegations, |d| d.clientid == cid) {
            if let Some(d) = self.st.delegations.remove(&k) {
                self.push(What::Nfs4Deleg(deleg_event(why, &d)));
            }
        }
        self.st.lock_stateids.retain(|_, l| l.owner.clientid != cid);
        for (fh, h) in self.st.locks.remove_owners(&|o: &Nfs4LockOwner| o.clientid == cid) {
            self.lock_gone(why, &fh, h);
        }
    }
}
