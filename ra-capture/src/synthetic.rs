//! [`SyntheticCapturer`]: the test pattern as a paced capture source.

use std::thread;
use std::time::{Duration, Instant};

use ra_core::media::{CaptureError, Capturer, DisplayId, DisplayInfo, Frame, Rect, Timestamp};

use crate::pattern::{Area, changed_areas, render_area};

/// Size and pace of a [`SyntheticCapturer`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticConfig {
    /// Width of each fake display in pixels, clamped to 1–[`Self::MAX_SIDE`].
    /// Default 1280.
    pub width: u32,
    /// Height of each fake display in pixels, clamped to 1–[`Self::MAX_SIDE`].
    /// Default 720.
    pub height: u32,
    /// Frames per second, clamped to 0.01–1000 (not finite: the default). Default 30.
    pub frame_rate: f64,
}

impl SyntheticConfig {
    /// Largest display side accepted (larger values are clamped to it).
    pub const MAX_SIDE: u32 = 8192;
    const MIN_FRAME_RATE: f64 = 0.01;
    const MAX_FRAME_RATE: f64 = 1000.0;

    /// The configuration with every field inside its documented range.
    fn clamped(self) -> Self {
        let frame_rate = if self.frame_rate.is_finite() {
            self.frame_rate
                .clamp(Self::MIN_FRAME_RATE, Self::MAX_FRAME_RATE)
        } else {
            SyntheticConfig::default().frame_rate
        };
        SyntheticConfig {
            width: self.width.clamp(1, Self::MAX_SIDE),
            height: self.height.clamp(1, Self::MAX_SIDE),
            frame_rate,
        }
    }
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            width: 1280,
            height: 720,
            frame_rate: 30.0,
        }
    }
}

/// The first fake display: primary, at the origin.
const PRIMARY: DisplayId = DisplayId(0);
/// The second fake display, to the right of the first.
const SECONDARY: DisplayId = DisplayId(1);

/// A [`Capturer`] showing a moving, desktop-like test pattern (see
/// [`crate::render_pattern`]) on two fake displays of the configured size:
/// `"synthetic-0"` (id 0, primary, at 0,0) and `"synthetic-1"` (id 1, to its right).
/// [`DisplayId::ALL`] captures both side by side.
///
/// Frames are numbered from 0 in delivery order, across `select` calls; frame n
/// is exactly `render_pattern(width, height, n, display, ..)`, and
/// [`SyntheticCapturer::last_frame_index`] says which n was delivered last.
///
/// Every frame differs from the one before (the counter and the box move), so
/// `next_frame` delivers one frame per tick of the frame rate. Its damage lists
/// exactly the regions that changed since the previous frame (the box's old and new
/// places, the counter digits that changed), or the whole picture for the first
/// frame and after `select` or `invalidate`. Only those regions are redrawn.
#[derive(Debug)]
pub struct SyntheticCapturer {
    config: SyntheticConfig,
    /// Time between frames.
    period: Duration,
    /// The display being captured.
    selected: DisplayId,
    /// The picture delivered last (or being prepared), tightly packed BGRA.
    picture: Vec<u8>,
    /// Index of the frame in `picture`, if it holds a whole frame of `selected`.
    picture_index: Option<u64>,
    /// Index the next delivered frame gets.
    next_index: u64,
    /// When the next frame is due; `None` before the first one (due at once).
    next_due: Option<Instant>,
    /// `invalidate` was called: the next damage is the whole picture.
    whole_damage_pending: bool,
}

impl Default for SyntheticCapturer {
    fn default() -> Self {
        SyntheticCapturer::new(SyntheticConfig::default())
    }
}

impl SyntheticCapturer {
    /// A capturer of `config` (clamped to its documented ranges), capturing the
    /// primary display.
    pub fn new(config: SyntheticConfig) -> Self {
        let config = config.clamped();
        SyntheticCapturer {
            config,
            period: Duration::from_secs_f64(1.0 / config.frame_rate),
            selected: PRIMARY,
            picture: Vec::new(),
            picture_index: None,
            next_index: 0,
            next_due: None,
            whole_damage_pending: false,
        }
    }

    /// The configuration in force (after clamping).
    pub fn config(&self) -> SyntheticConfig {
        self.config
    }

    /// The display being captured.
    pub fn selected(&self) -> DisplayId {
        self.selected
    }

    /// Index of the frame `next_frame` returned last, for [`crate::render_pattern`];
    /// `None` before the first frame.
    pub fn last_frame_index(&self) -> Option<u64> {
        self.next_index.checked_sub(1)
    }

    /// Size of the picture of the selected display.
    fn picture_size(&self) -> (u32, u32) {
        let SyntheticConfig { width, height, .. } = self.config;
        if self.selected == DisplayId::ALL {
            (2 * width, height)
        } else {
            (width, height)
        }
    }

    /// Brings `picture` to frame `index` and returns the regions that changed.
    fn prepare(&mut self, index: u64) -> Vec<Rect> {
        let (width, height) = self.picture_size();
        let stride = width as usize * 4;
        let whole = Area::whole(width, height);
        let areas = match self.picture_index {
            Some(previous) => changed_areas(width, height, self.selected, previous, index),
            None => {
                self.picture.clear();
                self.picture.resize(stride * height as usize, 0);
                vec![whole]
            }
        };
        for &area in &areas {
            render_area(
                width,
                height,
                index,
                self.selected,
                &mut self.picture,
                stride,
                area,
            );
        }
        self.picture_index = Some(index);
        if std::mem::take(&mut self.whole_damage_pending) {
            // The pixels are current already; only the report covers everything.
            vec![whole.to_rect()]
        } else {
            areas.into_iter().map(Area::to_rect).collect()
        }
    }
}

impl Capturer for SyntheticCapturer {
    fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError> {
        let SyntheticConfig { width, height, .. } = self.config;
        // MAX_SIDE keeps the second display's x inside i32.
        let second_x = i32::try_from(width).unwrap_or(i32::MAX);
        Ok(vec![
            DisplayInfo {
                id: PRIMARY,
                name: "synthetic-0".to_owned(),
                bounds: Rect::new(0, 0, width, height),
                primary: true,
            },
            DisplayInfo {
                id: SECONDARY,
                name: "synthetic-1".to_owned(),
                bounds: Rect::new(second_x, 0, width, height),
                primary: false,
            },
        ])
    }

    fn select(&mut self, display: DisplayId) -> Result<(), CaptureError> {
        if ![PRIMARY, SECONDARY, DisplayId::ALL].contains(&display) {
            return Err(CaptureError::NoSuchDisplay(display));
        }
        self.selected = display;
        self.picture_index = None;
        Ok(())
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError> {
        let now = Instant::now();
        let due = self.next_due.unwrap_or(now);
        if let Some(wait) = due.checked_duration_since(now) {
            if wait > timeout {
                // Nothing changes before the timeout: wait it out, as a real
                // capturer would, so callers' loops do not spin.
                thread::sleep(timeout);
                return Ok(None);
            }
            thread::sleep(wait);
        }

        let index = self.next_index;
        let damage = self.prepare(index);
        self.next_index = index.wrapping_add(1);
        let delivered = Instant::now();
        // Keep the cadence when slightly late; after falling more than a period
        // behind, restart it from now instead of delivering a burst.
        let next_due = due + self.period;
        self.next_due = Some(if next_due <= delivered {
            delivered + self.period
        } else {
            next_due
        });

        let (width, height) = self.picture_size();
        Ok(Some(Frame {
            width,
            height,
            stride: width as usize * 4,
            data: &self.picture,
            damage,
            captured_at: Timestamp::now(),
            display: self.selected,
        }))
    }

    fn invalidate(&mut self) {
        self.whole_damage_pending = true;
    }
}
