//! MOUNT (program 100005): version 1 and 2 (RFC 1094 appendix A) and version 3
//! (RFC 1813 §5).

use crate::xdr::{self, string, Opaque, Res, XStr, XdrError, MAX_ARRAY};
use serde::{Serialize, Serializer};
use std::fmt;

/// Linked lists (DUMP, EXPORT and each export's groups) stop with an error past this.
const MAX_LIST: usize = 65536;
/// Version 1/2 file handles are 32 bytes; version 3 handles at most 64.
const FHSIZE: usize = 32;
const FHSIZE3: u32 = 64;

const PROCS: [&str; 8] = ["NULL", "MNT", "DUMP", "UMNT", "UMNTALL", "EXPORT", "EXPORTALL", "PATHCONF"];

pub fn proc_name(vers: u32, proc_: u32) -> Option<&'static str> {
    let max = match vers {
        1 => 6,
        2 => 7,
        3 => 5,
        _ => return None,
    };
    if proc_ > max {
        return None;
    }
    PROCS.get(proc_ as usize).copied()
}

/// `mountstat3`; in versions 1 and 2 the status is a UNIX errno, whose common values
/// share these numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MountStat(pub u32);

impl MountStat {
    pub const OK: MountStat = MountStat(0);

    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "MNT3_OK",
            1 => "MNT3ERR_PERM",
            2 => "MNT3ERR_NOENT",
            5 => "MNT3ERR_IO",
            13 => "MNT3ERR_ACCES",
            20 => "MNT3ERR_NOTDIR",
            22 => "MNT3ERR_INVAL",
            63 => "MNT3ERR_NAMETOOLONG",
            10004 => "MNT3ERR_NOTSUPP",
            10006 => "MNT3ERR_SERVERFAULT",
            _ => return None,
        })
    }
}

impl fmt::Display for MountStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "UNKNOWN({})", self.0),
        }
    }
}

/// JSON: `{"name": "MNT3_OK", "code": 0}`.
impl Serialize for MountStat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("MountStat", 2)?;
        st.serialize_field("name", self.name().unwrap_or("UNKNOWN"))?;
        st.serialize_field("code", &self.0)?;
        st.end()
    }
}

/// MNT result: `fhstatus` (v1/v2) or `mountres3` (v3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MntRes<'a> {
    pub status: MountStat,
    /// The export's root file handle, on success.
    pub fhandle: Option<Opaque<'a>>,
    /// Security flavors the server accepts (version 3 only).
    pub auth_flavors: Vec<u32>,
}

/// `mountbody`: one entry of the DUMP list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MountEntry<'a> {
    pub hostname: XStr<'a>,
    pub directory: XStr<'a>,
}

/// `exportnode`: an exported directory and the groups allowed to mount it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportEntry<'a> {
    pub dir: XStr<'a>,
    pub groups: Vec<XStr<'a>>,
}

/// `ppathcnf` (version 2 PATHCONF); XDR carries every short and char as a 32-bit word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pathconf {
    pub link_max: i32,
    pub max_canon: i32,
    pub max_input: i32,
    pub name_max: i32,
    pub path_max: i32,
    pub pipe_buf: i32,
    pub vdisable: u32,
    pub xxx: u32,
    pub mask: [u32; 2],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Call<'a> {
    Null,
    Mnt { dirpath: XStr<'a> },
    Dump,
    Umnt { dirpath: XStr<'a> },
    Umntall,
    Export,
    Exportall,
    Pathconf { dirpath: XStr<'a> },
    Unknown { proc_num: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reply<'a> {
    Null,
    Mnt(MntRes<'a>),
    Dump { mounts: Vec<MountEntry<'a>> },
    Umnt,
    Umntall,
    Export { exports: Vec<ExportEntry<'a>> },
    Exportall { exports: Vec<ExportEntry<'a>> },
    Pathconf(Pathconf),
    Unknown { proc_num: u32 },
}

impl<'a> Call<'a> {
    pub fn dirpath(&self) -> Option<XStr<'a>> {
        match self {
            Call::Mnt { dirpath } | Call::Umnt { dirpath } | Call::Pathconf { dirpath } => Some(*dirpath),
            _ => None,
        }
    }
}

/// An XDR linked list (`*T` chained through a trailing `next` pointer), capped.
fn list<'a, T>(mut i: &'a [u8], f: impl Fn(&'a [u8]) -> Res<'a, T>) -> Res<'a, Vec<T>> {
    let mut out = Vec::new();
    loop {
        let (r, more) = xdr::bool(i)?;
        i = r;
        if !more {
            return Ok((i, out));
        }
        if out.len() >= MAX_LIST {
            return Err(nom::Err::Error(XdrError::TooMany { count: out.len() as u32, cap: MAX_LIST as u32 }));
        }
        let (r, v) = f(i)?;
        out.push(v);
        i = r;
    }
}

fn mount_entry(i: &[u8]) -> Res<'_, MountEntry<'_>> {
    let (i, hostname) = string(i)?;
    let (i, directory) = string(i)?;
    Ok((i, MountEntry { hostname, directory }))
}

fn export_entry(i: &[u8]) -> Res<'_, ExportEntry<'_>> {
    let (i, dir) = string(i)?;
    let (i, groups) = list(i, string)?;
    Ok((i, ExportEntry { dir, groups }))
}

fn mnt_res(vers: u32, i: &[u8]) -> Res<'_, MntRes<'_>> {
    let (i, status) = xdr::u32(i)?;
    let status = MountStat(status);
    if !status.is_ok() {
        return Ok((i, MntRes { status, fhandle: None, auth_flavors: Vec::new() }));
    }
    if vers < 3 {
        let (i, fh) = xdr::fixed(FHSIZE)(i)?;
        return Ok((i, MntRes { status, fhandle: Some(Opaque(fh)), auth_flavors: Vec::new() }));
    }
    let (i, fh) = xdr::opaque_max(FHSIZE3)(i)?;
    let (i, auth_flavors) = xdr::array(MAX_ARRAY, xdr::u32)(i)?;
    Ok((i, MntRes { status, fhandle: Some(Opaque(fh)), auth_flavors }))
}

fn pathconf(i: &[u8]) -> Res<'_, Pathconf> {
    let mut w = [0u32; 10];
    let mut i = i;
    for x in w.iter_mut() {
        let (r, v) = xdr::u32(i)?;
        *x = v;
        i = r;
    }
    let [link_max, max_canon, max_input, name_max, path_max, pipe_buf, vdisable, xxx, m0, m1] = w;
    Ok((
        i,
        Pathconf {
            link_max: link_max as i32,
            max_canon: max_canon as i32,
            max_input: max_input as i32,
            name_max: name_max as i32,
            path_max: path_max as i32,
            pipe_buf: pipe_buf as i32,
            vdisable,
            xxx,
            mask: [m0, m1],
        },
    ))
}

pub fn decode_call(vers: u32, proc_: u32, b: &[u8]) -> Result<Call<'_>, XdrError> {
    xdr::finish(match proc_ {
        0 => Ok((b, Call::Null)),
        1 => string(b).map(|(i, dirpath)| (i, Call::Mnt { dirpath })),
        2 => Ok((b, Call::Dump)),
        3 => string(b).map(|(i, dirpath)| (i, Call::Umnt { dirpath })),
        4 => Ok((b, Call::Umntall)),
        5 => Ok((b, Call::Export)),
        6 if vers < 3 => Ok((b, Call::Exportall)),
        7 if vers == 2 => string(b).map(|(i, dirpath)| (i, Call::Pathconf { dirpath })),
        n => Ok((b, Call::Unknown { proc_num: n })),
    })
}

pub fn decode_reply(vers: u32, proc_: u32, b: &[u8]) -> Result<Reply<'_>, XdrError> {
    xdr::finish(match proc_ {
        0 => Ok((b, Reply::Null)),
        1 => mnt_res(vers, b).map(|(i, r)| (i, Reply::Mnt(r))),
        2 => list(b, mount_entry).map(|(i, mounts)| (i, Reply::Dump { mounts })),
        3 => Ok((b, Reply::Umnt)),
        4 => Ok((b, Reply::Umntall)),
        5 => list(b, export_entry).map(|(i, exports)| (i, Reply::Export { exports })),
        6 if vers < 3 => list(b, export_entry).map(|(i, exports)| (i, Reply::Exportall { exports })),
        7 if vers == 2 => pathconf(b).map(|(i, p)| (i, Reply::Pathconf(p))),
        n => Ok((b, Reply::Unknown { proc_num: n })),
    })
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Mnt { dirpath } | Call::Umnt { dirpath } | Call::Pathconf { dirpath } => write!(f, "{dirpath}"),
            Call::Unknown { proc_num } => write!(f, "proc {proc_num}"),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Mnt(r) => {
                write!(f, "{}", r.status)?;
                if let Some(fh) = r.fhandle {
                    write!(f, " fh {fh}")?;
                }
                if !r.auth_flavors.is_empty() {
                    f.write_str(" flavors")?;
                    for (k, fl) in r.auth_flavors.iter().enumerate() {
                        write!(f, "{}{fl}", if k == 0 { " " } else { "," })?;
                    }
                }
                Ok(())
            }
            Reply::Dump { mounts } => write!(f, "{} mounts", mounts.len()),
            Reply::Export { exports } | Reply::Exportall { exports } => {
                write!(f, "{} exports", exports.len())?;
                for e in exports.iter().take(4) {
                    write!(f, " {}", e.dir)?;
                }
                if exports.len() > 4 {
                    f.write_str(" …")?;
                }
                Ok(())
            }
            Reply::Pathconf(p) => write!(f, "link_max {} name_max {} path_max {}", p.link_max, p.name_max, p.path_max),
            Reply::Unknown { proc_num } => write!(f, "proc {proc_num}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::Enc;

    /// MNT call and replies from nfs3-procedure (v3) and nfs-bug-5140 (v1) in the
    /// suricata-verify captures.
    const MNT_CALL: &[u8] = b"\x00\x00\x00\x14/home/girlich/export";
    const FH32: &str = "00101085000003e7000a00000000b25a00000029000a00000000b25a00000029";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|k| u8::from_str_radix(&s[k..k + 2], 16).unwrap()).collect()
    }

    #[test]
    fn names() {
        assert_eq!(proc_name(1, 6), Some("EXPORTALL"));
        assert_eq!(proc_name(1, 7), None);
        assert_eq!(proc_name(2, 7), Some("PATHCONF"));
        assert_eq!(proc_name(3, 5), Some("EXPORT"));
        assert_eq!(proc_name(3, 6), None);
        assert_eq!(proc_name(4, 0), None);
    }

    #[test]
    fn real_mnt_v3_and_v1() {
        for vers in [1, 3] {
            let c = decode_call(vers, 1, MNT_CALL).unwrap();
            assert_eq!(c.dirpath().unwrap().0, b"/home/girlich/export");
            assert_eq!(c.to_string(), "/home/girlich/export");
        }
        let v3 = unhex(&format!("0000000000000020{FH32}0000000100000001"));
        let r = decode_reply(3, 1, &v3).unwrap();
        let Reply::Mnt(m) = &r else { panic!("{r:?}") };
        assert_eq!(m.status, MountStat::OK);
        assert_eq!(m.fhandle.unwrap().hex(), FH32);
        assert_eq!(m.auth_flavors, vec![1]);
        assert_eq!(r.to_string(), "MNT3_OK fh 00101085000003e7… flavors 1");

        let v1 = unhex(&format!("00000000{FH32}"));
        let Reply::Mnt(m) = decode_reply(1, 1, &v1).unwrap() else { panic!() };
        assert_eq!((m.fhandle.unwrap().hex(), m.auth_flavors.len()), (FH32.to_string(), 0));
        // the v1 body read as v3 would take the first handle word as a length: too long
        assert!(decode_reply(3, 1, &v1).is_err());
    }

    #[test]
    fn mnt_errors_and_unknown_status() {
        for vers in [1, 3] {
            let r = decode_reply(vers, 1, &[0, 0, 0, 13]).unwrap();
            assert_eq!(r, Reply::Mnt(MntRes { status: MountStat(13), fhandle: None, auth_flavors: vec![] }));
            assert_eq!(r.to_string(), "MNT3ERR_ACCES");
        }
        let r = decode_reply(3, 1, &[0, 0, 0x27, 0x16]).unwrap();
        assert_eq!(r.to_string(), "MNT3ERR_SERVERFAULT");
        let r = decode_reply(3, 1, &[0, 0, 0, 99]).unwrap();
        assert_eq!(r.to_string(), "UNKNOWN(99)");
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!((j["proc"].as_str(), j["status"]["code"].as_u64()), (Some("MNT"), Some(99)));
        // a v3 handle longer than 64 bytes is refused
        let mut e = Enc::new();
        e.u32(0).opaque(&[1; 65]).u32(0);
        assert!(decode_reply(3, 1, &e.buf).is_err());
    }

    #[test]
    fn every_procedure_v1_and_v3() {
        for vers in [1, 3] {
            assert_eq!(decode_call(vers, 0, &[]).unwrap(), Call::Null);
            assert_eq!(decode_reply(vers, 0, &[]).unwrap(), Reply::Null);
            assert_eq!(decode_call(vers, 2, &[]).unwrap(), Call::Dump);
            let mut e = Enc::new();
            e.bool(true).string("client-a").string("/export");
            e.bool(true).string("client-b").string("/home").bool(false);
            let r = decode_reply(vers, 2, &e.buf).unwrap();
            let Reply::Dump { mounts } = &r else { panic!("{r:?}") };
            assert_eq!((mounts[1].hostname.0, mounts[1].directory.0), (&b"client-b"[..], &b"/home"[..]));
            assert_eq!(r.to_string(), "2 mounts");

            let c = decode_call(vers, 3, MNT_CALL).unwrap();
            assert!(matches!(c, Call::Umnt { .. }));
            assert_eq!(decode_reply(vers, 3, &[]).unwrap(), Reply::Umnt);
            assert_eq!(decode_call(vers, 4, &[]).unwrap(), Call::Umntall);
            assert_eq!(decode_reply(vers, 4, &[]).unwrap(), Reply::Umntall);
            assert_eq!(decode_call(vers, 5, &[]).unwrap(), Call::Export);

            let mut e = Enc::new();
            e.bool(true).string("/export").bool(true).string("10.0.0.0/8").bool(true).string("@admins").bool(false);
            e.bool(true).string("/pub").bool(false).bool(false);
            let r = decode_reply(vers, 5, &e.buf).unwrap();
            let Reply::Export { exports } = &r else { panic!("{r:?}") };
            assert_eq!(exports.len(), 2);
            assert_eq!(exports[0].groups, vec![XStr(b"10.0.0.0/8"), XStr(b"@admins")]);
            assert!(exports[1].groups.is_empty());
            assert_eq!(r.to_string(), "2 exports /export /pub");
            assert_eq!(serde_json::to_value(&r).unwrap()["exports"][0]["groups"][1], "@admins");
            if vers == 1 {
                assert_eq!(decode_call(1, 6, &[]).unwrap(), Call::Exportall);
                assert!(matches!(decode_reply(1, 6, &e.buf).unwrap(), Reply::Exportall { .. }));
            } else {
                assert_eq!(decode_call(3, 6, &[]).unwrap(), Call::Unknown { proc_num: 6 });
                assert_eq!(decode_reply(3, 6, &e.buf).unwrap(), Reply::Unknown { proc_num: 6 });
            }
        }
    }

    #[test]
    fn pathconf_v2() {
        let mut e = Enc::new();
        for v in [32000, 255, 255, 255, 4096, 4096, 0, 0, 0x7f, 0] {
            e.u32(v);
        }
        let r = decode_reply(2, 7, &e.buf).unwrap();
        let Reply::Pathconf(p) = r else { panic!("{r:?}") };
        assert_eq!((p.link_max, p.name_max, p.path_max, p.mask), (32000, 255, 4096, [0x7f, 0]));
        assert!(decode_reply(2, 7, &e.buf[..36]).is_err());
        assert!(matches!(decode_call(2, 7, MNT_CALL).unwrap(), Call::Pathconf { .. }));
    }

    #[test]
    fn truncated_and_hostile() {
        let mut e = Enc::new();
        e.bool(true).string("/export").bool(true).string("g").bool(false).bool(false);
        for n in 0..e.buf.len() {
            assert!(decode_reply(3, 5, &e.buf[..n]).is_err(), "prefix {n}");
        }
        for n in 0..MNT_CALL.len() {
            assert!(decode_call(3, 1, &MNT_CALL[..n]).is_err(), "prefix {n}");
        }
        // an endless list of empty mount entries stops at the cap, not in an allocation failure
        let mut e = Enc::new();
        for _ in 0..=MAX_LIST {
            e.bool(true).u32(0).u32(0);
        }
        e.bool(false);
        assert!(matches!(decode_reply(3, 2, &e.buf), Err(XdrError::TooMany { .. })));
        // hostile flavor count
        let mut e = Enc::new();
        e.u32(0).opaque(&[1; 8]).u32(0x4000_0000);
        assert!(decode_reply(3, 1, &e.buf).is_err());
    }
}
