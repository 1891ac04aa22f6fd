//! The parts of the host's picture it masks (its redaction mask), drawn as
//! such: grey diagonal stripes over the black the host sent, so that the
//! person helping sees "hidden by the host", not a black window.

use ra_core::media::Rect;

use super::layout::Layout;
use super::scale::Canvas;

/// The stripes' colour (0RGB).
pub(crate) const STRIPE: u32 = 0x0050_5050;

/// How wide a stripe is, in window pixels.
const STRIPE_WIDTH: i64 = 8;

/// Draws `areas` (pixels of the host's picture) over the picture in `canvas`.
pub(crate) fn draw(canvas: &mut Canvas<'_>, layout: &Layout, areas: &[Rect]) {
    let clip_x = i64::from(layout.x)..i64::from(layout.x + layout.width).min(canvas.width as i64);
    let clip_y = i64::from(layout.y)..i64::from(layout.y + layout.height).min(canvas.height as i64);
    for area in areas {
        let (left, top) = layout.edge_to_window(area.x, area.y);
        let right_edge = area.x.saturating_add_unsigned(area.width);
        let bottom_edge = area.y.saturating_add_unsigned(area.height);
        let (right, bottom) = layout.edge_to_window(right_edge, bottom_edge);
        for y in top.max(clip_y.start)..bottom.min(clip_y.end) {
            for x in left.max(clip_x.start)..right.min(clip_x.end) {
                if (x + y).div_euclid(STRIPE_WIDTH) % 2 == 0 {
                    // Inside the clip, so both are non-negative and in the canvas.
                    canvas.pixels[y as usize * canvas.width + x as usize] = STRIPE;
                }
            }
        }
    }
}
