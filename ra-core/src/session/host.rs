//! The host's side: one open invitation and the connections made to it.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use prost::Message as _;

use super::auth::{ChannelBinding, HostPake};
use super::framing::FrameDecoder;
use super::types::{
    CommandError, ConnectionId, ControlState, DenyReason, EndReason, GrantId,
    InvitationCloseReason, PointerKind, RevokeReason, SessionRng,
};
use super::wire::{
    MAX_CHAT_LEN, MAX_CLIPBOARD_LEN, MAX_CONTROL_MESSAGE, MAX_INPUT_MESSAGE, MAX_NAME_LEN,
    cursor_to_wire, decode_input_event, deny_reason_to_wire, end_reason_from_wire,
    end_reason_to_wire, envelope, pointer_kind_from_wire, revoke_reason_to_wire,
    sanitize_display_text,
};
use crate::input::InputEvent;
use crate::invitation::SessionId;
use crate::media::{CursorUpdate, DisplayId, DisplayInfo, Rect};
use crate::policy::Policy;
use crate::proto::{self, PROTOCOL_VERSION, envelope::Message};

/// Presses (keys, buttons, wheel, each character of text) a helper may send in
/// a burst, and per second after it: far above human speed, far below what
/// freezes a desktop. Releases of what is held and pointer positions always
/// pass, so nothing stays stuck; releases of what is not held are dropped, so
/// they cannot be a flood of their own.
const PRESS_BURST: f64 = 400.0;
const PRESS_RATE: f64 = 200.0;

/// Connections that may be authenticating at once; more are refused as busy,
/// so a flood of half-open connections cannot exhaust the host.
const MAX_PENDING_CONNECTIONS: usize = 16;

/// What a host endpoint needs to know about its invitation.
pub struct HostConfig {
    /// The invitation's session id.
    pub session_id: SessionId,
    /// The name shown to the helper.
    pub host_name: String,
    /// The password's secret bytes (what the PAKE runs over).
    pub secret: Vec<u8>,
    /// How long from now the invitation stays open (capped by the policy).
    pub expires_in: Duration,
    /// The host's policy.
    pub policy: Policy,
    /// Failed password attempts after which the invitation closes.
    pub max_failed_attempts: u32,
    /// How long a connection may take to say hello and authenticate.
    pub auth_timeout: Duration,
}

impl HostConfig {
    /// A configuration with the default limits: 5 failed attempts, 10 s to authenticate.
    pub fn new(
        session_id: SessionId,
        host_name: impl Into<String>,
        secret: impl Into<Vec<u8>>,
        expires_in: Duration,
        policy: Policy,
    ) -> Self {
        HostConfig {
            session_id,
            host_name: host_name.into(),
            secret: secret.into(),
            expires_in,
            policy,
            max_failed_attempts: 5,
            auth_timeout: Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostConfig")
            .field("session_id", &self.session_id)
            .field("host_name", &self.host_name)
            .field("expires_in", &self.expires_in)
            .field("policy", &self.policy)
            .field("max_failed_attempts", &self.max_failed_attempts)
            .field("auth_timeout", &self.auth_timeout)
            .finish_non_exhaustive()
    }
}

/// Something the host application should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostEvent {
    /// A helper proved it knows the password and asks to connect; answer with
    /// [`HostEndpoint::approve`] or [`HostEndpoint::deny`].
    ConnectionRequest {
        /// The connection.
        conn: ConnectionId,
        /// The name the helper gave (sanitized; not authenticated).
        helper_name: String,
        /// The helper's network address.
        peer: SocketAddr,
    },
    /// A password attempt failed.
    AuthFailed {
        /// The connection.
        conn: ConnectionId,
        /// Where it came from.
        peer: SocketAddr,
        /// Failed attempts so far on this invitation.
        attempts: u32,
        /// Failed attempts that close the invitation.
        max_attempts: u32,
    },
    /// The host approved; the helper now sees the screen (view only).
    Connected {
        /// The connection.
        conn: ConnectionId,
        /// The helper's name.
        helper_name: String,
    },
    /// The helper asks for control; answer with [`HostEndpoint::grant_control`]
    /// or [`HostEndpoint::deny_control`].
    ControlRequested {
        /// The connection.
        conn: ConnectionId,
    },
    /// Control was granted.
    ControlGranted {
        /// The connection.
        conn: ConnectionId,
        /// The grant.
        grant: GrantId,
    },
    /// A control request was denied (by the user, or by the policy without asking).
    ControlDenied {
        /// The connection.
        conn: ConnectionId,
        /// Why.
        reason: DenyReason,
    },
    /// Control was taken back.
    ControlRevoked {
        /// The connection.
        conn: ConnectionId,
        /// Why.
        reason: RevokeReason,
    },
    /// The session is paused: no video, no control.
    Paused {
        /// The connection.
        conn: ConnectionId,
    },
    /// The session resumed.
    Resumed {
        /// The connection.
        conn: ConnectionId,
    },
    /// The helper wrote a chat message.
    Chat {
        /// The connection.
        conn: ConnectionId,
        /// The message.
        text: String,
    },
    /// The helper points at something on the screen.
    Pointer {
        /// The connection.
        conn: ConnectionId,
        /// Horizontal position in the captured display.
        x: i32,
        /// Vertical position in the captured display.
        y: i32,
        /// What the mark means.
        kind: PointerKind,
    },
    /// Clipboard sharing was turned on or off.
    ClipboardSharing {
        /// The connection.
        conn: ConnectionId,
        /// Whether text now flows both ways.
        enabled: bool,
    },
    /// The helper's clipboard changed: put this text on the host's clipboard.
    Clipboard {
        /// The connection.
        conn: ConnectionId,
        /// The text.
        text: String,
    },
    /// A session that had asked to connect is over.
    Ended {
        /// The connection.
        conn: ConnectionId,
        /// Why.
        reason: EndReason,
    },
    /// The invitation takes no more connections.
    InvitationClosed {
        /// Why.
        reason: InvitationCloseReason,
    },
}

/// What the driver must send or do on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostTransmit {
    /// Bytes for the control stream.
    Control(Vec<u8>),
    /// Close the connection (after the control bytes queued before it are sent).
    Close {
        /// Why.
        reason: EndReason,
    },
}

/// What the driver must do with the input injector, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Injection {
    /// Inject this event.
    Inject(InputEvent),
    /// Release every key and button the helper holds.
    ReleaseAll,
}

/// What the driver must do with the capture/encode pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaCommand {
    /// Start sending video to the connection.
    Start {
        /// The connection.
        conn: ConnectionId,
    },
    /// Stop sending video.
    Stop {
        /// The connection.
        conn: ConnectionId,
    },
    /// Send a keyframe next.
    Keyframe {
        /// The connection.
        conn: ConnectionId,
    },
    /// Capture another display.
    SelectDisplay {
        /// The connection.
        conn: ConnectionId,
        /// The display.
        display: DisplayId,
    },
}

/// A key or button the helper holds down on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Held {
    Key(crate::keys::KeyCode),
    Button(crate::input::MouseButton),
}

enum Phase {
    AwaitHello {
        deadline: Instant,
    },
    AwaitConfirm {
        pake: HostPake,
        helper_name: String,
        deadline: Instant,
    },
    AwaitApproval {
        helper_name: String,
        deadline: Instant,
    },
    Active {
        helper_name: String,
        control: ControlState,
        paused: bool,
        clipboard: bool,
    },
}

impl Phase {
    fn is_authenticated(&self) -> bool {
        matches!(self, Phase::AwaitApproval { .. } | Phase::Active { .. })
    }
}

struct Connection {
    peer: SocketAddr,
    binding: ChannelBinding,
    control_rx: FrameDecoder,
    input_rx: FrameDecoder,
    phase: Phase,
}

/// The host's sans-IO state: one invitation, its connections, its policy.
pub struct HostEndpoint {
    session_id: SessionId,
    host_name: String,
    secret: Vec<u8>,
    policy: Policy,
    max_failed_attempts: u32,
    auth_timeout: Duration,
    created_at: Instant,
    expires_at: Instant,
    closed: Option<InvitationCloseReason>,
    failed_attempts: u32,
    connections: BTreeMap<ConnectionId, Connection>,
    /// The connection that passed authentication (awaiting approval or live).
    active: Option<ConnectionId>,
    next_grant: u32,
    input_dropped: u64,
    /// Where absolute pointer positions land on the host's desktop.
    capture_area: Option<Rect>,
    /// The size of the pictures sent, when known.
    picture_size: Option<(u32, u32)>,
    /// Remote input is ignored until then (the local user is busy).
    input_suspended_until: Option<Instant>,
    press_tokens: f64,
    tokens_at: Instant,
    /// Keys and buttons injected as pressed and not yet released.
    held: HashSet<Held>,
    rng: Box<dyn SessionRng>,
    events: VecDeque<HostEvent>,
    transmits: VecDeque<(ConnectionId, HostTransmit)>,
    injections: VecDeque<Injection>,
    media: VecDeque<MediaCommand>,
}

impl std::fmt::Debug for HostEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostEndpoint")
            .field("session_id", &self.session_id)
            .field("closed", &self.closed)
            .field("failed_attempts", &self.failed_attempts)
            .field("connections", &self.connections.len())
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl HostEndpoint {
    /// Opens the invitation at `now`.
    pub fn new(config: HostConfig, now: Instant, rng: Box<dyn SessionRng>) -> Self {
        let lifetime = config.policy.cap_lifetime(config.expires_in);
        let mut endpoint = HostEndpoint {
            session_id: config.session_id,
            host_name: sanitize_display_text(&config.host_name, MAX_NAME_LEN),
            secret: config.secret,
            max_failed_attempts: config.max_failed_attempts.max(1),
            auth_timeout: config.auth_timeout,
            created_at: now,
            expires_at: now + lifetime,
            closed: None,
            failed_attempts: 0,
            connections: BTreeMap::new(),
            active: None,
            next_grant: 1,
            input_dropped: 0,
            capture_area: None,
            picture_size: None,
            input_suspended_until: None,
            press_tokens: PRESS_BURST,
            tokens_at: now,
            held: HashSet::new(),
            rng,
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            injections: VecDeque::new(),
            media: VecDeque::new(),
            policy: config.policy,
        };
        if !endpoint.policy.allow_assistance {
            endpoint.close_invitation_for(now, InvitationCloseReason::Policy);
        }
        endpoint
    }

    // ----- inputs from the network -----

    /// A new connection arrived (its TLS handshake completed).
    pub fn handle_connect(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        peer: SocketAddr,
        binding: ChannelBinding,
    ) {
        let pending = self
            .connections
            .values()
            .filter(|c| !c.phase.is_authenticated())
            .count();
        if pending >= MAX_PENDING_CONNECTIONS || self.connections.contains_key(&conn) {
            self.transmits.push_back((
                conn,
                HostTransmit::Close {
                    reason: EndReason::Busy,
                },
            ));
            return;
        }
        self.connections.insert(
            conn,
            Connection {
                peer,
                binding,
                control_rx: FrameDecoder::new(MAX_CONTROL_MESSAGE),
                input_rx: FrameDecoder::new(MAX_INPUT_MESSAGE),
                phase: Phase::AwaitHello {
                    deadline: now + self.auth_timeout,
                },
            },
        );
    }

    /// Bytes arrived on the connection's control stream.
    pub fn handle_control_data(&mut self, now: Instant, conn: ConnectionId, data: &[u8]) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        c.control_rx.push(data);
        loop {
            let Some(c) = self.connections.get_mut(&conn) else {
                return;
            };
            match c.control_rx.next_message() {
                Ok(Some(bytes)) => match proto::Envelope::decode(bytes) {
                    Ok(envelope) => self.handle_envelope(now, conn, envelope.message),
                    Err(e) => {
                        tracing::debug!(%conn, error = %e, "undecodable control message");
                        self.violation(now, conn);
                    }
                },
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(%conn, error = %e, "broken control stream");
                    self.violation(now, conn);
                }
            }
        }
    }

    /// Bytes arrived on the connection's input stream.
    pub fn handle_input_data(&mut self, now: Instant, conn: ConnectionId, data: &[u8]) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        if !c.phase.is_authenticated() {
            tracing::debug!(%conn, "input stream before authentication");
            self.violation(now, conn);
            return;
        }
        c.input_rx.push(data);
        loop {
            let Some(c) = self.connections.get_mut(&conn) else {
                return;
            };
            let batch = match c.input_rx.next_message() {
                Ok(Some(bytes)) => match proto::InputBatch::decode(bytes) {
                    Ok(batch) => batch,
                    Err(e) => {
                        tracing::debug!(%conn, error = %e, "undecodable input batch");
                        self.violation(now, conn);
                        return;
                    }
                },
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(%conn, error = %e, "broken input stream");
                    self.violation(now, conn);
                    return;
                }
            };
            let allowed = matches!(
                c.phase,
                Phase::Active { control: ControlState::Granted(GrantId(g)), paused: false, .. }
                    if g == batch.grant_id
            ) && self.input_suspended_until.is_none_or(|until| now >= until);
            if !allowed {
                self.input_dropped += batch.events.len() as u64;
                continue;
            }
            self.deliver_input(now, &batch.events);
        }
    }

    /// Injects a batch under a grant: invalid events are skipped, absolute
    /// positions are mapped onto (and kept inside) the captured area, and
    /// presses beyond the rate limit are dropped.
    fn deliver_input(&mut self, now: Instant, events: &[proto::InputEvent]) {
        let elapsed = now.saturating_duration_since(self.tokens_at).as_secs_f64();
        self.tokens_at = now;
        self.press_tokens = (self.press_tokens + elapsed * PRESS_RATE).min(PRESS_BURST);
        for event in events {
            let Some(event) = decode_input_event(event) else {
                self.input_dropped += 1;
                continue;
            };
            let event = match event {
                InputEvent::PointerMove { x, y } => self.map_to_desktop(x, y),
                InputEvent::Button { .. }
                | InputEvent::Key { .. }
                | InputEvent::Wheel { .. }
                | InputEvent::Text { .. } => {
                    if !self.admit(&event) {
                        self.input_dropped += 1;
                        continue;
                    }
                    event
                }
                other => other,
            };
            self.injections.push_back(Injection::Inject(event));
        }
    }

    /// Whether a press, release, wheel step or text passes the rate limit
    /// (a release passes when what it releases is held); keeps `held` up to
    /// date for those that pass.
    fn admit(&mut self, event: &InputEvent) -> bool {
        let (held, pressed, cost) = match event {
            InputEvent::Key { code, pressed } => (Some(Held::Key(*code)), *pressed, 1.0),
            InputEvent::Button { button, pressed } => (Some(Held::Button(*button)), *pressed, 1.0),
            // Each character is a key press for the desktop.
            InputEvent::Text { text } => (None, true, text.chars().count().max(1) as f64),
            _ => (None, true, 1.0),
        };
        if !pressed {
            return held.is_some_and(|h| self.held.remove(&h));
        }
        if self.press_tokens < cost {
            return false;
        }
        self.press_tokens -= cost;
        if let Some(h) = held {
            self.held.insert(h);
        }
        true
    }

    /// Queues a release of everything held; nothing is held after it.
    fn release_all_input(&mut self) {
        self.held.clear();
        self.injections.push_back(Injection::ReleaseAll);
    }

    /// A position in the helper's picture as a position on the desktop:
    /// scaled when the picture's pixels are not the desktop's (a HiDPI screen
    /// captured in physical pixels on a desktop in logical ones, or the
    /// other way round), then offset to the captured display and kept in it.
    fn map_to_desktop(&self, x: i32, y: i32) -> InputEvent {
        match self.capture_area {
            Some(area) if !area.is_empty() => {
                let (picture_width, picture_height) = self
                    .picture_size
                    .filter(|&(w, h)| w > 0 && h > 0)
                    .unwrap_or((area.width, area.height));
                let scale = |v: i32, picture: u32, desktop: u32| -> i32 {
                    let clamped = i64::from(v).clamp(0, i64::from(picture) - 1);
                    let scaled = clamped * i64::from(desktop) / i64::from(picture);
                    i32::try_from(scaled.min(i64::from(desktop) - 1)).unwrap_or(i32::MAX)
                };
                InputEvent::PointerMove {
                    x: area.x.saturating_add(scale(x, picture_width, area.width)),
                    y: area.y.saturating_add(scale(y, picture_height, area.height)),
                }
            }
            _ => InputEvent::PointerMove { x, y },
        }
    }

    /// The connection is gone (closed by the peer, idle timeout, network error).
    pub fn handle_connection_lost(&mut self, now: Instant, conn: ConnectionId) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        if matches!(c.phase, Phase::AwaitConfirm { .. }) {
            self.fail_authentication(now, conn, EndReason::ConnectionLost);
        } else {
            self.end_connection(now, conn, EndReason::ConnectionLost, false);
        }
    }

    /// Runs the timers that are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed.is_none() && now >= self.expires_at {
            self.close_invitation_for(now, InvitationCloseReason::Expired);
        }
        let due: Vec<(ConnectionId, bool)> = self
            .connections
            .iter()
            .filter_map(|(&id, c)| match &c.phase {
                Phase::AwaitHello { deadline } | Phase::AwaitApproval { deadline, .. }
                    if now >= *deadline =>
                {
                    Some((id, false))
                }
                Phase::AwaitConfirm { deadline, .. } if now >= *deadline => Some((id, true)),
                _ => None,
            })
            .collect();
        for (conn, authenticating) in due {
            if authenticating {
                self.fail_authentication(now, conn, EndReason::AuthTimeout);
            } else if matches!(
                self.connections.get(&conn).map(|c| &c.phase),
                Some(Phase::AwaitApproval { .. })
            ) {
                self.end_connection(now, conn, EndReason::ApprovalTimeout, true);
            } else {
                self.end_connection(now, conn, EndReason::AuthTimeout, true);
            }
        }
    }

    // ----- commands from the host application -----

    /// Lets the helper in (view only).
    ///
    /// # Errors
    /// [`CommandError::NoSession`] if the connection is gone,
    /// [`CommandError::InvalidState`] if it is not waiting for approval.
    pub fn approve(&mut self, _now: Instant, conn: ConnectionId) -> Result<(), CommandError> {
        let c = self
            .connections
            .get_mut(&conn)
            .ok_or(CommandError::NoSession)?;
        let Phase::AwaitApproval { helper_name, .. } = &mut c.phase else {
            return Err(CommandError::InvalidState(
                "the connection is not waiting for approval",
            ));
        };
        let helper_name = std::mem::take(helper_name);
        c.phase = Phase::Active {
            helper_name: helper_name.clone(),
            control: ControlState::None,
            paused: false,
            clipboard: false,
        };
        self.send(conn, Message::Approved(proto::Approved {}));
        self.events
            .push_back(HostEvent::Connected { conn, helper_name });
        self.media.push_back(MediaCommand::Start { conn });
        self.media.push_back(MediaCommand::Keyframe { conn });
        Ok(())
    }

    /// Turns the helper away.
    ///
    /// # Errors
    /// As for [`HostEndpoint::approve`].
    pub fn deny(&mut self, now: Instant, conn: ConnectionId) -> Result<(), CommandError> {
        let c = self.connections.get(&conn).ok_or(CommandError::NoSession)?;
        if !matches!(c.phase, Phase::AwaitApproval { .. }) {
            return Err(CommandError::InvalidState(
                "the connection is not waiting for approval",
            ));
        }
        self.end_connection(now, conn, EndReason::Denied, true);
        Ok(())
    }

    /// Gives the helper control, answering its request.
    ///
    /// # Errors
    /// [`CommandError::Policy`] when the policy forbids control,
    /// [`CommandError::InvalidState`] when no request is pending or the session is paused.
    pub fn grant_control(&mut self, _now: Instant, conn: ConnectionId) -> Result<(), CommandError> {
        if !self.policy.allow_control {
            return Err(CommandError::Policy);
        }
        let grant = GrantId(self.next_grant);
        let c = self
            .connections
            .get_mut(&conn)
            .ok_or(CommandError::NoSession)?;
        let Phase::Active {
            control, paused, ..
        } = &mut c.phase
        else {
            return Err(CommandError::InvalidState("the session is not live"));
        };
        if *paused {
            return Err(CommandError::InvalidState("the session is paused"));
        }
        if *control != ControlState::Requested {
            return Err(CommandError::InvalidState(
                "the helper has not asked for control",
            ));
        }
        *control = ControlState::Granted(grant);
        self.next_grant = self.next_grant.wrapping_add(1).max(1);
        self.send(
            conn,
            Message::ControlDecision(proto::ControlDecision {
                granted: true,
                grant_id: grant.0,
                reason: proto::DenyReason::Unspecified.into(),
            }),
        );
        self.events
            .push_back(HostEvent::ControlGranted { conn, grant });
        Ok(())
    }

    /// Refuses the helper's control request.
    ///
    /// # Errors
    /// [`CommandError::InvalidState`] when no request is pending.
    pub fn deny_control(&mut self, _now: Instant, conn: ConnectionId) -> Result<(), CommandError> {
        let c = self.connections.get(&conn).ok_or(CommandError::NoSession)?;
        if !matches!(
            c.phase,
            Phase::Active {
                control: ControlState::Requested,
                ..
            }
        ) {
            return Err(CommandError::InvalidState(
                "the helper has not asked for control",
            ));
        }
        self.deny_control_for(conn, DenyReason::ByUser);
        Ok(())
    }

    /// Takes control back from the helper at once.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] without a live session,
    /// [`CommandError::InvalidState`] when control is not granted.
    pub fn revoke(&mut self, _now: Instant) -> Result<(), CommandError> {
        self.revoke_active(RevokeReason::ByUser)
    }

    /// Takes control back because the host pressed the local panic key.
    ///
    /// # Errors
    /// As for [`HostEndpoint::revoke`].
    pub fn revoke_panic_key(&mut self, _now: Instant) -> Result<(), CommandError> {
        self.revoke_active(RevokeReason::PanicKey)
    }

    /// Pauses the session: video stops, control is revoked.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] without a live session,
    /// [`CommandError::InvalidState`] when already paused.
    pub fn pause(&mut self, _now: Instant) -> Result<(), CommandError> {
        let conn = self.live_connection()?;
        let c = self
            .connections
            .get_mut(&conn)
            .ok_or(CommandError::NoSession)?;
        let Phase::Active {
            control, paused, ..
        } = &mut c.phase
        else {
            return Err(CommandError::NoSession);
        };
        if *paused {
            return Err(CommandError::InvalidState("the session is paused already"));
        }
        *paused = true;
        let previous = *control;
        match previous {
            ControlState::Granted(_) => self.revoke_for(conn, RevokeReason::Paused),
            ControlState::Requested => self.deny_control_for(conn, DenyReason::Paused),
            ControlState::None => {}
        }
        self.release_all_input();
        self.send(
            conn,
            Message::PauseState(proto::PauseState { paused: true }),
        );
        self.events.push_back(HostEvent::Paused { conn });
        self.media.push_back(MediaCommand::Stop { conn });
        Ok(())
    }

    /// Resumes a paused session (control stays revoked).
    ///
    /// # Errors
    /// [`CommandError::NoSession`] without a live session,
    /// [`CommandError::InvalidState`] when not paused.
    pub fn resume(&mut self, _now: Instant) -> Result<(), CommandError> {
        let conn = self.live_connection()?;
        let Some(Connection {
            phase: Phase::Active { paused, .. },
            ..
        }) = self.connections.get_mut(&conn)
        else {
            return Err(CommandError::NoSession);
        };
        if !*paused {
            return Err(CommandError::InvalidState("the session is not paused"));
        }
        *paused = false;
        self.send(
            conn,
            Message::PauseState(proto::PauseState { paused: false }),
        );
        self.events.push_back(HostEvent::Resumed { conn });
        self.media.push_back(MediaCommand::Start { conn });
        self.media.push_back(MediaCommand::Keyframe { conn });
        Ok(())
    }

    /// Sends a chat message to the helper.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] without a live session,
    /// [`CommandError::InvalidArgument`] when the text is empty or too long.
    pub fn chat(&mut self, _now: Instant, text: &str) -> Result<(), CommandError> {
        check_chat(text)?;
        let conn = self.live_connection()?;
        self.send(
            conn,
            Message::Chat(proto::Chat {
                text: text.to_owned(),
            }),
        );
        Ok(())
    }

    /// Ends the current session (awaiting approval or live). The invitation
    /// stays open until it expires or [`HostEndpoint::close_invitation`].
    ///
    /// # Errors
    /// [`CommandError::NoSession`] when there is none.
    pub fn end(&mut self, now: Instant) -> Result<(), CommandError> {
        let conn = self.active.ok_or(CommandError::NoSession)?;
        self.end_connection(now, conn, EndReason::HostEnded, true);
        Ok(())
    }

    /// Tells the live helper which displays it can watch and which one it sees.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] if the connection is not live.
    pub fn announce_displays(
        &mut self,
        _now: Instant,
        conn: ConnectionId,
        displays: &[DisplayInfo],
        selected: DisplayId,
    ) -> Result<(), CommandError> {
        if !matches!(
            self.connections.get(&conn).map(|c| &c.phase),
            Some(Phase::Active { .. })
        ) {
            return Err(CommandError::NoSession);
        }
        let displays = displays
            .iter()
            .map(|d| proto::Display {
                id: d.id.0,
                name: d.name.clone(),
                bounds: Some(proto::Rect {
                    x: d.bounds.x,
                    y: d.bounds.y,
                    width: d.bounds.width,
                    height: d.bounds.height,
                }),
                primary: d.primary,
            })
            .collect();
        self.send(
            conn,
            Message::DisplayList(proto::DisplayList {
                displays,
                selected: selected.0,
            }),
        );
        Ok(())
    }

    /// Where the captured display lies on the host's desktop: absolute pointer
    /// positions from the helper are mapped onto it and kept inside it, so a
    /// helper cannot click on a display it does not see.
    pub fn set_capture_area(&mut self, area: Rect) {
        self.capture_area = Some(area);
    }

    /// The size of the pictures the helper is sent, when it differs from the
    /// captured area's (see [`HostEndpoint::set_capture_area`]): positions in
    /// the picture are scaled onto the area.
    pub fn set_picture_size(&mut self, width: u32, height: u32) {
        self.picture_size = Some((width, height));
    }

    /// Ignores remote input until `now + duration` because the local user is
    /// using the mouse or keyboard ("local user wins"); keys and buttons the
    /// helper held are released.
    pub fn suspend_remote_input(&mut self, now: Instant, duration: Duration) {
        let already = self.input_suspended_until.is_some_and(|until| now < until);
        self.input_suspended_until = Some(now + duration);
        let granted = self
            .active
            .and_then(|conn| self.control_state(conn))
            .is_some_and(|c| matches!(c, ControlState::Granted(_)));
        if granted && !already {
            self.release_all_input();
        }
    }

    /// Sends the pointer's position (and shape, when it changed) to a live,
    /// unpaused helper.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] when the connection does not receive video.
    pub fn send_cursor(
        &mut self,
        _now: Instant,
        conn: ConnectionId,
        update: &CursorUpdate,
    ) -> Result<(), CommandError> {
        if !self.video_allowed(conn) {
            return Err(CommandError::NoSession);
        }
        self.send(conn, Message::Cursor(cursor_to_wire(update)));
        Ok(())
    }

    /// Turns clipboard sharing (text, both ways) on or off for the live session.
    ///
    /// # Errors
    /// [`CommandError::Policy`] when the policy does not allow the clipboard,
    /// [`CommandError::NoSession`] without a live session.
    pub fn set_clipboard_sharing(
        &mut self,
        _now: Instant,
        enabled: bool,
    ) -> Result<(), CommandError> {
        if enabled && !self.policy.allow_clipboard {
            return Err(CommandError::Policy);
        }
        let conn = self.live_connection()?;
        self.clipboard_sharing_for(conn, enabled);
        Ok(())
    }

    /// Sends the host's clipboard text to the helper.
    ///
    /// # Errors
    /// [`CommandError::InvalidState`] unless sharing is on and the session
    /// unpaused; [`CommandError::InvalidArgument`] for text over the limit.
    pub fn send_clipboard(&mut self, _now: Instant, text: &str) -> Result<(), CommandError> {
        if text.len() > MAX_CLIPBOARD_LEN {
            return Err(CommandError::InvalidArgument("clipboard text is too long"));
        }
        let conn = self.live_connection()?;
        if !self.clipboard_open(conn) {
            return Err(CommandError::InvalidState("clipboard sharing is off"));
        }
        self.send(
            conn,
            Message::Clipboard(proto::Clipboard {
                text: text.to_owned(),
            }),
        );
        Ok(())
    }

    /// Stops taking new connections. A live session continues.
    pub fn close_invitation(&mut self, now: Instant) {
        self.close_invitation_for(now, InvitationCloseReason::ClosedByHost);
    }

    /// Applies a new policy at once: turning assistance off ends the session and
    /// closes the invitation; turning control off revokes a grant and denies a
    /// pending request; a shorter lifetime brings the expiry forward.
    pub fn set_policy(&mut self, now: Instant, policy: Policy) {
        self.policy = policy;
        if !self.policy.allow_assistance {
            if let Some(conn) = self.active {
                self.end_connection(now, conn, EndReason::Policy, true);
            }
            self.close_invitation_for(now, InvitationCloseReason::Policy);
            return;
        }
        if !self.policy.allow_clipboard
            && let Some(conn) = self.active
            && let Some(Connection {
                phase: Phase::Active {
                    clipboard: true, ..
                },
                ..
            }) = self.connections.get(&conn)
        {
            self.clipboard_sharing_for(conn, false);
        }
        if !self.policy.allow_control
            && let Some(conn) = self.active
            && let Some(Connection {
                phase: Phase::Active { control, .. },
                ..
            }) = self.connections.get(&conn)
        {
            match *control {
                ControlState::Granted(_) => self.revoke_for(conn, RevokeReason::Policy),
                ControlState::Requested => self.deny_control_for(conn, DenyReason::Policy),
                ControlState::None => {}
            }
        }
        let capped = self.created_at + self.policy.max_invitation_lifetime;
        if capped < self.expires_at {
            self.expires_at = capped;
        }
        self.handle_timeout(now);
    }

    // ----- outputs -----

    /// The next thing to send or do on a connection.
    pub fn poll_transmit(&mut self) -> Option<(ConnectionId, HostTransmit)> {
        self.transmits.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<HostEvent> {
        self.events.pop_front()
    }

    /// The next command for the input injector.
    pub fn poll_injection(&mut self) -> Option<Injection> {
        self.injections.pop_front()
    }

    /// The next command for the media pipeline.
    pub fn poll_media(&mut self) -> Option<MediaCommand> {
        self.media.pop_front()
    }

    /// When [`HostEndpoint::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let expiry = self.closed.is_none().then_some(self.expires_at);
        let deadlines = self.connections.values().filter_map(|c| match &c.phase {
            Phase::AwaitHello { deadline }
            | Phase::AwaitConfirm { deadline, .. }
            | Phase::AwaitApproval { deadline, .. } => Some(*deadline),
            Phase::Active { .. } => None,
        });
        expiry.into_iter().chain(deadlines).min()
    }

    // ----- queries -----

    /// The connection that passed authentication, if any (awaiting approval or live).
    pub fn active_connection(&self) -> Option<ConnectionId> {
        self.active
    }

    /// The control state of a live session.
    pub fn control_state(&self, conn: ConnectionId) -> Option<ControlState> {
        match self.connections.get(&conn)?.phase {
            Phase::Active { control, .. } => Some(control),
            _ => None,
        }
    }

    /// The name of the helper on a connection that passed authentication.
    pub fn helper_name(&self, conn: ConnectionId) -> Option<&str> {
        match &self.connections.get(&conn)?.phase {
            Phase::AwaitApproval { helper_name, .. } | Phase::Active { helper_name, .. } => {
                Some(helper_name)
            }
            _ => None,
        }
    }

    /// Whether the live session is paused.
    pub fn is_paused(&self) -> bool {
        self.active
            .and_then(|conn| self.connections.get(&conn))
            .is_some_and(|c| matches!(c.phase, Phase::Active { paused: true, .. }))
    }

    /// Whether video may be sent to the connection now.
    pub fn video_allowed(&self, conn: ConnectionId) -> bool {
        self.connections
            .get(&conn)
            .is_some_and(|c| matches!(c.phase, Phase::Active { paused: false, .. }))
    }

    /// Whether the connection passed authentication (input streams are accepted).
    pub fn is_authenticated(&self, conn: ConnectionId) -> bool {
        self.connections
            .get(&conn)
            .is_some_and(|c| c.phase.is_authenticated())
    }

    /// Failed password attempts so far.
    pub fn failed_attempts(&self) -> u32 {
        self.failed_attempts
    }

    /// Why the invitation is closed, or `None` while it takes connections.
    pub fn invitation_closed(&self) -> Option<InvitationCloseReason> {
        self.closed
    }

    /// When the invitation expires.
    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Input events dropped because no grant covered them.
    pub fn input_dropped(&self) -> u64 {
        self.input_dropped
    }

    // ----- internals -----

    fn live_connection(&self) -> Result<ConnectionId, CommandError> {
        let conn = self.active.ok_or(CommandError::NoSession)?;
        match self.connections.get(&conn) {
            Some(Connection {
                phase: Phase::Active { .. },
                ..
            }) => Ok(conn),
            _ => Err(CommandError::NoSession),
        }
    }

    fn send(&mut self, conn: ConnectionId, message: Message) {
        self.transmits
            .push_back((conn, HostTransmit::Control(envelope(message))));
    }

    fn send_error(&mut self, conn: ConnectionId, code: proto::ErrorCode, detail: &str) {
        self.send(
            conn,
            Message::Error(proto::Error {
                code: code.into(),
                detail: detail.to_owned(),
            }),
        );
    }

    fn handle_envelope(&mut self, now: Instant, conn: ConnectionId, message: Option<Message>) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        match &c.phase {
            Phase::AwaitHello { .. } => match message {
                Some(Message::Hello(hello)) => self.handle_hello(now, conn, hello),
                _ => self.violation(now, conn),
            },
            Phase::AwaitConfirm { .. } => match message {
                Some(Message::KeyConfirm(confirm)) => self.handle_key_confirm(now, conn, confirm),
                Some(Message::Bye(_)) => {
                    self.fail_authentication(now, conn, EndReason::AuthFailed);
                }
                _ => self.violation(now, conn),
            },
            Phase::AwaitApproval { .. } => match message {
                Some(Message::Bye(_)) => {
                    self.end_connection(now, conn, EndReason::HelperEnded, false);
                }
                Some(Message::Error(e)) => {
                    tracing::debug!(%conn, code = e.code, detail = %e.detail, "peer error");
                }
                None => self.send_error(conn, proto::ErrorCode::UnknownMessage, "unknown message"),
                Some(_) => self.send_error(
                    conn,
                    proto::ErrorCode::UnexpectedMessage,
                    "waiting for the host to approve",
                ),
            },
            Phase::Active { .. } => self.handle_session_message(now, conn, message),
        }
    }

    fn handle_hello(&mut self, now: Instant, conn: ConnectionId, hello: proto::Hello) {
        let refusal = if hello.protocol_version != PROTOCOL_VERSION {
            Some(EndReason::VersionMismatch)
        } else if let Some(closed) = self.closed {
            Some(match closed {
                InvitationCloseReason::Expired => EndReason::InvitationExpired,
                InvitationCloseReason::Policy => EndReason::Policy,
                _ => EndReason::InvitationClosed,
            })
        } else if hello.session_id != self.session_id.0 {
            Some(EndReason::UnknownSession)
        } else if self.active.is_some() || self.authentication_budget_exhausted() {
            Some(EndReason::Busy)
        } else {
            None
        };
        if let Some(reason) = refusal {
            self.end_connection(now, conn, reason, true);
            return;
        }
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let binding = c.binding;
        let Some((pake, message, confirmation)) = HostPake::respond(
            &self.secret,
            binding,
            self.session_id,
            &hello.pake_message,
            &mut *self.rng,
        ) else {
            self.violation(now, conn);
            return;
        };
        let mut helper_name = sanitize_display_text(&hello.helper_name, MAX_NAME_LEN);
        if helper_name.is_empty() {
            helper_name = "unnamed helper".to_owned();
        }
        if let Some(c) = self.connections.get_mut(&conn) {
            c.phase = Phase::AwaitConfirm {
                pake,
                helper_name,
                deadline: now + self.auth_timeout,
            };
        }
        self.send(
            conn,
            Message::PakeReply(proto::PakeReply {
                pake_message: message,
                confirmation,
                host_name: self.host_name.clone(),
            }),
        );
    }

    /// Failed attempts plus authentications in flight: each in-flight one may
    /// still fail, so together they must stay below the limit.
    fn authentication_budget_exhausted(&self) -> bool {
        let in_flight = self
            .connections
            .values()
            .filter(|c| matches!(c.phase, Phase::AwaitConfirm { .. }))
            .count() as u32;
        self.failed_attempts + in_flight >= self.max_failed_attempts
    }

    fn handle_key_confirm(&mut self, now: Instant, conn: ConnectionId, confirm: proto::KeyConfirm) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        let Phase::AwaitConfirm {
            pake, helper_name, ..
        } = &mut c.phase
        else {
            return;
        };
        if !pake.verify(&confirm.confirmation) {
            self.fail_authentication(now, conn, EndReason::AuthFailed);
            return;
        }
        let helper_name = std::mem::take(helper_name);
        let peer = c.peer;
        if self.active.is_some() {
            // Another helper got in while this one was authenticating.
            self.end_connection(now, conn, EndReason::Busy, true);
            return;
        }
        c.phase = Phase::AwaitApproval {
            helper_name: helper_name.clone(),
            deadline: now + self.policy.approval_timeout,
        };
        self.active = Some(conn);
        self.events.push_back(HostEvent::ConnectionRequest {
            conn,
            helper_name,
            peer,
        });
    }

    fn handle_session_message(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        message: Option<Message>,
    ) {
        let Some(Connection {
            phase: Phase::Active {
                control, paused, ..
            },
            ..
        }) = self.connections.get_mut(&conn)
        else {
            return;
        };
        match message {
            Some(Message::ControlRequest(_)) => {
                if *paused {
                    self.deny_control_for(conn, DenyReason::Paused);
                } else if !self.policy.allow_control {
                    self.deny_control_for(conn, DenyReason::Policy);
                } else if *control == ControlState::None {
                    *control = ControlState::Requested;
                    self.events.push_back(HostEvent::ControlRequested { conn });
                }
            }
            Some(Message::ControlRevoked(released)) => {
                if *control == ControlState::Granted(GrantId(released.grant_id)) {
                    self.revoke_for(conn, RevokeReason::Released);
                }
            }
            Some(Message::Chat(chat)) => {
                if check_chat(&chat.text).is_ok() {
                    self.events.push_back(HostEvent::Chat {
                        conn,
                        text: chat.text,
                    });
                } else {
                    self.send_error(conn, proto::ErrorCode::InvalidMessage, "chat text too long");
                }
            }
            Some(Message::Pointer(p)) => {
                if !*paused {
                    self.events.push_back(HostEvent::Pointer {
                        conn,
                        x: p.x,
                        y: p.y,
                        kind: pointer_kind_from_wire(p.kind),
                    });
                }
            }
            Some(Message::Clipboard(clip)) => {
                if !self.clipboard_open(conn) {
                    self.send_error(
                        conn,
                        proto::ErrorCode::UnexpectedMessage,
                        "clipboard sharing is off",
                    );
                } else if clip.text.len() > MAX_CLIPBOARD_LEN {
                    self.send_error(
                        conn,
                        proto::ErrorCode::InvalidMessage,
                        "clipboard text too long",
                    );
                } else {
                    self.events.push_back(HostEvent::Clipboard {
                        conn,
                        text: clip.text,
                    });
                }
            }
            Some(Message::KeyframeRequest(_)) => {
                self.media.push_back(MediaCommand::Keyframe { conn });
            }
            Some(Message::SelectDisplay(select)) => {
                self.media.push_back(MediaCommand::SelectDisplay {
                    conn,
                    display: DisplayId(select.id),
                });
            }
            Some(Message::Bye(bye)) => {
                let reason = match end_reason_from_wire(bye.reason) {
                    EndReason::ProtocolError => EndReason::ProtocolError,
                    _ => EndReason::HelperEnded,
                };
                self.end_connection(now, conn, reason, false);
            }
            Some(Message::Error(e)) => {
                tracing::debug!(%conn, code = e.code, detail = %e.detail, "peer error");
            }
            None => self.send_error(conn, proto::ErrorCode::UnknownMessage, "unknown message"),
            Some(_) => self.send_error(
                conn,
                proto::ErrorCode::UnexpectedMessage,
                "a helper cannot send this message",
            ),
        }
    }

    fn clipboard_open(&self, conn: ConnectionId) -> bool {
        matches!(
            self.connections.get(&conn).map(|c| &c.phase),
            Some(Phase::Active {
                clipboard: true,
                paused: false,
                ..
            })
        )
    }

    fn clipboard_sharing_for(&mut self, conn: ConnectionId, enabled: bool) {
        let Some(Connection {
            phase: Phase::Active { clipboard, .. },
            ..
        }) = self.connections.get_mut(&conn)
        else {
            return;
        };
        if *clipboard == enabled {
            return;
        }
        *clipboard = enabled;
        self.send(
            conn,
            Message::ClipboardState(proto::ClipboardState { enabled }),
        );
        self.events
            .push_back(HostEvent::ClipboardSharing { conn, enabled });
    }

    fn revoke_active(&mut self, reason: RevokeReason) -> Result<(), CommandError> {
        let conn = self.live_connection()?;
        if !matches!(self.control_state(conn), Some(ControlState::Granted(_))) {
            return Err(CommandError::InvalidState("control is not granted"));
        }
        self.revoke_for(conn, reason);
        Ok(())
    }

    fn revoke_for(&mut self, conn: ConnectionId, reason: RevokeReason) {
        let Some(Connection {
            phase: Phase::Active { control, .. },
            ..
        }) = self.connections.get_mut(&conn)
        else {
            return;
        };
        let ControlState::Granted(grant) = *control else {
            return;
        };
        *control = ControlState::None;
        self.release_all_input();
        self.send(
            conn,
            Message::ControlRevoked(proto::ControlRevoked {
                grant_id: grant.0,
                reason: revoke_reason_to_wire(reason).into(),
            }),
        );
        self.events
            .push_back(HostEvent::ControlRevoked { conn, reason });
    }

    fn deny_control_for(&mut self, conn: ConnectionId, reason: DenyReason) {
        if let Some(Connection {
            phase: Phase::Active { control, .. },
            ..
        }) = self.connections.get_mut(&conn)
            && *control == ControlState::Requested
        {
            *control = ControlState::None;
        }
        self.send(
            conn,
            Message::ControlDecision(proto::ControlDecision {
                granted: false,
                grant_id: 0,
                reason: deny_reason_to_wire(reason).into(),
            }),
        );
        self.events
            .push_back(HostEvent::ControlDenied { conn, reason });
    }

    /// The peer broke the protocol: close, and count a failed attempt if it
    /// was authenticating.
    fn violation(&mut self, now: Instant, conn: ConnectionId) {
        let authenticating = matches!(
            self.connections.get(&conn).map(|c| &c.phase),
            Some(Phase::AwaitConfirm { .. })
        );
        if authenticating {
            self.fail_authentication(now, conn, EndReason::ProtocolError);
        } else {
            self.end_connection(now, conn, EndReason::ProtocolError, true);
        }
    }

    fn fail_authentication(&mut self, now: Instant, conn: ConnectionId, reason: EndReason) {
        let Some(peer) = self.connections.get(&conn).map(|c| c.peer) else {
            return;
        };
        self.end_connection(now, conn, reason, reason != EndReason::ConnectionLost);
        self.failed_attempts += 1;
        self.events.push_back(HostEvent::AuthFailed {
            conn,
            peer,
            attempts: self.failed_attempts,
            max_attempts: self.max_failed_attempts,
        });
        if self.failed_attempts >= self.max_failed_attempts {
            self.close_invitation_for(now, InvitationCloseReason::TooManyFailures);
        }
    }

    fn end_connection(
        &mut self,
        _now: Instant,
        conn: ConnectionId,
        reason: EndReason,
        notify: bool,
    ) {
        let Some(c) = self.connections.remove(&conn) else {
            return;
        };
        if self.active == Some(conn) {
            self.active = None;
        }
        if notify {
            self.send(
                conn,
                Message::Bye(proto::Bye {
                    reason: end_reason_to_wire(reason).into(),
                    detail: reason.to_string(),
                }),
            );
        }
        self.transmits
            .push_back((conn, HostTransmit::Close { reason }));
        match c.phase {
            Phase::Active { .. } => {
                self.release_all_input();
                self.media.push_back(MediaCommand::Stop { conn });
                self.events.push_back(HostEvent::Ended { conn, reason });
            }
            Phase::AwaitApproval { .. } => {
                self.events.push_back(HostEvent::Ended { conn, reason });
            }
            Phase::AwaitHello { .. } | Phase::AwaitConfirm { .. } => {}
        }
    }

    /// Closes the invitation for `reason` (also when something other than
    /// the host user decided it: a broker that says the code expired or
    /// died). A live session continues.
    pub fn close_invitation_for(&mut self, now: Instant, reason: InvitationCloseReason) {
        if self.closed.is_some() {
            return;
        }
        self.closed = Some(reason);
        self.events
            .push_back(HostEvent::InvitationClosed { reason });
        let end_reason = match reason {
            InvitationCloseReason::Expired => EndReason::InvitationExpired,
            InvitationCloseReason::Policy => EndReason::Policy,
            _ => EndReason::InvitationClosed,
        };
        let unauthenticated: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, c)| !c.phase.is_authenticated())
            .map(|(&id, _)| id)
            .collect();
        for conn in unauthenticated {
            self.end_connection(now, conn, end_reason, true);
        }
    }
}

pub(crate) fn check_chat(text: &str) -> Result<(), CommandError> {
    if text.is_empty() {
        return Err(CommandError::InvalidArgument("chat text is empty"));
    }
    if text.chars().count() > MAX_CHAT_LEN {
        return Err(CommandError::InvalidArgument("chat text is too long"));
    }
    Ok(())
}
