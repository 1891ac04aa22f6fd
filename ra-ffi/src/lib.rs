//! The C ABI of **ra**, the embeddable remote-assistance engine.
//!
//! This crate builds `libra_ffi.so` / `libra_ffi.a`; its header is
//! `include/ra.h`, generated from these sources by cbindgen (a test checks
//! that the committed header is up to date). The conventions every function
//! follows are in `ra-ffi/README.md`; in short:
//!
//! - opaque handles with `_new`/`_free` pairs, validated on every call;
//! - every fallible function returns an [`ra_result`]; out-params are written
//!   only on success; [`ra_last_error_message`](error::ra_last_error_message)
//!   gives the detail of the last failure on the calling thread;
//! - no panic crosses the boundary: a panic becomes [`RA_RESULT_PANIC`](result::RA_RESULT_PANIC);
//! - the API is blocking or polling, never async: the library owns a shared
//!   tokio runtime whose threads the application never sees, except through
//!   callbacks whose threads are documented.
//!
//! Modules hold one kind of object each: [`host`] and [`helper`] are the two
//! roles (started from an invitation or from a short code through a broker,
//! see [`broker`]; [`assist`] is the helper's Quick Assist offer);
//! [`backends`] lets C supply a capturer, an encoder and an injector.
// The C ABI is unsafe by nature; every unsafe block says why it is sound.
#![allow(unsafe_code)]
// C names: `ra_host`, `ra_result`, `RA_RESULT_OK`.
#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// The order of the modules is the order of the header: basics first, then
// the objects, then the two roles.

// Basics: results, errors, strings, version, logging, fault injection.
pub mod result;

pub mod error;

pub mod strings;

pub mod version;

pub mod log;

pub mod debug;

// Values and objects.
pub mod types;

pub mod input;

pub mod policy;

pub mod invitation;

pub mod receipt;

pub mod options;

pub mod broker;

pub mod events;

pub mod backends;

// The two roles.
pub mod host;
// Resume tickets: a host's session re-opened after a restart.
pub mod resume;

pub mod redact;

pub mod helper;

pub mod assist;

pub mod diagnose;

pub mod stats;

// Internals.
mod dispatch;
mod guard;
mod handle;
mod queue;
mod role;
mod runtime;
mod sized;

pub use result::ra_result;
