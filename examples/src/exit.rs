//! The helper's exit codes (a contract scripts rely on), and which one each
//! failure and each end of a session gets (shared by `ra-helper` and
//! `ra-viewer`).

/// The session ran and ended normally.
pub const OK: i32 = 0;
/// Anything not covered below.
pub const OTHER: i32 = 1;
/// Invalid invitation, token or usage.
pub const INVALID: i32 = 2;
/// Wrong password.
pub const WRONG_PASSWORD: i32 = 3;
/// The host denied the connection (or was busy, or did not answer).
pub const DENIED: i32 = 4;
/// The invitation expired or was closed.
pub const EXPIRED: i32 = 5;
/// The host is unreachable or stopped answering.
pub const UNREACHABLE: i32 = 6;

/// The exit code for a session that could not be made (`accept`, or the
/// session part of a code flow).
pub fn for_accept_error(error: &ra_core::runtime::AcceptError) -> i32 {
    use ra_core::runtime::AcceptError;
    match error {
        AcceptError::WrongPassword => WRONG_PASSWORD,
        AcceptError::Denied(_) | AcceptError::Policy => DENIED,
        AcceptError::Expired | AcceptError::Closed | AcceptError::UnknownSession => EXPIRED,
        AcceptError::Unreachable(_)
        | AcceptError::ConnectionLost(_)
        | AcceptError::CertificateMismatch => UNREACHABLE,
        _ => OTHER,
    }
}

/// The exit code for a session that ended for `reason`.
pub fn for_end(reason: ra_core::session::EndReason) -> i32 {
    use ra_core::session::EndReason;
    match reason {
        EndReason::ConnectionLost | EndReason::AuthTimeout => UNREACHABLE,
        EndReason::ProtocolError | EndReason::VersionMismatch => OTHER,
        _ => OK,
    }
}
