//! `nsm`: ganesha registers its NLM clients with rpc.statd (SM_MON / SM_UNMON), the
//! server restarts, and `sm-notify` tells the monitored hosts (SM_NOTIFY).

use super::*;
use crate::client::nlm::stat::GRANTED;
use crate::client::nlm::{self as nlmp, MyId};
use crate::client::rpc::Cred;
use crate::client::session::NlmClient;
use crate::client::{Endpoint, Proto, RpcConn};

pub fn run(r: &mut Rec<'_>) -> Result<()> {
    r.m.description = "NSM: two NLM clients lock (ganesha sends SM_MON to statd), one unlocks; a local client \
        exercises SM_STAT/SM_MON/SM_UNMON on statd; ganesha is killed and restarted; sm-notify sends SM_NOTIFY \
        (mon_name 127.0.0.2) to every monitored host; the remaining holder reclaims in grace."
        .into();
    r.m.notes.push(format!(
        "statd listens on {} (source port of its calls: {}), sm-notify sends from port {}: decode these ports as RPC.",
        crate::lab::STATD_PORT,
        crate::lab::STATD_OUT_PORT,
        crate::lab::SM_NOTIFY_PORT
    ));
    let a = GaneshaCfg::new("a", SERVER_A, GRACE, LEASE);
    let lab = r.lab;
    lab.in_ns(|| body(r, &a))?
}

fn body(r: &mut Rec<'_>, a: &GaneshaCfg) -> Result<()> {
    let s = a.ip;
    start_servers(r, &[a])?;
    let (ip1, ip2) = (client_ip(1), client_ip(2));
    r.client(format!("{ip1} NLM v4 caller_name nsmc1"));
    r.client(format!("{ip2} NLM v4 caller_name nsmc2"));
    r.client("127.0.0.1 local NSM client of statd".into());
    let fhs = make_files(r, s, ip1, &["f1"])?;
    wait_grace(r, a, || {})?;
    let l1 = nlm_lock("nsmc1", &fhs[0], 401, 0, 10, true);
    let l2 = nlm_lock("nsmc2", &fhs[0], 402, 20, 10, true);
    let mut c1 = NlmClient::connect(ip1, s, Proto::Tcp, "nsmc1")?;
    let mut c2 = NlmClient::connect(ip2, s, Proto::Tcp, "nsmc2")?;
    let o = c1.lock(&l1, false)?;
    r.nlm("nlm_lock", s, ip1, "LOCK f1 [0,10) (server sends SM_MON)", o, Some(GRANTED));
    let o = c2.lock(&l2, false)?;
    r.nlm("nlm_lock", s, ip2, "LOCK f1 [20,30) (server sends SM_MON)", o, Some(GRANTED));
    let o = c2.unlock(&l2)?;
    r.nlm("nlm_unlock", s, ip2, "UNLOCK f1 [20,30)", o, Some(GRANTED));

    // a local NSM client of statd (as a kernel lockd would be)
    let lo = std::net::Ipv4Addr::LOCALHOST;
    // find statd with rpcbind v4 GETADDR (and ask v3 for NLM, as a TI-RPC client would)
    let port = crate::client::transport::getaddr(lo, lo, 4, nlmp::NSM_PROG, 1, "udp")?;
    let nlm_port = crate::client::transport::getaddr(lo, s, 3, nlmp::NLM_PROG, 4, "tcp")?;
    r.ev("rpcbind_getaddr", None, &format!("GETADDR v4 statd udp -> {port}, GETADDR v3 NLM tcp -> {nlm_port}"));
    let mut sm = RpcConn::connect(Endpoint { local: lo, server: lo, port, proto: Proto::Udp, reserved: false }, Cred::None)?;
    let id = MyId { my_name: "127.0.0.1".into(), my_prog: 100021, my_vers: 4, my_proc: 16 };
    let st = sm.call(nlmp::nsm(nlmp::SM_STAT), &nlmp::sm_stat_args("127.0.10.7"))?;
    let (res, state) = nlmp::parse_sm_stat_res(&st.body)?;
    r.call("nsm_stat", lo, lo, format!("SM_STAT 127.0.10.7 -> state {state}"), st.xid, res, format!("STAT_{}", if res == 0 { "SUCC" } else { "FAIL" }));
    let mon = sm.call(nlmp::nsm(nlmp::SM_MON), &nlmp::sm_mon_args("127.0.10.7", &id, [7; 16]))?;
    let (res, _) = nlmp::parse_sm_stat_res(&mon.body)?;
    r.call("nsm_mon", lo, lo, "SM_MON 127.0.10.7".into(), mon.xid, res, format!("STAT_{}", if res == 0 { "SUCC" } else { "FAIL" }));
    if res != 0 {
        r.fail(format!("SM_MON from 127.0.0.1 refused: {res}"));
    }
    let un = sm.call(nlmp::nsm(nlmp::SM_UNMON), &nlmp::sm_unmon_args("127.0.10.7", &id))?;
    r.call("nsm_unmon", lo, lo, "SM_UNMON 127.0.10.7".into(), un.xid, 0, "done".into());

    // server host "reboots": ganesha dies, sm-notify announces the reboot to every
    // monitored host (before ganesha starts again: at its start ganesha sends
    // SM_UNMON_ALL, which empties statd's records), then ganesha comes back
    r.lab.stop_ganesha("a", libc::SIGKILL)?;
    r.ev("server_kill", Some(s), "ganesha a killed with SIGKILL");
    let monitored: Vec<String> = std::fs::read_dir(r.lab.statedir.join("sm"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    r.ev("statd_monitored", None, &format!("statd sm/ records before sm-notify: {monitored:?}"));
    if monitored.is_empty() {
        r.fail("statd has no monitor records: no SM_NOTIFY will be sent".into());
    }
    let statedir = r.lab.statedir.display().to_string();
    let port = crate::lab::SM_NOTIFY_PORT.to_string();
    // no -v: it needs a resolvable name, and the namespace has no resolver; the
    // SM_NOTIFY mon_name is then the machine's host name
    let out = r.lab.run("sm-notify", &["sm-notify", "-f", "-d", "-m", "1", "-p", &port, "-P", &statedir], Duration::from_secs(30))?;
    r.ev("sm_notify", None, &format!("sm-notify -f exited with {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim().replace('\n', " | ")));
    if !out.status.success() {
        r.fail(format!("sm-notify failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    r.lab.start_ganesha(a)?;
    r.ev("server_start", Some(s), "ganesha a restarted, grace begins");
    c1.reconnect()?;
    c1.state += 2;
    let o = c1.lock(&l1, true)?;
    r.nlm("nlm_lock_reclaim", s, ip1, "LOCK f1 [0,10) reclaim after SM_NOTIFY", o, Some(GRANTED));
    r.nlm_lock(s, ip1, &l1, true);
    Ok(())
}
