//! [`LocalActivity`]: notices input from the local user's own devices.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use x11rb::protocol::Event;
use x11rb::protocol::xinput::{self, ConnectionExt as _, DeviceType, XIEventMask};
use x11rb::rust_connection::RustConnection;

use super::connect;
use super::error::{OrX11, X11Error};
use super::worker::Worker;

/// Name suffixes of the XTEST virtual devices the X server makes for every
/// master ("Virtual core XTEST pointer", "Virtual core XTEST keyboard", and
/// "NAME XTEST …" for other masters).
const XTEST_SUFFIXES: [&str; 2] = [" XTEST pointer", " XTEST keyboard"];

/// What kind of physical input was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActivityKind {
    /// A key press.
    Key,
    /// A button press (wheel notches included).
    Button,
    /// Pointer motion.
    Motion,
    /// A touch began.
    Touch,
}

/// Input from a device other than the XTEST virtual devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysicalInput {
    /// What it was.
    pub kind: ActivityKind,
    /// The XInput2 id of the device it came from (the slave device).
    pub device: u16,
    /// The X server's timestamp (milliseconds).
    pub server_time: u32,
    /// When it was seen.
    pub at: Instant,
}

/// Counts of the raw input events a [`LocalActivity`] has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivityStats {
    /// From real devices: reported.
    pub physical: u64,
    /// From the XTEST virtual devices (injected): ignored.
    pub synthetic: u64,
}

#[derive(Debug, Default)]
struct Counters {
    physical: AtomicU64,
    synthetic: AtomicU64,
}

/// Watches the XInput2 raw events of every device and reports input that does
/// not come from the XTEST virtual devices, i.e. from the local user's own
/// keyboard, mouse or touchscreen: "the local user wins".
///
/// Raw events reach the root window whatever window has the focus and even
/// while another client grabs the devices. Injected events (XTEST, as enigo,
/// xdotool and this crate produce) carry an XTEST device as their source and
/// are counted but not reported. Key and button presses, motion and touch
/// begins are reported; releases are not (they follow a press anyway).
/// Motion can come at 1000 Hz from a gaming mouse: keep the callback cheap.
///
/// Dropping it closes its connection and joins its thread.
pub struct LocalActivity {
    worker: Worker,
    counters: Arc<Counters>,
    synthetic: Arc<Mutex<HashSet<u16>>>,
}

impl std::fmt::Debug for LocalActivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalActivity")
            .field("stats", &self.stats())
            .field("synthetic_devices", &self.synthetic_devices())
            .finish_non_exhaustive()
    }
}

impl LocalActivity {
    /// Starts watching `display` (`None`: `$DISPLAY`); `on_input` runs on the
    /// watcher's thread for each physical input event and must not block.
    ///
    /// # Errors
    /// [`X11Error::MissingExtension`] without XInput 2, [`X11Error::Connect`]
    /// and others when the display cannot be used.
    pub fn start(
        display: Option<&str>,
        on_input: Box<dyn Fn(PhysicalInput) + Send>,
    ) -> Result<Self, X11Error> {
        let (conn, screen) = connect(display)?;
        let root = screen.root;
        // XI2 events are only sent to clients that announced XI2 support.
        let version = conn
            .xinput_xi_query_version(2, 2)
            .map_err(|_| X11Error::MissingExtension("XInputExtension"))?
            .reply()
            .or_x11()?;
        if version.major_version < 2 {
            return Err(X11Error::MissingExtension("XInputExtension 2"));
        }
        let touch = (version.major_version, version.minor_version) >= (2, 2);

        let synthetic = Arc::new(Mutex::new(xtest_devices(&conn)?));
        let mut raw = XIEventMask::RAW_KEY_PRESS | XIEventMask::RAW_BUTTON_PRESS;
        raw |= XIEventMask::RAW_MOTION;
        if touch {
            raw |= XIEventMask::RAW_TOUCH_BEGIN;
        }
        conn.xinput_xi_select_events(
            root,
            &[
                // Raw events of the masters carry the slave as sourceid.
                xinput::EventMask {
                    deviceid: xinput::Device::ALL_MASTER.into(),
                    mask: vec![raw],
                },
                // Devices (and masters with their XTEST devices) come and go.
                xinput::EventMask {
                    deviceid: xinput::Device::ALL.into(),
                    mask: vec![XIEventMask::HIERARCHY],
                },
            ],
        )
        .or_x11()?
        .check()
        .or_x11()?;

        let counters = Arc::new(Counters::default());
        let worker = {
            let counters = Arc::clone(&counters);
            let synthetic = Arc::clone(&synthetic);
            Worker::spawn(
                Arc::new(conn),
                root,
                "ra-x11-local-activity",
                Box::new(move |conn, event| {
                    let (kind, source, time) = match event {
                        Event::XinputRawKeyPress(e) => (ActivityKind::Key, e.sourceid, e.time),
                        Event::XinputRawButtonPress(e) => {
                            (ActivityKind::Button, e.sourceid, e.time)
                        }
                        Event::XinputRawMotion(e) => (ActivityKind::Motion, e.sourceid, e.time),
                        Event::XinputRawTouchBegin(e) => (ActivityKind::Touch, e.sourceid, e.time),
                        Event::XinputHierarchy(_) => {
                            let devices = xtest_devices(conn)?;
                            *synthetic.lock().unwrap_or_else(PoisonError::into_inner) = devices;
                            return Ok(());
                        }
                        _ => return Ok(()),
                    };
                    let is_synthetic = synthetic
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .contains(&source);
                    if is_synthetic {
                        counters.synthetic.fetch_add(1, Ordering::Relaxed);
                    } else {
                        counters.physical.fetch_add(1, Ordering::Relaxed);
                        on_input(PhysicalInput {
                            kind,
                            device: source,
                            server_time: time,
                            at: Instant::now(),
                        });
                    }
                    Ok(())
                }),
                None,
            )?
        };
        Ok(LocalActivity {
            worker,
            counters,
            synthetic,
        })
    }

    /// How many raw events were seen so far, physical and injected.
    pub fn stats(&self) -> ActivityStats {
        ActivityStats {
            physical: self.counters.physical.load(Ordering::Relaxed),
            synthetic: self.counters.synthetic.load(Ordering::Relaxed),
        }
    }

    /// The XInput2 ids of the XTEST devices whose events are ignored.
    pub fn synthetic_devices(&self) -> Vec<u16> {
        let mut ids: Vec<u16> = self
            .synthetic
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .copied()
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Returns once every raw event the X server sent to the watcher before
    /// this call has been handled (and callbacks for it have run).
    ///
    /// # Errors
    /// [`X11Error::Timeout`] after `timeout`, [`X11Error::Stopped`] when the
    /// thread has ended (the connection broke).
    pub fn sync(&self, timeout: Duration) -> Result<(), X11Error> {
        self.worker.sync(timeout)
    }
}

/// The ids of the XTEST slave devices, found by name.
fn xtest_devices(conn: &RustConnection) -> Result<HashSet<u16>, X11Error> {
    let reply = conn
        .xinput_xi_query_device(xinput::Device::ALL)
        .or_x11()?
        .reply()
        .or_x11()?;
    Ok(reply
        .infos
        .iter()
        .filter(|info| {
            matches!(
                info.type_,
                DeviceType::SLAVE_POINTER | DeviceType::SLAVE_KEYBOARD | DeviceType::FLOATING_SLAVE
            )
        })
        .filter(|info| {
            let name = String::from_utf8_lossy(&info.name);
            XTEST_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
        })
        .map(|info| info.deviceid)
        .collect())
}
