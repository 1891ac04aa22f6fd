//! `ra_host`: an open invitation — or a short code (Easy Connect, Quick
//! Assist) — and the session made through it.
//!
//! Thread-safety: an `ra_host` may be used from any number of threads at
//! once (commands are serialised by the engine; each event goes to one
//! caller of `ra_host_next_event`), except `ra_host_free`, which no other
//! call may overlap.

use std::ffi::{c_char, c_void};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ra_core::invitation::Invitation;
use ra_core::password::Password;
use ra_core::runtime::{
    CodeHostSession, HostBackends, HostController, HostEvents, HostHandle, InviteOptions,
    easy_connect_host, invite, join,
};
use ra_core::session::{ConnectionId, HostCommand, HostEvent};

use crate::backends::{BackendSink, Liveness, ra_host_backends};
use crate::broker::{CodeInfo, code_arg, ra_broker_options, ra_code_info, write_code_info};
use crate::error::{Error, Result, claim_error, wait_error};
use crate::events::{HostItem, ra_host_event};
use crate::guard::{guard, in_backend_callback};
use crate::handle::{self, Handle};
use crate::invitation::{ra_invitation, write_invitation};
use crate::options::ra_invite_options;
use crate::policy::ra_policy;
use crate::queue::EventQueue;
use crate::result::*;
use crate::role::{Events, Role, borrow, command, shutdown, text_command};
use crate::runtime::{block_on, ensure_may_block, runtime};
use crate::strings::write_string;

/// `timeout_ms` that waits without limit.
pub const RA_TIMEOUT_INFINITE: u32 = u32::MAX;

/// How long `ra_host_free` waits for the helper to be told goodbye.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(6);

/// How the host was started.
pub(crate) enum Origin {
    /// `ra_host_invite`.
    Invitation {
        invitation: Box<Invitation>,
        password: Password,
        local_addr: SocketAddr,
    },
    /// `ra_host_easy_connect` or `ra_host_join`.
    Code(CodeInfo),
    /// `ra_host_resume_from_ticket`.
    Resumed,
}

/// A host (opaque): an open invitation, or a short code, and the session
/// made through it. Made by `ra_host_invite`, `ra_host_easy_connect` or
/// `ra_host_join`, freed by `ra_host_free`.
pub struct ra_host {
    /// The engine's controller of the session: C's commands go through it.
    controller: HostController,
    events: Events<HostItem>,
    origin: Origin,
    /// The C backends not yet dropped by the engine.
    backends: Arc<Liveness>,
}

impl Handle for ra_host {
    const NAME: &'static str = "ra_host";
}

impl Role for ra_host {
    const ARG: &'static str = "host";
    type Command = HostCommand;

    fn controller(&self) -> &HostController {
        &self.controller
    }

    fn events_dropped(&self) -> u64 {
        self.events.dropped()
    }
}

/// Receives a host event, lent for the duration of the call (do not free it).
/// Called on the host's own callback thread, one event at a time; it may
/// call any `ra_host_` function except `ra_host_set_event_callback` and
/// `ra_host_next_event`, and may call `ra_host_free` (then it must not touch
/// the host or the event after that call).
pub type ra_host_event_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const ra_host_event)>;

/// Moves the session's events to the queue until the session is over. It
/// holds the events only: the session lives as long as the handle's
/// controller.
async fn forward_events(
    mut events: HostEvents,
    queue: Arc<EventQueue<HostItem>>,
    backends: Arc<Liveness>,
) {
    while let Some(event) = events.next().await {
        if matches!(event, HostEvent::CaptureFailed { .. }) && backends.has_c_capturer() {
            // Reported already, by the C capturer's bridge.
            continue;
        }
        queue.push(HostItem::Event(event));
    }
    queue.close();
}

/// Opens an invitation: makes the TLS key, the session id and the password,
/// starts listening, and writes the host to `out`. Give the helper the
/// invitation (`ra_host_get_invitation`) and, separately, the password
/// (`ra_host_get_password`). Blocks until listening (milliseconds).
///
/// `options` may be NULL for the defaults; `backends` may be NULL for the
/// default backends, otherwise they are moved into the host (free the builder
/// afterwards all the same) — also when the call fails after checking its
/// arguments.
///
/// Errors: `RA_RESULT_POLICY` (assistance turned off), `RA_RESULT_BIND`,
/// `RA_RESULT_NO_ADDRESS`, `RA_RESULT_INVALID_INVITATION` (e.g. a bad host
/// name), `RA_RESULT_BACKEND`, `RA_RESULT_IO` (audit log),
/// `RA_RESULT_INVALID_STATE` (backends already used), `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// `options` and `backends` are NULL or handles not used by another thread
/// during the call; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_invite(
    options: *const ra_invite_options,
    backends: *mut ra_host_backends,
    out: *mut *mut ra_host,
) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        ensure_may_block()?;
        // SAFETY: forwarded contract.
        let start = unsafe { Start::new(options, backends) }?;
        let session = block_on(invite(start.options, start.backends))??;
        let origin = Origin::Invitation {
            invitation: Box::new(session.invitation().clone()),
            password: session.password().clone(),
            local_addr: session.local_addr(),
        };
        // SAFETY: forwarded contract.
        unsafe {
            finish(
                start.queue,
                start.liveness,
                session.into_handle(),
                origin,
                out,
            )
        }
    })
}

/// The arguments every way of starting a host shares.
pub(crate) struct Start {
    pub(crate) options: InviteOptions,
    pub(crate) backends: HostBackends,
    /// Where the events, and the C backends' failures, go.
    pub(crate) queue: Arc<EventQueue<HostItem>>,
    /// The C backends not yet dropped by the engine.
    pub(crate) liveness: Arc<Liveness>,
}

impl Start {
    /// Reads the options (NULL: defaults) and takes the backends (NULL:
    /// defaults), whose failures will go to a new event queue.
    ///
    /// # Safety
    /// `options` and `backends` are NULL or handles not used by another
    /// thread during the call.
    pub(crate) unsafe fn new(
        options: *const ra_invite_options,
        backends: *mut ra_host_backends,
    ) -> Result<Self> {
        let options = if options.is_null() {
            ra_invite_options::default().to_invite_options()?
        } else {
            // SAFETY: the caller's contract.
            unsafe { handle::borrow(options, "options") }?.to_invite_options()?
        };
        let queue = Arc::new(EventQueue::new());
        let sink = BackendSink::new(queue.clone());
        let backends = if backends.is_null() {
            ra_host_backends::default().take(&sink)?
        } else {
            // SAFETY: the caller's contract.
            unsafe { handle::borrow_mut(backends, "backends") }?.take(&sink)?
        };
        Ok(Start {
            options,
            backends,
            queue,
            liveness: sink.liveness(),
        })
    }
}

/// Makes the host of a started session, whose events go to `queue`, and
/// writes it to `out`.
///
/// # Safety
/// `out` is non-NULL and writable.
pub(crate) unsafe fn finish(
    queue: Arc<EventQueue<HostItem>>,
    liveness: Arc<Liveness>,
    session: HostHandle,
    origin: Origin,
    out: *mut *mut ra_host,
) -> Result<()> {
    let (controller, events) = session.into_parts();
    let host = ra_host {
        origin,
        controller,
        events: Events::new(queue.clone()),
        backends: liveness.clone(),
    };
    runtime()?.spawn(forward_events(events, queue, liveness));
    // SAFETY: non-NULL and writable by contract.
    unsafe { out.write(handle::into_raw(host)) };
    Ok(())
}

/// [`finish`] for a session started from a code.
///
/// # Safety
/// As [`finish`].
unsafe fn finish_code(
    queue: Arc<EventQueue<HostItem>>,
    liveness: Arc<Liveness>,
    session: CodeHostSession,
    out: *mut *mut ra_host,
) -> Result<()> {
    let origin = Origin::Code(CodeInfo::new(
        session.code(),
        session.expires_at(),
        session.relayed(),
    ));
    // SAFETY: forwarded contract.
    unsafe { finish(queue, liveness, session.into_handle(), origin, out) }
}

/// **Easy Connect, host side**: registers a fresh code with the broker and
/// writes the host to `out`; read the code (`ra_host_get_code_info`) to the
/// helper, who types it (`ra_helper_easy_connect`). The helper then asks to
/// connect (`RA_HOST_EVENT_CONNECTION_REQUEST`) as in the invitation flow.
/// Blocks until the code is registered (a round trip to the broker).
///
/// `options` (NULL: defaults) gives the host name, the policy, the audit log
/// and a lifetime that caps the code's (`listen` and the addresses are not
/// used: see `ra_broker_options_set_bind`); `backends` as for
/// `ra_host_invite`. Five wrong attempts close the code.
///
/// Errors: `RA_RESULT_POLICY` (assistance turned off), `RA_RESULT_BROKER`,
/// `RA_RESULT_BROKER_REFUSED`, `RA_RESULT_BIND`, `RA_RESULT_TLS`,
/// `RA_RESULT_BACKEND`, `RA_RESULT_IO` (audit log),
/// `RA_RESULT_INVALID_ARGUMENT` (no broker trust), `RA_RESULT_INVALID_STATE`
/// (backends already used), `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// `broker` is NULL or a live handle; `options` and `backends` are NULL or
/// handles not used by another thread during the call; `out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_easy_connect(
    broker: *const ra_broker_options,
    options: *const ra_invite_options,
    backends: *mut ra_host_backends,
    out: *mut *mut ra_host,
) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let broker = unsafe { crate::broker::borrow(broker) }?.to_broker_options()?;
        ensure_may_block()?;
        // SAFETY: forwarded contract.
        let start = unsafe { Start::new(options, backends) }?;
        let session = block_on(easy_connect_host(broker, start.options, start.backends))?
            .map_err(|e| wait_error(e, RA_RESULT_INVITE_FAILED))?;
        // SAFETY: forwarded contract.
        unsafe { finish_code(start.queue, start.liveness, session, out) }
    })
}

/// **Quick Assist, host side**: claims the code the helper read out (`code`,
/// as typed: case, dashes and spaces do not matter), connects to the helper
/// — directly, or through the broker's relay — and writes the host to `out`.
/// Blocks until connected (seconds at most). The helper then authenticates
/// with the code and asks to connect (`RA_HOST_EVENT_CONNECTION_REQUEST`,
/// with its name): approve it, and control separately, as in the invitation
/// flow. A wrong code shows as `RA_HOST_EVENT_AUTH_FAILED` then
/// `RA_HOST_EVENT_INVITATION_CLOSED`. `options` and `backends` as for
/// `ra_host_easy_connect`.
///
/// Errors: `RA_RESULT_INVALID_CODE`, `RA_RESULT_CODE_UNAVAILABLE` (unknown,
/// expired or used code), `RA_RESULT_RATE_LIMITED`, `RA_RESULT_UNREACHABLE`,
/// `RA_RESULT_BROKER`, `RA_RESULT_POLICY`, `RA_RESULT_BIND`,
/// `RA_RESULT_BACKEND`, `RA_RESULT_INVALID_STATE`, `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// As `ra_host_easy_connect`; `code` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_join(
    broker: *const ra_broker_options,
    code: *const c_char,
    options: *const ra_invite_options,
    backends: *mut ra_host_backends,
    out: *mut *mut ra_host,
) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let broker = unsafe { crate::broker::borrow(broker) }?.to_broker_options()?;
        // SAFETY: the caller's contract.
        let code = unsafe { code_arg(code) }?;
        ensure_may_block()?;
        // SAFETY: forwarded contract.
        let start = unsafe { Start::new(options, backends) }?;
        let session = block_on(join(broker, &code, start.options, start.backends))?
            .map_err(|e| claim_error(e, RA_RESULT_ACCEPT_FAILED))?;
        // SAFETY: forwarded contract.
        unsafe { finish_code(start.queue, start.liveness, session, out) }
    })
}

impl ra_host {
    /// The invitation, its password and the listening address; a host
    /// started from a code has none.
    fn invitation(&self) -> Result<(&Invitation, &Password, SocketAddr)> {
        match &self.origin {
            Origin::Invitation {
                invitation,
                password,
                local_addr,
            } => Ok((invitation, password, *local_addr)),
            Origin::Code(_) => Err(Error::new(
                RA_RESULT_INVALID_STATE,
                "this host was started from a code: it has no invitation, password or port",
            )),
            Origin::Resumed => Err(Error::new(
                RA_RESULT_INVALID_STATE,
                "this host was re-opened from a resume ticket: it has no invitation or password",
            )),
        }
    }
}

/// A copy of the invitation, written to `out` (free it with
/// `ra_invitation_free`); save it, or turn it into a token or an email.
/// `RA_RESULT_INVALID_STATE` for a host started from a code.
///
/// # Safety
/// `host` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_get_invitation(
    host: *const ra_host,
    out: *mut *mut ra_invitation,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let host = unsafe { borrow(host) }?;
        let (invitation, _, _) = host.invitation()?;
        // SAFETY: forwarded contract.
        unsafe { write_invitation(out, invitation.clone()) }
    })
}

/// The password to tell the helper separately (`"XXXX-XXXX-XXXXX"`),
/// written to `out` (free it with `ra_string_free`).
/// `RA_RESULT_INVALID_STATE` for a host started from a code.
///
/// # Safety
/// `host` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_get_password(
    host: *const ra_host,
    out: *mut *mut c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let host = unsafe { borrow(host) }?;
        let (_, password, _) = host.invitation()?;
        // SAFETY: forwarded contract.
        unsafe { write_string(out, &password.grouped()) }
    })
}

/// The UDP port the host listens on, written to `out`.
/// `RA_RESULT_INVALID_STATE` for a host started from a code.
///
/// # Safety
/// `host` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_get_port(host: *const ra_host, out: *mut u16) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let host = unsafe { borrow(host) }?;
        if out.is_null() {
            return Err(Error::null("out"));
        }
        let (_, _, local_addr) = host.invitation()?;
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(local_addr.port()) };
        Ok(())
    })
}

/// The code of a host started from one (`ra_host_easy_connect`: the code to
/// read to the helper; `ra_host_join`: the code typed), when it expires, and
/// the path (`RA_PATH_UNKNOWN` for Easy Connect), written to `out`; the
/// string belongs to the host. `RA_RESULT_INVALID_STATE` for a host started
/// from an invitation.
///
/// # Safety
/// `host` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_get_code_info(
    host: *const ra_host,
    out: *mut ra_code_info,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let host = unsafe { borrow(host) }?;
        match &host.origin {
            // SAFETY: forwarded contract.
            Origin::Code(info) => unsafe { write_code_info(out, info) },
            Origin::Invitation { .. } | Origin::Resumed => {
                if out.is_null() {
                    return Err(Error::null("out"));
                }
                Err(Error::new(
                    RA_RESULT_INVALID_STATE,
                    "this host was not started from a code: it has no code",
                ))
            }
        }
    })
}

/// Waits up to `timeout_ms` (`RA_TIMEOUT_INFINITE`: forever; 0: just look)
/// for the next event and writes it to `out` (free it with
/// `ra_host_event_free`). `RA_RESULT_TIMEOUT` when none came;
/// `RA_RESULT_CLOSED` once the host has shut down and every event was taken;
/// `RA_RESULT_INVALID_STATE` while an event callback is set.
///
/// # Safety
/// `host` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_next_event(
    host: *const ra_host,
    timeout_ms: u32,
    out: *mut *mut ra_host_event,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let host = unsafe { borrow(host) }?;
        // SAFETY: forwarded contract.
        unsafe {
            host.events.next(
                timeout_ms,
                out,
                ra_host_event::new,
                "the host has shut down",
            )
        }
    })
}

/// A poll timeout in milliseconds as a wait limit.
pub(crate) fn timeout(timeout_ms: u32) -> Option<Duration> {
    (timeout_ms != RA_TIMEOUT_INFINITE).then(|| Duration::from_millis(u64::from(timeout_ms)))
}

/// Sends every event to `callback` on a thread of the host's own instead of
/// `ra_host_next_event`; NULL goes back to polling. Replacing or removing the
/// callback waits for a running call to finish. `RA_RESULT_WRONG_THREAD`
/// from inside the callback.
///
/// # Safety
/// `host` is NULL or a live handle; `callback` (if not NULL) must be
/// callable from another thread with `user_data` until it is replaced or the
/// host is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_set_event_callback(
    host: *const ra_host,
    callback: ra_host_event_callback,
    user_data: *mut c_void,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let host = unsafe { borrow(host) }?;
        // SAFETY: forwarded contract.
        unsafe {
            host.events
                .set_callback("ra-host-events", callback, user_data, ra_host_event::new)
        }
    })
}

/// Lets a helper in after `RA_HOST_EVENT_CONNECTION_REQUEST`; the session
/// starts view-only. `RA_RESULT_NO_SESSION` / `RA_RESULT_NOT_NOW` if the
/// request is no longer pending.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_approve(host: *const ra_host, connection: u64) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(host, || Ok(HostCommand::Approve(ConnectionId(connection)))) }
}

/// Turns a helper away after `RA_HOST_EVENT_CONNECTION_REQUEST`.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_deny(host: *const ra_host, connection: u64) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(host, || Ok(HostCommand::Deny(ConnectionId(connection)))) }
}

/// Grants control after `RA_HOST_EVENT_CONTROL_REQUESTED`.
/// `RA_RESULT_POLICY` when the policy forbids control.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_grant_control(host: *const ra_host, connection: u64) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(host, || {
            Ok(HostCommand::GrantControl(ConnectionId(connection)))
        })
    }
}

/// Grants control after `RA_HOST_EVENT_CONTROL_REQUESTED`, of `scopes`
/// (`RA_SCOPE_*` bits; only those the helper asked for are given) for
/// `duration_ms` milliseconds (0: until revoked); the policy's
/// `max_control_duration` caps it. At the end control is revoked
/// (`RA_REVOKE_EXPIRED`) and everything the helper held is released.
/// `RA_RESULT_INVALID_ARGUMENT` for no scope or unknown bits,
/// `RA_RESULT_NOT_NOW` when the grant would cover nothing the helper asked
/// for, `RA_RESULT_POLICY` when the policy forbids control.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_grant_control_with(
    host: *const ra_host,
    connection: u64,
    scopes: u32,
    duration_ms: u64,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(host, || {
            Ok(HostCommand::GrantControlWith {
                conn: ConnectionId(connection),
                scopes: crate::types::scopes_from_c(scopes)?,
                duration: (duration_ms > 0).then(|| Duration::from_millis(duration_ms)),
            })
        })
    }
}

/// Denies a control request.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_deny_control(host: *const ra_host, connection: u64) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(host, || {
            Ok(HostCommand::DenyControl(ConnectionId(connection)))
        })
    }
}

/// Takes control back at once; every key and button the helper held is
/// released. `RA_RESULT_NOT_NOW` when control is not granted.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_revoke(host: *const ra_host) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(host, || Ok(HostCommand::Revoke)) }
}

/// Takes control back because the local panic key was pressed.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_revoke_panic_key(host: *const ra_host) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(host, || Ok(HostCommand::RevokePanicKey)) }
}

/// Pauses: the screen is no longer shared and control is revoked.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_pause(host: *const ra_host) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(host, || Ok(HostCommand::Pause)) }
}

/// Resumes sharing the screen (control stays revoked).
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_resume(host: *const ra_host) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(host, || Ok(HostCommand::Resume)) }
}

/// Sends a chat message (UTF-8) to the helper. `RA_RESULT_INVALID_ARGUMENT`
/// for empty or too long text.
///
/// # Safety
/// `host` is NULL or a live handle; `text` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_chat(host: *const ra_host, text: *const c_char) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { text_command(host, text, HostCommand::Chat) }
}

/// Ends the current session (the invitation stays open until it expires or
/// `ra_host_close_invitation`). `RA_RESULT_NO_SESSION` without one.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_end(host: *const ra_host) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(host, || Ok(HostCommand::End)) }
}

/// Stops taking connections (for a host started from a code: closes the
/// code); a live session continues.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_close_invitation(host: *const ra_host) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(host, || Ok(HostCommand::CloseInvitation)) }
}

/// Applies a new policy at once (copied): turning control off revokes a
/// grant, turning assistance off closes the invitation.
///
/// # Safety
/// `host` is NULL or a live handle; `policy` is NULL or a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_set_policy(
    host: *const ra_host,
    policy: *const ra_policy,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(host, || {
            // SAFETY: forwarded contract.
            let policy = handle::borrow(policy, "policy")?;
            Ok(HostCommand::SetPolicy(policy.policy.clone()))
        })
    }
}

/// Turns clipboard sharing (text, both ways) on (`enabled` nonzero) or off
/// for the live session; both sides then get a `*_CLIPBOARD_SHARING` event.
/// `RA_RESULT_POLICY` when the policy does not allow the clipboard
/// (`allow_clipboard`), `RA_RESULT_NO_SESSION` without a live session.
/// Turning the policy's `allow_clipboard` off turns sharing off.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_set_clipboard_sharing(
    host: *const ra_host,
    enabled: u8,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(host, || Ok(HostCommand::SetClipboardSharing(enabled != 0))) }
}

/// Sends the host's clipboard text (UTF-8, at most `RA_MAX_CLIPBOARD_BYTES`)
/// to the helper, who gets `RA_HELPER_EVENT_CLIPBOARD`. `RA_RESULT_NOT_NOW`
/// unless sharing is on and the session unpaused; `RA_RESULT_INVALID_ARGUMENT`
/// for text that is too long.
///
/// # Safety
/// `host` is NULL or a live handle; `text` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_send_clipboard(
    host: *const ra_host,
    text: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { text_command(host, text, HostCommand::SendClipboard) }
}

/// The local user is using the mouse or keyboard: the helper's input is
/// held back (dropped, never replayed) for `hold_ms` milliseconds and every
/// key and button it holds is released ("the local user wins"). For an
/// application that watches the desk itself; a host whose backends watch
/// local input (`ra_host_backends_set_local_user_wins_ms`) needs no call.
/// Each call extends the hold from now.
///
/// # Safety
/// `host` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_local_input_seen(host: *const ra_host, hold_ms: u32) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(host, || {
            Ok(HostCommand::LocalInputSeen(Duration::from_millis(
                u64::from(hold_ms),
            )))
        })
    }
}

/// Ends any session, closes the invitation, tells the helper (waiting up to
/// a few seconds) and frees the host. When it returns `RA_RESULT_OK`, every
/// C backend's `destroy` has been called and no backend callback runs any
/// more. Events not yet taken are dropped. NULL is a no-op. May be called
/// from the host's event callback; called on an engine thread (a log
/// callback) it does not wait.
///
/// # Safety
/// `host` is NULL or a live handle that no other call is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_host_free(host: *mut ra_host) -> ra_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let Some(host) = unsafe { handle::take(host, "host") }? else {
            return Ok(());
        };
        host.events.stop_callback()?;
        if ensure_may_block().is_err() {
            // Dropping the controller makes the session shut down by itself.
            return Ok(());
        }
        shutdown(&host.controller, SHUTDOWN_TIMEOUT)?;
        // No C backend callback may run once this returns: the application
        // is about to free what their `user_data` points at.
        if !in_backend_callback() && !host.backends.wait_none(SHUTDOWN_TIMEOUT) {
            return Err(Error::new(
                RA_RESULT_BACKEND,
                "a C backend callback did not return in time; its destroy will be called later",
            ));
        }
        Ok(())
    })
}
