//! `ra-host diagnose`: the "verify the firewall" checklist: a UDP socket
//! binds; the broker answers (RTT); the public address it sees; whether the
//! NAT keeps one mapping for two broker ports (direct paths likely or not);
//! local firewall rules (nftables, iptables) that would drop the port; a
//! one-line verdict.

use std::process::Command;

use ra_core::runtime::{NetworkReport, diagnose_network};
use serde_json::json;

use super::args::BrokerArgs;
use crate::output::Output;

/// `ra-host diagnose`.
#[derive(Debug, Clone, clap::Args)]
pub struct DiagnoseArgs {
    /// The broker.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    pub json: bool,
}

/// A firewall rule that drops or rejects a UDP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingRule {
    /// `nftables` or `iptables`.
    pub tool: &'static str,
    /// The rule as the tool prints it.
    pub rule: String,
}

/// Whether a port list such as `4433`, `{ 53, 4433 }`, `4000-5000`,
/// `53,4433` or `4000:5000` names `port`.
fn ports_match(list: &str, port: u16) -> bool {
    list.trim_matches(|c| c == '{' || c == '}' || c == ' ')
        .split(',')
        .map(str::trim)
        .any(|item| match item.split_once(['-', ':']) {
            Some((low, high)) => matches!(
                (low.trim().parse::<u16>(), high.trim().parse::<u16>()),
                (Ok(low), Ok(high)) if (low..=high).contains(&port)
            ),
            None => item.parse::<u16>() == Ok(port),
        })
}

/// Rules of `nft list ruleset` in input chains that drop or reject UDP `port`.
pub fn nft_blocking_rules(ruleset: &str, port: u16) -> Vec<BlockingRule> {
    let mut rules = Vec::new();
    let mut in_input = false;
    for line in ruleset.lines().map(str::trim) {
        if line.starts_with("chain ") {
            in_input = false;
        }
        if line.contains("hook input") || line.contains("hook prerouting") {
            in_input = true;
        }
        if !in_input
            || !(line.contains(" drop") || line.contains(" reject") || line.ends_with("drop"))
        {
            continue;
        }
        let Some(rest) = line.split("udp dport").nth(1) else {
            continue;
        };
        let list = if let Some(set) = rest.trim_start().strip_prefix('{') {
            set.split('}').next().unwrap_or_default().to_owned()
        } else {
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        if ports_match(&list, port) {
            rules.push(BlockingRule {
                tool: "nftables",
                rule: line.to_owned(),
            });
        }
    }
    rules
}

/// Rules of `iptables -S` in INPUT that drop or reject UDP `port`.
pub fn iptables_blocking_rules(rules: &str, port: u16) -> Vec<BlockingRule> {
    rules
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("-A INPUT") && (l.contains("-j DROP") || l.contains("-j REJECT")))
        .filter(|l| l.contains("-p udp"))
        .filter(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words
                .windows(2)
                .any(|w| matches!(w[0], "--dport" | "--dports") && ports_match(w[1], port))
        })
        .map(|l| BlockingRule {
            tool: "iptables",
            rule: l.to_owned(),
        })
        .collect()
}

/// Runs `program args` if it exists; its stdout.
fn tool_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Firewall rules of this machine that drop `port`, and the tools consulted.
fn local_firewall(port: u16) -> (Vec<BlockingRule>, Vec<&'static str>) {
    let mut rules = Vec::new();
    let mut consulted = Vec::new();
    if let Some(ruleset) = tool_output("nft", &["list", "ruleset"]) {
        consulted.push("nft");
        rules.extend(nft_blocking_rules(&ruleset, port));
    }
    if let Some(text) = tool_output("iptables", &["-S"]) {
        consulted.push("iptables");
        for rule in iptables_blocking_rules(&text, port) {
            if !rules.iter().any(|r: &BlockingRule| r.rule == rule.rule) {
                rules.push(rule);
            }
        }
    }
    (rules, consulted)
}

/// The one-line verdict, and whether assistance can work.
pub fn verdict(report: &NetworkReport, blocking: &[BlockingRule]) -> (bool, String) {
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

/// Runs `ra-host diagnose`; the exit code (0 when assistance can work).
pub async fn run(args: DiagnoseArgs, output: Output) -> u8 {
    let options = match args.broker.options() {
        Ok(o) => o,
        Err(e) => {
            output.error(&e);
            return 2;
        }
    };
    let report = diagnose_network(&options).await;
    let check = |name: &str, ok: bool, detail: String| {
        output.event(
            "check",
            json!({ "name": name, "ok": ok, "detail": detail }),
            || format!("[{}] {name}: {detail}", if ok { "ok" } else { "!!" }),
        );
    };
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
                options.broker,
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
    let port = report
        .bind
        .as_ref()
        .map(|a| a.port())
        .unwrap_or(args.broker.bind.port());
    let (blocking, consulted) = local_firewall(port);
    if consulted.is_empty() {
        check(
            "firewall",
            true,
            "no nft or iptables here to consult".to_owned(),
        );
    } else if blocking.is_empty() {
        check(
            "firewall",
            true,
            format!("no rule of {} drops udp port {port}", consulted.join(", ")),
        );
    } else {
        for rule in &blocking {
            check(
                "firewall",
                false,
                format!("{} drops udp port {port}: {}", rule.tool, rule.rule),
            );
        }
    }
    let (ok, text) = verdict(&report, &blocking);
    output.event("verdict", json!({ "ok": ok, "verdict": text }), || {
        format!("Verdict: {text}")
    });
    if ok { 0 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rules_that_drop_the_port() {
        let nft = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tudp dport 4433 drop\n\t\tudp dport { 53, 5000-5100 } reject\n\t\ttcp dport 4433 drop\n\t}\n\tchain output {\n\t\ttype filter hook output priority filter;\n\t\tudp dport 7000 drop\n\t}\n}\n";
        assert_eq!(nft_blocking_rules(nft, 4433).len(), 1);
        assert_eq!(nft_blocking_rules(nft, 5050).len(), 1);
        assert_eq!(nft_blocking_rules(nft, 53).len(), 1);
        assert!(nft_blocking_rules(nft, 7000).is_empty());
        assert!(nft_blocking_rules(nft, 4434).is_empty());
        let ipt = "-P INPUT ACCEPT\n-A INPUT -p udp -m udp --dport 4433 -j DROP\n-A INPUT -p udp -m multiport --dports 53,6000:6010 -j REJECT\n-A OUTPUT -p udp -m udp --dport 9 -j DROP\n";
        assert_eq!(iptables_blocking_rules(ipt, 4433).len(), 1);
        assert_eq!(iptables_blocking_rules(ipt, 6005).len(), 1);
        assert!(iptables_blocking_rules(ipt, 9).is_empty());
    }
}
