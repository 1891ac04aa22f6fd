//! Conversions between the wire messages and the session's types, and the
//! limits every peer enforces.

use super::types::{DenyReason, EndReason, PointerKind, RevokeReason};
use crate::input::{InputEvent, MouseButton};
use crate::keys::KeyCode;
use crate::media::{CursorShape, CursorUpdate};
use crate::proto;

/// Largest control-stream message, in bytes (room for a 128×128 cursor image).
pub const MAX_CONTROL_MESSAGE: usize = 128 * 1024;
/// Longest clipboard text, in bytes.
pub const MAX_CLIPBOARD_LEN: usize = 64 * 1024;
/// Largest input-stream message (one batch), in bytes.
pub const MAX_INPUT_MESSAGE: usize = 64 * 1024;
/// Largest video frame header, in bytes.
pub const MAX_VIDEO_HEADER: usize = 16 * 1024;
/// Longest chat message, in characters.
pub const MAX_CHAT_LEN: usize = 4096;
/// Longest peer name, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// Makes a name from the peer safe to show and log: control characters
/// (line breaks, escapes) become spaces, bidirectional and zero-width
/// characters go, and the text is cut to `max_chars` (see
/// [`crate::text::clean_name`]).
pub fn sanitize_display_text(text: &str, max_chars: usize) -> String {
    crate::text::clean_name(text, max_chars)
}

pub(crate) fn end_reason_to_wire(reason: EndReason) -> proto::EndReason {
    use proto::EndReason as W;
    match reason {
        EndReason::HostEnded => W::HostEnded,
        EndReason::HelperEnded => W::HelperEnded,
        EndReason::Denied => W::Denied,
        EndReason::ApprovalTimeout => W::ApprovalTimeout,
        EndReason::AuthFailed => W::AuthFailed,
        EndReason::AuthTimeout => W::AuthTimeout,
        EndReason::InvitationExpired => W::InvitationExpired,
        EndReason::InvitationClosed => W::InvitationClosed,
        EndReason::Policy => W::Policy,
        EndReason::Busy => W::Busy,
        EndReason::ProtocolError => W::ProtocolError,
        EndReason::UnknownSession => W::UnknownSession,
        EndReason::VersionMismatch => W::VersionMismatch,
        // Never sent: a lost connection cannot say goodbye.
        EndReason::ConnectionLost => W::Unspecified,
    }
}

/// The number of an end reason on the wire (also the QUIC close code).
pub fn end_reason_code(reason: EndReason) -> u32 {
    end_reason_to_wire(reason) as u32
}

/// The end reason of a number on the wire; unknown numbers are protocol errors.
pub fn end_reason_from_code(code: u64) -> EndReason {
    i32::try_from(code).map_or(EndReason::ProtocolError, end_reason_from_wire)
}

pub(crate) fn end_reason_from_wire(value: i32) -> EndReason {
    use proto::EndReason as W;
    match W::try_from(value).unwrap_or(W::Unspecified) {
        W::HostEnded => EndReason::HostEnded,
        W::HelperEnded => EndReason::HelperEnded,
        W::Denied => EndReason::Denied,
        W::ApprovalTimeout => EndReason::ApprovalTimeout,
        W::AuthFailed => EndReason::AuthFailed,
        W::AuthTimeout => EndReason::AuthTimeout,
        W::InvitationExpired => EndReason::InvitationExpired,
        W::InvitationClosed => EndReason::InvitationClosed,
        W::Policy => EndReason::Policy,
        W::Busy => EndReason::Busy,
        W::UnknownSession => EndReason::UnknownSession,
        W::VersionMismatch => EndReason::VersionMismatch,
        W::ProtocolError | W::Unspecified => EndReason::ProtocolError,
    }
}

pub(crate) fn deny_reason_to_wire(reason: DenyReason) -> proto::DenyReason {
    match reason {
        DenyReason::ByUser => proto::DenyReason::ByUser,
        DenyReason::Policy => proto::DenyReason::Policy,
        DenyReason::Paused => proto::DenyReason::Paused,
    }
}

pub(crate) fn deny_reason_from_wire(value: i32) -> DenyReason {
    match proto::DenyReason::try_from(value) {
        Ok(proto::DenyReason::Policy) => DenyReason::Policy,
        Ok(proto::DenyReason::Paused) => DenyReason::Paused,
        _ => DenyReason::ByUser,
    }
}

pub(crate) fn revoke_reason_to_wire(reason: RevokeReason) -> proto::RevokeReason {
    match reason {
        RevokeReason::ByUser | RevokeReason::Released => proto::RevokeReason::ByUser,
        RevokeReason::Policy => proto::RevokeReason::Policy,
        RevokeReason::Paused => proto::RevokeReason::Paused,
        RevokeReason::PanicKey => proto::RevokeReason::PanicKey,
        RevokeReason::Ended => proto::RevokeReason::Ended,
        RevokeReason::Expired => proto::RevokeReason::Expired,
    }
}

pub(crate) fn revoke_reason_from_wire(value: i32) -> RevokeReason {
    match proto::RevokeReason::try_from(value) {
        Ok(proto::RevokeReason::Policy) => RevokeReason::Policy,
        Ok(proto::RevokeReason::Paused) => RevokeReason::Paused,
        Ok(proto::RevokeReason::PanicKey) => RevokeReason::PanicKey,
        Ok(proto::RevokeReason::Ended) => RevokeReason::Ended,
        Ok(proto::RevokeReason::Expired) => RevokeReason::Expired,
        _ => RevokeReason::ByUser,
    }
}

pub(crate) fn pointer_kind_to_wire(kind: PointerKind) -> proto::PointerKind {
    match kind {
        PointerKind::Laser => proto::PointerKind::Laser,
        PointerKind::Click => proto::PointerKind::Click,
        PointerKind::Hide => proto::PointerKind::Hide,
    }
}

pub(crate) fn pointer_kind_from_wire(value: i32) -> PointerKind {
    match proto::PointerKind::try_from(value) {
        Ok(proto::PointerKind::Click) => PointerKind::Click,
        Ok(proto::PointerKind::Hide) => PointerKind::Hide,
        _ => PointerKind::Laser,
    }
}

fn button_to_wire(button: MouseButton) -> proto::MouseButton {
    match button {
        MouseButton::Left => proto::MouseButton::Left,
        MouseButton::Right => proto::MouseButton::Right,
        MouseButton::Middle => proto::MouseButton::Middle,
        MouseButton::Back => proto::MouseButton::Back,
        MouseButton::Forward => proto::MouseButton::Forward,
    }
}

fn button_from_wire(value: i32) -> Option<MouseButton> {
    match proto::MouseButton::try_from(value).ok()? {
        proto::MouseButton::Left => Some(MouseButton::Left),
        proto::MouseButton::Right => Some(MouseButton::Right),
        proto::MouseButton::Middle => Some(MouseButton::Middle),
        proto::MouseButton::Back => Some(MouseButton::Back),
        proto::MouseButton::Forward => Some(MouseButton::Forward),
        proto::MouseButton::Unspecified => None,
    }
}

/// The wire form of an input event.
pub fn encode_input_event(event: &InputEvent) -> proto::InputEvent {
    use proto::input_event::Event as W;
    let event = match event {
        InputEvent::PointerMove { x, y } => W::PointerMove(proto::PointerMove { x: *x, y: *y }),
        InputEvent::PointerMoveRelative { dx, dy } => {
            W::PointerMoveRelative(proto::PointerMoveRelative { dx: *dx, dy: *dy })
        }
        InputEvent::Button { button, pressed } => W::Button(proto::ButtonEvent {
            button: button_to_wire(*button).into(),
            pressed: *pressed,
        }),
        InputEvent::Wheel { dx, dy } => W::Wheel(proto::WheelEvent { dx: *dx, dy: *dy }),
        InputEvent::Key { code, pressed } => W::Key(proto::KeyEvent {
            usage: u32::from(code.0),
            pressed: *pressed,
        }),
        InputEvent::Text { text } => W::Text(proto::TextEvent { text: text.clone() }),
    };
    proto::InputEvent { event: Some(event) }
}

/// The input event of a wire message; `None` for unknown or invalid events
/// (a newer peer's event type, an unknown button, a usage beyond 16 bits).
pub fn decode_input_event(event: &proto::InputEvent) -> Option<InputEvent> {
    use proto::input_event::Event as W;
    Some(match event.event.as_ref()? {
        W::PointerMove(m) => InputEvent::PointerMove { x: m.x, y: m.y },
        W::PointerMoveRelative(m) => InputEvent::PointerMoveRelative { dx: m.dx, dy: m.dy },
        W::Button(b) => InputEvent::Button {
            button: button_from_wire(b.button)?,
            pressed: b.pressed,
        },
        W::Wheel(w) => InputEvent::Wheel { dx: w.dx, dy: w.dy },
        W::Key(k) => InputEvent::Key {
            code: KeyCode(u16::try_from(k.usage).ok()?),
            pressed: k.pressed,
        },
        W::Text(t) => InputEvent::Text {
            text: t.text.clone(),
        },
    })
}

/// The wire form of a pointer update; a shape that is too large or whose
/// pixel buffer does not match its size is left out (the position still goes).
pub(crate) fn cursor_to_wire(update: &CursorUpdate) -> proto::Cursor {
    let shape = update
        .shape
        .as_ref()
        .filter(|s| valid_shape(s))
        .map(|s| proto::CursorImage {
            width: s.width,
            height: s.height,
            hot_x: s.hot_x,
            hot_y: s.hot_y,
            pixels: s.pixels.clone(),
        });
    proto::Cursor {
        x: update.x,
        y: update.y,
        visible: update.visible,
        shape,
    }
}

/// The pointer update of a wire message; an invalid shape is dropped.
pub(crate) fn cursor_from_wire(cursor: proto::Cursor) -> CursorUpdate {
    let shape = cursor
        .shape
        .map(|s| CursorShape {
            width: s.width,
            height: s.height,
            hot_x: s.hot_x,
            hot_y: s.hot_y,
            pixels: s.pixels,
        })
        .filter(valid_shape);
    CursorUpdate {
        x: cursor.x,
        y: cursor.y,
        visible: cursor.visible,
        shape,
    }
}

fn valid_shape(shape: &CursorShape) -> bool {
    shape.width > 0
        && shape.height > 0
        && shape.width <= CursorShape::MAX_SIDE
        && shape.height <= CursorShape::MAX_SIDE
        && shape.hot_x < shape.width
        && shape.hot_y < shape.height
        && shape.pixels.len() == shape.width as usize * shape.height as usize * 4
}

pub(crate) fn envelope(message: proto::envelope::Message) -> Vec<u8> {
    super::framing::encode_frame(&proto::Envelope {
        message: Some(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_events_round_trip() {
        let events = [
            InputEvent::PointerMove { x: -5, y: 1080 },
            InputEvent::PointerMoveRelative { dx: 3, dy: -3 },
            InputEvent::Button {
                button: MouseButton::Forward,
                pressed: true,
            },
            InputEvent::Wheel { dx: 0, dy: -120 },
            InputEvent::Key {
                code: KeyCode(0xE0),
                pressed: false,
            },
            InputEvent::Text {
                text: "héllo ✓".into(),
            },
        ];
        for e in events {
            assert_eq!(decode_input_event(&encode_input_event(&e)), Some(e));
        }
    }

    #[test]
    fn invalid_events_are_dropped() {
        use proto::input_event::Event as W;
        let bad_button = proto::InputEvent {
            event: Some(W::Button(proto::ButtonEvent {
                button: 99,
                pressed: true,
            })),
        };
        assert_eq!(decode_input_event(&bad_button), None);
        let bad_key = proto::InputEvent {
            event: Some(W::Key(proto::KeyEvent {
                usage: 0x1_0000,
                pressed: true,
            })),
        };
        assert_eq!(decode_input_event(&bad_key), None);
        assert_eq!(decode_input_event(&proto::InputEvent { event: None }), None);
    }

    #[test]
    fn sanitizes_names() {
        assert_eq!(
            sanitize_display_text("Bob\n\u{1b}[31mEvil", 64),
            "Bob  [31mEvil"
        );
        assert_eq!(sanitize_display_text(&"x".repeat(100), 5), "xxxxx");
        assert_eq!(sanitize_display_text("a\u{202E}b", 5), "ab");
    }
}
