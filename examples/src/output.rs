//! Program output: with `--json`, one JSON object per line on stdout, each
//! with an `"event"` field; otherwise short sentences for a person.

use std::io::Write;

use serde_json::{Map, Value};

/// Writes events to stdout. Clones share stdout; each line is written whole.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// JSON lines when `json`, text otherwise.
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// Whether output is JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Emits one event: `fields` go into the JSON object; `text` is what a
    /// person reads instead.
    pub fn event(&self, event: &str, fields: Value, text: impl FnOnce() -> String) {
        let line = if self.json {
            let mut object = Map::new();
            object.insert("event".into(), Value::String(event.into()));
            if let Value::Object(extra) = fields {
                object.extend(extra);
            }
            Value::Object(object).to_string()
        } else {
            // Events a person does not need to read have no text.
            let text = text();
            if text.is_empty() {
                return;
            }
            text
        };
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (the reader went away) must not kill the session.
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }

    /// Reports an error on stderr (and as an `error` event with `--json`).
    pub fn error(&self, message: &str) {
        if self.json {
            self.event(
                "error",
                serde_json::json!({ "message": message }),
                String::new,
            );
        }
        eprintln!("error: {message}");
    }
}
