//! The host's redaction mask in the session: the policy's `redact` plus the
//! rectangles the application sets at run time. The capture path is told
//! ([`MediaCommand::RedactionsChanged`]: the driver hands
//! [`HostEndpoint::redactions`] to the pipeline, which paints them black
//! before encoding), the helper is told where they are in its picture, the
//! application and the audit log hear of every change, and pointer presses
//! inside them never reach the injector (see the input gate).

use std::time::Instant;

use super::{HostEndpoint, HostEvent, MediaCommand};
use crate::media::Rect;
use crate::proto::{self, envelope::Message};
use crate::redact::{self, MAX_REDACTIONS};
use crate::session::types::{CommandError, ConnectionId};

impl HostEndpoint {
    /// The whole mask now: the policy's rectangles, then the application's
    /// (desktop coordinates).
    pub fn redactions(&self) -> Vec<Rect> {
        self.redactions.clone()
    }

    /// Replaces the rectangles the application masks at run time (the
    /// policy's stay): from the next picture on they are black, the helper
    /// is told, and input inside them is dropped. An empty list unmasks
    /// what the application masked.
    ///
    /// # Errors
    /// [`CommandError::InvalidArgument`] for an empty rectangle or more than
    /// [`MAX_REDACTIONS`] with the policy's; nothing changes then.
    pub fn set_redactions(&mut self, now: Instant, rects: Vec<Rect>) -> Result<(), CommandError> {
        if rects.iter().any(Rect::is_empty) {
            return Err(CommandError::InvalidArgument(
                "a redaction rectangle is empty",
            ));
        }
        if rects.len() + self.policy.redact.len() > MAX_REDACTIONS {
            return Err(CommandError::InvalidArgument(
                "too many redaction rectangles",
            ));
        }
        self.runtime_redactions = rects;
        self.update_redactions(now);
        Ok(())
    }

    /// Recomputes the mask (after the policy or the application changed
    /// it); a change goes to the capture path, the application and the
    /// helper watching.
    pub(super) fn update_redactions(&mut self, _now: Instant) {
        let mask: Vec<Rect> = self
            .policy
            .redact
            .iter()
            .chain(&self.runtime_redactions)
            .copied()
            .collect();
        if mask == self.redactions {
            return;
        }
        self.redactions = mask;
        self.media.push_back(MediaCommand::RedactionsChanged);
        self.emit(HostEvent::RedactionsChanged {
            areas: self.redactions.clone(),
        });
        if let Some(conn) = self.streaming
            && !self.video_held
        {
            self.send_redactions(conn);
        }
    }

    /// Whether the desktop position (`x`, `y`) is masked.
    pub(super) fn redacted(&self, x: i32, y: i32) -> bool {
        redact::covers(&self.redactions, x, y)
    }

    /// Tells the helper on `conn` where the mask lies in its picture (an
    /// empty list once nothing is masked; nothing before the captured area
    /// is known).
    pub(super) fn send_redactions(&mut self, conn: ConnectionId) {
        let Some(area) = self.capture_area else {
            return;
        };
        let picture = self
            .picture_size
            .filter(|&(w, h)| w > 0 && h > 0)
            .unwrap_or((area.width, area.height));
        let areas = redact::to_picture(&self.redactions, area, picture)
            .into_iter()
            .map(|r| proto::Rect {
                x: r.x,
                y: r.y,
                width: r.width,
                height: r.height,
            })
            .collect();
        self.send(conn, Message::Redactions(proto::Redactions { areas }));
    }
}
