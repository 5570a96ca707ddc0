//! gracewatch: decode NFS lock traffic, rebuild lock state per server IP, and audit
//! restarts and failovers for locks granted against the grace-period rules.
//!
//! Data flows one way: capture source → link/IP → TCP reassembly / UDP → RPC record
//! marking → RPC call/reply matching → protocol decoders → state → audit → output.
//! Only `capture`, the replay sender, the lab and the binary do I/O.

pub mod audit;
pub mod capture;
pub mod client;
pub mod error;
pub mod fuzzing;
pub mod lab;
pub mod net;
pub mod pipeline;
pub mod output;
pub mod proto;
pub mod replay;
pub mod rpc;
pub mod state;
pub mod xdr;

pub use error::{Error, Result};
