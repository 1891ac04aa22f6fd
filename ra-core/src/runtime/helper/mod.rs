//! The helper's async API: [`accept`] connects with an invitation and a
//! password and returns a [`HelperSession`] once the host approved.
//!
//! - `driver`: the task that drives the session, and the video reader;
//! - `resume`: reconnecting to a host that came back with a resume ticket.

mod driver;
mod resume;

use driver::{HelperDriver, SHUTDOWN_WAIT};

pub(crate) use resume::ResumeRoute;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};

use super::code_flow::reach_through_rendezvous;
use super::connection::channel_binding;
use super::controller::HelperController;
use super::error::{AcceptError, SessionError};
use super::event_queue::{EventReceiver, event_queue};
use super::stats::StatsRecorder;
use super::tls::{PinMismatch, SERVER_NAME, client_config};
use super::video_receive::{DECODE_SIGNALS, DecodeThread, ReceivedFrame};
use crate::input::InputEvent;
use crate::invitation::CertFingerprint;
use crate::invitation::{Invitation, SessionId};
use crate::media::{Decoder, DisplayId};
use crate::password::Password;
use crate::session::{
    ControlState, HelperCommand, HelperConfig, HelperConnection, HelperEvent, PointerKind,
};
use crate::stats::SessionStats;

/// How a helper connects.
#[derive(Debug, Clone)]
pub struct AcceptOptions {
    /// The name the host sees in the connection request.
    pub helper_name: String,
    /// How long to try each address of the invitation.
    pub connect_timeout: Duration,
    /// How long to wait for the host user to approve.
    pub approval_timeout: Duration,
    /// The helper's organisation-signed identity and key
    /// ([`crate::identity::HelperCredential`]), shown to the host inside the
    /// authenticated channel; `None`: the host sees the name only.
    pub identity: Option<std::sync::Arc<crate::identity::HelperCredential>>,
    /// How long a dark path to the host is waited for before the session
    /// ends (capped at [`MAX_OUTAGE_GRACE`](crate::session::link::MAX_OUTAGE_GRACE));
    /// the connection's idle timeout is the smaller of both sides' grace
    /// plus 5 s. Default: 30 s.
    pub outage_grace: Duration,
}

impl Default for AcceptOptions {
    fn default() -> Self {
        AcceptOptions {
            helper_name: "ra helper".to_owned(),
            connect_timeout: Duration::from_secs(5),
            approval_timeout: Duration::from_secs(120),
            identity: None,
            outage_grace: crate::session::link::DEFAULT_OUTAGE_GRACE,
        }
    }
}

/// Something that happened in a helper's session.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HelperSessionEvent {
    /// A change of the session (control, pause, chat, end…).
    Session(HelperEvent),
    /// A decoded picture of the host's screen.
    Frame(ReceivedFrame),
}

/// A live session on the helper's side. Its command methods are one-line
/// sends of [`HelperCommand`]s through its [`HelperController`].
///
/// Dropping it (and every controller cloned from it) ends the session.
pub struct HelperSession {
    host_name: String,
    controller: HelperController,
    events: HelperEvents,
    control: watch::Receiver<ControlState>,
}

/// A helper session's events and frames, apart from its controller
/// ([`HelperSession::into_parts`]): session changes first, then frames.
#[derive(Debug)]
pub struct HelperEvents {
    events: EventReceiver<HelperEvent>,
    frames: mpsc::Receiver<ReceivedFrame>,
}

impl HelperEvents {
    /// The next event: session changes first, then frames. `None` after the
    /// session ended and every event was taken.
    pub async fn next(&mut self) -> Option<HelperSessionEvent> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<HelperSessionEvent>> {
        match self.events.poll_recv(cx) {
            Poll::Ready(Some(event)) => {
                return Poll::Ready(Some(HelperSessionEvent::Session(event)));
            }
            // Ended: the frames still queued, then the end.
            Poll::Ready(None) => {
                return self
                    .frames
                    .poll_recv(cx)
                    .map(|f| f.map(HelperSessionEvent::Frame));
            }
            Poll::Pending => {}
        }
        match self.frames.poll_recv(cx) {
            Poll::Ready(Some(frame)) => Poll::Ready(Some(HelperSessionEvent::Frame(frame))),
            _ => Poll::Pending,
        }
    }
}

impl futures_core::Stream for HelperEvents {
    type Item = HelperSessionEvent;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<HelperSessionEvent>> {
        self.poll_event(cx)
    }
}

impl std::fmt::Debug for HelperSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelperSession")
            .field("host_name", &self.host_name)
            .finish_non_exhaustive()
    }
}

/// Connects to the host of `invitation`, authenticates with `password`, and
/// waits until the host approves. The session starts view-only.
///
/// # Errors
/// [`AcceptError::Expired`], [`AcceptError::WrongPassword`],
/// [`AcceptError::Denied`], [`AcceptError::CertificateMismatch`],
/// [`AcceptError::Unreachable`] and the others of [`AcceptError`].
pub async fn accept(
    invitation: &Invitation,
    password: &Password,
    options: AcceptOptions,
    decoder: Box<dyn Decoder>,
) -> Result<HelperSession, AcceptError> {
    if invitation.is_expired(SystemTime::now()) {
        return Err(AcceptError::Expired);
    }
    let (endpoint, connection, client) = connect(invitation, &options).await?;
    let resume_route = ResumeRoute {
        addresses: invitation.addresses.clone(),
        client,
        session_id: invitation.session_id,
        options: options.clone(),
    };
    start_helper(
        endpoint,
        connection,
        invitation.session_id,
        password.as_secret_bytes().to_vec().into(),
        options,
        decoder,
        Some(resume_route),
    )
    .await
}

/// Runs the helper's side of a session on an established connection (from
/// either side of the QUIC handshake): authenticates with `secret`, and waits
/// until the host approves. `endpoint` is waited for when the session ends.
/// With a `resume_route`, a host that offers a resume ticket and comes back
/// from a restart is reconnected to.
pub(crate) async fn start_helper(
    endpoint: quinn::Endpoint,
    connection: quinn::Connection,
    session_id: SessionId,
    secret: zeroize::Zeroizing<Vec<u8>>,
    options: AcceptOptions,
    decoder: Box<dyn Decoder>,
    resume_route: Option<ResumeRoute>,
) -> Result<HelperSession, AcceptError> {
    let binding = channel_binding(&connection, session_id.as_bytes())
        .ok_or_else(|| AcceptError::Protocol("no tls channel binding".into()))?;
    let (send, recv) = connection
        .open_bi()
        .await
        .map_err(|e| AcceptError::ConnectionLost(e.to_string()))?;

    let config = helper_config(session_id, secret, &options, &connection);
    let core = HelperConnection::new(Instant::now(), config, binding, &mut rand_core::OsRng);

    let stats = StatsRecorder::default();
    stats.set_connection(&connection);
    let (controller, requests) = HelperController::channel(stats.clone());
    let (event_tx, event_rx) = event_queue(stats.events_dropped_counter());
    let (frame_tx, frame_rx) = mpsc::channel(2);
    let (signal_tx, signal_rx) = mpsc::channel(DECODE_SIGNALS);
    let (live_tx, live_rx) = oneshot::channel();
    let (live_video_tx, _) = watch::channel(false);
    let decode = DecodeThread::spawn(decoder, frame_tx, signal_tx.clone(), stats.clone())?;
    let (control_tx, control_rx) = watch::channel(ControlState::None);
    let driver = HelperDriver {
        core,
        endpoint,
        connection,
        send,
        input: None,
        events: event_tx,
        live: Some(live_tx),
        control: control_tx,
        live_video: live_video_tx,
        signals: signal_tx,
        stats,
        decode: std::sync::Arc::new(decode),
        resume_route,
        awaiting_resumption: false,
    };
    driver.start_video();
    tokio::spawn(driver.run(recv, requests, signal_rx));
    let host_name = match live_rx.await {
        Ok(Ok(host_name)) => host_name,
        Ok(Err(reason)) => return Err(AcceptError::from_end(reason)),
        Err(_) => {
            return Err(AcceptError::ConnectionLost(
                "the session driver stopped".into(),
            ));
        }
    };
    Ok(HelperSession {
        host_name,
        controller,
        events: HelperEvents {
            events: event_rx,
            frames: frame_rx,
        },
        control: control_rx,
    })
}

/// What the helper's side of a connection is configured with: `secret`
/// (a password's, a code's or a resume ticket's), the options, and the
/// certificate the host presented on `connection`.
pub(super) fn helper_config(
    session_id: SessionId,
    secret: zeroize::Zeroizing<Vec<u8>>,
    options: &AcceptOptions,
    connection: &quinn::Connection,
) -> HelperConfig {
    let mut config = HelperConfig::new(session_id, options.helper_name.clone(), secret);
    config.approval_timeout = options.approval_timeout;
    config.identity = options.identity.clone();
    // The receipt must be signed by the certificate the host presented
    // (the one an invitation pins), when this side dialled the host.
    config.host_fingerprint = connection
        .peer_identity()
        .and_then(|identity| {
            identity
                .downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
                .ok()
        })
        .and_then(|chain| chain.first().map(|cert| CertFingerprint::of_der(cert)));
    config
}

/// Tries the invitation's addresses in order until one completes the TLS
/// handshake with the pinned certificate; also returns the pinned client
/// configuration (for reconnecting).
async fn connect(
    invitation: &Invitation,
    options: &AcceptOptions,
) -> Result<(quinn::Endpoint, quinn::Connection, quinn::ClientConfig), AcceptError> {
    let mismatch = PinMismatch::default();
    let config = client_config(
        invitation.fingerprint,
        mismatch.clone(),
        options.outage_grace,
    )?;
    let direct = connect_directly(invitation, options, &config, &mismatch).await;
    let (Err(AcceptError::Unreachable(direct)), Some(rendezvous)) =
        (&direct, &invitation.rendezvous)
    else {
        return direct.map(|(endpoint, connection)| (endpoint, connection, config));
    };
    // No address answered: find the host through the invitation's broker.
    tracing::info!(broker = %rendezvous.broker, "no direct path: trying the rendezvous");
    match reach_through_rendezvous(rendezvous, config.clone(), options.connect_timeout).await {
        Ok((endpoint, connection)) => Ok((endpoint, connection, config)),
        Err(_) if mismatch.seen() => Err(AcceptError::CertificateMismatch),
        Err(e) => Err(AcceptError::Unreachable(format!(
            "{direct}; through the broker's rendezvous: {e}"
        ))),
    }
}

/// A client endpoint on a fresh port of `address`'s family, dialling with
/// `config` (the invitation's pin).
pub(super) fn client_endpoint(
    address: SocketAddr,
    config: &quinn::ClientConfig,
) -> std::io::Result<quinn::Endpoint> {
    let bind = if address.is_ipv4() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
    } else {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
    };
    let mut endpoint = quinn::Endpoint::client(bind)?;
    endpoint.set_default_client_config(config.clone());
    Ok(endpoint)
}

/// Tries each address of the invitation in turn.
async fn connect_directly(
    invitation: &Invitation,
    options: &AcceptOptions,
    config: &quinn::ClientConfig,
    mismatch: &PinMismatch,
) -> Result<(quinn::Endpoint, quinn::Connection), AcceptError> {
    let mut failures = Vec::new();
    for &address in &invitation.addresses {
        let endpoint = client_endpoint(address, config)?;
        let connecting = match endpoint.connect(address, SERVER_NAME) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{address}: {e}"));
                continue;
            }
        };
        match tokio::time::timeout(options.connect_timeout, connecting).await {
            Ok(Ok(connection)) => return Ok((endpoint, connection)),
            Ok(Err(e)) => failures.push(format!("{address}: {e}")),
            Err(_) => failures.push(format!("{address}: timed out")),
        }
        if mismatch.seen() {
            // Someone answered with the wrong key: never fall back, never retry.
            return Err(AcceptError::CertificateMismatch);
        }
    }
    Err(AcceptError::Unreachable(failures.join("; ")))
}

/// The helper's control state as the session last knew it, readable from
/// any thread ([`HelperSession::control_watch`]).
#[derive(Debug, Clone)]
pub struct ControlWatch(watch::Receiver<ControlState>);

impl ControlWatch {
    /// The current control state.
    pub fn get(&self) -> ControlState {
        *self.0.borrow()
    }
}

impl HelperSession {
    /// The host's name (as it gave it).
    pub fn host_name(&self) -> &str {
        &self.host_name
    }

    /// The next event: session changes first, then frames. `None` after the
    /// session ended and every event was taken.
    pub async fn next_event(&mut self) -> Option<HelperSessionEvent> {
        self.events.next().await
    }

    /// The events as an async stream (see [`HelperSession::next_event`]).
    pub fn events(&mut self) -> impl futures_core::Stream<Item = HelperSessionEvent> + '_ {
        &mut self.events
    }

    /// The controller and the events apart, e.g. to read the events on one
    /// task and send commands from elsewhere. The session ends once the
    /// controller and every clone of it are dropped, whoever holds the events.
    pub fn into_parts(self) -> (HelperController, HelperEvents) {
        (self.controller, self.events)
    }

    /// The current control state.
    pub fn control_state(&self) -> ControlState {
        *self.control.borrow()
    }

    /// Asks the host for control.
    ///
    /// # Errors
    /// [`SessionError::Command`] when paused or already asked; [`SessionError::Closed`].
    pub async fn request_control(&self) -> Result<(), SessionError> {
        self.controller.send(HelperCommand::RequestControl).await
    }

    /// Asks the host for control of only `scopes` (it may grant less).
    ///
    /// # Errors
    /// As [`HelperSession::request_control`], and for no scope at all.
    pub async fn request_control_scopes(
        &self,
        scopes: crate::session::ControlScopes,
    ) -> Result<(), SessionError> {
        self.controller
            .send(HelperCommand::RequestControlScopes(scopes))
            .await
    }

    /// Gives control back to the host.
    ///
    /// # Errors
    /// [`SessionError::Command`] without a grant.
    pub async fn release_control(&self) -> Result<(), SessionError> {
        self.controller.send(HelperCommand::ReleaseControl).await
    }

    /// Sends input events, in order, to be injected on the host.
    ///
    /// # Errors
    /// [`SessionError::Command`] with [`CommandError::NotControlling`] without a grant.
    pub async fn send_input(&self, events: Vec<InputEvent>) -> Result<(), SessionError> {
        self.controller.send(HelperCommand::SendInput(events)).await
    }

    /// Sends a chat message.
    ///
    /// # Errors
    /// [`SessionError::Command`] for empty or too long text.
    pub async fn chat(&self, text: impl Into<String>) -> Result<(), SessionError> {
        self.controller.send(HelperCommand::Chat(text.into())).await
    }

    /// Shows a pointer mark on the host's screen (needs no control).
    ///
    /// # Errors
    /// [`SessionError::Command`] unless live.
    pub async fn pointer(&self, x: i32, y: i32, kind: PointerKind) -> Result<(), SessionError> {
        self.controller
            .send(HelperCommand::Pointer { x, y, kind })
            .await
    }

    /// Asks the host to capture another display.
    ///
    /// # Errors
    /// [`SessionError::Command`] unless live.
    pub async fn select_display(&self, display: DisplayId) -> Result<(), SessionError> {
        self.controller
            .send(HelperCommand::SelectDisplay(display))
            .await
    }

    /// Sends the helper's clipboard text to the host (the host must share the clipboard).
    ///
    /// # Errors
    /// [`SessionError::Command`] when sharing is off or the text too long.
    pub async fn send_clipboard(&self, text: impl Into<String>) -> Result<(), SessionError> {
        self.controller
            .send(HelperCommand::SendClipboard(text.into()))
            .await
    }

    /// Asks the host for a full keyframe.
    ///
    /// # Errors
    /// [`SessionError::Command`] unless live.
    pub async fn request_keyframe(&self) -> Result<(), SessionError> {
        self.controller.send(HelperCommand::RequestKeyframe).await
    }

    /// Ends the session and waits (briefly) until the host was told, so the
    /// program may exit right after.
    ///
    /// # Errors
    /// [`SessionError::Closed`] if it ended already.
    pub async fn end(&self) -> Result<(), SessionError> {
        match tokio::time::timeout(2 * SHUTDOWN_WAIT, self.controller.shutdown()).await {
            Ok(result) => result,
            Err(_) => Ok(()),
        }
    }

    /// A controller of this session: cheap to clone, for other tasks and
    /// threads (its blocking methods serve threads outside the runtime).
    pub fn controller(&self) -> &HelperController {
        &self.controller
    }

    /// Follows the control state from another task or thread.
    pub fn control_watch(&self) -> ControlWatch {
        ControlWatch(self.control.clone())
    }

    /// The session's statistics now (see [`Controller::stats`](super::Controller::stats):
    /// cheap enough for every frame).
    pub fn stats(&self) -> SessionStats {
        self.controller.stats()
    }
}
