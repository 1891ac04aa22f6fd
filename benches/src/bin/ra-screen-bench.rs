//! `ra-screen-bench`: ra on a real X screen, scripted office-like scenarios,
//! against the usual baseline (`ffmpeg -f x11grab … -c:v libx264 -preset
//! ultrafast -tune zerolatency`). A one-shot report, not a test: it asserts
//! nothing, it measures, prints, and says which §5 target of the design
//! (on 1920×1080) each number passes or misses, and by how much.
//!
//! ```text
//! cargo run --release -p ra-benches --bin ra-screen-bench
//! cargo run --release -p ra-benches --bin ra-screen-bench -- --choose-settings
//! ```
//!
//! (`-- --help` lists the flags: `--duration`, `--scenario`, `--no-ffmpeg`,
//! `--x264-crf N` to run the baseline at another quality, `--content camera`
//! to run ra's encoder in camera mode, `--snapshots DIR`
//! to save each scenario's last screen as a PNG.)
//! It needs `Xvfb` and, for the baseline, `ffmpeg` (both installed by
//! `scripts/setup.sh`); without ffmpeg it measures ra alone and says so. It
//! stops by itself, in about two minutes with the defaults (about three for
//! `--choose-settings`). Linux only (X11, Xvfb, `/proc`).
//!
//! # The scenarios
//!
//! The bench starts its own Xvfb at 1920×1080 and draws on its root window
//! with an X client of its own (x11rb), paced by the wall clock at 30 changes
//! a second (a change that runs late is skipped, so the scene follows the
//! clock; nothing waits for the capture):
//!
//! - **static**: a desktop (wallpaper, icons, taskbar, two windows), unchanged;
//! - **typing**: characters typed one by one into a 1400×800 terminal (the
//!   core X font `fixed`, or glyph-sized rectangles without it), a new line
//!   at each line end, the terminal cleared when full;
//! - **scrolling**: a 1680×940 text viewer scrolled up one text line per
//!   change (`CopyArea` of the text, then the new bottom line drawn);
//! - **window**: a 600×400 window (title bar, text, a chart) moved across the
//!   desktop, composed off screen and copied in one request per change;
//! - **animation**: a full-screen plasma, computed per change and sent with
//!   `PutImage` in bands.
//!
//! # ra's side
//!
//! Per scenario, a real session over QUIC loopback: `invite` with
//! `X11Capturer::connect` (MIT-SHM + XDamage) and the OpenH264 encoder with
//! `EncoderSettings::default()` (`--content` overrides the content kind), a null injector and an application that
//! approves at once; `accept` with the OpenH264 decoder through a UDP proxy
//! that counts every datagram both ways. After the first (key)frame has
//! arrived the scenario runs for `--duration` seconds (the *window*); every
//! rate is over that window.
//!
//! - **capture ms**: the capturer is wrapped; for each frame it returns, the
//!   time from *the moment there was something to capture* to the return:
//!   from the call when damage was already pending, else from the first
//!   XDamage notification after the previous frame, as seen by a second X
//!   connection of the bench (`DamageWatch`). The plain `next_frame` wall
//!   time is printed too, but it includes waiting for the scene to change.
//! - **encode ms**: the encoder is wrapped, every `encode` call timed.
//! - **latency**: `ReceivedFrame::latency`, capture → decoded (one clock).
//!   Every tenth encoded frame is copied for PSNR (below) after it is encoded;
//!   the copy delays that frame, so those frames are left out of the latency.
//! - **bytes**: encoded bytes of the frames captured in the window, and what
//!   the proxy counted on the wire both ways (UDP payload, plus 28 bytes of
//!   IPv4 + UDP header per datagram). For the comparison with x264 the total
//!   from the scene's start through the settling counts (see below).
//! - **CPU**: `/proc/self/task/*/stat` (utime + stime per thread, in clock
//!   ticks, so ±1 tick per thread) over the window, split by thread name:
//!   `ra-video-pipeline` (capture + encode, and any OpenH264 threads, which
//!   inherit the name), `ra-video-decode` (the helper's decoder), the bench's
//!   own threads (`bench-*`: the scenario, the damage watcher) and the rest
//!   (tokio: both QUIC ends, the proxy, the bench's frame collector). *Host*
//!   is pipeline + the rest: an upper bound, since the rest also carries the
//!   helper's side of QUIC. Xvfb's CPU (drawing the scene and serving the
//!   captures) is printed apart for both ra and ffmpeg and counted in neither.
//! - **PSNR** (luma, `psnr_bgra`): *sampled*: every tenth encoded frame in the
//!   window against its own source picture (the capturer's MIT-SHM GetImage
//!   of that moment), so codec loss only; and *final*: once the scene has
//!   stopped and no frame came for 0.5 s, the last decoded picture against a
//!   fresh GetImage of the screen: what a helper looks at after the change,
//!   including any update that never came. "Final" is the quality compared
//!   with x264.
//!
//! # The baseline
//!
//! The same scenario again, with `ffmpeg -f x11grab -draw_mouse 0 -video_size
//! 1920x1080 -framerate 30 -i :N -c:v libx264 -preset ultrafast -tune
//! zerolatency -pix_fmt yuv420p -f h264 -` (the raw H.264 stream rather than
//! MPEG-TS, so its bytes compare with our encoded bytes without a container's
//! overhead; the pointer left out since ra sends it apart). The window starts
//! once ffmpeg has written its first frame; its bytes are what arrives on
//! its stdout in the window, its frames are counted from the stream (slices
//! that start a picture), its CPU is `/proc/PID/stat` of the child. ffmpeg
//! records 1.5 s past the window, so the scene is still at its end; the last
//! picture of its stream, decoded by ffmpeg to BGRA, against a GetImage grab
//! gives its final PSNR. x264 spends part of that tail refining the now static
//! picture, so the "bytes ≤ x264 at equal quality" target compares what each
//! side sent from the scene's start to its end *including* the tail (ra sends
//! nothing once the screen is still), with the final PSNRs. The first (IDR)
//! picture of the initial screen is outside the window on both sides.
//!
//! # `--choose-settings`
//!
//! Records the typing and window scenarios once (capturer pictures and
//! damage, 30 captures a second, in memory), then replays the recording
//! through OpenH264 with each combination of content kind (screen, camera),
//! threads (1, 2, 0 = auto) and rate control (bitrate, quality), the other
//! fields at their defaults: bytes a second (the first, IDR, frame left out),
//! the IDR's size and PSNR (what a static screen keeps), encode ms, process
//! CPU per frame during the encode pass, frames skipped by rate control, PSNR
//! of the coded frames against their own sources, and PSNR of the picture a
//! viewer sees after each frame (the previous one when a frame was skipped).

use std::process::ExitCode;

#[cfg(target_os = "linux")]
fn main() -> ExitCode {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> ExitCode {
    eprintln!("ra-screen-bench needs Linux (X11, Xvfb and /proc)");
    ExitCode::FAILURE
}

/// Everything; X11 capture and `/proc` exist on Linux only.
#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashMap;
    use std::io::{Read, Write};
    use std::net::SocketAddr;
    use std::process::{Child, Command, ExitCode, Stdio};
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
    use std::sync::mpsc as std_mpsc;
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use std::time::{Duration, Instant, SystemTime};

    use clap::{Parser, ValueEnum};
    use ra_capture::x11::X11Capturer;
    use ra_capture::xvfb::Xvfb;
    use ra_codec::{
        ContentKind, EncoderSettings, OpenH264Decoder, OpenH264Encoder, RateControl, psnr_bgra,
    };
    use ra_core::media::{
        CaptureError, Capturer, CodecError, CursorUpdate, DecodedFrame, Decoder, DisplayId,
        DisplayInfo, EncodedFrame, Encoder, Frame, Rect, Timestamp,
    };
    use ra_core::password::Password;
    use ra_core::runtime::{
        AcceptOptions, HelperSession, HelperSessionEvent, HostBackends, HostSession, InviteOptions,
        accept, invite,
    };
    use ra_core::session::{HelperEvent, HostEvent};
    use ra_input::NullInjector;
    use tokio::sync::oneshot;
    use x11rb::connection::Connection as _;
    use x11rb::protocol::Event;
    use x11rb::protocol::damage::{self, ConnectionExt as _};
    use x11rb::protocol::xproto::{
        self, ConnectionExt as _, Drawable, Font, Gcontext, ImageFormat, Pixmap, Window,
    };
    use x11rb::rust_connection::RustConnection;

    /// Screen width in pixels (the §5 targets are for 1920×1080).
    const WIDTH: u16 = 1920;
    /// Screen height in pixels.
    const HEIGHT: u16 = 1080;
    /// Changes per second every scenario draws (its nature, not a sync).
    const CHANGE_RATE: f64 = 30.0;
    /// How long a step of a run (Xvfb, a session, a first frame) may take.
    const STEP_TIMEOUT: Duration = Duration::from_secs(15);
    /// After the scene stops, the session is settled when no frame came for this long.
    const SETTLE_QUIET: Duration = Duration::from_millis(500);
    /// …or after this long at most.
    const SETTLE_MAX: Duration = Duration::from_secs(4);
    /// Every this many encoded frames, one is copied for the sampled PSNR.
    const PSNR_SAMPLE_EVERY: u32 = 10;
    /// IPv4 (20) + UDP (8) header bytes per datagram, added to the proxy's payload count.
    const UDP_IP_OVERHEAD: u64 = 28;
    /// How long ffmpeg records past the window, so its last picture is the scene's end.
    const FFMPEG_TAIL: f64 = 1.5;
    /// Bytes of one BGRA picture of the screen.
    const PICTURE_BYTES: usize = WIDTH as usize * HEIGHT as usize * 4;

    /// Errors of the bench: printed, never panicked on.
    type BoxError = Box<dyn std::error::Error + Send + Sync>;
    /// A bench result.
    type Res<T> = Result<T, BoxError>;

    /// Command-line flags.
    #[derive(Debug, Parser)]
    #[command(
        name = "ra-screen-bench",
        about = "ra on a real X screen (Xvfb, 1920x1080) against ffmpeg x11grab + libx264"
    )]
    struct Args {
        /// Seconds each scenario changes the screen, for ra and again for ffmpeg.
        #[arg(long, default_value_t = 6.0)]
        duration: f64,
        /// Scenarios to run, comma separated (default: all).
        #[arg(long, value_enum, value_delimiter = ',')]
        scenario: Vec<Scenario>,
        /// Do not run the ffmpeg baseline.
        #[arg(long)]
        no_ffmpeg: bool,
        /// libx264 constant rate factor for the baseline (default: x264's own,
        /// 23); runs at several values show x264's bytes at ra's quality.
        #[arg(long)]
        x264_crf: Option<u32>,
        /// OpenH264 content kind for ra's side (default: `EncoderSettings::default()`'s).
        #[arg(long, value_enum)]
        content: Option<Content>,
        /// Save the settled screen of each scenario (ra's run) as DIR/NAME.png.
        #[arg(long, value_name = "DIR")]
        snapshots: Option<std::path::PathBuf>,
        /// Choose OpenH264 settings instead: replay recorded typing and window
        /// scenarios through each combination of content kind, threads and rate control.
        #[arg(long)]
        choose_settings: bool,
        /// Seconds recorded per scenario for `--choose-settings`.
        #[arg(long, default_value_t = 5.0)]
        record_duration: f64,
    }

    /// `--content`: [`ContentKind`] on the command line.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum Content {
        /// [`ContentKind::Screen`].
        Screen,
        /// [`ContentKind::Camera`].
        Camera,
    }

    /// A scripted scenario.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum Scenario {
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
        const ALL: [Scenario; 5] = [
            Scenario::Static,
            Scenario::Typing,
            Scenario::Scrolling,
            Scenario::Window,
            Scenario::Animation,
        ];

        /// The column name.
        fn name(self) -> &'static str {
            match self {
                Scenario::Static => "static",
                Scenario::Typing => "typing",
                Scenario::Scrolling => "scrolling",
                Scenario::Window => "window",
                Scenario::Animation => "animation",
            }
        }
    }

    /// Locks a mutex, also after a panic elsewhere (the data is only samples).
    fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A duration in milliseconds.
    fn ms(duration: Duration) -> f64 {
        duration.as_secs_f64() * 1000.0
    }

    /// Microseconds since the Unix epoch, the unit of frame timestamps.
    fn micros(time: SystemTime) -> u64 {
        Timestamp::from(time).as_micros()
    }

    /// The nearest-rank percentile `p` (0–1) of `samples`; `None` without samples.
    fn percentile(samples: &[f64], p: f64) -> Option<f64> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let index = (p * sorted.len() as f64).ceil() as usize;
        Some(sorted[index.clamp(1, sorted.len()) - 1])
    }

    /// The PSNR of the mean squared error of pictures given by their PSNRs
    /// (an average of dB values would let one lossless frame, +∞, win).
    fn psnr_of_mean(psnrs: &[f64]) -> Option<f64> {
        let valid: Vec<f64> = psnrs.iter().copied().filter(|p| !p.is_nan()).collect();
        if valid.is_empty() {
            return None;
        }
        let mse = valid
            .iter()
            .map(|db| 255.0 * 255.0 / 10f64.powf(db / 10.0))
            .sum::<f64>()
            / valid.len() as f64;
        Some(if mse == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (255.0 * 255.0 / mse).log10()
        })
    }

    // ------------------------------------------------------------------
    // Drawing the scenarios
    // ------------------------------------------------------------------

    /// A deterministic line of prose/code-like text number `n`, 20–110 characters.
    fn text_line(n: usize) -> Vec<u8> {
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

    /// A rectangle in X coordinates.
    fn xrect(x: i32, y: i32, width: u32, height: u32) -> xproto::Rectangle {
        xproto::Rectangle {
            x: x.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16,
            y: y.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16,
            width: width.min(u32::from(u16::MAX)) as u16,
            height: height.min(u32::from(u16::MAX)) as u16,
        }
    }

    /// The terminal of the typing scenario.
    struct Typing {
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
    struct Scrolling {
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
    struct MovingWindow {
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
    struct Plasma {
        /// A sine, 0..=85, over 1024 steps.
        sine: Vec<u16>,
        /// 256 BGRX colours.
        palette: Vec<[u8; 4]>,
        /// The picture being computed, BGRX.
        picture: Vec<u8>,
    }

    /// What a scenario keeps between changes.
    enum Scene {
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

    /// Text metrics of the font in use.
    #[derive(Clone, Copy)]
    struct Metrics {
        /// Advance per character.
        char_w: i32,
        /// Distance between baselines.
        line_h: i32,
        /// Baseline below the top of a line.
        ascent: i32,
    }

    /// The bench's own X client, drawing the scenarios on the root window.
    struct Painter {
        /// The connection.
        conn: RustConnection,
        /// The root window.
        root: Window,
        /// Its depth (24 on Xvfb).
        depth: u8,
        /// The one graphics context (no GraphicsExpose events: nobody reads them).
        gc: Gcontext,
        /// The core font `fixed`, when the server has it.
        font: Option<Font>,
        /// Its metrics (or the glyph boxes' without it).
        metrics: Metrics,
    }

    impl Painter {
        /// Connects to `display` and prepares a GC and the font.
        fn connect(display: &str) -> Res<Painter> {
            let (conn, screen_num) = RustConnection::connect(Some(display))?;
            let screen = conn
                .setup()
                .roots
                .get(screen_num)
                .ok_or("the X server has no screen")?;
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
        fn fill(&self, drawable: Drawable, rgb: u32, x: i32, y: i32, w: u32, h: u32) -> Res<()> {
            self.conn
                .change_gc(self.gc, &xproto::ChangeGCAux::new().foreground(rgb))?;
            self.conn
                .poly_fill_rectangle(drawable, self.gc, &[xrect(x, y, w, h)])?;
            Ok(())
        }

        /// Draws `text` with its baseline at `y`, on its own background.
        fn text(
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
        fn put(&self, drawable: Drawable, x: i32, y: i32, w: u16, h: u16, data: &[u8]) -> Res<()> {
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
        fn pixmap(&self, w: u16, h: u16) -> Res<Pixmap> {
            let pixmap = self.conn.generate_id()?;
            self.conn
                .create_pixmap(self.depth, pixmap, self.root, w, h)?;
            Ok(pixmap)
        }

        /// A window with a border, a title bar and lines of text.
        #[allow(clippy::too_many_arguments)]
        fn window(
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
        fn desktop(&self, drawable: Drawable, with_windows: bool) -> Res<()> {
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

        /// Draws the scenario's first picture and returns its state.
        fn setup(&self, scenario: Scenario) -> Res<Scene> {
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
        fn step(&self, scene: &mut Scene, k: u64) -> Res<bool> {
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

        /// Waits until the server has done everything sent so far.
        fn sync(&self) -> Res<()> {
            self.conn.get_input_focus()?.reply()?;
            Ok(())
        }
    }

    /// The whole screen of `display`, read with a plain GetImage: BGRX, stride 4 × width.
    fn grab_screen(display: &str) -> Res<Vec<u8>> {
        let (conn, screen_num) = RustConnection::connect(Some(display))?;
        let root = conn
            .setup()
            .roots
            .get(screen_num)
            .ok_or("the X server has no screen")?
            .root;
        let reply = conn
            .get_image(ImageFormat::Z_PIXMAP, root, 0, 0, WIDTH, HEIGHT, !0)?
            .reply()?;
        if reply.data.len() != PICTURE_BYTES {
            return Err(format!(
                "GetImage returned {} bytes, expected {PICTURE_BYTES}",
                reply.data.len()
            )
            .into());
        }
        Ok(reply.data)
    }

    /// When the scene was played.
    #[derive(Debug, Clone, Copy)]
    struct Played {
        /// First change.
        start: Instant,
        /// The same moment on the wall clock (frame timestamps use it).
        start_wall: SystemTime,
        /// After the last change was drawn (and the server had done it).
        end: Instant,
        /// The same moment on the wall clock.
        end_wall: SystemTime,
        /// Changes drawn.
        changes: u64,
    }

    impl Played {
        /// The window's length in seconds.
        fn seconds(&self) -> f64 {
            (self.end - self.start).as_secs_f64()
        }

        /// Whether a frame captured at `captured_at` (µs) is in the window.
        fn contains_capture(&self, captured_at: u64) -> bool {
            (micros(self.start_wall)..=micros(self.end_wall)).contains(&captured_at)
        }

        /// Whether `at` is in the window.
        fn contains(&self, at: Instant) -> bool {
            at >= self.start && at <= self.end
        }
    }

    /// A scenario on a thread of its own: set up at once, played on `go`.
    /// The thread lives until the driver is dropped, so that its CPU time is
    /// still in `/proc` when the run reads it after the scene.
    struct Driver {
        /// Starts the changes; dropped, it ends the thread.
        go: std_mpsc::Sender<()>,
        /// Whether `go` was sent.
        started: bool,
        /// The outcome, once played.
        done: Option<oneshot::Receiver<Result<Played, String>>>,
    }

    impl Driver {
        /// Starts the thread, waits until the scene's first picture is on the screen.
        fn start(display: &str, scenario: Scenario, duration: Duration) -> Res<Driver> {
            let (ready_tx, ready_rx) = std_mpsc::channel::<Result<(), String>>();
            let (go_tx, go_rx) = std_mpsc::channel::<()>();
            let (done_tx, done_rx) = oneshot::channel();
            let display = display.to_owned();
            std::thread::Builder::new()
                .name("bench-scenario".into())
                .spawn(move || {
                    let prepared = Painter::connect(&display).and_then(|painter| {
                        let scene = painter.setup(scenario)?;
                        painter.sync()?;
                        Ok((painter, scene))
                    });
                    let (painter, mut scene) = match prepared {
                        Ok(prepared) => {
                            let _ = ready_tx.send(Ok(()));
                            prepared
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    if go_rx.recv().is_err() {
                        return;
                    }
                    let played = play(&painter, &mut scene, duration).map_err(|e| e.to_string());
                    let _ = done_tx.send(played);
                    // Until the driver is dropped (no more messages come).
                    while go_rx.recv().is_ok() {}
                })?;
            match ready_rx.recv_timeout(STEP_TIMEOUT) {
                Ok(Ok(())) => Ok(Driver {
                    go: go_tx,
                    started: false,
                    done: Some(done_rx),
                }),
                Ok(Err(e)) => Err(format!("scenario set-up: {e}").into()),
                Err(_) => Err("scenario set-up timed out".into()),
            }
        }

        /// Starts the changes.
        fn go(&mut self) {
            if !std::mem::replace(&mut self.started, true) {
                let _ = self.go.send(());
            }
        }

        /// Waits until the scene has been played.
        async fn finished(&mut self) -> Res<Played> {
            let done = self.done.take().ok_or("scenario already waited for")?;
            match done.await {
                Ok(Ok(played)) => Ok(played),
                Ok(Err(e)) => Err(format!("scenario: {e}").into()),
                Err(_) => Err("the scenario thread stopped".into()),
            }
        }

        /// Whether the scene has been played (then its outcome), without waiting.
        fn try_finished(&mut self) -> Option<Res<Played>> {
            let done = self.done.as_mut()?;
            match done.try_recv() {
                Ok(outcome) => {
                    self.done = None;
                    Some(outcome.map_err(|e| format!("scenario: {e}").into()))
                }
                Err(oneshot::error::TryRecvError::Empty) => None,
                Err(oneshot::error::TryRecvError::Closed) => {
                    self.done = None;
                    Some(Err("the scenario thread stopped".into()))
                }
            }
        }
    }

    /// Plays `scene` for `duration`, at [`CHANGE_RATE`] by the wall clock.
    fn play(painter: &Painter, scene: &mut Scene, duration: Duration) -> Res<Played> {
        let start = Instant::now();
        let start_wall = SystemTime::now();
        let period = 1.0 / CHANGE_RATE;
        let mut k = 0u64;
        let mut changes = 0u64;
        loop {
            let due = start + Duration::from_secs_f64(k as f64 * period);
            if due >= start + duration {
                break;
            }
            // Pacing by the wall clock is the scenario's nature (a person
            // types at their speed whatever the capture does), not a sync.
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if painter.step(scene, k)? {
                changes += 1;
            }
            painter.conn.flush()?;
            // A change that took longer than a period makes the next ones
            // due already: skip to the one due now rather than fall behind.
            let now_index = (start.elapsed().as_secs_f64() / period).floor() as u64;
            k = now_index.max(k + 1);
        }
        // The last change, too, stands for a whole period: the window is
        // exactly `duration` long.
        let end = start + duration;
        let now = Instant::now();
        if end > now {
            std::thread::sleep(end - now);
        }
        painter.sync()?;
        Ok(Played {
            start,
            start_wall,
            end: Instant::now(),
            end_wall: SystemTime::now(),
            changes,
        })
    }

    // ------------------------------------------------------------------
    // CPU accounting from /proc
    // ------------------------------------------------------------------

    /// Clock ticks per second of `/proc` times (`getconf CLK_TCK`, 100 when unknown).
    fn clock_ticks() -> f64 {
        run_to_string(
            Command::new("getconf").arg("CLK_TCK"),
            Duration::from_secs(5),
        )
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
    }

    /// The name, state and utime + stime (ticks) in a `/proc/…/stat` line.
    fn parse_stat(text: &str) -> Option<(String, char, u64)> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let name = text.get(open + 1..close)?.to_owned();
        let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
        let state = fields.first()?.chars().next()?;
        // After the name: state is field 3 of stat(5), utime 14, stime 15.
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some((name, state, utime + stime))
    }

    /// utime + stime of process `pid`, all its threads, in ticks.
    fn process_ticks(pid: u32) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        parse_stat(&text).map(|(_, _, ticks)| ticks)
    }

    /// Every thread of this process: id → (name, ticks).
    fn threads_now() -> HashMap<u32, (String, u64)> {
        let mut threads = HashMap::new();
        let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
            return threads;
        };
        for entry in dir.flatten() {
            let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Ok(text) = std::fs::read_to_string(entry.path().join("stat"))
                && let Some((name, _, ticks)) = parse_stat(&text)
            {
                threads.insert(tid, (name, ticks));
            }
        }
        threads
    }

    /// CPU seconds of this process's threads over a window, by role.
    #[derive(Debug, Default, Clone, Copy)]
    struct CpuSplit {
        /// `ra-video-pipeline` (capture + encode, OpenH264 threads included).
        pipeline: f64,
        /// `ra-video-decode`.
        decode: f64,
        /// `bench-*`: drawing the scene, watching damage, reading ffmpeg.
        bench: f64,
        /// Everything else: tokio (both QUIC ends, the proxy, the collector), main.
        runtime: f64,
    }

    impl CpuSplit {
        /// The CPU used between two snapshots, in seconds.
        fn between(
            before: &HashMap<u32, (String, u64)>,
            after: &HashMap<u32, (String, u64)>,
            ticks_per_second: f64,
        ) -> CpuSplit {
            let mut split = CpuSplit::default();
            for (tid, (name, ticks)) in after {
                let earlier = before.get(tid).map_or(0, |(_, t)| *t);
                let seconds = ticks.saturating_sub(earlier) as f64 / ticks_per_second;
                // Thread names are cut to 15 bytes by the kernel.
                let slot = if name.starts_with("ra-video-pipe") {
                    &mut split.pipeline
                } else if name.starts_with("ra-video-deco") {
                    &mut split.decode
                } else if name.starts_with("bench-") {
                    &mut split.bench
                } else {
                    &mut split.runtime
                };
                *slot += seconds;
            }
            split
        }

        /// The host's share, an upper bound: pipeline + runtime.
        fn host(&self) -> f64 {
            self.pipeline + self.runtime
        }
    }

    // ------------------------------------------------------------------
    // Timing wrappers for ra's backends
    // ------------------------------------------------------------------

    /// Notes when the screen was damaged, from an X connection of its own,
    /// so capture time can be measured from the moment there was something
    /// to capture rather than from a call that then waited for a change.
    struct DamageWatch {
        /// Damage notifications of the last seconds, oldest first.
        times: Mutex<std::collections::VecDeque<Instant>>,
    }

    impl DamageWatch {
        /// Watches the root window of `display` until the server goes away.
        fn start(display: &str) -> Res<Arc<DamageWatch>> {
            let (conn, screen_num) = RustConnection::connect(Some(display))?;
            let root = conn
                .setup()
                .roots
                .get(screen_num)
                .ok_or("the X server has no screen")?
                .root;
            conn.damage_query_version(1, 1)?.reply()?;
            let damage = conn.generate_id()?;
            conn.damage_create(damage, root, damage::ReportLevel::NON_EMPTY)?;
            conn.flush()?;
            let watch = Arc::new(DamageWatch {
                times: Mutex::new(std::collections::VecDeque::new()),
            });
            let noted = Arc::clone(&watch);
            std::thread::Builder::new()
                .name("bench-damage".into())
                .spawn(move || {
                    // Ends with an error when Xvfb stops at the end of the run.
                    while let Ok(event) = conn.wait_for_event() {
                        if let Event::DamageNotify(_) = event {
                            let now = Instant::now();
                            {
                                let mut times = lock(&noted.times);
                                times.push_back(now);
                                while times.front().is_some_and(|t| {
                                    now.duration_since(*t) > Duration::from_secs(5)
                                }) {
                                    times.pop_front();
                                }
                            }
                            // Re-arm: the next drawing sends the next notification.
                            if conn
                                .damage_subtract(damage, x11rb::NONE, x11rb::NONE)
                                .is_err()
                                || conn.flush().is_err()
                            {
                                return;
                            }
                        }
                    }
                })?;
            Ok(watch)
        }

        /// The first damage noted after `after`.
        fn first_after(&self, after: Instant) -> Option<Instant> {
            lock(&self.times).iter().copied().find(|t| *t > after)
        }
    }

    /// One frame the capturer returned.
    #[derive(Debug, Clone, Copy)]
    struct CaptureSample {
        /// When it returned.
        at: Instant,
        /// From "something to capture" (damage pending at the call, or the
        /// first damage during it) to the return, ms.
        ms: f64,
        /// The whole `next_frame` call, waiting included, ms.
        wall_ms: f64,
    }

    /// One `encode` call.
    #[derive(Debug, Clone, Copy)]
    struct EncodeSample {
        /// When it returned.
        at: Instant,
        /// How long it took, ms.
        ms: f64,
        /// Bytes out; `None` when nothing came out (skipped) or it failed.
        bytes: Option<usize>,
    }

    /// A source picture kept for PSNR.
    struct Picture {
        /// Bytes per row.
        stride: usize,
        /// BGRX pixels.
        data: Vec<u8>,
    }

    /// What the wrappers note, read by the run.
    #[derive(Default)]
    struct HostProbe {
        /// Every frame the capturer returned.
        captures: Mutex<Vec<CaptureSample>>,
        /// Every encode call.
        encodes: Mutex<Vec<EncodeSample>>,
        /// Copy every N-th encoded frame's source (0: none).
        sample_every: AtomicU32,
        /// Copied sources by capture timestamp (µs).
        sources: Mutex<HashMap<u64, Picture>>,
    }

    /// The X11 capturer, timed (see [`CaptureSample`]).
    struct TimedCapturer {
        /// The real capturer.
        inner: X11Capturer,
        /// Where the samples go.
        probe: Arc<HostProbe>,
        /// When the screen was damaged.
        watch: Arc<DamageWatch>,
        /// When the previous frame was returned.
        last_return: Instant,
    }

    impl Capturer for TimedCapturer {
        fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError> {
            self.inner.displays()
        }

        fn select(&mut self, display: DisplayId) -> Result<(), CaptureError> {
            self.inner.select(display)
        }

        fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError> {
            let called = Instant::now();
            let frame = self.inner.next_frame(timeout)?;
            if frame.is_some() {
                let returned = Instant::now();
                // Damage already pending at the call: the capture started at
                // once; else it started when the first damage arrived.
                let started = match self.watch.first_after(self.last_return) {
                    Some(damaged) if damaged > called && damaged <= returned => damaged,
                    _ => called,
                };
                lock(&self.probe.captures).push(CaptureSample {
                    at: returned,
                    ms: ms(returned - started),
                    wall_ms: ms(returned - called),
                });
                self.last_return = returned;
            }
            Ok(frame)
        }

        fn invalidate(&mut self) {
            self.inner.invalidate();
        }

        fn cursor(&mut self) -> Option<CursorUpdate> {
            self.inner.cursor()
        }
    }

    /// The OpenH264 encoder, timed, keeping some sources for PSNR.
    struct TimedEncoder {
        /// The real encoder.
        inner: OpenH264Encoder,
        /// Where the samples go.
        probe: Arc<HostProbe>,
        /// Frames output while sampling was on.
        outputs: u32,
    }

    impl Encoder for TimedEncoder {
        fn encode(
            &mut self,
            frame: &Frame<'_>,
            force_keyframe: bool,
        ) -> Result<Option<EncodedFrame>, CodecError> {
            let start = Instant::now();
            let result = self.inner.encode(frame, force_keyframe);
            let end = Instant::now();
            let bytes = match &result {
                Ok(Some(encoded)) => Some(encoded.data.len()),
                _ => None,
            };
            lock(&self.probe.encodes).push(EncodeSample {
                at: end,
                ms: ms(end - start),
                bytes,
            });
            // The copy comes after the timing, and only while sampling.
            let every = self.probe.sample_every.load(Ordering::Relaxed);
            if every > 0
                && let Ok(Some(encoded)) = &result
            {
                self.outputs += 1;
                if self.outputs.is_multiple_of(every) {
                    lock(&self.probe.sources).insert(
                        encoded.captured_at.as_micros(),
                        Picture {
                            stride: frame.stride,
                            data: frame.data.to_vec(),
                        },
                    );
                }
            }
            result
        }

        fn set_bitrate(&mut self, bits_per_second: u32) {
            self.inner.set_bitrate(bits_per_second);
        }
    }

    // ------------------------------------------------------------------
    // The session: proxy, host, helper
    // ------------------------------------------------------------------

    /// A UDP proxy between the helper and the host that counts what passes.
    struct UdpCounter {
        /// Where the helper connects.
        address: SocketAddr,
        /// Payload bytes both ways.
        bytes: Arc<AtomicU64>,
        /// Datagrams both ways.
        datagrams: Arc<AtomicU64>,
        /// Dropping it stops the proxy.
        _stop: oneshot::Sender<()>,
    }

    impl UdpCounter {
        /// Forwards datagrams between one client and `target`.
        async fn start(target: SocketAddr) -> Res<UdpCounter> {
            let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
            let socket = tokio::net::UdpSocket::bind(loopback).await?;
            let upstream = tokio::net::UdpSocket::bind(loopback).await?;
            upstream.connect(target).await?;
            let address = socket.local_addr()?;
            let bytes = Arc::new(AtomicU64::new(0));
            let datagrams = Arc::new(AtomicU64::new(0));
            let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
            let (count_bytes, count_datagrams) = (Arc::clone(&bytes), Arc::clone(&datagrams));
            tokio::spawn(async move {
                let mut client = None;
                let mut down = vec![0u8; 65536];
                let mut up = vec![0u8; 65536];
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => return,
                        r = socket.recv_from(&mut down) => {
                            let Ok((n, from)) = r else { return };
                            client = Some(from);
                            count_bytes.fetch_add(n as u64, Ordering::Relaxed);
                            count_datagrams.fetch_add(1, Ordering::Relaxed);
                            let _ = upstream.send(&down[..n]).await;
                        }
                        r = upstream.recv(&mut up) => {
                            let Ok(n) = r else { continue };
                            count_bytes.fetch_add(n as u64, Ordering::Relaxed);
                            count_datagrams.fetch_add(1, Ordering::Relaxed);
                            if let Some(client) = client {
                                let _ = socket.send_to(&up[..n], client).await;
                            }
                        }
                    }
                }
            });
            Ok(UdpCounter {
                address,
                bytes,
                datagrams,
                _stop: stop_tx,
            })
        }

        /// Bytes on the wire so far: payload plus IPv4/UDP headers.
        fn wire_bytes(&self) -> u64 {
            self.bytes.load(Ordering::Relaxed)
                + UDP_IP_OVERHEAD * self.datagrams.load(Ordering::Relaxed)
        }
    }

    /// The host application: approves every connection at once; shuts the
    /// session down when told to stop.
    async fn approve_everything(mut host: HostSession, mut stop: oneshot::Receiver<()>) {
        loop {
            tokio::select! {
                _ = &mut stop => break,
                event = host.next_event() => match event {
                    None => break,
                    Some(HostEvent::ConnectionRequest { conn, .. }) => {
                        if let Err(e) = host.approve(conn).await {
                            eprintln!("approve failed: {e}");
                        }
                    }
                    Some(_) => {}
                },
            }
        }
        host.shutdown().await;
    }

    /// A frame as the helper received it.
    #[derive(Debug, Clone, Copy)]
    struct Arrival {
        /// Capture timestamp, µs.
        captured_at: u64,
        /// Capture → decoded, ms.
        latency_ms: f64,
        /// Encoded size.
        bytes: usize,
    }

    /// What the helper application saw.
    #[derive(Default)]
    struct Collected {
        /// Every frame.
        arrivals: Vec<Arrival>,
        /// Decoded pictures whose source was copied, by capture timestamp.
        sampled: HashMap<u64, DecodedFrame>,
        /// The last picture (when it is not in `sampled`).
        last: Option<DecodedFrame>,
        /// The last picture's capture timestamp.
        last_key: Option<u64>,
        /// Why the session ended early, if it did.
        ended: Option<String>,
    }

    impl Collected {
        /// The picture the helper shows now.
        fn shown(&self) -> Option<&DecodedFrame> {
            self.last
                .as_ref()
                .or_else(|| self.last_key.and_then(|key| self.sampled.get(&key)))
        }
    }

    /// The helper application: takes every frame; reports the first one; on
    /// `stop`, goes on until no frame came for [`SETTLE_QUIET`].
    async fn collect_frames(
        mut helper: HelperSession,
        probe: Arc<HostProbe>,
        first: oneshot::Sender<()>,
        mut stop: oneshot::Receiver<()>,
    ) -> (HelperSession, Collected) {
        let mut collected = Collected::default();
        let mut first = Some(first);
        let mut settle_until: Option<Instant> = None;
        loop {
            let event = match settle_until {
                None => tokio::select! {
                    _ = &mut stop => {
                        settle_until = Some(Instant::now() + SETTLE_MAX);
                        continue;
                    }
                    event = helper.next_event() => event,
                },
                Some(until) => {
                    if Instant::now() >= until {
                        break;
                    }
                    match tokio::time::timeout(SETTLE_QUIET, helper.next_event()).await {
                        Ok(event) => event,
                        Err(_) => break,
                    }
                }
            };
            match event {
                None => {
                    collected.ended = Some("the session ended".into());
                    break;
                }
                Some(HelperSessionEvent::Frame(received)) => {
                    let key = received.frame.captured_at.as_micros();
                    collected.arrivals.push(Arrival {
                        captured_at: key,
                        latency_ms: ms(received.latency),
                        bytes: received.encoded_bytes,
                    });
                    if lock(&probe.sources).contains_key(&key) {
                        collected.sampled.insert(key, received.frame);
                        collected.last = None;
                        collected.last_key = Some(key);
                    } else {
                        collected.last = Some(received.frame);
                        collected.last_key = None;
                    }
                    if let Some(first) = first.take() {
                        let _ = first.send(());
                    }
                }
                Some(HelperSessionEvent::Session(HelperEvent::Ended { reason })) => {
                    collected.ended = Some(format!("the session ended: {reason:?}"));
                    break;
                }
                Some(_) => {}
            }
        }
        (helper, collected)
    }

    /// ra's numbers for one scenario.
    #[derive(Debug, Default)]
    struct OursReport {
        /// Seconds of the window.
        seconds: f64,
        /// Changes drawn in it.
        changes: u64,
        /// Whether capture used MIT-SHM.
        shm: bool,
        /// Capture from "something to capture" to the frame, ms.
        capture_ms: Vec<f64>,
        /// The whole `next_frame` call, ms.
        capture_wall_ms: Vec<f64>,
        /// Every encode call, ms.
        encode_ms: Vec<f64>,
        /// Encode calls in the window.
        encode_calls: usize,
        /// Of those, calls that produced no frame (rate control skipped it).
        encode_skipped: usize,
        /// Capture → decoded of frames in the window (sampled ones left out), ms.
        latency_ms: Vec<f64>,
        /// Frames captured in the window that the helper decoded.
        frames: usize,
        /// Their encoded bytes.
        encoded_bytes: u64,
        /// Encoded bytes of every frame captured from the start on, the
        /// settling after the scene included (what the final picture cost).
        encoded_bytes_total: u64,
        /// Bytes on the wire in the window, both ways with headers.
        wire_bytes: u64,
        /// CPU over the window.
        cpu: CpuSplit,
        /// Xvfb's CPU over the window, seconds.
        xvfb_cpu: Option<f64>,
        /// Sampled PSNR (decoded vs its own source), dB.
        psnr_sampled: Vec<f64>,
        /// Last decoded picture vs the settled screen, dB.
        psnr_final: Option<f64>,
        /// Anything worth a note.
        notes: Vec<String>,
    }

    /// Runs one scenario through a real session.
    async fn run_ours(
        display: &str,
        xvfb_pid: u32,
        mut driver: Driver,
        watch: Arc<DamageWatch>,
        ticks: f64,
        settings: EncoderSettings,
        snapshot: Option<std::path::PathBuf>,
    ) -> Res<OursReport> {
        let probe = Arc::new(HostProbe::default());
        let capturer = X11Capturer::connect(Some(display)).map_err(|e| format!("capturer: {e}"))?;
        let shm = capturer.uses_shm();
        let backends = HostBackends::new(
            Box::new(TimedCapturer {
                inner: capturer,
                probe: Arc::clone(&probe),
                watch,
                last_return: Instant::now(),
            }),
            Box::new(TimedEncoder {
                inner: OpenH264Encoder::new(settings),
                probe: Arc::clone(&probe),
                outputs: 0,
            }),
            Box::new(NullInjector::new()),
        );
        let options = InviteOptions {
            host_name: "bench host".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..InviteOptions::default()
        };
        let host = invite(options, backends)
            .await
            .map_err(|e| format!("invite: {e}"))?;
        let proxy = UdpCounter::start(host.local_addr()).await?;
        let mut invitation = host.invitation().clone();
        invitation.addresses = vec![proxy.address];
        let password =
            Password::parse(&host.password().to_string()).map_err(|e| format!("password: {e}"))?;
        let (stop_host, stop_host_rx) = oneshot::channel();
        let approver = tokio::spawn(approve_everything(host, stop_host_rx));

        let decoder = Box::new(OpenH264Decoder::new().map_err(|e| format!("decoder: {e}"))?);
        let accept_options = AcceptOptions {
            helper_name: "bench helper".into(),
            connect_timeout: Duration::from_secs(5),
            approval_timeout: Duration::from_secs(30),
        };
        let helper = tokio::time::timeout(
            STEP_TIMEOUT,
            accept(&invitation, &password, accept_options, decoder),
        )
        .await
        .map_err(|_| "accept timed out")?
        .map_err(|e| format!("accept: {e}"))?;
        let (first_tx, first_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let collector = tokio::spawn(collect_frames(
            helper,
            Arc::clone(&probe),
            first_tx,
            stop_rx,
        ));
        tokio::time::timeout(STEP_TIMEOUT, first_rx)
            .await
            .map_err(|_| "no first frame in time")?
            .map_err(|_| "the session ended before the first frame")?;

        // The window: everything from here to the scene's end.
        let threads_before = threads_now();
        let xvfb_before = process_ticks(xvfb_pid);
        let wire_before = proxy.wire_bytes();
        probe
            .sample_every
            .store(PSNR_SAMPLE_EVERY, Ordering::Relaxed);
        driver.go();
        let played = driver.finished().await?;
        let threads_after = threads_now();
        let xvfb_after = process_ticks(xvfb_pid);
        let wire_after = proxy.wire_bytes();
        probe.sample_every.store(0, Ordering::Relaxed);

        let _ = stop_tx.send(());
        let (helper, collected) = collector.await?;
        let screen = tokio::task::spawn_blocking({
            let display = display.to_owned();
            move || grab_screen(&display)
        })
        .await?;
        let _ = helper.end().await;
        drop(helper);
        let _ = stop_host.send(());
        let _ = tokio::time::timeout(STEP_TIMEOUT, approver).await;

        let mut report = OursReport {
            seconds: played.seconds(),
            changes: played.changes,
            shm,
            cpu: CpuSplit::between(&threads_before, &threads_after, ticks),
            wire_bytes: wire_after.saturating_sub(wire_before),
            xvfb_cpu: xvfb_before
                .zip(xvfb_after)
                .map(|(b, a)| a.saturating_sub(b) as f64 / ticks),
            ..OursReport::default()
        };
        if let Some(ended) = &collected.ended {
            report.notes.push(ended.clone());
        }
        for sample in lock(&probe.captures)
            .iter()
            .filter(|s| played.contains(s.at))
        {
            report.capture_ms.push(sample.ms);
            report.capture_wall_ms.push(sample.wall_ms);
        }
        for sample in lock(&probe.encodes)
            .iter()
            .filter(|s| played.contains(s.at))
        {
            report.encode_calls += 1;
            report.encode_ms.push(sample.ms);
            if sample.bytes.is_none() {
                report.encode_skipped += 1;
            }
        }
        let sources = std::mem::take(&mut *lock(&probe.sources));
        report.encoded_bytes_total = collected
            .arrivals
            .iter()
            .filter(|a| a.captured_at >= micros(played.start_wall))
            .map(|a| a.bytes as u64)
            .sum();
        for arrival in collected
            .arrivals
            .iter()
            .filter(|a| played.contains_capture(a.captured_at))
        {
            report.frames += 1;
            report.encoded_bytes += arrival.bytes as u64;
            if !sources.contains_key(&arrival.captured_at) {
                report.latency_ms.push(arrival.latency_ms);
            }
        }
        for (key, decoded) in &collected.sampled {
            if let Some(source) = sources.get(key) {
                report.psnr_sampled.push(psnr_bgra(
                    &decoded.data,
                    decoded.stride,
                    &source.data,
                    source.stride,
                    decoded.width,
                    decoded.height,
                ));
            }
        }
        if let (Some(path), Ok(screen)) = (&snapshot, &screen)
            && let Err(e) = save_png(path, screen)
        {
            report
                .notes
                .push(format!("snapshot {}: {e}", path.display()));
        }
        match (collected.shown(), screen) {
            (Some(shown), Ok(screen)) => {
                report.psnr_final = Some(psnr_bgra(
                    &shown.data,
                    shown.stride,
                    &screen,
                    usize::from(WIDTH) * 4,
                    shown.width.min(u32::from(WIDTH)),
                    shown.height.min(u32::from(HEIGHT)),
                ));
            }
            (None, _) => report.notes.push("no picture decoded".into()),
            (_, Err(e)) => report.notes.push(format!("final grab failed: {e}")),
        }
        Ok(report)
    }

    /// Writes a BGRX picture of the screen as a PNG.
    fn save_png(path: &std::path::Path, bgrx: &[u8]) -> Res<()> {
        let file = std::fs::File::create(path)?;
        let mut encoder = png::Encoder::new(
            std::io::BufWriter::new(file),
            u32::from(WIDTH),
            u32::from(HEIGHT),
        );
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let rgb: Vec<u8> = bgrx
            .chunks_exact(4)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect();
        encoder.write_header()?.write_image_data(&rgb)?;
        Ok(())
    }

    // ------------------------------------------------------------------
    // The ffmpeg baseline
    // ------------------------------------------------------------------

    /// A child process, killed (by its PID) and reaped when dropped.
    struct ChildGuard {
        /// The process.
        child: Child,
    }

    impl ChildGuard {
        /// Spawns `command` under a guard.
        fn spawn(command: &mut Command) -> std::io::Result<ChildGuard> {
            Ok(ChildGuard {
                child: command.spawn()?,
            })
        }

        /// Waits up to `timeout` for the process to exit; kills it after that.
        fn wait_timeout(&mut self, timeout: Duration) -> Res<std::process::ExitStatus> {
            let deadline = Instant::now() + timeout;
            loop {
                if let Some(status) = self.child.try_wait()? {
                    return Ok(status);
                }
                if Instant::now() >= deadline {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err("timed out; killed".into());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    impl Drop for ChildGuard {
        fn drop(&mut self) {
            if let Ok(None) = self.child.try_wait() {
                let _ = self.child.kill();
            }
            let _ = self.child.wait();
        }
    }

    /// Runs `command` to completion (at most `timeout`), returning its stdout.
    fn run_to_string(command: &mut Command, timeout: Duration) -> Res<String> {
        let mut child = ChildGuard::spawn(
            command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )?;
        let mut stdout = child.child.stdout.take().ok_or("no stdout")?;
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        child.wait_timeout(timeout)?;
        reader.join().map_err(|_| "reader thread panicked".into())
    }

    /// ffmpeg's version line, or why it cannot be used.
    fn ffmpeg_version() -> Result<String, String> {
        let text = run_to_string(
            Command::new("ffmpeg").args(["-hide_banner", "-version"]),
            Duration::from_secs(10),
        )
        .map_err(|e| e.to_string())?;
        let line = text.lines().next().unwrap_or_default().to_owned();
        if !line.starts_with("ffmpeg") {
            return Err("unexpected output of ffmpeg -version".into());
        }
        let encoders = run_to_string(
            Command::new("ffmpeg").args(["-hide_banner", "-encoders"]),
            Duration::from_secs(10),
        )
        .map_err(|e| e.to_string())?;
        if !encoders.contains("libx264") {
            return Err("this ffmpeg has no libx264".into());
        }
        Ok(line)
    }

    /// What ffmpeg wrote on stdout, with when each piece arrived.
    #[derive(Default)]
    struct Output {
        /// Everything so far.
        data: Vec<u8>,
        /// (arrival, end offset in `data`) per read.
        chunks: Vec<(Instant, usize)>,
    }

    /// Offsets of the NAL units in an Annex B stream that start a picture
    /// (slices, IDR or not, whose `first_mb_in_slice` is 0).
    fn picture_starts(data: &[u8]) -> Vec<usize> {
        let mut starts = Vec::new();
        let mut i = 0;
        while i + 4 < data.len() {
            if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
                let header = data[i + 3];
                let nal_type = header & 0x1f;
                // first_mb_in_slice is ue(v) first in the slice header: a 1
                // bit alone encodes 0.
                if (nal_type == 1 || nal_type == 5) && data[i + 4] & 0x80 != 0 {
                    starts.push(i);
                }
                i += 3;
            } else {
                i += 1;
            }
        }
        starts
    }

    /// The last picture of an H.264 stream, decoded by ffmpeg to BGRA.
    fn ffmpeg_last_picture(stream: Vec<u8>) -> Res<Vec<u8>> {
        let mut child = ChildGuard::spawn(
            Command::new("ffmpeg")
                .args([
                    "-hide_banner",
                    "-nostdin",
                    "-loglevel",
                    "error",
                    "-f",
                    "h264",
                    "-i",
                    "pipe:0",
                    "-f",
                    "rawvideo",
                    "-pix_fmt",
                    "bgra",
                    "pipe:1",
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )?;
        let mut stdin = child.child.stdin.take().ok_or("no stdin")?;
        let mut stdout = child.child.stdout.take().ok_or("no stdout")?;
        let writer = std::thread::Builder::new()
            .name("bench-ffmpeg-in".into())
            .spawn(move || {
                let _ = stdin.write_all(&stream);
            })?;
        // Two buffers: a read cut short by the end of the stream leaves its
        // buffer undefined, so it must not be the last whole picture's.
        let mut reading = vec![0u8; PICTURE_BYTES];
        let mut last: Option<Vec<u8>> = None;
        while stdout.read_exact(&mut reading).is_ok() {
            reading = last
                .replace(reading)
                .unwrap_or_else(|| vec![0u8; PICTURE_BYTES]);
        }
        let _ = writer.join();
        child.wait_timeout(STEP_TIMEOUT)?;
        last.ok_or_else(|| "ffmpeg decoded no picture".into())
    }

    /// ffmpeg's numbers for one scenario.
    #[derive(Debug, Default)]
    struct FfmpegReport {
        /// Seconds of the window.
        seconds: f64,
        /// Changes drawn.
        changes: u64,
        /// Stream bytes that arrived in the window.
        bytes: u64,
        /// Stream bytes from the start to ffmpeg's end (the tail after the
        /// scene included: x264 goes on refining the now static picture).
        bytes_total: u64,
        /// Pictures that arrived in the window.
        frames: usize,
        /// CPU seconds of the child in the window.
        cpu: f64,
        /// Xvfb's CPU seconds in the window.
        xvfb_cpu: Option<f64>,
        /// Its last picture against the settled screen, dB.
        psnr_final: Option<f64>,
        /// Anything worth a note.
        notes: Vec<String>,
    }

    /// Runs one scenario with ffmpeg capturing and encoding.
    fn run_ffmpeg(
        display: &str,
        xvfb_pid: u32,
        mut driver: Driver,
        duration: f64,
        ticks: f64,
        crf: Option<u32>,
    ) -> Res<FfmpegReport> {
        let record_for = format!("{:.3}", duration + FFMPEG_TAIL);
        let crf = crf.map(|crf| crf.to_string());
        let crf_args: &[&str] = match &crf {
            Some(crf) => &["-crf", crf],
            None => &[],
        };
        let mut child = ChildGuard::spawn(
            Command::new("ffmpeg")
                .args([
                    "-hide_banner",
                    "-nostdin",
                    "-loglevel",
                    "error",
                    "-nostats",
                    "-f",
                    "x11grab",
                    "-draw_mouse",
                    "0",
                    "-video_size",
                    "1920x1080",
                    "-framerate",
                    "30",
                    "-i",
                    display,
                    "-t",
                    &record_for,
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-tune",
                    "zerolatency",
                    "-pix_fmt",
                    "yuv420p",
                ])
                .args(crf_args)
                .args([
                    // Each packet to stdout as soon as it is encoded, so arrival
                    // times are encode times.
                    "-flush_packets",
                    "1",
                    "-f",
                    "h264",
                    "-",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )?;
        let pid = child.child.id();
        let mut stdout = child.child.stdout.take().ok_or("no stdout")?;
        let mut stderr = child.child.stderr.take().ok_or("no stderr")?;
        let output = Arc::new(Mutex::new(Output::default()));
        let (first_tx, first_rx) = std_mpsc::channel::<()>();
        let reader = {
            let output = Arc::clone(&output);
            std::thread::Builder::new()
                .name("bench-ffmpeg-out".into())
                .spawn(move || {
                    let mut buffer = vec![0u8; 1 << 16];
                    let mut first = Some(first_tx);
                    while let Ok(n) = stdout.read(&mut buffer) {
                        if n == 0 {
                            break;
                        }
                        let now = Instant::now();
                        let mut out = lock(&output);
                        out.data.extend_from_slice(&buffer[..n]);
                        let end = out.data.len();
                        out.chunks.push((now, end));
                        if let Some(first) = first.take() {
                            let _ = first.send(());
                        }
                    }
                })?
        };
        let errors = std::thread::Builder::new()
            .name("bench-ffmpeg-err".into())
            .spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                text
            })?;
        if first_rx.recv_timeout(STEP_TIMEOUT).is_err() {
            drop(child);
            let text = errors.join().unwrap_or_default();
            return Err(format!("ffmpeg wrote nothing: {}", text.trim()).into());
        }
        let cpu_before = process_ticks(pid);
        let xvfb_before = process_ticks(xvfb_pid);
        driver.go();
        let played = loop {
            if let Some(outcome) = driver.try_finished() {
                break outcome?;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let cpu_after = process_ticks(pid);
        let xvfb_after = process_ticks(xvfb_pid);
        let status = child.wait_timeout(Duration::from_secs_f64(FFMPEG_TAIL) + STEP_TIMEOUT);
        let _ = reader.join();
        let stderr_text = errors.join().unwrap_or_default();
        let mut report = FfmpegReport {
            seconds: played.seconds(),
            changes: played.changes,
            cpu: cpu_before
                .zip(cpu_after)
                .map_or(f64::NAN, |(b, a)| a.saturating_sub(b) as f64 / ticks),
            xvfb_cpu: xvfb_before
                .zip(xvfb_after)
                .map(|(b, a)| a.saturating_sub(b) as f64 / ticks),
            ..FfmpegReport::default()
        };
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => report.notes.push(format!(
                "ffmpeg exited with {status}: {}",
                stderr_text.trim()
            )),
            Err(e) => report.notes.push(format!("ffmpeg: {e}")),
        }
        let output = std::mem::take(&mut *lock(&output));
        let in_window = |offset: usize| {
            // The read that brought this byte.
            let index = output.chunks.partition_point(|(_, end)| *end <= offset);
            output
                .chunks
                .get(index)
                .is_some_and(|(at, _)| played.contains(*at))
        };
        let mut previous_end = 0;
        for (at, end) in &output.chunks {
            if played.contains(*at) {
                report.bytes += (end - previous_end) as u64;
            }
            if *at >= played.start {
                report.bytes_total += (end - previous_end) as u64;
            }
            previous_end = *end;
        }
        report.frames = picture_starts(&output.data)
            .into_iter()
            .filter(|&offset| in_window(offset))
            .count();
        let screen = grab_screen(display);
        match (ffmpeg_last_picture(output.data), screen) {
            (Ok(picture), Ok(screen)) => {
                let stride = usize::from(WIDTH) * 4;
                report.psnr_final = Some(psnr_bgra(
                    &picture,
                    stride,
                    &screen,
                    stride,
                    u32::from(WIDTH),
                    u32::from(HEIGHT),
                ));
            }
            (Err(e), _) => report.notes.push(format!("decoding ffmpeg's stream: {e}")),
            (_, Err(e)) => report.notes.push(format!("final grab failed: {e}")),
        }
        Ok(report)
    }

    // ------------------------------------------------------------------
    // The report
    // ------------------------------------------------------------------

    /// One scenario's results.
    struct ScenarioResult {
        /// Which.
        scenario: Scenario,
        /// ra's side.
        ours: Result<OursReport, String>,
        /// ffmpeg's side; `None` when not run.
        theirs: Option<Result<FfmpegReport, String>>,
    }

    /// A number with `decimals`, or `-`.
    fn num(value: Option<f64>, decimals: usize) -> String {
        match value {
            Some(v) if v.is_nan() => "-".into(),
            Some(v) if v.is_infinite() => "inf".into(),
            Some(v) => format!("{v:.decimals$}"),
            None => "-".into(),
        }
    }

    /// Width of a table's label column.
    const LABEL: usize = 50;
    /// Width of a table's value columns.
    const COLUMN: usize = 10;

    /// A table row: a label and one cell per scenario.
    fn row(label: &str, cells: impl IntoIterator<Item = String>) -> String {
        let mut line = format!("{label:<LABEL$}");
        for cell in cells {
            line += &format!(" {cell:>COLUMN$}");
        }
        line + "\n"
    }

    /// The main table.
    fn table(results: &[ScenarioResult]) -> String {
        let mut out = String::new();
        let names = results.iter().map(|r| r.scenario.name().to_owned());
        let header = row("", names);
        out += &header;
        out += &format!("{}\n", "-".repeat(header.trim_end().len()));
        let ours = |f: &dyn Fn(&OursReport) -> String| -> Vec<String> {
            results
                .iter()
                .map(|r| r.ours.as_ref().map_or("failed".into(), f))
                .collect()
        };
        let theirs = |f: &dyn Fn(&FfmpegReport) -> String| -> Vec<String> {
            results
                .iter()
                .map(|r| match &r.theirs {
                    Some(Ok(t)) => f(t),
                    Some(Err(_)) => "failed".into(),
                    None => "-".into(),
                })
                .collect()
        };
        let both = |f: &dyn Fn(&OursReport, &FfmpegReport) -> String| -> Vec<String> {
            results
                .iter()
                .map(|r| match (&r.ours, &r.theirs) {
                    (Ok(o), Some(Ok(t))) => f(o, t),
                    _ => "-".into(),
                })
                .collect()
        };
        let per_s = |count: f64, seconds: f64| {
            if seconds > 0.0 {
                count / seconds
            } else {
                f64::NAN
            }
        };
        let kb_s = |bytes: u64, seconds: f64| per_s(bytes as f64 / 1000.0, seconds);
        let ratio = |a: f64, b: f64| if b > 0.0 { Some(a / b) } else { None };

        out += "ra (X11 MIT-SHM capture -> OpenH264 -> QUIC loopback -> decode)\n";
        out += &row(
            "  changes drawn /s",
            ours(&|o| num(Some(per_s(o.changes as f64, o.seconds)), 1)),
        );
        out += &row(
            "  frames decoded /s (captured in the window)",
            ours(&|o| num(Some(per_s(o.frames as f64, o.seconds)), 1)),
        );
        out += &row(
            "  capture ms p50 (damage -> frame)",
            ours(&|o| num(percentile(&o.capture_ms, 0.5), 2)),
        );
        out += &row(
            "  capture ms p95",
            ours(&|o| num(percentile(&o.capture_ms, 0.95), 2)),
        );
        out += &row(
            "  (next_frame wall ms p50, waiting included)",
            ours(&|o| num(percentile(&o.capture_wall_ms, 0.5), 2)),
        );
        out += &row(
            "  encode calls in the window",
            ours(&|o| o.encode_calls.to_string()),
        );
        out += &row(
            "  of which skipped by rate control",
            ours(&|o| o.encode_skipped.to_string()),
        );
        out += &row(
            "  encode ms p50",
            ours(&|o| num(percentile(&o.encode_ms, 0.5), 2)),
        );
        out += &row(
            "  encode ms p95",
            ours(&|o| num(percentile(&o.encode_ms, 0.95), 2)),
        );
        out += &row(
            "  capture -> decoded ms p50",
            ours(&|o| num(percentile(&o.latency_ms, 0.5), 1)),
        );
        out += &row(
            "  capture -> decoded ms p95",
            ours(&|o| num(percentile(&o.latency_ms, 0.95), 1)),
        );
        out += &row(
            "  encoded kB/s",
            ours(&|o| num(Some(kb_s(o.encoded_bytes, o.seconds)), 2)),
        );
        out += &row(
            "  encoded kB, window + settling (all it cost)",
            ours(&|o| num(Some(o.encoded_bytes_total as f64 / 1000.0), 1)),
        );
        out += &row(
            "  wire kB/s (QUIC both ways + UDP/IP headers)",
            ours(&|o| num(Some(kb_s(o.wire_bytes, o.seconds)), 2)),
        );
        out += &row(
            "  CPU cores: ra-video-pipeline",
            ours(&|o| num(Some(per_s(o.cpu.pipeline, o.seconds)), 2)),
        );
        out += &row(
            "  CPU cores: tokio (QUIC both ends, proxy)",
            ours(&|o| num(Some(per_s(o.cpu.runtime, o.seconds)), 2)),
        );
        out += &row(
            "  CPU cores: host (pipeline + tokio, upper bound)",
            ours(&|o| num(Some(per_s(o.cpu.host(), o.seconds)), 2)),
        );
        out += &row(
            "  CPU cores: helper decode thread",
            ours(&|o| num(Some(per_s(o.cpu.decode, o.seconds)), 2)),
        );
        out += &row(
            "  CPU cores: bench (drawing, damage watch)",
            ours(&|o| num(Some(per_s(o.cpu.bench, o.seconds)), 2)),
        );
        out += &row(
            "  CPU cores: Xvfb (not counted)",
            ours(&|o| num(o.xvfb_cpu.map(|c| per_s(c, o.seconds)), 2)),
        );
        out += &row(
            "  PSNR-Y dB sampled (codec only, mean MSE)",
            ours(&|o| num(psnr_of_mean(&o.psnr_sampled), 2)),
        );
        out += &row(
            "  PSNR-Y dB sampled, worst frame",
            ours(&|o| num(o.psnr_sampled.iter().copied().reduce(f64::min), 2)),
        );
        out += &row(
            "  PSNR-Y dB final (shown vs settled screen)",
            ours(&|o| num(o.psnr_final, 2)),
        );

        out += "ffmpeg x11grab + libx264 ultrafast zerolatency (30 fps)\n";
        out += &row(
            "  changes drawn /s",
            theirs(&|t| num(Some(per_s(t.changes as f64, t.seconds)), 1)),
        );
        out += &row(
            "  frames encoded /s",
            theirs(&|t| num(Some(per_s(t.frames as f64, t.seconds)), 1)),
        );
        out += &row(
            "  stream kB/s",
            theirs(&|t| num(Some(kb_s(t.bytes, t.seconds)), 2)),
        );
        out += &row(
            "  stream kB, window + 1.5 s tail (all it cost)",
            theirs(&|t| num(Some(t.bytes_total as f64 / 1000.0), 1)),
        );
        out += &row(
            "  CPU cores: ffmpeg",
            theirs(&|t| num(Some(per_s(t.cpu, t.seconds)), 2)),
        );
        out += &row(
            "  CPU cores: Xvfb (not counted)",
            theirs(&|t| num(t.xvfb_cpu.map(|c| per_s(c, t.seconds)), 2)),
        );
        out += &row(
            "  PSNR-Y dB final (shown vs settled screen)",
            theirs(&|t| num(t.psnr_final, 2)),
        );

        out += "ra / ffmpeg\n";
        out += &row(
            "  encoded bytes ratio, window + settling/tail",
            both(&|o, t| num(ratio(o.encoded_bytes_total as f64, t.bytes_total as f64), 2)),
        );
        out += &row(
            "  encoded bytes ratio, window",
            both(&|o, t| {
                num(
                    ratio(kb_s(o.encoded_bytes, o.seconds), kb_s(t.bytes, t.seconds)),
                    2,
                )
            }),
        );
        out += &row(
            "  wire bytes ratio",
            both(&|o, t| {
                num(
                    ratio(kb_s(o.wire_bytes, o.seconds), kb_s(t.bytes, t.seconds)),
                    2,
                )
            }),
        );
        out += &row(
            "  CPU ratio (host upper bound / ffmpeg)",
            both(&|o, t| {
                num(
                    ratio(per_s(o.cpu.host(), o.seconds), per_s(t.cpu, t.seconds)),
                    2,
                )
            }),
        );
        out += &row(
            "  frame rate ratio",
            both(&|o, t| {
                num(
                    ratio(
                        per_s(o.frames as f64, o.seconds),
                        per_s(t.frames as f64, t.seconds),
                    ),
                    2,
                )
            }),
        );
        out += &row(
            "  final PSNR difference, dB",
            both(&|o, t| num(o.psnr_final.zip(t.psnr_final).map(|(a, b)| a - b), 2)),
        );
        out
    }

    /// "pass"/"MISS" for `value` against an upper `limit`, and by how much.
    fn judge_max(value: f64, limit: f64, unit: &str) -> String {
        if value.is_nan() {
            return "not measured".into();
        }
        if value <= limit {
            let margin = if limit > 0.0 {
                format!(" ({:.0}% under)", (limit - value) / limit * 100.0)
            } else {
                String::new()
            };
            format!("pass{margin}")
        } else {
            let over = if limit > 0.0 {
                format!(", {:.0}% over", (value - limit) / limit * 100.0)
            } else {
                String::new()
            };
            format!("MISS by {:.2} {unit}{over}", value - limit)
        }
    }

    /// One target line.
    fn target_line(target: &str, scenario: &str, value: &str, verdict: &str) -> String {
        format!("{target:<38} {scenario:<10} {value:>16}  {verdict}\n")
    }

    /// The §5 targets, per scenario.
    fn targets(results: &[ScenarioResult]) -> String {
        let mut out = String::new();
        out += &target_line("target (1920x1080)", "scenario", "measured", "verdict");
        out += &format!("{}\n", "-".repeat(96));
        for r in results {
            let Ok(o) = &r.ours else { continue };
            if let Some(p95) = percentile(&o.capture_ms, 0.95) {
                out += &target_line(
                    "capture <= 2 ms per frame (p95)",
                    r.scenario.name(),
                    &format!("{p95:.2} ms"),
                    &judge_max(p95, 2.0, "ms"),
                );
            }
        }
        for r in results {
            let Ok(o) = &r.ours else { continue };
            if let (Some(p50), Some(p95)) = (
                percentile(&o.latency_ms, 0.5),
                percentile(&o.latency_ms, 0.95),
            ) {
                out += &target_line(
                    "capture->decoded p50 <= 20 ms",
                    r.scenario.name(),
                    &format!("{p50:.1} ms"),
                    &judge_max(p50, 20.0, "ms"),
                );
                out += &target_line(
                    "capture->decoded p95 <= 35 ms",
                    r.scenario.name(),
                    &format!("{p95:.1} ms"),
                    &judge_max(p95, 35.0, "ms"),
                );
            }
        }
        for r in results.iter().filter(|r| r.scenario == Scenario::Static) {
            let Ok(o) = &r.ours else { continue };
            let wire = o.wire_bytes as f64 / 1000.0 / o.seconds.max(1e-9);
            out += &target_line(
                "static: <= 2 kB/s on the wire",
                "static",
                &format!("{wire:.3} kB/s"),
                &judge_max(wire, 2.0, "kB/s"),
            );
            let calls = o.encode_calls as f64;
            out += &target_line(
                "static: no encode work",
                "static",
                &format!("{} encodes", o.encode_calls),
                &judge_max(calls, 0.0, "encodes"),
            );
        }
        for r in results.iter().filter(|r| r.scenario != Scenario::Static) {
            let Ok(o) = &r.ours else { continue };
            let verdict = match &r.theirs {
                None => ("-".to_owned(), "not measured (no ffmpeg)".to_owned()),
                Some(Err(e)) => ("-".to_owned(), format!("not measured ({e})")),
                Some(Ok(t)) => {
                    // Whole cost of reaching the final picture whose PSNR is compared.
                    let (ours, theirs) = (o.encoded_bytes_total as f64, t.bytes_total as f64);
                    let bytes_ratio = if theirs > 0.0 {
                        ours / theirs
                    } else {
                        f64::NAN
                    };
                    let bytes_verdict = judge_max(bytes_ratio, 1.0, "x");
                    // `>=` also holds for two lossless (+inf) pictures.
                    let quality_verdict = match o.psnr_final.zip(t.psnr_final) {
                        Some((a, b)) if a >= b => format!("PSNR {:+.2} dB: equal or better", a - b),
                        Some((a, b)) => format!(
                            "PSNR {:+.2} dB: MISS at this crf (worse quality; see x264 at a higher --x264-crf)",
                            a - b
                        ),
                        None => "PSNR not measured".into(),
                    };
                    (
                        format!("{bytes_ratio:.2}x x264"),
                        format!("{bytes_verdict}; {quality_verdict}"),
                    )
                }
            };
            out += &target_line(
                "bytes <= 1.0x x264 at >= its PSNR",
                r.scenario.name(),
                &verdict.0,
                &verdict.1,
            );
        }
        for r in results.iter().filter(|r| r.scenario != Scenario::Static) {
            let Ok(o) = &r.ours else { continue };
            let seconds = o.seconds.max(1e-9);
            let cores = o.cpu.host() / seconds;
            let fps = o.frames as f64 / seconds;
            out += &target_line(
                "host CPU <= 1 core at 30 fps",
                r.scenario.name(),
                &format!("{cores:.2} @ {fps:.0} fps"),
                &judge_max(cores, 1.0, "cores"),
            );
        }
        out
    }

    /// Load averages, if the system tells them.
    fn load_average() -> String {
        std::fs::read_to_string("/proc/loadavg")
            .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "?".into())
    }

    // ------------------------------------------------------------------
    // --choose-settings: recorded scenarios through each settings variant
    // ------------------------------------------------------------------

    /// One captured frame: what changed and the pixels there.
    struct RecordedFrame {
        /// Capture timestamp.
        captured_at: Timestamp,
        /// Its damage as the capturer reported it.
        damage: Vec<Rect>,
        /// The pixels of each damaged rectangle, rows packed.
        patches: Vec<(Rect, Vec<u8>)>,
    }

    /// A scenario as the capturer saw it.
    struct Recording {
        /// The first picture, stride 4 × width.
        base: Vec<u8>,
        /// Every frame; the first one is `base` (whole damage, no patches).
        frames: Vec<RecordedFrame>,
    }

    /// Copies the damaged rectangles of `frame`.
    fn patches_of(frame: &Frame<'_>) -> Vec<(Rect, Vec<u8>)> {
        frame
            .damage
            .iter()
            .filter(|r| !r.is_empty())
            .filter_map(|r| {
                let (x, y) = (usize::try_from(r.x).ok()?, usize::try_from(r.y).ok()?);
                let (w, h) = (r.width as usize, r.height as usize);
                let mut pixels = Vec::with_capacity(w * h * 4);
                for row in y..y + h {
                    let start = row * frame.stride + x * 4;
                    pixels.extend_from_slice(frame.data.get(start..start + w * 4)?);
                }
                Some((*r, pixels))
            })
            .collect()
    }

    /// Writes `patches` into `picture` (stride 4 × [`WIDTH`]).
    fn apply(picture: &mut [u8], patches: &[(Rect, Vec<u8>)]) {
        let stride = usize::from(WIDTH) * 4;
        for (r, pixels) in patches {
            let (x, y, w) = (
                r.x.max(0) as usize,
                r.y.max(0) as usize,
                r.width as usize * 4,
            );
            for (i, row) in pixels.chunks_exact(w.max(1)).enumerate() {
                let start = (y + i) * stride + x * 4;
                if let Some(target) = picture.get_mut(start..start + w) {
                    target.copy_from_slice(row);
                }
            }
        }
    }

    /// Records `scenario` for `duration`, capturing at most 30 times a
    /// second as the pipeline does.
    fn record(display: &str, scenario: Scenario, duration: Duration) -> Res<Recording> {
        let mut driver = Driver::start(display, scenario, duration)?;
        let mut capturer =
            X11Capturer::connect(Some(display)).map_err(|e| format!("capturer: {e}"))?;
        let (base, first) = {
            let frame = capturer
                .next_frame(STEP_TIMEOUT)
                .map_err(|e| format!("capture: {e}"))?
                .ok_or("no first frame")?;
            if frame.stride != usize::from(WIDTH) * 4 || frame.data.len() < PICTURE_BYTES {
                return Err("unexpected picture layout".into());
            }
            (
                frame.data[..PICTURE_BYTES].to_vec(),
                RecordedFrame {
                    captured_at: frame.captured_at,
                    damage: vec![Rect::new(0, 0, u32::from(WIDTH), u32::from(HEIGHT))],
                    patches: Vec::new(),
                },
            )
        };
        let mut frames = vec![first];
        let period = Duration::from_secs(1) / 30;
        let mut last = Instant::now();
        let mut finished = false;
        driver.go();
        loop {
            if !finished && let Some(outcome) = driver.try_finished() {
                outcome?;
                finished = true;
            }
            let wait = period.saturating_sub(last.elapsed());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            match capturer
                .next_frame(Duration::from_millis(50))
                .map_err(|e| format!("capture: {e}"))?
            {
                Some(frame) => {
                    last = Instant::now();
                    frames.push(RecordedFrame {
                        captured_at: frame.captured_at,
                        damage: frame.damage.clone(),
                        patches: patches_of(&frame),
                    });
                }
                // The scene is over and everything it drew was captured.
                None if finished => break,
                None => {}
            }
        }
        Ok(Recording { base, frames })
    }

    /// One settings variant on one recording.
    struct VariantResult {
        /// The settings.
        settings: EncoderSettings,
        /// Bytes a second without the first (IDR) frame.
        kb_s: f64,
        /// The first frame's bytes.
        idr_bytes: usize,
        /// Encode ms of every frame but the first (encoder start-up).
        encode_ms: Vec<f64>,
        /// Process CPU ms per frame over the encode pass.
        cpu_ms_per_frame: f64,
        /// Frames rate control skipped.
        skipped: usize,
        /// PSNR of each coded frame against its own source, dB (codec loss).
        psnr_coded: Vec<f64>,
        /// PSNR of the picture shown after each frame (the previous one when
        /// a frame was skipped) against that frame's source, dB.
        psnr_shown: Vec<f64>,
        /// PSNR of the first (IDR) picture, dB: what a static screen keeps.
        psnr_idr: Option<f64>,
    }

    /// Encodes `recording` with `settings`, then decodes and compares.
    fn replay(recording: &Recording, settings: EncoderSettings, ticks: f64) -> Res<VariantResult> {
        let (w, h) = (u32::from(WIDTH), u32::from(HEIGHT));
        let stride = usize::from(WIDTH) * 4;
        let mut encoder = OpenH264Encoder::new(settings);
        let mut picture = recording.base.clone();
        let mut outputs = Vec::with_capacity(recording.frames.len());
        let mut encode_ms = Vec::new();
        let pid = std::process::id();
        let cpu_before = process_ticks(pid);
        for (index, f) in recording.frames.iter().enumerate() {
            apply(&mut picture, &f.patches);
            let frame = Frame {
                width: w,
                height: h,
                stride,
                data: &picture,
                damage: f.damage.clone(),
                captured_at: f.captured_at,
                display: DisplayId(0),
            };
            let start = Instant::now();
            let encoded = encoder.encode(&frame, false)?;
            if index > 0 {
                encode_ms.push(ms(start.elapsed()));
            }
            outputs.push(encoded);
        }
        let cpu_after = process_ticks(pid);
        let cpu_ms_per_frame = cpu_before.zip(cpu_after).map_or(f64::NAN, |(b, a)| {
            a.saturating_sub(b) as f64 / ticks * 1000.0 / recording.frames.len().max(1) as f64
        });

        let mut decoder = OpenH264Decoder::new()?;
        let mut picture = recording.base.clone();
        let mut shown: Option<DecodedFrame> = None;
        let (mut psnr_coded, mut psnr_shown) = (Vec::new(), Vec::new());
        for (f, encoded) in recording.frames.iter().zip(&outputs) {
            apply(&mut picture, &f.patches);
            let mut coded = false;
            if let Some(encoded) = encoded
                && let Some(decoded) = decoder.decode(encoded)?
            {
                shown = Some(decoded);
                coded = true;
            }
            if let Some(shown) = &shown {
                let psnr = psnr_bgra(&shown.data, shown.stride, &picture, stride, w, h);
                psnr_shown.push(psnr);
                if coded {
                    psnr_coded.push(psnr);
                }
            }
        }
        let first = recording.frames.first().map(|f| f.captured_at);
        let last = recording.frames.last().map(|f| f.captured_at);
        let seconds = first
            .zip(last)
            .map_or(0.0, |(a, b)| a.duration_until(b).as_secs_f64());
        let bytes: usize = outputs.iter().skip(1).flatten().map(|e| e.data.len()).sum();
        Ok(VariantResult {
            settings,
            kb_s: if seconds > 0.0 {
                bytes as f64 / 1000.0 / seconds
            } else {
                f64::NAN
            },
            idr_bytes: outputs
                .first()
                .and_then(|o| o.as_ref())
                .map_or(0, |e| e.data.len()),
            encode_ms,
            cpu_ms_per_frame,
            skipped: outputs.iter().filter(|o| o.is_none()).count(),
            psnr_idr: psnr_coded.first().copied(),
            psnr_coded,
            psnr_shown,
        })
    }

    /// The `--choose-settings` mode.
    fn choose_settings(args: &Args, xvfb: &Xvfb, ticks: f64) -> Res<String> {
        let display = xvfb.display();
        let mut out = String::new();
        let variants: Vec<EncoderSettings> = [ContentKind::Screen, ContentKind::Camera]
            .into_iter()
            .flat_map(|content| {
                [1u16, 2, 0].into_iter().flat_map(move |threads| {
                    [RateControl::Bitrate, RateControl::Quality]
                        .into_iter()
                        .map(move |rate_control| EncoderSettings {
                            content,
                            threads,
                            rate_control,
                            ..EncoderSettings::default()
                        })
                })
            })
            .collect();
        for scenario in [Scenario::Typing, Scenario::Window] {
            eprintln!(
                "ra-screen-bench: recording {} for {:.1} s…",
                scenario.name(),
                args.record_duration
            );
            let recording = record(
                &display,
                scenario,
                Duration::from_secs_f64(args.record_duration),
            )?;
            let seconds = recording
                .frames
                .first()
                .zip(recording.frames.last())
                .map_or(0.0, |(a, b)| {
                    a.captured_at.duration_until(b.captured_at).as_secs_f64()
                });
            out += &format!(
                "\n{}: {} frames captured over {:.2} s ({:.1} /s); defaults {:?}\n",
                scenario.name(),
                recording.frames.len(),
                seconds,
                recording.frames.len().saturating_sub(1) as f64 / seconds.max(1e-9),
                EncoderSettings::default(),
            );
            out += &format!(
                "{:<8} {:>7} {:<8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} {:>7} {:>7}\n",
                "content",
                "threads",
                "rc",
                "kB/s",
                "IDR kB",
                "IDR dB",
                "enc p50",
                "enc p95",
                "CPU ms/f",
                "skipped",
                "coded",
                "min",
                "shown"
            );
            out += &format!("{}\n", "-".repeat(105));
            for settings in &variants {
                eprintln!(
                    "ra-screen-bench:   {:?} {} threads {:?}…",
                    settings.content, settings.threads, settings.rate_control
                );
                let r = replay(&recording, *settings, ticks)?;
                out += &format!(
                    "{:<8} {:>7} {:<8} {:>8.2} {:>7.1} {:>7} {:>7.2} {:>7.2} {:>9.2} {:>7} {:>7} {:>7} {:>7}\n",
                    format!("{:?}", r.settings.content),
                    r.settings.threads,
                    format!("{:?}", r.settings.rate_control),
                    r.kb_s,
                    r.idr_bytes as f64 / 1000.0,
                    num(r.psnr_idr, 2),
                    percentile(&r.encode_ms, 0.5).unwrap_or(f64::NAN),
                    percentile(&r.encode_ms, 0.95).unwrap_or(f64::NAN),
                    r.cpu_ms_per_frame,
                    r.skipped,
                    num(psnr_of_mean(&r.psnr_coded), 2),
                    num(r.psnr_coded.iter().copied().reduce(f64::min), 2),
                    num(psnr_of_mean(&r.psnr_shown), 2),
                );
            }
        }
        out += "\nkB/s: without the first (IDR) frame. IDR dB: luma PSNR of that first picture, \
                which a static screen keeps.\nenc: wall ms per encode call (the first left out). \
                CPU ms/f: process CPU over the encode pass, per frame.\nskipped: frames rate control \
                dropped. coded / min: luma PSNR (dB, of the mean MSE / worst) of each coded frame \
                against its own source.\nshown: the same over every frame, of the picture a viewer \
                sees then (a skipped frame leaves the previous one, so a moving window jumps).\n";
        Ok(out)
    }

    // ------------------------------------------------------------------
    // main
    // ------------------------------------------------------------------

    /// Runs the bench.
    pub(super) fn main() -> ExitCode {
        let args = Args::parse();
        let started = Instant::now();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let load_before = load_average();
        let ticks = clock_ticks();
        let xvfb = match Xvfb::start(u32::from(WIDTH), u32::from(HEIGHT)) {
            Ok(xvfb) => xvfb,
            Err(e) => {
                eprintln!("ra-screen-bench: {e}");
                return ExitCode::FAILURE;
            }
        };
        let display = xvfb.display();
        let mut out = String::new();
        out += &format!(
            "ra-screen-bench report{}\nmachine: {cores} cores, load average before {load_before}\n\
             screen: Xvfb {display} {WIDTH}x{HEIGHT}, scenarios change {CHANGE_RATE} times/s\n",
            if cfg!(debug_assertions) {
                " (DEBUG BUILD: use --release)"
            } else {
                ""
            },
        );

        if args.choose_settings {
            match choose_settings(&args, &xvfb, ticks) {
                Ok(text) => out += &text,
                Err(e) => {
                    eprintln!("ra-screen-bench: {e}");
                    return ExitCode::FAILURE;
                }
            }
            out += &format!(
                "\nload average after: {}; total {:.1} s\n",
                load_average(),
                started.elapsed().as_secs_f64()
            );
            print!("{out}");
            return ExitCode::SUCCESS;
        }

        let ffmpeg = if args.no_ffmpeg {
            Err("skipped (--no-ffmpeg)".to_owned())
        } else {
            ffmpeg_version()
        };
        match &ffmpeg {
            Ok(version) => {
                let crf = args
                    .x264_crf
                    .map_or("x264's default 23".to_owned(), |c| c.to_string());
                out += &format!("baseline: {version}; libx264 crf {crf}\n");
            }
            Err(e) => {
                out += &format!(
                    "baseline: ffmpeg not available ({e}); ra measured alone \
                     (install it with scripts/setup.sh or apt-get install ffmpeg)\n"
                );
            }
        }
        let watch = match DamageWatch::start(&display) {
            Ok(watch) => watch,
            Err(e) => {
                eprintln!("ra-screen-bench: damage watch: {e}");
                return ExitCode::FAILURE;
            }
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("ra-screen-bench: cannot start tokio: {e}");
                return ExitCode::FAILURE;
            }
        };
        let scenarios = if args.scenario.is_empty() {
            Scenario::ALL.to_vec()
        } else {
            args.scenario.clone()
        };
        let duration = Duration::from_secs_f64(args.duration.max(0.5));
        let settings = EncoderSettings {
            content: match args.content {
                None => EncoderSettings::default().content,
                Some(Content::Screen) => ContentKind::Screen,
                Some(Content::Camera) => ContentKind::Camera,
            },
            ..EncoderSettings::default()
        };
        out += &format!("ra's encoder: {settings:?}\n");
        let mut results = Vec::new();
        for scenario in scenarios {
            eprintln!("ra-screen-bench: {} with ra…", scenario.name());
            let ours = Driver::start(&display, scenario, duration)
                .and_then(|driver| {
                    let snapshot = args
                        .snapshots
                        .as_ref()
                        .map(|dir| dir.join(format!("{}.png", scenario.name())));
                    runtime.block_on(run_ours(
                        &display,
                        xvfb.pid(),
                        driver,
                        Arc::clone(&watch),
                        ticks,
                        settings,
                        snapshot,
                    ))
                })
                .map_err(|e| e.to_string());
            if let Err(e) = &ours {
                eprintln!("ra-screen-bench: {}: ra failed: {e}", scenario.name());
            }
            let theirs = ffmpeg.is_ok().then(|| {
                eprintln!("ra-screen-bench: {} with ffmpeg…", scenario.name());
                let result = Driver::start(&display, scenario, duration)
                    .and_then(|driver| {
                        run_ffmpeg(
                            &display,
                            xvfb.pid(),
                            driver,
                            duration.as_secs_f64(),
                            ticks,
                            args.x264_crf,
                        )
                    })
                    .map_err(|e| e.to_string());
                if let Err(e) = &result {
                    eprintln!("ra-screen-bench: {}: ffmpeg failed: {e}", scenario.name());
                }
                result
            });
            results.push(ScenarioResult {
                scenario,
                ours,
                theirs,
            });
        }
        runtime.shutdown_timeout(Duration::from_secs(2));

        if let Some(Ok(o)) = results.first().map(|r| &r.ours) {
            out += &format!(
                "capture: X11Capturer, MIT-SHM {}\n",
                if o.shm { "on" } else { "OFF (plain GetImage)" }
            );
        }
        out += &format!(
            "window: {:.1} s of change per scenario and side\n\n",
            duration.as_secs_f64()
        );
        out += &table(&results);
        out += "\n";
        out += &targets(&results);
        let mut notes = String::new();
        for r in &results {
            match &r.ours {
                Ok(o) => {
                    for note in &o.notes {
                        notes += &format!("  {} (ra): {note}\n", r.scenario.name());
                    }
                }
                Err(e) => notes += &format!("  {} (ra): FAILED: {e}\n", r.scenario.name()),
            }
            match &r.theirs {
                Some(Ok(t)) => {
                    for note in &t.notes {
                        notes += &format!("  {} (ffmpeg): {note}\n", r.scenario.name());
                    }
                }
                Some(Err(e)) => {
                    notes += &format!("  {} (ffmpeg): FAILED: {e}\n", r.scenario.name())
                }
                None => {}
            }
        }
        if !notes.is_empty() {
            out += &format!("\nnotes:\n{notes}");
        }
        out += &format!(
            "\nload average after: {}; total bench time {:.1} s\n",
            load_average(),
            started.elapsed().as_secs_f64()
        );
        print!("{out}");
        if results.iter().any(|r| r.ours.is_err()) {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }
}
