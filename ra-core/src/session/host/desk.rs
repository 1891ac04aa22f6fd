//! The host's desk in the session: the panic key takes control back,
//! the local user's own input holds the helper's back, and the clipboard is
//! followed only once sharing is first on and sent only while it is on.

use std::time::Instant;

use super::{HostEndpoint, HostEvent};
use crate::desk::{DeskPart, DeskSignal};
use crate::proto::{self, envelope::Message};
use crate::session::types::{ControlState, RevokeReason};
use crate::session::wire::MAX_CLIPBOARD_LEN;

/// What the driver must do with the host's desk backends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeskCommand {
    /// Start following the clipboard: sharing was turned on for the first
    /// time. Before this the clipboard is never read.
    StartClipboard,
    /// Put the helper's text on the host's clipboard.
    PutClipboard(String),
}

impl HostEndpoint {
    /// Something happened at the host's desk (see [`DeskSignal`]): the panic
    /// key revokes control whenever pressed (and the application hears of
    /// it even without a grant); local input holds the helper's input back
    /// for the configured time; a clipboard change is sent while the host
    /// shares the clipboard, and dropped otherwise.
    pub fn handle_desk(&mut self, now: Instant, signal: DeskSignal) {
        match signal {
            DeskSignal::PanicKey => {
                self.emit(HostEvent::PanicKey);
                if let Some(conn) = self.active
                    && matches!(self.control_state(conn), Some(ControlState::Granted(_)))
                {
                    self.revoke_for(now, conn, RevokeReason::PanicKey);
                }
            }
            DeskSignal::LocalInput => self.suspend_remote_input(now, self.local_user_wins),
            DeskSignal::ClipboardChanged(text) => {
                let Ok(conn) = self.live_connection() else {
                    return;
                };
                if !self.clipboard_open(conn) || text.len() > MAX_CLIPBOARD_LEN {
                    return;
                }
                let bytes = text.len();
                self.send(conn, Message::Clipboard(proto::Clipboard { text }));
                self.emit(HostEvent::ClipboardSent { conn, bytes });
            }
        }
    }

    /// A desk backend failed (the session goes on without it): the
    /// application is told.
    pub fn handle_desk_failure(&mut self, _now: Instant, part: DeskPart, message: String) {
        self.emit(HostEvent::DeskFailed { part, message });
    }

    /// The next command for the desk backends.
    pub fn poll_desk(&mut self) -> Option<DeskCommand> {
        self.desk.pop_front()
    }

    /// Sharing turned on: the clipboard is started the first time.
    pub(super) fn clipboard_shared(&mut self) {
        if !self.clipboard_started {
            self.clipboard_started = true;
            self.desk.push_back(DeskCommand::StartClipboard);
        }
    }
}
