//! An audit log, as `ra-audit verify` reads it: every line's record and the
//! hash chains.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_core::audit::{AuditRecord, chain};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            let _ = AuditRecord::from_json_line(line);
        }
    }
    let _ = chain::verify(data);
});
