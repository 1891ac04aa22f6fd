//! A token bucket: so many at once, then so many a second.

use std::time::Instant;

/// A budget that refills with time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenBucket {
    tokens: f64,
    burst: f64,
    per_second: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`: `burst` at once, then `per_second`.
    pub(crate) fn full(now: Instant, burst: f64, per_second: f64) -> Self {
        TokenBucket {
            tokens: burst,
            burst,
            per_second,
            refilled_at: now,
        }
    }

    /// Takes one token at `now` if there is one.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        self.take_n(now, 1.0)
    }

    /// Takes `cost` tokens at `now` if there are that many.
    pub(crate) fn take_n(&mut self, now: Instant, cost: f64) -> bool {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.refilled_at = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens < cost {
            return false;
        }
        self.tokens -= cost;
        true
    }
}
