//! The helper's side of an interrupted network (see
//! [`crate::session::link`]): told to the application, and input dropped
//! rather than queued while the path is dark.

use std::time::Instant;

use super::{HelperConnection, HelperEvent};
use crate::session::link::{LinkChange, LinkWatch};

/// The path to the host.
#[derive(Debug)]
pub(super) struct HelperLink {
    watch: LinkWatch,
    /// Input events dropped while the path was dark.
    held_back: u64,
}

impl HelperLink {
    pub(super) fn new(now: Instant) -> Self {
        HelperLink {
            watch: LinkWatch::new(now),
            held_back: 0,
        }
    }

    pub(super) fn is_interrupted(&self) -> bool {
        self.watch.is_interrupted()
    }

    pub(super) fn held_back(&mut self, events: usize) {
        self.held_back += events as u64;
    }
}

impl HelperConnection {
    /// The runtime's report on the path to the host: the connection had
    /// received `received` datagrams in all at `now` (report every half
    /// second or so). Once live, silence for
    /// [`INTERRUPTED_AFTER`](crate::session::link::INTERRUPTED_AFTER) is told
    /// as [`HelperEvent::ConnectionInterrupted`], packets again as
    /// [`HelperEvent::ConnectionRestored`].
    pub fn handle_link(&mut self, now: Instant, received: u64) {
        let change = self.link.watch.observe(now, received);
        if !self.is_live() {
            return;
        }
        match change {
            Some(LinkChange::Interrupted) => {
                tracing::info!("the path to the host went dark");
                self.events.push_back(HelperEvent::ConnectionInterrupted);
            }
            Some(LinkChange::Restored { silent_for }) => {
                tracing::info!(?silent_for, "the path to the host is back");
                self.events
                    .push_back(HelperEvent::ConnectionRestored { silent_for });
            }
            None => {}
        }
    }

    /// Whether the path to the host counts as interrupted now.
    pub fn link_interrupted(&self) -> bool {
        self.link.is_interrupted()
    }

    /// Input events dropped because the path was dark when they were sent.
    pub fn input_events_held_back(&self) -> u64 {
        self.link.held_back
    }

    /// Milliseconds since the connection started (the clock input batches
    /// are stamped with; never 0, which means "not said").
    pub(super) fn session_millis(&self, now: Instant) -> u64 {
        let millis = now.saturating_duration_since(self.created_at).as_millis();
        u64::try_from(millis).unwrap_or(u64::MAX).max(1)
    }
}
