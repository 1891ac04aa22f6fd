//! [`X11Error`], the error of the X11 helpers.

use std::error::Error;
use std::time::Duration;

/// A boxed underlying error (x11rb's types stay out of the public API).
type Source = Box<dyn Error + Send + Sync>;

/// Why an X11 helper failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum X11Error {
    /// The display could not be reached.
    #[error("cannot connect to x11 display {display}: {source}")]
    Connect {
        /// The display name (`$DISPLAY` when none was given).
        display: String,
        /// What went wrong.
        #[source]
        source: Source,
    },
    /// A request or reply failed, or the connection broke.
    #[error("x11 request failed: {0}")]
    Connection(#[source] Source),
    /// The X server lacks an extension the helper needs.
    #[error("the x11 server lacks the {0} extension")]
    MissingExtension(&'static str),
    /// A key combination cannot be used.
    #[error("invalid key combination: {0}")]
    InvalidCombo(String),
    /// Another client already grabbed the key combination.
    #[error("the key combination {0} is already grabbed by another client")]
    AlreadyGrabbed(String),
    /// The helper could not set itself up on the display.
    #[error("x11 setup failed: {0}")]
    Setup(String),
    /// The helper's event thread has ended (its connection broke).
    #[error("the x11 event thread has stopped: {0}")]
    Stopped(String),
    /// A clipboard text is longer than the session may carry.
    #[error("the clipboard text is longer than {max} bytes")]
    TextTooLong {
        /// The limit, in bytes of UTF-8.
        max: usize,
    },
    /// A bounded wait ran out.
    #[error("timed out after {0:?} waiting for the x11 event thread")]
    Timeout(Duration),
}

/// `?`-conversion of x11rb results into [`X11Error::Connection`].
pub(crate) trait OrX11<T> {
    fn or_x11(self) -> Result<T, X11Error>;
}

impl<T, E> OrX11<T> for Result<T, E>
where
    E: Error + Send + Sync + 'static,
{
    fn or_x11(self) -> Result<T, X11Error> {
        self.map_err(|e| X11Error::Connection(Box::new(e)))
    }
}
