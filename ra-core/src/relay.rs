//! The raw UDP datagrams of the broker's relay and of hole punching.
//!
//! Everything else on a peer's UDP socket is QUIC. These datagrams start with
//! a zero byte and a 4-byte magic, which a QUIC packet practically never does
//! (a QUIC v1 packet has its fixed bit set; with the bit greased, the magic
//! would still have to match random connection-id bytes), so the peer's socket
//! can tell them apart and keep them away from QUIC.
//!
//! - `Bind(token)`: a peer asks the relay to forward between it and the other
//!   holder of the session; the relay answers `Bound` (and whether the other
//!   peer is bound too).
//! - `Punch`: sent to the other peer's addresses to open NAT mappings.
//! - `Probe` / `ProbeReply(addr)`: "what address do you see?" (diagnose).
//! - `Reach(nonce)`: sent by the broker, from a socket the peer never talked
//!   to, to the port the peer asked about: does it get through from outside?
//!   (diagnose, for the invitation flow's listening port).
//!
//! A datagram the relay answers is padded to at least the size of its
//! answer (`Probe` to [`PROBE_LEN`], `Bind` to the size of `Bound`), and the
//! relay sends nothing larger than what it got back to where it came from:
//! a spoofed source gains no amplification.

use std::net::SocketAddr;

/// The first bytes of every raw datagram.
pub const MAGIC: [u8; 5] = [0, b'r', b'a', b'R', b'1'];

/// Length of a relay token.
pub const TOKEN_LEN: usize = 16;

/// A relay token: what lets one peer use a relay allocation.
pub type RelayToken = [u8; TOKEN_LEN];

/// Largest raw datagram.
pub const MAX_RAW_DATAGRAM: usize = 128;

/// The length of a `Probe`: at least that of the longest `ProbeReply`
/// (the magic, the kind and `[v6%scope]:port` as text, at most 64 bytes).
pub const PROBE_LEN: usize = 80;

const BIND: u8 = 1;
const BOUND: u8 = 2;
const PUNCH: u8 = 3;
const PROBE: u8 = 4;
const PROBE_REPLY: u8 = 5;
const REACH: u8 = 6;

/// Length of the nonce of a `Reach`.
pub const REACH_NONCE_LEN: usize = 16;

/// A raw (non-QUIC) datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawDatagram {
    /// Bind the sender's address to the allocation of this token.
    Bind(RelayToken),
    /// The relay bound the sender's address for this token; `paired` once the
    /// other peer is bound too (packets then flow both ways).
    Bound {
        /// The token that was bound.
        token: RelayToken,
        /// Whether the other side is bound as well.
        paired: bool,
    },
    /// Opens NAT mappings toward the other peer; carries nothing.
    Punch,
    /// Asks the receiver which address it sees.
    Probe,
    /// The address the broker saw the probe come from.
    ProbeReply(SocketAddr),
    /// Unsolicited from outside: the port it reached is reachable; the
    /// nonce is the one the peer asked with.
    Reach([u8; REACH_NONCE_LEN]),
}

impl RawDatagram {
    /// The datagram's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        match self {
            RawDatagram::Bind(token) => {
                out.push(BIND);
                out.extend_from_slice(token);
                // As long as `Bound`, the answer.
                out.push(0);
            }
            RawDatagram::Bound { token, paired } => {
                out.push(BOUND);
                out.extend_from_slice(token);
                out.push(u8::from(*paired));
            }
            RawDatagram::Punch => out.push(PUNCH),
            RawDatagram::Probe => {
                out.push(PROBE);
                out.resize(PROBE_LEN, 0);
            }
            RawDatagram::ProbeReply(addr) => {
                out.push(PROBE_REPLY);
                out.extend_from_slice(addr.to_string().as_bytes());
            }
            RawDatagram::Reach(nonce) => {
                out.push(REACH);
                out.extend_from_slice(nonce);
            }
        }
        out
    }

    /// Whether `bytes` is a raw datagram (rather than QUIC).
    pub fn is_raw(bytes: &[u8]) -> bool {
        bytes.starts_with(&MAGIC)
    }

    /// Parses a raw datagram; `None` for QUIC packets and garbage.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > MAX_RAW_DATAGRAM {
            return None;
        }
        let rest = bytes.strip_prefix(&MAGIC)?;
        let (&kind, body) = rest.split_first()?;
        match kind {
            BIND => match body.split_last() {
                Some((0, token)) => Some(RawDatagram::Bind(token.try_into().ok()?)),
                _ => None,
            },
            BOUND => {
                let (&paired, token) = body.split_last()?;
                Some(RawDatagram::Bound {
                    token: token.try_into().ok()?,
                    paired: paired == 1,
                })
            }
            PUNCH if body.is_empty() => Some(RawDatagram::Punch),
            PROBE if bytes.len() == PROBE_LEN && body.iter().all(|&b| b == 0) => {
                Some(RawDatagram::Probe)
            }
            PROBE_REPLY => std::str::from_utf8(body)
                .ok()?
                .parse()
                .ok()
                .map(RawDatagram::ProbeReply),
            REACH => Some(RawDatagram::Reach(body.try_into().ok()?)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_quic() {
        let addr: SocketAddr = "[2001:db8::1]:4433".parse().unwrap();
        for datagram in [
            RawDatagram::Bind([7; TOKEN_LEN]),
            RawDatagram::Reach([3; REACH_NONCE_LEN]),
            RawDatagram::Bound {
                token: [9; TOKEN_LEN],
                paired: true,
            },
            RawDatagram::Punch,
            RawDatagram::Probe,
            RawDatagram::ProbeReply(addr),
        ] {
            let bytes = datagram.encode();
            assert!(RawDatagram::is_raw(&bytes));
            assert_eq!(RawDatagram::decode(&bytes), Some(datagram));
        }
        // A QUIC long-header packet and truncated or padded raw datagrams.
        assert_eq!(RawDatagram::decode(&[0xc3, 0, 0, 0, 1]), None);
        let mut short = RawDatagram::Bind([1; TOKEN_LEN]).encode();
        short.pop();
        assert_eq!(RawDatagram::decode(&short), None);
        let mut long = RawDatagram::Punch.encode();
        long.push(0);
        assert_eq!(RawDatagram::decode(&long), None);
        assert_eq!(RawDatagram::decode(&[0; 300]), None);
        // A probe that is not padded, or padded with something else.
        let mut bare = MAGIC.to_vec();
        bare.push(PROBE);
        assert_eq!(RawDatagram::decode(&bare), None);
        let mut dirty = RawDatagram::Probe.encode();
        dirty[PROBE_LEN - 1] = 1;
        assert_eq!(RawDatagram::decode(&dirty), None);
    }

    #[test]
    fn what_the_relay_answers_is_never_longer_than_the_question() {
        let longest: SocketAddr = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"
            .parse()
            .unwrap();
        assert!(RawDatagram::ProbeReply(longest).encode().len() <= PROBE_LEN);
        let bound = RawDatagram::Bound {
            token: [1; TOKEN_LEN],
            paired: true,
        };
        assert!(bound.encode().len() <= RawDatagram::Bind([1; TOKEN_LEN]).encode().len());
    }
}
