//! The helper's side of the code flows: **Easy Connect** (the helper types
//! the host's code) and **Quick Assist** (the helper gets a code and waits).

use std::time::Instant;

use tokio::sync::oneshot;

use super::claim::claim_and_connect;
use super::wait::{Registration, broker_news, finish, flush, register};
use super::{AssistOffer, BrokerOptions, ClaimError, DecoderFactory, PeerSocket, WaitError};
use crate::code::Code;
use crate::media::Decoder;
use crate::proto::broker::Role;
use crate::rendezvous::{AttemptOutcome, WaiterEvent};
use crate::runtime::error::AcceptError;
use crate::runtime::helper::{AcceptOptions, HelperSession, start_helper};
use crate::runtime::peer_path::{PathKind, relay_of};
use crate::runtime::peer_tls::{SessionRole, peer_server_config};
use crate::runtime::tls::HostIdentity;

/// **Easy Connect, helper side**: claims the code the host read out, connects
/// (directly or through the relay), authenticates with the code's secret, and
/// waits until the host approves. The session starts view-only.
///
/// # Errors
/// [`ClaimError::Unavailable`], [`ClaimError::RateLimited`],
/// [`ClaimError::WrongCode`], [`ClaimError::Session`] (e.g. denied), and others.
pub async fn easy_connect_helper(
    broker: BrokerOptions,
    code: &Code,
    options: AcceptOptions,
    decoder: Box<dyn Decoder>,
) -> Result<(HelperSession, bool), ClaimError> {
    let (socket, connection, path) = claim_and_connect(
        &broker,
        code,
        Role::Helper,
        SessionRole::Helper,
        options.outage_grace,
    )
    .await?;
    let session = start_helper(
        socket.endpoint,
        connection,
        code.session_id(),
        code.pake_secret(),
        options,
        decoder,
        None,
    )
    .await?;
    Ok((session, path == PathKind::Relayed))
}

/// **Quick Assist, helper side**: registers a fresh code with the broker.
/// Read [`AssistOffer::code`] to the host, then wait with
/// [`AssistOffer::connected`]. Each wrong attempt by a host is reported to the
/// broker, which closes the code after five.
///
/// # Errors
/// [`WaitError::Broker`], [`WaitError::Refused`], and others.
pub async fn assist(
    broker: BrokerOptions,
    options: AcceptOptions,
    decoders: DecoderFactory,
) -> Result<AssistOffer, WaitError> {
    let identity = HostIdentity::generate()?;
    let socket = PeerSocket::bind(
        broker.bind,
        Some(peer_server_config(
            &identity,
            SessionRole::Helper,
            options.outage_grace,
        )?),
    )?;
    let registration = register(&socket, &broker, Role::Helper, broker.code_lifetime).await?;
    let (result_tx, result) = oneshot::channel();
    let (code, expires_at) = (registration.code.clone(), registration.expires_at);
    tokio::spawn(async move {
        let outcome = helper_waits(socket, broker, registration, options, decoders).await;
        let _ = result_tx.send(outcome);
    });
    Ok(AssistOffer {
        code,
        expires_at,
        result,
    })
}

/// The Quick Assist helper's rendezvous task: for each match, take the
/// host's connection and authenticate; the waiter reports each outcome and
/// ends the code after too many failures.
async fn helper_waits(
    socket: PeerSocket,
    options: BrokerOptions,
    registration: Registration,
    accept: AcceptOptions,
    mut decoders: DecoderFactory,
) -> Result<(HelperSession, bool), WaitError> {
    let Registration {
        mut waiter,
        mut link,
        code,
        ..
    } = registration;
    let mut relay = None;
    // Bounded: each round is a match, a message or a timer, and the waiter
    // ends the code after a few failed matches.
    let result = 'waiting: loop {
        flush(&mut waiter, &mut link).await;
        while let Some(event) = waiter.poll_event() {
            match event {
                WaiterEvent::Matched(matched) => {
                    socket.open_paths_for(&matched, options.try_direct);
                    relay = relay_of(&matched).map(|(addr, _)| addr);
                }
                WaiterEvent::Ended(end) => break 'waiting Err(end.into()),
                _ => {}
            }
        }
        let waiting_for_host = waiter.pending_match().is_some();
        let incoming = tokio::select! {
            () = broker_news(&mut waiter, &mut link) => continue,
            incoming = socket.endpoint.accept(), if waiting_for_host => incoming,
        };
        let Some(incoming) = incoming else {
            break Err(WaitError::Broker("the socket closed".into()));
        };
        waiter.handle_connected(Instant::now());
        let connection = match incoming.await {
            Ok(connection) => connection,
            Err(e) => {
                tracing::debug!(error = %e, "handshake failed");
                waiter.handle_attempt(Instant::now(), AttemptOutcome::Failed);
                continue;
            }
        };
        let relayed = Some(connection.remote_address()) == relay;
        socket.raw.settle(connection.remote_address());
        let decoder = match decoders() {
            Ok(decoder) => decoder,
            Err(e) => break Err(WaitError::Decoder(e)),
        };
        let attempt = start_helper(
            socket.endpoint.clone(),
            connection,
            code.session_id(),
            code.pake_secret(),
            accept.clone(),
            decoder,
            None,
        )
        .await;
        match attempt {
            Ok(session) => {
                waiter.handle_attempt(Instant::now(), AttemptOutcome::Authenticated);
                break Ok((session, relayed));
            }
            Err(other @ (AcceptError::Denied(_) | AcceptError::Policy)) => {
                // Authenticated, then turned away: the code is used.
                waiter.handle_attempt(Instant::now(), AttemptOutcome::Authenticated);
                break Err(WaitError::Session(other));
            }
            Err(other) => {
                tracing::debug!(error = %other, "attempt failed");
                waiter.handle_attempt(Instant::now(), AttemptOutcome::Failed);
            }
        }
    };
    // The broker's answer to the last report comes in the background: the
    // session need not wait for it.
    tokio::spawn(async move { finish(&mut waiter, &mut link).await });
    result
}
