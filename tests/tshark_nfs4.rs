//! NFSv4 COMPOUNDs as gracewatch and tshark see them: the operation list and the
//! `nfsstat4` values of every NFSv4 message, frame by frame, over the public pool and
//! the project's own lab captures. At least 99.5% must agree.
//!
//! tshark 4.0 lists under `nfs.nfsstat4` more than the per-operation statuses (the
//! COMPOUND status, TEST_STATEID's codes, rdattr_error attributes), and it has three
//! decoding faults the comparison reproduces rather than counts against gracewatch:
//! the operations of an SP4_MACH_CRED bitmap appear under `nfs.opcode`, and it stops
//! at GET_DIR_DELEGATION and at an OPEN_DELEGATE_NONE_EXT for contention/resource.

mod common;

use common::{captures_below, have, pool, skip};
use gracewatch::capture::{self, Input};
use gracewatch::pipeline::{Config, Sink};
use gracewatch::proto::nfs4::attrs::{AttrVal, Fattr4};
use gracewatch::proto::nfs4::ops::OP_GET_DIR_DELEGATION;
use gracewatch::proto::nfs4::session::{StateProtectA, StateProtectOps, StateProtectR};
use gracewatch::proto::nfs4::{Compound, CompoundRes, OpArgs, OpRes, OpenDelegation};
use gracewatch::proto::{CallBody, ReplyBody, NFS};
use gracewatch::rpc::{Kind, Message};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn mach_cred_bits(ops: &StateProtectOps, out: &mut Vec<u32>) {
    out.extend(ops.must_enforce.bits());
    out.extend(ops.must_allow.bits());
}

fn call_view(c: &Compound<'_>, ops: &mut Vec<u32>) {
    for op in &c.ops {
        ops.push(op.op);
        match &op.args {
            OpArgs::ExchangeId(x) => {
                if let StateProtectA::MachCred { ops: o } = &x.state_protect {
                    mach_cred_bits(o, ops);
                }
            }
            OpArgs::GetDirDelegation { .. } => return,
            _ => {}
        }
    }
}

fn rdattr_errors(a: &Fattr4<'_>, st: &mut Vec<u32>) {
    if let Some(AttrVal::Status(s)) = a.get(11) {
        st.push(s.0);
    }
}

fn reply_view(r: &CompoundRes<'_>, ops: &mut Vec<u32>, st: &mut Vec<u32>) {
    st.push(r.status.0);
    for op in &r.ops {
        ops.push(op.num());
        if op.num() == OP_GET_DIR_DELEGATION {
            return;
        }
        st.push(op.status().0);
        match op {
            OpRes::TestStateid(t) => st.extend(t.status_codes.iter().map(|s| s.0)),
            OpRes::ExchangeId(x) => {
                if let StateProtectR::MachCred { ops: o } = &x.state_protect {
                    mach_cred_bits(o, ops);
                }
            }
            OpRes::Getattr(g) => rdattr_errors(&g.obj_attributes, st),
            OpRes::Readdir(d) => d.entries.iter().for_each(|e| rdattr_errors(&e.attrs, st)),
            OpRes::Open(o) if matches!(o.delegation, OpenDelegation::NoneExt { why: 1 | 2, .. }) => return,
            _ => {}
        }
    }
}

/// Per frame: (number of NFSv4 COMPOUNDs, opcodes, statuses), in message order.
type View = BTreeMap<u64, (usize, Vec<u32>, Vec<u32>)>;

#[derive(Default)]
struct Ours(View);

impl Sink for Ours {
    fn message(&mut self, m: &Message<'_>) {
        let is_compound = m.proc_id().is_some_and(|i| i.prog == NFS && i.vers == 4 && i.proc_ == 1);
        if !is_compound {
            return;
        }
        let e = self.0.entry(m.at.frame).or_default();
        match &m.kind {
            Kind::Call { body: CallBody::Nfs4(c), .. } => {
                e.0 += 1;
                call_view(c, &mut e.1);
            }
            Kind::Reply { body: ReplyBody::Nfs4(r), .. } => {
                e.0 += 1;
                reply_view(r, &mut e.1, &mut e.2);
            }
            _ => e.0 += 1,
        }
    }
}

fn nums(s: &str) -> Vec<u32> {
    s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

fn theirs(path: &Path, decode_as: &[String]) -> View {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(path)
        .args(decode_as)
        .args(["-Y", "nfs && rpc.program == 100003", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"])
        .args(["-e", "frame.number", "-e", "rpc.procedure", "-e", "nfs.opcode", "-e", "nfs.nfsstat4", "-e", "rpc.programversion"])
        .output()
        .expect("tshark");
    let mut v = View::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 || !nums(f[4]).contains(&4) {
            continue;
        }
        let Ok(frame) = f[0].parse::<u64>() else { continue };
        let n = nums(f[1]).iter().filter(|p| **p == 1).count();
        if n == 0 {
            continue;
        }
        v.insert(frame, (n, nums(f[2]), nums(f[3])));
    }
    v
}

#[test]
fn nfs4_compounds_agree_with_tshark() {
    if !have("tshark") {
        return skip("tshark is not installed");
    }
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut files: Vec<(std::path::PathBuf, Vec<String>)> =
        captures_below(&own).into_iter().map(|p| (p, gracewatch::lab::tshark::decode_as())).collect();
    match pool() {
        Some(p) => files.extend(captures_below(&p).into_iter().map(|p| (p, Vec::new()))),
        None => skip("../shared/captures-pool is not here: lab captures only"),
    }
    let (mut compared, mut agreed) = (0usize, 0usize);
    let mut bad = Vec::new();
    for (f, decode_as) in &files {
        let t = theirs(f, decode_as);
        if t.is_empty() {
            continue;
        }
        let mut ours = Ours::default();
        let r = capture::run(&Input::Files(vec![f.to_string_lossy().into_owned()]), Config::default(), &mut ours);
        if let Err(gracewatch::Error::UnsupportedLinkType { .. }) = r {
            // RPC over RDMA on InfiniBand (ERF): refused with a clear error, not compared.
            continue;
        }
        for (frame, (n, ops, st)) in &t {
            compared += n;
            match ours.0.get(frame) {
                Some((_, o, s)) if o == ops && s == st => agreed += n,
                other => bad.push(format!("{} frame {frame}: tshark ops {ops:?} st {st:?}, gracewatch {other:?}", f.display())),
            }
        }
    }
    let rate = agreed as f64 / compared.max(1) as f64;
    eprintln!("NFSv4 COMPOUNDs: {agreed}/{compared} agree ({:.3}%)", rate * 100.0);
    for b in bad.iter().take(20) {
        eprintln!("  {b}");
    }
    assert!(compared > 1000, "too few COMPOUNDs compared: {compared}");
    assert!(rate >= 0.995, "{} disagreements", bad.len());
}
