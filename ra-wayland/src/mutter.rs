//! Sessions on GNOME's own D-Bus API: `org.gnome.Mutter.RemoteDesktop` with
//! a linked `org.gnome.Mutter.ScreenCast` session recording every monitor.
//! No dialog asks anyone: mutter offers this API to privileged components
//! (gnome-remote-desktop uses it); ra uses it for managed deployments and CI.
//!
//! Mutter ends a session as soon as the D-Bus connection that created it
//! leaves the bus, so a [`MutterSession`] keeps its own connection for its
//! whole life and stops the session when dropped.
//!
//! Mutter also ends a session when a recorded monitor changes (see
//! [`display_config`](crate::display_config)); the session then opens a new
//! one on the new layout when its capturer asks
//! ([`RemoteDesktop::reopen_after_monitor_change`]).

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock, mpsc};
use std::time::Duration;

use zbus::blocking::{Connection, Proxy, connection};
use zbus::zvariant::{OwnedValue, Value};

use crate::display_config::MonitorLayout;
use crate::{Api, Axis, Notify, RemoteDesktop, SessionError, Stream, WaylandEnv};

const REMOTE_DESKTOP: &str = "org.gnome.Mutter.RemoteDesktop";
const SCREEN_CAST: &str = "org.gnome.Mutter.ScreenCast";

/// How long mutter may take to announce a stream's PipeWire node.
const STREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// How long after a stream ended the session's `Closed` signal may come
/// (mutter sends it right after ending the streams).
const CLOSED_SIGNAL_WAIT: Duration = Duration::from_secs(2);

/// How the pointer reaches the streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CursorMode {
    /// Not at all.
    Hidden,
    /// Drawn into the picture.
    Embedded,
    /// Apart from the picture, as stream metadata (position and shape): the
    /// pointer travels without re-encoding the picture.
    #[default]
    Metadata,
}

impl CursorMode {
    fn value(self) -> u32 {
        match self {
            CursorMode::Hidden => 0,
            CursorMode::Embedded => 1,
            CursorMode::Metadata => 2,
        }
    }
}

/// What [`MutterSession::open`] needs.
#[derive(Debug, Clone, Default)]
pub struct MutterOptions {
    /// The desktop (its bus and runtime directory).
    pub env: WaylandEnv,
    /// How the pointer is delivered.
    pub cursor: CursorMode,
}

/// A started session on mutter's API, recording every monitor.
///
/// When mutter ends it because the monitors changed, it can be opened again
/// on the new layout ([`RemoteDesktop::reopen_after_monitor_change`]): same
/// object, new streams.
#[derive(Debug)]
pub struct MutterSession {
    connection: Connection,
    options: MutterOptions,
    active: RwLock<Active>,
    /// Stopped by ra itself ([`MutterSession::stop`]): never opened again.
    stopped: AtomicBool,
}

/// The mutter session in use.
#[derive(Debug)]
struct Active {
    remote_desktop: Proxy<'static>,
    streams: Vec<Stream>,
    closed: Arc<ClosedFlag>,
    /// The monitors when it started.
    layout: MonitorLayout,
}

/// Set when mutter ends a session; can be waited for.
#[derive(Debug, Default)]
struct ClosedFlag {
    closed: Mutex<bool>,
    changed: Condvar,
}

impl ClosedFlag {
    /// Sets it; true if it was not set.
    fn set(&self) -> bool {
        let mut closed = self.closed.lock().unwrap_or_else(PoisonError::into_inner);
        let was = std::mem::replace(&mut *closed, true);
        self.changed.notify_all();
        !was
    }

    fn is_set(&self) -> bool {
        *self.closed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits at most `timeout` for it to be set; whether it is.
    fn wait(&self, timeout: Duration) -> bool {
        let closed = self.closed.lock().unwrap_or_else(PoisonError::into_inner);
        let (closed, _) = self
            .changed
            .wait_timeout_while(closed, timeout, |closed| !*closed)
            .unwrap_or_else(PoisonError::into_inner);
        *closed
    }
}

fn call_error(method: &'static str) -> impl FnOnce(zbus::Error) -> SessionError {
    move |e| SessionError::Call {
        method,
        source: Box::new(e),
    }
}

fn proxy(
    connection: &Connection,
    service: &'static str,
    path: String,
    interface: &'static str,
) -> Result<Proxy<'static>, SessionError> {
    Proxy::new_owned(connection.clone(), service, path, interface)
        .map_err(call_error("creating a D-Bus proxy"))
}

impl MutterSession {
    /// Opens and starts a session recording every monitor of the desktop in
    /// `options.env`, and waits for their PipeWire streams.
    ///
    /// # Errors
    /// [`SessionError::Bus`] when the session bus cannot be reached,
    /// [`SessionError::Unavailable`] when it has no mutter (not GNOME),
    /// [`SessionError::Call`] when mutter refuses a step,
    /// [`SessionError::NoStream`] when a stream is not announced in time.
    pub fn open(options: &MutterOptions) -> Result<Self, SessionError> {
        let connection = match &options.env.bus_address {
            Some(address) => connection::Builder::address(address.as_str())
                .and_then(|builder| builder.build())
                .map_err(|e| SessionError::Bus(Box::new(e)))?,
            None => Connection::session().map_err(|e| SessionError::Bus(Box::new(e)))?,
        };
        let active = start(&connection, options)?;
        Ok(MutterSession {
            connection,
            options: options.clone(),
            active: RwLock::new(active),
            stopped: AtomicBool::new(false),
        })
    }

    fn active(&self) -> std::sync::RwLockReadGuard<'_, Active> {
        self.active.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates and starts a session on `connection` recording every monitor.
fn start(connection: &Connection, options: &MutterOptions) -> Result<Active, SessionError> {
    let remote_desktop_service = proxy(
        connection,
        REMOTE_DESKTOP,
        "/org/gnome/Mutter/RemoteDesktop".into(),
        REMOTE_DESKTOP,
    )?;
    let session_path: zbus::zvariant::OwnedObjectPath = remote_desktop_service
        .call("CreateSession", &())
        .map_err(|e| unavailable_or(REMOTE_DESKTOP, "RemoteDesktop.CreateSession", e))?;
    let remote_desktop = proxy(
        connection,
        REMOTE_DESKTOP,
        session_path.to_string(),
        "org.gnome.Mutter.RemoteDesktop.Session",
    )?;
    let session = StartingSession {
        remote_desktop,
        connection: connection.clone(),
    };
    session.start(options)
}

/// A session being set up: stopped if setting it up fails.
struct StartingSession {
    remote_desktop: Proxy<'static>,
    connection: Connection,
}

impl StartingSession {
    fn start(self, options: &MutterOptions) -> Result<Active, SessionError> {
        match self.record_and_start(options) {
            Ok(session) => Ok(session),
            Err(e) => {
                let _: Result<(), _> = self.remote_desktop.call("Stop", &());
                Err(e)
            }
        }
    }

    fn record_and_start(&self, options: &MutterOptions) -> Result<Active, SessionError> {
        let session_id: String = self
            .remote_desktop
            .get_property("SessionId")
            .map_err(call_error("RemoteDesktop.Session.SessionId"))?;
        let screen_cast_service = proxy(
            &self.connection,
            SCREEN_CAST,
            "/org/gnome/Mutter/ScreenCast".into(),
            SCREEN_CAST,
        )?;
        let mut properties: HashMap<&str, Value<'_>> = HashMap::new();
        properties.insert(
            "remote-desktop-session-id",
            Value::from(session_id.as_str()),
        );
        let screen_cast_path: zbus::zvariant::OwnedObjectPath = screen_cast_service
            .call("CreateSession", &(properties,))
            .map_err(|e| unavailable_or(SCREEN_CAST, "ScreenCast.CreateSession", e))?;
        let screen_cast = proxy(
            &self.connection,
            SCREEN_CAST,
            screen_cast_path.to_string(),
            "org.gnome.Mutter.ScreenCast.Session",
        )?;
        // Every monitor, the primary first (the helper starts on it).
        let layout = MonitorLayout::read(&self.connection)?;
        let mut pending = Vec::new();
        for connector in layout.connectors() {
            let mut properties: HashMap<&str, Value<'_>> = HashMap::new();
            properties.insert("cursor-mode", Value::from(options.cursor.value()));
            let stream_path: zbus::zvariant::OwnedObjectPath = screen_cast
                .call("RecordMonitor", &(connector.as_str(), properties))
                .map_err(call_error("ScreenCast.Session.RecordMonitor"))?;
            let stream = proxy(
                &self.connection,
                SCREEN_CAST,
                stream_path.to_string(),
                "org.gnome.Mutter.ScreenCast.Stream",
            )?;
            // Subscribed before Start: the node is announced once, then.
            let node = announced_node(&stream)?;
            pending.push((stream, node));
        }
        let closed = Arc::new(ClosedFlag::default());
        watch_closed(&self.remote_desktop, Arc::clone(&closed))?;
        self.remote_desktop
            .call::<_, _, ()>("Start", &())
            .map_err(call_error("RemoteDesktop.Session.Start"))?;
        let mut streams = Vec::new();
        for (stream, node) in pending {
            let node_id = node
                .recv_timeout(STREAM_TIMEOUT)
                .map_err(|_| SessionError::NoStream(STREAM_TIMEOUT))?;
            streams.push(describe(&stream, node_id)?);
        }
        tracing::info!(
            streams = streams.len(),
            "mutter remote-desktop session started"
        );
        Ok(Active {
            remote_desktop: self.remote_desktop.clone(),
            streams,
            closed,
            layout,
        })
    }
}

/// A mutter error, or [`SessionError::Unavailable`] when the service itself is missing.
fn unavailable_or(api: &'static str, method: &'static str, error: zbus::Error) -> SessionError {
    let missing = matches!(
        &error,
        zbus::Error::MethodError(name, _, _)
            if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown"
                || name.as_str() == "org.freedesktop.DBus.Error.NameHasNoOwner"
    );
    if missing {
        SessionError::Unavailable {
            api,
            source: Box::new(error),
        }
    } else {
        call_error(method)(error)
    }
}

/// The node id the stream will announce, delivered on a channel.
fn announced_node(stream: &Proxy<'static>) -> Result<mpsc::Receiver<u32>, SessionError> {
    let mut signals = stream
        .receive_signal("PipeWireStreamAdded")
        .map_err(call_error("subscribing to PipeWireStreamAdded"))?;
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .name("ra-mutter-stream".into())
        .spawn(move || {
            // One announcement; the thread ends with it (or with the
            // connection, when the session is dropped before it came).
            if let Some(message) = signals.next()
                && let Ok(node) = message.body().deserialize::<u32>()
            {
                let _ = sender.send(node);
            }
        })
        .map_err(|e| SessionError::Call {
            method: "starting the stream watcher",
            source: Box::new(e),
        })?;
    Ok(receiver)
}

/// Sets `closed` when mutter ends the session.
fn watch_closed(session: &Proxy<'static>, closed: Arc<ClosedFlag>) -> Result<(), SessionError> {
    let mut signals = session
        .receive_signal("Closed")
        .map_err(call_error("subscribing to Closed"))?;
    std::thread::Builder::new()
        .name("ra-mutter-closed".into())
        .spawn(move || {
            if signals.next().is_some() {
                tracing::info!("mutter closed the remote-desktop session");
                closed.set();
            }
        })
        .map_err(|e| SessionError::Call {
            method: "starting the session watcher",
            source: Box::new(e),
        })?;
    Ok(())
}

/// A recorded monitor's place on the desktop (the stream's `Parameters`).
fn describe(stream: &Proxy<'static>, node_id: u32) -> Result<Stream, SessionError> {
    let parameters: HashMap<String, OwnedValue> = stream
        .get_property("Parameters")
        .map_err(call_error("ScreenCast.Stream.Parameters"))?;
    let pair = |key: &str| -> (i32, i32) {
        parameters
            .get(key)
            .and_then(|value| <(i32, i32)>::try_from(value.clone()).ok())
            .unwrap_or_default()
    };
    let (x, y) = pair("position");
    let (width, height) = pair("size");
    Ok(Stream {
        node_id,
        handle: stream.path().to_string(),
        x,
        y,
        width: u32::try_from(width).unwrap_or(0),
        height: u32::try_from(height).unwrap_or(0),
    })
}

impl MutterSession {
    fn call<B>(&self, method: &'static str, body: &B) -> Result<(), SessionError>
    where
        B: zbus::export::serde::Serialize + zbus::zvariant::DynamicType,
    {
        let (remote_desktop, closed) = {
            let active = self.active();
            (active.remote_desktop.clone(), Arc::clone(&active.closed))
        };
        if closed.is_set() {
            return Err(SessionError::Closed);
        }
        remote_desktop.call::<_, _, ()>(method, body).map_err(|e| {
            if closed.is_set() {
                SessionError::Closed
            } else {
                call_error(method)(e)
            }
        })
    }

    /// Stops the session now, as dropping it does: mutter removes its
    /// streams, and the session reports itself closed (for tests of what
    /// capturers and injectors do when a session ends under them). It is
    /// never opened again.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        let active = self.active();
        if active.closed.set() {
            let _: Result<(), _> = active.remote_desktop.call("Stop", &());
        }
    }
}

impl RemoteDesktop for MutterSession {
    fn api(&self) -> Api {
        Api::Mutter
    }

    fn streams(&self) -> Vec<Stream> {
        self.active().streams.clone()
    }

    fn open_pipewire(&self) -> Result<OwnedFd, SessionError> {
        if self.is_closed() {
            return Err(SessionError::Closed);
        }
        let path = self.options.env.pipewire_socket()?;
        let socket =
            UnixStream::connect(&path).map_err(|source| SessionError::PipeWire { path, source })?;
        Ok(OwnedFd::from(socket))
    }

    fn notify(&self, notification: &Notify) -> Result<(), SessionError> {
        match *notification {
            Notify::PointerMotionRelative { dx, dy } => {
                self.call("NotifyPointerMotionRelative", &(dx, dy))
            }
            Notify::PointerMotionAbsolute { stream, x, y } => {
                let handle = self
                    .active()
                    .streams
                    .get(stream)
                    .ok_or(SessionError::NoSuchStream(stream))?
                    .handle
                    .clone();
                self.call("NotifyPointerMotionAbsolute", &(handle.as_str(), x, y))
            }
            Notify::PointerButton { button, pressed } => {
                let button = i32::try_from(button).map_err(|e| SessionError::Call {
                    method: "NotifyPointerButton",
                    source: Box::new(e),
                })?;
                self.call("NotifyPointerButton", &(button, pressed))
            }
            Notify::PointerAxis { dx, dy, finish } => {
                self.call("NotifyPointerAxis", &(dx, dy, u32::from(finish)))
            }
            Notify::PointerAxisDiscrete { axis, steps } => {
                let axis: u32 = match axis {
                    Axis::Vertical => 0,
                    Axis::Horizontal => 1,
                };
                self.call("NotifyPointerAxisDiscrete", &(axis, steps))
            }
            Notify::KeyboardKeycode { code, pressed } => {
                self.call("NotifyKeyboardKeycode", &(code, pressed))
            }
            Notify::KeyboardKeysym { keysym, pressed } => {
                self.call("NotifyKeyboardKeysym", &(keysym, pressed))
            }
        }
    }

    fn is_closed(&self) -> bool {
        self.active().closed.is_set()
    }

    fn reopen_after_monitor_change(&self) -> Result<bool, SessionError> {
        if self.stopped.load(Ordering::Acquire) {
            return Ok(false);
        }
        let (closed, layout) = {
            let active = self.active();
            (Arc::clone(&active.closed), active.layout.clone())
        };
        // A stream may end a moment before the session's Closed signal.
        if !closed.wait(CLOSED_SIGNAL_WAIT) {
            return Ok(false);
        }
        if MonitorLayout::read(&self.connection)? == layout {
            // Stopped on purpose (the person at the desk, or the desktop).
            return Ok(false);
        }
        tracing::info!("the desktop's monitors changed: opening the session again");
        let active = start(&self.connection, &self.options)?;
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = active;
        if self.stopped.load(Ordering::Acquire) {
            // Stopped while it was being opened again.
            self.stop();
        }
        Ok(true)
    }
}

impl Drop for MutterSession {
    fn drop(&mut self) {
        let active = self.active();
        if active.closed.set() {
            let _: Result<(), _> = active.remote_desktop.call("Stop", &());
        }
    }
}
