//! ra-broker: the rendezvous and relay of ra's short-code flows.
//!
//! - Easy Connect: the host registers a code's lookup part and waits; the
//!   helper claims it. Quick Assist: the other way round.
//! - The broker pairs the waiting peer and the claimant, tells each the
//!   other's observed and local addresses, and hands both a token for a UDP
//!   relay allocation, used when no direct path works.
//! - It never sees a code's secret part, and relays only end-to-end encrypted
//!   QUIC: the peers authenticate each other with SPAKE2 over the secret,
//!   bound to their own TLS channel, so a lying broker cannot hijack a session.
//! - Per-source rate limits on lookups, one answer for unknown, expired and
//!   used codes, codes dead after five reported PAKE failures.
//! - Codes live in a [`registry::Registry`]: in memory (one node) or Redis
//!   (many nodes; a claim at the wrong node is redirected to the owner).

pub mod config;
pub mod identity;
pub mod rate_limit;
pub mod registry;
pub mod relay;
pub mod server;

pub use config::{BrokerConfig, ConfigError, RegistryConfig};
pub use server::{NodeEvent, RunningBroker, StartError, start, start_with};
