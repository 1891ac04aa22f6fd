//! What a host endpoint tells its application and its driver.

use std::net::SocketAddr;

use super::HelperVerification;
use crate::desk::DeskPart;
use crate::input::InputEvent;
use crate::media::DisplayId;
use crate::session::types::{
    ConnectionId, ControlScopes, DenyReason, EndReason, GrantId, InvitationCloseReason,
    PointerKind, RevokeReason,
};

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
        /// Who vouches for the helper, if anyone: show it, and with
        /// [`HelperVerification::Unverified`] the standard warning.
        verification: HelperVerification,
        /// The session this request resumes, when the host re-opened it from
        /// a resume ticket ([`crate::resume`]): say so to the host's user.
        /// The helper starts view-only again, as any other.
        resumes: Option<crate::invitation::SessionId>,
    },
    /// A helper that proved the password was refused before the host was
    /// asked: the policy requires a verified helper
    /// (`require_verified_helper`) and this one is not.
    ConnectionRefused {
        /// The connection.
        conn: ConnectionId,
        /// The name the helper gave (sanitized; not authenticated).
        helper_name: String,
        /// The helper's network address.
        peer: SocketAddr,
        /// Why (no identity, or what is wrong with it).
        reason: String,
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
        /// What it asks to do (answer with
        /// [`HostEndpoint::grant_control_with`] to give less, or for a time).
        scopes: ControlScopes,
    },
    /// Control was granted.
    ControlGranted {
        /// The connection.
        conn: ConnectionId,
        /// The grant.
        grant: GrantId,
        /// What it covers.
        scopes: ControlScopes,
        /// When it ends by itself (wall clock), if it does.
        expires_at: Option<std::time::SystemTime>,
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
    /// The consent receipt of an approved session that ended: signed by the
    /// host, countersigned by a verified helper when it answered in time.
    /// Comes just before that session's [`HostEvent::Ended`]; store it.
    Receipt {
        /// The connection.
        conn: ConnectionId,
        /// The receipt ([`crate::receipt::ConsentReceipt::to_text`] writes it).
        receipt: Box<crate::receipt::ConsentReceipt>,
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
    /// The local panic key was pressed (control, if granted, is revoked: see
    /// [`HostEvent::ControlRevoked`]).
    PanicKey,
    /// A text copied on the host was sent to the helper (clipboard sharing).
    ClipboardSent {
        /// The connection.
        conn: ConnectionId,
        /// Its length in bytes.
        bytes: usize,
    },
    /// A desk backend failed; the session goes on without it.
    DeskFailed {
        /// Which one.
        part: DeskPart,
        /// What went wrong.
        message: String,
    },
    /// The screen could not be captured: the helper's video stops until it
    /// asks for a keyframe or another display. Told once per failure (again
    /// only after pictures came back).
    CaptureFailed {
        /// Whether the source itself is gone (the display server closed, the
        /// desktop ended the remote-desktop session); retrying may still
        /// fail.
        source_lost: bool,
        /// What went wrong.
        message: String,
    },
    /// The redaction mask changed (the policy's and the application's
    /// rectangles, desktop coordinates): from the next picture on.
    RedactionsChanged {
        /// Every masked rectangle.
        areas: Vec<crate::media::Rect>,
        /// The classes of the masked windows, wherever they are.
        windows: Vec<String>,
    },
    /// The helper switched to `display` (one the policy allows).
    DisplaySelected {
        /// The connection.
        conn: ConnectionId,
        /// The display it watches now.
        display: DisplayId,
    },
    /// The helper asked for `display`, which the policy's
    /// `allowed_displays` does not share: refused, and the helper told.
    DisplayRefused {
        /// The connection.
        conn: ConnectionId,
        /// The display it asked for.
        display: DisplayId,
    },
    /// Told once, at the start: this desk can have neither a panic key nor
    /// "the local user wins" (a Wayland desktop lets no application watch
    /// the keyboard and pointer outside its windows).
    DeskLimited {
        /// Why, and what the person at the desk can do instead.
        reason: String,
    },
    /// Nothing arrived from the helper on `conn` for a few seconds
    /// ([`crate::session::link::INTERRUPTED_AFTER`]): the network between
    /// them went dark. Keys and buttons the helper held are released, video
    /// is held, and input sent before the outage is never replayed; the
    /// session waits for the path for its outage grace, then ends
    /// ([`EndReason::ConnectionLost`](crate::session::EndReason)).
    ConnectionInterrupted {
        /// The connection.
        conn: ConnectionId,
    },
    /// The path to `conn` carries packets again: video resumes from a
    /// keyframe at a safe rate; control stays as it was.
    ConnectionRestored {
        /// The connection.
        conn: ConnectionId,
        /// How long nothing arrived.
        silent_for: std::time::Duration,
    },
}

/// What the driver must send or do on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub enum Injection {
    /// Inject this event.
    Inject(InputEvent),
    /// Release every key and button the helper holds.
    ReleaseAll,
}

/// What the driver must do with the capture/encode pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The redaction mask changed: give the capture path
    /// [`super::HostEndpoint::redactions`] and
    /// [`super::HostEndpoint::redacted_windows`].
    RedactionsChanged,
}
