//! Drawing the remote BGRA picture into the window's 0RGB pixels, scaled
//! bilinearly (fixed point, with tables computed once per size), plus the bars
//! around it.

use super::layout::Layout;

/// Colour of the bars around the picture and of the window before the first
/// frame (0RGB).
pub(crate) const BACKGROUND: u32 = 0x0020_2020;

/// Fraction bits of the interpolation weights.
const FRACTION_BITS: u32 = 8;
/// Weight 1.0.
const ONE: u32 = 1 << FRACTION_BITS;

/// The window's pixels: 0RGB, `width` per row, rows packed.
pub(crate) struct Canvas<'a> {
    /// The pixels, at least `width * height`.
    pub(crate) pixels: &'a mut [u32],
    /// Pixels per row.
    pub(crate) width: usize,
    /// Rows.
    pub(crate) height: usize,
}

/// A BGRA picture with its row stride in bytes.
#[derive(Clone, Copy)]
pub(crate) struct Picture<'a> {
    /// The pixels, B, G, R, A.
    pub(crate) data: &'a [u8],
    /// Bytes from one row to the next.
    pub(crate) stride: usize,
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
}

impl Picture<'_> {
    /// Whether the buffer holds every row the size and stride promise (the
    /// last row may be just `4 * width` bytes).
    fn is_complete(&self) -> bool {
        let row = self.width as usize * 4;
        self.width > 0
            && self.height > 0
            && self.stride >= row
            && self
                .stride
                .checked_mul(self.height as usize - 1)
                .and_then(|rows| rows.checked_add(row))
                .is_some_and(|needed| self.data.len() >= needed)
    }

    /// Row `y`, `4 * width` bytes (callers pass `y < height` of a complete picture).
    fn row(&self, y: usize) -> &[u8] {
        let start = y * self.stride;
        self.data
            .get(start..start + self.width as usize * 4)
            .unwrap_or_default()
    }
}

/// Where one output pixel samples the source along one axis: between source
/// pixels `first` and `second`, `weight` (of `ONE`) towards `second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tap {
    first: usize,
    second: usize,
    weight: u32,
}

/// The taps of `target` output pixels over `source` source pixels, with pixel
/// centres aligned (output centre t + ½ samples source position
/// (t + ½) · source / target − ½), clamped at the edges.
fn taps(source: u32, target: u32) -> Vec<Tap> {
    let ratio = f64::from(source) / f64::from(target);
    let last = source.saturating_sub(1) as usize;
    (0..target)
        .map(|t| {
            let position = ((f64::from(t) + 0.5) * ratio - 0.5).max(0.0);
            let first = (position.floor() as usize).min(last);
            let fraction = (position - first as f64).clamp(0.0, 1.0);
            Tap {
                first,
                second: (first + 1).min(last),
                weight: (fraction * f64::from(ONE)).round() as u32,
            }
        })
        .collect()
}

/// Scales pictures of one size to one target size.
#[derive(Debug)]
pub(crate) struct Scaler {
    source: (u32, u32),
    target: (u32, u32),
    columns: Vec<Tap>,
    rows: Vec<Tap>,
}

impl Scaler {
    /// A scaler from `source` to `target` (width, height; both non-empty).
    pub(crate) fn new(source: (u32, u32), target: (u32, u32)) -> Scaler {
        Scaler {
            source,
            target,
            columns: taps(source.0, target.0),
            rows: taps(source.1, target.1),
        }
    }

    /// Whether this scaler was made for these sizes.
    pub(crate) fn fits(&self, source: (u32, u32), target: (u32, u32)) -> bool {
        self.source == source && self.target == target
    }

    /// Draws `picture` into `canvas` at the layout's place and size. Returns
    /// false (drawing nothing) when the picture is not of the scaler's source
    /// size, is incomplete, or the place is outside the canvas.
    pub(crate) fn draw(
        &self,
        picture: Picture<'_>,
        canvas: &mut Canvas<'_>,
        layout: &Layout,
    ) -> bool {
        let (x, y) = (layout.x as usize, layout.y as usize);
        let (width, height) = (self.target.0 as usize, self.target.1 as usize);
        if (picture.width, picture.height) != self.source
            || (layout.width, layout.height) != self.target
            || !picture.is_complete()
            || x + width > canvas.width
            || y + height > canvas.height
            || canvas.pixels.len() < canvas.width * canvas.height
        {
            return false;
        }
        for (row, tap) in self.rows.iter().enumerate() {
            let start = (y + row) * canvas.width + x;
            let Some(out) = canvas.pixels.get_mut(start..start + width) else {
                return false;
            };
            if self.source == self.target {
                copy_row(picture.row(row), out);
            } else {
                self.scale_row(
                    picture.row(tap.first),
                    picture.row(tap.second),
                    tap.weight,
                    out,
                );
            }
        }
        true
    }

    /// One output row from two source rows, `weight` towards `bottom`.
    fn scale_row(&self, top: &[u8], bottom: &[u8], weight: u32, out: &mut [u32]) {
        let (wy1, wy0) = (weight, ONE - weight);
        for (pixel, tap) in out.iter_mut().zip(&self.columns) {
            let (a, b) = (tap.first * 4, tap.second * 4);
            let (wx1, wx0) = (tap.weight, ONE - tap.weight);
            let (Some(ta), Some(tb), Some(ba), Some(bb)) = (
                top.get(a..a + 3),
                top.get(b..b + 3),
                bottom.get(a..a + 3),
                bottom.get(b..b + 3),
            ) else {
                continue;
            };
            let mut value = 0;
            // Channels in memory order B, G, R land in bits 0, 8 and 16 of 0RGB.
            for channel in 0..3 {
                let upper = u32::from(ta[channel]) * wx0 + u32::from(tb[channel]) * wx1;
                let lower = u32::from(ba[channel]) * wx0 + u32::from(bb[channel]) * wx1;
                let mixed = (upper * wy0 + lower * wy1 + (1 << (2 * FRACTION_BITS - 1)))
                    >> (2 * FRACTION_BITS);
                value |= mixed.min(255) << (8 * channel);
            }
            *pixel = value;
        }
    }
}

/// A BGRA row into 0RGB pixels unchanged (little-endian BGRA is 0xAARRGGBB).
fn copy_row(source: &[u8], out: &mut [u32]) {
    for (pixel, bgra) in out.iter_mut().zip(source.chunks_exact(4)) {
        *pixel = u32::from_le_bytes([bgra[0], bgra[1], bgra[2], 0]);
    }
}

/// Paints everything of the canvas outside the picture with `color`.
pub(crate) fn fill_bars(canvas: &mut Canvas<'_>, layout: &Layout, color: u32) {
    let (x0, y0) = (layout.x as usize, layout.y as usize);
    let (x1, y1) = (x0 + layout.width as usize, y0 + layout.height as usize);
    for (y, row) in canvas
        .pixels
        .chunks_exact_mut(canvas.width.max(1))
        .take(canvas.height)
        .enumerate()
    {
        if y < y0 || y >= y1 {
            row.fill(color);
        } else {
            let (left, rest) = row.split_at_mut(x0.min(row.len()));
            left.fill(color);
            if let Some(right) = rest.get_mut(x1 - x0..) {
                right.fill(color);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canvas_of(pixels: &mut [u32], width: usize) -> Canvas<'_> {
        let height = pixels.len() / width;
        Canvas {
            pixels,
            width,
            height,
        }
    }

    #[test]
    fn taps_align_centres() {
        // Upscaling ×2: output pixels straddle source pixels at ¼ and ¾.
        let t = taps(2, 4);
        assert_eq!((t[0].first, t[0].weight), (0, 0));
        assert_eq!((t[1].first, t[1].second, t[1].weight), (0, 1, ONE / 4));
        assert_eq!((t[2].first, t[2].weight), (0, 3 * ONE / 4));
        assert_eq!((t[3].first, t[3].second), (1, 1));
        // Same size: exact pixels.
        assert!(
            taps(5, 5)
                .iter()
                .enumerate()
                .all(|(i, t)| t.first == i && t.weight == 0)
        );
        // Downscaling ×2: each output pixel is the mean of two.
        let t = taps(4, 2);
        assert_eq!((t[0].first, t[0].second, t[0].weight), (0, 1, ONE / 2));
        assert_eq!((t[1].first, t[1].second, t[1].weight), (2, 3, ONE / 2));
    }

    #[test]
    fn unscaled_copy_keeps_colours() {
        // One blue, one green, one red, one grey pixel, with row padding.
        let data = [
            255, 0, 0, 255, 0, 255, 0, 255, 9, 9, 0, 0, 0, 0, 255, 255, 7, 7, 7, 255, 9, 9, 9, 9,
        ];
        let picture = Picture {
            data: &data,
            stride: 12,
            width: 2,
            height: 2,
        };
        let layout = Layout::fit(2, 2, 2, 2).unwrap();
        let mut pixels = [0u32; 4];
        let scaler = Scaler::new((2, 2), (2, 2));
        assert!(scaler.draw(picture, &mut canvas_of(&mut pixels, 2), &layout));
        assert_eq!(pixels, [0x0000_00FF, 0x0000_FF00, 0x00FF_0000, 0x0007_0707]);
    }

    #[test]
    fn scaled_into_place_with_bars() {
        // A 2×1 picture (black, white) into a 4×4 window: 4×2 at y = 1.
        let data = [0, 0, 0, 255, 255, 255, 255, 255];
        let picture = Picture {
            data: &data,
            stride: 8,
            width: 2,
            height: 1,
        };
        let layout = Layout::fit(2, 1, 4, 4).unwrap();
        assert_eq!(
            (layout.x, layout.y, layout.width, layout.height),
            (0, 1, 4, 2)
        );
        let mut pixels = [1u32; 16];
        let mut canvas = canvas_of(&mut pixels, 4);
        fill_bars(&mut canvas, &layout, BACKGROUND);
        assert!(Scaler::new((2, 1), (4, 2)).draw(picture, &mut canvas, &layout));
        let grey = |v: u32| v << 16 | v << 8 | v;
        let row = [grey(0), grey(64), grey(191), grey(255)];
        assert_eq!(&pixels[..4], &[BACKGROUND; 4]);
        assert_eq!(&pixels[4..8], &row);
        assert_eq!(&pixels[8..12], &row);
        assert_eq!(&pixels[12..], &[BACKGROUND; 4]);
    }

    #[test]
    fn pillarbox_bars() {
        let layout = Layout::fit(1, 1, 4, 2).unwrap();
        assert_eq!((layout.x, layout.width), (1, 2));
        let mut pixels = [1u32; 8];
        fill_bars(&mut canvas_of(&mut pixels, 4), &layout, 0);
        assert_eq!(pixels, [0, 1, 1, 0, 0, 1, 1, 0]);
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let data = [0u8; 15];
        let picture = Picture {
            data: &data,
            stride: 8,
            width: 2,
            height: 2,
        };
        let layout = Layout::fit(2, 2, 2, 2).unwrap();
        let mut pixels = [0u32; 4];
        let scaler = Scaler::new((2, 2), (2, 2));
        assert!(
            !scaler.draw(picture, &mut canvas_of(&mut pixels, 2), &layout),
            "short buffer"
        );
        let data = [0u8; 16];
        let picture = Picture {
            data: &data,
            stride: 8,
            width: 2,
            height: 2,
        };
        let mut small = [0u32; 2];
        assert!(
            !scaler.draw(picture, &mut canvas_of(&mut small, 2), &layout),
            "small canvas"
        );
        assert!(!Scaler::new((3, 2), (2, 2)).draw(
            picture,
            &mut canvas_of(&mut pixels, 2),
            &layout
        ));
    }
}
