//! NSM, the Network Status Monitor (program 100024, version 1; XNFS chapter 11).
//!
//! A host's state number is odd while it is up and changes on every restart;
//! SM_NOTIFY is how a rebooted host tells its peers.

use crate::xdr::{self, string, Opaque, Res, XStr, XdrError};
use serde::Serialize;
use std::fmt;

const PROCS: [&str; 7] = ["SM_NULL", "SM_STAT", "SM_MON", "SM_UNMON", "SM_UNMON_ALL", "SM_SIMU_CRASH", "SM_NOTIFY"];

pub fn proc_name(vers: u32, proc_: u32) -> Option<&'static str> {
    if vers != 1 {
        return None;
    }
    PROCS.get(proc_ as usize).copied()
}

/// `my_id`: the RPC procedure statd calls back when a monitored host reboots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MyId<'a> {
    pub my_name: XStr<'a>,
    pub my_prog: u32,
    pub my_vers: u32,
    pub my_proc: u32,
}

/// `mon_id`: which host to watch, and whom to tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonId<'a> {
    pub mon_name: XStr<'a>,
    #[serde(flatten)]
    pub my_id: MyId<'a>,
}

/// `mon`: SM_MON arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mon<'a> {
    #[serde(flatten)]
    pub mon_id: MonId<'a>,
    #[serde(rename = "priv")]
    pub priv_: Opaque<'a>,
}

/// `res`: whether statd agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResStat {
    Succ,
    Fail,
    Unknown(u32),
}

impl ResStat {
    pub fn from_u32(v: u32) -> Self {
        match v {
            0 => ResStat::Succ,
            1 => ResStat::Fail,
            n => ResStat::Unknown(n),
        }
    }
    pub fn code(self) -> u32 {
        match self {
            ResStat::Succ => 0,
            ResStat::Fail => 1,
            ResStat::Unknown(n) => n,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ResStat::Succ => "STAT_SUCC",
            ResStat::Fail => "STAT_FAIL",
            ResStat::Unknown(_) => "UNKNOWN",
        }
    }
}

impl fmt::Display for ResStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResStat::Unknown(n) => write!(f, "UNKNOWN({n})"),
            s => f.write_str(s.name()),
        }
    }
}

/// JSON: `{"name": "STAT_SUCC", "code": 0}`.
impl Serialize for ResStat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ResStat", 2)?;
        st.serialize_field("name", self.name())?;
        st.serialize_field("code", &self.code())?;
        st.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Call<'a> {
    SmNull,
    SmStat { mon_name: XStr<'a> },
    SmMon(Mon<'a>),
    SmUnmon(MonId<'a>),
    SmUnmonAll(MyId<'a>),
    SmSimuCrash,
    /// `stat_chge`: `mon_name` now has state number `state`.
    SmNotify { mon_name: XStr<'a>, state: i32 },
    Unknown { proc_num: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proc", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reply<'a> {
    SmNull,
    /// `sm_stat_res`; `state` is the local statd's state number.
    SmStat { res_stat: ResStat, state: i32 },
    SmMon { res_stat: ResStat, state: i32 },
    /// `sm_stat`.
    SmUnmon { state: i32 },
    SmUnmonAll { state: i32 },
    SmSimuCrash,
    SmNotify,
    Unknown {
        proc_num: u32,
        /// The undecoded result.
        #[serde(skip)]
        body: Opaque<'a>,
    },
}

impl<'a> Call<'a> {
    /// The host name the call is about (SM_STAT, SM_MON, SM_UNMON, SM_NOTIFY).
    pub fn mon_name(&self) -> Option<XStr<'a>> {
        match self {
            Call::SmStat { mon_name } | Call::SmNotify { mon_name, .. } => Some(*mon_name),
            Call::SmMon(m) => Some(m.mon_id.mon_name),
            Call::SmUnmon(m) => Some(m.mon_name),
            _ => None,
        }
    }
}

impl Reply<'_> {
    /// The statd state number the reply reports.
    pub fn state(&self) -> Option<i32> {
        match self {
            Reply::SmStat { state, .. } | Reply::SmMon { state, .. } => Some(*state),
            Reply::SmUnmon { state } | Reply::SmUnmonAll { state } => Some(*state),
            _ => None,
        }
    }
}

fn my_id(i: &[u8]) -> Res<'_, MyId<'_>> {
    let (i, my_name) = string(i)?;
    let (i, my_prog) = xdr::u32(i)?;
    let (i, my_vers) = xdr::u32(i)?;
    let (i, my_proc) = xdr::u32(i)?;
    Ok((i, MyId { my_name, my_prog, my_vers, my_proc }))
}

fn mon_id(i: &[u8]) -> Res<'_, MonId<'_>> {
    let (i, mon_name) = string(i)?;
    let (i, my_id) = my_id(i)?;
    Ok((i, MonId { mon_name, my_id }))
}

fn stat_res(i: &[u8]) -> Res<'_, (ResStat, i32)> {
    let (i, r) = xdr::u32(i)?;
    let (i, state) = xdr::i32(i)?;
    Ok((i, (ResStat::from_u32(r), state)))
}

pub fn decode_call(_vers: u32, proc_: u32, b: &[u8]) -> Result<Call<'_>, XdrError> {
    xdr::finish(match proc_ {
        0 => Ok((b, Call::SmNull)),
        1 => string(b).map(|(i, mon_name)| (i, Call::SmStat { mon_name })),
        2 => {
            let (i, mon_id) = mon_id(b)?;
            let (i, p) = xdr::fixed(16)(i)?;
            Ok((i, Call::SmMon(Mon { mon_id, priv_: Opaque(p) })))
        }
        3 => mon_id(b).map(|(i, m)| (i, Call::SmUnmon(m))),
        4 => my_id(b).map(|(i, m)| (i, Call::SmUnmonAll(m))),
        5 => Ok((b, Call::SmSimuCrash)),
        6 => {
            let (i, mon_name) = string(b)?;
            let (i, state) = xdr::i32(i)?;
            Ok((i, Call::SmNotify { mon_name, state }))
        }
        n => Ok((b, Call::Unknown { proc_num: n })),
    })
}

pub fn decode_reply(_vers: u32, proc_: u32, b: &[u8]) -> Result<Reply<'_>, XdrError> {
    xdr::finish(match proc_ {
        0 => Ok((b, Reply::SmNull)),
        1 => stat_res(b).map(|(i, (res_stat, state))| (i, Reply::SmStat { res_stat, state })),
        2 => stat_res(b).map(|(i, (res_stat, state))| (i, Reply::SmMon { res_stat, state })),
        3 => xdr::i32(b).map(|(i, state)| (i, Reply::SmUnmon { state })),
        4 => xdr::i32(b).map(|(i, state)| (i, Reply::SmUnmonAll { state })),
        5 => Ok((b, Reply::SmSimuCrash)),
        6 => Ok((b, Reply::SmNotify)),
        n => Ok((b, Reply::Unknown { proc_num: n, body: Opaque(b) })),
    })
}

impl fmt::Display for MyId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "my_name {} cb {}/{}/{}", self.my_name, self.my_prog, self.my_vers, self.my_proc)
    }
}

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::SmStat { mon_name } => write!(f, "mon_name {mon_name}"),
            Call::SmMon(m) => write!(f, "mon_name {} {}", m.mon_id.mon_name, m.mon_id.my_id),
            Call::SmUnmon(m) => write!(f, "mon_name {} {}", m.mon_name, m.my_id),
            Call::SmUnmonAll(m) => m.fmt(f),
            Call::SmNotify { mon_name, state } => write!(f, "mon_name {mon_name} state {state}"),
            Call::Unknown { proc_num } => write!(f, "proc {proc_num}"),
            Call::SmNull | Call::SmSimuCrash => Ok(()),
        }
    }
}

impl fmt::Display for Reply<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::SmStat { res_stat, state } | Reply::SmMon { res_stat, state } => {
                write!(f, "{res_stat} state {state}")
            }
            Reply::SmUnmon { state } | Reply::SmUnmonAll { state } => write!(f, "state {state}"),
            Reply::Unknown { proc_num, .. } => write!(f, "proc {proc_num}"),
            Reply::SmNull | Reply::SmSimuCrash | Reply::SmNotify => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xdr::Enc;

    fn mon_bytes() -> Vec<u8> {
        let mut e = Enc::new();
        e.string("127.0.10.1").string("127.0.0.2").u32(100021).u32(4).u32(16).fixed(&[0xab; 16]);
        e.into_vec()
    }

    #[test]
    fn names() {
        assert_eq!(proc_name(1, 0), Some("SM_NULL"));
        assert_eq!(proc_name(1, 6), Some("SM_NOTIFY"));
        assert_eq!(proc_name(1, 7), None);
        assert_eq!(proc_name(2, 1), None);
    }

    #[test]
    fn every_call() {
        assert_eq!(decode_call(1, 0, &[]).unwrap(), Call::SmNull);
        let mut e = Enc::new();
        e.string("server-1");
        let c = decode_call(1, 1, &e.buf).unwrap();
        assert_eq!(c.mon_name().unwrap().0, b"server-1");
        assert_eq!(c.to_string(), "mon_name server-1");

        let b = mon_bytes();
        let c = decode_call(1, 2, &b).unwrap();
        let Call::SmMon(m) = &c else { panic!("{c:?}") };
        assert_eq!(m.mon_id.my_id, MyId { my_name: XStr(b"127.0.0.2"), my_prog: 100021, my_vers: 4, my_proc: 16 });
        assert_eq!(m.priv_.0, &[0xab; 16]);
        assert_eq!(c.to_string(), "mon_name 127.0.10.1 my_name 127.0.0.2 cb 100021/4/16");
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!((j["proc"].as_str(), j["mon_name"].as_str(), j["my_prog"].as_u64()), (Some("SM_MON"), Some("127.0.10.1"), Some(100021)));
        assert_eq!(j["priv"], "ab".repeat(16));

        let c = decode_call(1, 3, &b[..b.len() - 16]).unwrap();
        assert_eq!(c.to_string(), "mon_name 127.0.10.1 my_name 127.0.0.2 cb 100021/4/16");
        assert!(matches!(c, Call::SmUnmon(_)));

        let c = decode_call(1, 4, &b[16..b.len() - 16]).unwrap();
        assert_eq!(c.to_string(), "my_name 127.0.0.2 cb 100021/4/16");
        assert_eq!(c.mon_name(), None);

        assert_eq!(decode_call(1, 5, &[]).unwrap(), Call::SmSimuCrash);

        let mut e = Enc::new();
        e.string("client-a").i32(3);
        let c = decode_call(1, 6, &e.buf).unwrap();
        assert_eq!(c, Call::SmNotify { mon_name: XStr(b"client-a"), state: 3 });
        assert_eq!(c.to_string(), "mon_name client-a state 3");
        assert_eq!(serde_json::to_value(&c).unwrap()["proc"], "SM_NOTIFY");

        assert_eq!(decode_call(1, 42, &[1]).unwrap(), Call::Unknown { proc_num: 42 });
    }

    #[test]
    fn every_reply() {
        assert_eq!(decode_reply(1, 0, &[]).unwrap(), Reply::SmNull);
        let r = decode_reply(1, 1, &[0, 0, 0, 0, 0, 0, 0, 5]).unwrap();
        assert_eq!(r, Reply::SmStat { res_stat: ResStat::Succ, state: 5 });
        assert_eq!(r.to_string(), "STAT_SUCC state 5");
        let r = decode_reply(1, 2, &[0, 0, 0, 1, 0, 0, 0, 7]).unwrap();
        assert_eq!(r.to_string(), "STAT_FAIL state 7");
        assert_eq!(serde_json::to_value(&r).unwrap()["res_stat"]["code"], 1);
        let r = decode_reply(1, 2, &[0, 0, 0, 9, 0, 0, 0, 7]).unwrap();
        assert_eq!(r.to_string(), "UNKNOWN(9) state 7");
        assert_eq!(decode_reply(1, 3, &[0, 0, 0, 3]).unwrap().state(), Some(3));
        assert_eq!(decode_reply(1, 4, &[0, 0, 0, 4]).unwrap(), Reply::SmUnmonAll { state: 4 });
        assert_eq!(decode_reply(1, 5, &[]).unwrap(), Reply::SmSimuCrash);
        assert_eq!(decode_reply(1, 6, &[]).unwrap(), Reply::SmNotify);
        assert_eq!(decode_reply(1, 6, &[]).unwrap().state(), None);
        assert_eq!(decode_reply(1, 8, &[1, 2]).unwrap(), Reply::Unknown { proc_num: 8, body: Opaque(&[1, 2]) });
    }

    #[test]
    fn truncated_and_hostile() {
        let b = mon_bytes();
        for n in 0..b.len() {
            assert!(decode_call(1, 2, &b[..n]).is_err(), "prefix {n}");
        }
        assert!(decode_reply(1, 1, &[0, 0, 0, 0, 0, 0]).is_err());
        let mut e = Enc::new();
        e.u32(0xffff_ffff).i32(1);
        assert!(matches!(decode_call(1, 6, &e.buf), Err(XdrError::BadLength { .. })));
    }
}
