//! One broker node: QUIC toward peers, the registry, the relay.
//!
//! Multi-node: a code's record names the node its waiting peer is attached
//! to. A claim that arrives at another node is answered with a redirect to the
//! owner, whose public address the nodes publish in the registry. The owner
//! does the atomic claim, tells its waiting peer and allocates the relay on
//! itself, so a session involves exactly one node and nodes never talk to
//! each other. When a node restarts, its waiting peers reconnect and
//! re-attach (with a key only they hold); the codes stay in the registry.
//! When a node dies, its waiting peers re-attach through the other nodes the
//! registration named, and its relayed sessions move to a standby relay
//! (`claim`).

mod claim;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prost::Message as _;
use ra_core::code::Lookup;
use ra_core::invitation::CertFingerprint;
use ra_core::proto::broker::{
    BrokerMessage, CloseReason, Closed, MAX_BROKER_MESSAGE, Matched, PeerMessage, ProbeReply,
    RefuseReason, Refused, Registered, Role, broker_message, peer_message,
};
use ra_core::session::{FrameDecoder, encode_frame};
use tokio::sync::{mpsc, oneshot};

use crate::config::{BrokerConfig, RegistryConfig};
use crate::identity::{BrokerIdentity, IdentityError};
use crate::rate_limit::{Limit, RateLimiter, SourceKey};
use crate::registry::{
    CodeRecord, CodeState, MemoryRegistry, NodeAddresses, RedisRegistry, Registry, RegistryError,
    ReportOutcome,
};
use crate::relay::Relay;

/// How long a peer may take to send a stream's first message.
const FIRST_MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often (and for how long) a node publishes its address.
const ANNOUNCE_EVERY: Duration = Duration::from_secs(20);
const ANNOUNCE_TTL: Duration = Duration::from_secs(60);

/// Other nodes named to a waiting peer at most.
const MAX_OTHER_NODES: usize = 8;

/// The shortest re-attach key a waiting peer may register: a guessable key
/// would let anyone take its place at the broker.
pub const MIN_ATTACH_KEY: usize = 16;

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The TLS identity could not be loaded or made.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The registry could not be reached.
    #[error("registry: {0}")]
    Registry(#[from] RegistryError),
    /// The relay address to advertise is unknown (bound to an unspecified IP).
    #[error("set public_relay_addr: the relay listens on {0}")]
    RelayAddress(SocketAddr),
}

/// Counters of one node.
#[derive(Debug, Default)]
pub struct NodeStats {
    /// Lookups (claims) received.
    pub lookups: AtomicU64,
    /// Lookups refused by the rate limit.
    pub rate_limited: AtomicU64,
    /// Codes registered.
    pub registered: AtomicU64,
    /// Successful matches.
    pub matches: AtomicU64,
}

/// Something a node did with a code (its lookup part only: the broker never
/// knows more), for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeEvent {
    /// A waiting peer registered a code.
    Registered {
        /// The lookup part.
        lookup: String,
    },
    /// A waiting peer re-attached its code to this node.
    Attached {
        /// The lookup part.
        lookup: String,
    },
    /// A claimant was matched with the waiting peer.
    Matched {
        /// The lookup part.
        lookup: String,
    },
    /// A claim failed authentication; the code takes claims again.
    Reopened {
        /// The lookup part.
        lookup: String,
    },
    /// The code is used, dead or expired.
    Closed {
        /// The lookup part.
        lookup: String,
        /// `used`, `too_many_failures` or `expired`.
        reason: &'static str,
    },
    /// This node's relay took over an allocation of a node that stopped
    /// answering.
    RelayAdopted,
}

impl NodeEvent {
    /// The event as one JSON object with an `"event"` field.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            NodeEvent::Registered { lookup } => {
                serde_json::json!({ "event": "registered", "lookup": lookup })
            }
            NodeEvent::Attached { lookup } => {
                serde_json::json!({ "event": "attached", "lookup": lookup })
            }
            NodeEvent::Matched { lookup } => {
                serde_json::json!({ "event": "matched", "lookup": lookup })
            }
            NodeEvent::Reopened { lookup } => {
                serde_json::json!({ "event": "reopened", "lookup": lookup })
            }
            NodeEvent::Closed { lookup, reason } => {
                serde_json::json!({ "event": "closed", "lookup": lookup, "reason": reason })
            }
            NodeEvent::RelayAdopted => serde_json::json!({ "event": "relay_adopted" }),
        }
    }
}

/// A running broker node.
pub struct RunningBroker {
    /// The QUIC address it listens on.
    pub local_addr: SocketAddr,
    /// The relay's UDP address.
    pub relay_addr: SocketAddr,
    /// The fingerprint peers pin.
    pub fingerprint: CertFingerprint,
    /// The node's counters.
    pub stats: Arc<NodeStats>,
    /// The relay (for its counters).
    pub relay: Relay,
    endpoint: quinn::Endpoint,
    stop: Option<oneshot::Sender<()>>,
    events: Option<mpsc::UnboundedReceiver<NodeEvent>>,
}

impl std::fmt::Debug for RunningBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningBroker")
            .field("local_addr", &self.local_addr)
            .field("relay_addr", &self.relay_addr)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl RunningBroker {
    /// The node's events (once; events are dropped while nobody takes them).
    pub fn take_events(&mut self) -> Option<mpsc::UnboundedReceiver<NodeEvent>> {
        self.events.take()
    }

    /// Stops taking connections and closes the peers' connections.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.endpoint.close(0u8.into(), b"broker stopping");
    }
}

/// Starts a broker node with `config` (its registry, relay and QUIC endpoint).
///
/// # Errors
/// [`StartError`] when a socket, the identity or the registry is unavailable.
pub async fn start(config: BrokerConfig) -> Result<RunningBroker, StartError> {
    match config.registry.clone() {
        RegistryConfig::Memory => start_with(config, MemoryRegistry::new()).await,
        RegistryConfig::Redis(url) => {
            let registry = RedisRegistry::connect(&url).await?;
            start_with(config, registry).await
        }
    }
}

/// Starts a broker node over a given registry.
///
/// # Errors
/// As [`start`].
pub async fn start_with<R: Registry>(
    config: BrokerConfig,
    registry: R,
) -> Result<RunningBroker, StartError> {
    let identity = match &config.identity_file {
        Some(path) => BrokerIdentity::load_or_create(path)?,
        None => BrokerIdentity::generate()?,
    };
    let bind = |source| StartError::Bind {
        addr: config.listen,
        source,
    };
    let socket = std::net::UdpSocket::bind(config.listen).map_err(bind)?;
    let endpoint = quinn::Endpoint::new(
        identity.endpoint_config(),
        Some(identity.server_config()?),
        socket,
        Arc::new(quinn::TokioRuntime),
    )
    .map_err(bind)?;
    let local_addr = endpoint.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let relay = Relay::start(
        config.relay_listen,
        config.relay,
        config.relay_capture.clone(),
    )
    .await
    .map_err(|source| StartError::Bind {
        addr: config.relay_listen,
        source,
    })?;
    let relay_addr = match config.public_relay_addr {
        Some(addr) => addr,
        None if relay.local_addr().ip().is_unspecified() => {
            match config.public_addr.or(Some(local_addr)).map(|a| a.ip()) {
                Some(ip) if !ip.is_unspecified() => SocketAddr::new(ip, relay.local_addr().port()),
                _ => return Err(StartError::RelayAddress(relay.local_addr())),
            }
        }
        None => relay.local_addr(),
    };
    let advertised = NodeAddresses {
        claims: config.advertised_addr(local_addr).to_string(),
        relay: relay_addr.to_string(),
    };
    registry
        .announce_node(&config.node_id, &advertised, ANNOUNCE_TTL)
        .await?;
    let stats = Arc::new(NodeStats::default());
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let node = Arc::new(Node {
        events: events_tx,
        lookups: RateLimiter::new(config.rate_limit.lookups_per_minute),
        registrations: RateLimiter::new(config.rate_limit.registrations_per_minute),
        outcomes: RateLimiter::new(config.rate_limit.outcomes_per_minute),
        probes: RateLimiter::new(config.relay.probes_per_minute),
        config,
        registry,
        relay: relay.clone(),
        relay_addr,
        advertised,
        waiters: Mutex::new(HashMap::new()),
        stats: stats.clone(),
    });
    let (stop_tx, stop_rx) = oneshot::channel();
    tokio::spawn(node.clone().announce(stop_rx));
    if let Some(unknown_binds) = relay.take_unknown_binds() {
        tokio::spawn(node.clone().adopt_unknown_binds(unknown_binds));
    }
    tokio::spawn(accept_loop(endpoint.clone(), node));
    Ok(RunningBroker {
        local_addr,
        relay_addr,
        fingerprint: identity.fingerprint(),
        stats,
        relay,
        endpoint,
        stop: Some(stop_tx),
        events: Some(events_rx),
    })
}

async fn accept_loop<R: Registry>(endpoint: quinn::Endpoint, node: Arc<Node<R>>) {
    while let Some(incoming) = endpoint.accept().await {
        let node = node.clone();
        tokio::spawn(async move {
            let Ok(connection) = incoming.await else {
                return;
            };
            while let Ok((send, recv)) = connection.accept_bi().await {
                let node = node.clone();
                let peer = connection.remote_address();
                tokio::spawn(async move {
                    let mut stream = PeerStream {
                        send,
                        recv,
                        decoder: FrameDecoder::new(MAX_BROKER_MESSAGE),
                    };
                    node.serve(peer, &mut stream).await;
                    let _ = stream.send.finish();
                });
            }
        });
    }
}

/// What a claim tells the code's waiting peer.
enum ToWaiter {
    /// A claimant was matched with it.
    Matched(Matched),
    /// The code was claimed as often as failures are allowed: it is dead.
    Exhausted,
}

type WaiterChannel = mpsc::UnboundedSender<ToWaiter>;

struct Node<R> {
    config: BrokerConfig,
    registry: R,
    relay: Relay,
    relay_addr: SocketAddr,
    advertised: NodeAddresses,
    lookups: RateLimiter,
    registrations: RateLimiter,
    outcomes: RateLimiter,
    probes: RateLimiter,
    /// Waiting peers attached to this node, by lookup.
    waiters: Mutex<HashMap<String, WaiterChannel>>,
    stats: Arc<NodeStats>,
    events: mpsc::UnboundedSender<NodeEvent>,
}

struct PeerStream {
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    decoder: FrameDecoder,
}

impl PeerStream {
    async fn send(&mut self, message: broker_message::Message) -> bool {
        let bytes = encode_frame(&BrokerMessage {
            message: Some(message),
        });
        self.send.write_all(&bytes).await.is_ok()
    }

    /// The next message; `None` when the stream ends or breaks the protocol.
    async fn recv(&mut self) -> Option<peer_message::Message> {
        // Bounded by the stream: each round consumes a chunk or returns.
        loop {
            match self.decoder.next_message() {
                Ok(Some(bytes)) => return PeerMessage::decode(bytes).ok()?.message,
                Ok(None) => {}
                Err(_) => return None,
            }
            let chunk = self
                .recv
                .read_chunk(MAX_BROKER_MESSAGE, true)
                .await
                .ok()??;
            self.decoder.push(&chunk.bytes);
        }
    }
}

/// How often, and how far apart, a `Reach` datagram is sent (a lost one
/// must not make a reachable port look closed).
const REACH_REPEAT: u32 = 3;
const REACH_EVERY: Duration = Duration::from_millis(100);

/// Sends `Reach(nonce)` to the port `probe` names at the peer's own IP (never
/// elsewhere: nobody can aim it at a third party), from a fresh socket the
/// peer never talked to, so that no NAT or firewall lets it in as an answer.
/// The address it was sent from.
async fn reach(
    peer: SocketAddr,
    probe: &ra_core::proto::broker::ReachProbe,
) -> Result<SocketAddr, RefuseReason> {
    let port = u16::try_from(probe.port)
        .ok()
        .filter(|p| *p != 0)
        .ok_or(RefuseReason::Invalid)?;
    let nonce: [u8; ra_core::relay::REACH_NONCE_LEN] = probe
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| RefuseReason::Invalid)?;
    let unspecified: IpAddr = match peer.ip() {
        IpAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = tokio::net::UdpSocket::bind(SocketAddr::new(unspecified, 0))
        .await
        .map_err(|_| RefuseReason::UnavailableNow)?;
    let from = socket
        .local_addr()
        .map_err(|_| RefuseReason::UnavailableNow)?;
    let datagram = ra_core::relay::RawDatagram::Reach(nonce).encode();
    let to = SocketAddr::new(peer.ip(), port);
    for i in 0..REACH_REPEAT {
        if i > 0 {
            tokio::time::sleep(REACH_EVERY).await;
        }
        let _ = socket.send_to(&datagram, to).await;
    }
    Ok(from)
}

fn refuse(reason: RefuseReason) -> broker_message::Message {
    broker_message::Message::Refused(Refused {
        reason: reason as i32,
        retry_after_ms: 0,
    })
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn waiter_role_for(claimant: i32) -> Option<i32> {
    match Role::try_from(claimant).ok()? {
        Role::Host => Some(Role::Helper as i32),
        Role::Helper => Some(Role::Host as i32),
        Role::Unspecified => None,
    }
}

impl<R: Registry> Node<R> {
    async fn announce(self: Arc<Self>, mut stop: oneshot::Receiver<()>) {
        let mut ticker = tokio::time::interval(ANNOUNCE_EVERY);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(e) = self
                        .registry
                        .announce_node(&self.config.node_id, &self.advertised, ANNOUNCE_TTL)
                        .await
                    {
                        tracing::warn!(error = %e, "cannot announce this node");
                    }
                }
                _ = &mut stop => return,
            }
        }
    }

    async fn serve(&self, peer: SocketAddr, stream: &mut PeerStream) {
        let first = match tokio::time::timeout(FIRST_MESSAGE_TIMEOUT, stream.recv()).await {
            Ok(Some(message)) => message,
            _ => return,
        };
        match first {
            peer_message::Message::Probe(_) => {
                if let Err(wait) = self.take_token(Limit::Probes, peer.ip()).await {
                    self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                    stream.send(rate_limited(wait)).await;
                    return;
                }
                stream
                    .send(broker_message::Message::ProbeReply(ProbeReply {
                        observed_addr: peer.to_string(),
                        relay_addr: self.relay_addr.to_string(),
                    }))
                    .await;
            }
            peer_message::Message::Claim(claim) => {
                let answer = self.claim(peer, claim).await;
                stream.send(answer).await;
            }
            peer_message::Message::Register(register) => {
                if let Some((lookup, expires)) = self.register(peer, stream, register).await {
                    self.wait(peer, stream, lookup, expires).await;
                }
            }
            peer_message::Message::Attach(attach) => {
                if let Some((lookup, expires)) = self.attach(peer, stream, attach).await {
                    self.wait(peer, stream, lookup, expires).await;
                }
            }
            peer_message::Message::ReachProbe(probe) => {
                if let Err(wait) = self.take_token(Limit::Probes, peer.ip()).await {
                    self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                    stream.send(rate_limited(wait)).await;
                    return;
                }
                let answer = match reach(peer, &probe).await {
                    Ok(from) => broker_message::Message::ProbeReply(ProbeReply {
                        observed_addr: peer.to_string(),
                        relay_addr: from.to_string(),
                    }),
                    Err(reason) => refuse(reason),
                };
                stream.send(answer).await;
            }
            peer_message::Message::Outcome(_) => {
                stream.send(refuse(RefuseReason::Invalid)).await;
            }
        }
    }

    /// The other live nodes' QUIC addresses, for a waiting peer to
    /// re-attach through when this node stops answering.
    async fn other_nodes(&self) -> Vec<String> {
        match self.registry.live_nodes().await {
            Ok(nodes) => nodes
                .into_iter()
                .filter(|(name, addrs)| {
                    *name != self.config.node_id && addrs.claims != self.advertised.claims
                })
                .map(|(_, addrs)| addrs.claims)
                .take(MAX_OTHER_NODES)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "registry failed; no other nodes named");
                Vec::new()
            }
        }
    }

    /// Registers a code; the lookup and expiry once the peer was told.
    async fn register(
        &self,
        peer: SocketAddr,
        stream: &mut PeerStream,
        register: ra_core::proto::broker::Register,
    ) -> Option<(String, Instant)> {
        if let Err(wait) = self.take_token(Limit::Registrations, peer.ip()).await {
            stream.send(rate_limited(wait)).await;
            return None;
        }
        let (Ok(lookup), Some(_), true) = (
            Lookup::parse(&register.lookup),
            waiter_role_for(register.role),
            register.attach_key.len() >= MIN_ATTACH_KEY,
        ) else {
            stream.send(refuse(RefuseReason::Invalid)).await;
            return None;
        };
        let codes = self.registry.code_count().await.unwrap_or(0);
        if self.lock_waiters().len() >= self.config.max_waiting || codes >= self.config.max_codes {
            self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            stream.send(refuse(RefuseReason::UnavailableNow)).await;
            return None;
        }
        let lookup = lookup.to_string();
        let lifetime = match register.lifetime_secs {
            0 => self.config.max_code_lifetime,
            secs => Duration::from_secs(u64::from(secs)).min(self.config.max_code_lifetime),
        };
        let expires_at = SystemTime::now() + lifetime;
        let record = CodeRecord {
            role: register.role,
            owner: self.config.node_id.clone(),
            observed: peer.to_string(),
            locals: register.local_addrs.into_iter().take(8).collect(),
            attach_key_hash: CodeRecord::hash_attach_key(&register.attach_key),
            expires_at_ms: unix_ms(expires_at),
            failures: 0,
            claims: 0,
            state: CodeState::Waiting,
            match_id: String::new(),
        };
        match self.registry.register(&lookup, &record, lifetime).await {
            Ok(true) => {}
            Ok(false) => {
                stream.send(refuse(RefuseReason::Collision)).await;
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "registry failed");
                stream.send(refuse(RefuseReason::UnavailableNow)).await;
                return None;
            }
        }
        self.stats.registered.fetch_add(1, Ordering::Relaxed);
        let _ = self.events.send(NodeEvent::Registered {
            lookup: lookup.clone(),
        });
        let sent = stream
            .send(broker_message::Message::Registered(Registered {
                expires_at_unix_ms: record.expires_at_ms,
                observed_addr: peer.to_string(),
                other_nodes: self.other_nodes().await,
            }))
            .await;
        sent.then(|| (lookup, Instant::now() + lifetime))
    }

    /// Re-attaches a waiting peer; the lookup and expiry once told.
    async fn attach(
        &self,
        peer: SocketAddr,
        stream: &mut PeerStream,
        attach: ra_core::proto::broker::Attach,
    ) -> Option<(String, Instant)> {
        if let Err(wait) = self.take_token(Limit::Registrations, peer.ip()).await {
            stream.send(rate_limited(wait)).await;
            return None;
        }
        let lookup = Lookup::parse(&attach.lookup).ok()?.to_string();
        if attach.attach_key.len() < MIN_ATTACH_KEY {
            stream.send(refuse(RefuseReason::Invalid)).await;
            return None;
        }
        if self.lock_waiters().len() >= self.config.max_waiting {
            stream.send(refuse(RefuseReason::UnavailableNow)).await;
            return None;
        }
        let record = match self.registry.get(&lookup).await {
            Ok(Some(record)) if record.attach_key_matches(&attach.attach_key) => record,
            Ok(_) => {
                stream.send(refuse(RefuseReason::Unavailable)).await;
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "registry failed");
                stream.send(refuse(RefuseReason::UnavailableNow)).await;
                return None;
            }
        };
        let locals: Vec<String> = attach.local_addrs.into_iter().take(8).collect();
        match self
            .registry
            .attach(&lookup, &self.config.node_id, &peer.to_string(), &locals)
            .await
        {
            Ok(true) => {}
            _ => {
                stream.send(refuse(RefuseReason::Unavailable)).await;
                return None;
            }
        }
        let _ = self.events.send(NodeEvent::Attached {
            lookup: lookup.clone(),
        });
        let left = Duration::from_millis(
            record
                .expires_at_ms
                .saturating_sub(unix_ms(SystemTime::now())),
        );
        let sent = stream
            .send(broker_message::Message::Registered(Registered {
                expires_at_unix_ms: record.expires_at_ms,
                observed_addr: peer.to_string(),
                other_nodes: self.other_nodes().await,
            }))
            .await;
        sent.then(|| (lookup, Instant::now() + left))
    }

    /// Serves a waiting peer: passes matches on, applies its outcome reports,
    /// and tells it when the code is used, dead or expired.
    async fn wait(
        &self,
        peer: SocketAddr,
        stream: &mut PeerStream,
        lookup: String,
        expires: Instant,
    ) {
        let (tx, mut matches) = mpsc::unbounded_channel();
        self.lock_waiters().insert(lookup.clone(), tx.clone());
        let close = loop {
            tokio::select! {
                Some(signal) = matches.recv() => match signal {
                    ToWaiter::Matched(matched) => {
                        if !stream.send(broker_message::Message::Matched(matched)).await {
                            break None;
                        }
                    }
                    ToWaiter::Exhausted => break Some(CloseReason::TooManyFailures),
                },
                message = stream.recv() => match message {
                    // Each report is a registry write: limited per source
                    // (a peer reports once per match).
                    Some(peer_message::Message::Outcome(outcome)) => {
                        if self.take_token(Limit::Outcomes, peer.ip()).await.is_err() {
                            self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        let report = self
                            .registry
                            .report(
                                &lookup,
                                &outcome.match_id.to_string(),
                                outcome.success,
                                self.config.max_failures,
                            )
                            .await;
                        match report {
                            Ok(ReportOutcome::Used) => break Some(CloseReason::Used),
                            Ok(ReportOutcome::Dead) => break Some(CloseReason::TooManyFailures),
                            Ok(ReportOutcome::Retry) => {
                                let _ = self.events.send(NodeEvent::Reopened {
                                    lookup: lookup.clone(),
                                });
                            }
                            Ok(ReportOutcome::Unknown) => {}
                            Err(e) => tracing::warn!(error = %e, "registry failed"),
                        }
                    }
                    Some(_) => {}
                    // The peer left (or its node link broke): keep the code
                    // for a re-attach until it expires.
                    None => break None,
                },
                () = tokio::time::sleep_until(tokio::time::Instant::from_std(expires)) => {
                    if let Err(e) = self.registry.remove(&lookup).await {
                        tracing::warn!(error = %e, "registry failed");
                    }
                    break Some(CloseReason::Expired);
                }
            }
        };
        {
            let mut waiters = self.lock_waiters();
            if waiters.get(&lookup).is_some_and(|w| w.same_channel(&tx)) {
                waiters.remove(&lookup);
            }
        }
        if let Some(reason) = close {
            let _ = self.events.send(NodeEvent::Closed {
                lookup: lookup.clone(),
                reason: match reason {
                    CloseReason::Used => "used",
                    CloseReason::TooManyFailures => "too_many_failures",
                    _ => "expired",
                },
            });
            stream
                .send(broker_message::Message::Closed(Closed {
                    reason: reason as i32,
                }))
                .await;
        }
    }

    /// Takes one of `ip`'s tokens of `limit` from the registry (with Redis,
    /// shared by every node), or from this node's own bucket while the
    /// registry fails.
    ///
    /// # Errors
    /// How long until the next token.
    async fn take_token(&self, limit: Limit, ip: IpAddr) -> Result<(), Duration> {
        let (per_minute, local) = match limit {
            Limit::Lookups => (self.config.rate_limit.lookups_per_minute, &self.lookups),
            Limit::Outcomes => (self.config.rate_limit.outcomes_per_minute, &self.outcomes),
            Limit::Probes => (self.config.relay.probes_per_minute, &self.probes),
            Limit::Registrations => (
                self.config.rate_limit.registrations_per_minute,
                &self.registrations,
            ),
        };
        match self
            .registry
            .take_token(limit, SourceKey::of(ip), per_minute)
            .await
        {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(error = %e, "registry failed; rate limits are this node's own");
                local.check(ip, Instant::now())
            }
        }
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, HashMap<String, WaiterChannel>> {
        match self.waiters.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

fn rate_limited(wait: Duration) -> broker_message::Message {
    broker_message::Message::Refused(Refused {
        reason: RefuseReason::RateLimited as i32,
        retry_after_ms: u32::try_from(wait.as_millis()).unwrap_or(u32::MAX),
    })
}
