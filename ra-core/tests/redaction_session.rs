//! The redaction mask in the session, on the virtual clock: the capture path
//! is told of every change, the helper learns where the mask lies in its
//! picture, the application and the audit log hear of it, pointer input
//! inside it never reaches the injector, and the host's pointer is hidden
//! over it.
#![allow(missing_docs)]

use std::time::Duration;

use ra_core::audit::AuditEvent;
use ra_core::input::{InputEvent, MouseButton};
use ra_core::media::{CursorUpdate, DisplayId, Rect};
use ra_core::policy::Policy;
use ra_core::session::{CommandError, HelperEvent, HostEvent, Injection, MediaCommand};
use ra_testkit::harness::{Link, World, two_monitors};

/// The right monitor, the one the helper watches.
const RIGHT: Rect = Rect::new(1920, 0, 1280, 1024);
/// A password manager's window on it (desktop coordinates).
const SECRET: Rect = Rect::new(2000, 100, 300, 200);

fn masked_world(seed: u64) -> World {
    let policy = Policy {
        redact: vec![SECRET],
        ..Policy::default()
    };
    let mut w = World::new(seed, Link::default(), policy, Duration::from_secs(3600));
    w.host
        .handle_displays(w.now, two_monitors(), DisplayId(2), RIGHT);
    w
}

fn press(pressed: bool) -> InputEvent {
    InputEvent::Button {
        button: MouseButton::Left,
        pressed,
    }
}

fn mask_told(w: &World, h: usize) -> Vec<Vec<Rect>> {
    w.helpers[h]
        .events
        .iter()
        .filter_map(|e| match e {
            HelperEvent::Redactions { areas } => Some(areas.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_mask_goes_to_the_capture_path_the_helper_and_the_audit_log() {
    let mut w = masked_world(70);
    // The policy's mask is given to the capture path before any picture.
    assert_eq!(w.host.redactions(), vec![SECRET]);
    let h = w.live_session();
    let first_start = w
        .media
        .iter()
        .position(|m| matches!(m, MediaCommand::Start { .. }))
        .expect("video started");
    let first_mask = w
        .media
        .iter()
        .position(|m| *m == MediaCommand::RedactionsChanged)
        .expect("the mask was given to the capture path");
    assert!(first_mask < first_start, "{:?}", w.media);
    // The helper learns where it is in its picture (the right monitor's
    // pixels start at 1920).
    assert_eq!(mask_told(&w, h), vec![vec![Rect::new(80, 100, 300, 200)]]);
    assert!(w.audit.contains(&AuditEvent::Redactions {
        areas: vec![SECRET],
        windows: Vec::new(),
    }));

    // The application adds one at run time: all of it is told again.
    let extra = Rect::new(3000, 900, 500, 500);
    w.host.set_redactions(w.now, vec![extra]).unwrap();
    w.settle();
    assert_eq!(w.host.redactions(), vec![SECRET, extra]);
    assert_eq!(
        mask_told(&w, h).last(),
        Some(&vec![
            Rect::new(80, 100, 300, 200),
            Rect::new(1080, 900, 200, 124)
        ])
    );
    assert!(w.host_saw(|e| *e
        == HostEvent::RedactionsChanged {
            areas: vec![SECRET, extra],
            windows: Vec::new(),
        }));
    assert_eq!(
        w.media
            .iter()
            .filter(|m| **m == MediaCommand::RedactionsChanged)
            .count(),
        2
    );
    // Bad rectangles change nothing.
    assert_eq!(
        w.host.set_redactions(w.now, vec![Rect::new(0, 0, 0, 5)]),
        Err(CommandError::InvalidArgument(
            "a redaction rectangle is empty"
        ))
    );
    assert!(w.host.set_redactions(w.now, vec![extra; 64]).is_err());
    assert_eq!(w.host.redactions(), vec![SECRET, extra]);
    // Unmasking the application's leaves the policy's.
    w.host.set_redactions(w.now, Vec::new()).unwrap();
    w.settle();
    assert_eq!(
        mask_told(&w, h).last(),
        Some(&vec![Rect::new(80, 100, 300, 200)])
    );
}

#[test]
fn pointer_input_inside_the_mask_never_reaches_the_injector() {
    let mut w = masked_world(71);
    let h = w.controlling_session();
    // Outside the mask: a press, held.
    assert!(w.send_input(h, &[InputEvent::PointerMove { x: 10, y: 10 }, press(true)]));
    w.settle();
    // Into the mask (picture (100, 150) is desktop (2020, 150)): the move,
    // the release of what is held passes, a new press and the wheel do not.
    assert!(w.send_input(
        h,
        &[
            InputEvent::PointerMove { x: 100, y: 150 },
            press(false),
            press(true),
            InputEvent::Wheel { dx: 0, dy: -3 },
            InputEvent::PointerMoveRelative { dx: 5, dy: 5 },
        ]
    ));
    w.settle();
    // Out again: presses land.
    assert!(w.send_input(
        h,
        &[
            InputEvent::PointerMove { x: 500, y: 500 },
            press(true),
            press(false)
        ]
    ));
    w.settle();
    assert_eq!(
        w.injected_events(),
        vec![
            InputEvent::PointerMove { x: 1930, y: 10 },
            press(true),
            press(false),
            InputEvent::PointerMove { x: 2420, y: 500 },
            press(true),
            press(false),
        ]
    );
    // A relative move from outside into the mask is dropped as well.
    assert!(w.send_input(
        h,
        &[
            InputEvent::PointerMove { x: 50, y: 150 },
            InputEvent::PointerMoveRelative { dx: 100, dy: 0 },
            press(true),
        ]
    ));
    w.settle();
    let injected = w.injected_events();
    assert_eq!(
        injected.last(),
        Some(&InputEvent::PointerMove { x: 1970, y: 150 })
    );
    assert!(
        !w.injections
            .iter()
            .any(|i| matches!(i, Injection::Inject(InputEvent::PointerMoveRelative { .. })))
    );
}

#[test]
fn the_host_pointer_is_hidden_over_the_mask() {
    let mut w = masked_world(72);
    let h = w.live_session();
    let at = |x, y| CursorUpdate {
        x,
        y,
        visible: true,
        shape: None,
    };
    w.host.handle_cursor(w.now, &at(150, 150));
    w.host.handle_cursor(w.now, &at(10, 10));
    w.settle();
    let seen: Vec<bool> = w.helpers[h]
        .events
        .iter()
        .filter_map(|e| match e {
            HelperEvent::Cursor(c) => Some(c.visible),
            _ => None,
        })
        .collect();
    assert_eq!(seen, vec![false, true]);
}
