//! The local firewall half of "verify the firewall": rules of nftables and
//! iptables on this machine that drop or reject the UDP port ra uses.

use std::process::Command;

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
pub(super) fn local_firewall(port: u16) -> (Vec<BlockingRule>, Vec<&'static str>) {
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
