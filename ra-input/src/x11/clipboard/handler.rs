//! The clipboard's event handler, on its worker thread: serves our text to
//! other clients, notices other clients taking the clipboard (XFixes) and
//! fetches their text, and drives the transfers that [`super::Clipboard::text`]
//! waits for.

use std::sync::Arc;
use std::time::Duration;

use x11rb::NONE;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::Window;
use x11rb::rust_connection::RustConnection;

use super::atoms::Atoms;
use super::serve;
use super::transfer::{Fetched, Transfer};
use super::{OnChange, Shared};
use crate::x11::error::X11Error;

/// A fetch older than this is taken as lost (its owner never answered) when
/// the next change comes, so one silent owner cannot stop the watching.
const STALE_AFTER: Duration = Duration::from_secs(5);

/// State owned by the worker thread.
pub(super) struct Handler {
    pub(super) atoms: Atoms,
    /// Our owner window: the clipboard is ours while it owns it.
    pub(super) owner: Window,
    /// Fetches the text of other clients' changes.
    pub(super) watch: Transfer,
    /// The owner changed again while `watch` was running: its text is stale.
    pub(super) again: bool,
    pub(super) on_change: OnChange,
    pub(super) shared: Arc<Shared>,
}

impl Handler {
    /// Handles one event; an error (the connection broke) ends the thread.
    pub(super) fn handle(&mut self, conn: &RustConnection, event: Event) -> Result<(), X11Error> {
        match event {
            Event::SelectionRequest(request) => {
                // Cloned so the lock is not held across requests to the server.
                let text = self.shared.texts().owned.clone();
                serve::answer(conn, &self.atoms, self.owner, text.as_deref(), &request)
            }
            Event::XfixesSelectionNotify(change) if change.selection == self.atoms.CLIPBOARD => {
                self.owner_changed(conn, change.owner)
            }
            Event::SelectionNotify(notify) if notify.requestor == self.watch.window() => {
                match self.watch.on_selection_notify(conn, &self.atoms, &notify)? {
                    Some(fetched) => self.watched(conn, fetched),
                    None => Ok(()),
                }
            }
            Event::PropertyNotify(change) if change.window == self.watch.window() => {
                match self.watch.on_property_notify(conn, &change)? {
                    Some(fetched) => self.watched(conn, fetched),
                    None => Ok(()),
                }
            }
            Event::SelectionNotify(notify) => {
                let mut read = self.shared.read();
                let fetched = read
                    .transfer
                    .on_selection_notify(conn, &self.atoms, &notify)?;
                read.deliver(fetched);
                Ok(())
            }
            Event::PropertyNotify(change) => {
                let mut read = self.shared.read();
                let fetched = read.transfer.on_property_notify(conn, &change)?;
                read.deliver(fetched);
                Ok(())
            }
            // A SelectionClear needs nothing: the server sends requests only
            // to the owner, so a text we no longer own is never served.
            _ => Ok(()),
        }
    }

    fn owner_changed(&mut self, conn: &RustConnection, owner: Window) -> Result<(), X11Error> {
        // Our own set_text, or the owner went away with its text: nothing new.
        if owner == self.owner || owner == NONE {
            return Ok(());
        }
        match self.watch.busy_since() {
            Some(since) if since.elapsed() < STALE_AFTER => {
                self.again = true;
                Ok(())
            }
            _ => {
                self.again = false;
                self.watch.start(conn, &self.atoms)
            }
        }
    }

    /// A watch fetch finished.
    fn watched(&mut self, conn: &RustConnection, fetched: Fetched) -> Result<(), X11Error> {
        if std::mem::take(&mut self.again) {
            // Only the newest text matters; this one was replaced meanwhile.
            return self.watch.start(conn, &self.atoms);
        }
        match fetched {
            Fetched::Text(text) => {
                let mut texts = self.shared.texts();
                // The text we set or reported last coming back (a clipboard
                // manager taking it over, say) is no change: reporting it
                // would echo it between host and helper forever.
                if texts.last.as_deref() == Some(text.as_str()) {
                    return Ok(());
                }
                texts.last = Some(text.clone());
                drop(texts);
                (self.on_change)(text);
            }
            Fetched::Empty => {}
            Fetched::TooLong => tracing::info!("the clipboard text is too long to share"),
        }
        Ok(())
    }
}
