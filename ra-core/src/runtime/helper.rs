//! The helper's async API: [`accept`] connects with an invitation and a
//! password and returns a [`HelperSession`] once the host approved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};

use super::code_flow::reach_through_rendezvous;
use super::connection::channel_binding;
use super::controller::{HelperController, Reply, Request, Requests};
use super::error::{AcceptError, SessionError};
use super::event_queue::{EventReceiver, EventSender, event_queue};
use super::sleep_until;
use super::stats::StatsRecorder;
use super::tls::{PinMismatch, SERVER_NAME, client_config};
use super::video_receive::{
    DECODE_SIGNALS, DecodeBusy, DecodeSignal, DecodeThread, ReceivedFrame, read_video_stream,
};
use crate::input::InputEvent;
use crate::invitation::CertFingerprint;
use crate::invitation::{Invitation, SessionId};
use crate::media::{Decoder, DisplayId};
use crate::password::Password;
use crate::session::{
    ControlState, EndReason, HelperCommand, HelperConfig, HelperConnection, HelperEvent,
    HelperTransmit, PointerKind, end_reason_code, end_reason_from_code,
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
    let (endpoint, connection) = connect(invitation, &options).await?;
    start_helper(
        endpoint,
        connection,
        invitation.session_id,
        password.as_secret_bytes().to_vec().into(),
        options,
        decoder,
    )
    .await
}

/// Runs the helper's side of a session on an established connection (from
/// either side of the QUIC handshake): authenticates with `secret`, and waits
/// until the host approves. `endpoint` is waited for when the session ends.
pub(crate) async fn start_helper(
    endpoint: quinn::Endpoint,
    connection: quinn::Connection,
    session_id: SessionId,
    secret: zeroize::Zeroizing<Vec<u8>>,
    options: AcceptOptions,
    decoder: Box<dyn Decoder>,
) -> Result<HelperSession, AcceptError> {
    let binding = channel_binding(&connection, session_id.as_bytes())
        .ok_or_else(|| AcceptError::Protocol("no tls channel binding".into()))?;
    let (send, recv) = connection
        .open_bi()
        .await
        .map_err(|e| AcceptError::ConnectionLost(e.to_string()))?;

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
    let core = HelperConnection::new(Instant::now(), config, binding, &mut rand_core::OsRng);

    let stats = StatsRecorder::default();
    stats.set_connection(&connection);
    let (controller, requests) = HelperController::channel(stats.clone());
    let (event_tx, event_rx) = event_queue(stats.events_dropped_counter());
    let (frame_tx, frame_rx) = mpsc::channel(2);
    let (signal_tx, signal_rx) = mpsc::channel(DECODE_SIGNALS);
    let (live_tx, live_rx) = oneshot::channel();
    let (control_tx, control_rx) = watch::channel(ControlState::None);
    let (live_video_tx, live_video_rx) = watch::channel(false);
    let decode = DecodeThread::spawn(decoder, frame_tx, signal_tx.clone(), stats.clone())?;
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
        stats: stats.clone(),
    };
    tokio::spawn(receive_video(
        driver.connection.clone(),
        live_video_rx,
        decode,
        driver.signals.clone(),
        stats,
    ));
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

/// Tries the invitation's addresses in order until one completes the TLS
/// handshake with the pinned certificate.
async fn connect(
    invitation: &Invitation,
    options: &AcceptOptions,
) -> Result<(quinn::Endpoint, quinn::Connection), AcceptError> {
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
        return direct;
    };
    // No address answered: find the host through the invitation's broker.
    tracing::info!(broker = %rendezvous.broker, "no direct path: trying the rendezvous");
    match reach_through_rendezvous(rendezvous, config, options.connect_timeout).await {
        Ok(reached) => Ok(reached),
        Err(_) if mismatch.seen() => Err(AcceptError::CertificateMismatch),
        Err(e) => Err(AcceptError::Unreachable(format!(
            "{direct}; through the broker's rendezvous: {e}"
        ))),
    }
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
        let bind = if address.is_ipv4() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
        } else {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
        };
        let mut endpoint = quinn::Endpoint::client(bind)?;
        endpoint.set_default_client_config(config.clone());
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

struct HelperDriver {
    core: HelperConnection,
    endpoint: quinn::Endpoint,
    connection: quinn::Connection,
    send: quinn::SendStream,
    input: Option<quinn::SendStream>,
    events: EventSender<HelperEvent>,
    /// Told once: the host approved (its name) or the session ended first.
    live: Option<oneshot::Sender<Result<String, EndReason>>>,
    control: watch::Sender<ControlState>,
    /// Whether video is accepted (authenticated and not paused).
    live_video: watch::Sender<bool>,
    signals: mpsc::Sender<DecodeSignal>,
    stats: StatsRecorder,
}

/// How long ending waits for the goodbye to reach the host.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

/// How long to wait for the host's close reason after its control stream ended.
const CLOSE_REASON_WAIT: Duration = Duration::from_secs(1);

/// How often a helper waiting for a keyframe asks for one again.
const KEYFRAME_RETRY: Duration = Duration::from_millis(250);

/// Reads frame streams in order and passes them to the decode thread.
///
/// Nothing decodes before a keyframe, so until one arrives (at the start, after
/// a frame was dropped, after a pause) other frames are skipped and a keyframe
/// is asked for. Video only flows to an authenticated, unpaused session; the
/// host's first keyframe may overtake its approval message (streams are not
/// ordered with each other), so being authenticated is enough.
async fn receive_video(
    connection: quinn::Connection,
    accepting: watch::Receiver<bool>,
    decode: DecodeThread,
    signals: mpsc::Sender<DecodeSignal>,
    stats: StatsRecorder,
) {
    let mut waiting_for_keyframe = true;
    let mut last_seq = 0u64;
    let mut last_request: Option<Instant> = None;
    let ask_for_keyframe = |last_request: &mut Option<Instant>| {
        if last_request.is_none_or(|at| at.elapsed() >= KEYFRAME_RETRY) {
            *last_request = Some(Instant::now());
            // Full: a request is on its way already.
            let _ = signals.try_send(DecodeSignal::KeyframeNeeded);
        }
    };
    while let Ok(mut stream) = connection.accept_uni().await {
        if !*accepting.borrow() {
            let _ = stream.stop(0u8.into());
            waiting_for_keyframe = true;
            continue;
        }
        let video = match read_video_stream(stream).await {
            Ok(video) => video,
            Err(e) => {
                tracing::debug!(error = %e, "bad video stream");
                stats.frame_dropped();
                waiting_for_keyframe = true;
                ask_for_keyframe(&mut last_request);
                continue;
            }
        };
        if let Some((bitrate, frame_interval)) = video.target {
            stats.set_target(bitrate, frame_interval);
        }
        // A gap means a frame was reset or lost: what follows cannot decode.
        if video.seq != last_seq.wrapping_add(1) && !video.frame.keyframe {
            waiting_for_keyframe = true;
        }
        last_seq = video.seq;
        if waiting_for_keyframe && !video.frame.keyframe {
            stats.frame_dropped();
            ask_for_keyframe(&mut last_request);
            continue;
        }
        waiting_for_keyframe = false;
        match decode.try_decode(video) {
            Ok(()) => {}
            Err(DecodeBusy::Full) => {
                // The decoder fell behind: drop, and restart from a keyframe.
                stats.frame_dropped();
                waiting_for_keyframe = true;
                ask_for_keyframe(&mut last_request);
            }
            Err(DecodeBusy::Stopped) => return,
        }
    }
}

impl HelperDriver {
    async fn run(
        mut self,
        mut recv: quinn::RecvStream,
        mut requests: Requests<HelperCommand>,
        mut signals: mpsc::Receiver<DecodeSignal>,
    ) {
        let mut requests_open = true;
        let mut shutdown_reply: Option<Reply> = None;
        let mut link_reports = super::link_reports();
        loop {
            if self.flush().await {
                break;
            }
            let sleep = sleep_until(self.core.poll_timeout());
            tokio::select! {
                _ = link_reports.tick() => {
                    let received = super::datagrams_received(&self.connection);
                    self.core.handle_link(Instant::now(), received);
                }
                chunk = recv.read_chunk(64 * 1024, true) => match chunk {
                    Ok(Some(chunk)) => self.core.handle_control_data(Instant::now(), &chunk.bytes),
                    Ok(None) | Err(_) => {
                        let reason = tokio::time::timeout(CLOSE_REASON_WAIT, self.close_reason())
                            .await
                            .unwrap_or(EndReason::ConnectionLost);
                        self.core.handle_connection_lost(Instant::now(), reason);
                    }
                },
                request = requests.recv(), if requests_open => match request {
                    Some(Request::Command(command, reply)) => {
                        let result = self.core.apply(Instant::now(), command);
                        // Counted before the caller hears back: statistics
                        // read right after `send_input` include it.
                        self.stats.set_input_sent(self.core.input_events_sent());
                        self.stats.set_input_held_back(self.core.input_events_held_back());
                        reply.send(result);
                    }
                    Some(Request::Shutdown(reply)) => {
                        requests_open = false;
                        shutdown_reply = Some(reply);
                        self.core.end(Instant::now());
                    }
                    None => {
                        requests_open = false;
                        self.core.end(Instant::now());
                    }
                },
                Some(DecodeSignal::KeyframeNeeded) = signals.recv() => {
                    let _ = self.core.request_keyframe(Instant::now());
                }
                () = sleep => self.core.handle_timeout(Instant::now()),
            }
        }
        // The close frame goes out from the endpoint's own task: wait for it.
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, self.endpoint.wait_idle()).await;
        if let Some(reply) = shutdown_reply {
            reply.send(Ok(()));
        }
    }

    /// Why the host closed the connection, as its close code says.
    async fn close_reason(&self) -> EndReason {
        match self.connection.closed().await {
            quinn::ConnectionError::ApplicationClosed(close) => {
                end_reason_from_code(close.error_code.into_inner())
            }
            _ => EndReason::ConnectionLost,
        }
    }

    /// Carries out what the core asked for; true once the session is over.
    async fn flush(&mut self) -> bool {
        while let Some(transmit) = self.core.poll_transmit() {
            match transmit {
                HelperTransmit::Control(bytes) => {
                    if let Err(e) = self.send.write_all(&bytes).await {
                        tracing::debug!(error = %e, "control stream failed");
                    }
                }
                HelperTransmit::Input(bytes) => {
                    if self.input.is_none() {
                        match self.connection.open_uni().await {
                            Ok(stream) => self.input = Some(stream),
                            Err(e) => tracing::debug!(error = %e, "cannot open the input stream"),
                        }
                    }
                    if let Some(stream) = self.input.as_mut()
                        && let Err(e) = stream.write_all(&bytes).await
                    {
                        tracing::debug!(error = %e, "input stream failed");
                    }
                }
                HelperTransmit::Close { reason } => {
                    let _ = self.send.finish();
                    let _ =
                        tokio::time::timeout(Duration::from_millis(500), self.send.stopped()).await;
                    self.connection
                        .close(end_reason_code(reason).into(), reason.as_str().as_bytes());
                }
            }
        }
        self.stats.set_input_sent(self.core.input_events_sent());
        self.stats
            .set_messages_dropped(self.core.messages_dropped());
        let _ = self
            .control
            .send(self.core.control_state().unwrap_or(ControlState::None));
        let _ = self
            .live_video
            .send(self.core.is_authenticated() && !self.core.is_paused());
        while let Some(event) = self.core.poll_event() {
            match &event {
                HelperEvent::Connected => {
                    if let Some(live) = self.live.take() {
                        let _ = live.send(Ok(self.core.host_name().unwrap_or_default().to_owned()));
                    }
                }
                HelperEvent::Ended { reason } => {
                    if let Some(live) = self.live.take() {
                        let _ = live.send(Err(*reason));
                    }
                }
                _ => {}
            }
            self.events.send(event);
        }
        self.core.ended().is_some()
    }
}
