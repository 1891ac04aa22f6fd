//! Where codes live: the [`Registry`] trait and its backends, in memory (one
//! node) and Redis (many nodes).
//!
//! A code's record names the node its waiting peer is attached to; claims are
//! atomic (a waiting code becomes claimed exactly once), and the waiting peer
//! reports each PAKE outcome: success uses the code up, failure puts it back
//! to waiting until `max_failures`, when it is dead. Expired, used and dead
//! codes are gone: a lookup of any of them finds nothing.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rate_limit::{Limit, SourceKey};

mod memory;
mod redis;

pub use self::memory::MemoryRegistry;
pub use self::redis::RedisRegistry;

/// Why the registry could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The Redis backend failed.
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// A stored record could not be read.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

/// Whether a waiting code is free or in a PAKE attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CodeState {
    /// Waiting for a claimant.
    Waiting,
    /// A claimant was matched; the outcome is not reported yet.
    Claimed,
}

/// A registered code (its lookup part) and its waiting peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// The waiting peer's role (`ra.broker.v1.Role`).
    pub role: i32,
    /// The node the waiting peer is attached to.
    pub owner: String,
    /// The waiting peer's address as its node saw it.
    pub observed: String,
    /// The waiting peer's own addresses (stored comma-separated, which Lua
    /// scripts keep as it is).
    #[serde(with = "comma_list")]
    pub locals: Vec<String>,
    /// SHA-256 of the re-attach key, hex.
    pub attach_key_hash: String,
    /// When it expires (Unix milliseconds).
    pub expires_at_ms: u64,
    /// Failed attempts so far (as the waiting peer reported them).
    pub failures: u32,
    /// Claims so far, counted by the broker itself: a claimant whose attempt
    /// was never reported (the waiting peer vanished, or lies) still counts.
    #[serde(default)]
    pub claims: u32,
    /// Waiting or claimed.
    pub state: CodeState,
    /// The current match (when claimed).
    pub match_id: String,
}

impl CodeRecord {
    /// The hash stored for an attach key.
    pub fn hash_attach_key(key: &[u8]) -> String {
        data_encoding::HEXLOWER.encode(&Sha256::digest(key))
    }

    /// Whether `key` is the one the code was registered with.
    pub fn attach_key_matches(&self, key: &[u8]) -> bool {
        let given = Self::hash_attach_key(key);
        let diff = given
            .bytes()
            .zip(self.attach_key_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        diff == 0 && given.len() == self.attach_key_hash.len()
    }
}

mod comma_list {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(list: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&list.join(","))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let text = String::deserialize(d)?;
        Ok(text
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

/// Where a node takes claimants and relays datagrams, as it announces
/// itself to the other nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAddresses {
    /// Its QUIC address for peers (`IP:PORT`).
    pub claims: String,
    /// Its relay's UDP address (`IP:PORT`).
    pub relay: String,
}

/// A relay allocation as the registry keeps it, so that another node's relay
/// can take it over when the allocating node dies: both sides' tokens and
/// the peers' sources (for that relay's caps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayRecord {
    /// The two sides' tokens, lowercase hex.
    pub tokens: [String; 2],
    /// The two peers' source IP addresses.
    pub sources: [String; 2],
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimOutcome {
    /// Claimed: the record as it is now (state claimed, this match id).
    Claimed(CodeRecord),
    /// The waiting peer is attached to another node.
    OwnedBy(String),
    /// Unknown, expired, used, dead, claimed already, or of the wrong role.
    Unavailable,
    /// Claimed as many times as failures are allowed, none of them a success:
    /// the code is dead (removed), and its waiting peer must be told.
    Exhausted,
}

/// What a reported outcome did to the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportOutcome {
    /// The PAKE succeeded: the code is used up (removed).
    Used,
    /// It failed; the code waits for another claimant.
    Retry,
    /// It failed once too often: the code is dead (removed).
    Dead,
    /// The code or match is unknown (expired meanwhile).
    Unknown,
}

/// The pure claim rule both backends apply (Redis in its script). The node
/// owning the code counts its claims: past `max_claims` it is
/// [`ClaimOutcome::Exhausted`] (the caller removes it).
pub fn claim_transition(
    record: &mut CodeRecord,
    waiter_role: i32,
    node: &str,
    match_id: &str,
    max_claims: u32,
) -> ClaimOutcome {
    if record.role != waiter_role || record.state != CodeState::Waiting {
        return ClaimOutcome::Unavailable;
    }
    if record.owner != node {
        return ClaimOutcome::OwnedBy(record.owner.clone());
    }
    if record.claims >= max_claims {
        return ClaimOutcome::Exhausted;
    }
    record.claims += 1;
    record.state = CodeState::Claimed;
    record.match_id = match_id.to_owned();
    ClaimOutcome::Claimed(record.clone())
}

/// The pure report rule both backends apply; `None`: remove the record.
pub fn report_transition(
    record: &mut CodeRecord,
    match_id: &str,
    success: bool,
    max_failures: u32,
) -> ReportOutcome {
    if record.state != CodeState::Claimed || record.match_id != match_id {
        return ReportOutcome::Unknown;
    }
    if success {
        return ReportOutcome::Used;
    }
    record.failures += 1;
    if record.failures >= max_failures {
        return ReportOutcome::Dead;
    }
    record.state = CodeState::Waiting;
    record.match_id.clear();
    ReportOutcome::Retry
}

/// The store of codes, shared by the broker's nodes.
pub trait Registry: Send + Sync + 'static {
    /// Stores a new code for `ttl`; false if the lookup is taken.
    fn register(
        &self,
        lookup: &str,
        record: &CodeRecord,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, RegistryError>> + Send;

    /// The code's record, if it is registered.
    fn get(
        &self,
        lookup: &str,
    ) -> impl Future<Output = Result<Option<CodeRecord>, RegistryError>> + Send;

    /// Re-attaches the waiting peer to `node` (after its connection broke);
    /// a claimed code goes back to waiting. False if the code is gone.
    fn attach(
        &self,
        lookup: &str,
        node: &str,
        observed: &str,
        locals: &[String],
    ) -> impl Future<Output = Result<bool, RegistryError>> + Send;

    /// Atomically claims a waiting code of `waiter_role` attached to `node`;
    /// a code claimed `max_claims` times already is removed instead
    /// ([`ClaimOutcome::Exhausted`]).
    fn claim(
        &self,
        lookup: &str,
        waiter_role: i32,
        node: &str,
        match_id: &str,
        max_claims: u32,
    ) -> impl Future<Output = Result<ClaimOutcome, RegistryError>> + Send;

    /// Applies the waiting peer's report of a match's PAKE outcome.
    fn report(
        &self,
        lookup: &str,
        match_id: &str,
        success: bool,
        max_failures: u32,
    ) -> impl Future<Output = Result<ReportOutcome, RegistryError>> + Send;

    /// Removes a code (expired, or its waiting peer left for good).
    fn remove(&self, lookup: &str) -> impl Future<Output = Result<(), RegistryError>> + Send;

    /// Publishes where `node` takes claimants and relays, for `ttl`.
    fn announce_node(
        &self,
        node: &str,
        addrs: &NodeAddresses,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), RegistryError>> + Send;

    /// Where `node` takes claimants and relays.
    fn node(
        &self,
        node: &str,
    ) -> impl Future<Output = Result<Option<NodeAddresses>, RegistryError>> + Send;

    /// Every node whose announcement has not run out, by name.
    fn live_nodes(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, NodeAddresses)>, RegistryError>> + Send;

    /// Keeps a relay allocation for `ttl`, findable by either token.
    fn store_relay(
        &self,
        record: &RelayRecord,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), RegistryError>> + Send;

    /// The relay allocation holding `token` (lowercase hex), if kept.
    fn relay(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<RelayRecord>, RegistryError>> + Send;

    /// How many codes are registered (for Redis, used codes count until
    /// their time is up).
    fn code_count(&self) -> impl Future<Output = Result<u64, RegistryError>> + Send;

    /// Takes one token of `source`'s `limit` bucket (`per_minute` tokens,
    /// refilled evenly, as many at once), shared by every node using this
    /// registry: `Ok(Err(wait))` when none is left.
    fn take_token(
        &self,
        limit: Limit,
        source: SourceKey,
        per_minute: u32,
    ) -> impl Future<Output = Result<Result<(), Duration>, RegistryError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> CodeRecord {
        CodeRecord {
            role: 1,
            owner: "a".into(),
            observed: "127.0.0.1:1".into(),
            locals: vec![],
            attach_key_hash: CodeRecord::hash_attach_key(b"key"),
            expires_at_ms: 0,
            failures: 0,
            claims: 0,
            state: CodeState::Waiting,
            match_id: String::new(),
        }
    }

    #[test]
    fn claim_once_then_report() {
        let mut r = record();
        assert_eq!(
            claim_transition(&mut r, 2, "a", "m1", 5),
            ClaimOutcome::Unavailable
        );
        assert_eq!(
            claim_transition(&mut r, 1, "b", "m1", 5),
            ClaimOutcome::OwnedBy("a".into())
        );
        assert!(matches!(
            claim_transition(&mut r, 1, "a", "m1", 5),
            ClaimOutcome::Claimed(_)
        ));
        assert_eq!(
            claim_transition(&mut r, 1, "a", "m2", 5),
            ClaimOutcome::Unavailable
        );
        assert_eq!(
            report_transition(&mut r, "m2", false, 5),
            ReportOutcome::Unknown
        );
        assert_eq!(
            report_transition(&mut r, "m1", false, 5),
            ReportOutcome::Retry
        );
        assert_eq!(r.failures, 1);
        for i in 2..5 {
            let id = format!("m{i}");
            assert!(matches!(
                claim_transition(&mut r, 1, "a", &id, 5),
                ClaimOutcome::Claimed(_)
            ));
            assert_eq!(
                report_transition(&mut r, &id, false, 5),
                ReportOutcome::Retry
            );
        }
        assert!(matches!(
            claim_transition(&mut r, 1, "a", "m5", 5),
            ClaimOutcome::Claimed(_)
        ));
        assert_eq!(
            report_transition(&mut r, "m5", false, 5),
            ReportOutcome::Dead
        );
        let mut r = record();
        claim_transition(&mut r, 1, "a", "x", 5);
        assert_eq!(report_transition(&mut r, "x", true, 5), ReportOutcome::Used);
        assert!(r.attach_key_matches(b"key"));
        assert!(!r.attach_key_matches(b"kez"));
    }

    #[test]
    fn unreported_claims_still_use_up_the_code() {
        let mut r = record();
        for i in 0..5 {
            let id = format!("m{i}");
            assert!(matches!(
                claim_transition(&mut r, 1, "a", &id, 5),
                ClaimOutcome::Claimed(_)
            ));
            // The waiting peer never reports; it re-attaches instead.
            r.state = CodeState::Waiting;
        }
        assert_eq!(r.failures, 0);
        assert_eq!(
            claim_transition(&mut r, 1, "a", "m5", 5),
            ClaimOutcome::Exhausted
        );
    }

    #[test]
    fn records_from_before_the_claim_count_still_read() {
        let mut json = serde_json::to_value(record()).unwrap();
        json.as_object_mut().unwrap().remove("claims");
        let r: CodeRecord = serde_json::from_value(json).unwrap();
        assert_eq!(r.claims, 0);
    }
}
