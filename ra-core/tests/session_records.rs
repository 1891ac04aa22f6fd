//! What the sans-IO host decides besides consent, on a virtual clock: every
//! command goes through one type (`HostCommand`, `HelperCommand`), the
//! audit records it emits, and which helper is told about displays and the
//! pointer.
#![allow(missing_docs)]

use std::time::{Duration, SystemTime};

use ra_core::audit::AuditEvent;
use ra_core::desk::{DeskPart, DeskSignal, DesktopConsent};
use ra_core::input::{InputEvent, MouseButton};
use ra_core::media::{CursorUpdate, DisplayId, Rect};
use ra_core::policy::Policy;
use ra_core::session::{
    CommandError, DenyReason, DeskCommand, EndReason, HelperCommand, HelperEvent, HostCommand,
    HostConfig, HostEvent, MediaCommand, OfferRecord, PointerKind, RevokeReason,
};
use ra_testkit::harness::{Link, PASSWORD, SESSION, World, two_monitors};

fn click_at(x: i32, y: i32) -> Vec<InputEvent> {
    vec![
        InputEvent::PointerMove { x, y },
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

#[test]
fn every_host_and_helper_command_goes_through_apply() {
    let policy = Policy {
        allow_clipboard: true,
        ..Policy::default()
    };
    let mut w = World::new(101, Link::default(), policy, Duration::from_secs(3600));
    let h = w.controlling_session();
    let conn = w.conn(h);

    // Chat both ways, a pointer mark, clipboard both ways.
    let now = w.now;
    w.host
        .apply(now, HostCommand::Chat("hello".into()))
        .unwrap();
    w.helper(h)
        .apply(now, HelperCommand::Chat("hi".into()))
        .unwrap();
    w.helper(h)
        .apply(
            now,
            HelperCommand::Pointer {
                x: 5,
                y: 6,
                kind: PointerKind::Click,
            },
        )
        .unwrap();
    w.host
        .apply(now, HostCommand::SetClipboardSharing(true))
        .unwrap();
    w.settle();
    let now = w.now;
    w.host
        .apply(now, HostCommand::SendClipboard("from host".into()))
        .unwrap();
    w.helper(h)
        .apply(now, HelperCommand::SendClipboard("from helper".into()))
        .unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::Chat {
            text: "hello".into()
        }));
    assert!(w.host_saw(|e| *e
        == HostEvent::Chat {
            conn,
            text: "hi".into()
        }));
    assert!(w.host_saw(|e| *e
        == HostEvent::Pointer {
            conn,
            x: 5,
            y: 6,
            kind: PointerKind::Click
        }));
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::Clipboard {
            text: "from host".into()
        }));
    assert!(w.host_saw(|e| *e
        == HostEvent::Clipboard {
            conn,
            text: "from helper".into()
        }));

    // Errors come back unchanged through apply.
    let now = w.now;
    assert_eq!(
        w.host.apply(now, HostCommand::Chat(String::new())),
        Err(CommandError::InvalidArgument("chat text is empty"))
    );
    assert_eq!(
        w.host.apply(now, HostCommand::Approve(conn)),
        Err(CommandError::InvalidState(
            "the connection is not waiting for approval"
        ))
    );

    // Pause, resume, a policy that forbids control, end.
    w.host.apply(now, HostCommand::Pause).unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| *e == HelperEvent::Paused));
    let now = w.now;
    w.host.apply(now, HostCommand::Resume).unwrap();
    w.settle();
    let now = w.now;
    w.helper(h)
        .apply(now, HelperCommand::RequestControl)
        .unwrap();
    w.settle();
    let policy = Policy {
        allow_control: false,
        allow_clipboard: true,
        ..Policy::default()
    };
    let now = w.now;
    w.host.apply(now, HostCommand::SetPolicy(policy)).unwrap();
    w.settle();
    assert!(w.host_saw(|e| *e
        == HostEvent::ControlDenied {
            conn,
            reason: DenyReason::Policy
        }));
    let now = w.now;
    w.helper(h).apply(now, HelperCommand::End).unwrap();
    w.settle();
    assert!(w.host_saw(|e| *e
        == HostEvent::Ended {
            conn,
            reason: EndReason::HelperEnded
        }));
    let now = w.now;
    w.host.apply(now, HostCommand::CloseInvitation).unwrap();
    assert!(w.host.invitation_closed().is_some());
}

#[test]
fn local_input_seen_holds_the_helpers_input_back_then_lets_it_through() {
    let mut w = World::simple(102);
    let h = w.controlling_session();
    assert!(w.send_input(h, &click_at(1, 1)));
    w.settle();
    assert_eq!(w.injected_events().len(), 3);

    let now = w.now;
    w.host
        .apply(
            now,
            HostCommand::LocalInputSeen(Duration::from_millis(1500)),
        )
        .unwrap();
    w.settle();
    let releases = w.release_alls();
    assert!(w.send_input(h, &click_at(2, 2)));
    w.settle();
    // Held back: nothing injected, nothing queued for later.
    assert_eq!(w.injected_events().len(), 3);
    assert!(w.host.input_dropped() >= 3);
    // Control itself stays: the helper is not told anything.
    assert!(w.helper(h).grant().is_some());

    w.run_for(Duration::from_millis(1600));
    assert!(w.send_input(h, &click_at(3, 3)));
    w.settle();
    let injected = w.injected_events();
    assert_eq!(injected.len(), 6, "{injected:?}");
    assert_eq!(injected[3], InputEvent::PointerMove { x: 3, y: 3 });
    assert_eq!(w.release_alls(), releases);
}

/// A host's configuration whose opening is recorded with this offer.
fn offering(expires_at: SystemTime, addresses: Vec<std::net::SocketAddr>) -> HostConfig {
    let mut config = HostConfig::new(
        SESSION,
        "Alice's laptop",
        PASSWORD.to_vec(),
        Duration::from_secs(3600),
        Policy::default(),
    );
    config.offer = Some(OfferRecord {
        expires_at,
        addresses,
    });
    config
}

#[test]
fn the_desktops_consent_is_recorded_and_a_limited_desk_is_told_at_the_start() {
    let expires_at = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let mut config = offering(expires_at, Vec::new());
    config.desktop_consent = Some(DesktopConsent {
        api: "portal".into(),
        monitors: 2,
        input_allowed: false,
    });
    config.desk_limitation = Some("no panic key on this desktop".into());
    let mut w = World::with_config(104, Link::default(), config);
    w.pump();
    // The opening first, then what the person at the desk allowed.
    assert_eq!(
        w.audit,
        vec![
            AuditEvent::InvitationOpened {
                expires_at,
                addresses: Vec::new(),
            },
            AuditEvent::DesktopConsent {
                api: "portal".into(),
                monitors: 2,
                input_allowed: false,
            }
        ]
    );
    assert!(w.host_saw(|e| *e
        == HostEvent::DeskLimited {
            reason: "no panic key on this desktop".into()
        }));

    // Without them: neither.
    let mut w = World::new(
        105,
        Link::default(),
        Policy::default(),
        Duration::from_secs(60),
    );
    w.pump();
    assert!(!w.host_saw(|e| matches!(e, HostEvent::DeskLimited { .. })));
    assert!(
        !w.audit
            .iter()
            .any(|e| matches!(e, AuditEvent::DesktopConsent { .. }))
    );
}

#[test]
fn the_audit_log_is_decided_by_the_endpoint() {
    let expires_at = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let addresses = vec!["192.0.2.1:4433".parse().unwrap()];
    let config = offering(expires_at, addresses.clone());
    let mut w = World::with_config(103, Link::default(), config);
    w.pump();
    assert_eq!(
        w.audit,
        vec![AuditEvent::InvitationOpened {
            expires_at,
            addresses
        }]
    );

    // A wrong password, a denied helper, then one let in.
    w.connect("Mallory", b"wrong");
    w.settle();
    let eve = w.connect("Eve", PASSWORD);
    w.settle();
    let now = w.now;
    let eve_conn = w.conn(eve);
    w.host.apply(now, HostCommand::Deny(eve_conn)).unwrap();
    w.settle();
    let h = w.controlling_session();
    let now = w.now;
    w.host
        .apply(now, HostCommand::Chat("hello".into()))
        .unwrap();
    w.helper(h)
        .apply(now, HelperCommand::Chat("hi".into()))
        .unwrap();
    w.settle();
    let now = w.now;
    w.host.apply(now, HostCommand::Revoke).unwrap();
    w.host.apply(now, HostCommand::End).unwrap();
    w.settle();

    let peer = |i: u64| format!("192.0.2.{i}:4433");
    let expected = vec![
        AuditEvent::AuthFailed {
            peer: peer(1),
            attempts: 1,
        },
        AuditEvent::ConnectionRequest {
            helper: "Eve".into(),
            peer: peer(2),
            verified: None,
        },
        AuditEvent::Denied {
            helper: "Eve".into(),
            reason: "denied".into(),
        },
        AuditEvent::ConnectionRequest {
            helper: "Bob".into(),
            peer: peer(3),
            verified: None,
        },
        AuditEvent::Approved {
            helper: "Bob".into(),
        },
        AuditEvent::ControlRequested,
        AuditEvent::ControlGranted {
            scopes: Some("pointer,keyboard,clipboard".into()),
            expires_at: None,
        },
        AuditEvent::Chat {
            from: "host".into(),
            text: "hello".into(),
        },
        AuditEvent::Chat {
            from: "helper".into(),
            text: "hi".into(),
        },
        AuditEvent::ControlRevoked {
            reason: "by_user".into(),
        },
        AuditEvent::Ended {
            reason: "host_ended".into(),
        },
    ];
    assert_eq!(&w.audit[1..], expected.as_slice());
    assert!(w.host_saw(|e| matches!(
        e,
        HostEvent::ControlRevoked {
            reason: RevokeReason::ByUser,
            ..
        }
    )));
}

/// The display lists helper `h` was sent, in order.
fn displays_seen(w: &World, h: usize) -> Vec<(Vec<String>, DisplayId)> {
    w.helpers[h]
        .events
        .iter()
        .filter_map(|e| match e {
            HelperEvent::Displays { displays, selected } => {
                Some((displays.iter().map(|d| d.name.clone()).collect(), *selected))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn displays_and_the_pointer_go_to_the_helper_watching_only() {
    let mut w = World::simple(104);
    let left = Rect::new(0, 0, 1920, 1080);
    let now = w.now;
    // The capturer reports before anyone is in: nobody to tell yet.
    w.host
        .handle_displays(now, two_monitors(), DisplayId(1), left);
    let h = w.connect("Bob", PASSWORD);
    w.settle();
    assert!(displays_seen(&w, h).is_empty());
    let conn = w.conn(h);
    let now = w.now;
    w.host.apply(now, HostCommand::Approve(conn)).unwrap();
    w.settle();
    let both = vec!["LEFT".to_owned(), "RIGHT".to_owned()];
    assert_eq!(displays_seen(&w, h), vec![(both.clone(), DisplayId(1))]);
    assert_eq!(w.host.streaming_connection(), Some(conn));

    // The same report again says nothing new; a new selection does.
    let now = w.now;
    w.host
        .handle_displays(now, two_monitors(), DisplayId(1), left);
    let right = Rect::new(1920, 0, 1280, 1024);
    w.host
        .handle_displays(now, two_monitors(), DisplayId(2), right);
    w.settle();
    assert_eq!(
        displays_seen(&w, h),
        vec![(both.clone(), DisplayId(1)), (both.clone(), DisplayId(2))]
    );

    // The pointer goes to the helper watching.
    let cursor = CursorUpdate {
        x: 10,
        y: 20,
        visible: true,
        shape: None,
    };
    let now = w.now;
    w.host.handle_cursor(now, &cursor);
    w.settle();
    assert!(w.helper_saw(
        h,
        |e| matches!(e, HelperEvent::Cursor(c) if c.x == 10 && c.y == 20)
    ));

    // Paused: no video, no pointer, no display news, no keyframes.
    let now = w.now;
    w.host.apply(now, HostCommand::Pause).unwrap();
    w.settle();
    assert_eq!(w.host.streaming_connection(), None);
    let media_before = w.media.len();
    let events_before = w.helpers[h].events.len();
    let now = w.now;
    w.host.handle_cursor(now, &CursorUpdate { x: 99, ..cursor });
    w.host
        .handle_displays(now, two_monitors()[..1].to_vec(), DisplayId(1), left);
    w.helper(h)
        .apply(now, HelperCommand::RequestKeyframe)
        .unwrap();
    w.helper(h)
        .apply(now, HelperCommand::SelectDisplay(DisplayId(2)))
        .unwrap();
    w.settle();
    assert_eq!(
        w.media.len(),
        media_before,
        "{:?}",
        &w.media[media_before..]
    );
    assert_eq!(w.helpers[h].events.len(), events_before);

    // Resumed: video from a keyframe, and the displays as they are now.
    let now = w.now;
    w.host.apply(now, HostCommand::Resume).unwrap();
    w.settle();
    assert_eq!(
        &w.media[media_before..],
        &[
            MediaCommand::Start { conn },
            MediaCommand::Keyframe { conn }
        ]
    );
    assert_eq!(
        displays_seen(&w, h).last(),
        Some(&(vec!["LEFT".to_owned()], DisplayId(1)))
    );
}

#[test]
fn the_panic_key_revokes_whenever_it_is_pressed() {
    let mut w = World::simple(105);
    let h = w.live_session();
    let now = w.now;
    // Without a grant: the application hears it, nothing else happens.
    w.host.handle_desk(now, DeskSignal::PanicKey);
    w.settle();
    assert!(w.host_saw(|e| *e == HostEvent::PanicKey));
    assert!(!w.host_saw(|e| matches!(e, HostEvent::ControlRevoked { .. })));

    let now = w.now;
    w.helper(h)
        .apply(now, HelperCommand::RequestControl)
        .unwrap();
    w.settle();
    let conn = w.conn(h);
    let now = w.now;
    w.host.apply(now, HostCommand::GrantControl(conn)).unwrap();
    w.settle();
    assert!(w.send_input(h, &click_at(1, 1)));
    w.settle();
    let releases = w.release_alls();
    let now = w.now;
    w.host.handle_desk(now, DeskSignal::PanicKey);
    w.settle();
    assert!(w.host_saw(|e| *e
        == HostEvent::ControlRevoked {
            conn,
            reason: RevokeReason::PanicKey
        }));
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::ControlRevoked {
            reason: RevokeReason::PanicKey
        }));
    assert_eq!(w.release_alls(), releases + 1);
    assert!(!w.send_input(h, &click_at(2, 2)));
}

#[test]
fn local_input_holds_the_helper_back_for_the_configured_time() {
    let mut config = HostConfig::new(
        SESSION,
        "Alice's laptop",
        PASSWORD.to_vec(),
        Duration::from_secs(3600),
        Policy::default(),
    );
    config.local_user_wins = Duration::from_millis(500);
    let mut w = World::with_config(106, Link::default(), config);
    let h = w.controlling_session();
    let now = w.now;
    w.host.handle_desk(now, DeskSignal::LocalInput);
    w.settle();
    assert!(w.send_input(h, &click_at(1, 1)));
    w.settle();
    assert!(w.injected_events().is_empty());
    // Still busy at the desk: the hold starts again from the last input.
    w.run_for(Duration::from_millis(300));
    let now = w.now;
    w.host.handle_desk(now, DeskSignal::LocalInput);
    w.run_for(Duration::from_millis(300));
    assert!(w.send_input(h, &click_at(2, 2)));
    w.settle();
    assert!(w.injected_events().is_empty());
    w.run_for(Duration::from_millis(600));
    assert!(w.send_input(h, &click_at(3, 3)));
    w.settle();
    assert_eq!(w.injected_events(), click_at(3, 3));
}

#[test]
fn the_clipboard_is_read_only_once_shared_and_sent_only_while_shared() {
    let policy = Policy {
        allow_clipboard: true,
        ..Policy::default()
    };
    let mut w = World::new(107, Link::default(), policy, Duration::from_secs(3600));
    let h = w.live_session();
    let conn = w.conn(h);
    // Copied before sharing: the clipboard is not even started, nothing goes.
    let now = w.now;
    w.host
        .handle_desk(now, DeskSignal::ClipboardChanged("before".into()));
    w.settle();
    assert!(w.desk.is_empty());
    assert!(!w.helper_saw(h, |e| matches!(e, HelperEvent::Clipboard { .. })));

    // Sharing on: started once, before the application hears it is on.
    let now = w.now;
    w.host
        .apply(now, HostCommand::SetClipboardSharing(true))
        .unwrap();
    w.pump();
    assert_eq!(w.desk, vec![DeskCommand::StartClipboard]);
    let now = w.now;
    w.host
        .handle_desk(now, DeskSignal::ClipboardChanged("shared".into()));
    w.settle();
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::Clipboard {
            text: "shared".into()
        }));
    assert!(w.host_saw(|e| *e == HostEvent::ClipboardSent { conn, bytes: 6 }));

    // The helper's text goes onto the host's clipboard.
    let now = w.now;
    w.helper(h)
        .apply(now, HelperCommand::SendClipboard("from helper".into()))
        .unwrap();
    w.settle();
    assert_eq!(
        w.desk,
        vec![
            DeskCommand::StartClipboard,
            DeskCommand::PutClipboard("from helper".into())
        ]
    );

    // Sharing off: copies stay here; on again: not started a second time.
    let now = w.now;
    w.host
        .apply(now, HostCommand::SetClipboardSharing(false))
        .unwrap();
    w.host
        .handle_desk(now, DeskSignal::ClipboardChanged("private".into()));
    w.host
        .apply(now, HostCommand::SetClipboardSharing(true))
        .unwrap();
    w.settle();
    assert!(!w.helper_saw(h, |e| *e
        == HelperEvent::Clipboard {
            text: "private".into()
        }));
    assert_eq!(w.desk.len(), 2);

    // A desk failure reaches the application.
    let now = w.now;
    w.host
        .handle_desk_failure(now, DeskPart::Clipboard, "no display".into());
    w.pump();
    assert!(w.host_saw(|e| *e
        == HostEvent::DeskFailed {
            part: DeskPart::Clipboard,
            message: "no display".into()
        }));
}
