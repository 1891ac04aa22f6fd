//! Types shared by both sides of a session.

use std::fmt;

use rand_core::{CryptoRng, RngCore};

/// A source of randomness for the PAKE. The runtime uses the OS generator;
/// tests pass a seeded one so runs repeat exactly.
pub trait SessionRng: RngCore + CryptoRng + Send {}
impl<T: RngCore + CryptoRng + Send> SessionRng for T {}

/// Identifies one connection to a host endpoint. Assigned by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Identifies one control grant. Input carries the grant it was sent under;
/// the host accepts only the current grant's input, so input sent before a
/// revoke can never be injected under a later grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantId(pub u32);

/// Whether the helper may control the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlState {
    /// View only.
    None,
    /// The helper asked for control; the host has not answered.
    Requested,
    /// The helper controls the host under this grant.
    Granted(GrantId),
}

/// Why a session ended (or never started).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndReason {
    /// The host ended the session.
    HostEnded,
    /// The helper ended the session.
    HelperEnded,
    /// The host denied the connection.
    Denied,
    /// The host did not answer the connection request in time.
    ApprovalTimeout,
    /// The password did not match (key confirmation failed).
    AuthFailed,
    /// Authentication did not complete in time.
    AuthTimeout,
    /// The invitation expired.
    InvitationExpired,
    /// The invitation was closed (by the host, or after too many failed attempts).
    InvitationClosed,
    /// The host's policy does not allow remote assistance.
    Policy,
    /// Another helper is connected (or authenticating) already.
    Busy,
    /// The peer broke the protocol.
    ProtocolError,
    /// The invitation names a session this host does not know.
    UnknownSession,
    /// The peers speak incompatible protocol versions.
    VersionMismatch,
    /// The connection was lost (idle timeout, network error).
    ConnectionLost,
}

impl EndReason {
    /// A stable, lowercase, snake_case name (for JSON output and logs).
    pub const fn as_str(self) -> &'static str {
        match self {
            EndReason::HostEnded => "host_ended",
            EndReason::HelperEnded => "helper_ended",
            EndReason::Denied => "denied",
            EndReason::ApprovalTimeout => "approval_timeout",
            EndReason::AuthFailed => "auth_failed",
            EndReason::AuthTimeout => "auth_timeout",
            EndReason::InvitationExpired => "invitation_expired",
            EndReason::InvitationClosed => "invitation_closed",
            EndReason::Policy => "policy",
            EndReason::Busy => "busy",
            EndReason::ProtocolError => "protocol_error",
            EndReason::UnknownSession => "unknown_session",
            EndReason::VersionMismatch => "version_mismatch",
            EndReason::ConnectionLost => "connection_lost",
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndReason::HostEnded => "the host ended the session",
            EndReason::HelperEnded => "the helper ended the session",
            EndReason::Denied => "the host denied the connection",
            EndReason::ApprovalTimeout => "the host did not answer the connection request in time",
            EndReason::AuthFailed => "wrong password",
            EndReason::AuthTimeout => "authentication timed out",
            EndReason::InvitationExpired => "the invitation has expired",
            EndReason::InvitationClosed => "the invitation is closed",
            EndReason::Policy => "the host's policy does not allow remote assistance",
            EndReason::Busy => "another helper is connected",
            EndReason::ProtocolError => "protocol error",
            EndReason::UnknownSession => "the host does not know this invitation",
            EndReason::VersionMismatch => "incompatible protocol versions",
            EndReason::ConnectionLost => "the connection was lost",
        })
    }
}

/// Why a control request was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenyReason {
    /// The host user said no.
    ByUser,
    /// The host's policy does not allow control.
    Policy,
    /// The session is paused.
    Paused,
}

impl DenyReason {
    /// A stable, lowercase, snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DenyReason::ByUser => "by_user",
            DenyReason::Policy => "policy",
            DenyReason::Paused => "paused",
        }
    }
}

/// Why control was taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevokeReason {
    /// The host user revoked it.
    ByUser,
    /// The host's policy changed to forbid control.
    Policy,
    /// The session was paused.
    Paused,
    /// The host pressed the local panic key.
    PanicKey,
    /// The session ended.
    Ended,
    /// The helper gave control back.
    Released,
    /// The grant's time was up.
    Expired,
}

impl RevokeReason {
    /// A stable, lowercase, snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RevokeReason::ByUser => "by_user",
            RevokeReason::Policy => "policy",
            RevokeReason::Paused => "paused",
            RevokeReason::PanicKey => "panic_key",
            RevokeReason::Ended => "ended",
            RevokeReason::Released => "released",
            RevokeReason::Expired => "expired",
        }
    }
}

/// Why an invitation stopped taking connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvitationCloseReason {
    /// It reached its expiry time.
    Expired,
    /// Too many failed password attempts.
    TooManyFailures,
    /// The host closed it.
    ClosedByHost,
    /// The host's policy no longer allows remote assistance.
    Policy,
}

impl InvitationCloseReason {
    /// A stable, lowercase, snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            InvitationCloseReason::Expired => "expired",
            InvitationCloseReason::TooManyFailures => "too_many_failures",
            InvitationCloseReason::ClosedByHost => "closed_by_host",
            InvitationCloseReason::Policy => "policy",
        }
    }
}

/// What a helper's pointer mark means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PointerKind {
    /// A laser dot that follows the helper's mouse.
    Laser,
    /// A "look here" click mark.
    Click,
    /// Hide the mark.
    Hide,
}

/// Why a command was refused. The session is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// There is no such connection, or it has ended.
    #[error("no such session")]
    NoSession,
    /// The command does not fit the session's state (e.g. approving twice).
    #[error("not possible now: {0}")]
    InvalidState(&'static str),
    /// The host's policy forbids it.
    #[error("forbidden by the host's policy")]
    Policy,
    /// The helper does not hold a control grant.
    #[error("control has not been granted")]
    NotControlling,
    /// An argument is out of range (e.g. chat text too long).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
}

/// What a grant of control lets the helper do: move and click the pointer
/// (`pointer`: moves, buttons, wheel), type (`keyboard`: keys and text), and
/// put text on the host's clipboard while the grant lasts (`clipboard`).
/// Input outside the grant's scopes is dropped and counted, never injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlScopes {
    /// Pointer moves, buttons and the wheel.
    pub pointer: bool,
    /// Keys and text.
    pub keyboard: bool,
    /// The helper's clipboard text onto the host's clipboard (sharing must
    /// be on too).
    pub clipboard: bool,
}

impl ControlScopes {
    /// Every scope: what a grant gives unless the host says otherwise.
    pub const ALL: ControlScopes = ControlScopes {
        pointer: true,
        keyboard: true,
        clipboard: true,
    };
    /// No scope.
    pub const NONE: ControlScopes = ControlScopes {
        pointer: false,
        keyboard: false,
        clipboard: false,
    };
    const NAMES: [&'static str; 3] = ["pointer", "keyboard", "clipboard"];

    /// The scopes in both.
    pub fn intersect(self, other: ControlScopes) -> ControlScopes {
        ControlScopes {
            pointer: self.pointer && other.pointer,
            keyboard: self.keyboard && other.keyboard,
            clipboard: self.clipboard && other.clipboard,
        }
    }

    /// Whether no scope is in.
    pub fn is_empty(self) -> bool {
        self == ControlScopes::NONE
    }

    /// Whether `event` is within these scopes.
    pub fn allows(self, event: &crate::input::InputEvent) -> bool {
        use crate::input::InputEvent;
        match event {
            InputEvent::PointerMove { .. }
            | InputEvent::PointerMoveRelative { .. }
            | InputEvent::Button { .. }
            | InputEvent::Wheel { .. } => self.pointer,
            InputEvent::Key { .. } | InputEvent::Text { .. } => self.keyboard,
            // Kinds added later: only with every scope.
            #[allow(unreachable_patterns)]
            _ => self == ControlScopes::ALL,
        }
    }

    /// The scopes' names, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        let flags = [self.pointer, self.keyboard, self.clipboard];
        Self::NAMES
            .iter()
            .zip(flags)
            .filter_map(|(name, on)| on.then_some(*name))
            .collect()
    }

    /// As bits on the wire (pointer 1, keyboard 2, clipboard 4).
    pub fn to_bits(self) -> u32 {
        u32::from(self.pointer) | u32::from(self.keyboard) << 1 | u32::from(self.clipboard) << 2
    }

    /// From bits on the wire; 0 (a peer that does not send scopes) is every scope.
    pub fn from_bits(bits: u32) -> ControlScopes {
        if bits == 0 {
            return ControlScopes::ALL;
        }
        ControlScopes {
            pointer: bits & 1 != 0,
            keyboard: bits & 2 != 0,
            clipboard: bits & 4 != 0,
        }
    }
}

impl std::fmt::Display for ControlScopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = self.names();
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join(","))
        }
    }
}

impl std::str::FromStr for ControlScopes {
    type Err = String;

    /// Reads `all`, `none`, or names separated by commas
    /// (`pointer,keyboard`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "all" => return Ok(ControlScopes::ALL),
            "none" => return Ok(ControlScopes::NONE),
            _ => {}
        }
        let mut scopes = ControlScopes::NONE;
        for name in text.split(',').map(str::trim) {
            match name {
                "pointer" => scopes.pointer = true,
                "keyboard" => scopes.keyboard = true,
                "clipboard" => scopes.clipboard = true,
                other => {
                    return Err(format!(
                        "unknown scope {other:?}: pointer, keyboard, clipboard, all or none"
                    ));
                }
            }
        }
        Ok(scopes)
    }
}
