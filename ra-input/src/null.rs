//! [`NullInjector`]: an injector that drops everything.

use ra_core::input::{InputError, InputEvent, InputInjector};

/// An [`InputInjector`] that accepts every event and does nothing, for hosts that
/// share their screen view-only or have no input backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullInjector;

impl NullInjector {
    /// The null injector.
    pub fn new() -> Self {
        NullInjector
    }
}

impl InputInjector for NullInjector {
    fn inject(&mut self, _event: &InputEvent) -> Result<(), InputError> {
        Ok(())
    }

    fn release_all(&mut self) -> Result<(), InputError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ra_core::input::MouseButton;

    #[test]
    fn accepts_everything() {
        let mut injector = NullInjector::new();
        injector
            .inject(&InputEvent::Button {
                button: MouseButton::Left,
                pressed: true,
            })
            .unwrap();
        injector.release_all().unwrap();
    }
}
