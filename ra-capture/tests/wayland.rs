//! The Wayland capturer on a real (headless) GNOME desktop: frames from a
//! mutter remote-desktop session's PipeWire stream match a screenshot taken
//! through PipeWire by GStreamer, an unchanged screen sends (almost)
//! nothing, the pointer travels as metadata, monitors are selected, and a
//! session that ends gives `SourceLost`.
#![cfg(all(target_os = "linux", feature = "wayland"))]
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ra_capture::wayland::WaylandCapturer;
use ra_core::input::{InputEvent, InputInjector};
use ra_core::media::{CaptureError, Capturer, DisplayId, Rect};
use ra_input::wayland::WaylandInjector;
use ra_testkit::gnome::{EventDemo, HeadlessGnome};
use ra_wayland::mutter::{MutterOptions, MutterSession};
use ra_wayland::{Api, Notify, RemoteDesktop, SessionError, Stream};

const WAIT: Duration = Duration::from_secs(20);

/// A BGRA picture copied out of a frame.
struct Picture {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

/// The next frame within [`WAIT`], copied.
fn frame(capturer: &mut WaylandCapturer) -> (Picture, Vec<Rect>) {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no frame within {WAIT:?}");
        if let Some(frame) = capturer.next_frame(left).expect("next_frame") {
            let row = frame.width as usize * 4;
            let mut data = Vec::with_capacity(row * frame.height as usize);
            for y in 0..frame.height as usize {
                data.extend_from_slice(&frame.data[y * frame.stride..][..row]);
            }
            return (
                Picture {
                    width: frame.width,
                    height: frame.height,
                    data,
                },
                frame.damage,
            );
        }
    }
}

/// Frames until none comes for `quiet` (the screen settled), within
/// [`WAIT`]; the last one.
fn settled(capturer: &mut WaylandCapturer, quiet: Duration) -> Picture {
    capturer.invalidate();
    let (mut last, _) = frame(capturer);
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "the screen never settled");
        let changed = capturer.next_frame(quiet).expect("next_frame").is_some();
        if changed {
            capturer.invalidate();
            last = frame(capturer).0;
        } else if capturer.cursor().is_none() {
            return last;
        }
    }
}

fn session(desktop: &HeadlessGnome) -> Arc<MutterSession> {
    // RUST_LOG=ra_capture=debug shows the stream's negotiation.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    Arc::new(
        MutterSession::open(&MutterOptions {
            env: desktop.env().clone(),
            ..MutterOptions::default()
        })
        .expect("mutter session"),
    )
}

/// `weston-eventdemo` over the whole monitor, shown and focused: it has
/// reported a key sent through `session` (so its window is mapped and
/// painted before a test looks at the screen).
fn client(
    desktop: &HeadlessGnome,
    session: &Arc<MutterSession>,
    width: u32,
    height: u32,
) -> EventDemo {
    let demo = desktop.event_demo(width, height);
    let session: Arc<dyn RemoteDesktop> = session.clone();
    demo.wake_seat(&mut WaylandInjector::new(session));
    demo
}

/// Peak signal-to-noise ratio of the colour channels, in dB.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let (mut sum, mut count) = (0f64, 0u64);
    for (p, q) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for c in 0..3 {
            let d = f64::from(p[c]) - f64::from(q[c]);
            sum += d * d;
            count += 1;
        }
    }
    let mse = sum / count as f64;
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0 * 255.0 / mse).log10()
}

#[test]
fn frames_match_a_pipewire_screenshot_and_an_idle_screen_sends_nothing() {
    let (width, height) = (1920, 1080);
    let desktop = HeadlessGnome::start(&[(width, height)]).expect("headless GNOME");
    let session = session(&desktop);
    let _client = client(&desktop, &session, width, height);
    let node = session.streams()[0].node_id;
    let started = Instant::now();
    let mut capturer = WaylandCapturer::new(session.clone()).expect("capturer");
    let (first, damage) = frame(&mut capturer);
    eprintln!("first frame after {:?}", started.elapsed());
    assert_eq!((first.width, first.height), (width, height));
    assert_eq!(damage, vec![Rect::new(0, 0, width, height)]);
    // The client's window may come after the first frame: wait until the
    // picture stops changing.
    let picture = settled(&mut capturer, Duration::from_millis(700));
    let distinct = picture
        .data
        .chunks_exact(4)
        .step_by(97)
        .map(|p| [p[0], p[1], p[2]])
        .collect::<std::collections::HashSet<_>>()
        .len();
    assert!(distinct > 1, "a uniform picture: the client is not shown");

    // An unchanged screen: nothing (or next to nothing) for 4 s.
    let pictures = capturer.pictures_received();
    let quiet_start = Instant::now();
    let mut frames = 0;
    while let Some(left) = Duration::from_secs(4).checked_sub(quiet_start.elapsed()) {
        if capturer.next_frame(left).expect("next_frame").is_some() {
            frames += 1;
        }
    }
    eprintln!(
        "unchanged screen: {frames} frames, {} pictures received in 4 s",
        capturer.pictures_received() - pictures
    );
    assert!(frames <= 3, "{frames} frames from an unchanged screen");

    // Capture cost: a whole picture handed out again (invalidate).
    let runs = 20;
    let timer = Instant::now();
    for _ in 0..runs {
        capturer.invalidate();
        assert!(capturer.next_frame(WAIT).expect("next_frame").is_some());
    }
    eprintln!(
        "whole {width}x{height} frame from the last picture: {:?} each",
        timer.elapsed() / runs
    );
    // The stream serves one consumer at a time: the capturer stops, then
    // GStreamer takes its screenshot of the same, settled screen.
    drop(capturer);
    let shot = desktop
        .screenshot(node, (width, height), session.as_ref())
        .expect("a PipeWire screenshot");
    let psnr = psnr(&picture.data, &shot);
    eprintln!("PSNR against the pipewiresrc screenshot: {psnr:.1} dB");
    assert!(psnr >= 35.0, "PSNR {psnr:.1} dB");
}

#[test]
fn the_pointer_travels_as_metadata() {
    let (width, height) = (1024, 768);
    let desktop = HeadlessGnome::start(&[(width, height)]).expect("headless GNOME");
    // Over a client's window the pointer has the client's shape (over the
    // bare headless desktop mutter 43 sends an empty one).
    let session = session(&desktop);
    let _client = client(&desktop, &session, width, height);
    let mut capturer = WaylandCapturer::new(session.clone()).expect("capturer");
    settled(&mut capturer, Duration::from_millis(700));
    let pictures = capturer.pictures_received();
    let mut shape = None;
    for (x, y) in [(200, 150), (700, 500), (3, 4)] {
        session
            .notify(&Notify::PointerMotionAbsolute {
                stream: 0,
                x: f64::from(x),
                y: f64::from(y),
            })
            .expect("pointer motion");
        // The position comes at once; the client's shape may follow (the
        // compositor sends an empty one first when the pointer appears).
        let deadline = Instant::now() + WAIT;
        let mut latest = None;
        loop {
            assert!(
                Instant::now() < deadline,
                "the pointer never showed at ({x}, {y}): {latest:?}"
            );
            // Mutter 43 now and then repaints the picture around a pointer
            // move (with no change in it); what matters is that the pointer
            // arrives apart from it.
            if let Some(frame) = capturer.next_frame(Duration::from_millis(200)).unwrap() {
                eprintln!("a frame during a pointer move: {:?}", frame.damage);
            }
            if let Some(update) = capturer.cursor() {
                shape = update.shape.clone().or(shape);
                latest = Some(update);
            }
            if let Some(update) = &latest
                && (update.x - x).abs() <= 1
                && (update.y - y).abs() <= 1
                && update.visible
            {
                break;
            }
        }
    }
    let shape = shape.expect("a pointer shape");
    eprintln!(
        "pointer shape {}x{}, hotspot ({}, {})",
        shape.width, shape.height, shape.hot_x, shape.hot_y
    );
    assert!(shape.width > 0 && shape.pixels.iter().skip(3).step_by(4).any(|&a| a > 0));
    // The compositor may send pictures (the client's window is repainted
    // when the pointer enters it), but unchanged ones make no frame (the
    // loop above fails on any frame).
    eprintln!(
        "{} unchanged pictures received during the pointer moves, no frame",
        capturer.pictures_received() - pictures
    );
}

#[test]
fn two_monitors_are_two_displays() {
    let desktop = HeadlessGnome::start(&[(1024, 768), (800, 600)]).expect("headless GNOME");
    let session = session(&desktop);
    let streams = session.streams();
    assert_eq!(streams.len(), 2, "{streams:?}");
    let mut capturer = WaylandCapturer::new(session.clone()).expect("capturer");
    let displays = capturer.displays().unwrap();
    assert_eq!(displays.len(), 2);
    for (display, stream) in displays.iter().zip(&streams) {
        assert_eq!(
            display.bounds,
            Rect::new(stream.x, stream.y, stream.width, stream.height)
        );
    }
    let sizes: Vec<_> = displays
        .iter()
        .map(|d| (d.bounds.width, d.bounds.height))
        .collect();
    assert_eq!(sizes, vec![(1024, 768), (800, 600)]);
    assert!(displays[0].primary && !displays[1].primary);
    assert_ne!(displays[0].bounds.x, displays[1].bounds.x);

    let (first, _) = frame(&mut capturer);
    assert_eq!((first.width, first.height), (1024, 768));
    capturer.select(DisplayId(1)).unwrap();
    let started = Instant::now();
    let (second, damage) = frame(&mut capturer);
    eprintln!("first frame of display 1 after {:?}", started.elapsed());
    assert_eq!((second.width, second.height), (800, 600));
    assert_eq!(damage, vec![Rect::new(0, 0, 800, 600)]);
    assert!(matches!(
        capturer.select(DisplayId(2)),
        Err(CaptureError::NoSuchDisplay(_))
    ));
    capturer.select(DisplayId(0)).unwrap();
    assert_eq!(frame(&mut capturer).0.width, 1024);
}

/// Frames until one is `width` × `height`, within [`WAIT`]: that one and
/// its damage.
fn frame_of_size(capturer: &mut WaylandCapturer, width: u32, height: u32) -> (Picture, Vec<Rect>) {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(
            Instant::now() < deadline,
            "no {width}x{height} frame within {WAIT:?}"
        );
        let (picture, damage) = frame(capturer);
        if (picture.width, picture.height) == (width, height) {
            return (picture, damage);
        }
    }
}

#[test]
fn a_turned_monitor_is_captured_at_its_new_size() {
    let desktop = HeadlessGnome::start(&[(640, 480)]).expect("headless GNOME");
    let session = session(&desktop);
    let mut capturer = WaylandCapturer::new(session.clone()).expect("capturer");
    let (first, _) = frame(&mut capturer);
    assert_eq!((first.width, first.height), (640, 480));
    let old_node = session.streams()[0].node_id;

    // Mutter ends the recording of a monitor that changes; the session
    // opens itself again and the capturer goes on with the new stream.
    desktop.rotate_primary(1).expect("turned");
    let turned = Instant::now();
    let (picture, damage) = frame_of_size(&mut capturer, 480, 640);
    eprintln!("first turned frame after {:?}", turned.elapsed());
    assert_eq!(
        damage,
        vec![Rect::new(0, 0, 480, 640)],
        "the first is whole"
    );
    assert!(picture.data.len() == 480 * 640 * 4);
    assert!(!session.is_closed());
    let streams = session.streams();
    assert_eq!((streams[0].width, streams[0].height), (480, 640));
    assert_ne!(streams[0].node_id, old_node, "a new stream");
    let displays = capturer.displays().expect("displays");
    assert_eq!(displays[0].bounds, Rect::new(0, 0, 480, 640));

    // Input goes into the new session: the pointer lands where only the
    // turned monitor reaches (y = 600 > 480).
    let mut injector = WaylandInjector::new(session.clone());
    injector
        .inject(&InputEvent::PointerMove { x: 400, y: 600 })
        .expect("input into the new session");
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(
            Instant::now() < deadline,
            "the pointer never showed at (400, 600)"
        );
        let _ = capturer
            .next_frame(Duration::from_millis(200))
            .expect("next_frame");
        if let Some(cursor) = capturer.cursor()
            && (cursor.x, cursor.y) == (400, 600)
        {
            break;
        }
    }

    // And back.
    desktop.rotate_primary(0).expect("turned back");
    frame_of_size(&mut capturer, 640, 480);

    // Stopped on purpose, it is not opened again: the screen is lost.
    session.stop();
    let why = expect_source_lost(&mut capturer);
    assert!(why.contains("closed"), "{why}");
    assert!(session.is_closed());
}

/// A session that never says it is closed: only PipeWire can tell.
#[derive(Debug)]
struct Unaware(Arc<MutterSession>);

impl RemoteDesktop for Unaware {
    fn api(&self) -> Api {
        self.0.api()
    }
    fn streams(&self) -> Vec<Stream> {
        self.0.streams()
    }
    fn open_pipewire(&self) -> Result<std::os::fd::OwnedFd, SessionError> {
        self.0.open_pipewire()
    }
    fn notify(&self, notification: &Notify) -> Result<(), SessionError> {
        self.0.notify(notification)
    }
    fn is_closed(&self) -> bool {
        false
    }
}

fn expect_source_lost(capturer: &mut WaylandCapturer) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "no SourceLost within {WAIT:?}");
        match capturer.next_frame(Duration::from_millis(500)) {
            Ok(_) => {
                let _ = capturer.cursor();
            }
            Err(CaptureError::SourceLost(why)) => return why,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_session_that_ends_is_a_lost_source() {
    let desktop = HeadlessGnome::start(&[(640, 480)]).expect("headless GNOME");

    // Closed through the session: it says so at once.
    let session = session(&desktop);
    let mut capturer = WaylandCapturer::new(session.clone()).expect("capturer");
    frame(&mut capturer);
    session.stop();
    let why = expect_source_lost(&mut capturer);
    eprintln!("closed session: {why}");
    assert!(capturer.displays().is_err());
    drop(capturer);

    // Ended by the desktop behind the capturer's back: PipeWire tells.
    let session = self::session(&desktop);
    let unaware: Arc<dyn RemoteDesktop> = Arc::new(Unaware(session.clone()));
    let mut capturer = WaylandCapturer::new(unaware).expect("capturer");
    frame(&mut capturer);
    let stopped = Instant::now();
    session.stop();
    let why = expect_source_lost(&mut capturer);
    eprintln!("stream ended after {:?}: {why}", stopped.elapsed());
    // It stays lost.
    assert!(matches!(
        capturer.next_frame(Duration::from_millis(10)),
        Err(CaptureError::SourceLost(_))
    ));
}

/// A session whose PipeWire daemon cannot be reached.
#[derive(Debug)]
struct NoPipeWire;

impl RemoteDesktop for NoPipeWire {
    fn api(&self) -> Api {
        Api::Mutter
    }

    fn streams(&self) -> Vec<Stream> {
        vec![Stream {
            node_id: 42,
            handle: "stream".into(),
            x: 0,
            y: 0,
            width: 64,
            height: 64,
        }]
    }

    fn open_pipewire(&self) -> Result<std::os::fd::OwnedFd, SessionError> {
        Err(SessionError::PipeWire {
            path: "/nonexistent/pipewire-0".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
    }

    fn notify(&self, _: &Notify) -> Result<(), SessionError> {
        Ok(())
    }

    fn is_closed(&self) -> bool {
        false
    }
}

#[test]
fn no_pipewire_is_a_clear_error() {
    let error = WaylandCapturer::new(Arc::new(NoPipeWire)).expect_err("no PipeWire");
    let CaptureError::Backend(source) = &error else {
        panic!("expected a backend error, got {error:?}");
    };
    let mut chain = source.to_string();
    let mut cause = source.source();
    while let Some(next) = cause {
        chain.push_str(": ");
        chain.push_str(&next.to_string());
        cause = next.source();
    }
    assert!(
        chain.contains("cannot connect to PipeWire at /nonexistent/pipewire-0"),
        "{chain}"
    );
}
