//! `ra-registry-bench`: the broker's Redis registry holding many live codes
//! (10⁶ by default): how long filling it takes, and the latency of the two
//! operations a claimant's lookup costs, alone and under concurrent load —
//! reading a code's record, and the atomic claim (a Lua script). Also the
//! node listing a registration makes and Redis's memory. Not a test: it
//! measures and prints.
//!
//! ```text
//! cargo run --release -p ra-benches --bin ra-registry-bench
//! cargo run --release -p ra-benches --bin ra-registry-bench -- --codes 100000 --redis redis://127.0.0.1:6379
//! ```
//!
//! Without `--redis` it starts a private `redis-server` (no persistence) and
//! stops it at the end. Target (issue 16): lookup p99 ≤ 5 ms at 10⁶ codes.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use ra_benches::stats::{ms, percentile};
use ra_broker::registry::{CodeRecord, CodeState, NodeAddresses, RedisRegistry, Registry};
use ra_testkit::redis::RedisServer;

#[derive(Parser)]
#[command(about = "The broker registry at scale: fill, lookup and claim latency")]
struct Args {
    /// Live codes to hold.
    #[arg(long, default_value_t = 1_000_000)]
    codes: usize,
    /// Lookups (and as many claims) to time.
    #[arg(long, default_value_t = 20_000)]
    lookups: usize,
    /// Concurrent clients while filling and in the loaded run.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// An existing Redis (default: a private redis-server).
    #[arg(long)]
    redis: Option<String>,
}

/// The lookup part of code number `i` (six characters, as real ones).
fn lookup(i: usize) -> String {
    format!("{i:06X}")
}

fn record(i: usize) -> CodeRecord {
    let expires = SystemTime::now() + Duration::from_secs(3600);
    CodeRecord {
        role: 1,
        owner: format!("node-{}", i % 3),
        observed: "198.51.100.7:50000".into(),
        locals: vec!["10.0.0.2:50000".into(), "192.168.1.20:50000".into()],
        attach_key_hash: CodeRecord::hash_attach_key(&i.to_le_bytes()),
        expires_at_ms: expires
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        failures: 0,
        claims: 0,
        state: CodeState::Waiting,
        match_id: String::new(),
    }
}

/// A cheap deterministic spread of code numbers (no rand dependency).
fn spread(n: usize, i: usize) -> usize {
    (i.wrapping_mul(2_654_435_761) ^ (i >> 7)) % n
}

fn report(name: &str, samples: &[f64]) {
    let p = |q| percentile(samples, q).unwrap_or(f64::NAN);
    println!(
        "  {name:<34} n={:<6} p50 {:6.3} ms  p95 {:6.3} ms  p99 {:6.3} ms  max {:7.3} ms",
        samples.len(),
        p(0.50),
        p(0.95),
        p(0.99),
        p(1.0)
    );
}

/// Runs `op` on `count` code numbers from `clients` concurrent tasks; the
/// latency of each, in ms.
async fn timed<F, Fut>(registry: &RedisRegistry, count: usize, clients: usize, op: F) -> Vec<f64>
where
    F: Fn(RedisRegistry, usize) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let registry = registry.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return samples;
                }
                let start = Instant::now();
                op(registry.clone(), i).await;
                samples.push(ms(start.elapsed()));
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    all
}

async fn run(args: Args, url: String) -> Result<(), String> {
    let registry = RedisRegistry::connect(&url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let n = args.codes.max(1);
    println!("ra-registry-bench: {n} live codes in {url}");

    let start = Instant::now();
    let fill = timed(&registry, n, args.concurrency, move |r, i| async move {
        let _ = r
            .register(&lookup(i), &record(i), Duration::from_secs(3600))
            .await;
    })
    .await;
    let took = start.elapsed();
    println!(
        "fill: {n} codes in {:.1} s ({:.0} registrations/s, {} clients)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        args.concurrency
    );
    report("register", &fill);
    let count = registry.code_count().await.map_err(|e| e.to_string())?;
    println!("  codes counted by the registry: {count}");

    for node in ["node-0", "node-1", "node-2"] {
        let addrs = NodeAddresses {
            claims: "192.0.2.1:4433".into(),
            relay: "192.0.2.1:3478".into(),
        };
        registry
            .announce_node(node, &addrs, Duration::from_secs(60))
            .await
            .map_err(|e| e.to_string())?;
    }

    let lookups = args.lookups.max(1);
    println!(
        "latency (one client at a time, then {} at once):",
        args.concurrency
    );
    for (clients, label) in [(1, "alone"), (args.concurrency, "loaded")] {
        let get = timed(&registry, lookups, clients, move |r, i| async move {
            let _ = r.get(&lookup(spread(n, i))).await;
        })
        .await;
        report(&format!("lookup (GET), {label}"), &get);
        let missing = timed(&registry, lookups, clients, move |r, i| async move {
            let _ = r.get(&format!("Z{i:05}")).await;
        })
        .await;
        report(&format!("lookup of an unknown code, {label}"), &missing);
        // Claims change the codes they find: each run claims its own slice.
        let offset = if clients == 1 { 0 } else { n / 2 };
        let claim = timed(&registry, lookups, clients, move |r, i| async move {
            let i = (offset + spread(n / 2, i)) % n;
            let _ = r
                .claim(&lookup(i), 1, &format!("node-{}", i % 3), "m", 5)
                .await;
        })
        .await;
        report(&format!("claim (Lua script), {label}"), &claim);
        let nodes = timed(&registry, lookups / 10, clients, |r, _| async move {
            let _ = r.live_nodes().await;
        })
        .await;
        report(&format!("live nodes, {label}"), &nodes);
    }
    let target = {
        let get = timed(
            &registry,
            lookups,
            args.concurrency,
            move |r, i| async move {
                let _ = r.get(&lookup(spread(n, i))).await;
            },
        )
        .await;
        percentile(&get, 0.99).unwrap_or(f64::NAN)
    };
    println!(
        "target: lookup p99 <= 5 ms at {n} codes, loaded: {:.3} ms -> {}",
        target,
        if target <= 5.0 { "pass" } else { "miss" }
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    // A private server unless one is given; stopped when this returns.
    let (server, url) = match &args.redis {
        Some(url) => (None, url.clone()),
        None => match RedisServer::try_start() {
            Some(server) => {
                let url = server.url();
                (Some(server), url)
            }
            None => {
                eprintln!("error: cannot start redis-server (install it, or pass --redis URL)");
                return ExitCode::FAILURE;
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(args, url));
    drop(server);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
