//! The scripted scenarios: what each keeps between changes, its first
//! picture, and what each change draws.

use clap::ValueEnum;
use x11rb::protocol::xproto::{ConnectionExt as _, Pixmap};

use super::painter::{Painter, text_line};
use super::{HEIGHT, PICTURE_BYTES, Res, WIDTH};

/// A scripted scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scenario {
    /// A desktop that does not change.
    Static,
    /// Typing in a terminal.
    Typing,
    /// Scrolling a long text.
    Scrolling,
    /// A window moved across the desktop.
    Window,
    /// A full-screen animation.
    Animation,
}

impl Scenario {
    /// All of them, in report order.
    pub(crate) const ALL: [Scenario; 5] = [
        Scenario::Static,
        Scenario::Typing,
        Scenario::Scrolling,
        Scenario::Window,
        Scenario::Animation,
    ];

    /// The column name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Static => "static",
            Scenario::Typing => "typing",
            Scenario::Scrolling => "scrolling",
            Scenario::Window => "window",
            Scenario::Animation => "animation",
        }
    }
}

/// A triangle wave: 0 → `span` → 0 with period `2 * span`.
fn triangle(value: u64, span: u64) -> u64 {
    let span = span.max(1);
    let phase = value % (2 * span);
    if phase < span {
        phase
    } else {
        2 * span - phase
    }
}

/// The terminal of the typing scenario.
pub(crate) struct Typing {
    /// Text area origin (top left).
    x0: i32,
    /// Text area origin (top).
    y0: i32,
    /// Characters per row.
    cols: usize,
    /// Rows.
    rows: usize,
    /// Cursor row.
    row: usize,
    /// Cursor column.
    col: usize,
    /// The line being typed and how much of it is typed.
    line: Vec<u8>,
    /// Characters of `line` typed.
    typed: usize,
    /// Number of the next line of text.
    next_line: usize,
}

/// The viewer of the scrolling scenario.
pub(crate) struct Scrolling {
    /// Text area (root coordinates).
    x0: i32,
    /// Text area top.
    y0: i32,
    /// Text area width.
    width: u32,
    /// Text rows.
    rows: usize,
    /// Number of the next line of text.
    next_line: usize,
}

/// The moving window: server-side pixmaps, composed off screen.
pub(crate) struct MovingWindow {
    /// The desktop without the window.
    background: Pixmap,
    /// The window.
    window: Pixmap,
    /// Where a change is composed before one copy to the screen.
    scratch: Pixmap,
    /// Where the window is now.
    at: (i32, i32),
}

/// The full-screen plasma.
pub(crate) struct Plasma {
    /// A sine, 0..=85, over 1024 steps.
    sine: Vec<u16>,
    /// 256 BGRX colours.
    palette: Vec<[u8; 4]>,
    /// The picture being computed, BGRX.
    picture: Vec<u8>,
}

/// What a scenario keeps between changes.
pub(crate) enum Scene {
    /// Nothing changes.
    Static,
    /// See [`Typing`].
    Typing(Typing),
    /// See [`Scrolling`].
    Scrolling(Scrolling),
    /// See [`MovingWindow`].
    Window(MovingWindow),
    /// See [`Plasma`].
    Animation(Plasma),
}

// Each scenario's script lives here with its state; the painter only
// knows how to draw.
impl Painter {
    /// Draws the scenario's first picture and returns its state.
    pub(crate) fn setup(&self, scenario: Scenario) -> Res<Scene> {
        let root = self.root;
        let m = self.metrics;
        let scene = match scenario {
            Scenario::Static => {
                self.desktop(root, true)?;
                Scene::Static
            }
            Scenario::Typing => {
                self.desktop(root, true)?;
                let (x, y, w, h) = (260, 140, 1400u32, 800u32);
                self.window(root, (x, y, w, h), b"Terminal", 0x1e1e1e, 0xd0d0d0, 0)?;
                // Start with an empty terminal (the window drew text in it).
                self.fill(root, 0x1e1e1e, x, y + 26, w, h - 26)?;
                Scene::Typing(Typing {
                    x0: x + 10,
                    y0: y + 26 + 6,
                    cols: ((w as i32 - 20) / m.char_w) as usize,
                    rows: ((h as i32 - 26 - 12) / m.line_h) as usize,
                    row: 0,
                    col: 0,
                    line: text_line(1000),
                    typed: 0,
                    next_line: 1001,
                })
            }
            Scenario::Scrolling => {
                self.desktop(root, true)?;
                let (x, y, w, h) = (120, 60, 1680u32, 940u32);
                self.window(
                    root,
                    (x, y, w, h),
                    b"Manual - Viewer",
                    0xffffff,
                    0x101010,
                    2000,
                )?;
                let rows = ((h as i32 - 26 - 12) / m.line_h) as usize;
                Scene::Scrolling(Scrolling {
                    x0: x,
                    y0: y + 26 + 6,
                    width: w,
                    rows,
                    next_line: 2000 + rows,
                })
            }
            Scenario::Window => {
                let background = self.pixmap(WIDTH, HEIGHT)?;
                self.desktop(background, true)?;
                let window = self.pixmap(600, 400)?;
                self.window(
                    window,
                    (1, 1, 598, 398),
                    b"Chart - Viewer",
                    0xfffbe6,
                    0x302010,
                    300,
                )?;
                // A bar chart: larger flat coloured areas than text.
                for (i, colour) in [0x3070c0u32, 0xc04040, 0x40a060, 0xd0a030, 0x8050b0]
                    .iter()
                    .enumerate()
                {
                    let height = 40 + 30 * i as u32;
                    self.fill(
                        window,
                        *colour,
                        330 + 50 * i as i32,
                        370 - height as i32,
                        36,
                        height,
                    )?;
                }
                let scratch = self.pixmap(WIDTH, HEIGHT)?;
                let at = Self::window_position(0);
                self.conn
                    .copy_area(background, root, self.gc, 0, 0, 0, 0, WIDTH, HEIGHT)?;
                self.conn.copy_area(
                    window,
                    root,
                    self.gc,
                    0,
                    0,
                    at.0 as i16,
                    at.1 as i16,
                    600,
                    400,
                )?;
                Scene::Window(MovingWindow {
                    background,
                    window,
                    scratch,
                    at,
                })
            }
            Scenario::Animation => {
                let sine = (0..1024)
                    .map(|i| {
                        let phase = i as f64 / 1024.0 * std::f64::consts::TAU;
                        ((phase.sin() + 1.0) * 42.5).round() as u16
                    })
                    .collect();
                let palette = (0..256)
                    .map(|i| {
                        let phase = i as f64 / 256.0 * std::f64::consts::TAU;
                        let c = |shift: f64| ((phase + shift).sin() * 110.0 + 128.0) as u8;
                        [c(4.0), c(2.0), c(0.0), 0]
                    })
                    .collect();
                let mut plasma = Plasma {
                    sine,
                    palette,
                    picture: vec![0; PICTURE_BYTES],
                };
                self.plasma(&mut plasma, 0)?;
                Scene::Animation(plasma)
            }
        };
        Ok(scene)
    }

    /// Where the moving window is at change `k`.
    fn window_position(k: u64) -> (i32, i32) {
        let x = 20 + triangle(k * 12, u64::from(WIDTH) - 600 - 40);
        let y = 60 + triangle(k * 5, u64::from(HEIGHT) - 400 - 40 - 80);
        (x as i32, y as i32)
    }

    /// Computes and sends plasma picture `k`.
    fn plasma(&self, plasma: &mut Plasma, k: u64) -> Res<()> {
        let (w, h) = (usize::from(WIDTH), usize::from(HEIGHT));
        let t = k as usize;
        let sine = &plasma.sine;
        let columns: Vec<u16> = (0..w).map(|x| sine[(x * 3 / 2 + t * 9) & 1023]).collect();
        for (y, row) in plasma.picture.chunks_exact_mut(w * 4).enumerate() {
            let row_term = sine[(y * 2 + t * 5) & 1023];
            for (x, pixel) in row.chunks_exact_mut(4).enumerate() {
                let diagonal = sine[(x + y + t * 7) & 1023];
                let index = (columns[x] + row_term + diagonal + t as u16 * 2) & 255;
                pixel.copy_from_slice(&plasma.palette[usize::from(index)]);
            }
        }
        self.put(self.root, 0, 0, w as u16, h as u16, &plasma.picture)
    }

    /// Draws change `k` of the scene; false when the scene has no changes.
    pub(crate) fn step(&self, scene: &mut Scene, k: u64) -> Res<bool> {
        let root = self.root;
        let m = self.metrics;
        match scene {
            Scene::Static => return Ok(false),
            Scene::Typing(t) => {
                let (bg, fg, cursor) = (0x1e1e1eu32, 0xd0d0d0u32, 0x80c080u32);
                let x = t.x0 + t.col as i32 * m.char_w;
                let top = t.y0 + t.row as i32 * m.line_h;
                if let Some(&c) = t.line.get(t.typed) {
                    self.text(root, x, top + m.ascent, &[c], fg, bg)?;
                    t.typed += 1;
                    t.col += 1;
                }
                if t.typed >= t.line.len() || t.col >= t.cols {
                    // End of line: the cursor goes to the next one.
                    self.fill(
                        root,
                        bg,
                        t.x0 + t.col as i32 * m.char_w,
                        top,
                        m.char_w as u32,
                        m.line_h as u32,
                    )?;
                    t.row += 1;
                    t.col = 0;
                    t.typed = 0;
                    t.line = text_line(t.next_line);
                    t.next_line += 1;
                    if t.row >= t.rows {
                        // Full: clear, as `clear` would.
                        let height = (t.rows as i32 * m.line_h) as u32;
                        self.fill(
                            root,
                            bg,
                            t.x0,
                            t.y0,
                            (t.cols as i32 * m.char_w) as u32,
                            height,
                        )?;
                        t.row = 0;
                    }
                }
                let cx = t.x0 + t.col as i32 * m.char_w;
                let cy = t.y0 + t.row as i32 * m.line_h;
                self.fill(root, cursor, cx, cy, m.char_w as u32, m.line_h as u32)?;
            }
            Scene::Scrolling(s) => {
                let height = s.rows as i32 * m.line_h;
                self.conn.copy_area(
                    root,
                    root,
                    self.gc,
                    s.x0 as i16,
                    (s.y0 + m.line_h) as i16,
                    s.x0 as i16,
                    s.y0 as i16,
                    s.width as u16,
                    (height - m.line_h) as u16,
                )?;
                let top = s.y0 + height - m.line_h;
                self.fill(root, 0xffffff, s.x0, top, s.width, m.line_h as u32)?;
                let cols = ((s.width as i32 - 20) / m.char_w) as usize;
                let mut line = text_line(s.next_line);
                line.truncate(cols);
                s.next_line += 1;
                self.text(root, s.x0 + 10, top + m.ascent, &line, 0x101010, 0xffffff)?;
            }
            Scene::Window(mw) => {
                let (ox, oy) = mw.at;
                let (nx, ny) = Self::window_position(k);
                let (x0, y0) = (ox.min(nx), oy.min(ny));
                let (x1, y1) = ((ox.max(nx)) + 600, (oy.max(ny)) + 400);
                let (w, h) = ((x1 - x0) as u16, (y1 - y0) as u16);
                // Compose off screen, then one copy: the screen never
                // shows the desktop where the window is (no flicker).
                self.conn.copy_area(
                    mw.background,
                    mw.scratch,
                    self.gc,
                    x0 as i16,
                    y0 as i16,
                    0,
                    0,
                    w,
                    h,
                )?;
                self.conn.copy_area(
                    mw.window,
                    mw.scratch,
                    self.gc,
                    0,
                    0,
                    (nx - x0) as i16,
                    (ny - y0) as i16,
                    600,
                    400,
                )?;
                self.conn
                    .copy_area(mw.scratch, root, self.gc, 0, 0, x0 as i16, y0 as i16, w, h)?;
                mw.at = (nx, ny);
            }
            Scene::Animation(plasma) => self.plasma(plasma, k)?,
        }
        Ok(true)
    }
}
