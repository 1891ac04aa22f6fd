//! ra-capture: screen capture backends for **ra**.
//!
//! - [`SyntheticCapturer`]: a deterministic, desktop-like moving test pattern on two
//!   fake displays, paced to a frame rate; for tests, demos and benchmarks.
//!   [`render_pattern`] regenerates the exact pixels of any of its frames.
//! - [`NullCapturer`]: no displays and never a frame.
//! - [`xvfb::Xvfb`]: a private virtual X display for tests, benchmarks and the demo.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod null;
mod pattern;
mod synthetic;
pub mod xvfb;

pub use null::NullCapturer;
pub use pattern::{PatternError, render_pattern};
pub use synthetic::{SyntheticCapturer, SyntheticConfig};
