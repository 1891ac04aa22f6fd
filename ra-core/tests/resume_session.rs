//! Resume tickets in the sans-IO session, on a virtual clock: what the host
//! issues and when, what the helper keeps, and which hellos a session
//! re-opened from a ticket lets in.
#![allow(missing_docs)]

use std::time::Duration;

use ra_core::audit::AuditEvent;
use ra_core::policy::Policy;
use ra_core::proto::{self, envelope::Message};
use ra_core::session::{
    CommandError, EndReason, HelperConfig, HelperEvent, HostCommand, HostConfig, HostEvent,
    encode_frame,
};
use ra_testkit::harness::{Link, PASSWORD, SESSION, World};

fn resumable() -> Policy {
    Policy {
        allow_resume_tickets: true,
        ..Policy::default()
    }
}

fn world(policy: Policy) -> World {
    World::new(3, Link::default(), policy, Duration::from_secs(3600))
}

#[test]
fn the_live_helper_is_offered_the_ticket_within_the_policy_s_cap() {
    let mut w = world(Policy {
        max_resume_ticket_lifetime: Duration::from_secs(300),
        ..resumable()
    });
    let now = w.now;
    assert_eq!(
        w.host
            .issue_resume_offer(now, Duration::from_secs(60))
            .unwrap_err(),
        CommandError::NoSession
    );
    let h = w.live_session();
    let now = w.now;
    assert!(w.helper(h).resume_offer(now).is_none());
    assert!(!w.helper(h).wants_resumption(now));
    let grant = w
        .host
        .issue_resume_offer(now, Duration::from_secs(3600))
        .unwrap();
    assert_eq!(grant.lifetime, Duration::from_secs(300));
    w.settle();
    assert!(w.helper_saw(h, |e| *e
        == HelperEvent::ResumeOffered {
            expires_in: Duration::from_secs(300)
        }));
    let now = w.now;
    let offer = w.helper(h).resume_offer(now).unwrap();
    assert_eq!(offer.ticket_id, grant.ticket_id);
    assert_eq!(*offer.secret, *grant.secret);
    assert!(w.audit.iter().any(|e| matches!(
        e,
        AuditEvent::ResumeTicketIssued { ticket, .. } if ticket.len() == 32
    )));
    // A lost connection waits for the resumption; one the host ended does not.
    assert!(
        w.helper(h)
            .end_awaits_resumption(now, EndReason::ConnectionLost)
    );
    assert!(!w.helper(h).end_awaits_resumption(now, EndReason::HostEnded));
    // The offer expires.
    let later = now + Duration::from_secs(301);
    assert!(w.helper(h).resume_offer(later).is_none());
    assert!(
        !w.helper(h)
            .end_awaits_resumption(later, EndReason::ConnectionLost)
    );
    // Taken once.
    assert!(w.helper(h).take_resume_offer(now).is_some());
    assert!(w.helper(h).take_resume_offer(now).is_none());
}

#[test]
fn tickets_are_off_by_default_and_need_a_second_of_life() {
    let mut w = world(Policy::default());
    w.live_session();
    let now = w.now;
    assert_eq!(
        w.host
            .issue_resume_offer(now, Duration::from_secs(60))
            .unwrap_err(),
        CommandError::Policy
    );
    w.host
        .apply(now, HostCommand::SetPolicy(resumable()))
        .unwrap();
    assert!(matches!(
        w.host.issue_resume_offer(now, Duration::from_millis(500)),
        Err(CommandError::InvalidArgument(_))
    ));
}

#[test]
fn a_malformed_offer_is_dropped_and_counted() {
    let mut w = world(resumable());
    let h = w.live_session();
    let before = w.helper(h).messages_dropped();
    for offer in [
        proto::ResumeOffer {
            ticket_id: vec![1; 3],
            secret: vec![2; 32],
            lifetime_secs: 60,
        },
        proto::ResumeOffer {
            ticket_id: vec![1; 16],
            secret: vec![2; 32],
            lifetime_secs: 16 * 60,
        },
        proto::ResumeOffer {
            ticket_id: vec![1; 16],
            secret: vec![2; 32],
            lifetime_secs: 0,
        },
    ] {
        let bytes = encode_frame(&proto::Envelope {
            message: Some(Message::ResumeOffer(offer)),
        });
        let now = w.now;
        w.helper(h).handle_control_data(now, &bytes);
    }
    let now = w.now;
    assert!(w.helper(h).resume_offer(now).is_none());
    assert_eq!(w.helper(h).messages_dropped(), before + 3);
    assert!(
        w.helper(h).is_live(),
        "a bad offer does not end the session"
    );
}

/// A host re-opened from ticket `[7; 16]` whose secret is `PASSWORD`.
fn resumed_world() -> World {
    let mut config = HostConfig::new(
        SESSION,
        "Alice's laptop",
        PASSWORD.to_vec(),
        Duration::from_secs(600),
        resumable(),
    );
    config.resuming = Some([7; 16]);
    World::with_config(4, Link::default(), config)
}

fn resuming_helper(ticket: Option<[u8; 16]>) -> HelperConfig {
    let mut config = HelperConfig::new(SESSION, "Bob", PASSWORD.to_vec());
    config.resume_ticket_id = ticket;
    config
}

#[test]
fn a_resumed_session_lets_in_its_ticket_once_and_says_it_is_a_resumption() {
    let mut w = resumed_world();
    w.pump();
    assert!(w.host.is_resumption());
    assert!(
        w.audit
            .iter()
            .any(|e| matches!(e, AuditEvent::SessionResumed { .. }))
    );
    // No ticket, or another ticket: turned away before any password attempt.
    for ticket in [None, Some([8; 16])] {
        let h = w.connect_config(resuming_helper(ticket), None);
        w.settle();
        assert_eq!(w.helper_ended(h), Some(EndReason::UnknownSession));
    }
    assert!(!w.host_saw(|e| matches!(e, HostEvent::AuthFailed { .. })));

    let h = w.connect_config(resuming_helper(Some([7; 16])), None);
    w.settle();
    assert!(w.host_saw(|e| matches!(
        e,
        HostEvent::ConnectionRequest { resumes: Some(session), .. } if *session == SESSION
    )));
    let conn = w.conn(h);
    let now = w.now;
    w.host.apply(now, HostCommand::Approve(conn)).unwrap();
    w.settle();
    assert!(w.helper(h).is_live());
    // View-only: nothing is granted by the resumption.
    assert!(w.helper(h).grant().is_none());

    // The ticket is used: the same hello again is turned away.
    let again = w.connect_config(resuming_helper(Some([7; 16])), None);
    w.settle();
    assert!(matches!(
        w.helper_ended(again),
        Some(EndReason::UnknownSession | EndReason::Busy)
    ));
}

#[test]
fn an_ordinary_session_turns_away_a_hello_with_a_ticket() {
    let mut w = world(resumable());
    let h = w.connect_config(resuming_helper(Some([7; 16])), None);
    w.settle();
    assert_eq!(w.helper_ended(h), Some(EndReason::UnknownSession));
}
