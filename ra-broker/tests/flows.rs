//! Both short-code flows end to end through a real `ra-broker` process on
//! loopback: frames, control, the relay, wrong codes, rate limits.
#![allow(missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ra_codec::{EncoderSettings, OpenH264Encoder};
use ra_core::code::Code;
use ra_core::input::InputEvent;
use ra_core::media::{CodecError, EncodedFrame, Encoder, Frame};
use ra_core::runtime::{
    ClaimError, HostBackends, WaitError, assist, easy_connect_helper, easy_connect_host, join,
};
use ra_core::session::{HelperEvent, HostEvent};
use ra_testkit::broker::*;

/// The `ra-broker` binary of this build.
const RA_BROKER: &str = env!("CARGO_BIN_EXE_ra-broker");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn easy_connect_with_frames_and_control() {
    let broker = BrokerProcess::start(RA_BROKER, &["--listen", "127.0.0.1:0"]);
    let (backends, log) = host_backends();
    let mut host = easy_connect_host(broker.options(), host_options("Alice"), backends)
        .await
        .unwrap();
    let code = host.code().clone();
    assert_eq!(code.to_string().len(), 15);
    let helper_task = tokio::spawn({
        let options = broker.options();
        async move {
            easy_connect_helper(options, &code, helper_options("Bob"), decoder())
                .await
                .unwrap()
        }
    });
    assert_eq!(approve_next(&mut host).await, "Bob");
    let (mut helper, relayed) = helper_task.await.unwrap();
    assert!(!relayed, "loopback should connect directly");
    assert_eq!(helper.host_name(), "Alice");
    let frame = next_frame(&mut helper).await;
    assert_eq!((frame.frame.width, frame.frame.height), (320, 240));
    // Control is a separate approval.
    helper.request_control().await.unwrap();
    let conn = match host_event_matching(&mut host, |e| {
        matches!(e, HostEvent::ControlRequested { .. })
    })
    .await
    {
        HostEvent::ControlRequested { conn, .. } => conn,
        _ => unreachable!(),
    };
    host.grant_control(conn).await.unwrap();
    helper_event_matching(&mut helper, |e| {
        matches!(e, HelperEvent::ControlGranted { .. })
    })
    .await;
    helper
        .send_input(vec![InputEvent::PointerMove { x: 10, y: 20 }])
        .await
        .unwrap();
    let waiting = log.clone();
    tokio::task::spawn_blocking(move || waiting.wait_for(1, STEP))
        .await
        .unwrap()
        .expect("input injected in time");
    assert_eq!(log.injected(), [InputEvent::PointerMove { x: 10, y: 20 }]);
    helper.end().await.unwrap();
    host_event_matching(&mut host, |e| matches!(e, HostEvent::Ended { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_assist_with_frames_and_control() {
    let broker = BrokerProcess::start(RA_BROKER, &["--listen", "127.0.0.1:0"]);
    let offer = assist(
        broker.options(),
        helper_options("Tech Bob"),
        Box::new(|| Ok(decoder())),
    )
    .await
    .unwrap();
    let code = offer.code().clone();
    let helper_task = tokio::spawn(offer.connected());
    let (backends, _log) = host_backends();
    let mut host = join(broker.options(), &code, host_options("Alice"), backends)
        .await
        .unwrap();
    assert_eq!(host.relayed(), Some(false));
    // The connection request shows the helper's name; the host still approves.
    assert_eq!(approve_next(&mut host).await, "Tech Bob");
    let (mut helper, relayed) = helper_task.await.unwrap().unwrap();
    assert!(!relayed);
    next_frame(&mut helper).await;
    helper.request_control().await.unwrap();
    match host_event_matching(&mut host, |e| {
        matches!(e, HostEvent::ControlRequested { .. })
    })
    .await
    {
        HostEvent::ControlRequested { conn, .. } => host.deny_control(conn).await.unwrap(),
        _ => unreachable!(),
    }
    helper_event_matching(&mut helper, |e| {
        matches!(e, HelperEvent::ControlDenied { .. })
    })
    .await;
    host.end().await.unwrap();
    helper_event_matching(&mut helper, |e| matches!(e, HelperEvent::Ended { .. })).await;
}

/// Keeps a copy of every encoded frame.
struct RecordingEncoder {
    inner: OpenH264Encoder,
    frames: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Encoder for RecordingEncoder {
    fn encode(
        &mut self,
        frame: &Frame<'_>,
        force_keyframe: bool,
    ) -> Result<Option<EncodedFrame>, CodecError> {
        let encoded = self.inner.encode(frame, force_keyframe)?;
        if let Some(e) = &encoded {
            self.frames.lock().unwrap().push(e.data.clone());
        }
        Ok(encoded)
    }

    fn set_bitrate(&mut self, bits_per_second: u32) {
        self.inner.set_bitrate(bits_per_second);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_relay_works_and_the_broker_sees_only_ciphertext() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("relay.bin");
    let config = dir.path().join("broker.toml");
    std::fs::write(
        &config,
        format!(
            "direct_paths = false\nrelay_capture = {:?}\n",
            capture.to_str().unwrap()
        ),
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
    let frames = Arc::new(Mutex::new(Vec::new()));
    let (mut backends, _log) = host_backends();
    backends.encoder = Box::new(RecordingEncoder {
        inner: OpenH264Encoder::new(EncoderSettings::default()),
        frames: frames.clone(),
    });
    let mut host = easy_connect_host(broker.options(), host_options("Alice"), backends)
        .await
        .unwrap();
    let code = host.code().clone();
    let options = broker.options();
    let helper_task = tokio::spawn(async move {
        easy_connect_helper(options, &code, helper_options("Bob"), decoder())
            .await
            .unwrap()
    });
    approve_next(&mut host).await;
    let (mut helper, relayed) = helper_task.await.unwrap();
    assert!(
        relayed,
        "direct paths are off: the relay must carry the session"
    );
    for _ in 0..3 {
        next_frame(&mut helper).await;
    }
    const SECRET_CHAT: &str = "the quick brown fox sends a secret: 7d1f4c9a";
    host.chat(SECRET_CHAT).await.unwrap();
    helper_event_matching(&mut helper, |e| matches!(e, HelperEvent::Chat { .. })).await;
    helper.chat(SECRET_CHAT).await.unwrap();
    host_event_matching(&mut host, |e| matches!(e, HostEvent::Chat { .. })).await;
    helper.end().await.unwrap();
    drop(broker);

    let seen = std::fs::read(&capture).unwrap();
    assert!(
        seen.len() > 10_000,
        "the relay carried {} bytes",
        seen.len()
    );
    assert!(!contains(&seen, SECRET_CHAT.as_bytes()), "chat in clear");
    let frames = frames.lock().unwrap();
    assert!(!frames.is_empty());
    for frame in frames.iter().filter(|f| f.len() >= 64) {
        // Any 32-byte window of a frame (past its start code) would betray it.
        let window = &frame[16..48];
        assert!(!contains(&seen, window), "frame bytes in clear");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secrets_fail_on_both_sides_and_five_kill_the_code() {
    let broker = BrokerProcess::start(RA_BROKER, &["--listen", "127.0.0.1:0"]);
    let (backends, _log) = host_backends();
    let mut host = easy_connect_host(broker.options(), host_options("Alice"), backends)
        .await
        .unwrap();
    let right = host.code().to_string();
    // Same lookup part, wrong secret part.
    let wrong = Code::parse(&format!(
        "{}{}",
        &right[..8],
        if &right[8..] == "000-000" {
            "111-111"
        } else {
            "000-000"
        }
    ))
    .unwrap();
    for attempt in 1..=5u32 {
        let result = easy_connect_helper(
            broker.options(),
            &wrong,
            helper_options("Mallory"),
            decoder(),
        )
        .await;
        assert!(
            matches!(result, Err(ClaimError::WrongCode)),
            "attempt {attempt}: {result:?}"
        );
        match host_event_matching(&mut host, |e| matches!(e, HostEvent::AuthFailed { .. })).await {
            HostEvent::AuthFailed { attempts, .. } => assert_eq!(attempts, attempt),
            _ => unreachable!(),
        }
    }
    host_event_matching(&mut host, |e| {
        matches!(e, HostEvent::InvitationClosed { .. })
    })
    .await;
    // Dead: even the right code now gets the uniform answer.
    let right = Code::parse(&right).unwrap();
    let result =
        easy_connect_helper(broker.options(), &right, helper_options("Bob"), decoder()).await;
    assert!(matches!(result, Err(ClaimError::Unavailable)), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn used_expired_and_unknown_codes_get_one_answer() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("broker.toml");
    std::fs::write(&config, "max_code_lifetime = \"2s\"\n").unwrap();
    let broker = BrokerProcess::start(
        RA_BROKER,
        &[
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    // Unknown.
    let unknown = Code::generate_random();
    let result =
        easy_connect_helper(broker.options(), &unknown, helper_options("x"), decoder()).await;
    assert!(matches!(result, Err(ClaimError::Unavailable)), "{result:?}");
    // Used.
    let (backends, _log) = host_backends();
    let mut host = easy_connect_host(broker.options(), host_options("Alice"), backends)
        .await
        .unwrap();
    let code = host.code().clone();
    let options = broker.options();
    let first = tokio::spawn({
        let code = code.clone();
        async move { easy_connect_helper(options, &code, helper_options("Bob"), decoder()).await }
    });
    approve_next(&mut host).await;
    let (_helper, _) = first.await.unwrap().unwrap();
    let again =
        easy_connect_helper(broker.options(), &code, helper_options("Eve"), decoder()).await;
    assert!(matches!(again, Err(ClaimError::Unavailable)), "{again:?}");
    // Expired: the broker caps the lifetime at 2 s; the host learns it too.
    let (backends, _log) = host_backends();
    let mut late = easy_connect_host(broker.options(), host_options("Carol"), backends)
        .await
        .unwrap();
    let code = late.code().clone();
    host_event_matching(&mut late, |e| {
        matches!(e, HostEvent::InvitationClosed { .. })
    })
    .await;
    let result =
        easy_connect_helper(broker.options(), &code, helper_options("Bob"), decoder()).await;
    assert!(matches!(result, Err(ClaimError::Unavailable)), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_wrong_codes_from_one_source_are_rate_limited() {
    let broker = BrokerProcess::start(RA_BROKER, &["--listen", "127.0.0.1:0"]);
    let mut unavailable = 0;
    let mut limited = 0;
    let options = broker.options();
    let socket_options = options.clone();
    // One QUIC connection per claim would be slow; the limit is per source IP,
    // so claims from one client are what matters.
    for _ in 0..1000 {
        let code = Code::generate_random();
        match easy_connect_helper(
            socket_options.clone(),
            &code,
            helper_options("x"),
            decoder(),
        )
        .await
        {
            Err(ClaimError::Unavailable) => unavailable += 1,
            Err(ClaimError::RateLimited { retry_after }) => {
                assert!(retry_after > Duration::ZERO);
                limited += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(unavailable, 10, "the first 10 lookups per minute pass");
    assert_eq!(limited, 990);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_helper_counts_wrong_hosts_and_dies_after_five() {
    let mut broker = BrokerProcess::start(RA_BROKER, &["--listen", "127.0.0.1:0"]);
    let offer = assist(
        broker.options(),
        helper_options("Bob"),
        Box::new(|| Ok(decoder())),
    )
    .await
    .unwrap();
    let right = offer.code().to_string();
    let wrong = Code::parse(&format!(
        "{}{}",
        &right[..8],
        if &right[8..] == "000-000" {
            "111-111"
        } else {
            "000-000"
        }
    ))
    .unwrap();
    let waiting = tokio::spawn(offer.connected());
    for attempt in 1..=5 {
        let (backends, _log): (HostBackends, _) = host_backends();
        let mut host = join(broker.options(), &wrong, host_options("Eve"), backends)
            .await
            .unwrap();
        host_event_matching(&mut host, |e| matches!(e, HostEvent::AuthFailed { .. })).await;
        // The host knows at once; the broker once the helper reported it.
        if attempt < 5 {
            broker.expect("reopened");
        }
    }
    let result = waiting.await.unwrap();
    assert!(
        matches!(result, Err(WaitError::TooManyFailures)),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_with_another_certificate_is_refused_by_both_roles() {
    let broker = BrokerProcess::start(RA_BROKER, &["--listen", "127.0.0.1:0"]);
    let mut wrong = broker.fingerprint();
    wrong.0[0] ^= 0xFF;
    let impostor = broker_options(broker.addr(), wrong);

    let (backends, _log) = host_backends();
    let host = easy_connect_host(impostor.clone(), host_options("Alice"), backends).await;
    let Err(error) = host else {
        panic!("a code through a broker with another certificate");
    };
    assert!(matches!(error, WaitError::Broker(_)), "{error:?}");

    let code = Code::generate_random();
    let helper = easy_connect_helper(impostor, &code, helper_options("Bob"), decoder()).await;
    assert!(
        matches!(
            helper,
            Err(ClaimError::Unreachable(_) | ClaimError::Broker(_))
        ),
        "{helper:?}"
    );
    // Pinned right, the same broker serves.
    let (backends, _log) = host_backends();
    assert!(
        easy_connect_host(broker.options(), host_options("Alice"), backends)
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_policy_shortens_a_code_s_life() {
    let broker = BrokerProcess::start(RA_BROKER, &["--listen", "127.0.0.1:0"]);
    let (backends, _log) = host_backends();
    let options = ra_core::runtime::InviteOptions {
        policy: ra_core::policy::Policy {
            max_invitation_lifetime: Duration::from_secs(2),
            ..ra_core::policy::Policy::default()
        },
        ..host_options("Alice")
    };
    let started = std::time::SystemTime::now();
    let mut host = easy_connect_host(broker.options(), options, backends)
        .await
        .unwrap();
    let life = host
        .expires_at()
        .duration_since(started)
        .expect("expires after it started");
    assert!(life <= Duration::from_secs(3), "the code lives {life:?}");
    let code = host.code().clone();
    // It closes by itself, and the broker forgets it.
    let closed = host_event_matching(&mut host, |e| {
        matches!(e, HostEvent::InvitationClosed { .. })
    })
    .await;
    assert!(
        matches!(
            closed,
            HostEvent::InvitationClosed {
                reason: ra_core::session::InvitationCloseReason::Expired
            }
        ),
        "{closed:?}"
    );
    let late = easy_connect_helper(broker.options(), &code, helper_options("Bob"), decoder()).await;
    assert!(matches!(late, Err(ClaimError::Unavailable)), "{late:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_claiming_its_own_codes_gets_no_relay_beyond_its_share() {
    let mut config = loopback_config();
    config.relay.max_allocations_per_source = 2;
    let broker = ra_broker::start(config).await.unwrap();
    let options = broker_options(broker.local_addr, broker.fingerprint);
    // One source (loopback) registers three codes and claims each itself.
    for round in 1..=3u64 {
        let (backends, _log) = host_backends();
        let mut host = easy_connect_host(options.clone(), host_options("Alice"), backends)
            .await
            .unwrap();
        let code = host.code().clone();
        let helper_task = tokio::spawn({
            let options = options.clone();
            async move {
                easy_connect_helper(options, &code, helper_options("Mallory"), decoder())
                    .await
                    .unwrap()
            }
        });
        approve_next(&mut host).await;
        let (helper, relayed) = helper_task.await.unwrap();
        // Beyond its share the match had no relay, yet the direct path
        // still connects the two.
        assert!(!relayed, "round {round}");
        assert_eq!(helper.host_name(), "Alice");
        assert_eq!(broker.relay.allocations(), round.min(2) as usize);
        helper.end().await.unwrap();
        host_event_matching(&mut host, |e| matches!(e, HostEvent::Ended { .. })).await;
    }
    assert_eq!(
        broker
            .relay
            .stats()
            .refused
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_peer_needs_a_random_re_attach_key() {
    use ra_core::proto::broker::{
        Attach, RefuseReason, Register, Role, broker_message, peer_message,
    };
    let broker = ra_broker::start(loopback_config()).await.unwrap();
    let register = |key: Vec<u8>| {
        peer_message::Message::Register(Register {
            lookup: "7G2KXW".into(),
            role: Role::Host as i32,
            attach_key: key,
            ..Default::default()
        })
    };
    for short in [Vec::new(), vec![7; 15]] {
        let answer = raw_request(broker.local_addr, register(short.clone())).await;
        assert!(
            matches!(&answer, broker_message::Message::Refused(r) if r.reason == RefuseReason::Invalid as i32),
            "a {}-byte key: {answer:?}",
            short.len()
        );
        let answer = raw_request(
            broker.local_addr,
            peer_message::Message::Attach(Attach {
                lookup: "7G2KXW".into(),
                attach_key: short,
                local_addrs: Vec::new(),
            }),
        )
        .await;
        assert!(
            matches!(&answer, broker_message::Message::Refused(r) if r.reason == RefuseReason::Invalid as i32),
            "{answer:?}"
        );
    }
    let answer = raw_request(broker.local_addr, register(vec![7; 16])).await;
    assert!(
        matches!(answer, broker_message::Message::Registered(_)),
        "{answer:?}"
    );
}

/// An invitation whose only address answers nothing (as behind a NAT that
/// drops unsolicited packets), with a rendezvous at `broker`: what the
/// helper gets from its token.
async fn unreachable_invitation(
    broker: &BrokerProcess,
) -> (
    ra_core::runtime::HostSession,
    ra_core::invitation::Invitation,
) {
    use ra_core::runtime::{InviteOptions, invite};
    // A socket that never answers: the invitation's one address.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    std::mem::forget(silent);
    let (backends, _log) = host_backends();
    let host = invite(
        InviteOptions {
            host_name: "Alice".into(),
            listen: loopback(),
            advertise: vec![silent_addr],
            rendezvous: Some(broker.options()),
            ..InviteOptions::default()
        },
        backends,
    )
    .await
    .unwrap();
    let rendezvous = host.invitation().rendezvous.clone().expect("a rendezvous");
    assert_eq!(rendezvous.broker, broker.addr());
    assert_eq!(rendezvous.broker_fingerprint, broker.fingerprint());
    // The helper gets it through the token, as a person would paste it.
    let invitation =
        ra_core::invitation::Invitation::from_token(&host.invitation().to_token()).unwrap();
    assert_eq!(invitation.rendezvous, Some(rendezvous));
    (host, invitation)
}

fn quick_helper(name: &str) -> ra_core::runtime::AcceptOptions {
    ra_core::runtime::AcceptOptions {
        connect_timeout: Duration::from_millis(500),
        ..helper_options(name)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_nobody_can_reach_directly_is_reached_through_its_rendezvous() {
    let mut broker = BrokerProcess::start(RA_BROKER, &["--listen", "127.0.0.1:0"]);
    let (host, invitation) = unreachable_invitation(&broker).await;
    broker.expect("registered");
    let password = host.password().clone();
    let mut host = host.into_handle();
    let helper = tokio::spawn(async move {
        ra_core::runtime::accept(&invitation, &password, quick_helper("Bob"), decoder()).await
    });
    assert_eq!(approve_next(&mut host).await, "Bob");
    let mut helper = helper.await.unwrap().unwrap();
    broker.expect("matched");
    let frame = next_frame(&mut helper).await;
    assert_eq!((frame.frame.width, frame.frame.height), (320, 240));
    // The helper got in: the rendezvous is used up.
    assert_eq!(broker.expect("closed")["reason"], "used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_through_the_relay_still_needs_the_password_and_the_pinned_host() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("broker.toml");
    std::fs::write(&config, "direct_paths = false\n").unwrap();
    let mut broker = BrokerProcess::start(
        RA_BROKER,
        &[
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let (host, invitation) = unreachable_invitation(&broker).await;
    let password = host.password().clone();
    let mut host = host.into_handle();
    // A wrong password through the relay: refused, and the rendezvous
    // takes the next claim.
    let wrong = ra_core::password::Password::generate_random();
    let refused =
        ra_core::runtime::accept(&invitation, &wrong, quick_helper("Eve"), decoder()).await;
    assert!(
        matches!(refused, Err(ra_core::runtime::AcceptError::WrongPassword)),
        "{refused:?}"
    );
    broker.expect("reopened");
    let helper = tokio::spawn(async move {
        ra_core::runtime::accept(&invitation, &password, quick_helper("Bob"), decoder()).await
    });
    assert_eq!(approve_next(&mut host).await, "Bob");
    let mut helper = helper.await.unwrap().unwrap();
    next_frame(&mut helper).await;
    assert_eq!(broker.expect("closed")["reason"], "used");
    // Another host's certificate at the end of the path: refused before any
    // password is tried.
    let (_other_host, mut forged) = unreachable_invitation(&broker).await;
    forged.fingerprint = ra_core::invitation::CertFingerprint::of_der(b"someone else");
    let mismatch =
        ra_core::runtime::accept(&forged, &helper_password(), quick_helper("Eve"), decoder()).await;
    assert!(
        matches!(
            mismatch,
            Err(ra_core::runtime::AcceptError::CertificateMismatch)
        ),
        "{mismatch:?}"
    );
}

fn helper_password() -> ra_core::password::Password {
    ra_core::password::Password::generate_random()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reach_probe_goes_only_to_the_asker_from_a_socket_it_never_talked_to() {
    use ra_core::proto::broker::{ReachProbe, RefuseReason, broker_message, peer_message};
    use ra_core::relay::RawDatagram;
    let broker = ra_broker::start(loopback_config()).await.unwrap();
    let target = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = target.local_addr().unwrap().port();
    let probe =
        |port: u32, nonce: Vec<u8>| peer_message::Message::ReachProbe(ReachProbe { port, nonce });
    let answer = raw_request(broker.local_addr, probe(u32::from(port), vec![5; 16])).await;
    let broker_message::Message::ProbeReply(reply) = answer else {
        panic!("{answer:?}");
    };
    let mut buf = [0u8; 128];
    let (len, from) = tokio::time::timeout(STEP, target.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        RawDatagram::decode(&buf[..len]),
        Some(RawDatagram::Reach([5; 16]))
    );
    assert_ne!(from, broker.local_addr, "not from the broker's QUIC socket");
    assert_ne!(from, broker.relay_addr, "nor from its relay");
    assert_eq!(
        reply
            .relay_addr
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .port(),
        from.port()
    );
    // Malformed: no port, a short nonce.
    for bad in [
        probe(0, vec![5; 16]),
        probe(70_000, vec![5; 16]),
        probe(u32::from(port), vec![5; 15]),
    ] {
        let answer = raw_request(broker.local_addr, bad).await;
        assert!(
            matches!(&answer, broker_message::Message::Refused(r) if r.reason == RefuseReason::Invalid as i32),
            "{answer:?}"
        );
    }
}
