//! What the example programs' `main` functions share: logging, and running a
//! subcommand on a tokio runtime.

use std::process::ExitCode;
use std::time::Duration;

use crate::output::Output;

/// Logs to stderr (stdout is for events), filtered by `RUST_LOG`.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
}

/// Runs `command` on a new multi-threaded runtime; its result is the exit
/// code (1 when the runtime cannot start, or the code does not fit).
pub fn run_async(output: Output, command: impl Future<Output = i32>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            output.error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(command);
    // Threads blocked on stdin must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(200));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
