//! What changed in the picture between two frames: rectangles gathered from
//! PipeWire buffers until the capturer takes them.

use ra_core::media::Rect;

/// At most this many rectangles go out with a frame (as the X11 backend).
pub(super) const MAX_FRAME_RECTS: usize = 16;

/// Rectangles kept while gathering before they are merged.
const MAX_PENDING_RECTS: usize = 64;

/// The change since the capturer last took the picture.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) enum Damage {
    /// Nothing changed.
    #[default]
    Clean,
    /// These rectangles changed (clipped to the picture, never empty).
    Rects(Vec<Rect>),
    /// Everything changed.
    Whole,
}

impl Damage {
    /// Adds a rectangle, clipped to a `width` × `height` picture.
    pub(super) fn add(&mut self, rect: Rect, (width, height): (u32, u32)) {
        let Some(rect) = clip(rect, width, height) else {
            return;
        };
        if rect.width == width && rect.height == height {
            *self = Damage::Whole;
            return;
        }
        match self {
            Damage::Whole => {}
            Damage::Clean => *self = Damage::Rects(vec![rect]),
            Damage::Rects(rects) => {
                rects.push(rect);
                if rects.len() > MAX_PENDING_RECTS {
                    coalesce(rects, MAX_FRAME_RECTS);
                }
            }
        }
    }

    /// Marks everything changed.
    pub(super) fn add_whole(&mut self) {
        *self = Damage::Whole;
    }

    /// Whether anything changed.
    pub(super) fn is_clean(&self) -> bool {
        *self == Damage::Clean
    }
}

/// `rect` clipped to a `width` × `height` picture at the origin, `None` when
/// nothing is left.
pub(super) fn clip(rect: Rect, width: u32, height: u32) -> Option<Rect> {
    let left = i64::from(rect.x).max(0);
    let top = i64::from(rect.y).max(0);
    let right = (i64::from(rect.x) + i64::from(rect.width)).min(i64::from(width));
    let bottom = (i64::from(rect.y) + i64::from(rect.height)).min(i64::from(height));
    (right > left && bottom > top).then(|| {
        Rect::new(
            left as i32,
            top as i32,
            (right - left) as u32,
            (bottom - top) as u32,
        )
    })
}

fn area(rect: Rect) -> u64 {
    u64::from(rect.width) * u64::from(rect.height)
}

fn union(a: Rect, b: Rect) -> Rect {
    let left = a.x.min(b.x);
    let top = a.y.min(b.y);
    let right = (i64::from(a.x) + i64::from(a.width)).max(i64::from(b.x) + i64::from(b.width));
    let bottom = (i64::from(a.y) + i64::from(a.height)).max(i64::from(b.y) + i64::from(b.height));
    Rect::new(
        left,
        top,
        (right - i64::from(left)) as u32,
        (bottom - i64::from(top)) as u32,
    )
}

/// Merges rectangles until at most `max` are left, each time the pair whose
/// union adds the least area.
pub(super) fn coalesce(rects: &mut Vec<Rect>, max: usize) {
    let max = max.max(1);
    while rects.len() > max {
        let mut best = (0, 1, u64::MAX);
        for i in 0..rects.len() {
            for j in i + 1..rects.len() {
                let merged = union(rects[i], rects[j]);
                let waste = area(merged).saturating_sub(area(rects[i]) + area(rects[j]));
                if waste < best.2 {
                    best = (i, j, waste);
                }
            }
        }
        let (i, j, _) = best;
        let merged = union(rects[i], rects[j]);
        rects.swap_remove(j);
        rects[i] = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_is_clipped_and_gathered() {
        let size = (100, 50);
        let mut damage = Damage::default();
        assert!(damage.is_clean());
        damage.add(Rect::new(200, 0, 10, 10), size);
        assert!(damage.is_clean());
        damage.add(Rect::new(-5, 40, 10, 20), size);
        assert_eq!(damage, Damage::Rects(vec![Rect::new(0, 40, 5, 10)]));
        damage.add(Rect::new(-1, -1, 200, 200), size);
        assert_eq!(damage, Damage::Whole);
        damage.add(Rect::new(0, 0, 1, 1), size);
        assert_eq!(damage, Damage::Whole);
    }

    #[test]
    fn many_rects_are_merged() {
        let mut damage = Damage::default();
        for i in 0..100 {
            damage.add(Rect::new(i * 10, 0, 5, 5), (2000, 100));
        }
        let Damage::Rects(rects) = &damage else {
            panic!("{damage:?}")
        };
        assert!(rects.len() <= MAX_PENDING_RECTS);
        let mut rects = vec![
            Rect::new(0, 0, 10, 10),
            Rect::new(10, 0, 10, 10),
            Rect::new(500, 500, 10, 10),
        ];
        coalesce(&mut rects, 2);
        assert_eq!(rects.len(), 2);
        assert!(rects.contains(&Rect::new(0, 0, 20, 10)));
        assert!(rects.contains(&Rect::new(500, 500, 10, 10)));
    }
}
