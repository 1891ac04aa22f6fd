//! TLS 1.3 (rustls, `ring` provider) for QUIC: a fresh self-signed host key per
//! invitation, and a helper that accepts exactly the certificate the invitation pins.
//!
//! Every client here verifies the server with a [`SignatureChecked`]: its
//! [`CertificateRule`] decides which certificate is accepted, and the handshake
//! signature is always checked with that certificate's key. The invitation
//! flow's rule is [`PinnedCertificate`] (the pin and nothing else); the code
//! flows' rule, any certificate, is private to `peer_tls`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::invitation::CertFingerprint;
use crate::proto::ALPN;
use crate::session::link;

/// The name the host certificate carries and the helper asks for. It is not
/// used for trust (the pin is), but TLS needs one.
pub const SERVER_NAME: &str = "ra-host.invalid";

/// Any failure to set up TLS: these come from our own configuration, not the peer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// The host key or certificate could not be generated.
    #[error("could not generate the host certificate: {0}")]
    Certificate(String),
    /// rustls or quinn refused the configuration.
    #[error("invalid tls configuration: {0}")]
    Config(String),
}

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The host's certificate and key for one invitation.
pub(crate) struct HostIdentity {
    certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl HostIdentity {
    /// Generates a fresh key pair and self-signed certificate.
    pub(crate) fn generate() -> Result<Self, TlsSetupError> {
        let certified = rcgen::generate_simple_self_signed(vec![SERVER_NAME.to_owned()])
            .map_err(|e| TlsSetupError::Certificate(e.to_string()))?;
        Ok(HostIdentity {
            certificate: certified.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()),
        })
    }

    /// The identity a resume ticket kept: its certificate and PKCS#8 key.
    pub(crate) fn from_der(certificate: Vec<u8>, key: &[u8]) -> Self {
        HostIdentity {
            certificate: CertificateDer::from(certificate),
            key: PrivatePkcs8KeyDer::from(key.to_vec()),
        }
    }

    /// The certificate (DER) and its PKCS#8 key, for a resume ticket.
    pub(crate) fn to_der(&self) -> (Vec<u8>, zeroize::Zeroizing<Vec<u8>>) {
        (
            self.certificate.to_vec(),
            self.key.secret_pkcs8_der().to_vec().into(),
        )
    }

    /// The key consent receipts are signed with: this certificate's.
    pub(crate) fn receipt_key(&self) -> Option<crate::receipt::HostReceiptKey> {
        crate::receipt::HostReceiptKey::from_pkcs8(
            self.certificate.to_vec(),
            self.key.secret_pkcs8_der(),
        )
        .inspect_err(|e| tracing::warn!(error = %e, "no consent receipts"))
        .ok()
    }

    /// The SHA-256 fingerprint the invitation pins.
    pub(crate) fn fingerprint(&self) -> CertFingerprint {
        CertFingerprint::of_der(&self.certificate)
    }

    /// A quinn server configuration presenting this identity, for the host
    /// of a session whose dark path is waited for `outage_grace`.
    pub(crate) fn server_config(
        &self,
        outage_grace: Duration,
    ) -> Result<quinn::ServerConfig, TlsSetupError> {
        self.server_config_with(host_transport(outage_grace))
    }

    /// A quinn server configuration presenting this identity with `transport`
    /// (the stream limits depend on the session role, not on who dials).
    pub(crate) fn server_config_with(
        &self,
        transport: quinn::TransportConfig,
    ) -> Result<quinn::ServerConfig, TlsSetupError> {
        let mut tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| TlsSetupError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.certificate.clone()],
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .map_err(|e| TlsSetupError::Config(e.to_string()))?;
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
            .map_err(|e| TlsSetupError::Config(e.to_string()))?;
        let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        config.transport_config(Arc::new(transport));
        config.migration(true);
        Ok(config)
    }
}

/// The QUIC transport settings both sides use: keep-alives, so that silence
/// means a dark path ([`crate::session::link`]), and `idle_timeout`, after
/// which a silent peer is given up.
pub(crate) fn transport_config(idle_timeout: Duration) -> quinn::TransportConfig {
    let mut transport = quinn::TransportConfig::default();
    // At most 600 s + 5 s: fits a VarInt, `try_from` cannot fail for it.
    transport.max_idle_timeout(quinn::IdleTimeout::try_from(idle_timeout).ok());
    transport.keep_alive_interval(Some(link::KEEP_ALIVE_INTERVAL));
    transport
}

/// The transport of a session's connection: a dark path is waited for
/// `outage_grace` before the peer is given up.
fn session_transport(outage_grace: Duration) -> quinn::TransportConfig {
    transport_config(link::idle_timeout(outage_grace))
}

/// The transport of the host's side of a session: the helper opens one
/// control stream and one input stream; video flows the other way.
pub(crate) fn host_transport(outage_grace: Duration) -> quinn::TransportConfig {
    let mut transport = session_transport(outage_grace);
    transport.max_concurrent_bidi_streams(1u8.into());
    transport.max_concurrent_uni_streams(2u8.into());
    transport
}

/// The transport of the helper's side of a session: video, one stream per
/// frame; a generous window of open streams.
pub(crate) fn helper_transport(outage_grace: Duration) -> quinn::TransportConfig {
    let mut transport = session_transport(outage_grace);
    transport.max_concurrent_bidi_streams(0u8.into());
    transport.max_concurrent_uni_streams(64u8.into());
    transport
}

/// How long a silent broker is given before its link is considered lost.
/// Keep-alives go every second and the idle timer restarts when one is sent,
/// so a dead node is noticed 3.5 s after its last packet at most, and a
/// waiting peer re-attaches through another node within 5 s (a link lost to
/// packet loss alone costs one cheap re-attach).
pub(crate) const BROKER_IDLE_TIMEOUT: Duration = Duration::from_millis(2500);

/// Set when a host presented a certificate other than the pinned one.
#[derive(Debug, Clone, Default)]
pub(crate) struct PinMismatch(Arc<AtomicBool>);

impl PinMismatch {
    /// Whether any handshake saw a certificate other than the pinned one.
    pub(crate) fn seen(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A quinn client configuration that trusts only the pinned certificate.
pub(crate) fn client_config(
    pin: CertFingerprint,
    mismatch: PinMismatch,
    outage_grace: Duration,
) -> Result<quinn::ClientConfig, TlsSetupError> {
    let provider = provider();
    let verifier = PinnedCertificate::verifier(pin, mismatch, provider.clone());
    quic_client_config(
        provider,
        Arc::new(verifier),
        ALPN,
        helper_transport(outage_grace),
    )
}

/// A quinn client configuration that trusts only the certificate `pin` names,
/// with ALPN `ra/1`: for embedders that bring their own transport path (a
/// relay, a test client) but must keep the same trust rule.
///
/// # Errors
/// [`TlsSetupError::Config`] if rustls or quinn refuse the configuration.
pub fn pinned_client_config(pin: CertFingerprint) -> Result<quinn::ClientConfig, TlsSetupError> {
    client_config(pin, PinMismatch::default(), link::DEFAULT_OUTAGE_GRACE)
}

/// A quinn client configuration: TLS 1.3 only, `verifier` deciding which
/// server certificate to trust, no client certificate, one ALPN protocol.
pub(crate) fn quic_client_config(
    provider: Arc<CryptoProvider>,
    verifier: Arc<dyn ServerCertVerifier>,
    alpn: &[u8],
    transport: quinn::TransportConfig,
) -> Result<quinn::ClientConfig, TlsSetupError> {
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TlsSetupError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = vec![alpn.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
        .map_err(|e| TlsSetupError::Config(e.to_string()))?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    config.transport_config(Arc::new(transport));
    Ok(config)
}

/// Which server certificate a [`SignatureChecked`] verifier accepts. Whatever
/// the rule, the handshake signature is then checked with the accepted
/// certificate's key.
pub(crate) trait CertificateRule: fmt::Debug + Send + Sync {
    /// `Ok` to accept `end_entity`; an error fails the handshake.
    fn check(&self, end_entity: &CertificateDer<'_>) -> Result<(), rustls::Error>;
}

/// A server certificate verifier: `rule` decides whether the certificate is
/// accepted, and the TLS 1.3 handshake signature is checked with its key, so
/// the peer must hold that key. TLS 1.2 is refused (only 1.3 is enabled).
#[derive(Debug)]
pub(crate) struct SignatureChecked<R> {
    rule: R,
    provider: Arc<CryptoProvider>,
}

impl<R: CertificateRule> SignatureChecked<R> {
    /// A verifier that accepts what `rule` accepts, with `provider`'s
    /// signature algorithms.
    pub(crate) fn new(rule: R, provider: Arc<CryptoProvider>) -> Self {
        SignatureChecked { rule, provider }
    }
}

impl<R: CertificateRule> ServerCertVerifier for SignatureChecked<R> {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.rule.check(end_entity)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Only TLS 1.3 is enabled.
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Accepts the server certificate whose SHA-256 matches the invitation's pin
/// (the handshake signature is then checked with it, so the peer must hold
/// the key), and refuses every other one, recording it in `mismatch`.
/// There is no other path: no CA, no fallback.
#[derive(Debug)]
pub(crate) struct PinnedCertificate {
    pin: CertFingerprint,
    mismatch: PinMismatch,
}

impl PinnedCertificate {
    /// A verifier that accepts only the certificate `pin` names.
    pub(crate) fn verifier(
        pin: CertFingerprint,
        mismatch: PinMismatch,
        provider: Arc<CryptoProvider>,
    ) -> SignatureChecked<Self> {
        SignatureChecked::new(PinnedCertificate { pin, mismatch }, provider)
    }
}

impl CertificateRule for PinnedCertificate {
    fn check(&self, end_entity: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if CertFingerprint::of_der(end_entity) == self.pin {
            Ok(())
        } else {
            self.mismatch.0.store(true, Ordering::Relaxed);
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_accepts_its_certificate_and_nothing_else() {
        let pinned = HostIdentity::generate().unwrap();
        let other = HostIdentity::generate().unwrap();
        let mismatch = PinMismatch::default();
        let verifier =
            PinnedCertificate::verifier(pinned.fingerprint(), mismatch.clone(), provider());
        let verify = |identity: &HostIdentity| {
            verifier.verify_server_cert(
                &identity.certificate,
                &[],
                &ServerName::try_from(SERVER_NAME).unwrap(),
                &[],
                UnixTime::now(),
            )
        };
        assert!(verify(&pinned).is_ok());
        assert!(!mismatch.seen());
        assert!(matches!(
            verify(&other),
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure
            ))
        ));
        assert!(mismatch.seen());
    }
}
