//! The helper's side of resume tickets: while it holds the host's offer and
//! the host has gone dark (or away), it dials the host's addresses again
//! and, once a host there authenticates with the ticket's secret, carries
//! the session on over the new connection. The host's user approves again
//! and control needs a new grant: the new connection starts as any other.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::AcceptOptions;
use super::driver::HelperDriver;
use crate::invitation::SessionId;
use crate::runtime::connection::channel_binding;
use crate::runtime::tls::SERVER_NAME;
use crate::session::{
    EndReason, HeldResumeOffer, HelperConnection, HelperEvent, HelperTransmit, end_reason_code,
};

/// How long one attempt may take to connect and hear the host's answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// The pause between rounds of attempts over the host's addresses.
const ROUND_PAUSE: Duration = Duration::from_millis(500);

/// How the host is reached again: where it listened, with the pin the
/// session was made with.
#[derive(Clone)]
pub(crate) struct ResumeRoute {
    pub(crate) addresses: Vec<SocketAddr>,
    /// Pins the host's certificate (a resumed host keeps it).
    pub(crate) client: quinn::ClientConfig,
    pub(crate) session_id: SessionId,
    pub(crate) options: AcceptOptions,
}

/// A connection to the resumed host, authenticated with the ticket.
pub(super) struct Resumed {
    endpoint: quinn::Endpoint,
    connection: quinn::Connection,
    core: HelperConnection,
    send: quinn::SendStream,
    recv: quinn::RecvStream,
}

/// The task dialling the host again.
pub(super) type Redial = tokio::task::JoinHandle<Option<Resumed>>;

/// What the redial task found (never ready without one).
pub(super) async fn wait_redial(redial: &mut Option<Redial>) -> Option<Resumed> {
    match redial {
        Some(task) => task.await.ok().flatten(),
        None => std::future::pending().await,
    }
}

impl HelperDriver {
    /// Starts or stops dialling the host as the core wants; true when the
    /// session's end was given out (the loop must look again).
    pub(super) fn steer_resumption(&mut self, redial: &mut Option<Redial>) -> bool {
        let now = Instant::now();
        let offer = self
            .resume_route
            .as_ref()
            .filter(|_| self.core.wants_resumption(now))
            .zip(self.core.resume_offer(now));
        match (offer, redial.is_some()) {
            (Some((route, offer)), false) => {
                tracing::info!("the host is unreachable: trying to resume");
                *redial = Some(tokio::spawn(redial_host(route.clone(), offer.clone())));
                false
            }
            (None, running) => {
                if running && let Some(task) = redial.take() {
                    task.abort();
                }
                if self.awaiting_resumption {
                    self.give_up_resumption();
                    return true;
                }
                false
            }
            (Some(_), true) => false,
        }
    }

    /// No resumption came in time: the session is over.
    pub(super) fn give_up_resumption(&mut self) {
        self.awaiting_resumption = false;
        let reason = self.core.ended().unwrap_or(EndReason::ConnectionLost);
        if let Some(live) = self.live.take() {
            let _ = live.send(Err(reason));
        }
        self.events.send(HelperEvent::Ended { reason });
    }

    /// Carries the session on over the resumed host's connection; returns
    /// its control stream to read.
    pub(super) fn switch_to(&mut self, resumed: Resumed) -> quinn::RecvStream {
        // The ticket is used once.
        let _ = self.core.take_resume_offer(Instant::now());
        self.connection.close(
            end_reason_code(EndReason::ConnectionLost).into(),
            b"resumed elsewhere",
        );
        let Resumed {
            endpoint,
            connection,
            core,
            send,
            recv,
        } = resumed;
        self.core = core;
        self.endpoint = endpoint;
        self.connection = connection;
        self.send = send;
        self.input = None;
        self.awaiting_resumption = false;
        self.stats.set_connection(&self.connection);
        tracing::info!("resumed: waiting for the host's approval");
        self.events.send(HelperEvent::Resuming);
        self.start_video();
        recv
    }
}

/// Dials the host's addresses in rounds until one authenticates with the
/// ticket or the ticket expires.
async fn redial_host(route: ResumeRoute, offer: HeldResumeOffer) -> Option<Resumed> {
    while Instant::now() < offer.expires_at {
        for &address in &route.addresses {
            let attempt =
                tokio::time::timeout(ATTEMPT_TIMEOUT, try_resume(&route, &offer, address));
            match attempt.await {
                Ok(Ok(resumed)) => return Some(resumed),
                Ok(Err(why)) => tracing::debug!(%address, why, "no resumption"),
                Err(_) => tracing::debug!(%address, "no resumption: timed out"),
            }
        }
        tokio::time::sleep(ROUND_PAUSE).await;
    }
    None
}

/// One attempt at `address`: the TLS handshake (the pin), the hello with
/// the ticket's id, and the host's answer.
async fn try_resume(
    route: &ResumeRoute,
    offer: &HeldResumeOffer,
    address: SocketAddr,
) -> Result<Resumed, &'static str> {
    let endpoint = super::client_endpoint(address, &route.client).map_err(|_| "no socket")?;
    let connection = endpoint
        .connect(address, SERVER_NAME)
        .map_err(|_| "cannot dial")?
        .await
        .map_err(|_| "no handshake")?;
    let binding =
        channel_binding(&connection, route.session_id.as_bytes()).ok_or("no channel binding")?;
    let (mut send, mut recv) = connection.open_bi().await.map_err(|_| "no stream")?;
    let mut config = super::helper_config(
        route.session_id,
        offer.secret.to_vec().into(),
        &route.options,
        &connection,
    );
    config.resume_ticket_id = Some(offer.ticket_id);
    let mut core = HelperConnection::new(Instant::now(), config, binding, &mut rand_core::OsRng);
    loop {
        while let Some(transmit) = core.poll_transmit() {
            match transmit {
                HelperTransmit::Control(bytes) => {
                    send.write_all(&bytes).await.map_err(|_| "stream failed")?;
                }
                HelperTransmit::Close { reason } => {
                    connection.close(end_reason_code(reason).into(), reason.as_str().as_bytes());
                    return Err("refused");
                }
                HelperTransmit::Input(_) => {}
            }
        }
        if core.ended().is_some() {
            return Err("refused");
        }
        if core.is_authenticated() {
            return Ok(Resumed {
                endpoint,
                connection,
                core,
                send,
                recv,
            });
        }
        let chunk = recv
            .read_chunk(64 * 1024, true)
            .await
            .map_err(|_| "connection lost")?
            .ok_or("the host closed")?;
        core.handle_control_data(Instant::now(), &chunk.bytes);
    }
}
