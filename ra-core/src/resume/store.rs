//! A sealed ticket in a file, used once: [`save_ticket`] writes it (only the
//! owner may read it), [`take_ticket`] takes it out. Taking renames the file
//! to `<name>.used` first (atomic: of two processes taking the same ticket,
//! one gets it) and then empties it, so a second take is told the ticket was
//! used, not that it is missing.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::{MAX_SEALED_TICKET, TicketKey};

/// Why a ticket file could not be written or taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TicketFileError {
    /// There is no ticket at that path (and none was used there).
    #[error("no resume ticket at {}", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The ticket at that path was used already.
    #[error("the resume ticket at {} was used already", path.display())]
    Used {
        /// The file.
        path: PathBuf,
    },
    /// A key file that does not hold a key (64 hex digits).
    #[error("{} does not hold a ticket key (64 hex digits)", path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
    },
    /// The file is larger than any ticket.
    #[error("{} is too large to be a resume ticket", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// Reading, writing or renaming failed.
    #[error("cannot access resume ticket {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Where a taken ticket's marker lives.
pub fn used_marker(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".used");
    PathBuf::from(name)
}

/// Writes `sealed` to `path` (replacing any ticket there, and forgetting
/// that one was used): through a temporary file renamed into place, so a
/// crash leaves the old file or the new one, readable by the owner only.
///
/// # Errors
/// [`TicketFileError::Io`].
pub fn save_ticket(path: &Path, sealed: &[u8]) -> Result<(), TicketFileError> {
    let io_error = |source| TicketFileError::Io {
        path: path.to_owned(),
        source,
    };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary).map_err(io_error)?;
    file.write_all(sealed).map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    drop(file);
    fs::rename(&temporary, path).map_err(io_error)?;
    match fs::remove_file(used_marker(path)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(e)),
        _ => Ok(()),
    }
}

/// The ticket key in the file at `path` (64 hex digits), or, when there is
/// no such file, a fresh one written there (readable by the owner only).
///
/// # Errors
/// [`TicketFileError::BadKey`], [`TicketFileError::Io`].
pub fn load_or_create_key(path: &Path) -> Result<TicketKey, TicketFileError> {
    let io_error = |source| TicketFileError::Io {
        path: path.to_owned(),
        source,
    };
    match fs::read(path) {
        Ok(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| TicketKey::from_hex(text).ok())
            .ok_or_else(|| TicketFileError::BadKey {
                path: path.to_owned(),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let key = TicketKey::generate(&mut rand_core::OsRng);
            let mut options = OpenOptions::new();
            // Never over a key another process just wrote.
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io_error)?;
            file.write_all(format!("{}\n", key.to_hex().as_str()).as_bytes())
                .map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
            Ok(key)
        }
        Err(e) => Err(io_error(e)),
    }
}

/// Takes the ticket at `path` out: it cannot be taken again.
///
/// # Errors
/// [`TicketFileError::Used`] when it was taken before,
/// [`TicketFileError::Missing`] when there is none, [`TicketFileError::TooLarge`],
/// [`TicketFileError::Io`].
pub fn take_ticket(path: &Path) -> Result<Vec<u8>, TicketFileError> {
    let marker = used_marker(path);
    let io_error = |source| TicketFileError::Io {
        path: path.to_owned(),
        source,
    };
    if let Err(e) = fs::rename(path, &marker) {
        return Err(match e.kind() {
            io::ErrorKind::NotFound if marker.exists() => TicketFileError::Used {
                path: path.to_owned(),
            },
            io::ErrorKind::NotFound => TicketFileError::Missing {
                path: path.to_owned(),
            },
            _ => io_error(e),
        });
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&marker)
        .map_err(io_error)?;
    let mut sealed = Vec::new();
    (&mut file)
        .take(MAX_SEALED_TICKET as u64 + 1)
        .read_to_end(&mut sealed)
        .map_err(io_error)?;
    // The marker keeps nothing of the ticket.
    file.set_len(0).map_err(io_error)?;
    if sealed.len() > MAX_SEALED_TICKET {
        return Err(TicketFileError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_file_is_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.ticket");
        assert!(matches!(
            take_ticket(&path),
            Err(TicketFileError::Missing { .. })
        ));
        save_ticket(&path, b"sealed bytes").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(take_ticket(&path).unwrap(), b"sealed bytes");
        let err = take_ticket(&path).unwrap_err();
        assert!(matches!(err, TicketFileError::Used { .. }), "{err}");
        assert!(err.to_string().contains("used already"));
        assert_eq!(fs::read(used_marker(&path)).unwrap(), b"");
        // A new ticket at the same place is usable again.
        save_ticket(&path, b"another").unwrap();
        assert!(!used_marker(&path).exists());
        assert_eq!(take_ticket(&path).unwrap(), b"another");
    }

    #[test]
    fn a_key_file_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ticket.key");
        let made = load_or_create_key(&path).unwrap();
        let read = load_or_create_key(&path).unwrap();
        assert_eq!(made.to_hex(), read.to_hex());
        assert_eq!(fs::read_to_string(&path).unwrap().trim().len(), 64);
        fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            load_or_create_key(&path),
            Err(TicketFileError::BadKey { .. })
        ));
    }

    #[test]
    fn an_oversized_file_is_no_ticket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        fs::write(&path, vec![0u8; MAX_SEALED_TICKET + 1]).unwrap();
        assert!(matches!(
            take_ticket(&path),
            Err(TicketFileError::TooLarge { .. })
        ));
    }
}
