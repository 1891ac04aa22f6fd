//! ra-capture: screen capture backends for **ra**.
//!
//! - [`SyntheticCapturer`]: a deterministic, desktop-like moving test pattern on two
//!   fake displays, paced to a frame rate; for tests, demos and benchmarks.
//!   [`render_pattern`] regenerates the exact pixels of any of its frames.
//! - [`NullCapturer`]: no displays and never a frame.
//! - `x11::X11Capturer` (Linux, feature `x11`, on by default): X11 capture with
//!   MIT-SHM, XDamage, XFixes cursors and RandR monitors.
//! - `wayland::WaylandCapturer` (Linux, feature `wayland`): Wayland capture
//!   from the PipeWire streams of a remote-desktop session (`ra-wayland`),
//!   with damage and cursor metadata.
//! - `XcapCapturer` (feature `xcap`): the portable backend on the xcap crate.
//! - [`xvfb::Xvfb`]: a private virtual X display for tests, benchmarks and the demo.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod null;
mod pattern;
mod synthetic;
#[cfg(all(target_os = "linux", feature = "wayland"))]
pub mod wayland;
#[cfg(all(target_os = "linux", feature = "x11"))]
pub mod x11;
#[cfg(feature = "xcap")]
mod xcap_backend;
pub mod xvfb;

pub use null::NullCapturer;
pub use pattern::{PatternError, render_pattern};
pub use synthetic::{SyntheticCapturer, SyntheticConfig};
#[cfg(feature = "xcap")]
pub use xcap_backend::XcapCapturer;
