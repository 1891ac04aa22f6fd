//! The consent receipt of each approved session: what the endpoint notes as
//! the session goes (approval, grants), the body it asks the runtime to
//! sign when the session ends, and the closing exchange that gives the
//! helper the receipt and brings back its countersignature.
//!
//! The end is recorded in the audit log first, so the chain head the
//! receipt holds covers it; the runtime adds that head and the host's
//! signature ([`HostEndpoint::poll_receipt_request`],
//! [`HostEndpoint::handle_receipt_signed`]). The connection then waits (at
//! most [`COUNTERSIGNATURE_WAIT`]) for the helper's countersignature before
//! it closes; [`HostEvent::Receipt`] comes just before [`HostEvent::Ended`].

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use super::{Connection, HostEndpoint, HostEvent, HostTransmit, Phase};
use crate::audit::AuditEvent;
use crate::proto::{self, envelope::Message};
use crate::receipt::{ConsentReceipt, MAX_LISTED_GRANTS, ReceiptBody, ReceiptError, ReceiptGrant};
use crate::session::types::{ConnectionId, ControlScopes, EndReason};
use crate::session::wire::end_reason_to_wire;

/// How long an ending session waits for its receipt to be signed and
/// countersigned before the connection closes without it.
pub const COUNTERSIGNATURE_WAIT: Duration = Duration::from_secs(2);

/// What a receipt will say of a session, noted as it goes.
#[derive(Debug, Default)]
pub(super) struct ReceiptNotes {
    helper_name: String,
    /// The identity document, when it was verified.
    identity: Option<String>,
    approved_at: Option<SystemTime>,
    grants: Vec<ReceiptGrant>,
    grants_not_listed: u32,
    /// The grant in force: its scopes and start.
    open_grant: Option<(ControlScopes, SystemTime)>,
}

/// A connection whose session ended and whose receipt is in the works.
#[derive(Debug)]
pub(super) struct Closing {
    pub(super) reason: EndReason,
    /// Whether the helper is told the session ended (`Bye`).
    notify: bool,
    /// Whether the helper can still answer (it is waiting for the receipt).
    peer_answers: bool,
    pub(super) deadline: Instant,
    /// Signed, waiting for the countersignature.
    receipt: Option<ConsentReceipt>,
}

impl HostEndpoint {
    /// Notes who asked to connect (`identity`: the document, if verified).
    pub(super) fn note_request(
        &mut self,
        conn: ConnectionId,
        helper_name: &str,
        identity: Option<String>,
    ) {
        self.receipt_notes.insert(
            conn,
            ReceiptNotes {
                helper_name: helper_name.to_owned(),
                identity,
                ..ReceiptNotes::default()
            },
        );
    }

    pub(super) fn note_approved(&mut self, now: Instant, conn: ConnectionId) {
        let at = self.wall_clock(now);
        if let Some(notes) = self.receipt_notes.get_mut(&conn) {
            notes.approved_at = Some(at);
        }
    }

    pub(super) fn note_grant(&mut self, now: Instant, conn: ConnectionId, scopes: ControlScopes) {
        let at = self.wall_clock(now);
        if let Some(notes) = self.receipt_notes.get_mut(&conn) {
            notes.open_grant = Some((scopes, at));
        }
    }

    /// Notes that the grant in force ended, and how.
    pub(super) fn note_grant_end(&mut self, now: Instant, conn: ConnectionId, ended: &str) {
        let at = self.wall_clock(now);
        let Some(notes) = self.receipt_notes.get_mut(&conn) else {
            return;
        };
        let Some((scopes, from)) = notes.open_grant.take() else {
            return;
        };
        if notes.grants.len() < MAX_LISTED_GRANTS {
            notes.grants.push(ReceiptGrant {
                scopes: scopes.to_string(),
                from,
                to: at,
                ended: ended.to_owned(),
            });
        } else {
            notes.grants_not_listed = notes.grants_not_listed.saturating_add(1);
        }
    }

    /// Starts the receipt of a live session that ends for `reason`: records
    /// the end, asks for the signature, and keeps the connection until the
    /// exchange is over.
    pub(super) fn begin_receipt(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        mut connection: Connection,
        reason: EndReason,
        notify: bool,
    ) {
        self.note_grant_end(now, conn, "session_ended");
        let notes = self.receipt_notes.remove(&conn).unwrap_or_default();
        // The end goes into the audit log now, so that the chain head the
        // receipt records covers it; its event follows the receipt.
        self.audit_names.remove(&conn);
        self.record(AuditEvent::Ended {
            reason: reason.as_str().to_owned(),
        });
        let ended_at = self.wall_clock(now);
        let body = ReceiptBody {
            session_id: self.session_id,
            host_name: self.host_name.clone(),
            helper_name: notes.helper_name,
            helper_identity: notes.identity,
            approved_at: notes.approved_at.unwrap_or(ended_at),
            grants: notes.grants,
            grants_not_listed: notes.grants_not_listed,
            ended_at,
            end_reason: reason.as_str().to_owned(),
            audit_head: None,
        };
        connection.phase = Phase::Closing(Closing {
            reason,
            notify,
            peer_answers: reason == EndReason::HelperEnded
                || (notify && reason != EndReason::ProtocolError),
            deadline: now + COUNTERSIGNATURE_WAIT,
            receipt: None,
        });
        self.connections.insert(conn, connection);
        self.receipt_requests.push_back((conn, body));
    }

    /// The next receipt to sign: add the audit chain's head (after writing
    /// every record polled so far), sign it with the host's key, and give
    /// it to [`HostEndpoint::handle_receipt_signed`].
    pub fn poll_receipt_request(&mut self) -> Option<(ConnectionId, ReceiptBody)> {
        self.receipt_requests.pop_front()
    }

    /// The runtime signed (or could not sign) the receipt of `conn`: it goes
    /// to the helper, with the goodbye, and the connection waits for the
    /// countersignature.
    pub fn handle_receipt_signed(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        receipt: Result<ConsentReceipt, ReceiptError>,
    ) {
        let Some(Connection {
            phase: Phase::Closing(closing),
            ..
        }) = self.connections.get_mut(&conn)
        else {
            return;
        };
        let (notify, peer_answers, reason) = (closing.notify, closing.peer_answers, closing.reason);
        let receipt = match receipt {
            Ok(receipt) => receipt,
            Err(e) => {
                tracing::warn!(%conn, error = %e, "cannot sign the session's receipt");
                self.say_goodbye(conn, notify, reason);
                self.finish_closing(conn);
                return;
            }
        };
        if peer_answers {
            self.send(
                conn,
                Message::Receipt(proto::Receipt {
                    text: receipt.to_text(),
                }),
            );
        }
        self.say_goodbye(conn, notify, reason);
        if let Some(Connection {
            phase: Phase::Closing(closing),
            ..
        }) = self.connections.get_mut(&conn)
        {
            closing.receipt = Some(receipt);
            closing.deadline = now + COUNTERSIGNATURE_WAIT;
        }
        if !peer_answers {
            self.finish_closing(conn);
        }
    }

    /// Tells the helper the session ended (when `notify`).
    pub(super) fn say_goodbye(&mut self, conn: ConnectionId, notify: bool, reason: EndReason) {
        if notify {
            self.send(
                conn,
                Message::Bye(proto::Bye {
                    reason: end_reason_to_wire(reason).into(),
                    detail: reason.to_string(),
                }),
            );
        }
    }

    /// A message from a helper whose session is over: only the
    /// countersignature matters.
    pub(super) fn handle_closing_message(&mut self, conn: ConnectionId, message: Option<Message>) {
        let Some(Message::ReceiptCountersignature(countersignature)) = message else {
            return;
        };
        let Some(Connection {
            phase: Phase::Closing(closing),
            ..
        }) = self.connections.get_mut(&conn)
        else {
            return;
        };
        let Some(receipt) = closing.receipt.as_mut() else {
            return;
        };
        if !countersignature.signature.is_empty()
            && let Err(e) = receipt.countersign(&countersignature.signature)
        {
            tracing::warn!(%conn, error = %e, "the helper's countersignature is refused");
        }
        self.finish_closing(conn);
    }

    /// Closes a connection whose receipt exchange is over (or must stop):
    /// the receipt, if there is one, then the end.
    pub(super) fn finish_closing(&mut self, conn: ConnectionId) {
        let Some(Connection {
            phase: Phase::Closing(closing),
            ..
        }) = self.connections.remove(&conn)
        else {
            return;
        };
        self.transmits.push_back((
            conn,
            HostTransmit::Close {
                reason: closing.reason,
            },
        ));
        if let Some(receipt) = closing.receipt {
            self.events.push_back(HostEvent::Receipt {
                conn,
                receipt: Box::new(receipt),
            });
        }
        // Recorded in the audit log when the session ended.
        self.events.push_back(HostEvent::Ended {
            conn,
            reason: closing.reason,
        });
    }
}

/// The receipts' notes, one per connection that asked.
pub(super) type Notes = HashMap<ConnectionId, ReceiptNotes>;
