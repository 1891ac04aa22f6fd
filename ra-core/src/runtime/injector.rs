//! The host's injection thread: input reaches the injector backend off the
//! async executor, in order, with every `release_all` where the session put it.
//!
//! When the backend falls behind, consecutive pointer moves waiting in the
//! queue are merged (absolute: the last one wins; relative: summed), so a
//! burst of motion never delays the click or key behind it. Clicks, keys,
//! wheel, text and releases are never merged, dropped or reordered.

use std::sync::mpsc;
use std::thread::JoinHandle;

use super::stats::StatsRecorder;
use crate::input::{InputEvent, InputInjector};
use crate::session::Injection;

/// Owns the injector backend on a thread of its own.
pub(crate) struct InjectorThread {
    commands: mpsc::Sender<Injection>,
    _thread: JoinHandle<()>,
}

impl InjectorThread {
    /// Starts the thread; each event injected is counted in `stats`.
    pub(crate) fn spawn(
        mut injector: Box<dyn InputInjector>,
        stats: StatsRecorder,
    ) -> std::io::Result<Self> {
        let (commands, receiver) = mpsc::channel::<Injection>();
        let thread = std::thread::Builder::new()
            .name("ra-input-injector".into())
            .spawn(move || {
                let mut batch = Vec::new();
                while let Ok(first) = receiver.recv() {
                    batch.push(first);
                    batch.extend(receiver.try_iter());
                    for command in coalesce_motion(batch.drain(..)) {
                        let result = match &command {
                            Injection::Inject(event) => {
                                stats.input_injecting();
                                injector.inject(event).inspect_err(|_| {
                                    stats.input_injection_failed();
                                })
                            }
                            Injection::ReleaseAll => injector.release_all(),
                        };
                        if let Err(e) = result {
                            tracing::warn!(error = %e, ?command, "input injection failed");
                        }
                    }
                }
                // The session is gone: leave nothing pressed.
                if let Err(e) = injector.release_all() {
                    tracing::warn!(error = %e, "final release failed");
                }
            })?;
        Ok(InjectorThread {
            commands,
            _thread: thread,
        })
    }

    pub(crate) fn submit(&self, injection: Injection) {
        if self.commands.send(injection).is_err() {
            tracing::warn!("input injector thread has stopped");
        }
    }
}

/// Merges runs of pointer moves of the same kind; everything else passes in order.
fn coalesce_motion(commands: impl Iterator<Item = Injection>) -> Vec<Injection> {
    let mut out: Vec<Injection> = Vec::new();
    for command in commands {
        match (&command, out.last_mut()) {
            (
                Injection::Inject(InputEvent::PointerMove { .. }),
                Some(last @ Injection::Inject(InputEvent::PointerMove { .. })),
            ) => *last = command,
            (
                Injection::Inject(InputEvent::PointerMoveRelative { dx, dy }),
                Some(Injection::Inject(InputEvent::PointerMoveRelative { dx: sx, dy: sy })),
            ) => {
                *sx = sx.saturating_add(*dx);
                *sy = sy.saturating_add(*dy);
            }
            _ => out.push(command),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::MouseButton;

    fn moved(x: i32) -> Injection {
        Injection::Inject(InputEvent::PointerMove { x, y: 0 })
    }

    #[test]
    fn motion_merges_but_nothing_else_moves() {
        let click = Injection::Inject(InputEvent::Button {
            button: MouseButton::Left,
            pressed: true,
        });
        let relative = |dx| Injection::Inject(InputEvent::PointerMoveRelative { dx, dy: 1 });
        let input = vec![
            moved(1),
            moved(2),
            moved(3),
            click.clone(),
            moved(4),
            relative(2),
            relative(3),
            Injection::ReleaseAll,
            moved(5),
        ];
        assert_eq!(
            coalesce_motion(input.into_iter()),
            vec![
                moved(3),
                click,
                moved(4),
                Injection::Inject(InputEvent::PointerMoveRelative { dx: 5, dy: 2 }),
                Injection::ReleaseAll,
                moved(5),
            ]
        );
    }
}
