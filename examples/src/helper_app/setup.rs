//! What the helper's options need before it connects: checked first, so a
//! bad script or an unreachable clipboard fails before the host is bothered.

use std::path::Path;

use tokio::sync::mpsc;

use super::args::{ClipboardMode, HelperArgs};
use crate::clipboard::SystemClipboard;
use crate::exit;
use crate::script::{self, Step};

/// The input script and the system clipboard, ready for the session.
#[derive(Default)]
pub struct SessionSetup {
    /// The script's steps (`None`: no `--input-script`).
    pub(super) steps: Option<Vec<Step>>,
    /// The clipboard with `--clipboard system`, and the texts copied on it.
    pub(super) clipboard: Option<(SystemClipboard, mpsc::UnboundedReceiver<String>)>,
}

impl std::fmt::Debug for SessionSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSetup")
            .field("steps", &self.steps.as_ref().map(Vec::len))
            .field("clipboard", &self.clipboard.is_some())
            .finish()
    }
}

impl SessionSetup {
    /// Reads the input script and starts the system clipboard, as `args` ask.
    ///
    /// # Errors
    /// The exit code ([`exit::INVALID`] for the script, [`exit::OTHER`] for
    /// the clipboard) and a message.
    pub fn open(args: &HelperArgs) -> Result<Self, (i32, String)> {
        let steps = match &args.input_script {
            Some(path) => Some(read_script(path).map_err(|m| (exit::INVALID, m))?),
            None => None,
        };
        let mut clipboard = None;
        if args.clipboard == ClipboardMode::System {
            let (mut system, changes) = SystemClipboard::new(None);
            // Asked for: fail now rather than after the host let us in.
            system
                .start()
                .map_err(|e| (exit::OTHER, format!("cannot use the system clipboard: {e}")))?;
            clipboard = Some((system, changes));
        }
        Ok(SessionSetup { steps, clipboard })
    }
}

fn read_script(path: &Path) -> Result<Vec<Step>, String> {
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if metadata.len() > script::MAX_SCRIPT_SIZE as u64 {
        return Err(format!(
            "{} is larger than {} bytes",
            path.display(),
            script::MAX_SCRIPT_SIZE
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    script::parse(&text).map_err(|e| e.to_string())
}
