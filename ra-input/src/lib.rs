//! ra-input: input injection backends for **ra**.
//!
//! - [`RecordingInjector`]: records every event into a shared [`RecordingLog`] that
//!   tests can inspect and wait on; tracks held keys and buttons so `release_all`
//!   is observable.
//! - [`LogInjector`]: writes each event as one JSON line ([`event_to_json`]).
//! - [`NullInjector`]: accepts everything and does nothing.
//! - `EnigoInjector` (X11 hosts): injects into the desktop with enigo's XTEST
//!   backend; keys by physical position through [`keymap`].
//! - `WaylandInjector` (feature `wayland`, Linux): injects into a Wayland
//!   desktop through a remote-desktop session of `ra-wayland`.
//! - `x11` (X11 hosts): the local panic key, detection of the local user's own
//!   input, and an X client that records events for tests.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(all(unix, not(target_os = "macos")))]
pub mod enigo;
mod json;
pub mod keymap;
mod log;
mod null;
mod recording;
#[cfg(all(target_os = "linux", feature = "wayland"))]
pub mod wayland;
#[cfg(all(unix, not(target_os = "macos")))]
pub mod x11;

#[cfg(all(unix, not(target_os = "macos")))]
pub use self::enigo::EnigoInjector;
pub use json::{event_to_json, release_all_to_json};
pub use log::LogInjector;
pub use null::NullInjector;
pub use recording::{LogEntry, RecordingInjector, RecordingLog, WaitTimedOut};
