//! Order statistics and units every bench uses.

use std::time::Duration;

/// A duration in milliseconds.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The nearest-rank percentile `p` (0–1) of `sorted`, which must be sorted
/// and not empty.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> T {
    let index = (p * sorted.len() as f64).ceil() as usize;
    sorted[index.clamp(1, sorted.len()) - 1]
}

/// The nearest-rank percentile `p` (0–1) of `samples`; `None` without samples.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(nearest_rank(&sorted, p))
}

/// The PSNR of the mean squared error of pictures given by their PSNRs
/// (an average of dB values would let one lossless frame, +∞, win).
pub fn psnr_of_mean(psnrs: &[f64]) -> Option<f64> {
    let valid: Vec<f64> = psnrs.iter().copied().filter(|p| !p.is_nan()).collect();
    if valid.is_empty() {
        return None;
    }
    let mse = valid
        .iter()
        .map(|db| 255.0 * 255.0 / 10f64.powf(db / 10.0))
        .sum::<f64>()
        / valid.len() as f64;
    Some(if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    })
}
