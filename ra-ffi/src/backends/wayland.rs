//! The real screen and input on a Wayland desktop: when the real-screen
//! backends are asked for the session's own display and the session is
//! Wayland, one remote-desktop session (the portal, whose dialog asks the
//! person at the desk, or mutter's API) is opened for the capturer and the
//! injector together, so that the helper's positions land on the picture it
//! sees.

use std::sync::Arc;

use ra_capture::wayland::WaylandCapturer;
use ra_wayland::mutter::CursorMode;
use ra_wayland::{Api, RemoteDesktop, WaylandEnv};

use super::{ra_host_backends, with_backends};
use crate::error::{Error, Result};
use crate::result::{RA_RESULT_BACKEND, ra_result};

/// Opens the session through the xdg-desktop-portal: the desktop's own
/// dialog asks the person at the desk (the default).
pub const RA_WAYLAND_API_PORTAL: u32 = 1;
/// Opens the session directly on mutter's D-Bus API (GNOME): no dialog, for
/// privileged deployments and tests.
pub const RA_WAYLAND_API_MUTTER: u32 = 2;

/// Whether the process runs in a Wayland session (a compositor socket in
/// `$XDG_RUNTIME_DIR`), where the real-screen backends for the session's own
/// display use Wayland.
pub(super) fn session_is_wayland() -> bool {
    WaylandEnv::from_env().is_wayland()
}

/// Opens the session both Wayland backends share.
pub(super) fn open_session(api: Api) -> Result<Arc<dyn RemoteDesktop>> {
    ra_wayland::open_session(api, WaylandEnv::from_env(), CursorMode::Metadata).map_err(|e| {
        Error::new(
            RA_RESULT_BACKEND,
            format!(
                "cannot open a Wayland remote-desktop session through {}: {e}",
                api.name()
            ),
        )
    })
}

/// A capturer of the session's streams, or why not.
pub(super) fn capturer(session: &Arc<dyn RemoteDesktop>) -> Result<WaylandCapturer> {
    WaylandCapturer::new(Arc::clone(session)).map_err(|e| {
        Error::new(
            RA_RESULT_BACKEND,
            format!("cannot capture the Wayland desktop: {e}"),
        )
    })
}

/// Chooses how the real-screen backends open a session on a Wayland desktop
/// (`ra_host_backends_use_screen_capturer`,
/// `ra_host_backends_use_system_injector` with a NULL display):
/// `RA_WAYLAND_API_PORTAL` (the default: `ra_host_invite`, or the code
/// flows, wait while the desktop's dialog asks the person at the desk, and
/// the answer goes into the audit log) or `RA_WAYLAND_API_MUTTER` (GNOME's
/// own API, no dialog; only a privileged component of the desktop may use
/// it). Outside a Wayland session it changes nothing.
/// `RA_RESULT_INVALID_ARGUMENT` for another number.
///
/// # Safety
/// `backends` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_backends_set_wayland_api(
    backends: *mut ra_host_backends,
    api: u32,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_backends(backends, |b| {
            b.wayland_api = match api {
                RA_WAYLAND_API_PORTAL => Api::Portal,
                RA_WAYLAND_API_MUTTER => Api::Mutter,
                other => {
                    return Err(Error::invalid(format!(
                        "wayland api {other}: must be RA_WAYLAND_API_PORTAL (1) or \
                         RA_WAYLAND_API_MUTTER (2)"
                    )));
                }
            };
            Ok(())
        })
    }
}
