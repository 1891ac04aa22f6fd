//! The owner's side: answering other clients' requests for our text
//! (ICCCM 2.2, "Responsibilities of the Selection Owner").

use x11rb::NONE;
use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt as _, EventMask, PropMode, SelectionNotifyEvent,
    SelectionRequestEvent, Window,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use super::atoms::Atoms;
use crate::x11::error::{OrX11, X11Error};

/// Answers `request` with `text` (`None`: we hold no text, refuse). The
/// conversion is written into the requestor's property, then a
/// SelectionNotify tells the requestor it is there (or that it was refused).
pub(super) fn answer(
    conn: &RustConnection,
    atoms: &Atoms,
    owner: Window,
    text: Option<&str>,
    request: &SelectionRequestEvent,
) -> Result<(), X11Error> {
    // Obsolete clients leave the property out: ICCCM says use the target.
    let property = if request.property == NONE {
        request.target
    } else {
        request.property
    };
    let converted = match text {
        Some(text) if request.owner == owner && request.selection == atoms.CLIPBOARD => convert(
            conn,
            atoms,
            request.requestor,
            property,
            request.target,
            text,
        )?,
        _ => false,
    };
    let notify = SelectionNotifyEvent {
        response_type: x11rb::protocol::xproto::SELECTION_NOTIFY_EVENT,
        sequence: 0,
        time: request.time,
        requestor: request.requestor,
        selection: request.selection,
        target: request.target,
        property: if converted { property } else { NONE },
    };
    // An empty mask sends it to the client that created the requestor window.
    conn.send_event(false, request.requestor, EventMask::NO_EVENT, notify)
        .or_x11()?;
    conn.flush().or_x11()
}

/// Writes `text` as `target` into `property` of `requestor`; false when the
/// target is not one we offer. Failures on the requestor's side (its window
/// is gone) come back as X errors, which the worker logs: they are its problem.
fn convert(
    conn: &RustConnection,
    atoms: &Atoms,
    requestor: Window,
    property: Atom,
    target: Atom,
    text: &str,
) -> Result<bool, X11Error> {
    let replace = PropMode::REPLACE;
    if target == atoms.TARGETS {
        conn.change_property32(
            replace,
            requestor,
            property,
            atoms.ATOM,
            &offered_targets(atoms),
        )
        .or_x11()?;
    } else if target == atoms.UTF8_STRING || target == atoms.TEXT {
        // TEXT lets the owner pick the encoding; the type says which it is.
        conn.change_property8(
            replace,
            requestor,
            property,
            atoms.UTF8_STRING,
            text.as_bytes(),
        )
        .or_x11()?;
    } else if target == atoms.TEXT_PLAIN_UTF8 {
        conn.change_property8(replace, requestor, property, target, text.as_bytes())
            .or_x11()?;
    } else if target == Atom::from(AtomEnum::STRING) {
        conn.change_property8(
            replace,
            requestor,
            property,
            AtomEnum::STRING,
            &to_latin1(text),
        )
        .or_x11()?;
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// The targets a `TARGETS` request lists.
fn offered_targets(atoms: &Atoms) -> [Atom; 5] {
    [
        atoms.TARGETS,
        atoms.UTF8_STRING,
        atoms.TEXT_PLAIN_UTF8,
        AtomEnum::STRING.into(),
        atoms.TEXT,
    ]
}

/// `text` in ISO Latin-1 (what `STRING` means); characters it lacks become `?`.
pub(super) fn to_latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// ISO Latin-1 bytes as text (every byte is the code point of the same value).
pub(super) fn from_latin1(bytes: &[u8]) -> String {
    bytes.iter().copied().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_round_trips_and_replaces_the_rest() {
        assert_eq!(to_latin1("café"), b"caf\xe9");
        assert_eq!(from_latin1(b"caf\xe9"), "café");
        assert_eq!(to_latin1("a€b"), b"a?b");
    }
}
