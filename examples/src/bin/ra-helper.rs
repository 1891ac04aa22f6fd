//! `ra-helper`: see (and, with the host's consent, control) someone's screen.
//!
//! Exit codes: 0 ok; 2 invalid invitation, token or usage; 3 wrong password;
//! 4 denied by the host; 5 invitation expired or closed; 6 host unreachable or
//! timed out; 1 anything else.
//!
//! With `--clipboard system`, the clipboard of this display ($DISPLAY) is
//! kept in step with the host's while the host shares its clipboard: text
//! copied here is sent to the host, the host's text is put here (and printed
//! as the `clipboard` event).

#[path = "../viewer/clipboard.rs"]
mod clipboard;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{ArgGroup, Parser, Subcommand, ValueEnum};
use clipboard::SystemClipboard;
use ra_codec::OpenH264Decoder;
use ra_core::invitation::{Invitation, InvitationError};
use ra_core::media::{CursorShape, CursorUpdate, DecodedFrame, DisplayId, DisplayInfo};
use ra_core::password::Password;
use ra_core::runtime::{AcceptError, AcceptOptions, HelperSession, HelperSessionEvent, accept};
use ra_core::session::{EndReason, HelperEvent};
use ra_examples::broker_cli;
use ra_examples::exit;
use ra_examples::output::Output;
use ra_examples::parse_duration;
use ra_examples::script::{self, Step};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Parser)]
#[command(
    name = "ra-helper",
    version,
    about = "See and, with consent, control a host's screen (the helper side of ra)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect with an invitation (file or token) and the password the host told you.
    Accept(AcceptArgs),
    /// Easy Connect: connect with the code the host read out to you.
    EasyConnect(broker_cli::helper::EasyConnectArgs),
    /// Quick Assist: get a short code from a broker, read it to the host, wait.
    Assist(broker_cli::helper::AssistArgs),
}

#[derive(clap::Args)]
#[command(group(ArgGroup::new("source").required(true).args(["invitation", "token"])))]
struct AcceptArgs {
    /// The invitation file the host sent.
    #[arg(long, value_name = "FILE")]
    invitation: Option<PathBuf>,
    /// The invitation as a one-line token (starts with "ra1-").
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// The password the host told you (case, dashes and spaces do not matter).
    #[arg(long, value_name = "PW")]
    password: String,
    /// The name the host sees.
    #[arg(long, default_value = "ra helper")]
    name: String,
    /// Ask the host for control once connected.
    #[arg(long)]
    request_control: bool,
    /// Stop after receiving N frames (and finishing the input script).
    #[arg(long, value_name = "N")]
    frames: Option<u64>,
    /// Write the last frame to this PNG file when the session ends.
    #[arg(long, value_name = "FILE.png")]
    snapshot: Option<PathBuf>,
    /// Once control is granted, send the input in this script (see the README for the commands).
    #[arg(long, value_name = "FILE")]
    input_script: Option<PathBuf>,
    /// Stop after this long (e.g. 5s), whatever else is going on.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Watch this monitor of the host (by name, see the `displays` event, or `all`).
    #[arg(long, value_name = "NAME|all")]
    monitor: Option<String>,
    /// When the host shares its clipboard, send it this text.
    #[arg(long, value_name = "TEXT")]
    copy: Option<String>,
    /// Which clipboard of yours the host's shared clipboard is kept in step with.
    #[arg(long, value_enum, default_value = "none")]
    clipboard: ClipboardMode,
    /// How long to wait for the host to let you in.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    approval_timeout: Duration,
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ClipboardMode {
    /// None: the host's clipboard text is only printed.
    None,
    /// This display's X clipboard ($DISPLAY), both ways.
    System,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let output = Output::new(match &cli.command {
        Command::Accept(args) => args.json,
        Command::EasyConnect(args) => args.helper.json,
        Command::Assist(args) => args.helper.json,
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            output.error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::from(exit::OTHER as u8);
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Accept(args) => run(args, output).await,
            Command::EasyConnect(args) => broker_cli::helper::run_easy_connect(args, output).await,
            Command::Assist(args) => broker_cli::helper::run_assist(args, output).await,
        }
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn load_invitation(args: &AcceptArgs) -> Result<Invitation, InvitationError> {
    match (&args.invitation, &args.token) {
        (Some(path), _) => Invitation::load(path),
        (None, Some(token)) => Invitation::from_token(token),
        (None, None) => Err(InvitationError::Invalid("no invitation given".into())),
    }
}

fn accept_exit_code(error: &AcceptError) -> i32 {
    match error {
        AcceptError::WrongPassword => exit::WRONG_PASSWORD,
        AcceptError::Denied(_) | AcceptError::Policy => exit::DENIED,
        AcceptError::Expired | AcceptError::Closed | AcceptError::UnknownSession => exit::EXPIRED,
        AcceptError::Unreachable(_)
        | AcceptError::ConnectionLost(_)
        | AcceptError::CertificateMismatch => exit::UNREACHABLE,
        _ => exit::OTHER,
    }
}

async fn run(args: AcceptArgs, output: Output) -> i32 {
    let invitation = match load_invitation(&args) {
        Ok(i) => i,
        Err(e) => {
            output.error(&format!("invalid invitation: {e}"));
            return exit::INVALID;
        }
    };
    if invitation.is_expired(SystemTime::now()) {
        output.error("the invitation has expired: ask the host for a new one");
        return exit::EXPIRED;
    }
    let password = match Password::parse(&args.password) {
        Ok(p) => p,
        Err(e) => {
            output.error(&format!("wrong password: {e}"));
            return exit::WRONG_PASSWORD;
        }
    };
    let steps = match &args.input_script {
        Some(path) => match read_script(path) {
            Ok(steps) => Some(steps),
            Err(message) => {
                output.error(&message);
                return exit::INVALID;
            }
        },
        None => None,
    };
    let mut clipboard = None;
    if args.clipboard == ClipboardMode::System {
        let (mut system, changes) = SystemClipboard::new(None);
        // Asked for: fail now rather than after the host let us in.
        if let Err(e) = system.start() {
            output.error(&format!("cannot use the system clipboard: {e}"));
            return exit::OTHER;
        }
        clipboard = Some((system, changes));
    }
    let decoder = match OpenH264Decoder::new() {
        Ok(d) => d,
        Err(e) => {
            output.error(&format!("cannot start the video decoder: {e}"));
            return exit::OTHER;
        }
    };
    let options = AcceptOptions {
        helper_name: args.name.clone(),
        approval_timeout: args.approval_timeout,
        ..AcceptOptions::default()
    };
    if !output.is_json() {
        println!(
            "Connecting to {} — waiting for the host to let you in…",
            invitation.host_name
        );
    }
    let mut session = match accept(&invitation, &password, options, Box::new(decoder)).await {
        Ok(s) => s,
        Err(e) => {
            output.error(&e.to_string());
            return accept_exit_code(&e);
        }
    };
    output.event("connected", json!({ "host": session.host_name() }), || {
        format!(
            "Connected to {}: you see the screen (view only).",
            session.host_name()
        )
    });
    run_session(&mut session, &args, steps, clipboard, output).await
}

fn read_script(path: &Path) -> Result<Vec<Step>, String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if metadata.len() > script::MAX_SCRIPT_SIZE as u64 {
        return Err(format!(
            "{} is larger than {} bytes",
            path.display(),
            script::MAX_SCRIPT_SIZE
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    script::parse(&text).map_err(|e| e.to_string())
}

/// Where the input script stands.
enum ScriptState {
    /// No script, or it ran, or control was refused.
    Done,
    /// Waiting for control.
    WaitingForControl(VecDeque<Step>),
    /// Running: the next step is due at the instant.
    Running(VecDeque<Step>, Instant),
}

async fn run_session(
    session: &mut HelperSession,
    args: &AcceptArgs,
    steps: Option<Vec<Step>>,
    clipboard: Option<(SystemClipboard, mpsc::UnboundedReceiver<String>)>,
    output: Output,
) -> i32 {
    let (mut clipboard, mut clipboard_changes) = clipboard.unzip();
    let deadline = args.duration.map(|d| Instant::now() + d);
    let mut script = match steps {
        Some(steps) if !steps.is_empty() => ScriptState::WaitingForControl(steps.into()),
        _ => ScriptState::Done,
    };
    if (args.request_control || !matches!(script, ScriptState::Done))
        && let Err(e) = session.request_control().await
    {
        output.error(&e.to_string());
    }
    let has_goal = args.frames.is_some() || args.input_script.is_some();
    let mut frames = 0u64;
    let mut last_frame: Option<DecodedFrame> = None;
    let mut pointer = Pointer::default();
    let code = loop {
        let goals_met = has_goal
            && args.frames.is_none_or(|n| frames >= n)
            && matches!(script, ScriptState::Done);
        if goals_met {
            let _ = session.end().await;
            break exit::OK;
        }
        let step_due = match &script {
            ScriptState::Running(_, at) => Some(*at),
            _ => None,
        };
        tokio::select! {
            event = session.next_event() => {
                let Some(event) = event else { break exit::OK };
                match event {
                    HelperSessionEvent::Frame(frame) => {
                        frames += 1;
                        let f = &frame.frame;
                        let latency_ms = (frame.latency.as_secs_f64() * 10_000.0).round() / 10.0;
                        output.event(
                            "frame",
                            json!({
                                "seq": frame.seq,
                                "width": f.width,
                                "height": f.height,
                                "bytes": frame.encoded_bytes,
                                "latency_ms": latency_ms,
                            }),
                            || format!("frame {}: {}x{}, {} bytes, {latency_ms} ms", frame.seq, f.width, f.height, frame.encoded_bytes),
                        );
                        last_frame = Some(frame.frame);
                    }
                    HelperSessionEvent::Session(HelperEvent::Displays { displays, selected }) => {
                        print_displays(output, &displays, selected);
                        let wanted = args.monitor.as_deref().and_then(|name| {
                            if name.eq_ignore_ascii_case("all") {
                                Some(DisplayId::ALL)
                            } else {
                                displays.iter().find(|d| d.name == name).map(|d| d.id)
                            }
                        });
                        if args.monitor.is_some() && wanted.is_none() {
                            output.error("no such monitor on the host");
                        }
                        if let Some(id) = wanted.filter(|id| *id != selected) {
                            let _ = session.select_display(id).await;
                        }
                    }
                    HelperSessionEvent::Session(HelperEvent::Cursor(update)) => {
                        output.event(
                            "cursor",
                            json!({
                                "x": update.x,
                                "y": update.y,
                                "visible": update.visible,
                                "shape": update.shape.as_ref().map(|s| json!({
                                    "width": s.width, "height": s.height,
                                    "hot_x": s.hot_x, "hot_y": s.hot_y,
                                })),
                            }),
                            String::new,
                        );
                        pointer.update(update);
                    }
                    HelperSessionEvent::Session(HelperEvent::ClipboardSharing { enabled }) => {
                        if let Some(clipboard) = &mut clipboard
                            && let Err(e) = clipboard.set_sharing(enabled)
                        {
                            output.error(&format!("cannot use the system clipboard: {e}"));
                        }
                        output.event("clipboard_sharing", json!({ "enabled": enabled }), || {
                            format!("The host {} its clipboard.", if enabled { "shares" } else { "stopped sharing" })
                        });
                        if enabled
                            && let Some(text) = &args.copy
                            && let Err(e) = session.send_clipboard(text.clone()).await
                        {
                            output.error(&e.to_string());
                        }
                    }
                    HelperSessionEvent::Session(HelperEvent::Clipboard { text }) => {
                        // On the clipboard before the event says it came.
                        if let Some(clipboard) = &clipboard
                            && let Err(e) = clipboard.put(&text)
                        {
                            output.error(&format!("cannot put the host's text on the clipboard: {e}"));
                        }
                        output.event("clipboard", json!({ "from": "host", "text": text }), || {
                            format!("The host's clipboard: {text}")
                        });
                    }
                    HelperSessionEvent::Session(event) => {
                        if let Some(code) = session_event(event, output, &mut script) {
                            break code;
                        }
                    }
                    _ => {}
                }
            }
            () = sleep_until(step_due) => {
                if let ScriptState::Running(steps, at) = &mut script {
                    match steps.pop_front() {
                        Some(Step::Input(events)) => {
                            if let Err(e) = session.send_input(events).await {
                                output.error(&format!("input not sent: {e}"));
                            }
                        }
                        Some(Step::Wait(d)) => *at = Instant::now() + d,
                        None => {}
                    }
                    if steps.is_empty() {
                        output.event("script_done", json!({}), || "Input script finished.".into());
                        script = ScriptState::Done;
                    }
                }
            }
            Some(text) = next_copy(&mut clipboard_changes) => {
                if clipboard.as_ref().is_some_and(SystemClipboard::sharing) {
                    let bytes = text.len();
                    match session.send_clipboard(text).await {
                        Ok(()) => output.event("clipboard_sent", json!({ "bytes": bytes }), || {
                            format!("Your clipboard was sent to the host ({bytes} bytes).")
                        }),
                        Err(e) => output.error(&format!("cannot send the clipboard: {e}")),
                    }
                }
            }
            () = sleep_until(deadline) => {
                let _ = session.end().await;
                break exit::OK;
            }
        }
    };
    if let (Some(path), Some(mut frame)) = (&args.snapshot, last_frame)
        && let Err(e) = {
            pointer.draw(&mut frame);
            write_png(path, &frame)
        }
    {
        output.error(&format!("cannot write the snapshot: {e}"));
        return exit::OTHER;
    }
    code
}

/// The next text copied on this display (never, without `--clipboard system`).
async fn next_copy(changes: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match changes {
        Some(changes) => changes.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Reports a session event; returns an exit code when the session is over.
fn session_event(event: HelperEvent, output: Output, script: &mut ScriptState) -> Option<i32> {
    match event {
        HelperEvent::ControlGranted { .. } => {
            output.event("control_granted", json!({}), || {
                "You now control the host's computer.".into()
            });
            if let ScriptState::WaitingForControl(steps) =
                std::mem::replace(script, ScriptState::Done)
            {
                *script = ScriptState::Running(steps, Instant::now());
            }
        }
        HelperEvent::ControlDenied { reason } => {
            output.event(
                "control_denied",
                json!({ "reason": reason.as_str() }),
                || format!("The host did not give you control ({}).", reason.as_str()),
            );
            *script = ScriptState::Done;
        }
        HelperEvent::ControlRevoked { reason } => {
            output.event(
                "control_revoked",
                json!({ "reason": reason.as_str() }),
                || format!("The host took control back ({}).", reason.as_str()),
            );
            *script = ScriptState::Done;
        }
        HelperEvent::Paused => output.event("paused", json!({}), || {
            "The host paused the session.".into()
        }),
        HelperEvent::Resumed => output.event("resumed", json!({}), || {
            "The host resumed the session.".into()
        }),
        HelperEvent::Chat { text } => {
            output.event("chat", json!({ "from": "host", "text": text }), || {
                format!("host: {text}")
            });
        }
        HelperEvent::Ended { reason } => {
            output.event("ended", json!({ "reason": reason.as_str() }), || {
                format!("Session ended: {reason}.")
            });
            return Some(match reason {
                EndReason::ConnectionLost | EndReason::AuthTimeout => exit::UNREACHABLE,
                EndReason::ProtocolError | EndReason::VersionMismatch => exit::OTHER,
                _ => exit::OK,
            });
        }
        _ => {}
    }
    None
}

fn print_displays(output: Output, displays: &[DisplayInfo], selected: DisplayId) {
    output.event(
        "displays",
        json!({
            "displays": displays.iter().map(|d| json!({
                "id": d.id.0, "name": d.name, "primary": d.primary,
                "x": d.bounds.x, "y": d.bounds.y, "width": d.bounds.width, "height": d.bounds.height,
            })).collect::<Vec<_>>(),
            "selected": selected.0,
        }),
        || {
            let names: Vec<&str> = displays.iter().map(|d| d.name.as_str()).collect();
            format!("The host's displays: {}.", names.join(", "))
        },
    );
}

/// The host's pointer as last reported, to draw into snapshots.
#[derive(Default)]
struct Pointer {
    x: i32,
    y: i32,
    visible: bool,
    shape: Option<CursorShape>,
}

impl Pointer {
    fn update(&mut self, update: CursorUpdate) {
        self.x = update.x;
        self.y = update.y;
        self.visible = update.visible;
        if update.shape.is_some() {
            self.shape = update.shape;
        }
    }

    fn draw(&self, frame: &mut DecodedFrame) {
        if let (true, Some(shape)) = (self.visible, &self.shape) {
            frame.draw_cursor(shape, self.x, self.y);
        }
    }
}

fn write_png(path: &Path, frame: &DecodedFrame) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), frame.width, frame.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    let row = frame.width as usize * 4;
    let mut rgba = Vec::with_capacity(row * frame.height as usize);
    for y in 0..frame.height as usize {
        let start = y * frame.stride;
        let line = frame
            .data
            .get(start..start + row)
            .ok_or("frame buffer too short")?;
        for px in line.chunks_exact(4) {
            rgba.extend_from_slice(&[px[2], px[1], px[0], 255]);
        }
    }
    writer.write_image_data(&rgba).map_err(|e| e.to_string())
}
