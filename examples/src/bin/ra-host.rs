//! `ra-host`: share this screen with a helper.
//!
//! `ra-host invite` opens an invitation (file, token or email; the password is
//! shown here and must be given to the helper separately), asks before letting
//! the helper in and before giving control, and takes commands on stdin:
//! `revoke`, `pause`, `resume`, `chat TEXT`, `clipboard on|off` (share the
//! clipboard, if the policy allows it), `copy TEXT` (send clipboard text),
//! `policy FILE` (apply a new policy at once), `end`, `quit`.
//!
//! Sharing an X display (`--capture screen` or `--inject system`), the
//! display's own clipboard is shared too while clipboard sharing is on: text
//! copied there is sent to the helper, and the helper's text is put there
//! (and printed as the `clipboard` event).

#[path = "../viewer/clipboard.rs"]
mod clipboard;

use std::collections::VecDeque;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use clipboard::SystemClipboard;
use ra_capture::x11::X11Capturer;
use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::{EncoderSettings, OpenH264Encoder};
use ra_core::audit::AuditLog;
use ra_core::input::{InputError, InputEvent, InputInjector};
use ra_core::invitation::EmailOptions;
use ra_core::media::{Capturer, DisplayId};
use ra_core::policy::Policy;
use ra_core::runtime::{HostBackends, HostSession, InviteOptions, invite};
use ra_core::session::{ConnectionId, HostEvent};
use ra_examples::broker_cli;
use ra_examples::output::Output;
use ra_examples::parse_duration;
use ra_input::x11::{LocalActivity, PanicKey};
use ra_input::{EnigoInjector, NullInjector, event_to_json, release_all_to_json};
use serde_json::json;
use tokio::sync::mpsc;

#[derive(Parser)]
#[command(
    name = "ra-host",
    version,
    about = "Share this screen with a helper (the host side of ra)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Open an invitation and wait for the helper.
    Invite(InviteArgs),
    /// Easy Connect: get a short code from a broker, read it to the helper, wait.
    EasyConnect(broker_cli::host::EasyConnectArgs),
    /// Quick Assist: connect with the code the helper read out to you.
    Join(broker_cli::host::JoinArgs),
    /// Check the network and the firewall for remote assistance through a broker.
    Diagnose(broker_cli::diagnose::DiagnoseArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Answer {
    /// Ask on stdin (answer `y` or `n`).
    Ask,
    /// Always yes.
    Yes,
    /// Always no.
    No,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CaptureKind {
    /// A moving test pattern (no display needed).
    Synthetic,
    /// The X11 screen (MIT-SHM, damage tracking, cursor, monitors).
    Screen,
    /// The portable xcap backend (built with the `xcap` feature).
    #[cfg(feature = "xcap")]
    Xcap,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum InjectKind {
    /// Print the helper's input instead of injecting it.
    Log,
    /// Drop the helper's input.
    None,
    /// Inject into the X11 display (enigo), with a local panic key.
    System,
}

#[derive(clap::Args)]
struct InviteArgs {
    /// Save the invitation file here. It holds no password: tell the helper the password separately.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also print the invitation as a one-line token the helper can paste.
    #[arg(long)]
    token: bool,
    /// Write the invitation as an email message (.eml, invitation attached, no password) to FILE.
    #[arg(long, value_name = "FILE.eml", requires = "to")]
    email: Option<PathBuf>,
    /// The email's recipient (repeat for several).
    #[arg(long, value_name = "ADDR", requires = "email")]
    to: Vec<String>,
    /// The email's sender.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "remote-assistance@localhost"
    )]
    from: String,
    /// How long the invitation stays open; the policy may cap it.
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_duration)]
    lifetime: Duration,
    /// Where to listen for the helper (port 0: any free port).
    #[arg(long, value_name = "IP:PORT", default_value = "0.0.0.0:0")]
    listen: SocketAddr,
    /// Where the picture comes from.
    #[arg(long, value_enum, default_value = "synthetic")]
    capture: CaptureKind,
    /// Size of the synthetic screen.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    size: (u32, u32),
    /// The X display to share and inject into (default: $DISPLAY).
    #[arg(long, value_name = ":N")]
    display: Option<String>,
    /// The monitor to share first, by name (see the `displays` event), or `all`.
    #[arg(long, value_name = "NAME|all")]
    monitor: Option<String>,
    /// The local key combination that takes control back at once (with `--inject system`).
    #[arg(long, value_name = "COMBO", default_value = "ctrl+alt+pause")]
    panic_key: String,
    /// While the local user types or moves the mouse, ignore the helper's input (with `--inject system`).
    #[arg(long)]
    local_user_wins: bool,
    /// What happens to the helper's input while it has control.
    #[arg(long, value_enum, default_value = "log")]
    inject: InjectKind,
    /// Whether to let a helper in (after it proved it knows the password).
    #[arg(long, value_enum, default_value = "ask")]
    approve: Answer,
    /// Whether to give the helper control when it asks.
    #[arg(long, value_enum, default_value = "ask")]
    approve_control: Answer,
    /// The host policy (TOML): allow_assistance, allow_control, max_invitation_lifetime, approval_timeout.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Append the audit log (one JSON object per line) to this file.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// The name the helper sees.
    #[arg(long, default_value = "ra host")]
    name: String,
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    json: bool,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("invalid size {text:?}: expected WxH, e.g. 1280x720"))?;
    let parse = |v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|n| (16..=8192).contains(n))
            .ok_or_else(|| format!("invalid size {text:?}: sides must be 16 to 8192"))
    };
    Ok((parse(w)?, parse(h)?))
}

/// Prints the helper's input (`--inject log`).
struct PrintInjector {
    output: Output,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let output = Output::new(match &cli.command {
        Command::Invite(args) => args.json,
        Command::EasyConnect(args) => args.host.json,
        Command::Join(args) => args.host.json,
        Command::Diagnose(args) => args.json,
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            output.error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Invite(args) => run(args, output).await,
            Command::EasyConnect(args) => broker_cli::host::run_easy_connect(args, output).await,
            Command::Join(args) => broker_cli::host::run_join(args, output).await,
            Command::Diagnose(args) => broker_cli::diagnose::run(args, output).await,
        }
    });
    // Threads blocked on stdin must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(200));
    ExitCode::from(code)
}

async fn run(args: InviteArgs, output: Output) -> u8 {
    let policy = match &args.policy {
        Some(path) => match Policy::load(path) {
            Ok(p) => p,
            Err(e) => {
                output.error(&e.to_string());
                return 2;
            }
        },
        None => Policy::default(),
    };
    let audit_log = match &args.audit_log {
        Some(path) => match AuditLog::open(path) {
            Ok(log) => Some(log),
            Err(e) => {
                output.error(&e.to_string());
                return 2;
            }
        },
        None => None,
    };
    let (capturer, display) = match open_capturer(&args) {
        Ok(c) => c,
        Err((code, message)) => {
            output.error(&message);
            return code;
        }
    };
    let injector: Box<dyn InputInjector> = match args.inject {
        InjectKind::Log => Box::new(PrintInjector { output }),
        InjectKind::None => Box::new(NullInjector::new()),
        InjectKind::System => match EnigoInjector::new(args.display.as_deref()) {
            Ok(injector) => Box::new(injector),
            Err(e) => {
                output.error(&format!("cannot inject input: {e}"));
                return 1;
            }
        },
    };
    let (local_tx, local_rx) = mpsc::unbounded_channel();
    // Kept alive for the whole session; dropping them stops the watchers.
    let _watchers = if args.inject == InjectKind::System {
        match start_local_watchers(&args, local_tx) {
            Ok(w) => Some(w),
            Err(message) => {
                output.error(&message);
                return 1;
            }
        }
    } else {
        None
    };
    let backends = HostBackends {
        capturer,
        encoder: Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        injector,
    };
    let options = InviteOptions {
        host_name: args.name.clone(),
        lifetime: args.lifetime,
        listen: args.listen,
        advertise: Vec::new(),
        policy,
        audit_log,
        display,
    };
    let mut host = match invite(options, backends).await {
        Ok(h) => h,
        Err(e) => {
            output.error(&e.to_string());
            return match e {
                ra_core::runtime::InviteError::Policy => 5,
                _ => 1,
            };
        }
    };
    if let Err(message) = publish_invitation(&host, &args, output) {
        output.error(&message);
        return 1;
    }
    // The X display's clipboard; it connects once sharing first turns on.
    let (clipboard, clipboard_rx) = if shares_x_display(&args) {
        let (clipboard, changes) = SystemClipboard::new(args.display.clone());
        (Some(clipboard), Some(changes))
    } else {
        (None, None)
    };
    let mut desk = Desk {
        local: local_rx,
        clipboard,
        clipboard_changes: clipboard_rx,
    };
    let code = serve(&mut host, &args, output, &mut desk).await;
    host.shutdown().await;
    code
}

/// A failure with the exit code to leave with.
type Failure = (u8, String);

/// Opens the screen source and resolves `--monitor` (the display to share first).
fn open_capturer(args: &InviteArgs) -> Result<(Box<dyn Capturer>, Option<DisplayId>), Failure> {
    let capturer: Box<dyn Capturer> = match args.capture {
        CaptureKind::Synthetic => {
            let (width, height) = args.size;
            Box::new(SyntheticCapturer::new(SyntheticConfig {
                width,
                height,
                frame_rate: 30.0,
            }))
        }
        CaptureKind::Screen => Box::new(
            X11Capturer::connect(args.display.as_deref())
                .map_err(|e| (1, format!("cannot capture the screen: {e}")))?,
        ),
        #[cfg(feature = "xcap")]
        CaptureKind::Xcap => Box::new(
            ra_capture::XcapCapturer::new()
                .map_err(|e| (1, format!("cannot capture the screen: {e}")))?,
        ),
    };
    let display = match args.monitor.as_deref() {
        None => None,
        Some(name) if name.eq_ignore_ascii_case("all") => Some(DisplayId::ALL),
        Some(name) => {
            let displays = capturer
                .displays()
                .map_err(|e| (1, format!("cannot list the displays: {e}")))?;
            let found = displays.iter().find(|d| d.name == name).map(|d| d.id);
            Some(found.ok_or_else(|| {
                let names: Vec<&str> = displays.iter().map(|d| d.name.as_str()).collect();
                (
                    2,
                    format!(
                        "no monitor named {name:?}; there are: {}, all",
                        names.join(", ")
                    ),
                )
            })?)
        }
    };
    Ok((capturer, display))
}

/// Whether the host shares an X display (and so has its clipboard).
fn shares_x_display(args: &InviteArgs) -> bool {
    args.capture == CaptureKind::Screen || args.inject == InjectKind::System
}

/// What the host's own desk tells the session loop, and its clipboard.
struct Desk {
    /// The panic key and local activity.
    local: mpsc::UnboundedReceiver<LocalSignal>,
    /// The X display's clipboard (`None`: no X display shared).
    clipboard: Option<SystemClipboard>,
    /// Texts other programs put on that clipboard.
    clipboard_changes: Option<mpsc::UnboundedReceiver<String>>,
}

/// The next text copied on the host's X clipboard (never, without one).
async fn next_copy(changes: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match changes {
        Some(changes) => changes.recv().await,
        None => std::future::pending().await,
    }
}

/// Signals from the host's own desk.
enum LocalSignal {
    /// The panic key was pressed.
    PanicKey,
    /// The local user used a real mouse or keyboard.
    Activity,
}

/// How long the helper's input is ignored after local activity.
const LOCAL_USER_WINS_FOR: Duration = Duration::from_millis(1500);

/// Starts the panic key (and the local-activity watcher with
/// `--local-user-wins`); they report through `signals`.
fn start_local_watchers(
    args: &InviteArgs,
    signals: mpsc::UnboundedSender<LocalSignal>,
) -> Result<(PanicKey, Option<LocalActivity>), String> {
    let display = args.display.as_deref();
    let panic_signals = signals.clone();
    let panic_key = PanicKey::start_combo(
        display,
        &args.panic_key,
        Box::new(move || {
            let _ = panic_signals.send(LocalSignal::PanicKey);
        }),
    )
    .map_err(|e| format!("cannot set up the panic key {}: {e}", args.panic_key))?;
    let activity = if args.local_user_wins {
        Some(
            LocalActivity::start(
                display,
                Box::new(move |_| {
                    let _ = signals.send(LocalSignal::Activity);
                }),
            )
            .map_err(|e| format!("cannot watch local input: {e}"))?,
        )
    } else {
        None
    };
    Ok((panic_key, activity))
}

/// Writes the invitation where asked and prints it with the password.
fn publish_invitation(host: &HostSession, args: &InviteArgs, output: Output) -> Result<(), String> {
    let invitation = host.invitation();
    if let Some(path) = &args.out {
        invitation.save(path).map_err(|e| e.to_string())?;
    }
    let mut mailto = None;
    if let Some(path) = &args.email {
        let email = invitation
            .to_email(&EmailOptions {
                from: args.from.clone(),
                to: args.to.clone(),
                subject: None,
            })
            .map_err(|e| e.to_string())?;
        std::fs::write(path, email).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        mailto = Some(invitation.mailto_uri(&args.to));
    }
    let token = invitation.to_token();
    let expires = humantime::format_rfc3339_seconds(invitation.expires_at).to_string();
    let password = host.password().to_string();
    output.event(
        "invitation",
        json!({
            "file": args.out.as_ref().map(|p| p.display().to_string()),
            "password": password,
            "expires_at": expires,
            "token": token,
            "email": args.email.as_ref().map(|p| p.display().to_string()),
            "mailto": mailto,
            "addresses": invitation.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "session_id": invitation.session_id.to_string(),
        }),
        || {
            let mut text = String::from("Invitation open.\n");
            if let Some(path) = &args.out {
                text += &format!(
                    "  Invitation file: {} (send it to your helper)\n",
                    path.display()
                );
            }
            if let Some(path) = &args.email {
                text += &format!(
                    "  Email message:   {} (open it in your mail program)\n",
                    path.display()
                );
            }
            if args.token || (args.out.is_none() && args.email.is_none()) {
                text += &format!("  Token:           {token}\n");
            }
            text += &format!(
                "  Password:        {password}  (tell it to your helper by phone or in person)\n"
            );
            text += &format!("  Expires:         {expires}");
            text
        },
    );
    Ok(())
}

/// What the host is waiting for the user to answer.
enum Question {
    Connect(ConnectionId),
    Control(ConnectionId),
}

async fn serve(host: &mut HostSession, args: &InviteArgs, output: Output, desk: &mut Desk) -> u8 {
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut questions: VecDeque<Question> = VecDeque::new();
    let mut stdin_open = true;
    let mut live = false;
    loop {
        tokio::select! {
            event = host.next_event() => {
                let Some(event) = event else { return 0 };
                let state = State {
                    questions: &mut questions,
                    live: &mut live,
                    clipboard: desk.clipboard.as_mut(),
                };
                match handle_event(host, args, output, event, state).await {
                    Flow::Continue => {}
                    Flow::Exit(code) => return code,
                }
            }
            line = lines.recv(), if stdin_open => match line {
                Some(line) => {
                    if handle_line(host, output, line.trim(), &mut questions).await {
                        return 0;
                    }
                }
                None => stdin_open = false,
            },
            Some(text) = next_copy(&mut desk.clipboard_changes) => {
                if desk.clipboard.as_ref().is_some_and(SystemClipboard::sharing) {
                    let bytes = text.len();
                    match host.send_clipboard(text).await {
                        Ok(()) => output.event("clipboard_sent", json!({ "bytes": bytes }), || {
                            format!("Your clipboard was sent to the helper ({bytes} bytes).")
                        }),
                        Err(e) => output.error(&format!("cannot send the clipboard: {e}")),
                    }
                }
            }
            Some(signal) = desk.local.recv() => match signal {
                LocalSignal::PanicKey => {
                    output.event("panic_key", json!({}), || "Panic key pressed.".into());
                    // Not granted is fine: the key works whenever it is pressed.
                    let _ = host.revoke_panic_key().await;
                }
                LocalSignal::Activity => {
                    let _ = host.local_input_seen(LOCAL_USER_WINS_FOR).await;
                }
            },
        }
    }
}

enum Flow {
    Continue,
    Exit(u8),
}

/// The session loop's state that events change.
struct State<'a> {
    questions: &'a mut VecDeque<Question>,
    live: &'a mut bool,
    clipboard: Option<&'a mut SystemClipboard>,
}

async fn handle_event(
    host: &HostSession,
    args: &InviteArgs,
    output: Output,
    event: HostEvent,
    state: State<'_>,
) -> Flow {
    let State {
        questions,
        live,
        clipboard,
    } = state;
    match event {
        HostEvent::ConnectionRequest {
            conn,
            helper_name,
            peer,
        } => {
            output.event(
                "connection_request",
                json!({ "helper": helper_name, "peer": peer.to_string() }),
                || {
                    format!(
                        "{helper_name} ({peer}) knows the password and wants to see your screen."
                    )
                },
            );
            answer(
                host,
                output,
                args.approve,
                Question::Connect(conn),
                questions,
            )
            .await;
        }
        HostEvent::AuthFailed {
            peer,
            attempts,
            max_attempts,
            ..
        } => output.event(
            "auth_failed",
            json!({ "peer": peer.to_string(), "attempts": attempts, "max_attempts": max_attempts }),
            || format!("Wrong password from {peer} (attempt {attempts} of {max_attempts})."),
        ),
        HostEvent::Connected { helper_name, .. } => {
            *live = true;
            output.event("connected", json!({ "helper": helper_name }), || {
                format!("{helper_name} now sees your screen (view only).")
            });
        }
        HostEvent::ControlRequested { conn } => {
            output.event("control_requested", json!({}), || {
                "The helper asks to control your computer.".to_owned()
            });
            answer(
                host,
                output,
                args.approve_control,
                Question::Control(conn),
                questions,
            )
            .await;
        }
        HostEvent::ControlGranted { .. } => output.event("control_granted", json!({}), || {
            "The helper now controls your computer. Type `revoke` to take it back.".to_owned()
        }),
        HostEvent::ControlDenied { reason, .. } => output.event(
            "control_denied",
            json!({ "reason": reason.as_str() }),
            || format!("Control denied ({}).", reason.as_str()),
        ),
        HostEvent::ControlRevoked { reason, .. } => output.event(
            "control_revoked",
            json!({ "reason": reason.as_str() }),
            || format!("Control taken back ({}).", reason.as_str()),
        ),
        HostEvent::Paused { .. } => {
            output.event("paused", json!({}), || "Paused: screen hidden.".into())
        }
        HostEvent::Resumed { .. } => output.event("resumed", json!({}), || "Resumed.".into()),
        HostEvent::Chat { text, .. } => {
            output.event("chat", json!({ "from": "helper", "text": text }), || {
                format!("helper: {text}")
            })
        }
        HostEvent::Pointer { x, y, kind, .. } => output.event(
            "pointer",
            json!({ "x": x, "y": y, "kind": format!("{kind:?}").to_lowercase() }),
            || format!("The helper points at ({x}, {y})."),
        ),
        HostEvent::ClipboardSharing { enabled, .. } => {
            // Started before the event is printed: whoever reads it may copy at once.
            if let Some(clipboard) = clipboard
                && let Err(e) = clipboard.set_sharing(enabled)
            {
                output.error(&format!("cannot use the system clipboard: {e}"));
            }
            output.event("clipboard_sharing", json!({ "enabled": enabled }), || {
                format!("Clipboard sharing {}.", if enabled { "on" } else { "off" })
            })
        }
        HostEvent::Clipboard { text, .. } => {
            // On the clipboard before the event says it came.
            if let Some(clipboard) = clipboard
                && let Err(e) = clipboard.put(&text)
            {
                output.error(&format!(
                    "cannot put the helper's text on the clipboard: {e}"
                ));
            }
            output.event(
                "clipboard",
                json!({ "from": "helper", "text": text }),
                || format!("The helper's clipboard: {text}"),
            )
        }
        HostEvent::Ended { conn, reason } => {
            questions.retain(
                |q| !matches!(q, Question::Connect(c) | Question::Control(c) if *c == conn),
            );
            output.event("ended", json!({ "reason": reason.as_str() }), || {
                format!("Session ended: {reason}.")
            });
            if *live {
                return Flow::Exit(0);
            }
        }
        HostEvent::InvitationClosed { reason } => {
            output.event(
                "invitation_closed",
                json!({ "reason": reason.as_str() }),
                || format!("The invitation is closed ({}).", reason.as_str()),
            );
            if !*live {
                return Flow::Exit(0);
            }
        }
        other => tracing::debug!(?other, "unhandled event"),
    }
    Flow::Continue
}

async fn answer(
    host: &HostSession,
    output: Output,
    policy: Answer,
    question: Question,
    questions: &mut VecDeque<Question>,
) {
    match policy {
        Answer::Yes => decide(host, output, question, true).await,
        Answer::No => decide(host, output, question, false).await,
        Answer::Ask => {
            if !output.is_json() {
                println!("Allow? [y/n]");
            }
            questions.push_back(question);
        }
    }
}

async fn decide(host: &HostSession, output: Output, question: Question, yes: bool) {
    let result = match (question, yes) {
        (Question::Connect(conn), true) => host.approve(conn).await,
        (Question::Connect(conn), false) => host.deny(conn).await,
        (Question::Control(conn), true) => host.grant_control(conn).await,
        (Question::Control(conn), false) => host.deny_control(conn).await,
    };
    if let Err(e) = result {
        output.error(&e.to_string());
    }
}

/// Handles one stdin line; true to quit.
async fn handle_line(
    host: &HostSession,
    output: Output,
    line: &str,
    questions: &mut VecDeque<Question>,
) -> bool {
    let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
    let result = match command.to_ascii_lowercase().as_str() {
        "" => return false,
        "y" | "yes" | "n" | "no" => {
            let yes = command.starts_with(['y', 'Y']);
            match questions.pop_front() {
                Some(q) => decide(host, output, q, yes).await,
                None => output.error("nothing to answer"),
            }
            return false;
        }
        "revoke" => host.revoke().await,
        "pause" => host.pause().await,
        "resume" => host.resume().await,
        "chat" => host.chat(rest.trim()).await,
        "end" => host.end().await,
        "clipboard" => match rest.trim() {
            "on" => host.set_clipboard_sharing(true).await,
            "off" => host.set_clipboard_sharing(false).await,
            _ => {
                output.error("clipboard on|off");
                return false;
            }
        },
        "copy" => host.send_clipboard(rest.trim_start()).await,
        "policy" => match Policy::load(std::path::Path::new(rest.trim())) {
            // Applies at once: turning control off revokes a grant.
            Ok(policy) => host.set_policy(policy).await,
            Err(e) => {
                output.error(&e.to_string());
                return false;
            }
        },
        "quit" => return true,
        other => {
            output.error(&format!(
                "unknown command {other:?}: y, n, revoke, pause, resume, chat TEXT, clipboard on|off, copy TEXT, policy FILE, end, quit"
            ));
            return false;
        }
    };
    if let Err(e) = result {
        output.error(&e.to_string());
    }
    false
}
