//! The baseline: the same scenario captured and encoded by `ffmpeg -f
//! x11grab … -c:v libx264 -preset ultrafast -tune zerolatency`.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ra_codec::psnr_bgra;

use super::child::{ChildGuard, run_to_string};
use super::cpu::process_ticks;
use super::driver::Driver;
use super::screenshot::grab_screen;
use super::{HEIGHT, PICTURE_BYTES, Res, STEP_TIMEOUT, WIDTH, lock};

/// How long ffmpeg records past the window, so its last picture is the scene's end.
const FFMPEG_TAIL: f64 = 1.5;

/// ffmpeg's version line, or why it cannot be used.
pub(crate) fn ffmpeg_version() -> Result<String, String> {
    let text = run_to_string(
        Command::new("ffmpeg").args(["-hide_banner", "-version"]),
        Duration::from_secs(10),
    )
    .map_err(|e| e.to_string())?;
    let line = text.lines().next().unwrap_or_default().to_owned();
    if !line.starts_with("ffmpeg") {
        return Err("unexpected output of ffmpeg -version".into());
    }
    let encoders = run_to_string(
        Command::new("ffmpeg").args(["-hide_banner", "-encoders"]),
        Duration::from_secs(10),
    )
    .map_err(|e| e.to_string())?;
    if !encoders.contains("libx264") {
        return Err("this ffmpeg has no libx264".into());
    }
    Ok(line)
}

/// What ffmpeg wrote on stdout, with when each piece arrived.
#[derive(Default)]
struct Output {
    /// Everything so far.
    data: Vec<u8>,
    /// (arrival, end offset in `data`) per read.
    chunks: Vec<(Instant, usize)>,
}

/// Offsets of the NAL units in an Annex B stream that start a picture
/// (slices, IDR or not, whose `first_mb_in_slice` is 0).
fn picture_starts(data: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 4 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            let header = data[i + 3];
            let nal_type = header & 0x1f;
            // first_mb_in_slice is ue(v) first in the slice header: a 1
            // bit alone encodes 0.
            if (nal_type == 1 || nal_type == 5) && data[i + 4] & 0x80 != 0 {
                starts.push(i);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
}

/// The last picture of an H.264 stream, decoded by ffmpeg to BGRA.
fn ffmpeg_last_picture(stream: Vec<u8>) -> Res<Vec<u8>> {
    let mut child = ChildGuard::spawn(
        Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "error",
                "-f",
                "h264",
                "-i",
                "pipe:0",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "bgra",
                "pipe:1",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )?;
    let mut stdin = child.child.stdin.take().ok_or("no stdin")?;
    let mut stdout = child.child.stdout.take().ok_or("no stdout")?;
    let writer = std::thread::Builder::new()
        .name("bench-ffmpeg-in".into())
        .spawn(move || {
            let _ = stdin.write_all(&stream);
        })?;
    // Two buffers: a read cut short by the end of the stream leaves its
    // buffer undefined, so it must not be the last whole picture's.
    let mut reading = vec![0u8; PICTURE_BYTES];
    let mut last: Option<Vec<u8>> = None;
    while stdout.read_exact(&mut reading).is_ok() {
        reading = last
            .replace(reading)
            .unwrap_or_else(|| vec![0u8; PICTURE_BYTES]);
    }
    let _ = writer.join();
    child.wait_timeout(STEP_TIMEOUT)?;
    last.ok_or_else(|| "ffmpeg decoded no picture".into())
}

/// ffmpeg's numbers for one scenario.
#[derive(Debug, Default)]
pub(crate) struct FfmpegReport {
    /// Seconds of the window.
    pub(crate) seconds: f64,
    /// Changes drawn.
    pub(crate) changes: u64,
    /// Stream bytes that arrived in the window.
    pub(crate) bytes: u64,
    /// Stream bytes from the start to ffmpeg's end (the tail after the
    /// scene included: x264 goes on refining the now static picture).
    pub(crate) bytes_total: u64,
    /// Pictures that arrived in the window.
    pub(crate) frames: usize,
    /// CPU seconds of the child in the window.
    pub(crate) cpu: f64,
    /// Xvfb's CPU seconds in the window.
    pub(crate) xvfb_cpu: Option<f64>,
    /// Its last picture against the settled screen, dB.
    pub(crate) psnr_final: Option<f64>,
    /// Anything worth a note.
    pub(crate) notes: Vec<String>,
}

/// Runs one scenario with ffmpeg capturing and encoding.
pub(crate) fn run_ffmpeg(
    display: &str,
    xvfb_pid: u32,
    mut driver: Driver,
    duration: f64,
    ticks: f64,
    crf: Option<u32>,
) -> Res<FfmpegReport> {
    let record_for = format!("{:.3}", duration + FFMPEG_TAIL);
    let crf = crf.map(|crf| crf.to_string());
    let crf_args: &[&str] = match &crf {
        Some(crf) => &["-crf", crf],
        None => &[],
    };
    let mut child = ChildGuard::spawn(
        Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "error",
                "-nostats",
                "-f",
                "x11grab",
                "-draw_mouse",
                "0",
                "-video_size",
                "1920x1080",
                "-framerate",
                "30",
                "-i",
                display,
                "-t",
                &record_for,
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-tune",
                "zerolatency",
                "-pix_fmt",
                "yuv420p",
            ])
            .args(crf_args)
            .args([
                // Each packet to stdout as soon as it is encoded, so arrival
                // times are encode times.
                "-flush_packets",
                "1",
                "-f",
                "h264",
                "-",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?;
    let pid = child.child.id();
    let mut stdout = child.child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.child.stderr.take().ok_or("no stderr")?;
    let output = Arc::new(Mutex::new(Output::default()));
    let (first_tx, first_rx) = std_mpsc::channel::<()>();
    let reader = {
        let output = Arc::clone(&output);
        std::thread::Builder::new()
            .name("bench-ffmpeg-out".into())
            .spawn(move || {
                let mut buffer = vec![0u8; 1 << 16];
                let mut first = Some(first_tx);
                while let Ok(n) = stdout.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    let now = Instant::now();
                    let mut out = lock(&output);
                    out.data.extend_from_slice(&buffer[..n]);
                    let end = out.data.len();
                    out.chunks.push((now, end));
                    if let Some(first) = first.take() {
                        let _ = first.send(());
                    }
                }
            })?
    };
    let errors = std::thread::Builder::new()
        .name("bench-ffmpeg-err".into())
        .spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        })?;
    if first_rx.recv_timeout(STEP_TIMEOUT).is_err() {
        drop(child);
        let text = errors.join().unwrap_or_default();
        return Err(format!("ffmpeg wrote nothing: {}", text.trim()).into());
    }
    let cpu_before = process_ticks(pid);
    let xvfb_before = process_ticks(xvfb_pid);
    driver.go();
    let played = loop {
        if let Some(outcome) = driver.try_finished() {
            break outcome?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let cpu_after = process_ticks(pid);
    let xvfb_after = process_ticks(xvfb_pid);
    let status = child.wait_timeout(Duration::from_secs_f64(FFMPEG_TAIL) + STEP_TIMEOUT);
    let _ = reader.join();
    let stderr_text = errors.join().unwrap_or_default();
    let mut report = FfmpegReport {
        seconds: played.seconds(),
        changes: played.changes,
        cpu: cpu_before
            .zip(cpu_after)
            .map_or(f64::NAN, |(b, a)| a.saturating_sub(b) as f64 / ticks),
        xvfb_cpu: xvfb_before
            .zip(xvfb_after)
            .map(|(b, a)| a.saturating_sub(b) as f64 / ticks),
        ..FfmpegReport::default()
    };
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => report.notes.push(format!(
            "ffmpeg exited with {status}: {}",
            stderr_text.trim()
        )),
        Err(e) => report.notes.push(format!("ffmpeg: {e}")),
    }
    let output = std::mem::take(&mut *lock(&output));
    let in_window = |offset: usize| {
        // The read that brought this byte.
        let index = output.chunks.partition_point(|(_, end)| *end <= offset);
        output
            .chunks
            .get(index)
            .is_some_and(|(at, _)| played.contains(*at))
    };
    let mut previous_end = 0;
    for (at, end) in &output.chunks {
        if played.contains(*at) {
            report.bytes += (end - previous_end) as u64;
        }
        if *at >= played.start {
            report.bytes_total += (end - previous_end) as u64;
        }
        previous_end = *end;
    }
    report.frames = picture_starts(&output.data)
        .into_iter()
        .filter(|&offset| in_window(offset))
        .count();
    let screen = grab_screen(display);
    match (ffmpeg_last_picture(output.data), screen) {
        (Ok(picture), Ok(screen)) => {
            let stride = usize::from(WIDTH) * 4;
            report.psnr_final = Some(psnr_bgra(
                &picture,
                stride,
                &screen,
                stride,
                u32::from(WIDTH),
                u32::from(HEIGHT),
            ));
        }
        (Err(e), _) => report.notes.push(format!("decoding ffmpeg's stream: {e}")),
        (_, Err(e)) => report.notes.push(format!("final grab failed: {e}")),
    }
    Ok(report)
}
