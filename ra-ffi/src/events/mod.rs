//! Events as C sees them: opaque `ra_host_event` / `ra_helper_event` handles
//! whose contents are read into plain structs, and frames.
//!
//! An event comes from `ra_host_next_event` / `ra_helper_next_event` (the
//! caller frees it) or is lent to an event callback (valid during the call
//! only). The strings, display list and pixels its data points at live as
//! long as the event.
//!
//! `host` and `helper` hold each role's kinds, data structs and exports;
//! this file what they share.

mod helper;
mod host;

pub use helper::*;
pub use host::*;

use std::ffi::{CString, c_char};

use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::result::ra_result;
use crate::sized::{SizedStruct, write_sized};
use crate::strings::c_string_lossy;

/// Longest `description`, in bytes: enough to say what an event is, short
/// enough that an event carrying pixels (a cursor shape) costs nothing to describe.
const MAX_DESCRIPTION: usize = 240;

/// `value`'s `Debug` text, cut at [`MAX_DESCRIPTION`] bytes; formatting stops
/// there instead of rendering the rest.
pub(crate) fn short_debug(value: &dyn std::fmt::Debug) -> String {
    struct Limited(String);
    impl std::fmt::Write for Limited {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let room = MAX_DESCRIPTION.saturating_sub(self.0.len());
            if s.len() <= room {
                self.0.push_str(s);
                return Ok(());
            }
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.0.push_str(&s[..end]);
            self.0.push('…');
            Err(std::fmt::Error)
        }
    }
    let mut text = Limited(String::new());
    let _ = std::fmt::write(&mut text, format_args!("{value:?}"));
    text.0
}

/// Collects the strings an event's data points at.
#[derive(Default)]
pub(crate) struct Strings(Vec<CString>);

impl Strings {
    pub(crate) fn add(&mut self, text: &str) -> *const c_char {
        let owned = c_string_lossy(text);
        let pointer = owned.as_ptr();
        self.0.push(owned);
        pointer
    }
}

/// Reads an event's contents (what `data` picks) into `out`, no more than
/// its `struct_size`.
///
/// # Safety
/// `event` is NULL or an event not freed during the call; `out` is NULL or
/// writable for its `struct_size`.
pub(crate) unsafe fn get_data<E: Handle, D: SizedStruct>(
    event: *const E,
    out: *mut D,
    data: fn(&E) -> D,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let event = unsafe { handle::borrow(event, "event") }?;
        // SAFETY: the caller's contract.
        unsafe { write_sized(out, data(event), "out") }
    })
}

/// A string of an event's data (tests only read events that outlive it).
#[cfg(test)]
pub(crate) fn text(pointer: *const c_char) -> &'static str {
    // SAFETY: the tests only read strings of events that outlive the call.
    unsafe { std::ffi::CStr::from_ptr(pointer) }
        .to_str()
        .unwrap()
}
