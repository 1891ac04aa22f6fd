//! The keys: an organisation's key pair (its file), the public keys as
//! one-line strings, and a helper's credential (its identity and its own
//! key pair, in one file).

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use data_encoding::{BASE64, HEXLOWER_PERMISSIVE};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use zeroize::Zeroizing;

use super::document::{self, HelperIdentity};
use super::{IdentityError, MAX_DOCUMENT_BYTES};

/// The first line of an organisation's key file.
const ORG_KEY_HEADER: &str = "ra-org-key 1";
/// The credential's line after its identity.
const HELPER_PRIVATE_FIELD: &str = "helper-private-key";

macro_rules! public_key {
    ($name:ident, $prefix:literal, $kind:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// How the key is written: this prefix, then 64 hexadecimal digits.
            pub const PREFIX: &'static str = $prefix;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "{}{}",
                    Self::PREFIX,
                    data_encoding::HEXLOWER.encode(&self.0)
                )
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl FromStr for $name {
            type Err = IdentityError;

            fn from_str(text: &str) -> Result<Self, IdentityError> {
                let invalid = || IdentityError::Key {
                    kind: $kind,
                    text: text.chars().take(80).collect(),
                };
                let hex = text.strip_prefix(Self::PREFIX).ok_or_else(invalid)?;
                let bytes = HEXLOWER_PERMISSIVE
                    .decode(hex.as_bytes())
                    .map_err(|_| invalid())?;
                Ok(Self(bytes.try_into().map_err(|_| invalid())?))
            }
        }
    };
}

public_key!(
    OrgPublicKey,
    "raorg1-",
    "organisation",
    "An organisation's public key (Ed25519), written `raorg1-` and 64 hexadecimal digits: what a host's policy lists in `trusted_orgs`."
);
public_key!(
    HelperPublicKey,
    "rahelper1-",
    "helper",
    "A helper's public key (Ed25519), written `rahelper1-` and 64 hexadecimal digits: the helper's key id, what a host's policy lists in `revoked_helpers`."
);

/// A new PKCS#8 key pair.
fn generate() -> Result<(Zeroizing<Vec<u8>>, Ed25519KeyPair), IdentityError> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| IdentityError::Generate)?;
    let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
    let pair =
        Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|e| IdentityError::PrivateKey(e.to_string()))?;
    Ok((pkcs8, pair))
}

/// A key pair from its base64 PKCS#8 text.
fn read_private(text: &str) -> Result<(Zeroizing<Vec<u8>>, Ed25519KeyPair), IdentityError> {
    let pkcs8 = Zeroizing::new(
        BASE64
            .decode(text.as_bytes())
            .map_err(|_| IdentityError::PrivateKey("not base64".into()))?,
    );
    let pair =
        Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|e| IdentityError::PrivateKey(e.to_string()))?;
    Ok((pkcs8, pair))
}

fn public_of(pair: &Ed25519KeyPair) -> [u8; 32] {
    let mut key = [0; 32];
    key.copy_from_slice(pair.public_key().as_ref());
    key
}

/// An organisation's key pair and name: it issues helper identities. Its
/// file ([`OrgKeyPair::to_text`]) holds the private key: keep it like a
/// password.
pub struct OrgKeyPair {
    name: String,
    pkcs8: Zeroizing<Vec<u8>>,
    pair: Ed25519KeyPair,
}

impl fmt::Debug for OrgKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgKeyPair")
            .field("name", &self.name)
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl OrgKeyPair {
    /// A new key pair for the organisation `name`.
    ///
    /// # Errors
    /// [`IdentityError::Name`] for an invalid name, [`IdentityError::Generate`].
    pub fn generate(name: &str) -> Result<Self, IdentityError> {
        let name = document::check_name(name)?;
        let (pkcs8, pair) = generate()?;
        Ok(OrgKeyPair { name, pkcs8, pair })
    }

    /// The organisation's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public key hosts trust.
    pub fn public_key(&self) -> OrgPublicKey {
        OrgPublicKey(public_of(&self.pair))
    }

    /// Issues a helper named `helper` a new key pair and an identity valid
    /// from `not_before` to `not_after`.
    ///
    /// # Errors
    /// [`IdentityError::Name`], [`IdentityError::Validity`] (an empty
    /// period), [`IdentityError::Generate`].
    pub fn issue(
        &self,
        helper: &str,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<HelperCredential, IdentityError> {
        let (pkcs8, pair) = generate()?;
        let identity = HelperIdentity::sign(
            &self.pair,
            &self.name,
            self.public_key(),
            helper,
            HelperPublicKey(public_of(&pair)),
            not_before,
            not_after,
        )?;
        Ok(HelperCredential {
            identity,
            pkcs8,
            pair,
        })
    }

    /// The key file's text.
    pub fn to_text(&self) -> String {
        format!(
            "{ORG_KEY_HEADER}\norganisation: {}\nprivate-key: {}\n",
            self.name,
            BASE64.encode(&self.pkcs8)
        )
    }

    /// Reads a key file.
    ///
    /// # Errors
    /// [`IdentityError::TooLarge`], [`IdentityError::Version`],
    /// [`IdentityError::Malformed`], [`IdentityError::Name`],
    /// [`IdentityError::PrivateKey`].
    pub fn from_text(text: &str) -> Result<Self, IdentityError> {
        let fields = document::fields(
            text,
            ORG_KEY_HEADER,
            "organisation key",
            &["organisation", "private-key"],
        )?;
        let name = document::check_name(fields[0])?;
        let (pkcs8, pair) = read_private(fields[1])?;
        Ok(OrgKeyPair { name, pkcs8, pair })
    }
}

/// A helper's credential: their identity, as the organisation signed it,
/// and the key pair it names. Its file ([`HelperCredential::to_text`])
/// holds the private key: keep it like a password.
pub struct HelperCredential {
    identity: HelperIdentity,
    pkcs8: Zeroizing<Vec<u8>>,
    pair: Ed25519KeyPair,
}

impl fmt::Debug for HelperCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HelperCredential")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl HelperCredential {
    /// The identity to show a host.
    pub fn identity(&self) -> &HelperIdentity {
        &self.identity
    }

    /// Signs `message` with the helper's key (what proves to a host that
    /// the identity is the helper's own).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut signature = [0; 64];
        signature.copy_from_slice(self.pair.sign(message).as_ref());
        signature
    }

    /// The credential file's text: the identity, then the private key.
    pub fn to_text(&self) -> String {
        format!(
            "{}{HELPER_PRIVATE_FIELD}: {}\n",
            self.identity.to_text(),
            BASE64.encode(&self.pkcs8)
        )
    }

    /// Reads a credential file: the identity must verify (its signature;
    /// not its dates, which a host checks) and the private key must be the
    /// one it names.
    ///
    /// # Errors
    /// As [`HelperIdentity::parse`], and [`IdentityError::Malformed`] or
    /// [`IdentityError::PrivateKey`] for the key line.
    pub fn from_text(text: &str) -> Result<Self, IdentityError> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(IdentityError::TooLarge(text.len()));
        }
        let body = text.strip_suffix('\n').unwrap_or(text);
        let (identity_text, key_line) = body.rsplit_once('\n').ok_or(IdentityError::Malformed {
            line: 1,
            reason: "no private key line".into(),
        })?;
        let identity = HelperIdentity::parse(&format!("{identity_text}\n"))?;
        let line = identity_text.lines().count() + 1;
        let key = key_line
            .strip_prefix(HELPER_PRIVATE_FIELD)
            .and_then(|rest| rest.strip_prefix(": "))
            .ok_or_else(|| IdentityError::Malformed {
                line,
                reason: format!("expected \"{HELPER_PRIVATE_FIELD}: …\""),
            })?;
        let (pkcs8, pair) = read_private(key)?;
        if public_of(&pair) != identity.helper_key().0 {
            return Err(IdentityError::PrivateKey(
                "it is not the key the identity names".into(),
            ));
        }
        Ok(HelperCredential {
            identity,
            pkcs8,
            pair,
        })
    }
}
