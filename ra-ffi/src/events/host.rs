//! Host events as C sees them: the `RA_HOST_EVENT_*` kinds, the
//! `ra_host_event_data` struct and its exports.

use std::ffi::{CString, c_char};
use std::ptr;

use ra_core::session::{HelperVerification, HostEvent, UNVERIFIED_HELPER_WARNING};

use crate::error::Error;
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::queue::Queued;
use crate::result::{RA_RESULT_BACKEND, ra_result};
use crate::types::*;

use super::{Strings, get_data, short_debug};

/// An event this version of the C ABI does not describe; `description` says
/// what it is.
pub const RA_HOST_EVENT_OTHER: u32 = 0;
/// A helper proved it knows the password and asks to connect (`connection`,
/// `helper_name`, `peer`): answer with `ra_host_approve` or `ra_host_deny`.
pub const RA_HOST_EVENT_CONNECTION_REQUEST: u32 = 1;
/// A password attempt failed (`peer`, `attempts`, `max_attempts`).
pub const RA_HOST_EVENT_AUTH_FAILED: u32 = 2;
/// The helper now sees the screen, view only (`connection`, `helper_name`).
pub const RA_HOST_EVENT_CONNECTED: u32 = 3;
/// The helper asks for control: answer with `ra_host_grant_control` or
/// `ra_host_deny_control`.
pub const RA_HOST_EVENT_CONTROL_REQUESTED: u32 = 4;
/// Control was granted (`grant`).
pub const RA_HOST_EVENT_CONTROL_GRANTED: u32 = 5;
/// A control request was denied (`reason`: `RA_DENY_*`).
pub const RA_HOST_EVENT_CONTROL_DENIED: u32 = 6;
/// Control was taken back (`reason`: `RA_REVOKE_*`).
pub const RA_HOST_EVENT_CONTROL_REVOKED: u32 = 7;
/// The session is paused: no video, no control.
pub const RA_HOST_EVENT_PAUSED: u32 = 8;
/// The session resumed.
pub const RA_HOST_EVENT_RESUMED: u32 = 9;
/// The helper wrote a chat message (`text`).
pub const RA_HOST_EVENT_CHAT: u32 = 10;
/// The helper points at something (`x`, `y`, `pointer_kind`).
pub const RA_HOST_EVENT_POINTER: u32 = 11;
/// A session that had asked to connect is over (`reason`: `RA_END_*`).
pub const RA_HOST_EVENT_ENDED: u32 = 12;
/// The invitation takes no more connections (`reason`: `RA_CLOSE_*`).
pub const RA_HOST_EVENT_INVITATION_CLOSED: u32 = 13;
/// A backend failed (`backend`: `RA_BACKEND_*`, `backend_result`, and
/// `description`); a C callback that panicked or returned an error is
/// reported this way, and so is the built-in screen capturer losing its
/// screen (`RA_BACKEND_CAPTURER`, `RA_RESULT_BACKEND`: an X server that
/// went away, a Wayland session the desktop ended), once per failure.
pub const RA_HOST_EVENT_BACKEND_ERROR: u32 = 14;
/// Clipboard sharing was turned on or off (`enabled`), by
/// `ra_host_set_clipboard_sharing` or by a policy change.
pub const RA_HOST_EVENT_CLIPBOARD_SHARING: u32 = 15;
/// The helper's clipboard changed (`text`): put it on the host's clipboard
/// (done already when the host uses the system clipboard).
pub const RA_HOST_EVENT_CLIPBOARD: u32 = 16;
/// The local panic key was pressed (see `ra_host_backends_set_panic_key`);
/// control, if granted, is revoked too (`RA_HOST_EVENT_CONTROL_REVOKED`).
pub const RA_HOST_EVENT_PANIC_KEY: u32 = 17;
/// A text copied on the host was sent to the helper (`connection`, `bytes`;
/// see `ra_host_backends_use_system_clipboard`).
pub const RA_HOST_EVENT_CLIPBOARD_SENT: u32 = 18;
/// Told once, as the session starts: this desk can have neither a panic key
/// nor "the local user wins" (a Wayland desktop lets no application watch
/// the keyboard and pointer outside its windows); `text` and `description`
/// say why and what the person at the desk can do instead. Settings of
/// `ra_host_backends_set_panic_key` and `ra_host_backends_set_local_user_wins_ms`
/// for the session's own display were left out.
pub const RA_HOST_EVENT_DESK_LIMITED: u32 = 19;
/// A helper that proved the password was refused before the host was asked:
/// the policy requires a verified helper (`require_verified_helper`) and this
/// one is not (`helper_name`, `peer`; `text`: why).
pub const RA_HOST_EVENT_CONNECTION_REFUSED: u32 = 20;
/// The consent receipt of an approved session that ended (`connection`;
/// `text`: the receipt, one line of JSON to store as it is — check it with
/// `ra-audit verify-receipt`; `countersigned`: nonzero when the verified
/// helper countersigned it). Comes just before that session's
/// `RA_HOST_EVENT_ENDED`.
pub const RA_HOST_EVENT_RECEIPT: u32 = 21;
/// The helper switched to another display (`connection`, `display`: its
/// id, or `RA_DISPLAY_ALL`).
pub const RA_HOST_EVENT_DISPLAY_SELECTED: u32 = 22;
/// The helper asked for a display the policy's `allowed_displays` does not
/// share (`connection`, `display`): refused, and the helper told.
pub const RA_HOST_EVENT_DISPLAY_REFUSED: u32 = 23;
/// The redaction mask changed — set by the application or by a policy:
/// `redactions` (`redactions_len` rectangles, desktop coordinates) and the
/// masked window classes in `text`, one per line. From the next picture on.
pub const RA_HOST_EVENT_REDACTIONS_CHANGED: u32 = 24;
/// Nothing arrived from the helper on `connection` for a few seconds: the
/// network went dark. The keys and buttons it held are released, video is
/// held, input sent before the outage is never replayed; after the outage
/// grace the session ends (`RA_HOST_EVENT_ENDED`, `RA_REASON_CONNECTION_LOST`).
pub const RA_HOST_EVENT_CONNECTION_INTERRUPTED: u32 = 25;
/// The path to `connection` carries packets again after `silent_ms`
/// milliseconds: video resumes from a keyframe; control is as it was.
pub const RA_HOST_EVENT_CONNECTION_RESTORED: u32 = 26;

/// The standard warning to show the person at the host with a helper whose
/// identity is not verified (`RA_HOST_EVENT_CONNECTION_REQUEST` with
/// `verified` 0 carries it in `warning` too). A static string: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn ra_unverified_helper_warning() -> *const c_char {
    static WARNING: std::sync::OnceLock<CString> = std::sync::OnceLock::new();
    WARNING
        .get_or_init(|| CString::new(UNVERIFIED_HELPER_WARNING).unwrap_or_default())
        .as_ptr()
}

/// The capturer.
pub const RA_BACKEND_CAPTURER: u32 = 1;
/// The encoder.
pub const RA_BACKEND_ENCODER: u32 = 2;
/// The input injector.
pub const RA_BACKEND_INJECTOR: u32 = 3;
/// The host's desk: the panic key, the local input watcher or the clipboard.
pub const RA_BACKEND_DESK: u32 = 4;

/// What travels through a host's event queue.
#[derive(Debug)]
pub(crate) enum HostItem {
    Event(HostEvent),
    Backend { backend: u32, error: Error },
}

impl ra_core::runtime::event_queue::Sheddable for HostItem {
    fn sheddable(&self) -> bool {
        match self {
            HostItem::Event(event) => event.sheddable(),
            HostItem::Backend { .. } => false,
        }
    }
}

impl Queued for HostItem {
    fn is_frame(&self) -> bool {
        false
    }
    fn cover_whole(&mut self) {}
}

/// The contents of a host event. Fields that do not apply to `kind` are 0 or
/// NULL. Strings are NUL-terminated UTF-8 owned by the event.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_host_event_data {
    /// `sizeof(ra_host_event_data)`, set by the caller before the call; the library
    /// writes no more than that and sets it to the bytes it wrote.
    pub struct_size: usize,
    /// `RA_HOST_EVENT_*`.
    pub kind: u32,
    /// The connection the event is about (pass it to `ra_host_approve`, …).
    pub connection: u64,
    /// The helper's name (not authenticated; sanitized).
    pub helper_name: *const c_char,
    /// The helper's network address, `"IP:PORT"`.
    pub peer: *const c_char,
    /// The chat message (`RA_HOST_EVENT_CHAT`), the clipboard text
    /// (`RA_HOST_EVENT_CLIPBOARD`), why the desk is limited
    /// (`RA_HOST_EVENT_DESK_LIMITED`), or the receipt (`RA_HOST_EVENT_RECEIPT`).
    pub text: *const c_char,
    /// The reason, as a number of the kind's family (`RA_END_*`, `RA_DENY_*`,
    /// `RA_REVOKE_*`, `RA_CLOSE_*`), or `RA_REASON_OTHER`.
    pub reason: u32,
    /// The reason's stable snake_case name (`"host_ended"`).
    pub reason_name: *const c_char,
    /// Failed password attempts so far.
    pub attempts: u32,
    /// Failed attempts that close the invitation.
    pub max_attempts: u32,
    /// The control grant's number.
    pub grant: u32,
    /// Horizontal position of a pointer mark.
    pub x: i32,
    /// Vertical position of a pointer mark.
    pub y: i32,
    /// `RA_POINTER_*`.
    pub pointer_kind: u32,
    /// `RA_BACKEND_*` for `RA_HOST_EVENT_BACKEND_ERROR`.
    pub backend: u32,
    /// What the backend failed with (e.g. `RA_RESULT_PANIC`).
    pub backend_result: ra_result,
    /// A human-readable description of the event; never NULL.
    pub description: *const c_char,
    /// Nonzero when clipboard sharing is now on (`RA_HOST_EVENT_CLIPBOARD_SHARING`).
    pub enabled: u8,
    /// The length of the text sent, in bytes (`RA_HOST_EVENT_CLIPBOARD_SENT`).
    pub bytes: u32,
    /// `RA_SCOPE_*` bits: what the helper asks for
    /// (`RA_HOST_EVENT_CONTROL_REQUESTED`) or was given
    /// (`RA_HOST_EVENT_CONTROL_GRANTED`).
    pub scopes: u32,
    /// When the grant ends by itself, in milliseconds since the Unix epoch;
    /// 0: until revoked (`RA_HOST_EVENT_CONTROL_GRANTED`).
    pub expires_at_ms: u64,
    /// Nonzero when the helper's organisation-signed identity was verified
    /// (`RA_HOST_EVENT_CONNECTION_REQUEST`): then `organisation`,
    /// `organisation_key`, `verified_helper`, `helper_key` and
    /// `identity_expires_ms` say who it is.
    pub verified: u8,
    /// The organisation vouching for the helper.
    pub organisation: *const c_char,
    /// Its key (`raorg1-…`).
    pub organisation_key: *const c_char,
    /// The helper's name as the organisation wrote it.
    pub verified_helper: *const c_char,
    /// The helper's key (`rahelper1-…`, what `revoked_helpers` lists).
    pub helper_key: *const c_char,
    /// When the identity expires, in milliseconds since the Unix epoch.
    pub identity_expires_ms: u64,
    /// Why an identity the helper showed was not accepted (NULL: none shown,
    /// or verified).
    pub identity_problem: *const c_char,
    /// With an unverified helper, the standard warning to show
    /// (`ra_unverified_helper_warning`); NULL when verified.
    pub warning: *const c_char,
    /// Nonzero when the receipt (`RA_HOST_EVENT_RECEIPT`) is countersigned
    /// by the helper's identity key.
    pub countersigned: u8,
    /// The display (`RA_HOST_EVENT_DISPLAY_SELECTED`, `_DISPLAY_REFUSED`).
    pub display: u32,
    /// The masked rectangles, desktop coordinates
    /// (`RA_HOST_EVENT_REDACTIONS_CHANGED`; NULL when none).
    pub redactions: *const ra_rect,
    /// How many `redactions` there are.
    pub redactions_len: usize,
    /// How long nothing arrived, in milliseconds
    /// (`RA_HOST_EVENT_CONNECTION_RESTORED`).
    pub silent_ms: u64,
    /// The session (hex id) a `RA_HOST_EVENT_CONNECTION_REQUEST` resumes,
    /// when the host was re-opened from a resume ticket
    /// (`ra_host_resume_from_ticket`): say so to the host's user. NULL for
    /// an ordinary request.
    pub resumes: *const c_char,
}

// SAFETY: repr(C), Copy, `struct_size: usize` first.
unsafe impl crate::sized::SizedStruct for ra_host_event_data {
    const NAME: &'static str = "ra_host_event_data";
}

/// A host event (opaque; read it with `ra_host_event_get_data`).
#[derive(Debug)]
pub struct ra_host_event {
    data: ra_host_event_data,
    /// What the pointers in `data` point at (a CString's bytes never move).
    _strings: Vec<CString>,
    /// What `data.redactions` points at.
    _redactions: Vec<ra_rect>,
}

// SAFETY: the raw pointers in `data` point into `_strings` and `_redactions`,
// owned by the same value and never mutated (a Vec's heap buffer does not
// move with it), so the event can move to and be freed on any thread.
unsafe impl Send for ra_host_event {}

impl Handle for ra_host_event {
    const NAME: &'static str = "ra_host_event";
}

impl ra_host_event {
    pub(crate) fn new(item: HostItem) -> Self {
        let mut strings = Strings::default();
        let description = match &item {
            HostItem::Event(event) => short_debug(event),
            HostItem::Backend { error, .. } => error.detail.clone(),
        };
        let mut data = ra_host_event_data {
            struct_size: std::mem::size_of::<ra_host_event_data>(),
            kind: RA_HOST_EVENT_OTHER,
            connection: 0,
            helper_name: ptr::null(),
            peer: ptr::null(),
            text: ptr::null(),
            reason: RA_REASON_OTHER,
            reason_name: ptr::null(),
            attempts: 0,
            max_attempts: 0,
            grant: 0,
            x: 0,
            y: 0,
            pointer_kind: 0,
            backend: 0,
            backend_result: 0,
            description: strings.add(&description),
            enabled: 0,
            bytes: 0,
            scopes: 0,
            expires_at_ms: 0,
            verified: 0,
            organisation: ptr::null(),
            organisation_key: ptr::null(),
            verified_helper: ptr::null(),
            helper_key: ptr::null(),
            identity_expires_ms: 0,
            identity_problem: ptr::null(),
            warning: ptr::null(),
            countersigned: 0,
            display: 0,
            redactions: ptr::null(),
            redactions_len: 0,
            silent_ms: 0,
            resumes: ptr::null(),
        };
        let mut redactions = Vec::new();
        match item {
            HostItem::Backend { backend, error } => {
                data.kind = RA_HOST_EVENT_BACKEND_ERROR;
                data.backend = backend;
                data.backend_result = error.code;
            }
            HostItem::Event(HostEvent::RedactionsChanged { areas, windows }) => {
                data.kind = RA_HOST_EVENT_REDACTIONS_CHANGED;
                redactions = areas.into_iter().map(ra_rect::from).collect();
                if !redactions.is_empty() {
                    data.redactions = redactions.as_ptr();
                }
                data.redactions_len = redactions.len();
                data.text = strings.add(&windows.join("\n"));
            }
            HostItem::Event(event) => fill_host(&mut data, &mut strings, event),
        }
        ra_host_event {
            data,
            _strings: strings.0,
            _redactions: redactions,
        }
    }
}

fn fill_host(data: &mut ra_host_event_data, strings: &mut Strings, event: HostEvent) {
    match event {
        HostEvent::ConnectionRequest {
            conn,
            helper_name,
            peer,
            verification,
            resumes,
        } => {
            data.kind = RA_HOST_EVENT_CONNECTION_REQUEST;
            data.connection = conn.0;
            data.helper_name = strings.add(&helper_name);
            data.peer = strings.add(&peer.to_string());
            if let Some(session) = resumes {
                data.resumes = strings.add(&session.to_string());
            }
            fill_verification(data, strings, &verification);
        }
        HostEvent::ConnectionRefused {
            conn,
            helper_name,
            peer,
            reason,
        } => {
            data.kind = RA_HOST_EVENT_CONNECTION_REFUSED;
            data.connection = conn.0;
            data.helper_name = strings.add(&helper_name);
            data.peer = strings.add(&peer.to_string());
            data.text = strings.add(&reason);
        }
        HostEvent::AuthFailed {
            conn,
            peer,
            attempts,
            max_attempts,
        } => {
            data.kind = RA_HOST_EVENT_AUTH_FAILED;
            data.connection = conn.0;
            data.peer = strings.add(&peer.to_string());
            data.attempts = attempts;
            data.max_attempts = max_attempts;
        }
        HostEvent::Connected { conn, helper_name } => {
            data.kind = RA_HOST_EVENT_CONNECTED;
            data.connection = conn.0;
            data.helper_name = strings.add(&helper_name);
        }
        HostEvent::ControlRequested { conn, scopes } => {
            data.kind = RA_HOST_EVENT_CONTROL_REQUESTED;
            data.connection = conn.0;
            data.scopes = scopes.to_bits();
        }
        HostEvent::ControlGranted {
            conn,
            grant,
            scopes,
            expires_at,
        } => {
            data.kind = RA_HOST_EVENT_CONTROL_GRANTED;
            data.connection = conn.0;
            data.grant = grant.0;
            data.scopes = scopes.to_bits();
            data.expires_at_ms = expires_at.map_or(0, unix_ms);
        }
        HostEvent::ControlDenied { conn, reason } => {
            data.kind = RA_HOST_EVENT_CONTROL_DENIED;
            data.connection = conn.0;
            data.reason = deny_reason_to_c(reason);
            data.reason_name = strings.add(reason.as_str());
        }
        HostEvent::ControlRevoked { conn, reason } => {
            data.kind = RA_HOST_EVENT_CONTROL_REVOKED;
            data.connection = conn.0;
            data.reason = revoke_reason_to_c(reason);
            data.reason_name = strings.add(reason.as_str());
        }
        HostEvent::Paused { conn } => {
            data.kind = RA_HOST_EVENT_PAUSED;
            data.connection = conn.0;
        }
        HostEvent::Resumed { conn } => {
            data.kind = RA_HOST_EVENT_RESUMED;
            data.connection = conn.0;
        }
        HostEvent::Chat { conn, text } => {
            data.kind = RA_HOST_EVENT_CHAT;
            data.connection = conn.0;
            data.text = strings.add(&text);
        }
        HostEvent::Pointer { conn, x, y, kind } => {
            data.kind = RA_HOST_EVENT_POINTER;
            data.connection = conn.0;
            (data.x, data.y) = (x, y);
            data.pointer_kind = pointer_kind_to_c(kind);
        }
        HostEvent::Receipt { conn, receipt } => {
            data.kind = RA_HOST_EVENT_RECEIPT;
            data.connection = conn.0;
            data.text = strings.add(&receipt.to_text());
            data.countersigned = u8::from(receipt.is_countersigned());
        }
        HostEvent::Ended { conn, reason } => {
            data.kind = RA_HOST_EVENT_ENDED;
            data.connection = conn.0;
            data.reason = end_reason_to_c(reason);
            data.reason_name = strings.add(reason.as_str());
        }
        HostEvent::InvitationClosed { reason } => {
            data.kind = RA_HOST_EVENT_INVITATION_CLOSED;
            data.reason = close_reason_to_c(reason);
            data.reason_name = strings.add(reason.as_str());
        }
        HostEvent::ClipboardSharing { conn, enabled } => {
            data.kind = RA_HOST_EVENT_CLIPBOARD_SHARING;
            data.connection = conn.0;
            data.enabled = u8::from(enabled);
        }
        HostEvent::Clipboard { conn, text } => {
            data.kind = RA_HOST_EVENT_CLIPBOARD;
            data.connection = conn.0;
            data.text = strings.add(&text);
        }
        HostEvent::PanicKey => data.kind = RA_HOST_EVENT_PANIC_KEY,
        HostEvent::ClipboardSent { conn, bytes } => {
            data.kind = RA_HOST_EVENT_CLIPBOARD_SENT;
            data.connection = conn.0;
            data.bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
        }
        HostEvent::DeskFailed { message, .. } => {
            data.kind = RA_HOST_EVENT_BACKEND_ERROR;
            data.backend = RA_BACKEND_DESK;
            data.backend_result = RA_RESULT_BACKEND;
            data.description = strings.add(&message);
        }
        HostEvent::CaptureFailed { message, .. } => {
            data.kind = RA_HOST_EVENT_BACKEND_ERROR;
            data.backend = RA_BACKEND_CAPTURER;
            data.backend_result = RA_RESULT_BACKEND;
            data.description = strings.add(&message);
        }
        HostEvent::DisplaySelected { conn, display } => {
            data.kind = RA_HOST_EVENT_DISPLAY_SELECTED;
            data.connection = conn.0;
            data.display = display.0;
        }
        HostEvent::DisplayRefused { conn, display } => {
            data.kind = RA_HOST_EVENT_DISPLAY_REFUSED;
            data.connection = conn.0;
            data.display = display.0;
        }
        HostEvent::DeskLimited { reason } => {
            data.kind = RA_HOST_EVENT_DESK_LIMITED;
            data.text = strings.add(&reason);
            data.description = strings.add(&reason);
        }
        HostEvent::ConnectionInterrupted { conn } => {
            data.kind = RA_HOST_EVENT_CONNECTION_INTERRUPTED;
            data.connection = conn.0;
        }
        HostEvent::ConnectionRestored { conn, silent_for } => {
            data.kind = RA_HOST_EVENT_CONNECTION_RESTORED;
            data.connection = conn.0;
            data.silent_ms = millis(silent_for);
        }
        // Added to ra-core after this version: `description` tells what it is.
        _ => {}
    }
}

/// A duration in whole milliseconds.
pub(crate) fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch (0 before it).
fn unix_ms(at: std::time::SystemTime) -> u64 {
    at.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A connection request's verification into `data`.
fn fill_verification(
    data: &mut ra_host_event_data,
    strings: &mut Strings,
    verification: &HelperVerification,
) {
    match verification {
        HelperVerification::Verified {
            organisation,
            organisation_key,
            helper,
            helper_key,
            expires,
        } => {
            data.verified = 1;
            data.organisation = strings.add(organisation);
            data.organisation_key = strings.add(&organisation_key.to_string());
            data.verified_helper = strings.add(helper);
            data.helper_key = strings.add(&helper_key.to_string());
            data.identity_expires_ms = unix_ms(*expires);
        }
        HelperVerification::Unverified { problem, .. } => {
            if let Some(problem) = problem {
                data.identity_problem = strings.add(problem);
            }
            data.warning = ra_unverified_helper_warning();
        }
        _ => data.warning = ra_unverified_helper_warning(),
    }
}

/// Reads a host event's contents into `out`; the pointers in it belong to
/// the event.
///
/// # Safety
/// `event` is NULL or an event not freed during the call; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_event_get_data(
    event: *const ra_host_event,
    out: *mut ra_host_event_data,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { get_data(event, out, |event| event.data) }
}

/// Frees a host event from `ra_host_next_event`. NULL is a no-op. (Events
/// lent to a callback are freed by the library.)
///
/// # Safety
/// `event` is NULL or an event no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_event_free(event: *mut ra_host_event) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(event, "event") })
}

#[cfg(test)]
mod tests {
    use ra_core::session::ConnectionId;

    use super::super::text;
    use super::*;

    #[test]
    fn clipboard_events_reach_c() {
        let host = ra_host_event::new(HostItem::Event(HostEvent::ClipboardSharing {
            conn: ConnectionId(4),
            enabled: true,
        }));
        assert_eq!(host.data.kind, RA_HOST_EVENT_CLIPBOARD_SHARING);
        assert_eq!((host.data.connection, host.data.enabled), (4, 1));
        let host = ra_host_event::new(HostItem::Event(HostEvent::Clipboard {
            conn: ConnectionId(4),
            text: "copié".into(),
        }));
        assert_eq!(host.data.kind, RA_HOST_EVENT_CLIPBOARD);
        assert_eq!(text(host.data.text), "copié");
        let sent = ra_host_event::new(HostItem::Event(HostEvent::ClipboardSent {
            conn: ConnectionId(4),
            bytes: 11,
        }));
        assert_eq!(
            (sent.data.kind, sent.data.bytes),
            (RA_HOST_EVENT_CLIPBOARD_SENT, 11)
        );
    }

    #[test]
    fn desk_events_reach_c() {
        let panic = ra_host_event::new(HostItem::Event(HostEvent::PanicKey));
        assert_eq!(panic.data.kind, RA_HOST_EVENT_PANIC_KEY);
        let failed = ra_host_event::new(HostItem::Event(HostEvent::DeskFailed {
            part: ra_core::desk::DeskPart::Clipboard,
            message: "cannot use the system clipboard".into(),
        }));
        assert_eq!(failed.data.kind, RA_HOST_EVENT_BACKEND_ERROR);
        assert_eq!(failed.data.backend, RA_BACKEND_DESK);
        assert_eq!(
            text(failed.data.description),
            "cannot use the system clipboard"
        );
        let limited = ra_host_event::new(HostItem::Event(HostEvent::DeskLimited {
            reason: "no panic key here".into(),
        }));
        assert_eq!(limited.data.kind, RA_HOST_EVENT_DESK_LIMITED);
        assert_eq!(text(limited.data.text), "no panic key here");
        assert_eq!(text(limited.data.description), "no panic key here");
    }

    #[test]
    fn outages_reach_c() {
        let conn = ra_core::session::ConnectionId(3);
        let dark = ra_host_event::new(HostItem::Event(HostEvent::ConnectionInterrupted { conn }));
        assert_eq!(dark.data.kind, RA_HOST_EVENT_CONNECTION_INTERRUPTED);
        assert_eq!(dark.data.connection, 3);
        let back = ra_host_event::new(HostItem::Event(HostEvent::ConnectionRestored {
            conn,
            silent_for: std::time::Duration::from_millis(20_250),
        }));
        assert_eq!(back.data.kind, RA_HOST_EVENT_CONNECTION_RESTORED);
        assert_eq!(back.data.connection, 3);
        assert_eq!(back.data.silent_ms, 20_250);
    }
}
