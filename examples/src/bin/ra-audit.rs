//! `ra-audit`: checks what a host wrote down.
//!
//! ```text
//! ra-audit verify LOG [--json]
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
//! log are only found against the head its session's consent receipt keeps.
//!
//! Exit codes: 0 intact; 1 the chain is broken; 2 the log cannot be read, or
//! bad usage.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ra_core::audit::chain::{self, ChainError};
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
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// The audit log (JSON lines).
    log: PathBuf,
    /// One JSON object per line on stdout.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Verify(args) => verify(&args),
    }
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
    match chain::verify(BufReader::new(file)) {
        Ok(summary) => {
            let sessions: Vec<_> = summary
                .heads
                .iter()
                .map(|(session, head)| {
                    json!({"session_id": session.map(|s| s.to_string()), "head": head.to_string()})
                })
                .collect();
            output.event(
                "verified",
                json!({"lines": summary.lines, "sessions": sessions}),
                || {
                    format!(
                        "{}: intact, {} lines in {} sessions",
                        args.log.display(),
                        summary.lines,
                        summary.heads.len()
                    )
                },
            );
            ExitCode::SUCCESS
        }
        Err(ChainError::Read(e)) => {
            output.error(&format!("cannot read {}: {e}", args.log.display()));
            ExitCode::from(2)
        }
        Err(broken) => {
            let line = match &broken {
                ChainError::Malformed { line, .. }
                | ChainError::Unchained { line }
                | ChainError::Broken { line, .. } => Some(*line),
                _ => None,
            };
            output.event(
                "broken",
                json!({"line": line, "reason": broken.to_string()}),
                || format!("{}: the chain is broken: {broken}", args.log.display()),
            );
            ExitCode::from(1)
        }
    }
}
