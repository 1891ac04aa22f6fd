//! Resume tickets in a running host: issuing one for the live session (the
//! endpoint decides and tells the helper; this seals what the ticket keeps),
//! and the [`Controller`] and [`HostHandle`] calls that ask for one.

use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::oneshot;

use super::HostHandle;
use super::driver::HostDriver;
use crate::resume::{ResumeTicket, TicketKey};
use crate::runtime::controller::{Controller, Request};
use crate::runtime::error::SessionError;
use crate::session::{CommandError, HostCommand};

/// A request for a sealed resume ticket.
pub(crate) struct TicketRequest {
    key: TicketKey,
    lifetime: Duration,
    reply: TicketReply,
}

/// Where the sealed ticket (or why there is none) goes.
enum TicketReply {
    Async(oneshot::Sender<Result<Vec<u8>, CommandError>>),
    Blocking(std_mpsc::SyncSender<Result<Vec<u8>, CommandError>>),
}

impl TicketRequest {
    /// Answers (a caller that stopped waiting is no error).
    pub(crate) fn answer(self, result: Result<Vec<u8>, CommandError>) {
        match self.reply {
            TicketReply::Async(reply) => {
                let _ = reply.send(result);
            }
            TicketReply::Blocking(reply) => {
                let _ = reply.send(result);
            }
        }
    }
}

impl HostDriver {
    /// Issues and seals a resume ticket for the live session.
    pub(super) fn issue_resume_ticket(&mut self, request: TicketRequest) {
        let result = self.seal_resume_ticket(&request.key, request.lifetime);
        if result.is_ok() {
            // On record before the application holds the ticket: a crash
            // right after must not lose that it was issued.
            while let Some(record) = self.core.poll_audit() {
                self.write_audit(record);
            }
            if let Some(log) = &self.audit {
                log.sync();
            }
        }
        request.answer(result);
    }

    fn seal_resume_ticket(
        &mut self,
        key: &TicketKey,
        lifetime: Duration,
    ) -> Result<Vec<u8>, CommandError> {
        let Some(contents) = self.resume_contents.clone() else {
            return Err(CommandError::InvalidState(
                "resume tickets need a session opened by an invitation",
            ));
        };
        let grant = self.core.issue_resume_offer(Instant::now(), lifetime)?;
        let ticket = ResumeTicket::from_grant(contents, &grant, SystemTime::now())
            .map_err(|_| CommandError::InvalidArgument("the ticket's lifetime"))?;
        ticket
            .seal(key, &mut rand_core::OsRng)
            .map_err(|_| CommandError::InvalidState("the ticket could not be sealed"))
    }
}

impl Controller<HostCommand> {
    /// Issues a single-use resume ticket for the live session, valid for
    /// `lifetime` (capped by the policy's `max_resume_ticket_lifetime`, at
    /// most 15 minutes), sealed with `key`: store the bytes (e.g.
    /// [`crate::resume::save_ticket`]) and, after a restart, re-open the
    /// session with [`resume`](crate::runtime::resume). The helper is told
    /// and reconnects by itself; the host's user approves again, and
    /// control needs a new grant. The audit log records it.
    ///
    /// # Errors
    /// [`SessionError::Command`] with [`CommandError::Policy`] unless the
    /// policy has `allow_resume_tickets`, [`CommandError::NoSession`]
    /// without an approved helper, [`CommandError::InvalidState`] for a
    /// session opened by a code (no address of its own),
    /// [`CommandError::InvalidArgument`] for a lifetime under a second;
    /// [`SessionError::Closed`] when the session is over.
    pub async fn issue_resume_ticket(
        &self,
        key: &TicketKey,
        lifetime: Duration,
    ) -> Result<Vec<u8>, SessionError> {
        let (reply, answer) = oneshot::channel();
        self.request(Request::ResumeTicket(TicketRequest {
            key: key.clone(),
            lifetime,
            reply: TicketReply::Async(reply),
        }))?;
        answer
            .await
            .map_err(|_| SessionError::Closed)?
            .map_err(SessionError::from)
    }

    /// [`Controller::issue_resume_ticket`], blocking the calling thread up
    /// to `timeout` (not on a runtime's worker thread).
    ///
    /// # Errors
    /// As [`Controller::issue_resume_ticket`], and [`SessionError::TimedOut`].
    pub fn issue_resume_ticket_blocking(
        &self,
        key: &TicketKey,
        lifetime: Duration,
        timeout: Duration,
    ) -> Result<Vec<u8>, SessionError> {
        let (reply, answer) = std_mpsc::sync_channel(1);
        self.request(Request::ResumeTicket(TicketRequest {
            key: key.clone(),
            lifetime,
            reply: TicketReply::Blocking(reply),
        }))?;
        match answer.recv_timeout(timeout) {
            Ok(result) => result.map_err(SessionError::from),
            Err(std_mpsc::RecvTimeoutError::Timeout) => Err(SessionError::TimedOut),
            Err(std_mpsc::RecvTimeoutError::Disconnected) => Err(SessionError::Closed),
        }
    }
}

impl HostHandle {
    /// Issues a single-use resume ticket for the live session
    /// ([`Controller::issue_resume_ticket`]).
    ///
    /// # Errors
    /// As [`Controller::issue_resume_ticket`].
    pub async fn issue_resume_ticket(
        &self,
        key: &TicketKey,
        lifetime: Duration,
    ) -> Result<Vec<u8>, SessionError> {
        self.controller().issue_resume_ticket(key, lifetime).await
    }
}
