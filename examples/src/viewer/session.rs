//! The session side of the viewer: an async task on the tokio runtime that
//! owns the [`HelperSession`], prints its events, hands frames and state to
//! the window's event loop (through an `EventLoopProxy`) and carries out what
//! the window asks for (through a channel). While the host shares its
//! clipboard, it keeps the viewer's X clipboard in step with the host's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ra_core::input::InputEvent;
use ra_core::media::{CursorUpdate, DisplayId, DisplayInfo};
use ra_core::runtime::{HelperSession, HelperSessionEvent, ReceivedFrame};
use ra_core::session::{ControlState, EndReason, HelperEvent};
use ra_examples::clipboard::{SystemClipboard, send_to_host};
use ra_examples::exit;
use ra_examples::output::Output;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;
use winit::event_loop::EventLoopProxy;

/// What the window asks the session to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Ask the host for control.
    RequestControl,
    /// Give control back.
    ReleaseControl,
    /// Send input (dropped unless control is granted).
    Input(Vec<InputEvent>),
    /// Ask the host to show its next display.
    NextDisplay,
}

/// What the session tells the window (through its event loop).
#[derive(Debug)]
pub(crate) enum UiEvent {
    /// A new frame waits in the [`FrameSlot`].
    Frame,
    /// The host's pointer changed.
    Cursor(CursorUpdate),
    /// The parts of the picture the host masks (picture pixels).
    Redactions(Vec<ra_core::media::Rect>),
    /// The state shown in the title changed.
    State(ViewState),
    /// The session is over (the state says why).
    Finished {
        /// Whether the window should close now.
        close: bool,
    },
}

/// Who controls the host's computer, as the window shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    /// View only.
    ViewOnly,
    /// Control was asked for; the host has not answered.
    Requested,
    /// The helper controls the host.
    Controlling,
}

/// The session's state as the window shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ViewState {
    /// Control.
    pub(crate) control: Control,
    /// Whether the host paused the session.
    pub(crate) paused: bool,
    /// Why the session ended, once it did.
    pub(crate) ended: Option<EndReason>,
}

impl ViewState {
    /// The window title for a session with `host`.
    pub(crate) fn title(&self, host: &str) -> String {
        let status = match (self.ended, self.paused, self.control) {
            (Some(reason), ..) => format!("ended: {reason}"),
            (None, true, _) => "paused".to_owned(),
            (None, false, Control::ViewOnly) => "view only (F8: request control)".to_owned(),
            (None, false, Control::Requested) => "control requested…".to_owned(),
            (None, false, Control::Controlling) => "controlling (F9: release control)".to_owned(),
        };
        format!("{host} — {status} — ra viewer")
    }
}

/// The newest decoded frame, waiting for the window. Frames the window had
/// no time to show are replaced, never queued, so a slow window skips frames
/// instead of falling behind.
#[derive(Debug, Clone, Default)]
pub(crate) struct FrameSlot(Arc<Mutex<Option<ReceivedFrame>>>);

impl FrameSlot {
    /// Puts `frame` in the slot; true if the slot was empty (so the window
    /// must be told; otherwise it was told already).
    fn put(&self, frame: ReceivedFrame) -> bool {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.replace(frame).is_none()
    }

    /// Takes the newest frame, if one came since the last call.
    pub(crate) fn take(&self) -> Option<ReceivedFrame> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Whether the helper holds control, shared with the window. Set before the
/// `control_granted` event is printed, so input that follows that line is
/// forwarded (the event loop may see it before the state message).
#[derive(Debug, Clone, Default)]
pub(crate) struct ControlFlag(Arc<AtomicBool>);

impl ControlFlag {
    /// Whether control is granted now.
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, granted: bool) {
        self.0.store(granted, Ordering::Release);
    }
}

/// How the session task behaves.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Ask for control at once.
    pub(crate) request_control: bool,
    /// End the session after this long.
    pub(crate) duration: Option<Duration>,
    /// Close the window when the session ends (instead of showing why).
    pub(crate) close_on_end: bool,
    /// Where to write the session's consent receipt.
    pub(crate) receipt: Option<std::path::PathBuf>,
}

/// The channels between the session task and the window.
pub(crate) struct Link {
    /// Messages to the window.
    pub(crate) proxy: EventLoopProxy<UiEvent>,
    /// Frames to the window.
    pub(crate) frames: FrameSlot,
    /// Control, for the window's input gate.
    pub(crate) control: ControlFlag,
    /// The window's requests; closed when the window is gone.
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
}

/// Runs the session until it ends and the window is gone; returns the exit code.
pub(crate) async fn run(
    mut session: HelperSession,
    mut link: Link,
    options: Options,
    output: Output,
) -> i32 {
    // The viewer's display (winit's too: $DISPLAY); connected once the host
    // first shares its clipboard.
    let (clipboard, mut clipboard_changes) = SystemClipboard::new(None);
    let mut task = Task {
        clipboard,
        state: ViewState {
            control: Control::ViewOnly,
            paused: false,
            ended: None,
        },
        displays: Vec::new(),
        selected: None,
        code: exit::OK,
        output,
        receipt: options.receipt.clone(),
    };
    if options.request_control {
        task.request_control(&session).await;
    }
    let deadline = options.duration.map(|d| Instant::now() + d);
    let mut shown = task.state;
    let mut close = options.close_on_end;
    let _ = link.proxy.send_event(UiEvent::State(shown));
    loop {
        tokio::select! {
            event = session.next_event() => match event {
                Some(HelperSessionEvent::Frame(frame)) => {
                    if link.frames.put(frame) {
                        let _ = link.proxy.send_event(UiEvent::Frame);
                    }
                }
                Some(HelperSessionEvent::Session(event)) => task.session_event(event, &session, &link),
                Some(_) => {}
                None => break,
            },
            Some(text) = clipboard_changes.recv() => task.local_copy(text, &session).await,
            command = link.commands.recv() => match command {
                Some(command) => task.command(command, &session).await,
                // The window closed: end the session (telling the host).
                None => {
                    let _ = session.end().await;
                    return task.code;
                }
            },
            () = sleep_until(deadline) => {
                let _ = session.end().await;
                task.state.ended.get_or_insert(EndReason::HelperEnded);
                close = true;
                break;
            }
        }
        task.sync_control(&session, &link);
        if task.state != shown {
            shown = task.state;
            let _ = link.proxy.send_event(UiEvent::State(shown));
        }
    }
    link.control.set(false);
    // Without an end event the stream stopped because the driver is gone.
    task.state.ended.get_or_insert(EndReason::ConnectionLost);
    let _ = link.proxy.send_event(UiEvent::State(task.state));
    let _ = link.proxy.send_event(UiEvent::Finished { close });
    // The window stays up to show why the session ended; wait until it closes.
    while link.commands.recv().await.is_some() {}
    task.code
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

struct Task {
    clipboard: SystemClipboard,
    state: ViewState,
    displays: Vec<DisplayInfo>,
    selected: Option<DisplayId>,
    code: i32,
    output: Output,
    receipt: Option<std::path::PathBuf>,
}

impl Task {
    async fn request_control(&mut self, session: &HelperSession) {
        match session.request_control().await {
            Ok(()) => self.output.event("control_requested", json!({}), || {
                "Asked the host for control…".into()
            }),
            Err(e) => self.output.error(&format!("cannot request control: {e}")),
        }
    }

    async fn command(&mut self, command: Command, session: &HelperSession) {
        match command {
            Command::RequestControl => self.request_control(session).await,
            Command::ReleaseControl => match session.release_control().await {
                Ok(()) => self.output.event("control_released", json!({}), || {
                    "You gave control back to the host.".into()
                }),
                Err(e) => self.output.error(&format!("cannot release control: {e}")),
            },
            Command::Input(events) => {
                // The window checks too, but the grant may have ended since.
                if matches!(session.control_state(), ControlState::Granted(_))
                    && let Err(e) = session.send_input(events).await
                {
                    tracing::debug!(error = %e, "input not sent");
                }
            }
            Command::NextDisplay => {
                let next = next_display(&self.displays, self.selected);
                if let Some(id) = next
                    && let Err(e) = session.select_display(id).await
                {
                    self.output.error(&format!("cannot switch displays: {e}"));
                }
            }
        }
    }

    /// Another program put `text` on the viewer's clipboard.
    async fn local_copy(&mut self, text: String, session: &HelperSession) {
        send_to_host(&self.clipboard, session, text, self.output).await;
    }

    /// Mirrors the session's control state into the window's flag and the title.
    fn sync_control(&mut self, session: &HelperSession, link: &Link) {
        let control = match session.control_state() {
            ControlState::None => Control::ViewOnly,
            ControlState::Requested => Control::Requested,
            ControlState::Granted(_) => Control::Controlling,
        };
        link.control
            .set(control == Control::Controlling && self.state.ended.is_none());
        self.state.control = control;
    }

    fn session_event(&mut self, event: HelperEvent, session: &HelperSession, link: &Link) {
        // The flag first: whoever reads the printed event may act on it at once.
        self.sync_control(session, link);
        let output = self.output;
        match event {
            HelperEvent::Cursor(update) => {
                let _ = link.proxy.send_event(UiEvent::Cursor(update));
            }
            HelperEvent::Redactions { areas } => {
                output.event("redactions", json!({ "areas": areas }), || {
                    format!("{} part(s) of the host's screen are masked.", areas.len())
                });
                let _ = link.proxy.send_event(UiEvent::Redactions(areas));
            }
            HelperEvent::ControlGranted { .. } => {
                output.event("control_granted", json!({}), || {
                    "You now control the host's computer (F9 gives control back).".into()
                });
            }
            HelperEvent::ControlDenied { reason } => {
                output.event(
                    "control_denied",
                    json!({ "reason": reason.as_str() }),
                    || format!("The host did not give you control ({}).", reason.as_str()),
                );
            }
            HelperEvent::ControlRevoked { reason } => {
                output.event(
                    "control_revoked",
                    json!({ "reason": reason.as_str() }),
                    || format!("The host took control back ({}).", reason.as_str()),
                );
            }
            HelperEvent::Paused => {
                self.state.paused = true;
                output.event("paused", json!({}), || {
                    "The host paused the session.".into()
                });
            }
            HelperEvent::Resumed => {
                self.state.paused = false;
                output.event("resumed", json!({}), || {
                    "The host resumed the session.".into()
                });
            }
            HelperEvent::Chat { text } => {
                output.event("chat", json!({ "from": "host", "text": text }), || {
                    format!("host: {text}")
                });
            }
            HelperEvent::Displays { displays, selected } => {
                output.event(
                    "displays",
                    json!({
                        "displays": displays.iter().map(|d| json!({
                            "id": d.id.0, "name": d.name, "primary": d.primary,
                            "x": d.bounds.x, "y": d.bounds.y,
                            "width": d.bounds.width, "height": d.bounds.height,
                        })).collect::<Vec<_>>(),
                        "selected": selected.0,
                    }),
                    || {
                        format!(
                            "The host has {} display(s) (F7 shows the next).",
                            displays.len()
                        )
                    },
                );
                self.displays = displays;
                self.selected = Some(selected);
            }
            HelperEvent::ClipboardSharing { enabled } => {
                // Started before the event is printed: whoever reads it may copy at once.
                if let Err(e) = self.clipboard.set_sharing(enabled) {
                    output.error(&format!("cannot use the system clipboard: {e}"));
                }
                output.event("clipboard_sharing", json!({ "enabled": enabled }), || {
                    format!(
                        "The host turned clipboard sharing {}.",
                        if enabled { "on" } else { "off" }
                    )
                });
            }
            HelperEvent::Clipboard { text } => {
                // On the clipboard before the event says it came.
                if let Err(e) = self.clipboard.put(&text) {
                    output.error(&format!("cannot put the host's text on the clipboard: {e}"));
                }
                output.event("clipboard", json!({ "from": "host", "text": text }), || {
                    format!("The host's clipboard: {text}")
                });
            }
            HelperEvent::Receipt { receipt } => {
                ra_examples::receipt_file::store(output, self.receipt.as_deref(), &receipt);
            }
            HelperEvent::ReceiptRefused { problem } => {
                ra_examples::receipt_file::refused(output, &problem);
            }
            HelperEvent::Ended { reason } => {
                self.state.ended = Some(reason);
                link.control.set(false);
                self.code = exit::for_end(reason);
                output.event("ended", json!({ "reason": reason.as_str() }), || {
                    format!("Session ended: {reason}.")
                });
            }
            _ => {}
        }
    }
}

/// The display after `selected` in `displays` (wrapping), if there is another.
fn next_display(displays: &[DisplayInfo], selected: Option<DisplayId>) -> Option<DisplayId> {
    let position = displays.iter().position(|d| Some(d.id) == selected);
    let next = match position {
        Some(i) => displays.get((i + 1) % displays.len()),
        None => displays.first(),
    }?;
    (Some(next.id) != selected).then_some(next.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ra_core::media::Rect;

    #[test]
    fn titles() {
        let mut state = ViewState {
            control: Control::ViewOnly,
            paused: false,
            ended: None,
        };
        assert!(state.title("Alice").starts_with("Alice — view only"));
        state.control = Control::Controlling;
        assert!(state.title("Alice").contains("controlling"));
        state.paused = true;
        assert!(state.title("Alice").contains("paused"));
        state.ended = Some(EndReason::HostEnded);
        assert!(
            state
                .title("Alice")
                .contains("ended: the host ended the session")
        );
    }

    #[test]
    fn cycles_displays() {
        let display = |id| DisplayInfo {
            id: DisplayId(id),
            name: format!("d{id}"),
            bounds: Rect::new(0, 0, 1, 1),
            primary: id == 0,
        };
        let two = [display(0), display(1)];
        assert_eq!(next_display(&two, Some(DisplayId(0))), Some(DisplayId(1)));
        assert_eq!(next_display(&two, Some(DisplayId(1))), Some(DisplayId(0)));
        assert_eq!(next_display(&two, Some(DisplayId::ALL)), Some(DisplayId(0)));
        assert_eq!(next_display(&two[..1], Some(DisplayId(0))), None);
        assert_eq!(next_display(&[], None), None);
    }
}
