//! The fuzz entry points over real captures with deterministic mutations: bit flips,
//! truncations, length fields set to hostile values. Nothing may panic.

mod common;

use std::path::Path;

/// xorshift64*: a fixed sequence, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Frames of a classic pcap file (little or big endian), without libpcap.
fn pcap_frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if bytes.len() < 24 {
        return out;
    }
    let le = bytes[0] == 0xd4 || bytes[0] == 0x4d;
    let rd = |b: &[u8]| if le { u32::from_le_bytes([b[0], b[1], b[2], b[3]]) } else { u32::from_be_bytes([b[0], b[1], b[2], b[3]]) };
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let incl = rd(&bytes[off + 8..]) as usize;
        if off + 16 + incl > bytes.len() {
            break;
        }
        out.push(bytes[off + 16..off + 16 + incl].to_vec());
        off += 16 + incl;
    }
    out
}

fn framed(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![0u8];
    for f in frames {
        let f = &f[..f.len().min(65535)];
        v.extend_from_slice(&(f.len() as u16).to_be_bytes());
        v.extend_from_slice(f);
    }
    v
}

fn mutate(frames: &mut [Vec<u8>], rng: &mut Rng) {
    for f in frames.iter_mut() {
        if f.is_empty() {
            continue;
        }
        match rng.next() % 6 {
            0 => {
                let i = (rng.next() as usize) % f.len();
                f[i] ^= 1 << (rng.next() % 8);
            }
            1 => {
                let n = (rng.next() as usize) % f.len();
                f.truncate(n);
            }
            2 if f.len() > 60 => {
                // a hostile length somewhere past the headers
                let i = 54 + (rng.next() as usize) % (f.len() - 58);
                f[i..i + 4].copy_from_slice(&[0x7f, 0xff, 0xff, 0xf0]);
            }
            _ => {}
        }
    }
}

fn run_file(p: &Path, rounds: u64) {
    let bytes = std::fs::read(p).unwrap();
    let frames = pcap_frames(&bytes);
    if frames.is_empty() {
        return;
    }
    gracewatch::fuzzing::frames(&framed(&frames));
    let stream: Vec<u8> = frames.iter().flat_map(|f| f.iter().skip(54).copied()).collect();
    gracewatch::fuzzing::records(&stream);
    for f in &frames {
        if f.len() > 70 {
            gracewatch::fuzzing::message(&f[46..]);
            gracewatch::fuzzing::message(&f[42..]);
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64);
    for _ in 0..rounds {
        let mut m = frames.clone();
        mutate(&mut m, &mut rng);
        gracewatch::fuzzing::frames(&framed(&m));
        for f in m.iter().filter(|f| f.len() > 50) {
            gracewatch::fuzzing::message(&f[42..]);
        }
    }
}

#[test]
fn mutated_captures_never_panic() {
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut files = common::captures_below(&own);
    if let Some(pool) = common::pool() {
        files.extend(common::captures_below(&pool).into_iter().filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() < 2_000_000)));
    }
    assert!(!files.is_empty(), "no captures to mutate");
    for f in &files {
        run_file(f, 8);
    }
}
