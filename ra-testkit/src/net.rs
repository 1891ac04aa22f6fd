//! UDP relays between a helper and a host on loopback: one that can be cut
//! (and counts what crosses it), one whose path can go dark and come back
//! (an outage), and one that is a slow link.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A loopback address with any port.
pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A UDP port free on loopback right now.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind(loopback())
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// What crossed a [`udp_proxy`], both directions: UDP payload bytes and
/// datagrams (a bench adds the IP and UDP headers per datagram to get the
/// bytes on the wire).
#[derive(Clone, Default)]
pub struct Traffic {
    /// Payload bytes.
    bytes: Arc<AtomicU64>,
    /// Datagrams.
    datagrams: Arc<AtomicU64>,
}

impl Traffic {
    /// The payload bytes counted so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The datagrams counted so far.
    pub fn datagrams(&self) -> u64 {
        self.datagrams.load(Ordering::Relaxed)
    }

    /// Counts from zero again.
    pub fn reset(&self) {
        self.bytes.store(0, Ordering::Relaxed);
        self.datagrams.store(0, Ordering::Relaxed);
    }

    /// Counts one datagram of `payload` bytes.
    fn count(&self, payload: usize) {
        self.bytes.fetch_add(payload as u64, Ordering::Relaxed);
        self.datagrams.fetch_add(1, Ordering::Relaxed);
    }
}

/// Forwards datagrams between one client and `target` until told to stop;
/// stopping it makes the peers vanish for each other.
pub async fn udp_proxy(
    target: SocketAddr,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>, Traffic) {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let traffic = Traffic::default();
    let address = relay(
        target,
        PathSwitch::default(),
        traffic.clone(),
        Some(stop_rx),
    )
    .await;
    (address, stop_tx, traffic)
}

/// Switches an [`outage_link`]'s path dark and back, and moves its helper
/// side to another address.
#[derive(Clone, Default)]
pub struct PathSwitch {
    dark: Arc<std::sync::atomic::AtomicBool>,
    dropped: Arc<AtomicU64>,
    /// Where the relay's side towards the target should move next.
    move_to: Arc<std::sync::Mutex<Option<std::net::IpAddr>>>,
    moved: Arc<tokio::sync::Notify>,
}

impl PathSwitch {
    /// From now on nothing crosses, either way (the datagrams are dropped,
    /// as a dead Wi-Fi or a pulled cable drops them).
    pub fn go_dark(&self) {
        self.dark.store(true, Ordering::SeqCst);
    }

    /// Datagrams cross again.
    pub fn restore(&self) {
        self.dark.store(false, Ordering::SeqCst);
    }

    /// From now on the target sees the client's datagrams come from a new
    /// port on `ip` (a loopback address such as 127.0.0.2): the client's
    /// address changed, as when a laptop moves from Wi-Fi to a phone's
    /// hotspot or its NAT rebinds. Datagrams the target sends to the old
    /// address are lost.
    pub fn move_to(&self, ip: std::net::IpAddr) {
        *self
            .move_to
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(ip);
        self.moved.notify_one();
    }

    /// Datagrams dropped while dark.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Whether a datagram may cross now (counts the ones that may not).
    fn passes(&self) -> bool {
        let dark = self.dark.load(Ordering::SeqCst);
        if dark {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        !dark
    }
}

/// Forwards datagrams between one client and `target`, both ways, while its
/// [`PathSwitch`] lets them: an outage is the switch dark for a while. It
/// runs as long as the test's runtime.
pub async fn outage_link(target: SocketAddr) -> (SocketAddr, PathSwitch) {
    let switch = PathSwitch::default();
    let address = relay(target, switch.clone(), Traffic::default(), None).await;
    (address, switch)
}

/// Relays datagrams between the first client that writes to the returned
/// address and `target`, counting them in `traffic`, while `path` lets them
/// cross, until `stop` fires (if there is one).
async fn relay(
    target: SocketAddr,
    path: PathSwitch,
    traffic: Traffic,
    stop: Option<tokio::sync::oneshot::Receiver<()>>,
) -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind(loopback()).await.unwrap();
    let mut upstream = tokio::net::UdpSocket::bind(loopback()).await.unwrap();
    upstream.connect(target).await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let stopped = async move {
            match stop {
                Some(stop) => {
                    let _ = stop.await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::pin!(stopped);
        let mut client = None;
        let mut down = vec![0u8; 65536];
        let mut up = vec![0u8; 65536];
        loop {
            tokio::select! {
                () = &mut stopped => return,
                () = path.moved.notified() => {
                    let ip = path
                        .move_to
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take();
                    if let Some(ip) = ip {
                        let moved = tokio::net::UdpSocket::bind(SocketAddr::new(ip, 0)).await.unwrap();
                        moved.connect(target).await.unwrap();
                        upstream = moved;
                    }
                }
                r = socket.recv_from(&mut down) => {
                    let Ok((n, from)) = r else { return };
                    client = Some(from);
                    if path.passes() {
                        traffic.count(n);
                        let _ = upstream.send(&down[..n]).await;
                    }
                }
                r = upstream.recv(&mut up) => {
                    let Ok(n) = r else { continue };
                    if let Some(client) = client
                        && path.passes()
                    {
                        traffic.count(n);
                        let _ = socket.send_to(&up[..n], client).await;
                    }
                }
            }
        }
    });
    address
}

/// Forwards datagrams like `udp_proxy`, but through a bottleneck of
/// `bytes_per_second` with a bounded queue (drop-tail), as a slow uplink.
pub async fn slow_link(target: SocketAddr, bytes_per_second: f64) -> SocketAddr {
    let socket = std::sync::Arc::new(tokio::net::UdpSocket::bind(loopback()).await.unwrap());
    let upstream = std::sync::Arc::new(tokio::net::UdpSocket::bind(loopback()).await.unwrap());
    upstream.connect(target).await.unwrap();
    let address = socket.local_addr().unwrap();
    let client = std::sync::Arc::new(std::sync::Mutex::new(None::<SocketAddr>));
    // Helper -> host: unthrottled.
    {
        let (socket, upstream, client) = (socket.clone(), upstream.clone(), client.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                *client.lock().unwrap() = Some(from);
                let _ = upstream.send(&buf[..n]).await;
            }
        });
    }
    // Host -> helper: the bottleneck.
    let (queue_tx, mut queue_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    {
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = upstream.recv(&mut buf).await {
                // A full queue drops the packet, as a router would.
                let _ = queue_tx.try_send(buf[..n].to_vec());
            }
        });
    }
    tokio::spawn(async move {
        let mut free_at = tokio::time::Instant::now();
        while let Some(packet) = queue_rx.recv().await {
            // The wire is busy until the previous packet is out; an idle link
            // saves no credit.
            let now = tokio::time::Instant::now();
            free_at =
                free_at.max(now) + Duration::from_secs_f64(packet.len() as f64 / bytes_per_second);
            tokio::time::sleep_until(free_at).await;
            let to = *client.lock().unwrap();
            if let Some(to) = to {
                let _ = socket.send_to(&packet, to).await;
            }
        }
    });
    address
}
