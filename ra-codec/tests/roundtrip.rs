//! Encoder and decoder together, on the synthetic desktop pattern.

use std::time::{Duration, Instant};

use ra_capture::render_pattern;
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder, RateControl, psnr_bgra};
use ra_core::media::{
    CodecError, DecodedFrame, Decoder, DisplayId, EncodedFrame, Encoder, Frame, Rect, Timestamp,
};

/// The pattern's frame `index` at `width` × `height`, rows `stride` bytes apart
/// (any padding between rows filled with junk to catch stride mistakes).
fn picture(width: u32, height: u32, index: u64, stride: usize) -> Vec<u8> {
    let mut data = vec![0xA5; stride * height as usize];
    render_pattern(width, height, index, DisplayId(0), &mut data, stride).unwrap();
    data
}

fn frame(width: u32, height: u32, stride: usize, data: &[u8], index: u64) -> Frame<'_> {
    Frame {
        width,
        height,
        stride,
        data,
        damage: vec![Rect::new(0, 0, width, height)],
        // 30 frames per second, so rate control sees a realistic clock.
        captured_at: Timestamp(1_700_000_000_000_000 + index * 33_333),
        display: DisplayId(0),
    }
}

/// Settings that never drop a frame, so tests can expect one output per input.
fn no_skip() -> EncoderSettings {
    EncoderSettings {
        allow_frame_skip: false,
        ..EncoderSettings::default()
    }
}

fn psnr(source: &[u8], stride: usize, decoded: &DecodedFrame) -> f64 {
    psnr_bgra(
        source,
        stride,
        &decoded.data,
        decoded.stride,
        decoded.width,
        decoded.height,
    )
}

fn encode(encoder: &mut OpenH264Encoder, frame: &Frame<'_>, force: bool) -> EncodedFrame {
    encoder
        .encode(frame, force)
        .unwrap()
        .expect("frame skipping is off")
}

fn decode(decoder: &mut OpenH264Decoder, encoded: &EncodedFrame) -> DecodedFrame {
    decoder
        .decode(encoded)
        .unwrap()
        .expect("a picture per access unit")
}

/// Encodes and decodes `frames` frames of the moving pattern, checking quality and
/// metadata; prints sizes and mean times.
fn round_trip(width: u32, height: u32, frames: u64, settings: EncoderSettings) {
    let stride = width as usize * 4;
    let mut encoder = OpenH264Encoder::new(settings);
    let mut decoder = OpenH264Decoder::new().unwrap();
    let (mut encode_time, mut decode_time) = (Duration::ZERO, Duration::ZERO);
    let mut bytes = 0;
    let mut worst_psnr = f64::INFINITY;
    for index in 0..frames {
        let data = picture(width, height, index, stride);
        let mut source = frame(width, height, stride, &data, index);
        source.damage = vec![Rect::new(1, 2, 3, 4)];

        let started = Instant::now();
        let encoded = encode(&mut encoder, &source, false);
        encode_time += started.elapsed();
        assert_eq!(encoded.keyframe, index == 0, "frame {index}");
        assert_eq!((encoded.width, encoded.height), (width, height));
        assert_eq!(encoded.captured_at, source.captured_at);
        assert_eq!(encoded.damage, source.damage);
        assert_eq!(encoded.display, source.display);
        bytes += encoded.data.len();

        let started = Instant::now();
        let decoded = decode(&mut decoder, &encoded);
        decode_time += started.elapsed();
        assert_eq!((decoded.width, decoded.height), (width, height));
        assert_eq!(decoded.stride, width as usize * 4);
        assert_eq!(decoded.data.len(), decoded.stride * height as usize);
        assert_eq!(decoded.captured_at, encoded.captured_at);
        assert_eq!(decoded.damage, encoded.damage);
        assert_eq!(decoded.display, encoded.display);
        let quality = psnr(&data, stride, &decoded);
        assert!(quality >= 35.0, "frame {index}: PSNR {quality:.2} dB");
        worst_psnr = worst_psnr.min(quality);
    }
    eprintln!(
        "{width}x{height}, {frames} frames: encode {:.2} ms/frame, decode {:.2} ms/frame, \
         {} bytes/frame, worst PSNR {worst_psnr:.2} dB",
        encode_time.as_secs_f64() * 1000.0 / frames as f64,
        decode_time.as_secs_f64() * 1000.0 / frames as f64,
        bytes / frames as usize,
    );
}

#[test]
fn round_trip_1080p() {
    round_trip(1920, 1080, 30, EncoderSettings::default());
}

#[test]
fn round_trip_480p() {
    round_trip(640, 480, 30, EncoderSettings::default());
}

#[test]
fn round_trip_with_other_settings() {
    for settings in [
        EncoderSettings {
            rate_control: RateControl::Quality,
            ..no_skip()
        },
        EncoderSettings {
            rate_control: RateControl::Timestamp,
            content: ra_codec::ContentKind::Camera,
            threads: 2,
            bitrate: 8_000_000,
            ..no_skip()
        },
    ] {
        round_trip(640, 360, 5, settings);
    }
}

#[test]
fn forced_keyframe_starts_a_decodable_stream() {
    let (width, height) = (640, 480);
    let stride = width as usize * 4;
    let mut encoder = OpenH264Encoder::new(no_skip());
    let mut late_joiner = OpenH264Decoder::new().unwrap();
    for index in 0..8 {
        let data = picture(width, height, index, stride);
        let force = index == 5;
        let encoded = encode(
            &mut encoder,
            &frame(width, height, stride, &data, index),
            force,
        );
        assert_eq!(encoded.keyframe, index == 0 || force, "frame {index}");
        if index >= 5 {
            // A decoder that starts at the forced keyframe gets every picture.
            let decoded = decode(&mut late_joiner, &encoded);
            assert!(psnr(&data, stride, &decoded) >= 35.0);
        }
    }
}

#[test]
fn periodic_keyframes() {
    let (width, height) = (320, 240);
    let stride = width as usize * 4;
    let mut encoder = OpenH264Encoder::new(EncoderSettings {
        intra_period: 4,
        ..no_skip()
    });
    let keyframes: Vec<u64> = (0..10)
        .filter(|&index| {
            let data = picture(width, height, index, stride);
            encode(
                &mut encoder,
                &frame(width, height, stride, &data, index),
                false,
            )
            .keyframe
        })
        .collect();
    assert_eq!(keyframes, vec![0, 4, 8]);
}

/// A grey picture with a 128×96 patch of noise (seeded by `index`) moving
/// over it, like a video playing in a window: costly to encode, so the
/// encoder spends whatever bitrate it is given.
fn noise_patch(width: u32, height: u32, index: u64) -> Vec<u8> {
    let stride = width as usize * 4;
    let mut data = vec![0x40u8; stride * height as usize];
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ index.wrapping_mul(0x2545_F491_4F6C_DD1D);
    let x = (index as usize * 7) % (width as usize - 128);
    let y = (index as usize * 3) % (height as usize - 96);
    for row in y..y + 96 {
        let start = row * stride + x * 4;
        for chunk in data[start..start + 128 * 4].chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
    }
    data
}

#[test]
fn bitrate_changes_apply_at_once_without_a_keyframe() {
    let (width, height) = (320, 240);
    let stride = width as usize * 4;
    let mut encoder = OpenH264Encoder::new(EncoderSettings::default());
    encoder.set_bitrate(2_000_000);
    assert_eq!(
        encoder.settings().bitrate,
        2_000_000,
        "before the first frame"
    );
    let mut decoder = OpenH264Decoder::new().unwrap();
    // Bytes out per second of 30 frames, at each rate (rate control may skip frames).
    let mut bytes = [0usize; 4];
    for index in 0..120u64 {
        if index == 60 {
            encoder.set_bitrate(200_000);
            assert_eq!(encoder.settings().bitrate, 200_000, "at once");
        }
        let data = noise_patch(width, height, index);
        let source = frame(width, height, stride, &data, index);
        let Some(encoded) = encoder.encode(&source, false).unwrap() else {
            continue;
        };
        assert_eq!(encoded.keyframe, index == 0, "frame {index}");
        decoder.decode(&encoded).unwrap();
        bytes[index as usize / 30] += encoded.data.len();
    }
    // Rate control settles within a second; compare the settled seconds.
    println!("bytes per second: {bytes:?}");
    let (high, low) = (bytes[1], bytes[3]);
    assert!(
        low * 4 < high,
        "the lower rate must shrink the stream: {high} B/s then {low} B/s"
    );
    assert!(
        low * 8 <= 200_000 * 3 / 2,
        "{low} B/s is well over 200 kbit/s"
    );
}

#[test]
fn size_change_mid_stream() {
    let mut encoder = OpenH264Encoder::new(no_skip());
    let mut decoder = OpenH264Decoder::new().unwrap();
    let sizes = [
        (640, 480),
        (640, 480),
        (800, 600),
        (800, 600),
        (320, 200),
        (640, 480),
    ];
    for (index, &(width, height)) in sizes.iter().enumerate() {
        let index = index as u64;
        let stride = width as usize * 4;
        let data = picture(width, height, index, stride);
        let encoded = encode(
            &mut encoder,
            &frame(width, height, stride, &data, index),
            false,
        );
        let size_changed = index == 0 || sizes[index as usize - 1] != (width, height);
        assert_eq!(encoded.keyframe, size_changed, "frame {index}");
        let decoded = decode(&mut decoder, &encoded);
        assert_eq!((decoded.width, decoded.height), (width, height));
        assert!(psnr(&data, stride, &decoded) >= 35.0, "frame {index}");
    }
}

#[test]
fn odd_sizes_keep_their_size() {
    for (width, height) in [(641, 481), (101, 80), (80, 101), (17, 9)] {
        let stride = width as usize * 4;
        let mut encoder = OpenH264Encoder::new(no_skip());
        let mut decoder = OpenH264Decoder::new().unwrap();
        for index in 0..3 {
            let data = picture(width, height, index, stride);
            let encoded = encode(
                &mut encoder,
                &frame(width, height, stride, &data, index),
                false,
            );
            assert_eq!((encoded.width, encoded.height), (width, height));
            let decoded = decode(&mut decoder, &encoded);
            assert_eq!((decoded.width, decoded.height), (width, height));
            let quality = psnr(&data, stride, &decoded);
            assert!(
                quality >= 35.0,
                "{width}x{height} frame {index}: {quality:.2} dB"
            );
        }
    }
}

#[test]
fn tiny_pictures() {
    for (width, height) in [(1, 1), (2, 2), (3, 1), (16, 16)] {
        let stride = width as usize * 4;
        let data = picture(width, height, 0, stride);
        let mut encoder = OpenH264Encoder::new(no_skip());
        let encoded = encode(&mut encoder, &frame(width, height, stride, &data, 0), false);
        let decoded = decode(&mut OpenH264Decoder::new().unwrap(), &encoded);
        assert_eq!((decoded.width, decoded.height), (width, height));
    }
}

#[test]
fn wide_stride_is_honoured() {
    let (width, height) = (640, 360);
    let tight = width as usize * 4;
    let wide = tight + 100;
    let mut tight_encoder = OpenH264Encoder::new(no_skip());
    let mut wide_encoder = OpenH264Encoder::new(no_skip());
    let mut decoder = OpenH264Decoder::new().unwrap();
    for index in 0..3 {
        let tight_data = picture(width, height, index, tight);
        let mut wide_data = picture(width, height, index, wide);
        // The last row need not be padded.
        wide_data.truncate(wide * (height as usize - 1) + tight);
        let from_tight = encode(
            &mut tight_encoder,
            &frame(width, height, tight, &tight_data, index),
            false,
        );
        let from_wide = encode(
            &mut wide_encoder,
            &frame(width, height, wide, &wide_data, index),
            false,
        );
        assert_eq!(
            from_tight.data, from_wide.data,
            "same pixels, same bitstream"
        );
        let decoded = decode(&mut decoder, &from_wide);
        assert!(psnr(&wide_data, wide, &decoded) >= 35.0);
    }
}

#[test]
fn bad_buffers_are_errors() {
    let mut encoder = OpenH264Encoder::default();
    let data = vec![0u8; 64 * 64 * 4];

    let short = frame(64, 64, 256, &data[..data.len() - 1], 0);
    match encoder.encode(&short, false) {
        Err(CodecError::BufferTooSmall { needed, actual }) => {
            assert_eq!((needed, actual), (64 * 64 * 4, 64 * 64 * 4 - 1));
        }
        other => panic!("{other:?}"),
    }

    let narrow_stride = frame(64, 64, 255, &data, 0);
    assert!(matches!(
        encoder.encode(&narrow_stride, false),
        Err(CodecError::BufferTooSmall {
            needed: 256,
            actual: 255
        })
    ));

    let huge_stride = frame(64, 64, usize::MAX / 2, &data, 0);
    assert!(encoder.encode(&huge_stride, false).is_err());

    for (width, height) in [(0, 64), (64, 0), (3842, 64), (2170, 2170)] {
        let unsupported = frame(width, height, width as usize * 4, &data, 0);
        assert!(
            matches!(
                encoder.encode(&unsupported, false),
                Err(CodecError::UnsupportedSize { width: w, height: h }) if (w, h) == (width, height)
            ),
            "{width}x{height}"
        );
    }

    // The encoder still works afterwards.
    let good = frame(64, 64, 256, &data, 0);
    assert!(encoder.encode(&good, false).unwrap().is_some());
}

/// A fixed pseudo-random byte sequence (xorshift), so failures reproduce.
fn junk(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn encoded(data: Vec<u8>) -> EncodedFrame {
    EncodedFrame {
        data,
        width: 640,
        height: 480,
        keyframe: true,
        captured_at: Timestamp(0),
        damage: Vec::new(),
        display: DisplayId(0),
    }
}

#[test]
fn garbage_never_panics_and_the_decoder_recovers() {
    let mut decoder = OpenH264Decoder::new().unwrap();
    assert!(decoder.decode(&encoded(Vec::new())).unwrap().is_none());

    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for seed in 0..40 {
        inputs.push(junk(seed, 1 + (seed as usize * 97) % 5000));
        // Start codes followed by junk reach the NAL parsers.
        for nal_type in [0x67u8, 0x68, 0x65, 0x41, 0x06] {
            let mut nal = vec![0, 0, 0, 1, nal_type];
            nal.extend(junk(seed + 1000, 200));
            inputs.push(nal);
        }
    }
    for input in inputs {
        match decoder.decode(&encoded(input)) {
            Ok(None) | Err(CodecError::CorruptBitstream(_)) => {}
            Ok(Some(picture)) => panic!("garbage decoded to {}x{}", picture.width, picture.height),
            Err(other) => panic!("unexpected error kind: {other}"),
        }
    }

    // Damaged real streams: anything but a panic is acceptable.
    let (width, height) = (320, 240);
    let stride = width as usize * 4;
    let mut encoder = OpenH264Encoder::new(no_skip());
    let stream: Vec<EncodedFrame> = (0..4)
        .map(|index| {
            let data = picture(width, height, index, stride);
            encode(
                &mut encoder,
                &frame(width, height, stride, &data, index),
                false,
            )
        })
        .collect();
    for (index, unit) in stream.iter().enumerate() {
        let mut truncated = unit.clone();
        truncated.data.truncate(unit.data.len() / 2);
        let _ = decoder.decode(&truncated);
        let mut flipped = unit.clone();
        for (at, byte) in flipped.data.iter_mut().enumerate().skip(40) {
            if at % 7 == index {
                *byte ^= 0x5A;
            }
        }
        let _ = decoder.decode(&flipped);
    }

    // A keyframe brings it back.
    let data = picture(width, height, 10, stride);
    let keyframe = encode(&mut encoder, &frame(width, height, stride, &data, 10), true);
    assert!(keyframe.keyframe);
    let decoded = decode(&mut decoder, &keyframe);
    assert!(psnr(&data, stride, &decoded) >= 35.0);
}

#[test]
fn decoder_crops_only_when_the_stated_size_fits() {
    let (width, height) = (64, 48);
    let stride = width as usize * 4;
    let data = picture(width, height, 0, stride);
    let mut encoder = OpenH264Encoder::new(no_skip());
    let mut unit = encode(&mut encoder, &frame(width, height, stride, &data, 0), false);
    // A sender claiming a larger picture than the bitstream holds: the whole
    // decoded picture is shown.
    unit.width = 1000;
    let decoded = decode(&mut OpenH264Decoder::new().unwrap(), &unit);
    assert_eq!((decoded.width, decoded.height), (width, height));
}
