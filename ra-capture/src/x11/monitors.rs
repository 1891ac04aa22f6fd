//! RandR monitors as [`DisplayInfo`]s, with ids stable per monitor name.

use std::collections::HashMap;

use ra_core::media::{CaptureError, DisplayId, DisplayInfo, Rect};
use x11rb::connection::Connection;
use x11rb::protocol::randr;
use x11rb::protocol::xproto::{self, ConnectionExt as _, Window};

use super::error::{failed, lost};

/// Name of the one display listed when RandR offers no monitors.
const FALLBACK_NAME: &str = "screen";

/// Hands out ids by monitor name, so a monitor keeps its id across RandR
/// changes (unplugged and plugged back in, resized) for the capturer's life.
#[derive(Debug, Default)]
pub(super) struct MonitorIds {
    by_name: HashMap<String, DisplayId>,
}

impl MonitorIds {
    fn id_for(&mut self, name: &str) -> DisplayId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        // Ids count from 0; `DisplayId::ALL` (u32::MAX) is never reached in
        // practice, and is skipped if it ever were.
        let next = u32::try_from(self.by_name.len()).unwrap_or(u32::MAX - 1);
        let id = DisplayId(next.min(u32::MAX - 1));
        self.by_name.insert(name.to_owned(), id);
        id
    }
}

/// Lists the active monitors of `root` (`randr` says whether RandR 1.5 is
/// there); without RandR, or with no monitor, one display covers the root.
pub(super) fn list<C: Connection>(
    conn: &C,
    root: Window,
    randr: bool,
    root_size: (u32, u32),
    ids: &mut MonitorIds,
) -> Result<Vec<DisplayInfo>, CaptureError> {
    let mut displays = Vec::new();
    if randr {
        let reply = randr::get_monitors(conn, root, true)
            .map_err(lost)?
            .reply()
            .map_err(failed("randr get_monitors"))?;
        // Ask for every name first and then read the answers: one round trip
        // for all monitors instead of one each.
        let cookies = reply
            .monitors
            .iter()
            .map(|m| conn.get_atom_name(m.name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(lost)?;
        for (monitor, cookie) in reply.monitors.iter().zip(cookies) {
            let name = cookie.reply().map_err(failed("get_atom_name"))?;
            let name = String::from_utf8_lossy(&name.name).into_owned();
            displays.push(DisplayInfo {
                id: ids.id_for(&name),
                name,
                bounds: Rect::new(
                    i32::from(monitor.x),
                    i32::from(monitor.y),
                    u32::from(monitor.width),
                    u32::from(monitor.height),
                ),
                primary: monitor.primary,
            });
        }
    }
    if displays.is_empty() {
        displays.push(DisplayInfo {
            id: ids.id_for(FALLBACK_NAME),
            name: FALLBACK_NAME.to_owned(),
            bounds: Rect::new(0, 0, root_size.0, root_size.1),
            primary: true,
        });
    }
    Ok(displays)
}

/// The root window's size.
pub(super) fn root_size<C: Connection>(conn: &C, root: Window) -> Result<(u32, u32), CaptureError> {
    let geometry = conn
        .get_geometry(root)
        .map_err(lost)?
        .reply()
        .map_err(failed("get_geometry"))?;
    Ok((u32::from(geometry.width), u32::from(geometry.height)))
}

/// The display to capture when none is chosen, or when the chosen one
/// vanished: the primary monitor, else the whole root.
pub(super) fn default_display(displays: &[DisplayInfo]) -> DisplayId {
    displays
        .iter()
        .find(|d| d.primary)
        .map_or(DisplayId::ALL, |d| d.id)
}

/// Asks for the RandR events that signal a change of screen or monitor
/// geometry.
pub(super) fn watch<C: Connection>(conn: &C, root: xproto::Window) -> Result<(), CaptureError> {
    randr::select_input(
        conn,
        root,
        randr::NotifyMask::SCREEN_CHANGE
            | randr::NotifyMask::CRTC_CHANGE
            | randr::NotifyMask::OUTPUT_CHANGE,
    )
    .map_err(lost)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_name() {
        let mut ids = MonitorIds::default();
        let a = ids.id_for("DP-1");
        let b = ids.id_for("HDMI-1");
        assert_ne!(a, b);
        assert_eq!(ids.id_for("DP-1"), a);
        assert_ne!(a, DisplayId::ALL);
    }

    #[test]
    fn the_default_is_the_primary_else_everything() {
        let d = |id, primary| DisplayInfo {
            id: DisplayId(id),
            name: String::new(),
            bounds: Rect::new(0, 0, 1, 1),
            primary,
        };
        assert_eq!(default_display(&[d(0, false), d(1, true)]), DisplayId(1));
        assert_eq!(default_display(&[d(0, false)]), DisplayId::ALL);
    }
}
