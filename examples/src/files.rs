//! Reading the small files the programs take (identities, receipts)
//! without reading a huge one whole.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The first `limit + 1` bytes of `path` at most: more than `limit` bytes
/// back means the file is too large, which the caller reports in its terms.
///
/// # Errors
/// The file cannot be opened or read.
pub fn read_at_most(path: &Path, limit: usize) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}
