//! NFSv4 state of one server IP (clients, opens, locks, delegations). Empty until the
//! NFSv4 decoder feeds it; the byte-range part is meant to use [`super::ranges`].

/// NFSv4 state of one server IP.
#[derive(Debug, Clone, Default)]
pub struct Nfs4State {}
