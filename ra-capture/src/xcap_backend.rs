//! [`XcapCapturer`]: the portable backend on the `xcap` crate (Windows,
//! macOS, Wayland and X11), for where no native backend exists.

use std::collections::HashMap;
use std::thread;
use std::time::{Duration, Instant};

use ra_core::media::{CaptureError, Capturer, DisplayId, DisplayInfo, Frame, Rect, Timestamp};
use xcap::Monitor;

/// A [`Capturer`] on `xcap`: every display xcap lists, and [`DisplayId::ALL`]
/// composed from them (at their positions, in the bounding box).
///
/// xcap cannot say what changed, so the capturer takes a picture at most
/// once per [poll interval](Self::set_poll_interval) while `next_frame`
/// waits, hashes every row, and returns a frame only when a row changed, with
/// the bounding box of the changes as its damage (the whole picture for the
/// first frame and after `select` or `invalidate`). A picture costs 30–40 ms
/// at 1080p on X11, so prefer the X11 backend where it exists.
///
/// Pixels are BGRA with opaque alpha. Ids are stable per display name for the
/// capturer's lifetime. The pointer is not tracked.
#[derive(Debug)]
pub struct XcapCapturer {
    ids: HashMap<String, DisplayId>,
    selected: DisplayId,
    poll_interval: Duration,
    next_poll: Option<Instant>,
    full_pending: bool,
    width: u32,
    height: u32,
    /// The last picture, BGRA, `4 * width` bytes per row.
    picture: Vec<u8>,
    /// The picture being assembled; swapped with `picture` after each poll.
    scratch: Vec<u8>,
    /// A hash of each row of `picture`.
    row_hashes: Vec<u64>,
    damage: Vec<Rect>,
    captured_at: Timestamp,
}

impl XcapCapturer {
    /// Default time between pictures while waiting for a change.
    pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(50);

    /// A capturer of the primary display (else the first listed).
    ///
    /// # Errors
    /// [`CaptureError::Backend`] when xcap lists no display or fails.
    pub fn new() -> Result<Self, CaptureError> {
        let mut capturer = XcapCapturer {
            ids: HashMap::new(),
            selected: DisplayId::ALL,
            poll_interval: Self::DEFAULT_POLL_INTERVAL,
            next_poll: None,
            full_pending: true,
            width: 0,
            height: 0,
            picture: Vec::new(),
            scratch: Vec::new(),
            row_hashes: Vec::new(),
            damage: Vec::new(),
            captured_at: Timestamp::default(),
        };
        let displays = capturer.list()?;
        let first = displays
            .iter()
            .find(|d| d.primary)
            .or(displays.first())
            .ok_or_else(|| backend("no display to capture"))?;
        capturer.selected = first.id;
        Ok(capturer)
    }

    /// Sets the time between pictures while waiting for a change (at least
    /// 1 ms).
    pub fn set_poll_interval(&mut self, interval: Duration) {
        self.poll_interval = interval.max(Duration::from_millis(1));
    }

    /// The display being captured.
    pub fn selected(&self) -> DisplayId {
        self.selected
    }

    /// xcap's monitors with their infos.
    fn monitors(&mut self) -> Result<Vec<(Monitor, DisplayInfo)>, CaptureError> {
        let monitors = Monitor::all().map_err(xcap_failed)?;
        let mut out = Vec::with_capacity(monitors.len());
        for monitor in monitors {
            let info = describe(&monitor, &mut self.ids)?;
            out.push((monitor, info));
        }
        Ok(out)
    }

    fn list(&mut self) -> Result<Vec<DisplayInfo>, CaptureError> {
        Ok(self.monitors()?.into_iter().map(|(_, info)| info).collect())
    }

    /// Takes a picture of the selected display(s) and updates the stored
    /// one; true when it changed (or a whole frame is due).
    fn poll(&mut self) -> Result<bool, CaptureError> {
        let monitors = self.monitors()?;
        let chosen: Vec<&(Monitor, DisplayInfo)> = monitors
            .iter()
            .filter(|(_, info)| self.selected == DisplayId::ALL || info.id == self.selected)
            .collect();
        if chosen.is_empty() {
            return Err(CaptureError::NoSuchDisplay(self.selected));
        }
        let mut images = Vec::with_capacity(chosen.len());
        for (monitor, info) in &chosen {
            images.push((monitor.capture_image().map_err(xcap_failed)?, info.bounds));
        }
        // One display: its picture. All: each at its offset in the bounding
        // box of all (HiDPI pictures larger than their bounds are clipped).
        let (origin_x, origin_y, width, height) = if let [(image, _)] = images.as_slice() {
            (0, 0, image.width(), image.height())
        } else {
            let bbox = images
                .iter()
                .map(|(_, b)| *b)
                .reduce(union)
                .unwrap_or_default();
            (bbox.x, bbox.y, bbox.width, bbox.height)
        };
        if (width, height) != (self.width, self.height) {
            self.width = width;
            self.height = height;
            self.picture = vec![0; width as usize * height as usize * 4];
            self.row_hashes = vec![0; height as usize];
            self.full_pending = true;
        }
        let mut next = std::mem::take(&mut self.scratch);
        next.resize(self.picture.len(), 0);
        if images.len() > 1 {
            // Gaps between displays stay black.
            next.fill(0);
        }
        for (image, bounds) in &images {
            let (dx, dy) = if images.len() == 1 {
                (0, 0)
            } else {
                (bounds.x - origin_x, bounds.y - origin_y)
            };
            blit_rgba_as_bgra(&mut next, width, image.as_raw(), image.width(), dx, dy);
        }
        let damage = self.update_rows(&next);
        self.scratch = std::mem::replace(&mut self.picture, next);
        let full = std::mem::take(&mut self.full_pending);
        self.damage = if full {
            vec![Rect::new(0, 0, width, height)]
        } else {
            damage.into_iter().collect()
        };
        Ok(!self.damage.is_empty())
    }

    /// Compares `next` with the stored picture by row hashes; the bounding
    /// box of what changed.
    fn update_rows(&mut self, next: &[u8]) -> Option<Rect> {
        let row = self.width as usize * 4;
        let (mut x0, mut x1, mut y0, mut y1) = (usize::MAX, 0, usize::MAX, 0);
        for (y, (new_row, hash)) in next.chunks_exact(row).zip(&mut self.row_hashes).enumerate() {
            let h = hash_row(new_row);
            if h == *hash {
                continue;
            }
            *hash = h;
            let old_row = &self.picture[y * row..(y + 1) * row];
            // Only changed rows are compared pixel by pixel, for the columns.
            let first = new_row
                .chunks_exact(4)
                .zip(old_row.chunks_exact(4))
                .position(|(a, b)| a != b);
            let last = new_row
                .chunks_exact(4)
                .zip(old_row.chunks_exact(4))
                .rposition(|(a, b)| a != b);
            if let (Some(first), Some(last)) = (first, last) {
                x0 = x0.min(first);
                x1 = x1.max(last + 1);
                y0 = y0.min(y);
                y1 = y + 1;
            }
        }
        (y0 != usize::MAX).then(|| {
            Rect::new(
                i32::try_from(x0).unwrap_or(0),
                i32::try_from(y0).unwrap_or(0),
                u32::try_from(x1 - x0).unwrap_or(0),
                u32::try_from(y1 - y0).unwrap_or(0),
            )
        })
    }
}

impl Capturer for XcapCapturer {
    fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError> {
        // Ids are recorded on `&mut self`; names not seen yet get here the
        // ids they will get then.
        let mut ids = self.ids.clone();
        Monitor::all()
            .map_err(xcap_failed)?
            .iter()
            .map(|m| describe(m, &mut ids))
            .collect()
    }

    fn select(&mut self, display: DisplayId) -> Result<(), CaptureError> {
        if display != DisplayId::ALL && !self.list()?.iter().any(|d| d.id == display) {
            return Err(CaptureError::NoSuchDisplay(display));
        }
        self.selected = display;
        self.full_pending = true;
        self.next_poll = None;
        Ok(())
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError> {
        let start = Instant::now();
        let deadline = start
            .checked_add(timeout)
            .unwrap_or(start + Duration::from_secs(86_400));
        let changed = loop {
            let now = Instant::now();
            let due = self.next_poll.is_none_or(|at| now >= at) || self.full_pending;
            if due {
                self.next_poll = Some(now + self.poll_interval);
                if self.poll()? {
                    break true;
                }
            }
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            // xcap offers nothing to wait on: sleep until the next picture.
            let wake = deadline.min(self.next_poll.unwrap_or(deadline));
            thread::sleep(wake.saturating_duration_since(now));
        };
        if !changed {
            return Ok(None);
        }
        self.captured_at = Timestamp::now();
        Ok(Some(Frame {
            width: self.width,
            height: self.height,
            stride: self.width as usize * 4,
            data: &self.picture,
            damage: std::mem::take(&mut self.damage),
            captured_at: self.captured_at,
            display: self.selected,
        }))
    }

    fn invalidate(&mut self) {
        self.full_pending = true;
    }
}

/// Copies an RGBA picture (`src_width` wide) into a BGRA one (`dst_width`
/// wide) at `dx`, `dy`, clipped to the destination.
fn blit_rgba_as_bgra(dst: &mut [u8], dst_width: u32, src: &[u8], src_width: u32, dx: i32, dy: i32) {
    let dst_row = dst_width as usize * 4;
    let src_row = src_width as usize * 4;
    if dst_row == 0 || src_row == 0 {
        return;
    }
    let dst_height = dst.len() / dst_row;
    for (sy, src_line) in src.chunks_exact(src_row).enumerate() {
        let Ok(y) = usize::try_from(i64::from(dy) + sy as i64) else {
            continue;
        };
        if y >= dst_height {
            break;
        }
        let Ok(x) = usize::try_from(dx) else {
            continue;
        };
        let line = &mut dst[y * dst_row..(y + 1) * dst_row];
        let Some(line) = line.get_mut(x * 4..) else {
            continue;
        };
        for (d, s) in line.chunks_exact_mut(4).zip(src_line.chunks_exact(4)) {
            d.copy_from_slice(&[s[2], s[1], s[0], s[3]]);
        }
    }
}

/// A fast, non-cryptographic 64-bit hash of a row (FNV-style over 8-byte
/// words): collisions between two versions of a row are vanishingly rare.
fn hash_row(row: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = row.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(b))
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(23);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `monitor` as a display, with an id stable per name.
fn describe(
    monitor: &Monitor,
    ids: &mut HashMap<String, DisplayId>,
) -> Result<DisplayInfo, CaptureError> {
    let name = monitor.name().map_err(xcap_failed)?;
    let next = DisplayId(u32::try_from(ids.len()).unwrap_or(u32::MAX - 1));
    let id = *ids.entry(name.clone()).or_insert(next);
    Ok(DisplayInfo {
        id,
        bounds: Rect::new(
            monitor.x().map_err(xcap_failed)?,
            monitor.y().map_err(xcap_failed)?,
            monitor.width().map_err(xcap_failed)?,
            monitor.height().map_err(xcap_failed)?,
        ),
        primary: monitor.is_primary().unwrap_or(false),
        name,
    })
}

fn union(a: Rect, b: Rect) -> Rect {
    let x0 = a.x.min(b.x);
    let y0 = a.y.min(b.y);
    let x1 = (i64::from(a.x) + i64::from(a.width)).max(i64::from(b.x) + i64::from(b.width));
    let y1 = (i64::from(a.y) + i64::from(a.height)).max(i64::from(b.y) + i64::from(b.height));
    Rect::new(
        x0,
        y0,
        u32::try_from(x1 - i64::from(x0)).unwrap_or(0),
        u32::try_from(y1 - i64::from(y0)).unwrap_or(0),
    )
}

fn backend(message: &str) -> CaptureError {
    CaptureError::Backend(format!("xcap: {message}").into())
}

fn xcap_failed(e: xcap::XCapError) -> CaptureError {
    backend(&e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_hash_differently_when_a_pixel_changes() {
        let a = vec![7u8; 4 * 33];
        let mut b = a.clone();
        b[4 * 31 + 2] = 8;
        assert_ne!(hash_row(&a), hash_row(&b));
        assert_eq!(hash_row(&a), hash_row(&a.clone()));
    }

    #[test]
    fn rgba_is_blitted_as_bgra_and_clipped() {
        let mut dst = vec![0u8; 3 * 2 * 4];
        let src = [1, 2, 3, 4, 5, 6, 7, 8];
        blit_rgba_as_bgra(&mut dst, 3, &src, 2, 2, 1);
        // Only the first source pixel fits, at (2, 1).
        assert_eq!(&dst[(3 + 2) * 4..], &[3, 2, 1, 4]);
        assert!(dst[..(3 + 2) * 4].iter().all(|&b| b == 0));
    }
}
