//! The consent, authentication and control rules of the sans-IO session, on a
//! virtual clock.
#![allow(missing_docs)]

use std::time::Duration;

use ra_core::input::{InputEvent, MouseButton};
use ra_core::invitation::SessionId;
use ra_core::keys::KeyCode;
use ra_core::media::{CursorUpdate, DisplayId, Rect};
use ra_core::policy::Policy;
use ra_core::proto::{self, envelope::Message};
use ra_core::session::{
    ControlState, DenyReason, EndReason, HelperEvent, HostCommand, HostEvent, Injection,
    InvitationCloseReason, MediaCommand, PointerKind, RevokeReason, encode_frame,
    encode_input_event,
};
use ra_testkit::harness::{Link, PASSWORD, SESSION, World, two_monitors};

fn click() -> Vec<InputEvent> {
    vec![
        InputEvent::PointerMove { x: 10, y: 20 },
        InputEvent::Button {
            button: MouseButton::Left,
            pressed: true,
        },
        InputEvent::Button {
            button: MouseButton::Left,
            pressed: false,
        },
    ]
}

fn raw_input(grant_id: u32, events: &[InputEvent]) -> Vec<u8> {
    encode_frame(&proto::InputBatch {
        grant_id,
        events: events.iter().map(encode_input_event).collect(),
        sent_at_ms: 0,
    })
}

fn raw_control(message: Message) -> Vec<u8> {
    encode_frame(&proto::Envelope {
        message: Some(message),
    })
}

#[test]
fn approve_starts_a_view_only_session() {
    let mut w = World::simple(1);
    let h = w.connect("Bob", PASSWORD);
    w.settle();
    let conn = w.conn(h);
    assert!(w.host_saw(
        |e| matches!(e, HostEvent::ConnectionRequest { conn: c, helper_name, .. }
        if *c == conn && helper_name == "Bob")
    ));
    assert!(w.helper_saw(
        h,
        |e| matches!(e, HelperEvent::Authenticated { host_name } if host_name == "Alice's laptop")
    ));
    assert!(!w.helper(h).is_live(), "nothing before approval");
    assert!(!w.host.video_allowed(conn));

    w.host.approve(w.now, conn).unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| *e == HelperEvent::Connected));
    assert!(w.host_saw(|e| matches!(e, HostEvent::Connected { .. })));
    assert_eq!(w.host.control_state(conn), Some(ControlState::None));
    assert_eq!(w.helper(h).control_state(), Some(ControlState::None));
    assert!(w.host.video_allowed(conn));
    assert!(w.media.contains(&MediaCommand::Start { conn }));
    // Approving twice is refused.
    assert!(w.host.approve(w.now, conn).is_err());
}

#[test]
fn deny_ends_on_both_sides() {
    let mut w = World::simple(2);
    let h = w.connect("Bob", PASSWORD);
    w.settle();
    let conn = w.conn(h);
    w.host.deny(w.now, conn).unwrap();
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::Denied));
    assert!(w.host_saw(|e| *e
        == HostEvent::Ended {
            conn,
            reason: EndReason::Denied
        }));
    assert_eq!(w.host.active_connection(), None);
    assert!(w.media.is_empty(), "no video for a denied helper");
}

#[test]
fn approval_times_out() {
    let policy = Policy {
        approval_timeout: Duration::from_secs(30),
        ..Policy::default()
    };
    let mut w = World::new(3, Link::default(), policy, Duration::from_secs(3600));
    let h = w.connect("Bob", PASSWORD);
    w.run_for(Duration::from_secs(29));
    assert_eq!(w.helper_ended(h), None);
    w.run_for(Duration::from_secs(2));
    assert_eq!(w.helper_ended(h), Some(EndReason::ApprovalTimeout));
    let conn = w.conn(h);
    assert!(w.host_saw(|e| *e
        == HostEvent::Ended {
            conn,
            reason: EndReason::ApprovalTimeout
        }));
    assert!(w.host.approve(w.now, conn).is_err(), "too late to approve");
}

#[test]
fn wrong_password_fails_on_both_sides_and_counts() {
    let mut w = World::simple(4);
    let h = w.connect("Mallory", b"wrong guess");
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::AuthFailed));
    assert!(w.host_saw(|e| matches!(
        e,
        HostEvent::AuthFailed {
            attempts: 1,
            max_attempts: 5,
            ..
        }
    )));
    assert!(!w.host_saw(|e| matches!(e, HostEvent::ConnectionRequest { .. })));
    assert_eq!(w.host.failed_attempts(), 1);
    // The right password still works afterwards.
    let ok = w.connect("Bob", PASSWORD);
    w.settle();
    assert!(w.helper(ok).is_authenticated());
}

#[test]
fn five_failures_close_the_invitation() {
    let mut w = World::simple(5);
    for i in 0..5 {
        let h = w.connect("Mallory", format!("guess {i}").as_bytes());
        w.settle();
        assert_eq!(w.helper_ended(h), Some(EndReason::AuthFailed));
    }
    assert_eq!(w.host.failed_attempts(), 5);
    assert_eq!(
        w.host.invitation_closed(),
        Some(InvitationCloseReason::TooManyFailures)
    );
    assert!(w.host_saw(|e| *e
        == HostEvent::InvitationClosed {
            reason: InvitationCloseReason::TooManyFailures
        }));
    let late = w.connect("Bob", PASSWORD);
    w.settle();
    assert_eq!(w.helper_ended(late), Some(EndReason::InvitationClosed));
}

#[test]
fn abandoning_authentication_counts_as_a_failure() {
    let mut w = World::simple(6);
    // Parallel guesses cannot exceed the budget: attempts in flight count.
    let guesses: Vec<usize> = (0..7)
        .map(|i| w.connect("Mallory", format!("g{i}").as_bytes()))
        .collect();
    w.settle();
    let busy = guesses
        .iter()
        .filter(|&&h| w.helper_ended(h) == Some(EndReason::Busy))
        .count();
    let failed = guesses
        .iter()
        .filter(|&&h| w.helper_ended(h) == Some(EndReason::AuthFailed))
        .count();
    assert_eq!(failed, 5);
    assert_eq!(busy, 2);
    assert_eq!(
        w.host.invitation_closed(),
        Some(InvitationCloseReason::TooManyFailures)
    );
}

#[test]
fn silent_helper_times_out_and_counts() {
    let mut w = World::simple(7);
    let h = w.connect("Bob", PASSWORD);
    // Deliver the hello and the host's reply, then lose the helper.
    w.run_for(Duration::from_millis(30));
    let conn = w.conn(h);
    w.host.handle_connection_lost(w.now, conn);
    w.pump();
    assert_eq!(w.host.failed_attempts(), 1);
}

#[test]
fn expired_invitation_refuses_helpers_but_not_a_live_session() {
    let mut w = World::new(
        8,
        Link::default(),
        Policy::default(),
        Duration::from_secs(60),
    );
    let live = w.live_session();
    w.run_for(Duration::from_secs(61));
    assert_eq!(
        w.host.invitation_closed(),
        Some(InvitationCloseReason::Expired)
    );
    assert!(
        w.helper(live).is_live(),
        "expiry does not end a live session"
    );
    w.host.end(w.now).unwrap();
    w.settle();
    let late = w.connect("Carol", PASSWORD);
    w.settle();
    assert_eq!(w.helper_ended(late), Some(EndReason::InvitationExpired));
}

#[test]
fn policy_caps_the_lifetime() {
    let policy = Policy {
        max_invitation_lifetime: Duration::from_secs(600),
        ..Policy::default()
    };
    let mut w = World::new(9, Link::default(), policy, Duration::from_secs(24 * 3600));
    assert_eq!(w.host.expires_at() - w.now, Duration::from_secs(600));
    w.run_for(Duration::from_secs(601));
    assert_eq!(
        w.host.invitation_closed(),
        Some(InvitationCloseReason::Expired)
    );
}

#[test]
fn control_request_grant_and_input() {
    let mut w = World::simple(10);
    let h = w.live_session();
    let conn = w.conn(h);
    assert!(!w.send_input(h, &click()), "no input without a grant");
    let now = w.now;
    w.helper(h).request_control(now).unwrap();
    w.settle();
    assert!(w.host_saw(|e| matches!(e, HostEvent::ControlRequested { conn: c, .. } if *c == conn)));
    assert_eq!(w.host.control_state(conn), Some(ControlState::Requested));
    w.host.grant_control(w.now, conn).unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| matches!(e, HelperEvent::ControlGranted { .. })));
    assert!(w.send_input(h, &click()));
    w.settle();
    assert_eq!(w.injected_events(), click());
    assert!(w.gate_violations.is_empty(), "{:?}", w.gate_violations);
}

#[test]
fn control_request_denied_by_user() {
    let mut w = World::simple(11);
    let h = w.live_session();
    let conn = w.conn(h);
    let now = w.now;
    w.helper(h).request_control(now).unwrap();
    w.settle();
    w.host.deny_control(w.now, conn).unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::ControlDenied {
            reason: DenyReason::ByUser
        }));
    assert_eq!(w.helper(h).control_state(), Some(ControlState::None));
    assert!(!w.send_input(h, &click()));
    // It may ask again.
    let now = w.now;
    assert!(w.helper(h).request_control(now).is_ok());
}

#[test]
fn policy_denies_control_without_asking() {
    let policy = Policy {
        allow_control: false,
        ..Policy::default()
    };
    let mut w = World::new(12, Link::default(), policy, Duration::from_secs(3600));
    let h = w.live_session();
    let conn = w.conn(h);
    let now = w.now;
    w.helper(h).request_control(now).unwrap();
    w.settle();
    assert!(
        !w.host_saw(|e| matches!(e, HostEvent::ControlRequested { .. })),
        "the user is not bothered"
    );
    assert!(w.host_saw(|e| *e
        == HostEvent::ControlDenied {
            conn,
            reason: DenyReason::Policy
        }));
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::ControlDenied {
            reason: DenyReason::Policy
        }));
    assert!(w.host.grant_control(w.now, conn).is_err());
}

#[test]
fn revoke_releases_and_stops_input() {
    let mut w = World::simple(13);
    let h = w.controlling_session();
    let conn = w.conn(h);
    let grant = w.helper(h).grant().unwrap();
    let key_down = vec![InputEvent::Key {
        code: KeyCode::LEFT_SHIFT,
        pressed: true,
    }];
    assert!(w.send_input(h, &key_down));
    w.settle();
    w.host.revoke(w.now).unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::ControlRevoked {
            reason: RevokeReason::ByUser
        }));
    assert!(w.host_saw(|e| *e
        == HostEvent::ControlRevoked {
            conn,
            reason: RevokeReason::ByUser
        }));
    assert_eq!(w.injections.last(), Some(&Injection::ReleaseAll));
    assert!(
        !w.send_input(h, &click()),
        "the helper knows it lost control"
    );
    // A helper that ignores the revoke and sends under the old grant is dropped.
    w.inject_input_bytes(h, raw_input(grant.0, &click()));
    w.settle();
    assert_eq!(w.injected_events(), key_down);
    assert!(w.host.input_dropped() >= 3);
    assert!(w.gate_violations.is_empty());
}

#[test]
fn input_in_flight_during_revoke_is_dropped() {
    let mut w = World::simple(14);
    let h = w.controlling_session();
    // Input leaves the helper; the host revokes before it arrives.
    assert!(w.send_input(h, &click()));
    w.host.revoke(w.now).unwrap();
    w.settle();
    assert!(w.injected_events().is_empty());
    // A new grant does not resurrect input sent under the old one.
    let old = 1;
    let now = w.now;
    w.helper(h).request_control(now).unwrap();
    w.settle();
    let conn = w.conn(h);
    w.host.grant_control(w.now, conn).unwrap();
    w.settle();
    w.inject_input_bytes(h, raw_input(old, &click()));
    w.settle();
    assert!(w.injected_events().is_empty());
    assert!(w.send_input(h, &click()));
    w.settle();
    assert_eq!(w.injected_events(), click());
}

#[test]
fn input_without_any_grant_is_never_delivered() {
    let mut w = World::simple(15);
    let h = w.live_session();
    for grant in [0, 1, 2, u32::MAX] {
        w.inject_input_bytes(h, raw_input(grant, &click()));
    }
    w.settle();
    assert!(w.injected_events().is_empty());
    assert!(
        w.helper(h).is_live(),
        "dropped input does not end the session"
    );
}

#[test]
fn pause_stops_video_and_revokes_control() {
    let mut w = World::simple(16);
    let h = w.controlling_session();
    let conn = w.conn(h);
    w.host.pause(w.now).unwrap();
    w.settle();
    assert!(!w.host.video_allowed(conn));
    assert_eq!(w.media.last(), Some(&MediaCommand::Stop { conn }));
    assert!(w.host_saw(|e| *e
        == HostEvent::ControlRevoked {
            conn,
            reason: RevokeReason::Paused
        }));
    assert!(w.helper_saw(h, |e| *e == HelperEvent::Paused));
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::ControlRevoked {
            reason: RevokeReason::Paused
        }));
    assert_eq!(w.injections.last(), Some(&Injection::ReleaseAll));
    // No control while paused.
    let now = w.now;
    assert!(w.helper(h).request_control(now).is_err());
    w.inject_control_bytes(
        h,
        raw_control(Message::ControlRequest(proto::ControlRequest::default())),
    );
    w.settle();
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::ControlDenied {
            reason: DenyReason::Paused
        }));
    w.host.resume(w.now).unwrap();
    w.settle();
    assert!(w.host.video_allowed(conn));
    assert!(w.helper_saw(h, |e| *e == HelperEvent::Resumed));
    assert_eq!(
        w.host.control_state(conn),
        Some(ControlState::None),
        "control is not restored"
    );
    assert!(w.media.ends_with(&[
        MediaCommand::Start { conn },
        MediaCommand::Keyframe { conn }
    ]));
}

#[test]
fn host_ends() {
    let mut w = World::simple(17);
    let h = w.controlling_session();
    let conn = w.conn(h);
    w.host.end(w.now).unwrap();
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::HostEnded));
    assert!(w.host_saw(|e| *e
        == HostEvent::Ended {
            conn,
            reason: EndReason::HostEnded
        }));
    assert_eq!(w.injections.last(), Some(&Injection::ReleaseAll));
    assert_eq!(w.media.last(), Some(&MediaCommand::Stop { conn }));
}

#[test]
fn helper_ends() {
    let mut w = World::simple(18);
    let h = w.controlling_session();
    let conn = w.conn(h);
    let now = w.now;
    w.helper(h).end(now);
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::HelperEnded));
    assert!(w.host_saw(|e| *e
        == HostEvent::Ended {
            conn,
            reason: EndReason::HelperEnded
        }));
    assert_eq!(w.injections.last(), Some(&Injection::ReleaseAll));
    // The invitation stays open for another helper.
    let again = w.connect("Bob", PASSWORD);
    w.settle();
    assert!(w.helper(again).is_authenticated());
}

#[test]
fn lost_helper_releases_everything() {
    let mut w = World::simple(19);
    let h = w.controlling_session();
    let conn = w.conn(h);
    w.host.handle_connection_lost(w.now, conn);
    w.pump();
    assert!(w.host_saw(|e| *e
        == HostEvent::Ended {
            conn,
            reason: EndReason::ConnectionLost
        }));
    assert_eq!(w.injections.last(), Some(&Injection::ReleaseAll));
}

#[test]
fn turning_control_off_revokes_a_grant() {
    let mut w = World::simple(20);
    let h = w.controlling_session();
    let conn = w.conn(h);
    let policy = Policy {
        allow_control: false,
        ..Policy::default()
    };
    w.host.set_policy(w.now, policy);
    w.settle();
    assert!(w.host_saw(|e| *e
        == HostEvent::ControlRevoked {
            conn,
            reason: RevokeReason::Policy
        }));
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::ControlRevoked {
            reason: RevokeReason::Policy
        }));
    assert_eq!(w.injections.last(), Some(&Injection::ReleaseAll));
    assert!(w.helper(h).is_live(), "viewing continues");
}

#[test]
fn turning_assistance_off_ends_the_session() {
    let mut w = World::simple(21);
    let h = w.live_session();
    let policy = Policy {
        allow_assistance: false,
        ..Policy::default()
    };
    w.host.set_policy(w.now, policy);
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::Policy));
    assert_eq!(
        w.host.invitation_closed(),
        Some(InvitationCloseReason::Policy)
    );
    let late = w.connect("Bob", PASSWORD);
    w.settle();
    assert_eq!(w.helper_ended(late), Some(EndReason::Policy));
}

#[test]
fn shortening_the_lifetime_closes_an_old_invitation() {
    let mut w = World::simple(22);
    w.run_for(Duration::from_secs(120));
    let policy = Policy {
        max_invitation_lifetime: Duration::from_secs(60),
        ..Policy::default()
    };
    w.host.set_policy(w.now, policy);
    w.pump();
    assert_eq!(
        w.host.invitation_closed(),
        Some(InvitationCloseReason::Expired)
    );
}

#[test]
fn second_helper_is_refused_and_the_first_continues() {
    let mut w = World::simple(23);
    let first = w.live_session();
    let second = w.connect("Eve", PASSWORD);
    w.settle();
    assert_eq!(w.helper_ended(second), Some(EndReason::Busy));
    assert!(w.helper(first).is_live());
    assert_eq!(w.host.failed_attempts(), 0, "busy is not a failed attempt");
}

#[test]
fn chat_both_ways_and_pointer() {
    let mut w = World::simple(24);
    let h = w.live_session();
    let conn = w.conn(h);
    w.host.chat(w.now, "Hi, can you see my screen?").unwrap();
    let now = w.now;
    w.helper(h)
        .chat(now, "Yes!\nClick the start button.")
        .unwrap();
    w.helper(h)
        .pointer(now, -3, 40, PointerKind::Laser)
        .unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::Chat {
            text: "Hi, can you see my screen?".into()
        }));
    assert!(w.host_saw(|e| *e
        == HostEvent::Chat {
            conn,
            text: "Yes!\nClick the start button.".into()
        }));
    assert!(w.host_saw(|e| *e
        == HostEvent::Pointer {
            conn,
            x: -3,
            y: 40,
            kind: PointerKind::Laser
        }));
    assert!(w.host.chat(w.now, "").is_err());
    assert!(w.host.chat(w.now, &"x".repeat(5000)).is_err());
}

#[test]
fn escapes_bidi_and_invisible_characters_never_reach_an_event() {
    let mut w = World::simple(26);
    // A name that reads "IT Support" backwards-reversed, with an escape.
    let h = w.connect("IT \u{202E}troppuS\u{202C}\u{1b}[2J\u{200B}", PASSWORD);
    w.settle();
    let conn = w.conn(h);
    assert!(
        w.host_saw(
            |e| matches!(e, HostEvent::ConnectionRequest { helper_name, .. }
            if helper_name == "IT troppuS [2J")
        ),
        "{:?}",
        w.host_events
    );
    w.host
        .apply(w.now, HostCommand::Approve(conn))
        .expect("approve");
    w.settle();
    // An OSC 52 clipboard write and a screen clear, both ways.
    let hostile = "ok\u{1b}]52;c;cm0gLXJm\u{7}\u{1b}[2J\r\nbye\u{2066}";
    w.host.chat(w.now, hostile).unwrap();
    let now = w.now;
    w.helper(h).chat(now, hostile).unwrap();
    w.settle();
    let clean = "ok ]52;c;cm0gLXJm  [2J\nbye";
    assert!(w.helper_saw(h, |e| *e == HelperEvent::Chat { text: clean.into() }));
    assert!(w.host_saw(|e| *e
        == HostEvent::Chat {
            conn,
            text: clean.into()
        }));
}

#[test]
fn man_in_the_middle_cannot_authenticate() {
    let mut w = World::simple(25);
    let h = w.connect_with("Bob", PASSWORD, SESSION, Some([0xEE; 32]));
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::AuthFailed));
    assert_eq!(w.host.failed_attempts(), 1);
    assert!(!w.host_saw(|e| matches!(e, HostEvent::ConnectionRequest { .. })));
}

#[test]
fn unknown_session_is_refused() {
    let mut w = World::simple(26);
    let h = w.connect_with("Bob", PASSWORD, SessionId([9; 16]), None);
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::UnknownSession));
    assert_eq!(w.host.failed_attempts(), 0);
}

#[test]
fn messages_before_authentication_close_the_connection() {
    let mut w = World::simple(27);
    let h = w.connect("Bob", PASSWORD);
    // Sent right behind the hello, before the host's reply could arrive.
    w.inject_control_bytes(
        h,
        raw_control(Message::ControlRequest(proto::ControlRequest::default())),
    );
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::ProtocolError));
    assert!(!w.host_saw(|e| matches!(
        e,
        HostEvent::ConnectionRequest { .. } | HostEvent::ControlRequested { .. }
    )));
    assert_eq!(
        w.host.failed_attempts(),
        1,
        "an aborted authentication counts"
    );
}

#[test]
fn input_stream_before_authentication_closes_the_connection() {
    let mut w = World::simple(28);
    let h = w.connect("Bob", PASSWORD);
    w.inject_input_bytes(h, raw_input(1, &click()));
    w.settle();
    assert!(w.injected_events().is_empty());
    assert!(w.helper_ended(h).is_some());
}

#[test]
fn unknown_messages_get_an_error_and_the_session_continues() {
    let mut w = World::simple(29);
    let h = w.live_session();
    // An envelope from a newer peer: field 99, unknown here.
    let mut future = Vec::new();
    prost::encoding::encode_key(99, prost::encoding::WireType::LengthDelimited, &mut future);
    prost::encoding::encode_varint(0, &mut future);
    let mut framed = Vec::new();
    prost::encoding::encode_varint(future.len() as u64, &mut framed);
    framed.extend(future);
    w.inject_control_bytes(h, framed);
    // And a message a helper may not send.
    w.inject_control_bytes(h, raw_control(Message::Approved(proto::Approved {})));
    w.settle();
    assert!(w.helper(h).is_live(), "the session continues");
    let codes: Vec<i32> = w.errors_from_host(h).iter().map(|e| e.code).collect();
    assert_eq!(
        codes,
        [
            proto::ErrorCode::UnknownMessage as i32,
            proto::ErrorCode::UnexpectedMessage as i32
        ],
        "each bad message gets its own error, in order"
    );
}

#[test]
fn oversized_message_closes_the_connection() {
    let mut w = World::simple(30);
    let h = w.live_session();
    let conn = w.conn(h);
    let mut huge = Vec::new();
    prost::encoding::encode_varint(10 * 1024 * 1024, &mut huge);
    huge.extend(vec![0u8; 100]);
    w.inject_control_bytes(h, huge);
    w.settle();
    assert!(w.host_saw(|e| *e
        == HostEvent::Ended {
            conn,
            reason: EndReason::ProtocolError
        }));
    assert_eq!(w.helper_ended(h), Some(EndReason::ProtocolError));
}

#[test]
fn full_flow_over_a_lossy_slow_link() {
    let link = Link {
        latency: Duration::from_millis(150),
        loss: 0.3,
        rto: Duration::from_millis(300),
    };
    let mut w = World::new(31, link, Policy::default(), Duration::from_secs(3600));
    let h = w.controlling_session();
    assert!(w.send_input(h, &click()));
    w.settle();
    assert_eq!(w.injected_events(), click());
    w.host.end(w.now).unwrap();
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::HostEnded));
}

#[test]
fn end_during_approval() {
    let mut w = World::simple(32);
    let h = w.connect("Bob", PASSWORD);
    w.settle();
    let now = w.now;
    w.helper(h).end(now);
    w.settle();
    let conn = w.conn(h);
    assert!(w.host_saw(|e| *e
        == HostEvent::Ended {
            conn,
            reason: EndReason::HelperEnded
        }));
    assert!(w.host.approve(w.now, conn).is_err());
    assert_eq!(w.host.active_connection(), None);
}

#[test]
fn helper_gives_control_back() {
    let mut w = World::simple(33);
    let h = w.controlling_session();
    let conn = w.conn(h);
    let now = w.now;
    w.helper(h).release_control(now).unwrap();
    w.settle();
    assert!(w.host_saw(|e| *e
        == HostEvent::ControlRevoked {
            conn,
            reason: RevokeReason::Released
        }));
    assert_eq!(w.injections.last(), Some(&Injection::ReleaseAll));
}

#[test]
fn cursor_updates_reach_a_watching_helper_only() {
    use ra_core::media::{CursorShape, CursorUpdate};
    let mut w = World::simple(40);
    let h = w.live_session();
    let conn = w.conn(h);
    let shape = CursorShape {
        width: 2,
        height: 2,
        hot_x: 1,
        hot_y: 0,
        pixels: vec![255; 16],
    };
    let update = CursorUpdate {
        x: 5,
        y: -2,
        visible: true,
        shape: Some(shape),
    };
    w.host.send_cursor(w.now, conn, &update).unwrap();
    // A shape whose pixels do not match its size is dropped; the position goes.
    let bad = CursorUpdate {
        x: 6,
        y: 7,
        visible: true,
        shape: Some(CursorShape {
            width: 300,
            height: 2,
            hot_x: 0,
            hot_y: 0,
            pixels: vec![0; 8],
        }),
    };
    w.host.send_cursor(w.now, conn, &bad).unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| *e == HelperEvent::Cursor(update.clone())));
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::Cursor(CursorUpdate {
            shape: None,
            ..bad.clone()
        })));
    w.host.pause(w.now).unwrap();
    assert!(
        w.host.send_cursor(w.now, conn, &update).is_err(),
        "nothing is shown while paused"
    );
}

#[test]
fn clipboard_is_off_by_default_and_needs_the_policy() {
    let mut w = World::simple(41);
    let h = w.live_session();
    assert_eq!(
        w.host.set_clipboard_sharing(w.now, true),
        Err(ra_core::session::CommandError::Policy)
    );
    assert!(w.host.send_clipboard(w.now, "secret").is_err());
    let now = w.now;
    assert!(w.helper(h).send_clipboard(now, "x").is_err());
    // A helper that sends anyway is refused.
    w.inject_control_bytes(
        h,
        raw_control(Message::Clipboard(proto::Clipboard {
            text: "rm -rf".into(),
        })),
    );
    w.settle();
    assert!(!w.host_saw(|e| matches!(e, HostEvent::Clipboard { .. })));
}

#[test]
fn clipboard_flows_both_ways_when_granted() {
    let policy = Policy {
        allow_clipboard: true,
        ..Policy::default()
    };
    let mut w = World::new(42, Link::default(), policy, Duration::from_secs(3600));
    let h = w.live_session();
    let conn = w.conn(h);
    w.host.set_clipboard_sharing(w.now, true).unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| *e == HelperEvent::ClipboardSharing { enabled: true }));
    w.host.send_clipboard(w.now, "from host").unwrap();
    let now = w.now;
    w.helper(h).send_clipboard(now, "from helper").unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::Clipboard {
            text: "from host".into()
        }));
    assert!(w.host_saw(|e| *e
        == HostEvent::Clipboard {
            conn,
            text: "from helper".into()
        }));
    // Turning the policy off stops sharing at once.
    w.host.set_policy(w.now, Policy::default());
    w.settle();
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::ClipboardSharing { enabled: false }));
    assert!(w.host.send_clipboard(w.now, "late").is_err());
}

#[test]
fn pointer_positions_are_mapped_onto_the_captured_display_and_kept_inside() {
    let mut w = World::simple(43);
    let h = w.controlling_session();
    let right = Rect::new(1920, 0, 1280, 1024);
    w.host
        .handle_displays(w.now, two_monitors(), DisplayId(2), right);
    assert!(w.send_input(
        h,
        &[
            InputEvent::PointerMove { x: 10, y: 20 },
            InputEvent::PointerMove { x: -50, y: 5000 },
        ]
    ));
    w.settle();
    assert_eq!(
        w.injected_events(),
        vec![
            InputEvent::PointerMove { x: 1930, y: 20 },
            InputEvent::PointerMove { x: 1920, y: 1023 },
        ]
    );
}

#[test]
fn relative_moves_cannot_leave_the_captured_display() {
    let mut w = World::simple(44);
    let h = w.controlling_session();
    // The helper watches the right monitor; the left one is not shared.
    let right = Rect::new(1920, 0, 1280, 1024);
    w.host
        .handle_displays(w.now, two_monitors(), DisplayId(2), right);
    let click = [
        InputEvent::Button {
            button: MouseButton::Left,
            pressed: true,
        },
        InputEvent::Button {
            button: MouseButton::Left,
            pressed: false,
        },
    ];
    // From nowhere known, a relative move could end anywhere: dropped.
    assert!(w.send_input(h, &[InputEvent::PointerMoveRelative { dx: -5, dy: 0 }]));
    w.settle();
    assert_eq!(w.injected_events(), vec![]);
    // The escape: a huge move left and a click would land on the left
    // monitor. The move stops at the shared display's edge, and so does
    // one to the far right and below.
    let mut events = vec![
        InputEvent::PointerMove { x: 10, y: 20 },
        InputEvent::PointerMoveRelative { dx: -5000, dy: 0 },
    ];
    events.extend(click.clone());
    events.push(InputEvent::PointerMoveRelative {
        dx: 100_000,
        dy: 100_000,
    });
    events.push(InputEvent::PointerMoveRelative { dx: -3, dy: -4 });
    assert!(w.send_input(h, &events));
    w.settle();
    let injected = w.injected_events();
    assert_eq!(
        injected,
        vec![
            InputEvent::PointerMove { x: 1930, y: 20 },
            InputEvent::PointerMoveRelative { dx: -10, dy: 0 },
            click[0].clone(),
            click[1].clone(),
            InputEvent::PointerMoveRelative { dx: 1279, dy: 1003 },
            InputEvent::PointerMoveRelative { dx: -3, dy: -4 },
        ]
    );
    // Added up as the injector does, the pointer never left the display.
    let (mut x, mut y) = (0, 0);
    for event in &injected {
        match *event {
            InputEvent::PointerMove { x: ax, y: ay } => (x, y) = (ax, ay),
            InputEvent::PointerMoveRelative { dx, dy } => (x, y) = (x + dx, y + dy),
            _ => {}
        }
        let inside = (1920..3200).contains(&x) && (0..1024).contains(&y);
        assert!(inside, "({x}, {y}) is outside {right:?}");
    }
    // The host's own pointer report moves the starting point.
    w.host.handle_cursor(
        w.now,
        &CursorUpdate {
            x: 5,
            y: 6,
            visible: true,
            shape: None,
        },
    );
    assert!(w.send_input(h, &[InputEvent::PointerMoveRelative { dx: -100, dy: 0 }]));
    w.settle();
    assert_eq!(
        w.injected_events().last(),
        Some(&InputEvent::PointerMoveRelative { dx: -5, dy: 0 })
    );
}

#[test]
fn pointer_positions_scale_when_the_picture_is_not_in_desktop_pixels() {
    let mut w = World::simple(45);
    let h = w.controlling_session();
    // A HiDPI display: 1280x1024 on the desktop, captured at twice that.
    let right = Rect::new(1920, 0, 1280, 1024);
    w.host
        .handle_displays(w.now, two_monitors(), DisplayId(2), right);
    w.host.set_picture_size(2560, 2048);
    assert!(w.send_input(
        h,
        &[
            InputEvent::PointerMove { x: 0, y: 0 },
            InputEvent::PointerMove { x: 1001, y: 2047 },
            InputEvent::PointerMove { x: 9999, y: -3 },
        ]
    ));
    w.settle();
    assert_eq!(
        w.injected_events(),
        vec![
            InputEvent::PointerMove { x: 1920, y: 0 },
            InputEvent::PointerMove { x: 2420, y: 1023 },
            InputEvent::PointerMove { x: 3199, y: 0 },
        ]
    );
}

#[test]
fn a_flood_of_presses_is_limited_but_releases_of_held_keys_pass() {
    let mut w = World::simple(44);
    let h = w.controlling_session();
    let flood: Vec<InputEvent> = (0..1000)
        .flat_map(|_| {
            [
                InputEvent::Key {
                    code: KeyCode(0x04),
                    pressed: true,
                },
                InputEvent::Key {
                    code: KeyCode(0x04),
                    pressed: false,
                },
            ]
        })
        .collect();
    for chunk in flood.chunks(500) {
        assert!(w.send_input(h, chunk));
    }
    w.settle();
    let injected = w.injected_events();
    let presses = injected
        .iter()
        .filter(|e| matches!(e, InputEvent::Key { pressed: true, .. }))
        .count();
    let releases = injected
        .iter()
        .filter(|e| matches!(e, InputEvent::Key { pressed: false, .. }))
        .count();
    assert!(presses <= 450, "{presses} presses got through");
    assert!(presses >= 300, "the burst allowance passes: {presses}");
    assert_eq!(
        releases, presses,
        "each press that passed is released; releases of keys not held are dropped"
    );
    // Releases of nothing held are no flood of their own; long text costs a
    // token per character.
    let before = w.injected_events().len();
    let stray: Vec<InputEvent> = (0..1000)
        .map(|_| InputEvent::Key {
            code: KeyCode(0x06),
            pressed: false,
        })
        .collect();
    assert!(w.send_input(h, &stray));
    assert!(w.send_input(
        h,
        &[InputEvent::Text {
            text: "x".repeat(1000)
        }]
    ));
    w.settle();
    assert_eq!(
        w.injected_events().len(),
        before,
        "nothing more got through"
    );
    // The allowance refills with time.
    w.run_for(Duration::from_secs(2));
    let before = w.injected_events().len();
    assert!(w.send_input(
        h,
        &[InputEvent::Key {
            code: KeyCode(0x05),
            pressed: true
        }]
    ));
    w.settle();
    assert_eq!(w.injected_events().len(), before + 1);
}

#[test]
fn local_activity_suspends_remote_input_and_releases_it() {
    let mut w = World::simple(45);
    let h = w.controlling_session();
    assert!(w.send_input(
        h,
        &[InputEvent::Button {
            button: MouseButton::Left,
            pressed: true
        }]
    ));
    w.settle();
    let now = w.now;
    w.host.suspend_remote_input(now, Duration::from_millis(500));
    w.pump();
    assert_eq!(w.injections.last(), Some(&Injection::ReleaseAll));
    assert!(w.send_input(h, &click()));
    w.settle();
    assert_eq!(
        w.injected_events().len(),
        1,
        "input is ignored while the local user is active"
    );
    w.run_for(Duration::from_secs(1));
    assert!(w.send_input(h, &click()));
    w.settle();
    assert_eq!(w.injected_events().len(), 4);
    assert!(w.gate_violations.is_empty());
}
