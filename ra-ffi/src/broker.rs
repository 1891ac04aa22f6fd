//! `ra_broker_options`: how to reach the broker of the short-code flows, and
//! `ra_code_info`: what a code is and how the session travels.
//!
//! The short-code flows pair the two sides through a broker (`ra-broker`)
//! instead of an invitation file:
//!
//! - **Easy Connect**: the host gets a code (`ra_host_easy_connect`) and reads
//!   it to the helper, who types it (`ra_helper_easy_connect`).
//! - **Quick Assist**: the helper gets a code (`ra_helper_assist`) and reads
//!   it to the host, who types it (`ra_host_join`).
//!
//! A code is 12 characters, shown `ABC-DEF-GHJ-KMN`; typing forgives case,
//! dashes, spaces and the confusable letters I, L and O. The broker sees only
//! its first half and relays encrypted packets when no direct path works;
//! the second half authenticates the session as the password does in the
//! invitation flow. The host still approves the connection and, separately,
//! control.
//!
//! Thread-safety: broker options are a plain builder; use each from one
//! thread at a time.

use std::ffi::{CString, c_char};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use ra_core::code::Code;
use ra_core::invitation::CertFingerprint;
use ra_core::runtime::{BrokerOptions, BrokerTrust};

use crate::error::{Error, Result, positive_ms};
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::invitation::unix_seconds;
use crate::result::ra_result;
use crate::strings::{c_string_lossy, str_arg};

/// The path is not known yet (an Easy Connect host before the helper came,
/// a Quick Assist helper before the host typed the code).
pub const RA_PATH_UNKNOWN: u32 = 0;
/// The two sides talk directly (always so in the invitation flow).
pub const RA_PATH_DIRECT: u32 = 1;
/// The packets go through the broker's relay (it sees only ciphertext).
pub const RA_PATH_RELAYED: u32 = 2;

/// The path constant of "relayed or not", when known.
pub(crate) fn path_to_c(relayed: Option<bool>) -> u32 {
    match relayed {
        None => RA_PATH_UNKNOWN,
        Some(false) => RA_PATH_DIRECT,
        Some(true) => RA_PATH_RELAYED,
    }
}

/// A short code and what goes with it (see `ra_host_get_code_info`,
/// `ra_assist_offer_get_code_info`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ra_code_info {
    /// `sizeof(ra_code_info)`, set by the caller before the call; the library
    /// writes no more than that and sets it to the bytes it wrote.
    pub struct_size: usize,
    /// The code as it is read out, `"ABC-DEF-GHJ-KMN"` (NUL-terminated; valid
    /// as long as the object it came from).
    pub code: *const c_char,
    /// When the code expires, in seconds since the Unix epoch.
    pub expires_at_unix: i64,
    /// How the session travels: `RA_PATH_*`.
    pub path: u32,
}

// SAFETY: repr(C), Copy, `struct_size: usize` first.
unsafe impl crate::sized::SizedStruct for ra_code_info {
    const NAME: &'static str = "ra_code_info";
}

/// The code of a host or an offer, kept for `ra_code_info`.
#[derive(Debug)]
pub(crate) struct CodeInfo {
    code: CString,
    expires_at_unix: i64,
    path: u32,
}

impl CodeInfo {
    pub(crate) fn new(code: &Code, expires_at: SystemTime, relayed: Option<bool>) -> Self {
        CodeInfo {
            code: c_string_lossy(&code.grouped()),
            expires_at_unix: unix_seconds(expires_at),
            path: path_to_c(relayed),
        }
    }

    /// The C view; the string points into `self`.
    pub(crate) fn to_c(&self) -> ra_code_info {
        ra_code_info {
            struct_size: std::mem::size_of::<ra_code_info>(),
            code: self.code.as_ptr(),
            expires_at_unix: self.expires_at_unix,
            path: self.path,
        }
    }
}

/// Writes `info`'s C view to `out`.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn write_code_info(out: *mut ra_code_info, info: &CodeInfo) -> Result<()> {
    // SAFETY: the caller's contract.
    unsafe { crate::sized::write_sized(out, info.to_c(), "out") }
}

/// Parses a code as a person typed it (`RA_RESULT_INVALID_CODE` otherwise).
///
/// # Safety
/// `code` is NULL or NUL-terminated.
pub(crate) unsafe fn code_arg(code: *const c_char) -> Result<Code> {
    // SAFETY: forwarded contract.
    Ok(Code::parse(unsafe { str_arg(code, "code") }?)?)
}

/// How to reach the broker (opaque builder; `ra_broker_options_new`,
/// `ra_broker_options_free`). Defaults: any local UDP port, a direct path
/// tried for up to 2 s before the relay, 5 s to reach the broker, codes valid
/// for 10 minutes (the broker and the host's policy may shorten that). The
/// broker's certificate must be pinned (`ra_broker_options_set_fingerprint`)
/// or checked against CA certificates (`ra_broker_options_set_ca`).
#[derive(Debug, Clone)]
pub struct ra_broker_options {
    broker: SocketAddr,
    trust: Option<BrokerTrust>,
    bind: Option<SocketAddr>,
    try_direct: Option<bool>,
    direct_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    code_lifetime: Option<Duration>,
}

impl Handle for ra_broker_options {
    const NAME: &'static str = "ra_broker_options";
}

impl ra_broker_options {
    /// The ra-core options; `RA_RESULT_INVALID_ARGUMENT` without a trust.
    pub(crate) fn to_broker_options(&self) -> Result<BrokerOptions> {
        let trust = self.trust.clone().ok_or_else(|| {
            Error::invalid(
                "the broker's certificate is not pinned: call ra_broker_options_set_fingerprint \
                 or ra_broker_options_set_ca",
            )
        })?;
        let mut options = BrokerOptions::new(self.broker, trust);
        if let Some(bind) = self.bind {
            options.bind = bind;
        }
        if let Some(try_direct) = self.try_direct {
            options.try_direct = try_direct;
        }
        if let Some(timeout) = self.direct_timeout {
            options.direct_timeout = timeout;
        }
        if let Some(timeout) = self.connect_timeout {
            options.connect_timeout = timeout;
        }
        if let Some(lifetime) = self.code_lifetime {
            options.code_lifetime = lifetime;
        }
        Ok(options)
    }
}

fn parse_address(text: &str, what: &str) -> Result<SocketAddr> {
    text.parse().map_err(|_| {
        Error::invalid(format!(
            "`{what}` {text:?} is not an IP:PORT address (e.g. 192.0.2.10:4433)"
        ))
    })
}

/// Borrows the broker options handle `options`.
///
/// # Safety
/// `options` is NULL or a handle not freed during the borrow.
pub(crate) unsafe fn borrow<'a>(
    options: *const ra_broker_options,
) -> Result<&'a ra_broker_options> {
    // SAFETY: forwarded contract.
    unsafe { handle::borrow(options, "broker") }
}

/// New broker options for the broker at `address` (`"IP:PORT"`, as
/// `ra-broker serve` prints it), written to `out`. Pin its certificate
/// before use.
///
/// # Safety
/// `address` is NULL or NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_broker_options_new(
    address: *const c_char,
    out: *mut *mut ra_broker_options,
) -> ra_result {
    guard(|| {
        // Checked first, so a NULL `out` is reported as such whatever else is wrong.
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let broker = parse_address(unsafe { str_arg(address, "address") }?, "address")?;
        let options = ra_broker_options {
            broker,
            trust: None,
            bind: None,
            try_direct: None,
            direct_timeout: None,
            connect_timeout: None,
            code_lifetime: None,
        };
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(handle::into_raw(options)) };
        Ok(())
    })
}

/// Runs `change` on the options.
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
unsafe fn with_broker(
    options: *mut ra_broker_options,
    change: impl FnOnce(&mut ra_broker_options) -> Result<()>,
) -> ra_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let options = unsafe { handle::borrow_mut(options, "options") }?;
        change(options)
    })
}

/// Pins the broker's certificate by its SHA-256 fingerprint,
/// `"sha256:"` and 64 hexadecimal digits (as `ra-broker serve` prints it).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `fingerprint` is
/// NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_broker_options_set_fingerprint(
    options: *mut ra_broker_options,
    fingerprint: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_broker(options, |o| {
            // SAFETY: forwarded contract.
            let text = str_arg(fingerprint, "fingerprint")?;
            let pinned: CertFingerprint = text.parse().map_err(|e| {
                Error::invalid(format!("`fingerprint` {text:?} is not sha256:HEX: {e}"))
            })?;
            o.trust = Some(BrokerTrust::Fingerprint(pinned));
            Ok(())
        })
    }
}

/// Trusts the broker's certificate if CA certificates signed it: `pem_len`
/// bytes of PEM text at `pem` (one or more certificates), and the name the
/// certificate must carry (`server_name`, a DNS name or an IP address).
/// Checked when connecting.
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `pem` is NULL or
/// readable for `pem_len` bytes; `server_name` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_broker_options_set_ca(
    options: *mut ra_broker_options,
    pem: *const u8,
    pem_len: usize,
    server_name: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_broker(options, |o| {
            if pem.is_null() {
                return Err(Error::null("pem"));
            }
            if pem_len == 0 || pem_len > 1024 * 1024 {
                return Err(Error::invalid(format!(
                    "pem_len {pem_len}: must be 1 byte to 1 MiB"
                )));
            }
            // SAFETY: forwarded contract.
            let name = str_arg(server_name, "server_name")?;
            if name.is_empty() {
                return Err(Error::invalid("`server_name` is empty"));
            }
            // SAFETY: non-NULL and readable for `pem_len` (bounded) bytes by
            // contract; copied.
            let pem = std::slice::from_raw_parts(pem, pem_len).to_vec();
            o.trust = Some(BrokerTrust::Ca {
                pem,
                server_name: name.to_owned(),
            });
            Ok(())
        })
    }
}

/// The local UDP address for the broker and the other side, as `"IP:PORT"`
/// (port 0: any free port). Default `"0.0.0.0:0"`.
///
/// # Safety
/// `options` is NULL or a handle used by no other thread; `address` is NULL
/// or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_broker_options_set_bind(
    options: *mut ra_broker_options,
    address: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_broker(options, |o| {
            // SAFETY: forwarded contract.
            o.bind = Some(parse_address(str_arg(address, "address")?, "address")?);
            Ok(())
        })
    }
}

/// Nonzero (the default): try a direct path to the other side before the
/// broker's relay; 0: always relay.
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_broker_options_set_try_direct(
    options: *mut ra_broker_options,
    try_direct: u8,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_broker(options, |o| {
            o.try_direct = Some(try_direct != 0);
            Ok(())
        })
    }
}

/// How long the direct path may take before the relay is used, in
/// milliseconds (> 0).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_broker_options_set_direct_timeout_ms(
    options: *mut ra_broker_options,
    timeout_ms: u64,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_broker(options, |o| {
            o.direct_timeout = Some(positive_ms(timeout_ms, "the timeout")?);
            Ok(())
        })
    }
}

/// How long reaching the broker, and the relayed path, may take, in
/// milliseconds (> 0).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_broker_options_set_connect_timeout_ms(
    options: *mut ra_broker_options,
    timeout_ms: u64,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_broker(options, |o| {
            o.connect_timeout = Some(positive_ms(timeout_ms, "the timeout")?);
            Ok(())
        })
    }
}

/// How long a code stays valid, in milliseconds (> 0; the broker, and for a
/// host its policy, may cap it).
///
/// # Safety
/// `options` is NULL or a handle used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_broker_options_set_code_lifetime_ms(
    options: *mut ra_broker_options,
    lifetime_ms: u64,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        with_broker(options, |o| {
            o.code_lifetime = Some(positive_ms(lifetime_ms, "the lifetime")?);
            Ok(())
        })
    }
}

/// Frees broker options. NULL is a no-op.
///
/// # Safety
/// `options` is NULL or a handle no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_broker_options_free(options: *mut ra_broker_options) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(options, "options") })
}
