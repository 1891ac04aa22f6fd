//! Helper identities in a session, on the virtual clock: a helper with an
//! identity from a trusted organisation is shown as verified; forged,
//! expired, revoked, other-organisation and replayed identities are refused
//! under `require_verified_helper` (before the host is asked, with a reason)
//! and shown as unverified without it; a helper with no identity is
//! unverified and gets the standard warning.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ra_core::audit::AuditEvent;
use ra_core::identity::{HelperCredential, OrgKeyPair};
use ra_core::policy::Policy;
use ra_core::session::{
    EndReason, HelperConfig, HelperVerification, HostConfig, HostEvent, UNVERIFIED_HELPER_WARNING,
};
use ra_testkit::harness::{Link, PASSWORD, SESSION, World};

const DAY: Duration = Duration::from_secs(86_400);

struct Org {
    key: OrgKeyPair,
    jane: Arc<HelperCredential>,
}

fn contoso(now: SystemTime) -> Org {
    let key = OrgKeyPair::generate("Contoso IT").unwrap();
    let jane = Arc::new(key.issue("Jane Doe", now - DAY, now + 30 * DAY).unwrap());
    Org { key, jane }
}

/// A host whose policy trusts `trusted` (requiring verified helpers if
/// `require`), its wall clock at `now`.
fn world(seed: u64, now: SystemTime, policy: Policy) -> World {
    let mut config = HostConfig::new(
        SESSION,
        "Alice's laptop",
        PASSWORD.to_vec(),
        Duration::from_secs(3600),
        policy,
    );
    config.wall_clock = now;
    World::with_config(seed, Link::default(), config)
}

fn policy(trusted: &Org, require: bool) -> Policy {
    Policy {
        trusted_orgs: vec![trusted.key.public_key()],
        require_verified_helper: require,
        ..Policy::default()
    }
}

fn helper(name: &str, identity: Option<Arc<HelperCredential>>) -> HelperConfig {
    let mut config = HelperConfig::new(SESSION, name, PASSWORD.to_vec());
    config.identity = identity;
    config
}

/// What the host was told of the one helper that connected.
fn verification(w: &World) -> Option<HelperVerification> {
    w.host_events.iter().find_map(|e| match e {
        HostEvent::ConnectionRequest { verification, .. } => Some(verification.clone()),
        _ => None,
    })
}

fn refusal(w: &World) -> Option<String> {
    w.host_events.iter().find_map(|e| match e {
        HostEvent::ConnectionRefused { reason, .. } => Some(reason.clone()),
        _ => None,
    })
}

#[test]
fn a_helper_of_a_trusted_organisation_is_verified() {
    let now = SystemTime::now();
    let org = contoso(now);
    let mut w = world(1, now, policy(&org, true));
    let h = w.connect_config(helper("jane", Some(org.jane.clone())), None);
    w.settle();
    let Some(HelperVerification::Verified {
        organisation,
        organisation_key,
        helper,
        helper_key,
        expires,
    }) = verification(&w)
    else {
        panic!("not verified: {:?}", w.host_events);
    };
    assert_eq!(
        (organisation.as_str(), helper.as_str()),
        ("Contoso IT", "Jane Doe")
    );
    assert_eq!(organisation_key, org.key.public_key());
    assert_eq!(helper_key, org.jane.identity().helper_key());
    assert_eq!(expires, org.jane.identity().not_after());
    // The audit log says who it was.
    assert!(w.audit.iter().any(|a| matches!(a,
        AuditEvent::ConnectionRequest { verified: Some(who), .. }
            if who.starts_with("Jane Doe of Contoso IT (rahelper1-"))));
    assert!(w.helper_ended(h).is_none());
}

#[test]
fn without_an_identity_a_helper_is_unverified_and_warned_about() {
    let now = SystemTime::now();
    let org = contoso(now);
    let mut w = world(2, now, policy(&org, false));
    w.connect_config(helper("Microsoft Support", None), None);
    w.settle();
    assert_eq!(
        verification(&w),
        Some(HelperVerification::Unverified {
            claimed_name: "Microsoft Support".into(),
            problem: None,
        })
    );
    assert!(UNVERIFIED_HELPER_WARNING.contains("did not contact yourself"));

    // Required: refused before the host is asked.
    let mut w = world(3, now, policy(&org, true));
    let h = w.connect_config(helper("Microsoft Support", None), None);
    w.settle();
    assert_eq!(refusal(&w).as_deref(), Some("it showed no identity"));
    assert!(verification(&w).is_none(), "the host was asked");
    assert_eq!(w.helper_ended(h), Some(EndReason::Policy));
    assert!(w.audit.iter().any(|a| matches!(a,
        AuditEvent::Denied { reason, .. } if reason.starts_with("not verified"))));
}

/// Connects a helper with `identity`, with and without the requirement;
/// returns the problem shown when not required.
fn refused_and_unverified(
    seed: u64,
    org: &Org,
    now: SystemTime,
    identity: Arc<HelperCredential>,
) -> String {
    let mut w = world(seed, now, policy(org, true));
    let h = w.connect_config(helper("jane", Some(identity.clone())), None);
    w.settle();
    let reason = refusal(&w).expect("refused");
    assert_eq!(w.helper_ended(h), Some(EndReason::Policy));
    assert!(verification(&w).is_none());

    let mut w = world(seed + 1, now, policy(org, false));
    w.connect_config(helper("jane", Some(identity)), None);
    w.settle();
    let Some(HelperVerification::Unverified {
        problem: Some(problem),
        ..
    }) = verification(&w)
    else {
        panic!("expected unverified with a problem: {:?}", w.host_events);
    };
    assert_eq!(problem, reason);
    problem
}

#[test]
fn expired_revoked_and_other_organisations_identities_are_not_accepted() {
    let now = SystemTime::now();
    let org = contoso(now);

    // Expired (the host's clock is past its end).
    let problem = refused_and_unverified(10, &org, now + 31 * DAY, org.jane.clone());
    assert!(problem.contains("expired"), "{problem}");
    // Not valid yet.
    let problem = refused_and_unverified(20, &org, now - 2 * DAY, org.jane.clone());
    assert!(problem.contains("not valid before"), "{problem}");

    // Another organisation's helper.
    let fabrikam = contoso(now);
    let problem = refused_and_unverified(30, &org, now, fabrikam.jane.clone());
    assert!(problem.contains("does not trust"), "{problem}");

    // Revoked by the host.
    let mut revoking = policy(&org, true);
    revoking.revoked_helpers = vec![org.jane.identity().helper_key()];
    let mut w = world(40, now, revoking);
    w.connect_config(helper("jane", Some(org.jane.clone())), None);
    w.settle();
    let reason = refusal(&w).expect("refused");
    assert!(reason.contains("revoked"), "{reason}");
}

#[test]
fn a_forged_identity_is_not_accepted() {
    let now = SystemTime::now();
    let org = contoso(now);
    // Jane's identity with another name in it: the organisation did not sign that.
    let forged = org
        .jane
        .identity()
        .to_text()
        .replace("Jane Doe", "Bill Gates");
    let mut w = world(50, now, policy(&org, true));
    w.rewrite_key_confirm = Some(Box::new(move |confirm| confirm.identity = forged.clone()));
    let h = w.connect_config(helper("jane", Some(org.jane.clone())), None);
    w.settle();
    let reason = refusal(&w).expect("refused");
    assert!(reason.contains("signature does not verify"), "{reason}");
    assert_eq!(w.helper_ended(h), Some(EndReason::Policy));
    // Garbage, too large: refused the same way, no panic.
    for junk in ["not an identity".to_owned(), "x".repeat(100_000)] {
        let mut w = world(51, now, policy(&org, true));
        w.rewrite_key_confirm = Some(Box::new(move |confirm| confirm.identity = junk.clone()));
        w.connect_config(helper("jane", Some(org.jane.clone())), None);
        w.settle();
        assert!(refusal(&w).is_some());
    }
}

#[test]
fn an_identity_replayed_from_another_session_is_not_accepted() {
    let now = SystemTime::now();
    let org = contoso(now);
    // Jane connects to some host; an attacker records her key confirmation.
    let mut first = world(60, now, policy(&org, true));
    first.connect_config(helper("jane", Some(org.jane.clone())), None);
    first.settle();
    assert!(verification(&first).is_some_and(|v| v.is_verified()));
    let recorded = first.key_confirms[0].clone();
    assert!(!recorded.identity.is_empty() && recorded.identity_proof.len() == 64);

    // The attacker, who knows this host's password, shows Jane's identity
    // and proof in a session of its own.
    let mut w = world(61, now, policy(&org, true));
    w.rewrite_key_confirm = Some(Box::new(move |confirm| {
        confirm.identity = recorded.identity.clone();
        confirm.identity_proof = recorded.identity_proof.clone();
    }));
    let h = w.connect_config(helper("Jane Doe", None), None);
    w.settle();
    let reason = refusal(&w).expect("refused");
    assert!(reason.contains("not proven for this session"), "{reason}");
    assert_eq!(w.helper_ended(h), Some(EndReason::Policy));
}
