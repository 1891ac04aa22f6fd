//! The host's side: one open invitation and the connections made to it.
//!
//! This file holds the endpoint's state, what arrives from the network, the
//! dispatch of control messages, the outputs and the queries; the rest is
//! split by concern:
//!
//! - `handshake`: the hello, the PAKE, key confirmation, failed attempts.
//! - `audit`: the audit records the endpoint emits.
//! - `commands`: the application's commands as one type, and `apply`.
//! - `consent`: approval, control, pause, ending, policy changes.
//! - `input_gate`: which of the helper's input is injected, and where.
//! - `desk`: the panic key, local input and the clipboard's privacy rule.
//! - `displays`: the displays and pointer the helper is told about.
//! - `live`: the live session's messages (chat, pointer marks, clipboard).

mod audit;
mod commands;
mod consent;
mod desk;
mod displays;
mod events;
mod handshake;
mod input_gate;
mod link;
mod live;
mod message_budget;
mod receipt;
mod redaction;
mod resume;
mod shared_displays;
mod verify;

pub use audit::OfferRecord;
pub use commands::HostCommand;
pub use desk::DeskCommand;
pub use events::{HostEvent, HostTransmit, Injection, MediaCommand};
pub use receipt::COUNTERSIGNATURE_WAIT;
pub use resume::ResumeGrant;
pub use verify::{HelperVerification, UNVERIFIED_HELPER_WARNING};

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use prost::Message as _;
use zeroize::Zeroizing;

use super::auth::{ChannelBinding, HostPake};
use super::framing::FrameDecoder;
use super::types::{
    CommandError, ConnectionId, ControlScopes, ControlState, EndReason, InvitationCloseReason,
    SessionRng,
};
use super::wire::{
    MAX_CHAT_LEN, MAX_CONTROL_MESSAGE, MAX_INPUT_MESSAGE, MAX_NAME_LEN, envelope,
    sanitize_display_text,
};
use crate::audit::AuditEvent;
use crate::desk::DesktopConsent;
use crate::invitation::SessionId;
use crate::media::{DisplayId, DisplayInfo, Rect};
use crate::policy::Policy;
use crate::proto::{self, envelope::Message};

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
    /// Wiped from memory when dropped.
    pub secret: Zeroizing<Vec<u8>>,
    /// How long from now the invitation stays open (capped by the policy).
    pub expires_in: Duration,
    /// The host's policy.
    pub policy: Policy,
    /// Failed password attempts after which the invitation closes.
    pub max_failed_attempts: u32,
    /// How long a connection may take to say hello and authenticate.
    pub auth_timeout: Duration,
    /// What the audit log's first record says of the invitation; `None`
    /// records nothing for the opening.
    pub offer: Option<OfferRecord>,
    /// How long the helper's input is held back after the local user's own
    /// input ([`crate::desk::DeskSignal::LocalInput`]).
    pub local_user_wins: Duration,
    /// Why the host's desk has no panic key and no local-input watcher, if
    /// so: told once as [`HostEvent::DeskLimited`].
    pub desk_limitation: Option<String>,
    /// The wall-clock time at the endpoint's creation (helper identities'
    /// validity is checked against it plus the time since). Default: the
    /// system clock when the configuration is made.
    pub wall_clock: std::time::SystemTime,
    /// The desktop's own consent, recorded after the opening
    /// ([`AuditEvent::DesktopConsent`]).
    pub desktop_consent: Option<DesktopConsent>,
    /// Whether each approved session ends with a signed consent receipt
    /// ([`HostEndpoint::poll_receipt_request`], [`HostEvent::Receipt`]).
    /// Off by default: the runtime, which holds the host's key, turns it on.
    pub receipts: bool,
    /// The resume ticket's id when this endpoint re-opens a session from
    /// one ([`crate::resume`]): only that ticket's hello is let in, and the
    /// connection request says it is a resumption. Default: none.
    pub resuming: Option<[u8; crate::resume::TICKET_ID_LEN]>,
}

impl HostConfig {
    /// A configuration with the default limits: 5 failed attempts, 10 s to authenticate.
    pub fn new(
        session_id: SessionId,
        host_name: impl Into<String>,
        secret: impl Into<Zeroizing<Vec<u8>>>,
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
            offer: None,
            desk_limitation: None,
            desktop_consent: None,
            receipts: false,
            resuming: None,
            wall_clock: std::time::SystemTime::now(),
            local_user_wins: crate::desk::DEFAULT_LOCAL_USER_WINS,
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
            .field("offer", &self.offer)
            .field("local_user_wins", &self.local_user_wins)
            .field("desk_limitation", &self.desk_limitation)
            .field("desktop_consent", &self.desktop_consent)
            .field("receipts", &self.receipts)
            .finish_non_exhaustive()
    }
}

/// The terms of the current grant of control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GrantTerms {
    /// What it covers.
    pub(super) scopes: ControlScopes,
    /// When it ends by itself, if it does.
    pub(super) expires_at: Option<Instant>,
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
    /// The session ended; its receipt is being signed and countersigned.
    Closing(receipt::Closing),
}

impl Phase {
    fn is_authenticated(&self) -> bool {
        matches!(
            self,
            Phase::AwaitApproval { .. } | Phase::Active { .. } | Phase::Closing(_)
        )
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
    secret: Zeroizing<Vec<u8>>,
    policy: Policy,
    max_failed_attempts: u32,
    auth_timeout: Duration,
    created_at: Instant,
    /// The wall-clock time at `created_at`.
    wall_at_creation: std::time::SystemTime,
    expires_at: Instant,
    closed: Option<InvitationCloseReason>,
    failed_attempts: u32,
    connections: BTreeMap<ConnectionId, Connection>,
    /// The connection that passed authentication (awaiting approval or live).
    active: Option<ConnectionId>,
    next_grant: u32,
    input_dropped: u64,
    /// The helper's control messages over their rate limits, dropped.
    messages_dropped: u64,
    message_budget: message_budget::MessageBudget,
    /// Where absolute pointer positions land on the host's desktop.
    capture_area: Option<Rect>,
    /// The size of the pictures sent, when known.
    picture_size: Option<(u32, u32)>,
    /// Where the host's pointer is on the desktop, as far as the host knows
    /// (the last position injected, or the capturer's last report): where
    /// relative moves start from.
    pointer_at: Option<(i32, i32)>,
    /// The helper's last pointer move was into the redaction mask (and
    /// dropped): its presses are dropped until it moves out.
    pointer_masked: bool,
    /// Remote input is ignored until then (the local user is busy).
    input_suspended_until: Option<Instant>,
    /// What the helper last asked to do with control.
    asked_scopes: ControlScopes,
    /// The current grant's scopes and end, while control is granted.
    grant_terms: Option<GrantTerms>,
    presses: crate::session::bucket::TokenBucket,
    /// Keys and buttons injected as pressed and not yet released.
    held: HashSet<Held>,
    rng: Box<dyn SessionRng>,
    events: VecDeque<HostEvent>,
    transmits: VecDeque<(ConnectionId, HostTransmit)>,
    injections: VecDeque<Injection>,
    media: VecDeque<MediaCommand>,
    audit: VecDeque<AuditEvent>,
    /// Names of helpers that asked to connect, for the audit log.
    audit_names: HashMap<ConnectionId, String>,
    /// The displays as the capturer last reported them, and the captured one.
    displays: Vec<DisplayInfo>,
    selected_display: DisplayId,
    /// The video for `streaming` waits until an allowed display is captured
    /// (its start was not sent yet).
    video_held: bool,
    /// Whether the application was told that no allowed display exists.
    told_no_allowed_display: bool,
    /// The rectangles the application masks at run time.
    runtime_redactions: Vec<Rect>,
    /// The fixed mask: the policy's rectangles, then the application's.
    redactions: Vec<Rect>,
    /// The window classes the application masks at run time.
    runtime_window_classes: Vec<String>,
    /// The window classes the mask follows: the policy's, then the
    /// application's.
    window_classes: Vec<String>,
    /// Where those windows are, as the capture path last found them.
    window_rects: Vec<Rect>,
    /// The connection the video goes to.
    streaming: Option<ConnectionId>,
    local_user_wins: Duration,
    /// Whether the clipboard backend was started (sharing was on once).
    clipboard_started: bool,
    desk: VecDeque<DeskCommand>,
    /// Whether approved sessions end with a receipt.
    receipts: bool,
    receipt_notes: receipt::Notes,
    receipt_requests: VecDeque<(ConnectionId, crate::receipt::ReceiptBody)>,
    /// The live connection's path, as the runtime reports it.
    link: link::HostLink,
    /// When the live helper sent its input.
    input_times: link::HostInputTimes,
    /// The ticket this session was re-opened from, if it was.
    resuming: Option<resume::Resumption>,
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
            wall_at_creation: config.wall_clock,
            expires_at: now + lifetime,
            closed: None,
            failed_attempts: 0,
            connections: BTreeMap::new(),
            active: None,
            next_grant: 1,
            input_dropped: 0,
            messages_dropped: 0,
            message_budget: message_budget::MessageBudget::new(now),
            capture_area: None,
            picture_size: None,
            pointer_at: None,
            pointer_masked: false,
            input_suspended_until: None,
            asked_scopes: ControlScopes::ALL,
            grant_terms: None,
            presses: input_gate::press_budget(now),
            held: HashSet::new(),
            rng,
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            injections: VecDeque::new(),
            media: VecDeque::new(),
            audit: VecDeque::new(),
            audit_names: HashMap::new(),
            displays: Vec::new(),
            selected_display: DisplayId(0),
            video_held: false,
            told_no_allowed_display: false,
            runtime_redactions: Vec::new(),
            redactions: Vec::new(),
            runtime_window_classes: Vec::new(),
            window_classes: Vec::new(),
            window_rects: Vec::new(),
            streaming: None,
            local_user_wins: config.local_user_wins,
            clipboard_started: false,
            desk: VecDeque::new(),
            receipts: config.receipts,
            receipt_notes: HashMap::new(),
            receipt_requests: VecDeque::new(),
            link: link::HostLink::default(),
            input_times: link::HostInputTimes::default(),
            resuming: config.resuming.map(resume::Resumption::new),
            policy: config.policy,
        };
        if let Some(offer) = config.offer {
            endpoint.record(AuditEvent::InvitationOpened {
                expires_at: offer.expires_at,
                addresses: offer.addresses,
            });
        }
        endpoint.record_resumption(now);
        if let Some(consent) = config.desktop_consent {
            endpoint.record(AuditEvent::DesktopConsent {
                api: consent.api,
                monitors: consent.monitors,
                input_allowed: consent.input_allowed,
            });
        }
        if let Some(reason) = config.desk_limitation {
            endpoint.emit(HostEvent::DeskLimited { reason });
        }
        // The policy's mask, before any picture is captured.
        endpoint.update_redactions(now);
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
        self.expire_grant(now);
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
        let closed: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, c)| matches!(&c.phase, Phase::Closing(closing) if now >= closing.deadline))
            .map(|(&id, _)| id)
            .collect();
        for conn in closed {
            self.finish_closing(conn);
        }
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
        let grant_end = self.grant_terms.and_then(|terms| terms.expires_at);
        let deadlines = self.connections.values().filter_map(|c| match &c.phase {
            Phase::AwaitHello { deadline }
            | Phase::AwaitConfirm { deadline, .. }
            | Phase::AwaitApproval { deadline, .. } => Some(*deadline),
            Phase::Closing(closing) => Some(closing.deadline),
            Phase::Active { .. } => None,
        });
        expiry.into_iter().chain(grant_end).chain(deadlines).min()
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

    /// The helper's input events held back or dropped so far: no grant
    /// covered them, paused, the local user busy, over the rate limit, or
    /// invalid.
    pub fn input_dropped(&self) -> u64 {
        self.input_dropped
    }

    /// Control messages from the helper dropped over their rate limits
    /// (chat, pointer marks, keyframe requests, display selections,
    /// clipboard texts, control requests).
    pub fn messages_dropped(&self) -> u64 {
        self.messages_dropped
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

    /// A message the connection's phase has no use for: a peer's error is
    /// logged, an unknown message and any other are answered with an error.
    fn refuse_message(&mut self, conn: ConnectionId, message: Option<Message>, unexpected: &str) {
        match message {
            Some(Message::Error(e)) => {
                tracing::debug!(%conn, code = e.code, detail = %e.detail, "peer error");
            }
            None => self.send_error(conn, proto::ErrorCode::UnknownMessage, "unknown message"),
            Some(_) => self.send_error(conn, proto::ErrorCode::UnexpectedMessage, unexpected),
        }
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
                other => self.refuse_message(conn, other, "waiting for the host to approve"),
            },
            Phase::Active { .. } => self.handle_session_message(now, conn, message),
            Phase::Closing(_) => self.handle_closing_message(conn, message),
        }
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

    fn end_connection(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        reason: EndReason,
        notify: bool,
    ) {
        if let Some(Phase::Closing(_)) = self.connections.get(&conn).map(|c| &c.phase) {
            // Over already, its receipt in the works: stop waiting.
            self.finish_closing(conn);
            return;
        }
        let Some(c) = self.connections.remove(&conn) else {
            return;
        };
        if self.active == Some(conn) {
            self.active = None;
        }
        let live = matches!(c.phase, Phase::Active { .. });
        let told = live || matches!(c.phase, Phase::AwaitApproval { .. });
        if live {
            self.release_all_input();
            self.stop_video(conn);
            if self.receipts {
                self.begin_receipt(now, conn, c, reason, notify);
                return;
            }
        }
        self.receipt_notes.remove(&conn);
        self.say_goodbye(conn, notify, reason);
        self.transmits
            .push_back((conn, HostTransmit::Close { reason }));
        if told {
            self.emit(HostEvent::Ended { conn, reason });
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
        self.emit(HostEvent::InvitationClosed { reason });
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
