//! What the person at the host answers and types: `y`/`n` to pending
//! questions, and the stdin commands.

use std::collections::VecDeque;
use std::time::Duration;

use ra_core::policy::Policy;
use ra_core::runtime::HostHandle;
use ra_core::session::{ConnectionId, ControlScopes};

use super::args::{Answer, HostArgs};
use crate::output::Output;

/// What a grant of control gives: `--grant-scopes`, `--grant-for`, or a
/// `grant [SCOPES] [DURATION]` line.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grant {
    pub(super) scopes: ControlScopes,
    pub(super) duration: Option<Duration>,
}

/// What the host is waiting for the user to answer.
pub(super) enum Question {
    Connect(ConnectionId),
    Control(ConnectionId),
}

impl Question {
    /// Whether the question is about `conn`.
    pub(super) fn concerns(&self, conn: ConnectionId) -> bool {
        matches!(self, Question::Connect(c) | Question::Control(c) if *c == conn)
    }
}

/// Answers `question` as `policy` says, or queues it for a `y`/`n` line.
pub(super) async fn answer(
    host: &HostHandle,
    output: Output,
    (policy, grant): (Answer, Grant),
    question: Question,
    questions: &mut VecDeque<Question>,
) {
    match policy {
        Answer::Yes => decide(host, output, question, Some(grant)).await,
        Answer::No => decide(host, output, question, None).await,
        Answer::Ask => {
            if !output.is_json() {
                println!("Allow? [y/n]");
            }
            questions.push_back(question);
        }
    }
}

/// Says yes (with what a grant of control gives) or no (`None`).
async fn decide(host: &HostHandle, output: Output, question: Question, yes: Option<Grant>) {
    let result = match (question, yes) {
        (Question::Connect(conn), Some(_)) => host.approve(conn).await,
        (Question::Connect(conn), None) => host.deny(conn).await,
        (Question::Control(conn), Some(grant)) => {
            host.grant_control_with(conn, grant.scopes, grant.duration)
                .await
        }
        (Question::Control(conn), None) => host.deny_control(conn).await,
    };
    if let Err(e) = result {
        output.error(&e.to_string());
    }
}

/// Handles one stdin line; true to quit.
pub(super) async fn handle_line(
    host: &HostHandle,
    args: &HostArgs,
    output: Output,
    (line, grant): (&str, Grant),
    questions: &mut VecDeque<Question>,
) -> bool {
    let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
    let result = match command.to_ascii_lowercase().as_str() {
        "" => return false,
        "y" | "yes" | "n" | "no" => {
            let yes = command.starts_with(['y', 'Y']).then_some(grant);
            match questions.pop_front() {
                Some(q) => decide(host, output, q, yes).await,
                None => output.error("nothing to answer"),
            }
            return false;
        }
        "grant" => {
            let terms = match parse_grant(rest, grant) {
                Ok(terms) => terms,
                Err(e) => {
                    output.error(&e);
                    return false;
                }
            };
            match questions
                .iter()
                .position(|q| matches!(q, Question::Control(_)))
                .and_then(|i| questions.remove(i))
            {
                Some(q) => decide(host, output, q, Some(terms)).await,
                None => output.error("the helper has not asked for control"),
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
        "redact" => match parse_redactions(rest) {
            Ok(rects) => host.set_redactions(rects).await,
            Err(e) => {
                output.error(&e);
                return false;
            }
        },
        "redact-window" => match rest.trim() {
            "" => {
                output.error("redact-window CLASS [CLASS …] or redact-window none");
                return false;
            }
            "none" => host.set_redacted_windows(Vec::new()).await,
            list => {
                host.set_redacted_windows(list.split_whitespace().map(str::to_owned).collect())
                    .await
            }
        },
        "resume-ticket" => {
            if let Err(e) = super::resume::issue(host, args, rest, output).await {
                output.error(&e);
            }
            return false;
        }
        "quit" => return true,
        other => {
            output.error(&format!(
                "unknown command {other:?}: y, n, grant [SCOPES] [DURATION], revoke, pause, resume, chat TEXT, clipboard on|off, copy TEXT, policy FILE, redact X,Y,W,H …|none, redact-window CLASS …|none, resume-ticket [DURATION], end, quit"
            ));
            return false;
        }
    };
    if let Err(e) = result {
        output.error(&e.to_string());
    }
    false
}

/// Reads `grant [SCOPES] [DURATION]`'s arguments (either may be left out,
/// then `defaults`' is used).
fn parse_grant(rest: &str, defaults: Grant) -> Result<Grant, String> {
    let mut grant = defaults;
    for word in rest.split_whitespace() {
        if let Ok(scopes) = word.parse::<ControlScopes>() {
            grant.scopes = scopes;
        } else {
            grant.duration = Some(crate::parse_duration(word).map_err(|e| {
                format!(
                    "grant [SCOPES] [DURATION]: {word:?} is neither scopes nor a duration ({e})"
                )
            })?);
        }
    }
    Ok(grant)
}

/// The rectangles of a `redact X,Y,W,H [X,Y,W,H …]` line (`redact none`:
/// none).
fn parse_redactions(rest: &str) -> Result<Vec<ra_core::media::Rect>, String> {
    match rest.trim() {
        "" => Err("redact X,Y,W,H [X,Y,W,H …] or redact none".into()),
        "none" => Ok(Vec::new()),
        list => list.split_whitespace().map(crate::parse_rect).collect(),
    }
}
