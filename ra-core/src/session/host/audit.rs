//! What the host's audit log records, decided here: the endpoint emits an
//! [`AuditEvent`] with each event that matters, and the runtime only stamps
//! and writes it.

use std::net::SocketAddr;
use std::time::SystemTime;

use super::{HelperVerification, HostEndpoint, HostEvent};
use crate::audit::AuditEvent;
use crate::session::types::EndReason;

/// The invitation (or code) as the audit log's first record describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferRecord {
    /// When it expires (wall clock).
    pub expires_at: SystemTime,
    /// Where helpers reach the host (for a code: the broker).
    pub addresses: Vec<SocketAddr>,
}

impl HostEndpoint {
    /// Queues `event` for the application, and its audit record if it has one.
    pub(super) fn emit(&mut self, event: HostEvent) {
        if let Some(record) = self.audit_record(&event) {
            self.audit.push_back(record);
        }
        self.events.push_back(event);
    }

    /// Queues an audit record that has no event of its own.
    pub(super) fn record(&mut self, event: AuditEvent) {
        self.audit.push_back(event);
    }

    /// The next audit record to write.
    pub fn poll_audit(&mut self) -> Option<AuditEvent> {
        self.audit.pop_front()
    }

    fn audit_record(&mut self, event: &HostEvent) -> Option<AuditEvent> {
        Some(match event {
            HostEvent::ConnectionRequest {
                conn,
                helper_name,
                peer,
                verification,
                ..
            } => {
                self.audit_names.insert(*conn, helper_name.clone());
                let verified = match verification {
                    HelperVerification::Verified {
                        organisation,
                        helper,
                        helper_key,
                        ..
                    } => Some(format!("{helper} of {organisation} ({helper_key})")),
                    _ => None,
                };
                AuditEvent::ConnectionRequest {
                    helper: helper_name.clone(),
                    peer: peer.to_string(),
                    verified,
                }
            }
            HostEvent::ConnectionRefused {
                helper_name,
                reason,
                ..
            } => AuditEvent::Denied {
                helper: helper_name.clone(),
                reason: format!("not verified: {reason}"),
            },
            HostEvent::AuthFailed { peer, attempts, .. } => AuditEvent::AuthFailed {
                peer: peer.to_string(),
                attempts: *attempts,
            },
            HostEvent::Connected { helper_name, .. } => AuditEvent::Approved {
                helper: helper_name.clone(),
            },
            HostEvent::ControlRequested { .. } => AuditEvent::ControlRequested,
            HostEvent::ControlGranted {
                scopes, expires_at, ..
            } => AuditEvent::ControlGranted {
                scopes: Some(scopes.to_string()),
                expires_at: *expires_at,
            },
            HostEvent::ControlDenied { reason, .. } => AuditEvent::ControlDenied {
                reason: reason.as_str().to_owned(),
            },
            HostEvent::ControlRevoked { reason, .. } => AuditEvent::ControlRevoked {
                reason: reason.as_str().to_owned(),
            },
            HostEvent::Paused { .. } => AuditEvent::Paused,
            HostEvent::Resumed { .. } => AuditEvent::Resumed,
            HostEvent::RedactionsChanged { areas, windows } => AuditEvent::Redactions {
                areas: areas.clone(),
                windows: windows.clone(),
            },
            HostEvent::DisplaySelected { display, .. } => AuditEvent::DisplaySelected {
                display: display.0,
                allowed: true,
            },
            HostEvent::DisplayRefused { display, .. } => AuditEvent::DisplaySelected {
                display: display.0,
                allowed: false,
            },
            HostEvent::Chat { text, .. } => AuditEvent::Chat {
                from: "helper".to_owned(),
                text: text.clone(),
            },
            HostEvent::Ended { conn, reason } => {
                let helper = self.audit_names.remove(conn).unwrap_or_default();
                if matches!(reason, EndReason::Denied | EndReason::ApprovalTimeout) {
                    AuditEvent::Denied {
                        helper,
                        reason: reason.as_str().to_owned(),
                    }
                } else {
                    AuditEvent::Ended {
                        reason: reason.as_str().to_owned(),
                    }
                }
            }
            HostEvent::InvitationClosed { reason } => AuditEvent::InvitationClosed {
                reason: reason.as_str().to_owned(),
            },
            HostEvent::ConnectionInterrupted { .. } => AuditEvent::ConnectionInterrupted,
            HostEvent::ConnectionRestored { silent_for, .. } => AuditEvent::ConnectionRestored {
                silent_ms: u64::try_from(silent_for.as_millis()).unwrap_or(u64::MAX),
            },
            _ => return None,
        })
    }
}
