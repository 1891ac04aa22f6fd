//! ra-testkit: what the tests and benchmarks of ra share, so that none of it
//! is copied between crates (not published).
//!
//! - [`harness`]: a sans-IO host and any number of helpers on a virtual
//!   clock, joined by reliable ordered streams with latency and loss.
//! - [`net`]: UDP proxies on loopback: one that counts and can be cut, one
//!   that is a slow link.
//! - [`broker`]: brokers in process or as `ra-broker` processes, and the
//!   hosts and helpers that use them.
//! - [`process`]: programs of the project whose stdout is JSON events,
//!   read with timeouts.
//! - [`redis`]: a private `redis-server`.
//! - [`tls`]: a QUIC client that accepts any certificate (for attackers and
//!   protocol-level probes).
//! - [`xvfb`]: private X displays (re-exported from `ra_capture`).
//! - `gnome` (Linux): a private headless GNOME (mutter) Wayland desktop.
//!
//! Everything started here is stopped by its handle (by PID for processes).

pub mod broker;
#[cfg(target_os = "linux")]
pub mod gnome;
pub mod harness;
pub mod impair;
pub mod net;
pub mod process;
pub mod redis;
pub mod tls;

pub use ra_capture::xvfb;
