//! Input events in C: what a helper sends and what a C injector receives.

use std::ffi::{CString, c_char};
use std::ptr;

use ra_core::input::{InputEvent, MouseButton};
use ra_core::keys::KeyCode;

use crate::error::{Error, Result};
use crate::guard::guard;
use crate::result::ra_result;
use crate::strings::{c_string_lossy, str_arg};

/// Pointer to (`x`, `y`) in the captured display.
pub const RA_INPUT_POINTER_MOVE: u32 = 1;
/// Pointer moved by (`x`, `y`).
pub const RA_INPUT_POINTER_MOVE_RELATIVE: u32 = 2;
/// `button` pressed (`pressed` nonzero) or released.
pub const RA_INPUT_BUTTON: u32 = 3;
/// Wheel by (`x`, `y`); one classic notch is 120, positive `y` scrolls down.
pub const RA_INPUT_WHEEL: u32 = 4;
/// `key` (a USB HID usage, keyboard page) pressed or released.
pub const RA_INPUT_KEY: u32 = 5;
/// Type `text` (UTF-8), whatever the keyboard layout.
pub const RA_INPUT_TEXT: u32 = 6;

/// The primary mouse button.
pub const RA_BUTTON_LEFT: u32 = 1;
/// The secondary mouse button.
pub const RA_BUTTON_RIGHT: u32 = 2;
/// The middle button.
pub const RA_BUTTON_MIDDLE: u32 = 3;
/// The "back" side button.
pub const RA_BUTTON_BACK: u32 = 4;
/// The "forward" side button.
pub const RA_BUTTON_FORWARD: u32 = 5;

/// Largest number of events one `ra_helper_send_input` call takes.
pub const RA_MAX_INPUT_EVENTS: usize = 1024;

/// One input event. Which fields count depends on `kind` (`RA_INPUT_*`);
/// the others are ignored (set them to 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_input_event {
    /// `RA_INPUT_*`.
    pub kind: u32,
    /// Horizontal position or offset.
    pub x: i32,
    /// Vertical position or offset.
    pub y: i32,
    /// `RA_BUTTON_*` for `RA_INPUT_BUTTON`.
    pub button: u32,
    /// USB HID usage (keyboard page 0x07) for `RA_INPUT_KEY`, ≤ 0xFFFF.
    pub key: u32,
    /// Nonzero for a press, 0 for a release.
    pub pressed: u8,
    /// NUL-terminated UTF-8 for `RA_INPUT_TEXT`; otherwise NULL. Given to a C
    /// injector, valid during the callback only.
    pub text: *const c_char,
}

impl Default for ra_input_event {
    fn default() -> Self {
        ra_input_event {
            kind: 0,
            x: 0,
            y: 0,
            button: 0,
            key: 0,
            pressed: 0,
            text: ptr::null(),
        }
    }
}

fn button_from_c(button: u32) -> Result<MouseButton> {
    Ok(match button {
        RA_BUTTON_LEFT => MouseButton::Left,
        RA_BUTTON_RIGHT => MouseButton::Right,
        RA_BUTTON_MIDDLE => MouseButton::Middle,
        RA_BUTTON_BACK => MouseButton::Back,
        RA_BUTTON_FORWARD => MouseButton::Forward,
        other => return Err(Error::invalid(format!("unknown mouse button {other}"))),
    })
}

/// `RA_BUTTON_*`; `None` for a button this version of the C ABI does not know.
fn button_to_c(button: MouseButton) -> Option<u32> {
    Some(match button {
        MouseButton::Left => RA_BUTTON_LEFT,
        MouseButton::Right => RA_BUTTON_RIGHT,
        MouseButton::Middle => RA_BUTTON_MIDDLE,
        MouseButton::Back => RA_BUTTON_BACK,
        MouseButton::Forward => RA_BUTTON_FORWARD,
        _ => return None,
    })
}

/// Converts an event from C.
///
/// # Safety
/// For `RA_INPUT_TEXT`, `event.text` is NULL or a NUL-terminated string.
pub(crate) unsafe fn event_from_c(event: &ra_input_event) -> Result<InputEvent> {
    Ok(match event.kind {
        RA_INPUT_POINTER_MOVE => InputEvent::PointerMove {
            x: event.x,
            y: event.y,
        },
        RA_INPUT_POINTER_MOVE_RELATIVE => InputEvent::PointerMoveRelative {
            dx: event.x,
            dy: event.y,
        },
        RA_INPUT_BUTTON => InputEvent::Button {
            button: button_from_c(event.button)?,
            pressed: event.pressed != 0,
        },
        RA_INPUT_WHEEL => InputEvent::Wheel {
            dx: event.x,
            dy: event.y,
        },
        RA_INPUT_KEY => InputEvent::Key {
            code: KeyCode(
                u16::try_from(event.key)
                    .map_err(|_| Error::invalid(format!("key usage {} > 0xFFFF", event.key)))?,
            ),
            pressed: event.pressed != 0,
        },
        RA_INPUT_TEXT => InputEvent::Text {
            // SAFETY: forwarded contract.
            text: unsafe { str_arg(event.text, "event.text") }?.to_owned(),
        },
        other => return Err(Error::invalid(format!("unknown input kind {other}"))),
    })
}

/// An event converted for a C injector, with the text it points at.
pub(crate) struct CInputEvent {
    pub(crate) event: ra_input_event,
    _text: Option<CString>,
}

/// Converts an event for C; `None` for a kind this version cannot express.
pub(crate) fn event_to_c(event: &InputEvent) -> Option<CInputEvent> {
    let mut c = ra_input_event::default();
    let mut text = None;
    match event {
        InputEvent::PointerMove { x, y } => {
            c.kind = RA_INPUT_POINTER_MOVE;
            (c.x, c.y) = (*x, *y);
        }
        InputEvent::PointerMoveRelative { dx, dy } => {
            c.kind = RA_INPUT_POINTER_MOVE_RELATIVE;
            (c.x, c.y) = (*dx, *dy);
        }
        InputEvent::Button { button, pressed } => {
            c.kind = RA_INPUT_BUTTON;
            c.button = button_to_c(*button)?;
            c.pressed = u8::from(*pressed);
        }
        InputEvent::Wheel { dx, dy } => {
            c.kind = RA_INPUT_WHEEL;
            (c.x, c.y) = (*dx, *dy);
        }
        InputEvent::Key { code, pressed } => {
            c.kind = RA_INPUT_KEY;
            c.key = u32::from(code.0);
            c.pressed = u8::from(*pressed);
        }
        InputEvent::Text { text: t } => {
            c.kind = RA_INPUT_TEXT;
            let owned = c_string_lossy(t);
            c.text = owned.as_ptr();
            text = Some(owned);
        }
        #[allow(unreachable_patterns)]
        _ => return None,
    }
    Some(CInputEvent {
        event: c,
        _text: text,
    })
}

/// The USB HID usage of a key by its name as in input scripts (`"a"`,
/// `"enter"`, `"ctrl"`, `"f5"`, case-insensitive); written to `out` on success.
/// `RA_RESULT_INVALID_ARGUMENT` for an unknown name. Any thread.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_key_from_name(name: *const c_char, out: *mut u32) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let name = unsafe { str_arg(name, "name") }?;
        if out.is_null() {
            return Err(Error::null("out"));
        }
        let code = KeyCode::from_name(name)
            .ok_or_else(|| Error::invalid(format!("unknown key name {name:?}")))?;
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(u32::from(code.0)) };
        Ok(())
    })
}
