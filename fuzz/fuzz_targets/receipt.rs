//! A consent receipt, as a helper or `ra-audit verify-receipt` reads it:
//! parsed, then its signatures checked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_core::receipt::{ConsentReceipt, ReceiptCheck};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(receipt) = ConsentReceipt::parse(text)
    {
        let _ = receipt.verify(&ReceiptCheck::default());
    }
});
