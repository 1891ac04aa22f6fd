//! Crockford base32 as people read and type it, shared by
//! [passwords](crate::password) and [codes](crate::code): the alphabet
//! (`0123456789ABCDEFGHJKMNPQRSTVWXYZ`: no I, L, O or U) and its
//! data-encoding [`Encoding`], the forgiving normalisation of typed input,
//! grouping for reading aloud, and constant-time comparison of secrets.
//!
//! Typed input is a secret: its normalised form is zeroed when dropped.

use std::ops::{BitOr, BitXor};
use std::sync::LazyLock;

use data_encoding::{Encoding, Specification};
use zeroize::Zeroizing;

/// The Crockford base32 alphabet.
pub(crate) const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Crockford base32 without padding. The specification is a constant, checked by
/// the tests, so building it cannot fail at run time.
#[allow(clippy::expect_used)]
pub(crate) static CROCKFORD: LazyLock<Encoding> = LazyLock::new(|| {
    let mut spec = Specification::new();
    spec.symbols.push_str(ALPHABET);
    spec.encoding()
        .expect("the constant Crockford base32 specification is valid")
});

/// Why typed input was rejected; passwords and codes each turn it into their
/// own public error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Nothing but separators (or nothing at all).
    Empty,
    /// `found` characters (separators not counted) where `expected` were due.
    WrongLength { expected: usize, found: usize },
    /// `character`, as typed, at its 1-based `position` (separators included),
    /// is not in the alphabet.
    InvalidCharacter { character: char, position: usize },
}

/// Whether `character` is a separator people type between groups.
fn is_separator(character: char) -> bool {
    matches!(character, '-' | '_' | '.') || character.is_whitespace()
}

/// The characters of `input` that are not separators, as typed, each with its
/// 1-based position in `input` (separators included).
fn significant(input: &str) -> impl Iterator<Item = (char, usize)> + '_ {
    input
        .chars()
        .enumerate()
        .filter(|&(_, character)| !is_separator(character))
        .map(|(index, character)| (character, index + 1))
}

/// Typed input as `expected` alphabet characters: separators (`-`, `_`, `.`,
/// whitespace) removed, letters upper-cased, I and L read as 1 and O as 0.
/// The result is zeroed when dropped.
pub(crate) fn normalize(input: &str, expected: usize) -> Result<Zeroizing<String>, Rejected> {
    // Room for every byte of the input, so the buffer never moves (leaving an
    // unzeroed copy behind) as it grows.
    let mut normalized = Zeroizing::new(String::with_capacity(input.len()));
    for (character, position) in significant(input) {
        let mapped = match character.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        };
        if !mapped.is_ascii() || !ALPHABET.contains(mapped) {
            return Err(Rejected::InvalidCharacter {
                character,
                position,
            });
        }
        normalized.push(mapped);
    }
    if normalized.is_empty() {
        return Err(Rejected::Empty);
    }
    if normalized.len() != expected {
        return Err(Rejected::WrongLength {
            expected,
            found: normalized.len(),
        });
    }
    Ok(normalized)
}

/// The character typed as the `index`-th (0-based) significant character of
/// `input`, or as the last one if there are fewer, with its 1-based position;
/// `None` if `input` is only separators.
pub(crate) fn typed_at(input: &str, index: usize) -> Option<(char, usize)> {
    significant(input).take(index.saturating_add(1)).last()
}

/// `plain` cut into groups of `sizes` characters joined by `-`, for reading
/// aloud (`plain` is ASCII, as long as the groups together).
pub(crate) fn group(plain: &str, sizes: &[usize]) -> String {
    let mut out = String::with_capacity(plain.len() + sizes.len().saturating_sub(1));
    let mut start = 0;
    for (i, len) in sizes.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(plain.get(start..start + len).unwrap_or_default());
        start += len;
    }
    out
}

/// Whether two secrets are equal, in constant time: every element is looked
/// at whatever differs. Lengths are not secret: different lengths are unequal.
pub(crate) fn ct_eq<T>(a: &[T], b: &[T]) -> bool
where
    T: Copy + Default + PartialEq + BitXor<Output = T> + BitOr<Output = T>,
{
    let diff = a
        .iter()
        .zip(b)
        .fold(T::default(), |acc, (&x, &y)| acc | (x ^ y));
    a.len() == b.len() && std::hint::black_box(diff) == T::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_forgives_case_separators_and_confusables() {
        assert_eq!(normalize(" a-b_c.\tIlo\n", 6).unwrap().as_str(), "ABC110");
        assert_eq!(normalize(" - ", 6), Err(Rejected::Empty));
        assert_eq!(
            normalize("AB-C", 4),
            Err(Rejected::WrongLength {
                expected: 4,
                found: 3
            })
        );
        assert_eq!(
            normalize("A-é", 2),
            Err(Rejected::InvalidCharacter {
                character: 'é',
                position: 3
            })
        );
        assert_eq!(
            normalize("AU", 2),
            Err(Rejected::InvalidCharacter {
                character: 'U',
                position: 2
            })
        );
    }

    #[test]
    fn typed_characters_are_found_by_their_index() {
        assert_eq!(typed_at("a-b c", 0), Some(('a', 1)));
        assert_eq!(typed_at("a-b c", 2), Some(('c', 5)));
        assert_eq!(typed_at("a-b c", 9), Some(('c', 5)));
        assert_eq!(typed_at("a-b c", usize::MAX), Some(('c', 5)));
        assert_eq!(typed_at(" - ", 0), None);
    }

    #[test]
    fn grouping_and_comparison() {
        assert_eq!(group("ABCDEFGHJKMN", &[3; 4]), "ABC-DEF-GHJ-KMN");
        assert_eq!(group("ABCDEFGHJKMNP", &[4, 4, 5]), "ABCD-EFGH-JKMNP");
        assert!(ct_eq(&[1u8, 2, 3], &[1, 2, 3]));
        assert!(!ct_eq(&[1u8, 2, 3], &[1, 2, 4]));
        assert!(!ct_eq(&[1u8, 2], &[1, 2, 3]));
        assert!(ct_eq(&[7u32, 9], &[7, 9]));
        assert!(!ct_eq(&[7u32, 9], &[8, 9]));
    }
}
