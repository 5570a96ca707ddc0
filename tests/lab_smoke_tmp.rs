use gracewatch::client::nlm::NlmLock;
use gracewatch::client::session::*;
use gracewatch::client::Proto;
use gracewatch::lab::*;
use std::net::Ipv4Addr;

#[test]
fn smoke() {
    if !prereq::ready("smoke") { return; }
    let lab = Lab::new().unwrap();
    let cap = lab.dir.join("smoke.pcap");
    let td = lab.start_tcpdump(&cap).unwrap();
    lab.start_rpcbind_statd().unwrap();
    let cfg = GaneshaCfg::new("a", Ipv4Addr::new(127, 0, 0, 2), 5, 5);
    let t = std::time::Instant::now();
    lab.start_ganesha(&cfg).unwrap();
    eprintln!("ganesha up in {:?}", t.elapsed());
    let g = lab.wait_grace_end("a", std::time::Duration::from_secs(30), || {}).unwrap();
    eprintln!("grace ended at {g}");
    let srv = Ipv4Addr::new(127, 0, 0, 2);
    let me = Ipv4Addr::new(127, 0, 10, 1);
    let r = lab.in_ns(|| {
        let (_, root) = mount(me, srv, "/vfs", "client1").unwrap();
        let mut n3 = Nfs3Client::connect(me, srv, Proto::Tcp, "client1").unwrap();
        let fh = n3.lookup_or_create(&root, "f1").unwrap();
        let mut c = NlmClient::connect(me, srv, Proto::Tcp, "client1").unwrap();
        let l = NlmLock { caller_name: "client1".into(), fh, oh: b"oh1".to_vec(), svid: 1, offset: 0, len: 10, exclusive: true };
        let o = c.lock(&l, false).unwrap();
        let o2 = c.lock(&l, true).unwrap();
        (o, o2)
    }).unwrap();
    eprintln!("lock: {r:?}");
    let out = lab.run("nfs-ls", &["nfs-ls", "nfs://127.0.0.2/vfs?version=3"], std::time::Duration::from_secs(10)).unwrap();
    eprintln!("nfs-ls: {:?} {}", out.status, String::from_utf8_lossy(&out.stdout));
    lab.stop_tcpdump(&td).unwrap();
    let rows = tshark::fields(&cap, "nlm", &["frame.number", "rpc.xid", "nlm.procedure_v4", "nlm.stat"]).unwrap();
    eprintln!("{rows:?}");
    std::fs::copy(&cap, "/tmp/smoke.pcap").unwrap();
    std::fs::copy(lab.ganesha_log("a"), "/tmp/smoke-ganesha.log").unwrap();
    let pids = lab.started_pids();
    drop(lab);
    assert!(still_alive(&pids).is_empty());
}
