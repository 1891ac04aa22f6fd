//! The helper's exit codes (a contract scripts rely on).

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
