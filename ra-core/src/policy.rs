//! The host's policy: switches the engine enforces, whatever the embedding
//! application asks for.
//!
//! The policy is usually written by an administrator as a TOML file; every key
//! is optional and durations are written the human way:
//!
//! ```toml
//! allow_assistance = true          # "Allow Remote Assistance connections"
//! allow_control = true             # "Allow this computer to be controlled remotely"
//! max_invitation_lifetime = "6h"
//! approval_timeout = "60s"
//! allow_clipboard = false
//! ```
//!
//! A typo or a bad value is an error that names its line and column.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::identity::{HelperPublicKey, OrgPublicKey};
use crate::media::Rect;
use serde::{Deserialize, Serialize};

/// Largest policy file read, in bytes.
pub const MAX_POLICY_FILE_SIZE: usize = 64 * 1024;

/// Longest duration a policy accepts (one year).
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Why a policy could not be read, checked or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Reading or writing the file failed.
    #[error("cannot access policy file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is larger than [`MAX_POLICY_FILE_SIZE`].
    #[error("policy file is too large: more than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// A syntax error, an unknown key or a bad value, at a known place.
    #[error("policy file line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The policy is wrong as a whole (or the error has no known place).
    #[error("invalid policy: {0}")]
    Invalid(String),
    /// The policy could not be written as TOML.
    #[error("cannot write the policy as TOML: {0}")]
    Serialize(String),
}

/// The host-side switches enforced by the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Whether invitations can be opened at all ("Allow Remote Assistance
    /// connections"). Default: true.
    pub allow_assistance: bool,
    /// Whether a helper may be granted control ("Allow this computer to be
    /// controlled remotely"); when false, sessions stay view-only. Default: true.
    pub allow_control: bool,
    /// The longest an invitation stays valid. Default: 6 hours, as in Windows
    /// Remote Assistance.
    #[serde(with = "humantime_duration")]
    pub max_invitation_lifetime: Duration,
    /// How long a connection request waits for the host user to answer before
    /// it is denied. Default: 60 seconds.
    #[serde(with = "humantime_duration")]
    pub approval_timeout: Duration,
    /// Whether the clipboard may be shared. Default: false.
    pub allow_clipboard: bool,
    /// Organisations whose helper identities this host trusts (`raorg1-…`,
    /// see [`crate::identity`]). Default: none.
    pub trusted_orgs: Vec<OrgPublicKey>,
    /// Whether only helpers with an identity from a trusted organisation may
    /// connect: others are refused before the host is asked. Needs at least
    /// one of `trusted_orgs`. Default: false.
    pub require_verified_helper: bool,
    /// Helpers' keys (`rahelper1-…`) no longer trusted, whoever issued them.
    /// Default: none.
    pub revoked_helpers: Vec<HelperPublicKey>,
    /// The longest any grant of control lasts (it is revoked then, and the
    /// helper may ask again); `None`: until revoked. Default: none.
    #[serde(
        default,
        with = "humantime_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_control_duration: Option<Duration>,
    /// The displays (ids, as the capturer numbers them) a helper may see;
    /// `None`: all. The helper is shown only these, can select only these,
    /// and no picture goes out until one of them is captured. "All displays
    /// as one picture" is allowed only when every display is. Default: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_displays: Option<Vec<u32>>,
    /// Parts of the desktop that never leave the machine (desktop
    /// coordinates, `{ x = 0, y = 0, width = 200, height = 100 }`): painted
    /// black before encoding, pointer presses inside them dropped, the
    /// helper told where they are. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact: Vec<Rect>,
    /// Windows that never leave the machine, by class (X11 `WM_CLASS`,
    /// class or instance name, without case: `["KeePassXC"]`): the mask
    /// follows them as they move. Needs a screen that can find windows (X11).
    /// Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact_windows: Vec<String>,
    /// Whether the host may issue a single-use resume ticket for a live
    /// session, with which it re-opens that session after its application
    /// or machine restarts (the host's user is asked again; control never
    /// comes back without a new grant). Default: false.
    pub allow_resume_tickets: bool,
    /// The longest a resume ticket stays valid (at most 15 minutes,
    /// [`crate::resume::MAX_RESUME_TICKET_LIFETIME`]). Default: 15 minutes.
    #[serde(with = "humantime_duration")]
    pub max_resume_ticket_lifetime: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allow_assistance: true,
            allow_control: true,
            max_invitation_lifetime: Duration::from_secs(6 * 3600),
            approval_timeout: Duration::from_secs(60),
            allow_clipboard: false,
            trusted_orgs: Vec::new(),
            require_verified_helper: false,
            revoked_helpers: Vec::new(),
            max_control_duration: None,
            allowed_displays: None,
            redact: Vec::new(),
            redact_windows: Vec::new(),
            allow_resume_tickets: false,
            max_resume_ticket_lifetime: crate::resume::MAX_RESUME_TICKET_LIFETIME,
        }
    }
}

/// Durations as humantime strings (`"6h"`, `"1h 30m"`, `"90s"`).
mod humantime_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*d))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration \"{text}\": {e} (write e.g. \"6h\", \"90m\" or \"60s\")"
            ))
        })
    }
}

/// Optional durations as humantime strings.
mod humantime_duration_opt {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::humantime_duration::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        super::humantime_duration::deserialize(d).map(Some)
    }
}

/// 1-based line and column (in characters) of byte offset `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

impl Policy {
    /// Reads a policy from TOML text. Missing keys take their default; unknown
    /// keys and bad values are errors that name their line and column.
    pub fn from_toml_str(text: &str) -> Result<Self, PolicyError> {
        let policy: Self = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end().to_owned();
            match e.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    PolicyError::Syntax {
                        line,
                        column,
                        message,
                    }
                }
                None => PolicyError::Invalid(message),
            }
        })?;
        policy.validate()?;
        Ok(policy)
    }

    /// The policy as TOML, every key written.
    pub fn to_toml_string(&self) -> Result<String, PolicyError> {
        toml::to_string(self).map_err(|e| PolicyError::Serialize(e.to_string()))
    }

    /// Checks the values: durations are more than zero and at most a year;
    /// requiring verified helpers needs a trusted organisation; a list of
    /// allowed displays is not empty.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.require_verified_helper && self.trusted_orgs.is_empty() {
            return Err(PolicyError::Invalid(
                "require_verified_helper needs at least one key in trusted_orgs".into(),
            ));
        }
        if self.redact.iter().any(Rect::is_empty) {
            return Err(PolicyError::Invalid(
                "a redact rectangle is empty (width and height must be more than 0)".into(),
            ));
        }
        if self.redact.len() > crate::redact::MAX_REDACTIONS {
            return Err(PolicyError::Invalid(format!(
                "redact lists {} rectangles (at most {})",
                self.redact.len(),
                crate::redact::MAX_REDACTIONS
            )));
        }
        if let Err(e) = crate::redact::check_window_classes(&self.redact_windows) {
            return Err(PolicyError::Invalid(format!("redact_windows: {e}")));
        }
        if self.allowed_displays.as_ref().is_some_and(Vec::is_empty) {
            return Err(PolicyError::Invalid(
                "allowed_displays is empty: list at least one display, or leave it out to allow all"
                    .into(),
            ));
        }
        if self.max_resume_ticket_lifetime > crate::resume::MAX_RESUME_TICKET_LIFETIME {
            return Err(PolicyError::Invalid(format!(
                "max_resume_ticket_lifetime must be at most {}",
                humantime::format_duration(crate::resume::MAX_RESUME_TICKET_LIFETIME)
            )));
        }
        let control = self
            .max_control_duration
            .map(|d| ("max_control_duration", d));
        for (name, value) in [
            ("max_invitation_lifetime", self.max_invitation_lifetime),
            ("approval_timeout", self.approval_timeout),
            (
                "max_resume_ticket_lifetime",
                self.max_resume_ticket_lifetime,
            ),
        ]
        .into_iter()
        .chain(control)
        {
            if value.is_zero() {
                return Err(PolicyError::Invalid(format!(
                    "{name} must be more than zero"
                )));
            }
            if value > MAX_DURATION {
                return Err(PolicyError::Invalid(format!(
                    "{name} must be at most {}",
                    humantime::format_duration(MAX_DURATION)
                )));
            }
        }
        Ok(())
    }

    /// Reads a policy file (at most [`MAX_POLICY_FILE_SIZE`] bytes).
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let io_error = |source| PolicyError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        let mut bytes = Vec::new();
        file.take(MAX_POLICY_FILE_SIZE as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        if bytes.len() > MAX_POLICY_FILE_SIZE {
            return Err(PolicyError::TooLarge {
                max: MAX_POLICY_FILE_SIZE,
            });
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| PolicyError::Invalid("the policy file is not UTF-8 text".into()))?;
        Self::from_toml_str(&text)
    }

    /// Validates the policy, then writes it to `path` through a temporary file
    /// and a rename, so a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), PolicyError> {
        self.validate()?;
        let text = self.to_toml_string()?;
        crate::invitation::write_atomically(path, text.as_bytes()).map_err(|source| {
            PolicyError::Io {
                path: path.to_owned(),
                source,
            }
        })
    }

    /// The lifetime an invitation gets when `requested` is asked for: at most
    /// [`max_invitation_lifetime`](Self::max_invitation_lifetime).
    pub fn cap_lifetime(&self, requested: Duration) -> Duration {
        requested.min(self.max_invitation_lifetime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let p = Policy::default();
        assert!(p.allow_assistance);
        assert!(p.allow_control);
        assert!(!p.allow_clipboard);
        assert_eq!(p.max_invitation_lifetime, Duration::from_secs(6 * 3600));
        assert_eq!(p.approval_timeout, Duration::from_secs(60));
        assert_eq!(Policy::from_toml_str("").unwrap(), p);
        assert_eq!(Policy::from_toml_str("# nothing\n\n").unwrap(), p);
        assert!(p.validate().is_ok());
    }

    #[test]
    fn partial_and_full() {
        let p =
            Policy::from_toml_str("allow_control = false\nmax_invitation_lifetime = \"1h 30m\"\n")
                .unwrap();
        assert!(!p.allow_control);
        assert!(p.allow_assistance);
        assert_eq!(p.max_invitation_lifetime, Duration::from_secs(5400));
        assert_eq!(p.approval_timeout, Duration::from_secs(60));

        let full = "allow_assistance = false\nallow_control = false\n\
                    max_invitation_lifetime = \"2days\"\napproval_timeout = \"30s\"\n\
                    allow_clipboard = true\n";
        let p = Policy::from_toml_str(full).unwrap();
        assert_eq!(
            p,
            Policy {
                allow_assistance: false,
                allow_control: false,
                max_invitation_lifetime: Duration::from_secs(2 * 86400),
                approval_timeout: Duration::from_secs(30),
                allow_clipboard: true,
                ..Policy::default()
            }
        );
    }

    #[test]
    fn toml_round_trip() {
        let text = Policy::default().to_toml_string().unwrap();
        assert!(text.contains("max_invitation_lifetime = \"6h\""), "{text}");
        assert!(text.contains("approval_timeout = \"1m\""), "{text}");
        assert_eq!(Policy::from_toml_str(&text).unwrap(), Policy::default());
        let p = Policy {
            allow_assistance: false,
            allow_control: true,
            max_invitation_lifetime: Duration::from_secs(90 * 60 + 5),
            approval_timeout: Duration::from_secs(1),
            allow_clipboard: true,
            trusted_orgs: vec![crate::identity::OrgPublicKey([7; 32])],
            require_verified_helper: true,
            revoked_helpers: vec![crate::identity::HelperPublicKey([9; 32])],
            max_control_duration: Some(Duration::from_secs(600)),
            allowed_displays: Some(vec![0, 3]),
            redact: vec![Rect::new(-10, 20, 300, 40)],
            redact_windows: vec!["KeePassXC".into()],
            allow_resume_tickets: true,
            max_resume_ticket_lifetime: Duration::from_secs(300),
        };
        assert_eq!(
            Policy::from_toml_str(&p.to_toml_string().unwrap()).unwrap(),
            p
        );
    }

    #[test]
    fn resume_tickets_are_off_by_default_and_live_at_most_15_minutes() {
        assert!(!Policy::default().allow_resume_tickets);
        let p = Policy::from_toml_str(
            "allow_resume_tickets = true\nmax_resume_ticket_lifetime = \"10m\"\n",
        )
        .unwrap();
        assert!(p.allow_resume_tickets);
        assert_eq!(p.max_resume_ticket_lifetime, Duration::from_secs(600));
        let error = Policy::from_toml_str("max_resume_ticket_lifetime = \"16m\"\n").unwrap_err();
        assert!(error.to_string().contains("at most 15m"), "{error}");
    }

    #[test]
    fn verified_helpers_need_a_trusted_organisation_and_keys_must_parse() {
        let error = Policy::from_toml_str("require_verified_helper = true\n").unwrap_err();
        assert!(error.to_string().contains("trusted_orgs"), "{error}");
        let error = Policy::from_toml_str("trusted_orgs = [\"raorg1-00\"]\n").unwrap_err();
        assert!(error.to_string().contains("organisation key"), "{error}");
        let key = crate::identity::OrgPublicKey([1; 32]);
        let text = format!("trusted_orgs = [\"{key}\"]\nrequire_verified_helper = true\n");
        let policy = Policy::from_toml_str(&text).unwrap();
        assert_eq!(policy.trusted_orgs, vec![key]);
    }

    #[test]
    fn errors_name_line_and_column() {
        let text = "allow_assistance = true\n# comment\nalow_control = false\n";
        let err = Policy::from_toml_str(text).unwrap_err();
        match &err {
            PolicyError::Syntax { line, column, .. } => assert_eq!((*line, *column), (3, 1)),
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "policy file line 3, column 1: unknown field `alow_control`, expected one of"
            ),
            "{msg}"
        );
        assert!(msg.contains("`allow_control`"), "{msg}");

        let err =
            Policy::from_toml_str("\n\nmax_invitation_lifetime = \"six hours\"\n").unwrap_err();
        match &err {
            PolicyError::Syntax {
                line,
                column,
                message,
            } => {
                assert_eq!((*line, *column), (3, 27), "{message}");
                assert!(message.contains("invalid duration"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let err = Policy::from_toml_str("allow_control = \"yes\"\n").unwrap_err();
        assert!(
            matches!(
                err,
                PolicyError::Syntax {
                    line: 1,
                    column: 17,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = Policy::from_toml_str("max_invitation_lifetime = 6\n").unwrap_err();
        assert!(
            matches!(err, PolicyError::Syntax { line: 1, .. }),
            "{err:?}"
        );
        let err =
            Policy::from_toml_str("allow_control = true\nallow_control = false\n").unwrap_err();
        assert!(
            matches!(err, PolicyError::Syntax { line: 2, .. }),
            "{err:?}"
        );
        let err = Policy::from_toml_str("allow_control = \n").unwrap_err();
        assert!(
            matches!(err, PolicyError::Syntax { line: 1, .. }),
            "{err:?}"
        );
        // Column counts characters, not bytes.
        let err = Policy::from_toml_str("# é\n  ünknown = 1\n").unwrap_err();
        assert!(
            matches!(
                err,
                PolicyError::Syntax {
                    line: 2,
                    column: 3,
                    ..
                }
            ),
            "{err:?}"
        );

        // Values the policy refuses.
        let err = Policy::from_toml_str("approval_timeout = \"0s\"").unwrap_err();
        assert!(matches!(err, PolicyError::Invalid(_)), "{err:?}");
        assert!(err.to_string().contains("approval_timeout"));
        let err = Policy::from_toml_str("max_invitation_lifetime = \"1000years\"").unwrap_err();
        assert!(matches!(err, PolicyError::Invalid(_)), "{err:?}");
        let err = Policy::from_toml_str("allowed_displays = []").unwrap_err();
        assert!(err.to_string().contains("allowed_displays"), "{err}");
        let err = Policy::from_toml_str("allowed_displays = [-1]").unwrap_err();
        assert!(
            matches!(err, PolicyError::Syntax { line: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn allowed_displays_round_trip() {
        let p = Policy::from_toml_str("allowed_displays = [2, 0]\n").unwrap();
        assert_eq!(p.allowed_displays, Some(vec![2, 0]));
        assert_eq!(
            Policy::from_toml_str(&p.to_toml_string().unwrap()).unwrap(),
            p
        );
        assert_eq!(Policy::default().allowed_displays, None);
        assert!(
            !Policy::default()
                .to_toml_string()
                .unwrap()
                .contains("allowed_displays")
        );
    }

    #[test]
    fn cap_lifetime() {
        let p = Policy::default();
        assert_eq!(
            p.cap_lifetime(Duration::from_secs(3600)),
            Duration::from_secs(3600)
        );
        assert_eq!(
            p.cap_lifetime(Duration::from_secs(6 * 3600)),
            Duration::from_secs(6 * 3600)
        );
        assert_eq!(
            p.cap_lifetime(Duration::from_secs(48 * 3600)),
            Duration::from_secs(6 * 3600)
        );
        assert_eq!(p.cap_lifetime(Duration::MAX), Duration::from_secs(6 * 3600));
    }

    #[test]
    fn save_and_load() {
        let dir = std::env::temp_dir().join(format!("ra-policy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("policy.toml");
        let p = Policy {
            allow_control: false,
            ..Policy::default()
        };
        p.save(&path).unwrap();
        assert_eq!(Policy::load(&path).unwrap(), p);

        std::fs::write(&path, "alow_control = false\n").unwrap();
        assert!(matches!(
            Policy::load(&path),
            Err(PolicyError::Syntax { line: 1, .. })
        ));
        std::fs::write(&path, vec![b'#'; MAX_POLICY_FILE_SIZE + 1]).unwrap();
        assert!(matches!(
            Policy::load(&path),
            Err(PolicyError::TooLarge { .. })
        ));
        std::fs::write(&path, b"\xff = 1").unwrap();
        assert!(matches!(Policy::load(&path), Err(PolicyError::Invalid(_))));
        assert!(matches!(
            Policy::load(&dir.join("missing.toml")),
            Err(PolicyError::Io { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
