//! `ra-host --capture wayland --wayland-api mutter --inject system` on a
//! private headless GNOME desktop, with `ra-helper`: the helper's picture
//! matches a screenshot taken through PipeWire, an unchanged screen costs
//! (almost) no encodes, and the helper's input reaches a Wayland client.
#![cfg(target_os = "linux")]

#[allow(dead_code)] // Each test program uses part of the shared support.
mod support;

use std::path::Path;
use std::sync::Arc;

use ra_input::wayland::WaylandInjector;
use ra_testkit::gnome::HeadlessGnome;
use ra_wayland::RemoteDesktop;
use ra_wayland::mutter::{CursorMode, MutterOptions, MutterSession};
use support::{HELPER, HOST, Proc, s};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;

/// The desktop's variables for a child process.
fn desktop_env(desktop: &HeadlessGnome) -> Vec<(&'static str, String)> {
    let env = desktop.env();
    vec![
        (
            "DBUS_SESSION_BUS_ADDRESS",
            env.bus_address.clone().unwrap_or_default(),
        ),
        (
            "XDG_RUNTIME_DIR",
            env.runtime_dir
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        (
            "WAYLAND_DISPLAY",
            env.wayland_display.clone().unwrap_or_default(),
        ),
        ("DISPLAY", String::new()),
    ]
}

/// Luma PSNR of an RGBA picture against a BGRx one of the same size.
fn luma_psnr(rgba: &[u8], bgrx: &[u8]) -> f64 {
    assert_eq!(rgba.len(), bgrx.len(), "the pictures differ in size");
    let mut sum = 0.0;
    for (a, b) in rgba.chunks_exact(4).zip(bgrx.chunks_exact(4)) {
        let la = 0.299 * f64::from(a[0]) + 0.587 * f64::from(a[1]) + 0.114 * f64::from(a[2]);
        let lb = 0.299 * f64::from(b[2]) + 0.587 * f64::from(b[1]) + 0.114 * f64::from(b[0]);
        sum += (la - lb) * (la - lb);
    }
    let mse = sum / (rgba.len() / 4) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// A PNG's pixels as RGBA, with its size.
fn read_png(path: &Path) -> (Vec<u8>, u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("snapshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("PNG pixels");
    pixels.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgba => pixels,
        png::ColorType::Rgb => pixels
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (rgba, info.width, info.height)
}

#[test]
fn a_wayland_desktop_is_shared_and_controlled_through_ra_host() {
    let desktop = HeadlessGnome::start(&[(WIDTH, HEIGHT)]).expect("headless GNOME");
    let demo = desktop.event_demo(WIDTH, HEIGHT);
    // The test's own session: it wakes the seat (the first keys after a
    // virtual keyboard appears can be lost) and gives the stream of the
    // reference screenshot (the pointer apart, so not in it).
    let own = Arc::new(
        MutterSession::open(&MutterOptions {
            env: desktop.env().clone(),
            cursor: CursorMode::Metadata,
        })
        .expect("mutter session"),
    );
    let node = own.streams()[0].node_id;
    let own: Arc<dyn RemoteDesktop> = own;
    demo.wake_seat(&mut WaylandInjector::new(Arc::clone(&own)));

    let env = desktop_env(&desktop);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut host = Proc::spawn_with_env(
        "ra-host",
        HOST,
        &[
            "invite",
            "--json",
            "--listen",
            "127.0.0.1:0",
            "--capture",
            "wayland",
            "--wayland-api",
            "mutter",
            "--inject",
            "system",
            "--approve",
            "yes",
            "--approve-control",
            "yes",
            "--stats",
        ],
        true,
        &env,
    );
    let invitation = host.expect("invitation");
    // Told by the library as the session starts.
    let limited = host.expect("desk_limited");
    assert_eq!(limited["panic_key"], false);
    assert!(
        limited["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Wayland")),
        "{limited}"
    );
    let token = invitation["token"].as_str().expect("token").to_owned();
    let password = invitation["password"]
        .as_str()
        .expect("password")
        .to_owned();

    let dir = tempfile::tempdir().expect("temporary directory");
    let script = dir.path().join("input.txt");
    std::fs::write(&script, "move 640 360\nclick left\nkey a\ntype ok\n").expect("script");
    let snapshot = dir.path().join("helper.png");
    let mut helper = Proc::spawn(
        "ra-helper",
        HELPER,
        &[
            "accept",
            "--json",
            "--token",
            &token,
            "--password",
            &password,
            "--input-script",
            s(&script),
            // Not a goal it meets: it stays for the duration.
            "--frames",
            "1000000",
            "--duration",
            "10s",
            "--snapshot",
            s(&snapshot),
        ],
        false,
    );
    helper.expect("control_granted");

    // The input reached the client.
    demo.expect(&["x: 640.000000", "y: 360.000000"]);
    demo.expect(&["button: 272", "state: released"]);
    demo.expect(&["key: 30", "state: pressed"]);
    demo.expect(&["unicode: 107", "state: pressed"]);

    // An unchanged screen: a few encodes in 4 s at most (once the input's
    // effects are drawn).
    let first = host.expect("stats");
    let mut last = first.clone();
    for _ in 0..4 {
        last = host.expect("stats");
    }
    let encodes =
        last["frames_sent"].as_u64().unwrap_or(0) - first["frames_sent"].as_u64().unwrap_or(0);
    eprintln!("frames sent while the screen stood still (4 s): {encodes}");
    assert!(
        encodes <= 3,
        "{encodes} frames in 4 s of an unchanged screen"
    );

    // The helper's picture is the screen.
    assert_eq!(helper.finish().code(), 0);
    let (picture, width, height) = read_png(&snapshot);
    assert_eq!((width, height), (WIDTH, HEIGHT));
    let screenshot = desktop
        .screenshot(node, (WIDTH, HEIGHT), own.as_ref())
        .expect("a PipeWire screenshot");
    let psnr = luma_psnr(&picture, &screenshot);
    eprintln!("helper's picture vs a PipeWire screenshot: luma PSNR {psnr:.1} dB");
    assert!(psnr >= 35.0, "luma PSNR {psnr:.1} dB");

    // The helper left: the host's session (and invitation) ended with it.
    host.expect("ended");
    assert_eq!(host.finish().code(), 0);
}

#[test]
fn outside_a_wayland_session_the_wayland_capture_is_a_clear_error() {
    let runtime = tempfile::tempdir().expect("temporary directory");
    let finished = Proc::spawn_with_env(
        "ra-host",
        HOST,
        &[
            "invite",
            "--json",
            "--listen",
            "127.0.0.1:0",
            "--capture",
            "wayland",
            "--wayland-api",
            "mutter",
        ],
        false,
        &[
            ("WAYLAND_DISPLAY", "wayland-nobody"),
            ("XDG_RUNTIME_DIR", s(runtime.path())),
        ],
    )
    .finish();
    finished.assert_clean_failure(1);
    assert!(
        finished
            .stderr
            .contains("cannot open a Wayland remote-desktop session: not a Wayland session"),
        "{}",
        finished.stderr
    );
}
