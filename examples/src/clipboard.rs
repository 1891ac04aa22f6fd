//! The local X clipboard kept in step with the other side of a session: a
//! text another program puts on it is sent there (while the host shares the
//! clipboard), and a text from there is put on it.
//!
//! Shared by `ra-viewer` and `ra-helper --clipboard system` (the host's is
//! the library's own: `ra_core::desk`).
//! Nothing touches the X clipboard before it is started:
//! [`SystemClipboard::set_sharing`] starts it the first time sharing turns
//! on, so what was copied before is never sent, only later changes.

use ra_core::runtime::{HelperSession, SessionError};
use ra_input::x11::{Clipboard, X11Error};
use serde_json::json;
use tokio::sync::mpsc;

use crate::output::Output;

/// One display's clipboard and whether the session shares it now.
pub struct SystemClipboard {
    display: Option<String>,
    x11: Option<Clipboard>,
    changes: mpsc::UnboundedSender<String>,
    sharing: bool,
}

impl SystemClipboard {
    /// The clipboard of `display` (`None`: `$DISPLAY`), not started yet.
    /// Texts other programs put on it arrive on the receiver once started.
    pub fn new(display: Option<String>) -> (Self, mpsc::UnboundedReceiver<String>) {
        let (changes, receiver) = mpsc::unbounded_channel();
        let clipboard = SystemClipboard {
            display,
            x11: None,
            changes,
            sharing: false,
        };
        (clipboard, receiver)
    }

    /// Connects to the display, unless it did already.
    ///
    /// # Errors
    /// When the display cannot be reached.
    pub fn start(&mut self) -> Result<(), X11Error> {
        if self.x11.is_none() {
            let changes = self.changes.clone();
            self.x11 = Some(Clipboard::start(
                self.display.as_deref(),
                // The receiver lives as long as the session loop; after that
                // nobody needs the text.
                Box::new(move |text| {
                    let _ = changes.send(text);
                }),
            )?);
        }
        Ok(())
    }

    /// The host turned sharing on or off; the first time on, it starts.
    ///
    /// # Errors
    /// As [`SystemClipboard::start`].
    pub fn set_sharing(&mut self, enabled: bool) -> Result<(), X11Error> {
        self.sharing = enabled;
        if enabled { self.start() } else { Ok(()) }
    }

    /// Whether a local change is to be sent now (changes made while sharing
    /// is off are dropped, not sent later).
    pub fn sharing(&self) -> bool {
        self.sharing
    }

    /// Puts the other side's text on the clipboard (nothing before it started).
    ///
    /// # Errors
    /// As [`Clipboard::set_text`]: a text too long, or the connection broke.
    pub fn put(&self, text: &str) -> Result<(), X11Error> {
        match &self.x11 {
            Some(clipboard) => clipboard.set_text(text),
            None => Ok(()),
        }
    }
}

/// The next text another program put on a started clipboard (never, without
/// one: `None` stands for no system clipboard in use).
pub async fn next_change(changes: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match changes {
        Some(changes) => changes.recv().await,
        None => std::future::pending().await,
    }
}

/// Reports how sending a text copied here to the `peer` (`"host"` or
/// `"helper"`) went: a `clipboard_sent` event, or the error.
pub fn report_sent(output: Output, peer: &str, bytes: usize, sent: Result<(), SessionError>) {
    match sent {
        Ok(()) => output.event("clipboard_sent", json!({ "bytes": bytes }), || {
            format!("Your clipboard was sent to the {peer} ({bytes} bytes).")
        }),
        Err(e) => output.error(&format!("cannot send the clipboard: {e}")),
    }
}

/// Sends a text copied on the helper's display to the host, while the host
/// shares its clipboard (what is copied otherwise stays here), and reports it.
pub async fn send_to_host(
    clipboard: &SystemClipboard,
    session: &HelperSession,
    text: String,
    output: Output,
) {
    if clipboard.sharing() {
        let bytes = text.len();
        report_sent(output, "host", bytes, session.send_clipboard(text).await);
    }
}
