//! The broker's peer stream, both ways: what a peer sends the broker
//! (framed `PeerMessage`s: lookups, local addresses to filter) and what a
//! broker sends a peer (`BrokerMessage`s, fed to the waiting and the
//! claiming peer's state machines).
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use prost::Message as _;
use ra_core::code::Lookup;
use ra_core::proto::broker::{BrokerMessage, MAX_BROKER_MESSAGE, PeerMessage, Role, peer_message};
use ra_core::rendezvous::{Claimant, Waiter, WaiterConfig, punch_targets};
use ra_core::session::FrameDecoder;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let broker = ([192, 0, 2, 1], 4433).into();
    let observed = ([198, 51, 100, 7], 50_000).into();
    let mut frames = FrameDecoder::new(MAX_BROKER_MESSAGE);
    frames.push(data);
    let now = Instant::now();
    let mut waiter = Waiter::new(
        WaiterConfig::new(broker, Role::Host, Duration::from_secs(600), Vec::new()),
        Box::new(ChaCha20Rng::seed_from_u64(3)),
    );
    let mut claimant = Claimant::new(
        broker,
        Lookup::parse("7G2KXW").expect("a lookup"),
        Role::Helper,
        Vec::new(),
    );
    while let Ok(Some(frame)) = frames.next_message() {
        if let Ok(peer) = PeerMessage::decode(frame.clone()) {
            let (lookup, locals) = match peer.message {
                Some(peer_message::Message::Register(m)) => (m.lookup, m.local_addrs),
                Some(peer_message::Message::Claim(m)) => (m.lookup, m.local_addrs),
                Some(peer_message::Message::Attach(m)) => (m.lookup, m.local_addrs),
                _ => (String::new(), Vec::new()),
            };
            let _ = Lookup::parse(&lookup);
            let _ = punch_targets(&locals, observed, broker);
        }
        if let Ok(BrokerMessage {
            message: Some(message),
        }) = BrokerMessage::decode(frame)
        {
            waiter.handle_message(now, std::time::SystemTime::now(), message.clone());
            claimant.handle_message(message);
            while waiter.poll_transmit().is_some() {}
            while waiter.poll_event().is_some() {}
            while claimant.poll_transmit().is_some() {}
            let _ = claimant.poll_result();
        }
    }
});
