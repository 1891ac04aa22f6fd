//! The JSON form of input events, shared by [`crate::LogInjector`] and the example
//! programs.

use ra_core::input::{InputEvent, MouseButton};
use serde::Serialize;

/// Serializable mirror of [`InputEvent`] plus the release-all marker; the JSON
/// names are the contract, the Rust names can change.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum EventRecord<'a> {
    Move {
        x: i32,
        y: i32,
    },
    MoveRelative {
        dx: i32,
        dy: i32,
    },
    Button {
        button: &'static str,
        pressed: bool,
    },
    Wheel {
        dx: i32,
        dy: i32,
    },
    Key {
        /// Script name (`"a"`, `"ctrl"`), or `"usage:0x.."` for unnamed keys.
        key: String,
        /// USB HID usage on the keyboard page.
        usage: u16,
        pressed: bool,
    },
    Text {
        text: &'a str,
    },
    ReleaseAll,
    /// An event this version does not name (`InputEvent` grows).
    Other {
        event: String,
    },
}

impl<'a> From<&'a InputEvent> for EventRecord<'a> {
    fn from(event: &'a InputEvent) -> Self {
        match *event {
            InputEvent::PointerMove { x, y } => EventRecord::Move { x, y },
            InputEvent::PointerMoveRelative { dx, dy } => EventRecord::MoveRelative { dx, dy },
            InputEvent::Button { button, pressed } => EventRecord::Button {
                button: button_name(button),
                pressed,
            },
            InputEvent::Wheel { dx, dy } => EventRecord::Wheel { dx, dy },
            InputEvent::Key { code, pressed } => EventRecord::Key {
                key: code.to_string(),
                usage: code.0,
                pressed,
            },
            InputEvent::Text { ref text } => EventRecord::Text { text },
            ref other => EventRecord::Other {
                event: format!("{other:?}"),
            },
        }
    }
}

impl EventRecord<'_> {
    /// As a JSON value. Serializing these plain records cannot fail; `Null` stands
    /// in should serde_json ever disagree.
    pub(crate) fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn button_name(button: MouseButton) -> &'static str {
    match button {
        MouseButton::Left => "left",
        MouseButton::Right => "right",
        MouseButton::Middle => "middle",
        MouseButton::Back => "back",
        MouseButton::Forward => "forward",
        _ => "other",
    }
}

/// The JSON form of `event`, one object with a `"type"` field:
///
/// | event | JSON |
/// |---|---|
/// | `PointerMove` | `{"type":"move","x":1,"y":2}` |
/// | `PointerMoveRelative` | `{"type":"move_relative","dx":-3,"dy":4}` |
/// | `Button` | `{"type":"button","button":"left","pressed":true}` (`left`, `right`, `middle`, `back`, `forward`) |
/// | `Wheel` | `{"type":"wheel","dx":0,"dy":120}` |
/// | `Key` | `{"type":"key","key":"a","usage":4,"pressed":true}` (`key` is the script name, or `"usage:0x68"` for keys without one) |
/// | `Text` | `{"type":"text","text":"hi"}` |
///
/// [`release_all_to_json`] gives the `{"type":"release_all"}` marker.
pub fn event_to_json(event: &InputEvent) -> serde_json::Value {
    EventRecord::from(event).to_value()
}

/// The JSON marker for a release of all keys and buttons: `{"type":"release_all"}`.
pub fn release_all_to_json() -> serde_json::Value {
    EventRecord::ReleaseAll.to_value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ra_core::keys::KeyCode;
    use serde_json::json;

    #[test]
    fn every_event_kind() {
        let cases = [
            (
                InputEvent::PointerMove { x: 1, y: 2 },
                json!({"type":"move","x":1,"y":2}),
            ),
            (
                InputEvent::PointerMoveRelative { dx: -3, dy: 4 },
                json!({"type":"move_relative","dx":-3,"dy":4}),
            ),
            (
                InputEvent::Button {
                    button: MouseButton::Left,
                    pressed: true,
                },
                json!({"type":"button","button":"left","pressed":true}),
            ),
            (
                InputEvent::Button {
                    button: MouseButton::Forward,
                    pressed: false,
                },
                json!({"type":"button","button":"forward","pressed":false}),
            ),
            (
                InputEvent::Wheel { dx: 0, dy: 120 },
                json!({"type":"wheel","dx":0,"dy":120}),
            ),
            (
                InputEvent::Key {
                    code: KeyCode(4),
                    pressed: true,
                },
                json!({"type":"key","key":"a","usage":4,"pressed":true}),
            ),
            (
                InputEvent::Key {
                    code: KeyCode(0x68),
                    pressed: false,
                },
                json!({"type":"key","key":"usage:0x68","usage":0x68,"pressed":false}),
            ),
            (
                InputEvent::Text {
                    text: "hi \"there\"\n".to_owned(),
                },
                json!({"type":"text","text":"hi \"there\"\n"}),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(event_to_json(&event), expected, "{event:?}");
        }
        assert_eq!(release_all_to_json(), json!({"type":"release_all"}));
    }
}
