//! The relay on its own, over real UDP sockets on loopback: only the two
//! token holders are forwarded, unchanged; a third party gets nothing through;
//! the byte budget and the idle timeout close an allocation.
#![allow(missing_docs)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Duration;

use ra_broker::config::RelayLimits;
use ra_broker::relay::{AllocationRefused, Relay};
use ra_core::relay::{RawDatagram, RelayToken};
use tokio::net::UdpSocket;

const STEP: Duration = Duration::from_secs(5);

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn relay(limits: RelayLimits) -> Relay {
    Relay::start("127.0.0.1:0".parse().unwrap(), limits, None)
        .await
        .unwrap()
}

fn generous() -> RelayLimits {
    RelayLimits {
        max_bytes: u64::MAX,
        idle_timeout: Duration::from_secs(60),
        ..RelayLimits::default()
    }
}

async fn socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

/// The next datagram `socket` receives, within the step.
async fn receive(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 65_536];
    let (len, from) = tokio::time::timeout(STEP, socket.recv_from(&mut buf))
        .await
        .expect("a datagram in time")
        .unwrap();
    buf.truncate(len);
    (buf, from)
}

/// Binds `socket` to the allocation side of `token`; the relay's answer.
async fn bind(socket: &UdpSocket, relay: SocketAddr, token: RelayToken) -> RawDatagram {
    socket
        .send_to(&RawDatagram::Bind(token).encode(), relay)
        .await
        .unwrap();
    let (reply, _) = receive(socket).await;
    RawDatagram::decode(&reply).expect("a raw reply")
}

/// Two sockets bound to one allocation, both told they are paired.
async fn pair(relay: &Relay) -> (UdpSocket, UdpSocket) {
    let (token_a, token_b) = relay.allocate([LOOPBACK; 2]).unwrap();
    let (a, b) = (socket().await, socket().await);
    bind_both(relay, (&a, token_a), (&b, token_b)).await;
    (a, b)
}

/// Binds `a` then `b` with their tokens; both are told they are paired.
async fn bind_both(relay: &Relay, a: (&UdpSocket, RelayToken), b: (&UdpSocket, RelayToken)) {
    let ((a, token_a), (b, token_b)) = (a, b);
    assert_eq!(
        bind(a, relay.local_addr(), token_a).await,
        RawDatagram::Bound {
            token: token_a,
            paired: false
        }
    );
    assert_eq!(
        bind(b, relay.local_addr(), token_b).await,
        RawDatagram::Bound {
            token: token_b,
            paired: true
        }
    );
    // A learns that B arrived.
    let (reply, _) = receive(a).await;
    assert_eq!(
        RawDatagram::decode(&reply),
        Some(RawDatagram::Bound {
            token: token_a,
            paired: true
        })
    );
}

/// Waits until `condition` holds, looking every few milliseconds, for at
/// most `limit` (the relay's sweep runs on its own clock).
async fn eventually(limit: Duration, condition: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !condition() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

#[tokio::test]
async fn only_the_two_token_holders_are_forwarded_unchanged() {
    let relay = relay(generous()).await;
    let (a, b) = pair(&relay).await;
    let to = relay.local_addr();

    a.send_to(b"quic from a", to).await.unwrap();
    let (data, from) = receive(&b).await;
    assert_eq!((data.as_slice(), from), (&b"quic from a"[..], to));
    b.send_to(b"quic from b", to).await.unwrap();
    assert_eq!(receive(&a).await.0, b"quic from b");

    // A third party: its datagrams are dropped, and a made-up token binds
    // nothing (no answer at all).
    let mallory = socket().await;
    mallory.send_to(b"inject", to).await.unwrap();
    assert!(
        eventually(STEP, || relay.stats().dropped.load(Ordering::Relaxed) == 1).await,
        "the stranger's datagram is dropped"
    );
    mallory
        .send_to(&RawDatagram::Bind([0x55; 16]).encode(), to)
        .await
        .unwrap();
    // The next thing B receives is A's, not the stranger's.
    a.send_to(b"second from a", to).await.unwrap();
    assert_eq!(receive(&b).await.0, b"second from a");
    let mut buf = [0u8; 64];
    assert!(
        mallory.try_recv_from(&mut buf).is_err(),
        "the stranger got an answer"
    );
    assert_eq!(relay.stats().datagrams.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn the_byte_budget_closes_the_allocation() {
    let relay = relay(RelayLimits {
        max_bytes: 3_000,
        idle_timeout: Duration::from_secs(60),
        ..RelayLimits::default()
    })
    .await;
    let (a, b) = pair(&relay).await;
    let to = relay.local_addr();
    let packet = vec![0xAB; 1_000];
    for _ in 0..3 {
        a.send_to(&packet, to).await.unwrap();
        assert_eq!(receive(&b).await.0.len(), 1_000);
    }
    // The fourth kilobyte is over budget: dropped, and the allocation gone.
    a.send_to(&packet, to).await.unwrap();
    assert!(
        eventually(STEP, || relay.allocations() == 0).await,
        "the allocation outlived its budget"
    );
    assert_eq!(relay.stats().dropped.load(Ordering::Relaxed), 1);
    b.send_to(&packet, to).await.unwrap();
    assert!(
        eventually(STEP, || relay.stats().dropped.load(Ordering::Relaxed) == 2).await,
        "traffic after the budget is dropped"
    );
    assert_eq!(relay.stats().datagrams.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn an_idle_allocation_is_closed() {
    let relay = relay(RelayLimits {
        max_bytes: u64::MAX,
        idle_timeout: Duration::from_millis(200),
        ..RelayLimits::default()
    })
    .await;
    let (a, _b) = pair(&relay).await;
    assert_eq!(relay.allocations(), 1);
    // Swept within a sweep period (1 s) after going idle.
    assert!(
        eventually(STEP, || relay.allocations() == 0).await,
        "the idle allocation stayed"
    );
    a.send_to(b"late", relay.local_addr()).await.unwrap();
    assert!(
        eventually(STEP, || relay.stats().dropped.load(Ordering::Relaxed) == 1).await,
        "traffic after the timeout is dropped"
    );
}

#[tokio::test]
async fn the_relay_answers_nothing_larger_than_what_it_got() {
    let relay = relay(generous()).await;
    let (token, _) = relay.allocate([LOOPBACK; 2]).unwrap();
    let s = socket().await;
    let to = relay.local_addr();
    // What an attacker spoofing `s`'s address would send: a bare probe and an
    // unpadded bind (the forms of older peers), each shorter than its answer.
    let mut bare_probe = ra_core::relay::MAGIC.to_vec();
    bare_probe.push(4);
    let mut short_bind = RawDatagram::Bind(token).encode();
    short_bind.pop();
    for question in [&bare_probe, &short_bind] {
        s.send_to(question, to).await.unwrap();
    }
    // Then a proper bind, as a fence: its answer is the first thing back,
    // so nothing answered the two before it (one path, in order).
    let bind = RawDatagram::Bind(token).encode();
    s.send_to(&bind, to).await.unwrap();
    let (first, _) = receive(&s).await;
    assert!(
        matches!(RawDatagram::decode(&first), Some(RawDatagram::Bound { .. })),
        "the relay answered a question shorter than its answer: {first:?}"
    );
    assert!(
        first.len() <= bind.len(),
        "{} > {}",
        first.len(),
        bind.len()
    );
    // A padded probe gets its answer, no longer than itself.
    let probe = RawDatagram::Probe.encode();
    s.send_to(&probe, to).await.unwrap();
    let (reply, _) = receive(&s).await;
    assert_eq!(
        RawDatagram::decode(&reply),
        Some(RawDatagram::ProbeReply(s.local_addr().unwrap()))
    );
    println!(
        "amplification: probe {} -> {} bytes ({:.2}), bind {} -> {} bytes ({:.2})",
        probe.len(),
        reply.len(),
        reply.len() as f64 / probe.len() as f64,
        bind.len(),
        first.len(),
        first.len() as f64 / bind.len() as f64
    );
    assert!(reply.len() <= probe.len());
}

#[tokio::test]
async fn allocations_are_capped_for_the_relay_and_for_each_source() {
    let relay = relay(RelayLimits {
        max_allocations: 3,
        max_allocations_per_source: 2,
        ..generous()
    })
    .await;
    let ip = |last: u8| IpAddr::V4(Ipv4Addr::new(192, 0, 2, last));
    // A source claiming its own codes: both sides are that source.
    relay.allocate([ip(1), ip(1)]).unwrap();
    relay.allocate([ip(1), ip(2)]).unwrap();
    assert_eq!(
        relay.allocate([ip(1), ip(1)]),
        Err(AllocationRefused::SourceFull)
    );
    assert_eq!(
        relay.allocate([ip(3), ip(1)]),
        Err(AllocationRefused::SourceFull)
    );
    relay.allocate([ip(3), ip(4)]).unwrap();
    assert_eq!(relay.allocate([ip(5), ip(6)]), Err(AllocationRefused::Full));
    assert_eq!(relay.allocations(), 3);
    assert_eq!(relay.stats().refused.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn a_source_gets_only_so_many_probe_answers() {
    let relay = relay(RelayLimits {
        probes_per_minute: 5,
        ..generous()
    })
    .await;
    let s = socket().await;
    let probe = RawDatagram::Probe.encode();
    for _ in 0..8 {
        s.send_to(&probe, relay.local_addr()).await.unwrap();
    }
    for _ in 0..5 {
        assert!(matches!(
            RawDatagram::decode(&receive(&s).await.0),
            Some(RawDatagram::ProbeReply(_))
        ));
    }
    assert!(
        eventually(STEP, || relay.stats().dropped.load(Ordering::Relaxed) == 3).await,
        "probes over the rate were answered"
    );
}

#[tokio::test]
async fn an_unknown_token_is_passed_on_once_and_an_adopted_allocation_forwards() {
    let relay = relay(generous()).await;
    let mut unknown = relay.take_unknown_binds().expect("the first taker");
    assert!(relay.take_unknown_binds().is_none(), "one taker only");
    let (a, b) = (socket().await, socket().await);
    let (token_a, token_b): (RelayToken, RelayToken) = ([3; 16], [4; 16]);
    // Binds of a token this relay never made: no answer, passed on once
    // (the peer repeats its bind every 50 ms).
    for _ in 0..5 {
        a.send_to(&RawDatagram::Bind(token_a).encode(), relay.local_addr())
            .await
            .unwrap();
    }
    let passed = tokio::time::timeout(STEP, unknown.recv()).await.unwrap();
    assert_eq!(passed, Some(token_a));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), unknown.recv())
            .await
            .is_err(),
        "asked once"
    );
    // The node found it in the registry: the relay takes it over, and the
    // same tokens bind and forward as if it had made them.
    relay.adopt([token_a, token_b], [LOOPBACK; 2]).unwrap();
    relay.adopt([token_a, token_b], [LOOPBACK; 2]).unwrap();
    assert_eq!(relay.allocations(), 1, "adopting twice changes nothing");
    bind_both(&relay, (&a, token_a), (&b, token_b)).await;
    b.send_to(b"quic", relay.local_addr()).await.unwrap();
    assert_eq!(receive(&a).await.0, b"quic");
}

#[tokio::test]
async fn adopting_respects_the_relay_caps() {
    let relay = relay(RelayLimits {
        max_allocations: 1,
        ..generous()
    })
    .await;
    relay.allocate([LOOPBACK; 2]).unwrap();
    assert_eq!(
        relay.adopt([[5; 16], [6; 16]], [LOOPBACK; 2]),
        Err(AllocationRefused::Full)
    );
}
