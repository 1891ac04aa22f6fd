//! `ra_result`: the status every fallible function returns, its stable
//! numbers, and their names and messages.
//!
//! Numbers are grouped in ranges and never reused:
//!
//! | range | what |
//! |---|---|
//! | 0 | success |
//! | 1–99 | statuses that are not failures (a timeout, the end of the events) |
//! | 100–199 | the caller's mistakes (NULL, a freed handle, bad UTF-8, out of range) |
//! | 200–299 | invitations, passwords, short codes, policies, files, receipts and audit logs |
//! | 300–399 | opening an invitation or registering a code (`ra_host_invite`, `ra_host_easy_connect`, `ra_helper_assist`) |
//! | 400–499 | accepting an invitation or using a code (`ra_helper_accept`, `ra_helper_easy_connect`, `ra_host_join`, `ra_assist_offer_wait`) |
//! | 500–599 | commands on a running session |
//! | 600–699 | backends (capturer, encoder, injector) |
//! | 900–999 | internal failures (a panic, the runtime) |

use std::ffi::{CStr, c_char};

/// The status of a call: `RA_RESULT_OK` or a reason it failed. See
/// `ra_result_name` and `ra_result_message`.
pub type ra_result = u32;

/// Success.
pub const RA_RESULT_OK: ra_result = 0;
/// Nothing happened before the timeout (no event); not a failure.
pub const RA_RESULT_TIMEOUT: ra_result = 1;
/// There will be no more events: the session is over and every event was taken.
pub const RA_RESULT_CLOSED: ra_result = 2;

/// A required pointer argument was NULL.
pub const RA_RESULT_NULL_POINTER: ra_result = 100;
/// A pointer is not a live handle of the expected type (freed, or garbage).
pub const RA_RESULT_INVALID_HANDLE: ra_result = 101;
/// A string is not valid UTF-8.
pub const RA_RESULT_INVALID_UTF8: ra_result = 102;
/// An argument is out of range or malformed (an unknown constant, a bad address).
pub const RA_RESULT_INVALID_ARGUMENT: ra_result = 103;
/// The caller's buffer is too small.
pub const RA_RESULT_BUFFER_TOO_SMALL: ra_result = 104;
/// The object cannot do this now (e.g. polling while an event callback is set,
/// or backends used twice).
pub const RA_RESULT_INVALID_STATE: ra_result = 105;
/// The call would block a thread that must not block (an engine thread, or the
/// handle's own event-callback thread for calls that wait for it).
pub const RA_RESULT_WRONG_THREAD: ra_result = 106;
/// Not supported by this build or in this process.
pub const RA_RESULT_UNSUPPORTED: ra_result = 107;

/// An invitation file or token is malformed.
pub const RA_RESULT_INVALID_INVITATION: ra_result = 200;
/// The invitation has expired.
pub const RA_RESULT_INVITATION_EXPIRED: ra_result = 201;
/// A typed password is malformed (wrong length or character).
pub const RA_RESULT_INVALID_PASSWORD: ra_result = 202;
/// A policy is malformed or out of range.
pub const RA_RESULT_INVALID_POLICY: ra_result = 203;
/// Reading or writing a file failed.
pub const RA_RESULT_IO: ra_result = 204;
/// The invitation email could not be built (bad address or subject).
pub const RA_RESULT_EMAIL: ra_result = 205;
/// A typed short code is malformed (wrong length or character).
pub const RA_RESULT_INVALID_CODE: ra_result = 206;
/// A consent receipt is malformed, altered, or not what was asked (another
/// host, session or organisation); the detail says which.
pub const RA_RESULT_INVALID_RECEIPT: ra_result = 207;
/// An audit log's hash chain is broken (a line edited, deleted, inserted or
/// reordered) or cut short; the detail names the line.
pub const RA_RESULT_AUDIT_LOG_BROKEN: ra_result = 208;
/// A resume ticket cannot be used: truncated, not a ticket, another
/// version, or sealed with another key (another host's, or altered).
pub const RA_RESULT_TICKET_INVALID: ra_result = 209;
/// A resume ticket expired.
pub const RA_RESULT_TICKET_EXPIRED: ra_result = 210;
/// A resume ticket was used already.
pub const RA_RESULT_TICKET_USED: ra_result = 211;

/// The host's policy forbids it (assistance off, or control off).
pub const RA_RESULT_POLICY: ra_result = 300;
/// The listening address could not be bound.
pub const RA_RESULT_BIND: ra_result = 301;
/// There is no network address to put in the invitation.
pub const RA_RESULT_NO_ADDRESS: ra_result = 302;
/// TLS could not be set up.
pub const RA_RESULT_TLS: ra_result = 303;
/// The broker could not be reached, stopped answering, or answered nonsense.
pub const RA_RESULT_BROKER: ra_result = 304;
/// The broker refused to register a code (e.g. too many registrations from here).
pub const RA_RESULT_BROKER_REFUSED: ra_result = 305;
/// Opening the invitation failed for another reason.
pub const RA_RESULT_INVITE_FAILED: ra_result = 399;

/// The password is wrong.
pub const RA_RESULT_WRONG_PASSWORD: ra_result = 400;
/// The host denied the connection, did not answer in time, or is busy.
pub const RA_RESULT_DENIED: ra_result = 401;
/// The host no longer takes connections for this invitation.
pub const RA_RESULT_INVITATION_CLOSED: ra_result = 402;
/// The host does not know this invitation.
pub const RA_RESULT_UNKNOWN_SESSION: ra_result = 403;
/// The host's certificate does not match the invitation.
pub const RA_RESULT_CERTIFICATE_MISMATCH: ra_result = 404;
/// No address of the invitation answered.
pub const RA_RESULT_UNREACHABLE: ra_result = 405;
/// The connection was lost.
pub const RA_RESULT_CONNECTION_LOST: ra_result = 406;
/// The peer broke the protocol or speaks another version.
pub const RA_RESULT_PROTOCOL: ra_result = 407;
/// The broker does not know the code: unknown, expired, already used or
/// closed (it gives one answer for all).
pub const RA_RESULT_CODE_UNAVAILABLE: ra_result = 408;
/// Too many attempts from this address: wait (the detail says how long) and
/// try again.
pub const RA_RESULT_RATE_LIMITED: ra_result = 409;
/// The code's secret part is wrong (the other side could not authenticate it).
pub const RA_RESULT_WRONG_CODE: ra_result = 410;
/// Nobody used the code before it expired.
pub const RA_RESULT_CODE_EXPIRED: ra_result = 411;
/// Too many wrong attempts: the code is closed.
pub const RA_RESULT_TOO_MANY_FAILURES: ra_result = 412;
/// Accepting failed for another reason.
pub const RA_RESULT_ACCEPT_FAILED: ra_result = 499;

/// There is no such session (or it has ended).
pub const RA_RESULT_NO_SESSION: ra_result = 500;
/// The command does not fit the session's state (e.g. approving twice).
pub const RA_RESULT_NOT_NOW: ra_result = 501;
/// The helper does not hold a control grant.
pub const RA_RESULT_NOT_CONTROLLING: ra_result = 502;
/// The session's engine has stopped.
pub const RA_RESULT_SESSION_CLOSED: ra_result = 503;
/// The command failed for another reason.
pub const RA_RESULT_COMMAND_FAILED: ra_result = 599;

/// A backend failed (a C callback returned an error, or a built-in backend
/// could not start).
pub const RA_RESULT_BACKEND: ra_result = 600;

/// A panic inside the library was caught at the boundary. The object involved
/// may be in an unexpected state; free it.
pub const RA_RESULT_PANIC: ra_result = 900;
/// An internal error (a bug).
pub const RA_RESULT_INTERNAL: ra_result = 901;
/// The library's async runtime could not be started.
pub const RA_RESULT_RUNTIME: ra_result = 902;

/// Name and message of every code.
const TABLE: &[(ra_result, &CStr, &CStr)] = &[
    (RA_RESULT_OK, c"RA_RESULT_OK", c"success"),
    (
        RA_RESULT_TIMEOUT,
        c"RA_RESULT_TIMEOUT",
        c"nothing happened before the timeout",
    ),
    (
        RA_RESULT_CLOSED,
        c"RA_RESULT_CLOSED",
        c"there will be no more events",
    ),
    (
        RA_RESULT_NULL_POINTER,
        c"RA_RESULT_NULL_POINTER",
        c"a required pointer was NULL",
    ),
    (
        RA_RESULT_INVALID_HANDLE,
        c"RA_RESULT_INVALID_HANDLE",
        c"not a live handle of the expected type",
    ),
    (
        RA_RESULT_INVALID_UTF8,
        c"RA_RESULT_INVALID_UTF8",
        c"a string is not valid UTF-8",
    ),
    (
        RA_RESULT_INVALID_ARGUMENT,
        c"RA_RESULT_INVALID_ARGUMENT",
        c"an argument is out of range or malformed",
    ),
    (
        RA_RESULT_BUFFER_TOO_SMALL,
        c"RA_RESULT_BUFFER_TOO_SMALL",
        c"the buffer is too small",
    ),
    (
        RA_RESULT_INVALID_STATE,
        c"RA_RESULT_INVALID_STATE",
        c"the object cannot do this now",
    ),
    (
        RA_RESULT_WRONG_THREAD,
        c"RA_RESULT_WRONG_THREAD",
        c"this call would block a thread that must not block",
    ),
    (
        RA_RESULT_UNSUPPORTED,
        c"RA_RESULT_UNSUPPORTED",
        c"not supported here",
    ),
    (
        RA_RESULT_INVALID_INVITATION,
        c"RA_RESULT_INVALID_INVITATION",
        c"the invitation is malformed",
    ),
    (
        RA_RESULT_INVITATION_EXPIRED,
        c"RA_RESULT_INVITATION_EXPIRED",
        c"the invitation has expired",
    ),
    (
        RA_RESULT_INVALID_PASSWORD,
        c"RA_RESULT_INVALID_PASSWORD",
        c"the password is malformed",
    ),
    (
        RA_RESULT_INVALID_POLICY,
        c"RA_RESULT_INVALID_POLICY",
        c"the policy is malformed",
    ),
    (
        RA_RESULT_IO,
        c"RA_RESULT_IO",
        c"a file could not be read or written",
    ),
    (
        RA_RESULT_EMAIL,
        c"RA_RESULT_EMAIL",
        c"the invitation email could not be built",
    ),
    (
        RA_RESULT_INVALID_CODE,
        c"RA_RESULT_INVALID_CODE",
        c"the code is malformed",
    ),
    (
        RA_RESULT_INVALID_RECEIPT,
        c"RA_RESULT_INVALID_RECEIPT",
        c"the consent receipt is not valid",
    ),
    (
        RA_RESULT_AUDIT_LOG_BROKEN,
        c"RA_RESULT_AUDIT_LOG_BROKEN",
        c"the audit log was altered",
    ),
    (
        RA_RESULT_TICKET_INVALID,
        c"RA_RESULT_TICKET_INVALID",
        c"the resume ticket cannot be used",
    ),
    (
        RA_RESULT_TICKET_EXPIRED,
        c"RA_RESULT_TICKET_EXPIRED",
        c"the resume ticket expired",
    ),
    (
        RA_RESULT_TICKET_USED,
        c"RA_RESULT_TICKET_USED",
        c"the resume ticket was used already",
    ),
    (
        RA_RESULT_POLICY,
        c"RA_RESULT_POLICY",
        c"forbidden by the host's policy",
    ),
    (
        RA_RESULT_BIND,
        c"RA_RESULT_BIND",
        c"cannot listen on the address",
    ),
    (
        RA_RESULT_NO_ADDRESS,
        c"RA_RESULT_NO_ADDRESS",
        c"no network address to put in the invitation",
    ),
    (RA_RESULT_TLS, c"RA_RESULT_TLS", c"TLS could not be set up"),
    (
        RA_RESULT_BROKER,
        c"RA_RESULT_BROKER",
        c"the broker could not be reached",
    ),
    (
        RA_RESULT_BROKER_REFUSED,
        c"RA_RESULT_BROKER_REFUSED",
        c"the broker refused the code",
    ),
    (
        RA_RESULT_INVITE_FAILED,
        c"RA_RESULT_INVITE_FAILED",
        c"the invitation could not be opened",
    ),
    (
        RA_RESULT_WRONG_PASSWORD,
        c"RA_RESULT_WRONG_PASSWORD",
        c"wrong password",
    ),
    (
        RA_RESULT_DENIED,
        c"RA_RESULT_DENIED",
        c"the host did not let you in",
    ),
    (
        RA_RESULT_INVITATION_CLOSED,
        c"RA_RESULT_INVITATION_CLOSED",
        c"the invitation is closed",
    ),
    (
        RA_RESULT_UNKNOWN_SESSION,
        c"RA_RESULT_UNKNOWN_SESSION",
        c"the host does not know this invitation",
    ),
    (
        RA_RESULT_CERTIFICATE_MISMATCH,
        c"RA_RESULT_CERTIFICATE_MISMATCH",
        c"the host's certificate does not match the invitation",
    ),
    (
        RA_RESULT_UNREACHABLE,
        c"RA_RESULT_UNREACHABLE",
        c"the host is unreachable",
    ),
    (
        RA_RESULT_CONNECTION_LOST,
        c"RA_RESULT_CONNECTION_LOST",
        c"the connection was lost",
    ),
    (RA_RESULT_PROTOCOL, c"RA_RESULT_PROTOCOL", c"protocol error"),
    (
        RA_RESULT_CODE_UNAVAILABLE,
        c"RA_RESULT_CODE_UNAVAILABLE",
        c"this code is not valid (unknown, expired or already used)",
    ),
    (
        RA_RESULT_RATE_LIMITED,
        c"RA_RESULT_RATE_LIMITED",
        c"too many attempts: try again later",
    ),
    (RA_RESULT_WRONG_CODE, c"RA_RESULT_WRONG_CODE", c"wrong code"),
    (
        RA_RESULT_CODE_EXPIRED,
        c"RA_RESULT_CODE_EXPIRED",
        c"the code expired",
    ),
    (
        RA_RESULT_TOO_MANY_FAILURES,
        c"RA_RESULT_TOO_MANY_FAILURES",
        c"too many wrong attempts: the code is closed",
    ),
    (
        RA_RESULT_ACCEPT_FAILED,
        c"RA_RESULT_ACCEPT_FAILED",
        c"the invitation could not be accepted",
    ),
    (
        RA_RESULT_NO_SESSION,
        c"RA_RESULT_NO_SESSION",
        c"no such session",
    ),
    (
        RA_RESULT_NOT_NOW,
        c"RA_RESULT_NOT_NOW",
        c"not possible in the session's current state",
    ),
    (
        RA_RESULT_NOT_CONTROLLING,
        c"RA_RESULT_NOT_CONTROLLING",
        c"control has not been granted",
    ),
    (
        RA_RESULT_SESSION_CLOSED,
        c"RA_RESULT_SESSION_CLOSED",
        c"the session is closed",
    ),
    (
        RA_RESULT_COMMAND_FAILED,
        c"RA_RESULT_COMMAND_FAILED",
        c"the command failed",
    ),
    (RA_RESULT_BACKEND, c"RA_RESULT_BACKEND", c"a backend failed"),
    (
        RA_RESULT_PANIC,
        c"RA_RESULT_PANIC",
        c"a panic was caught inside the library",
    ),
    (RA_RESULT_INTERNAL, c"RA_RESULT_INTERNAL", c"internal error"),
    (
        RA_RESULT_RUNTIME,
        c"RA_RESULT_RUNTIME",
        c"the async runtime could not be started",
    ),
];

/// The name of `code` as a Rust string.
pub(crate) fn result_name_str(code: ra_result) -> &'static str {
    lookup(code)
        .and_then(|(name, _)| name.to_str().ok())
        .unwrap_or("RA_RESULT_UNKNOWN")
}

/// The message of `code` as a Rust string.
pub(crate) fn result_message_str(code: ra_result) -> &'static str {
    lookup(code)
        .and_then(|(_, message)| message.to_str().ok())
        .unwrap_or("unknown result code")
}

/// Every defined code, for tests and bindings that mirror the numbers.
#[cfg(test)]
pub(crate) fn all_codes() -> impl Iterator<Item = ra_result> {
    TABLE.iter().map(|&(code, _, _)| code)
}

fn lookup(code: ra_result) -> Option<(&'static CStr, &'static CStr)> {
    TABLE
        .iter()
        .find(|&&(c, _, _)| c == code)
        .map(|&(_, name, message)| (name, message))
}

/// The constant's name of `result` (`"RA_RESULT_OK"`), or
/// `"RA_RESULT_UNKNOWN"` for a number this version does not define.
///
/// Never NULL; the string is static. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn ra_result_name(result: ra_result) -> *const c_char {
    crate::guard::guard_str(c"RA_RESULT_UNKNOWN", || {
        lookup(result)
            .map_or(c"RA_RESULT_UNKNOWN", |(name, _)| name)
            .as_ptr()
    })
}

/// A short English message for `result` (`"wrong password"`), or
/// `"unknown result code"`. For the detail of a failure, see
/// `ra_last_error_message`.
///
/// Never NULL; the string is static. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn ra_result_message(result: ra_result) -> *const c_char {
    crate::guard::guard_str(c"unknown result code", || {
        lookup(result)
            .map_or(c"unknown result code", |(_, message)| message)
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_named_after_their_constant() {
        let mut seen = std::collections::HashSet::new();
        for (code, name, message) in TABLE {
            assert!(seen.insert(*code), "duplicate code {code}");
            assert!(name.to_str().is_ok_and(|n| n.starts_with("RA_RESULT_")));
            assert!(!message.is_empty());
        }
        assert_eq!(all_codes().count(), TABLE.len());
    }
}
