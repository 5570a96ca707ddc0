//! NFS-Ganesha servers and tcpdump inside the lab namespace.
//!
//! Ports: both servers (primary 127.0.0.2 and failover 127.0.0.3) use the same NFS,
//! MOUNT and NLM ports, each bound to its own address. They share one rpcbind, and a
//! program number can be registered only once per netid there, so whichever server
//! registered last owns the entry; with identical ports the entry is right for both.
//! Bind_addr is written as `::ffff:127.0.0.N`: this ganesha build binds IPv6 sockets
//! and ignores an IPv4 Bind_addr (it would listen on every address, and a second
//! server could not start).

use super::{err, Lab, LabError, Result};
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const NFS_PORT: u16 = 2049;
pub const MNT_PORT: u16 = 20048;
pub const NLM_PORT: u16 = 32803;
pub const PLUGINS_DIR: &str = "/usr/lib/x86_64-linux-gnu/ganesha";

/// One server's configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GaneshaCfg {
    /// Short name: file names under the lab directory.
    pub name: String,
    pub ip: Ipv4Addr,
    pub grace: u32,
    pub lease: u32,
    pub graceless: bool,
}

impl GaneshaCfg {
    pub fn new(name: &str, ip: Ipv4Addr, grace: u32, lease: u32) -> Self {
        GaneshaCfg { name: name.to_string(), ip, grace, lease, graceless: false }
    }

    /// ganesha.conf text for this server exporting `export` as `/vfs`.
    pub fn render(&self, export: &Path, recovery: &Path) -> String {
        format!(
            r#"NFS_CORE_PARAM {{
    Bind_addr = ::ffff:{ip};
    NFS_Port = {NFS_PORT};
    MNT_Port = {MNT_PORT};
    NLM_Port = {NLM_PORT};
    Protocols = 3, 4;
    Enable_NLM = true;
    Enable_RQUOTA = false;
    Enable_UDP = true;
    Mount_Path_Pseudo = true;
    Plugins_Dir = "{PLUGINS_DIR}";
}}
NFSv4 {{
    Grace_Period = {grace};
    Lease_Lifetime = {lease};
    Graceless = {graceless};
    RecoveryBackend = fs;
    RecoveryRoot = "{rec}";
    Minor_Versions = 0, 1, 2;
}}
EXPORT {{
    Export_Id = 1;
    Path = "{export}";
    Pseudo = "/vfs";
    Access_Type = RW;
    Squash = No_Root_Squash;
    Protocols = 3, 4;
    Transports = TCP, UDP;
    SecType = sys;
    FSAL {{ Name = VFS; }}
}}
"#,
            ip = self.ip,
            grace = self.grace,
            lease = self.lease,
            graceless = self.graceless,
            rec = recovery.display(),
            export = export.display(),
        )
    }
}

/// A capture being written by tcpdump.
#[derive(Debug, Clone)]
pub struct Tcpdump {
    pub pid: u32,
    pub file: PathBuf,
    /// Lab time when tcpdump was listening.
    pub t_start: f64,
}

impl Lab {
    pub fn server_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    pub fn recovery_dir(&self, name: &str) -> PathBuf {
        self.server_dir(name).join("recovery")
    }
    pub fn ganesha_log(&self, name: &str) -> PathBuf {
        self.server_dir(name).join("ganesha.log")
    }

    /// Start a ganesha (first start or restart with the same config and RecoveryRoot)
    /// and wait until TCP 2049 accepts and rpcbind knows NLM v4. Returns its pid.
    pub fn start_ganesha(&self, cfg: &GaneshaCfg) -> Result<u32> {
        // Ganesha's boot epoch (high half of its clientids) is its start time in
        // seconds: two starts within one second would hand out the same clientids.
        {
            let mut last = self.last_ganesha_start.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(t) = *last {
                let min = Duration::from_millis(1100);
                if t.elapsed() < min {
                    std::thread::sleep(min - t.elapsed());
                }
            }
            *last = Some(Instant::now());
        }
        let d = self.server_dir(&cfg.name);
        fs::create_dir_all(d.join("run"))?;
        fs::create_dir_all(self.recovery_dir(&cfg.name))?;
        let conf = d.join("ganesha.conf");
        fs::write(&conf, cfg.render(&self.export, &self.recovery_dir(&cfg.name)))?;
        let log = self.ganesha_log(&cfg.name);
        let log_off = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let pidfile = d.join("run/ganesha.pid");
        let (c, l, p) = (conf.to_string_lossy().into_owned(), log.to_string_lossy().into_owned(), pidfile.to_string_lossy().into_owned());
        let out = format!("ganesha-{}", cfg.name);
        let pid = self.spawn(&out, &["ganesha.nfsd", "-F", "-f", &c, "-L", &l, "-p", &p, "-N", "NIV_EVENT"])?;
        self.servers.lock().unwrap_or_else(|e| e.into_inner()).insert(cfg.name.clone(), (cfg.clone(), pid, log_off));
        let logrel = format!("{}/ganesha.log", cfg.name);
        self.wait_tcp(&cfg.ip.to_string(), NFS_PORT, Duration::from_secs(30), pid, &logrel)?;
        self.wait_registered(crate::client::nlm::NLM_PROG, 4, Duration::from_secs(30), pid, &logrel)?;
        Ok(pid)
    }

    /// The pid of a running server.
    pub fn ganesha_pid(&self, name: &str) -> Option<u32> {
        self.servers.lock().unwrap_or_else(|e| e.into_inner()).get(name).map(|s| s.1)
    }

    /// Stop a server with SIGKILL (a crash) or SIGTERM (a clean stop) and reap it.
    pub fn stop_ganesha(&self, name: &str, sig: i32) -> Result<()> {
        let pid = self.ganesha_pid(name).ok_or_else(|| LabError::Msg(format!("no server {name}")))?;
        let wait = if sig == libc::SIGKILL { Duration::from_secs(5) } else { Duration::from_secs(30) };
        self.signal(pid, sig, wait)
    }

    /// Stop and start again with the same configuration and RecoveryRoot.
    pub fn restart_ganesha(&self, name: &str, sig: i32) -> Result<u32> {
        let cfg = self.servers.lock().unwrap_or_else(|e| e.into_inner()).get(name).map(|s| s.0.clone());
        let cfg = cfg.ok_or_else(|| LabError::Msg(format!("no server {name}")))?;
        self.stop_ganesha(name, sig)?;
        self.start_ganesha(&cfg)
    }

    /// Copy the recovery records (RecoveryRoot contents) of one server to another.
    pub fn copy_recovery(&self, from: &str, to: &str) -> Result<()> {
        copy_tree(&self.recovery_dir(from), &self.recovery_dir(to))
    }

    /// Text of the server's log since its latest start.
    pub fn log_since_start(&self, name: &str) -> String {
        let off = self.servers.lock().unwrap_or_else(|e| e.into_inner()).get(name).map(|s| s.2).unwrap_or(0);
        let b = fs::read(self.ganesha_log(name)).unwrap_or_default();
        String::from_utf8_lossy(b.get(off as usize..).unwrap_or(&[])).into_owned()
    }

    /// Wait until the server's log says its grace period ended (the log is the only
    /// signal that leaves nothing on the wire). Calls `tick` about every second so
    /// clients can keep their leases.
    pub fn wait_grace_end(&self, name: &str, timeout: Duration, mut tick: impl FnMut()) -> Result<f64> {
        let deadline = Instant::now() + timeout;
        let mut last = Instant::now();
        loop {
            if self.log_since_start(name).contains("NOT IN GRACE") {
                return Ok(self.now());
            }
            if Instant::now() >= deadline {
                return err(format!("{name}: grace did not end within {timeout:?}"));
            }
            if last.elapsed() >= Duration::from_secs(1) {
                tick();
                last = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Start tcpdump on `lo` of the namespace, writing `file`; returns when it listens.
    pub fn start_tcpdump(&self, file: &Path) -> Result<Tcpdump> {
        let f = file.to_string_lossy().into_owned();
        let name = "tcpdump";
        let _ = fs::remove_file(self.dir.join(format!("{name}.out")));
        // -B: with -s 0 every ring slot is 256 KiB, so the default 2 MiB ring holds
        // only 8 packets and bursts are dropped; 64 MiB holds 256.
        // --immediate-mode: deliver every packet at once (no partly filled blocks
        // left behind when tcpdump is stopped).
        let pid = self.spawn(name, &["tcpdump", "-i", "lo", "-s", "0", "-B", "65536", "-U", "--immediate-mode", "-Z", "root", "-w", &f])?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.tail("tcpdump.out", 5).contains("listening on") {
            if self.exited(pid) || Instant::now() >= deadline {
                return err(format!("tcpdump did not start: {}", self.tail("tcpdump.out", 5)));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Tcpdump { pid, file: file.to_path_buf(), t_start: self.now() })
    }

    /// Stop tcpdump with SIGINT and wait, so that the file is complete. Returns the
    /// number of packets the kernel dropped (from tcpdump's statistics).
    pub fn stop_tcpdump(&self, t: &Tcpdump) -> Result<u64> {
        // tcpdump writes every packet as it reads it (-U): wait until the file has
        // stopped growing, so that the last packets are in it before SIGINT.
        let size = || fs::metadata(&t.file).map(|m| m.len()).unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(5);
        let (mut last, mut since) = (size(), Instant::now());
        while Instant::now() < deadline && since.elapsed() < Duration::from_millis(600) {
            std::thread::sleep(Duration::from_millis(100));
            let now = size();
            if now != last {
                last = now;
                since = Instant::now();
            }
        }
        self.signal(t.pid, libc::SIGINT, Duration::from_secs(10))?;
        let stats = self.tail("tcpdump.out", 5);
        let dropped = stats
            .lines()
            .find(|l| l.contains("dropped by kernel"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok());
        dropped.ok_or_else(|| LabError::Msg(format!("no tcpdump statistics: {stats}")))
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let dst = to.join(e.file_name());
        let ty = e.file_type()?;
        if ty.is_dir() {
            copy_tree(&e.path(), &dst)?;
        } else if ty.is_symlink() {
            let target = fs::read_link(e.path())?;
            let _ = fs::remove_file(&dst);
            std::os::unix::fs::symlink(target, &dst)?;
        } else {
            fs::copy(e.path(), &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_mapped_bind_addr_and_grace() {
        let mut c = GaneshaCfg::new("a", Ipv4Addr::new(127, 0, 0, 3), 12, 11);
        c.graceless = true;
        let s = c.render(Path::new("/x/export"), Path::new("/x/rec"));
        assert!(s.contains("Bind_addr = ::ffff:127.0.0.3;"));
        assert!(s.contains("Grace_Period = 12;"));
        assert!(s.contains("Lease_Lifetime = 11;"));
        assert!(s.contains("Graceless = true;"));
        assert!(s.contains("RecoveryRoot = \"/x/rec\";"));
        assert!(s.contains("Path = \"/x/export\";"));
        assert!(s.contains(&format!("NLM_Port = {NLM_PORT};")));
    }

    #[test]
    fn copy_tree_copies_nested_files() {
        let base = std::env::temp_dir().join(format!("gw-copytree-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(base.join("a/v4recov/x")).unwrap();
        fs::write(base.join("a/v4recov/x/rec"), b"r").unwrap();
        copy_tree(&base.join("a"), &base.join("b")).unwrap();
        assert_eq!(fs::read(base.join("b/v4recov/x/rec")).unwrap(), b"r");
        let _ = fs::remove_dir_all(&base);
    }
}
