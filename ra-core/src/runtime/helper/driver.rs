//! The helper's driver: one task that feeds the sans-IO [`HelperConnection`]
//! what the network, the controllers, the decoder and the clock bring, and
//! carries out what it asks for; and the task that reads the video streams.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use super::resume::{Redial, ResumeRoute, wait_redial};
use crate::runtime::controller::{Reply, Request, Requests};
use crate::runtime::event_queue::EventSender;
use crate::runtime::sleep_until;
use crate::runtime::stats::StatsRecorder;
use crate::runtime::video_receive::{DecodeBusy, DecodeSignal, DecodeThread, read_video_stream};
use crate::session::{
    ControlState, EndReason, HelperCommand, HelperConnection, HelperEvent, HelperTransmit,
    end_reason_code, end_reason_from_code,
};

pub(super) struct HelperDriver {
    pub(super) core: HelperConnection,
    pub(super) endpoint: quinn::Endpoint,
    pub(super) connection: quinn::Connection,
    pub(super) send: quinn::SendStream,
    pub(super) input: Option<quinn::SendStream>,
    pub(super) events: EventSender<HelperEvent>,
    /// Told once: the host approved (its name) or the session ended first.
    pub(super) live: Option<oneshot::Sender<Result<String, EndReason>>>,
    pub(super) control: watch::Sender<ControlState>,
    /// Whether video is accepted (authenticated and not paused).
    pub(super) live_video: watch::Sender<bool>,
    pub(super) signals: mpsc::Sender<DecodeSignal>,
    pub(super) stats: StatsRecorder,
    /// The decoder, shared with the task reading the current connection's
    /// video (a resumed session reads on with it).
    pub(super) decode: Arc<DecodeThread>,
    /// How to reach the host again with a resume offer; `None`: never.
    pub(super) resume_route: Option<ResumeRoute>,
    /// The connection was lost and the session waits for a resumption:
    /// its end ([`HelperEvent::Ended`]) is held back until that fails.
    pub(super) awaiting_resumption: bool,
}

/// How long ending waits for the goodbye to reach the host.
pub(super) const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

/// How long to wait for the host's close reason after its control stream ended.
const CLOSE_REASON_WAIT: Duration = Duration::from_secs(1);

/// How often a helper waiting for a keyframe asks for one again.
const KEYFRAME_RETRY: Duration = Duration::from_millis(250);

/// Reads frame streams in order and passes them to the decode thread.
///
/// Nothing decodes before a keyframe, so until one arrives (at the start, after
/// a frame was dropped, after a pause) other frames are skipped and a keyframe
/// is asked for. Video only flows to an authenticated, unpaused session; the
/// host's first keyframe may overtake its approval message (streams are not
/// ordered with each other), so being authenticated is enough.
async fn receive_video(
    connection: quinn::Connection,
    accepting: watch::Receiver<bool>,
    decode: Arc<DecodeThread>,
    signals: mpsc::Sender<DecodeSignal>,
    stats: StatsRecorder,
) {
    let mut waiting_for_keyframe = true;
    let mut last_seq = 0u64;
    let mut last_request: Option<Instant> = None;
    let ask_for_keyframe = |last_request: &mut Option<Instant>| {
        if last_request.is_none_or(|at| at.elapsed() >= KEYFRAME_RETRY) {
            *last_request = Some(Instant::now());
            // Full: a request is on its way already.
            let _ = signals.try_send(DecodeSignal::KeyframeNeeded);
        }
    };
    while let Ok(mut stream) = connection.accept_uni().await {
        if !*accepting.borrow() {
            let _ = stream.stop(0u8.into());
            waiting_for_keyframe = true;
            continue;
        }
        let video = match read_video_stream(stream).await {
            Ok(video) => video,
            Err(e) => {
                tracing::debug!(error = %e, "bad video stream");
                stats.frame_dropped();
                waiting_for_keyframe = true;
                ask_for_keyframe(&mut last_request);
                continue;
            }
        };
        if let Some((bitrate, frame_interval)) = video.target {
            stats.set_target(bitrate, frame_interval);
        }
        // A gap means a frame was reset or lost: what follows cannot decode.
        if video.seq != last_seq.wrapping_add(1) && !video.frame.keyframe {
            waiting_for_keyframe = true;
        }
        last_seq = video.seq;
        if waiting_for_keyframe && !video.frame.keyframe {
            stats.frame_dropped();
            ask_for_keyframe(&mut last_request);
            continue;
        }
        waiting_for_keyframe = false;
        match decode.try_decode(video) {
            Ok(()) => {}
            Err(DecodeBusy::Full) => {
                // The decoder fell behind: drop, and restart from a keyframe.
                stats.frame_dropped();
                waiting_for_keyframe = true;
                ask_for_keyframe(&mut last_request);
            }
            Err(DecodeBusy::Stopped) => return,
        }
    }
}

impl HelperDriver {
    /// Starts the task reading the current connection's video.
    pub(super) fn start_video(&self) {
        tokio::spawn(receive_video(
            self.connection.clone(),
            self.live_video.subscribe(),
            Arc::clone(&self.decode),
            self.signals.clone(),
            self.stats.clone(),
        ));
    }

    pub(super) async fn run(
        mut self,
        mut recv: quinn::RecvStream,
        mut requests: Requests<HelperCommand>,
        mut signals: mpsc::Receiver<DecodeSignal>,
    ) {
        let mut requests_open = true;
        let mut shutdown_reply: Option<Reply> = None;
        let mut link_reports = crate::runtime::link_reports();
        let mut redial: Option<Redial> = None;
        loop {
            if self.flush().await {
                break;
            }
            if self.steer_resumption(&mut redial) {
                continue;
            }
            let sleep = sleep_until(self.core.poll_timeout());
            let connected = !self.awaiting_resumption;
            tokio::select! {
                _ = link_reports.tick() => {
                    let received = crate::runtime::datagrams_received(&self.connection);
                    self.core.handle_link(Instant::now(), received);
                }
                chunk = recv.read_chunk(64 * 1024, true), if connected => match chunk {
                    Ok(Some(chunk)) => self.core.handle_control_data(Instant::now(), &chunk.bytes),
                    Ok(None) | Err(_) => {
                        let reason = tokio::time::timeout(CLOSE_REASON_WAIT, self.close_reason())
                            .await
                            .unwrap_or(EndReason::ConnectionLost);
                        self.core.handle_connection_lost(Instant::now(), reason);
                    }
                },
                resumed = wait_redial(&mut redial) => {
                    redial = None;
                    if let Some(resumed) = resumed {
                        recv = self.switch_to(resumed);
                    }
                }
                request = requests.recv(), if requests_open => match request {
                    Some(Request::Command(command, reply)) => {
                        let result = self.core.apply(Instant::now(), command);
                        // Counted before the caller hears back: statistics
                        // read right after `send_input` include it.
                        self.stats.set_input_sent(self.core.input_events_sent());
                        self.stats.set_input_held_back(self.core.input_events_held_back());
                        reply.send(result);
                    }
                    Some(Request::ResumeTicket(request)) => request.answer(Err(
                        crate::session::CommandError::InvalidState("a helper issues no resume tickets"),
                    )),
                    Some(Request::Shutdown(reply)) => {
                        requests_open = false;
                        shutdown_reply = Some(reply);
                        self.end_here();
                    }
                    None => {
                        requests_open = false;
                        self.end_here();
                    }
                },
                Some(DecodeSignal::KeyframeNeeded) = signals.recv() => {
                    let _ = self.core.request_keyframe(Instant::now());
                }
                () = sleep => self.core.handle_timeout(Instant::now()),
            }
        }
        if let Some(task) = redial {
            task.abort();
        }
        // The close frame goes out from the endpoint's own task: wait for it.
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, self.endpoint.wait_idle()).await;
        if let Some(reply) = shutdown_reply {
            reply.send(Ok(()));
        }
    }

    /// The application ends the session: said to the host if it is still
    /// there, and a resumption in waiting is given up.
    fn end_here(&mut self) {
        self.core.end(Instant::now());
        if self.awaiting_resumption {
            self.give_up_resumption();
        }
    }

    /// Why the host closed the connection, as its close code says.
    async fn close_reason(&self) -> EndReason {
        match self.connection.closed().await {
            quinn::ConnectionError::ApplicationClosed(close) => {
                end_reason_from_code(close.error_code.into_inner())
            }
            _ => EndReason::ConnectionLost,
        }
    }

    /// Carries out what the core asked for; true once the session is over.
    async fn flush(&mut self) -> bool {
        while let Some(transmit) = self.core.poll_transmit() {
            match transmit {
                HelperTransmit::Control(bytes) => {
                    if let Err(e) = self.send.write_all(&bytes).await {
                        tracing::debug!(error = %e, "control stream failed");
                    }
                }
                HelperTransmit::Input(bytes) => {
                    if self.input.is_none() {
                        match self.connection.open_uni().await {
                            Ok(stream) => self.input = Some(stream),
                            Err(e) => tracing::debug!(error = %e, "cannot open the input stream"),
                        }
                    }
                    if let Some(stream) = self.input.as_mut()
                        && let Err(e) = stream.write_all(&bytes).await
                    {
                        tracing::debug!(error = %e, "input stream failed");
                    }
                }
                HelperTransmit::Close { reason } => {
                    let _ = self.send.finish();
                    let _ =
                        tokio::time::timeout(Duration::from_millis(500), self.send.stopped()).await;
                    self.connection
                        .close(end_reason_code(reason).into(), reason.as_str().as_bytes());
                }
            }
        }
        self.stats.set_input_sent(self.core.input_events_sent());
        self.stats
            .set_messages_dropped(self.core.messages_dropped());
        let _ = self
            .control
            .send(self.core.control_state().unwrap_or(ControlState::None));
        let _ = self
            .live_video
            .send(self.core.is_authenticated() && !self.core.is_paused());
        while let Some(event) = self.core.poll_event() {
            match &event {
                HelperEvent::Connected => {
                    if let Some(live) = self.live.take() {
                        let _ = live.send(Ok(self.core.host_name().unwrap_or_default().to_owned()));
                    }
                }
                HelperEvent::Ended { reason }
                    if self.resume_route.is_some()
                        && self.core.end_awaits_resumption(Instant::now(), *reason) =>
                {
                    // Held back: the host may come back with its ticket.
                    tracing::info!("connection lost: waiting for the host to resume");
                    self.awaiting_resumption = true;
                    continue;
                }
                HelperEvent::Ended { reason } => {
                    if let Some(live) = self.live.take() {
                        let _ = live.send(Err(*reason));
                    }
                }
                _ => {}
            }
            self.events.send(event);
        }
        self.core.ended().is_some() && !self.awaiting_resumption
    }
}
