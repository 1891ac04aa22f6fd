//! The host user's decisions: approving a connection, granting, denying and
//! revoking control, pausing, ending, closing the invitation, and policy
//! changes that take effect at once.

use std::time::{Duration, Instant};

use super::{Connection, GrantTerms, HostEndpoint, HostEvent, Phase};
use crate::policy::Policy;
use crate::proto::{self, envelope::Message};
use crate::session::types::{
    CommandError, ConnectionId, ControlScopes, ControlState, DenyReason, EndReason, GrantId,
    InvitationCloseReason, RevokeReason,
};
use crate::session::wire::{deny_reason_to_wire, revoke_reason_to_wire};

impl HostEndpoint {
    /// Lets the helper in (view only).
    ///
    /// # Errors
    /// [`CommandError::NoSession`] if the connection is gone,
    /// [`CommandError::InvalidState`] if it is not waiting for approval.
    pub fn approve(&mut self, now: Instant, conn: ConnectionId) -> Result<(), CommandError> {
        let c = self
            .connections
            .get_mut(&conn)
            .ok_or(CommandError::NoSession)?;
        let Phase::AwaitApproval { helper_name, .. } = &mut c.phase else {
            return Err(CommandError::InvalidState(
                "the connection is not waiting for approval",
            ));
        };
        let helper_name = std::mem::take(helper_name);
        c.phase = Phase::Active {
            helper_name: helper_name.clone(),
            control: ControlState::None,
            paused: false,
            clipboard: false,
        };
        self.send(conn, Message::Approved(proto::Approved {}));
        self.note_resumption_approved();
        self.note_approved(now, conn);
        self.emit(HostEvent::Connected { conn, helper_name });
        self.start_video(now, conn);
        Ok(())
    }

    /// Turns the helper away.
    ///
    /// # Errors
    /// As for [`HostEndpoint::approve`].
    pub fn deny(&mut self, now: Instant, conn: ConnectionId) -> Result<(), CommandError> {
        let c = self.connections.get(&conn).ok_or(CommandError::NoSession)?;
        if !matches!(c.phase, Phase::AwaitApproval { .. }) {
            return Err(CommandError::InvalidState(
                "the connection is not waiting for approval",
            ));
        }
        self.end_connection(now, conn, EndReason::Denied, true);
        Ok(())
    }

    /// Gives the helper control, answering its request: whatever it asked
    /// for, for as long as the policy allows (`max_control_duration`).
    ///
    /// # Errors
    /// As [`HostEndpoint::grant_control_with`].
    pub fn grant_control(&mut self, now: Instant, conn: ConnectionId) -> Result<(), CommandError> {
        self.grant_control_with(now, conn, ControlScopes::ALL, None)
    }

    /// Gives the helper control, answering its request: the `scopes` it
    /// asked for among these, for `duration` (`None`: until revoked), both
    /// capped by the policy (`max_control_duration`). When the time is up,
    /// control is revoked ([`RevokeReason::Expired`]) and what the helper
    /// held is released; it may ask again.
    ///
    /// # Errors
    /// [`CommandError::Policy`] when the policy forbids control,
    /// [`CommandError::InvalidState`] when no request is pending, the
    /// session is paused, the grant would cover nothing the helper asked
    /// for, or last no time.
    pub fn grant_control_with(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        scopes: ControlScopes,
        duration: Option<Duration>,
    ) -> Result<(), CommandError> {
        if !self.policy.allow_control {
            return Err(CommandError::Policy);
        }
        let scopes = scopes.intersect(self.asked_scopes);
        if scopes.is_empty() {
            return Err(CommandError::InvalidState(
                "the grant covers nothing the helper asked for",
            ));
        }
        let duration = match (duration, self.policy.max_control_duration) {
            (Some(asked), Some(cap)) => Some(asked.min(cap)),
            (asked, cap) => asked.or(cap),
        };
        if duration.is_some_and(|d| d.is_zero()) {
            return Err(CommandError::InvalidState("a grant must last some time"));
        }
        let grant = GrantId(self.next_grant);
        let c = self
            .connections
            .get_mut(&conn)
            .ok_or(CommandError::NoSession)?;
        let Phase::Active {
            control, paused, ..
        } = &mut c.phase
        else {
            return Err(CommandError::InvalidState("the session is not live"));
        };
        if *paused {
            return Err(CommandError::InvalidState("the session is paused"));
        }
        if *control != ControlState::Requested {
            return Err(CommandError::InvalidState(
                "the helper has not asked for control",
            ));
        }
        *control = ControlState::Granted(grant);
        self.next_grant = self.next_grant.wrapping_add(1).max(1);
        self.grant_terms = Some(GrantTerms {
            scopes,
            expires_at: duration.map(|d| now + d),
        });
        self.send(
            conn,
            Message::ControlDecision(proto::ControlDecision {
                granted: true,
                grant_id: grant.0,
                reason: proto::DenyReason::Unspecified.into(),
                scopes: scopes.to_bits(),
                expires_in_ms: duration
                    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            }),
        );
        let expires_at = duration.map(|d| self.wall_clock(now) + d);
        self.note_grant(now, conn, scopes);
        self.emit(HostEvent::ControlGranted {
            conn,
            grant,
            scopes,
            expires_at,
        });
        Ok(())
    }

    /// Refuses the helper's control request.
    ///
    /// # Errors
    /// [`CommandError::InvalidState`] when no request is pending.
    pub fn deny_control(&mut self, _now: Instant, conn: ConnectionId) -> Result<(), CommandError> {
        let c = self.connections.get(&conn).ok_or(CommandError::NoSession)?;
        if !matches!(
            c.phase,
            Phase::Active {
                control: ControlState::Requested,
                ..
            }
        ) {
            return Err(CommandError::InvalidState(
                "the helper has not asked for control",
            ));
        }
        self.deny_control_for(conn, DenyReason::ByUser);
        Ok(())
    }

    /// Takes control back from the helper at once.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] without a live session,
    /// [`CommandError::InvalidState`] when control is not granted.
    pub fn revoke(&mut self, now: Instant) -> Result<(), CommandError> {
        self.revoke_active(now, RevokeReason::ByUser)
    }

    /// Takes control back because the host pressed the local panic key.
    ///
    /// # Errors
    /// As for [`HostEndpoint::revoke`].
    pub fn revoke_panic_key(&mut self, now: Instant) -> Result<(), CommandError> {
        self.revoke_active(now, RevokeReason::PanicKey)
    }

    /// Pauses the session: video stops, control is revoked.
    ///
    /// # Errors
    /// [`CommandError::NoSession`] without a live session,
    /// [`CommandError::InvalidState`] when already paused.
    pub fn pause(&mut self, now: Instant) -> Result<(), CommandError> {
        let conn = self.live_connection()?;
        let c = self
            .connections
            .get_mut(&conn)
            .ok_or(CommandError::NoSession)?;
        let Phase::Active {
            control, paused, ..
        } = &mut c.phase
        else {
            return Err(CommandError::NoSession);
        };
        if *paused {
            return Err(CommandError::InvalidState("the session is paused already"));
        }
        *paused = true;
        let previous = *control;
        match previous {
            ControlState::Granted(_) => self.revoke_for(now, conn, RevokeReason::Paused),
            ControlState::Requested => self.deny_control_for(conn, DenyReason::Paused),
            ControlState::None => {}
        }
        self.release_all_input();
        self.send(
            conn,
            Message::PauseState(proto::PauseState { paused: true }),
        );
        self.emit(HostEvent::Paused { conn });
        self.stop_video(conn);
        Ok(())
    }

    /// Resumes a paused session (control stays revoked).
    ///
    /// # Errors
    /// [`CommandError::NoSession`] without a live session,
    /// [`CommandError::InvalidState`] when not paused.
    pub fn resume(&mut self, now: Instant) -> Result<(), CommandError> {
        let conn = self.live_connection()?;
        let Some(Connection {
            phase: Phase::Active { paused, .. },
            ..
        }) = self.connections.get_mut(&conn)
        else {
            return Err(CommandError::NoSession);
        };
        if !*paused {
            return Err(CommandError::InvalidState("the session is not paused"));
        }
        *paused = false;
        self.send(
            conn,
            Message::PauseState(proto::PauseState { paused: false }),
        );
        self.emit(HostEvent::Resumed { conn });
        self.start_video(now, conn);
        Ok(())
    }

    /// Ends the current session (awaiting approval or live). The invitation
    /// stays open until it expires or [`HostEndpoint::close_invitation`].
    ///
    /// # Errors
    /// [`CommandError::NoSession`] when there is none.
    pub fn end(&mut self, now: Instant) -> Result<(), CommandError> {
        let conn = self.active.ok_or(CommandError::NoSession)?;
        self.end_connection(now, conn, EndReason::HostEnded, true);
        Ok(())
    }

    /// Stops taking new connections. A live session continues.
    pub fn close_invitation(&mut self, now: Instant) {
        self.close_invitation_for(now, InvitationCloseReason::ClosedByHost);
    }

    /// Applies a new policy at once: turning assistance off ends the session and
    /// closes the invitation; turning control off revokes a grant and denies a
    /// pending request; a shorter lifetime brings the expiry forward.
    pub fn set_policy(&mut self, now: Instant, policy: Policy) {
        self.policy = policy;
        self.told_no_allowed_display = false;
        self.follow_display_policy(now, true);
        self.update_redactions(now);
        if !self.policy.allow_assistance {
            if let Some(conn) = self.active {
                self.end_connection(now, conn, EndReason::Policy, true);
            }
            self.close_invitation_for(now, InvitationCloseReason::Policy);
            return;
        }
        if !self.policy.allow_clipboard
            && let Some(conn) = self.active
            && let Some(Connection {
                phase: Phase::Active {
                    clipboard: true, ..
                },
                ..
            }) = self.connections.get(&conn)
        {
            self.clipboard_sharing_for(conn, false);
        }
        if !self.policy.allow_control
            && let Some(conn) = self.active
            && let Some(Connection {
                phase: Phase::Active { control, .. },
                ..
            }) = self.connections.get(&conn)
        {
            match *control {
                ControlState::Granted(_) => self.revoke_for(now, conn, RevokeReason::Policy),
                ControlState::Requested => self.deny_control_for(conn, DenyReason::Policy),
                ControlState::None => {}
            }
        }
        let capped = self.created_at + self.policy.max_invitation_lifetime;
        if capped < self.expires_at {
            self.expires_at = capped;
        }
        self.handle_timeout(now);
    }

    pub(super) fn revoke_active(
        &mut self,
        now: Instant,
        reason: RevokeReason,
    ) -> Result<(), CommandError> {
        let conn = self.live_connection()?;
        if !matches!(self.control_state(conn), Some(ControlState::Granted(_))) {
            return Err(CommandError::InvalidState("control is not granted"));
        }
        self.revoke_for(now, conn, reason);
        Ok(())
    }

    pub(super) fn revoke_for(&mut self, now: Instant, conn: ConnectionId, reason: RevokeReason) {
        let Some(Connection {
            phase: Phase::Active { control, .. },
            ..
        }) = self.connections.get_mut(&conn)
        else {
            return;
        };
        let ControlState::Granted(grant) = *control else {
            return;
        };
        *control = ControlState::None;
        self.grant_terms = None;
        self.release_all_input();
        self.send(
            conn,
            Message::ControlRevoked(proto::ControlRevoked {
                grant_id: grant.0,
                reason: revoke_reason_to_wire(reason).into(),
            }),
        );
        self.note_grant_end(now, conn, reason.as_str());
        self.emit(HostEvent::ControlRevoked { conn, reason });
    }

    /// Revokes a grant whose time is up (nothing when there is none).
    pub(super) fn expire_grant(&mut self, now: Instant) {
        let Some(terms) = self.grant_terms else {
            return;
        };
        if terms.expires_at.is_none_or(|at| now < at) {
            return;
        }
        self.grant_terms = None;
        if let Some(conn) = self.active
            && matches!(self.control_state(conn), Some(ControlState::Granted(_)))
        {
            self.revoke_for(now, conn, RevokeReason::Expired);
        }
    }

    pub(super) fn deny_control_for(&mut self, conn: ConnectionId, reason: DenyReason) {
        if let Some(Connection {
            phase: Phase::Active { control, .. },
            ..
        }) = self.connections.get_mut(&conn)
            && *control == ControlState::Requested
        {
            *control = ControlState::None;
        }
        self.send(
            conn,
            Message::ControlDecision(proto::ControlDecision {
                granted: false,
                grant_id: 0,
                reason: deny_reason_to_wire(reason).into(),
                ..proto::ControlDecision::default()
            }),
        );
        self.emit(HostEvent::ControlDenied { conn, reason });
    }
}
