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
use std::sync::Arc;
use std::task::{Context, Poll};

use quinn::udp::{RecvMeta, Transmit};
use quinn::{AsyncUdpSocket, Runtime, UdpPoller};
use tokio::sync::mpsc;

use crate::relay::RawDatagram;

/// The socket quinn uses, with a side door for raw datagrams.
pub(crate) struct PathSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    raw: mpsc::Sender<(SocketAddr, RawDatagram)>,
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
}

/// The raw datagrams a [`PathSocket`] received, with their senders.
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
    let socket = Arc::new(PathSocket { inner, raw: raw_tx });
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
        self.inner.try_send(transmit)
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
            for i in 0..received {
                let data = &bufs[i][..meta[i].len];
                if RawDatagram::is_raw(data) {
                    let stride = meta[i].stride.max(1);
                    for segment in data.chunks(stride) {
                        if let Some(datagram) = RawDatagram::decode(segment) {
                            let _ = self.raw.try_send((meta[i].addr, datagram));
                        }
                    }
                    continue;
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
