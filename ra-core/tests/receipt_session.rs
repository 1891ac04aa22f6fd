//! Consent receipts in a session, on the virtual clock: when an approved
//! session ends (either side, or the link), the host's receipt lists the
//! approval, every grant (scopes, from, to, how it ended) and the end; a
//! verified helper checks and countersigns it and both sides hold the same
//! receipt; an unverified helper's receipt is the host's alone; a helper
//! refuses a receipt signed by a host other than the one it connected to.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ra_core::identity::{HelperCredential, OrgKeyPair};
use ra_core::invitation::CertFingerprint;
use ra_core::policy::Policy;
use ra_core::receipt::{ConsentReceipt, HostReceiptKey, ReceiptCheck};
use ra_core::session::{
    ControlScopes, EndReason, HelperConfig, HelperEvent, HostConfig, HostEvent,
};
use ra_testkit::harness::{Link, PASSWORD, SESSION, World};

const DAY: Duration = Duration::from_secs(86_400);

struct Setup {
    world: World,
    org: OrgKeyPair,
    jane: Arc<HelperCredential>,
    host_certificate: CertFingerprint,
}

fn setup(seed: u64) -> Setup {
    let now = SystemTime::now();
    let org = OrgKeyPair::generate("Contoso IT").unwrap();
    let jane = Arc::new(org.issue("Jane Doe", now - DAY, now + DAY).unwrap());
    let policy = Policy {
        trusted_orgs: vec![org.public_key()],
        ..Policy::default()
    };
    let mut config = HostConfig::new(SESSION, "Alice's PC", PASSWORD.to_vec(), DAY, policy);
    config.wall_clock = now;
    config.receipts = true;
    let mut world = World::with_config(seed, Link::default(), config);
    let key = HostReceiptKey::generate().unwrap();
    let host_certificate = CertFingerprint::of_der(key.certificate());
    world.receipt_key = Some(key);
    Setup {
        world,
        org,
        jane,
        host_certificate,
    }
}

/// A live session with a helper of `config`.
fn live(w: &mut World, config: HelperConfig) -> usize {
    let h = w.connect_config(config, None);
    w.settle();
    let (now, conn) = (w.now, w.conn(h));
    w.host.approve(now, conn).unwrap();
    w.settle();
    assert!(w.helper(h).is_live());
    h
}

fn helper_config(
    identity: Option<Arc<HelperCredential>>,
    pin: Option<CertFingerprint>,
) -> HelperConfig {
    let mut config = HelperConfig::new(SESSION, "jane", PASSWORD.to_vec());
    config.identity = identity;
    config.host_fingerprint = pin;
    config
}

fn grant(w: &mut World, h: usize, scopes: ControlScopes, duration: Option<Duration>) {
    let now = w.now;
    w.helper(h).request_control_scopes(now, scopes).unwrap();
    w.settle();
    let (now, conn) = (w.now, w.conn(h));
    w.host
        .grant_control_with(now, conn, scopes, duration)
        .unwrap();
    w.settle();
}

/// The host's receipt, checking that it came just before the end.
fn host_receipt(w: &World) -> ConsentReceipt {
    let at = w
        .host_events
        .iter()
        .position(|e| matches!(e, HostEvent::Receipt { .. }))
        .unwrap_or_else(|| panic!("no receipt: {:?}", w.host_events));
    assert!(
        matches!(w.host_events.get(at + 1), Some(HostEvent::Ended { .. })),
        "the end follows the receipt: {:?}",
        &w.host_events[at..]
    );
    match &w.host_events[at] {
        HostEvent::Receipt { receipt, .. } => (**receipt).clone(),
        _ => unreachable!(),
    }
}

fn helper_receipt(w: &World, h: usize) -> Option<ConsentReceipt> {
    w.helpers[h].events.iter().find_map(|e| match e {
        HelperEvent::Receipt { receipt } => Some((**receipt).clone()),
        _ => None,
    })
}

#[test]
fn a_verified_helper_countersigns_and_both_keep_every_grant() {
    let Setup {
        mut world,
        org,
        jane,
        host_certificate,
    } = setup(1);
    let w = &mut world;
    let h = live(w, helper_config(Some(jane), Some(host_certificate)));
    let pointer = ControlScopes {
        pointer: true,
        keyboard: false,
        clipboard: false,
    };
    grant(w, h, pointer, Some(Duration::from_secs(600)));
    w.run_for(Duration::from_secs(601));
    grant(w, h, ControlScopes::ALL, None);
    let now = w.now;
    w.host.end(now).unwrap();
    w.settle();

    let receipt = host_receipt(w);
    assert!(receipt.is_countersigned());
    let summary = receipt
        .verify(&ReceiptCheck {
            pinned: Some(host_certificate),
            session: Some(SESSION),
            organisation: Some(org.public_key()),
        })
        .unwrap();
    assert!(summary.countersigned);
    let body = receipt.body();
    assert_eq!(
        (
            body.host_name.as_str(),
            body.helper_name.as_str(),
            body.end_reason.as_str()
        ),
        ("Alice's PC", "jane", "host_ended")
    );
    let grants: Vec<(&str, &str)> = body
        .grants
        .iter()
        .map(|g| (g.scopes.as_str(), g.ended.as_str()))
        .collect();
    assert_eq!(
        grants,
        [
            ("pointer", "expired"),
            ("pointer,keyboard,clipboard", "session_ended")
        ]
    );
    let first = &body.grants[0];
    let lasted = first.to.duration_since(first.from).unwrap();
    assert!(
        lasted >= Duration::from_secs(600) && lasted < Duration::from_secs(601),
        "{lasted:?}"
    );
    assert!(body.approved_at <= first.from && body.grants[1].to <= body.ended_at);
    // The helper holds the same receipt, and then the end.
    assert_eq!(helper_receipt(w, h), Some(receipt));
    assert!(matches!(
        w.helpers[h].events.last(),
        Some(HelperEvent::Ended {
            reason: EndReason::HostEnded
        })
    ));
}

#[test]
fn a_helper_that_ends_waits_for_the_receipt() {
    let Setup {
        mut world, jane, ..
    } = setup(2);
    let w = &mut world;
    let h = live(w, helper_config(Some(jane), None));
    let now = w.now;
    w.helper(h).end(now);
    w.settle();
    let receipt = host_receipt(w);
    assert!(receipt.is_countersigned());
    assert_eq!(receipt.body().end_reason, "helper_ended");
    assert_eq!(helper_receipt(w, h), Some(receipt));
    assert_eq!(w.helper_ended(h), Some(EndReason::HelperEnded));
}

#[test]
fn an_unverified_helper_gets_the_hosts_receipt_alone_without_a_wait() {
    let Setup { mut world, .. } = setup(3);
    let w = &mut world;
    let h = live(w, helper_config(None, None));
    let (start, now) = (w.now, w.now);
    w.host.end(now).unwrap();
    w.settle();
    let receipt = host_receipt(w);
    assert!(!receipt.is_countersigned());
    assert!(receipt.body().helper_identity.is_none());
    assert_eq!(helper_receipt(w, h), Some(receipt));
    // Over as soon as the helper answered, not after the wait.
    assert!(w.now - start < ra_core::session::COUNTERSIGNATURE_WAIT);
}

#[test]
fn a_lost_link_still_leaves_the_host_its_receipt() {
    let Setup {
        mut world, jane, ..
    } = setup(4);
    let w = &mut world;
    let h = live(w, helper_config(Some(jane), None));
    let (now, conn) = (w.now, w.conn(h));
    w.host.handle_connection_lost(now, conn);
    w.pump();
    let receipt = host_receipt(w);
    assert!(!receipt.is_countersigned());
    assert_eq!(receipt.body().end_reason, "connection_lost");
    assert!(receipt.verify(&ReceiptCheck::default()).is_ok());
}

#[test]
fn a_receipt_from_another_host_is_refused_and_not_countersigned() {
    let Setup {
        mut world, jane, ..
    } = setup(5);
    let w = &mut world;
    let h = live(w, helper_config(Some(jane), Some(CertFingerprint([3; 32]))));
    let now = w.now;
    w.host.end(now).unwrap();
    w.settle();
    assert!(!host_receipt(w).is_countersigned());
    assert!(helper_receipt(w, h).is_none());
    assert!(w.helper_saw(h, |e| matches!(e,
        HelperEvent::ReceiptRefused { problem } if problem.contains("not the invitation's"))));
}
