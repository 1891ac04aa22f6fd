//! Resume tickets: `ra_host_issue_resume_ticket` writes one for the live
//! session to a file, sealed with the application's 32-byte key, and
//! `ra_host_resume_from_ticket` re-opens the session from that file after
//! the host's application or machine restarted (taking the ticket out of
//! the file: it is used once).
//!
//! Thread-safety: as `ra_host`'s functions.

use std::ffi::c_char;
use std::path::Path;
use std::time::Duration;

use ra_core::resume::{ResumeError, TicketFileError, TicketKey, save_ticket};
use ra_core::runtime::{InviteError, ResumeOptions, resume_from_file};

use crate::backends::ra_host_backends;
use crate::error::{Error, Result};
use crate::guard::guard;
use crate::host::{Origin, Start, finish, ra_host};
use crate::options::ra_invite_options;
use crate::result::*;
use crate::role::{Role, borrow};
use crate::runtime::{block_on, ensure_may_block};
use crate::strings::{bytes_arg, str_arg};

/// How long issuing a ticket may take (a round trip to the engine).
const ISSUE_TIMEOUT: Duration = Duration::from_secs(30);

/// The application's key from C.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes.
unsafe fn key_arg(key: *const u8, key_len: usize) -> Result<TicketKey> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { bytes_arg(key, key_len, "key") }?;
    TicketKey::from_bytes(bytes).map_err(|e| Error::invalid(e.to_string()))
}

/// The result code for why a ticket could not be used.
pub(crate) fn ticket_error(e: &InviteError) -> Option<ra_result> {
    Some(match e {
        InviteError::ResumeTicket(ResumeError::Expired { .. }) => RA_RESULT_TICKET_EXPIRED,
        InviteError::ResumeTicket(ResumeError::KeyLength { .. }) => RA_RESULT_INVALID_ARGUMENT,
        InviteError::ResumeTicket(_) => RA_RESULT_TICKET_INVALID,
        InviteError::ResumeTicketFile(TicketFileError::Used { .. }) => RA_RESULT_TICKET_USED,
        InviteError::ResumeTicketFile(TicketFileError::TooLarge { .. }) => RA_RESULT_TICKET_INVALID,
        InviteError::ResumeTicketFile(_) => RA_RESULT_IO,
        InviteError::ResumeNotAllowed => RA_RESULT_POLICY,
        _ => return None,
    })
}

/// Issues a single-use resume ticket for the live session, valid for
/// `lifetime_ms` (capped by the policy's `max_resume_ticket_lifetime`, at
/// most 15 minutes), sealed with the application's `key` (`key_len` 32
/// bytes), and writes it to the file `path` (readable by the owner only;
/// replacing any ticket there). The helper is told, and reconnects by itself
/// when the host re-opens the session with `ra_host_resume_from_ticket`.
/// The audit log records it.
///
/// Errors: `RA_RESULT_POLICY` (the policy does not have
/// `allow_resume_tickets`), `RA_RESULT_NO_SESSION` (no approved helper),
/// `RA_RESULT_NOT_NOW` (a host started from a code: it has no address of
/// its own), `RA_RESULT_INVALID_ARGUMENT` (a key not 32 bytes, a lifetime
/// under a second), `RA_RESULT_IO` (the file), `RA_RESULT_SESSION_CLOSED`,
/// `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// `host` is NULL or a live handle; `key` is NULL or valid for `key_len`
/// bytes; `path` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_issue_resume_ticket(
    host: *const ra_host,
    key: *const u8,
    key_len: usize,
    lifetime_ms: u64,
    path: *const c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let host = unsafe { borrow(host) }?;
        // SAFETY: the caller's contract.
        let key = unsafe { key_arg(key, key_len) }?;
        // SAFETY: the caller's contract.
        let path = Path::new(unsafe { str_arg(path, "path") }?);
        ensure_may_block()?;
        let sealed = host.controller().issue_resume_ticket_blocking(
            &key,
            Duration::from_millis(lifetime_ms),
            ISSUE_TIMEOUT,
        )?;
        save_ticket(path, &sealed).map_err(|e| Error::new(RA_RESULT_IO, e.to_string()))
    })
}

/// Re-opens the session a resume ticket is for, after the host's
/// application or machine restarted: takes the ticket out of the file
/// `path` (a second call is `RA_RESULT_TICKET_USED`), opens it with `key`,
/// listens where the session listened, with its TLS identity, and writes the
/// host to `out`. The helper's ra reconnects by itself; its
/// `RA_HOST_EVENT_CONNECTION_REQUEST` has `resumes` set and needs approval;
/// it starts view-only, and control needs a new grant.
///
/// `options` (NULL: defaults) gives the policy (which must still allow
/// resume tickets), the audit log and the outage grace; its host name,
/// lifetime, listening address and addresses are the ticket's. `backends`
/// as for `ra_host_invite`.
///
/// Errors: `RA_RESULT_TICKET_USED`, `RA_RESULT_TICKET_EXPIRED`,
/// `RA_RESULT_TICKET_INVALID` (truncated, not a ticket, sealed with another
/// key: another host's, or altered), `RA_RESULT_IO` (no such file),
/// `RA_RESULT_POLICY` (resume tickets or assistance turned off),
/// `RA_RESULT_BIND` (the port is taken), `RA_RESULT_INVALID_ARGUMENT` (a key
/// not 32 bytes), `RA_RESULT_BACKEND`, `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// `path` is NULL or NUL-terminated; `key` is NULL or valid for `key_len`
/// bytes; `options` and `backends` are NULL or handles not used by another
/// thread during the call; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_resume_from_ticket(
    path: *const c_char,
    key: *const u8,
    key_len: usize,
    options: *const ra_invite_options,
    backends: *mut ra_host_backends,
    out: *mut *mut ra_host,
) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let path = Path::new(unsafe { str_arg(path, "path") }?).to_owned();
        // SAFETY: the caller's contract.
        let key = unsafe { key_arg(key, key_len) }?;
        ensure_may_block()?;
        // SAFETY: forwarded contract.
        let start = unsafe { Start::new(options, backends) }?;
        let options = ResumeOptions::from(start.options);
        let handle = block_on(resume_from_file(&path, &key, options, start.backends))??;
        // SAFETY: forwarded contract.
        unsafe { finish(start.queue, start.liveness, handle, Origin::Resumed, out) }
    })
}
