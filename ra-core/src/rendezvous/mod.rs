//! The peer's side of the broker protocol (`proto/broker.proto`) as sans-IO
//! state machines: what to send the broker and when, given what it answered
//! and the time. The runtime's code flows move the bytes; tests drive the
//! machines on a virtual clock.
//!
//! - [`Waiter`]: the peer that gets a code and waits (the Easy Connect host,
//!   the Quick Assist helper): registration with a fresh lookup part on each
//!   collision, re-attaching on a back-off schedule when the broker link
//!   breaks, the match window, one outcome report per match, and the end of
//!   the code after too many failed attempts.
//! - [`Claimant`]: the peer that types a code: the claim, and the broker
//!   nodes it is redirected to.
//! - [`RelayFailover`]: a relayed connection moving to a standby relay when
//!   its relay's node dies.

mod claimant;
mod punch_targets;
mod relay_failover;
mod waiter;

use std::net::SocketAddr;
use std::time::Duration;

pub use claimant::{ClaimFailure, Claimant};
pub use punch_targets::punch_targets;
pub use relay_failover::{FAILOVER_SILENCE, REBIND_EVERY, RelayFailover};
pub use waiter::{AttemptOutcome, WaitEnd, Waiter, WaiterConfig, WaiterEvent};

use crate::proto::broker::{RefuseReason, Refused, peer_message};

/// Failed PAKE attempts after which a code is dead (the broker counts too).
pub const MAX_CODE_FAILURES: u32 = 5;

/// Lookup collisions retried with a fresh lookup part before giving up.
pub const MAX_COLLISIONS: u32 = 8;

/// Redirects to other broker nodes followed before giving up.
pub const MAX_REDIRECTS: u32 = 2;

/// How long the waiting peer gives a matched claimant to connect and
/// authenticate.
pub const MATCH_WINDOW: Duration = Duration::from_secs(20);

/// The first wait before re-attaching after the broker link broke; it
/// doubles after each failed try, up to [`REATTACH_BACKOFF_MAX`].
pub const REATTACH_BACKOFF_START: Duration = Duration::from_millis(100);

/// The longest wait between two tries to re-attach.
pub const REATTACH_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// What a rendezvous machine asks its driver to do with the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BrokerTransmit {
    /// Open a new request stream to the broker at `broker` (connecting first
    /// when there is no connection to it) and send `message` first; what
    /// comes back on it goes to the machine's `handle_message`. A previous
    /// stream is abandoned.
    Request {
        /// The broker node.
        broker: SocketAddr,
        /// The request.
        message: peer_message::Message,
    },
    /// Send `message` on the current request stream.
    Send(peer_message::Message),
    /// Finish the stream and close the broker connection: the machine needs
    /// the broker no more.
    Close,
}

/// A broker's refusal as text (`"rate limited, retry in 500 ms"`, `"invalid"`).
pub(crate) fn refused_text(refused: &Refused) -> String {
    match RefuseReason::try_from(refused.reason) {
        Ok(RefuseReason::RateLimited) => {
            format!("rate limited, retry in {} ms", refused.retry_after_ms)
        }
        Ok(reason) => reason
            .as_str_name()
            .trim_start_matches("REFUSE_REASON_")
            .to_lowercase(),
        Err(_) => "refused".to_owned(),
    }
}
