//! The invitation password: the secret the host reads to the helper.
//!
//! A [`Password`] is 64 random bits from a CSPRNG, written as 13 characters of
//! Crockford base32 (`0123456789ABCDEFGHJKMNPQRSTVWXYZ`: no I, L, O or U) and
//! shown grouped for reading aloud: `XXXX-XXXX-XXXXX`. Parsing forgives what
//! people get wrong when they type what they heard: case, separators and the
//! confusable letters I, L (read as 1) and O (read as 0).
//!
//! The password is never sent, hashed or stored: both sides feed
//! [`Password::as_secret_bytes`] to the PAKE. Its [`Debug`] form hides it and
//! its bytes are zeroed when it is dropped.

use std::fmt;
use std::str::FromStr;

use rand_core::{CryptoRng, OsRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use crate::crockford::{self, CROCKFORD, Rejected};

/// The Crockford base32 alphabet used for passwords (and codes).
pub const CROCKFORD_ALPHABET: &str = crockford::ALPHABET;

/// Why a typed password was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Nothing but separators (or nothing at all) was entered.
    #[error("the password is empty")]
    Empty,
    /// Not the right number of characters (separators not counted).
    #[error("the password has {found} characters, expected {expected} (separators not counted)")]
    WrongLength {
        /// How many characters a password has.
        expected: usize,
        /// How many characters were entered, separators not counted.
        found: usize,
    },
    /// A character that is not part of a password, or (for the last character)
    /// a letter that no generated password ends with.
    #[error("invalid character {character:?} at position {position}")]
    InvalidCharacter {
        /// The character as it was typed.
        character: char,
        /// Its 1-based position in the input, separators included.
        position: usize,
    },
}

impl From<Rejected> for PasswordError {
    fn from(rejected: Rejected) -> Self {
        match rejected {
            Rejected::Empty => PasswordError::Empty,
            Rejected::WrongLength { expected, found } => {
                PasswordError::WrongLength { expected, found }
            }
            Rejected::InvalidCharacter {
                character,
                position,
            } => PasswordError::InvalidCharacter {
                character,
                position,
            },
        }
    }
}

/// The secret the host reads to the helper: 64 random bits.
///
/// `Display` prints it grouped (`XXXX-XXXX-XXXXX`); `Debug` prints
/// `Password(****)`. Comparison runs in constant time and the bytes are zeroed
/// on drop.
#[derive(Clone)]
pub struct Password {
    bytes: [u8; Password::SECRET_LEN],
}

impl Password {
    /// Number of secret bytes.
    pub const SECRET_LEN: usize = 8;
    /// Number of bits of entropy of a generated password.
    pub const ENTROPY_BITS: u32 = 64;
    /// Number of base32 characters of the written form (separators not counted).
    pub const ENCODED_LEN: usize = 13;
    /// Sizes of the groups of the displayed form.
    const GROUPS: [usize; 3] = [4, 4, 5];

    /// Draws a new password from a cryptographically secure generator.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = [0u8; Self::SECRET_LEN];
        rng.fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// Draws a new password from the operating system's generator.
    ///
    /// # Panics
    ///
    /// Only if the operating system cannot provide random bytes at all.
    pub fn generate_random() -> Self {
        Self::generate(&mut OsRng)
    }

    /// A password made of the given secret bytes (for tests and for bindings that
    /// carry the bytes themselves).
    pub fn from_secret_bytes(bytes: [u8; Self::SECRET_LEN]) -> Self {
        Self { bytes }
    }

    /// Parses a password as a person typed it.
    ///
    /// Case does not matter; `-`, `_`, `.` and whitespace are ignored; `I` and `L`
    /// are read as `1` and `O` as `0`.
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        let normalized = crockford::normalize(input, Self::ENCODED_LEN)?;
        let mut bytes = [0u8; Self::SECRET_LEN];
        let decoded = CROCKFORD.decode_mut(normalized.as_bytes(), &mut bytes);
        match decoded {
            Ok(Self::SECRET_LEN) => Ok(Self { bytes }),
            Ok(_) | Err(_) => {
                // Every character is in the alphabet and the length is right, so
                // the only possible failure is a last character whose unused bit
                // is set: report that character.
                let index = match decoded {
                    Err(partial) => partial.error.position,
                    Ok(_) => Self::ENCODED_LEN - 1,
                };
                bytes.zeroize();
                match crockford::typed_at(input, index) {
                    Some((character, position)) => Err(PasswordError::InvalidCharacter {
                        character,
                        position,
                    }),
                    None => Err(PasswordError::Empty),
                }
            }
        }
    }

    /// The 8 secret bytes: what the PAKE uses.
    pub fn as_secret_bytes(&self) -> &[u8; Self::SECRET_LEN] {
        &self.bytes
    }

    /// The 13 characters without separators, e.g. `7G2KXW4PQ9RT0`.
    pub fn ungrouped(&self) -> String {
        CROCKFORD.encode(&self.bytes)
    }

    /// The grouped form for reading aloud, e.g. `7G2K-XW4P-Q9RT0` (same as `Display`).
    pub fn grouped(&self) -> String {
        crockford::group(&Zeroizing::new(self.ungrouped()), &Self::GROUPS)
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Zeroizing::new(self.grouped()))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(****)")
    }
}

impl PartialEq for Password {
    /// Constant-time comparison: every byte is looked at whatever differs.
    fn eq(&self, other: &Self) -> bool {
        crockford::ct_eq(&self.bytes, &other.bytes)
    }
}

impl Eq for Password {}

impl FromStr for Password {
    type Err = PasswordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn alphabet_is_crockford() {
        assert_eq!(CROCKFORD_ALPHABET.len(), 32);
        for c in ['I', 'L', 'O', 'U'] {
            assert!(!CROCKFORD_ALPHABET.contains(c));
        }
        // Building the encoding does not panic.
        assert_eq!(CROCKFORD.encode(&[0u8; 8]), "0000000000000");
        assert_eq!(CROCKFORD.encode(&[0xff; 8]), "ZZZZZZZZZZZZY");
    }

    #[test]
    fn entropy_and_length() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let p = Password::generate(&mut rng);
        assert_eq!(
            p.as_secret_bytes().len() * 8,
            Password::ENTROPY_BITS as usize
        );
        assert_eq!(p.ungrouped().len(), Password::ENCODED_LEN);
        let g = p.grouped();
        assert_eq!(g.len(), 15);
        let groups: Vec<&str> = g.split('-').collect();
        assert_eq!(
            groups.iter().map(|s| s.len()).collect::<Vec<_>>(),
            [4, 4, 5]
        );
        assert!(
            g.chars()
                .all(|c| c == '-' || CROCKFORD_ALPHABET.contains(c))
        );
        assert_eq!(p.to_string(), g);
        // Different draws differ.
        let q = Password::generate(&mut rng);
        assert_ne!(p, q);
        let r = Password::generate_random();
        assert_ne!(r, Password::generate_random());
    }

    #[test]
    fn round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..1000 {
            let p = Password::generate(&mut rng);
            assert_eq!(Password::parse(&p.grouped()).unwrap(), p);
            assert_eq!(Password::parse(&p.ungrouped()).unwrap(), p);
            assert_eq!(p.to_string().parse::<Password>().unwrap(), p);
            assert_eq!(
                Password::from_secret_bytes(*p.as_secret_bytes()).as_secret_bytes(),
                p.as_secret_bytes()
            );
        }
        let p = Password::from_secret_bytes([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
        assert_eq!(p.grouped(), "28T5-CY4T-QKFF0");
    }

    #[test]
    fn insensitive_to_case_separators_and_confusables() {
        let p = Password::from_secret_bytes([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
        for typed in [
            "28T5-CY4T-QKFF0",
            "28t5-cy4t-qkff0",
            "28T5CY4TQKFF0",
            " 28t5 cy4t qkff0 \n",
            "28T5_CY4T.QKFF0",
            "28T5--CY4T--QKFFO",
            "28t5-cy4t-qkffo",
        ] {
            assert_eq!(Password::parse(typed).unwrap(), p, "{typed:?}");
        }
        let ones = Password::parse("1111-1111-11110").unwrap();
        assert_eq!(Password::parse("IiLl-1111-1111o").unwrap(), ones);
    }

    #[test]
    fn errors() {
        assert_eq!(Password::parse(""), Err(PasswordError::Empty));
        assert_eq!(Password::parse(" - _ . "), Err(PasswordError::Empty));
        assert_eq!(
            Password::parse("28T5-CY4T-QKFF"),
            Err(PasswordError::WrongLength {
                expected: 13,
                found: 12
            })
        );
        assert_eq!(
            Password::parse("28T5-CY4T-QKFF00"),
            Err(PasswordError::WrongLength {
                expected: 13,
                found: 14
            })
        );
        assert_eq!(
            Password::parse("28T5-CU4T-QKFF0"),
            Err(PasswordError::InvalidCharacter {
                character: 'U',
                position: 7
            })
        );
        assert_eq!(
            Password::parse("28T5-CY4T-QKF!0"),
            Err(PasswordError::InvalidCharacter {
                character: '!',
                position: 14
            })
        );
        assert_eq!(
            Password::parse("é8T5-CY4T-QKFF0"),
            Err(PasswordError::InvalidCharacter {
                character: 'é',
                position: 1
            })
        );
        // The last character carries 4 bits: an odd value is not a password.
        assert_eq!(
            Password::parse("28T5-CY4T-QKFF1"),
            Err(PasswordError::InvalidCharacter {
                character: '1',
                position: 15
            })
        );
        let msg = Password::parse("28T5-CY4T-QKFF").unwrap_err().to_string();
        assert!(msg.contains("expected 13"), "{msg}");
        let msg = Password::parse("28T5-CU4T-QKFF0").unwrap_err().to_string();
        assert_eq!(msg, "invalid character 'U' at position 7");
    }

    #[test]
    fn debug_hides_the_secret() {
        let p = Password::from_secret_bytes([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
        let debug = format!("{p:?} {:?}", Some(&p));
        assert!(!debug.contains("28T5"));
        assert!(!debug.contains("18"));
        assert_eq!(format!("{p:?}"), "Password(****)");
    }

    #[test]
    fn equality() {
        let a = Password::from_secret_bytes([1, 2, 3, 4, 5, 6, 7, 8]);
        let b = Password::from_secret_bytes([1, 2, 3, 4, 5, 6, 7, 8]);
        let c = Password::from_secret_bytes([1, 2, 3, 4, 5, 6, 7, 9]);
        let d = Password::from_secret_bytes([0, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(a.clone(), a);
    }
}
