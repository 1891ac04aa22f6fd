//! `ra-demo`: a host and a helper on this machine, over loopback, narrated.
//!
//! Runs `ra-host invite` and `ra-helper accept` (from the same directory as
//! this program) as two processes and plays a help session through them:
//! invitation, password, approval, frames, control, input, chat, revoke, end.
//! Exits non-zero if any step does not happen.
//!
//! The host shares a real X screen. With no display at hand (`$DISPLAY` unset)
//! the demo starts its own Xvfb, paints a small desktop on it, and the helper's
//! input is injected there and checked by an X client that records it. On your
//! own display the screen is shared but input is only printed, never injected.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ra_capture::x11::X11Capturer;
use ra_capture::xvfb::Xvfb;
use ra_examples::desktop::Desktop;
use ra_input::x11::{EventKind, EventRecorder};
use serde_json::Value;

/// How long any one step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

const SCRIPT: &str = "\
# What the helper does once it has control.
move 640 360
click left
key ctrl+alt+t
type echo hello from the helper
key enter
scroll 0 2
";

/// Input events the script produces on the host.
const SCRIPT_EVENTS: usize = 1 + 2 + 6 + 1 + 2 + 1;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Host,
    Helper,
}

/// A child process, killed if still running when dropped.
struct Process {
    child: Child,
    name: &'static str,
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn spawn(
    program: &Path,
    args: &[String],
    who: Who,
    name: &'static str,
    lines: mpsc::Sender<(Who, Value)>,
) -> Result<(Process, Option<ChildStdin>), String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            match serde_json::from_str::<Value>(&line) {
                Ok(value) => {
                    if lines.send((who, value)).is_err() {
                        break;
                    }
                }
                Err(_) => eprintln!("[{name}] {line}"),
            }
        }
    });
    Ok((Process { child, name }, stdin))
}

struct Demo {
    lines: mpsc::Receiver<(Who, Value)>,
    host_stdin: Option<ChildStdin>,
    frames: u64,
    frame_bytes: u64,
    first_frame_latency: Option<f64>,
    inputs: usize,
    cursors: usize,
    started: Instant,
}

impl Demo {
    fn say(&self, who: &str, text: &str) {
        println!(
            "{:>6.2}s  {who:<7} {text}",
            self.started.elapsed().as_secs_f64()
        );
    }

    /// Narrates events until `until` says stop.
    fn run_until(
        &mut self,
        what: &str,
        mut until: impl FnMut(&Demo, Who, &Value) -> bool,
    ) -> Result<Value, String> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (who, event) = self
                .lines
                .recv_timeout(left)
                .map_err(|_| format!("timed out waiting for {what}"))?;
            self.narrate(who, &event);
            if until(self, who, &event) {
                return Ok(event);
            }
        }
    }

    fn narrate(&mut self, who: Who, event: &Value) {
        let name = event["event"].as_str().unwrap_or("?");
        let field = |key: &str| event[key].as_str().unwrap_or_default().to_owned();
        let (label, text) = match (who, name) {
            (Who::Host, "invitation") => (
                "host",
                format!(
                    "opened an invitation ({}); the password is {} — the host reads it to the helper",
                    field("file"),
                    field("password")
                ),
            ),
            (Who::Host, "connection_request") => (
                "host",
                format!(
                    "{} at {} proved it knows the password and asks to connect → approved",
                    field("helper"),
                    field("peer")
                ),
            ),
            (Who::Host, "connected") => (
                "host",
                "the helper now sees the screen (view only)".to_owned(),
            ),
            (Who::Host, "control_requested") => {
                ("host", "the helper asks for control → granted".to_owned())
            }
            (Who::Host, "control_granted") => ("host", "control granted".to_owned()),
            (Who::Host, "control_revoked") => {
                ("host", format!("took control back ({})", field("reason")))
            }
            (Who::Host, "input") => {
                if event["input"]["type"] != "release_all" {
                    self.inputs += 1;
                }
                ("host", format!("injected {}", event["input"]))
            }
            (Who::Host, "chat") => ("host", format!("chat from the helper: {}", field("text"))),
            (Who::Host, "ended") => ("host", format!("session ended ({})", field("reason"))),
            (Who::Helper, "connected") => ("helper", format!("connected to {}", field("host"))),
            (Who::Helper, "frame") => {
                self.frames += 1;
                self.frame_bytes += event["bytes"].as_u64().unwrap_or(0);
                let latency = event["latency_ms"].as_f64().unwrap_or(0.0);
                if self.frames == 1 {
                    self.first_frame_latency = Some(latency);
                }
                if self.frames == 1 || self.frames.is_multiple_of(30) {
                    (
                        "helper",
                        format!(
                            "frame {}: {}x{}, {} bytes, {latency} ms capture→decoded",
                            event["seq"], event["width"], event["height"], event["bytes"]
                        ),
                    )
                } else {
                    return;
                }
            }
            (Who::Helper, "control_granted") => {
                ("helper", "has control; running its input script".to_owned())
            }
            (Who::Helper, "control_revoked") => {
                ("helper", format!("lost control ({})", field("reason")))
            }
            (Who::Helper, "chat") => ("helper", format!("chat from the host: {}", field("text"))),
            (Who::Helper, "ended") => ("helper", format!("session ended ({})", field("reason"))),
            (Who::Helper, "script_done") => ("helper", "input script finished".to_owned()),
            (Who::Helper, "displays") => {
                let names: Vec<String> = event["displays"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|d| {
                                format!(
                                    "{} {}x{}",
                                    d["name"].as_str().unwrap_or("?"),
                                    d["width"],
                                    d["height"]
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                ("helper", format!("the host shares: {}", names.join(", ")))
            }
            (Who::Helper, "cursor") => {
                self.cursors += 1;
                if self.cursors > 1 {
                    return;
                }
                (
                    "helper",
                    format!(
                        "sees the host's pointer at ({}, {}), sent apart from the video",
                        event["x"], event["y"]
                    ),
                )
            }
            (Who::Host, other) | (Who::Helper, other) => (
                if who == Who::Host { "host" } else { "helper" },
                format!("{other}: {event}"),
            ),
        };
        self.say(label, &text);
    }

    /// Waits until the host's X client has seen the script's last scroll.
    fn await_injected(&mut self, recorder: &EventRecorder) -> Result<(), String> {
        let events = recorder
            .wait_until(STEP_TIMEOUT, |events| {
                events
                    .iter()
                    .filter(|e| e.kind == EventKind::ButtonRelease && e.detail == 5)
                    .count()
                    >= 2
            })
            .map_err(|e| format!("the X client did not get the input: {e}"))?;
        let presses = events
            .iter()
            .filter(|e| e.kind == EventKind::KeyPress)
            .count();
        let typed: String = events
            .iter()
            .filter(|e| e.kind == EventKind::KeyPress)
            .filter_map(|e| e.keysym_char())
            .collect();
        let clicks = events
            .iter()
            .filter(|e| e.kind == EventKind::ButtonPress && e.detail == 1)
            .count();
        self.inputs = events.len();
        self.say(
            "host",
            &format!(
                "an X client on the host received {} events: {clicks} click(s), {presses} key presses typing {typed:?}, the wheel",
                events.len()
            ),
        );
        Ok(())
    }

    fn tell_host(&mut self, line: &str) -> Result<(), String> {
        self.say("you", &format!("type `{line}` into the host"));
        let stdin = self.host_stdin.as_mut().ok_or("host stdin closed")?;
        writeln!(stdin, "{line}").map_err(|e| format!("cannot talk to the host: {e}"))?;
        stdin
            .flush()
            .map_err(|e| format!("cannot talk to the host: {e}"))
    }
}

/// The X screen the host shares.
struct Screen {
    display: String,
    /// With our own Xvfb: an X client that records the injected input.
    recorder: Option<EventRecorder>,
    // Dropped last: the desktop's painter, then the server.
    _desktop: Option<Desktop>,
    _xvfb: Option<Xvfb>,
}

impl Screen {
    /// `$DISPLAY` if there is one (input will only be printed), else a fresh
    /// Xvfb with a painted desktop and an input recorder.
    fn open() -> Result<Self, String> {
        if let Ok(display) = std::env::var("DISPLAY")
            && !display.is_empty()
            && X11Capturer::connect(Some(&display)).is_ok()
        {
            println!(
                "Sharing your screen {display}: the helper's input is printed, not injected.\n"
            );
            return Ok(Screen {
                display,
                recorder: None,
                _desktop: None,
                _xvfb: None,
            });
        }
        let xvfb = Xvfb::start(1280, 720).map_err(|e| e.to_string())?;
        let display = xvfb.display();
        let desktop = Desktop::start(&display)?;
        // Where the helper clicks and types: a window of an X client that
        // records every event it receives.
        let recorder = EventRecorder::with_geometry(Some(&display), 560, 300, 420, 200)
            .map_err(|e| format!("cannot start the X client: {e}"))?;
        println!(
            "No display here: started Xvfb {display} with a small desktop; the helper's input goes to an X client on it.\n"
        );
        Ok(Screen {
            display,
            recorder: Some(recorder),
            _desktop: Some(desktop),
            _xvfb: Some(xvfb),
        })
    }
}

fn sibling(name: &str) -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = me.parent().ok_or("no directory")?;
    let path = dir.join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found next to ra-demo: build the workspace first",
            path.display()
        ))
    }
}

fn run() -> Result<(), String> {
    let host_program = sibling("ra-host")?;
    let helper_program = sibling("ra-helper")?;
    let dir = std::env::temp_dir().join(format!("ra-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let invitation = dir.join("invitation.rainv");
    let script = dir.join("input.script");
    std::fs::write(&script, SCRIPT).map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();

    let screen = Screen::open()?;
    let invitation_arg = invitation.display().to_string();
    let inject = if screen.recorder.is_some() {
        "system"
    } else {
        "log"
    };
    let host_args: Vec<String> = [
        "invite",
        "--listen",
        "127.0.0.1:0",
        "--out",
        &invitation_arg,
        "--approve",
        "yes",
        "--approve-control",
        "yes",
        "--capture",
        "screen",
        "--display",
        &screen.display,
        "--inject",
        inject,
        "--name",
        "Alice's PC",
        "--lifetime",
        "10m",
        "--json",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let (host, host_stdin) = spawn(&host_program, &host_args, Who::Host, "ra-host", tx.clone())?;
    let mut demo = Demo {
        lines: rx,
        host_stdin,
        frames: 0,
        frame_bytes: 0,
        first_frame_latency: None,
        inputs: 0,
        cursors: 0,
        started,
    };
    let opened = demo.run_until("the invitation", |_, who, e| {
        who == Who::Host && e["event"] == "invitation"
    })?;
    let password = opened["password"].as_str().ok_or("no password")?.to_owned();

    demo.say(
        "helper",
        &format!(
            "types the password {password} and connects with {}",
            invitation.display()
        ),
    );
    let helper_args: Vec<String> = [
        "accept",
        "--invitation",
        &invitation.display().to_string(),
        "--password",
        &password,
        "--name",
        "Bob (help desk)",
        "--request-control",
        "--input-script",
        &script.display().to_string(),
        "--frames",
        "100000",
        "--duration",
        "60s",
        "--json",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let (helper, _) = spawn(&helper_program, &helper_args, Who::Helper, "ra-helper", tx)?;

    match &screen.recorder {
        Some(recorder) => {
            demo.run_until("the helper's script", |_, who, e| {
                who == Who::Helper && e["event"] == "script_done"
            })?;
            demo.await_injected(recorder)?;
            demo.run_until("30 frames", |d, _, _| d.frames >= 30)?;
        }
        None => {
            demo.run_until("the helper's input and 30 frames", |d, _, _| {
                d.inputs >= SCRIPT_EVENTS && d.frames >= 30
            })?;
        }
    }
    demo.tell_host("chat Thanks, I can see it working.")?;
    demo.run_until("the chat on the helper", |_, who, e| {
        who == Who::Helper && e["event"] == "chat"
    })?;
    demo.tell_host("revoke")?;
    demo.run_until("the revoke on the helper", |_, who, e| {
        who == Who::Helper && e["event"] == "control_revoked"
    })?;
    let seen = demo.frames;
    demo.run_until("more frames (view only continues)", |d, _, _| {
        d.frames >= seen + 10
    })?;
    demo.tell_host("end")?;
    let mut ended = (false, false);
    demo.run_until("both sides to end", |_, who, e| {
        if e["event"] == "ended" {
            match who {
                Who::Host => ended.0 = true,
                Who::Helper => ended.1 = true,
            }
        }
        ended.0 && ended.1
    })?;
    for process in [host, helper] {
        let status = wait_exit(process)?;
        if !status.success() {
            return Err(format!("a program exited with {status}"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!();
    println!(
        "Done in {:.1} s: {} frames ({} KB) reached the helper, the first {} ms after capture; {} input events reached the host, all under a grant, then released; control was revoked and the session ended on both sides.",
        demo.started.elapsed().as_secs_f64(),
        demo.frames,
        demo.frame_bytes / 1024,
        demo.first_frame_latency.unwrap_or_default(),
        demo.inputs,
    );
    Ok(())
}

/// Waits for a process to exit by itself (bounded), then reports its status.
fn wait_exit(mut process: Process) -> Result<std::process::ExitStatus, String> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        match process.child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => return Err(format!("{} did not exit", process.name)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}
