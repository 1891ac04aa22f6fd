//! ra-input: input injection backends for **ra**.
//!
//! - [`RecordingInjector`]: records every event into a shared [`RecordingLog`] that
//!   tests can inspect and wait on; tracks held keys and buttons so `release_all`
//!   is observable.
//! - [`LogInjector`]: writes each event as one JSON line ([`event_to_json`]).
//! - [`NullInjector`]: accepts everything and does nothing.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod json;
mod log;
mod null;
mod recording;

pub use json::{event_to_json, release_all_to_json};
pub use log::LogInjector;
pub use null::NullInjector;
pub use recording::{LogEntry, RecordingInjector, RecordingLog, WaitTimedOut};
