//! Codes (Easy Connect, Quick Assist), their lookup part as the broker gets
//! it, and passwords, as people type them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_core::code::{Code, Lookup};
use ra_core::password::Password;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(code) = Code::parse(text) {
        let again = Code::parse(&code.to_string()).expect("a code reads back");
        assert_eq!(again.to_string(), code.to_string());
    }
    if let Ok(lookup) = Lookup::parse(text) {
        assert_eq!(Lookup::parse(&lookup.to_string()).ok(), Some(lookup));
    }
    if let Ok(password) = Password::parse(text) {
        let again = Password::parse(&password.to_string()).expect("a password reads back");
        assert_eq!(again.to_string(), password.to_string());
    }
});
