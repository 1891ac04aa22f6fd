//! The helper's side of the video: reading each frame's stream, and the
//! thread that decodes the latest frame (frames that arrive while it is busy
//! replace the one waiting).

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::stats::StatsRecorder;
use super::video::MAX_ENCODED_FRAME;
use crate::media::{DecodedFrame, Decoder, Rect, Timestamp};
use crate::session::{MAX_VIDEO_HEADER, VideoStream, VideoStreamError, decode_video_stream};

/// One frame as it arrived from the host, before decoding.
pub(crate) type ReceivedVideo = VideoStream;

/// Why a video stream was not a valid frame.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadVideoError {
    #[error("cannot read the stream: {0}")]
    Read(#[from] quinn::ReadToEndError),
    #[error(transparent)]
    Invalid(#[from] VideoStreamError),
}

/// Reads one frame stream to its end.
pub(crate) async fn read_video_stream(
    mut stream: quinn::RecvStream,
) -> Result<ReceivedVideo, ReadVideoError> {
    let data = stream
        .read_to_end(MAX_VIDEO_HEADER + MAX_ENCODED_FRAME)
        .await?;
    Ok(decode_video_stream(&data)?)
}

/// A decoded frame with what the helper application wants to know about it.
#[derive(Debug, Clone)]
pub struct ReceivedFrame {
    /// The host's frame counter within one video stream (gaps mean frames
    /// were dropped); each stream — a new connection, or after a pause —
    /// counts from 1 again.
    pub seq: u64,
    /// The picture.
    pub frame: DecodedFrame,
    /// Size of the compressed frame on the wire, in bytes.
    pub encoded_bytes: usize,
    /// Capture on the host → decoded here (exact when both share a clock).
    pub latency: Duration,
}

/// Decode signals that may wait for the driver: one keyframe request is
/// as good as many.
pub(crate) const DECODE_SIGNALS: usize = 4;

/// What the decode thread reports besides frames.
pub(crate) enum DecodeSignal {
    /// The bitstream broke; ask the host for a keyframe.
    KeyframeNeeded,
}

/// Why a frame could not be queued for decoding.
pub(crate) enum DecodeBusy {
    /// The queue is full.
    Full,
    /// The thread has stopped.
    Stopped,
}

/// The helper's decode thread.
pub(crate) struct DecodeThread {
    input: std_mpsc::SyncSender<ReceivedVideo>,
    _thread: JoinHandle<()>,
}

impl DecodeThread {
    pub(crate) fn spawn(
        mut decoder: Box<dyn Decoder>,
        frames: mpsc::Sender<ReceivedFrame>,
        signals: mpsc::Sender<DecodeSignal>,
        stats: StatsRecorder,
    ) -> std::io::Result<Self> {
        let (input, receiver) = std_mpsc::sync_channel::<ReceivedVideo>(8);
        let thread = std::thread::Builder::new()
            .name("ra-video-decode".into())
            .spawn(move || {
                let mut waiting_for_keyframe = false;
                let mut dropped_damage = false;
                for video in receiver {
                    if waiting_for_keyframe && !video.frame.keyframe {
                        stats.frame_dropped();
                        continue;
                    }
                    let encoded_bytes = video.frame.data.len();
                    let started = Instant::now();
                    let decoded = decoder.decode(&video.frame);
                    match decoded {
                        Ok(Some(mut frame)) => {
                            stats.decode_took(started.elapsed());
                            waiting_for_keyframe = false;
                            if dropped_damage {
                                // The application missed a frame: its damage is unknown.
                                frame.damage = vec![Rect::new(0, 0, frame.width, frame.height)];
                            }
                            let latency = frame.captured_at.duration_until(Timestamp::now());
                            let received = ReceivedFrame {
                                seq: video.seq,
                                frame,
                                encoded_bytes,
                                latency,
                            };
                            // Counted before it is handed over, so an
                            // application that reads the stats on the
                            // frame's event sees it counted.
                            match frames.try_reserve() {
                                Ok(slot) => {
                                    dropped_damage = false;
                                    stats.frame_decoded();
                                    slot.send(received);
                                }
                                Err(mpsc::error::TrySendError::Full(_)) => {
                                    dropped_damage = true;
                                    stats.frame_dropped();
                                }
                                Err(mpsc::error::TrySendError::Closed(_)) => return,
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::debug!(error = %e, "decode failed; asking for a keyframe");
                            stats.frame_dropped();
                            waiting_for_keyframe = true;
                            // Full: a keyframe request is on its way already.
                            if let Err(mpsc::error::TrySendError::Closed(_)) =
                                signals.try_send(DecodeSignal::KeyframeNeeded)
                            {
                                return;
                            }
                        }
                    }
                }
            })?;
        Ok(DecodeThread {
            input,
            _thread: thread,
        })
    }

    /// Queues a frame for decoding without waiting.
    pub(crate) fn try_decode(&self, video: ReceivedVideo) -> Result<(), DecodeBusy> {
        self.input.try_send(video).map_err(|e| match e {
            std_mpsc::TrySendError::Full(_) => DecodeBusy::Full,
            std_mpsc::TrySendError::Disconnected(_) => DecodeBusy::Stopped,
        })
    }
}
