//! The policy's `allowed_displays` on the virtual clock: the helper is shown
//! and can select only the displays the host shares, no picture or pointer
//! position goes out until one of them is captured, and the host application
//! hears of every selection (and the audit log keeps it).
#![allow(missing_docs)]

use std::time::Duration;

use ra_core::audit::AuditEvent;
use ra_core::media::{CursorUpdate, DisplayId, Rect};
use ra_core::policy::Policy;
use ra_core::session::{HelperEvent, HostEvent, MediaCommand};
use ra_testkit::harness::{Link, World, two_monitors};

const LEFT: DisplayId = DisplayId(1);
const RIGHT: DisplayId = DisplayId(2);

fn left_area() -> Rect {
    Rect::new(0, 0, 1920, 1080)
}

fn right_area() -> Rect {
    Rect::new(1920, 0, 1280, 1024)
}

/// A host whose policy shares only `allowed`.
fn sharing(seed: u64, allowed: &[u32]) -> World {
    let policy = Policy {
        allowed_displays: Some(allowed.to_vec()),
        ..Policy::default()
    };
    World::new(seed, Link::default(), policy, Duration::from_secs(3600))
}

fn starts(w: &World) -> usize {
    w.media
        .iter()
        .filter(|m| matches!(m, MediaCommand::Start { .. }))
        .count()
}

fn selections(w: &World) -> Vec<DisplayId> {
    w.media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::SelectDisplay { display, .. } => Some(*display),
            _ => None,
        })
        .collect()
}

fn cursor_at(x: i32, y: i32) -> CursorUpdate {
    CursorUpdate {
        x,
        y,
        visible: true,
        shape: None,
    }
}

fn cursors_seen(w: &World, h: usize) -> usize {
    w.helpers[h]
        .events
        .iter()
        .filter(|e| matches!(e, HelperEvent::Cursor(_)))
        .count()
}

#[test]
fn the_helper_sees_and_selects_only_the_displays_the_host_shares() {
    let mut w = sharing(60, &[2]);
    // The capturer starts on the primary display, which is not shared.
    w.host
        .handle_displays(w.now, two_monitors(), LEFT, left_area());
    let h = w.live_session();
    let conn = w.conn(h);
    // No video yet, and not the pointer either: the capturer is moved first.
    assert_eq!(starts(&w), 0, "{:?}", w.media);
    assert_eq!(selections(&w), vec![RIGHT]);
    w.host.handle_cursor(w.now, &cursor_at(5, 5));
    w.settle();
    assert_eq!(cursors_seen(&w, h), 0);
    // Once it captures the shared display, the video starts; the helper is
    // told of that display alone.
    w.host
        .handle_displays(w.now, two_monitors(), RIGHT, right_area());
    w.settle();
    assert_eq!(starts(&w), 1);
    assert!(w.helper_saw(h, |e| matches!(e,
        HelperEvent::Displays { displays, selected }
            if displays.iter().map(|d| d.id).collect::<Vec<_>>() == vec![RIGHT]
                && *selected == RIGHT)));
    assert!(
        !w.helper_saw(h, |e| matches!(e,
            HelperEvent::Displays { displays, .. } if displays.iter().any(|d| d.id == LEFT))),
        "the helper was told of the unshared display"
    );
    w.host.handle_cursor(w.now, &cursor_at(6, 6));
    w.settle();
    assert_eq!(cursors_seen(&w, h), 1);

    // Asking for the other display, or for all of them: refused, the host
    // application told, the capturer left alone.
    let now = w.now;
    w.helper(h).select_display(now, LEFT).expect("live");
    w.helper(h)
        .select_display(now, DisplayId::ALL)
        .expect("live");
    w.settle();
    assert_eq!(selections(&w), vec![RIGHT]);
    assert!(w.host_saw(|e| *e
        == HostEvent::DisplayRefused {
            conn,
            display: LEFT
        }));
    assert!(w.host_saw(|e| *e
        == HostEvent::DisplayRefused {
            conn,
            display: DisplayId::ALL
        }));
    // The shared one is obeyed and told.
    let now = w.now;
    w.helper(h).select_display(now, RIGHT).expect("live");
    w.settle();
    assert_eq!(selections(&w), vec![RIGHT, RIGHT]);
    assert!(w.host_saw(|e| *e
        == HostEvent::DisplaySelected {
            conn,
            display: RIGHT
        }));
    assert!(w.audit.contains(&AuditEvent::DisplaySelected {
        display: 1,
        allowed: false
    }));
    assert!(w.audit.contains(&AuditEvent::DisplaySelected {
        display: 2,
        allowed: true
    }));
    assert!(w.helper(h).is_live(), "a refused selection ends nothing");
}

#[test]
fn without_a_list_every_display_is_shared_and_each_switch_is_told() {
    let mut w = World::simple(61);
    w.host
        .handle_displays(w.now, two_monitors(), LEFT, left_area());
    let h = w.live_session();
    let conn = w.conn(h);
    assert_eq!(starts(&w), 1);
    let now = w.now;
    w.helper(h)
        .select_display(now, DisplayId::ALL)
        .expect("live");
    w.settle();
    assert_eq!(selections(&w), vec![DisplayId::ALL]);
    assert!(w.host_saw(|e| *e
        == HostEvent::DisplaySelected {
            conn,
            display: DisplayId::ALL
        }));
}

#[test]
fn a_policy_that_stops_sharing_the_captured_display_stops_its_video() {
    let mut w = World::simple(62);
    w.host
        .handle_displays(w.now, two_monitors(), LEFT, left_area());
    let h = w.live_session();
    let conn = w.conn(h);
    assert_eq!(starts(&w), 1);
    w.host.set_policy(
        w.now,
        Policy {
            allowed_displays: Some(vec![2]),
            ..Policy::default()
        },
    );
    w.settle();
    let tail = &w.media[w.media.len() - 2..];
    assert_eq!(
        tail,
        &[
            MediaCommand::Stop { conn },
            MediaCommand::SelectDisplay {
                conn,
                display: RIGHT
            }
        ]
    );
    w.host
        .handle_displays(w.now, two_monitors(), RIGHT, right_area());
    w.settle();
    assert_eq!(starts(&w), 2);
}

#[test]
fn no_shared_display_connected_is_told_once_and_nothing_is_sent() {
    let mut w = sharing(63, &[7]);
    w.host
        .handle_displays(w.now, two_monitors(), LEFT, left_area());
    let h = w.live_session();
    w.host
        .handle_displays(w.now, two_monitors(), LEFT, left_area());
    w.settle();
    assert_eq!(starts(&w), 0);
    assert_eq!(selections(&w), vec![]);
    let told: Vec<_> = w
        .host_events
        .iter()
        .filter(|e| matches!(e, HostEvent::CaptureFailed { .. }))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(w.helper(h).is_live());
}
