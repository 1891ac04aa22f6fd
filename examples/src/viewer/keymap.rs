//! winit's physical keys → USB HID usages (keyboard page 0x07), the
//! layout-independent key codes of ra's input model. winit's `KeyCode` names
//! follow the W3C UI Events `code` values, whose specification gives the USB
//! usage of each; keys outside the keyboard page (browser, media-app and
//! power-management keys on the consumer page) have none here.

use ra_core::keys::KeyCode as Usage;
use winit::keyboard::{KeyCode, NativeKeyCode, PhysicalKey};

/// The HID usage of `key`, or `None` for keys the keyboard page lacks.
pub(crate) fn usage(key: PhysicalKey) -> Option<Usage> {
    match key {
        PhysicalKey::Code(code) => code_usage(code).map(Usage),
        // Linux reports keys winit has no name for by their evdev code: the
        // kernel's own table knows many of them.
        PhysicalKey::Unidentified(NativeKeyCode::Xkb(evdev)) => u16::try_from(evdev)
            .ok()
            .and_then(ra_input::keymap::evdev_to_hid),
        PhysicalKey::Unidentified(_) => None,
    }
}

/// The usage number of a named key.
fn code_usage(code: KeyCode) -> Option<u16> {
    use KeyCode as K;
    let usage = match code {
        // Letters: a = 0x04 … z = 0x1D.
        K::KeyA => 0x04,
        K::KeyB => 0x05,
        K::KeyC => 0x06,
        K::KeyD => 0x07,
        K::KeyE => 0x08,
        K::KeyF => 0x09,
        K::KeyG => 0x0A,
        K::KeyH => 0x0B,
        K::KeyI => 0x0C,
        K::KeyJ => 0x0D,
        K::KeyK => 0x0E,
        K::KeyL => 0x0F,
        K::KeyM => 0x10,
        K::KeyN => 0x11,
        K::KeyO => 0x12,
        K::KeyP => 0x13,
        K::KeyQ => 0x14,
        K::KeyR => 0x15,
        K::KeyS => 0x16,
        K::KeyT => 0x17,
        K::KeyU => 0x18,
        K::KeyV => 0x19,
        K::KeyW => 0x1A,
        K::KeyX => 0x1B,
        K::KeyY => 0x1C,
        K::KeyZ => 0x1D,
        // Digits: 1 = 0x1E … 9 = 0x26, 0 = 0x27.
        K::Digit1 => 0x1E,
        K::Digit2 => 0x1F,
        K::Digit3 => 0x20,
        K::Digit4 => 0x21,
        K::Digit5 => 0x22,
        K::Digit6 => 0x23,
        K::Digit7 => 0x24,
        K::Digit8 => 0x25,
        K::Digit9 => 0x26,
        K::Digit0 => 0x27,
        K::Enter => 0x28,
        K::Escape => 0x29,
        K::Backspace => 0x2A,
        K::Tab => 0x2B,
        K::Space => 0x2C,
        K::Minus => 0x2D,
        K::Equal => 0x2E,
        K::BracketLeft => 0x2F,
        K::BracketRight => 0x30,
        K::Backslash => 0x31,
        K::Semicolon => 0x33,
        K::Quote => 0x34,
        K::Backquote => 0x35,
        K::Comma => 0x36,
        K::Period => 0x37,
        K::Slash => 0x38,
        K::CapsLock => 0x39,
        K::F1 => 0x3A,
        K::F2 => 0x3B,
        K::F3 => 0x3C,
        K::F4 => 0x3D,
        K::F5 => 0x3E,
        K::F6 => 0x3F,
        K::F7 => 0x40,
        K::F8 => 0x41,
        K::F9 => 0x42,
        K::F10 => 0x43,
        K::F11 => 0x44,
        K::F12 => 0x45,
        K::PrintScreen => 0x46,
        K::ScrollLock => 0x47,
        K::Pause => 0x48,
        K::Insert => 0x49,
        K::Home => 0x4A,
        K::PageUp => 0x4B,
        K::Delete => 0x4C,
        K::End => 0x4D,
        K::PageDown => 0x4E,
        K::ArrowRight => 0x4F,
        K::ArrowLeft => 0x50,
        K::ArrowDown => 0x51,
        K::ArrowUp => 0x52,
        // Keypad.
        K::NumLock => 0x53,
        K::NumpadDivide => 0x54,
        K::NumpadMultiply | K::NumpadStar => 0x55,
        K::NumpadSubtract => 0x56,
        K::NumpadAdd => 0x57,
        K::NumpadEnter => 0x58,
        K::Numpad1 => 0x59,
        K::Numpad2 => 0x5A,
        K::Numpad3 => 0x5B,
        K::Numpad4 => 0x5C,
        K::Numpad5 => 0x5D,
        K::Numpad6 => 0x5E,
        K::Numpad7 => 0x5F,
        K::Numpad8 => 0x60,
        K::Numpad9 => 0x61,
        K::Numpad0 => 0x62,
        K::NumpadDecimal => 0x63,
        K::IntlBackslash => 0x64,
        K::ContextMenu => 0x65,
        K::Power => 0x66,
        K::NumpadEqual => 0x67,
        K::F13 => 0x68,
        K::F14 => 0x69,
        K::F15 => 0x6A,
        K::F16 => 0x6B,
        K::F17 => 0x6C,
        K::F18 => 0x6D,
        K::F19 => 0x6E,
        K::F20 => 0x6F,
        K::F21 => 0x70,
        K::F22 => 0x71,
        K::F23 => 0x72,
        K::F24 => 0x73,
        K::Open => 0x74,
        K::Help => 0x75,
        K::Select => 0x77,
        K::Again => 0x79,
        K::Undo => 0x7A,
        K::Cut => 0x7B,
        K::Copy => 0x7C,
        K::Paste => 0x7D,
        K::Find => 0x7E,
        K::AudioVolumeMute => 0x7F,
        K::AudioVolumeUp => 0x80,
        K::AudioVolumeDown => 0x81,
        K::NumpadComma => 0x85,
        // International and language keys (Japanese, Korean keyboards).
        K::IntlRo => 0x87,
        K::KanaMode => 0x88,
        K::IntlYen => 0x89,
        K::Convert => 0x8A,
        K::NonConvert => 0x8B,
        K::Lang1 => 0x90,
        K::Lang2 => 0x91,
        K::Lang3 | K::Katakana => 0x92,
        K::Lang4 | K::Hiragana => 0x93,
        K::Lang5 => 0x94,
        K::Props => 0xA3,
        K::NumpadParenLeft => 0xB6,
        K::NumpadParenRight => 0xB7,
        K::NumpadBackspace => 0xBB,
        K::NumpadHash => 0xCC,
        K::NumpadMemoryStore => 0xD0,
        K::NumpadMemoryRecall => 0xD1,
        K::NumpadMemoryClear => 0xD2,
        K::NumpadMemoryAdd => 0xD3,
        K::NumpadMemorySubtract => 0xD4,
        K::NumpadClear => 0xD8,
        K::NumpadClearEntry => 0xD9,
        // Modifiers.
        K::ControlLeft => 0xE0,
        K::ShiftLeft => 0xE1,
        K::AltLeft => 0xE2,
        K::SuperLeft | K::Meta => 0xE3,
        K::ControlRight => 0xE4,
        K::ShiftRight => 0xE5,
        K::AltRight => 0xE6,
        K::SuperRight => 0xE7,
        // Media keys live on the consumer page; Linux gives them these
        // keyboard-page usages, which ra's injector maps back.
        K::MediaPlayPause => 0xE8,
        K::MediaStop => 0xE9,
        K::MediaTrackPrevious => 0xEA,
        K::MediaTrackNext => 0xEB,
        K::Eject => 0xEC,
        _ => return None,
    };
    Some(usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use winit::platform::scancode::PhysicalKeyExtScancode;

    #[test]
    fn common_keys() {
        let of = |code| usage(PhysicalKey::Code(code)).map(|u| u.0);
        assert_eq!(of(KeyCode::KeyA), Some(4));
        assert_eq!(of(KeyCode::KeyZ), Some(0x1D));
        assert_eq!(of(KeyCode::Digit0), Some(0x27));
        assert_eq!(of(KeyCode::Enter), Some(0x28));
        assert_eq!(of(KeyCode::ControlLeft), Some(0xE0));
        assert_eq!(of(KeyCode::F8), Some(0x41));
        assert_eq!(of(KeyCode::BrowserBack), None);
        assert_eq!(
            usage(PhysicalKey::Unidentified(NativeKeyCode::Unidentified)),
            None
        );
    }

    /// Every key winit names on Linux (by evdev code) maps to the usage that
    /// the kernel's table (as ra-input has it) maps back to the same evdev
    /// code: both tables agree key by key.
    #[test]
    fn agrees_with_the_linux_table_for_every_evdev_code() {
        let mut named = 0;
        for evdev in 1..=255u32 {
            let key = PhysicalKey::from_scancode(evdev);
            let Some(usage) = usage(key) else {
                continue;
            };
            named += 1;
            let back = ra_input::keymap::hid_to_evdev(usage).map(u32::from);
            // Several evdev codes may share a usage (KEY_MUTE, KEY_MIN_INTERESTING):
            // the usage must at least lead back to a code winit names the same key.
            let same_key = back.map(PhysicalKey::from_scancode);
            assert!(
                back == Some(evdev) || same_key == Some(key),
                "evdev {evdev} ({key:?}) -> usage {:#x} -> evdev {back:?}",
                usage.0
            );
        }
        assert!(named >= 120, "only {named} keys mapped");
    }
}
