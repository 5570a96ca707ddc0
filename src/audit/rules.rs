//! The rules behind each verdict id (grace-rules.md, "Verdicts gracewatch should give").

use super::epoch::{Epoch, Tri};
use super::verdict::{severity_of, Certainty, Mark, RangeJson, Verdict};
use super::{Auditor, Candidate, GrantKind, LockRef};
use crate::net::{sorted, Ts};
use crate::xdr::hex;
use std::net::IpAddr;

fn certainty(t: Tri) -> Option<Certainty> {
    match t {
        Tri::Certain => Some(Certainty::Certain),
        Tri::Possible => Some(Certainty::Possible),
        Tri::No => None,
    }
}

fn verdict(a: &Auditor, id: &'static str, c: Certainty, server: IpAddr, l: &LockRef, epoch: usize, summary: String, grant: &str, evidence: Vec<Mark>) -> Verdict {
    Verdict {
        id,
        severity: severity_of(id),
        certainty: c,
        server,
        protocol: l.protocol.to_string(),
        client: l.client,
        client_name: l.client_name.to_string(),
        owner: l.owner.to_string(),
        fh: hex(&l.fh),
        path: a.tracker.path(&l.fh),
        range: Some(RangeJson::from(l.range)),
        exclusive: Some(l.exclusive),
        summary,
        grant: Mark { label: grant.to_string(), at: l.granted },
        evidence,
        epoch,
    }
}

/// The frames that show where an epoch's grace window lies.
fn window_marks(e: &Epoch, grace: Ts, for_in: bool) -> Vec<Mark> {
    let mut v = Vec::new();
    if let Some(lo) = e.start_lo {
        v.push(Mark { label: "last sign of the previous server instance".into(), at: lo });
    }
    if let Some(first) = e.evidence.first() {
        v.push(Mark { label: format!("restart evidence: {}", first.note), at: first.at });
    }
    if for_in {
        if let Some(f) = e.in_grace_until {
            v.push(Mark { label: "server still refusing with a grace error".into(), at: f });
        } else {
            let until = e.earliest_start() + grace;
            v.push(Mark {
                label: format!("grace assumed to last {} s, until {:.6}", grace / 1_000_000_000, until as f64 / 1e9),
                at: crate::net::FrameRef { file: 0, frame: 0, ts: until },
            });
        }
    } else if let Some(f) = e.grace_over_from {
        v.push(Mark { label: "server answered that grace was over".into(), at: f });
    } else {
        let end = e.assumed_end_latest(grace);
        v.push(Mark {
            label: format!("grace assumed to end by {:.6} ({} s plus a 5 s tick)", end as f64 / 1e9, grace / 1_000_000_000),
            at: crate::net::FrameRef { file: 0, frame: 0, ts: end },
        });
    }
    v
}

fn kind_name(k: GrantKind) -> &'static str {
    match k {
        GrantKind::NlmLock => "LOCK",
        GrantKind::NlmShare => "SHARE",
        GrantKind::V4Open => "OPEN",
        GrantKind::V4Lock => "LOCK",
    }
}

/// "NLMv4 lock" and the like, written out only into the verdicts that name it (most
/// grants are judged legal).
struct GrantLabel<'a>(&'a Candidate);

impl std::fmt::Display for GrantLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0.lock.protocol, kind_name(self.0.kind))
    }
}

/// Judge one grant. `last`: no more evidence will come (the end of the input).
pub(super) fn judge(a: &mut Auditor, c: &Candidate, _last: bool) {
    let grace = a.cfg.grace;
    let t = c.lock.granted.ts;
    let Some(sa) = a.servers.get(&c.server) else { return };
    let epoch = sa.epoch_at(t);
    let mut out = Vec::new();
    let what = GrantLabel(c);
    if c.reclaim {
        // GW003: a reclaim outside grace.
        match &epoch {
            Some(e) if e.restarted => {
                let over = match c.reclaim_complete {
                    Some(rc) if rc.ts < t => Some((Certainty::Certain, vec![Mark { label: "the client's RECLAIM_COMPLETE".into(), at: rc }])),
                    _ => certainty(e.grace_over(t, grace)).map(|cy| (cy, window_marks(e, grace, false))),
                };
                if let Some((cy, marks)) = over {
                    let s = format!("{what} reclaim granted after grace was over");
                    out.push(verdict(a, "GW003", cy, c.server, &c.lock, e.index, s, "reclaim granted", marks));
                }
            }
            _ => {
                // A reclaim with no sign that this server restarted.
                let s = format!("{what} reclaim granted with no sign of a restart of this server IP");
                out.push(verdict(a, "GW003", Certainty::Possible, c.server, &c.lock, epoch.as_ref().map_or(0, |e| e.index), s, "reclaim granted", Vec::new()));
            }
        }
        // GW004: a reclaim of state the client did not hold before the restart.
        if let Some(e) = epoch.as_ref().filter(|e| e.restarted && (e.index > 0 || e.failover_from.is_some())) {
            let held = match c.kind {
                // An OPEN reclaim: the NFSv4 state knows whether the client owner had
                // state before the restart.
                GrantKind::V4Open => match e.failover_from {
                    // After a failover the opens were held on the old address.
                    Some(old) => a.tracker.nfs4(old).is_some_and(|st| {
                        st.opens.values().any(|o| o.fh.as_deref() == Some(&*c.lock.fh) && st.client(o.clientid).is_some_and(|cl| cl.owner_text() == *c.lock.client_name))
                    }),
                    None => !a.v4_reclaim_unknown(c.server, c.lock.granted),
                },
                _ => sa.old_on(&c.lock.fh).any(|o| o.epoch == e.index && o.lock.same_owner(&c.lock) && o.lock.range.contains(&c.lock.range)),
            };
            if !held {
                // Certain when the capture saw the previous instance from its start and
                // every change since; otherwise the lock may predate the capture.
                let prev_seen_whole = match e.index {
                    0 => false,
                    1 => sa.seen_starting || sa.epochs[0].restarted,
                    _ => true,
                };
                let complete = a.tracker.journal().complete_before(e.earliest_start() + 1);
                let cy = if prev_seen_whole && complete { Certainty::Certain } else { Certainty::Possible };
                let s = format!("{what} reclaim granted, but the client held no such lock before the restart");
                let mut marks: Vec<Mark> = sa
                    .old
                    .iter()
                    .filter(|o| o.epoch == e.index && o.lock.same_client(&c.lock))
                    .map(|o| Mark { label: format!("what {} held before the restart: {} {}", o.lock.client_name, o.lock.protocol, RangeJson::from(o.lock.range).text()), at: o.lock.granted })
                    .collect();
                if let Some(lo) = e.start_lo {
                    marks.push(Mark { label: "the previous instance, whose locks were seen up to here".into(), at: lo });
                }
                out.push(verdict(a, "GW004", cy, c.server, &c.lock, e.index, s, "reclaim granted", marks));
            }
        }
    } else if let Some(e) = epoch.as_ref().filter(|e| e.restarted) {
        let in_grace = e.in_grace(t, grace);
        // GW001 / GW002: a new grant during grace.
        if let Some(cy) = certainty(in_grace) {
            let (id, s) = match c.kind {
                GrantKind::NlmLock | GrantKind::NlmShare => ("GW001", format!("non-reclaim {what} granted while the server was in grace")),
                _ => ("GW002", format!("non-reclaim {what} granted while the server was in grace")),
            };
            out.push(verdict(a, id, cy, c.server, &c.lock, e.index, s, "granted", window_marks(e, grace, true)));
        } else if c.minor.is_some_and(|m| m >= 1) && c.reclaim_complete.is_none_or(|rc| rc.ts > t) {
            // NFSv4.1: before the client's RECLAIM_COMPLETE the server must refuse.
            let cy = if c.session_seen { Certainty::Certain } else { Certainty::Possible };
            let s = format!("non-reclaim {what} granted before the client's RECLAIM_COMPLETE");
            out.push(verdict(a, "GW002", cy, c.server, &c.lock, e.index, s, "granted", Vec::new()));
        }
        // GW005: the grant collides with a pre-restart lock another client could still reclaim.
        if let (Some(cy), false) = (certainty(in_grace), c.kind == GrantKind::V4Open) {
            for o in sa.old_on(&c.lock.fh).filter(|o| o.epoch == e.index && o.reclaimed.is_none_or(|r| r.ts > t)) {
                if c.lock.conflicts(&o.lock) {
                    let s = format!(
                        "{what} granted to {} over {}'s pre-restart {} lock {} still reclaimable (grant at frame {}, old lock granted at frame {})",
                        c.lock.client_name,
                        o.lock.client_name,
                        o.lock.protocol,
                        RangeJson::from(o.lock.range).text(),
                        c.lock.granted.frame,
                        o.lock.granted.frame
                    );
                    let mut marks = vec![Mark { label: format!("pre-restart lock of {} granted on {}", o.lock.client_name, o.source), at: o.lock.granted }];
                    marks.extend(window_marks(e, grace, true));
                    marks.extend(sa.refusals_of(e.index, &o.lock).map(|at| Mark { label: format!("{}'s reclaim refused", o.lock.client_name), at }));
                    out.push(verdict(a, "GW005", cy, c.server, &c.lock, e.index, s, "conflicting grant", marks));
                }
            }
        }
    }
    // GW007: a cluster member grants new locks while another member is in grace.
    if !c.reclaim && epoch.as_ref().is_none_or(|e| e.in_grace(t, grace) == Tri::No) {
        for peer in a.cfg.clusters.iter().filter(|cl| cl.contains(&c.server)).flatten().filter(|p| **p != c.server) {
            // Only once the peer surely restarted (its first evidence), not while unsure.
            let Some(pe) = a.servers.get(peer).and_then(|ps| ps.epoch_at(t)).filter(|pe| pe.start_hi.ts <= t) else { continue };
            if let Some(cy) = certainty(pe.in_grace(t, grace)) {
                let s = format!("{what} granted on {} while cluster member {peer} was in grace", c.server);
                let mut marks = window_marks(pe, grace, true);
                for m in &mut marks {
                    m.label = format!("{peer}: {}", m.label);
                }
                out.push(verdict(a, "GW007", cy, c.server, &c.lock, epoch.as_ref().map_or(0, |e| e.index), s, "granted", marks.clone()));
                // The peers share the filesystem: a grant here can take a lock the peer's
                // clients may still reclaim there.
                let peer_old = a.servers.get(peer).map(|ps| ps.old.iter().filter(|o| o.epoch == pe.index && o.reclaimed.is_none_or(|r| r.ts > t)).cloned().collect::<Vec<_>>()).unwrap_or_default();
                for o in peer_old.iter().filter(|o| c.kind != GrantKind::V4Open && c.lock.conflicts(&o.lock)) {
                    let s = format!(
                        "{what} granted on {} to {} over {}'s lock {} held on cluster member {peer} before its restart, still reclaimable",
                        c.server,
                        c.lock.client_name,
                        o.lock.client_name,
                        RangeJson::from(o.lock.range).text()
                    );
                    let mut m = vec![Mark { label: format!("pre-restart lock of {} granted on {peer}", o.lock.client_name), at: o.lock.granted }];
                    m.extend(marks.iter().cloned());
                    if let Some(ps) = a.servers.get(peer) {
                        m.extend(ps.refusals_of(pe.index, &o.lock).map(|at| Mark { label: format!("{}'s reclaim refused on {peer}", o.lock.client_name), at }));
                    }
                    out.push(verdict(a, "GW005", cy, c.server, &c.lock, epoch.as_ref().map_or(0, |e| e.index), s, "conflicting grant", m));
                }
            }
        }
    }
    a.verdicts.extend(out);
}

/// At the end: locks never reclaimed (GW006) and grace shorter than the lease (GW009).
pub(super) fn at_end(a: &mut Auditor) {
    let grace = a.cfg.grace;
    let mut out = Vec::new();
    for (ip, sa) in sorted(&a.servers) {
        for e in sa.epochs.iter().filter(|e| e.restarted) {
            let (end, proven) = e.grace_end(grace);
            if !proven && end > a.last_ts {
                // Grace has not ended within the capture.
                continue;
            }
            let unreclaimed: Vec<_> = sa.old.iter().filter(|o| o.epoch == e.index && o.reclaimed.is_none()).collect();
            for o in &unreclaimed {
                if !sa.came_back(&o.lock, e.earliest_start()) {
                    continue;
                }
                let cy = if proven { Certainty::Certain } else { Certainty::Possible };
                let s = format!("{}'s pre-restart {} lock {} was never reclaimed, although the client came back", o.lock.client_name, o.lock.protocol, RangeJson::from(o.lock.range).text());
                let mut marks: Vec<Mark> = sa.refusals_of(e.index, &o.lock).map(|at| Mark { label: format!("{}'s reclaim refused", o.lock.client_name), at }).collect();
                marks.extend(window_marks(e, grace, false));
                let v = verdict(a, "GW006", cy, *ip, &o.lock, e.index, s, "lock granted before the restart", marks);
                out.push(v);
            }
            if let Some(over) = e.grace_over_from {
                let length = over.ts - e.earliest_start();
                if length < a.cfg.lease && !unreclaimed.is_empty() {
                    let o = unreclaimed[0];
                    let s = format!(
                        "grace lasted at most {:.1} s, shorter than the {} s lease, while {} pre-restart locks were still unreclaimed",
                        length as f64 / 1e9,
                        a.cfg.lease / 1_000_000_000,
                        unreclaimed.len()
                    );
                    let mut v = verdict(a, "GW009", Certainty::Certain, *ip, &o.lock, e.index, s, "an unreclaimed pre-restart lock", window_marks(e, grace, false));
                    v.exclusive = None;
                    out.push(v);
                }
            }
        }
    }
    a.verdicts.extend(out);
}

/// GW008: the server accepted a second RECLAIM_COMPLETE from the same client.
pub(super) fn second_reclaim_complete(a: &mut Auditor, server: IpAddr, epoch: usize, v: &crate::state::nfs4::Nfs4Evidence, first: crate::net::FrameRef) {
    let owner = v.client_owner.as_deref().map(|o| String::from_utf8_lossy(o).into_owned()).unwrap_or_default();
    a.verdicts.push(Verdict {
        id: "GW008",
        severity: severity_of("GW008"),
        certainty: Certainty::Certain,
        server,
        protocol: format!("NFSv4.{}", v.minor),
        client: v.client_addr,
        client_name: owner.clone(),
        owner: String::new(),
        fh: String::new(),
        path: None,
        range: None,
        exclusive: None,
        summary: format!("second RECLAIM_COMPLETE from {owner} accepted (the first at frame {})", first.frame),
        grant: Mark { label: "second RECLAIM_COMPLETE accepted".into(), at: v.at },
        evidence: vec![Mark { label: "first RECLAIM_COMPLETE accepted".into(), at: first }],
        epoch,
    });
}
