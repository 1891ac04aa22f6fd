//! The broker's TLS identity: a self-signed certificate whose SHA-256 peers
//! pin, kept in a PEM file so restarts keep the fingerprint.

use std::path::Path;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use ra_core::invitation::CertFingerprint;
use ra_core::proto::broker::{BROKER_ALPN, BROKER_SERVER_NAME};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// Largest identity file read.
const MAX_IDENTITY_FILE: u64 = 64 * 1024;

/// Why the identity could not be loaded or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The file could not be read or written.
    #[error("identity file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file does not hold a certificate and a key.
    #[error("invalid identity file {0}: expected a CERTIFICATE and a PRIVATE KEY in PEM")]
    Invalid(String),
    /// The key or certificate could not be generated.
    #[error("cannot generate the broker certificate: {0}")]
    Generate(String),
    /// rustls or quinn refused the configuration.
    #[error("invalid tls configuration: {0}")]
    Tls(String),
}

/// The broker's certificate and key.
pub struct BrokerIdentity {
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for BrokerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerIdentity")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl BrokerIdentity {
    /// A fresh self-signed identity.
    ///
    /// # Errors
    /// [`IdentityError::Generate`].
    pub fn generate() -> Result<Self, IdentityError> {
        let certified = rcgen::generate_simple_self_signed(vec![BROKER_SERVER_NAME.to_owned()])
            .map_err(|e| IdentityError::Generate(e.to_string()))?;
        let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der())
            .map_err(|e| IdentityError::Generate(e.to_string()))?;
        Ok(BrokerIdentity {
            certificate: certified.cert.der().clone(),
            key,
        })
    }

    /// Loads the identity from `path`, or generates one and saves it there.
    ///
    /// # Errors
    /// [`IdentityError`] when the file is unreadable, invalid or cannot be written.
    pub fn load_or_create(path: &Path) -> Result<Self, IdentityError> {
        let io = |source| IdentityError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::metadata(path) {
            Ok(metadata) => {
                if metadata.len() > MAX_IDENTITY_FILE {
                    return Err(IdentityError::Invalid(path.display().to_string()));
                }
                let pem = std::fs::read(path).map_err(io)?;
                let invalid = || IdentityError::Invalid(path.display().to_string());
                let certificate = CertificateDer::from_pem_slice(&pem).map_err(|_| invalid())?;
                let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|_| invalid())?;
                Ok(BrokerIdentity { certificate, key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let identity = Self::generate()?;
                identity.save(path).map_err(io)?;
                Ok(identity)
            }
            Err(e) => Err(io(e)),
        }
    }

    fn save(&self, path: &Path) -> std::io::Result<()> {
        let pem = |label: &str, der: &[u8]| {
            let body = data_encoding::BASE64.encode(der);
            let mut text = format!("-----BEGIN {label}-----\n");
            for line in body.as_bytes().chunks(64) {
                text.push_str(&String::from_utf8_lossy(line));
                text.push('\n');
            }
            text.push_str(&format!("-----END {label}-----\n"));
            text
        };
        let mut text = pem("CERTIFICATE", &self.certificate);
        text.push_str(&pem("PRIVATE KEY", self.key.secret_der()));
        let temporary = path.with_extension("tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, path)
    }

    /// The SHA-256 fingerprint peers pin.
    pub fn fingerprint(&self) -> CertFingerprint {
        CertFingerprint::of_der(&self.certificate)
    }

    /// The endpoint configuration: its stateless-reset key is derived from
    /// the broker's private key, so a restarted node resets the connections
    /// of its previous run at once and waiting peers re-attach within one
    /// keep-alive instead of an idle timeout.
    pub fn endpoint_config(&self) -> quinn::EndpointConfig {
        let digest = Sha256::new()
            .chain_update(b"ra-broker stateless reset key")
            .chain_update(self.key.secret_der())
            .finalize();
        quinn::EndpointConfig::new(Arc::new(ResetKey(digest.into())))
    }

    /// The quinn server configuration (ALPN `ra-broker/1`).
    ///
    /// # Errors
    /// [`IdentityError::Tls`].
    pub fn server_config(&self) -> Result<quinn::ServerConfig, IdentityError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| IdentityError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![self.certificate.clone()], self.key.clone_key())
            .map_err(|e| IdentityError::Tls(e.to_string()))?;
        tls.alpn_protocols = vec![BROKER_ALPN.to_vec()];
        let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
            .map_err(|e| IdentityError::Tls(e.to_string()))?;
        let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        let mut transport = quinn::TransportConfig::default();
        transport.max_concurrent_bidi_streams(8u8.into());
        transport.max_concurrent_uni_streams(0u8.into());
        transport.max_idle_timeout(
            quinn::IdleTimeout::try_from(std::time::Duration::from_secs(30)).ok(),
        );
        config.transport_config(Arc::new(transport));
        Ok(config)
    }
}

/// HMAC-SHA256 with a fixed key, for QUIC stateless resets.
struct ResetKey([u8; 32]);

impl quinn::crypto::HmacKey for ResetKey {
    fn sign(&self, data: &[u8], signature_out: &mut [u8]) {
        // HMAC takes keys of any length.
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) {
            mac.update(data);
            let tag = mac.finalize().into_bytes();
            let n = signature_out.len().min(tag.len());
            signature_out[..n].copy_from_slice(&tag[..n]);
        }
    }

    fn signature_len(&self) -> usize {
        32
    }

    fn verify(&self, data: &[u8], signature: &[u8]) -> Result<(), quinn::crypto::CryptoError> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).map_err(|_| quinn::crypto::CryptoError)?;
        mac.update(data);
        mac.verify_slice(signature)
            .map_err(|_| quinn::crypto::CryptoError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_identity_keeps_its_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broker.pem");
        let first = BrokerIdentity::load_or_create(&path).unwrap();
        let again = BrokerIdentity::load_or_create(&path).unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
        again.server_config().unwrap();
        std::fs::write(&path, "junk").unwrap();
        assert!(matches!(
            BrokerIdentity::load_or_create(&path),
            Err(IdentityError::Invalid(_))
        ));
    }
}
