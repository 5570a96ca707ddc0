//! Run the pipeline over an input (files or a live interface) into a sink.

use super::relay;
use super::{install_stop_handler, LiveOptions, LiveSource, LiveStats, Merged, STOP};
use crate::error::{Error, Result};
use crate::pipeline::{Config, Counters, Pipeline, Sink};

/// Where frames come from.
#[derive(Debug, Clone)]
pub enum Input {
    Files(Vec<String>),
    Live(LiveOptions),
}

/// What a run leaves besides the messages it handed to the sink.
#[derive(Debug)]
pub struct RunReport {
    pub counters: Counters,
    pub live: Option<LiveStats>,
    /// Read errors (a truncated file, …): everything before them was decoded.
    pub errors: Vec<Error>,
    /// The input names, indexed by `FrameRef::file`.
    pub files: Vec<String>,
}

impl RunReport {
    /// The first error, which decides the exit status.
    pub fn first_error(&self) -> Option<&Error> {
        self.errors.first()
    }
}

/// Threads for reading files: two when the machine has two cores, unless
/// `GRACEWATCH_THREADS=1` asks for one.
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let asked = std::env::var("GRACEWATCH_THREADS").ok().and_then(|v| v.parse::<usize>().ok());
    asked.unwrap_or(cores).clamp(1, 2)
}

/// Open the input, feed every frame through a new pipeline into `sink`, and flush.
/// Opening errors are returned at once; read errors after some frames end up in the
/// report, after everything before them was decoded.
pub fn run(input: &Input, cfg: Config, sink: &mut dyn Sink) -> Result<RunReport> {
    run_threads(input, cfg, default_threads(), sink)
}

/// [`run`] on a given number of threads (1 or 2). With two, files are read and
/// taken apart on one thread while the sink runs on the caller's; the sink sees the
/// same messages in the same order. A live capture always runs on one thread, so that
/// each message reaches the sink as soon as it is on the wire.
pub fn run_threads(input: &Input, cfg: Config, threads: usize, sink: &mut dyn Sink) -> Result<RunReport> {
    install_stop_handler();
    match input {
        Input::Files(paths) => {
            if paths.is_empty() {
                return Err(Error::Usage("no input: give -r FILE or -i IFACE".into()));
            }
            let mut m = Merged::open(paths)?;
            let files = m.paths();
            let (counters, errors) = if threads > 1 { split(&mut m, cfg, sink) } else { files_run(&mut m, cfg, sink) };
            Ok(RunReport { counters, live: None, errors, files })
        }
        Input::Live(opts) => {
            let mut p = Pipeline::new(cfg);
            let mut src = LiveSource::open(opts.clone())?;
            let r = src.run(&STOP, &mut |f| p.frame(f.link, f.at, f.data, f.orig_len, sink));
            p.finish(sink);
            let (live, errors) = match r {
                Ok(s) => (Some(s), Vec::new()),
                Err(e) => (None, vec![e]),
            };
            Ok(RunReport { counters: p.counters(), live, errors, files: vec![opts.iface.clone()] })
        }
    }
}

fn files_run(m: &mut Merged, cfg: Config, sink: &mut dyn Sink) -> (Counters, Vec<Error>) {
    let mut p = Pipeline::new(cfg);
    let errors = m.run(&STOP, &mut |f| p.frame(f.link, f.at, f.data, f.orig_len, sink));
    p.finish(sink);
    (p.counters(), errors)
}

/// The pipeline on a reader thread, the body decoding and the sink on this one.
fn split(m: &mut Merged, cfg: Config, sink: &mut dyn Sink) -> (Counters, Vec<Error>) {
    let (mut relay, unrelay) = relay::pair(cfg.decode_bodies && sink.bodies());
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let r = files_run(m, cfg, &mut relay);
            relay.flush();
            r
        });
        unrelay.drain(sink);
        reader.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}
