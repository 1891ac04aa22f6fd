//! Password authentication: SPAKE2 (RFC 9382) bound to the TLS channel and the
//! session id, then key confirmation by MAC in both directions.
//!
//! SPAKE2 alone does not notice a wrong password (both sides just derive
//! different keys), so each side proves it holds the key with an HMAC over the
//! transcript; a mismatch is a failed attempt. The TLS exporter value is the HKDF
//! salt, so a key confirmed over one TLS connection is useless on another: a relay
//! or a man in the middle with its own TLS session cannot splice two halves.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use spake2::{Ed25519Group, Identity, Password, Spake2};
use zeroize::{Zeroize, Zeroizing};

use super::types::SessionRng;
use crate::invitation::SessionId;

type HmacSha256 = Hmac<Sha256>;

/// The TLS exporter value of the connection (RFC 8446 §7.5), 32 bytes, which
/// binds the password authentication to this very TLS channel.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ChannelBinding(pub [u8; 32]);

impl std::fmt::Debug for ChannelBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChannelBinding(..)")
    }
}

impl ChannelBinding {
    /// The exporter label both sides use.
    pub const EXPORTER_LABEL: &'static [u8] = b"EXPORTER-ra/1 channel binding";
}

const HELPER_IDENTITY: &[u8] = b"ra/1 helper";
const HOST_IDENTITY: &[u8] = b"ra/1 host";
const CONFIRM_INFO: &[u8] = b"ra/1 key confirmation";
/// What a helper's identity key signs before the transcript.
const IDENTITY_PROOF_CONTEXT: &[u8] = b"ra/1 helper identity proof\0";

/// The authentication's transcript hash (session id, both SPAKE2 messages,
/// the TLS channel binding), which a helper's identity key signs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transcript([u8; 32]);

impl Transcript {
    /// What the helper's identity key signs: a fixed context, then the hash.
    pub(crate) fn identity_proof_message(&self) -> Vec<u8> {
        [IDENTITY_PROOF_CONTEXT, &self.0[..]].concat()
    }
}

/// The confirmation keys both sides derive, and the transcript they MAC.
struct ConfirmationKeys {
    helper_key: [u8; 32],
    host_key: [u8; 32],
    transcript: [u8; 32],
}

impl ConfirmationKeys {
    fn derive(
        shared: &[u8],
        binding: &ChannelBinding,
        session_id: &SessionId,
        helper_msg: &[u8],
        host_msg: &[u8],
    ) -> Self {
        let mut info = Vec::with_capacity(CONFIRM_INFO.len() + 16);
        info.extend_from_slice(CONFIRM_INFO);
        info.extend_from_slice(&session_id.0);
        let hkdf = Hkdf::<Sha256>::new(Some(&binding.0), shared);
        let mut okm = Zeroizing::new([0u8; 64]);
        // 64 bytes is far below HKDF-SHA256's 8160-byte limit, so this cannot fail.
        let _ = hkdf.expand(&info, okm.as_mut());
        let mut helper_key = [0u8; 32];
        let mut host_key = [0u8; 32];
        helper_key.copy_from_slice(&okm[..32]);
        host_key.copy_from_slice(&okm[32..]);
        let mut hasher = Sha256::new();
        for part in [&session_id.0[..], helper_msg, host_msg, &binding.0[..]] {
            hasher.update((part.len() as u32).to_be_bytes());
            hasher.update(part);
        }
        ConfirmationKeys {
            helper_key,
            host_key,
            transcript: hasher.finalize().into(),
        }
    }

    fn mac(key: &[u8; 32], role: &[u8], transcript: &[u8; 32]) -> Vec<u8> {
        // HMAC accepts keys of any length.
        let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
            return Vec::new();
        };
        mac.update(role);
        mac.update(transcript);
        mac.finalize().into_bytes().to_vec()
    }

    fn verify(key: &[u8; 32], role: &[u8], transcript: &[u8; 32], tag: &[u8]) -> bool {
        let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
            return false;
        };
        mac.update(role);
        mac.update(transcript);
        mac.verify_slice(tag).is_ok()
    }

    fn host_confirmation(&self) -> Vec<u8> {
        Self::mac(&self.host_key, b"host", &self.transcript)
    }

    fn helper_confirmation(&self) -> Vec<u8> {
        Self::mac(&self.helper_key, b"helper", &self.transcript)
    }
}

impl Drop for ConfirmationKeys {
    fn drop(&mut self) {
        self.helper_key.zeroize();
        self.host_key.zeroize();
    }
}

fn identities() -> (Identity, Identity) {
    (Identity::new(HELPER_IDENTITY), Identity::new(HOST_IDENTITY))
}

/// The helper's half of the authentication, between its hello and the host's reply.
pub(crate) struct HelperPake {
    spake: Spake2<Ed25519Group>,
    message: Vec<u8>,
    binding: ChannelBinding,
    session_id: SessionId,
}

impl HelperPake {
    /// Starts SPAKE2 as side A; returns the state and the message to send.
    pub(crate) fn start(
        secret: &[u8],
        binding: ChannelBinding,
        session_id: SessionId,
        rng: &mut dyn SessionRng,
    ) -> (Self, Vec<u8>) {
        let (id_a, id_b) = identities();
        let (spake, message) =
            Spake2::<Ed25519Group>::start_a_with_rng(&Password::new(secret), &id_a, &id_b, rng);
        (
            HelperPake {
                spake,
                message: message.clone(),
                binding,
                session_id,
            },
            message,
        )
    }

    /// Checks the host's reply; on success returns the helper's confirmation
    /// to send and the transcript.
    pub(crate) fn finish(
        self,
        host_message: &[u8],
        host_confirmation: &[u8],
    ) -> Option<(Vec<u8>, Transcript)> {
        let shared = Zeroizing::new(self.spake.finish(host_message).ok()?);
        let keys = ConfirmationKeys::derive(
            &shared,
            &self.binding,
            &self.session_id,
            &self.message,
            host_message,
        );
        if !ConfirmationKeys::verify(&keys.host_key, b"host", &keys.transcript, host_confirmation) {
            return None;
        }
        Some((keys.helper_confirmation(), Transcript(keys.transcript)))
    }
}

/// The host's half, after it answered a hello and before the helper confirmed.
pub(crate) struct HostPake {
    keys: ConfirmationKeys,
}

impl HostPake {
    /// Answers the helper's SPAKE2 message. Returns `None` if the message is
    /// malformed, else the state, the host's SPAKE2 message and its confirmation.
    pub(crate) fn respond(
        secret: &[u8],
        binding: ChannelBinding,
        session_id: SessionId,
        helper_message: &[u8],
        rng: &mut dyn SessionRng,
    ) -> Option<(Self, Vec<u8>, Vec<u8>)> {
        let (id_a, id_b) = identities();
        let (spake, message) =
            Spake2::<Ed25519Group>::start_b_with_rng(&Password::new(secret), &id_a, &id_b, rng);
        let shared = Zeroizing::new(spake.finish(helper_message).ok()?);
        let keys =
            ConfirmationKeys::derive(&shared, &binding, &session_id, helper_message, &message);
        let confirmation = keys.host_confirmation();
        Some((HostPake { keys }, message, confirmation))
    }

    /// The authentication's transcript.
    pub(crate) fn transcript(&self) -> Transcript {
        Transcript(self.keys.transcript)
    }

    /// Whether the helper's confirmation proves it derived the same key.
    pub(crate) fn verify(&self, helper_confirmation: &[u8]) -> bool {
        ConfirmationKeys::verify(
            &self.keys.helper_key,
            b"helper",
            &self.keys.transcript,
            helper_confirmation,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn run(
        helper_secret: &[u8],
        host_secret: &[u8],
        helper_binding: [u8; 32],
        host_binding: [u8; 32],
    ) -> (bool, bool) {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let sid = SessionId([3; 16]);
        let (helper, hello) =
            HelperPake::start(helper_secret, ChannelBinding(helper_binding), sid, &mut rng);
        let (host, reply, host_confirm) = HostPake::respond(
            host_secret,
            ChannelBinding(host_binding),
            sid,
            &hello,
            &mut rng,
        )
        .unwrap();
        match helper.finish(&reply, &host_confirm) {
            Some((confirm, transcript)) => {
                // Both sides hold the same transcript.
                assert!(transcript == host.transcript());
                (true, host.verify(&confirm))
            }
            None => (false, host.verify(&[0; 32])),
        }
    }

    #[test]
    fn same_password_confirms_both_ways() {
        assert_eq!(run(b"secret", b"secret", [1; 32], [1; 32]), (true, true));
    }

    #[test]
    fn wrong_password_fails_both_ways() {
        assert_eq!(run(b"secret", b"secreT", [1; 32], [1; 32]), (false, false));
    }

    #[test]
    fn different_tls_channels_fail() {
        assert_eq!(run(b"secret", b"secret", [1; 32], [2; 32]), (false, false));
    }

    #[test]
    fn garbage_pake_message_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let r = HostPake::respond(
            b"x",
            ChannelBinding([0; 32]),
            SessionId([0; 16]),
            b"junk",
            &mut rng,
        );
        assert!(r.is_none());
    }
}
