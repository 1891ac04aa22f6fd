//! The bench's own X client: drawing primitives (rectangles, text, pictures,
//! windows, a desktop) on the root window or on pixmaps. What each scenario
//! draws with them is in `scenes`.

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{
    self, ConnectionExt as _, Drawable, Font, Gcontext, ImageFormat, Pixmap, Window,
};
use x11rb::rust_connection::RustConnection;

use super::screenshot::connect;
use super::{HEIGHT, Res, WIDTH};

/// A deterministic line of prose/code-like text number `n`, 20–110 characters.
pub(crate) fn text_line(n: usize) -> Vec<u8> {
    const WORDS: [&str; 32] = [
        "the",
        "session",
        "host",
        "helper",
        "frame",
        "encode",
        "capture",
        "let",
        "fn",
        "return",
        "screen",
        "window",
        "report",
        "quarterly",
        "invoice",
        "meeting",
        "=",
        "=>",
        "if",
        "else",
        "{",
        "}",
        "config",
        "value",
        "print",
        "update",
        "customer",
        "total",
        "2024",
        "network",
        "select",
        "from",
    ];
    let mut state = (n as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let target = 20 + next() % 90;
    let mut line = Vec::with_capacity(target + 12);
    if n.is_multiple_of(7) {
        line.extend_from_slice(b"    ");
    }
    while line.len() < target {
        if !line.is_empty() && line.last() != Some(&b' ') {
            line.push(b' ');
        }
        line.extend_from_slice(WORDS[next() % WORDS.len()].as_bytes());
    }
    line
}

/// A rectangle in X coordinates.
fn xrect(x: i32, y: i32, width: u32, height: u32) -> xproto::Rectangle {
    xproto::Rectangle {
        x: x.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16,
        y: y.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16,
        width: width.min(u32::from(u16::MAX)) as u16,
        height: height.min(u32::from(u16::MAX)) as u16,
    }
}

/// Text metrics of the font in use.
#[derive(Clone, Copy)]
pub(crate) struct Metrics {
    /// Advance per character.
    pub(crate) char_w: i32,
    /// Distance between baselines.
    pub(crate) line_h: i32,
    /// Baseline below the top of a line.
    pub(crate) ascent: i32,
}

/// The bench's own X client, drawing the scenarios on the root window.
pub(crate) struct Painter {
    /// The connection.
    pub(crate) conn: RustConnection,
    /// The root window.
    pub(crate) root: Window,
    /// Its depth (24 on Xvfb).
    depth: u8,
    /// The one graphics context (no GraphicsExpose events: nobody reads them).
    pub(crate) gc: Gcontext,
    /// The core font `fixed`, when the server has it.
    font: Option<Font>,
    /// Its metrics (or the glyph boxes' without it).
    pub(crate) metrics: Metrics,
}

impl Painter {
    /// Connects to `display` and prepares a GC and the font.
    pub(crate) fn connect(display: &str) -> Res<Painter> {
        let (conn, screen) = connect(display)?;
        let (root, depth) = (screen.root, screen.root_depth);
        let gc = conn.generate_id()?;
        conn.create_gc(gc, root, &xproto::CreateGCAux::new().graphics_exposures(0))?;
        // Text in the core font when Xvfb has it (xfonts-base), else
        // glyph-sized boxes: the encoders see similar detail either way.
        let fid = conn.generate_id()?;
        let font = match conn.open_font(fid, b"fixed")?.check() {
            Ok(()) => Some(fid),
            Err(_) => None,
        };
        let mut metrics = Metrics {
            char_w: 6,
            line_h: 15,
            ascent: 11,
        };
        if let Some(font) = font {
            let info = conn.query_font(font)?.reply()?;
            metrics = Metrics {
                char_w: i32::from(info.max_bounds.character_width.max(4)),
                line_h: i32::from(info.font_ascent + info.font_descent) + 2,
                ascent: i32::from(info.font_ascent) + 1,
            };
            conn.change_gc(gc, &xproto::ChangeGCAux::new().font(font))?;
        }
        Ok(Painter {
            conn,
            root,
            depth,
            gc,
            font,
            metrics,
        })
    }

    /// Fills a rectangle of `drawable` with `rgb`.
    pub(crate) fn fill(
        &self,
        drawable: Drawable,
        rgb: u32,
        x: i32,
        y: i32,
        w: u32,
        h: u32,
    ) -> Res<()> {
        self.conn
            .change_gc(self.gc, &xproto::ChangeGCAux::new().foreground(rgb))?;
        self.conn
            .poly_fill_rectangle(drawable, self.gc, &[xrect(x, y, w, h)])?;
        Ok(())
    }

    /// Draws `text` with its baseline at `y`, on its own background.
    pub(crate) fn text(
        &self,
        drawable: Drawable,
        x: i32,
        y: i32,
        text: &[u8],
        fg: u32,
        bg: u32,
    ) -> Res<()> {
        let Metrics {
            char_w,
            line_h,
            ascent,
        } = self.metrics;
        if self.font.is_some() {
            self.conn.change_gc(
                self.gc,
                &xproto::ChangeGCAux::new().foreground(fg).background(bg),
            )?;
            for (index, chunk) in text.chunks(255).enumerate() {
                let cx = x + index as i32 * 255 * char_w;
                self.conn.image_text8(
                    drawable,
                    self.gc,
                    cx.clamp(-32768, 32767) as i16,
                    y.clamp(-32768, 32767) as i16,
                    chunk,
                )?;
            }
            return Ok(());
        }
        let width = text.len() as u32 * char_w as u32;
        self.fill(drawable, bg, x, y - ascent, width, line_h as u32)?;
        self.conn
            .change_gc(self.gc, &xproto::ChangeGCAux::new().foreground(fg))?;
        let glyphs: Vec<xproto::Rectangle> = text
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_ascii_whitespace())
            .map(|(i, &c)| {
                // Capitals and digits stand taller than lower case.
                let tall = c.is_ascii_uppercase() || c.is_ascii_digit() || c > b'z';
                let h = if tall { ascent - 2 } else { ascent * 2 / 3 };
                xrect(x + i as i32 * char_w, y - h, (char_w - 1) as u32, h as u32)
            })
            .collect();
        if !glyphs.is_empty() {
            self.conn.poly_fill_rectangle(drawable, self.gc, &glyphs)?;
        }
        Ok(())
    }

    /// Sends a BGRX picture `w`×`h` to (`x`, `y`) of `drawable`, in bands
    /// that fit a request without BIG-REQUESTS.
    pub(crate) fn put(
        &self,
        drawable: Drawable,
        x: i32,
        y: i32,
        w: u16,
        h: u16,
        data: &[u8],
    ) -> Res<()> {
        let row = usize::from(w) * 4;
        let rows_per_band = (200_000 / row.max(1)).max(1);
        let mut top = 0usize;
        while top < usize::from(h) {
            let rows = rows_per_band.min(usize::from(h) - top);
            let band = data
                .get(top * row..(top + rows) * row)
                .ok_or("picture shorter than its size")?;
            self.conn.put_image(
                ImageFormat::Z_PIXMAP,
                drawable,
                self.gc,
                w,
                rows as u16,
                x as i16,
                (y + top as i32) as i16,
                0,
                self.depth,
                band,
            )?;
            top += rows;
        }
        Ok(())
    }

    /// A new pixmap of the screen's depth.
    pub(crate) fn pixmap(&self, w: u16, h: u16) -> Res<Pixmap> {
        let pixmap = self.conn.generate_id()?;
        self.conn
            .create_pixmap(self.depth, pixmap, self.root, w, h)?;
        Ok(pixmap)
    }

    /// A window with a border, a title bar and lines of text.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn window(
        &self,
        drawable: Drawable,
        (x, y, w, h): (i32, i32, u32, u32),
        title: &[u8],
        body: u32,
        ink: u32,
        first_line: usize,
    ) -> Res<()> {
        let m = self.metrics;
        self.fill(drawable, 0x5a5f66, x - 1, y - 1, w + 2, h + 2)?;
        self.fill(drawable, 0x2f5f9f, x, y, w, 26)?;
        self.text(
            drawable,
            x + 10,
            y + 8 + m.ascent - 2,
            title,
            0xffffff,
            0x2f5f9f,
        )?;
        for (i, colour) in [0xe0b040u32, 0x60b060, 0xd05050].iter().enumerate() {
            self.fill(
                drawable,
                *colour,
                x + w as i32 - 26 - 24 * i as i32,
                y + 5,
                16,
                16,
            )?;
        }
        self.fill(drawable, body, x, y + 26, w, h - 26)?;
        let cols = ((w as i32 - 20) / m.char_w).max(1) as usize;
        let rows = ((h as i32 - 26 - 12) / m.line_h).max(0) as usize;
        for row in 0..rows {
            let mut line = text_line(first_line + row);
            line.truncate(cols);
            let baseline = y + 26 + 6 + row as i32 * m.line_h + m.ascent;
            self.text(drawable, x + 10, baseline, &line, ink, body)?;
        }
        Ok(())
    }

    /// A desktop: wallpaper, icons, a taskbar and, `with_windows`, two windows.
    pub(crate) fn desktop(&self, drawable: Drawable, with_windows: bool) -> Res<()> {
        let (w, h) = (usize::from(WIDTH), usize::from(HEIGHT));
        let mut wallpaper = vec![0u8; w * h * 4];
        for (y, row) in wallpaper.chunks_exact_mut(w * 4).enumerate() {
            for (x, pixel) in row.chunks_exact_mut(4).enumerate() {
                // A smooth two-way gradient, as many wallpapers are.
                let r = 20 + 40 * y / h;
                let g = 70 + 50 * x / w;
                let b = 120 + 60 * (h - y) / h;
                pixel.copy_from_slice(&[b as u8, g as u8, r as u8, 0]);
            }
        }
        self.put(drawable, 0, 0, WIDTH, HEIGHT, &wallpaper)?;
        let m = self.metrics;
        let names: [&[u8]; 6] = [
            b"Documents",
            b"Mail",
            b"Browser",
            b"Terminal",
            b"Settings",
            b"Trash",
        ];
        let colours = [
            0xe8c050u32,
            0x4090e0,
            0xe06040,
            0x303030,
            0x909090,
            0x70a070,
        ];
        for (i, (name, colour)) in names.iter().zip(colours).enumerate() {
            let y = 30 + 100 * i as i32;
            self.fill(drawable, colour, 36, y, 48, 48)?;
            self.fill(drawable, 0xffffff, 44, y + 8, 32, 6)?;
            let label_x = 60 - name.len() as i32 * m.char_w / 2;
            self.text(drawable, label_x, y + 66, name, 0xffffff, 0x244c7a)?;
        }
        let bar = i32::from(HEIGHT) - 40;
        self.fill(drawable, 0x202428, 0, bar, u32::from(WIDTH), 40)?;
        self.fill(drawable, 0x2d6cdf, 6, bar + 6, 90, 28)?;
        self.text(drawable, 30, bar + 25, b"Start", 0xffffff, 0x2d6cdf)?;
        for (i, task) in [&b"Editor"[..], b"Inbox", b"Terminal"].iter().enumerate() {
            let x = 110 + 170 * i as i32;
            self.fill(drawable, 0x3a3f46, x, bar + 6, 160, 28)?;
            self.text(drawable, x + 10, bar + 25, task, 0xe0e0e0, 0x3a3f46)?;
        }
        self.text(
            drawable,
            i32::from(WIDTH) - 70,
            bar + 25,
            b"10:42",
            0xffffff,
            0x202428,
        )?;
        if with_windows {
            self.window(
                drawable,
                (420, 90, 900, 620),
                b"Report.txt - Editor",
                0xffffff,
                0x202020,
                0,
            )?;
            self.window(
                drawable,
                (1100, 330, 700, 460),
                b"Inbox - Mail",
                0xf4f6f8,
                0x1a2a40,
                500,
            )?;
        }
        Ok(())
    }

    /// Waits until the server has done everything sent so far.
    pub(crate) fn sync(&self) -> Res<()> {
        self.conn.get_input_focus()?.reply()?;
        Ok(())
    }
}
