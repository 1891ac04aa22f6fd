//! Which keys and buttons an injector holds pressed, so that `release_all`
//! can release exactly those.

use ra_core::input::MouseButton;
use ra_core::keys::KeyCode;

/// A key or button pressed and not yet released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    Key(KeyCode),
    Button(MouseButton),
}

/// Held keys and buttons in press order, each at most once.
#[derive(Debug, Default)]
pub(crate) struct HeldSet {
    order: Vec<Held>,
}

impl HeldSet {
    /// Records a successful press or release. A second press of a held key
    /// (auto-repeat) keeps its first position; a release of something not
    /// held changes nothing.
    pub(crate) fn record(&mut self, held: Held, pressed: bool) {
        if pressed {
            if !self.order.contains(&held) {
                self.order.push(held);
            }
        } else {
            self.order.retain(|h| *h != held);
        }
    }

    /// Everything held, most recently pressed first: the order to release in.
    pub(crate) fn release_order(&self) -> Vec<Held> {
        self.order.iter().rev().copied().collect()
    }

    /// Whether nothing is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn press_order_reversed_and_no_duplicates() {
        let mut set = HeldSet::default();
        let shift = Held::Key(KeyCode::LEFT_SHIFT);
        let a = Held::Key(KeyCode(4));
        let left = Held::Button(MouseButton::Left);
        set.record(shift, true);
        set.record(left, true);
        set.record(a, true);
        set.record(shift, true); // auto-repeat
        assert_eq!(set.release_order(), vec![a, left, shift]);
        set.record(left, false);
        set.record(Held::Button(MouseButton::Right), false); // never pressed
        assert_eq!(set.release_order(), vec![a, shift]);
        set.record(a, false);
        set.record(shift, false);
        assert!(set.is_empty());
    }
}
