//! The host's session loop: events out; answers and stdin commands in. The
//! desk (panic key, local activity, clipboard) is the library's.

use std::collections::VecDeque;
use std::io::BufRead;

use ra_core::runtime::HostHandle;
use tokio::sync::mpsc;

use super::args::HostArgs;
use super::commands::{Grant, Question, handle_line};
use super::events::{Context, Flow, State, handle_event};
use crate::output::Output;
use crate::stats::{StatsTicker, print_stats};

/// How the helper proves itself to this host: the word the messages use,
/// and what a closed invitation or code means for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An invitation and its password (`invite`).
    Password,
    /// A short code (`easy-connect`, `join`).
    Code,
    /// A resume ticket (`resume`).
    ResumeTicket,
}

impl Credential {
    /// What the helper has to know.
    pub(super) fn secret(self) -> &'static str {
        match self {
            Credential::Password => "password",
            Credential::Code => "code",
            Credential::ResumeTicket => "resume ticket",
        }
    }

    /// What closes when the host takes no more helpers.
    pub(super) fn offer(self) -> &'static str {
        match self {
            Credential::Password => "invitation",
            Credential::Code => "code",
            Credential::ResumeTicket => "resumed session",
        }
    }

    /// The exit code when the invitation or code closed before anyone got in.
    /// A code closes for good after a wrong secret (one try in Quick
    /// Assist), so that is a failure (3, as the helper's wrong password); an
    /// invitation's wrong passwords are reported as `auth_failed` and it
    /// exits 0, as it always has.
    pub(super) fn closed_exit(self, failed_auth: bool) -> u8 {
        match self {
            Credential::Code if failed_auth => 3,
            _ => 0,
        }
    }
}

/// Serves the session until it is over: prints its events, answers as
/// `args` say (or asks on stdin) and runs stdin commands; the exit code.
pub async fn serve(
    host: &mut HostHandle,
    args: &HostArgs,
    credential: Credential,
    output: Output,
) -> u8 {
    let mut lines = stdin_lines();
    let mut questions: VecDeque<Question> = VecDeque::new();
    let mut stdin_open = true;
    let mut live = false;
    let mut failed_auth = false;
    let mut stats = StatsTicker::new(args.stats);
    if !args.redact.is_empty()
        && let Err(e) = host.set_redactions(args.redact.clone()).await
    {
        output.error(&format!("--redact: {e}"));
        return 2;
    }
    if !args.redact_window.is_empty()
        && let Err(e) = host.set_redacted_windows(args.redact_window.clone()).await
    {
        output.error(&format!("--redact-window: {e}"));
        return 2;
    }
    loop {
        tokio::select! {
            event = host.next_event() => {
                let Some(event) = event else { return 0 };
                let cx = Context { host, args, credential, output };
                let state = State {
                    questions: &mut questions,
                    live: &mut live,
                    failed_auth: &mut failed_auth,
                };
                if let Flow::Exit(code) = handle_event(&cx, event, state).await {
                    return code;
                }
            }
            line = lines.recv(), if stdin_open => match line {
                Some(line) => {
                    let grant = Grant { scopes: args.grant_scopes, duration: args.grant_for };
                    if handle_line(host, args, output, (line.trim(), grant), &mut questions).await {
                        return 0;
                    }
                }
                None => stdin_open = false,
            },
            () = stats.tick(), if live => print_stats(output, &host.stats()),
        }
    }
}

/// Lines of stdin, read on a thread of their own: reading blocks, and the
/// runtime must not.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (lines_tx, lines) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    lines
}
