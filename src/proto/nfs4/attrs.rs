//! `fattr4`: an attribute bitmap plus the counted opaque of the values, decoded in bit
//! order (RFC 7530 §5, RFC 8881 §5, RFC 7862 §12, RFC 8276, RFC 9754). Decoding stops at
//! the first attribute this module cannot decode; the decoded prefix is kept and the
//! remaining bit numbers are listed as undecoded. The `fattr4` as a whole is always
//! consumed exactly, because its values are a counted opaque.

use super::status::Nfsstat4;
use super::types::{
    bitmap, fh, fsid, layout_body, list, nfsace, nfstime, specdata, xopaque, Bitmap4, Fh, Fsid,
    LayoutBody, NfsTime, Nfsace4, SpecData,
};
use crate::xdr::{bool as xbool, opaque, string, u32, u64, Opaque, Res, XStr};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

const NAMES: [&str; 86] = [
    "supported_attrs",
    "type",
    "fh_expire_type",
    "change",
    "size",
    "link_support",
    "symlink_support",
    "named_attr",
    "fsid",
    "unique_handles",
    "lease_time",
    "rdattr_error",
    "acl",
    "aclsupport",
    "archive",
    "cansettime",
    "case_insensitive",
    "case_preserving",
    "chown_restricted",
    "filehandle",
    "fileid",
    "files_avail",
    "files_free",
    "files_total",
    "fs_locations",
    "hidden",
    "homogeneous",
    "maxfilesize",
    "maxlink",
    "maxname",
    "maxread",
    "maxwrite",
    "mimetype",
    "mode",
    "no_trunc",
    "numlinks",
    "owner",
    "owner_group",
    "quota_avail_hard",
    "quota_avail_soft",
    "quota_used",
    "rawdev",
    "space_avail",
    "space_free",
    "space_total",
    "space_used",
    "system",
    "time_access",
    "time_access_set",
    "time_backup",
    "time_create",
    "time_delta",
    "time_metadata",
    "time_modify",
    "time_modify_set",
    "mounted_on_fileid",
    "dir_notif_delay",
    "dirent_notif_delay",
    "dacl",
    "sacl",
    "change_policy",
    "fs_status",
    "fs_layout_type",
    "layout_hint",
    "layout_type",
    "layout_blksize",
    "layout_alignment",
    "fs_locations_info",
    "mdsthreshold",
    "retention_get",
    "retention_set",
    "retentevt_get",
    "retentevt_set",
    "retention_hold",
    "mode_set_masked",
    "suppattr_exclcreat",
    "fs_charset_cap",
    "clone_blksize",
    "space_freed",
    "change_attr_type",
    "sec_label",
    "mode_umask",
    "xattr_support",
    "offline",
    "time_deleg_access",
    "time_deleg_modify",
];

pub const FATTR4_TYPE: u32 = 1;
pub const FATTR4_CHANGE: u32 = 3;
pub const FATTR4_SIZE: u32 = 4;
pub const FATTR4_FILEHANDLE: u32 = 19;
pub const FATTR4_FILEID: u32 = 20;
pub const FATTR4_MODE: u32 = 33;

/// The name of attribute `bit`, if it is a defined one.
pub fn attr_name(bit: u32) -> Option<&'static str> {
    NAMES.get(bit as usize).copied()
}

/// One `fs_location4`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FsLocation<'a> {
    pub server: Vec<XStr<'a>>,
    pub rootpath: Vec<XStr<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FsStatus<'a> {
    pub absent: bool,
    pub status_type: u32,
    pub source: XStr<'a>,
    pub current: XStr<'a>,
    pub age: i32,
    pub version: NfsTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThresholdItem<'a> {
    pub layout_type: u32,
    pub hintset: Bitmap4,
    pub hintlist: Opaque<'a>,
}

/// A decoded attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AttrVal<'a> {
    U32(u32),
    U64(u64),
    Bool(bool),
    Bitmap(Bitmap4),
    Fsid(Fsid),
    Status(Nfsstat4),
    Acl(Vec<Nfsace4<'a>>),
    /// `nfsacl41`: flags and ACEs (dacl, sacl).
    Acl41 {
        flags: u32,
        aces: Vec<Nfsace4<'a>>,
    },
    Fh(Fh<'a>),
    Locations {
        fs_root: Vec<XStr<'a>>,
        locations: Vec<FsLocation<'a>>,
    },
    Str(XStr<'a>),
    SpecData(SpecData),
    Time(NfsTime),
    /// `settime4`: `None` means "set to server time".
    SetTime(Option<NfsTime>),
    Pair {
        major: u64,
        minor: u64,
    },
    FsStatus(FsStatus<'a>),
    LayoutTypes(Vec<u32>),
    LayoutHint(LayoutBody<'a>),
    Thresholds(Vec<ThresholdItem<'a>>),
    RetentionGet {
        duration: u64,
        begin_time: Option<NfsTime>,
    },
    RetentionSet {
        enable: bool,
        duration: Option<u64>,
    },
    ModeMasked {
        mode: u32,
        mask: u32,
    },
    SecLabel {
        lfs: u32,
        pi: u32,
        data: Opaque<'a>,
    },
    ModeUmask {
        mode: u32,
        umask: u32,
    },
}

/// A decoded `fattr4`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fattr4<'a> {
    pub mask: Bitmap4,
    /// The raw `attr_vals`.
    pub vals: Opaque<'a>,
    /// Decoded attributes in bit order: (bit, value).
    pub attrs: Vec<(u32, AttrVal<'a>)>,
    /// Bits of the mask from the first one that could not be decoded onwards.
    pub undecoded: Vec<u32>,
}

impl<'a> Fattr4<'a> {
    pub fn get(&self, bit: u32) -> Option<&AttrVal<'a>> {
        self.attrs.iter().find(|(b, _)| *b == bit).map(|(_, v)| v)
    }
    pub fn u64(&self, bit: u32) -> Option<u64> {
        match self.get(bit)? {
            AttrVal::U64(v) => Some(*v),
            _ => None,
        }
    }
    pub fn u32(&self, bit: u32) -> Option<u32> {
        match self.get(bit)? {
            AttrVal::U32(v) => Some(*v),
            _ => None,
        }
    }
}

struct AttrMap<'r, 'a>(&'r [(u32, AttrVal<'a>)]);

impl Serialize for AttrMap<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (bit, v) in self.0 {
            match attr_name(*bit) {
                Some(n) => m.serialize_entry(n, v)?,
                None => m.serialize_entry(&bit.to_string(), v)?,
            }
        }
        m.end()
    }
}

impl Serialize for Fattr4<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("mask", &self.mask)?;
        m.serialize_entry("attrs", &AttrMap(&self.attrs))?;
        if !self.undecoded.is_empty() {
            m.serialize_entry("undecoded", &self.undecoded)?;
        }
        m.end()
    }
}

fn pathname(i: &[u8]) -> Res<'_, Vec<XStr<'_>>> {
    list(string)(i)
}

fn fs_location(i: &[u8]) -> Res<'_, FsLocation<'_>> {
    let (i, server) = list(string)(i)?;
    let (i, rootpath) = pathname(i)?;
    Ok((i, FsLocation { server, rootpath }))
}

fn settime(i: &[u8]) -> Res<'_, Option<NfsTime>> {
    let (i, how) = u32(i)?;
    match how {
        0 => Ok((i, None)),
        1 => nfstime(i).map(|(i, t)| (i, Some(t))),
        _ => Err(super::types::bad("time_how4", how)),
    }
}

fn acl41(i: &[u8]) -> Res<'_, AttrVal<'_>> {
    let (i, flags) = u32(i)?;
    let (i, aces) = list(nfsace)(i)?;
    Ok((i, AttrVal::Acl41 { flags, aces }))
}

fn threshold(i: &[u8]) -> Res<'_, ThresholdItem<'_>> {
    let (i, layout_type) = u32(i)?;
    let (i, hintset) = bitmap(i)?;
    let (i, hintlist) = xopaque(i)?;
    Ok((
        i,
        ThresholdItem {
            layout_type,
            hintset,
            hintlist,
        },
    ))
}

fn retention_get(i: &[u8]) -> Res<'_, AttrVal<'_>> {
    let (i, duration) = u64(i)?;
    let (i, begin_time) = super::types::at_most_one(nfstime)(i)?;
    Ok((
        i,
        AttrVal::RetentionGet {
            duration,
            begin_time,
        },
    ))
}

fn retention_set(i: &[u8]) -> Res<'_, AttrVal<'_>> {
    let (i, enable) = xbool(i)?;
    let (i, duration) = super::types::at_most_one(u64)(i)?;
    Ok((i, AttrVal::RetentionSet { enable, duration }))
}

fn fs_status(i: &[u8]) -> Res<'_, AttrVal<'_>> {
    let (i, absent) = xbool(i)?;
    let (i, status_type) = u32(i)?;
    let (i, source) = string(i)?;
    let (i, current) = string(i)?;
    let (i, age) = crate::xdr::i32(i)?;
    let (i, version) = nfstime(i)?;
    Ok((
        i,
        AttrVal::FsStatus(FsStatus {
            absent,
            status_type,
            source,
            current,
            age,
            version,
        }),
    ))
}

fn two_u32(i: &[u8]) -> Res<'_, (u32, u32)> {
    let (i, a) = u32(i)?;
    let (i, b) = u32(i)?;
    Ok((i, (a, b)))
}

/// Decode one attribute value; `None` for attributes this module does not decode.
fn attr_val(bit: u32, i: &[u8]) -> Option<Res<'_, AttrVal<'_>>> {
    use AttrVal as V;
    let u32v = |i| u32(i).map(|(i, v)| (i, V::U32(v)));
    let u64v = |i| u64(i).map(|(i, v)| (i, V::U64(v)));
    let boolv = |i| xbool(i).map(|(i, v)| (i, V::Bool(v)));
    let timev = |i| nfstime(i).map(|(i, v)| (i, V::Time(v)));
    Some(match bit {
        0 | 75 => bitmap(i).map(|(i, v)| (i, V::Bitmap(v))),
        1 | 2 | 10 | 13 | 28 | 29 | 33 | 35 | 65 | 66 | 76 | 77 | 79 => u32v(i),
        3 | 4 | 20..=23 | 27 | 30 | 31 | 38..=40 | 42..=45 | 55 | 73 | 78 => u64v(i),
        5..=7 | 9 | 14..=18 | 25 | 26 | 34 | 46 | 82 | 83 => boolv(i),
        8 => fsid(i).map(|(i, v)| (i, V::Fsid(v))),
        11 => u32(i).map(|(i, v)| (i, V::Status(Nfsstat4(v)))),
        12 => list(nfsace)(i).map(|(i, v)| (i, V::Acl(v))),
        19 => fh(i).map(|(i, v)| (i, V::Fh(v))),
        24 => (|i| {
            let (i, fs_root) = pathname(i)?;
            let (i, locations) = list(fs_location)(i)?;
            Ok((i, V::Locations { fs_root, locations }))
        })(i),
        32 | 36 | 37 => string(i).map(|(i, v)| (i, V::Str(v))),
        41 => specdata(i).map(|(i, v)| (i, V::SpecData(v))),
        47 | 49..=53 | 56 | 57 | 84 | 85 => timev(i),
        48 | 54 => settime(i).map(|(i, v)| (i, V::SetTime(v))),
        58 | 59 => acl41(i),
        60 => fsid(i).map(|(i, v)| {
            (
                i,
                V::Pair {
                    major: v.major,
                    minor: v.minor,
                },
            )
        }),
        61 => fs_status(i),
        62 | 64 => list(u32)(i).map(|(i, v)| (i, V::LayoutTypes(v))),
        63 => layout_body(i).map(|(i, v)| (i, V::LayoutHint(v))),
        68 => list(threshold)(i).map(|(i, v)| (i, V::Thresholds(v))),
        69 | 71 => retention_get(i),
        70 | 72 => retention_set(i),
        74 => two_u32(i).map(|(i, (mode, mask))| (i, V::ModeMasked { mode, mask })),
        80 => (|i| {
            let (i, (lfs, pi)) = two_u32(i)?;
            let (i, data) = xopaque(i)?;
            Ok((i, V::SecLabel { lfs, pi, data }))
        })(i),
        81 => two_u32(i).map(|(i, (mode, umask))| (i, V::ModeUmask { mode, umask })),
        _ => return None,
    })
}

/// Decode the values of `mask` from `vals` (prefix-keeping, never fails).
pub fn decode_vals<'a>(mask: &Bitmap4, vals: &'a [u8]) -> (Vec<(u32, AttrVal<'a>)>, Vec<u32>) {
    let mut attrs = Vec::new();
    let mut undecoded = Vec::new();
    let mut i = vals;
    let mut stopped = false;
    for bit in mask.bits() {
        if stopped {
            undecoded.push(bit);
            continue;
        }
        match attr_val(bit, i) {
            Some(Ok((rest, v))) => {
                attrs.push((bit, v));
                i = rest;
            }
            _ => {
                stopped = true;
                undecoded.push(bit);
            }
        }
    }
    (attrs, undecoded)
}

/// `fattr4`.
pub fn fattr4(i: &[u8]) -> Res<'_, Fattr4<'_>> {
    let (i, mask) = bitmap(i)?;
    let (i, vals) = opaque(i)?;
    let (attrs, undecoded) = decode_vals(&mask, vals);
    Ok((
        i,
        Fattr4 {
            mask,
            vals: Opaque(vals),
            attrs,
            undecoded,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::{finish, Enc};

    fn fattr(words: &[u32], vals: &[u8]) -> Vec<u8> {
        let mut e = Enc::new();
        e.u32(words.len() as u32);
        for w in words {
            e.u32(*w);
        }
        e.opaque(vals);
        e.buf
    }

    #[test]
    fn common_attributes_in_bit_order() {
        // type, change, size, fsid, fileid, mode, numlinks, owner, time_modify
        let w0 = (1 << 1) | (1 << 3) | (1 << 4) | (1 << 8) | (1 << 20);
        let w1 = (1 << (33 - 32)) | (1 << (35 - 32)) | (1 << (36 - 32)) | (1 << (53 - 32));
        let mut v = Enc::new();
        v.u32(1)
            .u64(77)
            .u64(4096)
            .u64(1)
            .u64(2)
            .u64(99)
            .u32(0o644)
            .u32(1)
            .string("root");
        v.u64(1_700_000_000).u32(5);
        let b = fattr(&[w0, w1], &v.buf);
        let f = finish(fattr4(&b)).unwrap();
        assert!(f.undecoded.is_empty());
        assert_eq!(f.u32(FATTR4_TYPE), Some(1));
        assert_eq!(f.u64(FATTR4_SIZE), Some(4096));
        assert_eq!(f.u64(FATTR4_FILEID), Some(99));
        assert_eq!(f.u32(FATTR4_MODE), Some(0o644));
        assert_eq!(f.get(8), Some(&AttrVal::Fsid(Fsid { major: 1, minor: 2 })));
        assert_eq!(f.get(36), Some(&AttrVal::Str(XStr(b"root"))));
        assert_eq!(
            f.get(53),
            Some(&AttrVal::Time(NfsTime {
                seconds: 1_700_000_000,
                nseconds: 5
            }))
        );
        let j = serde_json::to_value(&f).unwrap();
        assert_eq!(j["attrs"]["size"], 4096);
        assert_eq!(j["attrs"]["owner"], "root");
        assert_eq!(j["mask"][0], 1);
    }

    #[test]
    fn unknown_attribute_stops_but_fattr_is_consumed() {
        // size (4), fs_locations_info (67, not decoded), mdsthreshold (68, decodable but
        // after the stop).
        let mut v = Enc::new();
        v.u64(10).u32(0xdead).u32(0);
        let mut b = fattr(&[1 << 4, 0, (1 << 3) | (1 << 4)], &v.buf);
        b.extend_from_slice(&[9, 9, 9, 9]);
        let (rest, f) = fattr4(&b).unwrap();
        assert_eq!(rest, &[9, 9, 9, 9]);
        assert_eq!(f.u64(4), Some(10));
        assert_eq!(f.attrs.len(), 1);
        assert_eq!(f.undecoded, vec![67, 68]);
        let j = serde_json::to_value(&f).unwrap();
        assert_eq!(j["undecoded"][1], 68);
        // mode (33) comes before 67 in bit order and is decoded.
        let b = fattr(&[1 << 4, 1 << 1, 1 << 3], &v.buf);
        let f = finish(fattr4(&b)).unwrap();
        assert_eq!(f.u32(33), Some(0xdead));
        assert_eq!(f.undecoded, vec![67]);
    }

    #[test]
    fn truncated_values_keep_prefix() {
        let mut v = Enc::new();
        v.u64(10).u32(1);
        let b = fattr(&[(1 << 4) | (1 << 20)], &v.buf);
        let f = finish(fattr4(&b)).unwrap();
        assert_eq!(f.u64(4), Some(10));
        assert_eq!(f.undecoded, vec![20]);
    }

    #[test]
    fn settime_acl_and_locations() {
        let mut v = Enc::new();
        v.u32(2)
            .u32(0)
            .u32(0x1f)
            .u32(0x3)
            .string("OWNER@")
            .u32(0)
            .u32(0)
            .u32(1)
            .string("EVERYONE@");
        v.u32(1)
            .string("export")
            .u32(1)
            .u32(1)
            .string("srv")
            .u32(2)
            .string("a")
            .string("b");
        v.u32(0);
        v.u32(1).u64(5).u32(6);
        let b = fattr(
            &[(1 << 12) | (1 << 24), (1 << (48 - 32)) | (1 << (54 - 32))],
            &v.buf,
        );
        let f = finish(fattr4(&b)).unwrap();
        assert!(f.undecoded.is_empty(), "{:?}", f.undecoded);
        assert!(
            matches!(f.get(12), Some(AttrVal::Acl(a)) if a.len() == 2 && a[1].who.0 == b"EVERYONE@")
        );
        assert!(
            matches!(f.get(24), Some(AttrVal::Locations { locations, .. }) if locations[0].rootpath.len() == 2)
        );
        assert_eq!(f.get(48), Some(&AttrVal::SetTime(None)));
        assert_eq!(
            f.get(54),
            Some(&AttrVal::SetTime(Some(NfsTime {
                seconds: 5,
                nseconds: 6
            })))
        );
    }

    #[test]
    fn hostile_counts_do_not_panic() {
        let mut v = Enc::new();
        v.u32(0xffff_ffff);
        let b = fattr(&[1 << 12], &v.buf);
        let f = finish(fattr4(&b)).unwrap();
        assert_eq!(f.undecoded, vec![12]);
        let mut e = Enc::new();
        e.u32(1).u32(1).u32(0xffff_fff0);
        assert!(finish(fattr4(&e.buf)).is_err());
    }

    #[test]
    fn names_cover_through_time_deleg_modify() {
        assert_eq!(attr_name(0), Some("supported_attrs"));
        assert_eq!(attr_name(55), Some("mounted_on_fileid"));
        assert_eq!(attr_name(75), Some("suppattr_exclcreat"));
        assert_eq!(attr_name(85), Some("time_deleg_modify"));
        assert_eq!(attr_name(86), None);
    }
}
