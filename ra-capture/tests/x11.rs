//! The X11 capturer against a private Xvfb per test: pixels, damage,
//! monitors, the pointer, resolution changes and the GetImage fallback.
#![cfg(all(target_os = "linux", feature = "x11"))]

use std::process::Command;
use std::time::{Duration, Instant};

use ra_capture::x11::{DamageReports, X11Capturer, X11Options};
use ra_capture::xvfb::Xvfb;
use ra_core::media::{Capturer, CursorShape, DisplayId, Rect};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

/// A test's own X client, drawing on the root window.
struct Client {
    conn: RustConnection,
    root: xproto::Window,
    gc: xproto::Gcontext,
}

impl Client {
    fn new(xvfb: &Xvfb) -> Self {
        let (conn, screen) = RustConnection::connect(Some(&xvfb.display())).unwrap();
        let root = conn.setup().roots[screen].root;
        let gc = conn.generate_id().unwrap();
        conn.create_gc(gc, root, &xproto::CreateGCAux::new())
            .unwrap();
        let client = Client { conn, root, gc };
        client.sync();
        client
    }

    /// Waits until the server has handled every request sent so far.
    fn sync(&self) {
        self.conn.get_input_focus().unwrap().reply().unwrap();
    }

    /// Fills `r` (root coordinates) with 0xRRGGBB and syncs.
    fn fill(&self, color: u32, r: Rect) {
        self.conn
            .change_gc(self.gc, &xproto::ChangeGCAux::new().foreground(color))
            .unwrap();
        let rect = xproto::Rectangle {
            x: r.x as i16,
            y: r.y as i16,
            width: r.width as u16,
            height: r.height as u16,
        };
        self.conn
            .poly_fill_rectangle(self.root, self.gc, &[rect])
            .unwrap();
        self.sync();
    }

    /// Puts a `width`×`height` BGRX picture at x, y and syncs.
    fn put(&self, x: i16, y: i16, width: u16, bgrx: &[u8]) {
        // One request carries at most a few hundred kB: send it in bands.
        let row = usize::from(width) * 4;
        let band = (200_000 / row).max(1);
        for (i, chunk) in bgrx.chunks(row * band).enumerate() {
            let rows = (chunk.len() / row) as u16;
            self.conn
                .put_image(
                    ImageFormat::Z_PIXMAP,
                    self.root,
                    self.gc,
                    width,
                    rows,
                    x,
                    y + (i * band) as i16,
                    0,
                    24,
                    chunk,
                )
                .unwrap();
        }
        self.sync();
    }

    /// The root's pixels in `r`, BGRX, packed.
    fn pixels(&self, r: Rect) -> Vec<u8> {
        self.conn
            .get_image(
                ImageFormat::Z_PIXMAP,
                self.root,
                r.x as i16,
                r.y as i16,
                r.width as u16,
                r.height as u16,
                !0,
            )
            .unwrap()
            .reply()
            .unwrap()
            .data
    }

    /// Moves the pointer with XTEST and syncs.
    fn move_pointer(&self, x: i16, y: i16) {
        self.conn
            .xtest_fake_input(xproto::MOTION_NOTIFY_EVENT, 0, 0, self.root, x, y, 0)
            .unwrap();
        self.sync();
    }

    /// The first few bytes of a pixel, as 0xRRGGBB.
    fn rgb(px: &[u8]) -> u32 {
        u32::from(px[2]) << 16 | u32::from(px[1]) << 8 | u32::from(px[0])
    }
}

/// A frame copied out of the capturer.
#[derive(Debug)]
struct Captured {
    width: u32,
    height: u32,
    data: Vec<u8>,
    damage: Vec<Rect>,
    display: DisplayId,
}

impl Captured {
    fn pixel(&self, x: u32, y: u32) -> u32 {
        let i = (y * self.width + x) as usize * 4;
        Client::rgb(&self.data[i..i + 4])
    }
}

/// The next frame within `timeout` (ignoring early returns for the pointer).
fn frame(capturer: &mut X11Capturer, timeout: Duration) -> Captured {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if let Some(f) = capturer.next_frame(left).unwrap() {
            assert_eq!(f.stride, f.width as usize * 4);
            assert!(f.data.len() >= f.stride * f.height as usize);
            return Captured {
                width: f.width,
                height: f.height,
                data: f.data[..f.stride * f.height as usize].to_vec(),
                damage: f.damage.clone(),
                display: f.display,
            };
        }
        assert!(Instant::now() < deadline, "no frame within {timeout:?}");
    }
}

/// Asserts that no frame arrives for `period`.
fn assert_static(capturer: &mut X11Capturer, period: Duration) {
    let start = Instant::now();
    let mut calls = 0;
    while start.elapsed() < period {
        calls += 1;
        assert!(
            capturer
                .next_frame(Duration::from_millis(100))
                .unwrap()
                .is_none(),
            "a frame arrived on a static screen"
        );
    }
    // Returning at once each time would be a busy loop.
    assert!(calls <= 12, "{calls} calls in {period:?}");
}

/// Draws a test picture over the whole root: a gradient and some boxes.
fn draw_pattern(client: &Client, width: u16, height: u16, seed: u8) {
    let mut picture = Vec::with_capacity(usize::from(width) * usize::from(height) * 4);
    for y in 0..height {
        for x in 0..width {
            picture.extend_from_slice(&[
                (x as u8).wrapping_add(seed),
                (y as u8).wrapping_mul(3),
                ((x ^ y) as u8).wrapping_add(seed),
                0,
            ]);
        }
    }
    client.put(0, 0, width, &picture);
    client.fill(0xff0000, Rect::new(10, 10, 50, 30));
    client.fill(0x00ff00, Rect::new(70, 20, 33, 17));
    client.fill(
        0x0000ff,
        Rect::new(i32::from(width) - 40, i32::from(height) - 20, 40, 20),
    );
}

fn xrandr(xvfb: &Xvfb, args: &[&str]) {
    let status = Command::new("xrandr")
        .args(args)
        .env("DISPLAY", xvfb.display())
        .status()
        .expect("xrandr (x11-xserver-utils) is installed by scripts/setup.sh");
    assert!(status.success(), "xrandr {args:?} failed");
}

/// 8 bits per channel with the fourth byte ignored.
fn same_bgr(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.chunks_exact(4)
            .zip(b.chunks_exact(4))
            .all(|(p, q)| p[..3] == q[..3])
}

#[test]
fn captured_pixels_equal_the_screen() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let client = Client::new(&xvfb);
    draw_pattern(&client, 640, 480, 0);
    let mut capturer = X11Capturer::connect(Some(&xvfb.display())).unwrap();
    assert!(
        capturer.uses_shm(),
        "mit-shm should work against a local Xvfb"
    );
    let f = frame(&mut capturer, Duration::from_secs(5));
    assert_eq!((f.width, f.height), (640, 480));
    assert_eq!(
        f.damage,
        vec![Rect::new(0, 0, 640, 480)],
        "the first frame is whole"
    );
    assert_eq!(f.display, capturer.selected());
    let expected = client.pixels(Rect::new(0, 0, 640, 480));
    assert!(same_bgr(&f.data, &expected));
    assert_eq!(f.pixel(20, 20), 0xff0000);
    assert_eq!(f.pixel(80, 30), 0x00ff00);
    assert_eq!(f.pixel(639, 479), 0x0000ff);
}

#[test]
fn only_damage_makes_frames_and_it_is_read_in_place() {
    for mode in [DamageReports::NonEmpty, DamageReports::RawRectangles] {
        let xvfb = Xvfb::start(800, 600).unwrap();
        let client = Client::new(&xvfb);
        draw_pattern(&client, 800, 600, 1);
        let mut options = X11Options::default();
        options.damage_reports = mode;
        let mut capturer = X11Capturer::connect_with(Some(&xvfb.display()), options).unwrap();
        frame(&mut capturer, Duration::from_secs(5));
        assert_static(&mut capturer, Duration::from_secs(1));

        let changed = Rect::new(300, 200, 40, 30);
        client.fill(0x123456, changed);
        let f = frame(&mut capturer, Duration::from_secs(5));
        let covered: u64 = f
            .damage
            .iter()
            .map(|r| u64::from(r.width) * u64::from(r.height))
            .sum();
        assert!(
            covered < 800 * 600 / 4,
            "{mode:?}: damage {:?} is most of the screen",
            f.damage
        );
        assert!(
            f.damage.iter().any(|d| d.x <= changed.x
                && d.y <= changed.y
                && d.x + d.width as i32 >= changed.x + changed.width as i32
                && d.y + d.height as i32 >= changed.y + changed.height as i32),
            "{mode:?}: damage {:?} misses {changed:?}",
            f.damage
        );
        assert_eq!(f.pixel(310, 210), 0x123456);
        assert!(same_bgr(&f.data, &client.pixels(Rect::new(0, 0, 800, 600))));
        assert_static(&mut capturer, Duration::from_millis(300));

        // Several changes, narrow ones and a full-width band, in one frame.
        client.fill(0xabcdef, Rect::new(0, 500, 800, 7));
        client.fill(0x010203, Rect::new(5, 5, 3, 100));
        client.fill(0xfedcba, Rect::new(700, 40, 99, 2));
        let f = frame(&mut capturer, Duration::from_secs(5));
        assert!(
            same_bgr(&f.data, &client.pixels(Rect::new(0, 0, 800, 600))),
            "{mode:?}"
        );

        // Drawing in a child window (where applications draw) is damage too.
        let window = client.conn.generate_id().unwrap();
        client
            .conn
            .create_window(
                24,
                window,
                client.root,
                400,
                300,
                120,
                80,
                0,
                xproto::WindowClass::INPUT_OUTPUT,
                0,
                &xproto::CreateWindowAux::new().background_pixel(0x00aa00),
            )
            .unwrap();
        client.conn.map_window(window).unwrap();
        client.sync();
        let f = frame(&mut capturer, Duration::from_secs(5));
        assert_eq!(f.pixel(450, 350), 0x00aa00, "{mode:?}");
        client
            .conn
            .change_gc(client.gc, &xproto::ChangeGCAux::new().foreground(0x0000aa))
            .unwrap();
        let inside = xproto::Rectangle {
            x: 10,
            y: 10,
            width: 20,
            height: 20,
        };
        client
            .conn
            .poly_fill_rectangle(window, client.gc, &[inside])
            .unwrap();
        client.sync();
        let f = frame(&mut capturer, Duration::from_secs(5));
        assert_eq!(f.pixel(415, 315), 0x0000aa, "{mode:?}");
        assert!(
            f.damage.iter().all(|d| d.width < 800),
            "{mode:?}: {:?}",
            f.damage
        );
        assert!(
            same_bgr(&f.data, &client.pixels(Rect::new(0, 0, 800, 600))),
            "{mode:?}"
        );

        // invalidate() brings a whole frame without any change.
        capturer.invalidate();
        let f = frame(&mut capturer, Duration::from_secs(5));
        assert_eq!(f.damage, vec![Rect::new(0, 0, 800, 600)]);
    }
}

#[test]
fn monitors_are_listed_selected_and_captured() {
    let xvfb = Xvfb::start(2560, 800).unwrap();
    xrandr(
        &xvfb,
        &["--setmonitor", "LEFT", "1280/338x800/211+0+0", "none"],
    );
    xrandr(
        &xvfb,
        &["--setmonitor", "RIGHT", "1280/338x800/211+1280+0", "none"],
    );
    let client = Client::new(&xvfb);
    client.fill(0xff0000, Rect::new(0, 0, 1280, 800));
    client.fill(0x0000ff, Rect::new(1280, 0, 1280, 800));
    client.fill(0x00ff00, Rect::new(1300, 100, 10, 10));

    let mut capturer = X11Capturer::connect(Some(&xvfb.display())).unwrap();
    let displays = capturer.displays().unwrap();
    let find = |name: &str| displays.iter().find(|d| d.name == name).unwrap().clone();
    let (left, right) = (find("LEFT"), find("RIGHT"));
    assert_eq!(left.bounds, Rect::new(0, 0, 1280, 800));
    assert_eq!(right.bounds, Rect::new(1280, 0, 1280, 800));
    assert_ne!(left.id, right.id);
    assert_eq!(capturer.displays().unwrap(), displays, "ids are stable");

    capturer.select(right.id).unwrap();
    let f = frame(&mut capturer, Duration::from_secs(5));
    assert_eq!((f.width, f.height, f.display), (1280, 800, right.id));
    assert_eq!(f.damage, vec![Rect::new(0, 0, 1280, 800)]);
    assert_eq!(f.pixel(0, 0), 0x0000ff);
    assert_eq!(f.pixel(25, 105), 0x00ff00);
    assert!(same_bgr(&f.data, &client.pixels(right.bounds)));

    // Damage on the other monitor makes no frame; damage here is translated.
    client.fill(0xffffff, Rect::new(100, 100, 50, 50));
    assert_static(&mut capturer, Duration::from_millis(300));
    client.fill(0xffff00, Rect::new(1290, 10, 20, 20));
    let f = frame(&mut capturer, Duration::from_secs(5));
    assert!(
        f.damage
            .iter()
            .all(|d| d.x >= 0 && d.x + d.width as i32 <= 1280)
    );
    assert!(
        f.damage
            .iter()
            .any(|d| d.x <= 10 && d.y <= 10 && d.x + d.width as i32 >= 30)
    );
    assert_eq!(f.pixel(15, 15), 0xffff00);

    capturer.select(left.id).unwrap();
    let f = frame(&mut capturer, Duration::from_secs(5));
    assert_eq!((f.width, f.display), (1280, left.id));
    assert_eq!(f.pixel(0, 0), 0xff0000);
    assert_eq!(f.pixel(120, 120), 0xffffff);

    capturer.select(DisplayId::ALL).unwrap();
    let f = frame(&mut capturer, Duration::from_secs(5));
    assert_eq!((f.width, f.height, f.display), (2560, 800, DisplayId::ALL));
    assert!(same_bgr(
        &f.data,
        &client.pixels(Rect::new(0, 0, 2560, 800))
    ));

    assert!(capturer.select(DisplayId(999)).is_err());

    // The selected monitor disappears: capture falls back, without failing.
    capturer.select(right.id).unwrap();
    frame(&mut capturer, Duration::from_secs(5));
    xrandr(&xvfb, &["--delmonitor", "RIGHT"]);
    // RandR sends no event for this: the capturer notices within a second.
    let f = frame(&mut capturer, Duration::from_secs(5));
    assert_ne!(f.display, right.id);
    assert!(
        !capturer
            .displays()
            .unwrap()
            .iter()
            .any(|d| d.name == "RIGHT")
    );
}

#[test]
fn the_pointer_is_reported_apart_from_video() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let client = Client::new(&xvfb);
    draw_pattern(&client, 640, 480, 2);
    let mut capturer = X11Capturer::connect(Some(&xvfb.display())).unwrap();
    frame(&mut capturer, Duration::from_secs(5));
    let first = capturer
        .cursor()
        .expect("the first report has position and shape");
    assert!(first.shape.is_some());
    assert_eq!(capturer.cursor(), None, "nothing changed since");

    client.move_pointer(300, 200);
    let start = Instant::now();
    assert!(
        capturer
            .next_frame(Duration::from_secs(5))
            .unwrap()
            .is_none()
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "a move ends the wait early"
    );
    let update = capturer.cursor().unwrap();
    assert_eq!((update.x, update.y, update.visible), (300, 200, true));
    assert_eq!(update.shape, None);
    assert_static(&mut capturer, Duration::from_millis(500));

    // A new shape on the root window, under the pointer.
    let (source, mask, cursor) = (
        client.conn.generate_id().unwrap(),
        client.conn.generate_id().unwrap(),
        client.conn.generate_id().unwrap(),
    );
    client
        .conn
        .create_pixmap(1, source, client.root, 16, 16)
        .unwrap();
    client
        .conn
        .create_pixmap(1, mask, client.root, 16, 16)
        .unwrap();
    let gc = client.conn.generate_id().unwrap();
    client
        .conn
        .create_gc(gc, source, &xproto::CreateGCAux::new().foreground(1))
        .unwrap();
    let all = [xproto::Rectangle {
        x: 0,
        y: 0,
        width: 16,
        height: 16,
    }];
    client.conn.poly_fill_rectangle(source, gc, &all).unwrap();
    client.conn.poly_fill_rectangle(mask, gc, &all).unwrap();
    client
        .conn
        .create_cursor(cursor, source, mask, 0xffff, 0, 0, 0, 0, 0, 3, 4)
        .unwrap();
    client
        .conn
        .change_window_attributes(
            client.root,
            &xproto::ChangeWindowAttributesAux::new().cursor(cursor),
        )
        .unwrap();
    client.sync();
    let start = Instant::now();
    assert!(
        capturer
            .next_frame(Duration::from_secs(5))
            .unwrap()
            .is_none()
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "a new shape ends the wait early"
    );
    let update = capturer.cursor().unwrap();
    let shape: CursorShape = update.shape.expect("the new shape");
    assert_eq!(
        (shape.width, shape.height, shape.hot_x, shape.hot_y),
        (16, 16, 3, 4)
    );
    // Red foreground, opaque: premultiplied BGRA 0, 0, 255, 255.
    assert_eq!(&shape.pixels[..4], &[0, 0, 255, 255]);
    assert_eq!(shape.pixels.len(), 16 * 16 * 4);
    assert_static(&mut capturer, Duration::from_millis(300));
}

#[test]
fn the_pointer_is_relative_to_the_selected_monitor() {
    let xvfb = Xvfb::start(1600, 600).unwrap();
    xrandr(&xvfb, &["--setmonitor", "A", "800/200x600/150+0+0", "none"]);
    xrandr(
        &xvfb,
        &["--setmonitor", "B", "800/200x600/150+800+0", "none"],
    );
    let client = Client::new(&xvfb);
    let mut capturer = X11Capturer::connect(Some(&xvfb.display())).unwrap();
    let b = capturer
        .displays()
        .unwrap()
        .into_iter()
        .find(|d| d.name == "B")
        .unwrap();
    capturer.select(b.id).unwrap();
    frame(&mut capturer, Duration::from_secs(5));
    client.move_pointer(850, 70);
    let update = capturer.cursor().unwrap();
    assert_eq!((update.x, update.y, update.visible), (50, 70, true));
    client.move_pointer(100, 70);
    let update = capturer.cursor().unwrap();
    assert!(!update.visible);
}

#[test]
fn resolution_changes_are_followed() {
    let xvfb = Xvfb::start(1280, 800).unwrap();
    let client = Client::new(&xvfb);
    draw_pattern(&client, 1280, 800, 3);
    let mut capturer = X11Capturer::connect(Some(&xvfb.display())).unwrap();
    let f = frame(&mut capturer, Duration::from_secs(5));
    assert_eq!((f.width, f.height), (1280, 800));

    xrandr(
        &xvfb,
        &[
            "--newmode",
            "800x600",
            "0",
            "800",
            "0",
            "0",
            "0",
            "600",
            "0",
            "0",
            "0",
        ],
    );
    xrandr(&xvfb, &["--addmode", "screen", "800x600"]);
    xrandr(&xvfb, &["-s", "800x600"]);
    draw_pattern(&client, 800, 600, 4);
    let f = frame(&mut capturer, Duration::from_secs(5));
    assert_eq!((f.width, f.height), (800, 600));
    assert_eq!(f.damage, vec![Rect::new(0, 0, 800, 600)]);
    assert!(same_bgr(&f.data, &client.pixels(Rect::new(0, 0, 800, 600))));

    xrandr(&xvfb, &["-s", "1280x800"]);
    draw_pattern(&client, 1280, 800, 5);
    let f = frame(&mut capturer, Duration::from_secs(5));
    assert_eq!((f.width, f.height), (1280, 800));
    assert!(same_bgr(
        &f.data,
        &client.pixels(Rect::new(0, 0, 1280, 800))
    ));
}

#[test]
fn plain_get_image_gives_the_same_pixels() {
    let xvfb = Xvfb::start(640, 480).unwrap();
    let client = Client::new(&xvfb);
    draw_pattern(&client, 640, 480, 6);
    let mut options = X11Options::default();
    options.use_shm = false;
    let mut plain = X11Capturer::connect_with(Some(&xvfb.display()), options).unwrap();
    assert!(!plain.uses_shm());
    let mut shm = X11Capturer::connect(Some(&xvfb.display())).unwrap();
    assert!(shm.uses_shm());
    let a = frame(&mut plain, Duration::from_secs(5));
    let b = frame(&mut shm, Duration::from_secs(5));
    assert_eq!(a.data, b.data);
    assert!(same_bgr(&a.data, &client.pixels(Rect::new(0, 0, 640, 480))));

    // Partial reads in the fallback too.
    client.fill(0x445566, Rect::new(200, 100, 30, 20));
    let a = frame(&mut plain, Duration::from_secs(5));
    assert!(a.damage.len() == 1 && a.damage[0].width < 640);
    assert!(same_bgr(&a.data, &client.pixels(Rect::new(0, 0, 640, 480))));
}

#[test]
fn a_lost_server_is_an_error_not_a_panic() {
    let xvfb = Xvfb::start(320, 240).unwrap();
    let mut capturer = X11Capturer::connect(Some(&xvfb.display())).unwrap();
    frame(&mut capturer, Duration::from_secs(5));
    drop(xvfb);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match capturer.next_frame(Duration::from_millis(100)) {
            Err(_) => break,
            Ok(_) => assert!(Instant::now() < deadline, "no error after the server died"),
        }
    }
    assert!(capturer.displays().is_err());
    assert_eq!(capturer.cursor(), None);
}

#[test]
fn connecting_to_nothing_fails_cleanly() {
    assert!(X11Capturer::connect(Some(":4242")).is_err());
}
