//! A small desktop painted on an X display, for the demo: a background, two
//! windows with some text, and a box that keeps moving so there is always
//! something to send.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

const BACKGROUND: u32 = 0x2f_4f_6f;
const BOX_SIZE: (u16, u16) = (120, 80);

/// The painted desktop; dropping it stops the animation.
#[derive(Debug)]
pub struct Desktop {
    stop: Arc<AtomicBool>,
    animation: Option<JoinHandle<()>>,
}

fn x11(e: impl std::fmt::Display) -> String {
    format!("cannot draw on the display: {e}")
}

struct Painter {
    conn: RustConnection,
    root: xproto::Window,
    gc: xproto::Gcontext,
    width: u16,
    height: u16,
}

impl Painter {
    fn connect(display: &str) -> Result<Self, String> {
        let (conn, screen) = RustConnection::connect(Some(display)).map_err(x11)?;
        let setup = &conn.setup().roots[screen];
        let (root, width, height) = (setup.root, setup.width_in_pixels, setup.height_in_pixels);
        let gc = conn.generate_id().map_err(x11)?;
        let font = conn.generate_id().map_err(x11)?;
        conn.open_font(font, b"fixed").map_err(x11)?;
        conn.create_gc(gc, root, &xproto::CreateGCAux::new().font(font))
            .map_err(x11)?;
        Ok(Painter {
            conn,
            root,
            gc,
            width,
            height,
        })
    }

    fn fill(&self, color: u32, x: i16, y: i16, width: u16, height: u16) -> Result<(), String> {
        self.conn
            .change_gc(self.gc, &xproto::ChangeGCAux::new().foreground(color))
            .map_err(x11)?;
        self.conn
            .poly_fill_rectangle(
                self.root,
                self.gc,
                &[xproto::Rectangle {
                    x,
                    y,
                    width,
                    height,
                }],
            )
            .map_err(x11)?;
        Ok(())
    }

    fn text(&self, x: i16, y: i16, text: &str) -> Result<(), String> {
        self.conn
            .change_gc(
                self.gc,
                &xproto::ChangeGCAux::new()
                    .foreground(0x10_10_10)
                    .background(0xf0_f0_f0),
            )
            .map_err(x11)?;
        self.conn
            .image_text8(self.root, self.gc, x, y, text.as_bytes())
            .map_err(x11)?;
        Ok(())
    }

    fn window(
        &self,
        x: i16,
        y: i16,
        width: u16,
        height: u16,
        title: &str,
        lines: &[&str],
    ) -> Result<(), String> {
        self.fill(0x20_20_20, x + 4, y + 4, width, height)?;
        self.fill(0xf0_f0_f0, x, y, width, height)?;
        self.fill(0x3a_6e_a5, x, y, width, 22)?;
        self.conn
            .change_gc(
                self.gc,
                &xproto::ChangeGCAux::new()
                    .foreground(0xff_ff_ff)
                    .background(0x3a_6e_a5),
            )
            .map_err(x11)?;
        self.conn
            .image_text8(self.root, self.gc, x + 8, y + 15, title.as_bytes())
            .map_err(x11)?;
        for (i, line) in lines.iter().enumerate() {
            self.text(x + 10, y + 42 + 16 * i as i16, line)?;
        }
        Ok(())
    }

    fn sync(&self) -> Result<(), String> {
        self.conn
            .get_input_focus()
            .map_err(x11)?
            .reply()
            .map_err(x11)?;
        Ok(())
    }
}

impl Desktop {
    /// Paints the desktop on `display` and starts the moving box.
    ///
    /// # Errors
    /// A message when the display cannot be drawn on.
    pub fn start(display: &str) -> Result<Self, String> {
        let painter = Painter::connect(display)?;
        painter.fill(BACKGROUND, 0, 0, painter.width, painter.height)?;
        painter.window(
            40,
            40,
            460,
            180,
            "Printer settings",
            &[
                "Default printer:  Office-2F (offline)",
                "Paper size:       A4",
                "",
                "The printer does not respond. Ask your helper.",
            ],
        )?;
        painter.window(
            560,
            120,
            420,
            140,
            "Notes",
            &["Call the help desk: 555-0100", "Ticket #4711"],
        )?;
        painter.sync()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let animation = std::thread::Builder::new()
            .name("ra-demo-desktop".into())
            .spawn(move || animate(&painter, &flag))
            .map_err(|e| e.to_string())?;
        Ok(Desktop {
            stop,
            animation: Some(animation),
        })
    }
}

/// Moves a box along the bottom of the screen, 30 times a second.
fn animate(painter: &Painter, stop: &AtomicBool) {
    let (w, h) = BOX_SIZE;
    let y = painter.height.saturating_sub(h + 40) as i16;
    let span = painter.width.saturating_sub(w).max(1) as i32;
    let mut step = 0i32;
    let mut last_x: Option<i16> = None;
    while !stop.load(Ordering::Relaxed) {
        let x = ((step * 6) % (2 * span) - span).abs() as i16;
        step += 1;
        if let Some(old) = last_x {
            let _ = painter.fill(BACKGROUND, old, y, w, h);
        }
        let colour = 0xe0_80_20 + ((step as u32 * 3) % 0x40);
        if painter.fill(colour, x, y, w, h).is_err() || painter.sync().is_err() {
            return;
        }
        last_x = Some(x);
        std::thread::sleep(Duration::from_millis(33));
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.animation.take() {
            let _ = thread.join();
        }
    }
}
