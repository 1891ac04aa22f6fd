//! ra-codec: H.264 video for **ra**, on Cisco's OpenH264 (bundled, built from source).
//!
//! - [`OpenH264Encoder`] implements [`ra_core::media::Encoder`]: BGRA frames in,
//!   H.264 Annex B access units out, tuned for low latency (baseline profile, so no
//!   B-frames; one slice per picture; screen-content mode by default). See
//!   [`EncoderSettings`].
//! - [`OpenH264Decoder`] implements [`ra_core::media::Decoder`]: Annex B in, BGRA out.
//! - [`psnr_bgra`] measures how close a decoded picture is to its source, for tests
//!   and benchmarks.
//!
//! Colour conversion uses BT.601 coefficients with limited ("TV", 16–235) range in
//! both directions, so a round trip keeps colours.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod decoder;
mod encoder;
mod error;
mod i420;
mod live_bitrate;
mod psnr;
mod settings;

pub use decoder::OpenH264Decoder;
pub use encoder::OpenH264Encoder;
pub use psnr::psnr_bgra;
pub use settings::{ContentKind, EncoderSettings, RateControl};

/// Largest picture OpenH264 encodes: 3840 pixels on the long side and 2160 on the
/// short side (level 5.2), either orientation. Larger frames are refused with
/// [`ra_core::media::CodecError::UnsupportedSize`].
pub const MAX_LONG_SIDE: u32 = 3840;

/// See [`MAX_LONG_SIDE`].
pub const MAX_SHORT_SIDE: u32 = 2160;
