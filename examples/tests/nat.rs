//! Host and helper behind two NATs (network namespaces, iproute2 + nftables
//! masquerade) with the broker "outside": a direct path when the NATs keep
//! their mappings (hole punching works), the relay when they do not; and
//! `ra-host diagnose` behind each NAT and behind a firewall that drops the port.
//!
//! The namespaces are made and removed by the tests (unique names, removed on
//! drop) and are connected only to each other. Needs root (as CI runs the
//! suite); without it the tests say so and pass without checking.

// Shared with cli.rs, which uses the parts this file does not.
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use support::{HELPER, HOST, Proc};

/// The "internet" between the NATs: a documentation/benchmark range that
/// exists only inside the test's namespaces.
const BROKER_IP: &str = "198.18.0.1";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
        || Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Set to skip these tests where they cannot run (not root). Unset, a
/// machine without root fails them: a silent pass would hide that the NAT
/// paths went untested.
const SKIP_VARIABLE: &str = "RA_SKIP_NAMESPACE_TESTS";

/// Whether the tests can run here; false only when skipping was asked for.
fn can_run(test: &str) -> bool {
    if !is_root() {
        assert!(
            std::env::var_os(SKIP_VARIABLE).is_some(),
            "{test}: network namespaces need root (CI runs the suite as root); \
             set {SKIP_VARIABLE}=1 to skip these tests on purpose"
        );
        eprintln!("{test}: skipped ({SKIP_VARIABLE} is set)");
        return false;
    }
    assert!(
        have("ip") && have("nft"),
        "{test}: iproute2 and nftables are missing: run scripts/setup.sh"
    );
    true
}

#[track_caller]
fn run(args: &[&str]) {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A network namespace, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new(prefix: &str, role: &str) -> Netns {
        let name = format!("{prefix}-{role}");
        run(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) {
        let mut all = vec!["ip", "-n", &self.name];
        all.extend_from_slice(args);
        run(&all);
    }

    fn exec(&self, args: &[&str]) {
        let mut all = vec!["ip", "netns", "exec", &self.name];
        all.extend_from_slice(args);
        run(&all);
    }

    fn nft(&self, ruleset: &str, dir: &Path) {
        let file = dir.join(format!("{}.nft", self.name));
        std::fs::write(&file, ruleset).unwrap();
        self.exec(&["nft", "-f", file.to_str().unwrap()]);
    }

    /// `ip netns exec NAME program args…` as a test process.
    fn spawn(&self, label: &str, program: &str, args: &[&str], with_stdin: bool) -> Proc {
        let mut all = vec!["netns", "exec", &self.name, program];
        all.extend_from_slice(args);
        Proc::spawn(label, "ip", &all, with_stdin)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

fn unique_prefix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "ra{}n{}",
        std::process::id() % 100_000,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// How a NAT maps ports.
#[derive(Clone, Copy)]
enum NatKind {
    /// One public port per socket (Linux masquerade keeps the port): punching works.
    KeepsMapping,
    /// A random public port per destination (symmetric NAT): punching fails.
    NewPortPerDestination,
}

/// The internet (with the broker), two NATs and a machine behind each.
/// Field order is drop order: machines before routers before the internet.
struct Topology {
    host: Netns,
    helper: Netns,
    host_nat: Netns,
    _helper_nat: Netns,
    internet: Netns,
    dir: tempfile::TempDir,
}

fn nat_rules(kind: NatKind) -> String {
    let masquerade = match kind {
        NatKind::KeepsMapping => "masquerade",
        NatKind::NewPortPerDestination => "masquerade fully-random",
    };
    // UDP to the router itself is dropped before conntrack confirms it, so a
    // peer's early punch cannot occupy the tuple the LAN machine needs.
    format!(
        "table ip nat {{\n  chain postrouting {{\n    type nat hook postrouting priority srcnat; policy accept;\n    oifname \"wan\" {masquerade}\n  }}\n}}\n\
         table inet filter {{\n  chain input {{\n    type filter hook input priority filter; policy accept;\n    iifname \"wan\" meta l4proto udp drop\n  }}\n  \
         chain forward {{\n    type filter hook forward priority filter; policy drop;\n    iifname \"lan\" accept\n    ct state established,related accept\n  }}\n}}\n"
    )
}

impl Topology {
    fn new(kind: NatKind) -> Topology {
        let prefix = unique_prefix();
        let dir = tempfile::tempdir().unwrap();
        let internet = Netns::new(&prefix, "inet");
        internet.ip(&["link", "add", "br0", "type", "bridge"]);
        internet.ip(&["addr", "add", &format!("{BROKER_IP}/24"), "dev", "br0"]);
        internet.ip(&["link", "set", "br0", "up"]);
        let mut machines = Vec::new();
        let mut nats = Vec::new();
        for (index, role) in ["host", "help"].into_iter().enumerate() {
            let nat = Netns::new(&prefix, &format!("{role}nat"));
            let machine = Netns::new(&prefix, role);
            let n = index + 1;
            let wan_ip = format!("198.18.0.{}/24", n + 1);
            let lan_net = format!("10.{n}.0");
            let uplink = format!("up{n}");
            run(&[
                "ip",
                "link",
                "add",
                &uplink,
                "netns",
                &internet.name,
                "type",
                "veth",
                "peer",
                "name",
                "wan",
                "netns",
                &nat.name,
            ]);
            internet.ip(&["link", "set", &uplink, "master", "br0", "up"]);
            run(&[
                "ip",
                "link",
                "add",
                "lan",
                "netns",
                &nat.name,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                &machine.name,
            ]);
            nat.ip(&["addr", "add", &wan_ip, "dev", "wan"]);
            nat.ip(&["addr", "add", &format!("{lan_net}.1/24"), "dev", "lan"]);
            nat.ip(&["link", "set", "wan", "up"]);
            nat.ip(&["link", "set", "lan", "up"]);
            nat.exec(&["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
            nat.nft(&nat_rules(kind), dir.path());
            machine.ip(&["addr", "add", &format!("{lan_net}.2/24"), "dev", "eth0"]);
            machine.ip(&["link", "set", "eth0", "up"]);
            machine.ip(&["route", "add", "default", "via", &format!("{lan_net}.1")]);
            nats.push(nat);
            machines.push(machine);
        }
        let helper = machines.pop().unwrap();
        let host = machines.pop().unwrap();
        let helper_nat = nats.pop().unwrap();
        let host_nat = nats.pop().unwrap();
        Topology {
            host,
            helper,
            host_nat,
            _helper_nat: helper_nat,
            internet,
            dir,
        }
    }
}

fn binary(name: &str) -> String {
    let path: PathBuf = Path::new(HOST).parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo build -p ra-broker",
        path.display()
    );
    path.to_str().unwrap().to_owned()
}

/// The broker in the internet namespace, and the options that reach it.
fn start_broker(topology: &Topology) -> (Proc, Vec<String>) {
    let mut broker = topology.internet.spawn(
        "ra-broker",
        &binary("ra-broker"),
        &["serve", "--listen", &format!("{BROKER_IP}:0")],
        false,
    );
    let listening = broker.expect("listening");
    let field = |name: &str| listening[name].as_str().unwrap().to_owned();
    let args = vec![
        "--broker".into(),
        field("addr"),
        "--broker-fingerprint".into(),
        field("fingerprint"),
    ];
    (broker, args)
}

fn with<'a>(first: &[&'a str], broker: &'a [String], rest: &[&'a str]) -> Vec<&'a str> {
    let mut all = first.to_vec();
    all.extend(broker.iter().map(String::as_str));
    all.extend_from_slice(rest);
    all
}

/// An Easy Connect session across the NATs; the helper's `connected` event.
fn session_across(topology: &Topology, broker: &[String]) -> Value {
    let mut host = topology.host.spawn(
        "ra-host",
        HOST,
        &with(
            &["easy-connect", "--json"],
            broker,
            &["--size", "320x240", "--approve", "yes"],
        ),
        true,
    );
    let code = host.expect("code")["code"].as_str().unwrap().to_owned();
    let helper = topology.helper.spawn(
        "ra-helper",
        HELPER,
        &with(
            &["easy-connect", "--json"],
            broker,
            &["--code", &code, "--frames", "3"],
        ),
        false,
    );
    host.expect("connection_request");
    let finished = helper.finish();
    assert_eq!(finished.code(), 0, "{finished:#?}");
    assert!(finished.events_named("frame").len() >= 3, "{finished:#?}");
    finished.events_named("connected")[0].clone()
}

fn diagnose(machine: &Netns, broker: &[String], extra: &[&str]) -> support::Finished {
    machine
        .spawn(
            "ra-host diagnose",
            HOST,
            &with(&["diagnose", "--json"], broker, extra),
            false,
        )
        .finish()
}

fn verdict(finished: &support::Finished) -> (bool, String) {
    let verdict = finished.events_named("verdict")[0];
    (
        verdict["ok"].as_bool().unwrap(),
        verdict["verdict"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn nats_that_keep_their_mappings_get_a_direct_path() {
    if !can_run("nats_that_keep_their_mappings_get_a_direct_path") {
        return;
    }
    let topology = Topology::new(NatKind::KeepsMapping);
    let (_broker, broker) = start_broker(&topology);
    let connected = session_across(&topology, &broker);
    assert_eq!(connected["relayed"], false, "{connected}");
    let report = diagnose(&topology.host, &broker, &[]);
    let (ok, text) = verdict(&report);
    assert!(ok, "{report:#?}");
    assert!(
        text.starts_with("ready: direct connections are likely; invitations from outside need a broker rendezvous"),
        "{text}"
    );
    // Behind the NAT nothing gets in unasked; on the "internet" it does.
    assert_eq!(check(&report, "inbound")["ok"], false, "{report:#?}");
    let open = diagnose(&topology.internet, &broker, &[]);
    assert_eq!(check(&open, "inbound")["ok"], true, "{open:#?}");
    assert_eq!(
        verdict(&open),
        (true, "ready: direct connections are likely".into())
    );
}

/// The check named `name` of a diagnosis.
fn check<'a>(finished: &'a support::Finished, name: &str) -> &'a Value {
    finished
        .events_named("check")
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {finished:#?}"))
}

#[test]
fn nats_that_change_ports_per_destination_fall_back_to_the_relay() {
    if !can_run("nats_that_change_ports_per_destination_fall_back_to_the_relay") {
        return;
    }
    let topology = Topology::new(NatKind::NewPortPerDestination);
    let (_broker, broker) = start_broker(&topology);
    let connected = session_across(&topology, &broker);
    assert_eq!(connected["relayed"], true, "{connected}");
    let report = diagnose(&topology.helper, &broker, &[]);
    let (ok, text) = verdict(&report);
    assert!(ok && text.contains("relay"), "{report:#?}");
}

#[test]
fn diagnose_names_a_firewall_rule_that_drops_the_port() {
    if !can_run("diagnose_names_a_firewall_rule_that_drops_the_port") {
        return;
    }
    let topology = Topology::new(NatKind::KeepsMapping);
    let (_broker, broker) = start_broker(&topology);
    let port = "45678";
    topology.host.nft(
        &format!(
            "table inet hostfw {{\n  chain input {{\n    type filter hook input priority filter; policy accept;\n    udp dport {port} drop\n  }}\n}}\n"
        ),
        topology.dir.path(),
    );
    let report = diagnose(
        &topology.host,
        &broker,
        &["--bind", &format!("0.0.0.0:{port}")],
    );
    let (ok, text) = verdict(&report);
    assert!(!ok, "{report:#?}");
    assert!(text.contains("firewall") && text.contains(port), "{text}");
    assert_eq!(report.code(), 1);
    // Another port is fine.
    let report = diagnose(&topology.host, &broker, &[]);
    assert!(verdict(&report).0, "{report:#?}");
}

#[test]
fn an_invitation_crosses_nats_that_drop_unsolicited_packets_through_its_rendezvous() {
    if !can_run("an_invitation_crosses_nats_that_drop_unsolicited_packets_through_its_rendezvous") {
        return;
    }
    // Both NATs drop what their machines did not ask for, and map each
    // destination to a new port: neither the invitation's address nor hole
    // punching gets through, the broker's relay does.
    let topology = Topology::new(NatKind::NewPortPerDestination);
    let (_broker, broker) = start_broker(&topology);
    let mut host = topology.host.spawn(
        "ra-host",
        HOST,
        &with(
            &["invite", "--json", "--token"],
            &broker,
            &["--size", "320x240", "--approve", "yes"],
        ),
        true,
    );
    let invitation = host.expect("invitation");
    assert!(
        invitation["rendezvous"]["lookup"].is_string(),
        "{invitation}"
    );
    let field = |name: &str| invitation[name].as_str().unwrap().to_owned();
    let (token, password) = (field("token"), field("password"));
    let helper = topology.helper.spawn(
        "ra-helper",
        HELPER,
        &[
            "accept",
            "--json",
            "--token",
            &token,
            "--password",
            &password,
            "--frames",
            "3",
        ],
        false,
    );
    host.expect("connection_request");
    let finished = helper.finish();
    assert_eq!(finished.code(), 0, "{finished:#?}");
    assert!(finished.events_named("frame").len() >= 3, "{finished:#?}");
}

/// The host's machine moves to another network behind its router: a new
/// address, so a new public port. The helper's NAT drops what comes from
/// it, and what the helper sends goes to an address nobody has any more.
fn move_host_to_another_network(topology: &Topology) {
    topology
        .host_nat
        .ip(&["addr", "add", "10.1.1.1/24", "dev", "lan"]);
    topology
        .host
        .ip(&["addr", "add", "10.1.1.2/24", "dev", "eth0"]);
    topology
        .host
        .ip(&["route", "replace", "default", "via", "10.1.1.1"]);
    topology
        .host
        .ip(&["addr", "del", "10.1.0.2/24", "dev", "eth0"]);
}

/// After the host moved: both fall silent, meet at the relay and the
/// picture goes on (more frames than could have been on the way when the
/// address changed); then the host ends the session.
fn frames_go_on_after_the_move(topology: &Topology, mut host: Proc, mut helper: Proc) {
    helper.expect("frame");
    move_host_to_another_network(topology);
    let moved = std::time::Instant::now();
    for _ in 0..15 {
        helper.expect("frame");
    }
    eprintln!(
        "15 frames {:?} after the host's address changed",
        moved.elapsed()
    );
    host.send("end");
    let ended = helper.expect("ended");
    assert_eq!(ended["reason"], "host_ended", "{ended}");
    let helper = helper.finish();
    assert_eq!(helper.code(), 0, "{helper:#?}");
    host.send("quit");
    host.finish();
}

#[test]
fn a_quick_assist_host_that_changes_networks_meets_the_helper_again_at_the_relay() {
    if !can_run("a_quick_assist_host_that_changes_networks_meets_the_helper_again_at_the_relay") {
        return;
    }
    let topology = Topology::new(NatKind::KeepsMapping);
    let (_broker, broker) = start_broker(&topology);
    let mut helper = topology.helper.spawn(
        "ra-helper",
        HELPER,
        &with(&["assist", "--json"], &broker, &["--name", "Bob"]),
        false,
    );
    let code = helper.expect("code")["code"].as_str().unwrap().to_owned();
    // The host dials (it is QUIC's client).
    let mut host = topology.host.spawn(
        "ra-host",
        HOST,
        &with(
            &["join", "--json"],
            &broker,
            &["--code", &code, "--size", "320x240", "--approve", "yes"],
        ),
        true,
    );
    let joined = host.expect("joined");
    assert_eq!(
        joined["relayed"], false,
        "the NATs keep their mappings: {joined}"
    );
    helper.expect("connected");
    frames_go_on_after_the_move(&topology, host, helper);
}

#[test]
fn an_easy_connect_host_that_changes_networks_meets_the_helper_again_at_the_relay() {
    if !can_run("an_easy_connect_host_that_changes_networks_meets_the_helper_again_at_the_relay") {
        return;
    }
    let topology = Topology::new(NatKind::KeepsMapping);
    let (_broker, broker) = start_broker(&topology);
    // The host waits (it is QUIC's server: QUIC cannot move it).
    let mut host = topology.host.spawn(
        "ra-host",
        HOST,
        &with(
            &["easy-connect", "--json"],
            &broker,
            &["--size", "320x240", "--approve", "yes"],
        ),
        true,
    );
    let code = host.expect("code")["code"].as_str().unwrap().to_owned();
    let mut helper = topology.helper.spawn(
        "ra-helper",
        HELPER,
        &with(&["easy-connect", "--json"], &broker, &["--code", &code]),
        false,
    );
    let connected = helper.expect("connected");
    assert_eq!(connected["relayed"], false, "{connected}");
    frames_go_on_after_the_move(&topology, host, helper);
}
