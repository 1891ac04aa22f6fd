//! Invitations: what a host hands to a helper so the helper can find and
//! authenticate it — never the password, which is told separately.
//!
//! An [`Invitation`] carries the session id, the host's name, the addresses it
//! listens on, the SHA-256 fingerprint of its TLS certificate and the validity
//! period. It travels in three forms:
//!
//! - a small, versioned **text file** ([`Invitation::to_file_string`],
//!   [`Invitation::parse_file`], [`Invitation::save`], [`Invitation::load`]),
//!   the `.rainv` file of Windows Remote Assistance's invitation flow;
//! - a one-line **token** for copy-paste, `ra1-…` ([`Invitation::to_token`],
//!   [`Invitation::from_token`]);
//! - an **email**: an RFC 5322 message with the file attached and the token in
//!   the text ([`Invitation::to_email`]), or a `mailto:` URI
//!   ([`Invitation::mailto_uri`]).
//!
//! Every reader is strict and size-limited, and checks the same rules as
//! [`Invitation::validate`].
//!
//! The file format (blank lines and `#` comments are ignored, CRLF is accepted,
//! every key but `address` appears exactly once, `address` 1 to 16 times):
//!
//! ```text
//! # ra remote-assistance invitation. Open it with an ra helper program.
//! # The password is not in this file: the person who invited you tells it to you.
//! ra-invitation: 1
//! session-id: 000102030405060708090a0b0c0d0e0f
//! host-name: Alice's laptop
//! address: 192.168.1.20:49152
//! address: [::1]:49152
//! fingerprint: sha256:5f0c…(64 hexadecimal digits)
//! created: 2026-11-25T09:00:00Z
//! expires: 2026-11-25T15:00:00Z
//! ```
//!
//! A host with a broker adds its rendezvous (all three keys or none): the
//! helper that cannot reach any address claims the lookup part through that
//! broker, then connects by hole punching or through the broker's relay,
//! exactly as the short-code flows do. The password and the pinned
//! certificate still authenticate the host end to end; the broker sees only
//! the lookup part.
//!
//! ```text
//! rendezvous-lookup: K7M2QX
//! rendezvous-broker: 203.0.113.1:4433
//! rendezvous-broker-fingerprint: sha256:9a41…(64 hexadecimal digits)
//! ```
//!
//! The module is split by concern: `ids` (session ids and certificate
//! fingerprints), `rules` (the field rules every reader checks), `file`
//! (the text file and its I/O), `token` and `email`.

mod email;
mod file;
mod ids;
mod rules;
mod token;

pub use email::EmailOptions;
pub(crate) use file::write_atomically;
pub use ids::{CertFingerprint, ParseIdError, SessionId};

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rules::{
    check_address, check_address_count, check_host_name, check_times, format_time, unix_secs,
};

/// The invitation format version this build writes and reads.
pub const INVITATION_VERSION: u32 = 1;
/// Largest invitation file accepted, in bytes.
pub const MAX_INVITATION_FILE_SIZE: usize = 16 * 1024;
/// Largest invitation token accepted, in characters (whitespace not counted).
pub const MAX_TOKEN_LEN: usize = 4096;
/// The prefix of an invitation token (token format version 1).
pub const TOKEN_PREFIX: &str = "ra1-";
/// Longest host name, in characters.
pub const MAX_HOST_NAME_CHARS: usize = 64;
/// Most addresses an invitation lists.
pub const MAX_ADDRESSES: usize = 16;
/// The file name used for an invitation attached to an email.
pub const INVITATION_FILE_NAME: &str = "invitation.rainv";
/// The media type of an invitation file.
pub const INVITATION_MEDIA_TYPE: &str = "application/x-ra-invitation";

/// 9999-12-31T23:59:59Z, the last second an RFC 3339 timestamp can name.
const MAX_UNIX_SECS: u64 = 253_402_300_799;
/// Longest email address accepted by [`Invitation::to_email`].
const MAX_EMAIL_ADDRESS_LEN: usize = 254;

/// Why an invitation token was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Nothing was pasted.
    #[error("the token is empty")]
    Empty,
    /// Far longer than any invitation token.
    #[error("the token is too long: {len} characters (at most {max})")]
    TooLong {
        /// Characters found (whitespace not counted).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Does not start with `ra1-`.
    #[error("it does not start with `{TOKEN_PREFIX}`; is it an ra invitation token?")]
    BadPrefix,
    /// The part after the prefix is not base64url.
    #[error("invalid character or length at position {position} (is the token complete?)")]
    BadBase64 {
        /// 1-based position in the token, prefix included.
        position: usize,
    },
    /// The decoded bytes are not an invitation message.
    #[error("the token does not hold an invitation: {0}")]
    BadProtobuf(#[from] prost::DecodeError),
    /// The message has unknown fields or is not encoded as ra encodes it.
    #[error("the token holds unknown or non-canonical fields")]
    NonCanonical,
    /// A field has an invalid value.
    #[error("invalid {field}: {message}")]
    InvalidField {
        /// The field's name in the token.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// Why an invitation could not be read, written or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvitationError {
    /// Reading or writing the file failed.
    #[error("cannot access invitation file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is larger than [`MAX_INVITATION_FILE_SIZE`].
    #[error("invitation file is too large: {size} bytes (at most {max})")]
    TooLarge {
        /// Size of the file in bytes (or a lower bound of it).
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The file is not UTF-8 text.
    #[error("invitation file is not UTF-8 text (line {line})")]
    NotUtf8 {
        /// 1-based line of the first invalid byte.
        line: usize,
    },
    /// A line of the file is wrong: unknown or duplicate key, bad value, …
    #[error("invitation file line {line}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A required key is absent from the file.
    #[error("invitation file: missing key `{key}`")]
    MissingKey {
        /// The key.
        key: &'static str,
    },
    /// Made by a newer (or unknown) version of ra.
    #[error("unsupported invitation version {version} (this program reads version {supported})")]
    UnsupportedVersion {
        /// The version found.
        version: u32,
        /// The version this program reads.
        supported: u32,
    },
    /// The token is malformed.
    #[error("invalid invitation token: {0}")]
    Token(#[from] TokenError),
    /// The invitation breaks a rule of [`Invitation::validate`].
    #[error("invalid invitation: {0}")]
    Invalid(String),
    /// The invitation is no longer valid.
    #[error("the invitation expired at {}", format_time(*expires_at))]
    Expired {
        /// When it expired.
        expires_at: SystemTime,
    },
    /// The email could not be built (bad address or subject).
    #[error("cannot build the invitation email: {0}")]
    Email(String),
}

/// Where a helper that cannot reach the host's addresses finds it: a
/// broker, how to recognise it, and the lookup part the host registered
/// there (never a secret: the broker sees it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendezvous {
    /// The lookup part the host waits under.
    pub lookup: crate::code::Lookup,
    /// The broker's QUIC address.
    pub broker: SocketAddr,
    /// The SHA-256 fingerprint of the broker's certificate.
    pub broker_fingerprint: CertFingerprint,
}

/// An invitation to help: how to reach and authenticate a host.
///
/// Build one with [`Invitation::new`]; the fields are public for readers, and
/// [`Invitation::validate`] checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Format version ([`INVITATION_VERSION`]).
    pub version: u32,
    /// The session this invitation opens.
    pub session_id: SessionId,
    /// The host's name as shown to the helper (1–64 characters, no control characters).
    pub host_name: String,
    /// Where the host listens (1–16 addresses).
    pub addresses: Vec<SocketAddr>,
    /// The SHA-256 fingerprint of the host's TLS certificate.
    pub fingerprint: CertFingerprint,
    /// When the invitation was made (whole seconds).
    pub created_at: SystemTime,
    /// When it stops being valid (whole seconds, after `created_at`).
    pub expires_at: SystemTime,
    /// Where to find the host through a broker when no address answers
    /// (behind a NAT or a firewall); `None` without a broker.
    pub rendezvous: Option<Rendezvous>,
}

impl Invitation {
    /// A new invitation made at `now`, valid for `lifetime` (cap it first with
    /// [`crate::policy::Policy::cap_lifetime`]).
    ///
    /// Both times are rounded down to whole seconds, so that the file and token
    /// forms give back exactly this invitation. The result is validated.
    pub fn new(
        session_id: SessionId,
        host_name: impl Into<String>,
        addresses: Vec<SocketAddr>,
        fingerprint: CertFingerprint,
        now: SystemTime,
        lifetime: Duration,
    ) -> Result<Self, InvitationError> {
        let created_secs = unix_secs(now).map_err(InvitationError::Invalid)?;
        let expires_secs = created_secs
            .checked_add(lifetime.as_secs())
            .filter(|s| *s <= MAX_UNIX_SECS)
            .ok_or_else(|| InvitationError::Invalid("the lifetime is too long".into()))?;
        let invitation = Self {
            version: INVITATION_VERSION,
            session_id,
            host_name: host_name.into(),
            addresses,
            fingerprint,
            created_at: UNIX_EPOCH + Duration::from_secs(created_secs),
            expires_at: UNIX_EPOCH + Duration::from_secs(expires_secs),
            rendezvous: None,
        };
        invitation.validate()?;
        Ok(invitation)
    }

    /// The invitation with a rendezvous through a broker.
    pub fn with_rendezvous(mut self, rendezvous: Rendezvous) -> Self {
        self.rendezvous = Some(rendezvous);
        self
    }

    /// Checks the rules every invitation follows: a supported version, a host
    /// name of 1–64 characters without control characters (nor leading or
    /// trailing whitespace), 1–16 connectable addresses, and an expiry after the
    /// creation time (both between 1970 and 9999).
    pub fn validate(&self) -> Result<(), InvitationError> {
        if self.version != INVITATION_VERSION {
            return Err(InvitationError::UnsupportedVersion {
                version: self.version,
                supported: INVITATION_VERSION,
            });
        }
        check_host_name(&self.host_name).map_err(InvitationError::Invalid)?;
        check_address_count(self.addresses.len()).map_err(InvitationError::Invalid)?;
        for address in &self.addresses {
            check_address(address).map_err(InvitationError::Invalid)?;
        }
        check_times(self.created_at, self.expires_at).map_err(InvitationError::Invalid)?;
        if let Some(rendezvous) = &self.rendezvous {
            check_address(&rendezvous.broker)
                .map_err(|m| InvitationError::Invalid(format!("rendezvous broker: {m}")))?;
        }
        Ok(())
    }

    /// Whether the invitation has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        now >= self.expires_at
    }

    /// How long the invitation stays valid after `now`; `None` once expired.
    pub fn remaining(&self, now: SystemTime) -> Option<Duration> {
        self.expires_at
            .duration_since(now)
            .ok()
            .filter(|d| !d.is_zero())
    }

    /// [`validate`](Self::validate), then checks that the invitation has not
    /// expired at `now`.
    pub fn check_usable(&self, now: SystemTime) -> Result<(), InvitationError> {
        self.validate()?;
        if self.is_expired(now) {
            return Err(InvitationError::Expired {
                expires_at: self.expires_at,
            });
        }
        Ok(())
    }
}

/// What the tests of every part share: a sample invitation and its time.
#[cfg(test)]
pub(crate) mod testing {
    use std::time::{Duration, UNIX_EPOCH};

    use super::{CertFingerprint, Invitation, SessionId};

    pub(crate) const T0: u64 = 1_795_597_200; // 2026-11-25T09:00:00Z

    /// The sample with a rendezvous through a broker.
    pub(crate) fn sample_with_rendezvous() -> Invitation {
        sample().with_rendezvous(super::Rendezvous {
            lookup: crate::code::Lookup::parse("K7M2QX").unwrap(),
            broker: "203.0.113.1:4433".parse().unwrap(),
            broker_fingerprint: CertFingerprint::of_der(b"broker"),
        })
    }

    pub(crate) fn sample() -> Invitation {
        Invitation::new(
            SessionId(*b"0123456789abcdef"),
            "Alice's laptop",
            vec![
                "192.168.1.20:49152".parse().unwrap(),
                "[::1]:49152".parse().unwrap(),
            ],
            CertFingerprint::of_der(b"certificate"),
            UNIX_EPOCH + Duration::from_millis(T0 * 1000 + 999),
            Duration::from_secs(6 * 3600),
        )
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invitation::testing::{T0, sample};
    use std::net::Ipv4Addr;

    #[test]
    fn new_rounds_down_and_validates() {
        let inv = sample();
        assert_eq!(inv.version, INVITATION_VERSION);
        assert_eq!(inv.created_at, UNIX_EPOCH + Duration::from_secs(T0));
        assert_eq!(
            inv.expires_at,
            UNIX_EPOCH + Duration::from_secs(T0 + 6 * 3600)
        );
        assert!(inv.validate().is_ok());

        let make = |name: &str, addresses: Vec<SocketAddr>, lifetime: u64| {
            Invitation::new(
                SessionId([0; 16]),
                name,
                addresses,
                CertFingerprint([0; 32]),
                UNIX_EPOCH + Duration::from_secs(T0),
                Duration::from_secs(lifetime),
            )
        };
        let one = vec!["10.0.0.1:1".parse().unwrap()];
        assert!(make("h", one.clone(), 1).is_ok());
        assert!(make(&"x".repeat(64), one.clone(), 1).is_ok());
        assert!(make(&"é".repeat(64), one.clone(), 1).is_ok());
        for bad in ["", " lead", "trail ", "a\nb", "a\u{202E}b", &"x".repeat(65)] {
            assert!(
                matches!(make(bad, one.clone(), 60), Err(InvitationError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            make("h", vec![], 60),
            Err(InvitationError::Invalid(_))
        ));
        let many: Vec<SocketAddr> = (1..=17)
            .map(|p| SocketAddr::new(Ipv4Addr::LOCALHOST.into(), p))
            .collect();
        assert!(make("h", many[..16].to_vec(), 60).is_ok());
        assert!(matches!(
            make("h", many, 60),
            Err(InvitationError::Invalid(_))
        ));
        for bad in ["0.0.0.0:5", "[::]:5", "10.0.0.1:0", "224.0.0.1:5"] {
            assert!(make("h", vec![bad.parse().unwrap()], 60).is_err(), "{bad}");
        }
        // A lifetime under one second gives expires == created.
        assert!(matches!(
            make("h", one.clone(), 0),
            Err(InvitationError::Invalid(_))
        ));
        assert!(make("h", one.clone(), u64::MAX).is_err());

        let mut inv = sample();
        inv.version = 2;
        assert!(matches!(
            inv.validate(),
            Err(InvitationError::UnsupportedVersion {
                version: 2,
                supported: 1
            })
        ));
        let mut inv = sample();
        inv.expires_at = inv.created_at;
        assert!(inv.validate().is_err());
        inv.expires_at = UNIX_EPOCH - Duration::from_secs(1);
        assert!(inv.validate().is_err());
        // Formatting an invalid invitation never panics.
        let _ = inv.to_file_string();
        let _ = inv.to_token();
    }

    #[test]
    fn expiry() {
        let inv = sample();
        let t = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        assert!(!inv.is_expired(t(T0)));
        assert_eq!(inv.remaining(t(T0)), Some(Duration::from_secs(6 * 3600)));
        assert_eq!(
            inv.remaining(t(T0 + 6 * 3600 - 1)),
            Some(Duration::from_secs(1))
        );
        assert!(inv.check_usable(t(T0 + 60)).is_ok());
        assert!(inv.is_expired(t(T0 + 6 * 3600)));
        assert_eq!(inv.remaining(t(T0 + 6 * 3600)), None);
        assert_eq!(inv.remaining(t(T0 + 7 * 3600)), None);
        let err = inv.check_usable(t(T0 + 7 * 3600)).unwrap_err();
        assert!(matches!(err, InvitationError::Expired { .. }));
        assert_eq!(
            err.to_string(),
            "the invitation expired at 2026-11-25T15:00:00Z"
        );
    }
}
