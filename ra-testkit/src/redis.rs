//! A private `redis-server` on a free loopback port, without persistence.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long redis-server may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Ports tried before giving up: a port free a moment ago may be taken by
/// the time redis-server binds it (tests start servers side by side).
const START_ATTEMPTS: u32 = 5;

/// A TCP port on 127.0.0.1 nothing listens on right now.
fn free_tcp_port() -> Option<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .ok()
}

/// A running `redis-server`; killed (by its handle) and reaped on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts one and waits until it accepts connections; `None` when
    /// `redis-server` is not installed or does not come up.
    pub fn try_start() -> Option<RedisServer> {
        (0..START_ATTEMPTS).find_map(|_| RedisServer::start_on(free_tcp_port()?))
    }

    /// One try on `port`; `None` when it does not come up (the port was
    /// taken, or redis-server is missing).
    fn start_on(port: u16) -> Option<RedisServer> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        // Owned from here: dropped (killed, reaped) when it does not come up.
        let mut server = RedisServer { child, port };
        let stdout = server.child.stdout.take()?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("Ready to accept connections") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(START_TIMEOUT).ok()?;
        Some(server)
    }

    /// Starts one (see [`RedisServer::try_start`]); panics with how to
    /// install it when it cannot.
    pub fn start() -> RedisServer {
        RedisServer::try_start()
            .expect("cannot start redis-server: install it with scripts/setup.sh")
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL, for the broker's registry.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
