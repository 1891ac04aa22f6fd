//! `ra-helper easy-connect` and `ra-helper assist`: the helper's side of the
//! code flows, and the session loop both run.

use std::collections::VecDeque;
use std::path::Path;

use ra_codec::OpenH264Decoder;
use ra_core::code::Code;
use ra_core::runtime::{
    AcceptError, AcceptOptions, ClaimError, HelperSession, HelperSessionEvent, WaitError, assist,
    easy_connect_helper,
};
use ra_core::session::{EndReason, HelperEvent};
use serde_json::json;
use tokio::time::Instant;

use super::args::{BrokerArgs, HelperArgs};
use crate::exit;
use crate::output::Output;
use crate::script::{self, Step};

/// `ra-helper easy-connect`: connect with the code the host read out.
#[derive(Debug, Clone, clap::Args)]
pub struct EasyConnectArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The host's code (case, dashes and spaces do not matter).
    #[arg(long, value_name = "CODE")]
    pub code: String,
    /// The helper's options.
    #[command(flatten)]
    pub helper: HelperArgs,
}

/// `ra-helper assist`: get a code from the broker and wait for the host.
#[derive(Debug, Clone, clap::Args)]
pub struct AssistArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The helper's options.
    #[command(flatten)]
    pub helper: HelperArgs,
}

fn accept_options(args: &HelperArgs) -> AcceptOptions {
    AcceptOptions {
        helper_name: args.name.clone(),
        approval_timeout: args.approval_timeout,
        ..AcceptOptions::default()
    }
}

fn session_exit_code(error: &AcceptError) -> i32 {
    match error {
        AcceptError::WrongPassword => exit::WRONG_PASSWORD,
        AcceptError::Denied(_) | AcceptError::Policy => exit::DENIED,
        AcceptError::Expired | AcceptError::Closed | AcceptError::UnknownSession => exit::EXPIRED,
        AcceptError::Unreachable(_) | AcceptError::ConnectionLost(_) => exit::UNREACHABLE,
        _ => exit::OTHER,
    }
}

fn read_script(path: &Path) -> Result<Vec<Step>, String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if metadata.len() > script::MAX_SCRIPT_SIZE as u64 {
        return Err(format!("{} is too large", path.display()));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    script::parse(&text).map_err(|e| e.to_string())
}

/// Runs `ra-helper easy-connect`; the exit code.
pub async fn run_easy_connect(args: EasyConnectArgs, output: Output) -> i32 {
    let code = match Code::parse(&args.code) {
        Ok(c) => c,
        Err(e) => {
            output.error(&format!("invalid code: {e}"));
            return exit::INVALID;
        }
    };
    let (broker, steps) = match prepare(&args.broker, &args.helper) {
        Ok(p) => p,
        Err(message) => {
            output.error(&message);
            return exit::INVALID;
        }
    };
    let decoder = match OpenH264Decoder::new() {
        Ok(d) => d,
        Err(e) => {
            output.error(&format!("cannot start the video decoder: {e}"));
            return exit::OTHER;
        }
    };
    let result = easy_connect_helper(
        broker,
        &code,
        accept_options(&args.helper),
        Box::new(decoder),
    )
    .await;
    let (mut session, relayed) = match result {
        Ok(s) => s,
        Err(e) => {
            output.error(&e.to_string());
            return match &e {
                ClaimError::WrongCode => exit::WRONG_PASSWORD,
                ClaimError::Unavailable => exit::EXPIRED,
                ClaimError::Unreachable(_) | ClaimError::Broker(_) => exit::UNREACHABLE,
                ClaimError::Session(inner) => session_exit_code(inner),
                _ => exit::OTHER,
            };
        }
    };
    connected(&session, relayed, output);
    run_session(&mut session, &args.helper, steps, output).await
}

/// Runs `ra-helper assist`; the exit code.
pub async fn run_assist(args: AssistArgs, output: Output) -> i32 {
    let (broker, steps) = match prepare(&args.broker, &args.helper) {
        Ok(p) => p,
        Err(message) => {
            output.error(&message);
            return exit::INVALID;
        }
    };
    let decoders = Box::new(|| {
        OpenH264Decoder::new()
            .map(|d| Box::new(d) as Box<dyn ra_core::media::Decoder>)
            .map_err(|e| e.to_string())
    });
    let offer = match assist(broker, accept_options(&args.helper), decoders).await {
        Ok(o) => o,
        Err(e) => {
            output.error(&e.to_string());
            return exit::UNREACHABLE;
        }
    };
    let code = offer.code().to_string();
    let expires = humantime::format_rfc3339_seconds(offer.expires_at()).to_string();
    output.event(
        "code",
        json!({ "code": code, "expires_at": expires, "flow": "quick_assist" }),
        || format!("Your code: {code}  (read it to the person you help; valid until {expires})"),
    );
    let (mut session, relayed) = match offer.connected().await {
        Ok(s) => s,
        Err(e) => {
            output.error(&e.to_string());
            return match &e {
                WaitError::Expired | WaitError::TooManyFailures => exit::EXPIRED,
                WaitError::Session(inner) => session_exit_code(inner),
                WaitError::Broker(_) => exit::UNREACHABLE,
                _ => exit::OTHER,
            };
        }
    };
    connected(&session, relayed, output);
    run_session(&mut session, &args.helper, steps, output).await
}

fn prepare(
    broker: &BrokerArgs,
    helper: &HelperArgs,
) -> Result<(ra_core::runtime::BrokerOptions, Option<Vec<Step>>), String> {
    let options = broker.options()?;
    let steps = helper
        .input_script
        .as_deref()
        .map(read_script)
        .transpose()?;
    Ok((options, steps))
}

fn connected(session: &HelperSession, relayed: bool, output: Output) {
    output.event(
        "connected",
        json!({ "host": session.host_name(), "relayed": relayed }),
        || {
            format!(
                "Connected to {}{}: you see the screen (view only).",
                session.host_name(),
                if relayed {
                    " through the broker's relay"
                } else {
                    ""
                }
            )
        },
    );
}

/// Where the input script stands.
enum ScriptState {
    Done,
    WaitingForControl(VecDeque<Step>),
    Running(VecDeque<Step>, Instant),
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Runs a live session until the host ends it, the goals are met or the
/// duration passed; the exit code.
async fn run_session(
    session: &mut HelperSession,
    args: &HelperArgs,
    steps: Option<Vec<Step>>,
    output: Output,
) -> i32 {
    let deadline = args.duration.map(|d| Instant::now() + d);
    let mut script = match steps {
        Some(steps) if !steps.is_empty() => ScriptState::WaitingForControl(steps.into()),
        _ => ScriptState::Done,
    };
    if let Some(text) = &args.chat
        && let Err(e) = session.chat(text.clone()).await
    {
        output.error(&e.to_string());
    }
    if (args.request_control || !matches!(script, ScriptState::Done))
        && let Err(e) = session.request_control().await
    {
        output.error(&e.to_string());
    }
    let has_goal = args.frames.is_some() || args.input_script.is_some();
    let mut frames = 0u64;
    loop {
        if has_goal
            && args.frames.is_none_or(|n| frames >= n)
            && matches!(script, ScriptState::Done)
        {
            let _ = session.end().await;
            return exit::OK;
        }
        let step_due = match &script {
            ScriptState::Running(_, at) => Some(*at),
            _ => None,
        };
        tokio::select! {
            event = session.next_event() => match event {
                None => return exit::OK,
                Some(HelperSessionEvent::Frame(frame)) => {
                    frames += 1;
                    let f = &frame.frame;
                    output.event(
                        "frame",
                        json!({ "seq": frame.seq, "width": f.width, "height": f.height, "bytes": frame.encoded_bytes }),
                        || format!("frame {}: {}x{}", frame.seq, f.width, f.height),
                    );
                }
                Some(HelperSessionEvent::Session(event)) => {
                    if let Some(code) = session_event(event, output, &mut script) {
                        return code;
                    }
                }
                Some(_) => {}
            },
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
            () = sleep_until(deadline) => {
                let _ = session.end().await;
                return exit::OK;
            }
        }
    }
}

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
        HelperEvent::Paused => output.event("paused", json!({}), || "Paused.".into()),
        HelperEvent::Resumed => output.event("resumed", json!({}), || "Resumed.".into()),
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
