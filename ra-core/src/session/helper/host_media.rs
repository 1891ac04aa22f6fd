//! What the host says about its screen — its displays, its pointer, its
//! redaction mask — read into events, within a budget: a host that floods
//! its helper with display lists or pointer shapes gets as far as the
//! budget and no further (over it, messages are dropped and counted in
//! [`HelperConnection::messages_dropped`]). The mask is never limited: a
//! dropped update would show the helper a stale one.

use std::time::Instant;

use super::{HelperConnection, HelperEvent};
use crate::media::{DisplayId, DisplayInfo, Rect};
use crate::proto;
use crate::session::bucket::TokenBucket;
use crate::session::wire::{MAX_NAME_LEN, cursor_from_wire, sanitize_display_text};

/// The host's budgets: display lists (each may move the helper's view),
/// pointer updates with a new shape (each a picture to decode and keep),
/// and pointer positions.
#[derive(Debug)]
pub(super) struct HostMediaBudget {
    display_lists: TokenBucket,
    shapes: TokenBucket,
    positions: TokenBucket,
}

impl HostMediaBudget {
    /// Full budgets at `now`.
    pub(super) fn new(now: Instant) -> Self {
        HostMediaBudget {
            display_lists: TokenBucket::full(now, 10.0, 4.0),
            shapes: TokenBucket::full(now, 60.0, 30.0),
            positions: TokenBucket::full(now, 240.0, 120.0),
        }
    }
}

impl HelperConnection {
    /// The host's displays.
    pub(super) fn handle_display_list(&mut self, now: Instant, list: &proto::DisplayList) {
        if !self.host_budget.display_lists.take(now) {
            self.messages_dropped += 1;
            return;
        }
        let displays = list
            .displays
            .iter()
            .map(|d| {
                let bounds = d.bounds.unwrap_or_default();
                DisplayInfo {
                    id: DisplayId(d.id),
                    name: sanitize_display_text(&d.name, MAX_NAME_LEN),
                    bounds: Rect::new(bounds.x, bounds.y, bounds.width, bounds.height),
                    primary: d.primary,
                }
            })
            .collect();
        self.events.push_back(HelperEvent::Displays {
            displays,
            selected: DisplayId(list.selected),
        });
    }

    /// The host's pointer moved or changed shape.
    pub(super) fn handle_cursor(&mut self, now: Instant, cursor: proto::Cursor) {
        let bucket = if cursor.shape.is_some() {
            &mut self.host_budget.shapes
        } else {
            &mut self.host_budget.positions
        };
        if !bucket.take(now) {
            self.messages_dropped += 1;
            return;
        }
        self.events
            .push_back(HelperEvent::Cursor(cursor_from_wire(cursor)));
    }

    /// Where the host's mask lies in the picture.
    pub(super) fn handle_redactions(&mut self, mask: &proto::Redactions) {
        let areas = mask
            .areas
            .iter()
            .take(crate::redact::MAX_REDACTIONS)
            .map(|r| Rect::new(r.x, r.y, r.width, r.height))
            .collect();
        self.events.push_back(HelperEvent::Redactions { areas });
    }

    /// Messages from the host dropped over their budgets (display lists
    /// and pointer updates).
    pub fn messages_dropped(&self) -> u64 {
        self.messages_dropped
    }
}
