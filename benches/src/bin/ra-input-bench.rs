//! Input latency over QUIC on loopback, to a real X client.
//!
//! ```text
//! cargo run --release -p ra-benches --bin ra-input-bench [-- --events 10000]
//! ```
//!
//! Starts its own Xvfb, a host that injects with enigo, a helper with
//! control, and an X client that records what reaches it. Reports helper
//! `send_input` → event received by the X client, p50/p99 over one event at a
//! time (target p99 ≤ 1 ms), and how much a burst of 1,000 pointer moves delays
//! the click sent right after it (target ≤ 5 ms; moves may be merged, clicks
//! and keys never reordered).

use std::time::{Duration, Instant};

use ra_benches::stats::{ms, nearest_rank};
use ra_capture::NullCapturer;
use ra_capture::xvfb::Xvfb;
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder};
use ra_core::input::{InputEvent, MouseButton};
use ra_core::password::Password;
use ra_core::runtime::{AcceptOptions, HelperSession, HostBackends, InviteOptions, accept, invite};
use ra_core::session::{HelperEvent, HostEvent};
use ra_input::EnigoInjector;
use ra_input::x11::{EventKind, EventRecorder, RecorderTimeout};

/// A short message for a wait that gave up (the full event list is huge).
fn timed_out(e: RecorderTimeout) -> String {
    format!(
        "the X client did not receive the event in time ({} events recorded)",
        e.events.len()
    )
}

const STEP: Duration = Duration::from_secs(10);

async fn controlling_helper(display: &str) -> Result<HelperSession, String> {
    let backends = HostBackends::new(
        Box::new(NullCapturer::new()),
        Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        Box::new(EnigoInjector::new(Some(display)).map_err(|e| e.to_string())?),
    );
    let options = InviteOptions {
        listen: "127.0.0.1:0".parse().map_err(|_| "address")?,
        ..InviteOptions::default()
    };
    let mut host = invite(options, backends).await.map_err(|e| e.to_string())?;
    let invitation = host.invitation().clone();
    let password = Password::parse(&host.password().to_string()).map_err(|e| e.to_string())?;
    let helper = tokio::spawn(async move {
        accept(
            &invitation,
            &password,
            AcceptOptions::default(),
            Box::new(OpenH264Decoder::new().map_err(|e| e.to_string())?),
        )
        .await
        .map_err(|e| e.to_string())
    });
    // The host approves everything in the background.
    let (granted_tx, granted_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut granted = Some(granted_tx);
        while let Some(event) = host.next_event().await {
            match event {
                HostEvent::ConnectionRequest { conn, .. } => drop(host.approve(conn).await),
                HostEvent::ControlRequested { conn, .. } => {
                    drop(host.grant_control(conn).await);
                    if let Some(tx) = granted.take() {
                        let _ = tx.send(());
                    }
                }
                _ => {}
            }
        }
    });
    let mut helper = helper.await.map_err(|e| e.to_string())??;
    helper.request_control().await.map_err(|e| e.to_string())?;
    let _ = tokio::time::timeout(STEP, granted_rx).await;
    loop {
        match tokio::time::timeout(STEP, helper.next_event()).await {
            Ok(Some(ra_core::runtime::HelperSessionEvent::Session(
                HelperEvent::ControlGranted { .. },
            ))) => break,
            Ok(Some(_)) => {}
            _ => return Err("control was not granted".into()),
        }
    }
    Ok(helper)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), String> {
    let events: usize = std::env::args()
        .skip_while(|a| a != "--events")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let xvfb = Xvfb::start(1280, 720).map_err(|e| e.to_string())?;
    let display = xvfb.display();
    let recorder = EventRecorder::start(Some(&display)).map_err(|e| e.to_string())?;
    let helper = controlling_helper(&display).await?;
    recorder.clear();
    println!(
        "machine: {} cores; Xvfb {display} 1280x720; enigo injection; QUIC on loopback",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // One event at a time: moves to fresh positions, and key presses/releases.
    let mut latencies = Vec::with_capacity(events);
    for i in 0..events {
        // Keys now and then: the host limits presses to 200/s (burst 400),
        // and this loop runs far faster than a person types.
        let event = if i % 100 == 50 || i % 100 == 99 {
            InputEvent::Key {
                code: ra_core::keys::KeyCode(0x04),
                pressed: i % 100 == 50,
            }
        } else {
            InputEvent::PointerMove {
                x: (i % 1200) as i32 + 10,
                y: ((i / 1200) % 700) as i32 + 10,
            }
        };
        let seen = recorder.len();
        let sent = Instant::now();
        helper
            .send_input(vec![event])
            .await
            .map_err(|e| e.to_string())?;
        let got = recorder
            .wait_until(STEP, |all| all.len() > seen)
            .map_err(timed_out)?;
        let arrived = got[seen].received_at;
        latencies.push(arrived.saturating_duration_since(sent));
        if recorder.len() > 10_000 {
            recorder.clear();
        }
    }
    latencies.sort();
    println!();
    println!(
        "{:<58} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "helper send_input -> X client received (ms)", "n", "min", "p50", "p99", "max"
    );
    println!(
        "{:<58} {:>7} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
        "one event at a time (target p99 <= 1 ms)",
        latencies.len(),
        ms(latencies[0]),
        ms(nearest_rank(&latencies, 0.50)),
        ms(nearest_rank(&latencies, 0.99)),
        ms(latencies[latencies.len() - 1]),
    );

    // A click alone, then a click behind 1,000 moves sent as fast as possible.
    let click = || {
        vec![
            InputEvent::Button {
                button: MouseButton::Left,
                pressed: true,
            },
            InputEvent::Button {
                button: MouseButton::Left,
                pressed: false,
            },
        ]
    };
    let mut alone = Vec::new();
    let mut behind = Vec::new();
    let mut moves_seen = Vec::new();
    for round in 0..20 {
        recorder.clear();
        let sent = Instant::now();
        helper
            .send_input(click())
            .await
            .map_err(|e| e.to_string())?;
        // Wait for the release too, so it does not spill into the next round.
        let got = recorder
            .wait_until(STEP, |all| {
                all.iter().any(|e| e.kind == EventKind::ButtonRelease)
            })
            .map_err(timed_out)?;
        let press = got
            .iter()
            .find(|e| e.kind == EventKind::ButtonPress)
            .map(|e| e.received_at);
        alone.push(press.map_or(Duration::ZERO, |t| t.saturating_duration_since(sent)));

        recorder.clear();
        for i in 0..1000 {
            let x = (i * 7 + round) % 1200 + 10;
            helper
                .send_input(vec![InputEvent::PointerMove { x, y: 300 }])
                .await
                .map_err(|e| e.to_string())?;
        }
        let sent = Instant::now();
        helper
            .send_input(click())
            .await
            .map_err(|e| e.to_string())?;
        let got = recorder
            .wait_until(STEP, |all| {
                all.iter().any(|e| e.kind == EventKind::ButtonRelease)
            })
            .map_err(timed_out)?;
        let press_at = got.iter().position(|e| e.kind == EventKind::ButtonPress);
        let release_at = got.iter().position(|e| e.kind == EventKind::ButtonRelease);
        let Some(press_at) = press_at.filter(|p| release_at.is_some_and(|r| *p < r)) else {
            return Err("the click was reordered or lost".into());
        };
        if got[press_at..].iter().any(|e| e.kind == EventKind::Motion) {
            return Err("a move overtook the click".into());
        }
        moves_seen.push(got.iter().filter(|e| e.kind == EventKind::Motion).count());
        let press = got[press_at].received_at;
        behind.push(press.saturating_duration_since(sent));
    }
    alone.sort();
    behind.sort();
    let delay = nearest_rank(&behind, 0.50).saturating_sub(nearest_rank(&alone, 0.50));
    println!(
        "{:<58} {:>7} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
        "click alone",
        alone.len(),
        ms(alone[0]),
        ms(nearest_rank(&alone, 0.50)),
        ms(nearest_rank(&alone, 0.99)),
        ms(alone[alone.len() - 1])
    );
    println!(
        "{:<58} {:>7} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
        "click right after 1,000 moves (sent -> pressed)",
        behind.len(),
        ms(behind[0]),
        ms(nearest_rank(&behind, 0.50)),
        ms(nearest_rank(&behind, 0.99)),
        ms(behind[behind.len() - 1])
    );
    let mean_moves = moves_seen.iter().sum::<usize>() as f64 / moves_seen.len() as f64;
    let alone_p50 = nearest_rank(&alone, 0.50);
    let worst = behind[behind.len() - 1].saturating_sub(alone_p50);
    println!(
        "burst delay of the click over a lone click's p50 (target <= 5 ms): p50 {:.3} ms, p99 {:.3} ms, worst {:.3} ms; moves that reached the X client per burst: {mean_moves:.0} of 1000 (the rest merged)",
        ms(delay),
        ms(nearest_rank(&behind, 0.99).saturating_sub(alone_p50)),
        ms(worst)
    );
    Ok(())
}
