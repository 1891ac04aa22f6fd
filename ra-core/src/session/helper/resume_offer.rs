//! Resume tickets on the helper's side: the offer the host sends for its
//! live session, kept until the ticket expires or is used. The runtime
//! reconnects with it when the host comes back from a restart
//! ([`HelperConnection::resume_offer`]).

use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::{HelperConnection, HelperEvent};
use crate::proto;
use crate::resume::{MAX_RESUME_TICKET_LIFETIME, RESUME_SECRET_LEN, TICKET_ID_LEN};
use crate::session::types::EndReason;

/// A resume ticket the host offered: what the helper reconnects with.
#[derive(Clone)]
pub struct HeldResumeOffer {
    /// The ticket's id (sent in the reconnection's hello).
    pub ticket_id: [u8; TICKET_ID_LEN],
    /// What the reconnection authenticates with (wiped when dropped).
    pub secret: Zeroizing<[u8; RESUME_SECRET_LEN]>,
    /// When the ticket expires.
    pub expires_at: Instant,
}

impl std::fmt::Debug for HeldResumeOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldResumeOffer")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl HelperConnection {
    /// The host's offer of a resume ticket: kept (replacing an earlier one)
    /// if it is well formed, dropped and counted otherwise.
    pub(super) fn handle_resume_offer(&mut self, now: Instant, offer: proto::ResumeOffer) {
        let lifetime = Duration::from_secs(u64::from(offer.lifetime_secs));
        let (Ok(ticket_id), Ok(secret)) = (
            <[u8; TICKET_ID_LEN]>::try_from(offer.ticket_id.as_slice()),
            <[u8; RESUME_SECRET_LEN]>::try_from(offer.secret.as_slice()),
        ) else {
            tracing::debug!("malformed resume offer");
            self.messages_dropped += 1;
            return;
        };
        if lifetime.is_zero() || lifetime > MAX_RESUME_TICKET_LIFETIME {
            tracing::debug!(?lifetime, "resume offer with a bad lifetime");
            self.messages_dropped += 1;
            return;
        }
        self.resume_offer = Some(HeldResumeOffer {
            ticket_id,
            secret: Zeroizing::new(secret),
            expires_at: now + lifetime,
        });
        self.events.push_back(HelperEvent::ResumeOffered {
            expires_in: lifetime,
        });
    }

    /// The host's resume offer, while it is valid at `now`.
    pub fn resume_offer(&self, now: Instant) -> Option<&HeldResumeOffer> {
        self.resume_offer
            .as_ref()
            .filter(|offer| now < offer.expires_at)
    }

    /// Takes the host's resume offer, if it is valid at `now`: a ticket is
    /// used once.
    pub fn take_resume_offer(&mut self, now: Instant) -> Option<HeldResumeOffer> {
        self.resume_offer
            .take()
            .filter(|offer| now < offer.expires_at)
    }

    /// Whether the runtime should be reconnecting with the host's resume
    /// offer at `now`: one is held and valid, and the path to the host is
    /// dark or the connection was lost (the host may be restarting). A
    /// reconnection that reaches the host while this connection still
    /// works is refused by the host, and changes nothing.
    pub fn wants_resumption(&self, now: Instant) -> bool {
        self.resume_offer(now).is_some()
            && (self.link_interrupted() || self.ended() == Some(EndReason::ConnectionLost))
    }

    /// Whether the session, ended for `reason` at `now`, waits for a
    /// resumption before it counts as over: the connection was lost and a
    /// valid resume offer is held.
    pub fn end_awaits_resumption(&self, now: Instant, reason: EndReason) -> bool {
        reason == EndReason::ConnectionLost && self.resume_offer(now).is_some()
    }
}
