//! Sessions through the xdg-desktop-portal (what an unprivileged app on
//! GNOME or KDE uses): `org.freedesktop.portal.RemoteDesktop` with the
//! monitors selected into it through `ScreenCast`, by way of `ashpd`.
//!
//! Opening one shows the desktop's own dialog: the person at the desk picks
//! what to share and whether to allow remote interaction — a second consent,
//! given to the operating system, next to ra's own. [`PortalSession::open`]
//! waits for that answer (a person may take their time; there is no
//! timeout), and a refusal is [`SessionError::Refused`], never a hang past
//! the dialog. If the person shares the screen but does not allow remote
//! interaction, the session captures and every input call is
//! [`SessionError::InputNotAllowed`].
//!
//! What desktops allow (measured with xdg-desktop-portal 1.16 and
//! xdg-desktop-portal-gnome 43): RemoteDesktop version 1 and ScreenCast
//! version 4; remote-desktop sessions cannot persist, so there is no restore
//! token — each session asks again. wlroots desktops
//! (xdg-desktop-portal-wlr) offer ScreenCast only: no remote input there.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use ashpd::desktop::remote_desktop::{
    Axis as PortalAxis, DeviceType, KeyState, NotifyKeyboardKeycodeOptions,
    NotifyKeyboardKeysymOptions, NotifyPointerAxisDiscreteOptions, NotifyPointerAxisOptions,
    NotifyPointerButtonOptions, NotifyPointerMotionAbsoluteOptions, NotifyPointerMotionOptions,
    RemoteDesktop as PortalRemoteDesktop, SelectDevicesOptions, StartOptions,
};
use ashpd::desktop::screencast::{
    CursorMode as PortalCursorMode, OpenPipeWireRemoteOptions, Screencast, SelectSourcesOptions,
    SourceType,
};
use ashpd::desktop::{CreateSessionOptions, ResponseError};
use ashpd::desktop::{PersistMode, Session};
use async_io::block_on;
use futures_lite::StreamExt;
use futures_lite::future::poll_once;
use zbus::proxy::SignalStream;
use zbus::zvariant::serialized::Context;
use zbus::zvariant::{LE, OwnedObjectPath, to_bytes};

use crate::mutter::CursorMode;
use crate::{Api, Axis, DeskConsent, Notify, RemoteDesktop, SessionError, Stream, WaylandEnv};

const PORTAL: &str = "org.freedesktop.portal.Desktop";

/// What [`PortalSession::open`] needs.
#[derive(Debug, Clone, Default)]
pub struct PortalOptions {
    /// The desktop (its session bus).
    pub env: WaylandEnv,
    /// How the pointer is delivered.
    pub cursor: CursorMode,
}

/// A started session through the portal.
pub struct PortalSession {
    remote_desktop: PortalRemoteDesktop,
    screencast: Screencast,
    session: Session<PortalRemoteDesktop>,
    streams: Vec<Stream>,
    input_allowed: bool,
    /// The portal's `Closed` signal for this session, looked at by
    /// [`RemoteDesktop::is_closed`].
    closed_signal: Mutex<SignalStream<'static>>,
    /// Set once the `Closed` signal came.
    closed: AtomicBool,
}

impl std::fmt::Debug for PortalSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalSession")
            .field("streams", &self.streams)
            .field("input_allowed", &self.input_allowed)
            .finish_non_exhaustive()
    }
}

fn portal_error(method: &'static str) -> impl FnOnce(ashpd::Error) -> SessionError {
    move |error| match error {
        ashpd::Error::Response(ResponseError::Cancelled) => {
            SessionError::Refused("the person at the desk declined to share the screen".into())
        }
        ashpd::Error::Response(ResponseError::Other) => {
            SessionError::Refused("the desktop ended the request".into())
        }
        ashpd::Error::Zbus(zbus::Error::MethodError(ref name, _, _))
        | ashpd::Error::Portal(ashpd::PortalError::ZBus(zbus::Error::MethodError(
            ref name,
            _,
            _,
        ))) if is_missing(name.as_str()) => SessionError::Unavailable {
            api: PORTAL,
            source: Box::new(error),
        },
        other => SessionError::Call {
            method,
            source: Box::new(other),
        },
    }
}

/// Whether a D-Bus error says the portal (or its RemoteDesktop part) is not there.
fn is_missing(error_name: &str) -> bool {
    matches!(
        error_name,
        "org.freedesktop.DBus.Error.ServiceUnknown"
            | "org.freedesktop.DBus.Error.NameHasNoOwner"
            | "org.freedesktop.DBus.Error.UnknownInterface"
            | "org.freedesktop.DBus.Error.UnknownMethod"
            | "org.freedesktop.DBus.Error.UnknownObject"
    )
}

impl PortalSession {
    /// Asks the desktop, through its portal, for a session of every monitor
    /// with keyboard and pointer; returns once the person at the desk has
    /// answered the desktop's dialog.
    ///
    /// # Errors
    /// [`SessionError::Bus`] when the session bus cannot be reached,
    /// [`SessionError::Unavailable`] when no portal (or no RemoteDesktop
    /// portal) runs, [`SessionError::Refused`] when the dialog was declined,
    /// [`SessionError::Call`] for another failure.
    pub fn open(options: &PortalOptions) -> Result<Self, SessionError> {
        block_on(Self::open_async(options))
    }

    async fn open_async(options: &PortalOptions) -> Result<Self, SessionError> {
        let connection = match &options.env.bus_address {
            Some(address) => zbus::connection::Builder::address(address.as_str())
                .map_err(|e| SessionError::Bus(Box::new(e)))?
                .build()
                .await
                .map_err(|e| SessionError::Bus(Box::new(e)))?,
            None => zbus::Connection::session()
                .await
                .map_err(|e| SessionError::Bus(Box::new(e)))?,
        };
        let remote_desktop = PortalRemoteDesktop::with_connection(connection.clone())
            .await
            .map_err(portal_error("RemoteDesktop"))?;
        let screencast = Screencast::with_connection(connection.clone())
            .await
            .map_err(portal_error("ScreenCast"))?;
        let session = remote_desktop
            .create_session(CreateSessionOptions::default())
            .await
            .map_err(portal_error("RemoteDesktop.CreateSession"))?;
        remote_desktop
            .select_devices(
                &session,
                SelectDevicesOptions::default()
                    .set_devices(DeviceType::Keyboard | DeviceType::Pointer)
                    .set_persist_mode(PersistMode::DoNot),
            )
            .await
            .map_err(portal_error("RemoteDesktop.SelectDevices"))?
            .response()
            .map_err(portal_error("RemoteDesktop.SelectDevices"))?;
        let cursor = match options.cursor {
            CursorMode::Hidden => PortalCursorMode::Hidden,
            CursorMode::Embedded => PortalCursorMode::Embedded,
            CursorMode::Metadata => PortalCursorMode::Metadata,
        };
        screencast
            .select_sources(
                &session,
                SelectSourcesOptions::default()
                    .set_cursor_mode(cursor)
                    .set_sources(ashpd::enumflags2::BitFlags::from(SourceType::Monitor))
                    .set_multiple(true)
                    .set_persist_mode(PersistMode::DoNot),
            )
            .await
            .map_err(portal_error("ScreenCast.SelectSources"))?
            .response()
            .map_err(portal_error("ScreenCast.SelectSources"))?;
        // The dialog: waits for the person at the desk.
        let started = remote_desktop
            .start(&session, None, StartOptions::default())
            .await
            .map_err(portal_error("RemoteDesktop.Start"))?
            .response()
            .map_err(portal_error("RemoteDesktop.Start"))?;
        let devices = started.devices();
        let input_allowed =
            devices.contains(DeviceType::Keyboard) && devices.contains(DeviceType::Pointer);
        let streams: Vec<Stream> = started
            .streams()
            .iter()
            .map(|stream| {
                let (x, y) = stream.position().unwrap_or_default();
                let (width, height) = stream.size().unwrap_or_default();
                Stream {
                    node_id: stream.pipe_wire_node_id(),
                    handle: stream.pipe_wire_node_id().to_string(),
                    x,
                    y,
                    width: u32::try_from(width).unwrap_or(0),
                    height: u32::try_from(height).unwrap_or(0),
                }
            })
            .collect();
        if streams.is_empty() {
            let _ = session.close().await;
            return Err(SessionError::Refused(
                "the desktop shared no monitor".into(),
            ));
        }
        tracing::info!(
            streams = streams.len(),
            input_allowed,
            "portal remote-desktop session started"
        );
        let closed_signal = Mutex::new(subscribe_closed(&connection, &session).await?);
        Ok(PortalSession {
            remote_desktop,
            screencast,
            session,
            streams,
            input_allowed,
            closed_signal,
            closed: AtomicBool::new(false),
        })
    }

    /// Whether the person at the desk allowed remote interaction (keyboard
    /// and pointer), not only sharing the screen.
    pub fn input_allowed(&self) -> bool {
        self.input_allowed
    }

    async fn notify_async(&self, notification: &Notify) -> Result<(), ashpd::Error> {
        let rd = &self.remote_desktop;
        let session = &self.session;
        match *notification {
            Notify::PointerMotionRelative { dx, dy } => {
                rd.notify_pointer_motion(session, dx, dy, NotifyPointerMotionOptions::default())
                    .await
            }
            Notify::PointerMotionAbsolute { stream, x, y } => {
                // Checked by the caller.
                let node = self.streams.get(stream).map_or(0, |s| s.node_id);
                rd.notify_pointer_motion_absolute(
                    session,
                    node,
                    x,
                    y,
                    NotifyPointerMotionAbsoluteOptions::default(),
                )
                .await
            }
            Notify::PointerButton { button, pressed } => {
                rd.notify_pointer_button(
                    session,
                    i32::try_from(button).unwrap_or(i32::MAX),
                    key_state(pressed),
                    NotifyPointerButtonOptions::default(),
                )
                .await
            }
            Notify::PointerAxis { dx, dy, finish } => {
                rd.notify_pointer_axis(
                    session,
                    dx,
                    dy,
                    NotifyPointerAxisOptions::default().set_finish(finish),
                )
                .await
            }
            Notify::PointerAxisDiscrete { axis, steps } => {
                let axis = match axis {
                    Axis::Vertical => PortalAxis::Vertical,
                    Axis::Horizontal => PortalAxis::Horizontal,
                };
                rd.notify_pointer_axis_discrete(
                    session,
                    axis,
                    steps,
                    NotifyPointerAxisDiscreteOptions::default(),
                )
                .await
            }
            Notify::KeyboardKeycode { code, pressed } => {
                rd.notify_keyboard_keycode(
                    session,
                    i32::try_from(code).unwrap_or(i32::MAX),
                    key_state(pressed),
                    NotifyKeyboardKeycodeOptions::default(),
                )
                .await
            }
            Notify::KeyboardKeysym { keysym, pressed } => {
                rd.notify_keyboard_keysym(
                    session,
                    i32::try_from(keysym).unwrap_or(i32::MAX),
                    key_state(pressed),
                    NotifyKeyboardKeysymOptions::default(),
                )
                .await
            }
        }
    }
}

fn key_state(pressed: bool) -> KeyState {
    if pressed {
        KeyState::Pressed
    } else {
        KeyState::Released
    }
}

impl RemoteDesktop for PortalSession {
    fn api(&self) -> Api {
        Api::Portal
    }

    fn streams(&self) -> Vec<Stream> {
        self.streams.clone()
    }

    fn open_pipewire(&self) -> Result<OwnedFd, SessionError> {
        if self.is_closed() {
            return Err(SessionError::Closed);
        }
        block_on(
            self.screencast
                .open_pipe_wire_remote(&self.session, OpenPipeWireRemoteOptions::default()),
        )
        .map_err(portal_error("ScreenCast.OpenPipeWireRemote"))
    }

    fn notify(&self, notification: &Notify) -> Result<(), SessionError> {
        if self.is_closed() {
            return Err(SessionError::Closed);
        }
        if !self.input_allowed {
            return Err(SessionError::InputNotAllowed);
        }
        if let Notify::PointerMotionAbsolute { stream, .. } = *notification
            && stream >= self.streams.len()
        {
            return Err(SessionError::NoSuchStream(stream));
        }
        block_on(self.notify_async(notification)).map_err(portal_error("RemoteDesktop.Notify"))
    }

    fn desk_consent(&self) -> Option<DeskConsent> {
        Some(DeskConsent {
            monitors: u32::try_from(self.streams.len()).unwrap_or(u32::MAX),
            input_allowed: self.input_allowed,
        })
    }

    fn is_closed(&self) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return true;
        }
        let mut signals = self
            .closed_signal
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // A signal (or the bus gone: the stream ended) closes the session.
        if block_on(poll_once(signals.next())).is_some() {
            tracing::info!("the portal closed the remote-desktop session");
            self.closed.store(true, Ordering::Release);
        }
        self.closed.load(Ordering::Acquire)
    }
}

impl Drop for PortalSession {
    fn drop(&mut self) {
        let _ = block_on(self.session.close());
    }
}

/// Subscribes to the portal's `Closed` signal of `session` (emitted when the
/// person at the desk stops sharing, or the desktop ends the session), so
/// that [`RemoteDesktop::is_closed`] can look for it without a thread.
async fn subscribe_closed(
    connection: &zbus::Connection,
    session: &Session<PortalRemoteDesktop>,
) -> Result<SignalStream<'static>, SessionError> {
    // A portal session is serialized as its object path (ashpd keeps the
    // path itself to the crate).
    let context = Context::new_dbus(LE, 0);
    let path = to_bytes(context, session)
        .and_then(|bytes| bytes.deserialize::<OwnedObjectPath>().map(|(path, _)| path))
        .map_err(|e| SessionError::Call {
            method: "reading the session's path",
            source: Box::new(e),
        })?;
    let proxy = zbus::Proxy::new(connection, PORTAL, path, "org.freedesktop.portal.Session")
        .await
        .map_err(|e| SessionError::Call {
            method: "Session",
            source: Box::new(e),
        })?;
    proxy
        .receive_signal("Closed")
        .await
        .map_err(|e| SessionError::Call {
            method: "subscribing to Session.Closed",
            source: Box::new(e),
        })
}
