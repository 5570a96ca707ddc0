//! Generate a large, realistic NFS lock capture for benchmarks:
//!
//!     cargo run --release --example gencap -- [--clients N] [--cycles N] [--seed N] [--v40] OUT.pcap
//!
//! Thousands of clients (one IP each) lock over NLM v4 and NFSv4.1 (NFSv4.0 with
//! `--v40`) on TCP, with
//! correct handshakes, sequence numbers, ACKs and record marking; halfway through the
//! server restarts and every client reclaims at once. `--clients` scales the live
//! state (clients, connections, locks); `--cycles` scales the duration with the same
//! state. The defaults (2000 clients, 90 cycles) give a little over 2 million packets.

mod sim;
mod wire;

use std::fs::File;
use std::io::BufWriter;

fn main() -> anyhow::Result<()> {
    let mut p = sim::Params::default();
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> anyhow::Result<u64> {
            let v = args.next().ok_or_else(|| anyhow::anyhow!("{what} needs a number"))?;
            v.parse().map_err(|_| anyhow::anyhow!("{what} needs a number, got {v:?}"))
        };
        match a.as_str() {
            "--clients" => p.clients = num("--clients")?.clamp(1, 1_000_000) as usize,
            "--cycles" => p.cycles = num("--cycles")?.clamp(1, 1_000_000) as u32,
            "--seed" => p.seed = num("--seed")?,
            "--v40" => p.v40 = true,
            "-h" | "--help" => {
                println!("usage: gencap [--clients N] [--cycles N] [--seed N] [--v40] OUT.pcap");
                return Ok(());
            }
            s if s.starts_with('-') => anyhow::bail!("unknown option {s}"),
            s => out = Some(s.to_string()),
        }
    }
    let path = out.ok_or_else(|| anyhow::anyhow!("usage: gencap [--clients N] [--cycles N] [--seed N] [--v40] OUT.pcap"))?;
    let f = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    let (s, mut w) = sim::generate(p.clone(), f)?;
    std::io::Write::flush(&mut w)?;
    let secs = |t: i64| (t - s.first) as f64 / 1e9;
    eprintln!(
        "{path}: {} packets, {} bytes, {} clients, {} cycles, {:.1} s; server down at +{:.1} s, up at +{:.1} s, grace until +{:.1} s",
        s.packets,
        s.bytes,
        p.clients,
        p.cycles,
        secs(s.last),
        secs(s.crash_at),
        secs(s.up_at),
        secs(s.grace_end)
    );
    Ok(())
}
