//! The host's side of authentication: the hello, the PAKE reply, key
//! confirmation, and failed attempts counted against the invitation.

use std::time::Instant;

use super::{HelperVerification, HostEndpoint, HostEvent, Phase};
use crate::proto::{self, PROTOCOL_VERSION, envelope::Message};
use crate::session::auth::HostPake;
use crate::session::types::{ConnectionId, EndReason, InvitationCloseReason};
use crate::session::wire::{MAX_NAME_LEN, sanitize_display_text};

impl HostEndpoint {
    pub(super) fn handle_hello(&mut self, now: Instant, conn: ConnectionId, hello: proto::Hello) {
        let refusal = if hello.protocol_version != PROTOCOL_VERSION {
            Some(EndReason::VersionMismatch)
        } else if let Some(closed) = self.closed {
            Some(match closed {
                InvitationCloseReason::Expired => EndReason::InvitationExpired,
                InvitationCloseReason::Policy => EndReason::Policy,
                _ => EndReason::InvitationClosed,
            })
        } else if hello.session_id != self.session_id.0 {
            Some(EndReason::UnknownSession)
        } else if let Some(reason) = self.resume_refusal(&hello) {
            Some(reason)
        } else if self.active.is_some() || self.authentication_budget_exhausted() {
            Some(EndReason::Busy)
        } else {
            None
        };
        if let Some(reason) = refusal {
            self.end_connection(now, conn, reason, true);
            return;
        }
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let binding = c.binding;
        let Some((pake, message, confirmation)) = HostPake::respond(
            &self.secret,
            binding,
            self.session_id,
            &hello.pake_message,
            &mut *self.rng,
        ) else {
            self.violation(now, conn);
            return;
        };
        let mut helper_name = sanitize_display_text(&hello.helper_name, MAX_NAME_LEN);
        if helper_name.is_empty() {
            helper_name = "unnamed helper".to_owned();
        }
        if let Some(c) = self.connections.get_mut(&conn) {
            c.phase = Phase::AwaitConfirm {
                pake,
                helper_name,
                deadline: now + self.auth_timeout,
            };
        }
        self.send(
            conn,
            Message::PakeReply(proto::PakeReply {
                pake_message: message,
                confirmation,
                host_name: self.host_name.clone(),
            }),
        );
    }

    /// Failed attempts plus authentications in flight: each in-flight one may
    /// still fail, so together they must stay below the limit.
    pub(super) fn authentication_budget_exhausted(&self) -> bool {
        let in_flight = self
            .connections
            .values()
            .filter(|c| matches!(c.phase, Phase::AwaitConfirm { .. }))
            .count() as u32;
        self.failed_attempts + in_flight >= self.max_failed_attempts
    }

    pub(super) fn handle_key_confirm(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        confirm: proto::KeyConfirm,
    ) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        let Phase::AwaitConfirm {
            pake, helper_name, ..
        } = &mut c.phase
        else {
            return;
        };
        if !pake.verify(&confirm.confirmation) {
            self.fail_authentication(now, conn, EndReason::AuthFailed);
            return;
        }
        let helper_name = std::mem::take(helper_name);
        let transcript = pake.transcript();
        let peer = c.peer;
        let verification = self.verify_helper(now, &confirm, transcript, &helper_name);
        if self.policy.require_verified_helper
            && let HelperVerification::Unverified { problem, .. } = &verification
        {
            let reason = problem
                .clone()
                .unwrap_or_else(|| "it showed no identity".to_owned());
            self.emit(HostEvent::ConnectionRefused {
                conn,
                helper_name,
                peer,
                reason,
            });
            self.end_connection(now, conn, EndReason::Policy, true);
            return;
        }
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        if self.active.is_some() {
            // Another helper got in while this one was authenticating.
            self.end_connection(now, conn, EndReason::Busy, true);
            return;
        }
        c.phase = Phase::AwaitApproval {
            helper_name: helper_name.clone(),
            deadline: now + self.policy.approval_timeout,
        };
        self.active = Some(conn);
        let identity = verification.is_verified().then(|| confirm.identity.clone());
        self.note_request(conn, &helper_name, identity);
        let resumes = self.resuming.as_ref().map(|_| self.session_id);
        self.emit(HostEvent::ConnectionRequest {
            conn,
            helper_name,
            peer,
            verification,
            resumes,
        });
    }

    pub(super) fn fail_authentication(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        reason: EndReason,
    ) {
        let Some(peer) = self.connections.get(&conn).map(|c| c.peer) else {
            return;
        };
        self.end_connection(now, conn, reason, reason != EndReason::ConnectionLost);
        self.failed_attempts += 1;
        self.emit(HostEvent::AuthFailed {
            conn,
            peer,
            attempts: self.failed_attempts,
            max_attempts: self.max_failed_attempts,
        });
        if self.failed_attempts >= self.max_failed_attempts {
            self.close_invitation_for(now, InvitationCloseReason::TooManyFailures);
        }
    }
}
