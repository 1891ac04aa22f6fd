//! [`Clipboard`]: the X11 CLIPBOARD selection, as text.

mod atoms;
mod handler;
mod serve;
mod transfer;

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ra_core::session::MAX_CLIPBOARD_LEN;
use x11rb::connection::{Connection as _, RequestConnection as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _, SelectionEventMask};
use x11rb::protocol::xproto::{
    ConnectionExt as _, CreateWindowAux, EventMask, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::{COPY_DEPTH_FROM_PARENT, COPY_FROM_PARENT, CURRENT_TIME};

use self::atoms::Atoms;
use self::handler::Handler;
use self::transfer::{Fetched, Transfer};
use super::connect;
use super::error::{OrX11, X11Error};
use super::worker::Worker;

/// How long [`Clipboard::text`] waits for the clipboard's owner to answer.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The callback for other clients' clipboard texts.
type OnChange = Box<dyn Fn(String) + Send>;

/// The CLIPBOARD selection of one X display, as text (what Ctrl+C and Ctrl+V
/// use; not the PRIMARY selection of middle-click pasting).
///
/// - [`Clipboard::set_text`] makes this client the clipboard's owner with the
///   text; it answers other clients' requests for it as `UTF8_STRING`,
///   `text/plain;charset=utf-8`, `TEXT` or (Latin-1) `STRING`, until another
///   client takes the clipboard or this one is dropped (as every X clipboard
///   owner does: the text leaves with its owner).
/// - Whenever another client takes the clipboard, its text is fetched and
///   handed to `on_change` (told by the X server through XFixes, no polling).
///   Texts this client set itself, and a text equal to the one set or
///   reported last (a clipboard manager taking a copy), are not reported,
///   so two clipboards fed from each other's `on_change` cannot echo.
/// - [`Clipboard::text`] reads the clipboard now.
///
/// Texts longer than [`MAX_CLIPBOARD_LEN`] bytes (what a session carries)
/// are refused by `set_text`, not reported to `on_change` and an error from
/// `text`.
///
/// It runs on its own X connection and thread; dropping it closes the
/// connection and joins the thread.
pub struct Clipboard {
    worker: Worker,
    shared: Arc<Shared>,
    atoms: Atoms,
    owner: Window,
    /// One read at a time: they share a requestor window.
    reading: Mutex<()>,
}

impl std::fmt::Debug for Clipboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clipboard")
            .field("owner", &self.owner)
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl Clipboard {
    /// Starts on `display` (`None`: `$DISPLAY`). `on_change` runs on the
    /// clipboard's thread with each text another client puts on the
    /// clipboard, and must not block (send it on a channel).
    ///
    /// # Errors
    /// [`X11Error::MissingExtension`] without XFixes, [`X11Error::Connect`]
    /// and others when the display cannot be used.
    pub fn start(
        display: Option<&str>,
        on_change: Box<dyn Fn(String) + Send>,
    ) -> Result<Self, X11Error> {
        let (conn, screen) = connect(display)?;
        let root = screen.root;
        if conn
            .extension_information(xfixes::X11_EXTENSION_NAME)
            .or_x11()?
            .is_none()
        {
            return Err(X11Error::MissingExtension("XFIXES"));
        }
        // XFixes answers nothing else before the client told its version.
        conn.xfixes_query_version(5, 0).or_x11()?.reply().or_x11()?;
        let atoms = Atoms::new(&conn).or_x11()?.reply().or_x11()?;
        let owner = create_window(&conn, root, EventMask::NO_EVENT)?;
        // Requestor windows: INCR chunks arrive as property changes.
        let watch = create_window(&conn, root, EventMask::PROPERTY_CHANGE)?;
        let read = create_window(&conn, root, EventMask::PROPERTY_CHANGE)?;
        conn.xfixes_select_selection_input(
            owner,
            atoms.CLIPBOARD,
            SelectionEventMask::SET_SELECTION_OWNER,
        )
        .or_x11()?
        .check()
        .or_x11()?;

        let shared = Arc::new(Shared {
            texts: Mutex::new(Texts::default()),
            read: Mutex::new(Read {
                transfer: Transfer::new(read, atoms.READ_PROPERTY),
                waiter: None,
                ended: false,
            }),
        });
        let mut handler = Handler {
            atoms,
            owner,
            watch: Transfer::new(watch, atoms.WATCH_PROPERTY),
            again: false,
            on_change,
            shared: Arc::clone(&shared),
        };
        let on_end = {
            let shared = Arc::clone(&shared);
            Box::new(move || {
                // Wakes a reader at once instead of at its timeout.
                let mut read = shared.read();
                read.ended = true;
                read.waiter = None;
            })
        };
        let worker = Worker::spawn(
            Arc::new(conn),
            root,
            "ra-x11-clipboard",
            Box::new(move |conn, event| handler.handle(conn, event)),
            Some(on_end),
        )?;
        Ok(Clipboard {
            worker,
            shared,
            atoms,
            owner,
            reading: Mutex::new(()),
        })
    }

    /// Puts `text` on the clipboard (this client becomes its owner). Returns
    /// once the X server has made it the owner: other clients asking from
    /// then on get `text`. It is not reported to this clipboard's `on_change`.
    ///
    /// # Errors
    /// [`X11Error::TextTooLong`] over [`MAX_CLIPBOARD_LEN`] bytes,
    /// [`X11Error::Stopped`] once the connection broke.
    pub fn set_text(&self, text: &str) -> Result<(), X11Error> {
        if text.len() > MAX_CLIPBOARD_LEN {
            return Err(X11Error::TextTooLong {
                max: MAX_CLIPBOARD_LEN,
            });
        }
        self.check_running()?;
        {
            // Before owning: a request may come as soon as we own it.
            let mut texts = self.shared.texts();
            texts.owned = Some(text.to_owned());
            texts.last = Some(text.to_owned());
        }
        let conn = self.worker.conn();
        conn.set_selection_owner(self.owner, self.atoms.CLIPBOARD, CURRENT_TIME)
            .or_x11()?;
        // The round trip makes "returns once it is the owner" true.
        conn.get_selection_owner(self.atoms.CLIPBOARD)
            .or_x11()?
            .reply()
            .or_x11()?;
        Ok(())
    }

    /// The clipboard's text now (`None`: the clipboard is empty or holds no
    /// text), from whichever client owns it (this one included).
    ///
    /// # Errors
    /// [`X11Error::Timeout`] when the owner does not answer within
    /// [`READ_TIMEOUT`], [`X11Error::TextTooLong`] over
    /// [`MAX_CLIPBOARD_LEN`] bytes, [`X11Error::Stopped`] once the
    /// connection broke.
    pub fn text(&self) -> Result<Option<String>, X11Error> {
        let _one_at_a_time = self.reading.lock().unwrap_or_else(PoisonError::into_inner);
        let (tx, rx) = mpsc::channel();
        {
            let mut read = self.shared.read();
            if read.ended {
                return Err(self.stopped());
            }
            read.waiter = Some(tx);
            read.transfer.start(self.worker.conn(), &self.atoms)?;
        }
        match rx.recv_timeout(READ_TIMEOUT) {
            Ok(Fetched::Text(text)) => Ok(Some(text)),
            Ok(Fetched::Empty) => Ok(None),
            Ok(Fetched::TooLong) => Err(X11Error::TextTooLong {
                max: MAX_CLIPBOARD_LEN,
            }),
            Err(RecvTimeoutError::Timeout) => {
                let mut read = self.shared.read();
                read.waiter = None;
                read.transfer.cancel();
                Err(X11Error::Timeout(READ_TIMEOUT))
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.stopped()),
        }
    }

    /// Returns once every event the X server sent to the clipboard before
    /// this call has been handled: an `on_change` for a change made before
    /// has run by then, unless its text was still being fetched from a
    /// slow owner.
    ///
    /// # Errors
    /// [`X11Error::Timeout`] after `timeout`, [`X11Error::Stopped`] when the
    /// thread has ended (the connection broke).
    pub fn sync(&self, timeout: Duration) -> Result<(), X11Error> {
        self.worker.sync(timeout)
    }

    fn check_running(&self) -> Result<(), X11Error> {
        match self.worker.ended() {
            Some(reason) => Err(X11Error::Stopped(reason)),
            None => Ok(()),
        }
    }

    fn stopped(&self) -> X11Error {
        X11Error::Stopped(self.worker.ended().unwrap_or_else(|| "stopped".to_owned()))
    }
}

/// The texts, shared by the caller's side and the worker thread.
#[derive(Debug, Default)]
struct Texts {
    /// What we answer requests with while we own the clipboard.
    owned: Option<String>,
    /// The text set or reported last, to tell echoes from changes.
    last: Option<String>,
}

/// The read in progress, driven by the worker, waited for by `text`.
#[derive(Debug)]
struct Read {
    transfer: Transfer,
    waiter: Option<mpsc::Sender<Fetched>>,
    /// The worker thread has ended: nothing will answer.
    ended: bool,
}

impl Read {
    /// Hands a finished read to its waiter (if it still waits).
    fn deliver(&mut self, fetched: Option<Fetched>) {
        if let Some(fetched) = fetched
            && let Some(waiter) = self.waiter.take()
        {
            let _ = waiter.send(fetched);
        }
    }
}

#[derive(Debug)]
struct Shared {
    texts: Mutex<Texts>,
    read: Mutex<Read>,
}

impl Shared {
    // Every update leaves the state whole: a poisoned lock is still usable.
    fn texts(&self) -> MutexGuard<'_, Texts> {
        self.texts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> MutexGuard<'_, Read> {
        self.read.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A 1×1 input-only window, never mapped, that receives `events`.
fn create_window(
    conn: &RustConnection,
    root: Window,
    events: EventMask,
) -> Result<Window, X11Error> {
    let window = conn.generate_id().or_x11()?;
    conn.create_window(
        COPY_DEPTH_FROM_PARENT,
        window,
        root,
        -1,
        -1,
        1,
        1,
        0,
        WindowClass::INPUT_ONLY,
        COPY_FROM_PARENT,
        &CreateWindowAux::new().event_mask(events),
    )
    .or_x11()?
    .check()
    .or_x11()?;
    Ok(window)
}
