//! NFSv4 callback (CB_COMPOUND) decoder (being written; this stub keeps the crate building).

use crate::xdr::{Opaque, XdrError};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Serialize)]
pub struct CbCompound<'a> {
    pub raw: Opaque<'a>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CbCompoundRes<'a> {
    pub raw: Opaque<'a>,
}

pub fn proc_name(_vers: u32, proc_: u32) -> Option<&'static str> {
    match proc_ {
        0 => Some("CB_NULL"),
        1 => Some("CB_COMPOUND"),
        _ => None,
    }
}

pub fn decode_call(_vers: u32, _proc: u32, body: &[u8]) -> Result<CbCompound<'_>, XdrError> {
    Ok(CbCompound { raw: Opaque(body) })
}

pub fn decode_reply(_vers: u32, _proc: u32, body: &[u8]) -> Result<CbCompoundRes<'_>, XdrError> {
    Ok(CbCompoundRes { raw: Opaque(body) })
}

impl fmt::Display for CbCompound<'_> {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl fmt::Display for CbCompoundRes<'_> {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}
