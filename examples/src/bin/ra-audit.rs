//! `ra-audit`: checks what a host wrote down.
//!
//! ```text
//! ra-audit verify LOG [--receipt FILE] [--json]
//! ra-audit verify-receipt FILE [--invitation INV] [--org PUBLIC_KEY] [--json]
//! ```
//!
//! `verify` reads an audit log (one JSON record a line, as `ra-host
//! --audit-log` and the library write it) and checks each session's hash
//! chain: every line carries the SHA-256 of the line its session wrote
//! before it, the first anchored to the session's id
//! (`ra_core::audit::chain`). An intact log: exit 0 and how many lines and
//! sessions it holds (`--json`: a `verified` event with `lines` and
//! `sessions`, each session's `head`). A line edited, deleted, inserted or
//! reordered: exit 1 and the first line where the chain breaks (`--json`: a
//! `broken` event with `line` and `reason`). Lines cut from the end of a
//! log are only found against the head its session's consent receipt keeps:
//! with `--receipt`, the receipt's session must end at the receipt's head.
//!
//! `verify-receipt` checks a consent receipt (`ra-host`/`ra-helper
//! --receipt`): the host's signature with the certificate it carries, the
//! helper's countersignature if any, and with `--invitation` that the
//! certificate is the one the invitation pins and the session its, with
//! `--org` that the helper was verified as one of that organisation's. A
//! valid receipt: exit 0 and what it records (`--json`: a `receipt_valid`
//! event); otherwise exit 1 and why (`receipt_invalid` with `reason`).
//!
//! Exit codes: 0 intact or valid; 1 broken, truncated or invalid; 2 a file
//! cannot be read, or bad usage.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ra_core::audit::chain::{self, ChainError};
use ra_core::identity::OrgPublicKey;
use ra_core::invitation::Invitation;
use ra_core::receipt::{ConsentReceipt, MAX_RECEIPT_BYTES, ReceiptCheck};
use ra_examples::files::read_at_most;
use ra_examples::output::Output;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "ra-audit",
    version,
    about = "Check a host's audit log (the hash chain of its lines)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check that no line of an audit log was edited, deleted, inserted or reordered.
    Verify(VerifyArgs),
    /// Check a session's signed consent receipt.
    VerifyReceipt(VerifyReceiptArgs),
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// The audit log (JSON lines).
    log: PathBuf,
    /// The consent receipt of a session in the log: the log must hold that
    /// session up to the receipt's chain head (finds lines cut from the end).
    #[arg(long, value_name = "FILE")]
    receipt: Option<PathBuf>,
    /// One JSON object per line on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct VerifyReceiptArgs {
    /// The receipt (`ra-host --receipt`, `ra-helper --receipt`).
    receipt: PathBuf,
    /// The invitation of the session: the receipt must be signed by the
    /// host certificate it pins, and be of its session.
    #[arg(long, value_name = "INV")]
    invitation: Option<PathBuf>,
    /// An organisation's public key (`raorg1-…`): the helper must have been
    /// verified as one of its helpers.
    #[arg(long, value_name = "PUBLIC_KEY")]
    org: Option<String>,
    /// One JSON object per line on stdout.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Verify(args) => verify(&args),
        Command::VerifyReceipt(args) => verify_receipt(&args),
    }
}

/// Reads a receipt file, or says why not (exit 2).
fn read_receipt(output: Output, path: &Path) -> Result<ConsentReceipt, ExitCode> {
    let text = read_small(path, MAX_RECEIPT_BYTES).map_err(|e| {
        output.error(&e);
        ExitCode::from(2)
    })?;
    ConsentReceipt::parse(&text).map_err(|e| {
        invalid(output, path, &e.to_string());
        ExitCode::from(1)
    })
}

/// A file's text, refused beyond `limit` bytes.
fn read_small(path: &Path, limit: usize) -> Result<String, String> {
    let bytes =
        read_at_most(path, limit).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() > limit {
        return Err(format!(
            "{} is too large (more than {limit} bytes)",
            path.display()
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{} is not a text file", path.display()))
}

fn invalid(output: Output, path: &Path, reason: &str) {
    output.event("receipt_invalid", json!({ "reason": reason }), || {
        format!("{}: not a valid receipt: {reason}", path.display())
    });
}

fn verify_receipt(args: &VerifyReceiptArgs) -> ExitCode {
    let output = Output::new(args.json);
    let receipt = match read_receipt(output, &args.receipt) {
        Ok(receipt) => receipt,
        Err(code) => return code,
    };
    let mut check = ReceiptCheck::default();
    if let Some(path) = &args.invitation {
        match Invitation::load(path) {
            Ok(invitation) => {
                check.pinned = Some(invitation.fingerprint);
                check.session = Some(invitation.session_id);
            }
            Err(e) => {
                output.error(&format!("cannot read {}: {e}", path.display()));
                return ExitCode::from(2);
            }
        }
    }
    if let Some(key) = &args.org {
        match key.parse::<OrgPublicKey>() {
            Ok(key) => check.organisation = Some(key),
            Err(e) => {
                output.error(&format!("--org: {e}"));
                return ExitCode::from(2);
            }
        }
    }
    let summary = match receipt.verify(&check) {
        Ok(summary) => summary,
        Err(e) => {
            invalid(output, &args.receipt, &e.to_string());
            return ExitCode::from(1);
        }
    };
    let body = receipt.body();
    let report = receipt.report(&summary);
    let time = |t| humantime::format_rfc3339_millis(t).to_string();
    output.event(
        "receipt_valid",
        serde_json::to_value(&report).unwrap_or_default(),
        || {
            let who = match &summary.helper_identity {
                Some(identity) => format!(
                    "{} of {} (verified{})",
                    identity.helper(),
                    identity.organisation(),
                    if summary.countersigned { ", countersigned" } else { "" }
                ),
                None => format!("{:?} (unverified)", body.helper_name),
            };
            format!(
                "{}: valid. Session {} on {:?} with {who}: approved {}, {} grant(s) of control, ended {} ({}).",
                args.receipt.display(),
                body.session_id,
                body.host_name,
                time(body.approved_at),
                report.grant_count(),
                time(body.ended_at),
                body.end_reason,
            )
        },
    );
    ExitCode::SUCCESS
}

fn verify(args: &VerifyArgs) -> ExitCode {
    let output = Output::new(args.json);
    let file = match File::open(&args.log) {
        Ok(file) => file,
        Err(e) => {
            output.error(&format!("cannot open {}: {e}", args.log.display()));
            return ExitCode::from(2);
        }
    };
    let receipt = match &args.receipt {
        Some(path) => match read_receipt(output, path) {
            Ok(receipt) => Some(receipt),
            Err(code) => return code,
        },
        None => None,
    };
    match chain::verify(BufReader::new(file)).and_then(|summary| {
        if let Some(receipt) = &receipt {
            summary.check_receipt(receipt)?;
        }
        Ok(summary)
    }) {
        Ok(summary) => {
            output.event("verified", summary.report(), || {
                format!(
                    "{}: intact, {} lines in {} sessions",
                    args.log.display(),
                    summary.lines,
                    summary.heads.len()
                )
            });
            ExitCode::SUCCESS
        }
        Err(ChainError::Read(e)) => {
            output.error(&format!("cannot read {}: {e}", args.log.display()));
            ExitCode::from(2)
        }
        Err(broken) => {
            let line = broken.line();
            output.event(
                "broken",
                json!({"line": line, "reason": broken.to_string()}),
                || format!("{}: the chain is broken: {broken}", args.log.display()),
            );
            ExitCode::from(1)
        }
    }
}
