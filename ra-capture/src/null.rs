//! [`NullCapturer`]: a capturer with nothing to capture.

use std::thread;
use std::time::Duration;

use ra_core::media::{CaptureError, Capturer, DisplayId, DisplayInfo, Frame};

/// A [`Capturer`] with no displays that never delivers a frame, like cpal's null
/// host: for hosts that share no screen (input or chat only) and for tests of the
/// plumbing around capture.
///
/// `next_frame` sleeps for its timeout and returns `Ok(None)`, as a real capturer
/// does when nothing changes, so callers' loops keep their pace.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullCapturer;

impl NullCapturer {
    /// The null capturer.
    pub fn new() -> Self {
        NullCapturer
    }
}

impl Capturer for NullCapturer {
    fn displays(&self) -> Result<Vec<DisplayInfo>, CaptureError> {
        Ok(Vec::new())
    }

    fn select(&mut self, display: DisplayId) -> Result<(), CaptureError> {
        Err(CaptureError::NoSuchDisplay(display))
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame<'_>>, CaptureError> {
        thread::sleep(timeout);
        Ok(None)
    }
}
