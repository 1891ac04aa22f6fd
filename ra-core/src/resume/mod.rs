//! Resume tickets: what a host keeps so that, after its application or its
//! machine restarts, it can re-open the session it had — asking its user
//! again, and never restoring control without a new grant.
//!
//! This module is the ticket itself: what it holds, and its sealed form for
//! the application to store. A ticket is sealed with ChaCha20-Poly1305 under
//! a 32-byte key the application provides ([`TicketKey`]); the header (a
//! magic and the format version) is authenticated too. It holds the host's
//! TLS identity (so the helper's pin still matches), where the host listened,
//! and a fresh secret the resumed session authenticates with.
//!
//! Sealed form: `raRT`, the version (1), a 12-byte random nonce, then the
//! encrypted protobuf `ResumeTicketBody` and its 16-byte tag.
//!
//! What is refused, each with its own [`ResumeError`]: a truncated ticket,
//! one that is not a ticket, another version, one sealed under another key
//! (another host's, or altered), one that is expired, or one whose lifetime
//! is over [`MAX_RESUME_TICKET_LIFETIME`].

mod store;

pub use store::{TicketFileError, load_or_create_key, save_ticket, take_ticket, used_marker};

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message as _;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::invitation::SessionId;
use crate::proto::ResumeTicketBody;
use crate::session::SessionRng;

/// The longest a ticket may be valid (the host's policy may allow less).
pub const MAX_RESUME_TICKET_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The first bytes of a sealed ticket.
pub const TICKET_MAGIC: [u8; 4] = *b"raRT";

/// The sealed format this build writes and reads.
pub const TICKET_VERSION: u8 = 1;

/// Length of a ticket id.
pub const TICKET_ID_LEN: usize = 16;

/// Length of the secret a resumed session authenticates with.
pub const RESUME_SECRET_LEN: usize = 32;

/// Length of the key tickets are sealed with.
pub const TICKET_KEY_LEN: usize = 32;

/// Largest sealed ticket read.
pub const MAX_SEALED_TICKET: usize = 16 * 1024;

const HEADER_LEN: usize = TICKET_MAGIC.len() + 1;
const TAG_LEN: usize = 16;

/// Why a ticket could not be made, sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// The key is not 32 bytes.
    #[error("a ticket key is {TICKET_KEY_LEN} bytes, not {len}")]
    KeyLength {
        /// The length given.
        len: usize,
    },
    /// Too short to be a sealed ticket (cut off in storage or transfer).
    #[error("the ticket is truncated ({len} bytes)")]
    Truncated {
        /// Its length.
        len: usize,
    },
    /// Longer than any ticket.
    #[error("the ticket is too large ({len} bytes, at most {MAX_SEALED_TICKET})")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// Not a resume ticket at all.
    #[error("not a resume ticket")]
    NotATicket,
    /// Another format version.
    #[error("resume ticket version {found} is not supported (this build reads {TICKET_VERSION})")]
    UnsupportedVersion {
        /// The version found.
        found: u8,
    },
    /// It does not open with this key: another host's (or application's)
    /// ticket, or altered.
    #[error("the ticket was not sealed with this key (another host's ticket, or altered)")]
    Foreign,
    /// It opened but holds nonsense (a bug on the sealing side).
    #[error("the ticket is corrupt: {0}")]
    Corrupt(String),
    /// Its time is up.
    #[error("the ticket expired")]
    Expired {
        /// When.
        expired_at: SystemTime,
    },
    /// It was asked to live longer than [`MAX_RESUME_TICKET_LIFETIME`].
    #[error("a resume ticket lives at most {} minutes", MAX_RESUME_TICKET_LIFETIME.as_secs() / 60)]
    TooLong,
}

/// The application's key for sealing tickets (wiped when dropped).
#[derive(Clone)]
pub struct TicketKey(Zeroizing<[u8; TICKET_KEY_LEN]>);

impl std::fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKey(..)")
    }
}

impl TicketKey {
    /// The key in `bytes` (exactly 32).
    ///
    /// # Errors
    /// [`ResumeError::KeyLength`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ResumeError> {
        let key: [u8; TICKET_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| ResumeError::KeyLength { len: bytes.len() })?;
        Ok(TicketKey(Zeroizing::new(key)))
    }

    /// A fresh random key.
    pub fn generate(rng: &mut dyn SessionRng) -> Self {
        let mut key = Zeroizing::new([0u8; TICKET_KEY_LEN]);
        rng.fill_bytes(key.as_mut_slice());
        TicketKey(key)
    }

    /// The key as 64 lowercase hex digits (what a key file holds).
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::HEXLOWER.encode(self.0.as_slice()))
    }

    /// The key written as 64 hex digits (either case; surrounding white
    /// space ignored).
    ///
    /// # Errors
    /// [`ResumeError::KeyLength`] for anything else.
    pub fn from_hex(text: &str) -> Result<Self, ResumeError> {
        let text = Zeroizing::new(text.trim().to_ascii_lowercase());
        let bytes = Zeroizing::new(data_encoding::HEXLOWER.decode(text.as_bytes()).map_err(
            |_| ResumeError::KeyLength {
                len: text.len() / 2,
            },
        )?);
        Self::from_bytes(&bytes)
    }

    fn aead(&self) -> Result<LessSafeKey, ResumeError> {
        UnboundKey::new(&CHACHA20_POLY1305, self.0.as_slice())
            .map(LessSafeKey::new)
            .map_err(|_| ResumeError::KeyLength {
                len: TICKET_KEY_LEN,
            })
    }
}

/// What a host needs to re-open a session after a restart.
#[derive(Clone, PartialEq, Eq)]
pub struct ResumeTicket {
    /// This ticket's id (the resumed session's id).
    pub ticket_id: [u8; TICKET_ID_LEN],
    /// The session, host and addresses it is for.
    pub contents: TicketContents,
    /// What the resumed session authenticates with (wiped when dropped).
    pub secret: Zeroizing<[u8; RESUME_SECRET_LEN]>,
    /// When it was issued (whole seconds).
    pub issued_at: SystemTime,
    /// When it expires (whole seconds).
    pub expires_at: SystemTime,
}

impl std::fmt::Debug for ResumeTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResumeTicket")
            .field("contents", &self.contents)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The session, host and addresses a ticket is for: what
/// [`ResumeTicket::new`] needs besides the time and randomness.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketContents {
    /// The session to resume.
    pub session_id: SessionId,
    /// The host's name.
    pub host_name: String,
    /// The host's TLS certificate (DER): the helper pinned it.
    pub certificate: Vec<u8>,
    /// The certificate's private key (PKCS#8 DER; wiped when dropped).
    pub private_key: Zeroizing<Vec<u8>>,
    /// Where the host listens.
    pub listen: SocketAddr,
    /// The addresses the helper knows the host by.
    pub addresses: Vec<SocketAddr>,
}

impl std::fmt::Debug for TicketContents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketContents")
            .field("session_id", &self.session_id)
            .field("host_name", &self.host_name)
            .field("listen", &self.listen)
            .field("addresses", &self.addresses)
            .finish_non_exhaustive()
    }
}

fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl ResumeTicket {
    /// A ticket for `contents`, issued at `now`, valid for `lifetime`, with
    /// a fresh id and secret from `rng`.
    ///
    /// # Errors
    /// [`ResumeError::TooLong`] past [`MAX_RESUME_TICKET_LIFETIME`].
    pub fn new(
        contents: TicketContents,
        now: SystemTime,
        lifetime: Duration,
        rng: &mut dyn SessionRng,
    ) -> Result<Self, ResumeError> {
        let mut ticket_id = [0u8; TICKET_ID_LEN];
        rng.fill_bytes(&mut ticket_id);
        let mut secret = Zeroizing::new([0u8; RESUME_SECRET_LEN]);
        rng.fill_bytes(secret.as_mut_slice());
        Self::from_grant(
            contents,
            &crate::session::ResumeGrant {
                ticket_id,
                secret,
                lifetime,
            },
            now,
        )
    }

    /// The ticket for what a host's session offered its helper
    /// ([`HostEndpoint::issue_resume_offer`](crate::session::HostEndpoint::issue_resume_offer)),
    /// issued at `now`.
    ///
    /// # Errors
    /// [`ResumeError::TooLong`] past [`MAX_RESUME_TICKET_LIFETIME`].
    pub fn from_grant(
        contents: TicketContents,
        grant: &crate::session::ResumeGrant,
        now: SystemTime,
    ) -> Result<Self, ResumeError> {
        if grant.lifetime > MAX_RESUME_TICKET_LIFETIME {
            return Err(ResumeError::TooLong);
        }
        let issued = unix_secs(now);
        Ok(ResumeTicket {
            ticket_id: grant.ticket_id,
            contents,
            secret: grant.secret.clone(),
            issued_at: UNIX_EPOCH + Duration::from_secs(issued),
            expires_at: UNIX_EPOCH + Duration::from_secs(issued + grant.lifetime.as_secs()),
        })
    }

    /// The sealed form to store, under `key`, with a nonce from `rng`.
    ///
    /// # Errors
    /// [`ResumeError::Corrupt`] if the cipher refuses (never with a valid key).
    pub fn seal(&self, key: &TicketKey, rng: &mut dyn SessionRng) -> Result<Vec<u8>, ResumeError> {
        let contents = &self.contents;
        let body = ResumeTicketBody {
            ticket_id: self.ticket_id.to_vec(),
            session_id: contents.session_id.0.to_vec(),
            host_name: contents.host_name.clone(),
            certificate: contents.certificate.clone(),
            private_key: contents.private_key.to_vec(),
            listen: contents.listen.to_string(),
            addresses: contents.addresses.iter().map(ToString::to_string).collect(),
            secret: self.secret.to_vec(),
            issued_unix: unix_secs(self.issued_at),
            expires_unix: unix_secs(self.expires_at),
        };
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + body.encoded_len() + TAG_LEN);
        out.extend_from_slice(&TICKET_MAGIC);
        out.push(TICKET_VERSION);
        out.extend_from_slice(&nonce);
        let mut sealed = Zeroizing::new(body.encode_to_vec());
        key.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&out[..HEADER_LEN]),
                &mut *sealed,
            )
            .map_err(|_| ResumeError::Corrupt("the cipher refused to seal".into()))?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a sealed ticket with `key`, and checks it is still valid at
    /// `now`.
    ///
    /// # Errors
    /// See [`ResumeError`]: truncated, too large, not a ticket, another
    /// version, another key (or altered), corrupt, expired.
    pub fn open(sealed: &[u8], key: &TicketKey, now: SystemTime) -> Result<Self, ResumeError> {
        if sealed.len() > MAX_SEALED_TICKET {
            return Err(ResumeError::TooLarge { len: sealed.len() });
        }
        if sealed.len() >= TICKET_MAGIC.len() && sealed[..TICKET_MAGIC.len()] != TICKET_MAGIC {
            return Err(ResumeError::NotATicket);
        }
        if sealed.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
            return Err(ResumeError::Truncated { len: sealed.len() });
        }
        let found = sealed[TICKET_MAGIC.len()];
        if found != TICKET_VERSION {
            return Err(ResumeError::UnsupportedVersion { found });
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| ResumeError::Truncated { len: sealed.len() })?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plain = key
            .aead()?
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(header),
                &mut buffer,
            )
            .map_err(|_| ResumeError::Foreign)?;
        let body =
            ResumeTicketBody::decode(&*plain).map_err(|e| ResumeError::Corrupt(e.to_string()))?;
        let ticket = Self::from_body(body)?;
        if now >= ticket.expires_at {
            return Err(ResumeError::Expired {
                expired_at: ticket.expires_at,
            });
        }
        Ok(ticket)
    }

    fn from_body(body: ResumeTicketBody) -> Result<Self, ResumeError> {
        let corrupt = |what: &str| ResumeError::Corrupt(what.to_owned());
        let ticket_id = body
            .ticket_id
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("ticket id"))?;
        let session_id =
            SessionId::try_from(body.session_id.as_slice()).map_err(|_| corrupt("session id"))?;
        let secret: [u8; RESUME_SECRET_LEN] = body
            .secret
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("secret"))?;
        let listen = body.listen.parse().map_err(|_| corrupt("listen address"))?;
        let addresses = body
            .addresses
            .iter()
            .map(|a| a.parse())
            .collect::<Result<Vec<SocketAddr>, _>>()
            .map_err(|_| corrupt("address"))?;
        if body.expires_unix < body.issued_unix
            || body.expires_unix - body.issued_unix > MAX_RESUME_TICKET_LIFETIME.as_secs()
        {
            return Err(ResumeError::TooLong);
        }
        Ok(ResumeTicket {
            ticket_id,
            contents: TicketContents {
                session_id,
                host_name: body.host_name,
                certificate: body.certificate,
                private_key: Zeroizing::new(body.private_key),
                listen,
                addresses,
            },
            secret: Zeroizing::new(secret),
            issued_at: UNIX_EPOCH + Duration::from_secs(body.issued_unix),
            expires_at: UNIX_EPOCH + Duration::from_secs(body.expires_unix),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(7)
    }

    fn make_ticket(lifetime: Duration) -> Result<ResumeTicket, ResumeError> {
        ResumeTicket::new(
            TicketContents {
                session_id: SessionId([1; 16]),
                host_name: "Alice".into(),
                certificate: b"certificate".to_vec(),
                private_key: Zeroizing::new(b"key".to_vec()),
                listen: "0.0.0.0:49152".parse().unwrap(),
                addresses: vec!["192.168.1.20:49152".parse().unwrap()],
            },
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            lifetime,
            &mut rng(),
        )
    }

    fn key(byte: u8) -> TicketKey {
        TicketKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_sealed_ticket_opens_with_its_key_until_it_expires() {
        let ticket = make_ticket(Duration::from_secs(600)).unwrap();
        let sealed = ticket.seal(&key(1), &mut rng()).unwrap();
        assert!(sealed.starts_with(b"raRT\x01"));
        let now = ticket.issued_at + Duration::from_secs(599);
        assert_eq!(ResumeTicket::open(&sealed, &key(1), now).unwrap(), ticket);
        assert!(
            !format!("{ticket:?}").contains("key"),
            "the debug form hides secrets"
        );
        assert!(matches!(
            ResumeTicket::open(&sealed, &key(1), ticket.expires_at),
            Err(ResumeError::Expired { .. })
        ));
    }

    #[test]
    fn bad_tickets_say_why() {
        let ticket = make_ticket(Duration::from_secs(600)).unwrap();
        let sealed = ticket.seal(&key(1), &mut rng()).unwrap();
        let now = ticket.issued_at;
        let open = |bytes: &[u8]| ResumeTicket::open(bytes, &key(1), now).unwrap_err();
        assert_eq!(
            ResumeTicket::open(&sealed, &key(2), now).unwrap_err(),
            ResumeError::Foreign
        );
        for cut in [0, 3, 5, 20, 32] {
            assert!(
                matches!(open(&sealed[..cut]), ResumeError::Truncated { .. }),
                "{cut}: {:?}",
                open(&sealed[..cut])
            );
        }
        // Cut anywhere past the header, or altered anywhere: the tag fails.
        assert_eq!(open(&sealed[..sealed.len() - 1]), ResumeError::Foreign);
        for at in [5, 20, sealed.len() / 2, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[at] ^= 1;
            assert_eq!(open(&altered), ResumeError::Foreign, "byte {at}");
        }
        let mut version = sealed.clone();
        version[4] = 2;
        assert_eq!(open(&version), ResumeError::UnsupportedVersion { found: 2 });
        assert_eq!(open(b"ra1-token, not a ticket"), ResumeError::NotATicket);
        assert!(matches!(
            open(&vec![0; MAX_SEALED_TICKET + 1]),
            ResumeError::TooLarge { .. }
        ));
        assert_eq!(
            TicketKey::from_bytes(&[0; 16]).unwrap_err(),
            ResumeError::KeyLength { len: 16 }
        );
        assert_eq!(
            make_ticket(MAX_RESUME_TICKET_LIFETIME + Duration::from_secs(1)).unwrap_err(),
            ResumeError::TooLong
        );
    }
}
