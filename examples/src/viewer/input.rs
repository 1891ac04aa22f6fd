//! The helper's mouse and keyboard → ra input events, while in control.
//!
//! Pointer motion is coalesced: the last position of an event-loop turn is
//! sent once, right before any button or key that follows it (so a click lands
//! where the pointer was) or at the end of the turn. Presses are remembered so
//! their releases are sent even outside the picture, and so everything held
//! can be released when the window loses focus.

use std::collections::BTreeSet;

use ra_core::input::{InputEvent, MouseButton};
use ra_core::keys::KeyCode;
use winit::event::MouseScrollDelta;

/// Wheel units of one notch (one line), as in ra's input model.
pub(crate) const UNITS_PER_LINE: f64 = 120.0;
/// Pixels of a touchpad scroll worth one notch.
const PIXELS_PER_LINE: f64 = 40.0;

/// winit's mouse button → ra's, `None` for buttons ra does not model.
pub(crate) fn button(button: winit::event::MouseButton) -> Option<MouseButton> {
    use winit::event::MouseButton as W;
    match button {
        W::Left => Some(MouseButton::Left),
        W::Right => Some(MouseButton::Right),
        W::Middle => Some(MouseButton::Middle),
        W::Back => Some(MouseButton::Back),
        W::Forward => Some(MouseButton::Forward),
        W::Other(_) => None,
    }
}

/// A scroll in ra's wheel units: (right, down) positive. winit's deltas are
/// positive when the content moves right/down, i.e. for a scroll left/up.
pub(crate) fn wheel_units(delta: MouseScrollDelta) -> (f64, f64) {
    match delta {
        MouseScrollDelta::LineDelta(x, y) => (
            -f64::from(x) * UNITS_PER_LINE,
            -f64::from(y) * UNITS_PER_LINE,
        ),
        MouseScrollDelta::PixelDelta(p) => (
            -p.x * UNITS_PER_LINE / PIXELS_PER_LINE,
            -p.y * UNITS_PER_LINE / PIXELS_PER_LINE,
        ),
    }
}

/// Collects the input of one event-loop turn.
#[derive(Debug, Default)]
pub(crate) struct InputForwarder {
    /// Events of this turn, in order.
    batch: Vec<InputEvent>,
    /// The last pointer position of this turn, not yet in `batch`.
    pending_move: Option<(i32, i32)>,
    /// The position last put in `batch`, to skip repeats.
    last_move: Option<(i32, i32)>,
    /// Whether the pointer is over the picture.
    over_picture: bool,
    buttons: BTreeSet<MouseButton>,
    keys: BTreeSet<KeyCode>,
    /// Fractions of wheel units not sent yet (touchpads scroll finely).
    wheel_rest: (f64, f64),
}

impl InputForwarder {
    /// The pointer is now at `remote` (`None`: outside the picture, where
    /// motion is not sent).
    pub(crate) fn pointer(&mut self, remote: Option<(i32, i32)>) {
        self.over_picture = remote.is_some();
        if let Some(position) = remote {
            self.pending_move = (self.last_move != Some(position)).then_some(position);
        }
    }

    /// A button changed. Presses count over the picture only; a release is
    /// sent for every press that was.
    pub(crate) fn button(&mut self, button: MouseButton, pressed: bool) {
        let send = if pressed {
            self.over_picture && self.buttons.insert(button)
        } else {
            self.buttons.remove(&button)
        };
        if send {
            self.push(InputEvent::Button { button, pressed });
        }
    }

    /// A scroll of (`dx`, `dy`) wheel units over the picture.
    pub(crate) fn wheel(&mut self, dx: f64, dy: f64) {
        if !self.over_picture || !dx.is_finite() || !dy.is_finite() {
            return;
        }
        let (x, y) = (self.wheel_rest.0 + dx, self.wheel_rest.1 + dy);
        let (whole_x, whole_y) = (x.trunc(), y.trunc());
        self.wheel_rest = (x - whole_x, y - whole_y);
        // Saturating casts: absurd deltas stay within i32.
        let (dx, dy) = (whole_x as i32, whole_y as i32);
        if dx != 0 || dy != 0 {
            self.push(InputEvent::Wheel { dx, dy });
        }
    }

    /// A key changed. Releases are sent only for keys pressed while in
    /// control (a key held before the grant stays the helper's own).
    pub(crate) fn key(&mut self, code: KeyCode, pressed: bool) {
        let send = if pressed {
            self.keys.insert(code)
        } else {
            self.keys.remove(&code)
        };
        if send {
            self.push(InputEvent::Key { code, pressed });
        }
    }

    /// Text typed through an input method.
    pub(crate) fn text(&mut self, text: String) {
        if !text.is_empty() {
            self.push(InputEvent::Text { text });
        }
    }

    /// The window lost the keyboard: release what it holds on the host, as
    /// the keys' own releases will go elsewhere.
    pub(crate) fn release_held(&mut self) {
        for code in std::mem::take(&mut self.keys) {
            self.push(InputEvent::Key {
                code,
                pressed: false,
            });
        }
        for button in std::mem::take(&mut self.buttons) {
            self.push(InputEvent::Button {
                button,
                pressed: false,
            });
        }
    }

    /// Control ended: the host released everything itself; forget it all.
    pub(crate) fn reset(&mut self) {
        let over_picture = self.over_picture;
        *self = InputForwarder {
            over_picture,
            ..InputForwarder::default()
        };
    }

    /// The turn's events (pointer motion last, once), or `None` if there are none.
    pub(crate) fn take(&mut self) -> Option<Vec<InputEvent>> {
        self.flush_move();
        (!self.batch.is_empty()).then(|| std::mem::take(&mut self.batch))
    }

    fn push(&mut self, event: InputEvent) {
        // Motion first, so the event happens where the pointer is.
        self.flush_move();
        self.batch.push(event);
    }

    fn flush_move(&mut self) {
        if let Some((x, y)) = self.pending_move.take() {
            self.last_move = Some((x, y));
            self.batch.push(InputEvent::PointerMove { x, y });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use winit::dpi::PhysicalPosition;

    fn mv(x: i32, y: i32) -> InputEvent {
        InputEvent::PointerMove { x, y }
    }

    fn left(pressed: bool) -> InputEvent {
        InputEvent::Button {
            button: MouseButton::Left,
            pressed,
        }
    }

    #[test]
    fn motion_is_coalesced_and_precedes_clicks() {
        let mut input = InputForwarder::default();
        assert_eq!(input.take(), None);
        input.pointer(Some((1, 1)));
        input.pointer(Some((2, 2)));
        input.pointer(Some((3, 3)));
        assert_eq!(input.take(), Some(vec![mv(3, 3)]));
        // The same place again: nothing to send.
        input.pointer(Some((3, 3)));
        assert_eq!(input.take(), None);
        input.pointer(Some((4, 4)));
        input.button(MouseButton::Left, true);
        input.pointer(Some((5, 5)));
        input.pointer(Some((6, 6)));
        input.button(MouseButton::Left, false);
        assert_eq!(
            input.take(),
            Some(vec![mv(4, 4), left(true), mv(6, 6), left(false)])
        );
    }

    #[test]
    fn outside_the_picture() {
        let mut input = InputForwarder::default();
        input.pointer(None);
        input.button(MouseButton::Left, true);
        input.wheel(0.0, 120.0);
        input.button(MouseButton::Left, false);
        assert_eq!(input.take(), None, "no press outside, so no release");
        // Pressed inside, released outside (a drag off the picture).
        input.pointer(Some((7, 7)));
        input.button(MouseButton::Right, true);
        input.pointer(None);
        input.button(MouseButton::Right, false);
        let right = |pressed| InputEvent::Button {
            button: MouseButton::Right,
            pressed,
        };
        assert_eq!(
            input.take(),
            Some(vec![mv(7, 7), right(true), right(false)])
        );
    }

    #[test]
    fn keys_release_held_and_reset() {
        let mut input = InputForwarder::default();
        let key = |usage, pressed| InputEvent::Key {
            code: KeyCode(usage),
            pressed,
        };
        input.key(KeyCode(4), false);
        assert_eq!(input.take(), None, "released but never pressed in control");
        input.key(KeyCode(0xE0), true);
        input.key(KeyCode(4), true);
        input.pointer(Some((1, 2)));
        input.button(MouseButton::Left, true);
        input.release_held();
        assert_eq!(
            input.take(),
            Some(vec![
                key(0xE0, true),
                key(4, true),
                mv(1, 2),
                left(true),
                key(4, false),
                key(0xE0, false),
                left(false)
            ])
        );
        input.key(KeyCode(5), true);
        input.reset();
        assert_eq!(input.take(), None);
        input.key(KeyCode(5), false);
        assert_eq!(input.take(), None, "the host released it already");
        input.text(String::new());
        input.text("é".into());
        assert_eq!(
            input.take(),
            Some(vec![InputEvent::Text { text: "é".into() }])
        );
    }

    #[test]
    fn wheel_units_and_fractions() {
        assert_eq!(
            wheel_units(MouseScrollDelta::LineDelta(0.0, 1.0)),
            (0.0, -120.0)
        );
        assert_eq!(
            wheel_units(MouseScrollDelta::LineDelta(-1.0, 0.0)),
            (120.0, 0.0)
        );
        assert_eq!(
            wheel_units(MouseScrollDelta::PixelDelta(PhysicalPosition::new(
                0.0, -20.0
            ))),
            (0.0, 60.0)
        );
        let mut input = InputForwarder::default();
        input.pointer(Some((0, 0)));
        let _ = input.take();
        input.wheel(0.0, 0.4);
        input.wheel(0.0, 0.4);
        assert_eq!(input.take(), None);
        input.wheel(0.0, 0.4);
        input.wheel(0.0, -240.0);
        input.wheel(f64::NAN, 1.0);
        assert_eq!(
            input.take(),
            Some(vec![
                InputEvent::Wheel { dx: 0, dy: 1 },
                InputEvent::Wheel { dx: 0, dy: -239 }
            ])
        );
    }
}
