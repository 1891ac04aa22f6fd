//! The input model (what a helper may send when in control) and the injector trait.

use crate::keys::KeyCode;

/// A mouse button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MouseButton {
    /// The primary button.
    Left,
    /// The secondary button.
    Right,
    /// The middle button or wheel click.
    Middle,
    /// The "back" side button.
    Back,
    /// The "forward" side button.
    Forward,
}

/// One input event from the helper, in the coordinates of the captured display.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputEvent {
    /// Moves the pointer to an absolute position in the captured display.
    PointerMove {
        /// Horizontal position in pixels.
        x: i32,
        /// Vertical position in pixels.
        y: i32,
    },
    /// Moves the pointer by an offset.
    PointerMoveRelative {
        /// Horizontal offset in pixels.
        dx: i32,
        /// Vertical offset in pixels.
        dy: i32,
    },
    /// Presses or releases a mouse button.
    Button {
        /// Which button.
        button: MouseButton,
        /// `true` for press, `false` for release.
        pressed: bool,
    },
    /// Scrolls. One notch of a classic wheel is 120 units (as on Windows), so
    /// touchpads can send finer steps.
    Wheel {
        /// Horizontal amount, positive to the right.
        dx: i32,
        /// Vertical amount, positive down.
        dy: i32,
    },
    /// Presses or releases a key by its physical position.
    Key {
        /// USB HID usage (page 0x07) of the key.
        code: KeyCode,
        /// `true` for press, `false` for release.
        pressed: bool,
    },
    /// Types Unicode text (layout-independent).
    Text {
        /// The text to type.
        text: String,
    },
}

/// Why an injector failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The event cannot be represented on this platform (e.g. an unmapped key).
    #[error("unsupported input event: {0}")]
    Unsupported(String),
    /// The injection target went away (display server closed).
    #[error("input target is gone: {0}")]
    TargetLost(String),
    /// The backend failed for another reason.
    #[error("input backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Delivers the helper's input to the host's desktop.
///
/// The engine calls it only while the helper holds a control grant, from a
/// thread of its own (never the async executor), and calls
/// [`InputInjector::release_all`] on every revoke, pause and end.
pub trait InputInjector: Send {
    /// Injects one event.
    ///
    /// # Errors
    /// [`InputError::Unsupported`] for events the backend cannot produce,
    /// [`InputError::TargetLost`] or [`InputError::Backend`].
    fn inject(&mut self, event: &InputEvent) -> Result<(), InputError>;

    /// Releases every key and button this injector holds pressed.
    ///
    /// # Errors
    /// [`InputError::TargetLost`] or [`InputError::Backend`].
    fn release_all(&mut self) -> Result<(), InputError>;
}
