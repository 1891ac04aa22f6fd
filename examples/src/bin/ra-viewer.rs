//! `ra-viewer`: the helper's side of ra in a window. Connects like
//! `ra-helper accept`, then shows the host's screen scaled to the window (with
//! the host's pointer), and forwards mouse and keyboard once the host grants
//! control.
//!
//! Keys: F8 asks the host for control, F9 gives it back, F7 shows the host's
//! next display. These three are never sent to the host; every other key is
//! sent by its physical position while in control.
//!
//! With `--json`, one object per line on stdout as ra-helper prints them
//! (`connected`, `control_requested`, `control_granted`, `control_denied`,
//! `control_revoked`, `control_released`, `paused`, `resumed`, `chat`,
//! `displays`, `clipboard_sharing`, `clipboard`, `clipboard_sent`, `ended`,
//! `error`), plus the window's:
//! `window` (its X id and size), `frame` (each frame put on screen: its `seq`,
//! size, and where the picture is in the window) and `cursor` (the host's
//! pointer drawn at a new place); `frame` and `cursor` are printed once the X
//! server has that picture on screen.
//!
//! While the host shares its clipboard, the viewer's X clipboard ($DISPLAY)
//! is kept in step with it: text copied here is sent to the host
//! (`clipboard_sent`), the host's text is put here (`clipboard`). Nothing is
//! read from it before the host first turns sharing on.
//!
//! Exit codes: 0 ok; 2 invalid invitation, token or usage; 3 wrong password;
//! 4 denied by the host; 5 invitation expired or closed; 6 host unreachable or
//! the connection was lost; 1 anything else (such as no display to open a
//! window on).

#[path = "../viewer/mod.rs"]
mod viewer;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use ra_examples::exit;
use ra_examples::helper_app::read_identity;
use ra_examples::output::Output;
use ra_examples::{parse_duration, parse_wxh, program};
use serde_json::json;
use tokio::sync::mpsc;
use viewer::app::{self, App};
use viewer::connect::{self, Source};
use viewer::session::{self, ControlFlag, FrameSlot, UiEvent};
use winit::event_loop::{ControlFlow, EventLoop};

/// How long the program waits for the session to say goodbye after the window closed.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

#[derive(Parser)]
#[command(
    name = "ra-viewer",
    version,
    about = "See a host's screen in a window and, with consent, control it (F8: request control, F9: release, F7: next display)"
)]
#[command(group(ArgGroup::new("source").required(true).args(["invitation", "token"])))]
struct Cli {
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
    /// Ask the host for control once connected (as F8 does).
    #[arg(long)]
    request_control: bool,
    /// Initial size of the window's inside, in pixels.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_geometry)]
    geometry: (u32, u32),
    /// Close after showing N frames.
    #[arg(long, value_name = "N")]
    exit_after_frames: Option<u64>,
    /// End the session and close after this long (e.g. 30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Close the window when the session ends (by default it stays, saying why).
    #[arg(long)]
    close_on_end: bool,
    /// Let an input method compose text, sent to the host as text rather than keys.
    #[arg(long)]
    ime: bool,
    /// How long to wait for the host to let you in.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    approval_timeout: Duration,
    /// Show the host this identity, issued by your organisation (`ra-org issue`).
    #[arg(long, value_name = "FILE.raid")]
    identity: Option<PathBuf>,
    /// Write the session's consent receipt (signed by the host, countersigned
    /// with `--identity`) to this file when it ends.
    #[arg(long, value_name = "FILE")]
    receipt: Option<PathBuf>,
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    json: bool,
}

/// Parses `--geometry` (the window): 16 to 16384 a side.
fn parse_geometry(text: &str) -> Result<(u32, u32), String> {
    parse_wxh(text, "geometry", 16384)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    program::init_logging();
    let output = Output::new(cli.json);
    let code = run(cli, output);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn run(cli: Cli, output: Output) -> i32 {
    let source = match (&cli.invitation, &cli.token) {
        (Some(path), _) => Source::File(path),
        (None, Some(token)) => Source::Token(token),
        // clap requires one of the two.
        (None, None) => {
            output.error("no invitation given");
            return exit::INVALID;
        }
    };
    let prepared = match connect::prepare(source, &cli.password, output) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let identity = match cli.identity.as_deref().map(read_identity).transpose() {
        Ok(identity) => identity.map(std::sync::Arc::new),
        Err(e) => {
            output.error(&e);
            return exit::INVALID;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            output.error(&format!("cannot start the async runtime: {e}"));
            return exit::OTHER;
        }
    };
    // The display connection before the session: the host should not have to
    // approve a helper who cannot see anything.
    let event_loop = match EventLoop::<UiEvent>::with_user_event().build() {
        Ok(l) => l,
        Err(e) => {
            output.error(&format!("cannot open a window (is DISPLAY set?): {e}"));
            return exit::OTHER;
        }
    };
    if !output.is_json() {
        println!(
            "Connecting to {} — waiting for the host to let you in…",
            prepared.host_name()
        );
    }
    let connected = runtime.block_on(connect::connect(
        prepared,
        cli.name.clone(),
        cli.approval_timeout,
        identity,
        output,
    ));
    let session = match connected {
        Ok(s) => s,
        Err(code) => return code,
    };
    let host = session.host_name().to_owned();
    output.event("connected", json!({ "host": host }), || {
        format!("Connected to {host}: view only. F8 asks for control, F9 gives it back, F7 shows the next display.")
    });

    let (commands, command_rx) = mpsc::unbounded_channel();
    let frames = FrameSlot::default();
    let control = ControlFlag::default();
    let link = session::Link {
        proxy: event_loop.create_proxy(),
        frames: frames.clone(),
        control: control.clone(),
        commands: command_rx,
    };
    let session_options = session::Options {
        request_control: cli.request_control,
        duration: cli.duration,
        close_on_end: cli.close_on_end,
        receipt: cli.receipt.clone(),
    };
    let task = runtime.spawn(session::run(session, link, session_options, output));
    let app_options = app::Options {
        host,
        geometry: cli.geometry,
        ime: cli.ime,
        exit_after_frames: cli.exit_after_frames,
    };
    let mut app = App::new(app_options, output, commands, frames, control);
    // Sleep until an event comes: frames arrive as events, nothing polls.
    event_loop.set_control_flow(ControlFlow::Wait);
    let ran = event_loop.run_app(&mut app);
    let failure = app.failure().map(str::to_owned);
    // Dropping the window's side closes the command channel: the session ends.
    drop(app);
    let ended = runtime.block_on(async { tokio::time::timeout(SHUTDOWN_WAIT, task).await });
    runtime.shutdown_timeout(Duration::from_millis(200));
    if let Err(e) = ran {
        output.error(&format!("the window failed: {e}"));
        return exit::OTHER;
    }
    if let Some(message) = failure {
        output.error(&message);
        return exit::OTHER;
    }
    match ended {
        Ok(Ok(code)) => code,
        _ => exit::OTHER,
    }
}
