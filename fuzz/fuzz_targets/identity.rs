//! An organisation-signed helper identity document, as a host reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_core::identity::HelperIdentity;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = HelperIdentity::parse(text);
    }
});
