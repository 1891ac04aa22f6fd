//! Frames, displays and the capture/codec backend traits.
//!
//! Pixels are always BGRA, 8 bits per channel, in memory order B, G, R, A (the
//! native layout of X11, Windows and macOS framebuffers), with an explicit row
//! stride in bytes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Identifies one display (monitor) of a capturer. Stable for the capturer's
/// lifetime; `DisplayId::ALL` means "all displays as one picture".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DisplayId(pub u32);

impl DisplayId {
    /// The union of all displays, captured as one picture.
    pub const ALL: DisplayId = DisplayId(u32::MAX);
}

/// A display a capturer can capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayInfo {
    /// Identifier to pass to [`Capturer::select`].
    pub id: DisplayId,
    /// Human-readable name (e.g. the RandR output name).
    pub name: String,
    /// Position and size in the host's global coordinates.
    pub bounds: Rect,
    /// Whether this is the primary display.
    pub primary: bool,
}

/// An axis-aligned rectangle in pixels (in a policy file: `{ x = 0, y = 0,
/// width = 200, height = 100 }`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Rect {
    /// A rectangle from its origin and size.
    pub const fn new(x: i32, y: i32, width: u32, height: u32) -> Self {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    /// Whether the rectangle covers no pixel.
    pub const fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }
}

/// A wall-clock instant in microseconds since the Unix epoch.
///
/// Frames carry the time they were captured so the helper can measure
/// capture-to-display latency (exact when both ends share a clock, as on loopback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The current wall-clock time. Backends call this; the sans-IO session never does.
    pub fn now() -> Self {
        Timestamp::from(SystemTime::now())
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Time elapsed from `self` to `later`, zero if `later` is earlier.
    pub fn duration_until(self, later: Timestamp) -> Duration {
        Duration::from_micros(later.0.saturating_sub(self.0))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        let micros = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        Timestamp(u64::try_from(micros).unwrap_or(u64::MAX))
    }
}

/// A captured picture, borrowed from the capturer until the next call.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one row to the start of the next (≥ 4 × width).
    pub stride: usize,
    /// BGRA pixels, `stride * height` bytes (the last row may be only `4 * width`).
    pub data: &'a [u8],
    /// Regions that changed since the previous frame; the whole frame when unknown.
    pub damage: Vec<Rect>,
    /// When the picture was captured.
    pub captured_at: Timestamp,
    /// Which display the picture shows.
    pub display: DisplayId,
}

/// One frame of compressed video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    /// The compressed bitstream (H.264 Annex B for the openh264 codec).
    pub data: Vec<u8>,
    /// Width of the picture in pixels.
    pub width: u32,
    /// Height of the picture in pixels.
    pub height: u32,
    /// Whether the frame decodes without any earlier frame.
    pub keyframe: bool,
    /// When the source picture was captured.
    pub captured_at: Timestamp,
    /// Regions that changed since the previous frame.
    pub damage: Vec<Rect>,
    /// Which display the picture shows.
    pub display: DisplayId,
}

/// A decoded picture owned by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFrame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one row to the start of the next.
    pub stride: usize,
    /// BGRA pixels, `stride * height` bytes.
    pub data: Vec<u8>,
    /// Regions that changed since the previous frame.
    pub damage: Vec<Rect>,
    /// When the source picture was captured on the host.
    pub captured_at: Timestamp,
    /// Which display the picture shows.
    pub display: DisplayId,
}

/// A pointer image: premultiplied BGRA, `width * height * 4` bytes, rows
/// packed, with the hotspot (the pixel that points) at (`hot_x`, `hot_y`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorShape {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Hotspot column.
    pub hot_x: u32,
    /// Hotspot row.
    pub hot_y: u32,
    /// Premultiplied BGRA pixels.
    pub pixels: Vec<u8>,
}

impl CursorShape {
    /// Largest cursor side sent to helpers; larger shapes are dropped.
    pub const MAX_SIDE: u32 = 128;
}

/// What changed about the pointer since the capturer last reported it.
///
/// The pointer travels apart from the video, so moving the mouse costs no
/// encoding: the helper draws the shape at the position over its picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorUpdate {
    /// Hotspot position in the captured display's coordinates.
    pub x: i32,
    /// Hotspot position in the captured display's coordinates.
    pub y: i32,
    /// Whether the pointer is shown over the captured display.
    pub visible: bool,
    /// The new shape, when it changed.
    pub shape: Option<CursorShape>,
}

impl DecodedFrame {
    /// Draws a pointer shape with its hotspot at (`x`, `y`), blending its
    /// premultiplied alpha over the picture; parts outside are clipped.
    pub fn draw_cursor(&mut self, shape: &CursorShape, x: i32, y: i32) {
        let (width, height) = (shape.width as usize, shape.height as usize);
        if shape.pixels.len() < width * height * 4 {
            return;
        }
        let left = i64::from(x) - i64::from(shape.hot_x);
        let top = i64::from(y) - i64::from(shape.hot_y);
        for row in 0..height {
            let fy = top + row as i64;
            if fy < 0 || fy >= i64::from(self.height) {
                continue;
            }
            for col in 0..width {
                let fx = left + col as i64;
                if fx < 0 || fx >= i64::from(self.width) {
                    continue;
                }
                let src = &shape.pixels[(row * width + col) * 4..][..4];
                let alpha = u32::from(src[3]);
                if alpha == 0 {
                    continue;
                }
                let at = fy as usize * self.stride + fx as usize * 4;
                let Some(dst) = self.data.get_mut(at..at + 4) else {
                    continue;
                };
                for channel in 0..3 {
                    // Premultiplied: out = src + dst * (1 - alpha).
                    let blended =
                        u32::from(src[channel]) + u32::from(dst[channel]) * (255 - alpha) / 255;
                    dst[channel] = blended.min(255) as u8;
                }
            }
        }
    }
}

/// Why a capturer failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The requested display does not exist (any more).
    #[error("display {0:?} does not exist")]
    NoSuchDisplay(DisplayId),
    /// The capture source went away (display server closed, permission withdrawn).
    #[error("capture source is gone: {0}")]
    SourceLost(String),
    /// The backend failed for another reason.
    #[error("capture backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why an encoder or decoder failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The frame's size is not supported (e.g. zero, odd for 4:2:0, or too large).
    #[error("unsupported frame size {width}x{height}")]
    UnsupportedSize {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// The frame's buffer is shorter than its size and stride require.
    #[error("frame buffer holds {actual} bytes, {needed} needed")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The bitstream could not be decoded; ask the sender for a keyframe.
    #[error("corrupt bitstream: {0}")]
    CorruptBitstream(String),
    /// The codec library failed for another reason.
    #[error("codec backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Finds where the windows the host masks are, by their class (X11's
/// `WM_CLASS`), so that the redaction mask follows them as they move. The
/// capture path asks before every picture.
pub trait WindowLocator: Send {
    /// The desktop rectangles of the shown windows whose class (or
    /// instance name) is one of `classes`, compared without case.
    ///
    /// # Errors
    /// [`CaptureError::SourceLost`] when the display is gone; the picture is
    /// then not sent (a mask that cannot be found is never assumed empty).
    fn locate(&mut self, classes: &[String]) -> Result<Vec<Rect>, CaptureError>;
}

/// A source of screen pictures (X11, xcap, synthetic, or one written in C).
pub trait Capturer: Send {
    /// The displays this capturer can capture.
    ///
    /// # Errors
    /// [`CaptureError::SourceLost`] when the display server went away, or
    /// [`CaptureError::Backend`].
    fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError>;

    /// Captures `display` from the next frame on.
    ///
    /// # Errors
    /// [`CaptureError::NoSuchDisplay`] for an unknown id, or [`CaptureError::Backend`].
    fn select(&mut self, display: DisplayId) -> Result<(), CaptureError>;

    /// Waits up to `timeout` for the picture to change and returns it.
    /// `Ok(None)` means nothing changed before `timeout`.
    ///
    /// # Errors
    /// [`CaptureError::SourceLost`] when capture cannot continue, or [`CaptureError::Backend`].
    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError>;

    /// Makes the next [`Capturer::next_frame`] return the whole picture even if
    /// nothing changed (a helper joined or asked for a keyframe).
    fn invalidate(&mut self) {}

    /// The pointer's changes since the last call, or `None` when nothing
    /// changed or the backend does not track the pointer. Backends that track
    /// it may return from [`Capturer::next_frame`] with `Ok(None)` before the
    /// timeout when only the pointer changed, so it is sent without delay.
    fn cursor(&mut self) -> Option<CursorUpdate> {
        None
    }
}

/// Compresses frames.
pub trait Encoder: Send {
    /// Encodes one frame; `Ok(None)` when the encoder chose to skip it.
    ///
    /// # Errors
    /// [`CodecError::UnsupportedSize`], [`CodecError::BufferTooSmall`], or [`CodecError::Backend`].
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        force_keyframe: bool,
    ) -> Result<Option<EncodedFrame>, CodecError>;

    /// Sets the target bitrate in bits per second (a hint; encoders may ignore it).
    fn set_bitrate(&mut self, _bits_per_second: u32) {}
}

/// Decompresses frames.
pub trait Decoder: Send {
    /// Decodes one frame; `Ok(None)` when the bitstream produced no picture yet.
    ///
    /// # Errors
    /// [`CodecError::CorruptBitstream`] when the data cannot be decoded (request a
    /// keyframe), or [`CodecError::Backend`].
    fn decode(&mut self, frame: &EncodedFrame) -> Result<Option<DecodedFrame>, CodecError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_blends_and_clips() {
        let mut frame = DecodedFrame {
            width: 4,
            height: 2,
            stride: 16,
            data: vec![100; 32],
            damage: Vec::new(),
            captured_at: Timestamp(0),
            display: DisplayId(0),
        };
        // 2x1: an opaque white pixel and a half-transparent black one.
        let shape = CursorShape {
            width: 2,
            height: 1,
            hot_x: 1,
            hot_y: 0,
            pixels: vec![255, 255, 255, 255, 0, 0, 0, 128],
        };
        frame.draw_cursor(&shape, 1, 1);
        assert_eq!(&frame.data[16..20], &[255, 255, 255, 100]);
        assert_eq!(u32::from(frame.data[20]), 100 * 127 / 255);
        // Hanging off the top-left corner: only the part inside is drawn.
        frame.draw_cursor(&shape, 0, 0);
        assert_eq!(&frame.data[0..3], &[(100u32 * 127 / 255) as u8; 3]);
    }
}
