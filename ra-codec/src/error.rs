//! Wrapping of library failures into [`CodecError`], so no OpenH264 or `yuv` type
//! appears in this crate's errors.

use ra_core::media::CodecError;

/// A failure inside OpenH264 or the colour converter, reduced to text.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {detail}")]
struct LibraryFailure {
    /// What this crate was doing.
    operation: &'static str,
    /// The library's own description.
    detail: String,
}

/// A [`CodecError::Backend`] for a library failure during `operation`.
pub(crate) fn backend(operation: &'static str, failure: impl std::fmt::Display) -> CodecError {
    CodecError::Backend(Box::new(LibraryFailure {
        operation,
        detail: failure.to_string(),
    }))
}
