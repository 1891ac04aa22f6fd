//! Helper events as C sees them: the `RA_HELPER_EVENT_*` kinds, the
//! `ra_helper_event_data` struct (frames and the pointer included), its
//! exports, and copying a frame's pixels.

use std::ffi::{CString, c_char};
use std::ptr;

use ra_core::media::{CursorShape, Rect};
use ra_core::runtime::ReceivedFrame;
use ra_core::session::HelperEvent;

use crate::error::Error;
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::queue::Queued;
use crate::result::{RA_RESULT_BUFFER_TOO_SMALL, ra_result};
use crate::types::*;

use super::{Strings, get_data, short_debug};

/// An event this version of the C ABI does not describe; `description` says
/// what it is.
pub const RA_HELPER_EVENT_OTHER: u32 = 0;
/// Both sides proved they know the password (`host_name`).
pub const RA_HELPER_EVENT_AUTHENTICATED: u32 = 1;
/// The host let the helper in: view only.
pub const RA_HELPER_EVENT_CONNECTED: u32 = 2;
/// The host granted control (`grant`): `ra_helper_send_input` works now.
pub const RA_HELPER_EVENT_CONTROL_GRANTED: u32 = 3;
/// The host denied control (`reason`: `RA_DENY_*`).
pub const RA_HELPER_EVENT_CONTROL_DENIED: u32 = 4;
/// Control was taken back (`reason`: `RA_REVOKE_*`).
pub const RA_HELPER_EVENT_CONTROL_REVOKED: u32 = 5;
/// The host paused the session.
pub const RA_HELPER_EVENT_PAUSED: u32 = 6;
/// The host resumed the session.
pub const RA_HELPER_EVENT_RESUMED: u32 = 7;
/// The host wrote a chat message (`text`).
pub const RA_HELPER_EVENT_CHAT: u32 = 8;
/// The host's displays (`displays`, `displays_len`, `selected_display`).
pub const RA_HELPER_EVENT_DISPLAYS: u32 = 9;
/// The session is over (`reason`: `RA_END_*`); only frames already
/// received may follow, then `RA_RESULT_CLOSED`.
pub const RA_HELPER_EVENT_ENDED: u32 = 10;
/// A decoded picture of the host's screen (`frame`, `seq`, `latency_us`,
/// `encoded_bytes`).
pub const RA_HELPER_EVENT_FRAME: u32 = 11;
/// The host's pointer moved, appeared, disappeared or changed shape
/// (`cursor`; its shape's pixels live as long as the event). Draw it over
/// the frames: they do not contain it.
pub const RA_HELPER_EVENT_CURSOR: u32 = 12;
/// The host turned clipboard sharing on or off (`enabled`):
/// `ra_helper_send_clipboard` works while it is on.
pub const RA_HELPER_EVENT_CLIPBOARD_SHARING: u32 = 13;
/// The host's clipboard changed (`text`): put it on the helper's clipboard.
pub const RA_HELPER_EVENT_CLIPBOARD: u32 = 14;
/// The session's consent receipt, signed by the host and checked (`text`:
/// the receipt, one line of JSON to store as it is; `countersigned`:
/// nonzero when this helper countersigned it with its identity). Comes
/// before `RA_HELPER_EVENT_ENDED`.
pub const RA_HELPER_EVENT_RECEIPT: u32 = 15;
/// The host sent a receipt that does not check (another session, another
/// host's key, altered; `text` says what): it was not countersigned.
pub const RA_HELPER_EVENT_RECEIPT_REFUSED: u32 = 16;
/// The parts of the picture the host masks (`redactions`,
/// `redactions_len`: rectangles in picture pixels, painted black before
/// they left the host; none once nothing is masked): draw them as masked.
pub const RA_HELPER_EVENT_REDACTIONS: u32 = 17;
/// Nothing arrived from the host for a few seconds: the network went dark.
/// The picture freezes and input is dropped, not queued, until the path is
/// back; after the outage grace the session ends (`RA_HELPER_EVENT_ENDED`).
pub const RA_HELPER_EVENT_CONNECTION_INTERRUPTED: u32 = 18;
/// The path to the host carries packets again after `silent_ms`
/// milliseconds: the picture resumes from a keyframe; control is as it was.
pub const RA_HELPER_EVENT_CONNECTION_RESTORED: u32 = 19;
/// The host issued a single-use resume ticket for this session, valid for
/// `expires_in_ms`: should the host's application or machine restart in
/// that time, the helper's ra reconnects by itself
/// (`RA_HELPER_EVENT_RESUMING`).
pub const RA_HELPER_EVENT_RESUME_OFFERED: u32 = 20;
/// The host came back from a restart with its resume ticket and the helper
/// reconnected: the host's user is asked to approve again
/// (`RA_HELPER_EVENT_AUTHENTICATED` and `RA_HELPER_EVENT_CONNECTED`
/// follow); control is gone until granted anew.
pub const RA_HELPER_EVENT_RESUMING: u32 = 21;

/// What travels through a helper's event queue.
#[derive(Debug)]
pub(crate) enum HelperItem {
    Event(HelperEvent),
    Frame(ReceivedFrame),
    /// An event kind added to ra-core later, described.
    Other(String),
}

impl ra_core::runtime::event_queue::Sheddable for HelperItem {
    fn sheddable(&self) -> bool {
        match self {
            HelperItem::Event(event) => event.sheddable(),
            HelperItem::Frame(_) => true,
            HelperItem::Other(_) => false,
        }
    }
}

impl Queued for HelperItem {
    fn is_frame(&self) -> bool {
        matches!(self, HelperItem::Frame(_))
    }

    fn cover_whole(&mut self) {
        if let HelperItem::Frame(received) = self {
            let frame = &mut received.frame;
            frame.damage = vec![Rect::new(0, 0, frame.width, frame.height)];
        }
    }
}

/// The contents of a helper event. Fields that do not apply to `kind` are 0
/// or NULL. Strings are NUL-terminated UTF-8; everything pointed at belongs
/// to the event.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_helper_event_data {
    /// `sizeof(ra_helper_event_data)`, set by the caller before the call; the library
    /// writes no more than that and sets it to the bytes it wrote.
    pub struct_size: usize,
    /// `RA_HELPER_EVENT_*`.
    pub kind: u32,
    /// The host's name.
    pub host_name: *const c_char,
    /// The chat message (`RA_HELPER_EVENT_CHAT`), the clipboard text
    /// (`RA_HELPER_EVENT_CLIPBOARD`), the receipt (`RA_HELPER_EVENT_RECEIPT`)
    /// or what is wrong with it (`RA_HELPER_EVENT_RECEIPT_REFUSED`).
    pub text: *const c_char,
    /// The reason (`RA_END_*`, `RA_DENY_*`, `RA_REVOKE_*`) or `RA_REASON_OTHER`.
    pub reason: u32,
    /// The reason's stable snake_case name.
    pub reason_name: *const c_char,
    /// The control grant's number.
    pub grant: u32,
    /// The host's displays.
    pub displays: *const ra_display_info,
    /// Number of displays at `displays`.
    pub displays_len: usize,
    /// The display being captured.
    pub selected_display: u32,
    /// The picture, BGRA; its pixels live as long as the event.
    pub frame: ra_frame,
    /// The host's frame counter within one video stream (gaps mean dropped
    /// frames); each stream — a new connection, or after a pause — counts
    /// from 1 again.
    pub seq: u64,
    /// Capture on the host → decoded here, in microseconds.
    pub latency_us: u64,
    /// Size of the compressed frame, in bytes.
    pub encoded_bytes: usize,
    /// A human-readable description of the event; never NULL.
    pub description: *const c_char,
    /// Nonzero when clipboard sharing is now on (`RA_HELPER_EVENT_CLIPBOARD_SHARING`).
    pub enabled: u8,
    /// The pointer (`RA_HELPER_EVENT_CURSOR`); its shape's pixels live as
    /// long as the event.
    pub cursor: ra_cursor_update,
    /// `RA_SCOPE_*` bits the grant covers (`RA_HELPER_EVENT_CONTROL_GRANTED`);
    /// input outside them is dropped by the host.
    pub scopes: u32,
    /// How long the grant lasts from when it was given, in milliseconds; 0:
    /// until revoked (`RA_HELPER_EVENT_CONTROL_GRANTED`). How long the
    /// resume ticket is valid (`RA_HELPER_EVENT_RESUME_OFFERED`).
    pub expires_in_ms: u64,
    /// Nonzero when the receipt (`RA_HELPER_EVENT_RECEIPT`) is countersigned.
    pub countersigned: u8,
    /// The masked rectangles (`RA_HELPER_EVENT_REDACTIONS`), in picture
    /// pixels; they belong to the event.
    pub redactions: *const ra_rect,
    /// How many `redactions` there are.
    pub redactions_len: usize,
    /// How long nothing arrived, in milliseconds
    /// (`RA_HELPER_EVENT_CONNECTION_RESTORED`).
    pub silent_ms: u64,
}

// SAFETY: repr(C), Copy, `struct_size: usize` first.
unsafe impl crate::sized::SizedStruct for ra_helper_event_data {
    const NAME: &'static str = "ra_helper_event_data";
}

/// A helper event (opaque; read it with `ra_helper_event_get_data`).
#[derive(Debug)]
pub struct ra_helper_event {
    data: ra_helper_event_data,
    _strings: Vec<CString>,
    _displays: DisplayList,
    _damage: Vec<ra_rect>,
    _redactions: Vec<ra_rect>,
    _frame: Option<ReceivedFrame>,
    _cursor: Option<CursorShape>,
}

// SAFETY: every raw pointer in `data` points into the fields beside it, owned
// by the same value and never mutated after construction.
unsafe impl Send for ra_helper_event {}

impl Handle for ra_helper_event {
    const NAME: &'static str = "ra_helper_event";
}

impl ra_helper_event {
    pub(crate) fn new(item: HelperItem) -> Self {
        let mut strings = Strings::default();
        let description = match &item {
            HelperItem::Event(event) => short_debug(event),
            // Not `{:?}`: that would print every pixel.
            HelperItem::Frame(f) => format!(
                "frame #{} {}x{} ({} bytes encoded)",
                f.seq, f.frame.width, f.frame.height, f.encoded_bytes
            ),
            HelperItem::Other(text) => text.clone(),
        };
        let mut data = ra_helper_event_data {
            struct_size: std::mem::size_of::<ra_helper_event_data>(),
            kind: RA_HELPER_EVENT_OTHER,
            host_name: ptr::null(),
            text: ptr::null(),
            reason: RA_REASON_OTHER,
            reason_name: ptr::null(),
            grant: 0,
            displays: ptr::null(),
            displays_len: 0,
            selected_display: 0,
            frame: ra_frame::default(),
            seq: 0,
            latency_us: 0,
            encoded_bytes: 0,
            description: strings.add(&description),
            enabled: 0,
            cursor: ra_cursor_update::default(),
            scopes: 0,
            expires_in_ms: 0,
            countersigned: 0,
            redactions: ptr::null(),
            redactions_len: 0,
            silent_ms: 0,
        };
        let mut displays = DisplayList::default();
        let mut damage = Vec::new();
        let mut redactions = Vec::new();
        let mut frame = None;
        let mut cursor = None;
        match item {
            HelperItem::Event(HelperEvent::Cursor(update)) => {
                data.kind = RA_HELPER_EVENT_CURSOR;
                // Points into `update.shape`, whose pixels do not move when
                // the shape is moved into the event below.
                data.cursor = ra_cursor_update::borrowed(&update);
                cursor = update.shape;
            }
            HelperItem::Event(HelperEvent::Redactions { areas }) => {
                data.kind = RA_HELPER_EVENT_REDACTIONS;
                redactions = areas.into_iter().map(ra_rect::from).collect();
                if !redactions.is_empty() {
                    data.redactions = redactions.as_ptr();
                }
                data.redactions_len = redactions.len();
            }
            HelperItem::Event(event) => {
                fill_helper(&mut data, &mut strings, &mut displays, event);
            }
            HelperItem::Frame(received) => {
                let f = &received.frame;
                damage = f.damage.iter().map(|&r| ra_rect::from(r)).collect();
                data.kind = RA_HELPER_EVENT_FRAME;
                data.frame = ra_frame {
                    data: f.data.as_ptr(),
                    len: f.data.len(),
                    width: f.width,
                    height: f.height,
                    stride: f.stride,
                    damage: damage.as_ptr(),
                    damage_len: damage.len(),
                    captured_at_us: f.captured_at.as_micros(),
                    display: f.display.0,
                };
                data.seq = received.seq;
                data.latency_us = u64::try_from(received.latency.as_micros()).unwrap_or(u64::MAX);
                data.encoded_bytes = received.encoded_bytes;
                frame = Some(received);
            }
            HelperItem::Other(_) => {}
        }
        ra_helper_event {
            data,
            _strings: strings.0,
            _displays: displays,
            _damage: damage,
            _redactions: redactions,
            _frame: frame,
            _cursor: cursor,
        }
    }
}

fn fill_helper(
    data: &mut ra_helper_event_data,
    strings: &mut Strings,
    displays: &mut DisplayList,
    event: HelperEvent,
) {
    match event {
        HelperEvent::Authenticated { host_name } => {
            data.kind = RA_HELPER_EVENT_AUTHENTICATED;
            data.host_name = strings.add(&host_name);
        }
        HelperEvent::Connected => data.kind = RA_HELPER_EVENT_CONNECTED,
        HelperEvent::ControlGranted {
            grant,
            scopes,
            expires_in,
        } => {
            data.kind = RA_HELPER_EVENT_CONTROL_GRANTED;
            data.grant = grant.0;
            data.scopes = scopes.to_bits();
            data.expires_in_ms =
                expires_in.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        }
        HelperEvent::ControlDenied { reason } => {
            data.kind = RA_HELPER_EVENT_CONTROL_DENIED;
            data.reason = deny_reason_to_c(reason);
            data.reason_name = strings.add(reason.as_str());
        }
        HelperEvent::ControlRevoked { reason } => {
            data.kind = RA_HELPER_EVENT_CONTROL_REVOKED;
            data.reason = revoke_reason_to_c(reason);
            data.reason_name = strings.add(reason.as_str());
        }
        HelperEvent::Paused => data.kind = RA_HELPER_EVENT_PAUSED,
        HelperEvent::Resumed => data.kind = RA_HELPER_EVENT_RESUMED,
        HelperEvent::Chat { text } => {
            data.kind = RA_HELPER_EVENT_CHAT;
            data.text = strings.add(&text);
        }
        HelperEvent::Displays {
            displays: list,
            selected,
        } => {
            data.kind = RA_HELPER_EVENT_DISPLAYS;
            *displays = DisplayList::new(&list);
            data.displays = displays.infos.as_ptr();
            data.displays_len = displays.infos.len();
            data.selected_display = selected.0;
        }
        HelperEvent::Ended { reason } => {
            data.kind = RA_HELPER_EVENT_ENDED;
            data.reason = end_reason_to_c(reason);
            data.reason_name = strings.add(reason.as_str());
        }
        HelperEvent::ClipboardSharing { enabled } => {
            data.kind = RA_HELPER_EVENT_CLIPBOARD_SHARING;
            data.enabled = u8::from(enabled);
        }
        HelperEvent::Clipboard { text } => {
            data.kind = RA_HELPER_EVENT_CLIPBOARD;
            data.text = strings.add(&text);
        }
        HelperEvent::Receipt { receipt } => {
            data.kind = RA_HELPER_EVENT_RECEIPT;
            data.text = strings.add(&receipt.to_text());
            data.countersigned = u8::from(receipt.is_countersigned());
        }
        HelperEvent::ReceiptRefused { problem } => {
            data.kind = RA_HELPER_EVENT_RECEIPT_REFUSED;
            data.text = strings.add(&problem);
        }
        HelperEvent::ConnectionInterrupted => {
            data.kind = RA_HELPER_EVENT_CONNECTION_INTERRUPTED;
        }
        HelperEvent::ConnectionRestored { silent_for } => {
            data.kind = RA_HELPER_EVENT_CONNECTION_RESTORED;
            data.silent_ms = super::host::millis(silent_for);
        }
        HelperEvent::ResumeOffered { expires_in } => {
            data.kind = RA_HELPER_EVENT_RESUME_OFFERED;
            data.expires_in_ms = super::host::millis(expires_in);
        }
        HelperEvent::Resuming => data.kind = RA_HELPER_EVENT_RESUMING,
        // Added to ra-core after this version: `description` tells what it is.
        _ => {}
    }
}

/// Reads a helper event's contents into `out`; the pointers in it (strings,
/// displays, pixels) belong to the event.
///
/// # Safety
/// `event` is NULL or an event not freed during the call; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_event_get_data(
    event: *const ra_helper_event,
    out: *mut ra_helper_event_data,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { get_data(event, out, |event| event.data) }
}

/// Frees a helper event from `ra_helper_next_event` (and its pixels). NULL
/// is a no-op.
///
/// # Safety
/// `event` is NULL or an event no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_event_free(event: *mut ra_helper_event) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(event, "event") })
}

/// Copies a frame's pixels into the caller's buffer: `height` rows of
/// `4 * width` bytes, `dst_stride` bytes apart (≥ `4 * width`), in
/// `dst_len` bytes. `RA_RESULT_BUFFER_TOO_SMALL` if they do not fit.
///
/// # Safety
/// `frame` is NULL or a frame from an event that is still alive; `dst` is
/// NULL or writable for `dst_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_frame_copy(
    frame: *const ra_frame,
    dst: *mut u8,
    dst_len: usize,
    dst_stride: usize,
) -> ra_result {
    guard(|| {
        if frame.is_null() {
            return Err(Error::null("frame"));
        }
        if dst.is_null() {
            return Err(Error::null("dst"));
        }
        // SAFETY: non-NULL and readable by contract; plain data.
        let f = unsafe { frame.read() };
        if f.data.is_null() {
            return Err(Error::null("frame->data"));
        }
        let needed_src = frame_bytes_needed(f.width, f.height, f.stride)?;
        if f.len < needed_src || f.len > isize::MAX as usize {
            return Err(Error::invalid("frame->len does not match its geometry"));
        }
        let row = f.width as usize * 4;
        let needed_dst = frame_bytes_needed(f.width, f.height, dst_stride)?;
        if dst_len > isize::MAX as usize {
            return Err(Error::invalid("dst_len is larger than any buffer"));
        }
        if dst_len < needed_dst {
            return Err(Error::new(
                RA_RESULT_BUFFER_TOO_SMALL,
                format!("{needed_dst} bytes needed, {dst_len} given"),
            ));
        }
        // SAFETY: `f.data` is readable for `f.len` bytes (contract) and
        // `f.len` fits an isize.
        let src = unsafe { std::slice::from_raw_parts(f.data, f.len) };
        // SAFETY: `dst` is writable for `dst_len` bytes by contract, and it
        // cannot overlap a frame the library owns.
        let dst = unsafe { std::slice::from_raw_parts_mut(dst, dst_len) };
        for y in 0..f.height as usize {
            let from = y * f.stride;
            let to = y * dst_stride;
            dst[to..to + row].copy_from_slice(&src[from..from + row]);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use ra_core::media::CursorUpdate;

    use super::super::text;
    use super::*;

    #[test]
    fn outages_reach_c() {
        let dark = ra_helper_event::new(HelperItem::Event(HelperEvent::ConnectionInterrupted));
        assert_eq!(dark.data.kind, RA_HELPER_EVENT_CONNECTION_INTERRUPTED);
        let back = ra_helper_event::new(HelperItem::Event(HelperEvent::ConnectionRestored {
            silent_for: std::time::Duration::from_secs(20),
        }));
        assert_eq!(back.data.kind, RA_HELPER_EVENT_CONNECTION_RESTORED);
        assert_eq!(back.data.silent_ms, 20_000);
    }

    #[test]
    fn clipboard_events_reach_c() {
        let helper = ra_helper_event::new(HelperItem::Event(HelperEvent::ClipboardSharing {
            enabled: false,
        }));
        assert_eq!(
            (helper.data.kind, helper.data.enabled),
            (RA_HELPER_EVENT_CLIPBOARD_SHARING, 0)
        );
        let helper = ra_helper_event::new(HelperItem::Event(HelperEvent::Clipboard {
            text: "pasted".into(),
        }));
        assert_eq!(helper.data.kind, RA_HELPER_EVENT_CLIPBOARD);
        assert_eq!(text(helper.data.text), "pasted");
    }

    #[test]
    fn a_cursor_event_lends_its_shape() {
        let pixels: Vec<u8> = (0..3 * 2 * 4).map(|i| i as u8).collect();
        let event = ra_helper_event::new(HelperItem::Event(HelperEvent::Cursor(CursorUpdate {
            x: 12,
            y: -1,
            visible: true,
            shape: Some(CursorShape {
                width: 3,
                height: 2,
                hot_x: 2,
                hot_y: 1,
                pixels: pixels.clone(),
            }),
        })));
        // Moved, as every event is on its way to C.
        let event = Box::new(event);
        let c = event.data.cursor;
        assert_eq!(event.data.kind, RA_HELPER_EVENT_CURSOR);
        assert_eq!((c.x, c.y, c.visible), (12, -1, 1));
        assert_eq!(
            (c.shape.width, c.shape.height, c.shape.hot_x, c.shape.hot_y),
            (3, 2, 2, 1)
        );
        // SAFETY: the pixels belong to `event`, alive here.
        let lent = unsafe { std::slice::from_raw_parts(c.shape.pixels, c.shape.len) };
        assert_eq!(lent, &pixels[..]);
        assert!(text(event.data.description).starts_with("Cursor"));

        let moved = ra_helper_event::new(HelperItem::Event(HelperEvent::Cursor(CursorUpdate {
            x: 1,
            y: 2,
            visible: false,
            shape: None,
        })));
        assert!(moved.data.cursor.shape.pixels.is_null());
        assert_eq!(moved.data.cursor.visible, 0);
    }
}
