//! Remote-desktop sessions on Wayland desktops, for ra's Wayland capturer
//! (`ra-capture`, feature `wayland`) and injector (`ra-input`, feature
//! `wayland`).
//!
//! On Wayland no client may read the screen or send input on its own: the
//! compositor hands out a *session* — a set of PipeWire streams (one per
//! monitor) and the right to send input into them. GNOME offers it directly on
//! mutter's D-Bus API ([`mutter`], no dialog: for privileged deployments and
//! CI); the xdg-desktop-portal offers the same behind the desktop's own consent
//! dialog. Both are a [`RemoteDesktop`]: the capturer reads its streams, the
//! injector sends [`Notify`] calls into it, and both share one session so that
//! absolute positions land on the picture the helper sees.
//!
//! The calls are blocking (they run on the capture and input threads).

use std::fmt::Debug;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

#[cfg(target_os = "linux")]
pub mod display_config;
#[cfg(target_os = "linux")]
pub mod mutter;
#[cfg(target_os = "linux")]
pub mod portal;

/// Where a Wayland desktop's services are: its session bus and the runtime
/// directory its PipeWire socket is in. [`WaylandEnv::from_env`] takes the
/// process's own; tests that start a private desktop give theirs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaylandEnv {
    /// The D-Bus session bus address (`DBUS_SESSION_BUS_ADDRESS`); `None`:
    /// the process's session bus.
    pub bus_address: Option<String>,
    /// `XDG_RUNTIME_DIR`, where `pipewire-0` and the Wayland socket are;
    /// `None`: the process's.
    pub runtime_dir: Option<PathBuf>,
    /// `WAYLAND_DISPLAY`, the compositor's socket name; `None`: the
    /// process's.
    pub wayland_display: Option<String>,
}

impl WaylandEnv {
    /// The process's own desktop, from its environment.
    pub fn from_env() -> Self {
        WaylandEnv {
            bus_address: std::env::var("DBUS_SESSION_BUS_ADDRESS").ok(),
            runtime_dir: std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
            wayland_display: std::env::var("WAYLAND_DISPLAY").ok(),
        }
    }

    /// Whether this looks like a Wayland session (a compositor socket is
    /// named and exists).
    pub fn is_wayland(&self) -> bool {
        match (&self.runtime_dir, &self.wayland_display) {
            (_, Some(display)) if display.starts_with('/') => PathBuf::from(display).exists(),
            (Some(dir), Some(display)) => dir.join(display).exists(),
            _ => false,
        }
    }

    /// The PipeWire daemon's socket of this desktop (`$XDG_RUNTIME_DIR/pipewire-0`).
    ///
    /// # Errors
    /// [`SessionError::NoRuntimeDir`] when no runtime directory is known.
    pub fn pipewire_socket(&self) -> Result<PathBuf, SessionError> {
        let dir = self.runtime_dir.clone().ok_or(SessionError::NoRuntimeDir)?;
        Ok(dir.join("pipewire-0"))
    }
}

/// Which API opened a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Api {
    /// `org.gnome.Mutter.RemoteDesktop` / `ScreenCast`, directly.
    Mutter,
    /// `org.freedesktop.portal.RemoteDesktop` / `ScreenCast`.
    Portal,
}

impl Api {
    /// The name used on the command line and in the audit log.
    pub fn name(self) -> &'static str {
        match self {
            Api::Mutter => "mutter",
            Api::Portal => "portal",
        }
    }
}

/// One PipeWire stream of a session: a monitor, where it is on the desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The PipeWire node to connect to.
    pub node_id: u32,
    /// The session's own name for it (mutter: the stream's object path),
    /// which absolute pointer motion refers to.
    pub handle: String,
    /// Left edge on the desktop, in logical pixels.
    pub x: i32,
    /// Top edge on the desktop.
    pub y: i32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Stream {
    /// Whether the desktop point (`x`, `y`) is on this stream.
    pub fn contains(&self, x: i32, y: i32) -> bool {
        let (left, top) = (i64::from(self.x), i64::from(self.y));
        let (x, y) = (i64::from(x), i64::from(y));
        x >= left
            && y >= top
            && x < left + i64::from(self.width)
            && y < top + i64::from(self.height)
    }
}

/// Which way a discrete scroll goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Up (negative) and down (positive).
    Vertical,
    /// Left (negative) and right (positive).
    Horizontal,
}

/// One input call into a session (the `Notify*` methods both APIs share).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Notify {
    /// Moves the pointer by an offset.
    PointerMotionRelative {
        /// Horizontal offset.
        dx: f64,
        /// Vertical offset.
        dy: f64,
    },
    /// Moves the pointer to a position on a stream.
    PointerMotionAbsolute {
        /// Index of the stream in [`RemoteDesktop::streams`].
        stream: usize,
        /// Horizontal position within the stream.
        x: f64,
        /// Vertical position within the stream.
        y: f64,
    },
    /// Presses or releases a button (evdev code: `BTN_LEFT` = 0x110 …).
    PointerButton {
        /// The evdev button code.
        button: u32,
        /// `true` for press.
        pressed: bool,
    },
    /// Smooth scrolling, in pixels-ish units; `finish` ends a scroll sequence.
    PointerAxis {
        /// Horizontal amount, positive to the right.
        dx: f64,
        /// Vertical amount, positive down.
        dy: f64,
        /// Whether this ends the sequence (kinetic scrolling stops).
        finish: bool,
    },
    /// Wheel clicks.
    PointerAxisDiscrete {
        /// Which way.
        axis: Axis,
        /// How many clicks (negative: up or left).
        steps: i32,
    },
    /// Presses or releases a key by its evdev scancode.
    KeyboardKeycode {
        /// The evdev code (`KEY_A` = 30).
        code: u32,
        /// `true` for press.
        pressed: bool,
    },
    /// Presses or releases a key by X keysym (text: `0x0100_0000 + code point`).
    KeyboardKeysym {
        /// The keysym.
        keysym: u32,
        /// `true` for press.
        pressed: bool,
    },
}

/// A started remote-desktop session: streams to capture and input to send.
///
/// Implementations are shared (`Arc`) by a capturer and an injector and used
/// from their threads.
pub trait RemoteDesktop: Send + Sync + Debug {
    /// Which API opened it.
    fn api(&self) -> Api;

    /// The session's streams, one per monitor, in the order the session
    /// reported them.
    fn streams(&self) -> Vec<Stream>;

    /// A connection to the PipeWire daemon that serves the streams (the
    /// portal's restricted remote, or the desktop's own socket).
    ///
    /// # Errors
    /// [`SessionError::PipeWire`] when it cannot be opened, or
    /// [`SessionError::Closed`].
    fn open_pipewire(&self) -> Result<OwnedFd, SessionError>;

    /// Sends one input call.
    ///
    /// # Errors
    /// [`SessionError::NoSuchStream`] for a stream index past the last,
    /// [`SessionError::Closed`] once the desktop ended the session, or
    /// [`SessionError::Call`].
    fn notify(&self, notification: &Notify) -> Result<(), SessionError>;

    /// Whether the desktop has ended the session.
    fn is_closed(&self) -> bool;

    /// After its streams ended: if the desktop closed the session because
    /// its monitors changed (a new resolution, a rotation, a monitor added,
    /// moved or gone — GNOME ends a recording then instead of resizing it),
    /// opens it again on the new layout, so that [`streams`](Self::streams),
    /// [`open_pipewire`](Self::open_pipewire) and [`notify`](Self::notify)
    /// go on with the new streams, and returns `true`. Returns `false` when
    /// the session was not closed, or was closed for another reason (the
    /// person at the desk stopped sharing): it stays as it is.
    ///
    /// Only sessions that need nobody's consent to open again do it
    /// (mutter's API); the default, and the portal's, is `false` — the
    /// portal would ask the person at the desk again.
    ///
    /// # Errors
    /// [`SessionError`] when the monitors changed but opening the session
    /// again failed.
    fn reopen_after_monitor_change(&self) -> Result<bool, SessionError> {
        Ok(false)
    }

    /// What the person at the desk allowed in the desktop's own dialog, when
    /// one asked (the portal); `None` when no dialog was shown (mutter's API).
    fn desk_consent(&self) -> Option<DeskConsent> {
        None
    }
}

/// The desktop's own consent: what the person at the desk allowed in the
/// operating system's dialog, apart from ra's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeskConsent {
    /// How many monitors were shared.
    pub monitors: u32,
    /// Whether remote input (keyboard and pointer) was allowed too.
    pub input_allowed: bool,
}

/// Why a Wayland desktop gives ra neither a panic key nor the local user's
/// input: said to the application (an event) whenever control is possible.
pub const NO_GLOBAL_INPUT: &str = "a Wayland desktop lets no application watch the keyboard \
     and pointer outside its own windows, so ra has no panic key and cannot see the local \
     user's input there; stop sharing with the desktop's own control (GNOME: the \
     screen-sharing indicator in the top bar) or end the session in ra";

/// Opens a session through `api` on the desktop `env`, the pointer
/// delivered as `cursor` says. With [`Api::Portal`] this waits until the
/// person at the desk answers the desktop's dialog.
///
/// # Errors
/// As [`mutter::MutterSession::open`] and [`portal::PortalSession::open`]:
/// [`SessionError::NotWayland`] first when `env` has no Wayland session.
#[cfg(target_os = "linux")]
pub fn open_session(
    api: Api,
    env: WaylandEnv,
    cursor: mutter::CursorMode,
) -> Result<std::sync::Arc<dyn RemoteDesktop>, SessionError> {
    if !env.is_wayland() {
        return Err(SessionError::NotWayland);
    }
    Ok(match api {
        Api::Mutter => std::sync::Arc::new(mutter::MutterSession::open(&mutter::MutterOptions {
            env,
            cursor,
        })?),
        Api::Portal => std::sync::Arc::new(portal::PortalSession::open(&portal::PortalOptions {
            env,
            cursor,
        })?),
    })
}

/// Why a session could not be opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// No Wayland session here (no compositor socket).
    #[error("not a Wayland session: no WAYLAND_DISPLAY socket in the runtime directory")]
    NotWayland,
    /// No runtime directory is known (`XDG_RUNTIME_DIR` unset).
    #[error("no runtime directory: XDG_RUNTIME_DIR is not set")]
    NoRuntimeDir,
    /// The session bus cannot be reached.
    #[error("cannot reach the session bus")]
    Bus(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The desktop does not offer the API (not GNOME, or no portal running).
    #[error("the desktop does not offer {api}")]
    Unavailable {
        /// The D-Bus service that is missing.
        api: &'static str,
        /// What the bus said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A D-Bus call failed.
    #[error("{method} failed")]
    Call {
        /// The method.
        method: &'static str,
        /// What the desktop said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The person at the desk (or the desktop) refused the session.
    #[error("the desktop refused the session: {0}")]
    Refused(String),
    /// A stream's PipeWire node was not announced in time.
    #[error("the desktop announced no PipeWire stream within {0:?}")]
    NoStream(std::time::Duration),
    /// No stream has this index.
    #[error("no stream {0} in this session")]
    NoSuchStream(usize),
    /// The PipeWire daemon cannot be reached.
    #[error("cannot connect to PipeWire at {path}")]
    PipeWire {
        /// The socket tried.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The desktop ended the session.
    #[error("the desktop closed the remote-desktop session")]
    Closed,
    /// The person at the desk shared the screen but did not allow remote
    /// interaction.
    #[error("the person at the desk did not allow remote interaction")]
    InputNotAllowed,
}
