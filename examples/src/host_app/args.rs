//! The host's options, shared by `invite`, `easy-connect` and `join`
//! (flattened into each subcommand's arguments).

use ra_core::session::ControlScopes;
use std::path::PathBuf;

use clap::ValueEnum;

use crate::parse_wxh;

/// An answer the host gives without asking, or asks for on stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Answer {
    /// Ask on stdin (answer `y` or `n`).
    Ask,
    /// Always yes.
    Yes,
    /// Always no.
    No,
}

/// Where the picture comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaptureKind {
    /// A moving test pattern (no display needed).
    Synthetic,
    /// The desktop's screen: X11 (MIT-SHM, damage tracking, cursor,
    /// monitors), or Wayland when the session is Wayland and no `--display`
    /// is given.
    Screen,
    /// A Wayland desktop, through a remote-desktop session (`--wayland-api`).
    Wayland,
    /// The portable xcap backend (built with the `xcap` feature).
    #[cfg(feature = "xcap")]
    Xcap,
}

/// What happens to the helper's input while it has control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InjectKind {
    /// Print the helper's input instead of injecting it.
    Log,
    /// Drop the helper's input.
    None,
    /// Inject into the desktop: X11 (enigo, with a local panic key) or,
    /// on Wayland, through the remote-desktop session.
    System,
}

/// How a Wayland desktop is asked for a remote-desktop session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WaylandApi {
    /// The xdg-desktop-portal: the desktop's own dialog asks the person at
    /// the desk (GNOME, KDE).
    Portal,
    /// GNOME's own RemoteDesktop/ScreenCast API, no dialog (for privileged
    /// deployments and tests).
    Mutter,
}

/// The host's options, whichever way the session starts.
#[derive(Debug, Clone, clap::Args)]
pub struct HostArgs {
    /// Where the picture comes from.
    #[arg(long, value_enum, default_value = "synthetic")]
    pub capture: CaptureKind,
    /// Size of the synthetic screen.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// How to open the session on a Wayland desktop.
    #[arg(long, value_enum, default_value = "portal")]
    pub wayland_api: WaylandApi,
    /// The X display to share and inject into (default: $DISPLAY).
    #[arg(long, value_name = ":N")]
    pub display: Option<String>,
    /// The monitor to share first, by name (see the `displays` event), or `all`.
    #[arg(long, value_name = "NAME|all")]
    pub monitor: Option<String>,
    /// The local key combination that takes control back at once (with `--inject system`).
    #[arg(long, value_name = "COMBO", default_value = "ctrl+alt+pause")]
    pub panic_key: String,
    /// While the local user types or moves the mouse, ignore the helper's input (with `--inject system`).
    #[arg(long)]
    pub local_user_wins: bool,
    /// What happens to the helper's input while it has control.
    #[arg(long, value_enum, default_value = "log")]
    pub inject: InjectKind,
    /// Whether to let a helper in (after it proved it knows the password or code).
    #[arg(long, value_enum, default_value = "ask")]
    pub approve: Answer,
    /// Whether to give the helper control when it asks.
    #[arg(long, value_enum, default_value = "ask")]
    pub approve_control: Answer,
    /// What a grant of control covers: pointer, keyboard, clipboard, comma separated, or all.
    #[arg(long, value_name = "SCOPES", default_value = "all")]
    pub grant_scopes: ControlScopes,
    /// How long a grant of control lasts (default: until revoked; the policy may cap it).
    #[arg(long, value_name = "DURATION", value_parser = crate::parse_duration)]
    pub grant_for: Option<std::time::Duration>,
    /// Never send this part of the desktop (X,Y,W,H in desktop pixels; may
    /// be given several times): painted black before encoding, the helper's
    /// pointer input there dropped. The policy's `redact` adds to these;
    /// stdin `redact …` replaces them.
    #[arg(long, value_name = "X,Y,W,H", value_parser = crate::parse_rect)]
    pub redact: Vec<ra_core::media::Rect>,
    /// Never send the windows of this class (X11 WM_CLASS, without case;
    /// may be given several times), wherever they move (with `--capture
    /// screen` on X11). stdin `redact-window …` replaces them.
    #[arg(long, value_name = "CLASS")]
    pub redact_window: Vec<String>,
    /// The host policy (TOML): allow_assistance, allow_control, allow_clipboard, max_invitation_lifetime (also caps a code's), approval_timeout.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Append the audit log (one JSON object per line) to this file.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Write the session's signed consent receipt to this file when it ends
    /// (check it with `ra-audit verify-receipt`).
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
    /// Where stdin `resume-ticket` writes the session's single-use resume
    /// ticket (needs `allow_resume_tickets = true` in the policy), and where
    /// `ra-host resume` takes it from after a restart.
    #[arg(long, value_name = "FILE", requires = "resume_key")]
    pub resume_ticket: Option<PathBuf>,
    /// The key resume tickets are sealed with (64 hex digits; made, readable
    /// by this user only, when the file does not exist).
    #[arg(long, value_name = "FILE", requires = "resume_ticket")]
    pub resume_key: Option<PathBuf>,
    /// The name the helper sees.
    #[arg(long, default_value = "ra host")]
    pub name: String,
    /// Print the session's statistics once a second (a `stats` event).
    #[arg(long)]
    pub stats: bool,
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    pub json: bool,
}

impl HostArgs {
    /// Whether the host shares an X display (and so has its clipboard).
    pub fn shares_x_display(&self) -> bool {
        !super::wayland::uses_wayland(self)
            && (self.capture == CaptureKind::Screen || self.inject == InjectKind::System)
    }
}

/// Parses `--size` (the synthetic screen): 16 to 8192 a side.
fn parse_size(text: &str) -> Result<(u32, u32), String> {
    parse_wxh(text, "size", 8192)
}
