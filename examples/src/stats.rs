//! `--stats`: the session's statistics once a second, as a `stats` event
//! (the same fields from the host and the helper; what a side cannot know
//! is zero).

use std::time::Duration;

use ra_core::stats::SessionStats;
use serde_json::json;

use crate::output::Output;

/// How often `--stats` prints.
pub const STATS_INTERVAL: Duration = Duration::from_secs(1);

/// A timer for `--stats`: ticks once a second when `enabled`, never otherwise.
#[derive(Debug)]
pub struct StatsTicker(Option<tokio::time::Interval>);

impl StatsTicker {
    /// Ticks once a second from one second on, if `enabled`.
    pub fn new(enabled: bool) -> Self {
        StatsTicker(enabled.then(|| {
            let start = tokio::time::Instant::now() + STATS_INTERVAL;
            let mut interval = tokio::time::interval_at(start, STATS_INTERVAL);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        }))
    }

    /// Waits for the next tick (forever when disabled): a `select!` branch.
    pub async fn tick(&mut self) {
        match &mut self.0 {
            Some(interval) => {
                interval.tick().await;
            }
            None => std::future::pending().await,
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Prints `stats` as a `stats` event.
pub fn print_stats(output: Output, stats: &SessionStats) {
    let fields = json!({
        "rtt_us": stats.rtt.map(micros),
        "packets_sent": stats.packets_sent,
        "packets_lost": stats.packets_lost,
        "loss": stats.loss(),
        "bytes_sent": stats.bytes_sent,
        "bytes_received": stats.bytes_received,
        "target_bitrate": stats.target_bitrate,
        "target_frame_rate": stats.target_frame_rate,
        "frames_sent": stats.frames_sent,
        "frames_decoded": stats.frames_decoded,
        "frames_dropped": stats.frames_dropped,
        "encode_us_last": micros(stats.encode_time.last),
        "encode_us_mean": micros(stats.encode_time.mean),
        "decode_us_last": micros(stats.decode_time.last),
        "decode_us_mean": micros(stats.decode_time.mean),
        "input_events_sent": stats.input_events_sent,
        "input_events_injected": stats.input_events_injected,
        "input_events_held_back": stats.input_events_held_back,
        "messages_dropped": stats.messages_dropped,
        "events_dropped": stats.events_dropped,
    });
    output.event("stats", fields, || {
        let rtt = stats
            .rtt
            .map_or_else(|| "-".to_owned(), |rtt| format!("{:.1} ms", rtt.as_secs_f64() * 1e3));
        format!(
            "Stats: rtt {rtt}, loss {:.1} %, {} kB sent, {} kB received, target {} kbit/s at {:.0} fps, \
             frames {} sent / {} decoded / {} dropped, encode {:.1} ms, decode {:.1} ms, \
             input {} sent / {} injected / {} held back.",
            stats.loss() * 100.0,
            stats.bytes_sent / 1000,
            stats.bytes_received / 1000,
            stats.target_bitrate / 1000,
            stats.target_frame_rate,
            stats.frames_sent,
            stats.frames_decoded,
            stats.frames_dropped,
            stats.encode_time.mean.as_secs_f64() * 1e3,
            stats.decode_time.mean.as_secs_f64() * 1e3,
            stats.input_events_sent,
            stats.input_events_injected,
            stats.input_events_held_back,
        )
    });
}
