//! The pointer as PipeWire's cursor metadata describes it (position on the
//! stream, and now and then a new bitmap), kept until `cursor()` reports it.

use ra_core::media::{CursorShape, CursorUpdate};

use super::pixels::Layout;

/// What the stream said about the pointer, and what is left to report.
#[derive(Debug, Default)]
pub(super) struct CursorState {
    /// Hotspot position on the stream; `None`: not over it.
    position: Option<(i32, i32)>,
    /// The compositor sent an empty bitmap (the pointer is hidden).
    hidden: bool,
    /// The last shape.
    shape: Option<CursorShape>,
    /// The shape changed since the last report.
    shape_new: bool,
    /// Anything changed since the last report.
    changed: bool,
    /// Counts changes.
    revision: u64,
}

impl CursorState {
    /// The pointer is at (`x`, `y`) on the stream, or not on it (`None`).
    pub(super) fn set_position(&mut self, position: Option<(i32, i32)>) {
        if position != self.position {
            self.position = position;
            self.changed = true;
            self.revision += 1;
        }
    }

    /// A new bitmap: a shape, or `None` for an empty one (hidden pointer).
    pub(super) fn set_shape(&mut self, shape: Option<CursorShape>) {
        let hidden = shape.is_none();
        if hidden != self.hidden {
            self.hidden = hidden;
            self.changed = true;
            self.revision += 1;
        }
        if let Some(shape) = shape
            && self.shape.as_ref() != Some(&shape)
        {
            self.shape = Some(shape);
            self.shape_new = true;
            self.changed = true;
            self.revision += 1;
        }
    }

    /// Counts the changes so far (a caller sees whether a buffer changed
    /// anything).
    pub(super) fn revision(&self) -> u64 {
        self.revision
    }

    /// Whether there is something to report.
    #[cfg(test)]
    pub(super) fn changed(&self) -> bool {
        self.changed
    }

    /// The changes since the last report, `None` when nothing changed;
    /// `within` is the stream's size (the pointer is visible inside it).
    pub(super) fn take_update(&mut self, (width, height): (u32, u32)) -> Option<CursorUpdate> {
        if !std::mem::take(&mut self.changed) {
            return None;
        }
        let (x, y) = self.position.unwrap_or((0, 0));
        let inside = self.position.is_some()
            && x >= 0
            && y >= 0
            && i64::from(x) < i64::from(width)
            && i64::from(y) < i64::from(height);
        Some(CursorUpdate {
            x,
            y,
            visible: inside && !self.hidden,
            shape: if std::mem::take(&mut self.shape_new) {
                self.shape.clone()
            } else {
                None
            },
        })
    }

    /// Forgets what was reported: the next update carries everything (a
    /// new stream was selected).
    pub(super) fn reset(&mut self) {
        *self = CursorState {
            revision: self.revision + 1,
            ..CursorState::default()
        };
    }
}

/// A cursor bitmap as premultiplied BGRA, `None` when empty, larger than
/// [`CursorShape::MAX_SIDE`], in an unknown layout or shorter than its
/// size says. Compositors send premultiplied pixels (mutter: RGBA).
pub(super) fn shape_from_bitmap(
    layout: Option<Layout>,
    (width, height): (u32, u32),
    stride: usize,
    data: &[u8],
    (hot_x, hot_y): (i32, i32),
) -> Option<CursorShape> {
    let layout = layout?;
    if width == 0 || height == 0 || width > CursorShape::MAX_SIDE || height > CursorShape::MAX_SIDE
    {
        return None;
    }
    let source = super::pixels::Source::new(data, 0, stride, (width, height), layout)?;
    let mut pixels = vec![0u8; width as usize * height as usize * 4];
    super::pixels::copy_rect(
        &source,
        &mut pixels,
        width as usize * 4,
        ra_core::media::Rect::new(0, 0, width, height),
    );
    Some(CursorShape {
        width,
        height,
        hot_x: u32::try_from(hot_x).unwrap_or(0).min(width - 1),
        hot_y: u32::try_from(hot_y).unwrap_or(0).min(height - 1),
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_bitmaps_become_bgra_shapes() {
        // 2x1 RGBA with 4 bytes of padding per row.
        let data = [10, 20, 30, 255, 0, 0, 0, 0, 0, 0, 0, 0];
        let shape = shape_from_bitmap(Some(Layout::Rgba), (2, 1), 12, &data, (1, 5)).unwrap();
        assert_eq!(shape.pixels, vec![30, 20, 10, 255, 0, 0, 0, 0]);
        assert_eq!((shape.hot_x, shape.hot_y), (1, 0));
        assert!(shape_from_bitmap(Some(Layout::Rgba), (0, 0), 0, &[], (0, 0)).is_none());
        assert!(shape_from_bitmap(None, (2, 1), 12, &data, (0, 0)).is_none());
        assert!(shape_from_bitmap(Some(Layout::Rgba), (2, 2), 12, &data, (0, 0)).is_none());
    }

    #[test]
    fn updates_carry_changes_once() {
        let mut cursor = CursorState::default();
        assert_eq!(cursor.take_update((100, 100)), None);
        cursor.set_position(Some((10, 20)));
        let shape = shape_from_bitmap(Some(Layout::Bgra), (1, 1), 4, &[1, 2, 3, 4], (0, 0));
        cursor.set_shape(shape.clone());
        let update = cursor.take_update((100, 100)).unwrap();
        assert_eq!((update.x, update.y, update.visible), (10, 20, true));
        assert_eq!(update.shape, shape);
        assert_eq!(cursor.take_update((100, 100)), None);
        // The same shape again is no change; a move is, without the shape.
        cursor.set_shape(shape);
        assert!(!cursor.changed());
        cursor.set_position(Some((11, 20)));
        let update = cursor.take_update((100, 100)).unwrap();
        assert_eq!((update.x, update.shape), (11, None));
        // Off the stream, or an empty bitmap: not visible.
        cursor.set_position(None);
        assert!(!cursor.take_update((100, 100)).unwrap().visible);
        cursor.set_position(Some((5, 5)));
        cursor.set_shape(None);
        assert!(!cursor.take_update((100, 100)).unwrap().visible);
    }
}
