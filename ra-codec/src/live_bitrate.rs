//! Changing a running OpenH264 encoder's bitrate: the one thing the safe
//! `openh264` API lacks, done through its raw interface as WebRTC does, so the
//! rate follows the link at once instead of waiting for the next keyframe.
#![allow(unsafe_code)]

use std::ptr::addr_of_mut;

use openh264::encoder::Encoder as H264Encoder;
use openh264_sys2::{
    ENCODER_OPTION, ENCODER_OPTION_BITRATE, ENCODER_OPTION_MAX_BITRATE, SBitrateInfo,
    SPATIAL_LAYER_0,
};

/// Sets the target and the maximum bitrate of layer 0 (our only layer) of a
/// running encoder; false if OpenH264 refused (the caller then recreates the
/// encoder at the next keyframe).
///
/// OpenH264 checks `max >= target` after each of the two settings, so the
/// maximum goes first when the rate rises and last when it falls.
pub(crate) fn set(encoder: &mut H264Encoder, from: u32, to: u32) -> bool {
    let Ok(bitrate) = i32::try_from(to) else {
        return false;
    };
    let order = if to >= from {
        [ENCODER_OPTION_MAX_BITRATE, ENCODER_OPTION_BITRATE]
    } else {
        [ENCODER_OPTION_BITRATE, ENCODER_OPTION_MAX_BITRATE]
    };
    order
        .into_iter()
        .all(|option| set_option(encoder, option, bitrate))
}

fn set_option(encoder: &mut H264Encoder, option: ENCODER_OPTION, bitrate: i32) -> bool {
    let mut info = SBitrateInfo {
        iLayer: SPATIAL_LAYER_0,
        iBitrate: bitrate,
    };
    // SAFETY: the encoder is initialised (it has encoded a frame, see the
    // caller) and lives for the call; both options take a pointer to an
    // `SBitrateInfo` that OpenH264 only reads during the call, and `info`
    // outlives it. Bitrates are parameters the crate lets callers change
    // (they are not ones it relies on: it re-reads nothing of them).
    let status = unsafe {
        encoder
            .raw_api()
            .set_option(option, addr_of_mut!(info).cast())
    };
    status == 0
}
