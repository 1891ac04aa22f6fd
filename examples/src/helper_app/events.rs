//! The helper's session events, printed, and acted on where the options say
//! so (`--monitor`, `--copy`, the input script, the system clipboard).

use ra_core::media::{DisplayId, DisplayInfo};
use ra_core::runtime::{HelperSession, HelperSessionEvent, ReceivedFrame};
use ra_core::session::HelperEvent;
use serde_json::json;
use tokio::time::Instant;

use super::session::{Progress, ScriptState};
use crate::exit;
use crate::output::Output;

impl Progress<'_> {
    /// Handles one event; an exit code when the session is over.
    pub(super) async fn on_event(
        &mut self,
        session: &HelperSession,
        event: HelperSessionEvent,
    ) -> Option<i32> {
        let output = self.output;
        match event {
            HelperSessionEvent::Frame(frame) => self.on_frame(frame),
            HelperSessionEvent::Session(HelperEvent::Displays { displays, selected }) => {
                print_displays(output, &displays, selected);
                self.follow_monitor(session, &displays, selected).await;
            }
            HelperSessionEvent::Session(HelperEvent::Cursor(update)) => {
                output.event(
                    "cursor",
                    json!({
                        "x": update.x,
                        "y": update.y,
                        "visible": update.visible,
                        "shape": update.shape.as_ref().map(|s| json!({
                            "width": s.width, "height": s.height,
                            "hot_x": s.hot_x, "hot_y": s.hot_y,
                        })),
                    }),
                    String::new,
                );
                self.pointer.update(update);
            }
            HelperSessionEvent::Session(HelperEvent::Redactions { areas }) => {
                output.event("redactions", json!({ "areas": areas }), || {
                    format!("{} part(s) of the host's screen are masked.", areas.len())
                });
            }
            HelperSessionEvent::Session(HelperEvent::ClipboardSharing { enabled }) => {
                if let Some(clipboard) = &mut self.clipboard
                    && let Err(e) = clipboard.set_sharing(enabled)
                {
                    output.error(&format!("cannot use the system clipboard: {e}"));
                }
                output.event("clipboard_sharing", json!({ "enabled": enabled }), || {
                    let verb = if enabled { "shares" } else { "stopped sharing" };
                    format!("The host {verb} its clipboard.")
                });
                if enabled
                    && let Some(text) = &self.args.copy
                    && let Err(e) = session.send_clipboard(text.clone()).await
                {
                    output.error(&e.to_string());
                }
            }
            HelperSessionEvent::Session(HelperEvent::Clipboard { text }) => {
                // On the clipboard before the event says it came.
                if let Some(clipboard) = &self.clipboard
                    && let Err(e) = clipboard.put(&text)
                {
                    output.error(&format!("cannot put the host's text on the clipboard: {e}"));
                }
                output.event("clipboard", json!({ "from": "host", "text": text }), || {
                    format!("The host's clipboard: {text}")
                });
            }
            HelperSessionEvent::Session(event) => return self.on_session_event(event),
            _ => {}
        }
        None
    }

    fn on_frame(&mut self, frame: ReceivedFrame) {
        self.frames += 1;
        let f = &frame.frame;
        let latency_ms = (frame.latency.as_secs_f64() * 10_000.0).round() / 10.0;
        self.output.event(
            "frame",
            json!({
                "seq": frame.seq,
                "width": f.width,
                "height": f.height,
                "bytes": frame.encoded_bytes,
                "latency_ms": latency_ms,
            }),
            || {
                format!(
                    "frame {}: {}x{}, {} bytes, {latency_ms} ms",
                    frame.seq, f.width, f.height, frame.encoded_bytes
                )
            },
        );
        self.last_frame = Some(frame.frame);
    }

    /// Switches to the `--monitor` asked for, once the host says which it has.
    async fn follow_monitor(
        &self,
        session: &HelperSession,
        displays: &[DisplayInfo],
        selected: DisplayId,
    ) {
        let Some(name) = self.args.monitor.as_deref() else {
            return;
        };
        let wanted = if name.eq_ignore_ascii_case("all") {
            Some(DisplayId::ALL)
        } else {
            displays.iter().find(|d| d.name == name).map(|d| d.id)
        };
        match wanted {
            None => self.output.error("no such monitor on the host"),
            Some(id) if id != selected => {
                let _ = session.select_display(id).await;
            }
            Some(_) => {}
        }
    }

    /// Reports a change of the session; an exit code when it is over.
    fn on_session_event(&mut self, event: HelperEvent) -> Option<i32> {
        let output = self.output;
        match event {
            HelperEvent::ControlGranted {
                scopes, expires_in, ..
            } => {
                let ms = expires_in.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                output.event(
                    "control_granted",
                    json!({ "scopes": scopes.names(), "expires_in_ms": ms }),
                    || {
                        let until = expires_in
                            .map(|d| format!(" for {}", humantime::format_duration(d)))
                            .unwrap_or_default();
                        format!("You now control the host's computer ({scopes}){until}.")
                    },
                );
                if let ScriptState::WaitingForControl(steps) =
                    std::mem::replace(&mut self.script, ScriptState::Done)
                {
                    self.script = ScriptState::Running(steps, Instant::now());
                }
            }
            HelperEvent::ControlDenied { reason } => {
                output.event(
                    "control_denied",
                    json!({ "reason": reason.as_str() }),
                    || format!("The host did not give you control ({}).", reason.as_str()),
                );
                self.script = ScriptState::Done;
            }
            HelperEvent::ControlRevoked { reason } => {
                output.event(
                    "control_revoked",
                    json!({ "reason": reason.as_str() }),
                    || format!("The host took control back ({}).", reason.as_str()),
                );
                self.script = ScriptState::Done;
            }
            HelperEvent::Paused => output.event("paused", json!({}), || {
                "The host paused the session.".into()
            }),
            HelperEvent::Resumed => output.event("resumed", json!({}), || {
                "The host resumed the session.".into()
            }),
            HelperEvent::Chat { text } => {
                output.event("chat", json!({ "from": "host", "text": text }), || {
                    format!("host: {text}")
                });
            }
            HelperEvent::Receipt { receipt } => {
                crate::receipt_file::store(output, self.args.receipt.as_deref(), &receipt);
            }
            HelperEvent::ReceiptRefused { problem } => {
                crate::receipt_file::refused(output, &problem);
            }
            HelperEvent::ConnectionInterrupted => {
                output.event("connection_interrupted", json!({}), || {
                    "The network to the host went dark; waiting for it.".into()
                });
            }
            HelperEvent::ConnectionRestored { silent_for } => output.event(
                "connection_restored",
                json!({ "silent_ms": silent_for.as_millis() }),
                || {
                    format!(
                        "The network is back after {:.1} s.",
                        silent_for.as_secs_f64()
                    )
                },
            ),
            HelperEvent::ResumeOffered { expires_in } => output.event(
                "resume_offered",
                json!({ "expires_in_s": expires_in.as_secs() }),
                || {
                    format!(
                        "The host keeps a resume ticket: should it restart within {} min, this session reconnects by itself.",
                        expires_in.as_secs().div_ceil(60)
                    )
                },
            ),
            HelperEvent::Resuming => {
                self.resuming = true;
                output.event("resuming", json!({}), || {
                    "The host restarted and re-opened the session: reconnected, waiting for its user to approve again (view only until control is granted)."
                        .to_owned()
                });
            }
            // After a resumption: the host's user approved again (the first
            // approval is told when the session starts).
            HelperEvent::Connected if self.resuming => {
                self.resuming = false;
                output.event("connected", json!({ "resumed": true }), || {
                    "Connected again (view only).".to_owned()
                });
            }
            HelperEvent::Ended { reason } => {
                print_ended(output, reason);
                return Some(exit::for_end(reason));
            }
            _ => {}
        }
        None
    }
}

fn print_displays(output: Output, displays: &[DisplayInfo], selected: DisplayId) {
    output.event(
        "displays",
        json!({
            "displays": displays.iter().map(|d| json!({
                "id": d.id.0, "name": d.name, "primary": d.primary,
                "x": d.bounds.x, "y": d.bounds.y, "width": d.bounds.width, "height": d.bounds.height,
            })).collect::<Vec<_>>(),
            "selected": selected.0,
        }),
        || {
            let names: Vec<&str> = displays.iter().map(|d| d.name.as_str()).collect();
            format!("The host's displays: {}.", names.join(", "))
        },
    );
}

/// Prints the end of the session, whichever side ended it.
pub(super) fn print_ended(output: Output, reason: ra_core::session::EndReason) {
    output.event("ended", json!({ "reason": reason.as_str() }), || {
        format!("Session ended: {reason}.")
    });
}
