//! [`OpenH264Decoder`]: H.264 to BGRA frames.

use openh264::OpenH264API;
use openh264::decoder::{Decoder as H264Decoder, DecoderConfig};
use openh264::formats::YUVSource;
use ra_core::media::{CodecError, DecodedFrame, Decoder, EncodedFrame};
use yuv::YuvPlanarImage;

use crate::error::backend;
use crate::i420::{BGRA_BYTES, MATRIX, RANGE};

/// An H.264 decoder on OpenH264, producing BGRA pictures.
///
/// Each [`EncodedFrame`] must hold whole access units in Annex B format (as
/// [`crate::OpenH264Encoder`] produces). Pictures come out as soon as they are
/// decoded (no reordering delay). The picture is cropped to the frame's stated
/// `width` × `height` when that fits inside the decoded picture, which removes the
/// padding the encoder adds to odd sizes.
///
/// After [`CodecError::CorruptBitstream`] the decoder recovers at the next keyframe.
pub struct OpenH264Decoder {
    decoder: H264Decoder,
}

impl std::fmt::Debug for OpenH264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenH264Decoder").finish_non_exhaustive()
    }
}

impl OpenH264Decoder {
    /// A decoder ready for a stream starting with a keyframe.
    ///
    /// # Errors
    /// [`CodecError::Backend`] if OpenH264 cannot create a decoder.
    pub fn new() -> Result<Self, CodecError> {
        let decoder =
            H264Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())
                .map_err(|e| backend("creating the OpenH264 decoder", e))?;
        Ok(OpenH264Decoder { decoder })
    }
}

impl Decoder for OpenH264Decoder {
    fn decode(&mut self, frame: &EncodedFrame) -> Result<Option<DecodedFrame>, CodecError> {
        if frame.data.is_empty() {
            return Ok(None);
        }
        // OpenH264 takes the length as a C int.
        if i32::try_from(frame.data.len()).is_err() {
            return Err(CodecError::CorruptBitstream(format!(
                "access unit of {} bytes is too large",
                frame.data.len()
            )));
        }
        let picture = match self.decoder.decode(&frame.data) {
            Ok(Some(picture)) => picture,
            Ok(None) => return Ok(None),
            Err(e) => {
                return Err(CodecError::CorruptBitstream(format!(
                    "OpenH264 rejected the data: {e}"
                )));
            }
        };

        let (decoded_width, decoded_height) = picture.dimensions();
        let (Ok(decoded_width), Ok(decoded_height)) =
            (u32::try_from(decoded_width), u32::try_from(decoded_height))
        else {
            return Err(backend("decoding", "picture size out of range"));
        };
        let (width, height) = visible_size(frame, decoded_width, decoded_height);
        if width == 0 || height == 0 {
            return Ok(None);
        }

        let (y_stride, u_stride, v_stride) = picture.strides();
        let stride_u32 = |stride: usize| {
            u32::try_from(stride).map_err(|_| backend("decoding", "stride out of range"))
        };
        let source = YuvPlanarImage {
            y_plane: picture.y(),
            y_stride: stride_u32(y_stride)?,
            u_plane: picture.u(),
            u_stride: stride_u32(u_stride)?,
            v_plane: picture.v(),
            v_stride: stride_u32(v_stride)?,
            width,
            height,
        };
        let stride = width as usize * BGRA_BYTES;
        let mut data = vec![0; stride * height as usize];
        yuv::yuv420_to_bgra(&source, &mut data, stride_u32(stride)?, RANGE, MATRIX)
            .map_err(|e| backend("I420 to BGRA conversion", e))?;

        Ok(Some(DecodedFrame {
            width,
            height,
            stride,
            data,
            damage: frame.damage.clone(),
            captured_at: frame.captured_at,
            display: frame.display,
        }))
    }
}

/// The part of a decoded picture to show: the sender's stated size when it fits
/// (it is smaller only by the encoder's padding of odd sizes), else all of it.
fn visible_size(frame: &EncodedFrame, decoded_width: u32, decoded_height: u32) -> (u32, u32) {
    let fits =
        (1..=decoded_width).contains(&frame.width) && (1..=decoded_height).contains(&frame.height);
    if fits {
        (frame.width, frame.height)
    } else {
        tracing::debug!(
            stated = ?(frame.width, frame.height),
            decoded = ?(decoded_width, decoded_height),
            "frame size does not match the bitstream; showing the whole picture"
        );
        (decoded_width, decoded_height)
    }
}
