//! CPU accounting from `/proc`: per thread of this process (split by role)
//! and per process (ffmpeg, Xvfb).

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use super::child::run_to_string;

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`, 100 when unknown).
pub(crate) fn clock_ticks() -> f64 {
    run_to_string(
        Command::new("getconf").arg("CLK_TCK"),
        Duration::from_secs(5),
    )
    .ok()
    .and_then(|s| s.trim().parse::<f64>().ok())
    .filter(|t| *t > 0.0)
    .unwrap_or(100.0)
}

/// The name, state and utime + stime (ticks) in a `/proc/…/stat` line.
fn parse_stat(text: &str) -> Option<(String, char, u64)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // After the name: state is field 3 of stat(5), utime 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, state, utime + stime))
}

/// utime + stime of process `pid`, all its threads, in ticks.
pub(crate) fn process_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text).map(|(_, _, ticks)| ticks)
}

/// Every thread of this process: id → (name, ticks).
pub(crate) fn threads_now() -> HashMap<u32, (String, u64)> {
    let mut threads = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return threads;
    };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        if let Ok(text) = std::fs::read_to_string(entry.path().join("stat"))
            && let Some((name, _, ticks)) = parse_stat(&text)
        {
            threads.insert(tid, (name, ticks));
        }
    }
    threads
}

/// CPU seconds of this process's threads over a window, by role.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CpuSplit {
    /// `ra-video-pipeline` (capture + encode, OpenH264 threads included).
    pub(crate) pipeline: f64,
    /// `ra-video-decode`.
    pub(crate) decode: f64,
    /// The capturer's own threads (`ra-pipewire`: the Wayland capturer
    /// takes PipeWire's buffers there; the X11 capturer has none).
    pub(crate) capture: f64,
    /// `bench-*`: drawing the scene, watching damage, reading ffmpeg.
    pub(crate) bench: f64,
    /// Everything else: tokio (both QUIC ends, the proxy, the collector), main.
    pub(crate) runtime: f64,
}

impl CpuSplit {
    /// The CPU used between two snapshots, in seconds.
    pub(crate) fn between(
        before: &HashMap<u32, (String, u64)>,
        after: &HashMap<u32, (String, u64)>,
        ticks_per_second: f64,
    ) -> CpuSplit {
        let mut split = CpuSplit::default();
        for (tid, (name, ticks)) in after {
            let earlier = before.get(tid).map_or(0, |(_, t)| *t);
            let seconds = ticks.saturating_sub(earlier) as f64 / ticks_per_second;
            // Thread names are cut to 15 bytes by the kernel.
            let slot = if name.starts_with("ra-video-pipe") {
                &mut split.pipeline
            } else if name.starts_with("ra-video-deco") {
                &mut split.decode
            } else if name.starts_with("ra-pipewire") {
                &mut split.capture
            } else if name.starts_with("bench-") {
                &mut split.bench
            } else {
                &mut split.runtime
            };
            *slot += seconds;
        }
        split
    }

    /// The host's share, an upper bound: pipeline + capture threads + runtime.
    pub(crate) fn host(&self) -> f64 {
        self.pipeline + self.capture + self.runtime
    }
}
