//! Password entered → first frame decoded, on loopback: each run a fresh
//! invitation, a host application that approves at once, and a helper that
//! waits for its first frame.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder};
use ra_core::password::Password;
use ra_core::runtime::{
    AcceptOptions, HelperSessionEvent, HostBackends, HostSession, InviteOptions, accept, invite,
};
use ra_core::session::HostEvent;
use ra_input::NullInjector;
use tokio::sync::{mpsc, oneshot};

use super::Args;
use super::probes::{Probe, ProbedCapturer, ProbedDecoder, ProbedEncoder};

/// How long any single step of a connection run may take before the run is
/// counted as failed (so the bench always stops by itself).
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// One connection run, every mark relative to `t0` (just before `accept`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectRun {
    /// `invite` itself (TLS key generation, binding, thread start), before t0.
    pub(crate) invite: Duration,
    /// t0 → the host application sees the connection request (QUIC + TLS
    /// handshake, SPAKE2 password proof, helper hello).
    pub(crate) request_seen: Duration,
    /// t0 → the host's `approve` call returned.
    pub(crate) approved: Duration,
    /// t0 → `accept` returned (the helper learnt of the approval).
    pub(crate) accepted: Duration,
    /// t0 → the first `HelperSessionEvent::Frame` (t1).
    pub(crate) first_frame: Duration,
    /// t0 → the host's capturer delivered its first picture.
    pub(crate) captured: Duration,
    /// t0 → the host's encoder started on it.
    pub(crate) encode_start: Duration,
    /// t0 → the host's encoder finished it.
    pub(crate) encoded: Duration,
    /// t0 → the helper's decoder started on it.
    pub(crate) decode_start: Duration,
    /// t0 → the helper's decoder finished it.
    pub(crate) decoded: Duration,
    /// The first frame's capture → decoded latency as the engine reports it.
    pub(crate) frame_latency: Duration,
    /// The host's sequence number of the first decoded frame (1 unless
    /// frames were dropped before it).
    pub(crate) first_seq: u64,
    /// Encoded size of the first frame in bytes.
    pub(crate) first_bytes: usize,
}

/// What the approving host task reports back.
#[derive(Debug, Default, Clone, Copy)]
struct HostMarks {
    /// When the connection request reached the application.
    request_seen: Option<Instant>,
    /// When `approve` returned.
    approved: Option<Instant>,
}

/// The host application: approves every connection request at once, notes
/// when, and ends everything (by dropping the session) when told to stop.
async fn approve_everything(
    mut host: HostSession,
    mut stop: oneshot::Receiver<()>,
    marks: mpsc::UnboundedSender<HostMarks>,
) {
    loop {
        tokio::select! {
            _ = &mut stop => break,
            event = host.next_event() => match event {
                None => break,
                Some(HostEvent::ConnectionRequest { conn, .. }) => {
                    let request_seen = Instant::now();
                    let result = host.approve(conn).await;
                    let approved = Instant::now();
                    if let Err(e) = result {
                        eprintln!("approve failed: {e}");
                    }
                    let _ = marks.send(HostMarks {
                        request_seen: Some(request_seen),
                        approved: Some(approved),
                    });
                }
                Some(_) => {}
            },
        }
    }
    // Dropping the handle ends the session and closes the invitation.
    drop(host);
}

/// Opens a fresh invitation, connects a helper with its password and waits
/// for the first decoded frame.
async fn connect_once(width: u32, height: u32) -> Result<ConnectRun, String> {
    let probe = Arc::new(Probe::default());
    let backends = HostBackends::new(
        Box::new(ProbedCapturer {
            inner: SyntheticCapturer::new(SyntheticConfig {
                width,
                height,
                frame_rate: 30.0,
            }),
            probe: probe.clone(),
        }),
        Box::new(ProbedEncoder {
            inner: OpenH264Encoder::new(EncoderSettings::default()),
            probe: probe.clone(),
        }),
        Box::new(NullInjector::new()),
    );
    let options = InviteOptions {
        host_name: "bench host".into(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..InviteOptions::default()
    };
    let invite_start = Instant::now();
    let host = invite(options, backends)
        .await
        .map_err(|e| format!("invite: {e}"))?;
    let invite_time = invite_start.elapsed();

    // What the helper gets: the invitation, and the password as typed.
    let invitation = host.invitation().clone();
    let typed = host.password().to_string();
    let password = Password::parse(&typed).map_err(|e| format!("password: {e}"))?;
    let decoder = Box::new(ProbedDecoder {
        inner: OpenH264Decoder::new().map_err(|e| format!("decoder: {e}"))?,
        probe: probe.clone(),
    });
    let accept_options = AcceptOptions {
        helper_name: "bench helper".into(),
        connect_timeout: Duration::from_secs(5),
        approval_timeout: Duration::from_secs(30),
        ..AcceptOptions::default()
    };

    let (stop_tx, stop_rx) = oneshot::channel();
    let (marks_tx, mut marks_rx) = mpsc::unbounded_channel();
    let approver = tokio::spawn(approve_everything(host, stop_rx, marks_tx));

    let result = async {
        let t0 = Instant::now();
        let mut helper = tokio::time::timeout(
            STEP_TIMEOUT,
            accept(&invitation, &password, accept_options, decoder),
        )
        .await
        .map_err(|_| "accept timed out".to_owned())?
        .map_err(|e| format!("accept: {e}"))?;
        let accepted = t0.elapsed();
        let frame = loop {
            match tokio::time::timeout(STEP_TIMEOUT, helper.next_event()).await {
                Err(_) => return Err("no frame in time".to_owned()),
                Ok(None) => return Err("session ended before a frame".to_owned()),
                Ok(Some(HelperSessionEvent::Frame(frame))) => break frame,
                Ok(Some(_)) => {}
            }
        };
        let first_frame = t0.elapsed();
        let marks = tokio::time::timeout(STEP_TIMEOUT, marks_rx.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let since_t0 = |mark: Option<Instant>| {
            mark.map_or(Duration::ZERO, |m| m.saturating_duration_since(t0))
        };
        let probed = |mark: &OnceLock<Instant>| since_t0(mark.get().copied());
        // Leave cleanly so the next run starts on a quiet machine.
        let _ = helper.end().await;
        Ok(ConnectRun {
            invite: invite_time,
            request_seen: since_t0(marks.request_seen),
            approved: since_t0(marks.approved),
            accepted,
            first_frame,
            captured: probed(&probe.captured),
            encode_start: probed(&probe.encode_start),
            encoded: probed(&probe.encoded),
            decode_start: probed(&probe.decode_start),
            decoded: probed(&probe.decoded),
            frame_latency: frame.latency,
            first_seq: frame.seq,
            first_bytes: frame.encoded_bytes,
        })
    }
    .await;

    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(STEP_TIMEOUT, approver).await;
    // Let the host's and helper's threads wind down before the next run.
    tokio::time::sleep(Duration::from_millis(100)).await;
    result
}

/// The connection measurement: one warm-up run, then `runs` timed ones.
pub(crate) struct ConnectReport {
    /// The untimed first run (cold caches, first use of every library).
    pub(crate) warm_up: Result<ConnectRun, String>,
    /// The timed runs that succeeded.
    pub(crate) runs: Vec<ConnectRun>,
    /// Why the others failed.
    pub(crate) failures: Vec<String>,
}

/// Runs the connection measurement.
pub(crate) async fn connect_bench(args: &Args) -> ConnectReport {
    let warm_up = connect_once(args.width, args.height).await;
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    for number in 1..=args.runs {
        let run = connect_once(args.width, args.height).await;
        if args.verbose {
            let threads = thread_count().map_or("?".to_owned(), |n| n.to_string());
            eprintln!("run {number} ({threads} threads in the process after it): {run:?}");
        }
        match run {
            Ok(run) => runs.push(run),
            Err(e) => failures.push(e),
        }
    }
    ConnectReport {
        warm_up,
        runs,
        failures,
    }
}

/// Threads of this process, if the system tells.
fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}
