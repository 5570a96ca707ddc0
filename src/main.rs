//! The gracewatch command: parses flags, runs the library, prints. The only place that
//! prints an error.

mod cli;

use std::process::ExitCode;

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
