//! How the broker subcommands reach the broker (their session options are
//! [`crate::host_app::HostArgs`] and [`crate::helper_app::HelperArgs`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ra_core::invitation::CertFingerprint;
use ra_core::runtime::{BrokerOptions, BrokerTrust};

use crate::parse_duration;

/// How to reach and recognise the broker.
#[derive(Debug, Clone, clap::Args)]
pub struct BrokerArgs {
    /// The broker's address.
    #[arg(long, value_name = "IP:PORT")]
    pub broker: SocketAddr,
    /// The broker certificate's SHA-256 (as `ra-broker serve` prints it).
    #[arg(long, value_name = "sha256:HEX", required_unless_present = "broker_ca")]
    pub broker_fingerprint: Option<CertFingerprint>,
    /// Or: CA certificates (PEM) that signed the broker's certificate.
    #[arg(long, value_name = "FILE", requires = "broker_name")]
    pub broker_ca: Option<PathBuf>,
    /// The name in the broker's CA-signed certificate.
    #[arg(long, value_name = "NAME")]
    pub broker_name: Option<String>,
    /// The local UDP address (port 0: any).
    #[arg(long, value_name = "IP:PORT", default_value = "0.0.0.0:0")]
    pub bind: SocketAddr,
    /// Never try a direct path: always use the broker's relay.
    #[arg(long)]
    pub relay_only: bool,
    /// How long the direct path may take before the relay is used.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub direct_timeout: Duration,
}

impl BrokerArgs {
    /// The ra-core options these arguments describe.
    ///
    /// # Errors
    /// A message when the CA file cannot be read.
    pub fn options(&self) -> Result<BrokerOptions, String> {
        let trust = match (&self.broker_fingerprint, &self.broker_ca) {
            (Some(fingerprint), _) => BrokerTrust::Fingerprint(*fingerprint),
            (None, Some(path)) => BrokerTrust::Ca {
                pem: std::fs::read(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
                server_name: self.broker_name.clone().unwrap_or_default(),
            },
            (None, None) => return Err("give --broker-fingerprint or --broker-ca".into()),
        };
        let mut options = BrokerOptions::new(self.broker, trust);
        options.bind = self.bind;
        options.try_direct = !self.relay_only;
        options.direct_timeout = self.direct_timeout;
        Ok(options)
    }
}
