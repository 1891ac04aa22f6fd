//! [`Clipboard`] against a real X server: each test starts its own Xvfb and
//! checks the clipboard against a second `Clipboard` and against plain x11rb
//! clients that read it, or own it, the way other programs do.
#![cfg(all(unix, not(target_os = "macos")))]

use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::Duration;

use ra_capture::xvfb::Xvfb;
use ra_core::session::MAX_CLIPBOARD_LEN;
use ra_input::x11::{Clipboard, X11Error};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xfixes::{ConnectionExt as _, SelectionEventMask};
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ChangeWindowAttributesAux, ConnectionExt as _, CreateWindowAux, EventMask,
    PropMode, Property, SelectionNotifyEvent, SelectionRequestEvent, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::{CURRENT_TIME, NONE};

/// The longest any wait lasts; a passing test never waits this long.
const WAIT: Duration = Duration::from_secs(10);

/// A clipboard whose reported changes arrive on a channel.
fn watched(display: &str) -> (Clipboard, Receiver<String>) {
    let (tx, rx) = mpsc::channel();
    let clipboard = Clipboard::start(
        Some(display),
        Box::new(move |text| {
            let _ = tx.send(text);
        }),
    )
    .unwrap();
    (clipboard, rx)
}

/// A clipboard that reports nothing.
fn quiet(display: &str) -> Clipboard {
    Clipboard::start(Some(display), Box::new(|_| {})).unwrap()
}

/// Asserts that `clipboard` reported nothing more. A read goes through the
/// clipboard's own thread and X connection after every fetch it started
/// before (X answers in order), so whatever it was going to report has been
/// reported by the time it returns.
#[track_caller]
fn assert_quiet(clipboard: &Clipboard, changes: &Receiver<String>) {
    clipboard.sync(WAIT).unwrap();
    let _ = clipboard.text().unwrap();
    assert_eq!(changes.try_recv(), Err(TryRecvError::Empty));
}

fn connect(display: &str) -> (RustConnection, Window) {
    let (conn, screen) = x11rb::connect(Some(display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let window = conn.generate_id().unwrap();
    conn.create_window(
        0,
        window,
        root,
        0,
        0,
        1,
        1,
        0,
        WindowClass::INPUT_ONLY,
        0,
        &CreateWindowAux::new(),
    )
    .unwrap()
    .check()
    .unwrap();
    (conn, window)
}

fn intern(conn: &RustConnection, name: &str) -> Atom {
    conn.intern_atom(false, name.as_bytes())
        .unwrap()
        .reply()
        .unwrap()
        .atom
}

fn atom_name(conn: &RustConnection, atom: Atom) -> String {
    let name = conn.get_atom_name(atom).unwrap().reply().unwrap().name;
    String::from_utf8(name).unwrap()
}

/// Reads the clipboard as `target` the way any X client does; returns the
/// type and bytes of the answer (`None`: refused). Runs on a thread so that
/// an owner that never answers fails the test instead of hanging it.
fn raw_read(display: &str, target: &str) -> Option<(String, Vec<u8>)> {
    let (display, target) = (display.to_owned(), target.to_owned());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (conn, window) = connect(&display);
        let (clipboard, target) = (intern(&conn, "CLIPBOARD"), intern(&conn, &target));
        let property = intern(&conn, "RAW_READ");
        conn.convert_selection(window, clipboard, target, property, CURRENT_TIME)
            .unwrap();
        conn.flush().unwrap();
        loop {
            let Event::SelectionNotify(notify) = conn.wait_for_event().unwrap() else {
                continue;
            };
            if notify.property == NONE {
                let _ = tx.send(None);
                return;
            }
            let reply = conn
                .get_property(true, window, property, AtomEnum::ANY, 0, u32::MAX / 4)
                .unwrap()
                .reply()
                .unwrap();
            let _ = tx.send(Some((atom_name(&conn, reply.type_), reply.value)));
            return;
        }
    });
    rx.recv_timeout(WAIT)
        .expect("the clipboard's owner answers")
}

/// How a [`RawOwner`] hands its text over.
#[derive(Clone, Copy)]
enum Delivery {
    /// In one property, as `UTF8_STRING`.
    Whole,
    /// In one property, as (Latin-1) `STRING` only: an old program.
    Latin1,
    /// In chunks of this many bytes (ICCCM's INCR), as `UTF8_STRING`.
    Incremental(usize),
}

/// Another program owning the clipboard, written with plain x11rb: it
/// answers requests on its own thread until the display goes away, and
/// reports each transfer it completed.
struct RawOwner {
    completed: Receiver<()>,
}

impl RawOwner {
    /// Takes the clipboard with `text`; returns once the server made it the owner.
    fn start(display: &str, text: Vec<u8>, delivery: Delivery) -> RawOwner {
        let display = display.to_owned();
        let (ready_tx, ready) = mpsc::channel();
        let (done_tx, completed) = mpsc::channel();
        std::thread::spawn(move || {
            let (conn, window) = connect(&display);
            let clipboard = intern(&conn, "CLIPBOARD");
            let (utf8, incr) = (intern(&conn, "UTF8_STRING"), intern(&conn, "INCR"));
            let served = match delivery {
                Delivery::Latin1 => AtomEnum::STRING.into(),
                _ => utf8,
            };
            conn.set_selection_owner(window, clipboard, CURRENT_TIME)
                .unwrap();
            conn.get_selection_owner(clipboard)
                .unwrap()
                .reply()
                .unwrap();
            ready_tx.send(()).unwrap();
            // The INCR transfer under way: requestor, property, bytes sent.
            let mut sending: Option<(Window, Atom, usize)> = None;
            // Ends when the test's Xvfb goes away.
            while let Ok(event) = conn.wait_for_event() {
                match (event, delivery) {
                    (Event::SelectionRequest(request), _) if request.target != served => {
                        notify(&conn, &request, NONE);
                    }
                    (Event::SelectionRequest(request), Delivery::Incremental(_)) => {
                        conn.change_window_attributes(
                            request.requestor,
                            &ChangeWindowAttributesAux::new()
                                .event_mask(EventMask::PROPERTY_CHANGE),
                        )
                        .unwrap();
                        let len = u32::try_from(text.len()).unwrap();
                        conn.change_property32(
                            PropMode::REPLACE,
                            request.requestor,
                            request.property,
                            incr,
                            &[len],
                        )
                        .unwrap();
                        notify(&conn, &request, request.property);
                        sending = Some((request.requestor, request.property, 0));
                    }
                    (Event::SelectionRequest(request), _) => {
                        conn.change_property8(
                            PropMode::REPLACE,
                            request.requestor,
                            request.property,
                            served,
                            &text,
                        )
                        .unwrap();
                        notify(&conn, &request, request.property);
                        let _ = done_tx.send(());
                    }
                    // The requestor took the last chunk: send the next.
                    (Event::PropertyNotify(change), Delivery::Incremental(chunk))
                        if change.state == Property::DELETE =>
                    {
                        let Some((requestor, property, sent)) = sending else {
                            continue;
                        };
                        if change.window != requestor || change.atom != property {
                            continue;
                        }
                        let end = (sent + chunk).min(text.len());
                        conn.change_property8(
                            PropMode::REPLACE,
                            requestor,
                            property,
                            utf8,
                            &text[sent..end],
                        )
                        .unwrap();
                        conn.flush().unwrap();
                        if sent == end {
                            // That was the empty chunk that ends it.
                            sending = None;
                            let _ = done_tx.send(());
                        } else {
                            sending = Some((requestor, property, end));
                        }
                    }
                    _ => {}
                }
            }
        });
        ready
            .recv_timeout(WAIT)
            .expect("the raw owner took the clipboard");
        RawOwner { completed }
    }

    /// Waits for the next completed transfer.
    fn expect_completed(&self) {
        self.completed
            .recv_timeout(WAIT)
            .expect("the transfer was completed");
    }
}

/// Tells the requestor its answer is in `property` (`NONE`: refused).
fn notify(conn: &RustConnection, request: &SelectionRequestEvent, property: Atom) {
    let event = SelectionNotifyEvent {
        response_type: x11rb::protocol::xproto::SELECTION_NOTIFY_EVENT,
        sequence: 0,
        time: request.time,
        requestor: request.requestor,
        selection: request.selection,
        target: request.target,
        property,
    };
    conn.send_event(false, request.requestor, EventMask::NO_EVENT, event)
        .unwrap();
    conn.flush().unwrap();
}

/// Runs `f` (which drops the clipboard's owner), then waits until the X
/// server has seen the owner's connection close.
fn owner_gone_after(display: &str, f: impl FnOnce()) {
    let (conn, window) = connect(display);
    conn.xfixes_query_version(5, 0).unwrap().reply().unwrap();
    let clipboard = intern(&conn, "CLIPBOARD");
    conn.xfixes_select_selection_input(
        window,
        clipboard,
        SelectionEventMask::SELECTION_CLIENT_CLOSE,
    )
    .unwrap()
    .check()
    .unwrap();
    f();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(event) = conn.wait_for_event() {
            if let Event::XfixesSelectionNotify(_) = event {
                let _ = tx.send(());
                return;
            }
        }
    });
    rx.recv_timeout(WAIT)
        .expect("the owner's connection closed");
}

#[test]
fn text_set_by_one_client_is_read_by_others() {
    let xvfb = Xvfb::start(320, 240).unwrap();
    let display = xvfb.display();
    let (ours, our_changes) = watched(&display);
    let text = "Grüße aus dem Büro ✓\nzweite Zeile";
    ours.set_text(text).unwrap();

    // Another Clipboard, and plain X clients asking for each target.
    let other = quiet(&display);
    assert_eq!(other.text().unwrap().as_deref(), Some(text));
    let utf8 = raw_read(&display, "UTF8_STRING").unwrap();
    assert_eq!(utf8, ("UTF8_STRING".to_owned(), text.as_bytes().to_vec()));
    let mime = raw_read(&display, "text/plain;charset=utf-8").unwrap();
    assert_eq!(mime.1, text.as_bytes());
    let latin1 = raw_read(&display, "STRING").unwrap();
    assert_eq!(latin1.0, "STRING");
    assert_eq!(latin1.1, b"Gr\xfc\xdfe aus dem B\xfcro ?\nzweite Zeile");
    let (kind, bytes) = raw_read(&display, "TARGETS").unwrap();
    assert_eq!(kind, "ATOM");
    let (conn, _) = connect(&display);
    let targets: Vec<String> = bytes
        .chunks_exact(4)
        .map(|b| atom_name(&conn, u32::from_ne_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    for expected in ["TARGETS", "UTF8_STRING", "STRING", "TEXT"] {
        assert!(targets.iter().any(|t| t == expected), "{targets:?}");
    }
    assert_eq!(raw_read(&display, "image/png"), None);

    // The owner reads its own text too, and never reports it.
    assert_eq!(ours.text().unwrap().as_deref(), Some(text));
    assert_quiet(&ours, &our_changes);

    // A new text replaces the old for everyone.
    ours.set_text("second").unwrap();
    assert_eq!(other.text().unwrap().as_deref(), Some("second"));
    assert_quiet(&ours, &our_changes);
}

#[test]
fn another_clients_text_is_reported_once() {
    let xvfb = Xvfb::start(320, 240).unwrap();
    let display = xvfb.display();
    let (ours, our_changes) = watched(&display);
    let (theirs, their_changes) = watched(&display);
    assert_eq!(
        ours.text().unwrap(),
        None,
        "a new display's clipboard is empty"
    );

    theirs.set_text("from them").unwrap();
    assert_eq!(our_changes.recv_timeout(WAIT).unwrap(), "from them");
    assert_quiet(&ours, &our_changes);
    assert_quiet(&theirs, &their_changes);
    assert_eq!(ours.text().unwrap().as_deref(), Some("from them"));

    // Our own text is not reported; theirs after it is, and only theirs.
    ours.set_text("from us").unwrap();
    assert_quiet(&ours, &our_changes);
    assert_eq!(their_changes.recv_timeout(WAIT).unwrap(), "from us");
    theirs.set_text("again from them").unwrap();
    assert_eq!(our_changes.recv_timeout(WAIT).unwrap(), "again from them");
    assert_quiet(&ours, &our_changes);

    // Taking over the text we set (as clipboard managers do) is no change:
    // reporting it would echo it back to where it came from.
    ours.set_text("kept").unwrap();
    assert_eq!(their_changes.recv_timeout(WAIT).unwrap(), "kept");
    theirs.set_text("kept").unwrap();
    assert_quiet(&ours, &our_changes);
    theirs.set_text("changed").unwrap();
    assert_eq!(our_changes.recv_timeout(WAIT).unwrap(), "changed");
    assert_quiet(&ours, &our_changes);
}

#[test]
fn other_programs_texts_are_read_whole_in_chunks_and_in_latin1() {
    let xvfb = Xvfb::start(320, 240).unwrap();
    let display = xvfb.display();
    let (ours, changes) = watched(&display);

    let whole = "plain and simple ✓";
    let owner = RawOwner::start(&display, whole.into(), Delivery::Whole);
    assert_eq!(changes.recv_timeout(WAIT).unwrap(), whole);
    owner.expect_completed();
    assert_eq!(ours.text().unwrap().as_deref(), Some(whole));

    // Longer than one chunk, with chunk borders inside characters.
    let long: String = "Größenänderung ✓ ".repeat(1000);
    let owner = RawOwner::start(&display, long.clone().into(), Delivery::Incremental(4093));
    assert_eq!(changes.recv_timeout(WAIT).unwrap(), long);
    owner.expect_completed();
    assert_eq!(ours.text().unwrap().as_deref(), Some(long.as_str()));
    owner.expect_completed();

    // An old program that only speaks Latin-1: UTF8_STRING is refused first.
    let owner = RawOwner::start(&display, b"caf\xe9".to_vec(), Delivery::Latin1);
    assert_eq!(changes.recv_timeout(WAIT).unwrap(), "café");
    owner.expect_completed();
    assert_quiet(&ours, &changes);
}

#[test]
fn texts_over_the_session_limit_are_refused() {
    let xvfb = Xvfb::start(320, 240).unwrap();
    let display = xvfb.display();
    let (ours, changes) = watched(&display);
    let too_long = "a".repeat(MAX_CLIPBOARD_LEN + 1);
    assert!(matches!(
        ours.set_text(&too_long),
        Err(X11Error::TextTooLong {
            max: MAX_CLIPBOARD_LEN
        })
    ));

    let owner = RawOwner::start(&display, too_long.clone().into(), Delivery::Whole);
    owner.expect_completed();
    assert!(matches!(ours.text(), Err(X11Error::TextTooLong { .. })));
    owner.expect_completed();
    assert_eq!(changes.try_recv(), Err(TryRecvError::Empty));

    // In chunks it is taken to the end (the owner is not left waiting)
    // and still refused.
    let owner = RawOwner::start(&display, too_long.into(), Delivery::Incremental(8000));
    owner.expect_completed();
    assert!(matches!(ours.text(), Err(X11Error::TextTooLong { .. })));
    owner.expect_completed();
    assert_eq!(changes.try_recv(), Err(TryRecvError::Empty));

    // Exactly the limit fits.
    let longest = "b".repeat(MAX_CLIPBOARD_LEN);
    RawOwner::start(
        &display,
        longest.clone().into(),
        Delivery::Incremental(8000),
    );
    assert_eq!(changes.recv_timeout(WAIT).unwrap(), longest);
    ours.set_text(&longest).unwrap();
    assert_eq!(quiet(&display).text().unwrap(), Some(longest));
}

#[test]
fn dropping_stops_it_and_gives_the_clipboard_up() {
    let xvfb = Xvfb::start(320, 240).unwrap();
    let display = xvfb.display();
    let ours = quiet(&display);
    ours.set_text("short-lived").unwrap();
    let other = quiet(&display);
    assert_eq!(other.text().unwrap().as_deref(), Some("short-lived"));
    owner_gone_after(&display, move || drop(ours));
    // The text leaves with its owner, as on any X display.
    assert_eq!(other.text().unwrap(), None);

    assert!(matches!(
        Clipboard::start(Some(":4095"), Box::new(|_| {})),
        Err(X11Error::Connect { .. })
    ));
}

#[test]
fn a_dead_display_ends_it_with_errors() {
    let xvfb = Xvfb::start(320, 240).unwrap();
    let ours = quiet(&xvfb.display());
    drop(xvfb);
    // Stopped once the thread saw the connection go; a request before that
    // fails to be sent.
    assert!(ours.sync(WAIT).is_err());
    assert!(ours.text().is_err());
    assert!(ours.set_text("nobody hears").is_err());
}
