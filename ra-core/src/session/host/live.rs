//! The live session's messages from the helper (control requests, chat,
//! pointer marks, clipboard, display selection) and the host's chat and
//! clipboard.

use std::time::Instant;

use super::{Connection, DeskCommand, HostEndpoint, HostEvent, MediaCommand, Phase, check_chat};
use crate::audit::AuditEvent;
use crate::media::DisplayId;
use crate::proto::{self, envelope::Message};
use crate::session::types::{
    CommandError, ConnectionId, ControlScopes, ControlState, DenyReason, EndReason, GrantId,
    RevokeReason,
};
use crate::session::wire::{MAX_CLIPBOARD_LEN, end_reason_from_wire, pointer_kind_from_wire};

impl HostEndpoint {
    pub(super) fn handle_session_message(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        message: Option<Message>,
    ) {
        if !matches!(
            self.connections.get(&conn).map(|c| &c.phase),
            Some(Phase::Active { .. })
        ) {
            return;
        }
        if !self.message_budget.admit(now, &message) {
            self.messages_dropped += 1;
            // Logged now and then, not once a message: a flood must not
            // become a flood of log lines.
            if self.messages_dropped.is_power_of_two() {
                let dropped = self.messages_dropped;
                tracing::info!(%conn, dropped, "helper messages over their rate limits dropped");
            }
            return;
        }
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
            Some(Message::ControlRequest(request)) => {
                let scopes = ControlScopes::from_bits(request.scopes);
                if *paused {
                    self.deny_control_for(conn, DenyReason::Paused);
                } else if !self.policy.allow_control {
                    self.deny_control_for(conn, DenyReason::Policy);
                } else if *control == ControlState::None {
                    *control = ControlState::Requested;
                    self.asked_scopes = scopes;
                    self.emit(HostEvent::ControlRequested { conn, scopes });
                }
            }
            Some(Message::ControlRevoked(released)) => {
                if *control == ControlState::Granted(GrantId(released.grant_id)) {
                    self.revoke_for(now, conn, RevokeReason::Released);
                }
            }
            Some(Message::Chat(chat)) => {
                if check_chat(&chat.text).is_ok() {
                    self.emit(HostEvent::Chat {
                        conn,
                        text: crate::text::clean_chat(&chat.text),
                    });
                } else {
                    self.send_error(conn, proto::ErrorCode::InvalidMessage, "chat text too long");
                }
            }
            Some(Message::Pointer(p)) => {
                if !*paused {
                    self.emit(HostEvent::Pointer {
                        conn,
                        x: p.x,
                        y: p.y,
                        kind: pointer_kind_from_wire(p.kind),
                    });
                }
            }
            Some(Message::Clipboard(clip)) => {
                let outside_grant = matches!(*control, ControlState::Granted(_))
                    && self
                        .grant_terms
                        .is_some_and(|terms| !terms.scopes.clipboard);
                if outside_grant {
                    self.input_dropped += 1;
                    self.send_error(
                        conn,
                        proto::ErrorCode::UnexpectedMessage,
                        "the grant of control does not cover the clipboard",
                    );
                } else if !self.clipboard_open(conn) {
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
                    // On the host's clipboard before the application hears
                    // it came.
                    self.desk
                        .push_back(DeskCommand::PutClipboard(clip.text.clone()));
                    self.emit(HostEvent::Clipboard {
                        conn,
                        text: clip.text,
                    });
                }
            }
            Some(Message::KeyframeRequest(_)) => {
                if self.streaming == Some(conn) {
                    self.media.push_back(MediaCommand::Keyframe { conn });
                }
            }
            Some(Message::SelectDisplay(select)) => {
                self.helper_selects_display(conn, DisplayId(select.id));
            }
            Some(Message::Bye(bye)) => {
                let reason = match end_reason_from_wire(bye.reason) {
                    EndReason::ProtocolError => EndReason::ProtocolError,
                    _ => EndReason::HelperEnded,
                };
                self.end_connection(now, conn, reason, false);
            }
            other => self.refuse_message(conn, other, "a helper cannot send this message"),
        }
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
        self.record(AuditEvent::Chat {
            from: "host".to_owned(),
            text: text.to_owned(),
        });
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

    pub(super) fn clipboard_open(&self, conn: ConnectionId) -> bool {
        matches!(
            self.connections.get(&conn).map(|c| &c.phase),
            Some(Phase::Active {
                clipboard: true,
                paused: false,
                ..
            })
        )
    }

    pub(super) fn clipboard_sharing_for(&mut self, conn: ConnectionId, enabled: bool) {
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
        // Started before the application hears it is on: whoever reads the
        // event may copy at once.
        if enabled {
            self.clipboard_shared();
        }
        self.emit(HostEvent::ClipboardSharing { conn, enabled });
    }
}
