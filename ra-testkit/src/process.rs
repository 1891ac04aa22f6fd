//! Programs of the project run as child processes whose stdout is one JSON
//! object per line (an `"event"` each): read on a thread, waited for with
//! timeouts, never with sleeps; killed (by their handle) and reaped when
//! dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The longest any single wait lasts. Generous: CI machines are slow, and a
/// passing test never waits this long.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// One line of a child's stdout.
enum Line {
    Text(String),
    Unreadable(String),
}

/// A running example program. Dropping it kills the process (by its handle)
/// and reaps it, also when the test panics.
pub struct Proc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    stdout_closed: bool,
    stderr: Option<JoinHandle<String>>,
    /// Every event printed so far, in order.
    pub seen: Vec<Value>,
}

/// How a program ended.
#[derive(Debug)]
pub struct Finished {
    /// The exit status.
    pub status: ExitStatus,
    /// Everything it wrote to stderr.
    pub stderr: String,
    /// Every event it printed on stdout, in order.
    pub events: Vec<Value>,
}

impl Finished {
    /// The exit code (panics if the process was killed by a signal).
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {self:#?}"))
    }

    /// The events named `event`.
    pub fn events_named(&self, event: &str) -> Vec<&Value> {
        named(&self.events, event)
    }

    /// Asserts a clean failure: exit code `code`, an error message on stderr,
    /// no panic.
    pub fn assert_clean_failure(&self, code: i32) {
        assert_eq!(self.code(), code, "wrong exit code: {self:#?}");
        assert!(
            !self.stderr.contains("panicked"),
            "the program panicked: {}",
            self.stderr
        );
        assert!(
            self.stderr.lines().any(|l| l.starts_with("error: ")),
            "no error message on stderr: {self:#?}"
        );
    }
}

/// The events of `events` named `event`.
pub fn named<'a>(events: &'a [Value], event: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == event).collect()
}

/// Position of the first event named `event` at or after `from`.
pub fn position(events: &[Value], event: &str, from: usize) -> Option<usize> {
    events
        .iter()
        .skip(from)
        .position(|e| e["event"] == event)
        .map(|i| i + from)
}

impl Proc {
    /// Starts `program` with `args`; stdin is a pipe when `with_stdin`, empty otherwise.
    pub fn spawn(name: &str, program: &str, args: &[&str], with_stdin: bool) -> Proc {
        Proc::spawn_with_env(name, program, args, with_stdin, &[])
    }

    /// As [`Proc::spawn`], with the variables of `env` set (e.g. `DISPLAY`).
    pub fn spawn_with_env(
        name: &str,
        program: &str,
        args: &[&str],
        with_stdin: bool,
        env: &[(&str, &str)],
    ) -> Proc {
        let mut child = Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .stdin(if with_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("RUST_LOG")
            .env("RUST_BACKTRACE", "0")
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = match line {
                    Ok(text) => Line::Text(text),
                    Err(e) => Line::Unreadable(e.to_string()),
                };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        });
        Proc {
            name: name.to_owned(),
            stdin: child.stdin.take(),
            child,
            lines,
            stdout_closed: false,
            stderr: Some(stderr),
            seen: Vec::new(),
        }
    }

    /// The process id (to read its figures under `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process (by its handle) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the process, then panics with `message`, the events seen and stderr.
    #[track_caller]
    pub fn fail(&mut self, message: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let seen: Vec<String> = self.seen.iter().map(Value::to_string).collect();
        panic!(
            "{}: {message}\nevents so far:\n  {}\nstderr:\n{stderr}",
            self.name,
            seen.join("\n  ")
        );
    }

    /// The next event, or `None` once stdout is closed. Fails on a timeout or
    /// on a line that is not a JSON object with an `"event"` string.
    #[track_caller]
    pub fn next_event(&mut self, deadline: Instant) -> Option<Value> {
        if self.stdout_closed {
            return None;
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        let line = match self.lines.recv_timeout(wait) {
            Ok(Line::Text(text)) => text,
            Ok(Line::Unreadable(e)) => self.fail(&format!("unreadable stdout line: {e}")),
            Err(RecvTimeoutError::Timeout) => self.fail("timed out waiting for output"),
            Err(RecvTimeoutError::Disconnected) => {
                self.stdout_closed = true;
                return None;
            }
        };
        let value: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => self.fail(&format!("stdout line is not JSON ({e}): {line}")),
        };
        if !value["event"].is_string() {
            self.fail(&format!("stdout line has no \"event\" string: {line}"));
        }
        self.seen.push(value.clone());
        Some(value)
    }

    /// Waits for the next event named `event` (others are kept in `seen`).
    #[track_caller]
    pub fn expect(&mut self, event: &str) -> Value {
        self.expect_where(event, |_| true)
    }

    /// Waits for the next event named `event` for which `pred` holds.
    #[track_caller]
    pub fn expect_where(&mut self, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self.next_event(deadline) {
                Some(v) if v["event"] == event && pred(&v) => return v,
                Some(_) => {}
                None => self.fail(&format!("stdout closed before the event {event:?}")),
            }
        }
    }

    /// Writes one line to the program's stdin.
    #[track_caller]
    pub fn send(&mut self, line: &str) {
        let result = match self.stdin.as_mut() {
            Some(stdin) => writeln!(stdin, "{line}").and_then(|()| stdin.flush()),
            None => self.fail("stdin is not a pipe"),
        };
        if let Err(e) = result {
            self.fail(&format!("cannot write {line:?} to stdin: {e}"));
        }
    }

    /// Waits for the program to exit on its own (its stdout closes), then
    /// collects its exit status, stderr and every event.
    #[track_caller]
    pub fn finish(mut self) -> Finished {
        let deadline = Instant::now() + TIMEOUT;
        while self.next_event(deadline).is_some() {}
        let status = match self.child.wait() {
            Ok(s) => s,
            Err(e) => self.fail(&format!("cannot wait for the process: {e}")),
        };
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Finished {
            status,
            stderr,
            events: std::mem::take(&mut self.seen),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Kill by handle (never by name), then reap. Both are harmless when
        // the process has exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `program` to completion with an empty stdin (for programs expected
/// to exit on their own).
#[track_caller]
pub fn run(name: &str, program: &str, args: &[&str]) -> Finished {
    Proc::spawn(name, program, args, false).finish()
}
