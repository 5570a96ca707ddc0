//! Basic NFSv4 data types shared by operations and callbacks (RFC 7531 / RFC 5662 /
//! RFC 7863): stateids, owners, times, ACEs, addresses, bitmaps and small enums.

use crate::xdr::{
    self, bool as xbool, fixed, opaque, opaque_max, string, u32, u64, Opaque, Res, XStr, XdrError,
};
use serde::{Serialize, Serializer};
use std::fmt;

pub const NFS4_FHSIZE: u32 = 128;
pub const NFS4_OPAQUE_LIMIT: u32 = 1024;
/// Largest `bitmap4` word count accepted (real bitmaps use 2 or 3 words).
pub const MAX_BITMAP_WORDS: u32 = 64;
/// Cap for the small arrays of operations (secinfo lists, stateid lists, layouts, ...).
pub const MAX_LIST: u32 = 4096;

pub(crate) fn bad(what: &'static str, value: u32) -> nom::Err<XdrError> {
    nom::Err::Error(XdrError::BadValue { what, value })
}

/// `stateid4`: a sequence number and 12 opaque bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Stateid4<'a> {
    pub seqid: u32,
    pub other: Opaque<'a>,
}

impl Stateid4<'_> {
    /// The all-zero "anonymous" stateid (or the 4.1 current stateid when seqid is 1).
    pub fn is_special_zero(&self) -> bool {
        self.other.0.iter().all(|&b| b == 0)
    }
    /// The all-ones READ bypass stateid.
    pub fn is_special_ones(&self) -> bool {
        self.other.0.iter().all(|&b| b == 0xff)
    }
}

/// `seqid:` then the first and last four bytes of `other` (servers put a boot/epoch
/// prefix first and a per-state counter last; the full value is in the JSON).
impl fmt::Display for Stateid4<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.other.0;
        if self.is_special_zero() {
            write!(f, "{}:0", self.seqid)
        } else if self.is_special_ones() {
            write!(f, "{}:ff", self.seqid)
        } else if o.len() == 12 {
            write!(
                f,
                "{}:{}…{}",
                self.seqid,
                xdr::hex(&o[..4]),
                xdr::hex(&o[8..])
            )
        } else {
            write!(f, "{}:{}", self.seqid, self.other)
        }
    }
}

pub fn stateid(i: &[u8]) -> Res<'_, Stateid4<'_>> {
    let (i, seqid) = u32(i)?;
    let (i, other) = fixed(12)(i)?;
    Ok((
        i,
        Stateid4 {
            seqid,
            other: Opaque(other),
        },
    ))
}

/// A file handle (`nfs_fh4`, at most 128 bytes). Displays as the CRC-32 of its bytes,
/// the same hash tshark shows as `nfs.fh.hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Fh<'a>(pub Opaque<'a>);

impl Fh<'_> {
    pub fn hash(&self) -> u32 {
        crc32(self.0 .0)
    }
}

impl fmt::Display for Fh<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08x}", self.hash())
    }
}

pub fn fh(i: &[u8]) -> Res<'_, Fh<'_>> {
    let (i, b) = opaque_max(NFS4_FHSIZE)(i)?;
    Ok((i, Fh(Opaque(b))))
}

const CRC32_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[n] = c;
        n += 1;
    }
    t
};

/// CRC-32 (IEEE 802.3).
pub fn crc32(b: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &x in b {
        c = CRC32_TABLE[((c ^ x as u32) & 0xff) as usize] ^ (c >> 8);
    }
    c ^ 0xffff_ffff
}

/// `open_owner4` / `lock_owner4`: a client id and an opaque owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct StateOwner<'a> {
    pub clientid: u64,
    pub owner: Opaque<'a>,
}

impl fmt::Display for StateOwner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}/{}", self.clientid, self.owner)
    }
}

pub fn state_owner(i: &[u8]) -> Res<'_, StateOwner<'_>> {
    let (i, clientid) = u64(i)?;
    let (i, owner) = opaque_max(NFS4_OPAQUE_LIMIT)(i)?;
    Ok((
        i,
        StateOwner {
            clientid,
            owner: Opaque(owner),
        },
    ))
}

/// An 8-byte verifier.
pub fn verifier(i: &[u8]) -> Res<'_, Opaque<'_>> {
    let (i, v) = fixed(8)(i)?;
    Ok((i, Opaque(v)))
}

/// A 16-byte session id.
pub fn sessionid(i: &[u8]) -> Res<'_, Opaque<'_>> {
    let (i, v) = fixed(16)(i)?;
    Ok((i, Opaque(v)))
}

/// A 16-byte pNFS device id.
pub fn deviceid(i: &[u8]) -> Res<'_, Opaque<'_>> {
    sessionid(i)
}

pub fn xopaque(i: &[u8]) -> Res<'_, Opaque<'_>> {
    let (i, v) = opaque(i)?;
    Ok((i, Opaque(v)))
}

pub fn xstring(i: &[u8]) -> Res<'_, XStr<'_>> {
    string(i)
}

/// `change_info4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChangeInfo {
    pub atomic: bool,
    pub before: u64,
    pub after: u64,
}

pub fn change_info(i: &[u8]) -> Res<'_, ChangeInfo> {
    let (i, atomic) = xbool(i)?;
    let (i, before) = u64(i)?;
    let (i, after) = u64(i)?;
    Ok((
        i,
        ChangeInfo {
            atomic,
            before,
            after,
        },
    ))
}

/// `nfstime4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NfsTime {
    pub seconds: i64,
    pub nseconds: u32,
}

pub fn nfstime(i: &[u8]) -> Res<'_, NfsTime> {
    let (i, seconds) = xdr::i64(i)?;
    let (i, nseconds) = u32(i)?;
    Ok((i, NfsTime { seconds, nseconds }))
}

/// `fsid4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fsid {
    pub major: u64,
    pub minor: u64,
}

pub fn fsid(i: &[u8]) -> Res<'_, Fsid> {
    let (i, major) = u64(i)?;
    let (i, minor) = u64(i)?;
    Ok((i, Fsid { major, minor }))
}

/// `specdata4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpecData {
    pub specdata1: u32,
    pub specdata2: u32,
}

pub fn specdata(i: &[u8]) -> Res<'_, SpecData> {
    let (i, specdata1) = u32(i)?;
    let (i, specdata2) = u32(i)?;
    Ok((
        i,
        SpecData {
            specdata1,
            specdata2,
        },
    ))
}

/// `nfsace4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Nfsace4<'a> {
    pub acetype: u32,
    pub aceflag: u32,
    pub acemask: u32,
    pub who: XStr<'a>,
}

pub fn nfsace(i: &[u8]) -> Res<'_, Nfsace4<'_>> {
    let (i, acetype) = u32(i)?;
    let (i, aceflag) = u32(i)?;
    let (i, acemask) = u32(i)?;
    let (i, who) = string(i)?;
    Ok((
        i,
        Nfsace4 {
            acetype,
            aceflag,
            acemask,
            who,
        },
    ))
}

/// `netaddr4` / `clientaddr4`: an RPC netid and a universal address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NetAddr<'a> {
    pub netid: XStr<'a>,
    pub uaddr: XStr<'a>,
}

impl fmt::Display for NetAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.netid, self.uaddr)
    }
}

pub fn netaddr(i: &[u8]) -> Res<'_, NetAddr<'_>> {
    let (i, netid) = string(i)?;
    let (i, uaddr) = string(i)?;
    Ok((i, NetAddr { netid, uaddr }))
}

/// `bitmap4`. Serialises as the list of set bit numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bitmap4(pub Vec<u32>);

impl Bitmap4 {
    pub fn contains(&self, bit: u32) -> bool {
        self.0
            .get((bit / 32) as usize)
            .is_some_and(|w| w & (1 << (bit % 32)) != 0)
    }
    /// The set bit numbers in increasing order.
    pub fn bits(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(wi, &w)| {
            (0..32u32)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| wi as u32 * 32 + b)
        })
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
}

impl Serialize for Bitmap4 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.bits())
    }
}

pub fn bitmap(i: &[u8]) -> Res<'_, Bitmap4> {
    let (i, v) = xdr::array(MAX_BITMAP_WORDS, u32)(i)?;
    Ok((i, Bitmap4(v)))
}

/// Names of the set bits of a flag word, with any unnamed remainder in hex.
pub fn flag_names(v: u32, table: &[(u32, &'static str)]) -> String {
    let mut out = String::new();
    let mut rest = v;
    for &(bit, name) in table {
        if v & bit == bit && bit != 0 {
            if !out.is_empty() {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bit;
        }
    }
    if rest != 0 || out.is_empty() {
        if !out.is_empty() {
            out.push('|');
        }
        out.push_str(&format!("{rest:#x}"));
    }
    out
}

/// The name of `v` in a (value, name) table.
pub fn table_name(v: u32, table: &[(u32, &'static str)]) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == v).map(|(_, n)| *n)
}

pub const LOCK_TYPES: [(u32, &str); 4] = [
    (1, "READ_LT"),
    (2, "WRITE_LT"),
    (3, "READW_LT"),
    (4, "WRITEW_LT"),
];

pub fn locktype_name(v: u32) -> Option<&'static str> {
    table_name(v, &LOCK_TYPES)
}

pub const STABLE_HOW: [(u32, &str); 3] = [(0, "UNSTABLE4"), (1, "DATA_SYNC4"), (2, "FILE_SYNC4")];

pub const LAYOUT_TYPES: [(u32, &str); 5] = [
    (1, "LAYOUT4_NFSV4_1_FILES"),
    (2, "LAYOUT4_OSD2_OBJECTS"),
    (3, "LAYOUT4_BLOCK_VOLUME"),
    (4, "LAYOUT4_FLEX_FILES"),
    (5, "LAYOUT4_SCSI"),
];

pub const IOMODES: [(u32, &str); 3] = [(1, "IOMODE_READ"), (2, "IOMODE_RW"), (3, "IOMODE_ANY")];

/// A range as `offset+length` with the "to end of file" length shown as `eof`.
pub struct Range(pub u64, pub u64);

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1 == u64::MAX {
            write!(f, "{}-eof", self.0)
        } else {
            write!(f, "{}+{}", self.0, self.1)
        }
    }
}

/// `layout_content4` / `device_addr4` / `layoutupdate4` / `layouthint4`: a layout type and
/// a body this decoder leaves opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayoutBody<'a> {
    pub layout_type: u32,
    pub body: Opaque<'a>,
}

pub fn layout_body(i: &[u8]) -> Res<'_, LayoutBody<'_>> {
    let (i, layout_type) = u32(i)?;
    let (i, body) = opaque(i)?;
    Ok((
        i,
        LayoutBody {
            layout_type,
            body: Opaque(body),
        },
    ))
}

/// `layout4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Layout<'a> {
    pub offset: u64,
    pub length: u64,
    pub iomode: u32,
    pub content: LayoutBody<'a>,
}

pub fn layout(i: &[u8]) -> Res<'_, Layout<'_>> {
    let (i, offset) = u64(i)?;
    let (i, length) = u64(i)?;
    let (i, iomode) = u32(i)?;
    let (i, content) = layout_body(i)?;
    Ok((
        i,
        Layout {
            offset,
            length,
            iomode,
            content,
        },
    ))
}

/// `secinfo4`: a flavor, with the GSS triple for RPCSEC_GSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SecInfo<'a> {
    pub flavor: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gss: Option<GssInfo<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GssInfo<'a> {
    pub oid: Opaque<'a>,
    pub qop: u32,
    pub service: u32,
}

pub const RPCSEC_GSS: u32 = 6;

pub fn secinfo(i: &[u8]) -> Res<'_, SecInfo<'_>> {
    let (i, flavor) = u32(i)?;
    if flavor != RPCSEC_GSS {
        return Ok((i, SecInfo { flavor, gss: None }));
    }
    let (i, oid) = opaque(i)?;
    let (i, qop) = u32(i)?;
    let (i, service) = u32(i)?;
    Ok((
        i,
        SecInfo {
            flavor,
            gss: Some(GssInfo {
                oid: Opaque(oid),
                qop,
                service,
            }),
        },
    ))
}

/// `netloc4` (RFC 7862 COPY / COPY_NOTIFY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Netloc<'a> {
    Name { name: XStr<'a> },
    Url { url: XStr<'a> },
    Netaddr { addr: NetAddr<'a> },
}

pub fn netloc(i: &[u8]) -> Res<'_, Netloc<'_>> {
    let (i, t) = u32(i)?;
    match t {
        1 => string(i).map(|(i, name)| (i, Netloc::Name { name })),
        2 => string(i).map(|(i, url)| (i, Netloc::Url { url })),
        3 => netaddr(i).map(|(i, addr)| (i, Netloc::Netaddr { addr })),
        _ => Err(bad("netloc_type4", t)),
    }
}

/// `write_response4` (COPY, WRITE_SAME, CB_OFFLOAD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WriteResponse<'a> {
    pub callback_id: Option<Stateid4<'a>>,
    pub count: u64,
    pub committed: u32,
    pub writeverf: Opaque<'a>,
}

pub fn write_response(i: &[u8]) -> Res<'_, WriteResponse<'_>> {
    let (i, n) = u32(i)?;
    let (i, callback_id) = match n {
        0 => (i, None),
        1 => stateid(i).map(|(i, s)| (i, Some(s)))?,
        _ => return Err(bad("wr_callback_id count", n)),
    };
    let (i, count) = u64(i)?;
    let (i, committed) = u32(i)?;
    let (i, writeverf) = verifier(i)?;
    Ok((
        i,
        WriteResponse {
            callback_id,
            count,
            committed,
            writeverf,
        },
    ))
}

/// An XDR `T<1>` array read as an `Option`.
pub fn at_most_one<'a, T>(
    f: impl Fn(&'a [u8]) -> Res<'a, T>,
) -> impl Fn(&'a [u8]) -> Res<'a, Option<T>> {
    move |i: &'a [u8]| {
        let (i, n) = u32(i)?;
        match n {
            0 => Ok((i, None)),
            1 => f(i).map(|(i, v)| (i, Some(v))),
            _ => Err(bad("array<1> count", n)),
        }
    }
}

/// A bounded counted array (every element at least four bytes).
pub fn list<'a, T>(f: impl Fn(&'a [u8]) -> Res<'a, T>) -> impl Fn(&'a [u8]) -> Res<'a, Vec<T>> {
    xdr::array(MAX_LIST, f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::{finish, Enc};

    #[test]
    fn stateid_display_and_specials() {
        let b = [
            0, 0, 0, 1, 0x0b, 0xa8, 0xdf, 0x60, 0xe7, 0x7d, 0xed, 0x3b, 0x24, 0, 0, 0,
        ];
        let s = finish(stateid(&b)).unwrap();
        assert_eq!(s.seqid, 1);
        assert_eq!(s.to_string(), "1:0ba8df60…24000000");
        let z = [0u8; 16];
        assert_eq!(finish(stateid(&z)).unwrap().to_string(), "0:0");
        let mut o = [0xffu8; 16];
        o[..4].copy_from_slice(&[0xff; 4]);
        let s = finish(stateid(&o)).unwrap();
        assert!(s.is_special_ones());
        assert_eq!(s.to_string(), "4294967295:ff");
        assert!(finish(stateid(&b[..15])).is_err());
        let j = serde_json::to_value(finish(stateid(&b)).unwrap()).unwrap();
        assert_eq!(j["other"], "0ba8df60e77ded3b24000000");
    }

    #[test]
    fn crc32_matches_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn bitmap_bits_and_cap() {
        let mut e = Enc::new();
        e.u32(2).u32(0x0010_011a).u32(0x0030_a23a);
        let b = finish(bitmap(&e.buf)).unwrap();
        assert!(b.contains(1) && b.contains(3) && b.contains(4) && b.contains(8) && b.contains(20));
        assert!(
            b.contains(33) && b.contains(52) && b.contains(53) && !b.contains(0) && !b.contains(64)
        );
        assert_eq!(b.bits().take(4).collect::<Vec<_>>(), vec![1, 3, 4, 8]);
        assert_eq!(serde_json::to_string(&Bitmap4(vec![5])).unwrap(), "[0,2]");
        let mut e = Enc::new();
        e.u32(65);
        for _ in 0..65 {
            e.u32(0);
        }
        assert!(finish(bitmap(&e.buf)).is_err());
    }

    #[test]
    fn flag_names_keep_unknown_bits() {
        let t = [(1, "A"), (2, "B")];
        assert_eq!(flag_names(3, &t), "A|B");
        assert_eq!(flag_names(0x11, &t), "A|0x10");
        assert_eq!(flag_names(0, &t), "0x0");
    }

    #[test]
    fn owner_and_write_response() {
        let mut e = Enc::new();
        e.u64(0x56f6_115d_37df_6edb).opaque(b"lockowner");
        let o = finish(state_owner(&e.buf)).unwrap();
        assert_eq!(o.owner.0, b"lockowner");
        assert_eq!(o.to_string(), "56f6115d37df6edb/6c6f636b6f776e65…");
        let mut e = Enc::new();
        e.u32(1)
            .u32(3)
            .fixed(&[7; 12])
            .u64(4096)
            .u32(2)
            .fixed(&[1; 8]);
        let w = finish(write_response(&e.buf)).unwrap();
        assert_eq!(w.callback_id.unwrap().seqid, 3);
        assert_eq!((w.count, w.committed), (4096, 2));
        let mut e = Enc::new();
        e.u32(2);
        assert!(finish(write_response(&e.buf)).is_err());
    }

    #[test]
    fn netloc_and_secinfo() {
        let mut e = Enc::new();
        e.u32(3).string("tcp").string("10.0.0.1.8.1");
        let n = finish(netloc(&e.buf)).unwrap();
        assert!(matches!(n, Netloc::Netaddr { addr } if addr.uaddr.0 == b"10.0.0.1.8.1"));
        let mut e = Enc::new();
        e.u32(9);
        assert!(finish(netloc(&e.buf)).is_err());
        let mut e = Enc::new();
        e.u32(6).opaque(&[0x2a, 0x86]).u32(0).u32(2);
        let s = finish(secinfo(&e.buf)).unwrap();
        assert_eq!(s.gss.unwrap().service, 2);
        let mut e = Enc::new();
        e.u32(1);
        assert_eq!(
            finish(secinfo(&e.buf)).unwrap(),
            SecInfo {
                flavor: 1,
                gss: None
            }
        );
    }
}
