//! `ra-bench`: a one-shot performance report of the ra engine on synthetic
//! pictures. What it measures and how to run it is in the binary's doc
//! (`benches/src/bin/ra-bench.rs`).
//!
//! This module parses the flags and runs the parts in order:
//!
//! - `connect`: password entered → first frame decoded, on loopback, with
//!   the backends wrapped by `probes` to break it into phases;
//! - `codec`: per-frame encode and decode of the synthetic pattern;
//! - `report`: the table or the JSON object.

mod codec;
mod connect;
mod probes;
mod report;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::machine;
use codec::CodecBench;
use connect::connect_bench;
use report::{Machine, report_json, report_text};

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(name = "ra-bench", about = "Performance report of the ra engine")]
struct Args {
    /// Timed connection runs (password entered → first frame), each with a
    /// fresh invitation; one untimed warm-up run comes first.
    #[arg(long, default_value_t = 20)]
    runs: u32,
    /// Frames encoded and decoded in the per-frame codec measurement.
    #[arg(long, default_value_t = 300)]
    frames: u64,
    /// Forced keyframes measured (each after 14 ordinary frames).
    #[arg(long, default_value_t = 8)]
    keyframes: u32,
    /// Encodes of an unchanged picture measured.
    #[arg(long, default_value_t = 30)]
    unchanged: u32,
    /// Picture width in pixels.
    #[arg(long, default_value_t = 1920)]
    width: u32,
    /// Picture height in pixels.
    #[arg(long, default_value_t = 1080)]
    height: u32,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Also print every connection run on stderr.
    #[arg(long)]
    verbose: bool,
}

/// Runs the bench: parses the flags, measures, prints the report on stdout
/// (progress goes to stderr).
pub fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let cores = machine::cores();
    let load_before = machine::load_average();
    if !args.json {
        eprintln!(
            "ra-bench: {cores} cores; {} connection runs, then {} frames at {}x{}…",
            args.runs, args.frames, args.width, args.height
        );
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ra-bench: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let connect = runtime.block_on(connect_bench(&args));
    runtime.shutdown_timeout(Duration::from_secs(2));

    let codec = match CodecBench::new(args.width, args.height).and_then(|b| b.run(&args)) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("ra-bench: codec measurement failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let machine = Machine {
        cores,
        load_before,
        load_after: machine::load_average(),
    };
    let total = started.elapsed();
    if args.json {
        println!("{}", report_json(&args, &machine, &connect, &codec, total));
    } else {
        print!("{}", report_text(&args, &machine, &connect, &codec, total));
    }
    if connect.runs.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
