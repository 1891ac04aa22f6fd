//! The example programs on a real X server (a private Xvfb per test): the
//! host's local panic key and clipboard sharing.
#![cfg(target_os = "linux")]

#[allow(dead_code)] // Each test program uses part of the shared support.
mod support;

use ra_capture::xvfb::{XClient, Xvfb};
use support::{Host, helper as start_helper};

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
