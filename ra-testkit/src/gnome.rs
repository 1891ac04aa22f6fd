//! A private headless GNOME (mutter) Wayland desktop: its own
//! `dbus-run-session`, its own `XDG_RUNTIME_DIR`, PipeWire, WirePlumber and
//! mutter with virtual monitors (`scripts/headless-gnome.sh`). Dropping the
//! handle stops it (its stdin closes; after a grace period, by PID).
//!
//! Needs the packages `mutter pipewire wireplumber dbus libglib2.0-bin`
//! (`scripts/setup.sh test` installs them).

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use ra_core::input::{InputEvent, InputInjector};
use ra_core::keys::KeyCode;
use ra_wayland::WaylandEnv;

/// The compositor's socket name in the desktop's runtime directory.
const WAYLAND_DISPLAY: &str = "wayland-ra";
/// How long the desktop may take to come up (mutter is ≈ 2 s cold).
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long it may take to stop once asked.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// One desktop at a time in a test program: two software-rendered desktops
/// at once on two cores starve each other (mutter then sends some streams
/// no first picture).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running headless desktop.
pub struct HeadlessGnome {
    _turn: MutexGuard<'static, ()>,
    session: Child,
    stdin: Option<ChildStdin>,
    env: WaylandEnv,
    /// What else the ready line said: mutter's PID, Xwayland's display.
    extras: Extras,
    /// The scratch directory (the runtime directory and the logs).
    dir: PathBuf,
}

/// The ready line's optional parts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Extras {
    mutter_pid: Option<u32>,
    x11_display: Option<String>,
}

impl HeadlessGnome {
    /// Starts a desktop with one virtual monitor per `(width, height)`.
    ///
    /// # Errors
    /// A description (with the logs' place) when it cannot start.
    pub fn start(monitors: &[(u32, u32)]) -> Result<Self, String> {
        Self::start_with(monitors, false)
    }

    /// Starts a desktop that also runs Xwayland, so that X clients can draw
    /// on it ([`HeadlessGnome::x11_display`]; package `xwayland`).
    ///
    /// # Errors
    /// As [`HeadlessGnome::start`].
    pub fn start_with_xwayland(monitors: &[(u32, u32)]) -> Result<Self, String> {
        Self::start_with(monitors, true)
    }

    fn start_with(monitors: &[(u32, u32)], xwayland: bool) -> Result<Self, String> {
        // A test that failed while holding it leaves it poisoned: still free.
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = std::env::temp_dir().join(format!(
            "ra-gnome-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let runtime = dir.join("xdg");
        std::fs::create_dir_all(&runtime).map_err(|e| format!("{}: {e}", runtime.display()))?;
        set_private(&runtime)?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/headless-gnome.sh");
        let mut session = Command::new("dbus-run-session")
            // A group of its own: if it must be killed, its children go too.
            .process_group(0)
            .arg("--")
            .arg("bash")
            .arg(script)
            .args(monitors.iter().map(|(w, h)| format!("{w}x{h}")))
            .env("XDG_RUNTIME_DIR", &runtime)
            // Set before the bus starts, so that the services it activates
            // (the portal and its GNOME backend, whose dialog is a Wayland
            // client) find the desktop.
            .env("WAYLAND_DISPLAY", WAYLAND_DISPLAY)
            .env("XDG_CURRENT_DESKTOP", "GNOME")
            .env("RA_GNOME_XWAYLAND", if xwayland { "1" } else { "0" })
            .env_remove("DISPLAY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run dbus-run-session: {e}"))?;
        let stdin = session.stdin.take();
        let stdout = session.stdout.take();
        let (lines, ready) = mpsc::channel();
        std::thread::spawn(move || {
            if let Some(stdout) = stdout {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = lines.send(line);
            }
        });
        let mut desktop = HeadlessGnome {
            _turn: turn,
            session,
            stdin,
            env: WaylandEnv::default(),
            extras: Extras::default(),
            dir,
        };
        let line = ready.recv_timeout(START_TIMEOUT).map_err(|_| {
            format!(
                "the headless desktop did not come up in {START_TIMEOUT:?}; logs in {}",
                desktop.dir.display()
            )
        })?;
        (desktop.env, desktop.extras) = parse_ready(&line).ok_or_else(|| {
            format!(
                "the headless desktop did not start ({:?}); logs in {}",
                line.trim(),
                desktop.dir.display()
            )
        })?;
        Ok(desktop)
    }

    /// Where the desktop's bus, PipeWire and compositor are.
    pub fn env(&self) -> &WaylandEnv {
        &self.env
    }

    /// The Xwayland display (`:N`) of a desktop started with
    /// [`HeadlessGnome::start_with_xwayland`].
    pub fn x11_display(&self) -> Option<&str> {
        self.extras.x11_display.as_deref()
    }

    /// The compositor's PID (to read its CPU time).
    pub fn mutter_pid(&self) -> Option<u32> {
        self.extras.mutter_pid
    }

    /// Turns the primary monitor to `transform` (`0` normal, `1` a quarter
    /// turn, … as in `wl_output`) through mutter's `DisplayConfig`, as the
    /// display settings do: a 1024 × 768 monitor turned a quarter is
    /// 768 × 1024. The other monitors stay where they are (so only a
    /// one-monitor desktop is sure to accept it).
    ///
    /// # Errors
    /// What mutter said when it refused.
    pub fn rotate_primary(&self, transform: u32) -> Result<(), String> {
        use ra_wayland::display_config::{self, DISPLAY_CONFIG, DISPLAY_CONFIG_PATH};
        use zbus::zvariant::Value;

        let address = self.env.bus_address.as_deref().ok_or("no bus address")?;
        let connection = zbus::blocking::connection::Builder::address(address)
            .and_then(|builder| builder.build())
            .map_err(|e| format!("the desktop's bus: {e}"))?;
        let (serial, monitors, logical, _) =
            display_config::current_state(&connection).map_err(|e| e.to_string())?;
        let current_mode = |connector: &str| -> String {
            monitors
                .iter()
                .filter(|(spec, ..)| spec.0 == connector)
                .flat_map(|(_, modes, _)| modes)
                .find(|mode| {
                    mode.6
                        .get("is-current")
                        .is_some_and(|value| bool::try_from(value).unwrap_or(false))
                })
                .map(|mode| mode.0.clone())
                .unwrap_or_default()
        };
        type Assigned<'a> = (String, String, HashMap<&'a str, Value<'a>>);
        let config: Vec<(i32, i32, f64, u32, bool, Vec<Assigned<'_>>)> = logical
            .iter()
            .map(|(x, y, scale, turned, primary, specs, _)| {
                let assigned = specs
                    .iter()
                    .map(|spec| (spec.0.clone(), current_mode(&spec.0), HashMap::new()))
                    .collect();
                let turned = if *primary { transform } else { *turned };
                (*x, *y, *scale, turned, *primary, assigned)
            })
            .collect();
        // Method 1: temporary (no "keep these settings?" question).
        let properties: HashMap<&str, Value<'_>> = HashMap::new();
        zbus::blocking::Proxy::new(
            &connection,
            DISPLAY_CONFIG,
            DISPLAY_CONFIG_PATH,
            DISPLAY_CONFIG,
        )
        .and_then(|proxy| {
            proxy.call::<_, _, ()>("ApplyMonitorsConfig", &(serial, 1u32, config, properties))
        })
        .map_err(|e| format!("ApplyMonitorsConfig: {e}"))
    }

    /// A command that runs as a client of this desktop (its bus, runtime
    /// directory and Wayland socket in the environment).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env_remove("DISPLAY");
        if let Some(bus) = &self.env.bus_address {
            command.env("DBUS_SESSION_BUS_ADDRESS", bus);
        }
        if let Some(dir) = &self.env.runtime_dir {
            command.env("XDG_RUNTIME_DIR", dir);
        }
        if let Some(display) = &self.env.wayland_display {
            command.env("WAYLAND_DISPLAY", display);
        }
        command
    }

    /// `weston-eventdemo` in a window of `width` × `height` without
    /// decorations (on a monitor of that size it fills it, at its origin),
    /// logging the input it gets.
    ///
    /// # Panics
    /// When it cannot be started (package `weston`).
    pub fn event_demo(&self, width: u32, height: u32) -> EventDemo {
        // Line-buffered: its log is a pipe here.
        let mut child = self
            .command("stdbuf")
            .args([
                "-oL",
                "weston-eventdemo",
                &format!("--width={width}"),
                &format!("--height={height}"),
                "--no-border",
                "--log-motion",
                "--log-button",
                "--log-axis",
                "--log-key",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("weston-eventdemo (package weston)");
        let stdout = child.stdout.take().expect("piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        EventDemo { child, lines }
    }

    /// One picture of PipeWire node `node` taken by GStreamer
    /// (`pipewiresrc`), as tightly packed BGRx of `width` × `height`: a
    /// reference taken apart from ra's capturer. On an idle desktop mutter
    /// records a stream's first picture only once something is painted, so
    /// while GStreamer waits the pointer is nudged (a pixel and back)
    /// through `nudge`, a session of this desktop.
    ///
    /// # Errors
    /// When GStreamer fails or takes no picture within 20 s.
    pub fn screenshot(
        &self,
        node: u32,
        (width, height): (u32, u32),
        nudge: &dyn ra_wayland::RemoteDesktop,
    ) -> Result<Vec<u8>, String> {
        let file = self.dir.join(format!("screenshot-{node}.bgrx"));
        let _ = std::fs::remove_file(&file);
        let mut gst = self
            .command("gst-launch-1.0")
            .args([
                "-q",
                "pipewiresrc",
                &format!("path={node}"),
                "num-buffers=1",
                "!",
                "videoconvert",
                "!",
                "video/x-raw,format=BGRx",
                "!",
                "filesink",
                &format!("location={}", file.display()),
            ])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("gst-launch-1.0 (package gstreamer1.0-tools): {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = gst.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = gst.kill();
                let _ = gst.wait();
                return Err("GStreamer took no picture within 20 s".into());
            }
            for dx in [1.0, -1.0] {
                let _ = nudge.notify(&ra_wayland::Notify::PointerMotionRelative { dx, dy: 0.0 });
            }
            // Waits on the process (std has no wait with a timeout).
            std::thread::sleep(Duration::from_millis(250));
        };
        if !status.success() {
            return Err(format!("gst-launch-1.0 failed: {status}"));
        }
        let data = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let expected = width as usize * height as usize * 4;
        if data.len() != expected {
            return Err(format!(
                "a screenshot of {} bytes, not {expected}",
                data.len()
            ));
        }
        Ok(data)
    }

    /// The log file of one of its parts (`mutter`, `pipewire`, `wireplumber`).
    pub fn log(&self, part: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{part}.log"))).unwrap_or_default()
    }
}

impl Drop for HeadlessGnome {
    fn drop(&mut self) {
        // The script stops its children when its stdin closes.
        drop(self.stdin.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match self.session.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    // The whole group, by its leader's PID.
                    let _ = Command::new("kill")
                        .args(["-KILL", "--", &format!("-{}", self.session.id())])
                        .status();
                    let _ = self.session.kill();
                    let _ = self.session.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        // RA_KEEP_GNOME=1 keeps the logs (mutter, PipeWire, WirePlumber).
        if std::env::var_os("RA_KEEP_GNOME").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A Wayland client that logs the input it receives (`weston-eventdemo`),
/// its lines read with deadlines. Stopped (by PID) when dropped.
pub struct EventDemo {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl EventDemo {
    /// Waits up to `within` for a line containing every one of `parts`;
    /// on timeout, the lines seen instead.
    ///
    /// # Errors
    /// The lines that came and did not match.
    pub fn wait_for(&self, parts: &[&str], within: Duration) -> Result<String, Vec<String>> {
        let deadline = Instant::now() + within;
        let mut skipped = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if parts.iter().all(|part| line.contains(part)) => return Ok(line),
                Ok(line) => skipped.push(line),
                Err(_) => break,
            }
        }
        Err(skipped)
    }

    /// Like [`EventDemo::wait_for`] within 20 s.
    ///
    /// # Panics
    /// When no such line comes, with the lines that did.
    pub fn expect(&self, parts: &[&str]) -> String {
        self.wait_for(parts, Duration::from_secs(20))
            .unwrap_or_else(|skipped| panic!("no line with {parts:?}; saw {skipped:?}"))
    }

    /// The lines logged within `within` (to show that nothing came).
    pub fn lines_within(&self, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut lines = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(_) => break,
            }
        }
        lines
    }

    /// Wakes the seat up through `injector` until this client reports a key:
    /// with no physical devices the seat gains a keyboard only once the
    /// virtual one appears, and clients bind it late, so the first keys can
    /// be lost. Sends a pointer move to (10, 10) and Shift (harmless),
    /// again every half second, for 20 s at most.
    ///
    /// # Panics
    /// When the client never reports the key.
    pub fn wake_seat(&self, injector: &mut dyn InputInjector) {
        let shift = KeyCode::from_name("shift").expect("a named key");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for event in [
                InputEvent::PointerMove { x: 10, y: 10 },
                InputEvent::Key {
                    code: shift,
                    pressed: true,
                },
                InputEvent::Key {
                    code: shift,
                    pressed: false,
                },
            ] {
                injector.inject(&event).expect("injected");
            }
            let shift_released = ["key: 42", "state: released"];
            if self
                .wait_for(&shift_released, Duration::from_millis(500))
                .is_ok()
            {
                return;
            }
            assert!(Instant::now() < deadline, "the client never got a key");
        }
    }
}

impl Drop for EventDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ready BUS=… RUNTIME=… WAYLAND=…` → the environment.
fn parse_ready(line: &str) -> Option<(WaylandEnv, Extras)> {
    let rest = line.trim().strip_prefix("ready ")?;
    let bus = rest.strip_prefix("BUS=")?;
    let (bus, rest) = bus.split_once(" RUNTIME=")?;
    let (runtime, rest) = rest.split_once(" WAYLAND=")?;
    let mut parts = rest.split(' ');
    let wayland = parts.next()?;
    let mut extras = Extras::default();
    for part in parts {
        match part.split_once('=')? {
            ("MUTTER", pid) => extras.mutter_pid = pid.parse().ok(),
            ("X11", display) => extras.x11_display = Some(display.to_owned()),
            _ => {}
        }
    }
    let env = WaylandEnv {
        bus_address: Some(bus.to_owned()),
        runtime_dir: Some(PathBuf::from(runtime)),
        wayland_display: Some(wayland.to_owned()),
    };
    Some((env, extras))
}

/// The runtime directory must be the user's alone (PipeWire and mutter check).
fn set_private(dir: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("{}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_line_gives_the_environment() {
        let (env, extras) = parse_ready(
            "ready BUS=unix:path=/tmp/dbus-x,guid=1 RUNTIME=/tmp/ra-gnome/xdg WAYLAND=wayland-ra\n",
        )
        .unwrap();
        assert_eq!(extras, Extras::default());
        assert_eq!(
            env.bus_address.as_deref(),
            Some("unix:path=/tmp/dbus-x,guid=1")
        );
        assert_eq!(env.runtime_dir, Some(PathBuf::from("/tmp/ra-gnome/xdg")));
        assert_eq!(env.wayland_display.as_deref(), Some("wayland-ra"));
        assert!(parse_ready("error").is_none());
        let (env, extras) = parse_ready(
            "ready BUS=unix:path=/b RUNTIME=/r WAYLAND=wayland-ra MUTTER=4242 X11=:3\n",
        )
        .unwrap();
        assert_eq!(env.wayland_display.as_deref(), Some("wayland-ra"));
        assert_eq!(
            extras,
            Extras {
                mutter_pid: Some(4242),
                x11_display: Some(":3".into()),
            }
        );
    }
}
