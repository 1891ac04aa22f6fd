//! Plays a scenario on a thread of its own, paced by the wall clock, and
//! says when it was played (the window every rate is measured over).

use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::oneshot;
use x11rb::connection::Connection as _;

use super::painter::Painter;
use super::scenes::{Scenario, Scene};
use super::{CHANGE_RATE, Res, STEP_TIMEOUT, micros};

/// When the scene was played.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Played {
    /// First change.
    pub(crate) start: Instant,
    /// The same moment on the wall clock (frame timestamps use it).
    pub(crate) start_wall: SystemTime,
    /// After the last change was drawn (and the server had done it).
    end: Instant,
    /// The same moment on the wall clock.
    end_wall: SystemTime,
    /// Changes drawn.
    pub(crate) changes: u64,
}

impl Played {
    /// The window's length in seconds.
    pub(crate) fn seconds(&self) -> f64 {
        (self.end - self.start).as_secs_f64()
    }

    /// Whether a frame captured at `captured_at` (µs) is in the window.
    pub(crate) fn contains_capture(&self, captured_at: u64) -> bool {
        (micros(self.start_wall)..=micros(self.end_wall)).contains(&captured_at)
    }

    /// Whether `at` is in the window.
    pub(crate) fn contains(&self, at: Instant) -> bool {
        at >= self.start && at <= self.end
    }
}

/// A scenario on a thread of its own: set up at once, played on `go`.
/// The thread lives until the driver is dropped, so that its CPU time is
/// still in `/proc` when the run reads it after the scene.
pub(crate) struct Driver {
    /// Starts the changes; dropped, it ends the thread.
    go: std_mpsc::Sender<()>,
    /// Whether `go` was sent.
    started: bool,
    /// The outcome, once played.
    done: Option<oneshot::Receiver<Result<Played, String>>>,
}

impl Driver {
    /// Starts the thread, waits until the scene's first picture is on the screen.
    pub(crate) fn start(display: &str, scenario: Scenario, duration: Duration) -> Res<Driver> {
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
    pub(crate) fn go(&mut self) {
        if !std::mem::replace(&mut self.started, true) {
            let _ = self.go.send(());
        }
    }

    /// Waits until the scene has been played.
    pub(crate) async fn finished(&mut self) -> Res<Played> {
        let done = self.done.take().ok_or("scenario already waited for")?;
        match done.await {
            Ok(Ok(played)) => Ok(played),
            Ok(Err(e)) => Err(format!("scenario: {e}").into()),
            Err(_) => Err("the scenario thread stopped".into()),
        }
    }

    /// Whether the scene has been played (then its outcome), without waiting.
    pub(crate) fn try_finished(&mut self) -> Option<Res<Played>> {
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
