//! [`OpenH264Encoder`]: BGRA frames to H.264.

use openh264::OpenH264API;
use openh264::encoder::{Encoder as H264Encoder, FrameType};
use ra_core::media::{CodecError, EncodedFrame, Encoder, Frame};

use crate::error::backend;
use crate::i420::{I420Picture, check_bgra_layout, padded_size};
use crate::settings::EncoderSettings;

/// An H.264 encoder on OpenH264, tuned for low latency.
///
/// - Baseline profile: no B-frames, so each output decodes into a picture at once.
/// - Frames of any size up to [`crate::MAX_LONG_SIDE`] × [`crate::MAX_SHORT_SIDE`];
///   odd widths/heights are **padded** to even by repeating the last column/row.
///   The [`EncodedFrame`] keeps the true size and [`crate::OpenH264Decoder`] crops
///   the padding away again, so the receiver sees exactly the captured size.
/// - When the frame size changes the encoder is recreated and the next output is a
///   keyframe.
/// - `force_keyframe` produces an IDR picture (the only kind marked
///   [`EncodedFrame::keyframe`]); if rate control drops that frame, the next one is
///   forced again.
/// - The I420 conversion buffer is reused across frames; the only per-frame
///   allocation is the output bitstream that [`EncodedFrame`] owns.
pub struct OpenH264Encoder {
    /// Settings in force, already clamped.
    settings: EncoderSettings,
    /// The OpenH264 instance for the current picture size, created on first use.
    session: Option<Session>,
    /// Reused colour-converted input.
    picture: I420Picture,
    /// A keyframe was requested (or a size change happened) and none has come out yet.
    keyframe_pending: bool,
    /// A bitrate from [`Encoder::set_bitrate`] not yet applied; see there.
    pending_bitrate: Option<u32>,
    /// Frames output since the last keyframe, that one included; drives
    /// [`EncoderSettings::intra_period`].
    frames_since_keyframe: u32,
}

/// One OpenH264 encoder, bound to one (padded) picture size.
struct Session {
    encoder: H264Encoder,
    width: u32,
    height: u32,
    /// Whether OpenH264 has seen a frame; it initialises itself on the first one and
    /// must not be asked for an IDR before (that first picture is one anyway).
    started: bool,
}

impl std::fmt::Debug for OpenH264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenH264Encoder")
            .field("settings", &self.settings)
            .field("size", &self.session.as_ref().map(|s| (s.width, s.height)))
            .field("keyframe_pending", &self.keyframe_pending)
            .field("pending_bitrate", &self.pending_bitrate)
            .finish()
    }
}

impl Default for OpenH264Encoder {
    fn default() -> Self {
        OpenH264Encoder::new(EncoderSettings::default())
    }
}

impl OpenH264Encoder {
    /// An encoder with `settings` (clamped into their documented ranges). The
    /// OpenH264 instance is created on the first frame, when the size is known.
    pub fn new(settings: EncoderSettings) -> Self {
        OpenH264Encoder {
            settings: settings.clamped(),
            session: None,
            picture: I420Picture::default(),
            keyframe_pending: false,
            pending_bitrate: None,
            frames_since_keyframe: 0,
        }
    }

    /// The settings in force (after clamping; a bitrate from
    /// [`Encoder::set_bitrate`] shows once applied).
    pub fn settings(&self) -> &EncoderSettings {
        &self.settings
    }
}

impl Session {
    /// An OpenH264 instance for a `width` × `height` (even) picture.
    fn start(settings: EncoderSettings, width: u32, height: u32) -> Result<Session, CodecError> {
        let encoder =
            H264Encoder::with_api_config(OpenH264API::from_source(), settings.to_openh264())
                .map_err(|e| backend("creating the OpenH264 encoder", e))?;
        tracing::debug!(width, height, ?settings, "starting H.264 encoder");
        Ok(Session {
            encoder,
            width,
            height,
            started: false,
        })
    }
}

impl Encoder for OpenH264Encoder {
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        force_keyframe: bool,
    ) -> Result<Option<EncodedFrame>, CodecError> {
        check_bgra_layout(frame.width, frame.height, frame.stride, frame.data.len())?;
        let (width, height) = padded_size(frame.width, frame.height);
        self.keyframe_pending |= force_keyframe;
        // Periodic keyframes are requested here rather than by OpenH264's own intra
        // period so that they, too, can pick up a pending bitrate.
        let intra_period = self.settings.intra_period;
        if intra_period > 0 && self.frames_since_keyframe >= intra_period {
            self.keyframe_pending = true;
        }

        // A new session starts with an IDR picture, so a pending bitrate change is
        // applied by recreating the encoder whenever a keyframe is due anyway.
        let needs_new_session = match &self.session {
            None => true,
            Some(session) => {
                (session.width, session.height) != (width, height)
                    || (self.keyframe_pending && self.pending_bitrate.is_some())
            }
        };
        self.picture
            .fill_from_bgra(frame.data, frame.stride, frame.width, frame.height)?;
        if needs_new_session {
            if let Some(bitrate) = self.pending_bitrate.take() {
                self.settings.bitrate = bitrate;
            }
            self.keyframe_pending = true;
            self.session = None;
        }
        let session = match &mut self.session {
            Some(session) => session,
            empty => empty.insert(Session::start(self.settings, width, height)?),
        };
        if self.keyframe_pending && session.started {
            session.encoder.force_intra_frame();
        }

        // OpenH264 wants milliseconds; it replaces timestamps that do not increase
        // (e.g. all zero in tests) with ones derived from the frame rate.
        let timestamp = openh264::Timestamp::from_millis(frame.captured_at.as_micros() / 1000);
        let bitstream = match session.encoder.encode_at(&self.picture, timestamp) {
            Ok(bitstream) => bitstream,
            Err(e) => {
                // OpenH264's state after a failure is unknown: start afresh (with a
                // keyframe) on the next frame rather than fail every frame.
                self.session = None;
                return Err(backend("encoding a frame", e));
            }
        };
        session.started = true;

        let keyframe = match bitstream.frame_type() {
            FrameType::Skip => return Ok(None),
            FrameType::Invalid => {
                return Err(backend(
                    "encoding a frame",
                    "OpenH264 reported an invalid frame type",
                ));
            }
            FrameType::IDR => true,
            // Non-IDR intra pictures do not stop later pictures from referencing
            // earlier ones (screen content uses several references), so only IDR
            // pictures are safe entry points.
            FrameType::I | FrameType::P | FrameType::IPMixed => false,
        };
        let size_hint = usize::try_from(bitstream.raw_info().iFrameSizeInBytes).unwrap_or(0);
        let mut data = Vec::with_capacity(size_hint);
        bitstream.write_vec(&mut data);
        if data.is_empty() {
            return Ok(None);
        }
        if keyframe {
            self.keyframe_pending = false;
            self.frames_since_keyframe = 1;
        } else {
            self.frames_since_keyframe = self.frames_since_keyframe.saturating_add(1);
        }
        Ok(Some(EncodedFrame {
            data,
            width: frame.width,
            height: frame.height,
            keyframe,
            captured_at: frame.captured_at,
            damage: frame.damage.clone(),
            display: frame.display,
        }))
    }

    /// Sets the target bitrate (clamped like [`EncoderSettings::bitrate`]).
    ///
    /// A running encoder takes the new rate at once, from the next frame, so the
    /// picture follows the link without a keyframe. Should OpenH264 refuse the
    /// change, the value takes effect at the next keyframe (forced, periodic per
    /// [`EncoderSettings::intra_period`], or after a size change), where the
    /// encoder is recreated at no extra cost.
    fn set_bitrate(&mut self, bits_per_second: u32) {
        let bitrate = EncoderSettings {
            bitrate: bits_per_second,
            ..self.settings
        }
        .clamped()
        .bitrate;
        if bitrate == self.settings.bitrate {
            self.pending_bitrate = None;
            return;
        }
        match &mut self.session {
            Some(session) if session.started => {
                if crate::live_bitrate::set(&mut session.encoder, self.settings.bitrate, bitrate) {
                    self.settings.bitrate = bitrate;
                    self.pending_bitrate = None;
                } else {
                    tracing::debug!(
                        bitrate,
                        "live bitrate change refused; waiting for a keyframe"
                    );
                    self.pending_bitrate = Some(bitrate);
                }
            }
            // Nothing encoded yet: the next frame starts an encoder at the new rate.
            _ => {
                self.settings.bitrate = bitrate;
                self.pending_bitrate = None;
                self.session = None;
            }
        }
    }
}
