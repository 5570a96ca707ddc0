//! Sending a plan: every simulated client is a task with its own connection (its own
//! source port; `source_addrs` spreads them over local addresses), at most
//! `concurrency` of them at once, the calls paced to `rate` per second when asked.
//! The tasks run on `threads` single-threaded tokio runtimes (clients dealt out round
//! robin), so the replayer uses that many cores.
//!
//! Per protocol, see `send_nlm` and `send_v4`. Answers that the protocol says to
//! retry (NFS4ERR_DELAY; NFS4ERR_GRACE and NLM DENIED_GRACE_PERIOD to a normal
//! request while establishing) are retried with a growing pause for up to
//! `retry_for`; a reclaim refused for grace is final (the grace period is over).

use super::outcome::{Kind, Outcome, Result as Res};
use super::plan::Plan;
use super::rpc::{getport, CallOpts};
use crate::client::nlm::{NLM_PROG, NLM_VERS4};
use serde::Serialize;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How to send.
#[derive(Debug, Clone)]
pub struct SendConfig {
    pub target: Ipv4Addr,
    pub nfs_port: u16,
    pub rpcbind_port: u16,
    /// The NLM port; asked of the target's rpcbind when `None`.
    pub nlm_port: Option<u16>,
    /// NLM over UDP instead of TCP.
    pub nlm_udp: bool,
    /// Local addresses the simulated clients send from, dealt out round robin
    /// (empty: let the kernel choose).
    pub source_addrs: Vec<Ipv4Addr>,
    /// Simulated clients running at once.
    pub concurrency: usize,
    /// Calls per second over all clients (`None`: as fast as answers come).
    pub rate: Option<f64>,
    pub timeout: Duration,
    pub retries: u32,
    pub reconnects: u32,
    /// How long to keep retrying answers that say "later".
    pub retry_for: Duration,
    pub threads: usize,
    /// Take the locks normally instead of reclaiming them.
    pub establish: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl SendConfig {
    pub fn new(target: Ipv4Addr) -> SendConfig {
        SendConfig {
            target,
            nfs_port: 2049,
            rpcbind_port: 111,
            nlm_port: None,
            nlm_udp: false,
            source_addrs: Vec::new(),
            concurrency: 64,
            rate: None,
            timeout: Duration::from_secs(10),
            retries: 3,
            reconnects: 8,
            retry_for: Duration::from_secs(200),
            threads: 2,
            establish: false,
            progress: false,
        }
    }

    pub(crate) fn opts(&self) -> CallOpts {
        CallOpts { timeout: self.timeout, retries: self.retries, reconnects: self.reconnects }
    }
}

/// The handle a v4 open was given by the server when it was established, for the
/// reclaims that follow: (client index in `plan.v4`, open index, handle).
pub type FhUpdate = (usize, usize, Vec<u8>);

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub establish: bool,
    pub outcomes: Vec<Outcome>,
    /// Wall clock at the start (seconds since the epoch); outcome times count from it.
    pub started: f64,
    pub elapsed: f64,
    pub nlm_port: Option<u16>,
    pub retransmits: u64,
    pub reconnects: u64,
    /// Requests sent again because the answer said "later" (DELAY, GRACE).
    pub retries: u64,
    /// CPU time the sender threads used (user + system, seconds).
    pub cpu: f64,
    #[serde(skip)]
    pub fh_updates: Vec<FhUpdate>,
    /// The moment outcome times count from.
    #[serde(skip)]
    pub t0: Instant,
}

/// Spacing of calls for `--rate`.
pub(crate) struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    pub(crate) async fn wait(&self) {
        let at = {
            let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let at = (*n).max(Instant::now());
            *n = at + self.interval;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// What the client tasks share.
pub(crate) struct Shared {
    pub cfg: SendConfig,
    pub plan: Arc<Plan>,
    pub t0: Instant,
    pub nlm_port: u16,
    pacer: Option<Pacer>,
    pub done: AtomicUsize,
    pub granted: AtomicUsize,
    pub retransmits: AtomicU64,
    pub reconnects: AtomicU64,
    pub retries: AtomicU64,
    pub fh_updates: Mutex<Vec<FhUpdate>>,
}

impl Shared {
    pub fn now(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }
    pub async fn pace(&self) {
        if let Some(p) = &self.pacer {
            p.wait().await;
        }
    }
    /// The source address of simulated client `i`.
    pub fn source(&self, i: usize) -> Ipv4Addr {
        match self.cfg.source_addrs.len() {
            0 => Ipv4Addr::UNSPECIFIED,
            n => self.cfg.source_addrs[i % n],
        }
    }
    /// Count an outcome for the progress bar.
    pub fn count(&self, o: &Outcome) {
        if o.kind.is_reclaim() {
            self.done.fetch_add(1, Ordering::Relaxed);
            if o.result.is_granted() {
                self.granted.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    /// How long to pause before retry `n` of an answer that said "later".
    pub fn backoff(n: u32) -> Duration {
        Duration::from_millis(100u64 << n.min(4)).min(Duration::from_secs(2))
    }
}

/// One unit of work: a simulated client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Nlm(usize),
    V4(usize),
}

/// NLM hosts and NFSv4 clients interleaved in proportion, so that both protocols run
/// through the whole storm.
pub fn schedule(nlm: usize, v4: usize) -> Vec<Job> {
    let mut out = Vec::with_capacity(nlm + v4);
    let (mut i, mut j) = (0, 0);
    while i < nlm || j < v4 {
        // take from the protocol that is behind its share
        let nlm_behind = j >= v4 || (i < nlm && (i as u128) * (v4 as u128) <= (j as u128) * (nlm as u128));
        if nlm_behind {
            out.push(Job::Nlm(i));
            i += 1;
        } else {
            out.push(Job::V4(j));
            j += 1;
        }
    }
    out
}

/// Raise the open-file limit to its hard limit (every simulated client is a socket).
pub fn raise_nofile() -> u64 {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
    r.rlim_cur
}

/// CPU time (user + system) the calling thread has used, in seconds.
pub fn thread_cpu() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage with a valid pointer to a zeroed rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// Ask the target's rpcbind for the NLM v4 port.
pub fn nlm_port(cfg: &SendConfig) -> anyhow::Result<u16> {
    if let Some(p) = cfg.nlm_port {
        return Ok(p);
    }
    let local = cfg.source_addrs.first().copied().unwrap_or(Ipv4Addr::UNSPECIFIED);
    let rpcbind = SocketAddrV4::new(cfg.target, cfg.rpcbind_port);
    runtime()?.block_on(getport(local, rpcbind, NLM_PROG, NLM_VERS4, cfg.nlm_udp, cfg.opts())).map_err(anyhow::Error::msg)
}

/// Send the plan; returns when every planned request has its outcome.
pub fn run(plan: Arc<Plan>, cfg: &SendConfig) -> anyhow::Result<RunResult> {
    raise_nofile();
    let started = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let t0 = Instant::now();
    let nlm_port = if plan.nlm.is_empty() { 0 } else { nlm_port(cfg)? };
    let pacer = cfg.rate.filter(|r| *r > 0.0).map(|r| Pacer { interval: Duration::from_secs_f64(1.0 / r), next: Mutex::new(t0) });
    let sh = Arc::new(Shared {
        cfg: cfg.clone(),
        plan: plan.clone(),
        t0,
        nlm_port,
        pacer,
        done: AtomicUsize::new(0),
        granted: AtomicUsize::new(0),
        retransmits: AtomicU64::new(0),
        reconnects: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        fh_updates: Mutex::new(Vec::new()),
    });
    let jobs = schedule(plan.nlm.len(), plan.v4.len());
    let threads = cfg.threads.max(1).min(jobs.len().max(1));
    let finished = Arc::new(AtomicBool::new(false));
    let bar = cfg.progress.then(|| progress(sh.clone(), plan.reclaims(), finished.clone()));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let mine: Vec<Job> = jobs.iter().copied().skip(t).step_by(threads).collect();
            let sh = sh.clone();
            let limit = cfg.concurrency.div_ceil(threads).max(1);
            std::thread::Builder::new().name(format!("replay-{t}")).spawn(move || -> std::io::Result<(Vec<Outcome>, f64)> {
                let v = runtime()?.block_on(run_jobs(sh, mine, limit))?;
                Ok((v, thread_cpu()))
            })
        })
        .collect::<std::io::Result<_>>()?;
    let mut outcomes = Vec::with_capacity(plan.reclaims() + plan.v4.len() * 2);
    let mut err = None;
    let mut cpu = 0.0;
    for h in handles {
        match h.join() {
            Ok(Ok((v, c))) => {
                outcomes.extend(v);
                cpu += c;
            }
            Ok(Err(e)) => err = Some(anyhow::anyhow!("replay thread: {e}")),
            Err(_) => err = Some(anyhow::anyhow!("replay thread panicked")),
        }
    }
    finished.store(true, Ordering::Relaxed);
    if let Some(b) = bar {
        let _ = b.join();
    }
    if let Some(e) = err {
        return Err(e);
    }
    outcomes.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.client.cmp(&b.client)));
    let fh_updates = std::mem::take(&mut *sh.fh_updates.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(RunResult {
        establish: cfg.establish,
        outcomes,
        started,
        elapsed: t0.elapsed().as_secs_f64(),
        nlm_port: (!plan.nlm.is_empty()).then_some(nlm_port),
        retransmits: sh.retransmits.load(Ordering::Relaxed),
        reconnects: sh.reconnects.load(Ordering::Relaxed),
        retries: sh.retries.load(Ordering::Relaxed),
        cpu,
        fh_updates,
        t0,
    })
}

async fn run_jobs(sh: Arc<Shared>, jobs: Vec<Job>, limit: usize) -> std::io::Result<Vec<Outcome>> {
    let sem = Arc::new(tokio::sync::Semaphore::new(limit));
    let mut set = tokio::task::JoinSet::new();
    let mut out = Vec::new();
    for job in jobs {
        let permit = sem.clone().acquire_owned().await.map_err(std::io::Error::other)?;
        let sh = sh.clone();
        set.spawn(async move {
            let v = match job {
                Job::Nlm(i) => super::send_nlm::host(&sh, i).await,
                Job::V4(i) => super::send_v4::client(&sh, i).await,
            };
            drop(permit);
            v
        });
        // collect finished tasks as we go (keeps the set small)
        while let Some(r) = set.try_join_next() {
            out.extend(r.map_err(std::io::Error::other)?);
        }
    }
    while let Some(r) = set.join_next().await {
        out.extend(r.map_err(std::io::Error::other)?);
    }
    Ok(out)
}

fn progress(sh: Arc<Shared>, total: usize, finished: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let pb = indicatif::ProgressBar::new(total as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} reclaims {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        while !finished.load(Ordering::Relaxed) {
            let done = sh.done.load(Ordering::Relaxed);
            pb.set_position(done as u64);
            let el = sh.t0.elapsed().as_secs_f64().max(1e-3);
            pb.set_message(format!("{} granted, {:.0}/s", sh.granted.load(Ordering::Relaxed), done as f64 / el));
            std::thread::sleep(Duration::from_millis(200));
        }
        pb.finish_and_clear();
    })
}

/// An outcome for every request of a client that was never sent.
pub(crate) fn not_sent(sh: &Shared, protocol: &'static str, kind: Kind, client: usize, name: &str, result: Res) -> Outcome {
    let t = sh.now();
    Outcome { protocol, kind, client, client_name: name.to_string(), result, start: t, end: t, attempts: 0, xid: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_interleaves_in_proportion() {
        let s = schedule(4, 2);
        assert_eq!(s, [Job::Nlm(0), Job::V4(0), Job::Nlm(1), Job::Nlm(2), Job::V4(1), Job::Nlm(3)]);
        let s = schedule(10_000, 1_000);
        assert_eq!(s.len(), 11_000);
        // every window of 110 jobs holds about 10 NFSv4 clients
        for w in s.chunks(110) {
            let v4 = w.iter().filter(|j| matches!(j, Job::V4(_))).count();
            assert!((9..=11).contains(&v4), "{v4}");
        }
        assert_eq!(schedule(0, 3), [Job::V4(0), Job::V4(1), Job::V4(2)]);
        assert_eq!(schedule(2, 0), [Job::Nlm(0), Job::Nlm(1)]);
        assert!(schedule(0, 0).is_empty());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(Shared::backoff(0), Duration::from_millis(100));
        assert_eq!(Shared::backoff(2), Duration::from_millis(400));
        assert_eq!(Shared::backoff(30), Duration::from_millis(1600));
    }
}
