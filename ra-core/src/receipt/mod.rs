//! Signed consent receipts: what a session allowed, signed by the host and
//! countersigned by a verified helper, so both sides keep proof of it.
//!
//! When an approved session ends, the host writes a [`ReceiptBody`]: the
//! session, the host's name, who helped (the name they gave and, when it
//! was verified, their organisation-signed identity), when the connection
//! was approved, every grant of control (scopes, from, to, how it ended),
//! when and why the session ended, and the head of its audit chain
//! ([`crate::audit::chain`]). The host signs it with the key of its TLS
//! certificate — the certificate an invitation pins — and sends it to the
//! helper, who checks it and, when it has an identity, countersigns it with
//! its identity key. Both store the [`ConsentReceipt`].
//!
//! A receipt is one line of JSON in a fixed, canonical form (the form
//! [`ConsentReceipt::to_text`] writes): any other spelling of the same
//! values is refused, so that changing any byte of a receipt is detected,
//! not only changes of meaning. Nothing here does I/O.
//!
//! ```text
//! {"receipt":"ra-consent-receipt-1","body":{…},"host_certificate":"<base64 DER>",
//!  "host_signature":"<base64>","helper_signature":"<base64>"}
//! ```

mod report;
mod signing;

pub use report::{ReceiptReport, ReportedHelper};
pub use signing::HostReceiptKey;

use std::time::SystemTime;

use data_encoding::BASE64;
use serde::{Deserialize, Serialize};

use crate::audit::chain::ChainHash;
use crate::identity::{HelperIdentity, IdentityCheck, IdentityError, OrgPublicKey};
use crate::invitation::{CertFingerprint, SessionId};

/// What a receipt's `receipt` field says: its kind and version.
pub const RECEIPT_FORMAT: &str = "ra-consent-receipt-1";
/// The largest receipt read, in bytes.
pub const MAX_RECEIPT_BYTES: usize = 96 * 1024;
/// The most grants a receipt lists; later ones are counted in
/// [`ReceiptBody::grants_not_listed`].
pub const MAX_LISTED_GRANTS: usize = 256;
/// What the host's signature covers before its certificate's fingerprint
/// and the body, so that it can never
/// be taken for a signature of anything else.
pub const HOST_SIGNATURE_CONTEXT: &[u8] = b"ra consent receipt v1 host\0";
/// What the helper's countersignature covers before the body and the host's
/// signature.
pub const HELPER_SIGNATURE_CONTEXT: &[u8] = b"ra consent receipt v1 helper\0";

/// One grant of control, as the receipt lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptGrant {
    /// What it covered (`pointer,keyboard,clipboard`).
    pub scopes: String,
    /// When it was given.
    #[serde(with = "crate::audit::rfc3339_millis")]
    pub from: SystemTime,
    /// When it ended.
    #[serde(with = "crate::audit::rfc3339_millis")]
    pub to: SystemTime,
    /// How it ended: a revocation reason (`revoked_by_host`, `expired`,
    /// `panic_key`…) or `session_ended`.
    pub ended: String,
}

/// What a session allowed: the part of a receipt the signatures cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBody {
    /// The session.
    pub session_id: SessionId,
    /// The host's name.
    pub host_name: String,
    /// The name the helper gave.
    pub helper_name: String,
    /// The helper's organisation-signed identity document, when the host
    /// verified it; `None` for a helper known only by the name it gave.
    pub helper_identity: Option<String>,
    /// When the host approved the connection.
    #[serde(with = "crate::audit::rfc3339_millis")]
    pub approved_at: SystemTime,
    /// Every grant of control, in order (at most [`MAX_LISTED_GRANTS`]).
    pub grants: Vec<ReceiptGrant>,
    /// Grants made after the listed ones (0 unless there were more than
    /// [`MAX_LISTED_GRANTS`]).
    pub grants_not_listed: u32,
    /// When the session ended.
    #[serde(with = "crate::audit::rfc3339_millis")]
    pub ended_at: SystemTime,
    /// Why (`host_ended`, `helper_ended`, `connection_lost`…).
    pub end_reason: String,
    /// The head of the session's audit chain when the receipt was made
    /// (hexadecimal SHA-256), `None` when the host keeps no audit log.
    pub audit_head: Option<String>,
}

/// A signed consent receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentReceipt {
    body: ReceiptBody,
    /// The body as signed (canonical JSON).
    body_json: String,
    host_certificate: Vec<u8>,
    host_signature: Vec<u8>,
    helper_signature: Option<Vec<u8>>,
}

/// The file form: the body as a value, the rest in base64.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptFile {
    receipt: String,
    body: ReceiptBody,
    host_certificate: String,
    host_signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    helper_signature: Option<String>,
}

/// Why a receipt could not be made, read or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// Longer than [`MAX_RECEIPT_BYTES`].
    #[error("too large: {0} bytes (at most {MAX_RECEIPT_BYTES})")]
    TooLarge(usize),
    /// Not a receipt, or not in its one canonical form.
    #[error("not a consent receipt: {0}")]
    Malformed(String),
    /// A receipt of another kind or version.
    #[error("a receipt of another version ({0:?}; this reads {RECEIPT_FORMAT})")]
    Version(String),
    /// The host key could not sign (or is not a key).
    #[error("cannot sign the receipt: {0}")]
    Signing(String),
    /// The host's signature does not verify with the certificate it carries.
    #[error("the host's signature does not verify: the receipt was altered")]
    BadHostSignature,
    /// Signed by a host other than the one the invitation pins.
    #[error("signed by the host certificate {found}, not the invitation's {expected}")]
    OtherHost {
        /// The invitation's pin.
        expected: CertFingerprint,
        /// The certificate's fingerprint.
        found: CertFingerprint,
    },
    /// A receipt of another session.
    #[error("a receipt of session {found}, not of session {expected}")]
    OtherSession {
        /// The session asked about.
        expected: SessionId,
        /// The receipt's.
        found: SessionId,
    },
    /// The helper's identity in the receipt cannot be read.
    #[error("the helper's identity in the receipt: {0}")]
    Identity(#[source] IdentityError),
    /// The helper's countersignature does not verify with its identity's key.
    #[error("the helper's countersignature does not verify")]
    BadHelperSignature,
    /// A countersignature without a helper identity to check it with.
    #[error("a helper countersignature, but no helper identity to check it with")]
    CountersignedWithoutIdentity,
    /// The organisation asked about did not vouch for the helper.
    #[error("the helper was not verified as one of {0}'s")]
    NotOrganisation(OrgPublicKey),
}

/// What [`ConsentReceipt::verify`] checks besides the signatures.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReceiptCheck {
    /// The host certificate the invitation pins.
    pub pinned: Option<CertFingerprint>,
    /// The session the receipt must be of.
    pub session: Option<SessionId>,
    /// The organisation the helper must have been verified as one of (its
    /// identity must be signed by this key).
    pub organisation: Option<OrgPublicKey>,
}

/// What a receipt that verified proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptSummary {
    /// The fingerprint of the certificate whose key signed it.
    pub host_certificate: CertFingerprint,
    /// Whether the helper countersigned it with its identity key.
    pub countersigned: bool,
    /// The helper's verified identity, if it had one.
    pub helper_identity: Option<HelperIdentity>,
    /// The audit chain's head it records, if any.
    pub audit_head: Option<ChainHash>,
}

impl ConsentReceipt {
    /// Signs `body` with the host's key. The body is written in its
    /// canonical form; times keep milliseconds.
    ///
    /// # Errors
    /// [`ReceiptError::Malformed`] when the body cannot be written (a time
    /// outside 1970–9999), [`ReceiptError::Signing`] when the key fails.
    pub fn sign(body: &ReceiptBody, key: &HostReceiptKey) -> Result<Self, ReceiptError> {
        let written = serde_json::to_string(body).map_err(malformed)?;
        // Read back, so the body held is exactly what the text says (times
        // to the millisecond).
        let body: ReceiptBody = serde_json::from_str(&written).map_err(malformed)?;
        let body_json = serde_json::to_string(&body).map_err(malformed)?;
        let host_signature = key.sign(&host_message(key.certificate(), &body_json))?;
        Ok(ConsentReceipt {
            body,
            body_json,
            host_certificate: key.certificate().to_vec(),
            host_signature,
            helper_signature: None,
        })
    }

    /// What the helper signs to countersign this receipt.
    pub fn countersignature_message(&self) -> Vec<u8> {
        let mut message = HELPER_SIGNATURE_CONTEXT.to_vec();
        message.extend_from_slice(self.body_json.as_bytes());
        message.extend_from_slice(&self.host_signature);
        message
    }

    /// Adds the helper's countersignature.
    ///
    /// # Errors
    /// [`ReceiptError::CountersignedWithoutIdentity`] when the receipt holds
    /// no helper identity, [`ReceiptError::Identity`] when it cannot be
    /// read, [`ReceiptError::BadHelperSignature`] when `signature` is not
    /// its key's over [`ConsentReceipt::countersignature_message`].
    pub fn countersign(&mut self, signature: &[u8]) -> Result<(), ReceiptError> {
        let identity = self
            .helper_identity()?
            .ok_or(ReceiptError::CountersignedWithoutIdentity)?;
        if !identity.verify_helper_signature(&self.countersignature_message(), signature) {
            return Err(ReceiptError::BadHelperSignature);
        }
        self.helper_signature = Some(signature.to_vec());
        Ok(())
    }

    /// Reads a receipt: strictly (its canonical form only, at most
    /// [`MAX_RECEIPT_BYTES`]); a final line break is allowed. The
    /// signatures are not checked: see [`ConsentReceipt::verify`].
    ///
    /// # Errors
    /// [`ReceiptError::TooLarge`], [`ReceiptError::Version`],
    /// [`ReceiptError::Malformed`].
    pub fn parse(text: &str) -> Result<Self, ReceiptError> {
        if text.len() > MAX_RECEIPT_BYTES {
            return Err(ReceiptError::TooLarge(text.len()));
        }
        let line = text.strip_suffix('\n').unwrap_or(text);
        let file: ReceiptFile = serde_json::from_str(line).map_err(malformed)?;
        if file.receipt != RECEIPT_FORMAT {
            return Err(ReceiptError::Version(
                file.receipt.chars().take(40).collect(),
            ));
        }
        let decode = |field: &str, text: &str| {
            BASE64
                .decode(text.as_bytes())
                .map_err(|e| ReceiptError::Malformed(format!("{field}: {e}")))
        };
        let receipt = ConsentReceipt {
            body_json: serde_json::to_string(&file.body).map_err(malformed)?,
            host_certificate: decode("host_certificate", &file.host_certificate)?,
            host_signature: decode("host_signature", &file.host_signature)?,
            helper_signature: file
                .helper_signature
                .as_deref()
                .map(|s| decode("helper_signature", s))
                .transpose()?,
            body: file.body,
        };
        if receipt.to_text() != line {
            return Err(ReceiptError::Malformed(
                "not in the canonical form (the receipt was re-written or altered)".into(),
            ));
        }
        Ok(receipt)
    }

    /// The receipt as one line of JSON (without a line break).
    pub fn to_text(&self) -> String {
        let file = ReceiptFile {
            receipt: RECEIPT_FORMAT.to_owned(),
            body: self.body.clone(),
            host_certificate: BASE64.encode(&self.host_certificate),
            host_signature: BASE64.encode(&self.host_signature),
            helper_signature: self.helper_signature.as_deref().map(|s| BASE64.encode(s)),
        };
        // The body was written once already: writing it again cannot fail.
        serde_json::to_string(&file).unwrap_or_default()
    }

    /// Checks the host's signature against the certificate the receipt
    /// carries, the helper's countersignature (if any) against its
    /// identity, and what `check` asks.
    ///
    /// # Errors
    /// [`ReceiptError::BadHostSignature`], [`ReceiptError::OtherHost`],
    /// [`ReceiptError::OtherSession`], [`ReceiptError::Identity`],
    /// [`ReceiptError::BadHelperSignature`],
    /// [`ReceiptError::CountersignedWithoutIdentity`],
    /// [`ReceiptError::NotOrganisation`], [`ReceiptError::Malformed`].
    pub fn verify(&self, check: &ReceiptCheck) -> Result<ReceiptSummary, ReceiptError> {
        signing::verify_host_signature(
            &self.host_certificate,
            &host_message(&self.host_certificate, &self.body_json),
            &self.host_signature,
        )?;
        let host_certificate = CertFingerprint::of_der(&self.host_certificate);
        if let Some(expected) = check.pinned
            && expected != host_certificate
        {
            return Err(ReceiptError::OtherHost {
                expected,
                found: host_certificate,
            });
        }
        if let Some(expected) = check.session
            && expected != self.body.session_id
        {
            return Err(ReceiptError::OtherSession {
                expected,
                found: self.body.session_id,
            });
        }
        let identity = self.helper_identity()?;
        let countersigned = match (&self.helper_signature, &identity) {
            (None, _) => false,
            (Some(_), None) => return Err(ReceiptError::CountersignedWithoutIdentity),
            (Some(signature), Some(identity)) => {
                if !identity.verify_helper_signature(&self.countersignature_message(), signature) {
                    return Err(ReceiptError::BadHelperSignature);
                }
                true
            }
        };
        if let Some(organisation) = check.organisation {
            let vouched = identity.as_ref().is_some_and(|identity| {
                identity
                    .check(&IdentityCheck {
                        at: self.body.approved_at,
                        trusted: &[organisation],
                        revoked: &[],
                    })
                    .is_ok()
            });
            if !vouched {
                return Err(ReceiptError::NotOrganisation(organisation));
            }
        }
        let audit_head = match &self.body.audit_head {
            None => None,
            Some(text) => Some(ChainHash::from_hex(text).ok_or_else(|| {
                ReceiptError::Malformed(format!("audit_head {text:?} is not a sha-256"))
            })?),
        };
        Ok(ReceiptSummary {
            host_certificate,
            countersigned,
            helper_identity: identity,
            audit_head,
        })
    }

    /// What the signatures cover.
    pub fn body(&self) -> &ReceiptBody {
        &self.body
    }

    /// The DER certificate whose key signed the receipt.
    pub fn host_certificate(&self) -> &[u8] {
        &self.host_certificate
    }

    /// Whether the helper countersigned it (not checked; see
    /// [`ConsentReceipt::verify`]).
    pub fn is_countersigned(&self) -> bool {
        self.helper_signature.is_some()
    }

    /// The helper's identity the body holds, read (its organisation's
    /// signature checked).
    ///
    /// # Errors
    /// [`ReceiptError::Identity`] when it cannot be read.
    pub fn helper_identity(&self) -> Result<Option<HelperIdentity>, ReceiptError> {
        self.body
            .helper_identity
            .as_deref()
            .map(HelperIdentity::parse)
            .transpose()
            .map_err(ReceiptError::Identity)
    }
}

/// What the host signs: the context, its certificate's fingerprint (so the
/// certificate the receipt carries is covered too, not only its key) and
/// the body.
fn host_message(certificate: &[u8], body_json: &str) -> Vec<u8> {
    let mut message = HOST_SIGNATURE_CONTEXT.to_vec();
    message.extend_from_slice(CertFingerprint::of_der(certificate).as_bytes());
    message.extend_from_slice(body_json.as_bytes());
    message
}

fn malformed(e: serde_json::Error) -> ReceiptError {
    ReceiptError::Malformed(e.to_string())
}

#[cfg(all(test, feature = "runtime"))]
mod tests;
