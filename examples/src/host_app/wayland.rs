//! The host on a Wayland desktop: one remote-desktop session (the portal,
//! whose dialog asks the person at the desk, or mutter's API) that the
//! capturer and the injector share, so that the helper's positions land on
//! the picture it sees. The desk (no panic key there, said as an event; the
//! desktop's consent, recorded in the audit log) is the library's
//! ([`ra_input::wayland::wayland_desk`]).

use std::sync::Arc;

use ra_capture::wayland::WaylandCapturer;
use ra_core::desk::HostDesk;
use ra_core::input::InputInjector;
use ra_core::media::Capturer;
use ra_input::wayland::{WaylandInjector, wayland_desk};
use ra_wayland::mutter::CursorMode;
use ra_wayland::{Api, RemoteDesktop, WaylandEnv, open_session};
use serde_json::json;

use super::args::{CaptureKind, HostArgs, InjectKind, WaylandApi};
use super::setup::Failure;
use crate::output::Output;

/// Whether `args` share or control a Wayland desktop: `--capture wayland`,
/// or `--capture screen` / `--inject system` without `--display` on a
/// desktop whose session is Wayland.
pub(super) fn uses_wayland(args: &HostArgs) -> bool {
    match args.capture {
        CaptureKind::Wayland => true,
        _ if args.display.is_some() => false,
        CaptureKind::Screen => WaylandEnv::from_env().is_wayland(),
        _ => args.inject == InjectKind::System && WaylandEnv::from_env().is_wayland(),
    }
}

/// The session both backends use, opened once.
pub(super) struct WaylandDesktop {
    session: Arc<dyn RemoteDesktop>,
}

impl WaylandDesktop {
    /// Opens the session the `--wayland-api` asks for; with the portal this
    /// waits for the person at the desk to answer the desktop's dialog.
    ///
    /// # Errors
    /// Exit code 1 and a message saying what is missing or who refused.
    pub(super) fn open(args: &HostArgs, output: Output) -> Result<Self, Failure> {
        let api = match args.wayland_api {
            WaylandApi::Mutter => Api::Mutter,
            WaylandApi::Portal => Api::Portal,
        };
        if api == Api::Portal {
            output.event("desktop_consent_asked", json!({"api": "portal"}), || {
                "the desktop asks the person at the desk to allow sharing".into()
            });
        }
        let session =
            open_session(api, WaylandEnv::from_env(), CursorMode::Metadata).map_err(|e| {
                (
                    1,
                    format!("cannot open a Wayland remote-desktop session: {e}"),
                )
            })?;
        if let Some(consent) = session.desk_consent() {
            let input = consent.input_allowed;
            output.event(
                "desktop_consent_given",
                json!({"api": api.name(), "streams": consent.monitors, "input_allowed": input}),
                || {
                    format!(
                        "the desktop allowed sharing (remote input: {})",
                        if input { "yes" } else { "no" }
                    )
                },
            );
        }
        Ok(WaylandDesktop { session })
    }

    /// A capturer of the session's streams.
    ///
    /// # Errors
    /// Exit code 1 when PipeWire cannot be reached.
    pub(super) fn capturer(&self) -> Result<Box<dyn Capturer>, Failure> {
        let capturer = WaylandCapturer::new(Arc::clone(&self.session))
            .map_err(|e| (1, format!("cannot capture the Wayland desktop: {e}")))?;
        Ok(Box::new(capturer))
    }

    /// An injector into the session.
    pub(super) fn injector(&self) -> Box<dyn InputInjector> {
        Box::new(WaylandInjector::new(Arc::clone(&self.session)))
    }

    /// The host's desk here: the limitation is told (as `desk_limited`)
    /// when `--inject system` gives the helper control.
    pub(super) fn desk(&self, args: &HostArgs) -> HostDesk {
        wayland_desk(self.session.as_ref(), args.inject == InjectKind::System)
    }
}
