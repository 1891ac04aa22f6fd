//! The session's events, printed, and acted on where the host has a say
//! (questions).

use std::collections::VecDeque;

use ra_core::runtime::HostHandle;
use ra_core::session::{HelperVerification, HostEvent, UNVERIFIED_HELPER_WARNING};
use serde_json::json;

use super::args::HostArgs;
use super::commands::{Grant, Question, answer};
use super::serve::Credential;
use crate::output::Output;

/// Whether the session loop goes on.
pub(super) enum Flow {
    Continue,
    Exit(u8),
}

/// The session loop's state that events change.
pub(super) struct State<'a> {
    pub(super) questions: &'a mut VecDeque<Question>,
    /// A helper got in (the next `ended` ends the program).
    pub(super) live: &'a mut bool,
    /// Someone tried a wrong password or code.
    pub(super) failed_auth: &'a mut bool,
}

/// What the host's options and session kind say about events.
pub(super) struct Context<'a> {
    pub(super) host: &'a HostHandle,
    pub(super) args: &'a HostArgs,
    pub(super) credential: Credential,
    pub(super) output: Output,
}

/// Prints `event` and acts on it.
pub(super) async fn handle_event(cx: &Context<'_>, event: HostEvent, state: State<'_>) -> Flow {
    let Context {
        host,
        args,
        credential,
        output,
    } = *cx;
    let State {
        questions,
        live,
        failed_auth,
    } = state;
    let secret = credential.secret();
    match event {
        HostEvent::ConnectionRequest {
            conn,
            helper_name,
            peer,
            verification,
            resumes,
        } => {
            let (verified, warning, problem) = describe_verification(&verification);
            let resumed = resumes.map(|session| session.to_string());
            output.event(
                "connection_request",
                json!({
                    "helper": helper_name,
                    "peer": peer.to_string(),
                    "verified": verified,
                    "warning": warning,
                    "identity_problem": problem,
                    "resumes": resumed,
                }),
                || {
                    let who = match &verification {
                        HelperVerification::Verified {
                            organisation,
                            helper,
                            ..
                        } => format!("{helper} of {organisation} (verified)"),
                        _ => format!("{helper_name} (NOT verified)"),
                    };
                    let warning = warning.map(|w| format!("\n{w}")).unwrap_or_default();
                    if let Some(session) = &resumed {
                        return format!(
                            "{who} ({peer}) wants to resume session {session} (from its resume ticket) and see your screen again.{warning}"
                        );
                    }
                    format!(
                        "{who} ({peer}) knows the {secret} and wants to see your screen.{warning}"
                    )
                },
            );
            let question = Question::Connect(conn);
            answer(
                host,
                output,
                (args.approve, grant(args)),
                question,
                questions,
            )
            .await;
        }
        HostEvent::ConnectionRefused {
            helper_name,
            peer,
            reason,
            ..
        } => output.event(
            "connection_refused",
            json!({ "helper": helper_name, "peer": peer.to_string(), "reason": reason }),
            || format!("Refused {helper_name} ({peer}): not a verified helper: {reason}."),
        ),
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
                || format!("Wrong {secret} from {peer} (attempt {attempts} of {max_attempts})."),
            );
        }
        HostEvent::Connected { helper_name, .. } => {
            *live = true;
            output.event("connected", json!({ "helper": helper_name }), || {
                format!("{helper_name} now sees your screen (view only).")
            });
        }
        HostEvent::ControlRequested { conn, scopes } => {
            output.event(
                "control_requested",
                json!({ "scopes": scopes.names() }),
                || format!("The helper asks to control your computer ({scopes})."),
            );
            let question = Question::Control(conn);
            answer(
                host,
                output,
                (args.approve_control, grant(args)),
                question,
                questions,
            )
            .await;
        }
        HostEvent::ClipboardSharing { enabled, .. } => {
            // The library started the system clipboard before this event.
            output.event("clipboard_sharing", json!({ "enabled": enabled }), || {
                format!("Clipboard sharing {}.", if enabled { "on" } else { "off" })
            });
        }
        HostEvent::Clipboard { text, .. } => {
            // The library put it on the system clipboard before this event.
            output.event(
                "clipboard",
                json!({ "from": "helper", "text": text }),
                || format!("The helper's clipboard: {text}"),
            );
        }
        HostEvent::Receipt { receipt, .. } => {
            crate::receipt_file::store(output, args.receipt.as_deref(), &receipt);
        }
        HostEvent::Ended { conn, reason } => {
            questions.retain(|q| !q.concerns(conn));
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
                || {
                    format!(
                        "The {} is closed ({}).",
                        credential.offer(),
                        reason.as_str()
                    )
                },
            );
            if !*live {
                return Flow::Exit(credential.closed_exit(*failed_auth));
            }
        }
        other => report(output, other),
    }
    Flow::Continue
}

/// Prints the events that only inform.
fn report(output: Output, event: HostEvent) {
    match event {
        HostEvent::ControlGranted {
            scopes, expires_at, ..
        } => {
            let until = expires_at.map(|at| humantime::format_rfc3339_seconds(at).to_string());
            output.event(
                "control_granted",
                json!({ "scopes": scopes.names(), "expires_at": until }),
                || {
                    let until = until.map(|t| format!(" until {t}")).unwrap_or_default();
                    format!(
                        "The helper now controls your computer ({scopes}){until}. Type `revoke` to take it back."
                    )
                },
            )
        }
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
        HostEvent::PanicKey => output.event("panic_key", json!({}), || "Panic key pressed.".into()),
        HostEvent::ClipboardSent { bytes, .. } => {
            output.event("clipboard_sent", json!({ "bytes": bytes }), || {
                format!("Your clipboard was sent to the helper ({bytes} bytes).")
            })
        }
        HostEvent::DeskFailed { message, .. } => output.error(&message),
        HostEvent::CaptureFailed {
            source_lost,
            message,
        } => output.event(
            "capture_failed",
            json!({"source_lost": source_lost, "message": message}),
            || format!("The screen cannot be captured: {message}"),
        ),
        HostEvent::ConnectionInterrupted { .. } => {
            output.event("connection_interrupted", json!({}), || {
                "The network to the helper went dark; its keys are released, waiting for it."
                    .to_owned()
            })
        }
        HostEvent::ConnectionRestored { silent_for, .. } => output.event(
            "connection_restored",
            json!({ "silent_ms": silent_for.as_millis() }),
            || format!("The network is back after {:.1} s.", silent_for.as_secs_f64()),
        ),
        HostEvent::DeskLimited { reason } => output.event(
            "desk_limited",
            json!({"panic_key": false, "local_user_wins": false, "reason": reason}),
            || format!("No panic key and no local-user-wins here: {reason}"),
        ),
        HostEvent::RedactionsChanged { areas, windows } => output.event(
            "redactions",
            json!({ "areas": areas, "windows": windows }),
            || {
                if areas.is_empty() && windows.is_empty() {
                    "Nothing on your screen is masked now.".to_owned()
                } else {
                    format!(
                        "Masked, never sent: {} part(s) of your screen and the windows {windows:?}.",
                        areas.len()
                    )
                }
            },
        ),
        HostEvent::DisplaySelected { display, .. } => {
            output.event("display_selected", json!({ "display": display.0 }), || {
                format!("The helper watches display {}.", display.0)
            })
        }
        HostEvent::DisplayRefused { display, .. } => {
            output.event("display_refused", json!({ "display": display.0 }), || {
                format!(
                    "The helper asked for display {}, which you do not share.",
                    display.0
                )
            })
        }
        HostEvent::Pointer { x, y, kind, .. } => output.event(
            "pointer",
            json!({ "x": x, "y": y, "kind": format!("{kind:?}").to_lowercase() }),
            || format!("The helper points at ({x}, {y})."),
        ),
        other => tracing::debug!(?other, "unhandled event"),
    }
}

/// The `verified` object of a connection request (null when not
/// verified), the warning to show with an unverified helper, and why an
/// identity it showed was not accepted.
fn describe_verification(
    verification: &HelperVerification,
) -> (serde_json::Value, Option<&'static str>, Option<String>) {
    match verification {
        HelperVerification::Verified {
            organisation,
            organisation_key,
            helper,
            helper_key,
            expires,
        } => (
            json!({
                "organisation": organisation,
                "organisation_key": organisation_key.to_string(),
                "helper": helper,
                "helper_key": helper_key.to_string(),
                "expires": humantime::format_rfc3339_seconds(*expires).to_string(),
            }),
            None,
            None,
        ),
        HelperVerification::Unverified { problem, .. } => (
            serde_json::Value::Null,
            Some(UNVERIFIED_HELPER_WARNING),
            problem.clone(),
        ),
        _ => (
            serde_json::Value::Null,
            Some(UNVERIFIED_HELPER_WARNING),
            None,
        ),
    }
}

/// What a grant of control gives, as the options say.
fn grant(args: &HostArgs) -> Grant {
    Grant {
        scopes: args.grant_scopes,
        duration: args.grant_for,
    }
}
