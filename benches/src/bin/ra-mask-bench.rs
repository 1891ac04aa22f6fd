//! What following masked windows costs: the X11 window locator that the
//! capture path asks before every picture while the redaction mask follows
//! windows by class (`redact_windows`).
//!
//! ```text
//! cargo run --release -p ra-benches --bin ra-mask-bench [-- --rounds 500]
//! ```
//!
//! Starts its own Xvfb, maps 10, 100 and 400 top-level windows (one of them
//! of the masked class) and reports how long one `locate` takes, p50 and p95
//! over `--rounds` calls, against the frame budget at 30 frames a second
//! (33 ms): the target is a p95 of at most 5 ms (15 % of a frame) at 100
//! windows.

use std::time::Instant;

use clap::Parser;
use ra_benches::stats::{ms, nearest_rank};
use ra_capture::x11::X11WindowLocator;
use ra_capture::xvfb::{XClient, Xvfb};
use ra_core::media::{Rect, WindowLocator};

#[derive(Parser)]
#[command(about = "The cost of finding masked windows before each picture")]
struct Args {
    /// Calls timed per window count.
    #[arg(long, default_value_t = 500)]
    rounds: usize,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let xvfb = Xvfb::start(1280, 720).map_err(|e| format!("Xvfb: {e}"))?;
    let client = XClient::connect(&xvfb.display()).map_err(|e| format!("X client: {e}"))?;
    let mut locator =
        X11WindowLocator::connect(Some(&xvfb.display())).map_err(|e| format!("locator: {e}"))?;
    let classes = vec!["ra-secret".to_owned()];
    client
        .create_window(Rect::new(100, 100, 200, 150), 0xff_00_ff, "ra-secret")
        .map_err(|e| format!("window: {e}"))?;
    let mut mapped = 1;
    println!("windows  locate p50   locate p95   (target: p95 <= 5 ms at 100 windows)");
    let mut verdict = Ok(());
    for windows in [10, 100, 400] {
        while mapped < windows {
            let at = Rect::new(mapped * 3 % 1000, mapped * 2 % 600, 40, 30);
            client
                .create_window(at, 0x20_20_20, "ra-other")
                .map_err(|e| format!("window: {e}"))?;
            mapped += 1;
        }
        let mut times = Vec::with_capacity(args.rounds);
        for _ in 0..args.rounds {
            let started = Instant::now();
            let found = locator
                .locate(&classes)
                .map_err(|e| format!("locate: {e}"))?;
            times.push(started.elapsed());
            if found.len() != 1 {
                return Err(format!("found {} masked windows, not 1", found.len()));
            }
        }
        times.sort();
        let (p50, p95) = (nearest_rank(&times, 0.50), nearest_rank(&times, 0.95));
        println!("{windows:>7}  {:>9.3} ms  {:>9.3} ms", ms(p50), ms(p95));
        if windows == 100 && ms(p95) > 5.0 {
            verdict = Err(format!(
                "p95 {:.3} ms at 100 windows (target 5 ms)",
                ms(p95)
            ));
        }
    }
    verdict
}
