//! The claimant's side of a code flow: claim the code on the broker
//! (following redirects, as [`Claimant`] decides) and connect to the waiting
//! peer as the QUIC client, directly or through the relay.

use super::{BrokerOptions, ClaimError, PeerSocket};
use crate::code::{Code, Lookup};
use crate::proto::broker::{Matched, Role};
use crate::rendezvous::Claimant;
use crate::runtime::broker_link::BrokerLink;
use crate::runtime::peer_path::{PathKind, PathPlan, connect_to_waiter};
use crate::runtime::peer_tls::{SessionRole, unverified_client_config};

/// Claims `lookup` from `socket`: the match, and the link it came on.
async fn claim_lookup(
    socket: &PeerSocket,
    options: &BrokerOptions,
    lookup: Lookup,
    role: Role,
) -> Result<(BrokerLink, Matched), ClaimError> {
    let mut claimant = Claimant::new(options.broker, lookup, role, socket.local_addrs.clone());
    let mut link = BrokerLink::new(
        socket.endpoint.clone(),
        options.trust.clone(),
        options.connect_timeout,
    );
    // Bounded: each round is a broker's answer or the end of the link, and
    // the claimant follows a few redirects at most.
    loop {
        while let Some(transmit) = claimant.poll_transmit() {
            if let Err(e) = link.carry_out(transmit).await {
                claimant.handle_link_lost(&e.to_string());
            }
        }
        if let Some(result) = claimant.poll_result() {
            return match result {
                Ok(matched) => Ok((link, matched)),
                Err(failure) => {
                    link.close();
                    Err(failure.into())
                }
            };
        }
        match link.recv().await {
            Ok(message) => claimant.handle_message(message),
            Err(e) => claimant.handle_link_lost(&e.to_string()),
        }
    }
}

/// Claims the code and connects to the waiting peer as the QUIC client.
pub(super) async fn claim_and_connect(
    options: &BrokerOptions,
    code: &Code,
    role: Role,
    local_role: SessionRole,
    outage_grace: std::time::Duration,
) -> Result<(PeerSocket, quinn::Connection, PathKind), ClaimError> {
    let client = unverified_client_config(local_role, outage_grace)?;
    claim_and_connect_with(options, code.lookup(), role, client).await
}

/// Claims `lookup` and connects to the waiting peer with `client` (the
/// PAKE's any-certificate configuration, or an invitation's pinned one).
pub(super) async fn claim_and_connect_with(
    options: &BrokerOptions,
    lookup: Lookup,
    role: Role,
    client: quinn::ClientConfig,
) -> Result<(PeerSocket, quinn::Connection, PathKind), ClaimError> {
    let socket = PeerSocket::bind(options.bind, None)?;
    let (mut link, matched) = claim_lookup(&socket, options, lookup, role).await?;
    let result = connect_to_waiter(
        &socket.endpoint,
        &socket.raw,
        &socket.events,
        &matched,
        client,
        PathPlan {
            try_direct: options.try_direct,
            direct_timeout: options.direct_timeout,
            connect_timeout: options.connect_timeout,
        },
    )
    .await;
    link.close();
    let (connection, path) = result.map_err(ClaimError::Unreachable)?;
    Ok((socket, connection, path))
}
