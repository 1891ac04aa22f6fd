//! An input injector written in C.

use std::ffi::c_void;

use ra_core::input::{InputError, InputEvent, InputInjector};

use super::callbacks::{CBackend, Callbacks, callback_table};
use crate::error::Error;
use crate::events::RA_BACKEND_INJECTOR;
use crate::guard::backend_guard;
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

callback_table!(ra_injector_callbacks, "injector", RA_BACKEND_INJECTOR, inject: InjectFn);

/// An owned injector table; dropping it calls `destroy` once.
pub(crate) type InjectorCallbacks = Callbacks<ra_injector_callbacks>;

/// [`InputInjector`] over a C table.
pub(crate) type CInjector = CBackend<ra_injector_callbacks>;

impl CInjector {
    fn fail(&self, error: Error) -> InputError {
        if error.code == RA_RESULT_UNSUPPORTED {
            return InputError::Unsupported(error.detail);
        }
        InputError::Backend(self.report(error).into())
    }
}

impl InputInjector for CInjector {
    fn inject(&mut self, event: &InputEvent) -> std::result::Result<(), InputError> {
        let Some(c_event) = event_to_c(event) else {
            return Err(InputError::Unsupported(format!(
                "{event:?} has no C form in this version"
            )));
        };
        let inject = self.callbacks.required;
        let user_data = self.callbacks.user_data();
        let injected = backend_guard(|| {
            // SAFETY: the application's callback, called as documented; the
            // event and its text outlive the call.
            let code = unsafe { inject(user_data, &c_event.event) };
            Self::check("inject", code)
        });
        injected.map_err(|e| self.fail(e))
    }

    fn release_all(&mut self) -> std::result::Result<(), InputError> {
        let Some(release_all) = self.callbacks.table.release_all else {
            return Ok(());
        };
        let user_data = self.callbacks.user_data();
        let released = backend_guard(|| {
            // SAFETY: the application's callback, called as documented.
            let code = unsafe { release_all(user_data) };
            Self::check("release_all", code)
        });
        released.map_err(|e| self.fail(e))
    }
}
