//! Starting a host's session, however its connections arrive: the
//! pipeline, the injector and the driver ([`spawn_host`]), and the
//! [`ConnectionFeed`] that hands the driver each established connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::desk::DeskDriver;
use super::driver::{DriverInputs, HostDriver};
use super::{HostBackends, HostHandle};
use crate::audit::AuditLog;
use crate::desk::DeskSignal;
use crate::invitation::SessionId;
use crate::media::DisplayId;
use crate::policy::Policy;
use crate::runtime::audit_writer::AuditWriter;
use crate::runtime::connection::{NET_QUEUE, NetEvent, channel_binding, run_connection, writer};
use crate::runtime::controller::HostController;
use crate::runtime::error::InviteError;
use crate::runtime::event_queue::{EventSender, event_queue};
use crate::runtime::injector::InjectorThread;
use crate::runtime::stats::StatsRecorder;
use crate::runtime::video::{PIPELINE_REPORTS, PipelineReport, VideoPipeline};
use crate::session::{ConnectionId, HostConfig, HostEndpoint, HostEvent, OfferRecord};

/// What a host session needs, however its connections arrive.
pub(crate) struct HostStart {
    pub(crate) session_id: SessionId,
    pub(crate) host_name: String,
    /// The PAKE secret (a password's or a code's), wiped when dropped.
    pub(crate) secret: zeroize::Zeroizing<Vec<u8>>,
    pub(crate) lifetime: Duration,
    pub(crate) policy: Policy,
    /// Failed attempts that close the session; `None`: the default (5).
    pub(crate) max_failed_attempts: Option<u32>,
    pub(crate) audit_log: Option<AuditLog>,
    /// Endpoints to close (and wait for) when the session is over.
    pub(crate) endpoints: Vec<quinn::Endpoint>,
    /// Also receives every event (the broker flows report outcomes from them).
    pub(crate) observer: Option<EventSender<HostEvent>>,
    /// What the audit log's first record says of the offer.
    pub(crate) offer: Option<OfferRecord>,
    /// What the session's consent receipts are signed with; `None`: no
    /// receipts.
    pub(crate) receipt_key: Option<crate::receipt::HostReceiptKey>,
    /// What resume tickets keep; `None`: the session issues none.
    pub(crate) resume_contents: Option<crate::resume::TicketContents>,
    /// The ticket the session is re-opened from, if it is.
    pub(crate) resuming: Option<[u8; crate::resume::TICKET_ID_LEN]>,
}

/// Where a host session's connections come from: anything that establishes
/// QUIC connections (an accept loop, a rendezvous as server or as client)
/// hands them over here. Once every feed is dropped and no connection is
/// left, the session closes its invitation.
#[derive(Clone)]
pub(crate) struct ConnectionFeed {
    net: mpsc::Sender<NetEvent>,
    session_id: SessionId,
    next_id: Arc<AtomicU64>,
    /// Held by every feed, and by each connection until the driver knows it.
    alive: mpsc::Sender<()>,
}

impl ConnectionFeed {
    /// Closes the session's invitation for `reason`: no connection will
    /// come, and the application learns why.
    pub(crate) fn close(&self, reason: crate::session::InvitationCloseReason) {
        // Queued before this feed can be dropped, so the driver hears why the
        // offer closed before it sees no feed left. When the queue is full, a
        // task waits for room, holding a feed alive until it is queued.
        if let Err(mpsc::error::TrySendError::Full(event)) =
            self.net.try_send(NetEvent::OfferClosed { reason })
        {
            let (net, alive) = (self.net.clone(), self.alive.clone());
            tokio::spawn(async move {
                let _ = net.send(event).await;
                drop(alive);
            });
        }
    }

    /// Runs an established connection (from either side of the handshake) as
    /// one of the session's connections.
    pub(crate) fn add(&self, connection: quinn::Connection) {
        let conn = ConnectionId(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let net = self.net.clone();
        let session_id = self.session_id;
        let alive = self.alive.clone();
        tokio::spawn(async move {
            let peer = connection.remote_address();
            let Some(binding) = channel_binding(&connection, session_id.as_bytes()) else {
                connection.close(0u8.into(), b"no channel binding");
                return;
            };
            let (writer, queue) = writer();
            if net
                .send(NetEvent::Connected {
                    conn,
                    connection: connection.clone(),
                    peer,
                    binding,
                    writer,
                })
                .await
                .is_err()
            {
                return;
            }
            drop(alive);
            run_connection(conn, connection, net, queue).await;
        });
    }
}

/// What the desk's watchers may have reported and the driver not yet
/// handled (see [`DeskDriver::start`] for what happens when full).
const DESK_SIGNALS: usize = 64;

/// A host session's backends, started: the pipeline's and the injector's
/// threads and the desk's watchers, before any connection is made (so a
/// failure costs no code and no socket).
pub(crate) struct PreparedHost {
    pipeline: VideoPipeline,
    reports: mpsc::Receiver<PipelineReport>,
    injector: InjectorThread,
    desk: DeskDriver,
    desk_signals: mpsc::Receiver<DeskSignal>,
    stats: StatsRecorder,
}

/// Starts `backends`; `display` is the display to share first.
///
/// # Errors
/// [`InviteError::Backend`] when a thread or a desk watcher cannot start.
pub(crate) fn prepare_host(
    backends: HostBackends,
    display: Option<DisplayId>,
) -> Result<PreparedHost, InviteError> {
    let (desk_tx, desk_signals) = mpsc::channel(DESK_SIGNALS);
    let desk = DeskDriver::start(backends.desk, desk_tx)?;
    let (report_tx, reports) = mpsc::channel(PIPELINE_REPORTS);
    let stats = StatsRecorder::default();
    let pipeline = VideoPipeline::spawn(
        backends.capturer,
        backends.encoder,
        backends.window_locator,
        display,
        report_tx,
        stats.clone(),
        tokio::runtime::Handle::current(),
    )
    .map_err(|e| InviteError::backend("video pipeline", e))?;
    let injector = InjectorThread::spawn(backends.injector, stats.clone())
        .map_err(|e| InviteError::backend("input injector", e))?;
    Ok(PreparedHost {
        pipeline,
        reports,
        injector,
        desk,
        desk_signals,
        stats,
    })
}

/// Starts the driver of a host session on its prepared backends.
///
/// # Errors
/// [`InviteError::Backend`] when the audit log's thread cannot start.
pub(crate) fn spawn_host(
    start: HostStart,
    prepared: PreparedHost,
) -> Result<(HostHandle, ConnectionFeed), InviteError> {
    let audit = start
        .audit_log
        .map(AuditWriter::spawn)
        .transpose()
        .map_err(|e| InviteError::backend("audit log", e))?;
    let PreparedHost {
        pipeline,
        reports,
        injector,
        mut desk,
        desk_signals,
        stats,
    } = prepared;
    let mut config = HostConfig::new(
        start.session_id,
        start.host_name,
        start.secret,
        start.lifetime,
        start.policy,
    );
    if let Some(max) = start.max_failed_attempts {
        config.max_failed_attempts = max;
    }
    config.offer = start.offer;
    config.receipts = start.receipt_key.is_some();
    config.resuming = start.resuming;
    config.local_user_wins = desk.local_user_wins;
    config.desk_limitation = desk.limitation.take();
    config.desktop_consent = desk.desktop_consent.take();
    let core = HostEndpoint::new(config, Instant::now(), Box::new(rand_core::OsRng));
    let (net_tx, net_rx) = mpsc::channel(NET_QUEUE);
    // Nothing is sent on it: it ends when every feed is dropped.
    let (alive_tx, alive_rx) = mpsc::channel(1);
    let (controller, requests) = HostController::channel(stats.clone());
    let (event_tx, event_rx) = event_queue(stats.events_dropped_counter());
    let feed = ConnectionFeed {
        net: net_tx,
        session_id: start.session_id,
        next_id: Arc::default(),
        alive: alive_tx,
    };
    let driver = HostDriver {
        core,
        endpoints: start.endpoints,
        session_id: start.session_id,
        connections: HashMap::new(),
        pipeline,
        injector,
        audit,
        events: event_tx,
        observer: start.observer,
        desk,
        stats,
        receipt_key: start.receipt_key,
        resume_contents: start.resume_contents,
    };
    tokio::spawn(driver.run(DriverInputs {
        net: net_rx,
        feeds: alive_rx,
        requests,
        reports,
        desk: desk_signals,
    }));
    Ok((HostHandle::new(controller, event_rx), feed))
}
