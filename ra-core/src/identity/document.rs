//! The signed identity document and the strict reader all the files share.
//!
//! ```text
//! ra-helper-identity 1
//! organisation: Contoso IT
//! organisation-key: raorg1-…
//! helper: Jane Doe
//! helper-key: rahelper1-…
//! not-before: 2026-12-07T09:00:00Z
//! not-after: 2027-01-06T09:00:00Z
//! signature: <base64 Ed25519 signature>
//! ```
//!
//! The signature is the organisation key's over [`SIGNATURE_CONTEXT`] and
//! the seven lines before it, each with its line break.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use data_encoding::BASE64;
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};

use super::keys::{HelperPublicKey, OrgPublicKey};
use super::{IdentityError, MAX_DOCUMENT_BYTES, MAX_NAME_CHARS};

/// The first line of an identity document.
const IDENTITY_HEADER: &str = "ra-helper-identity 1";
/// What the organisation's signature covers before the document's lines, so
/// that it can never be taken for a signature of anything else.
pub const SIGNATURE_CONTEXT: &[u8] = b"ra helper identity signature v1\0";
/// The fields, in their order.
const FIELDS: [&str; 7] = [
    "organisation",
    "organisation-key",
    "helper",
    "helper-key",
    "not-before",
    "not-after",
    "signature",
];

/// A name as the documents hold it: trimmed, 1 to [`MAX_NAME_CHARS`]
/// characters, none of them a control, bidirectional or zero-width
/// character ([`crate::text::is_unsafe_char`]).
pub(super) fn check_name(name: &str) -> Result<String, IdentityError> {
    let trimmed = name.trim();
    let count = trimmed.chars().count();
    if count == 0 || count > MAX_NAME_CHARS || trimmed.chars().any(crate::text::is_unsafe_char) {
        return Err(IdentityError::Name(name.chars().take(80).collect()));
    }
    Ok(trimmed.to_owned())
}

/// The values of a document's `name: value` lines after its `header` line:
/// exactly `names`, in that order, one a line, nothing else (the last line
/// break may be missing; carriage returns are not allowed).
pub(super) fn fields<'a>(
    text: &'a str,
    header: &str,
    kind: &'static str,
    names: &[&str],
) -> Result<Vec<&'a str>, IdentityError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(IdentityError::TooLarge(text.len()));
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut lines = body.split('\n');
    let first = lines.next().unwrap_or_default();
    if first != header {
        return Err(IdentityError::Version {
            expected: kind,
            found: first.chars().take(40).collect(),
        });
    }
    let mut values = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let line = i + 2;
        let text = lines.next().ok_or_else(|| IdentityError::Malformed {
            line,
            reason: format!("missing \"{name}: …\" (the document is cut short)"),
        })?;
        let value = text
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(": "))
            .ok_or_else(|| IdentityError::Malformed {
                line,
                reason: format!("expected \"{name}: …\""),
            })?;
        if value.contains('\r') {
            return Err(IdentityError::Malformed {
                line,
                reason: "a carriage return".into(),
            });
        }
        values.push(value);
    }
    if lines.next().is_some() {
        return Err(IdentityError::Malformed {
            line: names.len() + 2,
            reason: "more lines than the document has".into(),
        });
    }
    Ok(values)
}

/// A time as the documents write it (RFC 3339, UTC, seconds).
fn write_time(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

fn read_time(text: &str, line: usize) -> Result<SystemTime, IdentityError> {
    humantime::parse_rfc3339(text).map_err(|e| IdentityError::Malformed {
        line,
        reason: format!("invalid time {text:?}: {e}"),
    })
}

/// What a host checks an identity against.
#[derive(Debug, Clone, Copy)]
pub struct IdentityCheck<'a> {
    /// The time to check the validity period at.
    pub at: SystemTime,
    /// The organisations trusted to vouch for helpers.
    pub trusted: &'a [OrgPublicKey],
    /// Helpers' keys no longer trusted.
    pub revoked: &'a [HelperPublicKey],
}

/// A helper's identity as its organisation signed it. Every value held
/// was read from a document whose signature verified.
#[derive(Clone, PartialEq, Eq)]
pub struct HelperIdentity {
    organisation: String,
    organisation_key: OrgPublicKey,
    helper: String,
    helper_key: HelperPublicKey,
    not_before: SystemTime,
    not_after: SystemTime,
    signature: [u8; 64],
}

impl fmt::Debug for HelperIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HelperIdentity")
            .field("organisation", &self.organisation)
            .field("organisation_key", &self.organisation_key)
            .field("helper", &self.helper)
            .field("helper_key", &self.helper_key)
            .field("not_before", &write_time(self.not_before))
            .field("not_after", &write_time(self.not_after))
            .finish_non_exhaustive()
    }
}

impl HelperIdentity {
    /// Signs a new identity with the organisation's key pair.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn sign(
        org: &Ed25519KeyPair,
        organisation: &str,
        organisation_key: OrgPublicKey,
        helper: &str,
        helper_key: HelperPublicKey,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Self, IdentityError> {
        // Whole seconds: what the document can say.
        let seconds = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map(|d| UNIX_EPOCH + Duration::from_secs(d.as_secs()))
                .map_err(|_| IdentityError::Validity)
        };
        let (not_before, not_after) = (seconds(not_before)?, seconds(not_after)?);
        if not_after <= not_before {
            return Err(IdentityError::Validity);
        }
        let mut identity = HelperIdentity {
            organisation: check_name(organisation)?,
            organisation_key,
            helper: check_name(helper)?,
            helper_key,
            not_before,
            not_after,
            signature: [0; 64],
        };
        let signed = identity.signed_message();
        identity
            .signature
            .copy_from_slice(org.sign(&signed).as_ref());
        Ok(identity)
    }

    /// The lines the signature covers, after the context.
    fn signed_lines(&self) -> String {
        format!(
            "{IDENTITY_HEADER}\norganisation: {}\norganisation-key: {}\nhelper: {}\n\
             helper-key: {}\nnot-before: {}\nnot-after: {}\n",
            self.organisation,
            self.organisation_key,
            self.helper,
            self.helper_key,
            write_time(self.not_before),
            write_time(self.not_after),
        )
    }

    fn signed_message(&self) -> Vec<u8> {
        [SIGNATURE_CONTEXT, self.signed_lines().as_bytes()].concat()
    }

    /// The document's text.
    pub fn to_text(&self) -> String {
        format!(
            "{}signature: {}\n",
            self.signed_lines(),
            BASE64.encode(&self.signature)
        )
    }

    /// Reads a document and verifies its signature against the
    /// organisation key it names (whether that organisation is trusted is
    /// [`HelperIdentity::check`]'s question).
    ///
    /// # Errors
    /// [`IdentityError::TooLarge`], [`IdentityError::Version`],
    /// [`IdentityError::Malformed`], [`IdentityError::Name`],
    /// [`IdentityError::Key`], [`IdentityError::Validity`],
    /// [`IdentityError::BadSignature`].
    pub fn parse(text: &str) -> Result<Self, IdentityError> {
        let values = fields(text, IDENTITY_HEADER, "helper identity", &FIELDS)?;
        let signature = BASE64
            .decode(values[6].as_bytes())
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .ok_or_else(|| IdentityError::Malformed {
                line: 8,
                reason: "the signature is not 64 bytes of base64".into(),
            })?;
        let identity = HelperIdentity {
            organisation: check_name(values[0])?,
            organisation_key: values[1].parse()?,
            helper: check_name(values[2])?,
            helper_key: values[3].parse()?,
            not_before: read_time(values[4], 6)?,
            not_after: read_time(values[5], 7)?,
            signature,
        };
        if identity.not_after <= identity.not_before {
            return Err(IdentityError::Validity);
        }
        let key = UnparsedPublicKey::new(&ED25519, identity.organisation_key.0);
        key.verify(&identity.signed_message(), &identity.signature)
            .map_err(|_| IdentityError::BadSignature(identity.organisation_key))?;
        // What was read must be what is signed, byte for byte (names with
        // surrounding spaces, times written another way are refused).
        if identity.to_text() != format!("{}\n", text.strip_suffix('\n').unwrap_or(text)) {
            return Err(IdentityError::Malformed {
                line: 1,
                reason: "not in the canonical form (spaces around a name, or a time \
                         written otherwise)"
                    .into(),
            });
        }
        Ok(identity)
    }

    /// Whether a host should take this helper as verified: issued by a
    /// trusted organisation, not revoked, valid at `check.at`.
    ///
    /// # Errors
    /// [`IdentityError::UntrustedOrganisation`], [`IdentityError::Revoked`],
    /// [`IdentityError::NotYetValid`], [`IdentityError::Expired`].
    pub fn check(&self, check: &IdentityCheck<'_>) -> Result<(), IdentityError> {
        if !check.trusted.contains(&self.organisation_key) {
            return Err(IdentityError::UntrustedOrganisation {
                organisation: self.organisation.clone(),
                key: self.organisation_key,
            });
        }
        if check.revoked.contains(&self.helper_key) {
            return Err(IdentityError::Revoked(self.helper_key));
        }
        if check.at < self.not_before {
            return Err(IdentityError::NotYetValid(self.not_before));
        }
        if check.at >= self.not_after {
            return Err(IdentityError::Expired(self.not_after));
        }
        Ok(())
    }

    /// Whether `signature` is the helper key's over `message`.
    pub fn verify_helper_signature(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, self.helper_key.0)
            .verify(message, signature)
            .is_ok()
    }

    /// The organisation's name.
    pub fn organisation(&self) -> &str {
        &self.organisation
    }

    /// The organisation's key.
    pub fn organisation_key(&self) -> OrgPublicKey {
        self.organisation_key
    }

    /// The helper's name.
    pub fn helper(&self) -> &str {
        &self.helper
    }

    /// The helper's key (its key id).
    pub fn helper_key(&self) -> HelperPublicKey {
        self.helper_key
    }

    /// From when it is valid.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// Until when it is valid.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }
}
