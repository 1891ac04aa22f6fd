//! A resume ticket as a restarted host reads it from its file (opened with
//! the application's key), and a ticket key file's text: refused or
//! accepted, never a panic. (A ticket's body is only read once its tag
//! checks under the key, which no input without the key reaches.)
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use ra_core::resume::{ResumeTicket, TicketKey};

/// The key the seed tickets are sealed with (`ra-fuzz-seeds`).
const KEY: [u8; 32] = [0x42; 32];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector % 2 == 0 {
        if let Ok(text) = std::str::from_utf8(rest) {
            let _ = TicketKey::from_hex(text);
        }
        return;
    }
    let Ok(key) = TicketKey::from_bytes(&KEY) else {
        return;
    };
    let now = UNIX_EPOCH + Duration::from_secs(1_795_600_000);
    let _ = ResumeTicket::open(rest, &key, now);
});
