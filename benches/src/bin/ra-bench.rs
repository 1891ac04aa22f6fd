//! `ra-bench`: a one-shot performance report of the ra engine (not a test: it
//! asserts no timing, it only measures and prints).
//!
//! Run it with:
//!
//! ```text
//! cargo run --release -p ra-benches --bin ra-bench
//! ```
//!
//! (`-- --json` prints one JSON object instead of the table; `-- --help` lists
//! the other flags). It stops by itself, in well under two minutes with the
//! defaults.
//!
//! It measures:
//!
//! 1. **Password entered → first frame decoded, on loopback**: a host (`invite`
//!    on 127.0.0.1:0, a 1920×1080 30 fps synthetic capturer, the OpenH264
//!    encoder, a null injector) whose application approves every connection
//!    request as soon as it arrives, then, per run and with a fresh invitation
//!    each time, the time from just before `accept` is called with the parsed
//!    password to the helper's first `HelperSessionEvent::Frame`, broken down
//!    into phases (the capturer, encoder and decoder are wrapped so the run
//!    notes when the first picture passes each; `--verbose` prints every run).
//! 2. **Per-frame encode and decode at 1920×1080** of the synthetic pattern
//!    (rendered with `render_pattern`, so capture pacing does not count),
//!    with size and luma PSNR of the decoded pictures against their sources,
//!    and forced keyframes.
//! 3. **An unchanged frame**: the same picture encoded again.
//!
//! Timings are wall-clock (`std::time::Instant`); on a busy machine they are
//! noisy, so the report prints the core count and the load average with them.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::Parser;
use ra_capture::{SyntheticCapturer, SyntheticConfig, render_pattern};
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder, psnr_bgra};
use ra_core::media::{
    CaptureError, Capturer, CodecError, DecodedFrame, Decoder, DisplayId, DisplayInfo,
    EncodedFrame, Encoder, Frame, Rect, Timestamp,
};
use ra_core::password::Password;
use ra_core::runtime::{
    AcceptOptions, HelperSessionEvent, HostBackends, HostSession, InviteOptions, accept, invite,
};
use ra_core::session::HostEvent;
use ra_input::NullInjector;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

/// How long any single step of a connection run may take before the run is
/// counted as failed (so the bench always stops by itself).
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// Time between two synthetic frames at 30 fps, in microseconds.
const FRAME_PERIOD_US: u64 = 33_333;

/// The display every picture shows.
const DISPLAY: DisplayId = DisplayId(0);

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(name = "ra-bench", about = "Performance report of the ra engine")]
struct Args {
    /// Timed connection runs (password entered → first frame), each with a
    /// fresh invitation; one untimed warm-up run comes first.
    #[arg(long, default_value_t = 20)]
    runs: u32,
    /// Frames encoded and decoded in the per-frame codec measurement.
    #[arg(long, default_value_t = 300)]
    frames: u64,
    /// Forced keyframes measured (each after 14 ordinary frames).
    #[arg(long, default_value_t = 8)]
    keyframes: u32,
    /// Encodes of an unchanged picture measured.
    #[arg(long, default_value_t = 30)]
    unchanged: u32,
    /// Picture width in pixels.
    #[arg(long, default_value_t = 1920)]
    width: u32,
    /// Picture height in pixels.
    #[arg(long, default_value_t = 1080)]
    height: u32,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Also print every connection run on stderr.
    #[arg(long)]
    verbose: bool,
}

/// Order statistics of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Stats {
    /// Number of samples.
    n: usize,
    /// Smallest sample.
    min: f64,
    /// Median (nearest rank).
    p50: f64,
    /// 95th percentile (nearest rank).
    p95: f64,
    /// Largest sample.
    max: f64,
    /// Arithmetic mean.
    mean: f64,
}

impl Stats {
    /// The statistics of `samples` (milliseconds); `None` when there are none.
    fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let index = (p * sorted.len() as f64).ceil() as usize;
            sorted[index.clamp(1, sorted.len()) - 1]
        };
        Some(Stats {
            n: sorted.len(),
            min: sorted[0],
            p50: rank(0.50),
            p95: rank(0.95),
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        })
    }

    /// The statistics as a JSON object.
    fn to_json(self) -> Value {
        json!({
            "n": self.n,
            "min_ms": round3(self.min),
            "p50_ms": round3(self.p50),
            "p95_ms": round3(self.p95),
            "max_ms": round3(self.max),
            "mean_ms": round3(self.mean),
        })
    }
}

/// Rounds to three decimals for the JSON output.
fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// A duration in milliseconds.
fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The statistics of `samples`, or JSON `null` without samples.
fn stats_json(samples: &[f64]) -> Value {
    Stats::of(samples).map_or(Value::Null, Stats::to_json)
}

/// When the first frame of a connection run passed each backend: filled in
/// by the wrappers below, read after the run.
#[derive(Debug, Default)]
struct Probe {
    /// The capturer delivered its first picture.
    captured: OnceLock<Instant>,
    /// The encoder started on the first picture.
    encode_start: OnceLock<Instant>,
    /// The encoder returned the first encoded frame.
    encoded: OnceLock<Instant>,
    /// The decoder started on the first frame.
    decode_start: OnceLock<Instant>,
    /// The decoder returned the first picture.
    decoded: OnceLock<Instant>,
}

/// A capturer that notes when its first picture is delivered.
struct ProbedCapturer {
    /// The real capturer.
    inner: SyntheticCapturer,
    /// Where to note it.
    probe: Arc<Probe>,
}

impl Capturer for ProbedCapturer {
    fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError> {
        self.inner.displays()
    }

    fn select(&mut self, display: DisplayId) -> Result<(), CaptureError> {
        self.inner.select(display)
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError> {
        let frame = self.inner.next_frame(timeout)?;
        if frame.is_some() {
            let _ = self.probe.captured.set(Instant::now());
        }
        Ok(frame)
    }

    fn invalidate(&mut self) {
        self.inner.invalidate();
    }
}

/// An encoder that notes when it starts and finishes its first frame.
struct ProbedEncoder {
    /// The real encoder.
    inner: OpenH264Encoder,
    /// Where to note it.
    probe: Arc<Probe>,
}

impl Encoder for ProbedEncoder {
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        force_keyframe: bool,
    ) -> Result<Option<EncodedFrame>, CodecError> {
        let first = self.probe.encoded.get().is_none();
        let start = Instant::now();
        let result = self.inner.encode(frame, force_keyframe);
        if first && matches!(result, Ok(Some(_))) {
            let _ = self.probe.encode_start.set(start);
            let _ = self.probe.encoded.set(Instant::now());
        }
        result
    }

    fn set_bitrate(&mut self, bits_per_second: u32) {
        self.inner.set_bitrate(bits_per_second);
    }
}

/// A decoder that notes when it starts and finishes its first picture.
struct ProbedDecoder {
    /// The real decoder.
    inner: OpenH264Decoder,
    /// Where to note it.
    probe: Arc<Probe>,
}

impl Decoder for ProbedDecoder {
    fn decode(&mut self, frame: &EncodedFrame) -> Result<Option<DecodedFrame>, CodecError> {
        let first = self.probe.decoded.get().is_none();
        let start = Instant::now();
        let result = self.inner.decode(frame);
        if first && matches!(result, Ok(Some(_))) {
            let _ = self.probe.decode_start.set(start);
            let _ = self.probe.decoded.set(Instant::now());
        }
        result
    }
}

/// One connection run, every mark relative to `t0` (just before `accept`).
#[derive(Debug, Clone, Copy)]
struct ConnectRun {
    /// `invite` itself (TLS key generation, binding, thread start), before t0.
    invite: Duration,
    /// t0 → the host application sees the connection request (QUIC + TLS
    /// handshake, SPAKE2 password proof, helper hello).
    request_seen: Duration,
    /// t0 → the host's `approve` call returned.
    approved: Duration,
    /// t0 → `accept` returned (the helper learnt of the approval).
    accepted: Duration,
    /// t0 → the first `HelperSessionEvent::Frame` (t1).
    first_frame: Duration,
    /// t0 → the host's capturer delivered its first picture.
    captured: Duration,
    /// t0 → the host's encoder started on it.
    encode_start: Duration,
    /// t0 → the host's encoder finished it.
    encoded: Duration,
    /// t0 → the helper's decoder started on it.
    decode_start: Duration,
    /// t0 → the helper's decoder finished it.
    decoded: Duration,
    /// The first frame's capture → decoded latency as the engine reports it.
    frame_latency: Duration,
    /// The host's sequence number of the first decoded frame (1 unless
    /// frames were dropped before it).
    first_seq: u64,
    /// Encoded size of the first frame in bytes.
    first_bytes: usize,
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
struct ConnectReport {
    /// The untimed first run (cold caches, first use of every library).
    warm_up: Result<ConnectRun, String>,
    /// The timed runs that succeeded.
    runs: Vec<ConnectRun>,
    /// Why the others failed.
    failures: Vec<String>,
}

/// Runs the connection measurement.
async fn connect_bench(args: &Args) -> ConnectReport {
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

/// The per-frame codec measurement.
#[derive(Debug, Default)]
struct CodecReport {
    /// Frames fed to the encoder in the main sequence.
    frames: u64,
    /// Of those, frames rate control skipped.
    skipped: u64,
    /// Encode time of every frame that produced output, ms (the first included).
    encode_ms: Vec<f64>,
    /// Decode time of every frame that produced a picture, ms.
    decode_ms: Vec<f64>,
    /// Encoded size of every output frame, bytes.
    bytes: Vec<usize>,
    /// Luma PSNR of every decoded picture against its source, dB.
    psnr: Vec<f64>,
    /// The first frame: encoder start-up plus an IDR picture (ms, bytes).
    first_encode: Option<(f64, usize)>,
    /// The first frame's decode (decoder start-up included), ms.
    first_decode: Option<f64>,
    /// Forced keyframes: encode ms.
    keyframe_encode_ms: Vec<f64>,
    /// Forced keyframes: decode ms.
    keyframe_decode_ms: Vec<f64>,
    /// Forced keyframes: bytes.
    keyframe_bytes: Vec<usize>,
    /// Forced keyframe requests that produced no IDR picture on that frame.
    keyframes_missed: u32,
    /// Unchanged picture: encode ms of each attempt.
    unchanged_encode_ms: Vec<f64>,
    /// Unchanged picture: bytes of each output (skipped ones not counted).
    unchanged_bytes: Vec<usize>,
    /// Unchanged picture: attempts rate control skipped.
    unchanged_skipped: u32,
    /// Decode errors seen (should be none).
    decode_errors: u32,
    /// `render_pattern` of a whole frame (not part of the codec), ms.
    render_ms: Vec<f64>,
}

/// Mean of a list of sizes.
fn mean_usize(values: &[usize]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<usize>() as f64 / values.len() as f64
}

/// Mean of a list of values, ignoring infinities (identical pictures).
fn mean_finite(values: &[f64]) -> f64 {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return f64::NAN;
    }
    finite.iter().sum::<f64>() / finite.len() as f64
}

/// Encodes, decodes and compares synthetic frames.
struct CodecBench {
    /// Picture width.
    width: u32,
    /// Picture height.
    height: u32,
    /// The current source picture, tightly packed BGRA.
    source: Vec<u8>,
    /// The encoder under test.
    encoder: OpenH264Encoder,
    /// The decoder under test.
    decoder: OpenH264Decoder,
    /// Capture timestamp of frame 0.
    base: Timestamp,
    /// The results.
    report: CodecReport,
}

/// What one encode → decode step produced.
struct Step {
    /// Encode time, ms.
    encode_ms: f64,
    /// The output, `None` when skipped.
    encoded: Option<EncodedFrame>,
    /// Decode time, ms, when there was something to decode.
    decode_ms: Option<f64>,
    /// PSNR of the decoded picture against the source.
    psnr: Option<f64>,
}

impl CodecBench {
    /// A bench for `width` × `height` pictures.
    fn new(width: u32, height: u32) -> Result<Self, String> {
        Ok(CodecBench {
            width,
            height,
            source: vec![0; width as usize * 4 * height as usize],
            encoder: OpenH264Encoder::new(EncoderSettings::default()),
            decoder: OpenH264Decoder::new().map_err(|e| format!("decoder: {e}"))?,
            base: Timestamp::now(),
            report: CodecReport::default(),
        })
    }

    /// Draws pattern frame `index` into the source picture (not timed).
    fn render(&mut self, index: u64) -> Result<(), String> {
        let stride = self.width as usize * 4;
        let start = Instant::now();
        render_pattern(
            self.width,
            self.height,
            index,
            DISPLAY,
            &mut self.source,
            stride,
        )
        .map_err(|e| format!("render: {e}"))?;
        self.report.render_ms.push(ms(start.elapsed()));
        Ok(())
    }

    /// Encodes the source picture as the frame captured at tick `tick` and
    /// decodes the result; PSNR only when `measure_psnr`.
    fn step(
        &mut self,
        tick: u64,
        force_keyframe: bool,
        measure_psnr: bool,
    ) -> Result<Step, String> {
        let (width, height) = (self.width, self.height);
        let stride = width as usize * 4;
        let frame = Frame {
            width,
            height,
            stride,
            data: &self.source,
            damage: vec![Rect::new(0, 0, width, height)],
            captured_at: Timestamp(self.base.0 + tick * FRAME_PERIOD_US),
            display: DISPLAY,
        };
        let start = Instant::now();
        let encoded = self
            .encoder
            .encode(&frame, force_keyframe)
            .map_err(|e| format!("encode: {e}"))?;
        let encode_ms = ms(start.elapsed());
        let Some(encoded) = encoded else {
            return Ok(Step {
                encode_ms,
                encoded: None,
                decode_ms: None,
                psnr: None,
            });
        };
        let start = Instant::now();
        let decoded = self.decoder.decode(&encoded);
        let decode_ms = ms(start.elapsed());
        let psnr = match decoded {
            Ok(Some(picture)) if measure_psnr => Some(psnr_bgra(
                &picture.data,
                picture.stride,
                &self.source,
                stride,
                width,
                height,
            )),
            Ok(_) => None,
            Err(e) => {
                eprintln!("decode error: {e}");
                self.report.decode_errors += 1;
                None
            }
        };
        Ok(Step {
            encode_ms,
            encoded: Some(encoded),
            decode_ms: Some(decode_ms),
            psnr,
        })
    }

    /// Runs the three codec measurements.
    fn run(mut self, args: &Args) -> Result<CodecReport, String> {
        // 1. The main sequence: consecutive pattern frames.
        let mut tick = 0;
        for index in 0..args.frames {
            self.render(index)?;
            let step = self.step(tick, false, true)?;
            tick += 1;
            self.report.frames += 1;
            let Some(encoded) = step.encoded else {
                self.report.skipped += 1;
                continue;
            };
            if index == 0 {
                self.report.first_encode = Some((step.encode_ms, encoded.data.len()));
                self.report.first_decode = step.decode_ms;
            }
            self.report.encode_ms.push(step.encode_ms);
            self.report.bytes.push(encoded.data.len());
            self.report.decode_ms.extend(step.decode_ms);
            self.report.psnr.extend(step.psnr);
        }

        // 2. The same picture again (the last frame of the sequence).
        for _ in 0..args.unchanged {
            let step = self.step(tick, false, false)?;
            tick += 1;
            self.report.unchanged_encode_ms.push(step.encode_ms);
            match step.encoded {
                Some(encoded) => self.report.unchanged_bytes.push(encoded.data.len()),
                None => self.report.unchanged_skipped += 1,
            }
        }

        // 3. Forced keyframes, each after 14 ordinary frames so rate control
        //    has recovered from the previous one.
        let mut index = args.frames;
        for _ in 0..args.keyframes {
            for _ in 0..14 {
                self.render(index)?;
                self.step(tick, false, false)?;
                index += 1;
                tick += 1;
            }
            self.render(index)?;
            let step = self.step(tick, true, false)?;
            index += 1;
            tick += 1;
            match step.encoded {
                Some(encoded) if encoded.keyframe => {
                    self.report.keyframe_encode_ms.push(step.encode_ms);
                    self.report.keyframe_bytes.push(encoded.data.len());
                    self.report.keyframe_decode_ms.extend(step.decode_ms);
                }
                _ => self.report.keyframes_missed += 1,
            }
        }
        Ok(self.report)
    }
}

/// The machine the numbers came from.
struct Machine {
    /// Cores available to this process.
    cores: usize,
    /// `/proc/loadavg` before the measurements, if readable.
    load_before: Option<String>,
    /// `/proc/loadavg` after the measurements, if readable.
    load_after: Option<String>,
}

/// Threads of this process, if the system tells.
fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

/// The 1, 5 and 15 minute load averages, if the system tells them.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_before = load_average();
    if !args.json {
        eprintln!(
            "ra-bench: {cores} cores; {} connection runs, then {} frames at {}x{}…",
            args.runs, args.frames, args.width, args.height
        );
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ra-bench: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let connect = runtime.block_on(connect_bench(&args));
    runtime.shutdown_timeout(Duration::from_secs(2));

    let codec = match CodecBench::new(args.width, args.height).and_then(|b| b.run(&args)) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("ra-bench: codec measurement failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let machine = Machine {
        cores,
        load_before,
        load_after: load_average(),
    };
    let total = started.elapsed();
    if args.json {
        println!("{}", report_json(&args, &machine, &connect, &codec, total));
    } else {
        print!("{}", report_text(&args, &machine, &connect, &codec, total));
    }
    if connect.runs.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The samples of one phase of the connection runs, in ms.
fn phase(runs: &[ConnectRun], f: impl Fn(&ConnectRun) -> Duration) -> Vec<f64> {
    runs.iter().map(|r| ms(f(r))).collect()
}

/// The connection phases: name, description, samples.
fn connect_phases(runs: &[ConnectRun]) -> Vec<(&'static str, &'static str, Vec<f64>)> {
    vec![
        (
            "total",
            "password entered -> first frame decoded (target <= 150 ms)",
            phase(runs, |r| r.first_frame),
        ),
        (
            "auth",
            "  t0 -> host sees request (QUIC/TLS + SPAKE2 + hello)",
            phase(runs, |r| r.request_seen),
        ),
        (
            "approve",
            "  request -> host approve() returned",
            phase(runs, |r| r.approved.saturating_sub(r.request_seen)),
        ),
        (
            "to_capture",
            "  approved -> first picture captured (pipeline start)",
            phase(runs, |r| r.captured.saturating_sub(r.approved)),
        ),
        (
            "encode",
            "  encode it (encoder start-up + IDR), host thread",
            phase(runs, |r| r.encoded.saturating_sub(r.encode_start)),
        ),
        (
            "transfer",
            "  encoded -> decode starts (QUIC stream, queues)",
            phase(runs, |r| r.decode_start.saturating_sub(r.encoded)),
        ),
        (
            "decode",
            "  decode it (incl. I420->BGRA), helper thread",
            phase(runs, |r| r.decoded.saturating_sub(r.decode_start)),
        ),
        (
            "to_event",
            "  decoded -> HelperSessionEvent::Frame",
            phase(runs, |r| r.first_frame.saturating_sub(r.decoded)),
        ),
        (
            "accept_return",
            "  (in parallel) approved -> helper accept() returned",
            phase(runs, |r| r.accepted.saturating_sub(r.approved)),
        ),
        (
            "frame_latency",
            "  (cross-check) capture -> decoded, frame.latency",
            phase(runs, |r| r.frame_latency),
        ),
        (
            "invite",
            "(before t0) invite(): key gen, bind, threads",
            phase(runs, |r| r.invite),
        ),
    ]
}

/// The whole report as one JSON object.
fn report_json(
    args: &Args,
    machine: &Machine,
    connect: &ConnectReport,
    codec: &CodecReport,
    total: Duration,
) -> Value {
    let phases: serde_json::Map<String, Value> = connect_phases(&connect.runs)
        .into_iter()
        .map(|(name, _, samples)| (name.to_owned(), stats_json(&samples)))
        .collect();
    let warm_up = match &connect.warm_up {
        Ok(run) => json!({
            "first_frame_ms": round3(ms(run.first_frame)),
            "accepted_ms": round3(ms(run.accepted)),
        }),
        Err(e) => json!({ "error": e }),
    };
    json!({
        "machine": {
            "cores": machine.cores,
            "load_before": machine.load_before,
            "load_after": machine.load_after,
            "release_build": !cfg!(debug_assertions),
        },
        "size": { "width": args.width, "height": args.height },
        "connect": {
            "runs": connect.runs.len(),
            "failures": connect.failures,
            "warm_up": warm_up,
            "phases": phases,
            "first_frame_seq": connect.runs.iter().map(|r| r.first_seq).collect::<Vec<_>>(),
            "first_frame_bytes_mean": round3(mean_usize(
                &connect.runs.iter().map(|r| r.first_bytes).collect::<Vec<_>>(),
            )),
        },
        "codec": {
            "frames": codec.frames,
            "skipped": codec.skipped,
            "encode": stats_json(&codec.encode_ms),
            "decode": stats_json(&codec.decode_ms),
            "bytes_mean": round3(mean_usize(&codec.bytes)),
            "psnr_y_mean_db": round3(mean_finite(&codec.psnr)),
            "psnr_y_min_db": round3(codec.psnr.iter().copied().fold(f64::INFINITY, f64::min)),
            "first_frame": codec.first_encode.map(|(encode, bytes)| json!({
                "encode_ms": round3(encode),
                "decode_ms": codec.first_decode.map(round3),
                "bytes": bytes,
            })),
            "keyframe": {
                "encode": stats_json(&codec.keyframe_encode_ms),
                "decode": stats_json(&codec.keyframe_decode_ms),
                "bytes_mean": round3(mean_usize(&codec.keyframe_bytes)),
                "missed": codec.keyframes_missed,
            },
            "unchanged": {
                "encode": stats_json(&codec.unchanged_encode_ms),
                "bytes_mean": round3(mean_usize(&codec.unchanged_bytes)),
                "skipped": codec.unchanged_skipped,
                "attempts": codec.unchanged_encode_ms.len(),
            },
            "decode_errors": codec.decode_errors,
            "render_pattern_full_frame": stats_json(&codec.render_ms),
            "bgra_to_i420": Value::Null,
        },
        "total_s": round3(total.as_secs_f64()),
    })
}

/// A table row of order statistics.
fn stats_row(label: &str, samples: &[f64]) -> String {
    match Stats::of(samples) {
        Some(s) => format!(
            "{label:<58} {:>4} {:>8.2} {:>8.2} {:>8.2} {:>8.2}\n",
            s.n, s.min, s.p50, s.p95, s.max
        ),
        None => format!("{label:<58} {:>4} {:>8}\n", 0, "-"),
    }
}

/// The whole report as a plain-text table.
fn report_text(
    args: &Args,
    machine: &Machine,
    connect: &ConnectReport,
    codec: &CodecReport,
    total: Duration,
) -> String {
    let mut out = String::new();
    let header = |title: &str| {
        format!(
            "\n{title:<58} {:>4} {:>8} {:>8} {:>8} {:>8}\n{}\n",
            "n",
            "min",
            "p50",
            "p95",
            "max",
            "-".repeat(58 + 5 + 4 * 9)
        )
    };
    out += "ra-bench report\n";
    out += &format!(
        "machine: {} cores, load average before {} / after {}{}\n",
        machine.cores,
        machine.load_before.as_deref().unwrap_or("?"),
        machine.load_after.as_deref().unwrap_or("?"),
        if cfg!(debug_assertions) {
            "  (DEBUG BUILD: use --release)"
        } else {
            ""
        }
    );
    out += &format!("picture: {}x{}, all times in ms\n", args.width, args.height);

    out += &header("1. connection on loopback (ms)");
    for (_, label, samples) in connect_phases(&connect.runs) {
        out += &stats_row(label, &samples);
    }
    match &connect.warm_up {
        Ok(run) => {
            out += &format!(
                "warm-up run (not counted): first frame at {:.2} ms, accept at {:.2} ms\n",
                ms(run.first_frame),
                ms(run.accepted)
            );
        }
        Err(e) => out += &format!("warm-up run failed: {e}\n"),
    }
    let late_seq = connect.runs.iter().filter(|r| r.first_seq != 1).count();
    out += &format!(
        "first frame: mean {:.0} bytes; runs whose first decoded frame was not seq 1: {late_seq}\n",
        mean_usize(
            &connect
                .runs
                .iter()
                .map(|r| r.first_bytes)
                .collect::<Vec<_>>()
        )
    );
    if !connect.failures.is_empty() {
        out += &format!("FAILED runs: {}\n", connect.failures.len());
        for failure in &connect.failures {
            out += &format!("  {failure}\n");
        }
    }

    out += &header("2. codec per frame, OpenH264 default settings (ms)");
    out += &stats_row("encode, every output frame", &codec.encode_ms);
    out += &stats_row("decode (incl. I420->BGRA), every frame", &codec.decode_ms);
    out += &stats_row("forced keyframe encode", &codec.keyframe_encode_ms);
    out += &stats_row("forced keyframe decode", &codec.keyframe_decode_ms);
    out += &stats_row(
        "unchanged picture encoded again",
        &codec.unchanged_encode_ms,
    );
    out += &stats_row("(not codec) render_pattern, whole frame", &codec.render_ms);
    if let Some((encode, bytes)) = codec.first_encode {
        out += &format!(
            "first frame (encoder start-up + IDR): encode {encode:.2} ms, {bytes} bytes, decode {:.2} ms\n",
            codec.first_decode.unwrap_or(f64::NAN)
        );
    }
    out += &format!(
        "frames: {} fed, {} skipped by rate control, {} decode errors\n",
        codec.frames, codec.skipped, codec.decode_errors
    );
    out += &format!(
        "mean bytes/frame: {:.0} (= {:.2} Mbit/s at 30 fps; target 4)\n",
        mean_usize(&codec.bytes),
        mean_usize(&codec.bytes) * 8.0 * 30.0 / 1e6
    );
    out += &format!(
        "luma PSNR decoded vs source: mean {:.2} dB, min {:.2} dB\n",
        mean_finite(&codec.psnr),
        codec.psnr.iter().copied().fold(f64::INFINITY, f64::min)
    );
    out += &format!(
        "forced keyframes: mean {:.0} bytes, {} requests without an IDR on that frame\n",
        mean_usize(&codec.keyframe_bytes),
        codec.keyframes_missed
    );
    out += &format!(
        "unchanged picture: mean {:.1} bytes, {} of {} skipped by rate control\n",
        mean_usize(&codec.unchanged_bytes),
        codec.unchanged_skipped,
        codec.unchanged_encode_ms.len()
    );
    out += "BGRA->I420 alone: not measured (ra-codec does not expose it; it is inside encode)\n";
    out += &format!("\ntotal bench time: {:.1} s\n", total.as_secs_f64());
    out
}
