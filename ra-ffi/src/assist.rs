//! `ra_assist_offer`: a code a helper registered for Quick Assist, waiting for
//! the host to type it.
//!
//! The helper calls `ra_helper_assist`, reads the code
//! (`ra_assist_offer_get_code_info`) to the host, who types it
//! (`ra_host_join`), and waits with `ra_assist_offer_wait` until the host
//! authenticated and approved: that gives the `ra_helper` of the session.
//!
//! Thread-safety: an `ra_assist_offer` may be used from any number of
//! threads at once (the session goes to one caller of
//! `ra_assist_offer_wait`), except `ra_assist_offer_free`, which no other
//! call may overlap.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use ra_codec::OpenH264Decoder;
use ra_core::media::Decoder;
use ra_core::runtime::{HelperSession, assist};

use crate::broker::{CodeInfo, path_to_c, ra_broker_options, ra_code_info, write_code_info};
use crate::error::{Error, Result, wait_error};
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::helper::{accept_options, ra_helper, start};
use crate::host::timeout;
use crate::options::ra_accept_options;
use crate::result::*;
use crate::runtime::{block_on, ensure_may_block, runtime};

/// Where the rendezvous stands.
enum Outcome {
    /// No host has got in yet.
    Waiting,
    /// A host got in (the session and whether it is relayed), or waiting
    /// failed; the error is kept for every later wait.
    Done(Result<(HelperSession, bool)>),
    /// The session was handed out.
    Taken,
}

/// What the offer and its rendezvous task share.
struct Rendezvous {
    outcome: Mutex<Outcome>,
    changed: Condvar,
}

impl Rendezvous {
    fn lock(&self) -> MutexGuard<'_, Outcome> {
        // The outcome is replaced whole: a panic cannot leave half an update.
        self.outcome.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A code a helper registered (opaque), waiting for the host to type it.
/// Made by `ra_helper_assist`, freed by `ra_assist_offer_free`.
pub struct ra_assist_offer {
    info: CodeInfo,
    rendezvous: Arc<Rendezvous>,
}

impl Handle for ra_assist_offer {
    const NAME: &'static str = "ra_assist_offer";
}

/// **Quick Assist, helper side**: registers a fresh code with the broker and
/// writes the offer to `out`. Read its code (`ra_assist_offer_get_code_info`)
/// to the host, who types it (`ra_host_join`); then wait for the session
/// with `ra_assist_offer_wait`. Blocks until the code is registered (a round
/// trip to the broker). Each wrong attempt by a host is reported to the
/// broker, which closes the code after five. `options` may be NULL (the
/// helper's name and approval timeout).
///
/// Errors: `RA_RESULT_BROKER`, `RA_RESULT_BROKER_REFUSED`, `RA_RESULT_BIND`,
/// `RA_RESULT_TLS`, `RA_RESULT_INVALID_ARGUMENT` (no broker trust),
/// `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// `broker` and `options` are NULL or live handles; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_assist(
    broker: *const ra_broker_options,
    options: *const ra_accept_options,
    out: *mut *mut ra_assist_offer,
) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let broker = unsafe { crate::broker::borrow(broker) }?.to_broker_options()?;
        // SAFETY: the caller's contract.
        let options = unsafe { accept_options(options) }?;
        ensure_may_block()?;
        // A decoder per attempt: a failed attempt consumes one.
        let decoders = Box::new(|| OpenH264Decoder::new().map(|d| Box::new(d) as Box<dyn Decoder>));
        let offer = block_on(assist(broker, options, decoders))?
            .map_err(|e| wait_error(e, RA_RESULT_INVITE_FAILED))?;
        let rendezvous = Arc::new(Rendezvous {
            outcome: Mutex::new(Outcome::Waiting),
            changed: Condvar::new(),
        });
        let info = CodeInfo::new(offer.code(), offer.expires_at(), None);
        let task = rendezvous.clone();
        runtime()?.spawn(async move {
            let result = offer
                .connected()
                .await
                .map_err(|e| wait_error(e, RA_RESULT_ACCEPT_FAILED));
            *task.lock() = Outcome::Done(result);
            task.changed.notify_all();
            // If the offer was freed meanwhile, the session ends here.
        });
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(handle::into_raw(ra_assist_offer { info, rendezvous })) };
        Ok(())
    })
}

/// Borrows an offer handle.
///
/// # Safety
/// `offer` is NULL or a handle not freed during the borrow.
unsafe fn borrow<'a>(offer: *const ra_assist_offer) -> Result<&'a ra_assist_offer> {
    // SAFETY: forwarded contract.
    unsafe { handle::borrow(offer, "offer") }
}

/// The code to read to the host and when it expires (`path` is
/// `RA_PATH_UNKNOWN`; see `ra_helper_get_path` once connected), written to
/// `out`; the string belongs to the offer.
///
/// # Safety
/// `offer` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_assist_offer_get_code_info(
    offer: *const ra_assist_offer,
    out: *mut ra_code_info,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let offer = unsafe { borrow(offer) }?;
        // SAFETY: forwarded contract.
        unsafe { write_code_info(out, &offer.info) }
    })
}

/// Waits up to `timeout_ms` (`RA_TIMEOUT_INFINITE`: forever; 0: just look)
/// until a host typed the code, authenticated and was let in; then writes
/// the session (view-only, as from `ra_helper_accept`) to `out`.
/// `RA_RESULT_TIMEOUT` when no host got in yet. Once the session was given
/// out, `RA_RESULT_INVALID_STATE`.
///
/// Errors (returned again by every later call): `RA_RESULT_CODE_EXPIRED`,
/// `RA_RESULT_TOO_MANY_FAILURES`, `RA_RESULT_DENIED` (the host turned the
/// helper away), `RA_RESULT_POLICY`, `RA_RESULT_BROKER`, `RA_RESULT_BACKEND`,
/// and `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// `offer` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_assist_offer_wait(
    offer: *const ra_assist_offer,
    timeout_ms: u32,
    out: *mut *mut ra_helper,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let offer = unsafe { borrow(offer) }?;
        if out.is_null() {
            return Err(Error::null("out"));
        }
        if timeout_ms != 0 {
            ensure_may_block()?;
        }
        let started = Instant::now();
        let limit = timeout(timeout_ms);
        let rendezvous = &offer.rendezvous;
        let mut outcome = rendezvous.lock();
        loop {
            match &*outcome {
                Outcome::Waiting => {}
                Outcome::Taken => {
                    return Err(Error::new(
                        RA_RESULT_INVALID_STATE,
                        "this offer already gave its session",
                    ));
                }
                Outcome::Done(Err(e)) => return Err(e.clone()),
                Outcome::Done(Ok(_)) => break,
            }
            outcome = match limit {
                None => rendezvous
                    .changed
                    .wait(outcome)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(limit) => {
                    let left = limit.saturating_sub(started.elapsed());
                    if left.is_zero() {
                        return Err(Error::new(RA_RESULT_TIMEOUT, "no host got in yet"));
                    }
                    rendezvous
                        .changed
                        .wait_timeout(outcome, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        let Outcome::Done(Ok((session, relayed))) =
            std::mem::replace(&mut *outcome, Outcome::Taken)
        else {
            return Err(Error::new(RA_RESULT_INTERNAL, "the outcome changed"));
        };
        drop(outcome);
        let helper = start(session, path_to_c(Some(relayed)))?;
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(handle::into_raw(helper)) };
        Ok(())
    })
}

/// Frees an offer. A session not yet taken with `ra_assist_offer_wait` is
/// ended. The code stays registered with the broker until it expires: a host
/// that types it later gets in and is ended at once. NULL is a no-op.
///
/// # Safety
/// `offer` is NULL or a live handle that no other call is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_assist_offer_free(offer: *mut ra_assist_offer) -> ra_result {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle::free(offer, "offer") })
}
