//! A lying broker cannot hijack a session: one that puts itself between the
//! peers (terminating QUIC towards each and splicing their control streams),
//! and one whose relay rewrites packets, both leave the peers unauthenticated.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prost::Message as _;
use ra_broker::identity::BrokerIdentity;
use ra_core::code::Code;
use ra_core::proto::ALPN;
use ra_core::proto::broker::{
    BrokerMessage, MAX_BROKER_MESSAGE, Matched, PeerMessage, Registered, broker_message,
    peer_message,
};
use ra_core::relay::RawDatagram;
use ra_core::runtime::{
    BrokerOptions, BrokerTrust, ClaimError, easy_connect_helper, easy_connect_host,
};
use ra_core::session::{FrameDecoder, HostEvent, encode_frame};
use ra_testkit::broker::*;
use ra_testkit::tls::accept_any_client_config;
use rustls::pki_types::PrivatePkcs8KeyDer;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// The `ra-broker` binary of this build.
const RA_BROKER: &str = env!("CARGO_BIN_EXE_ra-broker");

async fn read_message(recv: &mut quinn::RecvStream, decoder: &mut FrameDecoder) -> PeerMessage {
    loop {
        if let Some(bytes) = decoder.next_message().unwrap() {
            return PeerMessage::decode(bytes).unwrap();
        }
        let chunk = recv.read_chunk(4096, true).await.unwrap().unwrap();
        decoder.push(&chunk.bytes);
    }
}

async fn write_message(send: &mut quinn::SendStream, message: broker_message::Message) {
    let bytes = encode_frame(&BrokerMessage {
        message: Some(message),
    });
    send.write_all(&bytes).await.unwrap();
}

/// The attacker's QUIC endpoint: a server speaking `ra/1` with its own
/// certificate, and a client that accepts any.
fn attacker_endpoint() -> quinn::Endpoint {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certified = rcgen::generate_simple_self_signed(vec!["mitm.invalid".into()]).unwrap();
    let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certified.cert.der().clone()],
            PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()).into(),
        )
        .unwrap();
    server.alpn_protocols = vec![ALPN.to_vec()];
    let server = quinn::ServerConfig::with_crypto(Arc::new(
        quinn::crypto::rustls::QuicServerConfig::try_from(server).unwrap(),
    ));
    let mut endpoint = quinn::Endpoint::server(server, loopback()).unwrap();
    endpoint.set_default_client_config(accept_any_client_config(ALPN));
    endpoint
}

/// A broker that answers every claim by putting itself in the middle.
async fn lying_broker() -> BrokerOptions {
    let identity = BrokerIdentity::generate().unwrap();
    let fingerprint = identity.fingerprint();
    let broker = quinn::Endpoint::server(identity.server_config().unwrap(), loopback()).unwrap();
    let options = {
        let mut o = BrokerOptions::new(
            broker.local_addr().unwrap(),
            BrokerTrust::Fingerprint(fingerprint),
        );
        o.bind = loopback();
        o
    };
    let attacker = attacker_endpoint();
    let (waiter_tx, mut waiter_rx) = mpsc::unbounded_channel::<(SocketAddr, quinn::SendStream)>();
    tokio::spawn(async move {
        let mut waiters: Vec<(SocketAddr, quinn::SendStream)> = Vec::new();
        loop {
            tokio::select! {
                Some(waiter) = waiter_rx.recv() => waiters.push(waiter),
                Some(incoming) = broker.accept() => {
                    let connection = incoming.await.unwrap();
                    let (mut send, mut recv) = connection.accept_bi().await.unwrap();
                    let mut decoder = FrameDecoder::new(MAX_BROKER_MESSAGE);
                    let peer = connection.remote_address();
                    match read_message(&mut recv, &mut decoder).await.message {
                        Some(peer_message::Message::Register(_)) => {
                            write_message(&mut send, broker_message::Message::Registered(Registered {
                                expires_at_unix_ms: u64::MAX / 2,
                                observed_addr: peer.to_string(),
                                ..Registered::default()
                            })).await;
                            // Keep the connection open.
                            tokio::spawn(async move { connection.closed().await; drop(recv) });
                            let _ = waiter_tx.send((peer, send));
                        }
                        Some(peer_message::Message::Claim(_)) => {
                            let (waiter_addr, mut waiter_stream) = waiters.pop().expect("a waiting host");
                            let attacker_addr = attacker.local_addr().unwrap();
                            write_message(&mut waiter_stream, broker_message::Message::Matched(Matched {
                                match_id: 1,
                                peer_observed_addr: attacker_addr.to_string(),
                                try_direct: true,
                                ..Matched::default()
                            })).await;
                            write_message(&mut send, broker_message::Message::Matched(Matched {
                                match_id: 1,
                                peer_observed_addr: attacker_addr.to_string(),
                                observed_addr: peer.to_string(),
                                try_direct: true,
                                ..Matched::default()
                            })).await;
                            tokio::spawn(splice(attacker.clone(), waiter_addr));
                            tokio::spawn(async move { connection.closed().await; drop((send, recv, waiter_stream)) });
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
            }
        }
    });
    options
}

/// Accepts the claimant, connects to the waiting host, and copies the control
/// stream both ways (the PAKE messages pass unchanged).
async fn splice(attacker: quinn::Endpoint, host: SocketAddr) {
    let incoming = attacker.accept().await.unwrap();
    let helper = incoming.await.unwrap();
    let host = attacker
        .connect(host, "ra-host.invalid")
        .unwrap()
        .await
        .unwrap();
    let (mut to_helper, mut from_helper) = helper.accept_bi().await.unwrap();
    let (mut to_host, mut from_host) = host.open_bi().await.unwrap();
    let up = async {
        while let Ok(Some(chunk)) = from_helper.read_chunk(65536, true).await {
            if to_host.write_all(&chunk.bytes).await.is_err() {
                break;
            }
        }
    };
    let down = async {
        while let Ok(Some(chunk)) = from_host.read_chunk(65536, true).await {
            if to_helper.write_all(&chunk.bytes).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(up, down);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_in_the_middle_fails_authentication_on_both_sides() {
    let options = lying_broker().await;
    let (backends, _log) = host_backends();
    let mut host = easy_connect_host(options.clone(), host_options("Alice"), backends)
        .await
        .unwrap();
    let code = host.code().clone();
    // The helper has the right code, yet the key confirmation cannot succeed.
    let helper = easy_connect_helper(options, &code, helper_options("Bob"), decoder()).await;
    assert!(matches!(helper, Err(ClaimError::WrongCode)), "{helper:?}");
    let event = host_event_matching(&mut host, |e| {
        matches!(
            e,
            HostEvent::AuthFailed { .. } | HostEvent::ConnectionRequest { .. }
        )
    })
    .await;
    assert!(matches!(event, HostEvent::AuthFailed { .. }), "{event:?}");
}

/// A UDP forwarder that rewrites one byte of every QUIC packet: one upstream
/// socket per client, so the relay still sees two different peers.
async fn tampering_proxy(relay: SocketAddr) -> SocketAddr {
    let front = Arc::new(UdpSocket::bind(loopback()).await.unwrap());
    let addr = front.local_addr().unwrap();
    tokio::spawn(async move {
        let mut upstreams: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
        let mut buf = vec![0u8; 65536];
        while let Ok((len, from)) = front.recv_from(&mut buf).await {
            let upstream = match upstreams.get(&from) {
                Some(u) => u.clone(),
                None => {
                    let upstream = Arc::new(UdpSocket::bind(loopback()).await.unwrap());
                    upstreams.insert(from, upstream.clone());
                    let back = upstream.clone();
                    let front = front.clone();
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 65536];
                        while let Ok((len, _)) = back.recv_from(&mut buf).await {
                            tamper(&mut buf[..len]);
                            let _ = front.send_to(&buf[..len], from).await;
                        }
                    });
                    upstream
                }
            };
            tamper(&mut buf[..len]);
            let _ = upstream.send_to(&buf[..len], relay).await;
        }
    });
    addr
}

fn tamper(datagram: &mut [u8]) {
    if !RawDatagram::is_raw(datagram) && datagram.len() > 40 {
        let last = datagram.len() - 1;
        datagram[last] ^= 0x01;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_rewrites_packets_gets_no_session() {
    // The broker tells the peers the relay is behind the tampering proxy.
    let real_relay = std::net::UdpSocket::bind(loopback()).unwrap();
    let relay_addr = real_relay.local_addr().unwrap();
    drop(real_relay);
    let proxy = tampering_proxy(relay_addr).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("broker.toml");
    std::fs::write(
        &config,
        format!("direct_paths = false\nrelay_listen = \"{relay_addr}\"\npublic_relay_addr = \"{proxy}\"\n"),
    )
    .unwrap();
    let broker = BrokerProcess::start(
        RA_BROKER,
        &[
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let (backends, _log) = host_backends();
    let mut options = broker.options();
    options.connect_timeout = Duration::from_secs(2);
    let mut host = easy_connect_host(options.clone(), host_options("Alice"), backends)
        .await
        .unwrap();
    let code: Code = host.code().clone();
    let helper = easy_connect_helper(options, &code, helper_options("Bob"), decoder()).await;
    assert!(
        matches!(helper, Err(ClaimError::Unreachable(_))),
        "{helper:?}"
    );
    // The host never saw an authenticated helper.
    let nothing = tokio::time::timeout(Duration::from_millis(500), host.next_event()).await;
    assert!(
        !matches!(nothing, Ok(Some(HostEvent::ConnectionRequest { .. }))),
        "{nothing:?}"
    );
}
