//! The host's redaction mask from C: rectangles of the desktop that never
//! leave the machine, besides the policy's `redact`.
//!
//! Thread-safety: as the other `ra_host_` commands (any thread; not from the
//! host's own event callback while it waits).

use std::ffi::c_char;

use ra_core::media::Rect;
use ra_core::redact::{MAX_REDACTED_WINDOWS, MAX_REDACTIONS};
use ra_core::session::HostCommand;

use crate::error::Error;
use crate::host::ra_host;
use crate::result::ra_result;
use crate::role::command;
use crate::strings::str_arg;
use crate::types::ra_rect;

/// The most rectangles a mask holds, the policy's and the application's
/// together.
pub const RA_MAX_REDACTIONS: usize = 64;

const _: () = assert!(RA_MAX_REDACTIONS == MAX_REDACTIONS);

/// Masks `count` rectangles at `rects` (desktop coordinates) besides the
/// policy's `redact`, replacing those set before (`count` 0: none, `rects`
/// may then be NULL). From the next picture on they are painted black before
/// encoding, pointer moves and presses inside them are dropped, the host's
/// pointer is hidden over them, and the helper gets
/// `RA_HELPER_EVENT_REDACTIONS` with where they are in its picture. The
/// change is written to the audit log. `RA_RESULT_INVALID_ARGUMENT` for an
/// empty rectangle or more than `RA_MAX_REDACTIONS` with the policy's.
///
/// # Safety
/// `host` is NULL or a live handle; `rects` is NULL or readable for `count`
/// rectangles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_set_redactions(
    host: *const ra_host,
    rects: *const ra_rect,
    count: usize,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(host, || {
            let rects: Vec<Rect> = if count == 0 {
                Vec::new()
            } else if rects.is_null() {
                return Err(Error::null("rects"));
            } else if count > RA_MAX_REDACTIONS {
                return Err(Error::invalid(format!(
                    "{count} rectangles (at most {RA_MAX_REDACTIONS})"
                )));
            } else {
                // SAFETY: non-NULL and readable for `count` (small) rectangles
                // by contract.
                let slice = std::slice::from_raw_parts(rects, count);
                slice.iter().map(|&r| Rect::from(r)).collect()
            };
            Ok(HostCommand::SetRedactions(rects))
        })
    }
}

/// Masks the windows whose class (X11 `WM_CLASS`, class or instance name,
/// compared without case) is one of the `count` NUL-terminated strings at
/// `classes`, wherever they are, besides the policy's `redact_windows`;
/// replaces the classes set before (`count` 0: none). Before every picture
/// the capture path finds them and paints them black; input over them is
/// dropped and the helper is told, as for `ra_host_set_redactions`. Needs
/// the real X11 screen (`ra_host_backends_use_screen_capturer`): with
/// another capturer no picture is sent while a class is set
/// (`RA_HOST_EVENT_BACKEND_ERROR`). `RA_RESULT_INVALID_ARGUMENT` for an
/// empty or too long class or too many.
///
/// # Safety
/// `host` is NULL or a live handle; `classes` is NULL or readable for
/// `count` pointers, each NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_set_redacted_windows(
    host: *const ra_host,
    classes: *const *const c_char,
    count: usize,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(host, || {
            if count == 0 {
                return Ok(HostCommand::SetRedactedWindows(Vec::new()));
            }
            if classes.is_null() {
                return Err(Error::null("classes"));
            }
            if count > MAX_REDACTED_WINDOWS {
                return Err(Error::invalid(format!(
                    "{count} window classes (at most {MAX_REDACTED_WINDOWS})"
                )));
            }
            // SAFETY: non-NULL and readable for `count` (small) pointers by
            // contract.
            let pointers = std::slice::from_raw_parts(classes, count);
            let classes = pointers
                .iter()
                // SAFETY: each NULL or NUL-terminated by contract.
                .map(|&p| str_arg(p, "classes[i]").map(str::to_owned))
                .collect::<crate::error::Result<Vec<String>>>()?;
            Ok(HostCommand::SetRedactedWindows(classes))
        })
    }
}
