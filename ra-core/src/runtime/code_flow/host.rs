//! The host's side of the code flows: **Easy Connect** (the host gets a code
//! and waits) and **Quick Assist** (the host types the helper's code).

use std::sync::Arc;
use std::time::SystemTime;

use super::claim::claim_and_connect;
use super::wait::{HostWaitEnd, Registration, finish, host_rendezvous, register};
use super::{BrokerOptions, ClaimError, CodeHostSession, PeerSocket, WaitError, host_lifetime};
use crate::code::Code;
use crate::proto::broker::Role;
use crate::rendezvous::{MAX_CODE_FAILURES, WaitEnd};
use crate::runtime::error::InviteError;
use crate::runtime::event_queue::{EventReceiver, event_queue};
use crate::runtime::host::{
    ConnectionFeed, HostBackends, HostStart, InviteOptions, prepare_host, spawn_host,
};
use crate::runtime::peer_tls::{SessionRole, peer_server_config};
use crate::runtime::tls::HostIdentity;
use crate::session::{HostEvent, InvitationCloseReason, OfferRecord};

/// **Easy Connect, host side**: registers a fresh code with the broker and
/// waits for the helper who types it. Read [`CodeHostSession::code`] to the
/// helper; approve its [`HostEvent::ConnectionRequest`] as in the invitation
/// flow. `options.listen` and `options.advertise` are not used (see
/// [`BrokerOptions::bind`]).
///
/// # Errors
/// [`WaitError::Host`] (e.g. the policy forbids assistance),
/// [`WaitError::Broker`], [`WaitError::Refused`], and others.
pub async fn easy_connect_host(
    broker: BrokerOptions,
    options: InviteOptions,
    backends: HostBackends,
) -> Result<CodeHostSession, WaitError> {
    if !options.policy.allow_assistance {
        return Err(InviteError::Policy.into());
    }
    let prepared = prepare_host(backends, options.display)?;
    let identity = HostIdentity::generate()?;
    let socket = PeerSocket::bind(
        broker.bind,
        Some(peer_server_config(
            &identity,
            SessionRole::Host,
            options.outage_grace,
        )?),
    )?;
    let lifetime = host_lifetime(&options, &broker);
    let registration = register(&socket, &broker, Role::Host, lifetime).await?;
    let (observer_tx, observer_rx) = event_queue(Arc::default());
    let (code, expires_at) = (registration.code.clone(), registration.expires_at);
    let start = HostStart {
        observer: Some(observer_tx),
        offer: Some(OfferRecord {
            expires_at,
            addresses: vec![broker.broker],
        }),
        receipt_key: identity.receipt_key(),
        ..code_start(&code, options, lifetime, MAX_CODE_FAILURES, &socket)
    };
    let (handle, feed) = spawn_host(start, prepared)?;
    tokio::spawn(host_waits(socket, broker, registration, feed, observer_rx));
    Ok(CodeHostSession {
        code,
        expires_at,
        path: None,
        handle,
    })
}

/// The Easy Connect host's rendezvous task: accepts connections into the
/// session and tells the waiter how each attempt went (from the session's
/// events), until the code is used, dead or expired.
async fn host_waits(
    socket: PeerSocket,
    options: BrokerOptions,
    registration: Registration,
    feed: ConnectionFeed,
    mut observer: EventReceiver<HostEvent>,
) {
    let Registration {
        mut waiter,
        mut link,
        ..
    } = registration;
    let accept_endpoint = socket.endpoint.clone();
    let accept_feed = feed.clone();
    let accept_raw = socket.raw.clone();
    let acceptor = tokio::spawn(async move {
        while let Some(incoming) = accept_endpoint.accept().await {
            let feed = accept_feed.clone();
            let raw = accept_raw.clone();
            tokio::spawn(async move {
                match incoming.await {
                    Ok(connection) => {
                        raw.settle(connection.remote_address());
                        feed.add(connection);
                    }
                    Err(e) => tracing::debug!(error = %e, "handshake failed"),
                }
            });
        }
    });
    match host_rendezvous(
        &socket,
        options.try_direct,
        &mut waiter,
        &mut link,
        &mut observer,
    )
    .await
    {
        HostWaitEnd::HelperIn => {
            // No more connections.
            acceptor.abort();
            finish(&mut waiter, &mut link).await;
            return;
        }
        HostWaitEnd::Ended(end) => {
            tracing::debug!(?end, "code closed");
            match end {
                WaitEnd::TooManyFailures => feed.close(InvitationCloseReason::TooManyFailures),
                WaitEnd::Expired => feed.close(InvitationCloseReason::Expired),
                _ => {}
            }
        }
        HostWaitEnd::Closed => {}
    }
    // The code is used, dead or expired: no more connections.
    acceptor.abort();
    link.close();
    drop(feed);
}

/// A host session authenticated by `code`'s secret, on `socket`.
fn code_start(
    code: &Code,
    options: InviteOptions,
    lifetime: std::time::Duration,
    max_failed_attempts: u32,
    socket: &PeerSocket,
) -> HostStart {
    HostStart {
        session_id: code.session_id(),
        host_name: options.host_name,
        secret: code.pake_secret(),
        lifetime,
        policy: options.policy,
        max_failed_attempts: Some(max_failed_attempts),
        audit_log: options.audit_log,
        endpoints: vec![socket.endpoint.clone()],
        observer: None,
        offer: None,
        receipt_key: None,
        resume_contents: None,
        resuming: None,
    }
}

/// **Quick Assist, host side**: claims the code the helper read out and runs
/// the host's session over the connection (the host is the QUIC client). The
/// helper's [`HostEvent::ConnectionRequest`] (with its name) still needs the
/// host's approval, and control a separate one.
///
/// # Errors
/// [`ClaimError::Unavailable`], [`ClaimError::RateLimited`],
/// [`ClaimError::Unreachable`], [`ClaimError::Host`], and others. A wrong
/// secret shows as [`HostEvent::AuthFailed`] then [`HostEvent::InvitationClosed`].
pub async fn join(
    broker: BrokerOptions,
    code: &Code,
    options: InviteOptions,
    backends: HostBackends,
) -> Result<CodeHostSession, ClaimError> {
    if !options.policy.allow_assistance {
        return Err(InviteError::Policy.into());
    }
    let lifetime = host_lifetime(&options, &broker);
    let prepared = prepare_host(backends, options.display)?;
    let (socket, connection, path) = claim_and_connect(
        &broker,
        code,
        Role::Host,
        SessionRole::Host,
        options.outage_grace,
    )
    .await?;
    // Quick Assist: one try, as the code was typed by this host.
    // This host dialled the helper: it has no certificate of its own in the
    // session, so its receipts are signed with a key made for them.
    let start = HostStart {
        receipt_key: crate::receipt::HostReceiptKey::generate()
            .inspect_err(|e| tracing::warn!(error = %e, "no consent receipts"))
            .ok(),
        ..code_start(code, options, lifetime, 1, &socket)
    };
    let (handle, feed) = spawn_host(start, prepared)?;
    feed.add(connection);
    Ok(CodeHostSession {
        code: code.clone(),
        expires_at: SystemTime::now() + lifetime,
        path: Some(path),
        handle,
    })
}
