//! The host's async API: [`invite`] opens an invitation and returns a
//! [`HostSession`] whose events and commands drive the sans-IO
//! [`HostEndpoint`] over QUIC.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};

use super::connection::{NetEvent, WriterCommand, channel_binding, run_connection};
use super::error::{InviteError, SessionError};
use super::injector::InjectorThread;
use super::tls::HostIdentity;
use super::video::{PipelineCommand, PipelineReport, VideoPipeline};
use crate::audit::{AuditEvent, AuditLog, AuditRecord};
use crate::input::InputInjector;
use crate::invitation::{Invitation, SessionId};
use crate::media::{Capturer, DisplayId, DisplayInfo, Encoder};
use crate::password::Password;
use crate::policy::Policy;
use crate::session::{
    CommandError, ConnectionId, EndReason, HostConfig, HostEndpoint, HostEvent, HostTransmit,
    MediaCommand,
};

/// How an invitation is opened.
#[derive(Debug)]
pub struct InviteOptions {
    /// The name the helper sees.
    pub host_name: String,
    /// How long the invitation stays open (capped by the policy's maximum).
    pub lifetime: Duration,
    /// Where to listen. Port 0 picks a free port; an unspecified IP listens on all.
    pub listen: SocketAddr,
    /// Addresses to write into the invitation; empty: derived from `listen`
    /// and the machine's interfaces.
    pub advertise: Vec<SocketAddr>,
    /// The host's policy, enforced by the engine.
    pub policy: Policy,
    /// Where to record the audit log, if anywhere.
    pub audit_log: Option<AuditLog>,
    /// The display to share first; `None`: the primary one. The helper may
    /// switch to another.
    pub display: Option<DisplayId>,
}

impl Default for InviteOptions {
    fn default() -> Self {
        InviteOptions {
            host_name: "ra host".to_owned(),
            lifetime: Duration::from_secs(6 * 3600),
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            advertise: Vec::new(),
            policy: Policy::default(),
            audit_log: None,
            display: None,
        }
    }
}

/// The host's backends: where pictures come from, how they are compressed,
/// where the helper's input goes.
pub struct HostBackends {
    /// The screen source.
    pub capturer: Box<dyn Capturer>,
    /// The video encoder.
    pub encoder: Box<dyn Encoder>,
    /// The input injector (called only under a control grant).
    pub injector: Box<dyn InputInjector>,
}

impl std::fmt::Debug for HostBackends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBackends").finish_non_exhaustive()
    }
}

enum HostCommand {
    Approve(ConnectionId),
    Deny(ConnectionId),
    GrantControl(ConnectionId),
    DenyControl(ConnectionId),
    Revoke,
    RevokePanicKey,
    Pause,
    Resume,
    Chat(String),
    End,
    CloseInvitation,
    SetPolicy(Policy),
    ClipboardSharing(bool),
    Clipboard(String),
    LocalInput(Duration),
    Shutdown,
}

/// How long shutting down waits for goodbyes to reach the helpers.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

/// A running invitation and the session made through it, on the host.
///
/// The session's commands and events are those of its [`HostHandle`] (reached
/// through `Deref`). Dropping it closes the invitation and ends any session.
pub struct HostSession {
    invitation: Invitation,
    password: Password,
    local_addr: SocketAddr,
    handle: HostHandle,
}

impl std::fmt::Debug for HostSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostSession")
            .field("invitation", &self.invitation)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for HostSession {
    type Target = HostHandle;
    fn deref(&self) -> &HostHandle {
        &self.handle
    }
}

impl std::ops::DerefMut for HostSession {
    fn deref_mut(&mut self) -> &mut HostHandle {
        &mut self.handle
    }
}

type CommandReply = oneshot::Sender<Result<(), CommandError>>;

/// The commands and events of a host's session, however it was started (an
/// invitation, an Easy Connect code, a Quick Assist code).
///
/// Dropping it closes the invitation and ends any session.
pub struct HostHandle {
    commands: mpsc::UnboundedSender<(HostCommand, CommandReply)>,
    events: mpsc::UnboundedReceiver<HostEvent>,
}

impl std::fmt::Debug for HostHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostHandle").finish_non_exhaustive()
    }
}

/// Opens an invitation: generates the TLS key, the session id and the password,
/// listens, and returns the session handle. Give the helper
/// [`HostSession::invitation`] (file, token or email) and, separately,
/// [`HostSession::password`].
///
/// # Errors
/// [`InviteError::Policy`] when the policy forbids assistance,
/// [`InviteError::Bind`] when the address cannot be listened on, and others.
pub async fn invite(
    options: InviteOptions,
    backends: HostBackends,
) -> Result<HostSession, InviteError> {
    if !options.policy.allow_assistance {
        return Err(InviteError::Policy);
    }
    let identity = HostIdentity::generate()?;
    let endpoint =
        quinn::Endpoint::server(identity.server_config()?, options.listen).map_err(|source| {
            InviteError::Bind {
                addr: options.listen,
                source,
            }
        })?;
    let local_addr = endpoint.local_addr().map_err(|source| InviteError::Bind {
        addr: options.listen,
        source,
    })?;
    let addresses = if options.advertise.is_empty() {
        advertised_addresses(local_addr)
    } else {
        options.advertise.clone()
    };
    if addresses.is_empty() {
        return Err(InviteError::NoAddress);
    }
    let session_id = SessionId::generate_random();
    let password = Password::generate_random();
    let lifetime = options.policy.cap_lifetime(options.lifetime);
    let invitation = Invitation::new(
        session_id,
        options.host_name.clone(),
        addresses,
        identity.fingerprint(),
        SystemTime::now(),
        lifetime,
    )?;
    let mut audit = options.audit_log;
    if let Some(log) = audit.as_mut() {
        let record = AuditRecord::now(
            Some(session_id),
            AuditEvent::InvitationOpened {
                expires_at: invitation.expires_at,
                addresses: invitation.addresses.clone(),
            },
        );
        if let Err(e) = log.record(record) {
            tracing::warn!(error = %e, "cannot write the audit log");
        }
    }
    let (handle, feed) = spawn_host(
        HostStart {
            session_id,
            host_name: options.host_name.clone(),
            secret: password.as_secret_bytes().to_vec(),
            lifetime,
            policy: options.policy.clone(),
            max_failed_attempts: None,
            audit_log: audit,
            display: options.display,
            endpoints: vec![endpoint.clone()],
            observer: None,
        },
        backends,
    )?;
    tokio::spawn(accept_connections(endpoint, feed));
    Ok(HostSession {
        invitation,
        password,
        local_addr,
        handle,
    })
}

/// What a host session needs, however its connections arrive.
pub(crate) struct HostStart {
    pub(crate) session_id: SessionId,
    pub(crate) host_name: String,
    /// The PAKE secret (a password's or a code's).
    pub(crate) secret: Vec<u8>,
    pub(crate) lifetime: Duration,
    pub(crate) policy: Policy,
    /// Failed attempts that close the session; `None`: the default (5).
    pub(crate) max_failed_attempts: Option<u32>,
    pub(crate) audit_log: Option<AuditLog>,
    pub(crate) display: Option<DisplayId>,
    /// Endpoints to close (and wait for) when the session is over.
    pub(crate) endpoints: Vec<quinn::Endpoint>,
    /// Also receives every event (the broker flows report outcomes from them).
    pub(crate) observer: Option<mpsc::UnboundedSender<HostEvent>>,
}

/// Where a host session's connections come from: anything that establishes
/// QUIC connections (an accept loop, a rendezvous as server or as client)
/// hands them over here. Once every feed is dropped and no connection is
/// left, the session closes its invitation.
#[derive(Clone)]
pub(crate) struct ConnectionFeed {
    net: mpsc::UnboundedSender<NetEvent>,
    session_id: SessionId,
    next_id: Arc<AtomicU64>,
    /// Held by every feed, and by each connection until the driver knows it.
    alive: mpsc::UnboundedSender<()>,
}

impl ConnectionFeed {
    /// Closes the session's invitation for `reason`: no connection will
    /// come, and the application learns why.
    pub(crate) fn close(&self, reason: crate::session::InvitationCloseReason) {
        let _ = self.net.send(NetEvent::OfferClosed { reason });
    }

    /// Runs an established connection (from either side of the handshake) as
    /// one of the session's connections.
    pub(crate) fn add(&self, connection: quinn::Connection) {
        let conn = ConnectionId(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let net = self.net.clone();
        let session_id = self.session_id;
        let alive = self.alive.clone();
        tokio::spawn(async move {
            let peer = connection.remote_address();
            let Some(binding) = channel_binding(&connection, session_id.as_bytes()) else {
                connection.close(0u8.into(), b"no channel binding");
                return;
            };
            let (writer_tx, writer_rx) = mpsc::unbounded_channel();
            if net
                .send(NetEvent::Connected {
                    conn,
                    connection: connection.clone(),
                    peer,
                    binding,
                    writer: writer_tx,
                })
                .is_err()
            {
                return;
            }
            drop(alive);
            run_connection(conn, connection, net, writer_rx).await;
        });
    }
}

/// Starts the pipeline, the injector and the driver of a host session.
pub(crate) fn spawn_host(
    start: HostStart,
    backends: HostBackends,
) -> Result<(HostHandle, ConnectionFeed), InviteError> {
    let runtime = tokio::runtime::Handle::current();
    let (report_tx, report_rx) = mpsc::unbounded_channel();
    let pipeline = VideoPipeline::spawn(
        backends.capturer,
        backends.encoder,
        start.display,
        report_tx,
        runtime,
    )
    .map_err(|e| InviteError::Backend(e.to_string()))?;
    let injector = InjectorThread::spawn(backends.injector)
        .map_err(|e| InviteError::Backend(e.to_string()))?;

    let mut config = HostConfig::new(
        start.session_id,
        start.host_name,
        start.secret,
        start.lifetime,
        start.policy,
    );
    if let Some(max) = start.max_failed_attempts {
        config.max_failed_attempts = max;
    }
    let core = HostEndpoint::new(config, Instant::now(), Box::new(rand_core::OsRng));
    let (net_tx, net_rx) = mpsc::unbounded_channel();
    let (alive_tx, alive_rx) = mpsc::unbounded_channel();
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let feed = ConnectionFeed {
        net: net_tx,
        session_id: start.session_id,
        next_id: Arc::default(),
        alive: alive_tx,
    };
    let driver = HostDriver {
        core,
        endpoints: start.endpoints,
        session_id: start.session_id,
        connections: HashMap::new(),
        displays: Vec::new(),
        selected_display: DisplayId(0),
        pipeline,
        injector,
        audit: start.audit_log,
        events: event_tx,
        observer: start.observer,
        streaming: None,
        helper_names: HashMap::new(),
    };
    tokio::spawn(driver.run(net_rx, alive_rx, command_rx, report_rx));
    Ok((
        HostHandle {
            commands: command_tx,
            events: event_rx,
        },
        feed,
    ))
}

impl HostSession {
    /// The invitation to give the helper (save it, send it, or copy its token).
    pub fn invitation(&self) -> &Invitation {
        &self.invitation
    }

    /// The password to tell the helper separately (by phone, in person).
    pub fn password(&self) -> &Password {
        &self.password
    }

    /// The address the host listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The session's commands and events.
    pub fn handle(&self) -> &HostHandle {
        &self.handle
    }

    /// Ends any session, closes the invitation, and waits (briefly) until the
    /// helper was told, so the program may exit right after.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }

    /// The session's commands and events, without the invitation.
    pub fn into_handle(self) -> HostHandle {
        self.handle
    }
}

impl HostHandle {
    /// The next event; `None` once the invitation is closed and no session is left.
    pub async fn next_event(&mut self) -> Option<HostEvent> {
        self.events.recv().await
    }

    /// The events as an async stream.
    pub fn events(&mut self) -> impl futures_core::Stream<Item = HostEvent> + '_ {
        EventStream(&mut self.events)
    }

    /// Lets a helper in after [`HostEvent::ConnectionRequest`]; the session starts view-only.
    ///
    /// # Errors
    /// [`SessionError::Command`] if the request is no longer pending.
    pub async fn approve(&self, conn: ConnectionId) -> Result<(), SessionError> {
        self.command(HostCommand::Approve(conn)).await
    }

    /// Turns a helper away.
    ///
    /// # Errors
    /// [`SessionError::Command`] if the request is no longer pending.
    pub async fn deny(&self, conn: ConnectionId) -> Result<(), SessionError> {
        self.command(HostCommand::Deny(conn)).await
    }

    /// Grants control after [`HostEvent::ControlRequested`].
    ///
    /// # Errors
    /// [`SessionError::Command`] with [`CommandError::Policy`] when the policy
    /// forbids control, or when no request is pending.
    pub async fn grant_control(&self, conn: ConnectionId) -> Result<(), SessionError> {
        self.command(HostCommand::GrantControl(conn)).await
    }

    /// Denies a control request.
    ///
    /// # Errors
    /// [`SessionError::Command`] when no request is pending.
    pub async fn deny_control(&self, conn: ConnectionId) -> Result<(), SessionError> {
        self.command(HostCommand::DenyControl(conn)).await
    }

    /// Takes control back at once; every key and button the helper held is released.
    ///
    /// # Errors
    /// [`SessionError::Command`] when control is not granted.
    pub async fn revoke(&self) -> Result<(), SessionError> {
        self.command(HostCommand::Revoke).await
    }

    /// Takes control back because the local panic key was pressed.
    ///
    /// # Errors
    /// [`SessionError::Command`] when control is not granted.
    pub async fn revoke_panic_key(&self) -> Result<(), SessionError> {
        self.command(HostCommand::RevokePanicKey).await
    }

    /// Pauses: the screen is no longer shared and control is revoked.
    ///
    /// # Errors
    /// [`SessionError::Command`] without a live session or when paused already.
    pub async fn pause(&self) -> Result<(), SessionError> {
        self.command(HostCommand::Pause).await
    }

    /// Resumes sharing the screen (control stays revoked).
    ///
    /// # Errors
    /// [`SessionError::Command`] when not paused.
    pub async fn resume(&self) -> Result<(), SessionError> {
        self.command(HostCommand::Resume).await
    }

    /// Sends a chat message to the helper.
    ///
    /// # Errors
    /// [`SessionError::Command`] without a live session or for empty/too long text.
    pub async fn chat(&self, text: impl Into<String>) -> Result<(), SessionError> {
        self.command(HostCommand::Chat(text.into())).await
    }

    /// Ends the current session. The invitation stays open until it expires
    /// or [`HostHandle::close_invitation`].
    ///
    /// # Errors
    /// [`SessionError::Command`] when there is no session.
    pub async fn end(&self) -> Result<(), SessionError> {
        self.command(HostCommand::End).await
    }

    /// Stops taking connections; a live session continues.
    ///
    /// # Errors
    /// [`SessionError::Closed`] if the driver has stopped.
    pub async fn close_invitation(&self) -> Result<(), SessionError> {
        self.command(HostCommand::CloseInvitation).await
    }

    /// Applies a new policy at once (see [`HostEndpoint::set_policy`]).
    ///
    /// # Errors
    /// [`SessionError::Closed`] if the driver has stopped.
    pub async fn set_policy(&self, policy: Policy) -> Result<(), SessionError> {
        self.command(HostCommand::SetPolicy(policy)).await
    }

    /// Turns clipboard sharing (text, both ways) on or off.
    ///
    /// # Errors
    /// [`SessionError::Command`] with [`CommandError::Policy`] when the policy
    /// does not allow the clipboard, or without a live session.
    pub async fn set_clipboard_sharing(&self, enabled: bool) -> Result<(), SessionError> {
        self.command(HostCommand::ClipboardSharing(enabled)).await
    }

    /// Sends the host's clipboard text to the helper (sharing must be on).
    ///
    /// # Errors
    /// [`SessionError::Command`] when sharing is off or the text too long.
    pub async fn send_clipboard(&self, text: impl Into<String>) -> Result<(), SessionError> {
        self.command(HostCommand::Clipboard(text.into())).await
    }

    /// The local user is using the mouse or keyboard: ignore the helper's
    /// input for `duration` and release what it holds ("local user wins").
    ///
    /// # Errors
    /// [`SessionError::Closed`] if the driver has stopped.
    pub async fn local_input_seen(&self, duration: Duration) -> Result<(), SessionError> {
        self.command(HostCommand::LocalInput(duration)).await
    }

    /// Ends any session, closes the invitation, and waits (briefly) until the
    /// helper was told, so the program may exit right after.
    pub async fn shutdown(self) {
        let _ = tokio::time::timeout(2 * SHUTDOWN_WAIT, self.command(HostCommand::Shutdown)).await;
    }

    async fn command(&self, command: HostCommand) -> Result<(), SessionError> {
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

struct EventStream<'a, T>(&'a mut mpsc::UnboundedReceiver<T>);

impl<T> futures_core::Stream for EventStream<'_, T> {
    type Item = T;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

/// The addresses to put into an invitation for a socket bound to `local`.
pub(crate) fn advertised_addresses(local: SocketAddr) -> Vec<SocketAddr> {
    if !local.ip().is_unspecified() {
        return vec![local];
    }
    let want_v4 = local.is_ipv4();
    let mut addresses: Vec<SocketAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|interface| interface.ip())
        .filter(|ip| want_v4 == ip.is_ipv4() || !want_v4)
        .filter(|ip| !matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local()))
        .map(|ip| SocketAddr::new(ip, local.port()))
        .collect();
    // Reachable addresses first, loopback last (it only helps on the same machine).
    addresses.sort_by_key(|a| a.ip().is_loopback());
    addresses.dedup();
    addresses.truncate(crate::invitation::MAX_ADDRESSES);
    addresses
}

/// The invitation flow's source of connections: every handshake completed on
/// the listening endpoint.
async fn accept_connections(endpoint: quinn::Endpoint, feed: ConnectionFeed) {
    while let Some(incoming) = endpoint.accept().await {
        let feed = feed.clone();
        tokio::spawn(async move {
            let peer = incoming.remote_address();
            match incoming.await {
                Ok(connection) => feed.add(connection),
                Err(e) => tracing::debug!(%peer, error = %e, "handshake failed"),
            }
        });
    }
}

struct ConnectionHandle {
    connection: quinn::Connection,
    writer: mpsc::UnboundedSender<WriterCommand>,
}

struct HostDriver {
    core: HostEndpoint,
    /// Closed (and waited for) when the session is over.
    endpoints: Vec<quinn::Endpoint>,
    session_id: SessionId,
    connections: HashMap<ConnectionId, ConnectionHandle>,
    /// The displays as the capturer last reported them, and the captured one.
    displays: Vec<DisplayInfo>,
    selected_display: DisplayId,
    pipeline: VideoPipeline,
    injector: InjectorThread,
    audit: Option<AuditLog>,
    events: mpsc::UnboundedSender<HostEvent>,
    /// Also receives every event.
    observer: Option<mpsc::UnboundedSender<HostEvent>>,
    /// The connection video goes to.
    streaming: Option<ConnectionId>,
    /// Names of helpers that asked to connect, for the audit log.
    helper_names: HashMap<ConnectionId, String>,
}

impl HostDriver {
    async fn run(
        mut self,
        mut net: mpsc::UnboundedReceiver<NetEvent>,
        mut feeds: mpsc::UnboundedReceiver<()>,
        mut commands: mpsc::UnboundedReceiver<(HostCommand, CommandReply)>,
        mut reports: mpsc::UnboundedReceiver<PipelineReport>,
    ) {
        let mut handle_open = true;
        let mut feeds_open = true;
        let mut net_open = true;
        let mut closed_for_lack_of_feeds = false;
        let mut shutdown_reply = None;
        loop {
            self.flush();
            if !handle_open && self.connections.is_empty() {
                break;
            }
            if !feeds_open
                && !closed_for_lack_of_feeds
                && self.connections.is_empty()
                && net.is_empty()
            {
                // No connection can come any more: nothing is left to wait for.
                closed_for_lack_of_feeds = true;
                self.core.close_invitation(Instant::now());
                continue;
            }
            let timeout = self.core.poll_timeout();
            let sleep = async {
                match timeout {
                    Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv(), if handle_open => match command {
                    Some((HostCommand::Shutdown, reply)) => {
                        handle_open = false;
                        shutdown_reply = Some(reply);
                        let now = Instant::now();
                        let _ = self.core.end(now);
                        self.core.close_invitation(now);
                    }
                    Some((command, reply)) => {
                        let result = self.apply(command);
                        let _ = reply.send(result);
                    }
                    None => {
                        // The application dropped its handle: end everything.
                        handle_open = false;
                        let now = Instant::now();
                        let _ = self.core.end(now);
                        self.core.close_invitation(now);
                    }
                },
                event = net.recv(), if net_open => match event {
                    Some(event) => self.handle_net(event),
                    // No connection can come or speak any more; the invitation
                    // closes above, and its events still reach the application.
                    None => {
                        net_open = false;
                        feeds_open = false;
                    }
                },
                None = feeds.recv(), if feeds_open => feeds_open = false,
                Some(report) = reports.recv() => self.handle_report(report),
                () = sleep => self.core.handle_timeout(Instant::now()),
            }
        }
        for endpoint in &self.endpoints {
            endpoint.close(0u8.into(), b"host closed");
        }
        let wait_all = async {
            for endpoint in &self.endpoints {
                endpoint.wait_idle().await;
            }
        };
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, wait_all).await;
        if let Some(reply) = shutdown_reply {
            let _ = reply.send(Ok(()));
        }
    }

    fn apply(&mut self, command: HostCommand) -> Result<(), CommandError> {
        let now = Instant::now();
        let core = &mut self.core;
        match command {
            HostCommand::Approve(conn) => core.approve(now, conn),
            HostCommand::Deny(conn) => core.deny(now, conn),
            HostCommand::GrantControl(conn) => core.grant_control(now, conn),
            HostCommand::DenyControl(conn) => core.deny_control(now, conn),
            HostCommand::Revoke => core.revoke(now),
            HostCommand::RevokePanicKey => core.revoke_panic_key(now),
            HostCommand::Pause => core.pause(now),
            HostCommand::Resume => core.resume(now),
            HostCommand::Chat(text) => {
                core.chat(now, &text)?;
                self.audit(AuditEvent::Chat {
                    from: "host".to_owned(),
                    text,
                });
                Ok(())
            }
            HostCommand::End => core.end(now),
            HostCommand::CloseInvitation => {
                core.close_invitation(now);
                Ok(())
            }
            HostCommand::SetPolicy(policy) => {
                core.set_policy(now, policy);
                Ok(())
            }
            HostCommand::ClipboardSharing(enabled) => core.set_clipboard_sharing(now, enabled),
            HostCommand::Clipboard(text) => core.send_clipboard(now, &text),
            HostCommand::LocalInput(duration) => {
                core.suspend_remote_input(now, duration);
                Ok(())
            }
            // Handled by the run loop.
            HostCommand::Shutdown => Ok(()),
        }
    }

    fn handle_report(&mut self, report: PipelineReport) {
        let now = Instant::now();
        match report {
            PipelineReport::Cursor(update) => {
                if let Some(conn) = self.streaming {
                    let _ = self.core.send_cursor(now, conn, &update);
                }
            }
            PipelineReport::PictureSize { width, height } => {
                self.core.set_picture_size(width, height);
            }
            PipelineReport::Geometry {
                displays,
                selected,
                area,
            } => {
                self.core.set_capture_area(area);
                let changed = displays != self.displays || selected != self.selected_display;
                self.displays = displays;
                self.selected_display = selected;
                if changed && let Some(conn) = self.streaming {
                    let _ = self
                        .core
                        .announce_displays(now, conn, &self.displays, selected);
                }
            }
        }
    }

    fn handle_net(&mut self, event: NetEvent) {
        let now = Instant::now();
        match event {
            NetEvent::Connected {
                conn,
                connection,
                peer,
                binding,
                writer,
            } => {
                self.connections
                    .insert(conn, ConnectionHandle { connection, writer });
                self.core.handle_connect(now, conn, peer, binding);
            }
            NetEvent::ControlData { conn, data } => self.core.handle_control_data(now, conn, &data),
            NetEvent::InputData { conn, data } => self.core.handle_input_data(now, conn, &data),
            NetEvent::Lost { conn } => {
                self.connections.remove(&conn);
                self.core.handle_connection_lost(now, conn);
            }
            NetEvent::OfferClosed { reason } => self.core.close_invitation_for(now, reason),
        }
    }

    /// Carries out everything the core asked for.
    fn flush(&mut self) {
        while let Some(injection) = self.core.poll_injection() {
            self.injector.submit(injection);
        }
        while let Some((conn, transmit)) = self.core.poll_transmit() {
            let Some(handle) = self.connections.get(&conn) else {
                continue;
            };
            let command = match transmit {
                HostTransmit::Control(bytes) => WriterCommand::Control(bytes),
                HostTransmit::Close { reason } => WriterCommand::Close(reason),
            };
            let _ = handle.writer.send(command);
        }
        while let Some(command) = self.core.poll_media() {
            self.media(command);
        }
        while let Some(event) = self.core.poll_event() {
            if let HostEvent::Connected { conn, .. } = &event {
                // Before the capturer's first report there is nothing to
                // announce: the report announces the displays when it comes.
                if !self.displays.is_empty() {
                    let _ = self.core.announce_displays(
                        Instant::now(),
                        *conn,
                        &self.displays,
                        self.selected_display,
                    );
                }
            }
            self.audit_event(&event);
            if let Some(observer) = &self.observer {
                let _ = observer.send(event.clone());
            }
            let _ = self.events.send(event);
        }
        // Announcing displays queues control bytes.
        while let Some((conn, HostTransmit::Control(bytes))) = self.core.poll_transmit() {
            if let Some(handle) = self.connections.get(&conn) {
                let _ = handle.writer.send(WriterCommand::Control(bytes));
            }
        }
    }

    fn media(&mut self, command: MediaCommand) {
        match command {
            MediaCommand::Start { conn } => {
                if let Some(handle) = self.connections.get(&conn) {
                    self.streaming = Some(conn);
                    self.pipeline
                        .command(PipelineCommand::Start(handle.connection.clone()));
                }
            }
            MediaCommand::Stop { conn } => {
                if self.streaming == Some(conn) {
                    self.streaming = None;
                    self.pipeline.command(PipelineCommand::Stop);
                }
            }
            MediaCommand::Keyframe { conn } => {
                if self.streaming == Some(conn) {
                    self.pipeline.command(PipelineCommand::Keyframe);
                }
            }
            MediaCommand::SelectDisplay { conn, display } => {
                if self.streaming == Some(conn) {
                    self.pipeline
                        .command(PipelineCommand::SelectDisplay(display));
                }
            }
        }
    }

    fn audit_event(&mut self, event: &HostEvent) {
        let record = match event {
            HostEvent::ConnectionRequest {
                conn,
                helper_name,
                peer,
            } => {
                self.helper_names.insert(*conn, helper_name.clone());
                AuditEvent::ConnectionRequest {
                    helper: helper_name.clone(),
                    peer: peer.to_string(),
                }
            }
            HostEvent::AuthFailed { peer, attempts, .. } => AuditEvent::AuthFailed {
                peer: peer.to_string(),
                attempts: *attempts,
            },
            HostEvent::Connected { helper_name, .. } => AuditEvent::Approved {
                helper: helper_name.clone(),
            },
            HostEvent::ControlRequested { .. } => AuditEvent::ControlRequested,
            HostEvent::ControlGranted { .. } => AuditEvent::ControlGranted,
            HostEvent::ControlDenied { reason, .. } => AuditEvent::ControlDenied {
                reason: reason.as_str().to_owned(),
            },
            HostEvent::ControlRevoked { reason, .. } => AuditEvent::ControlRevoked {
                reason: reason.as_str().to_owned(),
            },
            HostEvent::Paused { .. } => AuditEvent::Paused,
            HostEvent::Resumed { .. } => AuditEvent::Resumed,
            HostEvent::Chat { text, .. } => AuditEvent::Chat {
                from: "helper".to_owned(),
                text: text.clone(),
            },
            HostEvent::Ended { conn, reason } => {
                let helper = self.helper_names.remove(conn).unwrap_or_default();
                if matches!(reason, EndReason::Denied | EndReason::ApprovalTimeout) {
                    AuditEvent::Denied {
                        helper,
                        reason: reason.as_str().to_owned(),
                    }
                } else {
                    AuditEvent::Ended {
                        reason: reason.as_str().to_owned(),
                    }
                }
            }
            HostEvent::InvitationClosed { reason } => AuditEvent::InvitationClosed {
                reason: reason.as_str().to_owned(),
            },
            _ => return,
        };
        self.audit(record);
    }

    fn audit(&mut self, event: AuditEvent) {
        let Some(log) = self.audit.as_mut() else {
            return;
        };
        if let Err(e) = log.record(AuditRecord::now(Some(self.session_id), event)) {
            tracing::warn!(error = %e, "cannot write the audit log");
        }
    }
}
