//! The command-line contract of `ra-host` and `ra-helper`: both programs run as
//! real processes over loopback with `--json`, and the tests check their
//! events, exit codes, files and error messages.

mod support;

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use support::{AUDIT, Finished, HOST, Host, Proc, helper, named, position, run, s};
use tempfile::TempDir;

/// Host arguments for tests where the picture size does not matter (small
/// frames keep the encoder cheap on slow machines).
const SMALL: [&str; 2] = ["--size", "320x240"];

fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("ra-cli-test")
        .tempdir()
        .expect("temporary directory")
}

/// `SMALL` followed by `args`.
fn small<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = SMALL.to_vec();
    all.extend_from_slice(args);
    all
}

/// The event's `field` as a string (panics with the event otherwise).
fn str_field<'a>(event: &'a Value, field: &str) -> &'a str {
    event[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string {field:?} in {event}"))
}

/// Asserts that the events named in `order` appear in `events` in that order
/// (other events may come between).
#[track_caller]
fn assert_in_order(events: &[Value], order: &[&str]) {
    let mut from = 0;
    for name in order {
        match position(events, name, from) {
            Some(i) => from = i + 1,
            None => panic!("no {name:?} after position {from} (expected {order:?}) in {events:#?}"),
        }
    }
}

/// A password that parses but is not `password`: its first character changed
/// (the first character carries five full bits, so any symbol is valid there).
fn wrong_password(password: &str) -> String {
    let first = password.chars().next().expect("non-empty password");
    let other = if first == '7' { '8' } else { '7' };
    format!("{other}{}", &password[first.len_utf8()..])
}

/// Waits until the host prints an input event of type `release_all` after
/// position `from` of its events (it may have been printed already).
#[track_caller]
fn expect_release_all_after(host: &mut Proc, from: usize) {
    let is_release_all = |e: &Value| e["event"] == "input" && e["input"]["type"] == "release_all";
    if host.seen.iter().skip(from).any(is_release_all) {
        return;
    }
    host.expect_where("input", |e| e["input"]["type"] == "release_all");
}

/// Starts a helper on `host`'s token and password, with `args` besides.
fn helper_of(host: &Host, args: &[&str]) -> Proc {
    let (token, password) = (host.token(), host.password());
    let mut all = vec!["--token", token.as_str(), "--password", password.as_str()];
    all.extend_from_slice(args);
    helper(&all)
}

/// Once the helper has control, the host's stdin `command` takes it back for
/// `reason`: both sides say so, everything held is released, and the session
/// then ends cleanly.
#[track_caller]
fn revoke_with(mut host: Proc, mut helper: Proc, command: &str, reason: &str) {
    helper.expect("control_granted");
    host.expect("control_granted");
    let mark = host.seen.len();
    host.send(command);
    let revoked = helper.expect("control_revoked");
    assert_eq!(revoked["reason"], reason);
    let revoked = host.expect("control_revoked");
    assert_eq!(revoked["reason"], reason);
    expect_release_all_after(&mut host, mark);

    host.send("end");
    let helper = helper.finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    assert_in_order(
        &helper.events,
        &["connected", "control_granted", "control_revoked", "ended"],
    );
    let host = host.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, contents).expect("write a test file");
    path
}

// ---- 1. the whole flow ----

#[test]
fn full_flow_with_control_input_script_frames_and_snapshot() {
    let dir = temp_dir();
    let invitation = dir.path().join("invitation.rainv");
    let script = write(
        dir.path(),
        "script.txt",
        "# the helper's input\nmove 100 200\nclick left\nscroll 0 2\nwait 10ms\nkey ctrl+alt+t\ntype hello world\n",
    );
    let snapshot = dir.path().join("snapshot.png");

    // Default picture size (1280x720): the frames and the snapshot must have it.
    let mut host = Host::start(&[
        "--approve",
        "yes",
        "--approve-control",
        "yes",
        "--inject",
        "log",
        "--out",
        s(&invitation),
        "--name",
        "Alice's laptop",
    ]);
    assert_eq!(host.invitation["file"], s(&invitation));
    assert!(host.invitation["expires_at"].is_string());
    assert!(str_field(&host.invitation, "token").starts_with("ra1-"));
    let invitation_text = fs::read_to_string(&invitation).expect("invitation file written");
    assert!(invitation_text.contains("ra-invitation: 1"));
    assert!(
        !invitation_text.contains(&host.password()),
        "the invitation file holds the password"
    );

    let password = host.password();
    let helper = helper(&[
        "--invitation",
        s(&invitation),
        "--password",
        &password,
        "--name",
        "Bob",
        "--request-control",
        "--input-script",
        s(&script),
        "--frames",
        "20",
        "--snapshot",
        s(&snapshot),
    ])
    .finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    assert_in_order(&helper.events, &["connected", "control_granted", "ended"]);
    assert_eq!(helper.events_named("ended")[0]["reason"], "helper_ended");
    assert_eq!(helper.events[0]["event"], "connected", "{helper:#?}");
    assert_eq!(helper.events[0]["host"], "Alice's laptop");
    assert!(helper.events_named("control_denied").is_empty());
    let frames = helper.events_named("frame");
    assert!(frames.len() >= 20, "{} frames: {helper:#?}", frames.len());
    let mut last_seq = 0;
    for frame in &frames {
        assert_eq!(frame["width"], 1280, "{frame}");
        assert_eq!(frame["height"], 720, "{frame}");
        let seq = frame["seq"].as_u64().expect("seq");
        assert!(seq > last_seq, "frame seq not increasing: {frame}");
        last_seq = seq;
        assert!(frame["bytes"].as_u64().expect("bytes") > 0, "{frame}");
        assert!(frame["latency_ms"].as_f64().expect("latency_ms") >= 0.0);
    }

    // The host saw the whole session, then exits by itself.
    let request = host.proc.expect("connection_request");
    assert_eq!(request["helper"], "Bob");
    let peer: SocketAddr = str_field(&request, "peer").parse().expect("peer address");
    assert!(peer.ip().is_loopback(), "{request}");
    host.proc.expect("ended");
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    assert_in_order(
        &host.events,
        &[
            "invitation",
            "connection_request",
            "connected",
            "control_requested",
            "control_granted",
            "ended",
        ],
    );
    assert_eq!(host.events_named("ended")[0]["reason"], "helper_ended");

    // The script's input arrived whole and in order (releases of everything
    // held, at the end of the session, aside).
    let input: Vec<&Value> = host
        .events_named("input")
        .into_iter()
        .map(|e| &e["input"])
        .filter(|i| i["type"] != "release_all")
        .collect();
    let key = |key: &str, usage: u16, pressed: bool| json!({"type": "key", "key": key, "usage": usage, "pressed": pressed});
    let expected = vec![
        json!({"type": "move", "x": 100, "y": 200}),
        json!({"type": "button", "button": "left", "pressed": true}),
        json!({"type": "button", "button": "left", "pressed": false}),
        json!({"type": "wheel", "dx": 0, "dy": 240}),
        key("ctrl", 0xE0, true),
        key("alt", 0xE2, true),
        key("t", 0x17, true),
        key("t", 0x17, false),
        key("alt", 0xE2, false),
        key("ctrl", 0xE0, false),
        json!({"type": "text", "text": "hello world"}),
    ];
    assert_eq!(input, expected.iter().collect::<Vec<_>>(), "{host:#?}");

    // The snapshot is a real PNG of the screen's size, and not blank.
    let file = fs::File::open(&snapshot).expect("snapshot written");
    let mut reader = png::Decoder::new(file).read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("PNG data");
    assert_eq!((info.width, info.height), (1280, 720));
    let first = &pixels[..4];
    assert!(
        pixels.chunks_exact(4).any(|px| px != first),
        "the snapshot is one flat colour"
    );
}

// ---- 1b. a scoped, time-boxed grant ----

#[test]
fn a_pointer_only_grant_for_ten_minutes_injects_no_keys() {
    let dir = temp_dir();
    let script = write(
        dir.path(),
        "script.txt",
        "move 100 200\nkey a\ntype hello\nclick left\n",
    );
    let mut host = Host::start(&small(&[
        "--approve",
        "yes",
        "--approve-control",
        "yes",
        "--inject",
        "log",
        "--grant-scopes",
        "pointer",
        "--grant-for",
        "10m",
    ]));
    let helper = helper_of(
        &host,
        &[
            "--request-control",
            "--input-script",
            s(&script),
            "--frames",
            "5",
        ],
    )
    .finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    let granted = &helper.events_named("control_granted")[0];
    assert_eq!(granted["scopes"], json!(["pointer"]), "{granted}");
    assert_eq!(granted["expires_in_ms"], 600_000, "{granted}");
    let requested = host.proc.expect("control_requested");
    assert_eq!(
        requested["scopes"],
        json!(["pointer", "keyboard", "clipboard"])
    );
    let granted = host.proc.expect("control_granted");
    assert_eq!(granted["scopes"], json!(["pointer"]));
    assert!(granted["expires_at"].is_string(), "{granted}");
    host.proc.expect("ended");
    let host = host.proc.finish();
    let kinds: Vec<&str> = host
        .events_named("input")
        .into_iter()
        .filter_map(|e| e["input"]["type"].as_str())
        .filter(|t| *t != "release_all")
        .collect();
    assert_eq!(kinds, ["move", "button", "button"], "{host:#?}");
}

#[test]
fn grant_on_stdin_gives_the_scopes_and_time_typed() {
    let mut host = Host::start(&small(&["--approve", "yes", "--inject", "log"]));
    let mut helper = helper_of(&host, &["--request-control"]);
    host.proc.expect("control_requested");
    host.proc.send("grant bogus");
    assert!(
        host.proc.expect("error")["message"]
            .as_str()
            .is_some_and(|m| m.contains("neither scopes nor a duration"))
    );
    host.proc.send("grant keyboard 5m");
    let granted = host.proc.expect("control_granted");
    assert_eq!(granted["scopes"], json!(["keyboard"]));
    let granted = helper.expect("control_granted");
    assert_eq!(granted["expires_in_ms"], 300_000, "{granted}");
    host.proc.send("end");
    assert_eq!(helper.finish().code(), 0);
    assert_eq!(host.proc.finish().code(), 0);
}

#[test]
fn redact_masks_part_of_the_screen_and_stdin_changes_it() {
    let dir = temp_dir();
    let audit = dir.path().join("audit.jsonl");
    let mut host = Host::start(&small(&[
        "--approve",
        "yes",
        "--redact",
        "10,20,30,40",
        "--audit-log",
        audit.to_str().unwrap(),
    ]));
    let mask = json!([{"x": 10, "y": 20, "width": 30, "height": 40}]);
    assert_eq!(host.proc.expect("redactions")["areas"], mask);
    let mut helper = helper_of(&host, &[]);
    // The first display starts at the desktop's origin: the same place in
    // the helper's picture.
    assert_eq!(helper.expect("redactions")["areas"], mask);
    host.proc.send("redact 1,2");
    assert!(
        host.proc.expect("error")["message"]
            .as_str()
            .is_some_and(|m| m.contains("X,Y,W,H")),
    );
    host.proc.send("redact 0,0,8,8 100,100,16,16");
    // (The helper may hear the first mask again as the displays are told.)
    helper.expect_where("redactions", |e| {
        e["areas"].as_array().map(Vec::len) == Some(2)
    });
    host.proc.send("redact none");
    host.proc
        .expect_where("redactions", |e| e["areas"] == json!([]));
    helper.expect_where("redactions", |e| e["areas"] == json!([]));
    host.proc.send("end");
    assert_eq!(helper.finish().code(), 0);
    assert_eq!(host.proc.finish().code(), 0);
    let log = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(log.matches("\"event\":\"redactions\"").count(), 3, "{log}");
    // An empty rectangle is a usage error.
    let bad = run(
        "ra-host",
        HOST,
        &["invite", "--json", "--redact", "0,0,0,5"],
    );
    assert_eq!(bad.code(), 2, "{bad:#?}");
}

// ---- 2. asking on stdin; chat, pause, resume, end ----

#[test]
fn ask_on_stdin_then_chat_pause_resume_and_end() {
    let dir = temp_dir();
    let invitation = dir.path().join("invitation.rainv");
    let mut host = Host::start(&small(&[
        "--approve",
        "ask",
        "--approve-control",
        "ask",
        "--out",
        s(&invitation),
    ]));
    let password = host.password();
    let mut helper = helper(&[
        "--invitation",
        s(&invitation),
        "--password",
        &password,
        "--name",
        "Bob",
        "--request-control",
    ]);

    let request = host.proc.expect("connection_request");
    assert_eq!(request["helper"], "Bob");
    host.proc.send("y");
    host.proc.expect("connected");
    let connected = helper.expect("connected");
    assert_eq!(
        helper.seen.len(),
        1,
        "events before connected: {:?}",
        helper.seen
    );
    assert_eq!(connected["host"], "ra host");

    host.proc.expect("control_requested");
    host.proc.send("n");
    let denied = helper.expect("control_denied");
    assert_eq!(denied["reason"], "by_user");
    host.proc.expect("control_denied");

    host.proc.send("chat hello");
    let chat = helper.expect("chat");
    assert_eq!(chat["text"], "hello");

    host.proc.send("pause");
    helper.expect("paused");
    host.proc.expect("paused");
    host.proc.send("resume");
    helper.expect("resumed");
    host.proc.expect("resumed");

    host.proc.send("end");
    let ended = helper.expect("ended");
    assert_eq!(ended["reason"], "host_ended");
    let helper = helper.finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    assert!(helper.events_named("control_granted").is_empty());
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    assert_eq!(host.events_named("ended")[0]["reason"], "host_ended");
}

// ---- 3. revoking control ----

#[test]
fn revoke_takes_control_back_and_releases_everything() {
    let host = Host::start(&small(&["--approve", "yes", "--approve-control", "yes"]));
    let helper = helper_of(&host, &["--request-control"]);
    revoke_with(host.proc, helper, "revoke", "by_user");
}

// ---- 4. the token instead of the file ----

#[test]
fn token_flow() {
    let host = Host::start(&small(&["--token", "--approve", "yes"]));
    let token = host.token();
    // The password as a person might type it: lower case, no dashes.
    let password = host.password().replace('-', "").to_lowercase();
    let helper = helper(&["--token", &token, "--password", &password, "--frames", "3"]).finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    assert_eq!(helper.events[0]["event"], "connected", "{helper:#?}");
    let frames = helper.events_named("frame");
    assert!(frames.len() >= 3, "{helper:#?}");
    assert!(
        frames
            .iter()
            .all(|f| f["width"] == 320 && f["height"] == 240),
        "{helper:#?}"
    );
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    assert_in_order(&host.events, &["connection_request", "connected", "ended"]);
    assert_eq!(
        host.events_named("connection_request")[0]["helper"],
        "ra helper"
    );
}

// ---- 5. wrong password ----

#[test]
fn wrong_password_exits_3_and_the_host_counts_the_attempt() {
    let mut host = Host::start(&small(&["--approve", "yes"]));
    let password = wrong_password(&host.password());
    let token = host.token();
    let helper = helper(&["--token", &token, "--password", &password]).finish();
    helper.assert_clean_failure(3);
    assert!(helper.events_named("connected").is_empty(), "{helper:#?}");
    assert!(helper.stderr.contains("password"), "{helper:#?}");

    let failed = host.proc.expect("auth_failed");
    assert_eq!(failed["attempts"], 1, "{failed}");
    let peer: SocketAddr = str_field(&failed, "peer").parse().expect("peer address");
    assert!(peer.ip().is_loopback());
    assert!(named(&host.proc.seen, "connection_request").is_empty());
    assert!(named(&host.proc.seen, "connected").is_empty());
}

#[test]
fn five_wrong_passwords_close_the_invitation() {
    let mut host = Host::start(&small(&["--approve", "yes"]));
    let password = host.password();
    let wrong = wrong_password(&password);
    let token = host.token();
    for attempt in 1..=5 {
        let helper = helper(&["--token", &token, "--password", &wrong]).finish();
        helper.assert_clean_failure(3);
        let failed = host.proc.expect("auth_failed");
        assert_eq!(failed["attempts"], attempt, "{failed}");
    }
    let closed = host.proc.expect("invitation_closed");
    assert_eq!(closed["reason"], "too_many_failures", "{closed}");
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    assert!(host.events_named("connection_request").is_empty());

    // The right password is no use any more: nobody is listening.
    let late = helper(&["--token", &token, "--password", &password]).finish();
    late.assert_clean_failure(6);
    assert!(late.events_named("connected").is_empty(), "{late:#?}");
}

// ---- 6. the host says no ----

#[test]
fn denied_connection_exits_4() {
    let mut host = Host::start(&small(&["--approve", "no"]));
    let password = host.password();
    let token = host.token();
    let helper = helper(&["--token", &token, "--password", &password]).finish();
    helper.assert_clean_failure(4);
    assert!(helper.events_named("connected").is_empty(), "{helper:#?}");

    host.proc.expect("connection_request");
    let ended = host.proc.expect("ended");
    assert_eq!(ended["reason"], "denied");
    assert!(named(&host.proc.seen, "connected").is_empty());
}

// ---- 7. bad invitations, tokens and usage ----

/// Replaces the value of every `key:` line of an invitation file.
fn with_line(text: &str, key: &str, value: &str) -> String {
    let prefix = format!("{key}:");
    let mut found = false;
    let out: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with(&prefix) {
                found = true;
                format!("{key}: {value}")
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(found, "no {key:?} line in {text}");
    out.join("\n") + "\n"
}

#[test]
fn bad_invitations_tokens_and_usage_fail_cleanly() {
    let dir = temp_dir();
    let valid_path = dir.path().join("valid.rainv");
    // A real invitation file; its host is stopped at once.
    drop(Host::start(&small(&["--out", s(&valid_path)])));
    let valid = fs::read_to_string(&valid_path).expect("invitation file written");

    // Deterministic garbage, not UTF-8.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..700)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8 | 0x80
        })
        .collect();
    let corrupted = write(dir.path(), "corrupted.rainv", &garbage);
    let truncated = write(
        dir.path(),
        "truncated.rainv",
        &valid.as_bytes()[..valid.len() / 2],
    );
    let oversized = write(
        dir.path(),
        "oversized.rainv",
        format!("{valid}# {}\n", "x".repeat(17 * 1024)),
    );
    let typo = write(
        dir.path(),
        "typo.rainv",
        valid.replace("host-name:", "hostname:"),
    );
    let typo_line = 1 + valid
        .lines()
        .position(|l| l.starts_with("host-name:"))
        .expect("a host-name line");
    let typo_message = format!("line {typo_line}: unknown key `hostname`");
    let empty = write(dir.path(), "empty.rainv", "");
    let expired = write(
        dir.path(),
        "expired.rainv",
        with_line(
            &with_line(&valid, "created", "2020-01-01T00:00:00Z"),
            "expires",
            "2020-01-01T06:00:00Z",
        ),
    );
    // A valid invitation whose address answers nothing: a UDP socket that
    // this test holds and never reads.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    let silent_addr = silent.local_addr().expect("local address").to_string();
    let unreachable = write(
        dir.path(),
        "unreachable.rainv",
        with_line(&valid, "address", &silent_addr),
    );
    let missing = dir.path().join("no-such-file.rainv");
    let pw = "ABCD-EFGH-JKMN0";

    let file_case = |path: &Path| helper(&["--invitation", s(path), "--password", pw]);
    // Started together: the unreachable one takes the 5 s connect timeout.
    let cases: Vec<(&str, Proc, i32, &str)> = vec![
        ("unreachable", file_case(&unreachable), 6, "unreachable"),
        ("corrupted", file_case(&corrupted), 2, "invalid invitation"),
        ("truncated", file_case(&truncated), 2, "invalid invitation"),
        ("oversized", file_case(&oversized), 2, "too large"),
        ("typo", file_case(&typo), 2, &typo_message),
        ("empty", file_case(&empty), 2, "invalid invitation"),
        ("missing", file_case(&missing), 2, "invalid invitation"),
        ("expired", file_case(&expired), 5, "expired"),
        (
            "bad token",
            helper(&["--token", "ra1-this*is*not*a*token", "--password", pw]),
            2,
            "token",
        ),
        (
            "not a token",
            helper(&["--token", "hello", "--password", pw]),
            2,
            "token",
        ),
        (
            "no password",
            helper(&["--invitation", s(&valid_path)]),
            2,
            "--password",
        ),
        (
            "no invitation",
            helper(&["--password", pw]),
            2,
            "--invitation",
        ),
    ];
    for (name, proc, code, needle) in cases {
        let finished: Finished = proc.finish();
        assert_eq!(finished.code(), code, "{name}: {finished:#?}");
        finished.assert_clean_failure(code);
        assert!(
            finished.stderr.to_lowercase().contains(needle),
            "{name}: stderr does not mention {needle:?}: {finished:#?}"
        );
        assert!(
            finished.events_named("connected").is_empty(),
            "{name}: {finished:#?}"
        );
    }
    drop(silent);
}

// ---- 8. policy ----

#[test]
fn policy_file_with_a_typo_names_the_line() {
    let dir = temp_dir();
    let policy = write(
        dir.path(),
        "policy.toml",
        "allow_assistance = true\nalow_control = true\n",
    );
    let host = run(
        "ra-host",
        HOST,
        &[
            "invite",
            "--json",
            "--listen",
            "127.0.0.1:0",
            "--policy",
            s(&policy),
        ],
    );
    assert_ne!(host.code(), 0, "{host:#?}");
    assert!(!host.stderr.contains("panicked"), "{host:#?}");
    assert!(host.stderr.contains("line 2"), "{host:#?}");
    assert!(host.stderr.contains("alow_control"), "{host:#?}");
    assert!(host.events_named("invitation").is_empty(), "{host:#?}");
}

#[test]
fn policy_without_control_denies_requests_without_asking() {
    let dir = temp_dir();
    let policy = write(dir.path(), "policy.toml", "allow_control = false\n");
    let mut host = Host::start(&small(&[
        "--policy",
        s(&policy),
        "--approve",
        "yes",
        "--approve-control",
        "yes",
    ]));
    let mut helper = helper_of(&host, &["--request-control"]);
    let denied = helper.expect("control_denied");
    assert_eq!(denied["reason"], "policy");
    host.proc.send("end");
    let helper = helper.finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    assert!(helper.events_named("control_granted").is_empty());
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    assert!(
        host.events_named("control_requested").is_empty(),
        "{host:#?}"
    );
    assert!(host.events_named("control_granted").is_empty(), "{host:#?}");
    // Nothing but the releases of everything held (which are harmless).
    assert!(
        host.events_named("input")
            .iter()
            .all(|e| e["input"]["type"] == "release_all"),
        "{host:#?}"
    );
}

#[test]
fn a_policy_change_while_running_revokes_control() {
    let dir = temp_dir();
    let policy = write(dir.path(), "policy.toml", "allow_control = false\n");
    let host = Host::start(&small(&[
        "--approve",
        "yes",
        "--approve-control",
        "yes",
        "--inject",
        "log",
    ]));
    let helper = helper_of(&host, &["--request-control"]);
    revoke_with(
        host.proc,
        helper,
        &format!("policy {}", s(&policy)),
        "policy",
    );
}

#[test]
fn helper_chat_and_duration() {
    let host = Host::start(&small(&["--approve", "yes"]));
    let helper = helper_of(
        &host,
        &["--chat", "hello from the helper", "--duration", "1s"],
    )
    .finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    assert_in_order(&helper.events, &["connected", "ended"]);
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    assert_in_order(&host.events, &["connected", "chat", "ended"]);
    assert_eq!(
        host.events_named("chat")[0]["text"],
        "hello from the helper"
    );
    assert_eq!(host.events_named("ended")[0]["reason"], "helper_ended");
}

#[test]
fn stats_once_a_second_on_both_sides() {
    let host = Host::start(&small(&["--approve", "yes", "--stats"]));
    let helper = helper_of(&host, &["--stats", "--duration", "2500ms"]).finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    let stats = helper.events_named("stats");
    assert!(stats.len() >= 2, "{helper:#?}");
    let last = stats[stats.len() - 1];
    assert!(last["frames_decoded"].as_u64().unwrap() > 0, "{last}");
    assert!(last["decode_us_mean"].as_u64().unwrap() > 0, "{last}");
    assert!(last["bytes_received"].as_u64().unwrap() > 0, "{last}");
    let rtt = last["rtt_us"].as_u64().expect("an rtt");
    assert!(rtt > 0 && rtt < 1_000_000, "{last}");
    assert!(last["target_bitrate"].as_u64().unwrap() > 0, "{last}");
    assert_eq!(last["frames_sent"], 0);
    // Counters only grow.
    assert!(stats[0]["bytes_received"].as_u64() <= last["bytes_received"].as_u64());

    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    let stats = host.events_named("stats");
    let last = stats
        .last()
        .unwrap_or_else(|| panic!("no stats: {host:#?}"));
    assert!(last["frames_sent"].as_u64().unwrap() > 0, "{last}");
    assert!(last["encode_us_mean"].as_u64().unwrap() > 0, "{last}");
    assert!(last["bytes_sent"].as_u64().unwrap() > 0, "{last}");
    assert!(last["target_frame_rate"].as_f64().unwrap() > 0.0, "{last}");
}

#[test]
fn help_explains_every_flag_of_the_contract() {
    let help = |program: &str, args: &[&str]| {
        let out = std::process::Command::new(program)
            .args(args)
            .output()
            .expect("run --help");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).expect("UTF-8 help")
    };
    let host = help(HOST, &["invite", "--help"]);
    for flag in [
        "--out",
        "--token",
        "--email",
        "--to",
        "--lifetime",
        "--listen",
        "--capture",
        "--inject",
        "--approve",
        "--approve-control",
        "--grant-scopes",
        "--grant-for",
        "--policy",
        "--audit-log",
        "--name",
        "--stats",
        "--json",
    ] {
        assert!(
            host.contains(flag),
            "ra-host invite --help lacks {flag}:\n{host}"
        );
    }
    let helper = help(support::HELPER, &["accept", "--help"]);
    for flag in [
        "--invitation",
        "--token",
        "--password",
        "--name",
        "--request-control",
        "--frames",
        "--snapshot",
        "--input-script",
        "--duration",
        "--stats",
        "--json",
    ] {
        assert!(
            helper.contains(flag),
            "ra-helper accept --help lacks {flag}:\n{helper}"
        );
    }
    // Each flag comes with its explanation, not just its name.
    for explanation in [
        "Ask the host for control once connected",
        "Stop after this long",
    ] {
        assert!(helper.contains(explanation), "{helper}");
    }
}

#[test]
fn policy_without_assistance_refuses_to_invite() {
    let dir = temp_dir();
    let invitation = dir.path().join("invitation.rainv");
    let policy = write(dir.path(), "policy.toml", "allow_assistance = false\n");
    let host = run(
        "ra-host",
        HOST,
        &[
            "invite",
            "--json",
            "--listen",
            "127.0.0.1:0",
            "--policy",
            s(&policy),
            "--out",
            s(&invitation),
        ],
    );
    assert_ne!(host.code(), 0, "{host:#?}");
    assert!(!host.stderr.contains("panicked"), "{host:#?}");
    assert!(
        host.stderr.contains("remote assistance is turned off"),
        "{host:#?}"
    );
    assert!(host.events_named("invitation").is_empty(), "{host:#?}");
    assert!(!invitation.exists(), "an invitation was written");
}

// ---- 9. email ----

#[test]
fn email_invitation_has_the_attachment_and_no_password() {
    let dir = temp_dir();
    let eml = dir.path().join("invitation.eml");
    let mut host = Host::start(&small(&[
        "--email",
        s(&eml),
        "--to",
        "a@example.com",
        "--lifetime",
        "10m",
    ]));
    let expires = str_field(&host.invitation, "expires_at");
    let expires = humantime::parse_rfc3339(expires).expect("expires_at is RFC 3339");
    let lifetime = expires
        .duration_since(SystemTime::now())
        .expect("expires in the future");
    assert!(
        lifetime > Duration::from_secs(9 * 60) && lifetime <= Duration::from_secs(10 * 60),
        "--lifetime 10m gave {lifetime:?}"
    );
    let mailto = str_field(&host.invitation, "mailto");
    assert!(mailto.starts_with("mailto:"), "{mailto}");
    assert!(mailto.contains("a@example.com"), "{mailto}");
    assert_eq!(host.invitation["email"], s(&eml));

    let text = fs::read_to_string(&eml).expect("the .eml is written");
    assert!(text.contains("invitation.rainv"), "{text}");
    let to = text
        .lines()
        .find(|l| l.starts_with("To:"))
        .unwrap_or_else(|| panic!("no To: header in {text}"));
    let recipient = to["To:".len()..]
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    assert_eq!(recipient, "a@example.com", "{to}");
    let password = host.password();
    assert!(!text.contains(&password), "the email holds the password");
    assert!(
        !text.contains(&password.replace('-', "")),
        "the email holds the password"
    );
    assert!(
        !mailto.contains(&password.replace('-', "")),
        "the mailto holds the password"
    );

    // `quit` stops a host that has no session.
    host.proc.send("quit");
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
}

// ---- 10. audit log ----

#[test]
fn audit_log_records_the_session() {
    let dir = temp_dir();
    let audit = dir.path().join("audit.jsonl");
    let mut host = Host::start(&small(&[
        "--audit-log",
        s(&audit),
        "--approve",
        "yes",
        "--approve-control",
        "yes",
    ]));
    let password = host.password();
    let token = host.token();
    let mut helper = helper(&[
        "--token",
        &token,
        "--password",
        &password,
        "--name",
        "Bob",
        "--request-control",
    ]);
    helper.expect("control_granted");
    host.proc.expect("control_granted");
    host.proc.send("revoke");
    helper.expect("control_revoked");
    host.proc.expect("control_revoked");
    host.proc.send("end");
    let helper = helper.finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");

    let text = fs::read_to_string(&audit).expect("the audit log is written");
    assert!(text.ends_with('\n'), "{text}");
    let records: Vec<Value> = text
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {line}"));
            assert!(record.is_object(), "{line}");
            let ts = str_field(&record, "ts");
            assert!(ts.ends_with('Z') && ts.len() >= 20, "{line}");
            assert!(record["event"].is_string(), "{line}");
            record
        })
        .collect();
    assert_in_order(
        &records,
        &[
            "invitation_opened",
            "connection_request",
            "approved",
            "control_requested",
            "control_granted",
            "control_revoked",
            "ended",
        ],
    );
    assert_eq!(named(&records, "connection_request")[0]["helper"], "Bob");
    assert_eq!(named(&records, "approved")[0]["helper"], "Bob");
    assert_eq!(named(&records, "ended")[0]["reason"], "host_ended");
    let session_id = &host.events_named("invitation")[0]["session_id"];
    assert!(
        records.iter().all(|r| &r["session_id"] == session_id),
        "{records:#?}"
    );

    // The log's chain holds…
    let verified = run("ra-audit", AUDIT, &["verify", "--json", s(&audit)]);
    assert_eq!(verified.code(), 0, "{verified:#?}");
    let summary = &verified.events_named("verified")[0];
    assert_eq!(summary["lines"], records.len());
    assert_eq!(summary["sessions"][0]["session_id"], *session_id);
    // …and breaks where a line was edited, or deleted.
    let lines: Vec<&str> = text.lines().collect();
    let approved = position(&records, "approved", 0).expect("approved");
    let mut edited = lines.clone();
    let forged = lines[approved].replace("Bob", "Eve");
    edited[approved] = &forged;
    let tampered = dir.path().join("tampered.jsonl");
    for (kind, changed, broken_line) in [
        ("edited", edited, approved + 2),
        (
            "deleted",
            [&lines[..approved], &lines[approved + 1..]].concat(),
            approved + 1,
        ),
    ] {
        fs::write(&tampered, changed.join("\n") + "\n").expect("write");
        let broken = run("ra-audit", AUDIT, &["verify", "--json", s(&tampered)]);
        assert_eq!(broken.code(), 1, "{kind}: {broken:#?}");
        assert_eq!(
            broken.events_named("broken")[0]["line"],
            broken_line,
            "{kind}: {broken:#?}"
        );
    }
    let missing = run("ra-audit", AUDIT, &["verify", "/nonexistent/audit.jsonl"]);
    assert_eq!(missing.code(), 2, "{missing:#?}");
}

// ---- 11. the port is taken ----

#[test]
fn port_in_use_fails_with_the_address() {
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    let addr = taken.local_addr().expect("local address").to_string();
    let host = run(
        "ra-host",
        HOST,
        &["invite", "--json", "--listen", &addr, "--size", "320x240"],
    );
    assert_ne!(host.code(), 0, "{host:#?}");
    assert!(!host.stderr.contains("panicked"), "{host:#?}");
    assert!(host.stderr.contains(&addr), "{host:#?}");
    let errors = host.events_named("error");
    assert!(
        errors
            .iter()
            .any(|e| str_field(e, "message").contains(&addr)),
        "{host:#?}"
    );
    assert!(host.events_named("invitation").is_empty(), "{host:#?}");
    drop(taken);
}
