//! Input scripts for `ra-helper --input-script`: one command per line.
//!
//! ```text
//! move X Y        pointer to (X, Y) in the host's captured display
//! down BUTTON     press left|right|middle|back|forward
//! up BUTTON       release it
//! click BUTTON    press and release
//! scroll DX DY    wheel, in notches (1 notch = 120 units); DY > 0 scrolls down
//! key COMBO       press the keys in order and release them in reverse: ctrl+alt+t
//! type TEXT       type Unicode text (the rest of the line)
//! wait DURATION   pause the script: 100ms, 1s
//! ```
//! Blank lines and lines starting with `#` are ignored.

use std::time::Duration;

use ra_core::input::{InputEvent, MouseButton};
use ra_core::keys::parse_combo;

/// Largest script accepted, in bytes.
pub const MAX_SCRIPT_SIZE: usize = 1024 * 1024;

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send these events as one batch.
    Input(Vec<InputEvent>),
    /// Wait before the next step.
    Wait(Duration),
}

/// A script error, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("input script line {line}: {message}")]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn button(name: &str) -> Result<MouseButton, String> {
    match name.to_ascii_lowercase().as_str() {
        "left" => Ok(MouseButton::Left),
        "right" => Ok(MouseButton::Right),
        "middle" => Ok(MouseButton::Middle),
        "back" => Ok(MouseButton::Back),
        "forward" => Ok(MouseButton::Forward),
        other => Err(format!(
            "unknown button {other:?} (left, right, middle, back, forward)"
        )),
    }
}

fn number(text: Option<&str>, what: &str) -> Result<i32, String> {
    let text = text.ok_or_else(|| format!("missing {what}"))?;
    text.parse()
        .map_err(|_| format!("{what} {text:?} is not a whole number"))
}

fn parse_line(line: &str) -> Result<Option<Step>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let mut args = rest.split_whitespace();
    let no_more = |mut args: std::str::SplitWhitespace<'_>| match args.next() {
        Some(extra) => Err(format!("unexpected {extra:?}")),
        None => Ok(()),
    };
    let step = match command.to_ascii_lowercase().as_str() {
        "move" => {
            let x = number(args.next(), "x")?;
            let y = number(args.next(), "y")?;
            no_more(args)?;
            Step::Input(vec![InputEvent::PointerMove { x, y }])
        }
        "down" | "up" | "click" => {
            let b = button(args.next().ok_or("missing button")?)?;
            no_more(args)?;
            let press = InputEvent::Button {
                button: b,
                pressed: true,
            };
            let release = InputEvent::Button {
                button: b,
                pressed: false,
            };
            Step::Input(match command {
                "down" => vec![press],
                "up" => vec![release],
                _ => vec![press, release],
            })
        }
        "scroll" => {
            let dx = number(args.next(), "dx")?;
            let dy = number(args.next(), "dy")?;
            no_more(args)?;
            Step::Input(vec![InputEvent::Wheel {
                dx: dx.saturating_mul(120),
                dy: dy.saturating_mul(120),
            }])
        }
        "key" => {
            let combo = args.next().ok_or("missing key combination")?;
            no_more(args)?;
            let keys = parse_combo(combo).ok_or_else(|| format!("unknown key in {combo:?}"))?;
            let mut events: Vec<InputEvent> = keys
                .iter()
                .map(|&code| InputEvent::Key {
                    code,
                    pressed: true,
                })
                .collect();
            events.extend(keys.iter().rev().map(|&code| InputEvent::Key {
                code,
                pressed: false,
            }));
            Step::Input(events)
        }
        "type" => {
            if rest.is_empty() {
                return Err("missing text".into());
            }
            Step::Input(vec![InputEvent::Text {
                text: rest.to_owned(),
            }])
        }
        "wait" => {
            let text = args.next().ok_or("missing duration")?;
            no_more(args)?;
            Step::Wait(crate::parse_duration(text)?)
        }
        other => return Err(format!("unknown command {other:?}")),
    };
    Ok(Some(step))
}

/// Parses a whole script.
///
/// # Errors
/// [`ScriptError`] naming the first bad line.
pub fn parse(text: &str) -> Result<Vec<Step>, ScriptError> {
    if text.len() > MAX_SCRIPT_SIZE {
        return Err(ScriptError {
            line: 0,
            message: format!("script larger than {MAX_SCRIPT_SIZE} bytes"),
        });
    }
    let mut steps = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(step)) => steps.push(step),
            Ok(None) => {}
            Err(message) => {
                return Err(ScriptError {
                    line: index + 1,
                    message,
                });
            }
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ra_core::keys::KeyCode;

    #[test]
    fn parses_every_command() {
        let steps = parse(
            "# demo\nmove 10 -20\nclick left\ndown right\nup right\nscroll 0 -2\nkey ctrl+t\ntype héllo world\nwait 50ms\n",
        )
        .unwrap();
        assert_eq!(steps.len(), 8);
        assert_eq!(
            steps[0],
            Step::Input(vec![InputEvent::PointerMove { x: 10, y: -20 }])
        );
        assert_eq!(
            steps[4],
            Step::Input(vec![InputEvent::Wheel { dx: 0, dy: -240 }])
        );
        assert_eq!(
            steps[5],
            Step::Input(vec![
                InputEvent::Key {
                    code: KeyCode::LEFT_CTRL,
                    pressed: true
                },
                InputEvent::Key {
                    code: KeyCode(0x17),
                    pressed: true
                },
                InputEvent::Key {
                    code: KeyCode(0x17),
                    pressed: false
                },
                InputEvent::Key {
                    code: KeyCode::LEFT_CTRL,
                    pressed: false
                },
            ])
        );
        assert_eq!(
            steps[6],
            Step::Input(vec![InputEvent::Text {
                text: "héllo world".into()
            }])
        );
        assert_eq!(steps[7], Step::Wait(Duration::from_millis(50)));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("move 1 2\n\nclick sideways\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().contains("unknown button"));
        assert_eq!(parse("move 1\n").unwrap_err().line, 1);
        assert_eq!(parse("key ctrl+nope").unwrap_err().line, 1);
        assert_eq!(parse("wait soon").unwrap_err().line, 1);
        assert_eq!(parse("jump 1 2").unwrap_err().line, 1);
        assert_eq!(parse("move 1 2 3").unwrap_err().line, 1);
    }
}
