//! NFSv4 operation numbers: names and the minor version that defines each one.

pub const OP_ACCESS: u32 = 3;
pub const OP_CLOSE: u32 = 4;
pub const OP_COMMIT: u32 = 5;
pub const OP_CREATE: u32 = 6;
pub const OP_DELEGPURGE: u32 = 7;
pub const OP_DELEGRETURN: u32 = 8;
pub const OP_GETATTR: u32 = 9;
pub const OP_GETFH: u32 = 10;
pub const OP_LINK: u32 = 11;
pub const OP_LOCK: u32 = 12;
pub const OP_LOCKT: u32 = 13;
pub const OP_LOCKU: u32 = 14;
pub const OP_LOOKUP: u32 = 15;
pub const OP_LOOKUPP: u32 = 16;
pub const OP_NVERIFY: u32 = 17;
pub const OP_OPEN: u32 = 18;
pub const OP_OPENATTR: u32 = 19;
pub const OP_OPEN_CONFIRM: u32 = 20;
pub const OP_OPEN_DOWNGRADE: u32 = 21;
pub const OP_PUTFH: u32 = 22;
pub const OP_PUTPUBFH: u32 = 23;
pub const OP_PUTROOTFH: u32 = 24;
pub const OP_READ: u32 = 25;
pub const OP_READDIR: u32 = 26;
pub const OP_READLINK: u32 = 27;
pub const OP_REMOVE: u32 = 28;
pub const OP_RENAME: u32 = 29;
pub const OP_RENEW: u32 = 30;
pub const OP_RESTOREFH: u32 = 31;
pub const OP_SAVEFH: u32 = 32;
pub const OP_SECINFO: u32 = 33;
pub const OP_SETATTR: u32 = 34;
pub const OP_SETCLIENTID: u32 = 35;
pub const OP_SETCLIENTID_CONFIRM: u32 = 36;
pub const OP_VERIFY: u32 = 37;
pub const OP_WRITE: u32 = 38;
pub const OP_RELEASE_LOCKOWNER: u32 = 39;
pub const OP_BACKCHANNEL_CTL: u32 = 40;
pub const OP_BIND_CONN_TO_SESSION: u32 = 41;
pub const OP_EXCHANGE_ID: u32 = 42;
pub const OP_CREATE_SESSION: u32 = 43;
pub const OP_DESTROY_SESSION: u32 = 44;
pub const OP_FREE_STATEID: u32 = 45;
pub const OP_GET_DIR_DELEGATION: u32 = 46;
pub const OP_GETDEVICEINFO: u32 = 47;
pub const OP_GETDEVICELIST: u32 = 48;
pub const OP_LAYOUTCOMMIT: u32 = 49;
pub const OP_LAYOUTGET: u32 = 50;
pub const OP_LAYOUTRETURN: u32 = 51;
pub const OP_SECINFO_NO_NAME: u32 = 52;
pub const OP_SEQUENCE: u32 = 53;
pub const OP_SET_SSV: u32 = 54;
pub const OP_TEST_STATEID: u32 = 55;
pub const OP_WANT_DELEGATION: u32 = 56;
pub const OP_DESTROY_CLIENTID: u32 = 57;
pub const OP_RECLAIM_COMPLETE: u32 = 58;
pub const OP_ALLOCATE: u32 = 59;
pub const OP_COPY: u32 = 60;
pub const OP_COPY_NOTIFY: u32 = 61;
pub const OP_DEALLOCATE: u32 = 62;
pub const OP_IO_ADVISE: u32 = 63;
pub const OP_LAYOUTERROR: u32 = 64;
pub const OP_LAYOUTSTATS: u32 = 65;
pub const OP_OFFLOAD_CANCEL: u32 = 66;
pub const OP_OFFLOAD_STATUS: u32 = 67;
pub const OP_READ_PLUS: u32 = 68;
pub const OP_SEEK: u32 = 69;
pub const OP_WRITE_SAME: u32 = 70;
pub const OP_CLONE: u32 = 71;
pub const OP_GETXATTR: u32 = 72;
pub const OP_SETXATTR: u32 = 73;
pub const OP_LISTXATTRS: u32 = 74;
pub const OP_REMOVEXATTR: u32 = 75;
pub const OP_ILLEGAL: u32 = 10044;

/// Operations 3..=75 by `op - 3`.
const NAMES: [&str; 73] = [
    "ACCESS",
    "CLOSE",
    "COMMIT",
    "CREATE",
    "DELEGPURGE",
    "DELEGRETURN",
    "GETATTR",
    "GETFH",
    "LINK",
    "LOCK",
    "LOCKT",
    "LOCKU",
    "LOOKUP",
    "LOOKUPP",
    "NVERIFY",
    "OPEN",
    "OPENATTR",
    "OPEN_CONFIRM",
    "OPEN_DOWNGRADE",
    "PUTFH",
    "PUTPUBFH",
    "PUTROOTFH",
    "READ",
    "READDIR",
    "READLINK",
    "REMOVE",
    "RENAME",
    "RENEW",
    "RESTOREFH",
    "SAVEFH",
    "SECINFO",
    "SETATTR",
    "SETCLIENTID",
    "SETCLIENTID_CONFIRM",
    "VERIFY",
    "WRITE",
    "RELEASE_LOCKOWNER",
    "BACKCHANNEL_CTL",
    "BIND_CONN_TO_SESSION",
    "EXCHANGE_ID",
    "CREATE_SESSION",
    "DESTROY_SESSION",
    "FREE_STATEID",
    "GET_DIR_DELEGATION",
    "GETDEVICEINFO",
    "GETDEVICELIST",
    "LAYOUTCOMMIT",
    "LAYOUTGET",
    "LAYOUTRETURN",
    "SECINFO_NO_NAME",
    "SEQUENCE",
    "SET_SSV",
    "TEST_STATEID",
    "WANT_DELEGATION",
    "DESTROY_CLIENTID",
    "RECLAIM_COMPLETE",
    "ALLOCATE",
    "COPY",
    "COPY_NOTIFY",
    "DEALLOCATE",
    "IO_ADVISE",
    "LAYOUTERROR",
    "LAYOUTSTATS",
    "OFFLOAD_CANCEL",
    "OFFLOAD_STATUS",
    "READ_PLUS",
    "SEEK",
    "WRITE_SAME",
    "CLONE",
    "GETXATTR",
    "SETXATTR",
    "LISTXATTRS",
    "REMOVEXATTR",
];

/// The name of operation `op`, if defined.
pub fn op_name(op: u32) -> Option<&'static str> {
    if op == OP_ILLEGAL {
        return Some("ILLEGAL");
    }
    NAMES.get(op.checked_sub(3)? as usize).copied()
}

/// The minor version that introduced `op` (xattr ops are NFSv4.2 extensions).
pub fn op_minor(op: u32) -> Option<u32> {
    match op {
        3..=39 | OP_ILLEGAL => Some(0),
        40..=58 => Some(1),
        59..=75 => Some(2),
        _ => None,
    }
}

/// Operations NFSv4.1 and later forbid (RFC 8881 §18: "MUST NOT be used").
pub fn op_removed_in_41(op: u32) -> bool {
    matches!(
        op,
        OP_OPEN_CONFIRM | OP_RENEW | OP_SETCLIENTID | OP_SETCLIENTID_CONFIRM | OP_RELEASE_LOCKOWNER
    )
}

/// Why `op` does not belong in a COMPOUND of `minor`, if it does not.
pub fn minor_note(op: u32, minor: u32) -> Option<&'static str> {
    let introduced = op_minor(op)?;
    if introduced > minor {
        return Some(match introduced {
            1 => "operation not defined before NFSv4.1",
            _ => "operation not defined before NFSv4.2",
        });
    }
    if minor >= 1 && op_removed_in_41(op) {
        return Some("operation not allowed in NFSv4.1 and later");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_numbers() {
        assert_eq!(op_name(OP_ACCESS), Some("ACCESS"));
        assert_eq!(op_name(OP_LOCK), Some("LOCK"));
        assert_eq!(op_name(OP_OPEN), Some("OPEN"));
        assert_eq!(op_name(OP_RELEASE_LOCKOWNER), Some("RELEASE_LOCKOWNER"));
        assert_eq!(op_name(OP_SEQUENCE), Some("SEQUENCE"));
        assert_eq!(op_name(OP_RECLAIM_COMPLETE), Some("RECLAIM_COMPLETE"));
        assert_eq!(op_name(OP_CLONE), Some("CLONE"));
        assert_eq!(op_name(OP_REMOVEXATTR), Some("REMOVEXATTR"));
        assert_eq!(op_name(OP_ILLEGAL), Some("ILLEGAL"));
        assert_eq!(op_name(0), None);
        assert_eq!(op_name(2), None);
        assert_eq!(op_name(76), None);
    }

    #[test]
    fn minor_version_checks() {
        assert_eq!(
            minor_note(OP_SEQUENCE, 0),
            Some("operation not defined before NFSv4.1")
        );
        assert_eq!(minor_note(OP_SEQUENCE, 1), None);
        assert_eq!(
            minor_note(OP_COPY, 1),
            Some("operation not defined before NFSv4.2")
        );
        assert_eq!(
            minor_note(OP_SETCLIENTID, 1),
            Some("operation not allowed in NFSv4.1 and later")
        );
        assert_eq!(minor_note(OP_SETCLIENTID, 0), None);
        assert_eq!(minor_note(OP_LOCK, 2), None);
        assert_eq!(minor_note(999, 0), None);
    }
}
