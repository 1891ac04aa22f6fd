//! Which of a peer's local addresses the broker passes to the other peer as
//! punch targets. A peer says what its local addresses are, and nothing
//! checks it: without a filter, a peer could make the other one send
//! packets into its own loopback or home network. So: never link-local,
//! loopback only when both peers are on the broker's own machine, and
//! private addresses only when the peers share a NAT (the broker saw them
//! from the same address) or the receiver itself is on a private network
//! (a broker on the LAN). Public addresses pass. Nothing here does I/O.

use std::net::{IpAddr, SocketAddr};

/// Of `locals` (the addresses the sending peer listed, as text), those the
/// receiving peer may punch: `sender` and `receiver` are the addresses the
/// broker saw each of them come from. Unreadable entries are left out.
pub fn punch_targets(locals: &[String], sender: SocketAddr, receiver: SocketAddr) -> Vec<String> {
    locals
        .iter()
        .filter(|text| {
            text.parse::<SocketAddr>()
                .is_ok_and(|target| allowed(target, sender, receiver))
        })
        .cloned()
        .collect()
}

fn allowed(target: SocketAddr, sender: SocketAddr, receiver: SocketAddr) -> bool {
    let ip = canonical(target.ip());
    if target.port() == 0 || ip.is_unspecified() || ip.is_multicast() || is_broadcast(ip) {
        return false;
    }
    if is_link_local(ip) {
        return false;
    }
    let (sender_ip, receiver_ip) = (canonical(sender.ip()), canonical(receiver.ip()));
    if ip.is_loopback() {
        return sender_ip.is_loopback() && receiver_ip.is_loopback();
    }
    if is_private(ip) {
        return sender_ip == receiver_ip || is_private(receiver_ip) || receiver_ip.is_loopback();
    }
    true
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) as the IPv4 one.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_broadcast(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// RFC 1918, shared (CGNAT, RFC 6598) and unique local IPv6 addresses.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn targets(locals: &[&str], sender: &str, receiver: &str) -> Vec<String> {
        let locals: Vec<String> = locals.iter().map(|s| (*s).to_owned()).collect();
        punch_targets(&locals, addr(sender), addr(receiver))
    }

    const LOCALS: [&str; 8] = [
        "127.0.0.1:5000",
        "[::1]:5000",
        "169.254.1.1:5000",
        "[fe80::1]:5000",
        "192.168.1.20:5000",
        "[fd00::20]:5000",
        "198.51.100.7:5000",
        "not an address",
    ];

    #[test]
    fn peers_far_apart_get_public_addresses_only() {
        assert_eq!(
            targets(&LOCALS, "203.0.113.1:40000", "198.51.100.99:40000"),
            vec!["198.51.100.7:5000"]
        );
    }

    #[test]
    fn peers_behind_one_nat_get_their_lan_addresses() {
        assert_eq!(
            targets(&LOCALS, "203.0.113.1:40000", "203.0.113.1:40001"),
            vec!["192.168.1.20:5000", "[fd00::20]:5000", "198.51.100.7:5000"]
        );
        // A broker on the LAN sees private addresses.
        assert_eq!(
            targets(&LOCALS, "10.0.0.5:40000", "10.0.0.6:40000"),
            vec!["192.168.1.20:5000", "[fd00::20]:5000", "198.51.100.7:5000"]
        );
    }

    #[test]
    fn loopback_only_on_the_broker_s_own_machine() {
        assert_eq!(
            targets(&LOCALS[..2], "127.0.0.1:40000", "127.0.0.1:40001"),
            vec!["127.0.0.1:5000", "[::1]:5000"]
        );
        assert!(targets(&LOCALS[..2], "127.0.0.1:40000", "10.0.0.6:40000").is_empty());
        assert!(targets(&LOCALS[..2], "10.0.0.5:40000", "127.0.0.1:40000").is_empty());
    }

    #[test]
    fn nonsense_is_left_out() {
        let bad = [
            "0.0.0.0:5000",
            "255.255.255.255:5000",
            "224.0.0.1:5000",
            "198.51.100.7:0",
        ];
        assert!(targets(&bad, "127.0.0.1:1", "127.0.0.1:2").is_empty());
        // IPv4 written as IPv6 is judged as IPv4.
        assert!(
            targets(
                &["[::ffff:127.0.0.1]:5000"],
                "203.0.113.1:1",
                "198.51.100.1:2"
            )
            .is_empty()
        );
    }
}
