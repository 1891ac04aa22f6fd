//! The monitors of a GNOME desktop as mutter's `org.gnome.Mutter.DisplayConfig`
//! describes them: which ones a session records, in what order, and whether
//! they changed.
//!
//! Mutter never renegotiates a monitor's recording: when a recorded monitor
//! changes (a new resolution, a rotation, a new place on the desktop, or it
//! is gone), mutter closes the stream and with it the whole session. A
//! [`MonitorLayout`] taken when the session started tells that case apart
//! from a session stopped on purpose: only in the first has the layout
//! changed since.

use std::collections::HashMap;

use zbus::blocking::{Connection, Proxy};
use zbus::zvariant::OwnedValue;

use crate::SessionError;

/// The service and interface name.
pub const DISPLAY_CONFIG: &str = "org.gnome.Mutter.DisplayConfig";
/// The object path.
pub const DISPLAY_CONFIG_PATH: &str = "/org/gnome/Mutter/DisplayConfig";

/// A monitor's identity in `GetCurrentState`: connector, vendor, product, serial.
pub type MonitorSpec = (String, String, String, String);
/// A mode in `GetCurrentState`: id, width, height, refresh rate, preferred
/// scale, supported scales, properties (`is-current`, `is-preferred`).
pub type Mode = (
    String,
    i32,
    i32,
    f64,
    f64,
    Vec<f64>,
    HashMap<String, OwnedValue>,
);
/// A monitor in `GetCurrentState`: its identity, modes and properties.
pub type Monitor = (MonitorSpec, Vec<Mode>, HashMap<String, OwnedValue>);
/// A logical monitor in `GetCurrentState`: x, y, scale, transform, primary,
/// the monitors it shows, properties.
pub type LogicalMonitor = (
    i32,
    i32,
    f64,
    u32,
    bool,
    Vec<MonitorSpec>,
    HashMap<String, OwnedValue>,
);
/// The answer of `GetCurrentState`: serial, monitors, logical monitors,
/// properties.
pub type CurrentState = (
    u32,
    Vec<Monitor>,
    Vec<LogicalMonitor>,
    HashMap<String, OwnedValue>,
);

/// Asks mutter for its current monitor configuration.
///
/// # Errors
/// [`SessionError::Call`] when mutter does not answer.
pub fn current_state(connection: &Connection) -> Result<CurrentState, SessionError> {
    let call_error = |e: zbus::Error| SessionError::Call {
        method: "DisplayConfig.GetCurrentState",
        source: Box::new(e),
    };
    let config = Proxy::new(
        connection,
        DISPLAY_CONFIG,
        DISPLAY_CONFIG_PATH,
        DISPLAY_CONFIG,
    )
    .map_err(call_error)?;
    config.call("GetCurrentState", &()).map_err(call_error)
}

/// Where one monitor is and how it is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorPlacement {
    /// The connector (`Meta-0`, `DP-1`, …), which `RecordMonitor` takes.
    pub connector: String,
    /// Whether it shows part of the desktop (a disabled monitor has no
    /// place, and the other fields are zero).
    pub enabled: bool,
    /// Left edge on the desktop.
    pub x: i32,
    /// Top edge on the desktop.
    pub y: i32,
    /// Width of its current mode, in pixels.
    pub width: i32,
    /// Height of its current mode, in pixels.
    pub height: i32,
    /// The scale of its logical monitor.
    pub scale: f64,
    /// Its rotation and flip (`0` normal, `1` 90°, … as in `wl_output`).
    pub transform: u32,
}

/// Every monitor of the desktop, the primary monitor's first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MonitorLayout {
    /// The monitors: the enabled ones in the order of their logical
    /// monitors (primary first), then the disabled ones.
    pub monitors: Vec<MonitorPlacement>,
}

impl MonitorLayout {
    /// The layout mutter describes now.
    ///
    /// # Errors
    /// As [`current_state`].
    pub fn read(connection: &Connection) -> Result<Self, SessionError> {
        Ok(Self::from_state(&current_state(connection)?))
    }

    /// The layout an answer of `GetCurrentState` describes.
    pub fn from_state(state: &CurrentState) -> Self {
        let (_, monitors, logical, _) = state;
        let current_mode = |connector: &str| -> (i32, i32) {
            monitors
                .iter()
                .find(|(spec, ..)| spec.0 == connector)
                .and_then(|(_, modes, _)| {
                    modes.iter().find(|mode| {
                        mode.6
                            .get("is-current")
                            .and_then(|value| bool::try_from(value).ok())
                            .unwrap_or(false)
                    })
                })
                .map_or((0, 0), |mode| (mode.1, mode.2))
        };
        let mut ordered: Vec<&LogicalMonitor> = logical.iter().collect();
        ordered.sort_by_key(|monitor| !monitor.4);
        let mut placements: Vec<MonitorPlacement> = Vec::new();
        for (x, y, scale, transform, _, specs, _) in ordered {
            for spec in specs {
                let (width, height) = current_mode(&spec.0);
                placements.push(MonitorPlacement {
                    connector: spec.0.clone(),
                    enabled: true,
                    x: *x,
                    y: *y,
                    width,
                    height,
                    scale: *scale,
                    transform: *transform,
                });
            }
        }
        for ((connector, ..), ..) in monitors {
            if !placements.iter().any(|p| &p.connector == connector) {
                placements.push(MonitorPlacement {
                    connector: connector.clone(),
                    enabled: false,
                    x: 0,
                    y: 0,
                    width: 0,
                    height: 0,
                    scale: 1.0,
                    transform: 0,
                });
            }
        }
        MonitorLayout {
            monitors: placements,
        }
    }

    /// The connectors to record, the primary monitor's first; `[""]` (the
    /// primary monitor, whatever it is) when mutter lists none.
    pub fn connectors(&self) -> Vec<String> {
        if self.monitors.is_empty() {
            return vec![String::new()];
        }
        self.monitors.iter().map(|m| m.connector.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(id: &str, width: i32, height: i32, current: bool) -> Mode {
        let mut properties = HashMap::new();
        properties.insert("is-current".to_owned(), OwnedValue::from(current));
        (id.into(), width, height, 60.0, 1.0, vec![1.0], properties)
    }

    fn spec(connector: &str) -> MonitorSpec {
        (connector.into(), "v".into(), "p".into(), "s".into())
    }

    fn state(transform: u32) -> CurrentState {
        let monitors = vec![
            (
                spec("Meta-0"),
                vec![mode("a", 800, 600, false), mode("b", 1024, 768, true)],
                HashMap::new(),
            ),
            (
                spec("Meta-1"),
                vec![mode("c", 640, 480, true)],
                HashMap::new(),
            ),
            (
                spec("Meta-2"),
                vec![mode("d", 640, 480, false)],
                HashMap::new(),
            ),
        ];
        let logical = vec![
            (1024, 0, 1.0, 0, false, vec![spec("Meta-1")], HashMap::new()),
            (
                0,
                0,
                1.0,
                transform,
                true,
                vec![spec("Meta-0")],
                HashMap::new(),
            ),
        ];
        (1, monitors, logical, HashMap::new())
    }

    #[test]
    fn the_primary_comes_first_and_disabled_monitors_last() {
        let layout = MonitorLayout::from_state(&state(0));
        assert_eq!(layout.connectors(), ["Meta-0", "Meta-1", "Meta-2"]);
        let primary = &layout.monitors[0];
        assert_eq!((primary.width, primary.height), (1024, 768));
        assert_eq!((layout.monitors[1].x, layout.monitors[1].y), (1024, 0));
        assert!(!layout.monitors[2].enabled);
    }

    #[test]
    fn a_rotation_is_a_change() {
        assert_eq!(
            MonitorLayout::from_state(&state(0)),
            MonitorLayout::from_state(&state(0))
        );
        assert_ne!(
            MonitorLayout::from_state(&state(0)),
            MonitorLayout::from_state(&state(1))
        );
    }

    #[test]
    fn no_monitor_records_the_primary() {
        assert_eq!(MonitorLayout::default().connectors(), [""]);
    }
}
