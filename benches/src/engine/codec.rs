//! Per-frame encode and decode of the synthetic pattern (rendered apart, so
//! capture pacing does not count), an unchanged picture, forced keyframes.

use std::time::Instant;

use ra_capture::render_pattern;
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder, psnr_bgra};
use ra_core::media::{Decoder, DisplayId, EncodedFrame, Encoder, Frame, Rect, Timestamp};

use super::Args;
use crate::stats::ms;

/// Time between two synthetic frames at 30 fps, in microseconds.
const FRAME_PERIOD_US: u64 = 33_333;

/// The display every picture shows.
const DISPLAY: DisplayId = DisplayId(0);

/// The per-frame codec measurement.
#[derive(Debug, Default)]
pub(crate) struct CodecReport {
    /// Frames fed to the encoder in the main sequence.
    pub(crate) frames: u64,
    /// Of those, frames rate control skipped.
    pub(crate) skipped: u64,
    /// Encode time of every frame that produced output, ms (the first included).
    pub(crate) encode_ms: Vec<f64>,
    /// Decode time of every frame that produced a picture, ms.
    pub(crate) decode_ms: Vec<f64>,
    /// Encoded size of every output frame, bytes.
    pub(crate) bytes: Vec<usize>,
    /// Luma PSNR of every decoded picture against its source, dB.
    pub(crate) psnr: Vec<f64>,
    /// The first frame: encoder start-up plus an IDR picture (ms, bytes).
    pub(crate) first_encode: Option<(f64, usize)>,
    /// The first frame's decode (decoder start-up included), ms.
    pub(crate) first_decode: Option<f64>,
    /// Forced keyframes: encode ms.
    pub(crate) keyframe_encode_ms: Vec<f64>,
    /// Forced keyframes: decode ms.
    pub(crate) keyframe_decode_ms: Vec<f64>,
    /// Forced keyframes: bytes.
    pub(crate) keyframe_bytes: Vec<usize>,
    /// Forced keyframe requests that produced no IDR picture on that frame.
    pub(crate) keyframes_missed: u32,
    /// Unchanged picture: encode ms of each attempt.
    pub(crate) unchanged_encode_ms: Vec<f64>,
    /// Unchanged picture: bytes of each output (skipped ones not counted).
    pub(crate) unchanged_bytes: Vec<usize>,
    /// Unchanged picture: attempts rate control skipped.
    pub(crate) unchanged_skipped: u32,
    /// Decode errors seen (should be none).
    pub(crate) decode_errors: u32,
    /// `render_pattern` of a whole frame (not part of the codec), ms.
    pub(crate) render_ms: Vec<f64>,
}

/// Encodes, decodes and compares synthetic frames.
pub(crate) struct CodecBench {
    /// Picture width.
    width: u32,
    /// Picture height.
    height: u32,
    /// The current source picture, tightly packed BGRA.
    source: Vec<u8>,
    /// The encoder under test.
    encoder: OpenH264Encoder,
    /// The decoder under test.
    decoder: OpenH264Decoder,
    /// Capture timestamp of frame 0.
    base: Timestamp,
    /// The results.
    report: CodecReport,
}

/// What one encode → decode step produced.
struct Step {
    /// Encode time, ms.
    encode_ms: f64,
    /// The output, `None` when skipped.
    encoded: Option<EncodedFrame>,
    /// Decode time, ms, when there was something to decode.
    decode_ms: Option<f64>,
    /// PSNR of the decoded picture against the source.
    psnr: Option<f64>,
}

impl CodecBench {
    /// A bench for `width` × `height` pictures.
    pub(crate) fn new(width: u32, height: u32) -> Result<Self, String> {
        Ok(CodecBench {
            width,
            height,
            source: vec![0; width as usize * 4 * height as usize],
            encoder: OpenH264Encoder::new(EncoderSettings::default()),
            decoder: OpenH264Decoder::new().map_err(|e| format!("decoder: {e}"))?,
            base: Timestamp::now(),
            report: CodecReport::default(),
        })
    }

    /// Draws pattern frame `index` into the source picture (not timed).
    fn render(&mut self, index: u64) -> Result<(), String> {
        let stride = self.width as usize * 4;
        let start = Instant::now();
        render_pattern(
            self.width,
            self.height,
            index,
            DISPLAY,
            &mut self.source,
            stride,
        )
        .map_err(|e| format!("render: {e}"))?;
        self.report.render_ms.push(ms(start.elapsed()));
        Ok(())
    }

    /// Encodes the source picture as the frame captured at tick `tick` and
    /// decodes the result; PSNR only when `measure_psnr`.
    fn step(
        &mut self,
        tick: u64,
        force_keyframe: bool,
        measure_psnr: bool,
    ) -> Result<Step, String> {
        let (width, height) = (self.width, self.height);
        let stride = width as usize * 4;
        let frame = Frame {
            width,
            height,
            stride,
            data: &self.source,
            damage: vec![Rect::new(0, 0, width, height)],
            captured_at: Timestamp(self.base.0 + tick * FRAME_PERIOD_US),
            display: DISPLAY,
        };
        let start = Instant::now();
        let encoded = self
            .encoder
            .encode(&frame, force_keyframe)
            .map_err(|e| format!("encode: {e}"))?;
        let encode_ms = ms(start.elapsed());
        let Some(encoded) = encoded else {
            return Ok(Step {
                encode_ms,
                encoded: None,
                decode_ms: None,
                psnr: None,
            });
        };
        let start = Instant::now();
        let decoded = self.decoder.decode(&encoded);
        let decode_ms = ms(start.elapsed());
        let psnr = match decoded {
            Ok(Some(picture)) if measure_psnr => Some(psnr_bgra(
                &picture.data,
                picture.stride,
                &self.source,
                stride,
                width,
                height,
            )),
            Ok(_) => None,
            Err(e) => {
                eprintln!("decode error: {e}");
                self.report.decode_errors += 1;
                None
            }
        };
        Ok(Step {
            encode_ms,
            encoded: Some(encoded),
            decode_ms: Some(decode_ms),
            psnr,
        })
    }

    /// Runs the three codec measurements.
    pub(crate) fn run(mut self, args: &Args) -> Result<CodecReport, String> {
        // 1. The main sequence: consecutive pattern frames.
        let mut tick = 0;
        for index in 0..args.frames {
            self.render(index)?;
            let step = self.step(tick, false, true)?;
            tick += 1;
            self.report.frames += 1;
            let Some(encoded) = step.encoded else {
                self.report.skipped += 1;
                continue;
            };
            if index == 0 {
                self.report.first_encode = Some((step.encode_ms, encoded.data.len()));
                self.report.first_decode = step.decode_ms;
            }
            self.report.encode_ms.push(step.encode_ms);
            self.report.bytes.push(encoded.data.len());
            self.report.decode_ms.extend(step.decode_ms);
            self.report.psnr.extend(step.psnr);
        }

        // 2. The same picture again (the last frame of the sequence).
        for _ in 0..args.unchanged {
            let step = self.step(tick, false, false)?;
            tick += 1;
            self.report.unchanged_encode_ms.push(step.encode_ms);
            match step.encoded {
                Some(encoded) => self.report.unchanged_bytes.push(encoded.data.len()),
                None => self.report.unchanged_skipped += 1,
            }
        }

        // 3. Forced keyframes, each after 14 ordinary frames so rate control
        //    has recovered from the previous one.
        let mut index = args.frames;
        for _ in 0..args.keyframes {
            for _ in 0..14 {
                self.render(index)?;
                self.step(tick, false, false)?;
                index += 1;
                tick += 1;
            }
            self.render(index)?;
            let step = self.step(tick, true, false)?;
            index += 1;
            tick += 1;
            match step.encoded {
                Some(encoded) if encoded.keyframe => {
                    self.report.keyframe_encode_ms.push(step.encode_ms);
                    self.report.keyframe_bytes.push(encoded.data.len());
                    self.report.keyframe_decode_ms.extend(step.decode_ms);
                }
                _ => self.report.keyframes_missed += 1,
            }
        }
        Ok(self.report)
    }
}
