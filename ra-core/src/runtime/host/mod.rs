//! The host's async API: [`invite`] opens an invitation and returns a
//! [`HostSession`] whose events and commands drive the sans-IO
//! [`HostEndpoint`](crate::session::HostEndpoint) over QUIC.
//!
//! - this file: the options, the backends, the handles and [`invite`];
//! - `start`: starting a session's pipeline, injector and driver, and the
//!   feed of connections into it;
//! - `driver`: the task that drives the endpoint;
//! - `desk`: the host's desk backends as the driver runs them.

mod desk;
mod driver;
mod resume;
mod start;
mod ticket;

pub use resume::{ResumeOptions, resume, resume_from_file};
pub(crate) use start::{ConnectionFeed, HostStart, prepare_host, spawn_host};
pub(crate) use ticket::TicketRequest;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use super::code_flow::{BrokerOptions, open_rendezvous};
use super::controller::HostController;
use super::error::{InviteError, SessionError};
use super::event_queue::EventReceiver;
use super::tls::HostIdentity;
use crate::audit::AuditLog;
use crate::desk::HostDesk;
use crate::input::InputInjector;
use crate::invitation::{Invitation, SessionId};
use crate::media::{Capturer, DisplayId, Encoder};
use crate::password::Password;
use crate::policy::Policy;
use crate::session::{ConnectionId, HostCommand, HostEvent, OfferRecord};
use crate::stats::SessionStats;

use driver::SHUTDOWN_WAIT;

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
    /// How long a dark path to the helper is waited for before the session
    /// ends (capped at [`MAX_OUTAGE_GRACE`](crate::session::link::MAX_OUTAGE_GRACE));
    /// the connection's idle timeout is the smaller of both sides' grace
    /// plus 5 s. Default: 30 s.
    pub outage_grace: Duration,
    /// A broker for helpers that cannot reach the host's addresses (behind a
    /// NAT or a firewall): the invitation then carries a rendezvous there
    /// (a lookup part, never the password), and such a helper connects by
    /// hole punching or through the broker's relay. The broker may cap how
    /// long the rendezvous lasts (10 minutes by default); the invitation
    /// keeps working directly after that. Only [`BrokerOptions::broker`],
    /// `trust`, `connect_timeout`, `code_lifetime` and `try_direct` are
    /// used: the socket is `listen`'s. Ignored by the short-code flows.
    /// Default: none.
    pub rendezvous: Option<BrokerOptions>,
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
            outage_grace: crate::session::link::DEFAULT_OUTAGE_GRACE,
            rendezvous: None,
        }
    }
}

/// The host's backends: where pictures come from, how they are compressed,
/// where the helper's input goes, and the host's own desk.
pub struct HostBackends {
    /// The screen source.
    pub capturer: Box<dyn Capturer>,
    /// The video encoder.
    pub encoder: Box<dyn Encoder>,
    /// The input injector (called only under a control grant).
    pub injector: Box<dyn InputInjector>,
    /// The host's desk: panic key, local input, clipboard (each optional).
    pub desk: HostDesk,
    /// Finds the windows the redaction mask follows (policy
    /// `redact_windows`); without one, masking windows fails clearly.
    pub window_locator: Option<Box<dyn crate::media::WindowLocator>>,
}

impl HostBackends {
    /// The three media and input backends, with no desk.
    pub fn new(
        capturer: Box<dyn Capturer>,
        encoder: Box<dyn Encoder>,
        injector: Box<dyn InputInjector>,
    ) -> Self {
        HostBackends {
            capturer,
            encoder,
            injector,
            desk: HostDesk::default(),
            window_locator: None,
        }
    }
}

impl std::fmt::Debug for HostBackends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBackends")
            .field("desk", &self.desk)
            .finish_non_exhaustive()
    }
}

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

/// The commands and events of a host's session, however it was started (an
/// invitation, an Easy Connect code, a Quick Assist code). Its command
/// methods are one-line sends of [`HostCommand`]s through its
/// [`HostController`].
///
/// Dropping it (and every controller cloned from it) closes the invitation
/// and ends any session.
pub struct HostHandle {
    controller: HostController,
    events: EventReceiver<HostEvent>,
}

/// A host session's events, apart from its controller
/// ([`HostHandle::into_parts`]).
#[derive(Debug)]
pub struct HostEvents(EventReceiver<HostEvent>);

impl HostEvents {
    /// The next event; `None` once the invitation is closed and no session is left.
    pub async fn next(&mut self) -> Option<HostEvent> {
        self.0.recv().await
    }
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
    let prepared = prepare_host(backends, options.display)?;
    let identity = HostIdentity::generate()?;
    let server_config = identity.server_config(options.outage_grace)?;
    let lifetime = options.policy.cap_lifetime(options.lifetime);
    let (endpoint, rendezvous) = match &options.rendezvous {
        None => {
            let endpoint =
                quinn::Endpoint::server(server_config, options.listen).map_err(|source| {
                    InviteError::Bind {
                        addr: options.listen,
                        source,
                    }
                })?;
            (endpoint, None)
        }
        Some(broker) => {
            let (endpoint, rendezvous, wait) =
                open_rendezvous(options.listen, server_config, broker, lifetime).await?;
            (endpoint, Some((rendezvous, wait)))
        }
    };
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
    let mut invitation = Invitation::new(
        session_id,
        options.host_name.clone(),
        addresses,
        identity.fingerprint(),
        SystemTime::now(),
        lifetime,
    )?;
    let observer = rendezvous.map(|(rendezvous, wait)| {
        invitation.rendezvous = Some(rendezvous);
        wait.spawn()
    });
    let (handle, feed) = spawn_host(
        HostStart {
            session_id,
            host_name: options.host_name.clone(),
            secret: password.as_secret_bytes().to_vec().into(),
            lifetime,
            policy: options.policy.clone(),
            max_failed_attempts: None,
            audit_log: options.audit_log,
            endpoints: vec![endpoint.clone()],
            observer,
            offer: Some(OfferRecord {
                expires_at: invitation.expires_at,
                addresses: invitation.addresses.clone(),
            }),
            receipt_key: identity.receipt_key(),
            resume_contents: Some(ticket_contents(
                &identity,
                &options.host_name,
                local_addr,
                &invitation,
            )),
            resuming: None,
        },
        prepared,
    )?;
    tokio::spawn(accept_connections(endpoint, feed));
    Ok(HostSession {
        invitation,
        password,
        local_addr,
        handle,
    })
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
    pub(crate) fn new(controller: HostController, events: EventReceiver<HostEvent>) -> Self {
        HostHandle { controller, events }
    }

    /// A controller of this session: cheap to clone, for other tasks and
    /// threads (its blocking methods serve threads outside the runtime).
    pub fn controller(&self) -> &HostController {
        &self.controller
    }

    /// The session's statistics now (see [`Controller::stats`](super::Controller::stats):
    /// cheap enough for every frame).
    pub fn stats(&self) -> SessionStats {
        self.controller.stats()
    }

    /// The controller and the events apart, e.g. to read the events on one
    /// task and send commands from elsewhere. The session ends once the
    /// controller and every clone of it are dropped, whoever holds the events.
    pub fn into_parts(self) -> (HostController, HostEvents) {
        (self.controller, HostEvents(self.events))
    }

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
        self.controller.send(HostCommand::Approve(conn)).await
    }

    /// Turns a helper away.
    ///
    /// # Errors
    /// [`SessionError::Command`] if the request is no longer pending.
    pub async fn deny(&self, conn: ConnectionId) -> Result<(), SessionError> {
        self.controller.send(HostCommand::Deny(conn)).await
    }

    /// Grants control after [`HostEvent::ControlRequested`].
    ///
    /// # Errors
    /// [`SessionError::Command`] with [`CommandError::Policy`] when the policy
    /// forbids control, or when no request is pending.
    pub async fn grant_control(&self, conn: ConnectionId) -> Result<(), SessionError> {
        self.controller.send(HostCommand::GrantControl(conn)).await
    }

    /// Grants control of `scopes` (of what the helper asked for) for
    /// `duration` (`None`: until revoked; the policy caps it).
    ///
    /// # Errors
    /// As [`HostHandle::grant_control`], and when the grant would cover
    /// nothing or last no time.
    pub async fn grant_control_with(
        &self,
        conn: ConnectionId,
        scopes: crate::session::ControlScopes,
        duration: Option<Duration>,
    ) -> Result<(), SessionError> {
        self.controller
            .send(HostCommand::GrantControlWith {
                conn,
                scopes,
                duration,
            })
            .await
    }

    /// Denies a control request.
    ///
    /// # Errors
    /// [`SessionError::Command`] when no request is pending.
    pub async fn deny_control(&self, conn: ConnectionId) -> Result<(), SessionError> {
        self.controller.send(HostCommand::DenyControl(conn)).await
    }

    /// Takes control back at once; every key and button the helper held is released.
    ///
    /// # Errors
    /// [`SessionError::Command`] when control is not granted.
    pub async fn revoke(&self) -> Result<(), SessionError> {
        self.controller.send(HostCommand::Revoke).await
    }

    /// Takes control back because the local panic key was pressed.
    ///
    /// # Errors
    /// [`SessionError::Command`] when control is not granted.
    pub async fn revoke_panic_key(&self) -> Result<(), SessionError> {
        self.controller.send(HostCommand::RevokePanicKey).await
    }

    /// Pauses: the screen is no longer shared and control is revoked.
    ///
    /// # Errors
    /// [`SessionError::Command`] without a live session or when paused already.
    pub async fn pause(&self) -> Result<(), SessionError> {
        self.controller.send(HostCommand::Pause).await
    }

    /// Resumes sharing the screen (control stays revoked).
    ///
    /// # Errors
    /// [`SessionError::Command`] when not paused.
    pub async fn resume(&self) -> Result<(), SessionError> {
        self.controller.send(HostCommand::Resume).await
    }

    /// Sends a chat message to the helper.
    ///
    /// # Errors
    /// [`SessionError::Command`] without a live session or for empty/too long text.
    pub async fn chat(&self, text: impl Into<String>) -> Result<(), SessionError> {
        self.controller.send(HostCommand::Chat(text.into())).await
    }

    /// Ends the current session. The invitation stays open until it expires
    /// or [`HostHandle::close_invitation`].
    ///
    /// # Errors
    /// [`SessionError::Command`] when there is no session.
    pub async fn end(&self) -> Result<(), SessionError> {
        self.controller.send(HostCommand::End).await
    }

    /// Stops taking connections; a live session continues.
    ///
    /// # Errors
    /// [`SessionError::Closed`] if the driver has stopped.
    pub async fn close_invitation(&self) -> Result<(), SessionError> {
        self.controller.send(HostCommand::CloseInvitation).await
    }

    /// Applies a new policy at once (see [`HostEndpoint::set_policy`]).
    ///
    /// # Errors
    /// [`SessionError::Closed`] if the driver has stopped.
    pub async fn set_policy(&self, policy: Policy) -> Result<(), SessionError> {
        self.controller.send(HostCommand::SetPolicy(policy)).await
    }

    /// Turns clipboard sharing (text, both ways) on or off.
    ///
    /// # Errors
    /// [`SessionError::Command`] with [`CommandError::Policy`] when the policy
    /// does not allow the clipboard, or without a live session.
    pub async fn set_clipboard_sharing(&self, enabled: bool) -> Result<(), SessionError> {
        self.controller
            .send(HostCommand::SetClipboardSharing(enabled))
            .await
    }

    /// Sends the host's clipboard text to the helper (sharing must be on).
    ///
    /// # Errors
    /// [`SessionError::Command`] when sharing is off or the text too long.
    pub async fn send_clipboard(&self, text: impl Into<String>) -> Result<(), SessionError> {
        self.controller
            .send(HostCommand::SendClipboard(text.into()))
            .await
    }

    /// Masks these desktop rectangles besides the policy's `redact` (an
    /// empty list unmasks them): from the next picture on they are black,
    /// the helper is told, and pointer input inside them is dropped.
    ///
    /// # Errors
    /// [`SessionError::Command`] with [`CommandError::InvalidArgument`] for
    /// an empty rectangle or too many.
    pub async fn set_redactions(&self, rects: Vec<crate::media::Rect>) -> Result<(), SessionError> {
        self.controller
            .send(HostCommand::SetRedactions(rects))
            .await
    }

    /// Masks the windows of these classes (X11 `WM_CLASS`) wherever they
    /// are, besides the policy's `redact_windows` (an empty list stops
    /// following the application's).
    ///
    /// # Errors
    /// [`SessionError::Command`] with [`CommandError::InvalidArgument`] for
    /// an empty or too long class, or too many.
    pub async fn set_redacted_windows(&self, classes: Vec<String>) -> Result<(), SessionError> {
        self.controller
            .send(HostCommand::SetRedactedWindows(classes))
            .await
    }

    /// The local user is using the mouse or keyboard: ignore the helper's
    /// input for `duration` and release what it holds ("local user wins").
    ///
    /// # Errors
    /// [`SessionError::Closed`] if the driver has stopped.
    pub async fn local_input_seen(&self, duration: Duration) -> Result<(), SessionError> {
        self.controller
            .send(HostCommand::LocalInputSeen(duration))
            .await
    }

    /// Ends any session, closes the invitation, and waits (briefly) until the
    /// helper was told, so the program may exit right after.
    pub async fn shutdown(self) {
        let _ = tokio::time::timeout(2 * SHUTDOWN_WAIT, self.controller.shutdown()).await;
    }
}

struct EventStream<'a, T>(&'a mut EventReceiver<T>);

impl<T> futures_core::Stream for EventStream<'_, T> {
    type Item = T;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

/// What the session's resume tickets hold.
fn ticket_contents(
    identity: &HostIdentity,
    host_name: &str,
    listen: SocketAddr,
    invitation: &Invitation,
) -> crate::resume::TicketContents {
    let (certificate, private_key) = identity.to_der();
    crate::resume::TicketContents {
        session_id: invitation.session_id,
        host_name: host_name.to_owned(),
        certificate,
        private_key,
        listen,
        addresses: invitation.addresses.clone(),
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
