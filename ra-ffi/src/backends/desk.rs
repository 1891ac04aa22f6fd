//! The host's desk from C: the panic key, "the local user wins" and the
//! system clipboard, as the same library backends Rust uses
//! (`ra_core::desk`, `ra_input::x11`). Each is watched from the start of the
//! session (the clipboard from the first time sharing is turned on); a
//! display that cannot be used makes `ra_host_invite` (or the code flows)
//! fail with `RA_RESULT_BACKEND`.

use std::ffi::c_char;
use std::time::Duration;

use ra_input::x11::{DisplayClipboard, LocalInputWatcher, PanicKey, PanicKeyWatcher};

use super::{ra_host_backends, with_backends};
use crate::error::Error;
use crate::result::ra_result;
use crate::strings::opt_str_arg;

/// Watches the panic key `combo` (e.g. `"ctrl+alt+pause"`; NULL: that
/// default; `""`: no panic key) on the X display `display` (NULL: the
/// session's own, `$DISPLAY`). Each press takes control back from the
/// helper (`RA_HOST_EVENT_CONTROL_REVOKED`, reason `RA_REVOKE_PANIC_KEY`)
/// and is reported as `RA_HOST_EVENT_PANIC_KEY`, granted or not. A Wayland
/// desktop lets no application watch its keyboard: there, with `display`
/// NULL, the panic key is left out and the session starts with
/// `RA_HOST_EVENT_DESK_LIMITED`.
/// `RA_RESULT_INVALID_ARGUMENT` for a combination that does not parse
/// (modifiers plus one key).
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread; `display` and
/// `combo` are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_set_panic_key(
    backends: *mut ra_host_backends,
    display: *const c_char,
    combo: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            // SAFETY: forwarded contract.
            let display = opt_str_arg(display, "display")?;
            // SAFETY: forwarded contract.
            let combo = opt_str_arg(combo, "combo")?.unwrap_or(PanicKey::DEFAULT_COMBO);
            b.panic_key_on_own_display = display.is_none();
            b.desk.panic_key = if combo.is_empty() {
                None
            } else {
                let watcher = PanicKeyWatcher::new(display, combo)
                    .map_err(|e| Error::invalid(e.to_string()))?;
                Some(Box::new(watcher))
            };
            Ok(())
        })
    }
}

/// "The local user wins": watches the local user's own mouse, keyboard and
/// touchscreen on the X display `display` (NULL: `$DISPLAY`; injected input
/// does not count), and after each use holds the helper's input back
/// (dropped, never replayed) for `hold_ms` milliseconds, releasing what it
/// holds. 0 turns it off. Left out on a Wayland desktop with `display` NULL,
/// as the panic key is (`RA_HOST_EVENT_DESK_LIMITED`).
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread; `display` is NULL
/// or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_set_local_user_wins_ms(
    backends: *mut ra_host_backends,
    display: *const c_char,
    hold_ms: u32,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            // SAFETY: forwarded contract.
            let display = opt_str_arg(display, "display")?;
            b.local_input_on_own_display = display.is_none();
            if hold_ms == 0 {
                b.desk.local_input = None;
            } else {
                b.desk.local_input = Some(Box::new(LocalInputWatcher::new(display)));
                b.desk.local_user_wins = Duration::from_millis(u64::from(hold_ms));
            }
            Ok(())
        })
    }
}

/// Keeps the CLIPBOARD of the X display `display` (NULL: `$DISPLAY`) in step
/// with the helper's while the host shares the clipboard
/// (`ra_host_set_clipboard_sharing`): the helper's texts are put on it
/// before `RA_HOST_EVENT_CLIPBOARD` is delivered, and texts other programs
/// copy are sent (`RA_HOST_EVENT_CLIPBOARD_SENT`). Nothing is read before
/// sharing is first turned on, so what was copied before never leaves the
/// machine; copies made while sharing is off are dropped. A clipboard that
/// cannot be used is reported as `RA_HOST_EVENT_BACKEND_ERROR`
/// (`RA_BACKEND_DESK`) and the session goes on.
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread; `display` is NULL
/// or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_use_system_clipboard(
    backends: *mut ra_host_backends,
    display: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            // SAFETY: forwarded contract.
            let display = opt_str_arg(display, "display")?;
            b.desk.clipboard = Some(Box::new(DisplayClipboard::new(display)));
            Ok(())
        })
    }
}
