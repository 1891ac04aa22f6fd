//! ra-core: the sessions, consent rules, wire protocol and transport of **ra**,
//! an embeddable remote-assistance engine.
//!
//! A **host** (the person who needs help) invites a **helper**; the helper
//! accepts with the invitation and a password given separately; the host
//! approves the connection, and — separately — control.
//!
//! - [`session`]: the sans-IO session state machines (no sockets, no clock reads).
//! - [`invitation`], [`password`], [`policy`], [`audit`]: what the host hands out,
//!   what it enforces and what it records.
//! - [`code`], [`relay`], [`rendezvous`]: the short codes of the broker
//!   flows, the raw datagrams of the broker's relay, and the peer's side of
//!   the broker protocol as sans-IO state machines.
//! - [`resume`]: resume tickets, sealed under the application's key (the
//!   ticket and its sealed form; sessions do not issue them yet).
//! - [`media`], [`input`], [`keys`]: the backend traits and their data types.
//! - [`stats`]: a session's statistics, as one snapshot.
//! - [`desk`]: the host's own desk (panic key, local input, clipboard) and
//!   the backends that report it.
//! - `runtime` (feature `runtime`, on by default): the tokio + quinn driver and
//!   the async API: [`runtime::invite`] and [`runtime::accept`], and the
//!   broker flows (Easy Connect, Quick Assist) in `runtime`'s code functions.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod audit;
pub mod code;
mod crockford;
pub mod desk;
pub mod identity;
pub mod input;
pub mod invitation;
pub mod keys;
pub mod media;
pub mod password;
pub mod policy;
pub mod proto;
pub mod receipt;
pub mod redact;
pub mod relay;
pub mod rendezvous;
pub mod resume;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod session;
pub mod stats;
pub mod text;
