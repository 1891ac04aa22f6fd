//! The helper application's commands as one type, applied by the connection
//! itself ([`HelperConnection::apply`]): what the runtime's controller and
//! the C ABI send.

use std::time::Instant;

use super::HelperConnection;
use crate::input::InputEvent;
use crate::media::DisplayId;
use crate::session::types::{CommandError, ControlScopes, PointerKind};

/// Something the helper application asks of its session.
///
/// Each variant is one of [`HelperConnection`]'s commands; the errors are
/// those of the method it names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelperCommand {
    /// Ask the host for control ([`HelperConnection::request_control`]).
    RequestControl,
    /// Ask the host for control of only these scopes
    /// ([`HelperConnection::request_control_scopes`]).
    RequestControlScopes(ControlScopes),
    /// Give control back ([`HelperConnection::release_control`]).
    ReleaseControl,
    /// Send input events, in order ([`HelperConnection::send_input`]).
    SendInput(Vec<InputEvent>),
    /// Send a chat message ([`HelperConnection::chat`]).
    Chat(String),
    /// Show a pointer mark on the host's screen ([`HelperConnection::pointer`]).
    Pointer {
        /// Horizontal position in the picture.
        x: i32,
        /// Vertical position in the picture.
        y: i32,
        /// What the mark means.
        kind: PointerKind,
    },
    /// Ask the host to capture another display ([`HelperConnection::select_display`]).
    SelectDisplay(DisplayId),
    /// Ask the host for a keyframe ([`HelperConnection::request_keyframe`]).
    RequestKeyframe,
    /// Send the helper's clipboard text ([`HelperConnection::send_clipboard`]).
    SendClipboard(String),
    /// End the session ([`HelperConnection::end`]).
    End,
}

impl HelperConnection {
    /// Applies `command` at `now`.
    ///
    /// # Errors
    /// Those of the method the command names; the session is then unchanged.
    pub fn apply(&mut self, now: Instant, command: HelperCommand) -> Result<(), CommandError> {
        match command {
            HelperCommand::RequestControl => self.request_control(now),
            HelperCommand::RequestControlScopes(scopes) => self.request_control_scopes(now, scopes),
            HelperCommand::ReleaseControl => self.release_control(now),
            HelperCommand::SendInput(events) => self.send_input(now, &events),
            HelperCommand::Chat(text) => self.chat(now, &text),
            HelperCommand::Pointer { x, y, kind } => self.pointer(now, x, y, kind),
            HelperCommand::SelectDisplay(display) => self.select_display(now, display),
            HelperCommand::RequestKeyframe => self.request_keyframe(now),
            HelperCommand::SendClipboard(text) => self.send_clipboard(now, &text),
            HelperCommand::End => {
                self.end(now);
                Ok(())
            }
        }
    }
}
