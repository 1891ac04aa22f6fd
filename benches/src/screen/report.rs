//! The report: one table of every number per scenario, then each §5 target
//! of the design with its verdict, and the notes of the runs.

use super::baseline::FfmpegReport;
use super::scenes::Scenario;
use super::session::OursReport;
use crate::stats::{percentile, psnr_of_mean};

/// One scenario's results.
pub(crate) struct ScenarioResult {
    /// Which.
    pub(crate) scenario: Scenario,
    /// ra's side.
    pub(crate) ours: Result<OursReport, String>,
    /// ffmpeg's side; `None` when not run.
    pub(crate) theirs: Option<Result<FfmpegReport, String>>,
}

/// A number with `decimals`, or `-`.
pub(crate) fn num(value: Option<f64>, decimals: usize) -> String {
    match value {
        Some(v) if v.is_nan() => "-".into(),
        Some(v) if v.is_infinite() => "inf".into(),
        Some(v) => format!("{v:.decimals$}"),
        None => "-".into(),
    }
}

/// Width of a table's label column.
const LABEL: usize = 50;
/// Width of a table's value columns.
const COLUMN: usize = 10;

/// A table row: a label and one cell per scenario.
fn row(label: &str, cells: impl IntoIterator<Item = String>) -> String {
    let mut line = format!("{label:<LABEL$}");
    for cell in cells {
        line += &format!(" {cell:>COLUMN$}");
    }
    line + "\n"
}

/// The main table.
pub(crate) fn table(results: &[ScenarioResult]) -> String {
    let mut out = String::new();
    let names = results.iter().map(|r| r.scenario.name().to_owned());
    let header = row("", names);
    out += &header;
    out += &format!("{}\n", "-".repeat(header.trim_end().len()));
    let ours = |f: &dyn Fn(&OursReport) -> String| -> Vec<String> {
        results
            .iter()
            .map(|r| r.ours.as_ref().map_or("failed".into(), f))
            .collect()
    };
    let theirs = |f: &dyn Fn(&FfmpegReport) -> String| -> Vec<String> {
        results
            .iter()
            .map(|r| match &r.theirs {
                Some(Ok(t)) => f(t),
                Some(Err(_)) => "failed".into(),
                None => "-".into(),
            })
            .collect()
    };
    let both = |f: &dyn Fn(&OursReport, &FfmpegReport) -> String| -> Vec<String> {
        results
            .iter()
            .map(|r| match (&r.ours, &r.theirs) {
                (Ok(o), Some(Ok(t))) => f(o, t),
                _ => "-".into(),
            })
            .collect()
    };
    let per_s = |count: f64, seconds: f64| {
        if seconds > 0.0 {
            count / seconds
        } else {
            f64::NAN
        }
    };
    let kb_s = |bytes: u64, seconds: f64| per_s(bytes as f64 / 1000.0, seconds);
    let ratio = |a: f64, b: f64| if b > 0.0 { Some(a / b) } else { None };

    out += "ra (screen capture -> OpenH264 -> QUIC loopback -> decode)\n";
    out += &row(
        "  changes drawn /s",
        ours(&|o| num(Some(per_s(o.changes as f64, o.seconds)), 1)),
    );
    out += &row(
        "  frames decoded /s (captured in the window)",
        ours(&|o| num(Some(per_s(o.frames as f64, o.seconds)), 1)),
    );
    out += &row(
        "  capture ms p50 (damage -> frame)",
        ours(&|o| num(percentile(&o.capture_ms, 0.5), 2)),
    );
    out += &row(
        "  capture ms p95",
        ours(&|o| num(percentile(&o.capture_ms, 0.95), 2)),
    );
    out += &row(
        "  capture CPU ms per frame (in next_frame + capture threads)",
        ours(&|o| num(o.capture_cpu_ms_per_frame(), 2)),
    );
    out += &row(
        "  (next_frame wall ms p50, waiting included)",
        ours(&|o| num(percentile(&o.capture_wall_ms, 0.5), 2)),
    );
    out += &row(
        "  encode calls in the window",
        ours(&|o| o.encode_calls.to_string()),
    );
    out += &row(
        "  of which skipped by rate control",
        ours(&|o| o.encode_skipped.to_string()),
    );
    out += &row(
        "  encode ms p50",
        ours(&|o| num(percentile(&o.encode_ms, 0.5), 2)),
    );
    out += &row(
        "  encode ms p95",
        ours(&|o| num(percentile(&o.encode_ms, 0.95), 2)),
    );
    out += &row(
        "  capture -> decoded ms p50",
        ours(&|o| num(percentile(&o.latency_ms, 0.5), 1)),
    );
    out += &row(
        "  capture -> decoded ms p95",
        ours(&|o| num(percentile(&o.latency_ms, 0.95), 1)),
    );
    out += &row(
        "  encoded kB/s",
        ours(&|o| num(Some(kb_s(o.encoded_bytes, o.seconds)), 2)),
    );
    out += &row(
        "  encoded kB, window + settling (all it cost)",
        ours(&|o| num(Some(o.encoded_bytes_total as f64 / 1000.0), 1)),
    );
    out += &row(
        "  wire kB/s (QUIC both ways + UDP/IP headers)",
        ours(&|o| num(Some(kb_s(o.wire_bytes, o.seconds)), 2)),
    );
    out += &row(
        "  CPU cores: ra-video-pipeline",
        ours(&|o| num(Some(per_s(o.cpu.pipeline, o.seconds)), 2)),
    );
    out += &row(
        "  CPU cores: capture threads (Wayland: ra-pipewire)",
        ours(&|o| num(Some(per_s(o.cpu.capture, o.seconds)), 2)),
    );
    out += &row(
        "  CPU cores: tokio (QUIC both ends, proxy)",
        ours(&|o| num(Some(per_s(o.cpu.runtime, o.seconds)), 2)),
    );
    out += &row(
        "  CPU cores: host (pipeline + capture + tokio, upper bound)",
        ours(&|o| num(Some(per_s(o.cpu.host(), o.seconds)), 2)),
    );
    out += &row(
        "  CPU cores: helper decode thread",
        ours(&|o| num(Some(per_s(o.cpu.decode, o.seconds)), 2)),
    );
    out += &row(
        "  CPU cores: bench (drawing, damage watch)",
        ours(&|o| num(Some(per_s(o.cpu.bench, o.seconds)), 2)),
    );
    out += &row(
        "  CPU cores: display server (not counted)",
        ours(&|o| num(o.xvfb_cpu.map(|c| per_s(c, o.seconds)), 2)),
    );
    out += &row(
        "  PSNR-Y dB sampled (codec only, mean MSE)",
        ours(&|o| num(psnr_of_mean(&o.psnr_sampled), 2)),
    );
    out += &row(
        "  PSNR-Y dB sampled, worst frame",
        ours(&|o| num(o.psnr_sampled.iter().copied().reduce(f64::min), 2)),
    );
    out += &row(
        "  PSNR-Y dB final (shown vs settled screen)",
        ours(&|o| num(o.psnr_final, 2)),
    );

    out += "ffmpeg x11grab + libx264 ultrafast zerolatency (30 fps)\n";
    out += &row(
        "  changes drawn /s",
        theirs(&|t| num(Some(per_s(t.changes as f64, t.seconds)), 1)),
    );
    out += &row(
        "  frames encoded /s",
        theirs(&|t| num(Some(per_s(t.frames as f64, t.seconds)), 1)),
    );
    out += &row(
        "  stream kB/s",
        theirs(&|t| num(Some(kb_s(t.bytes, t.seconds)), 2)),
    );
    out += &row(
        "  stream kB, window + 1.5 s tail (all it cost)",
        theirs(&|t| num(Some(t.bytes_total as f64 / 1000.0), 1)),
    );
    out += &row(
        "  CPU cores: ffmpeg",
        theirs(&|t| num(Some(per_s(t.cpu, t.seconds)), 2)),
    );
    out += &row(
        "  CPU cores: display server (not counted)",
        theirs(&|t| num(t.xvfb_cpu.map(|c| per_s(c, t.seconds)), 2)),
    );
    out += &row(
        "  PSNR-Y dB final (shown vs settled screen)",
        theirs(&|t| num(t.psnr_final, 2)),
    );

    out += "ra / ffmpeg\n";
    out += &row(
        "  encoded bytes ratio, window + settling/tail",
        both(&|o, t| num(ratio(o.encoded_bytes_total as f64, t.bytes_total as f64), 2)),
    );
    out += &row(
        "  encoded bytes ratio, window",
        both(&|o, t| {
            num(
                ratio(kb_s(o.encoded_bytes, o.seconds), kb_s(t.bytes, t.seconds)),
                2,
            )
        }),
    );
    out += &row(
        "  wire bytes ratio",
        both(&|o, t| {
            num(
                ratio(kb_s(o.wire_bytes, o.seconds), kb_s(t.bytes, t.seconds)),
                2,
            )
        }),
    );
    out += &row(
        "  CPU ratio (host upper bound / ffmpeg)",
        both(&|o, t| {
            num(
                ratio(per_s(o.cpu.host(), o.seconds), per_s(t.cpu, t.seconds)),
                2,
            )
        }),
    );
    out += &row(
        "  frame rate ratio",
        both(&|o, t| {
            num(
                ratio(
                    per_s(o.frames as f64, o.seconds),
                    per_s(t.frames as f64, t.seconds),
                ),
                2,
            )
        }),
    );
    out += &row(
        "  final PSNR difference, dB",
        both(&|o, t| num(o.psnr_final.zip(t.psnr_final).map(|(a, b)| a - b), 2)),
    );
    out
}

/// "pass"/"MISS" for `value` against an upper `limit`, and by how much.
fn judge_max(value: f64, limit: f64, unit: &str) -> String {
    if value.is_nan() {
        return "not measured".into();
    }
    if value <= limit {
        let margin = if limit > 0.0 {
            format!(" ({:.0}% under)", (limit - value) / limit * 100.0)
        } else {
            String::new()
        };
        format!("pass{margin}")
    } else {
        let over = if limit > 0.0 {
            format!(", {:.0}% over", (value - limit) / limit * 100.0)
        } else {
            String::new()
        };
        format!("MISS by {:.2} {unit}{over}", value - limit)
    }
}

/// One target line.
fn target_line(target: &str, scenario: &str, value: &str, verdict: &str) -> String {
    format!("{target:<38} {scenario:<10} {value:>16}  {verdict}\n")
}

/// The §5 targets, per scenario.
pub(crate) fn targets(results: &[ScenarioResult]) -> String {
    let mut out = String::new();
    out += &target_line("target (1920x1080)", "scenario", "measured", "verdict");
    out += &format!("{}\n", "-".repeat(96));
    for r in results {
        let Ok(o) = &r.ours else { continue };
        if let Some(p95) = percentile(&o.capture_ms, 0.95) {
            out += &target_line(
                "capture <= 2 ms per frame (p95)",
                r.scenario.name(),
                &format!("{p95:.2} ms"),
                &judge_max(p95, 2.0, "ms"),
            );
        }
    }
    for r in results {
        let Ok(o) = &r.ours else { continue };
        if let (Some(p50), Some(p95)) = (
            percentile(&o.latency_ms, 0.5),
            percentile(&o.latency_ms, 0.95),
        ) {
            out += &target_line(
                "capture->decoded p50 <= 20 ms",
                r.scenario.name(),
                &format!("{p50:.1} ms"),
                &judge_max(p50, 20.0, "ms"),
            );
            out += &target_line(
                "capture->decoded p95 <= 35 ms",
                r.scenario.name(),
                &format!("{p95:.1} ms"),
                &judge_max(p95, 35.0, "ms"),
            );
        }
    }
    for r in results.iter().filter(|r| r.scenario == Scenario::Static) {
        let Ok(o) = &r.ours else { continue };
        let wire = o.wire_bytes as f64 / 1000.0 / o.seconds.max(1e-9);
        out += &target_line(
            "static: <= 2 kB/s on the wire",
            "static",
            &format!("{wire:.3} kB/s"),
            &judge_max(wire, 2.0, "kB/s"),
        );
        let calls = o.encode_calls as f64;
        out += &target_line(
            "static: no encode work",
            "static",
            &format!("{} encodes", o.encode_calls),
            &judge_max(calls, 0.0, "encodes"),
        );
    }
    for r in results.iter().filter(|r| r.scenario != Scenario::Static) {
        let Ok(o) = &r.ours else { continue };
        let verdict = match &r.theirs {
            None => ("-".to_owned(), "not measured (no ffmpeg)".to_owned()),
            Some(Err(e)) => ("-".to_owned(), format!("not measured ({e})")),
            Some(Ok(t)) => {
                // Whole cost of reaching the final picture whose PSNR is compared.
                let (ours, theirs) = (o.encoded_bytes_total as f64, t.bytes_total as f64);
                let bytes_ratio = if theirs > 0.0 {
                    ours / theirs
                } else {
                    f64::NAN
                };
                let bytes_verdict = judge_max(bytes_ratio, 1.0, "x");
                // `>=` also holds for two lossless (+inf) pictures.
                let quality_verdict = match o.psnr_final.zip(t.psnr_final) {
                    Some((a, b)) if a >= b => format!("PSNR {:+.2} dB: equal or better", a - b),
                    Some((a, b)) => format!(
                        "PSNR {:+.2} dB: MISS at this crf (worse quality; see x264 at a higher --x264-crf)",
                        a - b
                    ),
                    None => "PSNR not measured".into(),
                };
                (
                    format!("{bytes_ratio:.2}x x264"),
                    format!("{bytes_verdict}; {quality_verdict}"),
                )
            }
        };
        out += &target_line(
            "bytes <= 1.0x x264 at >= its PSNR",
            r.scenario.name(),
            &verdict.0,
            &verdict.1,
        );
    }
    for r in results.iter().filter(|r| r.scenario != Scenario::Static) {
        let Ok(o) = &r.ours else { continue };
        let seconds = o.seconds.max(1e-9);
        let cores = o.cpu.host() / seconds;
        let fps = o.frames as f64 / seconds;
        out += &target_line(
            "host CPU <= 1 core at 30 fps",
            r.scenario.name(),
            &format!("{cores:.2} @ {fps:.0} fps"),
            &judge_max(cores, 1.0, "cores"),
        );
    }
    out
}

/// The notes of every run and why any failed, one line each; empty when
/// there are none.
pub(crate) fn notes(results: &[ScenarioResult]) -> String {
    let mut notes = String::new();
    for r in results {
        match &r.ours {
            Ok(o) => {
                for note in &o.notes {
                    notes += &format!("  {} (ra): {note}\n", r.scenario.name());
                }
            }
            Err(e) => notes += &format!("  {} (ra): FAILED: {e}\n", r.scenario.name()),
        }
        match &r.theirs {
            Some(Ok(t)) => {
                for note in &t.notes {
                    notes += &format!("  {} (ffmpeg): {note}\n", r.scenario.name());
                }
            }
            Some(Err(e)) => notes += &format!("  {} (ffmpeg): FAILED: {e}\n", r.scenario.name()),
            None => {}
        }
    }
    notes
}
