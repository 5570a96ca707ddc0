//! XDR (RFC 4506) decoding primitives on top of nom, shared by every protocol decoder.
//!
//! Every primitive borrows from the input and bounds every length by what is left of
//! the input, so a hostile length can never make a decoder allocate or read past the
//! record. Arrays are additionally capped by an element count.

use nom::error::{ErrorKind, ParseError};
use nom::IResult;
use serde::{Serialize, Serializer};
use std::fmt;

/// Why an XDR body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XdrError {
    #[error("truncated: needed {needed} more bytes")]
    Truncated { needed: usize },
    #[error("length {len} exceeds the {left} bytes left")]
    BadLength { len: u32, left: usize },
    #[error("array count {count} exceeds the cap {cap}")]
    TooMany { count: u32, cap: u32 },
    #[error("invalid value {value} for {what}")]
    BadValue { what: &'static str, value: u32 },
    #[error("{0}")]
    Other(&'static str),
    #[error("parse error ({0:?})")]
    Nom(ErrorKind),
}

impl<I> ParseError<I> for XdrError {
    fn from_error_kind(_input: I, kind: ErrorKind) -> Self {
        XdrError::Nom(kind)
    }
    fn append(_input: I, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

impl From<nom::Err<XdrError>> for XdrError {
    fn from(e: nom::Err<XdrError>) -> Self {
        match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => e,
            nom::Err::Incomplete(_) => XdrError::Truncated { needed: 0 },
        }
    }
}

/// The result type of every XDR parser.
pub type Res<'a, T> = IResult<&'a [u8], T, XdrError>;

/// Turn a nom result into a plain `Result`, dropping the remaining input.
pub fn finish<T>(r: Res<'_, T>) -> Result<T, XdrError> {
    match r {
        Ok((_, v)) => Ok(v),
        Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
        Err(nom::Err::Incomplete(_)) => Err(XdrError::Truncated { needed: 0 }),
    }
}

#[inline]
pub(crate) fn fail<T>(e: XdrError) -> Result<T, nom::Err<XdrError>> {
    Err(nom::Err::Error(e))
}

/// Largest element count any decoder accepts for a counted array.
pub const MAX_ARRAY: u32 = 1 << 16;

#[inline]
pub fn u32(i: &[u8]) -> Res<'_, u32> {
    if i.len() < 4 {
        return fail(XdrError::Truncated { needed: 4 - i.len() });
    }
    Ok((&i[4..], u32::from_be_bytes([i[0], i[1], i[2], i[3]])))
}

#[inline]
pub fn i32(i: &[u8]) -> Res<'_, i32> {
    let (i, v) = u32(i)?;
    Ok((i, v as i32))
}

#[inline]
pub fn u64(i: &[u8]) -> Res<'_, u64> {
    if i.len() < 8 {
        return fail(XdrError::Truncated { needed: 8 - i.len() });
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&i[..8]);
    Ok((&i[8..], u64::from_be_bytes(b)))
}

#[inline]
pub fn i64(i: &[u8]) -> Res<'_, i64> {
    let (i, v) = u64(i)?;
    Ok((i, v as i64))
}

/// XDR bool: 0 or 1; any other value is accepted as true (observers keep going).
#[inline]
pub fn bool(i: &[u8]) -> Res<'_, bool> {
    let (i, v) = u32(i)?;
    Ok((i, v != 0))
}

#[inline]
fn pad(n: usize) -> usize {
    (4 - (n & 3)) & 3
}

/// Fixed-length opaque of `n` bytes plus padding.
pub fn fixed(n: usize) -> impl Fn(&[u8]) -> Res<'_, &[u8]> {
    move |i: &[u8]| {
        let total = n + pad(n);
        if i.len() < total {
            return fail(XdrError::Truncated { needed: total - i.len() });
        }
        Ok((&i[total..], &i[..n]))
    }
}

/// Variable-length opaque (length-prefixed, padded), bounded by the remaining input.
pub fn opaque(i: &[u8]) -> Res<'_, &[u8]> {
    let (rest, len) = u32(i)?;
    let n = len as usize;
    if n > rest.len() {
        return fail(XdrError::BadLength { len, left: rest.len() });
    }
    let total = n + pad(n);
    if total > rest.len() {
        // Data present but final padding missing: accept, as tshark does.
        return Ok((&rest[rest.len()..], &rest[..n]));
    }
    Ok((&rest[total..], &rest[..n]))
}

/// Variable-length opaque with a protocol maximum (e.g. NFS3_FHSIZE).
pub fn opaque_max(max: u32) -> impl Fn(&[u8]) -> Res<'_, &[u8]> {
    move |i: &[u8]| {
        let (_, len) = u32(i)?;
        if len > max {
            return fail(XdrError::BadLength { len, left: max as usize });
        }
        opaque(i)
    }
}

/// XDR string: like opaque, shown as text.
pub fn string(i: &[u8]) -> Res<'_, XStr<'_>> {
    let (i, b) = opaque(i)?;
    Ok((i, XStr(b)))
}

/// Counted array with each element parsed by `f`; the count is capped by `max` and by
/// the remaining input (every XDR element takes at least 4 bytes, unless `min_elem` is 0).
pub fn array<'a, T, F>(max: u32, f: F) -> impl Fn(&'a [u8]) -> Res<'a, Vec<T>>
where
    F: Fn(&'a [u8]) -> Res<'a, T>,
{
    move |i: &'a [u8]| {
        let (mut i, count) = u32(i)?;
        if count > max {
            return fail(XdrError::TooMany { count, cap: max });
        }
        if (count as usize).saturating_mul(4) > i.len() {
            return fail(XdrError::BadLength { len: count, left: i.len() });
        }
        let mut out = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let (r, v) = f(i)?;
            out.push(v);
            i = r;
        }
        Ok((i, out))
    }
}

/// XDR optional-data (`*T`): a bool followed by the value when present.
pub fn optional<'a, T, F>(f: F) -> impl Fn(&'a [u8]) -> Res<'a, Option<T>>
where
    F: Fn(&'a [u8]) -> Res<'a, T>,
{
    move |i: &'a [u8]| {
        let (i, present) = bool(i)?;
        if !present {
            return Ok((i, None));
        }
        let (i, v) = f(i)?;
        Ok((i, Some(v)))
    }
}

/// Bytes shown as hex: file handles, owner handles, cookies, verifiers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Opaque<'a>(pub &'a [u8]);

impl Opaque<'_> {
    pub fn hex(&self) -> String {
        hex(self.0)
    }
}

pub fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

impl fmt::Debug for Opaque<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.hex())
    }
}

/// Display abbreviates like tcpdump: the first 8 bytes, then an ellipsis.
impl fmt::Display for Opaque<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() <= 8 {
            write!(f, "{}", self.hex())
        } else {
            write!(f, "{}…", hex(&self.0[..8]))
        }
    }
}

impl Serialize for Opaque<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

/// An XDR string as it came off the wire (not necessarily UTF-8).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XStr<'a>(pub &'a [u8]);

impl XStr<'_> {
    pub fn as_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        lossy(self.0)
    }
}

/// Bytes as text, invalid UTF-8 replaced by U+FFFD. Names on the wire are nearly always
/// valid, and checking that first is several times cheaper than replacing as it goes;
/// most are ASCII, which is checked a word at a time.
pub fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    if b.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        return std::borrow::Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(b) });
    }
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

impl fmt::Debug for XStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str_lossy())
    }
}

impl fmt::Display for XStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.as_str_lossy().chars() {
            if c.is_control() {
                write!(f, "\\x{:02x}", c as u32)?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for XStr<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str_lossy())
    }
}

/// XDR encoder used by the client, replay and benchmark generators.
///
/// Thin wrapper over xdr-codec's `Pack` so that every encoder in the crate produces
/// the same padding and length rules.
#[derive(Default, Debug, Clone)]
pub struct Enc {
    pub buf: Vec<u8>,
}

impl Enc {
    pub fn new() -> Self {
        Enc { buf: Vec::with_capacity(256) }
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        xdr_codec::Pack::pack(&v, &mut self.buf).expect("Vec write");
        self
    }
    pub fn i32(&mut self, v: i32) -> &mut Self {
        xdr_codec::Pack::pack(&v, &mut self.buf).expect("Vec write");
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        xdr_codec::Pack::pack(&v, &mut self.buf).expect("Vec write");
        self
    }
    pub fn bool(&mut self, v: bool) -> &mut Self {
        xdr_codec::Pack::pack(&v, &mut self.buf).expect("Vec write");
        self
    }
    /// Variable-length opaque (length, bytes, padding).
    pub fn opaque(&mut self, v: &[u8]) -> &mut Self {
        xdr_codec::pack_opaque_flex(v, None, &mut self.buf).expect("Vec write");
        self
    }
    /// Fixed-length opaque (bytes, padding).
    pub fn fixed(&mut self, v: &[u8]) -> &mut Self {
        xdr_codec::pack_opaque_array(v, v.len(), &mut self.buf).expect("Vec write");
        self
    }
    pub fn string(&mut self, v: &str) -> &mut Self {
        self.opaque(v.as_bytes())
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_borrows_valid_text_and_replaces_the_rest() {
        assert!(matches!(lossy(b"client-17.lab"), std::borrow::Cow::Borrowed("client-17.lab")));
        assert!(matches!(lossy("h\u{f6}st".as_bytes()), std::borrow::Cow::Borrowed("h\u{f6}st")));
        assert_eq!(lossy(b"a\xffb\xc3"), "a\u{fffd}b\u{fffd}");
        assert_eq!(XStr(b"\xe2\x82").as_str_lossy(), "\u{fffd}");
    }

    #[test]
    fn opaque_pads_and_bounds() {
        let b = [0, 0, 0, 3, b'a', b'b', b'c', 0, 0xff];
        let (rest, v) = opaque(&b).unwrap();
        assert_eq!(v, b"abc");
        assert_eq!(rest, &[0xff]);
        // hostile length
        let b = [0xff, 0xff, 0xff, 0xf0, 1, 2];
        assert!(matches!(finish(opaque(&b)), Err(XdrError::BadLength { .. })));
    }

    #[test]
    fn array_count_is_capped() {
        let b = [0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 9];
        let (_, v) = array(10, u32)(&b).unwrap();
        assert_eq!(v, vec![7, 9]);
        let b = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1];
        assert!(finish(array(MAX_ARRAY, u32)(&b)).is_err());
    }

    #[test]
    fn encoder_round_trips() {
        let mut e = Enc::new();
        e.u32(7).string("abcde").u64(1 << 40).bool(true).fixed(&[1, 2, 3]);
        let b = e.into_vec();
        assert_eq!(b.len(), 4 + 4 + 8 + 8 + 4 + 4);
        let (i, a) = u32(&b).unwrap();
        let (i, s) = string(i).unwrap();
        let (i, c) = u64(i).unwrap();
        let (i, t) = bool(i).unwrap();
        let (i, f) = fixed(3)(i).unwrap();
        assert_eq!((a, s.0, c, t, f, i.len()), (7, &b"abcde"[..], 1 << 40, true, &[1u8, 2, 3][..], 0));
    }

    #[test]
    fn opaque_display_abbreviates() {
        assert_eq!(Opaque(&[0x43, 0, 0, 2]).to_string(), "43000002");
        assert_eq!(Opaque(&[1; 12]).to_string(), "0101010101010101…");
    }
}
