//! Redaction masks: parts of the host's screen that never leave the
//! machine. The host declares rectangles in desktop coordinates (its
//! policy's `redact`, and at run time); the capture path paints them black
//! before the encoder sees a picture ([`blank`]), pointer and button input
//! inside them is dropped ([`covers`]), and the helper is told where they
//! are in its picture ([`to_picture`]) to draw them as such. Nothing here
//! does I/O.

use crate::media::Rect;

/// The most rectangles a mask holds (policy and run time together).
pub const MAX_REDACTIONS: usize = 64;

/// The most window classes a mask follows (policy and run time together).
pub const MAX_REDACTED_WINDOWS: usize = 16;

/// The longest window class, in characters.
pub const MAX_WINDOW_CLASS_CHARS: usize = 128;

/// Checks a list of window classes: at most [`MAX_REDACTED_WINDOWS`], each
/// 1 to [`MAX_WINDOW_CLASS_CHARS`] characters without control characters.
///
/// # Errors
/// What is wrong, in words.
pub fn check_window_classes(classes: &[String]) -> Result<(), &'static str> {
    if classes.len() > MAX_REDACTED_WINDOWS {
        return Err("too many window classes");
    }
    for class in classes {
        let chars = class.chars().count();
        if chars == 0 || chars > MAX_WINDOW_CLASS_CHARS {
            return Err("a window class is empty or too long");
        }
        if class.chars().any(crate::text::is_unsafe_char) {
            return Err("a window class contains a control character");
        }
    }
    Ok(())
}

/// What masked pixels become: opaque black (BGRA).
pub const MASK_PIXEL: [u8; 4] = [0, 0, 0, 0xFF];

/// Whether the desktop position (`x`, `y`) lies in one of `rects`.
pub fn covers(rects: &[Rect], x: i32, y: i32) -> bool {
    rects.iter().any(|r| {
        let (x, y) = (i64::from(x), i64::from(y));
        let (left, top) = (i64::from(r.x), i64::from(r.y));
        x >= left && y >= top && x < left + i64::from(r.width) && y < top + i64::from(r.height)
    })
}

/// `rects` (desktop coordinates) as rectangles of a picture of `picture`
/// pixels that shows the desktop's `area`: moved to the area's origin,
/// scaled when the picture's pixels are not the desktop's, grown to whole
/// pixels (a mask never shrinks by rounding) and clipped to the picture.
/// Rectangles outside the area are left out.
pub fn to_picture(rects: &[Rect], area: Rect, picture: (u32, u32)) -> Vec<Rect> {
    if area.is_empty() || picture.0 == 0 || picture.1 == 0 {
        return Vec::new();
    }
    let scale_down = |v: i64, desktop: u32, pixels: u32| -> i64 {
        (v * i64::from(pixels)).div_euclid(i64::from(desktop))
    };
    let scale_up = |v: i64, desktop: u32, pixels: u32| -> i64 {
        (v * i64::from(pixels) + i64::from(desktop) - 1).div_euclid(i64::from(desktop))
    };
    rects
        .iter()
        .filter(|r| !r.is_empty())
        .filter_map(|r| {
            let left = i64::from(r.x) - i64::from(area.x);
            let top = i64::from(r.y) - i64::from(area.y);
            let right = left + i64::from(r.width);
            let bottom = top + i64::from(r.height);
            let x0 = scale_down(left, area.width, picture.0).clamp(0, i64::from(picture.0));
            let y0 = scale_down(top, area.height, picture.1).clamp(0, i64::from(picture.1));
            let x1 = scale_up(right, area.width, picture.0).clamp(0, i64::from(picture.0));
            let y1 = scale_up(bottom, area.height, picture.1).clamp(0, i64::from(picture.1));
            (x1 > x0 && y1 > y0).then(|| {
                Rect::new(
                    i32::try_from(x0).unwrap_or(0),
                    i32::try_from(y0).unwrap_or(0),
                    u32::try_from(x1 - x0).unwrap_or(0),
                    u32::try_from(y1 - y0).unwrap_or(0),
                )
            })
        })
        .collect()
}

/// Paints `rects` (picture coordinates, as [`to_picture`] gives them)
/// [`MASK_PIXEL`] in a BGRA picture of `width` × `height` with rows
/// `stride` bytes apart. Parts outside the picture or the buffer are left
/// alone.
pub fn blank(data: &mut [u8], stride: usize, width: u32, height: u32, rects: &[Rect]) {
    for r in rects {
        let x0 = usize::try_from(r.x.max(0)).unwrap_or(0).min(width as usize);
        let y0 = usize::try_from(r.y.max(0))
            .unwrap_or(0)
            .min(height as usize);
        let x1 = (i64::from(r.x) + i64::from(r.width)).clamp(0, i64::from(width)) as usize;
        let y1 = (i64::from(r.y) + i64::from(r.height)).clamp(0, i64::from(height)) as usize;
        if x1 <= x0 {
            continue;
        }
        for row in y0..y1 {
            let start = row * stride + x0 * 4;
            let end = row * stride + x1 * 4;
            if let Some(pixels) = data.get_mut(start..end) {
                for pixel in pixels.chunks_exact_mut(4) {
                    pixel.copy_from_slice(&MASK_PIXEL);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_is_half_open() {
        let rects = [Rect::new(10, 20, 5, 5)];
        assert!(covers(&rects, 10, 20) && covers(&rects, 14, 24));
        assert!(!covers(&rects, 15, 20) && !covers(&rects, 10, 25) && !covers(&rects, 9, 20));
        assert!(!covers(&[], 0, 0));
    }

    #[test]
    fn desktop_rectangles_land_on_the_picture() {
        let area = Rect::new(1920, 0, 1280, 1024);
        // On the display, half outside it, and on another display.
        let rects = [
            Rect::new(2000, 100, 50, 40),
            Rect::new(1900, 1000, 100, 100),
            Rect::new(0, 0, 100, 100),
        ];
        assert_eq!(
            to_picture(&rects, area, (1280, 1024)),
            vec![Rect::new(80, 100, 50, 40), Rect::new(0, 1000, 80, 24)]
        );
        // A picture at twice the desktop's pixels: twice the size.
        assert_eq!(
            to_picture(&rects[..1], area, (2560, 2048)),
            vec![Rect::new(160, 200, 100, 80)]
        );
        // At a third: grown to whole pixels, never shrunk.
        assert_eq!(
            to_picture(&[Rect::new(1921, 1, 1, 1)], area, (427, 342)),
            vec![Rect::new(0, 0, 1, 1)]
        );
        assert!(to_picture(&rects, Rect::default(), (10, 10)).is_empty());
    }

    #[test]
    fn blank_paints_only_inside() {
        let (width, height, stride) = (4u32, 3u32, 20usize);
        let mut data = vec![7u8; stride * height as usize];
        blank(
            &mut data,
            stride,
            width,
            height,
            &[Rect::new(1, 1, 10, 10), Rect::new(-5, -5, 2, 2)],
        );
        for row in 0..height as usize {
            for col in 0..stride / 4 {
                let pixel = &data[row * stride + col * 4..row * stride + col * 4 + 4];
                let masked = row >= 1 && (1..width as usize).contains(&col);
                let expected = if masked { MASK_PIXEL } else { [7; 4] };
                assert_eq!(pixel, expected, "row {row} col {col}");
            }
        }
    }
}
