//! Driving a [`Waiter`] over a [`BrokerLink`]: the registration both
//! waiting flows start with, and carrying out what the waiter asks.

use std::time::{Duration, Instant, SystemTime};

use rand_core::OsRng;

use super::{BrokerOptions, PeerSocket, WaitError};
use crate::code::Code;
use crate::proto::broker::Role;
use crate::rendezvous::{
    AttemptOutcome, BrokerTransmit, WaitEnd, Waiter, WaiterConfig, WaiterEvent,
};
use crate::runtime::broker_link::BrokerLink;
use crate::runtime::event_queue::EventReceiver;
use crate::session::HostEvent;

/// A code registered with the broker, and the machine and link that keep it.
pub(super) struct Registration {
    pub(super) waiter: Waiter,
    pub(super) link: BrokerLink,
    pub(super) code: Code,
    pub(super) expires_at: SystemTime,
}

/// Registers a fresh code for a peer of `role` on `socket`.
///
/// # Errors
/// [`WaitError::Broker`] when the broker cannot be reached,
/// [`WaitError::Refused`] when it refuses.
pub(super) async fn register(
    socket: &PeerSocket,
    options: &BrokerOptions,
    role: Role,
    lifetime: Duration,
) -> Result<Registration, WaitError> {
    let config = WaiterConfig::new(options.broker, role, lifetime, socket.local_addrs.clone());
    let mut waiter = Waiter::new(config, Box::new(OsRng));
    let mut link = BrokerLink::new(
        socket.endpoint.clone(),
        options.trust.clone(),
        options.connect_timeout,
    );
    // Bounded by the broker: each round is one of its answers or the end of
    // the link, and the waiter gives up after a few collisions.
    loop {
        flush(&mut waiter, &mut link).await;
        while let Some(event) = waiter.poll_event() {
            match event {
                WaiterEvent::Registered { code, expires_at } => {
                    return Ok(Registration {
                        waiter,
                        link,
                        code,
                        expires_at,
                    });
                }
                WaiterEvent::Ended(end) => {
                    link.close();
                    return Err(end.into());
                }
                _ => {}
            }
        }
        match link.recv().await {
            Ok(message) => waiter.handle_message(Instant::now(), SystemTime::now(), message),
            Err(e) => waiter.handle_link_lost(Instant::now(), &e.to_string()),
        }
    }
}

/// Carries out everything the waiter asked of the broker; a failure is the
/// link lost, which the waiter turns into its re-attach schedule.
pub(super) async fn flush(waiter: &mut Waiter, link: &mut BrokerLink) {
    while let Some(transmit) = waiter.poll_transmit() {
        if let Err(e) = link.carry_out(transmit).await {
            tracing::debug!(error = %e, "broker link lost");
            waiter.handle_link_lost(Instant::now(), &e.to_string());
        }
    }
}

/// What the broker side of a waiting flow brought: fed to the waiter.
pub(super) async fn broker_news(waiter: &mut Waiter, link: &mut BrokerLink) {
    tokio::select! {
        message = link.recv() => match message {
            Ok(message) => waiter.handle_message(Instant::now(), SystemTime::now(), message),
            Err(e) => waiter.handle_link_lost(Instant::now(), &e.to_string()),
        },
        () = crate::runtime::sleep_until(waiter.poll_timeout()) => {
            waiter.handle_timeout(Instant::now());
        }
    }
}

/// How long the waiting peer waits for the broker to confirm that a used
/// code is closed, before it closes the link anyway.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Reports what the waiter still has to say (an authenticated attempt uses
/// the code up), waits briefly for the broker's answer so the report is not
/// lost to an abrupt close, and closes the link.
pub(super) async fn finish(waiter: &mut Waiter, link: &mut BrokerLink) {
    while let Some(transmit) = waiter.poll_transmit() {
        if transmit == BrokerTransmit::Close {
            // Not yet: the broker answers the report with its own close.
            let _ = tokio::time::timeout(CLOSE_WAIT, link.recv()).await;
        }
        if link.carry_out(transmit).await.is_err() {
            break;
        }
    }
    link.close();
}

/// How a waiting host's registration ended ([`host_rendezvous`]).
pub(super) enum HostWaitEnd {
    /// A helper authenticated and the host was asked: the report that the
    /// code is used is queued; [`finish`] it.
    HelperIn,
    /// The code ended (used, dead, expired, refused).
    Ended(WaitEnd),
    /// The host session closed its offer, or ended.
    Closed,
}

/// Keeps a waiting host's registration: opens the paths to each claimant
/// on `socket` and reports each attempt to the broker from the host
/// session's events (`observer`), until a helper is in or the code or the
/// session ends.
pub(super) async fn host_rendezvous(
    socket: &PeerSocket,
    try_direct: bool,
    waiter: &mut Waiter,
    link: &mut BrokerLink,
    observer: &mut EventReceiver<HostEvent>,
) -> HostWaitEnd {
    // Bounded by the code: it ends used, dead or expired.
    loop {
        flush(waiter, link).await;
        while let Some(event) = waiter.poll_event() {
            match event {
                WaiterEvent::Matched(matched) => socket.open_paths_for(&matched, try_direct),
                WaiterEvent::Ended(end) => return HostWaitEnd::Ended(end),
                _ => {}
            }
        }
        tokio::select! {
            () = broker_news(waiter, link) => {}
            event = observer.recv() => match event {
                Some(HostEvent::AuthFailed { .. }) => {
                    waiter.handle_attempt(Instant::now(), AttemptOutcome::Failed);
                }
                Some(HostEvent::ConnectionRequest { .. }) => {
                    // In: the code did its job, whoever else comes.
                    waiter.handle_attempt(Instant::now(), AttemptOutcome::Authenticated);
                    return HostWaitEnd::HelperIn;
                }
                Some(HostEvent::InvitationClosed { .. }) | None => return HostWaitEnd::Closed,
                Some(_) => {}
            },
        }
    }
}
