//! `--compare-desktops`: the same scenes through ra on X11 (Xvfb, the X11
//! capturer) and then on Wayland (headless GNOME, the Wayland capturer),
//! each figure side by side with the Wayland/X11 ratio and whether it is
//! within the target of 1.5× (for figures where more is better — frames
//! per second, PSNR — the ratio is taken the other way round; PSNR as the
//! ratio of the mean squared errors).

use std::time::Duration;

use ra_codec::EncoderSettings;

use super::probes::DamageWatch;
use super::report::num;
use super::scenes::Scenario;
use super::session::OursReport;
use super::stage::{Desktop, Stage};
use super::{OursRun, Res};
use crate::stats::percentile;

/// How far Wayland may be from X11 on any figure.
const TARGET_RATIO: f64 = 1.5;

/// One scenario's results on one desktop.
type Side = Vec<(Scenario, Result<OursReport, String>)>;

/// Runs `scenarios` on each desktop in turn and returns the comparison.
///
/// # Errors
/// When a desktop cannot be started or watched.
pub(super) fn compare_desktops(
    scenarios: &[Scenario],
    duration: Duration,
    settings: EncoderSettings,
    ticks: f64,
    runtime: &tokio::runtime::Runtime,
) -> Res<String> {
    let mut sides: Vec<(Desktop, String, Side)> = Vec::new();
    // X11 first: once the Wayland canvas exists, every X client takes it.
    for desktop in [Desktop::X11, Desktop::Wayland] {
        let stage = Stage::start(desktop)?;
        let watch = DamageWatch::start(&stage.display())?;
        let run = OursRun {
            stage: &stage,
            watch: &watch,
            runtime,
            ticks,
            settings,
            duration,
        };
        let mut side = Vec::new();
        let mut capture = String::new();
        for &scenario in scenarios {
            eprintln!("ra-screen-bench: {} on {desktop:?}…", scenario.name());
            let result = run.scenario(scenario, None);
            if let Ok(report) = &result {
                capture.clone_from(&report.capture);
            }
            side.push((scenario, result));
        }
        sides.push((desktop, capture, side));
    }
    let [(_, x11_capture, x11), (_, wayland_capture, wayland)] = sides.as_slice() else {
        return Err("both desktops must run".into());
    };
    let mut out = format!(
        "X11: {x11_capture}\nWayland: {wayland_capture}\n\
         target: every figure of Wayland within {TARGET_RATIO}x of X11's\n"
    );
    for ((scenario, x11), (_, wayland)) in x11.iter().zip(wayland) {
        out += &format!(
            "\n{:<52} {:>9} {:>9} {:>7}  verdict\n",
            scenario.name(),
            "X11",
            "Wayland",
            "ratio"
        );
        match (x11, wayland) {
            (Ok(x), Ok(w)) => out += &figures(x, w),
            (Err(e), _) => out += &format!("  X11 failed: {e}\n"),
            (_, Err(e)) => out += &format!("  Wayland failed: {e}\n"),
        }
    }
    Ok(out)
}

/// Whether less or more of a figure is better.
#[derive(Clone, Copy)]
enum Better {
    Less,
    More,
    /// A PSNR: compared as the ratio of the mean squared errors.
    Psnr,
    /// Printed, not judged.
    Neither,
}

/// How a figure is read from a report.
type Figure = fn(&OursReport) -> Option<f64>;

/// The rows of one scenario.
fn figures(x: &OursReport, w: &OursReport) -> String {
    let rows: [(&str, Better, Figure); 11] = [
        ("  frames decoded /s", Better::More, |r| {
            Some(r.frames as f64 / r.seconds)
        }),
        ("  capture CPU ms per frame", Better::Less, |r| {
            r.capture_cpu_ms_per_frame()
        }),
        ("  drawn -> captured ms p50", Better::Less, |r| {
            percentile(&r.capture_ms, 0.5)
        }),
        ("  drawn -> captured ms p95", Better::Less, |r| {
            percentile(&r.capture_ms, 0.95)
        }),
        ("  capture -> decoded ms p50", Better::Less, |r| {
            percentile(&r.latency_ms, 0.5)
        }),
        ("  capture -> decoded ms p95", Better::Less, |r| {
            percentile(&r.latency_ms, 0.95)
        }),
        ("  host CPU cores (upper bound)", Better::Less, |r| {
            Some(r.cpu.host() / r.seconds)
        }),
        ("  encoded kB, window + settling", Better::Less, |r| {
            Some(r.encoded_bytes_total as f64 / 1000.0)
        }),
        ("  wire kB/s", Better::Less, |r| {
            Some(r.wire_bytes as f64 / 1000.0 / r.seconds)
        }),
        ("  PSNR-Y dB final", Better::Psnr, |r| r.psnr_final),
        (
            "  display server CPU cores (not ra's)",
            Better::Neither,
            |r| r.xvfb_cpu.map(|c| c / r.seconds),
        ),
    ];
    let mut out = String::new();
    for (label, better, figure) in rows {
        let (xv, wv) = (figure(x), figure(w));
        let ratio = match (xv, wv, better) {
            (Some(a), Some(b), Better::Less | Better::Neither) if a > 0.0 => Some(b / a),
            (Some(a), Some(b), Better::More) if b > 0.0 => Some(a / b),
            (Some(a), Some(b), Better::Psnr) => Some(10f64.powf((a - b) / 10.0)),
            _ => None,
        };
        let verdict = match (ratio, better) {
            (_, Better::Neither) => "",
            (Some(r), _) if r <= TARGET_RATIO => "pass",
            (Some(_), _) => "MISS",
            // Nothing on X11 (0 ms): nothing to be within.
            (None, _) => "-",
        };
        out += &format!(
            "{label:<52} {:>9} {:>9} {:>7}  {verdict}\n",
            num(xv, 2),
            num(wv, 2),
            num(ratio, 2)
        );
    }
    out
}
