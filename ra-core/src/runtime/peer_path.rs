//! The path between the two peers of a code flow: the raw datagrams on the
//! peer's socket (relay binds, probes, punches), the other peer's candidate
//! addresses, and establishing the QUIC connection directly or through the
//! broker's relay.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::path_socket::RawSender;
use crate::proto::broker::Matched;
use crate::relay::{REACH_NONCE_LEN, RawDatagram, RelayToken, TOKEN_LEN};

/// How often raw datagrams (punches, relay binds) are repeated.
const RAW_REPEAT: Duration = Duration::from_millis(50);

/// What the raw datagrams received on the peer's socket said last.
#[derive(Clone)]
pub(crate) struct RawEvents {
    bound: watch::Receiver<Option<(RelayToken, bool)>>,
    probe: watch::Receiver<Option<(SocketAddr, SocketAddr)>>,
    reach: watch::Receiver<Option<[u8; REACH_NONCE_LEN]>>,
}

impl RawEvents {
    /// Starts reading `raw` (until the socket is gone).
    pub(crate) fn spawn(mut raw: mpsc::Receiver<(SocketAddr, RawDatagram)>) -> Self {
        let (bound_tx, bound) = watch::channel(None);
        let (probe_tx, probe) = watch::channel(None);
        let (reach_tx, reach) = watch::channel(None);
        tokio::spawn(async move {
            while let Some((from, datagram)) = raw.recv().await {
                match datagram {
                    RawDatagram::Bound { token, paired } => {
                        let _ = bound_tx.send(Some((token, paired)));
                    }
                    RawDatagram::ProbeReply(observed) => {
                        let _ = probe_tx.send(Some((from, observed)));
                    }
                    RawDatagram::Reach(nonce) => {
                        let _ = reach_tx.send(Some(nonce));
                    }
                    _ => {}
                }
            }
        });
        RawEvents {
            bound,
            probe,
            reach,
        }
    }

    /// Waits until a `Reach` datagram with `nonce` arrives; false on timeout.
    pub(crate) async fn reached(&self, nonce: [u8; REACH_NONCE_LEN], timeout: Duration) -> bool {
        let mut reach = self.reach.clone();
        let wait = reach.wait_for(|seen| *seen == Some(nonce));
        matches!(tokio::time::timeout(timeout, wait).await, Ok(Ok(_)))
    }

    /// Waits until the relay reports `token` bound (and paired, when
    /// `need_paired`), sending binds meanwhile. False on timeout.
    pub(crate) async fn bind_relay(
        &self,
        raw: &RawSender,
        relay: SocketAddr,
        token: RelayToken,
        need_paired: bool,
        timeout: Duration,
    ) -> bool {
        let mut bound = self.bound.clone();
        let done = |state: &Option<(RelayToken, bool)>| matches!(state, Some((t, paired)) if *t == token && (*paired || !need_paired));
        let wait = async {
            let mut ticker = tokio::time::interval(RAW_REPEAT);
            loop {
                if done(&bound.borrow_and_update()) {
                    return;
                }
                tokio::select! {
                    _ = ticker.tick() => raw.send(relay, &RawDatagram::Bind(token)),
                    changed = bound.changed() => if changed.is_err() {
                        std::future::pending::<()>().await;
                    },
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    /// Sends probes to `to` until a reply from it arrives; the address it saw.
    pub(crate) async fn probe(
        &self,
        raw: &RawSender,
        to: SocketAddr,
        timeout: Duration,
    ) -> Option<SocketAddr> {
        let mut probe = self.probe.clone();
        let wait = async {
            let mut ticker = tokio::time::interval(Duration::from_millis(200));
            loop {
                if let Some((from, observed)) = *probe.borrow_and_update()
                    && from == to
                {
                    return observed;
                }
                tokio::select! {
                    _ = ticker.tick() => raw.send(to, &RawDatagram::Probe),
                    changed = probe.changed() => if changed.is_err() {
                        std::future::pending::<()>().await;
                    },
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.ok()
    }
}

/// The other peer's addresses from a match, most promising first, without
/// duplicates and never the relay.
pub(crate) fn peer_candidates(matched: &Matched) -> Vec<SocketAddr> {
    let relay = matched.relay_addr.parse::<SocketAddr>().ok();
    let observed = matched.peer_observed_addr.parse::<SocketAddr>().ok();
    let own_observed = matched.observed_addr.parse::<SocketAddr>().ok();
    let locals: Vec<SocketAddr> = matched
        .peer_local_addrs
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect();
    // Behind the same public address the peers are likely on one LAN.
    let same_network = matches!((observed, own_observed), (Some(a), Some(b)) if a.ip() == b.ip());
    let mut candidates = Vec::new();
    if same_network {
        candidates.extend(locals.iter().copied());
        candidates.extend(observed);
    } else {
        candidates.extend(observed);
        candidates.extend(locals.iter().copied());
    }
    let mut unique = Vec::new();
    for candidate in candidates {
        if Some(candidate) != relay && !unique.contains(&candidate) && candidate.port() != 0 {
            unique.push(candidate);
        }
    }
    unique.truncate(8);
    unique
}

/// Sends punches to `targets` for `duration` (opens NAT mappings so the
/// other peer's packets can come in).
pub(crate) fn spawn_punches(raw: RawSender, targets: Vec<SocketAddr>, duration: Duration) {
    if targets.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let until = tokio::time::Instant::now() + duration;
        let mut ticker = tokio::time::interval(RAW_REPEAT * 2);
        while tokio::time::Instant::now() < until {
            ticker.tick().await;
            for target in &targets {
                raw.send(*target, &RawDatagram::Punch);
            }
        }
    });
}

/// The relay address and this peer's token of a match.
pub(crate) fn relay_of(matched: &Matched) -> Option<(SocketAddr, RelayToken)> {
    let addr = matched.relay_addr.parse().ok()?;
    let token: RelayToken = matched.relay_token.as_slice().try_into().ok()?;
    (token.len() == TOKEN_LEN).then_some((addr, token))
}

/// The standby relays of a match, in the broker's order.
fn standby_relays(matched: &Matched) -> Vec<SocketAddr> {
    matched
        .standby_relays
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// Arms the socket's relay failover for the match's relay, when it has
/// standbys.
fn arm_failover(raw: &RawSender, matched: &Matched) {
    if let Some((relay, token)) = relay_of(matched) {
        raw.arm_relay_failover(relay, token, &standby_relays(matched));
    }
}

/// How the claimant reached the waiting peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathKind {
    Direct,
    Relayed,
}

/// How the claimant looks for a path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathPlan {
    /// Whether to try the direct candidates at all.
    pub(crate) try_direct: bool,
    /// How long the direct candidates may take together.
    pub(crate) direct_timeout: Duration,
    /// How long the relay path may take.
    pub(crate) connect_timeout: Duration,
}

/// The claimant's part: tries the direct candidates (when allowed) within
/// `direct_timeout`, then the relay.
pub(crate) async fn connect_to_waiter(
    endpoint: &quinn::Endpoint,
    raw: &RawSender,
    events: &RawEvents,
    matched: &Matched,
    client: quinn::ClientConfig,
    plan: PathPlan,
) -> Result<(quinn::Connection, PathKind), String> {
    let PathPlan {
        try_direct,
        direct_timeout,
        connect_timeout,
    } = plan;
    let mut failures = Vec::new();
    let relay = relay_of(matched);
    if try_direct && matched.try_direct {
        let candidates = peer_candidates(matched);
        spawn_punches(raw.clone(), candidates.clone(), direct_timeout);
        let deadline = tokio::time::Instant::now() + direct_timeout;
        let count = u32::try_from(candidates.len()).unwrap_or(u32::MAX).max(1);
        let per_attempt = (direct_timeout / count).max(Duration::from_millis(300));
        for candidate in candidates {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let connecting = match endpoint.connect_with(client.clone(), candidate, PEER_NAME) {
                Ok(c) => c,
                Err(e) => {
                    failures.push(format!("{candidate}: {e}"));
                    continue;
                }
            };
            match tokio::time::timeout(per_attempt.min(left), connecting).await {
                Ok(Ok(connection)) => {
                    // Should the peer go silent (an address changed), both
                    // meet again at the relay.
                    if let Some((relay_addr, token)) = relay {
                        raw.arm_direct_fallback(
                            connection.remote_address(),
                            relay_addr,
                            token,
                            &standby_relays(matched),
                        );
                    }
                    return Ok((connection, PathKind::Direct));
                }
                Ok(Err(e)) => failures.push(format!("{candidate}: {e}")),
                Err(_) => failures.push(format!("{candidate}: timed out")),
            }
        }
    }
    let Some((relay_addr, token)) = relay else {
        return Err(format!("no direct path ({})", failures.join("; ")));
    };
    arm_failover(raw, matched);
    if !events
        .bind_relay(raw, relay_addr, token, true, connect_timeout)
        .await
    {
        failures.push(format!("relay {relay_addr}: the other peer did not bind"));
        return Err(failures.join("; "));
    }
    let connecting = endpoint
        .connect_with(client, relay_addr, PEER_NAME)
        .map_err(|e| format!("relay {relay_addr}: {e}"))?;
    match tokio::time::timeout(connect_timeout, connecting).await {
        Ok(Ok(connection)) => Ok((connection, PathKind::Relayed)),
        Ok(Err(e)) => Err(format!("relay {relay_addr}: {e}")),
        Err(_) => Err(format!("relay {relay_addr}: timed out")),
    }
}

/// The name the claimant asks for (trust comes from the PAKE, not from it).
pub(crate) const PEER_NAME: &str = super::tls::SERVER_NAME;

/// The waiting peer's part after a match: punch towards the claimant while
/// it tries the direct path, and bind the relay it may fall back to.
pub(crate) fn prepare_waiter_paths(
    raw: &RawSender,
    events: &RawEvents,
    matched: &Matched,
    try_direct: bool,
    window: Duration,
) {
    if try_direct && matched.try_direct {
        spawn_punches(raw.clone(), peer_candidates(matched), window);
    }
    arm_failover(raw, matched);
    if let Some((relay, token)) = relay_of(matched) {
        raw.remember_match(relay, token, &standby_relays(matched));
        let raw = raw.clone();
        let events = events.clone();
        tokio::spawn(async move {
            events.bind_relay(&raw, relay, token, true, window).await;
        });
    }
}

/// The addresses to tell the broker for a socket bound to `local`
/// (loopback only when bound to it: elsewhere it names the other peer's own
/// machine).
pub(crate) fn local_addresses(local: SocketAddr) -> Vec<String> {
    super::host::advertised_addresses(local)
        .into_iter()
        .filter(|a| local.ip().is_loopback() || !a.ip().is_loopback())
        .map(|a| a.to_string())
        .collect()
}
