//! Many broker nodes over one real `redis-server`: a code registered through
//! node A is claimed through node B, and when A restarts its waiting host
//! re-attaches and the code still works.
#![allow(missing_docs)]

use ra_core::runtime::{easy_connect_helper, easy_connect_host};
use ra_testkit::broker::*;
use ra_testkit::net::free_udp_port;
use ra_testkit::redis::RedisServer;

/// The `ra-broker` binary of this build.
const RA_BROKER: &str = env!("CARGO_BIN_EXE_ra-broker");

fn node(redis: &RedisServer, id: &str, port: u16, identity: &std::path::Path) -> BrokerProcess {
    BrokerProcess::start(
        RA_BROKER,
        &[
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--registry",
            &redis.url(),
            "--node-id",
            id,
            "--identity",
            identity.to_str().unwrap(),
        ],
    )
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
    let (backends, _log) = host_backends();
    let mut host = easy_connect_host(a.options(), host_options("Alice"), backends)
        .await
        .unwrap();
    a.expect("registered");
    let code = host.code().clone();
    let options = b.options();
    let helper = tokio::spawn(async move {
        easy_connect_helper(options, &code, helper_options("Bob"), decoder()).await
    });
    assert_eq!(approve_next(&mut host).await, "Bob");
    let (mut helper, _) = helper.await.unwrap().unwrap();
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
    let b = node(&redis, "node-b", 0, &identity);
    let (backends, _log) = host_backends();
    let mut host = easy_connect_host(a.options(), host_options("Alice"), backends)
        .await
        .unwrap();
    let registered = a.expect("registered");
    a.kill();
    let mut a = node(&redis, "node-a", port_a, &identity);
    let attached = a.expect("attached");
    assert_eq!(attached["lookup"], registered["lookup"]);
    let code = host.code().clone();
    let options = b.options();
    let helper = tokio::spawn(async move {
        easy_connect_helper(options, &code, helper_options("Bob"), decoder()).await
    });
    assert_eq!(approve_next(&mut host).await, "Bob");
    let (mut helper, _) = helper.await.unwrap().unwrap();
    next_frame(&mut helper).await;
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
