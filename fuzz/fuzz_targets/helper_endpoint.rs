//! A hostile host sends anything on the control stream to a helper it let
//! in: the helper may end the session, never panic.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use ra_fuzz::{LiveSession, chunks};

fuzz_target!(|data: &[u8]| {
    let mut live = LiveSession::approved();
    for chunk in chunks(data) {
        if chunk.kind % 4 == 3 {
            live.advance(Duration::from_millis(chunk.bytes.len() as u64 * 10));
        } else {
            live.helper.handle_control_data(live.now, chunk.bytes);
        }
        while live.helper.poll_event().is_some() {}
        while live.helper.poll_transmit().is_some() {}
    }
});
