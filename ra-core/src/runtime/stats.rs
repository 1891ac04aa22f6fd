//! [`StatsRecorder`]: where a session's threads and tasks count what they do
//! (relaxed atomics: no lock on the frame path), and where
//! [`SessionStats`] snapshots are read from, with the link's figures taken
//! from quinn at that moment.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::stats::{SessionStats, Timing};

/// Shared by everything of one session that counts; cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct StatsRecorder(Arc<Counters>);

#[derive(Default)]
struct Counters {
    /// The connection to the peer whose link figures are reported.
    connection: Mutex<Option<quinn::Connection>>,
    target_bitrate: AtomicU32,
    /// Microseconds between frames the rate controller allows (0: none yet).
    target_frame_interval_us: AtomicU32,
    frames_sent: AtomicU64,
    frames_decoded: AtomicU64,
    frames_dropped: AtomicU64,
    encode: TimingCounter,
    decode: TimingCounter,
    input_sent: AtomicU64,
    input_injected: AtomicU64,
    input_held_back: AtomicU64,
    messages_dropped: AtomicU64,
    /// Shared with the session's event queue, which counts its drops.
    events_dropped: Arc<AtomicU64>,
}

#[derive(Default)]
struct TimingCounter {
    last_ns: AtomicU64,
    total_ns: AtomicU64,
    count: AtomicU64,
}

impl TimingCounter {
    fn record(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.last_ns.store(ns, Ordering::Relaxed);
        self.total_ns.fetch_add(ns, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self) -> Timing {
        let count = self.count.load(Ordering::Relaxed);
        let total = self.total_ns.load(Ordering::Relaxed);
        Timing {
            last: Duration::from_nanos(self.last_ns.load(Ordering::Relaxed)),
            mean: Duration::from_nanos(total.checked_div(count).unwrap_or(0)),
            count,
        }
    }
}

/// One more of a counter.
fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl StatsRecorder {
    /// Reports the link figures of `connection` from now on.
    pub(crate) fn set_connection(&self, connection: &quinn::Connection) {
        *self
            .0
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(connection.clone());
    }

    /// What the rate controller asks for now.
    pub(crate) fn set_target(&self, bitrate: u32, frame_interval: Duration) {
        self.0.target_bitrate.store(bitrate, Ordering::Relaxed);
        let us = u32::try_from(frame_interval.as_micros()).unwrap_or(u32::MAX);
        self.0.target_frame_interval_us.store(us, Ordering::Relaxed);
    }

    pub(crate) fn frame_sent(&self) {
        bump(&self.0.frames_sent);
    }

    /// A frame was decoded in `took` (shown or not).
    pub(crate) fn decode_took(&self, took: Duration) {
        self.0.decode.record(took);
    }

    /// A decoded frame reached the application.
    pub(crate) fn frame_decoded(&self) {
        bump(&self.0.frames_decoded);
    }

    pub(crate) fn frame_dropped(&self) {
        bump(&self.0.frames_dropped);
    }

    pub(crate) fn frame_encoded(&self, took: Duration) {
        self.0.encode.record(took);
    }

    /// The session's count of input sent, as its state machine keeps it.
    pub(crate) fn set_input_sent(&self, events: u64) {
        self.0.input_sent.store(events, Ordering::Relaxed);
    }

    /// An input event is being handed to the injector: counted before, so
    /// whoever sees its effect (a click on the screen) also sees it counted.
    pub(crate) fn input_injecting(&self) {
        bump(&self.0.input_injected);
    }

    /// The injector refused the event [`Self::input_injecting`] counted.
    pub(crate) fn input_injection_failed(&self) {
        self.0.input_injected.fetch_sub(1, Ordering::Relaxed);
    }

    /// The session's count of input held back, as its state machine keeps it.
    pub(crate) fn set_input_held_back(&self, events: u64) {
        self.0.input_held_back.store(events, Ordering::Relaxed);
    }

    pub(crate) fn set_messages_dropped(&self, messages: u64) {
        self.0.messages_dropped.store(messages, Ordering::Relaxed);
    }

    /// The counter the session's event queue adds its drops to.
    pub(crate) fn events_dropped_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.0.events_dropped)
    }

    /// A snapshot, with the link figures as quinn knows them now.
    pub(crate) fn snapshot(&self) -> SessionStats {
        let c = &self.0;
        let interval_us = c.target_frame_interval_us.load(Ordering::Relaxed);
        let mut stats = SessionStats {
            target_bitrate: c.target_bitrate.load(Ordering::Relaxed),
            // To a hundredth: the interval is kept to a microsecond, so
            // 30 fps would read 30.0003.
            target_frame_rate: if interval_us == 0 {
                0.0
            } else {
                (1e8 / f64::from(interval_us)).round() / 100.0
            },
            frames_sent: c.frames_sent.load(Ordering::Relaxed),
            frames_decoded: c.frames_decoded.load(Ordering::Relaxed),
            frames_dropped: c.frames_dropped.load(Ordering::Relaxed),
            encode_time: c.encode.read(),
            decode_time: c.decode.read(),
            input_events_sent: c.input_sent.load(Ordering::Relaxed),
            input_events_injected: c.input_injected.load(Ordering::Relaxed),
            input_events_held_back: c.input_held_back.load(Ordering::Relaxed),
            messages_dropped: c.messages_dropped.load(Ordering::Relaxed),
            events_dropped: c.events_dropped.load(Ordering::Relaxed),
            ..SessionStats::default()
        };
        let connection = c
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(connection) = connection {
            let link = connection.stats();
            stats.rtt = Some(link.path.rtt);
            stats.packets_sent = link.path.sent_packets;
            stats.packets_lost = link.path.lost_packets;
            stats.bytes_sent = link.udp_tx.bytes;
            stats.bytes_received = link.udp_rx.bytes;
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_keep_the_last_and_the_mean() {
        let stats = StatsRecorder::default();
        assert_eq!(stats.snapshot().encode_time, Timing::default());
        stats.frame_encoded(Duration::from_millis(10));
        stats.frame_encoded(Duration::from_millis(20));
        stats.decode_took(Duration::from_millis(3));
        stats.frame_decoded();
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.encode_time.last, Duration::from_millis(20));
        assert_eq!(snapshot.encode_time.mean, Duration::from_millis(15));
        assert_eq!(snapshot.encode_time.count, 2);
        assert_eq!(snapshot.decode_time.mean, Duration::from_millis(3));
        assert_eq!(snapshot.frames_decoded, 1);
        assert_eq!(snapshot.rtt, None);
    }

    #[test]
    fn the_target_frame_rate_comes_from_the_interval() {
        let stats = StatsRecorder::default();
        assert_eq!(stats.snapshot().target_frame_rate, 0.0);
        stats.set_target(2_000_000, Duration::from_millis(50));
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.target_bitrate, 2_000_000);
        assert!((snapshot.target_frame_rate - 20.0).abs() < 1e-9);
    }
}
