//! The helper's session loop: events in, the input script and clipboard out,
//! until the host ends the session, `--duration` passed, or every goal
//! (`--frames`, the script) is met.

use std::collections::VecDeque;

use ra_core::media::DecodedFrame;
use ra_core::runtime::HelperSession;
use serde_json::json;
use tokio::time::Instant;

use super::args::HelperArgs;
use super::setup::SessionSetup;
use super::snapshot::{self, Pointer};
use crate::clipboard::{SystemClipboard, next_change, send_to_host};
use crate::exit;
use crate::output::Output;
use crate::script::Step;
use crate::stats::{StatsTicker, print_stats};

/// Where the input script stands.
pub(super) enum ScriptState {
    /// No script, or it ran, or control was refused.
    Done,
    /// Waiting for control.
    WaitingForControl(VecDeque<Step>),
    /// Running: the next step is due at the instant.
    Running(VecDeque<Step>, Instant),
}

/// What the loop keeps between events.
pub(super) struct Progress<'a> {
    pub(super) args: &'a HelperArgs,
    pub(super) output: Output,
    pub(super) script: ScriptState,
    pub(super) frames: u64,
    pub(super) last_frame: Option<DecodedFrame>,
    pub(super) pointer: Pointer,
    /// The system clipboard (`--clipboard system`).
    pub(super) clipboard: Option<SystemClipboard>,
    /// The host came back with its resume ticket and has not approved yet.
    pub(super) resuming: bool,
}

/// Runs a live session until the host ends it, the goals are met or the
/// duration passed, then writes the snapshot; the exit code.
pub async fn run_session(
    session: &mut HelperSession,
    args: &HelperArgs,
    setup: SessionSetup,
    output: Output,
) -> i32 {
    let (clipboard, mut clipboard_changes) = setup.clipboard.unzip();
    let deadline = args.duration.map(|d| Instant::now() + d);
    let mut run = Progress {
        args,
        output,
        script: match setup.steps {
            Some(steps) if !steps.is_empty() => ScriptState::WaitingForControl(steps.into()),
            _ => ScriptState::Done,
        },
        frames: 0,
        last_frame: None,
        pointer: Pointer::default(),
        clipboard,
        resuming: false,
    };
    if let Some(text) = &args.chat
        && let Err(e) = session.chat(text.clone()).await
    {
        output.error(&e.to_string());
    }
    if (args.request_control || !matches!(run.script, ScriptState::Done))
        && let Err(e) = session.request_control().await
    {
        output.error(&e.to_string());
    }
    let mut stats = StatsTicker::new(args.stats);
    let code = loop {
        if run.goals_met() {
            break end_here(session, output).await;
        }
        let step_due = match &run.script {
            ScriptState::Running(_, at) => Some(*at),
            _ => None,
        };
        tokio::select! {
            event = session.next_event() => {
                let Some(event) = event else { break exit::OK };
                if let Some(code) = run.on_event(session, event).await {
                    break code;
                }
            }
            () = sleep_until(step_due) => run.next_step(session).await,
            Some(text) = next_change(&mut clipboard_changes) => run.local_copy(session, text).await,
            () = sleep_until(deadline) => break end_here(session, output).await,
            () = stats.tick() => print_stats(output, &session.stats()),
        }
    };
    run.finish(code)
}

/// Ends the session from this side and says so, as when the host ends it;
/// the exit code.
async fn end_here(session: &HelperSession, output: Output) -> i32 {
    let _ = session.end().await;
    super::events::print_ended(output, ra_core::session::EndReason::HelperEnded);
    exit::OK
}

/// Sleeps until `at` (forever without one).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Progress<'_> {
    /// Whether everything asked for is done (never, when nothing was asked:
    /// then the session runs until the host ends it or `--duration`).
    fn goals_met(&self) -> bool {
        let has_goal = self.args.frames.is_some() || self.args.input_script.is_some();
        has_goal
            && self.args.frames.is_none_or(|n| self.frames >= n)
            && matches!(self.script, ScriptState::Done)
    }

    /// Sends the script's next step (it was due).
    async fn next_step(&mut self, session: &HelperSession) {
        let ScriptState::Running(steps, at) = &mut self.script else {
            return;
        };
        match steps.pop_front() {
            Some(Step::Input(events)) => {
                if let Err(e) = session.send_input(events).await {
                    self.output.error(&format!("input not sent: {e}"));
                }
            }
            Some(Step::Wait(d)) => *at = Instant::now() + d,
            None => {}
        }
        if steps.is_empty() {
            self.output
                .event("script_done", json!({}), || "Input script finished.".into());
            self.script = ScriptState::Done;
        }
    }

    /// Sends a text copied on this display to the host (while it shares).
    async fn local_copy(&self, session: &HelperSession, text: String) {
        if let Some(clipboard) = &self.clipboard {
            send_to_host(clipboard, session, text, self.output).await;
        }
    }

    /// Writes the snapshot; the exit code (`code`, unless that fails).
    fn finish(self, code: i32) -> i32 {
        if let (Some(path), Some(frame)) = (&self.args.snapshot, self.last_frame)
            && let Err(e) = snapshot::write(path, frame, &self.pointer)
        {
            self.output
                .error(&format!("cannot write the snapshot: {e}"));
            return exit::OTHER;
        }
        code
    }
}
