//! Floods both ways. A view-only helper floods the host with 100,000
//! control messages —
//! chat, pointer marks and keyframe requests — within a second of the
//! virtual clock: the host hands its application, its audit log and its
//! encoder no more than each kind's budget, counts the rest as dropped, and
//! the session goes on. And a host floods its helper with display lists and
//! pointer shapes: the helper's application hears no more than their budget.
#![allow(missing_docs)]

use std::time::Duration;

use ra_core::audit::AuditEvent;
use ra_core::media::{CursorShape, CursorUpdate, DisplayId, Rect};
use ra_core::session::{HelperEvent, HostEvent, MediaCommand, PointerKind};
use ra_testkit::harness::{World, two_monitors};

const FLOOD: usize = 100_000;

#[test]
fn a_flood_of_messages_is_held_to_its_budget_and_the_session_lives() {
    let mut w = World::simple(80);
    let h = w.live_session();
    let events_before = w.host_events.len();
    let audit_before = w.audit.len();
    let keyframes_before = w
        .media
        .iter()
        .filter(|m| matches!(m, MediaCommand::Keyframe { .. }))
        .count();
    // Ten rounds of 10,000 messages, 100 ms apart: about a second of
    // flooding (plus the link's delay).
    let started = w.now;
    for round in 0..10 {
        let now = w.now;
        for i in 0..FLOOD / 10 {
            let helper = w.helper(h);
            let sent = match i % 3 {
                0 => helper.chat(now, "spam"),
                1 => helper.pointer(now, 1, 1, PointerKind::Laser),
                _ => helper.request_keyframe(now),
            };
            sent.expect("the helper may send");
        }
        w.settle();
        assert!(w.helper(h).is_live(), "round {round}: the session ended");
        w.run_for(Duration::from_millis(100));
    }
    w.settle();
    let chats = w.host_events[events_before..]
        .iter()
        .filter(|e| matches!(e, HostEvent::Chat { .. }))
        .count();
    let marks = w.host_events[events_before..]
        .iter()
        .filter(|e| matches!(e, HostEvent::Pointer { .. }))
        .count();
    let keyframes = w
        .media
        .iter()
        .filter(|m| matches!(m, MediaCommand::Keyframe { .. }))
        .count()
        - keyframes_before;
    let chat_lines = w.audit[audit_before..]
        .iter()
        .filter(|a| matches!(a, AuditEvent::Chat { .. }))
        .count();
    // Each kind's burst and its rate for the time that passed.
    let seconds = (w.now - started).as_secs_f64();
    let bound = |burst: f64, rate: f64| (burst + rate * seconds).floor() as usize;
    assert!(
        chats <= bound(20.0, 5.0),
        "{chats} chat events in {seconds:.2} s"
    );
    assert!(
        marks <= bound(120.0, 60.0),
        "{marks} pointer marks in {seconds:.2} s"
    );
    assert!(
        keyframes <= bound(5.0, 2.0),
        "{keyframes} keyframes in {seconds:.2} s"
    );
    assert_eq!(chat_lines, chats, "every chat event is in the audit log");
    let dropped = w.host.messages_dropped();
    assert_eq!(
        dropped as usize + chats + marks + keyframes,
        FLOOD,
        "every message was either handled or counted"
    );
    println!(
        "flood of {FLOOD} in {seconds:.2} s: {chats} chat, {marks} pointer marks and \
         {keyframes} keyframes passed, {dropped} dropped; {} host events in all",
        w.host_events.len() - events_before
    );
    // The session is alive and still answers: a chat after the flood passes.
    w.run_for(Duration::from_secs(1));
    let now = w.now;
    w.helper(h).chat(now, "still here?").unwrap();
    w.settle();
    assert!(w.host_saw(|e| matches!(e, HostEvent::Chat { text, .. } if text == "still here?")));
    assert!(w.helper(h).is_live());
}

#[test]
fn a_host_flooding_its_helper_with_displays_and_pointer_shapes_is_held_to_a_budget() {
    let mut w = World::simple(81);
    let h = w.live_session();
    let started = w.now;
    let before = w.helpers[h].events.len();
    let shape = CursorShape {
        width: 2,
        height: 2,
        hot_x: 0,
        hot_y: 0,
        pixels: vec![0xff; 16],
    };
    let area = Rect::new(0, 0, 1920, 1080);
    // 10,000 display lists (each different, so each is told) and 10,000
    // pointer updates with a shape, in a second.
    for round in 0..10u32 {
        let now = w.now;
        for i in 0..1_000u32 {
            let mut displays = two_monitors();
            displays[0].name = format!("LEFT {round} {i}");
            w.host.handle_displays(now, displays, DisplayId(1), area);
            w.host.handle_cursor(
                now,
                &CursorUpdate {
                    x: i as i32,
                    y: 0,
                    visible: true,
                    shape: Some(shape.clone()),
                },
            );
        }
        w.settle();
        w.run_for(Duration::from_millis(100));
    }
    let seconds = (w.now - started).as_secs_f64();
    let events = &w.helpers[h].events[before..];
    let lists = events
        .iter()
        .filter(|e| matches!(e, HelperEvent::Displays { .. }))
        .count();
    let shapes = events
        .iter()
        .filter(|e| matches!(e, HelperEvent::Cursor(c) if c.shape.is_some()))
        .count();
    assert!(
        lists as f64 <= 10.0 + 4.0 * seconds,
        "{lists} display lists in {seconds:.2} s"
    );
    assert!(
        shapes as f64 <= 60.0 + 30.0 * seconds,
        "{shapes} shapes in {seconds:.2} s"
    );
    let dropped = w.helper(h).messages_dropped();
    assert_eq!(dropped as usize + lists + shapes, 20_000);
    println!(
        "host flood of 20000 in {seconds:.2} s: {lists} display lists and {shapes} pointer shapes \
         passed, {dropped} dropped"
    );
    assert!(w.helper(h).is_live());
}
