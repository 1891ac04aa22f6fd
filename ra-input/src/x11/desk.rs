//! The host's desk on X11 as `ra_core::desk` backends: the panic key, the
//! local user's own input, and the clipboard. Each starts when the session
//! asks, not when made, so nothing touches the display (nor reads the
//! clipboard) before then.

use ra_core::desk::{DeskClipboard, DeskError, DeskSignal, DeskSink, DeskWatcher};
use ra_core::keys::{self, KeyCode};

use super::panic_key::check_combo;
use super::{Clipboard, LocalActivity, PanicKey, X11Error};

impl From<X11Error> for DeskError {
    fn from(e: X11Error) -> Self {
        match e {
            X11Error::Connect { .. }
            | X11Error::MissingExtension(_)
            | X11Error::AlreadyGrabbed(_)
            | X11Error::InvalidCombo(_) => DeskError::Unavailable(Box::new(e)),
            other => DeskError::Backend(Box::new(other)),
        }
    }
}

/// The panic key of an X display as a desk watcher: the combination is
/// grabbed when the session starts, and each press is reported as
/// [`DeskSignal::PanicKey`].
#[derive(Debug)]
pub struct PanicKeyWatcher {
    display: Option<String>,
    keys: Vec<KeyCode>,
    grabbed: Option<PanicKey>,
}

impl PanicKeyWatcher {
    /// The combination `combo` (e.g. `"ctrl+alt+pause"`, see
    /// [`PanicKey::DEFAULT_COMBO`]) on `display` (`None`: `$DISPLAY`).
    ///
    /// # Errors
    /// [`X11Error::InvalidCombo`] when `combo` does not parse or is not
    /// modifiers plus one key; whether the X server can grab it is only
    /// known when the session starts.
    pub fn new(display: Option<&str>, combo: &str) -> Result<Self, X11Error> {
        let keys = keys::parse_combo(combo)
            .ok_or_else(|| X11Error::InvalidCombo(format!("cannot parse {combo:?}")))?;
        check_combo(&keys)?;
        Ok(PanicKeyWatcher {
            display: display.map(str::to_owned),
            keys,
            grabbed: None,
        })
    }
}

impl DeskWatcher for PanicKeyWatcher {
    fn start(&mut self, sink: DeskSink) -> Result<(), DeskError> {
        let key = PanicKey::start(
            self.display.as_deref(),
            &self.keys,
            Box::new(move || sink.report(DeskSignal::PanicKey)),
        )?;
        self.grabbed = Some(key);
        Ok(())
    }
}

/// The local user's own input on an X display (not injected input) as a desk
/// watcher: each key or button press, motion or touch is reported as
/// [`DeskSignal::LocalInput`].
#[derive(Debug)]
pub struct LocalInputWatcher {
    display: Option<String>,
    activity: Option<LocalActivity>,
}

impl LocalInputWatcher {
    /// Watches `display` (`None`: `$DISPLAY`) once the session starts.
    pub fn new(display: Option<&str>) -> Self {
        LocalInputWatcher {
            display: display.map(str::to_owned),
            activity: None,
        }
    }
}

impl DeskWatcher for LocalInputWatcher {
    fn start(&mut self, sink: DeskSink) -> Result<(), DeskError> {
        let activity = LocalActivity::start(
            self.display.as_deref(),
            Box::new(move |_| sink.report(DeskSignal::LocalInput)),
        )?;
        self.activity = Some(activity);
        Ok(())
    }
}

/// The CLIPBOARD selection of an X display as the host's desk clipboard.
/// Nothing connects before the session first shares the clipboard.
#[derive(Debug)]
pub struct DisplayClipboard {
    display: Option<String>,
    clipboard: Option<Clipboard>,
}

impl DisplayClipboard {
    /// The clipboard of `display` (`None`: `$DISPLAY`), not started yet.
    pub fn new(display: Option<&str>) -> Self {
        DisplayClipboard {
            display: display.map(str::to_owned),
            clipboard: None,
        }
    }
}

impl DeskClipboard for DisplayClipboard {
    fn start(&mut self, sink: DeskSink) -> Result<(), DeskError> {
        if self.clipboard.is_none() {
            let clipboard = Clipboard::start(
                self.display.as_deref(),
                Box::new(move |text| sink.report(DeskSignal::ClipboardChanged(text))),
            )?;
            self.clipboard = Some(clipboard);
        }
        Ok(())
    }

    fn set_text(&mut self, text: &str) -> Result<(), DeskError> {
        match &self.clipboard {
            Some(clipboard) => Ok(clipboard.set_text(text)?),
            // Never started (it failed, and the application was told).
            None => Ok(()),
        }
    }
}
