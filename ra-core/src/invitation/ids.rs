//! The ids an invitation carries: the session id and the SHA-256
//! fingerprint of the host's TLS certificate.

use std::fmt;
use std::str::FromStr;

use data_encoding::{HEXLOWER, HEXLOWER_PERMISSIVE};
use rand_core::{CryptoRng, OsRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
