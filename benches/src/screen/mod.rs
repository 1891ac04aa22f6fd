//! `ra-screen-bench`: ra on a real X screen, scripted office-like scenarios,
//! against the usual baseline (`ffmpeg -f x11grab … -c:v libx264 -preset
//! ultrafast -tune zerolatency`). How to run it is in the binary's doc
//! (`benches/src/bin/ra-screen-bench.rs`); what it measures and how is here.
//!
//! # The desktops
//!
//! By default the scenes run on a private Xvfb, captured with the X11
//! capturer. `--desktop wayland` runs them on a private headless GNOME
//! desktop (mutter 43, software rendering), drawn by the same X client
//! through its Xwayland into a window covering the monitor, and captured by
//! the Wayland capturer through a mutter remote-desktop session (PipeWire;
//! no ffmpeg baseline there). There "capture ms" runs from the drawing to
//! the frame, so it includes mutter's compositing and recording; "capture
//! CPU ms per frame" is ra's own work: the pipeline thread's CPU inside
//! `next_frame` plus the capturer's PipeWire thread (`ra-pipewire`). The
//! display server's CPU row is mutter's. `--compare-desktops` runs ra on
//! both, one after the other, and prints each figure side by side with the
//! Wayland/X11 ratio against the target of 1.5× (`compare`).
//!
//! # The scenarios
//!
//! The bench starts its own Xvfb at 1920×1080 and draws on its root window
//! with an X client of its own (x11rb), paced by the wall clock at 30 changes
//! a second (a change that runs late is skipped, so the scene follows the
//! clock; nothing waits for the capture):
//!
//! - **static**: a desktop (wallpaper, icons, taskbar, two windows), unchanged;
//! - **typing**: characters typed one by one into a 1400×800 terminal (the
//!   core X font `fixed`, or glyph-sized rectangles without it), a new line
//!   at each line end, the terminal cleared when full;
//! - **scrolling**: a 1680×940 text viewer scrolled up one text line per
//!   change (`CopyArea` of the text, then the new bottom line drawn);
//! - **window**: a 600×400 window (title bar, text, a chart) moved across the
//!   desktop, composed off screen and copied in one request per change;
//! - **animation**: a full-screen plasma, computed per change and sent with
//!   `PutImage` in bands.
//!
//! # ra's side
//!
//! Per scenario, a real session over QUIC loopback: `invite` with
//! `X11Capturer::connect` (MIT-SHM + XDamage) and the OpenH264 encoder with
//! `EncoderSettings::default()` (`--content` overrides the content kind), a null injector and an application that
//! approves at once; `accept` with the OpenH264 decoder through a UDP proxy
//! that counts every datagram both ways. After the first (key)frame has
//! arrived the scenario runs for `--duration` seconds (the *window*); every
//! rate is over that window.
//!
//! - **capture ms**: the capturer is wrapped; for each frame it returns, the
//!   time from *the moment there was something to capture* to the return:
//!   from the call when damage was already pending, else from the first
//!   XDamage notification after the previous frame, as seen by a second X
//!   connection of the bench (`DamageWatch`). The plain `next_frame` wall
//!   time is printed too, but it includes waiting for the scene to change.
//! - **encode ms**: the encoder is wrapped, every `encode` call timed.
//! - **latency**: `ReceivedFrame::latency`, capture → decoded (one clock).
//!   Every tenth encoded frame is copied for PSNR (below) after it is encoded;
//!   the copy delays that frame, so those frames are left out of the latency.
//! - **bytes**: encoded bytes of the frames captured in the window, and what
//!   the proxy counted on the wire both ways (UDP payload, plus 28 bytes of
//!   IPv4 + UDP header per datagram). For the comparison with x264 the total
//!   from the scene's start through the settling counts (see below).
//! - **CPU**: `/proc/self/task/*/stat` (utime + stime per thread, in clock
//!   ticks, so ±1 tick per thread) over the window, split by thread name:
//!   `ra-video-pipeline` (capture + encode, and any OpenH264 threads, which
//!   inherit the name), `ra-video-decode` (the helper's decoder), the bench's
//!   own threads (`bench-*`: the scenario, the damage watcher) and the rest
//!   (tokio: both QUIC ends, the proxy, the bench's frame collector). *Host*
//!   is pipeline + the rest: an upper bound, since the rest also carries the
//!   helper's side of QUIC. Xvfb's CPU (drawing the scene and serving the
//!   captures) is printed apart for both ra and ffmpeg and counted in neither.
//! - **PSNR** (luma, `psnr_bgra`): *sampled*: every tenth encoded frame in the
//!   window against its own source picture (the capturer's MIT-SHM GetImage
//!   of that moment), so codec loss only; and *final*: once the scene has
//!   stopped and no frame came for 0.5 s, the last decoded picture against a
//!   fresh GetImage of the screen: what a helper looks at after the change,
//!   including any update that never came. "Final" is the quality compared
//!   with x264.
//!
//! # The baseline
//!
//! The same scenario again, with `ffmpeg -f x11grab -draw_mouse 0 -video_size
//! 1920x1080 -framerate 30 -i :N -c:v libx264 -preset ultrafast -tune
//! zerolatency -pix_fmt yuv420p -f h264 -` (the raw H.264 stream rather than
//! MPEG-TS, so its bytes compare with our encoded bytes without a container's
//! overhead; the pointer left out since ra sends it apart). The window starts
//! once ffmpeg has written its first frame; its bytes are what arrives on
//! its stdout in the window, its frames are counted from the stream (slices
//! that start a picture), its CPU is `/proc/PID/stat` of the child. ffmpeg
//! records 1.5 s past the window, so the scene is still at its end; the last
//! picture of its stream, decoded by ffmpeg to BGRA, against a GetImage grab
//! gives its final PSNR. x264 spends part of that tail refining the now static
//! picture, so the "bytes ≤ x264 at equal quality" target compares what each
//! side sent from the scene's start to its end *including* the tail (ra sends
//! nothing once the screen is still), with the final PSNRs. The first (IDR)
//! picture of the initial screen is outside the window on both sides.
//!
//! # `--choose-settings`
//!
//! Records the typing and window scenarios once (capturer pictures and
//! damage, 30 captures a second, in memory), then replays the recording
//! through OpenH264 with each combination of content kind (screen, camera),
//! threads (1, 2, 0 = auto) and rate control (bitrate, quality), the other
//! fields at their defaults: bytes a second (the first, IDR, frame left out),
//! the IDR's size and PSNR (what a static screen keeps), encode ms, process
//! CPU per frame during the encode pass, frames skipped by rate control, PSNR
//! of the coded frames against their own sources, and PSNR of the picture a
//! viewer sees after each frame (the previous one when a frame was skipped).
//!
//! # The parts
//!
//! This module parses the flags and runs each scenario once with ra and once
//! with ffmpeg; the rest is split by concern:
//!
//! - `scenes`: the five scenarios, what each change draws; `painter`: the X
//!   client that draws them; `driver`: plays a scenario on its own thread,
//!   paced by the wall clock;
//! - `probes`: the damage watch and the timed capturer and encoder; `cpu`:
//!   CPU time from `/proc`; `screenshot`: grabbing the settled screen;
//! - `session`: ra's side (proxy, approving host, frame-collecting helper);
//!   `baseline`: ffmpeg's side; `child`: the child processes it runs;
//! - `report`: the table and the §5 target verdicts;
//! - `settings`: `--choose-settings`.

mod baseline;
mod child;
mod compare;
mod cpu;
mod driver;
mod painter;
mod probes;
mod report;
mod scenes;
mod screenshot;
mod session;
mod settings;
mod stage;

use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use clap::{Parser, ValueEnum};
use ra_codec::{ContentKind, EncoderSettings};
use ra_core::media::Timestamp;

use crate::machine;
use baseline::{ffmpeg_version, run_ffmpeg};
use cpu::clock_ticks;
use driver::Driver;
use probes::DamageWatch;
use report::{ScenarioResult, notes, table, targets};
use scenes::Scenario;
use session::run_ours;
use settings::choose_settings;
use stage::{Desktop, Stage};

/// Screen width in pixels (the §5 targets are for 1920×1080).
const WIDTH: u16 = 1920;
/// Screen height in pixels.
const HEIGHT: u16 = 1080;
/// Changes per second every scenario draws (its nature, not a sync).
const CHANGE_RATE: f64 = 30.0;
/// How long a step of a run (Xvfb, a session, a first frame) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// Bytes of one BGRA picture of the screen.
const PICTURE_BYTES: usize = WIDTH as usize * HEIGHT as usize * 4;

/// Errors of the bench: printed, never panicked on.
type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A bench result.
type Res<T> = Result<T, BoxError>;

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(
    name = "ra-screen-bench",
    about = "ra on a real X screen (Xvfb, 1920x1080) against ffmpeg x11grab + libx264"
)]
struct Args {
    /// The desktop the scenes run on: Xvfb (`x11`), or a headless GNOME
    /// desktop captured through PipeWire (`wayland`; the scenes drawn
    /// through its Xwayland, no ffmpeg baseline there: compare with a run on
    /// `x11`).
    #[arg(long, value_enum, default_value = "x11")]
    desktop: Desktop,
    /// Run ra alone on X11 and then on Wayland, the same scenes, and print
    /// each figure side by side against the target (Wayland within 1.5x).
    #[arg(long, conflicts_with_all = ["desktop", "choose_settings"])]
    compare_desktops: bool,
    /// Seconds each scenario changes the screen, for ra and again for ffmpeg.
    #[arg(long, default_value_t = 6.0)]
    duration: f64,
    /// Scenarios to run, comma separated (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    scenario: Vec<Scenario>,
    /// Do not run the ffmpeg baseline.
    #[arg(long)]
    no_ffmpeg: bool,
    /// libx264 constant rate factor for the baseline (default: x264's own,
    /// 23); runs at several values show x264's bytes at ra's quality.
    #[arg(long)]
    x264_crf: Option<u32>,
    /// OpenH264 content kind for ra's side (default: `EncoderSettings::default()`'s).
    #[arg(long, value_enum)]
    content: Option<Content>,
    /// Save the settled screen of each scenario (ra's run) as DIR/NAME.png.
    #[arg(long, value_name = "DIR")]
    snapshots: Option<std::path::PathBuf>,
    /// Choose OpenH264 settings instead: replay recorded typing and window
    /// scenarios through each combination of content kind, threads and rate control.
    #[arg(long)]
    choose_settings: bool,
    /// Seconds recorded per scenario for `--choose-settings`.
    #[arg(long, default_value_t = 5.0)]
    record_duration: f64,
}

/// `--content`: [`ContentKind`] on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Content {
    /// [`ContentKind::Screen`].
    Screen,
    /// [`ContentKind::Camera`].
    Camera,
}

/// Locks a mutex, also after a panic elsewhere (the data is only samples).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Microseconds since the Unix epoch, the unit of frame timestamps.
fn micros(time: SystemTime) -> u64 {
    Timestamp::from(time).as_micros()
}

/// The scenarios, how long each changes the screen, and ra's encoder
/// settings, as the flags say.
fn plan(args: &Args) -> (Vec<Scenario>, Duration, EncoderSettings) {
    let scenarios = if args.scenario.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        args.scenario.clone()
    };
    let duration = Duration::from_secs_f64(args.duration.max(0.5));
    let settings = EncoderSettings {
        content: match args.content {
            None => EncoderSettings::default().content,
            Some(Content::Screen) => ContentKind::Screen,
            Some(Content::Camera) => ContentKind::Camera,
        },
        ..EncoderSettings::default()
    };
    (scenarios, duration, settings)
}

/// The runtime the sessions run on (`None`, said on stderr, if it cannot start).
fn start_runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(e) => {
            eprintln!("ra-screen-bench: cannot start tokio: {e}");
            None
        }
    }
}

/// `--compare-desktops`: ra on X11, then on Wayland; the report on stdout.
fn run_comparison(args: &Args, started: Instant, ticks: f64) -> ExitCode {
    let Some(runtime) = start_runtime() else {
        return ExitCode::FAILURE;
    };
    let (scenarios, duration, settings) = plan(args);
    let load_before = machine::load_average().unwrap_or_else(|| "?".into());
    let compared = compare::compare_desktops(&scenarios, duration, settings, ticks, &runtime);
    runtime.shutdown_timeout(Duration::from_secs(2));
    match compared {
        Ok(text) => {
            print!(
                "ra-screen-bench --compare-desktops{}
machine: {} cores, load average before \
                 {load_before}
screen: {WIDTH}x{HEIGHT}, scenarios change {CHANGE_RATE} times/s, \
                 {:.1} s each
ra's encoder: {settings:?}
{text}
load average after: {}; \
                 total bench time {:.1} s
",
                if cfg!(debug_assertions) {
                    " (DEBUG BUILD: use --release)"
                } else {
                    ""
                },
                machine::cores(),
                duration.as_secs_f64(),
                machine::load_average().as_deref().unwrap_or("?"),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ra-screen-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What running ra's side of a scenario needs.
struct OursRun<'a> {
    stage: &'a Stage,
    watch: &'a Arc<DamageWatch>,
    runtime: &'a tokio::runtime::Runtime,
    ticks: f64,
    settings: EncoderSettings,
    duration: Duration,
}

impl OursRun<'_> {
    /// Plays `scenario` through a real session; the settled screen saved
    /// to `snapshot` if given.
    fn scenario(
        &self,
        scenario: Scenario,
        snapshot: Option<std::path::PathBuf>,
    ) -> Result<session::OursReport, String> {
        Driver::start(&self.stage.display(), scenario, self.duration)
            .and_then(|driver| {
                self.runtime.block_on(run_ours(
                    self.stage,
                    driver,
                    Arc::clone(self.watch),
                    self.ticks,
                    self.settings,
                    snapshot,
                ))
            })
            .map_err(|e| e.to_string())
    }
}

/// Runs the bench: parses the flags, measures, prints the report on
/// stdout (progress goes to stderr).
pub fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let cores = machine::cores();
    let load_before = machine::load_average().unwrap_or_else(|| "?".into());
    let ticks = clock_ticks();
    if args.compare_desktops {
        return run_comparison(&args, started, ticks);
    }
    let stage = match Stage::start(args.desktop) {
        Ok(stage) => stage,
        Err(e) => {
            eprintln!("ra-screen-bench: cannot start the desktop: {e}");
            return ExitCode::FAILURE;
        }
    };
    let display = stage.display();
    let mut out = String::new();
    out += &format!(
        "ra-screen-bench report{}\nmachine: {cores} cores, load average before {load_before}\n\
         screen: {} {display} {WIDTH}x{HEIGHT}, scenarios change {CHANGE_RATE} times/s\n",
        if cfg!(debug_assertions) {
            " (DEBUG BUILD: use --release)"
        } else {
            ""
        },
        match args.desktop {
            Desktop::X11 => "Xvfb",
            Desktop::Wayland => "headless GNOME (Wayland), scenes drawn through Xwayland",
        },
    );

    if args.choose_settings {
        let Stage::X11(xvfb) = &stage else {
            eprintln!("ra-screen-bench: --choose-settings runs on --desktop x11 only");
            return ExitCode::FAILURE;
        };
        match choose_settings(&args, xvfb, ticks) {
            Ok(text) => out += &text,
            Err(e) => {
                eprintln!("ra-screen-bench: {e}");
                return ExitCode::FAILURE;
            }
        }
        out += &format!(
            "\nload average after: {}; total {:.1} s\n",
            machine::load_average().as_deref().unwrap_or("?"),
            started.elapsed().as_secs_f64()
        );
        print!("{out}");
        return ExitCode::SUCCESS;
    }

    let ffmpeg = if args.no_ffmpeg {
        Err("skipped (--no-ffmpeg)".to_owned())
    } else if args.desktop == Desktop::Wayland {
        Err(
            "x11grab reads an X screen, not a Wayland desktop: compare with --desktop x11"
                .to_owned(),
        )
    } else {
        ffmpeg_version()
    };
    match &ffmpeg {
        Ok(version) => {
            let crf = args
                .x264_crf
                .map_or("x264's default 23".to_owned(), |c| c.to_string());
            out += &format!("baseline: {version}; libx264 crf {crf}\n");
        }
        Err(e) => {
            out += &format!(
                "baseline: ffmpeg not available ({e}); ra measured alone \
                 (install it with scripts/setup.sh or apt-get install ffmpeg)\n"
            );
        }
    }
    let watch = match DamageWatch::start(&display) {
        Ok(watch) => watch,
        Err(e) => {
            eprintln!("ra-screen-bench: damage watch: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(runtime) = start_runtime() else {
        return ExitCode::FAILURE;
    };
    let (scenarios, duration, settings) = plan(&args);
    out += &format!("ra's encoder: {settings:?}\n");
    let mut results = Vec::new();
    for scenario in scenarios {
        eprintln!("ra-screen-bench: {} with ra…", scenario.name());
        let run = OursRun {
            stage: &stage,
            watch: &watch,
            runtime: &runtime,
            ticks,
            settings,
            duration,
        };
        let snapshot = args
            .snapshots
            .as_ref()
            .map(|dir| dir.join(format!("{}.png", scenario.name())));
        let ours = run.scenario(scenario, snapshot);
        if let Err(e) = &ours {
            eprintln!("ra-screen-bench: {}: ra failed: {e}", scenario.name());
        }
        let theirs = ffmpeg.is_ok().then(|| {
            eprintln!("ra-screen-bench: {} with ffmpeg…", scenario.name());
            let result = Driver::start(&display, scenario, duration)
                .and_then(|driver| {
                    run_ffmpeg(
                        &display,
                        stage.server_pid(),
                        driver,
                        duration.as_secs_f64(),
                        ticks,
                        args.x264_crf,
                    )
                })
                .map_err(|e| e.to_string());
            if let Err(e) = &result {
                eprintln!("ra-screen-bench: {}: ffmpeg failed: {e}", scenario.name());
            }
            result
        });
        results.push(ScenarioResult {
            scenario,
            ours,
            theirs,
        });
    }
    runtime.shutdown_timeout(Duration::from_secs(2));

    if let Some(Ok(o)) = results.first().map(|r| &r.ours) {
        out += &format!(
            "capture: {}; the display server in the CPU rows: {}\n",
            o.capture,
            stage.server_name()
        );
    }
    out += &format!(
        "window: {:.1} s of change per scenario and side\n\n",
        duration.as_secs_f64()
    );
    out += &table(&results);
    out += "\n";
    out += &targets(&results);
    let notes = notes(&results);
    if !notes.is_empty() {
        out += &format!("\nnotes:\n{notes}");
    }
    out += &format!(
        "\nload average after: {}; total bench time {:.1} s\n",
        machine::load_average().as_deref().unwrap_or("?"),
        started.elapsed().as_secs_f64()
    );
    print!("{out}");
    if results.iter().any(|r| r.ours.is_err()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
