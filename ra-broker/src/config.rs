//! The broker's configuration: command-line options over a TOML file over defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Largest configuration file read.
const MAX_CONFIG_FILE: u64 = 64 * 1024;

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is too large.
    #[error("{0} is larger than 64 KiB")]
    TooLarge(PathBuf),
    /// The TOML is invalid or has an unknown key.
    #[error("invalid configuration {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Where codes are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryConfig {
    /// In this process (one node).
    Memory,
    /// A Redis server shared by many nodes (`redis://HOST:PORT`).
    Redis(String),
}

impl std::str::FromStr for RegistryConfig {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text == "memory" {
            Ok(RegistryConfig::Memory)
        } else if text.starts_with("redis://") || text.starts_with("rediss://") {
            Ok(RegistryConfig::Redis(text.to_owned()))
        } else {
            Err(format!(
                "invalid registry {text:?}: expected memory or redis://HOST:PORT"
            ))
        }
    }
}

/// Per-source limits on lookups (claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Lookups allowed per minute from one IPv4 address or one IPv6 /64.
    pub lookups_per_minute: u32,
    /// Registrations (and re-attachments) allowed per minute from one source.
    pub registrations_per_minute: u32,
    /// Outcome reports allowed per minute from one source (each is a
    /// registry write).
    pub outcomes_per_minute: u32,
}

/// Limits of the relay and of each allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayLimits {
    /// Bytes forwarded (both ways) before the allocation is closed.
    pub max_bytes: u64,
    /// Silence after which the allocation is closed.
    pub idle_timeout: Duration,
    /// Allocations alive at once on this relay; a match beyond it gets no
    /// relay (its peers may still connect directly).
    pub max_allocations: usize,
    /// Allocations alive at once that one source (an IPv4 address, an IPv6
    /// /64) is a peer of, either side; beyond it, as above.
    pub max_allocations_per_source: usize,
    /// Probes answered per minute and source (a spoofed source cannot have
    /// the relay send more toward a victim).
    pub probes_per_minute: u32,
}

impl Default for RelayLimits {
    fn default() -> Self {
        RelayLimits {
            // An hour of a session at 2 Mbit/s, with room to spare.
            max_bytes: 1 << 30,
            idle_timeout: Duration::from_secs(30),
            max_allocations: 1024,
            max_allocations_per_source: 8,
            // A peer probes a few times a second while it looks for a path.
            probes_per_minute: 120,
        }
    }
}

/// Everything the broker runs with.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// The QUIC address peers connect to.
    pub listen: SocketAddr,
    /// The relay's UDP address (port 0: any free port).
    pub relay_listen: SocketAddr,
    /// The address other nodes redirect claimants to (default: `listen`).
    pub public_addr: Option<SocketAddr>,
    /// The relay address told to peers (default: the relay's bound address).
    pub public_relay_addr: Option<SocketAddr>,
    /// This node's name in the registry.
    pub node_id: String,
    /// Where codes are kept.
    pub registry: RegistryConfig,
    /// The file holding the broker's certificate and key (PEM); created when
    /// missing. `None`: a fresh identity per start.
    pub identity_file: Option<PathBuf>,
    /// The longest lifetime a code may have.
    pub max_code_lifetime: Duration,
    /// Reported PAKE failures that kill a code.
    pub max_failures: u32,
    /// Per-source limits.
    pub rate_limit: RateLimit,
    /// Relay limits.
    pub relay: RelayLimits,
    /// Whether peers are told to try a direct path first (off: always relay).
    pub direct_paths: bool,
    /// Peers waiting on this node at once (each holds a live code); a
    /// registration or re-attachment beyond it is refused for now.
    pub max_waiting: usize,
    /// Codes alive at once in the registry (every node's, with Redis: its
    /// keys, roughly); a registration beyond it is refused for now.
    pub max_codes: u64,
    /// Appends every relayed datagram (length-prefixed) to this file: a view
    /// of what the broker sees, for audits and tests. Off by default.
    pub relay_capture: Option<PathBuf>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        let listen: SocketAddr = SocketAddr::from(([0, 0, 0, 0], 4433));
        BrokerConfig {
            listen,
            relay_listen: SocketAddr::new(listen.ip(), 0),
            public_addr: None,
            public_relay_addr: None,
            node_id: "node-1".to_owned(),
            registry: RegistryConfig::Memory,
            identity_file: None,
            max_code_lifetime: Duration::from_secs(600),
            max_failures: 5,
            rate_limit: RateLimit {
                lookups_per_minute: 10,
                registrations_per_minute: 30,
                outcomes_per_minute: 60,
            },
            relay: RelayLimits::default(),
            max_waiting: 10_000,
            max_codes: 100_000,
            direct_paths: true,
            relay_capture: None,
        }
    }
}

/// The configuration file (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    listen: Option<SocketAddr>,
    relay_listen: Option<SocketAddr>,
    public_addr: Option<SocketAddr>,
    public_relay_addr: Option<SocketAddr>,
    node_id: Option<String>,
    registry: Option<String>,
    identity_file: Option<PathBuf>,
    #[serde(default, with = "humantime_serde_opt")]
    max_code_lifetime: Option<Duration>,
    max_failures: Option<u32>,
    lookups_per_minute: Option<u32>,
    registrations_per_minute: Option<u32>,
    relay_max_bytes: Option<u64>,
    #[serde(default, with = "humantime_serde_opt")]
    relay_idle_timeout: Option<Duration>,
    direct_paths: Option<bool>,
    relay_capture: Option<PathBuf>,
    relay_max_allocations: Option<usize>,
    relay_max_allocations_per_source: Option<usize>,
    relay_probes_per_minute: Option<u32>,
    outcomes_per_minute: Option<u32>,
    max_waiting: Option<usize>,
    max_codes: Option<u64>,
}

mod humantime_serde_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|t| humantime::parse_duration(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

impl BrokerConfig {
    /// Applies the keys of the TOML file at `path` over `self`.
    ///
    /// # Errors
    /// [`ConfigError`] when the file cannot be read or is invalid.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let read = |source| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read)?.len();
        if size > MAX_CONFIG_FILE {
            return Err(ConfigError::TooLarge(path.to_owned()));
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let file: ConfigFile = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if let Some(v) = file.listen {
            self.listen = v;
            self.relay_listen = SocketAddr::new(v.ip(), 0);
        }
        if let Some(v) = file.relay_listen {
            self.relay_listen = v;
        }
        self.public_addr = file.public_addr.or(self.public_addr);
        self.public_relay_addr = file.public_relay_addr.or(self.public_relay_addr);
        if let Some(v) = file.node_id {
            self.node_id = v;
        }
        if let Some(v) = file.registry {
            self.registry = v.parse().map_err(invalid)?;
        }
        self.identity_file = file.identity_file.or(self.identity_file.take());
        if let Some(v) = file.max_code_lifetime {
            self.max_code_lifetime = v;
        }
        if let Some(v) = file.max_failures {
            self.max_failures = v.max(1);
        }
        if let Some(v) = file.lookups_per_minute {
            self.rate_limit.lookups_per_minute = v;
        }
        if let Some(v) = file.registrations_per_minute {
            self.rate_limit.registrations_per_minute = v;
        }
        if let Some(v) = file.relay_max_bytes {
            self.relay.max_bytes = v;
        }
        if let Some(v) = file.relay_idle_timeout {
            self.relay.idle_timeout = v;
        }
        if let Some(v) = file.direct_paths {
            self.direct_paths = v;
        }
        if let Some(v) = file.relay_max_allocations {
            self.relay.max_allocations = v;
        }
        if let Some(v) = file.relay_max_allocations_per_source {
            self.relay.max_allocations_per_source = v;
        }
        if let Some(v) = file.relay_probes_per_minute {
            self.relay.probes_per_minute = v;
        }
        if let Some(v) = file.outcomes_per_minute {
            self.rate_limit.outcomes_per_minute = v;
        }
        if let Some(v) = file.max_waiting {
            self.max_waiting = v;
        }
        if let Some(v) = file.max_codes {
            self.max_codes = v;
        }
        self.relay_capture = file.relay_capture.or(self.relay_capture.take());
        Ok(())
    }

    /// The address redirects point at.
    pub fn advertised_addr(&self, bound: SocketAddr) -> SocketAddr {
        self.public_addr.unwrap_or(bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broker.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:5000\"\nlookups_per_minute = 3\nrelay_idle_timeout = \"5s\"\nregistry = \"redis://127.0.0.1:6379\"\n",
        )
        .unwrap();
        let mut config = BrokerConfig::default();
        config.apply_file(&path).unwrap();
        assert_eq!(config.listen, "127.0.0.1:5000".parse().unwrap());
        assert_eq!(config.rate_limit.lookups_per_minute, 3);
        assert_eq!(config.relay.idle_timeout, Duration::from_secs(5));
        assert_eq!(
            config.registry,
            RegistryConfig::Redis("redis://127.0.0.1:6379".into())
        );
        std::fs::write(&path, "colour = \"blue\"\n").unwrap();
        let error = config.apply_file(&path).unwrap_err().to_string();
        assert!(error.contains("colour"), "{error}");
    }
}
