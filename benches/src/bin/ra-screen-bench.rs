//! `ra-screen-bench`: ra on a real X screen, scripted office-like scenarios,
//! against the usual baseline (`ffmpeg -f x11grab … -c:v libx264 -preset
//! ultrafast -tune zerolatency`). A one-shot report, not a test: it asserts
//! nothing, it measures, prints, and says which §5 target of the design
//! (on 1920×1080) each number passes or misses, and by how much.
//!
//! ```text
//! cargo run --release -p ra-benches --bin ra-screen-bench
//! cargo run --release -p ra-benches --bin ra-screen-bench -- --choose-settings
//! cargo run --release -p ra-benches --bin ra-screen-bench -- --compare-desktops
//! ```
//!
//! (`-- --help` lists the flags: `--duration`, `--scenario`, `--no-ffmpeg`,
//! `--x264-crf N` to run the baseline at another quality, `--content camera`
//! to run ra's encoder in camera mode, `--snapshots DIR`
//! to save each scenario's last screen as a PNG, `--desktop wayland` to run
//! on a private headless GNOME desktop through the Wayland capturer,
//! `--compare-desktops` for ra on X11 and on Wayland side by side.)
//! It needs `Xvfb` and, for the baseline, `ffmpeg` (both installed by
//! `scripts/setup.sh`); without ffmpeg it measures ra alone and says so. On
//! Wayland it needs `mutter pipewire wireplumber xwayland` (also from
//! `scripts/setup.sh test`). It
//! stops by itself, in about two minutes with the defaults (about three for
//! `--choose-settings`). Linux only (X11, Xvfb, `/proc`).
//!
//! What it measures and how (the scenarios, ra's side, the baseline,
//! `--choose-settings`) is in the doc of the `ra_benches::screen` module
//! (`benches/src/screen/mod.rs`), next to the code.

use std::process::ExitCode;

#[cfg(target_os = "linux")]
fn main() -> ExitCode {
    ra_benches::screen::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> ExitCode {
    eprintln!("ra-screen-bench needs Linux (X11, Xvfb and /proc)");
    ExitCode::FAILURE
}
