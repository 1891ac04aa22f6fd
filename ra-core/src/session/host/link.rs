//! The host's side of an interrupted network: what happens when the live
//! helper's path goes dark and comes back (see [`crate::session::link`]).

use std::time::Instant;

use super::{HostEndpoint, HostEvent, MediaCommand, Phase};
use crate::session::link::{InputFreshness, LinkChange, LinkWatch};
use crate::session::types::ConnectionId;

/// The live connection's path.
#[derive(Debug, Default)]
pub(super) struct HostLink {
    watch: Option<(ConnectionId, LinkWatch)>,
    /// The interruption stopped the video: it starts again when restored.
    video_stopped: bool,
}

/// The live helper's input send times, to drop what an outage held up.
#[derive(Debug, Default)]
pub(super) struct HostInputTimes {
    freshness: Option<(ConnectionId, InputFreshness)>,
}

impl HostEndpoint {
    /// The runtime's report on `conn`'s path: it had received `received`
    /// datagrams in all at `now` (report every half second or so).
    ///
    /// Only the live connection is watched. When nothing arrived for
    /// [`INTERRUPTED_AFTER`](crate::session::link::INTERRUPTED_AFTER), the
    /// helper's held keys and buttons are released, the video stops and
    /// [`HostEvent::ConnectionInterrupted`] is told; when packets arrive
    /// again, the video starts over from a keyframe (and the sender from a
    /// safe rate) and [`HostEvent::ConnectionRestored`] is told. Control
    /// is left as it was: the grant still holds, and input sent before the
    /// outage is dropped as stale when it arrives.
    pub fn handle_link(&mut self, now: Instant, conn: ConnectionId, received: u64) {
        let live = matches!(
            self.connections.get(&conn).map(|c| &c.phase),
            Some(Phase::Active { .. })
        );
        if !live {
            if self.link.watch.as_ref().is_some_and(|(c, _)| *c == conn) {
                self.link = HostLink::default();
            }
            return;
        }
        if self.link.watch.as_ref().is_none_or(|(c, _)| *c != conn) {
            self.link = HostLink {
                watch: Some((conn, LinkWatch::new(now))),
                video_stopped: false,
            };
        }
        let Some((_, watch)) = self.link.watch.as_mut() else {
            return;
        };
        match watch.observe(now, received) {
            Some(LinkChange::Interrupted) => {
                tracing::info!(%conn, "the helper's path went dark");
                self.release_all_input();
                if self.streaming == Some(conn) && !self.video_held {
                    self.media.push_back(MediaCommand::Stop { conn });
                    self.link.video_stopped = true;
                }
                self.emit(HostEvent::ConnectionInterrupted { conn });
            }
            Some(LinkChange::Restored { silent_for }) => {
                tracing::info!(%conn, ?silent_for, "the helper's path is back");
                if std::mem::take(&mut self.link.video_stopped)
                    && self.streaming == Some(conn)
                    && !self.video_held
                {
                    self.media.push_back(MediaCommand::Start { conn });
                    self.media.push_back(MediaCommand::Keyframe { conn });
                }
                self.emit(HostEvent::ConnectionRestored { conn, silent_for });
            }
            None => {}
        }
    }

    /// Whether `conn`'s path counts as interrupted now.
    pub fn link_interrupted(&self, conn: ConnectionId) -> bool {
        self.link
            .watch
            .as_ref()
            .is_some_and(|(c, watch)| *c == conn && watch.is_interrupted())
    }

    /// Whether a batch the helper sent at `sent_at_ms` (its clock) and that
    /// arrives at `now` was held up: older than the least delay seen by
    /// [`STALE_INPUT_AFTER`](crate::session::link::STALE_INPUT_AFTER).
    pub(super) fn input_is_stale(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        sent_at_ms: u64,
    ) -> bool {
        let received_at_ms =
            u64::try_from(now.saturating_duration_since(self.created_at).as_millis())
                .unwrap_or(u64::MAX);
        let times = &mut self.input_times.freshness;
        if times.as_ref().is_none_or(|(c, _)| *c != conn) {
            *times = Some((conn, InputFreshness::default()));
        }
        times
            .as_mut()
            .is_some_and(|(_, freshness)| freshness.is_stale(sent_at_ms, received_at_ms))
    }
}
