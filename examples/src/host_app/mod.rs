//! The host's side of a session, however it was started (`ra-host invite`,
//! `easy-connect` or `join`): the options they share ([`HostArgs`]), the
//! backends those options ask for ([`HostSetup`]: capturer, injector, and
//! the desk the library runs: panic key, local activity, clipboard), and the
//! loop that serves the session ([`serve`]: events out; answers and stdin
//! commands in).
//!
//! The loop works on a [`ra_core::runtime::HostHandle`], which both
//! `HostSession` (an invitation) and `CodeHostSession` (a code) dereference to.

mod args;
mod commands;
mod events;
mod print_injector;
mod resume;
mod serve;
mod setup;
mod wayland;

pub use args::{Answer, CaptureKind, HostArgs, InjectKind, WaylandApi};
pub use serve::{Credential, serve};
pub use setup::{Failure, HostSetup};
