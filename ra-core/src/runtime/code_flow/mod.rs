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

mod claim;
mod helper;
mod host;
mod invitation;
mod wait;

pub(crate) use invitation::{open_rendezvous, reach_through_rendezvous};

pub use helper::{assist, easy_connect_helper};
pub use host::{easy_connect_host, join};

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use tokio::sync::oneshot;

use super::error::{AcceptError, InviteError};
use super::helper::HelperSession;
use super::host::{HostHandle, InviteOptions};
use super::path_socket::{RawSender, bind_endpoint};
use super::peer_path::{PathKind, RawEvents, local_addresses};
use super::peer_tls::BrokerTrust;
use super::tls::TlsSetupError;
use crate::code::Code;
use crate::media::{CodecError, Decoder};
use crate::rendezvous::{ClaimFailure, WaitEnd};

pub use crate::rendezvous::MAX_CODE_FAILURES;

/// The default lifetime of a code (the broker and the host policy may shorten it).
pub const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(600);

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
    #[error("cannot make a video decoder: {0}")]
    Decoder(#[source] CodecError),
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

impl From<WaitEnd> for WaitError {
    fn from(end: WaitEnd) -> Self {
        match end {
            WaitEnd::TooManyFailures => WaitError::TooManyFailures,
            WaitEnd::Refused(why) => WaitError::Refused(why),
            WaitEnd::Broker(why) => WaitError::Broker(why),
            // A used code is the session's business; expired and anything
            // else mean nobody came.
            _ => WaitError::Expired,
        }
    }
}

impl From<ClaimFailure> for ClaimError {
    fn from(failure: ClaimFailure) -> Self {
        match failure {
            ClaimFailure::Unavailable => ClaimError::Unavailable,
            ClaimFailure::RateLimited { retry_after } => ClaimError::RateLimited { retry_after },
            ClaimFailure::Broker(why) => ClaimError::Broker(why),
        }
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
pub type DecoderFactory = Box<dyn FnMut() -> Result<Box<dyn Decoder>, CodecError> + Send>;

/// The socket, the broker connection and the raw datagram events of one peer.
pub(super) struct PeerSocket {
    pub(super) endpoint: quinn::Endpoint,
    pub(super) raw: RawSender,
    pub(super) events: RawEvents,
    pub(super) local_addrs: Vec<String>,
}

impl PeerSocket {
    pub(super) fn bind(
        bind: SocketAddr,
        server: Option<quinn::ServerConfig>,
    ) -> std::io::Result<Self> {
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

impl PeerSocket {
    /// After a match as the waiting peer: punches toward the claimant and
    /// binds the relay, for the match window.
    pub(super) fn open_paths_for(&self, matched: &crate::proto::broker::Matched, try_direct: bool) {
        super::peer_path::prepare_waiter_paths(
            &self.raw,
            &self.events,
            matched,
            try_direct,
            crate::rendezvous::MATCH_WINDOW,
        );
    }
}

pub(super) fn host_lifetime(options: &InviteOptions, broker: &BrokerOptions) -> Duration {
    options
        .policy
        .cap_lifetime(options.lifetime.min(broker.code_lifetime))
}
