//! The helper's side of a session, however it was made (`ra-helper accept`,
//! `easy-connect` or `assist`): the options they share ([`HelperArgs`]),
//! what those options need before connecting ([`SessionSetup`]: the input
//! script, the system clipboard), and the loop that runs the session
//! ([`run_session`]: frames, control, the input script, clipboard, snapshot,
//! and the exit code).

mod args;
mod events;
mod session;
mod setup;
mod snapshot;

pub use args::{ClipboardMode, HelperArgs, read_identity};
pub use session::run_session;
pub use setup::SessionSetup;
