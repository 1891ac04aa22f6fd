//! The short-code flows through a broker.
//!
//! - **Easy Connect**: the host gets a code ([`easy_connect_host`]) and reads
//!   it to the helper, who types it ([`easy_connect_helper`]).
//! - **Quick Assist**: the helper gets a code ([`assist`]) and reads it to the
//!   host, who types it ([`join`]).
//!
//! The peer that gets the code **registers** its lookup part with the broker
//! and waits; it is the QUIC server. The peer that types the code **claims** it
//! and is the QUIC client. Session roles do not depend on that: a host may be
//! a QUIC client and a helper a QUIC server. Either way the host approves the
//! connection and, separately, control.
//!
//! The broker pairs the peers, tells each the other's addresses, and relays
//! packets when no direct path works; it never sees the code's secret part.
//! The session authenticates exactly as the invitation flow does: SPAKE2 over
//! the secret part, bound to the TLS exporter and a session id derived from
//! the lookup part, then key confirmation both ways.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand_core::{OsRng, RngCore};
use tokio::sync::{mpsc, oneshot};

use super::error::{AcceptError, InviteError};
use super::helper::{AcceptOptions, HelperSession, start_helper};
use super::host::{HostBackends, HostHandle, HostStart, InviteOptions, prepare_host, spawn_host};
use super::path_socket::{RawSender, bind_endpoint};
use super::peer_tls::{BrokerTrust, SessionRole, peer_server_config, unverified_client_config};
use super::rendezvous::{
    BrokerLinkError, BrokerStream, PathKind, PathPlan, RawEvents, connect_broker,
    connect_to_waiter, local_addresses, prepare_waiter_paths,
};
use super::tls::{HostIdentity, TlsSetupError};
use crate::code::{Code, Lookup};
use crate::media::Decoder;
use crate::proto::broker::{
    self, Attach, Claim, CloseReason, Matched, Outcome, RefuseReason, Register, Role,
    broker_message, peer_message,
};
use crate::session::{HostEvent, InvitationCloseReason, OfferRecord};

/// The default lifetime of a code (the broker and the host policy may shorten it).
pub const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(600);

/// Failed PAKE attempts after which a code is dead.
pub const MAX_CODE_FAILURES: u32 = 5;

/// Lookup collisions retried before giving up.
const MAX_COLLISIONS: u32 = 8;

/// Redirects to other broker nodes followed before giving up.
const MAX_REDIRECTS: u32 = 2;

/// How long the waiting peer gives a matched claimant to complete the PAKE.
const MATCH_WINDOW: Duration = Duration::from_secs(20);

/// How to reach the broker, and how to connect to the other peer.
#[derive(Debug, Clone)]
pub struct BrokerOptions {
    /// The broker's address.
    pub broker: SocketAddr,
    /// How the broker's certificate is recognised.
    pub trust: BrokerTrust,
    /// The local UDP address for the broker and the peer (port 0: any).
    pub bind: SocketAddr,
    /// Whether to try a direct path before the relay.
    pub try_direct: bool,
    /// How long the direct path may take before the relay is used.
    pub direct_timeout: Duration,
    /// How long reaching the broker, and the relay path, may take.
    pub connect_timeout: Duration,
    /// How long a code stays valid (capped by the broker and the host policy).
    pub code_lifetime: Duration,
}

impl BrokerOptions {
    /// Defaults for a broker at `broker`: any local port, direct path first
    /// for up to 2 s, 10-minute codes.
    pub fn new(broker: SocketAddr, trust: BrokerTrust) -> Self {
        BrokerOptions {
            broker,
            trust,
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            try_direct: true,
            direct_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
            code_lifetime: DEFAULT_CODE_LIFETIME,
        }
    }
}

/// Why registering a code, or waiting on it, failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The broker cannot be reached or stopped answering.
    #[error("{0}")]
    Broker(String),
    /// The broker refused the registration.
    #[error("the broker refused the code: {0}")]
    Refused(String),
    /// Nobody used the code before it expired.
    #[error("the code expired")]
    Expired,
    /// Too many wrong attempts: the code is dead.
    #[error("too many wrong attempts: the code is closed")]
    TooManyFailures,
    /// The host refused the session (as the waiting helper sees it).
    #[error(transparent)]
    Session(AcceptError),
    /// The host session could not start.
    #[error(transparent)]
    Host(#[from] InviteError),
    /// The local socket could not be opened.
    #[error("cannot open a socket: {0}")]
    Io(#[from] std::io::Error),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// A decoder could not be made.
    #[error("backend failed: {0}")]
    Backend(String),
}

/// Why claiming a code failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// The broker cannot be reached or stopped answering.
    #[error("{0}")]
    Broker(String),
    /// Unknown, expired, used or closed code: the broker gives one answer for all.
    #[error("this code is not valid (unknown, expired or already used)")]
    Unavailable,
    /// Too many attempts from here: wait and try again.
    #[error("too many attempts: try again in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The other peer could not be reached, directly or through the relay.
    #[error("the other side is unreachable: {0}")]
    Unreachable(String),
    /// The secret part of the code is wrong (the PAKE failed).
    #[error("wrong code")]
    WrongCode,
    /// The session failed (denied, lost, …).
    #[error(transparent)]
    Session(AcceptError),
    /// The host session could not start.
    #[error(transparent)]
    Host(#[from] InviteError),
    /// The local socket could not be opened.
    #[error("cannot open a socket: {0}")]
    Io(#[from] std::io::Error),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
}

impl From<BrokerLinkError> for WaitError {
    fn from(e: BrokerLinkError) -> Self {
        WaitError::Broker(e.to_string())
    }
}

impl From<BrokerLinkError> for ClaimError {
    fn from(e: BrokerLinkError) -> Self {
        ClaimError::Broker(e.to_string())
    }
}

impl From<AcceptError> for ClaimError {
    fn from(e: AcceptError) -> Self {
        match e {
            AcceptError::WrongPassword => ClaimError::WrongCode,
            other => ClaimError::Session(other),
        }
    }
}

/// A host session started from a code (Easy Connect or Quick Assist).
///
/// Its commands and events are those of its [`HostHandle`] (through `Deref`).
pub struct CodeHostSession {
    code: Code,
    expires_at: SystemTime,
    path: Option<PathKind>,
    handle: HostHandle,
}

impl std::fmt::Debug for CodeHostSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeHostSession")
            .field("code", &self.code)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl CodeHostSession {
    /// The code (to read to the helper in Easy Connect).
    pub fn code(&self) -> &Code {
        &self.code
    }

    /// When the code expires.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// Whether the session runs through the broker's relay (`None` while the
    /// host still waits for the helper in Easy Connect).
    pub fn relayed(&self) -> Option<bool> {
        self.path.map(|p| p == PathKind::Relayed)
    }

    /// Ends any session, closes the code, and waits (briefly) until the helper was told.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }

    /// The session's commands and events, without the code.
    pub fn into_handle(self) -> HostHandle {
        self.handle
    }
}

impl std::ops::Deref for CodeHostSession {
    type Target = HostHandle;
    fn deref(&self) -> &HostHandle {
        &self.handle
    }
}

impl std::ops::DerefMut for CodeHostSession {
    fn deref_mut(&mut self) -> &mut HostHandle {
        &mut self.handle
    }
}

/// A code registered by a helper (Quick Assist), waiting for the host to type it.
pub struct AssistOffer {
    code: Code,
    expires_at: SystemTime,
    result: oneshot::Receiver<Result<(HelperSession, bool), WaitError>>,
}

impl std::fmt::Debug for AssistOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssistOffer")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

impl AssistOffer {
    /// The code to read to the host.
    pub fn code(&self) -> &Code {
        &self.code
    }

    /// When the code expires.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// Waits until a host typed the code, authenticated and approved; the
    /// session (view only), and whether it runs through the relay.
    ///
    /// # Errors
    /// [`WaitError::Expired`], [`WaitError::TooManyFailures`],
    /// [`WaitError::Session`] (e.g. the host denied), [`WaitError::Broker`].
    pub async fn connected(self) -> Result<(HelperSession, bool), WaitError> {
        self.result
            .await
            .unwrap_or_else(|_| Err(WaitError::Broker("the rendezvous task stopped".into())))
    }
}

/// Makes a decoder for each attempt of a waiting helper (a failed attempt
/// consumes one).
pub type DecoderFactory = Box<dyn FnMut() -> Result<Box<dyn Decoder>, String> + Send>;

/// The socket, the broker connection and the raw datagram events of one peer.
struct PeerSocket {
    endpoint: quinn::Endpoint,
    raw: RawSender,
    events: RawEvents,
    local_addrs: Vec<String>,
}

impl PeerSocket {
    fn bind(bind: SocketAddr, server: Option<quinn::ServerConfig>) -> std::io::Result<Self> {
        let (endpoint, raw, raw_rx) = bind_endpoint(bind, server)?;
        let local = raw.local_addr()?;
        Ok(PeerSocket {
            endpoint,
            raw,
            events: RawEvents::spawn(raw_rx),
            local_addrs: local_addresses(local),
        })
    }
}

/// A registration held on the broker, and what is needed to re-attach it.
struct Registration {
    lookup: Lookup,
    attach_key: Vec<u8>,
    connection: quinn::Connection,
    stream: BrokerStream,
    expires_at: SystemTime,
}

fn unix_ms_to_time(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

fn refused_text(refused: &broker::Refused) -> String {
    match RefuseReason::try_from(refused.reason) {
        Ok(RefuseReason::RateLimited) => {
            format!("rate limited, retry in {} ms", refused.retry_after_ms)
        }
        Ok(reason) => reason.as_str_name().to_lowercase(),
        Err(_) => "refused".to_owned(),
    }
}

/// Registers a fresh code (new lookups on collision); returns the code and
/// the registration.
async fn register(
    socket: &PeerSocket,
    options: &BrokerOptions,
    role: Role,
    lifetime: Duration,
) -> Result<(Code, Registration), WaitError> {
    let connection = connect_broker(
        &socket.endpoint,
        options.broker,
        &options.trust,
        options.connect_timeout,
    )
    .await?;
    let mut code = Code::generate_random();
    let mut attach_key = vec![0u8; 16];
    OsRng.fill_bytes(&mut attach_key);
    for _ in 0..MAX_COLLISIONS {
        let mut stream = BrokerStream::open(
            &connection,
            peer_message::Message::Register(Register {
                lookup: code.lookup().to_string(),
                role: role as i32,
                lifetime_secs: u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX).max(1),
                local_addrs: socket.local_addrs.clone(),
                attach_key: attach_key.clone(),
            }),
        )
        .await?;
        match stream.recv().await? {
            broker_message::Message::Registered(registered) => {
                let registration = Registration {
                    lookup: code.lookup(),
                    attach_key,
                    connection,
                    stream,
                    expires_at: unix_ms_to_time(registered.expires_at_unix_ms),
                };
                return Ok((code, registration));
            }
            broker_message::Message::Refused(refused)
                if refused.reason == RefuseReason::Collision as i32 =>
            {
                code = code.with_new_lookup(&mut OsRng);
            }
            broker_message::Message::Refused(refused) => {
                return Err(WaitError::Refused(refused_text(&refused)));
            }
            _ => {
                return Err(WaitError::Broker(
                    "unexpected answer from the broker".into(),
                ));
            }
        }
    }
    Err(WaitError::Refused("no free lookup part".into()))
}

/// What the registration stream said.
enum WaitNews {
    Matched(Matched),
    Closed(WaitError),
}

impl Registration {
    /// The next match or the end of the registration; re-attaches (to the
    /// same broker address) when the broker connection breaks.
    async fn next(&mut self, socket: &PeerSocket, options: &BrokerOptions) -> WaitNews {
        // Bounded by the registration's expiry: each failed round waits.
        loop {
            match self.stream.recv().await {
                Ok(broker_message::Message::Matched(matched)) => return WaitNews::Matched(matched),
                Ok(broker_message::Message::Closed(closed)) => {
                    return WaitNews::Closed(match CloseReason::try_from(closed.reason) {
                        Ok(CloseReason::TooManyFailures) => WaitError::TooManyFailures,
                        _ => WaitError::Expired,
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "broker link lost; re-attaching");
                    if let Err(e) = self.reattach(socket, options).await {
                        return WaitNews::Closed(e);
                    }
                }
            }
        }
    }

    /// Reconnects and re-attaches the registration until it expires.
    async fn reattach(
        &mut self,
        socket: &PeerSocket,
        options: &BrokerOptions,
    ) -> Result<(), WaitError> {
        let mut backoff = Duration::from_millis(100);
        while SystemTime::now() < self.expires_at {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
            let Ok(connection) = connect_broker(
                &socket.endpoint,
                options.broker,
                &options.trust,
                options.connect_timeout,
            )
            .await
            else {
                continue;
            };
            let Ok(mut stream) = BrokerStream::open(
                &connection,
                peer_message::Message::Attach(Attach {
                    lookup: self.lookup.to_string(),
                    attach_key: self.attach_key.clone(),
                    local_addrs: socket.local_addrs.clone(),
                }),
            )
            .await
            else {
                continue;
            };
            match stream.recv().await {
                Ok(broker_message::Message::Registered(_)) => {
                    self.connection.close(0u8.into(), b"re-attached");
                    self.connection = connection;
                    self.stream = stream;
                    return Ok(());
                }
                Ok(broker_message::Message::Refused(_)) => return Err(WaitError::Expired),
                _ => continue,
            }
        }
        Err(WaitError::Expired)
    }

    async fn report(&mut self, match_id: u64, success: bool) {
        let outcome = peer_message::Message::Outcome(Outcome { match_id, success });
        if let Err(e) = self.stream.send(outcome).await {
            tracing::debug!(error = %e, "outcome not reported");
        }
    }
}

fn host_lifetime(options: &InviteOptions, broker: &BrokerOptions) -> Duration {
    options
        .policy
        .cap_lifetime(options.lifetime.min(broker.code_lifetime))
}

/// **Easy Connect, host side**: registers a fresh code with the broker and
/// waits for the helper who types it. Read [`CodeHostSession::code`] to the
/// helper; approve its [`HostEvent::ConnectionRequest`] as in the invitation
/// flow. `options.listen` and `options.advertise` are not used (see
/// [`BrokerOptions::bind`]).
///
/// # Errors
/// [`WaitError::Host`] (e.g. the policy forbids assistance),
/// [`WaitError::Broker`], [`WaitError::Refused`], and others.
pub async fn easy_connect_host(
    broker: BrokerOptions,
    options: InviteOptions,
    backends: HostBackends,
) -> Result<CodeHostSession, WaitError> {
    if !options.policy.allow_assistance {
        return Err(InviteError::Policy.into());
    }
    let prepared = prepare_host(backends, options.display)?;
    let identity = HostIdentity::generate()?;
    let socket = PeerSocket::bind(
        broker.bind,
        Some(peer_server_config(&identity, SessionRole::Host)?),
    )?;
    let lifetime = host_lifetime(&options, &broker);
    let (code, registration) = register(&socket, &broker, Role::Host, lifetime).await?;
    let (observer_tx, observer_rx) = mpsc::unbounded_channel();
    let (handle, feed) = spawn_host(
        HostStart {
            session_id: code.session_id(),
            host_name: options.host_name,
            secret: code.pake_secret(),
            lifetime,
            policy: options.policy,
            max_failed_attempts: Some(MAX_CODE_FAILURES),
            audit_log: options.audit_log,
            endpoints: vec![socket.endpoint.clone()],
            observer: Some(observer_tx),
            offer: Some(OfferRecord {
                expires_at: registration.expires_at,
                addresses: vec![broker.broker],
            }),
        },
        prepared,
    );
    let expires_at = registration.expires_at;
    tokio::spawn(host_waits(socket, broker, registration, feed, observer_rx));
    Ok(CodeHostSession {
        code,
        expires_at,
        path: None,
        handle,
    })
}

/// The Easy Connect host's rendezvous task: accepts connections into the
/// session and reports each PAKE outcome to the broker, until the code is
/// used, dead or expired.
async fn host_waits(
    socket: PeerSocket,
    options: BrokerOptions,
    mut registration: Registration,
    feed: super::host::ConnectionFeed,
    mut observer: mpsc::UnboundedReceiver<HostEvent>,
) {
    let accept_endpoint = socket.endpoint.clone();
    let accept_feed = feed.clone();
    let acceptor = tokio::spawn(async move {
        while let Some(incoming) = accept_endpoint.accept().await {
            let feed = accept_feed.clone();
            tokio::spawn(async move {
                match incoming.await {
                    Ok(connection) => feed.add(connection),
                    Err(e) => tracing::debug!(error = %e, "handshake failed"),
                }
            });
        }
    });
    let mut pending: Option<(u64, tokio::time::Instant)> = None;
    let end = loop {
        let deadline = pending.map(|(_, at)| at);
        tokio::select! {
            news = registration.next(&socket, &options) => match news {
                WaitNews::Matched(matched) => {
                    prepare_waiter_paths(&socket.raw, &socket.events, &matched, options.try_direct, MATCH_WINDOW);
                    if let Some((id, _)) = pending.take() {
                        registration.report(id, false).await;
                    }
                    pending = Some((matched.match_id, tokio::time::Instant::now() + MATCH_WINDOW));
                }
                WaitNews::Closed(e) => break Some(e),
            },
            event = observer.recv() => match event {
                Some(HostEvent::AuthFailed { .. }) => {
                    if let Some((id, _)) = pending.take() {
                        registration.report(id, false).await;
                    }
                }
                Some(HostEvent::ConnectionRequest { .. }) => {
                    if let Some((id, _)) = pending.take() {
                        registration.report(id, true).await;
                    }
                    break None;
                }
                Some(HostEvent::InvitationClosed { .. }) | None => break None,
                Some(_) => {}
            },
            () = sleep_until(deadline) => {
                if let Some((id, _)) = pending.take() {
                    registration.report(id, false).await;
                }
            }
        }
    };
    if let Some(e) = end {
        tracing::debug!(error = %e, "code closed");
        let reason = match e {
            WaitError::TooManyFailures => Some(InvitationCloseReason::TooManyFailures),
            WaitError::Expired => Some(InvitationCloseReason::Expired),
            _ => None,
        };
        if let Some(reason) = reason {
            feed.close(reason);
        }
    }
    // The code is used, dead or expired: no more connections.
    acceptor.abort();
    registration.stream.finish();
    registration.connection.close(0u8.into(), b"done");
    drop(feed);
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Claims `code` on the broker (following redirects): the match.
async fn claim(
    socket: &PeerSocket,
    options: &BrokerOptions,
    code: &Code,
    role: Role,
) -> Result<(quinn::Connection, Matched), ClaimError> {
    let mut broker = options.broker;
    for _ in 0..=MAX_REDIRECTS {
        let connection = connect_broker(
            &socket.endpoint,
            broker,
            &options.trust,
            options.connect_timeout,
        )
        .await?;
        let mut stream = BrokerStream::open(
            &connection,
            peer_message::Message::Claim(Claim {
                lookup: code.lookup().to_string(),
                role: role as i32,
                local_addrs: socket.local_addrs.clone(),
            }),
        )
        .await?;
        match stream.recv().await? {
            broker_message::Message::Matched(matched) => return Ok((connection, matched)),
            broker_message::Message::Redirect(redirect) => {
                broker = redirect.node_addr.parse().map_err(|_| {
                    ClaimError::Broker(format!("invalid redirect {:?}", redirect.node_addr))
                })?;
                connection.close(0u8.into(), b"redirected");
            }
            broker_message::Message::Refused(refused) => {
                return Err(match RefuseReason::try_from(refused.reason) {
                    Ok(RefuseReason::RateLimited) => ClaimError::RateLimited {
                        retry_after: Duration::from_millis(u64::from(refused.retry_after_ms)),
                    },
                    Ok(RefuseReason::Unavailable) => ClaimError::Unavailable,
                    _ => ClaimError::Broker(refused_text(&refused)),
                });
            }
            _ => {
                return Err(ClaimError::Broker(
                    "unexpected answer from the broker".into(),
                ));
            }
        }
    }
    Err(ClaimError::Broker("too many redirects".into()))
}

/// Claims the code and connects to the waiting peer as the QUIC client.
async fn claim_and_connect(
    options: &BrokerOptions,
    code: &Code,
    role: Role,
    local_role: SessionRole,
) -> Result<(PeerSocket, quinn::Connection, PathKind), ClaimError> {
    let socket = PeerSocket::bind(options.bind, None)?;
    let (broker_connection, matched) = claim(&socket, options, code, role).await?;
    let client = unverified_client_config(local_role)?;
    let result = connect_to_waiter(
        &socket.endpoint,
        &socket.raw,
        &socket.events,
        &matched,
        client,
        PathPlan {
            try_direct: options.try_direct,
            direct_timeout: options.direct_timeout,
            connect_timeout: options.connect_timeout,
        },
    )
    .await;
    broker_connection.close(0u8.into(), b"matched");
    let (connection, path) = result.map_err(ClaimError::Unreachable)?;
    Ok((socket, connection, path))
}

/// **Easy Connect, helper side**: claims the code the host read out, connects
/// (directly or through the relay), authenticates with the code's secret, and
/// waits until the host approves. The session starts view-only.
///
/// # Errors
/// [`ClaimError::Unavailable`], [`ClaimError::RateLimited`],
/// [`ClaimError::WrongCode`], [`ClaimError::Session`] (e.g. denied), and others.
pub async fn easy_connect_helper(
    broker: BrokerOptions,
    code: &Code,
    options: AcceptOptions,
    decoder: Box<dyn Decoder>,
) -> Result<(HelperSession, bool), ClaimError> {
    let (socket, connection, path) =
        claim_and_connect(&broker, code, Role::Helper, SessionRole::Helper).await?;
    let session = start_helper(
        socket.endpoint,
        connection,
        code.session_id(),
        code.pake_secret(),
        options,
        decoder,
    )
    .await?;
    Ok((session, path == PathKind::Relayed))
}

/// **Quick Assist, host side**: claims the code the helper read out and runs
/// the host's session over the connection (the host is the QUIC client). The
/// helper's [`HostEvent::ConnectionRequest`] (with its name) still needs the
/// host's approval, and control a separate one.
///
/// # Errors
/// [`ClaimError::Unavailable`], [`ClaimError::RateLimited`],
/// [`ClaimError::Unreachable`], [`ClaimError::Host`], and others. A wrong
/// secret shows as [`HostEvent::AuthFailed`] then [`HostEvent::InvitationClosed`].
pub async fn join(
    broker: BrokerOptions,
    code: &Code,
    options: InviteOptions,
    backends: HostBackends,
) -> Result<CodeHostSession, ClaimError> {
    if !options.policy.allow_assistance {
        return Err(InviteError::Policy.into());
    }
    let lifetime = host_lifetime(&options, &broker);
    let prepared = prepare_host(backends, options.display)?;
    let (socket, connection, path) =
        claim_and_connect(&broker, code, Role::Host, SessionRole::Host).await?;
    let (handle, feed) = spawn_host(
        HostStart {
            session_id: code.session_id(),
            host_name: options.host_name,
            secret: code.pake_secret(),
            lifetime,
            policy: options.policy,
            max_failed_attempts: Some(1),
            audit_log: options.audit_log,
            endpoints: vec![socket.endpoint.clone()],
            observer: None,
            offer: None,
        },
        prepared,
    );
    feed.add(connection);
    Ok(CodeHostSession {
        code: code.clone(),
        expires_at: SystemTime::now() + lifetime,
        path: Some(path),
        handle,
    })
}

/// **Quick Assist, helper side**: registers a fresh code with the broker.
/// Read [`AssistOffer::code`] to the host, then wait with
/// [`AssistOffer::connected`]. Each wrong attempt by a host is reported to the
/// broker, which closes the code after five.
///
/// # Errors
/// [`WaitError::Broker`], [`WaitError::Refused`], and others.
pub async fn assist(
    broker: BrokerOptions,
    options: AcceptOptions,
    decoders: DecoderFactory,
) -> Result<AssistOffer, WaitError> {
    let identity = HostIdentity::generate()?;
    let socket = PeerSocket::bind(
        broker.bind,
        Some(peer_server_config(&identity, SessionRole::Helper)?),
    )?;
    let (code, registration) =
        register(&socket, &broker, Role::Helper, broker.code_lifetime).await?;
    let (result_tx, result) = oneshot::channel();
    let expires_at = registration.expires_at;
    let session_code = code.clone();
    tokio::spawn(async move {
        let outcome = helper_waits(
            socket,
            broker,
            registration,
            &session_code,
            options,
            decoders,
        )
        .await;
        let _ = result_tx.send(outcome);
    });
    Ok(AssistOffer {
        code,
        expires_at,
        result,
    })
}

/// The Quick Assist helper's rendezvous task: each match, accept the host's
/// connection and authenticate; report each outcome.
async fn helper_waits(
    socket: PeerSocket,
    options: BrokerOptions,
    mut registration: Registration,
    code: &Code,
    accept: AcceptOptions,
    mut decoders: DecoderFactory,
) -> Result<(HelperSession, bool), WaitError> {
    let mut failures = 0;
    // Bounded: each round is a match, and the broker closes the code after
    // MAX_CODE_FAILURES failed ones (so do we).
    let result = loop {
        let matched = match registration.next(&socket, &options).await {
            WaitNews::Matched(matched) => matched,
            WaitNews::Closed(e) => break Err(e),
        };
        prepare_waiter_paths(
            &socket.raw,
            &socket.events,
            &matched,
            options.try_direct,
            MATCH_WINDOW,
        );
        let relay = super::rendezvous::relay_of(&matched).map(|(addr, _)| addr);
        let incoming = tokio::time::timeout(MATCH_WINDOW, socket.endpoint.accept()).await;
        let connection = match incoming {
            Ok(Some(incoming)) => match incoming.await {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(error = %e, "handshake failed");
                    registration.report(matched.match_id, false).await;
                    failures += 1;
                    continue;
                }
            },
            Ok(None) => break Err(WaitError::Broker("the socket closed".into())),
            Err(_) => {
                registration.report(matched.match_id, false).await;
                failures += 1;
                if failures >= MAX_CODE_FAILURES {
                    break Err(WaitError::TooManyFailures);
                }
                continue;
            }
        };
        let relayed = Some(connection.remote_address()) == relay;
        let decoder = match decoders() {
            Ok(d) => d,
            Err(e) => break Err(WaitError::Backend(e)),
        };
        match start_helper(
            socket.endpoint.clone(),
            connection,
            code.session_id(),
            code.pake_secret(),
            accept.clone(),
            decoder,
        )
        .await
        {
            Ok(session) => {
                registration.report(matched.match_id, true).await;
                break Ok((session, relayed));
            }
            Err(AcceptError::WrongPassword) => {
                registration.report(matched.match_id, false).await;
                failures += 1;
                if failures >= MAX_CODE_FAILURES {
                    break Err(WaitError::TooManyFailures);
                }
            }
            Err(other @ (AcceptError::Denied(_) | AcceptError::Policy)) => {
                // Authenticated, then turned away: the code is used.
                registration.report(matched.match_id, true).await;
                break Err(WaitError::Session(other));
            }
            Err(other) => {
                tracing::debug!(error = %other, "attempt failed");
                registration.report(matched.match_id, false).await;
                failures += 1;
                if failures >= MAX_CODE_FAILURES {
                    break Err(WaitError::TooManyFailures);
                }
            }
        }
    };
    registration.stream.finish();
    registration.connection.close(0u8.into(), b"done");
    result
}
