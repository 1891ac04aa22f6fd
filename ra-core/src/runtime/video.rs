//! Video over QUIC: one unidirectional stream per frame, a length-delimited
//! `VideoFrameHeader` then the encoded picture; the host's capture/encode
//! thread and the helper's decode thread.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc, oneshot};

use super::rate::{self, PathSample, Rate, RateController};
use super::stats::StatsRecorder;
pub(crate) use super::video_commands::PipelineCommand;
use super::video_commands::{CommandInbox, PipelineCommands, RecvTimeoutError, pipeline_commands};
use crate::media::{
    CaptureError, Capturer, CursorUpdate, DisplayId, DisplayInfo, EncodedFrame, Encoder, Frame,
    Rect, WindowLocator,
};
use crate::redact;
use crate::session::encode_video_header;

/// Largest encoded frame accepted from a host, in bytes.
pub(crate) const MAX_ENCODED_FRAME: usize = 16 * 1024 * 1024;

/// How long a capturer may wait for a change before the pipeline looks at its
/// commands again.
const CAPTURE_POLL: Duration = Duration::from_millis(50);

/// How often the pipeline compares the displays with those it reported.
const GEOMETRY_CHECK: Duration = Duration::from_secs(1);

/// How often a capture held back for lack of room on the wire looks again.
const ROOM_POLL: Duration = Duration::from_millis(5);

/// A frame not delivered this long after it was sent is reset: shown that
/// late it would only add latency, and the next keyframe replaces it.
const STALE_AFTER: Duration = Duration::from_millis(400);

/// Frames on the wire at once. The capture waits for room rather than encode a
/// frame that would queue: on a slow link frames are skipped, never delayed
/// (the capturer accumulates damage meanwhile, so nothing is lost).
const MAX_IN_FLIGHT: usize = 3;

/// Reports that may wait for the driver; when full the pipeline waits (a
/// driver that far behind has no use for more pictures either).
pub(crate) const PIPELINE_REPORTS: usize = 64;

/// What the pipeline tells the session driver.
pub(crate) enum PipelineReport {
    /// The pointer moved or changed shape.
    Cursor(CursorUpdate),
    /// The size of the pictures captured (first frame, and when it changes).
    PictureSize { width: u32, height: u32 },
    /// Where the masked windows are now (they moved, came or went).
    RedactedWindows(Vec<Rect>),
    /// The displays, the one captured, and where it lies on the desktop
    /// (at start, after a selection, after a resolution change).
    Geometry {
        displays: Vec<DisplayInfo>,
        selected: DisplayId,
        area: Rect,
    },
    /// The screen could not be captured; video waits for the helper's next
    /// keyframe or display request.
    CaptureFailed(CaptureError),
}

/// What the sender learns about the link, read by the capture thread.
#[derive(Default)]
struct LinkState {
    /// The next frame must be a keyframe (a frame was reset).
    keyframe_needed: AtomicBool,
    /// Bitrate the link carries, bits per second (0: unknown).
    bitrate: AtomicU32,
    /// The shortest time between captures, microseconds (0: unknown).
    frame_interval_us: AtomicU32,
    /// Frames handed to the sender and not yet delivered, failed or reset.
    outstanding: AtomicUsize,
}

impl LinkState {
    /// Whether another frame may be encoded now without queueing.
    fn has_room(&self) -> bool {
        self.outstanding.load(Ordering::Acquire) < MAX_IN_FLIGHT
    }

    fn frame_interval(&self) -> Duration {
        match self.frame_interval_us.load(Ordering::Relaxed) {
            0 => Duration::from_secs_f64(1.0 / rate::MAX_FPS),
            us => Duration::from_micros(u64::from(us)),
        }
    }

    /// A frame handed over is over (delivered, failed, reset or dropped).
    fn frame_done(&self) {
        let _ = self
            .outstanding
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

/// The host's capture → encode thread, feeding an async sender task.
pub(crate) struct VideoPipeline {
    commands: PipelineCommands,
    _thread: JoinHandle<()>,
}

impl VideoPipeline {
    /// Starts the thread; it idles until [`PipelineCommand::Start`].
    pub(crate) fn spawn(
        capturer: Box<dyn Capturer>,
        encoder: Box<dyn Encoder>,
        locator: Option<Box<dyn WindowLocator>>,
        initial_display: Option<DisplayId>,
        reports: mpsc::Sender<PipelineReport>,
        stats: StatsRecorder,
        runtime: tokio::runtime::Handle,
    ) -> std::io::Result<Self> {
        let (commands, receiver) = pipeline_commands();
        let thread = std::thread::Builder::new()
            .name("ra-video-pipeline".into())
            .spawn(move || {
                Pipeline {
                    capturer,
                    encoder,
                    reports,
                    runtime,
                    selected: None,
                    area: Rect::default(),
                    redactions: Vec::new(),
                    locator,
                    window_classes: Vec::new(),
                    window_rects: Vec::new(),
                    masked: Vec::new(),
                    sink: None,
                    stalled: None,
                    capture_failing: false,
                    link: Arc::new(LinkState::default()),
                    force_keyframe: false,
                    last_size: None,
                    reported_displays: Vec::new(),
                    geometry_checked: None,
                    last_capture: None,
                    bitrate: 0,
                    stats,
                }
                .run(&receiver, initial_display);
            })?;
        Ok(VideoPipeline {
            commands,
            _thread: thread,
        })
    }

    /// Passes a command to the thread (ignored once it has stopped).
    pub(crate) fn command(&self, command: PipelineCommand) {
        self.commands.send(command);
    }
}

struct Pipeline {
    capturer: Box<dyn Capturer>,
    encoder: Box<dyn Encoder>,
    reports: mpsc::Sender<PipelineReport>,
    runtime: tokio::runtime::Handle,
    selected: Option<DisplayId>,
    /// Where the captured display lies on the desktop.
    area: Rect,
    /// The redaction mask, in desktop coordinates.
    redactions: Vec<Rect>,
    /// Finds the masked windows.
    locator: Option<Box<dyn WindowLocator>>,
    /// The classes of the windows the mask follows.
    window_classes: Vec<String>,
    /// Where those windows were at the last picture.
    window_rects: Vec<Rect>,
    /// A copy of the picture with the mask painted in, reused.
    masked: Vec<u8>,
    sink: Option<mpsc::Sender<EncodedFrame>>,
    /// The sink of a stream stopped by a capture failure: the helper's next
    /// keyframe request or display selection resumes it.
    stalled: Option<mpsc::Sender<EncodedFrame>>,
    /// Whether the last capture failed (reported once, until a picture
    /// comes again).
    capture_failing: bool,
    link: Arc<LinkState>,
    force_keyframe: bool,
    last_size: Option<(u32, u32)>,
    /// The displays as last reported to the driver, and when they were last
    /// compared with the capturer's.
    reported_displays: Vec<DisplayInfo>,
    geometry_checked: Option<Instant>,
    last_capture: Option<Instant>,
    bitrate: u32,
    stats: StatsRecorder,
}

impl Pipeline {
    fn run(mut self, commands: &CommandInbox, initial: Option<DisplayId>) {
        let displays = self.capturer.displays().unwrap_or_default();
        let first = initial
            .or_else(|| displays.iter().find(|d| d.primary).map(|d| d.id))
            .or_else(|| displays.first().map(|d| d.id));
        if let Some(display) = first {
            self.select(display);
        }
        loop {
            // Idle: block until told to start. Streaming: wait at most until
            // the next capture is due, so the frame rate follows the link.
            let next = if self.sink.is_none() {
                commands.recv().map_err(|_| ())
            } else {
                match commands.recv_timeout(self.until_next_capture()) {
                    Ok(c) => Ok(c),
                    Err(RecvTimeoutError::Timeout) => {
                        if self.link.has_room() {
                            self.capture_and_send();
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => Err(()),
                }
            };
            let Ok(command) = next else { return };
            match command {
                PipelineCommand::Start(connection) => {
                    // Latest frame wins: one frame may wait for the sender, no more.
                    let (tx, rx) = mpsc::channel(1);
                    self.link = Arc::new(LinkState::default());
                    self.runtime.spawn(send_video(
                        connection,
                        rx,
                        Arc::clone(&self.link),
                        self.stats.clone(),
                    ));
                    self.sink = Some(tx);
                    self.stalled = None;
                    self.request_keyframe();
                    self.report_geometry();
                }
                PipelineCommand::Stop => {
                    self.sink = None;
                    self.stalled = None;
                }
                PipelineCommand::Keyframe => {
                    self.resume_stalled();
                    self.request_keyframe();
                }
                PipelineCommand::SelectDisplay(display) => {
                    self.resume_stalled();
                    self.select(display);
                    self.request_keyframe();
                }
                PipelineCommand::Redact { rects, windows } => {
                    self.redactions = rects;
                    self.window_classes = windows;
                    // What the old mask left visible (or the new one hides)
                    // is painted again at once, in a whole picture.
                    self.request_keyframe();
                }
            }
        }
    }

    /// A picture could not be captured (or masked): told once, and the
    /// video waits for the helper's next keyframe request or selection.
    fn fail_capture(&mut self, e: CaptureError) {
        tracing::warn!(
            error = %e,
            "capture failed; video stopped until the helper asks for a keyframe or a display"
        );
        if !std::mem::replace(&mut self.capture_failing, true) {
            let _ = self.reports.blocking_send(PipelineReport::CaptureFailed(e));
        }
        self.stalled = self.sink.take();
    }

    fn select(&mut self, display: DisplayId) {
        match self.capturer.select(display) {
            Ok(()) => {
                self.selected = Some(display);
                self.report_geometry();
            }
            Err(e) => tracing::warn!(error = %e, "cannot select display"),
        }
    }

    /// Takes up a stream a capture failure stopped, unless its sender ended.
    fn resume_stalled(&mut self) {
        if let Some(sink) = self.stalled.take()
            && !sink.is_closed()
        {
            tracing::info!("video resumed at the helper's request");
            self.sink = Some(sink);
        }
    }

    fn request_keyframe(&mut self) {
        self.force_keyframe = true;
        self.capturer.invalidate();
    }

    /// The frame interval the sender asks for (30 frames a second at most,
    /// fewer when the link is the limit); while the wire has no room for
    /// another frame, a short wait before looking again.
    fn until_next_capture(&self) -> Duration {
        if !self.link.has_room() {
            return ROOM_POLL;
        }
        let interval = self.link.frame_interval();
        self.last_capture
            .map_or(Duration::ZERO, |at| interval.saturating_sub(at.elapsed()))
    }

    /// Whether the displays differ from those last reported (looked at once
    /// per [`GEOMETRY_CHECK`]: a monitor moved or plugged in keeps the
    /// captured picture's size, so the frames alone do not tell).
    fn geometry_moved(&mut self) -> bool {
        if self
            .geometry_checked
            .is_some_and(|at| at.elapsed() < GEOMETRY_CHECK)
        {
            return false;
        }
        self.geometry_checked = Some(Instant::now());
        self.capturer
            .displays()
            .is_ok_and(|displays| displays != self.reported_displays)
    }

    /// Tells the driver the displays and where the captured one lies.
    fn report_geometry(&mut self) {
        let displays = self.capturer.displays().unwrap_or_default();
        self.reported_displays.clone_from(&displays);
        self.geometry_checked = Some(Instant::now());
        let Some(selected) = self.selected else {
            return;
        };
        let area = if selected == DisplayId::ALL {
            bounding_box(displays.iter().map(|d| d.bounds))
        } else {
            displays
                .iter()
                .find(|d| d.id == selected)
                .map(|d| d.bounds)
                .unwrap_or_default()
        };
        self.area = area;
        let _ = self.reports.blocking_send(PipelineReport::Geometry {
            displays,
            selected,
            area,
        });
    }

    fn capture_and_send(&mut self) {
        let Some(sink) = self.sink.clone() else {
            return;
        };
        if self.link.keyframe_needed.swap(false, Ordering::Relaxed) {
            // A frame was reset: the whole picture must be sent again, changed or not.
            self.request_keyframe();
        }
        if self.geometry_moved() {
            // Monitors came, went or moved: the helper needs the new layout
            // (for pointer mapping) and a whole picture.
            self.report_geometry();
            self.request_keyframe();
        }
        let (encoded, resized) = match self.capturer.next_frame(CAPTURE_POLL) {
            Ok(Some(frame)) => {
                self.last_capture = Some(Instant::now());
                self.capture_failing = false;
                let size = (frame.width, frame.height);
                let previous = self.last_size.replace(size);
                if previous != Some(size) {
                    let _ = self.reports.blocking_send(PipelineReport::PictureSize {
                        width: size.0,
                        height: size.1,
                    });
                }
                let mut resized = previous.is_some_and(|last| last != size);
                if self
                    .selected
                    .is_some_and(|selected| selected != frame.display)
                {
                    // The capturer fell back to another display (the one
                    // captured was unplugged): new geometry, new keyframe.
                    self.selected = Some(frame.display);
                    self.force_keyframe = true;
                    resized = true;
                }
                let bitrate = self.link.bitrate.load(Ordering::Relaxed);
                if bitrate != 0 && bitrate != self.bitrate {
                    self.bitrate = bitrate;
                    self.encoder.set_bitrate(bitrate);
                }
                // Where the masked windows are now; with where they were at
                // the last picture, so that one moving between the two is
                // covered either way.
                let located = match (&mut self.locator, self.window_classes.is_empty()) {
                    (_, true) => Ok(Vec::new()),
                    (Some(locator), false) => locator.locate(&self.window_classes),
                    (None, false) => Err(CaptureError::Backend(
                        "masking windows needs a window locator (an X11 screen)".into(),
                    )),
                };
                let windows = match located {
                    Ok(windows) => windows,
                    Err(e) => {
                        // Not knowing where a masked window is, no picture goes out.
                        drop(frame);
                        self.fail_capture(e);
                        return;
                    }
                };
                let previous = std::mem::replace(&mut self.window_rects, windows.clone());
                if previous != windows {
                    let _ = self
                        .reports
                        .blocking_send(PipelineReport::RedactedWindows(windows.clone()));
                }
                let everything: Vec<Rect> = self
                    .redactions
                    .iter()
                    .chain(&windows)
                    .chain(&previous)
                    .copied()
                    .collect();
                let started = Instant::now();
                let mask = redact::to_picture(&everything, self.area, size);
                let encoded = if mask.is_empty() {
                    self.encoder.encode(&frame, self.force_keyframe)
                } else {
                    // Painted over before the encoder sees the picture: the
                    // masked pixels never leave this function.
                    self.masked.clear();
                    self.masked.extend_from_slice(frame.data);
                    redact::blank(
                        &mut self.masked,
                        frame.stride,
                        frame.width,
                        frame.height,
                        &mask,
                    );
                    let masked = Frame {
                        data: &self.masked,
                        damage: frame.damage.clone(),
                        ..frame
                    };
                    self.encoder.encode(&masked, self.force_keyframe)
                };
                self.stats.frame_encoded(started.elapsed());
                (Some(encoded), resized)
            }
            Ok(None) => (None, false),
            Err(e) => {
                self.fail_capture(e);
                return;
            }
        };
        // The pointer travels apart from the picture: a move costs no encoding.
        if let Some(cursor) = self.capturer.cursor() {
            let _ = self.reports.blocking_send(PipelineReport::Cursor(cursor));
        }
        if resized {
            // A new resolution or display: the helper needs the new geometry too.
            self.report_geometry();
        }
        match encoded {
            Some(Ok(Some(encoded))) => {
                if encoded.keyframe {
                    self.force_keyframe = false;
                }
                self.link.outstanding.fetch_add(1, Ordering::AcqRel);
                if sink.blocking_send(encoded).is_err() {
                    self.sink = None;
                }
            }
            Some(Ok(None)) | None => {}
            Some(Err(e)) => {
                tracing::warn!(error = %e, "encoding failed");
                self.force_keyframe = true;
            }
        }
    }
}

fn bounding_box(rects: impl Iterator<Item = Rect>) -> Rect {
    let mut bounds: Option<(i64, i64, i64, i64)> = None;
    for r in rects.filter(|r| !r.is_empty()) {
        let (x0, y0) = (i64::from(r.x), i64::from(r.y));
        let (x1, y1) = (x0 + i64::from(r.width), y0 + i64::from(r.height));
        bounds = Some(match bounds {
            None => (x0, y0, x1, y1),
            Some((a, b, c, d)) => (a.min(x0), b.min(y0), c.max(x1), d.max(y1)),
        });
    }
    bounds.map_or_else(Rect::default, |(x0, y0, x1, y1)| {
        Rect::new(
            i32::try_from(x0).unwrap_or(0),
            i32::try_from(y0).unwrap_or(0),
            u32::try_from(x1 - x0).unwrap_or(0),
            u32::try_from(y1 - y0).unwrap_or(0),
        )
    })
}

/// One frame on the wire.
struct InFlight {
    sent_at: Instant,
    keyframe: bool,
    /// Set by its delivery task when it is over (delivered, failed or reset).
    done: Arc<AtomicBool>,
    cancel: Option<oneshot::Sender<()>>,
}

impl InFlight {
    /// A delta frame still on the wire after [`STALE_AFTER`]: showing it that
    /// late only adds latency. Keyframes are never reset — they are how the
    /// helper recovers, so one must always get through.
    fn is_stale(&self) -> bool {
        !self.keyframe && self.sent_at.elapsed() >= STALE_AFTER
    }
}

/// Sends each encoded frame on a stream of its own. At most [`MAX_IN_FLIGHT`]
/// are on the wire (the capture waits for room, so nothing queues), stale delta
/// frames are reset and a keyframe asked for, and the capture rate and bitrate
/// follow what the link carries (see [`RateController`]).
async fn send_video(
    connection: quinn::Connection,
    mut frames: mpsc::Receiver<EncodedFrame>,
    link: Arc<LinkState>,
    stats: StatsRecorder,
) {
    let mut seq = 0u64;
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let finished = Arc::new(Notify::new());
    // At most one message per frame in flight.
    let (delivered_tx, mut delivered_rx) = mpsc::channel::<usize>(MAX_IN_FLIGHT + 1);
    let mut rate = RateController::new();
    // Set when a frame was reset: delta frames are useless until a keyframe.
    let mut awaiting_keyframe = false;
    loop {
        in_flight.retain(|f| !f.done.load(Ordering::Relaxed));
        for stale in in_flight.iter_mut().filter(|f| f.is_stale()) {
            if let Some(cancel) = stale.cancel.take() {
                let _ = cancel.send(());
                awaiting_keyframe = true;
                link.keyframe_needed.store(true, Ordering::Relaxed);
            }
        }
        while let Ok(bytes) = delivered_rx.try_recv() {
            rate.delivered(Instant::now(), bytes);
        }
        if !link.has_room() {
            rate.saturated(Instant::now());
        }
        let stale_at = in_flight
            .iter()
            .filter(|f| f.cancel.is_some() && !f.keyframe)
            .map(|f| f.sent_at + STALE_AFTER)
            .min();
        let wait_stale = async {
            match stale_at {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let frame = tokio::select! {
            frame = frames.recv() => match frame {
                Some(frame) => frame,
                None => return,
            },
            () = finished.notified() => continue,
            () = wait_stale => continue,
        };
        if awaiting_keyframe && !frame.keyframe {
            // It refers to a frame the helper will not get.
            link.frame_done();
            stats.frame_dropped();
            continue;
        }
        awaiting_keyframe = false;
        seq += 1;
        let answer = rate.update(Instant::now(), PathSample::of(&connection));
        link.bitrate.store(answer.bitrate, Ordering::Relaxed);
        let interval_us = u32::try_from(answer.frame_interval.as_micros()).unwrap_or(u32::MAX);
        link.frame_interval_us.store(interval_us, Ordering::Relaxed);
        stats.set_target(answer.bitrate, answer.frame_interval);
        stats.frame_sent();
        let (cancel_tx, cancel_rx) = oneshot::channel();
        let done = Arc::new(AtomicBool::new(false));
        in_flight.push_back(InFlight {
            sent_at: Instant::now(),
            keyframe: frame.keyframe,
            done: Arc::clone(&done),
            cancel: Some(cancel_tx),
        });
        let finished = Arc::clone(&finished);
        let connection = connection.clone();
        let delivered_tx = delivered_tx.clone();
        let link = Arc::clone(&link);
        let stats = stats.clone();
        tokio::spawn(async move {
            let bytes = frame.data.len();
            if deliver(connection, seq, frame, answer, cancel_rx).await {
                let _ = delivered_tx.try_send(bytes);
            } else {
                stats.frame_dropped();
            }
            done.store(true, Ordering::Relaxed);
            link.frame_done();
            finished.notify_one();
        });
    }
}

/// Sends one frame (telling the helper `rate`, what the rate controller
/// asks for now); true once the helper acknowledged all of it.
async fn deliver(
    connection: quinn::Connection,
    seq: u64,
    frame: EncodedFrame,
    rate: Rate,
    cancel: oneshot::Receiver<()>,
) -> bool {
    let header = encode_video_header(seq, &frame, Some((rate.bitrate, rate.frame_interval)));
    let Ok(mut stream) = connection.open_uni().await else {
        return false;
    };
    // Newer frames first: a later stream takes precedence over an older one.
    let _ = stream.set_priority(i32::try_from(seq % (1 << 30)).unwrap_or(0));
    let send = async {
        stream.write_all(&header).await?;
        stream.write_all(&frame.data).await?;
        stream.finish()?;
        let _ = stream.stopped().await;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    };
    let outcome = tokio::select! {
        result = send => Some(result),
        _ = cancel => None,
    };
    match outcome {
        Some(Ok(())) => true,
        Some(Err(e)) => {
            tracing::debug!(error = %e, seq, "video stream failed");
            false
        }
        None => {
            tracing::debug!(seq, "stale frame reset");
            let _ = stream.reset(0u8.into());
            false
        }
    }
}
