//! The audit log's hash chain: every line carries `prev`, the SHA-256 (hex)
//! of the line its session wrote before it, the session's first line
//! anchored to the session's id. Editing, deleting, inserting or reordering
//! a line breaks the chain at the next line ([`verify`]); lines cut from the
//! end are found against the head a consent receipt keeps
//! ([`ChainSummary::check_head`]).
//!
//! A file may hold several sessions (each appends its own lines): each
//! session is its own chain, so that writers never need to read the file.
//! How the lines of different sessions interleave is therefore not part of
//! any chain (each line's time says when it was written).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, BufRead};

use data_encoding::HEXLOWER_PERMISSIVE;
use sha2::{Digest, Sha256};

use crate::invitation::SessionId;
use crate::receipt::ConsentReceipt;

/// The field of each line that links it to the line before.
pub const CHAIN_FIELD: &str = "prev";

/// What the anchor of a session's chain hashes, before the session id.
const ANCHOR_CONTEXT: &[u8] = b"ra audit chain v1\n";

/// A link of the chain: a SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// The anchor of the chain of `session` (`None`: records of no session).
    pub fn anchor(session: Option<SessionId>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(ANCHOR_CONTEXT);
        if let Some(session) = session {
            hasher.update(session.to_string().as_bytes());
        }
        ChainHash(hasher.finalize().into())
    }

    /// The hash of one line as written (without its line break).
    pub fn of_line(line: &[u8]) -> Self {
        ChainHash(Sha256::digest(line).into())
    }

    /// Reads 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = HEXLOWER_PERMISSIVE.decode(text.as_bytes()).ok()?;
        Some(ChainHash(bytes.try_into().ok()?))
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&data_encoding::HEXLOWER.encode(&self.0))
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({self})")
    }
}

/// A record's JSON object with the chain field added as its last member.
pub(super) fn with_link(record_json: &str, prev: ChainHash) -> String {
    let body = record_json.strip_suffix('}').unwrap_or(record_json);
    format!("{body},\"{CHAIN_FIELD}\":\"{prev}\"}}")
}

/// Why a log's chain does not hold. Lines are counted from 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The log could not be read.
    #[error("cannot read the audit log: {0}")]
    Read(#[source] io::Error),
    /// A line is not a JSON object (or is empty).
    #[error("line {line}: not an audit record: {reason}")]
    Malformed {
        /// The line.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A line has no chain field: written without the chain, or edited.
    #[error("line {line}: no \"prev\" field (written without a chain, or edited)")]
    Unchained {
        /// The line.
        line: usize,
    },
    /// A line's link does not match the line its session wrote before.
    #[error(
        "line {line}: its \"prev\" does not match the line before it in session {session} \
         (a line was edited, deleted, inserted or reordered)"
    )]
    Broken {
        /// The line.
        line: usize,
        /// Its session (`-` for records of no session).
        session: String,
    },
    /// The log ends before the head a receipt recorded.
    #[error(
        "session {session} ends at {found} where its receipt says {expected}: \
         lines were removed from its end (or the log was edited)"
    )]
    Truncated {
        /// The session.
        session: String,
        /// The head the receipt recorded.
        expected: ChainHash,
        /// The log's last link for that session.
        found: String,
    },
    /// The receipt a log was checked against records no chain head (its
    /// host kept no audit log).
    #[error("the receipt records no audit chain head (its host kept no audit log)")]
    NoHeadInReceipt,
}

impl ChainError {
    /// The line where the chain breaks, when it is one line's fault.
    pub fn line(&self) -> Option<usize> {
        match self {
            ChainError::Malformed { line, .. }
            | ChainError::Unchained { line }
            | ChainError::Broken { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// What an intact log holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    /// Lines read.
    pub lines: usize,
    /// Each session's last link (its head), in the order sessions first
    /// appear.
    pub heads: Vec<(Option<SessionId>, ChainHash)>,
    /// Every line's link, with its session.
    links: HashSet<(Option<SessionId>, ChainHash)>,
}

impl ChainSummary {
    /// Checks that `session`'s chain reaches `expected` (a receipt's head):
    /// a line of the session has that link (lines the session wrote after
    /// its receipt, such as the invitation's close, may follow). Lines cut
    /// from the end of an otherwise intact log are found here.
    ///
    /// # Errors
    /// [`ChainError::Truncated`] when it ends elsewhere or is missing.
    pub fn check_head(
        &self,
        session: Option<SessionId>,
        expected: ChainHash,
    ) -> Result<(), ChainError> {
        let found = self
            .heads
            .iter()
            .find(|(s, _)| *s == session)
            .map(|(_, h)| *h);
        if found == Some(expected) || self.links.contains(&(session, expected)) {
            return Ok(());
        }
        Err(ChainError::Truncated {
            session: session_name(session),
            expected,
            found: found.map_or_else(|| "no line at all".to_owned(), |h| h.to_string()),
        })
    }
}

impl ChainSummary {
    /// Checks that the receipt's session reaches, in this log, the head the
    /// receipt recorded (its signatures are not checked here:
    /// [`ConsentReceipt::verify`] does).
    ///
    /// # Errors
    /// [`ChainError::NoHeadInReceipt`], or as [`ChainSummary::check_head`].
    pub fn check_receipt(&self, receipt: &ConsentReceipt) -> Result<(), ChainError> {
        let expected = receipt
            .body()
            .audit_head
            .as_deref()
            .and_then(ChainHash::from_hex)
            .ok_or(ChainError::NoHeadInReceipt)?;
        self.check_head(Some(receipt.body().session_id), expected)
    }

    /// The summary as JSON: `{"lines":N,"sessions":[{"session_id": "…" or
    /// null,"head":"…"},…]}` (what `ra-audit verify --json` and the C ABI's
    /// `ra_audit_verify` give).
    pub fn report(&self) -> serde_json::Value {
        let sessions: Vec<_> = self
            .heads
            .iter()
            .map(|(session, head)| {
                serde_json::json!({
                    "session_id": session.map(|s| s.to_string()),
                    "head": head.to_string(),
                })
            })
            .collect();
        serde_json::json!({ "lines": self.lines, "sessions": sessions })
    }
}

fn session_name(session: Option<SessionId>) -> String {
    session.map_or_else(|| "-".to_owned(), |s| s.to_string())
}

/// Verifies the chain of every session in `log`, line by line.
///
/// # Errors
/// The first line where the chain does not hold, or [`ChainError::Read`].
pub fn verify(log: impl BufRead) -> Result<ChainSummary, ChainError> {
    let mut heads: Vec<(Option<SessionId>, ChainHash)> = Vec::new();
    let mut links = HashSet::new();
    let mut index: HashMap<Option<SessionId>, usize> = HashMap::new();
    let mut lines = 0;
    for (number, line) in log.split(b'\n').enumerate() {
        let line = line.map_err(ChainError::Read)?;
        let number = number + 1;
        lines = number;
        let (session, prev) = read_link(&line, number)?;
        let expected = match index.get(&session) {
            Some(&i) => heads[i].1,
            None => ChainHash::anchor(session),
        };
        if prev != expected {
            return Err(ChainError::Broken {
                line: number,
                session: session_name(session),
            });
        }
        let link = ChainHash::of_line(&line);
        links.insert((session, link));
        match index.get(&session) {
            Some(&i) => heads[i].1 = link,
            None => {
                index.insert(session, heads.len());
                heads.push((session, link));
            }
        }
    }
    Ok(ChainSummary {
        lines,
        heads,
        links,
    })
}

/// The last link of each session in a log written before (what a log
/// opened again continues from), as far as its lines can be read: a line
/// that cannot (a torn last line) is passed over.
pub(crate) fn heads_of(log: impl BufRead) -> HashMap<Option<SessionId>, ChainHash> {
    let mut heads = HashMap::new();
    for (number, line) in log.split(b'\n').enumerate() {
        let Ok(line) = line else { break };
        if line.is_empty() {
            continue;
        }
        if let Ok((session, _)) = read_link(&line, number + 1) {
            heads.insert(session, ChainHash::of_line(&line));
        }
    }
    heads
}

/// A line's session and link.
fn read_link(line: &[u8], number: usize) -> Result<(Option<SessionId>, ChainHash), ChainError> {
    let malformed = |reason: String| ChainError::Malformed {
        line: number,
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| malformed(e.to_string()))?;
    let object = value
        .as_object()
        .ok_or_else(|| malformed("not a JSON object".into()))?;
    let session = match object.get("session_id") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(text)) => Some(
            text.parse::<SessionId>()
                .map_err(|e| malformed(format!("session_id: {e}")))?,
        ),
        Some(_) => return Err(malformed("session_id is not a string".into())),
    };
    let prev = match object.get(CHAIN_FIELD) {
        None => return Err(ChainError::Unchained { line: number }),
        Some(serde_json::Value::String(text)) => ChainHash::from_hex(text)
            .ok_or_else(|| malformed(format!("{CHAIN_FIELD} is not 64 hexadecimal digits")))?,
        Some(_) => return Err(malformed(format!("{CHAIN_FIELD} is not a string"))),
    };
    Ok((session, prev))
}
