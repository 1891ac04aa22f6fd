//! Wrappers of the host's capturer and encoder and the helper's decoder that
//! note when the first picture of a connection run passes each, so the time
//! to the first frame can be broken into phases.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ra_capture::SyntheticCapturer;
use ra_codec::{OpenH264Decoder, OpenH264Encoder};
use ra_core::media::{
    CaptureError, Capturer, CodecError, DecodedFrame, Decoder, DisplayId, DisplayInfo,
    EncodedFrame, Encoder, Frame,
};

/// When the first frame of a connection run passed each backend: filled in
/// by the wrappers below, read after the run.
#[derive(Debug, Default)]
pub(crate) struct Probe {
    /// The capturer delivered its first picture.
    pub(crate) captured: OnceLock<Instant>,
    /// The encoder started on the first picture.
    pub(crate) encode_start: OnceLock<Instant>,
    /// The encoder returned the first encoded frame.
    pub(crate) encoded: OnceLock<Instant>,
    /// The decoder started on the first frame.
    pub(crate) decode_start: OnceLock<Instant>,
    /// The decoder returned the first picture.
    pub(crate) decoded: OnceLock<Instant>,
}

/// A capturer that notes when its first picture is delivered.
pub(crate) struct ProbedCapturer {
    /// The real capturer.
    pub(crate) inner: SyntheticCapturer,
    /// Where to note it.
    pub(crate) probe: Arc<Probe>,
}

impl Capturer for ProbedCapturer {
    fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError> {
        self.inner.displays()
    }

    fn select(&mut self, display: DisplayId) -> Result<(), CaptureError> {
        self.inner.select(display)
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError> {
        let frame = self.inner.next_frame(timeout)?;
        if frame.is_some() {
            let _ = self.probe.captured.set(Instant::now());
        }
        Ok(frame)
    }

    fn invalidate(&mut self) {
        self.inner.invalidate();
    }
}

/// An encoder that notes when it starts and finishes its first frame.
pub(crate) struct ProbedEncoder {
    /// The real encoder.
    pub(crate) inner: OpenH264Encoder,
    /// Where to note it.
    pub(crate) probe: Arc<Probe>,
}

impl Encoder for ProbedEncoder {
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        force_keyframe: bool,
    ) -> Result<Option<EncodedFrame>, CodecError> {
        let first = self.probe.encoded.get().is_none();
        let start = Instant::now();
        let result = self.inner.encode(frame, force_keyframe);
        if first && matches!(result, Ok(Some(_))) {
            let _ = self.probe.encode_start.set(start);
            let _ = self.probe.encoded.set(Instant::now());
        }
        result
    }

    fn set_bitrate(&mut self, bits_per_second: u32) {
        self.inner.set_bitrate(bits_per_second);
    }
}

/// A decoder that notes when it starts and finishes its first picture.
pub(crate) struct ProbedDecoder {
    /// The real decoder.
    pub(crate) inner: OpenH264Decoder,
    /// Where to note it.
    pub(crate) probe: Arc<Probe>,
}

impl Decoder for ProbedDecoder {
    fn decode(&mut self, frame: &EncodedFrame) -> Result<Option<DecodedFrame>, CodecError> {
        let first = self.probe.decoded.get().is_none();
        let start = Instant::now();
        let result = self.inner.decode(frame);
        if first && matches!(result, Ok(Some(_))) {
            let _ = self.probe.decode_start.set(start);
            let _ = self.probe.decoded.set(Instant::now());
        }
        result
    }
}
