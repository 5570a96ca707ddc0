//! `nfsstat4` (RFC 7530 §13, RFC 8881 §15, RFC 7862 §11, RFC 8276 §8.3): every defined
//! value by name; unknown values stay numbers.

use serde::{Serialize, Serializer};
use std::fmt;

pub const NFS4_OK: u32 = 0;
pub const NFS4ERR_TOOSMALL: u32 = 10005;
pub const NFS4ERR_DENIED: u32 = 10010;
pub const NFS4ERR_GRACE: u32 = 10013;
pub const NFS4ERR_CLID_INUSE: u32 = 10017;
pub const NFS4ERR_STALE_CLIENTID: u32 = 10022;
pub const NFS4ERR_STALE_STATEID: u32 = 10023;
pub const NFS4ERR_NO_GRACE: u32 = 10033;
pub const NFS4ERR_RECLAIM_BAD: u32 = 10034;
pub const NFS4ERR_RECLAIM_CONFLICT: u32 = 10035;
pub const NFS4ERR_OP_ILLEGAL: u32 = 10044;
pub const NFS4ERR_BADSESSION: u32 = 10052;
pub const NFS4ERR_COMPLETE_ALREADY: u32 = 10054;
pub const NFS4ERR_LAYOUTTRYLATER: u32 = 10058;
pub const NFS4ERR_OFFLOAD_NO_REQS: u32 = 10094;

/// Small errors shared with NFSv3 (0..=70).
const LOW: [(u32, &str); 19] = [
    (0, "NFS4_OK"),
    (1, "NFS4ERR_PERM"),
    (2, "NFS4ERR_NOENT"),
    (5, "NFS4ERR_IO"),
    (6, "NFS4ERR_NXIO"),
    (13, "NFS4ERR_ACCESS"),
    (17, "NFS4ERR_EXIST"),
    (18, "NFS4ERR_XDEV"),
    (20, "NFS4ERR_NOTDIR"),
    (21, "NFS4ERR_ISDIR"),
    (22, "NFS4ERR_INVAL"),
    (27, "NFS4ERR_FBIG"),
    (28, "NFS4ERR_NOSPC"),
    (30, "NFS4ERR_ROFS"),
    (31, "NFS4ERR_MLINK"),
    (63, "NFS4ERR_NAMETOOLONG"),
    (66, "NFS4ERR_NOTEMPTY"),
    (69, "NFS4ERR_DQUOT"),
    (70, "NFS4ERR_STALE"),
];

/// Errors 10001..=10096, indexed by `value - 10001` ("" = unassigned).
const HIGH: [&str; 96] = [
    "NFS4ERR_BADHANDLE",                 // 10001
    "",                                  // 10002 (unassigned)
    "NFS4ERR_BAD_COOKIE",                // 10003
    "NFS4ERR_NOTSUPP",                   // 10004
    "NFS4ERR_TOOSMALL",                  // 10005
    "NFS4ERR_SERVERFAULT",               // 10006
    "NFS4ERR_BADTYPE",                   // 10007
    "NFS4ERR_DELAY",                     // 10008
    "NFS4ERR_SAME",                      // 10009
    "NFS4ERR_DENIED",                    // 10010
    "NFS4ERR_EXPIRED",                   // 10011
    "NFS4ERR_LOCKED",                    // 10012
    "NFS4ERR_GRACE",                     // 10013
    "NFS4ERR_FHEXPIRED",                 // 10014
    "NFS4ERR_SHARE_DENIED",              // 10015
    "NFS4ERR_WRONGSEC",                  // 10016
    "NFS4ERR_CLID_INUSE",                // 10017
    "NFS4ERR_RESOURCE",                  // 10018
    "NFS4ERR_MOVED",                     // 10019
    "NFS4ERR_NOFILEHANDLE",              // 10020
    "NFS4ERR_MINOR_VERS_MISMATCH",       // 10021
    "NFS4ERR_STALE_CLIENTID",            // 10022
    "NFS4ERR_STALE_STATEID",             // 10023
    "NFS4ERR_OLD_STATEID",               // 10024
    "NFS4ERR_BAD_STATEID",               // 10025
    "NFS4ERR_BAD_SEQID",                 // 10026
    "NFS4ERR_NOT_SAME",                  // 10027
    "NFS4ERR_LOCK_RANGE",                // 10028
    "NFS4ERR_SYMLINK",                   // 10029
    "NFS4ERR_RESTOREFH",                 // 10030
    "NFS4ERR_LEASE_MOVED",               // 10031
    "NFS4ERR_ATTRNOTSUPP",               // 10032
    "NFS4ERR_NO_GRACE",                  // 10033
    "NFS4ERR_RECLAIM_BAD",               // 10034
    "NFS4ERR_RECLAIM_CONFLICT",          // 10035
    "NFS4ERR_BADXDR",                    // 10036
    "NFS4ERR_LOCKS_HELD",                // 10037
    "NFS4ERR_OPENMODE",                  // 10038
    "NFS4ERR_BADOWNER",                  // 10039
    "NFS4ERR_BADCHAR",                   // 10040
    "NFS4ERR_BADNAME",                   // 10041
    "NFS4ERR_BAD_RANGE",                 // 10042
    "NFS4ERR_LOCK_NOTSUPP",              // 10043
    "NFS4ERR_OP_ILLEGAL",                // 10044
    "NFS4ERR_DEADLOCK",                  // 10045
    "NFS4ERR_FILE_OPEN",                 // 10046
    "NFS4ERR_ADMIN_REVOKED",             // 10047
    "NFS4ERR_CB_PATH_DOWN",              // 10048
    "NFS4ERR_BADIOMODE",                 // 10049
    "NFS4ERR_BADLAYOUT",                 // 10050
    "NFS4ERR_BAD_SESSION_DIGEST",        // 10051
    "NFS4ERR_BADSESSION",                // 10052
    "NFS4ERR_BADSLOT",                   // 10053
    "NFS4ERR_COMPLETE_ALREADY",          // 10054
    "NFS4ERR_CONN_NOT_BOUND_TO_SESSION", // 10055
    "NFS4ERR_DELEG_ALREADY_WANTED",      // 10056
    "NFS4ERR_BACK_CHAN_BUSY",            // 10057
    "NFS4ERR_LAYOUTTRYLATER",            // 10058
    "NFS4ERR_LAYOUTUNAVAILABLE",         // 10059
    "NFS4ERR_NOMATCHING_LAYOUT",         // 10060
    "NFS4ERR_RECALLCONFLICT",            // 10061
    "NFS4ERR_UNKNOWN_LAYOUTTYPE",        // 10062
    "NFS4ERR_SEQ_MISORDERED",            // 10063
    "NFS4ERR_SEQUENCE_POS",              // 10064
    "NFS4ERR_REQ_TOO_BIG",               // 10065
    "NFS4ERR_REP_TOO_BIG",               // 10066
    "NFS4ERR_REP_TOO_BIG_TO_CACHE",      // 10067
    "NFS4ERR_RETRY_UNCACHED_REP",        // 10068
    "NFS4ERR_UNSAFE_COMPOUND",           // 10069
    "NFS4ERR_TOO_MANY_OPS",              // 10070
    "NFS4ERR_OP_NOT_IN_SESSION",         // 10071
    "NFS4ERR_HASH_ALG_UNSUPP",           // 10072
    "",                                  // 10073 (unused)
    "NFS4ERR_CLIENTID_BUSY",             // 10074
    "NFS4ERR_PNFS_IO_HOLE",              // 10075
    "NFS4ERR_SEQ_FALSE_RETRY",           // 10076
    "NFS4ERR_BAD_HIGH_SLOT",             // 10077
    "NFS4ERR_DEADSESSION",               // 10078
    "NFS4ERR_ENCR_ALG_UNSUPP",           // 10079
    "NFS4ERR_PNFS_NO_LAYOUT",            // 10080
    "NFS4ERR_NOT_ONLY_OP",               // 10081
    "NFS4ERR_WRONG_CRED",                // 10082
    "NFS4ERR_WRONG_TYPE",                // 10083
    "NFS4ERR_DIRDELEG_UNAVAIL",          // 10084
    "NFS4ERR_REJECT_DELEG",              // 10085
    "NFS4ERR_RETURNCONFLICT",            // 10086
    "NFS4ERR_DELEG_REVOKED",             // 10087
    "NFS4ERR_PARTNER_NOTSUPP",           // 10088
    "NFS4ERR_PARTNER_NO_AUTH",           // 10089
    "NFS4ERR_UNION_NOTSUPP",             // 10090
    "NFS4ERR_OFFLOAD_DENIED",            // 10091
    "NFS4ERR_WRONG_LFS",                 // 10092
    "NFS4ERR_BADLABEL",                  // 10093
    "NFS4ERR_OFFLOAD_NO_REQS",           // 10094
    "NFS4ERR_NOXATTR",                   // 10095
    "NFS4ERR_XATTR2BIG",                 // 10096
];

/// The name of an `nfsstat4` value, if it is a defined one.
pub fn status_name(v: u32) -> Option<&'static str> {
    if v >= 10001 {
        let n = *HIGH.get((v - 10001) as usize)?;
        return (!n.is_empty()).then_some(n);
    }
    LOW.iter().find(|(k, _)| *k == v).map(|(_, n)| *n)
}

/// An `nfsstat4` value. Serialises as `{"code": n, "name": "NFS4ERR_..."|null}`;
/// displays as the name, or the number when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Nfsstat4(pub u32);

impl Nfsstat4 {
    pub const OK: Nfsstat4 = Nfsstat4(NFS4_OK);

    pub fn code(self) -> u32 {
        self.0
    }
    pub fn name(self) -> Option<&'static str> {
        status_name(self.0)
    }
    pub fn is_ok(self) -> bool {
        self.0 == NFS4_OK
    }
}

impl fmt::Display for Nfsstat4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "nfsstat4({})", self.0),
        }
    }
}

impl Serialize for Nfsstat4 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Nfsstat4", 2)?;
        st.serialize_field("code", &self.0)?;
        st.serialize_field("name", &self.name())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_for_grace_and_session_errors() {
        assert_eq!(status_name(0), Some("NFS4_OK"));
        assert_eq!(status_name(70), Some("NFS4ERR_STALE"));
        assert_eq!(status_name(10013), Some("NFS4ERR_GRACE"));
        assert_eq!(status_name(10022), Some("NFS4ERR_STALE_CLIENTID"));
        assert_eq!(status_name(10023), Some("NFS4ERR_STALE_STATEID"));
        assert_eq!(status_name(10033), Some("NFS4ERR_NO_GRACE"));
        assert_eq!(status_name(10034), Some("NFS4ERR_RECLAIM_BAD"));
        assert_eq!(status_name(10035), Some("NFS4ERR_RECLAIM_CONFLICT"));
        assert_eq!(status_name(10052), Some("NFS4ERR_BADSESSION"));
        assert_eq!(status_name(10054), Some("NFS4ERR_COMPLETE_ALREADY"));
        assert_eq!(status_name(10074), Some("NFS4ERR_CLIENTID_BUSY"));
        assert_eq!(status_name(10094), Some("NFS4ERR_OFFLOAD_NO_REQS"));
        assert_eq!(status_name(10096), Some("NFS4ERR_XATTR2BIG"));
    }

    #[test]
    fn table_is_consistent() {
        // Every name in the high table sits at its number: spot-check the ends and
        // that each name appears once.
        let mut seen = std::collections::HashSet::new();
        for v in 10001..=10096u32 {
            if let Some(n) = status_name(v) {
                assert!(seen.insert(n), "{n} twice");
            }
        }
        assert_eq!(seen.len(), 94);
    }

    #[test]
    fn unknown_values_stay_numbers() {
        assert_eq!(status_name(3), None);
        assert_eq!(status_name(10002), None);
        assert_eq!(status_name(10073), None);
        assert_eq!(status_name(10097), None);
        assert_eq!(status_name(u32::MAX), None);
        assert_eq!(Nfsstat4(4242).to_string(), "nfsstat4(4242)");
        assert_eq!(Nfsstat4(10013).to_string(), "NFS4ERR_GRACE");
        let j = serde_json::to_string(&Nfsstat4(10033)).unwrap();
        assert_eq!(j, r#"{"code":10033,"name":"NFS4ERR_NO_GRACE"}"#);
        let j = serde_json::to_string(&Nfsstat4(9)).unwrap();
        assert_eq!(j, r#"{"code":9,"name":null}"#);
    }
}
