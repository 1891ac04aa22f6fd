//! Capture cost per 1920×1080 frame on a private Xvfb: MIT-SHM against plain
//! GetImage, whole frames against partial (damage-sized) reads, and the two
//! XDamage report levels.
//!
//! `cargo run --release -p ra-capture --example x11_capture_bench`

#[cfg(target_os = "linux")]
fn main() -> Result<(), bench::Error> {
    bench::run()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("x11_capture_bench needs Linux (X11 and Xvfb)");
}

/// The measurements (X11 exists on Linux only here).
#[cfg(target_os = "linux")]
mod bench {
    use std::time::{Duration, Instant};

    use ra_capture::x11::{DamageReports, X11Capturer, X11Options};
    use ra_capture::xvfb::Xvfb;
    use ra_core::media::{Capturer, Rect};
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{self, ConnectionExt as _};
    use x11rb::rust_connection::RustConnection;

    const WIDTH: u32 = 1920;
    const HEIGHT: u32 = 1080;

    pub(crate) type Error = Box<dyn std::error::Error>;

    /// The benchmark's own X client, drawing on the root window.
    struct Painter {
        conn: RustConnection,
        root: xproto::Window,
        gc: xproto::Gcontext,
        color: u32,
    }

    impl Painter {
        fn new(display: &str) -> Result<Self, Error> {
            let (conn, screen) = RustConnection::connect(Some(display))?;
            let root = conn.setup().roots[screen].root;
            let gc = conn.generate_id()?;
            conn.create_gc(gc, root, &xproto::CreateGCAux::new())?;
            Ok(Painter {
                conn,
                root,
                gc,
                color: 0,
            })
        }

        /// Fills each rectangle with a new colour (one request each), then waits
        /// until the server has drawn them.
        fn paint(&mut self, rects: &[Rect]) -> Result<(), Error> {
            for r in rects {
                self.color = self.color.wrapping_add(0x010305) & 0xff_ffff;
                self.conn
                    .change_gc(self.gc, &xproto::ChangeGCAux::new().foreground(self.color))?;
                let rect = xproto::Rectangle {
                    x: i16::try_from(r.x)?,
                    y: i16::try_from(r.y)?,
                    width: u16::try_from(r.width)?,
                    height: u16::try_from(r.height)?,
                };
                self.conn.poly_fill_rectangle(self.root, self.gc, &[rect])?;
            }
            self.conn.get_input_focus()?.reply()?;
            Ok(())
        }
    }

    fn capturer(
        display: &str,
        shm: bool,
        partial_limit: Option<f64>,
        reports: DamageReports,
    ) -> Result<X11Capturer, Error> {
        let mut options = X11Options::default();
        options.use_shm = shm;
        options.partial_limit = partial_limit;
        options.damage_reports = reports;
        let mut capturer = X11Capturer::connect_with(Some(display), options)?;
        if shm && !capturer.uses_shm() {
            return Err("mit-shm is unavailable here".into());
        }
        next(&mut capturer)?;
        Ok(capturer)
    }

    /// Waits for the next frame; errors if none comes within a second.
    fn next(capturer: &mut X11Capturer) -> Result<(), Error> {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            if capturer.next_frame(Duration::from_secs(1))?.is_some() {
                return Ok(());
            }
        }
        Err("no frame".into())
    }

    /// Median and mean in milliseconds.
    fn stats(mut samples: Vec<Duration>) -> (f64, f64) {
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mean = samples.iter().map(|&d| ms(d)).sum::<f64>() / samples.len() as f64;
        (ms(samples[samples.len() / 2]), mean)
    }

    fn report(label: &str, samples: Vec<Duration>) {
        let (median, mean) = stats(samples);
        println!("{label:<58} median {median:7.3} ms   mean {mean:7.3} ms");
    }

    /// Whole frames: `invalidate` then `next_frame`.
    fn whole(display: &str, shm: bool, runs: usize) -> Result<Vec<Duration>, Error> {
        let mut capturer = capturer(display, shm, None, DamageReports::NonEmpty)?;
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            capturer.invalidate();
            let start = Instant::now();
            next(&mut capturer)?;
            samples.push(start.elapsed());
        }
        Ok(samples)
    }

    /// Damage of `rects` painted by `painter`, then `next_frame`, timed from the
    /// moment the server has drawn them.
    fn damaged(
        capturer: &mut X11Capturer,
        painter: &mut Painter,
        rects: &[Rect],
        runs: usize,
    ) -> Result<Vec<Duration>, Error> {
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            painter.paint(rects)?;
            let start = Instant::now();
            next(capturer)?;
            samples.push(start.elapsed());
        }
        Ok(samples)
    }

    /// A screenful of glyph-sized changes: typing or a redrawn text view.
    fn glyphs(count: usize) -> Vec<Rect> {
        (0..count)
            .map(|i| {
                let i = i32::try_from(i).unwrap_or(0);
                Rect::new(20 + (i % 80) * 10, 100 + (i / 80) * 20, 8, 14)
            })
            .collect()
    }

    pub(crate) fn run() -> Result<(), Error> {
        let xvfb = Xvfb::start(WIDTH, HEIGHT)?;
        let display = xvfb.display();
        let mut painter = Painter::new(&display)?;
        painter.paint(&[Rect::new(0, 0, WIDTH, HEIGHT)])?;
        println!("capture of {WIDTH}x{HEIGHT} on Xvfb {display}");

        report("whole frame, MIT-SHM", whole(&display, true, 100)?);
        report("whole frame, plain GetImage", whole(&display, false, 20)?);

        let cases: [(&str, Vec<Rect>); 5] = [
            ("64x64", vec![Rect::new(500, 300, 64, 64)]),
            ("400x300", vec![Rect::new(500, 300, 400, 300)]),
            (
                "full-width band 1920x100",
                vec![Rect::new(0, 500, 1920, 100)],
            ),
            ("960x540 (25%)", vec![Rect::new(100, 100, 960, 540)]),
            ("400 glyphs 8x14", glyphs(400)),
        ];
        for shm in [true, false] {
            let how = if shm { "SHM" } else { "GetImage" };
            for (name, rects) in &cases {
                let mut partial = capturer(&display, shm, Some(1.0), DamageReports::NonEmpty)?;
                report(
                    &format!("{name}: partial read, {how}"),
                    damaged(&mut partial, &mut painter, rects, 50)?,
                );
                let mut whole = capturer(&display, shm, Some(0.0), DamageReports::NonEmpty)?;
                report(
                    &format!("{name}: whole-frame read, {how}"),
                    damaged(&mut whole, &mut painter, rects, 50)?,
                );
            }
        }
        for (name, rects) in [
            ("64x64", vec![Rect::new(500, 300, 64, 64)]),
            ("400 glyphs 8x14", glyphs(400)),
            ("2000 glyphs 8x14", glyphs(2000)),
        ] {
            for reports in [DamageReports::NonEmpty, DamageReports::RawRectangles] {
                let mut capturer = capturer(&display, true, None, reports)?;
                report(
                    &format!("{name}: damage {reports:?}, SHM, default limit"),
                    damaged(&mut capturer, &mut painter, &rects, 50)?,
                );
            }
        }
        Ok(())
    }
}
