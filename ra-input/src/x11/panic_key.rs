//! [`PanicKey`]: a global key combination on the root window.

use std::sync::Arc;
use std::time::Duration;

use ra_core::keys::{self, KeyCode};
use x11rb::connection::Connection as _;
use x11rb::errors::ReplyError;
use x11rb::protocol::Event;
use x11rb::protocol::xkb::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, GrabMode, ModMask, Window};
use x11rb::rust_connection::RustConnection;

use super::connect;
use super::error::{OrX11, X11Error};
use super::worker::Worker;
use crate::keymap;

/// Keysyms of the lock keys whose modifier state must not matter.
const NUM_LOCK: u32 = 0xff7f;
const SCROLL_LOCK: u32 = 0xff14;

/// A key combination grabbed on the root window: each time it is pressed,
/// the callback runs (on the panic key's own thread).
///
/// The combination is modifiers (Ctrl, Shift, Alt, Super, either side) plus
/// exactly one other key; it fires whatever the state of Caps Lock, Num Lock
/// and Scroll Lock. It is grabbed with `GrabKey` for exactly those modifier
/// states, so every other key and combination (Pause alone, Ctrl+Pause,
/// Ctrl+Alt+Shift+Pause, …) still reaches the focused window. While the
/// combination's key is down the X server sends all keys to this client (that
/// is how key grabs work); they are dropped.
///
/// Holding the combination fires once (XKB detectable auto-repeat; without
/// XKB a held key may fire again on each repeat). Injected presses (XTEST) fire
/// it too: a helper pressing it only revokes their own control.
///
/// Dropping it ungrabs the keys, closes its connection and joins its thread.
pub struct PanicKey {
    worker: Worker,
    root: Window,
    keycode: u8,
    grabbed_masks: Vec<u16>,
    keys: Vec<KeyCode>,
}

impl std::fmt::Debug for PanicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PanicKey")
            .field("keys", &self.keys)
            .field("keycode", &self.keycode)
            .field("grabbed_masks", &self.grabbed_masks)
            .finish_non_exhaustive()
    }
}

impl PanicKey {
    /// The default combination: Ctrl+Alt+Pause.
    pub const DEFAULT_COMBO: &'static str = "ctrl+alt+pause";

    /// Grabs `keys` (HID usages: modifiers plus one other key) on `display`
    /// (`None`: `$DISPLAY`) and calls `on_press` on each press. `on_press`
    /// runs on the panic key's thread and must not block (send on a channel).
    ///
    /// # Errors
    /// [`X11Error::InvalidCombo`] when `keys` is not modifiers plus one key or
    /// a key has no X keycode or modifier, [`X11Error::AlreadyGrabbed`] when
    /// another client holds the combination, [`X11Error::Connect`] and others
    /// when the display cannot be used.
    pub fn start(
        display: Option<&str>,
        keys: &[KeyCode],
        on_press: Box<dyn Fn() + Send>,
    ) -> Result<Self, X11Error> {
        let (conn, screen) = connect(display)?;
        let root = screen.root;
        let combo = Combo::resolve(&conn, keys)?;
        enable_detectable_auto_repeat(&conn);

        let mut grabbed_masks = Vec::new();
        for locks in lock_subsets(&combo.lock_masks) {
            let mask = combo.modifiers | locks;
            let cookie = conn
                .grab_key(
                    false,
                    root,
                    ModMask::from(mask),
                    combo.keycode,
                    GrabMode::ASYNC,
                    GrabMode::ASYNC,
                )
                .or_x11()?;
            match cookie.check() {
                Ok(()) => grabbed_masks.push(mask),
                Err(ReplyError::X11Error(error))
                    if error.error_kind == x11rb::protocol::ErrorKind::Access =>
                {
                    return Err(X11Error::AlreadyGrabbed(combo_name(keys)));
                }
                Err(error) => return Err(X11Error::Connection(Box::new(error))),
            }
        }

        let (keycode, modifiers) = (combo.keycode, combo.modifiers);
        let mut down = false;
        let worker = Worker::spawn(
            Arc::new(conn),
            root,
            "ra-x11-panic-key",
            Box::new(move |_conn, event| {
                match event {
                    // Auto-repeat sends more presses (and no releases, with
                    // detectable auto-repeat): fire once per press.
                    Event::KeyPress(e)
                        if !down
                            && e.detail == keycode
                            && u16::from(e.state) & modifiers == modifiers =>
                    {
                        down = true;
                        on_press();
                    }
                    Event::KeyRelease(e) if e.detail == keycode => down = false,
                    _ => {}
                }
                Ok(())
            }),
            None,
        )?;
        Ok(PanicKey {
            worker,
            root,
            keycode,
            grabbed_masks,
            keys: keys.to_vec(),
        })
    }

    /// Like [`PanicKey::start`], with the combination as a script string such
    /// as `"ctrl+alt+pause"` (see [`ra_core::keys::parse_combo`]).
    ///
    /// # Errors
    /// [`X11Error::InvalidCombo`] when `combo` does not parse, else as
    /// [`PanicKey::start`].
    pub fn start_combo(
        display: Option<&str>,
        combo: &str,
        on_press: Box<dyn Fn() + Send>,
    ) -> Result<Self, X11Error> {
        let keys = keys::parse_combo(combo)
            .ok_or_else(|| X11Error::InvalidCombo(format!("cannot parse {combo:?}")))?;
        PanicKey::start(display, &keys, on_press)
    }

    /// The combination, as given.
    pub fn keys(&self) -> &[KeyCode] {
        &self.keys
    }

    /// Returns once every key event the X server sent to the panic key
    /// before this call has been handled (and callbacks for it have run).
    ///
    /// # Errors
    /// [`X11Error::Timeout`] after `timeout`, [`X11Error::Stopped`] when the
    /// thread has ended (the connection broke).
    pub fn sync(&self, timeout: Duration) -> Result<(), X11Error> {
        self.worker.sync(timeout)
    }
}

impl Drop for PanicKey {
    fn drop(&mut self) {
        let conn = self.worker.conn();
        for &mask in &self.grabbed_masks {
            let _ = conn.ungrab_key(self.keycode, self.root, ModMask::from(mask));
        }
        let _ = conn.flush();
        // Dropping the worker (after this) stops and joins the thread; the
        // connection closes with the last reference.
    }
}

/// A combination resolved against the display's keyboard.
#[derive(Debug)]
struct Combo {
    keycode: u8,
    /// Modifier mask of the combination's modifier keys.
    modifiers: u16,
    /// Masks of Caps Lock, Num Lock and Scroll Lock (those bound to a
    /// modifier), which must not matter.
    lock_masks: Vec<u16>,
}

/// Checks that `keys` are modifiers plus exactly one other key, each with an
/// X keycode; the modifiers and the key apart.
pub(super) fn check_combo(keys: &[KeyCode]) -> Result<(Vec<KeyCode>, KeyCode), X11Error> {
    let (modifier_keys, others): (Vec<KeyCode>, Vec<KeyCode>) =
        keys.iter().partition(|key| key.is_modifier());
    let [key] = others.as_slice() else {
        return Err(X11Error::InvalidCombo(format!(
            "{} needs exactly one key besides the modifiers",
            combo_name(keys)
        )));
    };
    for &k in keys {
        x11_keycode(k)?;
    }
    Ok((modifier_keys, *key))
}

impl Combo {
    fn resolve(conn: &RustConnection, keys: &[KeyCode]) -> Result<Combo, X11Error> {
        let (modifier_keys, key) = check_combo(keys)?;
        let keycode = x11_keycode(key)?;
        let modifier_map = conn.get_modifier_mapping().or_x11()?.reply().or_x11()?;
        let per_modifier = usize::from(modifier_map.keycodes_per_modifier());
        // Bit i of the X modifier mask holds the keycodes of row i.
        let mask_of = |keycode: u8| -> Option<u16> {
            modifier_map
                .keycodes
                .chunks(per_modifier.max(1))
                .position(|row| row.contains(&keycode))
                .map(|bit| 1u16 << bit)
        };

        let mut modifiers = 0;
        for &modifier in &modifier_keys {
            let code = x11_keycode(modifier)?;
            modifiers |= mask_of(code).ok_or_else(|| {
                X11Error::InvalidCombo(format!("{modifier} is not a modifier on this display"))
            })?;
        }

        let setup = conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let mapping = conn
            .get_keyboard_mapping(min, max.saturating_sub(min).saturating_add(1))
            .or_x11()?
            .reply()
            .or_x11()?;
        let per_keycode = usize::from(mapping.keysyms_per_keycode).max(1);
        let keycodes_of = |keysym: u32| {
            mapping
                .keysyms
                .chunks(per_keycode)
                .zip(min..=max)
                .filter(move |(syms, _)| syms.contains(&keysym))
                .map(|(_, code)| code)
        };
        let mut lock_masks = vec![u16::from(ModMask::LOCK)];
        for keysym in [NUM_LOCK, SCROLL_LOCK] {
            lock_masks.extend(keycodes_of(keysym).filter_map(mask_of));
        }
        // A lock bit that is part of the combination is not "ignored".
        lock_masks.retain(|&mask| mask & modifiers == 0);
        lock_masks.sort_unstable();
        lock_masks.dedup();
        Ok(Combo {
            keycode,
            modifiers,
            lock_masks,
        })
    }
}

/// Every OR-combination of `masks` (including none): the lock states to grab.
fn lock_subsets(masks: &[u16]) -> Vec<u16> {
    let mut subsets = vec![0u16];
    for &mask in masks {
        let with: Vec<u16> = subsets.iter().map(|s| s | mask).collect();
        subsets.extend(with);
    }
    subsets.sort_unstable();
    subsets.dedup();
    subsets
}

fn x11_keycode(key: KeyCode) -> Result<u8, X11Error> {
    keymap::hid_to_x11_keycode(key)
        .ok_or_else(|| X11Error::InvalidCombo(format!("{key} has no x11 keycode")))
}

fn combo_name(keys: &[KeyCode]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("+")
}

/// Asks XKB to send no release events for auto-repeated keys, so a held
/// combination shows as one press. Without XKB it still works, but a held
/// combination may fire on every repeat.
fn enable_detectable_auto_repeat(conn: &RustConnection) {
    let result = (|| -> Result<bool, Box<dyn std::error::Error>> {
        if !conn.xkb_use_extension(1, 0)?.reply()?.supported {
            return Ok(false);
        }
        let flag = xkb::PerClientFlag::DETECTABLE_AUTO_REPEAT;
        let reply = conn
            .xkb_per_client_flags(
                xkb::ID::USE_CORE_KBD.into(),
                flag,
                flag,
                xkb::BoolCtrl::from(0u32),
                xkb::BoolCtrl::from(0u32),
                xkb::BoolCtrl::from(0u32),
            )?
            .reply()?;
        Ok(reply.value & flag == flag)
    })();
    match result {
        Ok(true) => {}
        Ok(false) => tracing::debug!("no xkb detectable auto-repeat for the panic key"),
        Err(error) => tracing::debug!(%error, "no xkb detectable auto-repeat for the panic key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_subsets_cover_every_state() {
        assert_eq!(lock_subsets(&[]), vec![0]);
        assert_eq!(lock_subsets(&[2, 16]), vec![0, 2, 16, 18]);
        assert_eq!(lock_subsets(&[2, 16, 32]).len(), 8);
    }
}
