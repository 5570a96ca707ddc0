//! NFSv3 (100003 v3) decoder (being written; this stub keeps the crate building).

use crate::xdr::{Opaque, XdrError};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Serialize)]
pub struct Call<'a> {
    pub proc_: u32,
    pub raw: Opaque<'a>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reply<'a> {
    pub proc_: u32,
    pub raw: Opaque<'a>,
}

pub fn proc_name(_vers: u32, _proc: u32) -> Option<&'static str> {
    None
}

pub fn decode_call(_vers: u32, proc_: u32, body: &[u8]) -> Result<Call<'_>, XdrError> {
    Ok(Call { proc_, raw: Opaque(body) })
}

pub fn decode_reply(_vers: u32, proc_: u32, body: &[u8]) -> Result<Reply<'_>, XdrError> {
    Ok(Reply { proc_, raw: Opaque(body) })
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}
