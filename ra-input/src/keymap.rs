//! Physical key codes: USB HID usages (keyboard page 0x07) ↔ Linux evdev
//! scancodes ↔ X11 keycodes.
//!
//! Injecting keys by physical position (rather than by keysym) makes a
//! shortcut such as Ctrl+Z mean the same keys whatever layout the host uses.
//! The table is Linux's own (`hid_keyboard` in `drivers/hid/hid-input.c`), so
//! a key sent by usage reaches X exactly as the same key on a USB keyboard
//! would. X servers using the evdev driver (and Xvfb, and Xwayland) number keys
//! as evdev + 8.

use ra_core::keys::KeyCode;

/// Linux evdev scancode for each HID usage 0x00–0xFF of the keyboard page; 0
/// where Linux maps nothing (its `KEY_UNKNOWN` entries are 0 here too, since
/// injecting "unknown" helps nobody).
///
/// Rows of 16 usages; comments name the first usage of each row.
#[rustfmt::skip]
const HID_TO_EVDEV: [u8; 256] = [
    // 0x00: reserved ×4, a–l
      0,   0,   0,   0,  30,  48,  46,  32,  18,  33,  34,  35,  23,  36,  37,  38,
    // 0x10: m–z, 1, 2
     50,  49,  24,  25,  16,  19,  31,  20,  22,  47,  17,  45,  21,  44,   2,   3,
    // 0x20: 3–0, enter, escape, backspace, tab, space, minus, equal, [
      4,   5,   6,   7,   8,   9,  10,  11,  28,   1,  14,  15,  57,  12,  13,  26,
    // 0x30: ], backslash, non-US #, ;, ', `, comma, ., /, caps lock, F1–F6
     27,  43,  43,  39,  40,  41,  51,  52,  53,  58,  59,  60,  61,  62,  63,  64,
    // 0x40: F7–F12, print screen, scroll lock, pause, insert, home, page up,
    //       delete, end, page down, right
     65,  66,  67,  68,  87,  88,  99,  70, 119, 110, 102, 104, 111, 107, 109, 106,
    // 0x50: left, down, up, num lock, keypad / * - + enter 1–7
    105, 108, 103,  69,  98,  55,  74,  78,  96,  79,  80,  81,  75,  76,  77,  71,
    // 0x60: keypad 8 9 0 ., non-US backslash, application (compose), power,
    //       keypad =, F13–F20
     72,  73,  82,  83,  86, 127, 116, 117, 183, 184, 185, 186, 187, 188, 189, 190,
    // 0x70: F21–F24, execute, help, menu, select, stop, again, undo, cut,
    //       copy, paste, find, mute
    191, 192, 193, 194, 134, 138, 130, 132, 128, 129, 131, 137, 133, 135, 136, 113,
    // 0x80: volume up, volume down, locking caps/num/scroll (none), keypad
    //       comma, keypad = (AS/400), international 1 (ro), 2 (katakana/
    //       hiragana), 3 (yen), 4 (henkan), 5 (muhenkan), 6 (keypad jp comma),
    //       7–9 (none)
    115, 114,   0,   0,   0, 121,   0,  89,  93, 124,  92,  94,  95,   0,   0,   0,
    // 0x90: lang 1 (hangeul), 2 (hanja), 3 (katakana), 4 (hiragana),
    //       5 (zenkaku/hankaku), lang 6–9, alt erase, sysreq, cancel, clear
    //       (delete), prior, return, separator
    122, 123,  90,  91,  85,   0,   0,   0,   0,   0,   0,   0, 111,   0,   0,   0,
    // 0xA0: out, oper, clear/again, crsel, exsel (none), reserved
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    // 0xB0: keypad 00, 000, separators, currency units, keypad ( ) and more
      0,   0,   0,   0,   0,   0, 179, 180,   0,   0,   0,   0,   0,   0,   0,   0,
    // 0xC0: keypad logic and memory keys (none)
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    // 0xD0: keypad memory keys, keypad clear (delete)
      0,   0,   0,   0,   0,   0,   0,   0, 111,   0,   0,   0,   0,   0,   0,   0,
    // 0xE0: left ctrl, shift, alt, gui, right ctrl, shift, alt, gui; then
    //       Linux's extras for old keyboards' media keys: play/pause,
    //       stop cd, previous song, next song, eject cd, volume up, volume
    //       down, mute
     29,  42,  56, 125,  97,  54, 100, 126, 164, 166, 165, 163, 161, 115, 114, 113,
    // 0xF0: (Linux extras) www, back, forward, stop, find, scroll up, scroll
    //       down, edit, sleep, coffee, refresh, calc
    150, 158, 159, 128, 136, 177, 178, 176, 142, 152, 173, 140,   0,   0,   0,   0,
];

/// X11 keycodes are evdev scancodes plus this offset on evdev-based servers.
pub const X11_KEYCODE_OFFSET: u16 = 8;

/// The Linux evdev scancode of a key, or `None` if Linux maps nothing to
/// that usage.
pub fn hid_to_evdev(code: KeyCode) -> Option<u16> {
    let index = usize::from(code.0);
    match HID_TO_EVDEV.get(index) {
        Some(&evdev) if evdev != 0 => Some(u16::from(evdev)),
        _ => None,
    }
}

/// The HID usage of an evdev scancode. Where several usages share a scancode
/// (non-US # and backslash, the three "clear" keys and delete, …) the lowest
/// usage wins: it is the one a real keyboard sends for that key.
pub fn evdev_to_hid(evdev: u16) -> Option<KeyCode> {
    if evdev == 0 {
        return None;
    }
    HID_TO_EVDEV
        .iter()
        .position(|&e| u16::from(e) == evdev)
        .and_then(|usage| u16::try_from(usage).ok())
        .map(KeyCode)
}

/// The X11 keycode (evdev + 8) of a key.
pub fn hid_to_x11_keycode(code: KeyCode) -> Option<u8> {
    hid_to_evdev(code).and_then(|evdev| u8::try_from(evdev + X11_KEYCODE_OFFSET).ok())
}

/// The key of an X11 keycode (see [`evdev_to_hid`] for shared scancodes).
pub fn x11_keycode_to_hid(keycode: u8) -> Option<KeyCode> {
    u16::from(keycode)
        .checked_sub(X11_KEYCODE_OFFSET)
        .and_then(evdev_to_hid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(name: &str) -> KeyCode {
        KeyCode::from_name(name).unwrap()
    }

    #[test]
    fn well_known_keys() {
        // Values from linux/input-event-codes.h.
        let cases = [
            ("a", 30),
            ("z", 44),
            ("1", 2),
            ("0", 11),
            ("enter", 28),
            ("escape", 1),
            ("space", 57),
            ("f1", 59),
            ("f10", 68),
            ("f11", 87),
            ("f12", 88),
            ("pause", 119),
            ("printscreen", 99),
            ("delete", 111),
            ("right", 106),
            ("left", 105),
            ("down", 108),
            ("up", 103),
            ("menu", 127),
            ("ctrl", 29),
            ("shift", 42),
            ("alt", 56),
            ("super", 125),
            ("rightctrl", 97),
            ("rightshift", 54),
            ("rightalt", 100),
            ("rightsuper", 126),
        ];
        for (name, evdev) in cases {
            assert_eq!(hid_to_evdev(usage(name)), Some(evdev), "{name}");
            assert_eq!(
                hid_to_x11_keycode(usage(name)),
                Some(u8::try_from(evdev + 8).unwrap()),
                "{name}"
            );
        }
        // Keypad, F13–F24 and international keys.
        assert_eq!(hid_to_evdev(KeyCode(0x58)), Some(96)); // keypad enter
        assert_eq!(hid_to_evdev(KeyCode(0x62)), Some(82)); // keypad 0
        assert_eq!(hid_to_evdev(KeyCode(0x68)), Some(183)); // F13
        assert_eq!(hid_to_evdev(KeyCode(0x73)), Some(194)); // F24
        assert_eq!(hid_to_evdev(KeyCode(0x64)), Some(86)); // non-US backslash
        assert_eq!(hid_to_evdev(KeyCode(0x87)), Some(89)); // international 1 (ro)
        assert_eq!(hid_to_evdev(KeyCode(0x89)), Some(124)); // international 3 (yen)
        assert_eq!(hid_to_evdev(KeyCode(0x90)), Some(122)); // lang 1 (hangeul)
    }

    #[test]
    fn unmapped_usages() {
        for code in [0x00, 0x01, 0x03, 0x82, 0xA5, 0xFF, 0x100, 0xFFFF] {
            assert_eq!(hid_to_evdev(KeyCode(code)), None, "{code:#x}");
            assert_eq!(hid_to_x11_keycode(KeyCode(code)), None, "{code:#x}");
        }
        assert_eq!(evdev_to_hid(0), None);
        assert_eq!(evdev_to_hid(240), None);
        assert_eq!(x11_keycode_to_hid(0), None);
        assert_eq!(x11_keycode_to_hid(8), None);
    }

    #[test]
    fn round_trips_with_lowest_usage_for_shared_scancodes() {
        for usage in 0..=0xFFu16 {
            let Some(evdev) = hid_to_evdev(KeyCode(usage)) else {
                continue;
            };
            let back = evdev_to_hid(evdev).unwrap();
            assert!(back.0 <= usage, "{usage:#x} -> {evdev} -> {back:?}");
            assert_eq!(hid_to_evdev(back), Some(evdev));
            let keycode = hid_to_x11_keycode(KeyCode(usage)).unwrap();
            assert_eq!(x11_keycode_to_hid(keycode), Some(back));
        }
        // Non-US # shares backslash's scancode; delete shares with "clear".
        assert_eq!(evdev_to_hid(43), Some(KeyCode(0x31)));
        assert_eq!(evdev_to_hid(111), Some(KeyCode(0x4C)));
    }

    #[test]
    fn every_named_key_is_mapped() {
        for name in [
            "a",
            "m",
            "z",
            "1",
            "5",
            "0",
            "enter",
            "esc",
            "backspace",
            "tab",
            "space",
            "minus",
            "equal",
            "leftbracket",
            "rightbracket",
            "backslash",
            "semicolon",
            "apostrophe",
            "grave",
            "comma",
            "period",
            "slash",
            "capslock",
            "f1",
            "f12",
            "printscreen",
            "scrolllock",
            "pause",
            "insert",
            "home",
            "pageup",
            "delete",
            "end",
            "pagedown",
            "right",
            "left",
            "down",
            "up",
            "numlock",
            "menu",
            "ctrl",
            "shift",
            "alt",
            "super",
            "rightctrl",
            "rightshift",
            "rightalt",
            "rightsuper",
        ] {
            let code = usage(name);
            let keycode = hid_to_x11_keycode(code).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(x11_keycode_to_hid(keycode), Some(code), "{name}");
        }
    }
}
