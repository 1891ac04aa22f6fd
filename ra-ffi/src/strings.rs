//! Strings across the boundary: NUL-terminated UTF-8 in, library-owned
//! NUL-terminated UTF-8 out (freed with [`ra_string_free`]).

use std::ffi::{CStr, CString, c_char};

use crate::error::{Error, Result};
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::result::{RA_RESULT_INVALID_UTF8, ra_result};

/// Reads a NUL-terminated UTF-8 argument.
///
/// # Safety
/// `pointer` is NULL or points at a NUL-terminated string that stays valid
/// and unchanged during `'a`.
pub(crate) unsafe fn str_arg<'a>(pointer: *const c_char, what: &str) -> Result<&'a str> {
    if pointer.is_null() {
        return Err(Error::null(what));
    }
    // SAFETY: non-NULL, and the caller guarantees NUL termination and lifetime.
    let text = unsafe { CStr::from_ptr(pointer) };
    text.to_str().map_err(|e| {
        Error::new(
            RA_RESULT_INVALID_UTF8,
            format!(
                "`{what}` is not UTF-8 (invalid byte at {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Reads `len` bytes at `data` (named `what` in errors).
///
/// # Safety
/// `data` is NULL or readable for `len` bytes that stay valid and unchanged
/// during `'a`.
pub(crate) unsafe fn bytes_arg<'a>(data: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if data.is_null() {
        return Err(Error::null(what));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "the length of `{what}` is larger than any buffer"
        )));
    }
    // SAFETY: non-NULL, readable for `len` bytes by contract, len ≤ isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// Like [`str_arg`], with NULL meaning "not given".
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    pointer: *const c_char,
    what: &str,
) -> Result<Option<&'a str>> {
    if pointer.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(pointer, what) }.map(Some)
    }
}

/// A C string of `text`; interior NULs (which C cannot represent) become U+FFFD.
pub(crate) fn c_string_lossy(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// A string handed to C, to be freed with [`ra_string_free`].
struct OwnedString;

impl Handle for OwnedString {
    const NAME: &'static str = "string returned by ra";
}

/// Gives `text` to C. The registry records it so `ra_string_free` can
/// recognise it (and refuse anything else).
pub(crate) fn out_string(text: &str) -> *mut c_char {
    let raw = c_string_lossy(text).into_raw();
    // Register the address under the marker type; the value stays a CString.
    register_string(raw);
    raw
}

fn register_string(raw: *mut c_char) {
    // A zero-sized marker is boxed only to reuse the registry's bookkeeping:
    // the key is the CString's address, not the marker's.
    handle::register_foreign::<OwnedString>(raw.cast());
}

/// Writes a new library-owned string to `out`.
///
/// # Safety
/// `out` is NULL or valid for a pointer write.
pub(crate) unsafe fn write_string(out: *mut *mut c_char, text: &str) -> Result<()> {
    if out.is_null() {
        return Err(Error::null("out"));
    }
    let raw = out_string(text);
    // SAFETY: `out` is non-NULL and the caller guarantees it is writable.
    unsafe { out.write(raw) };
    Ok(())
}

/// Frees a string returned by an `ra_` function (through a `char **out`).
/// NULL is a no-op.
///
/// # Safety
/// `string` is NULL or a string returned by ra and not freed yet; other
/// pointers are refused with `RA_RESULT_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_string_free(string: *mut c_char) -> ra_result {
    guard(|| {
        if string.is_null() {
            return Ok(());
        }
        handle::unregister_foreign::<OwnedString>(string.cast(), "string")?;
        // SAFETY: the registry held `string` as a CString from `out_string`,
        // and it has just been removed, so this is its only owner.
        drop(unsafe { CString::from_raw(string) });
        Ok(())
    })
}
