//! How fast to send video. A sans-IO controller, fed what quinn knows of the
//! path (smoothed and minimum RTT, congestion window, congestion events) and
//! the frames the helper acknowledged; it answers the encoder's bitrate and
//! the capture's frame interval, so latency does not grow behind a slow link.
//!
//! Three signals, each cheaper to act on than the last to miss:
//! - a congestion event (quinn saw loss): cut hard, once per round trip;
//! - RTT above the path's minimum (a queue is building in front of the
//!   bottleneck): cut gently, once per round trip, before loss happens;
//! - the sender waiting for room while packets queue on the path (frames take
//!   longer than the frame interval to cross): stay under what the link was
//!   seen to deliver. Waiting for room without a queue is a burst (a big
//!   keyframe on a fast link): the rate holds, it does not fall to what an
//!   idle screen happened to deliver.
//!
//! Otherwise the rate probes upwards, never above what the congestion window
//! allows per round trip. When the link is the limit the frame rate falls with
//! the bitrate, so each frame keeps enough bits to be legible.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What quinn reports about the path, sampled when a frame is sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathSample {
    /// Smoothed round-trip time.
    pub(crate) rtt: Duration,
    /// Lowest round-trip time seen: the path without queueing.
    pub(crate) min_rtt: Duration,
    /// Congestion window, bytes.
    pub(crate) cwnd: u64,
    /// Congestion events so far on the connection.
    pub(crate) congestion_events: u64,
}

impl PathSample {
    /// The sample of a live connection.
    pub(crate) fn of(connection: &quinn::Connection) -> Self {
        let path = connection.stats().path;
        PathSample {
            rtt: connection.rtt(),
            min_rtt: path.min_rtt,
            cwnd: path.cwnd,
            congestion_events: path.congestion_events,
        }
    }
}

/// The controller's answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rate {
    /// For the encoder, bits per second.
    pub(crate) bitrate: u32,
    /// For the capture: the shortest time between two frames.
    pub(crate) frame_interval: Duration,
}

/// The lowest and highest bitrate asked of the encoder.
const MIN_BITRATE: f64 = 150_000.0;
const MAX_BITRATE: f64 = 8_000_000.0;
const START_BITRATE: f64 = 4_000_000.0;
/// The fastest frame rate, and the slowest the link can push it to.
pub(crate) const MAX_FPS: f64 = 30.0;
const MIN_FPS: f64 = 5.0;
/// Bits a frame should have at least when the link is the limit (a small
/// change on a screen at acceptable quality); below that, fewer frames.
const MIN_BITS_PER_FRAME: f64 = 40_000.0;
/// Queueing delay (RTT over the minimum) that counts as a queue building,
/// beyond one frame interval (see [`RateController::update`]).
const QUEUE_DELAY_LIMIT: Duration = Duration::from_millis(60);
/// How far back the delivered-bytes estimate looks.
const GOODPUT_WINDOW: Duration = Duration::from_secs(2);
/// The shortest time between two changes, whatever the RTT: a change needs
/// a few frames to show in what the path reports.
const MIN_REACTION: Duration = Duration::from_millis(100);

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct RateController {
    /// Frames the helper acknowledged: when, and how many bytes.
    delivered: VecDeque<(Instant, usize)>,
    /// When the sender last had to wait for room (the link was the limit).
    saturated_at: Option<Instant>,
    bitrate: f64,
    congestion_events: Option<u64>,
    last_change: Option<Instant>,
    /// The frame interval last answered.
    frame_interval: Duration,
    /// The RTT of the last sample, to tell a growing queue from a draining one.
    last_rtt: Option<Duration>,
}

impl RateController {
    pub(crate) fn new() -> Self {
        RateController {
            delivered: VecDeque::new(),
            saturated_at: None,
            bitrate: START_BITRATE,
            congestion_events: None,
            last_change: None,
            frame_interval: Duration::from_secs_f64(1.0 / MAX_FPS),
            last_rtt: None,
        }
    }

    /// The helper acknowledged a frame of `bytes` at `now`.
    pub(crate) fn delivered(&mut self, now: Instant, bytes: usize) {
        self.delivered.push_back((now, bytes));
        while self
            .delivered
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) > GOODPUT_WINDOW)
        {
            self.delivered.pop_front();
        }
    }

    /// A frame had to wait for room on the wire at `now`.
    pub(crate) fn saturated(&mut self, now: Instant) {
        self.saturated_at = Some(now);
    }

    /// The rate to use from `now`, given the path as quinn sees it.
    pub(crate) fn update(&mut self, now: Instant, path: PathSample) -> Rate {
        let reaction = path.rtt.max(MIN_REACTION);
        let may_change = self
            .last_change
            .is_none_or(|at| now.saturating_duration_since(at) >= reaction);
        let new_congestion = self
            .congestion_events
            .replace(path.congestion_events)
            .is_some_and(|seen| path.congestion_events > seen);
        // A frame sent at the rate the link carries takes one frame interval
        // to cross its bottleneck: that much delay is the frame, not a queue.
        // A queue that is already draining needs no further cut.
        let queue_delay = path.rtt.saturating_sub(path.min_rtt);
        let draining = self.last_rtt.is_some_and(|last| path.rtt < last);
        self.last_rtt = Some(path.rtt);
        let queueing = !draining && queue_delay > QUEUE_DELAY_LIMIT + self.frame_interval;
        let saturated = self
            .saturated_at
            .is_some_and(|at| now.saturating_duration_since(at) < GOODPUT_WINDOW);
        let link_bound = saturated && queue_delay > QUEUE_DELAY_LIMIT;

        let before = self.bitrate;
        let mut cut = false;
        if may_change {
            if new_congestion {
                self.bitrate *= 0.7;
                cut = true;
            } else if queueing {
                self.bitrate *= 0.85;
                cut = true;
            } else if !saturated {
                self.bitrate *= 1.1;
            }
        }
        if link_bound && let Some(goodput) = self.goodput(now) {
            // A little under what got through, so the queue drains; it may
            // rise again as the link delivers more, but never above a cut.
            let target = 0.8 * goodput;
            self.bitrate = if cut {
                self.bitrate.min(target)
            } else {
                target
            };
        }
        // What the congestion window lets through in a round trip.
        let window = path.cwnd as f64 * 8.0 / path.rtt.max(Duration::from_millis(1)).as_secs_f64();
        self.bitrate = self.bitrate.min(window).clamp(MIN_BITRATE, MAX_BITRATE);
        if self.bitrate != before {
            self.last_change = Some(now);
        }
        let fps = if new_congestion || queueing || link_bound {
            (self.bitrate / MIN_BITS_PER_FRAME).clamp(MIN_FPS, MAX_FPS)
        } else {
            MAX_FPS
        };
        self.frame_interval = Duration::from_secs_f64(1.0 / fps);
        Rate {
            bitrate: self.bitrate as u32,
            frame_interval: self.frame_interval,
        }
    }

    /// Bits per second the helper acknowledged lately, if enough frames
    /// arrived to tell.
    fn goodput(&self, now: Instant) -> Option<f64> {
        let (first, _) = self.delivered.front()?;
        let span = now.saturating_duration_since(*first);
        if span < GOODPUT_WINDOW / 4 {
            return None;
        }
        // The first frame's bytes crossed before the span began.
        let bytes: usize = self.delivered.iter().skip(1).map(|(_, b)| b).sum();
        Some(bytes as f64 * 8.0 / span.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn clear_path() -> PathSample {
        PathSample {
            rtt: 20 * MS,
            min_rtt: 20 * MS,
            cwnd: 1 << 20,
            congestion_events: 0,
        }
    }

    /// Runs `controller` at 30 updates a second for `duration` from `start`
    /// on `path`; the last answer and the time reached.
    fn run(
        controller: &mut RateController,
        start: Instant,
        duration: Duration,
        path: impl Fn(u32) -> PathSample,
    ) -> (Rate, Instant) {
        let mut now = start;
        let mut rate = controller.update(now, path(0));
        for i in 1..(duration.as_millis() / 33) as u32 {
            now += 33 * MS;
            rate = controller.update(now, path(i));
        }
        (rate, now)
    }

    #[test]
    fn a_clear_path_climbs_to_the_top_at_full_frame_rate() {
        let mut c = RateController::new();
        let (rate, _) = run(&mut c, Instant::now(), Duration::from_secs(3), |_| {
            clear_path()
        });
        assert_eq!(rate.bitrate, MAX_BITRATE as u32);
        assert_eq!(rate.frame_interval, Duration::from_secs_f64(1.0 / MAX_FPS));
    }

    #[test]
    fn congestion_events_cut_the_rate_once_per_round_trip() {
        let mut c = RateController::new();
        let start = Instant::now();
        let (before, now) = run(&mut c, start, Duration::from_secs(1), |_| clear_path());
        // Loss every frame for 0.5 s: cuts come no faster than the reaction time.
        let (after, _) = run(&mut c, now, Duration::from_millis(500), |i| PathSample {
            congestion_events: u64::from(i) + 1,
            ..clear_path()
        });
        let ratio = f64::from(after.bitrate) / f64::from(before.bitrate);
        assert!(ratio < 0.5, "{before:?} → {after:?}");
        assert!(
            ratio > 0.7f64.powi(6),
            "cut too often: {before:?} → {after:?}"
        );
    }

    #[test]
    fn a_growing_queue_lowers_the_rate_before_any_loss() {
        let mut c = RateController::new();
        let start = Instant::now();
        let (before, now) = run(&mut c, start, Duration::from_secs(1), |_| clear_path());
        let (after, _) = run(&mut c, now, Duration::from_secs(2), |_| PathSample {
            rtt: 200 * MS,
            ..clear_path()
        });
        assert!(after.bitrate < before.bitrate / 2, "{before:?} → {after:?}");
    }

    #[test]
    fn the_congestion_window_caps_the_rate() {
        let mut c = RateController::new();
        // 25 kB per 100 ms round trip: 2 Mbit/s.
        let (rate, _) = run(&mut c, Instant::now(), Duration::from_secs(2), |_| {
            PathSample {
                rtt: 100 * MS,
                min_rtt: 100 * MS,
                cwnd: 25_000,
                congestion_events: 0,
            }
        });
        assert_eq!(rate.bitrate, 2_000_000);
    }

    #[test]
    fn a_saturated_link_keeps_the_rate_under_what_it_delivers() {
        let mut c = RateController::new();
        let mut now = Instant::now();
        // 1 Mbit/s delivered: 4,166 bytes a frame at 30 frames a second,
        // with packets queueing 80 ms in front of the bottleneck.
        let queued = PathSample {
            rtt: 100 * MS,
            ..clear_path()
        };
        for _ in 0..60 {
            now += 33 * MS;
            c.saturated(now);
            c.delivered(now, 4_166);
            c.update(now, queued);
        }
        let rate = c.update(now, queued);
        assert!(
            (700_000..=850_000).contains(&rate.bitrate),
            "{rate:?} for a 1 Mbit/s link"
        );
        // 800 kbit/s at 40 kbit a frame: 20 frames a second.
        assert!(rate.frame_interval >= Duration::from_millis(45), "{rate:?}");
    }

    #[test]
    fn a_burst_on_a_fast_link_holds_the_rate() {
        let mut c = RateController::new();
        let start = Instant::now();
        let (before, mut now) = run(&mut c, start, Duration::from_secs(1), |_| clear_path());
        // An idle screen delivered little; then a big picture fills the wire
        // for a moment, with no queue on the path.
        for _ in 0..10 {
            now += 33 * MS;
            c.delivered(now, 300);
            c.saturated(now);
            c.update(now, clear_path());
        }
        let after = c.update(now, clear_path());
        assert_eq!(after, before, "a burst is not a slow link");
    }

    #[test]
    fn the_rate_never_leaves_its_bounds() {
        let mut c = RateController::new();
        let (rate, _) = run(&mut c, Instant::now(), Duration::from_secs(10), |i| {
            PathSample {
                rtt: 500 * MS,
                min_rtt: 20 * MS,
                cwnd: 1_200,
                congestion_events: u64::from(i),
            }
        });
        assert_eq!(rate.bitrate, MIN_BITRATE as u32);
        assert_eq!(rate.frame_interval, Duration::from_secs_f64(1.0 / MIN_FPS));
    }
}
