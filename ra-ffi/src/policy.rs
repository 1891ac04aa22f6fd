//! `ra_policy`: the host's switches, enforced by the engine.
//!
//! Thread-safety: a policy is not shared between threads while it is being
//! changed; reading it from several threads at once is fine.

use std::ffi::c_char;
use std::path::Path;
use std::time::Duration;

use ra_core::policy::Policy;

use crate::error::{Error, Result};
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::result::ra_result;
use crate::sized::{read_sized, write_sized};
use crate::strings::{str_arg, write_string};

/// The host's policy (opaque). Create with `ra_policy_new`,
/// `ra_policy_from_toml` or `ra_policy_load`; free with `ra_policy_free`.
#[derive(Debug, Clone)]
pub struct ra_policy {
    pub(crate) policy: Policy,
}

impl Handle for ra_policy {
    const NAME: &'static str = "ra_policy";
}

/// The policy's settings as plain values (see `ra_policy_get` and
/// `ra_policy_set`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ra_policy_settings {
    /// `sizeof(ra_policy_settings)`, set by the caller before the call; the library
    /// writes no more than that and sets it to the bytes it wrote.
    pub struct_size: usize,
    /// Nonzero: invitations may be opened ("Allow Remote Assistance connections").
    pub allow_assistance: u8,
    /// Nonzero: a helper may be granted control ("Allow this computer to be
    /// controlled remotely").
    pub allow_control: u8,
    /// Nonzero: the clipboard may be shared.
    pub allow_clipboard: u8,
    /// The longest an invitation stays valid, in milliseconds.
    pub max_invitation_lifetime_ms: u64,
    /// How long a connection request waits for an answer, in milliseconds.
    pub approval_timeout_ms: u64,
    /// Nonzero: the host may issue resume tickets
    /// (`ra_host_issue_resume_ticket`). Default: 0.
    pub allow_resume_tickets: u8,
    /// The longest a resume ticket stays valid, in milliseconds (at most 15
    /// minutes).
    pub max_resume_ticket_lifetime_ms: u64,
}

// SAFETY: repr(C), Copy, `struct_size: usize` first.
unsafe impl crate::sized::SizedStruct for ra_policy_settings {
    const NAME: &'static str = "ra_policy_settings";
}

/// The C view of a policy.
fn settings_of(p: &Policy) -> ra_policy_settings {
    ra_policy_settings {
        struct_size: std::mem::size_of::<ra_policy_settings>(),
        allow_assistance: u8::from(p.allow_assistance),
        allow_control: u8::from(p.allow_control),
        allow_clipboard: u8::from(p.allow_clipboard),
        max_invitation_lifetime_ms: millis(p.max_invitation_lifetime),
        approval_timeout_ms: millis(p.approval_timeout),
        allow_resume_tickets: u8::from(p.allow_resume_tickets),
        max_resume_ticket_lifetime_ms: millis(p.max_resume_ticket_lifetime),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Writes a new handle to `out`.
///
/// # Safety
/// `out` is NULL or valid for a pointer write.
unsafe fn write_policy(out: *mut *mut ra_policy, policy: Policy) -> Result<()> {
    if out.is_null() {
        return Err(Error::null("out"));
    }
    // SAFETY: non-NULL and writable by contract.
    unsafe { out.write(handle::into_raw(ra_policy { policy })) };
    Ok(())
}

/// A policy with the defaults: assistance and control allowed, invitations
/// up to 6 hours, 60 s to approve, no clipboard.
///
/// # Safety
/// `out` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_policy_new(out: *mut *mut ra_policy) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { write_policy(out, Policy::default()) })
}

/// Reads a policy from TOML text (`allow_control = false`, …); missing keys
/// take their default, unknown keys are an error naming their line
/// (`RA_RESULT_INVALID_POLICY`).
///
/// # Safety
/// `toml` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_policy_from_toml(
    toml: *const c_char,
    out: *mut *mut ra_policy,
) -> ra_result {
    guard(|| {
        // Checked first, so a NULL `out` is reported as such whatever else is wrong.
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let text = unsafe { str_arg(toml, "toml") }?;
        let policy = Policy::from_toml_str(text)?;
        // SAFETY: forwarded contract.
        unsafe { write_policy(out, policy) }
    })
}

/// Reads a policy file (TOML). `RA_RESULT_IO` when it cannot be read.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_policy_load(
    path: *const c_char,
    out: *mut *mut ra_policy,
) -> ra_result {
    guard(|| {
        // Checked first, so a NULL `out` is reported as such whatever else is wrong.
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let path = unsafe { str_arg(path, "path") }?;
        let policy = Policy::load(Path::new(path))?;
        // SAFETY: forwarded contract.
        unsafe { write_policy(out, policy) }
    })
}

/// The policy as TOML text, written to `out` (free it with `ra_string_free`).
///
/// # Safety
/// `policy` is NULL or a handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_policy_to_toml(
    policy: *const ra_policy,
    out: *mut *mut c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: validated handle, not freed concurrently by contract.
        let policy = unsafe { handle::borrow(policy, "policy") }?;
        let text = policy.policy.to_toml_string()?;
        // SAFETY: forwarded contract.
        unsafe { write_string(out, &text) }
    })
}

/// Reads the policy's settings into `out`.
///
/// # Safety
/// `policy` is NULL or a handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_policy_get(
    policy: *const ra_policy,
    out: *mut ra_policy_settings,
) -> ra_result {
    guard(|| {
        // SAFETY: validated handle.
        let p = &unsafe { handle::borrow(policy, "policy") }?.policy;
        // SAFETY: the caller's contract.
        unsafe { write_sized(out, settings_of(p), "out") }
    })
}

/// Replaces the policy's settings. Out-of-range values (a zero lifetime, more
/// than a year) are refused with `RA_RESULT_INVALID_POLICY` and change nothing.
///
/// # Safety
/// `policy` is NULL or a handle not used by another thread during the call;
/// `settings` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_policy_set(
    policy: *mut ra_policy,
    settings: *const ra_policy_settings,
) -> ra_result {
    guard(|| {
        // SAFETY: validated handle; exclusive use by contract.
        let target = unsafe { handle::borrow_mut(policy, "policy") }?;
        // Fields past the caller's `struct_size` (an older header) keep
        // their current value.
        // SAFETY: the caller's contract.
        let s = unsafe { read_sized(settings, settings_of(&target.policy), "settings") }?;
        // Start from the current policy so fields this struct does not carry keep their value.
        let mut new = target.policy.clone();
        new.allow_assistance = s.allow_assistance != 0;
        new.allow_control = s.allow_control != 0;
        new.allow_clipboard = s.allow_clipboard != 0;
        new.max_invitation_lifetime = Duration::from_millis(s.max_invitation_lifetime_ms);
        new.approval_timeout = Duration::from_millis(s.approval_timeout_ms);
        new.allow_resume_tickets = s.allow_resume_tickets != 0;
        new.max_resume_ticket_lifetime = Duration::from_millis(s.max_resume_ticket_lifetime_ms);
        new.validate()?;
        target.policy = new;
        Ok(())
    })
}

/// Frees a policy. NULL is a no-op.
///
/// # Safety
/// `policy` is NULL or a handle no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_policy_free(policy: *mut ra_policy) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(policy, "policy") })
}
