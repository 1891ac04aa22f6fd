//! "Verify the firewall" ([`diagnose`]): can a UDP socket bind, does the
//! broker answer (and how fast), which public address does it see, does the
//! NAT keep one mapping for two destinations (the broker's QUIC port and its
//! relay port) — if not, a direct path is unlikely and the relay will carry
//! sessions — is the port reachable from outside (the broker sends to it
//! from a socket this one never talked to: what a helper dialling an
//! invitation's address meets), and does a local firewall rule drop the
//! port (`firewall`); then the checks and a verdict (`report`).

mod firewall;
mod report;

pub use firewall::{BlockingRule, iptables_blocking_rules, nft_blocking_rules};
pub use report::{Check, Diagnosis};

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::broker_link::{BrokerStream, connect_broker};
use super::code_flow::BrokerOptions;
use super::path_socket::bind_endpoint;
use super::peer_path::RawEvents;
use crate::proto::broker::{Probe, ReachProbe, broker_message, peer_message};
use crate::relay::REACH_NONCE_LEN;

/// What the network checks found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetworkReport {
    /// The local UDP address, or why binding failed.
    pub bind: Result<SocketAddr, String>,
    /// The round trip of a request to the broker, or why it failed.
    pub broker_rtt: Result<Duration, String>,
    /// The address the broker's QUIC port saw.
    pub observed: Option<SocketAddr>,
    /// The address the broker's relay port saw (same socket).
    pub observed_by_relay: Option<SocketAddr>,
    /// Whether a datagram the broker sent unasked, from elsewhere, reached
    /// the port (`None` when it could not be asked).
    pub inbound: Option<bool>,
}

impl NetworkReport {
    /// Whether the NAT kept the same mapping for both broker ports (`None`
    /// when either side could not be measured).
    pub fn mapping_stable(&self) -> Option<bool> {
        Some(self.observed? == self.observed_by_relay?)
    }
}

/// Runs every check against the broker of `options`: the network ones, then
/// the local firewall's rules for the port that was bound.
pub async fn diagnose(options: &BrokerOptions) -> Diagnosis {
    let network = diagnose_network(options).await;
    let port = network
        .bind
        .as_ref()
        .map(|a| a.port())
        .unwrap_or(options.bind.port());
    // `nft` and `iptables` are programs: run them off the runtime's threads.
    let (blocking, consulted) = tokio::task::spawn_blocking(move || firewall::local_firewall(port))
        .await
        .unwrap_or_default();
    Diagnosis {
        broker: options.broker,
        network,
        blocking,
        consulted,
        port,
    }
}

/// How long a `Reach` datagram is waited for (the broker sends three, 100 ms
/// apart, right after it answers).
const REACH_WAIT: Duration = Duration::from_secs(2);

/// Asks the broker to send to `port` from elsewhere; whether it arrived
/// (`None` when the broker would not or could not try).
async fn reach_check(
    connection: &quinn::Connection,
    events: &RawEvents,
    port: u16,
    options: &BrokerOptions,
) -> Option<bool> {
    let mut nonce = [0u8; REACH_NONCE_LEN];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
    let ask = async {
        let mut stream = BrokerStream::open(
            connection,
            peer_message::Message::ReachProbe(ReachProbe {
                port: u32::from(port),
                nonce: nonce.to_vec(),
            }),
        )
        .await?;
        stream.recv().await
    };
    match tokio::time::timeout(options.connect_timeout, ask).await {
        Ok(Ok(broker_message::Message::ProbeReply(_))) => {}
        other => {
            tracing::debug!(?other, "the broker did not try to reach the port");
            return None;
        }
    }
    Some(events.reached(nonce, REACH_WAIT).await)
}

/// Runs the network checks against the broker of `options`.
pub async fn diagnose_network(options: &BrokerOptions) -> NetworkReport {
    let mut report = NetworkReport {
        bind: Err("not tried".into()),
        broker_rtt: Err("not tried".into()),
        observed: None,
        observed_by_relay: None,
        inbound: None,
    };
    let (endpoint, raw, raw_rx) = match bind_endpoint(options.bind, None) {
        Ok(bound) => bound,
        Err(e) => {
            report.bind = Err(e.to_string());
            return report;
        }
    };
    report.bind = raw.local_addr().map_err(|e| e.to_string());
    let events = RawEvents::spawn(raw_rx);
    let started = Instant::now();
    let connection = match connect_broker(
        &endpoint,
        options.broker,
        &options.trust,
        options.connect_timeout,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            report.broker_rtt = Err(e.to_string());
            return report;
        }
    };
    let handshake = started.elapsed();
    let asked = Instant::now();
    let reply = async {
        let mut stream =
            BrokerStream::open(&connection, peer_message::Message::Probe(Probe {})).await?;
        stream.recv().await
    };
    let relay = match tokio::time::timeout(options.connect_timeout, reply).await {
        Ok(Ok(broker_message::Message::ProbeReply(reply))) => {
            // The QUIC handshake takes one round trip too: report the smaller.
            report.broker_rtt = Ok(asked.elapsed().min(handshake));
            report.observed = reply.observed_addr.parse().ok();
            reply.relay_addr.parse::<SocketAddr>().ok()
        }
        Ok(Ok(_)) => {
            report.broker_rtt = Err("unexpected answer".into());
            None
        }
        Ok(Err(e)) => {
            report.broker_rtt = Err(e.to_string());
            None
        }
        Err(_) => {
            report.broker_rtt = Err("timed out".into());
            None
        }
    };
    if let Some(relay) = relay {
        report.observed_by_relay = events.probe(&raw, relay, options.connect_timeout).await;
    }
    if let Ok(local) = &report.bind {
        report.inbound = reach_check(&connection, &events, local.port(), options).await;
    }
    connection.close(0u8.into(), b"diagnosed");
    endpoint.close(0u8.into(), b"diagnosed");
    report
}
