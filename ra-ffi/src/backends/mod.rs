//! Host backends: the built-in ones by name (the real X11 screen and input,
//! the synthetic pattern, the log and null injectors), and ones written in C as tables
//! of callbacks (`ra_capturer_callbacks`, `ra_encoder_callbacks`,
//! `ra_injector_callbacks`), and the host's desk (`desk`), collected in an
//! `ra_host_backends` builder.
//!
//! Ownership of a C backend: once a `ra_host_backends_set_*` call succeeds,
//! the library owns the table and calls its `destroy(user_data)` exactly
//! once: when the engine drops the backend (the host session ended), when
//! the builder is freed without being used, or when the backend is replaced.
//! If the call fails, the caller keeps ownership and `destroy` is not called.
//!
//! Threads: the capturer's and the encoder's callbacks run on the engine's
//! capture thread, the injector's on its injection thread, `destroy` on
//! whichever thread drops the backend (an engine thread, or the caller of
//! `ra_host_backends_free`). A backend's callbacks are never called
//! concurrently with each other.

mod callbacks;
mod capturer;
mod desk;
mod encoder;
mod injector;
mod wayland;

use std::ffi::c_char;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ra_capture::x11::{X11Capturer, X11WindowLocator};
use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::OpenH264Encoder;
use ra_core::desk::HostDesk;
use ra_core::input::InputInjector;
use ra_core::media::{Capturer, Encoder, WindowLocator};
use ra_core::runtime::HostBackends;
use ra_input::wayland::{WaylandInjector, wayland_desk};
use ra_input::{EnigoInjector, LogInjector, NullInjector};
use ra_wayland::Api;

pub use capturer::ra_capturer_callbacks;
pub use desk::{
    ra_host_backends_set_local_user_wins_ms, ra_host_backends_set_panic_key,
    ra_host_backends_use_system_clipboard,
};
pub use encoder::{ra_encoded_frame, ra_encoder_callbacks};
pub use injector::ra_injector_callbacks;
pub use wayland::{RA_WAYLAND_API_MUTTER, RA_WAYLAND_API_PORTAL, ra_host_backends_set_wayland_api};

use crate::error::{Error, Result};
use crate::events::HostItem;
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::queue::EventQueue;
use crate::result::{RA_RESULT_BACKEND, RA_RESULT_INVALID_STATE, ra_result};
use crate::strings::opt_str_arg;

/// Counts a host's C backends that still exist, so `ra_host_free` can wait
/// until none of their callbacks can run any more (the engine drops them on
/// its own threads, shortly after the session shuts down).
#[derive(Default)]
pub(crate) struct Liveness {
    count: Mutex<usize>,
    changed: Condvar,
    /// Whether the capturer is written in C: it reports its own failures
    /// (with the callback's result code), so the engine's report of the
    /// same failure is not passed on a second time.
    c_capturer: AtomicBool,
}

impl Liveness {
    /// Whether the host's capturer is written in C.
    pub(crate) fn has_c_capturer(&self) -> bool {
        self.c_capturer.load(Ordering::Relaxed)
    }

    /// Waits until every C backend was dropped (its `destroy` called), up to
    /// `timeout`; false if some are still alive.
    pub(crate) fn wait_none(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        while *count > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            count = self
                .changed
                .wait_timeout(count, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

/// Held by each C backend; dropped after its `destroy` ran.
pub(crate) struct AliveToken(Arc<Liveness>);

impl AliveToken {
    fn new(liveness: &Arc<Liveness>) -> Self {
        *liveness
            .count
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        AliveToken(liveness.clone())
    }
}

impl Drop for AliveToken {
    fn drop(&mut self) {
        let mut count = self.0.count.lock().unwrap_or_else(PoisonError::into_inner);
        *count = count.saturating_sub(1);
        self.0.changed.notify_all();
    }
}

/// Where C backends report failures (the host's event queue, as
/// `RA_HOST_EVENT_BACKEND_ERROR` events) and register as alive.
#[derive(Clone)]
pub(crate) struct BackendSink {
    queue: Arc<EventQueue<HostItem>>,
    liveness: Arc<Liveness>,
}

impl BackendSink {
    pub(crate) fn new(queue: Arc<EventQueue<HostItem>>) -> Self {
        BackendSink {
            queue,
            liveness: Arc::default(),
        }
    }

    /// What `ra_host_free` waits on.
    pub(crate) fn liveness(&self) -> Arc<Liveness> {
        self.liveness.clone()
    }

    /// A token for one more live C backend.
    pub(crate) fn token(&self) -> AliveToken {
        AliveToken::new(&self.liveness)
    }

    pub(crate) fn report(&self, backend: u32, error: Error) {
        tracing::warn!(backend, code = error.code, detail = %error.detail, "C backend failed");
        self.queue.push(HostItem::Backend { backend, error });
    }
}

enum CapturerChoice {
    Synthetic(SyntheticConfig),
    /// The real screen of this X display (`None`: `$DISPLAY`).
    Screen(Option<String>),
    Callbacks(capturer::CapturerCallbacks),
}

enum EncoderChoice {
    OpenH264,
    Callbacks(encoder::EncoderCallbacks),
}

enum InjectorChoice {
    Null,
    Log,
    /// Real input on this X display (`None`: `$DISPLAY`).
    System(Option<String>),
    Callbacks(injector::InjectorCallbacks),
}

/// The host's backends (opaque builder; `ra_host_backends_new`,
/// `ra_host_backends_free`). Defaults: the synthetic test pattern at
/// 1280×720, 30 fps; the OpenH264 encoder; the null injector (input is
/// dropped). `ra_host_invite` moves the backends into the host; the builder
/// must still be freed, and cannot be used for a second invitation.
///
/// Thread-safety: use from one thread at a time.
pub struct ra_host_backends {
    capturer: CapturerChoice,
    encoder: EncoderChoice,
    injector: InjectorChoice,
    /// The panic key, local input and clipboard (none by default).
    desk: HostDesk,
    /// Whether the panic key and the local-input watcher were asked for on
    /// the session's own display (left out on a Wayland desktop, where
    /// they cannot work).
    panic_key_on_own_display: bool,
    local_input_on_own_display: bool,
    /// How a session on a Wayland desktop is opened.
    wayland_api: Api,
    used: bool,
}

impl Handle for ra_host_backends {
    const NAME: &'static str = "ra_host_backends";
}

impl Default for ra_host_backends {
    fn default() -> Self {
        ra_host_backends {
            capturer: CapturerChoice::Synthetic(SyntheticConfig::default()),
            encoder: EncoderChoice::OpenH264,
            injector: InjectorChoice::Null,
            desk: HostDesk::default(),
            panic_key_on_own_display: false,
            local_input_on_own_display: false,
            wayland_api: Api::Portal,
            used: false,
        }
    }
}

impl ra_host_backends {
    /// Builds the backends for a host whose failures go to `sink`, leaving the
    /// builder used up.
    pub(crate) fn take(&mut self, sink: &BackendSink) -> Result<HostBackends> {
        if self.used {
            return Err(Error::new(
                RA_RESULT_INVALID_STATE,
                "these backends were already used for an invitation",
            ));
        }
        let taken = std::mem::take(self);
        self.used = true;
        // The session's own display on a Wayland desktop: one session for
        // the capturer and the injector.
        let own_screen = matches!(taken.capturer, CapturerChoice::Screen(None));
        let own_input = matches!(taken.injector, InjectorChoice::System(None));
        let desktop = if (own_screen || own_input) && wayland::session_is_wayland() {
            Some(wayland::open_session(taken.wayland_api)?)
        } else {
            None
        };
        // The real X11 screen can find windows for the redaction mask.
        let x11_screen = match &taken.capturer {
            CapturerChoice::Screen(display) if desktop.is_none() => Some(display.clone()),
            _ => None,
        };
        let capturer: Box<dyn Capturer> = match taken.capturer {
            CapturerChoice::Synthetic(config) => Box::new(SyntheticCapturer::new(config)),
            CapturerChoice::Screen(None) if let Some(session) = &desktop => {
                Box::new(wayland::capturer(session)?)
            }
            CapturerChoice::Screen(display) => Box::new(screen_capturer(display.as_deref())?),
            CapturerChoice::Callbacks(c) => {
                sink.liveness.c_capturer.store(true, Ordering::Relaxed);
                Box::new(capturer::CCapturer::new(c, sink.clone()))
            }
        };
        let encoder: Box<dyn Encoder> = match taken.encoder {
            EncoderChoice::OpenH264 => Box::new(OpenH264Encoder::default()),
            EncoderChoice::Callbacks(c) => Box::new(encoder::CEncoder::new(c, sink.clone())),
        };
        let injector: Box<dyn InputInjector> = match taken.injector {
            InjectorChoice::Null => Box::new(NullInjector::new()),
            InjectorChoice::Log => Box::new(LogInjector::stdout()),
            InjectorChoice::System(None) if let Some(session) = &desktop => {
                Box::new(WaylandInjector::new(Arc::clone(session)))
            }
            InjectorChoice::System(display) => Box::new(system_injector(display.as_deref())?),
            InjectorChoice::Callbacks(c) => Box::new(injector::CInjector::new(c, sink.clone())),
        };
        let mut desk = taken.desk;
        if let Some(session) = &desktop {
            // No application may watch a Wayland desktop's keyboard and
            // pointer: what was asked for is left out, and said.
            let mut left_out = false;
            if taken.panic_key_on_own_display {
                left_out |= desk.panic_key.take().is_some();
            }
            if taken.local_input_on_own_display {
                left_out |= desk.local_input.take().is_some();
            }
            let wayland_desk = wayland_desk(session.as_ref(), own_input || left_out);
            desk.limitation = wayland_desk.limitation;
            desk.desktop_consent = wayland_desk.desktop_consent;
        }
        let mut backends = HostBackends::new(capturer, encoder, injector);
        backends.desk = desk;
        if let Some(display) = x11_screen {
            backends.window_locator = X11WindowLocator::connect(display.as_deref())
                .ok()
                .map(|locator| Box::new(locator) as Box<dyn WindowLocator>);
        }
        Ok(backends)
    }
}

/// The X11 screen of `display`, or why not.
fn screen_capturer(display: Option<&str>) -> Result<X11Capturer> {
    X11Capturer::connect(display).map_err(|e| {
        Error::new(
            RA_RESULT_BACKEND,
            format!(
                "cannot capture the screen of {}: {e}",
                display.unwrap_or("$DISPLAY")
            ),
        )
    })
}

/// Real input on the X display `display`, or why not.
fn system_injector(display: Option<&str>) -> Result<EnigoInjector> {
    EnigoInjector::new(display).map_err(|e| {
        Error::new(
            RA_RESULT_BACKEND,
            format!(
                "cannot inject input on {}: {e}",
                display.unwrap_or("$DISPLAY")
            ),
        )
    })
}

/// New backends with the defaults, written to `out`.
///
/// # Safety
/// `out` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_new(out: *mut *mut ra_host_backends) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(handle::into_raw(ra_host_backends::default())) };
        Ok(())
    })
}

/// Runs `change` on an unused builder.
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread.
unsafe fn with_backends(
    backends: *mut ra_host_backends,
    change: impl FnOnce(&mut ra_host_backends) -> Result<()>,
) -> ra_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let backends = unsafe { handle::borrow_mut(backends, "backends") }?;
        if backends.used {
            return Err(Error::new(
                RA_RESULT_INVALID_STATE,
                "these backends were already used for an invitation",
            ));
        }
        change(backends)
    })
}

/// Captures the built-in synthetic test pattern: two fake displays of
/// `width`×`height` (16–8192) at `frame_rate` frames per second (0.01–1000).
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_use_synthetic_capturer(
    backends: *mut ra_host_backends,
    width: u32,
    height: u32,
    frame_rate: f64,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            if !(16..=SyntheticConfig::MAX_SIDE).contains(&width)
                || !(16..=SyntheticConfig::MAX_SIDE).contains(&height)
            {
                return Err(Error::invalid(format!(
                    "synthetic size {width}x{height}: sides must be 16 to 8192"
                )));
            }
            if !(0.01..=1000.0).contains(&frame_rate) {
                return Err(Error::invalid(format!(
                    "frame rate {frame_rate}: must be 0.01 to 1000"
                )));
            }
            // Fields ra-capture adds later keep their defaults.
            #[allow(clippy::needless_update)]
            let config = SyntheticConfig {
                width,
                height,
                frame_rate,
                ..SyntheticConfig::default()
            };
            b.capturer = CapturerChoice::Synthetic(config);
            Ok(())
        })
    }
}

/// Captures the real screen: the X display `display` with MIT-SHM and
/// XDamage, or with `display` NULL the session's own — on a Wayland desktop
/// (a compositor socket in `$XDG_RUNTIME_DIR`) its PipeWire streams, through
/// a remote-desktop session opened as `ra_host_backends_set_wayland_api`
/// says and shared with `ra_host_backends_use_system_injector`; otherwise
/// `$DISPLAY`. An unchanged screen costs nothing, the pointer travels apart.
/// Every monitor can be shared; which one is the helper's choice
/// (`ra_helper_select_display`). The screen is opened when the session
/// starts: one that cannot be used (none, not X11, no XDamage; on Wayland no
/// remote-desktop service, no PipeWire, or the person at the desk refused)
/// makes `ra_host_invite` (or the code flows) fail with `RA_RESULT_BACKEND`
/// and a message that says why.
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread; `display` is NULL
/// or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_use_screen_capturer(
    backends: *mut ra_host_backends,
    display: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            // SAFETY: forwarded contract.
            let display = opt_str_arg(display, "display")?;
            b.capturer = CapturerChoice::Screen(display.map(str::to_owned));
            Ok(())
        })
    }
}

/// Captures with callbacks written in C (see `ra_capturer_callbacks`). The
/// table is copied; on success the library owns `user_data` (see the
/// ownership rules above). `RA_RESULT_INVALID_ARGUMENT` without `next_frame`.
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread; `callbacks` is
/// NULL or readable, and its functions follow `ra_capturer_callbacks`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_set_capturer(
    backends: *mut ra_host_backends,
    callbacks: *const ra_capturer_callbacks,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            // SAFETY: forwarded contract.
            let table = capturer::CapturerCallbacks::from_c(callbacks)?;
            b.capturer = CapturerChoice::Callbacks(table);
            Ok(())
        })
    }
}

/// Encodes with the built-in OpenH264 encoder (the default).
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_use_openh264_encoder(
    backends: *mut ra_host_backends,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            b.encoder = EncoderChoice::OpenH264;
            Ok(())
        })
    }
}

/// Encodes with callbacks written in C (see `ra_encoder_callbacks`); the
/// helper decodes with OpenH264, so the encoder must produce H.264 Annex B.
/// Ownership as for `ra_host_backends_set_capturer`.
///
/// # Safety
/// As `ra_host_backends_set_capturer`, for `ra_encoder_callbacks`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_set_encoder(
    backends: *mut ra_host_backends,
    callbacks: *const ra_encoder_callbacks,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            // SAFETY: forwarded contract.
            let table = encoder::EncoderCallbacks::from_c(callbacks)?;
            b.encoder = EncoderChoice::Callbacks(table);
            Ok(())
        })
    }
}

/// Drops the helper's input (the default).
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_use_null_injector(
    backends: *mut ra_host_backends,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            b.injector = InjectorChoice::Null;
            Ok(())
        })
    }
}

/// Prints the helper's input to standard output, one JSON object per line,
/// instead of injecting it.
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_use_log_injector(
    backends: *mut ra_host_backends,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            b.injector = InjectorChoice::Log;
            Ok(())
        })
    }
}

/// Injects the helper's input for real: into the X display `display`
/// through XTEST, or with `display` NULL into the session's own — on a
/// Wayland desktop through the remote-desktop session shared with
/// `ra_host_backends_use_screen_capturer` (see
/// `ra_host_backends_set_wayland_api`), otherwise `$DISPLAY`. Pointer
/// (absolute positions mapped onto the shared monitor), buttons, wheel, keys
/// by physical position, text; everything the helper holds is released on
/// every revoke. Only ever under a control grant. On a Wayland desktop the
/// session starts with `RA_HOST_EVENT_DESK_LIMITED`: no panic key and no
/// "local user wins" there. A display that cannot be used makes
/// `ra_host_invite` fail with `RA_RESULT_BACKEND`.
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread; `display` is NULL
/// or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_use_system_injector(
    backends: *mut ra_host_backends,
    display: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            // SAFETY: forwarded contract.
            let display = opt_str_arg(display, "display")?;
            b.injector = InjectorChoice::System(display.map(str::to_owned));
            Ok(())
        })
    }
}

/// Injects with callbacks written in C (see `ra_injector_callbacks`).
/// Ownership as for `ra_host_backends_set_capturer`.
/// `RA_RESULT_INVALID_ARGUMENT` without `inject`.
///
/// # Safety
/// As `ra_host_backends_set_capturer`, for `ra_injector_callbacks`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_set_injector(
    backends: *mut ra_host_backends,
    callbacks: *const ra_injector_callbacks,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            // SAFETY: forwarded contract.
            let table = injector::InjectorCallbacks::from_c(callbacks)?;
            b.injector = InjectorChoice::Callbacks(table);
            Ok(())
        })
    }
}

/// Frees a backends builder (calling `destroy` of C backends it still holds).
/// NULL is a no-op.
///
/// # Safety
/// `backends` is NULL or a handle no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_free(backends: *mut ra_host_backends) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(backends, "backends") })
}
