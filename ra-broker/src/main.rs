//! `ra-broker serve`: runs one broker node until SIGINT or SIGTERM.
//!
//! On start it prints one JSON line: `{"event":"listening","addr":…,
//! "relay_addr":…,"fingerprint":"sha256:…","node_id":…}`; peers pin the
//! fingerprint (keep it stable across restarts with `identity_file`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ra_broker::{BrokerConfig, RegistryConfig};

#[derive(Parser)]
#[command(
    name = "ra-broker",
    version,
    about = "Rendezvous and relay for ra's short codes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a broker node.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The QUIC address peers connect to.
    #[arg(long, value_name = "IP:PORT")]
    listen: Option<SocketAddr>,
    /// Where codes live: memory, or redis://HOST:PORT shared by many nodes.
    #[arg(long, value_name = "memory|redis://HOST:PORT")]
    registry: Option<RegistryConfig>,
    /// This node's name in a shared registry.
    #[arg(long, value_name = "ID")]
    node_id: Option<String>,
    /// The address other nodes redirect claimants to.
    #[arg(long, value_name = "IP:PORT")]
    public_addr: Option<SocketAddr>,
    /// The relay's UDP address (default: the listen IP, any port).
    #[arg(long, value_name = "IP:PORT")]
    relay_listen: Option<SocketAddr>,
    /// The certificate and key (PEM), created when missing: keeps the fingerprint across restarts.
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
    /// A TOML file with any of the settings (options given here win).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let Command::Serve(args) = Cli::parse().command;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut config = BrokerConfig::default();
    if let Some(path) = &args.config
        && let Err(e) = config.apply_file(path)
    {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
        if args.relay_listen.is_none() {
            config.relay_listen = SocketAddr::new(listen.ip(), 0);
        }
    }
    if let Some(v) = args.relay_listen {
        config.relay_listen = v;
    }
    if let Some(v) = args.registry {
        config.registry = v;
    }
    if let Some(v) = args.node_id {
        config.node_id = v;
    }
    if let Some(v) = args.public_addr {
        config.public_addr = Some(v);
    }
    if let Some(v) = args.identity {
        config.identity_file = Some(v);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(serve(config))
}

async fn serve(config: BrokerConfig) -> ExitCode {
    let node_id = config.node_id.clone();
    let mut broker = match ra_broker::start(config).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "{}",
        serde_json::json!({
            "event": "listening",
            "addr": broker.local_addr.to_string(),
            "relay_addr": broker.relay_addr.to_string(),
            "fingerprint": broker.fingerprint.to_string(),
            "node_id": node_id,
        })
    );
    if let Some(mut events) = broker.take_events() {
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                println!("{}", event.to_json());
            }
        });
    }
    wait_for_signal().await;
    broker.stop();
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
