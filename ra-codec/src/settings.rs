//! Encoder configuration, independent of the OpenH264 types it maps to.

use openh264::encoder::{
    BitRate, EncoderConfig, FrameRate, IntraFramePeriod, RateControlMode, UsageType,
};

/// What kind of picture the encoder is fed; selects OpenH264's tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ContentKind {
    /// Desktops and applications: sharp edges, text, large flat areas, little motion
    /// (OpenH264's `SCREEN_CONTENT_REAL_TIME`).
    #[default]
    Screen,
    /// Camera pictures: noise, soft edges, motion everywhere
    /// (OpenH264's `CAMERA_VIDEO_REAL_TIME`).
    Camera,
}

/// How the encoder trades quality against size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RateControl {
    /// Aims at [`EncoderSettings::bitrate`] on average over about a second; may
    /// skip frames to stay under it when [`EncoderSettings::allow_frame_skip`] is set.
    /// The usual choice for live streaming.
    #[default]
    Bitrate,
    /// Aims at a constant quality, using the bitrate only as a guide; sizes vary more.
    Quality,
    /// Like [`RateControl::Bitrate`], but measures time from the frames' capture
    /// timestamps rather than assuming [`EncoderSettings::max_fps`] frames per second
    /// (suits capturers that only deliver frames when something changed).
    Timestamp,
    /// Chooses quantisers from the state of an internal buffer only, ignoring the bitrate.
    BufferBased,
    /// No rate control: a constant quantiser. Sizes follow the picture's complexity.
    Off,
}

/// Settings of an [`crate::OpenH264Encoder`].
///
/// Out-of-range values are clamped to the documented range, not refused, so a
/// setting read from a configuration file cannot stop the stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderSettings {
    /// Target bitrate in bits per second; clamped to 10 kbit/s – 200 Mbit/s.
    /// Default 4 Mbit/s (a 1080p desktop with typical activity).
    pub bitrate: u32,
    /// Highest frame rate the stream will carry, frames per second; rate control
    /// divides the bitrate by it. Clamped to 1–240. Default 30.
    pub max_fps: f32,
    /// What the frames show. Default [`ContentKind::Screen`].
    pub content: ContentKind,
    /// Encoder threads: 0 lets OpenH264 choose from the CPU count, 1 encodes on the
    /// calling thread only (lowest overhead, what a single slice per picture can use
    /// anyway), more splits each picture between threads. Clamped to 0–16. Default 1.
    pub threads: u16,
    /// Rate control mode. Default [`RateControl::Bitrate`].
    pub rate_control: RateControl,
    /// Frames between periodic keyframes; 0 means keyframes only on request
    /// (`force_keyframe`) and on size changes, which suits a reliable transport where
    /// the receiver asks for one after a loss. Default 0.
    pub intra_period: u32,
    /// Whether rate control may drop a frame (the encoder then returns `Ok(None)`)
    /// rather than exceed the bitrate. Without it OpenH264 cannot hold the bitrate
    /// in the `Bitrate`, `Quality` and `Timestamp` modes (it says so on stderr).
    /// A dropped keyframe is not lost: the next frame is forced again. Default `true`.
    pub allow_frame_skip: bool,
}

impl Default for EncoderSettings {
    fn default() -> Self {
        // Chosen by measurement: `ra-screen-bench --choose-settings` (typing / a moving
        // 600×400 window at 30 changes/s, recorded on a 1920×1080 Xvfb, replayed through
        // each variant; 2 cores) and live sessions of the same bench.
        // - `threads: 1`: 1, 2 and 0 (auto) give byte-identical streams and the same
        //   time (typing 9.3–10.4 ms, window 13.3–14.6 ms p50): a picture is one slice,
        //   so more threads have nothing to share.
        // - `RateControl::Bitrate`: `Quality` costs +1 % (typing, 4.74 vs 4.70 kB/s) and
        //   +5 % (window, 97.6 vs 93.1 kB/s) for +0.2 / −0.1 dB, and gives a smaller,
        //   worse first picture (window IDR 153 kB at 37.6 dB vs 170 kB at 39.4 dB).
        // - `ContentKind::Screen`: `Camera` encodes 2.4–3× faster (typing 3.9 vs 9.5 ms,
        //   window 4.6 vs 14.1 ms), which in live sessions brings capture→decoded p50 from
        //   15–21 ms to 7–9 ms, but sends 2.7–4× the bytes (live: typing 12.4 vs 4.6 kB/s,
        //   scrolling 317 vs 76, window 283 vs 109), drops 20 of 177 frames while
        //   scrolling at 4 Mbit/s (Screen: 2) at 37.9 dB during the scroll (Screen: 43.7),
        //   and is no faster on full-screen change (21 ms either way). Screen is the kind
        //   that stays under x264 ultrafast's bytes at equal PSNR in every scenario.
        EncoderSettings {
            bitrate: 4_000_000,
            max_fps: 30.0,
            content: ContentKind::Screen,
            threads: 1,
            rate_control: RateControl::Bitrate,
            intra_period: 0,
            allow_frame_skip: true,
        }
    }
}

/// Bounds applied by [`EncoderSettings`]; see its fields.
const MIN_BITRATE: u32 = 10_000;
const MAX_BITRATE: u32 = 200_000_000;
const MIN_FPS: f32 = 1.0;
const MAX_FPS: f32 = 240.0;
const MAX_THREADS: u16 = 16;

impl EncoderSettings {
    /// The settings with every field inside its documented range.
    pub(crate) fn clamped(self) -> Self {
        let max_fps = if self.max_fps.is_finite() {
            self.max_fps.clamp(MIN_FPS, MAX_FPS)
        } else {
            EncoderSettings::default().max_fps
        };
        EncoderSettings {
            bitrate: self.bitrate.clamp(MIN_BITRATE, MAX_BITRATE),
            max_fps,
            threads: self.threads.min(MAX_THREADS),
            ..self
        }
    }

    /// The OpenH264 configuration for these (already clamped) settings.
    pub(crate) fn to_openh264(self) -> EncoderConfig {
        let usage = match self.content {
            ContentKind::Screen => UsageType::ScreenContentRealTime,
            ContentKind::Camera => UsageType::CameraVideoRealTime,
        };
        let rate_control = match self.rate_control {
            RateControl::Bitrate => RateControlMode::Bitrate,
            RateControl::Quality => RateControlMode::Quality,
            RateControl::Timestamp => RateControlMode::Timestamp,
            RateControl::BufferBased => RateControlMode::Bufferbased,
            RateControl::Off => RateControlMode::Off,
        };
        // OpenH264 turns these off for screen content anyway, with a warning on
        // stderr per encoder; asking only for what applies keeps the log clean.
        let camera_only_tools = self.content == ContentKind::Camera;
        // Baseline profile is OpenH264's default and has no B-frames, so every
        // access unit can be displayed as soon as it is decoded.
        EncoderConfig::new()
            .adaptive_quantization(camera_only_tools)
            .background_detection(camera_only_tools)
            .bitrate(BitRate::from_bps(self.bitrate))
            .max_frame_rate(FrameRate::from_hz(self.max_fps))
            .usage_type(usage)
            .num_threads(self.threads)
            .rate_control_mode(rate_control)
            // The encoder requests periodic keyframes itself (see `OpenH264Encoder`).
            .intra_frame_period(IntraFramePeriod::auto())
            .skip_frames(self.allow_frame_skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_keeps_values_in_range() {
        let wild = EncoderSettings {
            bitrate: 1,
            max_fps: f32::NAN,
            threads: 1000,
            ..EncoderSettings::default()
        }
        .clamped();
        assert_eq!(wild.bitrate, MIN_BITRATE);
        assert_eq!(wild.max_fps, 30.0);
        assert_eq!(wild.threads, MAX_THREADS);

        let fast = EncoderSettings {
            max_fps: 1000.0,
            bitrate: u32::MAX,
            ..EncoderSettings::default()
        }
        .clamped();
        assert_eq!(fast.max_fps, MAX_FPS);
        assert_eq!(fast.bitrate, MAX_BITRATE);

        assert_eq!(
            EncoderSettings::default().clamped(),
            EncoderSettings::default()
        );
    }
}
