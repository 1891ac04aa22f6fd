//! The pointer: position by `QueryPointer`, shape by XFixes.

use std::time::{Duration, Instant};

use ra_core::media::{CaptureError, CursorShape, CursorUpdate, Rect};
use x11rb::connection::Connection;
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, Window};

use super::error::{failed, lost};

/// How often the pointer position is polled while waiting for damage: about
/// once per frame of a 60 Hz display, so motion reaches the helper smoothly.
pub(super) const POLL_INTERVAL: Duration = Duration::from_millis(16);

/// What the capturer knows about the pointer.
#[derive(Debug)]
pub(super) struct CursorTracker {
    /// The shape changed (or was never read) and is to be sent.
    shape_stale: bool,
    /// A shape change arrived that `next_frame` has not yet returned early for.
    shape_signal: bool,
    /// Serial of the last shape read, to skip no-op notifications.
    serial: Option<u32>,
    /// Root position at the last poll; `None` when on another screen.
    polled: Option<(i32, i32)>,
    /// When the pointer is polled next.
    next_poll: Instant,
    /// What `cursor()` reported last: position in the area and visibility.
    reported: Option<(i32, i32, bool)>,
}

impl CursorTracker {
    /// Starts tracking on `root`: asks XFixes for shape notifications.
    pub(super) fn new<C: Connection>(conn: &C, root: Window) -> Result<Self, CaptureError> {
        conn.xfixes_select_cursor_input(root, xfixes::CursorNotifyMask::DISPLAY_CURSOR)
            .map_err(lost)?;
        let polled = query(conn, root)?;
        Ok(CursorTracker {
            shape_stale: true,
            shape_signal: false,
            serial: None,
            polled,
            next_poll: Instant::now() + POLL_INTERVAL,
            reported: None,
        })
    }

    /// An XFixes `CursorNotify` arrived.
    pub(super) fn shape_changed(&mut self, serial: u32) {
        if self.serial != Some(serial) {
            self.shape_stale = true;
            self.shape_signal = true;
        }
    }

    /// Whether a shape change is waiting to be announced (once).
    pub(super) fn take_shape_signal(&mut self) -> bool {
        std::mem::take(&mut self.shape_signal)
    }

    /// When the pointer is due to be polled.
    pub(super) fn next_poll(&self) -> Instant {
        self.next_poll
    }

    /// Polls the pointer if due; true when it moved since the last poll.
    pub(super) fn poll_moved<C: Connection>(
        &mut self,
        conn: &C,
        root: Window,
        now: Instant,
    ) -> Result<bool, CaptureError> {
        if now < self.next_poll {
            return Ok(false);
        }
        self.next_poll = now + POLL_INTERVAL;
        let position = query(conn, root)?;
        let moved = position != self.polled;
        self.polled = position;
        Ok(moved)
    }

    /// The changes since the last report, relative to `area` (root
    /// coordinates of the captured display).
    pub(super) fn update<C: Connection>(
        &mut self,
        conn: &C,
        root: Window,
        area: Rect,
    ) -> Result<Option<CursorUpdate>, CaptureError> {
        let mut shape = None;
        if self.shape_stale {
            self.shape_stale = false;
            self.shape_signal = false;
            let image = conn
                .xfixes_get_cursor_image()
                .map_err(lost)?
                .reply()
                .map_err(failed("xfixes get_cursor_image"))?;
            self.serial = Some(image.cursor_serial);
            shape = to_shape(&image);
            if shape.is_none() {
                tracing::debug!(
                    width = image.width,
                    height = image.height,
                    "cursor shape not sent (empty or larger than the maximum)"
                );
            }
        }
        self.polled = query(conn, root)?;
        let (x, y, visible) = match self.polled {
            Some((x, y)) => {
                let inside = i64::from(x) >= i64::from(area.x)
                    && i64::from(y) >= i64::from(area.y)
                    && i64::from(x) < i64::from(area.x) + i64::from(area.width)
                    && i64::from(y) < i64::from(area.y) + i64::from(area.height);
                (x.saturating_sub(area.x), y.saturating_sub(area.y), inside)
            }
            None => (0, 0, false),
        };
        let now = (x, y, visible);
        if shape.is_none() && self.reported == Some(now) {
            return Ok(None);
        }
        self.reported = Some(now);
        Ok(Some(CursorUpdate {
            x,
            y,
            visible,
            shape,
        }))
    }

    /// Forgets what was reported, so the next update repeats position and
    /// shape (after the captured display changed).
    pub(super) fn reset(&mut self) {
        self.reported = None;
        self.shape_stale = true;
    }
}

/// The pointer's root position, `None` when it is on another screen.
fn query<C: Connection>(conn: &C, root: Window) -> Result<Option<(i32, i32)>, CaptureError> {
    let reply = conn
        .query_pointer(root)
        .map_err(lost)?
        .reply()
        .map_err(failed("query_pointer"))?;
    Ok(reply
        .same_screen
        .then_some((i32::from(reply.root_x), i32::from(reply.root_y))))
}

/// XFixes' premultiplied ARGB words as premultiplied BGRA bytes; `None` for
/// an empty or oversized shape.
fn to_shape(image: &xfixes::GetCursorImageReply) -> Option<CursorShape> {
    let (width, height) = (u32::from(image.width), u32::from(image.height));
    if width == 0 || height == 0 || width > CursorShape::MAX_SIDE || height > CursorShape::MAX_SIDE
    {
        return None;
    }
    let count = usize::from(image.width) * usize::from(image.height);
    let words = image.cursor_image.get(..count)?;
    // 0xAARRGGBB stored little-endian is B, G, R, A in memory.
    let pixels = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    Some(CursorShape {
        width,
        height,
        hot_x: u32::from(image.xhot).min(width - 1),
        hot_y: u32::from(image.yhot).min(height - 1),
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(width: u16, height: u16, words: Vec<u32>) -> xfixes::GetCursorImageReply {
        xfixes::GetCursorImageReply {
            sequence: 0,
            length: 0,
            x: 0,
            y: 0,
            width,
            height,
            xhot: 1,
            yhot: 0,
            cursor_serial: 7,
            cursor_image: words,
        }
    }

    #[test]
    fn argb_words_become_bgra_bytes() {
        let shape = to_shape(&image(2, 1, vec![0x80402010, 0xff00ff00])).unwrap();
        assert_eq!(
            shape.pixels,
            vec![0x10, 0x20, 0x40, 0x80, 0x00, 0xff, 0x00, 0xff]
        );
        assert_eq!(
            (shape.width, shape.height, shape.hot_x, shape.hot_y),
            (2, 1, 1, 0)
        );
    }

    #[test]
    fn empty_short_and_oversized_shapes_are_dropped() {
        assert!(to_shape(&image(0, 0, vec![])).is_none());
        assert!(to_shape(&image(2, 2, vec![0; 3])).is_none());
        let side = u16::try_from(CursorShape::MAX_SIDE + 1).unwrap();
        let words = vec![0; usize::from(side) * usize::from(side)];
        assert!(to_shape(&image(side, side, words)).is_none());
    }
}
