//! Errors of the async API.

use std::net::SocketAddr;

use super::tls::TlsSetupError;
use crate::session::{CommandError, EndReason};

/// Why [`invite`](super::invite) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InviteError {
    /// The host's policy does not allow remote assistance.
    #[error("remote assistance is turned off by the host's policy")]
    Policy,
    /// The listening socket could not be opened (e.g. the port is in use).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// There is no address to put in the invitation.
    #[error("no network address to put in the invitation")]
    NoAddress,
    /// The invitation could not be made (e.g. an invalid host name).
    #[error("invalid invitation: {0}")]
    Invitation(#[from] crate::invitation::InvitationError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// The rendezvous broker asked for (`InviteOptions::rendezvous`) could
    /// not be reached or refused the registration.
    #[error("the rendezvous broker: {0}")]
    Rendezvous(String),
    /// A backend, or the thread it runs on, could not be started.
    #[error("cannot start the {part}: {source}")]
    Backend {
        /// Which part of the session (e.g. "video pipeline").
        part: &'static str,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The resume ticket cannot be used: truncated, not a ticket, sealed
    /// under another key (another host's, or altered), or expired.
    #[error("the resume ticket cannot be used: {0}")]
    ResumeTicket(#[from] crate::resume::ResumeError),
    /// The resume ticket's file is missing, was used already, or cannot be
    /// read.
    #[error(transparent)]
    ResumeTicketFile(#[from] crate::resume::TicketFileError),
    /// The host's policy does not allow resume tickets
    /// (`allow_resume_tickets`).
    #[error("resume tickets are turned off by the host's policy")]
    ResumeNotAllowed,
}

impl InviteError {
    /// A [`InviteError::Backend`] for `part`.
    pub(crate) fn backend(
        part: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        InviteError::Backend {
            part,
            source: source.into(),
        }
    }
}

/// Why [`accept`](super::accept) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The invitation's expiry time has passed.
    #[error("the invitation has expired")]
    Expired,
    /// The host no longer takes connections for this invitation.
    #[error("the invitation is closed")]
    Closed,
    /// The host does not know this invitation.
    #[error("the host does not know this invitation")]
    UnknownSession,
    /// The password is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// The host denied the connection, did not answer in time, or is busy with
    /// another helper.
    #[error("the host did not let you in: {0}")]
    Denied(EndReason),
    /// The host's policy does not allow remote assistance.
    #[error("remote assistance is turned off on the host")]
    Policy,
    /// A host answered at an invitation address with another certificate than
    /// the invitation pins: not the host that invited you.
    #[error("the host's certificate does not match the invitation")]
    CertificateMismatch,
    /// No address of the invitation answered.
    #[error("the host is unreachable: {0}")]
    Unreachable(String),
    /// The host stopped answering.
    #[error("the connection was lost: {0}")]
    ConnectionLost(String),
    /// The host broke the protocol or speaks another version.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The local socket could not be opened.
    #[error("cannot open a socket: {0}")]
    Io(#[from] std::io::Error),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
}

impl AcceptError {
    /// The error for a session that ended before it went live.
    pub(crate) fn from_end(reason: EndReason) -> Self {
        match reason {
            EndReason::AuthFailed => AcceptError::WrongPassword,
            EndReason::InvitationExpired => AcceptError::Expired,
            EndReason::InvitationClosed => AcceptError::Closed,
            EndReason::UnknownSession => AcceptError::UnknownSession,
            EndReason::Policy => AcceptError::Policy,
            EndReason::Denied
            | EndReason::ApprovalTimeout
            | EndReason::Busy
            | EndReason::HostEnded => AcceptError::Denied(reason),
            EndReason::ConnectionLost | EndReason::AuthTimeout => {
                AcceptError::ConnectionLost(reason.to_string())
            }
            other => AcceptError::Protocol(other.to_string()),
        }
    }
}

/// Why a command on a running session failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session refused the command; it is unchanged.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The session's driver has stopped (the session ended or was dropped).
    #[error("the session is closed")]
    Closed,
    /// The session's driver did not answer in time (a blocking send).
    #[error("the session did not answer in time")]
    TimedOut,
}
