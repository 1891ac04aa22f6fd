//! The host's driver: one task that feeds the sans-IO [`HostEndpoint`] what
//! the network, the controllers, the pipeline and the clock bring, and
//! carries out what it asks for. It decides nothing itself.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::desk::DeskDriver;
use crate::audit::{AuditEvent, AuditRecord};
use crate::desk::DeskSignal;
use crate::invitation::SessionId;
use crate::receipt::{ConsentReceipt, ReceiptError};
use crate::runtime::audit_writer::AuditWriter;
use crate::runtime::connection::{NetEvent, Writer, WriterCommand, close_code};
use crate::runtime::controller::{Reply, Request, Requests};
use crate::runtime::event_queue::EventSender;
use crate::runtime::injector::InjectorThread;
use crate::runtime::sleep_until;
use crate::runtime::stats::StatsRecorder;
use crate::runtime::video::{PipelineCommand, PipelineReport, VideoPipeline};
use crate::session::{
    ConnectionId, EndReason, HostCommand, HostEndpoint, HostEvent, HostTransmit, MediaCommand,
};

/// How long shutting down waits for goodbyes to reach the helpers.
pub(super) const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

/// A connection as the driver holds it: for the pipeline, and for writing.
pub(super) struct ConnectionHandle {
    pub(super) connection: quinn::Connection,
    pub(super) writer: Writer,
}

pub(super) struct HostDriver {
    pub(super) core: HostEndpoint,
    /// Closed (and waited for) when the session is over.
    pub(super) endpoints: Vec<quinn::Endpoint>,
    pub(super) session_id: SessionId,
    pub(super) connections: HashMap<ConnectionId, ConnectionHandle>,
    pub(super) pipeline: VideoPipeline,
    pub(super) injector: InjectorThread,
    pub(super) audit: Option<AuditWriter>,
    pub(super) events: EventSender<HostEvent>,
    /// Also receives every event.
    pub(super) observer: Option<EventSender<HostEvent>>,
    pub(super) desk: DeskDriver,
    pub(super) stats: StatsRecorder,
    /// Signs the sessions' consent receipts.
    pub(super) receipt_key: Option<crate::receipt::HostReceiptKey>,
    /// What the session's resume tickets hold (the session, the host's
    /// identity, where it listens); `None`: the session issues none (a
    /// code flow's host has no address of its own).
    pub(super) resume_contents: Option<crate::resume::TicketContents>,
}

/// What the driver's loop waits on.
pub(super) struct DriverInputs {
    pub(super) net: mpsc::Receiver<NetEvent>,
    /// Ends once every connection feed is gone.
    pub(super) feeds: mpsc::Receiver<()>,
    pub(super) requests: Requests<HostCommand>,
    pub(super) reports: mpsc::Receiver<PipelineReport>,
    /// What the desk's backends report.
    pub(super) desk: mpsc::Receiver<DeskSignal>,
}

impl HostDriver {
    pub(super) async fn run(mut self, inputs: DriverInputs) {
        let DriverInputs {
            mut net,
            mut feeds,
            mut requests,
            mut reports,
            desk: mut desk_signals,
        } = inputs;
        let mut handle_open = true;
        let mut feeds_open = true;
        let mut net_open = true;
        let mut closed_for_lack_of_feeds = false;
        let mut shutdown_reply: Option<Reply> = None;
        let mut link_reports = crate::runtime::link_reports();
        loop {
            self.flush();
            if !handle_open && self.connections.is_empty() {
                break;
            }
            if !feeds_open
                && !closed_for_lack_of_feeds
                && self.connections.is_empty()
                && net.is_empty()
            {
                // No connection can come any more: nothing is left to wait for.
                closed_for_lack_of_feeds = true;
                self.core.close_invitation(Instant::now());
                continue;
            }
            let sleep = sleep_until(self.core.poll_timeout());
            tokio::select! {
                _ = link_reports.tick() => self.report_links(),
                request = requests.recv(), if handle_open => match request {
                    Some(Request::Command(command, reply)) => {
                        reply.send(self.core.apply(Instant::now(), command));
                    }
                    Some(Request::Shutdown(reply)) => {
                        handle_open = false;
                        shutdown_reply = Some(reply);
                        self.end_everything();
                    }
                    Some(Request::ResumeTicket(request)) => self.issue_resume_ticket(request),
                    None => {
                        // Every controller is gone: end everything.
                        handle_open = false;
                        self.end_everything();
                    }
                },
                event = net.recv(), if net_open => match event {
                    Some(event) => self.handle_net(event),
                    // No connection can come or speak any more; the invitation
                    // closes above, and its events still reach the application.
                    None => {
                        net_open = false;
                        feeds_open = false;
                    }
                },
                None = feeds.recv(), if feeds_open => feeds_open = false,
                Some(report) = reports.recv() => self.handle_report(report),
                Some(signal) = desk_signals.recv() => self.core.handle_desk(Instant::now(), signal),
                () = sleep => self.core.handle_timeout(Instant::now()),
            }
        }
        for endpoint in &self.endpoints {
            endpoint.close(0u8.into(), b"host closed");
        }
        let wait_all = async {
            for endpoint in &self.endpoints {
                endpoint.wait_idle().await;
            }
        };
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, wait_all).await;
        if let Some(log) = self.audit.take() {
            let _ = tokio::task::spawn_blocking(move || log.finish()).await;
        }
        if let Some(reply) = shutdown_reply {
            reply.send(Ok(()));
        }
    }

    /// Tells the core how many datagrams each connection received.
    fn report_links(&mut self) {
        let now = Instant::now();
        for (&conn, handle) in &self.connections {
            let received = crate::runtime::datagrams_received(&handle.connection);
            self.core.handle_link(now, conn, received);
        }
    }

    /// Ends any session and closes the invitation.
    fn end_everything(&mut self) {
        let now = Instant::now();
        let _ = self.core.end(now);
        self.core.close_invitation(now);
    }

    fn handle_report(&mut self, report: PipelineReport) {
        let now = Instant::now();
        match report {
            PipelineReport::Cursor(update) => self.core.handle_cursor(now, &update),
            PipelineReport::PictureSize { width, height } => {
                self.core.set_picture_size(width, height);
            }
            PipelineReport::Geometry {
                displays,
                selected,
                area,
            } => self.core.handle_displays(now, displays, selected, area),
            PipelineReport::CaptureFailed(error) => self.core.handle_capture_failure(now, &error),
            PipelineReport::RedactedWindows(rects) => self.core.handle_redacted_windows(now, rects),
        }
    }

    fn handle_net(&mut self, event: NetEvent) {
        let now = Instant::now();
        match event {
            NetEvent::Connected {
                conn,
                connection,
                peer,
                binding,
                writer,
            } => {
                self.connections
                    .insert(conn, ConnectionHandle { connection, writer });
                self.core.handle_connect(now, conn, peer, binding);
            }
            NetEvent::ControlData { conn, data } => self.core.handle_control_data(now, conn, &data),
            NetEvent::InputData { conn, data } => self.core.handle_input_data(now, conn, &data),
            NetEvent::Lost { conn } => {
                self.connections.remove(&conn);
                self.core.handle_connection_lost(now, conn);
            }
            NetEvent::OfferClosed { reason } => self.core.close_invitation_for(now, reason),
        }
    }

    /// Carries out everything the core asked for.
    fn flush(&mut self) {
        self.sign_receipts();
        while let Some(injection) = self.core.poll_injection() {
            self.injector.submit(injection);
        }
        while let Some((conn, transmit)) = self.core.poll_transmit() {
            let Some(handle) = self.connections.get(&conn) else {
                continue;
            };
            let (command, reason) = match transmit {
                HostTransmit::Control(bytes) => {
                    (WriterCommand::Control(bytes), EndReason::ConnectionLost)
                }
                HostTransmit::Close { reason } => (WriterCommand::Close(reason), reason),
            };
            if handle.writer.send(command).is_err() {
                // The helper has not read its control stream for a long
                // while: it is gone or hostile, and is not buffered for.
                tracing::warn!(%conn, "the helper does not read its control stream; closing");
                handle
                    .connection
                    .close(close_code(reason), reason.as_str().as_bytes());
            }
        }
        while let Some(command) = self.core.poll_media() {
            self.media(command);
        }
        // Before the events: the clipboard is started before the application
        // hears sharing is on, and holds the helper's text before it hears
        // the text came.
        while let Some(command) = self.core.poll_desk() {
            if let Err((part, message)) = self.desk.apply(command) {
                tracing::warn!(part = part.as_str(), %message, "desk backend failed");
                self.core.handle_desk_failure(Instant::now(), part, message);
            }
        }
        while let Some(record) = self.core.poll_audit() {
            self.write_audit(record);
        }
        self.stats.set_input_held_back(self.core.input_dropped());
        self.stats
            .set_messages_dropped(self.core.messages_dropped());
        while let Some(event) = self.core.poll_event() {
            if matches!(
                event,
                HostEvent::Ended { .. } | HostEvent::InvitationClosed { .. }
            ) && let Some(log) = &self.audit
            {
                log.sync();
            }
            if let Some(observer) = &self.observer {
                observer.send(event.clone());
            }
            self.events.send(event);
        }
    }

    /// Signs the receipts of sessions that ended, after writing the audit
    /// records before them (the receipt holds the chain's head).
    fn sign_receipts(&mut self) {
        while let Some((conn, mut body)) = self.core.poll_receipt_request() {
            while let Some(record) = self.core.poll_audit() {
                self.write_audit(record);
            }
            body.audit_head = self
                .audit
                .as_ref()
                .and_then(|log| log.head(Some(self.session_id)))
                .map(|head| head.to_string());
            let signed = match &self.receipt_key {
                Some(key) => ConsentReceipt::sign(&body, key),
                None => Err(ReceiptError::Signing("no host key".into())),
            };
            self.core
                .handle_receipt_signed(Instant::now(), conn, signed);
        }
    }

    fn media(&mut self, command: MediaCommand) {
        let command = match command {
            MediaCommand::Start { conn } => match self.connections.get(&conn) {
                Some(handle) => {
                    // The helper served is the one whose link the stats show.
                    self.stats.set_connection(&handle.connection);
                    PipelineCommand::Start(handle.connection.clone())
                }
                None => return,
            },
            MediaCommand::Stop { .. } => PipelineCommand::Stop,
            MediaCommand::Keyframe { .. } => PipelineCommand::Keyframe,
            MediaCommand::SelectDisplay { display, .. } => PipelineCommand::SelectDisplay(display),
            MediaCommand::RedactionsChanged => PipelineCommand::Redact {
                rects: self.core.redactions(),
                windows: self.core.redacted_windows(),
            },
        };
        self.pipeline.command(command);
    }

    /// Hands the record to the audit log's thread (never waits for the disk).
    pub(super) fn write_audit(&mut self, event: AuditEvent) {
        if let Some(log) = &self.audit {
            log.record(AuditRecord::now(Some(self.session_id), event));
        }
    }
}
