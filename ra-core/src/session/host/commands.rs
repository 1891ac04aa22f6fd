//! The host application's commands as one type. The runtime's controller
//! carries them to the driver, the C ABI sends the same ones, and the
//! endpoint applies them itself ([`HostEndpoint::apply`]): one path for
//! every command, whoever sends it.

use std::time::{Duration, Instant};

use super::HostEndpoint;
use crate::policy::Policy;
use crate::session::types::{CommandError, ConnectionId, ControlScopes};

/// Something the host application asks of its session.
///
/// Each variant is one of [`HostEndpoint`]'s commands; the errors are those
/// of the method it names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostCommand {
    /// Let the helper in, view only ([`HostEndpoint::approve`]).
    Approve(ConnectionId),
    /// Turn the helper away ([`HostEndpoint::deny`]).
    Deny(ConnectionId),
    /// Give the helper control ([`HostEndpoint::grant_control`]).
    GrantControl(ConnectionId),
    /// Give the helper control of some scopes, for a time
    /// ([`HostEndpoint::grant_control_with`]).
    GrantControlWith {
        /// The connection.
        conn: ConnectionId,
        /// What the grant covers (of what the helper asked for).
        scopes: ControlScopes,
        /// How long it lasts (`None`: until revoked); the policy caps it.
        duration: Option<Duration>,
    },
    /// Refuse the helper's control request ([`HostEndpoint::deny_control`]).
    DenyControl(ConnectionId),
    /// Take control back ([`HostEndpoint::revoke`]).
    Revoke,
    /// Take control back because the host's own panic control was used
    /// ([`HostEndpoint::revoke_panic_key`]): for an application with a panic
    /// button of its own; the panic key of the host's desk needs no command.
    RevokePanicKey,
    /// Stop sharing the screen and revoke control ([`HostEndpoint::pause`]).
    Pause,
    /// Share the screen again ([`HostEndpoint::resume`]).
    Resume,
    /// Send a chat message ([`HostEndpoint::chat`]).
    Chat(String),
    /// End the current session ([`HostEndpoint::end`]).
    End,
    /// Take no more connections ([`HostEndpoint::close_invitation`]).
    CloseInvitation,
    /// Apply a new policy at once ([`HostEndpoint::set_policy`]).
    SetPolicy(Policy),
    /// Turn clipboard sharing on or off ([`HostEndpoint::set_clipboard_sharing`]).
    SetClipboardSharing(bool),
    /// Send the host's clipboard text ([`HostEndpoint::send_clipboard`]).
    SendClipboard(String),
    /// The local user is using the mouse or keyboard: hold the helper's
    /// input back for this long ([`HostEndpoint::suspend_remote_input`]).
    /// For an application that watches the desk itself; with a local input
    /// watcher among the host's backends this happens by itself.
    LocalInputSeen(Duration),
    /// Mask these desktop rectangles, besides the policy's
    /// ([`HostEndpoint::set_redactions`]).
    SetRedactions(Vec<crate::media::Rect>),
    /// Mask the windows of these classes, besides the policy's
    /// ([`HostEndpoint::set_redacted_windows`]).
    SetRedactedWindows(Vec<String>),
}

impl HostEndpoint {
    /// Applies `command` at `now`.
    ///
    /// # Errors
    /// Those of the method the command names; the session is then unchanged.
    pub fn apply(&mut self, now: Instant, command: HostCommand) -> Result<(), CommandError> {
        match command {
            HostCommand::Approve(conn) => self.approve(now, conn),
            HostCommand::Deny(conn) => self.deny(now, conn),
            HostCommand::GrantControl(conn) => self.grant_control(now, conn),
            HostCommand::GrantControlWith {
                conn,
                scopes,
                duration,
            } => self.grant_control_with(now, conn, scopes, duration),
            HostCommand::DenyControl(conn) => self.deny_control(now, conn),
            HostCommand::Revoke => self.revoke(now),
            HostCommand::RevokePanicKey => self.revoke_panic_key(now),
            HostCommand::Pause => self.pause(now),
            HostCommand::Resume => self.resume(now),
            HostCommand::Chat(text) => self.chat(now, &text),
            HostCommand::End => self.end(now),
            HostCommand::CloseInvitation => {
                self.close_invitation(now);
                Ok(())
            }
            HostCommand::SetPolicy(policy) => {
                self.set_policy(now, policy);
                Ok(())
            }
            HostCommand::SetClipboardSharing(enabled) => self.set_clipboard_sharing(now, enabled),
            HostCommand::SendClipboard(text) => self.send_clipboard(now, &text),
            HostCommand::LocalInputSeen(duration) => {
                self.suspend_remote_input(now, duration);
                Ok(())
            }
            HostCommand::SetRedactions(rects) => self.set_redactions(now, rects),
            HostCommand::SetRedactedWindows(classes) => self.set_redacted_windows(now, classes),
        }
    }
}
