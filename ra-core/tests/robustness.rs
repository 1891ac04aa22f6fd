//! Everything that parses outside input gets thousands of seeded random and
//! mutated inputs: it may refuse them, never panic, and whatever it accepts
//! must be valid.
#![allow(missing_docs)]

use std::time::{Duration, Instant, SystemTime};

use ra_core::invitation::{CertFingerprint, Invitation, SessionId};
use ra_core::password::Password;
use ra_core::policy::Policy;
use ra_core::proto::{self, envelope::Message};
use ra_core::session::{
    ChannelBinding, FrameDecoder, HelperConfig, HelperConnection, encode_frame,
};
use ra_testkit::harness::{PASSWORD, World};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const CASES: u64 = 2_000;

fn sample_invitation() -> Invitation {
    Invitation::new(
        SessionId([0x42; 16]),
        "Alice's laptop",
        vec![
            "192.0.2.7:4433".parse().unwrap(),
            "[2001:db8::1]:4433".parse().unwrap(),
        ],
        CertFingerprint([0xAB; 32]),
        SystemTime::now(),
        Duration::from_secs(3600),
    )
    .unwrap()
}

/// A random edit of `input`: flip, insert, delete, duplicate or truncate.
fn mutate(rng: &mut ChaCha20Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.gen_range(1..6) {
        let len = out.len();
        match rng.gen_range(0..5) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                out[i] ^= 1 << rng.gen_range(0..8);
            }
            1 => {
                let i = rng.gen_range(0..=len);
                out.insert(i, rng.r#gen());
            }
            2 if len > 0 => {
                out.remove(rng.gen_range(0..len));
            }
            3 if len > 0 => {
                let start = rng.gen_range(0..len);
                let end = rng.gen_range(start..=len.min(start + 64));
                let chunk = out[start..end].to_vec();
                out.splice(start..start, chunk);
            }
            _ => out.truncate(rng.gen_range(0..=len)),
        }
    }
    out
}

fn random_bytes(rng: &mut ChaCha20Rng, max: usize) -> Vec<u8> {
    let len = rng.gen_range(0..max);
    (0..len).map(|_| rng.r#gen()).collect()
}

#[test]
fn invitation_files_never_panic() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let valid = sample_invitation().to_file_string().into_bytes();
    let mut accepted = 0;
    for _ in 0..CASES {
        let input = if rng.gen_bool(0.8) {
            mutate(&mut rng, &valid)
        } else {
            random_bytes(&mut rng, 4096)
        };
        if let Ok(invitation) = Invitation::parse_file(&input) {
            invitation.validate().expect("an accepted file is valid");
            accepted += 1;
        }
    }
    // Some mutations (a changed comment, a changed name letter) stay valid.
    assert!(accepted > 0);
    assert!(accepted < CASES);
}

#[test]
fn invitation_tokens_never_panic() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let valid = sample_invitation().to_token().into_bytes();
    for _ in 0..CASES {
        let input = mutate(&mut rng, &valid);
        let text = String::from_utf8_lossy(&input);
        if let Ok(invitation) = Invitation::from_token(&text) {
            invitation.validate().expect("an accepted token is valid");
        }
    }
}

#[test]
fn policies_and_passwords_never_panic() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let policy = Policy::default().to_toml_string().unwrap().into_bytes();
    let password = Password::generate_random().to_string().into_bytes();
    for _ in 0..CASES {
        let text = String::from_utf8_lossy(&mutate(&mut rng, &policy)).into_owned();
        let _ = Policy::from_toml_str(&text);
        let text = String::from_utf8_lossy(&mutate(&mut rng, &password)).into_owned();
        if let Ok(p) = Password::parse(&text) {
            assert_eq!(p.ungrouped().len(), Password::ENCODED_LEN);
        }
    }
}

#[test]
fn frame_decoder_never_panics() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    for _ in 0..CASES {
        let mut decoder = FrameDecoder::new(rng.gen_range(0..1024));
        for _ in 0..rng.gen_range(1..8) {
            decoder.push(&random_bytes(&mut rng, 64));
            while let Ok(Some(_)) = decoder.next_message() {}
        }
    }
}

/// Control and input bytes from a hostile helper, in every phase of a session.
#[test]
fn host_survives_hostile_helpers() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let valid_messages: Vec<Vec<u8>> = [
        Message::ControlRequest(proto::ControlRequest::default()),
        Message::Chat(proto::Chat {
            text: "hello".into(),
        }),
        Message::Pointer(proto::Pointer {
            x: -1,
            y: 5,
            kind: 1,
        }),
        Message::SelectDisplay(proto::SelectDisplay { id: 1 }),
        Message::KeyConfirm(proto::KeyConfirm {
            confirmation: vec![1; 32],
            ..Default::default()
        }),
    ]
    .into_iter()
    .map(|m| encode_frame(&proto::Envelope { message: Some(m) }))
    .collect();
    for seed in 0..300 {
        let mut w = World::simple(seed);
        let phase = rng.gen_range(0..3);
        let h = match phase {
            0 => w.connect("Bob", PASSWORD),
            1 => w.live_session(),
            _ => w.controlling_session(),
        };
        for _ in 0..10 {
            let bytes = if rng.gen_bool(0.5) {
                let pick = rng.gen_range(0..valid_messages.len());
                mutate(&mut rng, &valid_messages[pick])
            } else {
                random_bytes(&mut rng, 256)
            };
            if rng.gen_bool(0.5) {
                w.inject_control_bytes(h, bytes);
            } else {
                w.inject_input_bytes(h, bytes);
            }
        }
        w.settle();
        assert!(
            w.gate_violations.is_empty(),
            "seed {seed}: {:?}",
            w.gate_violations
        );
        // The host still serves: end whatever is left and let a new helper in.
        let now = w.now;
        let _ = w.host.end(now);
        w.settle();
        if w.host.invitation_closed().is_none() {
            let again = w.connect("Carol", PASSWORD);
            w.settle();
            assert!(
                w.helper(again).is_authenticated(),
                "seed {seed}: host stopped serving"
            );
        }
    }
}

/// Bytes from a hostile host, in every phase of the helper.
#[test]
fn helper_survives_hostile_hosts() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    for _ in 0..CASES {
        let now = Instant::now();
        let mut helper = HelperConnection::new(
            now,
            HelperConfig::new(SessionId([1; 16]), "Bob", b"pw".to_vec()),
            ChannelBinding([0; 32]),
            &mut rng,
        );
        for _ in 0..rng.gen_range(1..6) {
            let bytes = random_bytes(&mut rng, 200);
            helper.handle_control_data(now, &bytes);
        }
        while helper.poll_transmit().is_some() {}
        while helper.poll_event().is_some() {}
        assert!(
            !helper.is_authenticated(),
            "random bytes cannot authenticate a host"
        );
    }
}
