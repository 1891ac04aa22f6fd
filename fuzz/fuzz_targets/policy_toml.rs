//! The host's policy file (TOML).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_core::policy::Policy;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::from_toml_str(text);
    }
});
