//! ra's side of a scenario: a real session over QUIC loopback through a
//! counting UDP proxy, a host application that approves at once and a helper
//! application that collects every frame.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder, psnr_bgra};
use ra_core::media::DecodedFrame;
use ra_core::password::Password;
use ra_core::runtime::{
    AcceptOptions, HelperSession, HelperSessionEvent, HostBackends, HostSession, InviteOptions,
    accept, invite,
};
use ra_core::session::{HelperEvent, HostEvent};
use ra_input::NullInjector;
use ra_testkit::net::{Traffic, udp_proxy};
use tokio::sync::oneshot;

use super::cpu::{CpuSplit, process_ticks, threads_now};
use super::driver::Driver;
use super::probes::{DamageWatch, HostProbe, TimedCapturer, TimedEncoder};
use super::screenshot::{grab_screen, save_png};
use super::stage::Stage;
use super::{HEIGHT, Res, STEP_TIMEOUT, WIDTH, lock, micros};
use crate::stats::ms;

/// After the scene stops, the session is settled when no frame came for this long.
const SETTLE_QUIET: Duration = Duration::from_millis(500);
/// …or after this long at most.
const SETTLE_MAX: Duration = Duration::from_secs(4);
/// Every this many encoded frames, one is copied for the sampled PSNR.
const PSNR_SAMPLE_EVERY: u32 = 10;
/// IPv4 (20) + UDP (8) header bytes per datagram, added to the proxy's payload count.
const UDP_IP_OVERHEAD: u64 = 28;

/// Bytes on the wire so far: payload plus IPv4/UDP headers.
fn wire_bytes(traffic: &Traffic) -> u64 {
    traffic.bytes() + UDP_IP_OVERHEAD * traffic.datagrams()
}

/// The host application: approves every connection at once; shuts the
/// session down when told to stop.
async fn approve_everything(mut host: HostSession, mut stop: oneshot::Receiver<()>) {
    loop {
        tokio::select! {
            _ = &mut stop => break,
            event = host.next_event() => match event {
                None => break,
                Some(HostEvent::ConnectionRequest { conn, .. }) => {
                    if let Err(e) = host.approve(conn).await {
                        eprintln!("approve failed: {e}");
                    }
                }
                Some(_) => {}
            },
        }
    }
    host.shutdown().await;
}

/// A frame as the helper received it.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    /// Capture timestamp, µs.
    captured_at: u64,
    /// Capture → decoded, ms.
    latency_ms: f64,
    /// Encoded size.
    bytes: usize,
}

/// What the helper application saw.
#[derive(Default)]
struct Collected {
    /// Every frame.
    arrivals: Vec<Arrival>,
    /// Decoded pictures whose source was copied, by capture timestamp.
    sampled: HashMap<u64, DecodedFrame>,
    /// The last picture (when it is not in `sampled`).
    last: Option<DecodedFrame>,
    /// The last picture's capture timestamp.
    last_key: Option<u64>,
    /// Why the session ended early, if it did.
    ended: Option<String>,
}

impl Collected {
    /// The picture the helper shows now.
    fn shown(&self) -> Option<&DecodedFrame> {
        self.last
            .as_ref()
            .or_else(|| self.last_key.and_then(|key| self.sampled.get(&key)))
    }
}

/// The helper application: takes every frame; reports the first one; on
/// `stop`, goes on until no frame came for [`SETTLE_QUIET`].
async fn collect_frames(
    mut helper: HelperSession,
    probe: Arc<HostProbe>,
    first: oneshot::Sender<()>,
    mut stop: oneshot::Receiver<()>,
) -> (HelperSession, Collected) {
    let mut collected = Collected::default();
    let mut first = Some(first);
    let mut settle_until: Option<Instant> = None;
    loop {
        let event = match settle_until {
            None => tokio::select! {
                _ = &mut stop => {
                    settle_until = Some(Instant::now() + SETTLE_MAX);
                    continue;
                }
                event = helper.next_event() => event,
            },
            Some(until) => {
                if Instant::now() >= until {
                    break;
                }
                match tokio::time::timeout(SETTLE_QUIET, helper.next_event()).await {
                    Ok(event) => event,
                    Err(_) => break,
                }
            }
        };
        match event {
            None => {
                collected.ended = Some("the session ended".into());
                break;
            }
            Some(HelperSessionEvent::Frame(received)) => {
                let key = received.frame.captured_at.as_micros();
                collected.arrivals.push(Arrival {
                    captured_at: key,
                    latency_ms: ms(received.latency),
                    bytes: received.encoded_bytes,
                });
                if lock(&probe.sources).contains_key(&key) {
                    collected.sampled.insert(key, received.frame);
                    collected.last = None;
                    collected.last_key = Some(key);
                } else {
                    collected.last = Some(received.frame);
                    collected.last_key = None;
                }
                if let Some(first) = first.take() {
                    let _ = first.send(());
                }
            }
            Some(HelperSessionEvent::Session(HelperEvent::Ended { reason })) => {
                collected.ended = Some(format!("the session ended: {reason:?}"));
                break;
            }
            Some(_) => {}
        }
    }
    (helper, collected)
}

/// ra's numbers for one scenario.
#[derive(Debug, Default)]
pub(crate) struct OursReport {
    /// Seconds of the window.
    pub(crate) seconds: f64,
    /// Changes drawn in it.
    pub(crate) changes: u64,
    /// What captured the screen.
    pub(crate) capture: String,
    /// Capture from "something to capture" to the frame, ms.
    pub(crate) capture_ms: Vec<f64>,
    /// The whole `next_frame` call, ms.
    pub(crate) capture_wall_ms: Vec<f64>,
    /// The capturing thread's CPU in each `next_frame` call, ms.
    pub(crate) capture_cpu_ms: Vec<f64>,
    /// Every encode call, ms.
    pub(crate) encode_ms: Vec<f64>,
    /// Encode calls in the window.
    pub(crate) encode_calls: usize,
    /// Of those, calls that produced no frame (rate control skipped it).
    pub(crate) encode_skipped: usize,
    /// Capture → decoded of frames in the window (sampled ones left out), ms.
    pub(crate) latency_ms: Vec<f64>,
    /// Frames captured in the window that the helper decoded.
    pub(crate) frames: usize,
    /// Their encoded bytes.
    pub(crate) encoded_bytes: u64,
    /// Encoded bytes of every frame captured from the start on, the
    /// settling after the scene included (what the final picture cost).
    pub(crate) encoded_bytes_total: u64,
    /// Bytes on the wire in the window, both ways with headers.
    pub(crate) wire_bytes: u64,
    /// CPU over the window.
    pub(crate) cpu: CpuSplit,
    /// The display server's CPU over the window (Xvfb, or mutter on
    /// Wayland), seconds.
    pub(crate) xvfb_cpu: Option<f64>,
    /// Sampled PSNR (decoded vs its own source), dB.
    pub(crate) psnr_sampled: Vec<f64>,
    /// Last decoded picture vs the settled screen, dB.
    pub(crate) psnr_final: Option<f64>,
    /// Anything worth a note.
    pub(crate) notes: Vec<String>,
}

impl OursReport {
    /// What capturing cost per frame captured in the window, in CPU ms:
    /// the pipeline thread's CPU inside `next_frame` (exact), plus the
    /// capturer's own threads' CPU (in clock ticks: over a few seconds,
    /// ±0.1 ms per frame) spread over the frames.
    pub(crate) fn capture_cpu_ms_per_frame(&self) -> Option<f64> {
        let frames = self.capture_cpu_ms.len();
        if frames == 0 {
            return None;
        }
        let in_calls: f64 = self.capture_cpu_ms.iter().sum();
        Some((in_calls + self.cpu.capture * 1000.0) / frames as f64)
    }
}

/// Runs one scenario through a real session on `stage`.
pub(crate) async fn run_ours(
    stage: &Stage,
    mut driver: Driver,
    watch: Arc<DamageWatch>,
    ticks: f64,
    settings: EncoderSettings,
    snapshot: Option<std::path::PathBuf>,
) -> Res<OursReport> {
    let probe = Arc::new(HostProbe::default());
    let (capturer, capture) = stage.capturer()?;
    let backends = HostBackends::new(
        Box::new(TimedCapturer {
            inner: capturer,
            probe: Arc::clone(&probe),
            watch,
            last_return: Instant::now(),
        }),
        Box::new(TimedEncoder {
            inner: OpenH264Encoder::new(settings),
            probe: Arc::clone(&probe),
            outputs: 0,
        }),
        Box::new(NullInjector::new()),
    );
    let options = InviteOptions {
        host_name: "bench host".into(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..InviteOptions::default()
    };
    let host = invite(options, backends)
        .await
        .map_err(|e| format!("invite: {e}"))?;
    // The proxy runs until `_stop_proxy` is dropped, at the end of the run.
    let (proxy, _stop_proxy, traffic) = udp_proxy(host.local_addr()).await;
    let mut invitation = host.invitation().clone();
    invitation.addresses = vec![proxy];
    let password =
        Password::parse(&host.password().to_string()).map_err(|e| format!("password: {e}"))?;
    let (stop_host, stop_host_rx) = oneshot::channel();
    let approver = tokio::spawn(approve_everything(host, stop_host_rx));

    let decoder = Box::new(OpenH264Decoder::new().map_err(|e| format!("decoder: {e}"))?);
    let accept_options = AcceptOptions {
        helper_name: "bench helper".into(),
        connect_timeout: Duration::from_secs(5),
        approval_timeout: Duration::from_secs(30),
        ..AcceptOptions::default()
    };
    let helper = tokio::time::timeout(
        STEP_TIMEOUT,
        accept(&invitation, &password, accept_options, decoder),
    )
    .await
    .map_err(|_| "accept timed out")?
    .map_err(|e| format!("accept: {e}"))?;
    let (first_tx, first_rx) = oneshot::channel();
    let (stop_tx, stop_rx) = oneshot::channel();
    let collector = tokio::spawn(collect_frames(
        helper,
        Arc::clone(&probe),
        first_tx,
        stop_rx,
    ));
    tokio::time::timeout(STEP_TIMEOUT, first_rx)
        .await
        .map_err(|_| "no first frame in time")?
        .map_err(|_| "the session ended before the first frame")?;

    // The window: everything from here to the scene's end.
    let threads_before = threads_now();
    let xvfb_before = process_ticks(stage.server_pid());
    let wire_before = wire_bytes(&traffic);
    probe
        .sample_every
        .store(PSNR_SAMPLE_EVERY, Ordering::Relaxed);
    driver.go();
    let played = driver.finished().await?;
    let threads_after = threads_now();
    let xvfb_after = process_ticks(stage.server_pid());
    let wire_after = wire_bytes(&traffic);
    probe.sample_every.store(0, Ordering::Relaxed);

    let _ = stop_tx.send(());
    let (helper, collected) = collector.await?;
    let screen = tokio::task::spawn_blocking({
        let display = stage.display();
        move || grab_screen(&display)
    })
    .await?;
    let _ = helper.end().await;
    drop(helper);
    let _ = stop_host.send(());
    let _ = tokio::time::timeout(STEP_TIMEOUT, approver).await;

    let mut report = OursReport {
        seconds: played.seconds(),
        changes: played.changes,
        capture,
        cpu: CpuSplit::between(&threads_before, &threads_after, ticks),
        wire_bytes: wire_after.saturating_sub(wire_before),
        xvfb_cpu: xvfb_before
            .zip(xvfb_after)
            .map(|(b, a)| a.saturating_sub(b) as f64 / ticks),
        ..OursReport::default()
    };
    if let Some(ended) = &collected.ended {
        report.notes.push(ended.clone());
    }
    for sample in lock(&probe.captures)
        .iter()
        .filter(|s| played.contains(s.at))
    {
        report.capture_ms.push(sample.ms);
        report.capture_wall_ms.push(sample.wall_ms);
        report.capture_cpu_ms.push(sample.cpu_ms);
    }
    for sample in lock(&probe.encodes)
        .iter()
        .filter(|s| played.contains(s.at))
    {
        report.encode_calls += 1;
        report.encode_ms.push(sample.ms);
        if sample.bytes.is_none() {
            report.encode_skipped += 1;
        }
    }
    let sources = std::mem::take(&mut *lock(&probe.sources));
    report.encoded_bytes_total = collected
        .arrivals
        .iter()
        .filter(|a| a.captured_at >= micros(played.start_wall))
        .map(|a| a.bytes as u64)
        .sum();
    for arrival in collected
        .arrivals
        .iter()
        .filter(|a| played.contains_capture(a.captured_at))
    {
        report.frames += 1;
        report.encoded_bytes += arrival.bytes as u64;
        if !sources.contains_key(&arrival.captured_at) {
            report.latency_ms.push(arrival.latency_ms);
        }
    }
    for (key, decoded) in &collected.sampled {
        if let Some(source) = sources.get(key) {
            report.psnr_sampled.push(psnr_bgra(
                &decoded.data,
                decoded.stride,
                &source.data,
                source.stride,
                decoded.width,
                decoded.height,
            ));
        }
    }
    if let (Some(path), Ok(screen)) = (&snapshot, &screen)
        && let Err(e) = save_png(path, screen)
    {
        report
            .notes
            .push(format!("snapshot {}: {e}", path.display()));
    }
    match (collected.shown(), screen) {
        (Some(shown), Ok(screen)) => {
            report.psnr_final = Some(psnr_bgra(
                &shown.data,
                shown.stride,
                &screen,
                usize::from(WIDTH) * 4,
                shown.width.min(u32::from(WIDTH)),
                shown.height.min(u32::from(HEIGHT)),
            ));
        }
        (None, _) => report.notes.push("no picture decoded".into()),
        (_, Err(e)) => report.notes.push(format!("final grab failed: {e}")),
    }
    Ok(report)
}
