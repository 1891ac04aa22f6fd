//! A hostile helper's flood against a real `ra-host` process over QUIC: the
//! host's memory stays within a stated bound, the session stays alive, and
//! what was dropped is counted.

mod support;

use std::time::{Duration, Instant};

use ra_codec::OpenH264Decoder;
use ra_core::invitation::Invitation;
use ra_core::password::Password;
use ra_core::runtime::{AcceptOptions, accept};
use ra_core::session::PointerKind;
use support::Host;

/// Messages of each kind the helper sends.
const FLOOD: u32 = 100_000;

/// How much the host's resident memory may grow, at its peak, over what it
/// held once the helper was let in: the bounded queues (network 4 MiB,
/// events 1024, audit 4096 records) and the allocator's slack.
const MEMORY_BOUND_KIB: u64 = 48 * 1024;

/// A `/proc/PID/status` figure in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read the host's status: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in the host's status"))
}

#[test]
fn a_flood_from_an_approved_view_only_helper_leaves_the_host_within_its_memory_bound() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let audit = dir.path().join("audit.jsonl");
    let mut host = Host::start(&[
        "--size",
        "320x240",
        "--approve",
        "yes",
        "--stats",
        "--audit-log",
        support::s(&audit),
    ]);
    let pid = host.proc.pid();
    let invitation = Invitation::from_token(&host.token()).expect("the host's token");
    let password = Password::parse(&host.password()).expect("the host's password");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let session = runtime
        .block_on(accept(
            &invitation,
            &password,
            AcceptOptions::default(),
            Box::new(OpenH264Decoder::new().expect("a decoder")),
        ))
        .expect("let in");
    host.proc.expect("connected");
    let baseline = status_kib(pid, "VmRSS");

    let line = "flood ".repeat(40);
    let started = Instant::now();
    let mut peak_seen = baseline;
    runtime.block_on(async {
        for i in 0..FLOOD {
            let x = i32::try_from(i % 320).unwrap_or(0);
            session.chat(line.as_str()).await.expect("chat sent");
            session
                .pointer(x, x % 240, PointerKind::Laser)
                .await
                .expect("pointer sent");
            session.request_keyframe().await.expect("keyframe asked");
            if i % 10_000 == 0 {
                peak_seen = peak_seen.max(status_kib(pid, "VmRSS"));
            }
        }
    });
    let sent_in = started.elapsed();

    // Alive: a chat line after the flood reaches the host (once the
    // flood's backlog is handled and the chat budget has a token again),
    // said every 300 ms until the host shows it.
    let session = std::sync::Arc::new(session);
    let repeat = {
        let session = std::sync::Arc::clone(&session);
        runtime.spawn(async move {
            for _ in 0..200 {
                if session.chat("after the flood").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    let after = host
        .proc
        .expect_where("chat", |e| e["text"] == "after the flood");
    repeat.abort();
    let stats = host
        .proc
        .expect_where("stats", |s| s["messages_dropped"].as_u64() > Some(0));
    let peak = status_kib(pid, "VmHWM");
    println!(
        "flood: {} messages sent in {:.1} s; host RSS {} KiB once let in, {} KiB at most sampled, peak {} KiB (+{} KiB); {} dropped so far by the host; first chat after: {after}",
        3 * FLOOD,
        sent_in.as_secs_f64(),
        baseline,
        peak_seen,
        peak,
        peak.saturating_sub(baseline),
        stats["messages_dropped"]
    );
    assert!(
        peak <= baseline + MEMORY_BOUND_KIB,
        "the host grew from {baseline} KiB to a peak of {peak} KiB under the flood"
    );
    // The helper says goodbye (a vanished one would keep the host waiting
    // out its outage grace).
    let _ = runtime.block_on(session.end());
    drop(session);
    runtime.shutdown_timeout(Duration::from_secs(5));
    let host = host.proc.finish();
    assert_eq!(host.code(), 0, "{host:#?}");
    // Chat lines are rate-limited before they are events or audit lines.
    let chats = host.events_named("chat").len();
    assert!(chats < 2_000, "{chats} chat events");
    let last_stats = host.events_named("stats");
    let dropped = last_stats
        .last()
        .and_then(|s| s["messages_dropped"].as_u64())
        .unwrap_or(0);
    assert!(
        dropped >= u64::from(3 * FLOOD) - 10_000,
        "only {dropped} messages dropped"
    );
    let log = std::fs::read_to_string(&audit).expect("the audit log");
    let chat_lines = log
        .lines()
        .filter(|l| l.contains("\"event\":\"chat\""))
        .count();
    assert!(
        chat_lines <= chats + 1,
        "{chat_lines} chat lines in the audit log"
    );
}
