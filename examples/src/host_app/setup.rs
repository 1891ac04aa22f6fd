//! Everything the host's options ask for before a session starts: policy,
//! audit log, screen source, injector, and the desk (panic key, local
//! activity, clipboard), which the library then runs.

use ra_capture::x11::{X11Capturer, X11WindowLocator};
use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::{EncoderSettings, OpenH264Encoder};
use ra_core::audit::AuditLog;
use ra_core::desk::HostDesk;
use ra_core::input::InputInjector;
use ra_core::media::{Capturer, DisplayId};
use ra_core::policy::Policy;
use ra_core::runtime::{HostBackends, InviteOptions};
use ra_input::x11::{DisplayClipboard, LocalInputWatcher, PanicKeyWatcher};
use ra_input::{EnigoInjector, NullInjector};

use super::args::{CaptureKind, HostArgs, InjectKind};
use super::print_injector::PrintInjector;
use super::wayland::{WaylandDesktop, uses_wayland};
use crate::output::Output;

/// A failure with the exit code to leave with.
pub type Failure = (u8, String);

/// The session options and backends that [`HostArgs`] ask for.
#[derive(Debug)]
pub struct HostSetup {
    /// Name, policy, audit log and first display; the rest is the default
    /// (`invite` sets its lifetime and address).
    pub options: InviteOptions,
    /// Screen source, encoder, injector and desk.
    pub backends: HostBackends,
}

impl HostSetup {
    /// Opens what `args` ask for, in the order a person would want errors
    /// reported: the files first (exit 2), then the devices (exit 1; exit 2
    /// for a `--monitor` that does not exist).
    ///
    /// # Errors
    /// The exit code and a message.
    pub fn open(args: &HostArgs, output: Output) -> Result<Self, Failure> {
        let policy = match &args.policy {
            Some(path) => Policy::load(path).map_err(|e| (2, e.to_string()))?,
            None => Policy::default(),
        };
        let audit_log = match &args.audit_log {
            Some(path) => Some(AuditLog::open(path).map_err(|e| (2, e.to_string()))?),
            None => None,
        };
        let wayland = if uses_wayland(args) {
            Some(WaylandDesktop::open(args, output)?)
        } else {
            None
        };
        let (capturer, display) = open_capturer(args, wayland.as_ref())?;
        let injector = open_injector(args, output, wayland.as_ref())?;
        let encoder = Box::new(OpenH264Encoder::new(EncoderSettings::default()));
        let mut backends = HostBackends::new(capturer, encoder, injector);
        // On an X11 screen the redaction mask can follow windows by class.
        if wayland.is_none() && matches!(args.capture, CaptureKind::Screen) {
            backends.window_locator = X11WindowLocator::connect(args.display.as_deref())
                .ok()
                .map(|locator| Box::new(locator) as Box<dyn ra_core::media::WindowLocator>);
        }
        backends.desk = if let Some(desktop) = &wayland {
            desktop.desk(args)
        } else {
            open_desk(args)?
        };
        Ok(HostSetup {
            options: InviteOptions {
                host_name: args.name.clone(),
                policy,
                audit_log,
                display,
                ..InviteOptions::default()
            },
            backends,
        })
    }
}

/// The host's desk, run by the library: with `--inject system` the panic
/// key (and, with `--local-user-wins`, the local input watcher); the X
/// clipboard when an X display is shared (followed only once sharing is on).
fn open_desk(args: &HostArgs) -> Result<HostDesk, Failure> {
    let display = args.display.as_deref();
    let mut desk = HostDesk::default();
    if args.inject == InjectKind::System {
        let panic_key = PanicKeyWatcher::new(display, &args.panic_key).map_err(|e| {
            (
                1,
                format!("cannot set up the panic key {}: {e}", args.panic_key),
            )
        })?;
        desk.panic_key = Some(Box::new(panic_key));
        if args.local_user_wins {
            desk.local_input = Some(Box::new(LocalInputWatcher::new(display)));
        }
    }
    if args.shares_x_display() {
        desk.clipboard = Some(Box::new(DisplayClipboard::new(display)));
    }
    Ok(desk)
}

/// Where the helper's input goes.
fn open_injector(
    args: &HostArgs,
    output: Output,
    wayland: Option<&WaylandDesktop>,
) -> Result<Box<dyn InputInjector>, Failure> {
    Ok(match args.inject {
        InjectKind::Log => Box::new(PrintInjector { output }),
        InjectKind::None => Box::new(NullInjector::new()),
        InjectKind::System if let Some(desktop) = wayland => desktop.injector(),
        InjectKind::System => Box::new(
            EnigoInjector::new(args.display.as_deref())
                .map_err(|e| (1, format!("cannot inject input: {e}")))?,
        ),
    })
}

/// Opens the screen source and resolves `--monitor` (the display to share first).
fn open_capturer(
    args: &HostArgs,
    wayland: Option<&WaylandDesktop>,
) -> Result<(Box<dyn Capturer>, Option<DisplayId>), Failure> {
    let capturer: Box<dyn Capturer> = match args.capture {
        CaptureKind::Screen | CaptureKind::Wayland if let Some(desktop) = wayland => {
            desktop.capturer()?
        }
        CaptureKind::Wayland => {
            return Err((
                1,
                "cannot capture the Wayland desktop: not a Wayland session".into(),
            ));
        }
        CaptureKind::Synthetic => {
            let (width, height) = args.size;
            Box::new(SyntheticCapturer::new(SyntheticConfig {
                width,
                height,
                frame_rate: 30.0,
            }))
        }
        CaptureKind::Screen => Box::new(
            X11Capturer::connect(args.display.as_deref())
                .map_err(|e| (1, format!("cannot capture the screen: {e}")))?,
        ),
        #[cfg(feature = "xcap")]
        CaptureKind::Xcap => Box::new(
            ra_capture::XcapCapturer::new()
                .map_err(|e| (1, format!("cannot capture the screen: {e}")))?,
        ),
    };
    let display = match args.monitor.as_deref() {
        None => None,
        Some(name) if name.eq_ignore_ascii_case("all") => Some(DisplayId::ALL),
        Some(name) => {
            let displays = capturer
                .displays()
                .map_err(|e| (1, format!("cannot list the displays: {e}")))?;
            let found = displays.iter().find(|d| d.name == name).map(|d| d.id);
            Some(found.ok_or_else(|| {
                let names: Vec<&str> = displays.iter().map(|d| d.name.as_str()).collect();
                (
                    2,
                    format!(
                        "no monitor named {name:?}; there are: {}, all",
                        names.join(", ")
                    ),
                )
            })?)
        }
    };
    Ok((capturer, display))
}
