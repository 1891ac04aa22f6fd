//! The helper's async API: [`accept`] connects with an invitation and a
//! password and returns a [`HelperSession`] once the host approved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};

use super::connection::channel_binding;
use super::error::{AcceptError, SessionError};
use super::tls::{PinMismatch, SERVER_NAME, client_config};
use super::video::{DecodeBusy, DecodeSignal, DecodeThread, ReceivedFrame, read_video_stream};
use crate::input::InputEvent;
use crate::invitation::{Invitation, SessionId};
use crate::media::{Decoder, DisplayId};
use crate::password::Password;
use crate::session::{
    CommandError, ControlState, EndReason, HelperConfig, HelperConnection, HelperEvent,
    HelperTransmit, PointerKind, end_reason_code, end_reason_from_code,
};

/// How a helper connects.
#[derive(Debug, Clone)]
pub struct AcceptOptions {
    /// The name the host sees in the connection request.
    pub helper_name: String,
    /// How long to try each address of the invitation.
    pub connect_timeout: Duration,
    /// How long to wait for the host user to approve.
    pub approval_timeout: Duration,
}

impl Default for AcceptOptions {
    fn default() -> Self {
        AcceptOptions {
            helper_name: "ra helper".to_owned(),
            connect_timeout: Duration::from_secs(5),
            approval_timeout: Duration::from_secs(120),
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

enum HelperCommand {
    RequestControl,
    ReleaseControl,
    Input(Vec<InputEvent>),
    Chat(String),
    Pointer(i32, i32, PointerKind),
    SelectDisplay(DisplayId),
    RequestKeyframe,
    Clipboard(String),
    End,
}

type CommandReply = oneshot::Sender<Result<(), CommandError>>;

/// A live session on the helper's side.
///
/// Dropping it ends the session.
pub struct HelperSession {
    host_name: String,
    commands: mpsc::UnboundedSender<(HelperCommand, CommandReply)>,
    events: mpsc::UnboundedReceiver<HelperEvent>,
    frames: mpsc::Receiver<ReceivedFrame>,
    control: watch::Receiver<ControlState>,
    /// Becomes true when the driver has finished (the host was told goodbye).
    done: watch::Receiver<bool>,
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
        password.as_secret_bytes().to_vec(),
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
    secret: Vec<u8>,
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
    let core = HelperConnection::new(Instant::now(), config, binding, &mut rand_core::OsRng);

    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let (frame_tx, frame_rx) = mpsc::channel(2);
    let (signal_tx, signal_rx) = mpsc::unbounded_channel();
    let (live_tx, live_rx) = oneshot::channel();
    let (control_tx, control_rx) = watch::channel(ControlState::None);
    let (live_video_tx, live_video_rx) = watch::channel(false);
    let decode = DecodeThread::spawn(decoder, frame_tx, signal_tx.clone())?;

    let (done_tx, done_rx) = watch::channel(false);
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
        done: done_tx,
    };
    tokio::spawn(receive_video(
        driver.connection.clone(),
        live_video_rx,
        decode,
        driver.signals.clone(),
    ));
    tokio::spawn(driver.run(recv, command_rx, signal_rx));
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
        commands: command_tx,
        events: event_rx,
        frames: frame_rx,
        control: control_rx,
        done: done_rx,
    })
}

/// Tries the invitation's addresses in order until one completes the TLS
/// handshake with the pinned certificate.
async fn connect(
    invitation: &Invitation,
    options: &AcceptOptions,
) -> Result<(quinn::Endpoint, quinn::Connection), AcceptError> {
    let mismatch = PinMismatch::default();
    let config = client_config(invitation.fingerprint, mismatch.clone())?;
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

impl HelperSession {
    /// The host's name (as it gave it).
    pub fn host_name(&self) -> &str {
        &self.host_name
    }

    /// The next event: session changes first, then frames. `None` after the
    /// session ended and every event was taken.
    pub async fn next_event(&mut self) -> Option<HelperSessionEvent> {
        tokio::select! {
            biased;
            event = self.events.recv() => match event {
                Some(e) => Some(HelperSessionEvent::Session(e)),
                None => self.frames.recv().await.map(HelperSessionEvent::Frame),
            },
            Some(frame) = self.frames.recv() => Some(HelperSessionEvent::Frame(frame)),
        }
    }

    /// The events as an async stream (see [`HelperSession::next_event`]).
    pub fn events(&mut self) -> impl futures_core::Stream<Item = HelperSessionEvent> + '_ {
        HelperEventStream(self)
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
        self.command(HelperCommand::RequestControl).await
    }

    /// Gives control back to the host.
    ///
    /// # Errors
    /// [`SessionError::Command`] without a grant.
    pub async fn release_control(&self) -> Result<(), SessionError> {
        self.command(HelperCommand::ReleaseControl).await
    }

    /// Sends input events, in order, to be injected on the host.
    ///
    /// # Errors
    /// [`SessionError::Command`] with [`CommandError::NotControlling`] without a grant.
    pub async fn send_input(&self, events: Vec<InputEvent>) -> Result<(), SessionError> {
        self.command(HelperCommand::Input(events)).await
    }

    /// Sends a chat message.
    ///
    /// # Errors
    /// [`SessionError::Command`] for empty or too long text.
    pub async fn chat(&self, text: impl Into<String>) -> Result<(), SessionError> {
        self.command(HelperCommand::Chat(text.into())).await
    }

    /// Shows a pointer mark on the host's screen (needs no control).
    ///
    /// # Errors
    /// [`SessionError::Command`] unless live.
    pub async fn pointer(&self, x: i32, y: i32, kind: PointerKind) -> Result<(), SessionError> {
        self.command(HelperCommand::Pointer(x, y, kind)).await
    }

    /// Asks the host to capture another display.
    ///
    /// # Errors
    /// [`SessionError::Command`] unless live.
    pub async fn select_display(&self, display: DisplayId) -> Result<(), SessionError> {
        self.command(HelperCommand::SelectDisplay(display)).await
    }

    /// Sends the helper's clipboard text to the host (the host must share the clipboard).
    ///
    /// # Errors
    /// [`SessionError::Command`] when sharing is off or the text too long.
    pub async fn send_clipboard(&self, text: impl Into<String>) -> Result<(), SessionError> {
        self.command(HelperCommand::Clipboard(text.into())).await
    }

    /// Asks the host for a full keyframe.
    ///
    /// # Errors
    /// [`SessionError::Command`] unless live.
    pub async fn request_keyframe(&self) -> Result<(), SessionError> {
        self.command(HelperCommand::RequestKeyframe).await
    }

    /// Ends the session and waits (briefly) until the host was told, so the
    /// program may exit right after.
    ///
    /// # Errors
    /// [`SessionError::Closed`] if it ended already.
    pub async fn end(&self) -> Result<(), SessionError> {
        self.command(HelperCommand::End).await?;
        let mut done = self.done.clone();
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, done.wait_for(|finished| *finished)).await;
        Ok(())
    }

    async fn command(&self, command: HelperCommand) -> Result<(), SessionError> {
        let (reply_tx, reply_rx) = oneshot::channel();
        self.commands
            .send((command, reply_tx))
            .map_err(|_| SessionError::Closed)?;
        reply_rx
            .await
            .map_err(|_| SessionError::Closed)?
            .map_err(SessionError::from)
    }
}

struct HelperEventStream<'a>(&'a mut HelperSession);

impl futures_core::Stream for HelperEventStream<'_> {
    type Item = HelperSessionEvent;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<HelperSessionEvent>> {
        use std::task::Poll;
        let session = &mut *self.0;
        // Session changes first, as in `next_event`.
        match session.events.poll_recv(cx) {
            Poll::Ready(Some(event)) => {
                return Poll::Ready(Some(HelperSessionEvent::Session(event)));
            }
            Poll::Ready(None) => {
                return session
                    .frames
                    .poll_recv(cx)
                    .map(|f| f.map(HelperSessionEvent::Frame));
            }
            Poll::Pending => {}
        }
        match session.frames.poll_recv(cx) {
            Poll::Ready(Some(frame)) => Poll::Ready(Some(HelperSessionEvent::Frame(frame))),
            _ => Poll::Pending,
        }
    }
}

struct HelperDriver {
    core: HelperConnection,
    endpoint: quinn::Endpoint,
    connection: quinn::Connection,
    send: quinn::SendStream,
    input: Option<quinn::SendStream>,
    events: mpsc::UnboundedSender<HelperEvent>,
    /// Told once: the host approved (its name) or the session ended first.
    live: Option<oneshot::Sender<Result<String, EndReason>>>,
    control: watch::Sender<ControlState>,
    /// Whether video is accepted (authenticated and not paused).
    live_video: watch::Sender<bool>,
    signals: mpsc::UnboundedSender<DecodeSignal>,
    done: watch::Sender<bool>,
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
    signals: mpsc::UnboundedSender<DecodeSignal>,
) {
    let mut waiting_for_keyframe = true;
    let mut last_seq = 0u64;
    let mut last_request: Option<Instant> = None;
    let ask_for_keyframe = |last_request: &mut Option<Instant>| {
        if last_request.is_none_or(|at| at.elapsed() >= KEYFRAME_RETRY) {
            *last_request = Some(Instant::now());
            let _ = signals.send(DecodeSignal::KeyframeNeeded);
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
                waiting_for_keyframe = true;
                ask_for_keyframe(&mut last_request);
                continue;
            }
        };
        // A gap means a frame was reset or lost: what follows cannot decode.
        if video.seq != last_seq.wrapping_add(1) && !video.frame.keyframe {
            waiting_for_keyframe = true;
        }
        last_seq = video.seq;
        if waiting_for_keyframe && !video.frame.keyframe {
            ask_for_keyframe(&mut last_request);
            continue;
        }
        waiting_for_keyframe = false;
        match decode.try_decode(video) {
            Ok(()) => {}
            Err(DecodeBusy::Full) => {
                // The decoder fell behind: drop, and restart from a keyframe.
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
        mut commands: mpsc::UnboundedReceiver<(HelperCommand, CommandReply)>,
        mut signals: mpsc::UnboundedReceiver<DecodeSignal>,
    ) {
        let mut commands_open = true;
        loop {
            if self.flush().await {
                break;
            }
            let timeout = self.core.poll_timeout();
            let sleep = async {
                match timeout {
                    Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                chunk = recv.read_chunk(64 * 1024, true) => match chunk {
                    Ok(Some(chunk)) => self.core.handle_control_data(Instant::now(), &chunk.bytes),
                    Ok(None) | Err(_) => {
                        let reason = tokio::time::timeout(CLOSE_REASON_WAIT, self.close_reason())
                            .await
                            .unwrap_or(EndReason::ConnectionLost);
                        self.core.handle_connection_lost(Instant::now(), reason);
                    }
                },
                command = commands.recv(), if commands_open => match command {
                    Some((command, reply)) => {
                        let result = self.apply(command);
                        let _ = reply.send(result);
                    }
                    None => {
                        commands_open = false;
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
        let _ = self.done.send(true);
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

    fn apply(&mut self, command: HelperCommand) -> Result<(), CommandError> {
        let now = Instant::now();
        match command {
            HelperCommand::RequestControl => self.core.request_control(now),
            HelperCommand::ReleaseControl => self.core.release_control(now),
            HelperCommand::Input(events) => self.core.send_input(now, &events),
            HelperCommand::Chat(text) => self.core.chat(now, &text),
            HelperCommand::Pointer(x, y, kind) => self.core.pointer(now, x, y, kind),
            HelperCommand::SelectDisplay(display) => self.core.select_display(now, display),
            HelperCommand::RequestKeyframe => self.core.request_keyframe(now),
            HelperCommand::Clipboard(text) => self.core.send_clipboard(now, &text),
            HelperCommand::End => {
                self.core.end(now);
                Ok(())
            }
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
            let _ = self.events.send(event);
        }
        self.core.ended().is_some()
    }
}
