//! The rendezvous state machines on a virtual clock: registration and
//! collisions, re-attaching on schedule, the match window, outcome reports,
//! the end of a code, and the claimant's redirects.
#![allow(missing_docs)]

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ra_core::proto::broker::{
    CloseReason, Closed, Matched, Outcome, Redirect, RefuseReason, Refused, Registered, Role,
    broker_message::Message as FromBroker, peer_message::Message as ToBroker,
};
use ra_core::rendezvous::{
    AttemptOutcome, BrokerTransmit, ClaimFailure, Claimant, MATCH_WINDOW, MAX_CODE_FAILURES,
    WaitEnd, Waiter, WaiterConfig, WaiterEvent,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const BROKER: &str = "192.0.2.10:4433";

fn broker() -> SocketAddr {
    BROKER.parse().unwrap()
}

/// A waiter, its clock, and the wall clock the broker speaks in.
struct Rig {
    waiter: Waiter,
    now: Instant,
    wall: SystemTime,
}

impl Rig {
    fn new(seed: u64) -> Rig {
        let config = WaiterConfig::new(
            broker(),
            Role::Host,
            Duration::from_secs(600),
            vec!["10.0.0.2:5000".into()],
        );
        Rig {
            waiter: Waiter::new(config, Box::new(ChaCha20Rng::seed_from_u64(seed))),
            now: Instant::now(),
            wall: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        }
    }

    fn transmits(&mut self) -> Vec<BrokerTransmit> {
        std::iter::from_fn(|| self.waiter.poll_transmit()).collect()
    }

    fn events(&mut self) -> Vec<WaiterEvent> {
        std::iter::from_fn(|| self.waiter.poll_event()).collect()
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.wall += by;
        self.waiter.handle_timeout(self.now);
    }

    fn answer(&mut self, message: FromBroker) {
        self.waiter.handle_message(self.now, self.wall, message);
    }

    /// Registers, the broker granting `lifetime`.
    fn registered(&mut self, lifetime: Duration) {
        self.registered_naming(lifetime, &[]);
    }

    /// Registers, the broker granting `lifetime` and naming `other_nodes`.
    fn registered_naming(&mut self, lifetime: Duration, other_nodes: &[&str]) {
        let transmits = self.transmits();
        assert!(
            matches!(
                transmits.as_slice(),
                [BrokerTransmit::Request {
                    message: ToBroker::Register(_),
                    ..
                }]
            ),
            "{transmits:?}"
        );
        let expires = self.wall + lifetime;
        self.answer(FromBroker::Registered(Registered {
            expires_at_unix_ms: expires.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64,
            observed_addr: "198.51.100.7:5000".into(),
            other_nodes: other_nodes.iter().map(|n| n.to_string()).collect(),
        }));
        assert!(matches!(
            self.events().as_slice(),
            [WaiterEvent::Registered { .. }]
        ));
    }

    fn matched(&mut self, match_id: u64) {
        self.answer(FromBroker::Matched(Matched {
            match_id,
            ..Matched::default()
        }));
        let events = self.events();
        assert!(
            matches!(events.as_slice(), [WaiterEvent::Matched(m)] if m.match_id == match_id),
            "{events:?}"
        );
    }
}

fn outcome(match_id: u64, success: bool) -> BrokerTransmit {
    BrokerTransmit::Send(ToBroker::Outcome(Outcome { match_id, success }))
}

fn refused(reason: RefuseReason) -> FromBroker {
    FromBroker::Refused(Refused {
        reason: reason as i32,
        retry_after_ms: 0,
    })
}

#[test]
fn a_collision_registers_again_with_a_new_lookup_and_the_same_secret() {
    let mut rig = Rig::new(1);
    let first = rig.waiter.code().clone();
    let lookup = |t: &[BrokerTransmit]| match t {
        [
            BrokerTransmit::Request {
                message: ToBroker::Register(r),
                broker: b,
            },
        ] if *b == broker() => r.lookup.clone(),
        other => panic!("{other:?}"),
    };
    let sent = rig.transmits();
    assert_eq!(lookup(&sent), first.lookup().to_string());
    rig.answer(refused(RefuseReason::Collision));
    let again = rig.transmits();
    let second = rig.waiter.code().clone();
    assert_eq!(lookup(&again), second.lookup().to_string());
    assert_ne!(first.lookup(), second.lookup());
    assert_eq!(first.pake_secret(), second.pake_secret());
    assert!(rig.events().is_empty());
    rig.answer(FromBroker::Registered(Registered::default()));
    assert!(matches!(
        rig.events().as_slice(),
        [WaiterEvent::Registered { code, .. }] if *code == second
    ));
}

#[test]
fn endless_collisions_and_refusals_end_the_registration() {
    let mut rig = Rig::new(2);
    rig.transmits();
    for _ in 0..7 {
        rig.answer(refused(RefuseReason::Collision));
        assert_eq!(rig.transmits().len(), 1);
    }
    rig.answer(refused(RefuseReason::Collision));
    assert_eq!(rig.transmits(), vec![BrokerTransmit::Close]);
    assert_eq!(
        rig.events(),
        vec![WaiterEvent::Ended(WaitEnd::Refused(
            "no free lookup part".into()
        ))]
    );

    let mut rig = Rig::new(3);
    rig.transmits();
    rig.answer(FromBroker::Refused(Refused {
        reason: RefuseReason::RateLimited as i32,
        retry_after_ms: 1500,
    }));
    assert_eq!(
        rig.events(),
        vec![WaiterEvent::Ended(WaitEnd::Refused(
            "rate limited, retry in 1500 ms".into()
        ))]
    );

    // A broker that cannot be reached while registering ends it too.
    let mut rig = Rig::new(4);
    rig.transmits();
    rig.waiter.handle_link_lost(rig.now, "timed out");
    assert_eq!(
        rig.events(),
        vec![WaiterEvent::Ended(WaitEnd::Broker("timed out".into()))]
    );
}

#[test]
fn a_waiting_code_that_loses_its_broker_reattaches_on_schedule() {
    let mut rig = Rig::new(5);
    rig.registered(Duration::from_secs(600));
    assert_eq!(rig.waiter.poll_timeout(), None);
    let lost_at = rig.now;
    rig.waiter.handle_link_lost(rig.now, "connection lost");

    // 100 ms, then doubling up to 2 s between tries while each fails.
    let mut waits = Vec::new();
    let mut last = lost_at;
    for _ in 0..7 {
        let at = rig.waiter.poll_timeout().expect("a re-attach is scheduled");
        // Nothing goes out before it is due.
        rig.advance(at - rig.now - Duration::from_millis(1));
        assert!(rig.transmits().is_empty());
        rig.advance(Duration::from_millis(1));
        waits.push(rig.now - last);
        let sent = rig.transmits();
        let [
            BrokerTransmit::Request {
                broker: b,
                message: ToBroker::Attach(attach),
            },
        ] = sent.as_slice()
        else {
            panic!("{sent:?}");
        };
        assert_eq!(*b, broker());
        assert_eq!(attach.lookup, rig.waiter.code().lookup().to_string());
        assert_eq!(attach.attach_key.len(), 16);
        last = rig.now;
        rig.waiter
            .handle_link_lost(rig.now, "cannot reach the broker");
    }
    let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, [100, 200, 400, 800, 1600, 2000, 2000]);

    // The next try gets through: waiting again, no timer, the same code.
    let at = rig.waiter.poll_timeout().unwrap();
    rig.advance(at - rig.now);
    assert_eq!(rig.transmits().len(), 1);
    rig.answer(FromBroker::Registered(Registered::default()));
    assert_eq!(rig.waiter.poll_timeout(), None);
    assert!(rig.events().is_empty());
    assert!(!rig.waiter.is_ended());
    rig.matched(7);
}

/// Where the next re-attach goes, after its timer.
fn next_reattach(rig: &mut Rig) -> SocketAddr {
    let at = rig.waiter.poll_timeout().expect("a re-attach is scheduled");
    rig.advance(at - rig.now);
    match rig.transmits().as_slice() {
        [
            BrokerTransmit::Request {
                broker,
                message: ToBroker::Attach(_),
            },
        ] => *broker,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_waiting_code_re_attaches_through_the_other_nodes_its_broker_named() {
    const B: &str = "192.0.2.11:4433";
    const C: &str = "192.0.2.12:4433";
    const D: &str = "192.0.2.13:4433";
    let mut rig = Rig::new(6);
    rig.registered_naming(
        Duration::from_secs(600),
        &[B, "not an address", C, B, BROKER],
    );
    // Its node dies: the first try goes to the next node, not the dead one.
    rig.waiter.handle_link_lost(rig.now, "timed out");
    assert_eq!(next_reattach(&mut rig), B.parse().unwrap());
    assert_eq!(rig.waiter.poll_timeout(), None, "one try in flight");
    rig.waiter
        .handle_link_lost(rig.now, "cannot reach the broker");
    assert_eq!(next_reattach(&mut rig), C.parse().unwrap());
    rig.waiter
        .handle_link_lost(rig.now, "cannot reach the broker");
    assert_eq!(next_reattach(&mut rig), broker(), "round again");
    rig.waiter
        .handle_link_lost(rig.now, "cannot reach the broker");
    assert_eq!(next_reattach(&mut rig), B.parse().unwrap());
    // Node B takes it and names a node not known yet.
    rig.answer(FromBroker::Registered(Registered {
        other_nodes: vec![BROKER.into(), C.into(), D.into()],
        ..Registered::default()
    }));
    assert_eq!(rig.waiter.broker_node(), B.parse().unwrap());
    assert!(!rig.waiter.is_ended());
    rig.waiter.handle_link_lost(rig.now, "timed out");
    assert_eq!(next_reattach(&mut rig), C.parse().unwrap());
    rig.waiter.handle_link_lost(rig.now, "timed out");
    assert_eq!(next_reattach(&mut rig), D.parse().unwrap());
    rig.answer(FromBroker::Registered(Registered::default()));
    rig.matched(3);
}

#[test]
fn a_code_that_cannot_reattach_ends_when_it_expires() {
    let mut rig = Rig::new(6);
    rig.registered(Duration::from_secs(5));
    rig.waiter.handle_link_lost(rig.now, "lost");
    for _ in 0..100 {
        let Some(at) = rig.waiter.poll_timeout() else {
            break;
        };
        rig.advance(at.saturating_duration_since(rig.now));
        if !rig.transmits().is_empty() {
            rig.waiter.handle_link_lost(rig.now, "still down");
        }
    }
    assert_eq!(rig.events(), vec![WaiterEvent::Ended(WaitEnd::Expired)]);
    assert!(rig.waiter.is_ended());
    // Ended no later than the expiry (5 s), and not before it.
    let t = rig.now;
    assert!(rig.waiter.poll_timeout().is_none(), "{t:?}");

    // A broker that no longer holds the code refuses the re-attach.
    let mut rig = Rig::new(7);
    rig.registered(Duration::from_secs(600));
    rig.waiter.handle_link_lost(rig.now, "lost");
    rig.advance(Duration::from_millis(100));
    rig.transmits();
    rig.answer(refused(RefuseReason::Unavailable));
    assert_eq!(rig.events(), vec![WaiterEvent::Ended(WaitEnd::Expired)]);
}

#[test]
fn a_claimant_that_does_not_connect_in_time_is_a_failed_attempt() {
    let mut rig = Rig::new(8);
    rig.registered(Duration::from_secs(600));
    rig.matched(1);
    assert_eq!(rig.waiter.pending_match(), Some(1));
    assert_eq!(rig.waiter.poll_timeout(), Some(rig.now + MATCH_WINDOW));
    rig.advance(MATCH_WINDOW - Duration::from_millis(1));
    assert!(rig.transmits().is_empty());
    rig.advance(Duration::from_millis(1));
    assert_eq!(rig.transmits(), vec![outcome(1, false)]);
    assert_eq!(rig.waiter.failures(), 1);

    // Once connected the window stops; the session's verdict comes later.
    rig.matched(2);
    rig.waiter.handle_connected(rig.now);
    assert_eq!(rig.waiter.poll_timeout(), None);
    rig.advance(MATCH_WINDOW * 3);
    assert!(rig.transmits().is_empty());
    rig.waiter.handle_attempt(rig.now, AttemptOutcome::Failed);
    assert_eq!(rig.transmits(), vec![outcome(2, false)]);

    // A new claimant while one is pending: the first one failed.
    rig.matched(3);
    rig.matched(4);
    assert_eq!(rig.transmits(), vec![outcome(3, false)]);
    assert_eq!(rig.waiter.failures(), 3);
}

#[test]
fn five_failed_claims_end_the_code() {
    let mut rig = Rig::new(9);
    rig.registered(Duration::from_secs(600));
    for id in 1..=u64::from(MAX_CODE_FAILURES) {
        rig.matched(id);
        rig.waiter.handle_connected(rig.now);
        rig.waiter.handle_attempt(rig.now, AttemptOutcome::Failed);
        let transmits = rig.transmits();
        assert_eq!(transmits[0], outcome(id, false));
        if id < u64::from(MAX_CODE_FAILURES) {
            assert_eq!(transmits.len(), 1);
            assert!(!rig.waiter.is_ended());
        } else {
            assert_eq!(transmits[1], BrokerTransmit::Close);
        }
    }
    assert_eq!(
        rig.events(),
        vec![WaiterEvent::Ended(WaitEnd::TooManyFailures)]
    );
    // Nothing more: a late match is ignored.
    rig.answer(FromBroker::Matched(Matched::default()));
    assert!(rig.events().is_empty() && rig.transmits().is_empty());
}

#[test]
fn an_authenticated_claimant_uses_the_code_up_and_the_broker_can_close_it() {
    let mut rig = Rig::new(10);
    rig.registered(Duration::from_secs(600));
    rig.matched(1);
    rig.waiter.handle_attempt(rig.now, AttemptOutcome::Failed);
    rig.matched(2);
    rig.waiter
        .handle_attempt(rig.now, AttemptOutcome::Authenticated);
    assert_eq!(
        rig.transmits(),
        vec![outcome(1, false), outcome(2, true), BrokerTransmit::Close]
    );
    assert_eq!(rig.events(), vec![WaiterEvent::Ended(WaitEnd::Used)]);

    let mut rig = Rig::new(11);
    rig.registered(Duration::from_secs(600));
    rig.answer(FromBroker::Closed(Closed {
        reason: CloseReason::TooManyFailures as i32,
    }));
    assert_eq!(
        rig.events(),
        vec![WaiterEvent::Ended(WaitEnd::TooManyFailures)]
    );
    let mut rig = Rig::new(12);
    rig.registered(Duration::from_secs(600));
    rig.answer(FromBroker::Closed(Closed {
        reason: CloseReason::Expired as i32,
    }));
    assert_eq!(rig.events(), vec![WaiterEvent::Ended(WaitEnd::Expired)]);
}

fn claimant() -> Claimant {
    let code = ra_core::code::Code::parse("ABCDEF-GHJKMN").unwrap();
    Claimant::new(broker(), code.lookup(), Role::Helper, vec![])
}

fn claimed_at(transmit: Option<BrokerTransmit>) -> SocketAddr {
    match transmit {
        Some(BrokerTransmit::Request {
            broker,
            message: ToBroker::Claim(claim),
        }) => {
            assert_eq!(claim.lookup, "ABCDEF");
            assert_eq!(claim.role, Role::Helper as i32);
            broker
        }
        other => panic!("{other:?}"),
    }
}

fn redirect(to: &str) -> FromBroker {
    FromBroker::Redirect(Redirect {
        node_addr: to.into(),
    })
}

#[test]
fn a_claim_follows_redirects_to_the_node_that_holds_the_code() {
    let mut c = claimant();
    assert_eq!(claimed_at(c.poll_transmit()), broker());
    c.handle_message(redirect("192.0.2.11:4433"));
    assert_eq!(
        claimed_at(c.poll_transmit()),
        "192.0.2.11:4433".parse().unwrap()
    );
    c.handle_message(redirect("192.0.2.12:4433"));
    assert_eq!(
        claimed_at(c.poll_transmit()),
        "192.0.2.12:4433".parse().unwrap()
    );
    assert!(c.poll_result().is_none());
    c.handle_message(FromBroker::Matched(Matched {
        match_id: 9,
        ..Matched::default()
    }));
    assert_eq!(c.poll_result().unwrap().unwrap().match_id, 9);
    assert_eq!(c.redirects(), 2);

    // A third redirect is one too many; a bad address is refused.
    let mut c = claimant();
    c.poll_transmit();
    for node in ["192.0.2.11:1", "192.0.2.12:1"] {
        c.handle_message(redirect(node));
        c.poll_transmit();
    }
    c.handle_message(redirect("192.0.2.13:1"));
    assert_eq!(c.poll_transmit(), Some(BrokerTransmit::Close));
    assert_eq!(
        c.poll_result(),
        Some(Err(ClaimFailure::Broker("too many redirects".into())))
    );
    let mut c = claimant();
    c.poll_transmit();
    c.handle_message(redirect("not an address"));
    assert!(
        matches!(c.poll_result(), Some(Err(ClaimFailure::Broker(m))) if m.contains("invalid redirect"))
    );
}

#[test]
fn a_refused_or_lost_claim_says_why() {
    let mut c = claimant();
    c.handle_message(refused(RefuseReason::Unavailable));
    assert_eq!(c.poll_result(), Some(Err(ClaimFailure::Unavailable)));
    let mut c = claimant();
    c.handle_message(FromBroker::Refused(Refused {
        reason: RefuseReason::RateLimited as i32,
        retry_after_ms: 2500,
    }));
    assert_eq!(
        c.poll_result(),
        Some(Err(ClaimFailure::RateLimited {
            retry_after: Duration::from_millis(2500)
        }))
    );
    let mut c = claimant();
    c.handle_link_lost("cannot reach the broker");
    assert_eq!(
        c.poll_result(),
        Some(Err(ClaimFailure::Broker("cannot reach the broker".into())))
    );
    // An answer after the result changes nothing.
    c.handle_message(FromBroker::Matched(Matched::default()));
    assert_eq!(c.poll_result(), None);
}
