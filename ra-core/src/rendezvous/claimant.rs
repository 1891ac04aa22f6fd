//! [`Claimant`]: the peer that types a code and claims it from the broker.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use super::{BrokerTransmit, MAX_REDIRECTS, refused_text};
use crate::code::Lookup;
use crate::proto::broker::{Claim, Matched, RefuseReason, Role, broker_message, peer_message};

/// Why a claim failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimFailure {
    /// Unknown, expired, used or closed code: the broker gives one answer
    /// for all.
    Unavailable,
    /// Too many attempts from here: wait this long and try again.
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The broker could not be reached, broke the protocol, or redirected
    /// too often.
    Broker(String),
}

/// The claiming peer's rendezvous: a sans-IO state machine. Carry out its
/// [`BrokerTransmit`]s, feed it the broker's answers (or the loss of the
/// link), then take its result: the match, or why not.
#[derive(Debug)]
pub struct Claimant {
    claim: Claim,
    redirects: u32,
    transmits: VecDeque<BrokerTransmit>,
    result: Option<Result<Matched, ClaimFailure>>,
    /// A result was reached (it may have been taken already).
    done: bool,
}

impl Claimant {
    /// Claims `lookup` at `broker` as a peer of `role` whose socket has
    /// `local_addrs`; the claim is queued for [`Claimant::poll_transmit`].
    pub fn new(broker: SocketAddr, lookup: Lookup, role: Role, local_addrs: Vec<String>) -> Self {
        let mut claimant = Claimant {
            claim: Claim {
                lookup: lookup.to_string(),
                role: role as i32,
                local_addrs,
            },
            redirects: 0,
            transmits: VecDeque::new(),
            result: None,
            done: false,
        };
        claimant.request(broker);
        claimant
    }

    /// The broker answered the claim: a match ends it; a redirect claims
    /// again at the node named (at most [`MAX_REDIRECTS`] times); a refusal
    /// ends it.
    pub fn handle_message(&mut self, message: broker_message::Message) {
        if self.done {
            return;
        }
        match message {
            broker_message::Message::Matched(matched) => {
                self.done = true;
                self.result = Some(Ok(matched));
            }
            broker_message::Message::Redirect(redirect) => {
                let Ok(node) = redirect.node_addr.parse::<SocketAddr>() else {
                    self.fail(ClaimFailure::Broker(format!(
                        "invalid redirect {:?}",
                        redirect.node_addr
                    )));
                    return;
                };
                if self.redirects >= MAX_REDIRECTS {
                    self.fail(ClaimFailure::Broker("too many redirects".into()));
                    return;
                }
                self.redirects += 1;
                self.request(node);
            }
            broker_message::Message::Refused(refused) => {
                self.fail(match RefuseReason::try_from(refused.reason) {
                    Ok(RefuseReason::RateLimited) => ClaimFailure::RateLimited {
                        retry_after: Duration::from_millis(u64::from(refused.retry_after_ms)),
                    },
                    Ok(RefuseReason::Unavailable) => ClaimFailure::Unavailable,
                    _ => ClaimFailure::Broker(refused_text(&refused)),
                });
            }
            _ => self.fail(ClaimFailure::Broker(
                "unexpected answer from the broker".into(),
            )),
        }
    }

    /// The broker link broke or could not be made.
    pub fn handle_link_lost(&mut self, reason: &str) {
        if !self.done {
            self.fail(ClaimFailure::Broker(reason.to_owned()));
        }
    }

    /// The next thing to do with the broker.
    pub fn poll_transmit(&mut self) -> Option<BrokerTransmit> {
        self.transmits.pop_front()
    }

    /// The result, once there is one (taken once).
    pub fn poll_result(&mut self) -> Option<Result<Matched, ClaimFailure>> {
        self.result.take()
    }

    /// Redirects followed so far.
    pub fn redirects(&self) -> u32 {
        self.redirects
    }

    fn request(&mut self, broker: SocketAddr) {
        self.transmits.push_back(BrokerTransmit::Request {
            broker,
            message: peer_message::Message::Claim(self.claim.clone()),
        });
    }

    fn fail(&mut self, failure: ClaimFailure) {
        self.done = true;
        self.transmits.push_back(BrokerTransmit::Close);
        self.result = Some(Err(failure));
    }
}
