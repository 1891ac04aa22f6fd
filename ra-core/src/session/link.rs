//! Whether the path to the peer still carries packets, and whether input
//! that arrives is still fresh: the decisions a session makes about an
//! interrupted network, apart from the transport that observes it.
//!
//! The runtime reports how many datagrams a connection has received so far
//! ([`LinkWatch::observe`]); keep-alives make both sides send at least once a
//! [`KEEP_ALIVE_INTERVAL`], so [`INTERRUPTED_AFTER`] of silence means the
//! path went dark. The transport gives the path
//! [`outage grace`](DEFAULT_OUTAGE_GRACE) before it gives up on the peer
//! (its idle timeout: [`idle_timeout`]).

use std::time::{Duration, Instant};

/// How often each side sends something when it has nothing to send.
pub const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(1);

/// Silence after which the connection counts as interrupted.
pub const INTERRUPTED_AFTER: Duration = Duration::from_secs(3);

/// How long a dark path is waited for, by default, before the session ends.
pub const DEFAULT_OUTAGE_GRACE: Duration = Duration::from_secs(30);

/// The longest outage grace that may be asked for.
pub const MAX_OUTAGE_GRACE: Duration = Duration::from_secs(600);

/// How long after the grace a dead peer is noticed, at most.
const NOTICED_AFTER_GRACE: Duration = Duration::from_secs(5);

/// The transport's idle timeout for an outage grace: a dead peer is noticed
/// [`NOTICED_AFTER_GRACE`] after the grace ends (grace capped at
/// [`MAX_OUTAGE_GRACE`]).
pub fn idle_timeout(outage_grace: Duration) -> Duration {
    outage_grace.min(MAX_OUTAGE_GRACE) + NOTICED_AFTER_GRACE
}

/// What changed on the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkChange {
    /// Nothing arrived for [`INTERRUPTED_AFTER`].
    Interrupted,
    /// Packets arrive again after an interruption.
    Restored {
        /// How long nothing arrived.
        silent_for: Duration,
    },
}

/// Watches one connection's received-datagram count over time.
#[derive(Debug, Clone)]
pub struct LinkWatch {
    received: u64,
    heard_at: Instant,
    interrupted: bool,
}

impl LinkWatch {
    /// A watch that last heard the peer at `now`.
    pub fn new(now: Instant) -> Self {
        LinkWatch {
            received: 0,
            heard_at: now,
            interrupted: false,
        }
    }

    /// Whether the path counts as interrupted now.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted
    }

    /// The connection had received `received` datagrams in all at `now`:
    /// what changed, if anything.
    pub fn observe(&mut self, now: Instant, received: u64) -> Option<LinkChange> {
        if received != self.received {
            self.received = received;
            let silent_for = now.saturating_duration_since(self.heard_at);
            self.heard_at = now;
            if std::mem::take(&mut self.interrupted) {
                return Some(LinkChange::Restored { silent_for });
            }
            return None;
        }
        if !self.interrupted && now.saturating_duration_since(self.heard_at) >= INTERRUPTED_AFTER {
            self.interrupted = true;
            return Some(LinkChange::Interrupted);
        }
        None
    }
}

/// Input older than this (beyond the least delay seen) is stale: it was
/// held up by an outage, and replaying it now would act on a screen the
/// helper no longer sees.
pub const STALE_INPUT_AFTER: Duration = Duration::from_millis(1500);

/// Tells fresh input from stale by the helper's send times: the difference
/// between arrival (host clock) and sending (helper clock) is the one-way
/// delay plus a fixed clock offset; its least value so far is the baseline,
/// and a batch that took [`STALE_INPUT_AFTER`] longer than that is stale.
#[derive(Debug, Clone, Default)]
pub struct InputFreshness {
    least_offset_ms: Option<i128>,
}

impl InputFreshness {
    /// Whether a batch sent at `sent_at_ms` (the helper's session clock; `0`
    /// means an older helper that does not say) and received at
    /// `received_at_ms` (the host's) is stale.
    pub fn is_stale(&mut self, sent_at_ms: u64, received_at_ms: u64) -> bool {
        if sent_at_ms == 0 {
            return false;
        }
        let offset = i128::from(received_at_ms) - i128::from(sent_at_ms);
        let least = self
            .least_offset_ms
            .map_or(offset, |least| least.min(offset));
        self.least_offset_ms = Some(least);
        offset - least > STALE_INPUT_AFTER.as_millis() as i128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_interrupts_and_packets_restore() {
        let start = Instant::now();
        let mut watch = LinkWatch::new(start);
        let at = |ms: u64| start + Duration::from_millis(ms);
        assert_eq!(watch.observe(at(500), 10), None);
        assert_eq!(watch.observe(at(3_000), 10), None);
        assert_eq!(watch.observe(at(3_499), 10), None);
        assert_eq!(watch.observe(at(3_500), 10), Some(LinkChange::Interrupted));
        assert!(watch.is_interrupted());
        assert_eq!(watch.observe(at(20_000), 10), None, "told once");
        assert_eq!(
            watch.observe(at(23_500), 11),
            Some(LinkChange::Restored {
                silent_for: Duration::from_secs(23)
            })
        );
        assert!(!watch.is_interrupted());
        assert_eq!(watch.observe(at(24_000), 12), None);
    }

    #[test]
    fn input_held_up_beyond_the_baseline_is_stale() {
        let mut freshness = InputFreshness::default();
        // The helper's clock is 10 s behind the host's; 40 ms one way.
        assert!(!freshness.is_stale(1_000, 11_040));
        assert!(!freshness.is_stale(2_000, 12_030), "a faster one");
        assert!(
            !freshness.is_stale(3_000, 14_500),
            "1.47 s late: still fresh"
        );
        assert!(freshness.is_stale(4_000, 15_600), "1.57 s late: stale");
        assert!(freshness.is_stale(5_000, 25_000), "held up by an outage");
        assert!(!freshness.is_stale(30_000, 40_050), "fresh again");
        assert!(
            !freshness.is_stale(0, 99_999),
            "an older helper says nothing"
        );
    }
}
