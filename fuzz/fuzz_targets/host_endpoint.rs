//! A hostile helper, let in view-only, sends anything on its control and
//! input streams: the host may end the session, never panic, and nothing
//! reaches the injector without a grant (releasing what is held — which is
//! nothing — is always allowed).
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use ra_core::session::Injection;
use ra_fuzz::{LiveSession, chunks};

fuzz_target!(|data: &[u8]| {
    let mut live = LiveSession::approved();
    for chunk in chunks(data) {
        match chunk.kind % 3 {
            0 => live
                .host
                .handle_control_data(live.now, live.conn, chunk.bytes),
            1 => live
                .host
                .handle_input_data(live.now, live.conn, chunk.bytes),
            _ => live.advance(Duration::from_millis(chunk.bytes.len() as u64 * 10)),
        }
        live.drain();
    }
    live.advance(Duration::from_secs(1));
    let injected: Vec<_> = live
        .injections
        .iter()
        .filter(|i| matches!(i, Injection::Inject(_)))
        .collect();
    assert!(
        injected.is_empty(),
        "injected without a grant: {injected:?}"
    );
});
