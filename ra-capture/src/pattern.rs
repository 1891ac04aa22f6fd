//! The synthetic test pattern: a small desktop with colour bars, a window full of
//! "text", a taskbar with a frame counter, and a box bouncing around.
//!
//! Everything is a pure function of (size, frame index, display), drawn as filled
//! rectangles, so any frame can be regenerated exactly and the capturer can redraw
//! only what changed between two frames.

use ra_core::media::{DisplayId, Rect};

/// Why [`render_pattern`] could not draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The stride is shorter than one row of the picture.
    #[error("stride {stride} is shorter than a row of {row_bytes} bytes")]
    StrideTooSmall {
        /// The stride given.
        stride: usize,
        /// Bytes in one row (`4 * width`).
        row_bytes: usize,
    },
    /// The buffer is shorter than the picture.
    #[error("buffer holds {actual} bytes, {needed} needed")]
    BufferTooSmall {
        /// Bytes needed (`stride * (height - 1) + 4 * width`).
        needed: usize,
        /// Bytes given.
        actual: usize,
    },
}

/// Draws frame `frame_index` of the pattern of `display` into `out`, a BGRA picture
/// of `width` × `height` with rows `stride` bytes apart (the last row may be only
/// `4 * width` bytes; bytes between rows are left alone).
///
/// [`crate::SyntheticCapturer`] delivers exactly these pixels: its n-th frame
/// (counting from 0, across `select` calls) is `render_pattern(.., n, display, ..)`.
///
/// Displays with an even id show the first variant of the pattern, odd ids the
/// second (other colours and box phase), and [`DisplayId::ALL`] shows both side by
/// side: the left `width / 2` columns as display 0, the rest as display 1.
///
/// # Errors
/// [`PatternError`] when `stride` or `out` is too small; nothing is drawn then.
pub fn render_pattern(
    width: u32,
    height: u32,
    frame_index: u64,
    display: DisplayId,
    out: &mut [u8],
    stride: usize,
) -> Result<(), PatternError> {
    check_buffer(width, height, out.len(), stride)?;
    render_area(
        width,
        height,
        frame_index,
        display,
        out,
        stride,
        Area::whole(width, height),
    );
    Ok(())
}

/// Checks that a `width` × `height` BGRA picture with rows `stride` bytes apart
/// fits in `available` bytes.
pub(crate) fn check_buffer(
    width: u32,
    height: u32,
    available: usize,
    stride: usize,
) -> Result<(), PatternError> {
    let row_bytes = width as usize * BYTES_PER_PIXEL;
    if stride < row_bytes {
        return Err(PatternError::StrideTooSmall { stride, row_bytes });
    }
    if width == 0 || height == 0 {
        return Ok(());
    }
    let needed = stride
        .checked_mul(height as usize - 1)
        .and_then(|rows| rows.checked_add(row_bytes))
        .unwrap_or(usize::MAX);
    if available < needed {
        return Err(PatternError::BufferTooSmall {
            needed,
            actual: available,
        });
    }
    Ok(())
}

/// Redraws the part `clip` of frame `frame_index` into `out` (already checked with
/// [`check_buffer`]).
pub(crate) fn render_area(
    width: u32,
    height: u32,
    frame_index: u64,
    display: DisplayId,
    out: &mut [u8],
    stride: usize,
    clip: Area,
) {
    for (panel, offset) in panels(width, height, display) {
        panel.paint(frame_index, &mut |area, color| {
            if let Some(visible) = area.shifted_right(offset).intersection(clip) {
                fill(out, stride, visible, color);
            }
        });
    }
}

/// The regions whose pixels differ between frames `previous` and `next` (both
/// included in the result's coverage; each region holds at least one change).
pub(crate) fn changed_areas(
    width: u32,
    height: u32,
    display: DisplayId,
    previous: u64,
    next: u64,
) -> Vec<Area> {
    let whole = Area::whole(width, height);
    let mut areas = Vec::new();
    for (panel, offset) in panels(width, height, display) {
        for area in panel.changes(previous, next) {
            if let Some(visible) = area.shifted_right(offset).intersection(whole) {
                areas.push(visible);
            }
        }
    }
    areas
}

const BYTES_PER_PIXEL: usize = 4;

/// A pixel in memory order B, G, R, A.
type Bgra = [u8; 4];

const fn rgb(r: u8, g: u8, b: u8) -> Bgra {
    [b, g, r, 255]
}

/// A half-open box of pixels `[x0, x1) × [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Area {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

impl Area {
    /// The box at (`x`, `y`) of `width` × `height`; saturates instead of overflowing.
    const fn new(x: u32, y: u32, width: u32, height: u32) -> Area {
        Area {
            x0: x,
            y0: y,
            x1: x.saturating_add(width),
            y1: y.saturating_add(height),
        }
    }

    /// All of a `width` × `height` picture.
    pub(crate) const fn whole(width: u32, height: u32) -> Area {
        Area::new(0, 0, width, height)
    }

    const fn is_empty(self) -> bool {
        self.x0 >= self.x1 || self.y0 >= self.y1
    }

    /// The common part, if it holds any pixel.
    fn intersection(self, other: Area) -> Option<Area> {
        let common = Area {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        };
        (!common.is_empty()).then_some(common)
    }

    /// The smallest box holding both.
    fn bounding(self, other: Area) -> Area {
        Area {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    fn shifted_right(self, dx: u32) -> Area {
        Area {
            x0: self.x0.saturating_add(dx),
            x1: self.x1.saturating_add(dx),
            ..self
        }
    }

    /// As a [`Rect`]; coordinates beyond `i32::MAX` saturate (pictures are far smaller).
    pub(crate) fn to_rect(self) -> Rect {
        Rect::new(
            i32::try_from(self.x0).unwrap_or(i32::MAX),
            i32::try_from(self.y0).unwrap_or(i32::MAX),
            self.x1.saturating_sub(self.x0),
            self.y1.saturating_sub(self.y0),
        )
    }
}

/// Paints `color` over `area` (inside the picture) of a checked buffer.
fn fill(out: &mut [u8], stride: usize, area: Area, color: Bgra) {
    let (x0, x1) = (
        area.x0 as usize * BYTES_PER_PIXEL,
        area.x1 as usize * BYTES_PER_PIXEL,
    );
    for y in area.y0 as usize..area.y1 as usize {
        let row_start = y * stride;
        // Always present for a checked buffer; `get_mut` keeps a caller's mistake
        // from becoming a panic.
        if let Some(span) = out.get_mut(row_start + x0..row_start + x1) {
            for pixel in span.chunks_exact_mut(BYTES_PER_PIXEL) {
                pixel.copy_from_slice(&color);
            }
        }
    }
}

/// The pattern(s) making up a picture of `display`, with their horizontal offsets.
fn panels(width: u32, height: u32, display: DisplayId) -> impl Iterator<Item = (Panel, u32)> {
    let (first, second) = if display == DisplayId::ALL {
        let left = width / 2;
        (
            (Panel::new(left, height, 0), 0),
            Some((Panel::new(width - left, height, 1), left)),
        )
    } else {
        // Bit 0 picks the variant, so display 0 and 1 differ.
        let variant = (display.0 & 1) as u8;
        ((Panel::new(width, height, variant), 0), None)
    };
    std::iter::once(first).chain(second)
}

/// Digits of the frame counter.
const COUNTER_DIGITS: u32 = 8;

/// Seven-segment masks for 0–9; bit 0 = top, then clockwise (top right, bottom
/// right, bottom, bottom left, top left), bit 6 = middle.
const SEGMENTS: [u8; 10] = [
    0b011_1111, 0b000_0110, 0b101_1011, 0b100_1111, 0b110_0110, 0b110_1101, 0b111_1101, 0b000_0111,
    0b111_1111, 0b110_1111,
];

/// One display's pattern at one size.
#[derive(Debug, Clone, Copy)]
struct Panel {
    width: u32,
    height: u32,
    /// 0 or 1: which colour scheme and box phase.
    variant: u8,
}

impl Panel {
    const fn new(width: u32, height: u32, variant: u8) -> Panel {
        Panel {
            width,
            height,
            variant,
        }
    }

    fn taskbar_height(self) -> u32 {
        self.height / 16
    }

    fn desktop_top(self) -> u32 {
        self.height / 4
    }

    /// Where the bouncing box is in frame `frame_index`.
    fn box_area(self, frame_index: u64) -> Area {
        let side = (self.width.min(self.height) / 8).max(1);
        let top = self.desktop_top();
        let span_x = self.width.saturating_sub(side);
        let span_y = self
            .height
            .saturating_sub(self.taskbar_height())
            .saturating_sub(top)
            .saturating_sub(side);
        // Speeds scale with the picture: 8 and 5 pixels per frame at 1280 × 720.
        let speed_x = (self.width / 160).max(1);
        let speed_y = (self.height / 144).max(1);
        let time = frame_index.wrapping_add(u64::from(self.variant) * 37);
        Area::new(
            triangle_wave(time, speed_x, span_x),
            top + triangle_wave(time, speed_y, span_y),
            side,
            side,
        )
    }

    /// Cell of counter digit `index` (0 = most significant).
    fn digit_cell(self, index: u32) -> Area {
        let bar = self.taskbar_height();
        let cell_height = bar * 3 / 4;
        let cell_width = cell_height * 3 / 5;
        let gap = (cell_width / 4).max(1);
        let total = COUNTER_DIGITS * cell_width + (COUNTER_DIGITS - 1) * gap;
        let left = self.width.saturating_sub(total + bar / 2);
        let top = self.height - bar + (bar - cell_height) / 2;
        Area::new(
            left + index * (cell_width + gap),
            top,
            cell_width,
            cell_height,
        )
    }

    /// Regions that differ between two frames of this panel.
    fn changes(self, previous: u64, next: u64) -> Vec<Area> {
        let mut areas = Vec::new();
        if previous == next {
            return areas;
        }
        let (old_box, new_box) = (self.box_area(previous), self.box_area(next));
        if old_box != new_box {
            if old_box.intersection(new_box).is_some() {
                areas.push(old_box.bounding(new_box));
            } else {
                areas.push(old_box);
                areas.push(new_box);
            }
        }
        for index in 0..COUNTER_DIGITS {
            let cell = self.digit_cell(index);
            if digit_is_drawn(cell) && counter_digit(previous, index) != counter_digit(next, index)
            {
                areas.push(cell);
            }
        }
        areas.retain(|area| !area.is_empty());
        areas
    }

    /// Calls `paint` for every rectangle of frame `frame_index`, bottom layer first.
    fn paint(self, frame_index: u64, paint: &mut impl FnMut(Area, Bgra)) {
        let (width, height) = (self.width, self.height);
        let second = self.variant == 1;

        // Desktop background.
        let desktop = if second {
            rgb(64, 32, 96)
        } else {
            rgb(0, 96, 128)
        };
        paint(Area::whole(width, height), desktop);

        // Colour bars across the top quarter (reversed on the second variant).
        const BARS: [Bgra; 8] = [
            rgb(235, 235, 235),
            rgb(235, 235, 16),
            rgb(16, 235, 235),
            rgb(16, 235, 16),
            rgb(235, 16, 235),
            rgb(235, 16, 16),
            rgb(16, 16, 235),
            rgb(16, 16, 16),
        ];
        for (index, &color) in BARS.iter().enumerate() {
            let slot = if second { 7 - index } else { index } as u64;
            let x0 = (u64::from(width) * slot / 8) as u32;
            let x1 = (u64::from(width) * (slot + 1) / 8) as u32;
            paint(Area::new(x0, 0, x1 - x0, self.desktop_top()), color);
        }

        self.paint_window(paint);

        // Taskbar and frame counter.
        let bar = self.taskbar_height();
        paint(Area::new(0, height - bar, width, bar), rgb(32, 32, 40));
        for index in 0..COUNTER_DIGITS {
            self.paint_digit(
                self.digit_cell(index),
                counter_digit(frame_index, index),
                paint,
            );
        }

        // The bouncing box: black frame, coloured fill, white centre.
        let moving = self.box_area(frame_index);
        let side = moving.x1 - moving.x0;
        paint(moving, rgb(0, 0, 0));
        let border = (side / 16).max(1);
        if side > 2 * border {
            let fill = if second {
                rgb(0, 200, 80)
            } else {
                rgb(255, 140, 0)
            };
            paint(
                Area::new(
                    moving.x0 + border,
                    moving.y0 + border,
                    side - 2 * border,
                    side - 2 * border,
                ),
                fill,
            );
            let centre = side / 4;
            paint(
                Area::new(
                    moving.x0 + (side - centre) / 2,
                    moving.y0 + (side - centre) / 2,
                    centre,
                    centre,
                ),
                rgb(255, 255, 255),
            );
        }
    }

    /// A static application window: title bar with buttons, lines of "words".
    fn paint_window(self, paint: &mut impl FnMut(Area, Bgra)) {
        let (width, height) = (self.width, self.height);
        let x = width / 16;
        let y = self.desktop_top() + height / 16;
        let window_width = width / 2;
        let window_height = (height / 2).saturating_sub(height / 16);
        if window_width == 0 || window_height == 0 {
            return;
        }
        let title_height = (height / 30).max(1).min(window_height);
        paint(
            Area::new(x, y, window_width, title_height),
            rgb(40, 70, 160),
        );
        let button = title_height * 2 / 3;
        let button_top = y + (title_height - button) / 2;
        for (slot, color) in [rgb(230, 60, 50), rgb(240, 190, 40), rgb(60, 190, 70)]
            .into_iter()
            .enumerate()
        {
            let right = (slot as u32 + 1) * (button + button / 2);
            paint(
                Area::new(
                    (x + window_width).saturating_sub(right),
                    button_top,
                    button,
                    button,
                ),
                color,
            );
        }
        let body_top = y + title_height;
        let body_bottom = y + window_height;
        paint(
            Area::new(x, body_top, window_width, body_bottom - body_top),
            rgb(245, 245, 245),
        );

        let line_pitch = (height / 45).max(3);
        let text_height = (line_pitch / 2).max(1);
        let margin = window_width / 20;
        let letter = (width / 200).max(1);
        let space = (width / 150).max(2);
        let text_right = x + window_width - margin;
        let mut line_top = body_top + line_pitch;
        let mut line = 0u32;
        while line_top + line_pitch <= body_bottom {
            let mut cursor = x + margin;
            for word in 0u32.. {
                let seed =
                    (u64::from(self.variant) << 63) | (u64::from(line) << 32) | u64::from(word);
                let letters = 2 + mix(seed) % 10;
                let word_width = letters as u32 * letter;
                if cursor + word_width > text_right {
                    break;
                }
                paint(
                    Area::new(cursor, line_top, word_width, text_height),
                    rgb(50, 50, 56),
                );
                cursor += word_width + space;
            }
            line_top += line_pitch;
            line += 1;
        }
    }

    /// A seven-segment `digit` in `cell`, over the taskbar colour.
    fn paint_digit(self, cell: Area, digit: u8, paint: &mut impl FnMut(Area, Bgra)) {
        if !digit_is_drawn(cell) {
            return;
        }
        let (width, height) = (cell.x1 - cell.x0, cell.y1 - cell.y0);
        let thick = (width / 5).max(1);
        let half = height / 2;
        let (x, y) = (cell.x0, cell.y0);
        let segments = [
            Area::new(x + thick, y, width - 2 * thick, thick),
            Area::new(
                x + width - thick,
                y + thick,
                thick,
                half.saturating_sub(thick),
            ),
            Area::new(
                x + width - thick,
                y + half,
                thick,
                (height - half).saturating_sub(thick),
            ),
            Area::new(x + thick, y + height - thick, width - 2 * thick, thick),
            Area::new(x, y + half, thick, (height - half).saturating_sub(thick)),
            Area::new(x, y + thick, thick, half.saturating_sub(thick)),
            Area::new(x + thick, y + half - thick / 2, width - 2 * thick, thick),
        ];
        let mask = SEGMENTS[usize::from(digit % 10)];
        for (bit, segment) in segments.into_iter().enumerate() {
            if mask & (1 << bit) != 0 {
                paint(segment, rgb(120, 255, 140));
            }
        }
    }
}

/// Whether a counter digit cell is large enough to draw segments in (tiny
/// pictures have no readable counter).
fn digit_is_drawn(cell: Area) -> bool {
    cell.x1 - cell.x0 >= 3 && cell.y1 - cell.y0 >= 5
}

/// Decimal digit `index` (0 = most significant) of the frame counter.
fn counter_digit(frame_index: u64, index: u32) -> u8 {
    let place = 10u64.pow(COUNTER_DIGITS - 1 - index);
    (frame_index / place % 10) as u8
}

/// Goes 0 → `span` → 0 at `speed` per unit of `time`.
fn triangle_wave(time: u64, speed: u32, span: u32) -> u32 {
    if span == 0 {
        return 0;
    }
    let period = 2 * u128::from(span);
    let phase = (u128::from(time) * u128::from(speed) % period) as u32;
    if phase <= span {
        phase
    } else {
        2 * span - phase
    }
}

/// A fixed pseudo-random number from `seed` (SplitMix64), for word lengths.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(width: u32, height: u32, index: u64, display: DisplayId) -> Vec<u8> {
        let mut out = vec![0; width as usize * height as usize * 4];
        render_pattern(width, height, index, display, &mut out, width as usize * 4).unwrap();
        out
    }

    #[test]
    fn tiny_and_odd_sizes_do_not_panic() {
        for (width, height) in [
            (1, 1),
            (2, 1),
            (1, 2),
            (3, 5),
            (17, 9),
            (64, 48),
            (641, 481),
        ] {
            for index in [0, 1, 99_999_999, u64::MAX] {
                for display in [DisplayId(0), DisplayId(1), DisplayId::ALL] {
                    let picture = render(width, height, index, display);
                    assert!(picture.chunks_exact(4).all(|p| p[3] == 255));
                    let _ = changed_areas(width, height, display, index, index.wrapping_add(1));
                }
            }
        }
        render_pattern(0, 0, 0, DisplayId(0), &mut [], 0).unwrap();
    }

    #[test]
    fn buffer_checks() {
        let mut out = vec![0; 100];
        assert_eq!(
            render_pattern(5, 5, 0, DisplayId(0), &mut out, 19),
            Err(PatternError::StrideTooSmall {
                stride: 19,
                row_bytes: 20
            })
        );
        assert_eq!(
            render_pattern(5, 6, 0, DisplayId(0), &mut out, 20),
            Err(PatternError::BufferTooSmall {
                needed: 120,
                actual: 100
            })
        );
        assert!(out.iter().all(|&b| b == 0), "nothing drawn on error");
        // The last row may be short, and padding between rows is left alone.
        let mut padded = vec![7; 24 * 4 + 20];
        render_pattern(5, 5, 0, DisplayId(0), &mut padded, 24).unwrap();
        assert_eq!(&padded[20..24], &[7, 7, 7, 7]);
    }

    #[test]
    fn counter_digits() {
        assert_eq!(
            (0..8)
                .map(|i| counter_digit(12_345_678, i))
                .collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(counter_digit(7, 7), 7);
        assert_eq!(counter_digit(7, 0), 0);
    }

    #[test]
    fn triangle_wave_bounces() {
        let positions: Vec<u32> = (0..8).map(|t| triangle_wave(t, 2, 5)).collect();
        assert_eq!(positions, vec![0, 2, 4, 4, 2, 0, 2, 4]);
        assert_eq!(
            triangle_wave(u64::MAX, u32::MAX, 3),
            triangle_wave(u64::MAX, u32::MAX, 3)
        );
    }

    #[test]
    fn displays_differ_and_all_is_side_by_side() {
        let (width, height) = (320, 180);
        let first = render(width, height, 5, DisplayId(0));
        let second = render(width, height, 5, DisplayId(1));
        assert_ne!(first, second);
        let both = render(2 * width, height, 5, DisplayId::ALL);
        let row = width as usize * 4;
        for y in 0..height as usize {
            let combined = &both[y * 2 * row..(y + 1) * 2 * row];
            assert_eq!(&combined[..row], &first[y * row..(y + 1) * row]);
            assert_eq!(&combined[row..], &second[y * row..(y + 1) * row]);
        }
    }
}
