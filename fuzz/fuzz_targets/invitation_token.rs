//! The invitation token pasted into a helper.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_core::invitation::Invitation;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(invitation) = Invitation::from_token(text) {
        let again = Invitation::from_token(&invitation.to_token()).expect("a token reads back");
        assert_eq!(again, invitation);
    }
});
