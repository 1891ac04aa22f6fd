//! Organisation-signed helper identities: who is helping, vouched for by the
//! organisation that employs them.
//!
//! An organisation has an Ed25519 key pair ([`OrgKeyPair`], its public half
//! an [`OrgPublicKey`] written `raorg1-…`). It issues each helper a
//! [`HelperCredential`]: a key pair of the helper's own and a
//! [`HelperIdentity`] — a small, versioned text document (organisation name
//! and key, helper name and public key, not-before and not-after) signed by
//! the organisation's key. The helper shows the identity to a host and
//! proves it holds the key by signing what the host asks
//! ([`HelperCredential::sign`]); the host checks the document against the
//! organisations it trusts, the helpers it revoked and the time
//! ([`HelperIdentity::check`]).
//!
//! The documents are parsed strictly: one version, every field once in a
//! fixed order, names of 1 to [`MAX_NAME_CHARS`] printable characters,
//! [`MAX_DOCUMENT_BYTES`] at most. Nothing here does I/O: the texts are
//! read and written by the caller.

mod document;
mod keys;

pub use document::{HelperIdentity, IdentityCheck, SIGNATURE_CONTEXT};
pub use keys::{HelperCredential, HelperPublicKey, OrgKeyPair, OrgPublicKey};

use std::time::SystemTime;

/// The most characters a name (organisation or helper) may have.
pub const MAX_NAME_CHARS: usize = 64;
/// The largest identity document, credential or organisation key file, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 4096;

/// Why an identity, a credential or a key could not be read, made or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Longer than [`MAX_DOCUMENT_BYTES`].
    #[error("too large: {0} bytes (at most {MAX_DOCUMENT_BYTES})")]
    TooLarge(usize),
    /// Not a document of this kind, or of another version.
    #[error("not a {expected} document of version 1 (it starts with {found:?})")]
    Version {
        /// What was expected.
        expected: &'static str,
        /// The first line found (cut to 40 characters).
        found: String,
    },
    /// A line is missing, out of place or unreadable.
    #[error("line {line}: {reason}")]
    Malformed {
        /// The line (from 1).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A name is empty, too long, or holds control characters.
    #[error("invalid name {0:?}: 1 to 64 printable characters")]
    Name(String),
    /// A public key is not `raorg1-`/`rahelper1-` and 64 hexadecimal digits.
    #[error("invalid {kind} key {text:?}")]
    Key {
        /// Which kind of key.
        kind: &'static str,
        /// What was found (cut to 80 characters).
        text: String,
    },
    /// A private key cannot be used.
    #[error("invalid private key: {0}")]
    PrivateKey(String),
    /// The signature is not the organisation's over this document.
    #[error("the signature does not verify: not signed by {0}, or altered")]
    BadSignature(OrgPublicKey),
    /// The validity period is empty or too long.
    #[error("invalid validity: not-after must follow not-before")]
    Validity,
    /// Not valid yet.
    #[error("not valid before {}", humantime::format_rfc3339_seconds(*.0))]
    NotYetValid(SystemTime),
    /// Expired.
    #[error("expired at {}", humantime::format_rfc3339_seconds(*.0))]
    Expired(SystemTime),
    /// Signed by an organisation the host does not trust.
    #[error("issued by {organisation} ({key}), an organisation this host does not trust")]
    UntrustedOrganisation {
        /// The organisation's name as the document gives it.
        organisation: String,
        /// Its key.
        key: OrgPublicKey,
    },
    /// The helper's key was revoked by the host's policy.
    #[error("the helper's key {0} is revoked")]
    Revoked(HelperPublicKey),
    /// The key pair could not be generated (the system's randomness failed).
    #[error("cannot generate a key pair")]
    Generate,
}
