//! `ra-host easy-connect` and `ra-host join`: the host's side of the code
//! flows, and the console both run (events out, answers and commands in).

use std::collections::VecDeque;
use std::io::BufRead;

use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::{EncoderSettings, OpenH264Encoder};
use ra_core::audit::AuditLog;
use ra_core::code::Code;
use ra_core::input::{InputError, InputEvent, InputInjector};
use ra_core::policy::Policy;
use ra_core::runtime::{
    ClaimError, CodeHostSession, HostBackends, HostHandle, InviteOptions, WaitError,
    easy_connect_host, join,
};
use ra_core::session::{ConnectionId, HostEvent};
use ra_input::{NullInjector, event_to_json, release_all_to_json};
use serde_json::json;
use tokio::sync::mpsc;

use super::args::{Answer, BrokerArgs, HostArgs, InjectKind};
use crate::output::Output;

/// `ra-host easy-connect`: get a code from the broker and wait for the helper.
#[derive(Debug, Clone, clap::Args)]
pub struct EasyConnectArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The host's options.
    #[command(flatten)]
    pub host: HostArgs,
}

/// `ra-host join`: connect with the code the helper read out.
#[derive(Debug, Clone, clap::Args)]
pub struct JoinArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The helper's code (case, dashes and spaces do not matter).
    #[arg(long, value_name = "CODE")]
    pub code: String,
    /// The host's options.
    #[command(flatten)]
    pub host: HostArgs,
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

/// The session options and backends `args` ask for.
fn prepare(args: &HostArgs, output: Output) -> Result<(InviteOptions, HostBackends), String> {
    let policy = match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| e.to_string())?,
        None => Policy::default(),
    };
    let audit_log = match &args.audit_log {
        Some(path) => Some(AuditLog::open(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let (width, height) = args.size;
    let injector: Box<dyn InputInjector> = match args.inject {
        InjectKind::Log => Box::new(PrintInjector { output }),
        InjectKind::None => Box::new(NullInjector::new()),
    };
    let backends = HostBackends {
        capturer: Box::new(SyntheticCapturer::new(SyntheticConfig {
            width,
            height,
            frame_rate: 30.0,
        })),
        encoder: Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        injector,
    };
    let options = InviteOptions {
        host_name: args.name.clone(),
        policy,
        audit_log,
        ..InviteOptions::default()
    };
    Ok((options, backends))
}

/// Runs `ra-host easy-connect`; the exit code.
pub async fn run_easy_connect(args: EasyConnectArgs, output: Output) -> u8 {
    let (broker, (options, backends)) = match (args.broker.options(), prepare(&args.host, output)) {
        (Ok(b), Ok(p)) => (b, p),
        (Err(e), _) | (_, Err(e)) => {
            output.error(&e);
            return 2;
        }
    };
    let mut host = match easy_connect_host(broker, options, backends).await {
        Ok(h) => h,
        Err(e) => {
            output.error(&e.to_string());
            return match e {
                WaitError::Host(ra_core::runtime::InviteError::Policy) => 5,
                _ => 1,
            };
        }
    };
    let code = host.code().to_string();
    let expires = humantime::format_rfc3339_seconds(host.expires_at()).to_string();
    output.event(
        "code",
        json!({ "code": code, "expires_at": expires, "flow": "easy_connect" }),
        || format!("Your code: {code}  (read it to your helper; valid until {expires})"),
    );
    let result = console(&mut host, &args.host, output).await;
    host.shutdown().await;
    result
}

/// Runs `ra-host join`; the exit code.
pub async fn run_join(args: JoinArgs, output: Output) -> u8 {
    let code = match Code::parse(&args.code) {
        Ok(c) => c,
        Err(e) => {
            output.error(&format!("invalid code: {e}"));
            return 2;
        }
    };
    let (broker, (options, backends)) = match (args.broker.options(), prepare(&args.host, output)) {
        (Ok(b), Ok(p)) => (b, p),
        (Err(e), _) | (_, Err(e)) => {
            output.error(&e);
            return 2;
        }
    };
    let mut host: CodeHostSession = match join(broker, &code, options, backends).await {
        Ok(h) => h,
        Err(e) => {
            output.error(&e.to_string());
            return match e {
                ClaimError::Unavailable => 5,
                ClaimError::Unreachable(_) | ClaimError::Broker(_) => 6,
                ClaimError::RateLimited { .. } => 7,
                _ => 1,
            };
        }
    };
    let relayed = host.relayed().unwrap_or(false);
    output.event("joined", json!({ "relayed": relayed }), || {
        format!(
            "Connected to the helper{}; waiting for it to authenticate.",
            if relayed {
                " through the broker's relay"
            } else {
                ""
            }
        )
    });
    let result = console(&mut host, &args.host, output).await;
    host.shutdown().await;
    result
}

/// What the host is waiting for the user to answer.
enum Question {
    Connect(ConnectionId),
    Control(ConnectionId),
}

/// Prints the session's events, answers questions and runs stdin commands
/// until the session is over; the exit code.
pub async fn console(host: &mut HostHandle, args: &HostArgs, output: Output) -> u8 {
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
    let mut failed_auth = false;
    loop {
        tokio::select! {
            event = host.next_event() => {
                let Some(event) = event else { return 0 };
                if let Some(code) = on_event(host, args, output, event, &mut questions, &mut live, &mut failed_auth).await {
                    return code;
                }
            }
            line = lines.recv(), if stdin_open => match line {
                Some(line) => {
                    if on_line(host, output, line.trim(), &mut questions).await {
                        return 0;
                    }
                }
                None => stdin_open = false,
            },
        }
    }
}

async fn on_event(
    host: &HostHandle,
    args: &HostArgs,
    output: Output,
    event: HostEvent,
    questions: &mut VecDeque<Question>,
    live: &mut bool,
    failed_auth: &mut bool,
) -> Option<u8> {
    match event {
        HostEvent::ConnectionRequest {
            conn,
            helper_name,
            peer,
        } => {
            output.event(
                "connection_request",
                json!({ "helper": helper_name, "peer": peer.to_string() }),
                || format!("{helper_name} ({peer}) knows the code and wants to see your screen."),
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
        } => {
            *failed_auth = true;
            output.event(
                "auth_failed",
                json!({ "peer": peer.to_string(), "attempts": attempts, "max_attempts": max_attempts }),
                || format!("Wrong code from {peer} (attempt {attempts} of {max_attempts})."),
            );
        }
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
        HostEvent::Paused { .. } => output.event("paused", json!({}), || "Paused.".into()),
        HostEvent::Resumed { .. } => output.event("resumed", json!({}), || "Resumed.".into()),
        HostEvent::Chat { text, .. } => {
            output.event("chat", json!({ "from": "helper", "text": text }), || {
                format!("helper: {text}")
            });
        }
        HostEvent::Ended { conn, reason } => {
            questions.retain(
                |q| !matches!(q, Question::Connect(c) | Question::Control(c) if *c == conn),
            );
            output.event("ended", json!({ "reason": reason.as_str() }), || {
                format!("Session ended: {reason}.")
            });
            if *live {
                return Some(0);
            }
        }
        HostEvent::InvitationClosed { reason } => {
            output.event(
                "invitation_closed",
                json!({ "reason": reason.as_str() }),
                || format!("The code is closed ({}).", reason.as_str()),
            );
            if !*live {
                return Some(if *failed_auth { 3 } else { 0 });
            }
        }
        other => tracing::debug!(?other, "unhandled event"),
    }
    None
}

async fn answer(
    host: &HostHandle,
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

async fn decide(host: &HostHandle, output: Output, question: Question, yes: bool) {
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
async fn on_line(
    host: &HostHandle,
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
        "quit" => return true,
        other => {
            output.error(&format!(
                "unknown command {other:?}: y, n, revoke, pause, resume, chat TEXT, end, quit"
            ));
            return false;
        }
    };
    if let Err(e) = result {
        output.error(&e.to_string());
    }
    false
}
