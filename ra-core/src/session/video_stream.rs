//! One video frame's stream as the helper reads it: a length-delimited
//! `VideoFrameHeader`, then exactly `payload_len` bytes of encoded picture.
//! Parsed here, without I/O, so the runtime and the fuzzer read streams the
//! same way.

use std::time::Duration;

use prost::Message as _;

use super::framing::{FrameDecoder, encode_frame};
use super::wire::MAX_VIDEO_HEADER;
use crate::media::{DisplayId, EncodedFrame, Rect, Timestamp};
use crate::proto;

/// One frame as it arrived from the host, before decoding.
#[derive(Debug, Clone)]
pub struct VideoStream {
    /// The host's frame counter within one video stream.
    pub seq: u64,
    /// The encoded picture and what the header says of it.
    pub frame: EncodedFrame,
    /// What the host's rate controller asked for when it sent the frame
    /// (bits per second, time between frames), if the host said.
    pub target: Option<(u32, Duration)>,
}

/// Why a video stream is not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VideoStreamError {
    /// The header is missing, too long or not a `VideoFrameHeader`.
    #[error("invalid frame header")]
    Header,
    /// The payload is not as long as the header says.
    #[error("frame payload length does not match its header")]
    Length,
}

/// The framed header that starts the stream of `frame` (the stream's
/// `seq`-th frame; `target`: what the rate controller asks for, bits per
/// second and time between frames). The encoded picture follows it.
pub fn encode_video_header(
    seq: u64,
    frame: &EncodedFrame,
    target: Option<(u32, Duration)>,
) -> Vec<u8> {
    let (bitrate, interval) = target.unwrap_or_default();
    encode_frame(&proto::VideoFrameHeader {
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
        target_bitrate: bitrate,
        target_frame_interval_us: u32::try_from(interval.as_micros()).unwrap_or(u32::MAX),
    })
}

/// Parses a whole video stream (`data`: everything read up to its end).
///
/// # Errors
/// [`VideoStreamError::Header`] or [`VideoStreamError::Length`].
pub fn decode_video_stream(data: &[u8]) -> Result<VideoStream, VideoStreamError> {
    let mut decoder = FrameDecoder::new(MAX_VIDEO_HEADER);
    decoder.push(data);
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
    if u64::try_from(payload.len()).ok() != Some(u64::from(header.payload_len)) {
        return Err(VideoStreamError::Length);
    }
    let target = (header.target_bitrate != 0 && header.target_frame_interval_us != 0).then(|| {
        (
            header.target_bitrate,
            Duration::from_micros(u64::from(header.target_frame_interval_us)),
        )
    });
    Ok(VideoStream {
        seq: header.seq,
        target,
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
