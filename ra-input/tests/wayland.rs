//! The Wayland injector on a real (headless) GNOME desktop: input sent
//! through a mutter remote-desktop session reaches a Wayland client
//! (`weston-eventdemo`, which logs what it gets) — pointer moves onto the
//! stream, buttons, the wheel, keys by physical position, text, and
//! `release_all`.
#![cfg(all(target_os = "linux", feature = "wayland"))]
#![allow(missing_docs)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ra_core::input::{InputEvent, InputInjector, MouseButton};
use ra_core::keys::KeyCode;
use ra_input::wayland::WaylandInjector;
use ra_testkit::gnome::HeadlessGnome;
use ra_wayland::RemoteDesktop;
use ra_wayland::mutter::{MutterOptions, MutterSession};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const WAIT: Duration = Duration::from_secs(20);

/// `weston-eventdemo` over the whole monitor, its log lines on a channel.
struct EventDemo {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl EventDemo {
    fn start(desktop: &HeadlessGnome) -> Self {
        // Line-buffered: its log is a pipe here.
        let mut child = desktop
            .command("stdbuf")
            .args([
                "-oL",
                "weston-eventdemo",
                &format!("--width={WIDTH}"),
                &format!("--height={HEIGHT}"),
                "--no-border",
                "--log-motion",
                "--log-button",
                "--log-axis",
                "--log-key",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("weston-eventdemo (package weston)");
        let stdout = child.stdout.take().expect("piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        EventDemo { child, lines }
    }

    /// Waits for a line containing every one of `parts`; the lines skipped.
    fn wait_for(&self, parts: &[&str], within: Duration) -> Result<String, Vec<String>> {
        let deadline = Instant::now() + within;
        let mut skipped = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if parts.iter().all(|part| line.contains(part)) => return Ok(line),
                Ok(line) => skipped.push(line),
                Err(_) => break,
            }
        }
        Err(skipped)
    }

    fn expect(&self, parts: &[&str]) -> String {
        self.wait_for(parts, WAIT)
            .unwrap_or_else(|skipped| panic!("no line with {parts:?}; saw {skipped:?}"))
    }
}

impl Drop for EventDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn key(name: &str) -> KeyCode {
    KeyCode::from_name(name).unwrap_or_else(|| panic!("key {name}"))
}

/// The desktop, the client and an injector, the seat warmed up: with no
/// physical devices the seat gains a keyboard only once the virtual one
/// appears, and clients bind it late, so the first keys can be lost. Shift
/// is pressed until the client reports it (a harmless key).
fn setup() -> (HeadlessGnome, EventDemo, WaylandInjector) {
    let desktop = HeadlessGnome::start(&[(WIDTH, HEIGHT)]).expect("headless GNOME");
    let demo = EventDemo::start(&desktop);
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
    let shift = key("shift");
    let deadline = Instant::now() + WAIT;
    loop {
        injector
            .inject(&InputEvent::PointerMove { x: 10, y: 10 })
            .unwrap();
        injector
            .inject(&InputEvent::Key {
                code: shift,
                pressed: true,
            })
            .unwrap();
        injector
            .inject(&InputEvent::Key {
                code: shift,
                pressed: false,
            })
            .unwrap();
        if demo
            .wait_for(&["key: 42", "state: released"], Duration::from_millis(500))
            .is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the client never got a key");
    }
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
