//! Damage rectangles: clipping to the captured area and coalescing.

use ra_core::media::Rect;

/// Most rectangles a frame's damage lists; more are merged, because every
/// rectangle costs a request when grabbing and bookkeeping in the encoder.
pub(super) const MAX_DAMAGE_RECTS: usize = 16;

/// Most rectangles kept while collecting damage events; past this they are
/// merged into their bounding box so a storm of events costs bounded memory.
pub(super) const MAX_PENDING_RECTS: usize = 1024;

/// `r` intersected with `area`, in `area`'s coordinates; `None` when they do
/// not overlap.
pub(super) fn clip_to(r: Rect, area: Rect) -> Option<Rect> {
    let x0 = i64::from(r.x).max(i64::from(area.x));
    let y0 = i64::from(r.y).max(i64::from(area.y));
    let x1 = right(r).min(right(area));
    let y1 = bottom(r).min(bottom(area));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    Some(Rect::new(
        to_i32(x0 - i64::from(area.x)),
        to_i32(y0 - i64::from(area.y)),
        to_u32(x1 - x0),
        to_u32(y1 - y0),
    ))
}

/// The smallest rectangle covering `a` and `b`.
pub(super) fn union(a: Rect, b: Rect) -> Rect {
    let x0 = a.x.min(b.x);
    let y0 = a.y.min(b.y);
    let x1 = right(a).max(right(b));
    let y1 = bottom(a).max(bottom(b));
    Rect::new(
        x0,
        y0,
        to_u32(x1 - i64::from(x0)),
        to_u32(y1 - i64::from(y0)),
    )
}

/// The bounding box of `rects`, `None` when there are none.
pub(super) fn bounding_box(rects: &[Rect]) -> Option<Rect> {
    rects.iter().copied().reduce(union)
}

/// Pixels covered by `r`.
pub(super) fn area_of(r: Rect) -> u64 {
    u64::from(r.width) * u64::from(r.height)
}

/// Merges rectangles that overlap or touch, then, while more than `max`
/// remain, merges runs of neighbours (in top-to-bottom order) into their
/// bounding boxes. The result covers every input pixel; it may cover more.
pub(super) fn coalesce(rects: &mut Vec<Rect>, max: usize) {
    rects.retain(|r| !r.is_empty());
    if rects.len() > MAX_PENDING_RECTS {
        collapse(rects);
    }
    merge_touching(rects);
    if rects.len() > max.max(1) {
        // Group neighbours by reading order: text and scrolled lines are
        // mostly horizontal bands, so adjacent rows merge with little waste.
        rects.sort_by_key(|r| (r.y, r.x));
        let groups = max.max(1);
        let per_group = rects.len().div_ceil(groups);
        let merged: Vec<Rect> = rects.chunks(per_group).filter_map(bounding_box).collect();
        *rects = merged;
        merge_touching(rects);
    }
}

/// Replaces `rects` by their bounding box.
pub(super) fn collapse(rects: &mut Vec<Rect>) {
    if let Some(bbox) = bounding_box(rects) {
        rects.clear();
        rects.push(bbox);
    }
}

/// Repeatedly merges any two rectangles that overlap or share an edge.
fn merge_touching(rects: &mut Vec<Rect>) {
    let mut merged_any = true;
    while merged_any {
        merged_any = false;
        let mut i = 0;
        while i < rects.len() {
            let mut j = i + 1;
            while j < rects.len() {
                if touches(rects[i], rects[j]) {
                    let other = rects.swap_remove(j);
                    rects[i] = union(rects[i], other);
                    merged_any = true;
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
    }
}

/// Whether `a` and `b` overlap or share an edge (so their union wastes
/// nothing along that edge).
fn touches(a: Rect, b: Rect) -> bool {
    i64::from(a.x) <= right(b)
        && i64::from(b.x) <= right(a)
        && i64::from(a.y) <= bottom(b)
        && i64::from(b.y) <= bottom(a)
        // Rectangles that only meet at a corner would merge into a box
        // twice their size: keep them apart.
        && !(corner_only(a, b))
}

fn corner_only(a: Rect, b: Rect) -> bool {
    let x_edge = i64::from(a.x) == right(b) || i64::from(b.x) == right(a);
    let y_edge = i64::from(a.y) == bottom(b) || i64::from(b.y) == bottom(a);
    x_edge && y_edge
}

fn right(r: Rect) -> i64 {
    i64::from(r.x) + i64::from(r.width)
}

fn bottom(r: Rect) -> i64 {
    i64::from(r.y) + i64::from(r.height)
}

fn to_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_translates_into_the_area() {
        let area = Rect::new(100, 50, 200, 100);
        assert_eq!(
            clip_to(Rect::new(90, 40, 20, 20), area),
            Some(Rect::new(0, 0, 10, 10))
        );
        assert_eq!(
            clip_to(Rect::new(250, 100, 100, 100), area),
            Some(Rect::new(150, 50, 50, 50))
        );
        assert_eq!(clip_to(Rect::new(0, 0, 100, 50), area), None);
        assert_eq!(clip_to(Rect::new(300, 60, 5, 5), area), None);
    }

    #[test]
    fn overlapping_and_adjacent_rectangles_merge() {
        let mut rects = vec![
            Rect::new(0, 0, 10, 10),
            Rect::new(10, 0, 10, 10),
            Rect::new(5, 5, 10, 10),
            Rect::new(100, 100, 1, 1),
        ];
        coalesce(&mut rects, MAX_DAMAGE_RECTS);
        rects.sort_by_key(|r| (r.x, r.y));
        assert_eq!(
            rects,
            vec![Rect::new(0, 0, 20, 15), Rect::new(100, 100, 1, 1)]
        );
    }

    #[test]
    fn corners_do_not_merge() {
        let mut rects = vec![Rect::new(0, 0, 10, 10), Rect::new(10, 10, 10, 10)];
        coalesce(&mut rects, MAX_DAMAGE_RECTS);
        assert_eq!(rects.len(), 2);
    }

    #[test]
    fn many_rectangles_are_bounded_and_still_covered() {
        // A screenful of glyph-sized changes with gaps between them.
        let mut input = Vec::new();
        for row in 0..40 {
            for col in 0..60 {
                input.push(Rect::new(col * 20, row * 25, 8, 16));
            }
        }
        let mut rects = input.clone();
        coalesce(&mut rects, MAX_DAMAGE_RECTS);
        assert!(rects.len() <= MAX_DAMAGE_RECTS, "{}", rects.len());
        for r in input {
            assert!(
                rects
                    .iter()
                    .any(|m| clip_to(r, *m)
                        == Some(Rect::new(r.x - m.x, r.y - m.y, r.width, r.height))),
                "{r:?} not covered"
            );
        }
    }
}
