//! Real screens: a host shares a private Xvfb over QUIC and injects the
//! helper's input into it with enigo; an X client on that screen records what
//! arrives. Pixels, damage, monitors, the pointer, resolution changes, and
//! input mapping, gating and release.
#![cfg(target_os = "linux")]
#![allow(missing_docs)]

use std::process::Command;
use std::time::{Duration, Instant};

use ra_capture::x11::{X11Capturer, X11WindowLocator};
use ra_capture::xvfb::{XClient, Xvfb};
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder, psnr_bgra};
use ra_core::input::{InputEvent, InputInjector, MouseButton};
use ra_core::keys::KeyCode;
use ra_core::media::{Capturer, DisplayId, Rect};
use ra_core::password::Password;
use ra_core::policy::Policy;
use ra_core::runtime::{
    AcceptOptions, HelperSession, HelperSessionEvent, HostBackends, HostSession, InviteOptions,
    ReceivedFrame, accept, invite,
};
use ra_core::session::{ConnectionId, ControlState, HelperEvent, HostEvent};
use ra_input::x11::{EventKind, EventRecorder, RecordedEvent};
use ra_input::{EnigoInjector, NullInjector};

const STEP: Duration = Duration::from_secs(15);

fn xrandr(xvfb: &Xvfb, args: &[&str]) {
    let status = Command::new("xrandr")
        .args(args)
        .env("DISPLAY", xvfb.display())
        .status()
        .expect("xrandr (x11-xserver-utils) is installed by scripts/setup.sh");
    assert!(status.success(), "xrandr {args:?} failed");
}

/// Makes the 1280×480 screen of `xvfb` two RandR monitors side by side,
/// LEFT and RIGHT.
fn split_into_two_monitors(xvfb: &Xvfb) {
    xrandr(
        xvfb,
        &["--setmonitor", "LEFT", "640/169x480/127+0+0", "none"],
    );
    xrandr(
        xvfb,
        &["--setmonitor", "RIGHT", "640/169x480/127+640+0", "none"],
    );
}

/// [`split_into_two_monitors`], then paints LEFT red and RIGHT blue.
fn paint_two_monitors_red_and_blue(xvfb: &Xvfb) {
    split_into_two_monitors(xvfb);
    let client = XClient::connect(&xvfb.display()).unwrap();
    client.fill(0xff_00_00, Rect::new(0, 0, 640, 480)).unwrap();
    client
        .fill(0x00_00_ff, Rect::new(640, 0, 640, 480))
        .unwrap();
}

/// A picture with gradients, edges and flat areas, like a desktop.
fn paint_pattern(client: &XClient, width: u16, height: u16, seed: u8) {
    let mut picture = Vec::with_capacity(usize::from(width) * usize::from(height) * 4);
    for y in 0..height {
        for x in 0..width {
            let tile = ((x / 64) + (y / 48)) % 2 == 0;
            let v = if tile { 200 } else { 40 };
            picture.extend_from_slice(&[
                (x as u8 / 2).wrapping_add(seed),
                v,
                ((y as u8) / 2).wrapping_add(seed),
                0,
            ]);
        }
    }
    client.put(0, 0, width, &picture).unwrap();
    client.fill(0xff_ff_ff, Rect::new(30, 30, 200, 80)).unwrap();
    client.fill(0x10_10_10, Rect::new(40, 40, 120, 12)).unwrap();
}

/// A host sharing `xvfb` with a helper connected over a counting proxy.
struct Session {
    host: HostSession,
    helper: HelperSession,
    conn: ConnectionId,
    traffic: ra_testkit::net::Traffic,
}

async fn share(
    xvfb: &Xvfb,
    display: Option<DisplayId>,
    injector: Box<dyn InputInjector>,
) -> Session {
    let capturer = X11Capturer::connect(Some(&xvfb.display())).unwrap();
    let backends = HostBackends::new(
        Box::new(capturer),
        Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        injector,
    );
    let options = InviteOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        display,
        ..InviteOptions::default()
    };
    join(invite(options, backends).await.unwrap()).await
}

/// A helper joins `host` over a counting proxy, approved.
async fn join(mut host: HostSession) -> Session {
    let (proxy, stop, traffic) = ra_testkit::net::udp_proxy(host.local_addr()).await;
    std::mem::forget(stop);
    let mut invitation = host.invitation().clone();
    invitation.addresses = vec![proxy];
    let password = Password::parse(&host.password().to_string()).unwrap();
    let helper = tokio::spawn(async move {
        accept(
            &invitation,
            &password,
            AcceptOptions::default(),
            Box::new(OpenH264Decoder::new().unwrap()),
        )
        .await
    });
    let conn = loop {
        let event = tokio::time::timeout(STEP, host.next_event())
            .await
            .unwrap()
            .unwrap();
        if let HostEvent::ConnectionRequest { conn, .. } = event {
            break conn;
        }
    };
    host.approve(conn).await.unwrap();
    let helper = helper.await.unwrap().unwrap();
    Session {
        host,
        helper,
        conn,
        traffic,
    }
}

impl Session {
    async fn event(&mut self) -> HelperSessionEvent {
        tokio::time::timeout(STEP, self.helper.next_event())
            .await
            .expect("helper event in time")
            .expect("session alive")
    }

    async fn frame(&mut self) -> ReceivedFrame {
        loop {
            if let HelperSessionEvent::Frame(frame) = self.event().await {
                return frame;
            }
        }
    }

    async fn session_event(&mut self, pred: impl Fn(&HelperEvent) -> bool) -> HelperEvent {
        loop {
            if let HelperSessionEvent::Session(e) = self.event().await
                && pred(&e)
            {
                return e;
            }
        }
    }

    /// Frames until none arrives for `quiet`: the picture has settled.
    async fn settle(&mut self, quiet: Duration) -> ReceivedFrame {
        let mut last = self.frame().await;
        loop {
            match tokio::time::timeout(quiet, self.helper.next_event()).await {
                Ok(Some(HelperSessionEvent::Frame(frame))) => last = frame,
                Ok(Some(_)) => {}
                Ok(None) => panic!("session ended"),
                Err(_) => return last,
            }
        }
    }

    async fn take_control(&mut self) {
        self.helper.request_control().await.unwrap();
        loop {
            let event = tokio::time::timeout(STEP, self.host.next_event())
                .await
                .unwrap()
                .unwrap();
            if matches!(event, HostEvent::ControlRequested { .. }) {
                break;
            }
        }
        self.host.grant_control(self.conn).await.unwrap();
        self.session_event(|e| matches!(e, HelperEvent::ControlGranted { .. }))
            .await;
    }
}

fn luma_psnr(frame: &ReceivedFrame, screen: &[u8]) -> f64 {
    let f = &frame.frame;
    psnr_bgra(
        &f.data,
        f.stride,
        screen,
        f.width as usize * 4,
        f.width,
        f.height,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_helper_sees_the_screen() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let client = XClient::connect(&xvfb.display()).unwrap();
    paint_pattern(&client, 640, 480, 0);
    let mut s = share(&xvfb, None, Box::new(NullInjector::new())).await;
    let frame = s.settle(Duration::from_millis(400)).await;
    assert_eq!((frame.frame.width, frame.frame.height), (640, 480));
    let screen = client.pixels(Rect::new(0, 0, 640, 480)).unwrap();
    let psnr = luma_psnr(&frame, &screen);
    assert!(
        psnr >= 35.0,
        "the helper's picture matches the screen at {psnr:.1} dB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_screen_sends_nothing_and_a_change_sends_its_damage() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let client = XClient::connect(&xvfb.display()).unwrap();
    paint_pattern(&client, 640, 480, 7);
    let mut s = share(&xvfb, None, Box::new(NullInjector::new())).await;
    s.settle(Duration::from_millis(400)).await;

    s.traffic.reset();
    let start = Instant::now();
    let mut frames = 0;
    while start.elapsed() < Duration::from_secs(2) {
        let left = Duration::from_secs(2).saturating_sub(start.elapsed());
        if let Ok(Some(HelperSessionEvent::Frame(_))) =
            tokio::time::timeout(left, s.helper.next_event()).await
        {
            frames += 1;
        }
    }
    let bytes = s.traffic.bytes();
    assert_eq!(frames, 0, "a static screen produces no frames");
    assert!(
        bytes < 4_000,
        "{bytes} bytes on the wire in 2 s of a static screen"
    );

    let changed = Rect::new(300, 200, 40, 30);
    client.fill(0x00_ff_00, changed).unwrap();
    let frame = s.frame().await;
    let covers = frame.frame.damage.iter().any(|d| {
        d.x <= changed.x
            && d.y <= changed.y
            && d.x + d.width as i32 >= changed.x + changed.width as i32
            && d.y + d.height as i32 >= changed.y + changed.height as i32
    });
    assert!(covers, "damage {:?} covers {changed:?}", frame.frame.damage);
    let whole = frame
        .frame
        .damage
        .iter()
        .any(|d| d.width == 640 && d.height == 480);
    assert!(
        !whole,
        "only the change is damaged: {:?}",
        frame.frame.damage
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_helper_switches_monitors() {
    let xvfb = Xvfb::start(1280, 480).unwrap();
    paint_two_monitors_red_and_blue(&xvfb);
    let mut s = share(&xvfb, None, Box::new(NullInjector::new())).await;
    let HelperEvent::Displays { displays, .. } = s
        .session_event(
            |e| matches!(e, HelperEvent::Displays { displays, .. } if displays.len() >= 2),
        )
        .await
    else {
        unreachable!()
    };
    let find = |name: &str| {
        displays
            .iter()
            .find(|d| d.name == name)
            .cloned()
            .expect(name)
    };
    let (left, right) = (find("LEFT"), find("RIGHT"));
    assert_eq!(right.bounds, Rect::new(640, 0, 640, 480));

    // Red is (B, G, R) = (0, 0, 255) in memory; blue is (255, 0, 0).
    let centre = |f: &ReceivedFrame| {
        let d = &f.frame;
        let at = (d.height as usize / 2) * d.stride + (d.width as usize / 2) * 4;
        (d.data[at], d.data[at + 2])
    };
    for (display, blue_and_red) in [
        (right.id, (255, 0)),
        (left.id, (0, 255)),
        (right.id, (255, 0)),
    ] {
        s.helper.select_display(display).await.unwrap();
        let frame = loop {
            let f = s.frame().await;
            if f.frame.display == display {
                break f;
            }
        };
        assert_eq!((frame.frame.width, frame.frame.height), (640, 480));
        let (b, r) = centre(&frame);
        assert!(
            b.abs_diff(blue_and_red.0) < 40 && r.abs_diff(blue_and_red.1) < 40,
            "display {display:?} shows (b, r) = ({b}, {r})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitors_plugged_and_unplugged_mid_session_reach_the_helper() {
    let xvfb = Xvfb::start(1280, 480).unwrap();
    paint_two_monitors_red_and_blue(&xvfb);
    let mut s = share(&xvfb, None, Box::new(NullInjector::new())).await;
    // The monitors named `with` are listed and those named `without` are not
    // (Xvfb lists its output, "screen", too).
    let displays_named = |e: &HelperEvent, with: &[&str], without: &[&str]| match e {
        HelperEvent::Displays { displays, .. } => {
            let listed = |name: &&str| displays.iter().any(|d| d.name == *name);
            with.iter().all(listed) && !without.iter().any(listed)
        }
        _ => false,
    };
    let HelperEvent::Displays { displays, .. } = s
        .session_event(|e| displays_named(e, &["LEFT", "RIGHT"], &["TOP"]))
        .await
    else {
        unreachable!()
    };
    let right = displays.iter().find(|d| d.name == "RIGHT").unwrap().id;
    s.helper.select_display(right).await.unwrap();
    loop {
        if s.frame().await.frame.display == right {
            break;
        }
    }

    // A monitor is plugged in (the size of the captured picture stays the same).
    xrandr(&xvfb, &["--setmonitor", "TOP", "320/85x240/64+0+0", "none"]);
    s.session_event(|e| displays_named(e, &["LEFT", "RIGHT", "TOP"], &[]))
        .await;

    // The captured monitor is unplugged: the host falls back to another one,
    // tells the helper, and the picture goes on.
    xrandr(&xvfb, &["--delmonitor", "RIGHT"]);
    let HelperEvent::Displays {
        displays, selected, ..
    } = s
        .session_event(|e| displays_named(e, &["LEFT", "TOP"], &["RIGHT"]))
        .await
    else {
        unreachable!()
    };
    assert_ne!(selected, right);
    // With no primary monitor, the fallback is the whole screen.
    let expected = if selected == DisplayId::ALL {
        (1280, 480)
    } else {
        let fallback = displays
            .iter()
            .find(|d| d.id == selected)
            .unwrap_or_else(|| panic!("{selected:?} is not one of {displays:?}"));
        (fallback.bounds.width, fallback.bounds.height)
    };
    let frame = loop {
        let f = s.frame().await;
        if f.frame.display == selected {
            break f;
        }
    };
    assert_eq!((frame.frame.width, frame.frame.height), expected);
    assert!(
        s.helper.request_keyframe().await.is_ok(),
        "the session is alive"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pointer_moves_send_cursor_updates_not_video() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let client = XClient::connect(&xvfb.display()).unwrap();
    paint_pattern(&client, 640, 480, 3);
    let mut s = share(&xvfb, None, Box::new(NullInjector::new())).await;
    s.settle(Duration::from_millis(400)).await;
    let mut positions = Vec::new();
    for (x, y) in [(100, 100), (200, 150), (300, 400)] {
        client.move_pointer(x, y).unwrap();
        loop {
            match s.event().await {
                HelperSessionEvent::Frame(f) => {
                    panic!("a pointer move made a frame: {:?}", f.frame.damage)
                }
                HelperSessionEvent::Session(HelperEvent::Cursor(update)) => {
                    positions.push((update.x, update.y));
                    if (update.x, update.y) == (i32::from(x), i32::from(y)) {
                        assert!(update.visible);
                        break;
                    }
                }
                HelperSessionEvent::Session(_) => {}
                _ => {}
            }
        }
    }
    assert!(positions.contains(&(300, 400)), "{positions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolution_change_keeps_the_session_and_the_picture_right() {
    let xvfb = Xvfb::start(1024, 768).unwrap();
    let client = XClient::connect(&xvfb.display()).unwrap();
    paint_pattern(&client, 1024, 768, 1);
    let mut s = share(&xvfb, None, Box::new(NullInjector::new())).await;
    let first = s.settle(Duration::from_millis(400)).await;
    assert_eq!((first.frame.width, first.frame.height), (1024, 768));

    // Xvfb knows only its start size: teach it another mode, then switch.
    xrandr(
        &xvfb,
        &[
            "--newmode",
            "800x600",
            "40",
            "800",
            "840",
            "968",
            "1056",
            "600",
            "601",
            "605",
            "628",
        ],
    );
    xrandr(&xvfb, &["--addmode", "screen", "800x600"]);
    xrandr(&xvfb, &["-s", "800x600"]);
    assert_eq!(client.screen_size().unwrap(), (800, 600));
    paint_pattern(&client, 800, 600, 9);
    let screen = client.pixels(Rect::new(0, 0, 800, 600)).unwrap();
    // Frames of the new size come, the first maybe from before the painting:
    // within the step, one must show the painted screen.
    let mut best = 0.0f64;
    let deadline = tokio::time::Instant::now() + STEP;
    while best < 35.0 && tokio::time::Instant::now() < deadline {
        let f = s.frame().await;
        if (f.frame.width, f.frame.height) == (800, 600) {
            best = best.max(luma_psnr(&f, &screen));
        }
    }
    assert!(
        best >= 35.0,
        "after the change the picture matches at {best:.1} dB"
    );
    assert!(
        s.helper.request_keyframe().await.is_ok(),
        "the session is alive"
    );
}

// ----- input (issue: real control) -----

fn recorded(recorder: &EventRecorder, n: usize) -> Vec<RecordedEvent> {
    recorder.wait_for(n, STEP).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_reaches_an_x_client_mapped_onto_the_second_monitor() {
    let xvfb = Xvfb::start(1280, 480).unwrap();
    split_into_two_monitors(&xvfb);
    let right = X11Capturer::connect(Some(&xvfb.display()))
        .unwrap()
        .displays()
        .unwrap()
        .into_iter()
        .find(|d| d.name == "RIGHT")
        .unwrap();
    let recorder = EventRecorder::start(Some(&xvfb.display())).unwrap();
    let injector = EnigoInjector::new(Some(&xvfb.display())).unwrap();
    let mut s = share(&xvfb, Some(right.id), Box::new(injector)).await;
    s.frame().await;
    s.take_control().await;
    recorder.clear();

    // Absolute positions are in the captured monitor: (10, 20) is root (650, 20).
    s.helper
        .send_input(vec![InputEvent::PointerMove { x: 10, y: 20 }])
        .await
        .unwrap();
    let events = recorder
        .wait_until(STEP, |e| {
            e.iter()
                .any(|e| e.kind == EventKind::Motion && e.root_x == 650)
        })
        .unwrap();
    let motion = events
        .iter()
        .rfind(|e| e.kind == EventKind::Motion)
        .unwrap();
    assert_eq!((motion.root_x, motion.root_y), (650, 20));
    // Off the monitor's edge is kept on it: the helper cannot reach LEFT.
    s.helper
        .send_input(vec![InputEvent::PointerMove { x: -300, y: 10 }])
        .await
        .unwrap();
    let events = recorder
        .wait_until(STEP, |e| {
            e.iter()
                .any(|e| e.kind == EventKind::Motion && e.root_x == 640)
        })
        .unwrap();
    assert!(events.iter().all(|e| e.root_x >= 640));
    recorder.clear();

    let mut all = Vec::new();
    for button in [
        MouseButton::Left,
        MouseButton::Middle,
        MouseButton::Right,
        MouseButton::Back,
        MouseButton::Forward,
    ] {
        all.push(InputEvent::Button {
            button,
            pressed: true,
        });
        all.push(InputEvent::Button {
            button,
            pressed: false,
        });
    }
    all.push(InputEvent::Wheel { dx: 0, dy: 120 });
    all.push(InputEvent::Wheel { dx: -120, dy: 0 });
    s.helper.send_input(all).await.unwrap();
    let events = recorded(&recorder, 14);
    let buttons: Vec<(EventKind, u8)> = events
        .iter()
        .filter(|e| e.kind.is_button())
        .map(|e| (e.kind, e.detail))
        .collect();
    use EventKind::{ButtonPress as P, ButtonRelease as R};
    assert_eq!(
        buttons,
        vec![
            (P, 1),
            (R, 1),
            (P, 2),
            (R, 2),
            (P, 3),
            (R, 3),
            (P, 8),
            (R, 8),
            (P, 9),
            (R, 9),
            (P, 5),
            (R, 5),
            (P, 6),
            (R, 6)
        ]
    );
    recorder.clear();

    // Keys by physical position, then text.
    s.helper
        .send_input(vec![
            InputEvent::Key {
                code: KeyCode(0x04),
                pressed: true,
            },
            InputEvent::Key {
                code: KeyCode(0x04),
                pressed: false,
            },
            InputEvent::Text { text: "hé".into() },
        ])
        .await
        .unwrap();
    let events = recorder
        .wait_until(STEP, |e| {
            e.iter().filter(|e| e.kind == EventKind::KeyPress).count() >= 3
        })
        .unwrap();
    let presses: Vec<&RecordedEvent> = events
        .iter()
        .filter(|e| e.kind == EventKind::KeyPress)
        .collect();
    assert_eq!(presses[0].usage(), Some(KeyCode(0x04)));
    let typed: String = presses[1..]
        .iter()
        .filter_map(|e| e.keysym_char())
        .collect();
    assert_eq!(typed, "hé");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_without_a_grant_after_revoke_or_while_paused() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let recorder = EventRecorder::start(Some(&xvfb.display())).unwrap();
    let injector = EnigoInjector::new(Some(&xvfb.display())).unwrap();
    let mut s = share(&xvfb, None, Box::new(injector)).await;
    s.frame().await;
    recorder.clear();
    let click = || {
        vec![
            InputEvent::PointerMove { x: 50, y: 60 },
            InputEvent::Button {
                button: MouseButton::Left,
                pressed: true,
            },
            InputEvent::Button {
                button: MouseButton::Left,
                pressed: false,
            },
        ]
    };
    assert!(s.helper.send_input(click()).await.is_err(), "view only");

    s.take_control().await;
    s.helper.send_input(click()).await.unwrap();
    recorder
        .wait_until(STEP, |e| {
            e.iter().any(|e| e.kind == EventKind::ButtonRelease)
        })
        .unwrap();
    s.host.revoke().await.unwrap();
    s.session_event(|e| matches!(e, HelperEvent::ControlRevoked { .. }))
        .await;
    recorder.sync(STEP).unwrap();
    let before = recorder.len();
    assert!(s.helper.send_input(click()).await.is_err(), "revoked");

    s.take_control().await;
    s.host.pause().await.unwrap();
    s.session_event(|e| *e == HelperEvent::Paused).await;
    assert_eq!(s.helper.control_state(), ControlState::None);
    assert!(s.helper.send_input(click()).await.is_err(), "paused");
    // A round trip through the host and the X server: nothing more arrived.
    s.host.chat("still there?").await.unwrap();
    s.session_event(|e| matches!(e, HelperEvent::Chat { .. }))
        .await;
    recorder.sync(STEP).unwrap();
    assert_eq!(recorder.len(), before, "{:?}", recorder.events());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_in_the_middle_of_a_drag_releases_the_button_and_the_key() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let recorder = EventRecorder::start(Some(&xvfb.display())).unwrap();
    let injector = EnigoInjector::new(Some(&xvfb.display())).unwrap();
    let mut s = share(&xvfb, None, Box::new(injector)).await;
    s.frame().await;
    s.take_control().await;
    recorder.clear();
    s.helper
        .send_input(vec![
            InputEvent::Key {
                code: KeyCode::LEFT_SHIFT,
                pressed: true,
            },
            InputEvent::PointerMove { x: 100, y: 100 },
            InputEvent::Button {
                button: MouseButton::Left,
                pressed: true,
            },
            InputEvent::PointerMove { x: 200, y: 150 },
        ])
        .await
        .unwrap();
    recorder
        .wait_until(STEP, |e| e.iter().any(|e| e.kind == EventKind::ButtonPress))
        .unwrap();
    s.host.revoke().await.unwrap();
    let events = recorder
        .wait_until(STEP, |e| {
            e.iter()
                .any(|e| e.kind == EventKind::ButtonRelease && e.detail == 1)
                && e.iter().any(|e| {
                    e.kind == EventKind::KeyRelease && e.usage() == Some(KeyCode::LEFT_SHIFT)
                })
        })
        .unwrap();
    let release = events
        .iter()
        .position(|e| e.kind == EventKind::ButtonRelease)
        .unwrap();
    let key_up = events
        .iter()
        .position(|e| e.kind == EventKind::KeyRelease)
        .unwrap();
    assert!(
        release < key_up,
        "released in reverse order of pressing: {events:?}"
    );
}

/// Pixels of the masked window's colour (magenta: the pattern has none).
fn magenta_pixels(frame: &ReceivedFrame) -> usize {
    let f = &frame.frame;
    (0..f.height as usize)
        .flat_map(|y| (0..f.width as usize).map(move |x| y * f.stride + x * 4))
        .filter(|&p| f.data[p] > 200 && f.data[p + 1] < 50 && f.data[p + 2] > 200)
        .count()
}

/// The screen as the helper must see it: `area` painted black.
fn screen_without(client: &XClient, area: Rect) -> Vec<u8> {
    let mut screen = client.pixels(Rect::new(0, 0, 640, 480)).unwrap();
    ra_core::redact::blank(&mut screen, 640 * 4, 640, 480, &[area]);
    screen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_masked_window_never_reaches_the_helper_as_it_moves() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let client = XClient::connect(&xvfb.display()).unwrap();
    paint_pattern(&client, 640, 480, 0);
    let first = Rect::new(96, 80, 160, 120);
    let window = client
        .create_window(first, 0xff_00_ff, "ra-secret")
        .unwrap();
    let capturer = X11Capturer::connect(Some(&xvfb.display())).unwrap();
    let mut backends = HostBackends::new(
        Box::new(capturer),
        Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        Box::new(NullInjector),
    );
    backends.window_locator = Some(Box::new(
        X11WindowLocator::connect(Some(&xvfb.display())).unwrap(),
    ));
    let options = InviteOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        // The class as the policy writes it: compared without case.
        policy: Policy {
            redact_windows: vec!["RA-Secret".into()],
            ..Policy::default()
        },
        ..InviteOptions::default()
    };
    let mut session = join(invite(options, backends).await.unwrap()).await;

    // Black where the window is, the screen elsewhere, and the helper told.
    let mut told = false;
    let mut last = None;
    while !told || last.is_none() {
        match session.event().await {
            HelperSessionEvent::Frame(frame) => {
                assert_eq!(magenta_pixels(&frame), 0, "the masked window shows");
                last = Some(frame);
            }
            HelperSessionEvent::Session(HelperEvent::Redactions { areas }) => {
                told = areas == vec![first];
            }
            _ => {}
        }
    }
    let psnr = luma_psnr(&last.expect("a frame"), &screen_without(&client, first));
    assert!(psnr >= 35.0, "outside the mask only {psnr:.1} dB");

    // The window moves: the mask follows, and no picture on the way shows it.
    let second = Rect::new(400, 300, 160, 120);
    client.move_window(window, second.x, second.y).unwrap();
    let mut told = false;
    let last = loop {
        match session.event().await {
            HelperSessionEvent::Frame(frame) => {
                assert_eq!(magenta_pixels(&frame), 0, "the moving window shows");
                if told && luma_psnr(&frame, &screen_without(&client, second)) >= 35.0 {
                    break frame;
                }
            }
            HelperSessionEvent::Session(HelperEvent::Redactions { areas }) => {
                told = areas == vec![second];
            }
            _ => {}
        }
    };
    // Until the pictures stop (the screen is still): none shows it either.
    let mut settled = last;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(500), session.helper.next_event()).await
    {
        if let HelperSessionEvent::Frame(frame) = event {
            assert_eq!(magenta_pixels(&frame), 0, "the moved window shows");
            settled = frame;
        }
    }
    let psnr = luma_psnr(&settled, &screen_without(&client, second));
    assert!(psnr >= 35.0, "after the move only {psnr:.1} dB");
    println!("masked window: {psnr:.1} dB outside the mask after it moved");
}
