//! Capture sources: pcap/pcapng files (several merged by timestamp, or stdin) and live
//! interfaces, all through libpcap. The only module besides the binary, the lab and
//! the replay sender that does I/O.

use crate::error::{Error, Result};
use crate::net::link::LinkType;
use crate::net::{FrameRef, Ts};
use pcap::{Active, Capture, Linktype, Offline, Precision};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub mod drive;
mod mapped;
mod relay;
pub use drive::{run, run_threads, Input, RunReport};

/// One frame as read from a source.
pub struct Frame<'a> {
    pub at: FrameRef,
    pub link: LinkType,
    pub data: &'a [u8],
    pub orig_len: u32,
}

fn ts_of(h: &pcap::PacketHeader) -> Ts {
    // Opened with nanosecond precision: tv_usec holds nanoseconds.
    h.ts.tv_sec as i64 * 1_000_000_000 + h.ts.tv_usec as i64
}

fn link_name(l: Linktype) -> String {
    l.get_name().map(|n| n.trim_start_matches("DLT_").to_string()).unwrap_or_else(|_| "unknown".into())
}

/// How a file is read: classic pcap of Ethernet frames from a memory map, anything
/// else through libpcap.
enum Reader {
    Mapped(mapped::Mapped),
    Libpcap(Capture<Offline>),
}

/// A capture file being read.
pub struct FileSource {
    cap: Reader,
    pub path: String,
    pub link: LinkType,
    pub index: u16,
    frames: u64,
    done: bool,
}

impl FileSource {
    /// Open a pcap or pcapng file; `-` reads standard input.
    pub fn open(path: &str, index: u16) -> Result<FileSource> {
        if path != "-" {
            if let Some(m) = mapped::Mapped::open(path) {
                let link = LinkType::from_dlt(1).ok_or_else(|| Error::UnsupportedLinkType { path: path.to_string(), linktype: 1, name: "EN10MB".into() })?;
                return Ok(FileSource { cap: Reader::Mapped(m), path: path.to_string(), link, index, frames: 0, done: false });
            }
        }
        let cap = if path == "-" {
            // SAFETY: fd 0 stays open for the life of the process.
            unsafe { Capture::from_raw_fd_with_precision(0, Precision::Nano) }
        } else {
            if let Err(e) = std::fs::metadata(path) {
                return Err(Error::Open { path: path.into(), msg: e.to_string().to_lowercase() });
            }
            Capture::from_file_with_precision(path, Precision::Nano)
        }
        .map_err(|e| Error::Open { path: path.into(), msg: open_msg(&e) })?;
        let dlt = cap.get_datalink();
        let link = LinkType::from_dlt(dlt.0)
            .ok_or_else(|| Error::UnsupportedLinkType { path: path.to_string(), linktype: dlt.0, name: link_name(dlt) })?;
        Ok(FileSource { cap: Reader::Libpcap(cap), path: path.to_string(), link, index, frames: 0, done: false })
    }

    /// The next frame, `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>> {
        if self.done {
            return Ok(None);
        }
        let cap = match &mut self.cap {
            Reader::Mapped(m) => {
                return match m.next() {
                    Ok(Some(r)) => {
                        self.frames += 1;
                        let at = FrameRef { file: self.index, frame: self.frames, ts: r.ts };
                        Ok(Some(Frame { at, link: self.link, data: r.data, orig_len: r.orig_len }))
                    }
                    Ok(None) => {
                        self.done = true;
                        Ok(None)
                    }
                    Err(e) => {
                        self.done = true;
                        Err(match e {
                            mapped::RecError::Truncated(msg) => Error::Truncated { path: self.path.clone(), frame: self.frames, msg },
                            mapped::RecError::Bad(msg) => Error::Read { path: self.path.clone(), frame: self.frames, msg },
                        })
                    }
                };
            }
            Reader::Libpcap(c) => c,
        };
        match cap.next_packet() {
            Ok(p) => {
                self.frames += 1;
                let at = FrameRef { file: self.index, frame: self.frames, ts: ts_of(p.header) };
                Ok(Some(Frame { at, link: self.link, data: p.data, orig_len: p.header.len }))
            }
            Err(pcap::Error::NoMorePackets) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                let msg = e.to_string();
                if msg.contains("truncated") {
                    Err(Error::Truncated { path: self.path.clone(), frame: self.frames, msg })
                } else {
                    Err(Error::Read { path: self.path.clone(), frame: self.frames, msg })
                }
            }
        }
    }
}

fn open_msg(e: &pcap::Error) -> String {
    let s = e.to_string();
    let s = s.trim_start_matches("libpcap error: ");
    if s.contains("unknown file format") || s.contains("bad dump file format") {
        "not a pcap or pcapng capture file".into()
    } else {
        s.to_string()
    }
}

/// Several files read as one stream, merged by timestamp (as from several cluster
/// nodes). Each file keeps its own frame numbers.
pub struct Merged {
    sources: Vec<FileSource>,
    /// The next frame of each source, copied out (the buffer is reused).
    heads: Vec<Option<Head>>,
    errors: Vec<Error>,
}

struct Head {
    at: FrameRef,
    data: Vec<u8>,
    orig_len: u32,
}

impl Merged {
    pub fn open(paths: &[String]) -> Result<Merged> {
        if paths.len() > u16::MAX as usize {
            return Err(Error::Usage("too many input files".into()));
        }
        if paths.iter().filter(|p| *p == "-").count() > 1 {
            return Err(Error::Usage("standard input can be read only once".into()));
        }
        let sources = paths.iter().enumerate().map(|(i, p)| FileSource::open(p, i as u16)).collect::<Result<Vec<_>>>()?;
        let n = sources.len();
        let mut m = Merged { sources, heads: (0..n).map(|_| None).collect(), errors: Vec::new() };
        for i in 0..n {
            m.refill(i, Vec::new());
        }
        Ok(m)
    }

    pub fn paths(&self) -> Vec<String> {
        self.sources.iter().map(|s| s.path.clone()).collect()
    }

    fn refill(&mut self, i: usize, mut buf: Vec<u8>) {
        match self.sources[i].next_frame() {
            Ok(Some(f)) => {
                buf.clear();
                buf.extend_from_slice(f.data);
                self.heads[i] = Some(Head { at: f.at, data: buf, orig_len: f.orig_len });
            }
            Ok(None) => self.heads[i] = None,
            Err(e) => {
                self.heads[i] = None;
                self.errors.push(e);
            }
        }
    }

    /// Hand each frame, in timestamp order, to `f`; stop early when `stop` is set.
    /// Read errors end only the file they happen in; they are returned at the end.
    pub fn run(&mut self, stop: &AtomicBool, f: &mut dyn FnMut(Frame<'_>)) -> Vec<Error> {
        if self.sources.len() == 1 {
            let s = &mut self.sources[0];
            if let Some(h) = self.heads[0].take() {
                f(Frame { at: h.at, link: s.link, data: &h.data, orig_len: h.orig_len });
            }
            loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                match s.next_frame() {
                    Ok(Some(fr)) => f(fr),
                    Ok(None) => break,
                    Err(e) => {
                        self.errors.push(e);
                        break;
                    }
                }
            }
            return std::mem::take(&mut self.errors);
        }
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let next = self
                .heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.as_ref().map(|h| (h.at.ts, i)))
                .min();
            let Some((_, i)) = next else { break };
            let h = self.heads[i].take().expect("head");
            f(Frame { at: h.at, link: self.sources[i].link, data: &h.data, orig_len: h.orig_len });
            self.refill(i, h.data);
        }
        std::mem::take(&mut self.errors)
    }
}

/// Options of a live capture, tcpdump-style.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    pub iface: String,
    pub filter: Option<String>,
    pub snaplen: i32,
    pub count: Option<u64>,
    pub duration: Option<Duration>,
    /// Size of the kernel ring libpcap captures into.
    pub buffer_bytes: i32,
    /// Deliver each packet at once. Off, the kernel fills whole blocks with packets of
    /// their real size (TPACKET_V3) and hands them over when full or after the timeout;
    /// on, every slot of the ring is as large as the biggest packet the interface can
    /// carry (64 KiB on lo), so the same buffer holds far fewer packets.
    pub immediate: bool,
}

/// libpcap's own counts at the end of a live capture.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct LiveStats {
    pub received: u32,
    pub dropped: u32,
    pub if_dropped: u32,
}

/// Longest wait before libpcap hands over what it has (and the stop flag is looked at).
const LIVE_TIMEOUT_MS: i32 = 100;

pub struct LiveSource {
    cap: Capture<Active>,
    link: LinkType,
    opts: LiveOptions,
    frames: u64,
}

impl LiveSource {
    pub fn open(opts: LiveOptions) -> Result<LiveSource> {
        let live = |msg: String| Error::Live { iface: opts.iface.clone(), msg };
        let inactive = Capture::from_device(opts.iface.as_str()).map_err(|e| live(e.to_string()))?;
        let snaplen = if opts.snaplen <= 0 { 262_144 } else { opts.snaplen };
        let cap = inactive
            .snaplen(snaplen)
            .promisc(true)
            .immediate_mode(opts.immediate)
            .timeout(LIVE_TIMEOUT_MS)
            .buffer_size(opts.buffer_bytes)
            .precision(Precision::Nano)
            .open()
            .map_err(|e| live(permission_msg(&e.to_string())))?;
        let mut cap = cap;
        if let Some(f) = &opts.filter {
            cap.filter(f, true).map_err(|e| live(format!("bad filter expression: {e}")))?;
        }
        let dlt = cap.get_datalink();
        let link = LinkType::from_dlt(dlt.0)
            .ok_or_else(|| Error::UnsupportedLinkType { path: opts.iface.clone(), linktype: dlt.0, name: link_name(dlt) })?;
        Ok(LiveSource { cap, link, opts, frames: 0 })
    }

    /// Capture until `-c`, `--duration` or `stop`; returns libpcap's counts.
    ///
    /// libpcap may wait for the next packet for ever on an idle interface, so a
    /// watcher thread breaks its loop once `stop` is set or the duration is over.
    pub fn run(&mut self, stop: &AtomicBool, f: &mut dyn FnMut(Frame<'_>)) -> Result<LiveStats> {
        let started = Instant::now();
        let breaker = self.cap.breakloop_handle();
        let duration = self.opts.duration;
        let done = AtomicBool::new(false);
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    if stop.load(Ordering::Relaxed) || duration.is_some_and(|d| started.elapsed() >= d) {
                        breaker.breakloop();
                        return;
                    }
                    std::thread::sleep(WATCH_EVERY);
                }
            });
            let r = self.read(stop, started, f);
            done.store(true, Ordering::Relaxed);
            r
        });
        r?;
        let s = self.cap.stats().map_err(|e| Error::Live { iface: self.opts.iface.clone(), msg: e.to_string() })?;
        Ok(LiveStats { received: s.received, dropped: s.dropped, if_dropped: s.if_dropped })
    }

    fn read(&mut self, stop: &AtomicBool, started: Instant, f: &mut dyn FnMut(Frame<'_>)) -> Result<()> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            if self.opts.count.is_some_and(|c| self.frames >= c) {
                return Ok(());
            }
            if self.opts.duration.is_some_and(|d| started.elapsed() >= d) {
                return Ok(());
            }
            match self.cap.next_packet() {
                Ok(p) => {
                    self.frames += 1;
                    let at = FrameRef { file: 0, frame: self.frames, ts: ts_of(p.header) };
                    f(Frame { at, link: self.link, data: p.data, orig_len: p.header.len });
                }
                Err(pcap::Error::TimeoutExpired) => continue,
                // The watcher broke the loop: the flags above say why.
                Err(pcap::Error::NoMorePackets) => continue,
                Err(e) => return Err(Error::Live { iface: self.opts.iface.clone(), msg: e.to_string() }),
            }
        }
    }
}

/// How often the live watcher looks at the stop flag and the clock.
const WATCH_EVERY: Duration = Duration::from_millis(50);

fn permission_msg(s: &str) -> String {
    if s.contains("permitted") || s.contains("permission") {
        format!("{s} (capturing needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities)")
    } else {
        s.to_string()
    }
}

/// Set by SIGINT/SIGTERM so that a live capture (or a long file) ends cleanly with
/// its statistics printed.
pub static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// Install the SIGINT/SIGTERM handler that sets [`STOP`].
pub fn install_stop_handler() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}
