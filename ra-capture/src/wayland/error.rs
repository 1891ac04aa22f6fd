//! [`WaylandError`] and its mapping onto [`CaptureError`].

use ra_core::media::CaptureError;
use ra_wayland::SessionError;

/// Why the Wayland backend failed; the source of [`CaptureError::Backend`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaylandError {
    /// The remote-desktop session has no stream to capture.
    #[error("the remote-desktop session has no stream")]
    NoStream,
    /// The session refused a request (e.g. opening its PipeWire connection).
    #[error("the remote-desktop session failed")]
    Session(#[source] SessionError),
    /// PipeWire could not be set up.
    #[error("pipewire: {0}")]
    PipeWire(String),
}

impl From<WaylandError> for CaptureError {
    fn from(e: WaylandError) -> Self {
        match e {
            WaylandError::Session(SessionError::Closed) => {
                CaptureError::SourceLost(SessionError::Closed.to_string())
            }
            other => CaptureError::Backend(Box::new(other)),
        }
    }
}
