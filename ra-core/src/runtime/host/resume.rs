//! Re-opening a session from a resume ticket, after the host's application
//! or machine restarted: the same session id, TLS identity and port, so the
//! helper's ra (which holds the ticket's offer) reconnects by itself; the
//! helper authenticates with the ticket's secret, the host's user approves
//! again, and control needs a new grant.

use std::path::Path;
use std::time::{Duration, SystemTime};

use super::start::{HostStart, prepare_host, spawn_host};
use super::{HostBackends, HostHandle, accept_connections};
use crate::audit::AuditLog;
use crate::media::DisplayId;
use crate::policy::Policy;
use crate::resume::{ResumeTicket, TicketKey, take_ticket};
use crate::runtime::error::InviteError;
use crate::runtime::tls::HostIdentity;

/// How a session is re-opened from a resume ticket.
#[derive(Debug)]
pub struct ResumeOptions {
    /// The host's policy now; it must still allow resume tickets
    /// (`allow_resume_tickets`) and assistance.
    pub policy: Policy,
    /// Where to record the audit log, if anywhere.
    pub audit_log: Option<AuditLog>,
    /// The display to share first; `None`: the primary one.
    pub display: Option<DisplayId>,
    /// How long a dark path to the helper is waited for
    /// (as [`InviteOptions::outage_grace`](super::InviteOptions::outage_grace)).
    pub outage_grace: Duration,
}

impl Default for ResumeOptions {
    fn default() -> Self {
        ResumeOptions {
            policy: Policy::default(),
            audit_log: None,
            display: None,
            outage_grace: crate::session::link::DEFAULT_OUTAGE_GRACE,
        }
    }
}

/// An invitation's options as a resumption's: the policy, the audit log,
/// the display and the outage grace; the rest (name, address, lifetime) is
/// the ticket's.
impl From<super::InviteOptions> for ResumeOptions {
    fn from(options: super::InviteOptions) -> Self {
        ResumeOptions {
            policy: options.policy,
            audit_log: options.audit_log,
            display: options.display,
            outage_grace: options.outage_grace,
        }
    }
}

/// Re-opens the session a sealed resume ticket is for: listens where the
/// session listened, with its TLS identity, until the ticket expires. Only
/// the helper holding the ticket's offer gets in, once; its
/// [`HostEvent::ConnectionRequest`](crate::session::HostEvent::ConnectionRequest)
/// says `resumes` and needs approval; it starts view-only. The audit log
/// records `session_resumed`.
///
/// The bytes themselves can be replayed: keep them where only this host
/// reads them, and use [`resume_from_file`], which takes the ticket out of
/// its file so it cannot be used twice.
///
/// # Errors
/// [`InviteError::ResumeTicket`] for a ticket that is truncated, not a
/// ticket, sealed under another key (another host's, or altered) or
/// expired; [`InviteError::ResumeNotAllowed`] when the policy no longer
/// allows resume tickets; [`InviteError::Policy`]; [`InviteError::Bind`]
/// when the port is taken; [`InviteError::Backend`].
pub async fn resume(
    sealed: &[u8],
    key: &TicketKey,
    options: ResumeOptions,
    backends: HostBackends,
) -> Result<HostHandle, InviteError> {
    let now = SystemTime::now();
    let ticket = ResumeTicket::open(sealed, key, now)?;
    check_policy(&options.policy)?;
    let remaining = ticket
        .expires_at
        .duration_since(now)
        .unwrap_or(Duration::ZERO);
    let contents = &ticket.contents;
    let identity = HostIdentity::from_der(contents.certificate.clone(), &contents.private_key);
    let server_config = identity.server_config(options.outage_grace)?;
    let prepared = prepare_host(backends, options.display)?;
    let endpoint = quinn::Endpoint::server(server_config, contents.listen).map_err(|source| {
        InviteError::Bind {
            addr: contents.listen,
            source,
        }
    })?;
    let (handle, feed) = spawn_host(
        HostStart {
            session_id: contents.session_id,
            host_name: contents.host_name.clone(),
            secret: ticket.secret.to_vec().into(),
            lifetime: remaining,
            policy: options.policy,
            max_failed_attempts: None,
            audit_log: options.audit_log,
            endpoints: vec![endpoint.clone()],
            observer: None,
            offer: None,
            receipt_key: identity.receipt_key(),
            resume_contents: Some(contents.clone()),
            resuming: Some(ticket.ticket_id),
        },
        prepared,
    )?;
    tokio::spawn(accept_connections(endpoint, feed));
    Ok(handle)
}

/// Whether `policy` lets a session be re-opened from a ticket.
fn check_policy(policy: &Policy) -> Result<(), InviteError> {
    if !policy.allow_assistance {
        return Err(InviteError::Policy);
    }
    if !policy.allow_resume_tickets {
        return Err(InviteError::ResumeNotAllowed);
    }
    Ok(())
}

/// [`resume`] with the ticket taken out of the file at `path`
/// ([`crate::resume::take_ticket`]) once the policy is known to allow it:
/// from then on the ticket is used, even if re-opening fails.
///
/// # Errors
/// [`InviteError::ResumeTicketFile`] when the file is missing, was used
/// already or cannot be read; then as [`resume`].
pub async fn resume_from_file(
    path: &Path,
    key: &TicketKey,
    options: ResumeOptions,
    backends: HostBackends,
) -> Result<HostHandle, InviteError> {
    check_policy(&options.policy)?;
    let sealed = zeroize::Zeroizing::new(take_ticket(path)?);
    resume(&sealed, key, options, backends).await
}
