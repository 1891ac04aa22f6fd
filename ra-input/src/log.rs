//! [`LogInjector`]: events as JSON lines.

use std::io::{self, Write};

use ra_core::input::{InputError, InputEvent, InputInjector};

use crate::json::EventRecord;

/// An [`InputInjector`] that writes each event as one line of JSON (see
/// [`crate::event_to_json`]) and each `release_all` as `{"type":"release_all"}`,
/// flushing after every line so a reader sees events as they happen.
///
/// Useful as a dry run on hosts without an input backend, and for scripting tests.
pub struct LogInjector {
    out: Box<dyn Write + Send>,
    /// Reused line buffer, so each event reaches `out` in one write.
    line: Vec<u8>,
}

impl std::fmt::Debug for LogInjector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogInjector").finish_non_exhaustive()
    }
}

impl LogInjector {
    /// An injector writing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        LogInjector {
            out,
            line: Vec::new(),
        }
    }

    /// An injector writing to standard output.
    pub fn stdout() -> Self {
        LogInjector::new(Box::new(io::stdout()))
    }

    /// Gives back the writer.
    pub fn into_inner(self) -> Box<dyn Write + Send> {
        self.out
    }

    fn write_record(&mut self, record: &EventRecord<'_>) -> Result<(), InputError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)
            .map_err(|e| InputError::Backend(Box::new(e)))?;
        self.line.push(b'\n');
        self.out
            .write_all(&self.line)
            .and_then(|()| self.out.flush())
            .map_err(|e| match e.kind() {
                io::ErrorKind::BrokenPipe => {
                    InputError::TargetLost(format!("event log output closed: {e}"))
                }
                _ => InputError::Backend(Box::new(e)),
            })
    }
}

impl InputInjector for LogInjector {
    fn inject(&mut self, event: &InputEvent) -> Result<(), InputError> {
        self.write_record(&EventRecord::from(event))
    }

    fn release_all(&mut self) -> Result<(), InputError> {
        self.write_record(&EventRecord::ReleaseAll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ra_core::input::MouseButton;
    use ra_core::keys::KeyCode;
    use std::sync::{Arc, Mutex};

    /// A writer whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

    impl Write for SharedBuffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_one_json_line_per_event() {
        let buffer = SharedBuffer::default();
        let mut injector = LogInjector::new(Box::new(buffer.clone()));
        let events = [
            InputEvent::PointerMove { x: 1, y: 2 },
            InputEvent::Button {
                button: MouseButton::Left,
                pressed: true,
            },
            InputEvent::Key {
                code: KeyCode(4),
                pressed: true,
            },
            InputEvent::Wheel { dx: 0, dy: 120 },
            InputEvent::Text {
                text: "line\nbreak".to_owned(),
            },
        ];
        for event in &events {
            injector.inject(event).unwrap();
        }
        injector.release_all().unwrap();

        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), events.len() + 1, "{text}");
        assert_eq!(lines[0], r#"{"type":"move","x":1,"y":2}"#);
        assert_eq!(
            lines[1],
            r#"{"type":"button","button":"left","pressed":true}"#
        );
        assert_eq!(
            lines[2],
            r#"{"type":"key","key":"a","usage":4,"pressed":true}"#
        );
        assert_eq!(lines[3], r#"{"type":"wheel","dx":0,"dy":120}"#);
        assert_eq!(lines[4], r#"{"type":"text","text":"line\nbreak"}"#);
        assert_eq!(lines[5], r#"{"type":"release_all"}"#);
        for (line, event) in lines.iter().zip(&events) {
            let parsed: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(parsed, crate::event_to_json(event));
        }
    }

    #[test]
    fn closed_output_is_a_lost_target() {
        let mut injector = LogInjector::new(Box::new(ClosedPipe));
        let result = injector.inject(&InputEvent::PointerMove { x: 0, y: 0 });
        assert!(
            matches!(result, Err(InputError::TargetLost(_))),
            "{result:?}"
        );
    }
}
