//! `ra-soak`: one session held for minutes over an impaired link, then the
//! same over a clean one, with the figures side by side. How to run it is in
//! the binary's doc (`benches/src/bin/ra-soak.rs`).
//!
//! Each run: a host (`invite` on loopback, a synthetic capturer whose picture
//! changes 30 times a second, the OpenH264 encoder, an injector that notes
//! when each event arrives) whose application approves the helper and grants
//! control; the helper connects through `ra_testkit::impair::impaired_link`
//! and moves the pointer `--input-hz` times a second, each move numbered by
//! its position. Measured over the run: decoded frames per second, capture →
//! decoded latency (p50/p95/p99), input delay (sent → injected, one clock;
//! p50/p99) and how many moves arrived, datagrams and bytes on the link, and
//! the process's resident memory at the start, a tenth into the run (warmed
//! up) and at the end (host and helper share the process). Pointer moves may
//! coalesce on the host (the injector merges moves that queue up), so fewer
//! may arrive than were sent.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Parser;
use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder};
use ra_core::input::{InputError, InputEvent, InputInjector};
use ra_core::password::Password;
use ra_core::runtime::{
    AcceptOptions, HelperSession, HelperSessionEvent, HostBackends, HostSession, InviteOptions,
    accept, invite,
};
use ra_core::session::{HelperCommand, HelperEvent, HostEvent};
use ra_testkit::impair::{Impairment, impaired_link};

use crate::machine;
use crate::stats::{ms, percentile};

/// How long a single step (connect, approval, grant) may take.
const STEP: Duration = Duration::from_secs(20);

/// Moves are numbered by their position: `x + y * MOVE_ROW`.
const MOVE_ROW: u64 = 1000;

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(
    name = "ra-soak",
    about = "A session held for minutes over an impaired link, against a clean one"
)]
struct Args {
    /// Minutes each run lasts.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Round-trip time of the impaired link, in milliseconds.
    #[arg(long, default_value_t = 100)]
    rtt_ms: u64,
    /// Share of datagrams the impaired link loses each way (0.02: 2 %).
    #[arg(long, default_value_t = 0.02)]
    loss: f64,
    /// The impaired link's rate each way, in kilobits per second.
    #[arg(long, default_value_t = 2000.0)]
    rate_kbps: f64,
    /// Picture width.
    #[arg(long, default_value_t = 1280)]
    width: u32,
    /// Picture height.
    #[arg(long, default_value_t = 720)]
    height: u32,
    /// Pointer moves the helper sends a second.
    #[arg(long, default_value_t = 20.0)]
    input_hz: f64,
    /// Only the impaired run.
    #[arg(long)]
    no_clean: bool,
}

/// One run's figures.
#[derive(Debug)]
struct SoakReport {
    name: String,
    seconds: f64,
    frames: usize,
    latency_ms: Vec<f64>,
    moves_sent: usize,
    moves_injected: usize,
    input_delay_ms: Vec<f64>,
    datagrams: u64,
    bytes: u64,
    lost: u64,
    queue_drops: u64,
    rss_start_kib: Option<u64>,
    /// A tenth into the run: the codecs' and queues' buffers are full by then.
    rss_warm_kib: Option<u64>,
    rss_end_kib: Option<u64>,
}

/// Notes when each numbered pointer move is injected.
#[derive(Clone, Default)]
struct TimedInjector {
    injected: Arc<Mutex<Vec<(u64, Instant)>>>,
}

impl InputInjector for TimedInjector {
    fn inject(&mut self, event: &InputEvent) -> Result<(), InputError> {
        if let InputEvent::PointerMove { x, y } = *event {
            let number = u64::try_from(x).unwrap_or(0) + u64::try_from(y).unwrap_or(0) * MOVE_ROW;
            self.injected
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((number, Instant::now()));
        }
        Ok(())
    }

    fn release_all(&mut self) -> Result<(), InputError> {
        Ok(())
    }
}

/// The process's resident memory, in KiB.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// The host application: approves the helper and grants the control it asks for.
async fn host_app(mut host: HostSession) {
    while let Some(event) = host.next_event().await {
        let result = match event {
            HostEvent::ConnectionRequest { conn, .. } => host.approve(conn).await,
            HostEvent::ControlRequested { conn, .. } => host.grant_control(conn).await,
            HostEvent::Ended { .. } => return,
            _ => Ok(()),
        };
        if let Err(e) = result {
            eprintln!("ra-soak: the host application failed: {e}");
        }
    }
}

/// Waits for a helper event `wanted` within [`STEP`].
async fn helper_event(
    helper: &mut HelperSession,
    wanted: impl Fn(&HelperEvent) -> bool,
) -> Result<(), String> {
    loop {
        match tokio::time::timeout(STEP, helper.next_event()).await {
            Err(_) => return Err("the helper waited too long".into()),
            Ok(None) => return Err("the helper's session stopped".into()),
            Ok(Some(HelperSessionEvent::Session(event))) if wanted(&event) => return Ok(()),
            Ok(Some(_)) => {}
        }
    }
}

/// One run of `duration` through a link doing `link` each way.
async fn soak(
    name: &str,
    link: Impairment,
    args: &Args,
    duration: Duration,
) -> Result<SoakReport, String> {
    let injector = TimedInjector::default();
    let injected = Arc::clone(&injector.injected);
    let backends = HostBackends::new(
        Box::new(SyntheticCapturer::new(SyntheticConfig {
            width: args.width,
            height: args.height,
            frame_rate: 30.0,
        })),
        Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        Box::new(injector),
    );
    let options = InviteOptions {
        host_name: "soak host".into(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..InviteOptions::default()
    };
    let host = invite(options, backends)
        .await
        .map_err(|e| format!("invite: {e}"))?;
    let (address, counters) = impaired_link(host.local_addr(), link, link, 10).await;
    let mut invitation = host.invitation().clone();
    invitation.addresses = vec![address];
    let password =
        Password::parse(&host.password().to_string()).map_err(|e| format!("password: {e}"))?;
    let host_task = tokio::spawn(host_app(host));
    let decoder = Box::new(OpenH264Decoder::new().map_err(|e| format!("decoder: {e}"))?);
    let mut helper = tokio::time::timeout(
        STEP,
        accept(&invitation, &password, AcceptOptions::default(), decoder),
    )
    .await
    .map_err(|_| "accept timed out".to_owned())?
    .map_err(|e| format!("accept: {e}"))?;
    helper
        .request_control()
        .await
        .map_err(|e| format!("request control: {e}"))?;
    helper_event(&mut helper, |e| {
        matches!(e, HelperEvent::ControlGranted { .. })
    })
    .await?;

    let rss_start_kib = resident_kib();
    let traffic_start = (counters.passed(), counters.bytes());
    let sent: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let typist = {
        let controller = helper.controller().clone();
        let sent = Arc::clone(&sent);
        let interval = Duration::from_secs_f64(1.0 / args.input_hz.max(0.1));
        let width = u64::from(args.width.min(MOVE_ROW as u32));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            let mut number = 0u64;
            loop {
                ticks.tick().await;
                // Numbered by position, inside the picture.
                let (x, y) = (number % width, number / width);
                let number_sent = x + y * MOVE_ROW;
                let event = InputEvent::PointerMove {
                    x: i32::try_from(x).unwrap_or(0),
                    y: i32::try_from(y).unwrap_or(0),
                };
                let at = Instant::now();
                if controller
                    .send(HelperCommand::SendInput(vec![event]))
                    .await
                    .is_err()
                {
                    return;
                }
                let mut sent = sent.lock().unwrap_or_else(PoisonError::into_inner);
                let index = usize::try_from(number_sent).unwrap_or(usize::MAX);
                if sent.len() <= index {
                    sent.resize(index + 1, at);
                }
                sent[index] = at;
                number += 1;
            }
        })
    };

    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + duration;
    let mut latency_ms = Vec::new();
    let warm_at = Instant::now() + duration / 10;
    let mut rss_warm_kib = None;
    loop {
        if rss_warm_kib.is_none() && Instant::now() >= warm_at {
            rss_warm_kib = resident_kib();
        }
        match tokio::time::timeout_at(deadline, helper.next_event()).await {
            Err(_) => break,
            Ok(Some(HelperSessionEvent::Frame(frame))) => latency_ms.push(ms(frame.latency)),
            Ok(Some(HelperSessionEvent::Session(HelperEvent::Ended { reason }))) => {
                return Err(format!("the session ended: {reason:?}"));
            }
            Ok(Some(_)) => {}
            Ok(None) => return Err("the helper stopped".into()),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    typist.abort();
    let rss_end_kib = resident_kib();
    let sent = sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let injected = injected
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let input_delay_ms: Vec<f64> = injected
        .iter()
        .filter_map(|(number, at)| {
            let sent_at = sent.get(usize::try_from(*number).ok()?)?;
            Some(ms(at.saturating_duration_since(*sent_at)))
        })
        .collect();
    let moves_sent = sent.len();
    let _ = helper.end().await;
    let _ = tokio::time::timeout(STEP, host_task).await;
    Ok(SoakReport {
        name: name.to_owned(),
        seconds,
        frames: latency_ms.len(),
        latency_ms,
        moves_sent,
        moves_injected: injected.len(),
        input_delay_ms,
        datagrams: counters.passed() - traffic_start.0,
        bytes: counters.bytes() - traffic_start.1,
        lost: counters.lost(),
        queue_drops: counters.queue_drops(),
        rss_start_kib,
        rss_warm_kib,
        rss_end_kib,
    })
}

/// A figure with one decimal, or "-".
fn num(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |v| format!("{v:.1}"))
}

/// How one row of the table reads a report.
type Figure = dyn Fn(&SoakReport) -> String;

fn print(reports: &[SoakReport]) {
    let column = |f: &Figure| -> String {
        reports
            .iter()
            .map(|r| format!("{:>14}", f(r)))
            .collect::<String>()
    };
    println!("{:<36}{}", "", column(&|r| r.name.clone()));
    let rows: [(&str, &Figure); 14] = [
        ("seconds", &|r| format!("{:.0}", r.seconds)),
        ("frames decoded /s", &|r| {
            format!("{:.1}", r.frames as f64 / r.seconds)
        }),
        ("capture -> decoded ms p50", &|r| {
            num(percentile(&r.latency_ms, 0.5))
        }),
        ("capture -> decoded ms p95", &|r| {
            num(percentile(&r.latency_ms, 0.95))
        }),
        ("capture -> decoded ms p99", &|r| {
            num(percentile(&r.latency_ms, 0.99))
        }),
        ("input delay ms p50", &|r| {
            num(percentile(&r.input_delay_ms, 0.5))
        }),
        ("input delay ms p99", &|r| {
            num(percentile(&r.input_delay_ms, 0.99))
        }),
        ("pointer moves injected / sent", &|r| {
            format!("{}/{}", r.moves_injected, r.moves_sent)
        }),
        ("wire kB/s (both ways)", &|r| {
            format!("{:.1}", r.bytes as f64 / 1000.0 / r.seconds)
        }),
        ("datagrams (both ways)", &|r| r.datagrams.to_string()),
        ("lost / dropped by the queue", &|r| {
            format!("{}/{}", r.lost, r.queue_drops)
        }),
        ("resident MiB at start", &|r| {
            num(r.rss_start_kib.map(|k| k as f64 / 1024.0))
        }),
        ("resident MiB a tenth in", &|r| {
            num(r.rss_warm_kib.map(|k| k as f64 / 1024.0))
        }),
        ("resident MiB at end", &|r| {
            num(r.rss_end_kib.map(|k| k as f64 / 1024.0))
        }),
    ];
    for (label, value) in rows {
        println!("{label:<36}{}", column(value));
    }
}

/// Runs the bench (see the module docs).
pub fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ra-soak: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let duration = Duration::from_secs_f64(args.minutes.max(0.05) * 60.0);
    let impaired = Impairment {
        loss: args.loss,
        rate_bps: Some(args.rate_kbps * 1000.0),
        ..Impairment::delay(Duration::from_millis(args.rtt_ms / 2))
    };
    let mut runs = vec![(
        format!(
            "{} ms {}% {}k",
            args.rtt_ms,
            args.loss * 100.0,
            args.rate_kbps
        ),
        impaired,
    )];
    if !args.no_clean {
        runs.push(("clean".to_owned(), Impairment::delay(Duration::ZERO)));
    }
    let mut reports = Vec::new();
    for (name, link) in runs {
        eprintln!("ra-soak: {name} for {:.1} min…", args.minutes);
        match runtime.block_on(soak(&name, link, &args, duration)) {
            Ok(report) => reports.push(report),
            Err(e) => {
                eprintln!("ra-soak: {name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "ra-soak: {}x{} synthetic picture changing 30/s, {} pointer moves/s; {} cores, load {}",
        args.width,
        args.height,
        args.input_hz,
        machine::cores(),
        machine::load_average().unwrap_or_else(|| "?".into())
    );
    print(&reports);
    ExitCode::SUCCESS
}
