//! Re-record the lab scenarios into `captures/`:
//! `cargo run --example lab_record -- [scenario|all] [--out DIR]` (as root).

use gracewatch::lab::{prereq, scenarios};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut which = Vec::new();
    let mut out = PathBuf::from("captures");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = PathBuf::from(args.next().unwrap_or_default()),
            "all" => which.extend(scenarios::ALL.iter().map(|s| s.to_string())),
            s => which.push(s.to_string()),
        }
    }
    if which.is_empty() {
        which.extend(scenarios::ALL.iter().map(|s| s.to_string()));
    }
    let missing = prereq::missing();
    if !missing.is_empty() {
        anyhow::bail!("lab prerequisites missing: {}", missing.join("; "));
    }
    let mut failed = false;
    for name in which {
        let run = scenarios::record(&name, Some(&out))?;
        println!(
            "{name}: {:.1}s, {} events, {} locks at end, {} expected verdicts -> {}",
            run.seconds,
            run.manifest.events.len(),
            run.manifest.locks_at_end.len(),
            run.manifest.expected_verdicts.len(),
            run.pcap.display()
        );
        for m in &run.mismatches {
            println!("  MISMATCH: {m}");
            failed = true;
        }
    }
    if failed {
        anyhow::bail!("some servers answered differently than the scenarios expect");
    }
    Ok(())
}
