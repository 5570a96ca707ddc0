//! The gracewatch command: parses flags, runs the library, prints. The only place that
//! prints an error.

mod cli;

use std::process::ExitCode;

/// jemalloc: fewer instructions per allocation than the C library's allocator.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Freed pages go back to the system at once: peak memory then follows what is live
/// (locks, flows, pending calls), not what was freed a moment ago.
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 34] = b"dirty_decay_ms:0,muzzy_decay_ms:0\0";

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (e.g. `| head`) ends the program quietly.
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            eprintln!("gracewatch: {e:#}");
            ExitCode::from(2)
        }
    }
}
