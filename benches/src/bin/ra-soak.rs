//! `ra-soak`: one session held for minutes over an impaired link (100 ms
//! round trip, 2 % loss, 2 Mb/s each way by default, through the test kit's
//! userspace link), then the same over a clean one; frames per second,
//! frame latency p50/p95/p99, input delay p50/p99, bytes and resident memory
//! at the start and the end, side by side. Not a test: it measures and
//! prints.
//!
//! ```text
//! cargo run --release -p ra-benches --bin ra-soak             # 2 × 10 minutes
//! cargo run --release -p ra-benches --bin ra-soak -- --minutes 1 --rtt-ms 300 --loss 0.05
//! ```
//!
//! The code is the `ra_benches::soak` module (`benches/src/soak.rs`).

use std::process::ExitCode;

fn main() -> ExitCode {
    ra_benches::soak::main()
}
