//! The logging hook: the engine's `tracing` events, passed to a C callback.

use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

use crate::error::{Error, Result};
use crate::guard::{callback_guard, guard};
use crate::result::{RA_RESULT_UNSUPPORTED, RA_RESULT_WRONG_THREAD, ra_result};
use crate::strings::{c_string_lossy, opt_str_arg, str_arg};

/// Nothing is logged.
pub const RA_LOG_OFF: u32 = 0;
/// Errors only.
pub const RA_LOG_ERROR: u32 = 1;
/// Warnings and errors.
pub const RA_LOG_WARN: u32 = 2;
/// Informational messages and above.
pub const RA_LOG_INFO: u32 = 3;
/// Debugging messages and above.
pub const RA_LOG_DEBUG: u32 = 4;
/// Everything.
pub const RA_LOG_TRACE: u32 = 5;

/// Receives one log message: `level` (`RA_LOG_ERROR`…`RA_LOG_TRACE`), the
/// module it came from and the message with its fields (`"capture failed;
/// video paused error=…"`). Both strings are NUL-terminated UTF-8, valid
/// during the call only.
///
/// Called on whichever engine thread logged, possibly several at once; it
/// must be thread-safe, return quickly, and not call blocking `ra_` functions
/// or `ra_set_log_callback` (they fail with `RA_RESULT_WRONG_THREAD` there).
/// Messages logged while it runs on the same thread are dropped.
pub type ra_log_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: u32,
        target: *const c_char,
        message: *const c_char,
    ),
>;

#[derive(Clone, Copy)]
struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, u32, *const c_char, *const c_char),
    user_data: *mut c_void,
}

// SAFETY: `ra_set_log_callback` documents that the callback and its
// `user_data` are used from any thread; the application promised that.
unsafe impl Send for Sink {}
// SAFETY: as above; the library never touches `user_data` itself.
unsafe impl Sync for Sink {}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static MAX_LEVEL: AtomicU32 = AtomicU32::new(RA_LOG_OFF);
static INSTALLED: OnceLock<bool> = OnceLock::new();

thread_local! {
    /// Set while this thread runs the callback, to drop recursive messages.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

fn level_number(level: &Level) -> u32 {
    match *level {
        Level::ERROR => RA_LOG_ERROR,
        Level::WARN => RA_LOG_WARN,
        Level::INFO => RA_LOG_INFO,
        Level::DEBUG => RA_LOG_DEBUG,
        Level::TRACE => RA_LOG_TRACE,
    }
}

/// The `tracing` layer that forwards to the C callback.
struct CallbackLayer;

impl<S: Subscriber> Layer<S> for CallbackLayer {
    fn register_callsite(
        &self,
        _metadata: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        // The level can change at any time, so ask again for every event.
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        level_number(metadata.level()) <= MAX_LEVEL.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if IN_CALLBACK.with(Cell::get) {
            return;
        }
        // Held until the callback returns: `ra_set_log_callback` waits for
        // calls in flight, so once it returns the old `user_data` is unused.
        let held = SINK.read().unwrap_or_else(PoisonError::into_inner);
        let Some(sink) = *held else { return };
        let mut text = MessageText::default();
        event.record(&mut text);
        let metadata = event.metadata();
        // Messages written through `ra_log_message` name their own origin.
        let target = c_string_lossy(text.origin.as_deref().unwrap_or(metadata.target()));
        let message = c_string_lossy(&text.text);
        IN_CALLBACK.with(|flag| flag.set(true));
        // A failure here has nowhere to go but the log itself: ignore it.
        let _ = callback_guard(|| {
            // SAFETY: the application registered `callback` for exactly this
            // call shape; both strings outlive the call.
            unsafe {
                (sink.callback)(
                    sink.user_data,
                    level_number(metadata.level()),
                    target.as_ptr(),
                    message.as_ptr(),
                );
            }
            Ok(())
        });
        IN_CALLBACK.with(|flag| flag.set(false));
        drop(held);
    }
}

/// The field that carries `ra_log_message`'s origin, used as the target.
const ORIGIN_FIELD: &str = "ra_origin";

/// Formats an event as `message key=value …`, keeping the origin apart.
#[derive(Default)]
struct MessageText {
    text: String,
    origin: Option<String>,
}

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        if field.name() == "message" {
            let _ = write!(self.text, "{value:?}");
        } else {
            let _ = write!(self.text, "{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == ORIGIN_FIELD {
            self.origin = Some(value.to_owned());
        } else if field.name() == "message" {
            if !self.text.is_empty() {
                self.text.push(' ');
            }
            self.text.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }
}

/// Makes the callback layer the process's `tracing` subscriber (once).
fn install() -> Result<()> {
    let installed = *INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(CallbackLayer);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    });
    if installed {
        Ok(())
    } else {
        Err(Error::new(
            RA_RESULT_UNSUPPORTED,
            "another tracing subscriber is installed in this process",
        ))
    }
}

/// Sends the library's log messages up to `max_level` (`RA_LOG_*`) to
/// `callback`; a NULL callback or `RA_LOG_OFF` stops logging. Replaces any
/// earlier callback: it waits for calls of the old callback that are
/// running on other threads, so once it returns the old callback is neither
/// running nor called again, and its `user_data` may be freed. See
/// `ra_log_callback` for the threads it runs on.
///
/// `RA_RESULT_UNSUPPORTED` if the process already has another Rust `tracing`
/// subscriber; `RA_RESULT_INVALID_ARGUMENT` for a level above `RA_LOG_TRACE`;
/// `RA_RESULT_WRONG_THREAD` from inside the log callback (it would wait for
/// itself).
///
/// # Safety
/// `callback` (if not NULL) must be callable from any thread with
/// `user_data` until it is replaced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_set_log_callback(
    callback: ra_log_callback,
    user_data: *mut c_void,
    max_level: u32,
) -> ra_result {
    guard(|| {
        if max_level > RA_LOG_TRACE {
            return Err(Error::invalid(format!("unknown log level {max_level}")));
        }
        if IN_CALLBACK.with(Cell::get) {
            return Err(Error::new(
                RA_RESULT_WRONG_THREAD,
                "ra_set_log_callback called from inside the log callback",
            ));
        }
        let sink = callback.map(|callback| Sink {
            callback,
            user_data,
        });
        if sink.is_some() {
            install()?;
        }
        *SINK.write().unwrap_or_else(PoisonError::into_inner) = sink;
        let level = if sink.is_some() {
            max_level
        } else {
            RA_LOG_OFF
        };
        MAX_LEVEL.store(level, Ordering::Relaxed);
        Ok(())
    })
}

/// Writes `message` into the library's log at `level` (`RA_LOG_ERROR`…
/// `RA_LOG_TRACE`), as coming from `origin` (e.g. `"ra.python"`; NULL:
/// `"app"`), which the log callback receives as its `target`. This is how
/// an application's or a binding's own failures — an exception thrown in a
/// callback the library called — reach the same log as the engine's. Does
/// nothing when no callback is set or `level` is above its `max_level`.
///
/// `RA_RESULT_INVALID_ARGUMENT` for `RA_LOG_OFF` or an unknown level,
/// `RA_RESULT_NULL_POINTER` for a NULL `message`, `RA_RESULT_INVALID_UTF8`
/// for strings that are not UTF-8.
///
/// # Safety
/// `origin` (if not NULL) and `message` must be NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_log_message(
    level: u32,
    origin: *const c_char,
    message: *const c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let origin = unsafe { opt_str_arg(origin, "origin") }?.unwrap_or("app");
        // SAFETY: as above.
        let message = unsafe { str_arg(message, "message") }?;
        macro_rules! log_at {
            ($level:expr) => {
                tracing::event!(target: "ra_ffi::app", $level, ra_origin = origin, "{message}")
            };
        }
        match level {
            RA_LOG_ERROR => log_at!(Level::ERROR),
            RA_LOG_WARN => log_at!(Level::WARN),
            RA_LOG_INFO => log_at!(Level::INFO),
            RA_LOG_DEBUG => log_at!(Level::DEBUG),
            RA_LOG_TRACE => log_at!(Level::TRACE),
            other => return Err(Error::invalid(format!("unknown log level {other}"))),
        }
        Ok(())
    })
}
