//! Video over QUIC: one unidirectional stream per frame, a length-delimited
//! `VideoFrameHeader` then the encoded picture; the host's capture/encode
//! thread and the helper's decode thread.

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use prost::Message as _;
use tokio::sync::mpsc;

use crate::media::{
    Capturer, DecodedFrame, Decoder, DisplayId, EncodedFrame, Encoder, Rect, Timestamp,
};
use crate::proto;
use crate::session::{FrameDecoder, MAX_VIDEO_HEADER, encode_frame};

/// Largest encoded frame accepted from a host, in bytes.
pub(crate) const MAX_ENCODED_FRAME: usize = 16 * 1024 * 1024;

/// How long a capturer may wait for a change before the pipeline looks at its
/// commands again.
const CAPTURE_POLL: Duration = Duration::from_millis(50);

/// Commands for the host's capture/encode thread.
pub(crate) enum PipelineCommand {
    /// Send video on this connection.
    Start(quinn::Connection),
    /// Stop sending video.
    Stop,
    /// Make the next frame a keyframe of the whole picture.
    Keyframe,
    /// Capture another display.
    SelectDisplay(DisplayId),
}

/// The host's capture → encode thread, feeding an async sender task.
pub(crate) struct VideoPipeline {
    commands: std_mpsc::Sender<PipelineCommand>,
    _thread: JoinHandle<()>,
}

impl VideoPipeline {
    /// Starts the thread; it idles until [`PipelineCommand::Start`].
    pub(crate) fn spawn(
        capturer: Box<dyn Capturer>,
        encoder: Box<dyn Encoder>,
        runtime: tokio::runtime::Handle,
    ) -> std::io::Result<Self> {
        let (commands, receiver) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ra-video-pipeline".into())
            .spawn(move || run_pipeline(capturer, encoder, &receiver, &runtime))?;
        Ok(VideoPipeline {
            commands,
            _thread: thread,
        })
    }

    /// Passes a command to the thread (ignored once it has stopped).
    pub(crate) fn command(&self, command: PipelineCommand) {
        let _ = self.commands.send(command);
    }
}

fn run_pipeline(
    mut capturer: Box<dyn Capturer>,
    mut encoder: Box<dyn Encoder>,
    commands: &std_mpsc::Receiver<PipelineCommand>,
    runtime: &tokio::runtime::Handle,
) {
    let mut sink: Option<mpsc::Sender<EncodedFrame>> = None;
    let mut force_keyframe = false;
    loop {
        // Idle: block until told to start. Streaming: only look.
        let next = if sink.is_none() {
            commands.recv().map(Some).map_err(|_| ())
        } else {
            match commands.try_recv() {
                Ok(c) => Ok(Some(c)),
                Err(std_mpsc::TryRecvError::Empty) => Ok(None),
                Err(std_mpsc::TryRecvError::Disconnected) => Err(()),
            }
        };
        match next {
            Err(()) => return,
            Ok(Some(command)) => {
                match command {
                    PipelineCommand::Start(connection) => {
                        // Latest frame wins: one frame may wait for the sender, no more.
                        let (tx, rx) = mpsc::channel(1);
                        runtime.spawn(send_video(connection, rx));
                        sink = Some(tx);
                        force_keyframe = true;
                        capturer.invalidate();
                    }
                    PipelineCommand::Stop => sink = None,
                    PipelineCommand::Keyframe => {
                        force_keyframe = true;
                        capturer.invalidate();
                    }
                    PipelineCommand::SelectDisplay(display) => {
                        if let Err(e) = capturer.select(display) {
                            tracing::warn!(error = %e, "cannot select display");
                        }
                        force_keyframe = true;
                        capturer.invalidate();
                    }
                }
                continue;
            }
            Ok(None) => {}
        }
        let Some(tx) = &sink else { continue };
        let encoded = match capturer.next_frame(CAPTURE_POLL) {
            Ok(Some(frame)) => encoder.encode(&frame, force_keyframe),
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "capture failed; video paused");
                sink = None;
                continue;
            }
        };
        match encoded {
            Ok(Some(frame)) => {
                if frame.keyframe {
                    force_keyframe = false;
                }
                if tx.blocking_send(frame).is_err() {
                    sink = None;
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "encoding failed");
                force_keyframe = true;
            }
        }
    }
}

/// Writes each encoded frame on a stream of its own.
async fn send_video(connection: quinn::Connection, mut frames: mpsc::Receiver<EncodedFrame>) {
    let mut seq = 0u64;
    while let Some(frame) = frames.recv().await {
        seq += 1;
        let header = proto::VideoFrameHeader {
            seq,
            captured_at_us: frame.captured_at.as_micros(),
            width: frame.width,
            height: frame.height,
            keyframe: frame.keyframe,
            display: frame.display.0,
            damage: frame
                .damage
                .iter()
                .map(|r| proto::Rect {
                    x: r.x,
                    y: r.y,
                    width: r.width,
                    height: r.height,
                })
                .collect(),
            payload_len: u32::try_from(frame.data.len()).unwrap_or(u32::MAX),
        };
        let result = async {
            let mut stream = connection.open_uni().await?;
            stream.write_all(&encode_frame(&header)).await?;
            stream.write_all(&frame.data).await?;
            stream.finish()?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        }
        .await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "video stream ended");
            return;
        }
    }
}

/// One frame as it arrived from the host, before decoding.
pub(crate) struct ReceivedVideo {
    pub(crate) seq: u64,
    pub(crate) frame: EncodedFrame,
}

/// Why a video stream was not a valid frame.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VideoStreamError {
    #[error("cannot read the stream: {0}")]
    Read(#[from] quinn::ReadToEndError),
    #[error("invalid frame header")]
    Header,
    #[error("frame payload length does not match its header")]
    Length,
}

/// Reads one frame stream to its end.
pub(crate) async fn read_video_stream(
    mut stream: quinn::RecvStream,
) -> Result<ReceivedVideo, VideoStreamError> {
    let data = stream
        .read_to_end(MAX_VIDEO_HEADER + MAX_ENCODED_FRAME)
        .await?;
    let mut decoder = FrameDecoder::new(MAX_VIDEO_HEADER);
    decoder.push(&data);
    let header_bytes = decoder
        .next_message()
        .ok()
        .flatten()
        .ok_or(VideoStreamError::Header)?;
    let header_len = header_bytes.len();
    let header =
        proto::VideoFrameHeader::decode(header_bytes).map_err(|_| VideoStreamError::Header)?;
    let prefix = prost::length_delimiter_len(header_len) + header_len;
    let payload = data.get(prefix..).ok_or(VideoStreamError::Length)?;
    if payload.len() != header.payload_len as usize {
        return Err(VideoStreamError::Length);
    }
    Ok(ReceivedVideo {
        seq: header.seq,
        frame: EncodedFrame {
            data: payload.to_vec(),
            width: header.width,
            height: header.height,
            keyframe: header.keyframe,
            captured_at: Timestamp(header.captured_at_us),
            damage: header
                .damage
                .iter()
                .map(|r| Rect::new(r.x, r.y, r.width, r.height))
                .collect(),
            display: DisplayId(header.display),
        },
    })
}

/// A decoded frame with what the helper application wants to know about it.
#[derive(Debug, Clone)]
pub struct ReceivedFrame {
    /// The host's frame counter (gaps mean frames were dropped).
    pub seq: u64,
    /// The picture.
    pub frame: DecodedFrame,
    /// Size of the compressed frame on the wire, in bytes.
    pub encoded_bytes: usize,
    /// Capture on the host → decoded here (exact when both share a clock).
    pub latency: Duration,
}

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
        signals: mpsc::UnboundedSender<DecodeSignal>,
    ) -> std::io::Result<Self> {
        let (input, receiver) = std_mpsc::sync_channel::<ReceivedVideo>(8);
        let thread = std::thread::Builder::new()
            .name("ra-video-decode".into())
            .spawn(move || {
                let mut waiting_for_keyframe = false;
                let mut dropped_damage = false;
                for video in receiver {
                    if waiting_for_keyframe && !video.frame.keyframe {
                        continue;
                    }
                    let encoded_bytes = video.frame.data.len();
                    match decoder.decode(&video.frame) {
                        Ok(Some(mut frame)) => {
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
                            match frames.try_send(received) {
                                Ok(()) => dropped_damage = false,
                                Err(mpsc::error::TrySendError::Full(_)) => dropped_damage = true,
                                Err(mpsc::error::TrySendError::Closed(_)) => return,
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::debug!(error = %e, "decode failed; asking for a keyframe");
                            waiting_for_keyframe = true;
                            if signals.send(DecodeSignal::KeyframeNeeded).is_err() {
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
