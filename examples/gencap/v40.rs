//! NFSv4.0 clients (`--v40`): the same life as the NFSv4.1 ones without sessions.
//!
//! SETCLIENTID and SETCLIENTID_CONFIRM, a long-held OPEN and LOCK on a shared file,
//! then cycles of OPEN by name, LOCK, LOCKT, LOCKU, CLOSE and RELEASE_LOCKOWNER (as
//! the Linux client does when it lets a lock owner go). After the restart RENEW meets
//! STALE_CLIENTID; the client sets up a new client id and reclaims its opens and locks
//! (there is no RECLAIM_COMPLETE in 4.0), and new opens are refused until grace ends.

use super::*;

/// The cycles' lock owner: the long-held lock has its own, which is never released.
fn cycle_lock_owner(i: usize) -> Vec<u8> {
    format!("lock id:{i:08x}:cycle").into_bytes()
}

fn cycle_name(i: usize) -> String {
    format!("cycle-{i}")
}

fn lock_cycle(c: &Client, open: StateId, reclaim: bool) -> Op {
    let locker = Locker::New { open_seqid: 0, open_stateid: open, lock_seqid: 0, clientid: c.clientid, owner: cycle_lock_owner(c.i) };
    Op::Lock(LockArgs { locktype: nfs4::WRITE_LT, reclaim, offset: 0, length: CYCLE_LEN, locker })
}

/// OPEN of the cycle's file by name in the root directory, and its handle.
fn open_cycle(srv: &mut Server, c: &mut Client, out: &mut Out, t: Ts) -> Ts {
    let ops = vec![Op::PutFh(v4_root()), Op::Open(open_args(c, OpenClaim::Null(cycle_name(c.i)))), Op::GetFh];
    let (sid, open) = v4_open_res(srv, t);
    let res = [ok(op::PUTFH), open, ResOp::GetFh(v4_cycle_file(c.i))];
    let end = v4call(srv, c, out, t, ops, &res, 0);
    c.cyc_open = Some(sid);
    end
}

fn unlock_cycle(srv: &Server, c: &mut Client, out: &mut Out, t: Ts, lsid: StateId) -> Ts {
    let ops = vec![Op::PutFh(v4_cycle_file(c.i)), Op::LockU { locktype: nfs4::WRITE_LT, seqid: 0, stateid: lsid, offset: 0, length: CYCLE_LEN }];
    let res = [ok(op::PUTFH), ResOp::StateId { op: op::LOCKU, stateid: bump(lsid) }];
    v4call(srv, c, out, t, ops, &res, 0)
}

fn close_cycle(srv: &Server, c: &mut Client, out: &mut Out, t: Ts, osid: StateId) -> Ts {
    let ops = vec![Op::PutFh(v4_cycle_file(c.i)), Op::Close { seqid: 0, stateid: osid }];
    let res = [ok(op::PUTFH), ResOp::StateId { op: op::CLOSE, stateid: bump(osid) }];
    v4call(srv, c, out, t, ops, &res, 0)
}

fn release_cycle_owner(srv: &Server, c: &mut Client, out: &mut Out, t: Ts, gap: Ts) -> Ts {
    let ops = vec![Op::ReleaseLockOwner { clientid: c.clientid, owner: cycle_lock_owner(c.i) }];
    v4call(srv, c, out, t, ops, &[ok(op::RELEASE_LOCKOWNER)], gap)
}

pub(super) fn v40_step(p: &Params, srv: &mut Server, c: &mut Client, t: Ts, out: &mut Out) -> Next {
    let i = c.i;
    let shared = v4_shared(i as u32 % SHARED);
    match c.phase {
        Phase::Setup(0) | Phase::Recover(1) => {
            c.clientid = srv.clientid(t);
            srv.clientid[i] = c.clientid;
            c.boot = srv.boot(t);
            let verifier = (c.ip[3] as u64 | (c.i as u64) << 8).to_be_bytes();
            let id = format!("Linux NFSv4.0 {}/10.0.0.1 tcp", hostname(i)).into_bytes();
            let addr = format!("{}.{}.{}.{}.3.232", c.ip[0], c.ip[1], c.ip[2], c.ip[3]);
            let ops = vec![Op::SetClientId { verifier, id, cb_program: 0x4000_0000, netid: "tcp".into(), addr, ident: 1 }];
            let res = [ResOp::SetClientId { clientid: c.clientid, verifier: c.clientid.to_be_bytes() }];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.phase = if let Phase::Setup(_) = c.phase { Phase::Setup(1) } else { Phase::Recover(2) };
            Some(end + c.quick())
        }
        Phase::Setup(1) | Phase::Recover(2) => {
            let ops = vec![Op::SetClientIdConfirm { clientid: c.clientid, verifier: c.clientid.to_be_bytes() }];
            let end = v4call(srv, c, out, t, ops, &[ok(op::SETCLIENTID_CONFIRM)], 0);
            c.phase = if let Phase::Setup(_) = c.phase { Phase::Setup(2) } else { Phase::Recover(3) };
            Some(end + c.quick())
        }
        Phase::Setup(2) => {
            let name = format!("shared-{}", i as u32 % SHARED);
            let ops = vec![Op::PutFh(v4_root()), Op::Open(open_args(c, OpenClaim::Null(name))), Op::GetFh];
            let (sid, open) = v4_open_res(srv, t);
            let res = [ok(op::PUTFH), open, ResOp::GetFh(shared)];
            let end = v4call(srv, c, out, t, ops, &res, 0);
            c.long_open = Some(sid);
            c.phase = Phase::Setup(3);
            Some(end + c.quick())
        }
        Phase::Setup(3) | Phase::Recover(4) => {
            let reclaim = matches!(c.phase, Phase::Recover(_));
            let open = c.long_open.unwrap_or_default();
            let ops = vec![Op::PutFh(shared), lock_new(c, open, long_offset(i), LONG_LEN, reclaim)];
            let lsid = srv.stateid(t);
            let res = [ok(op::PUTFH), ResOp::StateId { op: op::LOCK, stateid: lsid }];
            let end = v4call(srv, c, out, t, ops, &res, if reclaim { 0 } else { p.period });
            c.long_lock = Some(lsid);
            srv.long_held[i] = true;
            c.after_long_lock(p, end, reclaim.then_some(Phase::Recover(5)))
        }
        Phase::Cycle(0) => {
            c.cycle_start = t;
            let end = open_cycle(srv, c, out, t);
            c.phase = Phase::Cycle(1);
            Some(end + c.quick())
        }
        Phase::Cycle(1) => {
            let lock = lock_cycle(c, c.cyc_open.unwrap_or_default(), false);
            v4_cycle_lock(srv, c, out, t, v4_cycle_file(i), lock, Phase::Cycle(2))
        }
        Phase::Cycle(2) => v4_lockt(p, srv, c, t, out, cycle_lock_owner(i), v40_step),
        Phase::Cycle(3) => {
            let lsid = c.cyc_lock.take().unwrap_or_default();
            let end = unlock_cycle(srv, c, out, t, lsid);
            c.phase = Phase::Cycle(4);
            Some(end + c.quick())
        }
        Phase::Cycle(4) => {
            let osid = c.cyc_open.take().unwrap_or_default();
            let end = close_cycle(srv, c, out, t, osid);
            c.phase = Phase::Cycle(5);
            Some(end + c.quick())
        }
        Phase::Cycle(_) => {
            let end = release_cycle_owner(srv, c, out, t, p.period);
            c.end_cycle(p, end)
        }
        Phase::Recover(0) => {
            // The lease is renewed at a server that no longer knows the client.
            let ops = vec![Op::Renew(c.clientid)];
            let end = v4call(srv, c, out, t, ops, &[ResOp::Status { op: op::RENEW, status: status::STALE_CLIENTID }], 0);
            srv.long_held[c.i] = false;
            c.reclaim_cycle = c.cyc_open.is_some();
            c.phase = Phase::Recover(1);
            Some(end + c.quick())
        }
        Phase::Recover(3) => v4_reclaim_long_open(srv, c, out, t, shared, Phase::Recover(4)),
        Phase::Recover(5) => v4_reclaim_cycle_open(p, srv, c, t, out, Phase::Recover(6), v40_step),
        Phase::Recover(6) => {
            c.phase = Phase::Recover(7);
            let (Some(open), Some(_)) = (c.cyc_open, c.cyc_lock) else { return v40_step(p, srv, c, t, out) };
            let lock = lock_cycle(c, open, true);
            v4_cycle_lock(srv, c, out, t, v4_cycle_file(i), lock, Phase::Recover(7))
        }
        Phase::Recover(7) => {
            // Finish the interrupted cycle: unlocking and closing are allowed in grace.
            if let Some(lsid) = c.cyc_lock.take() {
                return Some(unlock_cycle(srv, c, out, t, lsid) + c.quick());
            }
            if let Some(osid) = c.cyc_open.take() {
                return Some(close_cycle(srv, c, out, t, osid) + c.quick());
            }
            if c.reclaim_cycle {
                c.reclaim_cycle = false;
                c.cycles_done += 1;
                let end = release_cycle_owner(srv, c, out, t, 0);
                c.phase = Phase::Grace(0);
                return Some(end + c.rng.below(3 * SEC as u64) as Ts);
            }
            c.phase = Phase::Grace(0);
            Some(t + c.rng.below(3 * SEC as u64) as Ts)
        }
        Phase::Grace(_) => {
            // A new OPEN: refused until the server's grace ends.
            c.cycle_start = t;
            if srv.in_grace(t) {
                let ops = vec![Op::PutFh(v4_root()), Op::Open(open_args(c, OpenClaim::Null(cycle_name(i)))), Op::GetFh];
                let res = [ok(op::PUTFH), ResOp::Status { op: op::OPEN, status: status::GRACE }];
                let end = v4call(srv, c, out, t, ops, &res, SEC);
                return Some(end + 5 * SEC + c.rng.below(2 * SEC as u64) as Ts);
            }
            let end = open_cycle(srv, c, out, t);
            c.phase = Phase::Cycle(1);
            Some(end + c.quick())
        }
        Phase::Recover(_) | Phase::Setup(_) | Phase::Done => None,
    }
}
