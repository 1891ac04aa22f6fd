//! Fault injection for testing the error paths of applications and bindings:
//! [`ra_debug_inject_panic`] makes the library panic at a chosen point once, so
//! a test can check that the panic comes back as `RA_RESULT_PANIC` instead of
//! aborting the process.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::Error;
use crate::guard::guard;
use crate::result::ra_result;

/// No injected panic.
pub const RA_PANIC_NONE: u32 = 0;
/// The next exported function called (on any thread) panics inside its guard
/// and returns `RA_RESULT_PANIC`.
pub const RA_PANIC_NEXT_CALL: u32 = 1;
/// The next time the library calls a C backend (capturer, encoder, injector),
/// the library code around the callback panics; the backend call fails with
/// `RA_RESULT_PANIC`, which the host reports as an
/// `RA_HOST_EVENT_BACKEND_ERROR` event.
pub const RA_PANIC_NEXT_CALLBACK: u32 = 2;

static ARMED: AtomicU32 = AtomicU32::new(RA_PANIC_NONE);

/// Where a panic can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PanicPoint {
    Export,
    Callback,
}

/// Panics if a panic was armed for `point` (once).
pub(crate) fn maybe_panic(point: PanicPoint) {
    let wanted = match point {
        PanicPoint::Export => RA_PANIC_NEXT_CALL,
        PanicPoint::Callback => RA_PANIC_NEXT_CALLBACK,
    };
    if ARMED.load(Ordering::Relaxed) == wanted
        && ARMED
            .compare_exchange(wanted, RA_PANIC_NONE, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        // The whole point of this module: a real panic, caught by the guard.
        #[allow(clippy::panic)]
        {
            panic!("panic injected by ra_debug_inject_panic");
        }
    }
}

/// Arms a one-time panic at `point` (`RA_PANIC_NEXT_CALL` or
/// `RA_PANIC_NEXT_CALLBACK`), or disarms it (`RA_PANIC_NONE`). For tests of
/// error handling only. Any thread; process-wide.
///
/// Returns `RA_RESULT_INVALID_ARGUMENT` for an unknown `point`.
#[unsafe(no_mangle)]
pub extern "C" fn ra_debug_inject_panic(point: u32) -> ra_result {
    // Arm only after the guard's own check, so this call itself never panics.
    guard(|| match point {
        RA_PANIC_NONE | RA_PANIC_NEXT_CALL | RA_PANIC_NEXT_CALLBACK => {
            ARMED.store(point, Ordering::Release);
            Ok(())
        }
        other => Err(Error::invalid(format!("unknown panic point {other}"))),
    })
}
