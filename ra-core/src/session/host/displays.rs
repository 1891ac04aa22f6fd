//! What the helper is told about the host's displays and pointer, where its
//! pointer positions land, and which connection the video goes to: the
//! driver reports what the capturer sees, and the endpoint decides whom to
//! tell and when.

use std::time::Instant;

use super::{HostEndpoint, HostEvent, MediaCommand, Phase};
use crate::media::{CaptureError, CursorUpdate, DisplayId, DisplayInfo, Rect};
use crate::proto::{self, envelope::Message};
use crate::session::types::{CommandError, ConnectionId};
use crate::session::wire::cursor_to_wire;

impl HostEndpoint {
    /// What the capturer sees: every display, the one captured, and where
    /// that one lies on the desktop (at start, after a selection, after a
    /// change of monitors or resolution). Absolute pointer positions land in
    /// `area`; the helper watching is told of a changed list or selection,
    /// and a helper let in later is told when it gets in.
    pub fn handle_displays(
        &mut self,
        now: Instant,
        displays: Vec<DisplayInfo>,
        selected: DisplayId,
        area: Rect,
    ) {
        self.capture_area = Some(area);
        let changed = displays != self.displays || selected != self.selected_display;
        self.displays = displays;
        self.selected_display = selected;
        self.follow_display_policy(now, changed);
    }

    /// The host's pointer moved or changed shape: the helper watching is
    /// told, and relative moves start from there.
    pub fn handle_cursor(&mut self, now: Instant, update: &CursorUpdate) {
        if let Some(area) = self.capture_area {
            self.pointer_at = Some((
                area.x.saturating_add(update.x),
                area.y.saturating_add(update.y),
            ));
        }
        if let Some(conn) = self.streaming {
            let _ = self.send_cursor(now, conn, update);
        }
    }

    /// The connection the video goes to, if any (live and unpaused).
    pub fn streaming_connection(&self) -> Option<ConnectionId> {
        self.streaming
    }

    /// Video starts flowing to `conn`, from a keyframe, and the helper is
    /// told the displays as they are now (they may have changed while it was
    /// paused).
    pub(super) fn start_video(&mut self, now: Instant, conn: ConnectionId) {
        self.streaming = Some(conn);
        if !self.captured_display_allowed() {
            self.hold_video(conn);
            return;
        }
        self.media.push_back(MediaCommand::Start { conn });
        self.media.push_back(MediaCommand::Keyframe { conn });
        let _ = self.announce_displays(now, conn);
    }

    /// Video stops flowing to `conn`.
    pub(super) fn stop_video(&mut self, conn: ConnectionId) {
        if self.streaming == Some(conn) {
            self.streaming = None;
            self.video_held = false;
        }
        self.media.push_back(MediaCommand::Stop { conn });
    }

    /// Tells the live helper on `conn` which displays it can watch (those
    /// the policy allows) and which one it sees (nothing before the
    /// capturer first reported them).
    ///
    /// # Errors
    /// [`CommandError::NoSession`] if the connection is not live.
    pub(super) fn announce_displays(
        &mut self,
        _now: Instant,
        conn: ConnectionId,
    ) -> Result<(), CommandError> {
        if !matches!(
            self.connections.get(&conn).map(|c| &c.phase),
            Some(Phase::Active { .. })
        ) {
            return Err(CommandError::NoSession);
        }
        if self.displays.is_empty() {
            return Ok(());
        }
        let selected = self.selected_display;
        let displays = self
            .displays
            .iter()
            .filter(|d| self.display_allowed(d.id))
            .map(|d| proto::Display {
                id: d.id.0,
                name: d.name.clone(),
                bounds: Some(proto::Rect {
                    x: d.bounds.x,
                    y: d.bounds.y,
                    width: d.bounds.width,
                    height: d.bounds.height,
                }),
                primary: d.primary,
            })
            .collect();
        self.send(
            conn,
            Message::DisplayList(proto::DisplayList {
                displays,
                selected: selected.0,
            }),
        );
        // Where the mask lies in this display's picture (nothing to say
        // while nothing is masked).
        if self.anything_redacted() {
            self.send_redactions(conn);
        }
        Ok(())
    }

    /// The size of the pictures the helper sees of `area`: as reported, or
    /// the area's own until a picture was reported.
    pub(super) fn picture_of(&self, area: Rect) -> (u32, u32) {
        self.picture_size
            .filter(|&(w, h)| w > 0 && h > 0)
            .unwrap_or((area.width, area.height))
    }

    /// The size of the pictures the helper is sent, when it differs from the
    /// captured area's (see [`HostEndpoint::handle_displays`]): positions in
    /// the picture are scaled onto the area.
    pub fn set_picture_size(&mut self, width: u32, height: u32) {
        let changed = self.picture_size != Some((width, height));
        self.picture_size = Some((width, height));
        // The mask's place in the picture moves with its size.
        if changed
            && self.anything_redacted()
            && let Some(conn) = self.streaming
            && !self.video_held
        {
            self.send_redactions(conn);
        }
    }

    /// The screen could not be captured (the video waits for the helper's
    /// next keyframe request or display selection): the application is
    /// told, with whether the source itself is gone (a closed display, a
    /// Wayland session the desktop ended).
    pub fn handle_capture_failure(&mut self, _now: Instant, error: &CaptureError) {
        self.emit(HostEvent::CaptureFailed {
            source_lost: matches!(error, CaptureError::SourceLost(_)),
            message: error.to_string(),
        });
    }

    /// Sends the pointer's position (and shape, when it changed) to a live,
    /// unpaused helper.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] when the connection does not receive video.
    pub fn send_cursor(
        &mut self,
        _now: Instant,
        conn: ConnectionId,
        update: &CursorUpdate,
    ) -> Result<(), CommandError> {
        // Not while the video waits for an allowed display: the pointer's
        // place on another display is not the helper's to see.
        if !self.video_allowed(conn) || (self.streaming == Some(conn) && self.video_held) {
            return Err(CommandError::NoSession);
        }
        let mut wire = cursor_to_wire(update);
        // Over the redaction mask the pointer is not shown: where it is
        // there says what the person at the desk is doing.
        if let Some(area) = self.capture_area
            && self.redacted(
                area.x.saturating_add(update.x),
                area.y.saturating_add(update.y),
            )
        {
            wire.visible = false;
        }
        self.send(conn, Message::Cursor(wire));
        Ok(())
    }
}
