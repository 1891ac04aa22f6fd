//! A userspace impaired link for real QUIC endpoints on loopback: one-way
//! delay, jitter, random loss, reordering and a rate limit with a bounded
//! queue, each way on its own (this machine's kernel has no netem, so delay,
//! jitter and reordering cannot come from `tc`).
//!
//! Seeded: the same seed drops and delays the same datagrams.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::net::loopback;

/// What one direction of the link does to each datagram.
#[derive(Debug, Clone, Copy)]
pub struct Impairment {
    /// One-way delay (half the round-trip time).
    pub delay: Duration,
    /// Extra delay, uniform in `0..jitter`, per datagram.
    pub jitter: Duration,
    /// Share of datagrams dropped at random (0.02: 2 %).
    pub loss: f64,
    /// Share of datagrams held back by [`Impairment::reorder_by`] so that
    /// later ones overtake them (0.1: 10 %).
    pub reorder: f64,
    /// How much longer a reordered datagram takes.
    pub reorder_by: Duration,
    /// The bottleneck, in bits per second (`None`: none).
    pub rate_bps: Option<f64>,
    /// How long a datagram may wait for the bottleneck before it is dropped
    /// (the queue's size, as time: drop-tail).
    pub queue: Duration,
}

impl Impairment {
    /// A clean link with only a one-way `delay`.
    pub fn delay(delay: Duration) -> Self {
        Impairment {
            delay,
            jitter: Duration::ZERO,
            loss: 0.0,
            reorder: 0.0,
            reorder_by: Duration::ZERO,
            rate_bps: None,
            queue: Duration::from_millis(200),
        }
    }
}

/// What crossed the link and what it did, both directions together.
#[derive(Debug, Clone, Default)]
pub struct LinkCounters {
    passed: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    lost: Arc<AtomicU64>,
    queue_drops: Arc<AtomicU64>,
    reordered: Arc<AtomicU64>,
}

impl LinkCounters {
    /// Datagrams delivered.
    pub fn passed(&self) -> u64 {
        self.passed.load(Ordering::Relaxed)
    }

    /// UDP payload bytes delivered.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Datagrams dropped at random.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Datagrams dropped because the bottleneck's queue was full.
    pub fn queue_drops(&self) -> u64 {
        self.queue_drops.load(Ordering::Relaxed)
    }

    /// Datagrams held back so that later ones overtook them.
    pub fn reordered(&self) -> u64 {
        self.reordered.load(Ordering::Relaxed)
    }
}

/// One direction's state: its random numbers and when the bottleneck is
/// free again.
struct Direction {
    impairment: Impairment,
    rng: ChaCha8Rng,
    free_at: Instant,
    counters: LinkCounters,
}

impl Direction {
    /// When a datagram of `len` bytes arriving now leaves the link, or
    /// `None` when it is dropped.
    fn departure(&mut self, len: usize) -> Option<Instant> {
        let now = Instant::now();
        let impairment = self.impairment;
        if impairment.loss > 0.0 && self.rng.gen_bool(impairment.loss.min(1.0)) {
            self.counters.lost.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let mut leaves = now;
        if let Some(rate) = impairment.rate_bps.filter(|rate| *rate > 0.0) {
            let start = self.free_at.max(now);
            if start.duration_since(now) > impairment.queue {
                self.counters.queue_drops.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            // The wire is busy until the previous datagram is out (28 bytes
            // of IP and UDP header each); an idle link saves no credit.
            self.free_at = start + Duration::from_secs_f64((len + 28) as f64 * 8.0 / rate);
            leaves = self.free_at;
        }
        leaves += impairment.delay;
        if !impairment.jitter.is_zero() {
            leaves += impairment.jitter.mul_f64(self.rng.gen_range(0.0..1.0));
        }
        if impairment.reorder > 0.0 && self.rng.gen_bool(impairment.reorder.min(1.0)) {
            self.counters.reordered.fetch_add(1, Ordering::Relaxed);
            leaves += impairment.reorder_by;
        }
        self.counters.passed.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes.fetch_add(len as u64, Ordering::Relaxed);
        Some(leaves)
    }
}

/// Relays datagrams between the first client that writes to the returned
/// address and `target`: `up` applies to the client's datagrams, `down` to
/// the target's. Runs as long as the test's runtime.
pub async fn impaired_link(
    target: SocketAddr,
    up: Impairment,
    down: Impairment,
    seed: u64,
) -> (SocketAddr, LinkCounters) {
    let socket = Arc::new(UdpSocket::bind(loopback()).await.unwrap());
    let upstream = Arc::new(UdpSocket::bind(loopback()).await.unwrap());
    upstream.connect(target).await.unwrap();
    let address = socket.local_addr().unwrap();
    let counters = LinkCounters::default();
    let client = Arc::new(std::sync::Mutex::new(None::<SocketAddr>));
    let direction = |impairment: Impairment, seed: u64| Direction {
        impairment,
        rng: ChaCha8Rng::seed_from_u64(seed),
        free_at: Instant::now(),
        counters: counters.clone(),
    };
    // Client -> target.
    {
        let (socket, upstream, client) = (socket.clone(), upstream.clone(), client.clone());
        let mut direction = direction(up, seed);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                *client.lock().unwrap() = Some(from);
                if let Some(at) = direction.departure(n) {
                    let (upstream, datagram) = (upstream.clone(), buf[..n].to_vec());
                    tokio::spawn(async move {
                        tokio::time::sleep_until(at).await;
                        let _ = upstream.send(&datagram).await;
                    });
                }
            }
        });
    }
    // Target -> client.
    {
        let mut direction = direction(down, seed.wrapping_add(1));
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = upstream.recv(&mut buf).await {
                let Some(to) = *client.lock().unwrap() else {
                    continue;
                };
                if let Some(at) = direction.departure(n) {
                    let (socket, datagram) = (socket.clone(), buf[..n].to_vec());
                    tokio::spawn(async move {
                        tokio::time::sleep_until(at).await;
                        let _ = socket.send_to(&datagram, to).await;
                    });
                }
            }
        });
    }
    (address, counters)
}
