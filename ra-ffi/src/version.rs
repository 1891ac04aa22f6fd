//! The library's version at run time. The header's `RA_VERSION`,
//! `RA_VERSION_MAJOR`, `_MINOR` and `_PATCH` macros are written from
//! Cargo.toml when the header is generated (`tests/header.rs`).

use std::ffi::c_char;

/// The version of the library loaded at run time (`"0.1.0"`), which may
/// differ from `RA_VERSION` when the header and the library do not match.
/// Never NULL; static. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn ra_version() -> *const c_char {
    const TEXT: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(text) => text,
        Err(_) => c"unknown",
    };
    crate::guard::guard_str(c"unknown", || TEXT.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_version_is_cargo_toml_s() {
        // SAFETY: ra_version returns a static NUL-terminated string.
        let runtime = unsafe { std::ffi::CStr::from_ptr(ra_version()) };
        assert_eq!(runtime.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
