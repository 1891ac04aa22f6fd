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

/// A plain X client for tests, benchmarks and demos: draws on the root
/// window, reads it back, moves the pointer and presses keys with XTEST.
/// Every call waits for the server to finish (a round trip), so what it did
/// is on the screen when it returns.
#[cfg(all(target_os = "linux", feature = "x11"))]
pub struct XClient {
    conn: x11rb::rust_connection::RustConnection,
    root: x11rb::protocol::xproto::Window,
    gc: x11rb::protocol::xproto::Gcontext,
}

#[cfg(all(target_os = "linux", feature = "x11"))]
mod client {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{self, ConnectionExt as _, ImageFormat};
    use x11rb::protocol::xtest::ConnectionExt as _;
    use x11rb::rust_connection::RustConnection;
    use x11rb::wrapper::ConnectionExt as _;

    use super::XClient;
    use ra_core::media::Rect;

    /// Why an X client request failed.
    type XResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

    impl std::fmt::Debug for XClient {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("XClient")
                .field("root", &self.root)
                .finish_non_exhaustive()
        }
    }

    impl XClient {
        /// Connects to `display` (`:N`).
        ///
        /// # Errors
        /// When the display cannot be reached.
        pub fn connect(display: &str) -> XResult<Self> {
            let (conn, screen) = RustConnection::connect(Some(display))?;
            let root = conn.setup().roots[screen].root;
            let gc = conn.generate_id()?;
            conn.create_gc(gc, root, &xproto::CreateGCAux::new())?;
            let client = XClient { conn, root, gc };
            client.sync()?;
            Ok(client)
        }

        /// Waits until the server has handled every request sent so far.
        ///
        /// # Errors
        /// When the connection broke.
        pub fn sync(&self) -> XResult<()> {
            self.conn.get_input_focus()?.reply()?;
            Ok(())
        }

        /// The root window's size.
        ///
        /// # Errors
        /// When the connection broke.
        pub fn screen_size(&self) -> XResult<(u32, u32)> {
            let geometry = self.conn.get_geometry(self.root)?.reply()?;
            Ok((u32::from(geometry.width), u32::from(geometry.height)))
        }

        /// Fills `area` (root coordinates) with `0xRRGGBB`.
        ///
        /// # Errors
        /// When the connection broke.
        pub fn fill(&self, rgb: u32, area: Rect) -> XResult<()> {
            self.conn
                .change_gc(self.gc, &xproto::ChangeGCAux::new().foreground(rgb))?;
            let rectangle = xproto::Rectangle {
                x: i16::try_from(area.x)?,
                y: i16::try_from(area.y)?,
                width: u16::try_from(area.width)?,
                height: u16::try_from(area.height)?,
            };
            self.conn
                .poly_fill_rectangle(self.root, self.gc, &[rectangle])?;
            self.sync()
        }

        /// Maps a top-level window over `area`, filled with `0xRRGGBB`,
        /// whose `WM_CLASS` is `class` (instance and class); its id.
        ///
        /// # Errors
        /// When the connection broke or `area` does not fit the protocol.
        pub fn create_window(&self, area: Rect, rgb: u32, class: &str) -> XResult<u32> {
            let window = self.conn.generate_id()?;
            self.conn.create_window(
                x11rb::COPY_DEPTH_FROM_PARENT,
                window,
                self.root,
                i16::try_from(area.x)?,
                i16::try_from(area.y)?,
                u16::try_from(area.width)?,
                u16::try_from(area.height)?,
                0,
                xproto::WindowClass::INPUT_OUTPUT,
                x11rb::COPY_FROM_PARENT,
                &xproto::CreateWindowAux::new()
                    .background_pixel(rgb)
                    .override_redirect(1),
            )?;
            let mut value = class.as_bytes().to_vec();
            value.push(0);
            value.extend_from_slice(class.as_bytes());
            value.push(0);
            self.conn.change_property8(
                xproto::PropMode::REPLACE,
                window,
                xproto::AtomEnum::WM_CLASS,
                xproto::AtomEnum::STRING,
                &value,
            )?;
            self.conn.map_window(window)?;
            self.sync()?;
            Ok(window)
        }

        /// Moves `window` so that its top-left corner is at (`x`, `y`).
        ///
        /// # Errors
        /// When the connection broke.
        pub fn move_window(&self, window: u32, x: i32, y: i32) -> XResult<()> {
            self.conn
                .configure_window(window, &xproto::ConfigureWindowAux::new().x(x).y(y))?;
            self.sync()
        }

        /// Puts a `width`-wide picture of packed BGRX rows at (`x`, `y`).
        ///
        /// # Errors
        /// When the connection broke or the picture does not fit the protocol.
        pub fn put(&self, x: i16, y: i16, width: u16, bgrx: &[u8]) -> XResult<()> {
            // One request carries a few hundred kB at most: send bands.
            let row = usize::from(width) * 4;
            let band = (200_000 / row.max(1)).max(1);
            for (i, chunk) in bgrx.chunks(row * band).enumerate() {
                let rows = u16::try_from(chunk.len() / row)?;
                let top = y + i16::try_from(i * band)?;
                self.conn.put_image(
                    ImageFormat::Z_PIXMAP,
                    self.root,
                    self.gc,
                    width,
                    rows,
                    x,
                    top,
                    0,
                    24,
                    chunk,
                )?;
            }
            self.sync()
        }

        /// The root's pixels in `area`, packed BGRX rows.
        ///
        /// # Errors
        /// When the connection broke or `area` is off the screen.
        pub fn pixels(&self, area: Rect) -> XResult<Vec<u8>> {
            let reply = self
                .conn
                .get_image(
                    ImageFormat::Z_PIXMAP,
                    self.root,
                    i16::try_from(area.x)?,
                    i16::try_from(area.y)?,
                    u16::try_from(area.width)?,
                    u16::try_from(area.height)?,
                    !0,
                )?
                .reply()?;
            Ok(reply.data)
        }

        /// Moves the pointer to (`x`, `y`) on the root window with XTEST.
        ///
        /// # Errors
        /// When the connection broke.
        pub fn move_pointer(&self, x: i16, y: i16) -> XResult<()> {
            self.conn
                .xtest_fake_input(xproto::MOTION_NOTIFY_EVENT, 0, 0, self.root, x, y, 0)?;
            self.sync()
        }

        /// Presses (`true`) or releases an X keycode with XTEST.
        ///
        /// # Errors
        /// When the connection broke.
        pub fn key(&self, keycode: u8, pressed: bool) -> XResult<()> {
            let kind = if pressed {
                xproto::KEY_PRESS_EVENT
            } else {
                xproto::KEY_RELEASE_EVENT
            };
            self.conn
                .xtest_fake_input(kind, keycode, 0, self.root, 0, 0, 0)?;
            self.sync()
        }
    }
}
