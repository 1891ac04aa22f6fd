//! The Wayland injector on a real (headless) GNOME desktop: input sent
//! through a mutter remote-desktop session reaches a Wayland client
//! (`weston-eventdemo`, which logs what it gets) — pointer moves onto the
//! stream, buttons, the wheel, keys by physical position, text, and
//! `release_all`.
#![cfg(all(target_os = "linux", feature = "wayland"))]
#![allow(missing_docs)]

use std::sync::Arc;

use ra_core::input::{InputEvent, InputInjector, MouseButton};
use ra_core::keys::KeyCode;
use ra_input::wayland::WaylandInjector;
use ra_testkit::gnome::{EventDemo, HeadlessGnome};
use ra_wayland::RemoteDesktop;
use ra_wayland::mutter::{MutterOptions, MutterSession};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;

fn key(name: &str) -> KeyCode {
    KeyCode::from_name(name).unwrap_or_else(|| panic!("key {name}"))
}

/// The desktop, the client and an injector, the seat woken up.
fn setup() -> (HeadlessGnome, EventDemo, WaylandInjector) {
    let desktop = HeadlessGnome::start(&[(WIDTH, HEIGHT)]).expect("headless GNOME");
    let demo = desktop.event_demo(WIDTH, HEIGHT);
    let session = MutterSession::open(&MutterOptions {
        env: desktop.env().clone(),
        ..MutterOptions::default()
    })
    .expect("mutter session");
    let streams = session.streams();
    assert_eq!(streams.len(), 1, "one monitor, one stream: {streams:?}");
    assert_eq!((streams[0].width, streams[0].height), (WIDTH, HEIGHT));
    let session: Arc<dyn RemoteDesktop> = Arc::new(session);
    let mut injector = WaylandInjector::new(session);
    demo.wake_seat(&mut injector);
    (desktop, demo, injector)
}

#[test]
fn input_reaches_a_wayland_client() {
    let (_desktop, demo, mut injector) = setup();

    injector
        .inject(&InputEvent::PointerMove { x: 600, y: 300 })
        .unwrap();
    demo.expect(&["x: 600.000000", "y: 300.000000"]);

    for pressed in [true, false] {
        injector
            .inject(&InputEvent::Button {
                button: MouseButton::Left,
                pressed,
            })
            .unwrap();
    }
    demo.expect(&["button: 272", "state: pressed"]);
    demo.expect(&["button: 272", "state: released"]);

    // A key by its physical position: HID "a" is evdev 30.
    for pressed in [true, false] {
        injector
            .inject(&InputEvent::Key {
                code: key("a"),
                pressed,
            })
            .unwrap();
    }
    demo.expect(&["key: 30", "unicode: 97", "state: pressed"]);

    // Text, whatever the layout.
    injector
        .inject(&InputEvent::Text { text: "ok".into() })
        .unwrap();
    demo.expect(&["unicode: 111", "state: pressed"]);
    demo.expect(&["unicode: 107", "state: pressed"]);

    // One notch down.
    injector
        .inject(&InputEvent::Wheel { dx: 0, dy: 120 })
        .unwrap();
    demo.expect(&["axis source: wheel"]);
    demo.expect(&["axis discrete axis: 0 value: 1"]);
    demo.expect(&["axis: vertical, value: 10.000000"]);
    // Half a notch up: smooth scrolling, no click.
    injector
        .inject(&InputEvent::Wheel { dx: 0, dy: -60 })
        .unwrap();
    let smooth = demo.expect(&["axis: vertical, value: -5.000000"]);
    eprintln!("{smooth}");

    // A held button is released by release_all.
    injector
        .inject(&InputEvent::Button {
            button: MouseButton::Right,
            pressed: true,
        })
        .unwrap();
    demo.expect(&["button: 273", "state: pressed"]);
    injector.release_all().unwrap();
    demo.expect(&["button: 273", "state: released"]);
}
