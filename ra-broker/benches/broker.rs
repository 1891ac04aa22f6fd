//! Broker benchmarks, one node on loopback (`cargo bench -p ra-broker`):
//!
//! 1. 100,000 registered codes in memory and in Redis (when `redis-server`
//!    is installed): lookup/claim latency p50/p99 through QUIC (target p99 ≤ 5 ms).
//! 2. Relay forwarding throughput, and the relay thread's CPU per Gb/s.
//! 3. Code entered → first frame through the relay (target ≤ 250 ms).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use prost::Message as _;
use ra_broker::registry::{CodeRecord, CodeState, MemoryRegistry, RedisRegistry, Registry};
use ra_broker::relay::Relay;
use ra_broker::{BrokerConfig, config::RelayLimits};
use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder};
use ra_core::code::{Code, Lookup};
use ra_core::proto::broker::{
    BrokerMessage, Claim, MAX_BROKER_MESSAGE, PeerMessage, Role, peer_message,
};
use ra_core::relay::RawDatagram;
use ra_core::runtime::{
    BrokerOptions, BrokerTrust, HelperSessionEvent, HostBackends, InviteOptions,
    easy_connect_helper, easy_connect_host,
};
use ra_core::session::{FrameDecoder, HostEvent, encode_frame};
use ra_testkit::redis::RedisServer;
use ra_testkit::tls::accept_any_client_config;
use rand_core::OsRng;

const CODES: usize = 100_000;
const LOOKUPS: usize = 5_000;

/// Unix milliseconds `from_now` ahead. (A far-future sentinel would not do:
/// Redis's Lua re-encodes large integers as floats, which no longer parse.)
fn unix_ms_in(from_now: Duration) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from((now + from_now).as_millis()).unwrap()
}

fn record() -> CodeRecord {
    CodeRecord {
        role: Role::Host as i32,
        owner: "node-1".into(),
        observed: "127.0.0.1:1".into(),
        locals: vec![],
        attach_key_hash: CodeRecord::hash_attach_key(b"k"),
        expires_at_ms: unix_ms_in(Duration::from_secs(3600)),
        failures: 0,
        claims: 0,
        state: CodeState::Waiting,
        match_id: String::new(),
    }
}

async fn fill<R: Registry>(registry: &R) -> Vec<String> {
    let mut lookups = Vec::with_capacity(CODES);
    let started = Instant::now();
    let record = record();
    while lookups.len() < CODES {
        let lookup = Lookup::generate(&mut OsRng).to_string();
        if registry
            .register(&lookup, &record, Duration::from_secs(3600))
            .await
            .unwrap()
        {
            lookups.push(lookup);
        }
    }
    println!(
        "  registered {CODES} codes in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    lookups
}

fn client() -> quinn::Endpoint {
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(accept_any_client_config(
        ra_core::proto::broker::BROKER_ALPN,
    ));
    endpoint
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Claims (through QUIC) codes that are registered but whose waiting peer is
/// not attached: the full claim path (rate limit, atomic claim, undo).
async fn measure_claims<R: Registry>(name: &str, registry: R, lookups: &[String]) {
    let config = BrokerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        relay_listen: "127.0.0.1:0".parse().unwrap(),
        rate_limit: ra_broker::config::RateLimit {
            lookups_per_minute: u32::MAX,
            registrations_per_minute: u32::MAX,
            outcomes_per_minute: u32::MAX,
        },
        ..BrokerConfig::default()
    };
    let broker = ra_broker::start_with(config, registry).await.unwrap();
    let endpoint = client();
    let connection = endpoint
        .connect(
            broker.local_addr,
            ra_core::proto::broker::BROKER_SERVER_NAME,
        )
        .unwrap()
        .await
        .unwrap();
    let mut latencies = Vec::with_capacity(LOOKUPS);
    for i in 0..LOOKUPS {
        let lookup = &lookups[(i * 7919) % lookups.len()];
        let started = Instant::now();
        let (mut send, mut recv) = connection.open_bi().await.unwrap();
        let request = encode_frame(&PeerMessage {
            message: Some(peer_message::Message::Claim(Claim {
                lookup: lookup.clone(),
                role: Role::Helper as i32,
                local_addrs: vec![],
            })),
        });
        send.write_all(&request).await.unwrap();
        let mut decoder = FrameDecoder::new(MAX_BROKER_MESSAGE);
        loop {
            if let Some(bytes) = decoder.next_message().unwrap() {
                // The claim went all the way (claimed, then undone because
                // no waiting peer is attached): anything else means the
                // figure measured an error path.
                let answer = BrokerMessage::decode(bytes).unwrap();
                assert!(
                    matches!(
                        &answer.message,
                        Some(ra_core::proto::broker::broker_message::Message::Refused(r))
                            if r.reason == ra_core::proto::broker::RefuseReason::Unavailable as i32
                    ),
                    "{name}: unexpected answer {answer:?}"
                );
                break;
            }
            let chunk = recv.read_chunk(4096, true).await.unwrap().unwrap();
            decoder.push(&chunk.bytes);
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "  {name}: {LOOKUPS} claims over QUIC among {CODES} codes: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms (target p99 <= 5 ms)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    broker.stop();
}

/// CPU seconds (user + system) of the thread named `name` in this process.
fn thread_cpu(name: &str) -> Option<f64> {
    let ticks = 100.0; // USER_HZ on Linux
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path();
        let comm = std::fs::read_to_string(path.join("comm")).ok()?;
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let user: f64 = fields.get(11)?.parse().ok()?;
        let system: f64 = fields.get(12)?.parse().ok()?;
        return Some((user + system) / ticks);
    }
    None
}

/// Blasts 1200-byte datagrams through a relay allocation for 2 s.
fn measure_relay() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("relay-rt".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let relay = Relay::start(
                    "127.0.0.1:0".parse().unwrap(),
                    RelayLimits {
                        max_bytes: u64::MAX,
                        idle_timeout: Duration::from_secs(30),
                        ..RelayLimits::default()
                    },
                    None,
                )
                .await
                .unwrap();
                tx.send(relay.clone()).unwrap();
                std::future::pending::<()>().await;
            });
        })
        .unwrap();
    let relay = rx.recv().unwrap();
    let (token_a, token_b) = relay
        .allocate([std::net::Ipv4Addr::LOCALHOST.into(); 2])
        .expect("an allocation");
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    b.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    a.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 2048];
    for (socket, token) in [(&a, token_a), (&b, token_b)] {
        socket
            .send_to(&RawDatagram::Bind(token).encode(), relay.local_addr())
            .unwrap();
        socket.recv_from(&mut buf).unwrap();
    }
    let receiver = std::thread::spawn(move || {
        let mut bytes = 0u64;
        let mut buf = [0u8; 2048];
        while let Ok(n) = b.recv(&mut buf) {
            bytes += n as u64;
        }
        bytes
    });
    let payload = [0x42u8; 1200];
    let cpu_before = thread_cpu("relay-rt").unwrap_or(0.0);
    let started = Instant::now();
    let mut sent = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        for _ in 0..64 {
            if a.send_to(&payload, relay.local_addr()).is_ok() {
                sent += payload.len() as u64;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let received = receiver.join().unwrap();
    let cpu = thread_cpu("relay-rt").unwrap_or(0.0) - cpu_before;
    let gbps = received as f64 * 8.0 / elapsed / 1e9;
    println!(
        "  relay: {:.2} Gb/s forwarded ({:.0} MB sent, {:.0} MB delivered in {elapsed:.1} s), relay thread CPU {:.2} s = {:.2} core-seconds per Gb",
        gbps,
        sent as f64 / 1e6,
        received as f64 / 1e6,
        cpu,
        cpu / (received as f64 * 8.0 / 1e9)
    );
}

/// Code entered → first decoded frame, with the relay forced.
async fn measure_first_frame() {
    let config = BrokerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        relay_listen: "127.0.0.1:0".parse().unwrap(),
        direct_paths: false,
        ..BrokerConfig::default()
    };
    let broker = ra_broker::start(config).await.unwrap();
    let mut options = BrokerOptions::new(
        broker.local_addr,
        BrokerTrust::Fingerprint(broker.fingerprint),
    );
    options.bind = "127.0.0.1:0".parse().unwrap();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let backends = HostBackends::new(
            Box::new(SyntheticCapturer::new(SyntheticConfig {
                width: 1920,
                height: 1080,
                frame_rate: 30.0,
            })),
            Box::new(OpenH264Encoder::new(EncoderSettings::default())),
            Box::new(ra_input::NullInjector::new()),
        );
        let mut host = easy_connect_host(options.clone(), InviteOptions::default(), backends)
            .await
            .unwrap();
        let code: Code = host.code().clone();
        tokio::spawn(async move {
            while let Some(event) = host.next_event().await {
                if let HostEvent::ConnectionRequest { conn, .. } = event {
                    let _ = host.approve(conn).await;
                }
            }
        });
        let decoder = Box::new(OpenH264Decoder::new().unwrap());
        let entered = Instant::now();
        let (mut helper, relayed) =
            easy_connect_helper(options.clone(), &code, Default::default(), decoder)
                .await
                .unwrap();
        assert!(relayed);
        while let Some(event) = helper.next_event().await {
            if let HelperSessionEvent::Frame(_) = event {
                break;
            }
        }
        samples.push(entered.elapsed());
        let _ = helper.end().await;
    }
    samples.sort();
    println!(
        "  code entered -> first 1080p frame via the relay: median {:.0} ms, max {:.0} ms (target <= 250 ms)",
        samples[samples.len() / 2].as_secs_f64() * 1000.0,
        samples[samples.len() - 1].as_secs_f64() * 1000.0
    );
    broker.stop();
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        // `cargo test --all-targets` runs benches as tests: nothing to check.
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!("ra-broker bench (one node, loopback)");
    runtime.block_on(async {
        let memory = MemoryRegistry::new();
        let lookups = fill(&memory).await;
        measure_claims("memory", memory, &lookups).await;
        match RedisServer::try_start() {
            Some(server) => {
                let redis = RedisRegistry::connect(&server.url()).await.unwrap();
                let lookups = fill(&redis).await;
                measure_claims("redis", redis, &lookups).await;
            }
            None => println!("  redis: skipped (redis-server not installed)"),
        }
    });
    measure_relay();
    runtime.block_on(measure_first_frame());
}
