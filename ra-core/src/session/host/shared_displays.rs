//! Which displays the helper may see (the policy's `allowed_displays`): it
//! is shown only those, its selection of another is refused (and the host
//! application told of every selection), and no picture or pointer position
//! goes out until an allowed display is the one captured.

use std::time::Instant;

use super::{HostEndpoint, HostEvent, MediaCommand};
use crate::media::DisplayId;
use crate::proto;
use crate::session::types::ConnectionId;

impl HostEndpoint {
    /// Whether the policy lets the helper see `display`. All displays as one
    /// picture only when every display is allowed.
    pub(super) fn display_allowed(&self, display: DisplayId) -> bool {
        let Some(allowed) = &self.policy.allowed_displays else {
            return true;
        };
        if display == DisplayId::ALL {
            !self.displays.is_empty() && self.displays.iter().all(|d| allowed.contains(&d.id.0))
        } else {
            allowed.contains(&display.0)
        }
    }

    /// Whether what is captured now may be shown: always without a list of
    /// allowed displays; with one, once the capturer reported an allowed
    /// display as the one it captures.
    pub(super) fn captured_display_allowed(&self) -> bool {
        self.policy.allowed_displays.is_none()
            || (!self.displays.is_empty() && self.display_allowed(self.selected_display))
    }

    /// The helper asked to watch `display`: obeyed if the policy allows it,
    /// refused (and the helper told) otherwise; the application hears both.
    pub(super) fn helper_selects_display(&mut self, conn: ConnectionId, display: DisplayId) {
        if self.streaming != Some(conn) {
            return;
        }
        if self.display_allowed(display) {
            self.media
                .push_back(MediaCommand::SelectDisplay { conn, display });
            self.emit(HostEvent::DisplaySelected { conn, display });
        } else {
            let id = display.0;
            tracing::info!(%conn, display = id, "display selection refused by the policy");
            self.send_error(
                conn,
                proto::ErrorCode::InvalidMessage,
                "the host does not share that display",
            );
            self.emit(HostEvent::DisplayRefused { conn, display });
        }
    }

    /// Keeps the video on an allowed display after the displays or the
    /// policy changed: video held back starts once an allowed display is
    /// captured; video of a display no longer allowed stops, and the
    /// capturer is moved to an allowed one.
    pub(super) fn follow_display_policy(&mut self, now: Instant, displays_changed: bool) {
        let Some(conn) = self.streaming else {
            return;
        };
        let allowed = self.captured_display_allowed();
        if self.video_held && allowed {
            self.video_held = false;
            self.media.push_back(MediaCommand::Start { conn });
            self.media.push_back(MediaCommand::Keyframe { conn });
            let _ = self.announce_displays(now, conn);
        } else if !allowed {
            if !self.video_held {
                self.media.push_back(MediaCommand::Stop { conn });
            }
            self.hold_video(conn);
        } else if displays_changed {
            let _ = self.announce_displays(now, conn);
        }
    }

    /// Holds the video for `conn` back until an allowed display is captured,
    /// asking the capturer for the first allowed one it has (the host
    /// application is told once when it has none).
    pub(super) fn hold_video(&mut self, conn: ConnectionId) {
        self.video_held = true;
        let first = self
            .displays
            .iter()
            .map(|d| d.id)
            .find(|&id| self.display_allowed(id));
        match first {
            Some(display) if display != self.selected_display => {
                self.media
                    .push_back(MediaCommand::SelectDisplay { conn, display });
            }
            Some(_) => {}
            None if !self.displays.is_empty() && !self.told_no_allowed_display => {
                self.told_no_allowed_display = true;
                let allowed = self.policy.allowed_displays.clone().unwrap_or_default();
                self.emit(HostEvent::CaptureFailed {
                    source_lost: false,
                    message: format!(
                        "none of the displays the policy allows ({allowed:?}) is connected: \
                         the helper sees nothing"
                    ),
                });
            }
            None => {}
        }
    }
}
