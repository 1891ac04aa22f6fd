//! The invitation file a helper opens (`.msrcincident`-like XML).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_core::invitation::Invitation;

fuzz_target!(|data: &[u8]| {
    if let Ok(invitation) = Invitation::parse_file(data) {
        // What is accepted is written back the same way.
        let again = Invitation::parse_file(invitation.to_file_string().as_bytes())
            .expect("a parsed invitation reads back");
        assert_eq!(again, invitation);
    }
});
