//! A thread that owns the reading side of one X connection, handles its events
//! and can be synchronised with and stopped without hanging.
//!
//! Stopping and syncing both go through the X server: a ClientMessage sent to
//! a private window of our own (with an empty event mask it goes to the
//! window's creator, i.e. us). The thread blocks in `wait_for_event` and wakes
//! for it, and because the server delivers events in order, a sync message
//! that comes back proves every event queued for us before it was handled.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    Atom, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::{COPY_DEPTH_FROM_PARENT, COPY_FROM_PARENT};

use super::error::{OrX11, X11Error};

const CONTROL_ATOM: &[u8] = b"_RA_INPUT_WORKER_CONTROL";
const KIND_SYNC: u32 = 1;
const KIND_STOP: u32 = 2;

/// Handles one event on the worker thread; an error ends the thread.
pub(crate) type Handler = Box<dyn FnMut(&RustConnection, Event) -> Result<(), X11Error> + Send>;

/// Runs on the worker thread once it has ended (after [`Worker::ended`] is
/// set), e.g. to wake waiters of the owner's own condition variables.
pub(crate) type OnEnd = Box<dyn FnOnce() + Send>;

#[derive(Debug, Default)]
struct State {
    /// Highest sync token seen back.
    synced: u32,
    /// Why the thread ended, once it has.
    ended: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Updates are single assignments: a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The event thread of one connection; stopped and joined when dropped.
pub(crate) struct Worker {
    conn: Arc<RustConnection>,
    control_window: Window,
    control_atom: Atom,
    next_token: AtomicU32,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("control_window", &self.control_window)
            .field("state", &*self.shared.lock())
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// Creates the control window under `root` and starts the thread `name`,
    /// which calls `handler` for every event other than its own messages, and
    /// `on_end` when it ends.
    pub(crate) fn spawn(
        conn: Arc<RustConnection>,
        root: Window,
        name: &str,
        mut handler: Handler,
        on_end: Option<OnEnd>,
    ) -> Result<Worker, X11Error> {
        let control_window = conn.generate_id().or_x11()?;
        conn.create_window(
            COPY_DEPTH_FROM_PARENT,
            control_window,
            root,
            -1,
            -1,
            1,
            1,
            0,
            WindowClass::INPUT_ONLY,
            COPY_FROM_PARENT,
            &CreateWindowAux::new(),
        )
        .or_x11()?
        .check()
        .or_x11()?;
        let control_atom = conn
            .intern_atom(false, CONTROL_ATOM)
            .or_x11()?
            .reply()
            .or_x11()?
            .atom;

        let shared = Arc::new(Shared::default());
        let thread = {
            let conn = Arc::clone(&conn);
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || {
                    let reason = run(&conn, control_window, control_atom, &shared, &mut handler);
                    tracing::debug!(%reason, "x11 event thread ended");
                    shared.lock().ended = Some(reason);
                    shared.changed.notify_all();
                    if let Some(on_end) = on_end {
                        on_end();
                    }
                })
                .map_err(|e| X11Error::Setup(format!("cannot start a thread: {e}")))?
        };
        Ok(Worker {
            conn,
            control_window,
            control_atom,
            next_token: AtomicU32::new(0),
            shared,
            thread: Some(thread),
        })
    }

    /// The connection (shared with the thread; x11rb connections are `Sync`).
    pub(crate) fn conn(&self) -> &RustConnection {
        &self.conn
    }

    /// Returns once the thread has handled every event the server queued for
    /// this connection before this call.
    pub(crate) fn sync(&self, timeout: Duration) -> Result<(), X11Error> {
        let deadline = Instant::now() + timeout;
        let token = self
            .next_token
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        self.send(KIND_SYNC, token)?;
        let mut state = self.shared.lock();
        loop {
            if state.synced >= token {
                return Ok(());
            }
            if let Some(reason) = &state.ended {
                return Err(X11Error::Stopped(reason.clone()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(X11Error::Timeout(timeout));
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Why the thread ended, if it has.
    pub(crate) fn ended(&self) -> Option<String> {
        self.shared.lock().ended.clone()
    }

    fn send(&self, kind: u32, token: u32) -> Result<(), X11Error> {
        let message = ClientMessageEvent::new(
            32,
            self.control_window,
            self.control_atom,
            [kind, token, 0, 0, 0],
        );
        self.conn
            .send_event(false, self.control_window, EventMask::NO_EVENT, message)
            .or_x11()?;
        self.conn.flush().or_x11()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // If the message cannot be sent the connection is broken, and then the
        // thread's wait_for_event fails too: the join below cannot hang
        // (unless a handler blocks, which handlers must not do).
        if let Err(error) = self.send(KIND_STOP, 0) {
            tracing::debug!(%error, "cannot send the stop message");
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("x11 event thread panicked");
        }
        // Best effort: the window dies with the connection anyway.
        let _ = self.conn.destroy_window(self.control_window);
        let _ = self.conn.flush();
    }
}

/// The thread's loop; returns why it ended.
fn run(
    conn: &RustConnection,
    control_window: Window,
    control_atom: Atom,
    shared: &Shared,
    handler: &mut Handler,
) -> String {
    loop {
        let event = match conn.wait_for_event() {
            Ok(event) => event,
            Err(error) => return format!("connection failed: {error}"),
        };
        match event {
            Event::ClientMessage(message)
                if message.window == control_window
                    && message.type_ == control_atom
                    && message.format == 32 =>
            {
                let [kind, token, ..] = message.data.as_data32();
                match kind {
                    KIND_STOP => return "stopped".to_owned(),
                    KIND_SYNC => {
                        let mut state = shared.lock();
                        state.synced = state.synced.max(token);
                        drop(state);
                        shared.changed.notify_all();
                    }
                    _ => {}
                }
            }
            Event::Error(error) => {
                // Errors of unchecked requests; nothing waits for them.
                tracing::debug!(?error, "x11 error");
            }
            event => {
                if let Err(error) = handler(conn, event) {
                    return error.to_string();
                }
            }
        }
    }
}
