//! The audit log's hash chain: a log written by the library verifies; a
//! line edited, deleted, inserted or reordered is found at the first line
//! where the chain breaks; lines cut from the end are found against the
//! session's head (what a consent receipt keeps); bad input is an error,
//! never a panic. Plus 1,000 seeded random tamperings, every one that
//! changes a session's record found.
#![allow(missing_docs)]

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use ra_core::audit::chain::{self, ChainError, ChainHash};
use ra_core::audit::{AuditEvent, AuditLog, AuditRecord};
use ra_core::invitation::SessionId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ALICE: SessionId = SessionId(*b"alice's session!");
const CAROL: SessionId = SessionId(*b"carol's session!");

/// One file that several writers append to.
#[derive(Clone, Default)]
struct File(Arc<Mutex<Vec<u8>>>);

impl Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn record(log: &mut AuditLog, session: SessionId, second: u64, event: AuditEvent) {
    let at = UNIX_EPOCH + Duration::from_secs(1_795_597_200 + second);
    log.record(AuditRecord::new(at, Some(session), event))
        .unwrap();
}

/// Two sessions appending to one file, interleaved; the text and each
/// session's head.
fn two_sessions() -> (Vec<String>, ChainHash, ChainHash) {
    let file = File::default();
    let mut alice = AuditLog::new(Box::new(file.clone()));
    let mut carol = AuditLog::new(Box::new(file.clone()));
    let helper = || AuditEvent::Approved {
        helper: "Bob".into(),
    };
    record(&mut alice, ALICE, 0, AuditEvent::ControlRequested);
    record(&mut alice, ALICE, 1, helper());
    record(&mut carol, CAROL, 2, AuditEvent::ControlRequested);
    record(
        &mut alice,
        ALICE,
        3,
        AuditEvent::ControlGranted {
            scopes: Some("pointer".into()),
            expires_at: None,
        },
    );
    record(&mut carol, CAROL, 4, AuditEvent::Paused);
    record(
        &mut alice,
        ALICE,
        5,
        AuditEvent::Chat {
            from: "Bob".into(),
            text: "hello".into(),
        },
    );
    record(&mut alice, ALICE, 6, AuditEvent::Resumed);
    record(
        &mut carol,
        CAROL,
        7,
        AuditEvent::Ended {
            reason: "by host".into(),
        },
    );
    let text = String::from_utf8(file.0.lock().unwrap().clone()).unwrap();
    let lines = text.lines().map(str::to_owned).collect();
    (
        lines,
        alice.head(Some(ALICE)).unwrap(),
        carol.head(Some(CAROL)).unwrap(),
    )
}

/// Each session's lines, in order.
fn by_session(lines: &[String]) -> Vec<Vec<&String>> {
    [ALICE, CAROL]
        .iter()
        .map(|s| {
            let id = s.to_string();
            lines.iter().filter(|l| l.contains(&id)).collect()
        })
        .collect()
}

fn verify(lines: &[String]) -> Result<chain::ChainSummary, ChainError> {
    let mut text = lines.join("\n");
    text.push('\n');
    chain::verify(text.as_bytes())
}

fn broken_at(result: Result<chain::ChainSummary, ChainError>) -> usize {
    match result {
        Err(ChainError::Broken { line, .. }) => line,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn an_intact_log_verifies_with_each_sessions_head() {
    let (lines, alice, carol) = two_sessions();
    let summary = verify(&lines).unwrap();
    assert_eq!(summary.lines, 8);
    assert_eq!(
        summary.heads,
        vec![(Some(ALICE), alice), (Some(CAROL), carol)]
    );
    summary.check_head(Some(ALICE), alice).unwrap();
    summary.check_head(Some(CAROL), carol).unwrap();
    // Without a final line break too.
    chain::verify(lines.join("\n").as_bytes()).unwrap();
}

#[test]
fn edits_deletions_insertions_and_reorderings_are_found_at_the_next_link() {
    let (lines, alice, _) = two_sessions();

    // Line 2 (Alice's approval) says another helper: line 4, Alice's next, breaks.
    let mut edited = lines.clone();
    edited[1] = edited[1].replace("Bob", "Eve");
    assert_ne!(edited, lines);
    assert_eq!(broken_at(verify(&edited)), 4);

    // Line 4 deleted: what was line 6 is now line 5 and breaks.
    let mut deleted = lines.clone();
    deleted.remove(3);
    assert_eq!(broken_at(verify(&deleted)), 5);

    // A copy of line 2 inserted after it.
    let mut inserted = lines.clone();
    inserted.insert(2, lines[1].clone());
    assert_eq!(broken_at(verify(&inserted)), 3);

    // Alice's lines 4 and 6 swapped.
    let mut reordered = lines.clone();
    reordered.swap(3, 5);
    assert_eq!(broken_at(verify(&reordered)), 4);

    // Alice's last line edited: the chain alone cannot tell, her head can.
    let mut last = lines.clone();
    last[6] = last[6].replace("resumed", "paused");
    let summary = verify(&last).unwrap();
    assert!(matches!(
        summary.check_head(Some(ALICE), alice),
        Err(ChainError::Truncated { .. })
    ));
}

#[test]
fn lines_cut_from_the_end_are_found_against_the_head() {
    let (lines, alice, carol) = two_sessions();
    let cut = &lines[..6];
    let summary = verify(cut).unwrap();
    let error = summary.check_head(Some(ALICE), alice).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("lines were removed from its end"),
        "{error}"
    );
    assert!(summary.check_head(Some(CAROL), carol).is_err());
    // A session with no line left at all.
    let summary = verify(&lines[..2]).unwrap();
    let error = summary.check_head(Some(CAROL), carol).unwrap_err();
    assert!(error.to_string().contains("no line at all"), "{error}");
}

#[test]
fn bad_lines_are_clear_errors() {
    let (lines, _, _) = two_sessions();
    let with = |line: usize, text: &str| {
        let mut changed = lines.clone();
        changed[line] = text.to_owned();
        verify(&changed)
    };
    assert!(matches!(
        with(2, ""),
        Err(ChainError::Malformed { line: 3, .. })
    ));
    assert!(matches!(
        with(2, "not json"),
        Err(ChainError::Malformed { line: 3, .. })
    ));
    assert!(matches!(
        with(2, "[1,2]"),
        Err(ChainError::Malformed { line: 3, .. })
    ));
    assert!(matches!(
        with(0, r#"{"event":"paused"}"#),
        Err(ChainError::Unchained { line: 1 })
    ));
    assert!(matches!(
        with(0, r#"{"event":"paused","prev":"xyz"}"#),
        Err(ChainError::Malformed { line: 1, .. })
    ));
    assert!(matches!(
        with(0, r#"{"session_id":"nope","prev":"00"}"#),
        Err(ChainError::Malformed { line: 1, .. })
    ));
    // A line of no session, anchored as such, is fine on its own.
    let anchored = format!(
        r#"{{"event":"paused","prev":"{}"}}"#,
        ChainHash::anchor(None)
    );
    chain::verify(anchored.as_bytes()).unwrap();
    // Bytes that are not UTF-8.
    assert!(matches!(
        chain::verify(&b"\xff\xfe\n"[..]),
        Err(ChainError::Malformed { line: 1, .. })
    ));
}

#[test]
fn a_thousand_seeded_tamperings_are_all_found() {
    let (lines, alice, carol) = two_sessions();
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    for round in 0..1000 {
        let mut tampered = lines.clone();
        let i = rng.gen_range(0..tampered.len());
        match rng.gen_range(0..4) {
            0 => {
                // One byte of one line changed to another printable one.
                let mut bytes = tampered[i].clone().into_bytes();
                let at = rng.gen_range(0..bytes.len());
                let old = bytes[at];
                let mut new = rng.gen_range(0x20u8..0x7f);
                if new == old {
                    new = if old == b'a' { b'b' } else { b'a' };
                }
                bytes[at] = new;
                tampered[i] = String::from_utf8(bytes).unwrap();
            }
            1 => {
                tampered.remove(i);
            }
            2 => {
                let copy = tampered[rng.gen_range(0..lines.len())].clone();
                tampered.insert(i, copy);
            }
            _ => {
                let j = (i + rng.gen_range(1..tampered.len())) % tampered.len();
                tampered.swap(i, j);
            }
        }
        // Lines of two sessions swapped change no session's record: the
        // chains are per session (see `chain`'s docs).
        if by_session(&tampered) == by_session(&lines) {
            continue;
        }
        let found = match verify(&tampered) {
            Err(_) => true,
            Ok(summary) => {
                summary.check_head(Some(ALICE), alice).is_err()
                    || summary.check_head(Some(CAROL), carol).is_err()
            }
        };
        assert!(found, "round {round}: not found: {tampered:#?}");
    }
}

#[test]
fn a_log_opened_again_goes_on_with_each_session_s_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let at = |second: u64| UNIX_EPOCH + Duration::from_secs(1_795_597_200 + second);
    {
        let mut log = AuditLog::open(&path).unwrap();
        record(&mut log, ALICE, 0, AuditEvent::ControlRequested);
        log.record(AuditRecord::new(at(1), None, AuditEvent::Paused))
            .unwrap();
    }
    // The process restarts (a session resumed from its ticket): the same
    // session and the records of none go on as one chain each.
    let mut log = AuditLog::open(&path).unwrap();
    record(
        &mut log,
        ALICE,
        5,
        AuditEvent::SessionResumed {
            ticket: "00".repeat(16),
            expires_at: at(900),
        },
    );
    log.record(AuditRecord::new(at(6), None, AuditEvent::Resumed))
        .unwrap();
    record(&mut log, CAROL, 7, AuditEvent::ControlRequested);
    let summary =
        chain::verify(std::io::BufReader::new(std::fs::File::open(&path).unwrap())).unwrap();
    assert_eq!(summary.lines, 5);
}
