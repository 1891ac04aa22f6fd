//! The parts of `ra-viewer`, included by `src/bin/ra-viewer.rs`.
//!
//! Threads: winit's event loop owns the main thread ([`app`]); the session
//! runs on a tokio runtime's threads ([`session`]). The session sends frames,
//! the host's pointer and state changes through an `EventLoopProxy`; the
//! window sends its requests and the helper's input through a channel. The
//! system clipboard (`ra_examples::clipboard`) reports to the session through
//! a channel.

pub(crate) mod app;
pub(crate) mod connect;
pub(crate) mod cursor;
pub(crate) mod input;
pub(crate) mod keymap;
pub(crate) mod layout;
pub(crate) mod masks;
pub(crate) mod scale;
pub(crate) mod session;
