//! tshark as an independent oracle on the lab's captures.

use super::{err, Result};
use std::path::Path;
use std::process::Command;

/// The lab's fixed RPC ports that tshark does not know: statd's, sm-notify's, and
/// ganesha's NLM and MOUNT ports.
pub const RPC_PORTS: [u16; 5] =
    [super::STATD_PORT, super::STATD_OUT_PORT, super::SM_NOTIFY_PORT, super::ganesha::NLM_PORT, super::ganesha::MNT_PORT];

/// Decode-as options: RPC on the lab's fixed ports (tshark guesses RPC by port).
pub fn decode_as() -> Vec<String> {
    let mut v = Vec::new();
    for port in RPC_PORTS {
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
    // -2: two passes, so that calls know their reply frame (rpc.repframe)
    cmd.arg("-n").arg("-2").arg("-r").arg(file).args(decode_as());
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

/// Epoch time of the capture's first frame.
pub fn first_frame_epoch(file: &Path) -> Result<f64> {
    let rows = fields(file, "frame.number == 1", &["frame.time_epoch"])?;
    rows.first().and_then(|r| r.first()).and_then(|v| v.parse().ok()).ok_or_else(|| super::LabError::Msg("empty capture".into()))
}

/// NSM procedure names (program 100024 v1).
pub fn nsm_proc_name(p: u32) -> &'static str {
    match p {
        0 => "SM_NULL",
        1 => "SM_STAT",
        2 => "SM_MON",
        3 => "SM_UNMON",
        4 => "SM_UNMON_ALL",
        5 => "SM_SIMU_CRASH",
        6 => "SM_NOTIFY",
        _ => "SM_?",
    }
}

/// Every NSM call in the capture (whoever sent it), as manifest events.
pub fn nsm_events(file: &Path) -> Result<Vec<super::manifest::Event>> {
    let rows = fields(
        file,
        "stat && rpc.msgtyp == 0",
        &["frame.number", "frame.time_relative", "ip.src", "ip.dst", "rpc.xid", "stat.procedure_v1", "stat.mon_id.name", "stat.name", "rpc.msgtyp"],
    )?;
    // replies: matched by xid and reversed addresses (ganesha's xids to statd repeat
    // after a restart, so the xid alone is not enough)
    let replies = fields(file, "rpc.msgtyp == 1", &["frame.number", "ip.src", "ip.dst", "rpc.xid"])?;
    let reply_for = |call_frame: u64, src: &str, dst: &str, xid: &str| -> Option<u64> {
        replies
            .iter()
            .filter(|q| q.len() >= 4 && q[1] == dst && q[2] == src && q[3].split(',').any(|x| x == xid))
            .filter_map(|q| q[0].parse::<u64>().ok())
            .find(|f| *f > call_frame)
    };
    let mut v = Vec::new();
    for r in rows {
        if r.len() < 9 {
            continue;
        }
        let call_frame: u64 = r[0].parse().unwrap_or(0);
        let xid_s = r[4].split(',').next().unwrap_or("").to_string();
        let p: u32 = r[5].split(',').next().and_then(|x| x.parse().ok()).unwrap_or(u32::MAX);
        let name = [&r[6], &r[7]].iter().find(|s| !s.is_empty()).map(|s| s.to_string()).unwrap_or_default();
        v.push(super::manifest::Event {
            t: (r[1].parse::<f64>().unwrap_or(0.0) * 1000.0).round() / 1000.0,
            kind: "nsm".into(),
            server: Some(r[3].clone()),
            client: Some(r[2].clone()),
            what: format!("{} {name}", nsm_proc_name(p)).trim().to_string(),
            xid: u32::from_str_radix(r[4].split(',').next().unwrap_or("").trim_start_matches("0x"), 16).ok(),
            status: None,
            status_code: None,
            call_frame: Some(call_frame),
            reply_frame: reply_for(call_frame, &r[2], &r[3], &xid_s),
            reply_time: None,
        });
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_as_covers_every_fixed_rpc_port_on_both_transports() {
        let d = decode_as();
        assert_eq!(d.len(), RPC_PORTS.len() * 4);
        for p in RPC_PORTS {
            assert!(d.contains(&format!("tcp.port=={p},rpc")));
            assert!(d.contains(&format!("udp.port=={p},rpc")));
        }
        assert_eq!(nsm_proc_name(6), "SM_NOTIFY");
        assert_eq!(nsm_proc_name(99), "SM_?");
    }
}
