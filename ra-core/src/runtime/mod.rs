//! The async API over tokio and quinn: [`invite`] for the host, [`accept`] for
//! the helper. Each drives a sans-IO state machine of [`crate::session`] from
//! one task, with capture/encode, decode and input injection on threads of
//! their own so the executor never blocks.
//!
//! The short-code flows through a broker (Easy Connect: [`easy_connect_host`],
//! [`easy_connect_helper`]; Quick Assist: [`assist`], [`join`]) run the same
//! drivers over a connection from the rendezvous, whichever side dialled.

mod audit_writer;
mod broker_link;
mod code_flow;
mod connection;
mod controller;
mod diagnose;
mod error;
pub mod event_queue;
mod helper;
mod host;
mod injector;
mod path_socket;
mod peer_path;
mod peer_tls;
mod rate;
mod stats;
mod tls;
mod video;
mod video_commands;
mod video_receive;

pub use code_flow::{
    AssistOffer, BrokerOptions, ClaimError, CodeHostSession, DEFAULT_CODE_LIFETIME, DecoderFactory,
    MAX_CODE_FAILURES, WaitError, assist, easy_connect_helper, easy_connect_host, join,
};
pub use controller::{Controller, HelperController, HostController};
pub use diagnose::{
    BlockingRule, Check, Diagnosis, NetworkReport, diagnose, diagnose_network,
    iptables_blocking_rules, nft_blocking_rules,
};
pub use error::{AcceptError, InviteError, SessionError};
pub use helper::{
    AcceptOptions, ControlWatch, HelperEvents, HelperSession, HelperSessionEvent, accept,
};
pub use host::{
    HostBackends, HostEvents, HostHandle, HostSession, InviteOptions, ResumeOptions, invite,
    resume, resume_from_file,
};
pub use peer_tls::BrokerTrust;
pub use tls::{SERVER_NAME, TlsSetupError, pinned_client_config};
pub use video_receive::ReceivedFrame;

/// How often a driver tells its endpoint how many datagrams each connection
/// received ([`crate::session::link`] decides what silence means).
const LINK_REPORT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// The ticks a driver reports its connections' paths on.
pub(crate) fn link_reports() -> tokio::time::Interval {
    let mut ticks = tokio::time::interval(LINK_REPORT_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    ticks
}

/// Datagrams `connection` received so far: what the path's watch counts.
pub(crate) fn datagrams_received(connection: &quinn::Connection) -> u64 {
    connection.stats().udp_rx.datagrams
}

/// Sleeps until `at`, or forever without one (a state machine with no timer
/// due): a branch of a driver's `select!`.
pub(crate) async fn sleep_until(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}
