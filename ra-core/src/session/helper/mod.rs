//! The helper's side of one connection.

mod commands;
mod config;
mod host_media;
mod link;
mod receipt;
mod resume_offer;

pub use commands::HelperCommand;
pub use config::HelperConfig;
pub use receipt::RECEIPT_WAIT;
pub use resume_offer::HeldResumeOffer;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message as _;

use crate::identity::HelperCredential;
use crate::input::InputEvent;
use crate::invitation::{CertFingerprint, SessionId};
use crate::media::{CursorUpdate, DisplayId, DisplayInfo, Rect};
use crate::proto::{self, PROTOCOL_VERSION, envelope::Message};
use crate::session::auth::{ChannelBinding, HelperPake};
use crate::session::framing::{FrameDecoder, encode_frame};
use crate::session::host::check_chat;
use crate::session::types::{
    CommandError, ControlScopes, ControlState, DenyReason, EndReason, GrantId, PointerKind,
    RevokeReason, SessionRng,
};
use crate::session::wire::{
    MAX_CLIPBOARD_LEN, MAX_CONTROL_MESSAGE, MAX_NAME_LEN, deny_reason_from_wire,
    encode_input_event, end_reason_from_wire, end_reason_to_wire, envelope, pointer_kind_to_wire,
    revoke_reason_from_wire, sanitize_display_text,
};

/// Something the helper application should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelperEvent {
    /// Both sides proved they know the password; waiting for the host user.
    Authenticated {
        /// The name the host gave (sanitized).
        host_name: String,
    },
    /// The host approved: the session is live, view only.
    Connected,
    /// The host granted control.
    ControlGranted {
        /// The grant.
        grant: GrantId,
        /// What it covers (input outside it is dropped by the host).
        scopes: ControlScopes,
        /// How long it lasts from when it was given, if it ends by itself.
        expires_in: Option<Duration>,
    },
    /// The host denied control.
    ControlDenied {
        /// Why.
        reason: DenyReason,
    },
    /// Control was taken back.
    ControlRevoked {
        /// Why.
        reason: RevokeReason,
    },
    /// The host paused the session.
    Paused,
    /// The host resumed the session.
    Resumed,
    /// The host wrote a chat message.
    Chat {
        /// The message.
        text: String,
    },
    /// The host's displays.
    Displays {
        /// All displays.
        displays: Vec<DisplayInfo>,
        /// The one being captured.
        selected: DisplayId,
    },
    /// The parts of the picture the host masks (painted black before they
    /// left the host), in picture pixels: draw them as masked. Empty once
    /// nothing is masked.
    Redactions {
        /// The masked rectangles.
        areas: Vec<Rect>,
    },
    /// The host's pointer moved or changed shape; draw it over the picture.
    Cursor(CursorUpdate),
    /// The host turned clipboard sharing on or off.
    ClipboardSharing {
        /// Whether text now flows both ways.
        enabled: bool,
    },
    /// The host's clipboard changed: put this text on the helper's clipboard.
    Clipboard {
        /// The text.
        text: String,
    },
    /// The session's consent receipt, signed by the host and checked;
    /// countersigned when the helper has an identity. Comes before
    /// [`HelperEvent::Ended`]; store it.
    Receipt {
        /// The receipt ([`crate::receipt::ConsentReceipt::to_text`] writes it).
        receipt: Box<crate::receipt::ConsentReceipt>,
    },
    /// The host sent a receipt that does not check (another session,
    /// another host's key, altered): not countersigned.
    ReceiptRefused {
        /// What is wrong with it.
        problem: String,
    },
    /// The session is over.
    Ended {
        /// Why.
        reason: EndReason,
    },
    /// Nothing arrived from the host for a few seconds
    /// ([`crate::session::link::INTERRUPTED_AFTER`]): the network went dark.
    /// The picture freezes and input is dropped, not queued, until the path
    /// is back; after the outage grace the session ends
    /// ([`EndReason::ConnectionLost`]).
    ConnectionInterrupted,
    /// The path to the host carries packets again: the picture resumes from
    /// a keyframe; control is as it was.
    ConnectionRestored {
        /// How long nothing arrived.
        silent_for: std::time::Duration,
    },
    /// The host issued a single-use resume ticket for this session: should
    /// the host's application or machine restart within `expires_in`, the
    /// helper's ra reconnects by itself ([`HelperEvent::Resuming`]).
    ResumeOffered {
        /// How long the ticket is valid.
        expires_in: Duration,
    },
    /// The host came back from a restart with its resume ticket and the
    /// helper reconnected: the host's user is asked to approve again
    /// ([`HelperEvent::Authenticated`] and [`HelperEvent::Connected`]
    /// follow); control is gone until granted anew.
    Resuming,
}

/// What the driver must send or do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelperTransmit {
    /// Bytes for the control stream.
    Control(Vec<u8>),
    /// Bytes for the input stream.
    Input(Vec<u8>),
    /// Close the connection (after the bytes queued before it are sent).
    Close {
        /// Why.
        reason: EndReason,
    },
}

enum Phase {
    AwaitReply {
        /// Taken when the host's reply arrives.
        pake: Option<Box<HelperPake>>,
        deadline: Instant,
    },
    AwaitApproval {
        deadline: Instant,
    },
    Active {
        control: ControlState,
        paused: bool,
        clipboard: bool,
    },
    /// The helper said goodbye and waits for the receipt.
    Ending {
        deadline: Instant,
    },
    Ended(EndReason),
}

/// The helper's sans-IO state for one connection.
pub struct HelperConnection {
    phase: Phase,
    host_name: Option<String>,
    approval_timeout: Duration,
    control_rx: FrameDecoder,
    events: VecDeque<HelperEvent>,
    transmits: VecDeque<HelperTransmit>,
    input_events_sent: u64,
    /// Shown to the host with the key confirmation.
    identity: Option<Arc<HelperCredential>>,
    session_id: SessionId,
    host_fingerprint: Option<CertFingerprint>,
    host_budget: host_media::HostMediaBudget,
    /// Messages from the host dropped over their budgets.
    messages_dropped: u64,
    /// When the connection started: the clock input send times count from.
    created_at: Instant,
    /// The path to the host, as the runtime reports it.
    link: link::HelperLink,
    /// The host's resume ticket for this session, if it offered one.
    resume_offer: Option<HeldResumeOffer>,
}

impl std::fmt::Debug for HelperConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelperConnection")
            .field("host_name", &self.host_name)
            .field("ended", &self.ended())
            .finish_non_exhaustive()
    }
}

impl HelperConnection {
    /// Starts authenticating over a connection whose TLS channel has `binding`.
    /// The hello is queued for [`HelperConnection::poll_transmit`].
    pub fn new(
        now: Instant,
        config: HelperConfig,
        binding: ChannelBinding,
        rng: &mut dyn SessionRng,
    ) -> Self {
        let (pake, pake_message) =
            HelperPake::start(&config.secret, binding, config.session_id, rng);
        let mut connection = HelperConnection {
            phase: Phase::AwaitReply {
                pake: Some(Box::new(pake)),
                deadline: now + config.auth_timeout,
            },
            host_name: None,
            approval_timeout: config.approval_timeout,
            control_rx: FrameDecoder::new(MAX_CONTROL_MESSAGE),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            input_events_sent: 0,
            identity: config.identity,
            session_id: config.session_id,
            host_fingerprint: config.host_fingerprint,
            host_budget: host_media::HostMediaBudget::new(now),
            messages_dropped: 0,
            created_at: now,
            link: link::HelperLink::new(now),
            resume_offer: None,
        };
        connection.send(Message::Hello(proto::Hello {
            protocol_version: PROTOCOL_VERSION,
            session_id: config.session_id.0.to_vec(),
            helper_name: sanitize_display_text(&config.helper_name, MAX_NAME_LEN),
            pake_message,
            capabilities: Vec::new(),
            resume_ticket_id: config
                .resume_ticket_id
                .map(|id| id.to_vec())
                .unwrap_or_default(),
        }));
        connection
    }

    // ----- inputs from the network -----

    /// Bytes arrived on the control stream.
    pub fn handle_control_data(&mut self, now: Instant, data: &[u8]) {
        if self.ended().is_some() {
            return;
        }
        self.control_rx.push(data);
        while self.ended().is_none() {
            match self.control_rx.next_message() {
                Ok(Some(bytes)) => match proto::Envelope::decode(bytes) {
                    Ok(envelope) => self.handle_envelope(now, envelope.message),
                    Err(e) => {
                        tracing::debug!(error = %e, "undecodable control message");
                        self.finish(EndReason::ProtocolError, true);
                    }
                },
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(error = %e, "broken control stream");
                    self.finish(EndReason::ProtocolError, true);
                }
            }
        }
    }

    /// The connection is gone; `reason` is what the host said when closing, if
    /// it said anything, else [`EndReason::ConnectionLost`].
    pub fn handle_connection_lost(&mut self, _now: Instant, reason: EndReason) {
        self.finish(reason, false);
    }

    /// Runs the timers that are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::AwaitReply { deadline, .. } if now >= deadline => {
                self.finish(EndReason::AuthTimeout, true);
            }
            Phase::AwaitApproval { deadline } if now >= deadline => {
                self.finish(EndReason::ApprovalTimeout, true);
            }
            Phase::Ending { deadline } if now >= deadline => {
                self.finish(EndReason::HelperEnded, false);
            }
            _ => {}
        }
    }

    // ----- commands from the helper application -----

    /// Asks the host for control (every scope).
    ///
    /// # Errors
    /// [`CommandError::NoSession`] unless the session is live,
    /// [`CommandError::InvalidState`] when paused, already asked or in control.
    pub fn request_control(&mut self, now: Instant) -> Result<(), CommandError> {
        self.request_control_scopes(now, ControlScopes::ALL)
    }

    /// Asks the host for control of only `scopes` (the host may grant less).
    ///
    /// # Errors
    /// As [`HelperConnection::request_control`], and
    /// [`CommandError::InvalidState`] for no scope at all.
    pub fn request_control_scopes(
        &mut self,
        _now: Instant,
        scopes: ControlScopes,
    ) -> Result<(), CommandError> {
        if scopes.is_empty() {
            return Err(CommandError::InvalidState("ask for at least one scope"));
        }
        let Phase::Active {
            control, paused, ..
        } = &mut self.phase
        else {
            return Err(CommandError::NoSession);
        };
        if *paused {
            return Err(CommandError::InvalidState("the session is paused"));
        }
        match control {
            ControlState::None => {
                *control = ControlState::Requested;
                self.send(Message::ControlRequest(proto::ControlRequest {
                    scopes: scopes.to_bits(),
                }));
                Ok(())
            }
            ControlState::Requested => {
                Err(CommandError::InvalidState("control was asked for already"))
            }
            ControlState::Granted(_) => {
                Err(CommandError::InvalidState("control is granted already"))
            }
        }
    }

    /// Gives control back to the host.
    ///
    /// # Errors
    /// [`CommandError::NotControlling`] without a grant.
    pub fn release_control(&mut self, _now: Instant) -> Result<(), CommandError> {
        let grant = self.grant().ok_or(CommandError::NotControlling)?;
        if let Phase::Active { control, .. } = &mut self.phase {
            *control = ControlState::None;
        }
        self.send(Message::ControlRevoked(proto::ControlRevoked {
            grant_id: grant.0,
            reason: proto::RevokeReason::ByUser.into(),
        }));
        self.events.push_back(HelperEvent::ControlRevoked {
            reason: RevokeReason::Released,
        });
        Ok(())
    }

    /// Sends input events (one batch, in order) under the current grant.
    ///
    /// # Errors
    /// [`CommandError::NotControlling`] without a grant;
    /// [`CommandError::InvalidArgument`] for an empty batch.
    ///
    /// While the path to the host is interrupted
    /// ([`HelperEvent::ConnectionInterrupted`]) the events are dropped, not
    /// queued: sent after the outage they would act on a screen the helper
    /// no longer sees ([`HelperConnection::input_events_held_back`] counts
    /// them).
    pub fn send_input(&mut self, now: Instant, events: &[InputEvent]) -> Result<(), CommandError> {
        let grant = self.grant().ok_or(CommandError::NotControlling)?;
        if events.is_empty() {
            return Err(CommandError::InvalidArgument("no input events"));
        }
        if self.link.is_interrupted() {
            self.link.held_back(events.len());
            return Ok(());
        }
        let batch = proto::InputBatch {
            grant_id: grant.0,
            events: events.iter().map(encode_input_event).collect(),
            sent_at_ms: self.session_millis(now),
        };
        self.transmits
            .push_back(HelperTransmit::Input(encode_frame(&batch)));
        self.input_events_sent += events.len() as u64;
        Ok(())
    }

    /// Sends a chat message to the host.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] unless live; [`CommandError::InvalidArgument`]
    /// for empty or too long text.
    pub fn chat(&mut self, _now: Instant, text: &str) -> Result<(), CommandError> {
        check_chat(text)?;
        self.require_live()?;
        self.send(Message::Chat(proto::Chat {
            text: text.to_owned(),
        }));
        Ok(())
    }

    /// Shows a pointer mark on the host's screen (no control needed).
    ///
    /// # Errors
    /// [`CommandError::NoSession`] unless live.
    pub fn pointer(
        &mut self,
        _now: Instant,
        x: i32,
        y: i32,
        kind: PointerKind,
    ) -> Result<(), CommandError> {
        self.require_live()?;
        self.send(Message::Pointer(proto::Pointer {
            x,
            y,
            kind: pointer_kind_to_wire(kind).into(),
        }));
        Ok(())
    }

    /// Sends the helper's clipboard text to the host.
    ///
    /// # Errors
    /// [`CommandError::InvalidState`] unless the host shares the clipboard and
    /// the session is unpaused; [`CommandError::InvalidArgument`] when too long.
    pub fn send_clipboard(&mut self, _now: Instant, text: &str) -> Result<(), CommandError> {
        if text.len() > MAX_CLIPBOARD_LEN {
            return Err(CommandError::InvalidArgument("clipboard text is too long"));
        }
        match self.phase {
            Phase::Active {
                clipboard: true,
                paused: false,
                ..
            } => {
                self.send(Message::Clipboard(proto::Clipboard {
                    text: text.to_owned(),
                }));
                Ok(())
            }
            Phase::Active { .. } => Err(CommandError::InvalidState("clipboard sharing is off")),
            _ => Err(CommandError::NoSession),
        }
    }

    /// Asks the host for a keyframe (after a decode error).
    ///
    /// # Errors
    /// [`CommandError::NoSession`] unless live.
    pub fn request_keyframe(&mut self, _now: Instant) -> Result<(), CommandError> {
        self.require_live()?;
        self.send(Message::KeyframeRequest(proto::KeyframeRequest {}));
        Ok(())
    }

    /// Asks the host to capture another display.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] unless live.
    pub fn select_display(
        &mut self,
        _now: Instant,
        display: DisplayId,
    ) -> Result<(), CommandError> {
        self.require_live()?;
        self.send(Message::SelectDisplay(proto::SelectDisplay {
            id: display.0,
        }));
        Ok(())
    }

    /// Ends the session.
    pub fn end(&mut self, now: Instant) {
        if self.is_live() {
            self.end_live(now);
            return;
        }
        self.finish(EndReason::HelperEnded, true);
    }

    // ----- outputs -----

    /// The next thing to send or do.
    pub fn poll_transmit(&mut self) -> Option<HelperTransmit> {
        self.transmits.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<HelperEvent> {
        self.events.pop_front()
    }

    /// When [`HelperConnection::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::AwaitReply { deadline, .. }
            | Phase::AwaitApproval { deadline }
            | Phase::Ending { deadline } => Some(deadline),
            _ => None,
        }
    }

    // ----- queries -----

    /// Whether the host approved and the session is live.
    pub fn is_live(&self) -> bool {
        matches!(self.phase, Phase::Active { .. })
    }

    /// Whether both key confirmations succeeded.
    pub fn is_authenticated(&self) -> bool {
        matches!(
            self.phase,
            Phase::AwaitApproval { .. } | Phase::Active { .. }
        )
    }

    /// The current control grant.
    pub fn grant(&self) -> Option<GrantId> {
        match self.phase {
            Phase::Active {
                control: ControlState::Granted(grant),
                paused: false,
                ..
            } => Some(grant),
            _ => None,
        }
    }

    /// Input events sent to the host so far.
    pub fn input_events_sent(&self) -> u64 {
        self.input_events_sent
    }

    /// The control state, if live.
    pub fn control_state(&self) -> Option<ControlState> {
        match self.phase {
            Phase::Active { control, .. } => Some(control),
            _ => None,
        }
    }

    /// Whether the host paused the session.
    pub fn is_paused(&self) -> bool {
        matches!(self.phase, Phase::Active { paused: true, .. })
    }

    /// Why the session ended, if it did.
    pub fn ended(&self) -> Option<EndReason> {
        match self.phase {
            Phase::Ended(reason) => Some(reason),
            _ => None,
        }
    }

    /// The host's name, once authenticated.
    pub fn host_name(&self) -> Option<&str> {
        self.host_name.as_deref()
    }

    // ----- internals -----

    fn require_live(&self) -> Result<(), CommandError> {
        if self.is_live() {
            Ok(())
        } else {
            Err(CommandError::NoSession)
        }
    }

    fn send(&mut self, message: Message) {
        self.transmits
            .push_back(HelperTransmit::Control(envelope(message)));
    }

    fn send_bye(&mut self, reason: EndReason) {
        self.send(Message::Bye(proto::Bye {
            reason: end_reason_to_wire(reason).into(),
            detail: reason.to_string(),
        }));
    }

    fn send_error(&mut self, code: proto::ErrorCode, detail: &str) {
        self.send(Message::Error(proto::Error {
            code: code.into(),
            detail: detail.to_owned(),
        }));
    }

    fn finish(&mut self, reason: EndReason, notify: bool) {
        if self.ended().is_some() {
            return;
        }
        let authenticated = self.is_authenticated();
        self.phase = Phase::Ended(reason);
        // Before authentication only a goodbye about the authentication itself is
        // worth sending; the host counts it as a failed attempt either way.
        if notify && (authenticated || reason == EndReason::AuthFailed) {
            self.send_bye(reason);
        }
        self.transmits.push_back(HelperTransmit::Close { reason });
        self.events.push_back(HelperEvent::Ended { reason });
    }

    fn handle_envelope(&mut self, now: Instant, message: Option<Message>) {
        match &mut self.phase {
            Phase::AwaitReply { pake, .. } => match message {
                Some(Message::PakeReply(reply)) => {
                    let confirmation = pake
                        .take()
                        .and_then(|pake| pake.finish(&reply.pake_message, &reply.confirmation));
                    let Some((confirmation, transcript)) = confirmation else {
                        self.finish(EndReason::AuthFailed, true);
                        return;
                    };
                    self.phase = Phase::AwaitApproval {
                        deadline: now + self.approval_timeout,
                    };
                    let host_name = sanitize_display_text(&reply.host_name, MAX_NAME_LEN);
                    self.host_name = Some(host_name.clone());
                    // The identity, with its key's signature over this
                    // session's transcript: worthless in any other session.
                    let (identity, identity_proof) = match &self.identity {
                        Some(credential) => (
                            credential.identity().to_text(),
                            credential
                                .sign(&transcript.identity_proof_message())
                                .to_vec(),
                        ),
                        None => (String::new(), Vec::new()),
                    };
                    self.send(Message::KeyConfirm(proto::KeyConfirm {
                        confirmation,
                        identity,
                        identity_proof,
                    }));
                    self.events
                        .push_back(HelperEvent::Authenticated { host_name });
                }
                Some(Message::Bye(bye)) => self.finish(end_reason_from_wire(bye.reason), false),
                _ => self.finish(EndReason::ProtocolError, true),
            },
            Phase::AwaitApproval { .. } => match message {
                Some(Message::Approved(_)) => {
                    self.phase = Phase::Active {
                        control: ControlState::None,
                        paused: false,
                        clipboard: false,
                    };
                    self.events.push_back(HelperEvent::Connected);
                }
                Some(Message::Bye(bye)) => self.finish(end_reason_from_wire(bye.reason), false),
                Some(Message::Error(e)) => {
                    tracing::debug!(code = e.code, detail = %e.detail, "peer error");
                }
                None => self.send_error(proto::ErrorCode::UnknownMessage, "unknown message"),
                Some(_) => self.send_error(proto::ErrorCode::UnexpectedMessage, "not approved yet"),
            },
            Phase::Active { .. } => self.handle_session_message(now, message),
            Phase::Ending { .. } => self.handle_ending_message(message),
            Phase::Ended(_) => {}
        }
    }

    fn handle_session_message(&mut self, now: Instant, message: Option<Message>) {
        let Phase::Active {
            control,
            paused,
            clipboard,
        } = &mut self.phase
        else {
            return;
        };
        match message {
            Some(Message::ControlDecision(decision)) => {
                if *control != ControlState::Requested {
                    tracing::debug!("control decision without a request");
                }
                if decision.granted {
                    let grant = GrantId(decision.grant_id);
                    *control = ControlState::Granted(grant);
                    self.events.push_back(HelperEvent::ControlGranted {
                        grant,
                        scopes: ControlScopes::from_bits(decision.scopes),
                        expires_in: (decision.expires_in_ms > 0)
                            .then(|| Duration::from_millis(decision.expires_in_ms)),
                    });
                } else {
                    *control = ControlState::None;
                    self.events.push_back(HelperEvent::ControlDenied {
                        reason: deny_reason_from_wire(decision.reason),
                    });
                }
            }
            Some(Message::ControlRevoked(revoked)) => {
                if *control == ControlState::Granted(GrantId(revoked.grant_id)) {
                    *control = ControlState::None;
                    self.events.push_back(HelperEvent::ControlRevoked {
                        reason: revoke_reason_from_wire(revoked.reason),
                    });
                }
            }
            Some(Message::PauseState(state)) => {
                if state.paused != *paused {
                    *paused = state.paused;
                    self.events.push_back(if state.paused {
                        HelperEvent::Paused
                    } else {
                        HelperEvent::Resumed
                    });
                }
            }
            Some(Message::Chat(chat)) => {
                if check_chat(&chat.text).is_ok() {
                    self.events.push_back(HelperEvent::Chat {
                        text: crate::text::clean_chat(&chat.text),
                    });
                }
            }
            Some(Message::Cursor(cursor)) => {
                if !*paused {
                    self.handle_cursor(now, cursor);
                }
            }
            Some(Message::ClipboardState(state)) => {
                if *clipboard != state.enabled {
                    *clipboard = state.enabled;
                    self.events.push_back(HelperEvent::ClipboardSharing {
                        enabled: state.enabled,
                    });
                }
            }
            Some(Message::Clipboard(clip)) => {
                if *clipboard && !*paused && clip.text.len() <= MAX_CLIPBOARD_LEN {
                    self.events
                        .push_back(HelperEvent::Clipboard { text: clip.text });
                }
            }
            Some(Message::DisplayList(list)) => self.handle_display_list(now, &list),
            Some(Message::Redactions(mask)) => self.handle_redactions(&mask),
            Some(Message::Receipt(receipt)) => self.handle_receipt(&receipt.text),
            Some(Message::ResumeOffer(offer)) => self.handle_resume_offer(now, offer),
            Some(Message::Bye(bye)) => self.finish(end_reason_from_wire(bye.reason), false),
            Some(Message::Error(e)) => {
                tracing::debug!(code = e.code, detail = %e.detail, "peer error");
            }
            None => self.send_error(proto::ErrorCode::UnknownMessage, "unknown message"),
            Some(_) => self.send_error(
                proto::ErrorCode::UnexpectedMessage,
                "a host cannot send this message",
            ),
        }
    }
}
