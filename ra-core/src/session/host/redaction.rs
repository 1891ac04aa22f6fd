//! The host's redaction mask in the session: the policy's `redact` and
//! `redact_windows` plus the rectangles and window classes the application
//! sets at run time. The capture path is told
//! ([`MediaCommand::RedactionsChanged`]: the driver hands
//! [`HostEndpoint::redactions`] and [`HostEndpoint::redacted_windows`] to
//! the pipeline, which finds the windows before every picture and paints
//! all of it black before encoding, then reports where the windows are:
//! [`HostEndpoint::handle_redacted_windows`]). The helper is told where the
//! mask is in its picture, the application and the audit log hear of every
//! change of what is masked (not of every move of a masked window), and
//! pointer input inside the mask never reaches the injector (see the input
//! gate).

use std::time::Instant;

use super::{HostEndpoint, HostEvent, MediaCommand};
use crate::media::Rect;
use crate::proto::{self, envelope::Message};
use crate::redact::{self, MAX_REDACTIONS};
use crate::session::types::{CommandError, ConnectionId};

impl HostEndpoint {
    /// The fixed part of the mask: the policy's rectangles, then the
    /// application's (desktop coordinates).
    pub fn redactions(&self) -> Vec<Rect> {
        self.redactions.clone()
    }

    /// The classes of the windows the mask follows: the policy's, then the
    /// application's.
    pub fn redacted_windows(&self) -> Vec<String> {
        self.window_classes.clone()
    }

    /// Masks the windows of these classes (X11 `WM_CLASS`, without case)
    /// wherever they are, besides the policy's `redact_windows` (an empty
    /// list stops following the application's).
    ///
    /// # Errors
    /// [`CommandError::InvalidArgument`] for an empty or too long class, or
    /// too many with the policy's; nothing changes then.
    pub fn set_redacted_windows(
        &mut self,
        now: Instant,
        classes: Vec<String>,
    ) -> Result<(), CommandError> {
        let all: Vec<String> = self
            .policy
            .redact_windows
            .iter()
            .chain(&classes)
            .cloned()
            .collect();
        redact::check_window_classes(&all).map_err(CommandError::InvalidArgument)?;
        self.runtime_window_classes = classes;
        self.update_redactions(now);
        Ok(())
    }

    /// Where the masked windows are now, as the capture path found them
    /// before its last picture: input there is dropped from now on, and the
    /// helper is told.
    pub fn handle_redacted_windows(&mut self, _now: Instant, rects: Vec<Rect>) {
        if rects == self.window_rects {
            return;
        }
        self.window_rects = rects;
        if let Some(conn) = self.streaming
            && !self.video_held
        {
            self.send_redactions(conn);
        }
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
        let classes: Vec<String> = self
            .policy
            .redact_windows
            .iter()
            .chain(&self.runtime_window_classes)
            .cloned()
            .collect();
        if mask == self.redactions && classes == self.window_classes {
            return;
        }
        self.redactions = mask;
        if classes != self.window_classes {
            // Found again by the capture path before its next picture.
            self.window_rects.clear();
        }
        self.window_classes = classes;
        self.media.push_back(MediaCommand::RedactionsChanged);
        self.emit(HostEvent::RedactionsChanged {
            areas: self.redactions.clone(),
            windows: self.window_classes.clone(),
        });
        if let Some(conn) = self.streaming
            && !self.video_held
        {
            self.send_redactions(conn);
        }
    }

    /// Whether the desktop position (`x`, `y`) is masked.
    pub(super) fn redacted(&self, x: i32, y: i32) -> bool {
        redact::covers(&self.redactions, x, y) || redact::covers(&self.window_rects, x, y)
    }

    /// Whether anything is masked now.
    pub(super) fn anything_redacted(&self) -> bool {
        !self.redactions.is_empty() || !self.window_rects.is_empty()
    }

    /// Tells the helper on `conn` where the mask lies in its picture (an
    /// empty list once nothing is masked; nothing before the captured area
    /// is known).
    pub(super) fn send_redactions(&mut self, conn: ConnectionId) {
        let Some(area) = self.capture_area else {
            return;
        };
        let picture = self.picture_of(area);
        let mask: Vec<Rect> = self
            .redactions
            .iter()
            .chain(&self.window_rects)
            .copied()
            .collect();
        let areas = redact::to_picture(&mask, area, picture)
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
