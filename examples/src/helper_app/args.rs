//! The helper's options, shared by `accept`, `easy-connect` and `assist`
//! (flattened into each subcommand's arguments).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use ra_core::identity::{HelperCredential, MAX_DOCUMENT_BYTES};
use ra_core::runtime::AcceptOptions;

use crate::parse_duration;

/// Which clipboard of the helper's the host's shared clipboard is kept in step with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClipboardMode {
    /// None: the host's clipboard text is only printed.
    None,
    /// This display's X clipboard ($DISPLAY), both ways.
    System,
}

/// The helper's options, whichever way the session is made.
#[derive(Debug, Clone, clap::Args)]
pub struct HelperArgs {
    /// The name the host sees.
    #[arg(long, default_value = "ra helper")]
    pub name: String,
    /// Ask the host for control once connected.
    #[arg(long)]
    pub request_control: bool,
    /// Stop after receiving N frames (and finishing the input script).
    #[arg(long, value_name = "N")]
    pub frames: Option<u64>,
    /// Write the last frame to this PNG file when the session ends.
    #[arg(long, value_name = "FILE.png")]
    pub snapshot: Option<PathBuf>,
    /// Once control is granted, send the input in this script (see the README for the commands).
    #[arg(long, value_name = "FILE")]
    pub input_script: Option<PathBuf>,
    /// Stop after this long (e.g. 5s), whatever else is going on.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Watch this monitor of the host (by name, see the `displays` event, or `all`).
    #[arg(long, value_name = "NAME|all")]
    pub monitor: Option<String>,
    /// When the host shares its clipboard, send it this text.
    #[arg(long, value_name = "TEXT")]
    pub copy: Option<String>,
    /// Which clipboard of yours the host's shared clipboard is kept in step with.
    #[arg(long, value_enum, default_value = "none")]
    pub clipboard: ClipboardMode,
    /// Send this chat message once connected.
    #[arg(long, value_name = "TEXT")]
    pub chat: Option<String>,
    /// How long to wait for the host to let you in.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    pub approval_timeout: Duration,
    /// Show the host this identity, issued by your organisation (`ra-org issue`):
    /// a host that trusts the organisation sees you as verified.
    #[arg(long, value_name = "FILE.raid")]
    pub identity: Option<PathBuf>,
    /// Write the session's consent receipt (signed by the host, countersigned
    /// with `--identity`) to this file when it ends.
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
    /// Print the session's statistics once a second (a `stats` event).
    #[arg(long)]
    pub stats: bool,
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    pub json: bool,
}

impl HelperArgs {
    /// The session options these arguments describe.
    ///
    /// # Errors
    /// A message when the `--identity` file cannot be read or used.
    pub fn accept_options(&self) -> Result<AcceptOptions, String> {
        let identity = match &self.identity {
            Some(path) => Some(Arc::new(read_identity(path)?)),
            None => None,
        };
        Ok(AcceptOptions {
            helper_name: self.name.clone(),
            approval_timeout: self.approval_timeout,
            identity,
            ..AcceptOptions::default()
        })
    }
}

/// Reads a helper's identity file (`ra-org issue`; at most
/// [`MAX_DOCUMENT_BYTES`]).
///
/// # Errors
/// A message naming the file and what is wrong with it.
pub fn read_identity(path: &Path) -> Result<HelperCredential, String> {
    let failed = |e: &dyn std::fmt::Display| format!("identity {}: {e}", path.display());
    let bytes = crate::files::read_at_most(path, MAX_DOCUMENT_BYTES).map_err(|e| failed(&e))?;
    let text = String::from_utf8(bytes).map_err(|_| failed(&"not a text file"))?;
    HelperCredential::from_text(&text).map_err(|e| failed(&e))
}
