//! The helper's part of a session's consent receipt: check what the host
//! signed, countersign it with the helper's identity key when it has one,
//! and hand it to the application; after the helper's own goodbye, wait a
//! little for it.

use std::time::{Duration, Instant};

use super::{HelperConnection, HelperEvent, Phase};
use crate::proto::{self, envelope::Message};
use crate::receipt::{ConsentReceipt, ReceiptCheck};
use crate::session::types::EndReason;

/// How long a helper that ended the session waits for the host's receipt.
pub const RECEIPT_WAIT: Duration = Duration::from_secs(2);

impl HelperConnection {
    /// Ends a live session: says goodbye and waits (at most
    /// [`RECEIPT_WAIT`]) for the receipt before closing.
    pub(super) fn end_live(&mut self, now: Instant) {
        self.send_bye(EndReason::HelperEnded);
        self.phase = Phase::Ending {
            deadline: now + RECEIPT_WAIT,
        };
    }

    /// A message while waiting for the receipt after the helper's goodbye.
    pub(super) fn handle_ending_message(&mut self, message: Option<Message>) {
        match message {
            Some(Message::Receipt(receipt)) => {
                self.handle_receipt(&receipt.text);
                self.finish(EndReason::HelperEnded, false);
            }
            Some(Message::Bye(_)) => self.finish(EndReason::HelperEnded, false),
            _ => {}
        }
    }

    /// The host's receipt: checked against this session and the host's
    /// certificate, countersigned if it names this helper's identity, and
    /// answered either way (an empty countersignature: none).
    pub(super) fn handle_receipt(&mut self, text: &str) {
        let check = ReceiptCheck {
            pinned: self.host_fingerprint,
            session: Some(self.session_id),
            organisation: None,
        };
        let checked = ConsentReceipt::parse(text).and_then(|receipt| {
            receipt.verify(&check)?;
            Ok(receipt)
        });
        let mut signature = Vec::new();
        match checked {
            Ok(mut receipt) => {
                // Countersigned only when the receipt names this helper.
                if let Some(credential) = &self.identity
                    && matches!(receipt.helper_identity(), Ok(Some(named))
                        if named.helper_key() == credential.identity().helper_key())
                {
                    let countersignature = credential.sign(&receipt.countersignature_message());
                    if receipt.countersign(&countersignature).is_ok() {
                        signature = countersignature.to_vec();
                    }
                }
                self.events.push_back(HelperEvent::Receipt {
                    receipt: Box::new(receipt),
                });
            }
            Err(e) => self.events.push_back(HelperEvent::ReceiptRefused {
                problem: e.to_string(),
            }),
        }
        self.send(Message::ReceiptCountersignature(
            proto::ReceiptCountersignature { signature },
        ));
    }
}
