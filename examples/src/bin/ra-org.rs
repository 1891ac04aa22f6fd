//! `ra-org`: an organisation's helper identities.
//!
//! ```text
//! ra-org new --name "Contoso IT" --out ORG.key [--json]
//! ra-org issue --org ORG.key --helper "Jane Doe" [--valid 30d] --out JANE.raid [--json]
//! ra-org show FILE [--json]
//! ```
//!
//! `new` makes the organisation's key pair (the file holds the private key,
//! mode 0600) and prints its public key (`raorg1-…`), what hosts put in
//! their policy's `trusted_orgs` (`--json`: an `org_key_created` event with
//! `organisation`, `public_key`, `file`). `issue` gives a helper a new key
//! pair and an identity signed by the organisation, valid from now for
//! `--valid`, both in one file (mode 0600) for `ra-helper --identity`
//! (`identity_issued`: `organisation`, `helper`, `helper_key` — the key id a
//! host's `revoked_helpers` lists —, `not_before`, `not_after`, `file`).
//! `show` says what a file holds and whether its signature verifies
//! (`org_key`, or `identity` with its fields and `has_private_key`). Files
//! are never overwritten.
//!
//! Exit codes: 0 ok; 1 the file's signature does not verify; 2 a file
//! cannot be read or written, or is not one of these files, or bad usage.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Parser, Subcommand};
use ra_core::identity::{HelperCredential, HelperIdentity, IdentityError, OrgKeyPair};
use ra_examples::output::Output;
use ra_examples::parse_duration;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "ra-org",
    version,
    about = "An organisation's key and the identities it issues its helpers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// One JSON object per line on stdout.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Make the organisation's key pair.
    New {
        /// The organisation's name, as hosts will see it.
        #[arg(long)]
        name: String,
        /// Where to write the key file (holds the private key; never overwritten).
        #[arg(long, value_name = "ORG.key")]
        out: PathBuf,
    },
    /// Give a helper a key pair and an identity signed by the organisation.
    Issue {
        /// The organisation's key file.
        #[arg(long, value_name = "ORG.key")]
        org: PathBuf,
        /// The helper's name, as hosts will see it.
        #[arg(long)]
        helper: String,
        /// How long the identity is valid, from now.
        #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_duration)]
        valid: Duration,
        /// Where to write the helper's file (holds its private key; never overwritten).
        #[arg(long, value_name = "FILE.raid")]
        out: PathBuf,
    },
    /// Say what a key or identity file holds and whether its signature verifies.
    Show {
        /// The file.
        file: PathBuf,
    },
}

/// A failure: the exit code and the message.
type Failure = (u8, String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = Output::new(cli.json);
    let result = match cli.command {
        Command::New { name, out } => new(output, &name, &out),
        Command::Issue {
            org,
            helper,
            valid,
            out,
        } => issue(output, &org, &helper, valid, &out),
        Command::Show { file } => show(output, &file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            output.error(&message);
            ExitCode::from(code)
        }
    }
}

fn new(output: Output, name: &str, out: &Path) -> Result<(), Failure> {
    let org = OrgKeyPair::generate(name).map_err(|e| (2, e.to_string()))?;
    write_private(out, &org.to_text())?;
    let key = org.public_key().to_string();
    output.event(
        "org_key_created",
        json!({"organisation": org.name(), "public_key": key, "file": out}),
        || {
            format!(
                "{}: {key}\n(the key file {} holds the private key)",
                org.name(),
                out.display()
            )
        },
    );
    Ok(())
}

fn issue(
    output: Output,
    org: &Path,
    helper: &str,
    valid: Duration,
    out: &Path,
) -> Result<(), Failure> {
    let org =
        OrgKeyPair::from_text(&read(org)?).map_err(|e| (2, format!("{}: {e}", org.display())))?;
    let now = SystemTime::now();
    let until = now
        .checked_add(valid)
        .ok_or_else(|| (2, format!("--valid {valid:?} is too long")))?;
    let credential = org
        .issue(helper, now, until)
        .map_err(|e| (2, e.to_string()))?;
    write_private(out, &credential.to_text())?;
    let identity = credential.identity();
    output.event(
        "identity_issued",
        json!({
            "organisation": identity.organisation(),
            "helper": identity.helper(),
            "helper_key": identity.helper_key().to_string(),
            "not_before": time(identity.not_before()),
            "not_after": time(identity.not_after()),
            "file": out,
        }),
        || {
            format!(
                "{} of {}, valid until {}: {}",
                identity.helper(),
                identity.organisation(),
                time(identity.not_after()),
                out.display()
            )
        },
    );
    Ok(())
}

fn show(output: Output, file: &Path) -> Result<(), Failure> {
    let text = read(file)?;
    let unreadable = |e: IdentityError| {
        let code = if matches!(e, IdentityError::BadSignature(_)) {
            1
        } else {
            2
        };
        (code, format!("{}: {e}", file.display()))
    };
    if text.starts_with("ra-org-key ") {
        let org = OrgKeyPair::from_text(&text).map_err(unreadable)?;
        let key = org.public_key().to_string();
        output.event(
            "org_key",
            json!({"organisation": org.name(), "public_key": key}),
            || format!("organisation key of {}: {key}", org.name()),
        );
        return Ok(());
    }
    let with_key = text
        .lines()
        .last()
        .is_some_and(|line| line.starts_with("helper-private-key: "));
    let (identity, has_private_key) = if with_key {
        let credential = HelperCredential::from_text(&text).map_err(unreadable)?;
        (credential.identity().clone(), true)
    } else {
        (HelperIdentity::parse(&text).map_err(unreadable)?, false)
    };
    output.event(
        "identity",
        json!({
            "organisation": identity.organisation(),
            "organisation_key": identity.organisation_key().to_string(),
            "helper": identity.helper(),
            "helper_key": identity.helper_key().to_string(),
            "not_before": time(identity.not_before()),
            "not_after": time(identity.not_after()),
            "signature_valid": true,
            "has_private_key": has_private_key,
        }),
        || {
            format!(
                "{} of {} ({}), valid {} to {}; signed by that organisation{}",
                identity.helper(),
                identity.organisation(),
                identity.organisation_key(),
                time(identity.not_before()),
                time(identity.not_after()),
                if has_private_key {
                    "; with the helper's private key"
                } else {
                    ""
                }
            )
        },
    );
    Ok(())
}

fn time(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// A key or identity file (small: anything larger is not one).
fn read(path: &Path) -> Result<String, Failure> {
    let bytes =
        std::fs::read(path).map_err(|e| (2, format!("cannot read {}: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|_| (2, format!("{}: not a text file", path.display())))
}

/// Writes a file holding a private key: created new (never overwriting),
/// readable by its owner only.
fn write_private(path: &Path, text: &str) -> Result<(), Failure> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| (2, format!("cannot create {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| (2, format!("cannot write {}: {e}", path.display())))
}
