//! Shared parts of the example programs `ra-host`, `ra-helper` and `ra-demo`:
//! output (one JSON object per line, or text for people), input scripts and
//! exit codes.

pub mod broker_cli;
pub mod desktop;
pub mod exit;
pub mod output;
pub mod script;

/// Parses a human duration such as `10m`, `90s` or `1h 30m`.
///
/// # Errors
/// A message naming what could not be read.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("invalid duration {text:?}: {e}"))
}
