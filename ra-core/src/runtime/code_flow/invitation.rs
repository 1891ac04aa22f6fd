//! The invitation flow's rendezvous through a broker: invitations that
//! cross NATs.
//!
//! A host with a broker listens on a socket that also carries its broker
//! link and the raw datagrams of hole punching ([`PeerSocket`]), registers a
//! lookup part there (never a secret), and writes it with the broker's
//! address and fingerprint into the invitation ([`Rendezvous`]). A helper
//! that reaches none of the invitation's addresses claims that lookup part
//! and connects by hole punching or through the broker's relay, exactly as
//! the short-code flows do — but with the invitation's own TLS
//! configuration, so the pinned certificate and then the password
//! authenticate the host end to end, whatever path the packets take.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::claim::claim_and_connect_with;
use super::wait::{HostWaitEnd, Registration, finish, host_rendezvous, register};
use super::{BrokerOptions, PeerSocket};
use crate::invitation::{CertFingerprint, Rendezvous};
use crate::proto::broker::Role;
use crate::runtime::error::InviteError;
use crate::runtime::event_queue::{EventReceiver, EventSender, event_queue};
use crate::runtime::peer_tls::BrokerTrust;
use crate::session::HostEvent;

/// An invitation host's socket with its lookup registered at the broker;
/// [`RendezvousWait::spawn`] keeps the registration until a helper is in.
pub(crate) struct RendezvousWait {
    socket: PeerSocket,
    try_direct: bool,
    registration: Registration,
}

/// Opens the invitation host's socket on `listen` (serving `server`) and
/// registers a lookup part for it at `broker`, for `lifetime` at most (the
/// broker may cap it: the invitation then still works directly).
///
/// # Errors
/// [`InviteError::Bind`] when `listen` cannot be bound,
/// [`InviteError::Rendezvous`] when the broker cannot be reached or refuses.
pub(crate) async fn open_rendezvous(
    listen: SocketAddr,
    server: quinn::ServerConfig,
    broker: &BrokerOptions,
    lifetime: Duration,
) -> Result<(quinn::Endpoint, Rendezvous, RendezvousWait), InviteError> {
    let socket = PeerSocket::bind(listen, Some(server)).map_err(|source| InviteError::Bind {
        addr: listen,
        source,
    })?;
    let registration = register(
        &socket,
        broker,
        Role::Host,
        lifetime.min(broker.code_lifetime),
    )
    .await
    .map_err(|e| InviteError::Rendezvous(e.to_string()))?;
    let broker_fingerprint = match &broker.trust {
        BrokerTrust::Fingerprint(pin) => *pin,
        // Trusted through a CA: pin the certificate the broker showed.
        BrokerTrust::Ca { .. } => registration
            .link
            .peer_certificate()
            .map(|der| CertFingerprint::of_der(&der))
            .ok_or_else(|| InviteError::Rendezvous("the broker showed no certificate".into()))?,
    };
    let rendezvous = Rendezvous {
        lookup: registration.code.lookup(),
        broker: broker.broker,
        broker_fingerprint,
    };
    let wait = RendezvousWait {
        socket,
        try_direct: broker.try_direct,
        registration,
    };
    Ok((wait.socket.endpoint.clone(), rendezvous, wait))
}

impl RendezvousWait {
    /// The host session's observer to give [`crate::runtime::host::HostStart`],
    /// and the task that keeps the registration: it opens the paths for each
    /// claimant, reports each attempt to the broker (from the session's
    /// events) and ends when a helper is in, the invitation is closed or the
    /// registration expires.
    pub(crate) fn spawn(self) -> EventSender<HostEvent> {
        let (observer_tx, observer_rx) = event_queue(Arc::default());
        tokio::spawn(self.wait(observer_rx));
        observer_tx
    }

    async fn wait(self, mut observer: EventReceiver<HostEvent>) {
        let RendezvousWait {
            socket,
            try_direct,
            registration,
        } = self;
        let Registration {
            mut waiter,
            mut link,
            ..
        } = registration;
        match host_rendezvous(&socket, try_direct, &mut waiter, &mut link, &mut observer).await {
            HostWaitEnd::HelperIn => finish(&mut waiter, &mut link).await,
            HostWaitEnd::Ended(end) => {
                // The invitation itself stays open for direct paths.
                tracing::info!(?end, "the invitation's rendezvous ended");
                link.close();
            }
            HostWaitEnd::Closed => link.close(),
        }
    }
}

/// The helper's way to a host it cannot reach directly: claims the
/// rendezvous's lookup part at its broker, then connects with the
/// invitation's `client` configuration by hole punching or through the
/// relay. The endpoint (to keep for the session) and the connection.
///
/// # Errors
/// Why no path was found, as text for [`crate::runtime::AcceptError::Unreachable`].
pub(crate) async fn reach_through_rendezvous(
    rendezvous: &Rendezvous,
    client: quinn::ClientConfig,
    connect_timeout: Duration,
) -> Result<(quinn::Endpoint, quinn::Connection), String> {
    let unspecified = match rendezvous.broker.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let mut options = BrokerOptions::new(
        rendezvous.broker,
        BrokerTrust::Fingerprint(rendezvous.broker_fingerprint),
    );
    options.bind = SocketAddr::new(unspecified, 0);
    options.connect_timeout = connect_timeout;
    let (socket, connection, _) =
        claim_and_connect_with(&options, rendezvous.lookup, Role::Helper, client)
            .await
            .map_err(|e| format!("broker {}: {e}", rendezvous.broker))?;
    Ok((socket.endpoint, connection))
}
