//! X11 helpers for the host side:
//!
//! - [`PanicKey`]: a global key combination (default Ctrl+Alt+Pause) that lets
//!   the local user take control back.
//! - [`LocalActivity`]: notices input from the local user's own devices (as
//!   opposed to injected input), so "the local user wins".
//! - [`EventRecorder`]: a test X client that records the input it receives.
//! - [`Clipboard`]: the CLIPBOARD selection as text: set it, read it, and
//!   hear when another client changes it.
//! - [`PanicKeyWatcher`], [`LocalInputWatcher`], [`DisplayClipboard`]: the
//!   three as the host's desk (`ra_core::desk`) of a session.
//!
//! Each runs on its own X connection and thread, and stops (and joins its
//! thread) when dropped.

mod activity;
mod clipboard;
mod desk;
mod error;
mod panic_key;
mod recorder;
mod worker;

pub use activity::{ActivityKind, ActivityStats, LocalActivity, PhysicalInput};
pub use clipboard::{Clipboard, READ_TIMEOUT};
pub use desk::{DisplayClipboard, LocalInputWatcher, PanicKeyWatcher};
pub use error::X11Error;
pub use panic_key::PanicKey;
pub use recorder::{EventKind, EventRecorder, RecordedEvent, RecorderTimeout};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::Screen;
use x11rb::rust_connection::RustConnection;

/// Opens a connection to `display` (`None`: `$DISPLAY`) and returns it with
/// its default screen.
fn connect(display: Option<&str>) -> Result<(RustConnection, Screen), X11Error> {
    let (conn, screen) = x11rb::connect(display).map_err(|e| X11Error::Connect {
        display: display.unwrap_or("$DISPLAY").to_owned(),
        source: Box::new(e),
    })?;
    let screen = conn
        .setup()
        .roots
        .get(screen)
        .cloned()
        .ok_or_else(|| X11Error::Setup(format!("the display has no screen {screen}")))?;
    Ok((conn, screen))
}
