//! `ra_invitation`: what the host hands out (file, token, email) and the
//! helper accepts.
//!
//! Thread-safety: an invitation never changes after it is made, so any number
//! of threads may read it at once.

use std::ffi::{CString, c_char};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use ra_core::invitation::{EmailOptions, Invitation};

use crate::error::{Error, Result};
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::result::{RA_RESULT_INTERNAL, ra_result};
use crate::strings::{bytes_arg, c_string_lossy, opt_str_arg, str_arg, write_string};

/// An invitation (opaque). Made by `ra_host_invitation`,
/// `ra_invitation_load`, `ra_invitation_parse` or `ra_invitation_from_token`;
/// freed with `ra_invitation_free`. It never holds the password.
#[derive(Debug)]
pub struct ra_invitation {
    pub(crate) invitation: Invitation,
    host_name: CString,
    session_id: CString,
}

impl Handle for ra_invitation {
    const NAME: &'static str = "ra_invitation";
}

/// What an invitation says, as plain values (see `ra_invitation_get_info`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_invitation_info {
    /// `sizeof(ra_invitation_info)`, set by the caller before the call; the library
    /// writes no more than that and sets it to the bytes it wrote.
    pub struct_size: usize,
    /// The host's name, NUL-terminated UTF-8; valid as long as the invitation.
    pub host_name: *const c_char,
    /// The session id in hex; valid as long as the invitation.
    pub session_id: *const c_char,
    /// When it was made, in seconds since the Unix epoch.
    pub created_at_unix: i64,
    /// When it expires, in seconds since the Unix epoch.
    pub expires_at_unix: i64,
    /// How many addresses it lists.
    pub address_count: usize,
}

// SAFETY: repr(C), Copy, `struct_size: usize` first.
unsafe impl crate::sized::SizedStruct for ra_invitation_info {
    const NAME: &'static str = "ra_invitation_info";
}

impl ra_invitation {
    pub(crate) fn new(invitation: Invitation) -> Self {
        ra_invitation {
            host_name: c_string_lossy(&invitation.host_name),
            session_id: c_string_lossy(&invitation.session_id.to_string()),
            invitation,
        }
    }
}

pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Writes a new invitation handle to `out`.
///
/// # Safety
/// `out` is NULL or valid for a pointer write.
pub(crate) unsafe fn write_invitation(
    out: *mut *mut ra_invitation,
    invitation: Invitation,
) -> Result<()> {
    if out.is_null() {
        return Err(Error::null("out"));
    }
    // SAFETY: non-NULL and writable by contract.
    unsafe { out.write(handle::into_raw(ra_invitation::new(invitation))) };
    Ok(())
}

/// Reads an invitation file (`.rainv`). `RA_RESULT_IO` when it cannot be
/// read, `RA_RESULT_INVALID_INVITATION` when it is malformed. An expired
/// invitation loads (accepting it fails).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_load(
    path: *const c_char,
    out: *mut *mut ra_invitation,
) -> ra_result {
    guard(|| {
        // Checked first, so a NULL `out` is reported as such whatever else is wrong.
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let path = unsafe { str_arg(path, "path") }?;
        let invitation = Invitation::load(Path::new(path))?;
        // SAFETY: forwarded contract.
        unsafe { write_invitation(out, invitation) }
    })
}

/// Parses the contents of an invitation file held in memory (`len` bytes at
/// `data`).
///
/// # Safety
/// `data` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_parse(
    data: *const u8,
    len: usize,
    out: *mut *mut ra_invitation,
) -> ra_result {
    guard(|| {
        // Checked first, so a NULL `out` is reported as such whatever else is wrong.
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let bytes = unsafe { bytes_arg(data, len, "data") }?;
        let invitation = Invitation::parse_file(bytes)?;
        // SAFETY: forwarded contract.
        unsafe { write_invitation(out, invitation) }
    })
}

/// Parses an invitation token (`ra1-…`, as pasted; whitespace is ignored).
///
/// # Safety
/// `token` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_from_token(
    token: *const c_char,
    out: *mut *mut ra_invitation,
) -> ra_result {
    guard(|| {
        // Checked first, so a NULL `out` is reported as such whatever else is wrong.
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let token = unsafe { str_arg(token, "token") }?;
        let invitation = Invitation::from_token(token)?;
        // SAFETY: forwarded contract.
        unsafe { write_invitation(out, invitation) }
    })
}

/// Borrows an invitation handle.
///
/// # Safety
/// `invitation` is NULL or a handle not freed during the borrow.
unsafe fn borrow<'a>(invitation: *const ra_invitation) -> Result<&'a ra_invitation> {
    // SAFETY: forwarded contract.
    unsafe { handle::borrow(invitation, "invitation") }
}

/// Saves the invitation file at `path` (the helper opens it; it holds no password).
///
/// # Safety
/// `invitation` is NULL or a handle; `path` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_save(
    invitation: *const ra_invitation,
    path: *const c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let invitation = unsafe { borrow(invitation) }?;
        // SAFETY: the caller's contract.
        let path = unsafe { str_arg(path, "path") }?;
        invitation.invitation.save(Path::new(path))?;
        Ok(())
    })
}

/// The invitation as a one-line token to paste (`ra1-…`), written to `out`
/// (free with `ra_string_free`).
///
/// # Safety
/// `invitation` is NULL or a handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_to_token(
    invitation: *const ra_invitation,
    out: *mut *mut c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let invitation = unsafe { borrow(invitation) }?;
        // SAFETY: forwarded contract.
        unsafe { write_string(out, &invitation.invitation.to_token()) }
    })
}

/// The contents of the invitation file, written to `out` (free with
/// `ra_string_free`).
///
/// # Safety
/// `invitation` is NULL or a handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_to_file_string(
    invitation: *const ra_invitation,
    out: *mut *mut c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let invitation = unsafe { borrow(invitation) }?;
        // SAFETY: forwarded contract.
        unsafe { write_string(out, &invitation.invitation.to_file_string()) }
    })
}

/// Reads `count` recipient addresses.
///
/// # Safety
/// `to` is NULL (only with `count` 0) or points at `count` NUL-terminated strings.
unsafe fn recipients(to: *const *const c_char, count: usize) -> Result<Vec<String>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if to.is_null() {
        return Err(Error::null("to"));
    }
    if count > 1024 {
        return Err(Error::invalid(format!("{count} recipients (at most 1024)")));
    }
    // SAFETY: non-NULL and `count` readable pointers by contract; count is small.
    let pointers = unsafe { std::slice::from_raw_parts(to, count) };
    pointers
        .iter()
        // SAFETY: each is a NUL-terminated string by contract.
        .map(|&p| unsafe { str_arg(p, "to[i]") }.map(str::to_owned))
        .collect()
}

/// The invitation as an RFC 5322 email message (`.eml`: instructions, the
/// token, the invitation file attached; never the password), written to
/// `out` (free with `ra_string_free`). `to` holds `to_count` addresses (may
/// be 0 for a draft); `subject` may be NULL for the default.
/// `RA_RESULT_EMAIL` for a malformed address or subject.
///
/// # Safety
/// `invitation` is NULL or a handle; `from` and `subject` are NULL or
/// NUL-terminated; `to` is NULL or holds `to_count` NUL-terminated strings;
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_to_email(
    invitation: *const ra_invitation,
    from: *const c_char,
    to: *const *const c_char,
    to_count: usize,
    subject: *const c_char,
    out: *mut *mut c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract, for each argument.
        let invitation = unsafe { borrow(invitation) }?;
        // SAFETY: as above.
        let from = unsafe { str_arg(from, "from") }?;
        // SAFETY: as above.
        let to = unsafe { recipients(to, to_count) }?;
        // SAFETY: as above.
        let subject = unsafe { opt_str_arg(subject, "subject") }?;
        let email = invitation.invitation.to_email(&EmailOptions {
            from: from.to_owned(),
            to,
            subject: subject.map(str::to_owned),
        })?;
        let text = String::from_utf8(email)
            .map_err(|_| Error::new(RA_RESULT_INTERNAL, "the email is not UTF-8 text"))?;
        // SAFETY: forwarded contract.
        unsafe { write_string(out, &text) }
    })
}

/// A `mailto:` URI with the recipients, a subject and the token (a URI cannot
/// carry an attachment), written to `out` (free with `ra_string_free`).
///
/// # Safety
/// As `ra_invitation_to_email`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_mailto(
    invitation: *const ra_invitation,
    to: *const *const c_char,
    to_count: usize,
    out: *mut *mut c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let invitation = unsafe { borrow(invitation) }?;
        // SAFETY: the caller's contract.
        let to = unsafe { recipients(to, to_count) }?;
        // SAFETY: forwarded contract.
        unsafe { write_string(out, &invitation.invitation.mailto_uri(&to)) }
    })
}

/// What the invitation says (host name, session id, times), written to `out`.
/// The strings belong to the invitation.
///
/// # Safety
/// `invitation` is NULL or a handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_get_info(
    invitation: *const ra_invitation,
    out: *mut ra_invitation_info,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let invitation = unsafe { borrow(invitation) }?;
        let info = ra_invitation_info {
            struct_size: std::mem::size_of::<ra_invitation_info>(),
            host_name: invitation.host_name.as_ptr(),
            session_id: invitation.session_id.as_ptr(),
            created_at_unix: unix_seconds(invitation.invitation.created_at),
            expires_at_unix: unix_seconds(invitation.invitation.expires_at),
            address_count: invitation.invitation.addresses.len(),
        };
        // SAFETY: the caller's contract.
        unsafe { crate::sized::write_sized(out, info, "out") }
    })
}

/// Frees an invitation. NULL is a no-op.
///
/// # Safety
/// `invitation` is NULL or a handle no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invitation_free(invitation: *mut ra_invitation) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(invitation, "invitation") })
}
