//! The generated protobuf messages of the wire protocol (`proto/ra.proto`).
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::doc_markdown,
    clippy::enum_variant_names
)]

include!(concat!(env!("OUT_DIR"), "/ra.v1.rs"));

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The QUIC ALPN of protocol version 1.
pub const ALPN: &[u8] = b"ra/1";

/// The broker protocol (`proto/broker.proto`, ALPN `ra-broker/1`): rendezvous
/// and relay for the short-code flows.
pub mod broker {
    include!(concat!(env!("OUT_DIR"), "/ra.broker.v1.rs"));

    /// The QUIC ALPN of the broker protocol, version 1.
    pub const BROKER_ALPN: &[u8] = b"ra-broker/1";

    /// The name a broker's self-signed certificate carries (trust comes from
    /// the pinned fingerprint, not from the name).
    pub const BROKER_SERVER_NAME: &str = "ra-broker.invalid";

    /// Largest broker protocol message, in bytes.
    pub const MAX_BROKER_MESSAGE: usize = 4096;
}
