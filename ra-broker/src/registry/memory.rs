//! The in-memory registry: one broker node, codes in a map.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::rate_limit::{Limit, RateLimiter, SourceKey};

use super::{
    ClaimOutcome, CodeRecord, CodeState, NodeAddresses, Registry, RegistryError, RelayRecord,
    ReportOutcome, claim_transition, report_transition,
};

/// Codes beyond which expired ones are swept on insert.
const SWEEP_ABOVE: usize = 1024;

#[derive(Default)]
struct Codes {
    codes: HashMap<String, (CodeRecord, Instant)>,
    nodes: HashMap<String, (NodeAddresses, Instant)>,
    relays: HashMap<String, (RelayRecord, Instant)>,
    sweep_at: usize,
}

impl Codes {
    /// The live record of `lookup` (an expired one is removed).
    fn live(&mut self, lookup: &str, now: Instant) -> Option<&mut CodeRecord> {
        if self
            .codes
            .get(lookup)
            .is_some_and(|(_, until)| *until <= now)
        {
            self.codes.remove(lookup);
        }
        self.codes.get_mut(lookup).map(|(record, _)| record)
    }
}

/// Codes in this process's memory.
#[derive(Default)]
pub struct MemoryRegistry {
    inner: Mutex<Codes>,
    /// The rate limits' buckets, one limiter per limit.
    limiters: Mutex<HashMap<Limit, std::sync::Arc<RateLimiter>>>,
}

impl std::fmt::Debug for MemoryRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRegistry").finish_non_exhaustive()
    }
}

impl MemoryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Codes) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

impl Registry for MemoryRegistry {
    async fn register(
        &self,
        lookup: &str,
        record: &CodeRecord,
        ttl: Duration,
    ) -> Result<bool, RegistryError> {
        let now = Instant::now();
        Ok(self.with(|codes| {
            if codes.codes.len() >= codes.sweep_at.max(SWEEP_ABOVE) {
                codes.codes.retain(|_, (_, until)| *until > now);
                codes.sweep_at = codes.codes.len() * 2;
            }
            if codes.live(lookup, now).is_some() {
                return false;
            }
            codes
                .codes
                .insert(lookup.to_owned(), (record.clone(), now + ttl));
            true
        }))
    }

    async fn get(&self, lookup: &str) -> Result<Option<CodeRecord>, RegistryError> {
        Ok(self.with(|codes| codes.live(lookup, Instant::now()).cloned()))
    }

    async fn attach(
        &self,
        lookup: &str,
        node: &str,
        observed: &str,
        locals: &[String],
    ) -> Result<bool, RegistryError> {
        Ok(self.with(|codes| match codes.live(lookup, Instant::now()) {
            Some(record) => {
                record.owner = node.to_owned();
                record.observed = observed.to_owned();
                record.locals = locals.to_vec();
                record.state = CodeState::Waiting;
                record.match_id.clear();
                true
            }
            None => false,
        }))
    }

    async fn claim(
        &self,
        lookup: &str,
        waiter_role: i32,
        node: &str,
        match_id: &str,
        max_claims: u32,
    ) -> Result<ClaimOutcome, RegistryError> {
        Ok(self.with(|codes| {
            let outcome = match codes.live(lookup, Instant::now()) {
                Some(record) => claim_transition(record, waiter_role, node, match_id, max_claims),
                None => ClaimOutcome::Unavailable,
            };
            if outcome == ClaimOutcome::Exhausted {
                codes.codes.remove(lookup);
            }
            outcome
        }))
    }

    async fn report(
        &self,
        lookup: &str,
        match_id: &str,
        success: bool,
        max_failures: u32,
    ) -> Result<ReportOutcome, RegistryError> {
        Ok(self.with(|codes| {
            let outcome = match codes.live(lookup, Instant::now()) {
                Some(record) => report_transition(record, match_id, success, max_failures),
                None => ReportOutcome::Unknown,
            };
            if matches!(outcome, ReportOutcome::Used | ReportOutcome::Dead) {
                codes.codes.remove(lookup);
            }
            outcome
        }))
    }

    async fn remove(&self, lookup: &str) -> Result<(), RegistryError> {
        self.with(|codes| codes.codes.remove(lookup));
        Ok(())
    }

    async fn announce_node(
        &self,
        node: &str,
        addrs: &NodeAddresses,
        ttl: Duration,
    ) -> Result<(), RegistryError> {
        let until = Instant::now() + ttl;
        self.with(|codes| codes.nodes.insert(node.to_owned(), (addrs.clone(), until)));
        Ok(())
    }

    async fn node(&self, node: &str) -> Result<Option<NodeAddresses>, RegistryError> {
        let now = Instant::now();
        Ok(self.with(|codes| {
            codes
                .nodes
                .get(node)
                .filter(|(_, until)| *until > now)
                .map(|(addrs, _)| addrs.clone())
        }))
    }

    async fn live_nodes(&self) -> Result<Vec<(String, NodeAddresses)>, RegistryError> {
        let now = Instant::now();
        let mut nodes: Vec<(String, NodeAddresses)> = self.with(|codes| {
            codes.nodes.retain(|_, (_, until)| *until > now);
            codes
                .nodes
                .iter()
                .map(|(name, (addrs, _))| (name.clone(), addrs.clone()))
                .collect()
        });
        nodes.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(nodes)
    }

    async fn store_relay(&self, record: &RelayRecord, ttl: Duration) -> Result<(), RegistryError> {
        let until = Instant::now() + ttl;
        self.with(|codes| {
            let now = Instant::now();
            codes.relays.retain(|_, (_, until)| *until > now);
            for token in &record.tokens {
                codes.relays.insert(token.clone(), (record.clone(), until));
            }
        });
        Ok(())
    }

    async fn relay(&self, token: &str) -> Result<Option<RelayRecord>, RegistryError> {
        let now = Instant::now();
        Ok(self.with(|codes| {
            codes
                .relays
                .get(token)
                .filter(|(_, until)| *until > now)
                .map(|(record, _)| record.clone())
        }))
    }

    async fn code_count(&self) -> Result<u64, RegistryError> {
        Ok(self.with(|codes| codes.codes.len() as u64))
    }

    async fn take_token(
        &self,
        limit: Limit,
        source: SourceKey,
        per_minute: u32,
    ) -> Result<Result<(), Duration>, RegistryError> {
        let limiter = {
            let mut limiters = self
                .limiters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::sync::Arc::clone(
                limiters
                    .entry(limit)
                    .or_insert_with(|| std::sync::Arc::new(RateLimiter::new(per_minute))),
            )
        };
        Ok(limiter.check_key(source, Instant::now()))
    }
}
