//! The UDP relay: a per-session allocation with two tokens. A peer binds its
//! address by sending `Bind(token)` from the socket it uses for QUIC; from
//! then on every datagram from a bound address goes to the other side's bound
//! address, unchanged (end-to-end encrypted QUIC, which the relay cannot read).
//! Datagrams from unbound addresses are dropped. Each allocation has a byte
//! budget and an idle timeout. The relay also answers `Probe` with the
//! address it sees (a second port for the NAT mapping check). It sends
//! nothing back to a source larger than the datagram it got from there (the
//! peers pad what they send), so it amplifies no spoofed traffic, and
//! answers a source's probes only so often. Allocations are capped for the
//! relay and for each source ([`RelayLimits`]): a source that claims its own
//! codes gets no more than its share.

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ra_core::relay::{RawDatagram, RelayToken};
use rand_core::{OsRng, RngCore};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::config::RelayLimits;
use crate::rate_limit::{RateLimiter, SourceKey};

/// Largest datagram relayed.
const MAX_DATAGRAM: usize = 65_536;

/// How often idle allocations are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

struct Side {
    token: RelayToken,
    addr: Option<SocketAddr>,
}

struct Allocation {
    sides: [Side; 2],
    /// Whose it is: the two peers' sources (the same one twice when a
    /// source claimed its own code).
    sources: [SourceKey; 2],
    bytes: u64,
    last_active: Instant,
}

/// Why the relay made no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AllocationRefused {
    /// The relay holds as many allocations as it may.
    #[error("the relay is full")]
    Full,
    /// One of the peers' sources holds as many allocations as it may.
    #[error("a peer's source holds too many relay allocations")]
    SourceFull,
}

#[derive(Default)]
struct RelayState {
    allocations: HashMap<u64, Allocation>,
    by_token: HashMap<RelayToken, (u64, usize)>,
    by_addr: HashMap<SocketAddr, (u64, usize)>,
    next_id: u64,
    /// Unknown tokens passed on for adoption, and when: a peer repeats its
    /// bind every 50 ms, the registry is asked once a second at most.
    asked: HashMap<RelayToken, Instant>,
}

impl RelayState {
    fn remove(&mut self, id: u64) {
        if let Some(allocation) = self.allocations.remove(&id) {
            for side in allocation.sides {
                self.by_token.remove(&side.token);
                if let Some(addr) = side.addr {
                    self.by_addr.remove(&addr);
                }
            }
        }
    }
}

/// Counters of what the relay forwarded.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Datagrams forwarded.
    pub datagrams: AtomicU64,
    /// Bytes forwarded.
    pub bytes: AtomicU64,
    /// Datagrams dropped (unbound sender, budget exhausted, probes over
    /// their rate).
    pub dropped: AtomicU64,
    /// Allocations refused (the relay or a source at its cap).
    pub refused: AtomicU64,
}

/// How often an unknown token is passed on for adoption at most.
const ASK_AGAIN_AFTER: Duration = Duration::from_secs(1);

/// Unknown tokens remembered as asked at most; beyond, the memory is reset.
const MAX_ASKED: usize = 4096;

/// Unknown-token binds waiting to be looked up; beyond, they are dropped
/// (the peer binds again).
const UNKNOWN_BIND_QUEUE: usize = 64;

/// The relay of one broker node.
#[derive(Clone)]
pub struct Relay {
    state: Arc<Mutex<RelayState>>,
    local_addr: SocketAddr,
    stats: Arc<RelayStats>,
    limits: RelayLimits,
    probes: Arc<RateLimiter>,
    unknown_binds: mpsc::Sender<RelayToken>,
    unknown_binds_rx: Arc<Mutex<Option<mpsc::Receiver<RelayToken>>>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Binds the relay's socket and starts forwarding.
    ///
    /// # Errors
    /// When the socket cannot be bound or the capture file opened.
    pub async fn start(
        addr: SocketAddr,
        limits: RelayLimits,
        capture: Option<PathBuf>,
    ) -> std::io::Result<Relay> {
        let socket = UdpSocket::bind(addr).await?;
        let local_addr = socket.local_addr()?;
        let capture = match capture {
            Some(path) => Some(std::io::BufWriter::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            )),
            None => None,
        };
        let (unknown_binds, unknown_binds_rx) = mpsc::channel(UNKNOWN_BIND_QUEUE);
        let relay = Relay {
            state: Arc::default(),
            local_addr,
            stats: Arc::default(),
            limits,
            probes: Arc::new(RateLimiter::new(limits.probes_per_minute)),
            unknown_binds,
            unknown_binds_rx: Arc::new(Mutex::new(Some(unknown_binds_rx))),
        };
        tokio::spawn(relay.clone().run(socket, limits, capture));
        Ok(relay)
    }

    /// The relay's bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// What it forwarded so far.
    pub fn stats(&self) -> &RelayStats {
        &self.stats
    }

    /// A new allocation for two peers seen at `sources`: one token for each.
    ///
    /// # Errors
    /// [`AllocationRefused`] when the relay, or a source, is at its cap.
    pub fn allocate(
        &self,
        sources: [IpAddr; 2],
    ) -> Result<(RelayToken, RelayToken), AllocationRefused> {
        let mut tokens = [[0u8; 16]; 2];
        for token in &mut tokens {
            OsRng.fill_bytes(token);
        }
        self.insert(tokens, sources)?;
        Ok((tokens[0], tokens[1]))
    }

    /// Takes over an allocation another node's relay made (same tokens):
    /// the peers bind here when that relay stops answering. Nothing changes
    /// when this relay holds the tokens already.
    ///
    /// # Errors
    /// [`AllocationRefused`] when the relay, or a source, is at its cap.
    pub fn adopt(
        &self,
        tokens: [RelayToken; 2],
        sources: [IpAddr; 2],
    ) -> Result<(), AllocationRefused> {
        self.insert(tokens, sources)
    }

    /// The tokens of binds this relay did not know, for the node to look up
    /// (the first caller gets them; later ones `None`).
    pub fn take_unknown_binds(&self) -> Option<mpsc::Receiver<RelayToken>> {
        match self.unknown_binds_rx.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    /// Adds an allocation with `tokens`, unless one holds them already (a
    /// fresh allocation's random tokens never collide; an adoption may come
    /// twice, once per token).
    fn insert(
        &self,
        tokens: [RelayToken; 2],
        sources: [IpAddr; 2],
    ) -> Result<(), AllocationRefused> {
        let sources = sources.map(SourceKey::of);
        let mut state = self.lock();
        if tokens.iter().any(|t| state.by_token.contains_key(t)) {
            return Ok(());
        }
        let refused = if state.allocations.len() >= self.limits.max_allocations {
            Some(AllocationRefused::Full)
        } else if sources.iter().any(|source| {
            state
                .allocations
                .values()
                .filter(|a| a.sources.contains(source))
                .count()
                >= self.limits.max_allocations_per_source
        }) {
            Some(AllocationRefused::SourceFull)
        } else {
            None
        };
        if let Some(refused) = refused {
            self.stats.refused.fetch_add(1, Ordering::Relaxed);
            return Err(refused);
        }
        state.next_id += 1;
        let id = state.next_id;
        state.by_token.insert(tokens[0], (id, 0));
        state.by_token.insert(tokens[1], (id, 1));
        for token in &tokens {
            state.asked.remove(token);
        }
        state.allocations.insert(
            id,
            Allocation {
                sides: tokens.map(|token| Side { token, addr: None }),
                sources,
                bytes: 0,
                last_active: Instant::now(),
            },
        );
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RelayState> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    async fn run(
        self,
        socket: UdpSocket,
        limits: RelayLimits,
        mut capture: Option<std::io::BufWriter<std::fs::File>>,
    ) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            let (len, from) = tokio::select! {
                received = socket.recv_from(&mut buf) => match received {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!(error = %e, "relay receive failed");
                        continue;
                    }
                },
                _ = sweep.tick() => {
                    self.sweep(limits.idle_timeout);
                    continue;
                }
            };
            let data = &buf[..len];
            if RawDatagram::is_raw(data) {
                for (to, reply) in self.control(from, data) {
                    let reply = reply.encode();
                    // Never more back to a (possibly spoofed) source than
                    // it sent: the relay amplifies nothing.
                    if to == from && reply.len() > len {
                        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let _ = socket.send_to(&reply, to).await;
                }
                continue;
            }
            let Some(to) = self.route(from, len, limits.max_bytes) else {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            if let Some(file) = capture.as_mut() {
                let _ = file
                    .write_all(&(len as u32).to_be_bytes())
                    .and_then(|()| file.write_all(data))
                    .and_then(|()| file.flush());
            }
            if socket.send_to(data, to).await.is_ok() {
                self.stats.datagrams.fetch_add(1, Ordering::Relaxed);
                self.stats.bytes.fetch_add(len as u64, Ordering::Relaxed);
            }
        }
    }

    /// Handles a raw datagram; the replies to send.
    fn control(&self, from: SocketAddr, data: &[u8]) -> Vec<(SocketAddr, RawDatagram)> {
        match RawDatagram::decode(data) {
            Some(RawDatagram::Probe) => {
                if self.probes.check(from.ip(), Instant::now()).is_err() {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    return Vec::new();
                }
                vec![(from, RawDatagram::ProbeReply(from))]
            }
            Some(RawDatagram::Bind(token)) => {
                let mut state = self.lock();
                let Some(&(id, side)) = state.by_token.get(&token) else {
                    self.pass_on_unknown(&mut state, token);
                    return Vec::new();
                };
                let previous = state.allocations.get(&id).and_then(|a| a.sides[side].addr);
                if let Some(previous) = previous
                    && previous != from
                {
                    state.by_addr.remove(&previous);
                }
                // An address serves one allocation side at a time.
                if let Some(&(other_id, other_side)) = state.by_addr.get(&from)
                    && (other_id, other_side) != (id, side)
                    && let Some(other) = state.allocations.get_mut(&other_id)
                {
                    other.sides[other_side].addr = None;
                }
                state.by_addr.insert(from, (id, side));
                let Some(allocation) = state.allocations.get_mut(&id) else {
                    return Vec::new();
                };
                allocation.sides[side].addr = Some(from);
                allocation.last_active = Instant::now();
                let other = &allocation.sides[1 - side];
                let paired = other.addr.is_some();
                let mut replies = vec![(from, RawDatagram::Bound { token, paired })];
                if let (true, Some(other_addr)) = (paired, other.addr) {
                    replies.push((
                        other_addr,
                        RawDatagram::Bound {
                            token: other.token,
                            paired,
                        },
                    ));
                }
                replies
            }
            _ => Vec::new(),
        }
    }

    /// Passes an unknown token on for adoption, once a second at most.
    fn pass_on_unknown(&self, state: &mut RelayState, token: RelayToken) {
        let now = Instant::now();
        if state
            .asked
            .get(&token)
            .is_some_and(|at| now.duration_since(*at) < ASK_AGAIN_AFTER)
        {
            return;
        }
        if state.asked.len() >= MAX_ASKED {
            state.asked.clear();
        }
        if self.unknown_binds.try_send(token).is_ok() {
            state.asked.insert(token, now);
        }
    }

    /// Where a datagram from `from` goes, counting it against the budget.
    fn route(&self, from: SocketAddr, len: usize, max_bytes: u64) -> Option<SocketAddr> {
        let mut state = self.lock();
        let &(id, side) = state.by_addr.get(&from)?;
        let allocation = state.allocations.get_mut(&id)?;
        allocation.bytes += len as u64;
        if allocation.bytes > max_bytes {
            tracing::info!(allocation = id, "relay byte budget exhausted");
            state.remove(id);
            return None;
        }
        allocation.last_active = Instant::now();
        allocation.sides[1 - side].addr
    }

    fn sweep(&self, idle_timeout: Duration) {
        let mut state = self.lock();
        let now = Instant::now();
        let idle: Vec<u64> = state
            .allocations
            .iter()
            .filter(|(_, a)| now.duration_since(a.last_active) > idle_timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in idle {
            state.remove(id);
        }
        state
            .asked
            .retain(|_, at| now.duration_since(*at) < ASK_AGAIN_AFTER);
    }

    /// Live allocations.
    pub fn allocations(&self) -> usize {
        self.lock().allocations.len()
    }
}
