//! The invitation file: its text (see the module documentation of
//! `invitation`), the strict parser, and reading and writing it on disk.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::rules::{check_address, check_host_name, check_times, format_time, parse_time, shorten};
use super::{
    CertFingerprint, INVITATION_VERSION, MAX_ADDRESSES, MAX_INVITATION_FILE_SIZE, SessionId,
};
use super::{Invitation, InvitationError, Rendezvous};
use crate::code::Lookup;
use crate::text::is_unsafe_char;

fn syntax(line: usize, message: impl Into<String>) -> InvitationError {
    InvitationError::Syntax {
        line,
        message: message.into(),
    }
}

/// Rejects a second occurrence of a single-valued key.
fn check_first<T>(
    slot: &Option<(T, usize)>,
    key: &str,
    line: usize,
) -> Result<(), InvitationError> {
    match slot {
        Some((_, first)) => Err(syntax(
            line,
            format!("duplicate key `{key}` (first on line {first})"),
        )),
        None => Ok(()),
    }
}

fn required<T>(slot: Option<(T, usize)>, key: &'static str) -> Result<(T, usize), InvitationError> {
    slot.ok_or(InvitationError::MissingKey { key })
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over
/// `path`, so that a crash leaves either the old file or the new one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp = dir.join(format!(
        ".{}.{}-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

impl Invitation {
    /// The invitation file's text (see the [module documentation](self)).
    ///
    /// Only an invitation that passes [`validate`](Self::validate) gives a file
    /// that [`parse_file`](Self::parse_file) reads back.
    pub fn to_file_string(&self) -> String {
        use std::fmt::Write as _;
        let host_name: String = self
            .host_name
            .chars()
            .map(|c| if is_unsafe_char(c) { '\u{FFFD}' } else { c })
            .collect();
        let mut out = String::with_capacity(512);
        out.push_str("# ra remote-assistance invitation. Open it with an ra helper program.\n");
        out.push_str(
            "# The password is not in this file: the person who invited you tells it to you.\n",
        );
        // Writing to a String cannot fail.
        let _ = writeln!(out, "ra-invitation: {}", self.version);
        let _ = writeln!(out, "session-id: {}", self.session_id);
        let _ = writeln!(out, "host-name: {host_name}");
        for address in &self.addresses {
            let _ = writeln!(out, "address: {address}");
        }
        let _ = writeln!(out, "fingerprint: {}", self.fingerprint);
        let _ = writeln!(out, "created: {}", format_time(self.created_at));
        let _ = writeln!(out, "expires: {}", format_time(self.expires_at));
        if let Some(rendezvous) = &self.rendezvous {
            let _ = writeln!(out, "rendezvous-lookup: {}", rendezvous.lookup);
            let _ = writeln!(out, "rendezvous-broker: {}", rendezvous.broker);
            let _ = writeln!(
                out,
                "rendezvous-broker-fingerprint: {}",
                rendezvous.broker_fingerprint
            );
        }
        out
    }

    /// Reads an invitation file's bytes, strictly: at most
    /// [`MAX_INVITATION_FILE_SIZE`] bytes of UTF-8, the `ra-invitation` header
    /// first, known keys only, each once (`address` 1–16 times). Errors name the
    /// line. Blank lines, `#` comments, CRLF line ends and a leading byte-order
    /// mark are accepted.
    pub fn parse_file(bytes: &[u8]) -> Result<Self, InvitationError> {
        if bytes.len() > MAX_INVITATION_FILE_SIZE {
            return Err(InvitationError::TooLarge {
                size: bytes.len() as u64,
                max: MAX_INVITATION_FILE_SIZE as u64,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
            InvitationError::NotUtf8 {
                line: valid.iter().filter(|b| **b == b'\n').count() + 1,
            }
        })?;
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);

        let mut header_line: Option<usize> = None;
        let mut session_id: Option<(SessionId, usize)> = None;
        let mut host_name: Option<(String, usize)> = None;
        let mut addresses: Vec<SocketAddr> = Vec::new();
        let mut fingerprint: Option<(CertFingerprint, usize)> = None;
        let mut created: Option<(SystemTime, usize)> = None;
        let mut expires: Option<(SystemTime, usize)> = None;
        let mut lookup: Option<(Lookup, usize)> = None;
        let mut broker: Option<(SocketAddr, usize)> = None;
        let mut broker_fingerprint: Option<(CertFingerprint, usize)> = None;

        for (index, raw) in text.split('\n').enumerate() {
            let line = index + 1;
            let content = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = content.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(c) = content.chars().find(|c| c.is_control() && *c != '\t') {
                return Err(syntax(
                    line,
                    format!("control character U+{:04X}", u32::from(c)),
                ));
            }
            let Some((key, value)) = content.split_once(':') else {
                return Err(syntax(
                    line,
                    format!("expected `key: value`, found `{}`", shorten(trimmed)),
                ));
            };
            let (key, value) = (key.trim(), value.trim());

            let Some(first) = header_line else {
                if key != "ra-invitation" {
                    return Err(syntax(
                        line,
                        format!(
                            "expected the header `ra-invitation: {INVITATION_VERSION}`, found `{}`; is this an ra invitation file?",
                            shorten(trimmed)
                        ),
                    ));
                }
                let version: u32 = value
                    .parse()
                    .map_err(|_| syntax(line, format!("invalid version `{}`", shorten(value))))?;
                if version != INVITATION_VERSION {
                    return Err(InvitationError::UnsupportedVersion {
                        version,
                        supported: INVITATION_VERSION,
                    });
                }
                header_line = Some(line);
                continue;
            };

            match key {
                "ra-invitation" => {
                    return Err(syntax(
                        line,
                        format!("duplicate key `ra-invitation` (first on line {first})"),
                    ));
                }
                "session-id" => {
                    check_first(&session_id, key, line)?;
                    let id = value.parse().map_err(|e| {
                        syntax(
                            line,
                            format!("invalid session id `{}`: {e}", shorten(value)),
                        )
                    })?;
                    session_id = Some((id, line));
                }
                "host-name" => {
                    check_first(&host_name, key, line)?;
                    check_host_name(value).map_err(|m| syntax(line, m))?;
                    host_name = Some((value.to_owned(), line));
                }
                "address" => {
                    if addresses.len() == MAX_ADDRESSES {
                        return Err(syntax(
                            line,
                            format!("too many addresses (at most {MAX_ADDRESSES})"),
                        ));
                    }
                    let address: SocketAddr = value.parse().map_err(|_| {
                        syntax(
                            line,
                            format!(
                                "invalid address `{}` (expected an IP address and a port, e.g. 192.168.1.20:49152 or [::1]:49152)",
                                shorten(value)
                            ),
                        )
                    })?;
                    check_address(&address).map_err(|m| syntax(line, m))?;
                    addresses.push(address);
                }
                "fingerprint" => {
                    check_first(&fingerprint, key, line)?;
                    let fp = value.parse().map_err(|e| {
                        syntax(
                            line,
                            format!("invalid fingerprint `{}`: {e}", shorten(value)),
                        )
                    })?;
                    fingerprint = Some((fp, line));
                }
                "created" => {
                    check_first(&created, key, line)?;
                    let time = parse_time(value).map_err(|m| syntax(line, m))?;
                    created = Some((time, line));
                }
                "expires" => {
                    check_first(&expires, key, line)?;
                    let time = parse_time(value).map_err(|m| syntax(line, m))?;
                    expires = Some((time, line));
                }
                "rendezvous-lookup" => {
                    check_first(&lookup, key, line)?;
                    let parsed = Lookup::parse(value).map_err(|e| {
                        syntax(
                            line,
                            format!("invalid rendezvous lookup `{}`: {e}", shorten(value)),
                        )
                    })?;
                    lookup = Some((parsed, line));
                }
                "rendezvous-broker" => {
                    check_first(&broker, key, line)?;
                    let address: SocketAddr = value.parse().map_err(|_| {
                        syntax(
                            line,
                            format!(
                                "invalid broker address `{}` (expected IP:port)",
                                shorten(value)
                            ),
                        )
                    })?;
                    check_address(&address).map_err(|m| syntax(line, m))?;
                    broker = Some((address, line));
                }
                "rendezvous-broker-fingerprint" => {
                    check_first(&broker_fingerprint, key, line)?;
                    let fp = value.parse().map_err(|e| {
                        syntax(
                            line,
                            format!("invalid broker fingerprint `{}`: {e}", shorten(value)),
                        )
                    })?;
                    broker_fingerprint = Some((fp, line));
                }
                _ => {
                    return Err(syntax(line, format!("unknown key `{}`", shorten(key))));
                }
            }
        }

        if header_line.is_none() {
            return Err(syntax(
                1,
                format!(
                    "no `ra-invitation: {INVITATION_VERSION}` header; is this an ra invitation file?"
                ),
            ));
        }
        let (session_id, _) = required(session_id, "session-id")?;
        let (host_name, _) = required(host_name, "host-name")?;
        if addresses.is_empty() {
            return Err(InvitationError::MissingKey { key: "address" });
        }
        let (fingerprint, _) = required(fingerprint, "fingerprint")?;
        let (created_at, _) = required(created, "created")?;
        let (expires_at, expires_line) = required(expires, "expires")?;
        check_times(created_at, expires_at).map_err(|m| syntax(expires_line, m))?;
        let rendezvous = match (lookup, broker, broker_fingerprint) {
            (None, None, None) => None,
            (Some((lookup, _)), Some((broker, _)), Some((broker_fingerprint, _))) => {
                Some(Rendezvous {
                    lookup,
                    broker,
                    broker_fingerprint,
                })
            }
            (lookup, broker, _) => {
                return Err(InvitationError::MissingKey {
                    key: if lookup.is_none() {
                        "rendezvous-lookup"
                    } else if broker.is_none() {
                        "rendezvous-broker"
                    } else {
                        "rendezvous-broker-fingerprint"
                    },
                });
            }
        };

        let invitation = Self {
            version: INVITATION_VERSION,
            session_id,
            host_name,
            addresses,
            fingerprint,
            created_at,
            expires_at,
            rendezvous,
        };
        invitation.validate()?;
        Ok(invitation)
    }

    /// Validates the invitation, then writes its file to `path` through a
    /// temporary file and a rename, so a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), InvitationError> {
        self.validate()?;
        write_atomically(path, self.to_file_string().as_bytes()).map_err(|source| {
            InvitationError::Io {
                path: path.to_owned(),
                source,
            }
        })
    }

    /// Reads and parses an invitation file, refusing files larger than
    /// [`MAX_INVITATION_FILE_SIZE`] without reading them whole.
    pub fn load(path: &Path) -> Result<Self, InvitationError> {
        let io_error = |source| InvitationError::Io {
            path: path.to_owned(),
            source,
        };
        let max = MAX_INVITATION_FILE_SIZE as u64;
        let file = File::open(path).map_err(io_error)?;
        if let Ok(metadata) = file.metadata()
            && metadata.is_file()
            && metadata.len() > max
        {
            return Err(InvitationError::TooLarge {
                size: metadata.len(),
                max,
            });
        }
        let mut bytes = Vec::with_capacity(1024);
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        if bytes.len() as u64 > max {
            return Err(InvitationError::TooLarge {
                size: bytes.len() as u64,
                max,
            });
        }
        Self::parse_file(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invitation::testing::sample;
    use data_encoding::HEXLOWER;
    use std::net::{IpAddr, Ipv6Addr};
    fn file_err(text: &str) -> InvitationError {
        Invitation::parse_file(text.as_bytes()).unwrap_err()
    }

    fn syntax_line(err: &InvitationError) -> usize {
        match err {
            InvitationError::Syntax { line, .. } => *line,
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    /// The sample file with line `n` (1-based) replaced.
    fn with_line(n: usize, replacement: &str) -> String {
        sample()
            .to_file_string()
            .lines()
            .enumerate()
            .map(|(i, l)| if i + 1 == n { replacement } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_rendezvous_round_trips_and_must_be_whole() {
        let inv = crate::invitation::testing::sample_with_rendezvous();
        let text = inv.to_file_string();
        assert!(text.contains("rendezvous-lookup: K7M2QX\n"), "{text}");
        assert!(
            text.contains("rendezvous-broker: 203.0.113.1:4433\n"),
            "{text}"
        );
        assert_eq!(Invitation::parse_file(text.as_bytes()).unwrap(), inv);
        for key in [
            "rendezvous-lookup",
            "rendezvous-broker",
            "rendezvous-broker-fingerprint",
        ] {
            let partial: String = text
                .lines()
                .filter(|l| !l.starts_with(&format!("{key}:")))
                .map(|l| format!("{l}\n"))
                .collect();
            assert!(
                matches!(
                    Invitation::parse_file(partial.as_bytes()),
                    Err(InvitationError::MissingKey { key: k }) if k == key
                ),
                "{key}"
            );
        }
        let bad = text.replace("K7M2QX", "K7M2Q!");
        let err = Invitation::parse_file(bad.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("rendezvous lookup"), "{err}");
        let twice = format!("{text}rendezvous-broker: 203.0.113.2:4433\n");
        let err = Invitation::parse_file(twice.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("duplicate key"), "{err}");
    }

    #[test]
    fn file_round_trip_and_format() {
        let inv = sample();
        let text = inv.to_file_string();
        let expected = format!(
            "# ra remote-assistance invitation. Open it with an ra helper program.\n\
             # The password is not in this file: the person who invited you tells it to you.\n\
             ra-invitation: 1\n\
             session-id: 30313233343536373839616263646566\n\
             host-name: Alice's laptop\n\
             address: 192.168.1.20:49152\n\
             address: [::1]:49152\n\
             fingerprint: sha256:{}\n\
             created: 2026-11-25T09:00:00Z\n\
             expires: 2026-11-25T15:00:00Z\n",
            HEXLOWER.encode(&inv.fingerprint.0)
        );
        assert_eq!(text, expected);
        assert_eq!(Invitation::parse_file(text.as_bytes()).unwrap(), inv);

        // CRLF, BOM, blank lines, comments, extra spaces, other key order.
        let crlf = format!("\u{FEFF}\r\n# hi\r\n{}", text.replace('\n', "\r\n\r\n"));
        assert_eq!(Invitation::parse_file(crlf.as_bytes()).unwrap(), inv);
        let lines: Vec<&str> = text.lines().collect();
        let order = [2, 9, 8, 7, 3, 5, 4, 6];
        let shuffled = order
            .map(|i| lines[i])
            .join("\n")
            .replace("host-name: ", "  host-name :   ");
        assert_eq!(Invitation::parse_file(shuffled.as_bytes()).unwrap(), inv);

        // Non-ASCII host name and IPv6 with scope.
        let mut inv2 = inv.clone();
        inv2.host_name = "Zoë — 東京".into();
        inv2.addresses = vec![SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 7)];
        assert_eq!(
            Invitation::parse_file(inv2.to_file_string().as_bytes()).unwrap(),
            inv2
        );
    }

    #[test]
    fn save_and_load() {
        let dir = std::env::temp_dir().join(format!("ra-inv-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.rainv");
        let inv = sample();
        inv.save(&path).unwrap();
        assert_eq!(Invitation::load(&path).unwrap(), inv);
        // Overwrite, and no temporary file left behind.
        inv.save(&path).unwrap();
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.rainv")]);

        // Oversized file: refused.
        let big = dir.join("big.rainv");
        fs::write(&big, vec![b'#'; MAX_INVITATION_FILE_SIZE + 1]).unwrap();
        assert!(matches!(
            Invitation::load(&big),
            Err(InvitationError::TooLarge { size, max: 16384 }) if size == 16385
        ));
        // Exactly at the limit: read (and rejected for its content only).
        fs::write(&big, vec![b'#'; MAX_INVITATION_FILE_SIZE]).unwrap();
        assert!(matches!(
            Invitation::load(&big),
            Err(InvitationError::Syntax { line: 1, .. })
        ));

        let missing = Invitation::load(&dir.join("nope")).unwrap_err();
        assert!(matches!(missing, InvitationError::Io { .. }));
        assert!(missing.to_string().contains("nope"));
        // Invalid invitations are not saved.
        let mut bad = sample();
        bad.addresses.clear();
        assert!(bad.save(&dir.join("bad.rainv")).is_err());
        assert!(!dir.join("bad.rainv").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_errors() {
        let good = sample().to_file_string();

        // Size, encoding, emptiness.
        let err = Invitation::parse_file(&vec![b' '; MAX_INVITATION_FILE_SIZE + 1]).unwrap_err();
        assert!(matches!(
            err,
            InvitationError::TooLarge {
                size: 16385,
                max: 16384
            }
        ));
        let mut bytes = good.clone().into_bytes();
        let at = good.find("Alice").unwrap();
        bytes[at] = 0xff;
        assert!(matches!(
            Invitation::parse_file(&bytes),
            Err(InvitationError::NotUtf8 { line: 5 })
        ));
        assert_eq!(syntax_line(&file_err("")), 1);
        assert_eq!(syntax_line(&file_err("# only a comment\n\n")), 1);

        // Truncated: every proper prefix made of whole lines is an error.
        let lines: Vec<&str> = good.lines().collect();
        for n in 0..lines.len() {
            let truncated = lines[..n].join("\n");
            assert!(
                Invitation::parse_file(truncated.as_bytes()).is_err(),
                "{n} lines"
            );
        }
        // Cut in the middle of the last line.
        let cut = &good[..good.len() - 5];
        assert!(matches!(
            file_err(cut),
            InvitationError::Syntax { line: 10, .. }
        ));

        // Header.
        let err = file_err(&with_line(3, "ra-invitation: 2"));
        assert!(matches!(
            err,
            InvitationError::UnsupportedVersion {
                version: 2,
                supported: 1
            }
        ));
        assert_eq!(
            syntax_line(&file_err(&with_line(3, "ra-invitation: one"))),
            3
        );
        let err = file_err(&with_line(3, "session-id: 00"));
        assert_eq!(syntax_line(&err), 3);
        assert!(err.to_string().contains("ra-invitation"), "{err}");
        assert_eq!(syntax_line(&file_err(&with_line(4, "ra-invitation: 1"))), 4);

        // Unknown key, with its line number.
        let err = file_err(&with_line(5, "hostname: Alice"));
        assert_eq!(
            err.to_string(),
            "invitation file line 5: unknown key `hostname`"
        );
        assert_eq!(syntax_line(&file_err(&with_line(5, "no colon here"))), 5);

        // Duplicate keys.
        let dup = format!("{good}session-id: 00000000000000000000000000000000\n");
        let err = file_err(&dup);
        assert_eq!(
            err.to_string(),
            "invitation file line 11: duplicate key `session-id` (first on line 4)"
        );
        let dup = format!("{good}expires: 2026-11-25T16:00:00Z\n");
        assert_eq!(syntax_line(&file_err(&dup)), 11);

        // Missing keys.
        for (n, key) in [
            (4, "session-id"),
            (5, "host-name"),
            (8, "fingerprint"),
            (9, "created"),
            (10, "expires"),
        ] {
            let err = file_err(&with_line(n, "# removed"));
            assert!(
                matches!(&err, InvitationError::MissingKey { key: k } if *k == key),
                "{key}: {err:?}"
            );
        }
        let no_address = with_line(6, "").replace("address: [::1]:49152", "");
        assert!(matches!(
            file_err(&no_address),
            InvitationError::MissingKey { key: "address" }
        ));

        // Too many addresses.
        let mut many = good.clone();
        for p in 1..=15 {
            many.push_str(&format!("address: 10.0.0.1:{p}\n"));
        }
        assert_eq!(syntax_line(&file_err(&many)), 25);

        // Bad values.
        for (n, line) in [
            (4, "session-id: 0123"),
            (4, "session-id: zz313233343536373839616263646566"),
            (5, "host-name:"),
            (5, &format!("host-name: {}", "x".repeat(65))),
            (6, "address: 192.168.1.20"),
            (6, "address: 192.168.1.300:5"),
            (6, "address: example.com:5"),
            (6, "address: ::1:5"),
            (6, "address: 0.0.0.0:5"),
            (6, "address: 10.0.0.1:0"),
            (8, "fingerprint: 00"),
            (8, "fingerprint: md5:0011"),
            (8, &format!("fingerprint: sha256:{}", "g".repeat(64))),
            (9, "created: yesterday"),
            (9, "created: 2026-11-25T09:00:00.5Z"),
            (9, "created: 2026-13-25T09:00:00Z"),
            (9, "created: 1969-12-31T23:59:59Z"),
            (10, "expires: 2026-11-25T09:00:00Z"),
            (10, "expires: 2026-11-25T08:00:00Z"),
            (10, "expires: 2026-11-25 15:00"),
        ] {
            let err = file_err(&with_line(n, line));
            assert_eq!(syntax_line(&err), n, "{line}: {err}");
        }
        // A control character inside a value.
        assert_eq!(
            syntax_line(&file_err(&with_line(5, "host-name: a\u{7}b"))),
            5
        );
        assert_eq!(syntax_line(&file_err(&with_line(5, "host-name: a\rb"))), 5);
        // Messages stay short even for huge values.
        let err = file_err(&with_line(7, &format!("what{}: x", "e".repeat(5000))));
        assert!(err.to_string().len() < 200);
    }
}
