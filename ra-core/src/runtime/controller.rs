//! [`Controller`]: the one way commands reach a running session's driver,
//! from async Rust (`send`), from any other thread (`send_blocking`, as the
//! C ABI does), and from the typed handles ([`HostHandle`](super::HostHandle),
//! [`HelperSession`](super::HelperSession)), whose methods are one-line calls
//! of it.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::error::SessionError;
use super::stats::StatsRecorder;
use crate::session::{CommandError, HelperCommand, HostCommand};
use crate::stats::SessionStats;

/// Sends a host's commands ([`HostCommand`]) to its driver.
pub type HostController = Controller<HostCommand>;

/// Sends a helper's commands ([`HelperCommand`]) to its driver.
pub type HelperController = Controller<HelperCommand>;

/// A cheap, cloneable sender of a session's commands (`C`: [`HostCommand`] or
/// [`HelperCommand`]). Each command is applied by the session's state machine
/// in the order sent; its answer comes back to the sender.
///
/// Thread rules: use it from any thread. The async methods need a tokio
/// runtime; the blocking ones must not be called on one of its worker
/// threads (they would stall the driver they wait for).
///
/// The session ends when its last controller (and its handle) is dropped.
pub struct Controller<C> {
    requests: mpsc::UnboundedSender<Request<C>>,
    stats: StatsRecorder,
}

impl<C> Clone for Controller<C> {
    fn clone(&self) -> Self {
        Controller {
            requests: self.requests.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<C> std::fmt::Debug for Controller<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("closed", &self.requests.is_closed())
            .finish()
    }
}

/// What a driver receives from its controllers.
pub(crate) enum Request<C> {
    /// Apply a command and answer.
    Command(C, Reply),
    /// End the session, tell the peer, and answer once the driver is done.
    Shutdown(Reply),
    /// Issue a resume ticket (a host's; a helper's driver refuses it).
    ResumeTicket(super::host::TicketRequest),
}

/// Where a driver's answer goes: an async or a blocking sender.
pub(crate) enum Reply {
    Async(oneshot::Sender<Result<(), CommandError>>),
    Blocking(std_mpsc::SyncSender<Result<(), CommandError>>),
}

impl Reply {
    /// Answers (a sender that stopped waiting is no error).
    pub(crate) fn send(self, result: Result<(), CommandError>) {
        match self {
            Reply::Async(reply) => {
                let _ = reply.send(result);
            }
            Reply::Blocking(reply) => {
                let _ = reply.send(result);
            }
        }
    }
}

/// The driver's end of a session's controllers. Not bounded by a capacity
/// but by its callers: only the application sends on it, and every request
/// carries a reply its caller waits for, so at most one request per calling
/// task or thread is ever queued.
pub(crate) type Requests<C> = mpsc::UnboundedReceiver<Request<C>>;

impl<C> Controller<C> {
    /// A controller and the driver's end of it; `stats` is where the
    /// session counts what it does.
    pub(crate) fn channel(stats: StatsRecorder) -> (Self, Requests<C>) {
        let (requests, receiver) = mpsc::unbounded_channel();
        (Controller { requests, stats }, receiver)
    }

    /// The session's statistics now. It waits for nothing (no round trip to
    /// the driver: a few atomic reads and quinn's figures), so it may be
    /// called once per frame, from any thread, also after the session ended
    /// (the figures then stay as they were at the end).
    pub fn stats(&self) -> SessionStats {
        self.stats.snapshot()
    }

    /// Sends `command` and waits for the session's answer.
    ///
    /// # Errors
    /// [`SessionError::Command`] when the session refused it (it is then
    /// unchanged), [`SessionError::Closed`] when the session is over.
    pub async fn send(&self, command: C) -> Result<(), SessionError> {
        let (reply, answer) = oneshot::channel();
        self.request(Request::Command(command, Reply::Async(reply)))?;
        answer
            .await
            .map_err(|_| SessionError::Closed)?
            .map_err(SessionError::from)
    }

    /// Sends `command` and waits, blocking the calling thread, up to
    /// `timeout` for the session's answer.
    ///
    /// # Errors
    /// As [`Controller::send`], and [`SessionError::TimedOut`] when no answer
    /// came in time (the command may still be applied).
    pub fn send_blocking(&self, command: C, timeout: Duration) -> Result<(), SessionError> {
        let (reply, answer) = std_mpsc::sync_channel(1);
        self.request(Request::Command(command, Reply::Blocking(reply)))?;
        wait_blocking(&answer, timeout)
    }

    /// Ends the session (the host also closes its invitation), tells the
    /// peer, and waits until the driver has finished, so the program may exit
    /// right after.
    ///
    /// # Errors
    /// [`SessionError::Closed`] when the session was over already.
    pub async fn shutdown(&self) -> Result<(), SessionError> {
        let (reply, answer) = oneshot::channel();
        self.request(Request::Shutdown(Reply::Async(reply)))?;
        answer
            .await
            .map_err(|_| SessionError::Closed)?
            .map_err(SessionError::from)
    }

    /// [`Controller::shutdown`], blocking the calling thread up to `timeout`.
    ///
    /// # Errors
    /// As [`Controller::shutdown`], and [`SessionError::TimedOut`].
    pub fn shutdown_blocking(&self, timeout: Duration) -> Result<(), SessionError> {
        let (reply, answer) = std_mpsc::sync_channel(1);
        self.request(Request::Shutdown(Reply::Blocking(reply)))?;
        wait_blocking(&answer, timeout)
    }

    /// Whether the session's driver has stopped.
    pub fn is_closed(&self) -> bool {
        self.requests.is_closed()
    }

    pub(crate) fn request(&self, request: Request<C>) -> Result<(), SessionError> {
        self.requests
            .send(request)
            .map_err(|_| SessionError::Closed)
    }
}

fn wait_blocking(
    answer: &std_mpsc::Receiver<Result<(), CommandError>>,
    timeout: Duration,
) -> Result<(), SessionError> {
    match answer.recv_timeout(timeout) {
        Ok(result) => result.map_err(SessionError::from),
        Err(std_mpsc::RecvTimeoutError::Timeout) => Err(SessionError::TimedOut),
        Err(std_mpsc::RecvTimeoutError::Disconnected) => Err(SessionError::Closed),
    }
}
