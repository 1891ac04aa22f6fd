//! TLS 1.3 (rustls, `ring` provider) for QUIC: a fresh self-signed host key per
//! invitation, and a helper that accepts exactly the certificate the invitation pins.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::invitation::CertFingerprint;
use crate::proto::ALPN;

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

    /// The SHA-256 fingerprint the invitation pins.
    pub(crate) fn fingerprint(&self) -> CertFingerprint {
        CertFingerprint::of_der(&self.certificate)
    }

    /// A quinn server configuration presenting this identity.
    pub(crate) fn server_config(&self) -> Result<quinn::ServerConfig, TlsSetupError> {
        let mut transport = transport_config();
        // One control stream, one input stream; video flows the other way.
        transport.max_concurrent_bidi_streams(1u8.into());
        transport.max_concurrent_uni_streams(2u8.into());
        self.server_config_with(transport)
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

/// The QUIC transport settings both sides use: keep-alives, and an idle
/// timeout so a vanished peer is noticed within 10 s.
pub(crate) fn transport_config() -> quinn::TransportConfig {
    let mut transport = quinn::TransportConfig::default();
    // 10 s fits a VarInt; `try_from` cannot fail for it.
    transport.max_idle_timeout(quinn::IdleTimeout::try_from(IDLE_TIMEOUT).ok());
    transport.keep_alive_interval(Some(KEEP_ALIVE_INTERVAL));
    transport
}

/// How long a silent peer is given before the connection is considered lost.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle connection proves it is alive.
pub(crate) const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(2);

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
) -> Result<quinn::ClientConfig, TlsSetupError> {
    let provider = provider();
    let mut tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TlsSetupError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedCertificate {
            pin,
            provider,
            mismatch,
        }))
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
        .map_err(|e| TlsSetupError::Config(e.to_string()))?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    let mut transport = transport_config();
    transport.max_concurrent_bidi_streams(0u8.into());
    // Video: one stream per frame; a generous window of open streams.
    transport.max_concurrent_uni_streams(64u8.into());
    config.transport_config(Arc::new(transport));
    Ok(config)
}

/// A quinn client configuration that trusts only the certificate `pin` names,
/// with ALPN `ra/1`: for embedders that bring their own transport path (a
/// relay, a test client) but must keep the same trust rule.
///
/// # Errors
/// [`TlsSetupError::Config`] if rustls or quinn refuse the configuration.
pub fn pinned_client_config(pin: CertFingerprint) -> Result<quinn::ClientConfig, TlsSetupError> {
    client_config(pin, PinMismatch::default())
}

/// Accepts the server certificate whose SHA-256 matches the invitation's pin,
/// and checks the handshake signature with it, so the peer must hold the key.
/// There is no other path: no CA, no fallback.
#[derive(Debug)]
pub(crate) struct PinnedCertificate {
    pin: CertFingerprint,
    provider: Arc<CryptoProvider>,
    mismatch: PinMismatch,
}

impl PinnedCertificate {
    /// A verifier that accepts only the certificate `pin` names.
    pub(crate) fn new(pin: CertFingerprint, mismatch: PinMismatch) -> Self {
        PinnedCertificate {
            pin,
            provider: provider(),
            mismatch,
        }
    }
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if CertFingerprint::of_der(end_entity) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            self.mismatch.0.store(true, Ordering::Relaxed);
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
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
