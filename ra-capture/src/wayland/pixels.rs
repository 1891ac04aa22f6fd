//! The pixel layouts the capturer accepts from PipeWire, and copying them
//! into the capturer's BGRA pictures.

use pipewire::spa::param::video::VideoFormat;
use ra_core::media::Rect;

/// A packed 32-bit RGB layout, named by its bytes in memory (PipeWire's
/// convention for these formats): `Bgrx` is blue, green, red, padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    Bgrx,
    Bgra,
    Rgbx,
    Rgba,
    Xrgb,
    Argb,
    Xbgr,
    Abgr,
}

impl Layout {
    /// Every layout, the preferred first: BGRx and BGRA are copied row by
    /// row as they are; the others are reordered pixel by pixel.
    pub(super) const ALL: [Layout; 8] = [
        Layout::Bgrx,
        Layout::Bgra,
        Layout::Rgbx,
        Layout::Rgba,
        Layout::Xrgb,
        Layout::Argb,
        Layout::Xbgr,
        Layout::Abgr,
    ];

    /// The layout of a PipeWire video format, `None` when not accepted.
    pub(super) fn from_spa(format: VideoFormat) -> Option<Self> {
        Layout::ALL.into_iter().find(|l| l.to_spa() == format)
    }

    /// The PipeWire video format.
    pub(super) fn to_spa(self) -> VideoFormat {
        match self {
            Layout::Bgrx => VideoFormat::BGRx,
            Layout::Bgra => VideoFormat::BGRA,
            Layout::Rgbx => VideoFormat::RGBx,
            Layout::Rgba => VideoFormat::RGBA,
            Layout::Xrgb => VideoFormat::xRGB,
            Layout::Argb => VideoFormat::ARGB,
            Layout::Xbgr => VideoFormat::xBGR,
            Layout::Abgr => VideoFormat::ABGR,
        }
    }

    /// Where blue, green and red are in a pixel, and alpha (`None`: padding).
    fn order(self) -> ([usize; 3], Option<usize>) {
        match self {
            Layout::Bgrx => ([0, 1, 2], None),
            Layout::Bgra => ([0, 1, 2], Some(3)),
            Layout::Rgbx => ([2, 1, 0], None),
            Layout::Rgba => ([2, 1, 0], Some(3)),
            Layout::Xrgb => ([3, 2, 1], None),
            Layout::Argb => ([3, 2, 1], Some(0)),
            Layout::Xbgr => ([1, 2, 3], None),
            Layout::Abgr => ([1, 2, 3], Some(0)),
        }
    }

    /// Whether pixels are already in BGRA order (copied as they are).
    pub(super) fn is_bgr(self) -> bool {
        matches!(self, Layout::Bgrx | Layout::Bgra)
    }
}

/// A borrowed picture of `width` × `height` 4-byte pixels, rows `stride`
/// bytes apart, starting at `offset`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Source<'a> {
    pub(super) data: &'a [u8],
    pub(super) offset: usize,
    pub(super) stride: usize,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) layout: Layout,
}

impl<'a> Source<'a> {
    /// A source over `data`, `None` when the rows do not fit in it.
    pub(super) fn new(
        data: &'a [u8],
        offset: usize,
        stride: usize,
        (width, height): (u32, u32),
        layout: Layout,
    ) -> Option<Self> {
        let row = width as usize * 4;
        if width == 0 || height == 0 || stride < row {
            return None;
        }
        let end = offset
            .checked_add(stride.checked_mul(height as usize - 1)?)?
            .checked_add(row)?;
        (end <= data.len()).then_some(Source {
            data,
            offset,
            stride,
            width,
            height,
            layout,
        })
    }

    /// The bytes of row `y` from column `x`, `len` pixels.
    fn row(&self, x: usize, y: usize, len: usize) -> &[u8] {
        let start = self.offset + y * self.stride + x * 4;
        &self.data[start..start + len * 4]
    }
}

/// Copies `rect` (inside both pictures) from `source` into `dst` (BGRA,
/// rows `dst_stride` bytes apart), reordering the bytes as needed.
pub(super) fn copy_rect(source: &Source<'_>, dst: &mut [u8], dst_stride: usize, rect: Rect) {
    let (x, width) = (rect.x.max(0) as usize, rect.width as usize);
    let top = rect.y.max(0) as usize;
    let (colours, alpha) = source.layout.order();
    for y in top..top + rect.height as usize {
        let src = source.row(x, y, width);
        let start = y * dst_stride + x * 4;
        let out = &mut dst[start..start + width * 4];
        if source.layout.is_bgr() {
            out.copy_from_slice(src);
            continue;
        }
        for (to, from) in out.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
            to[0] = from[colours[0]];
            to[1] = from[colours[1]];
            to[2] = from[colours[2]];
            to[3] = alpha.map_or(255, |a| from[a]);
        }
    }
}

/// Height (and width) of the tiles compared by [`changed_rects`].
const TILE: usize = 64;

/// The parts of `source` that differ from `picture` (BGRA, same size,
/// rows `4 × width` apart), for buffers that carry no damage: one rectangle
/// per band of [`TILE`] rows spanning its changed tiles, bands with the same
/// span merged. Only for BGR layouts (compared byte for byte).
///
/// Row by row, not tile by tile: an unchanged row is one comparison of
/// contiguous memory (the common case, and the one that sets the cost: the
/// whole picture is read), and only a row that differs is looked at tile by
/// tile.
pub(super) fn changed_rects(source: &Source<'_>, picture: &[u8]) -> Vec<Rect> {
    let (width, height) = (source.width as usize, source.height as usize);
    let stride = width * 4;
    let tiles = width.div_ceil(TILE);
    let mut rects: Vec<Rect> = Vec::new();
    let mut changed = vec![false; tiles];
    for top in (0..height).step_by(TILE) {
        let bottom = (top + TILE).min(height);
        changed.fill(false);
        for y in top..bottom {
            let row = &picture[y * stride..(y + 1) * stride];
            if source.row(0, y, width) == row {
                continue;
            }
            for (tile, seen) in changed.iter_mut().enumerate().filter(|(_, seen)| !**seen) {
                let left = tile * TILE;
                let len = TILE.min(width - left);
                *seen = source.row(left, y, len) != &row[left * 4..(left + len) * 4];
            }
        }
        let (Some(first), Some(last)) = (
            changed.iter().position(|c| *c),
            changed.iter().rposition(|c| *c),
        ) else {
            continue;
        };
        let (left, right) = (first * TILE, ((last + 1) * TILE).min(width));
        let band = Rect::new(
            left as i32,
            top as i32,
            (right - left) as u32,
            (bottom - top) as u32,
        );
        match rects.last_mut() {
            Some(above)
                if above.x == band.x
                    && above.width == band.width
                    && above.y + above.height as i32 == band.y =>
            {
                above.height += band.height;
            }
            _ => rects.push(band),
        }
    }
    rects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_becomes_bgra() {
        // One pixel: blue 1, green 2, red 3, alpha 4 in each layout's order.
        let cases: [(Layout, [u8; 4], [u8; 4]); 8] = [
            (Layout::Bgrx, [1, 2, 3, 9], [1, 2, 3, 9]),
            (Layout::Bgra, [1, 2, 3, 4], [1, 2, 3, 4]),
            (Layout::Rgbx, [3, 2, 1, 9], [1, 2, 3, 255]),
            (Layout::Rgba, [3, 2, 1, 4], [1, 2, 3, 4]),
            (Layout::Xrgb, [9, 3, 2, 1], [1, 2, 3, 255]),
            (Layout::Argb, [4, 3, 2, 1], [1, 2, 3, 4]),
            (Layout::Xbgr, [9, 1, 2, 3], [1, 2, 3, 255]),
            (Layout::Abgr, [4, 1, 2, 3], [1, 2, 3, 4]),
        ];
        for (layout, pixel, want) in cases {
            assert_eq!(Layout::from_spa(layout.to_spa()), Some(layout));
            // A 1x2 source with 4 bytes of row padding at offset 2.
            let mut data = vec![0u8; 2];
            data.extend_from_slice(&pixel);
            data.extend_from_slice(&[0; 4]);
            data.extend_from_slice(&pixel);
            let source = Source::new(&data, 2, 8, (1, 2), layout).unwrap();
            let mut out = vec![0u8; 8];
            copy_rect(&source, &mut out, 4, Rect::new(0, 0, 1, 2));
            assert_eq!(&out[..4], &want, "{layout:?}");
            assert_eq!(&out[4..], &want, "{layout:?}");
        }
        assert_eq!(Layout::from_spa(VideoFormat::I420), None);
    }

    #[test]
    fn sources_must_fit() {
        let data = [0u8; 100];
        assert!(Source::new(&data, 0, 40, (10, 2), Layout::Bgrx).is_some());
        assert!(Source::new(&data, 21, 40, (10, 2), Layout::Bgrx).is_none());
        assert!(Source::new(&data, 0, 39, (10, 2), Layout::Bgrx).is_none());
        assert!(Source::new(&data, 0, 40, (0, 2), Layout::Bgrx).is_none());
    }

    #[test]
    fn changes_are_found_by_tile() {
        let (width, height) = (200usize, 150usize);
        let picture = vec![0u8; width * height * 4];
        let mut data = picture.clone();
        assert!(
            changed_rects(
                &Source::new(&data, 0, width * 4, (200, 150), Layout::Bgrx).unwrap(),
                &picture
            )
            .is_empty()
        );
        // Pixels (70, 10) and (130, 100): tiles 1 of band 0, 2 of bands 1-2.
        data[(10 * width + 70) * 4] = 1;
        data[(100 * width + 130) * 4] = 1;
        let source = Source::new(&data, 0, width * 4, (200, 150), Layout::Bgrx).unwrap();
        assert_eq!(
            changed_rects(&source, &picture),
            vec![Rect::new(64, 0, 64, 64), Rect::new(128, 64, 64, 64)]
        );
        // A change in the last, narrower tile and band.
        data[(149 * width + 199) * 4 + 2] = 1;
        let source = Source::new(&data, 0, width * 4, (200, 150), Layout::Bgrx).unwrap();
        assert_eq!(
            changed_rects(&source, &picture).last(),
            Some(&Rect::new(192, 128, 8, 22))
        );
    }
}
