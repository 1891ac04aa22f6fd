//! The X11 backends against a real X server: each test starts its own Xvfb,
//! injects with [`EnigoInjector`] (or XTEST from the test's own connection)
//! and checks what an [`EventRecorder`] window received.
#![cfg(all(unix, not(target_os = "macos")))]

use std::sync::mpsc;
use std::time::Duration;

use ra_capture::xvfb::Xvfb;
use ra_core::input::{InputError, InputEvent, InputInjector, MouseButton};
use ra_core::keys::KeyCode;
use ra_input::EnigoInjector;
use ra_input::keymap;
use ra_input::x11::{
    ActivityKind, EventKind, EventRecorder, LocalActivity, PanicKey, RecordedEvent, X11Error,
};
use x11rb::connection::RequestConnection;
use x11rb::protocol::xinput::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, KEY_PRESS_EVENT, KEY_RELEASE_EVENT, KeyButMask};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

const WAIT: Duration = Duration::from_secs(10);
const WIDTH: u16 = 640;
const HEIGHT: u16 = 480;

/// A display with a full-screen recorder and an injector.
struct Desk {
    recorder: EventRecorder,
    injector: EnigoInjector,
    // Last: the server outlives the clients.
    xvfb: Xvfb,
}

impl Desk {
    fn new() -> Desk {
        let xvfb = Xvfb::start(u32::from(WIDTH), u32::from(HEIGHT)).unwrap();
        let display = xvfb.display();
        let recorder = EventRecorder::start(Some(&display)).unwrap();
        let injector = EnigoInjector::new(Some(&display)).unwrap();
        Desk {
            recorder,
            injector,
            xvfb,
        }
    }

    fn inject(&mut self, event: InputEvent) {
        self.injector
            .inject(&event)
            .unwrap_or_else(|e| panic!("{event:?}: {e}"));
    }

    /// Everything recorded since the last call. Every injector call returns
    /// after the X server processed it, so a recorder sync afterwards sees it.
    fn take(&self) -> Vec<RecordedEvent> {
        self.recorder.sync(WAIT).unwrap();
        self.recorder.take()
    }
}

/// The test's own XTEST connection.
struct Xtest {
    conn: RustConnection,
}

impl Xtest {
    fn connect(xvfb: &Xvfb) -> Xtest {
        let (conn, _) = x11rb::connect(Some(&xvfb.display())).unwrap();
        Xtest { conn }
    }

    fn key(&self, keycode: u8, pressed: bool) {
        let kind = if pressed {
            KEY_PRESS_EVENT
        } else {
            KEY_RELEASE_EVENT
        };
        self.conn
            .xtest_fake_input(kind, keycode, 0, x11rb::NONE, 0, 0, 0)
            .unwrap();
    }

    fn usage(&self, code: KeyCode, pressed: bool) {
        self.key(keymap::hid_to_x11_keycode(code).unwrap(), pressed);
    }

    /// Presses the keys in order, then releases them in reverse.
    fn combo(&self, keys: &[KeyCode]) {
        for &key in keys {
            self.usage(key, true);
        }
        for &key in keys.iter().rev() {
            self.usage(key, false);
        }
        self.round_trip();
    }

    /// Returns once the server has processed every request sent before.
    fn round_trip(&self) {
        self.conn.get_input_focus().unwrap().reply().unwrap();
    }

    /// The XInput2 id of the device named `name`.
    fn device(&self, name: &str) -> u8 {
        let reply = self
            .conn
            .xinput_xi_query_device(xinput::Device::ALL)
            .unwrap()
            .reply()
            .unwrap();
        let info = reply
            .infos
            .iter()
            .find(|info| info.name == name.as_bytes())
            .unwrap_or_else(|| panic!("no device {name}"));
        u8::try_from(info.deviceid).unwrap()
    }

    /// Fakes an XInput 1 device event (`offset` 1 key press, 2 key release,
    /// 3 button press, 4 button release) as if it came from `device` rather
    /// than from the XTEST devices: the closest thing to a physical device
    /// Xvfb offers.
    fn device_event(&self, device: u8, offset: u8, detail: u8) {
        let first_event = self
            .conn
            .extension_information(xinput::X11_EXTENSION_NAME)
            .unwrap()
            .unwrap()
            .first_event;
        self.conn
            .xtest_fake_input(first_event + offset, detail, 0, x11rb::NONE, 0, 0, device)
            .unwrap();
    }
}

fn key(code: u16, pressed: bool) -> InputEvent {
    InputEvent::Key {
        code: KeyCode(code),
        pressed,
    }
}

fn button(button: MouseButton, pressed: bool) -> InputEvent {
    InputEvent::Button { button, pressed }
}

fn of_kind(events: &[RecordedEvent], kind: EventKind) -> Vec<RecordedEvent> {
    events.iter().filter(|e| e.kind == kind).cloned().collect()
}

/// (kind, detail) of key and button events, in order.
fn presses(events: &[RecordedEvent]) -> Vec<(EventKind, u8)> {
    events
        .iter()
        .filter(|e| e.kind != EventKind::Motion)
        .map(|e| (e.kind, e.detail))
        .collect()
}

#[test]
fn absolute_moves_arrive_at_their_coordinates() {
    let mut desk = Desk::new();
    let targets = [(10, 20), (320, 240), (0, 0), (639, 479), (5, 470)];
    for &(x, y) in &targets {
        desk.inject(InputEvent::PointerMove { x, y });
    }
    let motions = of_kind(&desk.take(), EventKind::Motion);
    let seen: Vec<(i16, i16)> = motions.iter().map(|e| (e.root_x, e.root_y)).collect();
    let expected: Vec<(i16, i16)> = targets
        .iter()
        .map(|&(x, y)| (i16::try_from(x).unwrap(), i16::try_from(y).unwrap()))
        .collect();
    assert_eq!(seen, expected);
    for motion in &motions {
        // The recorder covers the screen: window and root coordinates agree.
        assert_eq!((motion.x, motion.y), (motion.root_x, motion.root_y));
    }

    // Beyond the screen: clamped by the server, no error.
    desk.inject(InputEvent::PointerMove { x: -50, y: 100_000 });
    let last = of_kind(&desk.take(), EventKind::Motion);
    assert_eq!(
        last.last().map(|e| (e.root_x, e.root_y)),
        Some((0, 479)),
        "{last:?}"
    );
}

#[test]
fn window_relative_coordinates_of_a_smaller_recorder() {
    let xvfb = Xvfb::start(u32::from(WIDTH), u32::from(HEIGHT)).unwrap();
    let display = xvfb.display();
    let recorder = EventRecorder::with_geometry(Some(&display), 100, 50, 200, 100).unwrap();
    let mut injector = EnigoInjector::new(Some(&display)).unwrap();
    injector
        .inject(&InputEvent::PointerMove { x: 150, y: 80 })
        .unwrap();
    // Outside the window: not recorded.
    injector
        .inject(&InputEvent::PointerMove { x: 500, y: 400 })
        .unwrap();
    injector
        .inject(&InputEvent::PointerMove { x: 299, y: 149 })
        .unwrap();
    recorder.sync(WAIT).unwrap();
    let seen: Vec<(i16, i16, i16, i16)> = of_kind(&recorder.events(), EventKind::Motion)
        .iter()
        .map(|e| (e.x, e.y, e.root_x, e.root_y))
        .collect();
    assert_eq!(seen, vec![(50, 30, 150, 80), (199, 99, 299, 149)]);
}

#[test]
fn relative_moves() {
    let mut desk = Desk::new();
    desk.inject(InputEvent::PointerMove { x: 100, y: 100 });
    desk.inject(InputEvent::PointerMoveRelative { dx: 15, dy: -7 });
    desk.inject(InputEvent::PointerMoveRelative { dx: -20, dy: 30 });
    desk.inject(InputEvent::PointerMoveRelative { dx: 0, dy: 0 });
    desk.inject(InputEvent::PointerMoveRelative { dx: 1, dy: 0 });
    let seen: Vec<(i16, i16)> = of_kind(&desk.take(), EventKind::Motion)
        .iter()
        .map(|e| (e.root_x, e.root_y))
        .collect();
    // Relative XTEST motion is not accelerated.
    assert_eq!(seen, vec![(100, 100), (115, 93), (95, 123), (96, 123)]);
}

#[test]
fn every_button_arrives_as_its_x_button() {
    let mut desk = Desk::new();
    desk.inject(InputEvent::PointerMove { x: 200, y: 150 });
    let buttons = [
        (MouseButton::Left, 1),
        (MouseButton::Middle, 2),
        (MouseButton::Right, 3),
        (MouseButton::Back, 8),
        (MouseButton::Forward, 9),
    ];
    for (b, _) in buttons {
        desk.inject(button(b, true));
        desk.inject(button(b, false));
    }
    let events = desk.take();
    let expected: Vec<(EventKind, u8)> = buttons
        .iter()
        .flat_map(|&(_, n)| [(EventKind::ButtonPress, n), (EventKind::ButtonRelease, n)])
        .collect();
    assert_eq!(presses(&events), expected);
    for event in events.iter().filter(|e| e.kind.is_button()) {
        assert_eq!((event.root_x, event.root_y), (200, 150), "{event:?}");
        assert_eq!(event.button(), Some(event.detail));
    }
    // The press of button 1 shows in the state of its release.
    let release = events
        .iter()
        .find(|e| e.kind == EventKind::ButtonRelease && e.detail == 1)
        .unwrap();
    assert_ne!(release.state & u16::from(KeyButMask::BUTTON1), 0);
}

#[test]
fn wheel_notches_and_fine_grained_accumulation() {
    let mut desk = Desk::new();
    desk.inject(InputEvent::PointerMove { x: 10, y: 10 });
    desk.take();

    let clicks = |events: &[RecordedEvent]| -> Vec<u8> {
        events
            .iter()
            .filter(|e| e.kind == EventKind::ButtonPress)
            .map(|e| e.detail)
            .collect()
    };
    let cases: [((i32, i32), Vec<u8>); 5] = [
        ((0, 120), vec![5]),
        ((0, -240), vec![4, 4]),
        ((120, 0), vec![7]),
        ((-120, 0), vec![6]),
        ((240, 120), vec![5, 7, 7]), // vertical first, then horizontal
    ];
    for ((dx, dy), expected) in cases {
        desk.inject(InputEvent::Wheel { dx, dy });
        let events = desk.take();
        assert_eq!(clicks(&events), expected, "wheel {dx},{dy}");
        // Every press has its release.
        assert_eq!(
            of_kind(&events, EventKind::ButtonRelease).len(),
            expected.len()
        );
    }

    // 3 × 40 units: one notch, on the third event only.
    for step in 1..=3 {
        desk.inject(InputEvent::Wheel { dx: 0, dy: 40 });
        let expected = if step == 3 { vec![5] } else { vec![] };
        assert_eq!(clicks(&desk.take()), expected, "step {step}");
    }
    // Per axis, with the remainder kept: 90 + 90 left = one notch, 60 left over.
    desk.inject(InputEvent::Wheel { dx: -90, dy: 0 });
    assert_eq!(clicks(&desk.take()), Vec::<u8>::new());
    desk.inject(InputEvent::Wheel { dx: -90, dy: 0 });
    assert_eq!(clicks(&desk.take()), vec![6]);
    desk.inject(InputEvent::Wheel { dx: -60, dy: 0 });
    assert_eq!(clicks(&desk.take()), vec![6]);
}

#[test]
fn keys_by_physical_position_round_trip() {
    let mut desk = Desk::new();
    // (usage, keysym on Xvfb's default US layout)
    let mut cases: Vec<(u16, u32)> = Vec::new();
    for i in 0..26u16 {
        cases.push((0x04 + i, 0x61 + u32::from(i))); // a–z
    }
    for i in 0..9u16 {
        cases.push((0x1E + i, 0x31 + u32::from(i))); // 1–9
    }
    cases.push((0x27, 0x30)); // 0
    for i in 0..12u16 {
        cases.push((0x3A + i, 0xffbe + u32::from(i))); // F1–F12
    }
    cases.extend([
        (0x4F, 0xff53), // right
        (0x50, 0xff51), // left
        (0x51, 0xff54), // down
        (0x52, 0xff52), // up
        (0x28, 0xff0d), // enter
        (0x29, 0xff1b), // escape
        (0x2C, 0x20),   // space
        (0x48, 0xff13), // pause
        (0x4C, 0xffff), // delete
        (0xE0, 0xffe3), // left ctrl
        (0xE1, 0xffe1), // left shift
        (0xE2, 0xffe9), // left alt
        (0xE3, 0xffeb), // left super
        (0xE4, 0xffe4), // right ctrl
        (0xE5, 0xffe2), // right shift
    ]);
    for &(usage, _) in &cases {
        desk.inject(key(usage, true));
        desk.inject(key(usage, false));
    }
    let events = desk.take();
    let keys: Vec<&RecordedEvent> = events.iter().filter(|e| e.kind.is_key()).collect();
    assert_eq!(keys.len(), cases.len() * 2, "{events:?}");
    for (pair, &(usage, keysym)) in keys.chunks(2).zip(&cases) {
        let code = KeyCode(usage);
        let keycode = keymap::hid_to_x11_keycode(code).unwrap();
        for (event, kind) in pair
            .iter()
            .zip([EventKind::KeyPress, EventKind::KeyRelease])
        {
            assert_eq!(event.kind, kind, "{code}");
            assert_eq!(event.detail, keycode, "{code}");
            assert_eq!(event.usage(), Some(code), "{code}");
            assert_eq!(
                event.evdev(),
                keymap::hid_to_evdev(code),
                "{code}: evdev back"
            );
        }
        assert_eq!(pair[0].keysym, Some(keysym), "{code}: keysym");
    }

    // Held modifiers show in the state of later keys: shift+a is "A".
    desk.inject(key(0xE1, true));
    desk.inject(key(0x04, true));
    desk.inject(key(0x04, false));
    desk.inject(key(0xE1, false));
    let events = desk.take();
    let a = events
        .iter()
        .find(|e| e.kind == EventKind::KeyPress && e.usage() == Some(KeyCode(0x04)))
        .unwrap();
    assert_ne!(a.state & u16::from(KeyButMask::SHIFT), 0);
    assert_eq!(a.keysym_char(), Some('A'));

    // A usage with no key is an error, not a panic, and injects nothing.
    let result = desk.injector.inject(&key(0x03, true));
    assert!(
        matches!(result, Err(InputError::Unsupported(_))),
        "{result:?}"
    );
    assert!(desk.take().is_empty());
}

#[test]
fn text_with_characters_outside_the_layout() {
    let mut desk = Desk::new();
    desk.inject(InputEvent::Text {
        text: "héllo".to_owned(),
    });
    let events = desk.take();
    let typed: String = of_kind(&events, EventKind::KeyPress)
        .iter()
        .map(|e| e.keysym_char().unwrap_or('?'))
        .collect();
    assert_eq!(typed, "héllo", "{events:?}");
    assert_eq!(of_kind(&events, EventKind::KeyRelease).len(), 5);

    // Keys right after text still arrive (on the key connection).
    desk.inject(key(0x05, true));
    desk.inject(key(0x05, false));
    let after = desk.take();
    assert_eq!(
        presses(&after),
        vec![(EventKind::KeyPress, 56), (EventKind::KeyRelease, 56)]
    );
    // Empty text and NULs type nothing.
    desk.inject(InputEvent::Text {
        text: String::new(),
    });
    desk.inject(InputEvent::Text {
        text: "\0".to_owned(),
    });
    assert!(desk.take().is_empty());
}

#[test]
fn release_all_releases_a_drag_in_reverse_order() {
    let mut desk = Desk::new();
    let shift = keymap::hid_to_x11_keycode(KeyCode::LEFT_SHIFT).unwrap();
    desk.inject(InputEvent::PointerMove { x: 50, y: 50 });
    desk.inject(key(0xE1, true));
    desk.inject(button(MouseButton::Left, true));
    desk.inject(InputEvent::PointerMove { x: 200, y: 150 });
    // Auto-repeat of the held key: still one release.
    desk.inject(key(0xE1, true));
    // Partial wheel notch, forgotten by release_all.
    desk.inject(InputEvent::Wheel { dx: 0, dy: 100 });
    let before = desk.take();
    let drag = of_kind(&before, EventKind::Motion);
    let last = drag.last().unwrap();
    assert_eq!((last.root_x, last.root_y), (200, 150));
    let held = u16::from(KeyButMask::SHIFT | KeyButMask::BUTTON1);
    assert_eq!(last.state & held, held, "{last:?}");

    desk.injector.release_all().unwrap();
    let released = desk.take();
    assert_eq!(
        presses(&released),
        vec![
            (EventKind::ButtonRelease, 1),
            (EventKind::KeyRelease, shift)
        ]
    );

    // Nothing held any more: a second release_all releases nothing.
    desk.injector.release_all().unwrap();
    assert!(desk.take().is_empty());
    // The partial notch was dropped: 20 more units make no notch.
    desk.inject(InputEvent::Wheel { dx: 0, dy: 20 });
    assert!(desk.take().is_empty());

    // Keys released explicitly are not released again.
    desk.inject(key(0x04, true));
    desk.inject(key(0x04, false));
    desk.inject(button(MouseButton::Right, false)); // never pressed: forwarded
    desk.take();
    desk.injector.release_all().unwrap();
    assert!(desk.take().is_empty());
}

#[test]
fn dead_display_gives_errors_not_panics() {
    let result = EnigoInjector::new(Some(":4095"));
    assert!(
        matches!(result, Err(InputError::TargetLost(_))),
        "{result:?}"
    );
    assert!(matches!(
        EventRecorder::start(Some(":4095")),
        Err(X11Error::Connect { .. })
    ));
    assert!(matches!(
        PanicKey::start_combo(Some(":4095"), PanicKey::DEFAULT_COMBO, Box::new(|| {})),
        Err(X11Error::Connect { .. })
    ));
    assert!(matches!(
        LocalActivity::start(Some(":4095"), Box::new(|_| {})),
        Err(X11Error::Connect { .. })
    ));

    let desk = Desk::new();
    let Desk {
        recorder,
        mut injector,
        xvfb,
    } = desk;
    let panic_key = PanicKey::start_combo(
        Some(&xvfb.display()),
        PanicKey::DEFAULT_COMBO,
        Box::new(|| {}),
    )
    .unwrap();
    injector.inject(&key(0xE1, true)).unwrap();
    drop(xvfb);

    let events = [
        InputEvent::PointerMove { x: 1, y: 1 },
        InputEvent::PointerMoveRelative { dx: 1, dy: 1 },
        button(MouseButton::Left, true),
        InputEvent::Wheel { dx: 0, dy: 120 },
        key(0x04, true),
        InputEvent::Text {
            text: "x".to_owned(),
        },
    ];
    for event in &events {
        let result = injector.inject(event);
        assert!(result.is_err(), "{event:?}: {result:?}");
    }
    let result = injector.inject(&key(0x04, false));
    assert!(
        matches!(result, Err(InputError::TargetLost(_))),
        "{result:?}"
    );
    // Shift is still held as far as the injector knows: the release fails.
    assert!(injector.release_all().is_err());
    // The helpers' threads notice and their waits end with an error.
    assert!(recorder.sync(WAIT).is_err());
    assert!(panic_key.sync(WAIT).is_err());
    // Dropping everything on a dead display neither panics nor hangs.
    drop(injector);
    drop(recorder);
    drop(panic_key);
}

#[test]
fn panic_key_fires_once_and_lets_other_keys_through() {
    let desk = Desk::new();
    let (tx, rx) = mpsc::channel();
    let panic_key = PanicKey::start_combo(
        Some(&desk.xvfb.display()),
        PanicKey::DEFAULT_COMBO,
        Box::new(move || tx.send(()).unwrap()),
    )
    .unwrap();
    assert_eq!(
        panic_key.keys(),
        [KeyCode::LEFT_CTRL, KeyCode::LEFT_ALT, KeyCode::PAUSE]
    );
    let xtest = Xtest::connect(&desk.xvfb);
    let fired = |rx: &mpsc::Receiver<()>| {
        panic_key.sync(WAIT).unwrap();
        rx.try_iter().count()
    };
    let pause = keymap::hid_to_x11_keycode(KeyCode::PAUSE).unwrap();

    xtest.combo(&[KeyCode::LEFT_CTRL, KeyCode::LEFT_ALT, KeyCode::PAUSE]);
    assert_eq!(fired(&rx), 1);
    // The modifiers reach the focused window, the grabbed key does not.
    let events = desk.take();
    assert!(
        !events.iter().any(|e| e.detail == pause && e.kind.is_key()),
        "{events:?}"
    );
    assert_eq!(of_kind(&events, EventKind::KeyPress).len(), 2, "{events:?}");

    // Other keys and other combinations with the same key pass through.
    let a = KeyCode(0x04);
    xtest.combo(&[a]);
    xtest.combo(&[KeyCode::PAUSE]);
    xtest.combo(&[KeyCode::LEFT_CTRL, KeyCode::PAUSE]);
    xtest.combo(&[
        KeyCode::LEFT_CTRL,
        KeyCode::LEFT_ALT,
        KeyCode::LEFT_SHIFT,
        KeyCode::PAUSE,
    ]);
    assert_eq!(fired(&rx), 0);
    let events = desk.take();
    let pauses = events
        .iter()
        .filter(|e| e.kind == EventKind::KeyPress && e.detail == pause)
        .count();
    assert_eq!(pauses, 3, "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::KeyPress && e.usage() == Some(a))
    );

    // Whatever the lock keys' state: Num Lock on, then Caps Lock on too.
    for lock in [KeyCode(0x53), KeyCode(0x39)] {
        xtest.combo(&[lock]);
        xtest.combo(&[KeyCode::LEFT_CTRL, KeyCode::LEFT_ALT, KeyCode::PAUSE]);
        assert_eq!(fired(&rx), 1, "with {lock} on");
    }
    // Right-hand modifiers are the same X modifiers.
    xtest.combo(&[KeyCode(0xE4), KeyCode::LEFT_ALT, KeyCode::PAUSE]);
    assert_eq!(fired(&rx), 1);

    // Held down with repeated presses (as auto-repeat or a helper's
    // injector would send them): fires once.
    xtest.usage(KeyCode::LEFT_CTRL, true);
    xtest.usage(KeyCode::LEFT_ALT, true);
    for _ in 0..3 {
        xtest.usage(KeyCode::PAUSE, true);
    }
    xtest.usage(KeyCode::PAUSE, false);
    xtest.usage(KeyCode::LEFT_ALT, false);
    xtest.usage(KeyCode::LEFT_CTRL, false);
    xtest.round_trip();
    assert_eq!(fired(&rx), 1);

    // Injected through the EnigoInjector too (a helper pressing it).
    let mut injector = desk.injector;
    for (usage, pressed) in [
        (0xE0, true),
        (0xE2, true),
        (0x48, true),
        (0x48, false),
        (0xE2, false),
        (0xE0, false),
    ] {
        injector.inject(&key(usage, pressed)).unwrap();
    }
    assert_eq!(fired(&rx), 1);

    // Dropped: ungrabbed, the combination reaches the window again.
    drop(panic_key);
    desk.recorder.take();
    xtest.combo(&[KeyCode::LEFT_CTRL, KeyCode::LEFT_ALT, KeyCode::PAUSE]);
    desk.recorder.sync(WAIT).unwrap();
    let events = desk.recorder.take();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::KeyPress && e.detail == pause),
        "{events:?}"
    );
}

#[test]
fn panic_key_combinations_are_checked() {
    let xvfb = Xvfb::start(320, 240).unwrap();
    let display = xvfb.display();
    let start = |combo: &str| PanicKey::start_combo(Some(&display), combo, Box::new(|| {}));
    for bad in ["", "ctrl+bogus", "ctrl+alt", "ctrl+a+b"] {
        let result = start(bad);
        assert!(
            matches!(result, Err(X11Error::InvalidCombo(_))),
            "{bad}: {result:?}"
        );
    }
    let result = PanicKey::start(Some(&display), &[KeyCode(0x03)], Box::new(|| {}));
    assert!(
        matches!(result, Err(X11Error::InvalidCombo(_))),
        "{result:?}"
    );

    let first = start("super+f12").unwrap();
    let second = start("super+f12");
    assert!(
        matches!(second, Err(X11Error::AlreadyGrabbed(_))),
        "{second:?}"
    );
    // A single key without modifiers is allowed.
    let _scroll_lock = start("scrolllock").unwrap();
    drop(first);
    // Ungrabbed on drop: free for the next one.
    let _again = start("super+f12").unwrap();
}

#[test]
fn local_activity_ignores_injected_input_and_reports_other_devices() {
    let mut desk = Desk::new();
    let (tx, rx) = mpsc::channel();
    let activity = LocalActivity::start(
        Some(&desk.xvfb.display()),
        Box::new(move |input| tx.send(input).unwrap()),
    )
    .unwrap();
    let xtest = Xtest::connect(&desk.xvfb);
    let xtest_keyboard = xtest.device("Virtual core XTEST keyboard");
    let xtest_pointer = xtest.device("Virtual core XTEST pointer");
    assert_eq!(
        activity.synthetic_devices(),
        vec![u16::from(xtest_pointer), u16::from(xtest_keyboard)]
    );

    // Injected: key, button, motion, wheel, text, and the test's own XTEST.
    desk.inject(InputEvent::PointerMove { x: 30, y: 40 });
    desk.inject(key(0x04, true));
    desk.inject(key(0x04, false));
    desk.inject(button(MouseButton::Left, true));
    desk.inject(button(MouseButton::Left, false));
    desk.inject(InputEvent::Wheel { dx: 0, dy: 120 });
    desk.inject(InputEvent::Text {
        text: "é".to_owned(),
    });
    xtest.combo(&[KeyCode(0x05)]);
    activity.sync(WAIT).unwrap();
    let stats = activity.stats();
    // Key presses a, é, b; button presses left and 5; one motion.
    assert!(stats.synthetic >= 6, "{stats:?}");
    assert_eq!(stats.physical, 0, "{stats:?}");
    assert_eq!(rx.try_iter().count(), 0);

    // Xvfb's own "physical" devices, driven through XTEST device events.
    let keyboard = xtest.device("Xvfb keyboard");
    let mouse = xtest.device("Xvfb mouse");
    let c = keymap::hid_to_x11_keycode(KeyCode(0x06)).unwrap();
    xtest.device_event(keyboard, 1, c);
    xtest.device_event(keyboard, 2, c);
    xtest.device_event(mouse, 3, 1);
    xtest.device_event(mouse, 4, 1);
    xtest.round_trip();
    activity.sync(WAIT).unwrap();
    let seen: Vec<(ActivityKind, u16)> = rx.try_iter().map(|i| (i.kind, i.device)).collect();
    assert_eq!(
        seen,
        vec![
            (ActivityKind::Key, u16::from(keyboard)),
            (ActivityKind::Button, u16::from(mouse))
        ]
    );
    assert_eq!(activity.stats().physical, 2);
    // They are ordinary input for applications too.
    let events = desk.take();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::KeyPress && e.detail == c),
        "{events:?}"
    );

    // A physical press of the panic combination fires the panic key too.
    let (panic_tx, panic_rx) = mpsc::channel();
    let panic_key = PanicKey::start_combo(
        Some(&desk.xvfb.display()),
        PanicKey::DEFAULT_COMBO,
        Box::new(move || panic_tx.send(()).unwrap()),
    )
    .unwrap();
    let codes: Vec<u8> = [KeyCode::LEFT_CTRL, KeyCode::LEFT_ALT, KeyCode::PAUSE]
        .iter()
        .map(|&k| keymap::hid_to_x11_keycode(k).unwrap())
        .collect();
    for &code in &codes {
        xtest.device_event(keyboard, 1, code);
    }
    for &code in codes.iter().rev() {
        xtest.device_event(keyboard, 2, code);
    }
    xtest.round_trip();
    panic_key.sync(WAIT).unwrap();
    assert_eq!(panic_rx.try_iter().count(), 1);
}

#[test]
fn recorder_waits_are_bounded() {
    let desk = Desk::new();
    let result = desk.recorder.wait_for(1, Duration::from_millis(50));
    let timeout = result.unwrap_err();
    assert!(timeout.events.is_empty());
    assert!(timeout.to_string().contains("1 events"), "{timeout}");

    // wait_for returns as soon as enough events are there.
    let xtest = Xtest::connect(&desk.xvfb);
    xtest.combo(&[KeyCode(0x04), KeyCode(0x05)]);
    let events = desk.recorder.wait_for(4, WAIT).unwrap();
    assert_eq!(events.len(), 4);
    let events = desk
        .recorder
        .wait_until(WAIT, |events| {
            events.iter().any(|e| e.kind == EventKind::KeyRelease)
        })
        .unwrap();
    assert!(!events.is_empty());
    assert_eq!(desk.recorder.len(), 4);
    desk.recorder.clear();
    assert!(desk.recorder.is_empty());
    assert_ne!(desk.recorder.window(), x11rb::NONE);
}
