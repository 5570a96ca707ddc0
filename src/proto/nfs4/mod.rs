//! NFSv4.0/4.1/4.2 COMPOUND decoder (being written; this stub keeps the crate building).

pub mod cb;

use crate::xdr::{Opaque, XdrError};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Serialize)]
pub struct Compound<'a> {
    pub raw: Opaque<'a>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompoundRes<'a> {
    pub raw: Opaque<'a>,
}

impl Compound<'_> {
    /// Callback program numbers this call announces (SETCLIENTID, CREATE_SESSION,
    /// BACKCHANNEL_CTL), so the pipeline can recognise callbacks.
    pub fn cb_programs(&self) -> Vec<u32> {
        Vec::new()
    }

    pub fn minorversion(&self) -> u32 {
        0
    }
}

pub fn proc_name(_vers: u32, proc_: u32) -> Option<&'static str> {
    match proc_ {
        0 => Some("NULL"),
        1 => Some("COMPOUND"),
        _ => None,
    }
}

pub fn decode_call(_vers: u32, _proc: u32, body: &[u8]) -> Result<Compound<'_>, XdrError> {
    Ok(Compound { raw: Opaque(body) })
}

pub fn decode_reply(_vers: u32, _proc: u32, body: &[u8]) -> Result<CompoundRes<'_>, XdrError> {
    Ok(CompoundRes { raw: Opaque(body) })
}

impl fmt::Display for Compound<'_> {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl fmt::Display for CompoundRes<'_> {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}
