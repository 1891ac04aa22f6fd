//! [`EventRecorder`]: an X client that records the input it receives, for
//! tests of injectors (this crate's and others').

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ra_core::keys::KeyCode;
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    ConnectionExt as _, CreateWindowAux, EventMask, InputFocus, KeyButMask, Mapping, Window,
    WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::{COPY_DEPTH_FROM_PARENT, COPY_FROM_PARENT, CURRENT_TIME};

use super::connect;
use super::error::{OrX11, X11Error};
use super::worker::Worker;
use crate::keymap;

/// What kind of input event was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A key went down (`detail` is the X keycode).
    KeyPress,
    /// A key went up.
    KeyRelease,
    /// A button went down (`detail` is the X button: 1 left, 2 middle, 3
    /// right, 4/5 wheel up/down, 6/7 wheel left/right, 8/9 back/forward).
    ButtonPress,
    /// A button went up.
    ButtonRelease,
    /// The pointer moved.
    Motion,
}

impl EventKind {
    /// A key press or release.
    pub fn is_key(self) -> bool {
        matches!(self, EventKind::KeyPress | EventKind::KeyRelease)
    }

    /// A button press or release.
    pub fn is_button(self) -> bool {
        matches!(self, EventKind::ButtonPress | EventKind::ButtonRelease)
    }

    /// A key or button press.
    pub fn is_press(self) -> bool {
        matches!(self, EventKind::KeyPress | EventKind::ButtonPress)
    }
}

/// One input event received by the recorder's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Which event.
    pub kind: EventKind,
    /// The X keycode (keys), the button number (buttons), 0 for motion.
    pub detail: u8,
    /// Horizontal position relative to the recorder's window.
    pub x: i16,
    /// Vertical position relative to the recorder's window.
    pub y: i16,
    /// Horizontal position on the root window (the screen).
    pub root_x: i16,
    /// Vertical position on the root window.
    pub root_y: i16,
    /// Modifier and button mask just before the event (X `KeyButMask` bits:
    /// 1 shift, 4 control, 8 mod1, 0x100 button 1, …).
    pub state: u16,
    /// The keysym of a key event, from the core keyboard mapping at the time
    /// the event was handled: the first (unshifted) column, or the second when
    /// Shift is in `state` and that column is not empty.
    pub keysym: Option<u32>,
    /// The X server's timestamp (milliseconds).
    pub server_time: u32,
    /// When the recorder read the event.
    pub received_at: Instant,
}

impl RecordedEvent {
    /// The HID usage of a key event's keycode (see [`crate::keymap`]).
    pub fn usage(&self) -> Option<KeyCode> {
        if self.kind.is_key() {
            keymap::x11_keycode_to_hid(self.detail)
        } else {
            None
        }
    }

    /// The evdev scancode of a key event's keycode (keycode − 8).
    pub fn evdev(&self) -> Option<u16> {
        if self.kind.is_key() {
            u16::from(self.detail).checked_sub(keymap::X11_KEYCODE_OFFSET)
        } else {
            None
        }
    }

    /// The button of a button event.
    pub fn button(&self) -> Option<u8> {
        self.kind.is_button().then_some(self.detail)
    }

    /// The character of [`RecordedEvent::keysym`], for keysyms that stand for
    /// one (Latin-1 and the Unicode keysyms `0x0100_0000 + code point`).
    pub fn keysym_char(&self) -> Option<char> {
        match self.keysym? {
            sym @ (0x20..=0x7e | 0xa0..=0xff) => char::from_u32(sym),
            sym @ 0x0100_0000..=0x0110_ffff => char::from_u32(sym - 0x0100_0000),
            _ => None,
        }
    }
}

/// [`EventRecorder::wait_for`] or [`EventRecorder::wait_until`] gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("waited {waited:?} for {wanted} but the recorder has {} events{}: {events:?}", events.len(), ended.as_ref().map(|r| format!(" (its thread ended: {r})")).unwrap_or_default())]
pub struct RecorderTimeout {
    /// What was awaited.
    pub wanted: String,
    /// How long.
    pub waited: Duration,
    /// The events recorded when the wait ended.
    pub events: Vec<RecordedEvent>,
    /// Why the recorder's thread ended, if it did.
    pub ended: Option<String>,
}

#[derive(Debug, Default)]
struct Log {
    events: Mutex<Vec<RecordedEvent>>,
    /// Signalled on every new event, and when the thread ends.
    grown: Condvar,
}

impl Log {
    fn lock(&self) -> MutexGuard<'_, Vec<RecordedEvent>> {
        // Pushes and clears only: a poisoned lock still holds a valid list.
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A window that records every key, button and motion event it receives.
///
/// It covers the whole screen (or a given rectangle), is mapped
/// override-redirect (no window manager involved), and takes the input focus,
/// so keys injected with XTEST reach it. Events are recorded by a thread of
/// its own; [`EventRecorder::sync`] is a sync point through the X server and
/// [`EventRecorder::wait_for`] / [`EventRecorder::wait_until`] are bounded
/// waits on a condition variable.
///
/// To check that something did *not* arrive: inject, make a round trip on the
/// injecting connection (so the server has processed the injection), then
/// [`EventRecorder::sync`] and look at [`EventRecorder::events`].
#[derive(Debug)]
pub struct EventRecorder {
    worker: Worker,
    window: Window,
    log: Arc<Log>,
}

impl EventRecorder {
    /// A recorder covering the whole default screen of `display` (`None`:
    /// `$DISPLAY`).
    ///
    /// # Errors
    /// [`X11Error::Connect`] when the display cannot be reached, other
    /// variants when the window cannot be set up (e.g. not focusable).
    pub fn start(display: Option<&str>) -> Result<Self, X11Error> {
        EventRecorder::start_inner(display, None)
    }

    /// A recorder whose window is the rectangle `x, y, width × height` of the
    /// root window. Pointer events outside it are not recorded; key events
    /// are (it has the focus).
    ///
    /// # Errors
    /// As [`EventRecorder::start`].
    pub fn with_geometry(
        display: Option<&str>,
        x: i16,
        y: i16,
        width: u16,
        height: u16,
    ) -> Result<Self, X11Error> {
        EventRecorder::start_inner(display, Some((x, y, width, height)))
    }

    fn start_inner(
        display: Option<&str>,
        geometry: Option<(i16, i16, u16, u16)>,
    ) -> Result<Self, X11Error> {
        let (conn, screen) = connect(display)?;
        let root = screen.root;
        let (x, y, width, height) =
            geometry.unwrap_or((0, 0, screen.width_in_pixels, screen.height_in_pixels));
        if width == 0 || height == 0 {
            return Err(X11Error::Setup(
                "the recorder window cannot be empty".into(),
            ));
        }
        let window = conn.generate_id().or_x11()?;
        let events = EventMask::KEY_PRESS
            | EventMask::KEY_RELEASE
            | EventMask::BUTTON_PRESS
            | EventMask::BUTTON_RELEASE
            | EventMask::POINTER_MOTION;
        conn.create_window(
            COPY_DEPTH_FROM_PARENT,
            window,
            root,
            x,
            y,
            width,
            height,
            0,
            WindowClass::INPUT_OUTPUT,
            COPY_FROM_PARENT,
            &CreateWindowAux::new()
                .background_pixel(screen.black_pixel)
                .override_redirect(1)
                .event_mask(events),
        )
        .or_x11()?
        .check()
        .or_x11()?;
        conn.map_window(window).or_x11()?.check().or_x11()?;
        conn.set_input_focus(InputFocus::PARENT, window, CURRENT_TIME)
            .or_x11()?
            .check()
            .or_x11()?;
        let focus = conn.get_input_focus().or_x11()?.reply().or_x11()?.focus;
        if focus != window {
            return Err(X11Error::Setup(format!(
                "the recorder window did not get the focus (0x{focus:x} has it)"
            )));
        }

        let mut keyboard = KeyboardMap::fetch(&conn)?;
        let log = Arc::new(Log::default());
        let handler_log = Arc::clone(&log);
        let end_log = Arc::clone(&log);
        let conn = Arc::new(conn);
        let worker = Worker::spawn(
            Arc::clone(&conn),
            root,
            "ra-x11-recorder",
            Box::new(move |conn, event| {
                if let Event::MappingNotify(notify) = &event
                    && notify.request == Mapping::KEYBOARD
                {
                    // enigo maps characters to spare keycodes while typing
                    // text: look keysyms up in the current mapping.
                    keyboard = KeyboardMap::fetch(conn)?;
                    return Ok(());
                }
                if let Some(recorded) = record(&event, window, &keyboard) {
                    handler_log.lock().push(recorded);
                    handler_log.grown.notify_all();
                }
                Ok(())
            }),
            // Waiters check `ended` under the log's lock: taking it here
            // means none of them misses this wake-up.
            Some(Box::new(move || {
                let _events = end_log.lock();
                end_log.grown.notify_all();
            })),
        )?;
        Ok(EventRecorder {
            worker,
            window,
            log,
        })
    }

    /// The recorder's window.
    pub fn window(&self) -> u32 {
        self.window
    }

    /// Gives the recorder's window the input focus again (after a test moved
    /// it elsewhere).
    ///
    /// # Errors
    /// [`X11Error::Connection`] when the request fails.
    pub fn focus(&self) -> Result<(), X11Error> {
        self.worker
            .conn()
            .set_input_focus(InputFocus::PARENT, self.window, CURRENT_TIME)
            .or_x11()?
            .check()
            .or_x11()
    }

    /// Returns once every event the X server queued for the recorder before
    /// this call has been recorded (a round trip through the server).
    ///
    /// # Errors
    /// [`X11Error::Timeout`] after `timeout`, [`X11Error::Stopped`] if the
    /// recorder's thread has ended.
    pub fn sync(&self, timeout: Duration) -> Result<(), X11Error> {
        self.worker.sync(timeout)
    }

    /// A copy of every event recorded so far, oldest first.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.log.lock().clone()
    }

    /// Takes every event recorded so far, leaving the log empty.
    pub fn take(&self) -> Vec<RecordedEvent> {
        std::mem::take(&mut *self.log.lock())
    }

    /// Forgets every event recorded so far.
    pub fn clear(&self) {
        self.log.lock().clear();
    }

    /// Number of events recorded so far.
    pub fn len(&self) -> usize {
        self.log.lock().len()
    }

    /// Whether nothing was recorded (since the last clear).
    pub fn is_empty(&self) -> bool {
        self.log.lock().is_empty()
    }

    /// Waits until at least `count` events are recorded and returns them all.
    ///
    /// # Errors
    /// [`RecorderTimeout`] with the events so far after `timeout`.
    pub fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedEvent>, RecorderTimeout> {
        self.wait_inner(&format!("{count} events"), timeout, |events| {
            events.len() >= count
        })
    }

    /// Waits until `done` holds for the recorded events and returns them all.
    /// `done` runs under the log's lock: keep it quick.
    ///
    /// # Errors
    /// [`RecorderTimeout`] with the events so far after `timeout`.
    pub fn wait_until(
        &self,
        timeout: Duration,
        done: impl FnMut(&[RecordedEvent]) -> bool,
    ) -> Result<Vec<RecordedEvent>, RecorderTimeout> {
        self.wait_inner("a condition", timeout, done)
    }

    fn wait_inner(
        &self,
        wanted: &str,
        timeout: Duration,
        mut done: impl FnMut(&[RecordedEvent]) -> bool,
    ) -> Result<Vec<RecordedEvent>, RecorderTimeout> {
        let deadline = Instant::now() + timeout;
        let mut events = self.log.lock();
        loop {
            if done(&events) {
                return Ok(events.clone());
            }
            let now = Instant::now();
            // The thread wakes us when it ends (see `start_inner`).
            let ended = self.worker.ended();
            if now >= deadline || ended.is_some() {
                return Err(RecorderTimeout {
                    wanted: wanted.to_owned(),
                    waited: timeout,
                    events: events.clone(),
                    ended,
                });
            }
            events = self
                .log
                .grown
                .wait_timeout(events, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// The core keyboard mapping: keysyms per keycode.
struct KeyboardMap {
    min_keycode: u8,
    per_keycode: usize,
    keysyms: Vec<u32>,
}

impl KeyboardMap {
    fn fetch(conn: &RustConnection) -> Result<Self, X11Error> {
        let setup = conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let count = max.saturating_sub(min).saturating_add(1);
        let reply = conn
            .get_keyboard_mapping(min, count)
            .or_x11()?
            .reply()
            .or_x11()?;
        Ok(KeyboardMap {
            min_keycode: min,
            per_keycode: usize::from(reply.keysyms_per_keycode),
            keysyms: reply.keysyms,
        })
    }

    fn keysym(&self, keycode: u8, state: u16) -> Option<u32> {
        let index = usize::from(keycode.checked_sub(self.min_keycode)?);
        let start = index.checked_mul(self.per_keycode)?;
        let row = self.keysyms.get(start..start + self.per_keycode)?;
        let shifted = state & u16::from(KeyButMask::SHIFT) != 0;
        let pick = |column: usize| row.get(column).copied().filter(|&sym| sym != 0);
        if shifted {
            pick(1).or_else(|| pick(0))
        } else {
            pick(0)
        }
    }
}

/// The recorded form of an input event sent to `window`.
fn record(event: &Event, window: Window, keyboard: &KeyboardMap) -> Option<RecordedEvent> {
    let received_at = Instant::now();
    // Key, button and motion events share one layout in the protocol;
    // x11rb gives key and button events distinct types with the same fields.
    macro_rules! recorded {
        ($e:expr, $kind:expr, $keysym:expr) => {
            ($e.event == window).then(|| RecordedEvent {
                kind: $kind,
                detail: $e.detail.into(),
                x: $e.event_x,
                y: $e.event_y,
                root_x: $e.root_x,
                root_y: $e.root_y,
                state: u16::from($e.state),
                keysym: $keysym,
                server_time: $e.time,
                received_at,
            })
        };
    }
    match event {
        Event::KeyPress(e) => recorded!(
            e,
            EventKind::KeyPress,
            keyboard.keysym(e.detail, u16::from(e.state))
        ),
        Event::KeyRelease(e) => recorded!(
            e,
            EventKind::KeyRelease,
            keyboard.keysym(e.detail, u16::from(e.state))
        ),
        Event::ButtonPress(e) => recorded!(e, EventKind::ButtonPress, None),
        Event::ButtonRelease(e) => recorded!(e, EventKind::ButtonRelease, None),
        Event::MotionNotify(e) => {
            let mut recorded = recorded!(e, EventKind::Motion, None)?;
            // A motion event's detail is the "is hint" flag, not a code.
            recorded.detail = 0;
            Some(recorded)
        }
        _ => None,
    }
}
