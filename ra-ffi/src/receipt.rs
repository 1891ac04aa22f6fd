//! Checking what a session left behind: its signed consent receipt
//! (`ra_receipt_verify`) and the host's hash-chained audit log
//! (`ra_audit_verify`). The same checks as `ra-audit verify-receipt` and
//! `ra-audit verify`, and the same JSON.
//!
//! Thread-safety: both are plain functions of their arguments; call them
//! from any thread.

use std::ffi::c_char;
use std::fs::File;
use std::io::BufReader;

use ra_core::audit::chain::{self, ChainError};
use ra_core::identity::OrgPublicKey;
use ra_core::receipt::{ConsentReceipt, ReceiptCheck, ReceiptError};

use crate::error::{Error, Result};
use crate::guard::guard;
use crate::handle;
use crate::invitation::ra_invitation;
use crate::result::{
    RA_RESULT_AUDIT_LOG_BROKEN, RA_RESULT_INVALID_RECEIPT, RA_RESULT_IO, ra_result,
};
use crate::strings::{bytes_arg, opt_str_arg, str_arg, write_string};

impl From<ReceiptError> for Error {
    fn from(e: ReceiptError) -> Self {
        Error::new(RA_RESULT_INVALID_RECEIPT, e.to_string())
    }
}

impl From<ChainError> for Error {
    fn from(e: ChainError) -> Self {
        let code = match &e {
            ChainError::Read(_) => RA_RESULT_IO,
            _ => RA_RESULT_AUDIT_LOG_BROKEN,
        };
        Error::new(code, e.to_string())
    }
}

/// Reads the `len` bytes of a receipt at `data` (what a receipt event's
/// `text` holds, or a receipt file's contents).
///
/// # Safety
/// `data` is NULL or readable for `len` bytes.
unsafe fn receipt_arg(data: *const u8, len: usize) -> Result<ConsentReceipt> {
    // SAFETY: the caller's contract.
    let bytes = unsafe { bytes_arg(data, len, "receipt") }?;
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            RA_RESULT_INVALID_RECEIPT,
            format!(
                "not a consent receipt: not UTF-8 (invalid byte at {})",
                e.valid_up_to()
            ),
        )
    })?;
    Ok(ConsentReceipt::parse(text)?)
}

/// Checks a consent receipt (`receipt_len` bytes at `receipt`: the `text` of
/// a `RA_HOST_EVENT_RECEIPT` or `RA_HELPER_EVENT_RECEIPT`, or a receipt
/// file): the host's signature with the certificate it carries, the
/// helper's countersignature if there is one, and
/// - with `invitation` (may be NULL), that the certificate is the one the
///   invitation pins and the receipt is of the invitation's session;
/// - with `organisation_key` (`raorg1-…`, may be NULL), that the helper was
///   verified as one of that organisation's helpers.
///
/// On success writes to `out` (free with `ra_string_free`) what the receipt
/// records, as one JSON object: `session_id`, `host_name`,
/// `host_certificate`, `helper_name`, `verified` (`{organisation,
/// organisation_key, helper, helper_key}` or null), `countersigned`,
/// `approved_at`, `grants` (`[{scopes, from, to, ended}]`),
/// `grants_not_listed`, `ended_at`, `end_reason`, `audit_head` (times in
/// RFC 3339). `out` may be NULL when only the verdict matters.
///
/// Errors: `RA_RESULT_INVALID_RECEIPT` with the reason (altered, signed by
/// another host than the invitation pins, of another session, not of that
/// organisation, not a receipt); `RA_RESULT_INVALID_ARGUMENT` for a
/// malformed `organisation_key`.
///
/// # Safety
/// `receipt` is NULL or readable for `receipt_len` bytes; `invitation` is
/// NULL or a handle; `organisation_key` is NULL or NUL-terminated; `out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_receipt_verify(
    receipt: *const u8,
    receipt_len: usize,
    invitation: *const ra_invitation,
    organisation_key: *const c_char,
    out: *mut *mut c_char,
) -> ra_result {
    guard(|| {
        // The arguments first, so a bad one is reported whatever the receipt.
        let mut check = ReceiptCheck::default();
        if !invitation.is_null() {
            // SAFETY: a non-NULL handle by contract.
            let invitation = unsafe { handle::borrow(invitation, "invitation") }?;
            check.pinned = Some(invitation.invitation.fingerprint);
            check.session = Some(invitation.invitation.session_id);
        }
        // SAFETY: the caller's contract.
        if let Some(key) = unsafe { opt_str_arg(organisation_key, "organisation_key") }? {
            let key = key
                .parse::<OrgPublicKey>()
                .map_err(|e| Error::invalid(format!("organisation_key: {e}")))?;
            check.organisation = Some(key);
        }
        // SAFETY: the caller's contract.
        let parsed = unsafe { receipt_arg(receipt, receipt_len) }?;
        let summary = parsed.verify(&check)?;
        if out.is_null() {
            return Ok(());
        }
        // SAFETY: non-NULL and writable by contract.
        unsafe { write_string(out, &parsed.report(&summary).to_json()) }
    })
}

/// Checks the hash chain of every session in an audit log (`path`: the file
/// a host's `audit_log` option writes): that no line was edited, deleted,
/// inserted or reordered. With a receipt (`receipt_len` bytes at `receipt`;
/// NULL for none) of a session in the log, also that the log holds that
/// session up to the chain head the receipt records, so lines cut from its
/// end are found. The receipt's signatures are not checked here (see
/// `ra_receipt_verify`).
///
/// On success writes to `out` (free with `ra_string_free`; may be NULL) one
/// JSON object: `lines` and `sessions` (`[{session_id, head}]`).
///
/// Errors: `RA_RESULT_AUDIT_LOG_BROKEN` naming the first bad line (or the
/// truncated session); `RA_RESULT_IO` when the log cannot be read;
/// `RA_RESULT_INVALID_RECEIPT` for a receipt that cannot be read.
///
/// # Safety
/// `path` is NULL or NUL-terminated; `receipt` is NULL or readable for
/// `receipt_len` bytes; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_audit_verify(
    path: *const c_char,
    receipt: *const u8,
    receipt_len: usize,
    out: *mut *mut c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let path = unsafe { str_arg(path, "path") }?;
        let receipt = if receipt.is_null() {
            None
        } else {
            // SAFETY: the caller's contract.
            Some(unsafe { receipt_arg(receipt, receipt_len) }?)
        };
        let file = File::open(path)
            .map_err(|e| Error::new(RA_RESULT_IO, format!("cannot open {path}: {e}")))?;
        let summary = chain::verify(BufReader::new(file))?;
        if let Some(receipt) = &receipt {
            summary.check_receipt(receipt)?;
        }
        if out.is_null() {
            return Ok(());
        }
        // SAFETY: non-NULL and writable by contract.
        unsafe { write_string(out, &summary.report().to_string()) }
    })
}
