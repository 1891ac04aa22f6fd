//! Per-source rate limits: a token bucket per IPv4 address and per IPv6 /64
//! (one host usually holds a whole /64, so per-address limits would be void).
//! The broker takes its tokens from the registry
//! ([`crate::registry::Registry::take_token`]), so with Redis every node
//! draws from the same buckets; this in-process limiter serves the memory
//! registry, and a node whose registry fails.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sources tracked at most; beyond, full buckets are forgotten first.
const MAX_SOURCES: usize = 100_000;

/// The key a source is limited by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceKey {
    /// One IPv4 address.
    V4([u8; 4]),
    /// One IPv6 /64 prefix.
    V6Prefix([u8; 8]),
}

impl SourceKey {
    /// The key of `ip` (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => SourceKey::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => SourceKey::V4(v4.octets()),
                None => {
                    let mut prefix = [0u8; 8];
                    prefix.copy_from_slice(&v6.octets()[..8]);
                    SourceKey::V6Prefix(prefix)
                }
            },
        }
    }
}

impl std::fmt::Display for SourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceKey::V4(octets) => write!(f, "{}", std::net::Ipv4Addr::from(*octets)),
            SourceKey::V6Prefix(prefix) => {
                let mut octets = [0u8; 16];
                octets[..8].copy_from_slice(prefix);
                write!(f, "{}/64", std::net::Ipv6Addr::from(octets))
            }
        }
    }
}

/// Which budget a source draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Claims (code lookups).
    Lookups,
    /// Registrations and re-attachments.
    Registrations,
    /// Outcome reports.
    Outcomes,
    /// Address probes over the peer stream (the relay's UDP probes have a
    /// bucket of their own, in the relay).
    Probes,
}

impl Limit {
    /// Its name in keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::Lookups => "lookups",
            Limit::Registrations => "registrations",
            Limit::Outcomes => "outcomes",
            Limit::Probes => "probes",
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per source: `per_minute` tokens, refilled evenly.
pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<SourceKey, Bucket>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("per_minute", &self.per_minute)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Allows `per_minute` events per source and minute (a burst of as many).
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `ip` at `now`; `Err(wait)` when none is left.
    ///
    /// # Errors
    /// How long until the next token.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        self.check_key(SourceKey::of(ip), now)
    }

    /// Takes one token for `key` at `now` (see [`RateLimiter::check`]).
    ///
    /// # Errors
    /// How long until the next token.
    pub fn check_key(&self, key: SourceKey, now: Instant) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_SOURCES {
            let per_minute = self.per_minute;
            buckets.retain(|_, b| refill(b, now, per_minute) < per_minute);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.per_minute,
            at: now,
        });
        let tokens = refill(bucket, now, self.per_minute);
        if tokens >= 1.0 {
            bucket.tokens = tokens - 1.0;
            Ok(())
        } else {
            let per_second = self.per_minute / 60.0;
            Err(Duration::from_secs_f64((1.0 - tokens) / per_second))
        }
    }
}

/// Brings the bucket up to `now`; its tokens.
fn refill(bucket: &mut Bucket, now: Instant, per_minute: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * per_minute / 60.0).min(per_minute);
    bucket.at = now;
    bucket.tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_ipv4_and_per_ipv6_prefix() {
        let limiter = RateLimiter::new(10);
        let now = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..10 {
            limiter.check(a, now).unwrap();
        }
        let wait = limiter.check(a, now).unwrap_err();
        assert!(wait <= Duration::from_secs(6), "{wait:?}");
        // Another address is not affected; refill after 6 s gives one more.
        limiter.check("192.0.2.2".parse().unwrap(), now).unwrap();
        limiter.check(a, now + Duration::from_secs(6)).unwrap();
        // Two addresses of one /64 share a bucket; another /64 does not.
        let limiter = RateLimiter::new(2);
        limiter.check("2001:db8::1".parse().unwrap(), now).unwrap();
        limiter.check("2001:db8::2".parse().unwrap(), now).unwrap();
        assert!(
            limiter
                .check("2001:db8::ffff".parse().unwrap(), now)
                .is_err()
        );
        limiter
            .check("2001:db8:0:1::1".parse().unwrap(), now)
            .unwrap();
    }
}
