//! Short codes for the broker flows (Easy Connect and Quick Assist).
//!
//! A [`Code`] is 12 characters of Crockford base32 (60 bits), shown in four
//! groups for reading aloud: `ABC-DEF-GHJ-KMN`. The first six characters are
//! the **lookup** part (30 bits): the broker stores it and uses it to find the
//! waiting peer. The last six are the **secret** part (30 bits): it never
//! leaves the two peers, who run the PAKE over it. Parsing forgives case,
//! separators and the confusable letters I, L (read as 1) and O (read as 0),
//! like [`Password::parse`](crate::password::Password::parse).
//!
//! Each part is encoded with the same data-encoding Crockford alphabet as
//! passwords: its 30 bits are the top bits of 5 bytes whose last 10 bits are
//! zero, which encode as 8 characters ending in `00`; the code keeps the six
//! significant ones. So every 6-character string over the alphabet is a valid
//! part, and a mistyped character is never "invalid", only wrong.

use std::fmt;
use std::str::FromStr;

use rand_core::{CryptoRng, OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::crockford::{self, CROCKFORD, Rejected};
use crate::invitation::SessionId;

/// Characters of one part.
const PART_CHARS: usize = 6;
/// Bits of one part.
const PART_BITS: u32 = 30;
/// The largest value of one part.
const PART_MAX: u32 = (1 << PART_BITS) - 1;
/// Sizes of the groups of the displayed form.
const GROUPS: [usize; 4] = [3; 4];

/// Why a typed code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// Nothing but separators (or nothing at all) was entered.
    #[error("the code is empty")]
    Empty,
    /// Not the right number of characters (separators not counted).
    #[error("the code has {found} characters, expected {expected} (separators not counted)")]
    WrongLength {
        /// How many characters a code (or a lookup part) has.
        expected: usize,
        /// How many characters were entered, separators not counted.
        found: usize,
    },
    /// A character that is not part of a code.
    #[error("invalid character {character:?} at position {position}")]
    InvalidCharacter {
        /// The character as it was typed.
        character: char,
        /// Its 1-based position in the input, separators included.
        position: usize,
    },
}

impl From<Rejected> for CodeError {
    fn from(rejected: Rejected) -> Self {
        match rejected {
            Rejected::Empty => CodeError::Empty,
            Rejected::WrongLength { expected, found } => CodeError::WrongLength { expected, found },
            Rejected::InvalidCharacter {
                character,
                position,
            } => CodeError::InvalidCharacter {
                character,
                position,
            },
        }
    }
}

/// The broker-visible part of a code: 30 bits, six characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lookup(u32);

impl Lookup {
    /// Number of characters of the written form.
    pub const LEN: usize = PART_CHARS;

    /// Draws a random lookup part.
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Lookup(rng.next_u32() & PART_MAX)
    }

    /// Parses the six characters of a lookup part (as the broker receives it;
    /// case, separators and confusables are forgiven here too).
    ///
    /// # Errors
    /// [`CodeError`] naming what is wrong.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let normalized = crockford::normalize(input, PART_CHARS)?;
        Ok(Lookup(decode_part(&normalized)))
    }

    /// The six characters, e.g. `7G2KXW`.
    pub fn as_string(&self) -> String {
        encode_part(self.0)
    }

    /// The session id both peers derive from the lookup part, so the PAKE is
    /// bound to this code's rendezvous.
    pub fn session_id(&self) -> SessionId {
        let digest = Sha256::new()
            .chain_update(b"ra/1 code session id")
            .chain_update(self.0.to_be_bytes())
            .finalize();
        let mut id = [0u8; SessionId::LEN];
        id.copy_from_slice(&digest[..SessionId::LEN]);
        SessionId(id)
    }
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl fmt::Debug for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lookup({self})")
    }
}

/// A short code: a lookup part for the broker and a secret part for the PAKE.
///
/// `Display` prints it grouped (`ABC-DEF-GHJ-KMN`); `Debug` hides the secret.
/// The secret is zeroed on drop and compared in constant time.
#[derive(Clone)]
pub struct Code {
    lookup: Lookup,
    secret: u32,
}

impl Code {
    /// Number of characters, separators not counted.
    pub const LEN: usize = 2 * PART_CHARS;
    /// Bits of the secret part (the part the broker never sees).
    pub const SECRET_BITS: u32 = PART_BITS;

    /// Draws a new code from a cryptographically secure generator.
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Code {
            lookup: Lookup::generate(rng),
            secret: rng.next_u32() & PART_MAX,
        }
    }

    /// Draws a new code from the operating system's generator.
    pub fn generate_random() -> Self {
        Self::generate(&mut OsRng)
    }

    /// The same secret with a new lookup part (after a collision on the broker).
    pub fn with_new_lookup<R: RngCore + CryptoRng + ?Sized>(&self, rng: &mut R) -> Self {
        Code {
            lookup: Lookup::generate(rng),
            secret: self.secret,
        }
    }

    /// Parses a code as a person typed it.
    ///
    /// # Errors
    /// [`CodeError`] naming what is wrong.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let normalized = crockford::normalize(input, Self::LEN)?;
        let lookup = Lookup(decode_part(&normalized[..PART_CHARS]));
        let secret = decode_part(&normalized[PART_CHARS..]);
        Ok(Code { lookup, secret })
    }

    /// The lookup part (what the broker sees).
    pub fn lookup(&self) -> Lookup {
        self.lookup
    }

    /// The session id of this code's session.
    pub fn session_id(&self) -> SessionId {
        self.lookup.session_id()
    }

    /// The bytes the PAKE runs over: the secret part, domain-separated
    /// (wiped from memory when dropped).
    pub fn pake_secret(&self) -> Zeroizing<Vec<u8>> {
        let mut secret = Zeroizing::new(b"ra/1 code secret:".to_vec());
        secret.extend_from_slice(&self.secret.to_be_bytes());
        secret
    }

    /// The twelve characters without separators.
    pub fn ungrouped(&self) -> String {
        let mut text = self.lookup.as_string();
        text.push_str(&encode_part(self.secret));
        text
    }

    /// The grouped form for reading aloud, e.g. `7G2-KXW-4PQ-9RT` (same as `Display`).
    pub fn grouped(&self) -> String {
        crockford::group(&Zeroizing::new(self.ungrouped()), &GROUPS)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Zeroizing::new(self.grouped()))
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({}-***)", self.lookup)
    }
}

impl PartialEq for Code {
    /// Constant-time comparison of both parts.
    fn eq(&self, other: &Self) -> bool {
        crockford::ct_eq(
            &[self.lookup.0, self.secret],
            &[other.lookup.0, other.secret],
        )
    }
}

impl Eq for Code {}

impl FromStr for Code {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Drop for Code {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// Six alphabet characters to 30 bits (the caller checked the alphabet).
fn decode_part(six: &str) -> u32 {
    let mut padded = [b'0'; 8];
    padded[..PART_CHARS].copy_from_slice(&six.as_bytes()[..PART_CHARS]);
    let mut bytes = [0u8; 5];
    // 8 alphabet characters always decode to 5 bytes.
    let _ = CROCKFORD.decode_mut(&padded, &mut bytes);
    let value = u64::from_be_bytes([0, 0, 0, bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]]);
    bytes.zeroize();
    ((value >> 10) as u32) & PART_MAX
}

/// 30 bits to six characters.
fn encode_part(value: u32) -> String {
    let shifted = u64::from(value & PART_MAX) << 10;
    let bytes = shifted.to_be_bytes();
    let mut text = CROCKFORD.encode(&bytes[3..]);
    text.truncate(PART_CHARS);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::CROCKFORD_ALPHABET;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn twelve_characters_grouped_in_threes() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let code = Code::generate(&mut rng);
        let grouped = code.grouped();
        assert_eq!(grouped.len(), 15);
        assert_eq!(
            grouped.split('-').map(str::len).collect::<Vec<_>>(),
            [3, 3, 3, 3]
        );
        assert!(
            code.ungrouped()
                .chars()
                .all(|c| CROCKFORD_ALPHABET.contains(c))
        );
        assert_eq!(code.to_string(), grouped);
        assert_eq!(code.lookup().to_string(), &code.ungrouped()[..6]);
    }

    #[test]
    fn round_trip_and_every_part_value_is_valid() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..2000 {
            let code = Code::generate(&mut rng);
            assert_eq!(Code::parse(&code.grouped()).unwrap(), code);
            assert_eq!(Code::parse(&code.ungrouped()).unwrap(), code);
            assert_eq!(
                Lookup::parse(&code.lookup().to_string()).unwrap(),
                code.lookup()
            );
        }
        for text in ["000000000000", "ZZZZZZZZZZZZ", "ZZZ-000-ZZZ-000"] {
            let code = Code::parse(text).unwrap();
            assert_eq!(code.ungrouped(), text.replace('-', ""));
        }
        assert_eq!(Code::parse("ZZZZZZZZZZZZ").unwrap().secret, PART_MAX);
    }

    #[test]
    fn forgiving_input() {
        let code = Code::parse("7G2-KXW-4PQ-9RT").unwrap();
        for typed in ["7g2kxw4pq9rt", " 7G2 KXW 4PQ 9RT\n", "7G2_KXW.4PQ--9RT"] {
            assert_eq!(Code::parse(typed).unwrap(), code, "{typed:?}");
        }
        assert_eq!(
            Code::parse("1I1-L10-O00-000").unwrap(),
            Code::parse("111-110-000-000").unwrap()
        );
    }

    #[test]
    fn errors() {
        assert_eq!(Code::parse(" - "), Err(CodeError::Empty));
        assert_eq!(
            Code::parse("7G2-KXW-4PQ-9R"),
            Err(CodeError::WrongLength {
                expected: 12,
                found: 11
            })
        );
        assert_eq!(
            Code::parse("7G2-KUW-4PQ-9RT"),
            Err(CodeError::InvalidCharacter {
                character: 'U',
                position: 6
            })
        );
    }

    #[test]
    fn secret_is_independent_of_lookup_and_hidden() {
        let a = Code::parse("AAA-AAA-BBB-BBB").unwrap();
        let b = Code::parse("AAA-AAA-BBB-BBC").unwrap();
        assert_eq!(a.session_id(), b.session_id());
        assert_ne!(a.pake_secret(), b.pake_secret());
        let c = Code::parse("AAA-AAB-BBB-BBB").unwrap();
        assert_ne!(a.session_id(), c.session_id());
        assert_eq!(format!("{a:?}"), "Code(AAAAAA-***)");
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let d = a.with_new_lookup(&mut rng);
        assert_eq!(d.pake_secret(), a.pake_secret());
    }
}
