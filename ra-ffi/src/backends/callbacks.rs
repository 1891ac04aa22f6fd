//! What the C backends share: an owned table of callbacks (`user_data` first
//! in every callback; `destroy` called once when the library is done with
//! it), and the backend over such a table, which reports its failures and
//! keeps `ra_host_free` waiting while it lives.

use std::ffi::c_void;

use super::{AliveToken, BackendSink};
use crate::error::{Error, Result};
use crate::guard::{backend_guard, callback_guard};
use crate::result::{RA_RESULT_OK, ra_result, result_name_str};

/// A table's `destroy`.
pub(crate) type DestroyFn = unsafe extern "C" fn(user_data: *mut c_void);

/// A `#[repr(C)]` table of callbacks that C fills in: `user_data` and
/// `Option`al function pointers, among them `destroy` and one the backend
/// cannot do without. Implemented with [`callback_table!`].
pub(crate) trait CallbackTable: Copy {
    /// The backend in messages (`"capturer"`).
    const NAME: &'static str;
    /// `RA_BACKEND_*`, the backend in `RA_HOST_EVENT_BACKEND_ERROR` events.
    const BACKEND: u32;
    /// The name of the required callback (`"next_frame"`).
    const REQUIRED: &'static str;
    /// The required callback's type.
    type Required: Copy;

    /// Passed first to every callback.
    fn user_data(&self) -> *mut c_void;
    /// Releases `user_data`.
    fn destroy(&self) -> Option<DestroyFn>;
    /// The required callback; `None` if C left it NULL.
    fn required(&self) -> Option<Self::Required>;
}

/// Implements [`CallbackTable`] for a C table from the names of its fields:
/// `user_data`, `destroy`, and the required callback.
macro_rules! callback_table {
    ($table:ty, $name:literal, $backend:expr, $required:ident: $required_fn:ty) => {
        impl $crate::backends::callbacks::CallbackTable for $table {
            const NAME: &'static str = $name;
            const BACKEND: u32 = $backend;
            const REQUIRED: &'static str = stringify!($required);
            type Required = $required_fn;

            fn user_data(&self) -> *mut ::std::ffi::c_void {
                self.user_data
            }

            fn destroy(&self) -> Option<$crate::backends::callbacks::DestroyFn> {
                self.destroy
            }

            fn required(&self) -> Option<$required_fn> {
                self.$required
            }
        }
    };
}
pub(super) use callback_table;

/// An owned callback table, its required callback checked; dropping it calls
/// `destroy` once.
pub(crate) struct Callbacks<T: CallbackTable> {
    /// The table as C filled it in, for its optional callbacks.
    pub(super) table: T,
    /// The required callback, not NULL.
    pub(super) required: T::Required,
}

// SAFETY: the application promised (see `ra_host_backends`) that a backend's
// callbacks may be called, one at a time, from the engine's threads with
// `user_data`, and `destroy` from whichever thread drops the backend; the
// library never uses `user_data` itself.
unsafe impl<T: CallbackTable> Send for Callbacks<T> {}

impl<T: CallbackTable> Callbacks<T> {
    /// Copies and checks a table from C. On failure nothing is owned: the
    /// caller keeps `user_data`, and `destroy` is not called.
    ///
    /// # Safety
    /// `table` is NULL or readable, with callbacks as documented.
    pub(crate) unsafe fn from_c(table: *const T) -> Result<Self> {
        if table.is_null() {
            return Err(Error::null("callbacks"));
        }
        // SAFETY: non-NULL and readable by contract; a struct of pointers,
        // every bit pattern of which is a valid value (function pointers are
        // `Option`s, so NULL is `None`).
        let table = unsafe { table.read() };
        let required = table
            .required()
            .ok_or_else(|| Error::invalid(format!("callbacks->{} is NULL", T::REQUIRED)))?;
        Ok(Callbacks { table, required })
    }

    /// Passed first to every callback.
    pub(super) fn user_data(&self) -> *mut c_void {
        self.table.user_data()
    }
}

impl<T: CallbackTable> Drop for Callbacks<T> {
    fn drop(&mut self) {
        if let Some(destroy) = self.table.destroy() {
            let user_data = self.table.user_data();
            let _ = callback_guard(|| {
                // SAFETY: the application's callback, called once, as documented.
                unsafe { destroy(user_data) };
                Ok(())
            });
        }
    }
}

/// A backend over a C table.
pub(crate) struct CBackend<T: CallbackTable> {
    /// Dropped first: calls `destroy`.
    pub(super) callbacks: Callbacks<T>,
    sink: BackendSink,
    /// Dropped last: tells `ra_host_free` no callback can run any more.
    _alive: AliveToken,
}

impl<T: CallbackTable> CBackend<T> {
    pub(crate) fn new(callbacks: Callbacks<T>, sink: BackendSink) -> Self {
        let alive = sink.token();
        CBackend {
            callbacks,
            sink,
            _alive: alive,
        }
    }

    /// Reports `error` (an `RA_HOST_EVENT_BACKEND_ERROR` event) and returns
    /// its detail, for the engine's error.
    pub(super) fn report(&self, error: Error) -> String {
        let message = error.detail.clone();
        self.sink.report(T::BACKEND, error);
        message
    }

    /// Runs `call`, which calls a callback that returns nothing with the
    /// `user_data` it is given, in [`backend_guard`]; a panic is reported.
    pub(super) fn notify(&self, call: impl FnOnce(*mut c_void)) {
        let user_data = self.callbacks.user_data();
        let result = backend_guard(|| {
            call(user_data);
            Ok(())
        });
        if let Err(e) = result {
            self.report(e);
        }
    }

    /// The error for the result `code` of the callback `name`, when not OK.
    pub(super) fn failed(name: &str, code: ra_result) -> Error {
        Error::new(
            code,
            format!(
                "{} callback {name} returned {}",
                T::NAME,
                result_name_str(code)
            ),
        )
    }

    /// `Ok` for `RA_RESULT_OK`, else [`failed`](Self::failed).
    pub(super) fn check(name: &str, code: ra_result) -> Result<()> {
        match code {
            RA_RESULT_OK => Ok(()),
            code => Err(Self::failed(name, code)),
        }
    }
}
