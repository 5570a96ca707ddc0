//! Run the pipeline over an input (files or a live interface) into a sink.

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

/// Open the input, feed every frame through a new pipeline into `sink`, and flush.
/// Opening errors are returned at once; read errors after some frames end up in the
/// report, after everything before them was decoded.
pub fn run(input: &Input, cfg: Config, sink: &mut dyn Sink) -> Result<RunReport> {
    let mut p = Pipeline::new(cfg);
    install_stop_handler();
    match input {
        Input::Files(paths) => {
            if paths.is_empty() {
                return Err(Error::Usage("no input: give -r FILE or -i IFACE".into()));
            }
            let mut m = Merged::open(paths)?;
            let files = m.paths();
            let errors = m.run(&STOP, &mut |f| p.frame(f.link, f.at, f.data, f.orig_len, sink));
            p.finish(sink);
            Ok(RunReport { counters: p.counters(), live: None, errors, files })
        }
        Input::Live(opts) => {
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
