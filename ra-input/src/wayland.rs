//! Input into a Wayland desktop through a remote-desktop session
//! ([`ra_wayland::RemoteDesktop`]: mutter's API or the portal): pointer
//! moves (absolute, onto the stream under the point; relative), buttons,
//! wheel (whole notches as discrete clicks, finer amounts as smooth
//! scrolling), keys by physical position (evdev codes through [`keymap`])
//! and text (as keysyms, so it does not depend on the layout).
//!
//! [`keymap`]: crate::keymap

use std::collections::BTreeSet;
use std::sync::Arc;

use ra_core::desk::{DesktopConsent, HostDesk};
use ra_core::input::{InputError, InputEvent, InputInjector, MouseButton};
use ra_wayland::{Axis, Notify, RemoteDesktop, SessionError, Stream};

use crate::keymap::hid_to_evdev;

/// One notch of a wheel in [`InputEvent::Wheel`] units.
const NOTCH: i32 = 120;
/// How far one notch scrolls as smooth scrolling (libinput's 15° click is
/// 10 units of scroll distance in GNOME).
const NOTCH_DISTANCE: f64 = 10.0;

/// Injects into the desktop of a Wayland remote-desktop session.
#[derive(Debug)]
pub struct WaylandInjector {
    session: Arc<dyn RemoteDesktop>,
    keys: BTreeSet<u32>,
    buttons: BTreeSet<u32>,
}

impl WaylandInjector {
    /// An injector sending into `session` (shared with the capturer, so that
    /// positions land on the streams the helper sees).
    pub fn new(session: Arc<dyn RemoteDesktop>) -> Self {
        WaylandInjector {
            session,
            keys: BTreeSet::new(),
            buttons: BTreeSet::new(),
        }
    }

    fn send(&self, notification: &Notify) -> Result<(), InputError> {
        self.session
            .notify(notification)
            .map_err(|error| match error {
                SessionError::Closed => InputError::TargetLost(error.to_string()),
                SessionError::InputNotAllowed => InputError::Unsupported(error.to_string()),
                SessionError::NoSuchStream(_) => InputError::Unsupported(error.to_string()),
                other => InputError::Backend(Box::new(other)),
            })
    }

    fn key(&mut self, code: u32, pressed: bool) -> Result<(), InputError> {
        self.send(&Notify::KeyboardKeycode { code, pressed })?;
        if pressed {
            self.keys.insert(code);
        } else {
            self.keys.remove(&code);
        }
        Ok(())
    }

    fn button(&mut self, button: u32, pressed: bool) -> Result<(), InputError> {
        self.send(&Notify::PointerButton { button, pressed })?;
        if pressed {
            self.buttons.insert(button);
        } else {
            self.buttons.remove(&button);
        }
        Ok(())
    }

    fn wheel(&self, dx: i32, dy: i32) -> Result<(), InputError> {
        if dx % NOTCH == 0 && dy % NOTCH == 0 {
            for (axis, amount) in [(Axis::Vertical, dy), (Axis::Horizontal, dx)] {
                if amount != 0 {
                    let steps = amount / NOTCH;
                    self.send(&Notify::PointerAxisDiscrete { axis, steps })?;
                }
            }
            return Ok(());
        }
        let scale = NOTCH_DISTANCE / f64::from(NOTCH);
        self.send(&Notify::PointerAxis {
            dx: f64::from(dx) * scale,
            dy: f64::from(dy) * scale,
            finish: true,
        })
    }

    fn text(&self, text: &str) -> Result<(), InputError> {
        for character in text.chars() {
            let keysym = keysym_of(character);
            self.send(&Notify::KeyboardKeysym {
                keysym,
                pressed: true,
            })?;
            self.send(&Notify::KeyboardKeysym {
                keysym,
                pressed: false,
            })?;
        }
        Ok(())
    }
}

/// The stream under the desktop point, or the nearest one (a point past
/// every monitor's edge goes to the edge), and the point within it.
fn locate(streams: &[Stream], x: i32, y: i32) -> Option<(usize, f64, f64)> {
    let distance = |s: &Stream| -> i64 {
        let clamp = |v: i32, low: i32, len: u32| -> i64 {
            let high = i64::from(low) + i64::from(len.max(1)) - 1;
            i64::from(v).clamp(i64::from(low), high)
        };
        let dx = i64::from(x) - clamp(x, s.x, s.width);
        let dy = i64::from(y) - clamp(y, s.y, s.height);
        dx * dx + dy * dy
    };
    let (index, stream) = streams
        .iter()
        .enumerate()
        .min_by_key(|(_, stream)| distance(stream))?;
    let local = |v: i32, origin: i32, len: u32| -> f64 {
        let max = f64::from(len.max(1)) - 1.0;
        (f64::from(v) - f64::from(origin)).clamp(0.0, max)
    };
    Some((
        index,
        local(x, stream.x, stream.width),
        local(y, stream.y, stream.height),
    ))
}

/// The X keysym that types `character`: Latin-1 as itself, control keys by
/// name, the rest as Unicode keysyms (`0x0100_0000 + code point`).
fn keysym_of(character: char) -> u32 {
    match character {
        '\n' | '\r' => 0xff0d, // Return
        '\t' => 0xff09,        // Tab
        '\u{8}' => 0xff08,     // BackSpace
        '\u{1b}' => 0xff1b,    // Escape
        ' '..='~' | '\u{a0}'..='\u{ff}' => u32::from(character),
        other => 0x0100_0000 + u32::from(other),
    }
}

/// The evdev code of a mouse button (`BTN_LEFT` …).
fn evdev_button(button: MouseButton) -> Option<u32> {
    Some(match button {
        MouseButton::Left => 0x110,
        MouseButton::Right => 0x111,
        MouseButton::Middle => 0x112,
        MouseButton::Back => 0x113,
        MouseButton::Forward => 0x114,
        _ => return None,
    })
}

impl InputInjector for WaylandInjector {
    fn inject(&mut self, event: &InputEvent) -> Result<(), InputError> {
        match event {
            InputEvent::PointerMove { x, y } => {
                let streams = self.session.streams();
                let (stream, x, y) = locate(&streams, *x, *y)
                    .ok_or_else(|| InputError::Unsupported("the session has no stream".into()))?;
                self.send(&Notify::PointerMotionAbsolute { stream, x, y })
            }
            InputEvent::PointerMoveRelative { dx, dy } => {
                self.send(&Notify::PointerMotionRelative {
                    dx: f64::from(*dx),
                    dy: f64::from(*dy),
                })
            }
            InputEvent::Button { button, pressed } => {
                let code = evdev_button(*button)
                    .ok_or_else(|| InputError::Unsupported(format!("button {button:?}")))?;
                self.button(code, *pressed)
            }
            InputEvent::Wheel { dx, dy } => self.wheel(*dx, *dy),
            InputEvent::Key { code, pressed } => {
                let evdev = hid_to_evdev(*code)
                    .ok_or_else(|| InputError::Unsupported(format!("key {code:?}")))?;
                self.key(u32::from(evdev), *pressed)
            }
            InputEvent::Text { text } => self.text(text),
            other => Err(InputError::Unsupported(format!("{other:?}"))),
        }
    }

    fn release_all(&mut self) -> Result<(), InputError> {
        let mut first_error = None;
        for code in std::mem::take(&mut self.keys) {
            if let Err(e) = self.send(&Notify::KeyboardKeycode {
                code,
                pressed: false,
            }) {
                first_error.get_or_insert(e);
            }
        }
        for button in std::mem::take(&mut self.buttons) {
            if let Err(e) = self.send(&Notify::PointerButton {
                button,
                pressed: false,
            }) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The host's desk on a Wayland desktop shared through `session`: no panic
/// key and no watcher of the local user's input — a Wayland desktop lets no
/// application watch them — which the session tells the application when
/// `controlled` (the helper may get control), and the desktop's own consent
/// (the portal's dialog), which the session records in the audit log.
pub fn wayland_desk(session: &dyn RemoteDesktop, controlled: bool) -> HostDesk {
    let mut desk = HostDesk::default();
    if controlled {
        desk.limitation = Some(ra_wayland::NO_GLOBAL_INPUT.to_owned());
    }
    desk.desktop_consent = session.desk_consent().map(|consent| DesktopConsent {
        api: session.api().name().to_owned(),
        monitors: consent.monitors,
        input_allowed: consent.input_allowed,
    });
    desk
}

#[cfg(test)]
mod tests {
    use ra_wayland::Api;

    use super::*;

    fn stream(x: i32, y: i32, width: u32, height: u32) -> Stream {
        Stream {
            node_id: 0,
            handle: String::new(),
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn points_land_on_the_stream_under_them() {
        let streams = [stream(0, 0, 1920, 1080), stream(1920, 0, 1280, 1024)];
        assert_eq!(locate(&streams, 100, 50), Some((0, 100.0, 50.0)));
        assert_eq!(locate(&streams, 2000, 70), Some((1, 80.0, 70.0)));
        // Past every edge: clamped onto the nearest stream.
        assert_eq!(locate(&streams, -40, 2000), Some((0, 0.0, 1079.0)));
        assert_eq!(locate(&streams, 5000, 10), Some((1, 1279.0, 10.0)));
        assert_eq!(locate(&[], 1, 1), None);
    }

    #[test]
    fn text_becomes_keysyms() {
        assert_eq!(keysym_of('a'), 0x61);
        assert_eq!(keysym_of('é'), 0xe9);
        assert_eq!(keysym_of('\n'), 0xff0d);
        assert_eq!(keysym_of('€'), 0x0100_20ac);
        assert_eq!(keysym_of('日'), 0x0100_65e5);
    }

    /// A session that only says which API opened it and what the desk allowed.
    #[derive(Debug)]
    struct Asked(Api, Option<ra_wayland::DeskConsent>);

    impl RemoteDesktop for Asked {
        fn api(&self) -> Api {
            self.0
        }
        fn streams(&self) -> Vec<Stream> {
            Vec::new()
        }
        fn open_pipewire(&self) -> Result<std::os::fd::OwnedFd, SessionError> {
            Err(SessionError::Closed)
        }
        fn notify(&self, _: &Notify) -> Result<(), SessionError> {
            Err(SessionError::Closed)
        }
        fn is_closed(&self) -> bool {
            true
        }
        fn desk_consent(&self) -> Option<ra_wayland::DeskConsent> {
            self.1
        }
    }

    #[test]
    fn the_wayland_desk_says_what_is_missing_and_what_the_desk_allowed() {
        let portal = Asked(
            Api::Portal,
            Some(ra_wayland::DeskConsent {
                monitors: 2,
                input_allowed: false,
            }),
        );
        let desk = wayland_desk(&portal, true);
        assert!(desk.panic_key.is_none() && desk.local_input.is_none());
        assert_eq!(
            desk.limitation.as_deref(),
            Some(ra_wayland::NO_GLOBAL_INPUT)
        );
        assert_eq!(
            desk.desktop_consent,
            Some(DesktopConsent {
                api: "portal".into(),
                monitors: 2,
                input_allowed: false,
            })
        );
        // Mutter asks nobody; without control there is nothing to say.
        let desk = wayland_desk(&Asked(Api::Mutter, None), false);
        assert!(desk.limitation.is_none() && desk.desktop_consent.is_none());
    }
}
