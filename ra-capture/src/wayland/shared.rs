//! What the PipeWire thread hands the capturer: the latest picture, what
//! changed in it, the pointer, and whether the stream ended.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::cursor::CursorState;
use super::damage::Damage;

/// A BGRA picture with rows `4 × width` bytes apart.
#[derive(Debug, Default)]
pub(super) struct Picture {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) data: Vec<u8>,
}

impl Picture {
    /// Bytes from one row to the next.
    pub(super) fn stride(&self) -> usize {
        self.width as usize * 4
    }

    /// The size.
    pub(super) fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Makes it `width` × `height` (contents undefined when it changed);
    /// true when the size changed.
    pub(super) fn resize(&mut self, width: u32, height: u32) -> bool {
        if (width, height) == self.size() {
            return false;
        }
        self.width = width;
        self.height = height;
        self.data.clear();
        self.data.resize(width as usize * height as usize * 4, 0);
        true
    }
}

/// The state both threads see.
#[derive(Debug, Default)]
pub(super) struct State {
    /// The latest picture of the stream.
    pub(super) picture: Picture,
    /// The PipeWire node `picture` came from (0: none yet).
    pub(super) node: u32,
    /// The size negotiated with the stream (may precede the first picture).
    pub(super) format_size: Option<(u32, u32)>,
    /// What changed in `picture` since the capturer last took it.
    pub(super) damage: Damage,
    /// The pointer.
    pub(super) cursor: CursorState,
    /// The pointer changed since `next_frame` last returned early for it.
    pub(super) cursor_signal: bool,
    /// Why the stream cannot go on; set once.
    pub(super) ended: Option<String>,
    /// Pictures received (diagnostics).
    pub(super) pictures: u64,
    /// The stream was restarted and still sent no picture: the capturer
    /// should start over on a new PipeWire connection.
    pub(super) stalled: bool,
}

/// [`State`] behind a lock, with a condition variable the capturer waits on.
#[derive(Debug, Default)]
pub(super) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    /// Locks the state (a panic elsewhere while it was held leaves it usable).
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the capturer.
    pub(super) fn notify(&self) {
        self.changed.notify_all();
    }

    /// Waits up to `timeout` for a [`Shared::notify`].
    pub(super) fn wait<'a>(
        &self,
        guard: MutexGuard<'a, State>,
        timeout: Duration,
    ) -> MutexGuard<'a, State> {
        match self.changed.wait_timeout(guard, timeout) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    /// Tells the capturer the stream stalled (see [`State::stalled`]).
    pub(super) fn stall(&self) {
        self.lock().stalled = true;
        self.notify();
    }

    /// Records why the stream ended (the first reason wins) and wakes the
    /// capturer.
    pub(super) fn end(&self, why: impl Into<String>) {
        let why = why.into();
        {
            let mut state = self.lock();
            if state.ended.is_none() {
                tracing::info!("wayland capture: {why}");
                state.ended = Some(why);
            }
        }
        self.notify();
    }
}
