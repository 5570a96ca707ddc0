//! tshark as an independent oracle on the lab's captures.

use super::{err, Result};
use std::path::Path;
use std::process::Command;

/// Decode-as options: RPC on statd's fixed ports (tshark guesses RPC by port).
pub fn decode_as() -> Vec<String> {
    let mut v = Vec::new();
    for port in [super::STATD_PORT, super::STATD_OUT_PORT, super::SM_NOTIFY_PORT] {
        for proto in ["tcp", "udp"] {
            v.push("-d".to_string());
            v.push(format!("{proto}.port=={port},rpc"));
        }
    }
    v
}

/// Run tshark on `file` with a display filter and fields; one Vec per frame.
pub fn fields(file: &Path, filter: &str, fields: &[&str]) -> Result<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(file).args(decode_as());
    if !filter.is_empty() {
        cmd.args(["-Y", filter]);
    }
    cmd.args(["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output()?;
    if !out.status.success() {
        return err(format!("tshark failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('\t').map(str::to_string).collect()).collect())
}

/// Frames tshark marks as malformed (expected: none).
pub fn malformed(file: &Path) -> Result<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(file).args(decode_as()).args(["-Y", "_ws.malformed || _ws.expert.severity == error"]);
    let out = cmd.output()?;
    if !out.status.success() {
        return err(format!("tshark failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect())
}

/// Map of xid → (call frame, reply frame, reply time relative to the first frame).
pub fn xid_frames(file: &Path) -> Result<std::collections::HashMap<u32, (u64, u64, f64)>> {
    let rows = fields(file, "rpc", &["frame.number", "frame.time_relative", "rpc.xid", "rpc.msgtyp"])?;
    let mut m: std::collections::HashMap<u32, (u64, u64, f64)> = std::collections::HashMap::new();
    for r in rows {
        if r.len() < 4 {
            continue;
        }
        let frame: u64 = r[0].parse().unwrap_or(0);
        let t: f64 = r[1].parse().unwrap_or(0.0);
        // several RPC messages in one frame: fields are comma-joined
        for (x, ty) in r[2].split(',').zip(r[3].split(',')) {
            let Some(xid) = u32::from_str_radix(x.trim_start_matches("0x"), 16).ok() else { continue };
            let e = m.entry(xid).or_insert((0, 0, 0.0));
            if ty == "0" && e.0 == 0 {
                e.0 = frame;
            } else if ty == "1" && e.1 == 0 {
                e.1 = frame;
                e.2 = t;
            }
        }
    }
    Ok(m)
}
