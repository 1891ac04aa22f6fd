//! The driver's commands to the host's capture/encode thread, bounded by
//! construction: what waits is the latest wish of each kind (the stream to
//! send on, the display, the mask, whether a keyframe is due), never a queue.
//! The driver never waits for the thread, and a thread stuck in a capture
//! cannot make the driver's commands pile up; what a later command of the
//! same kind replaces is no longer wanted anyway (a `Stop` after a `Start`,
//! the second of two display selections).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::media::{DisplayId, Rect};

/// Commands for the host's capture/encode thread.
pub(crate) enum PipelineCommand {
    /// Send video on this connection.
    Start(quinn::Connection),
    /// Stop sending video.
    Stop,
    /// Make the next frame a keyframe of the whole picture.
    Keyframe,
    /// Capture another display.
    SelectDisplay(DisplayId),
    /// Paint these desktop rectangles, and the windows of these classes
    /// wherever they are, black in every picture from now on (the host's
    /// redaction mask; empty: none).
    Redact {
        /// Fixed rectangles.
        rects: Vec<Rect>,
        /// Window classes the mask follows.
        windows: Vec<String>,
    },
}

/// What the driver asked for and the thread has not taken yet.
#[derive(Default)]
struct Pending {
    /// `Start` or `Stop`, whichever came last.
    stream: Option<PipelineCommand>,
    /// The mask, as last set.
    redact: Option<PipelineCommand>,
    /// The display last selected.
    display: Option<DisplayId>,
    keyframe: bool,
    /// The driver is gone.
    closed: bool,
}

impl Pending {
    /// The next command, in an order that gives what applying them one by
    /// one would: the stream first (a `Start` also asks for a keyframe), the
    /// mask before the picture it masks, then the display, then a keyframe.
    fn take(&mut self) -> Option<PipelineCommand> {
        self.stream
            .take()
            .or_else(|| self.redact.take())
            .or_else(|| self.display.take().map(PipelineCommand::SelectDisplay))
            .or_else(|| std::mem::take(&mut self.keyframe).then_some(PipelineCommand::Keyframe))
    }
}

struct Mailbox {
    pending: Mutex<Pending>,
    changed: Condvar,
}

impl Mailbox {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Each field is replaced whole; a panic cannot leave half an update.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The driver's end.
pub(crate) struct PipelineCommands(std::sync::Arc<Mailbox>);

/// The thread's end.
pub(crate) struct CommandInbox(std::sync::Arc<Mailbox>);

/// Why [`CommandInbox::recv_timeout`] returned no command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RecvTimeoutError {
    Timeout,
    Disconnected,
}

/// Both ends of a pipeline's commands.
pub(crate) fn pipeline_commands() -> (PipelineCommands, CommandInbox) {
    let mailbox = std::sync::Arc::new(Mailbox {
        pending: Mutex::new(Pending::default()),
        changed: Condvar::new(),
    });
    (
        PipelineCommands(std::sync::Arc::clone(&mailbox)),
        CommandInbox(mailbox),
    )
}

impl PipelineCommands {
    /// Leaves `command` for the thread, replacing any of its kind not yet
    /// taken. Never waits.
    pub(crate) fn send(&self, command: PipelineCommand) {
        let mut pending = self.0.lock();
        match command {
            PipelineCommand::Start(_) | PipelineCommand::Stop => pending.stream = Some(command),
            PipelineCommand::Redact { .. } => pending.redact = Some(command),
            PipelineCommand::SelectDisplay(display) => pending.display = Some(display),
            PipelineCommand::Keyframe => pending.keyframe = true,
        }
        drop(pending);
        self.0.changed.notify_one();
    }
}

impl Drop for PipelineCommands {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.changed.notify_one();
    }
}

impl CommandInbox {
    /// Waits for the next command; `Err` once the driver is gone and
    /// nothing is left.
    pub(crate) fn recv(&self) -> Result<PipelineCommand, RecvTimeoutError> {
        self.wait(None)
    }

    /// Waits up to `timeout` for the next command.
    pub(crate) fn recv_timeout(
        &self,
        timeout: Duration,
    ) -> Result<PipelineCommand, RecvTimeoutError> {
        self.wait(Some(timeout))
    }

    fn wait(&self, timeout: Option<Duration>) -> Result<PipelineCommand, RecvTimeoutError> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut pending = self.0.lock();
        loop {
            if let Some(command) = pending.take() {
                return Ok(command);
            }
            if pending.closed {
                return Err(RecvTimeoutError::Disconnected);
            }
            pending = match deadline {
                None => self
                    .0
                    .changed
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(RecvTimeoutError::Timeout);
                    }
                    self.0
                        .changed
                        .wait_timeout(pending, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(inbox: &CommandInbox) -> Vec<&'static str> {
        let mut seen = Vec::new();
        while let Ok(command) = inbox.recv_timeout(Duration::ZERO) {
            seen.push(match command {
                PipelineCommand::Start(_) => "start",
                PipelineCommand::Stop => "stop",
                PipelineCommand::Keyframe => "keyframe",
                PipelineCommand::SelectDisplay(_) => "display",
                PipelineCommand::Redact { .. } => "redact",
            });
        }
        seen
    }

    #[test]
    fn a_flood_of_commands_leaves_one_of_each_kind() {
        let (commands, inbox) = pipeline_commands();
        for i in 0..100_000u32 {
            commands.send(PipelineCommand::Keyframe);
            commands.send(PipelineCommand::SelectDisplay(DisplayId(i % 3)));
            commands.send(PipelineCommand::Redact {
                rects: Vec::new(),
                windows: Vec::new(),
            });
        }
        commands.send(PipelineCommand::Stop);
        assert_eq!(kinds(&inbox), ["stop", "redact", "display", "keyframe"]);
        assert_eq!(
            inbox.recv_timeout(Duration::from_millis(1)).err(),
            Some(RecvTimeoutError::Timeout)
        );
    }

    #[test]
    fn the_last_display_selected_wins_and_a_gone_driver_is_seen() {
        let (commands, inbox) = pipeline_commands();
        commands.send(PipelineCommand::SelectDisplay(DisplayId(1)));
        commands.send(PipelineCommand::SelectDisplay(DisplayId(2)));
        drop(commands);
        assert!(matches!(
            inbox.recv(),
            Ok(PipelineCommand::SelectDisplay(DisplayId(2)))
        ));
        assert_eq!(inbox.recv().err(), Some(RecvTimeoutError::Disconnected));
    }
}
