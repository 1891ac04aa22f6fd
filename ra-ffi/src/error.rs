//! The error a failed call reports: its [`ra_result`] and a detail message,
//! kept per thread for [`ra_last_error_message`]; and the mapping of ra-core's
//! errors onto result codes.

use std::cell::RefCell;
use std::ffi::{CString, c_char};

use ra_core::code::CodeError;
use ra_core::invitation::InvitationError;
use ra_core::password::PasswordError;
use ra_core::policy::PolicyError;
use ra_core::runtime::{AcceptError, ClaimError, InviteError, SessionError, WaitError};
use ra_core::session::CommandError;

use crate::result::*;
use crate::strings::c_string_lossy;

/// A failure: the code returned to C and the detail kept for the thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error {
    pub(crate) code: ra_result,
    pub(crate) detail: String,
}

impl Error {
    pub(crate) fn new(code: ra_result, detail: impl Into<String>) -> Self {
        Error {
            code,
            detail: detail.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Self {
        Error::new(RA_RESULT_NULL_POINTER, format!("`{what}` is NULL"))
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Error::new(RA_RESULT_INVALID_ARGUMENT, detail)
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

thread_local! {
    /// The detail of the last failure on this thread.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `error` as the calling thread's last error.
pub(crate) fn set_last_error(error: &Error) {
    let message = c_string_lossy(&format!(
        "{}: {}",
        crate::result::result_message_str(error.code),
        error.detail
    ));
    // A thread being torn down has no slot any more; the code still tells the caller.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = message);
}

/// The detail of the last failure on the calling thread (`"wrong password:
/// …"`), or `""` if no call has failed on it yet. Successful calls leave it
/// unchanged.
///
/// Never NULL. The string belongs to the library and stays valid until the
/// next failing `ra_` call on the same thread; copy it to keep it.
#[unsafe(no_mangle)]
pub extern "C" fn ra_last_error_message() -> *const c_char {
    crate::guard::guard_str(c"", || {
        LAST_ERROR
            .try_with(|slot| slot.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

impl From<InvitationError> for Error {
    fn from(e: InvitationError) -> Self {
        let code = match &e {
            InvitationError::Io { .. } => RA_RESULT_IO,
            InvitationError::Expired { .. } => RA_RESULT_INVITATION_EXPIRED,
            InvitationError::Email(_) => RA_RESULT_EMAIL,
            _ => RA_RESULT_INVALID_INVITATION,
        };
        Error::new(code, e.to_string())
    }
}

impl From<PasswordError> for Error {
    fn from(e: PasswordError) -> Self {
        Error::new(RA_RESULT_INVALID_PASSWORD, e.to_string())
    }
}

impl From<CodeError> for Error {
    fn from(e: CodeError) -> Self {
        Error::new(RA_RESULT_INVALID_CODE, e.to_string())
    }
}

impl From<PolicyError> for Error {
    fn from(e: PolicyError) -> Self {
        let code = match &e {
            PolicyError::Io { .. } => RA_RESULT_IO,
            _ => RA_RESULT_INVALID_POLICY,
        };
        Error::new(code, e.to_string())
    }
}

impl From<InviteError> for Error {
    fn from(e: InviteError) -> Self {
        if let Some(code) = crate::resume::ticket_error(&e) {
            return Error::new(code, e.to_string());
        }
        let code = match &e {
            InviteError::Policy => RA_RESULT_POLICY,
            InviteError::Bind { .. } => RA_RESULT_BIND,
            InviteError::NoAddress => RA_RESULT_NO_ADDRESS,
            InviteError::Invitation(_) => RA_RESULT_INVALID_INVITATION,
            InviteError::Tls(_) => RA_RESULT_TLS,
            InviteError::Backend { .. } => RA_RESULT_BACKEND,
            InviteError::Rendezvous(_) => RA_RESULT_BROKER,
            // A variant added to ra-core after this mapping was written.
            _ => RA_RESULT_INVITE_FAILED,
        };
        Error::new(code, e.to_string())
    }
}

impl From<AcceptError> for Error {
    fn from(e: AcceptError) -> Self {
        let code = match &e {
            AcceptError::Expired => RA_RESULT_INVITATION_EXPIRED,
            AcceptError::Closed => RA_RESULT_INVITATION_CLOSED,
            AcceptError::UnknownSession => RA_RESULT_UNKNOWN_SESSION,
            AcceptError::WrongPassword => RA_RESULT_WRONG_PASSWORD,
            AcceptError::Denied(_) => RA_RESULT_DENIED,
            AcceptError::Policy => RA_RESULT_POLICY,
            AcceptError::CertificateMismatch => RA_RESULT_CERTIFICATE_MISMATCH,
            AcceptError::Unreachable(_) => RA_RESULT_UNREACHABLE,
            AcceptError::ConnectionLost(_) => RA_RESULT_CONNECTION_LOST,
            AcceptError::Protocol(_) => RA_RESULT_PROTOCOL,
            AcceptError::Io(_) => RA_RESULT_IO,
            AcceptError::Tls(_) => RA_RESULT_TLS,
            _ => RA_RESULT_ACCEPT_FAILED,
        };
        Error::new(code, e.to_string())
    }
}

impl From<CommandError> for Error {
    fn from(e: CommandError) -> Self {
        let code = match &e {
            CommandError::NoSession => RA_RESULT_NO_SESSION,
            CommandError::InvalidState(_) => RA_RESULT_NOT_NOW,
            CommandError::Policy => RA_RESULT_POLICY,
            CommandError::NotControlling => RA_RESULT_NOT_CONTROLLING,
            CommandError::InvalidArgument(_) => RA_RESULT_INVALID_ARGUMENT,
            _ => RA_RESULT_COMMAND_FAILED,
        };
        Error::new(code, e.to_string())
    }
}

/// A duration argument in milliseconds that must be more than 0 (`what` names
/// it in the error).
pub(crate) fn positive_ms(ms: u64, what: &str) -> Result<std::time::Duration> {
    if ms == 0 {
        return Err(Error::invalid(format!("{what} must be more than 0 ms")));
    }
    Ok(std::time::Duration::from_millis(ms))
}

impl From<SessionError> for Error {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Command(command) => command.into(),
            SessionError::Closed => Error::new(RA_RESULT_SESSION_CLOSED, e.to_string()),
            _ => Error::new(RA_RESULT_COMMAND_FAILED, e.to_string()),
        }
    }
}

/// The error of registering a code or waiting on it (`ra_host_easy_connect`,
/// `ra_helper_assist`, `ra_assist_offer_wait`); `fallback` for a kind added
/// to ra-core after this mapping was written.
pub(crate) fn wait_error(e: WaitError, fallback: ra_result) -> Error {
    match e {
        WaitError::Host(invite) => invite.into(),
        WaitError::Session(accept) => accept.into(),
        other => {
            let code = match &other {
                WaitError::Broker(_) => RA_RESULT_BROKER,
                WaitError::Refused(_) => RA_RESULT_BROKER_REFUSED,
                WaitError::Expired => RA_RESULT_CODE_EXPIRED,
                WaitError::TooManyFailures => RA_RESULT_TOO_MANY_FAILURES,
                WaitError::Io(_) => RA_RESULT_BIND,
                WaitError::Tls(_) => RA_RESULT_TLS,
                WaitError::Decoder(_) => RA_RESULT_BACKEND,
                _ => fallback,
            };
            Error::new(code, other.to_string())
        }
    }
}

/// The error of claiming a code (`ra_helper_easy_connect`, `ra_host_join`);
/// `fallback` for a kind added to ra-core after this mapping was written.
pub(crate) fn claim_error(e: ClaimError, fallback: ra_result) -> Error {
    match e {
        ClaimError::Host(invite) => invite.into(),
        ClaimError::Session(accept) => accept.into(),
        other => {
            let code = match &other {
                ClaimError::Broker(_) => RA_RESULT_BROKER,
                ClaimError::Unavailable => RA_RESULT_CODE_UNAVAILABLE,
                ClaimError::RateLimited { .. } => RA_RESULT_RATE_LIMITED,
                ClaimError::Unreachable(_) => RA_RESULT_UNREACHABLE,
                ClaimError::WrongCode => RA_RESULT_WRONG_CODE,
                ClaimError::Io(_) => RA_RESULT_BIND,
                ClaimError::Tls(_) => RA_RESULT_TLS,
                _ => fallback,
            };
            Error::new(code, other.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn code_flow_errors_have_their_own_codes() {
        let wait = |e| wait_error(e, RA_RESULT_INVITE_FAILED).code;
        assert_eq!(wait(WaitError::Broker("gone".into())), RA_RESULT_BROKER);
        assert_eq!(
            wait(WaitError::Refused("collision".into())),
            RA_RESULT_BROKER_REFUSED
        );
        assert_eq!(wait(WaitError::Expired), RA_RESULT_CODE_EXPIRED);
        assert_eq!(
            wait(WaitError::TooManyFailures),
            RA_RESULT_TOO_MANY_FAILURES
        );
        assert_eq!(wait(WaitError::Host(InviteError::Policy)), RA_RESULT_POLICY);
        assert_eq!(
            wait(WaitError::Session(AcceptError::Denied(
                ra_core::session::EndReason::Denied
            ))),
            RA_RESULT_DENIED
        );
        let codec = ra_core::media::CodecError::CorruptBitstream("x".into());
        assert_eq!(wait(WaitError::Decoder(codec)), RA_RESULT_BACKEND);

        let claim = |e| claim_error(e, RA_RESULT_ACCEPT_FAILED).code;
        assert_eq!(claim(ClaimError::Unavailable), RA_RESULT_CODE_UNAVAILABLE);
        assert_eq!(claim(ClaimError::WrongCode), RA_RESULT_WRONG_CODE);
        assert_eq!(
            claim(ClaimError::RateLimited {
                retry_after: Duration::from_secs(3)
            }),
            RA_RESULT_RATE_LIMITED
        );
        assert_eq!(
            claim(ClaimError::Unreachable("no path".into())),
            RA_RESULT_UNREACHABLE
        );
        assert_eq!(claim(ClaimError::Broker("gone".into())), RA_RESULT_BROKER);
        assert_eq!(
            claim(ClaimError::Host(InviteError::Policy)),
            RA_RESULT_POLICY
        );
        let rate = claim_error(
            ClaimError::RateLimited {
                retry_after: Duration::from_secs(3),
            },
            RA_RESULT_ACCEPT_FAILED,
        );
        assert!(rate.detail.contains("3 s"), "{}", rate.detail);

        assert_eq!(
            Error::from(ra_core::code::Code::parse("12").unwrap_err()).code,
            RA_RESULT_INVALID_CODE
        );
    }
}
