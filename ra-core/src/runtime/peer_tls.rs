//! TLS for the broker flows.
//!
//! There is no invitation file in the code flows, hence no certificate to pin:
//! the waiting peer presents a fresh self-signed certificate and the claimant
//! accepts any certificate, but still checks the handshake signature with the
//! presented key. What authenticates is the PAKE over the code's secret, bound
//! to the TLS exporter and the code's session id (see
//! [`crate::session::ChannelBinding`]): a broker or relay that terminates TLS
//! towards each side ends up with two different exporters, and key
//! confirmation fails on both sides. The invitation flow keeps its pin.
//!
//! The broker itself is pinned: by the SHA-256 of its certificate, or by CA
//! certificates and a server name.

use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::tls::{
    BROKER_IDLE_TIMEOUT, CertificateRule, HostIdentity, PinMismatch, PinnedCertificate,
    SignatureChecked, TlsSetupError, helper_transport, host_transport, provider,
    quic_client_config, transport_config,
};
use crate::invitation::CertFingerprint;
use crate::proto::ALPN;
use crate::proto::broker::{BROKER_ALPN, BROKER_SERVER_NAME};
use std::time::Duration;

/// The session role of the local side, which decides the stream limits: the
/// helper opens the control and input streams, the host the video streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionRole {
    Host,
    Helper,
}

/// How a peer recognises the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BrokerTrust {
    /// The SHA-256 fingerprint of the broker's certificate.
    Fingerprint(CertFingerprint),
    /// CA certificates (PEM) that signed the broker's certificate, and the
    /// name the certificate must carry.
    Ca {
        /// The PEM text of one or more CA certificates.
        pem: Vec<u8>,
        /// The broker's DNS name (or IP address) in its certificate.
        server_name: String,
    },
}

/// The QUIC transport of a session whose local side plays `role` and waits
/// `outage_grace` for a dark path.
pub(crate) fn role_transport(role: SessionRole, outage_grace: Duration) -> quinn::TransportConfig {
    let mut transport = match role {
        SessionRole::Host => host_transport(outage_grace),
        SessionRole::Helper => helper_transport(outage_grace),
    };
    // Hole punching may lose the first Initial: retry it sooner than the
    // default 333 ms estimate would (the real RTT replaces it at once).
    transport.initial_rtt(std::time::Duration::from_millis(100));
    transport
}

/// The waiting peer's server configuration: a fresh self-signed certificate.
pub(crate) fn peer_server_config(
    identity: &HostIdentity,
    role: SessionRole,
    outage_grace: Duration,
) -> Result<quinn::ServerConfig, TlsSetupError> {
    identity.server_config_with(role_transport(role, outage_grace))
}

/// The claimant's client configuration: any certificate, a valid handshake
/// signature, ALPN `ra/1`.
pub(crate) fn unverified_client_config(
    role: SessionRole,
    outage_grace: Duration,
) -> Result<quinn::ClientConfig, TlsSetupError> {
    let provider = provider();
    let verifier = SignatureChecked::new(AnyCertificate, provider.clone());
    quic_client_config(
        provider,
        Arc::new(verifier),
        ALPN,
        role_transport(role, outage_grace),
    )
}

/// The configuration for talking to the broker (ALPN `ra-broker/1`).
pub(crate) fn broker_client_config(
    trust: &BrokerTrust,
) -> Result<quinn::ClientConfig, TlsSetupError> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        BrokerTrust::Fingerprint(pin) => Arc::new(PinnedCertificate::verifier(
            *pin,
            PinMismatch::default(),
            provider.clone(),
        )),
        BrokerTrust::Ca { pem, .. } => {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in CertificateDer::pem_slice_iter(pem) {
                let certificate = certificate
                    .map_err(|e| TlsSetupError::Config(format!("invalid ca file: {e}")))?;
                roots
                    .add(certificate)
                    .map_err(|e| TlsSetupError::Config(format!("invalid ca certificate: {e}")))?;
            }
            if roots.is_empty() {
                return Err(TlsSetupError::Config(
                    "the ca file holds no certificate".into(),
                ));
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| TlsSetupError::Config(e.to_string()))?
        }
    };
    let mut transport = transport_config(BROKER_IDLE_TIMEOUT);
    transport.max_concurrent_bidi_streams(0u8.into());
    transport.max_concurrent_uni_streams(0u8.into());
    quic_client_config(provider, verifier, BROKER_ALPN, transport)
}

/// The server name to ask the broker for.
pub(crate) fn broker_server_name(trust: &BrokerTrust) -> &str {
    match trust {
        BrokerTrust::Fingerprint(_) => BROKER_SERVER_NAME,
        BrokerTrust::Ca { server_name, .. } => server_name,
    }
}

/// Accepts any certificate; [`SignatureChecked`] still checks that the peer
/// signed the handshake with its key (so the TLS exporter is the one of a
/// real TLS 1.3 session with that key). Used only where the PAKE
/// authenticates, and private to this module: the invitation flow's
/// configuration (`tls::client_config`) knows only [`PinnedCertificate`].
#[derive(Debug)]
struct AnyCertificate;

impl CertificateRule for AnyCertificate {
    fn check(&self, _end_entity: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        Ok(())
    }
}
