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

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use data_encoding::{BASE64URL_NOPAD, HEXLOWER, HEXLOWER_PERMISSIVE};
use mail_builder::MessageBuilder;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use prost::Message as _;
use rand_core::{CryptoRng, OsRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::proto::InvitationToken;

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

/// Why a session id or fingerprint could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseIdError {
    /// Not the right number of hexadecimal digits.
    #[error("expected {expected} hexadecimal digits, found {found}")]
    WrongLength {
        /// Digits expected.
        expected: usize,
        /// Characters found.
        found: usize,
    },
    /// A character that is not a hexadecimal digit.
    #[error("invalid hexadecimal digit at position {position}")]
    NotHex {
        /// 1-based position of the character (after any prefix).
        position: usize,
    },
    /// A fingerprint without its `sha256:` prefix.
    #[error("expected the `sha256:` prefix")]
    MissingPrefix,
    /// Binary form of the wrong size.
    #[error("expected {expected} bytes, found {found}")]
    WrongByteLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
}

fn decode_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseIdError> {
    if s.len() != 2 * N {
        return Err(ParseIdError::WrongLength {
            expected: 2 * N,
            found: s.chars().count(),
        });
    }
    let mut out = [0u8; N];
    match HEXLOWER_PERMISSIVE.decode_mut(s.as_bytes(), &mut out) {
        Ok(_) => Ok(out),
        Err(partial) => Err(ParseIdError::NotHex {
            position: partial.error.position + 1,
        }),
    }
}

fn bytes_array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], ParseIdError> {
    <[u8; N]>::try_from(bytes).map_err(|_| ParseIdError::WrongByteLength {
        expected: N,
        found: bytes.len(),
    })
}

/// A session's random 128-bit identifier, written as 32 lowercase hexadecimal
/// digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub [u8; 16]);

impl SessionId {
    /// Length in bytes.
    pub const LEN: usize = 16;

    /// Draws a new session id from a cryptographically secure generator.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = [0u8; Self::LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Draws a new session id from the operating system's generator.
    ///
    /// # Panics
    ///
    /// Only if the operating system cannot provide random bytes at all.
    pub fn generate_random() -> Self {
        Self::generate(&mut OsRng)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl TryFrom<&[u8]> for SessionId {
    type Error = ParseIdError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        bytes_array(bytes).map(Self)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&HEXLOWER.encode(&self.0))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl FromStr for SessionId {
    type Err = ParseIdError;

    /// Reads 32 hexadecimal digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        decode_hex(s).map(Self)
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The SHA-256 fingerprint of a host's DER-encoded TLS certificate, written
/// `sha256:` and 64 lowercase hexadecimal digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertFingerprint(pub [u8; 32]);

impl CertFingerprint {
    /// Length in bytes.
    pub const LEN: usize = 32;
    /// The prefix of the written form.
    pub const PREFIX: &'static str = "sha256:";

    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Whether `der` is the certificate this fingerprint names.
    pub fn matches_der(&self, der: &[u8]) -> bool {
        *self == Self::of_der(der)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl TryFrom<&[u8]> for CertFingerprint {
    type Error = ParseIdError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        bytes_array(bytes).map(Self)
    }
}

impl fmt::Display for CertFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, HEXLOWER.encode(&self.0))
    }
}

impl fmt::Debug for CertFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertFingerprint({self})")
    }
}

impl FromStr for CertFingerprint {
    type Err = ParseIdError;

    /// Reads `sha256:` followed by 64 hexadecimal digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .strip_prefix(Self::PREFIX)
            .ok_or(ParseIdError::MissingPrefix)?;
        decode_hex(hex).map(Self)
    }
}

impl Serialize for CertFingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CertFingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

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

/// Recipients and subject of an invitation email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailOptions {
    /// The sender's address (`alice@example.com`).
    pub from: String,
    /// The recipients' addresses; may be empty to produce a draft.
    pub to: Vec<String>,
    /// The subject; `None` for "Remote assistance invitation from `<host name>`".
    pub subject: Option<String>,
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
}

// ---- field rules, shared by validate(), the file parser and the token reader ----

fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

fn check_host_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 {
        return Err("the host name is empty".into());
    }
    if chars > MAX_HOST_NAME_CHARS {
        return Err(format!(
            "the host name has {chars} characters (at most {MAX_HOST_NAME_CHARS})"
        ));
    }
    if let Some(c) = name.chars().find(|c| is_forbidden_char(*c)) {
        return Err(format!(
            "the host name contains the control character U+{:04X}",
            u32::from(c)
        ));
    }
    if name.trim() != name {
        return Err("the host name starts or ends with whitespace".into());
    }
    Ok(())
}

fn check_address(address: &SocketAddr) -> Result<(), String> {
    let ip = address.ip();
    if address.port() == 0 {
        Err(format!("address {address} has no port"))
    } else if ip.is_unspecified() || ip.is_multicast() {
        Err(format!("address {address} cannot be connected to"))
    } else {
        Ok(())
    }
}

fn check_address_count(count: usize) -> Result<(), String> {
    if count == 0 {
        Err("the invitation lists no address".into())
    } else if count > MAX_ADDRESSES {
        Err(format!(
            "the invitation lists {count} addresses (at most {MAX_ADDRESSES})"
        ))
    } else {
        Ok(())
    }
}

/// Seconds since the Unix epoch, if the time can be written in RFC 3339.
fn unix_secs(time: SystemTime) -> Result<u64, String> {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) if d.as_secs() <= MAX_UNIX_SECS => Ok(d.as_secs()),
        Ok(_) => Err("a time is after the year 9999".into()),
        Err(_) => Err("a time is before 1970".into()),
    }
}

fn check_times(created: SystemTime, expires: SystemTime) -> Result<(), String> {
    unix_secs(created)?;
    unix_secs(expires)?;
    if expires <= created {
        return Err(format!(
            "it expires ({}) before or when it is created ({})",
            format_time(expires),
            format_time(created)
        ));
    }
    Ok(())
}

/// RFC 3339 in UTC at whole seconds; out-of-range times are clamped.
fn format_time(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs().min(MAX_UNIX_SECS),
        Err(_) => 0,
    };
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

fn parse_time(value: &str) -> Result<SystemTime, String> {
    let time = humantime::parse_rfc3339(value).map_err(|e| {
        format!(
            "invalid time `{}`: {e} (expected e.g. 2026-11-25T09:00:00Z)",
            shorten(value)
        )
    })?;
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) if d.subsec_nanos() == 0 => Ok(time),
        _ => Err(format!(
            "invalid time `{}`: times are whole seconds",
            shorten(value)
        )),
    }
}

/// A value quoted in an error message, cut to a readable length.
fn shorten(value: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = value
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if value.chars().count() > MAX {
        out.push('…');
    }
    out
}

fn syntax(line: usize, message: impl Into<String>) -> InvitationError {
    InvitationError::Syntax {
        line,
        message: message.into(),
    }
}

/// Rejects a second occurrence of a single-valued key.
fn check_first<T>(
    slot: &Option<(T, usize)>,
    key: &str,
    line: usize,
) -> Result<(), InvitationError> {
    match slot {
        Some((_, first)) => Err(syntax(
            line,
            format!("duplicate key `{key}` (first on line {first})"),
        )),
        None => Ok(()),
    }
}

fn required<T>(slot: Option<(T, usize)>, key: &'static str) -> Result<(T, usize), InvitationError> {
    slot.ok_or(InvitationError::MissingKey { key })
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over
/// `path`, so that a crash leaves either the old file or the new one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp = dir.join(format!(
        ".{}.{}-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
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
        };
        invitation.validate()?;
        Ok(invitation)
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
        check_times(self.created_at, self.expires_at).map_err(InvitationError::Invalid)
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

    // ---- file ----

    /// The invitation file's text (see the [module documentation](self)).
    ///
    /// Only an invitation that passes [`validate`](Self::validate) gives a file
    /// that [`parse_file`](Self::parse_file) reads back.
    pub fn to_file_string(&self) -> String {
        use std::fmt::Write as _;
        let host_name: String = self
            .host_name
            .chars()
            .map(|c| if is_forbidden_char(c) { '\u{FFFD}' } else { c })
            .collect();
        let mut out = String::with_capacity(512);
        out.push_str("# ra remote-assistance invitation. Open it with an ra helper program.\n");
        out.push_str(
            "# The password is not in this file: the person who invited you tells it to you.\n",
        );
        // Writing to a String cannot fail.
        let _ = writeln!(out, "ra-invitation: {}", self.version);
        let _ = writeln!(out, "session-id: {}", self.session_id);
        let _ = writeln!(out, "host-name: {host_name}");
        for address in &self.addresses {
            let _ = writeln!(out, "address: {address}");
        }
        let _ = writeln!(out, "fingerprint: {}", self.fingerprint);
        let _ = writeln!(out, "created: {}", format_time(self.created_at));
        let _ = writeln!(out, "expires: {}", format_time(self.expires_at));
        out
    }

    /// Reads an invitation file's bytes, strictly: at most
    /// [`MAX_INVITATION_FILE_SIZE`] bytes of UTF-8, the `ra-invitation` header
    /// first, known keys only, each once (`address` 1–16 times). Errors name the
    /// line. Blank lines, `#` comments, CRLF line ends and a leading byte-order
    /// mark are accepted.
    pub fn parse_file(bytes: &[u8]) -> Result<Self, InvitationError> {
        if bytes.len() > MAX_INVITATION_FILE_SIZE {
            return Err(InvitationError::TooLarge {
                size: bytes.len() as u64,
                max: MAX_INVITATION_FILE_SIZE as u64,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
            InvitationError::NotUtf8 {
                line: valid.iter().filter(|b| **b == b'\n').count() + 1,
            }
        })?;
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);

        let mut header_line: Option<usize> = None;
        let mut session_id: Option<(SessionId, usize)> = None;
        let mut host_name: Option<(String, usize)> = None;
        let mut addresses: Vec<SocketAddr> = Vec::new();
        let mut fingerprint: Option<(CertFingerprint, usize)> = None;
        let mut created: Option<(SystemTime, usize)> = None;
        let mut expires: Option<(SystemTime, usize)> = None;

        for (index, raw) in text.split('\n').enumerate() {
            let line = index + 1;
            let content = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = content.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(c) = content.chars().find(|c| c.is_control() && *c != '\t') {
                return Err(syntax(
                    line,
                    format!("control character U+{:04X}", u32::from(c)),
                ));
            }
            let Some((key, value)) = content.split_once(':') else {
                return Err(syntax(
                    line,
                    format!("expected `key: value`, found `{}`", shorten(trimmed)),
                ));
            };
            let (key, value) = (key.trim(), value.trim());

            let Some(first) = header_line else {
                if key != "ra-invitation" {
                    return Err(syntax(
                        line,
                        format!(
                            "expected the header `ra-invitation: {INVITATION_VERSION}`, found `{}`; is this an ra invitation file?",
                            shorten(trimmed)
                        ),
                    ));
                }
                let version: u32 = value
                    .parse()
                    .map_err(|_| syntax(line, format!("invalid version `{}`", shorten(value))))?;
                if version != INVITATION_VERSION {
                    return Err(InvitationError::UnsupportedVersion {
                        version,
                        supported: INVITATION_VERSION,
                    });
                }
                header_line = Some(line);
                continue;
            };

            match key {
                "ra-invitation" => {
                    return Err(syntax(
                        line,
                        format!("duplicate key `ra-invitation` (first on line {first})"),
                    ));
                }
                "session-id" => {
                    check_first(&session_id, key, line)?;
                    let id = value.parse().map_err(|e| {
                        syntax(
                            line,
                            format!("invalid session id `{}`: {e}", shorten(value)),
                        )
                    })?;
                    session_id = Some((id, line));
                }
                "host-name" => {
                    check_first(&host_name, key, line)?;
                    check_host_name(value).map_err(|m| syntax(line, m))?;
                    host_name = Some((value.to_owned(), line));
                }
                "address" => {
                    if addresses.len() == MAX_ADDRESSES {
                        return Err(syntax(
                            line,
                            format!("too many addresses (at most {MAX_ADDRESSES})"),
                        ));
                    }
                    let address: SocketAddr = value.parse().map_err(|_| {
                        syntax(
                            line,
                            format!(
                                "invalid address `{}` (expected an IP address and a port, e.g. 192.168.1.20:49152 or [::1]:49152)",
                                shorten(value)
                            ),
                        )
                    })?;
                    check_address(&address).map_err(|m| syntax(line, m))?;
                    addresses.push(address);
                }
                "fingerprint" => {
                    check_first(&fingerprint, key, line)?;
                    let fp = value.parse().map_err(|e| {
                        syntax(
                            line,
                            format!("invalid fingerprint `{}`: {e}", shorten(value)),
                        )
                    })?;
                    fingerprint = Some((fp, line));
                }
                "created" => {
                    check_first(&created, key, line)?;
                    let time = parse_time(value).map_err(|m| syntax(line, m))?;
                    created = Some((time, line));
                }
                "expires" => {
                    check_first(&expires, key, line)?;
                    let time = parse_time(value).map_err(|m| syntax(line, m))?;
                    expires = Some((time, line));
                }
                _ => {
                    return Err(syntax(line, format!("unknown key `{}`", shorten(key))));
                }
            }
        }

        if header_line.is_none() {
            return Err(syntax(
                1,
                format!(
                    "no `ra-invitation: {INVITATION_VERSION}` header; is this an ra invitation file?"
                ),
            ));
        }
        let (session_id, _) = required(session_id, "session-id")?;
        let (host_name, _) = required(host_name, "host-name")?;
        if addresses.is_empty() {
            return Err(InvitationError::MissingKey { key: "address" });
        }
        let (fingerprint, _) = required(fingerprint, "fingerprint")?;
        let (created_at, _) = required(created, "created")?;
        let (expires_at, expires_line) = required(expires, "expires")?;
        check_times(created_at, expires_at).map_err(|m| syntax(expires_line, m))?;

        let invitation = Self {
            version: INVITATION_VERSION,
            session_id,
            host_name,
            addresses,
            fingerprint,
            created_at,
            expires_at,
        };
        invitation.validate()?;
        Ok(invitation)
    }

    /// Validates the invitation, then writes its file to `path` through a
    /// temporary file and a rename, so a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), InvitationError> {
        self.validate()?;
        write_atomically(path, self.to_file_string().as_bytes()).map_err(|source| {
            InvitationError::Io {
                path: path.to_owned(),
                source,
            }
        })
    }

    /// Reads and parses an invitation file, refusing files larger than
    /// [`MAX_INVITATION_FILE_SIZE`] without reading them whole.
    pub fn load(path: &Path) -> Result<Self, InvitationError> {
        let io_error = |source| InvitationError::Io {
            path: path.to_owned(),
            source,
        };
        let max = MAX_INVITATION_FILE_SIZE as u64;
        let file = File::open(path).map_err(io_error)?;
        if let Ok(metadata) = file.metadata()
            && metadata.is_file()
            && metadata.len() > max
        {
            return Err(InvitationError::TooLarge {
                size: metadata.len(),
                max,
            });
        }
        let mut bytes = Vec::with_capacity(1024);
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        if bytes.len() as u64 > max {
            return Err(InvitationError::TooLarge {
                size: bytes.len() as u64,
                max,
            });
        }
        Self::parse_file(&bytes)
    }

    // ---- token ----

    /// The one-line copy-paste form: `ra1-` and the base64url (no padding) of
    /// the protobuf `InvitationToken`.
    ///
    /// Only an invitation that passes [`validate`](Self::validate) gives a token
    /// that [`from_token`](Self::from_token) reads back.
    pub fn to_token(&self) -> String {
        let secs = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        let message = InvitationToken {
            version: self.version,
            session_id: self.session_id.0.to_vec(),
            host_name: self.host_name.clone(),
            addresses: self.addresses.iter().map(ToString::to_string).collect(),
            fingerprint: self.fingerprint.0.to_vec(),
            created_unix: secs(self.created_at),
            expires_unix: secs(self.expires_at),
        };
        format!(
            "{TOKEN_PREFIX}{}",
            BASE64URL_NOPAD.encode(&message.encode_to_vec())
        )
    }

    /// Reads a token made by [`to_token`](Self::to_token). Whitespace (around it,
    /// or line breaks a mail program inserted) is ignored; everything else is
    /// strict and checked like a file.
    pub fn from_token(token: &str) -> Result<Self, InvitationError> {
        if token.len() > MAX_INVITATION_FILE_SIZE {
            return Err(TokenError::TooLong {
                len: token.chars().count(),
                max: MAX_TOKEN_LEN,
            }
            .into());
        }
        let compact: String = token.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err(TokenError::Empty.into());
        }
        if compact.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong {
                len: compact.chars().count(),
                max: MAX_TOKEN_LEN,
            }
            .into());
        }
        let payload = compact
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(TokenError::BadPrefix)?;
        let bytes =
            BASE64URL_NOPAD
                .decode(payload.as_bytes())
                .map_err(|e| TokenError::BadBase64 {
                    position: TOKEN_PREFIX.len() + e.position + 1,
                })?;
        let message = InvitationToken::decode(bytes.as_slice()).map_err(TokenError::from)?;
        if message.version != INVITATION_VERSION {
            return Err(InvitationError::UnsupportedVersion {
                version: message.version,
                supported: INVITATION_VERSION,
            });
        }
        if message.encode_to_vec() != bytes {
            return Err(TokenError::NonCanonical.into());
        }

        let invalid =
            |field: &'static str, message: String| TokenError::InvalidField { field, message };
        let session_id = SessionId::try_from(message.session_id.as_slice())
            .map_err(|e| invalid("session id", e.to_string()))?;
        check_host_name(&message.host_name).map_err(|m| invalid("host name", m))?;
        check_address_count(message.addresses.len()).map_err(|m| invalid("addresses", m))?;
        let mut addresses = Vec::with_capacity(message.addresses.len());
        for text in &message.addresses {
            let address: SocketAddr = text
                .parse()
                .map_err(|_| invalid("address", format!("`{}` is not IP:port", shorten(text))))?;
            check_address(&address).map_err(|m| invalid("address", m))?;
            addresses.push(address);
        }
        let fingerprint = CertFingerprint::try_from(message.fingerprint.as_slice())
            .map_err(|e| invalid("fingerprint", e.to_string()))?;
        let time = |field: &'static str, secs: u64| {
            if secs > MAX_UNIX_SECS {
                Err(invalid(field, "the time is after the year 9999".into()))
            } else {
                Ok(UNIX_EPOCH + Duration::from_secs(secs))
            }
        };
        let created_at = time("creation time", message.created_unix)?;
        let expires_at = time("expiry time", message.expires_unix)?;
        check_times(created_at, expires_at).map_err(|m| invalid("expiry time", m))?;

        let invitation = Self {
            version: INVITATION_VERSION,
            session_id,
            host_name: message.host_name,
            addresses,
            fingerprint,
            created_at,
            expires_at,
        };
        invitation.validate()?;
        Ok(invitation)
    }

    // ---- email ----

    fn default_subject(&self) -> String {
        format!("Remote assistance invitation from {}", self.host_name)
    }

    /// The text of an invitation email. Never contains the password (it is
    /// not an input).
    fn email_text(&self, token: &str, attachment: bool) -> String {
        let expires = format_time(self.expires_at);
        let how = if attachment {
            format!(
                "1. Open the attached file \"{INVITATION_FILE_NAME}\" with an ra helper\n   \
                 program, or paste this invitation token into the helper program:"
            )
        } else {
            "1. Paste this invitation token into an ra helper program:".to_owned()
        };
        format!(
            "Hello,\n\
             \n\
             \"{host}\" is asking for your help through remote assistance (ra).\n\
             \n\
             To help:\n\
             \n\
             {how}\n\
             \n\
             {token}\n\
             \n\
             2. Type the password that the person who invited you tells you.\n   \
             The password is not in this message, on purpose: it comes\n   \
             separately (by phone, in person, or another way). Never send it\n   \
             by replying to this message.\n\
             \n\
             3. They approve your connection. You first only see their screen;\n   \
             you control it only if they allow it, and they can stop you at\n   \
             any moment.\n\
             \n\
             This invitation expires at {expires} (UTC).\n\
             If you did not expect it, do not use it.\n",
            host = self.host_name,
        )
    }

    /// An RFC 5322 message (`.eml`) inviting the recipients: instructions, the
    /// token in the text, and the invitation file attached as
    /// `invitation.rainv` (`application/x-ra-invitation`). The password is never
    /// part of it.
    ///
    /// Addresses are plain addresses (`alice@example.com`); `to` may be empty to
    /// make a draft.
    pub fn to_email(&self, options: &EmailOptions) -> Result<Vec<u8>, InvitationError> {
        self.validate()?;
        check_email_address(&options.from)?;
        for to in &options.to {
            check_email_address(to)?;
        }
        let subject = options
            .subject
            .clone()
            .unwrap_or_else(|| self.default_subject());
        if let Some(c) = subject.chars().find(|c| is_forbidden_char(*c)) {
            return Err(InvitationError::Email(format!(
                "the subject contains the control character U+{:04X}",
                u32::from(c)
            )));
        }
        let mut builder = MessageBuilder::new()
            .from(options.from.clone())
            .subject(subject);
        if !options.to.is_empty() {
            builder = builder.to(options.to.clone());
        }
        builder
            .text_body(self.email_text(&self.to_token(), true))
            .attachment(
                INVITATION_MEDIA_TYPE,
                INVITATION_FILE_NAME,
                self.to_file_string().into_bytes(),
            )
            .write_to_vec()
            .map_err(|e| InvitationError::Email(e.to_string()))
    }

    /// A `mailto:` URI that opens the user's mail program with the recipients,
    /// a subject and a text carrying the token (a URI cannot carry an
    /// attachment). The password is never part of it.
    pub fn mailto_uri(&self, to: &[String]) -> String {
        /// RFC 3986 unreserved characters stay, everything else is encoded.
        const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        const ADDRESS: &AsciiSet = &COMPONENT.remove(b'@');
        let recipients: Vec<String> = to
            .iter()
            .map(|a| utf8_percent_encode(a.trim(), ADDRESS).to_string())
            .collect();
        // RFC 6068: line breaks in the body are CRLF.
        let body = self
            .email_text(&self.to_token(), false)
            .replace('\n', "\r\n");
        format!(
            "mailto:{}?subject={}&body={}",
            recipients.join(","),
            utf8_percent_encode(&self.default_subject(), COMPONENT),
            utf8_percent_encode(&body, COMPONENT)
        )
    }
}

fn check_email_address(address: &str) -> Result<(), InvitationError> {
    let bad = address.is_empty()
        || address.len() > MAX_EMAIL_ADDRESS_LEN
        || !address.contains('@')
        || address.starts_with('@')
        || address.ends_with('@')
        || address.chars().any(|c| {
            c.is_whitespace() || is_forbidden_char(c) || matches!(c, '<' | '>' | ',' | ';' | '"')
        });
    if bad {
        Err(InvitationError::Email(format!(
            "invalid email address `{}`",
            shorten(address)
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    const T0: u64 = 1_795_597_200; // 2026-11-25T09:00:00Z

    fn sample() -> Invitation {
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

    fn file_err(text: &str) -> InvitationError {
        Invitation::parse_file(text.as_bytes()).unwrap_err()
    }

    fn syntax_line(err: &InvitationError) -> usize {
        match err {
            InvitationError::Syntax { line, .. } => *line,
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    /// The sample file with line `n` (1-based) replaced.
    fn with_line(n: usize, replacement: &str) -> String {
        sample()
            .to_file_string()
            .lines()
            .enumerate()
            .map(|(i, l)| if i + 1 == n { replacement } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn ids_display_and_parse() {
        let id = SessionId(*b"0123456789abcdef");
        assert_eq!(id.to_string(), "30313233343536373839616263646566");
        assert_eq!(id.to_string().parse::<SessionId>().unwrap(), id);
        assert_eq!(
            id.to_string().to_uppercase().parse::<SessionId>().unwrap(),
            id
        );
        assert_eq!(
            "0123".parse::<SessionId>(),
            Err(ParseIdError::WrongLength {
                expected: 32,
                found: 4
            })
        );
        assert_eq!(
            "3031323334353637383961626364656g".parse::<SessionId>(),
            Err(ParseIdError::NotHex { position: 32 })
        );
        assert_ne!(SessionId::generate_random(), SessionId::generate_random());
        assert_eq!(
            format!("{id:?}"),
            "SessionId(30313233343536373839616263646566)"
        );

        let fp = CertFingerprint::of_der(b"");
        assert_eq!(
            fp.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(fp.to_string().parse::<CertFingerprint>().unwrap(), fp);
        assert!(fp.matches_der(b""));
        assert!(!fp.matches_der(b"x"));
        assert_eq!(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .parse::<CertFingerprint>(),
            Err(ParseIdError::MissingPrefix)
        );
        assert_eq!(
            CertFingerprint::try_from(&[0u8; 31][..]),
            Err(ParseIdError::WrongByteLength {
                expected: 32,
                found: 31
            })
        );
        let json = serde_json::to_string(&(id, fp)).unwrap();
        assert_eq!(
            serde_json::from_str::<(SessionId, CertFingerprint)>(&json).unwrap(),
            (id, fp)
        );
    }

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

    #[test]
    fn file_round_trip_and_format() {
        let inv = sample();
        let text = inv.to_file_string();
        let expected = format!(
            "# ra remote-assistance invitation. Open it with an ra helper program.\n\
             # The password is not in this file: the person who invited you tells it to you.\n\
             ra-invitation: 1\n\
             session-id: 30313233343536373839616263646566\n\
             host-name: Alice's laptop\n\
             address: 192.168.1.20:49152\n\
             address: [::1]:49152\n\
             fingerprint: sha256:{}\n\
             created: 2026-11-25T09:00:00Z\n\
             expires: 2026-11-25T15:00:00Z\n",
            HEXLOWER.encode(&inv.fingerprint.0)
        );
        assert_eq!(text, expected);
        assert_eq!(Invitation::parse_file(text.as_bytes()).unwrap(), inv);

        // CRLF, BOM, blank lines, comments, extra spaces, other key order.
        let crlf = format!("\u{FEFF}\r\n# hi\r\n{}", text.replace('\n', "\r\n\r\n"));
        assert_eq!(Invitation::parse_file(crlf.as_bytes()).unwrap(), inv);
        let lines: Vec<&str> = text.lines().collect();
        let order = [2, 9, 8, 7, 3, 5, 4, 6];
        let shuffled = order
            .map(|i| lines[i])
            .join("\n")
            .replace("host-name: ", "  host-name :   ");
        assert_eq!(Invitation::parse_file(shuffled.as_bytes()).unwrap(), inv);

        // Non-ASCII host name and IPv6 with scope.
        let mut inv2 = inv.clone();
        inv2.host_name = "Zoë — 東京".into();
        inv2.addresses = vec![SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 7)];
        assert_eq!(
            Invitation::parse_file(inv2.to_file_string().as_bytes()).unwrap(),
            inv2
        );
    }

    #[test]
    fn save_and_load() {
        let dir = std::env::temp_dir().join(format!("ra-inv-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.rainv");
        let inv = sample();
        inv.save(&path).unwrap();
        assert_eq!(Invitation::load(&path).unwrap(), inv);
        // Overwrite, and no temporary file left behind.
        inv.save(&path).unwrap();
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.rainv")]);

        // Oversized file: refused.
        let big = dir.join("big.rainv");
        fs::write(&big, vec![b'#'; MAX_INVITATION_FILE_SIZE + 1]).unwrap();
        assert!(matches!(
            Invitation::load(&big),
            Err(InvitationError::TooLarge { size, max: 16384 }) if size == 16385
        ));
        // Exactly at the limit: read (and rejected for its content only).
        fs::write(&big, vec![b'#'; MAX_INVITATION_FILE_SIZE]).unwrap();
        assert!(matches!(
            Invitation::load(&big),
            Err(InvitationError::Syntax { line: 1, .. })
        ));

        let missing = Invitation::load(&dir.join("nope")).unwrap_err();
        assert!(matches!(missing, InvitationError::Io { .. }));
        assert!(missing.to_string().contains("nope"));
        // Invalid invitations are not saved.
        let mut bad = sample();
        bad.addresses.clear();
        assert!(bad.save(&dir.join("bad.rainv")).is_err());
        assert!(!dir.join("bad.rainv").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_errors() {
        let good = sample().to_file_string();

        // Size, encoding, emptiness.
        let err = Invitation::parse_file(&vec![b' '; MAX_INVITATION_FILE_SIZE + 1]).unwrap_err();
        assert!(matches!(
            err,
            InvitationError::TooLarge {
                size: 16385,
                max: 16384
            }
        ));
        let mut bytes = good.clone().into_bytes();
        let at = good.find("Alice").unwrap();
        bytes[at] = 0xff;
        assert!(matches!(
            Invitation::parse_file(&bytes),
            Err(InvitationError::NotUtf8 { line: 5 })
        ));
        assert_eq!(syntax_line(&file_err("")), 1);
        assert_eq!(syntax_line(&file_err("# only a comment\n\n")), 1);

        // Truncated: every proper prefix made of whole lines is an error.
        let lines: Vec<&str> = good.lines().collect();
        for n in 0..lines.len() {
            let truncated = lines[..n].join("\n");
            assert!(
                Invitation::parse_file(truncated.as_bytes()).is_err(),
                "{n} lines"
            );
        }
        // Cut in the middle of the last line.
        let cut = &good[..good.len() - 5];
        assert!(matches!(
            file_err(cut),
            InvitationError::Syntax { line: 10, .. }
        ));

        // Header.
        let err = file_err(&with_line(3, "ra-invitation: 2"));
        assert!(matches!(
            err,
            InvitationError::UnsupportedVersion {
                version: 2,
                supported: 1
            }
        ));
        assert_eq!(
            syntax_line(&file_err(&with_line(3, "ra-invitation: one"))),
            3
        );
        let err = file_err(&with_line(3, "session-id: 00"));
        assert_eq!(syntax_line(&err), 3);
        assert!(err.to_string().contains("ra-invitation"), "{err}");
        assert_eq!(syntax_line(&file_err(&with_line(4, "ra-invitation: 1"))), 4);

        // Unknown key, with its line number.
        let err = file_err(&with_line(5, "hostname: Alice"));
        assert_eq!(
            err.to_string(),
            "invitation file line 5: unknown key `hostname`"
        );
        assert_eq!(syntax_line(&file_err(&with_line(5, "no colon here"))), 5);

        // Duplicate keys.
        let dup = format!("{good}session-id: 00000000000000000000000000000000\n");
        let err = file_err(&dup);
        assert_eq!(
            err.to_string(),
            "invitation file line 11: duplicate key `session-id` (first on line 4)"
        );
        let dup = format!("{good}expires: 2026-11-25T16:00:00Z\n");
        assert_eq!(syntax_line(&file_err(&dup)), 11);

        // Missing keys.
        for (n, key) in [
            (4, "session-id"),
            (5, "host-name"),
            (8, "fingerprint"),
            (9, "created"),
            (10, "expires"),
        ] {
            let err = file_err(&with_line(n, "# removed"));
            assert!(
                matches!(&err, InvitationError::MissingKey { key: k } if *k == key),
                "{key}: {err:?}"
            );
        }
        let no_address = with_line(6, "").replace("address: [::1]:49152", "");
        assert!(matches!(
            file_err(&no_address),
            InvitationError::MissingKey { key: "address" }
        ));

        // Too many addresses.
        let mut many = good.clone();
        for p in 1..=15 {
            many.push_str(&format!("address: 10.0.0.1:{p}\n"));
        }
        assert_eq!(syntax_line(&file_err(&many)), 25);

        // Bad values.
        for (n, line) in [
            (4, "session-id: 0123"),
            (4, "session-id: zz313233343536373839616263646566"),
            (5, "host-name:"),
            (5, &format!("host-name: {}", "x".repeat(65))),
            (6, "address: 192.168.1.20"),
            (6, "address: 192.168.1.300:5"),
            (6, "address: example.com:5"),
            (6, "address: ::1:5"),
            (6, "address: 0.0.0.0:5"),
            (6, "address: 10.0.0.1:0"),
            (8, "fingerprint: 00"),
            (8, "fingerprint: md5:0011"),
            (8, &format!("fingerprint: sha256:{}", "g".repeat(64))),
            (9, "created: yesterday"),
            (9, "created: 2026-11-25T09:00:00.5Z"),
            (9, "created: 2026-13-25T09:00:00Z"),
            (9, "created: 1969-12-31T23:59:59Z"),
            (10, "expires: 2026-11-25T09:00:00Z"),
            (10, "expires: 2026-11-25T08:00:00Z"),
            (10, "expires: 2026-11-25 15:00"),
        ] {
            let err = file_err(&with_line(n, line));
            assert_eq!(syntax_line(&err), n, "{line}: {err}");
        }
        // A control character inside a value.
        assert_eq!(
            syntax_line(&file_err(&with_line(5, "host-name: a\u{7}b"))),
            5
        );
        assert_eq!(syntax_line(&file_err(&with_line(5, "host-name: a\rb"))), 5);
        // Messages stay short even for huge values.
        let err = file_err(&with_line(7, &format!("what{}: x", "e".repeat(5000))));
        assert!(err.to_string().len() < 200);
    }

    #[test]
    fn token_round_trip() {
        let inv = sample();
        let token = inv.to_token();
        assert!(token.starts_with("ra1-"));
        assert!(token.len() < 300, "{}", token.len());
        assert!(
            token[4..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(Invitation::from_token(&token).unwrap(), inv);
        assert_eq!(
            Invitation::from_token(&format!("  {token}\n")).unwrap(),
            inv
        );
        // Wrapped by a mail program.
        let wrapped = format!("{}\r\n {}", &token[..50], &token[50..]);
        assert_eq!(Invitation::from_token(&wrapped).unwrap(), inv);

        // The largest invitation fits in the token limit.
        let mut big = inv.clone();
        big.host_name = "字".repeat(64);
        big.addresses = (1..=16)
            .map(|_| {
                "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"
                    .parse::<SocketAddr>()
                    .unwrap()
            })
            .map(|mut a| {
                a.set_port(60000);
                a
            })
            .collect();
        let token = big.to_token();
        assert!(token.len() <= MAX_TOKEN_LEN, "{}", token.len());
        assert_eq!(Invitation::from_token(&token).unwrap(), big);
    }

    fn encode(message: &InvitationToken) -> String {
        format!("ra1-{}", BASE64URL_NOPAD.encode(&message.encode_to_vec()))
    }

    fn sample_message() -> InvitationToken {
        let token = sample().to_token();
        let bytes = BASE64URL_NOPAD.decode(&token.as_bytes()[4..]).unwrap();
        InvitationToken::decode(bytes.as_slice()).unwrap()
    }

    fn token_err(token: &str) -> TokenError {
        match Invitation::from_token(token) {
            Err(InvitationError::Token(e)) => e,
            other => panic!("expected a token error, got {other:?}"),
        }
    }

    #[test]
    fn token_errors() {
        let token = sample().to_token();
        assert!(matches!(token_err(""), TokenError::Empty));
        assert!(matches!(token_err(" \n"), TokenError::Empty));
        assert!(matches!(
            token_err(&"a".repeat(5000)),
            TokenError::TooLong { .. }
        ));
        assert!(matches!(
            token_err(&"a".repeat(20000)),
            TokenError::TooLong { .. }
        ));
        assert!(matches!(token_err(&token[1..]), TokenError::BadPrefix));
        assert!(matches!(
            token_err(&token.replace("ra1-", "ra2-")),
            TokenError::BadPrefix
        ));
        assert!(matches!(
            token_err(&token.replace("ra1-", "RA1-")),
            TokenError::BadPrefix
        ));
        let err = token_err(&format!("{}!{}", &token[..10], &token[11..]));
        assert!(
            matches!(err, TokenError::BadBase64 { position: 11 }),
            "{err:?}"
        );
        // Truncated: either bad base64 length or a bad protobuf message.
        for cut in [5, 10, 30, token.len() - 1] {
            let err = Invitation::from_token(&token[..cut]).unwrap_err();
            assert!(matches!(err, InvitationError::Token(_)), "{cut}: {err:?}");
        }
        let garbage = format!("ra1-{}", BASE64URL_NOPAD.encode(&[0xff; 20]));
        assert!(matches!(token_err(&garbage), TokenError::BadProtobuf(_)));

        // Unknown field appended: not canonical.
        let mut bytes = sample_message().encode_to_vec();
        bytes.extend_from_slice(&[0x40, 0x01]); // field 8, varint 1
        let extra = format!("ra1-{}", BASE64URL_NOPAD.encode(&bytes));
        assert!(matches!(token_err(&extra), TokenError::NonCanonical));

        // Invalid fields.
        let mut m = sample_message();
        m.version = 7;
        assert!(matches!(
            Invitation::from_token(&encode(&m)),
            Err(InvitationError::UnsupportedVersion { version: 7, .. })
        ));
        type Mutation = fn(&mut InvitationToken);
        let cases: [(&str, Mutation); 10] = [
            ("session id", |m| m.session_id.truncate(15)),
            ("host name", |m| m.host_name.clear()),
            ("host name", |m| m.host_name = "a\nb".into()),
            ("addresses", |m| m.addresses.clear()),
            ("address", |m| m.addresses[0] = "localhost:5".into()),
            ("address", |m| m.addresses[0] = "0.0.0.0:5".into()),
            ("fingerprint", |m| m.fingerprint.push(0)),
            ("expiry time", |m| m.expires_unix = m.created_unix),
            ("expiry time", |m| m.expires_unix = u64::MAX),
            ("creation time", |m| m.created_unix = MAX_UNIX_SECS + 1),
        ];
        for (field, mutate) in cases {
            let mut m = sample_message();
            mutate(&mut m);
            match token_err(&encode(&m)) {
                TokenError::InvalidField { field: f, .. } => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let err = Invitation::from_token("hello").unwrap_err();
        assert!(
            err.to_string().starts_with("invalid invitation token: "),
            "{err}"
        );
    }

    /// Undoes quoted-printable soft line breaks (test helper only).
    fn unfold_qp(text: &str) -> String {
        text.replace("=\r\n", "").replace("=3D", "=")
    }

    #[test]
    fn email() {
        let inv = sample();
        let options = EmailOptions {
            from: "alice@example.com".into(),
            to: vec!["bob@example.org".into(), "carol@example.net".into()],
            subject: None,
        };
        let eml = String::from_utf8(inv.to_email(&options).unwrap()).unwrap();
        assert!(eml.contains("From: <alice@example.com>"), "{eml}");
        assert!(eml.contains("bob@example.org") && eml.contains("carol@example.net"));
        assert!(eml.contains("Subject: Remote assistance invitation from Alice's laptop"));
        assert!(eml.contains("multipart/mixed"));
        assert!(eml.contains("Content-Type: application/x-ra-invitation"));
        assert!(eml.contains("invitation.rainv"));
        let text = unfold_qp(&eml);
        assert!(text.contains(&inv.to_token()), "{text}");
        assert!(text.contains("password"));
        assert!(text.contains("2026-11-25T15:00:00Z"));

        // The attachment is the invitation file.
        let start = eml
            .find("Content-Type: application/x-ra-invitation")
            .unwrap();
        let part = &eml[start..];
        let body_start = part.find("\r\n\r\n").unwrap() + 4;
        let body_end = body_start + part[body_start..].find("\r\n--").unwrap();
        let b64: String = part[body_start..body_end].split_whitespace().collect();
        let file = data_encoding::BASE64.decode(b64.as_bytes()).unwrap();
        assert_eq!(Invitation::parse_file(&file).unwrap(), inv);

        // Nothing that looks like a password: no 13-character Crockford run,
        // grouped or not (the token is base64url, checked apart).
        let without_token = text.replace(&inv.to_token(), "");
        let crockford_run = without_token
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter_map(|w| {
                let compact: String = w.chars().filter(|c| *c != '-').collect();
                crate::password::Password::parse(&compact)
                    .ok()
                    .map(|_| w.to_owned())
            })
            .collect::<Vec<_>>();
        assert!(crockford_run.is_empty(), "{crockford_run:?}");
        assert!(!text.to_lowercase().contains("password:"));

        // Custom subject, draft without recipients.
        let draft = inv
            .to_email(&EmailOptions {
                from: "alice@example.com".into(),
                to: vec![],
                subject: Some("Help please".into()),
            })
            .unwrap();
        let draft = String::from_utf8(draft).unwrap();
        assert!(draft.contains("Subject: Help please"));
        assert!(!draft.contains("\r\nTo:"));
    }

    #[test]
    fn email_errors() {
        let inv = sample();
        let ok = EmailOptions {
            from: "alice@example.com".into(),
            to: vec!["bob@example.org".into()],
            subject: None,
        };
        for bad in ["", "alice", "a b@c", "<a@b>", "a@b\r\nBcc: x@y", "@b", "a@"] {
            let mut o = ok.clone();
            o.from = bad.into();
            assert!(
                matches!(inv.to_email(&o), Err(InvitationError::Email(_))),
                "{bad:?}"
            );
            let mut o = ok.clone();
            o.to.push(bad.into());
            assert!(
                matches!(inv.to_email(&o), Err(InvitationError::Email(_))),
                "{bad:?}"
            );
        }
        let mut o = ok.clone();
        o.subject = Some("hi\r\nBcc: evil@example.com".into());
        assert!(matches!(inv.to_email(&o), Err(InvitationError::Email(_))));
        let mut bad = inv.clone();
        bad.addresses.clear();
        assert!(matches!(
            bad.to_email(&ok),
            Err(InvitationError::Invalid(_))
        ));
    }

    #[test]
    fn mailto() {
        let inv = sample();
        let uri = inv.mailto_uri(&["bob@example.org".into(), "c+d@example.net".into()]);
        assert!(
            uri.starts_with("mailto:bob@example.org,c%2Bd@example.net?subject="),
            "{uri}"
        );
        assert!(uri.contains(
            "subject=Remote%20assistance%20invitation%20from%20Alice%27s%20laptop&body="
        ));
        assert!(uri.contains(&inv.to_token()));
        assert!(uri.contains("%0D%0A"));
        assert!(!uri.contains(' ') && !uri.contains('\n'));
        let body = &uri[uri.find("&body=").unwrap() + 6..];
        let decoded = percent_encoding::percent_decode_str(body)
            .decode_utf8()
            .unwrap();
        assert!(decoded.contains("password"));
        assert!(decoded.contains(&inv.to_token()));
        assert!(inv.mailto_uri(&[]).starts_with("mailto:?subject="));
    }
}
