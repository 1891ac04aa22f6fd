//! [`WaylandCapturer`]: the Wayland backend, frames from the PipeWire
//! streams of a remote-desktop session ([`ra_wayland::RemoteDesktop`]:
//! mutter's own API, or the xdg-desktop-portal).
//!
//! - Pixels: raw 32-bit RGB video (BGRx preferred; RGBx, xRGB, xBGR and the
//!   alpha variants are reordered) in shared-memory buffers the stream maps.
//!   No DMA-BUF: the capturer offers no modifiers, so the compositor renders
//!   into memory (a software-rendering desktop does anyway).
//! - What changed: the buffers' damage metadata (`SPA_META_VideoDamage`);
//!   when a compositor sends none, the picture is compared tile by tile
//!   with the last one. The compositor sends nothing while nothing changes,
//!   so an unchanged screen costs nothing.
//! - The pointer: the cursor metadata (`SPA_META_Cursor`: position and, when
//!   it changes, the shape), apart from the picture; open the session with
//!   `CursorMode::Metadata` for it.
//! - A thread of its own runs the PipeWire loop on the session's PipeWire
//!   connection and keeps the latest picture; `next_frame` copies what
//!   changed from it.

mod cursor;
mod damage;
mod error;
mod params;
mod pixels;
mod shared;
mod stream;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ra_core::media::{
    CaptureError, Capturer, CursorUpdate, DisplayId, DisplayInfo, Frame, Rect, Timestamp,
};
use ra_wayland::{Notify, RemoteDesktop, Stream};

pub use error::WaylandError;

use damage::Damage;
use shared::{Picture, Shared};
use stream::Worker;

/// How often the capturer starts over on a new PipeWire connection for a
/// stream that stalled before it gives up.
const MAX_RESPAWNS: u32 = 3;

/// Moves the pointer a pixel and back through `session`, to get a picture
/// painted (best effort: a session without remote input cannot).
fn nudge(session: &Arc<dyn RemoteDesktop>) -> stream::Nudge {
    let session = Arc::clone(session);
    Box::new(move || {
        for dx in [1.0, -1.0] {
            let _ = session.notify(&Notify::PointerMotionRelative { dx, dy: 0.0 });
        }
    })
}

/// How often a wait looks at whether the session was closed.
const CLOSED_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// A [`Capturer`] of a Wayland desktop through a remote-desktop session (see
/// the [module docs](self)).
///
/// Displays are the session's streams, one per monitor, in its order (the
/// primary first): ids 0, 1, …; [`DisplayId::ALL`] is not offered. It starts
/// on the first.
///
/// Frames are BGRA (for BGRx streams the fourth byte is what the compositor
/// stores there). Each frame's damage lists the rectangles that changed (at
/// most 16, merged when there are more); the first frame, and the first
/// after `select`, `invalidate` or a change of size, is wholly damaged.
///
/// `next_frame` waits on the PipeWire thread without polling; a pointer
/// change ends the wait early with `Ok(None)`, so the caller can send
/// [`Capturer::cursor`] at once. The pointer never causes a video frame.
///
/// When the desktop's monitors change (a new resolution, a rotation, a
/// monitor added or removed), GNOME ends the session's recordings; a session
/// that can open itself again without asking anyone (mutter's API, see
/// [`RemoteDesktop::reopen_after_monitor_change`]) does, and the capturer
/// goes on with its new streams: the same display index (the first if it is
/// gone), the next frame whole at the new size, [`Capturer::displays`] the
/// new layout. Otherwise — the stream ends or fails, the session is closed
/// (by the person at the desk, or a portal session after a monitor change)
/// — it returns [`CaptureError::SourceLost`], then and from then on.
#[derive(Debug)]
pub struct WaylandCapturer {
    session: Arc<dyn RemoteDesktop>,
    streams: Vec<Stream>,
    selected: usize,
    shared: Arc<Shared>,
    worker: Worker,
    /// The picture frames are returned from.
    picture: Picture,
    /// The next frame is the whole picture.
    full_pending: bool,
    frame_damage: Vec<Rect>,
    captured_at: Timestamp,
    /// Times it started over on a new PipeWire connection.
    respawns: u32,
    /// Why the screen is lost for good, once it is.
    lost: Option<String>,
}

impl WaylandCapturer {
    /// Captures the first stream of `session`, on a PipeWire connection the
    /// session opens.
    ///
    /// # Errors
    /// [`CaptureError::SourceLost`] when the session was closed;
    /// [`CaptureError::Backend`] with a [`WaylandError`] when it has no
    /// stream or PipeWire cannot be reached.
    pub fn new(session: Arc<dyn RemoteDesktop>) -> Result<Self, CaptureError> {
        let streams = session.streams();
        let first = streams.first().ok_or(WaylandError::NoStream)?;
        let fd = session.open_pipewire().map_err(WaylandError::Session)?;
        let shared = Arc::new(Shared::default());
        let worker = Worker::start(fd, first.node_id, Arc::clone(&shared), nudge(&session))
            .map_err(WaylandError::PipeWire)?;
        Ok(WaylandCapturer {
            session,
            streams,
            selected: 0,
            shared,
            worker,
            picture: Picture::default(),
            full_pending: true,
            frame_damage: Vec::new(),
            respawns: 0,
            lost: None,
            captured_at: Timestamp::default(),
        })
    }

    /// The display being captured.
    pub fn selected(&self) -> DisplayId {
        DisplayId(self.selected as u32)
    }

    /// The session captured.
    pub fn session(&self) -> &Arc<dyn RemoteDesktop> {
        &self.session
    }

    /// Pictures the stream delivered so far (buffers with only the pointer
    /// are not counted).
    pub fn pictures_received(&self) -> u64 {
        self.shared.lock().pictures
    }

    fn node(&self) -> u32 {
        self.streams[self.selected].node_id
    }

    /// Starts over on a new PipeWire connection: the stream stalled (see
    /// `stream::FIRST_PICTURE_RETRIES`). A few times at most.
    fn respawn(&mut self) -> Result<(), CaptureError> {
        self.respawns += 1;
        if self.respawns > MAX_RESPAWNS {
            return Err(CaptureError::SourceLost(format!(
                "the desktop's stream (node {}) sends no picture",
                self.node()
            )));
        }
        tracing::info!(
            node = self.node(),
            "starting over on a new PipeWire connection"
        );
        self.start_worker()
    }

    /// Connects a new PipeWire thread to the selected stream; the next frame
    /// is whole.
    fn start_worker(&mut self) -> Result<(), CaptureError> {
        let fd = self
            .session
            .open_pipewire()
            .map_err(WaylandError::Session)?;
        let shared = Arc::new(Shared::default());
        let worker = Worker::start(fd, self.node(), Arc::clone(&shared), nudge(&self.session))
            .map_err(WaylandError::PipeWire)?;
        // The old thread stops as its worker is dropped.
        self.worker = worker;
        self.shared = shared;
        self.full_pending = true;
        Ok(())
    }

    /// The stream ended or the session was closed (`why`): goes on with the
    /// session's new streams if the desktop's monitors changed (the session
    /// opens itself again, see
    /// [`RemoteDesktop::reopen_after_monitor_change`]); otherwise the screen
    /// is lost for good.
    fn follow_monitor_change(&mut self, why: String) -> Result<(), CaptureError> {
        let lost = match self.session.reopen_after_monitor_change() {
            Ok(true) => match self.take_new_streams() {
                Ok(()) => return Ok(()),
                Err(e) => e.to_string(),
            },
            // The session's end says more than its stream's.
            Ok(false) => self.closed_error().unwrap_or(why),
            Err(e) => format!(
                "the desktop's monitors changed and the session could not be opened again: {}",
                error_chain(&e)
            ),
        };
        self.lost = Some(lost.clone());
        Err(CaptureError::SourceLost(lost))
    }

    /// Captures the re-opened session's streams: the same display index if
    /// it is still there, else the first.
    fn take_new_streams(&mut self) -> Result<(), CaptureError> {
        let streams = self.session.streams();
        if streams.is_empty() {
            return Err(WaylandError::NoStream.into());
        }
        tracing::info!(
            streams = streams.len(),
            "the desktop's monitors changed: capturing its new streams"
        );
        if self.selected >= streams.len() {
            self.selected = 0;
        }
        self.streams = streams;
        self.respawns = 0;
        self.start_worker()
    }

    /// Whether the session was closed.
    fn closed_error(&self) -> Option<String> {
        self.session
            .is_closed()
            .then(|| "the desktop closed the remote-desktop session".to_owned())
    }

    /// The error for a closed session or a screen lost for good, if so.
    fn check_closed(&self) -> Result<(), CaptureError> {
        match self.lost.clone().or_else(|| self.closed_error()) {
            Some(why) => Err(CaptureError::SourceLost(why)),
            None => Ok(()),
        }
    }

    /// Waits until a picture is there to return (true) or the pointer
    /// changed or `deadline` passed (false), then copies what changed.
    fn wait_and_copy(&mut self, deadline: Instant) -> Result<bool, CaptureError> {
        if let Some(why) = &self.lost {
            return Err(CaptureError::SourceLost(why.clone()));
        }
        let mut state = self.shared.lock();
        loop {
            if state.stalled {
                drop(state);
                self.respawn()?;
                state = self.shared.lock();
                continue;
            }
            if let Some(why) = state.ended.clone().or_else(|| self.closed_error()) {
                drop(state);
                self.follow_monitor_change(why)?;
                state = self.shared.lock();
                continue;
            }
            let ours = state.node == self.node() && state.picture.width > 0;
            if ours && (self.full_pending || !state.damage.is_clean()) {
                break;
            }
            if std::mem::take(&mut state.cursor_signal) {
                return Ok(false);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let wait = (deadline - now).min(CLOSED_CHECK_INTERVAL);
            state = self.shared.wait(state, wait);
        }
        let (width, height) = state.picture.size();
        let whole = self.picture.resize(width, height) || self.full_pending;
        let damage = std::mem::take(&mut state.damage);
        let mut rects = match damage {
            Damage::Rects(rects) if !whole => rects,
            _ => vec![Rect::new(0, 0, width, height)],
        };
        let stride = self.picture.stride();
        for rect in &rects {
            copy_between(&state.picture.data, &mut self.picture.data, stride, *rect);
        }
        drop(state);
        damage::coalesce(&mut rects, damage::MAX_FRAME_RECTS);
        self.full_pending = false;
        self.frame_damage = rects;
        self.captured_at = Timestamp::now();
        Ok(true)
    }
}

/// An error and its causes, one after the other.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        chain.push_str(": ");
        chain.push_str(&next.to_string());
        cause = next.source();
    }
    chain
}

/// Copies `rect` between two pictures of the same size and `stride`.
fn copy_between(from: &[u8], to: &mut [u8], stride: usize, rect: Rect) {
    let (x, width) = (rect.x.max(0) as usize * 4, rect.width as usize * 4);
    let top = rect.y.max(0) as usize;
    for y in top..top + rect.height as usize {
        let start = y * stride + x;
        if let (Some(from), Some(to)) = (
            from.get(start..start + width),
            to.get_mut(start..start + width),
        ) {
            to.copy_from_slice(from);
        }
    }
}

impl Capturer for WaylandCapturer {
    fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError> {
        self.check_closed()?;
        let negotiated = self.shared.lock().format_size;
        Ok(self
            .streams
            .iter()
            .enumerate()
            .map(|(index, stream)| {
                // The selected stream's size as last negotiated (it follows
                // resolution changes); the others' as the session said.
                let (width, height) = match negotiated {
                    Some(size) if index == self.selected => size,
                    _ => (stream.width, stream.height),
                };
                DisplayInfo {
                    id: DisplayId(index as u32),
                    name: format!("monitor {index} (pipewire node {})", stream.node_id),
                    bounds: Rect::new(stream.x, stream.y, width, height),
                    primary: index == 0,
                }
            })
            .collect())
    }

    fn select(&mut self, display: DisplayId) -> Result<(), CaptureError> {
        let index = display.0 as usize;
        if display == DisplayId::ALL || index >= self.streams.len() {
            return Err(CaptureError::NoSuchDisplay(display));
        }
        self.full_pending = true;
        if index == self.selected {
            return Ok(());
        }
        self.check_closed()?;
        self.selected = index;
        {
            let mut state = self.shared.lock();
            state.cursor.reset();
            state.format_size = None;
        }
        self.worker
            .connect(self.node())
            .map_err(CaptureError::SourceLost)
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError> {
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .unwrap_or(now + Duration::from_secs(86_400));
        if !self.wait_and_copy(deadline)? {
            return Ok(None);
        }
        Ok(Some(Frame {
            width: self.picture.width,
            height: self.picture.height,
            stride: self.picture.stride(),
            data: &self.picture.data,
            damage: std::mem::take(&mut self.frame_damage),
            captured_at: self.captured_at,
            display: self.selected(),
        }))
    }

    fn invalidate(&mut self) {
        self.full_pending = true;
    }

    fn cursor(&mut self) -> Option<CursorUpdate> {
        let mut state = self.shared.lock();
        state.cursor_signal = false;
        let size = match state.format_size {
            Some(size) => size,
            None => {
                let stream = &self.streams[self.selected];
                (stream.width, stream.height)
            }
        };
        state.cursor.take_update(size)
    }
}
