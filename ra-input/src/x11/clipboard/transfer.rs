//! The requestor's side: getting the clipboard's text from its owner with
//! ConvertSelection, as UTF8_STRING (or STRING from older clients), whole or
//! in INCR chunks (ICCCM 2.4 and 2.7.2).
//!
//! A [`Transfer`] is a state machine driven by the events of its requestor
//! window on the clipboard's worker thread, so it never blocks that thread
//! waiting for an owner that may be slow or gone.

use std::time::Instant;

use ra_core::session::MAX_CLIPBOARD_LEN;
use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt as _, GetPropertyReply, Property, PropertyNotifyEvent,
    SelectionNotifyEvent, Window,
};
use x11rb::rust_connection::RustConnection;
use x11rb::{CURRENT_TIME, NONE};

use super::atoms::Atoms;
use super::serve::from_latin1;
use crate::x11::error::{OrX11, X11Error};

/// How many 32-bit words of a property to read at once: one more byte than
/// the limit tells a too-long text from one that just fits.
const READ_WORDS: u32 = (MAX_CLIPBOARD_LEN / 4 + 1) as u32;

/// What a finished transfer got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fetched {
    /// The clipboard's text.
    Text(String),
    /// No owner, or it has no text.
    Empty,
    /// The text is longer than [`MAX_CLIPBOARD_LEN`].
    TooLong,
}

#[derive(Debug)]
enum State {
    Idle,
    /// ConvertSelection sent for `target`; `fallback` is asked next if the
    /// owner refuses.
    Converting {
        target: Atom,
        fallback: Option<Atom>,
        since: Instant,
    },
    /// The owner sends the text in chunks, each a new value of the property.
    Incremental {
        target: Atom,
        data: Vec<u8>,
        too_long: bool,
        since: Instant,
    },
}

/// One requestor window and the property owners write the text into.
#[derive(Debug)]
pub(super) struct Transfer {
    window: Window,
    property: Atom,
    state: State,
}

impl Transfer {
    /// An idle transfer into `property` of `window`.
    pub(super) fn new(window: Window, property: Atom) -> Transfer {
        Transfer {
            window,
            property,
            state: State::Idle,
        }
    }

    /// The requestor window.
    pub(super) fn window(&self) -> Window {
        self.window
    }

    /// When the running transfer started (`None`: idle).
    pub(super) fn busy_since(&self) -> Option<Instant> {
        match self.state {
            State::Idle => None,
            State::Converting { since, .. } | State::Incremental { since, .. } => Some(since),
        }
    }

    /// Asks the clipboard's owner for its text (dropping any transfer in
    /// progress). The answer comes as events to [`Transfer::on_selection_notify`].
    pub(super) fn start(&mut self, conn: &RustConnection, atoms: &Atoms) -> Result<(), X11Error> {
        self.convert(
            conn,
            atoms,
            atoms.UTF8_STRING,
            Some(AtomEnum::STRING.into()),
        )
    }

    /// Forgets the transfer in progress; a late answer is ignored.
    pub(super) fn cancel(&mut self) {
        self.state = State::Idle;
    }

    fn convert(
        &mut self,
        conn: &RustConnection,
        atoms: &Atoms,
        target: Atom,
        fallback: Option<Atom>,
    ) -> Result<(), X11Error> {
        conn.convert_selection(
            self.window,
            atoms.CLIPBOARD,
            target,
            self.property,
            CURRENT_TIME,
        )
        .or_x11()?;
        // The worker blocks reading events without flushing: send it now.
        conn.flush().or_x11()?;
        self.state = State::Converting {
            target,
            fallback,
            since: Instant::now(),
        };
        Ok(())
    }

    /// Handles the owner's answer; `Some` once the transfer is over.
    pub(super) fn on_selection_notify(
        &mut self,
        conn: &RustConnection,
        atoms: &Atoms,
        event: &SelectionNotifyEvent,
    ) -> Result<Option<Fetched>, X11Error> {
        if event.requestor != self.window || event.selection != atoms.CLIPBOARD {
            return Ok(None);
        }
        let State::Converting {
            target, fallback, ..
        } = self.state
        else {
            // A late answer to a cancelled transfer.
            return Ok(None);
        };
        if event.property == NONE {
            // Refused (or there is no owner): try the older encoding.
            return match fallback {
                Some(next) => self.convert(conn, atoms, next, None).map(|()| None),
                None => Ok(Some(self.finish(Fetched::Empty))),
            };
        }
        let reply = take_property(conn, self.window, self.property)?;
        if reply.type_ == atoms.INCR {
            // Reading it deleted it, which tells the owner to send the chunks.
            self.state = State::Incremental {
                target,
                data: Vec::new(),
                too_long: false,
                since: Instant::now(),
            };
            return Ok(None);
        }
        if reply.bytes_after > 0 {
            // Not deleted by the read: delete it so the owner sees it taken.
            conn.delete_property(self.window, self.property).or_x11()?;
            return Ok(Some(self.finish(Fetched::TooLong)));
        }
        Ok(Some(self.finish(decode(target, reply.value))))
    }

    /// Handles a property change of the requestor window (INCR chunks).
    pub(super) fn on_property_notify(
        &mut self,
        conn: &RustConnection,
        event: &PropertyNotifyEvent,
    ) -> Result<Option<Fetched>, X11Error> {
        if event.window != self.window
            || event.atom != self.property
            || event.state != Property::NEW_VALUE
        {
            return Ok(None);
        }
        let State::Incremental {
            target,
            data,
            too_long,
            ..
        } = &mut self.state
        else {
            return Ok(None);
        };
        let reply = take_property(conn, self.window, self.property)?;
        if reply.bytes_after > 0 {
            conn.delete_property(self.window, self.property).or_x11()?;
            *too_long = true;
        }
        if reply.value.is_empty() && reply.bytes_after == 0 {
            // The empty chunk ends the transfer.
            let fetched = if *too_long {
                Fetched::TooLong
            } else {
                decode(*target, std::mem::take(data))
            };
            return Ok(Some(self.finish(fetched)));
        }
        if !*too_long {
            data.extend_from_slice(&reply.value);
            if data.len() > MAX_CLIPBOARD_LEN {
                // Keep taking the chunks (the owner waits for each to be
                // deleted) but stop keeping them.
                *too_long = true;
                *data = Vec::new();
            }
        }
        Ok(None)
    }

    fn finish(&mut self, fetched: Fetched) -> Fetched {
        self.state = State::Idle;
        fetched
    }
}

/// The property's bytes as text of the `target` encoding.
fn decode(target: Atom, bytes: Vec<u8>) -> Fetched {
    let text = if target == Atom::from(AtomEnum::STRING) {
        from_latin1(&bytes)
    } else {
        // Owners that send broken UTF-8 still get their text across.
        match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    };
    limit(text)
}

/// `text`, unless it is too long to share (Latin-1 grows in UTF-8).
fn limit(text: String) -> Fetched {
    if text.len() > MAX_CLIPBOARD_LEN {
        Fetched::TooLong
    } else {
        Fetched::Text(text)
    }
}

/// Reads the transfer property, deleting it (which, during an INCR
/// transfer, asks the owner for the next chunk).
fn take_property(
    conn: &RustConnection,
    window: Window,
    property: Atom,
) -> Result<GetPropertyReply, X11Error> {
    conn.get_property(true, window, property, AtomEnum::ANY, 0, READ_WORDS)
        .or_x11()?
        .reply()
        .or_x11()
}
