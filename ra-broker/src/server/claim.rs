//! A node's side of a claim: the lookup, the match and the relay
//! allocation, and the standby relays that take an allocation over when its
//! node dies.
//!
//! Nodes never talk to each other: the allocating node keeps the
//! allocation's tokens in the registry and tells both peers the other live
//! nodes' relays. When its relay stops answering, the peers bind the same
//! tokens at a standby; that relay does not know them, looks them up in the
//! registry and takes the allocation over.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ra_core::code::Lookup;
use ra_core::proto::broker::{Matched, Redirect, RefuseReason, broker_message};
use ra_core::relay::RelayToken;
use ra_core::rendezvous::punch_targets;
use rand_core::{OsRng, RngCore};
use tokio::sync::mpsc;

use super::{Node, NodeEvent, ToWaiter, rate_limited, refuse, waiter_role_for};
use crate::rate_limit::Limit;
use crate::registry::{ClaimOutcome, Registry, RelayRecord};

/// How long the registry keeps a relay allocation for a standby to take
/// over (longer than any session is expected to last).
const RELAY_RECORD_TTL: Duration = Duration::from_secs(24 * 3600);

/// Standby relays told to the peers at most.
const MAX_STANDBY_RELAYS: usize = 4;

impl<R: Registry> Node<R> {
    /// Looks a code up for a claimant: a match, a redirect, or the uniform refusal.
    pub(super) async fn claim(
        &self,
        peer: SocketAddr,
        claim: ra_core::proto::broker::Claim,
    ) -> broker_message::Message {
        self.stats.lookups.fetch_add(1, Ordering::Relaxed);
        if let Err(wait) = self.take_token(Limit::Lookups, peer.ip()).await {
            self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            return rate_limited(wait);
        }
        let (Ok(lookup), Some(waiter_role)) =
            (Lookup::parse(&claim.lookup), waiter_role_for(claim.role))
        else {
            return refuse(RefuseReason::Unavailable);
        };
        let lookup = lookup.to_string();
        let match_id = OsRng.next_u64() >> 12;
        let outcome = self
            .registry
            .claim(
                &lookup,
                waiter_role,
                &self.config.node_id,
                &match_id.to_string(),
                self.config.max_failures,
            )
            .await;
        let record = match outcome {
            Ok(ClaimOutcome::Claimed(record)) => record,
            Ok(ClaimOutcome::OwnedBy(node)) => {
                return match self.registry.node(&node).await {
                    Ok(Some(addrs)) => broker_message::Message::Redirect(Redirect {
                        node_addr: addrs.claims,
                    }),
                    _ => refuse(RefuseReason::Unavailable),
                };
            }
            Ok(ClaimOutcome::Exhausted) => {
                if let Some(waiter) = self.lock_waiters().get(&lookup) {
                    let _ = waiter.send(ToWaiter::Exhausted);
                }
                return refuse(RefuseReason::Unavailable);
            }
            Ok(ClaimOutcome::Unavailable) => return refuse(RefuseReason::Unavailable),
            Err(e) => {
                tracing::warn!(error = %e, "registry failed");
                return refuse(RefuseReason::UnavailableNow);
            }
        };
        // Each side punches only what the other could really be reached at
        // (no loopback or LAN addresses across the internet).
        let waiter_seen = record.observed.parse::<SocketAddr>().unwrap_or(peer);
        // Over the relay's caps the peers get no relay, only their direct
        // paths: a source claiming its own codes gets no more than its share.
        let sources = [waiter_seen.ip(), peer.ip()];
        let (relay_addr, waiter_token, claimant_token, standby_relays) =
            match self.relay.allocate(sources) {
                Ok((waiter, claimant)) => (
                    self.relay_addr.to_string(),
                    waiter.to_vec(),
                    claimant.to_vec(),
                    self.standby_relays([waiter, claimant], sources).await,
                ),
                Err(refused) => {
                    tracing::info!(%refused, "match without a relay");
                    (String::new(), Vec::new(), Vec::new(), Vec::new())
                }
            };
        let try_direct = self.config.direct_paths || relay_addr.is_empty();
        let claimant_locals: Vec<String> = claim.local_addrs.into_iter().take(8).collect();
        let to_waiter = Matched {
            match_id,
            peer_observed_addr: peer.to_string(),
            peer_local_addrs: punch_targets(&claimant_locals, peer, waiter_seen),
            relay_addr: relay_addr.clone(),
            relay_token: waiter_token,
            observed_addr: record.observed.clone(),
            try_direct,
            standby_relays: standby_relays.clone(),
        };
        let to_claimant = Matched {
            match_id,
            peer_observed_addr: record.observed.clone(),
            peer_local_addrs: punch_targets(&record.locals, waiter_seen, peer),
            relay_addr,
            relay_token: claimant_token,
            observed_addr: peer.to_string(),
            try_direct,
            standby_relays,
        };
        let delivered = self
            .lock_waiters()
            .get(&lookup)
            .is_some_and(|waiter| waiter.send(ToWaiter::Matched(to_waiter)).is_ok());
        if !delivered {
            // The waiting peer is not attached right now: undo the claim.
            let _ = self
                .registry
                .attach(&lookup, &record.owner, &record.observed, &record.locals)
                .await;
            return refuse(RefuseReason::Unavailable);
        }
        self.stats.matches.fetch_add(1, Ordering::Relaxed);
        let _ = self.events.send(NodeEvent::Matched { lookup });
        broker_message::Message::Matched(to_claimant)
    }

    /// The other live nodes' relays, after keeping the allocation in the
    /// registry so that they can take it over; none when it cannot be kept.
    async fn standby_relays(&self, tokens: [RelayToken; 2], sources: [IpAddr; 2]) -> Vec<String> {
        let own = self.relay_addr.to_string();
        let standbys: Vec<String> = match self.registry.live_nodes().await {
            Ok(nodes) => nodes
                .into_iter()
                .filter(|(name, addrs)| *name != self.config.node_id && addrs.relay != own)
                .map(|(_, addrs)| addrs.relay)
                .filter(|relay| relay.parse::<SocketAddr>().is_ok())
                .take(MAX_STANDBY_RELAYS)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "registry failed; no standby relays");
                return Vec::new();
            }
        };
        if standbys.is_empty() {
            return standbys;
        }
        let record = RelayRecord {
            tokens: tokens.map(|t| data_encoding::HEXLOWER.encode(&t)),
            sources: sources.map(|ip| ip.to_string()),
        };
        match self.registry.store_relay(&record, RELAY_RECORD_TTL).await {
            Ok(()) => standbys,
            Err(e) => {
                tracing::warn!(error = %e, "registry failed; no standby relays");
                Vec::new()
            }
        }
    }

    /// Looks up the tokens the relay did not know and takes over the
    /// allocations the registry keeps for them (until the relay is gone).
    pub(super) async fn adopt_unknown_binds(
        self: Arc<Self>,
        mut tokens: mpsc::Receiver<RelayToken>,
    ) {
        while let Some(token) = tokens.recv().await {
            let hex = data_encoding::HEXLOWER.encode(&token);
            let record = match self.registry.relay(&hex).await {
                Ok(Some(record)) => record,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "registry failed; relay allocation not taken over");
                    continue;
                }
            };
            let Some((tokens, sources)) = parse_relay_record(&record) else {
                tracing::warn!("unreadable relay allocation in the registry");
                continue;
            };
            match self.relay.adopt(tokens, sources) {
                Ok(()) => {
                    let _ = self.events.send(NodeEvent::RelayAdopted);
                }
                Err(refused) => tracing::info!(%refused, "relay allocation not taken over"),
            }
        }
    }
}

/// A kept allocation's tokens and sources; `None` when unreadable.
fn parse_relay_record(record: &RelayRecord) -> Option<([RelayToken; 2], [IpAddr; 2])> {
    let token = |hex: &str| -> Option<RelayToken> {
        data_encoding::HEXLOWER
            .decode(hex.as_bytes())
            .ok()?
            .try_into()
            .ok()
    };
    let tokens = [token(&record.tokens[0])?, token(&record.tokens[1])?];
    let sources = [
        record.sources[0].parse().ok()?,
        record.sources[1].parse().ok()?,
    ];
    Some((tokens, sources))
}
