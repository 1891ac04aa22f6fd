//! Options shared by the broker subcommands.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
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

/// An answer the host gives without asking, or asks for on stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Answer {
    /// Ask on stdin (answer `y` or `n`).
    Ask,
    /// Always yes.
    Yes,
    /// Always no.
    No,
}

/// What happens to the helper's input while it has control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InjectKind {
    /// Print it (an `input` event).
    Log,
    /// Drop it.
    None,
}

/// The host's options (as for `invite`).
#[derive(Debug, Clone, clap::Args)]
pub struct HostArgs {
    /// Whether to let the helper in (after it proved it knows the code).
    #[arg(long, value_enum, default_value = "ask")]
    pub approve: Answer,
    /// Whether to give the helper control when it asks.
    #[arg(long, value_enum, default_value = "ask")]
    pub approve_control: Answer,
    /// What happens to the helper's input while it has control.
    #[arg(long, value_enum, default_value = "log")]
    pub inject: InjectKind,
    /// Size of the synthetic screen.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// The host policy (TOML); its maximum invitation lifetime caps the code's.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Append the audit log (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// The name the helper sees.
    #[arg(long, default_value = "ra host")]
    pub name: String,
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    pub json: bool,
}

/// The helper's options (as for `accept`).
#[derive(Debug, Clone, clap::Args)]
pub struct HelperArgs {
    /// The name the host sees.
    #[arg(long, default_value = "ra helper")]
    pub name: String,
    /// Ask the host for control once connected.
    #[arg(long)]
    pub request_control: bool,
    /// Stop after receiving N frames (and finishing the input script).
    #[arg(long, value_name = "N")]
    pub frames: Option<u64>,
    /// Once control is granted, send the input in this script.
    #[arg(long, value_name = "FILE")]
    pub input_script: Option<PathBuf>,
    /// Send this chat message once connected.
    #[arg(long, value_name = "TEXT")]
    pub chat: Option<String>,
    /// Stop after this long, whatever else is going on.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// How long to wait for the host to let you in.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    pub approval_timeout: Duration,
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    pub json: bool,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("invalid size {text:?}: expected WxH, e.g. 1280x720"))?;
    let parse = |v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|n| (16..=8192).contains(n))
            .ok_or_else(|| format!("invalid size {text:?}: sides must be 16 to 8192"))
    };
    Ok((parse(w)?, parse(h)?))
}
