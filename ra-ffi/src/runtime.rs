//! The one tokio runtime every handle shares, and the rule that C threads may
//! block on it but the runtime's own threads may not.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Handle, Runtime};

use crate::error::{Error, Result};
use crate::result::{RA_RESULT_RUNTIME, RA_RESULT_WRONG_THREAD};

/// Two workers: the engine's tasks are light (the heavy work — capture,
/// encode, decode, injection — runs on threads of its own), and the target
/// machines have few cores.
const WORKER_THREADS: usize = 2;

static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

/// The shared runtime, started on first use. It lives until the process
/// exits: handles come and go, and starting a runtime per handle would cost
/// threads for nothing.
pub(crate) fn runtime() -> Result<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKER_THREADS)
                .thread_name("ra-ffi-runtime")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::new(RA_RESULT_RUNTIME, e.clone()))
}

/// Fails with `RA_RESULT_WRONG_THREAD` on a runtime thread, where blocking
/// would stall (or, for `block_on`, panic) the engine.
pub(crate) fn ensure_may_block() -> Result<()> {
    if Handle::try_current().is_ok() {
        return Err(Error::new(
            RA_RESULT_WRONG_THREAD,
            "this call blocks and cannot be made on an engine thread (e.g. from a log callback)",
        ));
    }
    Ok(())
}

/// Runs `future` to completion on the shared runtime, blocking this (C) thread.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output> {
    ensure_may_block()?;
    Ok(runtime()?.block_on(future))
}
