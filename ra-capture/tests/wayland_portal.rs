//! The portal path on a private headless GNOME desktop: a session asked for
//! through xdg-desktop-portal shows the desktop's own dialog; the test plays
//! the person at the desk with the keyboard (through a mutter session of its
//! own) and watches the screen to know when the dialog is there and when
//! each key took effect. Approved, the session captures and injects;
//! declined, opening it fails with a clear error instead of hanging.
#![cfg(all(target_os = "linux", feature = "wayland"))]
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ra_capture::wayland::WaylandCapturer;
use ra_core::media::{Capturer, Rect};
use ra_testkit::gnome::HeadlessGnome;
use ra_wayland::mutter::{MutterOptions, MutterSession};
use ra_wayland::portal::{PortalOptions, PortalSession};
use ra_wayland::{DeskConsent, Notify, RemoteDesktop, SessionError};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const WAIT: Duration = Duration::from_secs(30);

/// evdev codes.
const KEY_ESC: u32 = 1;
const KEY_TAB: u32 = 15;
const KEY_SPACE: u32 = 57;
const KEY_LEFTSHIFT: u32 = 42;
const KEY_A: u32 = 30;

/// The test's hand and eyes on the desktop: a mutter session that types
/// and a capturer of it that sees the screen.
struct Desk {
    hand: Arc<dyn RemoteDesktop>,
    eyes: WaylandCapturer,
}

impl Desk {
    fn open(desktop: &HeadlessGnome) -> Self {
        let hand: Arc<dyn RemoteDesktop> = Arc::new(
            MutterSession::open(&MutterOptions {
                env: desktop.env().clone(),
                ..MutterOptions::default()
            })
            .expect("mutter session"),
        );
        let mut eyes = WaylandCapturer::new(Arc::clone(&hand)).expect("capturer");
        eyes.invalidate();
        assert!(
            Self::change(&mut eyes, WAIT).is_some(),
            "no first picture of the desktop"
        );
        Desk { hand, eyes }
    }

    /// The damage of the next change of the screen within `within`.
    fn change(eyes: &mut WaylandCapturer, within: Duration) -> Option<Vec<Rect>> {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if let Some(frame) = eyes.next_frame(left).expect("capture") {
                return Some(frame.damage.clone());
            }
        }
        None
    }

    /// Waits until something is drawn over the middle of the screen (the
    /// dialog), then until the screen stands still.
    fn wait_for_dialog(&mut self) {
        let deadline = Instant::now() + WAIT;
        let (cx, cy) = (i64::from(WIDTH / 2), i64::from(HEIGHT / 2));
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .expect("the portal's dialog never appeared");
            let Some(damage) = Self::change(&mut self.eyes, left) else {
                panic!("the portal's dialog never appeared");
            };
            let covers_middle = damage.iter().any(|r| {
                let (x, y) = (i64::from(r.x), i64::from(r.y));
                x <= cx && y <= cy && x + i64::from(r.width) > cx && y + i64::from(r.height) > cy
            });
            if covers_middle {
                break;
            }
        }
        while Self::change(&mut self.eyes, Duration::from_millis(500)).is_some() {}
    }

    fn key(&self, code: u32, pressed: bool) {
        self.hand
            .notify(&Notify::KeyboardKeycode { code, pressed })
            .expect("key");
    }

    /// Presses (with Shift held, if asked) and releases `code` until the
    /// screen shows an effect — the first keys after a virtual keyboard
    /// appears can be lost — then lets the screen settle.
    fn press_until_seen(&mut self, code: u32, shifted: bool) {
        for _ in 0..5 {
            if shifted {
                self.key(KEY_LEFTSHIFT, true);
            }
            self.key(code, true);
            self.key(code, false);
            if shifted {
                self.key(KEY_LEFTSHIFT, false);
            }
            if Self::change(&mut self.eyes, Duration::from_secs(2)).is_some() {
                while Self::change(&mut self.eyes, Duration::from_millis(300)).is_some() {}
                return;
            }
        }
        panic!("key {code} never showed on the screen");
    }
}

/// Opens a portal session on a thread of its own (it waits for the dialog).
fn ask_portal(desktop: &HeadlessGnome) -> mpsc::Receiver<Result<PortalSession, SessionError>> {
    let options = PortalOptions {
        env: desktop.env().clone(),
        ..PortalOptions::default()
    };
    let (sender, answer) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(PortalSession::open(&options));
    });
    answer
}

#[test]
fn an_approved_portal_session_captures_and_injects() {
    let desktop = HeadlessGnome::start(&[(WIDTH, HEIGHT)]).expect("headless GNOME");
    let demo = desktop.event_demo(WIDTH, HEIGHT);
    let mut desk = Desk::open(&desktop);
    let answer = ask_portal(&desktop);
    desk.wait_for_dialog();
    // The dialog (xdg-desktop-portal-gnome 43): the monitor list has the
    // focus; Tab goes to "Allow remote interaction", Space turns it on,
    // Shift+Tab twice reaches "Share", Space presses it.
    desk.press_until_seen(KEY_TAB, false);
    desk.press_until_seen(KEY_SPACE, false);
    desk.press_until_seen(KEY_TAB, true);
    desk.press_until_seen(KEY_TAB, true);
    desk.key(KEY_SPACE, true);
    desk.key(KEY_SPACE, false);
    let session = answer
        .recv_timeout(WAIT)
        .expect("the portal answered")
        .expect("an approved session");
    assert!(session.input_allowed(), "remote interaction was allowed");
    // What the audit log will say the person at the desk allowed.
    assert_eq!(
        session.desk_consent(),
        Some(DeskConsent {
            monitors: 1,
            input_allowed: true
        })
    );
    let streams = session.streams();
    assert_eq!(streams.len(), 1, "{streams:?}");
    assert_eq!((streams[0].width, streams[0].height), (WIDTH, HEIGHT));

    // It captures through the portal's own PipeWire connection…
    let session: Arc<dyn RemoteDesktop> = Arc::new(session);
    let mut capturer = WaylandCapturer::new(Arc::clone(&session)).expect("portal capturer");
    capturer.invalidate();
    let frame = Desk::change(&mut capturer, WAIT);
    assert!(frame.is_some(), "no picture through the portal");
    // …and its input reaches a client.
    for pressed in [true, false] {
        session
            .notify(&Notify::KeyboardKeycode {
                code: KEY_A,
                pressed,
            })
            .expect("portal input");
    }
    demo.expect(&["key: 30", "state: pressed"]);
    // The portal has not said Closed.
    assert!(!session.is_closed());
}

#[test]
fn a_declined_portal_dialog_is_a_clear_error() {
    let desktop = HeadlessGnome::start(&[(WIDTH, HEIGHT)]).expect("headless GNOME");
    let mut desk = Desk::open(&desktop);
    let answer = ask_portal(&desktop);
    desk.wait_for_dialog();
    // Escape closes the dialog: the person at the desk declined. The first
    // key after the virtual keyboard appears can be lost: repeat until the
    // portal answers.
    let deadline = Instant::now() + WAIT;
    let result = loop {
        desk.key(KEY_ESC, true);
        desk.key(KEY_ESC, false);
        if let Ok(result) = answer.recv_timeout(Duration::from_secs(2)) {
            break result;
        }
        assert!(Instant::now() < deadline, "the portal never answered");
    };
    match result {
        Err(SessionError::Refused(why)) => eprintln!("refused: {why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
