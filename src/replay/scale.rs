//! Storms: every client of a plan cloned N times with distinct names and owners and
//! byte ranges that do not overlap, so that all clones can hold their locks at once.
//!
//! Clone `k` (from 0) of a client gets `-k` appended to its caller name or client
//! owner and to each of its owners (clone 0 keeps the original names), and its ranges
//! are moved up by `k × stride`, where the stride is the width of the band all the
//! plan's ranges lie in (rounded up to 4 KiB). A lock "to the end of the file" would
//! collide with every later clone: with more than one clone it ends at its band's end.
//! Share deny modes would make clones refuse each other's OPENs: clones deny nothing.

use super::plan::{NlmHost, NlmReclaim, Plan, V4Client, V4Lock, V4Open};

const ALIGN: u64 = 4096;

/// The band `[lo, hi)` all ranges of the plan lie in (a lock to EOF counts one byte).
fn band(p: &Plan) -> Option<(u64, u64)> {
    let nlm = p.nlm.iter().flat_map(|h| &h.locks).map(|l| (l.offset, if l.len == 0 { l.offset.saturating_add(1) } else { l.offset.saturating_add(l.len) }));
    let v4 = p.v4.iter().flat_map(|c| &c.opens).flat_map(|o| &o.locks).map(|l| (l.offset, if l.length == u64::MAX { l.offset.saturating_add(1) } else { l.offset.saturating_add(l.length) }));
    nlm.chain(v4).fold(None, |acc, (s, e)| Some(acc.map_or((s, e), |(a, b): (u64, u64)| (a.min(s), b.max(e)))))
}

fn suffix(b: &[u8], k: usize) -> Vec<u8> {
    let mut v = b.to_vec();
    if k > 0 {
        v.extend_from_slice(format!("-{k}").as_bytes());
    }
    v
}

/// Clone NLM hosts `nlm` times and NFSv4 clients `v4` times (1 = unchanged).
pub fn scale(p: &Plan, nlm: usize, v4: usize) -> Result<Plan, String> {
    if nlm == 0 || v4 == 0 {
        return Err("scale factors must be at least 1".into());
    }
    if nlm == 1 && v4 == 1 {
        return Ok(p.clone());
    }
    let (lo, hi) = band(p).unwrap_or((0, 1));
    let stride = (hi - lo).div_ceil(ALIGN).max(1).checked_mul(ALIGN).ok_or("ranges too wide to scale")?;
    (nlm.max(v4) as u64 - 1).checked_mul(stride).and_then(|s| s.checked_add(hi)).ok_or_else(|| format!("scaling ×{} moves ranges past 2^64", nlm.max(v4)))?;
    // the end of clone k's band: where a lock "to EOF" stops
    let band_end = |k: u64| lo + (k + 1) * stride;
    let mut out = Plan { nlm: Vec::with_capacity(p.nlm.len() * nlm), v4: Vec::with_capacity(p.v4.len() * v4), ..p.clone() };
    for k in 0..nlm {
        let shift = k as u64 * stride;
        for h in &p.nlm {
            let mut c: NlmHost = h.clone();
            if k > 0 {
                c.caller_name = format!("{}-{k}", h.caller_name);
            }
            for l in &mut c.locks {
                l.oh = suffix(&l.oh, k);
                if l.len == 0 {
                    l.len = band_end(k as u64) - (l.offset + shift);
                }
                l.offset += shift;
            }
            out.nlm.push(c);
        }
    }
    for k in 0..v4 {
        let shift = k as u64 * stride;
        for c0 in &p.v4 {
            let mut c: V4Client = c0.clone();
            c.owner = suffix(&c0.owner, k);
            if k > 0 {
                c.owner_text = format!("{}-{k}", c0.owner_text);
            }
            for o in &mut c.opens {
                o.open_owner = suffix(&o.open_owner, k);
                o.share_deny = 0;
                for l in &mut o.locks {
                    *l = V4Lock {
                        lock_owner: suffix(&l.lock_owner, k),
                        offset: l.offset + shift,
                        length: if l.length == u64::MAX { band_end(k as u64) - (l.offset + shift) } else { l.length },
                        write: l.write,
                    };
                }
            }
            out.v4.push(c);
        }
    }
    out.basis = format!("{} (NLM hosts ×{nlm}, NFSv4 clients ×{v4}, ranges {stride} bytes apart)", p.basis);
    Ok(out)
}

/// The base of a synthetic storm (for measurements where no capture has the shape
/// wanted): `nlm_files` NLM hosts, each with one exclusive lock on its own file
/// `<dir>/storm-nlm-<i>`, and one NFSv4.`minor` client with one open of
/// `<dir>/storm-v4` and `v4_locks` exclusive locks of its own lock owner. Handles are
/// placeholders: send it with paths remapped on the target.
pub fn storm_base(dir: &str, nlm_files: usize, minor: u32, v4_locks: usize) -> Plan {
    let nlm = (0..nlm_files)
        .map(|i| NlmHost {
            caller_name: format!("storm-{i}"),
            addr: [127, 0, 0, 1].into(),
            state: 1,
            locks: vec![NlmReclaim {
                fh: format!("storm-nlm-{i}").into_bytes(),
                path: Some(format!("{dir}/storm-nlm-{i}")),
                oh: format!("oh-storm-{i}").into_bytes(),
                svid: 1000 + i as i32,
                offset: 0,
                len: 100,
                exclusive: true,
                fail: None,
            }],
        })
        .collect();
    let v4 = (v4_locks > 0).then(|| V4Client {
        minor,
        owner: b"storm-v4".to_vec(),
        owner_text: "storm-v4".into(),
        verifier: b"stormver".to_vec(),
        addr: [127, 0, 0, 1].into(),
        machine: "storm-v4".into(),
        uid: 0,
        opens: vec![V4Open {
            open_owner: b"storm-open".to_vec(),
            fh: b"storm-v4".to_vec(),
            path: Some(format!("{dir}/storm-v4")),
            share_access: 3,
            share_deny: 0,
            synthesized: false,
            locks: (0..v4_locks as u64).map(|k| V4Lock { lock_owner: b"storm-lock".to_vec(), offset: k * 200, length: 100, write: true }).collect(),
            fail: None,
        }],
        fail: None,
    });
    Plan { server: None, basis: format!("a synthetic storm base ({nlm_files} NLM files, {v4_locks} NFSv4.{minor} locks)"), nlm, v4: v4.into_iter().collect(), ..Plan::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::plan::{NlmReclaim, V4Open};
    use crate::state::ranges::Range;
    use std::collections::HashSet;

    fn base() -> Plan {
        let nl = |off, len, excl| NlmReclaim { fh: vec![1], path: None, oh: b"oh".to_vec(), svid: 7, offset: off, len, exclusive: excl, fail: None };
        Plan {
            nlm: vec![
                NlmHost { caller_name: "a".into(), addr: [127, 0, 0, 1].into(), state: 3, locks: vec![nl(0, 100, true), nl(200, 0, true)] },
                NlmHost { caller_name: "b".into(), addr: [127, 0, 0, 1].into(), state: 3, locks: vec![nl(100, 50, false)] },
            ],
            v4: vec![V4Client {
                minor: 1,
                owner: b"cl".to_vec(),
                owner_text: "cl".into(),
                verifier: vec![1; 8],
                addr: [127, 0, 0, 1].into(),
                machine: "m".into(),
                uid: 0,
                opens: vec![V4Open {
                    open_owner: b"oo".to_vec(),
                    fh: vec![2],
                    path: None,
                    share_access: 3,
                    share_deny: 2,
                    synthesized: false,
                    locks: vec![V4Lock { lock_owner: b"lo".to_vec(), offset: 10, length: 20, write: true }, V4Lock { lock_owner: b"lo".to_vec(), offset: 500, length: u64::MAX, write: false }],
                    fail: None,
                }],
                fail: None,
            }],
            basis: "b".into(),
            ..Plan::default()
        }
    }

    /// (owner identity, file, range, exclusive) of every lock.
    fn all_locks(p: &Plan) -> Vec<(String, Vec<u8>, Range, bool)> {
        let mut v = Vec::new();
        for h in &p.nlm {
            for l in &h.locks {
                v.push((format!("{}/{:?}/{}", h.caller_name, l.oh, l.svid), l.fh.clone(), Range::from_offset_len(l.offset, l.len), l.exclusive));
            }
        }
        for c in &p.v4 {
            for o in &c.opens {
                for l in &o.locks {
                    let r = if l.length == u64::MAX { Range { start: l.offset, end: None } } else { Range::from_offset_len(l.offset, l.length) };
                    v.push((format!("{:?}/{:?}", c.owner, l.lock_owner), o.fh.clone(), r, l.write));
                }
            }
        }
        v
    }

    #[test]
    fn clones_are_distinct_and_never_collide() {
        let p = scale(&base(), 5, 3).unwrap();
        assert_eq!(p.nlm.len(), 10);
        assert_eq!(p.v4.len(), 3);
        assert_eq!(p.nlm_locks(), 15);
        assert_eq!(p.v4_locks(), 6);
        let names: HashSet<&str> = p.nlm.iter().map(|h| h.caller_name.as_str()).collect();
        assert_eq!(names.len(), 10);
        assert!(names.contains("a") && names.contains("a-4") && names.contains("b-1"));
        let owners: HashSet<&[u8]> = p.v4.iter().map(|c| c.owner.as_slice()).collect();
        assert_eq!(owners, [&b"cl"[..], b"cl-1", b"cl-2"].into_iter().collect());
        let locks = all_locks(&p);
        for (i, a) in locks.iter().enumerate() {
            assert!(a.2.end.is_some(), "a lock to EOF survived: {a:?}");
            for b in &locks[i + 1..] {
                let conflict = a.1 == b.1 && a.2.overlaps(&b.2) && (a.3 || b.3) && a.0 != b.0;
                assert!(!conflict, "{a:?} collides with {b:?}");
            }
        }
        // share deny is dropped, stride is 4 KiB-aligned and covers the band
        assert!(p.v4.iter().all(|c| c.opens[0].share_deny == 0));
        assert_eq!(p.nlm[2].locks[0].offset, 4096, "clone 1 of a: first lock moved by one stride");
        assert_eq!(p.nlm[0].locks[1].len, 4096 - 200, "EOF lock of clone 0 ends with its band");
        assert!(p.basis.contains("×5") && p.basis.contains("×3"));
    }

    #[test]
    fn storm_base_scales_to_the_wanted_storm() {
        let p = scale(&storm_base("/vfs", 4, 1, 3), 2500, 1000).unwrap();
        assert_eq!((p.nlm.len(), p.nlm_locks(), p.v4.len(), p.v4_locks()), (10_000, 10_000, 1000, 3000));
        let s = p.summary();
        assert_eq!((s[0].files, s[1].files, s[1].protocol.as_str()), (4, 1, "NFSv4.1"));
        let locks = all_locks(&p);
        // no two locks on the same file overlap (each clone has its own band)
        let mut by_file: std::collections::HashMap<Vec<u8>, Vec<Range>> = std::collections::HashMap::new();
        for l in &locks {
            by_file.entry(l.1.clone()).or_default().push(l.2);
        }
        for (_, mut v) in by_file {
            v.sort();
            assert!(v.windows(2).all(|w| !w[0].overlaps(&w[1])));
        }
    }

    #[test]
    fn identity_and_errors() {
        let b = base();
        assert_eq!(scale(&b, 1, 1).unwrap(), b);
        assert!(scale(&b, 0, 1).is_err());
        let mut huge = base();
        huge.nlm[0].locks[0].offset = u64::MAX - 10;
        huge.nlm[0].locks[0].len = 5;
        assert!(scale(&huge, 3, 1).is_err());
        // NLM only scaled: NFSv4 clients unchanged
        let p = scale(&b, 2, 1).unwrap();
        assert_eq!(p.v4, b.v4.iter().cloned().map(|mut c| {
            c.opens[0].share_deny = 0;
            c.opens[0].locks[1].length = 4096 - 500;
            c
        }).collect::<Vec<_>>());
    }
}
