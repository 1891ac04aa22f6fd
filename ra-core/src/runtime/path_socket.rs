//! A peer's UDP socket in the broker flows: one socket carries the QUIC
//! connection to the broker (so the broker sees the NAT mapping the peers will
//! use), the raw datagrams of hole punching and of the relay binding, and the
//! QUIC connection to the other peer, direct or relayed.
//!
//! It wraps quinn's own socket: QUIC packets pass through untouched; raw
//! datagrams ([`RawDatagram`]) are taken out of the receive path and handed to
//! the rendezvous logic, and can be sent from the same socket.

use std::fmt;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Instant;

use quinn::udp::{RecvMeta, Transmit};
use quinn::{AsyncUdpSocket, Runtime, UdpPoller};
use tokio::sync::mpsc;

use crate::relay::{RawDatagram, RelayToken};
use crate::rendezvous::{REBIND_EVERY, RelayFailover};

/// The socket quinn uses, with a side door for raw datagrams, and the relay
/// failover of a relayed connection (QUIC keeps the first relay's address;
/// the socket sends to the relay in use).
pub(crate) struct PathSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    raw: mpsc::Sender<(SocketAddr, RawDatagram)>,
    failover: Mutex<Option<RelayFailover>>,
    /// The last match's relay, this peer's token there and the standbys:
    /// what a direct connection accepted after it falls back to.
    match_relays: Mutex<Option<MatchRelays>>,
}

/// A match's relay, this peer's token and the standby relays.
#[derive(Debug, Clone)]
struct MatchRelays {
    relay: SocketAddr,
    token: RelayToken,
    standbys: Vec<SocketAddr>,
}

/// Raw datagrams that may wait to be read. Anyone on the network can send
/// them, and once a path is chosen nobody reads them any more: beyond this
/// they are dropped, as a full socket buffer would (every raw datagram is
/// repeated by its sender).
const RAW_QUEUE: usize = 64;

impl fmt::Debug for PathSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PathSocket")
            .field("local_addr", &self.inner.local_addr().ok())
            .finish_non_exhaustive()
    }
}

/// Sends raw datagrams from a [`PathSocket`].
#[derive(Clone)]
pub(crate) struct RawSender {
    socket: Arc<PathSocket>,
}

impl RawSender {
    /// Sends one raw datagram (best effort: a full socket buffer drops it;
    /// every raw datagram is repeated by its sender).
    pub(crate) fn send(&self, to: SocketAddr, datagram: &RawDatagram) {
        let bytes = datagram.encode();
        let transmit = Transmit {
            destination: to,
            ecn: None,
            contents: &bytes,
            segment_size: None,
            src_ip: None,
        };
        if let Err(e) = self.socket.inner.try_send(&transmit) {
            tracing::debug!(%to, error = %e, "raw datagram not sent");
        }
    }

    /// The socket's local address.
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.inner.local_addr()
    }

    /// Arms the failover of a connection through `relay` (with this peer's
    /// `token`) to the match's `standbys`: from the first QUIC datagram
    /// through the relay on, a silent relay is replaced. Replaces an earlier
    /// match's.
    pub(crate) fn arm_relay_failover(
        &self,
        relay: SocketAddr,
        token: RelayToken,
        standbys: &[SocketAddr],
    ) {
        if standbys.is_empty() {
            return;
        }
        self.arm(RelayFailover::new(relay, token, standbys, Instant::now()));
    }

    /// Arms the fall back of a direct connection to `peer`: should the peer
    /// go silent (an address or a NAT mapping changed on either side), both
    /// meet again at the match's `relay` (or a standby) with their tokens.
    pub(crate) fn arm_direct_fallback(
        &self,
        peer: SocketAddr,
        relay: SocketAddr,
        token: RelayToken,
        standbys: &[SocketAddr],
    ) {
        let mut relays = vec![relay];
        relays.extend_from_slice(standbys);
        self.arm(RelayFailover::for_direct(
            peer,
            token,
            &relays,
            Instant::now(),
        ));
    }

    /// Keeps the relays of a match this (waiting) peer takes connections
    /// for, until [`RawSender::settle`] knows which path a connection took.
    pub(crate) fn remember_match(
        &self,
        relay: SocketAddr,
        token: RelayToken,
        standbys: &[SocketAddr],
    ) {
        let relays = MatchRelays {
            relay,
            token,
            standbys: standbys.to_vec(),
        };
        *lock(&self.socket.match_relays) = Some(relays);
    }

    /// A connection from `peer` was accepted: if it came direct, it falls
    /// back to the remembered match's relay should the peer go silent.
    pub(crate) fn settle(&self, peer: SocketAddr) {
        let Some(relays) = lock(&self.socket.match_relays).clone() else {
            return;
        };
        if peer != relays.relay && !relays.standbys.contains(&peer) {
            self.arm_direct_fallback(peer, relays.relay, relays.token, &relays.standbys);
        }
    }

    fn arm(&self, failover: RelayFailover) {
        let first = self.socket.lock_failover().replace(failover).is_none();
        if first {
            tokio::spawn(send_failover_binds(Arc::downgrade(&self.socket)));
        }
    }
}

async fn send_failover_binds(socket: Weak<PathSocket>) {
    let mut ticker = tokio::time::interval(REBIND_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(socket) = socket.upgrade() else {
            return;
        };
        let binds = match socket.lock_failover().as_mut() {
            Some(failover) => failover.poll_binds(Instant::now()),
            None => Vec::new(),
        };
        if !binds.is_empty() {
            tracing::debug!(
                relays = binds.len(),
                "the relay is silent: binding at the standbys"
            );
        }
        let sender = RawSender { socket };
        for (to, datagram) in binds {
            sender.send(to, &datagram);
        }
    }
}

impl PathSocket {
    /// Sends a QUIC packet again through the relay just moved to.
    fn send_replay(&self, to: SocketAddr, packet: &[u8]) {
        let transmit = Transmit {
            destination: to,
            ecn: None,
            contents: packet,
            segment_size: None,
            src_ip: None,
        };
        if let Err(e) = self.inner.try_send(&transmit) {
            tracing::debug!(%to, error = %e, "replayed packet not sent");
        }
    }

    fn lock_failover(&self) -> std::sync::MutexGuard<'_, Option<RelayFailover>> {
        lock(&self.failover)
    }
}

/// The raw datagrams a [`PathSocket`] received, with their senders.
/// Locks `mutex` (a panic elsewhere poisons nothing here: the data is
/// plain).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

pub(crate) type RawReceiver = mpsc::Receiver<(SocketAddr, RawDatagram)>;

/// Binds `addr` and returns an endpoint over it (a server too when
/// `server` is given), a sender of raw datagrams and the raw datagrams received.
pub(crate) fn bind_endpoint(
    addr: SocketAddr,
    server: Option<quinn::ServerConfig>,
) -> io::Result<(quinn::Endpoint, RawSender, RawReceiver)> {
    let socket = std::net::UdpSocket::bind(addr)?;
    let runtime: Arc<dyn Runtime> = Arc::new(quinn::TokioRuntime);
    let inner = runtime.wrap_udp_socket(socket)?;
    let (raw_tx, raw_rx) = mpsc::channel(RAW_QUEUE);
    let socket = Arc::new(PathSocket {
        inner,
        raw: raw_tx,
        failover: Mutex::new(None),
        match_relays: Mutex::new(None),
    });
    let endpoint = quinn::Endpoint::new_with_abstract_socket(
        quinn::EndpointConfig::default(),
        server,
        socket.clone(),
        runtime,
    )?;
    Ok((endpoint, RawSender { socket }, raw_rx))
}

impl AsyncUdpSocket for PathSocket {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        self.inner.clone().create_io_poller()
    }

    fn try_send(&self, transmit: &Transmit<'_>) -> io::Result<()> {
        let destination = match self.lock_failover().as_mut() {
            Some(failover) => {
                let stride = transmit
                    .segment_size
                    .unwrap_or(transmit.contents.len())
                    .max(1);
                if let Some(last) = transmit.contents.chunks(stride).last() {
                    failover.on_sent(transmit.destination, last);
                }
                failover.destination(transmit.destination)
            }
            None => transmit.destination,
        };
        if destination == transmit.destination {
            return self.inner.try_send(transmit);
        }
        // The kernel picks the source: QUIC's server pins the local address
        // its peer's packets came to, which may be gone (the machine moved
        // to another network, which is why the path moved).
        self.inner.try_send(&Transmit {
            destination,
            ecn: transmit.ecn,
            contents: transmit.contents,
            segment_size: transmit.segment_size,
            src_ip: None,
        })
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        // Bounded: each round either returns or consumed at least one datagram,
        // and the inner socket returns Pending once it is drained.
        loop {
            let received = match self.inner.poll_recv(cx, bufs, meta) {
                Poll::Ready(Ok(n)) => n,
                other => return other,
            };
            let mut kept = 0;
            let now = Instant::now();
            let mut failover = self.lock_failover();
            for i in 0..received {
                let data = &bufs[i][..meta[i].len];
                if RawDatagram::is_raw(data) {
                    let stride = meta[i].stride.max(1);
                    for segment in data.chunks(stride) {
                        if let Some(datagram) = RawDatagram::decode(segment) {
                            if let (Some(failover), RawDatagram::Bound { token, paired }) =
                                (failover.as_mut(), &datagram)
                            {
                                failover.on_bound(meta[i].addr, *token, *paired, now);
                                if let Some((to, packet)) = failover.take_replay() {
                                    tracing::debug!(relay = %to, "moved to a standby relay");
                                    self.send_replay(to, &packet);
                                }
                            }
                            let _ = self.raw.try_send((meta[i].addr, datagram));
                        }
                    }
                    continue;
                }
                if let Some(failover) = failover.as_mut() {
                    let before = failover.active_relay();
                    meta[i].addr = failover.on_datagram(meta[i].addr, now);
                    if before != failover.active_relay() {
                        tracing::debug!(relay = %failover.active_relay(), "following the peer to another relay");
                    }
                }
                if kept != i {
                    bufs.swap(kept, i);
                    meta.swap(kept, i);
                }
                kept += 1;
            }
            if kept > 0 {
                return Poll::Ready(Ok(kept));
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn max_transmit_segments(&self) -> usize {
        self.inner.max_transmit_segments()
    }

    fn max_receive_segments(&self) -> usize {
        self.inner.max_receive_segments()
    }

    fn may_fragment(&self) -> bool {
        self.inner.may_fragment()
    }
}
