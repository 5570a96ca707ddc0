//! `replay`: turn a capture into a failover drill.
//!
//! The locks clients held on a server IP (as the [state tracker](crate::state) rebuilt
//! them, by default just before that server's last restart) become a reclaim
//! [`plan::Plan`]; [`scale`] clones its clients into a storm; [`remap`] resolves file
//! handles on the target by path; [`send`] replays the reclaims against a target
//! server with asynchronous I/O (one connection per simulated client), and
//! [`drill`] wraps that into establish → restart → wait for grace → reclaim;
//! [`report`] turns the outcomes into tables, JSON and an SVG plot.
//!
//! [`responder`] is a minimal in-process RPC server that grants everything at once:
//! replaying against it measures how fast the replayer itself can go.
//!
//! Every planned reclaim ends as exactly one [`outcome::Outcome`]: granted, refused
//! (with the server's status) or failed (with the reason).

pub mod drill;
pub mod outcome;
pub mod plan;
pub mod remap;
pub mod report;
pub mod requests;
pub mod responder;
mod rpc;
pub mod scale;
pub mod send;
mod send_nlm;
mod send_v4;
pub mod svg;

pub use outcome::{Outcome, Result as OutcomeResult};
pub use plan::Plan;
