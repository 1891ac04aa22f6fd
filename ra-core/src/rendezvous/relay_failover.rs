//! [`RelayFailover`]: a relayed connection that moves to a standby relay
//! when its relay stops answering (the broker node running it died).
//!
//! The broker tells both peers the same standby relays with their match; the
//! allocation's tokens are kept where those relays can find them. When
//! nothing came through the relay for [`FAILOVER_SILENCE`] (keep-alives flow
//! every second, so that is a dead relay or a dark network), the peer binds
//! its token at every other relay, repeatedly; the first that reports both
//! sides bound becomes the relay packets go through. A peer that hears the
//! other one through another relay follows it there.
//!
//! A direct (punched) connection falls back to the relay the same way
//! ([`RelayFailover::for_direct`]): when the peer goes silent — its NAT
//! mapping changed with its address, or a NAT dropped the mapping — both
//! peers bind their tokens at the match's relay (and standbys) and carry on
//! there, whichever of them is QUIC's server.
//!
//! QUIC never notices: the connection keeps the address of the relay it was
//! made through, and the socket translates it to the relay in use on the way
//! out, and back on the way in. QUIC's probe timer backs off while the path
//! is dark (its next packet may be seconds away), so on moving the peer sends
//! its last packet again through the new relay: it never arrived, the other
//! side acknowledges it at once, and both ends resume. Sans-IO: the socket
//! feeds datagrams and the time, and sends what
//! [`RelayFailover::poll_binds`] and [`RelayFailover::take_replay`] return.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::relay::{RawDatagram, RelayToken};

/// Silence through the relay after which the standbys are tried.
pub const FAILOVER_SILENCE: Duration = Duration::from_secs(2);

/// How often binds are repeated while the relay is silent.
pub const REBIND_EVERY: Duration = Duration::from_millis(100);

/// The relays of one relayed connection and which one is in use.
#[derive(Debug, Clone)]
pub struct RelayFailover {
    /// The relay the connection was made through first, then the standbys.
    relays: Vec<SocketAddr>,
    token: RelayToken,
    /// The relay in use (an index into `relays`).
    active: usize,
    /// Whether the connection carried QUIC through a relay yet (a connection
    /// that went direct never does: nothing to watch then).
    carrying: bool,
    last_heard: Instant,
    next_bind: Option<Instant>,
    /// The last QUIC packet sent through a relay, and whether to send it
    /// again through the relay just moved to.
    last_sent: Vec<u8>,
    replay: bool,
    /// The first address is the peer's own (a direct connection), never
    /// bound at.
    direct: bool,
}

impl RelayFailover {
    /// A connection (to be) made through `relay` with this peer's `token`,
    /// and the match's standby relays, in the broker's order.
    pub fn new(
        relay: SocketAddr,
        token: RelayToken,
        standbys: &[SocketAddr],
        now: Instant,
    ) -> Self {
        let mut relays = vec![relay];
        for standby in standbys {
            if !relays.contains(standby) {
                relays.push(*standby);
            }
        }
        RelayFailover {
            relays,
            token,
            active: 0,
            carrying: false,
            last_heard: now,
            next_bind: None,
            last_sent: Vec::new(),
            replay: false,
            direct: false,
        }
    }

    /// A direct connection to `peer` that falls back to `relays` (the
    /// match's relay, then its standbys) with this peer's `token` when the
    /// peer goes silent. It counts as carrying from the start: the
    /// connection is made.
    pub fn for_direct(
        peer: SocketAddr,
        token: RelayToken,
        relays: &[SocketAddr],
        now: Instant,
    ) -> Self {
        let mut failover = RelayFailover::new(peer, token, relays, now);
        failover.direct = true;
        failover.carrying = true;
        failover
    }

    /// QUIC sent `packet` to `to` (its last packet, for a batch).
    pub fn on_sent(&mut self, to: SocketAddr, packet: &[u8]) {
        if to == self.relays[0] {
            self.last_sent.clear();
            self.last_sent.extend_from_slice(packet);
        }
    }

    /// The packet to send again through the relay just moved to, once.
    pub fn take_replay(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        if !std::mem::take(&mut self.replay) || self.last_sent.is_empty() {
            return None;
        }
        Some((self.relays[self.active], self.last_sent.clone()))
    }

    /// A QUIC datagram came from `from`: the sender address QUIC must see
    /// (the first relay's, for a datagram through any of them).
    pub fn on_datagram(&mut self, from: SocketAddr, now: Instant) -> SocketAddr {
        let Some(index) = self.index_of(from) else {
            return from;
        };
        self.carrying = true;
        self.last_heard = now;
        self.next_bind = None;
        // The other peer moved to this relay: follow it.
        self.active = index;
        self.relays[0]
    }

    /// A relay answered a bind: the first one with both sides bound while
    /// the relay in use is silent takes over.
    pub fn on_bound(&mut self, from: SocketAddr, token: RelayToken, paired: bool, now: Instant) {
        if token != self.token || !paired || self.next_bind.is_none() {
            return;
        }
        if let Some(index) = self.index_of(from)
            && index != self.active
        {
            self.active = index;
            self.last_heard = now;
            self.next_bind = None;
            self.replay = true;
        }
    }

    /// Where a datagram QUIC sends to `to` goes: the relay in use, for the
    /// first relay's address.
    pub fn destination(&self, to: SocketAddr) -> SocketAddr {
        if to == self.relays[0] {
            self.relays[self.active]
        } else {
            to
        }
    }

    /// The binds due at `now`: while the relay in use is silent, this peer's
    /// token at every other relay, every [`REBIND_EVERY`].
    pub fn poll_binds(&mut self, now: Instant) -> Vec<(SocketAddr, RawDatagram)> {
        if !self.carrying
            || self.relays.len() < 2
            || now.duration_since(self.last_heard) < FAILOVER_SILENCE
        {
            return Vec::new();
        }
        if self.next_bind.is_some_and(|at| now < at) {
            return Vec::new();
        }
        self.next_bind = Some(now + REBIND_EVERY);
        self.relays
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != self.active && !(self.direct && *index == 0))
            .map(|(_, relay)| (*relay, RawDatagram::Bind(self.token)))
            .collect()
    }

    /// The relay in use.
    pub fn active_relay(&self) -> SocketAddr {
        self.relays[self.active]
    }

    /// Whether `addr` is one of the relays (not the peer of a direct
    /// connection).
    pub fn is_relay(&self, addr: SocketAddr) -> bool {
        self.index_of(addr)
            .is_some_and(|index| !(self.direct && index == 0))
    }

    fn index_of(&self, addr: SocketAddr) -> Option<usize> {
        self.relays.iter().position(|relay| *relay == addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 1], port))
    }

    #[test]
    fn a_silent_relay_is_replaced_by_the_first_standby_with_both_sides_bound() {
        let start = Instant::now();
        let mut failover = RelayFailover::new(addr(1), [7; 16], &[addr(2), addr(3)], start);
        assert_eq!(failover.on_datagram(addr(1), start), addr(1));
        assert!(
            failover
                .poll_binds(start + Duration::from_secs(1))
                .is_empty()
        );
        let silent = start + FAILOVER_SILENCE;
        let binds = failover.poll_binds(silent);
        assert_eq!(
            binds,
            vec![
                (addr(2), RawDatagram::Bind([7; 16])),
                (addr(3), RawDatagram::Bind([7; 16]))
            ]
        );
        assert!(
            failover.poll_binds(silent).is_empty(),
            "repeated, not flooded"
        );
        assert_eq!(failover.poll_binds(silent + REBIND_EVERY).len(), 2);
        // Bound alone, then a foreign token: nothing changes.
        failover.on_bound(addr(3), [7; 16], false, silent);
        failover.on_bound(addr(3), [8; 16], true, silent);
        assert_eq!(failover.destination(addr(1)), addr(1));
        failover.on_sent(addr(1), b"probe");
        assert_eq!(failover.take_replay(), None, "nothing moved yet");
        failover.on_bound(addr(3), [7; 16], true, silent);
        assert_eq!(failover.active_relay(), addr(3));
        assert_eq!(failover.take_replay(), Some((addr(3), b"probe".to_vec())));
        assert_eq!(failover.take_replay(), None, "once");
        assert_eq!(failover.destination(addr(1)), addr(3));
        assert_eq!(failover.destination(addr(9)), addr(9), "others untouched");
        // QUIC keeps seeing the first relay.
        assert_eq!(failover.on_datagram(addr(3), silent), addr(1));
        assert!(failover.poll_binds(silent + REBIND_EVERY * 2).is_empty());
    }

    #[test]
    fn the_peer_is_followed_to_the_relay_it_speaks_through() {
        let start = Instant::now();
        let mut failover = RelayFailover::new(addr(1), [7; 16], &[addr(2)], start);
        failover.on_datagram(addr(1), start);
        assert_eq!(failover.on_datagram(addr(2), start), addr(1));
        assert_eq!(failover.destination(addr(1)), addr(2));
        // A relay's late answer to a bind no longer moves anything.
        failover.on_bound(addr(1), [7; 16], true, start);
        assert_eq!(failover.active_relay(), addr(2));
    }

    #[test]
    fn a_silent_direct_peer_is_met_again_at_the_relay() {
        let start = Instant::now();
        let peer = addr(50);
        let mut failover = RelayFailover::for_direct(peer, [7; 16], &[addr(1), addr(2)], start);
        assert!(!failover.is_relay(peer) && failover.is_relay(addr(1)));
        assert_eq!(failover.on_datagram(peer, start), peer);
        assert_eq!(failover.destination(peer), peer);
        failover.on_sent(peer, b"probe");
        let silent = start + FAILOVER_SILENCE;
        // The relays are bound at, never the peer.
        assert_eq!(
            failover.poll_binds(silent),
            vec![
                (addr(1), RawDatagram::Bind([7; 16])),
                (addr(2), RawDatagram::Bind([7; 16]))
            ]
        );
        failover.on_bound(addr(1), [7; 16], true, silent);
        assert_eq!(failover.active_relay(), addr(1));
        assert_eq!(failover.take_replay(), Some((addr(1), b"probe".to_vec())));
        assert_eq!(failover.destination(peer), addr(1));
        // QUIC keeps seeing the peer's address.
        assert_eq!(failover.on_datagram(addr(1), silent), peer);
        // Silent from the start (no datagram yet): it binds too, once the
        // silence is long enough.
        let mut quiet = RelayFailover::for_direct(peer, [7; 16], &[addr(1)], start);
        assert!(quiet.poll_binds(start).is_empty());
        assert_eq!(quiet.poll_binds(silent).len(), 1);
    }

    #[test]
    fn a_direct_connection_or_no_standby_never_binds() {
        let start = Instant::now();
        let late = start + FAILOVER_SILENCE * 10;
        let mut direct = RelayFailover::new(addr(1), [7; 16], &[addr(2)], start);
        direct.on_datagram(addr(50), start);
        assert!(direct.poll_binds(late).is_empty());
        let mut alone = RelayFailover::new(addr(1), [7; 16], &[addr(1)], start);
        alone.on_datagram(addr(1), start);
        assert!(alone.poll_binds(late).is_empty());
        assert!(alone.is_relay(addr(1)) && !alone.is_relay(addr(2)));
    }
}
