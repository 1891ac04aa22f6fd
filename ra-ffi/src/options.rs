//! `ra_invite_options` and `ra_accept_options`: how a host opens an
//! invitation and how a helper connects.
//!
//! Thread-safety: options are plain builders; use each from one thread at a time.

use std::ffi::c_char;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ra_core::audit::AuditLog;
use ra_core::policy::Policy;
use ra_core::runtime::{AcceptOptions, InviteOptions};

use crate::error::{Error, Result, positive_ms};
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::policy::ra_policy;
use crate::result::{RA_RESULT_IO, ra_result};
use crate::strings::str_arg;

/// How an invitation is opened (opaque builder; `ra_invite_options_new`,
/// `ra_invite_options_free`). Defaults: host name "ra host", lifetime 6 h
/// (capped by the policy), listen on every IPv4 address on a free port, the
/// default policy, no audit log.
#[derive(Debug, Clone)]
pub struct ra_invite_options {
    host_name: String,
    lifetime: Duration,
    listen: SocketAddr,
    advertise: Vec<SocketAddr>,
    policy: Policy,
    audit_log: Option<PathBuf>,
    rendezvous: Option<crate::broker::ra_broker_options>,
}

impl Handle for ra_invite_options {
    const NAME: &'static str = "ra_invite_options";
}

impl Default for ra_invite_options {
    fn default() -> Self {
        let defaults = InviteOptions::default();
        ra_invite_options {
            host_name: defaults.host_name,
            lifetime: defaults.lifetime,
            listen: defaults.listen,
            advertise: defaults.advertise,
            policy: defaults.policy,
            audit_log: None,
            rendezvous: None,
        }
    }
}

impl ra_invite_options {
    /// The ra-core options (opens the audit log).
    pub(crate) fn to_invite_options(&self) -> Result<InviteOptions> {
        let audit_log = match &self.audit_log {
            Some(path) => Some(AuditLog::open(path).map_err(|e| {
                Error::new(RA_RESULT_IO, format!("audit log {}: {e}", path.display()))
            })?),
            None => None,
        };
        // Fields added to ra-core later keep their defaults.
        #[allow(clippy::needless_update)]
        Ok(InviteOptions {
            host_name: self.host_name.clone(),
            lifetime: self.lifetime,
            listen: self.listen,
            advertise: self.advertise.clone(),
            policy: self.policy.clone(),
            audit_log,
            rendezvous: self
                .rendezvous
                .as_ref()
                .map(crate::broker::ra_broker_options::to_broker_options)
                .transpose()?,
            ..InviteOptions::default()
        })
    }
}

fn parse_address(text: &str, what: &str) -> Result<SocketAddr> {
    text.parse().map_err(|_| {
        Error::invalid(format!(
            "`{what}` {text:?} is not an IP:PORT address (e.g. 127.0.0.1:0 or [::1]:4000)"
        ))
    })
}

/// New invite options with the defaults, written to `out`.
///
/// # Safety
/// `out` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invite_options_new(out: *mut *mut ra_invite_options) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(handle::into_raw(ra_invite_options::default())) };
        Ok(())
    })
}

/// Runs `change` on the options.
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
unsafe fn with_invite(
    options: *mut ra_invite_options,
    change: impl FnOnce(&mut ra_invite_options) -> Result<()>,
) -> ra_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let options = unsafe { handle::borrow_mut(options, "options") }?;
        change(options)
    })
}

/// The name the helper sees (1–64 characters; checked when inviting).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `name` is NULL or
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invite_options_set_host_name(
    options: *mut ra_invite_options,
    name: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_invite(options, |o| {
            // SAFETY: forwarded contract.
            o.host_name = str_arg(name, "name")?.to_owned();
            Ok(())
        })
    }
}

/// How long the invitation stays open, in milliseconds (more than 0; the
/// policy's maximum caps it).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invite_options_set_lifetime_ms(
    options: *mut ra_invite_options,
    lifetime_ms: u64,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_invite(options, |o| {
            o.lifetime = positive_ms(lifetime_ms, "the lifetime")?;
            Ok(())
        })
    }
}

/// A broker for helpers behind NATs and firewalls (a copy of `broker`; NULL:
/// none, the default). The invitation then carries a rendezvous there (a
/// lookup part, never the password); a helper that reaches none of the
/// invitation's addresses connects by hole punching or through the broker's
/// relay, still authenticated by the pinned certificate and the password.
/// `ra_host_invite` fails with `RA_RESULT_BROKER` when the broker cannot be
/// reached, and with `RA_RESULT_INVALID_ARGUMENT` when its certificate is
/// not pinned or CA-checked.
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `broker` is NULL or
/// a live `ra_broker_options` not changed during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invite_options_set_rendezvous(
    options: *mut ra_invite_options,
    broker: *const crate::broker::ra_broker_options,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_invite(options, |o| {
            o.rendezvous = if broker.is_null() {
                None
            } else {
                // SAFETY: forwarded contract.
                Some(crate::broker::borrow(broker)?.clone())
            };
            Ok(())
        })
    }
}

/// Where to listen, as `"IP:PORT"` (port 0: any free port; `"0.0.0.0:0"`
/// listens on every IPv4 address).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `address` is NULL or
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invite_options_set_listen(
    options: *mut ra_invite_options,
    address: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_invite(options, |o| {
            // SAFETY: forwarded contract.
            o.listen = parse_address(str_arg(address, "address")?, "address")?;
            Ok(())
        })
    }
}

/// Adds an address (`"IP:PORT"`) to write into the invitation instead of the
/// ones derived from the listening socket.
///
/// # Safety
/// As `ra_invite_options_set_listen`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invite_options_add_address(
    options: *mut ra_invite_options,
    address: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_invite(options, |o| {
            // SAFETY: forwarded contract.
            let address = parse_address(str_arg(address, "address")?, "address")?;
            o.advertise.push(address);
            Ok(())
        })
    }
}

/// The host's policy (copied; `policy` stays the caller's).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `policy` is NULL or a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invite_options_set_policy(
    options: *mut ra_invite_options,
    policy: *const ra_policy,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_invite(options, |o| {
            // SAFETY: forwarded contract.
            o.policy = handle::borrow(policy, "policy")?.policy.clone();
            Ok(())
        })
    }
}

/// Appends the session's audit log (JSON lines) to the file at `path`
/// (opened when inviting).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `path` is NULL or
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invite_options_set_audit_log(
    options: *mut ra_invite_options,
    path: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_invite(options, |o| {
            // SAFETY: forwarded contract.
            o.audit_log = Some(PathBuf::from(str_arg(path, "path")?));
            Ok(())
        })
    }
}

/// Frees invite options. NULL is a no-op.
///
/// # Safety
/// `options` is NULL or a handle no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_invite_options_free(options: *mut ra_invite_options) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(options, "options") })
}

/// How a helper connects (opaque builder; `ra_accept_options_new`,
/// `ra_accept_options_free`). Defaults: name "ra helper", 5 s per address to
/// connect, 120 s for the host user to approve.
#[derive(Debug, Clone, Default)]
pub struct ra_accept_options {
    pub(crate) options: AcceptOptions,
}

impl Handle for ra_accept_options {
    const NAME: &'static str = "ra_accept_options";
}

/// New accept options with the defaults, written to `out`.
///
/// # Safety
/// `out` is NULL or valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_accept_options_new(out: *mut *mut ra_accept_options) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(handle::into_raw(ra_accept_options::default())) };
        Ok(())
    })
}

/// Runs `change` on the options.
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
unsafe fn with_accept(
    options: *mut ra_accept_options,
    change: impl FnOnce(&mut AcceptOptions) -> Result<()>,
) -> ra_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let options = unsafe { handle::borrow_mut(options, "options") }?;
        change(&mut options.options)
    })
}

/// The name the host sees in the connection request.
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `name` is NULL or
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_accept_options_set_name(
    options: *mut ra_accept_options,
    name: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_accept(options, |o| {
            // SAFETY: forwarded contract.
            o.helper_name = str_arg(name, "name")?.to_owned();
            Ok(())
        })
    }
}

/// The helper's organisation-signed identity (`ra-org issue`'s file: the
/// identity and the helper's private key), shown to the host inside the
/// authenticated channel; NULL removes it. `RA_RESULT_INVALID_ARGUMENT`, with
/// what is wrong, for text that is not a usable identity.
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `credential` is
/// NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_accept_options_set_identity(
    options: *mut ra_accept_options,
    credential: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_accept(options, |o| {
            // SAFETY: forwarded contract.
            o.identity = match crate::strings::opt_str_arg(credential, "credential")? {
                None => None,
                Some(text) => Some(std::sync::Arc::new(
                    ra_core::identity::HelperCredential::from_text(text)
                        .map_err(|e| Error::invalid(format!("identity: {e}")))?,
                )),
            };
            Ok(())
        })
    }
}

/// How long to try each address of the invitation, in milliseconds (> 0).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_accept_options_set_connect_timeout_ms(
    options: *mut ra_accept_options,
    timeout_ms: u64,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_accept(options, |o| {
            o.connect_timeout = positive_ms(timeout_ms, "the timeout")?;
            Ok(())
        })
    }
}

/// How long to wait for the host user to let the helper in, in milliseconds (> 0).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_accept_options_set_approval_timeout_ms(
    options: *mut ra_accept_options,
    timeout_ms: u64,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_accept(options, |o| {
            o.approval_timeout = positive_ms(timeout_ms, "the timeout")?;
            Ok(())
        })
    }
}

/// Frees accept options. NULL is a no-op.
///
/// # Safety
/// `options` is NULL or a handle no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_accept_options_free(options: *mut ra_accept_options) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(options, "options") })
}
