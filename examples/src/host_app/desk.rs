//! The host's own desk: its panic key, the local user's activity, and its X
//! clipboard, as the session loop hears of them.

use std::time::Duration;

use ra_input::x11::{LocalActivity, PanicKey};
use tokio::sync::mpsc;

use super::args::{HostArgs, InjectKind};
use crate::clipboard::SystemClipboard;

/// How long the helper's input is ignored after local activity.
pub(super) const LOCAL_USER_WINS_FOR: Duration = Duration::from_millis(1500);

/// Signals from the host's own desk.
pub(super) enum LocalSignal {
    /// The panic key was pressed.
    PanicKey,
    /// The local user used a real mouse or keyboard.
    Activity,
}

/// What the host's own desk tells the session loop, and its clipboard.
/// Keep it for the whole session: dropping it stops the watchers.
pub struct Desk {
    /// The panic key and local activity.
    pub(super) local: mpsc::UnboundedReceiver<LocalSignal>,
    /// The X display's clipboard (`None`: no X display shared).
    pub(super) clipboard: Option<SystemClipboard>,
    /// Texts other programs put on that clipboard.
    pub(super) clipboard_changes: Option<mpsc::UnboundedReceiver<String>>,
    /// The panic key and the activity watcher (with `--inject system`), held
    /// here because dropping them stops them.
    watchers: Option<(PanicKey, Option<LocalActivity>)>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("clipboard", &self.clipboard.is_some())
            .field("watchers", &self.watchers.is_some())
            .finish_non_exhaustive()
    }
}

impl Desk {
    /// The desk `args` describe: with `--inject system` the panic key (and,
    /// with `--local-user-wins`, the activity watcher) start now; the X
    /// clipboard only connects once sharing first turns on.
    ///
    /// # Errors
    /// A message when the panic key or the watcher cannot be set up.
    pub(super) fn open(args: &HostArgs) -> Result<Self, String> {
        let (local_tx, local) = mpsc::unbounded_channel();
        let watchers = if args.inject == InjectKind::System {
            Some(start_local_watchers(args, local_tx)?)
        } else {
            None
        };
        let (clipboard, clipboard_changes) = if args.shares_x_display() {
            let (clipboard, changes) = SystemClipboard::new(args.display.clone());
            (Some(clipboard), Some(changes))
        } else {
            (None, None)
        };
        Ok(Desk {
            local,
            clipboard,
            clipboard_changes,
            watchers,
        })
    }
}

/// Starts the panic key (and the local-activity watcher with
/// `--local-user-wins`); they report through `signals`.
fn start_local_watchers(
    args: &HostArgs,
    signals: mpsc::UnboundedSender<LocalSignal>,
) -> Result<(PanicKey, Option<LocalActivity>), String> {
    let display = args.display.as_deref();
    let panic_signals = signals.clone();
    let panic_key = PanicKey::start_combo(
        display,
        &args.panic_key,
        Box::new(move || {
            let _ = panic_signals.send(LocalSignal::PanicKey);
        }),
    )
    .map_err(|e| format!("cannot set up the panic key {}: {e}", args.panic_key))?;
    let activity = if args.local_user_wins {
        Some(
            LocalActivity::start(
                display,
                Box::new(move |_| {
                    let _ = signals.send(LocalSignal::Activity);
                }),
            )
            .map_err(|e| format!("cannot watch local input: {e}"))?,
        )
    } else {
        None
    };
    Ok((panic_key, activity))
}
