//! Where the scenes are drawn and captured (`--desktop`): a private Xvfb
//! (X11, the default), or a private headless GNOME desktop (Wayland) whose
//! Xwayland shows the scenes in a window covering its one monitor, captured
//! through a mutter remote-desktop session and PipeWire — the same X
//! drawing, so the two paths see the same scenes.
//!
//! Xwayland does not show its root window: on Wayland the scenes are drawn
//! into an override-redirect window at the monitor's origin, the *canvas*,
//! and every X client of the bench (the painter, the damage watch, the
//! screen grab) takes the canvas for the root ([`canvas`]).

use std::sync::{Arc, OnceLock};

use clap::ValueEnum;
use ra_capture::wayland::WaylandCapturer;
use ra_capture::x11::X11Capturer;
use ra_capture::xvfb::Xvfb;
use ra_core::media::Capturer;
use ra_testkit::gnome::HeadlessGnome;
use ra_wayland::RemoteDesktop;
use ra_wayland::mutter::{CursorMode, MutterOptions, MutterSession};
use x11rb::connection::Connection as _;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    ConnectionExt as _, CreateWindowAux, EventMask, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;

use super::{HEIGHT, Res, WIDTH};

/// `--desktop`: which kind of desktop the scenes run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Desktop {
    /// Xvfb, captured with `X11Capturer` (MIT-SHM + XDamage).
    X11,
    /// A headless GNOME (mutter 43) desktop, captured with `WaylandCapturer`.
    Wayland,
}

/// The window the scenes are drawn in on Wayland, once it exists.
static CANVAS: OnceLock<Window> = OnceLock::new();

/// The window the bench's X clients draw in and watch instead of the root
/// window, if there is one (on Wayland).
pub(crate) fn canvas() -> Option<Window> {
    CANVAS.get().copied()
}

/// A running desktop.
pub(crate) enum Stage {
    /// Xvfb.
    X11(Xvfb),
    /// Headless GNOME with Xwayland.
    Wayland(Box<WaylandStage>),
}

/// Headless GNOME with Xwayland, and the connection that keeps the canvas
/// mapped.
pub(crate) struct WaylandStage {
    desktop: HeadlessGnome,
    display: String,
    _canvas: RustConnection,
}

impl Stage {
    /// Starts a `desktop` of 1920×1080.
    ///
    /// # Errors
    /// When it cannot start (packages: `xvfb`; `mutter pipewire wireplumber
    /// xwayland`), or the canvas cannot be shown.
    pub(crate) fn start(desktop: Desktop) -> Res<Stage> {
        match desktop {
            Desktop::X11 => Ok(Stage::X11(Xvfb::start(
                u32::from(WIDTH),
                u32::from(HEIGHT),
            )?)),
            Desktop::Wayland => {
                let desktop =
                    HeadlessGnome::start_with_xwayland(&[(u32::from(WIDTH), u32::from(HEIGHT))])?;
                let display = desktop
                    .x11_display()
                    .ok_or("the desktop has no Xwayland")?
                    .to_owned();
                if desktop.mutter_pid().is_none() {
                    return Err("the desktop did not say mutter's PID".into());
                }
                let canvas = show_canvas(&display)?;
                Ok(Stage::Wayland(Box::new(WaylandStage {
                    desktop,
                    display,
                    _canvas: canvas,
                })))
            }
        }
    }

    /// The X display the scenes are drawn on.
    pub(crate) fn display(&self) -> String {
        match self {
            Stage::X11(xvfb) => xvfb.display(),
            Stage::Wayland(wayland) => wayland.display.clone(),
        }
    }

    /// The display server whose CPU is printed apart: Xvfb, or mutter
    /// (compositing and recording the screen).
    pub(crate) fn server_pid(&self) -> u32 {
        match self {
            Stage::X11(xvfb) => xvfb.pid(),
            Stage::Wayland(wayland) => wayland.desktop.mutter_pid().unwrap_or(0),
        }
    }

    /// What the report calls the display server.
    pub(crate) fn server_name(&self) -> &'static str {
        match self {
            Stage::X11(_) => "Xvfb",
            Stage::Wayland(_) => "mutter",
        }
    }

    /// A capturer of the screen, and a line saying what it is.
    ///
    /// # Errors
    /// When the screen cannot be opened.
    pub(crate) fn capturer(&self) -> Res<(Box<dyn Capturer>, String)> {
        match self {
            Stage::X11(xvfb) => {
                let capturer = X11Capturer::connect(Some(&xvfb.display()))
                    .map_err(|e| format!("capturer: {e}"))?;
                let shm = if capturer.uses_shm() {
                    "on"
                } else {
                    "OFF (plain GetImage)"
                };
                Ok((
                    Box::new(capturer),
                    format!("X11Capturer on Xvfb, MIT-SHM {shm}"),
                ))
            }
            Stage::Wayland(wayland) => {
                let session: Arc<dyn RemoteDesktop> = Arc::new(
                    MutterSession::open(&MutterOptions {
                        env: wayland.desktop.env().clone(),
                        cursor: CursorMode::Metadata,
                    })
                    .map_err(|e| format!("mutter session: {e}"))?,
                );
                let capturer =
                    WaylandCapturer::new(session).map_err(|e| format!("capturer: {e}"))?;
                Ok((
                    Box::new(capturer),
                    "WaylandCapturer on headless GNOME (mutter 43, PipeWire, \
                     the scenes drawn through Xwayland)"
                        .into(),
                ))
            }
        }
    }
}

/// Maps the canvas on the Xwayland of `display` and waits until the server
/// says it is mapped; the connection keeps it.
fn show_canvas(display: &str) -> Res<RustConnection> {
    let (conn, screen_num) = RustConnection::connect(Some(display))?;
    let screen = conn
        .setup()
        .roots
        .get(screen_num)
        .ok_or("Xwayland has no screen")?
        .clone();
    let window = conn.generate_id()?;
    conn.create_window(
        screen.root_depth,
        window,
        screen.root,
        0,
        0,
        WIDTH,
        HEIGHT,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &CreateWindowAux::new()
            .override_redirect(1)
            .background_pixel(screen.black_pixel)
            .event_mask(EventMask::STRUCTURE_NOTIFY),
    )?;
    conn.map_window(window)?;
    conn.flush()?;
    loop {
        if let Event::MapNotify(mapped) = conn.wait_for_event()?
            && mapped.window == window
        {
            break;
        }
    }
    CANVAS.set(window).map_err(|_| "a canvas exists already")?;
    Ok(conn)
}
