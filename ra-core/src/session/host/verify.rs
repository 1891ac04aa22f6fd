//! Who is connecting: the helper's organisation-signed identity, if it
//! showed one, checked against the host's policy (trusted organisations,
//! revoked helpers) and proven for this very session.

use std::time::{Instant, SystemTime};

use super::HostEndpoint;
use crate::identity::{HelperIdentity, HelperPublicKey, IdentityCheck, OrgPublicKey};
use crate::proto;
use crate::session::auth::Transcript;

/// What an application should tell the person at the host about a helper
/// whose identity is not verified (the SDK's standard warning).
pub const UNVERIFIED_HELPER_WARNING: &str = "Never let someone you did not contact yourself \
     see or control your computer. Support staff, banks and software companies do not call \
     you and ask for remote access: if you did not ask for help, deny this request.";

/// What the host knows of who is connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelperVerification {
    /// The helper showed an identity issued by an organisation this host
    /// trusts, valid now, not revoked, and proved it is theirs in this
    /// session.
    Verified {
        /// The organisation, as its identity names it.
        organisation: String,
        /// Its key.
        organisation_key: OrgPublicKey,
        /// The helper's name, as the organisation wrote it.
        helper: String,
        /// The helper's key (what `revoked_helpers` lists).
        helper_key: HelperPublicKey,
        /// When the identity expires.
        expires: SystemTime,
    },
    /// Only a name the helper chose: tell the person at the host
    /// [`UNVERIFIED_HELPER_WARNING`].
    Unverified {
        /// The name the helper gave (sanitized).
        claimed_name: String,
        /// Why an identity the helper showed was not accepted; `None` when it
        /// showed none.
        problem: Option<String>,
    },
}

impl HelperVerification {
    /// Whether the helper is verified.
    pub fn is_verified(&self) -> bool {
        matches!(self, HelperVerification::Verified { .. })
    }
}

impl HostEndpoint {
    /// The wall-clock time at `now`, from the one the configuration gave
    /// for the endpoint's creation.
    pub(super) fn wall_clock(&self, now: Instant) -> SystemTime {
        self.wall_at_creation + now.saturating_duration_since(self.created_at)
    }

    /// Checks the identity a key confirmation carries, if any.
    pub(super) fn verify_helper(
        &self,
        now: Instant,
        confirm: &proto::KeyConfirm,
        transcript: Transcript,
        claimed_name: &str,
    ) -> HelperVerification {
        let unverified = |problem: Option<String>| HelperVerification::Unverified {
            claimed_name: claimed_name.to_owned(),
            problem,
        };
        if confirm.identity.is_empty() {
            return unverified(None);
        }
        let identity = match HelperIdentity::parse(&confirm.identity) {
            Ok(identity) => identity,
            Err(e) => return unverified(Some(format!("its identity cannot be used: {e}"))),
        };
        if !identity.verify_helper_signature(
            &transcript.identity_proof_message(),
            &confirm.identity_proof,
        ) {
            return unverified(Some(
                "its identity was not proven for this session (a copy of someone else's?)".into(),
            ));
        }
        let check = IdentityCheck {
            at: self.wall_clock(now),
            trusted: &self.policy.trusted_orgs,
            revoked: &self.policy.revoked_helpers,
        };
        if let Err(e) = identity.check(&check) {
            return unverified(Some(format!("its identity is not accepted: {e}")));
        }
        HelperVerification::Verified {
            organisation: identity.organisation().to_owned(),
            organisation_key: identity.organisation_key(),
            helper: identity.helper().to_owned(),
            helper_key: identity.helper_key(),
            expires: identity.not_after(),
        }
    }
}
