//! Where the remote picture goes in the window: scaled to fit with its aspect
//! ratio kept and centred between bars, and the mapping between window pixels
//! and the remote display's pixels (both ways).

/// The picture's place in the window, in physical window pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Left edge of the picture.
    pub(crate) x: u32,
    /// Top edge of the picture.
    pub(crate) y: u32,
    /// Width of the picture (≥ 1).
    pub(crate) width: u32,
    /// Height of the picture (≥ 1).
    pub(crate) height: u32,
    /// Width of the remote picture (≥ 1).
    pub(crate) source_width: u32,
    /// Height of the remote picture (≥ 1).
    pub(crate) source_height: u32,
}

impl Layout {
    /// The largest picture of the source's aspect ratio that fits the window,
    /// centred. `None` when either size is empty (a minimised window).
    pub(crate) fn fit(
        source_width: u32,
        source_height: u32,
        window_width: u32,
        window_height: u32,
    ) -> Option<Layout> {
        if source_width == 0 || source_height == 0 || window_width == 0 || window_height == 0 {
            return None;
        }
        let (sw, sh) = (u64::from(source_width), u64::from(source_height));
        let (ww, wh) = (u64::from(window_width), u64::from(window_height));
        // Compare the aspect ratios exactly (cross-multiplied) so a window of
        // the source's own shape gets no bars at all.
        let (width, height) = if ww * sh <= wh * sw {
            // Relatively taller window: full width, bars above and below.
            (ww, ((sh * ww + sw / 2) / sw).clamp(1, wh))
        } else {
            (((sw * wh + sh / 2) / sh).clamp(1, ww), wh)
        };
        // Both fit in u32: they are at most the window's sides.
        let (width, height) = (width as u32, height as u32);
        Some(Layout {
            x: (window_width - width) / 2,
            y: (window_height - height) / 2,
            width,
            height,
            source_width,
            source_height,
        })
    }

    /// The remote pixel under the window position (`x`, `y`), or `None` when
    /// the position is outside the picture (on a bar or outside the window).
    pub(crate) fn to_remote(self, x: f64, y: f64) -> Option<(i32, i32)> {
        let (px, py) = (x - f64::from(self.x), y - f64::from(self.y));
        let inside = (0.0..f64::from(self.width)).contains(&px)
            && (0.0..f64::from(self.height)).contains(&py);
        if !inside {
            return None;
        }
        let remote = |offset: f64, shown: u32, source: u32| {
            // Pointers report the pixel they are on: map its centre, so a
            // window pixel goes to the remote pixel that covers most of it.
            let value = ((offset + 0.5) * f64::from(source) / f64::from(shown)).floor();
            // In range by the check above; the clamp guards rounding at the edge.
            (value as i64).clamp(0, i64::from(source) - 1) as i32
        };
        Some((
            remote(px, self.width, self.source_width),
            remote(py, self.height, self.source_height),
        ))
    }

    /// Where the remote pixel edge (`x`, `y`) (the top-left corner of that
    /// pixel) falls in the window.
    pub(crate) fn edge_to_window(self, x: i32, y: i32) -> (i64, i64) {
        let window = |remote: i32, origin: u32, shown: u32, source: u32| {
            let scaled = i64::from(remote) * i64::from(shown);
            i64::from(origin) + scaled.div_euclid(i64::from(source))
        };
        (
            window(x, self.x, self.width, self.source_width),
            window(y, self.y, self.height, self.source_height),
        )
    }

    /// The window pixel showing the remote pixel (`x`, `y`) (its centre when
    /// one remote pixel covers several window pixels). May lie outside the
    /// picture for positions outside the remote display.
    pub(crate) fn to_window(self, x: i32, y: i32) -> (i64, i64) {
        let window = |remote: i32, origin: u32, shown: u32, source: u32| {
            let (shown, source) = (i64::from(shown), i64::from(source));
            let scaled = (2 * i64::from(remote) + 1) * shown;
            i64::from(origin) + scaled.div_euclid(2 * source)
        };
        (
            window(x, self.x, self.width, self.source_width),
            window(y, self.y, self.height, self.source_height),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_and_pillarbox() {
        // 16:9 into a taller window: bars above and below.
        let layout = Layout::fit(640, 360, 800, 500).unwrap();
        assert_eq!(
            (layout.x, layout.y, layout.width, layout.height),
            (0, 25, 800, 450)
        );
        // Into a wider window: bars left and right.
        let layout = Layout::fit(640, 360, 1000, 450).unwrap();
        assert_eq!(
            (layout.x, layout.y, layout.width, layout.height),
            (100, 0, 800, 450)
        );
        // Same shape: no bars, no scaling.
        let layout = Layout::fit(640, 360, 640, 360).unwrap();
        assert_eq!(
            (layout.x, layout.y, layout.width, layout.height),
            (0, 0, 640, 360)
        );
        assert_eq!(Layout::fit(0, 360, 640, 360), None);
        assert_eq!(Layout::fit(640, 360, 640, 0), None);
        // Extreme shapes keep at least one pixel.
        let layout = Layout::fit(8192, 1, 10, 10).unwrap();
        assert_eq!((layout.width, layout.height), (10, 1));
    }

    #[test]
    fn window_to_remote() {
        let layout = Layout::fit(640, 360, 800, 500).unwrap();
        assert_eq!(layout.to_remote(0.0, 25.0), Some((0, 0)));
        assert_eq!(layout.to_remote(200.0, 125.0), Some((160, 80)));
        assert_eq!(layout.to_remote(799.9, 474.9), Some((639, 359)));
        // On the bars, or outside the window.
        assert_eq!(layout.to_remote(10.0, 24.9), None);
        assert_eq!(layout.to_remote(10.0, 475.0), None);
        assert_eq!(layout.to_remote(-1.0, 100.0), None);
        assert_eq!(layout.to_remote(800.0, 100.0), None);
        assert_eq!(layout.to_remote(f64::NAN, 100.0), None);
    }

    #[test]
    fn remote_to_window_round_trips() {
        for (source, window) in [((640, 360), (800, 500)), ((1920, 1080), (640, 400))] {
            let layout = Layout::fit(source.0, source.1, window.0, window.1).unwrap();
            for (x, y) in [(0, 0), (17, 33), (source.0 as i32 - 1, source.1 as i32 - 1)] {
                let (wx, wy) = layout.to_window(x, y);
                let (rx, ry) = layout.to_remote(wx as f64, wy as f64).unwrap();
                // Downscaled pictures lose precision: one window pixel covers several.
                let step = (source.0 / layout.width).max(1) as i32;
                assert!(
                    (rx - x).abs() < step && (ry - y).abs() < step,
                    "{x},{y} -> {rx},{ry}"
                );
            }
        }
        let layout = Layout::fit(640, 360, 800, 500).unwrap();
        assert_eq!(layout.to_window(160, 80), (200, 125));
        assert_eq!(layout.to_window(-10, 0).0, -12);
    }
}
