//! `ra_diagnose`: "verify the firewall" from C — the same checks and verdict
//! as `ra-host diagnose` and `ra-helper diagnose` (`ra_core::runtime::diagnose`):
//! a UDP socket binds, the broker answers (round trip), the public address
//! it sees, whether the NAT keeps one mapping for two broker ports, local
//! firewall rules that drop the port; then a one-line verdict.

use std::ffi::{CString, c_char};

use ra_core::runtime::diagnose;

use crate::error::{Error, Result};
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::result::ra_result;
use crate::runtime::{block_on, ensure_may_block};
use crate::strings::c_string_lossy;

/// What `ra_diagnose` found (opaque; read it with `ra_diagnosis_get_*`, free
/// it with `ra_diagnosis_free`).
///
/// Thread-safety: read from any thread; free once, when no read is running.
pub struct ra_diagnosis {
    checks: Vec<(CString, bool, CString)>,
    ok: bool,
    verdict: CString,
}

impl Handle for ra_diagnosis {
    const NAME: &'static str = "ra_diagnosis";
}

/// One check of a diagnosis; the strings belong to the diagnosis.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_diagnosis_check {
    /// `sizeof(ra_diagnosis_check)`, set by the caller before the call; the library
    /// writes no more than that and sets it to the bytes it wrote.
    pub struct_size: usize,
    /// A stable name: `"udp_bind"`, `"broker"`, `"public_address"`,
    /// `"nat_mapping"`, `"firewall"` (one per rule that drops the port).
    pub name: *const c_char,
    /// Nonzero when it passed.
    pub ok: u8,
    /// What was found, for a person.
    pub detail: *const c_char,
}

// SAFETY: repr(C), Copy, `struct_size: usize` first.
unsafe impl crate::sized::SizedStruct for ra_diagnosis_check {
    const NAME: &'static str = "ra_diagnosis_check";
}

/// Runs every check against the broker of `broker` from the local address
/// it binds (`ra_broker_options_set_bind`), and writes the diagnosis to `out`.
/// Blocks up to the broker options' connect timeout (twice, at most). A
/// broker that cannot be reached is a failed check, not an error: the call
/// fails only for bad arguments.
///
/// Errors: `RA_RESULT_NULL_POINTER`, `RA_RESULT_INVALID_HANDLE`,
/// `RA_RESULT_INVALID_ARGUMENT` (no broker trust), `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// `broker` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_diagnose(
    broker: *const crate::broker::ra_broker_options,
    out: *mut *mut ra_diagnosis,
) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let options = unsafe { crate::broker::borrow(broker) }?.to_broker_options()?;
        ensure_may_block()?;
        let diagnosis = block_on(async move { diagnose(&options).await })?;
        let checks = diagnosis
            .checks()
            .into_iter()
            .map(|c| (c_string_lossy(c.name), c.ok, c_string_lossy(&c.detail)))
            .collect();
        let (ok, verdict) = diagnosis.verdict();
        let result = ra_diagnosis {
            checks,
            ok,
            verdict: c_string_lossy(&verdict),
        };
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(handle::into_raw(result)) };
        Ok(())
    })
}

/// Borrows a diagnosis.
///
/// # Safety
/// `diagnosis` is NULL or a handle not freed during the borrow.
unsafe fn borrow<'a>(diagnosis: *const ra_diagnosis) -> Result<&'a ra_diagnosis> {
    // SAFETY: forwarded contract.
    unsafe { handle::borrow(diagnosis, "diagnosis") }
}

/// Whether assistance can work from here (`ok`, nonzero: yes) and the
/// one-line verdict (`text`, owned by the diagnosis).
///
/// # Safety
/// `diagnosis` is NULL or a live handle; `ok` and `text` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_diagnosis_get_verdict(
    diagnosis: *const ra_diagnosis,
    ok: *mut u8,
    text: *mut *const c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let diagnosis = unsafe { borrow(diagnosis) }?;
        if ok.is_null() {
            return Err(Error::null("ok"));
        }
        if text.is_null() {
            return Err(Error::null("text"));
        }
        // SAFETY: both non-NULL and writable by contract.
        unsafe {
            ok.write(u8::from(diagnosis.ok));
            text.write(diagnosis.verdict.as_ptr());
        }
        Ok(())
    })
}

/// How many checks the diagnosis holds, written to `out`.
///
/// # Safety
/// `diagnosis` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_diagnosis_get_check_count(
    diagnosis: *const ra_diagnosis,
    out: *mut usize,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let diagnosis = unsafe { borrow(diagnosis) }?;
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(diagnosis.checks.len()) };
        Ok(())
    })
}

/// Check number `index` (from 0, in reading order), written to `out`.
/// `RA_RESULT_INVALID_ARGUMENT` past the last one.
///
/// # Safety
/// `diagnosis` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_diagnosis_get_check(
    diagnosis: *const ra_diagnosis,
    index: usize,
    out: *mut ra_diagnosis_check,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let diagnosis = unsafe { borrow(diagnosis) }?;
        // Checked first, so a NULL or unsized `out` is reported as such.
        // SAFETY: the caller's contract.
        unsafe { crate::sized::caller_size(out, "out") }?;
        let (name, ok, detail) = diagnosis.checks.get(index).ok_or_else(|| {
            Error::invalid(format!("check {index} of {}", diagnosis.checks.len()))
        })?;
        let check = ra_diagnosis_check {
            struct_size: std::mem::size_of::<ra_diagnosis_check>(),
            name: name.as_ptr(),
            ok: u8::from(*ok),
            detail: detail.as_ptr(),
        };
        // SAFETY: the caller's contract.
        unsafe { crate::sized::write_sized(out, check, "out") }
    })
}

/// Frees a diagnosis. NULL is a no-op.
///
/// # Safety
/// `diagnosis` is NULL or a handle no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_diagnosis_free(diagnosis: *mut ra_diagnosis) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(diagnosis, "diagnosis") })
}
