//! The OpenH264 decoder on what a host can send: a video stream, parsed as
//! the helper parses it, then decoded, frame after frame (chunks).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ra_codec::OpenH264Decoder;
use ra_core::media::Decoder;
use ra_core::session::decode_video_stream;
use ra_fuzz::chunks;

fuzz_target!(|data: &[u8]| {
    let Ok(mut decoder) = OpenH264Decoder::new() else {
        return;
    };
    // The whole input as one stream (seeds are real streams), then as
    // several small ones.
    let mut streams = vec![data];
    streams.extend(chunks(data).into_iter().map(|c| c.bytes));
    for stream in streams {
        if let Ok(video) = decode_video_stream(stream)
            && let Ok(Some(picture)) = decoder.decode(&video.frame)
        {
            assert_eq!(picture.data.len(), picture.stride * picture.height as usize);
        }
    }
});
