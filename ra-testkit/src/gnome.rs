//! A private headless GNOME (mutter) Wayland desktop: its own
//! `dbus-run-session`, its own `XDG_RUNTIME_DIR`, PipeWire, WirePlumber and
//! mutter with virtual monitors (`scripts/headless-gnome.sh`). Dropping the
//! handle stops it (its stdin closes; after a grace period, by PID).
//!
//! Needs the packages `mutter pipewire wireplumber dbus libglib2.0-bin`
//! (`scripts/setup.sh test` installs them).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ra_wayland::WaylandEnv;

/// How long the desktop may take to come up (mutter is ≈ 2 s cold).
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long it may take to stop once asked.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A running headless desktop.
pub struct HeadlessGnome {
    session: Child,
    stdin: Option<ChildStdin>,
    env: WaylandEnv,
    /// The scratch directory (the runtime directory and the logs).
    dir: PathBuf,
}

impl HeadlessGnome {
    /// Starts a desktop with one virtual monitor per `(width, height)`.
    ///
    /// # Errors
    /// A description (with the logs' place) when it cannot start.
    pub fn start(monitors: &[(u32, u32)]) -> Result<Self, String> {
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
            .arg("--")
            .arg("bash")
            .arg(script)
            .args(monitors.iter().map(|(w, h)| format!("{w}x{h}")))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
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
            session,
            stdin,
            env: WaylandEnv::default(),
            dir,
        };
        let line = ready.recv_timeout(START_TIMEOUT).map_err(|_| {
            format!(
                "the headless desktop did not come up in {START_TIMEOUT:?}; logs in {}",
                desktop.dir.display()
            )
        })?;
        desktop.env = parse_ready(&line).ok_or_else(|| {
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
                    let _ = self.session.kill();
                    let _ = self.session.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `ready BUS=… RUNTIME=… WAYLAND=…` → the environment.
fn parse_ready(line: &str) -> Option<WaylandEnv> {
    let rest = line.trim().strip_prefix("ready ")?;
    let bus = rest.strip_prefix("BUS=")?;
    let (bus, rest) = bus.split_once(" RUNTIME=")?;
    let (runtime, wayland) = rest.split_once(" WAYLAND=")?;
    Some(WaylandEnv {
        bus_address: Some(bus.to_owned()),
        runtime_dir: Some(PathBuf::from(runtime)),
        wayland_display: Some(wayland.to_owned()),
    })
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
        let env = parse_ready(
            "ready BUS=unix:path=/tmp/dbus-x,guid=1 RUNTIME=/tmp/ra-gnome/xdg WAYLAND=wayland-ra\n",
        )
        .unwrap();
        assert_eq!(
            env.bus_address.as_deref(),
            Some("unix:path=/tmp/dbus-x,guid=1")
        );
        assert_eq!(env.runtime_dir, Some(PathBuf::from("/tmp/ra-gnome/xdg")));
        assert_eq!(env.wayland_display.as_deref(), Some("wayland-ra"));
        assert!(parse_ready("error").is_none());
    }
}
