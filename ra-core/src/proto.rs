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
