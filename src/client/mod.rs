//! ONC-RPC client code: encoders for every procedure the lab and the replay send,
//! the minimal reply reading needed to drive a session, and blocking transports.
//!
//! Encoders are pure functions returning the procedure's argument bytes; `rpc` adds
//! the call header and record marking; `transport` sends them; `session` keeps the
//! per-client protocol state (NLM cookies, NFSv4.0 seqids, NFSv4.1 slots).

pub mod nfs3;
pub mod nfs4;
pub mod nfs4_reply;
pub mod nfs4_res;
pub mod nlm;
pub mod rpc;
pub mod session;
pub mod transport;

pub use transport::{ClientError, Endpoint, Proto, Reply, RpcConn};
#[cfg(test)]
mod roundtrip;
