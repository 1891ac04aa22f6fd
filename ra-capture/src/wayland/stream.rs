//! The PipeWire thread: its own main loop, connected through the session's
//! PipeWire connection, streaming one node into [`Shared`] — pictures (only
//! what the damage metadata, or a comparison, says changed), the pointer
//! from the cursor metadata, and the end of the stream.

use std::cell::Cell;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pipewire::buffer::Buffer;
use pipewire::context::ContextRc;
use pipewire::main_loop::MainLoopRc;
use pipewire::properties::properties;
use pipewire::spa::buffer::ChunkFlags;
use pipewire::spa::buffer::meta::{MetaCursor, MetaVideoDamage};
use pipewire::spa::param::ParamType;
use pipewire::spa::param::format::{MediaSubtype, MediaType};
use pipewire::spa::param::format_utils;
use pipewire::spa::param::video::VideoInfoRaw;
use pipewire::spa::pod::Pod;
use pipewire::spa::utils::Direction;
use pipewire::stream::{Stream, StreamFlags, StreamRc, StreamState};
use ra_core::media::Rect;

use super::cursor::{CursorState, shape_from_bitmap};
use super::params;
use super::pixels::{self, Layout, Source};
use super::shared::Shared;

/// How long the thread may take to connect.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long stopping the thread may take before it is left to finish alone.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);
/// The id of the core object: its errors are the connection's.
const CORE_ID: u32 = 0;
/// How long a connected stream may go without its first picture before it
/// is connected again: mutter 43 now and then (with several monitors) sends
/// only pointer updates after a stream starts, and a reconnection now and
/// then stays paused with no format, both until the stream is restarted.
const FIRST_PICTURE_TIMEOUT: Duration = Duration::from_millis(2000);
/// How often the stream is restarted for want of a first picture before
/// the capturer is told to start over on a new PipeWire connection, the
/// last thing it can try (a stream nothing links — no session manager
/// running — stays paused whatever is done; then capture fails with a clear
/// error).
const FIRST_PICTURE_RETRIES: u32 = 2;
/// How long a connected stream may go without its first picture before the
/// pointer is nudged (one pixel and back): on an idle desktop mutter 43
/// records a stream's first picture only once something is painted, and a
/// pointer move gets one painted.
const NUDGE_AFTER: Duration = Duration::from_millis(600);

/// Moves the pointer a pixel and back, to get a picture painted.
pub(super) type Nudge = Box<dyn Fn() + Send>;

/// What the capturer asks of the thread.
enum Command {
    /// Stream this node from now on.
    Connect(u32),
    /// Stop.
    Quit,
}

/// The running thread.
pub(super) struct Worker {
    commands: pipewire::channel::Sender<Command>,
    thread: Option<JoinHandle<()>>,
    finished: mpsc::Receiver<()>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

impl Worker {
    /// Starts the thread on the PipeWire connection `fd`, streaming `node`
    /// into `shared`; returns once the stream is connecting.
    ///
    /// # Errors
    /// Why the thread could not connect.
    pub(super) fn start(
        fd: OwnedFd,
        node: u32,
        shared: Arc<Shared>,
        nudge: Nudge,
    ) -> Result<Self, String> {
        let (commands, receiver) = pipewire::channel::channel();
        let (started_tx, started) = mpsc::channel();
        let (finished_tx, finished) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ra-pipewire".into())
            .spawn(move || {
                let deliberate = run(fd, node, &shared, receiver, &started_tx, nudge);
                match deliberate {
                    Ok(true) => {}
                    Ok(false) => shared.end("the PipeWire connection stopped"),
                    Err(why) => {
                        shared.end(why.clone());
                        let _ = started_tx.send(Err(why));
                    }
                }
                let _ = finished_tx.send(());
            })
            .map_err(|e| format!("cannot start the PipeWire thread: {e}"))?;
        let worker = Worker {
            commands,
            thread: Some(thread),
            finished,
        };
        match started.recv_timeout(START_TIMEOUT) {
            Ok(Ok(())) => Ok(worker),
            Ok(Err(why)) => Err(why),
            Err(_) => Err(format!("PipeWire did not connect within {START_TIMEOUT:?}")),
        }
    }

    /// Streams `node` from now on.
    pub(super) fn connect(&self, node: u32) -> Result<(), String> {
        self.commands
            .send(Command::Connect(node))
            .map_err(|_| "the PipeWire thread is gone".to_owned())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Quit);
        // Joined only once it said it finished: dropping never hangs.
        if self.finished.recv_timeout(STOP_TIMEOUT).is_ok()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        } else {
            tracing::warn!("the PipeWire thread did not stop in time; left to finish");
        }
    }
}

/// The connection to a node, seen by the listeners, the commands and the
/// first-picture watchdog.
#[derive(Default)]
struct Link {
    /// The node streamed.
    node: Cell<u32>,
    /// The next picture is copied whole (new node or format).
    whole_next: Cell<bool>,
    /// We are disconnecting on purpose (switching nodes).
    switching: Cell<bool>,
    /// A picture arrived since the stream (re)connected.
    pictured: Cell<bool>,
    /// When the stream was last (re)connected.
    connected_at: Cell<Option<Instant>>,
    /// Restarts for want of a first picture since the last connect.
    retries: Cell<u32>,
    /// The pointer was nudged since the stream (re)connected.
    nudged: Cell<bool>,
}

impl Link {
    /// (Re)connects `stream` to `node`.
    fn connect(&self, stream: &Stream, node: u32) -> Result<(), String> {
        self.node.set(node);
        self.whole_next.set(true);
        self.pictured.set(false);
        self.nudged.set(false);
        self.connected_at.set(Some(Instant::now()));
        self.switching.set(true);
        let result = stream
            .disconnect()
            .map_err(|e| format!("cannot disconnect the PipeWire stream: {e}"))
            .and_then(|()| connect(stream, node));
        self.switching.set(false);
        result
    }

    /// Nudges the pointer, then restarts a stream that started but sent no
    /// picture in time.
    fn watch_first_picture(&self, stream: &Stream, shared: &Shared, nudge: &Nudge) {
        let Some(since) = self.connected_at.get() else {
            return;
        };
        if !self.pictured.get() && !self.nudged.get() && since.elapsed() >= NUDGE_AFTER {
            self.nudged.set(true);
            tracing::debug!(
                node = self.node.get(),
                "no picture yet; nudging the pointer"
            );
            nudge();
            return;
        }
        if self.pictured.get() || since.elapsed() < FIRST_PICTURE_TIMEOUT {
            return;
        }
        if self.retries.get() >= FIRST_PICTURE_RETRIES {
            if self.retries.get() == FIRST_PICTURE_RETRIES {
                self.retries.set(self.retries.get() + 1);
                tracing::info!(node = self.node.get(), "the stream stays without a picture");
                shared.stall();
            }
            return;
        }
        self.retries.set(self.retries.get() + 1);
        tracing::info!(
            node = self.node.get(),
            "no picture {FIRST_PICTURE_TIMEOUT:?} after connecting the stream; restarting it"
        );
        if let Err(why) = self.connect(stream, self.node.get()) {
            shared.end(why);
        }
    }
}

/// The stream's negotiated format and what the next buffer must do.
struct Local {
    shared: Arc<Shared>,
    link: Rc<Link>,
    layout: Option<Layout>,
    size: (u32, u32),
    /// A buffer nobody can read was reported once.
    unreadable_reported: bool,
}

/// Runs the loop until told to quit (`Ok(true)`) or the connection ends
/// (`Ok(false)`); `Err` when it could not start.
fn run(
    fd: OwnedFd,
    node: u32,
    shared: &Arc<Shared>,
    receiver: pipewire::channel::Receiver<Command>,
    started: &mpsc::Sender<Result<(), String>>,
    nudge: Nudge,
) -> Result<bool, String> {
    let failed = |what: &'static str| move |e: pipewire::Error| format!("{what}: {e}");
    pipewire::init();
    let main_loop = MainLoopRc::new(None).map_err(failed("cannot create a PipeWire loop"))?;
    // No mlock of the mapped buffers (PipeWire's default): locking a
    // buffer faults in every page of it at once (8 MB for a 1080p picture),
    // and pictures are copied out as they arrive anyway.
    let context = ContextRc::new(
        &main_loop,
        Some(properties! { "mem.allow-mlock" => "false" }),
    )
    .map_err(failed("cannot create a PipeWire context"))?;
    let core = context
        .connect_fd_rc(fd, None)
        .map_err(failed("cannot connect to PipeWire"))?;

    let weak_loop = main_loop.downgrade();
    let core_shared = Arc::clone(shared);
    let _core_listener = core
        .add_listener_local()
        .error(move |id, _seq, res, message| {
            if id == CORE_ID {
                core_shared.end(format!("the PipeWire connection failed: {message} ({res})"));
                if let Some(main_loop) = weak_loop.upgrade() {
                    main_loop.quit();
                }
            } else {
                tracing::debug!("pipewire error on object {id}: {message} ({res})");
            }
        })
        .register();

    // The node's removal is the surest sign the desktop ended the stream.
    let link = Rc::new(Link::default());
    link.node.set(node);
    link.whole_next.set(true);
    link.connected_at.set(Some(Instant::now()));
    let registry = core
        .get_registry_rc()
        .map_err(failed("cannot read the PipeWire registry"))?;
    let registry_link = Rc::clone(&link);
    let registry_shared = Arc::clone(shared);
    let _registry_listener = registry
        .add_listener_local()
        .global_remove(move |id| {
            if id == registry_link.node.get() {
                registry_shared.end(format!("the desktop removed the stream (node {id})"));
            }
        })
        .register();

    let stream = StreamRc::new(
        core.clone(),
        "ra-capture",
        properties! {
            *pipewire::keys::MEDIA_TYPE => "Video",
            *pipewire::keys::MEDIA_CATEGORY => "Capture",
            *pipewire::keys::MEDIA_ROLE => "Screen",
        },
    )
    .map_err(failed("cannot create a PipeWire stream"))?;
    let local = Local {
        shared: Arc::clone(shared),
        link: Rc::clone(&link),
        layout: None,
        size: (0, 0),
        unreadable_reported: false,
    };
    let _stream_listener = stream
        .add_local_listener_with_user_data(local)
        .state_changed(|_, local, old, new| state_changed(local, &old, new))
        .param_changed(|stream, local, id, param| {
            if id == ParamType::Format.as_raw()
                && let Some(param) = param
            {
                format_changed(stream, local, param);
            }
        })
        .process(|stream, local| {
            while let Some(mut buffer) = stream.dequeue_buffer() {
                take_buffer(&mut buffer, local);
            }
        })
        .register()
        .map_err(failed("cannot listen to the PipeWire stream"))?;
    connect(&stream, node)?;
    let _ = started.send(Ok(()));

    let quit = Rc::new(Cell::new(false));
    let command_loop = main_loop.downgrade();
    let command_quit = Rc::clone(&quit);
    let command_shared = Arc::clone(shared);
    let command_stream = stream.clone();
    let command_link = Rc::clone(&link);
    let _commands = receiver.attach(main_loop.loop_(), move |command| match command {
        Command::Connect(node) => {
            command_link.retries.set(0);
            if let Err(why) = command_link.connect(&command_stream, node) {
                command_shared.end(why);
            }
        }
        Command::Quit => {
            command_quit.set(true);
            if let Some(main_loop) = command_loop.upgrade() {
                main_loop.quit();
            }
        }
    });
    let watch_stream = stream.clone();
    let watch_shared = Arc::clone(shared);
    let watchdog = main_loop
        .loop_()
        .add_timer(move |_| link.watch_first_picture(&watch_stream, &watch_shared, &nudge));
    let interval = Some(NUDGE_AFTER / 2);
    let _ = watchdog.update_timer(interval, interval);
    main_loop.run();
    drop(watchdog);
    let _ = stream.disconnect();
    Ok(quit.get())
}

/// Connects `stream` to `node` with the formats the capturer takes.
fn connect(stream: &Stream, node: u32) -> Result<(), String> {
    let format = params::enum_format()?;
    let format = Pod::from_bytes(&format).ok_or("cannot build the PipeWire format")?;
    stream
        .connect(
            Direction::Input,
            Some(node),
            StreamFlags::AUTOCONNECT | StreamFlags::MAP_BUFFERS | StreamFlags::DONT_RECONNECT,
            &mut [format],
        )
        .map_err(|e| format!("cannot connect to PipeWire node {node}: {e}"))
}

fn state_changed(local: &mut Local, old: &StreamState, new: StreamState) {
    tracing::debug!("pipewire stream: {old:?} -> {new:?}");
    match new {
        StreamState::Error(message) => local
            .shared
            .end(format!("the PipeWire stream failed: {message}")),
        StreamState::Unconnected if !local.link.switching.get() => {
            local.shared.end("the PipeWire stream was disconnected")
        }
        _ => {}
    }
}

/// A format was agreed: remember it and ask for buffers and metadata.
fn format_changed(stream: &Stream, local: &mut Local, param: &Pod) {
    match format_utils::parse_format(param) {
        Ok((MediaType::Video, MediaSubtype::Raw)) => {}
        _ => return,
    }
    let mut info = VideoInfoRaw::default();
    if let Err(e) = info.parse(param) {
        local
            .shared
            .end(format!("cannot read the PipeWire video format: {e:?}"));
        return;
    }
    let Some(layout) = Layout::from_spa(info.format()) else {
        local.shared.end(format!(
            "the desktop sends an unsupported pixel format {:?}",
            info.format()
        ));
        return;
    };
    let size = (info.size().width, info.size().height);
    tracing::info!(?layout, ?size, "pipewire video format");
    local.layout = Some(layout);
    local.size = size;
    local.link.whole_next.set(true);
    local.shared.lock().format_size = Some(size);
    let params = match params::buffers_and_meta() {
        Ok(params) => params,
        Err(why) => return local.shared.end(why),
    };
    let mut pods: Vec<&Pod> = params.iter().filter_map(|p| Pod::from_bytes(p)).collect();
    if let Err(e) = stream.update_params(&mut pods) {
        local
            .shared
            .end(format!("cannot set the PipeWire buffer parameters: {e}"));
    }
}

/// One buffer: the pointer from its cursor metadata, and the picture when
/// it carries one (mutter sends buffers with only the pointer: size 0).
fn take_buffer(buffer: &mut Buffer<'_>, local: &mut Local) {
    let mut state = local.shared.lock();
    let revision = state.cursor.revision();
    if let Some(meta) = buffer.find_meta::<MetaCursor>() {
        read_cursor(meta, &mut state.cursor);
    }
    let cursor_changed = state.cursor.revision() != revision;
    state.cursor_signal |= cursor_changed;
    let damage = buffer.find_meta::<MetaVideoDamage>().map(|meta| {
        meta.iter()
            .map(|r| {
                let (position, size) = (r.position(), r.size());
                Rect::new(position.x, position.y, size.width, size.height)
            })
            .collect::<Vec<_>>()
    });
    let Some(layout) = local.layout else {
        drop(state);
        if cursor_changed {
            local.shared.notify();
        }
        return;
    };
    let Some(data) = buffer.datas_mut().first_mut() else {
        return;
    };
    let chunk = data.chunk();
    let (offset, chunk_size, flags) = (chunk.offset(), chunk.size(), chunk.flags());
    let stride = usize::try_from(chunk.stride()).unwrap_or(0);
    let stride = if stride == 0 {
        local.size.0 as usize * 4
    } else {
        stride
    };
    let picture_bytes = if chunk_size == 0 || flags.contains(ChunkFlags::CORRUPTED) {
        None
    } else {
        data.data()
    };
    let Some(bytes) = picture_bytes else {
        tracing::trace!(chunk_size, ?flags, "a PipeWire buffer without a picture");
        drop(state);
        if cursor_changed {
            local.shared.notify();
        }
        return;
    };
    let Some(source) = Source::new(bytes, offset as usize, stride, local.size, layout) else {
        if !local.unreadable_reported {
            local.unreadable_reported = true;
            tracing::warn!(
                len = bytes.len(),
                offset,
                stride,
                size = ?local.size,
                "a PipeWire buffer does not hold its picture; skipped"
            );
        }
        return;
    };
    let resized = state.picture.resize(local.size.0, local.size.1);
    if state.pictures == 0 {
        tracing::debug!(
            damage_metadata = damage.is_some(),
            "first picture of the stream"
        );
    }
    let node = local.link.node.get();
    let whole = resized || local.link.whole_next.replace(false) || state.node != node;
    let rects = match damage {
        _ if whole => vec![Rect::new(0, 0, local.size.0, local.size.1)],
        Some(rects) if !rects.is_empty() => rects,
        _ if layout.is_bgr() => pixels::changed_rects(&source, &state.picture.data),
        _ => vec![Rect::new(0, 0, local.size.0, local.size.1)],
    };
    let size = state.picture.size();
    let stride = state.picture.stride();
    let mut gathered = std::mem::take(&mut state.damage);
    for rect in rects {
        if let Some(rect) = super::damage::clip(rect, size.0, size.1) {
            pixels::copy_rect(&source, &mut state.picture.data, stride, rect);
            gathered.add(rect, size);
        }
    }
    if whole {
        gathered.add_whole();
    }
    state.damage = gathered;
    state.node = node;
    state.pictures += 1;
    local.link.pictured.set(true);
    let news = !state.damage.is_clean() || cursor_changed;
    drop(state);
    if news {
        local.shared.notify();
    }
}

/// The pointer from cursor metadata: id 0 means not over the stream; a
/// bitmap comes only when the shape changed (an empty one: hidden).
fn read_cursor(meta: &MetaCursor, cursor: &mut CursorState) {
    tracing::trace!(?meta, bitmap = ?meta.bitmap(), "cursor metadata");
    if meta.id() == 0 {
        cursor.set_position(None);
        return;
    }
    let position = meta.position();
    cursor.set_position(Some((position.x, position.y)));
    let Some(bitmap) = meta.bitmap() else {
        return;
    };
    let size = bitmap.size();
    if size.width == 0 || size.height == 0 || !bitmap.is_valid() {
        cursor.set_shape(None);
        return;
    }
    let hotspot = meta.hotspot();
    let stride = usize::try_from(bitmap.stride()).unwrap_or(0);
    let layout = Layout::from_spa(bitmap.format());
    let shape = bitmap.bitmap_data().and_then(|data| {
        shape_from_bitmap(
            layout,
            (size.width, size.height),
            stride,
            data,
            (hotspot.x, hotspot.y),
        )
    });
    match shape {
        Some(shape) => cursor.set_shape(Some(shape)),
        None => tracing::debug!(
            ?size,
            "cursor bitmap not used (unknown layout or too large)"
        ),
    }
}
