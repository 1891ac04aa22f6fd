//! The host's audit log: who connected, when, what was granted, when it ended.
//!
//! One JSON object per line ("JSON Lines"), e.g.
//!
//! ```text
//! {"ts":"2026-11-25T09:00:00.000Z","session_id":"0123…","event":"invitation_opened","expires_at":"2026-11-25T15:00:00.000Z","addresses":["192.168.1.20:49152"]}
//! {"ts":"2026-11-25T09:03:12.481Z","session_id":"0123…","event":"approved","helper":"Bob"}
//! {"ts":"2026-11-25T09:04:40.007Z","session_id":"0123…","event":"control_granted"}
//! ```
//!
//! Times are RFC 3339 in UTC with milliseconds. Each record is written with a
//! single `write_all` of the whole line followed by a flush, so records from
//! several writers appending to one file never interleave.
//!
//! Each line ends with `"prev"`: the SHA-256 of the line its session wrote
//! before it (the first anchored to the session), so that a line edited,
//! deleted, inserted or reordered is found ([`chain::verify`], `ra-audit
//! verify`).

pub mod chain;

use std::collections::HashMap;
use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::invitation::SessionId;
use chain::ChainHash;

/// Why the audit log could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The log file could not be opened.
    #[error("cannot open audit log {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing a record failed.
    #[error("cannot write to the audit log: {0}")]
    Write(#[source] io::Error),
    /// A record could not be encoded (e.g. a time before 1970).
    #[error("cannot encode an audit record: {0}")]
    Encode(#[source] serde_json::Error),
    /// A line is not a valid audit record.
    #[error("invalid audit record: {0}")]
    Parse(#[source] serde_json::Error),
}

/// What happened. Serialized with its name in the `event` field
/// (`"event":"control_granted"`) and its data as sibling fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditEvent {
    /// The host opened an invitation.
    InvitationOpened {
        /// When the invitation expires.
        #[serde(with = "rfc3339_millis")]
        expires_at: SystemTime,
        /// Where the host listens.
        addresses: Vec<SocketAddr>,
    },
    /// A helper asked to connect (after authenticating).
    ConnectionRequest {
        /// The name the helper gave.
        helper: String,
        /// The helper's network address.
        peer: String,
        /// Who the helper is, when its organisation-signed identity was
        /// verified ("Jane Doe of Contoso IT (rahelper1-…)").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verified: Option<String>,
    },
    /// The host user approved a connection; the session is view-only.
    Approved {
        /// The helper's name.
        helper: String,
    },
    /// The connection was denied.
    Denied {
        /// The helper's name.
        helper: String,
        /// Why (by the user, policy, timeout…).
        reason: String,
    },
    /// A connection attempt failed authentication (wrong password).
    AuthFailed {
        /// The network address of the attempt.
        peer: String,
        /// Failed attempts so far for this invitation.
        attempts: u32,
    },
    /// The helper asked for control.
    ControlRequested,
    /// The host granted control.
    ControlGranted {
        /// What the grant covers (`pointer,keyboard,clipboard`); absent in
        /// records written before grants had scopes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scopes: Option<String>,
        /// When it ends by itself, if it does.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "rfc3339_millis_opt"
        )]
        expires_at: Option<SystemTime>,
    },
    /// Control was denied.
    ControlDenied {
        /// Why.
        reason: String,
    },
    /// Control was taken back.
    ControlRevoked {
        /// Why (by the user, panic key, pause, policy change…).
        reason: String,
    },
    /// The host paused the session.
    Paused,
    /// The host resumed the session.
    Resumed,
    /// The redaction mask changed: what never leaves the machine from now
    /// on (desktop coordinates; empty: nothing).
    Redactions {
        /// Every masked rectangle.
        areas: Vec<crate::media::Rect>,
        /// The classes of the masked windows, wherever they are.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        windows: Vec<String>,
    },
    /// The helper asked to watch a display: switched to it when the policy
    /// allows it, refused otherwise.
    DisplaySelected {
        /// The display's id.
        display: u32,
        /// Whether the policy allowed it.
        allowed: bool,
    },
    /// A chat message.
    Chat {
        /// Who wrote it.
        from: String,
        /// The message.
        text: String,
    },
    /// The session ended.
    Ended {
        /// Why.
        reason: String,
    },
    /// The invitation stopped accepting connections.
    InvitationClosed {
        /// Why (expired, cancelled, used…).
        reason: String,
    },
    /// The desktop's own consent: the person at the desk allowed sharing in
    /// the operating system's dialog (a Wayland desktop's portal), apart
    /// from ra's approval.
    DesktopConsent {
        /// Which desktop API asked (`portal`).
        api: String,
        /// How many monitors were shared.
        monitors: u32,
        /// Whether remote input was allowed too.
        input_allowed: bool,
    },
    /// Records were lost before this one: the log could not keep up (a
    /// stalled disk) and the session did not wait for it.
    RecordsLost {
        /// How many.
        count: u64,
    },
    /// Nothing arrived from the helper for a few seconds: the network went
    /// dark. Held keys and buttons were released, video held.
    ConnectionInterrupted,
    /// Packets arrive again after an interruption.
    ConnectionRestored {
        /// How long nothing arrived, in milliseconds.
        silent_ms: u64,
    },
    /// The host issued a single-use resume ticket for the live session.
    ResumeTicketIssued {
        /// The ticket's id (hex), as `session_resumed` names it.
        ticket: String,
        /// When it expires.
        #[serde(with = "rfc3339_millis")]
        expires_at: SystemTime,
    },
    /// The host re-opened the session from a resume ticket (after its
    /// application or machine restarted); the helper must be approved
    /// again, and control granted anew.
    SessionResumed {
        /// The ticket's id (hex).
        ticket: String,
        /// When the ticket expires: until then the helper may come back.
        #[serde(with = "rfc3339_millis")]
        expires_at: SystemTime,
    },
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When it happened (field `ts`, RFC 3339 with milliseconds).
    #[serde(rename = "ts", with = "rfc3339_millis")]
    pub at: SystemTime,
    /// The session it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    /// What happened.
    #[serde(flatten)]
    pub event: AuditEvent,
}

impl AuditRecord {
    /// A record of `event` at `at`.
    pub fn new(at: SystemTime, session_id: Option<SessionId>, event: AuditEvent) -> Self {
        Self {
            at,
            session_id,
            event,
        }
    }

    /// A record of `event` now (reads the system clock).
    pub fn now(session_id: Option<SessionId>, event: AuditEvent) -> Self {
        Self::new(SystemTime::now(), session_id, event)
    }

    /// The record as one line of JSON, without the line break.
    pub fn to_json_line(&self) -> Result<String, AuditError> {
        serde_json::to_string(self).map_err(AuditError::Encode)
    }

    /// Reads one line of the log (surrounding whitespace is ignored).
    pub fn from_json_line(line: &str) -> Result<Self, AuditError> {
        serde_json::from_str(line.trim()).map_err(AuditError::Parse)
    }
}

/// Times as RFC 3339 UTC with milliseconds (`2026-11-25T09:00:00.123Z`).
pub(crate) mod rfc3339_millis {
    use std::time::{SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Deserializer, Serializer, de, ser};

    /// 10000-01-01T00:00:00Z: RFC 3339 cannot write this or later.
    const END_SECS: u64 = 253_402_300_800;

    pub(crate) fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) if d.as_secs() < END_SECS => s.collect_str(&humantime::format_rfc3339_millis(*t)),
            _ => Err(ser::Error::custom("time out of range (1970 to 9999)")),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_rfc3339(&text)
            .map_err(|e| de::Error::custom(format!("invalid time \"{text}\": {e}")))
    }
}

/// Optional times as RFC 3339 UTC with milliseconds.
pub(crate) mod rfc3339_millis_opt {
    use std::time::SystemTime;

    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::rfc3339_millis::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        super::rfc3339_millis::deserialize(d).map(Some)
    }
}

/// The audit log writer: one JSON record per line to any [`Write`], each
/// line linked to the one its session wrote before ([`chain`]).
pub struct AuditLog {
    writer: Box<dyn Write + Send>,
    /// Each session's last line written, as a link.
    heads: HashMap<Option<SessionId>, ChainHash>,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// A log writing to `writer`. Give it an unbuffered writer (or one that
    /// writes through on flush): each record is one `write_all` and a flush.
    pub fn new(writer: Box<dyn Write + Send>) -> Self {
        Self {
            writer,
            heads: HashMap::new(),
        }
    }

    /// Opens `path` for appending, creating it (with mode 0600 on Unix: only
    /// the owner can read what helpers did) if needed. Each session's chain
    /// goes on from the last line it has in the file already (a session
    /// re-opened from a resume ticket after a restart, and the records of no
    /// session, stay one chain each).
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path).map_err(|source| AuditError::Open {
            path: path.to_owned(),
            source,
        })?;
        let heads = match std::fs::File::open(path) {
            Ok(existing) => chain::heads_of(io::BufReader::new(existing)),
            Err(_) => HashMap::new(),
        };
        Ok(Self {
            writer: Box::new(file),
            heads,
        })
    }

    /// Appends one record as a line, linked to the line its session wrote
    /// before (or anchored to the session), in a single write, and flushes.
    /// A record that could not be written does not become a link.
    pub fn record(&mut self, record: AuditRecord) -> Result<(), AuditError> {
        let json = record.to_json_line()?;
        let session = record.session_id;
        let prev = self
            .heads
            .get(&session)
            .copied()
            .unwrap_or_else(|| ChainHash::anchor(session));
        let line = chain::with_link(&json, prev);
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.writer.write_all(&bytes).map_err(AuditError::Write)?;
        self.writer.flush().map_err(AuditError::Write)?;
        self.heads
            .insert(session, ChainHash::of_line(line.as_bytes()));
        Ok(())
    }

    /// The last link of `session`'s chain (its last line's hash), once it
    /// wrote a line: what a consent receipt keeps so that lines cut from the
    /// end are found.
    pub fn head(&self, session: Option<SessionId>) -> Option<ChainHash> {
        self.heads.get(&session).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, UNIX_EPOCH};

    const T0: u64 = 1_795_597_200; // 2026-11-25T09:00:00Z

    /// A writer whose bytes and `write` calls the test can see.
    #[derive(Clone, Default)]
    struct Shared {
        bytes: Arc<Mutex<Vec<u8>>>,
        writes: Arc<Mutex<usize>>,
        flushes: Arc<Mutex<usize>>,
    }

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            *self.writes.lock().unwrap() += 1;
            self.bytes.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            *self.flushes.lock().unwrap() += 1;
            Ok(())
        }
    }

    fn all_events() -> Vec<AuditEvent> {
        vec![
            AuditEvent::InvitationOpened {
                expires_at: UNIX_EPOCH + Duration::from_secs(T0 + 6 * 3600),
                addresses: vec![
                    "192.168.1.20:49152".parse().unwrap(),
                    "[::1]:49152".parse().unwrap(),
                ],
            },
            AuditEvent::ConnectionRequest {
                helper: "Bob".into(),
                peer: "192.168.1.30:5000".into(),
                verified: None,
            },
            AuditEvent::Approved {
                helper: "Bob".into(),
            },
            AuditEvent::Denied {
                helper: "Mallory".into(),
                reason: "timeout".into(),
            },
            AuditEvent::AuthFailed {
                peer: "10.0.0.9:1234".into(),
                attempts: 3,
            },
            AuditEvent::ControlRequested,
            AuditEvent::ControlGranted {
                scopes: Some("pointer,keyboard".into()),
                expires_at: Some(UNIX_EPOCH + Duration::from_secs(T0 + 600)),
            },
            AuditEvent::ControlDenied {
                reason: "policy".into(),
            },
            AuditEvent::ControlRevoked {
                reason: "panic key".into(),
            },
            AuditEvent::Paused,
            AuditEvent::Resumed,
            AuditEvent::Chat {
                from: "Bob".into(),
                text: "line one\nline \"two\" {}\u{1}é".into(),
            },
            AuditEvent::Ended {
                reason: "by host".into(),
            },
            AuditEvent::InvitationClosed {
                reason: "expired".into(),
            },
            AuditEvent::ResumeTicketIssued {
                ticket: "00112233445566778899aabbccddeeff".into(),
                expires_at: UNIX_EPOCH + Duration::from_secs(T0 + 900),
            },
            AuditEvent::SessionResumed {
                ticket: "00112233445566778899aabbccddeeff".into(),
                expires_at: UNIX_EPOCH + Duration::from_secs(T0 + 600),
            },
        ]
    }

    #[test]
    fn grants_recorded_before_scopes_still_read() {
        let old = AuditRecord::from_json_line(
            "{\"ts\":\"2026-11-25T09:00:06.006Z\",\"event\":\"control_granted\"}",
        )
        .unwrap();
        assert_eq!(
            old.event,
            AuditEvent::ControlGranted {
                scopes: None,
                expires_at: None
            }
        );
    }

    /// A line without its chain field (the last member).
    fn unlinked(line: &str) -> String {
        let at = line.rfind(",\"prev\":\"").expect("a chain field");
        assert_eq!(line.len() - at, ",\"prev\":\"\"}".len() + 64, "{line}");
        format!("{}}}", &line[..at])
    }

    #[test]
    fn records_round_trip_one_per_line() {
        let shared = Shared::default();
        let mut log = AuditLog::new(Box::new(shared.clone()));
        let sid = SessionId(*b"0123456789abcdef");
        let records: Vec<AuditRecord> = all_events()
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let at = UNIX_EPOCH + Duration::from_millis(T0 * 1000 + i as u64 * 1001);
                AuditRecord::new(at, (i % 2 == 0).then_some(sid), e)
            })
            .collect();
        for r in &records {
            log.record(r.clone()).unwrap();
        }
        assert_eq!(*shared.writes.lock().unwrap(), records.len());
        assert_eq!(*shared.flushes.lock().unwrap(), records.len());

        let text = String::from_utf8(shared.bytes.lock().unwrap().clone()).unwrap();
        assert!(text.ends_with('\n'));
        // Two sessions interleaved (one of them "no session"): each its own chain.
        let summary = chain::verify(text.as_bytes()).unwrap();
        assert_eq!(summary.lines, records.len());
        assert_eq!(
            summary.heads,
            vec![
                (Some(sid), log.head(Some(sid)).unwrap()),
                (None, log.head(None).unwrap())
            ]
        );
        let lines: Vec<String> = text.lines().map(unlinked).collect();
        assert_eq!(lines.len(), records.len());
        for (line, record) in lines.iter().zip(&records) {
            assert_eq!(&AuditRecord::from_json_line(line).unwrap(), record);
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(value["ts"].is_string() && value["event"].is_string());
        }
        assert_eq!(
            lines[0],
            "{\"ts\":\"2026-11-25T09:00:00.000Z\",\"session_id\":\"30313233343536373839616263646566\",\
             \"event\":\"invitation_opened\",\"expires_at\":\"2026-11-25T15:00:00.000Z\",\
             \"addresses\":[\"192.168.1.20:49152\",\"[::1]:49152\"]}"
        );
        assert_eq!(
            lines[1],
            "{\"ts\":\"2026-11-25T09:00:01.001Z\",\"event\":\"connection_request\",\
             \"helper\":\"Bob\",\"peer\":\"192.168.1.30:5000\"}"
        );
        assert_eq!(
            lines[6],
            "{\"ts\":\"2026-11-25T09:00:06.006Z\",\"session_id\":\"30313233343536373839616263646566\",\
             \"event\":\"control_granted\",\"scopes\":\"pointer,keyboard\",\
             \"expires_at\":\"2026-11-25T09:10:00.000Z\"}"
        );
        let names: Vec<String> = lines
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "invitation_opened",
                "connection_request",
                "approved",
                "denied",
                "auth_failed",
                "control_requested",
                "control_granted",
                "control_denied",
                "control_revoked",
                "paused",
                "resumed",
                "chat",
                "ended",
                "invitation_closed",
                "resume_ticket_issued",
                "session_resumed"
            ]
        );
    }

    #[test]
    fn bad_records() {
        let shared = Shared::default();
        let mut log = AuditLog::new(Box::new(shared.clone()));
        let before_1970 = AuditRecord::new(
            UNIX_EPOCH - Duration::from_secs(1),
            None,
            AuditEvent::Paused,
        );
        assert!(matches!(
            log.record(before_1970),
            Err(AuditError::Encode(_))
        ));
        assert!(shared.bytes.lock().unwrap().is_empty());

        for line in [
            "",
            "{}",
            "{\"ts\":\"2026-11-25T09:00:00.000Z\"}",
            "{\"ts\":\"yesterday\",\"event\":\"paused\"}",
            "{\"ts\":\"2026-11-25T09:00:00.000Z\",\"event\":\"exploded\"}",
            "{\"ts\":\"2026-11-25T09:00:00.000Z\",\"event\":\"approved\"}",
            "{\"ts\":\"2026-11-25T09:00:00.000Z\",\"session_id\":\"12\",\"event\":\"paused\"}",
        ] {
            assert!(
                matches!(AuditRecord::from_json_line(line), Err(AuditError::Parse(_))),
                "{line}"
            );
        }
    }

    #[test]
    fn write_errors_are_reported() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut log = AuditLog::new(Box::new(Broken));
        let err = log
            .record(AuditRecord::now(None, AuditEvent::Resumed))
            .unwrap_err();
        assert!(matches!(err, AuditError::Write(_)));
        assert!(err.to_string().contains("disk full"));
    }

    #[test]
    fn file_appends_with_private_mode() {
        let dir = std::env::temp_dir().join(format!("ra-audit-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let sid = SessionId::generate_random();
        {
            let mut log = AuditLog::open(&path).unwrap();
            log.record(AuditRecord::now(Some(sid), AuditEvent::ControlRequested))
                .unwrap();
        }
        {
            let mut log = AuditLog::open(&path).unwrap();
            log.record(AuditRecord::now(
                Some(sid),
                AuditEvent::Ended {
                    reason: "done".into(),
                },
            ))
            .unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let records: Vec<AuditRecord> = text
            .lines()
            .map(|l| AuditRecord::from_json_line(l).unwrap())
            .collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].event, AuditEvent::ControlRequested);
        assert_eq!(records[1].session_id, Some(sid));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            AuditLog::open(&dir.join("no/such/dir.jsonl")),
            Err(AuditError::Open { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
