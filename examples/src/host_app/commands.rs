//! What the person at the host answers and types: `y`/`n` to pending
//! questions, and the stdin commands.

use std::collections::VecDeque;

use ra_core::policy::Policy;
use ra_core::runtime::HostHandle;
use ra_core::session::ConnectionId;

use super::args::Answer;
use crate::output::Output;

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
pub(super) async fn handle_line(
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
