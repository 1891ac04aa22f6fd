//! `ra_helper`: the helper's side of a live session.
//!
//! Thread-safety: an `ra_helper` may be used from any number of threads at
//! once (commands are serialised; each event goes to one caller of
//! `ra_helper_next_event`), except `ra_helper_free`, which no other call may
//! overlap.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use ra_codec::OpenH264Decoder;
use ra_core::media::DisplayId;
use ra_core::password::Password;
use ra_core::runtime::{
    AcceptOptions, ControlWatch, HelperController, HelperEvents, HelperSession, HelperSessionEvent,
    SessionError, accept, easy_connect_helper,
};
use ra_core::session::HelperCommand;

use crate::broker::{RA_PATH_DIRECT, code_arg, path_to_c, ra_broker_options};
use crate::error::{Error, Result, claim_error};
use crate::events::{HelperItem, ra_helper_event, short_debug};
use crate::guard::guard;
use crate::handle::{self, Handle};
use crate::input::{RA_MAX_INPUT_EVENTS, event_from_c, ra_input_event};
use crate::invitation::ra_invitation;
use crate::options::ra_accept_options;
use crate::queue::EventQueue;
use crate::result::*;
use crate::role::{Events, Role, borrow, command, shutdown, text_command};
use crate::runtime::{block_on, ensure_may_block, runtime};
use crate::strings::{str_arg, write_string};
use crate::types::{control_state_to_c, pointer_kind_from_c};

/// How long `ra_helper_free` waits for the host to be told goodbye.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(6);

/// A helper's live session (opaque). Made by `ra_helper_accept`,
/// `ra_helper_easy_connect` or `ra_assist_offer_wait`, freed by
/// `ra_helper_free`.
pub struct ra_helper {
    /// The engine's controller of the session: C's commands go through it.
    controller: HelperController,
    events: Events<HelperItem>,
    /// The control state, as the engine last saw it.
    control: ControlWatch,
    host_name: String,
    /// `RA_PATH_*`.
    path: u32,
}

impl Handle for ra_helper {
    const NAME: &'static str = "ra_helper";
}

impl Role for ra_helper {
    const ARG: &'static str = "helper";
    type Command = HelperCommand;

    fn controller(&self) -> &HelperController {
        &self.controller
    }

    fn events_dropped(&self) -> u64 {
        self.events.dropped()
    }
}

/// Receives a helper event — frames included — lent for the duration of the
/// call (do not free it; copy the pixels with `ra_frame_copy` to keep them).
/// Called on the helper's own callback thread, one event at a time; it may
/// call any `ra_helper_` function except `ra_helper_set_event_callback` and
/// `ra_helper_next_event`, and may call `ra_helper_free` (then it must not
/// touch the helper or the event after that call).
pub type ra_helper_event_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const ra_helper_event)>;

/// Moves the session's events and frames to the queue until the session is
/// over. It holds the events only: the session lives as long as the handle's
/// controller.
async fn forward_events(mut events: HelperEvents, queue: Arc<EventQueue<HelperItem>>) {
    while let Some(event) = events.next().await {
        queue.push(match event {
            HelperSessionEvent::Session(event) => HelperItem::Event(event),
            HelperSessionEvent::Frame(frame) => HelperItem::Frame(frame),
            other => HelperItem::Other(short_debug(&other)),
        });
    }
    queue.close();
}

/// Connects to the host of `invitation`, authenticates with `password` (as
/// the host told it; case, dashes and spaces do not matter) and waits until
/// the host user lets the helper in; then writes the session to `out`. The
/// session starts view-only. Blocks: up to the connect timeout per address
/// plus the approval timeout (see `ra_accept_options`; `options` may be NULL).
///
/// Errors: `RA_RESULT_INVALID_PASSWORD` (malformed), `RA_RESULT_WRONG_PASSWORD`,
/// `RA_RESULT_DENIED`, `RA_RESULT_INVITATION_EXPIRED`,
/// `RA_RESULT_INVITATION_CLOSED`, `RA_RESULT_CERTIFICATE_MISMATCH`,
/// `RA_RESULT_UNREACHABLE`, `RA_RESULT_CONNECTION_LOST`, `RA_RESULT_PROTOCOL`,
/// `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// `invitation` and `options` are NULL or live handles; `password` is NULL or
/// NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_accept(
    invitation: *const ra_invitation,
    password: *const c_char,
    options: *const ra_accept_options,
    out: *mut *mut ra_helper,
) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let invitation = &unsafe { handle::borrow(invitation, "invitation") }?.invitation;
        // SAFETY: the caller's contract.
        let password = Password::parse(unsafe { str_arg(password, "password") }?)?;
        // SAFETY: the caller's contract.
        let options = unsafe { accept_options(options) }?;
        ensure_may_block()?;
        let decoder = decoder()?;
        let session = block_on(accept(invitation, &password, options, Box::new(decoder)))??;
        let helper = start(session, RA_PATH_DIRECT)?;
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(handle::into_raw(helper)) };
        Ok(())
    })
}

/// The accept options `options` holds (NULL: defaults).
///
/// # Safety
/// `options` is NULL or a live handle.
pub(crate) unsafe fn accept_options(options: *const ra_accept_options) -> Result<AcceptOptions> {
    if options.is_null() {
        return Ok(AcceptOptions::default());
    }
    // SAFETY: the caller's contract.
    Ok(unsafe { handle::borrow(options, "options") }?
        .options
        .clone())
}

/// A new video decoder for a session.
pub(crate) fn decoder() -> Result<OpenH264Decoder> {
    OpenH264Decoder::new().map_err(|e| Error::new(RA_RESULT_BACKEND, format!("video decoder: {e}")))
}

/// The helper handle of a live session: its events go to a queue, its
/// commands through the session's controller.
pub(crate) fn start(session: HelperSession, path: u32) -> Result<ra_helper> {
    let queue = Arc::new(EventQueue::new());
    let host_name = session.host_name().to_owned();
    let control = session.control_watch();
    let (controller, events) = session.into_parts();
    let helper = ra_helper {
        host_name,
        path,
        controller,
        events: Events::new(queue.clone()),
        control,
    };
    runtime()?.spawn(forward_events(events, queue));
    Ok(helper)
}

/// **Easy Connect, helper side**: claims the code the host read out (`code`,
/// as typed: case, dashes and spaces do not matter), connects — directly, or
/// through the broker's relay — authenticates with the code and waits until
/// the host user lets the helper in; then writes the session to `out`
/// (view-only, as from `ra_helper_accept`). Blocks: up to the broker's
/// timeouts plus the approval timeout (`options` may be NULL; its connect
/// timeout is not used: see `ra_broker_options_set_connect_timeout_ms`).
///
/// Errors: `RA_RESULT_INVALID_CODE` (malformed), `RA_RESULT_CODE_UNAVAILABLE`
/// (unknown, expired or used code), `RA_RESULT_WRONG_CODE`,
/// `RA_RESULT_RATE_LIMITED`, `RA_RESULT_DENIED`, `RA_RESULT_UNREACHABLE`,
/// `RA_RESULT_BROKER`, `RA_RESULT_CONNECTION_LOST`, `RA_RESULT_PROTOCOL`,
/// `RA_RESULT_INVALID_ARGUMENT` (no broker trust), `RA_RESULT_WRONG_THREAD`.
///
/// # Safety
/// `broker` and `options` are NULL or live handles; `code` is NULL or
/// NUL-terminated; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_easy_connect(
    broker: *const ra_broker_options,
    code: *const c_char,
    options: *const ra_accept_options,
    out: *mut *mut ra_helper,
) -> ra_result {
    guard(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: the caller's contract.
        let broker = unsafe { crate::broker::borrow(broker) }?.to_broker_options()?;
        // SAFETY: the caller's contract.
        let code = unsafe { code_arg(code) }?;
        // SAFETY: the caller's contract.
        let options = unsafe { accept_options(options) }?;
        ensure_may_block()?;
        let decoder = decoder()?;
        let (session, relayed) = block_on(easy_connect_helper(
            broker,
            &code,
            options,
            Box::new(decoder),
        ))?
        .map_err(|e| claim_error(e, RA_RESULT_ACCEPT_FAILED))?;
        let helper = start(session, path_to_c(Some(relayed)))?;
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(handle::into_raw(helper)) };
        Ok(())
    })
}

/// The host's name, written to `out` (free it with `ra_string_free`).
///
/// # Safety
/// `helper` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_get_host_name(
    helper: *const ra_helper,
    out: *mut *mut c_char,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let helper = unsafe { borrow(helper) }?;
        // SAFETY: forwarded contract.
        unsafe { write_string(out, &helper.host_name) }
    })
}

/// The control state as last seen by the engine (`RA_CONTROL_*`), written
/// to `out`.
///
/// # Safety
/// `helper` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_get_control_state(
    helper: *const ra_helper,
    out: *mut u32,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let helper = unsafe { borrow(helper) }?;
        if out.is_null() {
            return Err(Error::null("out"));
        }
        let state = control_state_to_c(helper.control.get());
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(state) };
        Ok(())
    })
}

/// How the session travels (`RA_PATH_DIRECT`, or `RA_PATH_RELAYED` through
/// the broker's relay), written to `out`. A session from an invitation is
/// always direct.
///
/// # Safety
/// `helper` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_get_path(helper: *const ra_helper, out: *mut u32) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let helper = unsafe { borrow(helper) }?;
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: non-NULL and writable by contract.
        unsafe { out.write(helper.path) };
        Ok(())
    })
}

/// Waits up to `timeout_ms` (`RA_TIMEOUT_INFINITE`: forever; 0: just look)
/// for the next event — session changes and frames — and writes it to `out`
/// (free it with `ra_helper_event_free`). `RA_RESULT_TIMEOUT` when none
/// came; `RA_RESULT_CLOSED` after the session ended and every event was
/// taken; `RA_RESULT_INVALID_STATE` while an event callback is set.
///
/// At most two frames wait for the application: when it falls behind, older
/// frames are dropped and the next one's damage covers the whole picture.
///
/// # Safety
/// `helper` is NULL or a live handle; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_next_event(
    helper: *const ra_helper,
    timeout_ms: u32,
    out: *mut *mut ra_helper_event,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let helper = unsafe { borrow(helper) }?;
        // SAFETY: forwarded contract.
        unsafe {
            helper
                .events
                .next(timeout_ms, out, ra_helper_event::new, "the session is over")
        }
    })
}

/// Sends every event — frames included — to `callback` on a thread of the
/// helper's own instead of `ra_helper_next_event`; NULL goes back to
/// polling. Frames are lent for the call only (zero-copy). Replacing or
/// removing the callback waits for a running call to finish.
/// `RA_RESULT_WRONG_THREAD` from inside the callback.
///
/// # Safety
/// `helper` is NULL or a live handle; `callback` (if not NULL) must be
/// callable from another thread with `user_data` until it is replaced or the
/// helper is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_set_event_callback(
    helper: *const ra_helper,
    callback: ra_helper_event_callback,
    user_data: *mut c_void,
) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let helper = unsafe { borrow(helper) }?;
        // SAFETY: forwarded contract.
        unsafe {
            helper.events.set_callback(
                "ra-helper-events",
                callback,
                user_data,
                ra_helper_event::new,
            )
        }
    })
}

/// Asks the host for control; the answer comes as
/// `RA_HELPER_EVENT_CONTROL_GRANTED` or `_DENIED`. `RA_RESULT_NOT_NOW` when
/// paused or already asked.
///
/// # Safety
/// `helper` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_request_control(helper: *const ra_helper) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(helper, || Ok(HelperCommand::RequestControl)) }
}

/// Asks the host for control of only `scopes` (`RA_SCOPE_*` bits); the host
/// may give less. `RA_RESULT_INVALID_ARGUMENT` for no scope or unknown bits;
/// otherwise as `ra_helper_request_control`.
///
/// # Safety
/// `helper` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_request_control_scopes(
    helper: *const ra_helper,
    scopes: u32,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(helper, || {
            Ok(HelperCommand::RequestControlScopes(
                crate::types::scopes_from_c(scopes)?,
            ))
        })
    }
}

/// Gives control back to the host.
///
/// # Safety
/// `helper` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_release_control(helper: *const ra_helper) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(helper, || Ok(HelperCommand::ReleaseControl)) }
}

/// Sends `count` input events (at most `RA_MAX_INPUT_EVENTS`), in order, to
/// be injected on the host. `RA_RESULT_NOT_CONTROLLING` without a grant;
/// `RA_RESULT_INVALID_ARGUMENT` for an unknown kind or button (nothing is
/// sent then).
///
/// # Safety
/// `helper` is NULL or a live handle; `events` is NULL or points at `count`
/// events (whose `text`, for `RA_INPUT_TEXT`, is NUL-terminated).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_send_input(
    helper: *const ra_helper,
    events: *const ra_input_event,
    count: usize,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(helper, || {
            if count > RA_MAX_INPUT_EVENTS {
                return Err(Error::invalid(format!(
                    "{count} events (at most {RA_MAX_INPUT_EVENTS})"
                )));
            }
            if events.is_null() {
                return Err(Error::null("events"));
            }
            // SAFETY: non-NULL, `count` (bounded) events by contract.
            let events = std::slice::from_raw_parts(events, count);
            let converted = events
                .iter()
                // SAFETY: forwarded contract for each event's text.
                .map(|event| event_from_c(event))
                .collect::<Result<Vec<_>>>()?;
            Ok(HelperCommand::SendInput(converted))
        })
    }
}

/// Sends a chat message (UTF-8) to the host.
///
/// # Safety
/// `helper` is NULL or a live handle; `text` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_chat(
    helper: *const ra_helper,
    text: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { text_command(helper, text, HelperCommand::Chat) }
}

/// Shows a pointer mark (`RA_POINTER_*`) at (`x`, `y`) on the host's screen;
/// needs no control.
///
/// # Safety
/// `helper` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_pointer(
    helper: *const ra_helper,
    x: i32,
    y: i32,
    kind: u32,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(helper, || {
            Ok(HelperCommand::Pointer {
                x,
                y,
                kind: pointer_kind_from_c(kind)?,
            })
        })
    }
}

/// Asks the host to capture another display (an id from
/// `RA_HELPER_EVENT_DISPLAYS`, or `RA_DISPLAY_ALL`).
///
/// # Safety
/// `helper` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_select_display(
    helper: *const ra_helper,
    display: u32,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe {
        command(helper, || {
            Ok(HelperCommand::SelectDisplay(DisplayId(display)))
        })
    }
}

/// Sends the helper's clipboard text (UTF-8, at most
/// `RA_MAX_CLIPBOARD_BYTES`) to the host, who gets `RA_HOST_EVENT_CLIPBOARD`.
/// `RA_RESULT_NOT_NOW` unless the host shares the clipboard
/// (`RA_HELPER_EVENT_CLIPBOARD_SHARING`) and the session is unpaused;
/// `RA_RESULT_INVALID_ARGUMENT` for text that is too long.
///
/// # Safety
/// `helper` is NULL or a live handle; `text` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_send_clipboard(
    helper: *const ra_helper,
    text: *const c_char,
) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { text_command(helper, text, HelperCommand::SendClipboard) }
}

/// Asks the host for a full keyframe.
///
/// # Safety
/// `helper` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_request_keyframe(helper: *const ra_helper) -> ra_result {
    // SAFETY: forwarded contract.
    unsafe { command(helper, || Ok(HelperCommand::RequestKeyframe)) }
}

/// Ends the session and waits (up to 2 s) until the host was told.
/// `RA_RESULT_SESSION_CLOSED` if it ended already.
///
/// # Safety
/// `helper` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_end(helper: *const ra_helper) -> ra_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let helper = unsafe { borrow(helper) }?;
        ensure_may_block()?;
        // As `HelperSession::end`: the session's own shutdown, which ends it
        // and answers once the host was told (or the wait ran out).
        match helper.controller.shutdown_blocking(SHUTDOWN_TIMEOUT) {
            Ok(()) | Err(SessionError::TimedOut) => Ok(()),
            Err(e) => Err(e.into()),
        }
    })
}

/// Ends the session if it is live, tells the host (waiting up to a few
/// seconds, unless called on an engine thread) and frees the helper. NULL is
/// a no-op. May be called from the helper's event callback.
///
/// # Safety
/// `helper` is NULL or a live handle that no other call is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ra_helper_free(helper: *mut ra_helper) -> ra_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let Some(helper) = unsafe { handle::take(helper, "helper") }? else {
            return Ok(());
        };
        helper.events.stop_callback()?;
        if ensure_may_block().is_ok() {
            // An ended session is gone either way.
            shutdown(&helper.controller, SHUTDOWN_TIMEOUT)?;
        }
        Ok(())
    })
}
