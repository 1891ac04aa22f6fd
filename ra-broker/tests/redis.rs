//! Many broker nodes over one real `redis-server`: a code registered through
//! node A is claimed through node B; when A restarts its waiting host
//! re-attaches and the code still works; when A dies for good, its waiting
//! host re-attaches through another node and its relayed session moves to
//! another node's relay.
#![allow(missing_docs)]

use ra_core::runtime::{
    BrokerOptions, CodeHostSession, HelperSession, easy_connect_helper, easy_connect_host,
};
use ra_testkit::broker::*;
use ra_testkit::net::free_udp_port;
use ra_testkit::redis::RedisServer;

/// The `ra-broker` binary of this build.
const RA_BROKER: &str = env!("CARGO_BIN_EXE_ra-broker");

fn node(redis: &RedisServer, id: &str, port: u16, identity: &std::path::Path) -> BrokerProcess {
    node_with(redis, id, port, identity, &[])
}

fn node_with(
    redis: &RedisServer,
    id: &str,
    port: u16,
    identity: &std::path::Path,
    extra: &[&str],
) -> BrokerProcess {
    let listen = format!("127.0.0.1:{port}");
    let url = redis.url();
    let mut args = vec![
        "--listen",
        &listen,
        "--registry",
        &url,
        "--node-id",
        id,
        "--identity",
        identity.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    BrokerProcess::start(RA_BROKER, &args)
}

/// An Easy Connect host waiting on `node`, and the node's `registered` event.
async fn waiting_host(node: &mut BrokerProcess) -> (CodeHostSession, serde_json::Value) {
    let (backends, _log) = host_backends();
    let host = easy_connect_host(node.options(), host_options("Alice"), backends)
        .await
        .unwrap();
    let registered = node.expect("registered");
    (host, registered)
}

/// Bob claims the host's code through `options`; the host approves him. His
/// session, and whether it runs through a relay.
async fn bob_claims(host: &mut CodeHostSession, options: BrokerOptions) -> (HelperSession, bool) {
    let code = host.code().clone();
    let helper = tokio::spawn(async move {
        easy_connect_helper(options, &code, helper_options("Bob"), decoder()).await
    });
    assert_eq!(approve_next(host).await, "Bob");
    helper.await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_registered_on_node_a_is_claimed_through_node_b() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("broker.pem");
    let mut a = node(&redis, "node-a", 0, &identity);
    let b = node(&redis, "node-b", 0, &identity);
    assert_eq!(
        a.fingerprint(),
        b.fingerprint(),
        "the nodes share one identity"
    );
    let (mut host, _) = waiting_host(&mut a).await;
    let (mut helper, _) = bob_claims(&mut host, b.options()).await;
    // Node B redirected the claim: node A matched it.
    a.expect("matched");
    next_frame(&mut helper).await;
    // Used up, on every node.
    let again =
        easy_connect_helper(b.options(), host.code(), helper_options("Eve"), decoder()).await;
    assert!(
        matches!(again, Err(ra_core::runtime::ClaimError::Unavailable)),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_loses_no_code_its_waiting_host_re_attaches() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("broker.pem");
    let port_a = free_udp_port();
    let mut a = node(&redis, "node-a", port_a, &identity);
    let (mut host, registered) = waiting_host(&mut a).await;
    // Node B starts after the registration named no other node: the host
    // re-attaches to A again.
    let b = node(&redis, "node-b", 0, &identity);
    a.kill();
    let mut a = node(&redis, "node-a", port_a, &identity);
    let attached = a.expect("attached");
    assert_eq!(attached["lookup"], registered["lookup"]);
    let (mut helper, _) = bob_claims(&mut host, b.options()).await;
    next_frame(&mut helper).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_loses_no_code_its_waiting_host_re_attaches_through_another() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("broker.pem");
    let mut a = node(&redis, "node-a", 0, &identity);
    let mut b = node(&redis, "node-b", 0, &identity);
    let c = node(&redis, "node-c", 0, &identity);
    let (mut host, registered) = waiting_host(&mut a).await;
    let killed = std::time::Instant::now();
    a.kill();
    // B is the next node A named (by name order).
    let attached = b.expect("attached");
    let took = killed.elapsed();
    eprintln!("re-attached through node B {took:?} after node A was killed");
    assert_eq!(attached["lookup"], registered["lookup"]);
    assert!(took <= std::time::Duration::from_secs(5), "{took:?}");
    // Claimed through node C, which redirects to B.
    let (mut helper, _) = bob_claims(&mut host, c.options()).await;
    b.expect("matched");
    next_frame(&mut helper).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_session_moves_to_another_node_when_its_relay_node_is_killed() {
    use std::time::{Duration, Instant};
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("broker.pem");
    let config = dir.path().join("relay-only.toml");
    std::fs::write(&config, "direct_paths = false\n").unwrap();
    let relay_only = ["--config", config.to_str().unwrap()];
    let mut a = node_with(&redis, "node-a", 0, &identity, &relay_only);
    let mut b = node_with(&redis, "node-b", 0, &identity, &relay_only);
    let mut c = node_with(&redis, "node-c", 0, &identity, &relay_only);
    let (mut host, _) = waiting_host(&mut a).await;
    let (mut helper, relayed) = bob_claims(&mut host, a.options()).await;
    assert!(relayed, "the session runs through node A's relay");
    for _ in 0..10 {
        next_frame(&mut helper).await;
    }
    let killed = Instant::now();
    a.kill();
    // The synthetic screen changes 30 times a second: frames stop with the
    // relay and come back through a standby. Wait for a gap, then for frames
    // flowing again.
    let mut last = Instant::now();
    let mut gap = Duration::ZERO;
    let resumed = loop {
        next_frame(&mut helper).await;
        let now = Instant::now();
        gap = gap.max(now - last);
        last = now;
        if gap >= Duration::from_millis(500) {
            break now - killed;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(3),
            "frames kept coming through a dead relay"
        );
    };
    eprintln!("frames resumed {resumed:?} after the relay node was killed (gap {gap:?})");
    assert!(resumed <= Duration::from_secs(5), "{resumed:?}");
    // The standby relays took the allocation over (both peers bound at
    // both); frames keep coming.
    let adopted = tokio::task::spawn_blocking(move || {
        b.expect("relay_adopted");
        c.expect("relay_adopted");
        (b, c)
    });
    let (_b, _c) = adopted.await.unwrap();
    let since = Instant::now();
    for _ in 0..15 {
        next_frame(&mut helper).await;
    }
    assert!(
        since.elapsed() < Duration::from_secs(5),
        "frames flow again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_lists_live_nodes_and_keeps_relay_allocations() {
    use ra_broker::registry::{NodeAddresses, RelayRecord};
    async fn check<R: ra_broker::registry::Registry>(registry: R) {
        let addrs = |n: u16| NodeAddresses {
            claims: format!("127.0.0.1:{n}"),
            relay: format!("127.0.0.1:{}", n + 1),
        };
        let long = std::time::Duration::from_secs(60);
        registry.announce_node("b", &addrs(20), long).await.unwrap();
        registry.announce_node("a", &addrs(10), long).await.unwrap();
        registry
            .announce_node("gone", &addrs(30), std::time::Duration::from_millis(1))
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(
            registry.live_nodes().await.unwrap(),
            vec![("a".to_string(), addrs(10)), ("b".to_string(), addrs(20))]
        );
        assert_eq!(registry.node("b").await.unwrap(), Some(addrs(20)));
        assert_eq!(registry.node("gone").await.unwrap(), None);
        let record = RelayRecord {
            tokens: ["aa".repeat(16), "bb".repeat(16)],
            sources: ["127.0.0.1".into(), "10.0.0.1".into()],
        };
        registry.store_relay(&record, long).await.unwrap();
        assert_eq!(
            registry.relay(&"bb".repeat(16)).await.unwrap(),
            Some(record.clone())
        );
        assert_eq!(
            registry.relay(&"aa".repeat(16)).await.unwrap(),
            Some(record)
        );
        assert_eq!(registry.relay(&"cc".repeat(16)).await.unwrap(), None);
    }
    check(ra_broker::registry::MemoryRegistry::new()).await;
    let redis = RedisServer::start();
    check(
        ra_broker::registry::RedisRegistry::connect(&redis.url())
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lookup_limit_is_shared_by_every_node() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("broker.pem");
    let a = node(&redis, "node-a", 0, &identity);
    let b = node(&redis, "node-b", 0, &identity);
    // One source, 10 lookups a minute (the default), six tries at each node.
    let (mut unavailable, mut limited) = (0, 0);
    for options in [a.options(), b.options()] {
        for _ in 0..6 {
            let code = ra_core::code::Code::generate_random();
            match easy_connect_helper(options.clone(), &code, helper_options("x"), decoder()).await
            {
                Err(ra_core::runtime::ClaimError::Unavailable) => unavailable += 1,
                Err(ra_core::runtime::ClaimError::RateLimited { .. }) => limited += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(
        (unavailable, limited),
        (10, 2),
        "each node had its own budget"
    );
}

/// The broker's own claim count, on one backend: a code whose waiting peer
/// never reports an outcome (it vanishes and re-attaches each time) still
/// dies after as many claims as failures are allowed.
async fn unreported_claims_kill_a_code<R: ra_broker::registry::Registry>(registry: R) {
    use ra_broker::registry::{ClaimOutcome, CodeRecord, CodeState};
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 600_000;
    let record = CodeRecord {
        role: 1,
        owner: "node-a".into(),
        observed: "127.0.0.1:1".into(),
        locals: vec!["10.0.0.1:2".into()],
        attach_key_hash: CodeRecord::hash_attach_key(b"key"),
        expires_at_ms: expires,
        failures: 0,
        claims: 0,
        state: CodeState::Waiting,
        match_id: String::new(),
    };
    let ttl = std::time::Duration::from_secs(600);
    assert!(registry.register("LOOKUP", &record, ttl).await.unwrap());
    for attempt in 0..5 {
        let outcome = registry
            .claim("LOOKUP", 1, "node-a", &format!("m{attempt}"), 5)
            .await
            .unwrap();
        let ClaimOutcome::Claimed(claimed) = outcome else {
            panic!("claim {attempt}: {outcome:?}");
        };
        assert_eq!(claimed.claims, attempt + 1);
        assert_eq!(
            claimed.expires_at_ms, expires,
            "the record reads back whole"
        );
        assert!(
            registry
                .attach("LOOKUP", "node-a", "127.0.0.1:1", &[])
                .await
                .unwrap()
        );
    }
    assert_eq!(
        registry
            .claim("LOOKUP", 1, "node-a", "m5", 5)
            .await
            .unwrap(),
        ClaimOutcome::Exhausted
    );
    assert_eq!(
        registry.get("LOOKUP").await.unwrap(),
        None,
        "the code is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreported_claims_kill_a_code_in_memory_and_in_redis() {
    unreported_claims_kill_a_code(ra_broker::registry::MemoryRegistry::new()).await;
    let redis = RedisServer::start();
    let registry = ra_broker::registry::RedisRegistry::connect(&redis.url())
        .await
        .unwrap();
    unreported_claims_kill_a_code(registry).await;
}
