//! Resume tickets on the host's side: issuing one for the live session (the
//! policy decides whether, and for how long), and which hellos a session
//! re-opened from a ticket lets in. Sealing and storing the ticket is the
//! runtime's ([`crate::resume`]): it holds the TLS identity the ticket
//! carries.

use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::HostEndpoint;
use crate::audit::AuditEvent;
use crate::proto::{self, envelope::Message};
use crate::resume::{MAX_RESUME_TICKET_LIFETIME, RESUME_SECRET_LEN, TICKET_ID_LEN};
use crate::session::types::{CommandError, EndReason};

/// What [`HostEndpoint::issue_resume_offer`] gave the helper, for the
/// runtime to put into the sealed ticket.
#[derive(Clone)]
pub struct ResumeGrant {
    /// The ticket's id.
    pub ticket_id: [u8; TICKET_ID_LEN],
    /// What the re-opened session authenticates with (wiped when dropped).
    pub secret: Zeroizing<[u8; RESUME_SECRET_LEN]>,
    /// How long the ticket is valid (whole seconds, within the policy's cap).
    pub lifetime: Duration,
}

impl std::fmt::Debug for ResumeGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResumeGrant")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// The ticket a session was re-opened from.
pub(super) struct Resumption {
    ticket_id: [u8; TICKET_ID_LEN],
    /// A helper was approved with it: it lets no one else in.
    used: bool,
}

impl Resumption {
    pub(super) fn new(ticket_id: [u8; TICKET_ID_LEN]) -> Self {
        Resumption {
            ticket_id,
            used: false,
        }
    }
}

impl HostEndpoint {
    /// Issues a single-use resume ticket for the live session, valid for
    /// `lifetime` (capped by the policy's `max_resume_ticket_lifetime`, and
    /// at most [`MAX_RESUME_TICKET_LIFETIME`]): the helper is sent the
    /// ticket's id and secret inside the authenticated channel, and the
    /// audit log records it. A later offer replaces the helper's earlier one.
    ///
    /// # Errors
    /// [`CommandError::Policy`] unless the policy has `allow_resume_tickets`,
    /// [`CommandError::InvalidArgument`] for a zero lifetime,
    /// [`CommandError::NoSession`] without a live (approved) session.
    pub fn issue_resume_offer(
        &mut self,
        now: Instant,
        lifetime: Duration,
    ) -> Result<ResumeGrant, CommandError> {
        if !self.policy.allow_resume_tickets {
            return Err(CommandError::Policy);
        }
        if lifetime < Duration::from_secs(1) {
            return Err(CommandError::InvalidArgument(
                "a resume ticket lives at least one second",
            ));
        }
        let conn = self.live_connection()?;
        let capped = lifetime
            .min(self.policy.max_resume_ticket_lifetime)
            .min(MAX_RESUME_TICKET_LIFETIME);
        // Whole seconds: what the ticket and the offer can say.
        let lifetime = Duration::from_secs(capped.as_secs().max(1));
        let mut ticket_id = [0u8; TICKET_ID_LEN];
        self.rng.fill_bytes(&mut ticket_id);
        let mut secret = Zeroizing::new([0u8; RESUME_SECRET_LEN]);
        self.rng.fill_bytes(secret.as_mut_slice());
        self.send(
            conn,
            Message::ResumeOffer(proto::ResumeOffer {
                ticket_id: ticket_id.to_vec(),
                secret: secret.to_vec(),
                lifetime_secs: u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX),
            }),
        );
        self.record(AuditEvent::ResumeTicketIssued {
            ticket: data_encoding::HEXLOWER.encode(&ticket_id),
            expires_at: self.wall_clock(now) + lifetime,
        });
        Ok(ResumeGrant {
            ticket_id,
            secret,
            lifetime,
        })
    }

    /// Why a hello is turned away for its resume ticket id, if it is: a
    /// session re-opened from a ticket lets in only that ticket's hello,
    /// and any other session lets in none that names a ticket.
    pub(super) fn resume_refusal(&self, hello: &proto::Hello) -> Option<EndReason> {
        match (&self.resuming, hello.resume_ticket_id.as_slice()) {
            (None, []) => None,
            (Some(resumption), id) if !resumption.used && id == resumption.ticket_id => None,
            _ => Some(EndReason::UnknownSession),
        }
    }

    /// A helper was approved: in a session re-opened from a ticket, the
    /// ticket is used up.
    pub(super) fn note_resumption_approved(&mut self) {
        if let Some(resumption) = &mut self.resuming {
            resumption.used = true;
        }
    }

    /// Records, at the start of a session re-opened from a ticket, that it
    /// was, and until when the helper may come back.
    pub(super) fn record_resumption(&mut self, now: Instant) {
        if let Some(resumption) = &self.resuming {
            let ticket = data_encoding::HEXLOWER.encode(&resumption.ticket_id);
            let expires_at = self.wall_clock(now) + self.expires_at.saturating_duration_since(now);
            self.record(AuditEvent::SessionResumed { ticket, expires_at });
        }
    }

    /// Whether this session was re-opened from a resume ticket.
    pub fn is_resumption(&self) -> bool {
        self.resuming.is_some()
    }
}
