//! The host's injection thread: input reaches the injector backend off the
//! async executor, in order, with every `release_all` where the session put it.

use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::input::InputInjector;
use crate::session::Injection;

/// Owns the injector backend on a thread of its own.
pub(crate) struct InjectorThread {
    commands: mpsc::Sender<Injection>,
    _thread: JoinHandle<()>,
}

impl InjectorThread {
    pub(crate) fn spawn(mut injector: Box<dyn InputInjector>) -> std::io::Result<Self> {
        let (commands, receiver) = mpsc::channel::<Injection>();
        let thread = std::thread::Builder::new()
            .name("ra-input-injector".into())
            .spawn(move || {
                for command in receiver {
                    let result = match &command {
                        Injection::Inject(event) => injector.inject(event),
                        Injection::ReleaseAll => injector.release_all(),
                    };
                    if let Err(e) = result {
                        tracing::warn!(error = %e, ?command, "input injection failed");
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
