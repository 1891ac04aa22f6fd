//! The host's pointer, drawn over the picture. It travels apart from the video
//! (moving it costs the host no encoding), so the viewer blends the last shape
//! at the last position on every redraw.

use ra_core::media::{CursorShape, CursorUpdate};

use super::layout::Layout;
use super::scale::Canvas;

/// What the viewer knows about the host's pointer.
#[derive(Debug, Default)]
pub(crate) struct RemoteCursor {
    /// Hotspot in remote display coordinates.
    x: i32,
    y: i32,
    visible: bool,
    shape: Option<CursorShape>,
}

impl RemoteCursor {
    /// Takes a position/visibility change and, when present, a new shape.
    pub(crate) fn update(&mut self, update: CursorUpdate) {
        self.x = update.x;
        self.y = update.y;
        self.visible = update.visible;
        if let Some(shape) = update.shape {
            self.shape = Some(shape);
        }
    }

    /// The hotspot in remote coordinates, and whether the pointer is shown.
    pub(crate) fn position(&self) -> (i32, i32, bool) {
        (self.x, self.y, self.visible)
    }

    /// Blends the shape (premultiplied BGRA, drawn at its own size so it stays
    /// readable when the picture is scaled down) with its hotspot over the
    /// remote position, clipped to the picture.
    pub(crate) fn draw(&self, canvas: &mut Canvas<'_>, layout: &Layout) {
        let Some(shape) = self.shape.as_ref().filter(|_| self.visible) else {
            return;
        };
        let (hot_x, hot_y) = layout.to_window(self.x, self.y);
        let left = hot_x - i64::from(shape.hot_x);
        let top = hot_y - i64::from(shape.hot_y);
        let clip_x =
            i64::from(layout.x)..i64::from(layout.x + layout.width).min(canvas.width as i64);
        let clip_y =
            i64::from(layout.y)..i64::from(layout.y + layout.height).min(canvas.height as i64);
        let row_bytes = shape.width as usize * 4;
        if row_bytes == 0 {
            return;
        }
        for (sy, row) in shape
            .pixels
            .chunks_exact(row_bytes)
            .take(shape.height as usize)
            .enumerate()
        {
            let y = top + sy as i64;
            if !clip_y.contains(&y) {
                continue;
            }
            for (sx, source) in row.chunks_exact(4).enumerate() {
                let x = left + sx as i64;
                if !clip_x.contains(&x) {
                    continue;
                }
                // Inside the clip, so both are non-negative and in the canvas.
                let index = y as usize * canvas.width + x as usize;
                if let Some(pixel) = canvas.pixels.get_mut(index) {
                    *pixel = blend(*pixel, source);
                }
            }
        }
    }
}

/// `source` (premultiplied B, G, R, A) over the 0RGB `destination`.
fn blend(destination: u32, source: &[u8]) -> u32 {
    let alpha = u32::from(source[3]);
    let mut out = 0;
    for (channel, &over) in source.iter().take(3).enumerate() {
        let under = (destination >> (8 * channel)) & 0xFF;
        let over = u32::from(over);
        // Premultiplied: the source's share is in its colour already.
        let value = over + (under * (255 - alpha) + 127) / 255;
        out |= value.min(255) << (8 * channel);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_2x2() -> CursorShape {
        CursorShape {
            width: 2,
            height: 2,
            hot_x: 1,
            hot_y: 1,
            // Opaque red, transparent, half-transparent white, opaque blue.
            pixels: vec![
                0, 0, 255, 255, 0, 0, 0, 0, 128, 128, 128, 128, 255, 0, 0, 255,
            ],
        }
    }

    #[test]
    fn blends_premultiplied() {
        assert_eq!(blend(0x0012_3456, &[0, 0, 0, 0]), 0x0012_3456);
        assert_eq!(blend(0x0012_3456, &[1, 2, 3, 255]), 0x0003_0201);
        assert_eq!(blend(0x0000_0000, &[128, 128, 128, 128]), 0x0080_8080);
        assert_eq!(blend(0x00FF_FFFF, &[128, 128, 128, 128]), 0x00FF_FFFF);
    }

    #[test]
    fn drawn_at_the_hotspot_and_clipped() {
        let layout = Layout::fit(4, 4, 4, 4).unwrap();
        let mut pixels = [0u32; 16];
        let mut cursor = RemoteCursor::default();
        cursor.update(CursorUpdate {
            x: 2,
            y: 1,
            visible: true,
            shape: Some(shape_2x2()),
        });
        cursor.draw(
            &mut Canvas {
                pixels: &mut pixels,
                width: 4,
                height: 4,
            },
            &layout,
        );
        let mut expected = [0u32; 16];
        expected[1] = 0x00FF_0000;
        expected[4 + 1] = 0x0080_8080;
        expected[4 + 2] = 0x0000_00FF;
        assert_eq!(pixels, expected);

        // Hidden: nothing drawn. Moved to the corner: clipped, no panic.
        let mut pixels = [0u32; 16];
        cursor.update(CursorUpdate {
            x: 2,
            y: 1,
            visible: false,
            shape: None,
        });
        cursor.draw(
            &mut Canvas {
                pixels: &mut pixels,
                width: 4,
                height: 4,
            },
            &layout,
        );
        assert_eq!(pixels, [0; 16]);
        cursor.update(CursorUpdate {
            x: 0,
            y: 0,
            visible: true,
            shape: None,
        });
        cursor.draw(
            &mut Canvas {
                pixels: &mut pixels,
                width: 4,
                height: 4,
            },
            &layout,
        );
        assert_eq!(
            pixels[0], 0x0000_00FF,
            "only the bottom-right pixel is inside"
        );
        assert_eq!(pixels.iter().filter(|&&p| p != 0).count(), 1);
    }
}
