//! [`EnigoInjector`]: injects input into an X11 desktop through enigo's x11rb
//! (XTEST) backend.

mod held;
mod wheel;

use ::enigo::{Axis, Button, Coordinate, Direction, Enigo, Keyboard, Mouse, Settings};
use ra_core::input::{InputError, InputEvent, InputInjector, MouseButton};
use ra_core::keys::KeyCode;

use crate::keymap;
use held::{Held, HeldSet};
use wheel::WheelAccumulator;

/// An [`InputInjector`] for X11 desktops, built on enigo with its x11rb backend
/// (XTEST fake input).
///
/// - Pointer moves (absolute in root-window coordinates, and relative), the
///   five buttons (back/forward are X buttons 8/9) and the wheel (120 units a
///   notch; partial notches are kept per axis until they add up; at most 100
///   notches per axis and event).
/// - Keys by physical position: HID usage → evdev → X keycode (see
///   [`crate::keymap`]), so shortcuts do not depend on the host's layout.
/// - Text by Unicode character, whatever the layout (enigo maps characters
///   missing from the keymap to spare keycodes).
/// - Tracks the keys and buttons it holds; [`InputInjector::release_all`] (and
///   dropping the injector) releases exactly those, most recent first.
///
/// Every call waits for the X server to have processed the event (one round
/// trip), so events reach X in call order. Meant to be driven from one
/// dedicated thread; calls block for about 0.1 ms.
pub struct EnigoInjector {
    /// Pointer, buttons, wheel and keys.
    enigo: Enigo,
    /// Text only, on a connection of its own, opened on first use. Why: after
    /// enigo types a character it adds a 1–12 ms XTEST delay to every later
    /// key event of the same connection (its keymap's `pending_delays`, which
    /// `linux_delay` does not control); keeping text apart keeps keys at
    /// ≈ 0.05 ms.
    text: Option<Enigo>,
    display: Option<String>,
    held: HeldSet,
    wheel: WheelAccumulator,
}

impl std::fmt::Debug for EnigoInjector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnigoInjector")
            .field("display", &self.display)
            .field("held", &self.held)
            .field("wheel", &self.wheel)
            .finish_non_exhaustive()
    }
}

impl EnigoInjector {
    /// Connects to the X display `display` (e.g. `":0"`), or to `$DISPLAY`
    /// when `None`.
    ///
    /// # Errors
    /// [`InputError::TargetLost`] when the display cannot be reached,
    /// [`InputError::Backend`] when it cannot be used for injection (no XTEST,
    /// no spare keycodes).
    pub fn new(display: Option<&str>) -> Result<Self, InputError> {
        let display = display.map(str::to_owned);
        let enigo = connect(display.as_deref())?;
        Ok(EnigoInjector {
            enigo,
            text: None,
            display,
            held: HeldSet::default(),
            wheel: WheelAccumulator::default(),
        })
    }

    /// The display name given to [`EnigoInjector::new`] (`None`: `$DISPLAY`).
    pub fn display(&self) -> Option<&str> {
        self.display.as_deref()
    }

    fn text_enigo(&mut self) -> Result<&mut Enigo, InputError> {
        match &mut self.text {
            Some(enigo) => Ok(enigo),
            slot @ None => Ok(slot.insert(connect(self.display.as_deref())?)),
        }
    }

    fn key(&mut self, code: KeyCode, pressed: bool) -> Result<(), InputError> {
        let keycode = keymap::hid_to_x11_keycode(code).ok_or_else(|| {
            InputError::Unsupported(format!("no key for hid usage 0x{:02x}", code.0))
        })?;
        self.enigo
            .raw(u16::from(keycode), direction(pressed))
            .map_err(from_enigo)?;
        self.held.record(Held::Key(code), pressed);
        Ok(())
    }

    fn button(&mut self, button: MouseButton, pressed: bool) -> Result<(), InputError> {
        let enigo_button = match button {
            MouseButton::Left => Button::Left,
            MouseButton::Right => Button::Right,
            MouseButton::Middle => Button::Middle,
            MouseButton::Back => Button::Back,
            MouseButton::Forward => Button::Forward,
            other => {
                return Err(InputError::Unsupported(format!("the {other:?} button")));
            }
        };
        self.enigo
            .button(enigo_button, direction(pressed))
            .map_err(from_enigo)?;
        self.held.record(Held::Button(button), pressed);
        Ok(())
    }

    fn wheel(&mut self, dx: i32, dy: i32) -> Result<(), InputError> {
        let (notches_x, notches_y) = self.wheel.add(dx, dy);
        // enigo scrolls positive lengths down/right (X buttons 5/7), as the
        // model does.
        if notches_y != 0 {
            self.enigo
                .scroll(notches_y, Axis::Vertical)
                .map_err(from_enigo)?;
        }
        if notches_x != 0 {
            self.enigo
                .scroll(notches_x, Axis::Horizontal)
                .map_err(from_enigo)?;
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), InputError> {
        // enigo would look up a keysym for NUL; it types nothing anyway.
        let text: std::borrow::Cow<'_, str> = if text.contains('\0') {
            text.replace('\0', "").into()
        } else {
            text.into()
        };
        if text.is_empty() {
            return Ok(());
        }
        self.text_enigo()?.text(&text).map_err(from_enigo)
    }
}

impl InputInjector for EnigoInjector {
    fn inject(&mut self, event: &InputEvent) -> Result<(), InputError> {
        match *event {
            InputEvent::PointerMove { x, y } => {
                // X coordinates are 16-bit and the root window starts at 0,0;
                // the server clamps to the screen anyway.
                let (x, y) = (clamp(x, 0), clamp(y, 0));
                self.enigo
                    .move_mouse(x, y, Coordinate::Abs)
                    .map_err(from_enigo)
            }
            InputEvent::PointerMoveRelative { dx, dy } => {
                if dx == 0 && dy == 0 {
                    return Ok(());
                }
                let min = i32::from(i16::MIN);
                self.enigo
                    .move_mouse(clamp(dx, min), clamp(dy, min), Coordinate::Rel)
                    .map_err(from_enigo)
            }
            InputEvent::Button { button, pressed } => self.button(button, pressed),
            InputEvent::Wheel { dx, dy } => self.wheel(dx, dy),
            InputEvent::Key { code, pressed } => self.key(code, pressed),
            InputEvent::Text { ref text } => self.text(text),
            ref other => Err(InputError::Unsupported(format!("{other:?}"))),
        }
    }

    fn release_all(&mut self) -> Result<(), InputError> {
        self.wheel.reset();
        let mut first_error = None;
        for held in self.held.release_order() {
            // Keep going: one failed release must not leave the others held.
            // A failed one stays in the set, so a later call retries it.
            let result = match held {
                Held::Key(code) => self.key(code, false),
                Held::Button(button) => self.button(button, false),
            };
            if let Err(error) = result {
                tracing::warn!(?held, %error, "cannot release");
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for EnigoInjector {
    fn drop(&mut self) {
        if !self.held.is_empty() {
            let _ = self.release_all();
        }
    }
}

fn connect(display: Option<&str>) -> Result<Enigo, InputError> {
    let settings = Settings {
        // The default 12 ms sleeps after every event (≈ 25 ms per click).
        linux_delay: 0,
        x11_display: display.map(str::to_owned),
        // This injector tracks what it holds and releases it itself (buttons
        // too, which enigo does not track).
        release_keys_when_dropped: false,
        ..Settings::default()
    };
    Enigo::new(&settings).map_err(|error| {
        let name = display.unwrap_or("$DISPLAY");
        match error {
            ::enigo::NewConError::EstablishCon(_) | ::enigo::NewConError::Reply => {
                InputError::TargetLost(format!("cannot connect to x11 display {name}: {error}"))
            }
            _ => InputError::Backend(Box::new(EnigoFailure(format!(
                "cannot inject input on x11 display {name}: {error}"
            )))),
        }
    })
}

fn direction(pressed: bool) -> Direction {
    if pressed {
        Direction::Press
    } else {
        Direction::Release
    }
}

/// Clamps to the 16-bit coordinates XTEST takes.
fn clamp(value: i32, min: i32) -> i32 {
    value.clamp(min, i32::from(i16::MAX))
}

/// An enigo failure, as text: enigo's own error type stays private.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct EnigoFailure(String);

fn from_enigo(error: ::enigo::InputError) -> InputError {
    match error {
        ::enigo::InputError::InvalidInput(what) => InputError::Unsupported(what.to_owned()),
        // enigo reports every failed X request or round trip as `Simulate`;
        // an x11rb connection that failed once stays failed.
        ::enigo::InputError::Simulate(what) => {
            InputError::TargetLost(format!("x11 injection failed: {what}"))
        }
        other => InputError::Backend(Box::new(EnigoFailure(other.to_string()))),
    }
}
