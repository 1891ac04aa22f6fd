//! `--choose-settings`: the typing and window scenarios recorded once, then
//! replayed through OpenH264 with each settings variant.

use std::time::{Duration, Instant};

use ra_capture::x11::X11Capturer;
use ra_capture::xvfb::Xvfb;
use ra_codec::{
    ContentKind, EncoderSettings, OpenH264Decoder, OpenH264Encoder, RateControl, psnr_bgra,
};
use ra_core::media::{Capturer, DecodedFrame, Decoder, DisplayId, Encoder, Frame, Rect, Timestamp};

use super::cpu::process_ticks;
use super::driver::Driver;
use super::report::num;
use super::scenes::Scenario;
use super::{Args, HEIGHT, PICTURE_BYTES, Res, STEP_TIMEOUT, WIDTH};
use crate::stats::{ms, percentile, psnr_of_mean};

/// One captured frame: what changed and the pixels there.
struct RecordedFrame {
    /// Capture timestamp.
    captured_at: Timestamp,
    /// Its damage as the capturer reported it.
    damage: Vec<Rect>,
    /// The pixels of each damaged rectangle, rows packed.
    patches: Vec<(Rect, Vec<u8>)>,
}

/// A scenario as the capturer saw it.
struct Recording {
    /// The first picture, stride 4 × width.
    base: Vec<u8>,
    /// Every frame; the first one is `base` (whole damage, no patches).
    frames: Vec<RecordedFrame>,
}

/// Copies the damaged rectangles of `frame`.
fn patches_of(frame: &Frame<'_>) -> Vec<(Rect, Vec<u8>)> {
    frame
        .damage
        .iter()
        .filter(|r| !r.is_empty())
        .filter_map(|r| {
            let (x, y) = (usize::try_from(r.x).ok()?, usize::try_from(r.y).ok()?);
            let (w, h) = (r.width as usize, r.height as usize);
            let mut pixels = Vec::with_capacity(w * h * 4);
            for row in y..y + h {
                let start = row * frame.stride + x * 4;
                pixels.extend_from_slice(frame.data.get(start..start + w * 4)?);
            }
            Some((*r, pixels))
        })
        .collect()
}

/// Writes `patches` into `picture` (stride 4 × [`WIDTH`]).
fn apply(picture: &mut [u8], patches: &[(Rect, Vec<u8>)]) {
    let stride = usize::from(WIDTH) * 4;
    for (r, pixels) in patches {
        let (x, y, w) = (
            r.x.max(0) as usize,
            r.y.max(0) as usize,
            r.width as usize * 4,
        );
        for (i, row) in pixels.chunks_exact(w.max(1)).enumerate() {
            let start = (y + i) * stride + x * 4;
            if let Some(target) = picture.get_mut(start..start + w) {
                target.copy_from_slice(row);
            }
        }
    }
}

/// Records `scenario` for `duration`, capturing at most 30 times a
/// second as the pipeline does.
fn record(display: &str, scenario: Scenario, duration: Duration) -> Res<Recording> {
    let mut driver = Driver::start(display, scenario, duration)?;
    let mut capturer = X11Capturer::connect(Some(display)).map_err(|e| format!("capturer: {e}"))?;
    let (base, first) = {
        let frame = capturer
            .next_frame(STEP_TIMEOUT)
            .map_err(|e| format!("capture: {e}"))?
            .ok_or("no first frame")?;
        if frame.stride != usize::from(WIDTH) * 4 || frame.data.len() < PICTURE_BYTES {
            return Err("unexpected picture layout".into());
        }
        (
            frame.data[..PICTURE_BYTES].to_vec(),
            RecordedFrame {
                captured_at: frame.captured_at,
                damage: vec![Rect::new(0, 0, u32::from(WIDTH), u32::from(HEIGHT))],
                patches: Vec::new(),
            },
        )
    };
    let mut frames = vec![first];
    let period = Duration::from_secs(1) / 30;
    let mut last = Instant::now();
    let mut finished = false;
    driver.go();
    loop {
        if !finished && let Some(outcome) = driver.try_finished() {
            outcome?;
            finished = true;
        }
        let wait = period.saturating_sub(last.elapsed());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        match capturer
            .next_frame(Duration::from_millis(50))
            .map_err(|e| format!("capture: {e}"))?
        {
            Some(frame) => {
                last = Instant::now();
                frames.push(RecordedFrame {
                    captured_at: frame.captured_at,
                    damage: frame.damage.clone(),
                    patches: patches_of(&frame),
                });
            }
            // The scene is over and everything it drew was captured.
            None if finished => break,
            None => {}
        }
    }
    Ok(Recording { base, frames })
}

/// One settings variant on one recording.
struct VariantResult {
    /// The settings.
    settings: EncoderSettings,
    /// Bytes a second without the first (IDR) frame.
    kb_s: f64,
    /// The first frame's bytes.
    idr_bytes: usize,
    /// Encode ms of every frame but the first (encoder start-up).
    encode_ms: Vec<f64>,
    /// Process CPU ms per frame over the encode pass.
    cpu_ms_per_frame: f64,
    /// Frames rate control skipped.
    skipped: usize,
    /// PSNR of each coded frame against its own source, dB (codec loss).
    psnr_coded: Vec<f64>,
    /// PSNR of the picture shown after each frame (the previous one when
    /// a frame was skipped) against that frame's source, dB.
    psnr_shown: Vec<f64>,
    /// PSNR of the first (IDR) picture, dB: what a static screen keeps.
    psnr_idr: Option<f64>,
}

/// Encodes `recording` with `settings`, then decodes and compares.
fn replay(recording: &Recording, settings: EncoderSettings, ticks: f64) -> Res<VariantResult> {
    let (w, h) = (u32::from(WIDTH), u32::from(HEIGHT));
    let stride = usize::from(WIDTH) * 4;
    let mut encoder = OpenH264Encoder::new(settings);
    let mut picture = recording.base.clone();
    let mut outputs = Vec::with_capacity(recording.frames.len());
    let mut encode_ms = Vec::new();
    let pid = std::process::id();
    let cpu_before = process_ticks(pid);
    for (index, f) in recording.frames.iter().enumerate() {
        apply(&mut picture, &f.patches);
        let frame = Frame {
            width: w,
            height: h,
            stride,
            data: &picture,
            damage: f.damage.clone(),
            captured_at: f.captured_at,
            display: DisplayId(0),
        };
        let start = Instant::now();
        let encoded = encoder.encode(&frame, false)?;
        if index > 0 {
            encode_ms.push(ms(start.elapsed()));
        }
        outputs.push(encoded);
    }
    let cpu_after = process_ticks(pid);
    let cpu_ms_per_frame = cpu_before.zip(cpu_after).map_or(f64::NAN, |(b, a)| {
        a.saturating_sub(b) as f64 / ticks * 1000.0 / recording.frames.len().max(1) as f64
    });

    let mut decoder = OpenH264Decoder::new()?;
    let mut picture = recording.base.clone();
    let mut shown: Option<DecodedFrame> = None;
    let (mut psnr_coded, mut psnr_shown) = (Vec::new(), Vec::new());
    for (f, encoded) in recording.frames.iter().zip(&outputs) {
        apply(&mut picture, &f.patches);
        let mut coded = false;
        if let Some(encoded) = encoded
            && let Some(decoded) = decoder.decode(encoded)?
        {
            shown = Some(decoded);
            coded = true;
        }
        if let Some(shown) = &shown {
            let psnr = psnr_bgra(&shown.data, shown.stride, &picture, stride, w, h);
            psnr_shown.push(psnr);
            if coded {
                psnr_coded.push(psnr);
            }
        }
    }
    let first = recording.frames.first().map(|f| f.captured_at);
    let last = recording.frames.last().map(|f| f.captured_at);
    let seconds = first
        .zip(last)
        .map_or(0.0, |(a, b)| a.duration_until(b).as_secs_f64());
    let bytes: usize = outputs.iter().skip(1).flatten().map(|e| e.data.len()).sum();
    Ok(VariantResult {
        settings,
        kb_s: if seconds > 0.0 {
            bytes as f64 / 1000.0 / seconds
        } else {
            f64::NAN
        },
        idr_bytes: outputs
            .first()
            .and_then(|o| o.as_ref())
            .map_or(0, |e| e.data.len()),
        encode_ms,
        cpu_ms_per_frame,
        skipped: outputs.iter().filter(|o| o.is_none()).count(),
        psnr_idr: psnr_coded.first().copied(),
        psnr_coded,
        psnr_shown,
    })
}

/// The `--choose-settings` mode.
pub(crate) fn choose_settings(args: &Args, xvfb: &Xvfb, ticks: f64) -> Res<String> {
    let display = xvfb.display();
    let mut out = String::new();
    let variants: Vec<EncoderSettings> = [ContentKind::Screen, ContentKind::Camera]
        .into_iter()
        .flat_map(|content| {
            [1u16, 2, 0].into_iter().flat_map(move |threads| {
                [RateControl::Bitrate, RateControl::Quality]
                    .into_iter()
                    .map(move |rate_control| EncoderSettings {
                        content,
                        threads,
                        rate_control,
                        ..EncoderSettings::default()
                    })
            })
        })
        .collect();
    for scenario in [Scenario::Typing, Scenario::Window] {
        eprintln!(
            "ra-screen-bench: recording {} for {:.1} s…",
            scenario.name(),
            args.record_duration
        );
        let recording = record(
            &display,
            scenario,
            Duration::from_secs_f64(args.record_duration),
        )?;
        let seconds = recording
            .frames
            .first()
            .zip(recording.frames.last())
            .map_or(0.0, |(a, b)| {
                a.captured_at.duration_until(b.captured_at).as_secs_f64()
            });
        out += &format!(
            "\n{}: {} frames captured over {:.2} s ({:.1} /s); defaults {:?}\n",
            scenario.name(),
            recording.frames.len(),
            seconds,
            recording.frames.len().saturating_sub(1) as f64 / seconds.max(1e-9),
            EncoderSettings::default(),
        );
        out += &format!(
            "{:<8} {:>7} {:<8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} {:>7} {:>7}\n",
            "content",
            "threads",
            "rc",
            "kB/s",
            "IDR kB",
            "IDR dB",
            "enc p50",
            "enc p95",
            "CPU ms/f",
            "skipped",
            "coded",
            "min",
            "shown"
        );
        out += &format!("{}\n", "-".repeat(105));
        for settings in &variants {
            eprintln!(
                "ra-screen-bench:   {:?} {} threads {:?}…",
                settings.content, settings.threads, settings.rate_control
            );
            let r = replay(&recording, *settings, ticks)?;
            out += &format!(
                "{:<8} {:>7} {:<8} {:>8.2} {:>7.1} {:>7} {:>7.2} {:>7.2} {:>9.2} {:>7} {:>7} {:>7} {:>7}\n",
                format!("{:?}", r.settings.content),
                r.settings.threads,
                format!("{:?}", r.settings.rate_control),
                r.kb_s,
                r.idr_bytes as f64 / 1000.0,
                num(r.psnr_idr, 2),
                percentile(&r.encode_ms, 0.5).unwrap_or(f64::NAN),
                percentile(&r.encode_ms, 0.95).unwrap_or(f64::NAN),
                r.cpu_ms_per_frame,
                r.skipped,
                num(psnr_of_mean(&r.psnr_coded), 2),
                num(r.psnr_coded.iter().copied().reduce(f64::min), 2),
                num(psnr_of_mean(&r.psnr_shown), 2),
            );
        }
    }
    out += "\nkB/s: without the first (IDR) frame. IDR dB: luma PSNR of that first picture, \
            which a static screen keeps.\nenc: wall ms per encode call (the first left out). \
            CPU ms/f: process CPU over the encode pass, per frame.\nskipped: frames rate control \
            dropped. coded / min: luma PSNR (dB, of the mean MSE / worst) of each coded frame \
            against its own source.\nshown: the same over every frame, of the picture a viewer \
            sees then (a skipped frame leaves the previous one, so a moving window jumps).\n";
    Ok(out)
}
