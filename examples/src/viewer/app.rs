//! The window: winit's event loop on the main thread, drawing with softbuffer,
//! turning the helper's mouse and keyboard into input while in control.
//!
//! Keys the viewer keeps for itself (never sent to the host): F7 shows the
//! host's next display, F8 asks for control, F9 gives it back.

use std::num::NonZeroU32;
use std::rc::Rc;

use ra_core::runtime::ReceivedFrame;
use ra_examples::output::Output;
use serde_json::json;
use softbuffer::{Context, Surface};
use tokio::sync::mpsc;
use winit::application::ApplicationHandler;
use winit::dpi::{PhysicalPosition, PhysicalSize};
use winit::event::{ElementState, Ime, KeyEvent, WindowEvent};
use winit::event_loop::ActiveEventLoop;
use winit::keyboard::{KeyCode, PhysicalKey};
use winit::window::{Window, WindowId};

use super::cursor::RemoteCursor;
use super::input::{self, InputForwarder};
use super::keymap;
use super::layout::Layout;
use super::masks;
use super::scale::{BACKGROUND, Canvas, Picture, Scaler, fill_bars};
use super::session::{Command, Control, ControlFlag, FrameSlot, UiEvent, ViewState};

/// How the window starts and when it stops.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The host's name, for the title.
    pub(crate) host: String,
    /// Initial inner size in physical pixels.
    pub(crate) geometry: (u32, u32),
    /// Let an input method compose text (sent as text, not keys).
    pub(crate) ime: bool,
    /// Close after showing this many frames.
    pub(crate) exit_after_frames: Option<u64>,
}

/// The window and what draws into it.
struct View {
    window: Rc<Window>,
    surface: Surface<Rc<Window>, Rc<Window>>,
    /// Inner size, as the last resize said (asking X costs a round trip).
    size: PhysicalSize<u32>,
}

/// The viewer's event-loop state.
pub(crate) struct App {
    options: Options,
    output: Output,
    commands: mpsc::UnboundedSender<Command>,
    frames: FrameSlot,
    control: ControlFlag,
    view: Option<View>,
    /// The frame on screen.
    frame: Option<ReceivedFrame>,
    /// The frame has not been presented yet.
    frame_is_new: bool,
    /// The host's pointer changed since the last picture was presented.
    cursor_is_new: bool,
    scaler: Option<Scaler>,
    cursor: RemoteCursor,
    /// The parts of the picture the host masks.
    masks: Vec<ra_core::media::Rect>,
    state: ViewState,
    input: InputForwarder,
    /// Where the helper's pointer is in the window (`None`: outside it).
    pointer: Option<PhysicalPosition<f64>>,
    /// Control as last seen, to notice it ending.
    was_controlling: bool,
    /// Frames presented.
    shown: u64,
    /// A failure that ends the program with an error.
    failure: Option<String>,
}

impl App {
    /// A viewer that sends its requests to `commands`.
    pub(crate) fn new(
        options: Options,
        output: Output,
        commands: mpsc::UnboundedSender<Command>,
        frames: FrameSlot,
        control: ControlFlag,
    ) -> App {
        App {
            options,
            output,
            commands,
            frames,
            control,
            view: None,
            frame: None,
            frame_is_new: false,
            cursor_is_new: false,
            scaler: None,
            cursor: RemoteCursor::default(),
            masks: Vec::new(),
            state: ViewState {
                control: Control::ViewOnly,
                paused: false,
                ended: None,
            },
            input: InputForwarder::default(),
            pointer: None,
            was_controlling: false,
            shown: 0,
            failure: None,
        }
    }

    /// Why the window failed, if it did.
    pub(crate) fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    fn fail(&mut self, event_loop: &ActiveEventLoop, message: String) {
        self.failure = Some(message);
        event_loop.exit();
    }

    fn open(&mut self, event_loop: &ActiveEventLoop) -> Result<View, String> {
        let (width, height) = self.options.geometry;
        let attributes = Window::default_attributes()
            .with_title(self.state.title(&self.options.host))
            .with_inner_size(PhysicalSize::new(width, height));
        let window = Rc::new(
            event_loop
                .create_window(attributes)
                .map_err(|e| format!("cannot open a window: {e}"))?,
        );
        window.set_ime_allowed(self.options.ime);
        let context =
            Context::new(window.clone()).map_err(|e| format!("cannot draw in the window: {e}"))?;
        let surface = Surface::new(&context, window.clone())
            .map_err(|e| format!("cannot draw in the window: {e}"))?;
        let size = window.inner_size();
        self.output.event(
            "window",
            json!({ "id": u64::from(window.id()), "width": size.width, "height": size.height }),
            || format!("Window open ({}x{}).", size.width, size.height),
        );
        Ok(View {
            window,
            surface,
            size,
        })
    }

    /// Where the picture is in the window now.
    fn layout(&self) -> Option<Layout> {
        let (view, frame) = (self.view.as_ref()?, &self.frame.as_ref()?.frame);
        Layout::fit(frame.width, frame.height, view.size.width, view.size.height)
    }

    /// Whether input may be sent; forgets held keys when control ended.
    fn controlling(&mut self) -> bool {
        let controlling = self.control.get();
        if self.was_controlling && !controlling {
            self.input.reset();
        }
        self.was_controlling = controlling;
        controlling
    }

    fn request_redraw(&self) {
        if let Some(view) = &self.view {
            view.window.request_redraw();
        }
    }

    fn redraw(&mut self, event_loop: &ActiveEventLoop) {
        let layout = self.layout();
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let (Some(width), Some(height)) = (
            NonZeroU32::new(view.size.width),
            NonZeroU32::new(view.size.height),
        ) else {
            return;
        };
        let drawn = view
            .surface
            .resize(width, height)
            .and_then(|()| view.surface.buffer_mut())
            .and_then(|mut buffer| {
                let mut canvas = Canvas {
                    pixels: &mut buffer,
                    width: width.get() as usize,
                    height: height.get() as usize,
                };
                match self.frame.as_ref().zip(layout) {
                    Some((frame, layout)) => {
                        paint(frame, &mut self.scaler, &mut canvas, &layout);
                        masks::draw(&mut canvas, &layout, &self.masks);
                        self.cursor.draw(&mut canvas, &layout);
                    }
                    None => canvas.pixels.fill(BACKGROUND),
                }
                buffer.present()
            });
        if let Err(e) = drawn {
            self.fail(event_loop, format!("cannot draw in the window: {e}"));
            return;
        }
        let Some(layout) = layout else {
            return;
        };
        if self.output.is_json()
            && (self.frame_is_new || self.cursor_is_new)
            && let Some(view) = &self.view
        {
            // A round trip on the connection softbuffer drew with (winit asks
            // X for the size): once it returns, the server has put the picture
            // on screen, so whoever reads the event below can look at it.
            let _ = view.window.inner_size();
        }
        if std::mem::take(&mut self.cursor_is_new) {
            self.report_cursor(&layout);
        }
        if std::mem::take(&mut self.frame_is_new)
            && let Some(frame) = &self.frame
        {
            self.shown += 1;
            self.report_frame(frame, &layout, view_size(&self.view));
            if self
                .options
                .exit_after_frames
                .is_some_and(|n| self.shown >= n)
            {
                event_loop.exit();
            }
        }
    }

    /// Prints a `frame` event for each frame put on screen (JSON only: a
    /// person has the window).
    fn report_frame(&self, frame: &ReceivedFrame, layout: &Layout, window: (u32, u32)) {
        if !self.output.is_json() {
            return;
        }
        let latency_ms = (frame.latency.as_secs_f64() * 10_000.0).round() / 10.0;
        self.output.event(
            "frame",
            json!({
                "seq": frame.seq,
                "shown": self.shown,
                "width": frame.frame.width,
                "height": frame.frame.height,
                "latency_ms": latency_ms,
                "picture": {
                    "x": layout.x, "y": layout.y,
                    "width": layout.width, "height": layout.height,
                },
                "window": { "width": window.0, "height": window.1 },
            }),
            String::new,
        );
    }

    /// Prints a `cursor` event when the host's pointer was drawn somewhere
    /// new (JSON only), at most once per picture presented.
    fn report_cursor(&self, layout: &Layout) {
        if !self.output.is_json() {
            return;
        }
        let (x, y, visible) = self.cursor.position();
        let (window_x, window_y) = layout.to_window(x, y);
        self.output.event(
            "cursor",
            json!({ "x": x, "y": y, "visible": visible, "window_x": window_x, "window_y": window_y }),
            String::new,
        );
    }

    fn key(&mut self, event: &KeyEvent, is_synthetic: bool) {
        let pressed = event.state == ElementState::Pressed;
        let hotkey = match event.physical_key {
            PhysicalKey::Code(KeyCode::F7) => Some(Command::NextDisplay),
            PhysicalKey::Code(KeyCode::F8) => Some(Command::RequestControl),
            PhysicalKey::Code(KeyCode::F9) => Some(Command::ReleaseControl),
            _ => None,
        };
        if let Some(command) = hotkey {
            if pressed && !event.repeat && !is_synthetic {
                let _ = self.commands.send(command);
            }
            return;
        }
        // Repeats are skipped: the host's own key repeat runs while a key is
        // held there. Synthetic presses (keys already down when the window got
        // the focus) were not typed into this window.
        if event.repeat || (is_synthetic && pressed) || !self.controlling() {
            return;
        }
        match keymap::usage(event.physical_key) {
            Some(code) => self.input.key(code, pressed),
            None => tracing::debug!(key = ?event.physical_key, "key without a HID usage"),
        }
    }

    /// Tells the forwarder where the pointer is on the host's screen now (it
    /// may not have moved since control was granted or the picture changed).
    fn sync_pointer(&mut self) {
        let layout = self.layout();
        let remote = self
            .pointer
            .zip(layout)
            .and_then(|(p, l)| l.to_remote(p.x, p.y));
        self.input.pointer(remote);
    }
}

/// Draws `frame` at `layout` with bars around it, reusing `scaler` while the
/// sizes stay the same.
fn paint(
    frame: &ReceivedFrame,
    scaler: &mut Option<Scaler>,
    canvas: &mut Canvas<'_>,
    layout: &Layout,
) {
    let f = &frame.frame;
    let (source, target) = ((f.width, f.height), (layout.width, layout.height));
    let scaler = match scaler {
        Some(s) if s.fits(source, target) => s,
        _ => scaler.insert(Scaler::new(source, target)),
    };
    fill_bars(canvas, layout, BACKGROUND);
    let picture = Picture {
        data: &f.data,
        stride: f.stride,
        width: f.width,
        height: f.height,
    };
    if !scaler.draw(picture, canvas, layout) {
        tracing::debug!("frame buffer does not match its size");
    }
}

fn view_size(view: &Option<View>) -> (u32, u32) {
    view.as_ref()
        .map_or((0, 0), |v| (v.size.width, v.size.height))
}

impl ApplicationHandler<UiEvent> for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.view.is_some() {
            return;
        }
        match self.open(event_loop) {
            Ok(view) => self.view = Some(view),
            Err(message) => self.fail(event_loop, message),
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::Resized(size) => {
                if let Some(view) = self.view.as_mut() {
                    view.size = size;
                }
                self.request_redraw();
            }
            WindowEvent::RedrawRequested => self.redraw(event_loop),
            WindowEvent::CursorMoved { position, .. } => {
                self.pointer = Some(position);
                if self.controlling() {
                    self.sync_pointer();
                }
            }
            WindowEvent::CursorLeft { .. } => {
                self.pointer = None;
                self.sync_pointer();
            }
            WindowEvent::MouseInput { state, button, .. } if self.controlling() => {
                if let Some(button) = input::button(button) {
                    self.sync_pointer();
                    self.input.button(button, state == ElementState::Pressed);
                }
            }
            WindowEvent::MouseWheel { delta, .. } if self.controlling() => {
                self.sync_pointer();
                let (dx, dy) = input::wheel_units(delta);
                self.input.wheel(dx, dy);
            }
            WindowEvent::KeyboardInput {
                event,
                is_synthetic,
                ..
            } => self.key(&event, is_synthetic),
            WindowEvent::Ime(Ime::Commit(text)) if self.controlling() => self.input.text(text),
            WindowEvent::Focused(false) if self.controlling() => self.input.release_held(),
            _ => {}
        }
    }

    fn user_event(&mut self, event_loop: &ActiveEventLoop, event: UiEvent) {
        match event {
            UiEvent::Frame => {
                if let Some(frame) = self.frames.take() {
                    self.frame = Some(frame);
                    self.frame_is_new = true;
                    self.request_redraw();
                }
            }
            UiEvent::Cursor(update) => {
                self.cursor.update(update);
                self.cursor_is_new = true;
                self.request_redraw();
            }
            UiEvent::Redactions(areas) => {
                self.masks = areas;
                // Shown with the next frame (which the host sends with a new
                // mask) or now, over the last one.
                self.request_redraw();
            }
            UiEvent::State(state) => {
                self.state = state;
                if let Some(view) = &self.view {
                    view.window.set_title(&state.title(&self.options.host));
                }
            }
            UiEvent::Finished { close } => {
                if close {
                    event_loop.exit();
                }
            }
        }
    }

    fn about_to_wait(&mut self, _: &ActiveEventLoop) {
        // One batch per turn of the loop: motion coalesced to its last position.
        if let Some(events) = self.input.take()
            && self.controlling()
        {
            let _ = self.commands.send(Command::Input(events));
        }
    }
}
