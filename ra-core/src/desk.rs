//! The host's own desk: what the person at the host's computer does while a
//! helper is connected — the panic key, their own mouse and keyboard, their
//! clipboard — and the backends that report it.
//!
//! The rules live in the session ([`crate::session::HostEndpoint::handle_desk`]):
//! the panic key takes control back whenever it is pressed; while the local
//! user is using their own mouse or keyboard the helper's input is held back
//! ("the local user wins"); the clipboard is followed only once sharing is
//! first turned on, so what was copied before never leaves the machine, and
//! a change is sent only while sharing is on. The runtime starts the
//! backends of a [`HostDesk`] and passes on what they report; platform crates
//! provide them (`ra_input::x11` on X11).

use std::sync::Arc;
use std::time::Duration;

/// How long the helper's input is held back after the local user's own
/// input, unless the application says otherwise.
pub const DEFAULT_LOCAL_USER_WINS: Duration = Duration::from_millis(1500);

/// Something that happened at the host's desk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeskSignal {
    /// The local panic key was pressed.
    PanicKey,
    /// The local user used their own mouse, keyboard or touchscreen.
    LocalInput,
    /// Another program put this text on the host's clipboard.
    ClipboardChanged(String),
}

/// Which part of the desk a failure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeskPart {
    /// The panic key.
    PanicKey,
    /// The watcher of the local user's input.
    LocalInput,
    /// The clipboard.
    Clipboard,
}

impl DeskPart {
    /// A stable, lowercase, snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeskPart::PanicKey => "panic_key",
            DeskPart::LocalInput => "local_input",
            DeskPart::Clipboard => "clipboard",
        }
    }
}

/// Where desk backends report what they see: cheap to clone, callable from
/// any thread, never blocks.
#[derive(Clone)]
pub struct DeskSink(Arc<dyn Fn(DeskSignal) + Send + Sync>);

impl DeskSink {
    /// A sink that passes each signal to `report` (which must not block).
    pub fn new(report: impl Fn(DeskSignal) + Send + Sync + 'static) -> Self {
        DeskSink(Arc::new(report))
    }

    /// Reports `signal`.
    pub fn report(&self, signal: DeskSignal) {
        (self.0)(signal);
    }
}

impl std::fmt::Debug for DeskSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskSink").finish_non_exhaustive()
    }
}

/// Why a desk backend failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeskError {
    /// The desk cannot be watched here (e.g. no display, or another program
    /// holds the key combination).
    #[error("unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The backend failed.
    #[error("{0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A watcher of the host's desk that reports one kind of signal: a panic
/// key ([`DeskSignal::PanicKey`]), the local user's own input
/// ([`DeskSignal::LocalInput`]).
pub trait DeskWatcher: Send {
    /// Starts watching; reports through `sink` until the watcher is dropped.
    /// Called once, when the session starts.
    ///
    /// # Errors
    /// [`DeskError::Unavailable`] when the desk cannot be watched,
    /// [`DeskError::Backend`] for other failures; the session does not start.
    fn start(&mut self, sink: DeskSink) -> Result<(), DeskError>;
}

/// The host's clipboard, as text.
///
/// Its methods run on the session's driver: they must return quickly (a
/// round trip to the display server, not a wait for a user).
pub trait DeskClipboard: Send {
    /// Starts following the clipboard: each text another program puts on it
    /// is reported as [`DeskSignal::ClipboardChanged`] until the clipboard is
    /// dropped. Called once, when sharing is first turned on, so what was
    /// copied before is never read.
    ///
    /// # Errors
    /// [`DeskError::Unavailable`] or [`DeskError::Backend`]; the session
    /// goes on without the clipboard and the application is told.
    fn start(&mut self, sink: DeskSink) -> Result<(), DeskError>;

    /// Puts the helper's text on the clipboard. Not reported back as a change.
    ///
    /// # Errors
    /// [`DeskError::Backend`] when it cannot be set.
    fn set_text(&mut self, text: &str) -> Result<(), DeskError>;
}

/// The desktop's own consent, given in the operating system's dialog (a
/// Wayland desktop's portal) apart from ra's approval; the session records
/// it in the audit log ([`crate::audit::AuditEvent::DesktopConsent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopConsent {
    /// Which desktop API asked (`portal`).
    pub api: String,
    /// How many monitors were shared.
    pub monitors: u32,
    /// Whether remote input was allowed too.
    pub input_allowed: bool,
}

/// The host's desk as a session uses it: each part is optional.
pub struct HostDesk {
    /// A panic key: pressing it takes control back at once, whenever.
    pub panic_key: Option<Box<dyn DeskWatcher>>,
    /// A watcher of the local user's own input: after each, the helper's
    /// input is held back (dropped, never replayed) for `local_user_wins`.
    pub local_input: Option<Box<dyn DeskWatcher>>,
    /// How long the helper's input is held back after local input.
    pub local_user_wins: Duration,
    /// The host's clipboard, kept in step with the helper's while the host
    /// shares it.
    pub clipboard: Option<Box<dyn DeskClipboard>>,
    /// Why this desk can have neither a panic key nor a watcher of the
    /// local user's input (a Wayland desktop lets no application watch
    /// them): the session tells the application once, at its start
    /// ([`crate::session::HostEvent::DeskLimited`]), never silently.
    pub limitation: Option<String>,
    /// What the person at the desk allowed in the desktop's own dialog, if
    /// one asked: recorded in the audit log when the session starts.
    pub desktop_consent: Option<DesktopConsent>,
}

impl Default for HostDesk {
    fn default() -> Self {
        HostDesk {
            panic_key: None,
            local_input: None,
            local_user_wins: DEFAULT_LOCAL_USER_WINS,
            clipboard: None,
            limitation: None,
            desktop_consent: None,
        }
    }
}

impl std::fmt::Debug for HostDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostDesk")
            .field("panic_key", &self.panic_key.is_some())
            .field("local_input", &self.local_input.is_some())
            .field("local_user_wins", &self.local_user_wins)
            .field("clipboard", &self.clipboard.is_some())
            .field("limitation", &self.limitation)
            .field("desktop_consent", &self.desktop_consent)
            .finish()
    }
}
