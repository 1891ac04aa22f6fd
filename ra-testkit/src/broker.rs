//! Brokers (in process, or as real `ra-broker` processes) and the hosts and
//! helpers that use them over ra-core's code flows.

use std::net::SocketAddr;
use std::time::Duration;

use ra_broker::BrokerConfig;
use ra_capture::{SyntheticCapturer, SyntheticConfig};
use ra_codec::{EncoderSettings, OpenH264Decoder, OpenH264Encoder};
use ra_core::invitation::CertFingerprint;
use ra_core::runtime::{
    AcceptOptions, BrokerOptions, BrokerTrust, HelperSession, HelperSessionEvent, HostBackends,
    HostHandle, InviteOptions, ReceivedFrame,
};
use ra_core::session::{HelperEvent, HostEvent};
use ra_input::{RecordingInjector, RecordingLog};
use serde_json::Value;

use crate::process::Proc;

/// The longest a single wait lasts.
pub const STEP: Duration = Duration::from_secs(20);

pub use crate::net::loopback;

/// A broker configuration on loopback.
pub fn loopback_config() -> BrokerConfig {
    BrokerConfig {
        listen: loopback(),
        relay_listen: loopback(),
        ..BrokerConfig::default()
    }
}

/// Options for reaching `broker` (pinned by `fingerprint`) from loopback.
pub fn broker_options(broker: SocketAddr, fingerprint: CertFingerprint) -> BrokerOptions {
    let mut options = BrokerOptions::new(broker, BrokerTrust::Fingerprint(fingerprint));
    options.bind = loopback();
    options
}

/// Host backends: a small synthetic screen, openh264, a recording injector.
pub fn host_backends() -> (HostBackends, RecordingLog) {
    let injector = RecordingInjector::new();
    let log = injector.log();
    let backends = HostBackends::new(
        Box::new(SyntheticCapturer::new(SyntheticConfig {
            width: 320,
            height: 240,
            frame_rate: 30.0,
        })),
        Box::new(OpenH264Encoder::new(EncoderSettings::default())),
        Box::new(injector),
    );
    (backends, log)
}

/// Host options with a name.
pub fn host_options(name: &str) -> InviteOptions {
    InviteOptions {
        host_name: name.into(),
        ..InviteOptions::default()
    }
}

/// Helper options with a name.
pub fn helper_options(name: &str) -> AcceptOptions {
    AcceptOptions {
        helper_name: name.into(),
        ..AcceptOptions::default()
    }
}

/// A decoder.
pub fn decoder() -> Box<dyn ra_core::media::Decoder> {
    Box::new(OpenH264Decoder::new().unwrap())
}

/// The next host event.
pub async fn host_event(host: &mut HostHandle) -> HostEvent {
    tokio::time::timeout(STEP, host.next_event())
        .await
        .expect("host event in time")
        .expect("host still running")
}

/// The next host event for which `pred` holds.
pub async fn host_event_matching(
    host: &mut HostHandle,
    pred: impl Fn(&HostEvent) -> bool,
) -> HostEvent {
    loop {
        let event = host_event(host).await;
        if pred(&event) {
            return event;
        }
    }
}

/// The next frame the helper receives.
pub async fn next_frame(helper: &mut HelperSession) -> ReceivedFrame {
    loop {
        match tokio::time::timeout(STEP, helper.next_event())
            .await
            .expect("helper event in time")
            .expect("helper still running")
        {
            HelperSessionEvent::Frame(frame) => return frame,
            HelperSessionEvent::Session(HelperEvent::Ended { reason }) => {
                panic!("session ended: {reason}")
            }
            _ => {}
        }
    }
}

/// The next helper session event for which `pred` holds.
pub async fn helper_event_matching(
    helper: &mut HelperSession,
    pred: impl Fn(&HelperEvent) -> bool,
) -> HelperEvent {
    loop {
        match tokio::time::timeout(STEP, helper.next_event())
            .await
            .expect("helper event in time")
            .expect("helper still running")
        {
            HelperSessionEvent::Session(event) if pred(&event) => return event,
            _ => {}
        }
    }
}

/// Approves the next connection request; the helper's name in it.
pub async fn approve_next(host: &mut HostHandle) -> String {
    match host_event_matching(host, |e| matches!(e, HostEvent::ConnectionRequest { .. })).await {
        HostEvent::ConnectionRequest {
            conn, helper_name, ..
        } => {
            host.approve(conn).await.unwrap();
            helper_name
        }
        _ => unreachable!(),
    }
}

/// A real `ra-broker serve` process; killed (by its handle) on drop.
pub struct BrokerProcess {
    proc: Proc,
    /// Its `listening` event.
    pub listening: Value,
}

impl BrokerProcess {
    /// Starts `program` (an `ra-broker` binary: `env!("CARGO_BIN_EXE_ra-broker")`
    /// in ra-broker's tests) as `serve` with `args` and waits for its
    /// `listening` event.
    pub fn start(program: &str, args: &[&str]) -> BrokerProcess {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let mut proc = Proc::spawn("ra-broker", program, &all, false);
        let listening = proc.expect("listening");
        BrokerProcess { proc, listening }
    }

    /// Waits for the next event named `event` on its stdout.
    #[track_caller]
    pub fn expect(&mut self, event: &str) -> Value {
        self.proc.expect(event)
    }

    /// Its QUIC address.
    pub fn addr(&self) -> SocketAddr {
        self.listening["addr"].as_str().unwrap().parse().unwrap()
    }

    /// Its certificate fingerprint.
    pub fn fingerprint(&self) -> CertFingerprint {
        self.listening["fingerprint"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Options for peers of this broker on loopback.
    pub fn options(&self) -> BrokerOptions {
        broker_options(self.addr(), self.fingerprint())
    }

    /// Kills it (by its handle) and reaps it.
    pub fn kill(&mut self) {
        self.proc.kill();
    }
}

/// One request to the broker at `broker` as a raw peer would send it (any
/// field, however wrong), over a connection of its own: the broker's first
/// answer.
///
/// # Panics
/// When the broker cannot be reached or answers nothing in [`STEP`].
pub async fn raw_request(
    broker: SocketAddr,
    request: ra_core::proto::broker::peer_message::Message,
) -> ra_core::proto::broker::broker_message::Message {
    use prost::Message as _;
    use ra_core::proto::broker::{
        BROKER_ALPN, BROKER_SERVER_NAME, BrokerMessage, MAX_BROKER_MESSAGE, PeerMessage,
    };
    let mut endpoint = quinn::Endpoint::client(loopback()).expect("a client endpoint");
    endpoint.set_default_client_config(crate::tls::accept_any_client_config(BROKER_ALPN));
    let exchange = async {
        let connection = endpoint
            .connect(broker, BROKER_SERVER_NAME)
            .expect("a connection attempt")
            .await
            .expect("connected to the broker");
        let (mut send, mut recv) = connection.open_bi().await.expect("a stream");
        let bytes = ra_core::session::encode_frame(&PeerMessage {
            message: Some(request),
        });
        send.write_all(&bytes).await.expect("request sent");
        let mut decoder = ra_core::session::FrameDecoder::new(MAX_BROKER_MESSAGE);
        loop {
            if let Some(frame) = decoder.next_message().expect("a valid frame") {
                return BrokerMessage::decode(frame)
                    .ok()
                    .and_then(|m| m.message)
                    .expect("a broker message");
            }
            let chunk = recv
                .read_chunk(MAX_BROKER_MESSAGE, true)
                .await
                .expect("readable")
                .expect("an answer before the stream ends");
            decoder.push(&chunk.bytes);
        }
    };
    tokio::time::timeout(STEP, exchange)
        .await
        .expect("the broker answered in time")
}
