//! The optional event callback: a thread per handle that takes events from
//! the handle's queue and calls C with each.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{JoinHandle, ThreadId};

use crate::error::{Error, Result};
use crate::queue::{EventQueue, Pop, Queued};
use crate::result::{RA_RESULT_INTERNAL, RA_RESULT_WRONG_THREAD};

/// A running callback thread.
pub(crate) struct Dispatcher {
    cancel: Arc<AtomicBool>,
    wake: Box<dyn Fn() + Send + Sync>,
    thread: Option<JoinHandle<()>>,
    id: ThreadId,
}

impl Dispatcher {
    /// Starts a thread named `name` that passes every item of `queue` to
    /// `deliver` until stopped or the queue is closed and empty.
    pub(crate) fn spawn<E: Queued + Send + 'static>(
        name: &str,
        queue: Arc<EventQueue<E>>,
        mut deliver: impl FnMut(E) + Send + 'static,
    ) -> Result<Self> {
        let cancel = Arc::new(AtomicBool::new(false));
        let thread = {
            let cancel = cancel.clone();
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || {
                    while let Pop::Item(item) = queue.pop(None, Some(&cancel)) {
                        deliver(item);
                    }
                })
                .map_err(|e| {
                    Error::new(
                        RA_RESULT_INTERNAL,
                        format!("cannot start the callback thread: {e}"),
                    )
                })?
        };
        Ok(Dispatcher {
            cancel,
            wake: Box::new(move || queue.wake()),
            id: thread.thread().id(),
            thread: Some(thread),
        })
    }

    /// Whether the calling thread is this dispatcher's (inside its callback).
    pub(crate) fn is_current(&self) -> bool {
        std::thread::current().id() == self.id
    }

    /// Stops the thread: the callback is not called again once this returns
    /// (unless called from inside the callback, where the thread is told to
    /// stop after the callback returns and is not waited for).
    pub(crate) fn stop(mut self) -> Result<()> {
        self.cancel.store(true, Ordering::Release);
        (self.wake)();
        if let Some(thread) = self.thread.take()
            && !self.is_current()
        {
            thread
                .join()
                .map_err(|_| Error::new(RA_RESULT_INTERNAL, "the callback thread panicked"))?;
        }
        Ok(())
    }
}

/// The error for a call that must wait for the callback thread from inside it.
pub(crate) fn inside_callback_error() -> Error {
    Error::new(
        RA_RESULT_WRONG_THREAD,
        "cannot replace the event callback from inside it",
    )
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        // Dropped without `stop` (a handle freed in a hurry): still make the
        // thread end, without waiting for it.
        self.cancel.store(true, Ordering::Release);
        (self.wake)();
    }
}
