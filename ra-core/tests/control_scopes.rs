//! Scoped, time-boxed control on the virtual clock: the helper asks for
//! scopes, the host grants a subset for a time; input outside the scopes is
//! dropped and counted, never injected (and 1,000 seeded interleavings say
//! so); at expiry control is revoked (`expired`) and what was held is
//! released; the policy caps every grant.
#![allow(missing_docs)]

use std::time::Duration;

use ra_core::input::{InputEvent, MouseButton};
use ra_core::keys::KeyCode;
use ra_core::policy::Policy;
use ra_core::session::{
    ControlScopes, ControlState, HelperEvent, HostEvent, Injection, RevokeReason,
};
use ra_testkit::harness::{Link, World};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const POINTER: ControlScopes = ControlScopes {
    pointer: true,
    keyboard: false,
    clipboard: false,
};
const KEYBOARD: ControlScopes = ControlScopes {
    pointer: false,
    keyboard: true,
    clipboard: false,
};

fn world(seed: u64, policy: Policy) -> World {
    World::new(seed, Link::default(), policy, Duration::from_secs(3600))
}

/// A live session whose helper asked for `asked` and was granted `granted`
/// for `duration`.
fn granted(
    w: &mut World,
    asked: ControlScopes,
    granted: ControlScopes,
    duration: Option<Duration>,
) -> usize {
    let h = w.live_session();
    let now = w.now;
    w.helper(h).request_control_scopes(now, asked).unwrap();
    w.settle();
    assert!(
        w.host_saw(|e| matches!(e, HostEvent::ControlRequested { scopes, .. } if *scopes == asked))
    );
    let (now, conn) = (w.now, w.conn(h));
    w.host
        .grant_control_with(now, conn, granted, duration)
        .unwrap();
    w.settle();
    h
}

fn injected(w: &World) -> Vec<InputEvent> {
    w.injected_events()
}

const KEY_A: InputEvent = InputEvent::Key {
    code: KeyCode(4),
    pressed: true,
};

#[test]
fn a_pointer_only_grant_injects_no_keys_and_counts_them() {
    let mut w = world(1, Policy::default());
    let h = granted(&mut w, ControlScopes::ALL, POINTER, None);
    assert!(w.helper_saw(h, |e| matches!(e,
        HelperEvent::ControlGranted { scopes, expires_in: None, .. } if *scopes == POINTER)));
    assert!(w.host_saw(|e| matches!(e,
        HostEvent::ControlGranted { scopes, expires_at: None, .. } if *scopes == POINTER)));
    let dropped = w.host.input_dropped();
    let sent = [
        InputEvent::PointerMove { x: 10, y: 20 },
        KEY_A,
        InputEvent::Text {
            text: "rm -rf".into(),
        },
        InputEvent::Button {
            button: MouseButton::Left,
            pressed: true,
        },
    ];
    assert!(w.send_input(h, &sent));
    w.settle();
    let got = injected(&w);
    assert!(
        got.iter().all(|e| matches!(
            e,
            InputEvent::PointerMove { .. } | InputEvent::Button { .. }
        )),
        "{got:?}"
    );
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(w.host.input_dropped(), dropped + 2);
}

#[test]
fn the_host_grants_only_what_was_asked_for() {
    let mut w = world(2, Policy::default());
    let h = w.live_session();
    let now = w.now;
    w.helper(h).request_control_scopes(now, POINTER).unwrap();
    assert!(
        w.helper(h)
            .request_control_scopes(now, ControlScopes::NONE)
            .is_err()
    );
    w.settle();
    let (now, conn) = (w.now, w.conn(h));
    // Keyboard only: nothing the helper asked for.
    assert!(
        w.host
            .grant_control_with(now, conn, KEYBOARD, None)
            .is_err()
    );
    // Everything: only the pointer.
    w.host.grant_control(now, conn).unwrap();
    w.settle();
    assert!(w.helper_saw(h, |e| matches!(e,
        HelperEvent::ControlGranted { scopes, .. } if *scopes == POINTER)));
    // No time at all is refused.
    let mut w = world(3, Policy::default());
    let h = w.live_session();
    let now = w.now;
    w.helper(h).request_control(now).unwrap();
    w.settle();
    let (now, conn) = (w.now, w.conn(h));
    assert!(
        w.host
            .grant_control_with(now, conn, ControlScopes::ALL, Some(Duration::ZERO))
            .is_err()
    );
}

#[test]
fn at_expiry_control_is_revoked_and_held_keys_released() {
    let mut w = world(4, Policy::default());
    let h = granted(
        &mut w,
        ControlScopes::ALL,
        ControlScopes::ALL,
        Some(Duration::from_secs(600)),
    );
    assert!(
        w.helper_saw(h, |e| matches!(e,
        HelperEvent::ControlGranted { expires_in: Some(d), .. } if *d == Duration::from_secs(600)))
    );
    assert!(w.host_saw(|e| matches!(
        e,
        HostEvent::ControlGranted {
            expires_at: Some(_),
            ..
        }
    )));
    assert!(w.send_input(h, &[KEY_A]));
    w.settle();
    assert_eq!(injected(&w), vec![KEY_A]);
    let releases = w.release_alls();

    // Just before the end: still in control.
    w.run_for(Duration::from_secs(599));
    let conn = w.conn(h);
    assert!(matches!(
        w.host.control_state(conn),
        Some(ControlState::Granted(_))
    ));
    // At the end: revoked for expiry, the key released, the helper told.
    w.run_for(Duration::from_secs(2));
    assert_eq!(w.host.control_state(conn), Some(ControlState::None));
    assert!(w.host_saw(|e| matches!(
        e,
        HostEvent::ControlRevoked {
            reason: RevokeReason::Expired,
            ..
        }
    )));
    assert!(w.helper_saw(h, |e| matches!(
        e,
        HelperEvent::ControlRevoked {
            reason: RevokeReason::Expired
        }
    )));
    assert_eq!(w.release_alls(), releases + 1);
    assert!(matches!(w.injections.last(), Some(Injection::ReleaseAll)));
    // Nothing more gets in; the helper may ask again.
    let count = injected(&w).len();
    w.send_input(h, &[KEY_A]);
    w.settle();
    assert_eq!(injected(&w).len(), count);
    let now = w.now;
    w.helper(h).request_control(now).unwrap();
    w.settle();
    let now = w.now;
    w.host.grant_control(now, conn).unwrap();
    w.settle();
    assert!(matches!(
        w.host.control_state(conn),
        Some(ControlState::Granted(_))
    ));
}

#[test]
fn the_policy_caps_every_grant() {
    let policy = Policy {
        max_control_duration: Some(Duration::from_secs(300)),
        ..Policy::default()
    };
    let mut w = world(5, policy.clone());
    let h = granted(&mut w, ControlScopes::ALL, ControlScopes::ALL, None);
    assert!(
        w.helper_saw(h, |e| matches!(e,
        HelperEvent::ControlGranted { expires_in: Some(d), .. } if *d == Duration::from_secs(300)))
    );
    let mut w = world(6, policy);
    let h = granted(
        &mut w,
        ControlScopes::ALL,
        ControlScopes::ALL,
        Some(Duration::from_secs(3600)),
    );
    assert!(
        w.helper_saw(h, |e| matches!(e,
        HelperEvent::ControlGranted { expires_in: Some(d), .. } if *d == Duration::from_secs(300)))
    );
    w.run_for(Duration::from_secs(301));
    assert!(w.host_saw(|e| matches!(
        e,
        HostEvent::ControlRevoked {
            reason: RevokeReason::Expired,
            ..
        }
    )));
}

#[test]
fn a_grant_without_the_clipboard_keeps_the_helpers_clipboard_out() {
    let policy = Policy {
        allow_clipboard: true,
        ..Policy::default()
    };
    let mut w = world(7, policy);
    let h = granted(&mut w, ControlScopes::ALL, POINTER, None);
    w.host.set_clipboard_sharing(w.now, true).unwrap();
    w.settle();
    let now = w.now;
    w.helper(h).send_clipboard(now, "paste me").unwrap();
    w.settle();
    assert!(!w.host_saw(|e| matches!(e, HostEvent::Clipboard { .. })));
    assert!(
        w.errors_from_host(h)
            .iter()
            .any(|e| e.detail.contains("clipboard"))
    );
}

#[test]
fn a_thousand_seeded_interleavings_never_inject_outside_the_scopes() {
    let scopes = [POINTER, KEYBOARD, ControlScopes::ALL];
    let mut injected_total = 0;
    for seed in 0..1_000u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let link = Link {
            latency: Duration::from_millis(rng.gen_range(0..60)),
            ..Link::default()
        };
        let mut w = World::new(seed, link, Policy::default(), Duration::from_secs(3600));
        let h = w.live_session();
        let conn = w.conn(h);
        // The scopes of the latest grant: input injected since was sent under it.
        let mut current = ControlScopes::NONE;
        let mut checked = 0;
        for step in 0..40 {
            let now = w.now;
            match rng.gen_range(0..8) {
                0 => drop(
                    w.helper(h)
                        .request_control_scopes(now, scopes[rng.gen_range(0..3)]),
                ),
                1 | 2 => {
                    let wanted = scopes[rng.gen_range(0..3)];
                    let duration = rng
                        .gen_bool(0.5)
                        .then(|| Duration::from_millis(rng.gen_range(1..400)));
                    if w.host
                        .grant_control_with(now, conn, wanted, duration)
                        .is_ok()
                    {
                        w.pump();
                        let last = w.host_events.iter().rev().find_map(|e| match e {
                            HostEvent::ControlGranted { scopes, .. } => Some(*scopes),
                            _ => None,
                        });
                        current =
                            last.unwrap_or_else(|| panic!("seed {seed}: granted without an event"));
                    }
                }
                3 => drop(w.host.revoke(now)),
                _ => {
                    let events: Vec<InputEvent> = (0..rng.gen_range(1..4))
                        .map(|_| match rng.gen_range(0..4) {
                            0 => InputEvent::PointerMove {
                                x: rng.gen_range(0..600),
                                y: rng.gen_range(0..400),
                            },
                            1 => InputEvent::Key {
                                code: KeyCode(rng.gen_range(4..0x60)),
                                pressed: rng.gen_bool(0.5),
                            },
                            2 => InputEvent::Text { text: "x".into() },
                            _ => InputEvent::Wheel { dx: 0, dy: 120 },
                        })
                        .collect();
                    drop(w.helper(h).send_input(now, &events));
                }
            }
            w.pump();
            w.run_for(Duration::from_millis(rng.gen_range(0..150)));
            let all = w.injected_events();
            for event in &all[checked..] {
                assert!(
                    current.allows(event),
                    "seed {seed} step {step}: {event:?} injected under {current}"
                );
            }
            injected_total += all.len() - checked;
            checked = all.len();
        }
    }
    // The runs did inject: the check was not vacuous.
    assert!(injected_total > 1_000, "{injected_total}");
}
