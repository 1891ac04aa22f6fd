//! Which of the helper's input reaches the injector: only under the current
//! grant, unpaused, not while the local user is busy; absolute positions
//! mapped onto the shared display; presses rate-limited; what is held
//! released on every revoke.

use std::time::{Duration, Instant};

use prost::Message as _;

use super::{Held, HostEndpoint, Injection, Phase};
use crate::input::InputEvent;
use crate::proto;
use crate::session::bucket::TokenBucket;
use crate::session::types::{ConnectionId, ControlScopes, ControlState, GrantId};
use crate::session::wire::decode_input_event;

/// Presses (keys, buttons, wheel, each character of text) a helper may send in
/// a burst, and per second after it: far above human speed, far below what
/// freezes a desktop. Releases of what is held and pointer positions always
/// pass, so nothing stays stuck; releases of what is not held are dropped, so
/// they cannot be a flood of their own.
const PRESS_BURST: f64 = 400.0;
const PRESS_RATE: f64 = 200.0;

/// The helper's presses' budget, full at `now`.
/// Whether `event` releases a key or button.
fn is_release(event: &proto::InputEvent) -> bool {
    use proto::input_event::Event;
    matches!(
        &event.event,
        Some(Event::Button(proto::ButtonEvent { pressed: false, .. }))
            | Some(Event::Key(proto::KeyEvent { pressed: false, .. }))
    )
}

pub(super) fn press_budget(now: Instant) -> TokenBucket {
    TokenBucket::full(now, PRESS_BURST, PRESS_RATE)
}

impl HostEndpoint {
    /// Bytes arrived on the connection's input stream.
    pub fn handle_input_data(&mut self, now: Instant, conn: ConnectionId, data: &[u8]) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        if !c.phase.is_authenticated() {
            tracing::debug!(%conn, "input stream before authentication");
            self.violation(now, conn);
            return;
        }
        c.input_rx.push(data);
        loop {
            let Some(c) = self.connections.get_mut(&conn) else {
                return;
            };
            let batch = match c.input_rx.next_message() {
                Ok(Some(bytes)) => match proto::InputBatch::decode(bytes) {
                    Ok(batch) => batch,
                    Err(e) => {
                        tracing::debug!(%conn, error = %e, "undecodable input batch");
                        self.violation(now, conn);
                        return;
                    }
                },
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(%conn, error = %e, "broken input stream");
                    self.violation(now, conn);
                    return;
                }
            };
            let allowed = matches!(
                c.phase,
                Phase::Active { control: ControlState::Granted(GrantId(g)), paused: false, .. }
                    if g == batch.grant_id
            ) && self.input_suspended_until.is_none_or(|until| now >= until);
            if !allowed {
                self.input_dropped += batch.events.len() as u64;
                continue;
            }
            if self.input_is_stale(now, conn, batch.sent_at_ms) {
                // Held up by an outage: acting on it now would act on a
                // screen the helper no longer sees. Only releases pass, so
                // nothing stays pressed.
                let sent = batch.events.len();
                let releases: Vec<proto::InputEvent> =
                    batch.events.into_iter().filter(is_release).collect();
                self.input_dropped += (sent - releases.len()) as u64;
                self.deliver_input(now, &releases);
                continue;
            }
            self.deliver_input(now, &batch.events);
        }
    }

    /// Injects a batch under a grant: invalid events are skipped, absolute
    /// positions are mapped onto (and kept inside) the captured area, and
    /// presses beyond the rate limit are dropped.
    pub(super) fn deliver_input(&mut self, now: Instant, events: &[proto::InputEvent]) {
        let scopes = self
            .grant_terms
            .map_or(ControlScopes::ALL, |terms| terms.scopes);
        for event in events {
            let Some(event) = decode_input_event(event) else {
                self.input_dropped += 1;
                continue;
            };
            // Outside the grant's scopes: counted, never injected.
            if !scopes.allows(&event) {
                self.input_dropped += 1;
                continue;
            }
            let event = match event {
                InputEvent::PointerMove { x, y } => self.map_to_desktop(x, y),
                // A press where the pointer is (or was meant to go) masked
                // never lands: the helper cannot see what it would click.
                // Releases pass, so nothing stays held.
                InputEvent::Button { pressed: true, .. } | InputEvent::Wheel { .. }
                    if self.pointer_masked
                        || self.pointer_at.is_some_and(|(x, y)| self.redacted(x, y)) =>
                {
                    self.input_dropped += 1;
                    continue;
                }
                // Relative moves are kept inside the shared display too:
                // added up by the injector, they would otherwise reach
                // displays the helper cannot see.
                InputEvent::PointerMoveRelative { dx, dy } => match self.move_within_area(dx, dy) {
                    Some(event) => event,
                    None => {
                        self.input_dropped += 1;
                        continue;
                    }
                },
                InputEvent::Button { .. }
                | InputEvent::Key { .. }
                | InputEvent::Wheel { .. }
                | InputEvent::Text { .. } => {
                    if !self.admit(now, &event) {
                        self.input_dropped += 1;
                        continue;
                    }
                    event
                }
            };
            if let InputEvent::PointerMove { x, y } = event {
                // Moves into the mask are dropped too (hovering can open
                // menus and tooltips); until the helper's pointer leaves
                // it, its presses are dropped above.
                self.pointer_masked = self.redacted(x, y);
                if self.pointer_masked {
                    self.input_dropped += 1;
                    continue;
                }
                self.pointer_at = Some((x, y));
            }
            self.injections.push_back(Injection::Inject(event));
        }
    }

    /// Whether a press, release, wheel step or text passes the rate limit
    /// (a release passes when what it releases is held); keeps `held` up to
    /// date for those that pass.
    pub(super) fn admit(&mut self, now: Instant, event: &InputEvent) -> bool {
        let (held, pressed, cost) = match event {
            InputEvent::Key { code, pressed } => (Some(Held::Key(*code)), *pressed, 1.0),
            InputEvent::Button { button, pressed } => (Some(Held::Button(*button)), *pressed, 1.0),
            // Each character is a key press for the desktop.
            InputEvent::Text { text } => (None, true, text.chars().count().max(1) as f64),
            _ => (None, true, 1.0),
        };
        if !pressed {
            return held.is_some_and(|h| self.held.remove(&h));
        }
        if !self.presses.take_n(now, cost) {
            return false;
        }
        if let Some(h) = held {
            self.held.insert(h);
        }
        true
    }

    /// Queues a release of everything held; nothing is held after it.
    pub(super) fn release_all_input(&mut self) {
        self.held.clear();
        self.injections.push_back(Injection::ReleaseAll);
    }

    /// A position in the helper's picture as a position on the desktop:
    /// scaled when the picture's pixels are not the desktop's (a HiDPI screen
    /// captured in physical pixels on a desktop in logical ones, or the
    /// other way round), then offset to the captured display and kept in it.
    pub(super) fn map_to_desktop(&self, x: i32, y: i32) -> InputEvent {
        match self.capture_area {
            Some(area) if !area.is_empty() => {
                let (picture_width, picture_height) = self.picture_of(area);
                let scale = |v: i32, picture: u32, desktop: u32| -> i32 {
                    let clamped = i64::from(v).clamp(0, i64::from(picture) - 1);
                    let scaled = clamped * i64::from(desktop) / i64::from(picture);
                    i32::try_from(scaled.min(i64::from(desktop) - 1)).unwrap_or(i32::MAX)
                };
                InputEvent::PointerMove {
                    x: area.x.saturating_add(scale(x, picture_width, area.width)),
                    y: area.y.saturating_add(scale(y, picture_height, area.height)),
                }
            }
            _ => InputEvent::PointerMove { x, y },
        }
    }

    /// A relative move of (`dx`, `dy`) picture pixels as a relative move on
    /// the desktop that ends inside the captured area: scaled as positions
    /// are, from where the pointer is, and cut short at the area's edge.
    /// `None` (dropped) while the host does not know where the pointer or
    /// the area is (a move from an unknown place could end anywhere), and
    /// for a move into or within the redaction mask.
    fn move_within_area(&mut self, dx: i32, dy: i32) -> Option<InputEvent> {
        // Relative to a place in the mask the helper's pointer never got
        // to: only a move to a position takes it out.
        if self.pointer_masked {
            return None;
        }
        let area = self.capture_area.filter(|a| !a.is_empty())?;
        let (x, y) = self.pointer_at?;
        let (picture_width, picture_height) = self.picture_of(area);
        let scale = |d: i32, picture: u32, desktop: u32| -> i64 {
            i64::from(d) * i64::from(desktop) / i64::from(picture)
        };
        let clamp = |from: i32, d: i64, start: i32, length: u32| -> i32 {
            let last = i64::from(start) + i64::from(length) - 1;
            let to = (i64::from(from) + d).clamp(i64::from(start), last);
            i32::try_from(to).unwrap_or(from)
        };
        let to_x = clamp(x, scale(dx, picture_width, area.width), area.x, area.width);
        let to_y = clamp(
            y,
            scale(dy, picture_height, area.height),
            area.y,
            area.height,
        );
        self.pointer_masked = self.redacted(to_x, to_y);
        if self.pointer_masked {
            return None;
        }
        self.pointer_at = Some((to_x, to_y));
        Some(InputEvent::PointerMoveRelative {
            dx: to_x.saturating_sub(x),
            dy: to_y.saturating_sub(y),
        })
    }

    /// Ignores remote input until `now + duration` because the local user is
    /// using the mouse or keyboard ("local user wins"); keys and buttons the
    /// helper held are released.
    pub fn suspend_remote_input(&mut self, now: Instant, duration: Duration) {
        let already = self.input_suspended_until.is_some_and(|until| now < until);
        self.input_suspended_until = Some(now + duration);
        let granted = self
            .active
            .and_then(|conn| self.control_state(conn))
            .is_some_and(|c| matches!(c, ControlState::Granted(_)));
        if granted && !already {
            self.release_all_input();
        }
    }
}
