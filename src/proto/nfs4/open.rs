//! OPEN and byte-range locking (RFC 7530 §16.16, §16.10-16.12; RFC 8881 §18.16): the
//! arguments and results that lock-state tracking needs.

use super::attrs::{fattr4, Fattr4};
use super::types::{
    bad, bitmap, change_info, nfsace, state_owner, stateid, table_name, verifier, Bitmap4,
    ChangeInfo, Nfsace4, StateOwner, Stateid4,
};
use crate::xdr::{bool as xbool, string, u32, u64, Opaque, Res, XStr};
use serde::Serialize;

pub const CLAIM_NULL: u32 = 0;
pub const CLAIM_PREVIOUS: u32 = 1;
pub const CLAIM_DELEGATE_CUR: u32 = 2;
pub const CLAIM_DELEGATE_PREV: u32 = 3;
pub const CLAIM_FH: u32 = 4;
pub const CLAIM_DELEG_CUR_FH: u32 = 5;
pub const CLAIM_DELEG_PREV_FH: u32 = 6;

pub const CLAIM_NAMES: [(u32, &str); 7] = [
    (0, "CLAIM_NULL"),
    (1, "CLAIM_PREVIOUS"),
    (2, "CLAIM_DELEGATE_CUR"),
    (3, "CLAIM_DELEGATE_PREV"),
    (4, "CLAIM_FH"),
    (5, "CLAIM_DELEG_CUR_FH"),
    (6, "CLAIM_DELEG_PREV_FH"),
];

pub const DELEG_TYPES: [(u32, &str); 6] = [
    (0, "OPEN_DELEGATE_NONE"),
    (1, "OPEN_DELEGATE_READ"),
    (2, "OPEN_DELEGATE_WRITE"),
    (3, "OPEN_DELEGATE_NONE_EXT"),
    (4, "OPEN_DELEGATE_READ_ATTRS_DELEG"),
    (5, "OPEN_DELEGATE_WRITE_ATTRS_DELEG"),
];

/// `share_access` want/signal bits (RFC 8881 §18.16.3, RFC 9754).
pub const SHARE_ACCESS_FLAGS: [(u32, &str); 3] = [
    (0x1_0000, "WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL"),
    (0x2_0000, "WANT_PUSH_DELEG_WHEN_UNCONTENDED"),
    (0x10_0000, "WANT_DELEG_TIMESTAMPS"),
];

pub const WANT_NAMES: [(u32, &str); 6] = [
    (0x000, "WANT_NO_PREFERENCE"),
    (0x100, "WANT_READ_DELEG"),
    (0x200, "WANT_WRITE_DELEG"),
    (0x300, "WANT_ANY_DELEG"),
    (0x400, "WANT_NO_DELEG"),
    (0x500, "WANT_CANCEL"),
];

pub const OPEN_RESULT_FLAGS: [(u32, &str); 4] = [
    (0x2, "CONFIRM"),
    (0x4, "LOCKTYPE_POSIX"),
    (0x8, "PRESERVE_UNLINKED"),
    (0x20, "MAY_NOTIFY_LOCK"),
];

/// Short text for `share_access`: `read`, `write` or `both`, then any want bits.
pub fn share_access_text(v: u32) -> String {
    let mut s = match v & 0xff {
        0 => String::from("none"),
        1 => String::from("read"),
        2 => String::from("write"),
        3 => String::from("both"),
        n => format!("access={n:#x}"),
    };
    let want = v & 0xff00;
    if want != 0 {
        s.push_str(" want=");
        match table_name(want, &WANT_NAMES) {
            Some(n) => s.push_str(n),
            None => s.push_str(&format!("{want:#x}")),
        }
    }
    let rest = v & !0xffff;
    if rest != 0 {
        s.push(' ');
        s.push_str(&super::types::flag_names(rest, &SHARE_ACCESS_FLAGS));
    }
    s
}

/// `createhow4`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CreateHow<'a> {
    #[serde(rename = "UNCHECKED4")]
    Unchecked { createattrs: Fattr4<'a> },
    #[serde(rename = "GUARDED4")]
    Guarded { createattrs: Fattr4<'a> },
    #[serde(rename = "EXCLUSIVE4")]
    Exclusive { verifier: Opaque<'a> },
    #[serde(rename = "EXCLUSIVE4_1")]
    Exclusive41 {
        verifier: Opaque<'a>,
        createattrs: Fattr4<'a>,
    },
}

/// `openflag4`: `None` for OPEN4_NOCREATE.
pub fn openflag(i: &[u8]) -> Res<'_, Option<CreateHow<'_>>> {
    let (i, opentype) = u32(i)?;
    if opentype != 1 {
        // OPEN4_NOCREATE (0); the union's default arm is void.
        return Ok((i, None));
    }
    let (i, mode) = u32(i)?;
    let (i, how) = match mode {
        0 => fattr4(i).map(|(i, createattrs)| (i, CreateHow::Unchecked { createattrs }))?,
        1 => fattr4(i).map(|(i, createattrs)| (i, CreateHow::Guarded { createattrs }))?,
        2 => verifier(i).map(|(i, verifier)| (i, CreateHow::Exclusive { verifier }))?,
        3 => {
            let (i, verifier) = verifier(i)?;
            let (i, createattrs) = fattr4(i)?;
            (
                i,
                CreateHow::Exclusive41 {
                    verifier,
                    createattrs,
                },
            )
        }
        _ => return Err(bad("createmode4", mode)),
    };
    Ok((i, Some(how)))
}

/// `open_claim4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "claim", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OpenClaim<'a> {
    #[serde(rename = "CLAIM_NULL")]
    Null { file: XStr<'a> },
    #[serde(rename = "CLAIM_PREVIOUS")]
    Previous { delegate_type: u32 },
    #[serde(rename = "CLAIM_DELEGATE_CUR")]
    DelegateCur {
        delegate_stateid: Stateid4<'a>,
        file: XStr<'a>,
    },
    #[serde(rename = "CLAIM_DELEGATE_PREV")]
    DelegatePrev { file: XStr<'a> },
    #[serde(rename = "CLAIM_FH")]
    Fh,
    #[serde(rename = "CLAIM_DELEG_CUR_FH")]
    DelegCurFh { delegate_stateid: Stateid4<'a> },
    #[serde(rename = "CLAIM_DELEG_PREV_FH")]
    DelegPrevFh,
}

impl OpenClaim<'_> {
    pub fn claim_type(&self) -> u32 {
        match self {
            OpenClaim::Null { .. } => CLAIM_NULL,
            OpenClaim::Previous { .. } => CLAIM_PREVIOUS,
            OpenClaim::DelegateCur { .. } => CLAIM_DELEGATE_CUR,
            OpenClaim::DelegatePrev { .. } => CLAIM_DELEGATE_PREV,
            OpenClaim::Fh => CLAIM_FH,
            OpenClaim::DelegCurFh { .. } => CLAIM_DELEG_CUR_FH,
            OpenClaim::DelegPrevFh => CLAIM_DELEG_PREV_FH,
        }
    }
    pub fn name(&self) -> &'static str {
        table_name(self.claim_type(), &CLAIM_NAMES).unwrap_or("CLAIM_?")
    }
    /// CLAIM_PREVIOUS, CLAIM_DELEGATE_PREV and CLAIM_DELEG_PREV_FH reclaim state held
    /// before a server restart.
    pub fn is_reclaim(&self) -> bool {
        matches!(
            self,
            OpenClaim::Previous { .. } | OpenClaim::DelegatePrev { .. } | OpenClaim::DelegPrevFh
        )
    }
}

pub fn open_claim(i: &[u8]) -> Res<'_, OpenClaim<'_>> {
    let (i, t) = u32(i)?;
    match t {
        CLAIM_NULL => string(i).map(|(i, file)| (i, OpenClaim::Null { file })),
        CLAIM_PREVIOUS => {
            u32(i).map(|(i, delegate_type)| (i, OpenClaim::Previous { delegate_type }))
        }
        CLAIM_DELEGATE_CUR => {
            let (i, delegate_stateid) = stateid(i)?;
            let (i, file) = string(i)?;
            Ok((
                i,
                OpenClaim::DelegateCur {
                    delegate_stateid,
                    file,
                },
            ))
        }
        CLAIM_DELEGATE_PREV => string(i).map(|(i, file)| (i, OpenClaim::DelegatePrev { file })),
        CLAIM_FH => Ok((i, OpenClaim::Fh)),
        CLAIM_DELEG_CUR_FH => stateid(i).map(|(i, s)| {
            (
                i,
                OpenClaim::DelegCurFh {
                    delegate_stateid: s,
                },
            )
        }),
        CLAIM_DELEG_PREV_FH => Ok((i, OpenClaim::DelegPrevFh)),
        _ => Err(bad("open_claim_type4", t)),
    }
}

/// `OPEN4args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenArgs<'a> {
    pub seqid: u32,
    pub share_access: u32,
    pub share_deny: u32,
    pub owner: StateOwner<'a>,
    /// `None` for OPEN4_NOCREATE.
    pub create: Option<CreateHow<'a>>,
    pub claim: OpenClaim<'a>,
}

impl OpenArgs<'_> {
    pub fn is_reclaim(&self) -> bool {
        self.claim.is_reclaim()
    }
}

pub fn open_args(i: &[u8]) -> Res<'_, OpenArgs<'_>> {
    let (i, seqid) = u32(i)?;
    let (i, share_access) = u32(i)?;
    let (i, share_deny) = u32(i)?;
    let (i, owner) = state_owner(i)?;
    let (i, create) = openflag(i)?;
    let (i, claim) = open_claim(i)?;
    Ok((
        i,
        OpenArgs {
            seqid,
            share_access,
            share_deny,
            owner,
            create,
            claim,
        },
    ))
}

/// `nfs_space_limit4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "limit_by", rename_all = "snake_case")]
pub enum SpaceLimit {
    Size {
        filesize: u64,
    },
    Blocks {
        num_blocks: u32,
        bytes_per_block: u32,
    },
}

fn space_limit(i: &[u8]) -> Res<'_, SpaceLimit> {
    let (i, by) = u32(i)?;
    match by {
        1 => u64(i).map(|(i, filesize)| (i, SpaceLimit::Size { filesize })),
        2 => {
            let (i, num_blocks) = u32(i)?;
            let (i, bytes_per_block) = u32(i)?;
            Ok((
                i,
                SpaceLimit::Blocks {
                    num_blocks,
                    bytes_per_block,
                },
            ))
        }
        _ => Err(bad("limit_by4", by)),
    }
}

/// `open_delegation4`. READ and WRITE also stand for the RFC 9754 *_ATTRS_DELEG types
/// (`attrs_deleg` set), whose bodies are the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "delegation_type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OpenDelegation<'a> {
    None,
    Read {
        stateid: Stateid4<'a>,
        recall: bool,
        permissions: Nfsace4<'a>,
        attrs_deleg: bool,
    },
    Write {
        stateid: Stateid4<'a>,
        recall: bool,
        space_limit: SpaceLimit,
        permissions: Nfsace4<'a>,
        attrs_deleg: bool,
    },
    /// OPEN_DELEGATE_NONE_EXT: why no delegation, and the contention/resource flag.
    NoneExt {
        why: u32,
        server_flag: Option<bool>,
    },
}

impl OpenDelegation<'_> {
    pub fn stateid(&self) -> Option<&Stateid4<'_>> {
        match self {
            OpenDelegation::Read { stateid, .. } | OpenDelegation::Write { stateid, .. } => {
                Some(stateid)
            }
            _ => None,
        }
    }
}

pub fn open_delegation(i: &[u8]) -> Res<'_, OpenDelegation<'_>> {
    let (i, t) = u32(i)?;
    match t {
        0 => Ok((i, OpenDelegation::None)),
        1 | 4 => {
            let (i, stateid) = stateid(i)?;
            let (i, recall) = xbool(i)?;
            let (i, permissions) = nfsace(i)?;
            Ok((
                i,
                OpenDelegation::Read {
                    stateid,
                    recall,
                    permissions,
                    attrs_deleg: t == 4,
                },
            ))
        }
        2 | 5 => {
            let (i, stateid) = stateid(i)?;
            let (i, recall) = xbool(i)?;
            let (i, space_limit) = space_limit(i)?;
            let (i, permissions) = nfsace(i)?;
            Ok((
                i,
                OpenDelegation::Write {
                    stateid,
                    recall,
                    space_limit,
                    permissions,
                    attrs_deleg: t == 5,
                },
            ))
        }
        3 => {
            let (i, why) = u32(i)?;
            let (i, server_flag) = match why {
                1 | 2 => xbool(i).map(|(i, b)| (i, Some(b)))?,
                _ => (i, None),
            };
            Ok((i, OpenDelegation::NoneExt { why, server_flag }))
        }
        _ => Err(bad("open_delegation_type4", t)),
    }
}

/// `OPEN4resok`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenRes<'a> {
    pub stateid: Stateid4<'a>,
    pub cinfo: ChangeInfo,
    pub rflags: u32,
    pub attrset: Bitmap4,
    pub delegation: OpenDelegation<'a>,
}

pub fn open_res(i: &[u8]) -> Res<'_, OpenRes<'_>> {
    let (i, stateid) = stateid(i)?;
    let (i, cinfo) = change_info(i)?;
    let (i, rflags) = u32(i)?;
    let (i, attrset) = bitmap(i)?;
    let (i, delegation) = open_delegation(i)?;
    Ok((
        i,
        OpenRes {
            stateid,
            cinfo,
            rflags,
            attrset,
            delegation,
        },
    ))
}

/// `locker4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "locker")]
pub enum Locker<'a> {
    /// `open_to_lock_owner4` (new_lock_owner TRUE): the first lock of a new lock owner.
    #[serde(rename = "open_to_lock_owner")]
    NewOwner {
        open_seqid: u32,
        open_stateid: Stateid4<'a>,
        lock_seqid: u32,
        lock_owner: StateOwner<'a>,
    },
    /// `exist_lock_owner4` (new_lock_owner FALSE).
    #[serde(rename = "exist_lock_owner")]
    Existing {
        lock_stateid: Stateid4<'a>,
        lock_seqid: u32,
    },
}

/// `LOCK4args`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LockArgs<'a> {
    pub locktype: u32,
    pub reclaim: bool,
    pub offset: u64,
    pub length: u64,
    pub locker: Locker<'a>,
}

pub fn lock_args(i: &[u8]) -> Res<'_, LockArgs<'_>> {
    let (i, locktype) = u32(i)?;
    let (i, reclaim) = xbool(i)?;
    let (i, offset) = u64(i)?;
    let (i, length) = u64(i)?;
    let (i, new_owner) = xbool(i)?;
    let (i, locker) = if new_owner {
        let (i, open_seqid) = u32(i)?;
        let (i, open_stateid) = stateid(i)?;
        let (i, lock_seqid) = u32(i)?;
        let (i, lock_owner) = state_owner(i)?;
        (
            i,
            Locker::NewOwner {
                open_seqid,
                open_stateid,
                lock_seqid,
                lock_owner,
            },
        )
    } else {
        let (i, lock_stateid) = stateid(i)?;
        let (i, lock_seqid) = u32(i)?;
        (
            i,
            Locker::Existing {
                lock_stateid,
                lock_seqid,
            },
        )
    };
    Ok((
        i,
        LockArgs {
            locktype,
            reclaim,
            offset,
            length,
            locker,
        },
    ))
}

/// `LOCKT4args`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LocktArgs<'a> {
    pub locktype: u32,
    pub offset: u64,
    pub length: u64,
    pub owner: StateOwner<'a>,
}

pub fn lockt_args(i: &[u8]) -> Res<'_, LocktArgs<'_>> {
    let (i, locktype) = u32(i)?;
    let (i, offset) = u64(i)?;
    let (i, length) = u64(i)?;
    let (i, owner) = state_owner(i)?;
    Ok((
        i,
        LocktArgs {
            locktype,
            offset,
            length,
            owner,
        },
    ))
}

/// `LOCKU4args`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LockuArgs<'a> {
    pub locktype: u32,
    pub seqid: u32,
    pub lock_stateid: Stateid4<'a>,
    pub offset: u64,
    pub length: u64,
}

pub fn locku_args(i: &[u8]) -> Res<'_, LockuArgs<'_>> {
    let (i, locktype) = u32(i)?;
    let (i, seqid) = u32(i)?;
    let (i, lock_stateid) = stateid(i)?;
    let (i, offset) = u64(i)?;
    let (i, length) = u64(i)?;
    Ok((
        i,
        LockuArgs {
            locktype,
            seqid,
            lock_stateid,
            offset,
            length,
        },
    ))
}

/// `LOCK4denied`: the conflicting lock and its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LockDenied<'a> {
    pub offset: u64,
    pub length: u64,
    pub locktype: u32,
    pub owner: StateOwner<'a>,
}

pub fn lock_denied(i: &[u8]) -> Res<'_, LockDenied<'_>> {
    let (i, offset) = u64(i)?;
    let (i, length) = u64(i)?;
    let (i, locktype) = u32(i)?;
    let (i, owner) = state_owner(i)?;
    Ok((
        i,
        LockDenied {
            offset,
            length,
            locktype,
            owner,
        },
    ))
}

/// A granted LOCK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LockOk<'a> {
    pub lock_stateid: Stateid4<'a>,
}

/// `LOCK4res` beyond a bare status: granted or denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LockRes<'a> {
    Ok(LockOk<'a>),
    Denied(LockDenied<'a>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::{finish, Enc};

    fn sid(e: &mut Enc, seq: u32, b: u8) {
        e.u32(seq).fixed(&[b; 12]);
    }

    #[test]
    fn open_every_claim() {
        type Body = fn(&mut Enc);
        let claims: [(u32, Body); 7] = [
            (0, |e| {
                e.string("f");
            }),
            (1, |e| {
                e.u32(2);
            }),
            (2, |e| {
                sid(e, 1, 3);
                e.string("g");
            }),
            (3, |e| {
                e.string("h");
            }),
            (4, |_| {}),
            (5, |e| sid(e, 2, 4)),
            (6, |_| {}),
        ];
        for (t, body) in claims {
            let mut e = Enc::new();
            e.u32(7)
                .u32(0x0003_0102)
                .u32(0)
                .u64(0x42)
                .opaque(b"own")
                .u32(0)
                .u32(t);
            body(&mut e);
            let o = finish(open_args(&e.buf)).unwrap();
            assert_eq!(o.claim.claim_type(), t);
            assert_eq!(o.is_reclaim(), matches!(t, 1 | 3 | 6), "claim {t}");
            assert_eq!(o.owner.clientid, 0x42);
            assert!(o.create.is_none());
        }
        let mut e = Enc::new();
        e.u32(7)
            .u32(1)
            .u32(0)
            .u64(0x42)
            .opaque(b"own")
            .u32(0)
            .u32(7);
        assert!(finish(open_args(&e.buf)).is_err());
    }

    #[test]
    fn open_createhow_modes() {
        for mode in 0..4u32 {
            let mut e = Enc::new();
            e.u32(1).u32(mode);
            if mode == 2 || mode == 3 {
                e.fixed(&[9; 8]);
            }
            if mode != 2 {
                e.u32(1).u32(1 << 4).opaque(&0u64.to_be_bytes());
            }
            let (rest, how) = openflag(&e.buf).unwrap();
            assert!(rest.is_empty());
            let how = how.unwrap();
            match (mode, how) {
                (0, CreateHow::Unchecked { createattrs })
                | (1, CreateHow::Guarded { createattrs }) => {
                    assert_eq!(createattrs.u64(4), Some(0))
                }
                (2, CreateHow::Exclusive { verifier }) => assert_eq!(verifier.0, &[9; 8]),
                (
                    3,
                    CreateHow::Exclusive41 {
                        verifier,
                        createattrs,
                    },
                ) => {
                    assert_eq!(verifier.0, &[9; 8]);
                    assert_eq!(createattrs.u64(4), Some(0));
                }
                (m, h) => panic!("mode {m} gave {h:?}"),
            }
        }
    }

    #[test]
    fn delegations() {
        let ace = |e: &mut Enc| {
            e.u32(0).u32(0).u32(0).string("");
        };
        let mut e = Enc::new();
        e.u32(2);
        sid(&mut e, 1, 5);
        e.bool(false).u32(2).u32(10).u32(512);
        ace(&mut e);
        let d = finish(open_delegation(&e.buf)).unwrap();
        assert!(matches!(
            d,
            OpenDelegation::Write {
                space_limit: SpaceLimit::Blocks { num_blocks: 10, .. },
                ..
            }
        ));
        assert_eq!(d.stateid().unwrap().seqid, 1);
        let mut e = Enc::new();
        e.u32(4);
        sid(&mut e, 1, 5);
        e.bool(true);
        ace(&mut e);
        assert!(matches!(
            finish(open_delegation(&e.buf)).unwrap(),
            OpenDelegation::Read {
                attrs_deleg: true,
                recall: true,
                ..
            }
        ));
        let mut e = Enc::new();
        e.u32(3).u32(1).bool(true);
        assert_eq!(
            finish(open_delegation(&e.buf)).unwrap(),
            OpenDelegation::NoneExt {
                why: 1,
                server_flag: Some(true)
            }
        );
        let mut e = Enc::new();
        e.u32(3).u32(0);
        assert_eq!(
            finish(open_delegation(&e.buf)).unwrap(),
            OpenDelegation::NoneExt {
                why: 0,
                server_flag: None
            }
        );
    }

    #[test]
    fn lock_both_lockers() {
        let mut e = Enc::new();
        e.u32(2).bool(true).u64(0).u64(u64::MAX).bool(true).u32(3);
        sid(&mut e, 1, 1);
        e.u32(0).u64(9).opaque(b"lo");
        let l = finish(lock_args(&e.buf)).unwrap();
        assert!(l.reclaim);
        assert!(
            matches!(l.locker, Locker::NewOwner { open_seqid: 3, lock_owner, .. } if lock_owner.owner.0 == b"lo")
        );
        let mut e = Enc::new();
        e.u32(1).bool(false).u64(10).u64(20).bool(false);
        sid(&mut e, 4, 2);
        e.u32(8);
        let l = finish(lock_args(&e.buf)).unwrap();
        assert!(
            matches!(l.locker, Locker::Existing { lock_seqid: 8, lock_stateid } if lock_stateid.seqid == 4)
        );
        let j = serde_json::to_value(l).unwrap();
        assert_eq!(j["locker"]["locker"], "exist_lock_owner");
        assert_eq!(j["locker"]["lock_seqid"], 8);
    }

    #[test]
    fn share_access_text_with_wants() {
        assert_eq!(share_access_text(2), "write");
        assert_eq!(share_access_text(0x0301), "read want=WANT_ANY_DELEG");
        assert_eq!(
            share_access_text(0x10_0403),
            "both want=WANT_NO_DELEG WANT_DELEG_TIMESTAMPS"
        );
    }
}
