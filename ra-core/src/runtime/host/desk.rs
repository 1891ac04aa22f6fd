//! The host's desk backends as the driver runs them: the watchers started
//! with the session (and kept, since dropping one stops it), and the
//! clipboard, which the endpoint starts and feeds through [`DeskCommand`]s.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::desk::{
    DeskClipboard, DeskPart, DeskSignal, DeskSink, DeskWatcher, DesktopConsent, HostDesk,
};
use crate::runtime::error::InviteError;
use crate::session::DeskCommand;

pub(super) struct DeskDriver {
    /// Watching until dropped, with the session.
    _watchers: Vec<Box<dyn DeskWatcher>>,
    clipboard: Option<Box<dyn DeskClipboard>>,
    sink: DeskSink,
    /// How long the helper's input is held back after local input.
    pub(super) local_user_wins: Duration,
    /// Why the desk has no panic key and no local-input watcher, if so.
    pub(super) limitation: Option<String>,
    /// The desktop's own consent, for the audit log.
    pub(super) desktop_consent: Option<DesktopConsent>,
}

impl DeskDriver {
    /// Starts the desk's watchers; what they see goes to `signals`.
    ///
    /// # Errors
    /// [`InviteError::Backend`] when a watcher cannot start.
    pub(super) fn start(
        desk: HostDesk,
        signals: mpsc::Sender<DeskSignal>,
    ) -> Result<Self, InviteError> {
        let sink = DeskSink::new(move |signal| {
            // Nobody listens once the session is over (an error then).
            match signal {
                // The next one says the same: dropped when the driver is behind.
                DeskSignal::LocalInput => {
                    let _ = signals.try_send(signal);
                }
                // Never dropped: a watcher's own thread waits for room.
                _ if tokio::runtime::Handle::try_current().is_err() => {
                    let _ = signals.blocking_send(signal);
                }
                _ => {
                    if let Err(mpsc::error::TrySendError::Full(signal)) = signals.try_send(signal) {
                        let signals = signals.clone();
                        tokio::spawn(async move {
                            let _ = signals.send(signal).await;
                        });
                    }
                }
            }
        });
        let mut watchers = Vec::new();
        for (part, watcher) in [
            ("panic key", desk.panic_key),
            ("local input watcher", desk.local_input),
        ] {
            if let Some(mut watcher) = watcher {
                watcher
                    .start(sink.clone())
                    .map_err(|e| InviteError::backend(part, e))?;
                watchers.push(watcher);
            }
        }
        Ok(DeskDriver {
            _watchers: watchers,
            clipboard: desk.clipboard,
            sink,
            local_user_wins: desk.local_user_wins,
            limitation: desk.limitation,
            desktop_consent: desk.desktop_consent,
        })
    }

    /// Carries out one of the endpoint's desk commands (nothing without a
    /// clipboard); a failure as the part and what to tell the application.
    pub(super) fn apply(&mut self, command: DeskCommand) -> Result<(), (DeskPart, String)> {
        let Some(clipboard) = self.clipboard.as_mut() else {
            return Ok(());
        };
        let result = match command {
            DeskCommand::StartClipboard => clipboard
                .start(self.sink.clone())
                .map_err(|e| format!("cannot use the system clipboard: {e}")),
            DeskCommand::PutClipboard(text) => clipboard
                .set_text(&text)
                .map_err(|e| format!("cannot put the helper's text on the clipboard: {e}")),
        };
        result.map_err(|message| (DeskPart::Clipboard, message))
    }
}
