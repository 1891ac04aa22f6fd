//! The example programs on a real X server (a private Xvfb per test): the
//! host's local panic key and clipboard sharing, with the X clipboards of
//! the host's, the helper's and the viewer's displays.
#![cfg(target_os = "linux")]

#[allow(dead_code)] // Each test program uses part of the shared support.
mod support;

use std::sync::mpsc::{self, Receiver};

use ra_capture::xvfb::{XClient, Xvfb};
use ra_input::x11::Clipboard;
use support::{HELPER, Host, Proc, TIMEOUT, helper as start_helper};

/// The path of `ra-viewer`.
const VIEWER: &str = env!("CARGO_BIN_EXE_ra-viewer");

/// X keycodes of the standard evdev keymap: Control_L, Alt_L, Pause.
const CONTROL_L: u8 = 37;
const ALT_L: u8 = 64;
const PAUSE: u8 = 127;

#[test]
fn the_panic_key_takes_control_back() {
    let xvfb = Xvfb::start(640, 480).expect("Xvfb");
    let display = xvfb.display();
    let mut host = Host::start(&[
        "--capture",
        "screen",
        "--display",
        &display,
        "--inject",
        "system",
        "--approve",
        "yes",
        "--approve-control",
        "yes",
    ]);
    let (token, password) = (host.token(), host.password());
    let mut helper = start_helper(&[
        "--token",
        &token,
        "--password",
        &password,
        "--request-control",
    ]);
    helper.expect("control_granted");
    host.proc.expect("control_granted");

    // The person at the host presses Ctrl+Alt+Pause.
    let keyboard = XClient::connect(&display).expect("X client");
    for key in [CONTROL_L, ALT_L, PAUSE] {
        keyboard.key(key, true).expect("press");
    }
    for key in [PAUSE, ALT_L, CONTROL_L] {
        keyboard.key(key, false).expect("release");
    }

    host.proc.expect("panic_key");
    let revoked = host.proc.expect("control_revoked");
    assert_eq!(revoked["reason"], "panic_key");
    let revoked = helper.expect("control_revoked");
    assert_eq!(revoked["reason"], "panic_key");
    host.proc.send("end");
    assert_eq!(helper.finish().code(), 0);
    assert_eq!(host.proc.finish().code(), 0);
}

#[test]
fn a_window_masked_by_class_follows_it_to_the_helper() {
    let xvfb = Xvfb::start(640, 480).expect("Xvfb");
    let display = xvfb.display();
    let client = XClient::connect(&display).expect("X client");
    let window = client
        .create_window(
            ra_core::media::Rect::new(50, 60, 120, 80),
            0xff_00_ff,
            "ra-secret",
        )
        .expect("a window");
    let mut host = Host::start(&[
        "--capture",
        "screen",
        "--display",
        &display,
        "--approve",
        "yes",
        "--redact-window",
        "RA-SECRET",
    ]);
    let masked = host.proc.expect("redactions");
    assert_eq!(masked["windows"], serde_json::json!(["RA-SECRET"]));
    let (token, password) = (host.token(), host.password());
    let mut helper = start_helper(&["--token", &token, "--password", &password]);
    let at = |x, y| serde_json::json!([{"x": x, "y": y, "width": 120, "height": 80}]);
    helper.expect_where("redactions", |e| e["areas"] == at(50, 60));
    // The window moves: the helper is told where the mask went.
    client.move_window(window, 300, 200).expect("move");
    helper.expect_where("redactions", |e| e["areas"] == at(300, 200));
    // Stop masking it: the mask is gone.
    host.proc.send("redact-window none");
    host.proc
        .expect_where("redactions", |e| e["windows"] == serde_json::json!([]));
    host.proc.send("end");
    assert_eq!(helper.finish().code(), 0);
    assert_eq!(host.proc.finish().code(), 0);
}

#[test]
fn the_clipboard_is_shared_only_when_the_policy_and_the_host_allow_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "allow_clipboard = true\n").expect("policy");
    let mut host = Host::start(&[
        "--size",
        "320x240",
        "--approve",
        "yes",
        "--policy",
        policy.to_str().expect("utf-8"),
    ]);
    let (token, password) = (host.token(), host.password());
    let mut helper = start_helper(&[
        "--token",
        &token,
        "--password",
        &password,
        "--copy",
        "from the helper",
    ]);
    helper.expect("connected");
    host.proc.expect("connected");
    host.proc.send("clipboard on");
    let sharing = helper.expect("clipboard_sharing");
    assert_eq!(sharing["enabled"], true);
    let copied = host.proc.expect("clipboard");
    assert_eq!(copied["text"], "from the helper");
    host.proc.send("copy from the host");
    let copied = helper.expect("clipboard");
    assert_eq!(copied["text"], "from the host");
    host.proc.send("end");
    assert_eq!(helper.finish().code(), 0);
    host.proc.finish();

    // Without the policy the host cannot turn it on and nothing flows.
    let mut host = Host::start(&["--size", "320x240", "--approve", "yes"]);
    let (token, password) = (host.token(), host.password());
    let mut helper = start_helper(&[
        "--token",
        &token,
        "--password",
        &password,
        "--copy",
        "secret",
    ]);
    helper.expect("connected");
    host.proc.expect("connected");
    host.proc.send("clipboard on");
    let refused = host.proc.expect("error");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("policy"),
        "{refused}"
    );
    host.proc.send("end");
    let helper = helper.finish();
    assert!(helper.events_named("clipboard_sharing").is_empty());
    assert!(host.proc.finish().events_named("clipboard").is_empty());
}

/// A policy file that allows the clipboard, in a directory kept for the test.
fn clipboard_policy() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "allow_clipboard = true\n").expect("policy");
    let path = policy.to_str().expect("utf-8").to_owned();
    (dir, path)
}

/// The test's own client of `display`'s clipboard (another program on that
/// desk), whose changes arrive on the receiver.
fn desk_clipboard(display: &str) -> (Clipboard, Receiver<String>) {
    let (tx, rx) = mpsc::channel();
    let clipboard = Clipboard::start(
        Some(display),
        Box::new(move |text| {
            let _ = tx.send(text);
        }),
    )
    .expect("the desk's clipboard");
    (clipboard, rx)
}

/// Waits for the next text that reached a desk's clipboard.
#[track_caller]
fn arrives(changes: &Receiver<String>) -> String {
    changes
        .recv_timeout(TIMEOUT)
        .unwrap_or_else(|e| panic!("no text reached the clipboard: {e}"))
}

/// The `text` fields of the events named `event`.
fn texts(events: &[serde_json::Value], event: &str) -> Vec<String> {
    support::named(events, event)
        .iter()
        .map(|e| e["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_system_clipboards_of_host_and_helper_are_kept_in_step() {
    let host_xvfb = Xvfb::start(320, 240).expect("Xvfb");
    let helper_xvfb = Xvfb::start(320, 240).expect("Xvfb");
    let (host_display, helper_display) = (host_xvfb.display(), helper_xvfb.display());
    let (_dir, policy) = clipboard_policy();
    // Other programs on each desk, copying and pasting.
    let (host_desk, host_changes) = desk_clipboard(&host_display);
    let (helper_desk, helper_changes) = desk_clipboard(&helper_display);

    let mut host = Host::start(&[
        "--capture",
        "screen",
        "--display",
        &host_display,
        "--approve",
        "yes",
        "--policy",
        &policy,
    ]);
    let (token, password) = (host.token(), host.password());
    let mut helper = Proc::spawn_with_env(
        "ra-helper",
        HELPER,
        &[
            "accept",
            "--json",
            "--token",
            &token,
            "--password",
            &password,
            "--clipboard",
            "system",
        ],
        false,
        &[("DISPLAY", &helper_display)],
    );
    helper.expect("connected");
    host.proc.expect("connected");

    // Copied before sharing is on: never sent.
    host_desk.set_text("before sharing").expect("copy");
    host.proc.send("clipboard on");
    host.proc.expect("clipboard_sharing");
    helper.expect("clipboard_sharing");

    host_desk.set_text("copied on the host ✓").expect("copy");
    assert_eq!(arrives(&helper_changes), "copied on the host ✓");
    helper_desk
        .set_text("copied on the helper\nsecond line")
        .expect("copy");
    assert_eq!(arrives(&host_changes), "copied on the helper\nsecond line");
    let pasted = host.proc.expect("clipboard");
    assert_eq!(pasted["text"], "copied on the helper\nsecond line");
    // Read back through the X server, as a paste would.
    assert_eq!(
        host_desk.text().expect("paste").as_deref(),
        Some("copied on the helper\nsecond line")
    );
    assert_eq!(
        helper_desk.text().expect("paste").as_deref(),
        Some("copied on the helper\nsecond line")
    );

    // Sharing off: copies stay on their desk.
    host.proc.send("clipboard off");
    helper.expect_where("clipboard_sharing", |e| e["enabled"] == false);
    helper_desk.set_text("after sharing").expect("copy");
    host.proc.send("end");
    let helper = helper.finish();
    assert_eq!(helper.code(), 0);
    let host = host.proc.finish();
    // Each text crossed once: an echo would have come back (and forth).
    assert_eq!(
        texts(&helper.events, "clipboard"),
        ["copied on the host ✓"],
        "{helper:#?}"
    );
    assert_eq!(
        texts(&host.events, "clipboard"),
        ["copied on the helper\nsecond line"],
        "{host:#?}"
    );
    assert_eq!(host.events_named("clipboard_sent").len(), 1, "{host:#?}");
    assert_eq!(
        helper.events_named("clipboard_sent").len(),
        1,
        "{helper:#?}"
    );
    assert!(host.events_named("error").is_empty(), "{host:#?}");
    assert!(helper.events_named("error").is_empty(), "{helper:#?}");
    drop((host_desk, helper_desk));
    assert!(
        host_changes.try_recv().is_err() && helper_changes.try_recv().is_err(),
        "nothing else reached the desks"
    );
}

#[test]
fn the_viewers_clipboard_follows_the_hosts_sharing() {
    let xvfb = Xvfb::start(800, 600).expect("Xvfb");
    let display = xvfb.display();
    let (_dir, policy) = clipboard_policy();
    let (desk, changes) = desk_clipboard(&display);
    let mut host = Host::start(&["--size", "320x240", "--approve", "yes", "--policy", &policy]);
    let (token, password) = (host.token(), host.password());
    let mut viewer = Proc::spawn_with_env(
        "ra-viewer",
        VIEWER,
        &[
            "--json",
            "--token",
            &token,
            "--password",
            &password,
            "--geometry",
            "320x240",
            "--close-on-end",
        ],
        false,
        &[("DISPLAY", &display)],
    );
    viewer.expect("connected");
    host.proc.expect("connected");
    host.proc.send("clipboard on");
    viewer.expect("clipboard_sharing");

    host.proc.send("copy from the host's stdin");
    assert_eq!(arrives(&changes), "from the host's stdin");
    let shown = viewer.expect("clipboard");
    assert_eq!(shown["text"], "from the host's stdin");
    desk.set_text("copied next to the viewer").expect("copy");
    let copied = host.proc.expect("clipboard");
    assert_eq!(copied["text"], "copied next to the viewer");

    host.proc.send("end");
    let viewer = viewer.finish();
    assert_eq!(viewer.code(), 0, "{viewer:#?}");
    assert_eq!(
        texts(&viewer.events, "clipboard"),
        ["from the host's stdin"]
    );
    assert_eq!(
        viewer.events_named("clipboard_sent").len(),
        1,
        "{viewer:#?}"
    );
    host.proc.finish();
}

/// Makes the 1280x480 screen of `xvfb` two monitors side by side, LEFT and
/// RIGHT (RandR's `--setmonitor`, which Xvfb supports).
fn split_into_two_monitors(xvfb: &Xvfb) {
    for (name, geometry) in [
        ("LEFT", "640/169x480/127+0+0"),
        ("RIGHT", "640/169x480/127+640+0"),
    ] {
        let status = std::process::Command::new("xrandr")
            .args(["--setmonitor", name, geometry, "none"])
            .env("DISPLAY", xvfb.display())
            .status()
            .expect("xrandr (x11-xserver-utils) is installed by scripts/setup.sh");
        assert!(status.success(), "xrandr --setmonitor {name}");
    }
}

#[test]
fn the_monitor_options_pick_what_is_shared_and_watched() {
    let xvfb = Xvfb::start(1280, 480).expect("Xvfb");
    split_into_two_monitors(&xvfb);
    let display = xvfb.display();
    // The host starts on RIGHT.
    let host = Host::start(&[
        "--capture",
        "screen",
        "--display",
        &display,
        "--monitor",
        "RIGHT",
        "--approve",
        "yes",
    ]);
    let (token, password) = (host.token(), host.password());
    // A still screen sends one picture (damage-driven), then nothing.
    let watcher =
        start_helper(&["--token", &token, "--password", &password, "--frames", "1"]).finish();
    assert_eq!(watcher.code(), 0, "{watcher:#?}");
    let displays = &watcher.events_named("displays")[0];
    let right = displays["displays"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["name"] == "RIGHT"))
        .unwrap_or_else(|| panic!("no RIGHT in {displays}"));
    assert_eq!(displays["selected"], right["id"], "{displays}");
    assert!(
        watcher
            .events_named("frame")
            .iter()
            .all(|f| f["width"] == 640 && f["height"] == 480),
        "{watcher:#?}"
    );

    assert_eq!(host.proc.finish().code(), 0);

    // A helper asking for all of them gets the whole screen.
    let host = Host::start(&[
        "--capture",
        "screen",
        "--display",
        &display,
        "--approve",
        "yes",
    ]);
    let (token, password) = (host.token(), host.password());
    // The first picture may come before the switch; the switch sends a
    // whole new one. `--duration` bounds the wait; the assertion needs one.
    let all = start_helper(&[
        "--token",
        &token,
        "--password",
        &password,
        "--monitor",
        "all",
        "--duration",
        "3s",
    ])
    .finish();
    assert_eq!(all.code(), 0, "{all:#?}");
    let frames = all.events_named("frame");
    assert!(
        frames
            .iter()
            .any(|f| f["width"] == 1280 && f["height"] == 480),
        "no whole-screen frame after --monitor all: {all:#?}"
    );
    assert_eq!(host.proc.finish().code(), 0);
}
