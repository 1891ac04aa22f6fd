//! The boundary guard every export runs its body in: panics become
//! `RA_RESULT_PANIC`, errors become their code plus the thread's last-error
//! detail.

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::debug::{PanicPoint, maybe_panic};
use crate::error::{Error, Result, set_last_error};
use crate::result::{RA_RESULT_OK, RA_RESULT_PANIC, ra_result};

/// Runs an export's body.
///
/// `AssertUnwindSafe`: after a caught panic the objects involved may be in any
/// state, which is why `RA_RESULT_PANIC` tells the caller to free them.
pub(crate) fn guard(body: impl FnOnce() -> Result<()>) -> ra_result {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        maybe_panic(PanicPoint::Export);
        body()
    }));
    match outcome {
        Ok(Ok(())) => RA_RESULT_OK,
        Ok(Err(error)) => {
            set_last_error(&error);
            error.code
        }
        Err(payload) => {
            set_last_error(&panic_error(payload.as_ref()));
            RA_RESULT_PANIC
        }
    }
}

/// Runs the body of an export that returns a static string instead of an
/// `ra_result`: a panic (none is expected there) yields `fallback`.
pub(crate) fn guard_str(
    fallback: &'static std::ffi::CStr,
    body: impl FnOnce() -> *const std::ffi::c_char,
) -> *const std::ffi::c_char {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback.as_ptr())
}

/// The error describing a caught panic.
pub(crate) fn panic_error(payload: &(dyn Any + Send)) -> Error {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    Error::new(RA_RESULT_PANIC, message)
}

/// Runs code on a callback path (the library calling C, from an engine
/// thread): a panic is caught and returned as an error instead of unwinding
/// into the engine or through C frames.
pub(crate) fn callback_guard<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(payload) => Err(panic_error(payload.as_ref())),
    }
}

thread_local! {
    /// Set while this thread runs a C backend's callback.
    static IN_BACKEND: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is inside a C backend's callback (where
/// waiting for the backends to go away would wait for itself).
pub(crate) fn in_backend_callback() -> bool {
    IN_BACKEND.with(Cell::get)
}

/// [`callback_guard`] for calls into a C backend, where
/// `ra_debug_inject_panic(RA_PANIC_NEXT_CALLBACK)` can inject a panic.
pub(crate) fn backend_guard<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    let outer = IN_BACKEND.with(|flag| flag.replace(true));
    let result = callback_guard(|| {
        maybe_panic(PanicPoint::Callback);
        body()
    });
    IN_BACKEND.with(|flag| flag.set(outer));
    result
}
