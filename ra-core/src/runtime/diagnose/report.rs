//! What "verify the firewall" found, as the checks a person reads and a
//! one-line verdict: the same for `ra-host diagnose`, `ra-helper diagnose`
//! and the C ABI's `ra_diagnose`.

use super::NetworkReport;
use super::firewall::BlockingRule;

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// A stable name: `udp_bind`, `broker`, `public_address`, `nat_mapping`,
    /// `inbound`, `firewall`.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, for a person.
    pub detail: String,
}

/// Everything the network and firewall checks found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnosis {
    /// The broker checked, as given.
    pub broker: std::net::SocketAddr,
    /// The network half.
    pub network: NetworkReport,
    /// Local firewall rules that drop the port.
    pub blocking: Vec<BlockingRule>,
    /// The firewall tools consulted (`nft`, `iptables`).
    pub consulted: Vec<&'static str>,
    /// The UDP port checked (the one bound, else the one asked for).
    pub port: u16,
}

impl Diagnosis {
    /// The checks, in the order a person reads them.
    pub fn checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        let mut check = |name, ok, detail| checks.push(Check { name, ok, detail });
        let report = &self.network;
        match &report.bind {
            Ok(addr) => check("udp_bind", true, format!("bound {addr}")),
            Err(e) => check("udp_bind", false, e.clone()),
        }
        match &report.broker_rtt {
            Ok(rtt) => check(
                "broker",
                true,
                format!(
                    "{} answered in {:.1} ms",
                    self.broker,
                    rtt.as_secs_f64() * 1000.0
                ),
            ),
            Err(e) => check("broker", false, e.clone()),
        }
        if let Some(observed) = report.observed {
            check(
                "public_address",
                true,
                format!("the broker sees {observed}"),
            );
        }
        match report.mapping_stable() {
            Some(stable) => check(
                "nat_mapping",
                stable,
                if stable {
                    "the same public port for two broker ports: direct paths likely".to_owned()
                } else {
                    format!(
                        "different public ports ({:?} vs {:?}): direct paths unlikely, the relay will be used",
                        report.observed, report.observed_by_relay
                    )
                },
            ),
            None => check("nat_mapping", false, "could not be measured".to_owned()),
        }
        let port = self.port;
        match report.inbound {
            Some(true) => check(
                "inbound",
                true,
                format!(
                    "udp port {port} is reachable from outside: invitations can be dialled directly"
                ),
            ),
            Some(false) => check(
                "inbound",
                false,
                format!(
                    "udp port {port} is not reachable from outside: a helper elsewhere cannot dial \
                     an invitation's address; give the invitation a broker rendezvous, or let udp \
                     port {port} in (port forwarding on the router, the firewall)"
                ),
            ),
            None => check("inbound", false, "could not be measured".to_owned()),
        }
        if self.consulted.is_empty() {
            check(
                "firewall",
                true,
                "no nft or iptables here to consult".to_owned(),
            );
        } else if self.blocking.is_empty() {
            check(
                "firewall",
                true,
                format!(
                    "no rule of {} drops udp port {port}",
                    self.consulted.join(", ")
                ),
            );
        } else {
            for rule in &self.blocking {
                check(
                    "firewall",
                    false,
                    format!("{} drops udp port {port}: {}", rule.tool, rule.rule),
                );
            }
        }
        checks
    }

    /// Whether assistance can work from here, and the one-line verdict.
    pub fn verdict(&self) -> (bool, String) {
        let (ok, mut text) = verdict(&self.network, &self.blocking);
        if ok && self.network.inbound == Some(false) {
            text += &format!(
                "; invitations from outside need a broker rendezvous (udp port {} is not reachable)",
                self.port
            );
        }
        (ok, text)
    }
}

/// The one-line verdict, and whether assistance can work.
fn verdict(report: &NetworkReport, blocking: &[BlockingRule]) -> (bool, String) {
    if let Err(e) = &report.bind {
        return (false, format!("blocked: cannot open a UDP socket ({e})"));
    }
    if let Some(rule) = blocking.first() {
        return (
            false,
            format!(
                "blocked: the local firewall drops the port ({}: {})",
                rule.tool, rule.rule
            ),
        );
    }
    if let Err(e) = &report.broker_rtt {
        return (false, format!("blocked: the broker is unreachable ({e})"));
    }
    match report.mapping_stable() {
        Some(true) => (true, "ready: direct connections are likely".to_owned()),
        Some(false) => (
            true,
            "ready: the NAT changes ports per destination, sessions will use the broker's relay"
                .to_owned(),
        ),
        None => (
            true,
            "ready: sessions may need the broker's relay (the NAT could not be measured)"
                .to_owned(),
        ),
    }
}
