//! A private virtual X display (Xvfb) for tests, benchmarks and the demo.
//!
//! [`Xvfb::start`] lets the server pick a free display number (`-displayfd`)
//! and returns once it accepts connections; dropping the [`Xvfb`] stops that
//! server (by its PID) and nothing else.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long Xvfb may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Why Xvfb could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum XvfbError {
    /// The `Xvfb` program could not be run (is the `xvfb` package installed?).
    #[error("cannot run Xvfb (install the xvfb package): {0}")]
    Spawn(#[source] std::io::Error),
    /// Xvfb exited or did not report a display in time.
    #[error("Xvfb did not start: {0}")]
    NotReady(String),
}

/// A running Xvfb server, stopped when dropped.
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    display: u32,
}

impl Xvfb {
    /// Starts `Xvfb -noreset` with one screen of `width`×`height` at 24 bits
    /// and waits until it accepts connections.
    ///
    /// # Errors
    /// [`XvfbError::Spawn`] when Xvfb is not installed, [`XvfbError::NotReady`]
    /// when it fails to start.
    pub fn start(width: u32, height: u32) -> Result<Self, XvfbError> {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                &format!("{width}x{height}x24"),
                // Xvfb resets (and loses its content) when its last client
                // disconnects unless told not to.
                "-noreset",
                "-nolisten",
                "tcp",
                "+extension",
                "RANDR",
                "+extension",
                "DAMAGE",
                "+extension",
                "XFIXES",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(XvfbError::Spawn)?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(XvfbError::NotReady("no stdout".into()));
        };
        // Xvfb writes the display number on -displayfd once it is ready.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let display = rx
            .recv_timeout(START_TIMEOUT)
            .ok()
            .and_then(|line| line.trim().parse::<u32>().ok());
        match display {
            Some(display) => Ok(Xvfb { child, display }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(XvfbError::NotReady(
                    "no display number reported (is another X server misbehaving?)".into(),
                ))
            }
        }
    }

    /// The display number `N` of `:N`.
    pub fn number(&self) -> u32 {
        self.display
    }

    /// The display name, `:N`, for `DISPLAY` or x11rb.
    pub fn display(&self) -> String {
        format!(":{}", self.display)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_free_display_and_stops() {
        let first = Xvfb::start(320, 240).unwrap();
        let second = Xvfb::start(320, 240).unwrap();
        assert_ne!(first.number(), second.number());
        let socket = format!("/tmp/.X11-unix/X{}", first.number());
        assert!(std::path::Path::new(&socket).exists());
        drop(first);
        drop(second);
    }
}
