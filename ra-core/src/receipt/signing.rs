//! The host's receipt signature: made with its TLS certificate's key,
//! checked with the certificate the receipt carries.

use pki_types::CertificateDer;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};

use super::ReceiptError;

/// The algorithms a receipt's host signature may use: those of the keys
/// hosts' certificates have.
const HOST_SIGNATURE_ALGORITHMS: &[&dyn pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
];

/// The key a host signs receipts with, and the certificate it belongs to
/// (the one an invitation pins).
pub struct HostReceiptKey {
    certificate: Vec<u8>,
    key: EcdsaKeyPair,
}

impl std::fmt::Debug for HostReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostReceiptKey")
            .field(
                "certificate",
                &crate::invitation::CertFingerprint::of_der(&self.certificate),
            )
            .finish_non_exhaustive()
    }
}

impl HostReceiptKey {
    /// The key of `certificate` (DER), given as PKCS#8 (an ECDSA P-256
    /// key, what the host's certificates use).
    ///
    /// # Errors
    /// [`ReceiptError::Signing`] when the key is not such a key, or not the
    /// certificate's.
    pub fn from_pkcs8(certificate: Vec<u8>, pkcs8: &[u8]) -> Result<Self, ReceiptError> {
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &SystemRandom::new())
                .map_err(|e| ReceiptError::Signing(format!("not an ecdsa p-256 key: {e}")))?;
        let receipt_key = HostReceiptKey { certificate, key };
        // A key that is not the certificate's would sign receipts nobody
        // can check: refuse it now.
        let probe = b"ra receipt key check";
        verify_host_signature(&receipt_key.certificate, probe, &receipt_key.sign(probe)?)
            .map_err(|_| ReceiptError::Signing("the key is not the certificate's".into()))?;
        Ok(receipt_key)
    }

    /// A fresh key and self-signed certificate, for a host that has no
    /// certificate of its own in its session (it dialled the helper).
    ///
    /// # Errors
    /// [`ReceiptError::Signing`] when no key can be generated.
    #[cfg(feature = "runtime")]
    pub fn generate() -> Result<Self, ReceiptError> {
        let certified = rcgen::generate_simple_self_signed(vec!["ra-host.invalid".to_owned()])
            .map_err(|e| ReceiptError::Signing(e.to_string()))?;
        Self::from_pkcs8(
            certified.cert.der().to_vec(),
            &certified.signing_key.serialize_der(),
        )
    }

    /// The certificate (DER).
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ReceiptError> {
        self.key
            .sign(&SystemRandom::new(), message)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| ReceiptError::Signing("the system's randomness failed".into()))
    }
}

/// Checks `signature` over `message` with the key of `certificate` (DER).
pub(super) fn verify_host_signature(
    certificate: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), ReceiptError> {
    let der = CertificateDer::from(certificate);
    let cert = webpki::EndEntityCert::try_from(&der).map_err(|e| {
        ReceiptError::Malformed(format!("host_certificate is not a certificate: {e}"))
    })?;
    HOST_SIGNATURE_ALGORITHMS
        .iter()
        .any(|algorithm| {
            cert.verify_signature(*algorithm, message, signature)
                .is_ok()
        })
        .then_some(())
        .ok_or(ReceiptError::BadHostSignature)
}
