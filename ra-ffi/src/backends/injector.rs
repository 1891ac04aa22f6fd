//! An input injector written in C.

use std::ffi::c_void;

use ra_core::input::{InputError, InputEvent, InputInjector};

use super::{AliveToken, BackendSink};
use crate::error::{Error, Result};
use crate::events::RA_BACKEND_INJECTOR;
use crate::guard::{backend_guard, callback_guard};
use crate::input::{event_to_c, ra_input_event};
use crate::result::*;

/// An injector written in C: `user_data` first in every callback. The
/// engine calls it only while the helper holds a control grant.
///
/// - `inject` (required): deliver one event (borrowed for the call) to the
///   desktop; return `RA_RESULT_OK`, `RA_RESULT_UNSUPPORTED` for an event the
///   platform cannot produce, or another code for a failure (reported as
///   `RA_HOST_EVENT_BACKEND_ERROR`).
/// - `release_all` (optional, but a real injector needs it): release every
///   key and button the helper holds; called on every revoke, pause and end.
/// - `destroy` (optional): the library is done with `user_data`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_injector_callbacks {
    /// Passed first to every callback.
    pub user_data: *mut c_void,
    /// Injects one event.
    pub inject: Option<
        unsafe extern "C" fn(user_data: *mut c_void, event: *const ra_input_event) -> ra_result,
    >,
    /// Releases every held key and button.
    pub release_all: Option<unsafe extern "C" fn(user_data: *mut c_void) -> ra_result>,
    /// Releases `user_data`.
    pub destroy: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

type InjectFn = unsafe extern "C" fn(*mut c_void, *const ra_input_event) -> ra_result;

/// An owned callback table; dropping it calls `destroy` once.
pub(crate) struct InjectorCallbacks {
    table: ra_injector_callbacks,
    inject: InjectFn,
}

// SAFETY: the application promised the callbacks may be called, one at a
// time, from the engine's injection thread.
unsafe impl Send for InjectorCallbacks {}

impl InjectorCallbacks {
    /// Copies and checks a table from C.
    ///
    /// # Safety
    /// `table` is NULL or readable, with callbacks as documented.
    pub(crate) unsafe fn from_c(table: *const ra_injector_callbacks) -> Result<Self> {
        if table.is_null() {
            return Err(Error::null("callbacks"));
        }
        // SAFETY: non-NULL and readable by contract; every bit pattern of
        // this struct of (optional) pointers is valid.
        let table = unsafe { table.read() };
        let inject = table
            .inject
            .ok_or_else(|| Error::invalid("callbacks->inject is NULL"))?;
        Ok(InjectorCallbacks { table, inject })
    }
}

impl Drop for InjectorCallbacks {
    fn drop(&mut self) {
        if let Some(destroy) = self.table.destroy {
            let user_data = self.table.user_data;
            let _ = callback_guard(|| {
                // SAFETY: the application's callback, called once, as documented.
                unsafe { destroy(user_data) };
                Ok(())
            });
        }
    }
}

/// [`InputInjector`] over a C table.
pub(crate) struct CInjector {
    /// Dropped first: calls `destroy`.
    callbacks: InjectorCallbacks,
    sink: BackendSink,
    /// Dropped last: tells `ra_host_free` no callback can run any more.
    _alive: AliveToken,
}

impl CInjector {
    pub(crate) fn new(callbacks: InjectorCallbacks, sink: BackendSink) -> Self {
        let alive = sink.token();
        CInjector {
            callbacks,
            sink,
            _alive: alive,
        }
    }

    fn fail(&self, error: Error) -> InputError {
        if error.code == RA_RESULT_UNSUPPORTED {
            return InputError::Unsupported(error.detail);
        }
        let message = error.detail.clone();
        self.sink.report(RA_BACKEND_INJECTOR, error);
        InputError::Backend(message.into())
    }
}

impl InputInjector for CInjector {
    fn inject(&mut self, event: &InputEvent) -> std::result::Result<(), InputError> {
        let Some(c_event) = event_to_c(event) else {
            return Err(InputError::Unsupported(format!(
                "{event:?} has no C form in this version"
            )));
        };
        let inject = self.callbacks.inject;
        let user_data = self.callbacks.table.user_data;
        let injected = backend_guard(|| {
            // SAFETY: the application's callback, called as documented; the
            // event and its text outlive the call.
            match unsafe { inject(user_data, &c_event.event) } {
                RA_RESULT_OK => Ok(()),
                code => Err(Error::new(
                    code,
                    format!(
                        "injector callback inject returned {}",
                        result_name_str(code)
                    ),
                )),
            }
        });
        injected.map_err(|e| self.fail(e))
    }

    fn release_all(&mut self) -> std::result::Result<(), InputError> {
        let Some(release_all) = self.callbacks.table.release_all else {
            return Ok(());
        };
        let user_data = self.callbacks.table.user_data;
        let released = backend_guard(|| {
            // SAFETY: the application's callback, called as documented.
            match unsafe { release_all(user_data) } {
                RA_RESULT_OK => Ok(()),
                code => Err(Error::new(
                    code,
                    format!(
                        "injector callback release_all returned {}",
                        result_name_str(code)
                    ),
                )),
            }
        });
        released.map_err(|e| self.fail(e))
    }
}
