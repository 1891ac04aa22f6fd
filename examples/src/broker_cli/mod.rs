//! The short-code subcommands of `ra-host` and `ra-helper` (through a broker):
//!
//! - `ra-host easy-connect`: prints a code (`{"event":"code",…}`) and waits.
//! - `ra-helper easy-connect --code CODE`: connects with the host's code.
//! - `ra-helper assist`: prints a code and waits for the host.
//! - `ra-host join --code CODE`: the host connects with the helper's code.
//! - `ra-host diagnose`: checks the network and firewall, ends with a verdict.
//!
//! The host still approves the connection (`--approve`) and, separately,
//! control (`--approve-control`), as with `invite`.

pub mod args;
pub mod diagnose;
pub mod helper;
pub mod host;
