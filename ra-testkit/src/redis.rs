//! A private `redis-server` on a free loopback port, without persistence.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::net::free_udp_port;

/// How long redis-server may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(20);

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
        let port = free_udp_port();
        let mut child = Command::new("redis-server")
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
        let stdout = child.stdout.take()?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("Ready to accept connections") {
                    let _ = tx.send(());
                }
            }
        });
        let server = RedisServer { child, port };
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
