//! ra-benches: the benchmarks of ra, as a small library of modules with a
//! thin binary each (not published). Every bench is a one-shot report: it
//! measures and prints, and asserts nothing.
//!
//! - [`engine`]: `ra-bench`, the time from password to first frame on
//!   loopback and the per-frame codec costs, on synthetic pictures.
//! - `screen` (Linux only): `ra-screen-bench`, ra on a real X screen with
//!   scripted scenarios, against ffmpeg + libx264.
//! - [`soak`]: `ra-soak`, a session held for minutes over an impaired link
//!   against a clean one.
//! - [`stats`]: order statistics and units the benches share (also used by
//!   `ra-input-bench`, which is small enough to stay a binary alone).
//!
//! How to run each bench is in its binary's doc, under `src/bin/`.

pub mod engine;
mod machine;
#[cfg(target_os = "linux")]
pub mod screen;
pub mod soak;
pub mod stats;
