//! [`X11Capturer`]: the Linux X11 backend on x11rb.
//!
//! - Pixels: MIT-SHM `GetImage` into a memfd shared with the server, read in
//!   place (≈0.2–0.3 ms per whole 1080p frame on Xvfb); plain `GetImage` when
//!   the server cannot share memory with us (remote display, no MIT-SHM),
//!   about 10× slower.
//! - What changed: XDamage on the root window. Without damage nothing is
//!   read and `next_frame` returns `Ok(None)` at its timeout; small damage
//!   is read rectangle by rectangle into the persistent picture.
//! - The pointer: XFixes cursor images and `QueryPointer`, apart from video.
//! - Monitors: RandR 1.5 monitors, followed through resolution changes and
//!   monitors coming and going.

mod cursor;
mod error;
mod grab;
mod monitors;
mod region;
mod shm_segment;
mod windows;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use ra_core::media::{
    CaptureError, Capturer, CursorUpdate, DisplayId, DisplayInfo, Frame, Rect, Timestamp,
};
use rustix::event::{PollFd, PollFlags, Timespec};
use x11rb::connection::{Connection as _, RequestConnection as _};
use x11rb::errors::ReplyOrIdError;
use x11rb::protocol::Event;
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::randr::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ImageOrder, Window};
use x11rb::rust_connection::RustConnection;

pub use error::X11Error;
pub use windows::X11WindowLocator;

use cursor::CursorTracker;
use error::{failed, lost};
use grab::{GrabError, Store};
use monitors::MonitorIds;

/// Environment variable that, set to anything but `0` or empty, turns MIT-SHM
/// off (as [`X11Options::use_shm`] `= false` does), for diagnosing servers.
pub const NO_SHM_ENV: &str = "RA_CAPTURE_NO_SHM";

/// How often monitors are re-read while waiting: RandR sends no event when a
/// monitor is added or removed with `xrandr --setmonitor`/`--delmonitor`.
/// Costs two or three round trips (well under a millisecond) per interval.
const GEOMETRY_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Default [`X11Options::partial_limit`] with MIT-SHM. Measured on Xvfb at
/// 1080p (examples/x11_capture_bench.rs): a whole read 0.27 ms, a 960×540
/// partial read 0.25 ms, a 400×300 one 0.11 ms.
const SHM_PARTIAL_LIMIT: f64 = 0.25;

/// Default [`X11Options::partial_limit`] with plain `GetImage`: a whole read
/// 2–2.7 ms, a 960×540 partial read 0.4 ms; only near the whole picture do
/// the extra requests stop paying.
const GET_IMAGE_PARTIAL_LIMIT: f64 = 0.9;

/// How XDamage reports changes to the capturer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DamageReports {
    /// One event when the damaged region stops being empty; the region is
    /// then fetched and cleared (`DamageSubtract` + `FetchRegion`, one round
    /// trip per frame). Event traffic stays small however busy the screen.
    #[default]
    NonEmpty,
    /// One event per drawing operation, carrying its rectangle: no round
    /// trip, but thousands of events when much is drawn.
    RawRectangles,
}

/// Settings of an [`X11Capturer`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct X11Options {
    /// Read pixels through MIT-SHM when the server supports it (default
    /// `true`). Off, or when sharing fails, plain `GetImage` is used.
    pub use_shm: bool,
    /// Read only the damaged rectangles while they cover at most this
    /// fraction of the picture (0–1), and the whole picture above it; `0.0`
    /// always reads everything. Default `None`: 0.25 with MIT-SHM (where a
    /// whole 1080p read costs ≈0.27 ms, about what reading a quarter of it in
    /// pieces costs), 0.9 with plain `GetImage` (cost grows with the pixels).
    pub partial_limit: Option<f64>,
    /// How damage is reported. Default [`DamageReports::NonEmpty`].
    pub damage_reports: DamageReports,
}

impl Default for X11Options {
    fn default() -> Self {
        X11Options {
            use_shm: true,
            partial_limit: None,
            damage_reports: DamageReports::default(),
        }
    }
}

/// A [`Capturer`] of an X11 screen (see the [module docs](self)).
///
/// Displays are the RandR monitors, with ids stable per monitor name for the
/// capturer's lifetime, and [`DisplayId::ALL`] for the whole root window.
/// It starts on the primary monitor, or the whole root when none is primary.
///
/// Frames are 32-bit BGRX: the fourth byte is what the X server stores there
/// (0 on Xvfb), not alpha. Each frame's damage lists the rectangles that
/// changed, clipped to the captured display and in its coordinates (at most
/// 16, merged when there are more); the first frame, and the first after
/// `select`, `invalidate` or a change of geometry, is wholly damaged.
///
/// `next_frame` waits on the X connection (no busy loop) and polls the
/// pointer about every 16 ms; a pointer move or a new cursor shape ends the
/// wait early with `Ok(None)`, so the caller can send [`Capturer::cursor`] at
/// once. The pointer never causes a video frame.
#[derive(Debug)]
pub struct X11Capturer {
    conn: RustConnection,
    root: Window,
    options: X11Options,
    /// The damage object on the root window.
    damage: damage::Damage,
    /// Region that receives damage in [`DamageReports::NonEmpty`] mode.
    parts: xfixes::Region,
    /// Whether RandR 1.5 (monitors) is there.
    randr: bool,
    ids: RefCell<MonitorIds>,
    selected: DisplayId,
    /// The captured rectangle in root coordinates.
    area: Rect,
    store: Store,
    cursor: CursorTracker,
    /// The next frame is wholly damaged.
    full_pending: bool,
    /// A damage event arrived ([`DamageReports::NonEmpty`]).
    damage_notified: bool,
    /// Rectangles from damage events ([`DamageReports::RawRectangles`]).
    raw_damage: Vec<Rect>,
    /// RandR reported a change: re-read the geometry before capturing.
    geometry_dirty: bool,
    /// When to re-read the monitors even without a RandR event.
    next_geometry_check: Instant,
    /// Damage of the frame being returned.
    frame_damage: Vec<Rect>,
    captured_at: Timestamp,
}

impl X11Capturer {
    /// Connects to `display` (`None`: `$DISPLAY`) with default options.
    ///
    /// # Errors
    /// [`CaptureError::Backend`] with an [`X11Error`] when the server cannot
    /// be reached, lacks XDamage or XFixes, or has an unsupported pixel
    /// format; [`CaptureError::SourceLost`] when the connection breaks.
    pub fn connect(display: Option<&str>) -> Result<Self, CaptureError> {
        Self::connect_with(display, X11Options::default())
    }

    /// Connects to `display` (`None`: `$DISPLAY`) with `options`. The
    /// environment variable [`NO_SHM_ENV`] turns MIT-SHM off too.
    ///
    /// # Errors
    /// As [`X11Capturer::connect`].
    pub fn connect_with(display: Option<&str>, options: X11Options) -> Result<Self, CaptureError> {
        let (conn, screen_num) =
            RustConnection::connect(display).map_err(|e| X11Error::Connect(e.to_string()))?;
        let root = check_format(&conn, screen_num)?;
        require(&conn, damage::X11_EXTENSION_NAME, "DAMAGE")?;
        require(&conn, xfixes::X11_EXTENSION_NAME, "XFIXES")?;
        // Both extensions refuse other requests until the version is agreed.
        conn.xfixes_query_version(5, 0)
            .map_err(lost)?
            .reply()
            .map_err(failed("xfixes query_version"))?;
        conn.damage_query_version(1, 1)
            .map_err(lost)?
            .reply()
            .map_err(failed("damage query_version"))?;
        let randr = randr_monitors(&conn)?;
        if randr {
            monitors::watch(&conn, root)?;
        }

        let level = match options.damage_reports {
            DamageReports::NonEmpty => damage::ReportLevel::NON_EMPTY,
            DamageReports::RawRectangles => damage::ReportLevel::RAW_RECTANGLES,
        };
        let damage = conn.generate_id().map_err(id_failed)?;
        conn.damage_create(damage, root, level).map_err(lost)?;
        let parts = conn.generate_id().map_err(id_failed)?;
        conn.xfixes_create_region(parts, &[]).map_err(lost)?;
        let cursor = CursorTracker::new(&conn, root)?;

        let env_no_shm = std::env::var_os(NO_SHM_ENV).is_some_and(|v| !v.is_empty() && v != "0");
        let use_shm = options.use_shm && !env_no_shm;
        if !use_shm {
            tracing::info!("mit-shm turned off; capturing with plain GetImage");
        }
        let mut ids = MonitorIds::default();
        let root_size = monitors::root_size(&conn, root)?;
        let displays = monitors::list(&conn, root, randr, root_size, &mut ids)?;
        let selected = monitors::default_display(&displays);
        let area = area_of(selected, &displays, root_size).unwrap_or(root_rect(root_size));
        let store = Store::new(&conn, use_shm, area.width, area.height)?;
        Ok(X11Capturer {
            conn,
            root,
            options,
            damage,
            parts,
            randr,
            ids: RefCell::new(ids),
            selected,
            area,
            store,
            cursor,
            full_pending: true,
            damage_notified: false,
            raw_damage: Vec::new(),
            geometry_dirty: false,
            next_geometry_check: Instant::now() + GEOMETRY_CHECK_INTERVAL,
            frame_damage: Vec::new(),
            captured_at: Timestamp::default(),
        })
    }

    /// Whether pixels are read through MIT-SHM (false after falling back to
    /// plain `GetImage`).
    pub fn uses_shm(&self) -> bool {
        self.store.uses_shm()
    }

    /// The display being captured.
    pub fn selected(&self) -> DisplayId {
        self.selected
    }

    /// The options in force.
    pub fn options(&self) -> &X11Options {
        &self.options
    }

    fn list_displays(&self, root_size: (u32, u32)) -> Result<Vec<DisplayInfo>, CaptureError> {
        monitors::list(
            &self.conn,
            self.root,
            self.randr,
            root_size,
            &mut self.ids.borrow_mut(),
        )
    }

    /// Captures `id` (whose bounds are `area`) from now on, all of it next.
    fn set_area(&mut self, id: DisplayId, area: Rect) -> Result<(), CaptureError> {
        if id != self.selected || area != self.area {
            self.cursor.reset();
        }
        self.selected = id;
        self.area = area;
        self.store.resize(&self.conn, area.width, area.height)?;
        self.full_pending = true;
        Ok(())
    }

    /// Re-reads the screen and monitor geometry; a change (or `force`, after
    /// RandR said something changed) makes the next frame whole.
    fn refresh_geometry(&mut self, force: bool) -> Result<(), CaptureError> {
        self.geometry_dirty = false;
        self.next_geometry_check = Instant::now() + GEOMETRY_CHECK_INTERVAL;
        let root_size = monitors::root_size(&self.conn, self.root)?;
        let displays = self.list_displays(root_size)?;
        let mut id = self.selected;
        let area = match area_of(id, &displays, root_size) {
            Some(area) => area,
            None => {
                id = monitors::default_display(&displays);
                let name = displays
                    .iter()
                    .find(|d| d.id == id)
                    .map_or("all monitors", |d| d.name.as_str());
                tracing::warn!(
                    "the captured monitor {:?} is gone; capturing {name} instead",
                    self.selected
                );
                area_of(id, &displays, root_size).unwrap_or(root_rect(root_size))
            }
        };
        if force || id != self.selected || area != self.area {
            tracing::debug!(?area, root = ?root_size, "x11 geometry changed");
            self.set_area(id, area)?;
        }
        Ok(())
    }

    /// Handles every event already received, without blocking; true when
    /// there was any.
    fn drain_events(&mut self) -> Result<bool, CaptureError> {
        let mut any = false;
        while let Some(event) = self.conn.poll_for_event().map_err(lost)? {
            any = true;
            match event {
                Event::DamageNotify(e) => match self.options.damage_reports {
                    DamageReports::RawRectangles => {
                        self.raw_damage.push(Rect::new(
                            i32::from(e.area.x) + i32::from(e.geometry.x),
                            i32::from(e.area.y) + i32::from(e.geometry.y),
                            u32::from(e.area.width),
                            u32::from(e.area.height),
                        ));
                        if self.raw_damage.len() > region::MAX_PENDING_RECTS {
                            region::collapse(&mut self.raw_damage);
                        }
                    }
                    DamageReports::NonEmpty => self.damage_notified = true,
                },
                Event::XfixesCursorNotify(e) => self.cursor.shape_changed(e.cursor_serial),
                Event::RandrScreenChangeNotify(_) | Event::RandrNotify(_) => {
                    self.geometry_dirty = true;
                }
                Event::Error(e) => {
                    tracing::warn!(
                        "x11 error {:?} (major {}, minor {})",
                        e.error_kind,
                        e.major_opcode,
                        e.minor_opcode
                    );
                }
                _ => {}
            }
        }
        Ok(any)
    }

    /// Whether damage is waiting to be read.
    fn damage_waiting(&self) -> bool {
        self.damage_notified || !self.raw_damage.is_empty()
    }

    /// The damage since the last frame, clipped to the area and in its
    /// coordinates; clears it on the server. Empty when `full` (the server's
    /// damage is still cleared, so the next frame starts afresh).
    fn take_damage(&mut self, full: bool) -> Result<Vec<Rect>, CaptureError> {
        let root_rects = match self.options.damage_reports {
            DamageReports::RawRectangles => std::mem::take(&mut self.raw_damage),
            DamageReports::NonEmpty => {
                self.damage_notified = false;
                if full {
                    // Clearing needs no reply: it is ordered before the grab.
                    self.conn
                        .damage_subtract(self.damage, x11rb::NONE, x11rb::NONE)
                        .map_err(lost)?;
                    Vec::new()
                } else {
                    self.conn
                        .damage_subtract(self.damage, x11rb::NONE, self.parts)
                        .map_err(lost)?;
                    let reply = self
                        .conn
                        .xfixes_fetch_region(self.parts)
                        .map_err(lost)?
                        .reply()
                        .map_err(failed("xfixes fetch_region"))?;
                    reply
                        .rectangles
                        .iter()
                        .map(|r| {
                            Rect::new(
                                i32::from(r.x),
                                i32::from(r.y),
                                u32::from(r.width),
                                u32::from(r.height),
                            )
                        })
                        .collect()
                }
            }
        };
        if full {
            return Ok(Vec::new());
        }
        Ok(root_rects
            .into_iter()
            .filter_map(|r| region::clip_to(r, self.area))
            .collect())
    }

    /// Reads what changed into the picture; false when nothing changed in
    /// the captured area.
    fn capture(&mut self) -> Result<bool, GrabError> {
        let full = self.full_pending;
        let mut rects = self.take_damage(full)?;
        let (width, height) = self.store.size();
        let whole = Rect::new(0, 0, width, height);
        if full {
            rects.push(whole);
        } else if rects.is_empty() {
            return Ok(false);
        }
        region::coalesce(&mut rects, region::MAX_DAMAGE_RECTS);
        let damaged: u64 = rects.iter().map(|&r| region::area_of(r)).sum();
        let fraction = self
            .options
            .partial_limit
            .unwrap_or(if self.store.uses_shm() {
                SHM_PARTIAL_LIMIT
            } else {
                GET_IMAGE_PARTIAL_LIMIT
            });
        let limit = fraction.clamp(0.0, 1.0) * region::area_of(whole) as f64;
        if full || damaged as f64 > limit {
            self.store.grab_full(&self.conn, self.root, self.area)?;
        } else {
            self.store
                .grab_rects(&self.conn, self.root, self.area, &rects)?;
        }
        self.full_pending = false;
        self.frame_damage = rects;
        self.captured_at = Timestamp::now();
        Ok(true)
    }

    /// Waits until a frame is ready (true) or the pointer changed or
    /// `deadline` passed (false).
    fn wait_for_change(&mut self, deadline: Instant) -> Result<bool, CaptureError> {
        let mut geometry_retries = 0;
        loop {
            self.drain_events()?;
            if self.geometry_dirty || Instant::now() >= self.next_geometry_check {
                self.refresh_geometry(self.geometry_dirty)?;
            }
            if self.full_pending || self.damage_waiting() {
                match self.capture() {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    // The screen shrank between reading its geometry and the
                    // grab: read the geometry again, a bounded number of times.
                    Err(GrabError::Geometry) if geometry_retries < 3 => {
                        geometry_retries += 1;
                        self.geometry_dirty = true;
                        self.full_pending = true;
                        continue;
                    }
                    Err(GrabError::Geometry) => {
                        return Err(X11Error::Request {
                            request: "get_image",
                            message: "the captured area keeps leaving the screen".into(),
                        }
                        .into());
                    }
                    Err(GrabError::Failed(e)) => return Err(e),
                }
            }
            if self.cursor.take_shape_signal() {
                return Ok(false);
            }
            let now = Instant::now();
            if self.cursor.poll_moved(&self.conn, self.root, now)? {
                return Ok(false);
            }
            if now >= deadline {
                return Ok(false);
            }
            // Replies read since the top of the loop may have brought events
            // along into x11rb's queue, where poll(2) cannot see them.
            if self.drain_events()? {
                continue;
            }
            let until = deadline
                .min(self.cursor.next_poll())
                .min(self.next_geometry_check);
            self.wait_readable(until.saturating_duration_since(now))?;
        }
    }

    /// Blocks until the X connection has data or `timeout` passes.
    fn wait_readable(&self, timeout: Duration) -> Result<(), CaptureError> {
        let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        });
        let stream = self.conn.stream();
        let mut fds = [PollFd::new(stream, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(CaptureError::SourceLost(format!(
                "waiting on the x server failed: {e}"
            ))),
        }
    }
}

impl Capturer for X11Capturer {
    fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError> {
        let root_size = monitors::root_size(&self.conn, self.root)?;
        self.list_displays(root_size)
    }

    fn select(&mut self, display: DisplayId) -> Result<(), CaptureError> {
        let root_size = monitors::root_size(&self.conn, self.root)?;
        let displays = self.list_displays(root_size)?;
        let area =
            area_of(display, &displays, root_size).ok_or(CaptureError::NoSuchDisplay(display))?;
        self.set_area(display, area)
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError> {
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .unwrap_or(now + Duration::from_secs(86_400));
        if !self.wait_for_change(deadline)? {
            return Ok(None);
        }
        let (width, height) = self.store.size();
        Ok(Some(Frame {
            width,
            height,
            stride: self.store.stride(),
            data: self.store.picture(),
            damage: std::mem::take(&mut self.frame_damage),
            captured_at: self.captured_at,
            display: self.selected,
        }))
    }

    fn invalidate(&mut self) {
        self.full_pending = true;
    }

    fn cursor(&mut self) -> Option<CursorUpdate> {
        // Shape notifications may be queued: learn about them first.
        if let Err(e) = self.drain_events() {
            tracing::debug!("cursor: {e}");
            return None;
        }
        match self.cursor.update(&self.conn, self.root, self.area) {
            Ok(update) => update,
            Err(e) => {
                tracing::debug!("cursor: {e}");
                None
            }
        }
    }
}

/// The whole root window.
fn root_rect(root_size: (u32, u32)) -> Rect {
    Rect::new(0, 0, root_size.0, root_size.1)
}

/// The part of the root window that `id` shows, `None` when `id` is not
/// listed or lies wholly off the screen.
fn area_of(id: DisplayId, displays: &[DisplayInfo], root_size: (u32, u32)) -> Option<Rect> {
    let root = root_rect(root_size);
    let bounds = if id == DisplayId::ALL {
        root
    } else {
        displays.iter().find(|d| d.id == id)?.bounds
    };
    // The root starts at 0,0, so clipping to it keeps root coordinates.
    region::clip_to(bounds, root)
}

/// Fails unless the server has extension `name`.
fn require(
    conn: &RustConnection,
    name: &'static str,
    label: &'static str,
) -> Result<(), CaptureError> {
    match conn.extension_information(name).map_err(lost)? {
        Some(_) => Ok(()),
        None => Err(X11Error::MissingExtension(label).into()),
    }
}

/// Whether RandR 1.5 (with monitors) is there.
fn randr_monitors(conn: &RustConnection) -> Result<bool, CaptureError> {
    if conn
        .extension_information(randr::X11_EXTENSION_NAME)
        .map_err(lost)?
        .is_none()
    {
        return Ok(false);
    }
    let version = conn
        .randr_query_version(1, 5)
        .map_err(lost)?
        .reply()
        .map_err(failed("randr query_version"))?;
    Ok((version.major_version, version.minor_version) >= (1, 5))
}

/// The root window of `screen_num`, after checking its pixels are 32-bit
/// little-endian with red, green and blue in bytes 2, 1, 0 (BGRX).
fn check_format(conn: &RustConnection, screen_num: usize) -> Result<Window, CaptureError> {
    let setup = conn.setup();
    let screen = setup
        .roots
        .get(screen_num)
        .ok_or_else(|| X11Error::Connect(format!("the server has no screen {screen_num}")))?;
    let depth = screen.root_depth;
    let bits_per_pixel = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == depth)
        .map_or(0, |f| f.bits_per_pixel);
    let visual = screen
        .allowed_depths
        .iter()
        .flat_map(|d| d.visuals.iter())
        .find(|v| v.visual_id == screen.root_visual);
    let bgrx = visual
        .is_some_and(|v| (v.red_mask, v.green_mask, v.blue_mask) == (0xff_0000, 0xff00, 0xff));
    if bits_per_pixel != 32
        || !(depth == 24 || depth == 32)
        || !bgrx
        || setup.image_byte_order != ImageOrder::LSB_FIRST
    {
        return Err(X11Error::UnsupportedFormat {
            depth,
            bits_per_pixel,
        }
        .into());
    }
    Ok(screen.root)
}

fn id_failed(e: ReplyOrIdError) -> CaptureError {
    match e {
        ReplyOrIdError::ConnectionError(e) => lost(e),
        other => X11Error::Request {
            request: "generate_id",
            message: other.to_string(),
        }
        .into(),
    }
}
