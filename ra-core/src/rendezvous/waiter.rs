//! [`Waiter`]: the peer that registers a code with the broker and waits for
//! the other peer to claim it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{
    BrokerTransmit, MATCH_WINDOW, MAX_CODE_FAILURES, MAX_COLLISIONS, REATTACH_BACKOFF_MAX,
    REATTACH_BACKOFF_START, refused_text,
};
use crate::code::Code;
use crate::proto::broker::{
    Attach, CloseReason, Matched, Outcome, RefuseReason, Register, Role, broker_message,
    peer_message,
};
use crate::session::SessionRng;

/// Broker nodes a waiting peer keeps to re-attach through at most.
const MAX_KNOWN_NODES: usize = 9;

/// What a waiting peer asks of the broker.
#[derive(Debug, Clone)]
pub struct WaiterConfig {
    /// The broker node to register with (re-attaching goes round it and the
    /// other nodes the broker names).
    pub broker: SocketAddr,
    /// The waiting peer's session role.
    pub role: Role,
    /// How long the code should stay valid (the broker may shorten it).
    pub lifetime: Duration,
    /// The peer's own addresses of the socket it will use (`"IP:PORT"`).
    pub local_addrs: Vec<String>,
    /// Failed attempts after which the code is dead.
    pub max_failures: u32,
    /// How long a matched claimant has to connect (and, for a host, to
    /// authenticate).
    pub match_window: Duration,
}

impl WaiterConfig {
    /// A configuration with the default limits: [`MAX_CODE_FAILURES`]
    /// failures, a [`MATCH_WINDOW`] per match.
    pub fn new(
        broker: SocketAddr,
        role: Role,
        lifetime: Duration,
        local_addrs: Vec<String>,
    ) -> Self {
        WaiterConfig {
            broker,
            role,
            lifetime,
            local_addrs,
            max_failures: MAX_CODE_FAILURES,
            match_window: MATCH_WINDOW,
        }
    }
}

/// How an attempt on a match went, as the session saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The claimant did not prove it knows the code (wrong code, lost,
    /// broke the protocol).
    Failed,
    /// The claimant authenticated: the code is used up (whatever the person
    /// then decides about the session).
    Authenticated,
}

/// Why a waiting code ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitEnd {
    /// A claimant authenticated: the code did its job.
    Used,
    /// The code expired (or the broker no longer knows it).
    Expired,
    /// Too many failed attempts: the code is dead.
    TooManyFailures,
    /// The broker refused the registration.
    Refused(String),
    /// The broker could not be reached, or broke the protocol, while
    /// registering.
    Broker(String),
}

/// Something the waiting peer's application (or driver) should know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaiterEvent {
    /// The code is registered: read it to the other person.
    Registered {
        /// The code.
        code: Code,
        /// When it expires, as the broker says.
        expires_at: SystemTime,
    },
    /// A claimant came: open the paths to it (punches, relay) and expect its
    /// connection. Report how it went with [`Waiter::handle_attempt`].
    Matched(Matched),
    /// The code is over; nothing more will happen.
    Ended(WaitEnd),
}

enum State {
    /// Waiting for the answer to a registration.
    Registering {
        collisions: u32,
    },
    /// Registered; the broker link is up.
    Waiting,
    /// The broker link broke: re-attach at `at` (or, once sent, wait for
    /// the answer).
    Reattaching {
        at: Instant,
        backoff: Duration,
        sent: bool,
    },
    Ended,
}

/// A pending match: its id, and until when the claimant may connect
/// (`None` once it did: the session's own timeouts bound it from then on).
#[derive(Debug, Clone, Copy)]
struct Pending {
    match_id: u64,
    deadline: Option<Instant>,
}

/// The waiting peer's rendezvous: a sans-IO state machine (see the module
/// documentation). Feed it the broker's messages, the fate of the broker
/// link, the session's verdict on each attempt and the time; carry out its
/// [`BrokerTransmit`]s; read its [`WaiterEvent`]s.
pub struct Waiter {
    config: WaiterConfig,
    /// The broker nodes known: the configured one, then the others the
    /// broker named; `node` is the one attached to (or being tried).
    nodes: Vec<SocketAddr>,
    node: usize,
    code: Code,
    attach_key: Vec<u8>,
    state: State,
    /// When the registration expires (from the broker's answer).
    expires: Option<Instant>,
    pending: Option<Pending>,
    failures: u32,
    rng: Box<dyn SessionRng>,
    transmits: VecDeque<BrokerTransmit>,
    events: VecDeque<WaiterEvent>,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("code", &self.code)
            .field("failures", &self.failures)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Waiter {
    /// A fresh code (and re-attach key) from `rng`, and its registration
    /// queued for [`Waiter::poll_transmit`].
    pub fn new(config: WaiterConfig, mut rng: Box<dyn SessionRng>) -> Self {
        let code = Code::generate(&mut *rng);
        let mut attach_key = vec![0u8; 16];
        rng.fill_bytes(&mut attach_key);
        let mut waiter = Waiter {
            nodes: vec![config.broker],
            node: 0,
            config,
            code,
            attach_key,
            state: State::Registering { collisions: 0 },
            expires: None,
            pending: None,
            failures: 0,
            rng,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        waiter.request_registration();
        waiter
    }

    // ----- inputs -----

    /// A message arrived on the current request stream. `wall` is the wall
    /// clock now (the broker states expiry as Unix time).
    pub fn handle_message(
        &mut self,
        now: Instant,
        wall: SystemTime,
        message: broker_message::Message,
    ) {
        match (&self.state, message) {
            (State::Registering { .. }, broker_message::Message::Registered(registered)) => {
                self.learn_nodes(&registered.other_nodes);
                let expires_at = UNIX_EPOCH + Duration::from_millis(registered.expires_at_unix_ms);
                let left = expires_at.duration_since(wall).unwrap_or_default();
                self.expires = Some(now + left);
                self.state = State::Waiting;
                self.events.push_back(WaiterEvent::Registered {
                    code: self.code.clone(),
                    expires_at,
                });
            }
            (State::Registering { collisions }, broker_message::Message::Refused(refused))
                if refused.reason == RefuseReason::Collision as i32 =>
            {
                let collisions = collisions + 1;
                if collisions >= MAX_COLLISIONS {
                    self.end(WaitEnd::Refused("no free lookup part".into()));
                    return;
                }
                self.code = self.code.with_new_lookup(&mut *self.rng);
                self.state = State::Registering { collisions };
                self.request_registration();
            }
            (State::Registering { .. }, broker_message::Message::Refused(refused)) => {
                self.end(WaitEnd::Refused(refused_text(&refused)));
            }
            (State::Registering { .. }, _) => {
                self.end(WaitEnd::Broker("unexpected answer from the broker".into()));
            }
            (State::Waiting, broker_message::Message::Matched(matched)) => {
                // A new claimant while one is pending: the first one failed.
                self.report_pending(AttemptOutcome::Failed);
                if matches!(self.state, State::Ended) {
                    return;
                }
                self.pending = Some(Pending {
                    match_id: matched.match_id,
                    deadline: Some(now + self.config.match_window),
                });
                self.events.push_back(WaiterEvent::Matched(matched));
            }
            (State::Waiting, broker_message::Message::Closed(closed)) => {
                self.end(match CloseReason::try_from(closed.reason) {
                    Ok(CloseReason::TooManyFailures) => WaitEnd::TooManyFailures,
                    _ => WaitEnd::Expired,
                });
            }
            (
                State::Reattaching { sent: true, .. },
                broker_message::Message::Registered(registered),
            ) => {
                self.learn_nodes(&registered.other_nodes);
                self.state = State::Waiting;
            }
            (State::Reattaching { sent: true, .. }, broker_message::Message::Refused(_)) => {
                // The broker no longer holds the code.
                self.end(WaitEnd::Expired);
            }
            _ => {}
        }
    }

    /// The broker link broke (the connection or the stream ended, or it
    /// could not be made); `reason` says how. While registering that ends
    /// the code; once registered, it is re-attached on a back-off schedule
    /// until it expires, each try at the next known node (the node that
    /// stopped answering may be dead).
    pub fn handle_link_lost(&mut self, now: Instant, reason: &str) {
        match self.state {
            State::Registering { .. } => self.end(WaitEnd::Broker(reason.to_owned())),
            State::Waiting => {
                self.next_node();
                self.schedule_reattach(now, REATTACH_BACKOFF_START);
            }
            State::Reattaching { backoff, sent, .. } => {
                if sent {
                    self.next_node();
                    self.schedule_reattach(now, backoff);
                }
            }
            State::Ended => {}
        }
    }

    /// The claimant of the pending match connected: the match window no
    /// longer runs (the session's own timeouts bound the attempt from here).
    pub fn handle_connected(&mut self, _now: Instant) {
        if let Some(pending) = self.pending.as_mut() {
            pending.deadline = None;
        }
    }

    /// How the attempt on the pending match went: reported to the broker;
    /// too many failures end the code, an authentication uses it up.
    pub fn handle_attempt(&mut self, _now: Instant, outcome: AttemptOutcome) {
        let pending = self.pending.is_some();
        self.report_pending(outcome);
        if pending && outcome == AttemptOutcome::Authenticated {
            self.end(WaitEnd::Used);
        }
    }

    /// Runs the timers due at `now`: the match window, the re-attach
    /// schedule, the expiry of a code that cannot re-attach.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(Pending {
            deadline: Some(deadline),
            ..
        }) = self.pending
            && now >= deadline
        {
            self.report_pending(AttemptOutcome::Failed);
        }
        if let State::Reattaching {
            at,
            backoff,
            sent: false,
        } = self.state
        {
            if self.expires.is_some_and(|expires| now >= expires) {
                self.end(WaitEnd::Expired);
            } else if now >= at {
                self.state = State::Reattaching {
                    at,
                    backoff: (backoff * 2).min(REATTACH_BACKOFF_MAX),
                    sent: true,
                };
                self.transmits.push_back(BrokerTransmit::Request {
                    broker: self.nodes[self.node],
                    message: peer_message::Message::Attach(Attach {
                        lookup: self.code.lookup().to_string(),
                        attach_key: self.attach_key.clone(),
                        local_addrs: self.config.local_addrs.clone(),
                    }),
                });
            }
        }
    }

    // ----- outputs -----

    /// The next thing to do with the broker.
    pub fn poll_transmit(&mut self) -> Option<BrokerTransmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<WaiterEvent> {
        self.events.pop_front()
    }

    /// When [`Waiter::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let window = self.pending.and_then(|p| p.deadline);
        let reattach = match self.state {
            State::Reattaching {
                at, sent: false, ..
            } => Some(self.expires.map_or(at, |expires| at.min(expires))),
            _ => None,
        };
        window.into_iter().chain(reattach).min()
    }

    // ----- queries -----

    /// The code (its lookup part changes on a collision until registered).
    pub fn code(&self) -> &Code {
        &self.code
    }

    /// The broker node the code is attached to (or being re-attached to).
    pub fn broker_node(&self) -> SocketAddr {
        self.nodes[self.node]
    }

    /// Failed attempts so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether the code is over.
    pub fn is_ended(&self) -> bool {
        matches!(self.state, State::Ended)
    }

    /// The match waiting for its outcome, if any.
    pub fn pending_match(&self) -> Option<u64> {
        self.pending.map(|p| p.match_id)
    }

    // ----- internals -----

    fn request_registration(&mut self) {
        let lifetime_secs = u32::try_from(self.config.lifetime.as_secs())
            .unwrap_or(u32::MAX)
            .max(1);
        self.transmits.push_back(BrokerTransmit::Request {
            broker: self.config.broker,
            message: peer_message::Message::Register(Register {
                lookup: self.code.lookup().to_string(),
                role: self.config.role as i32,
                lifetime_secs,
                local_addrs: self.config.local_addrs.clone(),
                attach_key: self.attach_key.clone(),
            }),
        });
    }

    /// Adds the nodes a broker named (unparsable ones and duplicates
    /// skipped, [`MAX_KNOWN_NODES`] at most).
    fn learn_nodes(&mut self, named: &[String]) {
        for node in named.iter().filter_map(|n| n.parse::<SocketAddr>().ok()) {
            if self.nodes.len() >= MAX_KNOWN_NODES {
                break;
            }
            if !self.nodes.contains(&node) {
                self.nodes.push(node);
            }
        }
    }

    fn next_node(&mut self) {
        self.node = (self.node + 1) % self.nodes.len();
    }

    fn schedule_reattach(&mut self, now: Instant, backoff: Duration) {
        self.state = State::Reattaching {
            at: now + backoff,
            backoff,
            sent: false,
        };
    }

    /// Reports the pending match's outcome (if one is pending) and counts a
    /// failure.
    fn report_pending(&mut self, outcome: AttemptOutcome) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let success = outcome == AttemptOutcome::Authenticated;
        self.transmits
            .push_back(BrokerTransmit::Send(peer_message::Message::Outcome(
                Outcome {
                    match_id: pending.match_id,
                    success,
                },
            )));
        if !success {
            self.failures += 1;
            if self.failures >= self.config.max_failures {
                self.end(WaitEnd::TooManyFailures);
            }
        }
    }

    fn end(&mut self, end: WaitEnd) {
        if matches!(self.state, State::Ended) {
            return;
        }
        self.state = State::Ended;
        self.pending = None;
        self.transmits.push_back(BrokerTransmit::Close);
        self.events.push_back(WaiterEvent::Ended(end));
    }
}
