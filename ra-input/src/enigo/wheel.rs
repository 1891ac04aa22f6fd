//! Turns fine-grained wheel amounts (120 units per notch) into whole notches.

/// Units of one classic wheel notch.
pub(crate) const UNITS_PER_NOTCH: i64 = 120;

/// At most this many notches per axis and event. X11 has no smooth-scroll
/// injection: each notch is a button click with its own round trip, so a
/// hostile or buggy `Wheel { dy: i32::MAX }` must not block the injection
/// thread for minutes. Larger amounts are cut to this and their excess dropped.
pub(crate) const MAX_NOTCHES_PER_EVENT: i32 = 100;

/// Accumulates wheel units per axis and hands out whole notches, keeping the
/// remainder (with its sign) for the next event.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WheelAccumulator {
    x: i64,
    y: i64,
}

impl WheelAccumulator {
    /// Adds an event's units; returns the whole notches to emit now
    /// `(horizontal, vertical)`, positive right and down.
    pub(crate) fn add(&mut self, dx: i32, dy: i32) -> (i32, i32) {
        (take(&mut self.x, dx), take(&mut self.y, dy))
    }

    /// Forgets partial notches (on release_all: a new controller starts fresh).
    pub(crate) fn reset(&mut self) {
        *self = WheelAccumulator::default();
    }
}

fn take(acc: &mut i64, delta: i32) -> i32 {
    *acc += i64::from(delta);
    // Truncation toward zero keeps the remainder's sign, so scrolling back
    // cancels a partial notch instead of overshooting.
    let notches = *acc / UNITS_PER_NOTCH;
    *acc -= notches * UNITS_PER_NOTCH;
    let limit = i64::from(MAX_NOTCHES_PER_EVENT);
    let clamped = notches.clamp(-limit, limit);
    // In range after the clamp; 0 is unreachable.
    i32::try_from(clamped).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_notches_pass_through() {
        let mut wheel = WheelAccumulator::default();
        assert_eq!(wheel.add(0, 120), (0, 1));
        assert_eq!(wheel.add(-240, -360), (-2, -3));
        assert_eq!(wheel, WheelAccumulator::default());
    }

    #[test]
    fn fine_steps_accumulate_per_axis() {
        let mut wheel = WheelAccumulator::default();
        assert_eq!(wheel.add(40, 40), (0, 0));
        assert_eq!(wheel.add(40, 40), (0, 0));
        assert_eq!(wheel.add(0, 40), (0, 1));
        assert_eq!(wheel.add(50, 0), (1, 0));
        assert_eq!(wheel.add(-60, 130), (0, 1)); // x back to -50, y keeps 10
        assert_eq!(wheel.add(-70, 0), (-1, 0));
        assert_eq!(wheel, WheelAccumulator { x: 0, y: 10 });
        wheel.reset();
        assert_eq!(wheel, WheelAccumulator::default());
    }

    #[test]
    fn huge_amounts_are_capped() {
        let mut wheel = WheelAccumulator::default();
        assert_eq!(
            wheel.add(i32::MIN, i32::MAX),
            (-MAX_NOTCHES_PER_EVENT, MAX_NOTCHES_PER_EVENT)
        );
        // The excess is dropped, only the sub-notch remainder is kept.
        assert!(wheel.x.abs() < UNITS_PER_NOTCH && wheel.y.abs() < UNITS_PER_NOTCH);
        assert_eq!(wheel.add(i32::MAX, i32::MAX), (100, 100));
    }
}
