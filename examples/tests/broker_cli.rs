//! The short-code flows of `ra-host` and `ra-helper` as real processes,
//! through a real `ra-broker` process on loopback: Easy Connect and Quick
//! Assist with frames and control (also on a real X screen, with the
//! helper's input injected there), and `ra-host diagnose`.

// Shared with cli.rs, which uses the parts this file does not.
#[allow(dead_code)]
mod support;

use std::path::PathBuf;

use ra_testkit::broker::BrokerProcess;
use serde_json::Value;
use support::{HELPER, HOST, Proc, TIMEOUT, named};

/// The `ra-broker` binary next to `ra-host` (built by `cargo test --workspace`
/// or `cargo build -p ra-broker`).
fn broker_binary() -> String {
    let path: PathBuf = std::path::Path::new(HOST)
        .parent()
        .expect("a directory")
        .join("ra-broker");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p ra-broker`",
        path.display()
    );
    path.to_str().expect("UTF-8 path").to_owned()
}

/// A broker on loopback and the options that reach it.
struct Broker {
    _process: BrokerProcess,
    args: Vec<String>,
}

impl Broker {
    fn start(extra: &[&str]) -> Broker {
        let binary = broker_binary();
        let mut args = vec!["--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let process = BrokerProcess::start(&binary, &args);
        Broker {
            args: vec![
                "--broker".into(),
                process.addr().to_string(),
                "--broker-fingerprint".into(),
                process.fingerprint().to_string(),
                "--bind".into(),
                "127.0.0.1:0".into(),
            ],
            _process: process,
        }
    }

    /// `subcommand --json` with the broker options, then `extra`.
    fn command<'a>(&'a self, subcommand: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec![subcommand, "--json"];
        all.extend(self.args.iter().map(String::as_str));
        all.extend_from_slice(extra);
        all
    }
}

fn code_of(event: &Value) -> String {
    let code = event["code"].as_str().expect("a code").to_owned();
    assert_eq!(code.len(), 15, "{code}");
    code
}

#[test]
fn easy_connect_with_frames_and_control() {
    let broker = Broker::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.txt");
    std::fs::write(&script, "move 10 20\nclick left\n").unwrap();
    let mut host = Proc::spawn(
        "ra-host",
        HOST,
        &broker.command(
            "easy-connect",
            &[
                "--size",
                "320x240",
                "--approve",
                "yes",
                "--approve-control",
                "yes",
                "--name",
                "Alice",
            ],
        ),
        true,
    );
    let code = code_of(&host.expect("code"));
    // Typed the way people type it.
    let typed = code.to_lowercase().replace('-', " ");
    let helper = Proc::spawn(
        "ra-helper",
        HELPER,
        &broker.command(
            "easy-connect",
            &[
                "--code",
                &typed,
                "--name",
                "Bob",
                "--frames",
                "3",
                "--input-script",
                script.to_str().unwrap(),
            ],
        ),
        false,
    );
    let request = host.expect("connection_request");
    assert_eq!(request["helper"], "Bob");
    host.expect("control_granted");
    host.expect_where("input", |e| e["input"]["type"] == "move");
    let helper = helper.finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    let connected = &helper.events_named("connected")[0];
    assert_eq!(connected["host"], "Alice");
    assert_eq!(connected["relayed"], false);
    assert!(helper.events_named("frame").len() >= 3);
    assert_eq!(helper.events_named("control_granted").len(), 1);
    host.expect("ended");
}

/// Easy Connect with the options of `invite` and `accept`: the host shares a
/// private Xvfb (`--capture screen`) and injects into it (`--inject
/// system`), the helper sends an input script once it has control; an X
/// client on that display receives the input.
#[cfg(target_os = "linux")]
#[test]
fn easy_connect_on_an_x_screen_injects_the_helpers_input() {
    use ra_input::x11::{EventKind, EventRecorder};

    let xvfb = ra_capture::xvfb::Xvfb::start(640, 480).expect("Xvfb");
    let display = xvfb.display();
    // The capturer only sends what changed: the desktop's box keeps moving
    // along the bottom of the screen, so frames keep coming.
    let _desktop = ra_examples::desktop::Desktop::start(&display).expect("a desktop");
    // The X client the helper's input is for: the top of the screen, clear
    // of the box, with the focus.
    let recorder =
        EventRecorder::with_geometry(Some(&display), 0, 0, 640, 300).expect("an event recorder");
    let broker = Broker::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.txt");
    std::fs::write(&script, "move 100 120\nclick left\ntype hi\n").unwrap();
    let mut host = Proc::spawn(
        "ra-host",
        HOST,
        &broker.command(
            "easy-connect",
            &[
                "--capture",
                "screen",
                "--inject",
                "system",
                "--display",
                &display,
                "--approve",
                "yes",
                "--approve-control",
                "yes",
            ],
        ),
        true,
    );
    let code = code_of(&host.expect("code"));
    let helper = Proc::spawn(
        "ra-helper",
        HELPER,
        &broker.command(
            "easy-connect",
            &[
                "--code",
                &code,
                "--request-control",
                "--input-script",
                script.to_str().unwrap(),
                "--frames",
                "5",
            ],
        ),
        false,
    );
    host.expect("control_granted");
    let events = recorder
        .wait_until(TIMEOUT, |events| {
            events
                .iter()
                .filter(|e| e.kind == EventKind::KeyRelease)
                .count()
                >= 2
        })
        .unwrap_or_else(|e| panic!("the helper's input did not reach the X client: {e}"));
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::Motion && (e.root_x, e.root_y) == (100, 120)),
        "{events:#?}"
    );
    let clicked = |kind| {
        events
            .iter()
            .any(|e| e.kind == kind && e.button() == Some(1) && (e.root_x, e.root_y) == (100, 120))
    };
    assert!(
        clicked(EventKind::ButtonPress) && clicked(EventKind::ButtonRelease),
        "{events:#?}"
    );
    let typed: String = events
        .iter()
        .filter(|e| e.kind == EventKind::KeyPress)
        .filter_map(|e| e.keysym_char())
        .collect();
    assert_eq!(typed, "hi", "{events:#?}");

    let helper = helper.finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    assert!(helper.events_named("frame").len() >= 5, "{helper:#?}");
    assert_eq!(helper.events_named("script_done").len(), 1, "{helper:#?}");
    let displays = &helper.events_named("displays")[0];
    assert_eq!(displays["displays"][0]["width"], 640, "{displays}");
    host.expect("ended");
    assert!(named(&host.seen, "error").is_empty(), "{:#?}", host.seen);
}

#[test]
fn quick_assist_with_frames_and_separate_control_approval() {
    let broker = Broker::start(&[]);
    let mut helper = Proc::spawn(
        "ra-helper",
        HELPER,
        &broker.command(
            "assist",
            &["--name", "Tech Bob", "--frames", "2", "--request-control"],
        ),
        false,
    );
    let code = code_of(&helper.expect("code"));
    let mut host = Proc::spawn(
        "ra-host",
        HOST,
        &broker.command(
            "join",
            &[
                "--code",
                &code,
                "--size",
                "320x240",
                "--approve",
                "ask",
                "--approve-control",
                "no",
            ],
        ),
        true,
    );
    host.expect("joined");
    // The host sees who asks, and decides.
    let request = host.expect("connection_request");
    assert_eq!(request["helper"], "Tech Bob");
    host.send("y");
    host.expect("control_requested");
    let helper = helper.finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    assert_eq!(helper.events_named("control_denied").len(), 1);
    assert!(helper.events_named("frame").len() >= 2);
    assert!(named(&host.seen, "control_granted").is_empty());
}

#[test]
fn a_wrong_code_is_refused_with_a_clear_exit_code() {
    let broker = Broker::start(&[]);
    let mut host = Proc::spawn(
        "ra-host",
        HOST,
        &broker.command("easy-connect", &["--size", "320x240", "--approve", "yes"]),
        true,
    );
    let code = code_of(&host.expect("code"));
    let wrong = format!(
        "{}{}",
        &code[..8],
        if &code[8..] == "000-000" {
            "111-111"
        } else {
            "000-000"
        }
    );
    let helper = Proc::spawn(
        "ra-helper",
        HELPER,
        &broker.command("easy-connect", &["--code", &wrong]),
        false,
    )
    .finish();
    helper.assert_clean_failure(3);
    let failed = host.expect("auth_failed");
    assert_eq!(failed["attempts"], 1);
    // Unknown codes get the uniform answer (exit 5: expired or closed).
    let unknown = Proc::spawn(
        "ra-helper",
        HELPER,
        &broker.command("easy-connect", &["--code", "000-000-000-000"]),
        false,
    )
    .finish();
    unknown.assert_clean_failure(5);
}

#[test]
fn diagnose_reports_a_ready_loopback() {
    let broker = Broker::start(&[]);
    let finished = Proc::spawn("ra-host", HOST, &broker.command("diagnose", &[]), false).finish();
    assert_eq!(finished.code(), 0, "{finished:#?}");
    let checks = finished.events_named("check");
    for name in [
        "udp_bind",
        "broker",
        "public_address",
        "nat_mapping",
        "firewall",
    ] {
        assert!(
            checks.iter().any(|c| c["name"] == name && c["ok"] == true),
            "{name}: {checks:#?}"
        );
    }
    let verdict = &finished.events_named("verdict")[0];
    assert_eq!(verdict["ok"], true);
    assert!(
        verdict["verdict"]
            .as_str()
            .unwrap()
            .starts_with("ready: direct"),
        "{verdict}"
    );
}
