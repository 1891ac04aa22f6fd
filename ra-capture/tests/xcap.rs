//! The xcap backend under Xvfb sees what the X11 backend sees.
//!
//! xcap reads `$DISPLAY` and nothing else, and changing the environment of
//! a running test harness is unsound, so the test runs its checks in a child
//! process of this test binary with `DISPLAY` pointing at a private Xvfb.
#![cfg(all(target_os = "linux", feature = "xcap", feature = "x11"))]

use std::process::Command;
use std::time::{Duration, Instant};

use ra_capture::XcapCapturer;
use ra_capture::x11::X11Capturer;
use ra_capture::xvfb::Xvfb;
use ra_core::media::{Capturer, Rect};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

/// Set in the child's environment.
const CHILD: &str = "RA_CAPTURE_XCAP_CHILD";

#[test]
fn xcap_captures_the_same_screen_as_x11() {
    let xvfb = Xvfb::start(800, 600).unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "xcap_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DISPLAY", xvfb.display())
        .env(CHILD, "1")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("XDG_SESSION_TYPE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{stdout}");
}

/// Fills `r` on the root window with 0xRRGGBB and waits until it is drawn.
fn fill(conn: &RustConnection, root: xproto::Window, gc: xproto::Gcontext, color: u32, r: Rect) {
    conn.change_gc(gc, &xproto::ChangeGCAux::new().foreground(color))
        .unwrap();
    let rect = xproto::Rectangle {
        x: r.x as i16,
        y: r.y as i16,
        width: r.width as u16,
        height: r.height as u16,
    };
    conn.poly_fill_rectangle(root, gc, &[rect]).unwrap();
    conn.get_input_focus().unwrap().reply().unwrap();
}

#[test]
#[ignore = "run by xcap_captures_the_same_screen_as_x11 in a child process"]
fn xcap_child() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "run through xcap_captures_the_same_screen_as_x11"
    );
    let (conn, screen) = RustConnection::connect(None).unwrap();
    let root = conn.setup().roots[screen].root;
    let gc = conn.generate_id().unwrap();
    conn.create_gc(gc, root, &xproto::CreateGCAux::new())
        .unwrap();
    for (i, color) in [0xff0000, 0x00ff00, 0x0000ff, 0x808080, 0x123456]
        .into_iter()
        .enumerate()
    {
        let i = i as i32;
        fill(
            &conn,
            root,
            gc,
            color,
            Rect::new(i * 150, i * 100, 200, 150),
        );
    }

    let mut x11 = X11Capturer::connect(None).unwrap();
    let reference = x11
        .next_frame(Duration::from_secs(5))
        .unwrap()
        .unwrap()
        .data
        .to_vec();

    let mut xcap = XcapCapturer::new().unwrap();
    xcap.set_poll_interval(Duration::from_millis(20));
    let displays = xcap.displays().unwrap();
    assert_eq!(displays.len(), 1, "{displays:?}");
    assert_eq!(displays[0].bounds, Rect::new(0, 0, 800, 600));
    let start = Instant::now();
    let frame = xcap.next_frame(Duration::from_secs(5)).unwrap().unwrap();
    println!("xcap picture of 800x600 in {:?}", start.elapsed());
    assert_eq!((frame.width, frame.height), (800, 600));
    assert_eq!(frame.damage, vec![Rect::new(0, 0, 800, 600)]);
    // The same pixels (xcap's alpha is opaque, X11's fourth byte is not alpha).
    let differing = frame
        .data
        .chunks_exact(4)
        .zip(reference.chunks_exact(4))
        .filter(|(a, b)| a[..3] != b[..3])
        .count();
    assert_eq!(differing, 0);
    assert!(frame.data.chunks_exact(4).all(|p| p[3] == 255));

    // Unchanged: no frame.
    assert!(
        xcap.next_frame(Duration::from_millis(300))
            .unwrap()
            .is_none()
    );

    // One change: one frame, damage exactly its bounding box.
    let changed = Rect::new(333, 222, 44, 33);
    fill(&conn, root, gc, 0xfafafa, changed);
    let frame = xcap.next_frame(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(frame.damage, vec![changed]);
    let at = (250 * 800 + 350) * 4;
    assert_eq!(&frame.data[at..at + 4], &[0xfa, 0xfa, 0xfa, 0xff]);
}
