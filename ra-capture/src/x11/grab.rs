//! Reading pixels from the root window into the persistent picture: MIT-SHM
//! when the server can share memory with us, plain `GetImage` otherwise.

use ra_core::media::{CaptureError, Rect};
use x11rb::connection::Connection;
use x11rb::errors::ReplyError;
use x11rb::protocol::ErrorKind;
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, Window};

use super::error::{failed, lost};
use super::shm_segment::ShmSegment;

/// All planes.
const PLANES: u32 = !0;

/// Why a grab did not happen.
#[derive(Debug)]
pub(super) enum GrabError {
    /// The server refused the rectangle (it is no longer inside the root
    /// window): re-read the geometry and try again.
    Geometry,
    /// Capture cannot go on.
    Failed(CaptureError),
}

impl From<CaptureError> for GrabError {
    fn from(e: CaptureError) -> Self {
        GrabError::Failed(e)
    }
}

/// Where the picture lives.
#[derive(Debug)]
enum Backing {
    /// A segment shared with the server: the picture (`stride * height`
    /// bytes), then as many bytes of staging for partial grabs.
    Shm { segment: ShmSegment, seg: shm::Seg },
    /// Memory of our own, filled from `GetImage` replies.
    Plain(Vec<u8>),
}

/// The captured display's picture, tightly packed BGRX (stride = 4 × width),
/// kept between frames so partial grabs update it in place.
#[derive(Debug)]
pub(super) struct Store {
    backing: Backing,
    width: u32,
    height: u32,
    /// Whether MIT-SHM may be (re)tried on resize.
    shm_allowed: bool,
}

impl Store {
    /// A picture of `width`×`height`, shared with the server when
    /// `shm_allowed` and the server supports fd passing (MIT-SHM ≥ 1.2).
    pub(super) fn new<C: Connection>(
        conn: &C,
        shm_allowed: bool,
        width: u32,
        height: u32,
    ) -> Result<Self, CaptureError> {
        let mut store = Store {
            backing: Backing::Plain(Vec::new()),
            width: 0,
            height: 0,
            shm_allowed,
        };
        store.resize(conn, width, height)?;
        Ok(store)
    }

    /// Whether the picture is read through MIT-SHM.
    pub(super) fn uses_shm(&self) -> bool {
        matches!(self.backing, Backing::Shm { .. })
    }

    /// The picture size.
    pub(super) fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Bytes per row.
    pub(super) fn stride(&self) -> usize {
        self.width as usize * 4
    }

    /// The picture, `stride * height` bytes.
    pub(super) fn picture(&self) -> &[u8] {
        let len = self.stride() * self.height as usize;
        let bytes = match &self.backing {
            Backing::Shm { segment, .. } => segment.as_slice(),
            Backing::Plain(v) => v.as_slice(),
        };
        bytes.get(..len).unwrap_or(bytes)
    }

    /// Makes the picture `width`×`height` (its content is then undefined
    /// until a full grab). Keeps the memory when the size is unchanged.
    pub(super) fn resize<C: Connection>(
        &mut self,
        conn: &C,
        width: u32,
        height: u32,
    ) -> Result<(), CaptureError> {
        if (width, height) == (self.width, self.height)
            && self.picture().len() == self.stride() * height as usize
        {
            return Ok(());
        }
        self.width = width;
        self.height = height;
        let bytes = self.stride() * height as usize;
        if let Backing::Shm { seg, .. } = self.backing {
            // The server drops its mapping; ours goes with the old segment.
            conn.shm_detach(seg).map_err(lost)?;
        }
        self.backing = Backing::Plain(Vec::new());
        if self.shm_allowed {
            match attach(conn, bytes) {
                Ok(backing) => {
                    self.backing = backing;
                    return Ok(());
                }
                Err(Attach::Lost(e)) => return Err(e),
                Err(Attach::Unavailable(why)) => {
                    tracing::warn!(
                        "mit-shm unavailable ({why}); capturing with plain GetImage (about 10x slower)"
                    );
                    self.shm_allowed = false;
                }
            }
        }
        self.backing = Backing::Plain(vec![0; bytes]);
        Ok(())
    }

    /// Reads the whole picture from `area` (root coordinates, the picture's
    /// size).
    pub(super) fn grab_full<C: Connection>(
        &mut self,
        conn: &C,
        root: Window,
        area: Rect,
    ) -> Result<(), GrabError> {
        let full = Rect::new(0, 0, self.width, self.height);
        self.grab_rects(conn, root, area, &[full])
    }

    /// Reads `rects` (in picture coordinates, inside it) of `area` into the
    /// picture, leaving the rest as it was.
    pub(super) fn grab_rects<C: Connection>(
        &mut self,
        conn: &C,
        root: Window,
        area: Rect,
        rects: &[Rect],
    ) -> Result<(), GrabError> {
        match self.try_grab(conn, root, area, rects) {
            Err(GrabError::Failed(CaptureError::Backend(e))) if self.uses_shm() => {
                // A server that attached the segment but cannot write it (or
                // forgot it): fall back for good rather than fail every frame.
                tracing::warn!(
                    "mit-shm capture failed ({e}); capturing with plain GetImage from now on"
                );
                self.shm_allowed = false;
                let (w, h) = (self.width, self.height);
                self.width = 0;
                self.resize(conn, w, h)?;
                self.try_grab(conn, root, area, rects)
            }
            other => other,
        }
    }

    fn try_grab<C: Connection>(
        &mut self,
        conn: &C,
        root: Window,
        area: Rect,
        rects: &[Rect],
    ) -> Result<(), GrabError> {
        let stride = self.stride();
        let picture_len = stride * self.height as usize;
        let full = [Rect::new(0, 0, self.width, self.height)];
        match &mut self.backing {
            Backing::Shm { segment, seg } => {
                let seg = *seg;
                let staging_needed: usize = rects
                    .iter()
                    .filter(|r| !(r.x == 0 && r.width == self.width))
                    .map(|r| r.width as usize * 4 * r.height as usize)
                    .sum();
                // Overlapping rectangles could need more than the staging
                // half; the whole picture, in place, always fits.
                let rects = if staging_needed > segment.as_slice().len() - picture_len {
                    &full[..]
                } else {
                    rects
                };
                // Full-width bands land in place in the picture; narrower
                // rectangles go to the staging half, packed, and are copied
                // into the picture row by row. All requests are sent before
                // any reply is awaited: one round trip for the whole frame.
                let mut staging = picture_len;
                let mut pending = Vec::with_capacity(rects.len());
                for &r in rects {
                    let bytes = r.width as usize * 4 * r.height as usize;
                    let in_place = r.x == 0 && r.width == self.width;
                    let offset = if in_place {
                        r.y as usize * stride
                    } else {
                        let at = staging;
                        staging += bytes;
                        at
                    };
                    let (x, y, w, h) = to_request(area, r)?;
                    let cookie = conn
                        .shm_get_image(
                            root,
                            x,
                            y,
                            w,
                            h,
                            PLANES,
                            ImageFormat::Z_PIXMAP.into(),
                            seg,
                            to_u32(offset)?,
                        )
                        .map_err(lost)?;
                    pending.push((cookie, r, offset, in_place));
                }
                let mut copies = Vec::new();
                for (cookie, r, offset, in_place) in pending {
                    cookie.reply().map_err(grab_failed("shm get_image"))?;
                    if !in_place {
                        copies.push((r, offset));
                    }
                }
                let bytes = segment.as_mut_slice();
                for (r, offset) in copies {
                    let row = r.width as usize * 4;
                    let (picture, stage) = bytes.split_at_mut(offset);
                    for line in 0..r.height as usize {
                        let dst = (r.y as usize + line) * stride + r.x as usize * 4;
                        picture[dst..dst + row]
                            .copy_from_slice(&stage[line * row..line * row + row]);
                    }
                }
                Ok(())
            }
            Backing::Plain(picture) => {
                let mut pending = Vec::with_capacity(rects.len());
                for &r in rects {
                    let (x, y, w, h) = to_request(area, r)?;
                    let cookie = conn
                        .get_image(ImageFormat::Z_PIXMAP, root, x, y, w, h, PLANES)
                        .map_err(lost)?;
                    pending.push((cookie, r));
                }
                for (cookie, r) in pending {
                    // The raw reply spares x11rb copying the pixels into a
                    // second buffer: they follow the 32-byte reply header.
                    let reply = cookie.raw_reply().map_err(grab_failed("get_image"))?;
                    let row = r.width as usize * 4;
                    let data = reply
                        .as_ref()
                        .get(32..32 + row * r.height as usize)
                        .ok_or_else(|| {
                            GrabError::Failed(CaptureError::Backend("short get_image reply".into()))
                        })?;
                    for (line, src) in data.chunks_exact(row).enumerate() {
                        let dst = (r.y as usize + line) * stride + r.x as usize * 4;
                        picture[dst..dst + row].copy_from_slice(src);
                    }
                }
                Ok(())
            }
        }
    }
}

/// Why a segment could not be attached.
enum Attach {
    /// The connection broke.
    Lost(CaptureError),
    /// The server or this system cannot share memory with us.
    Unavailable(String),
}

/// Creates a segment of twice `picture_bytes` (picture and staging) and
/// attaches it to the server.
fn attach<C: Connection>(conn: &C, picture_bytes: usize) -> Result<Backing, Attach> {
    conn.extension_information(shm::X11_EXTENSION_NAME)
        .map_err(|e| Attach::Lost(lost(e)))?
        .ok_or_else(|| Attach::Unavailable("no MIT-SHM extension".into()))?;
    let reply = conn
        .shm_query_version()
        .map_err(|e| Attach::Lost(lost(e)))?
        .reply()
        .map_err(|e| Attach::Unavailable(format!("query_version: {e}")))?;
    if (reply.major_version, reply.minor_version) < (1, 2) {
        return Err(Attach::Unavailable(format!(
            "server has MIT-SHM {}.{}, fd passing needs 1.2",
            reply.major_version, reply.minor_version
        )));
    }
    let total = picture_bytes
        .checked_mul(2)
        .filter(|&n| u32::try_from(n).is_ok())
        .ok_or_else(|| Attach::Unavailable("picture too large for a segment".into()))?;
    let segment = ShmSegment::new(total).map_err(|e| Attach::Unavailable(format!("memfd: {e}")))?;
    let fd = segment
        .dup_fd()
        .map_err(|e| Attach::Unavailable(format!("dup: {e}")))?;
    let seg = conn
        .generate_id()
        .map_err(|e| Attach::Unavailable(format!("no xid: {e}")))?;
    conn.shm_attach_fd(seg, fd, false)
        .map_err(|e| Attach::Lost(lost(e)))?
        .check()
        .map_err(|e| match e {
            ReplyError::ConnectionError(e) => Attach::Lost(lost(e)),
            ReplyError::X11Error(e) => {
                Attach::Unavailable(format!("attach_fd refused: {:?}", e.error_kind))
            }
        })?;
    Ok(Backing::Shm { segment, seg })
}

/// `r` (picture coordinates) as GetImage arguments in root coordinates.
fn to_request(area: Rect, r: Rect) -> Result<(i16, i16, u16, u16), GrabError> {
    let x = i16::try_from(i64::from(area.x) + i64::from(r.x)).map_err(|_| GrabError::Geometry)?;
    let y = i16::try_from(i64::from(area.y) + i64::from(r.y)).map_err(|_| GrabError::Geometry)?;
    let w = u16::try_from(r.width).map_err(|_| GrabError::Geometry)?;
    let h = u16::try_from(r.height).map_err(|_| GrabError::Geometry)?;
    Ok((x, y, w, h))
}

fn to_u32(n: usize) -> Result<u32, GrabError> {
    u32::try_from(n)
        .map_err(|_| GrabError::Failed(CaptureError::Backend("segment offset overflows".into())))
}

/// A `Match` error means the rectangle left the root window (the screen
/// shrank under us); anything else is a failure.
fn grab_failed(request: &'static str) -> impl Fn(ReplyError) -> GrabError {
    move |e| match e {
        ReplyError::X11Error(ref x) if x.error_kind == ErrorKind::Match => GrabError::Geometry,
        other => GrabError::Failed(failed(request)(other)),
    }
}
