//! `ra-bench`: a one-shot performance report of the ra engine (not a test: it
//! asserts no timing, it only measures and prints).
//!
//! Run it with:
//!
//! ```text
//! cargo run --release -p ra-benches --bin ra-bench
//! ```
//!
//! (`-- --json` prints one JSON object instead of the table; `-- --help` lists
//! the other flags). It stops by itself, in well under two minutes with the
//! defaults.
//!
//! It measures:
//!
//! 1. **Password entered → first frame decoded, on loopback**: a host (`invite`
//!    on 127.0.0.1:0, a 1920×1080 30 fps synthetic capturer, the OpenH264
//!    encoder, a null injector) whose application approves every connection
//!    request as soon as it arrives, then, per run and with a fresh invitation
//!    each time, the time from just before `accept` is called with the parsed
//!    password to the helper's first `HelperSessionEvent::Frame`, broken down
//!    into phases (the capturer, encoder and decoder are wrapped so the run
//!    notes when the first picture passes each; `--verbose` prints every run).
//! 2. **Per-frame encode and decode at 1920×1080** of the synthetic pattern
//!    (rendered with `render_pattern`, so capture pacing does not count),
//!    with size and luma PSNR of the decoded pictures against their sources,
//!    and forced keyframes.
//! 3. **An unchanged frame**: the same picture encoded again.
//!
//! Timings are wall-clock (`std::time::Instant`); on a busy machine they are
//! noisy, so the report prints the core count and the load average with them.
//!
//! The code is the `ra_benches::engine` module (`benches/src/engine/`).

use std::process::ExitCode;

fn main() -> ExitCode {
    ra_benches::engine::main()
}
