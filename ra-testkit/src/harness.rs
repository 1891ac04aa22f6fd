//! Two sans-IO endpoints on a virtual clock: one host, any number of helpers,
//! joined by reliable ordered streams with configurable latency and loss (a lost
//! packet is delivered one retransmission timeout later, as QUIC would), all
//! randomness from one seed.
#![allow(missing_docs)] // A test harness: its names say what they are.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ra_core::audit::AuditEvent;
use ra_core::input::InputEvent;
use ra_core::invitation::SessionId;
use ra_core::media::{DisplayId, DisplayInfo, Rect};
use ra_core::policy::Policy;
use ra_core::session::{
    ChannelBinding, ConnectionId, DeskCommand, EndReason, HelperCommand, HelperConfig,
    HelperConnection, HelperEvent, HelperTransmit, HostCommand, HostConfig, HostEndpoint,
    HostEvent, HostTransmit, Injection, MediaCommand,
};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub const PASSWORD: &[u8] = b"correct horse";
pub const SESSION: SessionId = SessionId([7; 16]);

#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub latency: Duration,
    pub loss: f64,
    pub rto: Duration,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            latency: Duration::from_millis(20),
            loss: 0.0,
            rto: Duration::from_millis(200),
        }
    }
}

/// A one-way reliable ordered stream.
#[derive(Default)]
struct Pipe {
    queue: VecDeque<(Instant, Delivery)>,
    last: Option<Instant>,
}

#[derive(Debug, Clone)]
enum Delivery {
    Control(Vec<u8>),
    Input(Vec<u8>),
    Closed(EndReason),
}

impl Pipe {
    fn push(&mut self, now: Instant, link: &Link, rng: &mut ChaCha20Rng, delivery: Delivery) {
        let mut at = now + link.latency;
        while link.loss > 0.0 && rng.gen_bool(link.loss) {
            at += link.rto;
        }
        // Ordered: nothing overtakes what was sent before it.
        if let Some(last) = self.last {
            at = at.max(last);
        }
        self.last = Some(at);
        self.queue.push_back((at, delivery));
    }

    fn next_at(&self) -> Option<Instant> {
        self.queue.front().map(|(at, _)| *at)
    }
}

pub struct HelperSlot {
    pub conn: ConnectionId,
    pub core: HelperConnection,
    pub events: Vec<HelperEvent>,
    /// Every control byte the host sent this helper, in order.
    pub control_from_host: Vec<u8>,
    to_host: Pipe,
    to_helper: Pipe,
    host_closed: bool,
    helper_closed: bool,
}

pub struct World {
    pub now: Instant,
    pub link: Link,
    pub host: HostEndpoint,
    pub helpers: Vec<HelperSlot>,
    pub host_events: Vec<HostEvent>,
    pub injections: Vec<Injection>,
    pub media: Vec<MediaCommand>,
    /// Every audit record the host emitted, in order.
    pub audit: Vec<AuditEvent>,
    /// Every command for the host's desk backends, in order.
    pub desk: Vec<DeskCommand>,
    pub gate_violations: Vec<String>,
    /// Every key confirmation a helper sent (what a recording attacker
    /// would have), after [`World::rewrite_key_confirm`].
    pub key_confirms: Vec<ra_core::proto::KeyConfirm>,
    /// Changes each key confirmation on its way to the host (an attacker
    /// splicing in what it recorded elsewhere).
    pub rewrite_key_confirm: Option<KeyConfirmRewrite>,
    /// Signs the host's consent receipts (for a host configured with
    /// `receipts`), playing the runtime's part; the audit head is left out.
    pub receipt_key: Option<ra_core::receipt::HostReceiptKey>,
    rng: ChaCha20Rng,
    next_conn: u64,
}

/// What [`World::rewrite_key_confirm`] holds.
pub type KeyConfirmRewrite = Box<dyn FnMut(&mut ra_core::proto::KeyConfirm)>;

/// Records (and rewrites, if asked) a helper's key confirmation in
/// `bytes`, one framed envelope; other messages pass untouched.
fn watch_key_confirm(
    bytes: Vec<u8>,
    seen: &mut Vec<ra_core::proto::KeyConfirm>,
    rewrite: Option<&mut KeyConfirmRewrite>,
) -> Vec<u8> {
    use prost::Message as _;
    use ra_core::proto::{Envelope, envelope::Message};
    let mut decoder = ra_core::session::FrameDecoder::new(ra_core::session::MAX_CONTROL_MESSAGE);
    decoder.push(&bytes);
    let Ok(Some(frame)) = decoder.next_message() else {
        return bytes;
    };
    if decoder.has_partial() {
        return bytes;
    }
    let Ok(Envelope {
        message: Some(Message::KeyConfirm(mut confirm)),
    }) = Envelope::decode(frame)
    else {
        return bytes;
    };
    if let Some(rewrite) = rewrite {
        rewrite(&mut confirm);
    }
    seen.push(confirm.clone());
    ra_core::session::encode_frame(&Envelope {
        message: Some(Message::KeyConfirm(confirm)),
    })
}

impl World {
    pub fn new(seed: u64, link: Link, policy: Policy, lifetime: Duration) -> Self {
        let config = HostConfig::new(
            SESSION,
            "Alice's laptop",
            PASSWORD.to_vec(),
            lifetime,
            policy,
        );
        World::with_config(seed, link, config)
    }

    /// A world whose host is made from `config` (its secret should be `PASSWORD`).
    pub fn with_config(seed: u64, link: Link, config: HostConfig) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let now = Instant::now();
        let host_rng = ChaCha20Rng::seed_from_u64(rng.next_u64());
        let host = HostEndpoint::new(config, now, Box::new(host_rng));
        World {
            now,
            link,
            host,
            helpers: Vec::new(),
            host_events: Vec::new(),
            injections: Vec::new(),
            media: Vec::new(),
            audit: Vec::new(),
            desk: Vec::new(),
            gate_violations: Vec::new(),
            key_confirms: Vec::new(),
            rewrite_key_confirm: None,
            receipt_key: None,
            rng,
            next_conn: 0,
        }
    }

    pub fn simple(seed: u64) -> Self {
        World::new(
            seed,
            Link::default(),
            Policy::default(),
            Duration::from_secs(3600),
        )
    }

    /// Connects a helper with `password`; returns its index.
    pub fn connect(&mut self, name: &str, password: &[u8]) -> usize {
        self.connect_with(name, password, SESSION, None)
    }

    /// Connects a helper; `tamper` gives the two sides different TLS channel
    /// bindings, as a man in the middle would.
    pub fn connect_with(
        &mut self,
        name: &str,
        password: &[u8],
        session: SessionId,
        tamper: Option<[u8; 32]>,
    ) -> usize {
        self.connect_config(HelperConfig::new(session, name, password.to_vec()), tamper)
    }

    /// Connects a helper made from `config` (`tamper` as for
    /// [`World::connect_with`]); returns its index.
    pub fn connect_config(&mut self, config: HelperConfig, tamper: Option<[u8; 32]>) -> usize {
        self.next_conn += 1;
        let conn = ConnectionId(self.next_conn);
        let mut binding = [0u8; 32];
        self.rng.fill_bytes(&mut binding);
        let helper_binding = tamper.unwrap_or(binding);
        let peer: SocketAddr = format!("192.0.2.{}:4433", self.next_conn % 250)
            .parse()
            .unwrap();
        self.host
            .handle_connect(self.now, conn, peer, ChannelBinding(binding));
        let mut helper_rng = ChaCha20Rng::seed_from_u64(self.rng.next_u64());
        let core = HelperConnection::new(
            self.now,
            config,
            ChannelBinding(helper_binding),
            &mut helper_rng,
        );
        self.helpers.push(HelperSlot {
            conn,
            core,
            events: Vec::new(),
            control_from_host: Vec::new(),
            to_host: Pipe::default(),
            to_helper: Pipe::default(),
            host_closed: false,
            helper_closed: false,
        });
        self.pump();
        self.helpers.len() - 1
    }

    /// Moves every queued output into the pipes and collects events.
    pub fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some((conn, transmit)) = self.host.poll_transmit() {
                moved = true;
                let Some(slot) = self.helpers.iter_mut().find(|h| h.conn == conn) else {
                    continue;
                };
                if slot.host_closed {
                    continue;
                }
                let delivery = match transmit {
                    HostTransmit::Control(bytes) => {
                        slot.control_from_host.extend_from_slice(&bytes);
                        Delivery::Control(bytes)
                    }
                    HostTransmit::Close { reason } => {
                        slot.host_closed = true;
                        Delivery::Closed(reason)
                    }
                    other => panic!("the harness does not carry {other:?}"),
                };
                slot.to_helper
                    .push(self.now, &self.link, &mut self.rng, delivery);
            }
            while let Some(e) = self.host.poll_event() {
                moved = true;
                self.host_events.push(e);
            }
            while let Some(i) = self.host.poll_injection() {
                moved = true;
                self.injections.push(i);
            }
            while let Some(m) = self.host.poll_media() {
                moved = true;
                self.media.push(m);
            }
            while let Some(a) = self.host.poll_audit() {
                moved = true;
                self.audit.push(a);
            }
            while let Some(d) = self.host.poll_desk() {
                moved = true;
                self.desk.push(d);
            }
            while let Some((conn, body)) = self.host.poll_receipt_request() {
                moved = true;
                let signed = match &self.receipt_key {
                    Some(key) => ra_core::receipt::ConsentReceipt::sign(&body, key),
                    None => Err(ra_core::receipt::ReceiptError::Signing("no key".into())),
                };
                self.host.handle_receipt_signed(self.now, conn, signed);
            }
            for slot in &mut self.helpers {
                while let Some(transmit) = slot.core.poll_transmit() {
                    moved = true;
                    if slot.helper_closed {
                        continue;
                    }
                    let delivery = match transmit {
                        HelperTransmit::Control(bytes) => Delivery::Control(watch_key_confirm(
                            bytes,
                            &mut self.key_confirms,
                            self.rewrite_key_confirm.as_mut(),
                        )),
                        HelperTransmit::Input(bytes) => Delivery::Input(bytes),
                        HelperTransmit::Close { reason } => {
                            slot.helper_closed = true;
                            Delivery::Closed(reason)
                        }
                        other => panic!("the harness does not carry {other:?}"),
                    };
                    slot.to_host
                        .push(self.now, &self.link, &mut self.rng, delivery);
                }
                while let Some(e) = slot.core.poll_event() {
                    moved = true;
                    slot.events.push(e);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn next_wakeup(&self) -> Option<Instant> {
        let pipes = self.helpers.iter().flat_map(|h| {
            [
                h.to_host.next_at(),
                h.to_helper.next_at(),
                h.core.poll_timeout(),
            ]
        });
        pipes
            .chain(std::iter::once(self.host.poll_timeout()))
            .flatten()
            .min()
    }

    /// Runs until nothing is in flight and no timer is due before `limit` from now.
    pub fn run_for(&mut self, limit: Duration) {
        let end = self.now + limit;
        for _ in 0..1_000_000 {
            self.pump();
            let Some(at) = self.next_wakeup() else { break };
            if at > end {
                break;
            }
            self.now = self.now.max(at);
            self.step();
        }
        self.now = self.now.max(end);
        self.host.handle_timeout(self.now);
        for slot in &mut self.helpers {
            slot.core.handle_timeout(self.now);
        }
        self.pump();
    }

    /// Runs until the network is quiet (at most 30 s of virtual time).
    pub fn settle(&mut self) {
        for _ in 0..1_000_000 {
            self.pump();
            let in_flight = self
                .helpers
                .iter()
                .any(|h| h.to_host.next_at().is_some() || h.to_helper.next_at().is_some());
            if !in_flight {
                return;
            }
            let Some(at) = self.next_wakeup() else { return };
            self.now = self.now.max(at);
            self.step();
        }
        panic!("the network never settled");
    }

    fn step(&mut self) {
        let now = self.now;
        self.host.handle_timeout(now);
        for i in 0..self.helpers.len() {
            self.helpers[i].core.handle_timeout(now);
            while self.helpers[i]
                .to_host
                .next_at()
                .is_some_and(|at| at <= now)
            {
                let Some((_, delivery)) = self.helpers[i].to_host.queue.pop_front() else {
                    break;
                };
                let conn = self.helpers[i].conn;
                match delivery {
                    Delivery::Control(bytes) => self.host.handle_control_data(now, conn, &bytes),
                    Delivery::Input(bytes) => {
                        self.host.handle_input_data(now, conn, &bytes);
                        self.check_injection_gate(conn);
                    }
                    Delivery::Closed(_) => self.host.handle_connection_lost(now, conn),
                }
            }
            while self.helpers[i]
                .to_helper
                .next_at()
                .is_some_and(|at| at <= now)
            {
                let Some((_, delivery)) = self.helpers[i].to_helper.queue.pop_front() else {
                    break;
                };
                let core = &mut self.helpers[i].core;
                match delivery {
                    Delivery::Control(bytes) => core.handle_control_data(now, &bytes),
                    Delivery::Input(_) => {}
                    Delivery::Closed(reason) => core.handle_connection_lost(now, reason),
                }
            }
        }
        self.pump();
    }

    /// Input may only come out of the host while the connection holds a grant
    /// and is not paused: checked right after every input delivery.
    fn check_injection_gate(&mut self, conn: ConnectionId) {
        let granted = matches!(
            self.host.control_state(conn),
            Some(ra_core::session::ControlState::Granted(_))
        ) && !self.host.is_paused();
        while let Some(i) = self.host.poll_injection() {
            if matches!(i, Injection::Inject(_)) && !granted {
                self.gate_violations
                    .push(format!("{i:?} injected without a grant"));
            }
            self.injections.push(i);
        }
    }

    // ----- conveniences -----

    pub fn helper(&mut self, i: usize) -> &mut HelperConnection {
        &mut self.helpers[i].core
    }

    /// The `Error` messages the host sent helper `i`.
    pub fn errors_from_host(&self, i: usize) -> Vec<ra_core::proto::Error> {
        use prost::Message as _;
        use ra_core::proto::{Envelope, envelope::Message};
        let mut decoder = ra_core::session::FrameDecoder::new(1 << 20);
        decoder.push(&self.helpers[i].control_from_host);
        let mut errors = Vec::new();
        while let Ok(Some(bytes)) = decoder.next_message() {
            if let Ok(Envelope {
                message: Some(Message::Error(error)),
            }) = Envelope::decode(bytes)
            {
                errors.push(error);
            }
        }
        errors
    }

    pub fn conn(&self, i: usize) -> ConnectionId {
        self.helpers[i].conn
    }

    /// Raw bytes from helper `i` on its control stream, bypassing its state machine.
    pub fn inject_control_bytes(&mut self, i: usize, bytes: Vec<u8>) {
        let slot = &mut self.helpers[i];
        slot.to_host.push(
            self.now,
            &self.link,
            &mut self.rng,
            Delivery::Control(bytes),
        );
    }

    /// Raw bytes from helper `i` on its input stream.
    pub fn inject_input_bytes(&mut self, i: usize, bytes: Vec<u8>) {
        let slot = &mut self.helpers[i];
        slot.to_host
            .push(self.now, &self.link, &mut self.rng, Delivery::Input(bytes));
    }

    /// Connects helper "Bob", approves it and returns its index.
    pub fn live_session(&mut self) -> usize {
        let h = self.connect("Bob", PASSWORD);
        self.settle();
        let conn = self.conn(h);
        self.host
            .apply(self.now, HostCommand::Approve(conn))
            .expect("approve");
        self.settle();
        assert!(self.helper(h).is_live(), "session should be live");
        h
    }

    /// A live session where the helper holds control.
    pub fn controlling_session(&mut self) -> usize {
        let h = self.live_session();
        let now = self.now;
        self.helper(h)
            .apply(now, HelperCommand::RequestControl)
            .expect("request control");
        self.settle();
        let conn = self.conn(h);
        self.host
            .apply(self.now, HostCommand::GrantControl(conn))
            .expect("grant");
        self.settle();
        assert!(
            self.helper(h).grant().is_some(),
            "control should be granted"
        );
        h
    }

    pub fn send_input(&mut self, i: usize, events: &[InputEvent]) -> bool {
        let now = self.now;
        let ok = self
            .helper(i)
            .apply(now, HelperCommand::SendInput(events.to_vec()))
            .is_ok();
        self.pump();
        ok
    }

    pub fn injected_events(&self) -> Vec<InputEvent> {
        self.injections
            .iter()
            .filter_map(|i| match i {
                Injection::Inject(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn release_alls(&self) -> usize {
        self.injections
            .iter()
            .filter(|i| matches!(i, Injection::ReleaseAll))
            .count()
    }

    pub fn helper_ended(&self, i: usize) -> Option<EndReason> {
        self.helpers[i].core.ended()
    }

    pub fn host_saw(&self, pred: impl Fn(&HostEvent) -> bool) -> bool {
        self.host_events.iter().any(pred)
    }

    pub fn helper_saw(&self, i: usize, pred: impl Fn(&HelperEvent) -> bool) -> bool {
        self.helpers[i].events.iter().any(pred)
    }
}

/// A 1920x1080 primary monitor and a 1280x1024 one to its right.
pub fn two_monitors() -> Vec<DisplayInfo> {
    vec![
        DisplayInfo {
            id: DisplayId(1),
            name: "LEFT".into(),
            bounds: Rect::new(0, 0, 1920, 1080),
            primary: true,
        },
        DisplayInfo {
            id: DisplayId(2),
            name: "RIGHT".into(),
            bounds: Rect::new(1920, 0, 1280, 1024),
            primary: false,
        },
    ]
}
