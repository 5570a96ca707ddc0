//! gracewatch against tshark on every capture of the public pool: never a panic, and
//! the same RPC messages (frame, call/reply, xid, program, procedure) on at least
//! 99.5% of what tshark decodes, file by file. Files where tshark and gracewatch
//! differ for a known reason are listed in `KNOWN` (and in the README).

mod common;

use common::{decode, have, pool, pool_originals, captures_below, skip, Seen};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// Files whose remaining differences have a known reason: (file name, reason).
const KNOWN: &[(&str, &str)] = &[];

/// Link types gracewatch does not read: the file must give a clear one-line error.
const UNSUPPORTED: &[&str] = &["2021-02-18__sniffer.pcap", "2021-02-18__sniffer2.pcap"];

fn tshark_messages(path: &Path) -> std::process::Child {
    Command::new("tshark")
        .args(["-r"])
        .arg(path)
        .args(["-n", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"])
        .args(["-e", "frame.number", "-e", "rpc.msgtyp", "-e", "rpc.xid", "-e", "rpc.program", "-e", "rpc.procedure", "-Y", "rpc"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tshark")
}

fn parse_u32(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x") {
        u32::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

fn parse_tshark(out: &str) -> Vec<Seen> {
    let mut v = Vec::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 {
            continue;
        }
        let Ok(frame) = f[0].parse::<u64>() else { continue };
        let split = |s: &str| -> Vec<String> { if s.is_empty() { Vec::new() } else { s.split(',').map(str::to_string).collect() } };
        let (mt, xid, prog, pr) = (split(f[1]), split(f[2]), split(f[3]), split(f[4]));
        for i in 0..mt.len() {
            let (Some(m), Some(x)) = (parse_u32(&mt[i]), xid.get(i).and_then(|x| parse_u32(x))) else { continue };
            // tshark lists program/procedure only for messages it could place.
            let prog = if prog.len() == mt.len() { parse_u32(&prog[i]) } else { None };
            let proc_ = if pr.len() == mt.len() { parse_u32(&pr[i]) } else { None };
            v.push(Seen { frame, reply: m == 1, xid: x, prog, proc_ });
        }
    }
    v
}

/// Count tshark's messages that gracewatch decoded the same way. Program and
/// procedure are compared when tshark gives them.
fn agreement(t: &[Seen], g: &[Seen]) -> (usize, Vec<Seen>) {
    let mut ours: HashMap<(u64, bool, u32), Vec<&Seen>> = HashMap::new();
    for s in g {
        ours.entry((s.frame, s.reply, s.xid)).or_default().push(s);
    }
    let mut ok = 0;
    let mut missing = Vec::new();
    for s in t {
        let hit = ours.get_mut(&(s.frame, s.reply, s.xid)).and_then(|c| {
            let i = c.iter().position(|o| (s.prog.is_none() || o.prog == s.prog) && (s.proc_.is_none() || o.proc_ == s.proc_))?;
            Some(c.swap_remove(i))
        });
        if hit.is_some() {
            ok += 1;
        } else {
            missing.push(s.clone());
        }
    }
    (ok, missing)
}

#[test]
fn pool_agrees_with_tshark() {
    let Some(pool) = pool() else { return skip("../shared/captures-pool is not here") };
    if !have("tshark") {
        return skip("tshark is not installed");
    }
    if !have("bzip2") {
        return skip("bzip2 is not installed");
    }
    let mut files = captures_below(&pool);
    files.extend(pool_originals(&pool));
    let (mut total_t, mut total_ok) = (0usize, 0usize);
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let child = tshark_messages(f);
        let (ours, report) = decode(f);
        let out = child.wait_with_output().expect("tshark output");
        let theirs = parse_tshark(&String::from_utf8_lossy(&out.stdout));
        if UNSUPPORTED.contains(&name.as_str()) {
            let e = report.expect_err("unsupported link type must be an error").to_string();
            assert!(e.contains("unsupported link type") && !e.contains('\n'), "{name}: {e}");
            continue;
        }
        let (ok, missing) = agreement(&theirs, &ours);
        total_t += theirs.len();
        total_ok += ok;
        let rate = if theirs.is_empty() { 1.0 } else { ok as f64 / theirs.len() as f64 };
        eprintln!("{name}: tshark {} gracewatch {} agree {ok} ({:.2}%)", theirs.len(), ours.len(), rate * 100.0);
        if rate < 0.995 && !KNOWN.iter().any(|(k, _)| *k == name) {
            failures.push(format!("{name}: {:.2}% ({ok}/{}), first missing {:?}", rate * 100.0, theirs.len(), &missing[..missing.len().min(5)]));
        }
    }
    eprintln!("all files: {total_ok}/{total_t} = {:.3}%", 100.0 * total_ok as f64 / total_t.max(1) as f64);
    assert!(failures.is_empty(), "disagreements:\n{}", failures.join("\n"));
}
