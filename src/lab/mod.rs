//! The lab: real NFS servers (NFS-Ganesha, rpcbind, rpc.statd) and captures in a
//! private network namespace that has only `lo`.
//!
//! Every daemon, every client socket and tcpdump runs inside the namespace: daemons
//! through `ip netns exec`, in-process clients on a thread that joined the namespace
//! with `setns` ([`Lab::in_ns`]). The [`Lab`] value owns the namespace, a temporary
//! directory and every child process; dropping it kills and reaps them all and deletes
//! the namespace, also when a test panics.

pub mod ganesha;
pub mod manifest;
pub mod prereq;
pub mod scenarios;
pub mod tshark;

pub use ganesha::GaneshaCfg;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Prefix of every namespace the lab creates: `gw-lab-<pid>-<n>`.
pub const NS_PREFIX: &str = "gw-lab-";
/// The extra IPv4 address on `lo` that makes ganesha's AI_ADDRCONFIG lookup succeed.
pub const EXTRA_V4: &str = "127.0.0.254/8";
/// An IPv6 address on `lo` of the private namespace. Ganesha 4.3 binds IPv6 sockets
/// and only honours `Bind_addr` when it is an IPv6 address, so servers are bound to
/// `::ffff:127.0.0.N`; resolving that with AI_ADDRCONFIG needs one non-loopback IPv6
/// address to exist. Nothing is ever sent to it.
pub const EXTRA_V6: &str = "fd00:6777::fe/128";
pub const STATD_PORT: u16 = 32765;
pub const STATD_OUT_PORT: u16 = 32766;
/// Source port of sm-notify (fixed so that captures decode with a fixed decode-as list).
pub const SM_NOTIFY_PORT: u16 = 32767;

/// Ephemeral port range inside the namespace.
pub const EPHEMERAL_PORTS: &str = "net.ipv4.ip_local_port_range=40000 60999";

static LAB_SEQ: AtomicU32 = AtomicU32::new(0);

/// A process the lab started.
struct Proc {
    name: String,
    child: Child,
}

/// Errors of the lab: the message says what failed and includes log tails.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    Msg(String),
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    #[error("client: {0}")]
    Client(#[from] crate::client::ClientError),
    #[error("xdr: {0}")]
    Xdr(#[from] crate::xdr::XdrError),
}

pub type Result<T> = std::result::Result<T, LabError>;

pub(crate) fn err<T>(s: impl Into<String>) -> Result<T> {
    Err(LabError::Msg(s.into()))
}

/// A running lab.
pub struct Lab {
    pub ns: String,
    pub dir: PathBuf,
    pub statedir: PathBuf,
    pub export: PathBuf,
    procs: Mutex<Vec<Proc>>,
    started: Mutex<Vec<u32>>,
    servers: Mutex<HashMap<String, (GaneshaCfg, u32, u64)>>,
    pub t0: Instant,
    last_ganesha_start: Mutex<Option<Instant>>,
    keep: bool,
}

fn run_ok(cmd: &mut Command) -> Result<String> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return err(format!("{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Is `pid` a live (not zombie) process?
pub fn pid_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            // state is the field after the ")" that closes comm
            let state = s.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().next()).unwrap_or("X");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

/// Which of `pids` are still alive.
pub fn still_alive(pids: &[u32]) -> Vec<u32> {
    pids.iter().copied().filter(|p| pid_alive(*p)).collect()
}

pub fn netns_exists(name: &str) -> bool {
    Path::new("/var/run/netns").join(name).exists()
}

fn netns_pids(ns: &str) -> Vec<u32> {
    Command::new("ip")
        .args(["netns", "pids", ns])
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().filter_map(|s| s.parse().ok()).collect())
        .unwrap_or_default()
}

fn kill(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a pid this lab started.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// Remove namespaces left behind by lab runs whose process no longer exists (a test
/// binary killed by a timeout cannot run its guards); their processes are killed by pid.
fn reap_stale_namespaces() {
    let Ok(list) = run_ok(Command::new("ip").args(["netns", "list"])) else { return };
    for line in list.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(NS_PREFIX) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid_alive(pid) {
            continue;
        }
        for p in netns_pids(name) {
            kill(p, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(100));
        let _ = Command::new("ip").args(["netns", "del", name]).status();
    }
}

/// Join the network namespace `ns` on the calling thread and check it has only `lo`.
pub fn enter_netns(ns: &str) -> Result<()> {
    let f = fs::File::open(Path::new("/var/run/netns").join(ns))?;
    use std::os::fd::AsRawFd;
    // SAFETY: setns(2) on an open namespace fd; affects only the calling thread.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(io::Error::last_os_error().into());
    }
    let dev = fs::read_to_string("/proc/thread-self/net/dev")?;
    let ifaces: Vec<&str> = dev.lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect();
    if ifaces != ["lo"] {
        return err(format!("namespace {ns} has interfaces {ifaces:?}, expected only lo"));
    }
    Ok(())
}

impl Lab {
    /// Create the namespace and the directories; start nothing yet.
    pub fn new() -> Result<Lab> {
        reap_stale_namespaces();
        let n = LAB_SEQ.fetch_add(1, Ordering::Relaxed);
        let ns = format!("{NS_PREFIX}{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(&ns);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        let statedir = dir.join("statd");
        let export = dir.join("export");
        fs::create_dir_all(statedir.join("sm"))?;
        fs::create_dir_all(statedir.join("sm.bak"))?;
        fs::create_dir_all(&export)?;
        fs::create_dir_all(dir.join("run"))?;
        fs::write(statedir.join("state"), [])?;
        // world-writable: the libnfs clients run as nobody
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&export, fs::Permissions::from_mode(0o777))?;
        run_ok(Command::new("chown").args(["-R", "statd"]).arg(&statedir))?;
        let lab = Lab {
            ns: ns.clone(),
            dir,
            statedir,
            export,
            procs: Mutex::new(Vec::new()),
            started: Mutex::new(Vec::new()),
            servers: Mutex::new(HashMap::new()),
            t0: Instant::now(),
            last_ganesha_start: Mutex::new(None),
            keep: std::env::var_os("GW_LAB_KEEP").is_some(),
        };
        run_ok(Command::new("ip").args(["netns", "add", &ns]))?;
        lab.ip(&["link", "set", "lo", "up"])?;
        lab.ip(&["addr", "add", EXTRA_V4, "dev", "lo"])?;
        lab.ip(&["-6", "addr", "add", EXTRA_V6, "dev", "lo", "nodad"])?;
        // Ephemeral ports above every fixed service port of the lab, so that a decoder
        // that tries the lower port of a connection first meets the service port.
        run_ok(Command::new("ip").args(["netns", "exec", &ns, "sysctl", "-q", "-w", EPHEMERAL_PORTS]))?;
        Ok(lab)
    }

    fn ip(&self, args: &[&str]) -> Result<String> {
        run_ok(Command::new("ip").args(["netns", "exec", &self.ns, "ip"]).args(args))
    }

    /// Seconds since the lab was created.
    pub fn now(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }

    /// Run `f` on a thread inside the namespace (sockets it opens live there).
    pub fn in_ns<F, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        let ns = self.ns.clone();
        std::thread::scope(|s| {
            let h = s.spawn(move || -> Result<R> {
                enter_netns(&ns)?;
                Ok(f())
            });
            match h.join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            }
        })
    }

    /// `ip netns exec NS` with a lab-private /run: the daemons' unix sockets, pid and
    /// lock files (rpcbind.sock, rpcbind.lock, rpc.statd.pid, sm-notify.pid) must not
    /// meet those of the host or of another lab. `ip netns exec` gives every command
    /// its own mount namespace (slave of the host's), so the bind mount stays private;
    /// `exec` keeps the pid.
    fn ns_command(&self, argv: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, "sh", "-c", "mount --bind \"$0\" /run && exec \"$@\""]);
        cmd.arg(self.dir.join("run")).args(argv);
        cmd
    }

    /// Start `argv` inside the namespace in its own session; stdout and stderr go to
    /// `<dir>/<name>.out`. The pid is the program's own (`ip netns exec` execs it).
    pub fn spawn(&self, name: &str, argv: &[&str]) -> Result<u32> {
        let out = fs::OpenOptions::new().create(true).append(true).open(self.dir.join(format!("{name}.out")))?;
        let mut cmd = self.ns_command(argv);
        cmd.stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
        // SAFETY: setsid(2) is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| LabError::Msg(format!("cannot start {argv:?}: {e}")))?;
        let pid = child.id();
        self.started.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        self.procs.lock().unwrap_or_else(|e| e.into_inner()).push(Proc { name: name.to_string(), child });
        Ok(pid)
    }

    /// Send `sig` to a child and, for SIGKILL/SIGTERM/SIGINT, wait for it (up to `wait`).
    pub fn signal(&self, pid: u32, sig: i32, wait: Duration) -> Result<()> {
        kill(pid, sig);
        let deadline = Instant::now() + wait;
        loop {
            let mut procs = self.procs.lock().unwrap_or_else(|e| e.into_inner());
            let Some(i) = procs.iter().position(|p| p.child.id() == pid) else { return Ok(()) };
            if let Ok(Some(_)) = procs[i].child.try_wait() {
                procs.remove(i);
                return Ok(());
            }
            drop(procs);
            if Instant::now() >= deadline {
                return err(format!("pid {pid} still running {wait:?} after signal {sig}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Has the child exited? (Reaps it if so.)
    pub fn exited(&self, pid: u32) -> bool {
        let mut procs = self.procs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(i) = procs.iter().position(|p| p.child.id() == pid) else { return true };
        if let Ok(Some(_)) = procs[i].child.try_wait() {
            procs.remove(i);
            return true;
        }
        false
    }

    /// Run a program inside the namespace to completion (killed after `timeout`).
    pub fn run(&self, name: &str, argv: &[&str], timeout: Duration) -> Result<std::process::Output> {
        let mut cmd = self.ns_command(argv);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| LabError::Msg(format!("cannot start {argv:?}: {e}")))?;
        let pid = child.id();
        self.started.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        let mut so = child.stdout.take();
        let mut se = child.stderr.take();
        let ho = std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(s) = so.as_mut() {
                let _ = s.read_to_end(&mut v);
            }
            v
        });
        let he = std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(s) = se.as_mut() {
                let _ = s.read_to_end(&mut v);
            }
            v
        });
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(st) = child.try_wait()? {
                break st;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return err(format!("{name}: {argv:?} timed out after {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(std::process::Output { status, stdout: ho.join().unwrap_or_default(), stderr: he.join().unwrap_or_default() })
    }

    /// Last `n` lines of a file in the lab directory (for error messages).
    pub fn tail(&self, file: &str, n: usize) -> String {
        let s = fs::read_to_string(self.dir.join(file)).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Start rpcbind and rpc.statd and wait until statd is registered.
    pub fn start_rpcbind_statd(&self) -> Result<()> {
        // `-h 127.0.0.1` is not used: that rpcbind build aborts with it.
        let rb = self.spawn("rpcbind", &["rpcbind", "-f"])?;
        self.wait_tcp("127.0.0.1", 111, Duration::from_secs(10), rb, "rpcbind.out")?;
        let statedir = self.statedir.to_string_lossy().into_owned();
        let p = STATD_PORT.to_string();
        let o = STATD_OUT_PORT.to_string();
        let sd = self.spawn("statd", &["rpc.statd", "-F", "-d", "-L", "-p", &p, "-o", &o, "-P", &statedir])?;
        self.wait_registered(crate::client::nlm::NSM_PROG, 1, Duration::from_secs(10), sd, "statd.out")?;
        Ok(())
    }

    /// Wait until `ip:port` accepts TCP connections (from inside the namespace).
    pub fn wait_tcp(&self, ip: &str, port: u16, timeout: Duration, pid: u32, log: &str) -> Result<()> {
        let addr: std::net::SocketAddr = format!("{ip}:{port}").parse().map_err(|_| LabError::Msg(format!("bad address {ip}")))?;
        let deadline = Instant::now() + timeout;
        loop {
            let ok = self.in_ns(|| std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok())?;
            if ok {
                return Ok(());
            }
            if self.exited(pid) {
                return err(format!("process {pid} exited before {addr} accepted connections:\n{}", self.tail(log, 20)));
            }
            if Instant::now() >= deadline {
                return err(format!("{addr} did not accept connections within {timeout:?}:\n{}", self.tail(log, 20)));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until rpcbind knows `prog`/`vers` over TCP.
    pub fn wait_registered(&self, prog: u32, vers: u32, timeout: Duration, pid: u32, log: &str) -> Result<u16> {
        let deadline = Instant::now() + timeout;
        let lo = std::net::Ipv4Addr::LOCALHOST;
        loop {
            let r = self.in_ns(|| crate::client::transport::getport(lo, lo, prog, vers, crate::client::Proto::Tcp))?;
            if let Ok(port) = r {
                return Ok(port);
            }
            if self.exited(pid) {
                return err(format!("process {pid} exited before registering {prog} v{vers}:\n{}", self.tail(log, 20)));
            }
            if Instant::now() >= deadline {
                return err(format!("{prog} v{vers} not registered within {timeout:?}:\n{}", self.tail(log, 20)));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every pid this lab ever started.
    pub fn started_pids(&self) -> Vec<u32> {
        self.started.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Processes of this lab still alive: tracked children and anything else in the
    /// namespace.
    pub fn alive(&self) -> Vec<(u32, String)> {
        let mut v: Vec<(u32, String)> = Vec::new();
        for p in self.procs.lock().unwrap_or_else(|e| e.into_inner()).iter_mut() {
            if let Ok(None) = p.child.try_wait() {
                v.push((p.child.id(), p.name.clone()));
            }
        }
        for pid in netns_pids(&self.ns) {
            if !v.iter().any(|(p, _)| *p == pid) {
                let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                v.push((pid, comm.trim().to_string()));
            }
        }
        v
    }

    /// Kill and reap every child, then everything left in the namespace; delete it.
    pub fn shutdown(&self) {
        let mut procs = std::mem::take(&mut *self.procs.lock().unwrap_or_else(|e| e.into_inner()));
        // tcpdump first, gently, so that its file is complete
        for p in procs.iter_mut().filter(|p| p.name.starts_with("tcpdump")) {
            if let Ok(None) = p.child.try_wait() {
                kill(p.child.id(), libc::SIGINT);
                let deadline = Instant::now() + Duration::from_secs(3);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = p.child.try_wait() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        for p in procs.iter_mut() {
            if let Ok(None) = p.child.try_wait() {
                let _ = p.child.kill();
            }
            let _ = p.child.wait();
        }
        for _ in 0..3 {
            let left = netns_pids(&self.ns);
            if left.is_empty() {
                break;
            }
            for pid in left {
                kill(pid, libc::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if netns_exists(&self.ns) {
            let _ = Command::new("ip").args(["netns", "del", &self.ns]).stderr(Stdio::null()).status();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.shutdown();
        if !self.keep {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_liveness() {
        let me = std::process::id();
        assert!(pid_alive(me));
        let mut c = Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        // reaped: gone (unless the pid was reused at once, which the kernel avoids)
        assert!(still_alive(&[pid, me]) == vec![me]);
        assert!(!pid_alive(u32::MAX));
    }

    #[test]
    fn namespace_names_are_recognisable() {
        assert!(!netns_exists("gw-lab-no-such-namespace"));
        assert!(format!("{NS_PREFIX}1-2").starts_with("gw-lab-"));
    }
}
