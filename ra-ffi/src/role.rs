//! What the handles of the two roles (`ra_host`, `ra_helper`) share:
//! commands sent from C threads through the session's own controller, each
//! waiting for the engine's answer, and the events the session's forwarding
//! task queues, taken with `*_next_event` or passed to an event callback on
//! a thread of the handle's own.

use std::ffi::{c_char, c_void};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ra_core::runtime::{Controller, SessionError};

use crate::dispatch::{Dispatcher, inside_callback_error};
use crate::error::{Error, Result};
use crate::guard::{callback_guard, guard};
use crate::handle::{self, Handle};
use crate::host::timeout;
use crate::queue::{EventQueue, Pop, Queued};
use crate::result::*;
use crate::runtime::ensure_may_block;
use crate::strings::str_arg;

/// How long a command may wait for the engine before `RA_RESULT_INTERNAL`.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A role's handle, which C sends commands through: the engine's own
/// controller of the session, so C sends exactly the commands Rust does.
pub(crate) trait Role: Handle {
    /// How the handle argument is named in errors (`"host"`).
    const ARG: &'static str;
    /// The session's command type (`HostCommand`, `HelperCommand`).
    type Command;

    /// The session's controller.
    fn controller(&self) -> &Controller<Self::Command>;

    /// Events the handle's own queue dropped because C did not take them.
    fn events_dropped(&self) -> u64;
}

/// Sends `command` through `controller` and waits for the engine's answer.
pub(crate) fn send<C>(controller: &Controller<C>, command: C, timeout: Duration) -> Result<()> {
    ensure_may_block()?;
    controller
        .send_blocking(command, timeout)
        .map_err(|e| match e {
            SessionError::TimedOut => {
                Error::new(RA_RESULT_INTERNAL, "the engine did not answer the command")
            }
            other => other.into(),
        })
}

/// Ends the session behind `controller` and waits up to `timeout` until
/// the peer was told (for `*_free`).
pub(crate) fn shutdown<C>(controller: &Controller<C>, timeout: Duration) -> Result<()> {
    match controller.shutdown_blocking(timeout) {
        // Over already: nothing left to end.
        Ok(()) | Err(SessionError::Closed) => Ok(()),
        Err(SessionError::TimedOut) => Err(Error::new(
            RA_RESULT_INTERNAL,
            "the engine did not finish shutting down in time",
        )),
        Err(other) => Err(other.into()),
    }
}

/// Borrows a role's handle.
///
/// # Safety
/// `pointer` is NULL or a handle not freed during the borrow.
pub(crate) unsafe fn borrow<'a, R: Role>(pointer: *const R) -> Result<&'a R> {
    // SAFETY: forwarded contract.
    unsafe { handle::borrow(pointer, R::ARG) }
}

/// Runs a command on a role's handle: the export's whole body.
///
/// # Safety
/// As [`borrow`].
pub(crate) unsafe fn command<R: Role>(
    pointer: *const R,
    command: impl FnOnce() -> Result<R::Command>,
) -> ra_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let role = unsafe { borrow(pointer) }?;
        send(role.controller(), command()?, COMMAND_TIMEOUT)
    })
}

/// Runs the command `make` builds from the text argument `text` (UTF-8).
///
/// # Safety
/// As [`borrow`]; `text` is NULL or NUL-terminated.
pub(crate) unsafe fn text_command<R: Role>(
    pointer: *const R,
    text: *const c_char,
    make: fn(String) -> R::Command,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(pointer, || {
            // SAFETY: forwarded contract.
            Ok(make(str_arg(text, "text")?.to_owned()))
        })
    }
}

/// A role's events: the queue its forwarding task fills, and the thread that passes
/// them to C's event callback while one is set.
pub(crate) struct Events<I> {
    queue: Arc<EventQueue<I>>,
    callback: Mutex<Option<Dispatcher>>,
}

impl<I: Queued + Send + 'static> Events<I> {
    pub(crate) fn new(queue: Arc<EventQueue<I>>) -> Self {
        Events {
            queue,
            callback: Mutex::new(None),
        }
    }

    /// How many items the queue dropped because it was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// `*_next_event`: waits up to `timeout_ms` for the next item and writes
    /// it to `out` as the event handle `new_event` makes of it. `closed` is the
    /// detail of `RA_RESULT_CLOSED`.
    ///
    /// # Safety
    /// `out` is NULL or writable.
    pub(crate) unsafe fn next<E: Handle>(
        &self,
        timeout_ms: u32,
        out: *mut *mut E,
        new_event: fn(I) -> E,
        closed: &str,
    ) -> Result<()> {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        if self
            .callback
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
        {
            return Err(Error::new(
                RA_RESULT_INVALID_STATE,
                "events go to the event callback",
            ));
        }
        if timeout_ms != 0 {
            ensure_may_block()?;
        }
        match self.queue.pop(timeout(timeout_ms), None) {
            Pop::Item(item) => {
                // SAFETY: non-NULL and writable by contract.
                unsafe { out.write(handle::into_raw(new_event(item))) };
                Ok(())
            }
            Pop::Timeout => Err(Error::new(RA_RESULT_TIMEOUT, "no event yet")),
            Pop::Closed | Pop::Cancelled => Err(Error::new(RA_RESULT_CLOSED, closed)),
        }
    }

    /// `*_set_event_callback`: sends every item to `callback`, lent as the
    /// event handle `new_event` makes of it, on a thread named `thread`; `None`
    /// goes back to polling. Replacing or removing the callback waits for a
    /// running call to finish.
    ///
    /// # Safety
    /// `callback` (if not NULL) must be callable from another thread with
    /// `user_data` until it is replaced or the handle is freed.
    pub(crate) unsafe fn set_callback<E: Handle>(
        &self,
        thread: &str,
        callback: Option<unsafe extern "C" fn(*mut c_void, *const E)>,
        user_data: *mut c_void,
        new_event: fn(I) -> E,
    ) -> Result<()> {
        let mut slot = self.callback.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_ref().is_some_and(Dispatcher::is_current) {
            return Err(inside_callback_error());
        }
        if let Some(old) = slot.take() {
            old.stop()?;
        }
        if let Some(callback) = callback {
            let user_data = UserData(user_data);
            *slot = Some(Dispatcher::spawn(
                thread,
                self.queue.clone(),
                move |item| {
                    let user_data = &user_data;
                    lend(new_event(item), |event| {
                        // SAFETY: the application registered `callback` for
                        // this call shape; the event is live during the call.
                        unsafe { callback(user_data.0, event) }
                    });
                },
            )?);
        }
        Ok(())
    }

    /// Stops the event callback, if one is set: it is not called again once
    /// this returns (for `*_free`).
    pub(crate) fn stop_callback(&self) -> Result<()> {
        let dispatcher = self
            .callback
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(dispatcher) = dispatcher {
            dispatcher.stop()?;
        }
        Ok(())
    }
}

/// Calls `callback` with a lent event handle, then takes the handle back.
fn lend<T: Handle>(event: T, call: impl FnOnce(*const T)) {
    let pointer = handle::into_raw(event);
    let _ = callback_guard(|| {
        call(pointer);
        Ok(())
    });
    if handle::forget(pointer) {
        // SAFETY: the pointer came from `into_raw` and was still registered,
        // so nothing else freed it; it is now unregistered and owned here.
        drop(unsafe { Box::from_raw(pointer) });
    }
}

/// The application's `user_data` for a callback.
struct UserData(*mut c_void);

// SAFETY: the setters document that callbacks run on another thread with
// `user_data`; the application promised that is fine. The library never
// dereferences it.
unsafe impl Send for UserData {}
