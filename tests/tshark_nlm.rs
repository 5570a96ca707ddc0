//! NLM and NSM as gracewatch and tshark decode them, message by message, on every
//! capture of the project's lab: procedure, `nlm.reclaim`, lock range, status, and the
//! NSM procedure and host name. (The public pool has no NLM.)

mod common;

use common::{captures_below, have, skip};
use gracewatch::capture::{self, Input};
use gracewatch::pipeline::{Config, Sink};
use gracewatch::proto::{nsm, CallBody, ReplyBody, NLM, NSM};
use gracewatch::rpc::{Kind, Message};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// What both decoders say of one NLM/NSM message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct View {
    proc_: Option<u32>,
    reclaim: Option<bool>,
    offset: Option<u64>,
    len: Option<u64>,
    stat: Option<u32>,
    mon_name: Option<String>,
}

#[derive(Default)]
struct Ours(BTreeMap<(u64, u32, bool), View>);

impl Sink for Ours {
    fn message(&mut self, m: &Message<'_>) {
        let Some(id) = m.proc_id().filter(|i| !i.cb && (i.prog == NLM || i.prog == NSM)) else { return };
        let mut v = View { proc_: Some(id.proc_), ..View::default() };
        match &m.kind {
            Kind::Call { body: CallBody::Nlm(c), .. } => {
                v.reclaim = c.reclaim();
                if let Some(l) = c.lock() {
                    v.offset = Some(l.offset);
                    v.len = Some(l.len);
                }
                v.stat = c.stat().map(|s| s.code());
                if let Some(h) = c.holder() {
                    v.offset = Some(h.offset);
                    v.len = Some(h.len);
                }
            }
            Kind::Call { body: CallBody::Nsm(c), .. } => {
                v.mon_name = match c {
                    nsm::Call::SmMon(mon) => Some(mon.mon_id.mon_name.as_str_lossy().into_owned()),
                    nsm::Call::SmUnmon(id) => Some(id.mon_name.as_str_lossy().into_owned()),
                    nsm::Call::SmNotify { mon_name, .. } | nsm::Call::SmStat { mon_name } => Some(mon_name.as_str_lossy().into_owned()),
                    _ => None,
                };
            }
            Kind::Reply { body: ReplyBody::Nlm(r), .. } => {
                v.stat = r.stat().map(|s| s.code());
                // a TEST answered DENIED names the holder's range
                if let Some(h) = r.holder() {
                    v.offset = Some(h.offset);
                    v.len = Some(h.len);
                }
            }
            _ => {}
        }
        self.0.insert((m.at.frame, m.xid, !m.is_call()), v);
    }
}

fn first<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.split(',').next().filter(|x| !x.is_empty()).and_then(|x| x.trim().parse().ok())
}

fn theirs(path: &Path) -> BTreeMap<(u64, u32, bool), View> {
    let fields = [
        "frame.number", "rpc.xid", "rpc.msgtyp", "rpc.program", "rpc.procedure", "nlm.reclaim", "nlm.lock.l_offset64", "nlm.lock.l_offset",
        "nlm.lock.l_len64", "nlm.lock.l_len", "nlm.stat", "nlm.test_stat.stat", "stat.mon_id.name", "stat.name",
    ];
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(path).args(gracewatch::lab::tshark::decode_as());
    cmd.args(["-Y", "nlm || stat", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark");
    let mut m = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < fields.len() {
            continue;
        }
        let (Some(frame), Some(xid)) = (first::<u64>(f[0]), f[1].split(',').next().and_then(|x| u32::from_str_radix(x.trim_start_matches("0x"), 16).ok())) else { continue };
        let reply = first::<u32>(f[2]) == Some(1);
        let prog = first::<u32>(f[3]);
        let v = View {
            proc_: first(f[4]),
            reclaim: if prog == Some(NLM) { first::<u32>(f[5]).map(|r| r != 0) } else { None },
            offset: first(f[6]).or_else(|| first(f[7])),
            len: first(f[8]).or_else(|| first(f[9])),
            stat: first(f[10]).or_else(|| first(f[11])),
            mon_name: if prog == Some(NSM) && !reply { f[12].split(',').next().or(f[13].split(',').next()).filter(|x| !x.is_empty()).map(str::to_string) } else { None },
        };
        m.insert((frame, xid, reply), v);
    }
    m
}

#[test]
fn nlm_and_nsm_agree_with_tshark_on_lab_captures() {
    if !have("tshark") {
        return skip("tshark is not installed");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let (mut compared, mut bad) = (0usize, Vec::new());
    for f in captures_below(&dir) {
        let t = theirs(&f);
        let mut o = Ours::default();
        capture::run(&Input::Files(vec![f.to_string_lossy().into_owned()]), Config::default(), &mut o).expect("decode");
        for (k, tv) in &t {
            compared += 1;
            let ov = o.0.get(k).cloned().unwrap_or_default();
            // tshark names the NSM host only where its dissector reads it; compare when it does
            let ov = View { mon_name: if tv.mon_name.is_some() { ov.mon_name } else { None }, ..ov };
            if &ov != tv {
                bad.push(format!("{} frame {} xid {:#x}: tshark {tv:?}, gracewatch {ov:?}", f.display(), k.0, k.1));
            }
        }
        // and gracewatch sees no NLM/NSM message tshark does not
        for k in o.0.keys().filter(|k| !t.contains_key(k)) {
            bad.push(format!("{} frame {} xid {:#x}: only gracewatch decodes it", f.display(), k.0, k.1));
        }
    }
    assert!(compared > 1000, "too few NLM/NSM messages compared: {compared}");
    assert!(bad.is_empty(), "{} of {compared} differ:\n{}", bad.len(), bad[..bad.len().min(20)].join("\n"));
}
