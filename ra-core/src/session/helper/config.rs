//! [`HelperConfig`]: what the helper needs to connect.

use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::identity::HelperCredential;
use crate::invitation::{CertFingerprint, SessionId};

/// What the helper needs to connect.
pub struct HelperConfig {
    /// The invitation's session id.
    pub session_id: SessionId,
    /// The name the host will see.
    pub helper_name: String,
    /// The password's secret bytes.
    /// Wiped from memory when dropped.
    pub secret: Zeroizing<Vec<u8>>,
    /// How long the host may take to answer the hello.
    pub auth_timeout: Duration,
    /// How long to wait for the host user to approve.
    pub approval_timeout: Duration,
    /// The helper's organisation-signed identity and key, shown to the host
    /// inside the authenticated channel; `None`: the host sees the name only.
    pub identity: Option<Arc<HelperCredential>>,
    /// The host certificate the invitation pins (or the one the host
    /// presented), which must have signed the session's receipt; `None`:
    /// any certificate the receipt carries.
    pub host_fingerprint: Option<CertFingerprint>,
    /// The resume ticket this connection re-opens the session with
    /// ([`crate::resume`]); `secret` is then the ticket's secret. Default:
    /// none.
    pub resume_ticket_id: Option<[u8; crate::resume::TICKET_ID_LEN]>,
}

impl HelperConfig {
    /// A configuration with the default timeouts (10 s to authenticate, 120 s for approval).
    pub fn new(
        session_id: SessionId,
        helper_name: impl Into<String>,
        secret: impl Into<Zeroizing<Vec<u8>>>,
    ) -> Self {
        HelperConfig {
            session_id,
            helper_name: helper_name.into(),
            secret: secret.into(),
            auth_timeout: Duration::from_secs(10),
            approval_timeout: Duration::from_secs(120),
            identity: None,
            host_fingerprint: None,
            resume_ticket_id: None,
        }
    }
}

impl std::fmt::Debug for HelperConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelperConfig")
            .field("session_id", &self.session_id)
            .field("helper_name", &self.helper_name)
            .field("auth_timeout", &self.auth_timeout)
            .field("approval_timeout", &self.approval_timeout)
            .field("identity", &self.identity.as_ref().map(|c| c.identity()))
            .finish_non_exhaustive()
    }
}
