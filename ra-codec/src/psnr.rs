//! Picture quality measurement.

/// Luma peak signal-to-noise ratio (PSNR-Y) in dB between two BGRA pictures of
/// `width` × `height`, with rows `a_stride` and `b_stride` bytes apart.
///
/// Each visible pixel's luma is computed from its red, green and blue with the
/// BT.601 weights (0.299, 0.587, 0.114), exactly (no rounding), and the mean
/// squared luma difference is compared with the peak 255. Alpha and the bytes
/// between rows are ignored. Identical pictures give `f64::INFINITY`.
///
/// Luma is the usual measure of codec quality: it counts coding noise but not the
/// halving of colour resolution that every 4:2:0 codec performs (which alone costs
/// a picture of saturated 1-pixel details 35–40 dB in RGB PSNR). Colour mistakes
/// such as swapped channels or a wrong matrix still show, as they change brightness.
/// Around 35 dB and above, coding noise on a desktop picture is hard to see.
///
/// Returns `f64::NAN` (which fails any `>=` comparison) when the picture is empty,
/// a stride is shorter than `4 * width`, or a buffer is too short for the picture
/// (the last row may be only `4 * width` bytes).
pub fn psnr_bgra(
    a: &[u8],
    a_stride: usize,
    b: &[u8],
    b_stride: usize,
    width: u32,
    height: u32,
) -> f64 {
    let (width, height) = (width as usize, height as usize);
    let Some(row_bytes) = width.checked_mul(4) else {
        return f64::NAN;
    };
    let fits = |buffer: &[u8], stride: usize| {
        stride >= row_bytes
            && stride
                .checked_mul(height.saturating_sub(1))
                .and_then(|rows| rows.checked_add(row_bytes))
                .is_some_and(|needed| buffer.len() >= needed)
    };
    if width == 0 || height == 0 || !fits(a, a_stride) || !fits(b, b_stride) {
        return f64::NAN;
    }

    // Luma in thousandths, so the sums are exact integers (a squared difference is
    // at most 6.5e10; the u128 total cannot overflow).
    let luma_milli = |pixel: &[u8]| {
        114 * i64::from(pixel[0]) + 587 * i64::from(pixel[1]) + 299 * i64::from(pixel[2])
    };
    let mut squared_error: u128 = 0;
    for row in 0..height {
        let (Some(row_a), Some(row_b)) = (
            a.get(row * a_stride..row * a_stride + row_bytes),
            b.get(row * b_stride..row * b_stride + row_bytes),
        ) else {
            return f64::NAN;
        };
        for (pixel_a, pixel_b) in row_a.chunks_exact(4).zip(row_b.chunks_exact(4)) {
            let diff = luma_milli(pixel_a).abs_diff(luma_milli(pixel_b));
            squared_error += u128::from(diff * diff);
        }
    }
    if squared_error == 0 {
        return f64::INFINITY;
    }
    let mean_squared_error = squared_error as f64 / 1e6 / (width * height) as f64;
    10.0 * (255.0 * 255.0 / mean_squared_error).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_pictures_are_infinite() {
        let picture = vec![7u8; 4 * 3 * 2];
        assert_eq!(psnr_bgra(&picture, 12, &picture, 12, 3, 2), f64::INFINITY);
    }

    #[test]
    fn alpha_and_row_padding_are_ignored() {
        let a = [1, 2, 3, 0, 99, 99];
        let b = [1, 2, 3, 255];
        assert_eq!(psnr_bgra(&a, 6, &b, 4, 1, 1), f64::INFINITY);
    }

    #[test]
    fn colour_errors_count_by_their_brightness() {
        // Blue and red swapped in a pure blue pixel: luma 0.114·255 vs 0.299·255.
        let blue = [255, 0, 0, 255];
        let red = [0, 0, 255, 255];
        let expected = 10.0 * (1.0 / ((0.299f64 - 0.114) * (0.299 - 0.114))).log10();
        let psnr = psnr_bgra(&blue, 4, &red, 4, 1, 1);
        assert!((psnr - expected).abs() < 1e-9, "{psnr} vs {expected}");
    }

    #[test]
    fn known_error() {
        // Every channel off by 1 → luma off by 1 → MSE 1 → 20·log10(255) ≈ 48.13 dB.
        let a = vec![100u8; 16];
        let b = vec![101u8; 16];
        let psnr = psnr_bgra(&a, 8, &b, 8, 2, 2);
        assert!((psnr - 48.130_803_608).abs() < 1e-6, "{psnr}");
    }

    #[test]
    fn bad_geometry_is_nan() {
        let a = vec![0u8; 16];
        assert!(psnr_bgra(&a, 8, &a, 8, 0, 2).is_nan());
        assert!(psnr_bgra(&a, 7, &a, 8, 2, 2).is_nan());
        assert!(psnr_bgra(&a, 8, &a[..15], 8, 2, 2).is_nan());
        assert!(psnr_bgra(&a, usize::MAX, &a, 8, 2, 2).is_nan());
    }
}
