//! What a verified receipt records, as one JSON object: what `ra-audit
//! verify-receipt --json` prints and what the C ABI's `ra_receipt_verify`
//! hands back, so every language reads the same fields.

use serde::Serialize;

use super::{ConsentReceipt, ReceiptGrant, ReceiptSummary};

/// A helper's verified identity, as the report gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedHelper {
    /// The organisation that vouches for the helper.
    pub organisation: String,
    /// Its public key (`raorg1-…`).
    pub organisation_key: String,
    /// The helper's name in its identity.
    pub helper: String,
    /// The helper's key id (what `revoked_helpers` lists).
    pub helper_key: String,
}

/// What a receipt that verified records (see [`ConsentReceipt::report`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptReport {
    /// The session.
    pub session_id: String,
    /// The host's name.
    pub host_name: String,
    /// The fingerprint of the certificate whose key signed it.
    pub host_certificate: String,
    /// The name the helper gave.
    pub helper_name: String,
    /// The helper's verified identity, `null` when unverified.
    pub verified: Option<ReportedHelper>,
    /// Whether the helper countersigned it.
    pub countersigned: bool,
    /// When the host approved the connection (RFC 3339, milliseconds).
    #[serde(with = "crate::audit::rfc3339_millis")]
    pub approved_at: std::time::SystemTime,
    /// Every listed grant of control.
    pub grants: Vec<ReceiptGrant>,
    /// Grants made after the listed ones.
    pub grants_not_listed: u32,
    /// When the session ended.
    #[serde(with = "crate::audit::rfc3339_millis")]
    pub ended_at: std::time::SystemTime,
    /// Why it ended.
    pub end_reason: String,
    /// The audit chain's head it records, `null` without an audit log.
    pub audit_head: Option<String>,
}

impl ConsentReceipt {
    /// What this receipt records, given the summary its
    /// [`ConsentReceipt::verify`] returned.
    pub fn report(&self, summary: &ReceiptSummary) -> ReceiptReport {
        let body = self.body();
        ReceiptReport {
            session_id: body.session_id.to_string(),
            host_name: body.host_name.clone(),
            host_certificate: summary.host_certificate.to_string(),
            helper_name: body.helper_name.clone(),
            verified: summary
                .helper_identity
                .as_ref()
                .map(|identity| ReportedHelper {
                    organisation: identity.organisation().to_owned(),
                    organisation_key: identity.organisation_key().to_string(),
                    helper: identity.helper().to_owned(),
                    helper_key: identity.helper_key().to_string(),
                }),
            countersigned: summary.countersigned,
            approved_at: body.approved_at,
            grants: body.grants.clone(),
            grants_not_listed: body.grants_not_listed,
            ended_at: body.ended_at,
            end_reason: body.end_reason.clone(),
            audit_head: body.audit_head.clone(),
        }
    }
}

impl ReceiptReport {
    /// All the grants of control the session made, listed or not.
    pub fn grant_count(&self) -> u64 {
        self.grants.len() as u64 + u64::from(self.grants_not_listed)
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        // Every field was read from a receipt that parsed, so it writes.
        serde_json::to_string(self).unwrap_or_default()
    }
}
