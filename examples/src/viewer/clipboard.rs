//! The local X clipboard kept in step with the other side of a session: a
//! text another program puts on it is sent there (while the host shares the
//! clipboard), and a text from there is put on it.
//!
//! Shared by `ra-viewer`, `ra-helper --clipboard system` and `ra-host` (which
//! include this file). Nothing touches the X clipboard before it is started:
//! [`SystemClipboard::set_sharing`] starts it the first time sharing turns
//! on, so what was copied before is never sent, only later changes.

use ra_input::x11::{Clipboard, X11Error};
use tokio::sync::mpsc;

/// One display's clipboard and whether the session shares it now.
pub(crate) struct SystemClipboard {
    display: Option<String>,
    x11: Option<Clipboard>,
    changes: mpsc::UnboundedSender<String>,
    sharing: bool,
}

impl SystemClipboard {
    /// The clipboard of `display` (`None`: `$DISPLAY`), not started yet.
    /// Texts other programs put on it arrive on the receiver once started.
    pub(crate) fn new(display: Option<String>) -> (Self, mpsc::UnboundedReceiver<String>) {
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
    pub(crate) fn start(&mut self) -> Result<(), X11Error> {
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
    pub(crate) fn set_sharing(&mut self, enabled: bool) -> Result<(), X11Error> {
        self.sharing = enabled;
        if enabled { self.start() } else { Ok(()) }
    }

    /// Whether a local change is to be sent now (changes made while sharing
    /// is off are dropped, not sent later).
    pub(crate) fn sharing(&self) -> bool {
        self.sharing
    }

    /// Puts the other side's text on the clipboard (nothing before it started).
    pub(crate) fn put(&self, text: &str) -> Result<(), X11Error> {
        match &self.x11 {
            Some(clipboard) => clipboard.set_text(text),
            None => Ok(()),
        }
    }
}
