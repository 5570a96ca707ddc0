//! Development check against tshark over every capture of the shared pool: for each
//! NFSv4 (and callback) RPC message carried whole in one TCP segment, the operation
//! numbers and `nfsstat4` values tshark reports must equal ours.
//!
//! Run with `cargo test --lib proto::nfs4::tests_tshark -- --ignored --nocapture`
//! (needs tshark and /work/shared/captures-pool).

use super::attrs::{AttrVal, Fattr4};
use super::session::{StateProtectA, StateProtectOps, StateProtectR};
use super::tests_real::{rpc_split, RpcMsg};
use super::{
    cb, decode_call, decode_reply, Compound, CompoundRes, OpArgs, OpRes, OpenDelegation, Stop,
    StopReason,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const POOL: &str = "/work/shared/captures-pool";

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|k| u8::from_str_radix(s.get(k..k + 2)?, 16).ok())
        .collect()
}

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with("originals-bz2") {
                captures(&p, out);
            }
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("pcap" | "pcapng")
        ) {
            out.push(p);
        }
    }
}

/// Split a TCP payload into whole RPC records. The last record may continue in a later
/// segment (tshark shows it there, reassembled) and is left out; `None` if the payload
/// does not start with a record mark.
fn records(mut p: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !p.is_empty() {
        let mark = u32::from_be_bytes(p.get(..4)?.try_into().ok()?);
        if mark & 0x8000_0000 == 0 {
            return None;
        }
        let len = (mark & 0x7fff_ffff) as usize;
        match p.get(4..4 + len) {
            Some(r) => out.push(r),
            None => break,
        }
        p = &p[4 + len..];
    }
    Some(out)
}

/// The operation numbers tshark 4.0 lists for a call. It also lists the operations of
/// an SP4_MACH_CRED bitmap under `nfs.opcode`, and does not decode GET_DIR_DELEGATION
/// arguments (it stops there).
fn call_view(c: &Compound<'_>, out: &mut Vec<u32>) {
    for op in &c.ops {
        out.push(op.op);
        match &op.args {
            OpArgs::ExchangeId(x) => {
                if let StateProtectA::MachCred { ops } = &x.state_protect {
                    mach_cred_bits(ops, out);
                }
            }
            OpArgs::GetDirDelegation { .. } => return,
            _ => {}
        }
    }
}

fn mach_cred_bits(ops: &StateProtectOps, out: &mut Vec<u32>) {
    out.extend(ops.must_enforce.bits());
    out.extend(ops.must_allow.bits());
}

fn rdattr_errors(a: &Fattr4<'_>, st: &mut Vec<u32>) {
    if let Some(AttrVal::Status(s)) = a.get(11) {
        st.push(s.0);
    }
}

/// The operation numbers and `nfs.nfsstat4` values tshark 4.0 lists for a reply: the
/// COMPOUND status, each operation's status, the status codes of TEST_STATEID and the
/// rdattr_error attributes of READDIR entries and GETATTR. It does not read the flag of
/// an OPEN_DELEGATE_NONE_EXT for WND4_CONTENTION/RESOURCE, nor GET_DIR_DELEGATION
/// results, and stops there.
fn reply_view(r: &CompoundRes<'_>, ops: &mut Vec<u32>, st: &mut Vec<u32>) {
    st.push(r.status.0);
    for op in &r.ops {
        ops.push(op.num());
        if op.num() == super::ops::OP_GET_DIR_DELEGATION {
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
            OpRes::Open(o)
                if matches!(o.delegation, OpenDelegation::NoneExt { why: 1 | 2, .. }) =>
            {
                return
            }
            _ => {}
        }
    }
}

#[derive(Default)]
struct Tally {
    compared: usize,
    agreed: usize,
    /// Messages compared that were carried in more than one TCP segment.
    reassembled: usize,
    skipped: HashMap<&'static str, usize>,
    mismatches: Vec<String>,
}

/// The whole RPC records of one frame: those of a PDU tshark reassembled from earlier
/// segments (`reasm`), then those starting in this segment. The tail of the reassembled
/// PDU is the longest prefix of this segment's payload that `reasm` ends with and after
/// which the payload splits into records.
fn frame_records<'p>(payload: &'p [u8], reasm: Option<&'p [u8]>) -> Option<Vec<&'p [u8]>> {
    let Some(r) = reasm else {
        return records(payload);
    };
    let mut out = records(r)?;
    let k = (0..=payload.len().min(r.len()))
        .rev()
        .find(|&k| r.ends_with(&payload[..k]) && records(&payload[k..]).is_some())?;
    out.extend(records(&payload[k..])?);
    Some(out)
}

/// What one frame's messages look like through tshark's eyes.
#[derive(Default)]
struct View {
    ops: Vec<u32>,
    st: Vec<u32>,
    cbops: Vec<u32>,
    any: bool,
    errors: Vec<String>,
    /// Where decoding stopped early (shown with mismatches).
    stops: Vec<String>,
}

/// With NFS4_TSHARK_TEXT set, print the text summary of every message compared.
fn show(line: String) {
    if std::env::var_os("NFS4_TSHARK_TEXT").is_some() {
        println!("TEXT {line}");
    }
}

/// Add one RPC message to the view; `Err` gives why the frame cannot be compared.
fn view_msg(
    m: RpcMsg<'_>,
    calls: &mut HashMap<u32, (u32, u32, u32, u32)>,
    v: &mut View,
) -> Result<(), &'static str> {
    match m {
        RpcMsg::Call {
            xid,
            prog,
            vers,
            proc_,
            service,
            body,
        } => {
            calls.insert(xid, (prog, vers, proc_, service));
            if service == 3 {
                return Err("RPCSEC_GSS privacy or control");
            }
            if prog == 100003 && vers == 4 {
                v.any = true;
                match decode_call(vers, proc_, body) {
                    Ok(c) => {
                        show(format!("NFSv4.{} call {c}", c.minorversion()));
                        call_view(&c, &mut v.ops);
                        v.stops.extend(c.stopped.map(|s| s.to_string()));
                    }
                    Err(e) => v.errors.push(e.to_string()),
                }
            } else if prog >= 0x4000_0000 {
                v.any = true;
                match cb::decode_call(vers, proc_, body) {
                    Ok(c) => v.cbops.extend(c.ops.iter().map(|o| o.op)),
                    Err(e) => v.errors.push(e.to_string()),
                }
            }
        }
        RpcMsg::Reply {
            prog,
            vers,
            proc_,
            service,
            body,
            ..
        } => {
            if service == 3 {
                return Err("RPCSEC_GSS privacy or control");
            }
            let Some(body) = body else { return Ok(()) };
            if prog == 100003 && vers == 4 {
                v.any = true;
                match decode_reply(vers, proc_, body) {
                    Ok(r) if proc_ == 1 => {
                        show(format!("reply {r}"));
                        reply_view(&r, &mut v.ops, &mut v.st);
                        // tshark shows an operation whose result it cannot finish with its
                        // status; ours keeps both in the stop.
                        if let Some(Stop {
                            reason:
                                StopReason::DecodeError {
                                    op,
                                    status: Some(s),
                                    ..
                                },
                            ..
                        }) = &r.stopped
                        {
                            v.ops.push(*op);
                            v.st.push(s.0);
                        }
                        v.stops.extend(r.stopped.as_ref().map(|s| s.to_string()));
                    }
                    Ok(_) => {}
                    Err(e) => v.errors.push(e.to_string()),
                }
            } else if prog >= 0x4000_0000 {
                v.any = true;
                match cb::decode_reply(vers, proc_, body) {
                    Ok(r) if proc_ == 1 => {
                        v.cbops.extend(r.ops.iter().map(|o| o.num()));
                        v.st.push(r.status.0);
                        v.st.extend(r.ops.iter().map(|o| o.status().0));
                    }
                    Ok(_) => {}
                    Err(e) => v.errors.push(e.to_string()),
                }
            }
        }
    }
    Ok(())
}

fn check_file(path: &Path, t: &mut Tally) {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-Y",
            "rpc",
            "-T",
            "fields",
            "-E",
            "separator=\t",
            "-E",
            "occurrence=a",
        ])
        .args([
            "-e",
            "frame.number",
            "-e",
            "tcp.payload",
            "-e",
            "rpc.msgtyp",
            "-e",
            "rpc.program",
        ])
        .args([
            "-e",
            "rpc.programversion",
            "-e",
            "nfs.opcode",
            "-e",
            "nfs.nfsstat4",
            "-e",
            "nfs.cb.operation",
        ])
        .args(["-e", "tcp.reassembled.data"])
        .output();
    let Ok(out) = out else { return };
    let text = String::from_utf8_lossy(&out.stdout);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // xid -> (program, version, procedure, gss service) of the calls seen so far.
    let mut calls: HashMap<u32, (u32, u32, u32, u32)> = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 9 {
            continue;
        }
        let progs: Vec<u32> = f[3].split(',').filter_map(|x| x.parse().ok()).collect();
        let is_nfs4 = progs
            .iter()
            .zip(f[4].split(','))
            .any(|(p, v)| *p == 100003 && v == "4");
        let is_cb = !f[7].is_empty() || progs.contains(&0x4000_0000);
        if !is_nfs4 && !is_cb {
            continue;
        }
        let list = |s: &str| -> Vec<u32> { s.split(',').filter_map(|x| x.parse().ok()).collect() };
        let (want_ops, want_st, want_cb) = (list(f[5]), list(f[6]), list(f[7]));
        let frame = f[0];
        let mut skip = |why: &'static str| {
            if std::env::var_os("NFS4_TSHARK_VERBOSE").is_some() {
                println!("SKIP {name} frame {frame}: {why}");
            }
            *t.skipped.entry(why).or_default() += 1
        };
        let Some(payload) = unhex(f[1].split(',').next().unwrap_or("")).filter(|p| !p.is_empty())
        else {
            skip("no TCP payload (RDMA or UDP)");
            continue;
        };
        let reasm = if f[8].is_empty() {
            None
        } else {
            unhex(f[8].split(',').next().unwrap_or(""))
        };
        let Some(recs) = frame_records(&payload, reasm.as_deref()) else {
            skip("records do not tile the segment");
            continue;
        };
        let mut v = View::default();
        let mut why = None;
        for rec in recs {
            match rpc_split(rec, &calls) {
                Some(m) => {
                    if let Err(w) = view_msg(m, &mut calls, &mut v) {
                        why = Some(w);
                    }
                }
                None => why = Some("reply without its call, or not RPC"),
            }
        }
        if let Some(w) = why {
            skip(w);
            continue;
        }
        if !v.any {
            skip("no NFSv4 message");
            continue;
        }
        t.compared += 1;
        t.reassembled += reasm.is_some() as usize;
        // A body neither side can decode (tshark lists nothing, ours fails) agrees too.
        let both_empty =
            want_ops.is_empty() && want_st.is_empty() && want_cb.is_empty() && v.ops.is_empty();
        let same = v.ops == want_ops && v.st == want_st && v.cbops == want_cb;
        if (v.errors.is_empty() && same) || (!v.errors.is_empty() && both_empty) {
            t.agreed += 1;
        } else {
            t.mismatches.push(format!(
                "{name} frame {}: tshark ops {want_ops:?} st {want_st:?} cb {want_cb:?} / ours ops {:?} st {:?} cb {:?} errors {:?} stops {:?}",
                f[0], v.ops, v.st, v.cbops, v.errors, v.stops
            ));
        }
    }
}

#[test]
#[ignore]
fn agreement_with_tshark_over_the_pool() {
    let mut files = Vec::new();
    captures(Path::new(POOL), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no captures under {POOL}");
    let mut t = Tally::default();
    for f in &files {
        let before = (t.compared, t.agreed);
        check_file(f, &mut t);
        if t.compared > before.0 {
            println!(
                "{:>5}/{:<5} {}",
                t.agreed - before.1,
                t.compared - before.0,
                f.strip_prefix(POOL).unwrap_or(f).display()
            );
        }
    }
    for m in t.mismatches.iter().take(80) {
        println!("MISMATCH {m}");
    }
    let rate = t.agreed as f64 / t.compared.max(1) as f64;
    println!(
        "compared {} frames ({} with reassembled messages), agreed {} ({:.3}%)",
        t.compared,
        t.reassembled,
        t.agreed,
        rate * 100.0
    );
    for (why, n) in &t.skipped {
        println!("skipped {n}: {why}");
    }
    assert!(t.compared > 500, "too few messages compared");
    assert!(rate >= 0.995, "agreement {rate}");
}
