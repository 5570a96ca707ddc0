//! The library's error type: one line each, meant for the user.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {msg}")]
    Open { path: PathBuf, msg: String },
    #[error("{path}: unsupported link type {name} ({linktype})")]
    UnsupportedLinkType { path: String, linktype: i32, name: String },
    #[error("{path}: truncated capture after frame {frame}: {msg}")]
    Truncated { path: String, frame: u64, msg: String },
    #[error("{path}: read error after frame {frame}: {msg}")]
    Read { path: String, frame: u64, msg: String },
    #[error("cannot capture on {iface}: {msg}")]
    Live { iface: String, msg: String },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
