//! Frame geometry checks and the BGRA → I420 picture the encoder reads.

use openh264::formats::YUVSource;
use ra_core::media::CodecError;
use yuv::{BufferStoreMut, YuvConversionMode, YuvPlanarImageMut, YuvRange, YuvStandardMatrix};

use crate::error::backend;
use crate::{MAX_LONG_SIDE, MAX_SHORT_SIDE};

/// Matrix used in both directions; BT.601 because it is what H.264 decoders assume
/// when the stream does not say otherwise.
pub(crate) const MATRIX: YuvStandardMatrix = YuvStandardMatrix::Bt601;
/// Range used in both directions (16–235 luma), for the same reason.
pub(crate) const RANGE: YuvRange = YuvRange::Limited;

/// Bytes per BGRA pixel.
pub(crate) const BGRA_BYTES: usize = 4;

/// Checks that a BGRA picture of `width` × `height` with rows `stride` bytes apart
/// fits in `available` bytes and can be encoded.
///
/// The last row only needs `4 * width` bytes, as [`ra_core::media::Frame`] allows.
///
/// # Errors
/// [`CodecError::UnsupportedSize`] for an empty picture, one beyond
/// [`MAX_LONG_SIDE`] × [`MAX_SHORT_SIDE`], or a stride beyond `u32::MAX`;
/// [`CodecError::BufferTooSmall`] when the stride is shorter than a row (then
/// `needed` is the row length and `actual` the stride) or the buffer is shorter than
/// the picture.
pub(crate) fn check_bgra_layout(
    width: u32,
    height: u32,
    stride: usize,
    available: usize,
) -> Result<(), CodecError> {
    let unsupported = CodecError::UnsupportedSize { width, height };
    let (long_side, short_side) = (width.max(height), width.min(height));
    if width == 0 || height == 0 || long_side > MAX_LONG_SIDE || short_side > MAX_SHORT_SIDE {
        return Err(unsupported);
    }
    // The colour converter takes the stride as u32.
    if u32::try_from(stride).is_err() {
        return Err(unsupported);
    }
    // Cannot overflow: width ≤ MAX_LONG_SIDE.
    let row_bytes = width as usize * BGRA_BYTES;
    if stride < row_bytes {
        return Err(CodecError::BufferTooSmall {
            needed: row_bytes,
            actual: stride,
        });
    }
    let needed = stride
        .checked_mul(height as usize - 1)
        .and_then(|rows| rows.checked_add(row_bytes))
        .unwrap_or(usize::MAX);
    if available < needed {
        return Err(CodecError::BufferTooSmall {
            needed,
            actual: available,
        });
    }
    Ok(())
}

/// Smallest width and height OpenH264 encodes.
const MIN_SIDE: u32 = 16;

/// The size a picture is encoded at: odd dimensions grow by one, because 4:2:0
/// chroma covers 2 × 2 pixel blocks, and anything below 16 grows to 16, OpenH264's
/// minimum. The extra columns/rows repeat the last one.
pub(crate) fn padded_size(width: u32, height: u32) -> (u32, u32) {
    let pad = |side: u32| (side + (side & 1)).max(MIN_SIDE);
    (pad(width), pad(height))
}

/// Copies the last of the first `filled_width` columns of a plane (rows `stride`
/// apart) into the columns after it, and the last of its first `filled_height`
/// rows into the rows below.
fn replicate_edges(plane: &mut [u8], stride: usize, filled_width: usize, filled_height: usize) {
    if filled_width == 0 || filled_height == 0 || stride == 0 {
        return;
    }
    if filled_width < stride {
        for row in plane.chunks_exact_mut(stride).take(filled_height) {
            let edge = row[filled_width - 1];
            row[filled_width..].fill(edge);
        }
    }
    let (filled, below) = plane.split_at_mut((filled_height * stride).min(plane.len()));
    if let Some(last_row) = filled.chunks_exact(stride).last() {
        for row in below.chunks_exact_mut(stride) {
            row.copy_from_slice(last_row);
        }
    }
}

/// An I420 picture (Y plane, then U, then V, no row padding) reused from frame to
/// frame so the encoder does not allocate per frame.
#[derive(Debug, Default)]
pub(crate) struct I420Picture {
    planes: Vec<u8>,
    /// Reused copy of the last row or two of frames with a short last row.
    tail: Vec<u8>,
    /// Even width of the planes.
    width: usize,
    /// Even height of the planes.
    height: usize,
}

impl I420Picture {
    fn luma_len(&self) -> usize {
        self.width * self.height
    }

    fn chroma_len(&self) -> usize {
        (self.width / 2) * (self.height / 2)
    }

    /// Converts a BGRA picture (already checked by [`check_bgra_layout`]) into this
    /// one, resizing it to the picture's [`padded_size`] first; reallocation only
    /// happens when the size changes.
    pub(crate) fn fill_from_bgra(
        &mut self,
        bgra: &[u8],
        stride: usize,
        width: u32,
        height: u32,
    ) -> Result<(), CodecError> {
        let (padded_width, padded_height) = padded_size(width, height);
        let (padded_width, padded_height) = (padded_width as usize, padded_height as usize);
        if (self.width, self.height) != (padded_width, padded_height) {
            self.width = padded_width;
            self.height = padded_height;
            self.planes.clear();
            self.planes
                .resize(self.luma_len() + 2 * self.chroma_len(), 0);
        }

        let luma_len = self.luma_len();
        let chroma_len = self.chroma_len();
        let (luma, chroma) = self.planes.split_at_mut(luma_len);
        let (u_plane, v_plane) = chroma.split_at_mut(chroma_len);
        let planes = Planes {
            luma,
            u: u_plane,
            v: v_plane,
            luma_stride: padded_width,
            chroma_stride: padded_width / 2,
        };

        // yuv 0.8 walks the BGRA rows in pairs of whole strides, so a frame whose
        // last row is shorter than the stride (as `Frame` allows) would lose its last
        // pair of rows. Such frames are converted in two parts: all but the last
        // row or two in place, the rest from a tightly packed copy.
        let rows = height as usize;
        let whole_rows_present = stride.checked_mul(rows).is_some_and(|n| bgra.len() >= n);
        let tail_rows = match (whole_rows_present, rows % 2) {
            (true, _) => 0,
            (false, 0) => 2,
            (false, _) => 1,
        };
        let body_rows = rows - tail_rows;
        let too_small = || CodecError::BufferTooSmall {
            needed: stride.saturating_mul(rows),
            actual: bgra.len(),
        };
        let planes = if body_rows > 0 {
            let body = bgra.get(..stride * body_rows).ok_or_else(too_small)?;
            planes.convert_rows(body, stride, width, body_rows)?
        } else {
            planes
        };
        if tail_rows > 0 {
            let row_bytes = width as usize * BGRA_BYTES;
            self.tail.clear();
            for row in body_rows..rows {
                let start = row * stride;
                let pixels = bgra.get(start..start + row_bytes).ok_or_else(too_small)?;
                self.tail.extend_from_slice(pixels);
            }
            planes.convert_rows(&self.tail, row_bytes, width, tail_rows)?;
        }

        // Fill the padding by repeating the last column and row of each plane,
        // which costs the fewest bits and keeps the picture's edge clean.
        let (width, height) = (width as usize, height as usize);
        let (luma, chroma) = self.planes.split_at_mut(luma_len);
        replicate_edges(luma, padded_width, width, height);
        for plane in chroma.chunks_exact_mut(chroma_len) {
            replicate_edges(
                plane,
                padded_width / 2,
                width.div_ceil(2),
                height.div_ceil(2),
            );
        }
        Ok(())
    }
}

/// The parts of an [`I420Picture`]'s planes not converted yet, from some row on.
struct Planes<'a> {
    luma: &'a mut [u8],
    u: &'a mut [u8],
    v: &'a mut [u8],
    luma_stride: usize,
    chroma_stride: usize,
}

impl<'a> Planes<'a> {
    /// Converts `rows` BGRA rows (`stride` bytes apart, every row complete; an even
    /// count unless these are the picture's last rows) into the top of the planes
    /// and returns the planes below them.
    fn convert_rows(
        self,
        bgra: &[u8],
        stride: usize,
        width: u32,
        rows: usize,
    ) -> Result<Planes<'a>, CodecError> {
        let chroma_rows = rows.div_ceil(2);
        let luma_split = (self.luma_stride * rows).min(self.luma.len());
        let chroma_split = (self.chroma_stride * chroma_rows).min(self.u.len());
        let (luma, luma_rest) = self.luma.split_at_mut(luma_split);
        let (u, u_rest) = self.u.split_at_mut(chroma_split);
        let (v, v_rest) = self.v.split_at_mut(chroma_split);
        let as_u32 = |n: usize| {
            u32::try_from(n).map_err(|_| backend("BGRA to I420 conversion", "size out of range"))
        };
        let (Ok(height), Ok(stride_u32)) = (as_u32(rows), as_u32(stride)) else {
            return Err(backend("BGRA to I420 conversion", "size out of range"));
        };
        // The planes are cut to exactly these rows because the converter derives the
        // row count from the plane lengths. It sees the visible width and writes
        // ceil(width / 2) chroma columns, i.e. all of the padded chroma planes; only
        // the luma padding column is left to the caller.
        let mut target = YuvPlanarImageMut {
            y_plane: BufferStoreMut::Borrowed(luma),
            y_stride: as_u32(self.luma_stride)?,
            u_plane: BufferStoreMut::Borrowed(u),
            u_stride: as_u32(self.chroma_stride)?,
            v_plane: BufferStoreMut::Borrowed(v),
            v_stride: as_u32(self.chroma_stride)?,
            width,
            height,
        };
        yuv::bgra_to_yuv420(
            &mut target,
            bgra,
            stride_u32,
            RANGE,
            MATRIX,
            YuvConversionMode::Balanced,
        )
        .map_err(|e| backend("BGRA to I420 conversion", e))?;
        Ok(Planes {
            luma: luma_rest,
            u: u_rest,
            v: v_rest,
            ..self
        })
    }
}

impl YUVSource for I420Picture {
    fn dimensions(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    fn strides(&self) -> (usize, usize, usize) {
        (self.width, self.width / 2, self.width / 2)
    }

    fn y(&self) -> &[u8] {
        &self.planes[..self.luma_len()]
    }

    fn u(&self) -> &[u8] {
        let start = self.luma_len();
        &self.planes[start..start + self.chroma_len()]
    }

    fn v(&self) -> &[u8] {
        &self.planes[self.luma_len() + self.chroma_len()..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_sizes() {
        assert_eq!(padded_size(1920, 1080), (1920, 1080));
        assert_eq!(padded_size(641, 481), (642, 482));
        assert_eq!(padded_size(1, 3840), (16, 3840));
        assert_eq!(padded_size(17, 15), (18, 16));
    }

    #[test]
    fn padding_replicates_the_edge() {
        // 2 × 2 filled in a 4 × 3 plane.
        let mut plane = vec![1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0];
        replicate_edges(&mut plane, 4, 2, 2);
        assert_eq!(plane, vec![1, 2, 2, 2, 3, 4, 4, 4, 3, 4, 4, 4]);
    }

    #[test]
    fn short_last_row_converts_like_a_full_one() {
        let (width, height) = (6u32, 4u32);
        let stride = 40;
        let mut full = vec![0u8; stride * height as usize];
        for (i, byte) in full.iter_mut().enumerate() {
            *byte = (i * 37 % 251) as u8;
        }
        let short = &full[..stride * (height as usize - 1) + 4 * width as usize];
        let (mut a, mut b) = (I420Picture::default(), I420Picture::default());
        a.fill_from_bgra(&full, stride, width, height).unwrap();
        b.fill_from_bgra(short, stride, width, height).unwrap();
        assert_eq!(a.planes, b.planes);
        // Odd height too.
        let short_odd = &full[..stride * 2 + 4 * width as usize];
        a.fill_from_bgra(&full[..stride * 3], stride, width, 3)
            .unwrap();
        b.fill_from_bgra(short_odd, stride, width, 3).unwrap();
        assert_eq!(a.planes, b.planes);
    }

    #[test]
    fn layout_checks() {
        assert!(check_bgra_layout(4, 2, 16, 32).is_ok());
        // Last row may be short.
        assert!(check_bgra_layout(4, 2, 20, 36).is_ok());
        assert!(matches!(
            check_bgra_layout(4, 2, 20, 35),
            Err(CodecError::BufferTooSmall {
                needed: 36,
                actual: 35
            })
        ));
        assert!(matches!(
            check_bgra_layout(4, 2, 15, 1000),
            Err(CodecError::BufferTooSmall {
                needed: 16,
                actual: 15
            })
        ));
        assert!(matches!(
            check_bgra_layout(0, 2, 16, 1000),
            Err(CodecError::UnsupportedSize { .. })
        ));
        assert!(matches!(
            check_bgra_layout(3842, 100, 4 * 3842, usize::MAX),
            Err(CodecError::UnsupportedSize { .. })
        ));
        assert!(check_bgra_layout(2160, 3840, 4 * 2160, 4 * 2160 * 3840).is_ok());
        assert!(matches!(
            check_bgra_layout(2162, 2162, 4 * 2162, usize::MAX),
            Err(CodecError::UnsupportedSize { .. })
        ));
        assert!(matches!(
            check_bgra_layout(4, 3, usize::MAX / 2, usize::MAX),
            Err(CodecError::UnsupportedSize { .. })
        ));
    }

    #[test]
    fn odd_picture_is_padded_by_repeating_the_edge() {
        // 3 × 3 picture, each pixel a different grey.
        let mut bgra = Vec::new();
        for i in 0..9u8 {
            let grey = 20 * i + 40;
            bgra.extend_from_slice(&[grey, grey, grey, 255]);
        }
        let mut picture = I420Picture::default();
        picture.fill_from_bgra(&bgra, 12, 3, 3).unwrap();
        assert_eq!(picture.dimensions(), (16, 16), "OpenH264's minimum");
        let y = picture.y();
        for row in 0..3 {
            assert!(y[row * 16] < y[row * 16 + 1], "luma follows the greys");
            assert!(
                y[row * 16 + 3..row * 16 + 16]
                    .iter()
                    .all(|&v| v == y[row * 16 + 2])
            );
        }
        for row in 3..16 {
            assert_eq!(&y[row * 16..row * 16 + 16], &y[32..48]);
        }
        assert_eq!(picture.u().len(), 64);
        assert_eq!(picture.v().len(), 64);
        // Grey has neutral chroma everywhere, padding included.
        assert!(picture.u().iter().chain(picture.v()).all(|&c| c == 128));
    }
}
