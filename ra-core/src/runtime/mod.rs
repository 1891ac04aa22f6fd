//! The async API over tokio and quinn: [`invite`] for the host, [`accept`] for
//! the helper. Each drives a sans-IO state machine of [`crate::session`] from
//! one task, with capture/encode, decode and input injection on threads of
//! their own so the executor never blocks.

mod connection;
mod error;
mod helper;
mod host;
mod injector;
mod tls;
mod video;

pub use error::{AcceptError, InviteError, SessionError};
pub use helper::{AcceptOptions, HelperSession, HelperSessionEvent, accept};
pub use host::{HostBackends, HostSession, InviteOptions, invite};
pub use tls::{SERVER_NAME, TlsSetupError, pinned_client_config};
pub use video::ReceivedFrame;
