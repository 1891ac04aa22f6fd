//! A video frame's stream as the helper reads it (header, then payload).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_core::session::decode_video_stream;

fuzz_target!(|data: &[u8]| {
    if let Ok(video) = decode_video_stream(data) {
        assert!(video.frame.data.len() <= data.len());
    }
});
