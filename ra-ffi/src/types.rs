//! Plain C structs and constants shared by both roles: rectangles, frames,
//! displays, pointer shapes, and the stable numbers of ra-core's reason enums.
//!
//! Numbers for enums are plain `uint32_t` constants rather than C enums, so a
//! value from C that this version does not know is an error code, never
//! undefined behaviour.

use std::ffi::{CString, c_char};
use std::ptr;

use ra_core::media::{CursorShape, CursorUpdate, DisplayInfo, Rect};
use ra_core::session::{
    ControlState, DenyReason, EndReason, InvitationCloseReason, MAX_CLIPBOARD_LEN, PointerKind,
    RevokeReason,
};

use crate::error::{Error, Result};
use crate::strings::c_string_lossy;

/// An axis-aligned rectangle in pixels.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ra_rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl From<Rect> for ra_rect {
    fn from(r: Rect) -> Self {
        ra_rect {
            x: r.x,
            y: r.y,
            width: r.width,
            height: r.height,
        }
    }
}

impl From<ra_rect> for Rect {
    fn from(r: ra_rect) -> Self {
        Rect::new(r.x, r.y, r.width, r.height)
    }
}

/// A picture: BGRA pixels (bytes B, G, R, A), `stride` bytes from one row to
/// the next.
///
/// Given to C (a received frame, a frame to encode), it is borrowed: valid
/// for the duration of the callback, or as long as the event holding it.
/// Given by C (a captured frame), it must stay valid until the next call of
/// any of the capturer's callbacks.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_frame {
    /// The first pixel of the first row.
    pub data: *const u8,
    /// Bytes at `data`: at least `stride * (height - 1) + 4 * width`.
    pub len: usize,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one row to the start of the next (≥ 4 × width).
    pub stride: usize,
    /// Regions that changed since the previous frame. From C: NULL with
    /// `damage_len` 0 means the whole picture.
    pub damage: *const ra_rect,
    /// Number of rectangles at `damage`.
    pub damage_len: usize,
    /// When the picture was captured, in microseconds since the Unix epoch
    /// (from C: 0 means now).
    pub captured_at_us: u64,
    /// Which display the picture shows.
    pub display: u32,
}

impl Default for ra_frame {
    fn default() -> Self {
        ra_frame {
            data: ptr::null(),
            len: 0,
            width: 0,
            height: 0,
            stride: 0,
            damage: ptr::null(),
            damage_len: 0,
            captured_at_us: 0,
            display: 0,
        }
    }
}

/// Largest number of damage rectangles accepted from C for one frame.
pub const RA_MAX_DAMAGE_RECTS: usize = 4096;

/// Bytes a frame of this geometry needs, or an error if it is impossible.
pub(crate) fn frame_bytes_needed(width: u32, height: u32, stride: usize) -> Result<usize> {
    if width == 0 || height == 0 {
        return Err(Error::invalid(format!("empty frame {width}x{height}")));
    }
    let row = (width as usize)
        .checked_mul(4)
        .ok_or_else(|| Error::invalid("frame too wide"))?;
    if stride < row {
        return Err(Error::invalid(format!(
            "stride {stride} is less than 4 × width ({row})"
        )));
    }
    stride
        .checked_mul(height as usize - 1)
        .and_then(|n| n.checked_add(row))
        .ok_or_else(|| Error::invalid("frame size overflows"))
}

/// Largest side of a pointer shape, in pixels (larger shapes are not sent).
pub const RA_MAX_CURSOR_SIDE: u32 = 128;

const _: () = assert!(RA_MAX_CURSOR_SIDE == CursorShape::MAX_SIDE);

/// Longest clipboard text, in bytes of UTF-8 (`ra_host_send_clipboard`,
/// `ra_helper_send_clipboard`).
pub const RA_MAX_CLIPBOARD_BYTES: usize = 65536;

const _: () = assert!(RA_MAX_CLIPBOARD_BYTES == MAX_CLIPBOARD_LEN);

/// A pointer image: **premultiplied** BGRA (bytes B, G, R, A, each colour
/// already multiplied by A), rows packed (`4 * width` bytes apart), with the
/// hotspot — the pixel that points — at (`hot_x`, `hot_y`).
///
/// Given to C (in `RA_HELPER_EVENT_CURSOR`), it is borrowed from the event.
/// Given by C (a capturer's `cursor` callback), it must stay valid until the
/// next call of any of the capturer's callbacks; the library copies it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_cursor_shape {
    /// The first pixel of the first row; NULL when the shape did not change
    /// (keep drawing the previous one).
    pub pixels: *const u8,
    /// Bytes at `pixels`: `4 * width * height`.
    pub len: usize,
    /// Width in pixels (1–`RA_MAX_CURSOR_SIDE`).
    pub width: u32,
    /// Height in pixels (1–`RA_MAX_CURSOR_SIDE`).
    pub height: u32,
    /// Hotspot column (< `width`).
    pub hot_x: u32,
    /// Hotspot row (< `height`).
    pub hot_y: u32,
}

impl Default for ra_cursor_shape {
    fn default() -> Self {
        ra_cursor_shape {
            pixels: ptr::null(),
            len: 0,
            width: 0,
            height: 0,
            hot_x: 0,
            hot_y: 0,
        }
    }
}

/// What changed about the host's pointer: where its hotspot is, whether it
/// is shown, and its new shape if it changed. The pointer travels apart from
/// the video; the helper draws it over the picture.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ra_cursor_update {
    /// Hotspot column in the captured display's coordinates (the frame's pixels).
    pub x: i32,
    /// Hotspot row in the captured display's coordinates.
    pub y: i32,
    /// Nonzero when the pointer is shown over the captured display.
    pub visible: u8,
    /// The new shape; `shape.pixels` is NULL when it did not change.
    pub shape: ra_cursor_shape,
}

impl ra_cursor_update {
    /// The C view of `update`; its pixels point into `update`.
    pub(crate) fn borrowed(update: &CursorUpdate) -> Self {
        ra_cursor_update {
            x: update.x,
            y: update.y,
            visible: u8::from(update.visible),
            shape: update
                .shape
                .as_ref()
                .map_or_else(ra_cursor_shape::default, |s| ra_cursor_shape {
                    pixels: s.pixels.as_ptr(),
                    len: s.pixels.len(),
                    width: s.width,
                    height: s.height,
                    hot_x: s.hot_x,
                    hot_y: s.hot_y,
                }),
        }
    }
}

/// Checks an update from C and copies it (with its pixels).
///
/// # Safety
/// `update.shape.pixels` is NULL or readable for `update.shape.len` bytes.
pub(crate) unsafe fn cursor_from_c(update: &ra_cursor_update) -> Result<CursorUpdate> {
    let shape = &update.shape;
    let copied = if shape.pixels.is_null() {
        None
    } else {
        let side = 1..=RA_MAX_CURSOR_SIDE;
        if !side.contains(&shape.width) || !side.contains(&shape.height) {
            return Err(Error::invalid(format!(
                "cursor shape {}x{}: sides must be 1 to {RA_MAX_CURSOR_SIDE}",
                shape.width, shape.height
            )));
        }
        if shape.hot_x >= shape.width || shape.hot_y >= shape.height {
            return Err(Error::invalid(format!(
                "cursor hotspot ({}, {}) is outside the {}x{} shape",
                shape.hot_x, shape.hot_y, shape.width, shape.height
            )));
        }
        // At most 128 × 128 × 4: no overflow.
        let needed = shape.width as usize * shape.height as usize * 4;
        if shape.len != needed {
            return Err(Error::invalid(format!(
                "cursor shape len is {}, {needed} needed for {}x{}",
                shape.len, shape.width, shape.height
            )));
        }
        // SAFETY: non-NULL and readable for `len` (= needed, at most 64 KiB)
        // bytes by contract; copied before returning.
        let pixels = unsafe { std::slice::from_raw_parts(shape.pixels, needed) }.to_vec();
        Some(CursorShape {
            width: shape.width,
            height: shape.height,
            hot_x: shape.hot_x,
            hot_y: shape.hot_y,
            pixels,
        })
    };
    Ok(CursorUpdate {
        x: update.x,
        y: update.y,
        visible: update.visible != 0,
        shape: copied,
    })
}

/// A display (monitor) of the host.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_display_info {
    /// The id to select it with.
    pub id: u32,
    /// A human-readable name, NUL-terminated UTF-8 (may be NULL from C).
    pub name: *const c_char,
    /// Position and size in the host's global coordinates.
    pub bounds: ra_rect,
    /// Nonzero for the primary display.
    pub primary: u8,
}

/// Displays converted for C, with the names they point at.
#[derive(Debug, Default)]
pub(crate) struct DisplayList {
    /// What the `name` pointers in `infos` point at.
    _names: Vec<CString>,
    pub(crate) infos: Vec<ra_display_info>,
}

impl DisplayList {
    pub(crate) fn new(displays: &[DisplayInfo]) -> Self {
        let names: Vec<CString> = displays.iter().map(|d| c_string_lossy(&d.name)).collect();
        let infos = displays
            .iter()
            .zip(&names)
            .map(|(d, name)| ra_display_info {
                id: d.id.0,
                // Points into `names`, whose strings do not move when the Vec does.
                name: name.as_ptr(),
                bounds: d.bounds.into(),
                primary: u8::from(d.primary),
            })
            .collect();
        DisplayList {
            _names: names,
            infos,
        }
    }
}

// SAFETY: the raw pointers in `infos` point into `names`, owned by the same
// value and never mutated, so moving it to another thread moves both.
unsafe impl Send for DisplayList {}

/// Means "every display as one picture" where a display id is expected.
pub const RA_DISPLAY_ALL: u32 = u32::MAX;

/// A laser dot that follows the helper's mouse.
pub const RA_POINTER_LASER: u32 = 1;
/// A "look here" click mark.
pub const RA_POINTER_CLICK: u32 = 2;
/// Hide the mark.
pub const RA_POINTER_HIDE: u32 = 3;

/// `RA_POINTER_*`, or 0 for a kind this version of the C ABI does not know.
pub(crate) fn pointer_kind_to_c(kind: PointerKind) -> u32 {
    match kind {
        PointerKind::Laser => RA_POINTER_LASER,
        PointerKind::Click => RA_POINTER_CLICK,
        PointerKind::Hide => RA_POINTER_HIDE,
        _ => 0,
    }
}

pub(crate) fn pointer_kind_from_c(kind: u32) -> Result<PointerKind> {
    match kind {
        RA_POINTER_LASER => Ok(PointerKind::Laser),
        RA_POINTER_CLICK => Ok(PointerKind::Click),
        RA_POINTER_HIDE => Ok(PointerKind::Hide),
        other => Err(Error::invalid(format!("unknown pointer kind {other}"))),
    }
}

/// The helper views only.
pub const RA_CONTROL_NONE: u32 = 0;
/// The helper asked for control; the host has not answered.
pub const RA_CONTROL_REQUESTED: u32 = 1;
/// The helper controls the host.
pub const RA_CONTROL_GRANTED: u32 = 2;

pub(crate) fn control_state_to_c(state: ControlState) -> u32 {
    match state {
        ControlState::None => RA_CONTROL_NONE,
        ControlState::Requested => RA_CONTROL_REQUESTED,
        ControlState::Granted(_) => RA_CONTROL_GRANTED,
    }
}

/// A reason this version of the C ABI has no number for; see the event's
/// `reason_name`.
pub const RA_REASON_OTHER: u32 = 0;

/// The host ended the session.
pub const RA_END_HOST_ENDED: u32 = 1;
/// The helper ended the session.
pub const RA_END_HELPER_ENDED: u32 = 2;
/// The host denied the connection.
pub const RA_END_DENIED: u32 = 3;
/// The host did not answer the connection request in time.
pub const RA_END_APPROVAL_TIMEOUT: u32 = 4;
/// The password did not match.
pub const RA_END_AUTH_FAILED: u32 = 5;
/// Authentication did not complete in time.
pub const RA_END_AUTH_TIMEOUT: u32 = 6;
/// The invitation expired.
pub const RA_END_INVITATION_EXPIRED: u32 = 7;
/// The invitation was closed.
pub const RA_END_INVITATION_CLOSED: u32 = 8;
/// The host's policy does not allow remote assistance.
pub const RA_END_POLICY: u32 = 9;
/// Another helper is connected already.
pub const RA_END_BUSY: u32 = 10;
/// The peer broke the protocol.
pub const RA_END_PROTOCOL_ERROR: u32 = 11;
/// The invitation names a session the host does not know.
pub const RA_END_UNKNOWN_SESSION: u32 = 12;
/// The peers speak incompatible protocol versions.
pub const RA_END_VERSION_MISMATCH: u32 = 13;
/// The connection was lost.
pub const RA_END_CONNECTION_LOST: u32 = 14;

pub(crate) fn end_reason_to_c(reason: EndReason) -> u32 {
    match reason {
        EndReason::HostEnded => RA_END_HOST_ENDED,
        EndReason::HelperEnded => RA_END_HELPER_ENDED,
        EndReason::Denied => RA_END_DENIED,
        EndReason::ApprovalTimeout => RA_END_APPROVAL_TIMEOUT,
        EndReason::AuthFailed => RA_END_AUTH_FAILED,
        EndReason::AuthTimeout => RA_END_AUTH_TIMEOUT,
        EndReason::InvitationExpired => RA_END_INVITATION_EXPIRED,
        EndReason::InvitationClosed => RA_END_INVITATION_CLOSED,
        EndReason::Policy => RA_END_POLICY,
        EndReason::Busy => RA_END_BUSY,
        EndReason::ProtocolError => RA_END_PROTOCOL_ERROR,
        EndReason::UnknownSession => RA_END_UNKNOWN_SESSION,
        EndReason::VersionMismatch => RA_END_VERSION_MISMATCH,
        EndReason::ConnectionLost => RA_END_CONNECTION_LOST,
        _ => RA_REASON_OTHER,
    }
}

/// The host user said no.
pub const RA_DENY_BY_USER: u32 = 1;
/// The host's policy does not allow control.
pub const RA_DENY_POLICY: u32 = 2;
/// The session is paused.
pub const RA_DENY_PAUSED: u32 = 3;

pub(crate) fn deny_reason_to_c(reason: DenyReason) -> u32 {
    match reason {
        DenyReason::ByUser => RA_DENY_BY_USER,
        DenyReason::Policy => RA_DENY_POLICY,
        DenyReason::Paused => RA_DENY_PAUSED,
        _ => RA_REASON_OTHER,
    }
}

/// The host user revoked control.
pub const RA_REVOKE_BY_USER: u32 = 1;
/// The host's policy changed to forbid control.
pub const RA_REVOKE_POLICY: u32 = 2;
/// The session was paused.
pub const RA_REVOKE_PAUSED: u32 = 3;
/// The host pressed the local panic key.
pub const RA_REVOKE_PANIC_KEY: u32 = 4;
/// The session ended.
pub const RA_REVOKE_ENDED: u32 = 5;
/// The helper gave control back.
pub const RA_REVOKE_RELEASED: u32 = 6;
/// The grant's time was up (`ra_host_grant_control_with`).
pub const RA_REVOKE_EXPIRED: u32 = 7;

/// A grant's scope: pointer moves, buttons and the wheel.
pub const RA_SCOPE_POINTER: u32 = 1;
/// A grant's scope: keys and text.
pub const RA_SCOPE_KEYBOARD: u32 = 2;
/// A grant's scope: the helper's clipboard text onto the host's clipboard
/// (with clipboard sharing on) while the grant lasts.
pub const RA_SCOPE_CLIPBOARD: u32 = 4;
/// Every scope.
pub const RA_SCOPE_ALL: u32 = 7;

/// `RA_SCOPE_*` bits as scopes; other bits, or none, are refused.
pub(crate) fn scopes_from_c(bits: u32) -> crate::error::Result<ra_core::session::ControlScopes> {
    if bits == 0 || bits & !RA_SCOPE_ALL != 0 {
        return Err(crate::error::Error::invalid(format!(
            "scopes {bits:#x}: a combination of RA_SCOPE_POINTER, RA_SCOPE_KEYBOARD and \
             RA_SCOPE_CLIPBOARD"
        )));
    }
    Ok(ra_core::session::ControlScopes::from_bits(bits))
}

pub(crate) fn revoke_reason_to_c(reason: RevokeReason) -> u32 {
    match reason {
        RevokeReason::ByUser => RA_REVOKE_BY_USER,
        RevokeReason::Policy => RA_REVOKE_POLICY,
        RevokeReason::Paused => RA_REVOKE_PAUSED,
        RevokeReason::PanicKey => RA_REVOKE_PANIC_KEY,
        RevokeReason::Ended => RA_REVOKE_ENDED,
        RevokeReason::Released => RA_REVOKE_RELEASED,
        RevokeReason::Expired => RA_REVOKE_EXPIRED,
        _ => RA_REASON_OTHER,
    }
}

/// The invitation reached its expiry time.
pub const RA_CLOSE_EXPIRED: u32 = 1;
/// Too many failed password attempts.
pub const RA_CLOSE_TOO_MANY_FAILURES: u32 = 2;
/// The host closed it.
pub const RA_CLOSE_BY_HOST: u32 = 3;
/// The host's policy no longer allows remote assistance.
pub const RA_CLOSE_POLICY: u32 = 4;

pub(crate) fn close_reason_to_c(reason: InvitationCloseReason) -> u32 {
    match reason {
        InvitationCloseReason::Expired => RA_CLOSE_EXPIRED,
        InvitationCloseReason::TooManyFailures => RA_CLOSE_TOO_MANY_FAILURES,
        InvitationCloseReason::ClosedByHost => RA_CLOSE_BY_HOST,
        InvitationCloseReason::Policy => RA_CLOSE_POLICY,
        _ => RA_REASON_OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(pixels: &[u8], width: u32, height: u32) -> ra_cursor_update {
        ra_cursor_update {
            x: -3,
            y: 7,
            visible: 1,
            shape: ra_cursor_shape {
                pixels: pixels.as_ptr(),
                len: pixels.len(),
                width,
                height,
                hot_x: 1,
                hot_y: 0,
            },
        }
    }

    #[test]
    fn cursors_from_c_are_checked_and_copied() {
        let pixels: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
        // SAFETY: every update points into `pixels` with its true length, or nowhere.
        unsafe {
            let update = cursor_from_c(&shape(&pixels, 2, 3)).unwrap();
            assert_eq!((update.x, update.y, update.visible), (-3, 7, true));
            let copied = update.shape.as_ref().unwrap();
            assert_eq!((copied.width, copied.height, copied.hot_x), (2, 3, 1));
            assert_eq!(copied.pixels, pixels);
            // Back to C: the same bytes, borrowed.
            let view = ra_cursor_update::borrowed(&update);
            assert_eq!(view.shape.len, pixels.len());
            assert_eq!(
                std::slice::from_raw_parts(view.shape.pixels, view.shape.len),
                &pixels[..]
            );

            let mut moved = shape(&pixels, 2, 3);
            moved.shape.pixels = std::ptr::null();
            moved.visible = 0;
            let update = cursor_from_c(&moved).unwrap();
            assert!(update.shape.is_none() && !update.visible);
            assert!(ra_cursor_update::borrowed(&update).shape.pixels.is_null());

            assert!(cursor_from_c(&shape(&pixels, 3, 3)).is_err()); // len ≠ 4 × w × h
            assert!(cursor_from_c(&shape(&pixels, 0, 3)).is_err());
            assert!(cursor_from_c(&shape(&pixels, 1, 6)).is_err()); // hotspot outside
            let big = vec![0u8; 129 * 4];
            assert!(cursor_from_c(&shape(&big, 129, 1)).is_err());
        }
    }
}
