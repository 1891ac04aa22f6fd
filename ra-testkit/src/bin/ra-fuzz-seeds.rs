//! Writes the seed corpora of the fuzz targets (`fuzz/`): real messages made
//! by the project's own code, one directory per target under the directory
//! given (`scripts/fuzz.sh` runs it). Usage: `ra-fuzz-seeds DIR`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ra_codec::{EncoderSettings, OpenH264Encoder};
use ra_core::audit::{AuditEvent, AuditLog, AuditRecord};
use ra_core::code::{Code, Lookup};
use ra_core::identity::OrgKeyPair;
use ra_core::input::{InputEvent, MouseButton};
use ra_core::invitation::{CertFingerprint, Invitation, SessionId};
use ra_core::keys::KeyCode;
use ra_core::media::{DisplayId, Encoder, Frame, Timestamp};
use ra_core::password::Password;
use ra_core::proto::broker::{
    Attach, BrokerMessage, Claim, Closed, Matched, Outcome, PeerMessage, Refused, Register,
    Registered, Role, broker_message, peer_message,
};
use ra_core::proto::{self, envelope::Message};
use ra_core::receipt::{ConsentReceipt, HostReceiptKey, ReceiptBody, ReceiptGrant};
use ra_core::relay::RawDatagram;
use ra_core::session::{encode_frame, encode_input_event, encode_video_header};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        return Err("usage: ra-fuzz-seeds DIR".into());
    };
    let mut seeds = Seeds { dir, count: 0 };
    invitations(&mut seeds)?;
    codes(&mut seeds)?;
    policies(&mut seeds)?;
    endpoints(&mut seeds)?;
    video(&mut seeds)?;
    broker(&mut seeds)?;
    identity_and_receipt(&mut seeds)?;
    resume_tickets(&mut seeds)?;
    println!("{} seeds in {}", seeds.count, seeds.dir.display());
    Ok(())
}

struct Seeds {
    dir: PathBuf,
    count: usize,
}

impl Seeds {
    fn write(&mut self, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let dir = self.dir.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(Path::new(&dir).join(name), bytes)?;
        self.count += 1;
        Ok(())
    }
}

/// `bytes` as chunks of the fuzz harness (`ra_fuzz::chunks`) of `kind`.
fn chunked(kind: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in bytes.chunks(255) {
        out.push(kind);
        out.push(u8::try_from(piece.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(piece);
    }
    out
}

fn envelope(message: Message) -> Vec<u8> {
    encode_frame(&proto::Envelope {
        message: Some(message),
    })
}

fn invitation() -> Result<Invitation, Box<dyn std::error::Error>> {
    Ok(Invitation::new(
        SessionId([0x42; 16]),
        "Alice's laptop",
        vec!["192.0.2.7:4433".parse()?, "[2001:db8::1]:4433".parse()?],
        CertFingerprint([0xAB; 32]),
        SystemTime::now(),
        Duration::from_secs(3600),
    )?)
}

fn invitations(seeds: &mut Seeds) -> Result<(), Box<dyn std::error::Error>> {
    let invitation = invitation()?;
    seeds.write(
        "invitation_file",
        "invitation",
        invitation.to_file_string().as_bytes(),
    )?;
    seeds.write(
        "invitation_token",
        "token",
        invitation.to_token().as_bytes(),
    )?;
    Ok(())
}

fn codes(seeds: &mut Seeds) -> Result<(), Box<dyn std::error::Error>> {
    let code = Code::parse("7G2KXW-Q4M9TR")?;
    seeds.write("code_password", "code", code.to_string().as_bytes())?;
    seeds.write(
        "code_password",
        "lookup",
        Lookup::parse("7g2-kxw")?.to_string().as_bytes(),
    )?;
    let password = Password::generate_random();
    seeds.write("code_password", "password", password.to_string().as_bytes())?;
    Ok(())
}

fn policies(seeds: &mut Seeds) -> Result<(), Box<dyn std::error::Error>> {
    let policy = "allow_assistance = true\nallow_control = true\nmax_lifetime = \"6h\"\n\
                  max_control_duration = \"10m\"\nclipboard = false\n\
                  trusted_orgs = [\"raorg1-AAAA\"]\nrequire_verified_helper = false\n\
                  allowed_displays = [0, 1]\nredact = [{ x = 10, y = 20, width = 300, height = 200 }]\n\
                  redact_windows = [\"KeePassXC\"]\n";
    seeds.write("policy_toml", "policy", policy.as_bytes())?;
    Ok(())
}

/// What a helper sends a host and a host a helper, once let in.
fn endpoints(seeds: &mut Seeds) -> Result<(), Box<dyn std::error::Error>> {
    let from_helper = [
        Message::Chat(proto::Chat {
            text: "hello".into(),
        }),
        Message::Pointer(proto::Pointer {
            x: 100,
            y: 50,
            kind: 1,
        }),
        Message::KeyframeRequest(proto::KeyframeRequest {}),
        Message::SelectDisplay(proto::SelectDisplay { id: 1 }),
        Message::ControlRequest(proto::ControlRequest::default()),
        Message::Clipboard(proto::Clipboard {
            text: "copied".into(),
        }),
        Message::Bye(proto::Bye::default()),
    ];
    let mut session = Vec::new();
    for (i, message) in from_helper.into_iter().enumerate() {
        let bytes = chunked(0, &envelope(message));
        seeds.write("host_endpoint", &format!("control-{i}"), &bytes)?;
        session.extend(bytes);
    }
    let input = proto::InputBatch {
        grant_id: 1,
        events: [
            InputEvent::PointerMove { x: 10, y: 20 },
            InputEvent::Button {
                button: MouseButton::Left,
                pressed: true,
            },
            InputEvent::Key {
                code: KeyCode(0x04),
                pressed: true,
            },
            InputEvent::Text { text: "hi".into() },
        ]
        .iter()
        .map(encode_input_event)
        .collect(),
        sent_at_ms: 1,
    };
    let input = chunked(1, &encode_frame(&input));
    seeds.write("host_endpoint", "input", &input)?;
    session.extend(input);
    seeds.write("host_endpoint", "session", &session)?;

    let from_host = [
        Message::DisplayList(proto::DisplayList {
            displays: vec![proto::Display::default(), proto::Display::default()],
            selected: 0,
        }),
        Message::Cursor(proto::Cursor {
            x: 5,
            y: 6,
            visible: true,
            shape: Some(proto::CursorImage::default()),
        }),
        Message::Chat(proto::Chat {
            text: "hi there".into(),
        }),
        Message::ControlDecision(proto::ControlDecision::default()),
        Message::ControlRevoked(proto::ControlRevoked::default()),
        Message::PauseState(proto::PauseState::default()),
        Message::ClipboardState(proto::ClipboardState { enabled: true }),
        Message::Redactions(proto::Redactions {
            areas: vec![proto::Rect {
                x: 1,
                y: 2,
                width: 3,
                height: 4,
            }],
        }),
        Message::Receipt(proto::Receipt::default()),
        Message::Error(proto::Error::default()),
    ];
    for (i, message) in from_host.into_iter().enumerate() {
        seeds.write(
            "helper_endpoint",
            &format!("control-{i}"),
            &chunked(0, &envelope(message)),
        )?;
    }
    Ok(())
}

/// Real video streams: a keyframe and a delta frame of a small picture.
fn video(seeds: &mut Seeds) -> Result<(), Box<dyn std::error::Error>> {
    let (width, height) = (64u32, 48u32);
    let mut encoder = OpenH264Encoder::new(EncoderSettings::default());
    for (i, shade) in [40u8, 200].into_iter().enumerate() {
        let mut pixels = vec![shade; (width * height * 4) as usize];
        for (n, pixel) in pixels.chunks_mut(4).enumerate() {
            pixel[0] = u8::try_from(n % 256).unwrap_or(0);
        }
        let frame = Frame {
            width,
            height,
            stride: (width * 4) as usize,
            data: &pixels,
            damage: Vec::new(),
            captured_at: Timestamp::now(),
            display: DisplayId(0),
        };
        let Some(encoded) = encoder.encode(&frame, i == 0)? else {
            continue;
        };
        let seq = u64::try_from(i + 1)?;
        let mut stream =
            encode_video_header(seq, &encoded, Some((1_000_000, Duration::from_millis(33))));
        stream.extend_from_slice(&encoded.data);
        seeds.write("video_stream", &format!("frame-{i}"), &stream)?;
        seeds.write("h264_decoder", &format!("frame-{i}"), &stream)?;
    }
    Ok(())
}

fn broker(seeds: &mut Seeds) -> Result<(), Box<dyn std::error::Error>> {
    let locals = vec![
        "192.168.1.20:50000".to_owned(),
        "[fe80::1]:50000".to_owned(),
    ];
    let peer = [
        peer_message::Message::Register(Register {
            lookup: "7G2KXW".into(),
            role: Role::Host as i32,
            local_addrs: locals.clone(),
            attach_key: vec![7; 16],
            ..Default::default()
        }),
        peer_message::Message::Claim(Claim {
            lookup: "7G2KXW".into(),
            role: Role::Helper as i32,
            local_addrs: locals.clone(),
        }),
        peer_message::Message::Attach(Attach {
            lookup: "7G2KXW".into(),
            attach_key: vec![7; 16],
            local_addrs: locals.clone(),
        }),
        peer_message::Message::Outcome(Outcome {
            match_id: 42,
            success: false,
        }),
        peer_message::Message::ReachProbe(ra_core::proto::broker::ReachProbe {
            port: 49152,
            nonce: vec![5; 16],
        }),
    ];
    let mut all = Vec::new();
    for (i, message) in peer.into_iter().enumerate() {
        let bytes = encode_frame(&PeerMessage {
            message: Some(message),
        });
        seeds.write("broker_stream", &format!("peer-{i}"), &bytes)?;
        all.extend(bytes);
    }
    let from_broker = [
        broker_message::Message::Registered(Registered {
            expires_at_unix_ms: 1_900_000_000_000,
            observed_addr: "198.51.100.7:50000".into(),
            other_nodes: vec!["192.0.2.2:4433".into(), "not an address".into()],
        }),
        broker_message::Message::Matched(Matched {
            match_id: 42,
            peer_observed_addr: "203.0.113.9:40000".into(),
            peer_local_addrs: locals,
            relay_addr: "192.0.2.1:3478".into(),
            relay_token: vec![1; 16],
            observed_addr: "198.51.100.7:50000".into(),
            try_direct: true,
            standby_relays: vec!["192.0.2.2:3478".into(), "192.0.2.1:3478".into()],
        }),
        broker_message::Message::Refused(Refused {
            reason: 1,
            retry_after_ms: 500,
        }),
        broker_message::Message::Closed(Closed { reason: 1 }),
    ];
    for (i, message) in from_broker.into_iter().enumerate() {
        let bytes = encode_frame(&BrokerMessage {
            message: Some(message),
        });
        seeds.write("broker_stream", &format!("broker-{i}"), &bytes)?;
        all.extend(bytes);
    }
    seeds.write("broker_stream", "all", &all)?;
    let datagrams = [
        RawDatagram::Probe,
        RawDatagram::Reach([5; 16]),
        RawDatagram::ProbeReply("198.51.100.7:50000".parse()?),
        RawDatagram::Bind([3; 16]),
        RawDatagram::Bound {
            token: [3; 16],
            paired: true,
        },
    ];
    for (i, datagram) in datagrams.iter().enumerate() {
        seeds.write(
            "relay_datagram",
            &format!("datagram-{i}"),
            &datagram.encode(),
        )?;
    }
    Ok(())
}

fn identity_and_receipt(seeds: &mut Seeds) -> Result<(), Box<dyn std::error::Error>> {
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs);
    let org = OrgKeyPair::generate("Contoso IT")?;
    let credential = org.issue("Jane Doe", at(0), at(86_400))?;
    let identity = credential.identity().to_text();
    seeds.write("identity", "identity", identity.as_bytes())?;
    let body = ReceiptBody {
        session_id: SessionId([7; 16]),
        host_name: "Alice's PC".into(),
        helper_name: "Jane".into(),
        helper_identity: Some(identity),
        approved_at: at(10),
        grants: vec![ReceiptGrant {
            scopes: "pointer,keyboard".into(),
            from: at(20),
            to: at(80),
            ended: "expired".into(),
        }],
        grants_not_listed: 0,
        ended_at: at(100),
        end_reason: "host_ended".into(),
        audit_head: None,
    };
    let key = HostReceiptKey::generate()?;
    let mut receipt = ConsentReceipt::sign(&body, &key)?;
    let signature = credential.sign(&receipt.countersignature_message());
    receipt.countersign(&signature)?;
    seeds.write("receipt", "receipt", receipt.to_text().as_bytes())?;

    let shared = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut log = AuditLog::new(Box::new(SharedWriter(shared.clone())));
    let session = Some(SessionId([7; 16]));
    for event in [
        AuditEvent::Approved {
            helper: "Jane".into(),
        },
        AuditEvent::Chat {
            from: "helper".into(),
            text: "hello".into(),
        },
        AuditEvent::Ended {
            reason: "host_ended".into(),
        },
    ] {
        log.record(AuditRecord::new(at(50), session, event))?;
    }
    let bytes = shared.lock().map(|b| b.clone()).unwrap_or_default();
    seeds.write("audit_log", "log", &bytes)?;
    Ok(())
}

/// A writer whose bytes stay readable after the log took it.
struct SharedWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buffer) = self.0.lock() {
            buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sealed ticket under the fuzz target's key (the selector byte first),
/// and a key file's text.
fn resume_tickets(seeds: &mut Seeds) -> Result<(), Box<dyn std::error::Error>> {
    use ra_core::resume::{ResumeTicket, TicketContents, TicketKey};
    let contents = TicketContents {
        session_id: SessionId([7; 16]),
        host_name: "Alice's PC".into(),
        certificate: vec![0x30; 64],
        private_key: vec![0x30; 48].into(),
        listen: "0.0.0.0:49152".parse()?,
        addresses: vec!["192.168.1.20:49152".parse()?],
    };
    let mut rng = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(7);
    let now = UNIX_EPOCH + Duration::from_secs(1_795_599_900);
    let ticket = ResumeTicket::new(contents, now, Duration::from_secs(600), &mut rng)?;
    let key = TicketKey::from_bytes(&[0x42; 32])?;
    let mut sealed = vec![1u8];
    sealed.extend(ticket.seal(&key, &mut rng)?);
    seeds.write("resume_ticket", "ticket", &sealed)?;
    let mut text = vec![0u8];
    text.extend(key.to_hex().as_bytes());
    seeds.write("resume_ticket", "key", &text)?;
    Ok(())
}
