//! `ra_session_stats`: a session's statistics, for either role
//! (`ra_host_get_stats`, `ra_helper_get_stats`). Reading them waits for
//! nothing (a few atomic reads and the connection's figures), so an
//! application may call them once per frame.

use ra_core::stats::SessionStats;

use crate::error::Result;
use crate::guard::guard;
use crate::helper::ra_helper;
use crate::host::ra_host;
use crate::result::ra_result;
use crate::role::{Role, borrow};
use crate::sized::{SizedStruct, write_sized};

/// A session's statistics. Each side fills what it knows (the host its
/// encoder, rate controller and injected input; the helper its decoder and
/// the input it sent); what a side cannot know is 0. Counters only grow.
///
/// Set `struct_size` to `sizeof(ra_session_stats)` before the call: the
/// library writes no more than that, and sets it to what it wrote.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ra_session_stats {
    /// `sizeof(ra_session_stats)`, set by the caller; the library sets it to
    /// the bytes it wrote.
    pub struct_size: usize,
    /// Smoothed round-trip time to the peer, in microseconds (0: no peer yet).
    pub rtt_us: u64,
    /// UDP packets sent to the peer.
    pub packets_sent: u64,
    /// Of those, how many were lost.
    pub packets_lost: u64,
    /// `packets_lost / packets_sent`, 0.0 to 1.0.
    pub loss: f64,
    /// UDP bytes sent to the peer.
    pub bytes_sent: u64,
    /// UDP bytes received from the peer.
    pub bytes_received: u64,
    /// The host's rate controller: bits per second asked of the encoder (the
    /// helper: as the last frame said).
    pub target_bitrate: u32,
    /// The host's rate controller: frames per second allowed (the helper: as
    /// the last frame said).
    pub target_frame_rate: f64,
    /// Host: frames put on the wire.
    pub frames_sent: u64,
    /// Helper: frames decoded and handed to the application.
    pub frames_decoded: u64,
    /// Host: frames encoded but not delivered. Helper: frames that arrived
    /// but were not shown.
    pub frames_dropped: u64,
    /// Host: time to encode the last frame, in microseconds.
    pub encode_us_last: u64,
    /// Host: mean time to encode a frame, in microseconds.
    pub encode_us_mean: u64,
    /// Helper: time to decode the last frame, in microseconds.
    pub decode_us_last: u64,
    /// Helper: mean time to decode a frame, in microseconds.
    pub decode_us_mean: u64,
    /// Helper: input events sent.
    pub input_events_sent: u64,
    /// Host: input events injected.
    pub input_events_injected: u64,
    /// Host: input events from the helper held back or dropped (no grant,
    /// paused, the local user busy, over the rate limit, invalid, held up
    /// by an outage). Helper: input events dropped because the path to the
    /// host was dark when they were sent.
    pub input_events_held_back: u64,
    /// Host: control messages from the helper dropped over their rate
    /// limits (chat, pointer marks, keyframe requests, display selections,
    /// clipboard, control requests). Helper: the host's
    /// display lists and pointer updates dropped over theirs.
    pub messages_dropped: u64,
    /// Events dropped because the application did not take them in time
    /// (at most 1024 wait; the oldest chat lines, pointer marks, clipboard
    /// texts, display lists, cursor updates and frames go first).
    pub events_dropped: u64,
}

// SAFETY: repr(C), Copy, `struct_size: usize` first.
unsafe impl SizedStruct for ra_session_stats {
    const NAME: &'static str = "ra_session_stats";
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl From<&SessionStats> for ra_session_stats {
    fn from(stats: &SessionStats) -> Self {
        ra_session_stats {
            struct_size: std::mem::size_of::<Self>(),
            rtt_us: stats.rtt.map_or(0, micros),
            packets_sent: stats.packets_sent,
            packets_lost: stats.packets_lost,
            loss: stats.loss(),
            bytes_sent: stats.bytes_sent,
            bytes_received: stats.bytes_received,
            target_bitrate: stats.target_bitrate,
            target_frame_rate: stats.target_frame_rate,
            frames_sent: stats.frames_sent,
            frames_decoded: stats.frames_decoded,
            frames_dropped: stats.frames_dropped,
            encode_us_last: micros(stats.encode_time.last),
            encode_us_mean: micros(stats.encode_time.mean),
            decode_us_last: micros(stats.decode_time.last),
            decode_us_mean: micros(stats.decode_time.mean),
            input_events_sent: stats.input_events_sent,
            input_events_injected: stats.input_events_injected,
            input_events_held_back: stats.input_events_held_back,
            messages_dropped: stats.messages_dropped,
            events_dropped: stats.events_dropped,
        }
    }
}

/// Writes the statistics of `role`'s session to `out`.
///
/// # Safety
/// `role` is NULL or a live handle; `out` is NULL or writable for its `struct_size`.
unsafe fn get_stats<R: Role>(role: *const R, out: *mut ra_session_stats) -> Result<()> {
    // SAFETY: the caller's contract.
    let role = unsafe { borrow(role) }?;
    let mut stats = ra_session_stats::from(&role.controller().stats());
    stats.events_dropped += role.events_dropped();
    // SAFETY: the caller's contract.
    unsafe { write_sized(out, stats, "out") }
}

/// Writes the host's session statistics to `out` (set `out->struct_size`
/// first). It never blocks, also after the session ended (the figures then
/// stay as they were). Before a helper is let in, the link figures are 0.
///
/// # Safety
/// `host` is NULL or a live handle; `out` is NULL or writable for its `struct_size`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_get_stats(
    host: *const ra_host,
    out: *mut ra_session_stats,
) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { get_stats(host, out) })
}

/// Writes the helper's session statistics to `out` (set `out->struct_size`
/// first). It never blocks, also after the session ended.
///
/// # Safety
/// `helper` is NULL or a live handle; `out` is NULL or writable for its `struct_size`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_get_stats(
    helper: *const ra_helper,
    out: *mut ra_session_stats,
) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { get_stats(helper, out) })
}
