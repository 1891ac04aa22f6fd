//! The report: order statistics of every measurement, as a plain-text table
//! or as one JSON object.

use std::time::Duration;

use serde_json::{Value, json};

use super::Args;
use super::codec::CodecReport;
use super::connect::{ConnectReport, ConnectRun};
use crate::stats::{ms, nearest_rank};

/// The machine the numbers came from.
pub(crate) struct Machine {
    /// Cores available to this process.
    pub(crate) cores: usize,
    /// `/proc/loadavg` before the measurements, if readable.
    pub(crate) load_before: Option<String>,
    /// `/proc/loadavg` after the measurements, if readable.
    pub(crate) load_after: Option<String>,
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
        let rank = |p: f64| nearest_rank(&sorted, p);
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

/// The statistics of `samples`, or JSON `null` without samples.
fn stats_json(samples: &[f64]) -> Value {
    Stats::of(samples).map_or(Value::Null, Stats::to_json)
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
pub(crate) fn report_json(
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
pub(crate) fn report_text(
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
