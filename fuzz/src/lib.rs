//! What the fuzz targets share: a host and a helper endpoint joined in
//! memory (sans-IO, as the session tests do), brought to an approved,
//! view-only session, so a target can hand either side hostile bytes from
//! there; and a splitter that turns one fuzz input into a sequence of
//! stream chunks.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ra_core::invitation::SessionId;
use ra_core::policy::Policy;
use ra_core::session::{
    ChannelBinding, ConnectionId, HelperConfig, HelperConnection, HelperTransmit, HostCommand,
    HostConfig, HostEndpoint, HostEvent, HostTransmit, Injection,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The password both sides share.
pub const PASSWORD: &[u8] = b"fuzzing-password";

/// A host and one helper, talking in memory.
pub struct LiveSession {
    /// The host's endpoint.
    pub host: HostEndpoint,
    /// The helper's endpoint.
    pub helper: HelperConnection,
    /// The helper's connection, as the host knows it.
    pub conn: ConnectionId,
    /// The virtual clock.
    pub now: Instant,
    /// Everything the host asked its injector to do.
    pub injections: Vec<Injection>,
    /// Whether the host asked its application to let the helper in.
    pub asked: bool,
}

impl LiveSession {
    /// Connects, authenticates and lets the helper in (view-only).
    ///
    /// # Panics
    /// When the two endpoints cannot agree (a bug, not a finding).
    pub fn approved() -> Self {
        let now = Instant::now();
        let session = SessionId([0x5a; 16]);
        let config = HostConfig::new(
            session,
            "fuzzed host",
            PASSWORD.to_vec(),
            Duration::from_secs(3600),
            Policy::default(),
        );
        let mut host = HostEndpoint::new(config, now, Box::new(ChaCha20Rng::seed_from_u64(1)));
        let conn = ConnectionId(1);
        let binding = ChannelBinding([7; 32]);
        let peer: SocketAddr = ([192, 0, 2, 1], 4433).into();
        host.handle_connect(now, conn, peer, binding);
        let helper = HelperConnection::new(
            now,
            HelperConfig::new(session, "fuzzer", PASSWORD.to_vec()),
            binding,
            &mut ChaCha20Rng::seed_from_u64(2),
        );
        let mut live = LiveSession {
            host,
            helper,
            conn,
            now,
            injections: Vec::new(),
            asked: false,
        };
        live.pump();
        assert!(live.asked, "the helper never asked to connect");
        live.host
            .apply(now, HostCommand::Approve(conn))
            .expect("approve");
        live.pump();
        live
    }

    /// Moves what each side sends to the other until both are quiet.
    pub fn pump(&mut self) {
        for _ in 0..1_000 {
            let mut moved = false;
            while let Some((_, transmit)) = self.host.poll_transmit() {
                moved = true;
                if let HostTransmit::Control(bytes) = transmit {
                    self.helper.handle_control_data(self.now, &bytes);
                }
            }
            while let Some(transmit) = self.helper.poll_transmit() {
                moved = true;
                match transmit {
                    HelperTransmit::Control(bytes) => {
                        self.host.handle_control_data(self.now, self.conn, &bytes);
                    }
                    HelperTransmit::Input(bytes) => {
                        self.host.handle_input_data(self.now, self.conn, &bytes);
                    }
                    _ => {}
                }
            }
            self.drain();
            if !moved {
                return;
            }
        }
    }

    /// Takes what the host asked of its backends and the application.
    pub fn drain(&mut self) {
        while let Some(injection) = self.host.poll_injection() {
            self.injections.push(injection);
        }
        while self.host.poll_media().is_some() {}
        while self.host.poll_desk().is_some() {}
        while self.host.poll_audit().is_some() {}
        while let Some(event) = self.host.poll_event() {
            self.asked |= matches!(event, HostEvent::ConnectionRequest { .. });
        }
        while self.helper.poll_event().is_some() {}
    }

    /// Lets `by` pass on the virtual clock and runs the timers due.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.host.handle_timeout(self.now);
        self.helper.handle_timeout(self.now);
        self.pump();
    }
}

/// One piece of a fuzz input: which stream it goes to, and its bytes.
pub struct Chunk<'a> {
    /// The low bits of the chunk's first byte (a target picks its streams).
    pub kind: u8,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// Splits `data` into chunks: a kind byte, a length byte, then that many
/// bytes (fewer at the end).
pub fn chunks(mut data: &[u8]) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    while let [kind, len, rest @ ..] = data {
        let take = usize::from(*len).min(rest.len());
        out.push(Chunk {
            kind: *kind,
            bytes: &rest[..take],
        });
        data = &rest[take..];
    }
    out
}
