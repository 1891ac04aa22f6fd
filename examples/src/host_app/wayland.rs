//! The host on a Wayland desktop: one remote-desktop session (the portal,
//! whose dialog asks the person at the desk, or mutter's API) that the
//! capturer and the injector share, so that the helper's positions land on
//! the picture it sees.

use std::sync::Arc;

use ra_capture::wayland::WaylandCapturer;
use ra_core::input::InputInjector;
use ra_core::media::Capturer;
use ra_input::wayland::WaylandInjector;
use ra_wayland::mutter::{CursorMode, MutterOptions, MutterSession};
use ra_wayland::portal::{PortalOptions, PortalSession};
use ra_wayland::{Api, RemoteDesktop, SessionError, WaylandEnv};
use serde_json::json;

use super::args::{CaptureKind, HostArgs, InjectKind, WaylandApi};
use super::setup::Failure;
use crate::output::Output;

/// Why the panic key and "the local user wins" are missing on Wayland.
pub(super) const NO_GLOBAL_KEYS: &str = "a Wayland desktop lets no application watch the keyboard \
     and pointer outside its own windows, so ra has no panic key and cannot see the local \
     user's input there; stop sharing with the desktop's own control (GNOME: the \
     screen-sharing indicator in the top bar) or end the session in ra";

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
    consent: Option<DesktopConsent>,
}

/// What the person at the desk allowed in the desktop's own dialog.
#[derive(Debug, Clone, Copy)]
pub(super) struct DesktopConsent {
    /// Monitors shared.
    pub(super) monitors: u32,
    /// Whether remote input was allowed.
    pub(super) input_allowed: bool,
}

impl WaylandDesktop {
    /// Opens the session the `--wayland-api` asks for; with the portal this
    /// waits for the person at the desk to answer the desktop's dialog.
    ///
    /// # Errors
    /// Exit code 1 and a message saying what is missing or who refused.
    pub(super) fn open(args: &HostArgs, output: Output) -> Result<Self, Failure> {
        let env = WaylandEnv::from_env();
        if !env.is_wayland() {
            return Err((
                1,
                format!(
                    "cannot share the Wayland desktop: {}",
                    SessionError::NotWayland
                ),
            ));
        }
        let cursor = CursorMode::Metadata;
        let mut consent = None;
        let session: Arc<dyn RemoteDesktop> = match args.wayland_api {
            WaylandApi::Mutter => {
                Arc::new(MutterSession::open(&MutterOptions { env, cursor }).map_err(open_failed)?)
            }
            WaylandApi::Portal => {
                output.event("desktop_consent_asked", json!({"api": "portal"}), || {
                    "the desktop asks the person at the desk to allow sharing".into()
                });
                let session =
                    PortalSession::open(&PortalOptions { env, cursor }).map_err(open_failed)?;
                let input = session.input_allowed();
                consent = Some(DesktopConsent {
                    monitors: u32::try_from(session.streams().len()).unwrap_or(u32::MAX),
                    input_allowed: input,
                });
                output.event(
                    "desktop_consent_given",
                    json!({"api": "portal", "streams": session.streams().len(), "input_allowed": input}),
                    || format!("the desktop allowed sharing (remote input: {})", if input { "yes" } else { "no" }),
                );
                Arc::new(session)
            }
        };
        Ok(WaylandDesktop { session, consent })
    }

    /// The desktop's own consent, when its dialog asked (the portal).
    pub(super) fn consent(&self) -> Option<DesktopConsent> {
        self.consent
    }

    /// Which API the session came from.
    pub(super) fn api(&self) -> Api {
        self.session.api()
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
}

fn open_failed(error: SessionError) -> Failure {
    (
        1,
        format!("cannot open a Wayland remote-desktop session: {error}"),
    )
}
