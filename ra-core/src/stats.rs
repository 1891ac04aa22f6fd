//! [`SessionStats`]: what a session has done so far and how its link is, as
//! one snapshot a host or a helper can take at any time (cheaply enough to
//! take once per frame).
//!
//! Each side fills what it knows: the host its encoder, its rate controller
//! and the input it injected; the helper its decoder and the input it sent.
//! What a side cannot know is zero (or `None`), never a guess.

use std::time::Duration;

/// A timing kept for every occurrence of something (encoding a frame,
/// decoding one): the last and the mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// The most recent one; zero before the first.
    pub last: Duration,
    /// The mean of all so far; zero before the first.
    pub mean: Duration,
    /// How many there were.
    pub count: u64,
}

/// A snapshot of a session's statistics ([`HostHandle::stats`],
/// [`HelperSession::stats`]).
///
/// The link's figures (`rtt`, packets, bytes) are those of the QUIC
/// connection to the peer: the helper's own, the host's to the helper it
/// streams to (the last one, once that helper has gone). Counters only grow.
///
/// [`HostHandle::stats`]: crate::runtime::HostHandle::stats
/// [`HelperSession::stats`]: crate::runtime::HelperSession::stats
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct SessionStats {
    /// Smoothed round-trip time to the peer; `None` before a peer is known.
    pub rtt: Option<Duration>,
    /// UDP packets sent to the peer.
    pub packets_sent: u64,
    /// Of those, how many the connection found lost.
    pub packets_lost: u64,
    /// UDP bytes sent to the peer (headers, retransmissions and all).
    pub bytes_sent: u64,
    /// UDP bytes received from the peer.
    pub bytes_received: u64,
    /// The host's rate controller: the bitrate it asks of the encoder, bits
    /// per second (on the helper: as the last frame from the host said; zero
    /// before video).
    pub target_bitrate: u32,
    /// The host's rate controller: the frame rate it allows, frames per
    /// second (on the helper: as the last frame said; zero before video).
    pub target_frame_rate: f64,
    /// Host: frames put on the wire.
    pub frames_sent: u64,
    /// Helper: frames decoded and handed to the application.
    pub frames_decoded: u64,
    /// Host: frames encoded but never delivered (reset as stale, failed, or
    /// useless once a keyframe was needed). Helper: frames that arrived but
    /// were not shown (waiting for a keyframe, the decoder or the
    /// application behind, undecodable).
    pub frames_dropped: u64,
    /// Host: time to encode a frame.
    pub encode_time: Timing,
    /// Helper: time to decode a frame.
    pub decode_time: Timing,
    /// Helper: input events sent to the host.
    pub input_events_sent: u64,
    /// Host: input events the injector carried out.
    pub input_events_injected: u64,
    /// Host: input events from the helper held back or dropped (no grant,
    /// paused, the local user busy, over the rate limit, invalid, held up
    /// by an outage). Helper: input events dropped because the path to the
    /// host was dark when they were sent.
    pub input_events_held_back: u64,
    /// Host: control messages from the helper dropped over their rate
    /// limits (chat, pointer marks, keyframe requests, display selections,
    /// clipboard texts, control requests). Helper: the host's
    /// display lists and pointer updates dropped over theirs.
    pub messages_dropped: u64,
    /// Events dropped because the application did not read them in time
    /// (the oldest chat lines, pointer marks, clipboard texts, display lists
    /// or cursor updates first; see [`crate::runtime::event_queue`]).
    pub events_dropped: u64,
}

impl SessionStats {
    /// Packets lost as a share of those sent, 0.0 to 1.0 (0.0 before any).
    pub fn loss(&self) -> f64 {
        if self.packets_sent == 0 {
            return 0.0;
        }
        (self.packets_lost as f64 / self.packets_sent as f64).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_is_a_share_and_zero_before_anything_was_sent() {
        let mut stats = SessionStats::default();
        assert_eq!(stats.loss(), 0.0);
        stats.packets_sent = 200;
        stats.packets_lost = 3;
        assert!((stats.loss() - 0.015).abs() < 1e-12);
    }
}
