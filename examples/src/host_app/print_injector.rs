//! `--inject log`: the helper's input printed as `input` events instead of
//! injected.

use ra_core::input::{InputError, InputEvent, InputInjector};
use ra_input::{event_to_json, release_all_to_json};
use serde_json::json;

use crate::output::Output;

/// Prints the helper's input.
pub(super) struct PrintInjector {
    pub(super) output: Output,
}

impl InputInjector for PrintInjector {
    fn inject(&mut self, event: &InputEvent) -> Result<(), InputError> {
        let value = event_to_json(event);
        self.output.event("input", json!({ "input": value }), || {
            format!("input: {value}")
        });
        Ok(())
    }

    fn release_all(&mut self) -> Result<(), InputError> {
        let value = release_all_to_json();
        self.output.event("input", json!({ "input": value }), || {
            "input: release all keys and buttons".to_owned()
        });
        Ok(())
    }
}
