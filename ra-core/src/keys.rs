//! Keys by physical position: USB HID usages (keyboard page 0x07), and the
//! names used in input scripts (`ctrl+alt+t`).

use std::fmt;

/// A key identified by its USB HID usage on the keyboard page (0x07), so a
/// shortcut means the same physical keys whatever the keyboard layouts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyCode(pub u16);

/// Names accepted by [`KeyCode::from_name`], with their HID usages. Letters and
/// digits are generated; this table holds the rest.
const NAMED_KEYS: &[(&str, u16)] = &[
    ("enter", 0x28),
    ("return", 0x28),
    ("escape", 0x29),
    ("esc", 0x29),
    ("backspace", 0x2A),
    ("tab", 0x2B),
    ("space", 0x2C),
    ("minus", 0x2D),
    ("equal", 0x2E),
    ("leftbracket", 0x2F),
    ("rightbracket", 0x30),
    ("backslash", 0x31),
    ("semicolon", 0x33),
    ("apostrophe", 0x34),
    ("grave", 0x35),
    ("comma", 0x36),
    ("period", 0x37),
    ("slash", 0x38),
    ("capslock", 0x39),
    ("f1", 0x3A),
    ("f2", 0x3B),
    ("f3", 0x3C),
    ("f4", 0x3D),
    ("f5", 0x3E),
    ("f6", 0x3F),
    ("f7", 0x40),
    ("f8", 0x41),
    ("f9", 0x42),
    ("f10", 0x43),
    ("f11", 0x44),
    ("f12", 0x45),
    ("printscreen", 0x46),
    ("scrolllock", 0x47),
    ("pause", 0x48),
    ("insert", 0x49),
    ("home", 0x4A),
    ("pageup", 0x4B),
    ("delete", 0x4C),
    ("end", 0x4D),
    ("pagedown", 0x4E),
    ("right", 0x4F),
    ("left", 0x50),
    ("down", 0x51),
    ("up", 0x52),
    ("numlock", 0x53),
    ("menu", 0x65),
    ("ctrl", 0xE0),
    ("control", 0xE0),
    ("shift", 0xE1),
    ("alt", 0xE2),
    ("super", 0xE3),
    ("meta", 0xE3),
    ("win", 0xE3),
    ("rightctrl", 0xE4),
    ("rightshift", 0xE5),
    ("rightalt", 0xE6),
    ("altgr", 0xE6),
    ("rightsuper", 0xE7),
];

impl KeyCode {
    /// Left Control.
    pub const LEFT_CTRL: KeyCode = KeyCode(0xE0);
    /// Left Shift.
    pub const LEFT_SHIFT: KeyCode = KeyCode(0xE1);
    /// Left Alt.
    pub const LEFT_ALT: KeyCode = KeyCode(0xE2);
    /// Pause/Break.
    pub const PAUSE: KeyCode = KeyCode(0x48);

    /// The key with a script name: `a`–`z`, `0`–`9`, `f1`–`f12`, `enter`,
    /// `ctrl`, `alt`, `shift`, `super`, arrows, … (case-insensitive).
    pub fn from_name(name: &str) -> Option<KeyCode> {
        let lower = name.to_ascii_lowercase();
        let mut chars = lower.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return match c {
                'a'..='z' => Some(KeyCode(0x04 + (c as u16 - 'a' as u16))),
                '1'..='9' => Some(KeyCode(0x1E + (c as u16 - '1' as u16))),
                '0' => Some(KeyCode(0x27)),
                _ => None,
            };
        }
        NAMED_KEYS
            .iter()
            .find(|(n, _)| *n == lower)
            .map(|&(_, usage)| KeyCode(usage))
    }

    /// The canonical script name of the key, if it has one.
    pub fn name(self) -> Option<String> {
        match self.0 {
            0x04..=0x1D => {
                char::from_u32(u32::from(b'a') + u32::from(self.0 - 0x04)).map(String::from)
            }
            0x1E..=0x26 => {
                char::from_u32(u32::from(b'1') + u32::from(self.0 - 0x1E)).map(String::from)
            }
            0x27 => Some("0".to_owned()),
            usage => NAMED_KEYS
                .iter()
                .find(|&&(_, u)| u == usage)
                .map(|(n, _)| (*n).to_owned()),
        }
    }

    /// Whether the key is a modifier (Ctrl, Shift, Alt, Super on either side).
    pub const fn is_modifier(self) -> bool {
        matches!(self.0, 0xE0..=0xE7)
    }
}

impl fmt::Display for KeyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(&name),
            None => write!(f, "usage:0x{:02x}", self.0),
        }
    }
}

/// Parses a key combination such as `ctrl+alt+t` into its keys, modifiers first
/// as written. Returns `None` if any part is unknown or the combination is empty.
pub fn parse_combo(combo: &str) -> Option<Vec<KeyCode>> {
    let keys: Option<Vec<KeyCode>> = combo
        .split('+')
        .map(|part| KeyCode::from_name(part.trim()))
        .collect();
    keys.filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ["a", "z", "0", "9", "f12", "enter", "ctrl", "pause", "up"] {
            let code = KeyCode::from_name(name).unwrap();
            assert_eq!(code.name().as_deref(), Some(name), "{name}");
        }
        assert_eq!(KeyCode::from_name("A"), Some(KeyCode(0x04)));
        assert_eq!(KeyCode::from_name("nope"), None);
    }

    #[test]
    fn combos() {
        assert_eq!(
            parse_combo("ctrl+alt+t"),
            Some(vec![KeyCode::LEFT_CTRL, KeyCode::LEFT_ALT, KeyCode(0x17)])
        );
        assert_eq!(parse_combo(""), None);
        assert_eq!(parse_combo("ctrl+bogus"), None);
    }
}
