//! `ra-viewer` in a real window: each test starts its own Xvfb, a host on the
//! synthetic screen, and the viewer on that Xvfb; it reads the window's pixels
//! back and clicks and types into it with XTEST, and follows both programs
//! through their JSON events.

// Shared with cli.rs, which uses the parts this file does not.
#[allow(dead_code)]
mod support;

use std::path::PathBuf;
use std::time::Instant;

use ra_capture::render_pattern;
use ra_capture::xvfb::Xvfb;
use ra_core::keys::KeyCode;
use ra_core::media::DisplayId;
use ra_input::keymap::hid_to_x11_keycode;
use ra_input::x11::{EventKind, EventRecorder};
use serde_json::Value;
use support::{Host, Proc};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat, InputFocus, Window};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

/// The path of `ra-viewer`.
const VIEWER: &str = env!("CARGO_BIN_EXE_ra-viewer");

/// The host's synthetic screen.
const SOURCE: (u32, u32) = (640, 360);
/// The viewer's window: wider than 16:9, so the picture is scaled by 1.25 to
/// 800×450 with 25-pixel bars above and below.
const WINDOW: (u32, u32) = (800, 500);
/// Where the picture must be: x, y, width, height.
const PICTURE: (u32, u32, u32, u32) = (0, 25, 800, 450);
/// The bars' colour (0RGB), as the viewer paints them.
const BAR: u32 = 0x0020_2020;

/// A private X display and a test client on it.
struct Screen {
    /// Dropped last (fields drop in order): the client disconnects first.
    conn: RustConnection,
    root: Window,
    xvfb: Xvfb,
}

impl Screen {
    fn start() -> Screen {
        Screen::start_sized(1024, 768)
    }

    fn start_sized(width: u32, height: u32) -> Screen {
        let xvfb = Xvfb::start(width, height).expect("Xvfb (install the xvfb package)");
        let (conn, screen) = x11rb::connect(Some(&xvfb.display())).expect("connect to Xvfb");
        let root = conn.setup().roots[screen].root;
        Screen { conn, root, xvfb }
    }

    /// Waits until the server has handled every request sent so far.
    fn sync(&self) {
        self.conn
            .get_input_focus()
            .expect("send")
            .reply()
            .expect("round trip");
    }

    /// Starts `ra-viewer` for `host` on this display with `extra` arguments,
    /// in a `WINDOW`-sized window.
    fn viewer(&self, host: &Host, extra: &[&str]) -> Proc {
        self.viewer_sized(host, WINDOW, extra)
    }

    /// Starts `ra-viewer` for `host` in a window of `size`.
    fn viewer_sized(&self, host: &Host, size: (u32, u32), extra: &[&str]) -> Proc {
        let (token, password) = (host.token(), host.password());
        let geometry = format!("{}x{}", size.0, size.1);
        let mut args = vec![
            "--json",
            "--token",
            &token,
            "--password",
            &password,
            "--geometry",
            &geometry,
        ];
        args.extend_from_slice(extra);
        let display = self.xvfb.display();
        Proc::spawn_with_env("ra-viewer", VIEWER, &args, false, &[("DISPLAY", &display)])
    }

    /// Where the window's top-left corner is on the screen.
    fn origin(&self, window: Window) -> (i16, i16) {
        let reply = self
            .conn
            .translate_coordinates(window, self.root, 0, 0)
            .expect("send")
            .reply()
            .expect("the viewer's window exists");
        (reply.dst_x, reply.dst_y)
    }

    /// The pixels of `window` (of `size`), packed BGRX rows.
    fn screenshot(&self, window: Window, size: (u32, u32)) -> Vec<u8> {
        let reply = self
            .conn
            .get_image(
                ImageFormat::Z_PIXMAP,
                window,
                0,
                0,
                size.0 as u16,
                size.1 as u16,
                !0,
            )
            .expect("send")
            .reply()
            .expect("the viewer's window is mapped");
        assert_eq!(reply.depth, 24, "unexpected window depth");
        assert_eq!(
            reply.data.len(),
            (size.0 * size.1 * 4) as usize,
            "unexpected image format"
        );
        reply.data
    }

    /// Moves the pointer to (`x`, `y`) of `window` with XTEST.
    fn move_to(&self, window: Window, x: i16, y: i16) {
        let (left, top) = self.origin(window);
        self.conn
            .xtest_fake_input(
                xproto::MOTION_NOTIFY_EVENT,
                0,
                0,
                self.root,
                left + x,
                top + y,
                0,
            )
            .expect("send");
        self.sync();
    }

    /// Presses and releases mouse button `button` with XTEST.
    fn click(&self, button: u8) {
        for kind in [xproto::BUTTON_PRESS_EVENT, xproto::BUTTON_RELEASE_EVENT] {
            self.conn
                .xtest_fake_input(kind, button, 0, self.root, 0, 0, 0)
                .expect("send");
        }
        self.sync();
    }

    /// Presses and releases the key of HID usage `usage` with XTEST, with
    /// the keyboard focus on `window`.
    fn tap_key(&self, window: Window, usage: u16) {
        let keycode = hid_to_x11_keycode(KeyCode(usage)).expect("a key X knows");
        self.conn
            .set_input_focus(InputFocus::PARENT, window, x11rb::CURRENT_TIME)
            .expect("send");
        for kind in [xproto::KEY_PRESS_EVENT, xproto::KEY_RELEASE_EVENT] {
            self.conn
                .xtest_fake_input(kind, keycode, 0, self.root, 0, 0, 0)
                .expect("send");
        }
        self.sync();
    }
}

/// The X window id of the viewer's `window` event, after checking its size.
fn window_of(viewer: &mut Proc) -> Window {
    window_sized(viewer, WINDOW)
}

/// The X window id of the viewer's `window` event, after checking it is of `size`.
fn window_sized(viewer: &mut Proc, size: (u32, u32)) -> Window {
    let event = viewer.expect("window");
    assert_eq!(
        (event["width"].as_u64(), event["height"].as_u64()),
        (Some(u64::from(size.0)), Some(u64::from(size.1))),
        "window size: {event}"
    );
    event["id"]
        .as_u64()
        .and_then(|id| Window::try_from(id).ok())
        .unwrap_or_else(|| panic!("no window id in {event}"))
}

/// Waits for `event`, unless it was printed already.
fn wait_for(proc: &mut Proc, event: &str) {
    if support::named(&proc.seen, event).is_empty() {
        proc.expect(event);
    }
}

/// Waits for the viewer to show a frame and checks where it put the picture.
fn expect_frame(viewer: &mut Proc) -> Value {
    let frame = viewer.expect("frame");
    let picture = &frame["picture"];
    assert_eq!(
        [
            &picture["x"],
            &picture["y"],
            &picture["width"],
            &picture["height"]
        ]
        .map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok())),
        [
            Some(PICTURE.0),
            Some(PICTURE.1),
            Some(PICTURE.2),
            Some(PICTURE.3)
        ],
        "picture placed wrong: {frame}"
    );
    frame
}

/// Where the window position (`x`, `y`) lands on the host's screen, computed
/// from the expected picture place.
fn remote_of(x: u32, y: u32) -> (f64, f64) {
    let scale = |offset: u32, shown: u32, source: u32| {
        f64::from(offset) * f64::from(source) / f64::from(shown)
    };
    (
        scale(x - PICTURE.0, PICTURE.2, SOURCE.0),
        scale(y - PICTURE.1, PICTURE.3, SOURCE.1),
    )
}

/// Whether a host `input` event is a move to within one pixel of `at`.
fn is_move_near(event: &Value, at: (f64, f64)) -> bool {
    let input = &event["input"];
    let near = |field: &str, want: f64| {
        input[field]
            .as_f64()
            .is_some_and(|v| (v - want).abs() <= 1.0)
    };
    input["type"] == "move" && near("x", at.0) && near("y", at.1)
}

/// Whether a host `input` event is `type` with `field` = `value` and `pressed`.
fn is_input(event: &Value, kind: &str, field: &str, value: Value, pressed: bool) -> bool {
    let input = &event["input"];
    input["type"] == kind && input[field] == value && input["pressed"] == pressed
}

// ---- the picture ----

/// Samples of a bilinear scale from `SOURCE` to the picture size with pixel
/// centres aligned: for an output coordinate, the two source pixels and the
/// weight of the second. Written apart from the viewer's fixed-point scaler.
fn bilinear_taps(source: u32, shown: u32) -> Vec<(usize, usize, f64)> {
    (0..shown)
        .map(|t| {
            let position =
                ((f64::from(t) + 0.5) * f64::from(source) / f64::from(shown) - 0.5).max(0.0);
            let first = (position.floor() as usize).min(source as usize - 1);
            let second = (first + 1).min(source as usize - 1);
            (first, second, position - first as f64)
        })
        .collect()
}

/// Channel `c` of output pixel (`x`, `y`) of the scaled `source` (packed BGRA).
fn scaled_channel(
    source: &[u8],
    columns: &[(usize, usize, f64)],
    rows: &[(usize, usize, f64)],
    x: usize,
    y: usize,
    c: usize,
) -> f64 {
    let (x0, x1, fx) = columns[x];
    let (y0, y1, fy) = rows[y];
    let at = |px: usize, py: usize| f64::from(source[(py * SOURCE.0 as usize + px) * 4 + c]);
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Frame `index` of the host's pattern, scaled to the picture size (packed BGRA).
fn expected_picture(index: u64) -> Vec<u8> {
    let source = pattern(index);
    let (width, height) = (PICTURE.2 as usize, PICTURE.3 as usize);
    let (columns, rows) = (
        bilinear_taps(SOURCE.0, PICTURE.2),
        bilinear_taps(SOURCE.1, PICTURE.3),
    );
    let mut out = vec![255u8; width * height * 4];
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                let value = scaled_channel(&source, &columns, &rows, x, y, c);
                out[(y * width + x) * 4 + c] = value.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Frame `index` of the host's synthetic screen, packed BGRA.
fn pattern(index: u64) -> Vec<u8> {
    let stride = SOURCE.0 as usize * 4;
    let mut source = vec![0u8; stride * SOURCE.1 as usize];
    render_pattern(SOURCE.0, SOURCE.1, index, DisplayId(0), &mut source, stride)
        .expect("render the pattern");
    source
}

/// The pattern frame among `0..=last` that the picture shows (the host's
/// frame counter is not the pattern's index, so search): a coarse comparison
/// on a grid of samples.
fn closest_frame(picture: &[u8], last: u64) -> u64 {
    let (columns, rows) = (
        bilinear_taps(SOURCE.0, PICTURE.2),
        bilinear_taps(SOURCE.1, PICTURE.3),
    );
    let width = PICTURE.2 as usize;
    let grid: Vec<(usize, usize)> = (0..PICTURE.3 as usize)
        .step_by(3)
        .flat_map(|y| (0..width).step_by(3).map(move |x| (x, y)))
        .collect();
    let error = |index: u64| {
        let source = pattern(index);
        grid.iter()
            .map(|&(x, y)| {
                (0..3)
                    .map(|c| {
                        let want = scaled_channel(&source, &columns, &rows, x, y, c);
                        (f64::from(picture[(y * width + x) * 4 + c]) - want).powi(2)
                    })
                    .sum::<f64>()
            })
            .sum::<f64>()
    };
    (0..=last)
        .map(|index| (index, error(index)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(index, _)| index)
}

/// Writes packed BGRA/BGRX rows as a PNG, for a person to look at after a failure.
fn save_png(path: &PathBuf, width: u32, height: u32, bgrx: &[u8]) {
    let rgba: Vec<u8> = bgrx
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0], 255])
        .collect();
    let Ok(file) = std::fs::File::create(path) else {
        return;
    };
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    if let Ok(mut writer) = encoder.write_header() {
        let _ = writer.write_image_data(&rgba);
    }
}

#[test]
fn shows_the_host_screen_scaled_with_bars() {
    let screen = Screen::start();
    let started = Instant::now();
    let host = Host::start(&[
        "--capture",
        "synthetic",
        "--approve",
        "yes",
        "--size",
        "640x360",
    ]);
    let mut viewer = screen.viewer(&host, &[]);
    viewer.expect("connected");
    let window = window_of(&mut viewer);
    // A few frames in, the picture is past the first keyframe.
    let frame = viewer.expect_where("frame", |f| f["shown"].as_u64() >= Some(5));
    assert_eq!(
        (frame["width"].as_u64(), frame["height"].as_u64()),
        (Some(u64::from(SOURCE.0)), Some(u64::from(SOURCE.1))),
        "{frame}"
    );
    expect_frame(&mut viewer);
    let shot = screen.screenshot(window, WINDOW);
    // The synthetic source draws 30 frames a second from (at most) when the
    // host started: a bound on the index of the frame on screen.
    let last = (started.elapsed().as_secs_f64() * 30.0 * 1.2) as u64 + 30;

    let row = WINDOW.0 as usize * 4;
    let (top, bottom) = (PICTURE.1 as usize, (PICTURE.1 + PICTURE.3) as usize);
    let bar_pixels = shot[..top * row]
        .chunks_exact(4)
        .chain(shot[bottom * row..].chunks_exact(4));
    for (i, pixel) in bar_pixels.enumerate() {
        let rgb = u32::from_le_bytes([pixel[0], pixel[1], pixel[2], 0]);
        assert_eq!(rgb, BAR, "bar pixel {i} is {rgb:06x}");
    }
    let picture = &shot[top * row..bottom * row];
    let index = closest_frame(picture, last);
    let (width, height) = (PICTURE.2, PICTURE.3);
    let (best, psnr) = [index.saturating_sub(1), index, index + 1]
        .into_iter()
        .map(|i| {
            let expected = expected_picture(i);
            let psnr =
                ra_codec::psnr_bgra(picture, row, &expected, width as usize * 4, width, height);
            (i, psnr)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("three candidates");
    if psnr.is_nan() || psnr < 30.0 {
        let dir = std::env::temp_dir().join(format!("ra-viewer-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        save_png(&dir.join("window.png"), WINDOW.0, WINDOW.1, &shot);
        save_png(
            &dir.join("expected.png"),
            width,
            height,
            &expected_picture(best),
        );
        panic!(
            "the window shows frame {best} of the pattern at only {psnr:.1} dB (searched 0..={last}); see {}",
            dir.display()
        );
    }
    drop(viewer);
    drop(host);
}

#[test]
fn clicks_and_keys_reach_the_host_once_control_is_granted() {
    let screen = Screen::start();
    let mut host = Host::start(&[
        "--capture",
        "synthetic",
        "--approve",
        "yes",
        "--approve-control",
        "yes",
        "--inject",
        "log",
        "--size",
        "640x360",
    ]);
    let mut viewer = screen.viewer(&host, &["--request-control"]);
    let window = window_of(&mut viewer);
    wait_for(&mut viewer, "control_granted");
    expect_frame(&mut viewer);

    // Two places, so a wrong scale or offset cannot pass by luck.
    for (x, y) in [(200, 125), (601, 400)] {
        screen.move_to(window, x as i16, y as i16);
        screen.click(1);
        let at = remote_of(x, y);
        let moved = host.proc.expect("input");
        assert!(
            is_move_near(&moved, at),
            "expected a move to {at:?}: {moved}"
        );
        let press = host.proc.expect("input");
        assert!(
            is_input(&press, "button", "button", "left".into(), true),
            "{press}"
        );
        let release = host.proc.expect("input");
        assert!(
            is_input(&release, "button", "button", "left".into(), false),
            "{release}"
        );
    }

    // The key `a` (usage 4) by its physical position.
    screen.tap_key(window, 0x04);
    let press = host.proc.expect("input");
    assert!(is_input(&press, "key", "usage", 4.into(), true), "{press}");
    let release = host.proc.expect("input");
    assert!(
        is_input(&release, "key", "usage", 4.into(), false),
        "{release}"
    );
    drop(viewer);
    drop(host);
}

#[test]
fn a_click_in_the_viewer_reaches_an_x_client_on_the_host_screen() {
    // The host shares a real X screen of the synthetic source's size and
    // injects with enigo; a test X client covering that screen records what
    // arrives. Nothing is logged or simulated on the host side.
    let shared = Screen::start_sized(SOURCE.0, SOURCE.1);
    let shared_display = shared.xvfb.display();
    let recorder =
        EventRecorder::start(Some(&shared_display)).expect("an X client on the host screen");
    let screen = Screen::start();
    let host = Host::start(&[
        "--capture",
        "screen",
        "--display",
        &shared_display,
        "--inject",
        "system",
        "--approve",
        "yes",
        "--approve-control",
        "yes",
    ]);
    let mut viewer = screen.viewer(&host, &["--request-control"]);
    let window = window_of(&mut viewer);
    wait_for(&mut viewer, "control_granted");
    expect_frame(&mut viewer);

    // Two places, so a wrong scale or offset cannot pass by luck.
    for (x, y) in [(200, 125), (601, 400)] {
        recorder.clear();
        screen.move_to(window, x as i16, y as i16);
        screen.click(1);
        let events = recorder
            .wait_until(support::TIMEOUT, |events| {
                events.iter().any(|e| e.kind == EventKind::ButtonRelease)
            })
            .unwrap_or_else(|e| panic!("the click did not reach the host's X client: {e}"));
        let at = remote_of(x, y);
        let buttons: Vec<_> = events.iter().filter(|e| e.kind.is_button()).collect();
        assert_eq!(buttons.len(), 2, "one press, one release: {events:?}");
        assert_eq!(buttons[0].kind, EventKind::ButtonPress, "{events:?}");
        for button in buttons {
            assert_eq!(button.detail, 1, "the left button: {button:?}");
            let (bx, by) = (f64::from(button.root_x), f64::from(button.root_y));
            assert!(
                (bx - at.0).abs() <= 1.5 && (by - at.1).abs() <= 1.5,
                "clicked at ({bx}, {by}) on the host, expected {at:?}"
            );
        }
    }
    drop(viewer);
    drop(host);
}

#[test]
fn nothing_is_sent_without_control() {
    let screen = Screen::start();
    let mut host = Host::start(&[
        "--capture",
        "synthetic",
        "--approve",
        "yes",
        "--approve-control",
        "yes",
        "--inject",
        "log",
        "--size",
        "640x360",
    ]);
    let mut viewer = screen.viewer(&host, &[]);
    let window = window_of(&mut viewer);
    expect_frame(&mut viewer);

    // View only: a click and a key go nowhere.
    screen.move_to(window, 200, 125);
    screen.click(1);
    screen.tap_key(window, 0x04);
    // Then F8 (handled after them, in order): the viewer asks for control.
    screen.tap_key(window, 0x41);
    wait_for(&mut host.proc, "control_granted");
    wait_for(&mut viewer, "control_granted");
    // Now in control, a move goes through; nothing before it may have (not
    // even replayed from before the grant).
    let at = remote_of(601, 400);
    screen.move_to(window, 601, 400);
    let first = host.proc.expect("input");
    assert!(is_move_near(&first, at), "first input on the host: {first}");
    let inputs = support::named(&host.proc.seen, "input");
    assert_eq!(inputs.len(), 1, "input sent without control: {inputs:?}");
    drop(viewer);
    drop(host);
}

#[test]
fn exits_like_ra_helper_before_the_window_opens() {
    // A broken token: usage error, before anything is opened.
    let finished = support::run(
        "ra-viewer",
        VIEWER,
        &["--json", "--token", "ra1-not-a-token", "--password", "x"],
    );
    finished.assert_clean_failure(2);
    assert!(
        support::named(&finished.events, "window").is_empty(),
        "{finished:#?}"
    );

    let screen = Screen::start();
    let mut host = Host::start(&["--approve", "yes", "--size", "320x240"]);
    let (token, password) = (host.token(), host.password());
    // No display: fails before connecting, so the host is never asked.
    let finished = Proc::spawn_with_env(
        "ra-viewer",
        VIEWER,
        &["--json", "--token", &token, "--password", &password],
        false,
        &[("DISPLAY", "")],
    )
    .finish();
    finished.assert_clean_failure(1);
    assert!(finished.stderr.contains("DISPLAY"), "{finished:#?}");

    // A wrong password (the first symbol changed; it carries five whole bits).
    let first = password.chars().next().expect("a password");
    let wrong = format!("{}{}", if first == '7' { '8' } else { '7' }, &password[1..]);
    let display = screen.xvfb.display();
    let finished = Proc::spawn_with_env(
        "ra-viewer",
        VIEWER,
        &["--json", "--token", &token, "--password", &wrong],
        false,
        &[("DISPLAY", &display)],
    )
    .finish();
    finished.assert_clean_failure(3);
    assert!(
        support::named(&finished.events, "window").is_empty(),
        "{finished:#?}"
    );
    // The host saw that attempt, and nothing of the one without a display.
    host.proc.expect("auth_failed");
    let seen = &host.proc.seen;
    assert!(
        support::named(seen, "connection_request").is_empty()
            && support::named(seen, "auth_failed").len() == 1,
        "{seen:#?}"
    );
    drop(host);
}

#[test]
fn draws_the_host_pointer_over_the_picture() {
    // The host shares a real (black) X screen, whose pointer travels apart
    // from the video: a pointer move makes no frame, so a pointer in the
    // window can only be the viewer's drawing.
    let shared = Screen::start_sized(800, 600);
    let screen = Screen::start();
    let host = Host::start(&[
        "--approve",
        "yes",
        "--capture",
        "screen",
        "--display",
        &shared.xvfb.display(),
    ]);
    // Scaled by ¾, no bars: remote (x, y) shows at (¾x, ¾y).
    let size = (600, 450);
    let mut viewer = screen.viewer_sized(&host, size, &[]);
    let window = window_sized(&mut viewer, size);
    viewer.expect("frame");
    for (x, y) in [(200, 100), (520, 360)] {
        shared.move_to(shared.root, x, y);
        viewer.expect_where("cursor", |e| {
            e["x"] == i64::from(x) && e["y"] == i64::from(y) && e["visible"] == true
        });
        let shot = screen.screenshot(window, size);
        let (cx, cy) = (i64::from(x) * 3 / 4, i64::from(y) * 3 / 4);
        let mut near = 0;
        for (i, pixel) in shot.chunks_exact(4).enumerate() {
            let (px, py) = ((i % size.0 as usize) as i64, (i / size.0 as usize) as i64);
            if pixel[..3].iter().all(|&c| c < 96) {
                continue;
            }
            // X's root cursor is a 16-pixel cross around its hotspot.
            assert!(
                (px - cx).abs() <= 12 && (py - cy).abs() <= 12,
                "a bright pixel at ({px}, {py}), far from the pointer at ({cx}, {cy})"
            );
            near += 1;
        }
        assert!(
            near >= 10,
            "no pointer drawn at ({cx}, {cy}): {near} bright pixels"
        );
    }
    drop(viewer);
    drop(host);
}

#[test]
fn keeps_the_session_receipt_like_ra_helper() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (host_receipt, viewer_receipt) = (
        dir.path().join("host.receipt"),
        dir.path().join("viewer.receipt"),
    );
    let screen = Screen::start();
    let mut host = Host::start(&[
        "--capture",
        "synthetic",
        "--approve",
        "yes",
        "--size",
        "640x360",
        "--receipt",
        support::s(&host_receipt),
    ]);
    let mut viewer = screen.viewer(&host, &["--receipt", support::s(&viewer_receipt)]);
    window_of(&mut viewer);
    expect_frame(&mut viewer);
    host.proc.send("end");
    let told = viewer.expect("receipt");
    assert_eq!(told["countersigned"], false, "no identity: {told}");
    // The window stays up to say why the session ended; the receipt was
    // stored before it said so.
    viewer.expect("ended");
    drop(viewer);
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    // The viewer keeps the very receipt the host signed.
    let kept = std::fs::read_to_string(&viewer_receipt).expect("the viewer's receipt");
    assert!(
        kept.starts_with("{\"receipt\":\"ra-consent-receipt-1\""),
        "{kept}"
    );
    assert_eq!(
        kept,
        std::fs::read_to_string(&host_receipt).expect("the host's receipt")
    );
}

#[test]
fn draws_the_host_s_masked_areas_as_stripes() {
    let screen = Screen::start();
    // A mask of 200×100 host pixels at (100, 50): scaled by 1.25 in the
    // window, it covers x 125..375 and y 25 + 62..25 + 187.
    let host = Host::start(&[
        "--capture",
        "synthetic",
        "--approve",
        "yes",
        "--size",
        "640x360",
        "--redact",
        "100,50,200,100",
    ]);
    let mut viewer = screen.viewer(&host, &[]);
    let window = window_of(&mut viewer);
    wait_for(&mut viewer, "redactions");
    let told = support::named(&viewer.seen, "redactions")[0].clone();
    assert_eq!(
        told["areas"],
        serde_json::json!([{"x": 100, "y": 50, "width": 200, "height": 100}])
    );
    viewer.expect_where("frame", |f| f["shown"].as_u64() >= Some(3));
    let shot = screen.screenshot(window, WINDOW);
    let row = WINDOW.0 as usize * 4;
    let pixel = |x: usize, y: usize| {
        let p = &shot[y * row + x * 4..y * row + x * 4 + 4];
        u32::from_le_bytes([p[0], p[1], p[2], 0])
    };
    // Inside: stripes and the black the host sent, about half each.
    let (mut stripes, mut dark, mut inside) = (0, 0, 0);
    for y in 25 + 64..25 + 185 {
        for x in 127..373 {
            inside += 1;
            match pixel(x, y) {
                0x0050_5050 => stripes += 1,
                rgb if (rgb >> 16) < 40 && ((rgb >> 8) & 0xff) < 40 && (rgb & 0xff) < 40 => {
                    dark += 1;
                }
                _ => {}
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("ra-viewer-masks-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    save_png(&dir.join("window.png"), WINDOW.0, WINDOW.1, &shot);
    assert!(
        stripes * 10 >= inside * 4 && (stripes + dark) * 100 >= inside * 98,
        "{stripes} stripe and {dark} dark pixels of {inside} in the mask; see {}",
        dir.display()
    );
    // Outside, no stripe: a row of the picture above the mask.
    assert!((0..WINDOW.0 as usize).all(|x| pixel(x, 60) != 0x0050_5050));
    println!(
        "the window with the mask: {}",
        dir.join("window.png").display()
    );
    drop(viewer);
    drop(host);
}
