//! [`X11Error`] and the mapping of x11rb's errors onto [`CaptureError`].

use ra_core::media::CaptureError;
use x11rb::errors::{ConnectionError, ReplyError};

/// Why the X11 backend failed; the source of [`CaptureError::Backend`].
///
/// Carries x11rb's messages as text so no x11rb type is part of the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum X11Error {
    /// Connecting to the X server failed (wrong `DISPLAY`, no permission).
    #[error("cannot connect to the x server: {0}")]
    Connect(String),
    /// The server lacks an extension the capturer cannot work without.
    #[error("the x server lacks the {0} extension")]
    MissingExtension(&'static str),
    /// The root window's pixels are not 32-bit little-endian BGRX.
    #[error("unsupported pixel format: depth {depth}, {bits_per_pixel} bits per pixel")]
    UnsupportedFormat {
        /// Depth of the root window.
        depth: u8,
        /// Bits per pixel of that depth's images.
        bits_per_pixel: u8,
    },
    /// The server answered a request with an error.
    #[error("x11 request {request} failed: {message}")]
    Request {
        /// The request that failed.
        request: &'static str,
        /// The server's error, as text.
        message: String,
    },
}

impl From<X11Error> for CaptureError {
    fn from(e: X11Error) -> Self {
        CaptureError::Backend(Box::new(e))
    }
}

/// A broken connection: nothing more can be captured through it.
pub(super) fn lost(e: ConnectionError) -> CaptureError {
    CaptureError::SourceLost(format!("x server connection failed: {e}"))
}

/// A failed request: the connection broke, or the server returned an error.
pub(super) fn failed(request: &'static str) -> impl FnOnce(ReplyError) -> CaptureError {
    move |e| match e {
        ReplyError::ConnectionError(e) => lost(e),
        ReplyError::X11Error(e) => X11Error::Request {
            request,
            message: format!(
                "{:?} error (major {}, minor {})",
                e.error_kind, e.major_opcode, e.minor_opcode
            ),
        }
        .into(),
    }
}
